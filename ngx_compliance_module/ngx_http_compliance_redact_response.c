/*
 * Masked response bodies (SPEC 12, "compliance_redact_response"): a
 * header and a body filter that run the detectors of core/ over
 * application/json, application/<x>+json and text/<x> bodies of the main
 * request, through core/compliance_redact_stream.c, so a card number
 * cut between two upstream buffers is masked like any other.  Owns
 * ngx_http_compliance_redact_response_conf_t.
 *
 * Before the content phase the request loses Accept-Encoding (the body
 * must arrive uncompressed), Range and If-Range (the body is served
 * whole: a slice could cut a card number where no detector sees it).
 * A response that still cannot be masked (compressed, partial, or with a
 * Content-Length over max_size) is replaced by a 502 problem+json and
 * an alert record before anything is sent; a body without a length
 * that outgrows max_size is cut off where it stands (the headers are
 * gone by then) with the same alert.  See docs/boundary.md and
 * decisions D59 to D62.
 */

#include "ngx_http_compliance_module.h"
#include "compliance_redact_stream.h"


#define NGX_HTTP_COMPLIANCE_RR_OFF      0
#define NGX_HTTP_COMPLIANCE_RR_MASK     1

#define NGX_HTTP_COMPLIANCE_RR_BUF      8192

#define NGX_HTTP_COMPLIANCE_RR_MAX      (1024 * 1024)


/* the per-request state, in ctx->redact_response */
struct ngx_http_compliance_rr_s {
    ngx_http_request_t             *r;
    ngx_pool_t                     *pool;      /* NULL: being destroyed */
    ngx_uint_t                      mode;
    compliance_redact_stream_t      stream;
    ngx_chain_t                    *out;
    ngx_chain_t                   **last_out;
    ngx_chain_t                    *free;
    ngx_chain_t                    *busy;
    unsigned                        done:1;
};


