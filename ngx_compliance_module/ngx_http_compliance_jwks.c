/*
 * compliance_jwt_keys_request (SPEC 14).  One source per location uri:
 * its shared memory holds the last good key set as the text that was
 * fetched (checked before it is stored), when it was fetched, whether
 * fetches fail, and the fetch flag (fetch.c).  Each worker keeps its own
 * parsed copy and makes a new one when the set's generation changes, so
 * no worker ever reads keys another one is replacing; a request holds
 * the copy it verified with (its key and kid point into it) until it
 * ends.
 */

#include "ngx_http_compliance_jwks.h"


#define NGX_HTTP_COMPLIANCE_JWKS_MAGIC    0x534b574aU     /* "JWKS" */
#define NGX_HTTP_COMPLIANCE_JWKS_LAYOUT   1

/* the slab pool's own pages, around the one run that holds the text */
#define NGX_HTTP_COMPLIANCE_JWKS_ROOM     (64 * 1024)

/* what a published key may verify: never an HMAC */
#define NGX_HTTP_COMPLIANCE_JWKS_ALGS                                        \
    (COMPLIANCE_JWT_ALG_ALL                                                  \
     & ~(COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS256)                        \
         | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS384)                      \
         | COMPLIANCE_JWT_ALG_BIT(COMPLIANCE_JWT_HS512)))

/*
 * Ids of sources and of worker copies, apart from each other and from
 * the small numbers jwt.c gives key files: the token cache tells sets
 * apart by them.
 */
#define NGX_HTTP_COMPLIANCE_JWKS_TOP                                         \
    ((ngx_uint_t) 1 << (NGX_PTR_SIZE * 8 - 1))
#define NGX_HTTP_COMPLIANCE_JWKS_COPY                                        \
    ((ngx_uint_t) 1 << (NGX_PTR_SIZE * 8 - 2))


typedef struct {
    uint32_t                            magic;
    uint32_t                            layout;
    ngx_http_compliance_fetch_sh_t      fetch;
    ngx_uint_t                          generation;  /* of the text */
    time_t                              fetched;     /* 0: no set */
    time_t                              failing;     /* outage start */
    ngx_uint_t                          good;        /* fetches */
    ngx_uint_t                          failed;
    size_t                              len;
    u_char                              text[1];
} ngx_http_compliance_jwks_sh_t;


/* a worker's parsed copy, counted: the source and each request hold it */
typedef struct {
    ngx_uint_t                          refs;
    ngx_uint_t                          id;
    compliance_jwt_keyset_t            *ks;
} ngx_http_compliance_jwks_set_t;


struct ngx_http_compliance_jwks_s {
    ngx_str_t                           uri;         /* NUL-terminated */
    time_t                              refresh;
    time_t                              min_refresh;
    time_t                              stale;
    ngx_msec_t                          timeout;
    ngx_str_t                           cache;       /* full path or "" */
    ngx_uint_t                          id;          /* jwt.keys_id */

    ngx_shm_zone_t                     *zone;
    ngx_http_compliance_jwks_sh_t      *sh;
    ngx_slab_pool_t                    *shpool;
    ngx_http_compliance_fetch_t        *fetch;

    /* this worker's */
    ngx_http_compliance_jwks_set_t     *set;
    ngx_uint_t                          gen;
};


/* per request and source: the copy it holds; it waits once at most */
typedef struct {
    ngx_http_compliance_jwks_t         *jw;  /* first: the owner (fetch.c) */
    ngx_http_compliance_jwks_set_t     *set;
    ngx_uint_t                          waited;
} ngx_http_compliance_jwks_req_t;


static ngx_int_t ngx_http_compliance_jwks_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_compliance_jwks_read_cache(ngx_http_compliance_jwks_t *jw,
    ngx_http_compliance_jwks_sh_t *sh, ngx_log_t *log);
static void ngx_http_compliance_jwks_write_cache(
    ngx_http_compliance_jwks_t *jw, ngx_str_t *text, ngx_log_t *log);
