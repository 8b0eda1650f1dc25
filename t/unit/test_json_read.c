/*
 * The token JSON reader (compliance_json_read(), compliance_jwt_claims_*):
 * every JSON edge it must accept or refuse as jansson did, the values it
 * extracts, and two differential runs against jansson (fuzz/
 * json_oracle.h): JSON texts, and signed tokens through
 * compliance_jwt_verify(), valid and mutated.
 */

#include "unit.h"

#include <time.h>

#include <openssl/hmac.h>

#include "compliance_b64url.h"
#include "compliance_json.h"
#include "compliance_jwt.h"

#include "../../fuzz/json_oracle.h"


#define SECRET      "0123456789abcdef0123456789abcdef"
#define SECRET_LEN  32


typedef struct {
    const char  *text;
    size_t       len;       /* 0: strlen(text) */
    int          ok;
} json_case_t;


static int read_text(const char *text, size_t len);
static void dump(const char *what, const u_char *p, size_t len);
static void check_oracle(const u_char *text, size_t len);
static void claims_of(const char *text, compliance_jwt_t *jwt);
static uint64_t rnd(uint64_t *s);
static long rounds(long n);
static uint64_t seed(uint64_t s);
static size_t mutate(uint64_t *s, u_char *buf, size_t len, size_t cap);
static char *mint(const u_char *h, size_t hlen, const u_char *p,
    size_t plen);
static int old_structure(const u_char *h, size_t hlen, const u_char *p,
    size_t plen, json_t **header, json_t **payload);

static void test_accepts(void **state);
static void test_refuses(void **state);
static void test_depth(void **state);
static void test_values(void **state);
static void test_escapes(void **state);
static void test_numbers(void **state);
static void test_arrays(void **state);
static void test_many_members(void **state);
static void test_differential_json(void **state);
static void test_differential_tokens(void **state);


static compliance_jwt_keyset_t  *ks;


static int
read_text(const char *text, size_t len)
{
    size_t                     n;
    u_char                     buf[COMPLIANCE_JSON_READ_MAX];
    compliance_json_member_t  *m;
    int                        rc;

    assert_true(len <= sizeof(buf));
    memcpy(buf, text, len);

    m = malloc(sizeof(compliance_json_member_t) * JSON_ORACLE_MEMBERS);
    assert_non_null(m);

    rc = compliance_json_read(buf, len, COMPLIANCE_JWT_MAX_DEPTH, m,
                              JSON_ORACLE_MEMBERS, &n);
    free(m);

    return rc;
}


/* a text that failed, NUL bytes and all */
static void
dump(const char *what, const u_char *p, size_t len)
{
    size_t  i;

    print_error("%s (%zu bytes):", what, len);

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            print_error("%c", p[i]);

        } else {
            print_error("\\x%02x", p[i]);
        }
    }

    print_error("\n");
}


static void
check_oracle(const u_char *text, size_t len)
{
    const char  *why;

    why = json_oracle_check(text, len);

    if (why) {
        dump(why, text, len);
        fail();
    }
}


static void
claims_of(const char *text, compliance_jwt_t *jwt)
{
    size_t  n;

    memset(jwt, 0, sizeof(compliance_jwt_t));
    n = strlen(text);
    memcpy(jwt->text, text, n);

    assert_int_equal(compliance_jwt_claims_read(&jwt->claims, jwt->text, n,
                                                jwt->members,
                                                COMPLIANCE_JWT_MAX_MEMBERS),
                     0);
}


