/*
 * GraphQL lexer, parser and limits (SPEC 11); see compliance_graphql.h.
 *
 * The parser is recursive descent whose recursion is capped by the
 * bracket nesting (COMPLIANCE_GQL_MAX_NEST), so a hostile document
 * cannot exhaust the stack.  It keeps one record per definition and
 * one per fragment spread; once the document is read, spreads are
 * resolved by binary search over the sorted fragments and every
 * definition is measured once, in an iterative depth-first walk that
 * also finds cycles.
 */

#include <string.h>

#include "compliance_graphql.h"


enum {
    GQL_EOF = 0,
    GQL_BANG,
    GQL_DOLLAR,
    GQL_AMP,
    GQL_LPAREN,
    GQL_RPAREN,
    GQL_SPREAD,
    GQL_COLON,
    GQL_EQUALS,
    GQL_AT,
    GQL_LBRACKET,
    GQL_RBRACKET,
    GQL_LBRACE,
    GQL_PIPE,
    GQL_RBRACE,
    GQL_NAME,
    GQL_INT,
    GQL_FLOAT,
    GQL_STRING,
    GQL_BLOCK_STRING
};


typedef struct compliance_gql_def_s     compliance_gql_def_t;
typedef struct compliance_gql_spread_s  compliance_gql_spread_t;

struct compliance_gql_spread_s {
    compliance_gql_spread_t  *next;
    const u_char             *name;
    size_t                    name_len;
    size_t                    offset;
    uint64_t                  depth_at;   /* fields around the spread */
    compliance_gql_def_t     *frag;       /* resolved */
};


struct compliance_gql_def_s {
    compliance_gql_def_t     *next;
    const u_char             *name;       /* NULL: anonymous operation */
    size_t                    name_len;
    size_t                    offset;
    compliance_gql_spread_t  *spreads;
    compliance_gql_spread_t  *last;
    compliance_gql_spread_t  *cur;        /* walk position */
    uint64_t                  own_depth;
    uint64_t                  own_aliases;
    uint64_t                  depth;      /* spreads expanded */
    uint64_t                  aliases;
    unsigned                  fragment:1;
    unsigned                  state:2;    /* 0 new, 1 on the walk, 2 done */
};


typedef struct {
    const u_char                        *start;
    const u_char                        *p;
    const u_char                        *end;

    int                                  tok;
    const u_char                        *tpos;
    size_t                               tlen;

    unsigned                             nest;
    uint64_t                             field_depth;

    const compliance_graphql_limits_t   *limits;
    compliance_graphql_result_t         *res;
    compliance_arena_t                  *arena;

    compliance_gql_def_t                *defs;
    compliance_gql_def_t                *last;
    compliance_gql_def_t                *def;   /* being read */
    uint32_t                             ndefs;
    unsigned                             anonymous;
} compliance_gql_t;


static int compliance_gql_fail(compliance_gql_t *g, int rc,
    const u_char *at, const char *msg);
static int compliance_gql_utf8(compliance_gql_t *g, const u_char **pp);
static int compliance_gql_next(compliance_gql_t *g);
static int compliance_gql_number(compliance_gql_t *g);
static int compliance_gql_string(compliance_gql_t *g);
static int compliance_gql_block_string(compliance_gql_t *g);
static int compliance_gql_hex(const u_char *p, const u_char *end,
    unsigned n, uint32_t *v);
static int compliance_gql_is(compliance_gql_t *g, const char *word);
static int compliance_gql_expect(compliance_gql_t *g, int tok,
    const char *msg);
static int compliance_gql_enter(compliance_gql_t *g);
static int compliance_gql_definition(compliance_gql_t *g);
static compliance_gql_def_t *compliance_gql_new_def(compliance_gql_t *g,
    unsigned fragment);