static ngx_http_compliance_jwks_set_t *ngx_http_compliance_jwks_parse(
    ngx_http_compliance_jwks_t *jw, u_char *p, size_t len, char *err,
    size_t errlen, ngx_log_t *log);
static void ngx_http_compliance_jwks_release(
    ngx_http_compliance_jwks_set_t *set);
static void ngx_http_compliance_jwks_install(ngx_http_compliance_jwks_t *jw,
    ngx_http_compliance_jwks_set_t *set, ngx_uint_t gen);
static void ngx_http_compliance_jwks_sync(ngx_http_compliance_jwks_t *jw,
    ngx_log_t *log);
static ngx_http_compliance_jwks_req_t *ngx_http_compliance_jwks_req(
    ngx_http_request_t *r, ngx_http_compliance_jwks_t *jw,
    ngx_uint_t create);
static void ngx_http_compliance_jwks_req_cleanup(void *data);
static const char *ngx_http_compliance_jwks_park(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, ngx_http_compliance_jwks_req_t *st,
    ngx_uint_t *internal);
static void ngx_http_compliance_jwks_fetched(ngx_http_request_t *r,
    ngx_http_compliance_fetch_result_t *res, void *data);
static void ngx_http_compliance_jwks_alert(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, const char *error);
static void ngx_http_compliance_jwks_cleanup(void *data);


const char  ngx_http_compliance_jwks_parked[] = "keys_pending";

static ngx_uint_t  ngx_http_compliance_jwks_sources;
static ngx_uint_t  ngx_http_compliance_jwks_copies;


/* --- per request */


const char *
ngx_http_compliance_jwks_keys(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, compliance_jwt_keyset_t **ks,
    ngx_uint_t *keys_id, ngx_uint_t *internal)
{
    time_t                           now, fetched;
    ngx_int_t                        rc;
    ngx_http_compliance_jwks_req_t  *st;

    ngx_http_compliance_jwks_sync(jw, r->connection->log);

    st = ngx_http_compliance_jwks_req(r, jw, 1);
    if (st == NULL) {
        *internal = 1;
        return "internal_error";
    }

    now = ngx_time();
    fetched = ((volatile ngx_http_compliance_jwks_sh_t *) jw->sh)->fetched;

    if (jw->set == NULL || fetched == 0 || now - fetched > jw->stale) {

        /* no set, or one past "stale": wait for a fetch, once */
        if (!st->waited) {
            rc = ngx_http_compliance_fetch_start(r, jw->fetch,
                                                 jw->min_refresh);

            if (rc == NGX_OK || rc == NGX_BUSY) {
                return ngx_http_compliance_jwks_park(r, jw, st, internal);
            }

            if (rc == NGX_ERROR) {
                *internal = 1;
                return "internal_error";
            }
        }

        *internal = NGX_HTTP_SERVICE_UNAVAILABLE;
        return "keys_unavailable";
    }

    /* an old set: refreshed in the background, used meanwhile */
    if (now - fetched >= jw->refresh) {
        (void) ngx_http_compliance_fetch_start(r, jw->fetch, jw->min_refresh);
    }

    if (st->set != jw->set) {
        if (st->set) {
            ngx_http_compliance_jwks_release(st->set);
        }

        st->set = jw->set;
        st->set->refs++;
    }

    *ks = st->set->ks;
    *keys_id = st->set->id;

    return NULL;
}


const char *
ngx_http_compliance_jwks_unknown(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, ngx_uint_t *internal)
{
    ngx_int_t                        rc;
    ngx_http_compliance_jwks_req_t  *st;

    st = ngx_http_compliance_jwks_req(r, jw, 0);

    if (st == NULL || st->waited) {
        return NULL;
    }

    /* a rotation the set does not show yet: at most once per min_refresh */
    rc = ngx_http_compliance_fetch_start(r, jw->fetch, jw->min_refresh);

    if (rc == NGX_OK || rc == NGX_BUSY) {
        return ngx_http_compliance_jwks_park(r, jw, st, internal);
    }

    return NULL;
}


