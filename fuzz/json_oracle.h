/*
 * Differential oracle for the token JSON reader: compliance_json_read()
 * and compliance_jwt_claims_read() against jansson as the verifier used
 * it before (compliance_jwt_json_depth_ok(), then json_loadb() with
 * JSON_REJECT_DUPLICATES, then an object check), and every claim read
 * against what the jansson-based helpers returned: members, values,
 * claim_str() text, NumericDates, scopes, issuer and audience checks.
 *
 * Header-only, shared by fuzz/fuzz_jwt.c ('J' inputs) and
 * t/unit/test_json_read.c.  json_oracle_check() returns NULL when both
 * agree, else what differs.
 */

#ifndef _COMPLIANCE_JSON_ORACLE_H_INCLUDED_
#define _COMPLIANCE_JSON_ORACLE_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compliance_json.h"
#include "compliance_jwt.h"
#include "compliance_token.h"


#define JSON_ORACLE_MEMBERS  (COMPLIANCE_JSON_READ_MAX / 6 + 1)
#define JSON_ORACLE_TIME_MAX 253402300799LL


static const char *json_oracle_check(const u_char *in, size_t len);


/* the NumericDate rule of the jansson-based compliance_jwt_num() */
static int
json_oracle_num(json_t *v, long long *n)
{
    double     d;
    long long  i;

    if (json_is_integer(v)) {
        i = json_integer_value(v);

    } else if (json_is_real(v)) {
        d = json_real_value(v);

        if (!(d >= 0.0 && d < (double) JSON_ORACLE_TIME_MAX + 1.0)) {
            return -1;
        }

        i = (long long) d;

    } else {
        return -1;
    }

    if (i < 0 || i > JSON_ORACLE_TIME_MAX) {
        return -1;
    }

    *n = i;

    return 0;
}


/* the jansson-based compliance_jwt_claim_str() */
static int
json_oracle_claim_str(json_t *v, u_char *buf, size_t size,
    const u_char **p, size_t *len)
{
    int  n;

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


static void
json_oracle_scope_add(const u_char *t, size_t n, u_char *out, size_t *pos)
{
    if (!compliance_token_scope_valid(t, n)) {
        return;
    }

    if (*pos) {
        out[(*pos)++] = ' ';
    }

    memcpy(out + *pos, t, n);
    *pos += n;
}


/* the jansson-based compliance_jwt_scopes() */
static size_t
json_oracle_scopes(json_t *root, const char *claim, u_char *out)
{
    size_t         i, n, pos;
    json_t        *v, *e;
    const u_char  *p, *end, *sp;

    v = json_object_get(root, claim ? claim : "scope");

    if (v == NULL) {
        v = json_object_get(root, "scp");
    }

    pos = 0;

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (json_is_string(e)) {
                json_oracle_scope_add((const u_char *) json_string_value(e),
                                      json_string_length(e), out, &pos);
            }
        }

    } else if (json_is_string(v)) {
        p = (const u_char *) json_string_value(v);
        end = p + json_string_length(v);

        while (p < end) {
            sp = memchr(p, ' ', (size_t) (end - p));
            n = sp ? (size_t) (sp - p) : (size_t) (end - p);
            json_oracle_scope_add(p, n, out, &pos);
            p += n + 1;
        }
    }

    return pos;
}