static int compliance_gql_type_condition(compliance_gql_t *g);
static int compliance_gql_directed_set(compliance_gql_t *g);
static int compliance_gql_selection_set(compliance_gql_t *g);
static int compliance_gql_selection(compliance_gql_t *g);
static int compliance_gql_field(compliance_gql_t *g);
static int compliance_gql_arguments(compliance_gql_t *g, unsigned cnst);
static int compliance_gql_directives(compliance_gql_t *g, unsigned cnst);
static int compliance_gql_variables(compliance_gql_t *g);
static int compliance_gql_type(compliance_gql_t *g);
static int compliance_gql_value(compliance_gql_t *g, unsigned cnst);
static int compliance_gql_name_cmp(const void *a, const void *b,
    void *data);
static compliance_gql_def_t *compliance_gql_find(compliance_gql_def_t **v,
    size_t n, const u_char *name, size_t len);
static int compliance_gql_resolve(compliance_gql_t *g);
static int compliance_gql_measure(compliance_gql_t *g);
static void compliance_gql_finish(compliance_gql_def_t *d);


static const char *
compliance_gql_messages[] = {
    "ok",
    "not a valid GraphQL document",
    "query too deep",
    "too many aliases",
    "too many tokens",
    "brackets nested too deep",
    "introspection is not allowed",
    "out of memory"
};


const char *
compliance_graphql_strerror(int rc)
{
    if (rc > 0 || rc < COMPLIANCE_GQL_ENOMEM) {
        return "unknown error";
    }

    return compliance_gql_messages[-rc];
}


