/*
 * Bounded JSON parser into an arena tree; exact decimal numbers.
 *
 * The parser is iterative (an explicit stack of at most max_depth
 * frames), so hostile nesting costs neither C stack nor time beyond the
 * limit.  A string without escapes is not copied; a string with escapes
 * is scanned once to find its end and check it, then decoded into
 * exactly the room it needs.
 */

#include <stdio.h>
#include <string.h>

#include "compliance_jtree.h"


#define COMPLIANCE_ARENA_ALIGN   8
#define COMPLIANCE_ARENA_BLOCK   4096

/* frames of the parse stack: a hard bound whatever max_depth says */
#define COMPLIANCE_JTREE_STACK   1024


typedef struct {
    compliance_jnode_t   *node;
    compliance_jnode_t  **tail;
} compliance_jtree_frame_t;


typedef struct {
    const u_char         *start;
    const u_char         *p;
    const u_char         *end;
    compliance_arena_t   *arena;
} compliance_jtree_parser_t;


static int compliance_jtree_string(compliance_jtree_parser_t *jp,
    const u_char **out, size_t *outlen);
static int compliance_jtree_utf8(const u_char *p, const u_char *end,
    size_t *n);
static int compliance_jtree_hex4(const u_char *p, unsigned *v);
static int compliance_jtree_number(compliance_jtree_parser_t *jp,
    compliance_jnode_t *n);
static int compliance_jtree_close(compliance_jtree_parser_t *jp,
    compliance_jnode_t *obj);
static int compliance_jtree_key_cmp(const void *a, const void *b,
    void *data);
static int compliance_jtree_keys(const compliance_jnode_t *a,
    const compliance_jnode_t *b);
static size_t compliance_jtree_members(const compliance_jnode_t *obj,
    const compliance_jnode_t **buf);
static void compliance_jtree_sift(void **base, size_t root, size_t n,
    int (*cmp)(const void *a, const void *b, void *data), void *data);
static uint64_t compliance_jnum_pow10_mod(uint64_t m, uint64_t k);
static uint64_t compliance_jtree_bytes(uint64_t h, const u_char *p,
    size_t len);
static uint64_t compliance_jtree_mix(uint64_t h);


/* bytes a string may hold as they are: 0x20-0x7f except '"' and '\\' */
static const u_char  compliance_jtree_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80 - 0xff: checked as UTF-8 */
};


void
compliance_arena_init(compliance_arena_t *a, void *buf, size_t size,
    compliance_arena_alloc_pt alloc, void *data, size_t limit)
{
    a->pos = buf;
    a->end = buf ? (u_char *) buf + size : NULL;
    a->alloc = alloc;
    a->data = data;
    a->limit = limit;
    a->taken = 0;
}


void *
compliance_arena_alloc(compliance_arena_t *a, size_t size)
{
    size_t     want;
    u_char    *b;
    uintptr_t  p;

    if (size == 0) {
        size = 1;
    }

    if (a->pos != NULL) {
        p = ((uintptr_t) a->pos + COMPLIANCE_ARENA_ALIGN - 1)
            & ~(uintptr_t) (COMPLIANCE_ARENA_ALIGN - 1);

        if (p <= (uintptr_t) a->end && (uintptr_t) a->end - p >= size) {
            a->pos = (u_char *) p + size;
            return (void *) p;
        }
    }

    if (a->alloc == NULL || size > SIZE_MAX / 2) {
        return NULL;
    }

    /* a large request gets a block of its own; the current one stays */
    want = size + COMPLIANCE_ARENA_ALIGN;
    if (want < COMPLIANCE_ARENA_BLOCK) {
        want = COMPLIANCE_ARENA_BLOCK;

        if (a->limit != 0 && want > a->limit - a->taken) {
            want = size + COMPLIANCE_ARENA_ALIGN;
        }
    }

    if (a->limit != 0 && want > a->limit - a->taken) {
        return NULL;
    }

    b = a->alloc(a->data, want);
    if (b == NULL) {
        return NULL;
    }

    a->taken += want;

    p = ((uintptr_t) b + COMPLIANCE_ARENA_ALIGN - 1)
        & ~(uintptr_t) (COMPLIANCE_ARENA_ALIGN - 1);

    if (want > COMPLIANCE_ARENA_BLOCK && a->pos != NULL
        && a->end - a->pos > COMPLIANCE_ARENA_BLOCK / 8)
    {
        return (void *) p;
    }

    a->pos = (u_char *) p + size;
    a->end = b + want;

    return (void *) p;
}


