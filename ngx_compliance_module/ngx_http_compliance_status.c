/*
 * compliance_status (SPEC 13): the counters every worker adds to, in a
 * shared memory zone of their own ("compliance_status", one size, so a
 * reload keeps it and the counts go on), and the content handler that
 * answers them as Prometheus text (format 0.0.4) or, with
 * ?format=json, as JSON: one walk over the metrics writes either.
 *
 * Counters are counted where each decision is made: a refusal in
 * ngx_http_compliance_problem() (by reason), a request's outcome in the
 * LOG phase from the same ctx the audit record is built from, a record
 * written or lost in the audit writer, a token cache hit or miss in
 * jwt.c.  Each is one ngx_atomic_fetch_add(), no lock.  Gauges are read
 * when asked: the keys and bytes of each compliance_limit_zone (limit.c,
 * under that zone's mutex), the certificates' expiry (read at load),
 * the posture gaps of the configuration.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_redis.h"

#if (NGX_HTTP_SSL)
#include <ngx_http_ssl_module.h>
#endif


#define NGX_HTTP_COMPLIANCE_STATUS_MAGIC    0x54534d43  /* "CMST" */
#define NGX_HTTP_COMPLIANCE_STATUS_LAYOUT   2

/* room for many layouts of the counters, one size for every build */
#define NGX_HTTP_COMPLIANCE_STATUS_SIZE     (8 * ngx_pagesize)

/* a response is written into buffers of this size */
#define NGX_HTTP_COMPLIANCE_STATUS_CHUNK    4096


/* the reasons of SPEC 6 and 11-16; one counter each, "other" last */
static ngx_str_t  ngx_http_compliance_status_reasons[] = {
    ngx_string("missing_credentials"),
    ngx_string("credential_in_url"),
    ngx_string("malformed_token"),
    ngx_string("bad_signature"),
    ngx_string("alg_not_allowed"),
    ngx_string("unknown_key"),
    ngx_string("token_expired"),
    ngx_string("token_not_yet_valid"),
    ngx_string("bad_issuer"),
    ngx_string("bad_audience"),
    ngx_string("lifetime_too_long"),
    ngx_string("unknown_api_key"),
    ngx_string("api_key_expired"),
    ngx_string("ip_not_allowed"),
    ngx_string("insufficient_scope"),
    ngx_string("rate_limited"),
    ngx_string("locked_out"),
    ngx_string("tls_too_old"),
    ngx_string("token_revoked"),
    ngx_string("mfa_required"),
    ngx_string("keys_unavailable"),
    ngx_string("limits_unavailable"),
    ngx_string("api_sunset"),
    ngx_string("body_too_large"),
    ngx_string("unsupported_media_type"),
    ngx_string("malformed_body"),
    ngx_string("malformed_query"),
    ngx_string("validation_failed"),
    ngx_string("graphql_invalid"),
    ngx_string("graphql_too_complex"),
    ngx_string("graphql_introspection"),
    ngx_string("upstream_credential_unavailable"),
    ngx_string("audit_unavailable"),
    ngx_string("internal_error"),
    ngx_string("other")
};

#define NGX_HTTP_COMPLIANCE_STATUS_REASONS                                   \
    (sizeof(ngx_http_compliance_status_reasons) / sizeof(ngx_str_t))

#define NGX_HTTP_COMPLIANCE_STATUS_COUNTERS                                  \
    (NGX_HTTP_COMPLIANCE_STATUS_EVENTS + NGX_HTTP_COMPLIANCE_STATUS_REASONS)


struct ngx_http_compliance_status_sh_s {
    uint32_t                          magic;
    uint32_t                          layout;
    uint32_t                          counters_n;
    ngx_atomic_t                      counters[
                                          NGX_HTTP_COMPLIANCE_STATUS_COUNTERS];
};


/* a compliance_status location, checked once its conf is merged */
typedef struct {
    ngx_http_compliance_loc_conf_t   *conf;
    ngx_str_t                         name;
    ngx_http_compliance_conf_pos_t    pos;
} ngx_http_compliance_status_place_t;


/* the soonest expiry of a server's certificates, read at load */
typedef struct {
    ngx_str_t                         server;
    time_t                            expires;
} ngx_http_compliance_status_cert_t;


/* a limit zone as one response reads it */
typedef struct {
    ngx_str_t                        *name;
    ngx_uint_t                        keys;
    size_t                            used;
} ngx_http_compliance_status_zone_t;


