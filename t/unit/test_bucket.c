/*
 * Token-bucket arithmetic (SPEC 6 rate limits).
 */

#include "unit.h"

#include "compliance_bucket.h"


static void take(compliance_bucket_t *b, uint64_t now,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *r);
static uint64_t run(uint64_t rate, uint64_t period, uint64_t burst,
    uint64_t step, uint64_t duration);
static void test_size(void **state);
static void test_five_per_minute(void **state);
static void test_default_burst(void **state);
static void test_sustained(void **state);
static void test_refill_after_wait(void **state);
static void test_reset_and_retry(void **state);
static void test_clock_backwards(void **state);
static void test_huge_gap(void **state);
static void test_peek(void **state);
static void test_conf_check(void **state);
static void test_shrunk_conf(void **state);


static void
take(compliance_bucket_t *b, uint64_t now, const compliance_bucket_conf_t *c,
    compliance_bucket_result_t *r)
{
    assert_int_equal(compliance_bucket_take(b, now, c, r),
                     COMPLIANCE_BUCKET_OK);
}


/* Requests every step ms from 0 to duration inclusive; returns accepted. */
static uint64_t
run(uint64_t rate, uint64_t period, uint64_t burst, uint64_t step,
    uint64_t duration)
{
    uint64_t                    t, ok;
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c;
    compliance_bucket_result_t  r;

    c.rate = rate;
    c.period_ms = period;
    c.burst = burst;

    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);

    ok = 0;

    for (t = 0; t <= duration; t += step) {
        take(&b, t, &c, &r);

        if (r.allowed) {
            ok++;
            assert_int_equal(r.retry_after, 0);

        } else {
            assert_true(r.retry_after >= 1);
            assert_int_equal(r.remaining, 0);
        }
    }

    return ok;
}


static void
test_size(void **state)
{
    (void) state;

    /* It sits in shared memory once per key. */
    assert_int_equal(sizeof(compliance_bucket_t), 16);
}


static void
test_five_per_minute(void **state)
{
    int                         i;
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 5, 60000, 5 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 1000000, &c),
                     COMPLIANCE_BUCKET_OK);

    for (i = 0; i < 5; i++) {
        take(&b, 1000000, &c, &r);
        assert_true(r.allowed);
        assert_int_equal(r.remaining, 4 - i);
        assert_int_equal(r.limit, 5);
        assert_int_equal(r.retry_after, 0);
        assert_int_equal(r.reset, 12 * (i + 1));
    }

    take(&b, 1000000, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 12);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.reset, 60);

    /* A refusal costs nothing: 1 ms before the token it is still 1 s. */
    take(&b, 1000000 + 11999, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1);

    take(&b, 1000000 + 12000, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);

    take(&b, 1000000 + 12000, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 12);
}


static void
test_default_burst(void **state)
{
    int                         i;
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 3, 3600000, 0 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);

    for (i = 0; i < 3; i++) {
        take(&b, 0, &c, &r);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 3);
    }

    take(&b, 0, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1200);
    assert_int_equal(r.reset, 3600);
}


static void
test_sustained(void **state)
{
    (void) state;

    /* SPEC example: accepted = burst + rate * elapsed. */
    assert_int_equal(run(600, 60000, 10, 10, 60000), 10 + 600);
    assert_int_equal(run(600, 60000, 10, 1, 120000), 10 + 1200);
    assert_int_equal(run(10, 1000, 20, 7, 10003), 20 + 100);
    assert_int_equal(run(7, 60000, 3, 13, 600002), 3 + 70);
    assert_int_equal(run(1, 1000, 1, 250, 5000), 1 + 5);

    /* Requests slower than the rate: every one passes. */
    assert_int_equal(run(10, 1000, 1, 200, 10000), 51);
}


static void
test_refill_after_wait(void **state)
{
    int                         i;
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 1, 1000, 3 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 5000, &c),
                     COMPLIANCE_BUCKET_OK);

    for (i = 0; i < 3; i++) {
        take(&b, 5000, &c, &r);
        assert_true(r.allowed);
    }

    take(&b, 5000, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1);
    assert_int_equal(r.reset, 3);

    take(&b, 6500, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);

    /* Half a token was left over from the 1.5 s wait. */
    take(&b, 6999, &c, &r);
    assert_false(r.allowed);
    take(&b, 7000, &c, &r);
    assert_true(r.allowed);

    /* A long wait fills to capacity, not beyond. */
    take(&b, 100000, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
}


static void
test_reset_and_retry(void **state)
{
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 1, 1000, 1 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);

    /* A full bucket reports 0 s to full; after one take, 1 s. */
    assert_int_equal(compliance_bucket_peek(&b, 0, &c, &r),
                     COMPLIANCE_BUCKET_OK);
    assert_true(r.allowed);
    assert_int_equal(r.reset, 0);
    assert_int_equal(r.remaining, 1);

    take(&b, 0, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.reset, 1);

    /* Rounded up: 999 ms left is still 1 s, never 0. */
    take(&b, 1, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1);
    assert_int_equal(r.reset, 1);
}


