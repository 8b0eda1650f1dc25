/*
 * Query arguments as a JSON instance (see compliance_qargs.h).
 *
 * The arguments are decoded, sorted by name (a heap sort: no recursion,
 * no allocation, n log n however many names), written out as JSON text
 * and parsed back with compliance_jtree_parse(): the tree is then
 * exactly what a body would give (exact numbers, UTF-8 checked, a name
 * index for large objects), with no second way of building one.
 */

#include <string.h>

#include "compliance_qargs.h"
#include "compliance_token.h"


typedef struct {
    const u_char  *name;
    size_t         name_len;
    const u_char  *value;
    size_t         value_len;
    size_t         index;
} compliance_qarg_t;


static int compliance_qargs_decode(const u_char *p, size_t len, u_char *out,
    size_t *out_len);
static int compliance_qargs_cmp(const void *a, const void *b, void *data);
static int compliance_qargs_is_number(const u_char *p, size_t len);
static u_char *compliance_qargs_string(u_char *p, const u_char *s,
    size_t len);
static u_char *compliance_qargs_value(u_char *p, const compliance_qarg_t *q,
    unsigned types);


int
compliance_qargs_object(const u_char *args, size_t len,
    const compliance_schema_t *s, compliance_arena_t *a,
    compliance_jnode_t **root)
{
    int                  rc;
    size_t               n, i, j, k, start, end, eq, size, off;
    u_char              *buf, *text, *p;
    unsigned             types, items, array;
    compliance_qarg_t   *q, **v;

    n = 1;

    for (i = 0; i < len; i++) {
        if (args[i] == '&') {
            n++;
        }
    }

    q = compliance_arena_alloc(a, n * sizeof(compliance_qarg_t));
    v = compliance_arena_alloc(a, n * sizeof(compliance_qarg_t *));
    buf = compliance_arena_alloc(a, len + 1);

    if (q == NULL || v == NULL || buf == NULL) {
        return COMPLIANCE_QARGS_ENOMEM;
    }

    /* decoding never lengthens: every argument fits in buf, in turn */
    p = buf;
    k = 0;
    start = 0;

    while (start <= len) {
        for (end = start; end < len && args[end] != '&'; end++) {
            /* void */
        }

        if (end > start) {
            for (eq = start; eq < end && args[eq] != '='; eq++) {
                /* void */
            }

            q[k].name = p;

            if (compliance_qargs_decode(args + start, eq - start, p,
                                        &q[k].name_len)
                != 0)
            {
                return COMPLIANCE_QARGS_EMALFORMED;
            }

            p += q[k].name_len;
            q[k].value = p;
            q[k].value_len = 0;

            if (eq < end
                && compliance_qargs_decode(args + eq + 1, end - eq - 1, p,
                                           &q[k].value_len)
                   != 0)
            {
                return COMPLIANCE_QARGS_EMALFORMED;
            }

            p += q[k].value_len;
            q[k].index = k;
            v[k] = &q[k];
            k++;
        }

        start = end + 1;
    }

    n = k;

    compliance_jtree_sort((void **) v, n, compliance_qargs_cmp, NULL);

    /* each byte escapes to at most 6 ("\u00XX"); per value ",[]" and "" */
    size = 2;

    for (i = 0; i < n; i++) {
        size += 6 * (v[i]->name_len + v[i]->value_len) + 10;
    }

    text = compliance_arena_alloc(a, size);
    if (text == NULL) {
        return COMPLIANCE_QARGS_ENOMEM;
    }

    p = text;
    *p++ = '{';

    for (i = 0; i < n; i = j) {
        for (j = i + 1;
             j < n && v[j]->name_len == v[i]->name_len
             && (v[i]->name_len == 0
                 || memcmp(v[j]->name, v[i]->name, v[i]->name_len) == 0);
             j++)
        {
            /* void */
        }

        types = 0;
        items = 0;

        if (s != NULL) {
            types = compliance_schema_property_types(s, v[i]->name,
                                                     v[i]->name_len, &items);
        }

        array = (j - i > 1)
                || ((types & COMPLIANCE_SCHEMA_TYPE_ARRAY)
                    && !(types & COMPLIANCE_SCHEMA_TYPE_STRING));

        if (i > 0) {
            *p++ = ',';
        }

        p = compliance_qargs_string(p, v[i]->name, v[i]->name_len);
        *p++ = ':';

        if (!array) {
            p = compliance_qargs_value(p, v[i], types);
            continue;
        }

        *p++ = '[';

        for (k = i; k < j; k++) {
            if (k > i) {
                *p++ = ',';
            }

            p = compliance_qargs_value(p, v[k], items);
        }

        *p++ = ']';
    }

    *p++ = '}';

    rc = compliance_jtree_parse(text, p - text, 2, a, root, &off);

    switch (rc) {

    case COMPLIANCE_JTREE_OK:
        return COMPLIANCE_QARGS_OK;

    case COMPLIANCE_JTREE_ENOMEM:
        return COMPLIANCE_QARGS_ENOMEM;

    default:
        /* invalid UTF-8, or a number beyond the parser's exponent range */
        return COMPLIANCE_QARGS_EMALFORMED;
    }
}


