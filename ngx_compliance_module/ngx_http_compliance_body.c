/*
 * The request body for the validation steps of the enforcement handler
 * (see ngx_http_compliance_body.h for the contract).
 *
 * The body is read with ngx_http_read_client_request_body(), so nginx's
 * buffering, temporary files, chunked decoding, "Expect: 100-continue"
 * and client_body_timeout all apply, and the upstream reads the same
 * request body afterwards.  A request-body filter counts the decoded
 * bytes: over the bound it stops the reading by returning NGX_AGAIN
 * (nginx then neither reads on nor finalizes) and the refusal is sent
 * from outside nginx's reading code, either by the step that started
 * the read (when it all happened inside that call) or from a posted
 * request (when it happened on a later read event): finalizing inside
 * the filter could free the request under nginx's feet.
 */

#include "ngx_http_compliance_module.h"


static ngx_http_compliance_body_t *ngx_http_compliance_body_state(
    ngx_http_request_t *r);
static off_t ngx_http_compliance_body_size(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_body_run(ngx_http_request_t *r,
    ngx_http_compliance_body_t *b, ngx_http_compliance_body_handler_pt h);
static void ngx_http_compliance_body_done(ngx_http_request_t *r);
static void ngx_http_compliance_body_resume(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_http_compliance_body_posted(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_body_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_request_body_filter_pt  ngx_http_compliance_body_next;


ngx_int_t
ngx_http_compliance_body_init(ngx_conf_t *cf)
{
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (!cmf->body_needed) {
        return NGX_OK;
    }

    ngx_http_compliance_body_next = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_compliance_body_filter;

    return NGX_OK;
}


static ngx_http_compliance_body_t *
ngx_http_compliance_body_state(ngx_http_request_t *r)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->body == NULL) {
        ctx->body = ngx_pcalloc(r->main->pool,
                                sizeof(ngx_http_compliance_body_t));
    }

    return ctx->body;
}


ngx_int_t
ngx_http_compliance_body_read(ngx_http_request_t *r, off_t max,
    ngx_http_compliance_body_handler_pt handler)
{
    ngx_int_t                    rc;
    ngx_http_compliance_body_t  *b;

    b = ngx_http_compliance_body_state(r);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (b->started) {
        /* read before: by an earlier step, or in an earlier location */
        if (b->received > max
            || (!b->done && r->headers_in.content_length_n > max))
        {
            return ngx_http_compliance_body_too_large(r);
        }

        if (b->done) {
            return ngx_http_compliance_body_run(r, b, handler);
        }

        /*
         * nginx gave up reading it (a broken chunk, its own size limit,
         * the client's timeout) and an error_page brought the request
         * here: what arrived is not the body, and must go nowhere
         */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "compliance: the request body was not read whole");

        r->keepalive = 0;

        return ngx_http_compliance_body_refuse(r, NGX_HTTP_BAD_REQUEST,
                                               "malformed_body", NULL, 0);
    }

    b->started = 1;
    b->max = max;
    b->handler = handler;

    if (r->headers_in.content_length_n > max) {
        b->too_large = 1;
        return ngx_http_compliance_body_too_large(r);
    }

    b->in_call = 1;
    rc = ngx_http_read_client_request_body(r, ngx_http_compliance_body_done);
    b->in_call = 0;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* HTTP/2: the filter's 413 (see below) */
        if (b->too_large) {
            return ngx_http_compliance_body_too_large(r);
        }

        /* nginx's own refusal (a bad chunk, client_max_body_size...) */
        return rc;
    }

    if (b->too_large) {
        /* the filter stopped the read inside the call above */
        r->main->count--;
        return ngx_http_compliance_body_too_large(r);
    }

    if (b->done) {
        r->main->count--;

        /*
         * a body nginx had read before (for an upstream, ahead of an
         * error_page that led here) went past no filter of ours
         */
        if (b->received == 0 && ngx_http_compliance_body_size(r) > max) {
            b->too_large = 1;
            return ngx_http_compliance_body_too_large(r);
        }

        return ngx_http_compliance_body_run(r, b, handler);
    }

    /* the rest comes with read events; the phases wait */
    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


/* the bytes of the body nginx holds, in memory and in its file */
static off_t
ngx_http_compliance_body_size(ngx_http_request_t *r)
{
    off_t         total;
    ngx_chain_t  *cl;

    total = 0;

    if (r->request_body == NULL) {
        return 0;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        total += ngx_buf_size(cl->buf);
    }

    return total;
}


/* handler, once per location: its first result is kept */
static ngx_int_t
ngx_http_compliance_body_run(ngx_http_request_t *r,
    ngx_http_compliance_body_t *b, ngx_http_compliance_body_handler_pt h)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_http_compliance_body_step_t  *st;

    for (i = 0; i < b->nsteps; i++) {
        st = &b->steps[i];

        if (st->handler == h && st->loc_conf == r->loc_conf) {
            return st->rc;
        }
    }

    rc = h(r);

    if (b->nsteps < NGX_HTTP_COMPLIANCE_BODY_STEPS) {
        st = &b->steps[b->nsteps++];
        st->handler = h;
        st->loc_conf = r->loc_conf;
        st->rc = rc;
    }

    return rc;
}


/* nginx's post handler: the whole body is in */
static void
ngx_http_compliance_body_done(ngx_http_request_t *r)
{
    ngx_http_compliance_body_t  *b;
    ngx_http_compliance_ctx_t   *ctx;

    ctx = ngx_http_compliance_get_ctx(r);
    b = ctx ? ctx->body : NULL;

    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    b->done = 1;

    if (b->in_call) {
        /* ngx_http_compliance_body_read() runs the handler */
        return;
    }

    ngx_http_compliance_body_resume(r,
                                    ngx_http_compliance_body_run(r, b,
                                                                 b->handler));
}


