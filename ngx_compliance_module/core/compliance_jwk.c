/*
 * JWT verification keys: JWK/JWKS and PEM loading at configuration time,
 * and the raw per-request signature check.
 *
 * Everything costly happens at load: digests and the HMAC implementation
 * are fetched once per key set, and every key keeps one ready verification
 * context per algorithm it may serve (and one digest context).  A check
 * reuses them as they are: no algorithm lookup and no context creation
 * ever happens per request, so a key is not for two threads at once.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"
#include "compliance_io.h"


/* Largest accepted values, bounding every decode buffer. */
#define COMPLIANCE_JWK_MAX_N       (COMPLIANCE_JWT_MAX_RSA_BITS / 8 + 1)
#define COMPLIANCE_JWK_MAX_E       32
#define COMPLIANCE_JWK_MAX_COORD   48
#define COMPLIANCE_JWK_MAX_SECRET  4096
#define COMPLIANCE_JWK_MAX_KID     1024

#define COMPLIANCE_JWK_HS_ALGS                                               \
    (COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256)                            \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS384)                          \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512))

#define COMPLIANCE_JWK_RSA_ALGS                                              \
    (COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS256)                            \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS384)                          \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS512)                          \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS256)                          \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS384)                          \
     | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS512))


struct compliance_jwt_key_s {
    int                     kty;
    int                     alg;     /* pinned by the JWK "alg", or -1 */
    unsigned                algs;
    u_char                 *kid;     /* NULL: the key has no kid */
    size_t                  kid_len;
    size_t                  coord;   /* EC coordinate size */
    EVP_PKEY               *pkey;
    EVP_MD_CTX             *dctx;    /* digest of RSA and EC checks */
    const EVP_MD           *md[COMPLIANCE_JWT_ALG_COUNT];
    EVP_PKEY_CTX           *pctx[COMPLIANCE_JWT_ALG_COUNT];
    EVP_MAC_CTX            *mctx[COMPLIANCE_JWT_ALG_COUNT];
};


struct compliance_jwt_keyset_s {
    compliance_jwt_key_t  **keys;
    size_t                  nkeys;
    size_t                  nalloc;
    unsigned                algs;
    EVP_MD                 *sha[3];  /* SHA-256, SHA-384, SHA-512 */
    EVP_MAC                *hmac;
};


/* Hash index (0: SHA-256, 1: SHA-384, 2: SHA-512) of every algorithm. */
static const int  compliance_jwk_alg_hash[COMPLIANCE_JWT_ALG_COUNT] = {
    0, 1, 2,    /* HS */
    0, 1, 2,    /* RS */
    0, 1, 2,    /* PS */
    0, 1        /* ES */
};

static const char  *compliance_jwk_hash_name[3] = {
    "SHA256", "SHA384", "SHA512"
};


static void compliance_jwk_error(char *err, size_t errlen, const char *name,
    const char *fmt, ...);
static void compliance_jwk_key_free(compliance_jwt_key_t *key);
static int compliance_jwk_key_add(compliance_jwt_keyset_t *ks,
    compliance_jwt_key_t *key);
static int compliance_jwk_key_prepare(compliance_jwt_keyset_t *ks,
    compliance_jwt_key_t *key, const u_char *secret, size_t slen);
static int compliance_jwk_key_from_pkey(compliance_jwt_key_t *key,
    const char *name, size_t idx, char *err, size_t errlen);
static json_t *compliance_jwk_json_root(const u_char *p, size_t len,
    const char *name, char *err, size_t errlen);
static int compliance_jwk_load_json(compliance_jwt_keyset_t *ks,
    const u_char *p, size_t len, const char *name, char *err,
    size_t errlen);
static int compliance_jwk_load_pem(compliance_jwt_keyset_t *ks,
    const u_char *p, size_t len, const char *name, char *err,
    size_t errlen);
static int compliance_jwk_parse(compliance_jwt_keyset_t *ks, json_t *jwk,
    size_t idx, const char *name, char *err, size_t errlen);
static int compliance_jwk_b64_member(json_t *jwk, const char *member,
    u_char *buf, size_t size, size_t *len);
static EVP_PKEY *compliance_jwk_rsa(json_t *jwk, size_t idx,
    const char *name, char *err, size_t errlen);
static EVP_PKEY *compliance_jwk_ec(json_t *jwk, int *kty, size_t idx,
    const char *name, char *err, size_t errlen);
static void compliance_jwk_wipe_secrets(json_t *root);
static int compliance_jwk_has_pem(const u_char *p, size_t len);
static int compliance_jwk_secret_is_public(const u_char *p, size_t len);
static int compliance_jwk_kid_taken(const compliance_jwt_keyset_t *ks,
    const char *kid, size_t len);
static size_t compliance_jwk_der_int(u_char *out, const u_char *p,
    size_t n);
static int compliance_jwk_hmac(const compliance_jwt_key_t *key, int alg,
    const u_char *data, size_t dlen, const u_char *sig, size_t slen);


static void
compliance_jwk_error(char *err, size_t errlen, const char *name,
    const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    n = snprintf(err, errlen, "\"%s\": ", name);

    if (n < 0 || (size_t) n >= errlen) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err + n, errlen - (size_t) n, fmt, args);
    va_end(args);
}