static int
compliance_qargs_decode(const u_char *p, size_t len, u_char *out,
    size_t *out_len)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {

        if (p[i] == '+') {
            out[n++] = ' ';
            continue;
        }

        if (p[i] != '%') {
            out[n++] = p[i];
            continue;
        }

        if (len - i < 3) {
            return -1;
        }

        hi = compliance_token_hex(p[i + 1]);
        lo = compliance_token_hex(p[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[n++] = (u_char) (hi << 4 | lo);
        i += 2;
    }

    *out_len = n;

    return 0;
}


/* by name, then by position: a repeated name keeps its values' order */
static int
compliance_qargs_cmp(const void *a, const void *b, void *data)
{
    int                       rc;
    size_t                    n;
    const compliance_qarg_t  *x = a, *y = b;

    (void) data;

    n = x->name_len < y->name_len ? x->name_len : y->name_len;
    rc = n ? memcmp(x->name, y->name, n) : 0;

    if (rc != 0) {
        return rc;
    }

    if (x->name_len != y->name_len) {
        return x->name_len < y->name_len ? -1 : 1;
    }

    return (x->index > y->index) - (x->index < y->index);
}


/* RFC 8259 number syntax, exactly: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static int
compliance_qargs_is_number(const u_char *p, size_t len)
{
    size_t  i, d;

    i = 0;

    if (i < len && p[i] == '-') {
        i++;
    }

    if (i < len && p[i] == '0') {
        i++;

    } else {
        for (d = i; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    if (i < len && p[i] == '.') {
        for (d = ++i; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;

        if (i < len && (p[i] == '+' || p[i] == '-')) {
            i++;
        }

        for (d = i; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            /* void */
        }

        if (i == d) {
            return 0;
        }
    }

    return i == len;
}


/* a JSON string; bytes from 0x80 are copied for the parser to check */
static u_char *
compliance_qargs_string(u_char *p, const u_char *s, size_t len)
{
    size_t  i;

    static const char  hex[] = "0123456789abcdef";

    *p++ = '"';

    for (i = 0; i < len; i++) {

        if (s[i] == '"' || s[i] == '\\') {
            *p++ = '\\';
            *p++ = s[i];

        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            *p++ = '\\';
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[s[i] >> 4];
            *p++ = hex[s[i] & 0xf];

        } else {
            *p++ = s[i];
        }
    }

    *p++ = '"';

    return p;
}


static u_char *
compliance_qargs_value(u_char *p, const compliance_qarg_t *q, unsigned types)
{
    if ((types & (COMPLIANCE_SCHEMA_TYPE_INTEGER
                  | COMPLIANCE_SCHEMA_TYPE_NUMBER))
        && compliance_qargs_is_number(q->value, q->value_len))
    {
        memcpy(p, q->value, q->value_len);
        return p + q->value_len;
    }

    if (types & COMPLIANCE_SCHEMA_TYPE_BOOLEAN) {
        if (q->value_len == 4 && memcmp(q->value, "true", 4) == 0) {
            return (u_char *) memcpy(p, "true", 4) + 4;
        }

        if (q->value_len == 5 && memcmp(q->value, "false", 5) == 0) {
            return (u_char *) memcpy(p, "false", 5) + 5;
        }
    }

    return compliance_qargs_string(p, q->value, q->value_len);
}