static const char *
ngx_http_compliance_jwks_park(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, ngx_http_compliance_jwks_req_t *st,
    ngx_uint_t *internal)
{
    st->waited = 1;

    if (ngx_http_compliance_fetch_wait(r, jw->fetch) != NGX_DONE) {
        *internal = 1;
        return "internal_error";
    }

    return ngx_http_compliance_jwks_parked;
}


static ngx_http_compliance_jwks_req_t *
ngx_http_compliance_jwks_req(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, ngx_uint_t create)
{
    return ngx_http_compliance_fetch_req_state(r, jw,
                                   sizeof(ngx_http_compliance_jwks_req_t),
                                   ngx_http_compliance_jwks_req_cleanup,
                                   create);
}


static void
ngx_http_compliance_jwks_req_cleanup(void *data)
{
    ngx_http_compliance_jwks_req_t  *st = data;

    if (st->set) {
        ngx_http_compliance_jwks_release(st->set);
        st->set = NULL;
    }
}


/* --- this worker's copy */


static void
ngx_http_compliance_jwks_sync(ngx_http_compliance_jwks_t *jw, ngx_log_t *log)
{
    char                             err[512];
    u_char                          *p;
    size_t                           len;
    ngx_uint_t                       gen;
    ngx_http_compliance_jwks_sh_t   *sh;
    ngx_http_compliance_jwks_set_t  *set;

    sh = jw->sh;

    if (((volatile ngx_http_compliance_jwks_sh_t *) sh)->generation
        == jw->gen)
    {
        return;
    }

    p = NULL;

    ngx_shmtx_lock(&jw->shpool->mutex);

    gen = sh->generation;
    len = sh->len;

    if (len) {
        p = ngx_alloc(len, log);
        if (p) {
            ngx_memcpy(p, sh->text, len);
        }
    }

    ngx_shmtx_unlock(&jw->shpool->mutex);

    if (len && p == NULL) {
        return;
    }

    set = NULL;

    if (len) {
        /* the text was checked before it was stored: only memory fails */
        set = ngx_http_compliance_jwks_parse(jw, p, len, err, sizeof(err),
                                             log);
        ngx_free(p);

        if (set == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "compliance: key set \"%V\" not usable in this "
                          "worker: %s", &jw->uri, err);
        }
    }

    ngx_http_compliance_jwks_install(jw, set, gen);
}


static ngx_http_compliance_jwks_set_t *
ngx_http_compliance_jwks_parse(ngx_http_compliance_jwks_t *jw, u_char *p,
    size_t len, char *err, size_t errlen, ngx_log_t *log)
{
    size_t                           skipped;
    ngx_http_compliance_jwks_set_t  *set;

    set = ngx_alloc(sizeof(ngx_http_compliance_jwks_set_t), log);
    if (set == NULL) {
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NULL;
    }

    set->ks = compliance_jwt_keyset_create();

    if (set->ks == NULL
        || compliance_jwt_keyset_load_remote(set->ks, p, len,
                                             (char *) jw->uri.data, &skipped,
                                             err, errlen)
           != 0)
    {
        if (set->ks == NULL) {
            ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        }

        compliance_jwt_keyset_free(set->ks);
        ngx_free(set);
        return NULL;
    }

    set->refs = 1;
    set->id = NGX_HTTP_COMPLIANCE_JWKS_TOP | NGX_HTTP_COMPLIANCE_JWKS_COPY
              | ++ngx_http_compliance_jwks_copies;

    return set;
}


static void
ngx_http_compliance_jwks_release(ngx_http_compliance_jwks_set_t *set)
{
    if (--set->refs == 0) {
        compliance_jwt_keyset_free(set->ks);
        ngx_free(set);
    }
}


