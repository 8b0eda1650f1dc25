/*
 * core/compliance_query: credentials in query strings (SPEC 5).
 */

#include "unit.h"
#include "compliance_query.h"


static int has(const char *q);


static const char  *jwt =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLWJ5dGVz";
static const char  *key =
    "ck_abcdefgh2345_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";


static int
has(const char *q)
{
    return compliance_query_has_credential((const u_char *) q, strlen(q));
}


static void
test_names(void **state)
{
    (void) state;

    assert_true(has("api_key=x"));
    assert_true(has("apikey=x"));
    assert_true(has("access_token=x"));
    assert_true(has("a=1&ACCESS_TOKEN=x"));
    assert_true(has("Api_Key=x&b=2"));
    assert_true(has("access%5Ftoken=x"));
    assert_true(has("api_key"));
    assert_true(has("api_key="));

    /* only the names SPEC 5 lists: the rest are redacted, not refused */
    assert_false(has("token=x"));
    assert_false(has("key=x"));
    assert_false(has("password=x"));
    assert_false(has("api_keys=x"));
    assert_false(has("my_apikey=x"));
    assert_false(has("x=api_key"));
    assert_false(has(""));
    assert_false(has("&&&"));
}


static void
test_values(void **state)
{
    char  buf[512];

    (void) state;

    snprintf(buf, sizeof(buf), "q=%s", jwt);
    assert_true(has(buf));

    snprintf(buf, sizeof(buf), "a=1&next=%s&b=2", key);
    assert_true(has(buf));

    /* an unsigned JWT has an empty third segment */
    assert_true(has("t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."));

    /* percent-encoding does not hide a token */
    snprintf(buf, sizeof(buf), "q=%%65%s", jwt + 1);
    assert_true(has(buf));

    assert_false(has("q=eyJhbGciOiJIUzI1NiJ9"));
    assert_false(has("q=eyJ.a"));
    assert_false(has("q=eyJhbGci..c2ln"));
    assert_false(has("q=a.b.c"));
    assert_false(has("q=ck_abc"));
    assert_false(has("page=2&sort=desc"));
}


/* issue 11 item 7: encodings that once slipped through */
static void
test_encodings(void **state)
{
    char  buf[512];

    (void) state;

    /* a scheme before the token, raw '+' or encoded space */
    snprintf(buf, sizeof(buf), "auth=Bearer+%s", jwt);
    assert_true(has(buf));
    snprintf(buf, sizeof(buf), "auth=bearer%%20%s", jwt);
    assert_true(has(buf));
    snprintf(buf, sizeof(buf), "auth=ApiKey+%s", key);
    assert_true(has(buf));

    /* blanks around it, encoded or not */
    snprintf(buf, sizeof(buf), "t=%s%%20", jwt);
    assert_true(has(buf));
    snprintf(buf, sizeof(buf), "t=%%0A%s%%09%%0D", key);
    assert_true(has(buf));

    /* ';' separates parameters too */
    snprintf(buf, sizeof(buf), "a=1;t=%s", jwt);
    assert_true(has(buf));
    assert_true(has("a=1;access_token=x"));

    /* a key typed in capitals still discloses its secret */
    assert_true(has("q=CK_ABCDEFGH2345_"
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));

    /* a JOSE header that starts with blanks: " {" is "IHsi" */
    assert_true(has("t=IHsiYWxnIjoiSFMyNTYifQ.eyJzdWIiOiJhIn0.c2ln"));

    /* doubly encoded */
    snprintf(buf, sizeof(buf), "q=%%2565%s", jwt + 1);
    assert_true(has(buf));

    /* name spellings of frameworks */
    assert_true(has("user[api_key]=x"));
    assert_true(has("access-token=x"));
    assert_true(has("auth.access_token=x"));

    /* not credentials */
    assert_false(has("auth=Bearer+"));
    assert_false(has("t=Bearer+abc"));
    snprintf(buf, sizeof(buf), "t=%sx.y", key);
    assert_false(has(buf));
    assert_false(has("file=app.min.js&v=1.2.3"));
    assert_false(has("a=IHs.b.c"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_encodings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