/* a counter family: n counters from "first", one per label value */
typedef struct {
    const char                       *name;
    const char                       *help;
    const char                       *label;
    ngx_uint_t                        first;
    ngx_uint_t                        n;
    ngx_str_t                        *values;
} ngx_http_compliance_status_family_t;


/* one response being written */
typedef struct {
    ngx_http_request_t               *r;
    ngx_chain_t                      *out;
    ngx_chain_t                     **last;
    ngx_buf_t                        *b;
    off_t                             len;
    ngx_uint_t                        json;
    ngx_uint_t                        members;  /* families written */
    ngx_uint_t                        samples;  /* of the current family */
    const char                       *name;     /* the metric family */
    const char                       *label;    /* its label, or NULL */
} ngx_http_compliance_status_out_t;


static ngx_int_t ngx_http_compliance_status_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_compliance_status_sh_t *ngx_http_compliance_status_shared(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_status_log_handler(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_status_write(
    ngx_http_compliance_status_out_t *w,
    ngx_http_compliance_main_conf_t *cmf);
static ngx_int_t ngx_http_compliance_status_zones(ngx_http_request_t *r,
    ngx_array_t *zones);
static ngx_int_t ngx_http_compliance_status_redis(
    ngx_http_compliance_status_out_t *w, ngx_http_compliance_main_conf_t *cmf);
static ngx_int_t ngx_http_compliance_status_room(
    ngx_http_compliance_status_out_t *w, size_t need);
static ngx_int_t ngx_http_compliance_status_family(
    ngx_http_compliance_status_out_t *w, const char *name, const char *type,
    const char *help, const char *label);
static ngx_int_t ngx_http_compliance_status_sample(
    ngx_http_compliance_status_out_t *w, ngx_str_t *value, int64_t n);
static ngx_int_t ngx_http_compliance_status_end(
    ngx_http_compliance_status_out_t *w);
static u_char *ngx_http_compliance_status_escape(u_char *p, ngx_str_t *s,
    ngx_uint_t json);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_compliance_status_certificates(ngx_conf_t *cf,
    ngx_http_compliance_status_main_conf_t *sc);
#endif


/* a tag of our own: no other zone of this module can be taken for ours */
static ngx_uint_t  ngx_http_compliance_status_tag;


static ngx_str_t  ngx_http_compliance_status_text_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");
static ngx_str_t  ngx_http_compliance_status_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_compliance_status_cache_name =
    ngx_string("Cache-Control");
static ngx_str_t  ngx_http_compliance_status_no_store =
    ngx_string("no-store");

static ngx_str_t  ngx_http_compliance_status_outcomes[] = {
    ngx_string("allowed"),
    ngx_string("denied"),
    ngx_string("public")
};

static ngx_str_t  ngx_http_compliance_status_cache[] = {
    ngx_string("hit"),
    ngx_string("miss")
};

static ngx_str_t  ngx_http_compliance_status_fetch[] = {
    ngx_string("ok"),
    ngx_string("error")
};


/* the counters as metric families: n counters from first, by label */
static ngx_http_compliance_status_family_t
    ngx_http_compliance_status_families[] =
{
    { "compliance_requests_total",
      "Requests by outcome, as their audit records: let in, refused, "
      "public.", "outcome",
      NGX_HTTP_COMPLIANCE_STATUS_ALLOWED, 3,
      ngx_http_compliance_status_outcomes },

    { "compliance_refusals_total", "Refused requests by reason.", "reason",
      NGX_HTTP_COMPLIANCE_STATUS_EVENTS, NGX_HTTP_COMPLIANCE_STATUS_REASONS,
      ngx_http_compliance_status_reasons },

    { "compliance_audit_records_total",
      "Records written to the audit trail.", NULL,
      NGX_HTTP_COMPLIANCE_STATUS_AUDIT_RECORDS, 1, NULL },

    { "compliance_audit_lost_records_total",
      "Records that could not be written to the audit trail.", NULL,
      NGX_HTTP_COMPLIANCE_STATUS_AUDIT_LOST, 1, NULL },

    { "compliance_jwt_cache_total", "Token cache lookups by result.",
      "result", NGX_HTTP_COMPLIANCE_STATUS_JWT_CACHE_HIT, 2,
      ngx_http_compliance_status_cache },

    { "compliance_jwks_fetch_total", "Key set fetches by result.", "result",
      NGX_HTTP_COMPLIANCE_STATUS_JWKS_FETCH_OK, 2,
      ngx_http_compliance_status_fetch },

    { "compliance_oauth2_token_fetch_total",
      "Upstream OAuth2 token requests by result.", "result",
      NGX_HTTP_COMPLIANCE_STATUS_OAUTH2_FETCH_OK, 2,
      ngx_http_compliance_status_fetch },

    { NULL, NULL, NULL, 0, 0, NULL }
};


/* --- counting */


static ngx_http_compliance_status_sh_t *
ngx_http_compliance_status_shared(ngx_http_request_t *r)
{
    ngx_http_compliance_main_conf_t  *cmf;

    if (r) {
        cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);

    } else {
        cmf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                  ngx_http_compliance_module);
        if (cmf == NULL) {
            return NULL;
        }
    }

    return cmf->status.sh;
}


