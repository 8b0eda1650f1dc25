/*
 * The CC7 audit trail: one JSON record per request from the LOG phase,
 * hash-chained, written through a buffer in shared memory.
 *
 * Why shared memory: the chain links each record to the one before it,
 * so the file order must be the chain order even with several workers.
 * Records are chained and appended to one shared buffer under the zone's
 * slab mutex (it lives in shared memory, semaphore included),
 * and the buffer is written with one write() under the same mutex: lines
 * never interleave, the file order is the seq order, and buffering still
 * batches the writes.  The same zone keeps the chain head, the count of
 * records lost to write errors and the failure flag across reloads.
 */

#include "ngx_http_compliance_module.h"


#define NGX_HTTP_COMPLIANCE_AUDIT_MAGIC    0x43415544   /* "CAUD" */
#define NGX_HTTP_COMPLIANCE_AUDIT_LAYOUT   3

/* ngx_http_compliance_audit_sh_t.txn: what the mutex holder is doing */
#define NGX_HTTP_COMPLIANCE_AUDIT_TXN_APPEND  0x01
#define NGX_HTTP_COMPLIANCE_AUDIT_TXN_WRITE   0x02

/* an error.log alert about write errors at most this often */
#define NGX_HTTP_COMPLIANCE_AUDIT_ALERT_S  60

/* after a reopen, how long writers check that they follow the new file */
#define NGX_HTTP_COMPLIANCE_AUDIT_ROTATE_S  60

/* a chain checkpoint in error.log at most this often */
#define NGX_HTTP_COMPLIANCE_AUDIT_CKPT_S   1

/*
 * The zone has one size whatever "buffer=" says: nginx hands a zone to
 * the new cycle only when its size is unchanged, and a new zone beside
 * workers of the old cycle that still hold buffered records would fork
 * the chain.  buffer= is the flush threshold within it.
 */
#define NGX_HTTP_COMPLIANCE_AUDIT_BUFFER_MAX  (1024 * 1024)

/* how much of the file's tail is read to resume the chain */
#define NGX_HTTP_COMPLIANCE_AUDIT_TAIL     65536


/* a syslog message is bounded; a record that does not fit is lost */
#define NGX_HTTP_COMPLIANCE_AUDIT_SYSLOG_MAX  8192


struct ngx_http_compliance_audit_sh_s {
    uint32_t                          magic;
    uint32_t                          layout;
    uint64_t                          seq;
    u_char                            chain[COMPLIANCE_CHAIN_HEX_LEN];
    uint64_t                          lost;
    ngx_uint_t                        failing;

    /* the head before the first unwritten record: a failed write rolls
     * back to it, so lost records never break the chain */
    uint64_t                          base_seq;
    u_char                            base_chain[COMPLIANCE_CHAIN_HEX_LEN];
    ngx_uint_t                        gap_buffered;
    time_t                            last_alert;
    time_t                            last_checkpoint;
    time_t                            reopened;    /* last USR1 anywhere */

    /*
     * A journal of the critical section: a worker killed while holding
     * the mutex (SIGKILL, the OOM killer, a crash elsewhere) leaves it
     * set, and the next holder undoes what was half done (see _recover())
     */
    ngx_uint_t                        txn;
    ngx_pid_t                         txn_pid;
    uint64_t                          txn_seq;
    uint64_t                          txn_base_seq;
    uint64_t                          txn_lost;
    size_t                            txn_used;
    ngx_uint_t                        txn_gap_buffered;
    u_char                            txn_chain[COMPLIANCE_CHAIN_HEX_LEN];
    u_char                            txn_base_chain[COMPLIANCE_CHAIN_HEX_LEN];
    off_t                             txn_off;     /* file size before */
    size_t                            txn_wlen;    /* bytes of the write */
    ngx_uint_t                        txn_wbuf;    /* of the shared buffer */
    ngx_file_uniq_t                   txn_file;
    ngx_uint_t                        checkpoint_pending;
    size_t                            size;
    size_t                            used;
    u_char                            data[1];
};


static ngx_int_t ngx_http_compliance_audit_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_compliance_audit_resume(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog);
static ngx_int_t ngx_http_compliance_audit_handler(ngx_http_request_t *r);
static u_char *ngx_http_compliance_audit_build(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_loc_conf_t *clcf,
    const char *event, const char *severity, const char *reason,
    ngx_uint_t audit, size_t *len);
static ngx_int_t ngx_http_compliance_audit_append(
    ngx_http_compliance_audit_log_t *log, u_char *rec, size_t len,
    ngx_log_t *elog);
static u_char *ngx_http_compliance_audit_seal(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *dst, u_char *rec,
    size_t len);
static u_char *ngx_http_compliance_audit_gap(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *dst);
static ngx_int_t ngx_http_compliance_audit_write_locked(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *buf, size_t len,
    ngx_uint_t gap, ngx_log_t *elog);
static void ngx_http_compliance_audit_base(
    ngx_http_compliance_audit_sh_t *sh);
static void ngx_http_compliance_audit_flush_locked(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog);
static void ngx_http_compliance_audit_file_flush(ngx_open_file_t *file,
    ngx_log_t *elog);
static ngx_file_uniq_t ngx_http_compliance_audit_file_id(ngx_fd_t fd);
static void ngx_http_compliance_audit_txn_mark(
    ngx_http_compliance_audit_sh_t *sh);
static void ngx_http_compliance_audit_write_done(
    ngx_http_compliance_audit_sh_t *sh, u_char *buf);
static void ngx_http_compliance_audit_lock(
    ngx_http_compliance_audit_log_t *log, ngx_log_t *elog);
static void ngx_http_compliance_audit_recover(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog);
static void ngx_http_compliance_audit_follow(
    ngx_http_compliance_audit_log_t *log, ngx_log_t *elog);
static void ngx_http_compliance_audit_timer(ngx_event_t *ev);
static void ngx_http_compliance_audit_checkpoint_write(
    ngx_http_compliance_audit_sh_t *sh);
