/*
 * The run-time checks (SPEC 13 and 16): once per check interval (a day
 * by default) the node looks at the server certificates loaded at config
 * time and at the ages of the vault's entries, and writes an "alert"
 * record to the audit trail (and a line to error.log) for each one that
 * needs attention.  The checks at config load (posture) say the same
 * once, when nobody may be reading; these say it every day until fixed.
 *
 * Once for the node, not once per worker or per reload: every worker
 * arms a timer, and the first to find the interval elapsed in a small
 * shared zone records the run there and does it.  The zone survives
 * reloads (same name and size), so a reload does not run the checks
 * again; a restart does, shortly after the workers start.
 */

#include <openssl/x509.h>

#include "ngx_http_compliance_module.h"

#if (NGX_HTTP_SSL)
#include <ngx_http_ssl_module.h>
#endif


#define NGX_HTTP_COMPLIANCE_DAILY_MAGIC     0x43444159   /* "CDAY" */
#define NGX_HTTP_COMPLIANCE_DAILY_LAYOUT    1

/* compliance_check_interval's default: the "daily" of the SPEC */
#define NGX_HTTP_COMPLIANCE_DAILY_INTERVAL  86400

/* the first run, after a worker starts: the others are up by then */
#define NGX_HTTP_COMPLIANCE_DAILY_FIRST     1000

/* a timer never sleeps longer: a clock set back is noticed within it */
#define NGX_HTTP_COMPLIANCE_DAILY_MAX_SLEEP  3600


struct ngx_http_compliance_daily_sh_s {
    uint32_t                          magic;
    uint32_t                          layout;
    time_t                            last;     /* the last run, or 0 */
    uint64_t                          runs;
};


static ngx_int_t ngx_http_compliance_daily_certs(ngx_conf_t *cf,
    ngx_http_compliance_main_conf_t *cmf);
static ngx_int_t ngx_http_compliance_daily_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static void ngx_http_compliance_daily_timer(ngx_event_t *ev);
static void ngx_http_compliance_daily_run(
    ngx_http_compliance_main_conf_t *cmf, time_t now, ngx_log_t *log);
static void ngx_http_compliance_daily_cert(
    ngx_http_compliance_main_conf_t *cmf, ngx_http_compliance_cert_t *c,
    time_t now, ngx_pool_t *pool, ngx_log_t *log);
static void ngx_http_compliance_daily_credential(
    ngx_http_compliance_main_conf_t *cmf, const compliance_vault_entry_t *e,
    time_t now, ngx_pool_t *pool, ngx_log_t *log);
static void ngx_http_compliance_daily_alert(
    ngx_http_compliance_main_conf_t *cmf, const char *severity,
    const char *reason, ngx_str_t *fields, ngx_log_t *log);
static ngx_str_t *ngx_http_compliance_daily_json(ngx_pool_t *pool,
    const u_char *p, size_t len);
static u_char *ngx_http_compliance_daily_time(u_char *p, time_t t);


static ngx_str_t  ngx_http_compliance_daily_zone_name =
    ngx_string("compliance_daily_checks");


/* --- configuration */


/* compliance_check_interval time | off */
char *
ngx_http_compliance_check_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_main_conf_t  *cmf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (cmf->daily.interval != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        cmf->daily.interval = 0;
        return NGX_CONF_OK;
    }

    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", it must be a "
                           "time of at least 1s, such as \"1d\", or \"off\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    cmf->daily.interval = t;

    return NGX_CONF_OK;
}


/*
 * At postconfiguration, before the posture check: the certificate list
 * (which the posture check reads too), and the shared zone when there is
 * something to check at run time.
 */