void
ngx_http_compliance_status_count(ngx_http_request_t *r, ngx_uint_t event)
{
    ngx_http_compliance_status_add(r, event, 1);
}


void
ngx_http_compliance_status_add(ngx_http_request_t *r, ngx_uint_t event,
    ngx_atomic_uint_t n)
{
    ngx_http_compliance_status_sh_t  *sh;

    sh = ngx_http_compliance_status_shared(r);

    if (sh == NULL || event >= NGX_HTTP_COMPLIANCE_STATUS_EVENTS || n == 0) {
        return;
    }

    (void) ngx_atomic_fetch_add(&sh->counters[event], n);
}


/* a refusal: reasons are fixed identifiers, a handful of compares */
void
ngx_http_compliance_status_refusal(ngx_http_request_t *r, const char *reason)
{
    size_t                            len;
    ngx_uint_t                        i;
    ngx_http_compliance_status_sh_t  *sh;

    sh = ngx_http_compliance_status_shared(r);

    if (sh == NULL) {
        return;
    }

    len = ngx_strlen(reason);

    /* the last one, "other", takes whatever is not in the list */
    for (i = 0; i < NGX_HTTP_COMPLIANCE_STATUS_REASONS - 1; i++) {
        if (ngx_http_compliance_status_reasons[i].len == len
            && ngx_strncmp(ngx_http_compliance_status_reasons[i].data,
                           reason, len)
               == 0)
        {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(
                     &sh->counters[NGX_HTTP_COMPLIANCE_STATUS_EVENTS + i], 1);
}


/*
 * One outcome per main request, from what its audit record says: refused
 * (an auth_failure, rate_limited or forbidden record), let in as public,
 * or let in (a "request" record).
 */
static ngx_int_t
ngx_http_compliance_status_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                  event;
    ngx_http_compliance_ctx_t  *ctx;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx && ctx->refused) {
        event = NGX_HTTP_COMPLIANCE_STATUS_DENIED;

    } else if (ctx && ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_PUBLIC) {
        event = NGX_HTTP_COMPLIANCE_STATUS_PUBLIC;

    } else {
        event = NGX_HTTP_COMPLIANCE_STATUS_ALLOWED;
    }

    ngx_http_compliance_status_count(r, event);

    return NGX_OK;
}


/* --- configuration */


ngx_uint_t
ngx_http_compliance_status_endpoint(ngx_http_core_loc_conf_t *core)
{
    return core->handler == ngx_http_compliance_status_handler;
}


char *
ngx_http_compliance_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                               name;
    ngx_shm_zone_t                         *zone;
    ngx_http_core_loc_conf_t               *core;
    ngx_http_compliance_main_conf_t        *cmf;
    ngx_http_compliance_status_place_t     *pl;
    ngx_http_compliance_status_main_conf_t *sc;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (core->handler == ngx_http_compliance_status_handler) {
        return "is duplicate";
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    sc = &cmf->status;

    if (sc->zone == NULL) {
        ngx_str_set(&name, "compliance_status");

        zone = ngx_shared_memory_add(cf, &name,
                                     NGX_HTTP_COMPLIANCE_STATUS_SIZE,
                                     &ngx_http_compliance_status_tag);
        if (zone == NULL) {
            return NGX_CONF_ERROR;
        }

        zone->init = ngx_http_compliance_status_init_zone;
        zone->data = sc;

        sc->places = ngx_array_create(cf->pool, 1,
                                   sizeof(ngx_http_compliance_status_place_t));
        if (sc->places == NULL) {
            return NGX_CONF_ERROR;
        }

        sc->zone = zone;
    }

    pl = ngx_array_push(sc->places);
    if (pl == NULL) {
        return NGX_CONF_ERROR;
    }

    pl->conf = conf;
    pl->name = core->name;
    ngx_http_compliance_conf_pos_set(cf, &pl->pos);

    core->handler = ngx_http_compliance_status_handler;

    return NGX_CONF_OK;
}


