/*
 * The enforcement handler (REWRITE phase), one function per step:
 * credentials in the URL -> HTTPS redirect / TLS floor (tls.c) -> audit
 * availability -> lockouts -> public endpoints -> credential extraction
 * and verification -> scopes -> limits -> sunset (deprecation.c) ->
 * request validation (validate.c, which reads the body).  Also owns
 * ngx_http_compliance_access_conf_t ("compliance", "compliance_public",
 * "compliance_auth", "compliance_require_scope", CORS preflights).
 * Each step returns NGX_DECLINED to let the request go on, or the value
 * the phase handler must return.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_jwks.h"


static ngx_uint_t ngx_http_compliance_is_preflight(ngx_http_request_t *r);
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
static char *ngx_http_compliance_access_inert(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, const char *limited,
    ngx_http_compliance_conf_pos_t *limited_pos);


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

    if (!clcf->access.enable) {
        rc = ngx_http_compliance_transport(r, clcf);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        /* a retired API is retired whoever may call it */
        rc = ngx_http_compliance_deprecation_check(r, clcf);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        /* and input is validated whoever sends it */
        return ngx_http_compliance_validate(r, clcf);
    }

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a refused request never gets a second chance in another location */
    if (ctx->refused) {
        return ctx->status;
    }

    /* back from a Redis round trip (SPEC 15): the steps before ran */
    if (ngx_http_compliance_limit_resumed(ctx)) {
        goto limits;
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

    if (clcf->access.public_reason.data) {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = clcf->access.public_reason;
        goto limits;
    }

    if (clcf->access.cors_preflight == NGX_HTTP_COMPLIANCE_CORS_PASS
        && ngx_http_compliance_is_preflight(r))
    {
        ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_PUBLIC;
        ctx->public_reason = ngx_http_compliance_cors_reason;
        goto limits;
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

    rc = ngx_http_compliance_limit_check(r, clcf, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    rc = ngx_http_compliance_deprecation_check(r, clcf);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    /*
     * last: request validation reads the body (ngx_http_compliance_body.c),
     * so an unauthenticated or limited client never gets that far;
     * upstream credentials are added later, in the PRECONTENT phase
     */
    return ngx_http_compliance_validate(r, clcf);
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
        n = ngx_http_compliance_header_count(r, &clcf->apikey.header_in,
                                             &cred);

        if (n == 1) {
            method = NGX_HTTP_COMPLIANCE_METHOD_API_KEY;

        } else if (n > 1) {
            /* the header twice: which one would the upstream believe? */
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "unknown_api_key");
        }
    }

    if (method == 0 || !(clcf->access.auth & method)) {
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

    /* waits for the identity provider's keys, and runs again (jwks.c) */
    if (reason == ngx_http_compliance_jwks_parked) {
        return NGX_DONE;
    }

    if (internal == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_compliance_problem(r, ctx,
                                           NGX_HTTP_SERVICE_UNAVAILABLE,
                                           reason);
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

    return ngx_http_compliance_header_strip(r, &clcf->apikey.header_in);
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

    if (clcf->access.public_reason.data) {
        return NGX_DECLINED;
    }

    if (ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_JWT) {

        if (!(clcf->access.auth & NGX_HTTP_COMPLIANCE_METHOD_JWT)) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "missing_credentials");
        }

        reason = ngx_http_compliance_jwt_recheck(r, clcf, ctx, &internal);

        /* this location's revocation list (ngx_http_compliance_revoke.c) */
        if (reason == NULL) {
            reason = ngx_http_compliance_revoke_check(r, clcf, ctx);
        }

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

        if (!(clcf->access.auth & NGX_HTTP_COMPLIANCE_METHOD_API_KEY)) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                               "missing_credentials");
        }

        if (ctx->api_keys != clcf->apikey.keys) {
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

    if (clcf->access.public_reason.data) {
        return NGX_DECLINED;
    }

    want = clcf->access.scopes ? clcf->access.scopes->elts : NULL;

    for (i = 0; want && i < clcf->access.scopes->nelts; i++) {
        if (!ngx_http_compliance_has_scope(&ctx->scopes, &want[i])) {
            return ngx_http_compliance_problem(r, ctx, NGX_HTTP_FORBIDDEN,
                                               "insufficient_scope");
        }
    }

    /* then how the user signed in (ngx_http_compliance_mfa.c) */
    return ngx_http_compliance_mfa_check(r, clcf, ctx);
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


/*
 * For the module's own content handlers (compliance_lockout_admin,
 * compliance_status): the ctx of a main request this handler let in
 * (authenticated, or public), else NULL.  Subrequests are not checked by
 * the module (SPEC 3), so they are never let in there.
 */
ngx_http_compliance_ctx_t *
ngx_http_compliance_access_admitted(ngx_http_request_t *r)
{
    ngx_http_compliance_ctx_t  *ctx;

    if (r != r->main) {
        return NULL;
    }

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || ctx->refused
        || !(ctx->authenticated
             || ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_PUBLIC))
    {
        return NULL;
    }

    return ctx;
}


/* --- configuration: ngx_http_compliance_access_conf_t */


void
ngx_http_compliance_access_create_conf(
    ngx_http_compliance_access_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->public_reason = { 0, NULL };
     *     conf->auth = 0;
     *     conf->auth_pos = { { 0, NULL }, 0 };
     *     conf->scopes_pos = { { 0, NULL }, 0 };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->cors_preflight = NGX_CONF_UNSET_UINT;
    conf->auth_conf = NGX_CONF_UNSET_UINT;
    conf->scopes = NGX_CONF_UNSET_PTR;
}