/* one top-level member's value, and an array's elements one level down */
static const char *
json_oracle_value(const u_char *text, const compliance_json_member_t *mm,
    json_t *v)
{
    int                      type, want;
    size_t                   i, n, k;
    json_t                  *e;
    const u_char            *p;
    compliance_json_array_t  a;

    static u_char            tmp[COMPLIANCE_JSON_READ_MAX];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        want = COMPLIANCE_JSON_OBJECT;
        break;
    case JSON_ARRAY:
        want = COMPLIANCE_JSON_ARRAY;
        break;
    case JSON_STRING:
        want = COMPLIANCE_JSON_STRING;
        break;
    case JSON_INTEGER:
        want = COMPLIANCE_JSON_INTEGER;
        break;
    case JSON_REAL:
        want = COMPLIANCE_JSON_REAL;
        break;
    case JSON_TRUE:
        want = COMPLIANCE_JSON_TRUE;
        break;
    case JSON_FALSE:
        want = COMPLIANCE_JSON_FALSE;
        break;
    default:
        want = COMPLIANCE_JSON_NULL;
        break;
    }

    if (compliance_json_type(text, mm) != want) {
        return "a member's type differs";
    }

    switch (want) {

    case COMPLIANCE_JSON_STRING:
        if (mm->value_len != json_string_length(v)
            || memcmp(text + mm->value + 1, json_string_value(v),
                      mm->value_len) != 0)
        {
            return "a string member differs";
        }

        return NULL;

    case COMPLIANCE_JSON_INTEGER:
        if (compliance_json_integer(text + mm->value, mm->value_len)
            != json_integer_value(v))
        {
            return "an integer member differs";
        }

        return NULL;

    case COMPLIANCE_JSON_REAL:
        if (compliance_json_real(text + mm->value) != json_real_value(v)) {
            return "a real member differs";
        }

        return NULL;

    case COMPLIANCE_JSON_ARRAY:
        break;

    default:
        return NULL;
    }

    compliance_json_array(&a, text, mm);
    i = 0;

    while ((type = compliance_json_next(&a, &p, &n)) != 0) {
        e = json_array_get(v, i++);

        if (e == NULL) {
            return "an array has more elements than jansson's";
        }

        switch (type) {

        case COMPLIANCE_JSON_STRING:
            if (!json_is_string(e)) {
                return "an array element's type differs";
            }

            k = compliance_json_unescape(tmp, p, n);

            if (k != json_string_length(e)
                || memcmp(tmp, json_string_value(e), k) != 0
                || !compliance_json_str_eq(p, n,
                                           (const u_char *)
                                               json_string_value(e), k))
            {
                return "an array string differs";
            }

            break;

        case COMPLIANCE_JSON_INTEGER:
            if (!json_is_integer(e)
                || compliance_json_integer(p, n) != json_integer_value(e))
            {
                return "an array integer differs";
            }

            break;

        case COMPLIANCE_JSON_REAL:
            if (!json_is_real(e)
                || compliance_json_real(p) != json_real_value(e))
            {
                return "an array real differs";
            }

            break;

        case COMPLIANCE_JSON_OBJECT:
            if (!json_is_object(e)) {
                return "an array element's type differs";
            }

            break;

        case COMPLIANCE_JSON_ARRAY:
            if (!json_is_array(e)) {
                return "an array element's type differs";
            }

            break;

        case COMPLIANCE_JSON_TRUE:
            if (!json_is_true(e)) {
                return "an array element's type differs";
            }

            break;

        case COMPLIANCE_JSON_FALSE:
            if (!json_is_false(e)) {
                return "an array element's type differs";
            }

            break;

        default:
            if (!json_is_null(e)) {
                return "an array element's type differs";
            }

            break;
        }
    }

    if (i != json_array_size(v)) {
        return "an array has fewer elements than jansson's";
    }

    return NULL;
}


/* issuer and audience checks against the values the token holds */
static const char *
json_oracle_policy(const compliance_jwt_claims_t *c, json_t *root)
{
    int                      rc, want;
    size_t                   i;
    json_t                  *iss, *aud, *e;
    long long                now;
    compliance_jwt_str_t     s[2];
    compliance_jwt_policy_t  pol;

    /* at now = exp the times pass, unless nbf is later */
    if ((c->flags & COMPLIANCE_JWT_TIMES_BAD)
        || ((c->flags & COMPLIANCE_JWT_HAS_NBF) && c->nbf > c->exp))
    {
        return NULL;
    }

    now = c->exp;
    memset(&pol, 0, sizeof(pol));

    if (compliance_jwt_claims_check(c, &pol, now) != COMPLIANCE_JWT_OK) {
        return "times pass but the check does not";
    }

    iss = json_object_get(root, "iss");
    s[0].data = (const u_char *) "https://issuer.example";
    s[0].len = strlen((const char *) s[0].data);
    s[1] = s[0];

    if (json_is_string(iss)) {
        s[1].data = (const u_char *) json_string_value(iss);
        s[1].len = json_string_length(iss);
    }

    for (i = 0; i < 2; i++) {
        pol.issuers = &s[i];
        pol.nissuers = 1;

        want = json_is_string(iss) && json_string_length(iss) == s[i].len
               && memcmp(json_string_value(iss), s[i].data, s[i].len) == 0;

        rc = compliance_jwt_claims_check(c, &pol, now);

        if (rc != (want ? COMPLIANCE_JWT_OK : COMPLIANCE_JWT_BAD_ISSUER)) {
            return "the issuer check differs";
        }
    }

    pol.nissuers = 0;

    aud = json_object_get(root, "aud");
    s[0].data = (const u_char *) "api";
    s[0].len = 3;
    s[1] = s[0];

    if (json_is_string(aud)) {
        s[1].data = (const u_char *) json_string_value(aud);
        s[1].len = json_string_length(aud);

    } else if (json_is_array(aud)) {
        json_array_foreach(aud, i, e) {
            if (json_is_string(e)) {
                s[1].data = (const u_char *) json_string_value(e);
                s[1].len = json_string_length(e);
            }
        }
    }

    for (i = 0; i < 2; i++) {
        pol.audiences = &s[i];
        pol.naudiences = 1;
        want = 0;

        if (json_is_string(aud)) {
            want = json_string_length(aud) == s[i].len
                   && memcmp(json_string_value(aud), s[i].data, s[i].len)
                      == 0;

        } else if (json_is_array(aud)) {
            size_t  j;

            json_array_foreach(aud, j, e) {
                if (json_is_string(e) && json_string_length(e) == s[i].len
                    && memcmp(json_string_value(e), s[i].data, s[i].len)
                       == 0)
                {
                    want = 1;
                }
            }
        }

        rc = compliance_jwt_claims_check(c, &pol, now);

        if (rc != (want ? COMPLIANCE_JWT_OK : COMPLIANCE_JWT_BAD_AUDIENCE)) {
            return "the audience check differs";
        }
    }

    return NULL;
}


