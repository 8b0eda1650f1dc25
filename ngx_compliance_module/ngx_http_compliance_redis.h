/*
 * Fleet-wide limits on Redis (SPEC 15): the zone options of
 * compliance_limit_zone (redis=, redis_password_file=, mode=, sync=,
 * fail=) and the per-worker client that ngx_http_compliance_limit.c
 * calls.  One keepalive connection per zone and worker, on nginx's event
 * loop, commands pipelined; the RESP bytes are core/compliance_resp.c.
 */

#ifndef _NGX_HTTP_COMPLIANCE_REDIS_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_bucket.h"


#define NGX_HTTP_COMPLIANCE_REDIS_STRICT   1
#define NGX_HTTP_COMPLIANCE_REDIS_SYNC     2

#define NGX_HTTP_COMPLIANCE_REDIS_OPEN     0
#define NGX_HTTP_COMPLIANCE_REDIS_CLOSED   1

/* no request waits on Redis longer than this (SPEC 15) */
#define NGX_HTTP_COMPLIANCE_REDIS_WAIT     50

/* ngx_http_compliance_redis_answer_t.state */
#define NGX_HTTP_COMPLIANCE_REDIS_NONE     0
#define NGX_HTTP_COMPLIANCE_REDIS_PENDING  1
#define NGX_HTTP_COMPLIANCE_REDIS_DONE     2
#define NGX_HTTP_COMPLIANCE_REDIS_FAILED   3


typedef struct ngx_http_compliance_redis_s  ngx_http_compliance_redis_t;


/* what the shared script answered for one limit of a request */
typedef struct {
    ngx_uint_t                     state;
    ngx_uint_t                     allowed;
    uint64_t                       units;    /* bucket content after */
    uint64_t                       now;      /* Redis TIME, ms */
    uint64_t                       lock;     /* ms the fleet's lock runs */
    ngx_str_t                      key;      /* the Redis key asked */
} ngx_http_compliance_redis_answer_t;


/*
 * One request's round trip: an answer per limit of the location it was
 * asked for (limits), in r->pool.  The request waits (NGX_DONE) until
 * every answer is in, the 50 ms timer fires, or the connection fails.
 */
typedef struct {
    ngx_http_request_t            *r;
    void                          *limits;   /* the ngx_array_t asked */
    ngx_uint_t                     n;
    ngx_uint_t                     pending;
    ngx_http_compliance_redis_answer_t  *answers;
    ngx_event_t                    timer;
    unsigned                       waiting:1;
    unsigned                       resumed:1; /* the phase runs again */
} ngx_http_compliance_redis_wait_t;


/*
 * counters of one zone's Redis, shared by the workers; compliance_status
 * reads them in this order (ngx_http_compliance_status_redis())
 */
typedef struct {
    ngx_atomic_t                   requests;  /* commands answered */
    ngx_atomic_t                   errors;    /* error replies */
    ngx_atomic_t                   timeouts;  /* requests past 50 ms */
    ngx_atomic_t                   fallbacks; /* decided without Redis */
    ngx_atomic_t                   refused;   /* 503 with fail=closed */
    ngx_atomic_t                   outages;
    ngx_atomic_t                   reconnects;
    /* a bit per worker (ngx_worker) whose connection is down: an
     * outage runs from the first bit set to the last one cleared */
    ngx_atomic_t                   outage;
    ngx_atomic_t                   alerted;   /* the outage alerted */
    ngx_atomic_t                   generation; /* +1 at each reload */
} ngx_http_compliance_redis_counters_t;


char *ngx_http_compliance_redis_zone_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *zone, ngx_str_t *args, ngx_uint_t n,
    ngx_http_compliance_redis_t **rdp);
ngx_uint_t ngx_http_compliance_redis_mode(ngx_http_compliance_redis_t *rd);
ngx_uint_t ngx_http_compliance_redis_fail(ngx_http_compliance_redis_t *rd);
ngx_uint_t ngx_http_compliance_redis_ready(ngx_http_compliance_redis_t *rd);
ngx_http_compliance_redis_counters_t *ngx_http_compliance_redis_counters(
    ngx_http_compliance_redis_t *rd);
ngx_str_t *ngx_http_compliance_redis_zone(ngx_http_compliance_redis_t *rd);

ngx_int_t ngx_http_compliance_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_compliance_redis_exit_process(ngx_cycle_t *cycle);

/* the Redis key of a bucket: "compliance:<zone>:<type><key bytes>" */
ngx_int_t ngx_http_compliance_redis_key(ngx_pool_t *pool, ngx_str_t *zone,
    u_char type, ngx_str_t *data, ngx_str_t *out);

ngx_http_compliance_redis_wait_t *ngx_http_compliance_redis_wait(
    ngx_http_request_t *r, ngx_http_compliance_redis_wait_t *wait,
    void *limits, ngx_uint_t n);
ngx_int_t ngx_http_compliance_redis_take(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_wait_t *wait, ngx_uint_t i, ngx_str_t *key,
    compliance_bucket_conf_t *bc);
ngx_int_t ngx_http_compliance_redis_suspend(
    ngx_http_compliance_redis_wait_t *wait);
void ngx_http_compliance_redis_refund(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc);
void ngx_http_compliance_redis_fallback(ngx_http_request_t *r,
    ngx_http_compliance_redis_t *rd, ngx_str_t *zone);

/*
 * The fleet's bucket content of a key after a sync (or a failure), and
 * for a failure how long the fleet's lock of it runs (ms, 0: none).
 */
typedef void (*ngx_http_compliance_redis_sync_pt)(void *data,
    ngx_str_t *key, uint64_t units, uint64_t lock);

void ngx_http_compliance_redis_sync_handler(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_sync_pt handler, void *data);
ngx_int_t ngx_http_compliance_redis_lease(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc);
ngx_uint_t ngx_http_compliance_redis_lease_left(
    ngx_http_compliance_redis_t *rd, ngx_str_t *key,
    compliance_bucket_conf_t *bc);
ngx_int_t ngx_http_compliance_redis_failure(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc, ngx_msec_t block_ms);
void ngx_http_compliance_redis_forget(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key);


#endif /* _NGX_HTTP_COMPLIANCE_REDIS_H_INCLUDED_ */
