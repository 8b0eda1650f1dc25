/*
 * JSON Schema draft-07 compiler and validator.
 *
 * The schema text is parsed with the same parser as request bodies, so
 * "const" and "enum" values and the bounds of "minimum" and friends are
 * the same exact numbers as the instance's and compare with
 * compliance_jtree_cmp().  Every schema position becomes a node; "$ref"
 * becomes a pointer to the node it names, so validation never looks at
 * a URI or a JSON pointer.
 *
 * Validation walks the schema against the instance.  Errors are
 * collected until the table is full; the applicators whose failure is
 * not an error by itself (anyOf, oneOf, not, if, contains,
 * propertyNames) run their subschemas "quiet": no error recorded, first
 * failure stops.  Every evaluation returns OK, FAIL or ABORT; ABORT (a
 * limit was hit) goes straight up, so no limit can turn into a pass.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>

#include "compliance_format.h"
#include "compliance_jtree.h"
#include "compliance_schema.h"


#define COMPLIANCE_SCHEMA_PATH_TEXT   1024

/* evaluation results */
#define COMPLIANCE_SCHEMA_OK          0
#define COMPLIANCE_SCHEMA_FAIL        1
#define COMPLIANCE_SCHEMA_ABORT       2

/* type bits */
#define COMPLIANCE_SCHEMA_T_NULL      COMPLIANCE_SCHEMA_TYPE_NULL
#define COMPLIANCE_SCHEMA_T_BOOLEAN   COMPLIANCE_SCHEMA_TYPE_BOOLEAN
#define COMPLIANCE_SCHEMA_T_OBJECT    COMPLIANCE_SCHEMA_TYPE_OBJECT
#define COMPLIANCE_SCHEMA_T_ARRAY     COMPLIANCE_SCHEMA_TYPE_ARRAY
#define COMPLIANCE_SCHEMA_T_NUMBER    COMPLIANCE_SCHEMA_TYPE_NUMBER
#define COMPLIANCE_SCHEMA_T_STRING    COMPLIANCE_SCHEMA_TYPE_STRING
#define COMPLIANCE_SCHEMA_T_INTEGER   COMPLIANCE_SCHEMA_TYPE_INTEGER

/* boolean schemas */
#define COMPLIANCE_SCHEMA_B_NONE      0
#define COMPLIANCE_SCHEMA_B_TRUE      1
#define COMPLIANCE_SCHEMA_B_FALSE     2


typedef enum {
    COMPLIANCE_SCHEMA_K_TYPE = 0,
    COMPLIANCE_SCHEMA_K_ENUM,
    COMPLIANCE_SCHEMA_K_CONST,
    COMPLIANCE_SCHEMA_K_PROPERTIES,
    COMPLIANCE_SCHEMA_K_REQUIRED,
    COMPLIANCE_SCHEMA_K_ADDITIONAL_PROPERTIES,
    COMPLIANCE_SCHEMA_K_PATTERN_PROPERTIES,
    COMPLIANCE_SCHEMA_K_PROPERTY_NAMES,
    COMPLIANCE_SCHEMA_K_MIN_PROPERTIES,
    COMPLIANCE_SCHEMA_K_MAX_PROPERTIES,
    COMPLIANCE_SCHEMA_K_ITEMS,
    COMPLIANCE_SCHEMA_K_ADDITIONAL_ITEMS,
    COMPLIANCE_SCHEMA_K_CONTAINS,
    COMPLIANCE_SCHEMA_K_MIN_ITEMS,
    COMPLIANCE_SCHEMA_K_MAX_ITEMS,
    COMPLIANCE_SCHEMA_K_UNIQUE_ITEMS,
    COMPLIANCE_SCHEMA_K_MIN_LENGTH,
    COMPLIANCE_SCHEMA_K_MAX_LENGTH,
    COMPLIANCE_SCHEMA_K_PATTERN,
    COMPLIANCE_SCHEMA_K_MINIMUM,
    COMPLIANCE_SCHEMA_K_MAXIMUM,
    COMPLIANCE_SCHEMA_K_EXCLUSIVE_MINIMUM,
    COMPLIANCE_SCHEMA_K_EXCLUSIVE_MAXIMUM,
    COMPLIANCE_SCHEMA_K_MULTIPLE_OF,
    COMPLIANCE_SCHEMA_K_ALL_OF,
    COMPLIANCE_SCHEMA_K_ANY_OF,
    COMPLIANCE_SCHEMA_K_ONE_OF,
    COMPLIANCE_SCHEMA_K_NOT,
    COMPLIANCE_SCHEMA_K_IF,
    COMPLIANCE_SCHEMA_K_THEN,
    COMPLIANCE_SCHEMA_K_ELSE,
    COMPLIANCE_SCHEMA_K_DEFINITIONS,
    COMPLIANCE_SCHEMA_K_REF,
    COMPLIANCE_SCHEMA_K_FORMAT,
    COMPLIANCE_SCHEMA_K_TITLE,
    COMPLIANCE_SCHEMA_K_DESCRIPTION,
    COMPLIANCE_SCHEMA_K_DEFAULT,
    COMPLIANCE_SCHEMA_K_EXAMPLES,
    COMPLIANCE_SCHEMA_K_COMMENT,
    COMPLIANCE_SCHEMA_K_SCHEMA,
    COMPLIANCE_SCHEMA_K_ID,
    COMPLIANCE_SCHEMA_K_NONE
} compliance_schema_kw_e;

#define compliance_schema_bit(k)  ((uint64_t) 1 << (k))

/* keywords that assert nothing: allowed next to "$ref" */
#define COMPLIANCE_SCHEMA_NOTES                                              \
    (compliance_schema_bit(COMPLIANCE_SCHEMA_K_DEFINITIONS)                  \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_REF)                        \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_TITLE)                      \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_DESCRIPTION)                \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_DEFAULT)                    \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_EXAMPLES)                   \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_COMMENT)                    \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_SCHEMA)                     \
     | compliance_schema_bit(COMPLIANCE_SCHEMA_K_ID))

