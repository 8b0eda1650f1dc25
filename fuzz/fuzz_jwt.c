/*
 * libFuzzer harness for the JWT verifier (compliance_jwt_verify) and the
 * claim helpers behind it.
 *
 * Key set: an oct key with kid "hs", an oct key pinned to HS384 (same
 * secret), RSA 2048, EC P-256 and EC P-384 public keys.
 *
 * Three modes:
 *
 *   any input   a token as a client would send it;
 *   'S' h\n p   h and p are the raw header and payload JSON, signed here
 *               with HS256, so mutations reach claims, claim_str and
 *               scopes instead of dying at the signature;
 *   'J' text    a JSON text for the token reader alone, checked against
 *               jansson (json_oracle.h: accept/refuse, every member,
 *               claim_str, NumericDates, scopes, issuer and audience).
 *
 * Oracles (abort, so libFuzzer keeps the input):
 *   - every token that verifies is re-checked with OpenSSL directly and
 *     the private keys: an OK the oracle rejects is a fail-open;
 *   - the alg the verifier used is the header's alg as jansson reads it,
 *     and the key it chose allows that alg;
 *   - in 'S' mode both parts also go through the jansson oracle;
 *   - a refused token leaves no claims or key behind;
 *   - verify with and without an output gives the same result;
 *   - compliance_jwt_scopes() writes exactly the length it announced.
 * Everything else (over-reads, leaks, UB) is ASan/UBSan's job.
 */

#include <stdint.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"

#include "fuzz.h"
#include "json_oracle.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *fuzz_jwt_load_priv(const char *name);
static void fuzz_jwt_load_pub(const char *name);
static const EVP_MD *fuzz_jwt_md(int alg);
static int fuzz_jwt_oracle(int alg, const u_char *in, size_t len,
    const u_char *sig, size_t slen);
static int fuzz_jwt_oracle_ec(EVP_PKEY *pk, size_t coord, const EVP_MD *md,
    const u_char *in, size_t len, const u_char *sig, size_t slen);
static void fuzz_jwt_check_verified(const u_char *tok, size_t len,
    const compliance_jwt_t *jwt);
static void fuzz_jwt_claims(const compliance_jwt_t *jwt, const u_char *data,
    size_t size);
static void fuzz_jwt_scopes(const compliance_jwt_t *jwt, const char *claim);
static void fuzz_jwt_signed(const uint8_t *data, size_t size);
static void fuzz_jwt_oracle_json(const u_char *p, size_t len);


static const u_char  fuzz_jwt_secret[FUZZ_HS_LEN] = FUZZ_HS_SECRET;

static compliance_jwt_keyset_t  *fuzz_jwt_ks;
static EVP_PKEY                 *fuzz_jwt_rsa;
static EVP_PKEY                 *fuzz_jwt_ec256;
static EVP_PKEY                 *fuzz_jwt_ec384;
static volatile u_char           fuzz_jwt_sink;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char    jwk[256], err[256];
    u_char  b64[64];
    size_t  n;

    (void) argc;
    (void) argv;

    fuzz_jwt_ks = compliance_jwt_keyset_create();
    if (fuzz_jwt_ks == NULL) {
        abort();
    }

    n = compliance_b64url_encode(b64, fuzz_jwt_secret, FUZZ_HS_LEN);

    snprintf(jwk, sizeof(jwk),
             "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"%.*s\"},"
             "{\"kty\":\"oct\",\"k\":\"%.*s\",\"alg\":\"HS384\"}]}",
             (int) n, b64, (int) n, b64);

    if (compliance_jwt_keyset_load_mem(fuzz_jwt_ks, (u_char *) jwk,
                                       strlen(jwk), "jwk", err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }

    fuzz_jwt_load_pub("rsa.pub");
    fuzz_jwt_load_pub("ec256.pub");
    fuzz_jwt_load_pub("ec384.pub");

    fuzz_jwt_rsa = fuzz_jwt_load_priv("rsa.pem");
    fuzz_jwt_ec256 = fuzz_jwt_load_priv("ec256.pem");
    fuzz_jwt_ec384 = fuzz_jwt_load_priv("ec384.pem");

    return 0;
}


