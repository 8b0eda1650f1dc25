/*
 * bench-verify: the JWT cache-miss path of core/ alone, for profiling and
 * for before/after comparisons (bench/notes.md).  N distinct HS256 and N
 * distinct RS256 tokens (keys made in-process) each go once through what
 * a request on a cache miss does: compliance_jwt_verify(), the claim
 * checks with an issuer and audience policy, the principal and org
 * claims and the scopes.  Then the signature checks alone over the same
 * tokens, and OpenSSL's RSA-2048 verify of a digest for reference.
 * Only the public API of core/ is used, so the same source builds
 * against older trees.  Nothing here is linked into the module.
 *
 *   bench-verify [-n tokens] [-r rounds] [-a HS256|RS256]
 *
 * (defaults 20000 tokens, 5 rounds, both algorithms; RS256 runs a tenth
 * of the tokens).  Prints the best round of each measurement, in
 * microseconds per token; -a runs one algorithm's full path only, for a
 * profiler.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


#define BENCH_SECRET      "0123456789abcdef0123456789abcdef"
#define BENCH_SECRET_LEN  32


typedef struct {
    char    *tok;
    size_t   len;
    size_t   ilen;      /* the signing input: up to the second dot */
    u_char   sig[512];
    size_t   slen;
} bench_token_t;


static double bench_now(void);
static bench_token_t *bench_mint(EVP_PKEY *pk, int alg, long n);
static double bench_full(const compliance_jwt_keyset_t *ks,
    bench_token_t *t, long n, compliance_jwt_t *jwt);
static double bench_sig(const compliance_jwt_key_t *key, int alg,
    bench_token_t *t, long n);
static double bench_rsa(EVP_PKEY *pk, long n);


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static bench_token_t *
bench_mint(EVP_PKEY *pk, int alg, long n)
{
    char           hdr[64], payload[512];
    long           i;
    size_t         k;
    unsigned       mlen;
    EVP_MD_CTX    *ctx;
    bench_token_t *t;

    t = calloc((size_t) n, sizeof(bench_token_t));
    if (t == NULL) {
        abort();
    }

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"%s}",
             compliance_jwt_alg_name(alg),
             alg == COMPLIANCE_JWT_HS256 ? ",\"kid\":\"hs\"" : "");

    for (i = 0; i < n; i++) {
        snprintf(payload, sizeof(payload),
                 "{\"sub\":\"bench-%ld\",\"jti\":\"%ld\","
                 "\"iss\":\"https://idp.example.com/\","
                 "\"aud\":[\"api\",\"admin\"],\"exp\":4102444800,"
                 "\"iat\":1700000000,\"org_id\":\"acme\","
                 "\"scope\":\"read write\"}", i, i);

        t[i].tok = malloc(1024);
        if (t[i].tok == NULL) {
            abort();
        }

        k = compliance_b64url_encode((u_char *) t[i].tok, (u_char *) hdr,
                                     strlen(hdr));
        t[i].tok[k++] = '.';
        k += compliance_b64url_encode((u_char *) t[i].tok + k,
                                      (u_char *) payload, strlen(payload));
        t[i].ilen = k;

        if (alg == COMPLIANCE_JWT_HS256) {
            if (HMAC(EVP_sha256(), BENCH_SECRET, BENCH_SECRET_LEN,
                     (u_char *) t[i].tok, k, t[i].sig, &mlen) == NULL)
            {
                abort();
            }

            t[i].slen = mlen;

        } else {
            ctx = EVP_MD_CTX_new();
            t[i].slen = sizeof(t[i].sig);

            if (ctx == NULL
                || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1
                || EVP_DigestSign(ctx, t[i].sig, &t[i].slen,
                                  (u_char *) t[i].tok, k) != 1)
            {
                abort();
            }

            EVP_MD_CTX_free(ctx);
        }

        t[i].tok[k++] = '.';
        k += compliance_b64url_encode((u_char *) t[i].tok + k, t[i].sig,
                                      t[i].slen);
        t[i].tok[k] = '\0';
        t[i].len = k;
    }

    return t;
}