const char *
compliance_jtree_strerror(int rc)
{
    switch (rc) {
    case COMPLIANCE_JTREE_OK:
        return "ok";
    case COMPLIANCE_JTREE_ESYNTAX:
        return "not JSON";
    case COMPLIANCE_JTREE_EUTF8:
        return "invalid UTF-8";
    case COMPLIANCE_JTREE_ESURROGATE:
        return "lone surrogate in a \\u escape";
    case COMPLIANCE_JTREE_EDUPKEY:
        return "duplicate object member name";
    case COMPLIANCE_JTREE_EDEPTH:
        return "nesting too deep";
    case COMPLIANCE_JTREE_ERANGE:
        return "number exponent out of range";
    case COMPLIANCE_JTREE_ENOMEM:
        return "document too large for its memory limit";
    default:
        return "unknown error";
    }
}


int
compliance_jtree_parse(const u_char *p, size_t len, unsigned max_depth,
    compliance_arena_t *a, compliance_jnode_t **root, size_t *off)
{
    int                        rc;
    u_char                     c;
    size_t                     depth;
    const u_char              *key;
    size_t                     key_len;
    compliance_jnode_t        *n, *top;
    compliance_jtree_parser_t  jp;
    compliance_jtree_frame_t   stack[COMPLIANCE_JTREE_STACK];

#define ws()                                                                 \
    while (jp.p < jp.end                                                     \
           && (*jp.p == ' ' || *jp.p == '\t' || *jp.p == '\n'                \
               || *jp.p == '\r'))                                            \
    {                                                                        \
        jp.p++;                                                              \
    }

#define fail(code)                                                           \
    do { rc = code; goto failed; } while (0)

    if (max_depth > COMPLIANCE_JTREE_STACK) {
        max_depth = COMPLIANCE_JTREE_STACK;
    }

    jp.start = p;
    jp.p = p;
    jp.end = p + len;
    jp.arena = a;

    *root = NULL;
    depth = 0;
    key = NULL;
    key_len = 0;

    for ( ;; ) {

        /* a value (after a member name when the top is an object) */

        ws();

        if (jp.p == jp.end) {
            fail(COMPLIANCE_JTREE_ESYNTAX);
        }

        n = compliance_arena_alloc(a, sizeof(compliance_jnode_t));
        if (n == NULL) {
            fail(COMPLIANCE_JTREE_ENOMEM);
        }

        memset(n, 0, sizeof(compliance_jnode_t));
        n->key = key;
        n->key_len = key_len;

        if (depth == 0) {
            *root = n;

        } else {
            top = stack[depth - 1].node;
            *stack[depth - 1].tail = n;
            stack[depth - 1].tail = &n->next;
            top->u.kids.count++;
        }

        c = *jp.p;

        switch (c) {

        case '{':
        case '[':
            if (depth == max_depth) {
                fail(COMPLIANCE_JTREE_EDEPTH);
            }

            n->type = (c == '{') ? COMPLIANCE_JOBJECT : COMPLIANCE_JARRAY;
            stack[depth].node = n;
            stack[depth].tail = &n->u.kids.first;
            depth++;
            jp.p++;

            ws();

            if (jp.p < jp.end && *jp.p == (c == '{' ? '}' : ']')) {
                jp.p++;
                depth--;
                break;
            }

            if (c == '[') {
                key = NULL;
                key_len = 0;
                continue;
            }

            goto member;

        case '"':
            n->type = COMPLIANCE_JSTRING;
            rc = compliance_jtree_string(&jp, &n->u.str.data, &n->u.str.len);
            if (rc != COMPLIANCE_JTREE_OK) {
                fail(rc);
            }

            break;

        case 't':
            if (jp.end - jp.p < 4 || memcmp(jp.p, "true", 4) != 0) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            n->type = COMPLIANCE_JTRUE;
            jp.p += 4;
            break;

        case 'f':
            if (jp.end - jp.p < 5 || memcmp(jp.p, "false", 5) != 0) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            n->type = COMPLIANCE_JFALSE;
            jp.p += 5;
            break;

        case 'n':
            if (jp.end - jp.p < 4 || memcmp(jp.p, "null", 4) != 0) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            n->type = COMPLIANCE_JNULL;
            jp.p += 4;
            break;

        default:
            if (c != '-' && (c < '0' || c > '9')) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            n->type = COMPLIANCE_JNUMBER;
            rc = compliance_jtree_number(&jp, n);
            if (rc != COMPLIANCE_JTREE_OK) {
                fail(rc);
            }

            break;
        }

        /* after a complete value: ',' or the end of containers */

        for ( ;; ) {
            if (depth == 0) {
                ws();

                if (jp.p != jp.end) {
                    fail(COMPLIANCE_JTREE_ESYNTAX);
                }

                return COMPLIANCE_JTREE_OK;
            }

            top = stack[depth - 1].node;

            ws();

            if (jp.p == jp.end) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            if (*jp.p == ',') {
                jp.p++;
                break;
            }

            if (*jp.p != (top->type == COMPLIANCE_JOBJECT ? '}' : ']')) {
                fail(COMPLIANCE_JTREE_ESYNTAX);
            }

            if (top->type == COMPLIANCE_JOBJECT) {
                rc = compliance_jtree_close(&jp, top);
                if (rc != COMPLIANCE_JTREE_OK) {
                    fail(rc);
                }
            }

            jp.p++;
            depth--;
        }

        if (stack[depth - 1].node->type == COMPLIANCE_JARRAY) {
            key = NULL;
            key_len = 0;
            continue;
        }

    member:

        ws();

        if (jp.p == jp.end || *jp.p != '"') {
            fail(COMPLIANCE_JTREE_ESYNTAX);
        }

        rc = compliance_jtree_string(&jp, &key, &key_len);
        if (rc != COMPLIANCE_JTREE_OK) {
            fail(rc);
        }

        ws();

        if (jp.p == jp.end || *jp.p != ':') {
            fail(COMPLIANCE_JTREE_ESYNTAX);
        }

        jp.p++;
    }

failed:

    *off = (size_t) (jp.p - jp.start);
    *root = NULL;

    return rc;

#undef ws
#undef fail
}