compliance_jwt_keyset_t *
compliance_jwt_keyset_create(void)
{
    int                       i;
    compliance_jwt_keyset_t  *ks;

    ks = calloc(1, sizeof(compliance_jwt_keyset_t));
    if (ks == NULL) {
        return NULL;
    }

    for (i = 0; i < 3; i++) {
        ks->sha[i] = EVP_MD_fetch(NULL, compliance_jwk_hash_name[i], NULL);
        if (ks->sha[i] == NULL) {
            goto failed;
        }
    }

    ks->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (ks->hmac == NULL) {
        goto failed;
    }

    return ks;

failed:

    ERR_clear_error();
    compliance_jwt_keyset_free(ks);

    return NULL;
}


void
compliance_jwt_keyset_free(compliance_jwt_keyset_t *ks)
{
    int     i;
    size_t  k;

    if (ks == NULL) {
        return;
    }

    for (k = 0; k < ks->nkeys; k++) {
        compliance_jwk_key_free(ks->keys[k]);
    }

    free(ks->keys);

    for (i = 0; i < 3; i++) {
        EVP_MD_free(ks->sha[i]);
    }

    EVP_MAC_free(ks->hmac);
    free(ks);
}


static void
compliance_jwk_key_free(compliance_jwt_key_t *key)
{
    int  i;

    if (key == NULL) {
        return;
    }

    /* EVP_MAC_CTX_free() clears the HMAC key copy it holds */
    for (i = 0; i < COMPLIANCE_JWT_ALG_COUNT; i++) {
        EVP_PKEY_CTX_free(key->pctx[i]);
        EVP_MAC_CTX_free(key->mctx[i]);
    }

    EVP_MD_CTX_free(key->dctx);
    EVP_PKEY_free(key->pkey);
    free(key->kid);
    free(key);
}


unsigned
compliance_jwt_keyset_algs(const compliance_jwt_keyset_t *ks)
{
    return ks ? ks->algs : 0;
}


size_t
compliance_jwt_keyset_count(const compliance_jwt_keyset_t *ks)
{
    return ks->nkeys;
}


const compliance_jwt_key_t *
compliance_jwt_keyset_key(const compliance_jwt_keyset_t *ks, size_t i)
{
    return i < ks->nkeys ? ks->keys[i] : NULL;
}


const u_char *
compliance_jwt_key_kid(const compliance_jwt_key_t *key, size_t *len)
{
    *len = key->kid_len;

    return key->kid;
}


int
compliance_jwt_key_type(const compliance_jwt_key_t *key)
{
    return key->kty;
}


unsigned
compliance_jwt_key_algs(const compliance_jwt_key_t *key)
{
    return key->algs;
}


int
compliance_jwt_keyset_load(compliance_jwt_keyset_t *ks, const char *path,
    char *err, size_t errlen)
{
    int                rc;
    compliance_file_t  f;

    if (compliance_file_read(path, "key file", COMPLIANCE_JWT_MAX_KEY_FILE,
                             &f, err, errlen)
        != COMPLIANCE_FILE_OK)
    {
        return -1;
    }

    rc = compliance_jwt_keyset_load_mem(ks, f.data, f.len, path, err,
                                        errlen);

    /* the file may hold HMAC secrets */
    compliance_file_free(&f, 1);

    return rc;
}


int
compliance_jwt_keyset_load_mem(compliance_jwt_keyset_t *ks,
    const u_char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
    int            rc;
    size_t         first, k;
    const u_char  *p, *end;

    first = ks->nkeys;
    p = buf;
    end = buf + len;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    if (p == end) {
        compliance_jwk_error(err, errlen, name, "empty key file");
        return -1;
    }

    if (*p == '{') {
        rc = compliance_jwk_load_json(ks, buf, len, name, err, errlen);

    } else if (compliance_jwk_has_pem(p, (size_t) (end - p))) {
        /* PEM allows explanatory text before the block */
        rc = compliance_jwk_load_pem(ks, buf, len, name, err, errlen);

    } else {
        compliance_jwk_error(err, errlen, name,
                             "neither a JWK/JWKS object nor a PEM public key");
        rc = -1;
    }

    if (rc == 0 && ks->nkeys == first) {
        compliance_jwk_error(err, errlen, name, "no keys found");
        rc = -1;
    }

    /* all or nothing: drop what this file added before the error */
    if (rc != 0) {
        for (k = first; k < ks->nkeys; k++) {
            compliance_jwk_key_free(ks->keys[k]);
            ks->keys[k] = NULL;
        }

        ks->nkeys = first;
    }

    ERR_clear_error();

    ks->algs = 0;

    for (k = 0; k < ks->nkeys; k++) {
        ks->algs |= ks->keys[k]->algs;
    }

    return rc;
}


