/*
 * compliance_jtree (bounded JSON parser, exact numbers), compliance_format
 * and compliance_schema (draft-07 compiler and validator), then the
 * draft7 files of Debian's json-schema-test-suite package.
 *
 * The suite lives in COMPLIANCE_JSON_SCHEMA_SUITE, default
 * /usr/share/json-schema-test-suite/tests/draft7 (./build.sh installs
 * the package).  Every file there is either run or skipped for a stated
 * reason, and a skipped file's schemas must all be refused at compile
 * time: nothing unsupported is ever half-enforced.
 * COMPLIANCE_UNIT_BENCH=1 adds a parse+validate benchmark.
 */

#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "compliance_format.h"
#include "compliance_json.h"
#include "compliance_jtree.h"
#include "compliance_schema.h"


#define SUITE_ENV      "COMPLIANCE_JSON_SCHEMA_SUITE"
#define SUITE_DEFAULT  "/usr/share/json-schema-test-suite/tests/draft7"

#define ARENA_SIZE     (16 * 1024 * 1024)


typedef struct {
    const char  *schema;
    const char  *instance;
    int          valid;
} case_t;


typedef struct {
    const char  *schema;
    const char  *want;
} refusal_t;


typedef struct {
    u_char      *p;
    size_t       len;
    size_t       size;
} sbuf_t;


/* files of the suite that are not run, and why (each schema refused) */
typedef struct {
    const char  *file;
    const char  *reason;
    const char  *refusal;
} skip_file_t;


/* groups of run files that are not run, and why */
typedef struct {
    const char  *file;
    const char  *group;
    const char  *reason;
    const char  *refusal;
} skip_group_t;


static compliance_arena_t *fresh(void);
static compliance_jnode_t *parse(const char *text, int *rc);
static compliance_schema_t *compile_ok(const char *text);
static void refuse(const char *text, const char *want);
static int run(const compliance_schema_t *s, const char *instance,
    compliance_schema_result_t *res);
static void expect(const char *schema, const char *instance, int valid);
static void expect_cases(const case_t *c, size_t n);
static const compliance_schema_error_t *find_error(
    const compliance_schema_result_t *res, const char *pointer,
    const char *keyword);
static void expect_error(const char *schema, const char *instance,
    const char *pointer, const char *keyword, const char *message);
static double now(void);
static void bench_one(const compliance_schema_t *s, const char *label,
    const char *body, size_t n);
static void sb_put(sbuf_t *b, const void *p, size_t len);
static void sb_str(sbuf_t *b, const u_char *s, size_t len);
static void serialize(sbuf_t *b, const compliance_jnode_t *n);
static u_char *read_file(const char *path, size_t *len);
static int in_list(const char *rel, const char *const *list);
static int has_any(const char *s, const char *alternatives);


static u_char               arena_mem[ARENA_SIZE];
static compliance_arena_t   arena;


static compliance_arena_t *
fresh(void)
{
    compliance_arena_init(&arena, arena_mem, sizeof(arena_mem), NULL, NULL,
                          0);
    return &arena;
}


static compliance_jnode_t *
parse(const char *text, int *rc)
{
    size_t               off;
    compliance_jnode_t  *root;

    *rc = compliance_jtree_parse((const u_char *) text, strlen(text),
                                 COMPLIANCE_JTREE_MAX_DEPTH, fresh(), &root,
                                 &off);
    return root;
}


static compliance_schema_t *
compile_ok(const char *text)
{
    char                  err[512];
    compliance_schema_t  *s;

    s = compliance_schema_compile(text, strlen(text), "t.json", err,
                                  sizeof(err));
    if (s == NULL) {
        fail_msg("schema %s refused: %s", text, err);
    }

    return s;
}


static void
refuse(const char *text, const char *want)
{
    char                  err[512];
    compliance_schema_t  *s;

    s = compliance_schema_compile(text, strlen(text), "schema.json", err,
                                  sizeof(err));
    if (s != NULL) {
        compliance_schema_free(s);
        fail_msg("schema %s accepted, expected: %s", text, want);
    }

    if (strstr(err, want) == NULL) {
        fail_msg("schema %s: error \"%s\" lacks \"%s\"", text, err, want);
    }
}


/* validates with errors, then again quiet: the answers must agree */
static int
run(const compliance_schema_t *s, const char *instance,
    compliance_schema_result_t *res)
{
    int                  rc, rq;
    compliance_jnode_t  *root;

    root = parse(instance, &rc);
    if (rc != COMPLIANCE_JTREE_OK) {
        fail_msg("instance %s: %s", instance, compliance_jtree_strerror(rc));
    }

    rq = compliance_schema_validate(s, root, &arena, 0, NULL);
    rc = compliance_schema_validate(s, root, &arena, 0, res);

    if (rc != rq) {
        fail_msg("instance %s: %d with errors, %d quiet", instance, rc, rq);
    }

    if ((rc == COMPLIANCE_SCHEMA_VALID) != (res->nerrors == 0)) {
        fail_msg("instance %s: answer %d with %zu errors", instance, rc,
                 res->nerrors);
    }

    return rc;
}


static void
expect(const char *schema, const char *instance, int valid)
{
    int                          rc;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;

    s = compile_ok(schema);
    rc = run(s, instance, &res);

    if (rc != (valid ? COMPLIANCE_SCHEMA_VALID : COMPLIANCE_SCHEMA_INVALID)) {
        fail_msg("schema %s, instance %s: expected %s, got %s (%s %s)",
                 schema, instance, valid ? "valid" : "invalid",
                 rc == COMPLIANCE_SCHEMA_VALID ? "valid" : "invalid",
                 res.nerrors ? res.errors[0].keyword : "-",
                 res.nerrors ? res.errors[0].message : "-");
    }

    compliance_schema_free(s);
}


static void
expect_cases(const case_t *c, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        expect(c[i].schema, c[i].instance, c[i].valid);
    }
}


static const compliance_schema_error_t *
find_error(const compliance_schema_result_t *res, const char *pointer,
    const char *keyword)
{
    size_t  i;

    for (i = 0; i < res->nerrors; i++) {
        if (strcmp(res->errors[i].pointer, pointer) == 0
            && strcmp(res->errors[i].keyword, keyword) == 0)
        {
            return &res->errors[i];
        }
    }

    return NULL;
}


static void
expect_error(const char *schema, const char *instance, const char *pointer,
    const char *keyword, const char *message)
{
    size_t                            i;
    compliance_schema_t              *s;
    compliance_schema_result_t        res;
    const compliance_schema_error_t  *e;

    s = compile_ok(schema);
    assert_int_equal(run(s, instance, &res), COMPLIANCE_SCHEMA_INVALID);

    e = find_error(&res, pointer, keyword);

    if (e == NULL) {
        for (i = 0; i < res.nerrors; i++) {
            print_message("  have %s %s: %s\n", res.errors[i].pointer,
                          res.errors[i].keyword, res.errors[i].message);
        }

        fail_msg("schema %s, instance %s: no error %s at \"%s\"", schema,
                 instance, keyword, pointer);
    }

    if (message != NULL && strcmp(e->message, message) != 0) {
        fail_msg("message \"%s\", expected \"%s\"", e->message, message);
    }

    compliance_schema_free(s);
}


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* ---- parser ----------------------------------------------------- */


