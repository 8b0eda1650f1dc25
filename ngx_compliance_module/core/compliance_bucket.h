/*
 * Token-bucket arithmetic for per-key rate limits (SPEC 6): capacity =
 * burst (default: rate), refill rate tokens per period, a new key starts
 * full.  Pure integer arithmetic; the state lives wherever the caller
 * keeps it (a shared-memory node in the module).
 */

#ifndef _COMPLIANCE_BUCKET_H_INCLUDED_
#define _COMPLIANCE_BUCKET_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * Bounds that keep every product below 2^63: rate and burst up to 10^9,
 * period up to 1 day.
 */
#define COMPLIANCE_BUCKET_MAX_RATE    1000000000ULL
#define COMPLIANCE_BUCKET_MAX_BURST   1000000000ULL
#define COMPLIANCE_BUCKET_MAX_PERIOD  86400000ULL

#define COMPLIANCE_BUCKET_OK     0
#define COMPLIANCE_BUCKET_ERROR  -1


typedef struct {
    uint64_t  rate;        /* tokens added per period, >= 1 */
    uint64_t  period_ms;   /* 1000 for r/s, 60000 for r/m, ... */
    uint64_t  burst;       /* capacity in tokens; 0 means rate */
} compliance_bucket_conf_t;


/*
 * 16 bytes.  One token is period_ms units, and every elapsed millisecond
 * adds rate units: refill is exact for any rate/period, with no drift.
 */
typedef struct {
    uint64_t  last_ms;     /* latest time seen; never moves backwards */
    uint64_t  units;       /* current content, 0..burst * period_ms */
} compliance_bucket_t;


typedef struct {
    unsigned  allowed:1;
    uint64_t  remaining;   /* whole tokens left after this request */
    uint64_t  retry_after; /* seconds until one token; 0 when allowed */
    uint64_t  reset;       /* seconds until full again (ceil) */
    uint64_t  limit;       /* capacity in tokens (the effective burst) */
} compliance_bucket_result_t;


/* Returns COMPLIANCE_BUCKET_OK when the conf is within bounds. */
int compliance_bucket_conf_check(const compliance_bucket_conf_t *c);

/* A new bucket starts full. */
int compliance_bucket_init(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c);

/*
 * Refills for the time elapsed since the last call (none when the clock
 * went backwards), then takes one token if there is one.  Fills res in
 * both cases.  Returns COMPLIANCE_BUCKET_ERROR only for a bad conf.
 */
int compliance_bucket_take(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res);

/* Like take, but only reports; the bucket is refilled, never charged. */
int compliance_bucket_peek(compliance_bucket_t *b, uint64_t now_ms,
    const compliance_bucket_conf_t *c, compliance_bucket_result_t *res);


#endif /* _COMPLIANCE_BUCKET_H_INCLUDED_ */