static int
compliance_jwk_has_pem(const u_char *p, size_t len)
{
    const u_char  *end;

    for (end = p + len; (size_t) (end - p) >= 11; p++) {
        p = memchr(p, '-', (size_t) (end - p) - 10);
        if (p == NULL) {
            return 0;
        }

        if (memcmp(p, "-----BEGIN ", 11) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * An HMAC secret that is the text or encoding of a public key: PEM of any
 * kind, a JWK, or DER that OpenSSL reads as a public key.
 */
static int
compliance_jwk_secret_is_public(const u_char *p, size_t len)
{
    size_t          i;
    EVP_PKEY       *pk;
    const u_char   *q;

    if (compliance_jwk_has_pem(p, len)) {
        return 1;
    }

    for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'
                            || p[i] == '\n');
         i++)
    {
        /* void */
    }

    if (i < len && p[i] == '{' && len - i >= 5) {
        for (q = p + i; (size_t) (q - p) + 5 <= len; q++) {
            if (memcmp(q, "\"kty\"", 5) == 0) {
                return 1;
            }
        }
    }

    if (len == 0 || p[0] != 0x30) {
        return 0;
    }

    q = p;
    pk = d2i_PUBKEY(NULL, &q, (long) len);

    if (pk == NULL) {
        q = p;
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long) len);
    }

    ERR_clear_error();

    if (pk != NULL) {
        EVP_PKEY_free(pk);
        return 1;
    }

    return 0;
}


/* kids name one key each within a set (RFC 7517 4.5) */
static int
compliance_jwk_kid_taken(const compliance_jwt_keyset_t *ks, const char *kid,
    size_t len)
{
    size_t  k;

    for (k = 0; k < ks->nkeys; k++) {
        if (ks->keys[k]->kid != NULL && ks->keys[k]->kid_len == len
            && memcmp(ks->keys[k]->kid, kid, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
compliance_jwk_key_add(compliance_jwt_keyset_t *ks, compliance_jwt_key_t *key)
{
    size_t                  n;
    compliance_jwt_key_t  **keys;

    if (ks->nkeys == ks->nalloc) {
        n = ks->nalloc ? ks->nalloc * 2 : 4;

        keys = realloc(ks->keys, n * sizeof(compliance_jwt_key_t *));
        if (keys == NULL) {
            return -1;
        }

        ks->keys = keys;
        ks->nalloc = n;
    }

    ks->keys[ks->nkeys++] = key;

    return 0;
}


/*
 * Builds the per-algorithm verification templates of a key whose kty,
 * alg and pkey (or secret) are set.
 */

static int
compliance_jwk_key_prepare(compliance_jwt_keyset_t *ks,
    compliance_jwt_key_t *key, const u_char *secret, size_t slen)
{
    int            alg, pad;
    unsigned       all;
    const char    *hash;
    OSSL_PARAM     params[2];
    const EVP_MD  *md;

    switch (key->kty) {

    case COMPLIANCE_JWT_KTY_OCT:
        all = COMPLIANCE_JWK_HS_ALGS;
        break;

    case COMPLIANCE_JWT_KTY_RSA:
        all = COMPLIANCE_JWK_RSA_ALGS;
        break;

    case COMPLIANCE_JWT_KTY_EC_P256:
        all = COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES256);
        break;

    default: /* COMPLIANCE_JWT_KTY_EC_P384 */
        all = COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES384);
        break;
    }

    key->algs = key->alg >= 0 ? (all & COMPLIANCE_JWT_ALG_BIT(key->alg))
                              : all;

    if (key->kty != COMPLIANCE_JWT_KTY_OCT) {
        key->dctx = EVP_MD_CTX_new();
        if (key->dctx == NULL) {
            return -1;
        }
    }

    for (alg = 0; alg < COMPLIANCE_JWT_ALG_COUNT; alg++) {

        if (!(key->algs & COMPLIANCE_JWT_ALG_BIT(alg))) {
            continue;
        }

        md = ks->sha[compliance_jwk_alg_hash[alg]];
        key->md[alg] = md;

        if (key->kty == COMPLIANCE_JWT_KTY_OCT) {
            key->mctx[alg] = EVP_MAC_CTX_new(ks->hmac);
            if (key->mctx[alg] == NULL) {
                return -1;
            }

            hash = compliance_jwk_hash_name[compliance_jwk_alg_hash[alg]];
            params[0] = OSSL_PARAM_construct_utf8_string(
                                 OSSL_MAC_PARAM_DIGEST, (char *) hash, 0);
            params[1] = OSSL_PARAM_construct_end();

            if (EVP_MAC_init(key->mctx[alg], secret, slen, params) != 1) {
                return -1;
            }

            continue;
        }

        key->pctx[alg] = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
        if (key->pctx[alg] == NULL) {
            return -1;
        }

        if (EVP_PKEY_verify_init(key->pctx[alg]) != 1
            || EVP_PKEY_CTX_set_signature_md(key->pctx[alg], md) != 1)
        {
            return -1;
        }

        if (key->kty != COMPLIANCE_JWT_KTY_RSA) {
            continue;
        }

        pad = alg >= COMPLIANCE_JWT_PS256 ? RSA_PKCS1_PSS_PADDING
                                          : RSA_PKCS1_PADDING;

        if (EVP_PKEY_CTX_set_rsa_padding(key->pctx[alg], pad) != 1) {
            return -1;
        }

        /* RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash */
        if (pad == RSA_PKCS1_PSS_PADDING
            && (EVP_PKEY_CTX_set_rsa_mgf1_md(key->pctx[alg], md) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(key->pctx[alg],
                                                RSA_PSS_SALTLEN_DIGEST) != 1))
        {
            return -1;
        }
    }

    return 0;
}


/*
 * Sets kty (and coord) from a public key and refuses keys we must not
 * use: RSA outside 2048..8192 bits or with a bad exponent, EC curves
 * other than P-256/P-384, invalid points.
 */

static int
compliance_jwk_key_from_pkey(compliance_jwt_key_t *key, const char *name,
    size_t idx, char *err, size_t errlen)
{
    int            bits, ok;
    char           group[64];
    BIGNUM        *e;
    EVP_PKEY_CTX  *ctx;

    if (EVP_PKEY_is_a(key->pkey, "RSA")) {
        bits = EVP_PKEY_get_bits(key->pkey);

        if (bits < COMPLIANCE_JWT_MIN_RSA_BITS
            || bits > COMPLIANCE_JWT_MAX_RSA_BITS)
        {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: RSA modulus of %d bits, "
                                 "%d to %d required", idx, bits,
                                 COMPLIANCE_JWT_MIN_RSA_BITS,
                                 COMPLIANCE_JWT_MAX_RSA_BITS);
            return -1;
        }

        e = NULL;

        if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: RSA exponent unreadable", idx);
            return -1;
        }

        ok = BN_is_odd(e) && !BN_is_one(e)
             && BN_num_bits(e) <= 8 * COMPLIANCE_JWK_MAX_E;
        BN_free(e);

        if (!ok) {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: invalid RSA exponent", idx);
            return -1;
        }

        key->kty = COMPLIANCE_JWT_KTY_RSA;

        return 0;
    }

    if (!EVP_PKEY_is_a(key->pkey, "EC")) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: unsupported key type (RSA, EC P-256, "
                             "EC P-384 and oct are)", idx);
        return -1;
    }

    if (EVP_PKEY_get_utf8_string_param(key->pkey,
                                       OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), NULL) != 1)
    {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC key without a named curve", idx);
        return -1;
    }

    if (strcasecmp(group, "prime256v1") == 0
        || strcasecmp(group, "P-256") == 0
        || strcasecmp(group, "secp256r1") == 0)
    {
        key->kty = COMPLIANCE_JWT_KTY_EC_P256;
        key->coord = 32;

    } else if (strcasecmp(group, "secp384r1") == 0
               || strcasecmp(group, "P-384") == 0)
    {
        key->kty = COMPLIANCE_JWT_KTY_EC_P384;
        key->coord = 48;

    } else {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC curve \"%s\" is not supported "
                             "(P-256 and P-384 are)", idx, group);
        return -1;
    }

    /* on the curve, not the point at infinity, in the prime-order group */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (ctx == NULL) {
        compliance_jwk_error(err, errlen, name, "out of memory");
        return -1;
    }

    ok = EVP_PKEY_public_check(ctx);
    EVP_PKEY_CTX_free(ctx);

    if (ok != 1) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC point is not on the curve", idx);
        return -1;
    }

    return 0;
}


