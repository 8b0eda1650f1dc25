/*
 * JWT (JWS compact serialisation) verification: key sets loaded once at
 * configuration time, per-request signature verification, claim checks
 * and claim extraction.  No nginx headers: shared by the module, the CLIs
 * and the unit tests.
 */

#ifndef _COMPLIANCE_JWT_H_INCLUDED_
#define _COMPLIANCE_JWT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include "compliance_json.h"


/* Tokens longer than this are refused before any decoding (SPEC 5). */
#define COMPLIANCE_JWT_MAX_TOKEN      8192

/* Deepest JSON nesting accepted in a token header/payload or key file. */
#define COMPLIANCE_JWT_MAX_DEPTH      16

/* Largest decoded header or payload: 3/4 of the longest token. */
#define COMPLIANCE_JWT_MAX_PART       (COMPLIANCE_JWT_MAX_TOKEN / 4 * 3)

/*
 * Most top-level members a header or payload can hold: with distinct
 * names each takes 6 bytes at least ("a":0, and a comma or a brace).
 */
#define COMPLIANCE_JWT_MAX_MEMBERS    (COMPLIANCE_JWT_MAX_PART / 6 + 1)

/* Key files are refused above this size before they are parsed. */
#define COMPLIANCE_JWT_MAX_KEY_FILE   (1024 * 1024)

#define COMPLIANCE_JWT_MIN_HMAC       32
#define COMPLIANCE_JWT_MIN_RSA_BITS   2048
#define COMPLIANCE_JWT_MAX_RSA_BITS   8192

/* Room compliance_jwt_claim_str() needs to format a numeric claim. */
#define COMPLIANCE_JWT_NUM_BUF        32


enum {
    COMPLIANCE_JWT_OK = 0,
    COMPLIANCE_JWT_MALFORMED,
    COMPLIANCE_JWT_ALG_NOT_ALLOWED,
    COMPLIANCE_JWT_UNKNOWN_KEY,
    COMPLIANCE_JWT_BAD_SIGNATURE,
    COMPLIANCE_JWT_EXPIRED,
    COMPLIANCE_JWT_NOT_YET_VALID,
    COMPLIANCE_JWT_BAD_ISSUER,
    COMPLIANCE_JWT_BAD_AUDIENCE,
    COMPLIANCE_JWT_LIFETIME_TOO_LONG,
    COMPLIANCE_JWT_NOMEM
};


/* Algorithms; an allow-list is a mask of COMPLIANCE_JWT_ALG_BIT(alg). */
enum {
    COMPLIANCE_JWT_HS256 = 0,
    COMPLIANCE_JWT_HS384,
    COMPLIANCE_JWT_HS512,
    COMPLIANCE_JWT_RS256,
    COMPLIANCE_JWT_RS384,
    COMPLIANCE_JWT_RS512,
    COMPLIANCE_JWT_PS256,
    COMPLIANCE_JWT_PS384,
    COMPLIANCE_JWT_PS512,
    COMPLIANCE_JWT_ES256,
    COMPLIANCE_JWT_ES384,
    COMPLIANCE_JWT_ALG_COUNT
};

#define COMPLIANCE_JWT_ALG_BIT(alg)   (1u << (alg))
#define COMPLIANCE_JWT_ALG_ALL        ((1u << COMPLIANCE_JWT_ALG_COUNT) - 1)


/* Key types. */
enum {
    COMPLIANCE_JWT_KTY_OCT = 0,
    COMPLIANCE_JWT_KTY_RSA,
    COMPLIANCE_JWT_KTY_EC_P256,
    COMPLIANCE_JWT_KTY_EC_P384
};


typedef struct compliance_jwt_key_s     compliance_jwt_key_t;
typedef struct compliance_jwt_keyset_s  compliance_jwt_keyset_t;


/* Same member order as ngx_str_t. */
typedef struct {
    size_t          len;
    const u_char   *data;
} compliance_jwt_str_t;


typedef struct {
    const compliance_jwt_str_t  *issuers;      /* any-of, exact bytes */
    size_t                       nissuers;     /* 0: iss not checked */
    const compliance_jwt_str_t  *audiences;    /* token aud must hold one */
    size_t                       naudiences;   /* 0: aud not checked */
    long long                    leeway;       /* seconds, >= 0 */
    long long                    max_lifetime; /* seconds, 0: off */
} compliance_jwt_policy_t;


/* compliance_jwt_claims_t.flags */
#define COMPLIANCE_JWT_TIMES_BAD      0x01  /* exp missing, a time not one */
#define COMPLIANCE_JWT_HAS_NBF        0x02
#define COMPLIANCE_JWT_HAS_IAT        0x04


