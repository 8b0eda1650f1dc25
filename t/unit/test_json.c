/*
 * compliance_json: escaping of arbitrary client bytes into JSON strings.
 */

#include "unit.h"

#include <time.h>

#include <jansson.h>

#include "compliance_json.h"


#define ESC_MAX  4096


static size_t esc(const void *s, size_t len, char *out);
static void check_escape(const char *in, size_t len, const char *want);
static void check_parses(const u_char *s, size_t len);


/* escapes s into out (NUL terminated), checking len against the writer */
static size_t
esc(const void *s, size_t len, char *out)
{
    size_t   n;
    u_char  *end;

    n = compliance_json_escape_len(s, len);
    assert_true(n < ESC_MAX);

    memset(out, 0x55, ESC_MAX);
    end = compliance_json_escape((u_char *) out, s, len);

    assert_int_equal((size_t) (end - (u_char *) out), n);
    /* the writer must not touch a byte beyond what it announced */
    assert_int_equal((u_char) out[n], 0x55);
    out[n] = '\0';

    return n;
}


static void
check_escape(const char *in, size_t len, const char *want)
{
    char  out[ESC_MAX];

    esc(in, len, out);
    assert_string_equal(out, want);
}


/* "<escaped>" must be accepted by jansson and be valid UTF-8 */
static void
check_parses(const u_char *s, size_t len)
{
    char          buf[ESC_MAX + 2];
    size_t        n;
    json_t       *j;
    json_error_t  err;

    buf[0] = '"';
    n = esc(s, len, buf + 1);
    buf[n + 1] = '"';

    j = json_loadb(buf, n + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (j == NULL) {
        fail_msg("jansson rejected %.*s: %s", (int) (n + 2), buf, err.text);
    }

    assert_true(json_is_string(j));
    json_decref(j);
}


static void
test_every_single_byte(void **state)
{
    int     c;
    char    out[ESC_MAX], want[16];
    u_char  b;

    (void) state;

    for (c = 0; c < 256; c++) {
        b = (u_char) c;
        esc(&b, 1, out);

        switch (c) {
        case '"':
            strcpy(want, "\\\"");
            break;
        case '\\':
            strcpy(want, "\\\\");
            break;
        case '\b':
            strcpy(want, "\\b");
            break;
        case '\f':
            strcpy(want, "\\f");
            break;
        case '\n':
            strcpy(want, "\\n");
            break;
        case '\r':
            strcpy(want, "\\r");
            break;
        case '\t':
            strcpy(want, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(want, sizeof(want), "\\u00%02x", c);

            } else if (c >= 0x80) {
                /* a lone non-ASCII byte is never valid UTF-8 */
                strcpy(want, "\\ufffd");

            } else {
                want[0] = (char) c;
                want[1] = '\0';
            }
        }

        if (strcmp(out, want) != 0) {
            fail_msg("byte 0x%02x: got \"%s\", want \"%s\"", c, out, want);
        }

        check_parses(&b, 1);
    }
}


static void
test_plain_and_mixed(void **state)
{
    (void) state;

    check_escape("", 0, "");
    check_escape("/api/v1/x?a=b", 13, "/api/v1/x?a=b");
    check_escape("a\"b\\c\nd\x01" "e\x7f", 10,
                 "a\\\"b\\\\c\\nd\\u0001e\\u007f");
    check_escape("nul\0byte", 8, "nul\\u0000byte");
}


static void
test_valid_utf8(void **state)
{
    (void) state;

    /* 2, 3 and 4 byte sequences at the edges of their ranges */
    check_escape("\xc2\x80", 2, "\xc2\x80");
    check_escape("\xdf\xbf", 2, "\xdf\xbf");
    check_escape("caf\xc3\xa9", 5, "caf\xc3\xa9");
    check_escape("\xe0\xa0\x80", 3, "\xe0\xa0\x80");
    check_escape("\xe2\x82\xac", 3, "\xe2\x82\xac");
    check_escape("\xed\x9f\xbf", 3, "\xed\x9f\xbf");
    check_escape("\xee\x80\x80", 3, "\xee\x80\x80");
    check_escape("\xef\xbf\xbf", 3, "\xef\xbf\xbf");
    check_escape("\xf0\x90\x80\x80", 4, "\xf0\x90\x80\x80");
    check_escape("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
    check_escape("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");
}


static void
test_invalid_utf8(void **state)
{
    (void) state;

    /* stray continuation bytes */
    check_escape("\x80", 1, "\\ufffd");
    check_escape("a\xbf" "b", 3, "a\\ufffdb");

    /* bad leads: C0 C1 (always overlong) and F5..FF */
    check_escape("\xc0\xaf", 2, "\\ufffd\\ufffd");
    check_escape("\xc1\xbf", 2, "\\ufffd\\ufffd");
    check_escape("\xf5\x80\x80\x80", 4,
                 "\\ufffd\\ufffd\\ufffd\\ufffd");
    check_escape("\xff", 1, "\\ufffd");

    /* truncated: at the end and followed by ASCII */
    check_escape("\xc3", 1, "\\ufffd");
    check_escape("\xe2\x82", 2, "\\ufffd\\ufffd");
    check_escape("\xe2\x82" "A", 3, "\\ufffd\\ufffdA");
    check_escape("\xf0\x9f\x98", 3, "\\ufffd\\ufffd\\ufffd");
    check_escape("\xc3\"", 2, "\\ufffd\\\"");

    /* overlong 3 and 4 byte forms */
    check_escape("\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd");
    check_escape("\xe0\x9f\xbf", 3, "\\ufffd\\ufffd\\ufffd");
    check_escape("\xf0\x80\x80\xaf", 4,
                 "\\ufffd\\ufffd\\ufffd\\ufffd");
    check_escape("\xf0\x8f\xbf\xbf", 4,
                 "\\ufffd\\ufffd\\ufffd\\ufffd");

    /* UTF-16 surrogates D800..DFFF */
    check_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");
    check_escape("\xed\xbf\xbf", 3, "\\ufffd\\ufffd\\ufffd");

    /* above U+10FFFF */
    check_escape("\xf4\x90\x80\x80", 4,
                 "\\ufffd\\ufffd\\ufffd\\ufffd");

    /* a valid sequence right after an invalid byte survives */
    check_escape("\xe2\xe2\x82\xac", 4, "\\ufffd\xe2\x82\xac");
}


static void
test_random_property(void **state)
{
    int     i;
    size_t  len, k;
    u_char  buf[256];

    static const u_char  interesting[] = {
        0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0,
        0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a', 0xa0, 0x90, 0x8f, 0x9f
    };

    (void) state;

    srandom(20261);

    for (i = 0; i < 100000; i++) {
        len = (size_t) (random() % 64);

        for (k = 0; k < len; k++) {
            /* half uniform bytes, half bytes near UTF-8 edge cases */
            if (random() & 1) {
                buf[k] = (u_char) random();

            } else {
                buf[k] = interesting[random() % sizeof(interesting)];
            }
        }

        check_parses(buf, len);
    }
}


static void
test_escape_speed(void **state)
{
    int              i, iters;
    double           ns;
    u_char           out[1024];
    struct timespec  t0, t1;

    static const char  uri[] = "/api/v1/customers/8842/orders?page=2&sort="
                               "desc&fields=id,total,status&since=2026-01-01"
                               "&q=caf\xc3\xa9";

    (void) state;

    iters = 1000000;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    for (i = 0; i < iters; i++) {
        compliance_json_escape(out, (const u_char *) uri, sizeof(uri) - 1);
        __asm__ __volatile__("" : : "r" (out) : "memory");
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);

    ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters;
    printf("# bench json_escape %zu-byte URI: %.1f ns/call\n",
           sizeof(uri) - 1, ns);
}


int
main(void)
{
    int                      rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_every_single_byte),
        cmocka_unit_test(test_plain_and_mixed),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random_property),
    };

    /* a benchmark, not a test: run only when asked for */
    const struct CMUnitTest  bench[] = {
        cmocka_unit_test(test_escape_speed),
    };

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (getenv("COMPLIANCE_UNIT_BENCH") != NULL) {
        rc += cmocka_run_group_tests(bench, NULL, NULL);
    }

    return rc;
}