/* what a request pays on a cache miss, token by token */
static double
bench_full(const compliance_jwt_keyset_t *ks, bench_token_t *t, long n,
    compliance_jwt_t *jwt)
{
    long                     i;
    u_char                   num[COMPLIANCE_JWT_NUM_BUF], scopes[64];
    size_t                   len, k;
    double                   t0;
    const u_char            *p;
    compliance_jwt_str_t     iss, aud;
    compliance_jwt_policy_t  pol;

    iss.data = (const u_char *) "https://idp.example.com/";
    iss.len = strlen((const char *) iss.data);
    aud.data = (const u_char *) "admin";
    aud.len = 5;

    memset(&pol, 0, sizeof(pol));
    pol.issuers = &iss;
    pol.nissuers = 1;
    pol.audiences = &aud;
    pol.naudiences = 1;

    t0 = bench_now();

    for (i = 0; i < n; i++) {
        if (compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                  (u_char *) t[i].tok, t[i].len, jwt)
            != COMPLIANCE_JWT_OK
            || compliance_jwt_check_claims(jwt, &pol, 1700000100)
               != COMPLIANCE_JWT_OK
            || compliance_jwt_claim_str(jwt, "sub", num, sizeof(num), &p,
                                        &len) != 0
            || compliance_jwt_claim_str(jwt, "org_id", num, sizeof(num), &p,
                                        &len) != 0)
        {
            fprintf(stderr, "bench-verify: token %ld refused\n", i);
            exit(1);
        }

        k = compliance_jwt_scopes(jwt, "scope", NULL, 0);

        if (k > sizeof(scopes)
            || compliance_jwt_scopes(jwt, "scope", scopes, k) != k)
        {
            exit(1);
        }

        compliance_jwt_release(jwt);
    }

    return (bench_now() - t0) / n;
}


static double
bench_sig(const compliance_jwt_key_t *key, int alg, bench_token_t *t,
    long n)
{
    long    i;
    double  t0;

    t0 = bench_now();

    for (i = 0; i < n; i++) {
        if (compliance_jwt_sig_verify(key, alg, (u_char *) t[i].tok,
                                      t[i].ilen, t[i].sig, t[i].slen)
            != COMPLIANCE_JWT_OK)
        {
            exit(1);
        }
    }

    return (bench_now() - t0) / n;
}


/* OpenSSL's own operation, as "openssl speed rsa2048" verifies */
static double
bench_rsa(EVP_PKEY *pk, long n)
{
    long           i;
    u_char         md[32], sig[512];
    size_t         slen;
    double         t0;
    EVP_PKEY_CTX  *ctx;

    SHA256((const u_char *) "x", 1, md);

    ctx = EVP_PKEY_CTX_new(pk, NULL);
    slen = sizeof(sig);

    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1
        || EVP_PKEY_sign(ctx, sig, &slen, md, sizeof(md)) != 1
        || EVP_PKEY_verify_init(ctx) != 1
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
    {
        abort();
    }

    t0 = bench_now();

    for (i = 0; i < n; i++) {
        if (EVP_PKEY_verify(ctx, sig, slen, md, sizeof(md)) != 1) {
            abort();
        }
    }

    t0 = (bench_now() - t0) / n;
    EVP_PKEY_CTX_free(ctx);

    return t0;
}


