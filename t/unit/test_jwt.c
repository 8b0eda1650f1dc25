/*
 * JWT verifier: key loading and refusals, every verification error path,
 * claims, extraction helpers.  Tokens are minted here with keys made
 * in-process.  COMPLIANCE_UNIT_BENCH=1 adds a verification benchmark.
 */

#include "unit.h"

#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


#define TOKEN_MAX  32768


typedef struct {
    EVP_PKEY                 *rsa;
    EVP_PKEY                 *ec256;
    EVP_PKEY                 *ec384;
    u_char                    hs[64];
    char                     *rsa_pem;
    char                     *ec_pem;
    char                     *jwks;
    compliance_jwt_keyset_t  *ks;
} fixture_t;


static int group_setup(void **state);
static int group_teardown(void **state);
static void b64(const u_char *p, size_t n, char *out);
static void b64_str(const char *s, char *out);
static void bn_b64(EVP_PKEY *pk, const char *param, size_t pad, char *out);
static char *jwk_rsa(EVP_PKEY *pk, const char *kid, const char *alg);
static char *jwk_ec(EVP_PKEY *pk, const char *crv, size_t coord,
    const char *kid, const char *alg);
static char *jwk_oct(const u_char *k, size_t n, const char *kid,
    const char *alg);
static char *pem_pub(EVP_PKEY *pk, const char *structure);
static void sign(const fixture_t *fx, int alg, const u_char *secret,
    size_t slen, const char *input, u_char *sig, size_t *siglen);
static char *mint_sig(const char *header, const char *payload,
    const u_char *sig, size_t slen);
static char *mint(const fixture_t *fx, const char *alg_name,
    const char *header, const char *payload);
static char *mint_secret(const char *alg_name, const char *header,
    const char *payload, const u_char *secret, size_t slen);
static int verify(const fixture_t *fx, unsigned mask, const char *token);
static int load_str(compliance_jwt_keyset_t *ks, const char *s, char *err,
    size_t errlen);
static int claims(const char *payload, const compliance_jwt_policy_t *pol,
    long long now);
static void parse_payload(const char *payload, compliance_jwt_t *jwt);
static char *write_temp(const char *data, size_t len);
static double now_us(void);
static void bench(void);

static void test_names(void **state);
static void test_valid_every_alg(void **state);
static void test_alg_none(void **state);
static void test_alg_not_allowed(void **state);
static void test_key_confusion(void **state);
static void test_kid(void **state);
static void test_tampered(void **state);
static void test_signature_sizes(void **state);
static void test_ecdsa_raw(void **state);
static void test_structure(void **state);
static void test_depth_and_size(void **state);
static void test_release(void **state);
static void test_claims_times(void **state);
static void test_claims_iss_aud(void **state);
static void test_claim_str(void **state);
static void test_scopes(void **state);
static void test_load_refusals(void **state);
static void test_load_files(void **state);
static void test_keyset_algs(void **state);
static void test_sig_verify_primitive(void **state);


static const char  *payload_ok =
    "{\"sub\":\"alice\",\"iss\":\"https://idp\",\"exp\":4102444800}";


static void
b64(const u_char *p, size_t n, char *out)
{
    out[compliance_b64url_encode((u_char *) out, p, n)] = '\0';
}


static void
b64_str(const char *s, char *out)
{
    b64((const u_char *) s, strlen(s), out);
}


static void
bn_b64(EVP_PKEY *pk, const char *param, size_t pad, char *out)
{
    int      n;
    u_char   buf[1024];
    BIGNUM  *bn;

    bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);

    n = pad ? BN_bn2binpad(bn, buf, (int) pad) : BN_bn2bin(bn, buf);
    assert_true(n > 0);

    b64(buf, (size_t) n, out);
    BN_free(bn);
}


static char *
jwk_rsa(EVP_PKEY *pk, const char *kid, const char *alg)
{
    char  n[1500], e[16], *out;

    bn_b64(pk, OSSL_PKEY_PARAM_RSA_N, 0, n);
    bn_b64(pk, OSSL_PKEY_PARAM_RSA_E, 0, e);

    out = malloc(2048);
    assert_non_null(out);

    snprintf(out, 2048, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s%s"
             "%s%s%s}", n, e,
             kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
             alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "");

    return out;
}


static char *
jwk_ec(EVP_PKEY *pk, const char *crv, size_t coord, const char *kid,
    const char *alg)
{
    char  x[100], y[100], *out;

    bn_b64(pk, OSSL_PKEY_PARAM_EC_PUB_X, coord, x);
    bn_b64(pk, OSSL_PKEY_PARAM_EC_PUB_Y, coord, y);

    out = malloc(512);
    assert_non_null(out);

    snprintf(out, 512, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
             "\"y\":\"%s\"%s%s%s%s%s%s}", crv, x, y,
             kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
             alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "");

    return out;
}


static char *
jwk_oct(const u_char *k, size_t n, const char *kid, const char *alg)
{
    char  kb[1500], *out;

    b64(k, n, kb);

    out = malloc(2048);
    assert_non_null(out);

    snprintf(out, 2048, "{\"kty\":\"oct\",\"k\":\"%s\"%s%s%s%s%s%s}", kb,
             kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
             alg ? ",\"alg\":\"" : "", alg ? alg : "", alg ? "\"" : "");

    return out;
}


/* structure: "SubjectPublicKeyInfo" or "type-specific" (PKCS#1). */

static char *
pem_pub(EVP_PKEY *pk, const char *structure)
{
    u_char            *data;
    size_t             len;
    char              *out;
    OSSL_ENCODER_CTX  *ectx;

    ectx = OSSL_ENCODER_CTX_new_for_pkey(pk, EVP_PKEY_PUBLIC_KEY, "PEM",
                                         structure, NULL);
    assert_non_null(ectx);

    data = NULL;
    len = 0;
    assert_int_equal(OSSL_ENCODER_to_data(ectx, &data, &len), 1);
    OSSL_ENCODER_CTX_free(ectx);

    out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, data, len);
    out[len] = '\0';
    OPENSSL_free(data);

    return out;
}


static int
group_setup(void **state)
{
    char       *k[6];
    size_t      i, n;
    fixture_t  *fx;
    char        err[512];

    fx = calloc(1, sizeof(fixture_t));
    if (fx == NULL) {
        return -1;
    }

    fx->rsa = EVP_RSA_gen(2048);
    fx->ec256 = EVP_EC_gen("P-256");
    fx->ec384 = EVP_EC_gen("P-384");

    if (fx->rsa == NULL || fx->ec256 == NULL || fx->ec384 == NULL) {
        return -1;
    }

    for (i = 0; i < sizeof(fx->hs); i++) {
        fx->hs[i] = (u_char) (i * 7 + 3);
    }

    fx->rsa_pem = pem_pub(fx->rsa, "SubjectPublicKeyInfo");
    fx->ec_pem = pem_pub(fx->ec256, "SubjectPublicKeyInfo");

    k[0] = jwk_oct(fx->hs, sizeof(fx->hs), "hs", NULL);
    k[1] = jwk_rsa(fx->rsa, "rsa", NULL);
    k[2] = jwk_ec(fx->ec256, "P-256", 32, "ec256", NULL);
    k[3] = jwk_ec(fx->ec384, "P-384", 48, "ec384", NULL);
    k[4] = jwk_rsa(fx->rsa, "rsa-rs256", "RS256");

    n = 64;

    for (i = 0; i < 5; i++) {
        n += strlen(k[i]) + 1;
    }

    fx->jwks = malloc(n);
    if (fx->jwks == NULL) {
        return -1;
    }

    snprintf(fx->jwks, n, "{\"keys\":[%s,%s,%s,%s,%s]}",
             k[0], k[1], k[2], k[3], k[4]);

    for (i = 0; i < 5; i++) {
        free(k[i]);
    }

    fx->ks = compliance_jwt_keyset_create();
    if (fx->ks == NULL || load_str(fx->ks, fx->jwks, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "fixture keys: %s\n", err);
        return -1;
    }

    *state = fx;

    return 0;
}


static int
group_teardown(void **state)
{
    fixture_t  *fx;

    fx = *state;

    compliance_jwt_keyset_free(fx->ks);
    EVP_PKEY_free(fx->rsa);
    EVP_PKEY_free(fx->ec256);
    EVP_PKEY_free(fx->ec384);
    free(fx->rsa_pem);
    free(fx->ec_pem);
    free(fx->jwks);
    free(fx);

    return 0;
}


static int
load_str(compliance_jwt_keyset_t *ks, const char *s, char *err,
    size_t errlen)
{
    err[0] = '\0';

    return compliance_jwt_keyset_load_mem(ks, (const u_char *) s, strlen(s),
                                          "test.jwks", err, errlen);
}


/* Signs input as alg; secret overrides the fixture's HMAC key. */

