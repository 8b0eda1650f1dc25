/*
 * JWT compact serialisation: structure, key selection, claims.
 * Key loading and the raw signature check live in compliance_jwk.c.
 */

#include <math.h>
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
static json_t *compliance_jwt_parse_part(const u_char *p, size_t len);
static int compliance_jwt_select(const compliance_jwt_keyset_t *ks, int alg,
    const u_char *kid, size_t kid_len, const u_char *input, size_t ilen,
    const u_char *sig, size_t slen, const compliance_jwt_key_t **found);
static int compliance_jwt_num(json_t *v, long long *n);
static int compliance_jwt_str_in(json_t *v, const compliance_jwt_str_t *list,
    size_t n);
static void compliance_jwt_scope_add(const u_char *t, size_t n, u_char *out,
    size_t *pos);
static void compliance_jwt_scope_value(json_t *v, u_char *out, size_t *pos);


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


/* A JSON object from decoded header or payload bytes, or NULL. */

static json_t *
compliance_jwt_parse_part(const u_char *p, size_t len)
{
    json_t  *v;

    if (!compliance_jwt_json_depth_ok(p, len, COMPLIANCE_JWT_MAX_DEPTH)) {
        return NULL;
    }

    /* duplicate members ("alg" twice) would let parsers disagree */
    v = json_loadb((const char *) p, len, JSON_REJECT_DUPLICATES, NULL);

    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }

    return v;
}


