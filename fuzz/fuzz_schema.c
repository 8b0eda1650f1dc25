/*
 * libFuzzer harness for the request-body JSON parser and the JSON Schema
 * validator (core/compliance_jtree.c, core/compliance_schema.c).
 *
 * Input: the first byte picks one of the fixed schemas below (modulo
 * their number); the rest is a request body.  A first byte 'S' instead
 * makes the input "S<schema text>\0<body>": the schema is compiled too.
 * A first byte 'Q' makes it "Q<selector><query string>": the query is
 * turned into an instance (core/compliance_qargs.c) against the typed
 * query schema (even selector) or a fixed schema, then validated.
 *
 * Oracles:
 *   - the parser agrees with jansson (JSON_REJECT_DUPLICATES): what one
 *     accepts the other accepts, except where this parser is stricter
 *     by design (depth 64, exponents beyond 1e9) or jansson by its
 *     limits (number overflow, NUL in a name); accepted trees are the
 *     same value (types, strings, names, sizes, integers); a body with
 *     a raw NUL byte is refused (jansson skips some: not compared);
 *   - a value equals itself (compliance_jtree_cmp) and hashes alike;
 *   - validation with errors and without gives the same answer; an
 *     answer of valid has no errors; at most 20 errors; every pointer is
 *     RFC 6901 and resolves in the body (for "required": its parent, and
 *     the member is absent); no message holds a string of the body of 8
 *     bytes or more; a second validation gives the same errors;
 *   - queries: refused as malformed exactly when a reference decoder
 *     finds a bad "%" escape or a name or value that is not UTF-8
 *     (jansson's json_stringn) (also allowed: a number beyond the
 *     exponent range); otherwise an object with one member per distinct
 *     decoded name, each found under that name, and a number or boolean
 *     only where the schema's property type allows it.
 */

#define _GNU_SOURCE             /* memmem() */

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compliance_jtree.h"
#include "compliance_qargs.h"
#include "compliance_schema.h"

#include "fuzz.h"


#define FUZZ_SCHEMA_BLOCKS  4096


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *fuzz_schema_alloc(void *data, size_t size);
static void fuzz_schema_release(void);
static void fuzz_schema_same(const compliance_jnode_t *n, json_t *j);
static void fuzz_schema_jansson(const u_char *in, size_t len, int rc,
    const compliance_jnode_t *root);
static const compliance_jnode_t *fuzz_schema_resolve(
    const compliance_jnode_t *root, const char *ptr, size_t len);
static void fuzz_schema_echo(const compliance_jnode_t *n,
    const compliance_schema_result_t *res);
static void fuzz_schema_check(const compliance_schema_t *s,
    const compliance_jnode_t *root);
static void fuzz_schema_query(const compliance_schema_t *s, const u_char *q,
    size_t len);
static int fuzz_schema_decode(const u_char *p, size_t len, u_char *out,
    size_t *n);


