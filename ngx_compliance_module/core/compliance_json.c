/*
 * JSON string escaping, table-driven with an ASCII fast path.
 */

#include <string.h>

#include "compliance_json.h"


static size_t compliance_json_utf8_len(const u_char *p, const u_char *end);


/*
 * Escaped length of each byte: 1 passes through, 2 is a short escape,
 * 6 is \u00XX, 0 means a UTF-8 sequence has to be examined.
 */
static const u_char  compliance_json_class[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};


/* The escape an invalid byte turns into: U+FFFD, kept as pure ASCII. */
#define COMPLIANCE_JSON_FFFD      "\\ufffd"
#define COMPLIANCE_JSON_FFFD_LEN  (sizeof(COMPLIANCE_JSON_FFFD) - 1)


/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 table 3-7:
 * no overlongs, no surrogates, nothing above U+10FFFF), 0 if p does not
 * start one.
 */
static size_t
compliance_json_utf8_len(const u_char *p, const u_char *end)
{
    u_char  c, lo, hi;
    size_t  n, i;

    c = p[0];

    if (c < 0xc2) {
        return 0;
    }

    if (c < 0xe0) {
        n = 2;
        lo = 0x80;
        hi = 0xbf;

    } else if (c < 0xf0) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;
        hi = (c == 0xed) ? 0x9f : 0xbf;

    } else if (c < 0xf5) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;
        hi = (c == 0xf4) ? 0x8f : 0xbf;

    } else {
        return 0;
    }

    if ((size_t) (end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    return n;
}


size_t
compliance_json_escape_len(const u_char *s, size_t len)
{
    size_t         n, k;
    u_char         t;
    const u_char  *end;

    n = 0;
    end = s + len;

    while (s < end) {
        t = compliance_json_class[*s];

        if (t) {
            n += t;
            s++;
            continue;
        }

        k = compliance_json_utf8_len(s, end);

        if (k) {
            n += k;
            s += k;

        } else {
            n += COMPLIANCE_JSON_FFFD_LEN;
            s++;
        }
    }

    return n;
}


u_char *
compliance_json_escape(u_char *dst, const u_char *s, size_t len)
{
    size_t         k;
    u_char         c;
    const u_char  *end, *run;

    static const u_char  hex[] = "0123456789abcdef";

    end = s + len;

    while (s < end) {

        /* the common case: copy a run of plain ASCII at once */
        run = s;

        while (s < end && compliance_json_class[*s] == 1) {
            s++;
        }

        if (s != run) {
            memcpy(dst, run, (size_t) (s - run));
            dst += s - run;

            if (s == end) {
                break;
            }
        }

        c = *s;

        switch (compliance_json_class[c]) {

        case 2:
            *dst++ = '\\';

            switch (c) {
            case '\b':
                *dst++ = 'b';
                break;
            case '\f':
                *dst++ = 'f';
                break;
            case '\n':
                *dst++ = 'n';
                break;
            case '\r':
                *dst++ = 'r';
                break;
            case '\t':
                *dst++ = 't';
                break;
            default:
                /* '"' and '\\' stand for themselves */
                *dst++ = c;
                break;
            }

            s++;
            break;

        case 6:
            *dst++ = '\\';
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0x0f];
            s++;
            break;

        default:
            k = compliance_json_utf8_len(s, end);

            if (k) {
                memcpy(dst, s, k);
                dst += k;
                s += k;

            } else {
                memcpy(dst, COMPLIANCE_JSON_FFFD, COMPLIANCE_JSON_FFFD_LEN);
                dst += COMPLIANCE_JSON_FFFD_LEN;
                s++;
            }

            break;
        }
    }

    return dst;
}
