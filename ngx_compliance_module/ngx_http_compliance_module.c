/*
 * ngx_http_compliance_module: directive table, conf create/merge,
 * registration of the handlers and variables, per-request ctx.
 */

#include "ngx_http_compliance_module.h"


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

static char *ngx_http_compliance_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_compliance_public(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_compliance_audit_failure(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_compliance_cors_preflight(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_compliance_https_redirect(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_compliance_tls_min(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_compliance_hsts(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_compliance_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_compliance_require_scope(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_compliance_leeway_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_compliance_redirect_names(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *conf);
static char *ngx_http_compliance_merge_inert(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *prev,
    ngx_http_compliance_loc_conf_t *conf);
static char *ngx_http_compliance_merge_auth(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *prev,
    ngx_http_compliance_loc_conf_t *conf);

static ngx_int_t ngx_http_compliance_variable_request_id(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_auth_method(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_reason(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_compliance_variable_identity(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


/* clock skew beyond this is a broken clock, and makes "exp" meaningless */
#define NGX_HTTP_COMPLIANCE_MAX_LEEWAY  300

static ngx_conf_post_t  ngx_http_compliance_leeway_post =
    { ngx_http_compliance_leeway_check };


static ngx_command_t  ngx_http_compliance_commands[] = {

    { ngx_string("compliance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_compliance_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_compliance_loc_conf_t, enable),
      NULL },

    { ngx_string("compliance_public"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_public,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("compliance_cors_preflight"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_cors_preflight,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

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
      offsetof(ngx_http_compliance_loc_conf_t, jwt_leeway),
      &ngx_http_compliance_leeway_post },

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
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
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
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
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
      ngx_http_compliance_audit_failure,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

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

    { ngx_string("compliance_api_key_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_compliance_api_key_header,
      NGX_HTTP_LOC_CONF_OFFSET,
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


static ngx_str_t  ngx_http_compliance_auth_names[] = {
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

    if (ngx_http_compliance_audit_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_compliance_vault_init(cf);
}


static ngx_int_t
ngx_http_compliance_post_read_handler(ngx_http_request_t *r)
{
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->enable
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

    /*
     * set by ngx_pcalloc():
     *
     *     conf->public_reason = { 0, NULL };
     *     conf->hsts = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->cors_preflight = NGX_CONF_UNSET_UINT;
    conf->https_redirect = NGX_CONF_UNSET;
    conf->https_port = NGX_CONF_UNSET;
    conf->tls_min = NGX_CONF_UNSET_UINT;

    conf->auth_conf = NGX_CONF_UNSET_UINT;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->jwt_keys = NGX_CONF_UNSET_PTR;
    conf->jwt_algs_conf = NGX_CONF_UNSET_UINT;
    conf->jwt_issuers = NGX_CONF_UNSET_PTR;
    conf->jwt_audiences = NGX_CONF_UNSET_PTR;
    conf->jwt_leeway = NGX_CONF_UNSET;
    conf->jwt_max_lifetime = NGX_CONF_UNSET;
    conf->api_keys = NGX_CONF_UNSET_PTR;

    conf->audit_log = NGX_CONF_UNSET_PTR;
    conf->audit_failure = NGX_CONF_UNSET_UINT;
    conf->redact_mask = NGX_CONF_UNSET_UINT;

    ngx_http_compliance_limit_create_loc_conf(&conf->limit);
    ngx_http_compliance_vault_create_loc_conf(&conf->vault);

    return conf;
}


static char *
ngx_http_compliance_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_compliance_loc_conf_t  *prev = parent;
    ngx_http_compliance_loc_conf_t  *conf = child;

    /* before anything is inherited: what this level wrote */
    if (ngx_http_compliance_merge_inert(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->public_reason.data == NULL) {
        conf->public_reason = prev->public_reason;
    }

    ngx_conf_merge_uint_value(conf->cors_preflight, prev->cors_preflight,
                              NGX_HTTP_COMPLIANCE_CORS_DENY);

    if (conf->https_redirect == NGX_CONF_UNSET) {
        conf->https_redirect = prev->https_redirect;
        conf->https_port = prev->https_port;
    }

    ngx_conf_merge_value(conf->https_redirect, 0, 0);
    ngx_conf_merge_value(conf->https_port, 0, 0);

    if (conf->https_redirect
        && ngx_http_compliance_redirect_names(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_uint_value(conf->tls_min, prev->tls_min,
                              NGX_HTTP_COMPLIANCE_TLS_ANY);

    ngx_conf_merge_str_value(conf->hsts, prev->hsts, "");

    if (conf->audit_sensitive.data == NULL) {
        conf->audit_sensitive = prev->audit_sensitive;
    }

    if (conf->audit_resource_type.data == NULL) {
        conf->audit_resource_type = prev->audit_resource_type;
        conf->audit_resource_id = prev->audit_resource_id;
    }

    if (ngx_http_compliance_audit_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_compliance_redact_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_compliance_merge_auth(cf, prev, conf);
}


/*
 * The server's own names, kept for the HTTPS redirect's Location (nginx
 * keeps its list in the temporary pool of the configuration); regex
 * names cannot be written into a Location and are left out.
 */
static ngx_int_t
ngx_http_compliance_redirect_names(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *conf)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i;
    ngx_http_server_name_t    *sn;
    ngx_http_core_srv_conf_t  *cscf;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    conf->redirect_names = ngx_array_create(cf->pool,
                                            cscf->server_names.nelts + 1,
                                            sizeof(ngx_str_t));
    if (conf->redirect_names == NULL) {
        return NGX_ERROR;
    }

    sn = cscf->server_names.elts;

    for (i = 0; i < cscf->server_names.nelts; i++) {
#if (NGX_PCRE)
        if (sn[i].regex) {
            continue;
        }
#endif
        name = ngx_array_push(conf->redirect_names);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = sn[i].name;
    }

    return NGX_OK;
}


static char *
ngx_http_compliance_leeway_check(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *leeway = data;

    if (*leeway > NGX_HTTP_COMPLIANCE_MAX_LEEWAY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_jwt_leeway\" of %T seconds is "
                           "over %d: fix the clocks (NTP) rather than "
                           "accept expired tokens", *leeway,
                           NGX_HTTP_COMPLIANCE_MAX_LEEWAY);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Controls written where they can never act are configuration errors,
 * not silent no-ops: the operator meant them to hold.  Runs first in the
 * merge, while a field still tells whether this level wrote it; merges
 * "compliance" itself.
 */
static char *
ngx_http_compliance_merge_inert(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *prev, ngx_http_compliance_loc_conf_t *conf)
{
    ngx_str_t                 *where;
    ngx_uint_t                 scope, limit, failure, off_here, location;
    const char                *name, *open, *close;
    ngx_http_core_loc_conf_t  *core;

    static ngx_str_t  server_block = ngx_string("server block");

    scope = (conf->scopes != NGX_CONF_UNSET_PTR);
    limit = (conf->limit.limits != NULL);
    failure = (conf->limit.failure != NULL);
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
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_require_scope\" in a location "
                           "that inherits \"compliance_public \"%V\"\" "
                           "would never be checked",
                           &prev->public_reason);
        return NGX_CONF_ERROR;
    }

    if (scope && conf->public_reason.data != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_require_scope\" and "
                           "\"compliance_public\" in %s%V%s: a public "
                           "location checks no scopes", open, where, close);
        return NGX_CONF_ERROR;
    }

    /*
     * under "compliance off" nothing is enforced; a server may still
     * write controls for the locations that turn it on
     */
    if (conf->enable || !(location || off_here)) {
        return NGX_CONF_OK;
    }

    name = scope ? "compliance_require_scope"
                 : limit ? "compliance_limit"
                 : failure ? "compliance_auth_failure_limit" : NULL;

    if (name != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" in %s%V%s, where \"compliance\" is "
                           "off, would never be enforced", name, open, where,
                           close);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_merge_auth(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *prev, ngx_http_compliance_loc_conf_t *conf)
{
    char                      *rv;
    ngx_uint_t                 avail;
    ngx_http_core_srv_conf_t  *cscf;

    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->api_keys, prev->api_keys, NULL);

    /* nginx ignores client headers with "_" unless told otherwise */
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    if (conf->api_key_header.data != NULL
        && !cscf->underscores_in_headers
        && ngx_strlchr(conf->api_key_header.data,
                       conf->api_key_header.data + conf->api_key_header.len,
                       '_')
           != NULL)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"compliance_api_key_header %V\": nginx drops "
                           "client headers with \"_\" unless "
                           "\"underscores_in_headers on\" is set in the "
                           "server, so no key would arrive in it",
                           &conf->api_key_header);
    }

    ngx_conf_merge_str_value(conf->api_key_header, prev->api_key_header,
                             "X-API-Key");

    if (ngx_http_compliance_header_init(cf, &conf->api_key_header_in,
                                        &conf->api_key_header)
        != NGX_OK
        || ngx_http_compliance_credential_variable(cf,
                                                   conf->api_key_header_in.var)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_compliance_jwt_merge(cf, prev, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rv = ngx_http_compliance_limit_merge_loc_conf(cf, &prev->limit,
                                                  &conf->limit);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rv = ngx_http_compliance_vault_merge_loc_conf(cf, &prev->vault,
                                                  &conf->vault);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_conf_merge_uint_value(conf->auth_conf, prev->auth_conf,
                              NGX_CONF_UNSET_UINT);

    avail = (conf->jwt_keys ? NGX_HTTP_COMPLIANCE_METHOD_JWT : 0)
            | (conf->api_keys ? NGX_HTTP_COMPLIANCE_METHOD_API_KEY : 0);

    if (conf->auth_conf == NGX_CONF_UNSET_UINT) {
        conf->auth = avail;
        return NGX_CONF_OK;
    }

    if (conf->auth_conf & ~avail) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_auth %s\" needs \"%s\" here",
                           (conf->auth_conf & ~avail
                            & NGX_HTTP_COMPLIANCE_METHOD_JWT)
                           ? "jwt" : "api_key",
                           (conf->auth_conf & ~avail
                            & NGX_HTTP_COMPLIANCE_METHOD_JWT)
                           ? "compliance_jwt_keys" : "compliance_api_keys");
        return NGX_CONF_ERROR;
    }

    conf->auth = conf->auth_conf;

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

    return ngx_http_compliance_audit_init_process(cycle);
}


static void
ngx_http_compliance_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_compliance_jwt_exit_process(cycle);
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

    if (ctx->jwt_payload) {
        json_decref(ctx->jwt_payload);
    }

    /* the identity is not secret, but nothing outlives the request */
    ngx_explicit_memzero(ctx, sizeof(ngx_http_compliance_ctx_t));
}


static char *
ngx_http_compliance_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char                             *rv;
    ngx_http_compliance_loc_conf_t   *clcf = conf;
    ngx_http_compliance_main_conf_t  *cmf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (clcf->enable) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->handler_needed = 1;
        cmf->filter_needed = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_public(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (clcf->public_reason.data != NULL) {
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

    clcf->public_reason = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_audit_failure(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value;

    if (clcf->audit_failure != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "open") == 0) {
        clcf->audit_failure = NGX_HTTP_COMPLIANCE_AUDIT_OPEN;

    } else if (ngx_strcmp(value[1].data, "closed") == 0) {
        clcf->audit_failure = NGX_HTTP_COMPLIANCE_AUDIT_CLOSED;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", "
                           "it must be \"open\" or \"closed\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_cors_preflight(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value;

    if (clcf->cors_preflight != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "pass") == 0) {
        clcf->cors_preflight = NGX_HTTP_COMPLIANCE_CORS_PASS;

    } else if (ngx_strcmp(value[1].data, "deny") == 0) {
        clcf->cors_preflight = NGX_HTTP_COMPLIANCE_CORS_DENY;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", "
                           "it must be \"pass\" or \"deny\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_https_redirect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_int_t                         port;
    ngx_str_t                        *value;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->https_redirect != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        clcf->https_redirect = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        clcf->https_redirect = 0;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", "
                           "it must be \"on\" or \"off\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->https_port = 0;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 5
            || ngx_strncmp(value[2].data, "port=", 5) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        port = ngx_atoi(value[2].data + 5, value[2].len - 5);

        if (port < 1 || port > 65535) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid port in \"%V\" of \"%V\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        clcf->https_port = (port == 443) ? 0 : port;
    }

    if (clcf->https_redirect) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->handler_needed = 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_tls_min(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                        *value;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->tls_min != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "TLSv1.2") == 0) {
        clcf->tls_min = NGX_HTTP_COMPLIANCE_TLS_1_2;

    } else if (ngx_strcmp(value[1].data, "TLSv1.3") == 0) {
        clcf->tls_min = NGX_HTTP_COMPLIANCE_TLS_1_3;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", "
                           "it must be \"TLSv1.2\" or \"TLSv1.3\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->handler_needed = 1;
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_hsts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    u_char                           *p;
    ngx_str_t                        *value;
    ngx_int_t                         max_age;
    ngx_uint_t                        i, subdomains, preload;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->hsts.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len <= 8 || ngx_strncmp(value[1].data, "max-age=", 8) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\", "
                           "the first parameter must be \"max-age=N\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    max_age = ngx_atoi(value[1].data + 8, value[1].len - 8);
    if (max_age == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid max-age in \"%V\" of \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    subdomains = 0;
    preload = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "includeSubDomains") == 0
            && !subdomains)
        {
            subdomains = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "preload") == 0 && !preload) {
            preload = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* browsers ignore a preload request that lacks these */
    if (preload && (!subdomains || max_age < 31536000)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"preload\" in \"%V\" requires "
                           "\"includeSubDomains\" and max-age of at least "
                           "31536000", &cmd->name);
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, sizeof("max-age=; includeSubDomains; preload")
                              + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    clcf->hsts.data = p;

    p = ngx_sprintf(p, "max-age=%i", max_age);

    if (subdomains) {
        p = ngx_cpymem(p, "; includeSubDomains",
                       sizeof("; includeSubDomains") - 1);
    }

    if (preload) {
        p = ngx_cpymem(p, "; preload", sizeof("; preload") - 1);
    }

    clcf->hsts.len = p - clcf->hsts.data;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, mask;

    if (clcf->auth_conf != NGX_CONF_UNSET_UINT) {
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

    clcf->auth_conf = mask;

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_require_scope(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value, *s;
    ngx_uint_t  i;

    if (clcf->scopes != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    clcf->scopes = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_str_t));
    if (clcf->scopes == NULL) {
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

        s = ngx_array_push(clcf->scopes);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
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


/*
 * The one warning for a key file that group or others may read: the
 * caller passes the bits it forbids (0007 for files nginx's group may
 * read, 0077 for secrets only nginx's user may read).  nginx's
 * formatter has no "%o", so the mode is spelled here.
 */
void
ngx_http_compliance_warn_file_mode(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_uint_t mode, ngx_uint_t forbidden)
{
    u_char  buf[sizeof("0777")];

    if ((mode & forbidden) == 0) {
        return;
    }

    buf[0] = '0';
    buf[1] = (u_char) ('0' + ((mode >> 6) & 7));
    buf[2] = (u_char) ('0' + ((mode >> 3) & 7));
    buf[3] = (u_char) ('0' + (mode & 7));
    buf[4] = '\0';

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "key file \"%V\" in \"%V\" is accessible by %s "
                       "(mode %s): chmod %s it",
                       path, directive,
                       (forbidden & 0070) ? "group or others" : "others",
                       buf, (forbidden & 0070) ? "600" : "o-rwx");
}