static void
sign(const fixture_t *fx, int alg, const u_char *secret, size_t slen,
    const char *input, u_char *sig, size_t *siglen)
{
    u_char         der[256];
    size_t         dlen, coord;
    EVP_PKEY      *pk;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *mctx;
    const char    *md;
    const u_char  *p;
    EVP_PKEY_CTX  *pctx;

    static const char  *mds[] = {
        "SHA256", "SHA384", "SHA512", "SHA256", "SHA384", "SHA512",
        "SHA256", "SHA384", "SHA512", "SHA256", "SHA384"
    };

    md = mds[alg];

    if (alg <= COMPLIANCE_JWT_HS512) {
        if (secret == NULL) {
            secret = fx->hs;
            slen = sizeof(fx->hs);
        }

        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, secret, slen,
                                  (const u_char *) input, strlen(input),
                                  sig, 64, siglen));
        return;
    }

    pk = alg <= COMPLIANCE_JWT_PS512 ? fx->rsa
         : alg == COMPLIANCE_JWT_ES256 ? fx->ec256 : fx->ec384;

    mctx = EVP_MD_CTX_new();
    assert_non_null(mctx);
    assert_int_equal(EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, pk,
                                           NULL), 1);

    if (alg >= COMPLIANCE_JWT_PS256 && alg <= COMPLIANCE_JWT_PS512) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
                                                RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                RSA_PSS_SALTLEN_DIGEST), 1);
    }

    if (alg < COMPLIANCE_JWT_ES256) {
        *siglen = 512;
        assert_int_equal(EVP_DigestSign(mctx, sig, siglen,
                                        (const u_char *) input,
                                        strlen(input)), 1);
        EVP_MD_CTX_free(mctx);
        return;
    }

    dlen = sizeof(der);
    assert_int_equal(EVP_DigestSign(mctx, der, &dlen, (const u_char *) input,
                                    strlen(input)), 1);
    EVP_MD_CTX_free(mctx);

    /* JWS wants r||s, OpenSSL gives DER */
    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) dlen);
    assert_non_null(es);

    coord = alg == COMPLIANCE_JWT_ES256 ? 32 : 48;
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int) coord),
                     (int) coord);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + coord,
                                  (int) coord), (int) coord);
    *siglen = 2 * coord;
    ECDSA_SIG_free(es);
}


static char *
mint_sig(const char *header, const char *payload, const u_char *sig,
    size_t slen)
{
    char  *t;

    t = malloc(TOKEN_MAX);
    assert_non_null(t);

    b64_str(header, t);
    strcat(t, ".");
    b64_str(payload, t + strlen(t));
    strcat(t, ".");
    b64(sig, slen, t + strlen(t));

    return t;
}


/* header NULL: {"alg":"<alg_name>"}. */

static char *
mint(const fixture_t *fx, const char *alg_name, const char *header,
    const char *payload)
{
    int     alg;
    char   *t, hbuf[256];
    u_char  sig[512];
    size_t  slen;

    alg = compliance_jwt_alg_parse((const u_char *) alg_name,
                                   strlen(alg_name));
    assert_true(alg >= 0);

    if (header == NULL) {
        snprintf(hbuf, sizeof(hbuf), "{\"alg\":\"%s\"}", alg_name);
        header = hbuf;
    }

    t = mint_sig(header, payload, (const u_char *) "", 0);
    *strrchr(t, '.') = '\0';

    sign(fx, alg, NULL, 0, t, sig, &slen);

    strcat(t, ".");
    b64(sig, slen, t + strlen(t));

    return t;
}


static char *
mint_secret(const char *alg_name, const char *header, const char *payload,
    const u_char *secret, size_t slen)
{
    int     alg;
    char   *t;
    u_char  sig[64];
    size_t  siglen;

    alg = compliance_jwt_alg_parse((const u_char *) alg_name,
                                   strlen(alg_name));
    assert_true(alg >= 0 && alg <= COMPLIANCE_JWT_HS512);

    t = mint_sig(header, payload, (const u_char *) "", 0);
    *strrchr(t, '.') = '\0';

    sign(NULL, alg, secret, slen, t, sig, &siglen);

    strcat(t, ".");
    b64(sig, siglen, t + strlen(t));

    return t;
}


static int
verify(const fixture_t *fx, unsigned mask, const char *token)
{
    int               rc;
    compliance_jwt_t  jwt;

    rc = compliance_jwt_verify(fx->ks, mask, (const u_char *) token,
                               strlen(token), &jwt);

    if (rc == COMPLIANCE_JWT_OK) {
        assert_non_null(jwt.claims.text);
        assert_non_null(jwt.key);

    } else {
        assert_null(jwt.claims.text);
        assert_null(jwt.key);
    }

    compliance_jwt_release(&jwt);

    return rc;
}


static void
test_names(void **state)
{
    int         i;
    const char  *n;

    (void) state;

    for (i = 0; i < COMPLIANCE_JWT_ALG_COUNT; i++) {
        n = compliance_jwt_alg_name(i);
        assert_non_null(n);
        assert_int_equal(compliance_jwt_alg_parse((const u_char *) n,
                                                  strlen(n)), i);
    }

    assert_null(compliance_jwt_alg_name(-1));
    assert_null(compliance_jwt_alg_name(COMPLIANCE_JWT_ALG_COUNT));

    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "none", 4),
                     -1);
    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "hs256", 5),
                     -1);
    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "HS25", 4),
                     -1);
    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "HS2567", 6),
                     -1);
    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "ES512", 5),
                     -1);
    assert_int_equal(compliance_jwt_alg_parse((const u_char *) "", 0), -1);

    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_MALFORMED),
                        "malformed_token");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_ALG_NOT_ALLOWED),
                        "alg_not_allowed");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_UNKNOWN_KEY),
                        "unknown_key");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_BAD_SIGNATURE),
                        "bad_signature");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_EXPIRED),
                        "token_expired");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_NOT_YET_VALID),
                        "token_not_yet_valid");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_BAD_ISSUER),
                        "bad_issuer");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_BAD_AUDIENCE),
                        "bad_audience");
    assert_string_equal(
        compliance_jwt_reason(COMPLIANCE_JWT_LIFETIME_TOO_LONG),
        "lifetime_too_long");
    assert_string_equal(compliance_jwt_reason(COMPLIANCE_JWT_NOMEM),
                        "internal_error");
    assert_string_equal(compliance_jwt_reason(99), "internal_error");
}


static void
test_valid_every_alg(void **state)
{
    int               i, rc;
    char             *t, hdr[128];
    size_t            klen;
    fixture_t        *fx;
    compliance_jwt_t  jwt;

    static const char  *kids[] = {
        "hs", "hs", "hs", "rsa", "rsa", "rsa", "rsa", "rsa", "rsa",
        "ec256", "ec384"
    };

    fx = *state;

    for (i = 0; i < COMPLIANCE_JWT_ALG_COUNT; i++) {

        /* without kid: the verifier finds the key of the right type */
        t = mint(fx, compliance_jwt_alg_name(i), NULL, payload_ok);
        rc = compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                   (const u_char *) t, strlen(t), &jwt);
        assert_int_equal(rc, COMPLIANCE_JWT_OK);
        assert_int_equal(jwt.alg, i);
        assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 1000),
                         COMPLIANCE_JWT_OK);
        compliance_jwt_release(&jwt);

        /* only this alg allowed */
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_BIT(i), t),
                         COMPLIANCE_JWT_OK);
        free(t);

        /* with kid: that key, reported back */
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"%s\","
                 "\"typ\":\"JWT\"}", compliance_jwt_alg_name(i), kids[i]);
        t = mint(fx, compliance_jwt_alg_name(i), hdr, payload_ok);
        rc = compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                   (const u_char *) t, strlen(t), &jwt);
        assert_int_equal(rc, COMPLIANCE_JWT_OK);
        assert_non_null(jwt.kid);
        assert_int_equal(jwt.kid_len, strlen(kids[i]));
        assert_memory_equal(jwt.kid, kids[i], jwt.kid_len);
        assert_ptr_equal(compliance_jwt_key_kid(jwt.key, &klen), jwt.kid);
        compliance_jwt_release(&jwt);
        free(t);
    }

    /* the RS256-pinned key serves RS256 by its own kid */
    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa-rs256\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_OK);
    free(t);
}


static void
test_alg_none(void **state)
{
    int          i;
    char        *t, hdr[64];
    u_char       sig[64];
    size_t       slen;
    fixture_t   *fx;
    const char  *names[] = { "none", "None", "NONE", "nOnE", "", "hs256",
                             "Hs256", "RS256 ", "ES512", "EdDSA" };

    fx = *state;

    for (i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\"}", names[i]);

        /* unsigned, as "none" tokens come */
        t = mint_sig(hdr, payload_ok, (const u_char *) "", 0);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                         COMPLIANCE_JWT_ALG_NOT_ALLOWED);
        free(t);

        /* and with an HS256 signature over it by the real secret */
        t = mint_sig(hdr, payload_ok, (const u_char *) "", 0);
        *strrchr(t, '.') = '\0';
        sign(fx, COMPLIANCE_JWT_HS256, NULL, 0, t, sig, &slen);
        strcat(t, ".");
        b64(sig, slen, t + strlen(t));
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                         COMPLIANCE_JWT_ALG_NOT_ALLOWED);
        free(t);
    }
}


