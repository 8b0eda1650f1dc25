/*
 * JSON Schema formats: hand-written checks, no regex, no allocation.
 */

#include <string.h>

#include "compliance_format.h"


#define COMPLIANCE_FORMAT_LOCAL_MAX   64
#define COMPLIANCE_FORMAT_HOST_MAX    253
#define COMPLIANCE_FORMAT_LABEL_MAX   63


static int compliance_format_digits(const u_char *s, size_t n, unsigned *v);
static int compliance_format_hostname(const u_char *s, size_t len);
static int compliance_format_atext(u_char c);


static int
compliance_format_digits(const u_char *s, size_t n, unsigned *v)
{
    size_t    i;
    unsigned  x;

    x = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        x = x * 10 + (unsigned) (s[i] - '0');
    }

    *v = x;

    return 0;
}


int
compliance_format_date(const u_char *s, size_t len)
{
    unsigned  y, m, d, dim;

    static const unsigned  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (len != 10 || s[4] != '-' || s[7] != '-'
        || compliance_format_digits(s, 4, &y) != 0
        || compliance_format_digits(s + 5, 2, &m) != 0
        || compliance_format_digits(s + 8, 2, &d) != 0)
    {
        return 0;
    }

    if (m < 1 || m > 12 || d < 1) {
        return 0;
    }

    dim = days[m - 1];

    if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) {
        dim = 29;
    }

    return d <= dim;
}


int
compliance_format_date_time(const u_char *s, size_t len)
{
    int           sign, utc;
    size_t        i;
    unsigned      hh, mm, ss, oh, om;
    const u_char  *end;

    if (len < 20 || !compliance_format_date(s, 10)
        || (s[10] != 'T' && s[10] != 't'))
    {
        return 0;
    }

    s += 11;
    end = s + (len - 11);

    /* HH:MM:SS */
    if (end - s < 8 || s[2] != ':' || s[5] != ':'
        || compliance_format_digits(s, 2, &hh) != 0
        || compliance_format_digits(s + 3, 2, &mm) != 0
        || compliance_format_digits(s + 6, 2, &ss) != 0
        || hh > 23 || mm > 59 || ss > 60)
    {
        return 0;
    }

    s += 8;

    if (s < end && *s == '.') {
        s++;

        for (i = 0; s + i < end && s[i] >= '0' && s[i] <= '9'; i++) {
            /* void */
        }

        if (i == 0) {
            return 0;
        }

        s += i;
    }

    if (s == end) {
        return 0;
    }

    oh = 0;
    om = 0;
    sign = 0;

    if ((*s == 'Z' || *s == 'z') && end - s == 1) {
        /* UTC */

    } else if ((*s == '+' || *s == '-') && end - s == 6 && s[3] == ':'
               && compliance_format_digits(s + 1, 2, &oh) == 0
               && compliance_format_digits(s + 4, 2, &om) == 0
               && oh <= 23 && om <= 59)
    {
        sign = (*s == '+') ? 1 : -1;

    } else {
        return 0;
    }

    if (ss == 60) {
        /* a leap second is 23:59:60 UTC: local time minus the offset */
        utc = ((int) (hh * 60 + mm) - sign * (int) (oh * 60 + om)
               + 24 * 60) % (24 * 60);

        if (utc != 23 * 60 + 59) {
            return 0;
        }
    }

    return 1;
}


/* RFC 5322 atext */
static int
compliance_format_atext(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}


static int
compliance_format_hostname(const u_char *s, size_t len)
{
    size_t  i, label;

    if (len == 0 || len > COMPLIANCE_FORMAT_HOST_MAX) {
        return 0;
    }

    label = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }

            label = 0;
            continue;
        }

        if (s[i] == '-') {
            if (label == 0) {
                return 0;
            }

        } else if (!((s[i] >= 'a' && s[i] <= 'z')
                     || (s[i] >= 'A' && s[i] <= 'Z')
                     || (s[i] >= '0' && s[i] <= '9')))
        {
            return 0;
        }

        if (++label > COMPLIANCE_FORMAT_LABEL_MAX) {
            return 0;
        }
    }

    return label != 0 && s[len - 1] != '-';
}