/*
 * Postconfiguration: every compliance_status location is enforced (the
 * module decides who may read the counters, like for any request), the
 * LOG handler counts outcomes, the certificates' expiry is read.
 */
ngx_int_t
ngx_http_compliance_status_init(ngx_conf_t *cf)
{
    ngx_uint_t                               i;
    ngx_http_handler_pt                     *h;
    ngx_http_core_main_conf_t               *cmcf;
    ngx_http_compliance_main_conf_t         *cmf;
    ngx_http_compliance_status_place_t      *pl;
    ngx_http_compliance_status_main_conf_t  *sc;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    sc = &cmf->status;

    if (sc->zone == NULL) {
        return NGX_OK;
    }

    pl = sc->places->elts;

    for (i = 0; i < sc->places->nelts; i++) {
        if (pl[i].conf->access.enable != 1) {
            ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, &pl[i].pos,
                                           "\"compliance_status\" in "
                                           "location \"%V\" needs "
                                           "\"compliance on\": who may "
                                           "read the counters is checked "
                                           "by the module", &pl[i].name);
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_compliance_status_log_handler;

#if (NGX_HTTP_SSL)
    if (ngx_http_compliance_status_certificates(cf, sc) != NGX_OK) {
        return NGX_ERROR;
    }
#endif

    return NGX_OK;
}


void
ngx_http_compliance_status_posture(ngx_conf_t *cf, ngx_uint_t gaps)
{
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    cmf->status.gaps = gaps;
    cmf->status.posture = 1;
}


/*
 * A reload keeps the counters.  A build with another layout of them
 * gets a block of its own in the same zone, starting at zero: workers of
 * the old cycle go on adding to the old block until they exit.
 */
static ngx_int_t
ngx_http_compliance_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_status_main_conf_t  *osc = data;

    ngx_slab_pool_t                         *shpool;
    ngx_http_compliance_status_sh_t         *sh;
    ngx_http_compliance_status_main_conf_t  *sc;

    sc = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    sh = NULL;

    if (osc && osc->sh) {
        sh = osc->sh;

    } else if (shm_zone->shm.exists) {
        sh = shpool->data;
    }

    if (sh != NULL
        && sh->magic == NGX_HTTP_COMPLIANCE_STATUS_MAGIC
        && sh->layout == NGX_HTTP_COMPLIANCE_STATUS_LAYOUT
        && sh->counters_n == NGX_HTTP_COMPLIANCE_STATUS_COUNTERS)
    {
        sc->sh = sh;
        return NGX_OK;
    }

    if (sh != NULL) {
        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "compliance_status: the counters have another "
                      "layout, they start again from zero");
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_status_sh_t));

    if (sh == NULL) {
        /* only after many layout changes without a restart */
        ngx_shmtx_lock(&shpool->mutex);
        ngx_slab_init(shpool);
        ngx_shmtx_unlock(&shpool->mutex);

        sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_status_sh_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_status_sh_t));

    sh->magic = NGX_HTTP_COMPLIANCE_STATUS_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_STATUS_LAYOUT;
    sh->counters_n = NGX_HTTP_COMPLIANCE_STATUS_COUNTERS;

    shpool->data = sh;
    sc->sh = sh;

    return NGX_OK;
}


#if (NGX_HTTP_SSL)

/*
 * The soonest expiry among each server's certificates, by the server's
 * first name (a name in several server blocks: the soonest of all), from
 * the list of the certificates read at load (ngx_http_compliance_daily.c:
 * servers with a TLS listen).  Certificates chosen per handshake
 * ("ssl_certificate $var") are not known at load and are not reported.
 */
