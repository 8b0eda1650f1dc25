/*
 * compliance_redact_stream: response-body masking across buffer cuts.
 * Every case runs the body whole and split at every offset (and in
 * one-byte pieces); the outputs must be the same.
 */

#include "unit.h"

#include "compliance_redact.h"
#include "compliance_redact_stream.h"


#define VISA   "4111111111111111"
#define MC     "5555555555554444"
#define AMEX   "378282246310005"

#define MAX    (1 << 20)


typedef struct {
    u_char  *p;
    size_t   len;
    size_t   size;
    size_t   allocs;
    size_t   frees;
} out_t;


static int emit(void *data, const u_char *p, size_t len);
static void *alloc(void *data, size_t size);
static void dealloc(void *data, void *p);
static compliance_redact_t *make(unsigned mask);
static char *run(compliance_redact_t *r, const char *in, size_t len,
    const size_t *cuts, size_t ncuts, size_t *matches);
static void check(unsigned mask, const char *in, const char *want,
    size_t nmatch);


static int
emit(void *data, const u_char *p, size_t len)
{
    out_t  *o = data;

    if (o->len + len + 1 > o->size) {
        o->size = (o->len + len + 1) * 2;
        o->p = realloc(o->p, o->size);
        assert_non_null(o->p);
    }

    memcpy(o->p + o->len, p, len);
    o->len += len;

    return 0;
}


static void *
alloc(void *data, size_t size)
{
    out_t  *o = data;

    o->allocs++;

    return malloc(size);
}


static void
dealloc(void *data, void *p)
{
    out_t  *o = data;

    o->frees++;
    free(p);
}


static compliance_redact_t *
make(unsigned mask)
{
    char                  err[256];
    compliance_redact_t  *r;

    r = compliance_redact_create(mask | COMPLIANCE_REDACT_TEXT, err,
                                 sizeof(err));
    assert_non_null(r);

    return r;
}


/* the body fed in pieces ending at cuts[] (ascending), then the rest */
static char *
run(compliance_redact_t *r, const char *in, size_t len, const size_t *cuts,
    size_t ncuts, size_t *matches)
{
    size_t                           k, from;
    out_t                            o;
    compliance_redact_stream_t       s;
    compliance_redact_stream_conf_t  conf;

    memset(&o, 0, sizeof(out_t));
    compliance_redact_stream_conf(&conf, r, emit, alloc, dealloc);
    compliance_redact_stream_init(&s, &conf, &o, MAX);

    from = 0;

    for (k = 0; k < ncuts; k++) {
        assert_int_equal(compliance_redact_stream_feed(&s,
                             (const u_char *) in + from, cuts[k] - from),
                         COMPLIANCE_REDACT_STREAM_OK);
        from = cuts[k];
    }

    assert_int_equal(compliance_redact_stream_feed(&s,
                         (const u_char *) in + from, len - from),
                     COMPLIANCE_REDACT_STREAM_OK);
    assert_int_equal(compliance_redact_stream_finish(&s),
                     COMPLIANCE_REDACT_STREAM_OK);
    assert_int_equal(s.total, len);

    *matches = s.matches;

    compliance_redact_stream_free(&s);
    assert_int_equal(o.allocs, o.frees);

    emit(&o, (const u_char *) "", 1);

    return (char *) o.p;
}


static void
check(unsigned mask, const char *in, const char *want, size_t nmatch)
{
    char                 *one, *out;
    size_t                len, cut, k, n, *cuts;
    compliance_redact_t  *r;

    r = make(mask);
    len = strlen(in);

    one = run(r, in, len, NULL, 0, &n);
    assert_string_equal(one, want);
    assert_int_equal(n, nmatch);

    /* one cut anywhere */
    for (cut = 0; cut <= len; cut++) {
        out = run(r, in, len, &cut, 1, &n);
        assert_string_equal(out, one);
        assert_int_equal(n, nmatch);
        free(out);
    }

    /* one byte at a time */
    cuts = malloc((len + 1) * sizeof(size_t));
    assert_non_null(cuts);

    for (k = 0; k < len; k++) {
        cuts[k] = k;
    }

    out = run(r, in, len, cuts, len, &n);
    assert_string_equal(out, one);
    assert_int_equal(n, nmatch);

    free(out);
    free(cuts);
    free(one);
    compliance_redact_free(r);
}


static void
test_cards(void **state)
{
    (void) state;

    check(COMPLIANCE_REDACT_PAN,
          "{\"card\":\"" VISA "\",\"name\":\"A\"}",
          "{\"card\":\"[REDACTED:pan:1111]\",\"name\":\"A\"}", 1);

    check(COMPLIANCE_REDACT_PAN,
          "[\"" MC "\",\"" AMEX "\"]",
          "[\"[REDACTED:pan:4444]\",\"[REDACTED:pan:0005]\"]", 2);

    /* separators, as written on receipts and forms */
    check(COMPLIANCE_REDACT_PAN,
          "card 4111 1111 1111 1111 ok; 5555-5555-5555-4444.",
          "card [REDACTED:pan:1111] ok; [REDACTED:pan:4444].", 2);

    /* a JSON number: replaced all the same (the body then fails to parse) */
    check(COMPLIANCE_REDACT_PAN, "{\"n\":" VISA "}",
          "{\"n\":[REDACTED:pan:1111]}", 1);

    /* percent-encoded in a URL the API returns */
    check(COMPLIANCE_REDACT_PAN,
          "{\"next\":\"/pay?c=4111%201111%201111%201111\"}",
          "{\"next\":\"/pay?c=[REDACTED:pan:1111]\"}", 1);

    /* at the very start and the very end of the body */
    check(COMPLIANCE_REDACT_PAN, VISA, "[REDACTED:pan:1111]", 1);
    check(COMPLIANCE_REDACT_PAN, "x " VISA, "x [REDACTED:pan:1111]", 1);
}


