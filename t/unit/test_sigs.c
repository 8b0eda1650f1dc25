/*
 * Targeted checks of compliance_jwt_sig_verify() that fuzzing cannot
 * reach by mutation (they need a valid signature of a special shape):
 * ES256 r||s with leading zero bytes and high bits, the high-s twin,
 * out-of-range r and s; PS256 salt lengths; RSA signatures under the
 * wrong padding, hash or length; HMAC truncation; key-type binding.
 * Keys are made in-process; nothing is read from disk.
 */

#include "unit.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


/* enough signatures to see every r||s shape; ~400 are usually needed */
#define ES_MAX_TRIES  20000
#define MSG_LEN       64


typedef struct {
    EVP_PKEY                    *rsa;
    EVP_PKEY                    *ec;
    u_char                       hs[32];
    BIGNUM                      *order;
    compliance_jwt_keyset_t     *ks;
    const compliance_jwt_key_t  *hs_key;
    const compliance_jwt_key_t  *rsa_key;
    const compliance_jwt_key_t  *ec_key;
} fixture_t;


static int group_setup(void **state);
static int group_teardown(void **state);
static int load_pem(compliance_jwt_keyset_t *ks, EVP_PKEY *pk);
static int load_oct(compliance_jwt_keyset_t *ks, const u_char *k, size_t n);
static void es256_sign(EVP_PKEY *pk, const u_char *msg, u_char rs[64],
    u_char *der, size_t *dlen);
static size_t rsa_sign(EVP_PKEY *pk, const EVP_MD *md, int pss, int salt,
    const u_char *msg, u_char *sig);
static int sig_verify(const compliance_jwt_key_t *key, int alg,
    const u_char *msg, const u_char *sig, size_t slen);

static void test_es256_shapes(void **state);
static void test_es256_out_of_range(void **state);
static void test_ps256_salt(void **state);
static void test_rsa_confusion(void **state);
static void test_hmac(void **state);
static void test_key_binding(void **state);


static int
group_setup(void **state)
{
    size_t      i;
    EC_GROUP   *g;
    fixture_t  *fx;

    fx = calloc(1, sizeof(fixture_t));
    if (fx == NULL) {
        return -1;
    }

    *state = fx;

    fx->rsa = EVP_RSA_gen(2048);
    fx->ec = EVP_EC_gen("P-256");
    fx->order = BN_new();
    g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);

    if (fx->rsa == NULL || fx->ec == NULL || fx->order == NULL || g == NULL
        || EC_GROUP_get_order(g, fx->order, NULL) != 1)
    {
        EC_GROUP_free(g);
        return -1;
    }

    EC_GROUP_free(g);

    for (i = 0; i < sizeof(fx->hs); i++) {
        fx->hs[i] = (u_char) (i * 7 + 3);
    }

    /* keys 0, 1, 2 in load order */
    fx->ks = compliance_jwt_keyset_create();

    if (fx->ks == NULL
        || load_oct(fx->ks, fx->hs, sizeof(fx->hs)) != 0
        || load_pem(fx->ks, fx->rsa) != 0
        || load_pem(fx->ks, fx->ec) != 0
        || compliance_jwt_keyset_count(fx->ks) != 3)
    {
        return -1;
    }

    fx->hs_key = compliance_jwt_keyset_key(fx->ks, 0);
    fx->rsa_key = compliance_jwt_keyset_key(fx->ks, 1);
    fx->ec_key = compliance_jwt_keyset_key(fx->ks, 2);

    if (compliance_jwt_key_type(fx->hs_key) != COMPLIANCE_JWT_KTY_OCT
        || compliance_jwt_key_type(fx->rsa_key) != COMPLIANCE_JWT_KTY_RSA
        || compliance_jwt_key_type(fx->ec_key) != COMPLIANCE_JWT_KTY_EC_P256)
    {
        return -1;
    }

    return 0;
}


static int
group_teardown(void **state)
{
    fixture_t  *fx;

    fx = *state;

    if (fx == NULL) {
        return 0;
    }

    compliance_jwt_keyset_free(fx->ks);
    EVP_PKEY_free(fx->rsa);
    EVP_PKEY_free(fx->ec);
    BN_free(fx->order);
    free(fx);

    return 0;
}


static int
load_pem(compliance_jwt_keyset_t *ks, EVP_PKEY *pk)
{
    int                rc;
    char               err[256];
    u_char            *data;
    size_t             len;
    OSSL_ENCODER_CTX  *ectx;

    ectx = OSSL_ENCODER_CTX_new_for_pkey(pk, EVP_PKEY_PUBLIC_KEY, "PEM",
                                         "SubjectPublicKeyInfo", NULL);
    if (ectx == NULL) {
        return -1;
    }

    data = NULL;
    len = 0;
    rc = OSSL_ENCODER_to_data(ectx, &data, &len);
    OSSL_ENCODER_CTX_free(ectx);

    if (rc != 1) {
        return -1;
    }

    rc = compliance_jwt_keyset_load_mem(ks, data, len, "test.pem", err,
                                        sizeof(err));
    OPENSSL_free(data);

    if (rc != 0) {
        fprintf(stderr, "test.pem: %s\n", err);
    }

    return rc;
}