static EVP_PKEY *
fuzz_jwt_load_priv(const char *name)
{
    char       path[1024];
    FILE      *f;
    EVP_PKEY  *pk;

    fuzz_key_path(path, sizeof(path), name);

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "fuzz_jwt: cannot open %s (set %s)\n", path,
                FUZZ_KEYS_ENV);
        abort();
    }

    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);

    if (pk == NULL) {
        fprintf(stderr, "fuzz_jwt: no private key in %s\n", path);
        abort();
    }

    return pk;
}


static void
fuzz_jwt_load_pub(const char *name)
{
    char  path[1024], err[256];

    fuzz_key_path(path, sizeof(path), name);

    if (compliance_jwt_keyset_load(fuzz_jwt_ks, path, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "fuzz_jwt: %s (set %s)\n", err, FUZZ_KEYS_ENV);
        abort();
    }
}


/* HS256..ES384 cycle through SHA-256, -384, -512 in enum order */

static const EVP_MD *
fuzz_jwt_md(int alg)
{
    switch (alg % 3) {
    case 0:
        return EVP_sha256();
    case 1:
        return EVP_sha384();
    default:
        return EVP_sha512();
    }
}


/* An independent check with OpenSSL: 1 when sig really signs in. */

static int
fuzz_jwt_oracle(int alg, const u_char *in, size_t len, const u_char *sig,
    size_t slen)
{
    int            ok;
    u_char         mac[EVP_MAX_MD_SIZE];
    unsigned       mlen;
    EVP_MD_CTX    *ctx;
    const EVP_MD  *md;
    EVP_PKEY_CTX  *pctx;

    md = fuzz_jwt_md(alg);

    if (alg <= COMPLIANCE_JWT_HS512) {
        if (HMAC(md, fuzz_jwt_secret, FUZZ_HS_LEN, in, len, mac, &mlen)
            == NULL)
        {
            abort();
        }

        return slen == mlen && memcmp(mac, sig, mlen) == 0;
    }

    if (alg == COMPLIANCE_JWT_ES256) {
        return fuzz_jwt_oracle_ec(fuzz_jwt_ec256, 32, md, in, len, sig, slen);
    }

    if (alg == COMPLIANCE_JWT_ES384) {
        return fuzz_jwt_oracle_ec(fuzz_jwt_ec384, 48, md, in, len, sig, slen);
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL
        || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, fuzz_jwt_rsa) != 1)
    {
        abort();
    }

    if (alg >= COMPLIANCE_JWT_PS256
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
    {
        abort();
    }

    ok = EVP_DigestVerify(ctx, sig, slen, in, len) == 1;
    EVP_MD_CTX_free(ctx);

    return ok;
}


/* JWS ECDSA is r||s of coord bytes each; OpenSSL wants DER. */

static int
fuzz_jwt_oracle_ec(EVP_PKEY *pk, size_t coord, const EVP_MD *md,
    const u_char *in, size_t len, const u_char *sig, size_t slen)
{
    int          ok, dlen;
    u_char       der[160], *p;
    BIGNUM      *r, *s;
    ECDSA_SIG   *es;
    EVP_MD_CTX  *ctx;

    if (slen != 2 * coord) {
        return 0;
    }

    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int) coord, NULL);
    s = BN_bin2bn(sig + coord, (int) coord, NULL);

    if (es == NULL || r == NULL || s == NULL
        || ECDSA_SIG_set0(es, r, s) != 1)
    {
        abort();
    }

    p = der;
    dlen = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);

    if (dlen <= 0 || (size_t) dlen > sizeof(der)) {
        abort();
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1) {
        abort();
    }

    ok = EVP_DigestVerify(ctx, der, (size_t) dlen, in, len) == 1;
    EVP_MD_CTX_free(ctx);

    return ok;
}