static void
test_alg_not_allowed(void **state)
{
    char       *t;
    fixture_t  *fx;

    fx = *state;

    t = mint(fx, "RS256", NULL, payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256),
                            t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(verify(fx, 0, t), COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS256),
                            t),
                     COMPLIANCE_JWT_OK);
    free(t);

    /* the key pins RS256: PS256 under its kid is refused */
    t = mint(fx, "PS256", "{\"alg\":\"PS256\",\"kid\":\"rsa-rs256\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    free(t);

    /* ES384 named at the P-256 key: wrong type for that key */
    t = mint(fx, "ES384", "{\"alg\":\"ES384\",\"kid\":\"ec256\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    free(t);
}


/*
 * The classic attack: sign HS256 with the server's public key bytes as
 * the HMAC secret.  It must never be checked against RSA/EC material.
 */

static void
test_key_confusion(void **state)
{
    int                       i, rc;
    char                     *t, err[512], *pems[2];
    u_char                   *der;
    size_t                    dlen;
    fixture_t                *fx;
    EVP_PKEY                 *pks[2];
    compliance_jwt_t          jwt;
    compliance_jwt_keyset_t  *ks;

    fx = *state;
    pems[0] = fx->rsa_pem;
    pems[1] = fx->ec_pem;
    pks[0] = fx->rsa;
    pks[1] = fx->ec256;

    for (i = 0; i < 2; i++) {
        ks = compliance_jwt_keyset_create();
        assert_non_null(ks);
        assert_int_equal(load_str(ks, pems[i], err, sizeof(err)), 0);
        assert_int_equal(compliance_jwt_keyset_algs(ks)
                         & (COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256)
                            | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS384)
                            | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512)),
                         0);

        t = mint_secret("HS256", "{\"alg\":\"HS256\"}", payload_ok,
                        (const u_char *) pems[i], strlen(pems[i]));
        rc = compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                   (const u_char *) t, strlen(t), &jwt);
        assert_int_equal(rc, COMPLIANCE_JWT_UNKNOWN_KEY);
        compliance_jwt_release(&jwt);
        free(t);

        der = NULL;
        dlen = (size_t) i2d_PUBKEY(pks[i], &der);
        assert_true(dlen > 0);

        t = mint_secret("HS512", "{\"alg\":\"HS512\"}", payload_ok, der,
                        dlen);
        rc = compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                   (const u_char *) t, strlen(t), &jwt);
        assert_int_equal(rc, COMPLIANCE_JWT_UNKNOWN_KEY);
        free(t);
        OPENSSL_free(der);

        compliance_jwt_keyset_free(ks);
    }

    /* with an oct key present too: still no OK, by kid or without */
    t = mint_secret("HS256", "{\"alg\":\"HS256\",\"kid\":\"rsa\"}",
                    payload_ok, (const u_char *) fx->rsa_pem,
                    strlen(fx->rsa_pem));
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    free(t);

    t = mint_secret("HS256", "{\"alg\":\"HS256\"}", payload_ok,
                    (const u_char *) fx->rsa_pem, strlen(fx->rsa_pem));
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    free(t);

    t = mint_secret("HS256", "{\"alg\":\"HS256\",\"kid\":\"ec256\"}",
                    payload_ok, (const u_char *) fx->ec_pem,
                    strlen(fx->ec_pem));
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    free(t);
}


static void
test_kid(void **state)
{
    char                     *t, err[512];
    fixture_t                *fx;
    compliance_jwt_t          jwt;
    compliance_jwt_keyset_t  *ks;

    fx = *state;

    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"nope\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    t = mint(fx, "RS256",
             "{\"alg\":\"RS256\",\"kid\":\"../../etc/passwd\"}", payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    /* prefixes and case variants are other kids */
    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rs\"}", payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"RSA\"}", payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"\"}", payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    /* a NUL inside kid is refused by the JSON parser */
    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa\\u0000x\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_MALFORMED);
    free(t);

    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":7}", payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_MALFORMED);
    free(t);

    /* the right kid but the key of another type: HS token at "ec384" */
    t = mint(fx, "HS256", "{\"alg\":\"HS256\",\"kid\":\"ec384\"}",
             payload_ok);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    free(t);

    /* a kid no key carries is unknown, even beside a kid-less PEM key */
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);
    assert_int_equal(load_str(ks, fx->rsa_pem, err, sizeof(err)), 0);

    t = mint(fx, "RS256", "{\"alg\":\"RS256\",\"kid\":\"idp-2024\"}",
             payload_ok);
    assert_int_equal(compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           &jwt),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    /* without a kid the PEM key serves the token */
    t = mint(fx, "RS256", "{\"alg\":\"RS256\"}", payload_ok);
    assert_int_equal(compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           &jwt),
                     COMPLIANCE_JWT_OK);
    assert_null(jwt.kid);
    assert_int_equal(jwt.kid_len, 0);
    compliance_jwt_release(&jwt);

    assert_int_equal(compliance_jwt_verify(NULL, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           &jwt),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    assert_int_equal(compliance_jwt_keyset_algs(NULL), 0);
    free(t);

    /* no key of the alg's type at all */
    t = mint(fx, "ES256", NULL, payload_ok);
    assert_int_equal(compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           &jwt),
                     COMPLIANCE_JWT_UNKNOWN_KEY);
    free(t);

    compliance_jwt_keyset_free(ks);
}


static void
test_tampered(void **state)
{
    int          i;
    char        *t, *u, *dot, part[512], tail[1024];
    fixture_t   *fx;
    const char  *algs[] = { "HS256", "RS256", "PS384", "ES256", "ES384" };

    fx = *state;

    for (i = 0; i < 5; i++) {
        t = mint(fx, algs[i], NULL, payload_ok);

        /* payload replaced, signature kept */
        u = mint_sig("{}", "{\"sub\":\"mallory\",\"exp\":4102444800}",
                     (const u_char *) "", 0);
        dot = strchr(t, '.');
        snprintf(tail, sizeof(tail), "%s", strrchr(t, '.'));
        b64_str("{\"sub\":\"mallory\",\"iss\":\"https://idp\","
                "\"exp\":4102444800}", part);
        snprintf(u, TOKEN_MAX, "%.*s.%s%s", (int) (dot - t), t, part, tail);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        /* header replaced (an extra member), signature kept */
        snprintf(part, sizeof(part), "{\"alg\":\"%s\",\"x\":1}", algs[i]);
        b64_str(part, tail);
        snprintf(u, TOKEN_MAX, "%s%s", tail, dot);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        /* one signature character changed */
        snprintf(u, TOKEN_MAX, "%s", t);
        u[strlen(u) - 5] = u[strlen(u) - 5] == 'A' ? 'B' : 'A';
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        free(u);
        free(t);
    }
}


static void
test_signature_sizes(void **state)
{
    int          i;
    char        *t, *u, *dot;
    u_char       sig[600];
    size_t       n;
    fixture_t   *fx;
    const char  *algs[] = { "HS256", "HS512", "RS256", "PS256", "ES256",
                            "ES384" };

    fx = *state;
    u = malloc(TOKEN_MAX);
    assert_non_null(u);

    for (i = 0; i < 6; i++) {
        t = mint(fx, algs[i], NULL, payload_ok);
        dot = strrchr(t, '.');
        assert_int_equal(compliance_b64url_decode(sig, &n,
                                                  (u_char *) dot + 1,
                                                  strlen(dot + 1)), 0);
        *dot = '\0';

        /* one byte short, empty, one zero byte too many, doubled */
        snprintf(u, TOKEN_MAX, "%s.", t);
        b64(sig, n - 1, u + strlen(u));
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        snprintf(u, TOKEN_MAX, "%s.", t);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        sig[n] = 0;
        snprintf(u, TOKEN_MAX, "%s.", t);
        b64(sig, n + 1, u + strlen(u));
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        memcpy(sig + n, sig, n);
        snprintf(u, TOKEN_MAX, "%s.", t);
        b64(sig, 2 * n, u + strlen(u));
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        /* and the untouched signature still passes */
        snprintf(u, TOKEN_MAX, "%s.", t);
        b64(sig, n, u + strlen(u));
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, u),
                         COMPLIANCE_JWT_OK);

        free(t);
    }

    free(u);
}