int
compliance_graphql_check(const u_char *p, size_t len, const u_char *op,
    size_t op_len, const compliance_graphql_limits_t *limits,
    compliance_arena_t *arena, compliance_graphql_result_t *res)
{
    int                rc;
    compliance_gql_t   g;

    memset(res, 0, sizeof(*res));
    memset(&g, 0, sizeof(g));

    g.start = p;
    g.p = p;
    g.end = p + len;
    g.limits = limits;
    g.res = res;
    g.arena = arena;

    rc = compliance_gql_next(&g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g.tok == GQL_EOF) {
        return compliance_gql_fail(&g, COMPLIANCE_GQL_EINVALID, g.p,
                                   "empty document");
    }

    while (g.tok != GQL_EOF) {
        rc = compliance_gql_definition(&g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    if (g.anonymous && res->operations > 1) {
        return compliance_gql_fail(&g, COMPLIANCE_GQL_EINVALID, g.end,
                                   "an anonymous operation must be alone");
    }

    if (op != NULL) {
        compliance_gql_def_t  *d;

        for (d = g.defs; d; d = d->next) {
            if (!d->fragment && d->name != NULL && d->name_len == op_len
                && memcmp(d->name, op, op_len) == 0)
            {
                break;
            }
        }

        if (d == NULL) {
            return compliance_gql_fail(&g, COMPLIANCE_GQL_EINVALID, g.end,
                                       "operationName names no operation");
        }
    }

    rc = compliance_gql_resolve(&g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    rc = compliance_gql_measure(&g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (res->depth > limits->max_depth) {
        return compliance_gql_fail(&g, COMPLIANCE_GQL_EDEPTH, g.end,
                                   "query too deep (fragments expanded)");
    }

    if (res->aliases > limits->max_aliases) {
        return compliance_gql_fail(&g, COMPLIANCE_GQL_EALIASES, g.end,
                                   "too many aliases (fragments expanded)");
    }

    return COMPLIANCE_GQL_OK;
}


static int
compliance_gql_fail(compliance_gql_t *g, int rc, const u_char *at,
    const char *msg)
{
    compliance_graphql_result_t  *res = g->res;

    res->offset = (size_t) (at - g->start);
    res->message = msg;

    switch (rc) {
    case COMPLIANCE_GQL_EDEPTH:
        res->limit = "max_depth";
        break;
    case COMPLIANCE_GQL_EALIASES:
        res->limit = "max_aliases";
        break;
    case COMPLIANCE_GQL_ETOKENS:
        res->limit = "max_tokens";
        break;
    case COMPLIANCE_GQL_ENEST:
        res->limit = "max_nesting";
        break;
    case COMPLIANCE_GQL_EINTROSPECTION:
        res->limit = "introspection";
        break;
    default:
        res->limit = NULL;
    }

    return rc;
}


/*
 * One well-formed UTF-8 sequence (RFC 3629) at *pp, which is moved past
 * it: no overlong form, no surrogate, nothing above U+10FFFF.
 */
static int
compliance_gql_utf8(compliance_gql_t *g, const u_char **pp)
{
    size_t         i, n, left;
    uint32_t       c, min;
    const u_char  *p = *pp;

    c = *p;
    left = (size_t) (g->end - p);

    if (c < 0x80) {
        *pp = p + 1;
        return COMPLIANCE_GQL_OK;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; c &= 0x1f; min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; c &= 0x0f; min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; c &= 0x07; min = 0x10000;

    } else {
        goto bad;
    }

    if (left < n) {
        goto bad;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            goto bad;
        }
        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        goto bad;
    }

    *pp = p + n;
    return COMPLIANCE_GQL_OK;

bad:

    return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                               "invalid UTF-8");
}


/* the next token into g->tok/tpos/tlen, ignored tokens skipped */
static int
compliance_gql_next(compliance_gql_t *g)
{
    int            rc;
    u_char         c;
    const u_char  *p, *end;

    p = g->p;
    end = g->end;

    for ( ;; ) {
        if (p == end) {
            g->p = p;
            g->tok = GQL_EOF;
            g->tpos = p;
            g->tlen = 0;
            return COMPLIANCE_GQL_OK;
        }

        c = *p;

        if (c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r') {
            p++;
            continue;
        }

        /* a byte order mark is an ignored token anywhere */
        if (c == 0xef && end - p >= 3 && p[1] == 0xbb && p[2] == 0xbf) {
            p += 3;
            continue;
        }

        if (c == '#') {
            p++;
            while (p < end && *p != '\n' && *p != '\r') {
                if (*p < 0x80) {
                    p++;
                    continue;
                }

                g->p = p;
                rc = compliance_gql_utf8(g, &p);
                if (rc != COMPLIANCE_GQL_OK) {
                    return rc;
                }
            }
            continue;
        }

        break;
    }

    g->tpos = p;
    g->p = p;

    if (++g->res->tokens > g->limits->max_tokens) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_ETOKENS, p,
                                   "too many tokens");
    }

    switch (c) {
    case '!': g->tok = GQL_BANG; break;
    case '$': g->tok = GQL_DOLLAR; break;
    case '&': g->tok = GQL_AMP; break;
    case '(': g->tok = GQL_LPAREN; break;
    case ')': g->tok = GQL_RPAREN; break;
    case ':': g->tok = GQL_COLON; break;
    case '=': g->tok = GQL_EQUALS; break;
    case '@': g->tok = GQL_AT; break;
    case '[': g->tok = GQL_LBRACKET; break;
    case ']': g->tok = GQL_RBRACKET; break;
    case '{': g->tok = GQL_LBRACE; break;
    case '|': g->tok = GQL_PIPE; break;
    case '}': g->tok = GQL_RBRACE; break;

    case '.':
        if (end - p < 3 || p[1] != '.' || p[2] != '.') {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                                       "unexpected character");
        }

        g->tok = GQL_SPREAD;
        g->tlen = 3;
        g->p = p + 3;
        return COMPLIANCE_GQL_OK;

    case '"':
        if (end - p >= 3 && p[1] == '"' && p[2] == '"') {
            return compliance_gql_block_string(g);
        }

        return compliance_gql_string(g);

    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            return compliance_gql_number(g);
        }

        if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            p++;
            while (p < end && (*p == '_' || (*p >= '0' && *p <= '9')
                               || (*p >= 'A' && *p <= 'Z')
                               || (*p >= 'a' && *p <= 'z')))
            {
                p++;
            }

            g->tok = GQL_NAME;
            g->tlen = (size_t) (p - g->tpos);
            g->p = p;
            return COMPLIANCE_GQL_OK;
        }

        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                                   "unexpected character");
    }

    g->tlen = 1;
    g->p = p + 1;

    return COMPLIANCE_GQL_OK;
}


