/*
 * The RFC 8176 "amr" claim as compliance_require_mfa reads it, through
 * the token's own claims index (core/compliance_jwt.c):
 * compliance_jwt_claims_array_has() and compliance_jwt_claims_array_text().
 */

#include "unit.h"

#include "compliance_jwt.h"


typedef struct {
    compliance_jwt_claims_t   c;
    u_char                    text[1024];
    compliance_json_member_t  m[COMPLIANCE_JWT_MAX_MEMBERS];
} claims_t;


static void read_claims(claims_t *cl, const char *json);
static int has(claims_t *cl, const char *name);
static void test_array_has(void **state);
static void test_not_an_array(void **state);
static void test_escapes(void **state);
static void test_array_text(void **state);


/* the default methods of compliance_require_mfa */
static const compliance_jwt_str_t  mfa[] = {
    { 3, (const u_char *) "mfa" },
    { 3, (const u_char *) "hwk" },
    { 3, (const u_char *) "otp" },
    { 3, (const u_char *) "sms" },
    { 3, (const u_char *) "swk" },
    { 3, (const u_char *) "fpt" },
    { 4, (const u_char *) "face" },
    { 4, (const u_char *) "iris" },
    { 6, (const u_char *) "retina" },
    { 3, (const u_char *) "vbm" },
};


static void
read_claims(claims_t *cl, const char *json)
{
    size_t  len;

    len = strlen(json);
    assert_true(len < sizeof(cl->text));
    memcpy(cl->text, json, len);

    assert_int_equal(compliance_jwt_claims_read(&cl->c, cl->text, len,
                                                cl->m,
                                                COMPLIANCE_JWT_MAX_MEMBERS),
                     0);
}


static int
has(claims_t *cl, const char *name)
{
    return compliance_jwt_claims_array_has(&cl->c, (const u_char *) name,
                                           strlen(name), mfa,
                                           sizeof(mfa) / sizeof(mfa[0]));
}


static void
test_array_has(void **state)
{
    claims_t  cl;

    (void) state;

    read_claims(&cl, "{\"exp\":1,\"amr\":[\"pwd\",\"otp\"]}");
    assert_int_equal(has(&cl, "amr"), 2);

    /* the first element that is listed, in the token's order */
    read_claims(&cl, "{\"exp\":1,\"amr\":[\"face\",\"mfa\"]}");
    assert_int_equal(has(&cl, "amr"), 6);

    read_claims(&cl, "{\"exp\":1,\"amr\":[\"pwd\"]}");
    assert_int_equal(has(&cl, "amr"), -1);

    read_claims(&cl, "{\"exp\":1,\"amr\":[]}");
    assert_int_equal(has(&cl, "amr"), -1);

    /* other elements are skipped, not fatal */
    read_claims(&cl, "{\"exp\":1,\"amr\":[1,null,{\"a\":\"mfa\"},[\"mfa\"],"
                     "\"hwk\"]}");
    assert_int_equal(has(&cl, "amr"), 1);

    /* exact bytes */
    read_claims(&cl, "{\"exp\":1,\"amr\":[\"MFA\",\"otp \",\"mfa2\"]}");
    assert_int_equal(has(&cl, "amr"), -1);

    /* only the named claim */
    read_claims(&cl, "{\"exp\":1,\"acr\":[\"mfa\"],\"x\":{\"amr\":"
                     "[\"mfa\"]}}");
    assert_int_equal(has(&cl, "amr"), -1);
}


static void
test_not_an_array(void **state)
{
    claims_t  cl;

    (void) state;

    /* RFC 8176: an array of strings; a bare string is not accepted */
    read_claims(&cl, "{\"exp\":1,\"amr\":\"mfa\"}");
    assert_int_equal(has(&cl, "amr"), -1);

    read_claims(&cl, "{\"exp\":1,\"amr\":true}");
    assert_int_equal(has(&cl, "amr"), -1);

    read_claims(&cl, "{\"exp\":1,\"amr\":null}");
    assert_int_equal(has(&cl, "amr"), -1);

    read_claims(&cl, "{\"exp\":1}");
    assert_int_equal(has(&cl, "amr"), -1);

    assert_int_equal(compliance_jwt_claims_array_has(NULL,
                         (const u_char *) "amr", 3, mfa, 1), -1);
}


static void
test_escapes(void **state)
{
    claims_t  cl;

    (void) state;

    /* compared as unescaped, the way jansson reads the element */
    read_claims(&cl, "{\"exp\":1,\"amr\":[\"\\u006dfa\"]}");
    assert_int_equal(has(&cl, "amr"), 0);

    read_claims(&cl, "{\"exp\":1,\"amr\":[\"m\\/fa\"]}");
    assert_int_equal(has(&cl, "amr"), -1);
}


static void
test_array_text(void **state)
{
    u_char    buf[64];
    size_t    n;
    claims_t  cl;

    (void) state;

    read_claims(&cl, "{\"exp\":1,\"amr\":[\"pwd\",\"otp\",\"bad\\\"q\","
                     "\"x y\",3,\"\\u0066pt\"]}");

    n = compliance_jwt_claims_array_text(&cl.c, (const u_char *) "amr", 3,
                                         NULL, 0);
    assert_int_equal(n, sizeof("pwd otp fpt") - 1);

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(compliance_jwt_claims_array_text(&cl.c,
                         (const u_char *) "amr", 3, buf, n), n);
    assert_memory_equal(buf, "pwd otp fpt", n);
    assert_int_equal(buf[n], 'X');

    /* too small: nothing written */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(compliance_jwt_claims_array_text(&cl.c,
                         (const u_char *) "amr", 3, buf, n - 1), n);
    assert_int_equal(buf[0], 'X');

    /* no fallback to another claim, no string form */
    read_claims(&cl, "{\"exp\":1,\"scp\":[\"a\"],\"amr\":\"mfa\"}");
    assert_int_equal(compliance_jwt_claims_array_text(&cl.c,
                         (const u_char *) "amr", 3, NULL, 0), 0);

    read_claims(&cl, "{\"exp\":1,\"scp\":[\"a\"]}");
    assert_int_equal(compliance_jwt_claims_array_text(&cl.c,
                         (const u_char *) "amr", 3, NULL, 0), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_array_has),
        cmocka_unit_test(test_not_an_array),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_array_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