static void
test_ecdsa_raw(void **state)
{
    char        *t, *dot, hp[1024];
    u_char       sig[200], der[200], *dp;
    size_t       slen, dlen;
    fixture_t   *fx;
    ECDSA_SIG   *es;
    BIGNUM      *r, *s;

    fx = *state;

    t = mint(fx, "ES256", NULL, payload_ok);
    dot = strrchr(t, '.');
    snprintf(hp, sizeof(hp), "%.*s", (int) (dot - t), t);
    assert_int_equal(compliance_b64url_decode(sig, &slen,
                                              (u_char *) dot + 1,
                                              strlen(dot + 1)), 0);
    assert_int_equal(slen, 64);
    free(t);

#define ES_CASE(s, n, expect)                                                \
    t = malloc(TOKEN_MAX);                                                   \
    assert_non_null(t);                                                      \
    snprintf(t, TOKEN_MAX, "%s.", hp);                                       \
    b64(s, n, t + strlen(t));                                                \
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t), expect);         \
    free(t)

    ES_CASE(sig, 64, COMPLIANCE_JWT_OK);
    ES_CASE(sig, 63, COMPLIANCE_JWT_BAD_SIGNATURE);

    sig[64] = 0;
    ES_CASE(sig, 65, COMPLIANCE_JWT_BAD_SIGNATURE);

    /* a leading zero byte prepended: 65 bytes, same value */
    memmove(sig + 1, sig, 64);
    sig[0] = 0;
    ES_CASE(sig, 65, COMPLIANCE_JWT_BAD_SIGNATURE);
    memmove(sig, sig + 1, 64);

    /* the DER form OpenSSL itself would produce */
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    dp = der;
    dlen = (size_t) i2d_ECDSA_SIG(es, &dp);
    ECDSA_SIG_free(es);
    ES_CASE(der, dlen, COMPLIANCE_JWT_BAD_SIGNATURE);

    /* r = 0, then s = 0 */
    memcpy(der, sig, 64);
    memset(der, 0, 32);
    ES_CASE(der, 64, COMPLIANCE_JWT_BAD_SIGNATURE);

    memcpy(der, sig, 64);
    memset(der + 32, 0, 32);
    ES_CASE(der, 64, COMPLIANCE_JWT_BAD_SIGNATURE);

    memset(der, 0, 64);
    ES_CASE(der, 64, COMPLIANCE_JWT_BAD_SIGNATURE);

    /* r, s all ones: above the group order */
    memset(der, 0xff, 64);
    ES_CASE(der, 64, COMPLIANCE_JWT_BAD_SIGNATURE);

#undef ES_CASE
}


static void
test_structure(void **state)
{
    int          i;
    char        *t, buf[1200], good[1024];
    fixture_t   *fx;
    const char  *bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        "...",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.",
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA.AAAA",
        "eyJhbGciOiJIUzI1NiJ9==.e30.AAAA",
        "eyJhbGciOiJIUzI1NiJ9.e30=.AAAA",
        "eyJhbGciOiJIUzI1NiJ9.e30.AA+A",
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA=",
        "eyJhbGciOiJIUzI1NiJ9.e30.A",
        "eyJhbGciOiJIUzI1NiJ9.e3 0.AAAA",
        "eyJhbGciOiJIUzI1NiJ9\n.e30.AAAA",
        "eyJhbGciOiJIUzI1NiJ8.e30.AAAA"
    };
    const char  *headers[] = {
        "not json",
        "[\"alg\",\"HS256\"]",
        "\"HS256\"",
        "42",
        "{}",
        "{\"alg\":256}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
        "{\"alg\":\"none\",\"alg\":\"HS256\"}",
        "{\"alg\":\"HS256\"} trailing",
        "{\"alg\":\"HS256\"",
        "{\"alg\":\"HS\\u0000256\"}"
    };
    const char  *payloads[] = {
        "not json",
        "[1,2]",
        "\"sub\"",
        "",
        "{\"exp\":1,\"exp\":2}",
        "{\"sub\":\"a\"}}",
        "{\"sub\":\"\\ud800\"}"
    };

    fx = *state;

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, bad[i]),
                         COMPLIANCE_JWT_MALFORMED);
    }

    assert_int_equal(compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                           NULL, 0, NULL),
                     COMPLIANCE_JWT_MALFORMED);

    for (i = 0; i < (int) (sizeof(headers) / sizeof(headers[0])); i++) {
        t = mint(fx, "HS256", headers[i], payload_ok);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                         COMPLIANCE_JWT_MALFORMED);
        free(t);
    }

    for (i = 0; i < (int) (sizeof(payloads) / sizeof(payloads[0])); i++) {
        t = mint(fx, "HS256", NULL, payloads[i]);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                         COMPLIANCE_JWT_MALFORMED);
        free(t);
    }

    /* a valid token with each part's base64url made non-canonical */
    t = mint(fx, "HS256", NULL, "{\"exp\":4102444800}");
    snprintf(good, sizeof(good), "%s", t);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, good),
                     COMPLIANCE_JWT_OK);
    free(t);

    snprintf(buf, sizeof(buf), "%s=", good);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, buf),
                     COMPLIANCE_JWT_MALFORMED);

    snprintf(buf, sizeof(buf), "%s", good);
    *strchr(buf, '.') = '*';
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, buf),
                     COMPLIANCE_JWT_MALFORMED);

    /* "Bearer " left on the token, whitespace around it */
    snprintf(buf, sizeof(buf), "Bearer %s", good);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, buf),
                     COMPLIANCE_JWT_MALFORMED);

    snprintf(buf, sizeof(buf), "%s ", good);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, buf),
                     COMPLIANCE_JWT_MALFORMED);
}


static void
test_depth_and_size(void **state)
{
    int          i, d, seen;
    char        *t, *p, *pad, hdr[64];
    size_t       n, plen;
    fixture_t   *fx;

    fx = *state;
    p = malloc(4096);
    assert_non_null(p);

    /* claims nested 1000 deep, correctly signed */
    n = (size_t) snprintf(p, 4096, "{\"exp\":4102444800,\"x\":");
    for (i = 0; i < 1000; i++) {
        p[n++] = '[';
    }
    for (i = 0; i < 1000; i++) {
        p[n++] = ']';
    }
    p[n++] = '}';
    p[n] = '\0';

    t = mint(fx, "HS256", NULL, p);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_MALFORMED);
    free(t);

    /* 16 levels in all pass, 17 do not */
    for (d = 16; d <= 17; d++) {
        n = 0;
        for (i = 0; i < d - 1; i++) {
            n += (size_t) sprintf(p + n, "{\"a\":");
        }
        n += (size_t) sprintf(p + n, "{\"exp\":4102444800}");
        for (i = 0; i < d - 1; i++) {
            p[n++] = '}';
        }
        p[n] = '\0';

        t = mint(fx, "HS256", NULL, p);
        assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                         d == 16 ? COMPLIANCE_JWT_OK
                                 : COMPLIANCE_JWT_MALFORMED);
        free(t);
    }

    /* brackets inside strings are not nesting */
    snprintf(p, 4096, "{\"exp\":4102444800,\"x\":\"%s\"}",
             "[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{\\\"[[[[[[[[[[");
    t = mint(fx, "HS256", NULL, p);
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_OK);
    free(t);
    free(p);

    /* a token of exactly 8192 bytes passes, 8193 does not */
    pad = malloc(8192);
    assert_non_null(pad);
    p = malloc(8400);
    assert_non_null(p);
    seen = 0;

    for (plen = 5900; plen < 6200 && seen != 3; plen++) {
        memset(pad, 'a', plen);
        pad[plen] = '\0';
        snprintf(p, 8400, "{\"exp\":4102444800,\"pad\":\"%s\"}", pad);

        /* header sizes 0-2 bytes apart reach every token length */
        for (d = 0; d < 3; d++) {
            snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"x\":\"%.*s\"}",
                     d, "xx");
            t = mint(fx, "HS256", hdr, p);
            n = strlen(t);

            if (n == COMPLIANCE_JWT_MAX_TOKEN) {
                assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                                 COMPLIANCE_JWT_OK);
                seen |= 1;

            } else if (n == COMPLIANCE_JWT_MAX_TOKEN + 1) {
                assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                                 COMPLIANCE_JWT_MALFORMED);
                seen |= 2;
            }

            free(t);
        }
    }

    assert_int_equal(seen, 3);

    /* far over the limit: refused on length alone */
    t = malloc(70000);
    assert_non_null(t);
    memset(t, 'A', 69999);
    t[100] = '.';
    t[200] = '.';
    t[69999] = '\0';
    assert_int_equal(verify(fx, COMPLIANCE_JWT_ALG_ALL, t),
                     COMPLIANCE_JWT_MALFORMED);
    free(t);

    free(pad);
    free(p);
}