static void ngx_http_compliance_audit_checkpoint(
    ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_uint_t force, ngx_log_t *elog);
static size_t ngx_http_compliance_audit_str_len(ngx_str_t *s);
static u_char *ngx_http_compliance_audit_str(u_char *p, const char *name,
    ngx_str_t *s);
static void ngx_http_compliance_audit_chain_cleanup(void *data);


/* the largest gap record: fixed text, a timestamp and two numbers */
#define NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN                                    \
    (sizeof("{\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"request_id\":null," \
            "\"event\":\"gap\",\"severity\":\"critical\",\"audit\":true,"  \
            "\"reason\":\"audit_write_failed\",\"lost_records\":,"         \
            "\"seq\":") + 2 * NGX_INT64_LEN + COMPLIANCE_CHAIN_SUFFIX_LEN + 2)


static ngx_str_t  ngx_http_compliance_auth_method_names[] = {
    ngx_string("none"),
    ngx_string("public"),
    ngx_string("jwt"),
    ngx_string("api_key")
};


/* --- configuration */


char *
ngx_http_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ssize_t                           size;
    ngx_str_t                        *value, name, s;
    ngx_msec_t                        flush;
    ngx_uint_t                        i;
    ngx_syslog_peer_t                *peer;
    ngx_http_compliance_audit_log_t  *log;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->audit_log != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "has parameters after \"off\"";
        }

        clcf->audit_log = NULL;
        return NGX_CONF_OK;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    size = 0;
    flush = 0;
    peer = NULL;
    name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.len = value[i].len - 7;
            s.data = value[i].data + 7;

            size = ngx_parse_size(&s);

            if (size <= 0 || size > 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid buffer size \"%V\" in \"%V\", "
                                   "it must be between 1 and 1m",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.len = value[i].len - 6;
            s.data = value[i].data + 6;

            flush = ngx_parse_time(&s, 0);

            if (flush == (ngx_msec_t) NGX_ERROR || flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid flush time \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (flush && size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"flush\" needs \"buffer\" in \"%V\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_strncmp(name.data, "syslog:", 7) == 0) {
        if (size) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"buffer\" cannot be used with syslog "
                               "in \"%V\"", &cmd->name);
            return NGX_CONF_ERROR;
        }

        peer = ngx_pcalloc(cf->pool, sizeof(ngx_syslog_peer_t));
        if (peer == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_syslog_process_conf(cf, peer) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* one trail per configuration: one chain, one order, one gap count */
    log = cmf->audit;

    if (log) {
        if (log->name.len != name.len
            || ngx_strncmp(log->name.data, name.data, name.len) != 0
            || log->size != (size_t) size || log->flush != flush)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" names a second audit trail \"%V\": "
                               "one configuration writes one trail, "
                               "repeat the same target or use \"off\"",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

        clcf->audit_log = log;
        return NGX_CONF_OK;
    }

    log = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_audit_log_t));
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    log->name = name;
    log->size = size;
    log->flush = flush;
    log->syslog = peer;

    if (peer == NULL) {
        log->file = ngx_conf_open_file(cf->cycle, &name);
        if (log->file == NULL) {
            return NGX_CONF_ERROR;
        }

        /* nginx calls this before reopening (USR1) and at worker exit */
        log->file->flush = ngx_http_compliance_audit_file_flush;
        log->file->data = log;
    }

    s.data = (u_char *) "compliance_audit";
    s.len = sizeof("compliance_audit") - 1;

    log->zone = ngx_shared_memory_add(cf, &s,
                                      8 * ngx_pagesize
                                      + NGX_HTTP_COMPLIANCE_AUDIT_BUFFER_MAX,
                                      &ngx_http_compliance_module);
    if (log->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    log->zone->init = ngx_http_compliance_audit_init_zone;
    log->zone->data = log;

    cmf->audit = log;
    cmf->handler_needed = 1;
    clcf->audit_log = log;

    return NGX_CONF_OK;
}


static void
ngx_http_compliance_audit_chain_cleanup(void *data)
{
    compliance_chain_t  *chain = data;

    compliance_chain_free(chain);
}