/*
 * jp->p is at the opening quote.  The first pass finds the closing quote
 * and checks every byte; only a string with escapes is decoded (into
 * at most as many bytes as its source).
 */
static int
compliance_jtree_string(compliance_jtree_parser_t *jp, const u_char **out,
    size_t *outlen)
{
    int            rc;
    size_t         n;
    u_char        *d, *dst;
    unsigned       cp, lo;
    const u_char  *p, *s, *end;

    s = jp->p + 1;
    p = s;
    end = jp->end;

    for ( ;; ) {
        while (p < end && compliance_jtree_plain[*p]) {
            p++;
        }

        if (p == end) {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }

        if (*p == '"') {
            break;
        }

        if (*p == '\\') {
            break;
        }

        if (*p < 0x20) {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }

        rc = compliance_jtree_utf8(p, end, &n);
        if (rc != COMPLIANCE_JTREE_OK) {
            jp->p = p;
            return rc;
        }

        p += n;
    }

    if (*p == '"') {
        *out = s;
        *outlen = (size_t) (p - s);
        jp->p = p + 1;
        return COMPLIANCE_JTREE_OK;
    }

    /* escapes: check the rest and find the end */

    for ( ;; ) {
        while (p < end && compliance_jtree_plain[*p]) {
            p++;
        }

        if (p == end) {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }

        if (*p == '"') {
            break;
        }

        if (*p == '\\') {
            if (end - p < 2) {
                jp->p = p;
                return COMPLIANCE_JTREE_ESYNTAX;
            }

            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n':
            case 'r': case 't':
                p += 2;
                continue;

            case 'u':
                if (end - p < 6 || compliance_jtree_hex4(p + 2, &cp) != 0) {
                    jp->p = p;
                    return COMPLIANCE_JTREE_ESYNTAX;
                }

                if (cp >= 0xdc00 && cp <= 0xdfff) {
                    jp->p = p;
                    return COMPLIANCE_JTREE_ESURROGATE;
                }

                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (end - p < 12 || p[6] != '\\' || p[7] != 'u'
                        || compliance_jtree_hex4(p + 8, &lo) != 0
                        || lo < 0xdc00 || lo > 0xdfff)
                    {
                        jp->p = p;
                        return COMPLIANCE_JTREE_ESURROGATE;
                    }

                    p += 12;
                    continue;
                }

                p += 6;
                continue;

            default:
                jp->p = p;
                return COMPLIANCE_JTREE_ESYNTAX;
            }
        }

        if (*p < 0x20) {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }

        rc = compliance_jtree_utf8(p, end, &n);
        if (rc != COMPLIANCE_JTREE_OK) {
            jp->p = p;
            return rc;
        }

        p += n;
    }

    dst = compliance_arena_alloc(jp->arena, (size_t) (p - s));
    if (dst == NULL) {
        jp->p = s;
        return COMPLIANCE_JTREE_ENOMEM;
    }

    d = dst;
    end = p;

    for (p = s; p < end; ) {
        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }

        switch (p[1]) {
        case 'b': *d++ = '\b'; p += 2; continue;
        case 'f': *d++ = '\f'; p += 2; continue;
        case 'n': *d++ = '\n'; p += 2; continue;
        case 'r': *d++ = '\r'; p += 2; continue;
        case 't': *d++ = '\t'; p += 2; continue;
        case 'u': break;
        default:  *d++ = p[1]; p += 2; continue;
        }

        (void) compliance_jtree_hex4(p + 2, &cp);
        p += 6;

        if (cp >= 0xd800 && cp <= 0xdbff) {
            (void) compliance_jtree_hex4(p + 2, &lo);
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }

        if (cp < 0x80) {
            *d++ = (u_char) cp;

        } else if (cp < 0x800) {
            *d++ = (u_char) (0xc0 | (cp >> 6));
            *d++ = (u_char) (0x80 | (cp & 0x3f));

        } else if (cp < 0x10000) {
            *d++ = (u_char) (0xe0 | (cp >> 12));
            *d++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (cp & 0x3f));

        } else {
            *d++ = (u_char) (0xf0 | (cp >> 18));
            *d++ = (u_char) (0x80 | ((cp >> 12) & 0x3f));
            *d++ = (u_char) (0x80 | ((cp >> 6) & 0x3f));
            *d++ = (u_char) (0x80 | (cp & 0x3f));
        }
    }

    *out = dst;
    *outlen = (size_t) (d - dst);
    jp->p = end + 1;

    return COMPLIANCE_JTREE_OK;
}


