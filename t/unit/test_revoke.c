/*
 * JWT revocation lists (core/compliance_revoke.c): the file format, its
 * refusals, lookups of every type, duplicates, sizes, and a load from a
 * file.
 */

#include "unit.h"

#include <unistd.h>

#include "compliance_revoke.h"


static compliance_revoke_t *parse(const char *s, char *err, size_t len);
static int has(const compliance_revoke_t *rv, int type, const char *v);
static void test_format(void **state);
static void test_types_apart(void **state);
static void test_blanks_comments(void **state);
static void test_duplicates(void **state);
static void test_refused(void **state);
static void test_value_bounds(void **state);
static void test_empty(void **state);
static void test_many(void **state);
static void test_load_file(void **state);
static void test_bad_args(void **state);


static compliance_revoke_t *
parse(const char *s, char *err, size_t len)
{
    return compliance_revoke_parse((const u_char *) s, strlen(s), "list",
                                   err, len);
}


static int
has(const compliance_revoke_t *rv, int type, const char *v)
{
    return compliance_revoke_match(rv, type, (const u_char *) v, strlen(v));
}


static void
test_format(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    rv = parse("jti 4f1c2a9e-0b7d\n"
               "sub auth0|5f7c8ec7\n"
               "kid 2024-06-signing\n"
               "sub user with spaces\n"
               "jti a#b\n"
               "kid last-no-newline", err, sizeof(err));
    assert_non_null(rv);

    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "4f1c2a9e-0b7d"));
    assert_true(has(rv, COMPLIANCE_REVOKE_SUB, "auth0|5f7c8ec7"));
    assert_true(has(rv, COMPLIANCE_REVOKE_KID, "2024-06-signing"));
    assert_true(has(rv, COMPLIANCE_REVOKE_SUB, "user with spaces"));
    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "a#b"));
    assert_true(has(rv, COMPLIANCE_REVOKE_KID, "last-no-newline"));

    /* exact bytes: no prefix, no case folding, no trimming of the claim */
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "4f1c2a9e"));
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "4F1C2A9E-0B7D"));
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "4f1c2a9e-0b7d "));
    assert_false(has(rv, COMPLIANCE_REVOKE_SUB, "user"));
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "a"));

    assert_int_equal(compliance_revoke_count(rv, COMPLIANCE_REVOKE_JTI), 2);
    assert_int_equal(compliance_revoke_count(rv, COMPLIANCE_REVOKE_SUB), 2);
    assert_int_equal(compliance_revoke_count(rv, COMPLIANCE_REVOKE_KID), 2);
    assert_int_equal(compliance_revoke_count(rv, -1), 6);

    compliance_revoke_free(rv);
}


static void
test_types_apart(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    rv = parse("jti same\nsub other\n", err, sizeof(err));
    assert_non_null(rv);

    /* a value revoked as a jti is not a revoked subject or key */
    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "same"));
    assert_false(has(rv, COMPLIANCE_REVOKE_SUB, "same"));
    assert_false(has(rv, COMPLIANCE_REVOKE_KID, "same"));
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "other"));
    assert_true(has(rv, COMPLIANCE_REVOKE_SUB, "other"));

    assert_string_equal(compliance_revoke_type_name(COMPLIANCE_REVOKE_JTI),
                        "jti");
    assert_string_equal(compliance_revoke_type_name(COMPLIANCE_REVOKE_SUB),
                        "sub");
    assert_string_equal(compliance_revoke_type_name(COMPLIANCE_REVOKE_KID),
                        "kid");
    assert_null(compliance_revoke_type_name(3));
    assert_null(compliance_revoke_type_name(-1));

    compliance_revoke_free(rv);
}


static void
test_blanks_comments(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    rv = parse("\xef\xbb\xbf# revoked after the 2026-11 incident\n"
               "\n"
               "   \t\n"
               "  # indented comment\n"
               "\tjti  \t tabbed \t \r\n"
               "jti crlf\r\n"
               "sub\tx\n", err, sizeof(err));
    assert_non_null(rv);

    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "tabbed"));
    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "crlf"));
    assert_true(has(rv, COMPLIANCE_REVOKE_SUB, "x"));
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "crlf\r"));
    assert_int_equal(compliance_revoke_count(rv, -1), 3);

    compliance_revoke_free(rv);
}


static void
test_duplicates(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    rv = parse("jti a\njti a\njti  a \nsub a\n", err, sizeof(err));
    assert_non_null(rv);

    assert_int_equal(compliance_revoke_count(rv, COMPLIANCE_REVOKE_JTI), 1);
    assert_int_equal(compliance_revoke_count(rv, COMPLIANCE_REVOKE_SUB), 1);
    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "a"));

    compliance_revoke_free(rv);
}


