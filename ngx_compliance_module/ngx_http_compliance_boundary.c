/*
 * What leaves the boundary (SPEC 12): the header filter that scrubs
 * headers naming the software behind the gateway
 * ("compliance_scrub_headers") and writes the deprecation headers
 * (ngx_http_compliance_deprecation.c).  Owns
 * ngx_http_compliance_boundary_conf_t.
 * The filter is registered only when a directive needs it; it runs on
 * every response of the main request, nginx's own errors included.
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_boundary_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_scrub(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_compliance_boundary_next;


/* headers that name a framework, a version or a backend host */
static ngx_str_t  ngx_http_compliance_scrubbed[] = {
    ngx_string("X-Powered-By"),
    ngx_string("X-AspNet-Version"),
    ngx_string("X-AspNetMvc-Version"),
    ngx_string("X-Runtime"),
    ngx_string("X-Debug-Token"),
    ngx_string("X-Debug-Token-Link"),
    ngx_string("X-Backend-Server"),
    ngx_null_string
};

static ngx_str_t  ngx_http_compliance_server_name = ngx_string("Server");
static ngx_str_t  ngx_http_compliance_server_value = ngx_string("nginx");


ngx_int_t
ngx_http_compliance_boundary_init(ngx_conf_t *cf)
{
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (!cmf->boundary_needed) {
        return NGX_OK;
    }

    ngx_http_compliance_boundary_next = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_boundary_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_boundary_header_filter(ngx_http_request_t *r)
{
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return ngx_http_compliance_boundary_next(r);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->boundary.scrub && ngx_http_compliance_scrub(r) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_compliance_deprecation_headers(r, &clcf->deprecation)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_compliance_boundary_next(r);
}


/*
 * nginx writes its own "Server" (with the version under server_tokens
 * on) only when r->headers_out.server is NULL: one "Server: nginx" in
 * the list, pointed to by headers_out.server, replaces both that and
 * any copy an upstream passed (proxy_pass_header Server).
 */
static ngx_int_t
ngx_http_compliance_scrub(ngx_http_request_t *r)
{
    ngx_str_t        *name;
    ngx_table_elt_t  *h;

    for (name = ngx_http_compliance_scrubbed; name->len; name++) {
        ngx_http_compliance_drop_header(r, name);
    }

    ngx_http_compliance_drop_header(r, &ngx_http_compliance_server_name);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = ngx_http_compliance_server_name;
    h->value = ngx_http_compliance_server_value;
    h->lowcase_key = NULL;

    r->headers_out.server = h;

    return NGX_OK;
}


/* --- configuration: ngx_http_compliance_boundary_conf_t */


void
ngx_http_compliance_boundary_create_conf(
    ngx_http_compliance_boundary_conf_t *conf)
{
    conf->scrub = NGX_CONF_UNSET;
}


char *
ngx_http_compliance_boundary_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_boundary_conf_t *prev,
    ngx_http_compliance_boundary_conf_t *conf)
{
    ngx_conf_merge_value(conf->scrub, prev->scrub, 0);

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_scrub_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                             *rv;
    ngx_http_compliance_loc_conf_t   *clcf = conf;
    ngx_http_compliance_main_conf_t  *cmf;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (clcf->boundary.scrub) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->boundary_needed = 1;
    }

    return NGX_CONF_OK;
}