/* one well-formed UTF-8 sequence of 2 to 4 bytes at p (RFC 3629 table) */
static int
compliance_jtree_utf8(const u_char *p, const u_char *end, size_t *n)
{
    u_char  c, lo, hi;
    size_t  len, i;

    c = p[0];

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;

        if (c == 0xe0) {
            lo = 0xa0;              /* overlong */

        } else if (c == 0xed) {
            hi = 0x9f;              /* surrogates */
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;

        if (c == 0xf0) {
            lo = 0x90;              /* overlong */

        } else if (c == 0xf4) {
            hi = 0x8f;              /* above U+10FFFF */
        }

    } else {
        return COMPLIANCE_JTREE_EUTF8;
    }

    if ((size_t) (end - p) < len || p[1] < lo || p[1] > hi) {
        return COMPLIANCE_JTREE_EUTF8;
    }

    for (i = 2; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return COMPLIANCE_JTREE_EUTF8;
        }
    }

    *n = len;

    return COMPLIANCE_JTREE_OK;
}


static int
compliance_jtree_hex4(const u_char *p, unsigned *v)
{
    u_char    c;
    size_t    i;
    unsigned  x;

    x = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            x = x * 16 + (unsigned) (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            x = x * 16 + (unsigned) ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    *v = x;

    return 0;
}


/*
 * RFC 8259 number grammar; the value is normalised to 0.D x 10^exp.
 * The literal's digits are int part I (ni digits) then fraction F; with
 * f and l the first and last non-zero digit of I||F, D = (I||F)[f..l]
 * and exp = ni - f + written exponent.
 */
static int
compliance_jtree_number(compliance_jtree_parser_t *jp, compliance_jnode_t *n)
{
    int            eneg, ebig;
    u_char        *d;
    size_t         ni, nf, f, l, i, k;
    int64_t        x, e;
    const u_char  *p, *end, *ip, *fp;

    p = jp->p;
    end = jp->end;

    n->neg = 0;

    if (*p == '-') {
        n->neg = 1;
        p++;
    }

    ip = p;

    if (p < end && *p == '0') {
        p++;

    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

    } else {
        jp->p = p;
        return COMPLIANCE_JTREE_ESYNTAX;
    }

    ni = (size_t) (p - ip);
    fp = p;
    nf = 0;

    if (p < end && *p == '.') {
        p++;
        fp = p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        nf = (size_t) (p - fp);

        if (nf == 0) {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }
    }

    x = 0;
    ebig = 0;
    eneg = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < end && (*p == '+' || *p == '-')) {
            eneg = (*p == '-');
            p++;
        }

        if (p == end || *p < '0' || *p > '9') {
            jp->p = p;
            return COMPLIANCE_JTREE_ESYNTAX;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            /* saturate long before int64 could overflow */
            if (x < 4 * (int64_t) COMPLIANCE_JTREE_EXP_MAX) {
                x = x * 10 + (*p - '0');

            } else {
                ebig = 1;
            }

            p++;
        }

        if (eneg) {
            x = -x;
        }
    }

    jp->p = p;