/* set NULL: the generation has no usable set (the old copy goes) */
static void
ngx_http_compliance_jwks_install(ngx_http_compliance_jwks_t *jw,
    ngx_http_compliance_jwks_set_t *set, ngx_uint_t gen)
{
    if (jw->set) {
        ngx_http_compliance_jwks_release(jw->set);
    }

    jw->set = set;
    jw->gen = gen;
}


/* --- the end of a fetch, in the worker that made it */


static void
ngx_http_compliance_jwks_fetched(ngx_http_request_t *r,
    ngx_http_compliance_fetch_result_t *res, void *data)
{
    ngx_http_compliance_jwks_t  *jw = data;

    char                             err[512];
    time_t                           now, until;
    ngx_log_t                       *log;
    ngx_uint_t                       gen, changed, first, good, failed;
    const char                      *error;
    ngx_http_compliance_jwks_sh_t   *sh;
    ngx_http_compliance_jwks_set_t  *set;

    /* the request that fetched went away first: not the provider's fault */
    if (r == NULL) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "compliance: fetching the key set \"%V\" stopped: %s",
                      &jw->uri, res->error);
        return;
    }

    sh = jw->sh;
    log = r->connection->log;
    error = res->error;
    set = NULL;

    if (error == NULL) {
        set = ngx_http_compliance_jwks_parse(jw, res->body.data,
                                             res->body.len, err, sizeof(err),
                                             log);
        if (set == NULL) {
            error = err;
        }
    }

    now = ngx_time();
    changed = 0;
    first = 0;
    gen = 0;

    ngx_shmtx_lock(&jw->shpool->mutex);

    if (error == NULL) {
        changed = (sh->len != res->body.len
                   || ngx_memcmp(sh->text, res->body.data, sh->len) != 0);

        if (changed) {
            ngx_memcpy(sh->text, res->body.data, res->body.len);
            sh->len = res->body.len;
            sh->generation++;
        }

        gen = sh->generation;
        sh->fetched = now;
        sh->failing = 0;
        sh->good++;

    } else {
        first = (sh->failing == 0);

        if (first) {
            sh->failing = now;
        }

        sh->failed++;
    }

    good = sh->good;
    failed = sh->failed;
    until = sh->fetched ? sh->fetched + jw->stale : 0;

    ngx_shmtx_unlock(&jw->shpool->mutex);

    /* compliance_jwks_fetch_total{result} (SPEC 13) */
    ngx_http_compliance_status_count(r,
        error ? NGX_HTTP_COMPLIANCE_STATUS_JWKS_FETCH_ERROR
              : NGX_HTTP_COMPLIANCE_STATUS_JWKS_FETCH_OK);

    if (error == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance: key set \"%V\" fetched%s: %uz signing "
                      "keys; fetches: %ui good, %ui failed", &jw->uri,
                      changed ? "" : " (unchanged)",
                      compliance_jwt_keyset_count(set->ks), good, failed);

        if (jw->gen != gen) {
            ngx_http_compliance_jwks_install(jw, set, gen);

        } else {
            ngx_http_compliance_jwks_release(set);
        }

        if (changed && jw->cache.len) {
            ngx_http_compliance_jwks_write_cache(jw, &res->body, log);
        }

        return;
    }

    if (until > now) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: fetching the key set \"%V\" failed: %s; "
                      "the last good one is used for %T s more; "
                      "fetches: %ui good, %ui failed", &jw->uri, error,
                      until - now, good, failed);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: fetching the key set \"%V\" failed: %s; "
                      "no usable key set, tokens are refused with 503; "
                      "fetches: %ui good, %ui failed", &jw->uri, error,
                      good, failed);
    }

    /* one record per outage, by the worker that saw it begin */
    if (first) {
        ngx_http_compliance_jwks_alert(r, jw, error);
    }
}