ngx_int_t
ngx_http_compliance_daily_init(ngx_conf_t *cf)
{
    ngx_shm_zone_t                   *zone;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->daily.interval == NGX_CONF_UNSET) {
        cmf->daily.interval = NGX_HTTP_COMPLIANCE_DAILY_INTERVAL;
    }

    if (ngx_http_compliance_daily_certs(cf, cmf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cmf->daily.interval == 0 || !ngx_http_compliance_posture_used(cmf)) {
        return NGX_OK;
    }

    if ((cmf->daily.certs == NULL || cmf->daily.certs->nelts == 0)
        && (cmf->vault.vault == NULL || cmf->vault.max_age == 0))
    {
        return NGX_OK;
    }

    zone = ngx_shared_memory_add(cf, &ngx_http_compliance_daily_zone_name,
                                 8 * ngx_pagesize,
                                 &ngx_http_compliance_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_compliance_daily_init_zone;
    zone->data = &cmf->daily;

    cmf->daily.zone = zone;

    return NGX_OK;
}


/* every certificate of every server, read once from its SSL_CTX */
static ngx_int_t
ngx_http_compliance_daily_certs(ngx_conf_t *cf,
    ngx_http_compliance_main_conf_t *cmf)
{
#if (NGX_HTTP_SSL)
    int                          rc;
    char                         subject[256];
    size_t                       len;
    X509                        *x509;
    SSL_CTX                     *ctx;
    struct tm                    tm;
    ngx_uint_t                   s, i, tls, plain;
    const ASN1_TIME             *end;
    ngx_http_ssl_srv_conf_t     *sscf;
    ngx_http_compliance_cert_t  *c, *all;
    ngx_http_core_srv_conf_t   **servers;
    ngx_http_core_main_conf_t   *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    servers = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {
        sscf = servers[s]->ctx->srv_conf[ngx_http_ssl_module.ctx_index];
        ctx = sscf->ssl.ctx;

        if (ctx == NULL) {
            continue;
        }

        /* an inherited ssl_certificate in a plain server is never served */
        ngx_http_compliance_posture_listens(cf, servers[s], &tls, &plain);

        if (!tls) {
            continue;
        }

        for (rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
             rc == 1;
             rc = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT))
        {
            x509 = SSL_CTX_get0_certificate(ctx);
            if (x509 == NULL) {
                continue;
            }

            end = X509_get0_notAfter(x509);

            if (end == NULL || !ASN1_TIME_to_tm(end, &tm)) {
                continue;
            }

            if (cmf->daily.certs == NULL) {
                cmf->daily.certs = ngx_array_create(cf->pool, 4,
                                           sizeof(ngx_http_compliance_cert_t));
                if (cmf->daily.certs == NULL) {
                    return NGX_ERROR;
                }
            }

            c = ngx_array_push(cmf->daily.certs);
            if (c == NULL) {
                return NGX_ERROR;
            }

            if (X509_NAME_oneline(X509_get_subject_name(x509), subject,
                                  sizeof(subject))
                == NULL)
            {
                ngx_cpystrn((u_char *) subject, (u_char *) "?",
                            sizeof(subject));
            }

            len = ngx_strlen(subject);

            c->subject = ngx_pnalloc(cf->pool, len + 1);
            if (c->subject == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(c->subject, subject, len + 1);
            c->server = servers[s];
            c->expires = timegm(&tm);
            c->x509 = x509;
            c->repeated = 0;

            /* each server loads its own copy of a shared certificate */
            all = cmf->daily.certs->elts;

            for (i = 0; i + 1 < cmf->daily.certs->nelts; i++) {
                if (X509_cmp(all[i].x509, x509) == 0) {
                    c->repeated = 1;
                    break;
                }
            }
        }

        /* leave the first certificate current, as nginx found it */
        (void) SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
    }
#endif

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_daily_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_daily_main_conf_t  *odaily = data;

    ngx_slab_pool_t                        *shpool;
    ngx_http_compliance_daily_sh_t         *sh;
    ngx_http_compliance_daily_main_conf_t  *daily;

    daily = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    daily->shpool = shpool;

    /* a reload: the last run goes on, so the checks are not repeated */
    if (odaily && odaily->sh
        && odaily->sh->magic == NGX_HTTP_COMPLIANCE_DAILY_MAGIC
        && odaily->sh->layout == NGX_HTTP_COMPLIANCE_DAILY_LAYOUT)
    {
        daily->sh = odaily->sh;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        sh = shpool->data;

        if (sh && sh->magic == NGX_HTTP_COMPLIANCE_DAILY_MAGIC
            && sh->layout == NGX_HTTP_COMPLIANCE_DAILY_LAYOUT)
        {
            daily->sh = sh;
            return NGX_OK;
        }
    }

    /* new, or of another layout: start fresh */
    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_daily_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_daily_sh_t));
    sh->magic = NGX_HTTP_COMPLIANCE_DAILY_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_DAILY_LAYOUT;

    shpool->data = sh;
    daily->sh = sh;

    return NGX_OK;
}


