/*
 * core/compliance_graphql: the lexer, the parser and the limits of
 * compliance_graphql (SPEC 11).
 */

#include "unit.h"
#include "compliance_graphql.h"

#include <time.h>


#define ARENA_SIZE  (1 << 20)

static u_char                        arena_buf[ARENA_SIZE];
static compliance_graphql_result_t   res;
static compliance_graphql_limits_t   lim;


static void defaults(void);
static int run(const char *doc, size_t len, const char *op);
static int chk(const char *doc);
static char *repeat(const char *head, const char *unit, size_t n,
    const char *mid, const char *unit2, size_t n2, const char *tail);


static void
defaults(void)
{
    lim.max_depth = 10;
    lim.max_aliases = 15;
    lim.max_tokens = 1000;
    lim.introspection = 0;
}


static int
run(const char *doc, size_t len, const char *op)
{
    int                  rc;
    compliance_arena_t   a;

    compliance_arena_init(&a, arena_buf, sizeof(arena_buf), NULL, NULL, 0);

    rc = compliance_graphql_check((const u_char *) doc, len,
                                  (const u_char *) op, op ? strlen(op) : 0,
                                  &lim, &a, &res);

    if (rc != COMPLIANCE_GQL_OK) {
        assert_non_null(res.message);
        assert_true(res.offset <= len);
    }

    return rc;
}


static int
chk(const char *doc)
{
    return run(doc, strlen(doc), NULL);
}


/* head unit*n mid unit2*n2 tail, malloc'ed */
static char *
repeat(const char *head, const char *unit, size_t n, const char *mid,
    const char *unit2, size_t n2, const char *tail)
{
    char    *s, *p;
    size_t   i, len;

    len = strlen(head) + strlen(unit) * n + strlen(mid)
          + strlen(unit2) * n2 + strlen(tail) + 1;

    s = malloc(len);
    assert_non_null(s);

    p = s;
    p += sprintf(p, "%s", head);
    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s", unit);
    }
    p += sprintf(p, "%s", mid);
    for (i = 0; i < n2; i++) {
        p += sprintf(p, "%s", unit2);
    }
    sprintf(p, "%s", tail);

    return s;
}


static void
test_valid(void **state)
{
    static const char  *ok[] = {
        "{ a }",
        "{a}",
        "query { a }",
        "query Q { a }",
        "mutation M($x: Int = 3, $y: [String!]! @d) @op { set(v: $x) }",
        "subscription S { s }",
        "query ($a: [[Int!]]! = [[1, 2], [3]]) { f(a: $a) }",
        "{ a: b c: d(e: 1) @skip(if: true) { f } }",
        "{ ... on T { a } ... @include(if: $v) { b } ... { c } }",
        "{ ...F } fragment F on T { a ...G } fragment G on T { b }",
        "query { a(i: -0, j: 12, f: 1.5e-3, g: -2E+10, h: 0.0,"
        " s: \"x\", b: true, n: null, e: ENUM, l: [], o: {},"
        " obj: {k: [1, {z: $v}], w: \"\"}) }",
        "{ a(s: \"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u{1F600}"
        " \\ud83d\\ude00 \\u{0}\") }",
        "{ a(s: \"\"\"block \"quoted\" \\\"\"\" and\nnew\r\nlines\"\"\") }",
        "{ a(s: \"\"\"\"\"\") }",
        "{ a(s: \"\") }",
        "# comment\n{ a # another \xc3\xa9\r b }\n# end",
        "\xef\xbb\xbf{ a }",
        ",,,{,a,,b,}",
        "{ __typename a { __typename } }",
        "{ a(s: \"caf\xc3\xa9 \xf0\x9f\x98\x80\") }",
        "{ on fragment query mutation subscription true null }",
        "{ a(on: on) { ... on on { on } } }",
        "query Q { a } query R { b } fragment F on T { c }",
        "query Q { a } query R { ...F } fragment F on T { c }",
        "{ a(s: \"\t\x01\") }",
        NULL
    };

    const char  **d;

    (void) state;

    defaults();

    for (d = ok; *d; d++) {
        if (chk(*d) != COMPLIANCE_GQL_OK) {
            fail_msg("refused: %s: %s at %zu", *d, res.message, res.offset);
        }
    }

    assert_int_equal(chk("query Q { a } fragment F on T { b } "
                         "fragment G on T { c }"), COMPLIANCE_GQL_OK);
    assert_int_equal(res.operations, 1);
    assert_int_equal(res.fragments, 2);
    assert_null(res.message);
    assert_null(res.limit);
}