static void
ngx_http_compliance_jwks_alert(ngx_http_request_t *r,
    ngx_http_compliance_jwks_t *jw, const char *error)
{
    ngx_str_t  pairs[5];

    ngx_str_set(&pairs[0], "keys_request");
    pairs[1] = jw->uri;
    ngx_str_set(&pairs[2], "error");
    pairs[3].data = (u_char *) error;
    pairs[3].len = ngx_strlen(error);
    ngx_str_null(&pairs[4]);

    ngx_http_compliance_audit_alert_strings(r, "keys_fetch_failed", pairs);
}


/* --- cache= */


static void
ngx_http_compliance_jwks_write_cache(ngx_http_compliance_jwks_t *jw,
    ngx_str_t *text, ngx_log_t *log)
{
    u_char     *tmp, *p;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   err;

    tmp = ngx_alloc(jw->cache.len + sizeof(".tmp"), log);
    if (tmp == NULL) {
        return;
    }

    p = ngx_cpymem(tmp, jw->cache.data, jw->cache.len);
    ngx_memcpy(p, ".tmp", sizeof(".tmp"));

    /*
     * Written aside and renamed: a crash never leaves half a set.  The
     * aside file is made anew (O_EXCL): what a crash left there, or a
     * symbolic link someone put there, is removed, never followed.
     */
    if (ngx_delete_file(tmp) == NGX_FILE_ERROR && ngx_errno != NGX_ENOENT) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "compliance: key set \"%V\": cannot remove \"%s\"",
                      &jw->uri, tmp);
        ngx_free(tmp);
        return;
    }

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN|O_EXCL,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "compliance: key set \"%V\": cannot write the cache "
                      "file \"%s\"", &jw->uri, tmp);
        ngx_free(tmp);
        return;
    }

    n = ngx_write_fd(fd, text->data, text->len);
    err = (n == -1) ? ngx_errno : 0;

    if (ngx_close_file(fd) == NGX_FILE_ERROR && err == 0) {
        err = ngx_errno;
        n = -1;
    }

    if (n != (ssize_t) text->len) {
        /* a short write leaves no errno of its own */
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "compliance: key set \"%V\": cannot write the cache "
                      "file \"%s\"", &jw->uri, tmp);
        (void) ngx_delete_file(tmp);
        ngx_free(tmp);
        return;
    }

    if (ngx_rename_file(tmp, jw->cache.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "compliance: key set \"%V\": cannot rename \"%s\" to "
                      "\"%V\"", &jw->uri, tmp, &jw->cache);
        (void) ngx_delete_file(tmp);
    }

    ngx_free(tmp);
}


/* a fresh zone (a start, not a reload): the set the last run fetched */
static void
ngx_http_compliance_jwks_read_cache(ngx_http_compliance_jwks_t *jw,
    ngx_http_compliance_jwks_sh_t *sh, ngx_log_t *log)
{
    char                             err[512];
    off_t                            size;
    time_t                           now, mtime;
    ssize_t                          n;
    ngx_fd_t                         fd;
    ngx_file_info_t                  fi;
    ngx_http_compliance_jwks_set_t  *set;

    fd = ngx_open_file(jw->cache.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        if (ngx_errno != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "compliance: key set \"%V\": cannot read the "
                          "cache file \"%V\"", &jw->uri, &jw->cache);
        }

        return;
    }

    n = -1;
    size = 0;
    mtime = 0;

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR) {
        size = ngx_file_size(&fi);
        mtime = ngx_file_mtime(&fi);

        if (size > 0 && size <= COMPLIANCE_JWT_MAX_KEY_FILE) {
            n = ngx_read_fd(fd, sh->text, (size_t) size);
        }
    }

    (void) ngx_close_file(fd);

    if (n != size || n <= 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance: key set \"%V\": the cache file \"%V\" "
                      "is unreadable, empty or over %d bytes; ignored",
                      &jw->uri, &jw->cache, COMPLIANCE_JWT_MAX_KEY_FILE);
        return;
    }

    set = ngx_http_compliance_jwks_parse(jw, sh->text, (size_t) n, err,
                                         sizeof(err), log);
    if (set == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance: key set \"%V\": the cache file \"%V\" "
                      "is ignored: %s", &jw->uri, &jw->cache, err);
        return;
    }

    ngx_http_compliance_jwks_release(set);

    now = ngx_time();

    sh->len = (size_t) n;
    sh->generation++;
    sh->fetched = (mtime > 0 && mtime < now) ? mtime : now;

    ngx_log_error(NGX_LOG_NOTICE, log, 0,
                  "compliance: key set \"%V\" read from the cache file "
                  "\"%V\", fetched %T s ago", &jw->uri, &jw->cache,
                  now - sh->fetched);
}


