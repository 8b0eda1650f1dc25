/*
 * compliance_upstream_oauth2 (SPEC 16): an upstream access token from the
 * client-credentials grant (RFC 6749 4.4), fetched through an internal
 * location with fetch.c, kept in shared memory for every worker and
 * injected by vault.c the way a static credential is.
 */

#ifndef _NGX_HTTP_COMPLIANCE_OAUTH2_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_OAUTH2_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "compliance_vault.h"


typedef struct ngx_http_compliance_oauth2_s  ngx_http_compliance_oauth2_t;


/* the directive (location) */
char *ngx_http_compliance_upstream_oauth2(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* merge time: the client secret from the vault; NULL or why not */
const char *ngx_http_compliance_oauth2_resolve(ngx_conf_t *cf,
    ngx_http_compliance_oauth2_t *o, compliance_vault_t *vault);

/*
 * The token for r (a main request in a phase handler): NGX_OK with
 * *token (in r->main->pool, wiped when it ends); NGX_DONE when r was
 * parked until a fetch ends (the handler returns NGX_DONE and runs
 * again); NGX_DECLINED when there is none to be had; NGX_ERROR.
 */
ngx_int_t ngx_http_compliance_oauth2_token(ngx_http_request_t *r,
    ngx_http_compliance_oauth2_t *o, ngx_str_t *token);


#endif /* _NGX_HTTP_COMPLIANCE_OAUTH2_H_INCLUDED_ */