/* The JSON tree of a key file or set, depth-bounded; NULL with err. */

static json_t *
compliance_jwk_json_root(const u_char *p, size_t len, const char *name,
    char *err, size_t errlen)
{
    char         *near;
    json_t       *root;
    json_error_t  jerr;

    if (!compliance_jwt_json_depth_ok(p, len, COMPLIANCE_JWT_MAX_DEPTH)) {
        compliance_jwk_error(err, errlen, name,
                             "JSON nested deeper than %d levels",
                             COMPLIANCE_JWT_MAX_DEPTH);
        return NULL;
    }

    root = json_loadb((const char *) p, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        /* jansson quotes the offending token, which may be a secret */
        near = strstr(jerr.text, " near ");
        if (near) {
            *near = '\0';
        }

        compliance_jwk_error(err, errlen, name,
                             "invalid JSON at line %d column %d: %s",
                             jerr.line, jerr.column, jerr.text);
    }

    OPENSSL_cleanse(&jerr, sizeof(json_error_t));

    return root;
}


static int
compliance_jwk_load_json(compliance_jwt_keyset_t *ks, const u_char *p,
    size_t len, const char *name, char *err, size_t errlen)
{
    int      rc;
    size_t   i;
    json_t  *root, *keys, *jwk;

    root = compliance_jwk_json_root(p, len, name, err, errlen);
    if (root == NULL) {
        return -1;
    }

    if (!json_is_object(root)) {
        compliance_jwk_error(err, errlen, name, "not a JSON object");
        json_decref(root);
        return -1;
    }

    keys = json_object_get(root, "keys");
    rc = 0;

    if (keys == NULL) {
        rc = compliance_jwk_parse(ks, root, 0, name, err, errlen);

    } else if (!json_is_array(keys) || json_array_size(keys) == 0) {
        compliance_jwk_error(err, errlen, name,
                             "\"keys\" is not a non-empty array");
        rc = -1;

    } else {
        json_array_foreach(keys, i, jwk) {
            rc = compliance_jwk_parse(ks, jwk, i, name, err, errlen);
            if (rc != 0) {
                break;
            }
        }
    }

    compliance_jwk_wipe_secrets(root);
    json_decref(root);

    return rc;
}


/*
 * jansson frees strings without clearing them: wipe HMAC secrets (and
 * any private members a refused key carried) before the tree goes.
 */

