/*
 * An API's retirement ("compliance_deprecation", SPEC 12): the
 * Deprecation (RFC 9745), Sunset (RFC 8594) and Link rel="deprecation"
 * headers on every response of the location, written by the boundary
 * header filter; with "enforce", the sunset step of the enforcement
 * handler refuses requests from the sunset on (410 api_sunset).  Owns
 * ngx_http_compliance_deprecation_conf_t.  Every value is formatted at
 * config time.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_deprecation_date(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *arg, ngx_str_t *date, time_t *t);
static ngx_int_t ngx_http_compliance_deprecation_link(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *url, ngx_str_t *link);


static ngx_str_t  ngx_http_compliance_deprecation_name =
    ngx_string("Deprecation");
static ngx_str_t  ngx_http_compliance_sunset_name = ngx_string("Sunset");
static ngx_str_t  ngx_http_compliance_link_name = ngx_string("Link");


ngx_int_t
ngx_http_compliance_deprecation_headers(ngx_http_request_t *r,
    ngx_http_compliance_deprecation_conf_t *conf)
{
    if (conf->deprecation.len == 0) {
        return NGX_OK;
    }

    /* the gateway's timeline is the one the client gets */
    ngx_http_compliance_drop_header(r, &ngx_http_compliance_deprecation_name);

    if (ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_deprecation_name,
                                       &conf->deprecation)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->sunset_date.len) {
        ngx_http_compliance_drop_header(r, &ngx_http_compliance_sunset_name);

        if (ngx_http_compliance_set_header(r,
                                           &ngx_http_compliance_sunset_name,
                                           &conf->sunset_date)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* Link may hold other relations: ours is added to them */
    if (conf->link.len
        && ngx_http_compliance_set_header(r, &ngx_http_compliance_link_name,
                                          &conf->link)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the sunset step of the enforcement handler (SPEC 3) */
ngx_int_t
ngx_http_compliance_deprecation_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_http_compliance_ctx_t  *ctx;

    if (!clcf->deprecation.enforce
        || ngx_time() < clcf->deprecation.sunset)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_COMPLIANCE_GONE,
                                       "api_sunset");
}


/* --- configuration: ngx_http_compliance_deprecation_conf_t */


void
ngx_http_compliance_deprecation_create_conf(
    ngx_http_compliance_deprecation_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->deprecation = { 0, NULL };
     *     conf->sunset_date = { 0, NULL };
     *     conf->link = { 0, NULL };
     *     conf->sunset = 0;
     *     conf->enforce = 0;
     */
}


/* a nested location inherits its parent's timeline, all of it */
char *
ngx_http_compliance_deprecation_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_deprecation_conf_t *prev,
    ngx_http_compliance_deprecation_conf_t *conf)
{
    if (conf->deprecation.data == NULL) {
        *conf = *prev;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_deprecation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    u_char                           *p;
    time_t                            date, sunset;
    ngx_str_t                        *value, v, sunset_arg, link;
    ngx_uint_t                        i;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->deprecation.deprecation.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_compliance_deprecation_date(cf, cmd, &value[1], &value[1],
                                             &date)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    sunset = 0;
    ngx_str_null(&sunset_arg);
    ngx_str_null(&link);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "sunset", &v)) {
            if (sunset_arg.data) {
                goto duplicate;
            }

            if (ngx_http_compliance_deprecation_date(cf, cmd, &value[i], &v,
                                                     &sunset)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            sunset_arg = v;
            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "link", &v)) {
            if (link.data) {
                goto duplicate;
            }

            if (ngx_http_compliance_deprecation_link(cf, cmd, &v, &link)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len == sizeof("enforce") - 1
            && ngx_strcmp(value[i].data, "enforce") == 0)
        {
            if (clcf->deprecation.enforce) {
                goto duplicate;
            }

            clcf->deprecation.enforce = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (sunset_arg.data && sunset <= date) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "sunset \"%V\" in \"%V\" is not after the "
                           "deprecation date \"%V\"",
                           &sunset_arg, &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (clcf->deprecation.enforce && sunset_arg.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"enforce\" in \"%V\" needs a \"sunset=\" date",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* RFC 9745: an sf-date, "@" and the seconds since the epoch */
    p = ngx_pnalloc(cf->pool, 1 + NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    clcf->deprecation.deprecation.data = p;
    clcf->deprecation.deprecation.len = ngx_sprintf(p, "@%T", date) - p;

    if (sunset_arg.data) {
        /* RFC 8594: an HTTP-date */
        p = ngx_pnalloc(cf->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT"));
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        clcf->deprecation.sunset_date.data = p;
        clcf->deprecation.sunset_date.len = ngx_http_time(p, sunset) - p;
        clcf->deprecation.sunset = sunset;
    }

    clcf->deprecation.link = link;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->boundary_needed = 1;

    if (clcf->deprecation.enforce) {
        /* the sunset is a step of the enforcement handler */
        cmf->handler_needed = 1;
    }

    return NGX_CONF_OK;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate parameter \"%V\" in \"%V\"",
                       &value[i], &cmd->name);
    return NGX_CONF_ERROR;
}


/* "YYYY-MM-DD", a real calendar date: 00:00:00 UTC that day */
static ngx_int_t
ngx_http_compliance_deprecation_date(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_str_t *date, time_t *t)
{
    long long  v;

    if (compliance_apikey_parse_date(date->data, date->len, &v) != 0
        || v > (long long) NGX_MAX_TIME_T_VALUE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid date \"%V\" in \"%V\", it must be a "
                           "calendar date YYYY-MM-DD", arg, &cmd->name);
        return NGX_ERROR;
    }

    *t = (time_t) v;

    return NGX_OK;
}


/*
 * An absolute URL (RFC 3986: scheme "://" authority ...) that can stand
 * between "<" and ">" in a Link header: visible ASCII, none of the
 * characters a URI never holds unescaped.
 */
static ngx_int_t
ngx_http_compliance_deprecation_link(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *url, ngx_str_t *link)
{
    u_char  *p, *last, *host, c;

    p = url->data;
    last = p + url->len;

    if (p == last || !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
        goto invalid;
    }

    while (p < last && *p != ':') {
        c = *p++;

        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
        {
            goto invalid;
        }
    }

    if (last - p < 3 || p[1] != '/' || p[2] != '/') {
        goto invalid;
    }

    host = p + 3;

    if (host == last || *host == '/' || *host == '?' || *host == '#') {
        goto invalid;
    }

    for (p = url->data; p < last; p++) {
        c = *p;

        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>'
            || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|'
            || c == '}')
        {
            goto invalid;
        }
    }

    link->len = sizeof("<>; rel=\"deprecation\"") - 1 + url->len;
    link->data = ngx_pnalloc(cf->pool, link->len);
    if (link->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(link->data, "<%V>; rel=\"deprecation\"", url);

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid link \"%V\" in \"%V\", it must be an "
                       "absolute URL without spaces or quotes",
                       url, &cmd->name);
    return NGX_ERROR;
}
