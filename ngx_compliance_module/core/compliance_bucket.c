/*
 * Token-bucket arithmetic.
 */

#include "compliance_bucket.h"


static uint64_t compliance_bucket_capacity(const compliance_bucket_conf_t *c);
static uint64_t compliance_bucket_ceil_div(uint64_t a, uint64_t b);
static void compliance_bucket_refill(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, uint64_t cap);
static void compliance_bucket_report(const compliance_bucket_t *b,
    const compliance_bucket_conf_t *c, uint64_t cap,
    compliance_bucket_result_t *res);
static int compliance_bucket_do(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res,
    int charge);


static uint64_t
compliance_bucket_capacity(const compliance_bucket_conf_t *c)
{
    return (c->burst ? c->burst : c->rate) * c->period_ms;
}


static uint64_t
compliance_bucket_ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}


int
compliance_bucket_conf_check(const compliance_bucket_conf_t *c)
{
    if (c->rate == 0 || c->rate > COMPLIANCE_BUCKET_MAX_RATE
        || c->period_ms == 0 || c->period_ms > COMPLIANCE_BUCKET_MAX_PERIOD
        || c->burst > COMPLIANCE_BUCKET_MAX_BURST)
    {
        return COMPLIANCE_BUCKET_ERROR;
    }

    return COMPLIANCE_BUCKET_OK;
}


int
compliance_bucket_init(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c)
{
    if (compliance_bucket_conf_check(c) != COMPLIANCE_BUCKET_OK) {
        return COMPLIANCE_BUCKET_ERROR;
    }

    b->last_ms = now_ms;
    b->units = compliance_bucket_capacity(c);

    return COMPLIANCE_BUCKET_OK;
}


static void
compliance_bucket_refill(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, uint64_t cap)
{
    uint64_t  elapsed, deficit;

    /* A reload may have shrunk the bucket under an existing node. */
    if (b->units > cap) {
        b->units = cap;
    }

    /*
     * A clock that went backwards refills nothing, and last_ms stays put
     * so the same interval is not credited twice when time catches up.
     */
    if (now_ms <= b->last_ms) {
        return;
    }

    elapsed = now_ms - b->last_ms;
    b->last_ms = now_ms;

    deficit = cap - b->units;

    /* Compare before multiplying: a huge gap must saturate, not wrap. */
    if (elapsed >= compliance_bucket_ceil_div(deficit, c->rate)) {
        b->units = cap;
        return;
    }

    b->units += elapsed * c->rate;
}


static void
compliance_bucket_report(const compliance_bucket_t *b,
    const compliance_bucket_conf_t *c, uint64_t cap,
    compliance_bucket_result_t *res)
{
    uint64_t  ms;

    res->limit = cap / c->period_ms;
    res->remaining = b->units / c->period_ms;

    ms = compliance_bucket_ceil_div(cap - b->units, c->rate);
    res->reset = compliance_bucket_ceil_div(ms, 1000);
}


static int
compliance_bucket_do(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res,
    int charge)
{
    uint64_t  cap, ms;

    if (compliance_bucket_conf_check(c) != COMPLIANCE_BUCKET_OK) {
        return COMPLIANCE_BUCKET_ERROR;
    }

    cap = compliance_bucket_capacity(c);

    compliance_bucket_refill(b, now_ms, c, cap);

    if (b->units >= c->period_ms) {
        if (charge) {
            b->units -= c->period_ms;
        }

        res->allowed = 1;
        res->retry_after = 0;

    } else {
        res->allowed = 0;

        /*
         * units < period_ms, so ms >= 1 and retry_after >= 1; rounding up
         * means a client retrying after that many seconds gets a token.
         */
        ms = compliance_bucket_ceil_div(c->period_ms - b->units, c->rate);
        res->retry_after = compliance_bucket_ceil_div(ms, 1000);
    }

    compliance_bucket_report(b, c, cap, res);

    return COMPLIANCE_BUCKET_OK;
}


int
compliance_bucket_take(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res)
{
    return compliance_bucket_do(b, now_ms, c, res, 1);
}


int
compliance_bucket_peek(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res)
{
    return compliance_bucket_do(b, now_ms, c, res, 0);
}