char *
ngx_http_compliance_audit_chain(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_main_conf_t  *cmf = conf;

    char                 err[512];
    u_char               key[COMPLIANCE_SECRET_LEN];
    unsigned             mode;
    ngx_str_t           *value, file;
    ngx_pool_cleanup_t  *cln;

    if (cmf->chain) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mode = 0;

    if (compliance_secret_load((char *) file.data, key, &mode, err,
                               sizeof(err))
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid key in \"%V\": %s",
                           &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    ngx_http_compliance_warn_file_mode(cf, &cmd->name, &value[1], mode, 0077);

    cmf->chain = compliance_chain_create(key);
    compliance_secret_wipe(key, sizeof(key));

    if (cmf->chain == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        compliance_chain_free(cmf->chain);
        cmf->chain = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_compliance_audit_chain_cleanup;
    cln->data = cmf->chain;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_sensitive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value;

    if (clcf->audit_sensitive.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid reason \"\" in \"%V\": a sensitive "
                           "location needs a reason", &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->audit_sensitive = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (clcf->audit_resource_type.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid resource type \"\" in \"%V\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->audit_resource_type = value[1];

    if (cf->args->nelts == 3) {
        clcf->audit_resource_id = ngx_palloc(cf->pool,
                                         sizeof(ngx_http_complex_value_t));
        if (clcf->audit_resource_id == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = clcf->audit_resource_id;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_merge(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *prev, ngx_http_compliance_loc_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->audit_log, prev->audit_log, NULL);
    ngx_conf_merge_uint_value(conf->audit_failure, prev->audit_failure,
                              NGX_HTTP_COMPLIANCE_AUDIT_OPEN);

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_compliance_audit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->audit == NULL) {
        if (cmf->chain) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "\"compliance_audit_chain\" is set but no "
                               "\"compliance_audit_log\" is configured");
        }

        return NGX_OK;
    }

    cmf->audit->chain = cmf->chain;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_audit_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_audit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_audit_log_t  *olog = data;

    size_t                            size;
    ngx_slab_pool_t                  *shpool;
    ngx_http_compliance_audit_sh_t   *sh;
    ngx_http_compliance_audit_log_t  *log;

    log = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    size = NGX_HTTP_COMPLIANCE_AUDIT_BUFFER_MAX;

    if (olog && olog->sh) {
        if (olog->sh->magic == NGX_HTTP_COMPLIANCE_AUDIT_MAGIC
            && olog->sh->layout == NGX_HTTP_COMPLIANCE_AUDIT_LAYOUT
            && olog->sh->size == size)
        {
            /* a reload: the chain head, the buffer and the gap count go on */
            log->sh = olog->sh;
            log->shpool = shpool;
            return NGX_OK;
        }

        /*
         * A new module build with another layout: workers of the old
         * cycle still write through the old one, so the reload is refused
         * rather than the chain forked.
         */
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "compliance audit: the shared state layout changed, "
                      "restart nginx instead of reloading it");
        return NGX_ERROR;
    }

    if (shm_zone->shm.exists) {
        sh = shpool->data;

        if (sh && sh->magic == NGX_HTTP_COMPLIANCE_AUDIT_MAGIC
            && sh->layout == NGX_HTTP_COMPLIANCE_AUDIT_LAYOUT
            && sh->size == size)
        {
            log->sh = sh;
            log->shpool = shpool;
            return NGX_OK;
        }
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_audit_sh_t)
                                + size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_audit_sh_t));

    sh->magic = NGX_HTTP_COMPLIANCE_AUDIT_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_AUDIT_LAYOUT;
    sh->size = size;
    ngx_memcpy(sh->chain, compliance_chain_zero, COMPLIANCE_CHAIN_HEX_LEN);

    if (log->file) {
        ngx_http_compliance_audit_resume(log, sh, shm_zone->shm.log);
    }

    shpool->data = sh;
    log->sh = sh;
    log->shpool = shpool;

    return NGX_OK;
}


/* a restart continues the chain from the last whole record in the file */
static void
ngx_http_compliance_audit_resume(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog)
{
    u_char           *buf, *end, *line, *p;
    size_t            len, prefix;
    ssize_t           n;
    uint64_t          seq;
    ngx_fd_t          fd;
    ngx_file_info_t   fi;
    const u_char     *hex;

    fd = ngx_open_file(log->name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi) || ngx_file_size(&fi) == 0)
    {
        ngx_close_file(fd);
        return;
    }

    len = ngx_min((size_t) ngx_file_size(&fi), NGX_HTTP_COMPLIANCE_AUDIT_TAIL);

    buf = ngx_alloc(len, elog);
    if (buf == NULL) {
        ngx_close_file(fd);
        return;
    }

    n = pread(fd, buf, len, ngx_file_size(&fi) - len);
    ngx_close_file(fd);

    if (n != (ssize_t) len || buf[len - 1] != '\n') {
        ngx_log_error(NGX_LOG_WARN, elog, 0,
                      "compliance audit: \"%V\" does not end with a whole "
                      "record; the chain restarts", &log->name);
        ngx_free(buf);
        return;
    }

    end = buf + len - 1;
    line = buf;

    for (p = end; p > buf; p--) {
        if (p[-1] == '\n') {
            line = p;
            break;
        }
    }

    if (compliance_chain_split(line, end - line, &prefix, &hex, &seq)
        == COMPLIANCE_CHAIN_OK)
    {
        sh->seq = seq;
        ngx_memcpy(sh->chain, hex, COMPLIANCE_CHAIN_HEX_LEN);

        ngx_log_error(NGX_LOG_NOTICE, elog, 0,
                      "compliance audit: \"%V\" continues at seq %uL",
                      &log->name, seq + 1);
    }

    ngx_free(buf);
}


ngx_int_t
ngx_http_compliance_audit_init_process(ngx_cycle_t *cycle)
{
    ngx_http_compliance_main_conf_t  *cmf;
    ngx_http_compliance_audit_log_t  *log;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_compliance_module)
        == NULL)
    {
        return NGX_OK;
    }

    cmf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_compliance_module);
    log = cmf->audit;

    if (log == NULL || log->flush == 0) {
        return NGX_OK;
    }

    log->event = ngx_pcalloc(cycle->pool, sizeof(ngx_event_t));
    if (log->event == NULL) {
        return NGX_ERROR;
    }

    log->event->handler = ngx_http_compliance_audit_timer;
    log->event->data = log;
    log->event->log = cycle->log;
    log->event->cancelable = 1;

    return NGX_OK;
}


/* --- the LOG phase */


static ngx_int_t
ngx_http_compliance_audit_handler(ngx_http_request_t *r)
{
    size_t                           len;
    u_char                          *rec;
    ngx_uint_t                       status, audit;
    const char                      *event, *severity, *reason;
    ngx_http_compliance_ctx_t       *ctx;
    ngx_http_compliance_loc_conf_t  *clcf;

    if (r != r->main) {
        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->audit_log == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL) {
        /* a request nginx answered before the handler ran (e.g. 400) */
        ctx = ngx_http_compliance_ensure_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
    }

    if (ctx->logged) {
        return NGX_OK;
    }

    ctx->logged = 1;

    status = r->err_status ? r->err_status : r->headers_out.status;
    reason = ctx->reason.len ? (char *) ctx->reason.data : NULL;
    audit = 0;

    if (!ctx->refused) {
        event = "request";
        severity = (status >= 400) ? "notice" : "info";

    } else if (status == NGX_HTTP_UNAUTHORIZED) {
        event = "auth_failure";
        severity = "warning";

    } else if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
        event = "rate_limited";
        severity = "warning";

    } else {
        event = "forbidden";
        severity = "warning";
    }

    if (ctx->refused) {
        audit = 1;
    }

    if (clcf->audit_sensitive.data) {
        severity = "high";
        audit = 1;
    }

    if (clcf->audit_resource_type.data
        && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)))
    {
        audit = 1;
    }

    rec = ngx_http_compliance_audit_build(r, ctx, clcf, event, severity,
                                          reason, audit, &len);
    if (rec == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_compliance_audit_append(clcf->audit_log, rec, len,
                                            r->connection->log);

    return NGX_OK;
}