static void
compliance_jwk_wipe_secrets(json_t *root)
{
    size_t       i, j;
    json_t      *keys, *jwk, *v;
    const char  *secret[] = { "k", "d", "p", "q", "dp", "dq", "qi" };

    keys = json_object_get(root, "keys");

    for (i = 0; ; i++) {
        if (keys == NULL) {
            if (i > 0) {
                break;
            }

            jwk = root;

        } else {
            jwk = json_array_get(keys, i);
            if (jwk == NULL) {
                break;
            }
        }

        if (!json_is_object(jwk)) {
            continue;
        }

        for (j = 0; j < sizeof(secret) / sizeof(secret[0]); j++) {
            v = json_object_get(jwk, secret[j]);

            if (json_is_string(v)) {
                OPENSSL_cleanse((void *) json_string_value(v),
                                json_string_length(v));
            }
        }
    }
}


/*
 * Decodes the base64url string member into buf; -1 when absent or not a
 * string, -2 when too long for buf or not strict base64url.
 */

static int
compliance_jwk_b64_member(json_t *jwk, const char *member, u_char *buf,
    size_t size, size_t *len)
{
    size_t   n;
    json_t  *v;

    v = json_object_get(jwk, member);

    if (!json_is_string(v)) {
        return -1;
    }

    n = json_string_length(v);

    if (n > compliance_b64url_encoded_len(size)) {
        return -2;
    }

    if (compliance_b64url_decode(buf, len,
                                 (const u_char *) json_string_value(v), n)
        != 0)
    {
        OPENSSL_cleanse(buf, size);
        return -2;
    }

    return 0;
}


static EVP_PKEY *
compliance_jwk_rsa(json_t *jwk, size_t idx, const char *name, char *err,
    size_t errlen)
{
    int              rc;
    u_char           nb[COMPLIANCE_JWK_MAX_N], eb[COMPLIANCE_JWK_MAX_E];
    size_t           nlen, elen;
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    rc = compliance_jwk_b64_member(jwk, "n", nb, sizeof(nb), &nlen);
    if (rc == 0) {
        rc = compliance_jwk_b64_member(jwk, "e", eb, sizeof(eb), &elen);
    }

    if (rc == -1) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: RSA key needs string \"n\" and \"e\"",
                             idx);
        return NULL;
    }

    if (rc == -2 || nlen == 0 || elen == 0) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: RSA \"n\" or \"e\" is not valid "
                             "base64url or too large", idx);
        return NULL;
    }

    pkey = NULL;
    params = NULL;
    ctx = NULL;

    n = BN_bin2bn(nb, (int) nlen, NULL);
    e = BN_bin2bn(eb, (int) elen, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: cannot build the RSA key", idx);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);

    return pkey;
}


static EVP_PKEY *
compliance_jwk_ec(json_t *jwk, int *kty, size_t idx, const char *name,
    char *err, size_t errlen)
{
    int              rc;
    u_char           x[COMPLIANCE_JWK_MAX_COORD], y[COMPLIANCE_JWK_MAX_COORD];
    u_char           pub[1 + 2 * COMPLIANCE_JWK_MAX_COORD];
    size_t           xlen, ylen, coord;
    json_t          *crv;
    EVP_PKEY        *pkey;
    const char      *group;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    crv = json_object_get(jwk, "crv");

    if (json_is_string(crv) && strcmp(json_string_value(crv), "P-256") == 0) {
        *kty = COMPLIANCE_JWT_KTY_EC_P256;
        group = "prime256v1";
        coord = 32;

    } else if (json_is_string(crv)
               && strcmp(json_string_value(crv), "P-384") == 0)
    {
        *kty = COMPLIANCE_JWT_KTY_EC_P384;
        group = "secp384r1";
        coord = 48;

    } else {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC \"crv\" must be \"P-256\" or "
                             "\"P-384\"", idx);
        return NULL;
    }

    rc = compliance_jwk_b64_member(jwk, "x", x, sizeof(x), &xlen);
    if (rc == 0) {
        rc = compliance_jwk_b64_member(jwk, "y", y, sizeof(y), &ylen);
    }

    if (rc == -1) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC key needs string \"x\" and \"y\"",
                             idx);
        return NULL;
    }

    /* RFC 7518 6.2.1.2: coordinates are exactly the field size */
    if (rc == -2 || xlen != coord || ylen != coord) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC \"x\" and \"y\" must be %zu bytes "
                             "of base64url each", idx, coord);
        return NULL;
    }

    pub[0] = 0x04;
    memcpy(pub + 1, x, coord);
    memcpy(pub + 1 + coord, y, coord);

    pkey = NULL;
    params = NULL;
    ctx = NULL;
    bld = OSSL_PARAM_BLD_new();

    if (bld == NULL
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, 1 + 2 * coord)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        /* an off-curve point already fails here */
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: EC point is not on the curve", idx);
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);

    return pkey;
}


