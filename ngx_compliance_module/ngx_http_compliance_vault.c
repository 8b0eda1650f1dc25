/*
 * Credential proxy: "compliance_vault" decrypts the vault at config load,
 * "compliance_upstream_credential" names the secret a location sends
 * upstream.
 *
 * The secret enters the request as late as possible and leaves it as
 * early as possible:
 *
 *   - in, at the end of the PRECONTENT phase of the final location (after
 *     try_files and mirror, after every rewrite-module "set"), for main
 *     requests that authenticated and were not refused;
 *   - out, in our header filter (the upstream request, if any, has been
 *     built by then; add_header and the later filters run after it) or,
 *     when no response header is sent (client gone, 499), in a request
 *     cleanup, which nginx runs before the LOG phase.
 *
 * The client's headers are never edited in place: the header list is
 * replaced by a copy, so a subrequest that copied the old list (mirror,
 * auth_request) never sees the secret.  The cached value of
 * $http_<header> is invalidated at both ends.
 */

#include "ngx_http_compliance_module.h"

#include "compliance_secret.h"


#define NGX_HTTP_COMPLIANCE_VAULT_ERRLEN  512


/* per main request; the data of a cleanup of r->main->pool */
typedef struct {
    ngx_http_request_t                    *request;
    ngx_table_elt_t                       *header;   /* injected, or NULL */
    u_char                                *value;    /* prefix + secret */
    size_t                                 len;
    const u_char                          *secret;   /* what was sent */
    size_t                                 secret_len;
    ngx_http_compliance_vault_loc_conf_t  *conf;     /* last injected */
} ngx_http_compliance_vault_req_t;


static void ngx_http_compliance_vault_free(void *data);
static void ngx_http_compliance_vault_check_debug(ngx_conf_t *cf,
    ngx_http_compliance_vault_loc_conf_t *conf);
static ngx_uint_t ngx_http_compliance_vault_valid_value(const u_char *p,
    size_t len);
static const char *ngx_http_compliance_vault_check_header(ngx_str_t *name);
static char *ngx_http_compliance_vault_resolve(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_vault_loc_conf_t *conf);

static ngx_int_t ngx_http_compliance_vault_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_vault_redirect_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_vault_header_filter(
    ngx_http_request_t *r);
static ngx_http_compliance_vault_req_t *ngx_http_compliance_vault_state(
    ngx_http_request_t *r);
