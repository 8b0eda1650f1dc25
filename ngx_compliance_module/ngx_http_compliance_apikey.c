/*
 * API-key authentication: the key file is parsed once at config time;
 * a request costs one SHA-256 and a constant-time compare, or, for a key
 * that verified before, a constant-time compare with the cached text
 * (core/compliance_apikey.c).
 */

#include "ngx_http_compliance_module.h"


static void ngx_http_compliance_apikey_cleanup(void *data);


/*
 * Returns NULL when the key is good (ctx then holds the identity), or the
 * SPEC reason of the refusal.
 */
const char *
ngx_http_compliance_apikey_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    u_char *key, size_t len)
{
    int                             rc;
    const compliance_apikey_rec_t  *rec;

    rec = NULL;

    rc = compliance_apikey_verify(clcf->apikey.keys, key, len,
                                  r->connection->sockaddr,
                                  (long long) ngx_time(), &rec);

    if (rc != COMPLIANCE_APIKEY_OK) {
        return compliance_apikey_reason(rc);
    }

    ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_API_KEY;
    ctx->principal.data = (u_char *) rec->principal;
    ctx->principal.len = rec->principal_len;
    ctx->org.data = (u_char *) rec->org;
    ctx->org.len = rec->org_len;
    ctx->scopes.data = (u_char *) rec->scopes;
    ctx->scopes.len = rec->scopes_len;
    ctx->key_id.data = (u_char *) rec->id;
    ctx->key_id.len = COMPLIANCE_APIKEY_ID_LEN;
    ctx->api_keys = clcf->apikey.keys;

    return NULL;
}


static void
ngx_http_compliance_apikey_cleanup(void *data)
{
    compliance_apikey_set_t  *set = data;

    compliance_apikey_set_free(set);
}


char *
ngx_http_compliance_api_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    char                      err[512];
    unsigned                  mode;
    ngx_str_t                *value, file;
    ngx_pool_cleanup_t       *cln;
    compliance_apikey_set_t  *set;

    if (clcf->apikey.keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    set = ngx_pcalloc(cf->pool, sizeof(compliance_apikey_set_t));
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_compliance_apikey_cleanup;
    cln->data = set;

    mode = 0;

    if (compliance_apikey_set_load(set, (char *) file.data, &mode, err,
                                   sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key file \"%V\" in \"%V\": %s",
                           &value[1], &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    ngx_http_compliance_warn_file_mode(cf, &cmd->name, &value[1], mode, 0007);

    clcf->apikey.keys = set;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_api_key_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (clcf->apikey.header.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '-' || value[1].data[i] == '_'))
        {
            break;
        }
    }

    if (value[1].len == 0 || i < value[1].len
        || (value[1].len == sizeof("Authorization") - 1
            && ngx_strncasecmp(value[1].data, (u_char *) "Authorization",
                               value[1].len) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid header name \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->apikey.header = value[1];
    ngx_http_compliance_conf_pos_set(cf, &clcf->apikey.header_pos);

    return NGX_CONF_OK;
}


void
ngx_http_compliance_apikey_create_conf(
    ngx_http_compliance_apikey_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->header = { 0, NULL };
     *     conf->header_pos = { { 0, NULL }, 0 };
     *     conf->header_in = { 0 };
     */

    conf->keys = NGX_CONF_UNSET_PTR;
}


char *
ngx_http_compliance_apikey_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_apikey_conf_t *prev,
    ngx_http_compliance_apikey_conf_t *conf)
{
    ngx_http_core_srv_conf_t           *cscf;
    ngx_http_core_loc_conf_t           *core;
    ngx_http_compliance_apikey_conf_t  *hdr;

    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);

    /*
     * nginx ignores client headers with "_" unless told otherwise; the
     * name is checked where it is written, and an http-level one in each
     * server (underscores_in_headers is a server's)
     */
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    hdr = (conf->header.data != NULL) ? conf
          : (core->name.len == 0) ? prev : NULL;

    if (hdr != NULL
        && hdr->header.data != NULL
        && !cscf->underscores_in_headers
        && ngx_strlchr(hdr->header.data,
                       hdr->header.data + hdr->header.len, '_')
           != NULL)
    {
        ngx_http_compliance_conf_error(NGX_LOG_WARN, cf, &hdr->header_pos,
                                       "\"compliance_api_key_header %V\": "
                                       "nginx drops client headers with "
                                       "\"_\" unless \"underscores_in_headers "
                                       "on\" is set in the server, so no key "
                                       "would arrive in it", &hdr->header);
    }

    ngx_conf_merge_str_value(conf->header, prev->header, "X-API-Key");
    ngx_http_compliance_conf_pos_merge(conf->header_pos, prev->header_pos);

    if (ngx_http_compliance_header_init(cf, &conf->header_in, &conf->header)
        != NGX_OK
        || ngx_http_compliance_credential_variable(cf, conf->header_in.var)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