/*
 * A payload as compliance_jwt_claims_read() indexed it: its text (names
 * and top-level strings unescaped in place), its top-level members, and
 * the NumericDates read once.  Plain memory: copy it with
 * compliance_jwt_claims_copy() to keep it beyond its buffers.
 */
typedef struct {
    const u_char                    *text;      /* NULL: no claims */
    size_t                           len;
    const compliance_json_member_t  *members;
    size_t                           nmembers;
    long long                        exp;
    long long                        nbf;
    long long                        iat;
    unsigned                         flags;
} compliance_jwt_claims_t;


/*
 * A verified token: the payload's claims live in the struct's own
 * buffers (about 14 KiB, so usually on the caller's stack), nothing is
 * allocated.  key points into the key set, which must outlive the token;
 * kid is the selected key's kid (NULL if it has none).
 */
typedef struct {
    int                          alg;
    const compliance_jwt_key_t  *key;
    const u_char                *kid;
    size_t                       kid_len;
    compliance_jwt_claims_t      claims;
    u_char                       text[COMPLIANCE_JWT_MAX_PART];
    compliance_json_member_t     members[COMPLIANCE_JWT_MAX_MEMBERS];
} compliance_jwt_t;


/* SPEC 6 reason string of an error code; NOMEM is "internal_error". */
const char *compliance_jwt_reason(int err);

/*
 * Exact, case-sensitive algorithm name to COMPLIANCE_JWT_*; -1 for
 * anything else, "none" in any spelling included.
 */
int compliance_jwt_alg_parse(const u_char *name, size_t len);

/* Name of an algorithm ("HS256"...), NULL when out of range. */
const char *compliance_jwt_alg_name(int alg);


/* An empty key set; NULL when out of memory. */
compliance_jwt_keyset_t *compliance_jwt_keyset_create(void);

/* Frees every key, wiping HMAC secrets.  NULL is accepted. */
void compliance_jwt_keyset_free(compliance_jwt_keyset_t *ks);

/*
 * Appends the keys of a file: a JWKS ({"keys":[...]}), a single JWK, or
 * PEM public keys ("PUBLIC KEY", "RSA PUBLIC KEY").  All or nothing: on
 * failure the set is unchanged and err names the file and the problem
 * (never key material).  Returns 0 or -1.
 */
int compliance_jwt_keyset_load(compliance_jwt_keyset_t *ks, const char *path,
    char *err, size_t errlen);

/* The same from memory; name stands for the file in error messages. */
int compliance_jwt_keyset_load_mem(compliance_jwt_keyset_t *ks,
    const u_char *buf, size_t len, const char *name, char *err,
    size_t errlen);

/* Most keys a fetched key set may hold (SPEC 14). */
#define COMPLIANCE_JWKS_MAX_KEYS      256

/*
 * A key set fetched from an identity provider: a JWKS object only, at
 * most COMPLIANCE_JWKS_MAX_KEYS keys, keys whose "use" is not "sig"
 * skipped (counted in *skipped), any symmetric key refusing the set;
 * every other key under the rules of a key file.  All or nothing, as
 * compliance_jwt_keyset_load_mem().  Returns 0 or -1.
 */
int compliance_jwt_keyset_load_remote(compliance_jwt_keyset_t *ks,
    const u_char *p, size_t len, const char *name, size_t *skipped,
    char *err, size_t errlen);

/* Mask of the algorithms at least one key of the set can verify. */
unsigned compliance_jwt_keyset_algs(const compliance_jwt_keyset_t *ks);

size_t compliance_jwt_keyset_count(const compliance_jwt_keyset_t *ks);

const compliance_jwt_key_t *compliance_jwt_keyset_key(
    const compliance_jwt_keyset_t *ks, size_t i);

/* kid of a key, NULL (and *len 0) when it has none. */
const u_char *compliance_jwt_key_kid(const compliance_jwt_key_t *key,
    size_t *len);

/* COMPLIANCE_JWT_KTY_* of a key. */
int compliance_jwt_key_type(const compliance_jwt_key_t *key);

/* Mask of the algorithms a key may verify (its type and its own alg). */
unsigned compliance_jwt_key_algs(const compliance_jwt_key_t *key);

/*
 * Raw JWS signature check of data with one key: ES signatures are r||s
 * (exactly twice the coordinate size), HS tags are compared in constant
 * time on their exact length.  Returns OK, BAD_SIGNATURE,
 * ALG_NOT_ALLOWED (the key may not serve alg) or NOMEM.
 *
 * Each key keeps one working OpenSSL context per algorithm, prepared
 * when it is loaded and reused by every check: a key set is not for use
 * by several threads at once (one per nginx worker, as usual).
 */
int compliance_jwt_sig_verify(const compliance_jwt_key_t *key, int alg,
    const u_char *data, size_t dlen, const u_char *sig, size_t slen);