/*
 * Merged first: "compliance" and "compliance_public" decide what the
 * other concerns may hold.  Controls written where they can never act are
 * configuration errors, not silent no-ops: the operator meant them to
 * hold.  limited names a limit directive this level wrote, limited_pos
 * where (the limit merge, which comes later, cannot tell "written here"
 * from "inherited").
 */
char *
ngx_http_compliance_access_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, const char *limited,
    ngx_http_compliance_conf_pos_t *limited_pos)
{
    char  *rv;

    rv = ngx_http_compliance_access_inert(cf, prev, conf, limited,
                                          limited_pos);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (conf->public_reason.data == NULL) {
        conf->public_reason = prev->public_reason;
    }

    ngx_conf_merge_uint_value(conf->cors_preflight, prev->cors_preflight,
                              NGX_HTTP_COMPLIANCE_CORS_DENY);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_http_compliance_conf_pos_merge(conf->scopes_pos, prev->scopes_pos);

    return NGX_CONF_OK;
}


/* runs while a field still tells whether this level wrote it */
static char *
ngx_http_compliance_access_inert(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, const char *limited,
    ngx_http_compliance_conf_pos_t *limited_pos)
{
    ngx_str_t                 *where;
    ngx_uint_t                 scope, off_here, location;
    const char                *name, *open, *close;
    ngx_http_core_loc_conf_t  *core;

    static ngx_str_t  server_block = ngx_string("server block");

    scope = (conf->scopes != NGX_CONF_UNSET_PTR);
    off_here = (conf->enable == 0);

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    location = (core->name.len != 0);

    /* for messages: in location "/x" | in the server block */
    open = location ? "location \"" : "the ";
    where = location ? &core->name : &server_block;
    close = location ? "\"" : "";

    /* scopes in a location public only by inheritance: never checked */
    if (scope && conf->public_reason.data == NULL
        && prev->public_reason.data != NULL)
    {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->scopes_pos,
                                       "\"compliance_require_scope\" in a "
                                       "location that inherits "
                                       "\"compliance_public \"%V\"\" would "
                                       "never be checked",
                                       &prev->public_reason);
        return NGX_CONF_ERROR;
    }

    if (scope && conf->public_reason.data != NULL) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->scopes_pos,
                                       "\"compliance_require_scope\" and "
                                       "\"compliance_public\" in %s%V%s: a "
                                       "public location checks no scopes",
                                       open, where, close);
        return NGX_CONF_ERROR;
    }

    /*
     * under "compliance off" nothing is enforced; a server may still
     * write controls for the locations that turn it on
     */
    if (conf->enable || !(location || off_here)) {
        return NGX_CONF_OK;
    }

    name = scope ? "compliance_require_scope" : limited;

    if (name != NULL) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf,
                                       scope ? &conf->scopes_pos
                                             : limited_pos,
                                       "\"%s\" in %s%V%s, where "
                                       "\"compliance\" is off, would never "
                                       "be enforced", name, open, where,
                                       close);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The credential methods a location accepts: as written, else every one
 * that has keys here (avail, known once the JWT and API-key merges ran).
 */
char *
ngx_http_compliance_access_merge_methods(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *prev,
    ngx_http_compliance_access_conf_t *conf, ngx_uint_t avail)
{
    ngx_uint_t  missing;

    ngx_conf_merge_uint_value(conf->auth_conf, prev->auth_conf,
                              NGX_CONF_UNSET_UINT);
    ngx_http_compliance_conf_pos_merge(conf->auth_pos, prev->auth_pos);

    if (conf->auth_conf == NGX_CONF_UNSET_UINT) {
        conf->auth = avail;
        return NGX_CONF_OK;
    }

    missing = conf->auth_conf & ~avail;

    if (missing) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->auth_pos,
                                       "\"compliance_auth %s\" needs \"%s\" "
                                       "here",
                                       (missing
                                        & NGX_HTTP_COMPLIANCE_METHOD_JWT)
                                       ? "jwt" : "api_key",
                                       (missing
                                        & NGX_HTTP_COMPLIANCE_METHOD_JWT)
                                       ? "compliance_jwt_keys"
                                       : "compliance_api_keys");
        return NGX_CONF_ERROR;
    }

    conf->auth = conf->auth_conf;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                             *rv;
    ngx_http_compliance_loc_conf_t   *clcf = conf;
    ngx_http_compliance_main_conf_t  *cmf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (clcf->access.enable) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->handler_needed = 1;
        cmf->filter_needed = 1;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_public(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (clcf->access.public_reason.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] != ' ' && value[1].data[i] != '\t') {
            break;
        }
    }

    if (i == value[1].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid reason \"%V\" in \"%V\": an explicit "
                           "public endpoint needs a non-empty reason",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->access.public_reason = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, mask;

    if (clcf->access.auth_conf != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "jwt") == 0) {
            mask |= NGX_HTTP_COMPLIANCE_METHOD_JWT;

        } else if (ngx_strcmp(value[i].data, "api_key") == 0) {
            mask |= NGX_HTTP_COMPLIANCE_METHOD_API_KEY;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid method \"%V\" in \"%V\", "
                               "it must be \"jwt\" or \"api_key\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    clcf->access.auth_conf = mask;
    ngx_http_compliance_conf_pos_set(cf, &clcf->access.auth_pos);

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_require_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value, *s;
    ngx_uint_t  i;

    if (clcf->access.scopes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    clcf->access.scopes = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_str_t));
    if (clcf->access.scopes == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* the grammar the token's scopes are read with */
        if (!compliance_token_scope_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid scope \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(clcf->access.scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    ngx_http_compliance_conf_pos_set(cf, &clcf->access.scopes_pos);

    return NGX_CONF_OK;
}
