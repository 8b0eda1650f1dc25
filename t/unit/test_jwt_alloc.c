/*
 * The JWT path allocates nothing of its own: compliance_jwt_verify(),
 * the claim checks and every claim read of an HS256 and an RS256 token
 * are run with malloc, calloc and realloc counted.  This program
 * interposes the three (forwarding to glibc's __libc_* entry points),
 * so every allocation of the process is seen, the C library's and
 * jansson's included; OpenSSL's own are told apart through
 * CRYPTO_set_mem_functions() and reported, not charged to us.
 *
 * Under AddressSanitizer (which owns malloc) the test is skipped.
 */

#include "unit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_COUNTED  0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_COUNTED  0
#endif
#endif

#ifndef ALLOC_COUNTED
#define ALLOC_COUNTED  1
#endif


#define SECRET      "0123456789abcdef0123456789abcdef"
#define SECRET_LEN  32
#define ROUNDS      200


typedef struct {
    unsigned long  all;        /* every malloc, calloc, realloc */
    unsigned long  openssl;    /* of which OpenSSL's own */
} counts_t;


/*
 * volatile: the compiler takes malloc() for the C library's, which
 * touches no variable of ours, and would fold the counts away
 */
typedef struct {
    volatile unsigned long  all;
    volatile unsigned long  openssl;
} counter_t;


static void *count_malloc(size_t n, const char *file, int line);
static void *count_realloc(void *p, size_t n, const char *file, int line);
static void count_free(void *p, const char *file, int line);
static char *mint(EVP_PKEY *rsa, int alg, const char *header,
    const char *payload);
static void run(const char *token, counts_t *c);
static void test_hs256(void **state);
static void test_rs256(void **state);
static void test_refusals(void **state);


static volatile int              counting;
static counter_t                 counted;
static compliance_jwt_keyset_t  *ks;
static EVP_PKEY                 *rsa;
static compliance_jwt_t         *jwt;

static const char  *payload =
    "{\"sub\":\"user-1234567890\",\"iss\":\"https:\\/\\/idp.example.com/\","
    "\"aud\":[\"other\",\"api\"],\"exp\":4102444800,\"iat\":1700000000,"
    "\"nbf\":1600000000.5,\"org_id\":42,\"ratio\":0.25,"
    "\"scope\":\"read write a\\\"b\",\"scp\":[\"x\",\"y\\/z\"]}";


#if ALLOC_COUNTED

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);


void *
malloc(size_t n)
{
    counted.all += counting;

    return __libc_malloc(n);
}


void *
calloc(size_t n, size_t size)
{
    counted.all += counting;

    return __libc_calloc(n, size);
}


void *
realloc(void *p, size_t n)
{
    counted.all += counting;

    return __libc_realloc(p, n);
}


void
free(void *p)
{
    __libc_free(p);
}

#endif


static void *
count_malloc(size_t n, const char *file, int line)
{
    (void) file;
    (void) line;

    counted.openssl += counting;

    return malloc(n);
}


static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
    (void) file;
    (void) line;

    counted.openssl += counting;

    return realloc(p, n);
}


static void
count_free(void *p, const char *file, int line)
{
    (void) file;
    (void) line;

    free(p);
}


static char *
mint(EVP_PKEY *pk, int alg, const char *header, const char *body)
{
    char          *t;
    u_char         sig[512];
    size_t         n, slen;
    unsigned       mlen;
    EVP_MD_CTX    *ctx;

    t = malloc(4096);
    assert_non_null(t);

    n = compliance_b64url_encode((u_char *) t, (const u_char *) header,
                                 strlen(header));
    t[n++] = '.';
    n += compliance_b64url_encode((u_char *) t + n, (const u_char *) body,
                                  strlen(body));

    if (alg == COMPLIANCE_JWT_HS256) {
        assert_non_null(HMAC(EVP_sha256(), SECRET, SECRET_LEN, (u_char *) t,
                             n, sig, &mlen));
        slen = mlen;

    } else {
        ctx = EVP_MD_CTX_new();
        slen = sizeof(sig);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
                                            pk), 1);
        assert_int_equal(EVP_DigestSign(ctx, sig, &slen, (u_char *) t, n), 1);
        EVP_MD_CTX_free(ctx);
    }

    t[n++] = '.';
    n += compliance_b64url_encode((u_char *) t + n, sig, slen);
    t[n] = '\0';

    return t;
}


