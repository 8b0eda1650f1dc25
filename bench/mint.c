/*
 * bench-mint: JWTs and JWKs for the benchmark (bench/run), made with
 * OpenSSL alone so that minting thousands of RS256 tokens takes seconds.
 * Nothing here is linked into the module.
 *
 *   bench-mint jwk --pub PEM --kid KID --alg ALG
 *       one JWK (RSA or EC P-256 public key) on stdout
 *   bench-mint tokens --alg RS256|ES256|HS256 --key FILE --kid KID
 *       --iss ISS --aud AUD --exp EPOCH [--first I] [--count N]
 *       N tokens, one a line; token i has sub "bench-<i>" and jti "<i>".
 *       FILE is a private key PEM, or the raw secret for HS256.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>


#define BENCH_MINT_MAX  4096


typedef struct {
    const char  *alg;
    const char  *key;
    const char  *pub;
    const char  *kid;
    const char  *iss;
    const char  *aud;
    long long    exp;
    long         first;
    long         count;
} bench_mint_opts_t;


static void bench_mint_usage(void);
static int bench_mint_parse(int argc, char **argv, bench_mint_opts_t *o);
static size_t bench_mint_b64url(char *dst, const unsigned char *src,
    size_t len);
static int bench_mint_bn(char *dst, size_t size, EVP_PKEY *pkey,
    const char *name, int pad);
static int bench_mint_jwk(bench_mint_opts_t *o);
static int bench_mint_tokens(bench_mint_opts_t *o);
static int bench_mint_sign(bench_mint_opts_t *o, EVP_PKEY *pkey,
    const unsigned char *secret, size_t slen, const char *in, size_t len,
    unsigned char *sig, size_t *siglen);


int
main(int argc, char **argv)
{
    bench_mint_opts_t  o;

    if (argc < 2 || bench_mint_parse(argc - 2, argv + 2, &o) != 0) {
        bench_mint_usage();
        return 2;
    }

    if (strcmp(argv[1], "jwk") == 0 && o.pub && o.kid && o.alg) {
        return bench_mint_jwk(&o);
    }

    if (strcmp(argv[1], "tokens") == 0 && o.alg && o.key && o.kid
        && o.iss && o.aud && o.exp > 0 && o.count > 0)
    {
        return bench_mint_tokens(&o);
    }

    bench_mint_usage();

    return 2;
}


static void
bench_mint_usage(void)
{
    fprintf(stderr,
        "usage: bench-mint jwk --pub PEM --kid KID --alg ALG\n"
        "       bench-mint tokens --alg RS256|ES256|HS256 --key FILE "
        "--kid KID\n"
        "           --iss ISS --aud AUD --exp EPOCH [--first I] "
        "[--count N]\n");
}


static int
bench_mint_parse(int argc, char **argv, bench_mint_opts_t *o)
{
    int  i;

    memset(o, 0, sizeof(bench_mint_opts_t));
    o->count = 1;

    for (i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--alg") == 0) {
            o->alg = argv[i + 1];

        } else if (strcmp(argv[i], "--key") == 0) {
            o->key = argv[i + 1];

        } else if (strcmp(argv[i], "--pub") == 0) {
            o->pub = argv[i + 1];

        } else if (strcmp(argv[i], "--kid") == 0) {
            o->kid = argv[i + 1];

        } else if (strcmp(argv[i], "--iss") == 0) {
            o->iss = argv[i + 1];

        } else if (strcmp(argv[i], "--aud") == 0) {
            o->aud = argv[i + 1];

        } else if (strcmp(argv[i], "--exp") == 0) {
            o->exp = atoll(argv[i + 1]);

        } else if (strcmp(argv[i], "--first") == 0) {
            o->first = atol(argv[i + 1]);

        } else if (strcmp(argv[i], "--count") == 0) {
            o->count = atol(argv[i + 1]);

        } else {
            return -1;
        }
    }

    return i == argc ? 0 : -1;
}


static size_t
bench_mint_b64url(char *dst, const unsigned char *src, size_t len)
{
    static const char  tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t             i, n;
    unsigned long      v;

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (unsigned long) src[i] << 16 | src[i + 1] << 8 | src[i + 2];
        dst[n++] = tab[v >> 18 & 63];
        dst[n++] = tab[v >> 12 & 63];
        dst[n++] = tab[v >> 6 & 63];
        dst[n++] = tab[v & 63];
    }

    if (len - i == 1) {
        v = (unsigned long) src[i] << 16;
        dst[n++] = tab[v >> 18 & 63];
        dst[n++] = tab[v >> 12 & 63];

    } else if (len - i == 2) {
        v = (unsigned long) src[i] << 16 | src[i + 1] << 8;
        dst[n++] = tab[v >> 18 & 63];
        dst[n++] = tab[v >> 12 & 63];
        dst[n++] = tab[v >> 6 & 63];
    }

    dst[n] = '\0';

    return n;
}


/* a key parameter as base64url, left-padded to "pad" bytes when pad > 0 */
static int
bench_mint_bn(char *dst, size_t size, EVP_PKEY *pkey, const char *name,
    int pad)
{
    int             n;
    BIGNUM         *bn;
    unsigned char   buf[1024];

    bn = NULL;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
        return -1;
    }

    n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);

    if (n <= 0 || (size_t) n * 4 / 3 + 4 > size) {
        return -1;
    }

    bench_mint_b64url(dst, buf, n);

    return 0;
}


