/*
 * JSON string escaping, table-driven with an ASCII fast path, and a
 * strict reader of one object that allocates nothing (compliance_json.h).
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
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


/* --- reading */

/*
 * Every name needs 4 bytes at least ("":0), so this many names can be
 * open at once; chained in hash buckets, so a duplicate check compares
 * only with names of its own object that share its bucket.
 */
#define COMPLIANCE_JSON_MAX_KEYS  (COMPLIANCE_JSON_READ_MAX / 4 + 1)
#define COMPLIANCE_JSON_BUCKETS   128

/* High bit of a length while reading: the text holds escapes. */
#define COMPLIANCE_JSON_ESC       0x8000

#define compliance_json_ws(c)                                                \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

#define compliance_json_digit(c)  ((c) >= '0' && (c) <= '9')


typedef struct {
    uint16_t  off;
    uint16_t  len;      /* as written, COMPLIANCE_JSON_ESC if escaped */
    uint16_t  next;     /* 1 + index of the previous name in the bucket */
    uint16_t  hash;
} compliance_json_key_t;


typedef struct {
    const u_char           *text;
    size_t                  nkeys;
    uint16_t                head[COMPLIANCE_JSON_BUCKETS];
    compliance_json_key_t   keys[COMPLIANCE_JSON_MAX_KEYS];
} compliance_json_keys_t;


/* Decodes a string body one unescaped byte at a time. */
typedef struct {
    const u_char  *p;
    const u_char  *end;
    u_char         out[4];
    unsigned       n;
    unsigned       i;
} compliance_json_iter_t;


static const u_char *compliance_json_skip(const u_char *p,
    const u_char *end);
static int compliance_json_hex4(const u_char *p, const u_char *end);
static const u_char *compliance_json_string(const u_char *p,
    const u_char *end, unsigned *esc);
static const u_char *compliance_json_number(const u_char *p,
    const u_char *end);
static int compliance_json_key_add(compliance_json_keys_t *ks, size_t off,
    size_t len, unsigned esc, size_t base);
static uint16_t compliance_json_hash(const u_char *p, size_t len,
    unsigned esc);
static int compliance_json_key_eq(const u_char *text,
    const compliance_json_key_t *k, size_t off, size_t len, unsigned esc);
static void compliance_json_iter_init(compliance_json_iter_t *it,
    const u_char *p, size_t len);
static int compliance_json_iter_next(compliance_json_iter_t *it);


static const u_char *
compliance_json_skip(const u_char *p, const u_char *end)
{
    while (p < end && compliance_json_ws(*p)) {
        p++;
    }

    return p;
}


static int
compliance_json_hex4(const u_char *p, const u_char *end)
{
    int     v, i;
    u_char  c;

    if (end - p < 4) {
        return -1;
    }

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = v * 16 + ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    return v;
}


/*
 * p follows an opening quote; returns the closing quote, or NULL when the
 * string is not well formed (jansson's lexer refuses the same strings).
 */
static const u_char *
compliance_json_string(const u_char *p, const u_char *end, unsigned *esc)
{
    int     cp, lo;
    size_t  k;
    u_char  c;

    while (p < end) {
        c = *p;

        if (c == '"') {
            return p;
        }

        if (c >= 0x20 && c < 0x80 && c != '\\') {
            p++;
            continue;
        }

        if (c < 0x20) {
            return NULL;
        }

        if (c >= 0x80) {
            k = compliance_json_utf8_len(p, end);
            if (k == 0) {
                return NULL;
            }

            p += k;
            continue;
        }

        /* a backslash */

        *esc = 1;

        if (++p == end) {
            return NULL;
        }

        switch (*p) {

        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p++;
            continue;

        case 'u':
            break;

        default:
            return NULL;
        }

        cp = compliance_json_hex4(p + 1, end);

        /* \u0000 is refused without JSON_ALLOW_NUL, in names always */
        if (cp <= 0) {
            return NULL;
        }

        p += 5;

        if (cp >= 0xdc00 && cp <= 0xdfff) {
            return NULL;
        }

        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') {
                return NULL;
            }

            lo = compliance_json_hex4(p + 2, end);

            if (lo < 0xdc00 || lo > 0xdfff) {
                return NULL;
            }

            p += 6;
        }
    }

    return NULL;
}