static const char  *fuzz_schema_texts[] = {
    /* an order, as a shop API would check it */
    "{\"type\":\"object\",\"required\":[\"id\",\"items\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"email\":{\"type\":\"string\",\"format\":\"email\",\"maxLength\":254},"
    "\"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,"
    "\"items\":{\"type\":\"object\",\"required\":[\"sku\",\"qty\"],"
    "\"properties\":{\"sku\":{\"type\":\"string\",\"pattern\":"
    "\"^[A-Z]{3}-[0-9]{4}$\"},\"qty\":{\"type\":\"integer\",\"minimum\":1,"
    "\"maximum\":1000},\"price\":{\"type\":\"number\",\"multipleOf\":0.01,"
    "\"exclusiveMinimum\":0}}}},"
    "\"note\":{\"type\":[\"string\",\"null\"],\"minLength\":1}}}",

    /* numbers and the combinators */
    "{\"anyOf\":[{\"type\":\"integer\",\"multipleOf\":7},"
    "{\"type\":\"number\",\"minimum\":-1e10,\"exclusiveMaximum\":1e999999}],"
    "\"oneOf\":[{\"maximum\":100},{\"minimum\":50}],"
    "\"not\":{\"const\":13},\"items\":{\"$ref\":\"#\"},"
    "\"additionalProperties\":{\"$ref\":\"#\"}}",

    /* a recursive tree through definitions */
    "{\"definitions\":{\"node\":{\"type\":\"object\","
    "\"properties\":{\"value\":{\"type\":[\"string\",\"number\"]},"
    "\"children\":{\"type\":\"array\",\"items\":"
    "{\"$ref\":\"#/definitions/node\"},\"uniqueItems\":true}},"
    "\"additionalProperties\":false}},\"$ref\":\"#/definitions/node\"}",

    /* strings: formats by member name, names, lengths */
    "{\"patternProperties\":{"
    "\"^d\":{\"format\":\"date\"},\"^t\":{\"format\":\"date-time\"},"
    "\"^4\":{\"format\":\"ipv4\"},\"^6\":{\"format\":\"ipv6\"},"
    "\"^e\":{\"format\":\"email\"},\"^u\":{\"format\":\"uuid\"},"
    "\"^s\":{\"minLength\":2,\"maxLength\":5,\"pattern\":\"^\\\\w+$\"}},"
    "\"propertyNames\":{\"maxLength\":8,\"pattern\":\"^[^~]\"},"
    "\"minProperties\":1,\"maxProperties\":20}",

    /* arrays: tuples, contains, uniqueness, enum and const */
    "{\"type\":\"array\",\"items\":[{\"enum\":[null,true,1,\"a\",[1],"
    "{\"k\":[0.5]}]},{\"const\":{\"a\":[1,{\"b\":null}]}}],"
    "\"additionalItems\":{\"uniqueItems\":true,\"contains\":"
    "{\"type\":\"boolean\"}},\"contains\":{\"type\":\"string\"},"
    "\"uniqueItems\":true,\"maxItems\":100}",

    /* if/then/else, booleans, dependencies by hand */
    "{\"if\":{\"required\":[\"kind\"],\"properties\":{\"kind\":"
    "{\"const\":\"card\"}}},\"then\":{\"required\":[\"pan\"],"
    "\"properties\":{\"pan\":{\"pattern\":\"^[0-9]{13,19}$\"}}},"
    "\"else\":{\"properties\":{\"pan\":false}},"
    "\"allOf\":[true,{\"not\":false}]}",

    /* backtracking regexes: the limits must end them, failing closed */
    "{\"properties\":{\"r\":{\"not\":{\"pattern\":\"^(a|aa)+$\"}},"
    "\"q\":{\"pattern\":\"^(\\\\w+\\\\s?)*$\"}},"
    "\"patternProperties\":{\"^(x+x+)+y$\":{\"type\":\"null\"}}}",

    "true",
    "{}"
};

#define FUZZ_SCHEMA_N  (sizeof(fuzz_schema_texts) / sizeof(char *))


/* query arguments of every convertible type (the 'Q' inputs) */
static const char  *fuzz_schema_query_text =
    "{\"type\":\"object\",\"properties\":{"
    "\"a\":{\"type\":\"integer\",\"minimum\":1},"
    "\"b\":{\"type\":[\"number\",\"boolean\"]},"
    "\"c\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
    "\"d\":{\"$ref\":\"#/definitions/d\"},"
    "\"e\":{\"type\":[\"array\",\"string\"],\"maxItems\":2}},"
    "\"additionalProperties\":{\"type\":\"boolean\"},"
    "\"definitions\":{\"d\":{\"type\":\"number\","
    "\"multipleOf\":0.5}}}";