static ngx_http_compliance_vault_req_t *ngx_http_compliance_vault_create_state(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_vault_inject(ngx_http_request_t *r,
    ngx_http_compliance_vault_loc_conf_t *vlcf,
    ngx_http_compliance_vault_req_t *st, const u_char *secret, size_t len);
static void ngx_http_compliance_vault_withdraw(ngx_http_request_t *r,
    ngx_http_compliance_vault_req_t *st);
static void ngx_http_compliance_vault_scrub_upstream(ngx_http_request_t *r,
    ngx_http_compliance_vault_req_t *st);
static void ngx_http_compliance_vault_request_cleanup(void *data);
static void ngx_http_compliance_vault_pool_cleanup(void *data);


static ngx_http_output_header_filter_pt  ngx_http_compliance_vault_next;


/* headers that frame the message or belong to one hop */
static ngx_str_t  ngx_http_compliance_vault_reserved[] = {
    ngx_string("host"),
    ngx_string("connection"),
    ngx_string("content-length"),
    ngx_string("transfer-encoding"),
    ngx_string("te"),
    ngx_string("trailer"),
    ngx_string("upgrade"),
    ngx_string("keep-alive"),
    ngx_string("proxy-connection"),
    ngx_string("expect"),
    ngx_null_string
};


char *
ngx_http_compliance_vault(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_main_conf_t  *cmf = conf;

    int                  rc;
    char                 err[NGX_HTTP_COMPLIANCE_VAULT_ERRLEN];
    u_char               key[COMPLIANCE_VAULT_KEY_LEN];
    time_t               age;
    ngx_str_t           *value, file, keyfile, s;
    ngx_uint_t           i;
    ngx_pool_cleanup_t  *cln;
    compliance_vault_t  *v;

    if (cmf->vault.file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&keyfile);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "key", &s)) {
            if (keyfile.data != NULL || s.len == 0) {
                goto invalid;
            }

            keyfile = s;
            continue;
        }

        /* the rotation policy: SPEC 16, docs/credential-proxy.md */
        if (ngx_http_compliance_conf_param(&value[i], "max_age", &s)) {
            if (cmf->vault.max_age_text.data != NULL) {
                goto invalid;
            }

            age = ngx_parse_time(&s, 1);

            if (age == (time_t) NGX_ERROR || age <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_age \"%V\" in \"%V\", it "
                                   "must be a time such as \"90d\"",
                                   &s, &cmd->name);
                return NGX_CONF_ERROR;
            }

            cmf->vault.max_age = age;
            cmf->vault.max_age_text = s;
            continue;
        }

    invalid:

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\", "
                           "it must be \"key=file\" or \"max_age=time\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (keyfile.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"key=file\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    ngx_http_compliance_conf_pos_set(cf, &cmf->vault.where);

    file = value[1];

    /* comes back NUL-terminated */
    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cmf->vault.file = file;

    /* the cycle owns the vault from the start: a failed load frees it too */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_compliance_vault_free;
    cln->data = NULL;

    if (ngx_http_compliance_conf_load_secret(cf, cmd, &keyfile, key)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    v = NULL;
    rc = compliance_vault_load(&v, (const char *) file.data, key, err,
                               sizeof(err));

    ngx_explicit_memzero(key, sizeof(key));

    if (rc != COMPLIANCE_VAULT_OK) {
        compliance_vault_free(v);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s",
                           &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    cln->data = v;
    cmf->vault.vault = v;

    return NGX_CONF_OK;
}


/*
 * A cleanup of the cycle pool: runs when "nginx -t" ends, when a new
 * configuration is refused or replaced, and when a process exits.
 */
static void
ngx_http_compliance_vault_free(void *data)
{
    compliance_vault_t  *v = data;

    compliance_vault_free(v);
}


char *
ngx_http_compliance_upstream_credential(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                             *value, s;
    ngx_uint_t                             i;
    const char                            *bad;
    ngx_http_compliance_main_conf_t       *cmf;
    ngx_http_compliance_vault_loc_conf_t  *vlcf;

    vlcf = &clcf->vault;

    if (vlcf->name.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!compliance_vault_name_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid credential name \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (vlcf->header.data == NULL
            && value[i].len >= sizeof("header=") - 1
            && ngx_strncmp(value[i].data, "header=", sizeof("header=") - 1)
               == 0)
        {
            s.data = value[i].data + sizeof("header=") - 1;
            s.len = value[i].len - (sizeof("header=") - 1);

            bad = ngx_http_compliance_vault_check_header(&s);
            if (bad != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid header \"%V\" in \"%V\": %s",
                                   &s, &cmd->name, bad);
                return NGX_CONF_ERROR;
            }

            vlcf->header = s;
            continue;
        }

        if (vlcf->prefix.data == NULL
            && value[i].len >= sizeof("prefix=") - 1
            && ngx_strncmp(value[i].data, "prefix=", sizeof("prefix=") - 1)
               == 0)
        {
            s.data = value[i].data + sizeof("prefix=") - 1;
            s.len = value[i].len - (sizeof("prefix=") - 1);

            if (!ngx_http_compliance_vault_valid_value(s.data, s.len)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid prefix in \"%V\": control "
                                   "characters cannot be sent in a header",
                                   &cmd->name);
                return NGX_CONF_ERROR;
            }

            vlcf->prefix = s;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (vlcf->header.data == NULL) {
        ngx_str_set(&vlcf->header, "Authorization");
    }

    if (vlcf->prefix.data == NULL) {
        ngx_str_set(&vlcf->prefix, "");
    }

    vlcf->name = value[1];
    ngx_http_compliance_conf_pos_set(cf, &vlcf->where);

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->vault.used = 1;

    return NGX_CONF_OK;
}


const char *
ngx_http_compliance_vault_header_invalid(ngx_str_t *name)
{
    return ngx_http_compliance_vault_check_header(name);
}


/* NULL when the name can carry a credential, else why not */
static const char *
ngx_http_compliance_vault_check_header(ngx_str_t *name)
{
    u_char      c;
    ngx_str_t  *rs;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 128) {
        return "a header name is 1 to 128 characters";
    }

    /* what nginx accepts from clients without underscores_in_headers */
    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-')
        {
            continue;
        }

        return "only letters, digits and \"-\" are allowed";
    }

    for (rs = ngx_http_compliance_vault_reserved; rs->len; rs++) {
        if (name->len == rs->len
            && ngx_strncasecmp(name->data, rs->data, rs->len) == 0)
        {
            return "this header frames the message or belongs to one hop";
        }
    }

    return NULL;
}


