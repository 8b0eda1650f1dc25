/*
 * compliance_jwt_keyset_load_remote(): what a key set fetched from an
 * identity provider may hold (SPEC 14), on top of the key file rules.
 */

#include "unit.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


static int setup(void **state);
static int teardown(void **state);
static char *ec_jwk(const char *kid, const char *extra);
static int load(compliance_jwt_keyset_t *ks, const char *text,
    size_t *skipped, char *err, size_t errlen);
static void test_enc_skipped(void **state);
static void test_refusals(void **state);
static void test_all_or_nothing(void **state);
static void test_key_cap(void **state);


static char  x64[100], y64[100];


static int
setup(void **state)
{
    u_char    pub[65];
    size_t    n;
    EVP_PKEY *pk;

    (void) state;

    pk = EVP_EC_gen("P-256");

    if (pk == NULL
        || EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                           sizeof(pub), &n) != 1
        || n != 65)
    {
        EVP_PKEY_free(pk);
        return -1;
    }

    x64[compliance_b64url_encode((u_char *) x64, pub + 1, 32)] = '\0';
    y64[compliance_b64url_encode((u_char *) y64, pub + 33, 32)] = '\0';

    EVP_PKEY_free(pk);

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    return 0;
}


/* a P-256 JWK; extra: more members, each with its leading comma */
static char *
ec_jwk(const char *kid, const char *extra)
{
    char  *out;

    out = malloc(512);
    assert_non_null(out);

    snprintf(out, 512, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
             "\"y\":\"%s\",\"kid\":\"%s\"%s}", x64, y64, kid,
             extra ? extra : "");

    return out;
}


static int
load(compliance_jwt_keyset_t *ks, const char *text, size_t *skipped,
    char *err, size_t errlen)
{
    err[0] = '\0';

    return compliance_jwt_keyset_load_remote(ks, (const u_char *) text,
                                             strlen(text), "/_jwks",
                                             skipped, err, errlen);
}


static void
test_enc_skipped(void **state)
{
    char                     *a, *b, *c, text[2048], err[256];
    size_t                    skipped;
    compliance_jwt_keyset_t  *ks;

    (void) state;

    a = ec_jwk("sig1", ",\"use\":\"sig\",\"alg\":\"ES256\"");
    b = ec_jwk("enc1", ",\"use\":\"enc\",\"alg\":\"ECDH-ES\"");
    c = ec_jwk("plain", NULL);

    snprintf(text, sizeof(text), "{\"keys\":[%s,%s,%s]}", a, b, c);

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), 0);
    assert_int_equal(skipped, 1);
    assert_int_equal(compliance_jwt_keyset_count(ks), 2);
    assert_int_equal(compliance_jwt_keyset_algs(ks),
                     COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES256));

    compliance_jwt_keyset_free(ks);
    free(a);
    free(b);
    free(c);
}


static void
test_refusals(void **state)
{
    char                     *a, text[2048], err[256];
    size_t                    skipped;
    compliance_jwt_keyset_t  *ks;

    (void) state;

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    /* a single JWK is a key file's form, not a published set's */
    a = ec_jwk("one", NULL);
    assert_int_equal(load(ks, a, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a JWKS object"));

    assert_int_equal(load(ks, "{\"keys\":[", &skipped, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "invalid JSON"));

    assert_int_equal(load(ks, "[]", &skipped, err, sizeof(err)), -1);
    assert_int_equal(load(ks, "{\"keys\":{}}", &skipped, err, sizeof(err)),
                     -1);

    /* nothing to verify with: only encryption keys */
    free(a);
    a = ec_jwk("enc", ",\"use\":\"enc\"");
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", a);
    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no signing keys"));

    /* a published secret */
    snprintf(text, sizeof(text), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"%s%s\","
             "\"kid\":\"h\"}]}", x64, y64);
    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "symmetric (oct) key"));

    /* the key rules of a key file */
    free(a);
    a = ec_jwk("wrong", ",\"alg\":\"RS256\"");
    snprintf(text, sizeof(text), "{\"keys\":[%s]}", a);
    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not fit the key type"));

    assert_int_equal(compliance_jwt_keyset_count(ks), 0);

    compliance_jwt_keyset_free(ks);
    free(a);
}


static void
test_all_or_nothing(void **state)
{
    char                     *a, *b, text[2048], err[256];
    size_t                    skipped;
    compliance_jwt_keyset_t  *ks;

    (void) state;

    a = ec_jwk("good", NULL);
    b = ec_jwk("bad", ",\"alg\":\"HS256\"");

    snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", a, b);

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key #1"));
    assert_int_equal(compliance_jwt_keyset_count(ks), 0);
    assert_int_equal(compliance_jwt_keyset_algs(ks), 0);

    compliance_jwt_keyset_free(ks);
    free(a);
    free(b);
}


static void
test_key_cap(void **state)
{
    char                     *a, *text, *p, kid[16], err[256];
    size_t                    i, skipped, size;
    compliance_jwt_keyset_t  *ks;

    (void) state;

    size = (COMPLIANCE_JWKS_MAX_KEYS + 1) * 512 + 64;
    text = malloc(size);
    assert_non_null(text);

    p = text + sprintf(text, "{\"keys\":[");

    for (i = 0; i < COMPLIANCE_JWKS_MAX_KEYS + 1; i++) {
        snprintf(kid, sizeof(kid), "k%zu", i);
        a = ec_jwk(kid, NULL);
        p += sprintf(p, "%s%s", i ? "," : "", a);
        free(a);
    }

    strcpy(p, "]}");

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at most 256 accepted"));

    /* one fewer is a set */
    p = strrchr(text, '{');
    p[-1] = ']';
    p[0] = '}';
    p[1] = '\0';

    assert_int_equal(load(ks, text, &skipped, err, sizeof(err)), 0);
    assert_int_equal(compliance_jwt_keyset_count(ks),
                     COMPLIANCE_JWKS_MAX_KEYS);

    compliance_jwt_keyset_free(ks);
    free(text);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_enc_skipped),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_key_cap),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