int
compliance_jwt_verify(const compliance_jwt_keyset_t *ks, unsigned alg_mask,
    const u_char *token, size_t len, compliance_jwt_t *jwt)
{
    int                          rc, alg;
    u_char                       buf[COMPLIANCE_JWT_MAX_TOKEN / 4 * 3];
    u_char                      *pb, *sb;
    size_t                       hlen, plen, slen, klen;
    json_t                      *header, *payload, *v;
    const u_char                *dot1, *dot2, *end, *kid;
    const compliance_jwt_key_t  *key;

    if (jwt) {
        memset(jwt, 0, sizeof(compliance_jwt_t));
        jwt->alg = -1;
    }

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

    /* the three parts decode to at most 3/4 of the token: buf fits all */

    if (compliance_b64url_decode(buf, &hlen, token,
                                 (size_t) (dot1 - token)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    pb = buf + hlen;

    if (compliance_b64url_decode(pb, &plen, dot1 + 1,
                                 (size_t) (dot2 - dot1 - 1)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    sb = pb + plen;

    if (compliance_b64url_decode(sb, &slen, dot2 + 1,
                                 (size_t) (end - dot2 - 1)) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    header = compliance_jwt_parse_part(buf, hlen);
    if (header == NULL) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    payload = NULL;
    key = NULL;
    rc = COMPLIANCE_JWT_MALFORMED;

    v = json_object_get(header, "alg");
    if (!json_is_string(v)) {
        goto failed;
    }

    alg = compliance_jwt_alg_parse((const u_char *) json_string_value(v),
                                   json_string_length(v));

    kid = NULL;
    klen = 0;
    v = json_object_get(header, "kid");

    if (v) {
        if (!json_is_string(v)) {
            goto failed;
        }

        kid = (const u_char *) json_string_value(v);
        klen = json_string_length(v);
    }

    /* we implement no extension, so no critical one can be honoured */
    if (json_object_get(header, "crit")) {
        goto failed;
    }

    payload = compliance_jwt_parse_part(pb, plen);
    if (payload == NULL) {
        goto failed;
    }

    if (alg < 0 || !(alg_mask & COMPLIANCE_JWT_ALG_BIT(alg))) {
        rc = COMPLIANCE_JWT_ALG_NOT_ALLOWED;
        goto failed;
    }

    rc = compliance_jwt_select(ks, alg, kid, klen, token,
                               (size_t) (dot2 - token), sb, slen, &key);
    if (rc != COMPLIANCE_JWT_OK) {
        goto failed;
    }

    if (jwt == NULL) {
        json_decref(header);
        json_decref(payload);
        return COMPLIANCE_JWT_OK;
    }

    jwt->alg = alg;
    jwt->key = key;
    jwt->kid = compliance_jwt_key_kid(key, &jwt->kid_len);
    jwt->header = header;
    jwt->payload = payload;

    return COMPLIANCE_JWT_OK;

failed:

    json_decref(header);
    json_decref(payload);

    return rc;
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

    json_decref(jwt->header);
    json_decref(jwt->payload);

    jwt->header = NULL;
    jwt->payload = NULL;
    jwt->key = NULL;
    jwt->kid = NULL;
    jwt->kid_len = 0;
}


/* A NumericDate, floored; -1 when not a number in the accepted range. */

static int
compliance_jwt_num(json_t *v, long long *n)
{
    double     d;
    long long  i;

    if (json_is_integer(v)) {
        i = json_integer_value(v);

    } else if (json_is_real(v)) {
        d = json_real_value(v);

        /* NaN fails both comparisons */
        if (!(d >= 0.0 && d < (double) COMPLIANCE_JWT_TIME_MAX + 1.0)) {
            return -1;
        }

        /* floor without libm: d is not negative, the cast truncates */
        i = (long long) d;

    } else {
        return -1;
    }

    if (i < 0 || i > COMPLIANCE_JWT_TIME_MAX) {
        return -1;
    }

    *n = i;

    return 0;
}


static int
compliance_jwt_str_in(json_t *v, const compliance_jwt_str_t *list, size_t n)
{
    size_t       i, len;
    const char  *s;

    if (!json_is_string(v)) {
        return 0;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    for (i = 0; i < n; i++) {
        if (list[i].len == len && memcmp(list[i].data, s, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
compliance_jwt_check_claims(const compliance_jwt_t *jwt,
    const compliance_jwt_policy_t *pol, long long now)
{
    int        has_nbf, has_iat, ok;
    size_t     i;
    json_t    *v, *aud;
    long long  exp, nbf, iat, leeway, max;

    if (jwt == NULL || jwt->payload == NULL) {
        return COMPLIANCE_JWT_MALFORMED;
    }

    if (compliance_jwt_num(json_object_get(jwt->payload, "exp"), &exp) != 0)
    {
        return COMPLIANCE_JWT_MALFORMED;
    }

    nbf = 0;
    has_nbf = 0;
    v = json_object_get(jwt->payload, "nbf");

    if (v) {
        if (compliance_jwt_num(v, &nbf) != 0) {
            return COMPLIANCE_JWT_MALFORMED;
        }

        has_nbf = 1;
    }

    iat = 0;
    has_iat = 0;
    v = json_object_get(jwt->payload, "iat");

    if (v) {
        if (compliance_jwt_num(v, &iat) != 0) {
            return COMPLIANCE_JWT_MALFORMED;
        }

        has_iat = 1;
    }

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

    if (pol->nissuers
        && !compliance_jwt_str_in(json_object_get(jwt->payload, "iss"),
                                  pol->issuers, pol->nissuers))
    {
        return COMPLIANCE_JWT_BAD_ISSUER;
    }

    if (pol->naudiences) {
        aud = json_object_get(jwt->payload, "aud");
        ok = 0;

        if (json_is_array(aud)) {
            json_array_foreach(aud, i, v) {
                if (compliance_jwt_str_in(v, pol->audiences,
                                          pol->naudiences))
                {
                    ok = 1;
                    break;
                }
            }

        } else {
            ok = compliance_jwt_str_in(aud, pol->audiences, pol->naudiences);
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
    int      n;
    json_t  *v;

    if (jwt == NULL || jwt->payload == NULL) {
        return -1;
    }

    v = json_object_get(jwt->payload, name);
    if (v == NULL) {
        return -1;
    }

    switch (json_typeof(v)) {

    case JSON_STRING:
        *p = (const u_char *) json_string_value(v);
        *len = json_string_length(v);
        return 0;

    case JSON_TRUE:
        *p = (const u_char *) "true";
        *len = 4;
        return 0;

    case JSON_FALSE:
        *p = (const u_char *) "false";
        *len = 5;
        return 0;

    case JSON_INTEGER:
        n = snprintf((char *) buf, size, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
        break;

    case JSON_REAL:
        n = snprintf((char *) buf, size, "%.17g", json_real_value(v));
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


static void
compliance_jwt_scope_value(json_t *v, u_char *out, size_t *pos)
{
    size_t         i, n;
    json_t        *e;
    const u_char  *p, *end, *sp;

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_string(e)) {
                compliance_jwt_scope_add((const u_char *) json_string_value(e),
                                         json_string_length(e), out, pos);
            }
        }

        return;
    }

    if (!json_is_string(v)) {
        return;
    }

    p = (const u_char *) json_string_value(v);
    end = p + json_string_length(v);

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
    size_t   need, pos;
    json_t  *v;

    if (jwt == NULL || jwt->payload == NULL) {
        return 0;
    }

    v = json_object_get(jwt->payload, claim ? claim : "scope");

    if (v == NULL) {
        v = json_object_get(jwt->payload, "scp");
    }

    need = 0;
    compliance_jwt_scope_value(v, NULL, &need);

    if (buf && need && size >= need) {
        pos = 0;
        compliance_jwt_scope_value(v, buf, &pos);
    }

    return need;
}