static void
test_parse_values(void **state)
{
    int                        rc;
    compliance_jnode_t        *r;
    const compliance_jnode_t  *m;

    (void) state;

    r = parse(" {\"a\" : [1, -2.50, \"x\\u00e9\\ud83d\\ude00\\n\", true,"
              " false, null, {}], \"\": \"\", \"b\\u0000\": 0}\r\n", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(r->type, COMPLIANCE_JOBJECT);
    assert_int_equal(r->u.kids.count, 3);

    m = compliance_jtree_get(r, (const u_char *) "a", 1);
    assert_non_null(m);
    assert_int_equal(m->type, COMPLIANCE_JARRAY);
    assert_int_equal(m->u.kids.count, 7);

    m = m->u.kids.first->next;
    assert_int_equal(m->type, COMPLIANCE_JNUMBER);
    assert_int_equal(m->neg, 1);
    assert_int_equal(m->u.num.ndigits, 2);
    assert_memory_equal(m->u.num.digits, "25", 2);
    assert_int_equal(m->u.num.exp, 1);

    m = m->next;
    assert_int_equal(m->type, COMPLIANCE_JSTRING);
    assert_int_equal(m->u.str.len, 8);
    assert_memory_equal(m->u.str.data, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8);

    assert_int_equal(m->next->type, COMPLIANCE_JTRUE);
    assert_int_equal(m->next->next->type, COMPLIANCE_JFALSE);
    assert_int_equal(m->next->next->next->type, COMPLIANCE_JNULL);
    assert_int_equal(m->next->next->next->next->type, COMPLIANCE_JOBJECT);

    assert_non_null(compliance_jtree_get(r, (const u_char *) "", 0));
    assert_non_null(compliance_jtree_get(r, (const u_char *) "b\0", 2));
    assert_null(compliance_jtree_get(r, (const u_char *) "b", 1));

    /* every JSON value may be the document */
    r = parse("\"s\"", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(r->type, COMPLIANCE_JSTRING);
    r = parse("  7 ", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(r->type, COMPLIANCE_JNUMBER);
    r = parse("null", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(r->type, COMPLIANCE_JNULL);
}


static void
test_parse_refusals(void **state)
{
    size_t               i, off;
    int                  rc;
    compliance_jnode_t  *root;

    static const struct {
        const char  *text;
        int          rc;
    } bad[] = {
        { "", COMPLIANCE_JTREE_ESYNTAX },
        { "   ", COMPLIANCE_JTREE_ESYNTAX },
        { "{", COMPLIANCE_JTREE_ESYNTAX },
        { "[1,]", COMPLIANCE_JTREE_ESYNTAX },
        { "{\"a\":1,}", COMPLIANCE_JTREE_ESYNTAX },
        { "{\"a\" 1}", COMPLIANCE_JTREE_ESYNTAX },
        { "{a:1}", COMPLIANCE_JTREE_ESYNTAX },
        { "[1 2]", COMPLIANCE_JTREE_ESYNTAX },
        { "1 2", COMPLIANCE_JTREE_ESYNTAX },
        { "[1]]", COMPLIANCE_JTREE_ESYNTAX },
        { "[}", COMPLIANCE_JTREE_ESYNTAX },
        { "tru", COMPLIANCE_JTREE_ESYNTAX },
        { "nul", COMPLIANCE_JTREE_ESYNTAX },
        { "True", COMPLIANCE_JTREE_ESYNTAX },
        { "01", COMPLIANCE_JTREE_ESYNTAX },
        { "-", COMPLIANCE_JTREE_ESYNTAX },
        { "+1", COMPLIANCE_JTREE_ESYNTAX },
        { "1.", COMPLIANCE_JTREE_ESYNTAX },
        { ".5", COMPLIANCE_JTREE_ESYNTAX },
        { "1e", COMPLIANCE_JTREE_ESYNTAX },
        { "1e+", COMPLIANCE_JTREE_ESYNTAX },
        { "NaN", COMPLIANCE_JTREE_ESYNTAX },
        { "Infinity", COMPLIANCE_JTREE_ESYNTAX },
        { "0x10", COMPLIANCE_JTREE_ESYNTAX },
        { "\"abc", COMPLIANCE_JTREE_ESYNTAX },
        { "\"a\tb\"", COMPLIANCE_JTREE_ESYNTAX },
        { "\"a\nb\"", COMPLIANCE_JTREE_ESYNTAX },
        { "\"\\x41\"", COMPLIANCE_JTREE_ESYNTAX },
        { "\"\\u12\"", COMPLIANCE_JTREE_ESYNTAX },
        { "\"\\u12g4\"", COMPLIANCE_JTREE_ESYNTAX },
        { "\"\\", COMPLIANCE_JTREE_ESYNTAX },
        { "'a'", COMPLIANCE_JTREE_ESYNTAX },
        { "[1] // c", COMPLIANCE_JTREE_ESYNTAX },
        /* a byte order mark is not JSON text (RFC 8259 section 8.1) */
        { "\xef\xbb\xbf{}", COMPLIANCE_JTREE_ESYNTAX },
        /* UTF-8: stray continuation, bad lead, truncated, overlong */
        { "\"\x80\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xff\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xc3\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xe2\x82\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xc0\xaf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xc1\xbf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xe0\x80\xaf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xe0\x9f\xbf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xf0\x80\x80\xaf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xf0\x8f\xbf\xbf\"", COMPLIANCE_JTREE_EUTF8 },
        /* encoded surrogates, above U+10FFFF */
        { "\"\xed\xa0\x80\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xed\xbf\xbf\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xf4\x90\x80\x80\"", COMPLIANCE_JTREE_EUTF8 },
        { "\"\xf5\x80\x80\x80\"", COMPLIANCE_JTREE_EUTF8 },
        /* after an escape the rest is still checked, and in names */
        { "\"\\n\xc0\xaf\"", COMPLIANCE_JTREE_EUTF8 },
        { "{\"\xc0\xaf\":1}", COMPLIANCE_JTREE_EUTF8 },
        /* non-ASCII outside strings */
        { "[1,\xc3\xa9]", COMPLIANCE_JTREE_ESYNTAX },
        /* lone surrogates in \u escapes */
        { "\"\\ud800\"", COMPLIANCE_JTREE_ESURROGATE },
        { "\"\\udbff x\"", COMPLIANCE_JTREE_ESURROGATE },
        { "\"\\udc00\"", COMPLIANCE_JTREE_ESURROGATE },
        { "\"\\ud800\\u0041\"", COMPLIANCE_JTREE_ESURROGATE },
        { "\"\\ud800\\ud800\"", COMPLIANCE_JTREE_ESURROGATE },
        { "\"\\ude00\\ud83d\"", COMPLIANCE_JTREE_ESURROGATE },
        { "{\"\\udfff\":1}", COMPLIANCE_JTREE_ESURROGATE },
        /* duplicate names, also through escapes and in big objects */
        { "{\"a\":1,\"a\":2}", COMPLIANCE_JTREE_EDUPKEY },
        { "{\"a\":1,\"\\u0061\":2}", COMPLIANCE_JTREE_EDUPKEY },
        { "{\"\\/\":1,\"/\":2}", COMPLIANCE_JTREE_EDUPKEY },
        { "{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", COMPLIANCE_JTREE_EDUPKEY },
        { "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
          "\"i\":9,\"j\":10,\"k\":11,\"e\":12}", COMPLIANCE_JTREE_EDUPKEY },
        /* exponents beyond +-1e9 once normalised */
        { "1e1000000001", COMPLIANCE_JTREE_ERANGE },
        { "1e99999999999999999999", COMPLIANCE_JTREE_ERANGE },
        { "-1.5e-99999999999", COMPLIANCE_JTREE_ERANGE },
        { "[0.1e-1000000001]", COMPLIANCE_JTREE_ERANGE },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        (void) parse(bad[i].text, &rc);

        if (rc != bad[i].rc) {
            fail_msg("%s: %d (%s), expected %d", bad[i].text, rc,
                     compliance_jtree_strerror(rc), bad[i].rc);
        }
    }

    /* a raw NUL byte, which jansson skips after a number (fuzzing) */
    assert_int_equal(compliance_jtree_parse((const u_char *) "[1,2\0]", 6, 64,
                                            fresh(), &root, &off),
                     COMPLIANCE_JTREE_ESYNTAX);
    assert_int_equal(off, 4);
    assert_int_equal(compliance_jtree_parse((const u_char *) "\"a\0\"", 4,
                                            64, fresh(), &root, &off),
                     COMPLIANCE_JTREE_ESYNTAX);

    /* the exponent bound itself is inside */
    (void) parse("[0.1e-1000000000,1e999999999,0e99999999999999]", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);

    /* names that differ, in both index paths */
    (void) parse("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
                 "\"h\":8,\"i\":9,\"ab\":10,\"a\\u0000\":11}", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    (void) parse("{\"a\":1,\"A\":2,\"a \":3}", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_string_equal(compliance_jtree_strerror(COMPLIANCE_JTREE_EDUPKEY),
                        "duplicate object member name");
}


static void
test_parse_depth(void **state)
{
    int                  rc;
    char                *text;
    size_t               i, n, off;
    double               t0;
    compliance_jnode_t  *root;

    (void) state;

    text = malloc(2 * 10000 + 1);
    assert_non_null(text);

    /* 64 levels are fine, 65 are not: arrays and objects alike */
    for (n = 63; n <= 65; n++) {
        for (i = 0; i < n; i++) {
            text[i] = '[';
            text[n + i] = ']';
        }

        text[2 * n] = '\0';
        (void) parse(text, &rc);
        assert_int_equal(rc, n <= 64 ? COMPLIANCE_JTREE_OK
                                     : COMPLIANCE_JTREE_EDEPTH);
    }

    text[0] = '\0';

    for (i = 0; i < 65; i++) {
        strcat(text, "{\"a\":");
    }

    strcat(text, "1");

    for (i = 0; i < 65; i++) {
        strcat(text, "}");
    }

    (void) parse(text, &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_EDEPTH);

    /* 10,000 levels: refused at level 65, in no time and no stack */
    for (i = 0; i < 10000; i++) {
        text[i] = '[';
        text[10000 + i] = ']';
    }

    text[20000] = '\0';
    t0 = now();
    rc = compliance_jtree_parse((u_char *) text, 20000,
                                COMPLIANCE_JTREE_MAX_DEPTH, fresh(), &root,
                                &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_EDEPTH);
    assert_int_equal(off, 64);
    assert_null(root);
    assert_true(now() - t0 < 0.01);

    /* a parse limit above the hard stack bound is clamped, not trusted */
    rc = compliance_jtree_parse((u_char *) text, 20000, 100000, fresh(),
                                &root, &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_EDEPTH);
    assert_int_equal(off, 1024);

    free(text);
}


static void *
counting_alloc(void *data, size_t size)
{
    void  **blocks;
    size_t  i;

    blocks = data;

    for (i = 0; i < 64 && blocks[i] != NULL; i++) {
        /* void */
    }

    if (i == 64) {
        return NULL;
    }

    blocks[i] = malloc(size);

    return blocks[i];
}


static void
test_parse_arena(void **state)
{
    int                  rc;
    char                 text[4096];
    void                *blocks[64];
    u_char               small[256];
    size_t               i, off, n;
    compliance_arena_t   a;
    compliance_jnode_t  *root;

    (void) state;

    n = (size_t) snprintf(text, sizeof(text), "[");
    for (i = 0; i < 200; i++) {
        n += (size_t) snprintf(text + n, sizeof(text) - n, "%s\"s\\n%zu\"",
                               i ? "," : "", i);
    }

    text[n++] = ']';
    text[n] = '\0';

    /* a fixed buffer only: too small is ENOMEM, never an overflow */
    compliance_arena_init(&a, small, sizeof(small), NULL, NULL, 0);
    rc = compliance_jtree_parse((u_char *) text, n, 64, &a, &root, &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_ENOMEM);
    assert_true(a.pos <= a.end);

    /* more blocks from the caller, within a limit */
    memset(blocks, 0, sizeof(blocks));
    compliance_arena_init(&a, small, sizeof(small), counting_alloc, blocks,
                          2048);
    rc = compliance_jtree_parse((u_char *) text, n, 64, &a, &root, &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_ENOMEM);
    assert_true(a.taken <= 2048);

    for (i = 0; i < 64; i++) {
        free(blocks[i]);
    }

    memset(blocks, 0, sizeof(blocks));
    compliance_arena_init(&a, NULL, 0, counting_alloc, blocks, 0);
    rc = compliance_jtree_parse((u_char *) text, n, 64, &a, &root, &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(root->u.kids.count, 200);
    assert_memory_equal(root->u.kids.first->next->u.str.data, "s\n1", 3);
    assert_true(a.taken > 0);

    for (i = 0; i < 64; i++) {
        free(blocks[i]);
    }
}


/* ---- numbers ---------------------------------------------------- */


static void
test_numbers(void **state)
{
    int                  rc;
    char                 buf[256];
    size_t               i;
    int64_t              e;
    uint64_t             b, c;
    compliance_jnode_t  *r, *x, *y;

    static const struct {
        const char  *a;
        const char  *b;
        int          cmp;
    } order[] = {
        { "0", "-0", 0 },
        { "0", "0.000e5", 0 },
        { "1", "1.0", 0 },
        { "1", "10e-1", 0 },
        { "100", "1e2", 0 },
        { "0.1", "1e-1", 0 },
        { "1.5", "1.50000", 0 },
        { "-1", "1", -1 },
        { "-2", "-1", -1 },
        { "0.1", "0.11", -1 },
        { "9", "10", -1 },
        { "1e308", "1e999999", -1 },
        { "-1e999999", "-1e308", -1 },
        { "1e-999999", "1e-308", -1 },
        { "0", "1e-999999", -1 },
        /* beyond doubles: these would compare equal as binary64 */
        { "18446744073709551615", "18446744073709551616", -1 },
        { "9007199254740992", "9007199254740993", -1 },
        { "972783798187987123879878123.18878137",
          "972783798187987123879878123.188781371", -1 },
        { "0.30000000000000001", "0.3", 1 },
    };

    static const struct {
        const char  *n;
        int          integer;
    } ints[] = {
        { "0", 1 }, { "-0", 1 }, { "1.0", 1 }, { "1e400", 1 },
        { "12345678910111213141516171819202122232425262728293031", 1 },
        { "1.5", 0 }, { "1e-400", 0 }, { "0.1e1", 1 }, { "123.456e2", 0 },
        { "123.456e3", 1 }, { "-7", 1 },
    };

    static const struct {
        const char  *n;
        const char  *d;
        int          multiple;
    } mult[] = {
        { "0.0075", "0.0001", 1 },
        { "0.00751", "0.0001", 0 },
        { "4.5", "1.5", 1 },
        { "35", "1.5", 0 },
        { "10", "2.5", 1 },
        { "0", "7", 1 },
        { "-14", "7", 1 },
        { "7e999999", "7", 1 },
        { "1e999999", "7", 0 },
        { "1e999999", "2", 1 },
        { "1e999999", "0.001", 1 },
        { "123456789123456789123456789", "3", 1 },
        { "123456789123456789123456788", "3", 0 },
        { "1e-5", "1e-6", 1 },
        { "1e-6", "1e-5", 0 },
        { "19", "0.01", 1 },
        { "999999999999999999e20", "999999999999999999", 1 },
    };

    static const struct {
        const char  *n;
        const char  *text;
    } fmt[] = {
        { "0", "0" }, { "-0.0", "0" }, { "1.10", "1.1" }, { "-25", "-25" },
        { "1e2", "100" }, { "0.0001", "0.0001" }, { "1e400", "1e400" },
        { "1e-400", "1e-400" }, { "12.5e-10", "1.25e-9" },
        { "123456789012345678901", "1.2345678901234567e20" },
        { "1234567890123456789012", "1.2345678901234567e21" },
    };

    (void) state;

    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        /* parse() reuses the arena: both numbers in one document */
        snprintf(buf, sizeof(buf), "[%s,%s]", order[i].a, order[i].b);
        r = parse(buf, &rc);
        assert_int_equal(rc, COMPLIANCE_JTREE_OK);
        x = r->u.kids.first;
        y = x->next;

        if (compliance_jnum_cmp(x, y) != order[i].cmp
            || compliance_jnum_cmp(y, x) != -order[i].cmp
            || (compliance_jtree_cmp(x, y) == 0) != (order[i].cmp == 0))
        {
            fail_msg("%s vs %s: %d", order[i].a, order[i].b,
                     compliance_jnum_cmp(x, y));
        }
    }

    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        x = parse(ints[i].n, &rc);
        assert_int_equal(rc, COMPLIANCE_JTREE_OK);

        if (compliance_jnum_is_integer(x) != ints[i].integer) {
            fail_msg("%s: integer %d", ints[i].n, !ints[i].integer);
        }
    }

    for (i = 0; i < sizeof(mult) / sizeof(mult[0]); i++) {
        snprintf(buf, sizeof(buf), "[%s,%s]", mult[i].n, mult[i].d);
        r = parse(buf, &rc);
        assert_int_equal(rc, COMPLIANCE_JTREE_OK);
        assert_int_equal(compliance_jnum_small(r->u.kids.first->next, &b, &e),
                         0);

        if (compliance_jnum_multiple_of(r->u.kids.first, b, e)
            != mult[i].multiple)
        {
            fail_msg("%s multipleOf %s: %d", mult[i].n, mult[i].d,
                     !mult[i].multiple);
        }
    }

    for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
        x = parse(fmt[i].n, &rc);
        assert_int_equal(rc, COMPLIANCE_JTREE_OK);
        compliance_jnum_format(x, buf, sizeof(buf));
        assert_string_equal(buf, fmt[i].text);
    }

    /* a short buffer is cut, still NUL-terminated */
    x = parse("-1234567890123456789012", &rc);
    compliance_jnum_format(x, buf, 6);
    assert_string_equal(buf, "-1.23");

    x = parse("1234567890123456789", &rc);
    assert_int_equal(compliance_jnum_small(x, &b, &e), -1);
    x = parse("123456789012345678e3", &rc);
    assert_int_equal(compliance_jnum_small(x, &b, &e), 0);
    assert_true(b == 123456789012345678ULL);
    assert_int_equal(e, 3);

    x = parse("1e30", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), 0);
    assert_true(c == UINT64_MAX);
    x = parse("18446744073709551615", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), 0);
    assert_true(c == UINT64_MAX);
    x = parse("4.0", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), 0);
    assert_true(c == 4);
    x = parse("0", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), 0);
    assert_true(c == 0);
    x = parse("-1", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), -1);
    x = parse("1.5", &rc);
    assert_int_equal(compliance_jnum_count(x, &c), -1);

    assert_int_equal(compliance_utf8_length((const u_char *) "a\xc3\xa9"
                                            "\xf0\x9f\x98\x80", 7), 3);
}