/* --- configuration */


/* the worker's copy goes with the configuration */
static void
ngx_http_compliance_jwks_cleanup(void *data)
{
    ngx_http_compliance_jwks_t  *jw = data;

    if (jw->set) {
        ngx_http_compliance_jwks_release(jw->set);
        jw->set = NULL;
    }
}


static ngx_int_t
ngx_http_compliance_jwks_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_jwks_t  *ojw = data;

    ngx_slab_pool_t                *shpool;
    ngx_http_compliance_jwks_t     *jw;
    ngx_http_compliance_jwks_sh_t  *sh;

    jw = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ojw) {
        sh = ojw->sh;

        /* a reload: the set, its age and the fetch flag go on */
        if (sh->magic == NGX_HTTP_COMPLIANCE_JWKS_MAGIC
            && sh->layout == NGX_HTTP_COMPLIANCE_JWKS_LAYOUT)
        {
            jw->sh = sh;
            jw->shpool = ojw->shpool;
            ngx_http_compliance_fetch_attach(jw->fetch, jw->shpool,
                                             &sh->fetch, 0);
            return NGX_OK;
        }

    } else {
        sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_jwks_sh_t)
                                    + COMPLIANCE_JWT_MAX_KEY_FILE);
        if (sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = sh;
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_jwks_sh_t));
    sh->magic = NGX_HTTP_COMPLIANCE_JWKS_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_JWKS_LAYOUT;

    jw->sh = sh;
    jw->shpool = shpool;
    ngx_http_compliance_fetch_attach(jw->fetch, shpool, &sh->fetch, 1);

    if (jw->cache.len) {
        ngx_http_compliance_jwks_read_cache(jw, sh, shm_zone->shm.log);
    }

    return NGX_OK;
}