int
compliance_format_email(const u_char *s, size_t len)
{
    size_t         i, at;
    const u_char  *d;
    size_t         dlen;

    if (len == 0) {
        return 0;
    }

    if (s[0] == '"') {
        /* quoted-string: printable ASCII, '\' quotes the next one */
        for (i = 1; i < len && s[i] != '"'; i++) {
            if (s[i] == '\\') {
                i++;

                if (i == len || s[i] < 0x20 || s[i] > 0x7e) {
                    return 0;
                }

                continue;
            }

            if (s[i] < 0x20 || s[i] > 0x7e) {
                return 0;
            }
        }

        if (i == len) {
            return 0;
        }

        at = i + 1;

    } else {
        /* dot-atom: atext runs separated by single dots */
        for (i = 0; i < len && s[i] != '@'; i++) {
            if (s[i] == '.') {
                if (i == 0 || s[i - 1] == '.') {
                    return 0;
                }

                continue;
            }

            if (!compliance_format_atext(s[i])) {
                return 0;
            }
        }

        if (i == 0 || i == len || s[i - 1] == '.') {
            return 0;
        }

        at = i;
    }

    if (at > COMPLIANCE_FORMAT_LOCAL_MAX || at >= len || s[at] != '@') {
        return 0;
    }

    d = s + at + 1;
    dlen = len - at - 1;

    if (dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
        if (dlen > 7 && memcmp(d + 1, "IPv6:", 5) == 0) {
            return compliance_format_ipv6(d + 6, dlen - 7);
        }

        return compliance_format_ipv4(d + 1, dlen - 2);
    }

    return compliance_format_hostname(d, dlen);
}


int
compliance_format_ipv4(const u_char *s, size_t len)
{
    size_t    i, part, n;
    unsigned  v;

    part = 0;
    n = 0;
    v = 0;

    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (n == 0 || v > 255) {
                return 0;
            }

            part++;
            n = 0;
            v = 0;
            continue;
        }

        if (s[i] < '0' || s[i] > '9' || n == 3) {
            return 0;
        }

        /* a leading zero reads as octal in some parsers: refused */
        if (n == 1 && v == 0) {
            return 0;
        }

        v = v * 10 + (unsigned) (s[i] - '0');
        n++;
    }

    return part == 4;
}


int
compliance_format_ipv6(const u_char *s, size_t len)
{
    int     dbl;
    size_t  i, groups, n, start;
    u_char  c;

    groups = 0;
    dbl = 0;
    i = 0;

    if (len < 2) {
        return 0;
    }

    if (s[0] == ':') {
        if (s[1] != ':') {
            return 0;
        }

        dbl = 1;
        i = 2;

        if (len == 2) {
            return 1;
        }
    }

    for ( ;; ) {
        start = i;

        for (n = 0; i < len && n < 5; i++, n++) {
            c = s[i];

            if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                              && (c | 0x20) <= 'f')))
            {
                break;
            }
        }

        if (i < len && s[i] == '.') {
            /* the dotted-quad tail stands for two groups */
            if (!compliance_format_ipv4(s + start, len - start)) {
                return 0;
            }

            groups += 2;
            break;
        }

        if (n == 0 || n > 4) {
            return 0;
        }

        groups++;

        if (i == len) {
            break;
        }

        if (s[i] != ':') {
            return 0;
        }

        i++;

        if (i < len && s[i] == ':') {
            if (dbl) {
                return 0;
            }

            dbl = 1;
            i++;

            if (i == len) {
                break;
            }

        } else if (i == len) {
            /* a single trailing ':' */
            return 0;
        }
    }

    return dbl ? groups <= 7 : groups == 8;
}


int
compliance_format_uuid(const u_char *s, size_t len)
{
    size_t  i;
    u_char  c;

    if (len != 36) {
        return 0;
    }

    for (i = 0; i < 36; i++) {
        c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }

            continue;
        }

        if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                         && (c | 0x20) <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}