static compliance_schema_t  *fuzz_schemas[FUZZ_SCHEMA_N];
static compliance_schema_t  *fuzz_schema_q;
static void                 *fuzz_schema_blocks[FUZZ_SCHEMA_BLOCKS];
static size_t                fuzz_schema_nblocks;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char    err[512];
    size_t  i;

    (void) argc;
    (void) argv;

    for (i = 0; i < FUZZ_SCHEMA_N; i++) {
        fuzz_schemas[i] = compliance_schema_compile(
                              fuzz_schema_texts[i],
                              strlen(fuzz_schema_texts[i]), "fuzz.json",
                              err, sizeof(err));
        if (fuzz_schemas[i] == NULL) {
            fprintf(stderr, "fuzz_schema: schema %zu: %s\n", i, err);
            abort();
        }
    }

    fuzz_schema_q = compliance_schema_compile(fuzz_schema_query_text,
                                              strlen(fuzz_schema_query_text),
                                              "query.json", err, sizeof(err));
    if (fuzz_schema_q == NULL) {
        fprintf(stderr, "fuzz_schema: query schema: %s\n", err);
        abort();
    }

    return 0;
}


/* the arena's blocks, as a pool would give them; freed after each run */
static void *
fuzz_schema_alloc(void *data, size_t size)
{
    void  *p;

    (void) data;

    if (fuzz_schema_nblocks == FUZZ_SCHEMA_BLOCKS) {
        return NULL;
    }

    p = malloc(size);
    if (p != NULL) {
        fuzz_schema_blocks[fuzz_schema_nblocks++] = p;
    }

    return p;
}


static void
fuzz_schema_release(void)
{
    while (fuzz_schema_nblocks > 0) {
        free(fuzz_schema_blocks[--fuzz_schema_nblocks]);
    }
}


/* the same value in both trees (real numbers only by type) */
static void
fuzz_schema_same(const compliance_jnode_t *n, json_t *j)
{
    int                        rc;
    char                       num[32];
    size_t                     off, i;
    json_t                    *v;
    u_char                     mem[512];
    compliance_arena_t         a;
    compliance_jnode_t        *x;
    const compliance_jnode_t  *e;

    switch (n->type) {

    case COMPLIANCE_JNULL:
        if (!json_is_null(j)) {
            goto differ;
        }

        return;

    case COMPLIANCE_JTRUE:
        if (!json_is_true(j)) {
            goto differ;
        }

        return;

    case COMPLIANCE_JFALSE:
        if (!json_is_false(j)) {
            goto differ;
        }

        return;

    case COMPLIANCE_JSTRING:
        if (!json_is_string(j) || json_string_length(j) != n->u.str.len
            || memcmp(json_string_value(j), n->u.str.data, n->u.str.len))
        {
            goto differ;
        }

        return;

    case COMPLIANCE_JNUMBER:
        if (json_is_real(j)) {
            return;
        }

        if (!json_is_integer(j)) {
            goto differ;
        }

        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(j));
        compliance_arena_init(&a, mem, sizeof(mem), NULL, NULL, 0);
        rc = compliance_jtree_parse((u_char *) num, strlen(num), 1, &a, &x,
                                    &off);

        if (rc != COMPLIANCE_JTREE_OK || compliance_jnum_cmp(n, x) != 0
            || !compliance_jnum_is_integer(n))
        {
            goto differ;
        }

        return;

    case COMPLIANCE_JARRAY:
        if (!json_is_array(j) || json_array_size(j) != n->u.kids.count) {
            goto differ;
        }

        for (e = n->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
            fuzz_schema_same(e, json_array_get(j, i));
        }

        return;

    default:
        if (!json_is_object(j) || json_object_size(j) != n->u.kids.count) {
            goto differ;
        }

        for (e = n->u.kids.first; e != NULL; e = e->next) {
            v = json_object_getn(j, (const char *) e->key, e->key_len);
            if (v == NULL) {
                goto differ;
            }

            fuzz_schema_same(e, v);
        }

        return;
    }

differ:

    fprintf(stderr, "fuzz_schema: the tree differs from jansson's (type "
            "%d)\n", n->type);
    abort();
}