static void
test_release(void **state)
{
    char             *t;
    fixture_t        *fx;
    compliance_jwt_t  jwt;

    fx = *state;

    t = mint(fx, "HS256", NULL, payload_ok);
    assert_int_equal(compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           &jwt),
                     COMPLIANCE_JWT_OK);
    compliance_jwt_release(&jwt);
    compliance_jwt_release(&jwt);
    assert_null(jwt.claims.text);
    assert_int_equal(compliance_jwt_check_claims(&jwt, NULL, 0),
                     COMPLIANCE_JWT_MALFORMED);

    /* no output wanted */
    assert_int_equal(compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) t, strlen(t),
                                           NULL),
                     COMPLIANCE_JWT_OK);

    /* failure: nothing held, release still fine */
    t[strlen(t) - 2] ^= 1;
    assert_int_not_equal(compliance_jwt_verify(fx->ks,
                                               COMPLIANCE_JWT_ALG_ALL,
                                               (const u_char *) t,
                                               strlen(t), &jwt),
                         COMPLIANCE_JWT_OK);
    assert_null(jwt.claims.text);
    compliance_jwt_release(&jwt);
    compliance_jwt_release(NULL);
    free(t);
}


static void
parse_payload(const char *payload, compliance_jwt_t *jwt)
{
    size_t  n;

    memset(jwt, 0, sizeof(compliance_jwt_t));
    n = strlen(payload);
    assert_true(n <= sizeof(jwt->text));
    memcpy(jwt->text, payload, n);
    assert_int_equal(compliance_jwt_claims_read(&jwt->claims, jwt->text, n,
                                                jwt->members,
                                                COMPLIANCE_JWT_MAX_MEMBERS),
                     0);
}


static int
claims(const char *payload, const compliance_jwt_policy_t *pol,
    long long now)
{
    int               rc;
    compliance_jwt_t  jwt;

    parse_payload(payload, &jwt);
    rc = compliance_jwt_check_claims(&jwt, pol, now);
    compliance_jwt_release(&jwt);

    return rc;
}


static void
test_claims_times(void **state)
{
    compliance_jwt_policy_t  pol;

    (void) state;

    memset(&pol, 0, sizeof(pol));

    /* exp required, numeric */
    assert_int_equal(claims("{}", &pol, 0), COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":\"1000\"}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":null}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":true}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":[1000]}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);

    /* exactly at exp passes, one second later fails */
    assert_int_equal(claims("{\"exp\":1000}", &pol, 1000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":1000}", &pol, 1001),
                     COMPLIANCE_JWT_EXPIRED);
    assert_int_equal(claims("{\"exp\":1000}", NULL, 1001),
                     COMPLIANCE_JWT_EXPIRED);

    /* reals are floored */
    assert_int_equal(claims("{\"exp\":1000.9}", &pol, 1000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":1000.9}", &pol, 1001),
                     COMPLIANCE_JWT_EXPIRED);
    assert_int_equal(claims("{\"exp\":0.5}", &pol, 0),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":0.5}", &pol, 1),
                     COMPLIANCE_JWT_EXPIRED);

    /*
     * NumericDates outside 1970-01-01 .. 9999-12-31T23:59:59Z are
     * malformed: "exp": 1e300 is not a token that never expires
     */
    assert_int_equal(claims("{\"exp\":253402300799}", &pol, 2000000000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":253402300799.9}", &pol, 2000000000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":253402300800}", &pol, 2000000000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":253402300800.0}", &pol, 2000000000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":1e300}", &pol, 2000000000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":1e19}", &pol, 2000000000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":-1e300}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":-0.5}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":-1}", &pol, 0),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":9223372036854775807}", &pol,
                            2000000000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":-1}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":1e300}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":5000,\"iat\":-1e300}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":5000,\"iat\":1e20}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);

    /* leeway: exp + leeway passes, +1s fails */
    pol.leeway = 30;
    assert_int_equal(claims("{\"exp\":1000}", &pol, 1030),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":1000}", &pol, 1031),
                     COMPLIANCE_JWT_EXPIRED);
    /* the extremes of leeway and clock cannot overflow into a pass */
    pol.leeway = 9223372036854775807LL;
    assert_int_equal(claims("{\"exp\":253402300799}", &pol,
                            2000000000000000000LL),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":10,\"nbf\":253402300799}", &pol,
                            -9223372036854775807LL),
                     COMPLIANCE_JWT_OK);
    pol.leeway = 0;
    assert_int_equal(claims("{\"exp\":10}", &pol, 2000000000000000000LL),
                     COMPLIANCE_JWT_EXPIRED);
    assert_int_equal(claims("{\"exp\":10,\"nbf\":5}", &pol,
                            -9223372036854775807LL),
                     COMPLIANCE_JWT_NOT_YET_VALID);

    /* nbf, with and without leeway */
    pol.leeway = 0;
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":2000}", &pol, 2000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":2000}", &pol, 1999),
                     COMPLIANCE_JWT_NOT_YET_VALID);
    pol.leeway = 10;
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":2000}", &pol, 1990),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":2000}", &pol, 1989),
                     COMPLIANCE_JWT_NOT_YET_VALID);
    assert_int_equal(claims("{\"exp\":5000,\"nbf\":\"2000\"}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);

    /* iat must be numeric when present */
    pol.leeway = 0;
    assert_int_equal(claims("{\"exp\":5000,\"iat\":\"1000\"}", &pol, 3000),
                     COMPLIANCE_JWT_MALFORMED);
    assert_int_equal(claims("{\"exp\":5000,\"iat\":1000}", &pol, 3000),
                     COMPLIANCE_JWT_OK);

    /* max lifetime: exp - iat up to it, iat required */
    pol.max_lifetime = 3600;
    assert_int_equal(claims("{\"exp\":4600,\"iat\":1000}", &pol, 3000),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":4601,\"iat\":1000}", &pol, 3000),
                     COMPLIANCE_JWT_LIFETIME_TOO_LONG);
    assert_int_equal(claims("{\"exp\":4600}", &pol, 3000),
                     COMPLIANCE_JWT_LIFETIME_TOO_LONG);
    assert_int_equal(claims("{\"exp\":253402300799,\"iat\":0}", &pol,
                            3000),
                     COMPLIANCE_JWT_LIFETIME_TOO_LONG);

    /* an iat in the future bounds nothing */
    assert_int_equal(claims("{\"exp\":900100,\"iat\":900000}", &pol, 3000),
                     COMPLIANCE_JWT_LIFETIME_TOO_LONG);

    /* expiry is reported before lifetime */
    assert_int_equal(claims("{\"exp\":4601,\"iat\":1000}", &pol, 5000),
                     COMPLIANCE_JWT_EXPIRED);
}


static void
test_claims_iss_aud(void **state)
{
    compliance_jwt_str_t     iss[2], aud[2];
    compliance_jwt_policy_t  pol;

    (void) state;

    iss[0].data = (const u_char *) "https://a";
    iss[0].len = 9;
    iss[1].data = (const u_char *) "https://b";
    iss[1].len = 9;
    aud[0].data = (const u_char *) "api";
    aud[0].len = 3;
    aud[1].data = (const u_char *) "admin";
    aud[1].len = 5;

    memset(&pol, 0, sizeof(pol));

    /* not configured: anything goes */
    assert_int_equal(claims("{\"exp\":10,\"iss\":5,\"aud\":{}}", &pol, 0),
                     COMPLIANCE_JWT_OK);

    pol.issuers = iss;
    pol.nissuers = 2;

    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://a\"}", &pol, 0),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://b\"}", &pol, 0),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://c\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://a/\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"HTTPS://A\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10,\"iss\":[\"https://a\"]}", &pol, 0),
                     COMPLIANCE_JWT_BAD_ISSUER);

    pol.nissuers = 0;
    pol.audiences = aud;
    pol.naudiences = 2;

    assert_int_equal(claims("{\"exp\":10,\"aud\":\"api\"}", &pol, 0),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":10,\"aud\":\"apis\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10,\"aud\":[\"x\",\"admin\"]}", &pol,
                            0),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(claims("{\"exp\":10,\"aud\":[\"x\",\"y\"]}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10,\"aud\":[]}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10,\"aud\":[1,[\"api\"],null]}",
                            &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10,\"aud\":7}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);

    /* both configured: issuer first */
    pol.nissuers = 2;
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"x\",\"aud\":\"x\"}", &pol,
                            0),
                     COMPLIANCE_JWT_BAD_ISSUER);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://a\","
                            "\"aud\":\"x\"}", &pol, 0),
                     COMPLIANCE_JWT_BAD_AUDIENCE);
    assert_int_equal(claims("{\"exp\":10,\"iss\":\"https://a\","
                            "\"aud\":[\"api\"]}", &pol, 0),
                     COMPLIANCE_JWT_OK);
}


