/*
 * A body fetched from an internal location (see the header).  The
 * subrequest is a background one: it holds its request (and connection)
 * until it ends but never joins that request's output; its header and
 * body are taken by the filters here and go no further.  Its own request
 * headers are empty, so no client credential or cookie is ever sent to
 * the location's upstream.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_fetch.h"


/* a request that waits on another worker's fetch looks this often */
#define NGX_HTTP_COMPLIANCE_FETCH_POLL   20

/* a flag older than the time-out by this much belongs to a dead worker */
#define NGX_HTTP_COMPLIANCE_FETCH_GRACE  1000

#define NGX_HTTP_COMPLIANCE_FETCH_FIRST  16384


struct ngx_http_compliance_fetch_flight_s {
    ngx_http_compliance_fetch_t        *fetch;
    ngx_http_request_t                 *r;          /* main request */
    ngx_http_request_t                 *sr;
    ngx_msec_t                          started;
    ngx_uint_t                          status;
    u_char                             *buf;        /* ngx_alloc()ed */
    size_t                              len;
    size_t                              size;
    unsigned                            last:1;
    unsigned                            overflow:1;
    unsigned                            failed:1;   /* a read error */
    unsigned                            ended:1;
};


typedef struct {
    ngx_queue_t                         queue;
    ngx_http_request_t                 *r;          /* NULL: not queued */
    ngx_uint_t                          ended;      /* sh->ended then */
    ngx_msec_t                          deadline;
} ngx_http_compliance_fetch_waiter_t;


static ngx_int_t ngx_http_compliance_fetch_post(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_compliance_fetch_end(
    ngx_http_compliance_fetch_flight_t *fl, const char *error);
static void ngx_http_compliance_fetch_flight_cleanup(void *data);
static void ngx_http_compliance_fetch_expire(ngx_event_t *ev);
static void ngx_http_compliance_fetch_wake(ngx_event_t *ev);
static void ngx_http_compliance_fetch_waiter_cleanup(void *data);
static ngx_int_t ngx_http_compliance_fetch_append(
    ngx_http_compliance_fetch_flight_t *fl, ngx_buf_t *b);
static ngx_int_t ngx_http_compliance_fetch_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_fetch_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_compliance_fetch_next_header;
static ngx_http_output_body_filter_pt    ngx_http_compliance_fetch_next_body;

/* the configuration (cycle) that has fetches: filters are added for it */
static void  *ngx_http_compliance_fetch_cycle;


ngx_http_compliance_fetch_t *
ngx_http_compliance_fetch_create(ngx_conf_t *cf, ngx_str_t *uri,
    ngx_msec_t timeout, size_t max, ngx_http_compliance_fetch_done_pt done,
    void *data)
{
    ngx_http_compliance_fetch_t  *f;

    f = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_fetch_t));
    if (f == NULL) {
        return NULL;
    }

    f->uri = *uri;
    f->timeout = timeout;
    f->max = max;
    f->done = done;
    f->data = data;

    ngx_queue_init(&f->waiters);

    /* their log is set when armed: cf->cycle->log is the old cycle's */
    f->wake.handler = ngx_http_compliance_fetch_wake;
    f->wake.data = f;
    f->expire.handler = ngx_http_compliance_fetch_expire;
    f->expire.data = f;

    ngx_http_compliance_fetch_cycle = cf->cycle;

    return f;
}


void
ngx_http_compliance_fetch_attach(ngx_http_compliance_fetch_t *f,
    ngx_slab_pool_t *shpool, ngx_http_compliance_fetch_sh_t *sh,
    ngx_uint_t fresh)
{
    if (fresh) {
        ngx_memzero(sh, sizeof(ngx_http_compliance_fetch_sh_t));
    }

    f->shpool = shpool;
    f->sh = sh;
}


ngx_int_t
ngx_http_compliance_fetch_init(ngx_conf_t *cf)
{
    if (ngx_http_compliance_fetch_cycle != cf->cycle) {
        return NGX_OK;
    }

    ngx_http_compliance_fetch_next_header = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_compliance_fetch_header_filter;

    ngx_http_compliance_fetch_next_body = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_compliance_fetch_body_filter;

    return NGX_OK;
}