static void
test_invalid(void **state)
{
    static const char  *bad[] = {
        "",
        "   \n# only a comment\n",
        "{",
        "}",
        "{ }",
        "{ a",
        "{ a } }",
        "{ a( ) }",
        "{ a(b) }",
        "{ a(b:) }",
        "{ a(b: 1 }",
        "{ a: }",
        "{ a: 1 }",
        "{ a { } }",
        "{ . }",
        "{ .. a }",
        "{ ...  }",
        "{ ... on { a } }",
        "{ ... on T }",
        "{ a @ }",
        "{ a @1 }",
        "query Q",
        "query Q ( ) { a }",
        "query ($a) { a }",
        "query (a: Int) { a }",
        "query ($a: ) { a }",
        "query ($a: [Int) { a }",
        "query ($a: Int!!) { a }",
        "query ($a: Int = $b) { a }",
        "query ($a: Int = [$b]) { a }",
        "query ($a: Int = {k: $b}) { a }",
        "query ($a: Int @d(x: $b)) { a }",
        "fragment F { a }",
        "fragment on on T { a }",
        "fragment F on { a }",
        "fragment F on T",
        "type Query { a: Int }",
        "schema { query: Q }",
        "extend type Q { b: Int }",
        "scalar Date",
        "Query { a }",
        "{ a } b",
        "{ a(x: 01) }",
        "{ a(x: 1.) }",
        "{ a(x: .5) }",
        "{ a(x: 1e) }",
        "{ a(x: 1e+) }",
        "{ a(x: 1a) }",
        "{ a(x: 0x1f) }",
        "{ a(x: 1.5.5) }",
        "{ a(x: -) }",
        "{ a(x: - 1) }",
        "{ a(x: 1_000) }",
        "{ a(s: \"open) }",
        "{ a(s: \"line\nbreak\") }",
        "{ a(s: \"cr\rhere\") }",
        "{ a(s: \"\\x\") }",
        "{ a(s: \"\\u12\") }",
        "{ a(s: \"\\u12G4\") }",
        "{ a(s: \"\\u{}\") }",
        "{ a(s: \"\\u{110000}\") }",
        "{ a(s: \"\\u{D800}\") }",
        "{ a(s: \"\\u{1F600\") }",
        "{ a(s: \"\\ud800\") }",
        "{ a(s: \"\\udc00\") }",
        "{ a(s: \"\\ud800\\u0041\") }",
        "{ a(s: \"\\ud800x\") }",
        "{ a(s: \"\"\"open) }",
        "{ a(s: \"\"\"esc \\\"\"\") }",
        "{ a(s: \"\xc0\xaf\") }",
        "{ a(s: \"\xe0\x80\xaf\") }",
        "{ a(s: \"\xed\xa0\x80\") }",
        "{ a(s: \"\xf4\x90\x80\x80\") }",
        "{ a(s: \"\xc3\") }",
        "{ a(s: \"\x80\") }",
        "{ a } # \xff\n",
        "{ a(s: \"\"\"\xfe\"\"\") }",
        "{ \xc3\xa9 }",
        "{ a ; }",
        "{ a & b }",
        "{ a | b }",
        "{ a(x: [1, 2) }",
        "{ a(x: {k 1}) }",
        "{ a(x: {1: 1}) }",
        "query Q { a } { b }",
        "{ a } query { b }",
        "{ a } { b }",
        "query Q { a } query Q { b }",
        "{ ...F } fragment F on T { a } fragment F on T { b }",
        "{ ...Missing }",
        "{ ...F } fragment F on T { ...G }",
        NULL
    };

    const char  **d;

    (void) state;

    defaults();

    for (d = bad; *d; d++) {
        if (chk(*d) != COMPLIANCE_GQL_EINVALID) {
            fail_msg("accepted or misjudged: %s", *d);
        }

        assert_null(res.limit);
    }

    /* a NUL byte outside a string */
    assert_int_equal(run("{ a\0 }", 6, NULL), COMPLIANCE_GQL_EINVALID);
    assert_int_equal(res.offset, 3);

    /* ... and within one: any scalar value is a string character */
    assert_int_equal(run("{ a(s: \"\0\") }", 13, NULL), COMPLIANCE_GQL_OK);

    /* offsets point at the problem */
    assert_int_equal(chk("{ a(x: 01) }"), COMPLIANCE_GQL_EINVALID);
    assert_int_equal(res.offset, 8);
    assert_int_equal(chk("{ ...Missing }"), COMPLIANCE_GQL_EINVALID);
    assert_int_equal(res.offset, 5);
    assert_string_equal(res.message, "undefined fragment");
}