static void
test_claim_str(void **state)
{
    u_char            buf[COMPLIANCE_JWT_NUM_BUF];
    size_t            len;
    const u_char     *p;
    compliance_jwt_t  jwt;

    (void) state;

    parse_payload("{\"sub\":\"alice\",\"org_id\":1234567890123,"
                  "\"ratio\":0.5,\"admin\":true,\"guest\":false,"
                  "\"obj\":{},\"arr\":[],\"nil\":null,\"empty\":\"\"}", &jwt);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "sub", buf, sizeof(buf),
                                              &p, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "alice", 5);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "org_id", buf,
                                              sizeof(buf), &p, &len), 0);
    assert_ptr_equal(p, buf);
    assert_int_equal(len, 13);
    assert_memory_equal(p, "1234567890123", 13);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "ratio", buf,
                                              sizeof(buf), &p, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "0.5", 3);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "admin", buf,
                                              sizeof(buf), &p, &len), 0);
    assert_memory_equal(p, "true", len);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "guest", buf,
                                              sizeof(buf), &p, &len), 0);
    assert_memory_equal(p, "false", len);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "empty", buf,
                                              sizeof(buf), &p, &len), 0);
    assert_int_equal(len, 0);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "obj", buf, sizeof(buf),
                                              &p, &len), -1);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "arr", buf, sizeof(buf),
                                              &p, &len), -1);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "nil", buf, sizeof(buf),
                                              &p, &len), -1);
    assert_int_equal(compliance_jwt_claim_str(&jwt, "missing", buf,
                                              sizeof(buf), &p, &len), -1);

    /* a number that does not fit the caller's buffer */
    assert_int_equal(compliance_jwt_claim_str(&jwt, "org_id", buf, 5, &p,
                                              &len), -1);

    compliance_jwt_release(&jwt);

    assert_int_equal(compliance_jwt_claim_str(&jwt, "sub", buf, sizeof(buf),
                                              &p, &len), -1);
}


static void
test_scopes(void **state)
{
    u_char            buf[256];
    size_t            n;
    compliance_jwt_t  jwt;

    (void) state;

#define SCOPES(payload, claim, expect)                                       \
    parse_payload(payload, &jwt);                                            \
    n = compliance_jwt_scopes(&jwt, claim, NULL, 0);                         \
    assert_int_equal(n, strlen(expect));                                     \
    memset(buf, '#', sizeof(buf));                                           \
    assert_int_equal(compliance_jwt_scopes(&jwt, claim, buf, n), n);         \
    assert_memory_equal(buf, expect, n);                                     \
    assert_int_equal(buf[n], '#');                                           \
    compliance_jwt_release(&jwt)

    SCOPES("{\"scope\":\"read write\"}", NULL, "read write");
    SCOPES("{\"scope\":\"  read   write \"}", NULL, "read write");
    SCOPES("{\"scope\":\"\"}", NULL, "");
    SCOPES("{\"scope\":\"read\",\"scp\":[\"x\"]}", NULL, "read");
    SCOPES("{\"scp\":[\"read\",\"write\"]}", NULL, "read write");
    SCOPES("{\"scp\":\"read write\"}", NULL, "read write");
    SCOPES("{\"scope\":[\"a:b\",\"c/d\"]}", NULL, "a:b c/d");
    SCOPES("{\"perms\":\"x y\",\"scope\":\"z\"}", "perms", "x y");
    SCOPES("{\"scope\":\"z\",\"scp\":[\"w\"]}", "perms", "w");
    SCOPES("{}", NULL, "");
    SCOPES("{\"scope\":42}", NULL, "");
    SCOPES("{\"scp\":[1,null,{\"a\":1},\"ok\"]}", NULL, "ok");

    /*
     * double quotes, backslash, control characters, non-ASCII: dropped;
     * a single quote is a scope-token character (RFC 6749 3.3), as
     * compliance_require_scope accepts it
     */
    SCOPES("{\"scope\":\"a \\\"b\\\" c'd e\\\\f g\\th h\\u0001i j\"}", NULL,
           "a c'd j");
    SCOPES("{\"scp\":[\"ok\",\"x y\",\"caf\\u00e9\",\"a\\nb\",\"\"]}", NULL,
           "ok");

#undef SCOPES

    /* too small a buffer: nothing written, size reported */
    parse_payload("{\"scope\":\"read write\"}", &jwt);
    memset(buf, '#', sizeof(buf));
    assert_int_equal(compliance_jwt_scopes(&jwt, NULL, buf, 5), 10);
    assert_int_equal(buf[0], '#');
    compliance_jwt_release(&jwt);

    assert_int_equal(compliance_jwt_scopes(&jwt, NULL, buf, sizeof(buf)), 0);
}