static void
test_value_order(void **state)
{
    int                  rc;
    compliance_jnode_t  *r, *a, *b;

    (void) state;

    /* member order never matters, big objects (indexed) included */
    r = parse("[{\"a\":1,\"b\":[1,{\"c\":null}]},{\"b\":[1.0,{\"c\":null}],"
              "\"a\":1e0}]", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    a = r->u.kids.first;
    b = a->next;
    assert_int_equal(compliance_jtree_cmp(a, b), 0);
    assert_true(compliance_jtree_hash(a) == compliance_jtree_hash(b));

    r = parse("[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
              "\"h\":8,\"i\":9},{\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,"
              "\"d\":4,\"c\":3,\"b\":2,\"a\":1}]", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_non_null(r->u.kids.first->u.kids.sorted);
    assert_int_equal(compliance_jtree_cmp(r->u.kids.first,
                                          r->u.kids.first->next), 0);
    assert_true(compliance_jtree_hash(r->u.kids.first)
                == compliance_jtree_hash(r->u.kids.first->next));

    r = parse("[{\"a\":1},{\"a\":2},{\"b\":1},[1],[1,2],\"a\",\"ab\",0,"
              "true,false,null]", &rc);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);

    for (a = r->u.kids.first; a != NULL; a = a->next) {
        for (b = r->u.kids.first; b != NULL; b = b->next) {
            rc = compliance_jtree_cmp(a, b);
            assert_int_equal(rc == 0, a == b);
            assert_int_equal(rc, -compliance_jtree_cmp(b, a));
            /* distinct here, and no collision among these few */
            assert_int_equal(compliance_jtree_hash(a)
                             == compliance_jtree_hash(b), a == b);
        }
    }
}


/* ---- formats ---------------------------------------------------- */


static void
test_formats(void **state)
{
    size_t  i;
    int     got;

    static const struct {
        int        (*fn)(const u_char *s, size_t len);
        const char  *s;
        int          ok;
    } f[] = {
        { compliance_format_date, "2024-02-29", 1 },
        { compliance_format_date, "2000-02-29", 1 },
        { compliance_format_date, "1900-02-29", 0 },
        { compliance_format_date, "2023-02-29", 0 },
        { compliance_format_date, "2023-04-31", 0 },
        { compliance_format_date, "2023-12-31", 1 },
        { compliance_format_date, "2023-13-01", 0 },
        { compliance_format_date, "2023-00-01", 0 },
        { compliance_format_date, "2023-01-00", 0 },
        { compliance_format_date, "2023-1-01", 0 },
        { compliance_format_date, "20230101", 0 },
        { compliance_format_date, "2023-01-01 ", 0 },
        { compliance_format_date, "2023-01-0a", 0 },

        { compliance_format_date_time, "1963-06-19T08:30:06Z", 1 },
        { compliance_format_date_time, "1963-06-19t08:30:06.283185z", 1 },
        { compliance_format_date_time, "1937-01-01T12:00:27.87+00:20", 1 },
        { compliance_format_date_time, "1990-12-31T23:59:60Z", 1 },
        { compliance_format_date_time, "1990-12-31T15:59:60-08:00", 1 },
        { compliance_format_date_time, "1990-12-31T23:58:60Z", 0 },
        { compliance_format_date_time, "1990-12-31T22:59:60Z", 0 },
        { compliance_format_date_time, "1990-12-31T23:59:61Z", 0 },
        { compliance_format_date_time, "1990-12-31T24:00:00Z", 0 },
        { compliance_format_date_time, "1990-12-31T23:60:00Z", 0 },
        { compliance_format_date_time, "1990-12-31T15:59:50-24:00", 0 },
        { compliance_format_date_time, "1990-12-31T15:59:50+01:60", 0 },
        { compliance_format_date_time, "1990-12-31T15:59:50", 0 },
        { compliance_format_date_time, "1990-12-31T15:59:50.Z", 0 },
        { compliance_format_date_time, "1990-12-31 15:59:50Z", 0 },
        { compliance_format_date_time, "1990-02-31T15:59:50Z", 0 },
        { compliance_format_date_time, "1990-12-31T15:59:50+0100", 0 },
        { compliance_format_date_time, "1990-12-31T15:59Z", 0 },

        { compliance_format_email, "joe.bloggs@example.com", 1 },
        { compliance_format_email, "a+b!#$%&'*/=?^_`{|}~-@x.io", 1 },
        { compliance_format_email, "\"joe bloggs\"@example.com", 1 },
        { compliance_format_email, "\"a\\\"b\"@example.com", 1 },
        { compliance_format_email, "joe@[127.0.0.1]", 1 },
        { compliance_format_email, "joe@[IPv6:::1]", 1 },
        { compliance_format_email, "joe@localhost", 1 },
        { compliance_format_email, "2962", 0 },
        { compliance_format_email, "@example.com", 0 },
        { compliance_format_email, "joe@", 0 },
        { compliance_format_email, ".joe@example.com", 0 },
        { compliance_format_email, "joe.@example.com", 0 },
        { compliance_format_email, "jo..e@example.com", 0 },
        { compliance_format_email, "joe@-example.com", 0 },
        { compliance_format_email, "joe@example-.com", 0 },
        { compliance_format_email, "joe@example..com", 0 },
        { compliance_format_email, "joe@example.com.", 0 },
        { compliance_format_email, "joe@exa_mple.com", 0 },
        { compliance_format_email, "jo e@example.com", 0 },
        { compliance_format_email, "joe@@example.com", 0 },
        { compliance_format_email, "joe@[300.0.0.1]", 0 },
        { compliance_format_email, "\"joe@example.com", 0 },
        { compliance_format_email, "j\xc3\xb6@example.com", 0 },
        { compliance_format_email,
          "12345678901234567890123456789012345678901234567890123456789012345"
          "@example.com", 0 },

        { compliance_format_ipv4, "192.168.0.1", 1 },
        { compliance_format_ipv4, "0.0.0.0", 1 },
        { compliance_format_ipv4, "255.255.255.255", 1 },
        { compliance_format_ipv4, "256.0.0.1", 0 },
        { compliance_format_ipv4, "127.0.0.0.1", 0 },
        { compliance_format_ipv4, "127.0", 0 },
        { compliance_format_ipv4, "0x7f000001", 0 },
        { compliance_format_ipv4, "087.10.0.1", 0 },
        { compliance_format_ipv4, "1.2.3.", 0 },
        { compliance_format_ipv4, ".1.2.3", 0 },
        { compliance_format_ipv4, "1..2.3", 0 },
        { compliance_format_ipv4, "1.2.3.4 ", 0 },
        { compliance_format_ipv4, "1000.2.3.4", 0 },
        { compliance_format_ipv4, "", 0 },

        { compliance_format_ipv6, "::1", 1 },
        { compliance_format_ipv6, "::", 1 },
        { compliance_format_ipv6, "1::", 1 },
        { compliance_format_ipv6, "2001:db8::ff00:42:8329", 1 },
        { compliance_format_ipv6, "2001:0db8:0000:0000:0000:ff00:0042:8329",
          1 },
        { compliance_format_ipv6, "::ffff:192.0.2.1", 1 },
        { compliance_format_ipv6, "1:2:3:4:5:6:1.2.3.4", 1 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7::", 1 },
        { compliance_format_ipv6, "ABCD:EF01::", 1 },
        { compliance_format_ipv6, "12345::", 0 },
        { compliance_format_ipv6, "1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1", 0 },
        { compliance_format_ipv6, "::laptop", 0 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7", 0 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7:8:9", 0 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7:8::", 0 },
        { compliance_format_ipv6, "1::2::3", 0 },
        { compliance_format_ipv6, ":::", 0 },
        { compliance_format_ipv6, ":1::", 0 },
        { compliance_format_ipv6, "1:", 0 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7:", 0 },
        { compliance_format_ipv6, "fe80::1%eth0", 0 },
        { compliance_format_ipv6, "::1.2.3", 0 },
        { compliance_format_ipv6, "::1.2.3.4:1", 0 },
        { compliance_format_ipv6, "1:2:3:4:5:6:7:1.2.3.4", 0 },
        { compliance_format_ipv6, "[::1]", 0 },
        { compliance_format_ipv6, "g::1", 0 },

        { compliance_format_uuid, "2eb8aa08-aa98-11ea-b4aa-73b441d16380", 1 },
        { compliance_format_uuid, "2EB8AA08-AA98-11EA-B4AA-73B441D16380", 1 },
        { compliance_format_uuid, "00000000-0000-0000-0000-000000000000", 1 },
        { compliance_format_uuid, "2eb8aa08-aa98-11ea-b4aa-73b441d1638", 0 },
        { compliance_format_uuid, "2eb8aa08-aa98-11ea-b4aa-73b441d163800", 0 },
        { compliance_format_uuid, "2eb8aa08aa9811eab4aa73b441d16380", 0 },
        { compliance_format_uuid, "2eb8aa08-aa98-11ea-b4aa73b441d16380-", 0 },
        { compliance_format_uuid, "2eb8aa0g-aa98-11ea-b4aa-73b441d16380", 0 },
        { compliance_format_uuid, "2eb8aa0-8aa98-11ea-b4aa-73b441d16380", 0 },
        { compliance_format_uuid, "{eb8aa08-aa98-11ea-b4aa-73b441d1638}", 0 },
    };

    (void) state;

    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        got = f[i].fn((const u_char *) f[i].s, strlen(f[i].s));

        if (got != f[i].ok) {
            fail_msg("\"%s\": %d, expected %d", f[i].s, got, f[i].ok);
        }
    }
}


/* ---- keywords --------------------------------------------------- */


static void
test_kw_type_enum_const(void **state)
{
    static const case_t  c[] = {
        { "{\"type\":\"integer\"}", "1", 1 },
        { "{\"type\":\"integer\"}", "1.0", 1 },
        { "{\"type\":\"integer\"}", "-1e400", 1 },
        { "{\"type\":\"integer\"}", "1.5", 0 },
        { "{\"type\":\"integer\"}", "\"1\"", 0 },
        { "{\"type\":\"number\"}", "1.5", 1 },
        { "{\"type\":\"number\"}", "1e-999999", 1 },
        { "{\"type\":\"number\"}", "null", 0 },
        { "{\"type\":\"string\"}", "\"\"", 1 },
        { "{\"type\":\"string\"}", "[]", 0 },
        { "{\"type\":\"boolean\"}", "false", 1 },
        { "{\"type\":\"boolean\"}", "0", 0 },
        { "{\"type\":\"null\"}", "null", 1 },
        { "{\"type\":\"null\"}", "false", 0 },
        { "{\"type\":\"object\"}", "{}", 1 },
        { "{\"type\":\"object\"}", "[]", 0 },
        { "{\"type\":\"array\"}", "[]", 1 },
        { "{\"type\":\"array\"}", "{}", 0 },
        { "{\"type\":[\"string\",\"null\"]}", "null", 1 },
        { "{\"type\":[\"string\",\"null\"]}", "\"a\"", 1 },
        { "{\"type\":[\"string\",\"null\"]}", "0", 0 },
        { "{\"type\":[\"integer\",\"object\"]}", "2.5", 0 },
        { "{\"type\":[\"number\",\"integer\"]}", "2.5", 1 },

        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "1.0", 1 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "\"a\"", 1 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "[1,2]", 1 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "[2,1]", 0 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "{\"k\":null}", 1 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "{\"k\":0}", 0 },
        { "{\"enum\":[1,\"a\",[1,2],{\"k\":null}]}", "true", 0 },
        { "{\"enum\":[false]}", "0", 0 },
        { "{\"enum\":[]}", "null", 0 },
        { "{\"enum\":[\"\\u00e9\"]}", "\"\xc3\xa9\"", 1 },

        { "{\"const\":{\"a\":[1,{\"b\":2}],\"c\":\"d\"}}",
          "{\"c\":\"d\",\"a\":[1.0,{\"b\":20e-1}]}", 1 },
        { "{\"const\":{\"a\":[1,{\"b\":2}],\"c\":\"d\"}}",
          "{\"c\":\"d\",\"a\":[1,{\"b\":2}],\"e\":1}", 0 },
        { "{\"const\":0}", "false", 0 },
        { "{\"const\":0}", "-0.0", 1 },
        { "{\"const\":null}", "null", 1 },
        { "{\"const\":null}", "0", 0 },
        { "{\"const\":18446744073709551616}", "18446744073709551617", 0 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"type\":[\"string\",\"null\"]}", "1", "", "type",
                 "must be of type null, string");
    expect_error("{\"enum\":[1,2]}", "3", "", "enum",
                 "must be one of the allowed values");
    expect_error("{\"const\":\"x\"}", "\"y\"", "", "const",
                 "must be equal to the constant");
}


static void
test_kw_objects(void **state)
{
    static const case_t  c[] = {
        { "{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":false}}",
          "{\"a\":\"x\"}", 1 },
        { "{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":false}}",
          "{\"a\":1}", 0 },
        { "{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":false}}",
          "{\"b\":1}", 0 },
        { "{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":false}}",
          "{}", 1 },
        { "{\"properties\":{\"a\":{\"type\":\"string\"}}}", "[1]", 1 },
        { "{\"properties\":{\"\\u00e9\":{\"type\":\"string\"}}}",
          "{\"\xc3\xa9\":1}", 0 },

        { "{\"required\":[\"a\",\"b\"]}", "{\"a\":1,\"b\":null}", 1 },
        { "{\"required\":[\"a\",\"b\"]}", "{\"a\":1}", 0 },
        { "{\"required\":[\"a\",\"b\"]}", "\"not an object\"", 1 },
        { "{\"required\":[]}", "{}", 1 },
        { "{\"required\":[\"k\"]}",
          "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
          "\"h\":8,\"i\":9,\"k\":10}", 1 },
        { "{\"required\":[\"j\"]}",
          "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
          "\"h\":8,\"i\":9,\"k\":10}", 0 },

        { "{\"properties\":{\"a\":{}},"
          "\"additionalProperties\":{\"type\":\"integer\"}}",
          "{\"a\":\"s\",\"b\":1}", 1 },
        { "{\"properties\":{\"a\":{}},"
          "\"additionalProperties\":{\"type\":\"integer\"}}",
          "{\"b\":\"s\"}", 0 },
        { "{\"additionalProperties\":false}", "{}", 1 },
        { "{\"additionalProperties\":false}", "{\"x\":1}", 0 },

        { "{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
          "\"additionalProperties\":false}", "{\"x-a\":\"s\"}", 1 },
        { "{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
          "\"additionalProperties\":false}", "{\"x-a\":1}", 0 },
        { "{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
          "\"additionalProperties\":false}", "{\"y\":1}", 0 },
        /* both a property and a pattern apply to one member */
        { "{\"properties\":{\"xa\":{\"type\":\"integer\"}},"
          "\"patternProperties\":{\"a$\":{\"minimum\":5}}}",
          "{\"xa\":3}", 0 },
        { "{\"properties\":{\"xa\":{\"type\":\"integer\"}},"
          "\"patternProperties\":{\"a$\":{\"minimum\":5}}}",
          "{\"xa\":7}", 1 },

        { "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}",
          "{\"abc\":1,\"d\":2}", 1 },
        { "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}", "{\"aB\":1}", 0 },
        { "{\"propertyNames\":{\"maxLength\":1}}", "{\"\xc3\xa9\":1}", 1 },
        { "{\"propertyNames\":false}", "{}", 1 },
        { "{\"propertyNames\":false}", "{\"a\":1}", 0 },

        { "{\"minProperties\":2}", "{\"a\":1,\"b\":2}", 1 },
        { "{\"minProperties\":2}", "{\"a\":1}", 0 },
        { "{\"maxProperties\":1}", "{\"a\":1}", 1 },
        { "{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", 0 },
        { "{\"maxProperties\":0}", "[1,2]", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"required\":[\"a\",\"b/c\"]}", "{\"a\":1}", "/b~1c",
                 "required", "is required");
    expect_error("{\"additionalProperties\":false}", "{\"x~y\":1}", "/x~0y",
                 "additionalProperties", "property is not allowed");
    expect_error("{\"properties\":{\"b\":false}}", "{\"b\":1}", "/b",
                 "properties", "property is not allowed");
    expect_error("{\"propertyNames\":{\"maxLength\":2}}", "{\"abc\":1}",
                 "/abc", "propertyNames",
                 "property name does not match \"propertyNames\"");
    expect_error("{\"minProperties\":3}", "{}", "", "minProperties",
                 "must have at least 3 properties");
    expect_error("{\"maxProperties\":0}", "{\"a\":1}", "", "maxProperties",
                 "must have at most 0 properties");
    expect_error("{\"properties\":{\"a\":{\"properties\":{\"b\":"
                 "{\"type\":\"string\"}}}}}", "{\"a\":{\"b\":1}}", "/a/b",
                 "type", "must be of type string");
}


