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
    /* zones some compliance_auth_failure_limit uses: ngx_shm_zone_t * */
    ngx_array_t                          *failure_zones;
    /* zones with redis= (SPEC 15): ngx_http_compliance_redis_t * */
    ngx_array_t                          *redis;
} ngx_http_compliance_limit_main_conf_t;


/* embedded in ngx_http_compliance_loc_conf_t as .limit */
typedef struct {
    ngx_array_t                          *limits;   /* compliance_limit */
    ngx_http_compliance_failure_limit_t  *failure;  /* auth_failure_limit */
    ngx_flag_t                            admin;    /* lockout_admin */
} ngx_http_compliance_limit_loc_conf_t;


/*
 * One running lockout as compliance_lockout_admin reports it: the key
 * is the address as stored (4 bytes of IPv4, the 8 bytes of an IPv6
 * /64, none for unix-socket peers).
 */
typedef struct {
    ngx_shm_zone_t                       *zone;
    u_char                                addr[8];
    size_t                                len;
    ngx_msec_t                            left;     /* ms of the block */
    ngx_uint_t                            failures;
} ngx_http_compliance_lockout_t;


/* embedded in ngx_http_compliance_ctx_t as .limit */
typedef struct {
    /* one entry per zone already charged or checked for this request */
    ngx_array_t                          *results;
    /* a Redis round trip (ngx_http_compliance_redis_wait_t), if any */
    void                                 *redis;
} ngx_http_compliance_limit_ctx_t;


#endif /* _NGX_HTTP_COMPLIANCE_LIMIT_H_INCLUDED_ */
