/*
 * The answer of an OAuth2 token endpoint (see the header).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compliance_oauth2.h"


int
compliance_oauth2_b64token(const u_char *p, size_t len)
{
    u_char  c;
    size_t  i;

    for (i = 0; i < len; i++) {
        c = p[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || c == '+' || c == '/')
        {
            continue;
        }

        break;
    }

    /* then "=" padding only, after at least one other byte */
    if (i == 0) {
        return 0;
    }

    for ( /* void */ ; i < len; i++) {
        if (p[i] != '=') {
            return 0;
        }
    }

    return 1;
}


int
compliance_oauth2_answer_read(u_char *text, size_t len, u_char **token,
    size_t *token_len, long *life, const char **err)
{
    int                              rc, type;
    size_t                           n, cap, i;
    long long                        v;
    const u_char                    *p;
    compliance_json_member_t        *m;
    const compliance_json_member_t  *at, *tt, *ei;

    if (len == 0) {
        *err = "an empty answer";
        return -1;
    }

    if (len > COMPLIANCE_OAUTH2_MAX_ANSWER) {
        *err = "the answer is over the size cap";
        return -1;
    }

    cap = len / 6 + 1;

    m = malloc(cap * sizeof(compliance_json_member_t));
    if (m == NULL) {
        *err = "out of memory";
        return -1;
    }

    rc = compliance_json_read(text, len, COMPLIANCE_JSON_DEPTH_MAX, m, cap,
                              &n);

    if (rc != 0) {
        free(m);
        *err = "the answer is no JSON object";
        return -1;
    }

    at = compliance_json_find(text, m, n, (const u_char *) "access_token",
                              sizeof("access_token") - 1);
    tt = compliance_json_find(text, m, n, (const u_char *) "token_type",
                              sizeof("token_type") - 1);
    ei = compliance_json_find(text, m, n, (const u_char *) "expires_in",
                              sizeof("expires_in") - 1);

    if (compliance_json_type(text, at) != COMPLIANCE_JSON_STRING
        || at->value_len == 0)
    {
        free(m);
        *err = "the answer has no access_token";
        return -1;
    }

    /* RFC 6750 2.1: what a Bearer header carries, and no byte more */
    if (!compliance_oauth2_b64token(text + at->value + 1, at->value_len)) {
        free(m);
        *err = "the access_token is no RFC 6750 b64token";
        return -1;
    }

    if (tt != NULL
        && (compliance_json_type(text, tt) != COMPLIANCE_JSON_STRING
            || tt->value_len != sizeof("bearer") - 1
            || strncasecmp((const char *) text + tt->value + 1, "bearer",
                           sizeof("bearer") - 1)
               != 0))
    {
        free(m);
        *err = "the token_type is not \"Bearer\"";
        return -1;
    }

    v = COMPLIANCE_OAUTH2_DEFAULT_LIFE;

    if (ei != NULL) {
        type = compliance_json_type(text, ei);
        v = -1;

        if (type == COMPLIANCE_JSON_INTEGER) {
            v = compliance_json_integer(text + ei->value, ei->value_len);

        } else if (type == COMPLIANCE_JSON_STRING
                   && ei->value_len > 0 && ei->value_len <= 9)
        {
            /* some servers send it as a string of digits */
            p = text + ei->value + 1;

            for (v = 0, i = 0; i < ei->value_len; i++) {
                if (p[i] < '0' || p[i] > '9') {
                    v = -1;
                    break;
                }

                v = v * 10 + (p[i] - '0');
            }
        }
    }

    *token = text + at->value + 1;
    *token_len = at->value_len;

    free(m);

    if (v <= 0 || v > COMPLIANCE_OAUTH2_MAX_LIFE) {
        *err = "expires_in is not a number of seconds";
        return -1;
    }

    *life = (long) v;

    return 0;
}