static void
test_kw_arrays(void **state)
{
    char                        *big;
    size_t                       i, n;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;

    static const case_t  c[] = {
        { "{\"items\":{\"type\":\"integer\"}}", "[1,2,3]", 1 },
        { "{\"items\":{\"type\":\"integer\"}}", "[1,\"2\"]", 0 },
        { "{\"items\":{\"type\":\"integer\"}}", "{\"0\":\"x\"}", 1 },
        { "{\"items\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}",
          "[1,\"a\",null]", 1 },
        { "{\"items\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}",
          "[\"a\",1]", 0 },
        { "{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":false}",
          "[1]", 1 },
        { "{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":false}",
          "[1,2]", 0 },
        { "{\"items\":[{}],\"additionalItems\":{\"type\":\"string\"}}",
          "[1,\"a\",\"b\"]", 1 },
        { "{\"items\":[{}],\"additionalItems\":{\"type\":\"string\"}}",
          "[1,\"a\",2]", 0 },
        /* draft-07: additionalItems only counts after an items array */
        { "{\"items\":{},\"additionalItems\":false}", "[1,2]", 1 },
        { "{\"additionalItems\":false}", "[1,2]", 1 },
        { "{\"items\":false}", "[]", 1 },
        { "{\"items\":false}", "[0]", 0 },

        { "{\"contains\":{\"minimum\":5}}", "[1,6]", 1 },
        { "{\"contains\":{\"minimum\":5}}", "[1,2]", 0 },
        { "{\"contains\":{\"minimum\":5}}", "[]", 0 },
        { "{\"contains\":{\"minimum\":5}}", "\"x\"", 1 },
        { "{\"contains\":true}", "[null]", 1 },
        { "{\"contains\":false}", "[null]", 0 },

        { "{\"minItems\":1}", "[0]", 1 },
        { "{\"minItems\":1}", "[]", 0 },
        { "{\"maxItems\":1}", "[0]", 1 },
        { "{\"maxItems\":1}", "[0,0]", 0 },
        { "{\"maxItems\":1e30}", "[0,0]", 1 },
        { "{\"minItems\":1e30}", "[0,0]", 0 },

        { "{\"uniqueItems\":true}", "[1,2,\"1\",[1],{\"a\":1},true,null]", 1 },
        { "{\"uniqueItems\":true}", "[1,1.0]", 0 },
        { "{\"uniqueItems\":true}", "[0,false]", 1 },
        { "{\"uniqueItems\":true}", "[[1],[1,2]]", 1 },
        { "{\"uniqueItems\":true}", "[[1,2],[1,2]]", 0 },
        { "{\"uniqueItems\":true}",
          "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", 0 },
        { "{\"uniqueItems\":true}", "[{\"a\":1},{\"a\":2}]", 1 },
        { "{\"uniqueItems\":false}", "[1,1]", 1 },
        { "{\"uniqueItems\":true}", "[]", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":"
                 "false}", "[1,2]", "/1", "additionalItems",
                 "item is not allowed");
    expect_error("{\"items\":false}", "[0]", "/0", "items",
                 "item is not allowed");
    expect_error("{\"contains\":{\"const\":1}}", "[2]", "", "contains",
                 "must contain an item that matches \"contains\"");
    expect_error("{\"minItems\":2}", "[0]", "", "minItems",
                 "must have at least 2 items");
    expect_error("{\"maxItems\":0}", "[0]", "", "maxItems",
                 "must have at most 0 items");
    expect_error("{\"items\":{\"items\":{\"type\":\"string\"}}}",
                 "[[\"a\"],[\"b\",3]]", "/1/1", "type", NULL);

    /* 5,000 distinct items, then the same with a duplicate at the end */
    big = malloc(5000 * 16 + 16);
    assert_non_null(big);

    n = (size_t) sprintf(big, "[");
    for (i = 0; i < 5000; i++) {
        n += (size_t) sprintf(big + n, "%s{\"v\":%zu}", i ? "," : "", i);
    }

    strcpy(big + n, "]");

    s = compile_ok("{\"uniqueItems\":true}");
    assert_int_equal(run(s, big, &res), COMPLIANCE_SCHEMA_VALID);

    strcpy(big + n, ",{\"v\":3.0}]");
    assert_int_equal(run(s, big, &res), COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.nerrors, 1);
    assert_string_equal(res.errors[0].pointer, "");
    assert_string_equal(res.errors[0].keyword, "uniqueItems");
    assert_string_equal(res.errors[0].message, "items 3 and 5000 are equal");

    compliance_schema_free(s);
    free(big);
}