static void
test_clock_backwards(void **state)
{
    int                         i;
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 1, 1000, 2 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 100000, &c),
                     COMPLIANCE_BUCKET_OK);

    for (i = 0; i < 2; i++) {
        take(&b, 100000, &c, &r);
        assert_true(r.allowed);
    }

    /* Back 50 s: no refill, no underflow into a huge credit. */
    take(&b, 50000, &c, &r);
    assert_false(r.allowed);
    assert_int_equal(b.last_ms, 100000);
    assert_int_equal(b.units, 0);

    take(&b, 0, &c, &r);
    assert_false(r.allowed);

    /* Back to normal: only the real second since 100000 counts. */
    take(&b, 100999, &c, &r);
    assert_false(r.allowed);
    take(&b, 101000, &c, &r);
    assert_true(r.allowed);
    take(&b, 101000, &c, &r);
    assert_false(r.allowed);
}


static void
test_huge_gap(void **state)
{
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c;
    compliance_bucket_result_t  r;

    (void) state;

    c.rate = COMPLIANCE_BUCKET_MAX_RATE;
    c.period_ms = COMPLIANCE_BUCKET_MAX_PERIOD;
    c.burst = COMPLIANCE_BUCKET_MAX_BURST;

    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);
    b.units = 0;

    take(&b, UINT64_MAX, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.limit, COMPLIANCE_BUCKET_MAX_BURST);
    assert_int_equal(r.remaining, COMPLIANCE_BUCKET_MAX_BURST - 1);
    assert_int_equal(b.units,
                     (COMPLIANCE_BUCKET_MAX_BURST - 1)
                     * COMPLIANCE_BUCKET_MAX_PERIOD);

    /* Smallest rate, largest gap: saturates at capacity. */
    c.rate = 1;
    c.period_ms = 1;
    c.burst = 5;
    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);
    b.units = 0;

    take(&b, UINT64_MAX, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 4);

    /* 1 ms short of full: exact partial refill, not saturation. */
    c.rate = 1000;
    c.period_ms = COMPLIANCE_BUCKET_MAX_PERIOD;
    c.burst = 2;
    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);
    b.units = 0;

    take(&b, 2 * COMPLIANCE_BUCKET_MAX_PERIOD / 1000 - 1, &c, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(b.units, COMPLIANCE_BUCKET_MAX_PERIOD - 1000);
}


static void
test_peek(void **state)
{
    compliance_bucket_t         b;
    compliance_bucket_conf_t    c = { 2, 1000, 2 };
    compliance_bucket_result_t  r;

    (void) state;

    assert_int_equal(compliance_bucket_init(&b, 0, &c), COMPLIANCE_BUCKET_OK);

    assert_int_equal(compliance_bucket_peek(&b, 0, &c, &r),
                     COMPLIANCE_BUCKET_OK);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);

    take(&b, 0, &c, &r);
    take(&b, 0, &c, &r);
    assert_int_equal(r.remaining, 0);

    assert_int_equal(compliance_bucket_peek(&b, 0, &c, &r),
                     COMPLIANCE_BUCKET_OK);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after, 1);
}


static void
test_conf_check(void **state)
{
    size_t                      i;
    compliance_bucket_t         b;
    compliance_bucket_result_t  r;

    static const compliance_bucket_conf_t  bad[] = {
        { 0, 1000, 1 },
        { 1, 0, 1 },
        { COMPLIANCE_BUCKET_MAX_RATE + 1, 1000, 1 },
        { 1, COMPLIANCE_BUCKET_MAX_PERIOD + 1, 1 },
        { 1, 1000, COMPLIANCE_BUCKET_MAX_BURST + 1 },
    };
    static const compliance_bucket_conf_t  good = { 1, 1000, 0 };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(compliance_bucket_conf_check(&bad[i]),
                         COMPLIANCE_BUCKET_ERROR);
        assert_int_equal(compliance_bucket_init(&b, 0, &bad[i]),
                         COMPLIANCE_BUCKET_ERROR);
        assert_int_equal(compliance_bucket_take(&b, 0, &bad[i], &r),
                         COMPLIANCE_BUCKET_ERROR);
    }

    assert_int_equal(compliance_bucket_conf_check(&good),
                     COMPLIANCE_BUCKET_OK);
}


static void
test_shrunk_conf(void **state)
{
    compliance_bucket_t         b;
    compliance_bucket_conf_t    big = { 10, 1000, 100 };
    compliance_bucket_conf_t    small = { 10, 1000, 5 };
    compliance_bucket_result_t  r;

    (void) state;

    /* A reload lowering the burst clamps an existing full bucket. */
    assert_int_equal(compliance_bucket_init(&b, 0, &big),
                     COMPLIANCE_BUCKET_OK);

    take(&b, 0, &small, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 4);
    assert_int_equal(r.limit, 5);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_five_per_minute),
        cmocka_unit_test(test_default_burst),
        cmocka_unit_test(test_sustained),
        cmocka_unit_test(test_refill_after_wait),
        cmocka_unit_test(test_reset_and_retry),
        cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_huge_gap),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_conf_check),
        cmocka_unit_test(test_shrunk_conf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