static void
test_load_refusals(void **state)
{
    int                       i;
    char                      err[512], *k, *big, json[4096];
    char                      cx[80], cy[80];
    u_char                    secret[64], x[48];
    size_t                    n;
    fixture_t                *fx;
    EVP_PKEY                 *small;
    compliance_jwt_keyset_t  *ks;

    fx = *state;
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

#define REFUSE(text, what)                                                   \
    assert_int_equal(load_str(ks, text, err, sizeof(err)), -1);              \
    assert_non_null(strstr(err, "\"test.jwks\""));                           \
    if (strstr(err, what) == NULL) {                                         \
        fail_msg("error \"%s\" lacks \"%s\"", err, what);                    \
    }                                                                        \
    assert_int_equal(compliance_jwt_keyset_count(ks), 0)

    for (i = 0; i < 64; i++) {
        secret[i] = (u_char) (0xa0 + i);
    }

    /* HMAC secret: 31 bytes refused, and never echoed */
    k = jwk_oct(secret, 31, "s", NULL);
    REFUSE(k, "HMAC secret of 31 bytes");
    b64(secret, 31, json);
    assert_null(strstr(err, json));
    free(k);

    k = jwk_oct(secret, 32, "s", "HS512");
    assert_int_equal(load_str(ks, k, err, sizeof(err)), 0);
    assert_int_equal(compliance_jwt_keyset_algs(ks),
                     COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512));
    free(k);
    compliance_jwt_keyset_free(ks);
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    REFUSE("{\"kty\":\"oct\",\"k\":\"\"}", "HMAC secret of 0 bytes");
    REFUSE("{\"kty\":\"oct\"}", "needs string \"k\"");
    REFUSE("{\"kty\":\"oct\","
           "\"k\":\"AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
           "not valid base64url");

    /* a malformed file never quotes the secret it was reading */
    REFUSE("{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0\" x}",
           "invalid JSON");
    assert_null(strstr(err, "c2VjcmV0"));

    /* alg does not fit the key type */
    k = jwk_ec(fx->ec256, "P-256", 32, NULL, "RS256");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_ec(fx->ec256, "P-256", 32, NULL, "ES384");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_ec(fx->ec384, "P-384", 48, NULL, "ES256");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_rsa(fx->rsa, NULL, "HS256");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_rsa(fx->rsa, NULL, "ES256");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_oct(secret, 32, NULL, "RS256");
    REFUSE(k, "does not fit");
    free(k);
    k = jwk_oct(secret, 32, NULL, "none");
    REFUSE(k, "unsupported \"alg\"");
    free(k);
    k = jwk_rsa(fx->rsa, NULL, "RSA-OAEP");
    REFUSE(k, "unsupported \"alg\"");
    free(k);

    /*
     * RS->HS confusion by configuration: an oct secret that is a public
     * key, as PEM (SPKI, PKCS#1, EC), DER or JWK text
     */
    {
        char    *pem, *jwk;
        u_char  *der, *dp;
        int      dlen;

        pem = pem_pub(fx->rsa, "SubjectPublicKeyInfo");
        k = jwk_oct((u_char *) pem, strlen(pem), "c1", NULL);
        REFUSE(k, "oct \"k\" is a public key");
        free(k);
        free(pem);

        pem = pem_pub(fx->rsa, "type-specific");
        k = jwk_oct((u_char *) pem, strlen(pem), "c2", NULL);
        REFUSE(k, "oct \"k\" is a public key");
        free(k);
        free(pem);

        k = jwk_oct((u_char *) fx->ec_pem, strlen(fx->ec_pem), "c3", NULL);
        REFUSE(k, "oct \"k\" is a public key");
        free(k);

        dlen = i2d_PUBKEY(fx->rsa, NULL);
        assert_true(dlen > 0);
        der = malloc(dlen);
        assert_non_null(der);
        dp = der;
        assert_int_equal(i2d_PUBKEY(fx->rsa, &dp), dlen);
        k = jwk_oct(der, dlen, "c4", NULL);
        REFUSE(k, "oct \"k\" is a public key");
        free(k);

        /* a random secret that happens to start like DER still loads */
        der[0] = 0x30;
        memset(der + 1, 0x5a, 40);
        k = jwk_oct(der, 41, "c5", NULL);
        assert_int_equal(load_str(ks, k, err, sizeof(err)), 0);
        free(k);
        free(der);
        compliance_jwt_keyset_free(ks);
        ks = compliance_jwt_keyset_create();
        assert_non_null(ks);

        jwk = jwk_rsa(fx->rsa, "r", NULL);
        k = jwk_oct((u_char *) jwk, strlen(jwk), "c6", NULL);
        REFUSE(k, "oct \"k\" is a public key");
        free(k);
        free(jwk);
    }

    /* one kid names one key in a set, across files too */
    k = jwk_oct(secret, 32, "dup", NULL);
    assert_int_equal(load_str(ks, k, err, sizeof(err)), 0);
    free(k);
    k = jwk_rsa(fx->rsa, "dup", NULL);
    assert_int_equal(load_str(ks, k, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"kid\" \"dup\" is used by another key"));
    assert_int_equal(compliance_jwt_keyset_count(ks), 1);
    free(k);
    compliance_jwt_keyset_free(ks);
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);
    REFUSE("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\","
           "\"k\":\"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"},"
           "{\"kty\":\"oct\",\"kid\":\"a\","
           "\"k\":\"b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyb3RoZXI\"}]}",
           "\"kid\" \"a\" is used by another key");

    /* EC coordinates: wrong length, off the curve, unknown curve */
    memset(x, 0x11, sizeof(x));
    b64(x, 31, cx);
    b64(x, 32, cy);
    snprintf(json, sizeof(json), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"x\":\"%s\",\"y\":\"%s\"}", cx, cy);
    REFUSE(json, "must be 32 bytes");
    b64(x, 33, cx);
    snprintf(json, sizeof(json), "{\"kty\":\"EC\",\"crv\":\"P-256\","
             "\"x\":\"%s\",\"y\":\"%s\"}", cx, cy);
    REFUSE(json, "must be 32 bytes");

    k = jwk_ec(fx->ec256, "P-256", 48, NULL, NULL);
    REFUSE(k, "must be 32 bytes");
    free(k);

    k = jwk_ec(fx->ec256, "P-256", 32, NULL, NULL);
    n = (size_t) (strstr(k, "\",\"y\"") - k);
    k[n - 2] = k[n - 2] == 'A' ? 'Q' : 'A';
    REFUSE(k, "not on the curve");
    free(k);

    k = jwk_ec(fx->ec256, "P-384", 32, NULL, NULL);
    REFUSE(k, "must be 48 bytes");
    free(k);

    k = jwk_ec(fx->ec256, "P-521", 32, NULL, NULL);
    REFUSE(k, "\"crv\" must be");
    free(k);

    REFUSE("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}",
           "needs string \"x\" and \"y\"");

    /* RSA: 1024 bits, bad exponent, missing members, private key */
    small = EVP_RSA_gen(1024);
    assert_non_null(small);
    k = jwk_rsa(small, "small", "RS256");
    REFUSE(k, "RSA modulus of 1024 bits");
    free(k);
    big = pem_pub(small, "SubjectPublicKeyInfo");
    REFUSE(big, "RSA modulus of 1024 bits");
    free(big);
    EVP_PKEY_free(small);

    k = jwk_rsa(fx->rsa, NULL, NULL);
    *strstr(k, "\"e\":\"AQAB\"") = '\0';
    snprintf(json, sizeof(json), "%s\"e\":\"AQAA\"}", k);
    REFUSE(json, "invalid RSA exponent");
    snprintf(json, sizeof(json), "%s\"e\":\"AQ\"}", k);
    REFUSE(json, "invalid RSA exponent");
    snprintf(json, sizeof(json), "%s\"e\":\"\"}", k);
    REFUSE(json, "not valid base64url");
    snprintf(json, sizeof(json), "%s\"e\":\"AQAB\",\"d\":\"AQAB\"}", k);
    REFUSE(json, "private key");
    free(k);

    REFUSE("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", "needs string \"n\"");

    /* use, kty, shapes */
    k = jwk_rsa(fx->rsa, NULL, NULL);
    k[strlen(k) - 1] = '\0';
    snprintf(json, sizeof(json), "%s,\"use\":\"enc\"}", k);
    REFUSE(json, "\"use\" is not \"sig\"");
    snprintf(json, sizeof(json), "%s,\"use\":\"sig\"}", k);
    assert_int_equal(load_str(ks, json, err, sizeof(err)), 0);
    snprintf(json, sizeof(json), "%s,\"kid\":5}", k);
    compliance_jwt_keyset_free(ks);
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);
    REFUSE(json, "\"kid\"");

    /* all or nothing: a good key then a bad one adds neither */
    snprintf(json, sizeof(json), "{\"keys\":[%s},{\"kty\":\"OKP\"}]}", k);
    REFUSE(json, "key #1: unsupported \"kty\"");
    free(k);

    REFUSE("{\"kty\":\"oct\",\"kty\":\"oct\",\"k\":\"AA\"}", "invalid JSON");
    REFUSE("{\"keys\":[]}", "non-empty array");
    REFUSE("{\"keys\":{}}", "non-empty array");
    REFUSE("{\"keys\":[1]}", "key #0: not an object");
    REFUSE("{\"keys\":[{}]}", "missing string \"kty\"");
    REFUSE("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}", "invalid JSON");
    REFUSE("{\"keys\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
           "nested deeper");
    REFUSE("", "empty key file");
    REFUSE(" \n\t\n", "empty key file");
    REFUSE("[]", "neither");
    REFUSE("garbage", "neither");
    REFUSE("-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n"
           "-----END PUBLIC KEY-----\n", "malformed");
    REFUSE("-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n",
           "cannot decode");
    REFUSE("-----BEGIN PUBLIC KEY-----\nAAAA\n", "malformed");
    REFUSE("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
           "not a \"PUBLIC KEY\"");
    REFUSE("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
           "not a \"PUBLIC KEY\"");

    /* the second PEM block is bad: the first is not kept either */
    snprintf(json, sizeof(json), "%s-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n"
             "-----END PUBLIC KEY-----\n", fx->ec_pem);
    REFUSE(json, "PEM block #1");

    compliance_jwt_keyset_free(ks);

#undef REFUSE
}


static char *
write_temp(const char *data, size_t len)
{
    int    fd;
    char  *path;

    path = strdup("/tmp/compliance-jwt-test-XXXXXX");
    assert_non_null(path);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);

    return path;
}


static void
test_load_files(void **state)
{
    char                     *path, *pem, *big, err[512];
    fixture_t                *fx;
    compliance_jwt_keyset_t  *ks;

    fx = *state;
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    path = write_temp(fx->jwks, strlen(fx->jwks));
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     0);
    assert_int_equal(compliance_jwt_keyset_count(ks), 5);
    unlink(path);
    free(path);

    /* PKCS#1 "RSA PUBLIC KEY" and SPKI, several in one file */
    pem = pem_pub(fx->rsa, "type-specific");
    assert_non_null(strstr(pem, "BEGIN RSA PUBLIC KEY"));
    big = malloc(strlen(pem) + strlen(fx->ec_pem) + 32);
    assert_non_null(big);
    sprintf(big, "# comment line\n%s\n%s", pem, fx->ec_pem);
    path = write_temp(big, strlen(big));
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     0);
    assert_int_equal(compliance_jwt_keyset_count(ks), 7);
    assert_int_equal(compliance_jwt_key_type(compliance_jwt_keyset_key(ks, 5)),
                     COMPLIANCE_JWT_KTY_RSA);
    assert_int_equal(compliance_jwt_key_type(compliance_jwt_keyset_key(ks, 6)),
                     COMPLIANCE_JWT_KTY_EC_P256);
    assert_null(compliance_jwt_keyset_key(ks, 7));
    unlink(path);
    free(path);
    free(big);
    free(pem);

    /* empty file, missing file, directory, over 1 MiB */
    path = write_temp("", 0);
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "empty"));
    unlink(path);
    free(path);

    assert_int_equal(compliance_jwt_keyset_load(ks, "/nonexistent/keys.json",
                                                err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/keys.json"));
    assert_non_null(strstr(err, "cannot open"));

    assert_int_equal(compliance_jwt_keyset_load(ks, "/tmp", err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));

    big = malloc(COMPLIANCE_JWT_MAX_KEY_FILE + 2);
    assert_non_null(big);
    memset(big, ' ', COMPLIANCE_JWT_MAX_KEY_FILE + 1);
    memcpy(big, fx->jwks, strlen(fx->jwks));
    path = write_temp(big, COMPLIANCE_JWT_MAX_KEY_FILE + 1);
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "larger than"));
    unlink(path);
    free(path);

    /* the same kids again in one set: refused, the set unchanged */
    path = write_temp(big, COMPLIANCE_JWT_MAX_KEY_FILE);
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "is used by another key of this set"));
    assert_int_equal(compliance_jwt_keyset_count(ks), 7);

    /* exactly 1 MiB is fine */
    compliance_jwt_keyset_free(ks);
    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);
    assert_int_equal(compliance_jwt_keyset_load(ks, path, err, sizeof(err)),
                     0);
    unlink(path);
    free(path);
    free(big);

    assert_int_equal(compliance_jwt_keyset_count(ks), 5);

    /* a tiny error buffer is never overrun */
    assert_int_equal(compliance_jwt_keyset_load(ks, "/nonexistent/x", err,
                                                8), -1);
    assert_int_equal(strlen(err), 7);

    compliance_jwt_keyset_free(ks);
    compliance_jwt_keyset_free(NULL);
}