/* IntValue or FloatValue; neither may be followed by '.' or a name */
static int
compliance_gql_number(compliance_gql_t *g)
{
    const u_char  *p, *end;
    unsigned       fl;

    p = g->tpos;
    end = g->end;
    fl = 0;

    if (*p == '-') {
        p++;
    }

    if (p == end || *p < '0' || *p > '9') {
        goto bad;
    }

    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') {
            goto bad;
        }

    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < end && *p == '.') {
        fl = 1;
        p++;
        if (p == end || *p < '0' || *p > '9') {
            goto bad;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        fl = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p == end || *p < '0' || *p > '9') {
            goto bad;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < end && (*p == '.' || *p == '_' || (*p >= 'A' && *p <= 'Z')
                    || (*p >= 'a' && *p <= 'z')))
    {
        goto bad;
    }

    g->tok = fl ? GQL_FLOAT : GQL_INT;
    g->tlen = (size_t) (p - g->tpos);
    g->p = p;

    return COMPLIANCE_GQL_OK;

bad:

    return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                               "invalid number");
}


static int
compliance_gql_hex(const u_char *p, const u_char *end, unsigned n,
    uint32_t *v)
{
    u_char    c;
    uint32_t  x;

    if ((size_t) (end - p) < n) {
        return -1;
    }

    for (x = 0; n; n--, p++) {
        c = *p;

        if (c >= '0' && c <= '9') {
            x = x * 16 + (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            x = x * 16 + ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    *v = x;

    return 0;
}


/*
 * "..." with the escapes \" \\ \/ \b \f \n \r \t, \uXXXX (a surrogate
 * only as a high-low pair) and \u{X...} (a scalar value); no line
 * terminator inside.
 */
static int
compliance_gql_string(compliance_gql_t *g)
{
    int            rc;
    uint32_t       c, lo;
    const u_char  *p, *end, *q;

    p = g->tpos + 1;
    end = g->end;

    for ( ;; ) {
        if (p == end || *p == '\n' || *p == '\r') {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                                       "unterminated string");
        }

        if (*p == '"') {
            p++;
            break;
        }

        if (*p >= 0x80) {
            rc = compliance_gql_utf8(g, &p);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
            continue;
        }

        if (*p != '\\') {
            p++;
            continue;
        }

        q = p;
        p++;

        if (p == end) {
            goto bad;
        }

        switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n':
        case 'r': case 't':
            p++;
            continue;

        case 'u':
            p++;
            break;

        default:
            goto bad;
        }

        if (p < end && *p == '{') {
            p++;
            for (c = 0; p < end && *p != '}'; p++) {
                if (compliance_gql_hex(p, end, 1, &lo) != 0
                    || c > 0x10ffff)
                {
                    goto bad;
                }
                c = c * 16 + lo;
            }

            if (p == end || p[-1] == '{' || c > 0x10ffff
                || (c >= 0xd800 && c <= 0xdfff))
            {
                goto bad;
            }

            p++;
            continue;
        }

        if (compliance_gql_hex(p, end, 4, &c) != 0) {
            goto bad;
        }

        p += 4;

        if (c >= 0xdc00 && c <= 0xdfff) {
            goto bad;
        }

        if (c >= 0xd800 && c <= 0xdbff) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || compliance_gql_hex(p + 2, end, 4, &lo) != 0
                || lo < 0xdc00 || lo > 0xdfff)
            {
                goto bad;
            }
            p += 6;
        }

        continue;

bad:

        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, q,
                                   "invalid escape in string");
    }

    g->tok = GQL_STRING;
    g->tlen = (size_t) (p - g->tpos);
    g->p = p;

    return COMPLIANCE_GQL_OK;
}


/* """...""" where \""" is the only escape; any line terminator inside */
static int
compliance_gql_block_string(compliance_gql_t *g)
{
    int            rc;
    const u_char  *p, *end;

    p = g->tpos + 3;
    end = g->end;

    for ( ;; ) {
        if (p == end) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, p,
                                       "unterminated block string");
        }

        if (*p == '"' && end - p >= 3 && p[1] == '"' && p[2] == '"') {
            p += 3;
            break;
        }

        if (*p == '\\' && end - p >= 4 && p[1] == '"' && p[2] == '"'
            && p[3] == '"')
        {
            p += 4;
            continue;
        }

        if (*p >= 0x80) {
            rc = compliance_gql_utf8(g, &p);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
            continue;
        }

        p++;
    }

    g->tok = GQL_BLOCK_STRING;
    g->tlen = (size_t) (p - g->tpos);
    g->p = p;

    return COMPLIANCE_GQL_OK;
}