static const json_case_t  accepts[] = {
    { "{}", 0, 1 },
    { " \t\r\n{ \t\r\n} \t\r\n", 0, 1 },
    { "{\"a\":1}", 0, 1 },
    { "{\"\":0}", 0, 1 },
    { "{\"a\":true,\"b\":false,\"c\":null}", 0, 1 },
    { "{\"a\" : 1 , \"b\" : [ 1 , 2 ] }", 0, 1 },
    { "{\"a\":\"\\u00e9\"}", 0, 1 },
    { "{\"a\":\"\xc3\xa9\"}", 0, 1 },
    { "{\"a\":\"\\ud83d\\ude00\"}", 0, 1 },
    { "{\"a\":\"\xf0\x9f\x98\x80\"}", 0, 1 },
    { "{\"a\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}", 0, 1 },
    { "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0, 1 },
    { "{\"a\":\"\\u007f\x7f\"}", 0, 1 },
    { "{\"a\":\"\\uDBFF\\uDFFF\"}", 0, 1 },
    { "{\"a\":-0}", 0, 1 },
    { "{\"a\":-0.0}", 0, 1 },
    { "{\"a\":0.5e-3}", 0, 1 },
    { "{\"a\":1E+3,\"b\":1e-3,\"c\":1E3}", 0, 1 },
    { "{\"a\":1e-999999}", 0, 1 },
    { "{\"a\":9223372036854775807}", 0, 1 },
    { "{\"a\":-9223372036854775808}", 0, 1 },
    { "{\"a\":1.7976931348623157e308}", 0, 1 },
    { "{\"a\":[1,[2,[3]],{\"b\":{}}]}", 0, 1 },
    { "{\"a\":{\"a\":{\"a\":1}}}", 0, 1 },
    { "{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}", 0, 1 },
    { "{\"a\":1,\"A\":2,\"a \":3}", 0, 1 },
    { "{\"x\":\"[[[{{{\\\"\"}", 0, 1 },
    { "{\"\\u0061\":1,\"b\":2}", 0, 1 },

    /* jansson loses one NUL right after a number or literal */
    { "{\"a\":1\0}", 8, 1 },
    { "{\"a\":1\0 }", 9, 1 },
    { "{\"a\":1.5e3\0,\"b\":true\0,\"c\":null\0}", 32, 1 },
    { "{\"a\":[1\0,false\0]}", 17, 1 }
};


static const json_case_t  refuses[] = {
    { "", 0, 0 },
    { " ", 0, 0 },
    { "[]", 0, 0 },
    { "[{}]", 0, 0 },
    { "\"a\"", 0, 0 },
    { "1", 0, 0 },
    { "null", 0, 0 },
    { "{", 0, 0 },
    { "}", 0, 0 },
    { "{\"a\"}", 0, 0 },
    { "{\"a\":}", 0, 0 },
    { "{\"a\":1,}", 0, 0 },
    { "{,}", 0, 0 },
    { "{\"a\":1 \"b\":2}", 0, 0 },
    { "{\"a\":1}x", 0, 0 },
    { "{\"a\":1}{}", 0, 0 },
    { "{\"a\":1}}", 0, 0 },
    { "{\"a\":[1,]}", 0, 0 },
    { "{\"a\":[1 2]}", 0, 0 },
    { "{\"a\":[}", 0, 0 },
    { "{\"a\":[1}", 0, 0 },
    { "{\"a\":{]}", 0, 0 },
    { "{'a':1}", 0, 0 },
    { "{a:1}", 0, 0 },
    { "{\"a\":01}", 0, 0 },
    { "{\"a\":-01}", 0, 0 },
    { "{\"a\":1.}", 0, 0 },
    { "{\"a\":.5}", 0, 0 },
    { "{\"a\":+1}", 0, 0 },
    { "{\"a\":1e}", 0, 0 },
    { "{\"a\":1e+}", 0, 0 },
    { "{\"a\":-}", 0, 0 },
    { "{\"a\":- 1}", 0, 0 },
    { "{\"a\":0x10}", 0, 0 },
    { "{\"a\":NaN}", 0, 0 },
    { "{\"a\":Infinity}", 0, 0 },
    { "{\"a\":1e999999}", 0, 0 },
    { "{\"a\":-1e400}", 0, 0 },
    { "{\"a\":1.8e308}", 0, 0 },
    { "{\"a\":9223372036854775808}", 0, 0 },
    { "{\"a\":-9223372036854775809}", 0, 0 },
    { "{\"a\":123456789012345678901234567890}", 0, 0 },
    { "{\"a\":tru}", 0, 0 },
    { "{\"a\":truex}", 0, 0 },
    { "{\"a\":True}", 0, 0 },
    { "{\"a\":nul}", 0, 0 },
    { "{\"a\":\"\\u0000\"}", 0, 0 },
    { "{\"\\u0000\":1}", 0, 0 },
    { "{\"a\":\"\\ud800\"}", 0, 0 },
    { "{\"a\":\"\\udc00\"}", 0, 0 },
    { "{\"a\":\"\\udc00\\ud800\"}", 0, 0 },
    { "{\"a\":\"\\ud800\\u0041\"}", 0, 0 },
    { "{\"a\":\"\\ud800\\ud800\"}", 0, 0 },
    { "{\"a\":\"\\ud800x\"}", 0, 0 },
    { "{\"a\":\"\\x\"}", 0, 0 },
    { "{\"a\":\"\\U0041\"}", 0, 0 },
    { "{\"a\":\"\\u12\"}", 0, 0 },
    { "{\"a\":\"\\u12g4\"}", 0, 0 },
    { "{\"a\":\"\\", 0, 0 },
    { "{\"a\":\"\x01\"}", 0, 0 },
    { "{\"a\":\"\t\"}", 0, 0 },
    { "{\"a\":\"\n\"}", 0, 0 },
    { "{\"a\":\"\x1f\"}", 0, 0 },
    { "{\"a\":\"\xc0\xaf\"}", 0, 0 },
    { "{\"a\":\"\xc1\xbf\"}", 0, 0 },
    { "{\"a\":\"\xe0\x80\xaf\"}", 0, 0 },
    { "{\"a\":\"\xf0\x80\x80\xaf\"}", 0, 0 },
    { "{\"a\":\"\xed\xa0\x80\"}", 0, 0 },
    { "{\"a\":\"\xed\xbf\xbf\"}", 0, 0 },
    { "{\"a\":\"\xf4\x90\x80\x80\"}", 0, 0 },
    { "{\"a\":\"\xf5\x80\x80\x80\"}", 0, 0 },
    { "{\"a\":\"\xff\"}", 0, 0 },
    { "{\"a\":\"\x80\"}", 0, 0 },
    { "{\"a\":\"\xc3\"}", 0, 0 },
    { "{\"a\":\"\xe2\x82\"}", 0, 0 },
    { "{\"a\":\"\xc3", 0, 0 },
    { "{\"\xc3\x28\":1}", 0, 0 },
    { "{\"a\":1}\xc2\xa0", 0, 0 },
    { "\xef\xbb\xbf{}", 0, 0 },
    { "{\"a\":1}\v", 0, 0 },
    { "\f{}", 0, 0 },
    { "{\"a\":1}\0", 8, 0 },
    { "{\0}", 3, 0 },
    { "{\"a\0\":1}", 8, 0 },
    { "{\"a\":1\0\0}", 9, 0 },
    { "{\"a\":1 \0}", 9, 0 },
    { "{\"a\":\"x\"\0}", 10, 0 },
    { "{\"a\":{}\0}", 9, 0 },
    { "{\"a\":\0 1}", 9, 0 },
    { "{\"a\"\0:1}", 8, 0 },
    { "{\"a\":-\0 1}", 10, 0 },
    { "{\"a\":1,\"a\":2}", 0, 0 },
    { "{\"a\":1,\"b\":2,\"a\":3}", 0, 0 },
    { "{\"a\":1,\"\\u0061\":2}", 0, 0 },
    { "{\"\\/\":1,\"/\":2}", 0, 0 },
    { "{\"\\u00e9\":1,\"\xc3\xa9\":2}", 0, 0 },
    { "{\"\":1,\"\":2}", 0, 0 },
    { "{\"b\":{\"x\":1,\"x\":2}}", 0, 0 },
    { "{\"a\":[{\"k\":1,\"k\":1}]}", 0, 0 },
    { "{\"a\":{\"b\":{\"c\":{\"c\":1,\"c\":2}}}}", 0, 0 },
    { "{\"a\":\"abc", 0, 0 },
    { "{\"a\":\"abc\"", 0, 0 },
    { "{\"a\":1", 0, 0 },
    { "{\"a\":1.5", 0, 0 },
    { "{\"a\":-", 0, 0 },
    { "{\"a\":t", 0, 0 },
    { "{/*c*/}", 0, 0 },
    { "{\"a\":1}//", 0, 0 },
    { "{\"a\":1}#", 0, 0 }
};


static void
run_cases(const json_case_t *cases, size_t n)
{
    size_t  i, len;

    for (i = 0; i < n; i++) {
        len = cases[i].len ? cases[i].len : strlen(cases[i].text);

        if ((read_text(cases[i].text, len) == 0) != cases[i].ok) {
            print_error("case %zu (%.*s): expected %s\n", i, (int) len,
                        cases[i].text, cases[i].ok ? "accept" : "refuse");
            fail();
        }

        check_oracle((const u_char *) cases[i].text, len);
    }
}


static void
test_accepts(void **state)
{
    (void) state;

    run_cases(accepts, sizeof(accepts) / sizeof(accepts[0]));
}


static void
test_refuses(void **state)
{
    (void) state;

    run_cases(refuses, sizeof(refuses) / sizeof(refuses[0]));
}


static void
test_depth(void **state)
{
    int     i, d;
    char   *p;
    size_t  n;

    (void) state;

    p = malloc(8192);
    assert_non_null(p);

    /* 16 levels in all pass, 17 do not: objects, and arrays in one */
    for (d = 15; d <= 18; d++) {
        n = 0;
        for (i = 0; i < d - 1; i++) {
            n += (size_t) sprintf(p + n, "{\"a\":");
        }
        n += (size_t) sprintf(p + n, "{}");
        for (i = 0; i < d - 1; i++) {
            p[n++] = '}';
        }

        assert_int_equal(read_text(p, n) == 0, d <= 16);
        check_oracle((u_char *) p, n);

        n = (size_t) sprintf(p, "{\"a\":");
        for (i = 0; i < d - 1; i++) {
            p[n++] = '[';
        }
        for (i = 0; i < d - 1; i++) {
            p[n++] = ']';
        }
        p[n++] = '}';

        assert_int_equal(read_text(p, n) == 0, d <= 16);
        check_oracle((u_char *) p, n);
    }

    /* 2000 deep, as a hostile token would send it */
    n = (size_t) sprintf(p, "{\"x\":");
    for (i = 0; i < 2000; i++) {
        p[n++] = '[';
    }
    for (i = 0; i < 2000; i++) {
        p[n++] = ']';
    }
    p[n++] = '}';

    assert_int_equal(read_text(p, n), -1);
    check_oracle((u_char *) p, n);

    /* depth only counts outside strings */
    n = (size_t) sprintf(p, "{\"x\":\"%s\"}", "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{");
    assert_int_equal(read_text(p, n), 0);
    check_oracle((u_char *) p, n);

    free(p);
}


static void
test_values(void **state)
{
    u_char            buf[COMPLIANCE_JWT_NUM_BUF];
    size_t            len;
    const u_char     *p;
    compliance_jwt_t  jwt;

    (void) state;

    claims_of("{ \"sub\" : \"alice\" , \"n\":-0, \"r\":1.5, \"t\":true,"
              "\"neg\":-9223372036854775808,\"tiny\":1e-999,"
              "\"big\":1e300,\"e\":\"\"}", &jwt);

    assert_int_equal(jwt.claims.nmembers, 8);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "sub", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "alice", 5);

    /* -0 is the integer 0, as jansson read it */
    assert_int_equal(compliance_jwt_claim_str(&jwt, "n", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_int_equal(len, 1);
    assert_memory_equal(p, "0", 1);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "r", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_memory_equal(p, "1.5", len);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "neg", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_memory_equal(p, "-9223372036854775808", len);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "tiny", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_memory_equal(p, "0", len);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "big", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_memory_equal(p, "1.0000000000000001e+300", len);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "e", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_int_equal(len, 0);

    /* names are exact bytes: no prefix, no case folding */
    assert_int_equal(compliance_jwt_claim_str(&jwt, "su", buf, sizeof(buf),
                                              &p, &len), -1);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "SUB", buf, sizeof(buf),
                                              &p, &len), -1);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "", buf, sizeof(buf),
                                              &p, &len), -1);

    /* NumericDates: reals floored, -0 and -0.0 are 0, tiny reals too */
    claims_of("{\"exp\":1.5,\"nbf\":-0,\"iat\":-0.0}", &jwt);
    assert_int_equal(jwt.claims.flags & COMPLIANCE_JWT_TIMES_BAD, 0);
    assert_int_equal(jwt.claims.exp, 1);
    assert_int_equal(jwt.claims.nbf, 0);
    assert_int_equal(jwt.claims.iat, 0);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 1),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 2),
                     COMPLIANCE_JWT_EXPIRED);

    claims_of("{\"exp\":1e-999}", &jwt);
    assert_int_equal(jwt.claims.exp, 0);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 0),
                     COMPLIANCE_JWT_OK);

    claims_of("{\"exp\":-0.5}", &jwt);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 0),
                     COMPLIANCE_JWT_MALFORMED);

    claims_of("{\"exp\":2e10,\"iat\":[]}", &jwt);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 0),
                     COMPLIANCE_JWT_MALFORMED);

    claims_of("{\"exp\":2e10,\"nbf\":null}", &jwt);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 0),
                     COMPLIANCE_JWT_MALFORMED);

    /* a copy reads the same and does not point into the original */
    {
        void                     *mem;
        compliance_jwt_claims_t   c;

        claims_of("{\"exp\":2000000000,\"sub\":\"bob\"}", &jwt);
        mem = malloc(compliance_jwt_claims_size(&jwt.claims));
        assert_non_null(mem);
        compliance_jwt_claims_copy(&c, &jwt.claims, mem);
        memset(jwt.text, 'x', sizeof(jwt.text));
        memset(jwt.members, 0, sizeof(jwt.members));

        assert_int_equal(compliance_jwt_claims_str(&c, (u_char *) "sub", 3,
                                                   buf, sizeof(buf), &p,
                                                   &len), 0);
        assert_memory_equal(p, "bob", 3);
        assert_int_equal(compliance_jwt_claims_check(&c, NULL, 2000000000),
                         COMPLIANCE_JWT_OK);
        free(mem);
    }
}


