/*
 * core/compliance_qargs: query arguments as a JSON instance (SPEC 11),
 * and compliance_schema_property_types() behind its conversions.
 */

#include "unit.h"
#include "compliance_qargs.h"


static const char  *schema_text =
    "{\"type\":\"object\","
    " \"properties\":{"
    "  \"page\":{\"type\":\"integer\",\"minimum\":1},"
    "  \"price\":{\"type\":[\"number\",\"null\"]},"
    "  \"flag\":{\"type\":\"boolean\"},"
    "  \"tags\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},"
    "  \"ids\":{\"$ref\":\"#/definitions/list\"},"
    "  \"either\":{\"type\":[\"integer\",\"string\"]},"
    "  \"q\":{\"type\":\"string\"}"
    " },"
    " \"additionalProperties\":{\"type\":\"string\"},"
    " \"definitions\":{\"list\":{\"type\":\"array\"}}"
    "}";


static compliance_schema_t  *schema;
static u_char                mem[1 << 16];


static int
build(const char *q, const compliance_schema_t *s, compliance_arena_t *a,
    compliance_jnode_t **root)
{
    compliance_arena_init(a, mem, sizeof(mem), NULL, NULL, 0);

    return compliance_qargs_object((const u_char *) q, strlen(q), s, a, root);
}


static const compliance_jnode_t *
member(const compliance_jnode_t *root, const char *name)
{
    return compliance_jtree_get(root, (const u_char *) name, strlen(name));
}


/* 1 if valid; else the first error's pointer in ptr */
static int
valid(const char *q, char *ptr, size_t size)
{
    int                          rc;
    compliance_arena_t           a;
    compliance_jnode_t          *root;
    compliance_schema_result_t   res;

    assert_int_equal(build(q, schema, &a, &root), COMPLIANCE_QARGS_OK);

    rc = compliance_schema_validate(schema, root, &a, 0, &res);
    assert_true(rc == COMPLIANCE_SCHEMA_VALID
                || rc == COMPLIANCE_SCHEMA_INVALID);

    if (rc == COMPLIANCE_SCHEMA_VALID) {
        return 1;
    }

    assert_true(res.nerrors > 0);
    snprintf(ptr, size, "%s %s", res.errors[0].pointer,
             res.errors[0].keyword);

    return 0;
}


static int
setup(void **state)
{
    char  err[512];

    (void) state;

    schema = compliance_schema_compile(schema_text, strlen(schema_text),
                                       "q.json", err, sizeof(err));
    if (schema == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }

    return 0;
}


static int
teardown(void **state)
{
    (void) state;

    compliance_schema_free(schema);

    return 0;
}


static void
test_types(void **state)
{
    unsigned  t, items;

    (void) state;

    t = compliance_schema_property_types(schema, (const u_char *) "page", 4,
                                         &items);
    assert_int_equal(t, COMPLIANCE_SCHEMA_TYPE_INTEGER);
    assert_int_equal(items, 0);

    t = compliance_schema_property_types(schema, (const u_char *) "tags", 4,
                                         &items);
    assert_int_equal(t, COMPLIANCE_SCHEMA_TYPE_ARRAY);
    assert_int_equal(items, COMPLIANCE_SCHEMA_TYPE_INTEGER);

    /* through "$ref" */
    t = compliance_schema_property_types(schema, (const u_char *) "ids", 3,
                                         &items);
    assert_int_equal(t, COMPLIANCE_SCHEMA_TYPE_ARRAY);

    /* additionalProperties */
    t = compliance_schema_property_types(schema, (const u_char *) "zz", 2,
                                         &items);
    assert_int_equal(t, COMPLIANCE_SCHEMA_TYPE_STRING);
}


