/*
 * compliance_status (SPEC 13): counters in one shared memory zone of
 * their own, counted where each decision is made, and the content
 * handler that answers them as Prometheus text or JSON.  The counting
 * API below is all another concern needs; every call is one atomic add
 * (no lock), and a no-op when no compliance_status is configured.
 */

#ifndef _NGX_HTTP_COMPLIANCE_STATUS_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * What is counted.  The order is the layout of the shared counters:
 * append new events just before _EVENTS and bump
 * NGX_HTTP_COMPLIANCE_STATUS_LAYOUT in ngx_http_compliance_status.c
 * (a reload with another layout starts the counters afresh).  Refusals
 * are counted by reason with ngx_http_compliance_status_refusal().
 */
typedef enum {
    /* compliance_requests_total{outcome}: one per main request, LOG */
    NGX_HTTP_COMPLIANCE_STATUS_ALLOWED = 0,
    NGX_HTTP_COMPLIANCE_STATUS_DENIED,
    NGX_HTTP_COMPLIANCE_STATUS_PUBLIC,

    /* compliance_audit_records_total, compliance_audit_lost_records_total */
    NGX_HTTP_COMPLIANCE_STATUS_AUDIT_RECORDS,
    NGX_HTTP_COMPLIANCE_STATUS_AUDIT_LOST,

    /* compliance_jwt_cache_total{result} */
    NGX_HTTP_COMPLIANCE_STATUS_JWT_CACHE_HIT,
    NGX_HTTP_COMPLIANCE_STATUS_JWT_CACHE_MISS,

    /* compliance_jwks_fetch_total{result}: compliance_jwt_keys_request */
    NGX_HTTP_COMPLIANCE_STATUS_JWKS_FETCH_OK,
    NGX_HTTP_COMPLIANCE_STATUS_JWKS_FETCH_ERROR,

    /* compliance_oauth2_token_fetch_total{result}: upstream OAuth2 */
    NGX_HTTP_COMPLIANCE_STATUS_OAUTH2_FETCH_OK,
    NGX_HTTP_COMPLIANCE_STATUS_OAUTH2_FETCH_ERROR,

    NGX_HTTP_COMPLIANCE_STATUS_EVENTS
} ngx_http_compliance_status_event_e;


typedef struct ngx_http_compliance_status_sh_s
    ngx_http_compliance_status_sh_t;


/* embedded in ngx_http_compliance_main_conf_t as .status */
typedef struct {
    ngx_shm_zone_t                   *zone;     /* NULL: nothing counted */
    ngx_http_compliance_status_sh_t  *sh;       /* set by the zone init */
    ngx_array_t                      *places;   /* compliance_status */
    ngx_array_t                      *certs;    /* server certificates */
    ngx_uint_t                        gaps;     /* posture gaps at load */
    ngx_flag_t                        posture;  /* gaps were evaluated */
} ngx_http_compliance_status_main_conf_t;


/*
 * r: the request the event belongs to, or NULL outside one (a timer):
 * the counters of the running cycle are used.
 */
void ngx_http_compliance_status_count(ngx_http_request_t *r,
    ngx_uint_t event);
void ngx_http_compliance_status_add(ngx_http_request_t *r, ngx_uint_t event,
    ngx_atomic_uint_t n);
void ngx_http_compliance_status_refusal(ngx_http_request_t *r,
    const char *reason);

/* posture.c, at config load: the gaps of this configuration */
void ngx_http_compliance_status_posture(ngx_conf_t *cf, ngx_uint_t gaps);

/* posture.c: whether a location's content handler is the status page */
ngx_uint_t ngx_http_compliance_status_endpoint(
    ngx_http_core_loc_conf_t *core);

/* module.c: the directive, and postconfiguration */
char *ngx_http_compliance_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_compliance_status_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_COMPLIANCE_STATUS_H_INCLUDED_ */