static int
compliance_jwk_parse(compliance_jwt_keyset_t *ks, json_t *jwk, size_t idx,
    const char *name, char *err, size_t errlen)
{
    int                    kty, alg;
    u_char                 secret[COMPLIANCE_JWK_MAX_SECRET];
    size_t                 slen;
    json_t                *v, *kid;
    const char            *s;
    compliance_jwt_key_t  *key;

    if (!json_is_object(jwk)) {
        compliance_jwk_error(err, errlen, name, "key #%zu: not an object",
                             idx);
        return -1;
    }

    v = json_object_get(jwk, "kty");

    if (!json_is_string(v)) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: missing string \"kty\"", idx);
        return -1;
    }

    s = json_string_value(v);

    if (strcmp(s, "oct") == 0) {
        kty = COMPLIANCE_JWT_KTY_OCT;

    } else if (strcmp(s, "RSA") == 0) {
        kty = COMPLIANCE_JWT_KTY_RSA;

    } else if (strcmp(s, "EC") == 0) {
        kty = COMPLIANCE_JWT_KTY_EC_P256;

    } else {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: unsupported \"kty\" (RSA, EC and oct "
                             "are)", idx);
        return -1;
    }

    v = json_object_get(jwk, "use");

    if (v && (!json_is_string(v) || strcmp(json_string_value(v), "sig") != 0))
    {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: \"use\" is not \"sig\"", idx);
        return -1;
    }

    alg = -1;
    v = json_object_get(jwk, "alg");

    if (v) {
        if (json_is_string(v)) {
            alg = compliance_jwt_alg_parse((const u_char *)
                                           json_string_value(v),
                                           json_string_length(v));
        }

        if (alg < 0) {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: unsupported \"alg\"", idx);
            return -1;
        }
    }

    kid = json_object_get(jwk, "kid");

    if (kid && (!json_is_string(kid)
                || json_string_length(kid) > COMPLIANCE_JWK_MAX_KID))
    {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: \"kid\" is not a string of at most "
                             "%d bytes", idx, COMPLIANCE_JWK_MAX_KID);
        return -1;
    }

    /* a verifier needs no private key; keeping one here is a leak risk */
    if (kty != COMPLIANCE_JWT_KTY_OCT && json_object_get(jwk, "d")) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: holds a private key (\"d\"); give "
                             "the public key only", idx);
        return -1;
    }

    key = calloc(1, sizeof(compliance_jwt_key_t));
    if (key == NULL) {
        compliance_jwk_error(err, errlen, name, "out of memory");
        return -1;
    }

    key->kty = kty;
    key->alg = alg;
    slen = 0;

    if (kty == COMPLIANCE_JWT_KTY_OCT) {

        switch (compliance_jwk_b64_member(jwk, "k", secret, sizeof(secret),
                                          &slen))
        {
        case 0:
            break;

        case -1:
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: oct key needs string \"k\"", idx);
            goto failed;

        default:
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: oct \"k\" is not valid base64url "
                                 "or longer than %d bytes", idx,
                                 COMPLIANCE_JWK_MAX_SECRET);
            goto failed;
        }

        if (slen < COMPLIANCE_JWT_MIN_HMAC) {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: HMAC secret of %zu bytes, at "
                                 "least %d required", idx, slen,
                                 COMPLIANCE_JWT_MIN_HMAC);
            goto failed;
        }

        /* RS->HS confusion set up by configuration: the secret is public */
        if (compliance_jwk_secret_is_public(secret, slen)) {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: oct \"k\" is a public key (PEM, "
                                 "DER or JWK text): anyone who has that key "
                                 "could sign tokens; use a random secret",
                                 idx);
            goto failed;
        }

    } else if (kty == COMPLIANCE_JWT_KTY_RSA) {
        key->pkey = compliance_jwk_rsa(jwk, idx, name, err, errlen);

    } else {
        key->pkey = compliance_jwk_ec(jwk, &key->kty, idx, name, err, errlen);
    }

    if (kty != COMPLIANCE_JWT_KTY_OCT
        && (key->pkey == NULL
            || compliance_jwk_key_from_pkey(key, name, idx, err, errlen)
               != 0))
    {
        goto failed;
    }

    if (compliance_jwk_key_prepare(ks, key, secret, slen) != 0) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: cannot prepare the key", idx);
        goto failed;
    }

    if (key->algs == 0) {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: \"alg\" %s does not fit the key type",
                             idx, compliance_jwt_alg_name(alg));
        goto failed;
    }

    if (kid && compliance_jwk_kid_taken(ks, json_string_value(kid),
                                        json_string_length(kid)))
    {
        compliance_jwk_error(err, errlen, name,
                             "key #%zu: \"kid\" \"%s\" is used by another "
                             "key of this set: a token could not say which "
                             "key signed it", idx, json_string_value(kid));
        goto failed;
    }

    if (kid) {
        key->kid_len = json_string_length(kid);
        key->kid = malloc(key->kid_len + 1);

        if (key->kid == NULL) {
            compliance_jwk_error(err, errlen, name, "out of memory");
            goto failed;
        }

        memcpy(key->kid, json_string_value(kid), key->kid_len);
        key->kid[key->kid_len] = '\0';
    }

    if (compliance_jwk_key_add(ks, key) != 0) {
        compliance_jwk_error(err, errlen, name, "out of memory");
        goto failed;
    }

    OPENSSL_cleanse(secret, slen);

    return 0;

failed:

    OPENSSL_cleanse(secret, sizeof(secret));
    compliance_jwk_key_free(key);

    return -1;
}