/*
 * p is at a number's first byte; returns the byte after it, or NULL for
 * what jansson refuses: a malformed number, an integer outside a long
 * long, a real that overflows a double.
 */
static const u_char *
compliance_json_number(const u_char *p, const u_char *end)
{
    int            real;
    char          *e;
    size_t         nd;
    double         d;
    const u_char  *s, *digits;

    s = p;
    real = 0;

    if (*p == '-' && ++p == end) {
        return NULL;
    }

    digits = p;

    if (*p == '0') {
        p++;

    } else if (*p >= '1' && *p <= '9') {
        while (p < end && compliance_json_digit(*p)) {
            p++;
        }

    } else {
        return NULL;
    }

    nd = (size_t) (p - digits);

    if (p < end && *p == '.') {
        if (++p == end || !compliance_json_digit(*p)) {
            return NULL;
        }

        while (p < end && compliance_json_digit(*p)) {
            p++;
        }

        real = 1;
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == end || !compliance_json_digit(*p)) {
            return NULL;
        }

        while (p < end && compliance_json_digit(*p)) {
            p++;
        }

        real = 1;
    }

    /*
     * Inside an object a number is always followed by another byte, so
     * strtod() stops within the text (it cannot read on past a byte that
     * ends a JSON number).
     */
    if (p == end) {
        return NULL;
    }

    if (real) {
        errno = 0;
        d = strtod((const char *) s, &e);

        if ((const u_char *) e != p
            || ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
        {
            return NULL;
        }

        return p;
    }

    /* 19 digits may or may not fit: compare with the limits' digits */
    if (nd > 19
        || (nd == 19
            && memcmp(digits, s == digits ? "9223372036854775807"
                                          : "9223372036854775808", 19) > 0))
    {
        return NULL;
    }

    return p;
}


static uint16_t
compliance_json_hash(const u_char *p, size_t len, unsigned esc)
{
    int                     c;
    uint32_t                h;
    const u_char           *end;
    compliance_json_iter_t  it;

    h = 2166136261u;

    if (!esc) {
        for (end = p + len; p < end; p++) {
            h = (h ^ *p) * 16777619u;
        }

    } else {
        compliance_json_iter_init(&it, p, len);

        while ((c = compliance_json_iter_next(&it)) >= 0) {
            h = (h ^ (uint32_t) c) * 16777619u;
        }
    }

    return (uint16_t) (h ^ (h >> 16));
}


static int
compliance_json_key_eq(const u_char *text, const compliance_json_key_t *k,
    size_t off, size_t len, unsigned esc)
{
    int                     a, b;
    size_t                  klen;
    unsigned                kesc;
    compliance_json_iter_t  ia, ib;

    klen = k->len & ~COMPLIANCE_JSON_ESC;
    kesc = k->len & COMPLIANCE_JSON_ESC;

    if (!kesc && !esc) {
        return klen == len && memcmp(text + k->off, text + off, len) == 0;
    }

    compliance_json_iter_init(&ia, text + k->off, klen);
    compliance_json_iter_init(&ib, text + off, len);

    do {
        a = compliance_json_iter_next(&ia);
        b = compliance_json_iter_next(&ib);

        if (a != b) {
            return 0;
        }

    } while (a >= 0);

    return 1;
}


/* Records a name of the object whose names start at base; -1: a twin. */
static int
compliance_json_key_add(compliance_json_keys_t *ks, size_t off, size_t len,
    unsigned esc, size_t base)
{
    size_t                  i;
    uint16_t                h, b;
    compliance_json_key_t  *k;

    h = compliance_json_hash(ks->text + off, len, esc);
    b = h % COMPLIANCE_JSON_BUCKETS;

    /* a chain runs from newest to oldest: stop at the enclosing object */
    for (i = ks->head[b]; i > base; i = k->next) {
        k = &ks->keys[i - 1];

        if (k->hash == h
            && compliance_json_key_eq(ks->text, k, off, len, esc))
        {
            return -1;
        }
    }

    if (ks->nkeys == COMPLIANCE_JSON_MAX_KEYS) {
        return -1;
    }

    k = &ks->keys[ks->nkeys];
    k->off = (uint16_t) off;
    k->len = (uint16_t) (len | (esc ? COMPLIANCE_JSON_ESC : 0));
    k->next = ks->head[b];
    k->hash = h;

    ks->head[b] = (uint16_t) ++ks->nkeys;

    return 0;
}


