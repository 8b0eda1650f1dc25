/*
 * compliance_require_mfa (SPEC 14): the token's RFC 8176 "amr" claim (an
 * array of strings) must hold one of the listed methods; otherwise, and
 * always for an API key, 401 mfa_required with the RFC 9470 step-up
 * challenge (problem.c writes the WWW-Authenticate).  Run by access.c
 * after the scopes, from the claims index the request already holds:
 * no JSON is read again.
 */

#include "ngx_http_compliance_module.h"


/* RFC 8176 2: the values that name a second factor or a strong one */
static ngx_str_t  ngx_http_compliance_mfa_default[] = {
    ngx_string("mfa"),
    ngx_string("hwk"),
    ngx_string("otp"),
    ngx_string("sms"),
    ngx_string("swk"),
    ngx_string("fpt"),
    ngx_string("face"),
    ngx_string("iris"),
    ngx_string("retina"),
    ngx_string("vbm")
};


static ngx_int_t ngx_http_compliance_mfa_amr(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const compliance_jwt_claims_t *c);


ngx_int_t
ngx_http_compliance_mfa_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    int                             i;
    ngx_array_t                    *amr;
    const compliance_jwt_claims_t  *c;

    amr = clcf->mfa.amr;

    if (amr == NULL) {
        return NGX_DECLINED;
    }

    /* an API key proves one factor, whoever holds it */
    if (ctx->auth_method != NGX_HTTP_COMPLIANCE_AUTH_JWT) {
        return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "mfa_required");
    }

    c = ngx_http_compliance_jwt_ctx_claims(ctx);

    if (ngx_http_compliance_mfa_amr(r, ctx, c) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    i = compliance_jwt_claims_array_has(c, (const u_char *) "amr", 3,
                                        amr->elts, amr->nelts);
    if (i < 0) {
        return ngx_http_compliance_problem(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                           "mfa_required");
    }

    return NGX_DECLINED;
}


/* the methods the token names, for the audit record ("amr") */
static ngx_int_t
ngx_http_compliance_mfa_amr(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const compliance_jwt_claims_t *c)
{
    size_t   n;
    u_char  *p;

    n = compliance_jwt_claims_array_text(c, (const u_char *) "amr", 3,
                                         NULL, 0);
    if (n == 0) {
        ngx_str_null(&ctx->amr);
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->amr.len = compliance_jwt_claims_array_text(c,
                                                    (const u_char *) "amr",
                                                    3, p, n);
    ctx->amr.data = p;

    return NGX_OK;
}


/* --- configuration */


char *
ngx_http_compliance_require_mfa(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t             *list;
    ngx_uint_t             i, n;
    compliance_jwt_str_t  *s;

    if (clcf->mfa.amr != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ngx_http_compliance_conf_pos_set(cf, &clcf->mfa.pos);

    if (cf->args->nelts > 1) {
        list = (ngx_str_t *) cf->args->elts + 1;
        n = cf->args->nelts - 1;

    } else {
        list = ngx_http_compliance_mfa_default;
        n = sizeof(ngx_http_compliance_mfa_default) / sizeof(ngx_str_t);
    }

    clcf->mfa.amr = ngx_array_create(cf->pool, n,
                                     sizeof(compliance_jwt_str_t));
    if (clcf->mfa.amr == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {

        /* what the token's amr can hold (scope-token bytes, RFC 8176 2) */
        if (!compliance_token_scope_valid(list[i].data, list[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid authentication method \"%V\" in "
                               "\"%V\"", &list[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(clcf->mfa.amr);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        s->len = list[i].len;
        s->data = list[i].data;
    }

    return NGX_CONF_OK;
}


void
ngx_http_compliance_mfa_create_conf(ngx_http_compliance_mfa_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->pos = { { 0, NULL }, 0 };
     */

    conf->amr = NGX_CONF_UNSET_PTR;
}


char *
ngx_http_compliance_mfa_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_mfa_conf_t *prev, ngx_http_compliance_mfa_conf_t *conf,
    ngx_http_compliance_access_conf_t *access)
{
    /* written where it can never act (revoke.c has the rule) */
    if (conf->amr != NGX_CONF_UNSET_PTR
        && ngx_http_compliance_inert_here(cf, access, &conf->pos,
                                          "compliance_require_mfa")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->amr, prev->amr, NULL);
    ngx_http_compliance_conf_pos_merge(conf->pos, prev->pos);

    return NGX_CONF_OK;
}
