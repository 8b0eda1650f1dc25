/*
 * JWT compact serialisation: structure, key selection, claims.
 * Key loading and the raw signature check live in compliance_jwk.c.
 *
 * Header and payload are read by compliance_json_read() into buffers the
 * caller's compliance_jwt_t provides: verification and every claim read
 * allocate nothing (the signature check allocates only what OpenSSL does
 * inside its own calls).
 */

#include <stdio.h>
#include <string.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"
#include "compliance_token.h"


/*
 * A NumericDate (RFC 7519 2) is accepted from 1970-01-01 to
 * 9999-12-31T23:59:59Z; a token outside that range ("exp": 1e300, a
 * negative "nbf") is malformed, not a token that never expires.  With
 * times and the leeway (clamped to the same bound) this small,
 * exp - iat, exp + leeway and nbf - leeway never overflow.
 */
#define COMPLIANCE_JWT_TIME_MAX  253402300799LL


typedef struct {
    const char  *name;
    size_t       len;
} compliance_jwt_name_t;


static const compliance_jwt_name_t  compliance_jwt_algs[] = {
    { "HS256", 5 }, { "HS384", 5 }, { "HS512", 5 },
    { "RS256", 5 }, { "RS384", 5 }, { "RS512", 5 },
    { "PS256", 5 }, { "PS384", 5 }, { "PS512", 5 },
    { "ES256", 5 }, { "ES384", 5 }
};

static const char  *compliance_jwt_reasons[] = {
    "ok",
    "malformed_token",
    "alg_not_allowed",
    "unknown_key",
    "bad_signature",
    "token_expired",
    "token_not_yet_valid",
    "bad_issuer",
    "bad_audience",
    "lifetime_too_long",
    "internal_error"
};


static unsigned compliance_jwt_type_algs(int kty);
static int compliance_jwt_verify_into(const compliance_jwt_keyset_t *ks,
    unsigned alg_mask, const u_char *token, size_t len, compliance_jwt_t *jwt);
static int compliance_jwt_verify_only(const compliance_jwt_keyset_t *ks,
    unsigned alg_mask, const u_char *token, size_t len)
    __attribute__((noinline));
static const compliance_json_member_t *compliance_jwt_get(
    const compliance_jwt_claims_t *c, const char *name, size_t len);
static int compliance_jwt_select(const compliance_jwt_keyset_t *ks, int alg,
    const u_char *kid, size_t kid_len, const u_char *input, size_t ilen,
    const u_char *sig, size_t slen, const compliance_jwt_key_t **found);
static int compliance_jwt_num(const u_char *text,
    const compliance_json_member_t *v, long long *n);
static int compliance_jwt_str_in(const u_char *s, size_t len,
    const compliance_jwt_str_t *list, size_t n);
static int compliance_jwt_raw_in(const u_char *raw, size_t len,
    const compliance_jwt_str_t *list, size_t n);
static void compliance_jwt_scope_add(const u_char *t, size_t n, u_char *out,
    size_t *pos);
static void compliance_jwt_scope_escaped(const u_char *raw, size_t n,
    u_char *out, size_t *pos) __attribute__((noinline));
static size_t compliance_jwt_list(const compliance_jwt_claims_t *c,
    const compliance_json_member_t *v, u_char *buf, size_t size);
static void compliance_jwt_scope_value(const compliance_jwt_claims_t *c,
    const compliance_json_member_t *v, u_char *out, size_t *pos);


const char *
compliance_jwt_reason(int err)
{
    if (err < 0 || err > COMPLIANCE_JWT_NOMEM) {
        return "internal_error";
    }

    return compliance_jwt_reasons[err];
}


