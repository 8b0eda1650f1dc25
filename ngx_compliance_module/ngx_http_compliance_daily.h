/*
 * The run-time checks (ngx_http_compliance_daily.c): certificate expiry
 * and vault entry ages, once per check interval for the whole node, as
 * alert records.  The conf part embedded in the module's main conf, and
 * the certificate list the posture check reads too.
 */

#ifndef _NGX_HTTP_COMPLIANCE_DAILY_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_DAILY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_compliance_conf.h"


/* a certificate expiring sooner is a posture gap and an alert */
#define NGX_HTTP_COMPLIANCE_CERT_DAYS  30


/* one server certificate loaded at config time */
typedef struct {
    ngx_http_core_srv_conf_t   *server;
    u_char                     *subject;        /* NUL-terminated */
    time_t                      expires;        /* notAfter */
    void                       *x509;           /* the cycle's X509 */

    /* an earlier server loaded the same certificate: one alert for it */
    unsigned                    repeated:1;
} ngx_http_compliance_cert_t;


typedef struct ngx_http_compliance_daily_sh_s  ngx_http_compliance_daily_sh_t;


/* embedded in ngx_http_compliance_main_conf_t as .daily */
typedef struct {
    time_t                      interval;       /* 0: off */
    ngx_array_t                *certs;          /* of _cert_t, or NULL */
    ngx_shm_zone_t             *zone;           /* NULL: nothing to check */
    ngx_http_compliance_daily_sh_t  *sh;
    ngx_slab_pool_t            *shpool;
    ngx_event_t                *event;          /* this process's timer */
} ngx_http_compliance_daily_main_conf_t;


char *ngx_http_compliance_check_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_compliance_daily_init(ngx_conf_t *cf);
ngx_int_t ngx_http_compliance_daily_init_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_COMPLIANCE_DAILY_H_INCLUDED_ */
