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


static ngx_int_t ngx_http_compliance_audit_probe(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *name);
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
static size_t ngx_http_compliance_audit_str_bound(ngx_str_t *s);
static u_char *ngx_http_compliance_audit_str(u_char *p, ngx_str_t *s);
static u_char *ngx_http_compliance_audit_time(u_char *p, ngx_time_t *tp);
static u_char *ngx_http_compliance_audit_uint(u_char *p, uint64_t n);
static void ngx_http_compliance_audit_chain_cleanup(void *data);
static char *ngx_http_compliance_audit_params(ngx_conf_t *cf,
    ngx_command_t *cmd, ssize_t *size, ngx_msec_t *flush);
static ngx_http_compliance_audit_log_t *ngx_http_compliance_audit_create_log(
    ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *written, size_t size,
    ngx_msec_t flush, ngx_syslog_peer_t *peer);


/* the largest gap record: fixed text, a timestamp and two numbers */
#define NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN                                    \
    (sizeof("{\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"request_id\":null," \
            "\"event\":\"gap\",\"severity\":\"critical\",\"audit\":true,"  \
            "\"reason\":\"audit_write_failed\",\"lost_records\":,"         \
            "\"seq\":") + 2 * NGX_INT64_LEN + COMPLIANCE_CHAIN_SUFFIX_LEN + 2)


/* the worker's buffer a request record is built in (build()) */
#define NGX_HTTP_COMPLIANCE_AUDIT_SCRATCH  4096


/* a record's quoted timestamp */
#define NGX_HTTP_COMPLIANCE_AUDIT_TIME_LEN                                   \
    (sizeof("\"1970-01-01T00:00:00.000Z\"") - 1)


/* --- configuration */


/* buffer= and flush= of compliance_audit_log */
static char *
ngx_http_compliance_audit_params(ngx_conf_t *cf, ngx_command_t *cmd,
    ssize_t *size, ngx_msec_t *flush)
{
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    value = cf->args->elts;

    *size = 0;
    *flush = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "buffer", &s)) {
            *size = ngx_parse_size(&s);

            if (*size <= 0 || *size > 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid buffer size \"%V\" in \"%V\", "
                                   "it must be between 1 and 1m",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "flush", &s)) {
            *flush = ngx_parse_time(&s, 0);

            if (*flush == (ngx_msec_t) NGX_ERROR || *flush == 0) {
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

    if (*flush && *size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"flush\" needs \"buffer\" in \"%V\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ssize_t                           size;
    ngx_str_t                        *value, name;
    ngx_msec_t                        flush;
    ngx_syslog_peer_t                *peer;
    ngx_http_compliance_audit_log_t  *log;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->audit.log != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "has parameters after \"off\"";
        }

        clcf->audit.log = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_http_compliance_audit_params(cf, cmd, &size, &flush)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    peer = NULL;
    name = value[1];

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

        clcf->audit.log = log;
        return NGX_CONF_OK;
    }

    if (peer == NULL
        && ngx_http_compliance_audit_probe(cf, cmd, &name) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    log = ngx_http_compliance_audit_create_log(cf, &name, &value[1], size,
                                               flush, peer);
    if (log == NULL) {
        return NGX_CONF_ERROR;
    }

    cmf->audit = log;
    cmf->handler_needed = 1;
    clcf->audit.log = log;

    return NGX_CONF_OK;
}


/*
 * nginx opens the trail only once the whole configuration is read, and
 * its "open() failed" would not say which directive named the file: the
 * same process opens it first here, creating it as nginx would, so that
 * the error names the directive and its line.
 */
static ngx_int_t
ngx_http_compliance_audit_probe(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name)
{
    ngx_fd_t  fd;

    fd = ngx_open_file(name->data, NGX_FILE_APPEND, NGX_FILE_CREATE_OR_OPEN,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot open \"%V\"", &cmd->name, name);
        return NGX_ERROR;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", name);
    }

    return NGX_OK;
}


/*
 * The trail of the configuration: its file and its shared state.  name is
 * the target with the prefix applied (what the chain reader opens),
 * written the path as the directive gives it (what nginx opens).
 */
