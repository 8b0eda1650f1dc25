/*
 * Request headers the module reads or drops (ngx_http_compliance_
 * reqheaders.c): matched as $http_<name> matches, resolved at config time.
 */

#ifndef _NGX_HTTP_COMPLIANCE_REQHEADERS_H_INCLUDED_
#define _NGX_HTTP_COMPLIANCE_REQHEADERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t                        name;      /* lowercase, "-" for "_" */
    ngx_int_t                        var;       /* $http_<name>, or ERROR */
} ngx_http_compliance_header_t;


/* a header matched without a cached variable, e.g. "Origin" */
#define ngx_http_compliance_header(lowcase)                                  \
    { ngx_string(lowcase), NGX_ERROR }


ngx_int_t ngx_http_compliance_header_init(ngx_conf_t *cf,
    ngx_http_compliance_header_t *h, ngx_str_t *name);
ngx_uint_t ngx_http_compliance_header_count(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h, ngx_str_t *value);
ngx_int_t ngx_http_compliance_header_strip(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h);
ngx_int_t ngx_http_compliance_header_copy(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h, ngx_table_elt_t *elt, ngx_uint_t extra);
void ngx_http_compliance_header_invalidate(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h);


#endif /* _NGX_HTTP_COMPLIANCE_REQHEADERS_H_INCLUDED_ */