#define digit_at(i)  ((i) < ni ? ip[i] : fp[(i) - ni])

    for (f = 0; f < ni + nf && digit_at(f) == '0'; f++) {
        /* void */
    }

    if (f == ni + nf) {
        /* zero, whatever its exponent or sign */
        n->neg = 0;
        n->u.num.digits = ip;
        n->u.num.ndigits = 0;
        n->u.num.exp = 0;
        return COMPLIANCE_JTREE_OK;
    }

    for (l = ni + nf - 1; digit_at(l) == '0'; l--) {
        /* void */
    }

    if (ebig) {
        jp->p = ip;
        return COMPLIANCE_JTREE_ERANGE;
    }

    e = (int64_t) ni - (int64_t) f + x;

    if (e > COMPLIANCE_JTREE_EXP_MAX || e < -COMPLIANCE_JTREE_EXP_MAX) {
        jp->p = ip;
        return COMPLIANCE_JTREE_ERANGE;
    }

    n->u.num.ndigits = l - f + 1;
    n->u.num.exp = e;

    if (l < ni) {
        n->u.num.digits = ip + f;

    } else if (f >= ni) {
        n->u.num.digits = fp + (f - ni);

    } else {
        /* the digits straddle the decimal point: one copy without it */
        d = compliance_arena_alloc(jp->arena, n->u.num.ndigits);
        if (d == NULL) {
            return COMPLIANCE_JTREE_ENOMEM;
        }

        for (i = f, k = 0; i <= l; i++, k++) {
            d[k] = digit_at(i);
        }

        n->u.num.digits = d;
    }

#undef digit_at

    return COMPLIANCE_JTREE_OK;
}


/* an object's closing brace: refuse duplicate names, index big objects */
static int
compliance_jtree_close(compliance_jtree_parser_t *jp, compliance_jnode_t *obj)
{
    size_t                i;
    compliance_jnode_t   *a, *b, **v;

    if (obj->u.kids.count <= COMPLIANCE_JTREE_SORT_MIN) {
        for (a = obj->u.kids.first; a != NULL; a = a->next) {
            for (b = a->next; b != NULL; b = b->next) {
                if (compliance_jtree_keys(a, b) == 0) {
                    return COMPLIANCE_JTREE_EDUPKEY;
                }
            }
        }

        return COMPLIANCE_JTREE_OK;
    }

    v = compliance_arena_alloc(jp->arena, obj->u.kids.count * sizeof(*v));
    if (v == NULL) {
        return COMPLIANCE_JTREE_ENOMEM;
    }

    for (a = obj->u.kids.first, i = 0; a != NULL; a = a->next, i++) {
        v[i] = a;
    }

    compliance_jtree_sort((void **) v, obj->u.kids.count,
                          compliance_jtree_key_cmp, NULL);

    for (i = 1; i < obj->u.kids.count; i++) {
        if (compliance_jtree_keys(v[i - 1], v[i]) == 0) {
            return COMPLIANCE_JTREE_EDUPKEY;
        }
    }

    obj->u.kids.sorted = v;

    return COMPLIANCE_JTREE_OK;
}


static int
compliance_jtree_keys(const compliance_jnode_t *a, const compliance_jnode_t *b)
{
    int     rc;
    size_t  n;

    n = a->key_len < b->key_len ? a->key_len : b->key_len;

    rc = n ? memcmp(a->key, b->key, n) : 0;

    if (rc != 0) {
        return rc;
    }

    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}