static const char *
json_oracle_claims(const compliance_jwt_claims_t *c, json_t *root)
{
    int                              bad, rc1, rc2;
    size_t                           n1, n2, i;
    json_t                          *v, *nbf, *iat;
    u_char                           b1[COMPLIANCE_JWT_NUM_BUF];
    u_char                           b2[COMPLIANCE_JWT_NUM_BUF];
    long long                        exp, tn, ti;
    const char                      *key, *why;
    const u_char                    *p1, *p2;
    const compliance_json_member_t  *mm;

    static u_char                    s1[COMPLIANCE_JSON_READ_MAX];
    static u_char                    s2[COMPLIANCE_JSON_READ_MAX];
    static const char               *claims[] = { NULL, "scp", "perms" };

    if (json_object_size(root) != c->nmembers) {
        return "the member count differs";
    }

    json_object_foreach(root, key, v) {
        mm = compliance_json_find(c->text, c->members, c->nmembers,
                                  (const u_char *) key, strlen(key));
        if (mm == NULL) {
            return "a member jansson has is missing";
        }

        why = json_oracle_value(c->text, mm, v);
        if (why) {
            return why;
        }

        rc1 = compliance_jwt_claims_str(c, (const u_char *) key, strlen(key),
                                        b1, sizeof(b1), &p1, &n1);
        rc2 = json_oracle_claim_str(v, b2, sizeof(b2), &p2, &n2);

        if (rc1 != rc2 || (rc1 == 0 && (n1 != n2 || memcmp(p1, p2, n1))))
        {
            return "claim_str differs";
        }
    }

    /* exp required, nbf and iat numeric when present */
    nbf = json_object_get(root, "nbf");
    iat = json_object_get(root, "iat");

    bad = json_oracle_num(json_object_get(root, "exp"), &exp) != 0
          || (nbf && json_oracle_num(nbf, &tn) != 0)
          || (iat && json_oracle_num(iat, &ti) != 0);

    if (bad != ((c->flags & COMPLIANCE_JWT_TIMES_BAD) != 0)
        || (nbf != NULL) != ((c->flags & COMPLIANCE_JWT_HAS_NBF) != 0)
        || (iat != NULL) != ((c->flags & COMPLIANCE_JWT_HAS_IAT) != 0))
    {
        return "the NumericDates differ";
    }

    if (!bad
        && (c->exp != exp || (nbf && c->nbf != tn) || (iat && c->iat != ti)))
    {
        return "a NumericDate's value differs";
    }

    for (i = 0; i < sizeof(claims) / sizeof(claims[0]); i++) {
        n1 = compliance_jwt_claims_scopes(c, (const u_char *) claims[i],
                                          claims[i] ? strlen(claims[i]) : 0,
                                          NULL, 0);
        n2 = json_oracle_scopes(root, claims[i], s2);

        if (n1 != n2 || n1 > sizeof(s1)
            || compliance_jwt_claims_scopes(c, (const u_char *) claims[i],
                                            claims[i] ? strlen(claims[i])
                                                      : 0,
                                            s1, n1) != n1
            || memcmp(s1, s2, n1) != 0)
        {
            return "the scopes differ";
        }

        p1 = compliance_jwt_claims_scopes_text(c, (const u_char *) claims[i],
                                               claims[i] ? strlen(claims[i])
                                                         : 0, &n2);

        if (p1 && (n2 != n1 || n1 == 0 || memcmp(p1, s1, n1) != 0)) {
            return "the scopes as text differ from the scopes";
        }
    }

    return json_oracle_policy(c, root);
}


static const char *
json_oracle_check(const u_char *in, size_t len)
{
    int                       ours;
    json_t                   *root;
    const char               *why;
    compliance_jwt_claims_t   c;

    static u_char                    text[COMPLIANCE_JSON_READ_MAX];
    static compliance_json_member_t  m[JSON_ORACLE_MEMBERS];

    /* the reader's own limit; tokens never come near it */
    if (len > COMPLIANCE_JSON_READ_MAX) {
        return NULL;
    }

    memcpy(text, in, len);
    ours = compliance_jwt_claims_read(&c, text, len, m, JSON_ORACLE_MEMBERS)
           == 0;

    root = NULL;

    if (compliance_jwt_json_depth_ok(in, len, COMPLIANCE_JWT_MAX_DEPTH)) {
        root = json_loadb((const char *) in, len, JSON_REJECT_DUPLICATES,
                          NULL);

        if (root && !json_is_object(root)) {
            json_decref(root);
            root = NULL;
        }
    }

    if (ours != (root != NULL)) {
        json_decref(root);
        return ours ? "the reader accepts what jansson refuses"
                    : "the reader refuses what jansson accepts";
    }

    if (!ours) {
        return NULL;
    }

    why = json_oracle_claims(&c, root);
    json_decref(root);

    return why;
}


#endif /* _COMPLIANCE_JSON_ORACLE_H_INCLUDED_ */