static ngx_int_t ngx_http_compliance_rr_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_rr_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_rr_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_compliance_rr_fail(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *reason);
static ngx_uint_t ngx_http_compliance_rr_type(ngx_http_request_t *r);
static ngx_uint_t ngx_http_compliance_rr_encoded(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_rr_special(ngx_http_compliance_rr_t *rr,
    ngx_uint_t flush, ngx_uint_t last);
static int ngx_http_compliance_rr_emit(void *data, const u_char *p,
    size_t len);
static void *ngx_http_compliance_rr_alloc(void *data, size_t size);
static void ngx_http_compliance_rr_free(void *data, void *p);
static void ngx_http_compliance_rr_cleanup(void *data);


static ngx_http_output_header_filter_pt  ngx_http_compliance_rr_next_header;
static ngx_http_output_body_filter_pt    ngx_http_compliance_rr_next_body;


/* request headers that would let a body arrive unmaskable */
static ngx_http_compliance_header_t  ngx_http_compliance_rr_strip[3];

static ngx_str_t  ngx_http_compliance_rr_strip_names[] = {
    ngx_string("Accept-Encoding"),
    ngx_string("Range"),
    ngx_string("If-Range")
};


ngx_int_t
ngx_http_compliance_redact_response_init(ngx_conf_t *cf)
{
    ngx_uint_t                        i;
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (!cmf->redact_response_needed) {
        return NGX_OK;
    }

    for (i = 0; i < 3; i++) {
        if (ngx_http_compliance_header_init(cf,
                &ngx_http_compliance_rr_strip[i],
                &ngx_http_compliance_rr_strip_names[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_rr_handler;

    ngx_http_compliance_rr_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_rr_header_filter;

    ngx_http_compliance_rr_next_body = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_compliance_rr_body_filter;

    return NGX_OK;
}


/* the upstream is asked for the whole body, uncompressed */
static ngx_int_t
ngx_http_compliance_rr_handler(ngx_http_request_t *r)
{
    ngx_uint_t                       i;
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->redact_response.mask == 0) {
        return NGX_DECLINED;
    }

    for (i = 0; i < 3; i++) {
        if (ngx_http_compliance_header_strip(r,
                                             &ngx_http_compliance_rr_strip[i])
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)
    r->headers_in.accept_encoding = NULL;
#endif
    r->headers_in.range = NULL;
    r->headers_in.if_range = NULL;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_compliance_rr_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t                                   status;
    ngx_pool_cleanup_t                          *cln;
    ngx_http_compliance_rr_t                    *rr;
    ngx_http_compliance_ctx_t                   *ctx;
    ngx_http_compliance_loc_conf_t              *clcf;
    ngx_http_compliance_redact_response_conf_t  *conf;

    if (r != r->main) {
        return ngx_http_compliance_rr_next_header(r);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    conf = &clcf->redact_response;

    ctx = ngx_http_compliance_get_ctx(r);

    /* decided anew for every header sent (an error_page, say) */
    if (ctx != NULL && ctx->redact_response != NULL) {
        ctx->redact_response->mode = NGX_HTTP_COMPLIANCE_RR_OFF;
    }

    if (conf->mask == 0) {
        return ngx_http_compliance_rr_next_header(r);
    }

    /* its record counts what was masked: the response has its id */
    if (ctx == NULL) {
        ctx = ngx_http_compliance_ensure_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    /* a problem+json of boundary.c replaces the body: nothing to mask */
    if (ctx->error_body != NULL || ctx->refused) {
        return ngx_http_compliance_rr_next_header(r);
    }

    status = r->headers_out.status;

    if (status < NGX_HTTP_OK || status == NGX_HTTP_NO_CONTENT
        || status == NGX_HTTP_NOT_MODIFIED)
    {
        return ngx_http_compliance_rr_next_header(r);
    }

    if (!ngx_http_compliance_rr_type(r)) {
        return ngx_http_compliance_rr_next_header(r);
    }

    rr = ctx->redact_response;

    if (rr == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_compliance_rr_t));
        if (cln == NULL) {
            return NGX_ERROR;
        }

        rr = cln->data;
        ngx_memzero(rr, sizeof(ngx_http_compliance_rr_t));
        rr->r = r;
        rr->pool = r->pool;

        /* what is held back may be a card number: wiped when done */
        cln->handler = ngx_http_compliance_rr_cleanup;
        ctx->redact_response = rr;
    }

    if (status == NGX_HTTP_PARTIAL_CONTENT
        || r->headers_out.content_range != NULL)
    {
        return ngx_http_compliance_rr_fail(r, ctx, "response_partial");
    }

    if (ngx_http_compliance_rr_encoded(r)) {
        return ngx_http_compliance_rr_fail(r, ctx, "response_encoded");
    }

    if (r->headers_out.content_length_n > (off_t) conf->max_size) {
        return ngx_http_compliance_rr_fail(r, ctx, "response_too_large");
    }

    compliance_redact_stream_free(&rr->stream);
    compliance_redact_stream_init(&rr->stream, conf->stream, rr,
                                  conf->max_size);

    rr->mode = NGX_HTTP_COMPLIANCE_RR_MASK;
    rr->done = 0;
    ctx->redacted_in_response = 0;

    /* the masked body has another length, and no byte ranges */
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_weak_etag(r);

    r->filter_need_in_memory = 1;

    return ngx_http_compliance_rr_next_header(r);
}


static ngx_int_t
ngx_http_compliance_rr_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    int                         rc;
    ngx_int_t                   rv;
    ngx_buf_t                  *b;
    ngx_uint_t                  flush, last;
    ngx_chain_t                *cl;
    ngx_http_compliance_rr_t   *rr;
    ngx_http_compliance_ctx_t  *ctx;

    if (r != r->main || in == NULL) {
        return ngx_http_compliance_rr_next_body(r, in);
    }

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || ctx->redact_response == NULL
        || ctx->redact_response->mode == NGX_HTTP_COMPLIANCE_RR_OFF)
    {
        return ngx_http_compliance_rr_next_body(r, in);
    }

    rr = ctx->redact_response;

    /* cut off: nothing more, not even a last chunk, goes out */
    if (rr->stream.failed) {
        return NGX_ERROR;
    }

    flush = 0;
    last = 0;
    rr->out = NULL;
    rr->last_out = &rr->out;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            /* filter_need_in_memory asked for memory: never here */
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "compliance: a file buffer reached the response "
                          "redaction filter");
            return NGX_ERROR;
        }

        if (ngx_buf_in_memory(b) && b->last > b->pos && !rr->done) {
            rc = compliance_redact_stream_feed(&rr->stream, b->pos,
                                               b->last - b->pos);

            if (rc == COMPLIANCE_REDACT_STREAM_TOO_LARGE) {
                /* the headers are gone: cut off, never more unmasked */
                ctx->reason.data = (u_char *) "response_too_large";
                ctx->reason.len = sizeof("response_too_large") - 1;
                ngx_http_compliance_audit_event(r, ctx, "alert", "high",
                                                "response_too_large");
                rr->done = 1;
                return NGX_ERROR;
            }

            if (rc != COMPLIANCE_REDACT_STREAM_OK) {
                return NGX_ERROR;
            }
        }

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (b->flush) {
            flush = 1;
        }

        if (b->last_buf) {
            last = 1;
        }
    }

    ctx->redacted_in_response = rr->stream.matches;

    if (last && !rr->done) {
        if (compliance_redact_stream_finish(&rr->stream)
            != COMPLIANCE_REDACT_STREAM_OK)
        {
            return NGX_ERROR;
        }

        rr->done = 1;
        ctx->redacted_in_response = rr->stream.matches;
        compliance_redact_stream_free(&rr->stream);
    }

    if ((flush || last) && ngx_http_compliance_rr_special(rr, flush, last)
                           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* all of it held back, and nothing of ours waiting to go out */
    if (rr->out == NULL && rr->busy == NULL) {
        return NGX_OK;
    }

    rv = ngx_http_compliance_rr_next_body(r, rr->out);

    ngx_chain_update_chains(r->pool, &rr->free, &rr->busy, &rr->out,
                            (ngx_buf_tag_t) &ngx_http_compliance_module);

    return rv;
}


/* fail closed before anything is sent: 502 problem+json and an alert */
static ngx_int_t
ngx_http_compliance_rr_fail(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *reason)
{
    r->headers_out.status = NGX_HTTP_BAD_GATEWAY;

    /* boundary.c's body filter sends it in place of the body */
    if (ngx_http_compliance_boundary_replace(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->reason.data = (u_char *) reason;
    ctx->reason.len = ngx_strlen(reason);

    ngx_http_compliance_audit_event(r, ctx, "alert", "high", reason);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "compliance: response replaced by 502: %s", reason);

    return ngx_http_compliance_rr_next_header(r);
}


/* application/json, application/<x>+json and text/<x>, any parameters */
static ngx_uint_t
ngx_http_compliance_rr_type(ngx_http_request_t *r)
{
    u_char     *p, *last, *slash;
    ngx_str_t  *type;

    type = &r->headers_out.content_type;

    p = type->data;
    last = p + type->len;

    /* the media type ends at its parameters or blanks */
    for (slash = NULL; p < last; p++) {
        if (*p == ';' || *p == ' ' || *p == '\t') {
            break;
        }

        if (*p == '/' && slash == NULL) {
            slash = p;
        }
    }

    if (slash == NULL) {
        return 0;
    }

    last = p;
    p = type->data;

    if (slash - p == 4 && ngx_strncasecmp(p, (u_char *) "text", 4) == 0) {
        return last > slash + 1;
    }

    if (slash - p != 11
        || ngx_strncasecmp(p, (u_char *) "application", 11) != 0)
    {
        return 0;
    }

    if (last - slash == 5
        && ngx_strncasecmp(slash + 1, (u_char *) "json", 4) == 0)
    {
        return 1;
    }

    return last - slash > 6
           && ngx_strncasecmp(last - 5, (u_char *) "+json", 5) == 0;
}


/* any Content-Encoding but identity, in any header copy */
static ngx_uint_t
ngx_http_compliance_rr_encoded(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != sizeof("Content-Encoding") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Encoding",
                               h[i].key.len)
               != 0)
        {
            continue;
        }

        if (h[i].value.len == sizeof("identity") - 1
            && ngx_strncasecmp(h[i].value.data, (u_char *) "identity",
                               h[i].value.len)
               == 0)
        {
            continue;
        }

        if (h[i].value.len == 0) {
            continue;
        }

        return 1;
    }

    return 0;
}