static int
compliance_jtree_key_cmp(const void *a, const void *b, void *data)
{
    (void) data;

    return compliance_jtree_keys(a, b);
}


const compliance_jnode_t *
compliance_jtree_get(const compliance_jnode_t *obj, const u_char *key,
    size_t len)
{
    int                        rc;
    size_t                     lo, hi, mid;
    compliance_jnode_t         k;
    const compliance_jnode_t  *m;

    if (obj == NULL || obj->type != COMPLIANCE_JOBJECT) {
        return NULL;
    }

    k.key = key;
    k.key_len = len;

    if (obj->u.kids.sorted == NULL) {
        for (m = obj->u.kids.first; m != NULL; m = m->next) {
            if (compliance_jtree_keys(m, &k) == 0) {
                return m;
            }
        }

        return NULL;
    }

    lo = 0;
    hi = obj->u.kids.count;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        m = obj->u.kids.sorted[mid];
        rc = compliance_jtree_keys(m, &k);

        if (rc == 0) {
            return m;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}


/* the members of obj sorted by name into buf (at most SORT_MIN of them) */
static size_t
compliance_jtree_members(const compliance_jnode_t *obj,
    const compliance_jnode_t **buf)
{
    size_t                     n, i;
    const compliance_jnode_t  *m;

    n = 0;

    for (m = obj->u.kids.first; m != NULL; m = m->next) {
        for (i = n; i > 0 && compliance_jtree_keys(buf[i - 1], m) > 0; i--) {
            buf[i] = buf[i - 1];
        }

        buf[i] = m;
        n++;
    }

    return n;
}


int
compliance_jtree_cmp(const compliance_jnode_t *a, const compliance_jnode_t *b)
{
    int                         rc;
    size_t                      i, n;
    const compliance_jnode_t   *x, *y;
    const compliance_jnode_t  **va, **vb;
    const compliance_jnode_t   *ba[COMPLIANCE_JTREE_SORT_MIN];
    const compliance_jnode_t   *bb[COMPLIANCE_JTREE_SORT_MIN];

    if (a->type != b->type) {
        return (a->type > b->type) - (a->type < b->type);
    }

    switch (a->type) {

    case COMPLIANCE_JNUMBER:
        return compliance_jnum_cmp(a, b);

    case COMPLIANCE_JSTRING:
        n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
        rc = n ? memcmp(a->u.str.data, b->u.str.data, n) : 0;

        if (rc != 0) {
            return rc < 0 ? -1 : 1;
        }

        return (a->u.str.len > b->u.str.len) - (a->u.str.len < b->u.str.len);

    case COMPLIANCE_JARRAY:
        for (x = a->u.kids.first, y = b->u.kids.first;
             x != NULL && y != NULL;
             x = x->next, y = y->next)
        {
            rc = compliance_jtree_cmp(x, y);
            if (rc != 0) {
                return rc;
            }
        }

        return (x != NULL) - (y != NULL);

    case COMPLIANCE_JOBJECT:
        if (a->u.kids.count != b->u.kids.count) {
            return (a->u.kids.count > b->u.kids.count) ? 1 : -1;
        }

        n = a->u.kids.count;

        /* both have the same count, so both are indexed or neither */
        if (a->u.kids.sorted != NULL) {
            va = (const compliance_jnode_t **) a->u.kids.sorted;
            vb = (const compliance_jnode_t **) b->u.kids.sorted;

        } else {
            (void) compliance_jtree_members(a, ba);
            (void) compliance_jtree_members(b, bb);
            va = ba;
            vb = bb;
        }

        for (i = 0; i < n; i++) {
            rc = compliance_jtree_keys(va[i], vb[i]);
            if (rc != 0) {
                return rc < 0 ? -1 : 1;
            }

            rc = compliance_jtree_cmp(va[i], vb[i]);
            if (rc != 0) {
                return rc;
            }
        }

        return 0;

    default:
        return 0;
    }
}


/* FNV-1a over bytes, then a finaliser that spreads every input bit */
static uint64_t
compliance_jtree_bytes(uint64_t h, const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }

    return h;
}


static uint64_t
compliance_jtree_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return h;
}


