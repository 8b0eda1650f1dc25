/*
 * What leaves the boundary (SPEC 12): the header filter that scrubs
 * headers naming the software behind the gateway
 * ("compliance_scrub_headers") and writes the deprecation headers
 * (ngx_http_compliance_deprecation.c), and the header and body filters
 * that turn error responses into problem+json ("compliance_error_pages").
 * Owns ngx_http_compliance_boundary_conf_t.  The filters are registered
 * only when a directive needs them; they run on every response of the
 * main request, nginx's own errors included.
 *
 * An error page is replaced in the filters, not by an internal redirect:
 * the header filter decides from the response alone (nginx's own error:
 * r->err_status, set by ngx_http_special_response_handler; an
 * upstream's: r->upstream), rewrites the headers for the problem body,
 * and the body filter consumes every buffer of the original body and
 * sends the problem body in place of its last one.  See docs/decisions.md.
 * ngx_http_compliance_redact_response.c replaces a response it cannot
 * mask the same way (ngx_http_compliance_boundary_replace()).
 */

#include "ngx_http_compliance_module.h"


static ngx_int_t ngx_http_compliance_boundary_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_scrub(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_error_page(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf);
static ngx_uint_t ngx_http_compliance_is_problem(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_boundary_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_compliance_boundary_next;
static ngx_http_output_body_filter_pt    ngx_http_compliance_boundary_body_next;


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

static ngx_str_t  ngx_http_compliance_disposition =
    ngx_string("Content-Disposition");


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

    if (cmf->error_pages_needed) {
        ngx_http_compliance_boundary_body_next = ngx_http_top_body_filter;
        ngx_http_top_body_filter = ngx_http_compliance_boundary_body_filter;
    }

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

    if (ngx_http_compliance_error_page(r, clcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_compliance_boundary_next(r);
}


/*
 * Called for every response header (a filter below may finalize the
 * request with another status, and the header filter runs again): the
 * decision is made anew each time.
 */
static ngx_int_t
ngx_http_compliance_error_page(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_uint_t                  status;
    ngx_http_compliance_ctx_t  *ctx;

    if (clcf->boundary.error_pages == NGX_HTTP_COMPLIANCE_ERRORS_OFF) {
        ctx = ngx_http_compliance_get_ctx(r);

        if (ctx != NULL) {
            ctx->error_body = NULL;
        }

        return NGX_OK;
    }

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx != NULL) {
        ctx->error_body = NULL;

        /* the module's own refusals are problem+json already */
        if (ctx->refused) {
            return NGX_OK;
        }
    }

    status = r->headers_out.status;

    if (status < NGX_HTTP_BAD_REQUEST) {
        return NGX_OK;
    }

    /*
     * r->err_status: ngx_http_special_response_handler() made this
     * response (a "return 404", a dead upstream's 502, a bad request
     * line, an error_page target); otherwise, with r->upstream, an
     * upstream sent it.  Anything else (a "return 404 text") is the
     * configuration's own body.
     */
    if (r->err_status == 0) {

        if (r->upstream == NULL) {
            return NGX_OK;
        }

        if (status < NGX_HTTP_INTERNAL_SERVER_ERROR
            && (clcf->boundary.error_pages != NGX_HTTP_COMPLIANCE_ERRORS_ALL
                || ngx_http_compliance_is_problem(r)))
        {
            return NGX_OK;
        }
    }

    if (ctx == NULL) {
        ctx = ngx_http_compliance_ensure_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_compliance_boundary_replace(r, ctx);
}


/*
 * The response's body becomes the problem+json of its status: the
 * headers are rewritten here, the body filter sends it in place of the
 * original (also for compliance_redact_response's 502).
 */
ngx_int_t
ngx_http_compliance_boundary_replace(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx)
{
    ngx_buf_t  *b;

    b = ngx_http_compliance_problem_body(r, ctx, r->headers_out.status,
                                         NULL);
    if (b == NULL) {
        return NGX_ERROR;
    }

    /* nothing of the original representation describes the new body */
    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    if (r->headers_out.content_range) {
        r->headers_out.content_range->hash = 0;
        r->headers_out.content_range = NULL;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);
    ngx_http_compliance_drop_header(r, &ngx_http_compliance_disposition);

    /* an upstream's reason phrase is its text: nginx writes the standard */
    r->headers_out.status_line.len = 0;

    ngx_http_compliance_problem_headers(r, b->last - b->pos);

    ctx->error_body = b;

    return NGX_OK;
}


/* Content-Type application/problem+json, parameters allowed */
static ngx_uint_t
ngx_http_compliance_is_problem(ngx_http_request_t *r)
{
    u_char     c;
    ngx_str_t  *type;

    static ngx_str_t  problem = ngx_string("application/problem+json");

    type = &r->headers_out.content_type;

    if (type->len < problem.len
        || ngx_strncasecmp(type->data, problem.data, problem.len) != 0)
    {
        return 0;
    }

    if (type->len == problem.len) {
        return 1;
    }

    c = type->data[problem.len];

    return c == ';' || c == ' ' || c == '\t';
}


/*
 * The original body is consumed as it comes (upstream buffers are
 * recycled, the upstream read to its end so the connections stay
 * usable) and the problem body goes out in place of the last buffer.
 */
static ngx_int_t
ngx_http_compliance_boundary_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_buf_t                       *b;
    ngx_uint_t                       last;
    ngx_chain_t                     *cl, out;
    ngx_http_compliance_ctx_t       *ctx;

    if (r != r->main || in == NULL) {
        return ngx_http_compliance_boundary_body_next(r, in);
    }

    /* set by the header filter: error pages, or a response not maskable */
    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || ctx->error_body == NULL) {
        return ngx_http_compliance_boundary_body_next(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last_buf) {
            last = 1;
        }

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    b = ctx->error_body;
    ctx->error_body = NULL;

    if (r->header_only) {
        b->pos = b->last;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_compliance_boundary_body_next(r, &out);
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
    conf->error_pages = NGX_CONF_UNSET_UINT;
}


char *
ngx_http_compliance_boundary_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_boundary_conf_t *prev,
    ngx_http_compliance_boundary_conf_t *conf)
{
    ngx_conf_merge_value(conf->scrub, prev->scrub, 0);
    ngx_conf_merge_uint_value(conf->error_pages, prev->error_pages,
                              NGX_HTTP_COMPLIANCE_ERRORS_OFF);

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


char *
ngx_http_compliance_error_pages(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char                             *rv;
    ngx_http_compliance_loc_conf_t   *clcf = conf;
    ngx_http_compliance_main_conf_t  *cmf;

    rv = ngx_http_compliance_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (clcf->boundary.error_pages != NGX_HTTP_COMPLIANCE_ERRORS_OFF) {
        cmf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_compliance_module);
        cmf->boundary_needed = 1;
        cmf->error_pages_needed = 1;

        /* headers.c gives the replaced responses their X-Request-ID */
        cmf->filter_needed = 1;
    }

    return NGX_CONF_OK;
}