static void
test_refused(void **state)
{
    char                  err[256];
    size_t                i;
    compliance_revoke_t  *rv;

    static const struct {
        const char  *text;
        const char  *err;
    } cases[] = {
        { "jti a\nJTI b\n", "list: line 2: expected \"jti <id>\", "
                            "\"sub <subject>\" or \"kid <kid>\"" },
        { "iss x\n", "list: line 1: expected" },
        { "jtix y\n", "list: line 1: expected" },
        { "jti\n", "list: line 1: entry without a value" },
        { "jti   \t\r\n", "list: line 1: entry without a value" },
        { "\n\njti a\x01" "b\n", "list: line 3: control character" },
        { "jti a\x7f\n", "list: line 1: control character" },
        { "sub a\rb\n", "list: line 1: control character" },
        { "4f1c2a9e-0b7d\n", "list: line 1: expected" },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        rv = parse(cases[i].text, err, sizeof(err));
        assert_null(rv);
        assert_memory_equal(err, cases[i].err, strlen(cases[i].err));
    }

    /* a NUL inside a value (not reachable through strlen above) */
    err[0] = '\0';
    rv = compliance_revoke_parse((const u_char *) "jti a\0b\n", 8, "list",
                                 err, sizeof(err));
    assert_null(rv);
    assert_string_equal(err, "list: line 1: control character in the "
                        "value");

    /* the message never holds the value */
    rv = parse("jti ok\nkid secret\x02value\n", err, sizeof(err));
    assert_null(rv);
    assert_null(strstr(err, "secret"));
}


static void
test_value_bounds(void **state)
{
    char                  err[256], *text, *v;
    compliance_revoke_t  *rv;

    (void) state;

    text = malloc(4 + COMPLIANCE_REVOKE_MAX_VALUE + 2 + 1);
    assert_non_null(text);

    memcpy(text, "kid ", 4);
    memset(text + 4, 'k', COMPLIANCE_REVOKE_MAX_VALUE);
    memcpy(text + 4 + COMPLIANCE_REVOKE_MAX_VALUE, "\n", 2);

    rv = parse(text, err, sizeof(err));
    assert_non_null(rv);

    v = text + 4;
    assert_true(compliance_revoke_match(rv, COMPLIANCE_REVOKE_KID,
                                        (u_char *) v,
                                        COMPLIANCE_REVOKE_MAX_VALUE));

    /* longer values cannot be entries, nor matched */
    assert_false(compliance_revoke_match(rv, COMPLIANCE_REVOKE_KID,
                                         (u_char *) v,
                                         COMPLIANCE_REVOKE_MAX_VALUE + 1));
    compliance_revoke_free(rv);

    memcpy(text + 4 + COMPLIANCE_REVOKE_MAX_VALUE, "k\n", 3);
    rv = parse(text, err, sizeof(err));
    assert_null(rv);
    assert_string_equal(err, "list: line 1: value longer than 1024 bytes");

    free(text);
}


static void
test_empty(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    /* an empty list is a valid start: nothing is revoked yet */
    rv = parse("", err, sizeof(err));
    assert_non_null(rv);
    assert_int_equal(compliance_revoke_count(rv, -1), 0);
    assert_false(has(rv, COMPLIANCE_REVOKE_JTI, "a"));
    compliance_revoke_free(rv);

    rv = parse("# nothing yet\n", err, sizeof(err));
    assert_non_null(rv);
    assert_int_equal(compliance_revoke_count(rv, -1), 0);
    compliance_revoke_free(rv);
}


/* enough entries to grow the table many times; every one found */
static void
test_many(void **state)
{
    char                  err[256], v[32], *text, *p;
    size_t                i, n;
    compliance_revoke_t  *rv;

    (void) state;

    n = 50000;
    text = malloc(n * 32);
    assert_non_null(text);

    p = text;

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s e%zu\n", (i % 3 == 0) ? "jti"
                                     : (i % 3 == 1) ? "sub" : "kid", i);
    }

    rv = parse(text, err, sizeof(err));
    assert_non_null(rv);
    assert_int_equal(compliance_revoke_count(rv, -1), n);

    for (i = 0; i < n; i++) {
        sprintf(v, "e%zu", i);
        assert_true(has(rv, (int) (i % 3), v));
        assert_false(has(rv, (int) ((i + 1) % 3), v));
    }

    for (i = n; i < 2 * n; i++) {
        sprintf(v, "e%zu", i);
        assert_false(has(rv, (int) (i % 3), v));
    }

    compliance_revoke_free(rv);
    free(text);
}


static void
test_load_file(void **state)
{
    int                   fd;
    char                  path[] = "/tmp/test_revoke.XXXXXX", err[512];
    unsigned              mode;
    compliance_revoke_t  *rv;

    static const char  list[] = "# list\njti from-a-file\n";

    (void) state;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, list, sizeof(list) - 1),
                     (ssize_t) (sizeof(list) - 1));
    close(fd);

    rv = compliance_revoke_load(path, &mode, err, sizeof(err));
    assert_non_null(rv);
    assert_int_equal(mode, 0600);
    assert_true(has(rv, COMPLIANCE_REVOKE_JTI, "from-a-file"));
    compliance_revoke_free(rv);

    unlink(path);

    rv = compliance_revoke_load(path, &mode, err, sizeof(err));
    assert_null(rv);
    assert_non_null(strstr(err, "cannot open revocation list"));
}


static void
test_bad_args(void **state)
{
    char                  err[256];
    compliance_revoke_t  *rv;

    (void) state;

    assert_false(has(NULL, COMPLIANCE_REVOKE_JTI, "a"));
    assert_int_equal(compliance_revoke_count(NULL, -1), 0);
    compliance_revoke_free(NULL);

    rv = parse("jti a\n", err, sizeof(err));
    assert_non_null(rv);
    assert_false(has(rv, 3, "a"));
    assert_false(has(rv, -1, "a"));
    assert_false(compliance_revoke_match(rv, COMPLIANCE_REVOKE_JTI,
                                         (u_char *) "a", 0));
    assert_int_equal(compliance_revoke_count(rv, 7), 0);
    compliance_revoke_free(rv);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_types_apart),
        cmocka_unit_test(test_blanks_comments),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_value_bounds),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