static void
fuzz_schema_jansson(const u_char *in, size_t len, int rc,
    const compliance_jnode_t *root)
{
    json_t        *j;
    json_error_t   err;

    /*
     * A raw NUL byte is valid nowhere in JSON text (not whitespace, a
     * control character inside strings), so it must be refused; jansson
     * skips one after a number ("[1,2\0]" loads as [1,2]), so it is no
     * oracle for such inputs.
     */
    if (memchr(in, '\0', len) != NULL) {
        if (rc == COMPLIANCE_JTREE_OK) {
            fprintf(stderr, "fuzz_schema: accepted a raw NUL byte\n");
            abort();
        }

        return;
    }

    j = json_loadb((const char *) in, len,
                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                   &err);

    if (rc == COMPLIANCE_JTREE_OK && j == NULL) {
        /* jansson's own limits, not ours */
        if (strstr(err.text, "too big") != NULL
            || strstr(err.text, "overflow") != NULL
            || strstr(err.text, "NUL byte in object key") != NULL)
        {
            return;
        }

        fprintf(stderr, "fuzz_schema: accepted what jansson refuses: %s\n",
                err.text);
        abort();
    }

    if (rc != COMPLIANCE_JTREE_OK && j != NULL) {
        json_decref(j);

        if (rc == COMPLIANCE_JTREE_EDEPTH || rc == COMPLIANCE_JTREE_ERANGE
            || rc == COMPLIANCE_JTREE_ENOMEM)
        {
            return;
        }

        fprintf(stderr, "fuzz_schema: refused (%s) what jansson accepts\n",
                compliance_jtree_strerror(rc));
        abort();
    }

    if (j != NULL) {
        fuzz_schema_same(root, j);
        json_decref(j);
    }
}


/* the last '/' of a counted pointer (a name may hold a NUL byte) */
static const char *
fuzz_schema_last_slash(const char *p, size_t len)
{
    while (len > 0) {
        if (p[--len] == '/') {
            return p + len;
        }
    }

    return NULL;
}


/* RFC 6901 pointer to the node, NULL if it does not resolve */
static const compliance_jnode_t *
fuzz_schema_resolve(const compliance_jnode_t *root, const char *ptr,
    size_t len)
{
    char                       *seg;
    size_t                      i, n, k, idx;
    const compliance_jnode_t   *cur, *e;

    cur = root;

    if (len > 0 && ptr[0] != '/') {
        fprintf(stderr, "fuzz_schema: pointer without '/': %s\n", ptr);
        abort();
    }

    seg = malloc(len + 1);
    if (seg == NULL) {
        abort();
    }

    for (i = 0; i < len && cur != NULL; ) {
        n = 0;

        for (i++; i < len && ptr[i] != '/'; i++) {
            if (ptr[i] == '~') {
                if (i + 1 == len || (ptr[i + 1] != '0' && ptr[i + 1] != '1')) {
                    fprintf(stderr, "fuzz_schema: bad escape in pointer\n");
                    abort();
                }

                seg[n++] = ptr[i + 1] == '0' ? '~' : '/';
                i++;
                continue;
            }

            seg[n++] = ptr[i];
        }

        if (cur->type == COMPLIANCE_JOBJECT) {
            cur = compliance_jtree_get(cur, (u_char *) seg, n);

        } else if (cur->type == COMPLIANCE_JARRAY) {
            idx = 0;

            for (k = 0; k < n; k++) {
                if (seg[k] < '0' || seg[k] > '9' || (k == 0 && n > 1
                                                     && seg[0] == '0'))
                {
                    fprintf(stderr, "fuzz_schema: bad array index\n");
                    abort();
                }

                idx = idx * 10 + (size_t) (seg[k] - '0');
            }

            for (e = cur->u.kids.first; e != NULL && idx; e = e->next) {
                idx--;
            }

            cur = (n == 0) ? NULL : e;

        } else {
            cur = NULL;
        }
    }

    free(seg);

    return cur;
}