char *
ngx_http_compliance_jwt_keys_request(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    u_char                      *p;
    time_t                       refresh, min_refresh, stale, *t;
    ngx_str_t                   *value, name, cache, s;
    ngx_uint_t                   i;
    ngx_msec_t                   timeout;
    ngx_shm_zone_t              *zone;
    ngx_pool_cleanup_t          *cln;
    ngx_http_compliance_jwks_t  *jw;

    if (clcf->jwt.remote) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len < 2 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid uri \"%V\" in \"%V\": it names a "
                           "location, as \"/_jwks\"", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    refresh = 600;
    min_refresh = 30;
    stale = 86400;
    timeout = 5000;
    ngx_str_null(&cache);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "refresh", &s)) {
            t = &refresh;

        } else if (ngx_http_compliance_conf_param(&value[i], "min_refresh",
                                                  &s))
        {
            t = &min_refresh;

        } else if (ngx_http_compliance_conf_param(&value[i], "stale", &s)) {
            t = &stale;

        } else if (ngx_http_compliance_conf_param(&value[i], "timeout", &s)) {
            timeout = ngx_parse_time(&s, 0);
            if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
                goto invalid;
            }

            continue;

        } else if (ngx_http_compliance_conf_param(&value[i], "cache",
                                                  &cache))
        {
            /* the value ends the argument: NUL-terminated */
            if (cache.len == 0
                || ngx_conf_full_name(cf->cycle, &cache, 0) != NGX_OK)
            {
                goto invalid;
            }

            continue;

        } else {
            goto invalid;
        }

        *t = ngx_parse_time(&s, 1);
        if (*t == (time_t) NGX_ERROR || *t == 0) {
            goto invalid;
        }
    }

    if (stale < refresh) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"stale=\" shorter than \"refresh=\" in \"%V\": "
                           "the set would expire before it is refreshed",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* one source per location uri, in every context that names it */
    name.len = sizeof("compliance_jwt_keys_request ") - 1 + value[1].len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(name.data, "compliance_jwt_keys_request ",
                   sizeof("compliance_jwt_keys_request ") - 1);
    ngx_memcpy(p, value[1].data, value[1].len);

    zone = ngx_shared_memory_add(cf, &name,
                                 sizeof(ngx_http_compliance_jwks_sh_t)
                                 + COMPLIANCE_JWT_MAX_KEY_FILE
                                 + NGX_HTTP_COMPLIANCE_JWKS_ROOM,
                                 &ngx_http_compliance_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    jw = zone->data;

    if (jw) {
        if (jw->refresh != refresh || jw->min_refresh != min_refresh
            || jw->stale != stale || jw->timeout != timeout
            || jw->cache.len != cache.len
            || ngx_strncmp(jw->cache.data, cache.data, cache.len) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V %V\" is already given with other "
                               "parameters", &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

    } else {
        jw = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_jwks_t));
        if (jw == NULL) {
            return NGX_CONF_ERROR;
        }

        jw->uri = value[1];
        jw->refresh = refresh;
        jw->min_refresh = min_refresh;
        jw->stale = stale;
        jw->timeout = timeout;
        jw->cache = cache;
        jw->id = NGX_HTTP_COMPLIANCE_JWKS_TOP
                 | ++ngx_http_compliance_jwks_sources;
        jw->zone = zone;

        jw->fetch = ngx_http_compliance_fetch_create(cf, &jw->uri, timeout,
                                       COMPLIANCE_JWT_MAX_KEY_FILE,
                                       ngx_http_compliance_jwks_fetched, jw);
        if (jw->fetch == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_compliance_jwks_cleanup;
        cln->data = jw;

        zone->init = ngx_http_compliance_jwks_init_zone;
        zone->data = jw;
    }

    clcf->jwt.remote = jw;
    ngx_http_compliance_conf_pos_set(cf, &clcf->jwt.remote_pos);

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"",
                       &value[i], &cmd->name);
    return NGX_CONF_ERROR;
}


char *
ngx_http_compliance_jwks_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *prev,
    ngx_http_compliance_jwt_conf_t *conf)
{
    ngx_uint_t  own_keys;

    own_keys = (conf->keys != NGX_CONF_UNSET_PTR);

    if (conf->remote && own_keys) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->remote_pos,
                                       "\"compliance_jwt_keys_request\" and "
                                       "\"compliance_jwt_keys\" at one "
                                       "level: a location takes its keys "
                                       "from one source");
        return NGX_CONF_ERROR;
    }

    /* the source written at the inner level wins */
    if (conf->remote == NULL && !own_keys) {
        conf->remote = prev->remote;
        conf->remote_pos = prev->remote_pos;
    }

    if (conf->remote) {
        /* jwt.c's merge then sees keys of its own level: none */
        conf->keys = NULL;
        conf->keys_id = conf->remote->id;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_jwks_merge_algs(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *conf)
{
    if (conf->remote == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->algs_conf == NGX_CONF_UNSET_UINT) {
        conf->algs = NGX_HTTP_COMPLIANCE_JWKS_ALGS;
        return NGX_CONF_OK;
    }

    conf->algs = conf->algs_conf & NGX_HTTP_COMPLIANCE_JWKS_ALGS;

    if (conf->algs == 0) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &conf->algs_pos,
                                       "\"compliance_jwt_algorithms\" "
                                       "allows no algorithm a key from "
                                       "\"compliance_jwt_keys_request\" may "
                                       "verify (HMAC keys are never "
                                       "published)");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