/* a field value (RFC 9110 5.5): no control character but HTAB */
static ngx_uint_t
ngx_http_compliance_vault_valid_value(const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


void
ngx_http_compliance_vault_create_loc_conf(
    ngx_http_compliance_vault_loc_conf_t *conf)
{
    /*
     * the loc conf is allocated with ngx_pcalloc(): name, header, prefix,
     * entry and the rest start empty
     */

    conf->match.var = NGX_ERROR;
}


/* access: the location's merged access rules (merged before this) */
char *
ngx_http_compliance_vault_merge_loc_conf(ngx_conf_t *cf,
    ngx_http_compliance_vault_loc_conf_t *prev,
    ngx_http_compliance_vault_loc_conf_t *conf,
    ngx_http_compliance_access_conf_t *access)
{
    if (conf->name.data != NULL) {
        if (ngx_http_compliance_vault_resolve(cf, access, conf)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (prev->name.data != NULL
               && access->enable == 1
               && access->public_reason.data == NULL)
    {
        /*
         * a nested public or unprotected location inherits nothing: its
         * requests are not authenticated and would never get the
         * credential
         */
        *conf = *prev;
    }

    if (conf->entry != NULL || conf->oauth2 != NULL) {
        ngx_http_compliance_vault_check_debug(cf, conf);
    }

    return NGX_CONF_OK;
}


/*
 * nginx's debug log prints every upstream request header in clear: the
 * error log of a location that sends a credential must not log at debug
 * level (error_log ... debug at any level; debug_connection is checked
 * once the events block is known, in ngx_http_compliance_vault_check_
 * debug_connection)
 */
static void
ngx_http_compliance_vault_check_debug(ngx_conf_t *cf,
    ngx_http_compliance_vault_loc_conf_t *conf)
{
#if (NGX_DEBUG)
    ngx_log_t                 *log;
    ngx_http_core_loc_conf_t  *core;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    for (log = core->error_log; log; log = log->next) {
        if (log->log_level & NGX_LOG_DEBUG_HTTP) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "\"%s %V\": the "
                          "error_log of location \"%V\" logs at debug "
                          "level, which writes the headers of upstream "
                          "requests, the credential included, in clear",
                          conf->oauth2 ? "compliance_upstream_oauth2"
                                       : "compliance_upstream_credential",
                          &conf->name, &core->name);
            return;
        }
    }
#endif
}


/* debug_connection logs every header of the connections it names */
ngx_int_t
ngx_http_compliance_vault_check_debug_connection(ngx_cycle_t *cycle)
{
#if (NGX_DEBUG)
    void                             ***ctx;
    ngx_event_conf_t                   *ecf;
    ngx_http_compliance_main_conf_t    *cmf;

    cmf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_compliance_module);

    ctx = (void ***) ngx_get_conf(cycle->conf_ctx, ngx_events_module);

    if (cmf == NULL || !cmf->vault.used || ctx == NULL) {
        return NGX_OK;
    }

    ecf = (*ctx)[ngx_event_core_module.ctx_index];

    if (ecf != NULL && ecf->debug_connection.nelts) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "\"debug_connection\" writes the headers of upstream "
                      "requests, injected credentials included, in clear "
                      "to the error log");
    }