static void
fuzz_schema_echo(const compliance_jnode_t *n,
    const compliance_schema_result_t *res)
{
    size_t                     i;
    int                        words;
    const compliance_jnode_t  *e;

    /*
     * A value made only of lowercase words and spaces can be a piece of
     * the messages' own fixed text ("is required"): not an echo.
     */
    words = 1;

    if (n->type == COMPLIANCE_JSTRING) {
        for (i = 0; i < n->u.str.len; i++) {
            if (n->u.str.data[i] != ' '
                && (n->u.str.data[i] < 'a' || n->u.str.data[i] > 'z'))
            {
                words = 0;
                break;
            }
        }
    }

    if (n->type == COMPLIANCE_JSTRING && n->u.str.len >= 8 && !words) {
        for (i = 0; i < res->nerrors; i++) {
            if (memmem(res->errors[i].message,
                       strlen(res->errors[i].message), n->u.str.data,
                       n->u.str.len) != NULL)
            {
                fprintf(stderr, "fuzz_schema: a message echoes a value: %s\n",
                        res->errors[i].message);
                abort();
            }
        }
    }

    if (n->type == COMPLIANCE_JARRAY || n->type == COMPLIANCE_JOBJECT) {
        for (e = n->u.kids.first; e != NULL; e = e->next) {
            fuzz_schema_echo(e, res);
        }
    }
}


static void
fuzz_schema_check(const compliance_schema_t *s, const compliance_jnode_t *root)
{
    int                               rc, rq, r2;
    size_t                            i, len;
    const char                       *p, *slash;
    const compliance_jnode_t         *at;
    compliance_arena_t                a;
    compliance_schema_result_t        res, res2;
    const compliance_schema_error_t  *e;

    compliance_arena_init(&a, NULL, 0, fuzz_schema_alloc, NULL, 4 << 20);

    rq = compliance_schema_validate(s, root, &a, 0, NULL);
    rc = compliance_schema_validate(s, root, &a, 0, &res);
    r2 = compliance_schema_validate(s, root, &a, 0, &res2);

    if (rc == COMPLIANCE_SCHEMA_ENOMEM || rq == COMPLIANCE_SCHEMA_ENOMEM
        || r2 == COMPLIANCE_SCHEMA_ENOMEM)
    {
        return;
    }

    if (rc != rq || rc != r2) {
        fprintf(stderr, "fuzz_schema: answers differ: %d with errors, %d "
                "quiet, %d again\n", rc, rq, r2);
        abort();
    }

    if ((rc == COMPLIANCE_SCHEMA_VALID) != (res.nerrors == 0)
        || res.nerrors > COMPLIANCE_SCHEMA_MAX_ERRORS
        || res.nerrors != res2.nerrors)
    {
        fprintf(stderr, "fuzz_schema: answer %d with %zu errors (%zu "
                "again)\n", rc, res.nerrors, res2.nerrors);
        abort();
    }

    for (i = 0; i < res.nerrors; i++) {
        e = &res.errors[i];

        if (e->keyword == NULL || e->keyword[0] == '\0'
            || memchr(e->message, '\0', sizeof(e->message)) == NULL
            || e->message[0] == '\0'
            || e->pointer_len != res2.errors[i].pointer_len
            || memcmp(e->pointer, res2.errors[i].pointer,
                      e->pointer_len) != 0
            || strcmp(e->keyword, res2.errors[i].keyword) != 0)
        {
            fprintf(stderr, "fuzz_schema: error %zu malformed or not "
                    "repeated\n", i);
            abort();
        }

        p = e->pointer;
        len = e->pointer_len;

        if (strcmp(e->keyword, "required") == 0) {
            slash = fuzz_schema_last_slash(p, len);
            if (slash == NULL
                || fuzz_schema_resolve(root, p, len) != NULL)
            {
                fprintf(stderr, "fuzz_schema: \"required\" at a present "
                        "member: %s\n", p);
                abort();
            }

            len = (size_t) (slash - p);
        }

        at = fuzz_schema_resolve(root, p, len);

        if (at == NULL) {
            fprintf(stderr, "fuzz_schema: pointer does not resolve: %s "
                    "(%s)\n", p, e->keyword);
            abort();
        }
    }

    fuzz_schema_echo(root, &res);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    char                  err[512];
    u_char               *in, *body, *nul;
    size_t                len, off;
    compliance_arena_t    a;
    compliance_jnode_t   *root;
    compliance_schema_t  *s;

    if (size == 0) {
        return 0;
    }

    /* an exact-size copy, so ASan sees any over-read */
    in = malloc(size);
    if (in == NULL) {
        abort();
    }

    memcpy(in, data, size);

    s = fuzz_schemas[in[0] % FUZZ_SCHEMA_N];
    body = in + 1;
    len = size - 1;

    if (in[0] == 'Q') {
        if (size >= 2) {
            s = (in[1] % 2 == 0) ? fuzz_schema_q
                                 : fuzz_schemas[in[1] % FUZZ_SCHEMA_N];
            fuzz_schema_query(s, in + 2, size - 2);
        }

        fuzz_schema_release();
        free(in);
        return 0;
    }

    if (in[0] == 'S') {
        nul = memchr(in + 1, '\0', size - 1);

        s = compliance_schema_compile((char *) in + 1,
                                      nul ? (size_t) (nul - in - 1)
                                          : size - 1,
                                      "fuzz.json", err, sizeof(err));

        if (s == NULL && memchr(err, '\0', sizeof(err)) == NULL) {
            fprintf(stderr, "fuzz_schema: compile error not terminated\n");
            abort();
        }

        if (s == NULL || nul == NULL) {
            compliance_schema_free(s);
            free(in);
            return 0;
        }

        body = nul + 1;
        len = (size_t) (in + size - body);
    }

    compliance_arena_init(&a, NULL, 0, fuzz_schema_alloc, NULL, 64 * len
                                                               + (1 << 20));

    rc = compliance_jtree_parse(body, len, COMPLIANCE_JTREE_MAX_DEPTH, &a,
                                &root, &off);

    if (rc != COMPLIANCE_JTREE_OK && off > len) {
        fprintf(stderr, "fuzz_schema: error offset %zu past %zu\n", off, len);
        abort();
    }

    fuzz_schema_jansson(body, len, rc, root);

    if (rc == COMPLIANCE_JTREE_OK) {
        if (compliance_jtree_cmp(root, root) != 0
            || compliance_jtree_hash(root) != compliance_jtree_hash(root))
        {
            fprintf(stderr, "fuzz_schema: a value differs from itself\n");
            abort();
        }

        fuzz_schema_check(s, root);
    }

    fuzz_schema_release();

    if (in[0] == 'S') {
        compliance_schema_free(s);
    }

    free(in);

    return 0;
}


