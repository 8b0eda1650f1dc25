/*
 * Query-string hygiene: credentials never belong in a URL, where proxies,
 * browsers and access logs keep them.
 */

#include <string.h>

#include "compliance_query.h"


/* a decoded parameter value longer than this cannot be a credential */
#define COMPLIANCE_QUERY_MAX_VALUE  8192


static int compliance_query_hex(u_char c);
static size_t compliance_query_decode(const u_char *p, size_t len,
    u_char *dst, size_t size);
static int compliance_query_name_is(const u_char *p, size_t len,
    const char *name);
static int compliance_query_b64url(u_char c);


static int
compliance_query_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* percent-decodes at most size bytes; returns the decoded length */
static size_t
compliance_query_decode(const u_char *p, size_t len, u_char *dst, size_t size)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len && n < size; i++) {
        if (p[i] == '%' && i + 2 < len) {
            hi = compliance_query_hex(p[i + 1]);
            lo = compliance_query_hex(p[i + 2]);

            if (hi >= 0 && lo >= 0) {
                dst[n++] = (u_char) ((hi << 4) | lo);
                i += 2;
                continue;
            }
        }

        dst[n++] = (p[i] == '+') ? ' ' : p[i];
    }

    return n;
}


static int
compliance_query_name_is(const u_char *p, size_t len, const char *name)
{
    u_char  c;
    size_t  i, n;

    n = strlen(name);

    if (len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        c = p[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (u_char) name[i]) {
            return 0;
        }
    }

    return 1;
}


static int
compliance_query_b64url(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


int
compliance_query_is_jwt(const u_char *p, size_t len)
{
    size_t  i, dots, seg;

    /* a JOSE header is a JSON object: base64url of '{"' starts "eyJ" */
    if (len < 8 || p[0] != 'e' || p[1] != 'y' || p[2] != 'J') {
        return 0;
    }

    dots = 0;
    seg = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '.') {
            /* header and payload are never empty; the signature may be */
            if (seg == 0) {
                return 0;
            }

            dots++;
            seg = 0;
            continue;
        }

        if (!compliance_query_b64url(p[i])) {
            return 0;
        }

        seg++;
    }

    return dots == 2;
}


int
compliance_query_is_api_key(const u_char *p, size_t len)
{
    size_t  i;

    if (len != 3 + 12 + 1 + 43 || memcmp(p, "ck_", 3) != 0 || p[15] != '_') {
        return 0;
    }

    for (i = 3; i < 15; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '2' && p[i] <= '7'))) {
            return 0;
        }
    }

    for (i = 16; i < len; i++) {
        if (!compliance_query_b64url(p[i])) {
            return 0;
        }
    }

    return 1;
}


int
compliance_query_has_credential(const u_char *args, size_t len)
{
    size_t  i, start, eq, nlen, vlen;
    u_char  name[16], value[COMPLIANCE_QUERY_MAX_VALUE];

    start = 0;

    while (start < len) {

        for (i = start; i < len && args[i] != '&'; i++) {
            /* void */
        }

        for (eq = start; eq < i && args[eq] != '='; eq++) {
            /* void */
        }

        nlen = compliance_query_decode(args + start, eq - start, name,
                                       sizeof(name));

        if (compliance_query_name_is(name, nlen, "api_key")
            || compliance_query_name_is(name, nlen, "apikey")
            || compliance_query_name_is(name, nlen, "access_token"))
        {
            return 1;
        }

        if (eq < i && i - eq - 1 <= 3 * COMPLIANCE_QUERY_MAX_VALUE) {
            vlen = compliance_query_decode(args + eq + 1, i - eq - 1, value,
                                           sizeof(value));

            if (compliance_query_is_jwt(value, vlen)
                || compliance_query_is_api_key(value, vlen))
            {
                return 1;
            }
        }

        start = i + 1;
    }

    return 0;
}
