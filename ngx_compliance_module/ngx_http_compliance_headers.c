/*
 * Header filter: X-Request-ID and HSTS on every response, errors and
 * upstream responses included.  Subrequests are skipped: their headers
 * never reach the client.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_replace_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_str_t  ngx_http_compliance_reqid_name = ngx_string("X-Request-ID");
static ngx_str_t  ngx_http_compliance_hsts_name =
    ngx_string("Strict-Transport-Security");


ngx_int_t
ngx_http_compliance_headers_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                        value;
    ngx_http_compliance_ctx_t       *ctx;
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    ctx = ngx_http_compliance_get_ctx(r);

    if (clcf->access.enable || ctx != NULL) {
        if (ctx == NULL) {
            ctx = ngx_http_compliance_ensure_ctx(r);
            if (ctx == NULL) {
                return NGX_ERROR;
            }
        }

        value.data = ctx->request_id;
        value.len = NGX_HTTP_COMPLIANCE_REQID_LEN;

        if (ngx_http_compliance_replace_header(r,
                                               &ngx_http_compliance_reqid_name,
                                               &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_compliance_limit_headers(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

#if (NGX_HTTP_SSL)
    if (clcf->tls.hsts.len && r->connection->ssl) {
        if (ngx_http_compliance_replace_header(r,
                                               &ngx_http_compliance_hsts_name,
                                               &clcf->tls.hsts)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }
#endif

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_compliance_replace_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_http_compliance_drop_header(r, name);

    return ngx_http_compliance_set_header(r, name, value);
}
