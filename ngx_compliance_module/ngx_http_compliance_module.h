/*
 * ngx_http_compliance_module: conf structs, per-request ctx and the
 * prototypes shared by the glue files.
 */

#ifndef _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_COMPLIANCE_REQID_LEN   36

#define NGX_HTTP_COMPLIANCE_TLS_ANY     0
#define NGX_HTTP_COMPLIANCE_TLS_1_2     0x0303
#define NGX_HTTP_COMPLIANCE_TLS_1_3     0x0304

#define NGX_HTTP_COMPLIANCE_CORS_DENY   0
#define NGX_HTTP_COMPLIANCE_CORS_PASS   1


/* how a request was let in; also $compliance_auth_method */
typedef enum {
    NGX_HTTP_COMPLIANCE_AUTH_NONE = 0,
    NGX_HTTP_COMPLIANCE_AUTH_PUBLIC,
    NGX_HTTP_COMPLIANCE_AUTH_JWT,
    NGX_HTTP_COMPLIANCE_AUTH_API_KEY
} ngx_http_compliance_auth_e;


typedef struct {
    /* set by any directive that needs the request handler or filter */
    ngx_flag_t                  handler_needed;
    ngx_flag_t                  filter_needed;
} ngx_http_compliance_main_conf_t;


typedef struct {
    ngx_flag_t                  enable;
    ngx_str_t                   public_reason;  /* .data != NULL: public */
    ngx_uint_t                  cors_preflight;

    ngx_flag_t                  https_redirect;
    ngx_int_t                   https_port;     /* 0: default 443 */
    ngx_uint_t                  tls_min;        /* TLS version number */

    ngx_str_t                   hsts;           /* header value, or empty */
} ngx_http_compliance_loc_conf_t;


/*
 * One per main request.  It is also registered as a pool cleanup so it
 * survives internal redirects (which reset r->ctx) and so that secrets
 * held here are wiped when the request ends.
 */
typedef struct {
    u_char                      request_id[NGX_HTTP_COMPLIANCE_REQID_LEN];

    ngx_http_compliance_auth_e  auth_method;
    ngx_str_t                   reason;         /* SPEC reason, or empty */
    ngx_str_t                   public_reason;

    unsigned                    authenticated:1;
    unsigned                    refused:1;
} ngx_http_compliance_ctx_t;


extern ngx_module_t  ngx_http_compliance_module;


/* ngx_http_compliance_module.c */
ngx_http_compliance_ctx_t *ngx_http_compliance_get_ctx(ngx_http_request_t *r);
ngx_http_compliance_ctx_t *ngx_http_compliance_ensure_ctx(
    ngx_http_request_t *r);

/* ngx_http_compliance_access.c */
ngx_int_t ngx_http_compliance_access_handler(ngx_http_request_t *r);

/* ngx_http_compliance_headers.c */
ngx_int_t ngx_http_compliance_headers_init(ngx_conf_t *cf);

/* ngx_http_compliance_problem.c */
ngx_int_t ngx_http_compliance_problem(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason);
ngx_int_t ngx_http_compliance_set_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);

/* ngx_http_compliance_reqid.c */
ngx_int_t ngx_http_compliance_reqid_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_compliance_reqid_generate(u_char *dst);


#endif /* _NGX_HTTP_COMPLIANCE_MODULE_H_INCLUDED_ */
