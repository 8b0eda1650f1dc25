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
    assert_false(has("q=ck_ABCDEFGH2345_"
                     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_false(has("page=2&sort=desc"));
}


static void
test_shapes(void **state)
{
    (void) state;

    assert_true(compliance_query_is_jwt((const u_char *) jwt, strlen(jwt)));
    assert_false(compliance_query_is_jwt((const u_char *) jwt, 3));
    assert_true(compliance_query_is_api_key((const u_char *) key,
                                            strlen(key)));
    assert_false(compliance_query_is_api_key((const u_char *) key,
                                             strlen(key) - 1));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_shapes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
