/*
 * The enforcement handler (REWRITE phase, see SPEC 3), one function per
 * step: HTTPS redirect / TLS floor -> public endpoints -> credentials.
 * Each step returns NGX_DECLINED to let the request go on, or the value
 * the phase handler must return.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_transport(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_int_t ngx_http_compliance_redirect(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_uint_t ngx_http_compliance_is_preflight(ngx_http_request_t *r);


static ngx_str_t  ngx_http_compliance_cors_reason =
    ngx_string("cors preflight");


ngx_int_t
ngx_http_compliance_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_compliance_ctx_t       *ctx;
    ngx_http_compliance_loc_conf_t  *clcf;

    /* subrequests (SSI, auth_request, mirror) belong to a checked request */
    if (r != r->main) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    rc = ngx_http_compliance_transport(r, clcf);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (!clcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->authenticated) {
        /*
         * a later pass after an internal redirect or "rewrite ... last":
         * the identity stands, the new location's own requirements are
         * checked by the steps below that read clcf
         */
        return NGX_DECLINED;
    }

    if (clcf->public_reason.data) {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = clcf->public_reason;
        return NGX_DECLINED;
    }

    if (clcf->cors_preflight == NGX_HTTP_COMPLIANCE_CORS_PASS
        && ngx_http_compliance_is_preflight(r))
    {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = ngx_http_compliance_cors_reason;
        return NGX_DECLINED;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                       "missing_credentials");
}


static ngx_int_t
ngx_http_compliance_transport(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_uint_t                  version;
    ngx_http_compliance_ctx_t  *ctx;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        if (clcf->tls_min == NGX_HTTP_COMPLIANCE_TLS_ANY) {
            return NGX_DECLINED;
        }

        version = SSL_version(r->connection->ssl->connection);

        if (version >= clcf->tls_min) {
            return NGX_DECLINED;
        }

        goto too_old;
    }
#endif

    if (clcf->https_redirect) {
        return ngx_http_compliance_redirect(r, clcf);
    }

    if (clcf->tls_min == NGX_HTTP_COMPLIANCE_TLS_ANY) {
        return NGX_DECLINED;
    }

    /* plain HTTP is below any TLS floor */
    version = 0;

#if (NGX_HTTP_SSL)
too_old:
#endif

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "compliance: TLS version 0x%04xui below the floor",
                  version);

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_FORBIDDEN,
                                       "tls_too_old");
}


static ngx_int_t
ngx_http_compliance_redirect(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    size_t                     len;
    u_char                    *p;
    ngx_str_t                 *host;
    ngx_table_elt_t           *location;
    ngx_http_core_srv_conf_t  *cscf;

    host = &r->headers_in.server;

    if (host->len == 0) {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = &cscf->server_name;
    }

    if (host->len == 0) {
        return NGX_HTTP_BAD_REQUEST;
    }

    len = sizeof("https://:65535") - 1 + host->len + r->unparsed_uri.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location = ngx_list_push(&r->headers_out.headers);
    if (location == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location->hash = 1;
    ngx_str_set(&location->key, "Location");
    location->value.data = p;

    p = ngx_cpymem(p, "https://", sizeof("https://") - 1);
    p = ngx_cpymem(p, host->data, host->len);

    if (clcf->https_port) {
        p = ngx_sprintf(p, ":%i", clcf->https_port);
    }

    /* the client's own bytes: path and query exactly as sent */
    p = ngx_cpymem(p, r->unparsed_uri.data, r->unparsed_uri.len);

    location->value.len = p - location->value.data;

    ngx_http_clear_location(r);
    r->headers_out.location = location;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return NGX_HTTP_MOVED_PERMANENTLY;
    }

    return NGX_HTTP_PERMANENT_REDIRECT;
}


static ngx_uint_t
ngx_http_compliance_is_preflight(ngx_http_request_t *r)
{
    ngx_uint_t        i, origin, method;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_OPTIONS) {
        return 0;
    }

    origin = 0;
    method = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Origin") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                               sizeof("Origin") - 1) == 0)
        {
            origin = 1;

        } else if (h[i].key.len == sizeof("Access-Control-Request-Method") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                  (u_char *) "Access-Control-Request-Method",
                                  sizeof("Access-Control-Request-Method") - 1)
                      == 0)
        {
            method = 1;
        }
    }

    return origin && method;
}