static void
fuzz_jwt_check_verified(const u_char *tok, size_t len,
    const compliance_jwt_t *jwt)
{
    u_char         sig[COMPLIANCE_JWT_MAX_TOKEN];
    u_char         hdr[COMPLIANCE_JWT_MAX_TOKEN];
    size_t         slen, hlen;
    json_t        *h, *a;
    const u_char  *dot, *dot1;

    if (jwt->claims.text == NULL || jwt->key == NULL) {
        fprintf(stderr, "fuzz_jwt: OK without claims or key\n");
        abort();
    }

    dot = tok + len;

    while (dot > tok && dot[-1] != '.') {
        dot--;
    }

    if (dot == tok
        || (size_t) (tok + len - dot) > compliance_b64url_encoded_len(
                                            sizeof(sig))
        || compliance_b64url_decode(sig, &slen, dot,
                                    (size_t) (tok + len - dot)) != 0)
    {
        fprintf(stderr, "fuzz_jwt: OK for a token without a signature\n");
        abort();
    }

    /* the header as jansson reads it, independently of the reader */
    h = NULL;
    dot1 = memchr(tok, '.', len);

    if (dot1
        && compliance_b64url_decode(hdr, &hlen, tok, (size_t) (dot1 - tok))
           == 0)
    {
        h = json_loadb((const char *) hdr, hlen, JSON_REJECT_DUPLICATES,
                       NULL);
    }

    a = json_object_get(h, "alg");

    if (!json_is_string(a)
        || compliance_jwt_alg_parse((const u_char *) json_string_value(a),
                                    json_string_length(a)) != jwt->alg)
    {
        fprintf(stderr, "FAIL-OPEN: header alg differs from verified alg\n");
        abort();
    }

    json_decref(h);

    if (!(compliance_jwt_key_algs(jwt->key)
          & COMPLIANCE_JWT_ALG_BIT(jwt->alg)))
    {
        fprintf(stderr, "FAIL-OPEN: key used for an alg it does not allow\n");
        abort();
    }

    if (!fuzz_jwt_oracle(jwt->alg, tok, (size_t) (dot - 1 - tok), sig,
                         slen))
    {
        fprintf(stderr, "FAIL-OPEN: verify OK but OpenSSL rejects (%s)\n",
                compliance_jwt_alg_name(jwt->alg));
        abort();
    }
}


static void
fuzz_jwt_claims(const compliance_jwt_t *jwt, const u_char *data,
    size_t size)
{
    size_t                    i, k, n;
    u_char                    nb[COMPLIANCE_JWT_NUM_BUF];
    const u_char             *p;
    compliance_jwt_policy_t   pol;

    static const compliance_jwt_str_t  iss[] = {
        { 4, (const u_char *) "iss1" }
    };
    static const compliance_jwt_str_t  aud[] = {
        { 4, (const u_char *) "aud1" },
        { 4, (const u_char *) "aud2" }
    };
    static const char  *names[] = {
        "sub", "exp", "iat", "scope", "x", "n", "b", "f"
    };
    static const long long  nows[] = {
        0, 1700000000LL, -1, 1LL << 62, -(1LL << 62),
        9223372036854775807LL, -9223372036854775807LL - 1
    };

    /* the input's first bytes choose the policy */
    memset(&pol, 0, sizeof(pol));
    pol.issuers = iss;
    pol.nissuers = (size > 0 && (data[0] & 1)) ? 1 : 0;
    pol.audiences = aud;
    pol.naudiences = (size > 0 && (data[0] & 2)) ? 2 : 0;
    pol.leeway = (size > 1) ? (long long) (data[1] & 0x7f) << 56 : 60;
    pol.max_lifetime = (size > 2 && (data[2] & 1)) ? 3600 : 0;

    for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
        (void) compliance_jwt_check_claims(jwt, &pol, nows[i]);
        (void) compliance_jwt_check_claims(jwt, NULL, nows[i]);
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (compliance_jwt_claim_str(jwt, names[i], nb, sizeof(nb), &p, &n)
            != 0)
        {
            continue;
        }

        if (p >= nb && p < nb + sizeof(nb) && p + n > nb + sizeof(nb)) {
            fprintf(stderr, "fuzz_jwt: claim \"%s\" overflows buf\n",
                    names[i]);
            abort();
        }

        /* read every byte: ASan checks the whole span */
        for (k = 0; k < n; k++) {
            fuzz_jwt_sink ^= p[k];
        }
    }

    fuzz_jwt_scopes(jwt, NULL);
    fuzz_jwt_scopes(jwt, "scp");
}


static void
fuzz_jwt_scopes(const compliance_jwt_t *jwt, const char *claim)
{
    size_t   i, need, n;
    u_char   c, *buf;

    need = compliance_jwt_scopes(jwt, claim, NULL, 0);

    /* exact size, so a write past need is an ASan report */
    buf = malloc(need ? need : 1);
    if (buf == NULL) {
        abort();
    }

    n = compliance_jwt_scopes(jwt, claim, buf, need);

    if (n != need) {
        fprintf(stderr, "fuzz_jwt: scopes announced %zu, wrote %zu\n", need,
                n);
        abort();
    }

    /* RFC 6749 scope-tokens (%x21 / %x23-5B / %x5D-7E), one space apart */
    for (i = 0; i < n; i++) {
        c = buf[i];

        if (c == ' ') {
            if (i == 0 || i == n - 1 || buf[i - 1] == ' ') {
                fprintf(stderr, "fuzz_jwt: empty scope token\n");
                abort();
            }

            continue;
        }

        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            fprintf(stderr, "fuzz_jwt: scope byte 0x%02x kept\n", c);
            abort();
        }
    }

    free(buf);
}