/* What a request does with a token it has not seen: all of it. */
static void
run(const char *token, counts_t *c)
{
    int                      i;
    u_char                   num[COMPLIANCE_JWT_NUM_BUF], scopes[64];
    size_t                   len, n;
    const u_char            *p;
    compliance_jwt_str_t     iss, aud;
    compliance_jwt_policy_t  pol;

    iss.data = (const u_char *) "https://idp.example.com/";
    iss.len = strlen((const char *) iss.data);
    aud.data = (const u_char *) "api";
    aud.len = 3;

    memset(&pol, 0, sizeof(pol));
    pol.issuers = &iss;
    pol.nissuers = 1;
    pol.audiences = &aud;
    pol.naudiences = 1;
    pol.leeway = 30;
    pol.max_lifetime = 4102444800LL;

    /* once first: OpenSSL sets up per-thread state on a first use */
    assert_int_equal(compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                           (const u_char *) token,
                                           strlen(token), jwt),
                     COMPLIANCE_JWT_OK);
    compliance_jwt_release(jwt);

    counted.all = 0;
    counted.openssl = 0;
    counting = 1;

    for (i = 0; i < ROUNDS; i++) {
        if (compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                  (const u_char *) token, strlen(token), jwt)
            != COMPLIANCE_JWT_OK
            || compliance_jwt_check_claims(jwt, &pol, 1700000100)
               != COMPLIANCE_JWT_OK
            || compliance_jwt_claim_str(jwt, "sub", num, sizeof(num), &p,
                                        &len) != 0
            || compliance_jwt_claim_str(jwt, "org_id", num, sizeof(num), &p,
                                        &len) != 0
            || compliance_jwt_claim_str(jwt, "ratio", num, sizeof(num), &p,
                                        &len) != 0)
        {
            counting = 0;
            fail_msg("round %d: the token did not pass", i);
        }

        n = compliance_jwt_scopes(jwt, NULL, NULL, 0);

        if (n > sizeof(scopes)
            || compliance_jwt_scopes(jwt, NULL, scopes, n) != n
            || compliance_jwt_scopes(jwt, "scp", scopes, sizeof(scopes)) != 5)
        {
            counting = 0;
            fail_msg("round %d: scopes", i);
        }

        compliance_jwt_release(jwt);
    }

    counting = 0;
    c->all = counted.all;
    c->openssl = counted.openssl;
}


static void
test_hs256(void **state)
{
    char      *t;
    counts_t   c;

    (void) state;

    if (!ALLOC_COUNTED) {
        skip();
    }

    t = mint(NULL, COMPLIANCE_JWT_HS256,
             "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"hs\"}", payload);
    run(t, &c);
    free(t);

    printf("# HS256 verify + claims: %.2f allocations per token, all "
           "OpenSSL's (%lu in %d rounds), ours %lu\n",
           (double) c.openssl / ROUNDS, c.openssl, ROUNDS,
           c.all - c.openssl);

    assert_int_equal(c.all - c.openssl, 0);

    /* the HMAC context is re-initialised, not duplicated (11 a check) */
    assert_true(c.openssl <= 2 * ROUNDS);
}