static void
test_kw_strings(void **state)
{
    static const case_t  c[] = {
        /* code points, not bytes or UTF-16 units */
        { "{\"maxLength\":1}", "\"\xc3\xa9\"", 1 },
        { "{\"maxLength\":1}", "\"\\ud83d\\ude00\"", 1 },
        { "{\"maxLength\":1}", "\"ab\"", 0 },
        { "{\"minLength\":2}", "\"\xf0\x9f\x98\x80\"", 0 },
        { "{\"minLength\":2}", "\"a\\u0000\"", 1 },
        { "{\"minLength\":2}", "5", 1 },

        { "{\"pattern\":\"a+\"}", "\"xxaxx\"", 1 },
        { "{\"pattern\":\"^a*$\"}", "\"aaa\"", 1 },
        { "{\"pattern\":\"^a*$\"}", "\"abc\"", 0 },
        /* "$" is the very end, as in ECMA-262 */
        { "{\"pattern\":\"^a$\"}", "\"a\\n\"", 0 },
        /* UTF-8 code points, \\u escapes (ECMA-262 style) */
        { "{\"pattern\":\"^.$\"}", "\"\xc3\xa9\"", 1 },
        { "{\"pattern\":\"^\\\\u00e9$\"}", "\"\xc3\xa9\"", 1 },
        { "{\"pattern\":\"^\\\\d+$\"}", "\"123\"", 1 },
        { "{\"pattern\":\"^[A-Z]\"}", "\"abc\"", 0 },
        { "{\"pattern\":\"x\"}", "1", 1 },

        { "{\"format\":\"date\"}", "\"2024-02-29\"", 1 },
        { "{\"format\":\"date\"}", "\"2023-02-29\"", 0 },
        { "{\"format\":\"date-time\"}", "\"2023-02-28T10:00:00Z\"", 1 },
        { "{\"format\":\"date-time\"}", "\"2023-02-28\"", 0 },
        { "{\"format\":\"email\"}", "\"a@b.example\"", 1 },
        { "{\"format\":\"email\"}", "\"a@\"", 0 },
        { "{\"format\":\"ipv4\"}", "\"10.0.0.1\"", 1 },
        { "{\"format\":\"ipv4\"}", "\"10.0.0\"", 0 },
        { "{\"format\":\"ipv6\"}", "\"fe80::1\"", 1 },
        { "{\"format\":\"ipv6\"}", "\"fe80:::1\"", 0 },
        { "{\"format\":\"uuid\"}",
          "\"123e4567-e89b-12d3-a456-426614174000\"", 1 },
        { "{\"format\":\"uuid\"}", "\"123e4567\"", 0 },
        /* a format only looks at strings */
        { "{\"format\":\"uuid\"}", "12", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"minLength\":3}", "\"ab\"", "", "minLength",
                 "must be at least 3 characters long");
    expect_error("{\"maxLength\":1}", "\"ab\"", "", "maxLength",
                 "must be at most 1 characters long");
    expect_error("{\"pattern\":\"^x\"}", "\"ab\"", "", "pattern",
                 "does not match the pattern");
    expect_error("{\"format\":\"ipv6\"}", "\"ab\"", "", "format",
                 "must be a valid ipv6");
    expect_error("{\"format\":\"date-time\"}", "\"ab\"", "", "format",
                 "must be a valid date-time");
}


static void
test_kw_numbers(void **state)
{
    static const case_t  c[] = {
        { "{\"minimum\":1.1}", "1.1", 1 },
        { "{\"minimum\":1.1}", "1.09", 0 },
        { "{\"minimum\":1.1}", "\"0\"", 1 },
        { "{\"maximum\":3}", "3.0", 1 },
        { "{\"maximum\":3}", "3.0000000000000000001", 0 },
        { "{\"exclusiveMinimum\":1}", "1", 0 },
        { "{\"exclusiveMinimum\":1}", "1.0000000000000000001", 1 },
        { "{\"exclusiveMaximum\":0}", "-0.0", 0 },
        { "{\"exclusiveMaximum\":0}", "-1e-999999", 1 },
        /* exact where binary64 would say equal */
        { "{\"maximum\":18446744073709551615}", "18446744073709551616", 0 },
        { "{\"maximum\":18446744073709551615}", "18446744073709551615", 1 },
        { "{\"minimum\":-9007199254740993}", "-9007199254740994", 0 },
        /* 1e999999 is a number, larger than any maximum */
        { "{\"maximum\":1e308}", "1e999999", 0 },
        { "{\"minimum\":1e308}", "1e999999", 1 },
        { "{\"type\":\"integer\",\"maximum\":1e999998}", "1e999999", 0 },

        { "{\"multipleOf\":2}", "10", 1 },
        { "{\"multipleOf\":2}", "7", 0 },
        { "{\"multipleOf\":0.0001}", "0.0075", 1 },
        { "{\"multipleOf\":0.0001}", "0.00751", 0 },
        { "{\"multipleOf\":0.1}", "0.3", 1 },
        { "{\"multipleOf\":1.5}", "4.5", 1 },
        { "{\"multipleOf\":7}", "7e999999", 1 },
        { "{\"multipleOf\":7}", "1e999999", 0 },
        { "{\"multipleOf\":123456789012345678}", "246913578024691356", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"minimum\":1.5}", "1", "", "minimum", "must be >= 1.5");
    expect_error("{\"maximum\":-2}", "1", "", "maximum", "must be <= -2");
    expect_error("{\"exclusiveMinimum\":0.001}", "0", "", "exclusiveMinimum",
                 "must be > 0.001");
    expect_error("{\"exclusiveMaximum\":1e400}", "1e401", "",
                 "exclusiveMaximum", "must be < 1e400");
    expect_error("{\"multipleOf\":0.5}", "0.7", "", "multipleOf",
                 "must be a multiple of 0.5");
}


static void
test_kw_combinators(void **state)
{
    static const case_t  c[] = {
        { "{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "2", 1 },
        { "{\"allOf\":[{\"minimum\":1},{\"maximum\":3}]}", "4", 0 },
        { "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "\"a\"", 1 },
        { "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "4", 1 },
        { "{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "2", 0 },
        { "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1", 1 },
        { "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "2.5", 1 },
        { "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3", 0 },
        { "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1.5", 0 },
        { "{\"not\":{\"type\":\"integer\"}}", "\"a\"", 1 },
        { "{\"not\":{\"type\":\"integer\"}}", "1", 0 },
        { "{\"not\":true}", "1", 0 },
        { "{\"not\":false}", "1", 1 },
        { "{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2},"
          "\"else\":{\"multipleOf\":3}}", "4", 1 },
        { "{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2},"
          "\"else\":{\"multipleOf\":3}}", "3", 0 },
        { "{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2},"
          "\"else\":{\"multipleOf\":3}}", "-3", 1 },
        { "{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2},"
          "\"else\":{\"multipleOf\":3}}", "-2", 0 },
        { "{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2}}", "-3", 1 },
        { "{\"if\":{\"minimum\":0},\"else\":{\"multipleOf\":2}}", "3", 1 },
        { "{\"then\":false}", "3", 1 },
        { "true", "{\"any\":[1]}", 1 },
        { "false", "null", 0 },
        { "{}", "null", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"allOf\":[{\"minimum\":5}]}", "4", "", "minimum",
                 "must be >= 5");
    expect_error("{\"anyOf\":[{\"minimum\":5},{\"type\":\"string\"}]}", "4",
                 "", "anyOf", "must match at least one schema of \"anyOf\"");
    expect_error("{\"oneOf\":[{\"minimum\":5},{\"type\":\"string\"}]}", "4",
                 "", "oneOf", "must match one schema of \"oneOf\"");
    expect_error("{\"oneOf\":[{\"minimum\":1},{\"maximum\":9}]}", "4",
                 "", "oneOf", "matches more than one schema of \"oneOf\"");
    expect_error("{\"not\":{}}", "4", "", "not",
                 "must not match the schema of \"not\"");
    expect_error("{\"if\":true,\"then\":{\"maximum\":1}}", "4", "",
                 "maximum", "must be <= 1");
    expect_error("{\"if\":false,\"else\":{\"maximum\":1}}", "4", "",
                 "maximum", NULL);
    expect_error("false", "4", "", "false", "no value is allowed here");
}


static void
test_kw_refs(void **state)
{
    static const case_t  c[] = {
        /* "#": the root, recursion through properties and items */
        { "{\"properties\":{\"next\":{\"$ref\":\"#\"}},"
          "\"additionalProperties\":false}",
          "{\"next\":{\"next\":{\"next\":{}}}}", 1 },
        { "{\"properties\":{\"next\":{\"$ref\":\"#\"}},"
          "\"additionalProperties\":false}",
          "{\"next\":{\"next\":{\"x\":{}}}}", 0 },
        { "{\"items\":{\"$ref\":\"#\"},\"type\":\"array\"}",
          "[[[],[[]]],[]]", 1 },
        { "{\"items\":{\"$ref\":\"#\"},\"type\":\"array\"}", "[[[],[1]]]", 0 },
        { "{\"definitions\":{\"a\":{\"type\":\"integer\"},"
          "\"b\":{\"$ref\":\"#/definitions/a\"}},"
          "\"$ref\":\"#/definitions/b\"}", "5", 1 },
        { "{\"definitions\":{\"a\":{\"type\":\"integer\"},"
          "\"b\":{\"$ref\":\"#/definitions/a\"}},"
          "\"$ref\":\"#/definitions/b\"}", "\"5\"", 0 },
        /* pointer escapes ~0 ~1 and percent-encoding */
        { "{\"definitions\":{\"a/b\":{\"type\":\"integer\"},"
          "\"c~d\":{\"type\":\"string\"},\"e%f\":{\"type\":\"null\"},"
          "\"g h\":{\"type\":\"boolean\"}},"
          "\"properties\":{\"1\":{\"$ref\":\"#/definitions/a~1b\"},"
          "\"2\":{\"$ref\":\"#/definitions/c~0d\"},"
          "\"3\":{\"$ref\":\"#/definitions/e%25f\"},"
          "\"4\":{\"$ref\":\"#/definitions/g%20h\"}}}",
          "{\"1\":1,\"2\":\"s\",\"3\":null,\"4\":true}", 1 },
        { "{\"definitions\":{\"a/b\":{\"type\":\"integer\"}},"
          "\"properties\":{\"1\":{\"$ref\":\"#/definitions/a~1b\"}}}",
          "{\"1\":\"x\"}", 0 },
        /* into arrays of schemas and any schema position */
        { "{\"items\":[{\"type\":\"integer\"},{\"$ref\":\"#/items/0\"}]}",
          "[1,2]", 1 },
        { "{\"items\":[{\"type\":\"integer\"},{\"$ref\":\"#/items/0\"}]}",
          "[1,\"x\"]", 0 },
        { "{\"properties\":{\"a\":{\"minimum\":3},"
          "\"b\":{\"$ref\":\"#/properties/a\"}}}", "{\"b\":2}", 0 },
        { "{\"$ref\":\"#/definitions/t\",\"definitions\":{\"t\":true}}",
          "1", 1 },
        { "{\"$ref\":\"#/definitions/f\",\"definitions\":{\"f\":false}}",
          "1", 0 },
        /* draft-07: siblings of $ref are ignored (and warned about) */
        { "{\"definitions\":{\"a\":{\"type\":\"array\"}},\"properties\":"
          "{\"foo\":{\"$ref\":\"#/definitions/a\",\"maxItems\":1}}}",
          "{\"foo\":[1,2,3]}", 1 },
        /* a property named $ref is just a property */
        { "{\"properties\":{\"$ref\":{\"type\":\"string\"}}}",
          "{\"$ref\":2}", 0 },
        /* an in-place cycle that cannot recur: not a loop, accepted */
        { "{\"definitions\":{\"l\":{\"anyOf\":[{\"type\":\"null\"},"
          "{\"properties\":{\"n\":{\"$ref\":\"#/definitions/l\"}}}]}},"
          "\"$ref\":\"#/definitions/l\"}", "{\"n\":{\"n\":null}}", 1 },
        { "{\"$id\":\"https://example.com/s.json\","
          "\"$schema\":\"http://json-schema.org/draft-07/schema#\","
          "\"title\":\"t\",\"description\":\"d\",\"$comment\":\"c\","
          "\"default\":{\"unknown\":1},\"examples\":[1]}", "1", 1 },
    };

    (void) state;

    expect_cases(c, sizeof(c) / sizeof(c[0]));

    expect_error("{\"definitions\":{\"p\":{\"minimum\":0}},\"properties\":"
                 "{\"a\":{\"$ref\":\"#/definitions/p\"}}}", "{\"a\":-1}",
                 "/a", "minimum", "must be >= 0");
    expect_error("{\"definitions\":{\"f\":false},\"properties\":"
                 "{\"a\":{\"$ref\":\"#/definitions/f\"}}}", "{\"a\":-1}",
                 "/a", "$ref", "no value is allowed here");
}


/* ---- compile-time refusals and warnings ------------------------- */


static void
test_compile_refusals(void **state)
{
    char    *deep;
    size_t   i;

    static const refusal_t  r[] = {
        /* the example of the brief, exactly */
        { "{\"properties\":{\"a\":{\"format\":\"hostname\"}}}",
          "schema.json: #/properties/a/format: unsupported format "
          "\"hostname\"" },
        { "{\"type\":\"string\",\n\"x\":1}",
          "schema.json: #/x: unsupported keyword" },
        { "{\"properties\":{\"a/b\":{\"dependencies\":{}}}}",
          "schema.json: #/properties/a~1b/dependencies: unsupported keyword" },
        { "{\"items\":[{},{\"contentMediaType\":\"text/html\"}]}",
          "#/items/1/contentMediaType: unsupported keyword" },
        { "{\"readOnly\":true}", "#/readOnly: unsupported keyword" },
        { "{\"definitions\":{\"x\":{\"$recursiveRef\":\"#\"}}}",
          "#/definitions/x/$recursiveRef: unsupported keyword" },
        { "{\"not\":{\"format\":\"regex\"}}",
          "#/not/format: unsupported format \"regex\"" },
        { "{\"format\":1}", "#/format: must be a string" },
        { "[]", "schema.json: #: a schema must be an object or a boolean" },
        { "{\"properties\":{\"a\":1}}",
          "#/properties/a: a schema must be an object or a boolean" },
        { "{\"not\":null}", "#/not: a schema must be" },
        { "{\"type\":5}", "#/type: must be a type name or" },
        { "{\"type\":[]}", "#/type: must be a type name or" },
        { "{\"type\":\"str\"}", "#/type: unknown type \"str\"" },
        { "{\"type\":[\"string\",1]}", "#/type/1: must be a type name" },
        { "{\"type\":[\"string\",\"string\"]}", "#/type/1: duplicate type" },
        { "{\"enum\":{}}", "#/enum: must be an array" },
        { "{\"properties\":[]}", "#/properties: must be an object" },
        { "{\"patternProperties\":1}", "#/patternProperties: must be an obj" },
        { "{\"definitions\":1}", "#/definitions: must be an object" },
        { "{\"required\":\"a\"}", "#/required: must be an array of strings" },
        { "{\"required\":[\"a\",1]}", "#/required/1: must be a string" },
        { "{\"required\":[\"a\",\"b\",\"a\"]}", "#/required/2: duplicate" },
        { "{\"minLength\":-1}", "#/minLength: must be a non-negative integer" },
        { "{\"maxItems\":1.5}", "#/maxItems: must be a non-negative integer" },
        { "{\"minProperties\":\"1\"}", "#/minProperties: must be a non-neg" },
        { "{\"uniqueItems\":1}", "#/uniqueItems: must be a boolean" },
        { "{\"pattern\":1}", "#/pattern: must be a string" },
        { "{\"pattern\":\"(\"}", "#/pattern: invalid regex: missing closing "
          "parenthesis at offset 1" },
        { "{\"patternProperties\":{\"a[\":{}}}",
          "#/patternProperties/a[: invalid regex" },
        { "{\"minimum\":\"1\"}", "#/minimum: must be a number" },
        { "{\"exclusiveMaximum\":true}", "#/exclusiveMaximum: must be a num" },
        { "{\"multipleOf\":0}", "#/multipleOf: must be greater than 0" },
        { "{\"multipleOf\":-2}", "#/multipleOf: must be greater than 0" },
        { "{\"multipleOf\":1.0000000000000000001}",
          "#/multipleOf: more than 18 significant digits" },
        { "{\"allOf\":[]}", "#/allOf: must be a non-empty array of schemas" },
        { "{\"anyOf\":{}}", "#/anyOf: must be a non-empty array of schemas" },
        { "{\"oneOf\":[{},3]}", "#/oneOf/1: a schema must be" },
        { "{\"items\":[]}", "#/items: must be a non-empty array of schemas" },
        { "{\"title\":1}", "#/title: must be a string" },
        { "{\"examples\":1}", "#/examples: must be an array" },
        { "{\"$comment\":[]}", "#/$comment: must be a string" },
        { "{\"$schema\":\"http://json-schema.org/draft-04/schema#\"}",
          "#/$schema: only draft-07" },
        { "{\"properties\":{\"a\":{\"$schema\":"
          "\"http://json-schema.org/draft-07/schema#\"}}}",
          "#/properties/a/$schema: only allowed at the root" },
        { "{\"items\":{\"$id\":\"http://x/y\"}}",
          "#/items/$id: only allowed at the root" },
        { "{\"$id\":5}", "#/$id: must be a string" },
        { "{\"$ref\":5}", "#/$ref: must be a string" },
        { "{\"$ref\":\"http://json-schema.org/draft-07/schema#\"}",
          "schema.json: #/$ref: only local references (\"#\" or \"#/...\") "
          "are supported, not \"http://json-schema.org/draft-07/schema#\"" },
        { "{\"properties\":{\"a\":{\"$ref\":\"other.json#/x\"}}}",
          "#/properties/a/$ref: only local references" },
        { "{\"$ref\":\"#foo\"}", "#/$ref: only JSON pointer fragments" },
        { "{\"$ref\":\"#/definitions/none\"}",
          "#/$ref: \"#/definitions/none\" does not resolve" },
        { "{\"$ref\":\"#/items/1\",\"items\":[{}]}",
          "#/$ref: \"#/items/1\" does not resolve" },
        { "{\"$ref\":\"#/items/01\",\"items\":[{},{}]}", "does not resolve" },
        { "{\"$ref\":\"#/type/x\",\"type\":\"string\"}", "does not resolve" },
        { "{\"$ref\":\"#/properties\",\"properties\":{}}",
          "#/$ref: \"#/properties\" does not point to a schema" },
        { "{\"$ref\":\"#/enum/0\",\"enum\":[{}]}", "does not point to a sch" },
        { "{\"$ref\":\"#/default\",\"default\":{}}", "does not point to a s" },
        { "{\"$ref\":\"#/a~2b\"}", "#/$ref: invalid JSON pointer fragment" },
        { "{\"$ref\":\"#/a%zz\"}", "#/$ref: invalid JSON pointer fragment" },
        { "{\"$ref\":\"#/a%2\"}", "#/$ref: invalid JSON pointer fragment" },
        /* cycles that would never advance in the instance */
        { "{\"$ref\":\"#\"}",
          "schema.json: #/$ref: reference cycle that never advances" },
        { "{\"definitions\":{\"a\":{\"allOf\":[{\"$ref\":"
          "\"#/definitions/a\"}]}},\"properties\":{\"p\":{\"$ref\":"
          "\"#/definitions/a\"}}}",
          "#/definitions/a/allOf/0/$ref: reference cycle" },
        { "{\"definitions\":{\"a\":{\"not\":{\"$ref\":\"#/definitions/b\"}},"
          "\"b\":{\"if\":{\"$ref\":\"#/definitions/a\"},\"then\":{}}}}",
          "reference cycle that never advances in the instance" },
        { "{\"anyOf\":[{\"type\":\"null\"},{\"$ref\":\"#\"}]}",
          "#/anyOf/1/$ref: reference cycle" },
        /* the schema text itself */
        { "{\"type\":\"string\",}", "schema.json: invalid JSON at line 1, "
          "column 18: not JSON" },
        { "{\n  \"type\": \"string\",\n  \"type\": \"number\"\n}",
          "schema.json: invalid JSON at line 4, column 1: duplicate object "
          "member name" },
        { "{\"pattern\":\"\xc0\xaf\"}", "invalid JSON at line 1, column 13: "
          "invalid UTF-8" },
        { "", "schema.json: invalid JSON at line 1, column 1: not JSON" },
    };

    (void) state;

    for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        refuse(r[i].schema, r[i].want);
    }

    /* 129 levels of schema nesting is more than a schema file may have */
    deep = malloc(129 * 10 + 2);
    assert_non_null(deep);
    deep[0] = '\0';

    for (i = 0; i < 129; i++) {
        strcat(deep, "{\"not\":");
    }

    strcat(deep, "{}");

    for (i = 0; i < 129; i++) {
        strcat(deep, "}");
    }

    refuse(deep, "nesting too deep");
    free(deep);
}


static void
test_compile_warnings(void **state)
{
    size_t                i;
    compliance_schema_t  *s;

    static const struct {
        const char  *schema;
        size_t       n;
        const char  *want;
    } w[] = {
        { "{\"definitions\":{\"a\":{}},\"properties\":{\"f\":{\"$ref\":"
          "\"#/definitions/a\",\"maxItems\":2}}}", 1,
          "t.json: #/properties/f: keywords next to \"$ref\" are ignored "
          "(draft-07)" },
        { "{\"$ref\":\"#/definitions/a\",\"definitions\":{\"a\":{}},"
          "\"description\":\"d\",\"title\":\"t\"}", 0, NULL },
        { "{\"then\":{}}", 1, "t.json: #: \"then\" and \"else\" without "
          "\"if\" are ignored" },
        { "{\"items\":{\"else\":{}}}", 1, "t.json: #/items: \"then\"" },
        { "{\"if\":{}}", 1, "t.json: #/if: \"if\" without \"then\" or "
          "\"else\" has no effect" },
        { "{\"additionalItems\":false}", 1, "t.json: #/additionalItems: "
          "ignored unless \"items\" is an array" },
        { "{\"items\":{},\"additionalItems\":false}", 1, "ignored unless" },
        { "{\"items\":[{}],\"additionalItems\":false}", 0, NULL },
    };

    (void) state;

    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        s = compile_ok(w[i].schema);

        assert_int_equal(compliance_schema_nwarnings(s), w[i].n);

        if (w[i].n && strstr(compliance_schema_warning(s, 0), w[i].want)
                      == NULL)
        {
            fail_msg("%s: warning \"%s\"", w[i].schema,
                     compliance_schema_warning(s, 0));
        }

        assert_null(compliance_schema_warning(s, w[i].n));
        compliance_schema_free(s);
    }

    compliance_schema_free(NULL);
}


/* ---- errors and limits ------------------------------------------ */


static void
test_error_table(void **state)
{
    char                         text[512];
    size_t                       i, n;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;

    (void) state;

    /* at most 20 errors, then "more" */
    n = (size_t) sprintf(text, "[");
    for (i = 0; i < 30; i++) {
        n += (size_t) sprintf(text + n, "%s%zu", i ? "," : "", i);
    }

    strcpy(text + n, "]");

    s = compile_ok("{\"items\":{\"type\":\"string\"}}");
    assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.nerrors, COMPLIANCE_SCHEMA_MAX_ERRORS);
    assert_int_equal(res.more, 1);
    assert_int_equal(res.aborted, 0);

    for (i = 0; i < res.nerrors; i++) {
        sprintf(text, "/%zu", i);
        assert_string_equal(res.errors[i].pointer, text);
        assert_string_equal(res.errors[i].keyword, "type");
    }

    /* exactly 20: not "more" */
    assert_int_equal(run(s, "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,"
                            "19]", &res), COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.nerrors, 20);
    assert_int_equal(res.more, 0);
    compliance_schema_free(s);

    /* several keywords of one schema each report */
    s = compile_ok("{\"type\":\"object\",\"required\":[\"id\",\"qty\"],"
                   "\"properties\":{\"items\":{\"items\":{\"properties\":"
                   "{\"qty\":{\"minimum\":1}}}}},\"minProperties\":5}");
    assert_int_equal(run(s, "{\"items\":[{\"qty\":0},{\"qty\":2}]}", &res),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.nerrors, 4);
    assert_non_null(find_error(&res, "", "minProperties"));
    assert_non_null(find_error(&res, "/id", "required"));
    assert_non_null(find_error(&res, "/qty", "required"));
    assert_non_null(find_error(&res, "/items/0/qty", "minimum"));
    compliance_schema_free(s);

    /* RFC 6901 escaping in pointers, names with any bytes */
    expect_error("{\"properties\":{\"a/b\":{\"properties\":{\"~\":"
                 "{\"type\":\"string\"}}}}}", "{\"a/b\":{\"~\":1}}",
                 "/a~1b/~0", "type", NULL);
    expect_error("{\"additionalProperties\":false}", "{\"\":1}", "/",
                 "additionalProperties", NULL);
    expect_error("{\"additionalProperties\":false}", "{\"~1\":1}", "/~01",
                 "additionalProperties", NULL);

    /* a NUL byte in a name: the pointer is counted, not cut at it */
    {
        compliance_schema_result_t   res;
        compliance_schema_t         *sc;

        sc = compile_ok("{\"additionalProperties\":false}");
        assert_int_equal(run(sc, "{\"a\\u0000b\":1}", &res),
                         COMPLIANCE_SCHEMA_INVALID);
        assert_int_equal(res.nerrors, 1);
        assert_int_equal(res.errors[0].pointer_len, 4);
        assert_memory_equal(res.errors[0].pointer, "/a\0b", 4);
        compliance_schema_free(sc);
    }
}


/* what a client sent never appears in a message */
static void
test_no_echo(void **state)
{
    size_t                       i;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;

    static const char  *secret = "SECRET-4111111111111111";

    (void) state;

    s = compile_ok("{\"properties\":{\"v\":{\"type\":\"integer\","
                   "\"enum\":[\"a\"],\"const\":\"b\",\"maxLength\":3,"
                   "\"pattern\":\"^x\",\"format\":\"email\",\"not\":{},"
                   "\"anyOf\":[{\"format\":\"uuid\"}],\"oneOf\":[false]}},"
                   "\"patternProperties\":{\"^w\":{\"format\":\"date\"}},"
                   "\"propertyNames\":{\"maxLength\":3},"
                   "\"additionalProperties\":{\"type\":\"null\"}}");

    assert_int_equal(run(s, "{\"v\":\"SECRET-4111111111111111\","
                            "\"w\":\"SECRET-4111111111111111\","
                            "\"x\":\"SECRET-4111111111111111\"}", &res),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_true(res.nerrors >= 10);

    for (i = 0; i < res.nerrors; i++) {
        assert_null(strstr(res.errors[i].message, "SECRET"));
        assert_null(strstr(res.errors[i].message, secret + 7));
        assert_null(strstr(res.errors[i].pointer, "SECRET"));
    }

    compliance_schema_free(s);
}


static void
test_redos_bounded(void **state)
{
    char                        *text;
    double                       t0, t;
    size_t                       i;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;

    static const char  *schemas[] = {
        "{\"pattern\":\"^(a+)+$\"}",
        /* a limit inside "not" must not make the "not" pass */
        "{\"not\":{\"pattern\":\"^(a|aa)+$\"}}",
        "{\"anyOf\":[{\"pattern\":\"^(a+)+$\"},true]}",
    };

    (void) state;

    text = malloc(100000 + 8);
    assert_non_null(text);

    text[0] = '"';
    memset(text + 1, 'a', 100000);
    strcpy(text + 100001, "!\"");

    for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
        s = compile_ok(schemas[i]);

        t0 = now();
        assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_INVALID);
        t = now() - t0;

        assert_int_equal(res.aborted, 1);
        assert_string_equal(res.errors[res.nerrors - 1].keyword, "pattern");
        assert_string_equal(res.errors[res.nerrors - 1].message,
                            "pattern evaluation exceeded its limit");
        print_message("# %s against 100,000 bytes: two validations in "
                      "%.1f ms\n", schemas[i], t * 1e3);
        assert_true(t < 1.0);

        compliance_schema_free(s);
    }

    /* the limit leaves ordinary patterns on long strings alone */
    text[0] = '"';
    memset(text + 1, 'a', 100000);
    strcpy(text + 100001, "\"");

    s = compile_ok("{\"pattern\":\"^[a-z]+$\",\"allOf\":[{\"pattern\":"
                   "\"[ab]*\"},{\"pattern\":\"a{3}$\"},{\"pattern\":"
                   "\"^(?:a+b?)*$\"}]}");
    assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_VALID);
    compliance_schema_free(s);

    /* a repeated group uses JIT stack: fine to 20,000, not to 100,000 */
    s = compile_ok("{\"pattern\":\"^(a|b)*$\"}");
    assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.aborted, 1);
    assert_string_equal(res.errors[0].message,
                        "pattern evaluation exceeded its limit");
    strcpy(text + 20001, "\"");
    assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_VALID);
    compliance_schema_free(s);

    /* a member name against a backtracking patternProperties regex */
    text[0] = '{';
    text[1] = '"';
    memset(text + 2, 'a', 50000);
    strcpy(text + 50002, "!\":1}");

    s = compile_ok("{\"patternProperties\":{\"^(a+)+$\":true},"
                   "\"additionalProperties\":true}");
    assert_int_equal(run(s, text, &res), COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.aborted, 1);
    assert_string_equal(res.errors[0].keyword, "patternProperties");
    compliance_schema_free(s);

    free(text);
}


