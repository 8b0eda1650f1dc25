/*
 * compliance_jwt_keys_request (SPEC 14): the key set of an identity
 * provider, fetched through an internal location (fetch.c), kept in
 * shared memory for every worker and across reloads, and on disk
 * (cache=) across restarts.
 */

#ifndef _NGX_HTTP_COMPLIANCE_JWKS_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_JWKS_H_INCLUDED_


#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_fetch.h"


/*
 * The reason jwt_authenticate() returns when the request waits for a
 * fetch: the phase handler then returns NGX_DONE, and runs again.
 */
extern const char  ngx_http_compliance_jwks_parked[];


/* the directive */
char *ngx_http_compliance_jwt_keys_request(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* before ngx_http_compliance_jwt_merge_conf(): which source of keys */
char *ngx_http_compliance_jwks_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *prev,
    ngx_http_compliance_jwt_conf_t *conf);

/* after it: the algorithms a fetched key may serve */
char *ngx_http_compliance_jwks_merge_algs(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *conf);

/*
 * The key set to verify with (and its id for the token cache).  NULL
 * with them set; else a reason: ngx_http_compliance_jwks_parked, or
 * "keys_unavailable" (*internal NGX_HTTP_SERVICE_UNAVAILABLE) or
 * "internal_error" (*internal 1).
 */
const char *ngx_http_compliance_jwks_keys(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, compliance_jwt_keyset_t **ks,
    ngx_uint_t *keys_id, ngx_uint_t *internal);

/*
 * A token's kid is not in the set: NULL (it stays unknown), or
 * ngx_http_compliance_jwks_parked while a refresh is fetched.
 */
const char *ngx_http_compliance_jwks_unknown(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, ngx_uint_t *internal);


#endif /* _NGX_HTTP_COMPLIANCE_JWKS_H_INCLUDED_ */