/* 'S' mode: data is header '\n' payload, signed here with HS256 */

static void
fuzz_jwt_signed(const uint8_t *data, size_t size)
{
    int                rc;
    u_char            *tok, *t, mac[EVP_MAX_MD_SIZE];
    size_t             hlen, plen, tlen;
    unsigned           mlen;
    const uint8_t     *nl;
    compliance_jwt_t   jwt;

    nl = memchr(data, '\n', size);
    if (nl == NULL) {
        return;
    }

    hlen = (size_t) (nl - data);
    plen = size - hlen - 1;

    tok = malloc(compliance_b64url_encoded_len(hlen)
                 + compliance_b64url_encoded_len(plen)
                 + compliance_b64url_encoded_len(EVP_MAX_MD_SIZE) + 2);
    if (tok == NULL) {
        abort();
    }

    t = tok;
    t += compliance_b64url_encode(t, data, hlen);
    *t++ = '.';
    t += compliance_b64url_encode(t, nl + 1, plen);

    if (HMAC(EVP_sha256(), fuzz_jwt_secret, FUZZ_HS_LEN, tok,
             (size_t) (t - tok), mac, &mlen) == NULL)
    {
        abort();
    }

    *t++ = '.';
    t += compliance_b64url_encode(t, mac, mlen);
    tlen = (size_t) (t - tok);

    fuzz_jwt_oracle_json(data, hlen);
    fuzz_jwt_oracle_json(nl + 1, plen);

    rc = compliance_jwt_verify(fuzz_jwt_ks, COMPLIANCE_JWT_ALG_ALL, tok, tlen,
                               &jwt);

    if (rc == COMPLIANCE_JWT_OK) {
        fuzz_jwt_check_verified(tok, tlen, &jwt);
        fuzz_jwt_claims(&jwt, nl + 1, plen);

    } else if (jwt.claims.text || jwt.key) {
        fprintf(stderr, "fuzz_jwt: refused token left state behind\n");
        abort();
    }

    /* release must be idempotent */
    compliance_jwt_release(&jwt);
    compliance_jwt_release(&jwt);

    free(tok);
}


/* 'J' mode, and both parts of 'S' mode: the reader against jansson */

static void
fuzz_jwt_oracle_json(const u_char *p, size_t len)
{
    const char  *why;

    why = json_oracle_check(p, len);

    if (why) {
        fprintf(stderr, "fuzz_jwt: JSON reader and jansson disagree: %s\n",
                why);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                rc;
    u_char            *tok;
    compliance_jwt_t   jwt;

    if (size > 0 && data[0] == 'S') {
        fuzz_jwt_signed(data + 1, size - 1);
        return 0;
    }

    if (size > 0 && data[0] == 'J') {
        fuzz_jwt_oracle_json(data + 1, size - 1);
        return 0;
    }

    /* an exact-size copy, so ASan sees any over-read */
    tok = malloc(size ? size : 1);
    if (tok == NULL) {
        abort();
    }

    memcpy(tok, data, size);

    rc = compliance_jwt_verify(fuzz_jwt_ks, COMPLIANCE_JWT_ALG_ALL, tok, size,
                               &jwt);

    if (rc == COMPLIANCE_JWT_OK) {
        fuzz_jwt_check_verified(tok, size, &jwt);
        fuzz_jwt_claims(&jwt, data, size);

    } else if (jwt.claims.text || jwt.key) {
        fprintf(stderr, "fuzz_jwt: refused token left state behind\n");
        abort();
    }

    compliance_jwt_release(&jwt);

    if (compliance_jwt_verify(fuzz_jwt_ks, COMPLIANCE_JWT_ALG_ALL, tok, size,
                              NULL)
        != rc)
    {
        fprintf(stderr, "fuzz_jwt: verify without output disagrees\n");
        abort();
    }

    free(tok);

    return 0;
}