int
compliance_json_read(u_char *text, size_t len, size_t max_depth,
    compliance_json_member_t *m, size_t cap, size_t *nm)
{
    u_char                     c, open[COMPLIANCE_JSON_DEPTH_MAX];
    size_t                     depth, n, i, k, off, klen;
    size_t                     base[COMPLIANCE_JSON_DEPTH_MAX];
    unsigned                   esc, vesc, scalar;
    const u_char              *p, *q, *end;
    compliance_json_member_t  *cur;
    compliance_json_keys_t     ks;

    *nm = 0;

    if (len == 0 || len > COMPLIANCE_JSON_READ_MAX || max_depth == 0
        || max_depth > COMPLIANCE_JSON_DEPTH_MAX)
    {
        return -1;
    }

    ks.text = text;
    ks.nkeys = 0;
    memset(ks.head, 0, sizeof(ks.head));

    end = text + len;
    depth = 0;
    n = 0;
    cur = NULL;
    vesc = 0;
    scalar = 0;

    p = compliance_json_skip(text, end);

    if (p == end || *p != '{') {
        return -1;
    }

value:

    /* p < end, at a value */

    switch (*p) {

    case '{':
    case '[':
        if (depth == max_depth) {
            return -1;
        }

        open[depth] = *p;
        base[depth] = ks.nkeys;
        depth++;

        p = compliance_json_skip(p + 1, end);
        if (p == end) {
            return -1;
        }

        if (*p == (open[depth - 1] == '{' ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }

        if (open[depth - 1] == '{') {
            goto member;
        }

        goto value;

    case '"':
        esc = 0;
        q = compliance_json_string(p + 1, end, &esc);
        if (q == NULL) {
            return -1;
        }

        /* at depth 1 a value is a top-level member's */
        if (depth == 1) {
            vesc = esc;
        }

        p = q + 1;
        goto after;

    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) {
            return -1;
        }

        p += 4;
        scalar = 1;
        goto after;

    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) {
            return -1;
        }

        p += 5;
        scalar = 1;
        goto after;

    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) {
            return -1;
        }

        p += 4;
        scalar = 1;
        goto after;

    default:
        p = compliance_json_number(p, end);
        if (p == NULL) {
            return -1;
        }

        scalar = 1;
        goto after;
    }

member:

    /* p < end, at a member's name */

    if (*p != '"') {
        return -1;
    }

    esc = 0;
    q = compliance_json_string(p + 1, end, &esc);
    if (q == NULL) {
        return -1;
    }

    off = (size_t) (p + 1 - text);
    klen = (size_t) (q - p - 1);

    if (compliance_json_key_add(&ks, off, klen, esc, base[depth - 1]) != 0) {
        return -1;
    }

    p = compliance_json_skip(q + 1, end);
    if (p == end || *p != ':') {
        return -1;
    }

    p = compliance_json_skip(p + 1, end);
    if (p == end) {
        return -1;
    }

    if (depth == 1) {
        if (n == cap) {
            return -1;
        }

        cur = &m[n++];
        cur->name = (uint16_t) off;
        cur->name_len = (uint16_t) (klen | (esc ? COMPLIANCE_JSON_ESC : 0));
        cur->value = (uint16_t) (p - text);
        vesc = 0;
    }

    goto value;

after:

    /* a value ended at p */

    if (depth == 1 && cur) {
        cur->value_len = (uint16_t) (((size_t) (p - text) - cur->value)
                                     | (vesc ? COMPLIANCE_JSON_ESC : 0));
        cur = NULL;
    }

    /*
     * jansson reads one byte past a number or literal and puts it back;
     * a NUL put back is lost (its stream buffer ends at a NUL), so one
     * NUL right after such a value is skipped.  Matched, so both accept
     * the same texts.
     */
    if (scalar) {
        if (p < end && *p == '\0') {
            p++;
        }

        scalar = 0;
    }

    p = compliance_json_skip(p, end);

    if (depth == 0) {
        if (p != end) {
            return -1;
        }

        goto done;
    }

    if (p == end) {
        return -1;
    }

    c = *p;

    if (c == ',') {
        p = compliance_json_skip(p + 1, end);
        if (p == end) {
            return -1;
        }

        if (open[depth - 1] == '{') {
            goto member;
        }

        goto value;
    }

    if (c != (open[depth - 1] == '{' ? '}' : ']')) {
        return -1;
    }

    if (c == '}') {
        /* the object's names leave the buckets newest first */
        for (i = ks.nkeys; i > base[depth - 1]; i--) {
            ks.head[ks.keys[i - 1].hash % COMPLIANCE_JSON_BUCKETS] =
                ks.keys[i - 1].next;
        }

        ks.nkeys = base[depth - 1];
    }

    depth--;
    p++;
    goto after;