/* the current token is the name word */
static int
compliance_gql_is(compliance_gql_t *g, const char *word)
{
    size_t  n = strlen(word);

    return g->tok == GQL_NAME && g->tlen == n
           && memcmp(g->tpos, word, n) == 0;
}


/* the current token is tok: then the next one is read */
static int
compliance_gql_expect(compliance_gql_t *g, int tok, const char *msg)
{
    if (g->tok != tok) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos, msg);
    }

    return compliance_gql_next(g);
}


/* one more bracket level, the current token being the bracket */
static int
compliance_gql_enter(compliance_gql_t *g)
{
    if (++g->nest > COMPLIANCE_GQL_MAX_NEST) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_ENEST, g->tpos,
                                   "brackets nested too deep");
    }

    return compliance_gql_next(g);
}


static compliance_gql_def_t *
compliance_gql_new_def(compliance_gql_t *g, unsigned fragment)
{
    compliance_gql_def_t  *d;

    d = compliance_arena_alloc(g->arena, sizeof(compliance_gql_def_t));
    if (d == NULL) {
        return NULL;
    }

    memset(d, 0, sizeof(*d));
    d->fragment = fragment;
    d->offset = (size_t) (g->tpos - g->start);

    if (g->last) {
        g->last->next = d;
    } else {
        g->defs = d;
    }

    g->last = d;
    g->def = d;
    g->ndefs++;

    if (fragment) {
        g->res->fragments++;
    } else {
        g->res->operations++;
    }

    return d;
}


static int
compliance_gql_definition(compliance_gql_t *g)
{
    int                    rc;
    compliance_gql_def_t  *d;

    if (g->tok == GQL_LBRACE) {
        d = compliance_gql_new_def(g, 0);
        if (d == NULL) {
            goto nomem;
        }

        g->anonymous = 1;
        g->field_depth = 0;

        return compliance_gql_selection_set(g);
    }

    if (compliance_gql_is(g, "query") || compliance_gql_is(g, "mutation")
        || compliance_gql_is(g, "subscription"))
    {
        d = compliance_gql_new_def(g, 0);
        if (d == NULL) {
            goto nomem;
        }

        g->field_depth = 0;

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (g->tok == GQL_NAME) {
            d->name = g->tpos;
            d->name_len = g->tlen;

            rc = compliance_gql_next(g);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }

        } else {
            g->anonymous = 1;
        }

        if (g->tok == GQL_LPAREN) {
            rc = compliance_gql_variables(g);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
        }

        return compliance_gql_directed_set(g);
    }

    if (compliance_gql_is(g, "fragment")) {
        d = compliance_gql_new_def(g, 1);
        if (d == NULL) {
            goto nomem;
        }

        g->field_depth = 0;

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (g->tok != GQL_NAME || compliance_gql_is(g, "on")) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                       "expected a fragment name");
        }

        d->name = g->tpos;
        d->name_len = g->tlen;

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (!compliance_gql_is(g, "on")) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                       "expected a type condition");
        }

        rc = compliance_gql_type_condition(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        return compliance_gql_directed_set(g);
    }

    return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                               "expected an operation or a fragment");

nomem:

    return compliance_gql_fail(g, COMPLIANCE_GQL_ENOMEM, g->tpos,
                               "out of memory");
}


/* "on" NamedType, the current token being "on" */
static int
compliance_gql_type_condition(compliance_gql_t *g)
{
    int  rc;

    rc = compliance_gql_next(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    return compliance_gql_expect(g, GQL_NAME, "expected a type name");
}


/* Directives? SelectionSet: the end of every definition and fragment */
static int
compliance_gql_directed_set(compliance_gql_t *g)
{
    int  rc;

    rc = compliance_gql_directives(g, 0);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok != GQL_LBRACE) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "expected a selection set");
    }

    return compliance_gql_selection_set(g);
}