static void
test_escapes(void **state)
{
    u_char                   buf[COMPLIANCE_JWT_NUM_BUF], out[64];
    size_t                   len;
    const u_char            *p;
    compliance_jwt_t         jwt;
    compliance_jwt_str_t     iss, aud;
    compliance_jwt_policy_t  pol;

    (void) state;

    /* names and values unescaped: "a\/b" is "a/b" */
    claims_of("{\"exp\":10,\"\\u0069ss\":\"a\\/b\",\"aud\":[\"x\",\"c\\/d\"],"
              "\"s\\u0075b\":\"\\u00e9\\ud83d\\ude00\\n\","
              "\"scope\":\"r\\u0065ad w\\/x\"}", &jwt);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "sub", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_int_equal(len, 2 + 4 + 1);
    assert_memory_equal(p, "\xc3\xa9\xf0\x9f\x98\x80\n", len);

    memset(&pol, 0, sizeof(pol));
    iss.data = (const u_char *) "a/b";
    iss.len = 3;
    aud.data = (const u_char *) "c/d";
    aud.len = 3;
    pol.issuers = &iss;
    pol.nissuers = 1;
    pol.audiences = &aud;
    pol.naudiences = 1;

    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_OK);

    iss.data = (const u_char *) "a\\/b";
    iss.len = 4;
    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);

    iss.data = (const u_char *) "a/b";
    iss.len = 3;
    aud.data = (const u_char *) "c\\/d";
    aud.len = 4;
    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);

    assert_int_equal(compliance_jwt_scopes(&jwt, NULL, out, sizeof(out)), 8);
    assert_memory_equal(out, "read w/x", 8);

    /* that list is the claim's own (unescaped) text: no copy needed */
    p = compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0, &len);
    assert_non_null(p);
    assert_int_equal(len, 8);
    assert_memory_equal(p, "read w/x", 8);

    /* not when a piece is dropped or spaces collapse */
    claims_of("{\"scope\":\"read  write\"}", &jwt);
    assert_null(compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0,
                                                  &len));
    claims_of("{\"scope\":\"read w\\\"\"}", &jwt);
    assert_null(compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0,
                                                  &len));
    claims_of("{\"scope\":\" read\"}", &jwt);
    assert_null(compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0,
                                                  &len));
    claims_of("{\"scope\":\"\"}", &jwt);
    assert_null(compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0,
                                                  &len));
    claims_of("{\"scp\":[\"a\"]}", &jwt);
    assert_null(compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0,
                                                  &len));
    claims_of("{\"scp\":\"a b\"}", &jwt);
    p = compliance_jwt_claims_scopes_text(&jwt.claims, NULL, 0, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);

    /* an escaped scope array element is unescaped before it is judged */
    claims_of("{\"scp\":[\"a\\/b\",\"\\u0041\",\"x\\ty\",\"\\\"q\\\"\"]}",
              &jwt);
    assert_int_equal(compliance_jwt_scopes(&jwt, NULL, out, sizeof(out)), 5);
    assert_memory_equal(out, "a/b A", 5);

    /* a prefix of an escaped string is not the string */
    claims_of("{\"exp\":10,\"aud\":[\"ab\\u0063\"]}", &jwt);
    aud.data = (const u_char *) "ab";
    aud.len = 2;
    pol.nissuers = 0;
    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    aud.data = (const u_char *) "abcd";
    aud.len = 4;
    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    aud.data = (const u_char *) "abc";
    aud.len = 3;
    assert_int_equal(compliance_jwt_check_claims(&jwt, &pol, 0),
                     COMPLIANCE_JWT_OK);
}


