/*
 * The enforcement handler (REWRITE phase, see SPEC 3), one function per
 * step: HTTPS redirect / TLS floor -> public endpoints -> credentials in
 * the URL -> credential extraction and verification -> scopes.
 * Each step returns NGX_DECLINED to let the request go on, or the value
 * the phase handler must return.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_transport(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_int_t ngx_http_compliance_redirect(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_uint_t ngx_http_compliance_is_preflight(ngx_http_request_t *r);
static ngx_str_t *ngx_http_compliance_redirect_host(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
static ngx_int_t ngx_http_compliance_authorize(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
static ngx_int_t ngx_http_compliance_recheck(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx);
static ngx_int_t ngx_http_compliance_strip(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_uint_t method,
    ngx_uint_t header);
static ngx_uint_t ngx_http_compliance_has_scope(ngx_str_t *have,
    ngx_str_t *want);


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

    if (!clcf->enable) {
        return ngx_http_compliance_transport(r, clcf);
    }

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a refused request never gets a second chance in another location */
    if (ctx->refused) {
        return ctx->status;
    }

    /* from here on nginx's own logs print the redacted request line */
    if (ngx_http_compliance_redact_request_line(r, clcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * A credential in a URL has already leaked into logs and caches; it
     * is refused before the HTTPS redirect, which would echo it back.
     */
    if (!ctx->authenticated
        && r->args.len
        && compliance_query_has_credential(r->args.data, r->args.len))
    {
        return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "credential_in_url");
    }

    rc = ngx_http_compliance_transport(r, clcf);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_compliance_audit_check(r, clcf, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ctx->authenticated) {
        /*
         * a later pass after an internal redirect or "rewrite ... last":
         * the identity must be one this location accepts, and its scopes
         * and limits apply
         */
        rc = ngx_http_compliance_recheck(r, clcf, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        rc = ngx_http_compliance_authorize(r, clcf, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        goto limits;
    }

    /* a locked-out address gets nothing, public endpoints included */
    rc = ngx_http_compliance_lockout_check(r, clcf, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (clcf->public_reason.data) {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = clcf->public_reason;
        return ngx_http_compliance_limit_check(r, clcf, ctx);
    }

    if (clcf->cors_preflight == NGX_HTTP_COMPLIANCE_CORS_PASS
        && ngx_http_compliance_is_preflight(r))
    {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = ngx_http_compliance_cors_reason;
        return ngx_http_compliance_limit_check(r, clcf, ctx);
    }

    rc = ngx_http_compliance_authenticate(r, clcf, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_compliance_authorize(r, clcf, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

limits:

    /* upstream credentials are added later, in the PRECONTENT phase */
    return ngx_http_compliance_limit_check(r, clcf, ctx);
}


static ngx_int_t
ngx_http_compliance_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    u_char           *p, *last;
    ngx_str_t         cred;
    ngx_uint_t        n, internal, method;
    const char       *reason;
    ngx_table_elt_t  *auth;

    method = 0;
    auth = r->headers_in.authorization;

    if (auth) {
        p = auth->value.data;
        last = p + auth->value.len;

        /* auth-scheme is case-insensitive (RFC 9110 11.1) */
        if (auth->value.len > sizeof("Bearer ") - 1
            && ngx_strncasecmp(p, (u_char *) "Bearer ",
                               sizeof("Bearer ") - 1) == 0)
        {
            method = NGX_HTTP_COMPLIANCE_METHOD_JWT;
            p += sizeof("Bearer ") - 1;

        } else if (auth->value.len > sizeof("ApiKey ") - 1
                   && ngx_strncasecmp(p, (u_char *) "ApiKey ",
                                      sizeof("ApiKey ") - 1) == 0)
        {
            method = NGX_HTTP_COMPLIANCE_METHOD_API_KEY;
            p += sizeof("ApiKey ") - 1;
        }

        while (p < last && *p == ' ') {
            p++;
        }

        cred.data = p;
        cred.len = last - p;

    } else {
        n = ngx_http_compliance_header_count(r, &clcf->api_key_header_in,
                                             &cred);

        if (n == 1) {
            method = NGX_HTTP_COMPLIANCE_METHOD_API_KEY;

        } else if (n > 1) {
            /* the header twice: which one would the upstream believe? */
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "unknown_api_key");
        }
    }

    if (method == 0 || !(clcf->auth & method)) {
        return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "missing_credentials");
    }

    internal = 0;

    if (method == NGX_HTTP_COMPLIANCE_METHOD_JWT) {
        reason = ngx_http_compliance_jwt_authenticate(r, clcf, ctx, cred.data,
                                                      cred.len, &internal);

    } else {
        reason = ngx_http_compliance_apikey_authenticate(r, clcf, ctx,
                                                         cred.data, cred.len);
    }

    if (reason != NULL) {
        if (!internal) {
            ngx_http_compliance_lockout_failure(r, clcf, ctx);
        }

        if (internal) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "compliance: credential check failed internally");
            return ngx_http_compliance_problem(r, ctx,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           reason);
        }

        return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           reason);
    }

    ctx->authenticated = 1;

    if (ngx_http_compliance_strip(r, clcf, method, auth != NULL) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


/*
 * The gateway credential stops here: the upstream learns the identity
 * from variables, never the API key that proved it.  A bearer token is
 * passed on (applications may read its claims), but an API-key header
 * the client sent as well, checked or not, is dropped.
 */
static ngx_int_t
ngx_http_compliance_strip(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_uint_t method,
    ngx_uint_t header)
{
    ngx_http_compliance_main_conf_t  *cmf;

    if (method == NGX_HTTP_COMPLIANCE_METHOD_API_KEY && header) {
        cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);

        if (ngx_http_compliance_header_strip(r, &cmf->authorization)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_compliance_header_strip(r, &clcf->api_key_header_in);
}


/*
 * After an internal redirect the identity was proved under another
 * location's rules: it stands only if this location would have accepted
 * it too (method and key set; for a token also its algorithm and claims
 * under this location's policy, and the identity as this location maps
 * the claims).
 */
static ngx_int_t
ngx_http_compliance_recheck(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    ngx_uint_t   internal;
    const char  *reason;

    if (clcf->public_reason.data) {
        return NGX_DECLINED;
    }

    if (ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_JWT) {

        if (!(clcf->auth & NGX_HTTP_COMPLIANCE_METHOD_JWT)) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "missing_credentials");
        }

        reason = ngx_http_compliance_jwt_recheck(r, clcf, ctx, &internal);

        if (reason != NULL) {
            return ngx_http_compliance_problem(r, ctx,
                                               internal
                                               ? NGX_HTTP_INTERNAL_SERVER_ERROR
                                               : NGX_HTTP_UNAUTHORIZED,
                                               reason);
        }

        return NGX_DECLINED;
    }

    if (ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_API_KEY) {

        if (!(clcf->auth & NGX_HTTP_COMPLIANCE_METHOD_API_KEY)) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "missing_credentials");
        }

        if (ctx->api_keys != clcf->api_keys) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "unknown_api_key");
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_compliance_authorize(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    ngx_str_t   *want;
    ngx_uint_t   i;

    if (clcf->scopes == NULL || clcf->public_reason.data) {
        return NGX_DECLINED;
    }

    want = clcf->scopes->elts;

    for (i = 0; i < clcf->scopes->nelts; i++) {
        if (!ngx_http_compliance_has_scope(&ctx->scopes, &want[i])) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_FORBIDDEN,
                                               "insufficient_scope");
        }
    }

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_compliance_has_scope(ngx_str_t *have, ngx_str_t *want)
{
    u_char  *p, *last, *s;

    p = have->data;
    last = p + have->len;

    while (p < last) {
        s = p;

        while (p < last && *p != ' ') {
            p++;
        }

        if ((size_t) (p - s) == want->len
            && ngx_memcmp(s, want->data, want->len) == 0)
        {
            return 1;
        }

        p++;
    }

    return 0;
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

    host = ngx_http_compliance_redirect_host(r);

    if (host == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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


/*
 * Where the HTTPS redirect points: the client's Host only when it is one
 * of this server's own names (exact, or under a "*.example.com" /
 * ".example.com" wildcard), else the server's first name, else its own
 * address: a "Host: evil.example" never becomes the Location.
 */
static ngx_str_t *
ngx_http_compliance_redirect_host(ngx_http_request_t *r)
{
    u_char                          *p;
    size_t                           n;
    ngx_str_t                       *host, *addr, *sn;
    ngx_uint_t                       i, nnames;
    ngx_http_core_srv_conf_t        *cscf;
    ngx_http_compliance_loc_conf_t  *clcf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    host = &r->headers_in.server;

    /* nginx keeps its name list in the config's temporary pool */
    sn = clcf->redirect_names ? clcf->redirect_names->elts : NULL;
    nnames = clcf->redirect_names ? clcf->redirect_names->nelts : 0;

    for (i = 0; host->len && i < nnames; i++) {
        p = sn[i].data;
        n = sn[i].len;

        if (n == host->len && ngx_strncasecmp(p, host->data, n) == 0) {
            return host;
        }

        if (n > 2 && p[0] == '*' && p[1] == '.') {
            p++;
            n--;
        }

        /* ".example.com": the name itself and its subdomains */
        if (n > 1 && p[0] == '.'
            && ((host->len == n - 1
                 && ngx_strncasecmp(p + 1, host->data, n - 1) == 0)
                || (host->len > n
                    && ngx_strncasecmp(p, host->data + host->len - n, n)
                       == 0)))
        {
            return host;
        }
    }

    if (cscf->server_name.len
        && ngx_strlchr(cscf->server_name.data,
                       cscf->server_name.data + cscf->server_name.len, '*')
           == NULL
        && cscf->server_name.data[0] != '.'
        && cscf->server_name.data[0] != '~')
    {
        return &cscf->server_name;
    }

    /* no usable name: the address the client connected to */
    if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
        return NULL;
    }

    addr = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (addr == NULL) {
        return NULL;
    }

    addr->data = ngx_pnalloc(r->pool, NGX_SOCKADDR_STRLEN);
    if (addr->data == NULL) {
        return NULL;
    }

    addr->len = ngx_sock_ntop(r->connection->local_sockaddr,
                              r->connection->local_socklen, addr->data,
                              NGX_SOCKADDR_STRLEN, 0);

    return addr;
}


static ngx_uint_t
ngx_http_compliance_is_preflight(ngx_http_request_t *r)
{
    static ngx_http_compliance_header_t  origin =
        ngx_http_compliance_header("origin");
    static ngx_http_compliance_header_t  method =
        ngx_http_compliance_header("access-control-request-method");

    return r->method == NGX_HTTP_OPTIONS
           && ngx_http_compliance_header_count(r, &origin, NULL)
           && ngx_http_compliance_header_count(r, &method, NULL);
}