static int
load_oct(compliance_jwt_keyset_t *ks, const u_char *k, size_t n)
{
    int     rc;
    char    jwk[256], err[256];
    u_char  b64[128];
    size_t  blen;

    blen = compliance_b64url_encode(b64, k, n);

    snprintf(jwk, sizeof(jwk), "{\"kty\":\"oct\",\"k\":\"%.*s\"}",
             (int) blen, b64);

    rc = compliance_jwt_keyset_load_mem(ks, (u_char *) jwk, strlen(jwk),
                                        "test.jwk", err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "test.jwk: %s\n", err);
    }

    return rc;
}


/* rs receives the JWS form, der (if not NULL) OpenSSL's own */

static void
es256_sign(EVP_PKEY *pk, const u_char *msg, u_char rs[64], u_char *der,
    size_t *dlen)
{
    u_char         buf[128];
    size_t         n;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *ctx;
    const u_char  *p;

    ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk),
                     1);

    n = sizeof(buf);
    assert_int_equal(EVP_DigestSign(ctx, buf, &n, msg, MSG_LEN), 1);
    EVP_MD_CTX_free(ctx);

    p = buf;
    es = d2i_ECDSA_SIG(NULL, &p, (long) n);
    assert_non_null(es);

    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32), 32);
    ECDSA_SIG_free(es);

    if (der) {
        memcpy(der, buf, n);
        *dlen = n;
    }
}


/* salt is only used with pss */

static size_t
rsa_sign(EVP_PKEY *pk, const EVP_MD *md, int pss, int salt,
    const u_char *msg, u_char *sig)
{
    size_t         n;
    EVP_MD_CTX    *ctx;
    EVP_PKEY_CTX  *pctx;

    ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, pk), 1);

    if (pss) {
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
                                                RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt), 1);
    }

    n = 512;
    assert_int_equal(EVP_DigestSign(ctx, sig, &n, msg, MSG_LEN), 1);
    EVP_MD_CTX_free(ctx);

    return n;
}


static int
sig_verify(const compliance_jwt_key_t *key, int alg, const u_char *msg,
    const u_char *sig, size_t slen)
{
    return compliance_jwt_sig_verify(key, alg, msg, MSG_LEN, sig, slen);
}


/*
 * Every valid signature verifies whatever its shape: r or s with a
 * leading zero byte (the DER integer is shorter) or with the high bit
 * set (DER needs a 0x00 pad).  The high-s twin (r, n - s) is valid ECDSA
 * too: RFC 7518 does not ask for low s, so it is accepted, which is why
 * a token's signature bytes must never serve as its identity.
 */

static void
test_es256_shapes(void **state)
{
    int          n, lz_r, lz_s, hi_r, hi_s, edge;
    u_char       msg[MSG_LEN], rs[64], twin[64];
    BIGNUM      *s;
    fixture_t   *fx;

    fx = *state;
    lz_r = lz_s = hi_r = hi_s = 0;

    for (n = 0; n < ES_MAX_TRIES; n++) {
        if (lz_r && lz_s && hi_r && hi_s && n >= 32) {
            break;
        }

        assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
        es256_sign(fx->ec, msg, rs, NULL, NULL);

        edge = (rs[0] == 0 && !lz_r) || (rs[32] == 0 && !lz_s);

        lz_r |= rs[0] == 0;
        lz_s |= rs[32] == 0;
        hi_r |= rs[0] >= 0x80;
        hi_s |= rs[32] >= 0x80;

        if (sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, rs, 64)
            != COMPLIANCE_JWT_OK)
        {
            fail_msg("valid ES256 signature refused: r0=%02x s0=%02x",
                     rs[0], rs[32]);
        }

        /* the costlier checks on the first few and on each new shape */
        if (n >= 32 && !edge) {
            continue;
        }

        s = BN_bin2bn(rs + 32, 32, NULL);
        assert_non_null(s);
        assert_int_equal(BN_sub(s, fx->order, s), 1);
        memcpy(twin, rs, 32);
        assert_int_equal(BN_bn2binpad(s, twin + 32, 32), 32);
        BN_free(s);

        assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg,
                                    twin, 64),
                         COMPLIANCE_JWT_OK);

        /* one flipped bit in r, then in s */
        memcpy(twin, rs, 64);
        twin[0] ^= 1;
        assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg,
                                    twin, 64),
                         COMPLIANCE_JWT_BAD_SIGNATURE);

        twin[0] ^= 1;
        twin[63] ^= 0x80;
        assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg,
                                    twin, 64),
                         COMPLIANCE_JWT_BAD_SIGNATURE);
    }

    /* not a coverage gap: each shape is checked above when it appears */
    assert_true(lz_r);
    assert_true(lz_s);
    assert_true(hi_r);
    assert_true(hi_s);
    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_es256_out_of_range(void **state)
{
    u_char      msg[MSG_LEN], rs[64], bad[64], der[128];
    size_t      dlen;
    fixture_t  *fx;

    fx = *state;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    es256_sign(fx->ec, msg, rs, der, &dlen);

    /* r = n, s = 1 */
    memset(bad, 0, sizeof(bad));
    assert_int_equal(BN_bn2binpad(fx->order, bad, 32), 32);
    bad[63] = 1;
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, bad,
                                64),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    /* r valid, s = n */
    memcpy(bad, rs, 32);
    assert_int_equal(BN_bn2binpad(fx->order, bad + 32, 32), 32);
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, bad,
                                64),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    /* r = s = 2^256 - 1, above the order */
    memset(bad, 0xff, sizeof(bad));
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, bad,
                                64),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    /* r = s = 1: tiny integers, one-byte DER bodies */
    memset(bad, 0, sizeof(bad));
    bad[31] = 1;
    bad[63] = 1;
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, bad,
                                64),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    /* the right value in the wrong encoding or length */
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, rs,
                                63),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, der,
                                dlen),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES256, msg, rs,
                                64),
                     COMPLIANCE_JWT_OK);
    assert_int_equal(ERR_peek_error(), 0);
}