static void
test_numbers(void **state)
{
    size_t       i;
    char         buf[128];
    const char  *nums[] = {
        "0", "-0", "1", "-1", "0.0", "-0.0", "1.5", "1e3", "1E-3", "1e+3",
        "123456789012345678", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "1e308", "1e309", "-1e309", "1e-400",
        "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308",
        "1.7976931348623159e308", "0.1", "253402300799", "253402300799.9",
        "253402300800", "1e19", "5e-1", "00", "01", "-", "1.", ".1", "1e",
        "1e-", "+1", "1..2", "1ee2", "0x1", "1_0"
    };

    (void) state;

    for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        snprintf(buf, sizeof(buf), "{\"exp\":%s,\"n\":[%s]}", nums[i],
                 nums[i]);
        check_oracle((u_char *) buf, strlen(buf));

        snprintf(buf, sizeof(buf), "{\"exp\":%s }", nums[i]);
        check_oracle((u_char *) buf, strlen(buf));
    }
}


static void
test_arrays(void **state)
{
    int                              type;
    size_t                           i, n;
    const u_char                    *p;
    compliance_jwt_t                 jwt;
    compliance_json_array_t          a;
    const compliance_json_member_t  *m;

    static const int  want[] = {
        COMPLIANCE_JSON_STRING, COMPLIANCE_JSON_INTEGER,
        COMPLIANCE_JSON_REAL, COMPLIANCE_JSON_OBJECT, COMPLIANCE_JSON_ARRAY,
        COMPLIANCE_JSON_TRUE, COMPLIANCE_JSON_FALSE, COMPLIANCE_JSON_NULL,
        COMPLIANCE_JSON_STRING
    };

    (void) state;

    claims_of("{\"a\":[ \"x\\\"]\" , -12 ,3.5e1, {\"k\":[\"]\"]} ,[[],{}],"
              "true,false,null,\"\"]}", &jwt);

    m = compliance_json_find(jwt.claims.text, jwt.claims.members,
                             jwt.claims.nmembers, (const u_char *) "a", 1);
    assert_non_null(m);
    assert_int_equal(compliance_json_type(jwt.claims.text, m),
                     COMPLIANCE_JSON_ARRAY);

    compliance_json_array(&a, jwt.claims.text, m);

    for (i = 0; (type = compliance_json_next(&a, &p, &n)) != 0; i++) {
        assert_true(i < sizeof(want) / sizeof(want[0]));
        assert_int_equal(type, want[i]);

        if (i == 0) {
            assert_int_equal(n, 4);
            assert_memory_equal(p, "x\\\"]", 4);
        }

        if (i == 1) {
            assert_int_equal(compliance_json_integer(p, n), -12);
        }
    }

    claims_of("{\"a\":[]}", &jwt);
    compliance_json_array(&a, jwt.claims.text, jwt.claims.members);
    assert_int_equal(compliance_json_next(&a, &p, &n), 0);

    claims_of("{\"a\":[ ]}", &jwt);
    compliance_json_array(&a, jwt.claims.text, jwt.claims.members);
    assert_int_equal(compliance_json_next(&a, &p, &n), 0);
}


