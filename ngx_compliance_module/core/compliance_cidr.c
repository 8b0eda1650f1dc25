/*
 * IPv4/IPv6 CIDR lists.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_cidr.h"


/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" fits in 64. */
#define COMPLIANCE_CIDR_MAX_ONE  64


static int compliance_cidr_parse_prefix(const u_char *p, size_t len,
    unsigned max);
static void compliance_cidr_mask(u_char *addr, size_t size, unsigned prefix);
static int compliance_cidr_bits_equal(const u_char *a, const u_char *b,
    unsigned prefix);


static int
compliance_cidr_parse_prefix(const u_char *p, size_t len, unsigned max)
{
    size_t    i;
    unsigned  v;

    /* Only plain decimal: no sign, no leading zero, at most 3 digits. */
    if (len == 0 || len > 3 || (len > 1 && p[0] == '0')) {
        return -1;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (unsigned) (p[i] - '0');
    }

    if (v > max) {
        return -1;
    }

    return (int) v;
}


static void
compliance_cidr_mask(u_char *addr, size_t size, unsigned prefix)
{
    size_t  i;

    for (i = 0; i < size; i++) {
        if (prefix >= 8) {
            prefix -= 8;
            continue;
        }

        addr[i] &= (u_char) (0xff << (8 - prefix));
        prefix = 0;
    }
}


static int
compliance_cidr_bits_equal(const u_char *a, const u_char *b,
    unsigned prefix)
{
    size_t  full;
    u_char  m;

    full = prefix / 8;

    if (memcmp(a, b, full) != 0) {
        return 0;
    }

    if (prefix % 8 == 0) {
        return 1;
    }

    m = (u_char) (0xff << (8 - prefix % 8));

    return (a[full] & m) == (b[full] & m);
}


int
compliance_cidr_parse(const u_char *p, size_t len, compliance_cidr_t *c)
{
    int            prefix;
    char           buf[COMPLIANCE_CIDR_MAX_ONE + 1];
    size_t         alen, size;
    unsigned       max;
    const u_char  *slash;

    if (len == 0 || len > COMPLIANCE_CIDR_MAX_ONE
        || memchr(p, '\0', len) != NULL)
    {
        return -1;
    }

    slash = memchr(p, '/', len);
    alen = slash ? (size_t) (slash - p) : len;

    memcpy(buf, p, alen);
    buf[alen] = '\0';

    memset(c, 0, sizeof(compliance_cidr_t));

    if (memchr(buf, ':', alen) != NULL) {
        if (inet_pton(AF_INET6, buf, c->addr) != 1) {
            return -1;
        }

        c->family = AF_INET6;
        size = 16;
        max = 128;

    } else {
        if (inet_pton(AF_INET, buf, c->addr) != 1) {
            return -1;
        }

        c->family = AF_INET;
        size = 4;
        max = 32;
    }

    if (slash) {
        prefix = compliance_cidr_parse_prefix(slash + 1, len - alen - 1, max);
        if (prefix < 0) {
            return -1;
        }

    } else {
        prefix = (int) max;
    }

    c->prefix = (uint8_t) prefix;

    compliance_cidr_mask(c->addr, size, (unsigned) prefix);

    return 0;
}


int
compliance_cidr_list_parse(const u_char *p, size_t len,
    compliance_cidr_list_t *list, char *err, size_t errlen)
{
    size_t              n, i, elen;
    const u_char       *e, *end, *comma;
    compliance_cidr_t  *rules;

    list->rules = NULL;
    list->n = 0;

    if (len == 0) {
        snprintf(err, errlen, "empty address list");
        return -1;
    }

    if (len > COMPLIANCE_CIDR_MAX_TEXT) {
        snprintf(err, errlen, "address list longer than %d bytes",
                 COMPLIANCE_CIDR_MAX_TEXT);
        return -1;
    }

    n = 1;

    for (i = 0; i < len; i++) {
        if (p[i] == ',') {
            n++;
        }
    }

    if (n > COMPLIANCE_CIDR_MAX_RULES) {
        snprintf(err, errlen, "more than %d addresses in list",
                 COMPLIANCE_CIDR_MAX_RULES);
        return -1;
    }

    rules = calloc(n, sizeof(compliance_cidr_t));
    if (rules == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    e = p;
    end = p + len;

    for (i = 0; i < n; i++) {
        comma = memchr(e, ',', (size_t) (end - e));
        elen = comma ? (size_t) (comma - e) : (size_t) (end - e);

        if (elen == 0) {
            snprintf(err, errlen, "empty element in address list");
            free(rules);
            return -1;
        }

        if (compliance_cidr_parse(e, elen, &rules[i]) != 0) {
            /* Addresses are not secret; the echo is bounded. */
            snprintf(err, errlen, "invalid address or CIDR \"%.*s\"",
                     (int) (elen > 64 ? 64 : elen), e);
            free(rules);
            return -1;
        }

        e += elen + 1;
    }

    list->rules = rules;
    list->n = n;

    return 0;
}


void
compliance_cidr_list_free(compliance_cidr_list_t *list)
{
    free(list->rules);
    list->rules = NULL;
    list->n = 0;
}


int
compliance_cidr_match(const compliance_cidr_t *c, const struct sockaddr *sa)
{
    const u_char               *a;
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    if (sa == NULL) {
        return 0;
    }

    if (sa->sa_family == AF_INET) {
        if (c->family != AF_INET) {
            return 0;
        }

        sin = (const struct sockaddr_in *) sa;
        a = (const u_char *) &sin->sin_addr;

        return compliance_cidr_bits_equal(a, c->addr, c->prefix);
    }

    if (sa->sa_family != AF_INET6) {
        return 0;
    }

    sin6 = (const struct sockaddr_in6 *) sa;
    a = (const u_char *) &sin6->sin6_addr;

    if (c->family == AF_INET6) {
        return compliance_cidr_bits_equal(a, c->addr, c->prefix);
    }

    /* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        return compliance_cidr_bits_equal(a + 12, c->addr, c->prefix);
    }

    return 0;
}


int
compliance_cidr_list_match(const compliance_cidr_list_t *list,
    const struct sockaddr *sa)
{
    size_t  i;

    for (i = 0; i < list->n; i++) {
        if (compliance_cidr_match(&list->rules[i], sa)) {
            return 1;
        }
    }

    return 0;
}