void
ngx_http_compliance_audit_event(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *event, const char *severity,
    const char *reason)
{
    size_t                           len;
    u_char                          *rec;
    ngx_http_compliance_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->audit_log == NULL) {
        return;
    }

    rec = ngx_http_compliance_audit_build(r, ctx, clcf, event, severity,
                                          reason, 1, &len);
    if (rec == NULL) {
        return;
    }

    (void) ngx_http_compliance_audit_append(clcf->audit_log, rec, len,
                                            r->connection->log);
}


/*
 * An event record with members of the caller's after the common fields:
 * "fields" is JSON text, each member followed by a comma ("a":1,"b":"x",),
 * escaped by the caller.  The built record is left open after a comma,
 * so they go in just before the seal's "seq".
 */
void
ngx_http_compliance_audit_event_fields(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *event, const char *severity,
    const char *reason, ngx_str_t *fields)
{
    size_t                           len;
    u_char                          *rec, *p;
    ngx_http_compliance_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (clcf->audit_log == NULL) {
        return;
    }

    rec = ngx_http_compliance_audit_build(r, ctx, clcf, event, severity,
                                          reason, 1, &len);
    if (rec == NULL) {
        return;
    }

    p = ngx_pnalloc(r->pool, len + fields->len);
    if (p == NULL) {
        return;
    }

    ngx_memcpy(p, rec, len);
    ngx_memcpy(p + len, fields->data, fields->len);

    (void) ngx_http_compliance_audit_append(clcf->audit_log, p,
                                            len + fields->len,
                                            r->connection->log);
}


/* "closed": no request is served while the trail cannot be written */
ngx_int_t
ngx_http_compliance_audit_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    if (clcf->audit_log == NULL
        || clcf->audit_failure != NGX_HTTP_COMPLIANCE_AUDIT_CLOSED
        || clcf->audit_log->sh == NULL
        || !clcf->audit_log->sh->failing)
    {
        return NGX_DECLINED;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "audit_unavailable");
}


static size_t
ngx_http_compliance_audit_str_len(ngx_str_t *s)
{
    if (s == NULL || s->data == NULL) {
        return sizeof("null") - 1;
    }

    return 2 + compliance_json_escape_len(s->data, s->len);
}


/* writes ,"name":"escaped" (or null); name NULL for a bare value */
static u_char *
ngx_http_compliance_audit_str(u_char *p, const char *name, ngx_str_t *s)
{
    if (name) {
        *p++ = ',';
        *p++ = '"';
        p = ngx_cpymem(p, name, ngx_strlen(name));
        *p++ = '"';
        *p++ = ':';
    }

    if (s == NULL || s->data == NULL) {
        return ngx_cpymem(p, "null", 4);
    }

    *p++ = '"';
    p = compliance_json_escape(p, s->data, s->len);
    *p++ = '"';

    return p;
}


#define ngx_http_compliance_field_len(name)  (sizeof(",\"" name "\":") - 1)


/*
 * Builds one record without seq/chain, in two passes (length, then
 * write).  The record is left open ("...,") for the seal to finish.
 */
static u_char *
ngx_http_compliance_audit_build(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_loc_conf_t *clcf,
    const char *event, const char *severity, const char *reason,
    ngx_uint_t audit, size_t *lenp)
{
    u_char                    *rec, *p, *q;
    size_t                     len;
    ngx_tm_t                   tm;
    ngx_str_t                  path, safe, ev, sev, rs, id, rid, method;
    ngx_str_t                 *user, *org, *kid, *pub, *cred, *rtype;
    ngx_str_t                 *ridp, *reasonp, *am, tls_proto, tls_cipher;
    ngx_msec_int_t             ms;
    ngx_time_t                *tp;
    ngx_uint_t                 status, tls;

    tp = ngx_timeofday();

    status = r->err_status ? r->err_status : r->headers_out.status;

    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    /* the path as the client sent it, without the query, redacted */
    path = r->unparsed_uri;

    if (path.data) {
        q = ngx_strlchr(path.data, path.data + path.len, '?');
        if (q) {
            path.len = q - path.data;
        }
    }

    if (ngx_http_compliance_redact_str(r, clcf->redact, &path, &safe)
        != NGX_OK)
    {
        return NULL;
    }

    ev.data = (u_char *) event;
    ev.len = ngx_strlen(event);
    sev.data = (u_char *) severity;
    sev.len = ngx_strlen(severity);

    reasonp = NULL;

    if (reason) {
        rs.data = (u_char *) reason;
        rs.len = ngx_strlen(reason);
        reasonp = &rs;
    }

    id.data = ctx->request_id;
    id.len = NGX_HTTP_COMPLIANCE_REQID_LEN;

    method = r->method_name;
    am = &ngx_http_compliance_auth_method_names[ctx->auth_method];

    user = ctx->authenticated ? &ctx->principal : NULL;
    org = (ctx->authenticated && ctx->org.len) ? &ctx->org : NULL;
    kid = (ctx->authenticated && ctx->key_id.len) ? &ctx->key_id : NULL;
    pub = ctx->public_reason.data ? &ctx->public_reason : NULL;
    cred = ctx->credential_id.len ? &ctx->credential_id : NULL;
    rtype = clcf->audit_resource_type.data ? &clcf->audit_resource_type
                                           : NULL;
    ridp = NULL;

    if (rtype && clcf->audit_resource_id) {
        if (ngx_http_complex_value(r, clcf->audit_resource_id, &rid)
            != NGX_OK)
        {
            return NULL;
        }

        /* it comes from the request: the same detectors apply */
        if (ngx_http_compliance_redact_str(r, clcf->redact, &rid, &rid)
            != NGX_OK)
        {
            return NULL;
        }

        ridp = &rid;
    }

    tls = 0;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        tls = 1;
        tls_proto.data = (u_char *) SSL_get_version(
                                           r->connection->ssl->connection);
        tls_proto.len = ngx_strlen(tls_proto.data);
        tls_cipher.data = (u_char *) SSL_get_cipher_name(
                                           r->connection->ssl->connection);
        tls_cipher.len = tls_cipher.data ? ngx_strlen(tls_cipher.data) : 0;
    }