/* the largest payload a token carries, nearly as many members as it can */
static void
test_many_members(void **state)
{
    char              *p;
    size_t             n, k, na;
    compliance_jwt_t  *jwt;

    static const char  names[] = "abcdefghijklmnopqrstuvwxyz0123456789"
                                 "!#$%&()*+-./;<=>?@^_`|~";

    (void) state;

    p = malloc(COMPLIANCE_JWT_MAX_PART + 16);
    jwt = malloc(sizeof(compliance_jwt_t));
    assert_non_null(p);
    assert_non_null(jwt);

    na = sizeof(names) - 1;
    n = (size_t) sprintf(p, "{\"\":0");

    for (k = 0; n + 7 + 1 <= COMPLIANCE_JWT_MAX_PART; k++) {
        n += (size_t) sprintf(p + n, ",\"%c%c\":0", 'A' + (int) (k / na),
                              names[k % na]);
    }

    p[n++] = '}';

    memcpy(jwt->text, p, n);
    assert_int_equal(compliance_jwt_claims_read(&jwt->claims, jwt->text, n,
                                                jwt->members,
                                                COMPLIANCE_JWT_MAX_MEMBERS),
                     0);
    assert_int_equal(jwt->claims.nmembers, k + 1);
    check_oracle((u_char *) p, n);

    /* the first name again, far from the first: a duplicate */
    n--;
    n += (size_t) sprintf(p + n, ",\"Aa\":1}");
    assert_int_equal(read_text(p, n), -1);
    check_oracle((u_char *) p, n);

    free(jwt);
    free(p);
}