#endif

    return NGX_OK;
}


static char *
ngx_http_compliance_vault_resolve(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_vault_loc_conf_t *conf)
{
    const char                       *why;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    why = NULL;

    if (access->enable != 1) {
        why = "needs \"compliance on\": only authenticated requests "
              "get a credential";

    } else if (access->public_reason.data != NULL) {
        why = "is not allowed in a public location (compliance_public)";

    } else if (cmf->vault.vault == NULL) {
        why = "needs \"compliance_vault\" in the http block";
    }

    if (why == NULL && conf->oauth2 != NULL) {
        why = ngx_http_compliance_oauth2_resolve(cf, conf->oauth2,
                                                 cmf->vault.vault);
    }

    if (why != NULL) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->where,
                                       "\"%s %V\" %s",
                                       conf->oauth2
                                       ? "compliance_upstream_oauth2"
                                       : "compliance_upstream_credential",
                                       &conf->name, why);
        return NGX_CONF_ERROR;
    }

    if (conf->oauth2 != NULL) {
        /* the token comes at run time; checked as it is stored */
        goto header;
    }

    conf->entry = compliance_vault_get(cmf->vault.vault, conf->name.data,
                                       conf->name.len);

    if (conf->entry == NULL) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->where,
                                       "\"compliance_upstream_credential\": "
                                       "no credential \"%V\" in the vault "
                                       "\"%V\"", &conf->name,
                                       &cmf->vault.file);
        return NGX_CONF_ERROR;
    }

    /* a CR or LF in a secret would forge headers of the upstream request */
    if (!ngx_http_compliance_vault_valid_value(conf->entry->secret,
                                               conf->entry->secret_len))
    {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->where,
                                       "\"compliance_upstream_credential\": "
                                       "credential \"%V\" in the vault "
                                       "\"%V\" holds control characters and "
                                       "cannot be sent in a header",
                                       &conf->name, &cmf->vault.file);
        return NGX_CONF_ERROR;
    }