/* RFC 7518 3.5: the PSS salt is exactly as long as the hash. */

static void
test_ps256_salt(void **state)
{
    int          expect;
    u_char       msg[MSG_LEN], sig[512];
    size_t       i, n;
    fixture_t   *fx;

    static const int  salts[] = { 0, 20, 32, 64, RSA_PSS_SALTLEN_MAX };

    fx = *state;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);

    for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
        n = rsa_sign(fx->rsa, EVP_sha256(), 1, salts[i], msg, sig);

        expect = salts[i] == 32 ? COMPLIANCE_JWT_OK
                                : COMPLIANCE_JWT_BAD_SIGNATURE;

        if (sig_verify(fx->rsa_key, COMPLIANCE_JWT_PS256, msg, sig, n)
            != expect)
        {
            fail_msg("PS256 with a %d-byte salt: expected %s", salts[i],
                     compliance_jwt_reason(expect));
        }

        assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS256, msg,
                                    sig, n),
                         COMPLIANCE_JWT_BAD_SIGNATURE);
    }

    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_rsa_confusion(void **state)
{
    u_char      msg[MSG_LEN], sig[512], z[513];
    size_t      n;
    fixture_t  *fx;

    fx = *state;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    n = rsa_sign(fx->rsa, EVP_sha256(), 0, 0, msg, sig);
    assert_int_equal(n, 256);

    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS256, msg, sig,
                                n),
                     COMPLIANCE_JWT_OK);

    /* another padding, another hash */
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_PS256, msg, sig,
                                n),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS384, msg, sig,
                                n),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    /* empty, one byte short, and the same value with a 0x00 in front */
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS256, msg, sig,
                                0),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS256, msg,
                                sig + 1, n - 1),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    z[0] = 0;
    memcpy(z + 1, sig, n);
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_RS256, msg, z,
                                n + 1),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    assert_int_equal(ERR_peek_error(), 0);
}


static void
test_hmac(void **state)
{
    u_char      msg[MSG_LEN], mac[EVP_MAX_MD_SIZE];
    unsigned    n;
    fixture_t  *fx;

    fx = *state;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    assert_non_null(HMAC(EVP_sha256(), fx->hs, sizeof(fx->hs), msg, MSG_LEN,
                         mac, &n));
    assert_int_equal(n, 32);

    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_HS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_OK);

    /* a truncated tag is no tag */
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_HS256, msg, mac,
                                16),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_HS256, msg, mac,
                                n - 1),
                     COMPLIANCE_JWT_BAD_SIGNATURE);
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_HS256, msg, mac,
                                0),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    mac[n - 1] ^= 1;
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_HS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_BAD_SIGNATURE);

    assert_int_equal(ERR_peek_error(), 0);
}


/* A key serves only the algorithms of its type, whatever the bytes. */

static void
test_key_binding(void **state)
{
    u_char      msg[MSG_LEN], mac[EVP_MAX_MD_SIZE];
    unsigned    n;
    fixture_t  *fx;

    fx = *state;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    assert_non_null(HMAC(EVP_sha256(), fx->hs, sizeof(fx->hs), msg, MSG_LEN,
                         mac, &n));

    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_RS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_ES256, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->rsa_key, COMPLIANCE_JWT_HS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_HS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_ES384, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->ec_key, COMPLIANCE_JWT_RS256, msg, mac,
                                n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);

    /* out-of-range algorithm numbers */
    assert_int_equal(sig_verify(fx->hs_key, -1, msg, mac, n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->hs_key, COMPLIANCE_JWT_ALG_COUNT, msg,
                                mac, n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);
    assert_int_equal(sig_verify(fx->hs_key, 99, msg, mac, n),
                     COMPLIANCE_JWT_ALG_NOT_ALLOWED);

    assert_int_equal(ERR_peek_error(), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_es256_shapes),
        cmocka_unit_test(test_es256_out_of_range),
        cmocka_unit_test(test_ps256_salt),
        cmocka_unit_test(test_rsa_confusion),
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_key_binding),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
