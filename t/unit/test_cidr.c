/*
 * CIDR parsing and matching (allow= of API keys).
 */

#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "compliance_cidr.h"


static const struct sockaddr *v4(const char *a);
static const struct sockaddr *v6(const char *a);
static int parse(const char *s, compliance_cidr_t *c);
static int match(const char *rule, const struct sockaddr *sa);
static void test_parse_ok(void **state);
static void test_parse_masks_host_bits(void **state);
static void test_parse_refused(void **state);
static void test_match_v4(void **state);
static void test_match_v6(void **state);
static void test_match_mapped(void **state);
static void test_list(void **state);
static void test_list_refused(void **state);


/* Scratch addresses for the helpers below (tests run sequentially). */
static struct sockaddr_in   unit_sin;
static struct sockaddr_in6  unit_sin6;


static const struct sockaddr *
v4(const char *a)
{
    memset(&unit_sin, 0, sizeof(unit_sin));
    unit_sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, a, &unit_sin.sin_addr), 1);

    return (const struct sockaddr *) &unit_sin;
}


static const struct sockaddr *
v6(const char *a)
{
    memset(&unit_sin6, 0, sizeof(unit_sin6));
    unit_sin6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, a, &unit_sin6.sin6_addr), 1);

    return (const struct sockaddr *) &unit_sin6;
}


static int
parse(const char *s, compliance_cidr_t *c)
{
    return compliance_cidr_parse((const u_char *) s, strlen(s), c);
}


static int
match(const char *rule, const struct sockaddr *sa)
{
    compliance_cidr_t  c;

    assert_int_equal(parse(rule, &c), 0);

    return compliance_cidr_match(&c, sa);
}


static void
test_parse_ok(void **state)
{
    compliance_cidr_t  c;

    (void) state;

    assert_int_equal(parse("10.1.2.3", &c), 0);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 32);

    assert_int_equal(parse("2001:db8::1", &c), 0);
    assert_int_equal(c.family, AF_INET6);
    assert_int_equal(c.prefix, 128);

    assert_int_equal(parse("0.0.0.0/0", &c), 0);
    assert_int_equal(c.prefix, 0);

    assert_int_equal(parse("::/0", &c), 0);
    assert_int_equal(c.prefix, 0);

    assert_int_equal(parse("10.0.0.0/8", &c), 0);
    assert_int_equal(c.prefix, 8);

    assert_int_equal(parse("1.2.3.4/32", &c), 0);
    assert_int_equal(parse("2001:db8::/128", &c), 0);
    assert_int_equal(parse("::ffff:10.0.0.0/104", &c), 0);
}


static void
test_parse_masks_host_bits(void **state)
{
    compliance_cidr_t  c;

    (void) state;

    assert_int_equal(parse("1.2.3.4/24", &c), 0);
    assert_int_equal(c.addr[0], 1);
    assert_int_equal(c.addr[1], 2);
    assert_int_equal(c.addr[2], 3);
    assert_int_equal(c.addr[3], 0);

    assert_int_equal(parse("1.2.255.4/20", &c), 0);
    assert_int_equal(c.addr[2], 0xf0);
    assert_int_equal(c.addr[3], 0);

    assert_int_equal(parse("2001:db8:ffff::1/33", &c), 0);
    assert_int_equal(c.addr[4], 0x80);
    assert_int_equal(c.addr[5], 0);
    assert_int_equal(c.addr[15], 0);

    assert_true(compliance_cidr_match(&c, v6("2001:db8:8000::5")));
    assert_false(compliance_cidr_match(&c, v6("2001:db8:7fff::5")));
}


static void
test_parse_refused(void **state)
{
    size_t             i;
    compliance_cidr_t  c;

    static const char  *bad[] = {
        "", "/", "/24", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1",
        "1.2.3.4/+8", "1.2.3.4/08", "1.2.3.4/1000", "1.2.3.4/2a",
        "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ",
        " 1.2.3.4", "::1/129", "::1/", "2001:db8::g", "fe80::1%eth0",
        "1.2.3.4/24/24", "localhost", "0x7f.0.0.1",
        "1:2:3:4:5:6:7:8:9", "1.2.3.4,5.6.7.8"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &c) != -1) {
            fail_msg("\"%s\" was accepted", bad[i]);
        }
    }

    /* An embedded NUL must not cut the text short. */
    assert_int_equal(compliance_cidr_parse((const u_char *) "1.2.3.4\0/8",
                                           10, &c), -1);
}


static void
test_match_v4(void **state)
{
    (void) state;

    assert_true(match("10.0.0.0/8", v4("10.255.1.2")));
    assert_false(match("10.0.0.0/8", v4("11.0.0.1")));
    assert_true(match("1.2.3.4", v4("1.2.3.4")));
    assert_false(match("1.2.3.4", v4("1.2.3.5")));
    assert_true(match("1.2.3.4/32", v4("1.2.3.4")));
    assert_true(match("1.2.3.4/24", v4("1.2.3.200")));
    assert_false(match("1.2.3.4/24", v4("1.2.4.1")));
    assert_true(match("0.0.0.0/0", v4("203.0.113.9")));
    assert_true(match("192.168.0.0/23", v4("192.168.1.255")));
    assert_false(match("192.168.0.0/23", v4("192.168.2.0")));

    /* Families never cross, except the mapped case below. */
    assert_false(match("0.0.0.0/0", v6("2001:db8::1")));
    assert_false(match("::/0", v4("1.2.3.4")));
}