#endif

    len = sizeof("{\"timestamp\":\"1970-01-01T00:00:00.000Z\"") - 1
          + ngx_http_compliance_field_len("request_id")
          + ngx_http_compliance_audit_str_len(&id)
          + ngx_http_compliance_field_len("event")
          + ngx_http_compliance_audit_str_len(&ev)
          + ngx_http_compliance_field_len("severity")
          + ngx_http_compliance_audit_str_len(&sev)
          + ngx_http_compliance_field_len("audit") + sizeof("false") - 1
          + ngx_http_compliance_field_len("user_id")
          + ngx_http_compliance_audit_str_len(user)
          + ngx_http_compliance_field_len("organisation_id")
          + ngx_http_compliance_audit_str_len(org)
          + ngx_http_compliance_field_len("auth_method")
          + ngx_http_compliance_audit_str_len(am)
          + ngx_http_compliance_field_len("key_id")
          + ngx_http_compliance_audit_str_len(kid)
          + ngx_http_compliance_field_len("client_ip")
          + ngx_http_compliance_audit_str_len(&r->connection->addr_text)
          + ngx_http_compliance_field_len("method")
          + ngx_http_compliance_audit_str_len(&method)
          + ngx_http_compliance_field_len("path")
          + ngx_http_compliance_audit_str_len(&safe)
          + ngx_http_compliance_field_len("status") + NGX_INT_T_LEN
          + ngx_http_compliance_field_len("response_time_ms")
          + NGX_INT_T_LEN + 4
          + ngx_http_compliance_field_len("bytes_sent") + NGX_OFF_T_LEN
          + ngx_http_compliance_field_len("reason")
          + ngx_http_compliance_audit_str_len(reasonp)
          + 1;

    if (rtype) {
        len += ngx_http_compliance_field_len("resource_type")
               + ngx_http_compliance_audit_str_len(rtype)
               + ngx_http_compliance_field_len("resource_id")
               + ngx_http_compliance_audit_str_len(ridp);
    }

    if (pub) {
        len += ngx_http_compliance_field_len("public_reason")
               + ngx_http_compliance_audit_str_len(pub);
    }

    if (cred) {
        len += ngx_http_compliance_field_len("credential_id")
               + ngx_http_compliance_audit_str_len(cred);
    }

    if (tls) {
        len += sizeof(",\"tls\":{\"protocol\":,\"cipher\":}") - 1
               + ngx_http_compliance_audit_str_len(&tls_proto)
               + ngx_http_compliance_audit_str_len(&tls_cipher);
    }

    rec = ngx_pnalloc(r->pool, len);
    if (rec == NULL) {
        return NULL;
    }

    ngx_gmtime(tp->sec, &tm);

    p = ngx_sprintf(rec, "{\"timestamp\":"
                    "\"%4d-%02d-%02dT%02d:%02d:%02d.%03MZ\"",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, tp->msec);

    p = ngx_http_compliance_audit_str(p, "request_id", &id);
    p = ngx_http_compliance_audit_str(p, "event", &ev);
    p = ngx_http_compliance_audit_str(p, "severity", &sev);
    p = ngx_sprintf(p, ",\"audit\":%s", audit ? "true" : "false");
    p = ngx_http_compliance_audit_str(p, "user_id", user);
    p = ngx_http_compliance_audit_str(p, "organisation_id", org);
    p = ngx_http_compliance_audit_str(p, "auth_method", am);
    p = ngx_http_compliance_audit_str(p, "key_id", kid);
    p = ngx_http_compliance_audit_str(p, "client_ip",
                                      &r->connection->addr_text);
    p = ngx_http_compliance_audit_str(p, "method", &method);
    p = ngx_http_compliance_audit_str(p, "path", &safe);
    /* milliseconds, as nginx's own clock counts them ($request_time) */
    p = ngx_sprintf(p, ",\"status\":%ui,\"response_time_ms\":%M.000",
                    status, (ngx_msec_t) ms);
    p = ngx_sprintf(p, ",\"bytes_sent\":%O", r->connection->sent);
    p = ngx_http_compliance_audit_str(p, "reason", reasonp);

    if (rtype) {
        p = ngx_http_compliance_audit_str(p, "resource_type", rtype);
        p = ngx_http_compliance_audit_str(p, "resource_id", ridp);
    }

    if (pub) {
        p = ngx_http_compliance_audit_str(p, "public_reason", pub);
    }

    if (cred) {
        p = ngx_http_compliance_audit_str(p, "credential_id", cred);
    }

    if (tls) {
        p = ngx_cpymem(p, ",\"tls\":{\"protocol\":",
                       sizeof(",\"tls\":{\"protocol\":") - 1);
        p = ngx_http_compliance_audit_str(p, NULL, &tls_proto);
        p = ngx_cpymem(p, ",\"cipher\":", sizeof(",\"cipher\":") - 1);
        p = ngx_http_compliance_audit_str(p, NULL, &tls_cipher);
        *p++ = '}';
    }

    /* left open: the seal adds "seq" (and "chain") and closes it */
    *p++ = ',';

    *lenp = p - rec;

    return rec;
}


/* --- the writer */


/*
 * Finishes rec (which ends with ',') into dst: "seq":N, then with a key
 * ,"chain":"hex"}, then '\n'.  Under the zone mutex.
 */