static void
test_rs256(void **state)
{
    char      *t;
    counts_t   c;

    (void) state;

    if (!ALLOC_COUNTED) {
        skip();
    }

    t = mint(rsa, COMPLIANCE_JWT_RS256,
             "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload);
    run(t, &c);
    free(t);

    printf("# RS256 verify + claims: %.2f allocations per token, all "
           "OpenSSL's (%lu in %d rounds), ours %lu\n",
           (double) c.openssl / ROUNDS, c.openssl, ROUNDS,
           c.all - c.openssl);

    assert_int_equal(c.all - c.openssl, 0);

    /* inside RSA_verify only: the contexts are not duplicated (16) */
    assert_true(c.openssl <= 13 * ROUNDS);
}


/* refusals before the signature allocate nothing at all */
static void
test_refusals(void **state)
{
    int          i;
    char        *t[6];
    size_t       k;

    (void) state;

    if (!ALLOC_COUNTED) {
        skip();
    }

    t[0] = mint(NULL, COMPLIANCE_JWT_HS256, "{\"alg\":\"HS256\"}",
                "{\"exp\":1,\"exp\":2}");
    t[1] = mint(NULL, COMPLIANCE_JWT_HS256, "{\"alg\":\"none\"}", payload);
    t[2] = mint(NULL, COMPLIANCE_JWT_HS256, "{\"alg\":\"HS256\",\"crit\":[]}",
                payload);
    t[3] = mint(NULL, COMPLIANCE_JWT_HS256, "{\"alg\":\"HS256\"}",
                "{\"a\":\"\\ud800\"}");
    t[4] = mint(NULL, COMPLIANCE_JWT_HS256, "{\"alg\":\"HS256\","
                "\"kid\":\"nope\"}", payload);
    t[5] = strdup("eyJhbGciOiJIUzI1NiJ9.e30=.AAAA");
    assert_non_null(t[5]);

    counted.all = 0;
    counted.openssl = 0;
    counting = 1;

    for (i = 0; i < ROUNDS; i++) {
        for (k = 0; k < 6; k++) {
            if (compliance_jwt_verify(ks, COMPLIANCE_JWT_ALG_ALL,
                                      (const u_char *) t[k], strlen(t[k]),
                                      jwt)
                == COMPLIANCE_JWT_OK)
            {
                counting = 0;
                fail_msg("token %zu passed", k);
            }
        }
    }

    counting = 0;

    for (k = 0; k < 6; k++) {
        free(t[k]);
    }

    printf("# refusals before the signature: %lu allocations\n",
           counted.all);

    assert_int_equal(counted.all, 0);
}


static int
group_setup(void **state)
{
    int       n;
    char      err[256], *pem, jwk[256];
    void     *volatile probe;
    BIO      *bio;
    u_char    b64[64];
    size_t    len;

    (void) state;

    /* the interposer must see what it counts */
    if (ALLOC_COUNTED) {
        counted.all = 0;
        counted.openssl = 0;
        counting = 1;
        probe = malloc(16);
        free(probe);
        counting = 0;

        if (counted.all != 1) {
            fprintf(stderr, "malloc() is not interposed (%lu)\n",
                    counted.all);
            return -1;
        }
    }

    ks = compliance_jwt_keyset_create();
    rsa = EVP_RSA_gen(2048);
    jwt = malloc(sizeof(compliance_jwt_t));

    if (ks == NULL || rsa == NULL || jwt == NULL) {
        return -1;
    }

    len = compliance_b64url_encode(b64, (const u_char *) SECRET, SECRET_LEN);
    snprintf(jwk, sizeof(jwk),
             "{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"%.*s\"}", (int) len,
             b64);

    if (compliance_jwt_keyset_load_mem(ks, (u_char *) jwk, strlen(jwk),
                                       "oct", err, sizeof(err)) != 0)
    {
        fprintf(stderr, "%s\n", err);
        return -1;
    }

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, rsa) != 1) {
        return -1;
    }

    /* a PEM key has no kid: the RS256 token names none */
    n = (int) BIO_get_mem_data(bio, &pem);

    if (compliance_jwt_keyset_load_mem(ks, (u_char *) pem, (size_t) n,
                                       "rsa", err, sizeof(err)) != 0)
    {
        fprintf(stderr, "%s\n", err);
        return -1;
    }

    BIO_free(bio);

    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    compliance_jwt_keyset_free(ks);
    EVP_PKEY_free(rsa);
    free(jwt);

    return 0;
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_hs256),
        cmocka_unit_test(test_rs256),
        cmocka_unit_test(test_refusals),
    };

    /* before OpenSSL allocates anything */
    if (CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)
        != 1)
    {
        fprintf(stderr, "CRYPTO_set_mem_functions() refused\n");
        return 1;
    }

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