/*
 * After the body came in: the request goes on by running the
 * enforcement handler again (the body steps after this one see the body
 * now; this one returns its kept result), or is finalized
 */
static void
ngx_http_compliance_body_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_DECLINED) {
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        return;
    }

    if (rc == NGX_DONE) {
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/* a posted request: the filter refused the body on a read event */
static void
ngx_http_compliance_body_posted(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_finalize_request(r, ngx_http_compliance_body_too_large(r));
}


static ngx_int_t
ngx_http_compliance_body_too_large(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    /*
     * The client is told before it sends the body ("100 Continue" is
     * not sent), and the connection is not reused: what follows on it
     * is the rest of this body, which nginx drains for lingering_time
     * at most before it closes.
     */
    r->expect_tested = 1;
    r->keepalive = 0;
    r->lingering_close = 1;

    return ngx_http_compliance_body_refuse(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                           "body_too_large", NULL, 0);
}


static ngx_int_t
ngx_http_compliance_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                        size;
    ngx_chain_t                 *cl;
    ngx_http_compliance_ctx_t   *ctx;
    ngx_http_compliance_body_t  *b;

    ctx = ngx_http_get_module_ctx(r, ngx_http_compliance_module);
    b = ctx ? ctx->body : NULL;

    if (b == NULL || !b->started || b->done) {
        return ngx_http_compliance_body_next(r, in);
    }

    if (b->too_large) {
        return NGX_AGAIN;
    }

    size = 0;

    for (cl = in; cl; cl = cl->next) {
        size += ngx_buf_size(cl->buf);
    }

    b->received += size;

    if (b->received <= b->max) {
        return ngx_http_compliance_body_next(r, in);
    }

    b->too_large = 1;

#if (NGX_HTTP_V2)
    if (r->stream) {
        /* HTTP/2 reads by frames: nginx's own 413 ends the stream */
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
#endif

    r->read_event_handler = ngx_http_block_reading;

    if (!b->in_call) {
        r->write_event_handler = ngx_http_compliance_body_posted;

        if (ngx_http_post_request(r, NULL) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_AGAIN;
}


ngx_int_t
ngx_http_compliance_body_view(ngx_http_request_t *r, ngx_str_t *view)
{
    off_t                        total;
    size_t                       size;
    u_char                      *p;
    ssize_t                      n;
    ngx_buf_t                   *buf;
    ngx_chain_t                 *cl;
    ngx_http_compliance_ctx_t   *ctx;
    ngx_http_compliance_body_t  *b;

    ctx = ngx_http_compliance_get_ctx(r);
    b = ctx ? ctx->body : NULL;

    if (b == NULL || !b->done) {
        return NGX_ERROR;
    }

    if (b->viewed) {
        *view = b->view;
        return NGX_OK;
    }

    b->view.data = (u_char *) "";
    b->view.len = 0;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        b->viewed = 1;
        *view = b->view;
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    /* the usual case: one buffer in memory, viewed in place */
    if (cl->next == NULL && !cl->buf->in_file) {
        b->view.data = cl->buf->pos;
        b->view.len = cl->buf->last - cl->buf->pos;
        b->viewed = 1;
        *view = b->view;
        return NGX_OK;
    }

    total = ngx_http_compliance_body_size(r);

    /* the filter or the read bounded it */
    if (total > b->max) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "compliance: request body of %O bytes over its "
                      "bound of %O", total, b->max);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, (size_t) total + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    b->view.data = p;

    /*
     * At most max bytes from nginx's own temporary file, just written:
     * read back from the page cache, as nginx reads it for the upstream
     */
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        buf = cl->buf;

        if (!buf->in_file) {
            p = ngx_cpymem(p, buf->pos, buf->last - buf->pos);
            continue;
        }

        size = (size_t) (buf->file_last - buf->file_pos);

        while (size) {
            n = ngx_read_file(buf->file, p, size,
                              buf->file_last - (off_t) size);

            if (n == NGX_ERROR || n == 0) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "compliance: cannot read the request body "
                              "back from \"%V\"", &buf->file->name);
                return NGX_ERROR;
            }

            p += n;
            size -= n;
        }
    }

    *p = '\0';
    b->view.len = p - b->view.data;
    b->viewed = 1;
    *view = b->view;

    return NGX_OK;
}


ngx_uint_t
ngx_http_compliance_body_type_in(ngx_http_request_t *r, ngx_array_t *types)
{
    size_t            len;
    u_char           *p, *last;
    ngx_str_t        *t;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    h = r->headers_in.content_type;

    if (h == NULL || types == NULL) {
        return 0;
    }

    p = h->value.data;
    last = p + h->value.len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    len = 0;

    while (p + len < last && p[len] != ';' && p[len] != ' '
           && p[len] != '\t')
    {
        len++;
    }

    t = types->elts;

    for (i = 0; i < types->nelts; i++) {
        if (t[i].len == len && ngx_strncasecmp(p, t[i].data, len) == 0) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_compliance_body_refuse(ngx_http_request_t *r, ngx_uint_t status,
    const char *reason, ngx_str_t *members, ngx_uint_t nerrors)
{
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_ensure_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->invalid_request = 1;
    ctx->validation_errors = nerrors;

    return ngx_http_compliance_problem_members(r, ctx, status, reason,
                                               members);
}