int
compliance_jwt_alg_parse(const u_char *name, size_t len)
{
    int  i;

    for (i = 0; i < COMPLIANCE_JWT_ALG_COUNT; i++) {
        if (len == compliance_jwt_algs[i].len
            && memcmp(name, compliance_jwt_algs[i].name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
compliance_jwt_alg_name(int alg)
{
    if (alg < 0 || alg >= COMPLIANCE_JWT_ALG_COUNT) {
        return NULL;
    }

    return compliance_jwt_algs[alg].name;
}


static unsigned
compliance_jwt_type_algs(int kty)
{
    switch (kty) {

    case COMPLIANCE_JWT_KTY_OCT:
        return COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS384)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512);

    case COMPLIANCE_JWT_KTY_RSA:
        return COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS256)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS384)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_RS512)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS256)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS384)
               | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_PS512);

    case COMPLIANCE_JWT_KTY_EC_P256:
        return COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES256);

    case COMPLIANCE_JWT_KTY_EC_P384:
        return COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_ES384);
    }

    return 0;
}


int
compliance_jwt_json_depth_ok(const u_char *p, size_t len, size_t max)
{
    int            instr, esc;
    size_t         depth;
    const u_char  *end;

    instr = 0;
    esc = 0;
    depth = 0;

    for (end = p + len; p < end; p++) {

        if (instr) {
            if (esc) {
                esc = 0;

            } else if (*p == '\\') {
                esc = 1;

            } else if (*p == '"') {
                instr = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            instr = 1;
            break;

        case '{':
        case '[':
            if (++depth > max) {
                return 0;
            }

            break;

        case '}':
        case ']':
            if (depth) {
                depth--;
            }

            break;
        }
    }

    return 1;
}


int
compliance_jwt_verify(const compliance_jwt_keyset_t *ks, unsigned alg_mask,
    const u_char *token, size_t len, compliance_jwt_t *jwt)
{
    int  rc;

    if (jwt == NULL) {
        return compliance_jwt_verify_only(ks, alg_mask, token, len);
    }

    /* the buffers are left as they are: only what says "held" is reset */
    jwt->alg = -1;
    compliance_jwt_release(jwt);

    rc = compliance_jwt_verify_into(ks, alg_mask, token, len, jwt);

    if (rc != COMPLIANCE_JWT_OK) {
        jwt->alg = -1;
        compliance_jwt_release(jwt);
    }

    return rc;
}


/* The buffers of a token nobody keeps: on this frame, not the caller's. */

static int
compliance_jwt_verify_only(const compliance_jwt_keyset_t *ks,
    unsigned alg_mask, const u_char *token, size_t len)
{
    compliance_jwt_t  jwt;

    return compliance_jwt_verify_into(ks, alg_mask, token, len, &jwt);
}


static int
compliance_jwt_verify_into(const compliance_jwt_keyset_t *ks,
    unsigned alg_mask, const u_char *token, size_t len, compliance_jwt_t *jwt)
{
    int                              rc, alg;
    u_char                           buf[COMPLIANCE_JWT_MAX_PART];
    u_char                          *sb;
    size_t                           hlen, plen, slen, klen, n;
    const u_char                    *dot1, *dot2, *end, *kid;
    const compliance_jwt_key_t      *key;
    const compliance_json_member_t  *v;

    if (token == NULL || len == 0 || len > COMPLIANCE_JWT_MAX_TOKEN) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    end = token + len;

    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    dot2 = memchr(dot1 + 1, '.', (size_t) (end - dot1 - 1));
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t) (end - dot2 - 1))) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    /*
     * The three parts decode to at most 3/4 of the token: header and
     * signature fit buf, the payload fits jwt->text.
     */

    if (compliance_b64url_decode(buf, &hlen, token,
                                 (size_t) (dot1 - token)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    if (compliance_b64url_decode(jwt->text, &plen, dot1 + 1,
                                 (size_t) (dot2 - dot1 - 1)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    sb = buf + hlen;

    if (compliance_b64url_decode(sb, &slen, dot2 + 1,
                                 (size_t) (end - dot2 - 1)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    /*
     * Duplicate members ("alg" twice) are refused, so parsers cannot
     * disagree.  The header's index borrows jwt->members until the
     * payload's takes them over; alg and kid are read from buf.
     */
    if (compliance_json_read(buf, hlen, COMPLIANCE_JWT_MAX_DEPTH,
                             jwt->members, COMPLIANCE_JWT_MAX_MEMBERS, &n)
        != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    v = compliance_json_find(buf, jwt->members, n, (const u_char *) "alg", 3);
    if (compliance_json_type(buf, v) != COMPLIANCE_JSON_STRING) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    alg = compliance_jwt_alg_parse(buf + v->value + 1, v->value_len);

    kid = NULL;
    klen = 0;
    v = compliance_json_find(buf, jwt->members, n, (const u_char *) "kid", 3);

    if (v) {
        if (compliance_json_type(buf, v) != COMPLIANCE_JSON_STRING) {
            return COMPLIANCE_JWT_MALFORMED;
        }

        kid = buf + v->value + 1;
        klen = v->value_len;
    }

    /* we implement no extension, so no critical one can be honoured */
    if (compliance_json_find(buf, jwt->members, n, (const u_char *) "crit", 4))
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    if (compliance_jwt_claims_read(&jwt->claims, jwt->text, plen,
                                   jwt->members, COMPLIANCE_JWT_MAX_MEMBERS)
        != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    if (alg < 0 || !(alg_mask & COMPLIANCE_JWT_ALG_BIT(alg))) {
        return COMPLIANCE_JWT_ALG_NOT_ALLOWED;
    }

    key = NULL;

    rc = compliance_jwt_select(ks, alg, kid, klen, token,
                               (size_t) (dot2 - token), sb, slen, &key);
    if (rc != COMPLIANCE_JWT_OK) {
        return rc;
    }

    jwt->alg = alg;
    jwt->key = key;
    jwt->kid = compliance_jwt_key_kid(key, &jwt->kid_len);

    return COMPLIANCE_JWT_OK;
}


/*
 * Picks the keys a token may be checked with and tries them.  A kid
 * names keys by exact bytes; a kid no key carries is unknown_key (SPEC
 * 5), never a silent fall-back to keys without a kid.  A key
 * is only ever used for an alg of its own type and, if it pins one, its
 * own alg: an HS token never meets RSA or EC public key bytes.
 */

static int
compliance_jwt_select(const compliance_jwt_keyset_t *ks, int alg,
    const u_char *kid, size_t kid_len, const u_char *input, size_t ilen,
    const u_char *sig, size_t slen, const compliance_jwt_key_t **found)
{
    int                          rc, named, fits, tried;
    size_t                       i, n, klen;
    const u_char                *k;
    const compliance_jwt_key_t  *key;

    /* no key set configured: nothing can verify */
    n = ks ? compliance_jwt_keyset_count(ks) : 0;
    named = 0;

    if (kid) {
        for (i = 0; i < n; i++) {
            k = compliance_jwt_key_kid(compliance_jwt_keyset_key(ks, i),
                                       &klen);

            if (k && klen == kid_len && memcmp(k, kid, klen) == 0) {
                named = 1;
                break;
            }
        }
    }

    if (kid && !named) {
        return COMPLIANCE_JWT_UNKNOWN_KEY;
    }

    fits = 0;
    tried = 0;
    rc = COMPLIANCE_JWT_BAD_SIGNATURE;

    for (i = 0; i < n; i++) {
        key = compliance_jwt_keyset_key(ks, i);

        if (kid) {
            k = compliance_jwt_key_kid(key, &klen);

            if (k == NULL || klen != kid_len || memcmp(k, kid, klen) != 0) {
                continue;
            }
        }

        if (!(compliance_jwt_type_algs(compliance_jwt_key_type(key))
              & COMPLIANCE_JWT_ALG_BIT(alg)))
        {
            continue;
        }

        fits = 1;

        if (!(compliance_jwt_key_algs(key) & COMPLIANCE_JWT_ALG_BIT(alg))) {
            continue;
        }

        tried = 1;
        rc = compliance_jwt_sig_verify(key, alg, input, ilen, sig, slen);

        if (rc == COMPLIANCE_JWT_OK) {
            *found = key;
            return COMPLIANCE_JWT_OK;
        }

        if (rc == COMPLIANCE_JWT_NOMEM) {
            return rc;
        }
    }

    if (!fits) {
        return named ? COMPLIANCE_JWT_ALG_NOT_ALLOWED
                     : COMPLIANCE_JWT_UNKNOWN_KEY;
    }

    if (!tried) {
        return COMPLIANCE_JWT_ALG_NOT_ALLOWED;
    }

    return rc;
}


void
compliance_jwt_release(compliance_jwt_t *jwt)
{
    if (jwt == NULL) {
        return;
    }

    memset(&jwt->claims, 0, sizeof(compliance_jwt_claims_t));

    jwt->key = NULL;
    jwt->kid = NULL;
    jwt->kid_len = 0;
}


int
compliance_jwt_claims_read(compliance_jwt_claims_t *c, u_char *text,
    size_t len, compliance_json_member_t *m, size_t cap)
{
    size_t                           n;
    const compliance_json_member_t  *v;

    memset(c, 0, sizeof(compliance_jwt_claims_t));

    if (compliance_json_read(text, len, COMPLIANCE_JWT_MAX_DEPTH, m, cap, &n)
        != 0)
    {
        return -1;
    }

    c->text = text;
    c->len = len;
    c->members = m;
    c->nmembers = n;

    /* read once here, so that a cached token never parses them again */

    if (compliance_jwt_num(text, compliance_jwt_get(c, "exp", 3), &c->exp)
        != 0)
    {
        c->flags |= COMPLIANCE_JWT_TIMES_BAD;
    }

    v = compliance_jwt_get(c, "nbf", 3);

    if (v) {
        c->flags |= COMPLIANCE_JWT_HAS_NBF;

        if (compliance_jwt_num(text, v, &c->nbf) != 0) {
            c->flags |= COMPLIANCE_JWT_TIMES_BAD;
        }
    }

    v = compliance_jwt_get(c, "iat", 3);

    if (v) {
        c->flags |= COMPLIANCE_JWT_HAS_IAT;

        if (compliance_jwt_num(text, v, &c->iat) != 0) {
            c->flags |= COMPLIANCE_JWT_TIMES_BAD;
        }
    }

    return 0;
}


size_t
compliance_jwt_claims_size(const compliance_jwt_claims_t *c)
{
    return c->nmembers * sizeof(compliance_json_member_t) + c->len;
}


void
compliance_jwt_claims_copy(compliance_jwt_claims_t *dst,
    const compliance_jwt_claims_t *src, void *mem)
{
    u_char                    *t;
    compliance_json_member_t  *m;

    m = mem;
    t = (u_char *) (m + src->nmembers);

    memcpy(m, src->members, src->nmembers * sizeof(compliance_json_member_t));
    memcpy(t, src->text, src->len);

    *dst = *src;
    dst->members = m;
    dst->text = t;
}


static const compliance_json_member_t *
compliance_jwt_get(const compliance_jwt_claims_t *c, const char *name,
    size_t len)
{
    return compliance_json_find(c->text, c->members, c->nmembers,
                                (const u_char *) name, len);
}


/* A NumericDate, floored; -1 when not a number in the accepted range. */

static int
compliance_jwt_num(const u_char *text, const compliance_json_member_t *v,
    long long *n)
{
    double     d;
    long long  i;

    switch (compliance_json_type(text, v)) {

    case COMPLIANCE_JSON_INTEGER:
        i = compliance_json_integer(text + v->value, v->value_len);
        break;

    case COMPLIANCE_JSON_REAL:
        d = compliance_json_real(text + v->value);

        /* NaN fails both comparisons */
        if (!(d >= 0.0 && d < (double) COMPLIANCE_JWT_TIME_MAX + 1.0)) {
            return -1;
        }

        /* floor without libm: d is not negative, the cast truncates */
        i = (long long) d;
        break;

    default:
        return -1;
    }

    if (i < 0 || i > COMPLIANCE_JWT_TIME_MAX) {
        return -1;
    }

    *n = i;

    return 0;
}


static int
compliance_jwt_str_in(const u_char *s, size_t len,
    const compliance_jwt_str_t *list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (list[i].len == len && memcmp(list[i].data, s, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* The same for a string inside an array, escapes as written. */

static int
compliance_jwt_raw_in(const u_char *raw, size_t len,
    const compliance_jwt_str_t *list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (compliance_json_str_eq(raw, len, list[i].data, list[i].len)) {
            return 1;
        }
    }

    return 0;
}


int
compliance_jwt_check_claims(const compliance_jwt_t *jwt,
    const compliance_jwt_policy_t *pol, long long now)
{
    return compliance_jwt_claims_check(jwt ? &jwt->claims : NULL, pol, now);
}


int
compliance_jwt_claims_check(const compliance_jwt_claims_t *c,
    const compliance_jwt_policy_t *pol, long long now)
{
    int                              has_nbf, has_iat, ok, type;
    size_t                           n;
    long long                        exp, nbf, iat, leeway, max;
    const u_char                    *p;
    compliance_json_array_t          a;
    const compliance_json_member_t  *v;

    if (c == NULL || c->text == NULL) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    /* exp required; nbf and iat numeric when present */
    if (c->flags & COMPLIANCE_JWT_TIMES_BAD) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    exp = c->exp;
    nbf = c->nbf;
    iat = c->iat;
    has_nbf = (c->flags & COMPLIANCE_JWT_HAS_NBF) != 0;
    has_iat = (c->flags & COMPLIANCE_JWT_HAS_IAT) != 0;

    leeway = pol ? pol->leeway : 0;
    max = pol ? pol->max_lifetime : 0;

    if (leeway < 0) {
        leeway = 0;

    } else if (leeway > COMPLIANCE_JWT_TIME_MAX) {
        leeway = COMPLIANCE_JWT_TIME_MAX;
    }

    if (now < 0) {
        now = 0;

    } else if (now > COMPLIANCE_JWT_TIME_MAX) {
        now = COMPLIANCE_JWT_TIME_MAX;
    }

    if (now > exp + leeway) {
        return COMPLIANCE_JWT_EXPIRED;
    }

    if (has_nbf && now < nbf - leeway) {
        return COMPLIANCE_JWT_NOT_YET_VALID;
    }

    /*
     * A lifetime counted from an iat in the future bounds nothing: such a
     * token would stay valid until its far exp.
     */
    if (max > 0
        && (!has_iat || exp - iat > max || iat > now + leeway))
    {
        return COMPLIANCE_JWT_LIFETIME_TOO_LONG;
    }

    if (pol == NULL) {
        return COMPLIANCE_JWT_OK;
    }

    if (pol->nissuers) {
        v = compliance_jwt_get(c, "iss", 3);

        if (compliance_json_type(c->text, v) != COMPLIANCE_JSON_STRING
            || !compliance_jwt_str_in(c->text + v->value + 1, v->value_len,
                                      pol->issuers, pol->nissuers))
        {
            return COMPLIANCE_JWT_BAD_ISSUER;
        }
    }

    if (pol->naudiences) {
        v = compliance_jwt_get(c, "aud", 3);
        ok = 0;

        switch (compliance_json_type(c->text, v)) {

        case COMPLIANCE_JSON_ARRAY:
            compliance_json_array(&a, c->text, v);

            while ((type = compliance_json_next(&a, &p, &n)) != 0) {
                if (type == COMPLIANCE_JSON_STRING
                    && compliance_jwt_raw_in(p, n, pol->audiences,
                                             pol->naudiences))
                {
                    ok = 1;
                    break;
                }
            }

            break;

        case COMPLIANCE_JSON_STRING:
            ok = compliance_jwt_str_in(c->text + v->value + 1, v->value_len,
                                       pol->audiences, pol->naudiences);
            break;
        }

        if (!ok) {
            return COMPLIANCE_JWT_BAD_AUDIENCE;
        }
    }

    return COMPLIANCE_JWT_OK;
}


int
compliance_jwt_claim_str(const compliance_jwt_t *jwt, const char *name,
    u_char *buf, size_t size, const u_char **p, size_t *len)
{
    if (jwt == NULL) {
        return -1;
    }

    return compliance_jwt_claims_str(&jwt->claims, (const u_char *) name,
                                     strlen(name), buf, size, p, len);
}


int
compliance_jwt_claims_str(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, u_char *buf, size_t size,
    const u_char **p, size_t *len)
{
    int                              n;
    const compliance_json_member_t  *v;

    if (c == NULL || c->text == NULL) {
        return -1;
    }

    v = compliance_json_find(c->text, c->members, c->nmembers, name, nlen);

    /* the formats are jansson's: what the claims read as before */

    switch (compliance_json_type(c->text, v)) {

    case COMPLIANCE_JSON_STRING:
        *p = c->text + v->value + 1;
        *len = v->value_len;
        return 0;

    case COMPLIANCE_JSON_TRUE:
        *p = (const u_char *) "true";
        *len = 4;
        return 0;

    case COMPLIANCE_JSON_FALSE:
        *p = (const u_char *) "false";
        *len = 5;
        return 0;

    case COMPLIANCE_JSON_INTEGER:
        n = snprintf((char *) buf, size, "%lld",
                     compliance_json_integer(c->text + v->value,
                                             v->value_len));
        break;

    case COMPLIANCE_JSON_REAL:
        n = snprintf((char *) buf, size, "%.17g",
                     compliance_json_real(c->text + v->value));
        break;

    default:
        return -1;
    }

    if (n < 0 || (size_t) n >= size) {
        return -1;
    }

    *p = buf;
    *len = (size_t) n;

    return 0;
}


/* Appends one scope-token (compliance_token_scope_valid()) or drops it. */

static void
compliance_jwt_scope_add(const u_char *t, size_t n, u_char *out, size_t *pos)
{
    if (!compliance_token_scope_valid(t, n)) {
        return;
    }

    if (*pos) {
        if (out) {
            out[*pos] = ' ';
        }

        (*pos)++;
    }

    if (out) {
        memcpy(out + *pos, t, n);
    }

    *pos += n;
}


/* An array element with escapes: unescaped first, as jansson read it. */

static void
compliance_jwt_scope_escaped(const u_char *raw, size_t n, u_char *out,
    size_t *pos)
{
    u_char  t[COMPLIANCE_JSON_READ_MAX];

    compliance_jwt_scope_add(t, compliance_json_unescape(t, raw, n), out,
                             pos);
}


static void
compliance_jwt_scope_value(const compliance_jwt_claims_t *c,
    const compliance_json_member_t *v, u_char *out, size_t *pos)
{
    int                       type;
    size_t                    n;
    const u_char             *p, *end, *sp;
    compliance_json_array_t   a;

    switch (compliance_json_type(c->text, v)) {

    case COMPLIANCE_JSON_ARRAY:
        compliance_json_array(&a, c->text, v);

        while ((type = compliance_json_next(&a, &p, &n)) != 0) {
            if (type != COMPLIANCE_JSON_STRING) {
                continue;
            }

            if (memchr(p, '\\', n)) {
                compliance_jwt_scope_escaped(p, n, out, pos);

            } else {
                compliance_jwt_scope_add(p, n, out, pos);
            }
        }

        return;

    case COMPLIANCE_JSON_STRING:
        break;

    default:
        return;
    }

    p = c->text + v->value + 1;
    end = p + v->value_len;

    while (p < end) {
        sp = memchr(p, ' ', (size_t) (end - p));
        n = sp ? (size_t) (sp - p) : (size_t) (end - p);

        compliance_jwt_scope_add(p, n, out, pos);

        p += n + 1;
    }
}


size_t
compliance_jwt_scopes(const compliance_jwt_t *jwt, const char *claim,
    u_char *buf, size_t size)
{
    if (jwt == NULL) {
        return 0;
    }

    if (claim == NULL) {
        claim = "scope";
    }

    return compliance_jwt_claims_scopes(&jwt->claims, (const u_char *) claim,
                                        strlen(claim), buf, size);
}


static const compliance_json_member_t *
compliance_jwt_scopes_claim(const compliance_jwt_claims_t *c,
    const u_char *claim, size_t clen)
{
    const compliance_json_member_t  *v;

    if (claim == NULL) {
        claim = (const u_char *) "scope";
        clen = 5;
    }

    v = compliance_json_find(c->text, c->members, c->nmembers, claim, clen);

    return v ? v : compliance_jwt_get(c, "scp", 3);
}


/* The list value v holds, sized, then written when buf is large enough. */

static size_t
compliance_jwt_list(const compliance_jwt_claims_t *c,
    const compliance_json_member_t *v, u_char *buf, size_t size)
{
    size_t  need, pos;

    need = 0;
    compliance_jwt_scope_value(c, v, NULL, &need);

    if (buf && need && size >= need) {
        pos = 0;
        compliance_jwt_scope_value(c, v, buf, &pos);
    }

    return need;
}


size_t
compliance_jwt_claims_scopes(const compliance_jwt_claims_t *c,
    const u_char *claim, size_t clen, u_char *buf, size_t size)
{
    if (c == NULL || c->text == NULL) {
        return 0;
    }

    return compliance_jwt_list(c, compliance_jwt_scopes_claim(c, claim, clen),
                               buf, size);
}


const u_char *
compliance_jwt_claims_scopes_text(const compliance_jwt_claims_t *c,
    const u_char *claim, size_t clen, size_t *len)
{
    size_t                           need;
    const compliance_json_member_t  *v;

    if (c == NULL || c->text == NULL) {
        return NULL;
    }

    v = compliance_jwt_scopes_claim(c, claim, clen);

    if (compliance_json_type(c->text, v) != COMPLIANCE_JSON_STRING) {
        return NULL;
    }

    /*
     * The list keeps the valid pieces between single spaces: it is as
     * long as the string only when no piece was dropped, and then it is
     * the string.
     */
    need = 0;
    compliance_jwt_scope_value(c, v, NULL, &need);

    if (need == 0 || need != v->value_len) {
        return NULL;
    }

    *len = need;

    return c->text + v->value + 1;
}


int
compliance_jwt_claims_array_has(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, const compliance_jwt_str_t *list,
    size_t n)
{
    int                              type;
    size_t                           i, len;
    const u_char                    *p;
    compliance_json_array_t          a;
    const compliance_json_member_t  *v;

    if (c == NULL || c->text == NULL) {
        return -1;
    }

    v = compliance_json_find(c->text, c->members, c->nmembers, name, nlen);

    if (compliance_json_type(c->text, v) != COMPLIANCE_JSON_ARRAY) {
        return -1;
    }

    compliance_json_array(&a, c->text, v);

    while ((type = compliance_json_next(&a, &p, &len)) != 0) {
        if (type != COMPLIANCE_JSON_STRING) {
            continue;
        }

        for (i = 0; i < n; i++) {
            if (compliance_json_str_eq(p, len, list[i].data, list[i].len)) {
                return (int) i;
            }
        }
    }

    return -1;
}


size_t
compliance_jwt_claims_array_text(const compliance_jwt_claims_t *c,
    const u_char *name, size_t nlen, u_char *buf, size_t size)
{
    const compliance_json_member_t  *v;

    if (c == NULL || c->text == NULL) {
        return 0;
    }

    v = compliance_json_find(c->text, c->members, c->nmembers, name, nlen);

    if (compliance_json_type(c->text, v) != COMPLIANCE_JSON_ARRAY) {
        return 0;
    }

    return compliance_jwt_list(c, v, buf, size);
}