static u_char *
ngx_http_compliance_audit_seal(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *dst, u_char *rec, size_t len)
{
    u_char  *p, *start;
    u_char   hex[COMPLIANCE_CHAIN_HEX_LEN];

    start = dst;
    p = ngx_cpymem(dst, rec, len);

    sh->seq++;
    p = ngx_sprintf(p, "\"seq\":%uL", sh->seq);

    if (log->chain
        && compliance_chain_compute_prefix(log->chain, sh->chain, start,
                                           p - start, hex)
           == COMPLIANCE_CHAIN_OK)
    {
        ngx_memcpy(sh->chain, hex, COMPLIANCE_CHAIN_HEX_LEN);
        p = ngx_cpymem(p, ",\"chain\":\"", sizeof(",\"chain\":\"") - 1);
        p = ngx_cpymem(p, hex, COMPLIANCE_CHAIN_HEX_LEN);
        *p++ = '"';
    }

    *p++ = '}';
    *p++ = '\n';

    return p;
}


static u_char *
ngx_http_compliance_audit_gap(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *dst)
{
    u_char      rec[NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN], *p;
    ngx_tm_t    tm;
    ngx_time_t *tp;

    tp = ngx_timeofday();
    ngx_gmtime(tp->sec, &tm);

    p = ngx_sprintf(rec, "{\"timestamp\":\"%4d-%02d-%02dT%02d:%02d:%02d.%03MZ\""
                    ",\"request_id\":null,\"event\":\"gap\","
                    "\"severity\":\"critical\",\"audit\":true,"
                    "\"reason\":\"audit_write_failed\",\"lost_records\":%uL,",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, tp->msec,
                    sh->lost);

    return ngx_http_compliance_audit_seal(log, sh, dst, rec, p - rec);
}


static void
ngx_http_compliance_audit_base(ngx_http_compliance_audit_sh_t *sh)
{
    sh->base_seq = sh->seq;
    ngx_memcpy(sh->base_chain, sh->chain, COMPLIANCE_CHAIN_HEX_LEN);
}


