/*
 * The transport controls: HTTPS redirect, TLS floor and the HSTS value
 * (the header itself is added by ngx_http_compliance_headers.c).  Owns
 * ngx_http_compliance_tls_conf_t.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_redirect(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_str_t *ngx_http_compliance_redirect_host(ngx_http_request_t *r);
static ngx_uint_t ngx_http_compliance_redirect_plain(ngx_str_t *name);
static ngx_int_t ngx_http_compliance_redirect_names(ngx_conf_t *cf,
    ngx_http_compliance_tls_conf_t *conf);


static ngx_conf_enum_t  ngx_http_compliance_on_off[] = {
    { ngx_string("on"), 1 },
    { ngx_string("off"), 0 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_compliance_tls_versions[] = {
    { ngx_string("TLSv1.2"), NGX_HTTP_COMPLIANCE_TLS_1_2 },
    { ngx_string("TLSv1.3"), NGX_HTTP_COMPLIANCE_TLS_1_3 },
    { ngx_null_string, 0 }
};


/* --- configuration */


void
ngx_http_compliance_tls_create_conf(ngx_http_compliance_tls_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->redirect_names = NULL;
     *     conf->hsts = { 0, NULL };
     */

    conf->redirect = NGX_CONF_UNSET;
    conf->redirect_port = NGX_CONF_UNSET;
    conf->min = NGX_CONF_UNSET_UINT;
}


char *
ngx_http_compliance_tls_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_tls_conf_t *prev, ngx_http_compliance_tls_conf_t *conf)
{
    if (conf->redirect == NGX_CONF_UNSET) {
        conf->redirect = prev->redirect;
        conf->redirect_port = prev->redirect_port;
    }

    ngx_conf_merge_value(conf->redirect, 0, 0);
    ngx_conf_merge_value(conf->redirect_port, 0, 0);

    if (conf->redirect
        && ngx_http_compliance_redirect_names(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_uint_value(conf->min, prev->min,
                              NGX_HTTP_COMPLIANCE_TLS_ANY);

    ngx_conf_merge_str_value(conf->hsts, prev->hsts, "");

    return NGX_CONF_OK;
}


/*
 * The server's own names, kept for the HTTPS redirect's Location (nginx
 * keeps its list in the temporary pool of the configuration); regex
 * names cannot be written into a Location and are left out.
 */
static ngx_int_t
ngx_http_compliance_redirect_names(ngx_conf_t *cf,
    ngx_http_compliance_tls_conf_t *conf)
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


char *
ngx_http_compliance_https_redirect(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_int_t                         port;
    ngx_str_t                        *value, s;
    ngx_uint_t                        on;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->tls.redirect != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_compliance_conf_enum(cf, cmd, &value[1],
                                      ngx_http_compliance_on_off, &on)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    clcf->tls.redirect = on;
    clcf->tls.redirect_port = 0;

    if (cf->args->nelts == 3) {
        if (!ngx_http_compliance_conf_param(&value[2], "port", &s)
            || s.len == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        port = ngx_atoi(s.data, s.len);

        if (port < 1 || port > 65535) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid port in \"%V\" of \"%V\"",
                               &value[2], &cmd->name);
            return NGX_CONF_ERROR;
        }

        clcf->tls.redirect_port = (port == 443) ? 0 : port;
    }

    if (clcf->tls.redirect) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->handler_needed = 1;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_tls_min(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                        *value;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->tls.min != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_compliance_conf_enum(cf, cmd, &value[1],
                                      ngx_http_compliance_tls_versions,
                                      &clcf->tls.min)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->handler_needed = 1;
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_hsts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    u_char                           *p;
    ngx_str_t                        *value;
    ngx_int_t                         max_age;
    ngx_uint_t                        i, subdomains, preload;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->tls.hsts.data != NULL) {
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

    clcf->tls.hsts.data = p;

    p = ngx_sprintf(p, "max-age=%i", max_age);

    if (subdomains) {
        p = ngx_cpymem(p, "; includeSubDomains",
                       sizeof("; includeSubDomains") - 1);
    }

    if (preload) {
        p = ngx_cpymem(p, "; preload", sizeof("; preload") - 1);
    }

    clcf->tls.hsts.len = p - clcf->tls.hsts.data;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}


/* --- the REWRITE phase (called by the access handler) */


ngx_int_t
ngx_http_compliance_transport(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_uint_t                  version;
    ngx_http_compliance_ctx_t  *ctx;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        if (clcf->tls.min == NGX_HTTP_COMPLIANCE_TLS_ANY) {
            return NGX_DECLINED;
        }

        version = SSL_version(r->connection->ssl->connection);

        if (version >= clcf->tls.min) {
            return NGX_DECLINED;
        }

        goto too_old;
    }
#endif

    if (clcf->tls.redirect) {
        return ngx_http_compliance_redirect(r, clcf);
    }

    if (clcf->tls.min == NGX_HTTP_COMPLIANCE_TLS_ANY) {
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

    if (clcf->tls.redirect_port) {
        p = ngx_sprintf(p, ":%i", clcf->tls.redirect_port);
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
 * ".example.com" wildcard), else the server's first plain host name,
 * else its own address: a "Host: evil.example" never becomes the
 * Location.
 */
static ngx_str_t *
ngx_http_compliance_redirect_host(ngx_http_request_t *r)
{
    u_char                          *p;
    size_t                           n;
    ngx_str_t                       *host, *addr, *sn;
    ngx_uint_t                       i, nnames, v6;
    ngx_http_compliance_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    host = &r->headers_in.server;

    /* nginx keeps its name list in the config's temporary pool */
    sn = clcf->tls.redirect_names ? clcf->tls.redirect_names->elts : NULL;
    nnames = clcf->tls.redirect_names ? clcf->tls.redirect_names->nelts : 0;

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

    /* the first name that is a host name ("_" and wildcards are not) */
    for (i = 0; i < nnames; i++) {
        if (ngx_http_compliance_redirect_plain(&sn[i])) {
            return &sn[i];
        }
    }

    /* no usable name: the address the client connected to */
    if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
        return NULL;
    }

    addr = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (addr == NULL) {
        return NULL;
    }

    addr->data = ngx_pnalloc(r->pool, NGX_SOCKADDR_STRLEN + 2);
    if (addr->data == NULL) {
        return NULL;
    }

    p = addr->data;
    v6 = 0;

#if (NGX_HAVE_INET6)
    /* an IPv6 address in a URL is written in brackets */
    v6 = (r->connection->local_sockaddr->sa_family == AF_INET6);
#endif

    if (v6) {
        *p++ = '[';
    }

    p += ngx_sock_ntop(r->connection->local_sockaddr,
                       r->connection->local_socklen, p,
                       NGX_SOCKADDR_STRLEN, 0);

    if (v6) {
        *p++ = ']';
    }

    addr->len = p - addr->data;

    return addr;
}


/* letters, digits, "-" and inner dots: a name a Location may carry */
static ngx_uint_t
ngx_http_compliance_redirect_plain(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->data[0] == '.'
        || name->data[name->len - 1] == '.')
    {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}