static void
test_not_cards(void **state)
{
    (void) state;

    /* Luhn fails; major industry digit 7, 8, 9, 0, 1 */
    check(COMPLIANCE_REDACT_PAN, "{\"id\":\"4111111111111112\"}",
          "{\"id\":\"4111111111111112\"}", 0);
    check(COMPLIANCE_REDACT_PAN, "{\"id\":\"7992739871300000\"}",
          "{\"id\":\"7992739871300000\"}", 0);

    /* glued to hex letters: part of a hash or UUID */
    check(COMPLIANCE_REDACT_PAN, "{\"h\":\"a4111111111111111\"}",
          "{\"h\":\"a4111111111111111\"}", 0);
    check(COMPLIANCE_REDACT_PAN, "{\"h\":\"4111111111111111f\"}",
          "{\"h\":\"4111111111111111f\"}", 0);

    /* too short, too long */
    check(COMPLIANCE_REDACT_PAN, "411111111111", "411111111111", 0);
    check(COMPLIANCE_REDACT_PAN, "41111111111111111111111",
          "41111111111111111111111", 0);

    /* timestamps and ids */
    check(COMPLIANCE_REDACT_PAN,
          "{\"ts\":1767225600123,\"id\":88421,\"v\":\"1.2.3\"}",
          "{\"ts\":1767225600123,\"id\":88421,\"v\":\"1.2.3\"}", 0);
}


static void
test_other_detectors(void **state)
{
    (void) state;

    check(COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN,
          "{\"ssn\":\"123-45-6789\",\"c\":\"" VISA "\"}",
          "{\"ssn\":\"[REDACTED:ssn]\",\"c\":\"[REDACTED:pan:1111]\"}", 2);

    check(COMPLIANCE_REDACT_EMAIL,
          "{\"to\":\"jane.doe@example.com\"}",
          "{\"to\":\"[REDACTED:email]\"}", 1);

    check(COMPLIANCE_REDACT_JWT | COMPLIANCE_REDACT_API_KEY,
          "{\"t\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\"}",
          "{\"t\":\"[REDACTED:jwt]\"}", 1);

    check(COMPLIANCE_REDACT_BEARER,
          "{\"h\":\"Bearer abc.def-123\"}",
          "{\"h\":\"Bearer [REDACTED:bearer]\"}", 1);

    /* a body is not a query string: "ssn=" names nothing */
    check(COMPLIANCE_REDACT_SSN, "?ssn=abc&x=1", "?ssn=abc&x=1", 0);
}


static void
test_joins(void **state)
{
    u_char                joins[256];
    compliance_redact_t  *r;

    (void) state;

    r = make(COMPLIANCE_REDACT_PAN);
    compliance_redact_joins(r, joins);

    assert_true(joins['0'] && joins['9'] && joins[' '] && joins['-']);
    assert_true(joins['%'] && joins['a'] && joins['F'] && joins['.']);
    assert_false(joins['"'] || joins[','] || joins['g'] || joins['\n']);
    assert_false(joins['{'] || joins[':'] || joins[0x80]);

    compliance_redact_free(r);

    r = make(COMPLIANCE_REDACT_ALL);
    compliance_redact_joins(r, joins);
    assert_true(joins['g'] && joins['@'] && joins['\n']);
    assert_false(joins['"'] || joins[','] || joins['{']);
    compliance_redact_free(r);
}


static void
test_limits(void **state)
{
    u_char                           buf[64];
    out_t                            o;
    compliance_redact_t             *r;
    compliance_redact_stream_t       s;
    compliance_redact_stream_conf_t  conf;

    (void) state;

    r = make(COMPLIANCE_REDACT_PAN);
    memset(&o, 0, sizeof(out_t));
    memset(buf, '1', sizeof(buf));

    compliance_redact_stream_conf(&conf, r, emit, alloc, dealloc);
    compliance_redact_stream_init(&s, &conf, &o, 100);

    /* digits never separate: all of them are held, within max */
    assert_int_equal(compliance_redact_stream_feed(&s, buf, 64),
                     COMPLIANCE_REDACT_STREAM_OK);
    assert_int_equal(o.len, 0);
    assert_int_equal(s.hold_len, 64);
    assert_true(s.hold_size <= 100);

    assert_int_equal(compliance_redact_stream_feed(&s, buf, 36),
                     COMPLIANCE_REDACT_STREAM_OK);
    assert_int_equal(compliance_redact_stream_feed(&s, buf, 1),
                     COMPLIANCE_REDACT_STREAM_TOO_LARGE);

    /* after a failure nothing more goes out */
    assert_int_equal(compliance_redact_stream_finish(&s),
                     COMPLIANCE_REDACT_STREAM_ERROR);
    assert_int_equal(o.len, 0);

    compliance_redact_stream_free(&s);
    assert_int_equal(o.allocs, o.frees);

    free(o.p);
    compliance_redact_free(r);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_not_cards),
        cmocka_unit_test(test_other_detectors),
        cmocka_unit_test(test_joins),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
