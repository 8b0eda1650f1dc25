/*
 * A body fetched from an internal location by a subrequest, so nginx's
 * own proxy TLS, resolver, timeouts and cache apply: single flight across
 * the workers (a flag in the user's shared memory, taken over when its
 * owner is past the time-out, so a dead worker cannot wedge it), at most
 * one start per interval, a time-out and a size cap, and requests that
 * wait for the end of a fetch parked without blocking their worker.
 * Users: the remote key sets (jwks.c); the OAuth2 upstream tokens.
 *
 * The subrequest is a GET of the location with no request header and no
 * body; what it sends upstream is the location's (proxy_method POST,
 * proxy_set_header, proxy_set_body with a variable of the user's, which
 * finds its request through sr->parent, the request that fetched), or,
 * with a prepare hook (below), what the hook puts in: the OAuth2 token
 * request is a POST with its own headers and body that way, so that its
 * client credential is never a variable.
 */

#ifndef _NGX_HTTP_COMPLIANCE_FETCH_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_FETCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_compliance_fetch_s  ngx_http_compliance_fetch_t;
typedef struct ngx_http_compliance_fetch_flight_s
    ngx_http_compliance_fetch_flight_t;


/* what came back; error NULL: a complete 200 answer within the cap */
typedef struct {
    ngx_uint_t                          status;     /* 0: no answer */
    ngx_str_t                           body;
    const char                         *error;
} ngx_http_compliance_fetch_result_t;


/*
 * The end of a fetch, once, in the worker that made it.  r is the request
 * that started it (for records), or NULL when that request went away
 * first; the body is only valid during the call.
 */
typedef void (*ngx_http_compliance_fetch_done_pt)(ngx_http_request_t *r,
    ngx_http_compliance_fetch_result_t *res, void *data);

/*
 * Optional: shapes the subrequest sr once its headers are emptied (a
 * method, headers, a body, in r's pool); NGX_ERROR fails the fetch.
 */
typedef ngx_int_t (*ngx_http_compliance_fetch_prepare_pt)(
    ngx_http_request_t *r, ngx_http_request_t *sr, void *data);


/*
 * In the user's shared memory, under the mutex of its slab pool; set up
 * with ngx_http_compliance_fetch_attach() by the user's zone init.
 */
typedef struct {
    ngx_pid_t                           owner;      /* 0: no fetch */
    ngx_msec_t                          started;    /* ngx_current_msec */
    time_t                              last;       /* the last start */
    ngx_uint_t                          ended;      /* fetches ended */
} ngx_http_compliance_fetch_sh_t;


struct ngx_http_compliance_fetch_s {
    ngx_str_t                           uri;        /* the location */
    ngx_msec_t                          timeout;
    size_t                              max;        /* body cap */
    ngx_http_compliance_fetch_done_pt   done;
    void                               *data;

    ngx_http_compliance_fetch_sh_t     *sh;
    ngx_slab_pool_t                    *shpool;

    /* this worker's */
    ngx_http_compliance_fetch_flight_t *flight;     /* its fetch, if any */
    ngx_queue_t                         waiters;
    ngx_event_t                         wake;       /* resumes waiters */
    ngx_event_t                         expire;     /* its fetch's timer */

    /* set by the user after create(), or NULL: a GET with no headers */
    ngx_http_compliance_fetch_prepare_pt  prepare;
};


/* config time: uri is kept as given (cf->pool) */
ngx_http_compliance_fetch_t *ngx_http_compliance_fetch_create(ngx_conf_t *cf,
    ngx_str_t *uri, ngx_msec_t timeout, size_t max,
    ngx_http_compliance_fetch_done_pt done, void *data);

/* zone init: fresh is set when sh is new memory (it is then cleared) */
void ngx_http_compliance_fetch_attach(ngx_http_compliance_fetch_t *f,
    ngx_slab_pool_t *shpool, ngx_http_compliance_fetch_sh_t *sh,
    ngx_uint_t fresh);

/* postconfiguration: the capture filters, when any fetch exists */
ngx_int_t ngx_http_compliance_fetch_init(ngx_conf_t *cf);

/*
 * Starts a fetch as a background subrequest of r (a main request):
 * NGX_OK; NGX_BUSY when one is under way (any worker); NGX_DECLINED when
 * the last start is less than min_interval seconds old; NGX_ERROR.
 */
ngx_int_t ngx_http_compliance_fetch_start(ngx_http_request_t *r,
    ngx_http_compliance_fetch_t *f, time_t min_interval);

/* a fetch is under way (any worker), as far as a lock-free read tells */
ngx_uint_t ngx_http_compliance_fetch_busy(ngx_http_compliance_fetch_t *f);

/*
 * Parks r (a main request in a phase handler) until the fetch under way
 * ends, in any worker, or the time-out passes; its phases then run again
 * from the same handler.  Returns NGX_DONE, for the handler to return,
 * or NGX_ERROR.
 */
ngx_int_t ngx_http_compliance_fetch_wait(ngx_http_request_t *r,
    ngx_http_compliance_fetch_t *f);


/*
 * A user's state for one request, in a cleanup of the main request's
 * pool (handler frees it): the state's first member is its owner (the
 * user's own conf), so several users and owners share one request.  The
 * state of owner, else a new one (zeroed, owner set) when create is set,
 * else NULL.
 */
void *ngx_http_compliance_fetch_req_state(ngx_http_request_t *r,
    void *owner, size_t size, ngx_pool_cleanup_pt handler,
    ngx_uint_t create);

#endif /* _NGX_HTTP_COMPLIANCE_FETCH_H_INCLUDED_ */