ngx_uint_t
ngx_http_compliance_fetch_busy(ngx_http_compliance_fetch_t *f)
{
    volatile ngx_http_compliance_fetch_sh_t  *sh = f->sh;

    return f->flight != NULL
           || (sh->owner != 0
               && (ngx_msec_int_t) (ngx_current_msec - sh->started)
                  < (ngx_msec_int_t) (f->timeout
                                      + NGX_HTTP_COMPLIANCE_FETCH_GRACE));
}


ngx_int_t
ngx_http_compliance_fetch_start(ngx_http_request_t *r,
    ngx_http_compliance_fetch_t *f, time_t min_interval)
{
    time_t                               now;
    ngx_int_t                            rc;
    ngx_msec_t                           started;
    ngx_pool_cleanup_t                  *cln;
    ngx_http_request_t                  *sr;
    ngx_http_post_subrequest_t          *ps;
    ngx_http_compliance_fetch_sh_t      *sh;
    ngx_http_compliance_fetch_flight_t  *fl;

    sh = f->sh;
    now = ngx_time();

    /* the common case, a set in use and nothing to do, takes no lock */
    if (ngx_http_compliance_fetch_busy(f)) {
        return NGX_BUSY;
    }

    if (sh->last && now - sh->last < min_interval) {
        return NGX_DECLINED;
    }

    fl = ngx_pcalloc(r->pool, sizeof(ngx_http_compliance_fetch_flight_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (fl == NULL || ps == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    started = ngx_current_msec;

    ngx_shmtx_lock(&f->shpool->mutex);

    if (ngx_http_compliance_fetch_busy(f)) {
        rc = NGX_BUSY;

    } else if (sh->last && now - sh->last < min_interval) {
        rc = NGX_DECLINED;

    } else {
        sh->owner = ngx_pid;
        sh->started = started;
        sh->last = now;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&f->shpool->mutex);

    if (rc != NGX_OK) {
        return rc;
    }

    fl->fetch = f;
    fl->r = r;
    fl->started = started;

    ps->handler = ngx_http_compliance_fetch_post;
    ps->data = fl;

    if (ngx_http_subrequest(r, &f->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        fl->ended = 1;
        ngx_shmtx_lock(&f->shpool->mutex);
        sh->owner = 0;
        sh->ended++;
        ngx_shmtx_unlock(&f->shpool->mutex);
        return NGX_ERROR;
    }

    /* the location's upstream learns nothing of the client's request */
    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;
    sr->request_body = NULL;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        /* the subrequest is posted: it ends, and the fetch with it */
        fl->failed = 1;

    } else if (f->prepare && f->prepare(r, sr, f->data) != NGX_OK) {
        fl->failed = 1;
    }

    fl->sr = sr;
    ngx_http_set_ctx(sr, fl, ngx_http_compliance_module);

    cln->handler = ngx_http_compliance_fetch_flight_cleanup;
    cln->data = fl;

    f->flight = fl;
    f->expire.log = ngx_cycle->log;
    ngx_add_timer(&f->expire, f->timeout);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "compliance fetch: \"%V\" started", &f->uri);

    return NGX_OK;
}


/* the subrequest's end; it may be called again for an error page */
static ngx_int_t
ngx_http_compliance_fetch_post(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_compliance_fetch_flight_t  *fl = data;

    u_char       *p;
    ngx_uint_t    status;
    const char   *error;
    static u_char  msg[64];

    if (rc == NGX_AGAIN) {
        return rc;
    }

    if (fl->ended) {
        return NGX_OK;
    }

    status = fl->status ? fl->status : sr->headers_out.status;

    if (status == 0 && rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = rc;
    }

    fl->status = status;

    if (rc == NGX_ERROR || fl->failed) {
        error = "the fetch failed";

    } else if (status != NGX_HTTP_OK) {
        p = ngx_snprintf(msg, sizeof(msg) - 1, "status %ui", status);
        *p = '\0';
        error = (const char *) msg;

    } else if (fl->overflow) {
        error = "the answer is over the size cap";

    } else if (!fl->last || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        error = "the answer was cut short";

    } else {
        error = NULL;
    }

    ngx_http_compliance_fetch_end(fl, error);

    /* an error of the fetch is the fetch's, never the client request's */
    return NGX_OK;
}


static void
ngx_http_compliance_fetch_end(ngx_http_compliance_fetch_flight_t *fl,
    const char *error)
{
    ngx_http_request_t                  *r;
    ngx_http_compliance_fetch_t         *f;
    ngx_http_compliance_fetch_sh_t      *sh;
    ngx_http_compliance_fetch_result_t   res;

    f = fl->fetch;
    sh = f->sh;
    r = fl->r;

    fl->ended = 1;

    if (f->flight == fl) {
        f->flight = NULL;

        if (f->expire.timer_set) {
            ngx_del_timer(&f->expire);
        }
    }

    res.status = fl->status;
    res.error = error;
    res.body.len = error ? 0 : fl->len;
    res.body.data = fl->buf;

    f->done(r, &res, f->data);

    if (fl->buf) {
        ngx_free(fl->buf);
        fl->buf = NULL;
    }

    /* after done(): a waiter that sees the flag go finds the result */
    ngx_shmtx_lock(&f->shpool->mutex);

    if (sh->owner == ngx_pid && sh->started == fl->started) {
        sh->owner = 0;
    }

    sh->ended++;

    ngx_shmtx_unlock(&f->shpool->mutex);

    if (!ngx_queue_empty(&f->waiters)) {
        ngx_post_event(&f->wake, &ngx_posted_events);
    }
}


/* the request went away with its subrequest (say, the client left) */
static void
ngx_http_compliance_fetch_flight_cleanup(void *data)
{
    ngx_http_compliance_fetch_flight_t  *fl = data;

    if (!fl->ended) {
        fl->r = NULL;
        ngx_http_compliance_fetch_end(fl, "the request that fetched ended");
    }
}


static void
ngx_http_compliance_fetch_expire(ngx_event_t *ev)
{
    ngx_http_compliance_fetch_t  *f = ev->data;

    ngx_http_compliance_fetch_flight_t  *fl;

    fl = f->flight;

    if (fl == NULL || fl->ended) {
        return;
    }

    /* the subrequest goes on to its own time-outs; its answer is dropped */
    ngx_http_compliance_fetch_end(fl, "timed out");
}


ngx_int_t
ngx_http_compliance_fetch_wait(ngx_http_request_t *r,
    ngx_http_compliance_fetch_t *f)
{
    ngx_pool_cleanup_t                  *cln;
    ngx_http_compliance_fetch_waiter_t  *w;

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_compliance_fetch_waiter_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    w = cln->data;
    w->r = r;
    w->ended = ((volatile ngx_http_compliance_fetch_sh_t *) f->sh)->ended;
    w->deadline = ngx_current_msec + f->timeout;

    cln->handler = ngx_http_compliance_fetch_waiter_cleanup;

    ngx_queue_insert_tail(&f->waiters, &w->queue);

    /* held until resumed; nothing runs for it meanwhile */
    r->main->count++;
    r->write_event_handler = ngx_http_request_empty_handler;

    f->wake.log = ngx_cycle->log;

    if (f->flight == NULL && !f->wake.timer_set) {
        ngx_add_timer(&f->wake, NGX_HTTP_COMPLIANCE_FETCH_POLL);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "compliance fetch: waiting for \"%V\"", &f->uri);

    return NGX_DONE;
}


static void
ngx_http_compliance_fetch_waiter_cleanup(void *data)
{
    ngx_http_compliance_fetch_waiter_t  *w = data;

    if (w->r) {
        ngx_queue_remove(&w->queue);
        w->r = NULL;
    }
}


/*
 * Resumes the waiters whose fetch ended (or whose time is up): posted at
 * the end of this worker's fetch, or a timer while another worker's runs.
 */
static void
ngx_http_compliance_fetch_wake(ngx_event_t *ev)
{
    ngx_http_compliance_fetch_t  *f = ev->data;

    ngx_uint_t                           busy, ended;
    ngx_queue_t                          ready, *q, *next;
    ngx_connection_t                    *c;
    ngx_http_request_t                  *r;
    ngx_http_compliance_fetch_waiter_t  *w;

    busy = ngx_http_compliance_fetch_busy(f);
    ended = ((volatile ngx_http_compliance_fetch_sh_t *) f->sh)->ended;

    ngx_queue_init(&ready);

    for (q = ngx_queue_head(&f->waiters);
         q != ngx_queue_sentinel(&f->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_compliance_fetch_waiter_t, queue);

        if (!busy || w->ended != ended
            || (ngx_msec_int_t) (ngx_current_msec - w->deadline) >= 0)
        {
            ngx_queue_remove(q);
            ngx_queue_insert_tail(&ready, q);
        }
    }

    /* a resumed request may finish, and its waiter go with its pool */
    while (!ngx_queue_empty(&ready)) {
        q = ngx_queue_head(&ready);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_compliance_fetch_waiter_t, queue);
        r = w->r;
        w->r = NULL;

        c = r->connection;
        r->main->count--;
        r->write_event_handler = ngx_http_core_run_phases;

        ngx_http_core_run_phases(r);
        ngx_http_run_posted_requests(c);
    }

    if (!ngx_queue_empty(&f->waiters) && f->flight == NULL
        && !f->wake.timer_set)
    {
        ngx_add_timer(&f->wake, NGX_HTTP_COMPLIANCE_FETCH_POLL);
    }
}


static ngx_int_t
ngx_http_compliance_fetch_header_filter(ngx_http_request_t *r)
{
    ngx_http_compliance_fetch_flight_t  *fl;

    if (r != r->main) {
        fl = ngx_http_get_module_ctx(r, ngx_http_compliance_module);

        if (fl && fl->sr == r) {
            if (fl->status == 0) {
                fl->status = r->headers_out.status;
            }

            return NGX_OK;
        }
    }

    return ngx_http_compliance_fetch_next_header(r);
}


static ngx_int_t
ngx_http_compliance_fetch_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t                         *cl;
    ngx_http_compliance_fetch_flight_t  *fl;

    if (r == r->main) {
        return ngx_http_compliance_fetch_next_body(r, in);
    }

    fl = ngx_http_get_module_ctx(r, ngx_http_compliance_module);

    if (fl == NULL || fl->sr != r) {
        return ngx_http_compliance_fetch_next_body(r, in);
    }

    for (cl = in; cl; cl = cl->next) {

        if (!fl->ended && !fl->overflow && !fl->failed
            && fl->status == NGX_HTTP_OK
            && ngx_http_compliance_fetch_append(fl, cl->buf) != NGX_OK)
        {
            fl->failed = 1;
        }

        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            fl->last = 1;
        }

        /* taken: nothing of it goes further */
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_fetch_append(ngx_http_compliance_fetch_flight_t *fl,
    ngx_buf_t *b)
{
    u_char   *p;
    off_t     n;
    size_t    size;
    ssize_t   got;

    if (ngx_buf_in_memory(b)) {
        n = b->last - b->pos;

    } else if (b->in_file) {
        n = b->file_last - b->file_pos;

    } else {
        return NGX_OK;
    }

    if (n <= 0) {
        return NGX_OK;
    }

    if ((off_t) (fl->fetch->max - fl->len) < n) {
        fl->overflow = 1;
        return NGX_OK;
    }

    if (fl->len + n > fl->size) {
        size = ngx_max(fl->size * 2, NGX_HTTP_COMPLIANCE_FETCH_FIRST);

        while (size < fl->len + n) {
            size *= 2;
        }

        size = ngx_min(size, fl->fetch->max);

        p = ngx_alloc(size, fl->r ? fl->r->connection->log
                                  : ngx_cycle->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (fl->buf) {
            ngx_memcpy(p, fl->buf, fl->len);
            ngx_free(fl->buf);
        }

        fl->buf = p;
        fl->size = size;
    }

    if (ngx_buf_in_memory(b)) {
        ngx_memcpy(fl->buf + fl->len, b->pos, (size_t) n);
        fl->len += n;
        return NGX_OK;
    }

    /* a proxied answer buffered to a temporary file, read back */
    got = ngx_read_file(b->file, fl->buf + fl->len, (size_t) n, b->file_pos);

    if (got != (ssize_t) n) {
        return NGX_ERROR;
    }

    fl->len += n;

    return NGX_OK;
}


void *
ngx_http_compliance_fetch_req_state(ngx_http_request_t *r, void *owner,
    size_t size, ngx_pool_cleanup_pt handler, ngx_uint_t create)
{
    void                **st;
    ngx_pool_cleanup_t   *cln;

    for (cln = r->main->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == handler && *(void **) cln->data == owner) {
            return cln->data;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->main->pool, size);
    if (cln == NULL) {
        return NULL;
    }

    st = cln->data;
    ngx_memzero(st, size);
    *st = owner;

    cln->handler = handler;

    return st;
}