static void
test_cycles(void **state)
{
    (void) state;

    defaults();

    assert_int_equal(chk("{ ...F } fragment F on T { ...F }"),
                     COMPLIANCE_GQL_EINVALID);
    assert_string_equal(res.message, "fragment cycle");

    assert_int_equal(chk("{ ...A } fragment A on T { b { ...B } } "
                         "fragment B on T { ...C } "
                         "fragment C on T { c { ...A } }"),
                     COMPLIANCE_GQL_EINVALID);
    assert_string_equal(res.message, "fragment cycle");

    /* a cycle among fragments no operation uses is refused too */
    assert_int_equal(chk("{ a } fragment A on T { ...B } "
                         "fragment B on T { ...A }"),
                     COMPLIANCE_GQL_EINVALID);
    assert_string_equal(res.message, "fragment cycle");

    /* inside an inline fragment */
    assert_int_equal(chk("{ ...A } fragment A on T { ... on T { ...A } }"),
                     COMPLIANCE_GQL_EINVALID);

    /* a diamond is not a cycle */
    assert_int_equal(chk("{ ...A ...B } fragment A on T { ...C } "
                         "fragment B on T { ...C } fragment C on T { x }"),
                     COMPLIANCE_GQL_OK);
}


static void
test_depth(void **state)
{
    char  *s;

    (void) state;

    defaults();

    assert_int_equal(chk("{ a }"), COMPLIANCE_GQL_OK);
    assert_int_equal(res.depth, 1);
    assert_int_equal(chk("{ a { b { c } } d }"), COMPLIANCE_GQL_OK);
    assert_int_equal(res.depth, 3);

    /* inline fragments add no level */
    assert_int_equal(chk("{ a { ... on T { b { ... { c } } } } }"),
                     COMPLIANCE_GQL_OK);
    assert_int_equal(res.depth, 3);

    s = repeat("{", " a {", 9, " b", " }", 9, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.depth, 10);
    free(s);

    s = repeat("{", " a {", 10, " b", " }", 10, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EDEPTH);
    assert_string_equal(res.limit, "max_depth");
    assert_int_equal(res.depth, 11);
    free(s);

    /* through fragments: 3 + 4 + 4 = 11 */
    assert_int_equal(chk("{ a { b { c { ...F } } } } "
                         "fragment F on T { d { e { f { g { ...G } } } } } "
                         "fragment G on T { h { i { j { k } } } }"),
                     COMPLIANCE_GQL_EDEPTH);
    assert_string_equal(res.limit, "max_depth");
    assert_int_equal(res.depth, 11);

    /* the same fragments spread higher up: 2 + 4 + 4 = 10 */
    assert_int_equal(chk("{ a { b { ...F } } } "
                         "fragment F on T { d { e { f { g { ...G } } } } } "
                         "fragment G on T { h { i { j { k } } } }"),
                     COMPLIANCE_GQL_OK);
    assert_int_equal(res.depth, 10);

    /* every operation is measured, not only the named one */
    assert_int_equal(run("query A { a } query B { a { b { c { d { e { f "
                         "{ g { h { i { j { k } } } } } } } } } } }",
                         strlen("query A { a } query B { a { b { c { d { e "
                                "{ f { g { h { i { j { k } } } } } } } } } "
                                "} }"), "A"),
                     COMPLIANCE_GQL_EDEPTH);

    /* 10,000 levels: refused at level 11, without recursion */
    s = repeat("{", "a{", 10000, "b", "}", 10000, "}");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EDEPTH);
    assert_true(res.offset < 40);
    free(s);
}