/* flush and last_buf on the last buffer out, or on an empty one */
static ngx_int_t
ngx_http_compliance_rr_special(ngx_http_compliance_rr_t *rr,
    ngx_uint_t flush, ngx_uint_t last)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (rr->out) {
        for (cl = rr->out; cl->next; cl = cl->next) {
            /* void */
        }

        b = cl->buf;

    } else {
        b = ngx_calloc_buf(rr->pool);
        if (b == NULL) {
            return NGX_ERROR;
        }

        cl = ngx_alloc_chain_link(rr->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = b;
        cl->next = NULL;

        *rr->last_out = cl;
        rr->last_out = &cl->next;
    }

    if (flush) {
        b->flush = 1;
    }

    if (last) {
        b->last_buf = 1;
    }

    return NGX_OK;
}


/* the stream's output, copied into our own buffers (reused when sent) */
static int
ngx_http_compliance_rr_emit(void *data, const u_char *p, size_t len)
{
    size_t                     n;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_compliance_rr_t  *rr = data;

    while (len) {
        cl = NULL;

        if (rr->out) {
            for (cl = rr->out; cl->next; cl = cl->next) {
                /* void */
            }

            if (cl->buf->last == cl->buf->end) {
                cl = NULL;
            }
        }

        if (cl == NULL) {
            cl = ngx_chain_get_free_buf(rr->pool, &rr->free);
            if (cl == NULL) {
                return -1;
            }

            b = cl->buf;

            if (b->start == NULL) {
                b->start = ngx_palloc(rr->pool,
                                      NGX_HTTP_COMPLIANCE_RR_BUF);
                if (b->start == NULL) {
                    return -1;
                }

                b->end = b->start + NGX_HTTP_COMPLIANCE_RR_BUF;
            }

            b->pos = b->start;
            b->last = b->start;
            b->temporary = 1;
            b->flush = 0;
            b->last_buf = 0;
            b->tag = (ngx_buf_tag_t) &ngx_http_compliance_module;

            *rr->last_out = cl;
            rr->last_out = &cl->next;
        }

        b = cl->buf;
        n = ngx_min(len, (size_t) (b->end - b->last));

        b->last = ngx_cpymem(b->last, p, n);
        p += n;
        len -= n;
    }

    return 0;
}