static void
test_keyset_algs(void **state)
{
    char                     *k, err[512];
    u_char                    secret[32];
    fixture_t                *fx;
    compliance_jwt_keyset_t  *ks;

    fx = *state;

    assert_int_equal(compliance_jwt_keyset_algs(fx->ks),
                     COMPLIANCE_JWT_ALG_ALL);

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);
    assert_int_equal(compliance_jwt_keyset_algs(ks), 0);

    assert_int_equal(load_str(ks, fx->rsa_pem, err, sizeof(err)), 0);
    assert_int_equal(compliance_jwt_keyset_algs(ks),
                     COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS256)
                     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS384)
                     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS512)
                     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS256)
                     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS384)
                     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS512));

    memset(secret, 0x5a, sizeof(secret));
    k = jwk_oct(secret, sizeof(secret), "h", "HS384");
    assert_int_equal(load_str(ks, k, err, sizeof(err)), 0);
    free(k);

    k = jwk_ec(fx->ec384, "P-384", 48, "e", NULL);
    assert_int_equal(load_str(ks, k, err, sizeof(err)), 0);
    free(k);

    assert_int_equal(compliance_jwt_keyset_algs(ks),
                     (COMPLIANCE_JWT_ALG_ALL
                      & ~(COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256)
                          | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512)
                          | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES256))));

    assert_int_equal(compliance_jwt_key_algs(compliance_jwt_keyset_key(ks, 1)),
                     COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS384));

    compliance_jwt_keyset_free(ks);
}


static void
test_sig_verify_primitive(void **state)
{
    u_char                       sig[512];
    size_t                       slen;
    fixture_t                   *fx;
    const char                  *msg;
    const compliance_jwt_key_t  *hs, *rsa, *pinned;

    fx = *state;
    msg = "hello";

    hs = compliance_jwt_keyset_key(fx->ks, 0);
    rsa = compliance_jwt_keyset_key(fx->ks, 1);
    pinned = compliance_jwt_keyset_key(fx->ks, 4);

    sign(fx, COMPLIANCE_JWT_HS384, NULL, 0, msg, sig, &slen);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_HS384,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_HS384,
                                               (const u_char *) msg, 4, sig,
                                               slen),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_HS384,
                                               (const u_char *) msg, 5, sig,
                                               slen - 1),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_HS256,
                                               (const u_char *) msg, 5, sig,
                                               32),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_RS256,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(compliance_jwt_sig_verify(hs, -1, (const u_char *) msg,
                                               5, sig, slen),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(compliance_jwt_sig_verify(hs, COMPLIANCE_JWT_ALG_COUNT,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);

    sign(fx, COMPLIANCE_JWT_PS512, NULL, 0, msg, sig, &slen);
    assert_int_equal(compliance_jwt_sig_verify(rsa, COMPLIANCE_JWT_PS512,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(compliance_jwt_sig_verify(rsa, COMPLIANCE_JWT_RS512,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(compliance_jwt_sig_verify(rsa, COMPLIANCE_JWT_PS256,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(compliance_jwt_sig_verify(pinned, COMPLIANCE_JWT_PS512,
                                               (const u_char *) msg, 5, sig,
                                               slen),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(ERR_peek_error(), 0);
}


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static void
bench(void)
{
    int                      i, j, k, n;
    char                    *t, hdr[128];
    u_char                   md[32], sig[512], text[1024];
    size_t                   slen;
    double                   t0, best;
    fixture_t               *fx;
    EVP_PKEY_CTX            *ctx;
    compliance_jwt_t         jwt;
    const char              *payload;

    static const char  *algs[] = { "HS256", "RS256", "ES256", "PS256" };
    static const char  *kids[] = { "hs", "rsa", "ec256", "rsa" };

    if (group_setup((void **) &fx) != 0) {
        fprintf(stderr, "bench: setup failed\n");
        return;
    }

    payload = "{\"sub\":\"user-1234567890\",\"iss\":\"https://idp.example.com/"
              "\",\"aud\":[\"api\",\"admin\"],\"exp\":4102444800,"
              "\"iat\":1700000000,\"org_id\":\"acme\","
              "\"scope\":\"read write\"}";

    printf("# bench: best of 5 runs, microseconds per call\n");

    for (k = 0; k < 4; k++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\","
                 "\"kid\":\"%s\"}", algs[k], kids[k]);
        t = mint(fx, algs[k], hdr, payload);
        n = k == 0 ? 200000 : 5000;
        best = 1e30;

        for (i = 0; i < 5; i++) {
            t0 = now_us();

            for (j = 0; j < n; j++) {
                if (compliance_jwt_verify(fx->ks, COMPLIANCE_JWT_ALG_ALL,
                                          (const u_char *) t, strlen(t),
                                          &jwt)
                    != COMPLIANCE_JWT_OK)
                {
                    fprintf(stderr, "bench: verify failed\n");
                    abort();
                }

                compliance_jwt_release(&jwt);
            }

            t0 = (now_us() - t0) / n;
            best = t0 < best ? t0 : best;
        }

        printf("# bench: %s verify (%zu-byte token): %.2f us\n", algs[k],
               strlen(t), best);
        free(t);
    }

    /* where HS256 time goes: reading header and payload */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"typ\":\"JWT\","
             "\"kid\":\"hs\"}");
    best = 1e30;

    for (i = 0; i < 5; i++) {
        t0 = now_us();

        for (j = 0; j < 200000; j++) {
            memcpy(text, hdr, strlen(hdr));
            memcpy(text + 256, payload, strlen(payload));

            if (compliance_json_read(text, strlen(hdr), 16, jwt.members,
                                     COMPLIANCE_JWT_MAX_MEMBERS, &slen) != 0
                || compliance_jwt_claims_read(&jwt.claims, text + 256,
                                              strlen(payload), jwt.members,
                                              COMPLIANCE_JWT_MAX_MEMBERS)
                   != 0)
            {
                abort();
            }
        }

        t0 = (now_us() - t0) / 200000;
        best = t0 < best ? t0 : best;
    }

    printf("# bench: of which reading header+payload: %.2f us\n", best);

    best = 1e30;

    for (i = 0; i < 5; i++) {
        t0 = now_us();

        for (j = 0; j < 200000; j++) {
            json_decref(json_loadb(hdr, strlen(hdr), JSON_REJECT_DUPLICATES,
                                   NULL));
            json_decref(json_loadb(payload, strlen(payload),
                                   JSON_REJECT_DUPLICATES, NULL));
        }

        t0 = (now_us() - t0) / 200000;
        best = t0 < best ? t0 : best;
    }

    printf("# bench: (jansson would take %.2f us for the same)\n", best);

    sign(fx, COMPLIANCE_JWT_HS256, NULL, 0, payload, sig, &slen);
    best = 1e30;

    for (i = 0; i < 5; i++) {
        t0 = now_us();

        for (j = 0; j < 200000; j++) {
            if (compliance_jwt_sig_verify(compliance_jwt_keyset_key(fx->ks,
                                                                    0),
                                          COMPLIANCE_JWT_HS256,
                                          (const u_char *) payload,
                                          strlen(payload), sig, slen)
                != COMPLIANCE_JWT_OK)
            {
                abort();
            }
        }

        t0 = (now_us() - t0) / 200000;
        best = t0 < best ? t0 : best;
    }

    printf("# bench: and HS256 signature check alone: %.2f us\n", best);

    /* raw RSA-2048 verify of a digest, the openssl speed operation */
    SHA256((const u_char *) "x", 1, md);
    ctx = EVP_PKEY_CTX_new(fx->rsa, NULL);
    EVP_PKEY_sign_init(ctx);
    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());
    slen = sizeof(sig);
    EVP_PKEY_sign(ctx, sig, &slen, md, sizeof(md));
    EVP_PKEY_verify_init(ctx);
    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256());

    best = 1e30;

    for (i = 0; i < 5; i++) {
        t0 = now_us();

        for (k = 0; k < 5000; k++) {
            if (EVP_PKEY_verify(ctx, sig, slen, md, sizeof(md)) != 1) {
                abort();
            }
        }

        t0 = (now_us() - t0) / 5000;
        best = t0 < best ? t0 : best;
    }

    printf("# bench: raw RSA-2048 EVP_PKEY_verify (pre-hashed): %.2f us\n",
           best);

    EVP_PKEY_CTX_free(ctx);
    group_teardown((void **) &fx);
}


int
main(void)
{
    const char               *b;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_valid_every_alg),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_not_allowed),
        cmocka_unit_test(test_key_confusion),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_signature_sizes),
        cmocka_unit_test(test_ecdsa_raw),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_depth_and_size),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_claims_times),
        cmocka_unit_test(test_claims_iss_aud),
        cmocka_unit_test(test_claim_str),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_keyset_algs),
        cmocka_unit_test(test_sig_verify_primitive),
    };

    b = getenv("COMPLIANCE_UNIT_BENCH");

    if (b && strcmp(b, "1") == 0) {
        bench();
    }

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