static ngx_int_t
ngx_http_compliance_audit_append(ngx_http_compliance_audit_log_t *log,
    u_char *rec, size_t len, ngx_log_t *elog)
{
    size_t                           need;
    u_char                          *line, *p;
    ngx_int_t                        rc;
    ngx_uint_t                       gap;
    ngx_http_compliance_audit_sh_t  *sh;

    sh = log->sh;
    need = len + sizeof("\"seq\":}\n") + NGX_INT64_LEN
           + COMPLIANCE_CHAIN_SUFFIX_LEN;

    ngx_http_compliance_audit_lock(log, elog);

    /* undone if this process dies before the end: the record is lost */
    ngx_http_compliance_audit_txn_mark(sh);
    sh->txn_pid = ngx_pid;
    sh->txn = NGX_HTTP_COMPLIANCE_AUDIT_TXN_APPEND;

    /* room in the shared buffer: seal straight into it */
    if (log->size
        && sh->used + need + NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN <= sh->size)
    {
        if (sh->used == 0) {
            ngx_http_compliance_audit_base(sh);

            if (sh->lost) {
                p = ngx_http_compliance_audit_gap(log, sh, sh->data);
                sh->used = p - sh->data;
                sh->gap_buffered = 1;
            }
        }

        p = ngx_http_compliance_audit_seal(log, sh, sh->data + sh->used, rec,
                                           len);
        sh->used = p - sh->data;

        if (sh->used + need > log->size) {
            ngx_http_compliance_audit_flush_locked(log, sh, elog);

        } else if (log->event && !log->event->timer_set) {
            ngx_add_timer(log->event, log->flush);
        }

        sh->txn = 0;
        ngx_shmtx_unlock(&log->shpool->mutex);
        return NGX_OK;
    }

    /* unbuffered, or a record larger than the buffer */
    ngx_http_compliance_audit_flush_locked(log, sh, elog);

    line = ngx_alloc(need + NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN, elog);
    if (line == NULL) {
        sh->lost++;
        sh->txn = 0;
        ngx_shmtx_unlock(&log->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_http_compliance_audit_base(sh);

    p = line;
    gap = 0;

    if (sh->lost) {
        p = ngx_http_compliance_audit_gap(log, sh, p);
        gap = 1;
    }

    p = ngx_http_compliance_audit_seal(log, sh, p, rec, len);

    rc = ngx_http_compliance_audit_write_locked(log, sh, line, p - line, gap,
                                                elog);

    ngx_free(line);
    sh->txn = 0;
    ngx_shmtx_unlock(&log->shpool->mutex);

    return rc;
}


static void
ngx_http_compliance_audit_flush_locked(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog)
{
    if (sh->used == 0) {
        return;
    }

    (void) ngx_http_compliance_audit_write_locked(log, sh, sh->data,
                                                  sh->used, sh->gap_buffered,
                                                  elog);
    sh->used = 0;
    sh->gap_buffered = 0;

    /* an append that flushed: what it would undo is in the file now */
    ngx_http_compliance_audit_txn_mark(sh);
}


/*
 * Writes whole records.  On failure the records are counted as lost (a
 * gap record among them is not a lost request) and the chain head goes
 * back to before them, so the next gap record links to the last record
 * that really is in the trail.
 */
static ngx_int_t
ngx_http_compliance_audit_write_locked(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, u_char *buf, size_t len,
    ngx_uint_t gap, ngx_log_t *elog)
{
    u_char      *p, *last, *nl, *q;
    u_char       line[NGX_HTTP_COMPLIANCE_AUDIT_SYSLOG_MAX];
    time_t       now;
    ssize_t      n;
    ngx_err_t    err;
    ngx_uint_t   records;

    now = ngx_time();

    if (log->syslog) {
        /* one datagram per record */
        n = 0;
        p = buf;
        last = buf + len;

        while (p < last) {
            nl = ngx_strlchr(p, last, '\n');
            if (nl == NULL) {
                nl = last;
            }

            q = ngx_syslog_add_header(log->syslog, line);

            if ((size_t) (nl - p) > (size_t) (line + sizeof(line) - q)) {
                /* a syslog message is bounded; never send half a record */
                n = -1;
                break;
            }

            q = ngx_cpymem(q, p, nl - p);

            if (ngx_syslog_send(log->syslog, line, q - line) == NGX_ERROR) {
                n = -1;
                break;
            }

            p = nl + 1;
        }

    } else {
        if (now - sh->reopened <= NGX_HTTP_COMPLIANCE_AUDIT_ROTATE_S) {
            ngx_http_compliance_audit_follow(log, elog);
        }

        /* a process killed inside write() may leave part of it */
        sh->txn_off = lseek(log->file->fd, 0, SEEK_END);
        sh->txn_file = ngx_http_compliance_audit_file_id(log->file->fd);
        sh->txn_wlen = len;
        sh->txn_wbuf = (buf == sh->data);
        sh->txn_pid = ngx_pid;
        sh->txn |= NGX_HTTP_COMPLIANCE_AUDIT_TXN_WRITE;

        n = ngx_write_fd(log->file->fd, buf, len);
    }

    if (n == (ssize_t) len || (log->syslog && n == 0)) {
        ngx_http_compliance_audit_write_done(sh, buf);

        if (sh->failing) {
            ngx_log_error(NGX_LOG_NOTICE, elog, 0,
                          "compliance audit: writing to \"%V\" works again "
                          "after %uL lost records", &log->name, sh->lost);
        }

        sh->failing = 0;
        sh->lost = 0;

        ngx_http_compliance_audit_checkpoint(log, sh, 0, elog);

        return NGX_OK;
    }

    err = (n == -1) ? ngx_errno : 0;

    records = 0;

    for (p = buf; p < buf + len; p++) {
        if (*p == '\n') {
            records++;
        }
    }

    sh->lost += records - gap;
    sh->failing = 1;

    sh->seq = sh->base_seq;
    ngx_memcpy(sh->chain, sh->base_chain, COMPLIANCE_CHAIN_HEX_LEN);

    ngx_http_compliance_audit_write_done(sh, buf);

    if (now - sh->last_alert >= NGX_HTTP_COMPLIANCE_AUDIT_ALERT_S) {
        sh->last_alert = now;
        ngx_log_error(NGX_LOG_ERR, elog, err,
                      "compliance audit: cannot write to \"%V\", %uL "
                      "records lost so far", &log->name, sh->lost);
    }

    return NGX_ERROR;
}


/*
 * The head of the chain, sent to a second sink (error.log) so a verifier
 * can tell a truncated tail: at most once a second while records flow,
 * and always when the buffer is flushed by the timer, a reopen or exit.
 */
static void
ngx_http_compliance_audit_checkpoint(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_uint_t force, ngx_log_t *elog)
{
    time_t  now;

    if (log->chain == NULL || sh->seq == 0) {
        return;
    }

    now = ngx_time();

    if (!force && now - sh->last_checkpoint
                  < NGX_HTTP_COMPLIANCE_AUDIT_CKPT_S)
    {
        sh->checkpoint_pending = 1;
        return;
    }

    if (force && !sh->checkpoint_pending) {
        return;
    }

    sh->last_checkpoint = now;
    sh->checkpoint_pending = 0;

    ngx_http_compliance_audit_checkpoint_write(sh);
}


/*
 * A checkpoint is written to every error log of the main level whatever
 * its level: at Debian's default "error" a [notice] line would be
 * filtered out, and with it the detection of a cut tail.  The line has
 * the shape of nginx's own, [notice] included.
 */
static void
ngx_http_compliance_audit_checkpoint_write(ngx_http_compliance_audit_sh_t *sh)
{
    u_char     *p;
    u_char      line[NGX_MAX_ERROR_STR];
    ngx_log_t  *log;

    p = ngx_cpymem(line, ngx_cached_err_log_time.data,
                   ngx_cached_err_log_time.len);
    p = ngx_slprintf(p, line + sizeof(line) - 1,
                     " [notice] %P#0: compliance audit checkpoint seq=%uL "
                     "chain=%*s", ngx_log_pid, sh->seq,
                     (size_t) COMPLIANCE_CHAIN_HEX_LEN, sh->chain);
    *p++ = LF;

    for (log = ngx_cycle->log; log; log = log->next) {

        if (log->writer) {
            /* syslog, memory, or the module's redacting writer */
            log->writer(log, NGX_LOG_NOTICE, line, p - line);
            continue;
        }

        if (log->file && log->file->fd != NGX_INVALID_FILE) {
            (void) ngx_write_fd(log->file->fd, line, p - line);
        }
    }
}


static void
ngx_http_compliance_audit_file_flush(ngx_open_file_t *file, ngx_log_t *elog)
{
    ngx_http_compliance_audit_log_t  *log = file->data;

    if (log == NULL || log->sh == NULL) {
        return;
    }

    ngx_http_compliance_audit_lock(log, elog);
    ngx_http_compliance_audit_flush_locked(log, log->sh, elog);
    ngx_http_compliance_audit_checkpoint(log, log->sh, 1, elog);

    /*
     * nginx is about to reopen the file (USR1: the master first, then
     * each worker in its own time) or the process exits; see _follow()
     */
    log->sh->reopened = ngx_time();

    ngx_shmtx_unlock(&log->shpool->mutex);

    if (log->event && log->event->timer_set) {
        ngx_del_timer(log->event);
    }
}


static void
ngx_http_compliance_audit_lock(ngx_http_compliance_audit_log_t *log,
    ngx_log_t *elog)
{
    ngx_shmtx_lock(&log->shpool->mutex);

    if (log->sh->txn) {
        ngx_http_compliance_audit_recover(log, log->sh, elog);
    }
}


/*
 * The end of a write, in an order a death at any point can be repaired
 * from: the buffer is emptied, the undo point moves past what was
 * written, and only then the write leaves the journal.
 */
static void
ngx_http_compliance_audit_write_done(ngx_http_compliance_audit_sh_t *sh,
    u_char *buf)
{
    if (buf == sh->data) {
        sh->used = 0;
        sh->gap_buffered = 0;
    }

    ngx_http_compliance_audit_txn_mark(sh);

    sh->txn &= ~NGX_HTTP_COMPLIANCE_AUDIT_TXN_WRITE;
}


/* the state an interrupted append goes back to */
static void
ngx_http_compliance_audit_txn_mark(ngx_http_compliance_audit_sh_t *sh)
{
    sh->txn_seq = sh->seq;
    sh->txn_base_seq = sh->base_seq;
    sh->txn_lost = sh->lost;
    sh->txn_used = sh->used;
    sh->txn_gap_buffered = sh->gap_buffered;
    ngx_memcpy(sh->txn_chain, sh->chain, COMPLIANCE_CHAIN_HEX_LEN);
    ngx_memcpy(sh->txn_base_chain, sh->base_chain, COMPLIANCE_CHAIN_HEX_LEN);
}


static ngx_file_uniq_t
ngx_http_compliance_audit_file_id(ngx_fd_t fd)
{
    ngx_file_info_t  fi;

    return (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) ? 0 : ngx_file_uniq(&fi);
}


/*
 * The previous holder of the mutex died inside it (nginx's master freed
 * the mutex and logged it).  A write it was doing is cut back to where
 * it started: the buffer still holds those records and the next flush
 * writes them whole.  An append it was doing is undone: that one record,
 * of a request the dead process was finishing, is lost; seq and chain go
 * back so the trail still verifies.
 */
static void
ngx_http_compliance_audit_recover(ngx_http_compliance_audit_log_t *log,
    ngx_http_compliance_audit_sh_t *sh, ngx_log_t *elog)
{
    off_t       size;
    ngx_uint_t  written;

    written = 0;

    if ((sh->txn & NGX_HTTP_COMPLIANCE_AUDIT_TXN_WRITE) && log->file) {
        size = lseek(log->file->fd, 0, SEEK_END);

        if (ngx_http_compliance_audit_file_id(log->file->fd) != sh->txn_file)
        {
            ngx_log_error(NGX_LOG_ERR, elog, 0,
                          "compliance audit: process %P died writing to "
                          "a previous \"%V\"; check its tail",
                          sh->txn_pid, &log->name);

        } else if (size >= sh->txn_off + (off_t) sh->txn_wlen) {
            /* the write got through: only its bookkeeping was lost */
            written = 1;

            if (sh->txn_wbuf) {
                sh->used = 0;
                sh->gap_buffered = 0;
            }

        } else if (size > sh->txn_off) {
            if (ftruncate(log->file->fd, sh->txn_off) == -1) {
                ngx_log_error(NGX_LOG_ERR, elog, ngx_errno,
                              "compliance audit: cannot cut the partial "
                              "write of process %P from \"%V\"",
                              sh->txn_pid, &log->name);

            } else {
                ngx_log_error(NGX_LOG_WARN, elog, 0,
                              "compliance audit: process %P died writing "
                              "to \"%V\": its partial write of %O bytes "
                              "was cut off, the records are written again",
                              sh->txn_pid, &log->name, size - sh->txn_off);
            }
        }
    }

    /* an append whose record reached the file is not undone */
    if ((sh->txn & NGX_HTTP_COMPLIANCE_AUDIT_TXN_APPEND) && !written) {
        ngx_log_error(NGX_LOG_WARN, elog, 0,
                      "compliance audit: process %P died appending to "
                      "\"%V\": its record is lost, the chain goes on from "
                      "seq %uL", sh->txn_pid, &log->name, sh->txn_seq);

        sh->seq = sh->txn_seq;
        sh->base_seq = sh->txn_base_seq;
        sh->lost = sh->txn_lost;
        sh->used = sh->txn_used;
        sh->gap_buffered = sh->txn_gap_buffered;
        ngx_memcpy(sh->chain, sh->txn_chain, COMPLIANCE_CHAIN_HEX_LEN);
        ngx_memcpy(sh->base_chain, sh->txn_base_chain,
                   COMPLIANCE_CHAIN_HEX_LEN);
    }

    ngx_http_compliance_audit_txn_mark(sh);
    sh->txn = 0;
}


/*
 * After a rename and USR1, the workers reopen the file one by one: until
 * this one has, its descriptor still names the renamed file while others
 * already write the new one, and the chain would run on in two files.
 * Under the mutex, a writer whose descriptor is not the file the path
 * now names switches to it first (dup2() over nginx's descriptor, so
 * nginx's own reopen later finds everything in place).  While the path
 * does not exist yet (renamed, nobody reopened) the old file is right.
 */
static void
ngx_http_compliance_audit_follow(ngx_http_compliance_audit_log_t *log,
    ngx_log_t *elog)
{
    ngx_fd_t         fd;
    ngx_file_info_t  cur, path;

    if (ngx_fd_info(log->file->fd, &cur) == NGX_FILE_ERROR
        || ngx_file_info(log->file->name.data, &path) == NGX_FILE_ERROR)
    {
        return;
    }

    if (ngx_file_uniq(&cur) == ngx_file_uniq(&path)
        && cur.st_dev == path.st_dev)
    {
        return;
    }

    fd = ngx_open_file(log->file->name.data, NGX_FILE_APPEND, NGX_FILE_OPEN,
                       0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, elog, ngx_errno,
                      "compliance audit: cannot follow \"%V\" after a "
                      "reopen", &log->name);
        return;
    }

    if (dup2(fd, log->file->fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, elog, ngx_errno,
                      "compliance audit: cannot follow \"%V\" after a "
                      "reopen", &log->name);
    }

    (void) ngx_close_file(fd);
}


static void
ngx_http_compliance_audit_timer(ngx_event_t *ev)
{
    ngx_http_compliance_audit_log_t  *log = ev->data;

    ngx_http_compliance_audit_lock(log, ev->log);
    ngx_http_compliance_audit_flush_locked(log, log->sh, ev->log);
    ngx_http_compliance_audit_checkpoint(log, log->sh, 1, ev->log);
    ngx_shmtx_unlock(&log->shpool->mutex);
}