/* COMPLIANCE_DIFF_SCALE=k runs k times the rounds, from another seed */
static long
rounds(long n)
{
    const char  *e;

    e = getenv("COMPLIANCE_DIFF_SCALE");

    return (e && atol(e) > 0) ? n * atol(e) : n;
}


static uint64_t
seed(uint64_t s)
{
    const char  *e;

    e = getenv("COMPLIANCE_DIFF_SCALE");

    return (e && atol(e) > 0) ? s ^ ((uint64_t) time(NULL) << 1) : s;
}


static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;

    return *s;
}


/* Bytes a mutation inserts: what JSON and its escapes are made of. */
static const char  mut_alphabet[] =
    "{}[]\",:\\/ \t\r\nuUbfnrt0123456789-+.eEaAdDxX\x7f";

static const char  *mut_pieces[] = {
    "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u00e9", "\\/",
    "\xc3\xa9", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3",
    "\xe2\x82", "\x80", "\xff", "1e999999", "-0", "1.5", "1e-999",
    "9223372036854775808", "-9223372036854775808", "true", "null",
    "\"exp\":", "\"aud\":", "\"iss\":", "\"scope\":", "\"scp\":", "\"sub\":",
    "[\"a\",\"b\"]", "{\"x\":1}", "\"\\u0061\":1,", "\"a\":1,", "\0",
    "\"kid\":\"hs\",", "\"alg\":\"HS256\",", "\"crit\":[],"
};


static size_t
mutate(uint64_t *s, u_char *buf, size_t len, size_t cap)
{
    size_t       pos, k, n;
    const char  *piece;

    n = 1 + rnd(s) % 3;

    while (n--) {
        pos = len ? rnd(s) % (len + 1) : 0;

        switch (rnd(s) % 6) {

        case 0:     /* flip a byte */
            if (pos < len) {
                buf[pos] ^= (u_char) (1u << (rnd(s) % 8));
            }
            break;

        case 1:     /* delete a run */
            k = 1 + rnd(s) % 4;
            if (pos + k <= len) {
                memmove(buf + pos, buf + pos + k, len - pos - k);
                len -= k;
            }
            break;

        case 2:     /* insert a byte */
            if (len < cap) {
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = (u_char) mut_alphabet[rnd(s)
                                                 % (sizeof(mut_alphabet) - 1)];
                len++;
            }
            break;

        case 3:     /* insert a piece */
            piece = mut_pieces[rnd(s) % (sizeof(mut_pieces)
                                         / sizeof(mut_pieces[0]))];
            k = piece[0] ? strlen(piece) : 1;
            if (len + k <= cap) {
                memmove(buf + pos + k, buf + pos, len - pos);
                memcpy(buf + pos, piece, k);
                len += k;
            }
            break;

        case 4:     /* truncate */
            len = pos;
            break;

        default:    /* replace a byte */
            if (pos < len) {
                buf[pos] = (u_char) mut_alphabet[rnd(s)
                                                 % (sizeof(mut_alphabet) - 1)];
            }
            break;
        }
    }

    return len;
}