static ngx_int_t
ngx_http_compliance_status_certificates(ngx_conf_t *cf,
    ngx_http_compliance_status_main_conf_t *sc)
{
    ngx_str_t                           *name;
    ngx_uint_t                           j, i;
    ngx_http_compliance_cert_t          *all;
    ngx_http_compliance_main_conf_t     *cmf;
    ngx_http_compliance_status_cert_t   *c;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    sc->certs = ngx_array_create(cf->pool, 4,
                                 sizeof(ngx_http_compliance_status_cert_t));
    if (sc->certs == NULL) {
        return NGX_ERROR;
    }

    if (cmf->daily.certs == NULL) {
        return NGX_OK;
    }

    all = cmf->daily.certs->elts;

    for (j = 0; j < cmf->daily.certs->nelts; j++) {
        name = &all[j].server->server_name;
        c = sc->certs->elts;

        for (i = 0; i < sc->certs->nelts; i++) {
            if (c[i].server.len == name->len
                && ngx_strncmp(c[i].server.data, name->data, name->len) == 0)
            {
                break;
            }
        }

        if (i < sc->certs->nelts) {
            c[i].expires = ngx_min(c[i].expires, all[j].expires);
            continue;
        }

        c = ngx_array_push(sc->certs);
        if (c == NULL) {
            return NGX_ERROR;
        }

        c->server = *name;
        c->expires = all[j].expires;
    }

    return NGX_OK;
}

#endif


/* --- the content handler */