/* --- at run time */


ngx_int_t
ngx_http_compliance_daily_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t                      *ev;
    ngx_http_compliance_main_conf_t  *cmf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_compliance_module);

    if (cmf == NULL || cmf->daily.zone == NULL || cmf->daily.sh == NULL) {
        return NGX_OK;
    }

    ev = ngx_pcalloc(cycle->pool, sizeof(ngx_event_t));
    if (ev == NULL) {
        return NGX_ERROR;
    }

    ev->handler = ngx_http_compliance_daily_timer;
    ev->data = cmf;
    ev->log = cycle->log;

    /* never keeps a worker that is shutting down */
    ev->cancelable = 1;

    cmf->daily.event = ev;

    ngx_add_timer(ev, NGX_HTTP_COMPLIANCE_DAILY_FIRST);

    return NGX_OK;
}


static void
ngx_http_compliance_daily_timer(ngx_event_t *ev)
{
    time_t                            now, next;
    ngx_uint_t                        due;
    ngx_http_compliance_daily_sh_t   *sh;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ev->data;

    /* a worker of an older configuration leaves it to the new ones */
    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    now = ngx_time();
    sh = cmf->daily.sh;

    ngx_shmtx_lock(&cmf->daily.shpool->mutex);

    /* a clock set back runs the checks at once rather than never */
    due = (sh->last == 0 || now < sh->last
           || now - sh->last >= cmf->daily.interval);

    if (due) {
        sh->last = now;
        sh->runs++;
    }

    next = sh->last + cmf->daily.interval - now;

    ngx_shmtx_unlock(&cmf->daily.shpool->mutex);

    if (due) {
        ngx_http_compliance_daily_run(cmf, now, ev->log);
    }

    next = ngx_max(next, 1);
    next = ngx_min(next, NGX_HTTP_COMPLIANCE_DAILY_MAX_SLEEP);

    ngx_add_timer(ev, (ngx_msec_t) next * 1000);
}


static void
ngx_http_compliance_daily_run(ngx_http_compliance_main_conf_t *cmf,
    time_t now, ngx_log_t *log)
{
    size_t                           i, n;
    ngx_pool_t                      *pool;
    ngx_http_compliance_cert_t      *c;
    const compliance_vault_entry_t  *e;

    /* the records of one run; freed at its end */
    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return;
    }

    if (cmf->daily.certs) {
        c = cmf->daily.certs->elts;

        for (i = 0; i < cmf->daily.certs->nelts; i++) {
            if (!c[i].repeated) {
                ngx_http_compliance_daily_cert(cmf, &c[i], now, pool, log);
            }
        }
    }

    if (cmf->vault.vault && cmf->vault.max_age) {
        n = compliance_vault_count(cmf->vault.vault);

        for (i = 0; i < n; i++) {
            e = compliance_vault_entry(cmf->vault.vault, i);
            ngx_http_compliance_daily_credential(cmf, e, now, pool, log);
        }
    }

    ngx_destroy_pool(pool);
}


/* certificate_expiring, certificate_expired */
static void
ngx_http_compliance_daily_cert(ngx_http_compliance_main_conf_t *cmf,
    ngx_http_compliance_cert_t *c, time_t now, ngx_pool_t *pool,
    ngx_log_t *log)
{
    u_char      *p;
    time_t       left;
    ngx_str_t    fields, *subject, *server;
    ngx_uint_t   expired;

    left = c->expires - now;

    if (left >= NGX_HTTP_COMPLIANCE_CERT_DAYS * 86400) {
        return;
    }

    expired = (left <= 0);

    if (expired) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance check: certificate \"%s\" of server "
                      "\"%V\" has expired", c->subject,
                      &c->server->server_name);

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance check: certificate \"%s\" of server "
                      "\"%V\" expires in %T day(s)", c->subject,
                      &c->server->server_name, left / 86400);
    }

    subject = ngx_http_compliance_daily_json(pool, c->subject,
                                             ngx_strlen(c->subject));
    server = ngx_http_compliance_daily_json(pool,
                                            c->server->server_name.data,
                                            c->server->server_name.len);
    if (subject == NULL || server == NULL) {
        return;
    }

    p = ngx_pnalloc(pool, sizeof("\"certificate\":,\"expires\":\"\","
                                 "\"days_left\":,\"server\":,") - 1
                          + subject->len + server->len
                          + sizeof("1970-01-01T00:00:00Z") - 1
                          + NGX_TIME_T_LEN);
    if (p == NULL) {
        return;
    }

    fields.data = p;

    p = ngx_sprintf(p, "\"certificate\":%V,\"expires\":\"", subject);
    p = ngx_http_compliance_daily_time(p, c->expires);
    /* negative: expired that many days ago */
    p = ngx_sprintf(p, "\",\"days_left\":%T,\"server\":%V,",
                    left / 86400, server);

    fields.len = p - fields.data;

    ngx_http_compliance_daily_alert(cmf, expired ? "critical" : "high",
                                    expired ? "certificate_expired"
                                            : "certificate_expiring",
                                    &fields, log);
}