/* { Selection+ }, the current token being "{" */
static int
compliance_gql_selection_set(compliance_gql_t *g)
{
    int  rc;

    rc = compliance_gql_enter(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_RBRACE) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "empty selection set");
    }

    while (g->tok != GQL_RBRACE) {
        rc = compliance_gql_selection(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    g->nest--;

    return compliance_gql_next(g);
}


static int
compliance_gql_selection(compliance_gql_t *g)
{
    int                       rc;
    compliance_gql_def_t     *d;
    compliance_gql_spread_t  *s;

    if (g->tok == GQL_NAME) {
        return compliance_gql_field(g);
    }

    if (g->tok != GQL_SPREAD) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "expected a selection");
    }

    rc = compliance_gql_next(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_NAME && !compliance_gql_is(g, "on")) {
        s = compliance_arena_alloc(g->arena, sizeof(compliance_gql_spread_t));
        if (s == NULL) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_ENOMEM, g->tpos,
                                       "out of memory");
        }

        d = g->def;

        s->next = NULL;
        s->name = g->tpos;
        s->name_len = g->tlen;
        s->offset = (size_t) (g->tpos - g->start);
        s->depth_at = g->field_depth;
        s->frag = NULL;

        if (d->last) {
            d->last->next = s;
        } else {
            d->spreads = s;
        }

        d->last = s;

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        return compliance_gql_directives(g, 0);
    }

    /* an inline fragment */

    if (compliance_gql_is(g, "on")) {
        rc = compliance_gql_type_condition(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    return compliance_gql_directed_set(g);
}


/* Alias? Name Arguments? Directives? SelectionSet? */
static int
compliance_gql_field(compliance_gql_t *g)
{
    int                    rc;
    const u_char          *name, *at;
    size_t                 len;
    compliance_gql_def_t  *d;

    d = g->def;
    name = g->tpos;
    len = g->tlen;

    rc = compliance_gql_next(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_COLON) {
        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (g->tok != GQL_NAME) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                       "expected a field name");
        }

        name = g->tpos;
        len = g->tlen;

        if (++d->own_aliases > g->limits->max_aliases) {
            if (d->own_aliases > g->res->aliases) {
                g->res->aliases = d->own_aliases;
            }

            return compliance_gql_fail(g, COMPLIANCE_GQL_EALIASES, g->tpos,
                                       "too many aliases");
        }

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    at = name;

    /* __typename stays allowed: it reveals no schema */
    if ((len == 8 && memcmp(name, "__schema", 8) == 0)
        || (len == 6 && memcmp(name, "__type", 6) == 0))
    {
        g->res->introspection = 1;

        if (!g->limits->introspection) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINTROSPECTION, at,
                                       "introspection is not allowed");
        }
    }

    g->field_depth++;

    if (g->field_depth > d->own_depth) {
        d->own_depth = g->field_depth;

        if (d->own_depth > g->res->depth) {
            g->res->depth = d->own_depth;
        }

        if (d->own_depth > g->limits->max_depth) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EDEPTH, at,
                                       "query too deep");
        }
    }

    if (g->tok == GQL_LPAREN) {
        rc = compliance_gql_arguments(g, 0);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    rc = compliance_gql_directives(g, 0);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_LBRACE) {
        rc = compliance_gql_selection_set(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    g->field_depth--;

    return COMPLIANCE_GQL_OK;
}


/* ( Argument+ ), the current token being "(" */
static int
compliance_gql_arguments(compliance_gql_t *g, unsigned cnst)
{
    int  rc;

    rc = compliance_gql_enter(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_RPAREN) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "empty arguments");
    }

    while (g->tok != GQL_RPAREN) {
        rc = compliance_gql_expect(g, GQL_NAME, "expected an argument name");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_expect(g, GQL_COLON, "expected a colon");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_value(g, cnst);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    g->nest--;

    return compliance_gql_next(g);
}


/* (@ Name Arguments?)* */
static int
compliance_gql_directives(compliance_gql_t *g, unsigned cnst)
{
    int  rc;

    while (g->tok == GQL_AT) {
        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_expect(g, GQL_NAME, "expected a directive name");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (g->tok == GQL_LPAREN) {
            rc = compliance_gql_arguments(g, cnst);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
        }
    }

    return COMPLIANCE_GQL_OK;
}


