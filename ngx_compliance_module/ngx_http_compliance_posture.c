/*
 * Posture: at config load (nginx -t, start, reload) the configuration is
 * checked against the controls an audit asks for, and every gap is
 * named with its place (docs/posture.md).  Owns
 * ngx_http_compliance_posture_conf_t (waivers, the block's position) and
 * the main conf's posture part (the mode, the places the merge saw, key
 * files with loose modes).
 */

#include "ngx_http_compliance_module.h"

#if (NGX_HTTP_SSL)
#include <ngx_http_ssl_module.h>
#endif


/* HSTS an auditor accepts: one year (SOC 2, PCI-DSS 4.0 req. 4.2.1) */
#define NGX_HTTP_COMPLIANCE_POSTURE_HSTS_MIN    31536000

/* the longest token lifetime without a gap */
#define NGX_HTTP_COMPLIANCE_POSTURE_JWT_MAX     3600



/* one location (or a server without locations) the merge saw */
typedef struct {
    ngx_http_compliance_loc_conf_t  *conf;
    ngx_http_core_loc_conf_t        *core;      /* name "": server level */
    ngx_http_core_srv_conf_t        *server;
} ngx_http_compliance_place_t;


/* a key file whose mode ngx_http_compliance_warn_file_mode() flagged */
typedef struct {
    ngx_str_t                        directive;
    ngx_str_t                        path;
    ngx_uint_t                       mode;
    ngx_http_compliance_loc_conf_t  *conf;      /* its block's conf */
    u_char                          *file;
    ngx_uint_t                       line;
} ngx_http_compliance_loose_file_t;


typedef struct {
    ngx_str_t                        check;
    ngx_str_t                        reason;
} ngx_http_compliance_waiver_t;


/* one evaluation: counts and the log level of gaps */
typedef struct {
    ngx_conf_t                      *cf;
    ngx_uint_t                       level;     /* WARN, or EMERG */
    ngx_uint_t                       checks;
    ngx_uint_t                       gaps;
    ngx_uint_t                       waived;
} ngx_http_compliance_posture_run_t;


static void ngx_http_compliance_posture_place(
    ngx_http_compliance_posture_run_t *run, ngx_http_compliance_place_t *pl);
static void ngx_http_compliance_posture_server(
    ngx_http_compliance_posture_run_t *run, ngx_http_compliance_place_t *sp,
    ngx_array_t *places);
static void ngx_http_compliance_posture_certificates(
    ngx_http_compliance_posture_run_t *run, ngx_http_compliance_place_t *sp);
static void ngx_http_compliance_posture_vault(
    ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_main_conf_t *cmf,
    ngx_http_compliance_loc_conf_t *http);
static void ngx_http_compliance_posture_global(
    ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_main_conf_t *cmf,
    ngx_http_compliance_loc_conf_t *http);
static void ngx_http_compliance_posture_gap(
    ngx_http_compliance_posture_run_t *run, const char *check,
    ngx_http_compliance_loc_conf_t *waivers, ngx_http_compliance_place_t *pl,
    u_char *file, ngx_uint_t line, const char *fmt, ...);
static ngx_uint_t ngx_http_compliance_posture_served(
    ngx_http_compliance_place_t *pl, ngx_array_t *places);
static ngx_int_t ngx_http_compliance_posture_hsts_age(ngx_str_t *hsts);
static ngx_uint_t ngx_http_compliance_posture_lasting_log(ngx_cycle_t *cycle);


/* the ids of SPEC 13 this build evaluates; waivers must name one */
static const char  *ngx_http_compliance_posture_checks[] = {
    "unprotected_location",
    "jwt_issuer_audience",
    "jwt_lifetime",
    "key_file_mode",
    "rate_limit",
    "auth_failure_limit",
    "audit_log",
    "audit_chain",
    "https_redirect",
    "hsts",
    "tls_protocols",
    "certificate_expiry",
    "error_pages",
    "mfa",
    "audit_checkpoints",
    "vault_age",
    "validation",
    NULL
};


/* --- configuration */


void
ngx_http_compliance_posture_create_conf(ngx_conf_t *cf,
    ngx_http_compliance_posture_conf_t *conf)
{
    /* the block's own position: create runs at "location ... {" */
    conf->file = cf->conf_file->file.name.data;
    conf->line = cf->conf_file->line;
    conf->waivers = NGX_CONF_UNSET_PTR;
}