static void
test_match_v6(void **state)
{
    (void) state;

    assert_true(match("2001:db8::/32", v6("2001:db8:1::1")));
    assert_false(match("2001:db8::/32", v6("2001:db9::1")));
    assert_true(match("2001:db8::1/128", v6("2001:db8::1")));
    assert_false(match("2001:db8::1/128", v6("2001:db8::2")));
    assert_true(match("::/0", v6("::1")));
    assert_true(match("2001:db8::/127", v6("2001:db8::1")));
    assert_false(match("2001:db8::/127", v6("2001:db8::2")));
}


static void
test_match_mapped(void **state)
{
    (void) state;

    assert_true(match("10.0.0.0/8", v6("::ffff:10.1.2.3")));
    assert_false(match("10.0.0.0/8", v6("::ffff:11.1.2.3")));
    assert_true(match("1.2.3.4", v6("::ffff:1.2.3.4")));
    assert_true(match("0.0.0.0/0", v6("::ffff:8.8.8.8")));

    /* Only ::ffff:0:0/96 is a mapped IPv4 address. */
    assert_false(match("1.2.3.4", v6("::1.2.3.4")));
    assert_false(match("1.2.3.4", v6("64:ff9b::1.2.3.4")));

    /* The raw IPv6 rule still sees the mapped address as IPv6. */
    assert_true(match("::ffff:0:0/96", v6("::ffff:1.2.3.4")));
}


static void
test_list(void **state)
{
    char                    err[256];
    const char             *s;
    compliance_cidr_list_t  l;

    (void) state;

    s = "10.0.0.0/8,2001:db8::/32,192.0.2.1";
    assert_int_equal(compliance_cidr_list_parse((const u_char *) s,
                                                strlen(s), &l, err,
                                                sizeof(err)), 0);
    assert_int_equal(l.n, 3);

    assert_true(compliance_cidr_list_match(&l, v4("10.9.9.9")));
    assert_true(compliance_cidr_list_match(&l, v4("192.0.2.1")));
    assert_false(compliance_cidr_list_match(&l, v4("192.0.2.2")));
    assert_true(compliance_cidr_list_match(&l, v6("2001:db8::7")));
    assert_true(compliance_cidr_list_match(&l, v6("::ffff:192.0.2.1")));
    assert_false(compliance_cidr_list_match(&l, v6("2001:db9::7")));
    assert_false(compliance_cidr_list_match(&l, NULL));

    compliance_cidr_list_free(&l);
    assert_null(l.rules);
    assert_int_equal(l.n, 0);
}


static void
test_list_refused(void **state)
{
    char                    err[256], big[2048];
    size_t                  i, n;
    compliance_cidr_list_t  l;

    static const char  *bad[] = {
        "", ",", "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/8,,1.2.3.4",
        "10.0.0.0/8, 1.2.3.4", "10.0.0.0/8,1.2.3.4/33"
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';

        if (compliance_cidr_list_parse((const u_char *) bad[i],
                                       strlen(bad[i]), &l, err, sizeof(err))
            != -1)
        {
            fail_msg("\"%s\" was accepted", bad[i]);
        }

        assert_null(l.rules);
        assert_true(err[0] != '\0');
    }

    assert_int_equal(compliance_cidr_list_parse(
                         (const u_char *) "1.2.3.4/33", 10, &l, err,
                         sizeof(err)), -1);
    assert_non_null(strstr(err, "\"1.2.3.4/33\""));

    /* 65 entries: one over the limit. */
    n = 0;

    for (i = 0; i < COMPLIANCE_CIDR_MAX_RULES + 1; i++) {
        n += (size_t) snprintf(big + n, sizeof(big) - n, "%s10.0.0.%zu",
                               i ? "," : "", i);
    }

    assert_int_equal(compliance_cidr_list_parse((const u_char *) big, n, &l,
                                                err, sizeof(err)), -1);

    /* Exactly the limit is fine. */
    n = 0;

    for (i = 0; i < COMPLIANCE_CIDR_MAX_RULES; i++) {
        n += (size_t) snprintf(big + n, sizeof(big) - n, "%s10.0.0.%zu",
                               i ? "," : "", i);
    }

    assert_int_equal(compliance_cidr_list_parse((const u_char *) big, n, &l,
                                                err, sizeof(err)), 0);
    assert_int_equal(l.n, COMPLIANCE_CIDR_MAX_RULES);
    assert_true(compliance_cidr_list_match(&l, v4("10.0.0.63")));
    assert_false(compliance_cidr_list_match(&l, v4("10.0.0.64")));
    compliance_cidr_list_free(&l);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_masks_host_bits),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_match_v4),
        cmocka_unit_test(test_match_v6),
        cmocka_unit_test(test_match_mapped),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
