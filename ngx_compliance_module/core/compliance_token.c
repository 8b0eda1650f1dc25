/*
 * Credential shapes and the percent-decoding reader (see the header).
 */

#include <string.h>

#include "compliance_token.h"


/* the longest parameter name part that can be a secret one, + slack */
#define COMPLIANCE_TOKEN_PARAM_MAX   16

/* a parameter name is read this far (raw bytes) at most */
#define COMPLIANCE_TOKEN_NAME_MAX    128

/* blanks a JOSE header may start with before its '{' */
#define COMPLIANCE_TOKEN_JSON_WS     16


typedef struct {
    const char  *name;
    size_t       len;
    int          kind;
} compliance_token_name_t;


#define compliance_token_name(s, kind)  { s, sizeof(s) - 1, kind }

/* sorted by length: compliance_token_by_len[] points into it */
static const compliance_token_name_t  compliance_token_names[] = {
    compliance_token_name("pwd", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("key", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("ssn", COMPLIANCE_TOKEN_PARAM_SSN),
    compliance_token_name("token", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("passwd", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("secret", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("apikey", COMPLIANCE_TOKEN_PARAM_CREDENTIAL),
    compliance_token_name("api_key", COMPLIANCE_TOKEN_PARAM_CREDENTIAL),
    compliance_token_name("password", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("signature", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("access_token", COMPLIANCE_TOKEN_PARAM_CREDENTIAL),
    compliance_token_name("refresh_token", COMPLIANCE_TOKEN_PARAM_SECRET),
    compliance_token_name("client_secret", COMPLIANCE_TOKEN_PARAM_SECRET),
    { NULL, 0, 0 }
};

#define N(k)  (&compliance_token_names[k])

/* the first name of each length, NULL for lengths no name has */
static const compliance_token_name_t
    *compliance_token_by_len[COMPLIANCE_TOKEN_PARAM_MAX] =
{
    NULL, NULL, NULL, N(0), NULL, N(3), N(4), N(7), N(8), N(9), NULL, NULL,
    N(10), N(11), NULL, NULL
};

#undef N


/* base64url digit values, -1 for anything else */
const signed char  compliance_token_b64_value[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


static int compliance_token_lower(int c);
static int compliance_token_blank(int c, size_t n);
static size_t compliance_token_blanks(const u_char *in, size_t len,
    size_t i);


static int
compliance_token_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
}


/* a raw '+' is a space in a query string; an encoded one is a plus */
static int
compliance_token_blank(int c, size_t n)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n'
           || (c == '+' && n == 1);
}


static size_t
compliance_token_blanks(const u_char *in, size_t len, size_t i)
{
    int     c;
    size_t  n;

    while (i < len) {
        c = compliance_token_getc(in, len, i, &n);

        if (!compliance_token_blank(c, n)) {
            break;
        }

        i += n;
    }

    return i;
}


size_t
compliance_token_api_key(const u_char *in, size_t len, size_t i,
    unsigned flags)
{
    int     c, exact;
    size_t  n, k;

    exact = flags & COMPLIANCE_TOKEN_EXACT;

    for (k = 0; k < COMPLIANCE_TOKEN_KEY_LEN; k++) {
        if (i >= len) {
            return 0;
        }

        if (exact) {
            c = in[i];
            n = 1;

        } else {
            c = compliance_token_lower(compliance_token_getc(in, len, i, &n));
        }

        if (k < 3) {
            if (c != COMPLIANCE_TOKEN_KEY_PREFIX[k]) {
                return 0;
            }

        } else if (k < 3 + COMPLIANCE_TOKEN_KEY_ID_LEN) {
            if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) {
                return 0;
            }

        } else if (k == 3 + COMPLIANCE_TOKEN_KEY_ID_LEN) {
            if (c != '_') {
                return 0;
            }

        } else if (!compliance_token_b64url(c)) {
            return 0;
        }

        i += n;
    }

    if (i < len) {
        c = exact ? in[i] : compliance_token_getc(in, len, i, &n);

        if (compliance_token_b64url(c)) {
            return 0;
        }
    }

    return i;
}


size_t
compliance_token_jwt(const u_char *in, size_t len, size_t i)
{
    int       c, v, state;
    size_t    n, seg, dots, blanks;
    unsigned  acc, bits, b;

    /*
     * The first segment must decode to the start of a JSON object: blanks,
     * '{', blanks, '"'.  Decided within its first few characters.
     */
    state = 0;
    acc = 0;
    bits = 0;
    blanks = 0;
    seg = 0;

    while (i < len) {
        c = compliance_token_getc(in, len, i, &n);

        if (!compliance_token_b64url(c)) {
            break;
        }

        i += n;
        seg++;

        if (state == 2) {
            continue;
        }

        v = compliance_token_b64_value[c];
        acc = (acc << 6 | (unsigned) v) & 0xfff;
        bits += 6;

        if (bits < 8) {
            continue;
        }

        bits -= 8;
        b = (acc >> bits) & 0xff;

        if (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
            if (++blanks > COMPLIANCE_TOKEN_JSON_WS) {
                return 0;
            }

        } else if (state == 0 && b == '{') {
            state = 1;

        } else if (state == 1 && b == '"') {
            state = 2;

        } else {
            return 0;
        }
    }

    if (state != 2) {
        return 0;
    }

    /* then ".payload.signature" (a JWE has more); an empty one ends it */
    dots = 0;

    while (i < len) {
        c = compliance_token_getc(in, len, i, &n);

        if (c == '.') {
            if (seg == 0) {
                break;
            }

            dots++;
            seg = 0;

        } else if (compliance_token_b64url(c)) {
            seg++;

        } else {
            break;
        }

        i += n;
    }

    return (dots >= 2) ? i : 0;
}


size_t
compliance_token_scheme(const u_char *in, size_t len, size_t i)
{
    int           c;
    size_t        n, k, start;
    const char   *word;

    static const char  *words[] = { "bearer", "apikey", NULL };

    for (k = 0; words[k]; k++) {
        word = words[k];
        start = i;

        for ( ;; ) {
            if (*word == '\0') {
                break;
            }

            if (start >= len) {
                return 0;
            }

            c = compliance_token_getc(in, len, start, &n);

            if (compliance_token_lower(c) != *word) {
                break;
            }

            start += n;
            word++;
        }

        if (*word == '\0') {
            n = compliance_token_blanks(in, len, start);
            return (n > start) ? n : 0;
        }
    }

    return 0;
}


int
compliance_token_param(const u_char *in, size_t len, size_t i,
    size_t *value)
{
    int                             c;
    u_char                          buf[2][COMPLIANCE_TOKEN_PARAM_MAX];
    u_char                         *cur, *last, *tmp;
    size_t                          n, k, lk, end;
    const compliance_token_name_t  *t;

    /* two buffers that swap roles: the last part is never copied */
    cur = buf[0];
    last = buf[1];
    k = 0;
    lk = 0;
    end = (len - i > COMPLIANCE_TOKEN_NAME_MAX) ? i + COMPLIANCE_TOKEN_NAME_MAX
                                                 : len;
    *value = len;

    for ( ;; ) {
        if (i >= end) {
            if (end != len) {
                return COMPLIANCE_TOKEN_PARAM_NONE;
            }

            break;
        }

        c = in[i];
        n = 1;

        if (c == '%') {
            c = compliance_token_getc(in, len, i, &n);

        } else if (c == '&' || c == ';') {
            /* a name without a value */
            *value = i;
            break;

        } else if (c == '=') {
            *value = i + 1;
            break;
        }

        i += n;

        if (c >= 'a' && c <= 'z') {
            /* the common case */

        } else if (c >= 'A' && c <= 'Z') {
            c |= 0x20;

        } else if (c == '_' || c == '-') {
            c = '_';

        } else if (c == '[' || c == ']' || c == '.') {
            /* "user[password]", "password[]", "user.password": the last */
            if (k) {
                tmp = last;
                last = cur;
                cur = tmp;
                lk = k;
            }

            k = 0;
            continue;

        } else if (!(c >= '0' && c <= '9')) {
            return COMPLIANCE_TOKEN_PARAM_NONE;
        }

        /* a part too long for any listed name never matches one */
        if (k < COMPLIANCE_TOKEN_PARAM_MAX) {
            cur[k] = (u_char) c;
        }

        k++;
    }

    if (k) {
        last = cur;
        lk = k;
    }

    if (lk >= COMPLIANCE_TOKEN_PARAM_MAX) {
        return COMPLIANCE_TOKEN_PARAM_NONE;
    }

    for (t = compliance_token_by_len[lk]; t && t->name; t++) {
        if (t->len != lk) {
            break;
        }

        if (t->name[0] == last[0] && memcmp(t->name, last, lk) == 0) {
            return t->kind;
        }
    }

    return COMPLIANCE_TOKEN_PARAM_NONE;
}


uint64_t
compliance_token_slot(const u_char *p, size_t len, const uint64_t seed[2])
{
    size_t    n;
    uint64_t  a, b, h;

    a = 0;
    b = 0;
    n = len < 8 ? len : 8;
    memcpy(&a, p + len - n, n);

    if (len > 8) {
        n = len - 8 < 8 ? len - 8 : 8;
        memcpy(&b, p + len - 8 - n, n);
    }

    /* two multiply-xorshift rounds */
    h = (a ^ seed[0]) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 32;
    h = (h ^ b ^ seed[1] ^ len) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;

    return h;
}


int
compliance_token_equal(const u_char *a, const u_char *b, size_t len)
{
    size_t    i;
    uint64_t  x, y, d;

    d = 0;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }

    for ( /* void */ ; i < len; i++) {
        d |= (uint64_t) (a[i] ^ b[i]);
    }

    /* the top bit of d | -d is set exactly when d is not 0 */
    return (int) (((d | (0 - d)) >> 63) ^ 1);
}


int
compliance_token_scope_valid(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\') {
            return 0;
        }
    }

    return 1;
}


int
compliance_token_is_credential(const u_char *in, size_t len)
{
    size_t  i, e;

    i = compliance_token_blanks(in, len, 0);

    e = compliance_token_scheme(in, len, i);
    if (e) {
        i = e;
    }

    e = compliance_token_jwt(in, len, i);

    if (e == 0) {
        e = compliance_token_api_key(in, len, i, 0);
    }

    if (e == 0) {
        return 0;
    }

    return compliance_token_blanks(in, len, e) == len;
}