static void
test_work_limits(void **state)
{
    int                          rc;
    char                        *text;
    size_t                       i, n, off;
    compliance_arena_t           a;
    compliance_jnode_t          *root;
    compliance_schema_t         *s;
    compliance_schema_result_t   res;
    u_char                       tiny[2];

    (void) state;

    /* the step budget */
    s = compile_ok("{\"items\":{\"type\":\"integer\"}}");
    root = parse("[1,2,3,4,5,6,7,8,9,10,11,12]", &rc);
    assert_int_equal(compliance_schema_validate(s, root, &arena, 5, &res),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.aborted, 1);
    assert_string_equal(res.errors[0].message,
                        "validation stopped: work limit reached");
    assert_int_equal(compliance_schema_validate(s, root, &arena, 5, NULL),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(compliance_schema_validate(s, root, &arena, 13, &res),
                     COMPLIANCE_SCHEMA_VALID);

    /* the arena: a pointer that does not fit is ENOMEM, not a crash */
    root = parse("[\"x\",\"y\",\"z\"]", &rc);
    compliance_arena_init(&a, tiny, sizeof(tiny), NULL, NULL, 0);
    assert_int_equal(compliance_schema_validate(s, root, &a, 0, &res),
                     COMPLIANCE_SCHEMA_ENOMEM);
    compliance_schema_free(s);

    /* uniqueItems charges n log n before sorting */
    s = compile_ok("{\"uniqueItems\":true}");
    root = parse("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]", &rc);
    assert_int_equal(compliance_schema_validate(s, root, &arena, 40, &res),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_string_equal(res.errors[0].keyword, "uniqueItems");
    assert_int_equal(res.aborted, 1);
    compliance_schema_free(s);

    /* an acyclic chain of 600 in-place $refs: the depth bound stops it */
    text = malloc(600 * 64 + 64);
    assert_non_null(text);

    n = (size_t) sprintf(text, "{\"$ref\":\"#/definitions/d0\","
                               "\"definitions\":{");
    for (i = 0; i < 600; i++) {
        n += (size_t) sprintf(text + n, "\"d%zu\":{\"allOf\":[{\"$ref\":"
                              "\"#/definitions/d%zu\"}]},", i, i + 1);
    }

    sprintf(text + n, "\"d600\":true}}");

    s = compile_ok(text);
    root = parse("1", &rc);
    assert_int_equal(compliance_schema_validate(s, root, &arena, 0, &res),
                     COMPLIANCE_SCHEMA_INVALID);
    assert_int_equal(res.aborted, 1);
    assert_string_equal(res.errors[0].message, "validation stopped: schema "
                        "nesting too deep for this document");
    compliance_schema_free(s);

    /* 64 nested arrays through "#" are fine */
    s = compile_ok("{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}");

    for (i = 0; i < 64; i++) {
        text[i] = '[';
        text[64 + i] = ']';
    }

    rc = compliance_jtree_parse((u_char *) text, 128, 64, fresh(), &root,
                                &off);
    assert_int_equal(rc, COMPLIANCE_JTREE_OK);
    assert_int_equal(compliance_schema_validate(s, root, &arena, 0, &res),
                     COMPLIANCE_SCHEMA_VALID);
    compliance_schema_free(s);

    free(text);
}


static void
bench_one(const compliance_schema_t *s, const char *label, const char *body,
    size_t n)
{
    int                          rc;
    double                       t0, t1;
    size_t                       i, iters, off;
    compliance_arena_t           a;
    compliance_jnode_t          *root;
    compliance_schema_result_t   res;
    static u_char                mem[64 * 1024];

    iters = 20000;
    t0 = now();

    for (i = 0; i < iters; i++) {
        compliance_arena_init(&a, mem, sizeof(mem), NULL, NULL, 0);
        rc = compliance_jtree_parse((u_char *) body, n, 64, &a, &root, &off);
        assert_int_equal(rc, COMPLIANCE_JTREE_OK);
        rc = compliance_schema_validate(s, root, &a, 0, &res);
        assert_int_equal(rc, COMPLIANCE_SCHEMA_VALID);
    }

    t1 = now();

    print_message("# bench parse+validate %zu-byte body, %s: %.2f "
                  "us/request\n", n, label, (t1 - t0) / iters * 1e6);
}


/* about 1 KiB bodies, a 10-property schema: the cost per request */
static void
test_validate_speed(void **state)
{
    char                  body[2048];
    size_t                i, n;
    compliance_schema_t  *s;

    (void) state;

    s = compile_ok("{\"type\":\"object\",\"required\":[\"id\",\"email\"],"
                   "\"additionalProperties\":false,\"properties\":{"
                   "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
                   "\"email\":{\"type\":\"string\",\"format\":\"email\"},"
                   "\"name\":{\"type\":\"string\",\"maxLength\":200},"
                   "\"age\":{\"type\":\"integer\",\"minimum\":0},"
                   "\"score\":{\"type\":\"number\",\"multipleOf\":0.01},"
                   "\"tags\":{\"type\":\"array\",\"items\":{\"type\":"
                   "\"string\",\"pattern\":\"^[a-z0-9-]+$\"},"
                   "\"uniqueItems\":true},"
                   "\"active\":{\"type\":\"boolean\"},"
                   "\"created\":{\"type\":\"string\",\"format\":"
                   "\"date-time\"},"
                   "\"note\":{\"type\":[\"string\",\"null\"]},"
                   "\"kind\":{\"enum\":[\"a\",\"b\",\"c\"]}}}");

    /* ten members, long strings */
    n = (size_t) sprintf(body, "{\"id\":\"123e4567-e89b-12d3-a456-"
                         "426614174000\",\"email\":\"joe@example.com\","
                         "\"name\":\"Joe Example\",\"age\":42,"
                         "\"score\":97.25,\"active\":true,"
                         "\"created\":\"2024-05-01T10:00:00Z\","
                         "\"kind\":\"b\",\"tags\":[\"blue\",\"green\"],"
                         "\"note\":\"");
    while (n < 1020) {
        n += (size_t) sprintf(body + n, "lorem ipsum ");
    }

    n += (size_t) sprintf(body + n, "\"}");
    bench_one(s, "10 members", body, n);

    /* the same with ~90 tags: a pattern and uniqueItems on each */
    n = (size_t) sprintf(body, "{\"id\":\"123e4567-e89b-12d3-a456-"
                         "426614174000\",\"email\":\"joe@example.com\","
                         "\"name\":\"Joe Example\",\"age\":42,"
                         "\"score\":97.25,\"active\":true,"
                         "\"created\":\"2024-05-01T10:00:00Z\","
                         "\"kind\":\"b\",\"note\":null,\"tags\":[");
    for (i = 0; n < 1020; i++) {
        n += (size_t) sprintf(body + n, "%s\"tag-%zu\"", i ? "," : "", i);
    }

    n += (size_t) sprintf(body + n, "]}");
    bench_one(s, "90 array items", body, n);

    compliance_schema_free(s);
}


/* ---- draft7 conformance ----------------------------------------- */


/*
 * The files of the suite that are run: one per supported keyword, plus
 * the optional files about numbers and the formats of SPEC section 11.
 */
static const char *const  suite_run[] = {
    "additionalItems.json", "additionalProperties.json", "allOf.json",
    "anyOf.json", "boolean_schema.json", "const.json", "contains.json",
    "default.json", "enum.json", "exclusiveMaximum.json",
    "exclusiveMinimum.json", "if-then-else.json", "items.json",
    "maxItems.json", "maxLength.json", "maxProperties.json", "maximum.json",
    "minItems.json", "minLength.json", "minProperties.json", "minimum.json",
    "multipleOf.json", "not.json", "oneOf.json", "pattern.json",
    "patternProperties.json", "properties.json", "propertyNames.json",
    "ref.json", "required.json", "type.json", "uniqueItems.json",
    "optional/bignum.json", "optional/zeroTerminatedFloats.json",
    "optional/format/date-time.json", "optional/format/date.json",
    "optional/format/email.json", "optional/format/ipv4.json",
    "optional/format/ipv6.json", "optional/format/uuid.json",
    NULL
};


/* not run: every schema in them must be refused at compile time */
static const skip_file_t  suite_skip[] = {
    { "definitions.json", "validates against the draft-07 meta-schema, a "
      "remote $ref", "only local references" },
    { "dependencies.json", "\"dependencies\" is not a supported keyword",
      "unsupported keyword" },
    { "refRemote.json", "remote references and nested \"$id\" base URIs",
      "only local references|only allowed at the root" },
    { "optional/content.json", "contentMediaType/contentEncoding are not "
      "supported keywords", "unsupported keyword" },
    { "optional/ecmascript-regex.json", "format \"regex\" is not supported",
      "unsupported format" },
    { "optional/format/hostname.json", "format not supported",
      "unsupported format" },
    { "optional/format/idn-email.json", "format not supported",
      "unsupported format" },
    { "optional/format/idn-hostname.json", "format not supported",
      "unsupported format" },
    { "optional/format/iri-reference.json", "format not supported",
      "unsupported format" },
    { "optional/format/iri.json", "format not supported",
      "unsupported format" },
    { "optional/format/json-pointer.json", "format not supported",
      "unsupported format" },
    { "optional/format/regex.json", "format not supported",
      "unsupported format" },
    { "optional/format/relative-json-pointer.json", "format not supported",
      "unsupported format" },
    { "optional/format/time.json", "format not supported",
      "unsupported format" },
    { "optional/format/uri-reference.json", "format not supported",
      "unsupported format" },
    { "optional/format/uri-template.json", "format not supported",
      "unsupported format" },
    { "optional/format/uri.json", "format not supported",
      "unsupported format" },
    { NULL, NULL, NULL }
};


/* groups of run files that are refused by design, with the refusal */
static const skip_group_t  suite_skip_groups[] = {
    { "ref.json", "escaped pointer ref",
      "the $ref targets are unknown keywords at the root (\"tilda~field\", "
      "\"slash/field\", \"percent%field\"): unknown keywords are refused; "
      "the same escapes under \"definitions\" are in test_kw_refs",
      "unsupported keyword" },
    { "ref.json", "remote ref, containing refs itself",
      "$ref to the remote draft-07 meta-schema", "only local references" },
    { "ref.json", "Recursive references between schemas",
      "resolution by nested \"$id\" base URIs", "only allowed at the root" },
    { NULL, NULL, NULL, NULL }
};


static void
sb_put(sbuf_t *b, const void *p, size_t len)
{
    u_char  *n;

    if (b->len + len + 1 > b->size) {
        b->size = (b->len + len + 1) * 2;
        n = realloc(b->p, b->size);
        assert_non_null(n);
        b->p = n;
    }

    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}


static void
sb_str(sbuf_t *b, const u_char *s, size_t len)
{
    u_char  *e;
    size_t   n;

    n = compliance_json_escape_len(s, len);
    sb_put(b, "\"", 1);

    if (b->len + n + 2 > b->size) {
        sb_put(b, "", 0);
        b->size = b->len + n + 64;
        b->p = realloc(b->p, b->size);
        assert_non_null(b->p);
    }

    e = compliance_json_escape(b->p + b->len, s, len);
    b->len = (size_t) (e - b->p);
    sb_put(b, "\"", 1);
}


/* JSON text of a parsed value; numbers as 0.DDDe<exp>, exactly */
static void
serialize(sbuf_t *b, const compliance_jnode_t *n)
{
    char                       num[32];
    const compliance_jnode_t  *e;

    switch (n->type) {
    case COMPLIANCE_JNULL:
        sb_put(b, "null", 4);
        break;
    case COMPLIANCE_JTRUE:
        sb_put(b, "true", 4);
        break;
    case COMPLIANCE_JFALSE:
        sb_put(b, "false", 5);
        break;
    case COMPLIANCE_JSTRING:
        sb_str(b, n->u.str.data, n->u.str.len);
        break;
    case COMPLIANCE_JNUMBER:
        if (n->u.num.ndigits == 0) {
            sb_put(b, "0", 1);
            break;
        }

        sb_put(b, n->neg ? "-0." : "0.", n->neg ? 3 : 2);
        sb_put(b, n->u.num.digits, n->u.num.ndigits);
        sb_put(b, num, (size_t) sprintf(num, "e%lld",
                                        (long long) n->u.num.exp));
        break;
    case COMPLIANCE_JARRAY:
        sb_put(b, "[", 1);

        for (e = n->u.kids.first; e != NULL; e = e->next) {
            serialize(b, e);

            if (e->next) {
                sb_put(b, ",", 1);
            }
        }

        sb_put(b, "]", 1);
        break;
    default:
        sb_put(b, "{", 1);

        for (e = n->u.kids.first; e != NULL; e = e->next) {
            sb_str(b, e->key, e->key_len);
            sb_put(b, ":", 1);
            serialize(b, e);

            if (e->next) {
                sb_put(b, ",", 1);
            }
        }

        sb_put(b, "}", 1);
        break;
    }
}


static u_char *
read_file(const char *path, size_t *len)
{
    FILE    *f;
    u_char  *p;
    long     n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc((size_t) n + 1);
    if (p == NULL || fread(p, 1, (size_t) n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    *len = (size_t) n;

    return p;
}


static int
in_list(const char *rel, const char *const *list)
{
    size_t  i;

    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], rel) == 0) {
            return 1;
        }
    }

    return 0;
}