header:

    /*
     * the name has no "_" (see check_header), so the matching name is the
     * lowercase key; $http_<header>'s cached value must not outlive the
     * secret
     */
    if (ngx_http_compliance_header_init(cf, &conf->match, &conf->header)
        != NGX_OK
        || ngx_http_compliance_credential_variable(cf, conf->match.var)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    conf->hash = ngx_hash_key(conf->match.name.data, conf->match.name.len);

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_compliance_vault_init(ngx_conf_t *cf)
{
    ngx_array_t                      *handlers;
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (!cmf->vault.used) {
        return NGX_OK;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    handlers = &cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers;

    if (ngx_array_push(handlers) == NULL) {
        return NGX_ERROR;
    }

    /*
     * first in the array is last to run: after try_files (which may still
     * redirect) and mirror (whose subrequests copy the headers)
     */
    h = handlers->elts;
    ngx_memmove(&h[1], &h[0],
                (handlers->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_compliance_vault_handler;

    /*
     * An internal redirect starts again at SERVER_REWRITE, a named
     * location at REWRITE: the secret goes before anything there (a
     * "set", a "return", the rewrite module's handlers registered before
     * ours and so run after them) can read it
     */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_SERVER_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_vault_redirect_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_vault_redirect_handler;

    /* on top: ahead of add_header and of every filter that reads $http_ */
    ngx_http_compliance_vault_next = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_vault_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_vault_handler(ngx_http_request_t *r)
{
    ngx_int_t                              rc;
    ngx_str_t                              token;
    ngx_http_compliance_ctx_t             *ctx;
    ngx_http_compliance_loc_conf_t        *clcf;
    ngx_http_compliance_vault_req_t       *st;
    ngx_http_compliance_vault_loc_conf_t  *vlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    vlcf = &clcf->vault;

    st = ngx_http_compliance_vault_state(r);

    ctx = (vlcf->entry != NULL || vlcf->oauth2 != NULL)
          ? ngx_http_compliance_get_ctx(r) : NULL;

    /* public, unauthenticated and refused requests never get one */
    if (ctx == NULL || !ctx->authenticated || ctx->refused) {

        /* e.g. redirected here from a location that injected one */
        if (st != NULL && st->header != NULL) {
            ngx_http_compliance_vault_withdraw(r, st);
        }

        return NGX_DECLINED;
    }

    if (st != NULL && st->header != NULL && st->conf == vlcf) {
        /* this location's credential is already in place */
        return NGX_DECLINED;
    }

    if (st == NULL) {
        st = ngx_http_compliance_vault_create_state(r);
        if (st == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (st->header != NULL) {
        ngx_http_compliance_vault_withdraw(r, st);
    }

    if (vlcf->oauth2 != NULL) {
        rc = ngx_http_compliance_oauth2_token(r, vlcf->oauth2, &token);

        if (rc == NGX_DONE) {
            /* parked until the token request ends; back here then */
            return NGX_DONE;
        }

        if (rc == NGX_DECLINED) {
            rc = ngx_http_compliance_problem(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                             "upstream_credential_"
                                             "unavailable");
            ngx_http_finalize_request(r, rc);
            return NGX_DONE;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_compliance_vault_inject(r, vlcf, st, token.data,
                                              token.len);

    } else {
        rc = ngx_http_compliance_vault_inject(r, vlcf, st,
                                              vlcf->entry->secret,
                                              vlcf->entry->secret_len);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->credential_id = vlcf->name;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "compliance: credential \"%V\" set in \"%V\"",
                   &vlcf->name, &vlcf->header);

    return NGX_DECLINED;
}


/*
 * The secret was injected for the location the request has left
 * (error_page, X-Accel-Redirect, try_files, a named location): the target
 * gets its own credential in PRECONTENT, or none.
 */
static ngx_int_t
ngx_http_compliance_vault_redirect_handler(ngx_http_request_t *r)
{
    ngx_http_compliance_vault_req_t  *st;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    st = ngx_http_compliance_vault_state(r);

    if (st != NULL && st->header != NULL) {
        /* the upstream the request had is done with its copy too */
        ngx_http_compliance_vault_scrub_upstream(r, st);
        ngx_http_compliance_vault_withdraw(r, st);

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "compliance: credential withdrawn on redirect");
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_compliance_vault_header_filter(ngx_http_request_t *r)
{
    ngx_http_compliance_vault_req_t  *st;

    if (r == r->main) {
        st = ngx_http_compliance_vault_state(r);

        /* the upstream request, if there is one, has been built */
        if (st != NULL && st->header != NULL) {
            ngx_http_compliance_vault_withdraw(r, st);
        }
    }

    return ngx_http_compliance_vault_next(r);
}


static ngx_http_compliance_vault_req_t *
ngx_http_compliance_vault_state(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->main->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_compliance_vault_pool_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


static ngx_http_compliance_vault_req_t *
ngx_http_compliance_vault_create_state(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_cleanup_t               *rcln;
    ngx_http_compliance_vault_req_t  *st;

    cln = ngx_pool_cleanup_add(r->main->pool,
                               sizeof(ngx_http_compliance_vault_req_t));
    if (cln == NULL) {
        return NULL;
    }

    st = cln->data;
    ngx_memzero(st, sizeof(ngx_http_compliance_vault_req_t));
    st->request = r->main;

    /*
     * request cleanups run before the LOG phase, and after those of the
     * upstreams this request starts later (the list is LIFO)
     */
    rcln = ngx_http_cleanup_add(r, 0);
    if (rcln == NULL) {
        return NULL;
    }

    rcln->handler = ngx_http_compliance_vault_request_cleanup;
    rcln->data = st;

    cln->handler = ngx_http_compliance_vault_pool_cleanup;

    return st;
}


static ngx_int_t
ngx_http_compliance_vault_inject(ngx_http_request_t *r,
    ngx_http_compliance_vault_loc_conf_t *vlcf,
    ngx_http_compliance_vault_req_t *st, const u_char *secret, size_t slen)
{
    u_char                           *p;
    size_t                            len;
    ngx_table_elt_t                  *h;
    ngx_http_compliance_main_conf_t  *cmf;

    len = vlcf->prefix.len + slen;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* from here on the pool cleanup wipes it, whatever fails */
    st->value = p;
    st->len = len;
    st->conf = vlcf;

    /* a token lives in the request's pool until it ends (oauth2.c) */
    st->secret = secret;
    st->secret_len = slen;

    p = ngx_cpymem(p, vlcf->prefix.data, vlcf->prefix.len);
    ngx_memcpy(p, secret, slen);

    /* every client header of that name goes, "_" spelled as "-" too */
    if (ngx_http_compliance_header_copy(r, &vlcf->match, NULL, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a third party never sees the caller's own token either */
    cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);

    if (ngx_http_compliance_header_strip(r, &cmf->authorization) != NGX_OK) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = vlcf->hash;
    h->key = vlcf->header;
    h->lowcase_key = vlcf->match.name.data;
    h->value.data = st->value;
    h->value.len = st->len;

    st->header = h;

    if (vlcf->header.len == sizeof("authorization") - 1
        && ngx_strncmp(vlcf->match.name.data, "authorization",
                       sizeof("authorization") - 1) == 0)
    {
        /* the client's credential: $remote_user and the like see none */
        r->headers_in.authorization = NULL;
    }

    ngx_http_compliance_header_invalidate(r, &vlcf->match);

    return NGX_OK;
}


static void
ngx_http_compliance_vault_withdraw(ngx_http_request_t *r,
    ngx_http_compliance_vault_req_t *st)
{
    ngx_table_elt_t  *h;
    ngx_list_part_t  *last;

    ngx_explicit_memzero(st->value, st->len);

    h = st->header;
    st->header = NULL;

    last = r->headers_in.headers.last;

    if (last->nelts && (ngx_table_elt_t *) last->elts + last->nelts - 1 == h)
    {
        /* still the last header, as injected */
        last->nelts--;

    } else if (ngx_http_compliance_header_copy(r, NULL, h, 0) != NGX_OK)
    {
        /* no memory for a copy: an empty value, which variables skip */
        h->hash = 0;
        h->value.len = 0;
    }

    ngx_http_compliance_header_invalidate(r, &st->conf->match);
}


/*
 * Best effort: the header block of the last upstream request holds a copy
 * of the secret in r->pool too.  Runs when the request is done with it.
 */
static void
ngx_http_compliance_vault_scrub_upstream(ngx_http_request_t *r,
    ngx_http_compliance_vault_req_t *st)
{
    u_char                          *p, *last;
    size_t                           len;
    ngx_buf_t                       *b;
    const u_char                    *secret;
    ngx_http_upstream_t             *u;

    u = r->upstream;

    if (st->conf == NULL || st->secret == NULL || st->secret_len == 0
        || u == NULL || u->request_bufs == NULL)
    {
        return;
    }

    b = u->request_bufs->buf;

    if (b == NULL || !b->temporary || b->start == NULL
        || b->last < b->start)
    {
        return;
    }

    secret = st->secret;
    len = st->secret_len;

    p = b->start;
    last = b->last;

    while ((size_t) (last - p) >= len) {

        if (*p == secret[0] && ngx_memcmp(p, secret, len) == 0) {
            ngx_explicit_memzero(p, len);
            p += len;
            continue;
        }

        p++;
    }
}


static void
ngx_http_compliance_vault_request_cleanup(void *data)
{
    ngx_http_compliance_vault_req_t  *st = data;

    ngx_http_compliance_vault_scrub_upstream(st->request, st);

    if (st->header != NULL) {
        /* no response header was sent (e.g. the client went away) */
        ngx_http_compliance_vault_withdraw(st->request, st);
    }
}


static void
ngx_http_compliance_vault_pool_cleanup(void *data)
{
    ngx_http_compliance_vault_req_t  *st = data;

    if (st->value != NULL) {
        ngx_explicit_memzero(st->value, st->len);
    }
}