static ngx_int_t
ngx_http_compliance_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_str_t                          format;
    ngx_http_compliance_ctx_t         *ctx;
    ngx_http_compliance_main_conf_t   *cmf;
    ngx_http_compliance_status_out_t   w;

    ctx = ngx_http_compliance_access_admitted(r);
    if (ctx == NULL) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&w, sizeof(ngx_http_compliance_status_out_t));
    w.r = r;
    w.last = &w.out;

    if (ngx_http_arg(r, (u_char *) "format", sizeof("format") - 1, &format)
        == NGX_OK)
    {
        if (format.len == sizeof("json") - 1
            && ngx_strncmp(format.data, "json", format.len) == 0)
        {
            w.json = 1;

        } else if (!(format.len == sizeof("prometheus") - 1
                     && ngx_strncmp(format.data, "prometheus", format.len)
                        == 0))
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);

    if (ngx_http_compliance_status_write(&w, cmf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = w.len;

    if (w.json) {
        r->headers_out.content_type = ngx_http_compliance_status_json_type;

    } else {
        r->headers_out.content_type = ngx_http_compliance_status_text_type;
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    /* counts of one moment: no cache may answer for a later one */
    if (ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_status_cache_name,
                                       &ngx_http_compliance_status_no_store)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w.b->last_buf = 1;
    w.b->last_in_chain = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, w.out);
}


/* the counters of SPEC 13, then its gauges */
static ngx_int_t
ngx_http_compliance_status_write(ngx_http_compliance_status_out_t *w,
    ngx_http_compliance_main_conf_t *cmf)
{
    time_t                                  now;
    ngx_uint_t                              i, k;
    ngx_array_t                             zones;
    ngx_http_compliance_status_sh_t        *sh;
    ngx_http_compliance_status_cert_t      *c;
    ngx_http_compliance_status_zone_t      *z;
    ngx_http_compliance_status_family_t    *f;

    static const char  *zone_names[] = {
        "compliance_limit_zone_keys",
        "compliance_limit_zone_used_bytes"
    };

    static const char  *zone_help[] = {
        "Keys held in a compliance_limit_zone.",
        "Bytes of a compliance_limit_zone in use (whole slab pages)."
    };

    sh = cmf->status.sh;

    if (ngx_array_init(&zones, w->r->pool, 4,
                       sizeof(ngx_http_compliance_status_zone_t))
        != NGX_OK
        || ngx_http_compliance_status_zones(w->r, &zones) != NGX_OK
        || ngx_http_compliance_status_room(w, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (w->json) {
        *w->b->last++ = '{';
        w->len++;
    }

    for (f = ngx_http_compliance_status_families; f->name; f++) {

        if (ngx_http_compliance_status_family(w, f->name, "counter", f->help,
                                              f->label)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (i = 0; i < f->n; i++) {
            if (ngx_http_compliance_status_sample(w,
                                             f->values ? &f->values[i] : NULL,
                                             sh ? (int64_t)
                                                  sh->counters[f->first + i]
                                                : 0)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_compliance_status_end(w) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* keys, then bytes, of each zone */
    z = zones.elts;

    for (k = 0; k < 2; k++) {

        if (ngx_http_compliance_status_family(w, zone_names[k], "gauge",
                                              zone_help[k], "zone")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (i = 0; i < zones.nelts; i++) {
            if (ngx_http_compliance_status_sample(w, z[i].name,
                                                  k ? (int64_t) z[i].used
                                                    : (int64_t) z[i].keys)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_compliance_status_end(w) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_compliance_status_family(w,
                                     "compliance_certificate_expiry_seconds",
                                     "gauge", "Seconds until the soonest "
                                     "certificate of a server expires.",
                                     "server")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    now = ngx_time();
    c = cmf->status.certs ? cmf->status.certs->elts : NULL;

    for (i = 0; c && i < cmf->status.certs->nelts; i++) {
        if (ngx_http_compliance_status_sample(w, &c[i].server,
                                              (int64_t) (c[i].expires - now))
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_compliance_status_end(w) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_compliance_status_redis(w, cmf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cmf->status.posture) {
        if (ngx_http_compliance_status_family(w, "compliance_posture_gaps",
                                              "gauge", "Posture gaps of the "
                                              "loaded configuration.", NULL)
            != NGX_OK
            || ngx_http_compliance_status_sample(w, NULL,
                                                (int64_t) cmf->status.gaps)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (w->json) {
        if (ngx_http_compliance_status_room(w, 2) != NGX_OK) {
            return NGX_ERROR;
        }

        *w->b->last++ = '}';
        *w->b->last++ = '\n';
        w->len += 2;
    }

    return NGX_OK;
}


/*
 * SPEC 15: the counters of each zone with redis= (shared by the workers
 * in the zone's own small shared zone, see ngx_http_compliance_redis.c),
 * and whether an outage runs
 */
static ngx_int_t
ngx_http_compliance_status_redis(ngx_http_compliance_status_out_t *w,
    ngx_http_compliance_main_conf_t *cmf)
{
    ngx_uint_t                             i, k, n;
    ngx_atomic_t                          *v;
    ngx_http_compliance_redis_t          **rd;
    ngx_http_compliance_redis_counters_t  *c;

    static const char  *names[] = {
        "compliance_limit_redis_commands_total",
        "compliance_limit_redis_errors_total",
        "compliance_limit_redis_timeouts_total",
        "compliance_limit_redis_fallbacks_total",
        "compliance_limit_redis_refused_total",
        "compliance_limit_redis_outages_total",
        "compliance_limit_redis_reconnects_total",
        "compliance_limit_redis_outage"
    };

    static const char  *help[] = {
        "Commands Redis answered, of a zone with redis=.",
        "Error replies from Redis.",
        "Times Redis was slower than 50 ms.",
        "Requests decided by the local bucket without Redis (fail=open).",
        "Requests refused with 503 without Redis (fail=closed).",
        "Outages of the zone's Redis.",
        "Reconnects to the zone's Redis.",
        "1 while an outage of the zone's Redis runs."
    };

    if (cmf->limit.redis == NULL) {
        return NGX_OK;
    }

    rd = cmf->limit.redis->elts;
    n = cmf->limit.redis->nelts;

    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {

        if (ngx_http_compliance_status_family(w, names[k],
                                              k == 7 ? "gauge" : "counter",
                                              help[k], "zone")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (i = 0; i < n; i++) {
            c = ngx_http_compliance_redis_counters(rd[i]);

            if (c == NULL) {
                continue;
            }

            /* the fields in the order of names[] */
            v = &c->requests + k;

            if (ngx_http_compliance_status_sample(w,
                                      ngx_http_compliance_redis_zone(rd[i]),
                                      k == 7 ? (int64_t) (*v != 0)
                                             : (int64_t) *v)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_compliance_status_end(w) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the compliance_limit_zones of this cycle, in the order declared */
static ngx_int_t
ngx_http_compliance_status_zones(ngx_http_request_t *r, ngx_array_t *zones)
{
    size_t                              used;
    ngx_uint_t                          i, keys;
    ngx_list_part_t                    *part;
    ngx_shm_zone_t                     *shm_zone;
    ngx_http_compliance_status_zone_t  *z;

    part = &((ngx_cycle_t *) ngx_cycle)->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (ngx_http_compliance_limit_zone_stats(&shm_zone[i], &keys, &used)
            != NGX_OK)
        {
            continue;
        }

        z = ngx_array_push(zones);
        if (z == NULL) {
            return NGX_ERROR;
        }

        z->name = &shm_zone[i].shm.name;
        z->keys = keys;
        z->used = used;
    }

    return NGX_OK;
}


/* at least need bytes free in the current buffer */
static ngx_int_t
ngx_http_compliance_status_room(ngx_http_compliance_status_out_t *w,
    size_t need)
{
    ngx_chain_t  *cl;

    if (w->b && (size_t) (w->b->end - w->b->last) >= need) {
        return NGX_OK;
    }

    cl = ngx_alloc_chain_link(w->r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = ngx_create_temp_buf(w->r->pool,
                                  ngx_max(need,
                                          NGX_HTTP_COMPLIANCE_STATUS_CHUNK));
    if (cl->buf == NULL) {
        return NGX_ERROR;
    }

    cl->next = NULL;
    *w->last = cl;
    w->last = &cl->next;
    w->b = cl->buf;

    return NGX_OK;
}


/*
 * A metric family: "# HELP" and "# TYPE" lines, or a JSON member named
 * as the metric, an object of its label values when it has a label.
 */
static ngx_int_t
ngx_http_compliance_status_family(ngx_http_compliance_status_out_t *w,
    const char *name, const char *type, const char *help, const char *label)
{
    u_char  *p;
    size_t   len;

    len = sizeof("# HELP  \n# TYPE  \n") + 2 * ngx_strlen(name)
          + ngx_strlen(help) + ngx_strlen(type) + sizeof(",\"\":{");

    if (ngx_http_compliance_status_room(w, len) != NGX_OK) {
        return NGX_ERROR;
    }

    p = w->b->last;

    if (w->json) {
        p = ngx_sprintf(p, "%s\"%s\":%s", w->members ? "," : "", name,
                        label ? "{" : "");
        w->members++;

    } else {
        p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
    }

    w->len += p - w->b->last;
    w->b->last = p;

    w->name = name;
    w->label = label;
    w->samples = 0;

    return NGX_OK;
}


/* one sample of the current family; value: its label's value, or NULL */
static ngx_int_t
ngx_http_compliance_status_sample(ngx_http_compliance_status_out_t *w,
    ngx_str_t *value, int64_t n)
{
    u_char  *p;
    size_t   len;

    len = ngx_strlen(w->name) + NGX_INT64_LEN + sizeof("{=\"\"} \n")
          + (w->label ? ngx_strlen(w->label) : 0)
          + (value ? 6 * value->len : 0);

    if (ngx_http_compliance_status_room(w, len) != NGX_OK) {
        return NGX_ERROR;
    }

    p = w->b->last;

    if (!w->json) {
        p = ngx_sprintf(p, "%s", w->name);

        if (value) {
            p = ngx_sprintf(p, "{%s=\"", w->label);
            p = ngx_http_compliance_status_escape(p, value, 0);
            *p++ = '"';
            *p++ = '}';
        }

        p = ngx_sprintf(p, " %L\n", n);

    } else if (value) {
        if (w->samples) {
            *p++ = ',';
        }

        *p++ = '"';
        p = ngx_http_compliance_status_escape(p, value, 1);
        p = ngx_sprintf(p, "\":%L", n);

    } else {
        p = ngx_sprintf(p, "%L", n);
    }

    w->len += p - w->b->last;
    w->b->last = p;
    w->samples++;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_status_end(ngx_http_compliance_status_out_t *w)
{
    if (!w->json || w->label == NULL) {
        return NGX_OK;
    }

    if (ngx_http_compliance_status_room(w, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    *w->b->last++ = '}';
    w->len++;

    return NGX_OK;
}


/*
 * A label value: Prometheus escapes \, " and newlines; JSON also control
 * characters (ngx_escape_json).  At most 6 bytes per byte of s.
 */
static u_char *
ngx_http_compliance_status_escape(u_char *p, ngx_str_t *s, ngx_uint_t json)
{
    u_char  *c, *last;

    if (json) {
        return (u_char *) ngx_escape_json(p, s->data, s->len);
    }

    last = s->data + s->len;

    for (c = s->data; c < last; c++) {
        if (*c == '\\' || *c == '"') {
            *p++ = '\\';
            *p++ = *c;

        } else if (*c == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = *c;
        }
    }

    return p;
}