done:

    /* names and string values unescaped in place, the rest as written */

    for (i = 0; i < n; i++) {
        if (m[i].name_len & COMPLIANCE_JSON_ESC) {
            k = m[i].name_len & ~COMPLIANCE_JSON_ESC;
            m[i].name_len = (uint16_t) compliance_json_unescape(
                                   text + m[i].name, text + m[i].name, k);
        }

        if (text[m[i].value] != '"') {
            continue;
        }

        k = (m[i].value_len & ~COMPLIANCE_JSON_ESC) - 2;

        if (m[i].value_len & COMPLIANCE_JSON_ESC) {
            k = compliance_json_unescape(text + m[i].value + 1,
                                         text + m[i].value + 1, k);
        }

        m[i].value_len = (uint16_t) k;
    }

    *nm = n;

    return 0;
}


const compliance_json_member_t *
compliance_json_find(const u_char *text, const compliance_json_member_t *m,
    size_t n, const u_char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (m[i].name_len == len
            && memcmp(text + m[i].name, name, len) == 0)
        {
            return &m[i];
        }
    }

    return NULL;
}


int
compliance_json_type(const u_char *text, const compliance_json_member_t *m)
{
    const u_char  *p, *end;

    if (m == NULL) {
        return 0;
    }

    p = text + m->value;

    switch (*p) {

    case '"':
        return COMPLIANCE_JSON_STRING;

    case '{':
        return COMPLIANCE_JSON_OBJECT;

    case '[':
        return COMPLIANCE_JSON_ARRAY;

    case 't':
        return COMPLIANCE_JSON_TRUE;

    case 'f':
        return COMPLIANCE_JSON_FALSE;

    case 'n':
        return COMPLIANCE_JSON_NULL;
    }

    for (end = p + m->value_len; p < end; p++) {
        if (*p == '.' || *p == 'e' || *p == 'E') {
            return COMPLIANCE_JSON_REAL;
        }
    }

    return COMPLIANCE_JSON_INTEGER;
}


long long
compliance_json_integer(const u_char *p, size_t len)
{
    int                 neg;
    const u_char       *end;
    unsigned long long  u;

    end = p + len;
    neg = (p < end && *p == '-');
    p += neg;

    for (u = 0; p < end; p++) {
        u = u * 10 + (unsigned) (*p - '0');
    }

    /* the reader refused anything outside a long long */
    if (neg) {
        return u ? -(long long) (u - 1) - 1 : 0;
    }

    return (long long) u;
}


double
compliance_json_real(const u_char *p)
{
    return strtod((const char *) p, NULL);
}


void
compliance_json_array(compliance_json_array_t *a, const u_char *text,
    const compliance_json_member_t *m)
{
    /* between the brackets */
    a->p = text + m->value + 1;
    a->end = text + m->value + m->value_len - 1;
}


