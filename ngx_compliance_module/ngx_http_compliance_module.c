/*
 * ngx_http_compliance_module: directive table, conf create/merge,
 * registration of the handlers and variables, per-request ctx.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_jwks.h"
#include "ngx_http_compliance_redis.h"


static ngx_int_t ngx_http_compliance_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_compliance_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_compliance_post_read_handler(ngx_http_request_t *r);
static void *ngx_http_compliance_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_compliance_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_compliance_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_compliance_init_process(ngx_cycle_t *cycle);
static void ngx_http_compliance_exit_process(ngx_cycle_t *cycle);
static void ngx_http_compliance_ctx_cleanup(void *data);


static ngx_int_t ngx_http_compliance_variable_request_id(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_auth_method(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_reason(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_identity(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_conf_enum_t  ngx_http_compliance_cors_preflights[] = {
    { ngx_string("pass"), NGX_HTTP_COMPLIANCE_CORS_PASS },
    { ngx_string("deny"), NGX_HTTP_COMPLIANCE_CORS_DENY },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_compliance_audit_failures[] = {
    { ngx_string("open"), NGX_HTTP_COMPLIANCE_AUDIT_OPEN },
    { ngx_string("closed"), NGX_HTTP_COMPLIANCE_AUDIT_CLOSED },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_compliance_posture_modes[] = {
    { ngx_string("warn"), NGX_HTTP_COMPLIANCE_POSTURE_WARN },
    { ngx_string("strict"), NGX_HTTP_COMPLIANCE_POSTURE_STRICT },
    { ngx_string("off"), NGX_HTTP_COMPLIANCE_POSTURE_OFF },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_compliance_error_pages_values[] = {
    { ngx_string("on"), NGX_HTTP_COMPLIANCE_ERRORS_ON },
    { ngx_string("all"), NGX_HTTP_COMPLIANCE_ERRORS_ALL },
    { ngx_string("off"), NGX_HTTP_COMPLIANCE_ERRORS_OFF },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_compliance_commands[] = {

    { ngx_string("compliance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_compliance_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, access.enable),
      NULL },

    { ngx_string("compliance_public"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_public,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_cors_preflight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, access.cors_preflight),
      &ngx_http_compliance_cors_preflights },

    { ngx_string("compliance_https_redirect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_compliance_https_redirect,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_tls_min"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_tls_min,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_hsts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_hsts,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_require_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_require_scope,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_jwt_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_jwt_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_jwt_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_jwt_audience,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, jwt.leeway),
      &ngx_http_compliance_jwt_leeway_post },

    { ngx_string("compliance_jwt_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_jwt_max_lifetime,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_jwt_claims"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_jwt_claims,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_api_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_api_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_compliance_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_limit"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_compliance_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_auth_failure_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_compliance_auth_failure_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_lockout_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_compliance_lockout_admin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_vault"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_compliance_vault,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_upstream_credential"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_compliance_upstream_credential,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_upstream_oauth2"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_compliance_upstream_oauth2,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_audit_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_chain"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_audit_chain,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, audit.failure),
      &ngx_http_compliance_audit_failures },

    { ngx_string("compliance_audit_sensitive"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_audit_sensitive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_audit_resource"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_compliance_audit_resource,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_redact"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_redact,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_redact_pattern"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_compliance_redact_pattern,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_scrub_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_compliance_scrub_headers,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, boundary.scrub),
      NULL },

    { ngx_string("compliance_error_pages"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_error_pages,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, boundary.error_pages),
      &ngx_http_compliance_error_pages_values },

    { ngx_string("compliance_deprecation"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1234,
      ngx_http_compliance_deprecation,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_redact_response"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_redact_response,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_validate_body"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_validate_body,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_validate_query"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_validate_query,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_graphql"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_compliance_graphql_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_api_key_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_api_key_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_posture"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_compliance_main_conf_t, posture.mode),
      &ngx_http_compliance_posture_modes },

    { ngx_string("compliance_jwt_keys_request"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_compliance_jwt_keys_request,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_posture_waive"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_compliance_posture_waive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* identity from the IdP (SPEC 14): revoke.c, mfa.c */
    { ngx_string("compliance_jwt_revocation"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_jwt_revocation,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_require_mfa"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_compliance_require_mfa,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_compliance_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_check_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_check_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_compliance_module_ctx = {
    ngx_http_compliance_add_variables,     /* preconfiguration */
    ngx_http_compliance_init,              /* postconfiguration */

    ngx_http_compliance_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_compliance_create_loc_conf,   /* create location configuration */
    ngx_http_compliance_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_compliance_module = {
    NGX_MODULE_V1,
    &ngx_http_compliance_module_ctx,       /* module context */
    ngx_http_compliance_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_compliance_vault_check_debug_connection, /* init module */
    ngx_http_compliance_init_process,      /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_compliance_exit_process,      /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_compliance_vars[] = {

    { ngx_string("compliance_request_id"), NULL,
      ngx_http_compliance_variable_request_id, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_auth_method"), NULL,
      ngx_http_compliance_variable_auth_method, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_reason"), NULL,
      ngx_http_compliance_variable_reason, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_principal"), NULL,
      ngx_http_compliance_variable_identity,
      offsetof(ngx_http_compliance_ctx_t, principal),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_org"), NULL,
      ngx_http_compliance_variable_identity,
      offsetof(ngx_http_compliance_ctx_t, org),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_key_id"), NULL,
      ngx_http_compliance_variable_identity,
      offsetof(ngx_http_compliance_ctx_t, key_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_scopes"), NULL,
      ngx_http_compliance_variable_identity,
      offsetof(ngx_http_compliance_ctx_t, scopes),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_safe_uri"), NULL,
      ngx_http_compliance_variable_safe, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_safe_args"), NULL,
      ngx_http_compliance_variable_safe, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("compliance_jwt_claim_"), NULL,
      ngx_http_compliance_jwt_claim_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


/* $compliance_auth_method and the records' auth_method, by auth_e */
ngx_str_t  ngx_http_compliance_auth_names[] = {
    ngx_string("none"),
    ngx_string("public"),
    ngx_string("jwt"),
    ngx_string("api_key")
};


static ngx_int_t
ngx_http_compliance_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t              *var, *v;
    ngx_http_compliance_main_conf_t  *cmf;

    static ngx_str_t  authorization = ngx_string("Authorization");

    for (v = ngx_http_compliance_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    /* nginx's variables exist from its own preconfiguration on */
    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (ngx_http_compliance_header_init(cf, &cmf->authorization,
                                        &authorization)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_compliance_credential_variable(cf,
                                                   cmf->authorization.var);
}


static ngx_int_t
ngx_http_compliance_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->handler_needed) {
        cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

        /*
         * REWRITE, not ACCESS: a location's "return" answers in this phase,
         * and handlers of one phase run in reverse order of registration,
         * so ours, registered after the rewrite module's, runs first.
         */
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_compliance_access_handler;

        /*
         * nginx may refuse a request before REWRITE (413 for its body
         * size, say) and log its request line: redact it at once
         */
        h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = ngx_http_compliance_post_read_handler;

        if (ngx_http_compliance_redact_check_log_formats(cf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (cmf->filter_needed) {
        if (ngx_http_compliance_headers_init(cf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* response masking below boundary.c's filters, above headers.c's */
    if (ngx_http_compliance_redact_response_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the certificate list the status and posture checks read too */
    if (ngx_http_compliance_daily_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* below the vault's filter, which stays on top, above headers.c's */
    if (ngx_http_compliance_boundary_init(cf) != NGX_OK
        /* its LOG handler counts before the audit record is written */
        || ngx_http_compliance_status_init(cf) != NGX_OK
        || ngx_http_compliance_audit_init(cf) != NGX_OK
        || ngx_http_compliance_fetch_init(cf) != NGX_OK
        || ngx_http_compliance_vault_init(cf) != NGX_OK
        || ngx_http_compliance_body_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* last: what the whole configuration shows */
    return ngx_http_compliance_posture_check(cf);
}


static ngx_int_t
ngx_http_compliance_post_read_handler(ngx_http_request_t *r)
{
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->access.enable
        && ngx_http_compliance_redact_request_line(r, clcf) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


static void *
ngx_http_compliance_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_main_conf_t));
    if (cmf == NULL) {
        return NULL;
    }

    cmf->posture.mode = NGX_CONF_UNSET_UINT;
    cmf->daily.interval = NGX_CONF_UNSET;

    return cmf;
}


static void *
ngx_http_compliance_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_compliance_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    ngx_http_compliance_access_create_conf(&conf->access);
    ngx_http_compliance_tls_create_conf(&conf->tls);
    ngx_http_compliance_audit_create_conf(&conf->audit);
    ngx_http_compliance_redact_create_conf(&conf->redact);
    ngx_http_compliance_apikey_create_conf(&conf->apikey);
    ngx_http_compliance_jwt_create_conf(&conf->jwt);
    ngx_http_compliance_limit_create_loc_conf(&conf->limit);
    ngx_http_compliance_vault_create_loc_conf(&conf->vault);
    ngx_http_compliance_boundary_create_conf(&conf->boundary);
    ngx_http_compliance_deprecation_create_conf(&conf->deprecation);
    ngx_http_compliance_redact_response_create_conf(&conf->redact_response);
    ngx_http_compliance_validate_create_conf(&conf->validate);
    ngx_http_compliance_graphql_create_conf(&conf->graphql);
    ngx_http_compliance_posture_create_conf(cf, &conf->posture);
    ngx_http_compliance_revoke_create_conf(&conf->revoke);
    ngx_http_compliance_mfa_create_conf(&conf->mfa);

    return conf;
}


/*
 * Each concern merges its own sub-struct, in this order; what one needs
 * from another is passed explicitly.
 */
static char *
ngx_http_compliance_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_compliance_loc_conf_t  *prev = parent;
    ngx_http_compliance_loc_conf_t  *conf = child;

    ngx_uint_t                       avail;
    const char                      *limited;
    ngx_http_compliance_conf_pos_t  *limited_pos;

    /* first: "compliance" and "compliance_public" bound everything else */
    limited = ngx_http_compliance_limit_written(&conf->limit, &limited_pos);

    if (ngx_http_compliance_access_merge_conf(cf, &prev->access,
                                              &conf->access, limited,
                                              limited_pos)
        != NGX_CONF_OK
        || ngx_http_compliance_tls_merge_conf(cf, &prev->tls, &conf->tls)
           != NGX_CONF_OK
        || ngx_http_compliance_audit_merge_conf(cf, &prev->audit,
                                                &conf->audit)
           != NGX_CONF_OK
        || ngx_http_compliance_redact_merge_conf(cf, &prev->redact,
                                                 &conf->redact)
           != NGX_CONF_OK
        || ngx_http_compliance_apikey_merge_conf(cf, &prev->apikey,
                                                 &conf->apikey)
           != NGX_CONF_OK
        || ngx_http_compliance_jwks_merge_conf(cf, &prev->jwt, &conf->jwt)
           != NGX_CONF_OK
        || ngx_http_compliance_jwt_merge_conf(cf, &prev->jwt, &conf->jwt)
           != NGX_CONF_OK
        || ngx_http_compliance_jwks_merge_algs(cf, &conf->jwt)
           != NGX_CONF_OK
        || ngx_http_compliance_limit_merge_loc_conf(cf, &prev->limit,
                                                    &conf->limit)
           != NGX_CONF_OK
        /* not inherited: the admin is the location's content handler */
        || (conf->limit.admin
            && ngx_http_compliance_lockout_admin_merge(cf, &conf->access,
                                                       &conf->audit)
               != NGX_CONF_OK)
        /* a credential goes only where requests are authenticated */
        || ngx_http_compliance_vault_merge_loc_conf(cf, &prev->vault,
                                                    &conf->vault,
                                                    &conf->access)
           != NGX_CONF_OK
        || ngx_http_compliance_boundary_merge_conf(cf, &prev->boundary,
                                                   &conf->boundary)
           != NGX_CONF_OK
        || ngx_http_compliance_deprecation_merge_conf(cf, &prev->deprecation,
                                                      &conf->deprecation)
           != NGX_CONF_OK
        || ngx_http_compliance_redact_response_merge_conf(cf,
               &prev->redact_response, &conf->redact_response)
           != NGX_CONF_OK
        || ngx_http_compliance_validate_merge_conf(cf, &prev->validate,
                                                   &conf->validate)
           != NGX_CONF_OK
        || ngx_http_compliance_graphql_merge_conf(cf, &prev->graphql,
                                                  &conf->graphql)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* identity from the IdP: revocation lists, MFA (SPEC 14) */
    if (ngx_http_compliance_revoke_merge_conf(cf, &prev->revoke,
                                              &conf->revoke, &conf->access)
        != NGX_CONF_OK
        || ngx_http_compliance_mfa_merge_conf(cf, &prev->mfa, &conf->mfa,
                                              &conf->access)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the methods a location accepts follow from its keys */
    avail = ((conf->jwt.keys || conf->jwt.remote)
             ? NGX_HTTP_COMPLIANCE_METHOD_JWT : 0)
            | (conf->apikey.keys ? NGX_HTTP_COMPLIANCE_METHOD_API_KEY : 0);

    if (ngx_http_compliance_access_merge_methods(cf, &prev->access,
                                                 &conf->access, avail)
        != NGX_CONF_OK
        || ngx_http_compliance_posture_merge_conf(cf, &prev->posture,
                                                  &conf->posture)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* last: the posture checks read the merged conf at postconfiguration */
    if (ngx_http_compliance_posture_record(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_compliance_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_compliance_reqid_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_compliance_jwt_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_compliance_daily_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_compliance_audit_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_compliance_redis_init_process(cycle);
}


static void
ngx_http_compliance_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_compliance_jwt_exit_process(cycle);
    ngx_http_compliance_redis_exit_process(cycle);
}


ngx_http_compliance_ctx_t *
ngx_http_compliance_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_request_t         *mr;
    ngx_http_compliance_ctx_t  *ctx;

    mr = r->main;

    ctx = ngx_http_get_module_ctx(mr, ngx_http_compliance_module);
    if (ctx != NULL) {
        return ctx;
    }

    /* internal redirects and named locations reset r->ctx */
    for (cln = mr->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_compliance_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(mr, ctx, ngx_http_compliance_module);
            return ctx;
        }
    }

    return NULL;
}


ngx_http_compliance_ctx_t *
ngx_http_compliance_ensure_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_request_t         *mr;
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);
    if (ctx != NULL) {
        return ctx;
    }

    mr = r->main;

    cln = ngx_pool_cleanup_add(mr->pool, sizeof(ngx_http_compliance_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_compliance_ctx_t));

    if (ngx_http_compliance_reqid_generate(ctx->request_id) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: cannot generate a request id");
        return NULL;
    }

    cln->handler = ngx_http_compliance_ctx_cleanup;
    ngx_http_set_ctx(mr, ctx, ngx_http_compliance_module);

    return ctx;
}


static void
ngx_http_compliance_ctx_cleanup(void *data)
{
    ngx_http_compliance_ctx_t  *ctx = data;

    ngx_http_compliance_jwt_ctx_cleanup(ctx);

    /* the identity is not secret, but nothing outlives the request */
    ngx_explicit_memzero(ctx, sizeof(ngx_http_compliance_ctx_t));
}


static ngx_int_t
ngx_http_compliance_variable_request_id(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    v->len = NGX_HTTP_COMPLIANCE_REQID_LEN;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->request_id;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_variable_auth_method(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                  *name;
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);

    name = &ngx_http_compliance_auth_names[ctx ? ctx->auth_method
                                               : NGX_HTTP_COMPLIANCE_AUTH_NONE];

    v->len = name->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = name->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_variable_reason(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || ctx->reason.len == 0) {
        v->len = 0;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    v->len = ctx->reason.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = ctx->reason.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_variable_identity(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                  *s;
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || !ctx->authenticated) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ctx + data);

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}