uint64_t
compliance_jtree_hash(const compliance_jnode_t *n)
{
    uint64_t                   h, sum;
    const compliance_jnode_t  *e;

    h = 0xcbf29ce484222325ULL ^ n->type;

    switch (n->type) {

    case COMPLIANCE_JNUMBER:
        /* the normalised form is unique: digits, exponent, sign */
        h = compliance_jtree_bytes(h, n->u.num.digits, n->u.num.ndigits);
        h = compliance_jtree_bytes(h, (const u_char *) &n->u.num.exp,
                                   sizeof(n->u.num.exp));
        h ^= n->neg;
        break;

    case COMPLIANCE_JSTRING:
        h = compliance_jtree_bytes(h, n->u.str.data, n->u.str.len);
        break;

    case COMPLIANCE_JARRAY:
        for (e = n->u.kids.first; e != NULL; e = e->next) {
            h = compliance_jtree_mix(h + compliance_jtree_hash(e));
        }

        break;

    case COMPLIANCE_JOBJECT:
        /* a sum does not depend on member order */
        sum = 0;

        for (e = n->u.kids.first; e != NULL; e = e->next) {
            sum += compliance_jtree_mix(
                       compliance_jtree_bytes(0xcbf29ce484222325ULL, e->key,
                                              e->key_len)
                       ^ (compliance_jtree_hash(e) << 1));
        }

        h ^= sum;
        break;

    default:
        break;
    }

    return compliance_jtree_mix(h);
}


int
compliance_jnum_cmp(const compliance_jnode_t *a, const compliance_jnode_t *b)
{
    int     sa, sb, rc;
    size_t  n;

    sa = a->u.num.ndigits == 0 ? 0 : (a->neg ? -1 : 1);
    sb = b->u.num.ndigits == 0 ? 0 : (b->neg ? -1 : 1);

    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }

    if (sa == 0) {
        return 0;
    }

    /* same sign: compare magnitudes, then flip for negatives */

    if (a->u.num.exp != b->u.num.exp) {
        rc = a->u.num.exp > b->u.num.exp ? 1 : -1;
        return sa * rc;
    }

    n = a->u.num.ndigits < b->u.num.ndigits ? a->u.num.ndigits
                                             : b->u.num.ndigits;

    rc = memcmp(a->u.num.digits, b->u.num.digits, n);

    if (rc == 0) {
        /* no trailing zeros: the longer significand is the larger */
        rc = (a->u.num.ndigits > b->u.num.ndigits)
             - (a->u.num.ndigits < b->u.num.ndigits);

    } else {
        rc = rc < 0 ? -1 : 1;
    }

    return sa * rc;
}


int
compliance_jnum_is_integer(const compliance_jnode_t *n)
{
    return n->u.num.ndigits == 0
           || n->u.num.exp >= (int64_t) n->u.num.ndigits;
}


int
compliance_jnum_small(const compliance_jnode_t *n, uint64_t *b, int64_t *e)
{
    size_t    i;
    uint64_t  v;

    if (n->u.num.ndigits > 18) {
        return -1;
    }

    v = 0;

    for (i = 0; i < n->u.num.ndigits; i++) {
        v = v * 10 + (uint64_t) (n->u.num.digits[i] - '0');
    }

    *b = v;
    *e = n->u.num.exp - (int64_t) n->u.num.ndigits;

    return 0;
}


int
compliance_jnum_count(const compliance_jnode_t *n, uint64_t *count)
{
    size_t    i;
    uint64_t  v;

    if (!compliance_jnum_is_integer(n) || (n->neg && n->u.num.ndigits)) {
        return -1;
    }

    /* more than 20 digits is above UINT64_MAX (about 1.8e19) */
    if (n->u.num.exp > 20) {
        *count = UINT64_MAX;
        return 0;
    }

    v = 0;

    for (i = 0; i < (size_t) n->u.num.exp; i++) {
        if (v > (UINT64_MAX - 9) / 10) {
            *count = UINT64_MAX;
            return 0;
        }

        v = v * 10;

        if (i < n->u.num.ndigits) {
            v += (uint64_t) (n->u.num.digits[i] - '0');
        }
    }

    *count = v;

    return 0;
}


static uint64_t
compliance_jnum_pow10_mod(uint64_t m, uint64_t k)
{
    unsigned __int128  r, b;

    r = 1 % m;
    b = 10 % m;

    while (k) {
        if (k & 1) {
            r = (r * b) % m;
        }

        b = (b * b) % m;
        k >>= 1;
    }

    return (uint64_t) r;
}


