/*
 * RESP2 encoder and reply parser (SPEC 15, core/compliance_resp.c).
 */

#include "unit.h"

#include "compliance_resp.h"


static int parse(const char *s, compliance_resp_reply_t *r, size_t *used);
static void every_prefix_again(const char *s);
static void test_scalars(void **state);
static void test_array(void **state);
static void test_prefixes(void **state);
static void test_malformed(void **state);
static void test_bounds(void **state);
static void test_pipelined(void **state);
static void test_command(void **state);
static void test_error_is(void **state);


static int
parse(const char *s, compliance_resp_reply_t *r, size_t *used)
{
    return compliance_resp_parse((const unsigned char *) s, strlen(s), r,
                                 used);
}


/* every proper prefix of a whole reply asks for more */
static void
every_prefix_again(const char *s)
{
    size_t                   i, used;
    compliance_resp_reply_t  r;

    for (i = 0; i < strlen(s); i++) {
        assert_int_equal(compliance_resp_parse((const unsigned char *) s, i,
                                               &r, &used),
                         COMPLIANCE_RESP_AGAIN);
    }

    assert_int_equal(parse(s, &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(used, strlen(s));
}


static void
test_scalars(void **state)
{
    size_t                   used;
    compliance_resp_reply_t  r;

    (void) state;

    assert_int_equal(parse("+OK\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_STATUS);
    assert_int_equal(r.value.len, 2);
    assert_memory_equal(r.value.str, "OK", 2);
    assert_int_equal(used, 5);

    assert_int_equal(parse("-NOSCRIPT No matching script\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_ERR);

    assert_int_equal(parse(":-42\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_INTEGER);
    assert_int_equal(r.value.integer, -42);

    assert_int_equal(parse(":9223372036854775807\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_true(r.value.integer == INT64_MAX);

    assert_int_equal(parse(":-9223372036854775808\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_true(r.value.integer == INT64_MIN);

    assert_int_equal(parse("$5\r\na\r\nbc\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_BULK);
    assert_int_equal(r.value.len, 5);
    assert_memory_equal(r.value.str, "a\r\nbc", 5);

    assert_int_equal(parse("$0\r\n\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.len, 0);

    assert_int_equal(parse("$-1\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_NIL);

    assert_int_equal(parse("*-1\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_NIL);
}


static void
test_array(void **state)
{
    size_t                   used;
    compliance_resp_reply_t  r;

    (void) state;

    /* the limit script's reply */
    assert_int_equal(parse("*3\r\n:1\r\n:3599999\r\n$-1\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_ARRAY);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.elts[0].integer, 1);
    assert_int_equal(r.elts[1].integer, 3599999);
    assert_int_equal(r.elts[2].type, COMPLIANCE_RESP_NIL);

    assert_int_equal(parse("*0\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_int_equal(r.n, 0);
}


static void
test_prefixes(void **state)
{
    (void) state;

    every_prefix_again("+PONG\r\n");
    every_prefix_again("-ERR wrong\r\n");
    every_prefix_again(":123\r\n");
    every_prefix_again("$40\r\n0123456789012345678901234567890123456789\r\n");
    every_prefix_again("*2\r\n:1\r\n$3\r\nabc\r\n");
}


static void
test_malformed(void **state)
{
    size_t                   used;
    compliance_resp_reply_t  r;

    (void) state;

    assert_int_equal(parse("?x\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse("+a\nb\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse("+a\rb\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse(":12a\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse(":\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse(":-\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse(":9223372036854775808\r\n", &r, &used),
                     COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse("$3\r\nabcd\r\n", &r, &used),
                     COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse("$-2\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    /* nested arrays: none of our commands gets one */
    assert_int_equal(parse("*1\r\n*1\r\n:1\r\n", &r, &used),
                     COMPLIANCE_RESP_ERROR);
}


static void
test_bounds(void **state)
{
    char                     buf[2 * COMPLIANCE_RESP_MAX_LINE];
    size_t                   used;
    compliance_resp_reply_t  r;

    (void) state;

    assert_int_equal(parse("*17\r\n", &r, &used), COMPLIANCE_RESP_ERROR);
    assert_int_equal(parse("$4097\r\n", &r, &used), COMPLIANCE_RESP_ERROR);

    /* a status line that never ends is refused, not waited for */
    memset(buf, 'a', sizeof(buf));
    buf[0] = '+';
    assert_int_equal(compliance_resp_parse((unsigned char *) buf,
                                           sizeof(buf), &r, &used),
                     COMPLIANCE_RESP_ERROR);
}


static void
test_pipelined(void **state)
{
    size_t                   used, off;
    compliance_resp_reply_t  r;
    static const char        s[] =
        "+OK\r\n$40\r\n0123456789012345678901234567890123456789\r\n:7\r\n";
    const unsigned char     *p = (const unsigned char *) s;

    (void) state;

    assert_int_equal(compliance_resp_parse(p, sizeof(s) - 1, &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(used, 5);
    off = used;

    assert_int_equal(compliance_resp_parse(p + off, sizeof(s) - 1 - off, &r,
                                           &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.len, 40);
    off += used;

    assert_int_equal(compliance_resp_parse(p + off, sizeof(s) - 1 - off, &r,
                                           &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.integer, 7);
    assert_int_equal(off + used, sizeof(s) - 1);
}


static void
test_command(void **state)
{
    size_t                    len, lens[3], used;
    unsigned char             buf[128], *end;
    const unsigned char      *argv[3];
    compliance_resp_reply_t   r;
    static const char         want[] =
        "*3\r\n$7\r\nEVALSHA\r\n$0\r\n\r\n$13\r\nkey\r\nwith\0nul\r\n";

    (void) state;

    argv[0] = (const unsigned char *) "EVALSHA";
    lens[0] = 7;
    argv[1] = (const unsigned char *) "";
    lens[1] = 0;
    argv[2] = (const unsigned char *) "key\r\nwith\0nul";
    lens[2] = 13;

    len = compliance_resp_command_len(3, argv, lens);
    assert_int_equal(len, sizeof(want) - 1);

    end = compliance_resp_command(buf, 3, argv, lens);
    assert_int_equal(end - buf, len);
    assert_memory_equal(buf, want, len);

    /* what we encode, a server would read back as these bulk strings */
    assert_int_equal(compliance_resp_parse(buf + 4, len - 4, &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_int_equal(r.value.type, COMPLIANCE_RESP_BULK);
    assert_memory_equal(r.value.str, "EVALSHA", 7);
}


static void
test_error_is(void **state)
{
    size_t                   used;
    compliance_resp_reply_t  r;

    (void) state;

    assert_int_equal(parse("-NOSCRIPT No matching script\r\n", &r, &used),
                     COMPLIANCE_RESP_OK);
    assert_true(compliance_resp_error_is(&r.value, "NOSCRIPT"));
    assert_false(compliance_resp_error_is(&r.value, "NOSCRIP"));
    assert_false(compliance_resp_error_is(&r.value, "ERR"));

    assert_int_equal(parse("+NOSCRIPT\r\n", &r, &used), COMPLIANCE_RESP_OK);
    assert_false(compliance_resp_error_is(&r.value, "NOSCRIPT"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_array),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_error_is),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