static int
bench_mint_jwk(bench_mint_opts_t *o)
{
    FILE      *f;
    char       a[1400], b[1400];
    EVP_PKEY  *pkey;

    f = fopen(o->pub, "r");
    if (f == NULL) {
        perror(o->pub);
        return 1;
    }

    pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);

    if (pkey == NULL) {
        fprintf(stderr, "%s: not a PEM public key\n", o->pub);
        return 1;
    }

    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (bench_mint_bn(a, sizeof(a), pkey, OSSL_PKEY_PARAM_RSA_N, 0)
            || bench_mint_bn(b, sizeof(b), pkey, OSSL_PKEY_PARAM_RSA_E, 0))
        {
            goto failed;
        }

        printf("{\"kty\":\"RSA\",\"kid\":\"%s\",\"alg\":\"%s\","
               "\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}\n",
               o->kid, o->alg, a, b);

    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        if (bench_mint_bn(a, sizeof(a), pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32)
            || bench_mint_bn(b, sizeof(b), pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                             32))
        {
            goto failed;
        }

        printf("{\"kty\":\"EC\",\"kid\":\"%s\",\"alg\":\"%s\","
               "\"use\":\"sig\",\"crv\":\"P-256\",\"x\":\"%s\","
               "\"y\":\"%s\"}\n", o->kid, o->alg, a, b);

    } else {
        goto failed;
    }

    EVP_PKEY_free(pkey);

    return 0;

failed:

    fprintf(stderr, "%s: unsupported public key\n", o->pub);
    EVP_PKEY_free(pkey);

    return 1;
}


static int
bench_mint_tokens(bench_mint_opts_t *o)
{
    int             hs;
    FILE           *f;
    long            i;
    char            hdr[256], pay[512], in[BENCH_MINT_MAX];
    char            out[BENCH_MINT_MAX];
    size_t          n, len, slen, siglen;
    EVP_PKEY       *pkey;
    unsigned char   secret[256], sig[1024];

    hs = strcmp(o->alg, "HS256") == 0;
    pkey = NULL;
    slen = 0;

    f = fopen(o->key, "r");
    if (f == NULL) {
        perror(o->key);
        return 1;
    }

    if (hs) {
        slen = fread(secret, 1, sizeof(secret), f);

    } else {
        pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    }

    fclose(f);

    if (hs ? slen < 32 : pkey == NULL) {
        fprintf(stderr, "%s: unusable key for %s\n", o->key, o->alg);
        return 1;
    }

    n = snprintf(hdr, sizeof(hdr),
                 "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
                 o->alg, o->kid);
    len = bench_mint_b64url(in, (unsigned char *) hdr, n);
    in[len++] = '.';

    for (i = o->first; i < o->first + o->count; i++) {
        n = snprintf(pay, sizeof(pay),
                     "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"bench-%ld\","
                     "\"org_id\":\"bench-org\",\"scope\":\"orders:read "
                     "orders:write\",\"iat\":%lld,\"exp\":%lld,"
                     "\"jti\":\"%08ld\"}",
                     o->iss, o->aud, i, (long long) time(NULL), o->exp, i);

        if (n >= sizeof(pay)) {
            fprintf(stderr, "claims too long\n");
            return 1;
        }

        n = len + bench_mint_b64url(in + len, (unsigned char *) pay, n);

        siglen = sizeof(sig);

        if (bench_mint_sign(o, pkey, secret, slen, in, n, sig, &siglen)
            != 0)
        {
            fprintf(stderr, "signing with %s failed\n", o->alg);
            return 1;
        }

        bench_mint_b64url(out, sig, siglen);
        printf("%.*s.%s\n", (int) n, in, out);
    }

    EVP_PKEY_free(pkey);

    return fflush(stdout) == 0 ? 0 : 1;
}


static int
bench_mint_sign(bench_mint_opts_t *o, EVP_PKEY *pkey,
    const unsigned char *secret, size_t slen, const char *in, size_t len,
    unsigned char *sig, size_t *siglen)
{
    int                   rc, half;
    size_t                der_len;
    EVP_MD_CTX           *md;
    ECDSA_SIG            *es;
    unsigned int          hlen;
    const BIGNUM         *r, *s;
    unsigned char         der[256];
    const unsigned char  *p;

    if (strcmp(o->alg, "HS256") == 0) {
        hlen = 0;

        if (HMAC(EVP_sha256(), secret, (int) slen, (unsigned char *) in, len,
                 sig, &hlen) == NULL)
        {
            return -1;
        }

        *siglen = hlen;
        return 0;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    der_len = sizeof(der);

    rc = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
         && EVP_DigestSign(md, strcmp(o->alg, "ES256") == 0 ? der : sig,
                           strcmp(o->alg, "ES256") == 0 ? &der_len : siglen,
                           (unsigned char *) in, len) == 1;

    EVP_MD_CTX_free(md);

    if (!rc) {
        return -1;
    }

    if (strcmp(o->alg, "ES256") != 0) {
        return 0;
    }

    /* JWS wants r || s, 32 bytes each, not DER */
    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) der_len);
    if (es == NULL) {
        return -1;
    }

    ECDSA_SIG_get0(es, &r, &s);
    half = 32;

    rc = BN_bn2binpad(r, sig, half) == half
         && BN_bn2binpad(s, sig + half, half) == half;

    ECDSA_SIG_free(es);

    if (!rc) {
        return -1;
    }

    *siglen = 2 * half;

    return 0;
}