static ngx_http_compliance_audit_log_t *
ngx_http_compliance_audit_create_log(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *written, size_t size, ngx_msec_t flush,
    ngx_syslog_peer_t *peer)
{
    ngx_str_t                         zone;
    ngx_http_compliance_audit_log_t  *log;

    log = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_audit_log_t));
    if (log == NULL) {
        return NULL;
    }

    log->name = *name;
    log->size = size;
    log->flush = flush;
    log->syslog = peer;

    if (peer == NULL) {
        /*
         * as written: ngx_conf_open_file() prefixes it itself, and a
         * relative prefix (nginx -p demo/) would be prefixed twice
         */
        log->file = ngx_conf_open_file(cf->cycle, written);
        if (log->file == NULL) {
            return NULL;
        }

        /* nginx calls this before reopening (USR1) and at worker exit */
        log->file->flush = ngx_http_compliance_audit_file_flush;
        log->file->data = log;
    }

    ngx_str_set(&zone, "compliance_audit");

    log->zone = ngx_shared_memory_add(cf, &zone,
                                      8 * ngx_pagesize
                                      + NGX_HTTP_COMPLIANCE_AUDIT_BUFFER_MAX,
                                      &ngx_http_compliance_module);
    if (log->zone == NULL) {
        return NULL;
    }

    log->zone->init = ngx_http_compliance_audit_init_zone;
    log->zone->data = log;

    return log;
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

    u_char               key[COMPLIANCE_SECRET_LEN];
    ngx_str_t           *value;
    ngx_pool_cleanup_t  *cln;

    if (cmf->chain) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_compliance_conf_load_secret(cf, cmd, &value[1], key)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

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

    ngx_http_compliance_conf_pos_set(cf, &cmf->chain_pos);

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_sensitive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value;

    if (clcf->audit.sensitive.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid reason \"\" in \"%V\": a sensitive "
                           "location needs a reason", &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->audit.sensitive = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_audit_resource(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    if (clcf->audit.resource_type.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid resource type \"\" in \"%V\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf->audit.resource_type = value[1];

    if (cf->args->nelts == 3) {
        clcf->audit.resource_id = ngx_palloc(cf->pool,
                                         sizeof(ngx_http_complex_value_t));
        if (clcf->audit.resource_id == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = clcf->audit.resource_id;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


void
ngx_http_compliance_audit_create_conf(ngx_http_compliance_audit_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->sensitive = { 0, NULL };
     *     conf->resource_type = { 0, NULL };
     *     conf->resource_id = NULL;
     */

    conf->log = NGX_CONF_UNSET_PTR;
    conf->failure = NGX_CONF_UNSET_UINT;
}


char *
ngx_http_compliance_audit_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_audit_conf_t *prev,
    ngx_http_compliance_audit_conf_t *conf)
{
    ngx_conf_merge_ptr_value(conf->log, prev->log, NULL);
    ngx_conf_merge_uint_value(conf->failure, prev->failure,
                              NGX_HTTP_COMPLIANCE_AUDIT_OPEN);

    if (conf->sensitive.data == NULL) {
        conf->sensitive = prev->sensitive;
    }

    if (conf->resource_type.data == NULL) {
        conf->resource_type = prev->resource_type;
        conf->resource_id = prev->resource_id;
    }

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
            ngx_http_compliance_conf_error(NGX_LOG_WARN, cf, &cmf->chain_pos,
                                           "\"compliance_audit_chain\" is "
                                           "set but no "
                                           "\"compliance_audit_log\" is "
                                           "configured");
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

    if (clcf->audit.log == NULL) {
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

    } else if (ctx->invalid_request) {
        /* request validation (SPEC 11): 400, 413, 415, 422 */
        event = "invalid_request";
        severity = "notice";

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

    if (clcf->audit.sensitive.data) {
        severity = "high";
        audit = 1;
    }

    if (clcf->audit.resource_type.data
        && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)))
    {
        audit = 1;
    }

    rec = ngx_http_compliance_audit_build(r, ctx, clcf, event, severity,
                                          reason, audit, &len);
    if (rec == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_compliance_audit_append(clcf->audit.log, rec, len,
                                            r->connection->log);

    return NGX_OK;
}


void
ngx_http_compliance_audit_event(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, const char *event, const char *severity,
    const char *reason)
{
    ngx_http_compliance_audit_event_fields(r, ctx, event, severity, reason,
                                           NULL);
}


/*
 * A critical alert of a request with string members: pairs holds name,
 * value, name, value, ... and ends with a name whose data is NULL; every
 * value is JSON-escaped.
 */
void
ngx_http_compliance_audit_alert_strings(ngx_http_request_t *r,
    const char *reason, ngx_str_t *pairs)
{
    u_char                     *p;
    ngx_str_t                   fields, *kv;
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);
    if (ctx == NULL) {
        return;
    }

    fields.len = 0;

    for (kv = pairs; kv->data; kv += 2) {
        fields.len += sizeof("\"\":\"\",") - 1 + kv[0].len + kv[1].len
                      + ngx_escape_json(NULL, kv[1].data, kv[1].len);
    }

    fields.data = ngx_pnalloc(r->pool, fields.len);
    if (fields.data == NULL) {
        return;
    }

    p = fields.data;

    for (kv = pairs; kv->data; kv += 2) {
        *p++ = '"';
        p = ngx_cpymem(p, kv[0].data, kv[0].len);
        *p++ = '"';
        *p++ = ':';
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, kv[1].data, kv[1].len);
        *p++ = '"';
        *p++ = ',';
    }

    fields.len = p - fields.data;

    ngx_http_compliance_audit_event_fields(r, ctx, "alert", "critical",
                                           reason, &fields);
}


/*
 * An event record with members of the caller's after the common fields:
 * "fields" is JSON text, each member followed by a comma ("a":1,"b":"x",),
 * escaped by the caller.  The built record is left open after a comma,
 * so they go in just before the seal's "seq".  NULL: no extra members.
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

    if (clcf->audit.log == NULL) {
        return;
    }

    rec = ngx_http_compliance_audit_build(r, ctx, clcf, event, severity,
                                          reason, 1, &len);
    if (rec == NULL) {
        return;
    }

    if (fields == NULL) {
        (void) ngx_http_compliance_audit_append(clcf->audit.log, rec, len,
                                                r->connection->log);
        return;
    }

    p = ngx_pnalloc(r->pool, len + fields->len);
    if (p == NULL) {
        return;
    }

    ngx_memcpy(p, rec, len);
    ngx_memcpy(p + len, fields->data, fields->len);

    (void) ngx_http_compliance_audit_append(clcf->audit.log, p,
                                            len + fields->len,
                                            r->connection->log);
}


/*
 * An alert of the node rather than of a request (the run-time checks of
 * ngx_http_compliance_daily.c): no request, so the request's members are
 * left out, as on gap records; "fields" as in _audit_event_fields().
 */
ngx_int_t
ngx_http_compliance_audit_alert(ngx_http_compliance_audit_log_t *log,
    const char *severity, const char *reason, ngx_str_t *fields,
    ngx_log_t *elog)
{
    u_char     *rec, *p;
    size_t      len;
    ngx_int_t   rc;

    static const char  head[] = ",\"request_id\":null,\"event\":\"alert\","
                                "\"severity\":\"\",\"audit\":true,"
                                "\"reason\":\"\",";

    if (log == NULL || log->sh == NULL) {
        return NGX_DECLINED;
    }

    len = sizeof("{\"timestamp\":") - 1 + NGX_HTTP_COMPLIANCE_AUDIT_TIME_LEN
          + sizeof(head) - 1 + ngx_strlen(severity) + ngx_strlen(reason)
          + fields->len;

    rec = ngx_alloc(len, elog);
    if (rec == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(rec, "{\"timestamp\":", sizeof("{\"timestamp\":") - 1);
    p = ngx_http_compliance_audit_time(p, ngx_timeofday());
    p = ngx_sprintf(p, ",\"request_id\":null,\"event\":\"alert\","
                    "\"severity\":\"%s\",\"audit\":true,\"reason\":\"%s\",",
                    severity, reason);
    p = ngx_cpymem(p, fields->data, fields->len);

    rc = ngx_http_compliance_audit_append(log, rec, p - rec, elog);

    ngx_free(rec);

    return rc;
}


/* "closed": no request is served while the trail cannot be written */
ngx_int_t
ngx_http_compliance_audit_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    if (clcf->audit.log == NULL
        || clcf->audit.failure != NGX_HTTP_COMPLIANCE_AUDIT_CLOSED
        || clcf->audit.log->sh == NULL
        || !clcf->audit.log->sh->failing)
    {
        return NGX_DECLINED;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "audit_unavailable");
}


/*
 * The request record, described once.  A record is gathered first (the
 * values that need work or can fail: the redacted path, the resource id,
 * the TLS names), then the field table below is walked twice, for a
 * bound of the length (no scan of the values) and for the writing, as
 * nginx's log module walks its ops.  A new field is one row and one
 * getter.
 */

typedef struct {
    ngx_http_request_t              *r;
    ngx_http_compliance_ctx_t       *ctx;
    ngx_time_t                      *tp;
    ngx_str_t                        event;
    ngx_str_t                        severity;
    ngx_str_t                        reason;        /* .data NULL: none */
    ngx_str_t                        request_id;
    ngx_str_t                        path;          /* redacted */
    ngx_str_t                       *resource_type;
    ngx_str_t                        resource_id;   /* .data NULL: none */
    ngx_str_t                        tls_protocol;  /* .data NULL: no TLS */
    ngx_str_t                        tls_cipher;
    ngx_uint_t                       status;
    ngx_msec_t                       ms;
    ngx_uint_t                       audit;
    ngx_uint_t                       deprecated;
    ngx_uint_t                       redact_response;  /* masked location */
} ngx_http_compliance_audit_rec_t;


/* a string member's value; NULL writes null (or leaves the member out) */
typedef ngx_str_t *(*ngx_http_compliance_audit_value_pt)(
    ngx_http_compliance_audit_rec_t *rec);

/* a member written as is: the most it writes (0: left out), the writer */
typedef size_t (*ngx_http_compliance_audit_len_pt)(
    ngx_http_compliance_audit_rec_t *rec);
typedef u_char *(*ngx_http_compliance_audit_write_pt)(u_char *p,
    ngx_http_compliance_audit_rec_t *rec);


typedef struct {
    ngx_str_t                            name;   /* ,"name": */
    ngx_uint_t                           flags;
    ngx_http_compliance_audit_value_pt   value;  /* a string member, or */
    ngx_http_compliance_audit_len_pt     len;    /* a raw one */
    ngx_http_compliance_audit_write_pt   write;
} ngx_http_compliance_audit_field_t;


/* the member is left out of the record when it has no value */
#define NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL  0x01

#define ngx_http_compliance_member(name)  ngx_string(",\"" name "\":")


static ngx_str_t *
ngx_http_compliance_audit_v_request_id(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->request_id;
}


static ngx_str_t *
ngx_http_compliance_audit_v_event(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->event;
}


static ngx_str_t *
ngx_http_compliance_audit_v_severity(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->severity;
}


static ngx_str_t *
ngx_http_compliance_audit_v_user(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->authenticated ? &rec->ctx->principal : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_org(ngx_http_compliance_audit_rec_t *rec)
{
    return (rec->ctx->authenticated && rec->ctx->org.len) ? &rec->ctx->org
                                                          : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_auth_method(ngx_http_compliance_audit_rec_t *rec)
{
    return &ngx_http_compliance_auth_names[rec->ctx->auth_method];
}


static ngx_str_t *
ngx_http_compliance_audit_v_key_id(ngx_http_compliance_audit_rec_t *rec)
{
    return (rec->ctx->authenticated && rec->ctx->key_id.len)
           ? &rec->ctx->key_id : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_client_ip(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->r->connection->addr_text;
}


static ngx_str_t *
ngx_http_compliance_audit_v_method(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->r->method_name;
}


static ngx_str_t *
ngx_http_compliance_audit_v_path(ngx_http_compliance_audit_rec_t *rec)
{
    return &rec->path;
}


static ngx_str_t *
ngx_http_compliance_audit_v_reason(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->reason.data ? &rec->reason : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_resource_type(
    ngx_http_compliance_audit_rec_t *rec)
{
    return rec->resource_type;
}


static ngx_str_t *
ngx_http_compliance_audit_v_resource_id(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->resource_id.data ? &rec->resource_id : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_public_reason(
    ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->public_reason.data ? &rec->ctx->public_reason : NULL;
}


static ngx_str_t *
ngx_http_compliance_audit_v_credential_id(
    ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->credential_id.len ? &rec->ctx->credential_id : NULL;
}


/* which entry of compliance_jwt_revocation refused the token */
static ngx_str_t *
ngx_http_compliance_audit_v_revoked_by(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->revoked_by.len ? &rec->ctx->revoked_by : NULL;
}


/* the token's RFC 8176 methods, where compliance_require_mfa applies */
static ngx_str_t *
ngx_http_compliance_audit_v_amr(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->amr.len ? &rec->ctx->amr : NULL;
}


static size_t
ngx_http_compliance_audit_l_timestamp(ngx_http_compliance_audit_rec_t *rec)
{
    return NGX_HTTP_COMPLIANCE_AUDIT_TIME_LEN;
}


static u_char *
ngx_http_compliance_audit_w_timestamp(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return ngx_http_compliance_audit_time(p, rec->tp);
}


static size_t
ngx_http_compliance_audit_l_audit(ngx_http_compliance_audit_rec_t *rec)
{
    return sizeof("false") - 1;
}


static u_char *
ngx_http_compliance_audit_w_audit(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return rec->audit ? ngx_cpymem(p, "true", 4) : ngx_cpymem(p, "false", 5);
}


static size_t
ngx_http_compliance_audit_l_number(ngx_http_compliance_audit_rec_t *rec)
{
    return NGX_OFF_T_LEN;
}


static u_char *
ngx_http_compliance_audit_w_status(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return ngx_http_compliance_audit_uint(p, rec->status);
}


static size_t
ngx_http_compliance_audit_l_time(ngx_http_compliance_audit_rec_t *rec)
{
    return NGX_INT_T_LEN + sizeof(".000") - 1;
}


/* milliseconds, as nginx's own clock counts them ($request_time) */
static u_char *
ngx_http_compliance_audit_w_time(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    p = ngx_http_compliance_audit_uint(p, rec->ms);

    return ngx_cpymem(p, ".000", sizeof(".000") - 1);
}


static u_char *
ngx_http_compliance_audit_w_bytes_sent(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    off_t  sent;

    sent = rec->r->connection->sent;

    if (sent < 0) {
        return ngx_sprintf(p, "%O", sent);
    }

    return ngx_http_compliance_audit_uint(p, (uint64_t) sent);
}


/* only in records of a refusal by request validation */
static size_t
ngx_http_compliance_audit_l_validation(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->ctx->invalid_request ? NGX_INT_T_LEN : 0;
}


static u_char *
ngx_http_compliance_audit_w_validation(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return ngx_sprintf(p, "%ui", rec->ctx->validation_errors);
}


/* only in records of a deprecated location */
static size_t
ngx_http_compliance_audit_l_deprecated(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->deprecated ? sizeof("true") - 1 : 0;
}


static u_char *
ngx_http_compliance_audit_w_deprecated(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return ngx_cpymem(p, "true", sizeof("true") - 1);
}


/* only in records of a location with compliance_redact_response */
static size_t
ngx_http_compliance_audit_l_redacted(ngx_http_compliance_audit_rec_t *rec)
{
    return rec->redact_response ? NGX_INT_T_LEN : 0;
}


static u_char *
ngx_http_compliance_audit_w_redacted(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    return ngx_sprintf(p, "%ui", rec->ctx->redacted_in_response);
}


static size_t
ngx_http_compliance_audit_l_tls(ngx_http_compliance_audit_rec_t *rec)
{
    if (rec->tls_protocol.data == NULL) {
        return 0;
    }

    return sizeof("{\"protocol\":,\"cipher\":}") - 1
           + ngx_http_compliance_audit_str_bound(&rec->tls_protocol)
           + ngx_http_compliance_audit_str_bound(&rec->tls_cipher);
}


static u_char *
ngx_http_compliance_audit_w_tls(u_char *p,
    ngx_http_compliance_audit_rec_t *rec)
{
    p = ngx_cpymem(p, "{\"protocol\":", sizeof("{\"protocol\":") - 1);
    p = ngx_http_compliance_audit_str(p, &rec->tls_protocol);
    p = ngx_cpymem(p, ",\"cipher\":", sizeof(",\"cipher\":") - 1);
    p = ngx_http_compliance_audit_str(p, &rec->tls_cipher);
    *p++ = '}';

    return p;
}


/*
 * The record's members in order (docs/audit.md documents each).  A raw
 * member whose len is 0 is left out; "seq" and "chain" are the seal's.
 */
static ngx_http_compliance_audit_field_t  ngx_http_compliance_audit_fields[] =
{
    { ngx_string("{\"timestamp\":"), 0, NULL,
      ngx_http_compliance_audit_l_timestamp,
      ngx_http_compliance_audit_w_timestamp },

    { ngx_http_compliance_member("request_id"), 0,
      ngx_http_compliance_audit_v_request_id, NULL, NULL },

    { ngx_http_compliance_member("event"), 0,
      ngx_http_compliance_audit_v_event, NULL, NULL },

    { ngx_http_compliance_member("severity"), 0,
      ngx_http_compliance_audit_v_severity, NULL, NULL },

    { ngx_http_compliance_member("audit"), 0, NULL,
      ngx_http_compliance_audit_l_audit,
      ngx_http_compliance_audit_w_audit },

    { ngx_http_compliance_member("user_id"), 0,
      ngx_http_compliance_audit_v_user, NULL, NULL },

    { ngx_http_compliance_member("organisation_id"), 0,
      ngx_http_compliance_audit_v_org, NULL, NULL },

    { ngx_http_compliance_member("auth_method"), 0,
      ngx_http_compliance_audit_v_auth_method, NULL, NULL },

    { ngx_http_compliance_member("key_id"), 0,
      ngx_http_compliance_audit_v_key_id, NULL, NULL },

    { ngx_http_compliance_member("client_ip"), 0,
      ngx_http_compliance_audit_v_client_ip, NULL, NULL },

    { ngx_http_compliance_member("method"), 0,
      ngx_http_compliance_audit_v_method, NULL, NULL },

    { ngx_http_compliance_member("path"), 0,
      ngx_http_compliance_audit_v_path, NULL, NULL },

    { ngx_http_compliance_member("status"), 0, NULL,
      ngx_http_compliance_audit_l_number,
      ngx_http_compliance_audit_w_status },

    { ngx_http_compliance_member("response_time_ms"), 0, NULL,
      ngx_http_compliance_audit_l_time,
      ngx_http_compliance_audit_w_time },

    { ngx_http_compliance_member("bytes_sent"), 0, NULL,
      ngx_http_compliance_audit_l_number,
      ngx_http_compliance_audit_w_bytes_sent },

    { ngx_http_compliance_member("reason"), 0,
      ngx_http_compliance_audit_v_reason, NULL, NULL },

    /* resource_id is written (maybe null) whenever resource_type is */
    { ngx_http_compliance_member("resource_type"),
      NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL,
      ngx_http_compliance_audit_v_resource_type, NULL, NULL },

    { ngx_http_compliance_member("resource_id"), 0,
      ngx_http_compliance_audit_v_resource_id, NULL, NULL },

    { ngx_http_compliance_member("public_reason"),
      NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL,
      ngx_http_compliance_audit_v_public_reason, NULL, NULL },

    { ngx_http_compliance_member("credential_id"),
      NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL,
      ngx_http_compliance_audit_v_credential_id, NULL, NULL },

    { ngx_http_compliance_member("validation_errors"), 0, NULL,
      ngx_http_compliance_audit_l_validation,
      ngx_http_compliance_audit_w_validation },
    { ngx_http_compliance_member("revoked_by"),
      NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL,
      ngx_http_compliance_audit_v_revoked_by, NULL, NULL },

    { ngx_http_compliance_member("amr"),
      NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL,
      ngx_http_compliance_audit_v_amr, NULL, NULL },

    { ngx_http_compliance_member("deprecated"), 0, NULL,
      ngx_http_compliance_audit_l_deprecated,
      ngx_http_compliance_audit_w_deprecated },

    { ngx_http_compliance_member("redacted_in_response"), 0, NULL,
      ngx_http_compliance_audit_l_redacted,
      ngx_http_compliance_audit_w_redacted },

    { ngx_http_compliance_member("tls"), 0, NULL,
      ngx_http_compliance_audit_l_tls,
      ngx_http_compliance_audit_w_tls }
};

#define NGX_HTTP_COMPLIANCE_AUDIT_NFIELDS                                    \
    (sizeof(ngx_http_compliance_audit_fields)                                \
     / sizeof(ngx_http_compliance_audit_field_t))


/*
 * The most compliance_json_escape() writes for one byte: \u00XX for a
 * control character, \ufffd for a byte of no valid UTF-8 sequence.
 */
#define NGX_HTTP_COMPLIANCE_AUDIT_ESCAPE_MAX  6


/* the most a string member's value takes, quoted and escaped, or null */
static size_t
ngx_http_compliance_audit_str_bound(ngx_str_t *s)
{
    if (s == NULL || s->data == NULL) {
        return sizeof("null") - 1;
    }

    return 2 + NGX_HTTP_COMPLIANCE_AUDIT_ESCAPE_MAX * s->len;
}


/* writes "escaped", or null */
static u_char *
ngx_http_compliance_audit_str(u_char *p, ngx_str_t *s)
{
    if (s == NULL || s->data == NULL) {
        return ngx_cpymem(p, "null", 4);
    }

    *p++ = '"';
    p = compliance_json_escape(p, s->data, s->len);
    *p++ = '"';

    return p;
}


/*
 * "1970-01-01T00:00:00.000Z", quoted: every record's timestamp.  The
 * text up to the milliseconds changes once a second: it is formatted
 * then and kept (a worker has one thread).
 */
static u_char *
ngx_http_compliance_audit_time(u_char *p, ngx_time_t *tp)
{
    ngx_tm_t     tm;
    ngx_uint_t   ms;

    static time_t  sec = -1;
    static u_char  head[sizeof("\"1970-01-01T00:00:00.") - 1];

    if (tp->sec != sec) {
        ngx_gmtime(tp->sec, &tm);

        (void) ngx_sprintf(head, "\"%4d-%02d-%02dT%02d:%02d:%02d.",
                           tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                           tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
        sec = tp->sec;
    }

    p = ngx_cpymem(p, head, sizeof(head));

    ms = tp->msec % 1000;
    *p++ = (u_char) ('0' + ms / 100);
    *p++ = (u_char) ('0' + ms / 10 % 10);
    *p++ = (u_char) ('0' + ms % 10);
    *p++ = 'Z';
    *p++ = '"';

    return p;
}


/* n in decimal, as ngx_sprintf's %uL writes it */
static u_char *
ngx_http_compliance_audit_uint(u_char *p, uint64_t n)
{
    u_char   digits[NGX_INT64_LEN], *d;
    size_t   len;

    d = digits + sizeof(digits);

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    len = digits + sizeof(digits) - d;

    return ngx_cpymem(p, d, len);
}


/* the values that take work or can fail, before the table is walked */
static ngx_int_t
ngx_http_compliance_audit_gather(ngx_http_compliance_audit_rec_t *rec,
    ngx_http_compliance_loc_conf_t *clcf)
{
    u_char              *q;
    ngx_str_t            path;
    ngx_msec_int_t       ms;
    ngx_http_request_t  *r;

    r = rec->r;
    rec->tp = ngx_timeofday();

    rec->status = r->err_status ? r->err_status : r->headers_out.status;

    ms = (ngx_msec_int_t) ((rec->tp->sec - r->start_sec) * 1000
                           + (rec->tp->msec - r->start_msec));
    rec->ms = (ngx_msec_t) ngx_max(ms, 0);

    rec->request_id.data = rec->ctx->request_id;
    rec->request_id.len = NGX_HTTP_COMPLIANCE_REQID_LEN;

    /* the path as the client sent it, without the query, redacted */
    path = r->unparsed_uri;

    if (path.data) {
        q = ngx_strlchr(path.data, path.data + path.len, '?');
        if (q) {
            path.len = q - path.data;
        }
    }

    if (ngx_http_compliance_redact_str(r, clcf->redact.redactor, &path,
                                       &rec->path)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec->deprecated = (clcf->deprecation.deprecation.len != 0);
    rec->redact_response = (clcf->redact_response.mask != 0);

    rec->resource_type = clcf->audit.resource_type.data
                         ? &clcf->audit.resource_type : NULL;

    if (rec->resource_type && clcf->audit.resource_id) {
        if (ngx_http_complex_value(r, clcf->audit.resource_id,
                                   &rec->resource_id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* it comes from the request: the same detectors apply */
        if (ngx_http_compliance_redact_str(r, clcf->redact.redactor,
                                           &rec->resource_id,
                                           &rec->resource_id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        rec->tls_protocol.data = (u_char *) SSL_get_version(
                                           r->connection->ssl->connection);
        rec->tls_protocol.len = ngx_strlen(rec->tls_protocol.data);
        rec->tls_cipher.data = (u_char *) SSL_get_cipher_name(
                                           r->connection->ssl->connection);
        rec->tls_cipher.len = rec->tls_cipher.data
                              ? ngx_strlen(rec->tls_cipher.data) : 0;
    }
#endif

    return NGX_OK;
}


/*
 * The most a member takes (each string's escaped form bounded by
 * ESCAPE_MAX bytes a byte, without reading the text), 0 when it is left
 * out; *vp is a string member's value.
 */
static ngx_inline size_t
ngx_http_compliance_audit_member(ngx_http_compliance_audit_rec_t *rec,
    ngx_http_compliance_audit_field_t *f, ngx_str_t **vp)
{
    if (f->value == NULL) {
        return f->len(rec);
    }

    *vp = f->value(rec);

    if (*vp == NULL && (f->flags & NGX_HTTP_COMPLIANCE_AUDIT_OPTIONAL)) {
        return 0;
    }

    return ngx_http_compliance_audit_str_bound(*vp);
}


/* the most the members take */
static size_t
ngx_http_compliance_audit_bound(ngx_http_compliance_audit_rec_t *rec)
{
    size_t                              len, n;
    ngx_str_t                          *v;
    ngx_uint_t                          i;
    ngx_http_compliance_audit_field_t  *f;

    f = ngx_http_compliance_audit_fields;
    len = 0;
    v = NULL;

    for (i = 0; i < NGX_HTTP_COMPLIANCE_AUDIT_NFIELDS; i++) {
        n = ngx_http_compliance_audit_member(rec, &f[i], &v);

        if (n) {
            len += f[i].name.len + n;
        }
    }

    return len;
}


/* writes the members to p (room for the bound); returns the end */
static u_char *
ngx_http_compliance_audit_write(ngx_http_compliance_audit_rec_t *rec,
    u_char *p)
{
    ngx_str_t                          *v;
    ngx_uint_t                          i;
    ngx_http_compliance_audit_field_t  *f;

    f = ngx_http_compliance_audit_fields;
    v = NULL;

    for (i = 0; i < NGX_HTTP_COMPLIANCE_AUDIT_NFIELDS; i++) {

        if (ngx_http_compliance_audit_member(rec, &f[i], &v) == 0) {
            continue;
        }

        p = ngx_cpymem(p, f[i].name.data, f[i].name.len);
        p = f[i].value ? ngx_http_compliance_audit_str(p, v)
                       : f[i].write(p, rec);
    }

    return p;
}


/*
 * Builds one record without seq/chain, left open ("...,") for the seal
 * to finish.  The field table is walked for a bound of the length (no
 * scan of the values), then once for the writing, into a buffer of the
 * worker that the next record reuses (the caller appends or copies the
 * record before it builds another) or, for a record larger than that,
 * into r->pool.
 */
static u_char *
ngx_http_compliance_audit_build(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_loc_conf_t *clcf,
    const char *event, const char *severity, const char *reason,
    ngx_uint_t audit, size_t *lenp)
{
    u_char                           *rec, *p;
    size_t                            len;
    ngx_http_compliance_audit_rec_t   rc;

    static u_char  scratch[NGX_HTTP_COMPLIANCE_AUDIT_SCRATCH];

    ngx_memzero(&rc, sizeof(ngx_http_compliance_audit_rec_t));

    rc.r = r;
    rc.ctx = ctx;
    rc.audit = audit;
    rc.event.data = (u_char *) event;
    rc.event.len = ngx_strlen(event);
    rc.severity.data = (u_char *) severity;
    rc.severity.len = ngx_strlen(severity);

    if (reason) {
        rc.reason.data = (u_char *) reason;
        rc.reason.len = ngx_strlen(reason);
    }

    if (ngx_http_compliance_audit_gather(&rc, clcf) != NGX_OK) {
        return NULL;
    }

    /* one byte for the ',' left open */
    len = ngx_http_compliance_audit_bound(&rc) + 1;

    if (len <= sizeof(scratch)) {
        rec = scratch;

    } else {
        rec = ngx_pnalloc(r->pool, len);
        if (rec == NULL) {
            return NULL;
        }
    }

    p = ngx_http_compliance_audit_write(&rc, rec);

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
    p = ngx_cpymem(p, "\"seq\":", sizeof("\"seq\":") - 1);
    p = ngx_http_compliance_audit_uint(p, sh->seq);

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
    u_char  rec[NGX_HTTP_COMPLIANCE_AUDIT_GAP_LEN], *p;

    p = ngx_cpymem(rec, "{\"timestamp\":", sizeof("{\"timestamp\":") - 1);
    p = ngx_http_compliance_audit_time(p, ngx_timeofday());
    p = ngx_sprintf(p, ",\"request_id\":null,\"event\":\"gap\","
                    "\"severity\":\"critical\",\"audit\":true,"
                    "\"reason\":\"audit_write_failed\",\"lost_records\":%uL,",
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
        ngx_http_compliance_status_count(NULL,
                                         NGX_HTTP_COMPLIANCE_STATUS_AUDIT_LOST);
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

    err = (n == -1) ? ngx_errno : 0;

    /* whole records: one per newline (memchr: this runs on every write) */
    records = 0;
    last = buf + len;

    for (p = buf; p < last; p++) {
        p = memchr(p, '\n', last - p);
        if (p == NULL) {
            break;
        }

        records++;
    }

    if (n == (ssize_t) len || (log->syslog && n == 0)) {
        ngx_http_compliance_audit_write_done(sh, buf);

        ngx_http_compliance_status_add(NULL,
                                      NGX_HTTP_COMPLIANCE_STATUS_AUDIT_RECORDS,
                                      records);

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

    sh->lost += records - gap;
    ngx_http_compliance_status_add(NULL, NGX_HTTP_COMPLIANCE_STATUS_AUDIT_LOST,
                                   records - gap);
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
        ngx_http_compliance_status_count(NULL,
                                         NGX_HTTP_COMPLIANCE_STATUS_AUDIT_LOST);
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