/* ( ($Name : Type DefaultValue? Directives[Const]?)+ ) */
static int
compliance_gql_variables(compliance_gql_t *g)
{
    int  rc;

    rc = compliance_gql_enter(g);
    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_RPAREN) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "empty variable definitions");
    }

    while (g->tok != GQL_RPAREN) {
        rc = compliance_gql_expect(g, GQL_DOLLAR, "expected a variable");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_expect(g, GQL_NAME, "expected a variable name");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_expect(g, GQL_COLON, "expected a colon");
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_type(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        if (g->tok == GQL_EQUALS) {
            rc = compliance_gql_next(g);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }

            rc = compliance_gql_value(g, 1);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
        }

        rc = compliance_gql_directives(g, 1);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }
    }

    g->nest--;

    return compliance_gql_next(g);
}


/* Name | [ Type ], then an optional "!" */
static int
compliance_gql_type(compliance_gql_t *g)
{
    int  rc;

    if (g->tok == GQL_LBRACKET) {
        rc = compliance_gql_enter(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        rc = compliance_gql_type(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        g->nest--;

        rc = compliance_gql_expect(g, GQL_RBRACKET, "expected a bracket");

    } else {
        rc = compliance_gql_expect(g, GQL_NAME, "expected a type");
    }

    if (rc != COMPLIANCE_GQL_OK) {
        return rc;
    }

    if (g->tok == GQL_BANG) {
        return compliance_gql_next(g);
    }

    return COMPLIANCE_GQL_OK;
}


/* any value; cnst: a variable is refused */
static int
compliance_gql_value(compliance_gql_t *g, unsigned cnst)
{
    int  rc;

    switch (g->tok) {

    case GQL_DOLLAR:
        if (cnst) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                       "a variable in a constant value");
        }

        rc = compliance_gql_next(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        return compliance_gql_expect(g, GQL_NAME, "expected a variable name");

    case GQL_INT:
    case GQL_FLOAT:
    case GQL_STRING:
    case GQL_BLOCK_STRING:
    case GQL_NAME:
        /* true, false, null and enum values are names */
        return compliance_gql_next(g);

    case GQL_LBRACKET:
        rc = compliance_gql_enter(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        while (g->tok != GQL_RBRACKET) {
            rc = compliance_gql_value(g, cnst);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
        }

        g->nest--;

        return compliance_gql_next(g);

    case GQL_LBRACE:
        rc = compliance_gql_enter(g);
        if (rc != COMPLIANCE_GQL_OK) {
            return rc;
        }

        while (g->tok != GQL_RBRACE) {
            rc = compliance_gql_expect(g, GQL_NAME, "expected a field name");
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }

            rc = compliance_gql_expect(g, GQL_COLON, "expected a colon");
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }

            rc = compliance_gql_value(g, cnst);
            if (rc != COMPLIANCE_GQL_OK) {
                return rc;
            }
        }

        g->nest--;

        return compliance_gql_next(g);

    default:
        return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID, g->tpos,
                                   "expected a value");
    }
}


static int
compliance_gql_name_cmp(const void *a, const void *b, void *data)
{
    int                          c;
    size_t                       n;
    const compliance_gql_def_t  *x = a, *y = b;

    (void) data;

    n = x->name_len < y->name_len ? x->name_len : y->name_len;

    c = memcmp(x->name, y->name, n);
    if (c != 0) {
        return c;
    }

    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}


static compliance_gql_def_t *
compliance_gql_find(compliance_gql_def_t **v, size_t n, const u_char *name,
    size_t len)
{
    size_t                lo, hi, mid;
    compliance_gql_def_t  key;
    int                   c;

    key.name = name;
    key.name_len = len;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = compliance_gql_name_cmp(&key, v[mid], NULL);

        if (c == 0) {
            return v[mid];
        }

        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}


/*
 * Names unique among operations and among fragments; every spread
 * pointed at its fragment.
 */