/*
 * n = A x 10^ea (A integer without trailing zeros), d = b x 10^e.
 * n / d = (A / b) x 10^(ea - e).  If ea < e the quotient needs A to be
 * divisible by 10, which it is not; otherwise b must divide
 * A x 10^(ea - e), computed modulo b.
 */
int
compliance_jnum_multiple_of(const compliance_jnode_t *n, uint64_t b,
    int64_t e)
{
    size_t    i;
    int64_t   ea;
    uint64_t  r;

    if (n->u.num.ndigits == 0) {
        return 1;
    }

    if (b == 0) {
        return 0;
    }

    ea = n->u.num.exp - (int64_t) n->u.num.ndigits;

    if (ea < e) {
        return 0;
    }

    r = 0;

    for (i = 0; i < n->u.num.ndigits; i++) {
        /* r < b < 10^18, so r * 10 + 9 fits */
        r = (r * 10 + (uint64_t) (n->u.num.digits[i] - '0')) % b;
    }

    if (r == 0) {
        return 1;
    }

    r = (uint64_t) (((unsigned __int128) r
                     * compliance_jnum_pow10_mod(b, (uint64_t) (ea - e)))
                    % b);

    return r == 0;
}


void
compliance_jnum_format(const compliance_jnode_t *n, char *buf, size_t size)
{
    int      w;
    char    *p, *end;
    size_t   nd, i;
    int64_t  e;

    if (size == 0) {
        return;
    }

    p = buf;
    end = buf + size - 1;
    nd = n->u.num.ndigits;
    e = n->u.num.exp;

#define put(c)  do { if (p < end) { *p++ = (c); } } while (0)

    if (nd == 0) {
        put('0');
        *p = '\0';
        return;
    }

    if (n->neg) {
        put('-');
    }

    if (nd <= 17 && e >= (int64_t) nd && e <= 21) {
        /* integer: digits then zeros */
        for (i = 0; i < nd; i++) {
            put((char) n->u.num.digits[i]);
        }

        for (i = nd; i < (size_t) e; i++) {
            put('0');
        }

    } else if (nd <= 17 && e > 0 && e < (int64_t) nd) {
        for (i = 0; i < nd; i++) {
            if (i == (size_t) e) {
                put('.');
            }

            put((char) n->u.num.digits[i]);
        }

    } else if (nd <= 17 && e <= 0 && e > -6) {
        put('0');
        put('.');

        for (i = 0; i < (size_t) -e; i++) {
            put('0');
        }

        for (i = 0; i < nd; i++) {
            put((char) n->u.num.digits[i]);
        }

    } else {
        /* d.ddd e(exp - 1), at most 17 significant digits */
        put((char) n->u.num.digits[0]);

        if (nd > 1) {
            put('.');

            for (i = 1; i < nd && i < 17; i++) {
                put((char) n->u.num.digits[i]);
            }
        }

        *p = '\0';
        w = snprintf(p, (size_t) (end - p) + 1, "e%lld",
                     (long long) (e - 1));
        p += (w > 0 && w <= end - p) ? w : end - p;
    }

#undef put

    *p = '\0';
}


size_t
compliance_utf8_length(const u_char *p, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        n += (p[i] & 0xc0) != 0x80;
    }

    return n;
}


static void
compliance_jtree_sift(void **base, size_t root, size_t n,
    int (*cmp)(const void *a, const void *b, void *data), void *data)
{
    void    *t;
    size_t   child;

    for ( ;; ) {
        child = 2 * root + 1;

        if (child >= n) {
            return;
        }

        if (child + 1 < n && cmp(base[child], base[child + 1], data) < 0) {
            child++;
        }

        if (cmp(base[root], base[child], data) >= 0) {
            return;
        }

        t = base[root];
        base[root] = base[child];
        base[child] = t;
        root = child;
    }
}


void
compliance_jtree_sort(void **base, size_t n,
    int (*cmp)(const void *a, const void *b, void *data), void *data)
{
    void    *t;
    size_t   i;

    if (n < 2) {
        return;
    }

    for (i = n / 2; i > 0; i--) {
        compliance_jtree_sift(base, i - 1, n, cmp, data);
    }

    for (i = n - 1; i > 0; i--) {
        t = base[0];
        base[0] = base[i];
        base[i] = t;
        compliance_jtree_sift(base, 0, i, cmp, data);
    }
}