/*
 * Verifies a compact JWS: structure, header and payload JSON
 * (compliance_json_read(), depth COMPLIANCE_JWT_MAX_DEPTH), alg against
 * alg_mask and the key, key selection by kid, signature.  On success
 * jwt->claims indexes the payload held in jwt; on failure jwt holds
 * nothing.  Claims are not checked here.  jwt may be NULL.
 */
int compliance_jwt_verify(const compliance_jwt_keyset_t *ks,
    unsigned alg_mask, const u_char *token, size_t len, compliance_jwt_t *jwt);

/* Forgets the claims and key; safe twice and on a failed verification. */
void compliance_jwt_release(compliance_jwt_t *jwt);

/*
 * Indexes payload JSON text (changed in place) into c with the member
 * array m of cap entries (COMPLIANCE_JWT_MAX_MEMBERS for any payload):
 * what compliance_jwt_verify() does with a token's payload.  Returns 0,
 * or -1 when text is not a JSON object a token may carry.
 */
int compliance_jwt_claims_read(compliance_jwt_claims_t *c, u_char *text,
    size_t len, compliance_json_member_t *m, size_t cap);

/* Bytes compliance_jwt_claims_copy() needs for c. */
size_t compliance_jwt_claims_size(const compliance_jwt_claims_t *c);

/* Copies src into mem (claims_size bytes, 2-byte aligned) as dst. */
void compliance_jwt_claims_copy(compliance_jwt_claims_t *dst,
    const compliance_jwt_claims_t *src, void *mem);

/*
 * exp (required), nbf, iat, max lifetime, iss and aud against a policy at
 * time now (seconds since the epoch).
 */
int compliance_jwt_check_claims(const compliance_jwt_t *jwt,
    const compliance_jwt_policy_t *pol, long long now);

int compliance_jwt_claims_check(const compliance_jwt_claims_t *c,
    const compliance_jwt_policy_t *pol, long long now);

/*
 * A top-level scalar claim as text.  Strings point into the claims' text
 * (valid as long as it is); integers and reals are formatted into buf,
 * which needs COMPLIANCE_JWT_NUM_BUF bytes; booleans give "true" or
 * "false".  Returns 0, or -1 when the claim is absent, null, an object
 * or an array.
 */
int compliance_jwt_claim_str(const compliance_jwt_t *jwt, const char *name,
    u_char *buf, size_t size, const u_char **p, size_t *len);

int compliance_jwt_claims_str(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, u_char *buf, size_t size,
    const u_char **p, size_t *len);

/*
 * Space-separated scopes from claim (NULL means "scope") when present,
 * as a space-separated string or an array of strings; otherwise from
 * "scp" in either form.  Tokens outside the RFC 6749 scope-token syntax
 * (control characters, both quotes, backslash, non-ASCII) are dropped.
 * Returns the length needed; writes to buf only when it is that large,
 * so a call with (NULL, 0) sizes the buffer for a second call.
 */
size_t compliance_jwt_scopes(const compliance_jwt_t *jwt, const char *claim,
    u_char *buf, size_t size);

size_t compliance_jwt_claims_scopes(const compliance_jwt_claims_t *c,
    const u_char *claim, size_t clen, u_char *buf, size_t size);

/*
 * The scopes as the claims' own text, when the claim is a string that
 * already is the list compliance_jwt_claims_scopes() would write (valid
 * scope-tokens one space apart, the usual case): nothing to copy.  NULL
 * when it is not, or when there are no scopes.
 */
const u_char *compliance_jwt_claims_scopes_text(
    const compliance_jwt_claims_t *c, const u_char *claim, size_t clen,
    size_t *len);

/*
 * For a claim that must be an array of strings (RFC 8176 "amr"): the
 * index in list[0 .. n) of the first element of the array that equals
 * an entry (exact bytes, after unescaping), or -1 when the claim is
 * absent, not an array, or holds none of them.  Other elements are
 * skipped.
 */
int compliance_jwt_claims_array_has(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, const compliance_jwt_str_t *list,
    size_t n);

/*
 * The string elements of an array claim, one space apart, those outside
 * the RFC 6749 scope-token syntax dropped (as compliance_jwt_claims_scopes()
 * does, but with no other claim and no string form): for records.
 * Returns the length needed; writes to buf only when it is that large.
 */
size_t compliance_jwt_claims_array_text(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, u_char *buf, size_t size);

/*
 * 1 when JSON text nests objects and arrays at most max deep, else 0.
 * Run before jansson (key files) so hostile input cannot make it recurse
 * deeply.
 */
int compliance_jwt_json_depth_ok(const u_char *p, size_t len, size_t max);


#endif /* _COMPLIANCE_JWT_H_INCLUDED_ */