/* a level's waivers come after the ones it inherits */
char *
ngx_http_compliance_posture_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_posture_conf_t *prev,
    ngx_http_compliance_posture_conf_t *conf)
{
    ngx_uint_t                     i;
    ngx_http_compliance_waiver_t  *w, *pw;

    if (prev->waivers == NGX_CONF_UNSET_PTR || prev->waivers == NULL) {
        ngx_conf_merge_ptr_value(conf->waivers, NULL, NULL);
        return NGX_CONF_OK;
    }

    if (conf->waivers == NGX_CONF_UNSET_PTR) {
        conf->waivers = prev->waivers;
        return NGX_CONF_OK;
    }

    pw = prev->waivers->elts;

    for (i = 0; i < prev->waivers->nelts; i++) {
        w = ngx_array_push(conf->waivers);
        if (w == NULL) {
            return NGX_CONF_ERROR;
        }

        *w = pw[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_posture_waive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_compliance_waiver_t  *w;

    value = cf->args->elts;

    for (i = 0; ngx_http_compliance_posture_checks[i]; i++) {
        if (ngx_strcmp(value[1].data, ngx_http_compliance_posture_checks[i])
            == 0)
        {
            break;
        }
    }

    if (ngx_http_compliance_posture_checks[i] == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown check \"%V\" in \"%V\" (docs/posture.md "
                           "lists the checks)", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[2].len; i++) {
        if (value[2].data[i] != ' ' && value[2].data[i] != '\t') {
            break;
        }
    }

    if (i == value[2].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V %V\" needs a reason: a waiver is evidence "
                           "of a decision", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (clcf->posture.waivers == NGX_CONF_UNSET_PTR) {
        clcf->posture.waivers = ngx_array_create(cf->pool, 2,
                                         sizeof(ngx_http_compliance_waiver_t));
        if (clcf->posture.waivers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    w = ngx_array_push(clcf->posture.waivers);
    if (w == NULL) {
        return NGX_CONF_ERROR;
    }

    w->check = value[1];
    w->reason = value[2];

    return NGX_CONF_OK;
}


/* called by the module's merge for every level, after every other merge */
ngx_int_t
ngx_http_compliance_posture_record(ngx_conf_t *cf,
    ngx_http_compliance_loc_conf_t *conf)
{
    ngx_http_core_loc_conf_t         *core;
    ngx_http_compliance_place_t      *pl;
    ngx_http_compliance_main_conf_t  *cmf;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* "if" and limit_except blocks belong to their location */
    if (core->noname) {
        return NGX_OK;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->posture.places == NULL) {
        cmf->posture.places = ngx_array_create(cf->pool, 16,
                                          sizeof(ngx_http_compliance_place_t));
        if (cmf->posture.places == NULL) {
            return NGX_ERROR;
        }
    }

    pl = ngx_array_push(cmf->posture.places);
    if (pl == NULL) {
        return NGX_ERROR;
    }

    pl->conf = conf;
    pl->core = core;
    pl->server = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    return NGX_OK;
}


/* from ngx_http_compliance_warn_file_mode(): the key_file_mode gap */
void
ngx_http_compliance_posture_loose_file(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_uint_t mode)
{
    ngx_http_compliance_main_conf_t   *cmf;
    ngx_http_compliance_loose_file_t  *lf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->posture.loose == NULL) {
        cmf->posture.loose = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_compliance_loose_file_t));
        if (cmf->posture.loose == NULL) {
            return;
        }
    }

    lf = ngx_array_push(cmf->posture.loose);
    if (lf == NULL) {
        return;
    }

    lf->directive = *directive;
    lf->path = *path;
    lf->mode = mode;
    lf->conf = ngx_http_conf_get_module_loc_conf(cf,
                                                 ngx_http_compliance_module);
    lf->file = cf->conf_file->file.name.data;
    lf->line = cf->conf_file->line;
}


/* --- the evaluation, from postconfiguration */


ngx_int_t
ngx_http_compliance_posture_check(ngx_conf_t *cf)
{
    ngx_uint_t                          i, j;
    ngx_http_compliance_place_t        *pl;
    ngx_http_compliance_loc_conf_t     *http;
    ngx_http_compliance_main_conf_t    *cmf;
    ngx_http_compliance_posture_run_t   run;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    http = ngx_http_conf_get_module_loc_conf(cf, ngx_http_compliance_module);

    if (cmf->posture.mode == NGX_CONF_UNSET_UINT) {
        cmf->posture.mode = NGX_HTTP_COMPLIANCE_POSTURE_WARN;
    }

    if (cmf->posture.mode == NGX_HTTP_COMPLIANCE_POSTURE_OFF
        || cmf->posture.places == NULL)
    {
        return NGX_OK;
    }

    pl = cmf->posture.places->elts;

    if (!ngx_http_compliance_posture_used(cmf)) {
        return NGX_OK;
    }

    ngx_memzero(&run, sizeof(ngx_http_compliance_posture_run_t));
    run.cf = cf;
    run.level = (cmf->posture.mode == NGX_HTTP_COMPLIANCE_POSTURE_STRICT)
                ? NGX_LOG_EMERG : NGX_LOG_WARN;

    for (i = 0; i < cmf->posture.places->nelts; i++) {

        if (ngx_http_compliance_posture_served(&pl[i], cmf->posture.places)) {
            ngx_http_compliance_posture_place(&run, &pl[i]);
        }

        if (pl[i].core->name.len != 0) {
            continue;
        }

        /* once per server, after the first place of it */
        for (j = 0; j < i; j++) {
            if (pl[j].server == pl[i].server && pl[j].core->name.len == 0) {
                break;
            }
        }

        if (j == i) {
            ngx_http_compliance_posture_server(&run, &pl[i],
                                               cmf->posture.places);
        }
    }

    ngx_http_compliance_posture_global(&run, cmf, http);

    ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                  "compliance posture: %ui checks, %ui gaps, %ui waived",
                  run.checks, run.gaps, run.waived);

    ngx_http_compliance_status_posture(cf, run.gaps);

    if (run.gaps && run.level == NGX_LOG_EMERG) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "compliance posture is strict: fix the gaps above "
                      "or waive them (compliance_posture_waive)");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A module loaded but not used anywhere has no posture to report (and
 * nothing to check at run time: ngx_http_compliance_daily.c).
 */
ngx_uint_t
ngx_http_compliance_posture_used(ngx_http_compliance_main_conf_t *cmf)
{
    ngx_uint_t                    i;
    ngx_http_compliance_place_t  *pl;

    if (cmf->audit != NULL) {
        return 1;
    }

    if (cmf->posture.places == NULL) {
        return 0;
    }

    pl = cmf->posture.places->elts;

    for (i = 0; i < cmf->posture.places->nelts; i++) {
        if (pl[i].conf->access.enable == 1
            || pl[i].conf->access.public_reason.data != NULL)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether requests are served by this place's own conf: a location a
 * client can ask for (not named, not internal), or a server that has no
 * locations at all.
 */
static ngx_uint_t
ngx_http_compliance_posture_served(ngx_http_compliance_place_t *pl,
    ngx_array_t *places)
{
    ngx_uint_t                    i;
    ngx_http_compliance_place_t  *p;

    if (pl->core->name.len != 0) {
        return !pl->core->named && !pl->core->internal;
    }

    p = places->elts;

    for (i = 0; i < places->nelts; i++) {
        if (p[i].server == pl->server && p[i].core->name.len != 0) {
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_compliance_posture_place(ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_place_t *pl)
{
    ngx_uint_t                          protect, jwt;
    ngx_http_compliance_loc_conf_t     *c;
    ngx_http_compliance_posture_conf_t *pc;

    c = pl->conf;
    pc = &c->posture;

    protect = (c->access.enable == 1 && c->access.public_reason.data == NULL);
    jwt = protect && (c->access.auth & NGX_HTTP_COMPLIANCE_METHOD_JWT);

    run->checks++;

    if (c->access.enable != 1 && c->access.public_reason.data == NULL) {
        ngx_http_compliance_posture_gap(run, "unprotected_location", c, pl,
                                        pc->file, pc->line,
                                        "neither \"compliance on\" nor "
                                        "\"compliance_public\"");
        return;
    }

    run->checks++;

    if (c->audit.log == NULL) {
        ngx_http_compliance_posture_gap(run, "audit_log", c, pl, pc->file,
                                        pc->line, "no audit trail "
                                        "(compliance_audit_log)");
    }

    if (!protect) {
        return;
    }

    run->checks += 3;

    if (c->limit.limits == NULL) {
        ngx_http_compliance_posture_gap(run, "rate_limit", c, pl, pc->file,
                                        pc->line, "protected without "
                                        "\"compliance_limit\"");
    }

    if (c->limit.failure == NULL) {
        ngx_http_compliance_posture_gap(run, "auth_failure_limit", c, pl,
                                        pc->file, pc->line,
                                        "protected without "
                                        "\"compliance_auth_failure_limit\"");
    }

    if (c->boundary.error_pages == NGX_HTTP_COMPLIANCE_ERRORS_OFF) {
        ngx_http_compliance_posture_gap(run, "error_pages", c, pl, pc->file,
                                        pc->line, "protected without "
                                        "\"compliance_error_pages\"");
    }

    /*
     * proxied: a content handler (proxy_pass, fastcgi_pass, grpc_pass...)
     * takes the request and its body on; ours of the lockout admin
     * does not
     */
    if (pl->core->handler != NULL && !c->limit.admin) {
        run->checks++;

        /* a GraphQL endpoint's input is its document: its check counts */
        if (c->validate.body == NULL && c->graphql.enable != 1) {
            ngx_http_compliance_posture_gap(run, "validation", c, pl,
                                            pc->file, pc->line,
                                            "protected and proxied without "
                                            "\"compliance_validate_body\" "
                                            "or \"compliance_graphql\"");
        }
    }

    /* sensitive operations need a second factor (PCI-DSS 4.0 8.4.2) */
    if (c->audit.sensitive.data) {
        run->checks++;

        if (c->mfa.amr == NULL) {
            ngx_http_compliance_posture_gap(run, "mfa", c, pl, pc->file,
                                            pc->line,
                                            "sensitive (\"%V\") without "
                                            "\"compliance_require_mfa\"",
                                            &c->audit.sensitive);
        }
    }

    if (!jwt) {
        return;
    }

    run->checks += 2;

    if (c->jwt.issuers == NULL || c->jwt.audiences == NULL) {
        ngx_http_compliance_posture_gap(run, "jwt_issuer_audience", c, pl,
                                        pc->file, pc->line,
                                        "JWT accepted without %s check",
                                        (c->jwt.issuers == NULL
                                         && c->jwt.audiences == NULL)
                                        ? "an issuer and an audience"
                                        : (c->jwt.issuers == NULL)
                                        ? "an issuer" : "an audience");
    }

    if (c->jwt.max_lifetime <= 0
        || c->jwt.max_lifetime > NGX_HTTP_COMPLIANCE_POSTURE_JWT_MAX)
    {
        ngx_http_compliance_posture_gap(run, "jwt_lifetime", c, pl,
                                        pc->file, pc->line,
                                        "JWT accepted without "
                                        "\"compliance_jwt_max_lifetime\" "
                                        "of at most 1h");
    }
}


/* the transport checks, once per server; sp is its server-level place */
static void
ngx_http_compliance_posture_server(ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_place_t *sp, ngx_array_t *places)
{
    ngx_uint_t                           i, tls, plain, unredirected;
    ngx_uint_t                           weak_hsts, no_floor;
    ngx_http_compliance_place_t         *pl;
    ngx_http_compliance_posture_conf_t  *pc;
#if (NGX_HTTP_SSL)
    ngx_http_ssl_srv_conf_t             *sscf;
#endif

    ngx_http_compliance_posture_listens(run->cf, sp->server, &tls, &plain);

    pl = places->elts;
    pc = &sp->conf->posture;
    unredirected = 0;
    weak_hsts = 0;
    no_floor = 0;

    for (i = 0; i < places->nelts; i++) {
        if (pl[i].server != sp->server
            || !ngx_http_compliance_posture_served(&pl[i], places))
        {
            continue;
        }

        if (pl[i].conf->access.public_reason.data == NULL
            && !pl[i].conf->tls.redirect)
        {
            unredirected++;
        }

        if (ngx_http_compliance_posture_hsts_age(&pl[i].conf->tls.hsts)
            < NGX_HTTP_COMPLIANCE_POSTURE_HSTS_MIN)
        {
            weak_hsts++;
        }

        if (pl[i].conf->tls.min == NGX_HTTP_COMPLIANCE_TLS_ANY) {
            no_floor++;
        }
    }

    if (plain) {
        run->checks++;

        if (unredirected) {
            ngx_http_compliance_posture_gap(run, "https_redirect", sp->conf,
                                            sp, pc->file, pc->line,
                                            "plain HTTP serves %ui "
                                            "non-public location(s) without "
                                            "\"compliance_https_redirect\"",
                                            unredirected);
        }
    }

    if (!tls) {
        return;
    }

    run->checks += 2;

    if (weak_hsts) {
        ngx_http_compliance_posture_gap(run, "hsts", sp->conf, sp, pc->file,
                                        pc->line, "TLS server with %ui "
                                        "location(s) without "
                                        "\"compliance_hsts\" of max-age "
                                        ">= %d", weak_hsts,
                                        NGX_HTTP_COMPLIANCE_POSTURE_HSTS_MIN);
    }

#if (NGX_HTTP_SSL)
    sscf = sp->server->ctx->srv_conf[ngx_http_ssl_module.ctx_index];

    if (no_floor && (sscf->protocols & (NGX_SSL_TLSv1|NGX_SSL_TLSv1_1))) {
        ngx_http_compliance_posture_gap(run, "tls_protocols", sp->conf, sp,
                                        pc->file, pc->line,
                                        "\"ssl_protocols\" allows %s and "
                                        "%ui location(s) have no "
                                        "\"compliance_tls_min\"",
                                        (sscf->protocols & NGX_SSL_TLSv1)
                                        ? "TLSv1" : "TLSv1.1", no_floor);
    }
#endif

    ngx_http_compliance_posture_certificates(run, sp);
}


/*
 * Every certificate the server loaded at config time, from the list the
 * run-time checks read too (ngx_http_compliance_daily.c)
 */
static void
ngx_http_compliance_posture_certificates(
    ngx_http_compliance_posture_run_t *run, ngx_http_compliance_place_t *sp)
{
    time_t                               left;
    ngx_uint_t                           i;
    ngx_http_compliance_cert_t          *c;
    ngx_http_compliance_main_conf_t     *cmf;
    ngx_http_compliance_posture_conf_t  *pc;

    cmf = ngx_http_conf_get_module_main_conf(run->cf,
                                             ngx_http_compliance_module);
    pc = &sp->conf->posture;

    if (cmf->daily.certs == NULL) {
        return;
    }

    c = cmf->daily.certs->elts;

    for (i = 0; i < cmf->daily.certs->nelts; i++) {
        if (c[i].server != sp->server) {
            continue;
        }

        run->checks++;

        left = c[i].expires - ngx_time();

        if (left >= NGX_HTTP_COMPLIANCE_CERT_DAYS * 86400) {
            continue;
        }

        if (left <= 0) {
            ngx_http_compliance_posture_gap(run, "certificate_expiry",
                                            sp->conf, sp, pc->file, pc->line,
                                            "certificate \"%s\" has expired",
                                            c[i].subject);

        } else {
            ngx_http_compliance_posture_gap(run, "certificate_expiry",
                                            sp->conf, sp, pc->file, pc->line,
                                            "certificate \"%s\" expires in "
                                            "%T day(s)", c[i].subject,
                                            left / 86400);
        }
    }
}


/* with max_age: every entry of the vault, as the daily alerts see it */
static void
ngx_http_compliance_posture_vault(ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_main_conf_t *cmf, ngx_http_compliance_loc_conf_t *http)
{
    u_char                          *file, created[sizeof("1970-01-01")];
    size_t                           i, n;
    uint64_t                         age;
    ngx_tm_t                         tm;
    ngx_uint_t                       line;
    const compliance_vault_entry_t  *e;

    if (cmf->vault.vault == NULL || cmf->vault.max_age == 0) {
        return;
    }

    file = cmf->vault.where.file.data ? cmf->vault.where.file.data
                                      : http->posture.file;
    line = cmf->vault.where.file.data ? cmf->vault.where.line
                                      : http->posture.line;

    n = compliance_vault_count(cmf->vault.vault);

    for (i = 0; i < n; i++) {
        e = compliance_vault_entry(cmf->vault.vault, i);

        run->checks++;

        if (!compliance_vault_entry_age(e, (uint64_t) ngx_time(), &age)) {
            ngx_http_compliance_posture_gap(run, "vault_age", http, NULL,
                                            file, line, "credential \"%s\" "
                                            "in the vault \"%V\" has no "
                                            "creation time, its age is "
                                            "unknown (max_age=%V)", e->name,
                                            &cmf->vault.file,
                                            &cmf->vault.max_age_text);
            continue;
        }

        if (age <= (uint64_t) cmf->vault.max_age) {
            continue;
        }

        ngx_gmtime((time_t) e->created, &tm);
        (void) ngx_sprintf(created, "%4d-%02d-%02d%Z", tm.ngx_tm_year,
                           tm.ngx_tm_mon, tm.ngx_tm_mday);

        ngx_http_compliance_posture_gap(run, "vault_age", http, NULL, file,
                                        line, "credential \"%s\" in the "
                                        "vault \"%V\" is %uL day(s) old "
                                        "(created %s), older than "
                                        "max_age=%V", e->name,
                                        &cmf->vault.file, age / 86400,
                                        created, &cmf->vault.max_age_text);
    }
}


static void
ngx_http_compliance_posture_global(ngx_http_compliance_posture_run_t *run,
    ngx_http_compliance_main_conf_t *cmf, ngx_http_compliance_loc_conf_t *http)
{
    u_char                            *file, mode[sizeof("0777")];
    ngx_uint_t                         i, line;
    ngx_http_compliance_loose_file_t  *lf;

    if (cmf->audit) {
        run->checks++;

        if (cmf->chain == NULL) {
            file = http->posture.file;
            line = http->posture.line;

            ngx_http_compliance_posture_gap(run, "audit_chain", http, NULL,
                                            file, line, "the audit trail "
                                            "\"%V\" is not chained "
                                            "(compliance_audit_chain)",
                                            &cmf->audit->name);
        }
    }

    if (cmf->audit && cmf->chain) {
        run->checks++;

        if (!ngx_http_compliance_posture_lasting_log(run->cf->cycle)) {
            ngx_http_compliance_posture_gap(run, "audit_checkpoints", http,
                                            NULL, http->posture.file,
                                            http->posture.line,
                                            "the chain's checkpoints reach "
                                            "no lasting error log (every "
                                            "main-level \"error_log\" is "
                                            "/dev/null or memory), so a "
                                            "cut tail of \"%V\" goes "
                                            "unseen",
                                            &cmf->audit->name);
        }
    }
    ngx_http_compliance_posture_vault(run, cmf, http);

    if (cmf->posture.loose == NULL) {
        return;
    }

    lf = cmf->posture.loose->elts;

    for (i = 0; i < cmf->posture.loose->nelts; i++) {
        run->checks++;

        /* nginx's formatter has no "%o" */
        mode[0] = '0';
        mode[1] = (u_char) ('0' + ((lf[i].mode >> 6) & 7));
        mode[2] = (u_char) ('0' + ((lf[i].mode >> 3) & 7));
        mode[3] = (u_char) ('0' + (lf[i].mode & 7));
        mode[4] = '\0';

        ngx_http_compliance_posture_gap(run, "key_file_mode", lf[i].conf,
                                        NULL, lf[i].file, lf[i].line,
                                        "key file \"%V\" of \"%V\" has mode "
                                        "%s", &lf[i].path, &lf[i].directive,
                                        mode);
    }
}


/*
 * Whether a main-level error log keeps what is written to it: the
 * checkpoints of a chained trail go to every one of them (audit.c).  A
 * file other than /dev/null, stderr (the service manager's journal) and
 * syslog keep it; "memory:" (debug builds) and /dev/null do not.  Seen
 * are the error_log directives read so far: those before the http block,
 * where nginx's own configuration and Debian's put them.  None at all
 * means nginx's default error log, a file.
 */
static ngx_uint_t
ngx_http_compliance_posture_lasting_log(ngx_cycle_t *cycle)
{
    ngx_log_t  *log;

    log = &cycle->new_log;

    if (log->file == NULL && log->writer == NULL) {
        return 1;
    }

    for ( /* void */ ; log; log = log->next) {

        if (log->writer == ngx_syslog_writer) {
            return 1;
        }

        if (log->writer == NULL && log->file != NULL
            && !(log->file->name.len == sizeof("/dev/null") - 1
                 && ngx_strncmp(log->file->name.data, "/dev/null",
                                log->file->name.len) == 0))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * One gap, or a waived one: "compliance posture: <check>: <what>, in
 * server "<name>" location "<uri>" in <file>:<line>".
 */
static void
ngx_http_compliance_posture_gap(ngx_http_compliance_posture_run_t *run,
    const char *check, ngx_http_compliance_loc_conf_t *waivers,
    ngx_http_compliance_place_t *pl, u_char *file, ngx_uint_t line,
    const char *fmt, ...)
{
    u_char                        what[NGX_MAX_ERROR_STR], place[512], *p;
    va_list                       args;
    ngx_str_t                    *reason;
    ngx_uint_t                    i;
    ngx_http_compliance_waiver_t *w;

    va_start(args, fmt);
    p = ngx_vslprintf(what, what + sizeof(what) - 1, fmt, args);
    va_end(args);
    *p = '\0';

    p = place;

    if (pl) {
        p = ngx_slprintf(p, place + sizeof(place) - 1, "in server \"%V\"",
                         &pl->server->server_name);

        if (pl->core->name.len) {
            p = ngx_slprintf(p, place + sizeof(place) - 1,
                             " location \"%V\"", &pl->core->name);
        }

        p = ngx_slprintf(p, place + sizeof(place) - 1, " ");
    }

    *p = '\0';

    reason = NULL;

    if (waivers->posture.waivers != NULL
        && waivers->posture.waivers != NGX_CONF_UNSET_PTR)
    {
        w = waivers->posture.waivers->elts;

        for (i = 0; i < waivers->posture.waivers->nelts; i++) {
            if (ngx_strcmp(w[i].check.data, check) == 0) {
                reason = &w[i].reason;
                break;
            }
        }
    }

    if (reason) {
        run->waived++;
        ngx_log_error(NGX_LOG_NOTICE, run->cf->log, 0,
                      "compliance posture: %s: waived (\"%V\"): %s, %sin "
                      "%s:%ui", check, reason, what, place, file, line);
        return;
    }

    run->gaps++;
    ngx_log_error(run->level, run->cf->log, 0,
                  "compliance posture: %s: %s, %sin %s:%ui", check, what,
                  place, file, line);
}


/* whether the server listens with TLS, and without (daily.c asks too) */
void
ngx_http_compliance_posture_listens(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, ngx_uint_t *tls, ngx_uint_t *plain)
{
    ngx_uint_t                  p, a, s;
    ngx_http_conf_port_t       *port;
    ngx_http_conf_addr_t       *addr;
    ngx_http_core_srv_conf_t  **server;
    ngx_http_core_main_conf_t  *cmcf;

    *tls = 0;
    *plain = 0;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->ports == NULL) {
        return;
    }

    port = cmcf->ports->elts;

    for (p = 0; p < cmcf->ports->nelts; p++) {
        addr = port[p].addrs.elts;

        for (a = 0; a < port[p].addrs.nelts; a++) {
            server = addr[a].servers.elts;

            for (s = 0; s < addr[a].servers.nelts; s++) {
                if (server[s] != cscf) {
                    continue;
                }

#if (NGX_HTTP_SSL)
                if (addr[a].opt.ssl) {
                    *tls = 1;
                    continue;
                }
#endif
                *plain = 1;
            }
        }
    }
}


/* max-age of an HSTS value, 0 when there is none */
static ngx_int_t
ngx_http_compliance_posture_hsts_age(ngx_str_t *hsts)
{
    u_char     *p, *end, *q;
    ngx_int_t   n;

    p = hsts->data;
    end = p + hsts->len;

    if (p == NULL || hsts->len < sizeof("max-age=") - 1
        || ngx_strncmp(p, "max-age=", sizeof("max-age=") - 1) != 0)
    {
        return 0;
    }

    p += sizeof("max-age=") - 1;

    for (q = p; q < end && *q >= '0' && *q <= '9'; q++) { /* void */ }

    n = ngx_atoi(p, q - p);

    return (n == NGX_ERROR) ? 0 : n;
}