static const char  *base_payloads[] = {
    "{\"sub\":\"user-1\",\"iss\":\"https://idp.example/\",\"aud\":[\"api\","
    "\"admin\"],\"exp\":4102444800,\"iat\":1700000000,\"org_id\":\"acme\","
    "\"scope\":\"read write\"}",
    "{\"sub\":\"a\\/b\",\"iss\":\"https:\\/\\/idp\",\"aud\":\"api\","
    "\"exp\":4102444800.5,\"nbf\":0,\"scp\":[\"r\",\"w\\/x\",7]}",
    "{\"exp\":1,\"nested\":{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\"},"
    "\"n\":-0,\"r\":1e-3,\"t\":true,\"f\":false}",
    "{\"\\u0065xp\":4102444800,\"sub\":12345,\"org_id\":1.5,\"aud\":[]}",
    "{}",
    " { \"exp\" : 4102444800 , \"sub\" : \"\xc3\xa9\xf0\x9f\x98\x80\" } "
};


/* JSON texts, valid and mutated */
static void
test_differential_json(void **state)
{
    long        round;
    size_t      i, len, nb;
    u_char      buf[2048];
    uint64_t    s;
    const char  *why;
    size_t      accepted, refused;

    (void) state;

    s = seed(0x9e3779b97f4a7c15ULL);
    nb = sizeof(base_payloads) / sizeof(base_payloads[0]);
    accepted = 0;
    refused = 0;

    for (round = 0; round < rounds(150000); round++) {
        i = (size_t) round % nb;
        len = strlen(base_payloads[i]);
        memcpy(buf, base_payloads[i], len);

        /* a few rounds unmutated, the rest mutated once or compounded */
        if (round >= (long) nb) {
            len = mutate(&s, buf, len, sizeof(buf));

            if (rnd(&s) % 4 == 0) {
                len = mutate(&s, buf, len, sizeof(buf));
            }
        }

        why = json_oracle_check(buf, len);

        if (why) {
            print_error("round %ld\n", round);
            dump(why, buf, len);
            fail();
        }

        if (read_text((const char *) buf, len) == 0) {
            accepted++;

        } else {
            refused++;
        }
    }

    printf("# differential JSON: %zu accepted, %zu refused, all as "
           "jansson\n", accepted, refused);

    /* both kinds were exercised in earnest */
    assert_true(accepted > 10000);
    assert_true(refused > 10000);
}


static char *
mint(const u_char *h, size_t hlen, const u_char *p, size_t plen)
{
    char      *t;
    u_char     mac[64];
    size_t     n;
    unsigned   mlen;

    t = malloc(compliance_b64url_encoded_len(hlen)
               + compliance_b64url_encoded_len(plen) + 100);
    assert_non_null(t);

    n = compliance_b64url_encode((u_char *) t, h, hlen);
    t[n++] = '.';
    n += compliance_b64url_encode((u_char *) t + n, p, plen);

    assert_non_null(HMAC(EVP_sha256(), SECRET, SECRET_LEN, (u_char *) t, n,
                         mac, &mlen));

    t[n++] = '.';
    n += compliance_b64url_encode((u_char *) t + n, mac, mlen);
    t[n] = '\0';

    return t;
}


/*
 * What the jansson-based verifier checked before the algorithm: both
 * parts JSON objects, "alg" a string, "kid" a string when present, no
 * "crit".  1 when they pass (header and payload then returned).
 */
static int
old_structure(const u_char *h, size_t hlen, const u_char *p, size_t plen,
    json_t **header, json_t **payload)
{
    json_t  *v;

    *header = NULL;
    *payload = NULL;

    if (!compliance_jwt_json_depth_ok(h, hlen, COMPLIANCE_JWT_MAX_DEPTH)
        || !compliance_jwt_json_depth_ok(p, plen, COMPLIANCE_JWT_MAX_DEPTH))
    {
        return 0;
    }

    *header = json_loadb((const char *) h, hlen, JSON_REJECT_DUPLICATES,
                         NULL);
    *payload = json_loadb((const char *) p, plen, JSON_REJECT_DUPLICATES,
                          NULL);

    if (!json_is_object(*header) || !json_is_object(*payload)
        || !json_is_string(json_object_get(*header, "alg")))
    {
        return 0;
    }

    v = json_object_get(*header, "kid");

    if ((v && !json_is_string(v)) || json_object_get(*header, "crit")) {
        return 0;
    }

    return 1;
}


