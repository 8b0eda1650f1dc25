/*
 * base64url without padding, strict decoding.
 */

#include "compliance_b64url.h"


static const u_char  compliance_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0xff marks every byte outside the URL-safe alphabet, '=' included. */
static const u_char  compliance_b64url_value[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff,   62, 0xff, 0xff,
      52,   53,   54,   55,   56,   57,   58,   59,
      60,   61, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff,    0,    1,    2,    3,    4,    5,    6,
       7,    8,    9,   10,   11,   12,   13,   14,
      15,   16,   17,   18,   19,   20,   21,   22,
      23,   24,   25, 0xff, 0xff, 0xff, 0xff,   63,
    0xff,   26,   27,   28,   29,   30,   31,   32,
      33,   34,   35,   36,   37,   38,   39,   40,
      41,   42,   43,   44,   45,   46,   47,   48,
      49,   50,   51, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};


size_t
compliance_b64url_encode(u_char *dst, const u_char *src, size_t len)
{
    u_char        *d;
    const u_char  *a;

    a = compliance_b64url_alphabet;
    d = dst;

    while (len >= 3) {
        *d++ = a[src[0] >> 2];
        *d++ = a[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = a[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = a[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len == 1) {
        *d++ = a[src[0] >> 2];
        *d++ = a[(src[0] & 0x03) << 4];

    } else if (len == 2) {
        *d++ = a[src[0] >> 2];
        *d++ = a[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = a[(src[1] & 0x0f) << 2];
    }

    return (size_t) (d - dst);
}


int
compliance_b64url_decode(u_char *dst, size_t *dlen, const u_char *src,
    size_t len)
{
    u_char         c0, c1, c2, c3;
    u_char        *d;
    size_t         rest;
    const u_char  *v;

    v = compliance_b64url_value;
    rest = len % 4;

    /* a single leftover character cannot carry a whole byte */
    if (rest == 1) {
        return -1;
    }

    d = dst;
    len -= rest;

    while (len) {
        c0 = v[src[0]];
        c1 = v[src[1]];
        c2 = v[src[2]];
        c3 = v[src[3]];

        if ((c0 | c1 | c2 | c3) & 0x80) {
            return -1;
        }

        *d++ = (u_char) (c0 << 2 | c1 >> 4);
        *d++ = (u_char) (c1 << 4 | c2 >> 2);
        *d++ = (u_char) (c2 << 6 | c3);

        src += 4;
        len -= 4;
    }

    /*
     * The unused low bits of the last character must be zero, otherwise
     * several texts would decode to the same bytes (token malleability).
     */

    if (rest == 2) {
        c0 = v[src[0]];
        c1 = v[src[1]];

        if (((c0 | c1) & 0x80) || (c1 & 0x0f)) {
            return -1;
        }

        *d++ = (u_char) (c0 << 2 | c1 >> 4);

    } else if (rest == 3) {
        c0 = v[src[0]];
        c1 = v[src[1]];
        c2 = v[src[2]];

        if (((c0 | c1 | c2) & 0x80) || (c2 & 0x03)) {
            return -1;
        }

        *d++ = (u_char) (c0 << 2 | c1 >> 4);
        *d++ = (u_char) (c1 << 4 | c2 >> 2);
    }

    *dlen = (size_t) (d - dst);

    return 0;
}