#define compliance_schema_has(n, k)                                          \
    (((n)->has & compliance_schema_bit(COMPLIANCE_SCHEMA_K_ ## k)) != 0)


typedef enum {
    COMPLIANCE_SCHEMA_F_NONE = 0,
    COMPLIANCE_SCHEMA_F_DATE_TIME,
    COMPLIANCE_SCHEMA_F_DATE,
    COMPLIANCE_SCHEMA_F_EMAIL,
    COMPLIANCE_SCHEMA_F_IPV4,
    COMPLIANCE_SCHEMA_F_IPV6,
    COMPLIANCE_SCHEMA_F_UUID
} compliance_schema_format_e;


typedef struct compliance_schema_node_s   compliance_schema_node_t;
typedef struct compliance_schema_regex_s  compliance_schema_regex_t;
typedef struct compliance_schema_block_s  compliance_schema_block_t;


typedef struct {
    const u_char               *name;
    size_t                      len;
    compliance_schema_node_t   *schema;
} compliance_schema_prop_t;


typedef struct {
    pcre2_code                 *re;
    compliance_schema_node_t   *schema;
} compliance_schema_pprop_t;


struct compliance_schema_regex_s {
    pcre2_code                 *code;
    compliance_schema_regex_t  *next;
};


struct compliance_schema_block_s {
    compliance_schema_block_t  *next;
    uint64_t                    align;
};


struct compliance_schema_node_s {
    uint64_t                     has;
    uint8_t                      boolean;
    uint8_t                      types;
    uint8_t                      format;
    uint8_t                      unique;
    uint8_t                      items_array;
    uint8_t                      mark;
    uint8_t                      index_seg;

    /* where it is: the document node, the parent and the segment(s) */
    const compliance_jnode_t    *src;
    compliance_schema_node_t    *parent;
    const char                  *kw;
    const u_char                *seg;
    size_t                       seg_len;
    size_t                       seg_index;
    compliance_schema_node_t    *next;

    const compliance_jnode_t    *ref_src;
    compliance_schema_node_t    *ref;

    const compliance_jnode_t    *enum_values;
    const compliance_jnode_t    *const_value;
    const compliance_jnode_t    *minimum;
    const compliance_jnode_t    *maximum;
    const compliance_jnode_t    *xminimum;
    const compliance_jnode_t    *xmaximum;
    const compliance_jnode_t    *multiple_of;
    uint64_t                     mult_b;
    int64_t                      mult_e;

    uint64_t                     min_length;
    uint64_t                     max_length;
    uint64_t                     min_items;
    uint64_t                     max_items;
    uint64_t                     min_props;
    uint64_t                     max_props;

    compliance_schema_prop_t    *props;
    size_t                       nprops;
    const compliance_jnode_t   **required;
    size_t                       nrequired;
    compliance_schema_pprop_t   *pprops;
    size_t                       npprops;
    compliance_schema_node_t    *additional_props;
    compliance_schema_node_t    *property_names;

    compliance_schema_node_t    *items;
    compliance_schema_node_t   **items_list;
    size_t                       nitems;
    compliance_schema_node_t    *additional_items;
    compliance_schema_node_t    *contains;

    compliance_schema_node_t   **all_of;
    size_t                       nall_of;
    compliance_schema_node_t   **any_of;
    size_t                       nany_of;
    compliance_schema_node_t   **one_of;
    size_t                       none_of;
    compliance_schema_node_t    *not_;
    compliance_schema_node_t    *if_;
    compliance_schema_node_t    *then_;
    compliance_schema_node_t    *else_;

    pcre2_code                  *pattern;
};


struct compliance_schema_s {
    compliance_arena_t           arena;
    compliance_schema_block_t   *blocks;
    compliance_schema_node_t    *root;
    compliance_schema_node_t    *nodes;
    size_t                       nnodes;
    const compliance_jnode_t    *doc;
    compliance_schema_regex_t   *regexes;
    pcre2_match_data            *match_data;
    pcre2_match_context         *match_ctx;
    pcre2_jit_stack             *jit_stack;
    const char                  *warnings[COMPLIANCE_SCHEMA_MAX_WARNINGS];
    size_t                       nwarnings;
};


/* compile context */
typedef struct {
    compliance_schema_t         *schema;
    const char                  *file;
    char                        *err;
    size_t                       errlen;
    unsigned                     failed;
} compliance_schema_cc_t;


typedef struct {
    const u_char                *key;
    size_t                       len;
    size_t                       index;
} compliance_schema_seg_t;


/* validation context */
typedef struct {
    const compliance_schema_t   *schema;
    compliance_arena_t          *arena;
    compliance_schema_result_t  *res;
    unsigned                     quiet;
    unsigned                     stop;
    unsigned                     nomem;
    unsigned                     depth;
    size_t                       steps;
    size_t                       max_steps;
    size_t                       npath;
    compliance_schema_seg_t      path[COMPLIANCE_SCHEMA_PATH_MAX];
} compliance_schema_vc_t;


typedef struct {
    const char                  *name;
    compliance_schema_kw_e       kw;
} compliance_schema_keyword_t;


/* an array element for uniqueItems: sorted by hash, then by value */
typedef struct {
    uint64_t                     hash;
    const compliance_jnode_t    *node;
} compliance_schema_uniq_t;


static void *compliance_schema_block(void *data, size_t size);
static size_t compliance_schema_escape(char *dst, size_t size,
    const u_char *s, size_t len);
static size_t compliance_schema_path(const compliance_schema_node_t *n,
    char *buf, size_t size);
static void compliance_schema_suffix(char *buf, size_t size, const char *kw,
    const u_char *name, size_t len);
static void compliance_schema_suffix_index(char *buf, size_t size,
    const char *kw, size_t index);
static void compliance_schema_error(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix, const char *fmt,
    ...);
static void compliance_schema_warn(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix, const char *text);
static compliance_schema_node_t *compliance_schema_new(
    compliance_schema_cc_t *cc, const compliance_jnode_t *j,
    compliance_schema_node_t *parent, const char *kw);
static compliance_schema_node_t *compliance_schema_sub(
    compliance_schema_cc_t *cc, compliance_schema_node_t *parent,
    const char *kw, const compliance_jnode_t *j);
static compliance_schema_node_t *compliance_schema_sub_named(
    compliance_schema_cc_t *cc, compliance_schema_node_t *parent,
    const char *kw, const compliance_jnode_t *member);
static compliance_schema_node_t *compliance_schema_sub_index(
    compliance_schema_cc_t *cc, compliance_schema_node_t *parent,
    const char *kw, size_t i, const compliance_jnode_t *j);
static int compliance_schema_body(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n);
static int compliance_schema_keyword(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, compliance_schema_kw_e kw,
    const compliance_jnode_t *m);
static int compliance_schema_type(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m);
static int compliance_schema_count(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m, uint64_t *v);
static int compliance_schema_list(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m,
    compliance_schema_node_t ***list, size_t *count);
static int compliance_schema_properties(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m);
static int compliance_schema_pattern_properties(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m);
static int compliance_schema_required(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m);
static pcre2_code *compliance_schema_regex(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix,
    const compliance_jnode_t *str);
static const compliance_jnode_t **compliance_schema_members(
    compliance_schema_cc_t *cc, const compliance_jnode_t *obj);
static int compliance_schema_name_cmp(const void *a, const void *b,
    void *data);
static int compliance_schema_src_cmp(const void *a, const void *b,
    void *data);
static int compliance_schema_hex(u_char c);
static int compliance_schema_resolve(compliance_schema_cc_t *cc,
    compliance_schema_node_t **index, compliance_schema_node_t *n);
static compliance_schema_node_t *compliance_schema_in_place(
    const compliance_schema_node_t *n, size_t k);
static int compliance_schema_cycles(compliance_schema_cc_t *cc);
static void compliance_schema_json_error(compliance_schema_cc_t *cc,
    const u_char *text, size_t off, int rc);

static int compliance_schema_eval(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v,
    const char *via);
static int compliance_schema_eval_node(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_quiet(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v,
    const char *via);
static int compliance_schema_eval_number(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_eval_string(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_eval_array(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_eval_object(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_eval_unique(compliance_schema_vc_t *vc,
    const compliance_jnode_t *v);
static int compliance_schema_eval_any(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v);
static int compliance_schema_match(compliance_schema_vc_t *vc,
    pcre2_code *re, const u_char *s, size_t len, const char *kw);
static int compliance_schema_push(compliance_schema_vc_t *vc,
    const u_char *key, size_t len, size_t index);
static int compliance_schema_report(compliance_schema_vc_t *vc,
    const char *kw, const char *fmt, ...);
static int compliance_schema_abort(compliance_schema_vc_t *vc,
    const char *kw, const char *msg);
static compliance_schema_error_t *compliance_schema_record(
    compliance_schema_vc_t *vc, const char *kw);
static int compliance_schema_uniq_cmp(const compliance_schema_uniq_t *a,
    const compliance_schema_uniq_t *b);
static void compliance_schema_uniq_sort(compliance_schema_uniq_t *v,
    size_t n);
static const compliance_schema_prop_t *compliance_schema_find_prop(
    const compliance_schema_node_t *n, const u_char *key, size_t len);
static int compliance_schema_type_ok(const compliance_schema_node_t *n,
    const compliance_jnode_t *v);


static const compliance_schema_keyword_t  compliance_schema_keywords[] = {
    { "type", COMPLIANCE_SCHEMA_K_TYPE },
    { "enum", COMPLIANCE_SCHEMA_K_ENUM },
    { "const", COMPLIANCE_SCHEMA_K_CONST },
    { "properties", COMPLIANCE_SCHEMA_K_PROPERTIES },
    { "required", COMPLIANCE_SCHEMA_K_REQUIRED },
    { "additionalProperties", COMPLIANCE_SCHEMA_K_ADDITIONAL_PROPERTIES },
    { "patternProperties", COMPLIANCE_SCHEMA_K_PATTERN_PROPERTIES },
    { "propertyNames", COMPLIANCE_SCHEMA_K_PROPERTY_NAMES },
    { "minProperties", COMPLIANCE_SCHEMA_K_MIN_PROPERTIES },
    { "maxProperties", COMPLIANCE_SCHEMA_K_MAX_PROPERTIES },
    { "items", COMPLIANCE_SCHEMA_K_ITEMS },
    { "additionalItems", COMPLIANCE_SCHEMA_K_ADDITIONAL_ITEMS },
    { "contains", COMPLIANCE_SCHEMA_K_CONTAINS },
    { "minItems", COMPLIANCE_SCHEMA_K_MIN_ITEMS },
    { "maxItems", COMPLIANCE_SCHEMA_K_MAX_ITEMS },
    { "uniqueItems", COMPLIANCE_SCHEMA_K_UNIQUE_ITEMS },
    { "minLength", COMPLIANCE_SCHEMA_K_MIN_LENGTH },
    { "maxLength", COMPLIANCE_SCHEMA_K_MAX_LENGTH },
    { "pattern", COMPLIANCE_SCHEMA_K_PATTERN },
    { "minimum", COMPLIANCE_SCHEMA_K_MINIMUM },
    { "maximum", COMPLIANCE_SCHEMA_K_MAXIMUM },
    { "exclusiveMinimum", COMPLIANCE_SCHEMA_K_EXCLUSIVE_MINIMUM },
    { "exclusiveMaximum", COMPLIANCE_SCHEMA_K_EXCLUSIVE_MAXIMUM },
    { "multipleOf", COMPLIANCE_SCHEMA_K_MULTIPLE_OF },
    { "allOf", COMPLIANCE_SCHEMA_K_ALL_OF },
    { "anyOf", COMPLIANCE_SCHEMA_K_ANY_OF },
    { "oneOf", COMPLIANCE_SCHEMA_K_ONE_OF },
    { "not", COMPLIANCE_SCHEMA_K_NOT },
    { "if", COMPLIANCE_SCHEMA_K_IF },
    { "then", COMPLIANCE_SCHEMA_K_THEN },
    { "else", COMPLIANCE_SCHEMA_K_ELSE },
    { "definitions", COMPLIANCE_SCHEMA_K_DEFINITIONS },
    { "$ref", COMPLIANCE_SCHEMA_K_REF },
    { "format", COMPLIANCE_SCHEMA_K_FORMAT },
    { "title", COMPLIANCE_SCHEMA_K_TITLE },
    { "description", COMPLIANCE_SCHEMA_K_DESCRIPTION },
    { "default", COMPLIANCE_SCHEMA_K_DEFAULT },
    { "examples", COMPLIANCE_SCHEMA_K_EXAMPLES },
    { "$comment", COMPLIANCE_SCHEMA_K_COMMENT },
    { "$schema", COMPLIANCE_SCHEMA_K_SCHEMA },
    { "$id", COMPLIANCE_SCHEMA_K_ID },
    { NULL, COMPLIANCE_SCHEMA_K_NONE }
};


static const char  *compliance_schema_formats[] = {
    NULL, "date-time", "date", "email", "ipv4", "ipv6", "uuid", NULL
};


static const char  *compliance_schema_type_names[] = {
    "null", "boolean", "object", "array", "number", "string", "integer", NULL
};


/* the draft-07 meta-schema URIs "$schema" may name */
static const char  *compliance_schema_drafts[] = {
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft-07/schema",
    NULL
};


/* ---- compiling ---------------------------------------------------- */


compliance_schema_t *
compliance_schema_compile(const char *json_text, size_t len,
    const char *file, char *err, size_t errlen)
{
    int                        rc;
    u_char                    *text;
    size_t                     off, i;
    compliance_jnode_t        *doc;
    compliance_schema_t       *s;
    compliance_schema_cc_t     cc;
    compliance_schema_node_t  *n, **index;

    s = calloc(1, sizeof(compliance_schema_t));
    if (s == NULL) {
        snprintf(err, errlen, "%s: out of memory", file);
        return NULL;
    }

    compliance_arena_init(&s->arena, NULL, 0, compliance_schema_block, s, 0);

    cc.schema = s;
    cc.file = file;
    cc.err = err;
    cc.errlen = errlen;
    cc.failed = 0;

    if (errlen) {
        err[0] = '\0';
    }

    /* the tree points into its text: keep a copy for the schema's life */
    text = compliance_arena_alloc(&s->arena, len);
    if (text == NULL) {
        goto nomem;
    }

    memcpy(text, json_text, len);

    rc = compliance_jtree_parse(text, len, COMPLIANCE_SCHEMA_DOC_DEPTH,
                                &s->arena, &doc, &off);
    if (rc != COMPLIANCE_JTREE_OK) {
        compliance_schema_json_error(&cc, text, off, rc);
        goto failed;
    }

    s->doc = doc;

    s->root = compliance_schema_new(&cc, doc, NULL, NULL);
    if (s->root == NULL || compliance_schema_body(&cc, s->root) != 0) {
        goto failed;
    }

    /* every node, sorted by its document node, for $ref targets */
    index = compliance_arena_alloc(&s->arena, s->nnodes * sizeof(*index));
    if (index == NULL) {
        goto nomem;
    }

    for (n = s->nodes, i = 0; n != NULL; n = n->next, i++) {
        index[i] = n;
    }

    compliance_jtree_sort((void **) index, s->nnodes,
                          compliance_schema_src_cmp, NULL);

    for (n = s->nodes; n != NULL; n = n->next) {
        if (n->ref_src != NULL
            && compliance_schema_resolve(&cc, index, n) != 0)
        {
            goto failed;
        }
    }

    if (compliance_schema_cycles(&cc) != 0) {
        goto failed;
    }

    s->match_data = pcre2_match_data_create(1, NULL);
    s->match_ctx = pcre2_match_context_create(NULL);

    if (s->match_data == NULL || s->match_ctx == NULL) {
        goto nomem;
    }

    pcre2_set_match_limit(s->match_ctx, COMPLIANCE_SCHEMA_MATCH_LIMIT);
    pcre2_set_depth_limit(s->match_ctx, COMPLIANCE_SCHEMA_DEPTH_LIMIT);

    /*
     * The default 32 KiB JIT stack ends a repeated group after about a
     * thousand iterations; this one grows (address space reserved, pages
     * used on demand) to COMPLIANCE_SCHEMA_JIT_STACK.
     */
    if (s->regexes != NULL) {
        s->jit_stack = pcre2_jit_stack_create(32 * 1024,
                                              COMPLIANCE_SCHEMA_JIT_STACK,
                                              NULL);
        if (s->jit_stack != NULL) {
            pcre2_jit_stack_assign(s->match_ctx, NULL, s->jit_stack);
        }
    }

    return s;

nomem:

    if (!cc.failed) {
        snprintf(err, errlen, "%s: out of memory", file);
    }

failed:

    compliance_schema_free(s);

    return NULL;
}


/* a schema behind its "$ref"s (compiled: no cycle of bare "$ref"s) */
static const compliance_schema_node_t *
compliance_schema_deref(const compliance_schema_node_t *n)
{
    size_t  hops;

    for (hops = 0; n != NULL && n->ref != NULL && hops < 64; hops++) {
        n = n->ref;
    }

    return (n != NULL && n->ref == NULL) ? n : NULL;
}


unsigned
compliance_schema_property_types(const compliance_schema_t *s,
    const u_char *name, size_t len, unsigned *items)
{
    size_t                           i;
    const compliance_schema_node_t  *n, *p, *it;

    *items = 0;

    n = compliance_schema_deref(s->root);
    if (n == NULL) {
        return 0;
    }

    p = NULL;

    for (i = 0; i < n->nprops; i++) {
        if (n->props[i].len == len
            && (len == 0 || memcmp(n->props[i].name, name, len) == 0))
        {
            p = n->props[i].schema;
            break;
        }
    }

    if (p == NULL) {
        p = n->additional_props;
    }

    p = compliance_schema_deref(p);

    if (p == NULL || !compliance_schema_has(p, TYPE)) {
        return 0;
    }

    if (p->items != NULL && !p->items_array) {
        it = compliance_schema_deref(p->items);

        if (it != NULL && compliance_schema_has(it, TYPE)) {
            *items = it->types;
        }
    }

    return p->types;
}


void
compliance_schema_free(compliance_schema_t *s)
{
    compliance_schema_block_t  *b, *next;
    compliance_schema_regex_t  *r;

    if (s == NULL) {
        return;
    }

    for (r = s->regexes; r != NULL; r = r->next) {
        pcre2_code_free(r->code);
    }

    pcre2_match_data_free(s->match_data);
    pcre2_match_context_free(s->match_ctx);
    pcre2_jit_stack_free(s->jit_stack);

    for (b = s->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }

    free(s);
}


size_t
compliance_schema_nwarnings(const compliance_schema_t *s)
{
    return s->nwarnings;
}


const char *
compliance_schema_warning(const compliance_schema_t *s, size_t i)
{
    return i < s->nwarnings ? s->warnings[i] : NULL;
}


static void *
compliance_schema_block(void *data, size_t size)
{
    compliance_schema_t        *s;
    compliance_schema_block_t  *b;

    s = data;

    b = malloc(sizeof(compliance_schema_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = s->blocks;
    s->blocks = b;

    return b + 1;
}


static void
compliance_schema_json_error(compliance_schema_cc_t *cc, const u_char *text,
    size_t off, int rc)
{
    size_t  i, line, col;

    line = 1;
    col = 1;

    for (i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;

        } else {
            col++;
        }
    }

    cc->failed = 1;
    snprintf(cc->err, cc->errlen, "%s: invalid JSON at line %zu, column %zu:"
             " %s", cc->file, line, col, compliance_jtree_strerror(rc));
}


/* one pointer segment, ~ and / escaped, other unprintables as \xNN */
static size_t
compliance_schema_escape(char *dst, size_t size, const u_char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len && n + 5 < size; i++) {
        if (s[i] == '~') {
            dst[n++] = '~';
            dst[n++] = '0';

        } else if (s[i] == '/') {
            dst[n++] = '~';
            dst[n++] = '1';

        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            n += (size_t) snprintf(dst + n, size - n, "\\x%02x", s[i]);

        } else {
            dst[n++] = (char) s[i];
        }
    }

    if (size) {
        dst[n] = '\0';
    }

    return n;
}


static size_t
compliance_schema_path(const compliance_schema_node_t *n, char *buf,
    size_t size)
{
    size_t  len;

    if (n->parent == NULL) {
        return (size_t) snprintf(buf, size, "#");
    }

    len = compliance_schema_path(n->parent, buf, size);

    if (len + 2 >= size) {
        return len;
    }

    len += (size_t) snprintf(buf + len, size - len, "/%s", n->kw);

    if (len + 2 >= size) {
        return len;
    }

    if (n->index_seg) {
        len += (size_t) snprintf(buf + len, size - len, "/%zu",
                                 n->seg_index);

    } else if (n->seg != NULL) {
        buf[len++] = '/';
        len += compliance_schema_escape(buf + len, size - len, n->seg,
                                        n->seg_len);
    }

    return len < size ? len : size - 1;
}


/* "/kw", "/kw/name" or "/name" (kw NULL), escaped */
static void
compliance_schema_suffix(char *buf, size_t size, const char *kw,
    const u_char *name, size_t len)
{
    size_t  n;

    n = kw ? (size_t) snprintf(buf, size, "/%s", kw) : 0;

    if (name != NULL && n + 2 < size) {
        buf[n++] = '/';
        (void) compliance_schema_escape(buf + n, size - n, name, len);

    } else if (n < size) {
        buf[n] = '\0';
    }
}


static void
compliance_schema_suffix_index(char *buf, size_t size, const char *kw,
    size_t index)
{
    snprintf(buf, size, "/%s/%zu", kw, index);
}


static void
compliance_schema_error(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix, const char *fmt,
    ...)
{
    char     path[COMPLIANCE_SCHEMA_PATH_TEXT], msg[256];
    va_list  args;

    if (cc->failed) {
        return;
    }

    cc->failed = 1;

    (void) compliance_schema_path(n, path, sizeof(path));

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    snprintf(cc->err, cc->errlen, "%s: %s%s: %s", cc->file, path,
             suffix ? suffix : "", msg);
}


static void
compliance_schema_warn(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix, const char *text)
{
    int                   len;
    char                  path[COMPLIANCE_SCHEMA_PATH_TEXT], *w;
    compliance_schema_t  *s;

    s = cc->schema;

    if (s->nwarnings == COMPLIANCE_SCHEMA_MAX_WARNINGS) {
        return;
    }

    (void) compliance_schema_path(n, path, sizeof(path));

    len = snprintf(NULL, 0, "%s: %s%s: %s", cc->file, path,
                   suffix ? suffix : "", text);
    if (len < 0) {
        return;
    }

    w = compliance_arena_alloc(&s->arena, (size_t) len + 1);
    if (w == NULL) {
        return;
    }

    snprintf(w, (size_t) len + 1, "%s: %s%s: %s", cc->file, path,
             suffix ? suffix : "", text);

    s->warnings[s->nwarnings++] = w;
}


static compliance_schema_node_t *
compliance_schema_new(compliance_schema_cc_t *cc, const compliance_jnode_t *j,
    compliance_schema_node_t *parent, const char *kw)
{
    compliance_schema_t       *s;
    compliance_schema_node_t  *n;

    s = cc->schema;

    n = compliance_arena_alloc(&s->arena, sizeof(compliance_schema_node_t));
    if (n == NULL) {
        if (!cc->failed) {
            cc->failed = 1;
            snprintf(cc->err, cc->errlen, "%s: out of memory", cc->file);
        }

        return NULL;
    }

    memset(n, 0, sizeof(compliance_schema_node_t));

    n->src = j;
    n->parent = parent;
    n->kw = kw;

    n->next = s->nodes;
    s->nodes = n;
    s->nnodes++;

    return n;
}


static compliance_schema_node_t *
compliance_schema_sub(compliance_schema_cc_t *cc,
    compliance_schema_node_t *parent, const char *kw,
    const compliance_jnode_t *j)
{
    compliance_schema_node_t  *n;

    n = compliance_schema_new(cc, j, parent, kw);
    if (n == NULL || compliance_schema_body(cc, n) != 0) {
        return NULL;
    }

    return n;
}


static compliance_schema_node_t *
compliance_schema_sub_named(compliance_schema_cc_t *cc,
    compliance_schema_node_t *parent, const char *kw,
    const compliance_jnode_t *member)
{
    compliance_schema_node_t  *n;

    n = compliance_schema_new(cc, member, parent, kw);
    if (n == NULL) {
        return NULL;
    }

    n->seg = member->key;
    n->seg_len = member->key_len;

    return compliance_schema_body(cc, n) == 0 ? n : NULL;
}


static compliance_schema_node_t *
compliance_schema_sub_index(compliance_schema_cc_t *cc,
    compliance_schema_node_t *parent, const char *kw, size_t i,
    const compliance_jnode_t *j)
{
    compliance_schema_node_t  *n;

    n = compliance_schema_new(cc, j, parent, kw);
    if (n == NULL) {
        return NULL;
    }

    n->index_seg = 1;
    n->seg_index = i;

    return compliance_schema_body(cc, n) == 0 ? n : NULL;
}


static int
compliance_schema_body(compliance_schema_cc_t *cc, compliance_schema_node_t *n)
{
    char                                suffix[COMPLIANCE_SCHEMA_PATH_TEXT];
    size_t                              k;
    const compliance_jnode_t           *j, *m;
    const compliance_schema_keyword_t  *kw;

    j = n->src;

    if (j->type == COMPLIANCE_JTRUE) {
        n->boolean = COMPLIANCE_SCHEMA_B_TRUE;
        return 0;
    }

    if (j->type == COMPLIANCE_JFALSE) {
        n->boolean = COMPLIANCE_SCHEMA_B_FALSE;
        return 0;
    }

    if (j->type != COMPLIANCE_JOBJECT) {
        compliance_schema_error(cc, n, NULL,
                                "a schema must be an object or a boolean");
        return -1;
    }

    for (m = j->u.kids.first; m != NULL; m = m->next) {

        for (kw = compliance_schema_keywords; kw->name != NULL; kw++) {
            k = strlen(kw->name);

            if (k == m->key_len && memcmp(kw->name, m->key, k) == 0) {
                break;
            }
        }

        if (kw->name == NULL) {
            compliance_schema_suffix(suffix, sizeof(suffix), NULL, m->key,
                                     m->key_len);
            compliance_schema_error(cc, n, suffix, "unsupported keyword");
            return -1;
        }

        n->has |= compliance_schema_bit(kw->kw);

        if (compliance_schema_keyword(cc, n, kw->kw, m) != 0) {
            return -1;
        }
    }

    /* what draft-07 says has no effect is accepted, and said */

    if (compliance_schema_has(n, REF)
        && (n->has & ~COMPLIANCE_SCHEMA_NOTES) != 0)
    {
        compliance_schema_warn(cc, n, NULL,
                               "keywords next to \"$ref\" are ignored "
                               "(draft-07); put them and the \"$ref\" in an "
                               "\"allOf\" to apply them");
    }

    if ((compliance_schema_has(n, THEN) || compliance_schema_has(n, ELSE))
        && !compliance_schema_has(n, IF))
    {
        compliance_schema_warn(cc, n, NULL, "\"then\" and \"else\" without "
                               "\"if\" are ignored (draft-07)");
    }

    if (compliance_schema_has(n, IF) && !compliance_schema_has(n, THEN)
        && !compliance_schema_has(n, ELSE))
    {
        compliance_schema_warn(cc, n, "/if", "\"if\" without \"then\" or "
                               "\"else\" has no effect");
    }

    if (compliance_schema_has(n, ADDITIONAL_ITEMS) && !n->items_array) {
        compliance_schema_warn(cc, n, "/additionalItems",
                               "ignored unless \"items\" is an array "
                               "(draft-07)");
    }

    return 0;
}


static int
compliance_schema_keyword(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, compliance_schema_kw_e kw,
    const compliance_jnode_t *m)
{
    char                       suffix[COMPLIANCE_SCHEMA_PATH_TEXT];
    size_t                     i;
    const compliance_jnode_t  *e;

    compliance_schema_suffix(suffix, sizeof(suffix), NULL, m->key,
                             m->key_len);

#define need(t, what)                                                        \
    if (m->type != (t)) {                                                    \
        compliance_schema_error(cc, n, suffix, "must be " what);             \
        return -1;                                                           \
    }

#define schema_of(field, name)                                               \
    n->field = compliance_schema_sub(cc, n, name, m);                        \
    return n->field == NULL ? -1 : 0;

    switch (kw) {

    case COMPLIANCE_SCHEMA_K_TYPE:
        return compliance_schema_type(cc, n, m);

    case COMPLIANCE_SCHEMA_K_ENUM:
        need(COMPLIANCE_JARRAY, "an array");
        n->enum_values = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_CONST:
        n->const_value = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_PROPERTIES:
        need(COMPLIANCE_JOBJECT, "an object");
        return compliance_schema_properties(cc, n, m);

    case COMPLIANCE_SCHEMA_K_PATTERN_PROPERTIES:
        need(COMPLIANCE_JOBJECT, "an object");
        return compliance_schema_pattern_properties(cc, n, m);

    case COMPLIANCE_SCHEMA_K_DEFINITIONS:
        need(COMPLIANCE_JOBJECT, "an object");

        for (e = m->u.kids.first; e != NULL; e = e->next) {
            if (compliance_schema_sub_named(cc, n, "definitions", e) == NULL) {
                return -1;
            }
        }

        return 0;

    case COMPLIANCE_SCHEMA_K_REQUIRED:
        need(COMPLIANCE_JARRAY, "an array of strings");
        return compliance_schema_required(cc, n, m);

    case COMPLIANCE_SCHEMA_K_ADDITIONAL_PROPERTIES:
        schema_of(additional_props, "additionalProperties");

    case COMPLIANCE_SCHEMA_K_PROPERTY_NAMES:
        schema_of(property_names, "propertyNames");

    case COMPLIANCE_SCHEMA_K_ADDITIONAL_ITEMS:
        schema_of(additional_items, "additionalItems");

    case COMPLIANCE_SCHEMA_K_CONTAINS:
        schema_of(contains, "contains");

    case COMPLIANCE_SCHEMA_K_NOT:
        schema_of(not_, "not");

    case COMPLIANCE_SCHEMA_K_IF:
        schema_of(if_, "if");

    case COMPLIANCE_SCHEMA_K_THEN:
        schema_of(then_, "then");

    case COMPLIANCE_SCHEMA_K_ELSE:
        schema_of(else_, "else");

    case COMPLIANCE_SCHEMA_K_ITEMS:
        if (m->type != COMPLIANCE_JARRAY) {
            schema_of(items, "items");
        }

        n->items_array = 1;
        return compliance_schema_list(cc, n, m, &n->items_list, &n->nitems);

    case COMPLIANCE_SCHEMA_K_ALL_OF:
        return compliance_schema_list(cc, n, m, &n->all_of, &n->nall_of);

    case COMPLIANCE_SCHEMA_K_ANY_OF:
        return compliance_schema_list(cc, n, m, &n->any_of, &n->nany_of);

    case COMPLIANCE_SCHEMA_K_ONE_OF:
        return compliance_schema_list(cc, n, m, &n->one_of, &n->none_of);

    case COMPLIANCE_SCHEMA_K_MIN_PROPERTIES:
        return compliance_schema_count(cc, n, m, &n->min_props);

    case COMPLIANCE_SCHEMA_K_MAX_PROPERTIES:
        return compliance_schema_count(cc, n, m, &n->max_props);

    case COMPLIANCE_SCHEMA_K_MIN_ITEMS:
        return compliance_schema_count(cc, n, m, &n->min_items);

    case COMPLIANCE_SCHEMA_K_MAX_ITEMS:
        return compliance_schema_count(cc, n, m, &n->max_items);

    case COMPLIANCE_SCHEMA_K_MIN_LENGTH:
        return compliance_schema_count(cc, n, m, &n->min_length);

    case COMPLIANCE_SCHEMA_K_MAX_LENGTH:
        return compliance_schema_count(cc, n, m, &n->max_length);

    case COMPLIANCE_SCHEMA_K_UNIQUE_ITEMS:
        if (m->type != COMPLIANCE_JTRUE && m->type != COMPLIANCE_JFALSE) {
            compliance_schema_error(cc, n, suffix, "must be a boolean");
            return -1;
        }

        n->unique = (m->type == COMPLIANCE_JTRUE);
        return 0;

    case COMPLIANCE_SCHEMA_K_PATTERN:
        need(COMPLIANCE_JSTRING, "a string");
        n->pattern = compliance_schema_regex(cc, n, suffix, m);
        return n->pattern == NULL ? -1 : 0;

    case COMPLIANCE_SCHEMA_K_MINIMUM:
        need(COMPLIANCE_JNUMBER, "a number");
        n->minimum = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_MAXIMUM:
        need(COMPLIANCE_JNUMBER, "a number");
        n->maximum = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_EXCLUSIVE_MINIMUM:
        need(COMPLIANCE_JNUMBER, "a number");
        n->xminimum = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_EXCLUSIVE_MAXIMUM:
        need(COMPLIANCE_JNUMBER, "a number");
        n->xmaximum = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_MULTIPLE_OF:
        need(COMPLIANCE_JNUMBER, "a number");

        if (m->neg || m->u.num.ndigits == 0) {
            compliance_schema_error(cc, n, suffix, "must be greater than 0");
            return -1;
        }

        if (compliance_jnum_small(m, &n->mult_b, &n->mult_e) != 0) {
            compliance_schema_error(cc, n, suffix, "more than 18 significant "
                                    "digits are not supported");
            return -1;
        }

        n->multiple_of = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_REF:
        need(COMPLIANCE_JSTRING, "a string");
        n->ref_src = m;
        return 0;

    case COMPLIANCE_SCHEMA_K_FORMAT:
        need(COMPLIANCE_JSTRING, "a string");

        for (i = 1; compliance_schema_formats[i] != NULL; i++) {
            if (strlen(compliance_schema_formats[i]) == m->u.str.len
                && memcmp(compliance_schema_formats[i], m->u.str.data,
                          m->u.str.len) == 0)
            {
                n->format = (uint8_t) i;
                return 0;
            }
        }

        compliance_schema_error(cc, n, suffix, "unsupported format \"%.*s\"",
                                (int) (m->u.str.len > 64 ? 64
                                                          : m->u.str.len),
                                m->u.str.data);
        return -1;

    case COMPLIANCE_SCHEMA_K_TITLE:
    case COMPLIANCE_SCHEMA_K_DESCRIPTION:
    case COMPLIANCE_SCHEMA_K_COMMENT:
        need(COMPLIANCE_JSTRING, "a string");
        return 0;

    case COMPLIANCE_SCHEMA_K_EXAMPLES:
        need(COMPLIANCE_JARRAY, "an array");
        return 0;

    case COMPLIANCE_SCHEMA_K_DEFAULT:
        return 0;

    case COMPLIANCE_SCHEMA_K_SCHEMA:
        if (n->parent != NULL) {
            compliance_schema_error(cc, n, suffix, "only allowed at the root");
            return -1;
        }

        need(COMPLIANCE_JSTRING, "a string");

        for (i = 0; compliance_schema_drafts[i] != NULL; i++) {
            if (strlen(compliance_schema_drafts[i]) == m->u.str.len
                && memcmp(compliance_schema_drafts[i], m->u.str.data,
                          m->u.str.len) == 0)
            {
                return 0;
            }
        }

        compliance_schema_error(cc, n, suffix, "only draft-07 "
                                "(http://json-schema.org/draft-07/schema#) "
                                "is supported");
        return -1;

    case COMPLIANCE_SCHEMA_K_ID:
        /* below the root "$id" would change what "#" means in a $ref */
        if (n->parent != NULL) {
            compliance_schema_error(cc, n, suffix, "only allowed at the root "
                                    "(a nested \"$id\" changes the base of "
                                    "\"$ref\")");
            return -1;
        }

        need(COMPLIANCE_JSTRING, "a string");
        return 0;

    default:
        compliance_schema_error(cc, n, suffix, "unsupported keyword");
        return -1;
    }

#undef need
#undef schema_of
}


static int
compliance_schema_type(compliance_schema_cc_t *cc, compliance_schema_node_t *n,
    const compliance_jnode_t *m)
{
    char                       suffix[64];
    size_t                     i, k;
    unsigned                   bit;
    const compliance_jnode_t  *e, *one;

    if (m->type == COMPLIANCE_JSTRING) {
        one = m;
        e = m;

    } else if (m->type == COMPLIANCE_JARRAY && m->u.kids.count > 0) {
        one = NULL;
        e = m->u.kids.first;

    } else {
        compliance_schema_error(cc, n, "/type", "must be a type name or a "
                                "non-empty array of type names");
        return -1;
    }

    for (k = 0; e != NULL; e = (one ? NULL : e->next), k++) {
        if (one) {
            snprintf(suffix, sizeof(suffix), "/type");

        } else {
            compliance_schema_suffix_index(suffix, sizeof(suffix), "type", k);
        }

        if (e->type != COMPLIANCE_JSTRING) {
            compliance_schema_error(cc, n, suffix, "must be a type name");
            return -1;
        }

        for (i = 0; compliance_schema_type_names[i] != NULL; i++) {
            if (strlen(compliance_schema_type_names[i]) == e->u.str.len
                && memcmp(compliance_schema_type_names[i], e->u.str.data,
                          e->u.str.len) == 0)
            {
                break;
            }
        }

        if (compliance_schema_type_names[i] == NULL) {
            compliance_schema_error(cc, n, suffix, "unknown type \"%.*s\"",
                                    (int) (e->u.str.len > 32 ? 32
                                                              : e->u.str.len),
                                    e->u.str.data);
            return -1;
        }

        bit = 1u << i;

        if (n->types & bit) {
            compliance_schema_error(cc, n, suffix, "duplicate type");
            return -1;
        }

        n->types |= (uint8_t) bit;
    }

    return 0;
}


static int
compliance_schema_count(compliance_schema_cc_t *cc, compliance_schema_node_t *n,
    const compliance_jnode_t *m, uint64_t *v)
{
    char  suffix[64];

    if (m->type != COMPLIANCE_JNUMBER || compliance_jnum_count(m, v) != 0) {
        compliance_schema_suffix(suffix, sizeof(suffix), NULL, m->key,
                                 m->key_len);
        compliance_schema_error(cc, n, suffix,
                                "must be a non-negative integer");
        return -1;
    }

    return 0;
}


static int
compliance_schema_list(compliance_schema_cc_t *cc, compliance_schema_node_t *n,
    const compliance_jnode_t *m, compliance_schema_node_t ***list,
    size_t *count)
{
    char                        suffix[64];
    size_t                      i;
    const char                 *kw;
    const compliance_jnode_t   *e;
    compliance_schema_node_t  **v;

    /* the keyword names are static strings the nodes can point to */
    kw = (m->key_len == 5 && memcmp(m->key, "items", 5) == 0) ? "items"
         : (m->key_len == 5 && memcmp(m->key, "allOf", 5) == 0) ? "allOf"
         : (m->key_len == 5 && memcmp(m->key, "anyOf", 5) == 0) ? "anyOf"
         : "oneOf";

    if (m->type != COMPLIANCE_JARRAY || m->u.kids.count == 0) {
        snprintf(suffix, sizeof(suffix), "/%s", kw);
        compliance_schema_error(cc, n, suffix,
                                "must be a non-empty array of schemas");
        return -1;
    }

    v = compliance_arena_alloc(&cc->schema->arena,
                               m->u.kids.count * sizeof(*v));
    if (v == NULL) {
        compliance_schema_error(cc, n, NULL, "out of memory");
        return -1;
    }

    for (e = m->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
        v[i] = compliance_schema_sub_index(cc, n, kw, i, e);
        if (v[i] == NULL) {
            return -1;
        }
    }

    *list = v;
    *count = m->u.kids.count;

    return 0;
}


static int
compliance_schema_properties(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m)
{
    size_t                      i;
    const compliance_jnode_t  **v;

    if (m->u.kids.count == 0) {
        return 0;
    }

    v = compliance_schema_members(cc, m);
    if (v == NULL) {
        compliance_schema_error(cc, n, NULL, "out of memory");
        return -1;
    }

    n->props = compliance_arena_alloc(&cc->schema->arena,
                                      m->u.kids.count
                                      * sizeof(compliance_schema_prop_t));
    if (n->props == NULL) {
        compliance_schema_error(cc, n, NULL, "out of memory");
        return -1;
    }

    for (i = 0; i < m->u.kids.count; i++) {
        n->props[i].name = v[i]->key;
        n->props[i].len = v[i]->key_len;
        n->props[i].schema = compliance_schema_sub_named(cc, n, "properties",
                                                         v[i]);
        if (n->props[i].schema == NULL) {
            return -1;
        }
    }

    n->nprops = m->u.kids.count;

    return 0;
}


static int
compliance_schema_pattern_properties(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m)
{
    char                       suffix[COMPLIANCE_SCHEMA_PATH_TEXT];
    size_t                     i;
    compliance_jnode_t         name;
    const compliance_jnode_t  *e;

    if (m->u.kids.count == 0) {
        return 0;
    }

    n->pprops = compliance_arena_alloc(&cc->schema->arena,
                                       m->u.kids.count
                                       * sizeof(compliance_schema_pprop_t));
    if (n->pprops == NULL) {
        compliance_schema_error(cc, n, NULL, "out of memory");
        return -1;
    }

    memset(&name, 0, sizeof(name));
    name.type = COMPLIANCE_JSTRING;

    for (e = m->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
        compliance_schema_suffix(suffix, sizeof(suffix), "patternProperties",
                                 e->key, e->key_len);

        name.u.str.data = e->key;
        name.u.str.len = e->key_len;

        n->pprops[i].re = compliance_schema_regex(cc, n, suffix, &name);
        if (n->pprops[i].re == NULL) {
            return -1;
        }

        n->pprops[i].schema = compliance_schema_sub_named(cc, n,
                                                          "patternProperties",
                                                          e);
        if (n->pprops[i].schema == NULL) {
            return -1;
        }
    }

    n->npprops = m->u.kids.count;

    return 0;
}


static int
compliance_schema_required(compliance_schema_cc_t *cc,
    compliance_schema_node_t *n, const compliance_jnode_t *m)
{
    char                        suffix[64];
    size_t                      i, k;
    const compliance_jnode_t   *e;
    const compliance_jnode_t  **v, **sorted;

    if (m->u.kids.count == 0) {
        return 0;
    }

    v = compliance_arena_alloc(&cc->schema->arena,
                               2 * m->u.kids.count * sizeof(*v));
    if (v == NULL) {
        compliance_schema_error(cc, n, NULL, "out of memory");
        return -1;
    }

    sorted = v + m->u.kids.count;

    for (e = m->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
        if (e->type != COMPLIANCE_JSTRING) {
            compliance_schema_suffix_index(suffix, sizeof(suffix), "required",
                                           i);
            compliance_schema_error(cc, n, suffix, "must be a string");
            return -1;
        }

        v[i] = e;
        sorted[i] = e;
    }

    compliance_jtree_sort((void **) sorted, m->u.kids.count,
                          compliance_schema_name_cmp, (void *) "str");

    for (i = 1; i < m->u.kids.count; i++) {
        if (compliance_jtree_cmp(sorted[i - 1], sorted[i]) == 0) {
            for (k = 0; v[k] != sorted[i] && v[k] != sorted[i - 1]; k++) {
                /* void */
            }

            for (k++; v[k] != sorted[i] && v[k] != sorted[i - 1]; k++) {
                /* void */
            }

            compliance_schema_suffix_index(suffix, sizeof(suffix), "required",
                                           k);
            compliance_schema_error(cc, n, suffix, "duplicate name");
            return -1;
        }
    }

    n->required = v;
    n->nrequired = m->u.kids.count;

    return 0;
}


/*
 * ECMA-262 flavour where PCRE2 allows it: UTF mode (the string is
 * UTF-8 already checked by the parser), "$" only at the very end, \u
 * hex escapes; unanchored, as JSON Schema says.
 */
static pcre2_code *
compliance_schema_regex(compliance_schema_cc_t *cc,
    const compliance_schema_node_t *n, const char *suffix,
    const compliance_jnode_t *str)
{
    int                         rc;
    PCRE2_SIZE                  off;
    pcre2_code                 *code;
    PCRE2_UCHAR                 msg[256];
    compliance_schema_regex_t  *r;

    code = pcre2_compile(str->u.str.data, str->u.str.len,
                         PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX,
                         &rc, &off, NULL);

    if (code == NULL) {
        if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0) {
            snprintf((char *) msg, sizeof(msg), "error %d", rc);
        }

        compliance_schema_error(cc, n, suffix, "invalid regex: %s at offset "
                                "%zu", (char *) msg, (size_t) off);
        return NULL;
    }

    r = compliance_arena_alloc(&cc->schema->arena,
                               sizeof(compliance_schema_regex_t));
    if (r == NULL) {
        pcre2_code_free(code);
        compliance_schema_error(cc, n, suffix, "out of memory");
        return NULL;
    }

    r->code = code;
    r->next = cc->schema->regexes;
    cc->schema->regexes = r;

    /* no JIT on this platform: the interpreter still works, only slower */
    (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

    return code;
}


/* the members of obj sorted by name (the parser's index when it has one) */
static const compliance_jnode_t **
compliance_schema_members(compliance_schema_cc_t *cc,
    const compliance_jnode_t *obj)
{
    size_t                      i;
    const compliance_jnode_t   *e;
    const compliance_jnode_t  **v;

    if (obj->u.kids.sorted != NULL) {
        return (const compliance_jnode_t **) obj->u.kids.sorted;
    }

    v = compliance_arena_alloc(&cc->schema->arena,
                               obj->u.kids.count * sizeof(*v));
    if (v == NULL) {
        return NULL;
    }

    for (e = obj->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
        v[i] = e;
    }

    compliance_jtree_sort((void **) v, obj->u.kids.count,
                          compliance_schema_name_cmp, NULL);

    return v;
}


/* by member name, or by string value when data is not NULL */
static int
compliance_schema_name_cmp(const void *a, const void *b, void *data)
{
    int                        rc;
    size_t                     la, lb;
    const u_char              *pa, *pb;
    const compliance_jnode_t  *x, *y;

    x = a;
    y = b;

    if (data != NULL) {
        pa = x->u.str.data;
        la = x->u.str.len;
        pb = y->u.str.data;
        lb = y->u.str.len;

    } else {
        pa = x->key;
        la = x->key_len;
        pb = y->key;
        lb = y->key_len;
    }

    rc = memcmp(pa, pb, la < lb ? la : lb);

    if (rc != 0) {
        return rc;
    }

    return (la > lb) - (la < lb);
}


static int
compliance_schema_src_cmp(const void *a, const void *b, void *data)
{
    uintptr_t  x, y;

    (void) data;

    x = (uintptr_t) ((const compliance_schema_node_t *) a)->src;
    y = (uintptr_t) ((const compliance_schema_node_t *) b)->src;

    return (x > y) - (x < y);
}


static int
compliance_schema_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/*
 * "#" or "#/a/b~1c/0": a URI fragment, percent-decoded, then an RFC 6901
 * pointer walked from the document root.  The node it reaches must be
 * one that was compiled as a schema.
 */
static int
compliance_schema_resolve(compliance_schema_cc_t *cc,
    compliance_schema_node_t **index, compliance_schema_node_t *n)
{
    int                        h, l;
    u_char                    *buf, *seg, c;
    size_t                     len, i, k, slen, idx, lo, hi, mid;
    const u_char              *p;
    const compliance_jnode_t  *cur, *e;

    p = n->ref_src->u.str.data;
    len = n->ref_src->u.str.len;

    if (len == 0 || p[0] != '#') {
        compliance_schema_error(cc, n, "/$ref", "only local references "
                                "(\"#\" or \"#/...\") are supported, not "
                                "\"%.*s\"", (int) (len > 64 ? 64 : len), p);
        return -1;
    }

    buf = compliance_arena_alloc(&cc->schema->arena, len);
    if (buf == NULL) {
        compliance_schema_error(cc, n, "/$ref", "out of memory");
        return -1;
    }

    /* percent-decoding of the fragment */
    for (i = 1, k = 0; i < len; i++) {
        if (p[i] != '%') {
            buf[k++] = p[i];
            continue;
        }

        if (i + 2 >= len) {
            goto bad;
        }

        h = compliance_schema_hex(p[i + 1]);
        l = compliance_schema_hex(p[i + 2]);

        if (h < 0 || l < 0) {
            goto bad;
        }

        buf[k++] = (u_char) (h * 16 + l);
        i += 2;
    }

    len = k;
    cur = cc->schema->doc;

    if (len > 0 && buf[0] != '/') {
        compliance_schema_error(cc, n, "/$ref", "only JSON pointer fragments "
                                "are supported (no \"$id\" anchors)");
        return -1;
    }

    for (i = 0; i < len; ) {
        /* buf[i] == '/': unescape the segment in place */
        seg = buf + i + 1;
        slen = 0;

        for (i++; i < len && buf[i] != '/'; i++) {
            c = buf[i];

            if (c == '~') {
                if (i + 1 >= len || (buf[i + 1] != '0' && buf[i + 1] != '1')) {
                    goto bad;
                }

                c = (buf[i + 1] == '0') ? '~' : '/';
                i++;
            }

            seg[slen++] = c;
        }

        if (cur->type == COMPLIANCE_JOBJECT) {
            cur = compliance_jtree_get(cur, seg, slen);

        } else if (cur->type == COMPLIANCE_JARRAY) {
            if (slen == 0 || slen > 9 || (slen > 1 && seg[0] == '0')) {
                cur = NULL;

            } else {
                idx = 0;

                for (k = 0; k < slen; k++) {
                    if (seg[k] < '0' || seg[k] > '9') {
                        goto bad;
                    }

                    idx = idx * 10 + (size_t) (seg[k] - '0');
                }

                for (e = cur->u.kids.first; e != NULL && idx; e = e->next) {
                    idx--;
                }

                cur = e;
            }

        } else {
            cur = NULL;
        }

        if (cur == NULL) {
            compliance_schema_error(cc, n, "/$ref", "\"%.*s\" does not "
                                    "resolve in this document",
                                    (int) (n->ref_src->u.str.len > 64
                                           ? 64 : n->ref_src->u.str.len),
                                    n->ref_src->u.str.data);
            return -1;
        }
    }

    lo = 0;
    hi = cc->schema->nnodes;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if ((uintptr_t) index[mid]->src == (uintptr_t) cur) {
            n->ref = index[mid];
            return 0;
        }

        if ((uintptr_t) index[mid]->src < (uintptr_t) cur) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    compliance_schema_error(cc, n, "/$ref", "\"%.*s\" does not point to a "
                            "schema",
                            (int) (n->ref_src->u.str.len > 64
                                   ? 64 : n->ref_src->u.str.len),
                            n->ref_src->u.str.data);
    return -1;

bad:

    compliance_schema_error(cc, n, "/$ref", "invalid JSON pointer fragment");
    return -1;
}


/*
 * The k-th subschema evaluated at the same instance location as n: the
 * edges a cycle must not close, as it would never end.  A "$ref" node
 * evaluates only its target.
 */
static compliance_schema_node_t *
compliance_schema_in_place(const compliance_schema_node_t *n, size_t k)
{
    size_t                     nt;
    compliance_schema_node_t  *tail[4];

    if (n->boolean != COMPLIANCE_SCHEMA_B_NONE) {
        return NULL;
    }

    if (n->ref != NULL) {
        return k == 0 ? n->ref : NULL;
    }

    if (k < n->nall_of) {
        return n->all_of[k];
    }

    k -= n->nall_of;

    if (k < n->nany_of) {
        return n->any_of[k];
    }

    k -= n->nany_of;

    if (k < n->none_of) {
        return n->one_of[k];
    }

    k -= n->none_of;
    nt = 0;

    if (n->not_) {
        tail[nt++] = n->not_;
    }

    if (n->if_) {
        tail[nt++] = n->if_;
    }

    if (n->then_) {
        tail[nt++] = n->then_;
    }

    if (n->else_) {
        tail[nt++] = n->else_;
    }

    return k < nt ? tail[k] : NULL;
}


/* iterative depth-first search over the in-place edges */
static int
compliance_schema_cycles(compliance_schema_cc_t *cc)
{
    size_t                     sp, i;
    size_t                    *edge;
    compliance_schema_t       *s;
    compliance_schema_node_t  *r, *c, **stack;

    s = cc->schema;

    stack = compliance_arena_alloc(&s->arena, s->nnodes
                                              * (sizeof(*stack)
                                                 + sizeof(*edge)));
    if (stack == NULL) {
        compliance_schema_error(cc, s->root, NULL, "out of memory");
        return -1;
    }

    edge = (size_t *) (stack + s->nnodes);

    for (r = s->nodes; r != NULL; r = r->next) {
        if (r->mark != 0) {
            continue;
        }

        sp = 0;
        stack[sp] = r;
        edge[sp] = 0;
        sp++;
        r->mark = 1;

        while (sp > 0) {
            c = compliance_schema_in_place(stack[sp - 1], edge[sp - 1]++);

            if (c == NULL) {
                stack[sp - 1]->mark = 2;
                sp--;
                continue;
            }

            if (c->mark == 2) {
                continue;
            }

            if (c->mark == 1) {
                /* name a $ref of the cycle: between c and the top */
                for (i = sp; i > 0 && stack[i - 1]->ref == NULL; i--) {
                    if (stack[i - 1] == c) {
                        break;
                    }
                }

                compliance_schema_error(cc, (i > 0 && stack[i - 1]->ref)
                                            ? stack[i - 1] : stack[sp - 1],
                                        "/$ref", "reference cycle that never "
                                        "advances in the instance");
                return -1;
            }

            c->mark = 1;
            stack[sp] = c;
            edge[sp] = 0;
            sp++;
        }
    }

    return 0;
}


/* ---- validating --------------------------------------------------- */


int
compliance_schema_validate(const compliance_schema_t *s,
    const compliance_jnode_t *instance, compliance_arena_t *arena,
    size_t max_steps, compliance_schema_result_t *res)
{
    int                     rc;
    compliance_schema_vc_t  vc;

    vc.schema = s;
    vc.arena = arena;
    vc.res = res;
    vc.quiet = (res == NULL);
    vc.stop = 0;
    vc.nomem = 0;
    vc.depth = 0;
    vc.steps = 0;
    vc.max_steps = max_steps ? max_steps : COMPLIANCE_SCHEMA_MAX_STEPS;
    vc.npath = 0;

    if (res != NULL) {
        res->nerrors = 0;
        res->more = 0;
        res->aborted = 0;
    }

    rc = compliance_schema_eval(&vc, s->root, instance, "");

    if (vc.nomem) {
        return COMPLIANCE_SCHEMA_ENOMEM;
    }

    if (rc != COMPLIANCE_SCHEMA_OK || (res != NULL && res->nerrors > 0)) {
        return COMPLIANCE_SCHEMA_INVALID;
    }

    return COMPLIANCE_SCHEMA_VALID;
}


/* after a failure: go on collecting, or stop when quiet or full */
#define compliance_schema_check(vc, rc, failed)                              \
    if ((rc) == COMPLIANCE_SCHEMA_ABORT) {                                   \
        return COMPLIANCE_SCHEMA_ABORT;                                      \
    }                                                                        \
    if ((rc) == COMPLIANCE_SCHEMA_FAIL) {                                    \
        failed = 1;                                                          \
        if ((vc)->quiet || (vc)->stop) {                                     \
            return COMPLIANCE_SCHEMA_FAIL;                                   \
        }                                                                    \
    }


static int
compliance_schema_eval(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v,
    const char *via)
{
    int  rc;

    if (++vc->steps > vc->max_steps) {
        return compliance_schema_abort(vc, via, "validation stopped: work "
                                       "limit reached");
    }

    if (n->boolean == COMPLIANCE_SCHEMA_B_TRUE) {
        return COMPLIANCE_SCHEMA_OK;
    }

    if (n->boolean == COMPLIANCE_SCHEMA_B_FALSE) {
        if (strcmp(via, "properties") == 0
            || strcmp(via, "patternProperties") == 0
            || strcmp(via, "additionalProperties") == 0)
        {
            return compliance_schema_report(vc, via,
                                            "property is not allowed");
        }

        if (strcmp(via, "items") == 0 || strcmp(via, "additionalItems") == 0) {
            return compliance_schema_report(vc, via, "item is not allowed");
        }

        return compliance_schema_report(vc, via[0] ? via : "false",
                                        "no value is allowed here");
    }

    if (vc->depth == COMPLIANCE_SCHEMA_MAX_EVAL_DEPTH) {
        return compliance_schema_abort(vc, via, "validation stopped: schema "
                                       "nesting too deep for this document");
    }

    vc->depth++;

    if (n->ref != NULL) {
        rc = compliance_schema_eval(vc, n->ref, v, "$ref");

    } else {
        rc = compliance_schema_eval_node(vc, n, v);
    }

    vc->depth--;

    return rc;
}


static int
compliance_schema_quiet(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v,
    const char *via)
{
    int  rc;

    vc->quiet++;
    rc = compliance_schema_eval(vc, n, v, via);
    vc->quiet--;

    return rc;
}


static int
compliance_schema_type_ok(const compliance_schema_node_t *n,
    const compliance_jnode_t *v)
{
    unsigned  bit;

    switch (v->type) {
    case COMPLIANCE_JNULL:
        bit = COMPLIANCE_SCHEMA_T_NULL;
        break;
    case COMPLIANCE_JFALSE:
    case COMPLIANCE_JTRUE:
        bit = COMPLIANCE_SCHEMA_T_BOOLEAN;
        break;
    case COMPLIANCE_JOBJECT:
        bit = COMPLIANCE_SCHEMA_T_OBJECT;
        break;
    case COMPLIANCE_JARRAY:
        bit = COMPLIANCE_SCHEMA_T_ARRAY;
        break;
    case COMPLIANCE_JSTRING:
        bit = COMPLIANCE_SCHEMA_T_STRING;
        break;
    default:
        bit = COMPLIANCE_SCHEMA_T_NUMBER;

        if ((n->types & COMPLIANCE_SCHEMA_T_INTEGER)
            && compliance_jnum_is_integer(v))
        {
            return 1;
        }

        break;
    }

    return (n->types & bit) != 0;
}


static int
compliance_schema_eval_node(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int                        rc, failed, first;
    char                       names[COMPLIANCE_SCHEMA_MESSAGE_MAX], *p;
    size_t                     i, len;
    const compliance_jnode_t  *e;

    failed = 0;

    if (n->types && !compliance_schema_type_ok(n, v)) {
        p = names;
        first = 1;

        for (i = 0; compliance_schema_type_names[i] != NULL; i++) {
            if (n->types & (1u << i)) {
                len = (size_t) snprintf(p, sizeof(names) - (size_t) (p - names),
                                        "%s%s", first ? "" : ", ",
                                        compliance_schema_type_names[i]);
                p += len;
                first = 0;
            }
        }

        rc = compliance_schema_report(vc, "type", "must be of type %s", names);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->enum_values != NULL) {
        for (e = n->enum_values->u.kids.first; e != NULL; e = e->next) {
            if (compliance_jtree_cmp(e, v) == 0) {
                break;
            }
        }

        if (e == NULL) {
            rc = compliance_schema_report(vc, "enum",
                                          "must be one of the allowed values");
            compliance_schema_check(vc, rc, failed);
        }
    }

    if (n->const_value != NULL && compliance_jtree_cmp(n->const_value, v) != 0)
    {
        rc = compliance_schema_report(vc, "const",
                                      "must be equal to the constant");
        compliance_schema_check(vc, rc, failed);
    }

    switch (v->type) {
    case COMPLIANCE_JNUMBER:
        rc = compliance_schema_eval_number(vc, n, v);
        break;
    case COMPLIANCE_JSTRING:
        rc = compliance_schema_eval_string(vc, n, v);
        break;
    case COMPLIANCE_JARRAY:
        rc = compliance_schema_eval_array(vc, n, v);
        break;
    case COMPLIANCE_JOBJECT:
        rc = compliance_schema_eval_object(vc, n, v);
        break;
    default:
        rc = COMPLIANCE_SCHEMA_OK;
        break;
    }

    compliance_schema_check(vc, rc, failed);

    rc = compliance_schema_eval_any(vc, n, v);
    compliance_schema_check(vc, rc, failed);

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


static int
compliance_schema_eval_number(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int   rc, failed;
    char  num[48];

    failed = 0;

    if (n->minimum != NULL && compliance_jnum_cmp(v, n->minimum) < 0) {
        compliance_jnum_format(n->minimum, num, sizeof(num));
        rc = compliance_schema_report(vc, "minimum", "must be >= %s", num);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->maximum != NULL && compliance_jnum_cmp(v, n->maximum) > 0) {
        compliance_jnum_format(n->maximum, num, sizeof(num));
        rc = compliance_schema_report(vc, "maximum", "must be <= %s", num);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->xminimum != NULL && compliance_jnum_cmp(v, n->xminimum) <= 0) {
        compliance_jnum_format(n->xminimum, num, sizeof(num));
        rc = compliance_schema_report(vc, "exclusiveMinimum", "must be > %s",
                                      num);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->xmaximum != NULL && compliance_jnum_cmp(v, n->xmaximum) >= 0) {
        compliance_jnum_format(n->xmaximum, num, sizeof(num));
        rc = compliance_schema_report(vc, "exclusiveMaximum", "must be < %s",
                                      num);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->multiple_of != NULL
        && !compliance_jnum_multiple_of(v, n->mult_b, n->mult_e))
    {
        compliance_jnum_format(n->multiple_of, num, sizeof(num));
        rc = compliance_schema_report(vc, "multipleOf",
                                      "must be a multiple of %s", num);
        compliance_schema_check(vc, rc, failed);
    }

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


static int
compliance_schema_eval_string(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int            rc, failed, ok;
    size_t         len;
    const u_char  *s;

    failed = 0;
    s = v->u.str.data;

    if (compliance_schema_has(n, MIN_LENGTH)
        || compliance_schema_has(n, MAX_LENGTH))
    {
        len = compliance_utf8_length(s, v->u.str.len);

        if (compliance_schema_has(n, MIN_LENGTH) && len < n->min_length) {
            rc = compliance_schema_report(vc, "minLength", "must be at least "
                                          "%llu characters long",
                                          (unsigned long long) n->min_length);
            compliance_schema_check(vc, rc, failed);
        }

        if (compliance_schema_has(n, MAX_LENGTH) && len > n->max_length) {
            rc = compliance_schema_report(vc, "maxLength", "must be at most "
                                          "%llu characters long",
                                          (unsigned long long) n->max_length);
            compliance_schema_check(vc, rc, failed);
        }
    }

    if (n->pattern != NULL) {
        rc = compliance_schema_match(vc, n->pattern, s, v->u.str.len,
                                     "pattern");
        if (rc == COMPLIANCE_SCHEMA_FAIL) {
            rc = compliance_schema_report(vc, "pattern",
                                          "does not match the pattern");
        }

        compliance_schema_check(vc, rc, failed);
    }

    if (n->format != COMPLIANCE_SCHEMA_F_NONE) {
        switch (n->format) {
        case COMPLIANCE_SCHEMA_F_DATE_TIME:
            ok = compliance_format_date_time(s, v->u.str.len);
            break;
        case COMPLIANCE_SCHEMA_F_DATE:
            ok = compliance_format_date(s, v->u.str.len);
            break;
        case COMPLIANCE_SCHEMA_F_EMAIL:
            ok = compliance_format_email(s, v->u.str.len);
            break;
        case COMPLIANCE_SCHEMA_F_IPV4:
            ok = compliance_format_ipv4(s, v->u.str.len);
            break;
        case COMPLIANCE_SCHEMA_F_IPV6:
            ok = compliance_format_ipv6(s, v->u.str.len);
            break;
        default:
            ok = compliance_format_uuid(s, v->u.str.len);
            break;
        }

        if (!ok) {
            rc = compliance_schema_report(vc, "format", "must be a valid %s",
                                          compliance_schema_formats[n->format]);
            compliance_schema_check(vc, rc, failed);
        }
    }

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


static int
compliance_schema_eval_array(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int                              rc, failed;
    size_t                           i;
    const compliance_jnode_t        *e;
    const compliance_schema_node_t  *sub;

    failed = 0;

    if (compliance_schema_has(n, MIN_ITEMS)
        && v->u.kids.count < n->min_items)
    {
        rc = compliance_schema_report(vc, "minItems", "must have at least "
                                      "%llu items",
                                      (unsigned long long) n->min_items);
        compliance_schema_check(vc, rc, failed);
    }

    if (compliance_schema_has(n, MAX_ITEMS)
        && v->u.kids.count > n->max_items)
    {
        rc = compliance_schema_report(vc, "maxItems", "must have at most "
                                      "%llu items",
                                      (unsigned long long) n->max_items);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->unique && v->u.kids.count > 1) {
        rc = compliance_schema_eval_unique(vc, v);
        compliance_schema_check(vc, rc, failed);
    }

    if (n->items != NULL || n->items_list != NULL) {
        for (e = v->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
            if (n->items != NULL) {
                sub = n->items;

            } else if (i < n->nitems) {
                sub = n->items_list[i];

            } else if (n->additional_items != NULL) {
                sub = n->additional_items;

            } else {
                break;
            }

            if (compliance_schema_push(vc, NULL, 0, i) != 0) {
                return COMPLIANCE_SCHEMA_ABORT;
            }

            rc = compliance_schema_eval(vc, sub, e,
                                        (n->items == NULL && i >= n->nitems)
                                        ? "additionalItems" : "items");
            vc->npath--;

            compliance_schema_check(vc, rc, failed);
        }
    }

    if (n->contains != NULL) {
        rc = COMPLIANCE_SCHEMA_FAIL;

        for (e = v->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
            if (compliance_schema_push(vc, NULL, 0, i) != 0) {
                return COMPLIANCE_SCHEMA_ABORT;
            }

            rc = compliance_schema_quiet(vc, n->contains, e, "contains");
            vc->npath--;

            if (rc != COMPLIANCE_SCHEMA_FAIL) {
                break;
            }
        }

        if (rc == COMPLIANCE_SCHEMA_FAIL) {
            rc = compliance_schema_report(vc, "contains", "must contain an "
                                          "item that matches \"contains\"");
        }

        compliance_schema_check(vc, rc, failed);
    }

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


static int
compliance_schema_uniq_cmp(const compliance_schema_uniq_t *a,
    const compliance_schema_uniq_t *b)
{
    if (a->hash != b->hash) {
        return a->hash < b->hash ? -1 : 1;
    }

    return compliance_jtree_cmp(a->node, b->node);
}


static void
compliance_schema_uniq_sort(compliance_schema_uniq_t *v, size_t n)
{
    size_t                    i, root, child, end;
    compliance_schema_uniq_t  t;

    if (n < 2) {
        return;
    }

    /* heap sort: no allocation, no recursion, n log n worst case */
    for (i = n / 2; i > 0; i--) {
        for (root = i - 1; (child = 2 * root + 1) < n; root = child) {
            if (child + 1 < n
                && compliance_schema_uniq_cmp(&v[child], &v[child + 1]) < 0)
            {
                child++;
            }

            if (compliance_schema_uniq_cmp(&v[root], &v[child]) >= 0) {
                break;
            }

            t = v[root];
            v[root] = v[child];
            v[child] = t;
        }
    }

    for (end = n - 1; end > 0; end--) {
        t = v[0];
        v[0] = v[end];
        v[end] = t;

        for (root = 0; (child = 2 * root + 1) < end; root = child) {
            if (child + 1 < end
                && compliance_schema_uniq_cmp(&v[child], &v[child + 1]) < 0)
            {
                child++;
            }

            if (compliance_schema_uniq_cmp(&v[root], &v[child]) >= 0) {
                break;
            }

            t = v[root];
            v[root] = v[child];
            v[child] = t;
        }
    }
}


/*
 * Elements sorted by (hash, value) so equal ones are neighbours; a
 * distinct hash settles most comparisons without looking at values, and
 * colliding hashes only cost value comparisons, never a quadratic scan.
 */
static int
compliance_schema_eval_unique(compliance_schema_vc_t *vc,
    const compliance_jnode_t *v)
{
    size_t                     i, n, a, b, k, cost;
    const compliance_jnode_t  *e;
    compliance_schema_uniq_t  *s;

    n = v->u.kids.count;

    /* n log2 n comparisons, charged before they are made */
    for (cost = n, k = n; k > 1; k >>= 1) {
        cost += n;
    }

    if (cost > vc->max_steps - vc->steps) {
        return compliance_schema_abort(vc, "uniqueItems", "validation "
                                       "stopped: work limit reached");
    }

    vc->steps += cost;

    s = compliance_arena_alloc(vc->arena, n * sizeof(*s));
    if (s == NULL) {
        vc->nomem = 1;
        return COMPLIANCE_SCHEMA_ABORT;
    }

    for (e = v->u.kids.first, i = 0; e != NULL; e = e->next, i++) {
        s[i].hash = compliance_jtree_hash(e);
        s[i].node = e;
    }

    compliance_schema_uniq_sort(s, n);

    for (i = 1; i < n; i++) {
        if (s[i - 1].hash == s[i].hash
            && compliance_jtree_cmp(s[i - 1].node, s[i].node) == 0)
        {
            break;
        }
    }

    if (i == n) {
        return COMPLIANCE_SCHEMA_OK;
    }

    /* the positions of the two, in document order */
    a = n;
    b = n;

    for (e = v->u.kids.first, k = 0; e != NULL; e = e->next, k++) {
        if (e == s[i - 1].node || e == s[i].node) {
            if (a == n) {
                a = k;

            } else {
                b = k;
                break;
            }
        }
    }

    return compliance_schema_report(vc, "uniqueItems", "items %zu and %zu "
                                    "are equal", a, b);
}


static const compliance_schema_prop_t *
compliance_schema_find_prop(const compliance_schema_node_t *n,
    const u_char *key, size_t len)
{
    int                              rc;
    size_t                           lo, hi, mid, l;
    const compliance_schema_prop_t  *p;

    lo = 0;
    hi = n->nprops;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        p = &n->props[mid];
        l = p->len < len ? p->len : len;

        rc = memcmp(p->name, key, l);
        if (rc == 0) {
            rc = (p->len > len) - (p->len < len);
        }

        if (rc == 0) {
            return p;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}


static int
compliance_schema_eval_object(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int                              rc, failed, matched;
    size_t                           i;
    compliance_jnode_t               name;
    const compliance_jnode_t        *m, *r;
    const compliance_schema_prop_t  *p;

    failed = 0;

    if (compliance_schema_has(n, MIN_PROPERTIES)
        && v->u.kids.count < n->min_props)
    {
        rc = compliance_schema_report(vc, "minProperties", "must have at least "
                                      "%llu properties",
                                      (unsigned long long) n->min_props);
        compliance_schema_check(vc, rc, failed);
    }

    if (compliance_schema_has(n, MAX_PROPERTIES)
        && v->u.kids.count > n->max_props)
    {
        rc = compliance_schema_report(vc, "maxProperties", "must have at most "
                                      "%llu properties",
                                      (unsigned long long) n->max_props);
        compliance_schema_check(vc, rc, failed);
    }

    for (i = 0; i < n->nrequired; i++) {
        r = n->required[i];

        if (compliance_jtree_get(v, r->u.str.data, r->u.str.len) != NULL) {
            continue;
        }

        if (compliance_schema_push(vc, r->u.str.data, r->u.str.len, 0) != 0) {
            return COMPLIANCE_SCHEMA_ABORT;
        }

        rc = compliance_schema_report(vc, "required", "is required");
        vc->npath--;

        compliance_schema_check(vc, rc, failed);
    }

    if (n->nprops || n->npprops || n->additional_props) {
        for (m = v->u.kids.first; m != NULL; m = m->next) {
            matched = 0;

            if (compliance_schema_push(vc, m->key, m->key_len, 0) != 0) {
                return COMPLIANCE_SCHEMA_ABORT;
            }

            p = n->nprops ? compliance_schema_find_prop(n, m->key, m->key_len)
                          : NULL;

            if (p != NULL) {
                matched = 1;
                rc = compliance_schema_eval(vc, p->schema, m, "properties");

                if (rc == COMPLIANCE_SCHEMA_ABORT
                    || (rc == COMPLIANCE_SCHEMA_FAIL
                        && (vc->quiet || vc->stop)))
                {
                    vc->npath--;
                    return rc;
                }

                failed |= (rc == COMPLIANCE_SCHEMA_FAIL);
            }

            for (i = 0; i < n->npprops; i++) {
                rc = compliance_schema_match(vc, n->pprops[i].re, m->key,
                                             m->key_len, "patternProperties");
                if (rc == COMPLIANCE_SCHEMA_FAIL) {
                    continue;
                }

                if (rc == COMPLIANCE_SCHEMA_OK) {
                    matched = 1;
                    rc = compliance_schema_eval(vc, n->pprops[i].schema, m,
                                                "patternProperties");
                }

                if (rc == COMPLIANCE_SCHEMA_ABORT
                    || (rc == COMPLIANCE_SCHEMA_FAIL
                        && (vc->quiet || vc->stop)))
                {
                    vc->npath--;
                    return rc;
                }

                failed |= (rc == COMPLIANCE_SCHEMA_FAIL);
            }

            if (!matched && n->additional_props != NULL) {
                rc = compliance_schema_eval(vc, n->additional_props, m,
                                            "additionalProperties");

                if (rc == COMPLIANCE_SCHEMA_ABORT
                    || (rc == COMPLIANCE_SCHEMA_FAIL
                        && (vc->quiet || vc->stop)))
                {
                    vc->npath--;
                    return rc;
                }

                failed |= (rc == COMPLIANCE_SCHEMA_FAIL);
            }

            vc->npath--;
        }
    }

    if (n->property_names != NULL) {
        memset(&name, 0, sizeof(name));
        name.type = COMPLIANCE_JSTRING;

        for (m = v->u.kids.first; m != NULL; m = m->next) {
            name.u.str.data = m->key;
            name.u.str.len = m->key_len;

            if (compliance_schema_push(vc, m->key, m->key_len, 0) != 0) {
                return COMPLIANCE_SCHEMA_ABORT;
            }

            rc = compliance_schema_quiet(vc, n->property_names, &name,
                                         "propertyNames");

            if (rc == COMPLIANCE_SCHEMA_FAIL) {
                rc = compliance_schema_report(vc, "propertyNames",
                                              "property name does not match "
                                              "\"propertyNames\"");
            }

            vc->npath--;

            compliance_schema_check(vc, rc, failed);
        }
    }

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


/* allOf, anyOf, oneOf, not, if/then/else */
static int
compliance_schema_eval_any(compliance_schema_vc_t *vc,
    const compliance_schema_node_t *n, const compliance_jnode_t *v)
{
    int     rc, failed;
    size_t  i, ok;

    failed = 0;

    for (i = 0; i < n->nall_of; i++) {
        rc = compliance_schema_eval(vc, n->all_of[i], v, "allOf");
        compliance_schema_check(vc, rc, failed);
    }

    if (n->nany_of) {
        rc = COMPLIANCE_SCHEMA_FAIL;

        for (i = 0; i < n->nany_of; i++) {
            rc = compliance_schema_quiet(vc, n->any_of[i], v, "anyOf");
            if (rc != COMPLIANCE_SCHEMA_FAIL) {
                break;
            }
        }

        if (rc == COMPLIANCE_SCHEMA_FAIL) {
            rc = compliance_schema_report(vc, "anyOf", "must match at least "
                                          "one schema of \"anyOf\"");
        }

        compliance_schema_check(vc, rc, failed);
    }

    if (n->none_of) {
        ok = 0;

        for (i = 0; i < n->none_of && ok < 2; i++) {
            rc = compliance_schema_quiet(vc, n->one_of[i], v, "oneOf");
            if (rc == COMPLIANCE_SCHEMA_ABORT) {
                return rc;
            }

            ok += (rc == COMPLIANCE_SCHEMA_OK);
        }

        if (ok != 1) {
            rc = compliance_schema_report(vc, "oneOf", ok ? "matches more "
                                          "than one schema of \"oneOf\""
                                          : "must match one schema of "
                                          "\"oneOf\"");
            compliance_schema_check(vc, rc, failed);
        }
    }

    if (n->not_ != NULL) {
        rc = compliance_schema_quiet(vc, n->not_, v, "not");
        if (rc == COMPLIANCE_SCHEMA_ABORT) {
            return rc;
        }

        if (rc == COMPLIANCE_SCHEMA_OK) {
            rc = compliance_schema_report(vc, "not", "must not match the "
                                          "schema of \"not\"");
            compliance_schema_check(vc, rc, failed);
        }
    }

    if (n->if_ != NULL && (n->then_ != NULL || n->else_ != NULL)) {
        rc = compliance_schema_quiet(vc, n->if_, v, "if");
        if (rc == COMPLIANCE_SCHEMA_ABORT) {
            return rc;
        }

        if (rc == COMPLIANCE_SCHEMA_OK && n->then_ != NULL) {
            rc = compliance_schema_eval(vc, n->then_, v, "then");
            compliance_schema_check(vc, rc, failed);

        } else if (rc == COMPLIANCE_SCHEMA_FAIL && n->else_ != NULL) {
            rc = compliance_schema_eval(vc, n->else_, v, "else");
            compliance_schema_check(vc, rc, failed);
        }
    }

    return failed ? COMPLIANCE_SCHEMA_FAIL : COMPLIANCE_SCHEMA_OK;
}


/* OK: matches, FAIL: does not, ABORT: a PCRE2 limit (never a guess) */
static int
compliance_schema_match(compliance_schema_vc_t *vc, pcre2_code *re,
    const u_char *s, size_t len, const char *kw)
{
    int  rc;

    if (++vc->steps > vc->max_steps) {
        return compliance_schema_abort(vc, kw, "validation stopped: work "
                                       "limit reached");
    }

    rc = pcre2_match(re, s ? s : (const u_char *) "", len, 0,
                     PCRE2_NO_UTF_CHECK, vc->schema->match_data,
                     vc->schema->match_ctx);

    if (rc >= 0) {
        return COMPLIANCE_SCHEMA_OK;
    }

    if (rc == PCRE2_ERROR_NOMATCH) {
        return COMPLIANCE_SCHEMA_FAIL;
    }

    return compliance_schema_abort(vc, kw, "pattern evaluation exceeded its "
                                   "limit");
}


static int
compliance_schema_push(compliance_schema_vc_t *vc, const u_char *key,
    size_t len, size_t index)
{
    if (vc->npath == COMPLIANCE_SCHEMA_PATH_MAX) {
        (void) compliance_schema_abort(vc, "", "validation stopped: document "
                                       "nested too deep");
        return -1;
    }

    vc->path[vc->npath].key = key;
    vc->path[vc->npath].len = len;
    vc->path[vc->npath].index = index;
    vc->npath++;

    return 0;
}


/* a new entry with the current pointer, or NULL (arena exhausted) */
static compliance_schema_error_t *
compliance_schema_record(compliance_schema_vc_t *vc, const char *kw)
{
    char                       *p;
    size_t                      len, i, k;
    compliance_schema_error_t  *e;
    compliance_schema_seg_t    *s;

    len = 0;

    for (i = 0; i < vc->npath; i++) {
        s = &vc->path[i];

        if (s->key == NULL) {
            len += 21;
            continue;
        }

        len += 1 + s->len;

        for (k = 0; k < s->len; k++) {
            len += (s->key[k] == '~' || s->key[k] == '/');
        }
    }

    p = compliance_arena_alloc(vc->arena, len + 1);
    if (p == NULL) {
        vc->nomem = 1;
        vc->stop = 1;
        return NULL;
    }

    e = &vc->res->errors[vc->res->nerrors++];
    e->pointer = p;
    e->keyword = kw;
    e->message[0] = '\0';

    for (i = 0; i < vc->npath; i++) {
        s = &vc->path[i];

        if (s->key == NULL) {
            p += snprintf(p, 22, "/%zu", s->index);
            continue;
        }

        *p++ = '/';

        for (k = 0; k < s->len; k++) {
            if (s->key[k] == '~') {
                *p++ = '~';
                *p++ = '0';

            } else if (s->key[k] == '/') {
                *p++ = '~';
                *p++ = '1';

            } else {
                *p++ = (char) s->key[k];
            }
        }
    }

    e->pointer_len = (size_t) (p - e->pointer);
    *p = '\0';

    return e;
}


static int
compliance_schema_report(compliance_schema_vc_t *vc, const char *kw,
    const char *fmt, ...)
{
    va_list                     args;
    compliance_schema_error_t  *e;

    if (vc->quiet) {
        return COMPLIANCE_SCHEMA_FAIL;
    }

    if (vc->res->nerrors == COMPLIANCE_SCHEMA_MAX_ERRORS) {
        vc->res->more = 1;
        vc->stop = 1;
        return COMPLIANCE_SCHEMA_FAIL;
    }

    e = compliance_schema_record(vc, kw);
    if (e == NULL) {
        return COMPLIANCE_SCHEMA_ABORT;
    }

    va_start(args, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, args);
    va_end(args);

    return COMPLIANCE_SCHEMA_FAIL;
}


/* recorded even inside quiet subschemas: the caller must see why */
static int
compliance_schema_abort(compliance_schema_vc_t *vc, const char *kw,
    const char *msg)
{
    compliance_schema_error_t  *e;

    vc->stop = 1;

    if (vc->res == NULL) {
        return COMPLIANCE_SCHEMA_ABORT;
    }

    vc->res->aborted = 1;

    if (vc->res->nerrors == COMPLIANCE_SCHEMA_MAX_ERRORS) {
        vc->res->nerrors--;
        vc->res->more = 1;
    }

    e = compliance_schema_record(vc, kw[0] ? kw : "schema");
    if (e != NULL) {
        snprintf(e->message, sizeof(e->message), "%s", msg);
    }

    return COMPLIANCE_SCHEMA_ABORT;
}