static void
test_nesting(void **state)
{
    char  *s;

    (void) state;

    defaults();
    lim.max_depth = UINT64_MAX;
    lim.max_tokens = UINT64_MAX;

    s = repeat("{", "a{", 10000, "b", "}", 10000, "}");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    assert_string_equal(res.limit, "max_nesting");
    free(s);

    s = repeat("{ a(x: ", "[", 100000, "1", "]", 100000, ") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    free(s);

    s = repeat("{ a(x: ", "{k: ", 100000, "1", "}", 100000, ") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    free(s);

    s = repeat("query ($v: ", "[", 100000, "Int", "]", 100000, ") { a }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    free(s);

    s = repeat("{", " ... {", 100000, " a", " }", 100000, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    free(s);

    /* up to the cap is fine: 1 + 126 + 1 brackets */
    s = repeat("{ a(x: ", "[", COMPLIANCE_GQL_MAX_NEST - 2, "1", "]",
               COMPLIANCE_GQL_MAX_NEST - 2, ") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    free(s);

    s = repeat("{ a(x: ", "[", COMPLIANCE_GQL_MAX_NEST - 1, "1", "]",
               COMPLIANCE_GQL_MAX_NEST - 1, ") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ENEST);
    free(s);
}


static void
test_aliases(void **state)
{
    char  *s;

    (void) state;

    defaults();

    s = repeat("{", " a: b", 15, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.aliases, 15);
    free(s);

    s = repeat("{", " a: b", 16, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EALIASES);
    assert_string_equal(res.limit, "max_aliases");
    free(s);

    /* an alias flood is refused at the first alias past the limit */
    lim.max_tokens = UINT64_MAX;
    s = repeat("{", " a: b", 100000, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EALIASES);
    assert_int_equal(res.aliases, 16);
    free(s);
    defaults();

    /* fragments count once per spread: 8 + 8 */
    s = repeat("{ x: a { ...F } y: a { ...F } } fragment F on T {",
               " a: b", 7, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EALIASES);
    assert_int_equal(res.aliases, 16);
    assert_string_equal(res.limit, "max_aliases");
    free(s);

    /* per operation: 10 and 10 is fine */
    s = repeat("query A {", " a: b", 10, " } query B {", " a: b", 10, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.aliases, 10);
    free(s);

    /* a fragment counts as if used once, also when nothing uses it */
    s = repeat("{ a } fragment F on T {", " a: b", 15, " } fragment G on T {",
               " a: b", 15, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.aliases, 15);
    free(s);

    s = repeat("{ a } fragment F on T {", " a: b", 16, " }", "", 0, "");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EALIASES);
    free(s);

    s = repeat("{ a } fragment F on T {", " a {", 10, " b", " }", 10, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EDEPTH);
    free(s);
}


/* 40 fragments each spreading the next twice: 2^40 expansions */
static void
test_exponential(void **state)
{
    int      i;
    char    *s, *p;
    clock_t  t;

    (void) state;

    defaults();
    lim.max_aliases = UINT64_MAX;
    lim.max_depth = UINT64_MAX;

    s = malloc(8192);
    assert_non_null(s);

    p = s + sprintf(s, "{ ...F0 }");
    for (i = 0; i < 40; i++) {
        p += sprintf(p, " fragment F%d on T { a: x { ...F%d } b: x "
                     "{ ...F%d } }", i, i + 1, i + 1);
    }
    sprintf(p, " fragment F40 on T { z }");

    lim.max_tokens = 100000;

    t = clock();
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    t = clock() - t;

    /* 2 + 4 + ... + 2^40 aliases, 41 levels on every path */
    assert_true(res.aliases == (UINT64_C(1) << 41) - 2);
    assert_true(res.depth == 41);
    assert_true(t < CLOCKS_PER_SEC / 10);

    /* 70 levels of doubling saturate */
    p = s + sprintf(s, "{ ...F0 }");
    for (i = 0; i < 70; i++) {
        p += sprintf(p, " fragment F%d on T { a: x { ...F%d } b: x "
                     "{ ...F%d } }", i, i + 1, i + 1);
    }
    sprintf(p, " fragment F70 on T { z }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_true(res.aliases == UINT64_MAX);

    defaults();
    assert_int_equal(chk(s), COMPLIANCE_GQL_ETOKENS);
    lim.max_tokens = 100000;
    assert_int_equal(chk(s), COMPLIANCE_GQL_EDEPTH);

    free(s);
}


static void
test_tokens(void **state)
{
    char  *s;

    (void) state;

    defaults();

    /* "{" + 998 names + "}" = 1,000 tokens */
    s = repeat("{", " a", 998, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.tokens, 1000);
    free(s);

    s = repeat("{", " a", 999, "", "", 0, " }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_ETOKENS);
    assert_string_equal(res.limit, "max_tokens");
    assert_int_equal(res.tokens, 1001);
    free(s);

    /* ignored tokens are not counted; "..." is one */
    assert_int_equal(chk(",,, # c\n { ... on T { a } } "), COMPLIANCE_GQL_OK);
    assert_int_equal(res.tokens, 8);

    lim.max_tokens = 2;
    assert_int_equal(chk("{ a }"), COMPLIANCE_GQL_ETOKENS);
    assert_int_equal(res.offset, 4);
}


static void
test_introspection(void **state)
{
    (void) state;

    defaults();

    assert_int_equal(chk("{ __schema { types { name } } }"),
                     COMPLIANCE_GQL_EINTROSPECTION);
    assert_string_equal(res.limit, "introspection");
    assert_int_equal(res.offset, 2);

    assert_int_equal(chk("{ __type(name: \"User\") { fields { name } } }"),
                     COMPLIANCE_GQL_EINTROSPECTION);
    assert_int_equal(chk("{ s: __schema { types { name } } }"),
                     COMPLIANCE_GQL_EINTROSPECTION);
    assert_int_equal(chk("{ a { ...F } } fragment F on T { __schema "
                         "{ t } }"), COMPLIANCE_GQL_EINTROSPECTION);

    /* a name, not an alias, is what is selected */
    assert_int_equal(chk("{ __schema: a }"), COMPLIANCE_GQL_OK);
    assert_int_equal(res.introspection, 0);
    assert_int_equal(chk("{ a(__schema: 1) __typename }"), COMPLIANCE_GQL_OK);
    assert_int_equal(chk("{ a(s: \"__schema\") }"), COMPLIANCE_GQL_OK);
    assert_int_equal(chk("{ __schemas __types }"), COMPLIANCE_GQL_OK);

    lim.introspection = 1;
    assert_int_equal(chk("{ __schema { types { name } } }"),
                     COMPLIANCE_GQL_OK);
    assert_int_equal(res.introspection, 1);
}


static void
test_big_strings(void **state)
{
    char    *s;
    size_t   n = 1 << 20;

    (void) state;

    defaults();

    s = repeat("{ a(s: \"", "x", n, "", "", 0, "\") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    assert_int_equal(res.tokens, 8);
    free(s);

    s = repeat("{ a(s: \"", "\\u00e9", n / 6, "", "", 0, "\") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    free(s);

    s = repeat("{ a(s: \"\"\"", "\\\"\"\"\n", n / 5, "", "", 0,
               "\"\"\") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    free(s);

    s = repeat("{ a(s: \"", "x", n, "", "", 0, ") }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_EINVALID);
    free(s);

    s = repeat("# ", "x", n, "\n", "", 0, "{ a }");
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    free(s);
}


static void
test_operation_name(void **state)
{
    const char  *d = "query A { a } query B { b }";

    (void) state;

    defaults();

    assert_int_equal(run(d, strlen(d), "A"), COMPLIANCE_GQL_OK);
    assert_int_equal(run(d, strlen(d), "B"), COMPLIANCE_GQL_OK);
    assert_int_equal(run(d, strlen(d), "C"), COMPLIANCE_GQL_EINVALID);
    assert_string_equal(res.message, "operationName names no operation");
    assert_int_equal(run(d, strlen(d), "AB"), COMPLIANCE_GQL_EINVALID);
    assert_int_equal(run(d, strlen(d), ""), COMPLIANCE_GQL_EINVALID);
    assert_int_equal(run("{ a }", 5, "A"), COMPLIANCE_GQL_EINVALID);

    /* a fragment is not an operation */
    d = "{ ...F } fragment F on T { a }";
    assert_int_equal(run(d, strlen(d), "F"), COMPLIANCE_GQL_EINVALID);
}


static void
test_memory(void **state)
{
    int                  rc;
    size_t               size;
    u_char               small[256];
    compliance_arena_t   a;
    char                *s;

    (void) state;

    defaults();
    lim.max_tokens = UINT64_MAX;

    s = repeat("{ a", " ...F", 1000, " } fragment F on T", "", 0, " { b }");

    compliance_arena_init(&a, small, sizeof(small), NULL, NULL, 0);
    rc = compliance_graphql_check((const u_char *) s, strlen(s), NULL, 0,
                                  &lim, &a, &res);
    assert_int_equal(rc, COMPLIANCE_GQL_ENOMEM);

    /* ample memory: the same document passes */
    assert_int_equal(chk(s), COMPLIANCE_GQL_OK);
    free(s);

    /* a few records for a small document */
    for (size = 0; size <= 4096; size += 8) {
        compliance_arena_init(&a, arena_buf, size, NULL, NULL, 0);
        rc = compliance_graphql_check((const u_char *) "{ ...F } fragment "
                                      "F on T { a }", 30, NULL, 0, &lim,
                                      &a, &res);
        assert_true(rc == COMPLIANCE_GQL_OK || rc == COMPLIANCE_GQL_ENOMEM);
        if (rc == COMPLIANCE_GQL_OK) {
            break;
        }
    }

    assert_true(size < 1024);
}


static void
test_strerror(void **state)
{
    int  rc;

    (void) state;

    for (rc = COMPLIANCE_GQL_OK; rc >= COMPLIANCE_GQL_ENOMEM; rc--) {
        assert_non_null(compliance_graphql_strerror(rc));
    }

    assert_string_equal(compliance_graphql_strerror(1), "unknown error");
    assert_string_equal(compliance_graphql_strerror(-100), "unknown error");
}


/* messages are fixed texts: no byte of the document comes back */
static void
test_no_echo(void **state)
{
    static const char  *docs[] = {
        "{ secretvalue(x: \"hunter2\") ",
        "{ ...secretfragment }",
        "query secretop { a } query secretop { b }",
        "{ a(s: \"hunter2\\q\") }",
        "{ hunter2: __schema }",
        NULL
    };

    const char  **d;

    (void) state;

    defaults();

    for (d = docs; *d; d++) {
        assert_int_not_equal(chk(*d), COMPLIANCE_GQL_OK);
        assert_null(strstr(res.message, "secret"));
        assert_null(strstr(res.message, "hunter2"));
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_big_strings),
        cmocka_unit_test(test_operation_name),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_no_echo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