/* signed tokens, valid and with mutated header or payload JSON */
static void
test_differential_tokens(void **state)
{
    int                rc, rc2, good;
    char              *t, *canon_h, *canon_p, *t2;
    size_t             i, hlen, plen, nh, np, seen[4];
    u_char             h[1024], p[2048];
    json_t            *header, *payload, *hc;
    uint64_t           s;
    const char        *why;
    compliance_jwt_t  *jwt;

    static const char  *base_headers[] = {
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"hs\"}",
        "{\"alg\":\"HS256\"}",
        "{\"kid\":\"h\\u0073\",\"alg\":\"HS\\u0032\\u00356\"}",
        "{\"alg\":\"HS384\",\"kid\":\"hs\"}",
        "{\"alg\":\"RS256\"}",
        "{ \"alg\" : \"HS256\" , \"x\" : [1,{\"y\":null}] }"
    };

    (void) state;

    jwt = malloc(sizeof(compliance_jwt_t));
    assert_non_null(jwt);

    s = seed(0xd1b54a32d192ed03ULL);
    nh = sizeof(base_headers) / sizeof(base_headers[0]);
    np = sizeof(base_payloads) / sizeof(base_payloads[0]);
    memset(seen, 0, sizeof(seen));

    for (i = 0; i < (size_t) rounds(40000); i++) {
        hlen = strlen(base_headers[i % nh]);
        memcpy(h, base_headers[i % nh], hlen);
        plen = strlen(base_payloads[(i / nh) % np]);
        memcpy(p, base_payloads[(i / nh) % np], plen);

        switch (rnd(&s) % 4) {
        case 0:
            break;
        case 1:
            hlen = mutate(&s, h, hlen, sizeof(h));
            break;
        default:
            plen = mutate(&s, p, plen, sizeof(p));
            break;
        }

        t = mint(h, hlen, p, plen);
        rc = compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                   (u_char *) t, strlen(t), jwt);

        good = old_structure(h, hlen, p, plen, &header, &payload);

        if (!good) {
            if (rc != COMPLIANCE_JWT_MALFORMED) {
                print_error("token %zu: %d where jansson refuses\n", i, rc);
                dump("header", h, hlen);
                dump("payload", p, plen);
                fail();
            }

            seen[0]++;

        } else {
            /*
             * The rest depends only on alg, kid and the signature: the
             * same token rewritten by jansson must get the same answer.
             */
            hc = json_object();
            json_object_set(hc, "alg", json_object_get(header, "alg"));

            if (json_object_get(header, "kid")) {
                json_object_set(hc, "kid", json_object_get(header, "kid"));
            }

            canon_h = json_dumps(hc, JSON_COMPACT);
            canon_p = json_dumps(payload, JSON_COMPACT);
            assert_non_null(canon_h);
            assert_non_null(canon_p);

            t2 = mint((u_char *) canon_h, strlen(canon_h), (u_char *) canon_p,
                      strlen(canon_p));
            rc2 = compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                        (u_char *) t2, strlen(t2), NULL);

            if (rc == COMPLIANCE_JWT_MALFORMED || rc != rc2) {
                print_error("token %zu: %d, rewritten by jansson %d\n", i, rc,
                            rc2);
                dump("header", h, hlen);
                dump("payload", p, plen);
                fail();
            }

            if (rc == COMPLIANCE_JWT_OK) {
                why = json_oracle_claims(&jwt->claims, payload);

                if (why) {
                    print_error("token %zu\n", i);
                    dump(why, p, plen);
                    fail();
                }

                seen[1]++;

            } else {
                seen[2]++;
            }

            json_decref(hc);
            free(canon_h);
            free(canon_p);
            free(t2);
        }

        json_decref(header);
        json_decref(payload);
        compliance_jwt_release(jwt);
        free(t);
    }

    printf("# differential tokens: %zu malformed, %zu verified, %zu other "
           "refusals, all as with jansson\n", seen[0], seen[1], seen[2]);

    assert_true(seen[0] > 1000);
    assert_true(seen[1] > 1000);
    assert_true(seen[2] > 1000);

    free(jwt);
}


static int
group_setup(void **state)
{
    char    jwk[256], err[256];
    u_char  b64[64];
    size_t  n;

    (void) state;

    n = compliance_b64url_encode(b64, (const u_char *) SECRET, SECRET_LEN);
    snprintf(jwk, sizeof(jwk),
             "{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"%.*s\"}", (int) n,
             b64);

    ks = compliance_jwt_keyset_create();

    if (ks == NULL
        || compliance_jwt_keyset_load_mem(ks, (u_char *) jwk, strlen(jwk),
                                          "jwk", err, sizeof(err)) != 0)
    {
        return -1;
    }

    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    compliance_jwt_keyset_free(ks);

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_many_members),
        cmocka_unit_test(test_differential_json),
        cmocka_unit_test(test_differential_tokens),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