/* credential_too_old, credential_age_unknown */
static void
ngx_http_compliance_daily_credential(ngx_http_compliance_main_conf_t *cmf,
    const compliance_vault_entry_t *e, time_t now, ngx_pool_t *pool,
    ngx_log_t *log)
{
    u_char     *p;
    uint64_t    age;
    ngx_str_t   fields, *name;

    if (compliance_vault_entry_age(e, (uint64_t) now, &age)
        && age <= (uint64_t) cmf->vault.max_age)
    {
        return;
    }

    name = ngx_http_compliance_daily_json(pool, e->name, e->name_len);
    if (name == NULL) {
        return;
    }

    p = ngx_pnalloc(pool, sizeof("\"credential_id\":,\"created\":\"\","
                                 "\"age_seconds\":,\"max_age_seconds\":,")
                          - 1 + name->len
                          + sizeof("1970-01-01T00:00:00Z") - 1
                          + 2 * NGX_INT64_LEN);
    if (p == NULL) {
        return;
    }

    fields.data = p;

    if (e->created == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance check: credential \"%s\" in the vault "
                      "\"%V\" has no creation time, its age is unknown "
                      "(max_age=%V)", e->name, &cmf->vault.file,
                      &cmf->vault.max_age_text);

        p = ngx_sprintf(p, "\"credential_id\":%V,\"created\":null,"
                        "\"age_seconds\":null,\"max_age_seconds\":%T,",
                        name, cmf->vault.max_age);
        fields.len = p - fields.data;

        ngx_http_compliance_daily_alert(cmf, "warning",
                                        "credential_age_unknown", &fields,
                                        log);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "compliance check: credential \"%s\" in the vault \"%V\" "
                  "is %uL day(s) old, older than max_age=%V", e->name,
                  &cmf->vault.file, age / 86400, &cmf->vault.max_age_text);

    p = ngx_sprintf(p, "\"credential_id\":%V,\"created\":\"", name);
    p = ngx_http_compliance_daily_time(p, (time_t) e->created);
    p = ngx_sprintf(p, "\",\"age_seconds\":%uL,\"max_age_seconds\":%T,",
                    age, cmf->vault.max_age);
    fields.len = p - fields.data;

    ngx_http_compliance_daily_alert(cmf, "high", "credential_too_old",
                                    &fields, log);
}


static void
ngx_http_compliance_daily_alert(ngx_http_compliance_main_conf_t *cmf,
    const char *severity, const char *reason, ngx_str_t *fields,
    ngx_log_t *log)
{
    /* without a trail the error.log line is all there is */
    if (cmf->audit == NULL) {
        return;
    }

    (void) ngx_http_compliance_audit_alert(cmf->audit, severity, reason,
                                           fields, log);
}


/* a JSON string, quoted and escaped */
static ngx_str_t *
ngx_http_compliance_daily_json(ngx_pool_t *pool, const u_char *p, size_t len)
{
    u_char     *d;
    ngx_str_t  *s;

    s = ngx_palloc(pool, sizeof(ngx_str_t));
    if (s == NULL) {
        return NULL;
    }

    d = ngx_pnalloc(pool, compliance_json_escape_len(p, len) + 2);
    if (d == NULL) {
        return NULL;
    }

    s->data = d;
    *d++ = '"';
    d = compliance_json_escape(d, p, len);
    *d++ = '"';
    s->len = d - s->data;

    return s;
}


/* 1970-01-01T00:00:00Z, unquoted */
static u_char *
ngx_http_compliance_daily_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                       tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}