/* s contains one of the '|'-separated alternatives */
static int
has_any(const char *s, const char *alternatives)
{
    char         one[128];
    size_t       n;
    const char  *p, *bar;

    for (p = alternatives; *p; p = bar + (*bar == '|')) {
        bar = strchr(p, '|');
        if (bar == NULL) {
            bar = p + strlen(p);
        }

        n = (size_t) (bar - p) < sizeof(one) - 1 ? (size_t) (bar - p)
                                                 : sizeof(one) - 1;
        memcpy(one, p, n);
        one[n] = '\0';

        if (strstr(s, one) != NULL) {
            return 1;
        }
    }

    return 0;
}


typedef struct {
    unsigned    files;
    unsigned    passed;
    unsigned    excluded;
    unsigned    groups_excluded;
    unsigned    skipped_files;
    unsigned    skipped_cases;
    unsigned    failures;
} suite_counts_t;


static u_char             suite_mem[ARENA_SIZE];


/* one file: every group compiled, every test validated (or refused) */
static void
suite_file(const char *dir, const char *rel, const skip_file_t *skip,
    suite_counts_t *sc)
{
    int                          rc, valid;
    char                         path[1024], err[512];
    u_char                      *text;
    size_t                       len = 0, off, i;
    sbuf_t                       sb;
    compliance_arena_t           fa;
    compliance_jnode_t          *doc, *inst;
    compliance_schema_t         *s;
    const compliance_jnode_t    *g, *t, *desc, *sch, *tests, *data, *v;
    const skip_group_t          *sg;
    compliance_schema_result_t   res;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);

    text = read_file(path, &len);
    if (text == NULL) {
        fail_msg("%s: %s", path, strerror(errno));
    }

    compliance_arena_init(&fa, suite_mem, sizeof(suite_mem), NULL, NULL, 0);

    rc = compliance_jtree_parse(text, len, COMPLIANCE_SCHEMA_DOC_DEPTH, &fa,
                                &doc, &off);
    if (rc != COMPLIANCE_JTREE_OK || doc->type != COMPLIANCE_JARRAY) {
        fail_msg("%s: not a test file (%s at %zu)", path,
                 compliance_jtree_strerror(rc), off);
    }

    memset(&sb, 0, sizeof(sb));

    for (g = doc->u.kids.first; g != NULL; g = g->next) {
        desc = compliance_jtree_get(g, (const u_char *) "description", 11);
        sch = compliance_jtree_get(g, (const u_char *) "schema", 6);
        tests = compliance_jtree_get(g, (const u_char *) "tests", 5);
        assert_non_null(desc);
        assert_non_null(sch);
        assert_non_null(tests);

        sb.len = 0;
        serialize(&sb, sch);

        s = compliance_schema_compile((char *) sb.p, sb.len, rel, err,
                                      sizeof(err));

        for (sg = suite_skip_groups; skip == NULL && sg->file != NULL; sg++) {
            if (strcmp(sg->file, rel) == 0
                && desc->u.str.len == strlen(sg->group)
                && memcmp(desc->u.str.data, sg->group, desc->u.str.len) == 0)
            {
                break;
            }
        }

        if (skip != NULL || (sg != NULL && sg->file != NULL)) {
            /* refused, as it must be, with the expected reason */
            if (s != NULL || !has_any(err, skip ? skip->refusal
                                                : sg->refusal))
            {
                print_message("FAIL %s: \"%.*s\": expected a refusal (%s), "
                              "got: %s\n", rel, (int) desc->u.str.len,
                              desc->u.str.data,
                              skip ? skip->refusal : sg->refusal,
                              s ? "compiled" : err);
                sc->failures++;
                compliance_schema_free(s);
                continue;
            }

            if (skip != NULL) {
                sc->skipped_cases += (unsigned) tests->u.kids.count;

            } else {
                print_message("# excluded %s: \"%s\" (%u cases): %s\n", rel,
                              sg->group, (unsigned) tests->u.kids.count,
                              sg->reason);
                sc->excluded += (unsigned) tests->u.kids.count;
                sc->groups_excluded++;
            }

            continue;
        }

        if (s == NULL) {
            print_message("FAIL %s: \"%.*s\": schema refused: %s\n", rel,
                          (int) desc->u.str.len, desc->u.str.data, err);
            sc->failures += (unsigned) tests->u.kids.count;
            continue;
        }

        for (t = tests->u.kids.first; t != NULL; t = t->next) {
            data = compliance_jtree_get(t, (const u_char *) "data", 4);
            v = compliance_jtree_get(t, (const u_char *) "valid", 5);
            assert_non_null(data);
            assert_non_null(v);

            valid = (v->type == COMPLIANCE_JTRUE);

            /* the data goes through the request-body parser as text */
            sb.len = 0;
            serialize(&sb, data);

            rc = compliance_jtree_parse(sb.p, sb.len,
                                        COMPLIANCE_JTREE_MAX_DEPTH, fresh(),
                                        &inst, &off);
            if (rc != COMPLIANCE_JTREE_OK) {
                fail_msg("%s: data %s: %s", rel, sb.p,
                         compliance_jtree_strerror(rc));
            }

            rc = compliance_schema_validate(s, inst, &arena, 0, &res);
            i = (size_t) compliance_schema_validate(s, inst, &arena, 0, NULL);

            if ((rc == COMPLIANCE_SCHEMA_VALID) != valid
                || (size_t) rc != i)
            {
                t = compliance_jtree_get(t, (const u_char *) "description",
                                         11);
                print_message("FAIL %s: \"%.*s\" / \"%.*s\": expected %s\n",
                              rel, (int) desc->u.str.len, desc->u.str.data,
                              (int) t->u.str.len, t->u.str.data,
                              valid ? "valid" : "invalid");
                sc->failures++;
                break;
            }

            sc->passed++;
        }

        compliance_schema_free(s);
    }

    if (skip != NULL) {
        print_message("# skipped %s: %s\n", rel, skip->reason);
        sc->skipped_files++;

    } else {
        sc->files++;
    }

    free(sb.p);
    free(text);
}