int
main(int argc, char **argv)
{
    int                          c, r, rounds, k, only, algs[2];
    long                         n;
    char                         jwk[256], err[256], *pem;
    BIO                         *bio;
    u_char                       b64[64];
    size_t                       i, len;
    double                       full[2], sig[2], raw, v;
    EVP_PKEY                    *rsa;
    bench_token_t               *t[2];
    compliance_jwt_t            *jwt;
    compliance_jwt_keyset_t     *ks;
    const compliance_jwt_key_t  *key[2];

    n = 20000;
    rounds = 5;
    only = -1;

    while ((c = getopt(argc, argv, "n:r:a:")) != -1) {
        switch (c) {
        case 'a':
            only = compliance_jwt_alg_parse((u_char *) optarg,
                                            strlen(optarg));
            if (only != COMPLIANCE_JWT_HS256 && only != COMPLIANCE_JWT_RS256)
            {
                fprintf(stderr, "bench-verify: -a HS256 or RS256\n");
                return 2;
            }
            break;
        case 'n':
            n = atol(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: bench-verify [-n tokens] [-r rounds] "
                    "[-a HS256|RS256]\n");
            return 2;
        }
    }

    if (n < 1 || rounds < 1) {
        return 2;
    }

    ks = compliance_jwt_keyset_create();
    rsa = EVP_RSA_gen(2048);
    jwt = malloc(sizeof(compliance_jwt_t));
    bio = BIO_new(BIO_s_mem());

    if (ks == NULL || rsa == NULL || jwt == NULL || bio == NULL
        || PEM_write_bio_PUBKEY(bio, rsa) != 1)
    {
        return 1;
    }

    len = compliance_b64url_encode(b64, (const u_char *) BENCH_SECRET,
                                   BENCH_SECRET_LEN);
    snprintf(jwk, sizeof(jwk),
             "{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"%.*s\"}", (int) len,
             b64);

    len = (size_t) BIO_get_mem_data(bio, &pem);

    if (compliance_jwt_keyset_load_mem(ks, (u_char *) jwk, strlen(jwk),
                                       "oct", err, sizeof(err)) != 0
        || compliance_jwt_keyset_load_mem(ks, (u_char *) pem, len, "rsa",
                                          err, sizeof(err)) != 0)
    {
        fprintf(stderr, "bench-verify: %s\n", err);
        return 1;
    }

    BIO_free(bio);

    algs[0] = COMPLIANCE_JWT_HS256;
    algs[1] = COMPLIANCE_JWT_RS256;
    key[0] = NULL;
    key[1] = NULL;

    for (i = 0; i < compliance_jwt_keyset_count(ks); i++) {
        k = compliance_jwt_key_type(compliance_jwt_keyset_key(ks, i))
            == COMPLIANCE_JWT_KTY_OCT ? 0 : 1;
        key[k] = compliance_jwt_keyset_key(ks, i);
    }

    for (k = 0; k < 2; k++) {
        t[k] = (only < 0 || only == algs[k]) ? bench_mint(rsa, algs[k], n)
                                             : NULL;
        full[k] = 1e30;
        sig[k] = 1e30;
    }

    raw = 1e30;

    if (only >= 0) {
        k = (only == COMPLIANCE_JWT_HS256) ? 0 : 1;

        for (r = 0; r < rounds; r++) {
            v = bench_full(ks, t[k], n, jwt);
            full[k] = v < full[k] ? v : full[k];
        }

        printf("%s: %ld distinct tokens: %.2f us a token\n",
               compliance_jwt_alg_name(algs[k]), n, full[k]);

        return 0;
    }

    /* rounds interleave the measurements, so a busy moment hits all */
    for (r = 0; r < rounds; r++) {
        for (k = 0; k < 2; k++) {
            v = bench_full(ks, t[k], k ? n / 10 + 1 : n, jwt);
            full[k] = v < full[k] ? v : full[k];

            v = bench_sig(key[k], algs[k], t[k], k ? n / 10 + 1 : n);
            sig[k] = v < sig[k] ? v : sig[k];
        }

        v = bench_rsa(rsa, n / 10 + 1);
        raw = v < raw ? v : raw;
    }

    for (k = 0; k < 2; k++) {
        printf("%s: %ld distinct %zu-byte tokens: %.2f us a token "
               "(signature %.2f, the rest %.2f)\n",
               compliance_jwt_alg_name(algs[k]), k ? n / 10 + 1 : n,
               t[k][0].len, full[k], sig[k], full[k] - sig[k]);
    }

    printf("RSA-2048 EVP_PKEY_verify of a digest (OpenSSL alone): %.2f us\n",
           raw);

    return 0;
}