int
compliance_json_next(compliance_json_array_t *a, const u_char **v,
    size_t *len)
{
    int            type;
    size_t         depth;
    const u_char  *p, *end, *s;

    p = a->p;
    end = a->end;

    /* a NUL only ever follows a number or literal: skipped like jansson */
    while (p < end && (compliance_json_ws(*p) || *p == ',' || *p == '\0')) {
        p++;
    }

    if (p >= end) {
        a->p = end;
        return 0;
    }

    /* the text was read before: it is well formed */

    s = p;

    switch (*p) {

    case '"':
        for (p++; *p != '"'; p++) {
            if (*p == '\\') {
                p++;
            }
        }

        *v = s + 1;
        *len = (size_t) (p - s - 1);
        a->p = p + 1;

        return COMPLIANCE_JSON_STRING;

    case '{':
    case '[':
        type = (*p == '{') ? COMPLIANCE_JSON_OBJECT : COMPLIANCE_JSON_ARRAY;
        depth = 0;

        do {
            if (*p == '"') {
                for (p++; *p != '"'; p++) {
                    if (*p == '\\') {
                        p++;
                    }
                }

            } else if (*p == '{' || *p == '[') {
                depth++;

            } else if (*p == '}' || *p == ']') {
                depth--;
            }

            p++;

        } while (depth);

        break;

    case 't':
        type = COMPLIANCE_JSON_TRUE;
        p += 4;
        break;

    case 'f':
        type = COMPLIANCE_JSON_FALSE;
        p += 5;
        break;

    case 'n':
        type = COMPLIANCE_JSON_NULL;
        p += 4;
        break;

    default:
        type = COMPLIANCE_JSON_INTEGER;

        while (p < end && !compliance_json_ws(*p) && *p != ','
               && *p != '\0')
        {
            if (*p == '.' || *p == 'e' || *p == 'E') {
                type = COMPLIANCE_JSON_REAL;
            }

            p++;
        }

        break;
    }

    *v = s;
    *len = (size_t) (p - s);
    a->p = p;

    return type;
}


static void
compliance_json_iter_init(compliance_json_iter_t *it, const u_char *p,
    size_t len)
{
    it->p = p;
    it->end = p + len;
    it->n = 0;
    it->i = 0;
}


/*
 * The next unescaped byte of a well-formed string body, -1 at its end.
 * An escape is always longer than the bytes it stands for, so a writer
 * at or behind the reader can unescape in place.
 */
static int
compliance_json_iter_next(compliance_json_iter_t *it)
{
    int     cp, lo;
    u_char  c;

    if (it->i < it->n) {
        return it->out[it->i++];
    }

    if (it->p == it->end) {
        return -1;
    }

    c = *it->p++;

    if (c != '\\') {
        return c;
    }

    c = *it->p++;

    switch (c) {

    case 'b':
        return '\b';

    case 'f':
        return '\f';

    case 'n':
        return '\n';

    case 'r':
        return '\r';

    case 't':
        return '\t';

    case 'u':
        break;

    default:
        /* '"', '\\' and '/' stand for themselves */
        return c;
    }

    cp = compliance_json_hex4(it->p, it->end);
    it->p += 4;

    if (cp >= 0xd800 && cp <= 0xdbff) {
        lo = compliance_json_hex4(it->p + 2, it->end);
        it->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }

    if (cp < 0x80) {
        return cp;
    }

    if (cp < 0x800) {
        it->out[0] = (u_char) (0xc0 | (cp >> 6));
        it->out[1] = (u_char) (0x80 | (cp & 0x3f));
        it->n = 2;

    } else if (cp < 0x10000) {
        it->out[0] = (u_char) (0xe0 | (cp >> 12));
        it->out[1] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        it->out[2] = (u_char) (0x80 | (cp & 0x3f));
        it->n = 3;

    } else {
        it->out[0] = (u_char) (0xf0 | (cp >> 18));
        it->out[1] = (u_char) (0x80 | ((cp >> 12) & 0x3f));
        it->out[2] = (u_char) (0x80 | ((cp >> 6) & 0x3f));
        it->out[3] = (u_char) (0x80 | (cp & 0x3f));
        it->n = 4;
    }

    it->i = 1;

    return it->out[0];
}


int
compliance_json_str_eq(const u_char *raw, size_t rlen, const u_char *s,
    size_t slen)
{
    int                     c;
    size_t                  i;
    compliance_json_iter_t  it;

    if (memchr(raw, '\\', rlen) == NULL) {
        return rlen == slen && memcmp(raw, s, slen) == 0;
    }

    compliance_json_iter_init(&it, raw, rlen);

    for (i = 0; i < slen; i++) {
        c = compliance_json_iter_next(&it);

        if (c != s[i]) {
            return 0;
        }
    }

    return compliance_json_iter_next(&it) < 0;
}


size_t
compliance_json_unescape(u_char *dst, const u_char *raw, size_t rlen)
{
    int                     c;
    size_t                  n;
    compliance_json_iter_t  it;

    compliance_json_iter_init(&it, raw, rlen);

    for (n = 0; (c = compliance_json_iter_next(&it)) >= 0; n++) {
        dst[n] = (u_char) c;
    }

    return n;
}