/* every file of the suite is run or skipped for a reason: none ignored */
static void
suite_dir(const char *top, const char *sub, suite_counts_t *sc)
{
    char                 path[1024], rel[512];
    DIR                 *d;
    size_t               n;
    struct stat          st;
    struct dirent       *de;
    const skip_file_t   *sk;

    snprintf(path, sizeof(path), "%s%s%s", top, sub[0] ? "/" : "", sub);

    d = opendir(path);
    if (d == NULL) {
        fail_msg("%s: %s", path, strerror(errno));
    }

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }

        snprintf(rel, sizeof(rel), "%s%s%s", sub, sub[0] ? "/" : "",
                 de->d_name);
        snprintf(path, sizeof(path), "%s/%s", top, rel);

        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            suite_dir(top, rel, sc);
            continue;
        }

        n = strlen(rel);
        if (n < 5 || strcmp(rel + n - 5, ".json") != 0) {
            continue;
        }

        if (in_list(rel, suite_run)) {
            suite_file(top, rel, NULL, sc);
            continue;
        }

        for (sk = suite_skip; sk->file != NULL; sk++) {
            if (strcmp(sk->file, rel) == 0) {
                break;
            }
        }

        if (sk->file == NULL) {
            print_message("FAIL %s: a file of the suite that is neither run "
                          "nor skipped for a reason\n", rel);
            sc->failures++;
            continue;
        }

        suite_file(top, rel, sk, sc);
    }

    closedir(d);
}


static void
test_draft7_suite(void **state)
{
    const char      *dir;
    struct stat      st;
    suite_counts_t   sc;

    (void) state;

    dir = getenv(SUITE_ENV);
    if (dir == NULL) {
        dir = SUITE_DEFAULT;
    }

    if (stat(dir, &st) != 0) {
        print_message("# %s: not found (Debian package "
                      "json-schema-test-suite; %s overrides)\n", dir,
                      SUITE_ENV);
        skip();
    }

    memset(&sc, 0, sizeof(sc));

    suite_dir(dir, "", &sc);

    print_message("draft7: %u cases in %u files passed, %u excluded "
                  "(%u groups, reasons above), %u failed; %u files skipped "
                  "(%u cases, every schema refused at compile time)\n",
                  sc.passed, sc.files, sc.excluded, sc.groups_excluded,
                  sc.failures, sc.skipped_files, sc.skipped_cases);

    assert_int_equal(sc.failures, 0);
    assert_true(sc.passed > 300);
}


int
main(void)
{
    int                      rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_depth),
        cmocka_unit_test(test_parse_arena),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_value_order),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_kw_type_enum_const),
        cmocka_unit_test(test_kw_objects),
        cmocka_unit_test(test_kw_arrays),
        cmocka_unit_test(test_kw_strings),
        cmocka_unit_test(test_kw_numbers),
        cmocka_unit_test(test_kw_combinators),
        cmocka_unit_test(test_kw_refs),
        cmocka_unit_test(test_compile_refusals),
        cmocka_unit_test(test_compile_warnings),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_no_echo),
        cmocka_unit_test(test_redos_bounded),
        cmocka_unit_test(test_work_limits),
        cmocka_unit_test(test_draft7_suite),
    };

    /* a benchmark, not a test: run only when asked for */
    const struct CMUnitTest  bench[] = {
        cmocka_unit_test(test_validate_speed),
    };

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (getenv("COMPLIANCE_UNIT_BENCH") != NULL) {
        rc += cmocka_run_group_tests(bench, NULL, NULL);
    }

    return rc;
}