static void *
ngx_http_compliance_rr_alloc(void *data, size_t size)
{
    ngx_http_compliance_rr_t  *rr = data;

    return ngx_palloc(rr->pool, size);
}


static void
ngx_http_compliance_rr_free(void *data, void *p)
{
    ngx_http_compliance_rr_t  *rr = data;

    /* a large allocation goes back at once; a small one with the pool */
    if (rr->pool != NULL) {
        (void) ngx_pfree(rr->pool, p);
    }
}


static void
ngx_http_compliance_rr_cleanup(void *data)
{
    ngx_http_compliance_rr_t  *rr = data;

    /* the pool is going: the hold is wiped and left to it */
    rr->pool = NULL;

    if (rr->stream.conf != NULL) {
        compliance_redact_stream_free(&rr->stream);
    }
}


/* --- configuration: ngx_http_compliance_redact_response_conf_t */


void
ngx_http_compliance_redact_response_create_conf(
    ngx_http_compliance_redact_response_conf_t *conf)
{
    conf->mask = NGX_CONF_UNSET_UINT;
    conf->max_size = NGX_CONF_UNSET_SIZE;
    conf->stream = NULL;
}


char *
ngx_http_compliance_redact_response_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_redact_response_conf_t *prev,
    ngx_http_compliance_redact_response_conf_t *conf)
{
    if (conf->mask == NGX_CONF_UNSET_UINT) {
        conf->mask = (prev->mask == NGX_CONF_UNSET_UINT) ? 0 : prev->mask;
        conf->max_size = prev->max_size;
        conf->stream = prev->stream;
    }

    ngx_conf_merge_size_value(conf->max_size, NGX_CONF_UNSET_SIZE,
                              NGX_HTTP_COMPLIANCE_RR_MAX);

    return NGX_CONF_OK;
}


/* compliance_redact_response off | detector ... [max_size=size] */
char *
ngx_http_compliance_redact_response(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ssize_t                                     size;
    unsigned                                    bit, mask;
    ngx_str_t                                  *value, s;
    ngx_uint_t                                  i;
    compliance_redact_t                        *rd;
    ngx_http_compliance_main_conf_t            *cmf;
    ngx_http_compliance_redact_response_conf_t *rrc;

    rrc = &clcf->redact_response;

    if (rrc->mask != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        rrc->mask = 0;
        return NGX_CONF_OK;
    }

    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_size(&s);

            if (size <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid parameter \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            rrc->max_size = (size_t) size;
            continue;
        }

        bit = compliance_redact_detector_parse(value[i].data, value[i].len);

        if (bit == COMPLIANCE_REDACT_SECRET_PARAMS) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": query parameters "
                               "are not looked for in a response body",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (bit == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        mask |= bit;
    }

    if (mask == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_redact_response\" needs at least "
                           "one detector, or \"off\"");
        return NGX_CONF_ERROR;
    }

    /* config time: the detectors and their separating bytes, once */
    rd = ngx_http_compliance_redactor(cf, mask | COMPLIANCE_REDACT_TEXT);
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    rrc->stream = ngx_palloc(cf->pool,
                             sizeof(compliance_redact_stream_conf_t));
    if (rrc->stream == NULL) {
        return NGX_CONF_ERROR;
    }

    compliance_redact_stream_conf(rrc->stream, rd,
                                  ngx_http_compliance_rr_emit,
                                  ngx_http_compliance_rr_alloc,
                                  ngx_http_compliance_rr_free);

    rrc->mask = mask;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->redact_response_needed = 1;

    /* boundary.c's body filter sends the 502 of an unmaskable response */
    cmf->boundary_needed = 1;
    cmf->error_pages_needed = 1;

    /* headers.c gives the 502 problem+json its X-Request-ID */
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}
