/*
 * Rate limits and auth-failure lockouts: the conf and ctx pieces embedded
 * in the module's structs (see ngx_http_compliance_module.h).  The zone,
 * node and limit structures are private to ngx_http_compliance_limit.c.
 */

#ifndef _NGX_HTTP_COMPLIANCE_LIMIT_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_compliance_failure_limit_s
    ngx_http_compliance_failure_limit_t;


/* embedded in ngx_http_compliance_main_conf_t as .limit */
typedef struct {
    ngx_uint_t                            zones;    /* declared zones */
} ngx_http_compliance_limit_main_conf_t;


/* embedded in ngx_http_compliance_loc_conf_t as .limit */
typedef struct {
    ngx_array_t                          *limits;   /* compliance_limit */
    ngx_http_compliance_failure_limit_t  *failure;  /* auth_failure_limit */
} ngx_http_compliance_limit_loc_conf_t;


/* embedded in ngx_http_compliance_ctx_t as .limit */
typedef struct {
    /* one entry per zone already charged or checked for this request */
    ngx_array_t                          *results;
} ngx_http_compliance_limit_ctx_t;


#endif /* _NGX_HTTP_COMPLIANCE_LIMIT_H_INCLUDED_ */