static int
compliance_gql_resolve(compliance_gql_t *g)
{
    size_t                    nf, no, i;
    compliance_gql_def_t     *d, **frags, **ops;
    compliance_gql_spread_t  *s;

    frags = compliance_arena_alloc(g->arena,
                                   (g->ndefs + 1) * sizeof(*frags));
    if (frags == NULL) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_ENOMEM, g->end,
                                   "out of memory");
    }

    nf = 0;
    no = 0;
    ops = frags + g->ndefs;

    /* fragments from the front, named operations from the back */
    for (d = g->defs; d; d = d->next) {
        if (d->fragment) {
            frags[nf++] = d;

        } else if (d->name != NULL) {
            *--ops = d;
            no++;
        }
    }

    compliance_jtree_sort((void **) frags, nf, compliance_gql_name_cmp, NULL);
    compliance_jtree_sort((void **) ops, no, compliance_gql_name_cmp, NULL);

    for (i = 1; i < nf; i++) {
        if (compliance_gql_name_cmp(frags[i - 1], frags[i], NULL) == 0) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID,
                                       g->start + frags[i]->offset,
                                       "two fragments of one name");
        }
    }

    for (i = 1; i < no; i++) {
        if (compliance_gql_name_cmp(ops[i - 1], ops[i], NULL) == 0) {
            return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID,
                                       g->start + ops[i]->offset,
                                       "two operations of one name");
        }
    }

    for (d = g->defs; d; d = d->next) {
        for (s = d->spreads; s; s = s->next) {
            s->frag = compliance_gql_find(frags, nf, s->name, s->name_len);

            if (s->frag == NULL) {
                return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID,
                                           g->start + s->offset,
                                           "undefined fragment");
            }
        }
    }

    return COMPLIANCE_GQL_OK;
}


/* d's figures from its own and its (measured) fragments' */
static void
compliance_gql_finish(compliance_gql_def_t *d)
{
    uint64_t                  v;
    compliance_gql_spread_t  *s;

    d->depth = d->own_depth;
    d->aliases = d->own_aliases;

    for (s = d->spreads; s; s = s->next) {
        v = s->depth_at + s->frag->depth;
        if (v < s->depth_at) {
            v = UINT64_MAX;
        }

        if (v > d->depth) {
            d->depth = v;
        }

        v = d->aliases + s->frag->aliases;
        d->aliases = v < d->aliases ? UINT64_MAX : v;
    }

    d->state = 2;
}


/*
 * Every definition measured once, depth first with an explicit stack;
 * meeting a fragment that is still on the walk is a cycle.
 */
static int
compliance_gql_measure(compliance_gql_t *g)
{
    size_t                    top;
    compliance_gql_def_t     *d, *root, **stack;
    compliance_gql_spread_t  *s;

    stack = compliance_arena_alloc(g->arena, g->ndefs * sizeof(*stack));
    if (stack == NULL) {
        return compliance_gql_fail(g, COMPLIANCE_GQL_ENOMEM, g->end,
                                   "out of memory");
    }

    g->res->depth = 0;
    g->res->aliases = 0;

    for (root = g->defs; root; root = root->next) {
        if (root->state == 2) {
            goto done;
        }

        top = 0;
        root->state = 1;
        root->cur = root->spreads;
        stack[top++] = root;

        while (top) {
            d = stack[top - 1];
            s = d->cur;

            if (s == NULL) {
                compliance_gql_finish(d);
                top--;
                continue;
            }

            d->cur = s->next;

            if (s->frag->state == 1) {
                return compliance_gql_fail(g, COMPLIANCE_GQL_EINVALID,
                                           g->start + s->offset,
                                           "fragment cycle");
            }

            if (s->frag->state == 0) {
                s->frag->state = 1;
                s->frag->cur = s->frag->spreads;
                stack[top++] = s->frag;
            }
        }

    done:

        /* a fragment counts as if spread once at the top: unused ones too */
        if (root->depth > g->res->depth) {
            g->res->depth = root->depth;
        }

        if (root->aliases > g->res->aliases) {
            g->res->aliases = root->aliases;
        }
    }

    return COMPLIANCE_GQL_OK;
}