/* the reference decoder: 0, or -1 for a bad escape */
static int
fuzz_schema_decode(const u_char *p, size_t len, u_char *out, size_t *n)
{
    size_t        i;
    unsigned int  v;
    char          hex[3];

    *n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '%') {
            if (len - i < 3) {
                return -1;
            }

            if (!isxdigit(p[i + 1]) || !isxdigit(p[i + 2])) {
                return -1;
            }

            hex[0] = (char) p[i + 1];
            hex[1] = (char) p[i + 2];
            hex[2] = '\0';
            v = (unsigned int) strtoul(hex, NULL, 16);
            out[(*n)++] = (u_char) v;
            i += 2;

        } else {
            out[(*n)++] = (p[i] == '+') ? ' ' : p[i];
        }
    }

    return 0;
}


static void
fuzz_schema_query(const compliance_schema_t *s, const u_char *q, size_t len)
{
    int                        rc, bad, single;
    u_char                    *dec;
    size_t                     i, j, start, end, eq, nn, nv, off;
    size_t                     nargs, distinct;
    json_t                    *js;
    unsigned                   types, items;
    compliance_arena_t         a;
    compliance_jnode_t        *root;
    const compliance_jnode_t  *m;

    struct {
        size_t   name;       /* offset in dec */
        size_t   name_len;
    }                         *args;

    dec = malloc(2 * len + 1);
    args = malloc((len + 1) * sizeof(*args));

    if (dec == NULL || args == NULL) {
        abort();
    }

    bad = 0;
    nargs = 0;
    off = 0;

    for (start = 0; start <= len; start = end + 1) {
        for (end = start; end < len && q[end] != '&'; end++) {
            /* void */
        }

        if (end == start) {
            continue;
        }

        for (eq = start; eq < end && q[eq] != '='; eq++) {
            /* void */
        }

        if (fuzz_schema_decode(q + start, eq - start, dec + off, &nn) != 0
            || fuzz_schema_decode(q + eq + (eq < end), end - eq - (eq < end),
                                  dec + off + nn, &nv)
               != 0)
        {
            bad = 1;
            break;
        }

        js = json_stringn((char *) dec + off, nn);
        if (js == NULL) {
            bad = 1;
        }
        json_decref(js);

        js = json_stringn((char *) dec + off + nn, nv);
        if (js == NULL) {
            bad = 1;
        }
        json_decref(js);

        args[nargs].name = off;
        args[nargs].name_len = nn;
        nargs++;
        off += nn + nv;
    }

    compliance_arena_init(&a, NULL, 0, fuzz_schema_alloc, NULL,
                          64 * len + (1 << 20));

    rc = compliance_qargs_object(q, len, s, &a, &root);

    if (rc == COMPLIANCE_QARGS_ENOMEM) {
        goto done;
    }

    if (bad) {
        if (rc != COMPLIANCE_QARGS_EMALFORMED) {
            fprintf(stderr, "fuzz_schema: a malformed query was accepted\n");
            abort();
        }

        goto done;
    }

    if (rc == COMPLIANCE_QARGS_EMALFORMED) {
        /* a number beyond the parser's exponent range is the only other */
        if (memchr(q, 'e', len) == NULL && memchr(q, 'E', len) == NULL) {
            fprintf(stderr, "fuzz_schema: a well-formed query refused\n");
            abort();
        }

        goto done;
    }

    if (root->type != COMPLIANCE_JOBJECT) {
        fprintf(stderr, "fuzz_schema: a query that is not an object\n");
        abort();
    }

    distinct = 0;

    for (i = 0; i < nargs; i++) {
        for (j = 0; j < i; j++) {
            if (args[j].name_len == args[i].name_len
                && memcmp(dec + args[j].name, dec + args[i].name,
                          args[i].name_len) == 0)
            {
                break;
            }
        }

        distinct += (j == i);

        m = compliance_jtree_get(root, dec + args[i].name, args[i].name_len);
        if (m == NULL) {
            fprintf(stderr, "fuzz_schema: a query argument is missing\n");
            abort();
        }

        types = compliance_schema_property_types(s, dec + args[i].name,
                                                 args[i].name_len, &items);

        single = (m->type != COMPLIANCE_JARRAY);

        if (!single) {
            types = items;
            m = m->u.kids.first;
        }

        for ( /* void */ ; m != NULL; m = single ? NULL : m->next) {
            if ((m->type == COMPLIANCE_JNUMBER
                 && !(types & (COMPLIANCE_SCHEMA_TYPE_NUMBER
                               | COMPLIANCE_SCHEMA_TYPE_INTEGER)))
                || ((m->type == COMPLIANCE_JTRUE
                     || m->type == COMPLIANCE_JFALSE)
                    && !(types & COMPLIANCE_SCHEMA_TYPE_BOOLEAN)))
            {
                fprintf(stderr, "fuzz_schema: a query value converted to a "
                        "type its property does not have\n");
                abort();
            }
        }
    }

    if (root->u.kids.count != distinct) {
        fprintf(stderr, "fuzz_schema: %zu query members for %zu names\n",
                root->u.kids.count, distinct);
        abort();
    }

    fuzz_schema_check(s, root);

done:

    free(dec);
    free(args);
}