static void
test_conversions(void **state)
{
    compliance_arena_t         a;
    compliance_jnode_t        *root;
    const compliance_jnode_t  *m, *e;

    (void) state;

    assert_int_equal(build("page=12&q=12&flag=true&price=-1.5e3&zz=1",
                           schema, &a, &root), COMPLIANCE_QARGS_OK);
    assert_int_equal(root->type, COMPLIANCE_JOBJECT);
    assert_int_equal(root->u.kids.count, 5);

    assert_int_equal(member(root, "page")->type, COMPLIANCE_JNUMBER);
    assert_int_equal(member(root, "q")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "flag")->type, COMPLIANCE_JTRUE);
    assert_int_equal(member(root, "price")->type, COMPLIANCE_JNUMBER);
    assert_int_equal(member(root, "zz")->type, COMPLIANCE_JSTRING);

    /* what does not convert stays a string */
    assert_int_equal(build("page=12a&flag=1&price=0x1f&either=abc", schema,
                           &a, &root), COMPLIANCE_QARGS_OK);
    assert_int_equal(member(root, "page")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "flag")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "price")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "either")->type, COMPLIANCE_JSTRING);

    assert_int_equal(build("page=+12&price=1.&either=7", schema, &a, &root),
                     COMPLIANCE_QARGS_OK);
    assert_int_equal(member(root, "page")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "price")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "either")->type, COMPLIANCE_JNUMBER);

    /* exact numbers */
    assert_int_equal(build("price=1e999999", schema, &a, &root),
                     COMPLIANCE_QARGS_OK);
    m = member(root, "price");
    assert_int_equal(m->type, COMPLIANCE_JNUMBER);
    assert_int_equal(m->u.num.exp, 1000000);

    /* repeated names: arrays in order; items converted */
    assert_int_equal(build("tags=3&q=a&tags=1&tags=2", schema, &a, &root),
                     COMPLIANCE_QARGS_OK);
    m = member(root, "tags");
    assert_int_equal(m->type, COMPLIANCE_JARRAY);
    assert_int_equal(m->u.kids.count, 3);
    e = m->u.kids.first;
    assert_int_equal(e->type, COMPLIANCE_JNUMBER);
    assert_memory_equal(e->u.num.digits, "3", 1);
    assert_memory_equal(e->next->u.num.digits, "1", 1);

    /* an array property given once is still an array */
    assert_int_equal(build("tags=5&ids=x", schema, &a, &root),
                     COMPLIANCE_QARGS_OK);
    assert_int_equal(member(root, "tags")->type, COMPLIANCE_JARRAY);
    assert_int_equal(member(root, "tags")->u.kids.count, 1);
    assert_int_equal(member(root, "ids")->type, COMPLIANCE_JARRAY);

    /* without a schema: strings, arrays only when repeated */
    assert_int_equal(build("page=1&x=a&x=b", NULL, &a, &root),
                     COMPLIANCE_QARGS_OK);
    assert_int_equal(member(root, "page")->type, COMPLIANCE_JSTRING);
    assert_int_equal(member(root, "x")->type, COMPLIANCE_JARRAY);
}


static void
test_decoding(void **state)
{
    compliance_arena_t         a;
    compliance_jnode_t        *root;
    const compliance_jnode_t  *m;

    (void) state;

    assert_int_equal(build("q=caf%C3%A9+au+lait&a%22b%5C=%00", schema, &a,
                           &root), COMPLIANCE_QARGS_OK);
    m = member(root, "q");
    assert_int_equal(m->u.str.len, strlen("caf\xc3\xa9 au lait"));
    assert_memory_equal(m->u.str.data, "caf\xc3\xa9 au lait", m->u.str.len);

    m = compliance_jtree_get(root, (const u_char *) "a\"b\\", 4);
    assert_non_null(m);
    assert_int_equal(m->u.str.len, 1);
    assert_int_equal(m->u.str.data[0], 0);

    /* a name alone, empty arguments */
    assert_int_equal(build("&&flagless&&", schema, &a, &root),
                     COMPLIANCE_QARGS_OK);
    assert_int_equal(root->u.kids.count, 1);
    assert_int_equal(member(root, "flagless")->u.str.len, 0);

    assert_int_equal(build("", schema, &a, &root), COMPLIANCE_QARGS_OK);
    assert_int_equal(root->u.kids.count, 0);

    /* bad escapes, bytes that are not UTF-8 once decoded */
    assert_int_equal(build("q=%zz", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("q=%4", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("q%=1", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("q=%C0%AF", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("q=%ED%A0%80", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("%FF=1", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
    assert_int_equal(build("q=\xc3", schema, &a, &root),
                     COMPLIANCE_QARGS_EMALFORMED);
}


static void
test_validation(void **state)
{
    char  ptr[256];

    (void) state;

    assert_true(valid("page=2&q=x&tags=1&tags=2", ptr, sizeof(ptr)));

    assert_false(valid("page=abc", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/page type");

    assert_false(valid("page=0", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/page minimum");

    assert_false(valid("page=1.5", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/page type");

    assert_false(valid("tags=1&tags=x", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/tags/1 type");

    assert_false(valid("q=a&q=b", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/q type");

    assert_false(valid("flag=yes", ptr, sizeof(ptr)));
    assert_string_equal(ptr, "/flag type");
}


static void
test_many(void **state)
{
    char                 *q, *p;
    size_t                i, n;
    compliance_arena_t    a;
    compliance_jnode_t   *root;
    static u_char         big[4 << 20];

    (void) state;

    n = 20000;
    q = malloc(n * 16);
    assert_non_null(q);

    for (p = q, i = 0; i < n; i++) {
        p += sprintf(p, "%sn%zu=%zu", i ? "&" : "", (n - i) % 5000, i);
    }

    compliance_arena_init(&a, big, sizeof(big), NULL, NULL, 0);
    assert_int_equal(compliance_qargs_object((u_char *) q, p - q, NULL, &a,
                                             &root),
                     COMPLIANCE_QARGS_OK);
    assert_int_equal(root->u.kids.count, 5000);
    assert_int_equal(member(root, "n7")->type, COMPLIANCE_JARRAY);
    assert_int_equal(member(root, "n7")->u.kids.count, 4);

    /* an arena too small: ENOMEM, not a crash */
    compliance_arena_init(&a, big, 1024, NULL, NULL, 0);
    assert_int_equal(compliance_qargs_object((u_char *) q, p - q, NULL, &a,
                                             &root),
                     COMPLIANCE_QARGS_ENOMEM);

    free(q);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_many),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