static int
compliance_jwk_load_pem(compliance_jwt_keyset_t *ks, const u_char *p,
    size_t len, const char *name, char *err, size_t errlen)
{
    int                    rc, trailing;
    BIO                   *bio;
    char                  *label, *header;
    long                   dlen;
    size_t                 idx;
    u_char                *data;
    unsigned long          e;
    const u_char          *q;
    compliance_jwt_key_t  *key;

    if (len > INT_MAX) {
        compliance_jwk_error(err, errlen, name, "too large");
        return -1;
    }

    bio = BIO_new_mem_buf(p, (int) len);
    if (bio == NULL) {
        compliance_jwk_error(err, errlen, name, "out of memory");
        return -1;
    }

    ERR_clear_error();
    rc = 0;

    for (idx = 0; ; idx++) {
        label = NULL;
        header = NULL;
        data = NULL;

        if (PEM_read_bio(bio, &label, &header, &data, &dlen) != 1) {
            e = ERR_peek_last_error();

            if (ERR_GET_LIB(e) != ERR_LIB_PEM
                || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
            {
                compliance_jwk_error(err, errlen, name,
                                     "PEM block #%zu is malformed", idx);
                rc = -1;
            }

            break;
        }

        key = NULL;
        q = data;

        if (strcmp(label, PEM_STRING_PUBLIC) == 0) {
            key = calloc(1, sizeof(compliance_jwt_key_t));
            if (key) {
                key->pkey = d2i_PUBKEY(NULL, &q, dlen);
            }

        } else if (strcmp(label, PEM_STRING_RSA_PUBLIC) == 0) {
            key = calloc(1, sizeof(compliance_jwt_key_t));
            if (key) {
                key->pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, dlen);
            }

        } else {
            compliance_jwk_error(err, errlen, name,
                                 "PEM block #%zu is \"%.40s\", not a "
                                 "\"PUBLIC KEY\" or \"RSA PUBLIC KEY\"",
                                 idx, label);
            rc = -1;
        }

        /* DER with bytes after the key is not what it claims to be */
        trailing = (q != data + dlen);

        OPENSSL_free(label);
        OPENSSL_free(header);

        /* a refused block may have been a private key */
        OPENSSL_clear_free(data, (size_t) dlen);

        if (rc != 0) {
            break;
        }

        if (key == NULL) {
            compliance_jwk_error(err, errlen, name, "out of memory");
            rc = -1;
            break;
        }

        key->alg = -1;

        if (key->pkey == NULL || trailing) {
            compliance_jwk_error(err, errlen, name,
                                 "PEM block #%zu: cannot decode the public "
                                 "key", idx);
            rc = -1;

        } else if (compliance_jwk_key_from_pkey(key, name, idx, err, errlen)
                   != 0)
        {
            rc = -1;

        } else if (compliance_jwk_key_prepare(ks, key, NULL, 0) != 0) {
            compliance_jwk_error(err, errlen, name,
                                 "PEM block #%zu: cannot prepare the key",
                                 idx);
            rc = -1;

        } else if (compliance_jwk_key_add(ks, key) != 0) {
            compliance_jwk_error(err, errlen, name, "out of memory");
            rc = -1;
        }

        if (rc != 0) {
            compliance_jwk_key_free(key);
            break;
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    return rc;
}


static size_t
compliance_jwk_der_int(u_char *out, const u_char *p, size_t n)
{
    size_t  pad;

    while (n > 1 && *p == 0) {
        p++;
        n--;
    }

    /* a set top bit would make the INTEGER negative */
    pad = (*p & 0x80) ? 1 : 0;

    out[0] = 0x02;
    out[1] = (u_char) (n + pad);
    out[2] = 0;
    memcpy(out + 2 + pad, p, n);

    return 2 + pad + n;
}


int
compliance_jwt_sig_verify(const compliance_jwt_key_t *key, int alg,
    const u_char *data, size_t dlen, const u_char *sig, size_t slen)
{
    int            rc;
    u_char         md[EVP_MAX_MD_SIZE];
    u_char         der[6 + 2 * (3 + COMPLIANCE_JWK_MAX_COORD)];
    size_t         i, n;
    unsigned       mdlen;

    if (alg < 0 || alg >= COMPLIANCE_JWT_ALG_COUNT
        || !(key->algs & COMPLIANCE_JWT_ALG_BIT(alg)))
    {
        return COMPLIANCE_JWT_ALG_NOT_ALLOWED;
    }

    if (key->kty == COMPLIANCE_JWT_KTY_OCT) {
        return compliance_jwk_hmac(key, alg, data, dlen, sig, slen);
    }

    if (key->kty != COMPLIANCE_JWT_KTY_RSA) {

        /* JWS ECDSA is fixed-size r||s (RFC 7518 3.4), never DER */
        if (slen != 2 * key->coord) {
            return COMPLIANCE_JWT_BAD_SIGNATURE;
        }

        for (i = 0; i < key->coord && sig[i] == 0; i++) { /* void */ }

        if (i == key->coord) {
            return COMPLIANCE_JWT_BAD_SIGNATURE;
        }

        for (i = 0; i < key->coord && sig[key->coord + i] == 0; i++) {
            /* void */
        }

        if (i == key->coord) {
            return COMPLIANCE_JWT_BAD_SIGNATURE;
        }

        n = compliance_jwk_der_int(der + 2, sig, key->coord);
        n += compliance_jwk_der_int(der + 2 + n, sig + key->coord,
                                    key->coord);
        der[0] = 0x30;
        der[1] = (u_char) n;

        sig = der;
        slen = n + 2;
    }

    if (EVP_DigestInit_ex2(key->dctx, key->md[alg], NULL) != 1
        || EVP_DigestUpdate(key->dctx, data, dlen) != 1
        || EVP_DigestFinal_ex(key->dctx, md, &mdlen) != 1)
    {
        ERR_clear_error();
        return COMPLIANCE_JWT_NOMEM;
    }

    /*
     * The context prepared at load serves every check: EVP_PKEY_verify()
     * may be called again and again with the parameters set once.
     */
    rc = EVP_PKEY_verify(key->pctx[alg], sig, slen, md, mdlen);

    if (rc != 1) {
        ERR_clear_error();
        return COMPLIANCE_JWT_BAD_SIGNATURE;
    }

    return COMPLIANCE_JWT_OK;
}


static int
compliance_jwk_hmac(const compliance_jwt_key_t *key, int alg,
    const u_char *data, size_t dlen, const u_char *sig, size_t slen)
{
    int           rc;
    u_char        mac[EVP_MAX_MD_SIZE];
    size_t        mlen;
    EVP_MAC_CTX  *ctx;

    /* a NULL key restarts from the keyed state prepared at load */
    ctx = key->mctx[alg];

    rc = EVP_MAC_init(ctx, NULL, 0, NULL) == 1
         && EVP_MAC_update(ctx, data, dlen) == 1
         && EVP_MAC_final(ctx, mac, &mlen, sizeof(mac)) == 1;

    if (!rc) {
        ERR_clear_error();
        OPENSSL_cleanse(mac, sizeof(mac));
        return COMPLIANCE_JWT_NOMEM;
    }

    /* exact length: a truncated tag is no tag */
    rc = slen == mlen && CRYPTO_memcmp(mac, sig, mlen) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));

    return rc ? COMPLIANCE_JWT_OK : COMPLIANCE_JWT_BAD_SIGNATURE;
}


/*
 * A key set fetched from an identity provider (SPEC 14).  The key rules
 * are those of a key file; on top of them, what a published set is:
 * a {"keys":[...]} object of at most COMPLIANCE_JWKS_MAX_KEYS keys,
 * where keys whose "use" is another than "sig" (the encryption keys
 * Keycloak and Entra ID publish next to the signing keys) are skipped,
 * and where a symmetric key refuses the set: a secret served on a
 * public endpoint is a secret anyone has.
 */

int
compliance_jwt_keyset_load_remote(compliance_jwt_keyset_t *ks,
    const u_char *p, size_t len, const char *name, size_t *skipped,
    char *err, size_t errlen)
{
    int      rc;
    size_t   i, first, k;
    json_t  *root, *keys, *jwk, *v;

    *skipped = 0;
    first = ks->nkeys;

    if (len > COMPLIANCE_JWT_MAX_KEY_FILE) {
        compliance_jwk_error(err, errlen, name, "larger than %d bytes",
                             COMPLIANCE_JWT_MAX_KEY_FILE);
        return -1;
    }

    root = compliance_jwk_json_root(p, len, name, err, errlen);
    if (root == NULL) {
        return -1;
    }

    keys = json_is_object(root) ? json_object_get(root, "keys") : NULL;
    rc = -1;

    if (!json_is_array(keys)) {
        compliance_jwk_error(err, errlen, name,
                             "not a JWKS object with a \"keys\" array");
        goto done;
    }

    if (json_array_size(keys) > COMPLIANCE_JWKS_MAX_KEYS) {
        compliance_jwk_error(err, errlen, name,
                             "%zu keys, at most %d accepted",
                             json_array_size(keys), COMPLIANCE_JWKS_MAX_KEYS);
        goto done;
    }

    rc = 0;

    json_array_foreach(keys, i, jwk) {

        v = json_is_object(jwk) ? json_object_get(jwk, "use") : NULL;

        if (json_is_string(v) && strcmp(json_string_value(v), "sig") != 0) {
            (*skipped)++;
            continue;
        }

        v = json_is_object(jwk) ? json_object_get(jwk, "kty") : NULL;

        if (json_is_string(v) && strcmp(json_string_value(v), "oct") == 0) {
            compliance_jwk_error(err, errlen, name,
                                 "key #%zu: a symmetric (oct) key in a "
                                 "published key set", i);
            rc = -1;
            break;
        }

        rc = compliance_jwk_parse(ks, jwk, i, name, err, errlen);
        if (rc != 0) {
            break;
        }
    }

    if (rc == 0 && ks->nkeys == first) {
        compliance_jwk_error(err, errlen, name, "no signing keys found");
        rc = -1;
    }

done:

    compliance_jwk_wipe_secrets(root);
    json_decref(root);

    if (rc != 0) {
        for (k = first; k < ks->nkeys; k++) {
            compliance_jwk_key_free(ks->keys[k]);
            ks->keys[k] = NULL;
        }

        ks->nkeys = first;
    }

    ERR_clear_error();

    ks->algs = 0;

    for (k = 0; k < ks->nkeys; k++) {
        ks->algs |= ks->keys[k]->algs;
    }

    return rc;
}
