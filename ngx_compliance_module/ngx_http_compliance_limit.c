/*
 * Per-key rate limits (compliance_limit) and auth-failure lockouts
 * (compliance_auth_failure_limit), both kept in compliance_limit_zone
 * shared memory zones shaped like limit_req's: one mutex, an rbtree keyed
 * by a hash with a full-key compare, an LRU queue, idle full buckets
 * expired, the least recently used key evicted when the slab is full.
 * The bucket arithmetic is core/compliance_bucket.c; the admin endpoint
 * that lists and clears lockouts, through lockout_walk() below, is
 * ngx_http_compliance_lockout.c.
 */

#include "ngx_http_compliance_module.h"

#include "compliance_bucket.h"
#include "compliance_cidr.h"
#include "ngx_http_compliance_redis.h"


#define NGX_HTTP_COMPLIANCE_LIMIT_MAGIC     0x544d4c43  /* "CLMT" */
#define NGX_HTTP_COMPLIANCE_LIMIT_LAYOUT    2

/*
 * Every rate is kept per hour, so one token is the same number of units
 * in every bucket and limits with different periods may share a zone.
 */
#define NGX_HTTP_COMPLIANCE_LIMIT_UNIT      3600000

/* forced evictions tried for one new node before giving up */
#define NGX_HTTP_COMPLIANCE_LIMIT_EVICT     16

/* the "zone is full" warning, at most once a minute per zone */
#define NGX_HTTP_COMPLIANCE_LIMIT_WARN      60

/* key types: a principal can never collide with an address */
#define NGX_HTTP_COMPLIANCE_KEY_IP          'i'
#define NGX_HTTP_COMPLIANCE_KEY_PRINCIPAL   'p'
#define NGX_HTTP_COMPLIANCE_KEY_ORG         'o'
#define NGX_HTTP_COMPLIANCE_KEY_FAILURE     'f'
#define NGX_HTTP_COMPLIANCE_KEY_ALLOWED     'a'  /* allow-listed failures */
#define NGX_HTTP_COMPLIANCE_KEY_API_KEY     'k'  /* an API key's id */
#define NGX_HTTP_COMPLIANCE_KEY_TOKEN       't'  /* a token's sub + client */

/* compliance_limit key= */
#define NGX_HTTP_COMPLIANCE_LIMIT_BY_PRINCIPAL  0
#define NGX_HTTP_COMPLIANCE_LIMIT_BY_ORG        1
#define NGX_HTTP_COMPLIANCE_LIMIT_BY_IP         2
#define NGX_HTTP_COMPLIANCE_LIMIT_BY_KEY_ID     3
#define NGX_HTTP_COMPLIANCE_LIMIT_BY_N          4

/*
 * Laid over an ngx_rbtree_node_t from its "color" field on, as in
 * limit_req: 32 + 52 bytes before the key, so an IPv4 or IPv6 address
 * and any key up to 44 bytes fit one 128-byte slab chunk.
 */
typedef struct {
    u_char                               color;
    u_char                               type;
    u_short                              len;
    uint32_t                             expire;   /* s: idle and full */
    ngx_queue_t                          queue;
    compliance_bucket_t                  bucket;
    ngx_msec_t                           until;    /* lockout window end */
    unsigned                             failures:31;
    unsigned                             blocked:1;  /* until blocks */
    u_char                               data[1];
} ngx_http_compliance_limit_node_t;


typedef struct {
    uint32_t                             magic;
    uint32_t                             layout;
    uint32_t                             node_size;
    uint32_t                             unit;
    ngx_rbtree_t                         rbtree;
    ngx_rbtree_node_t                    sentinel;
    ngx_queue_t                          queue;
    time_t                               warned;   /* last "full" warning */
} ngx_http_compliance_limit_shctx_t;


/* shm_zone->data */
typedef struct {
    ngx_http_compliance_limit_shctx_t   *sh;
    ngx_slab_pool_t                     *shpool;
    ngx_http_compliance_redis_t         *redis;    /* SPEC 15, or NULL */
} ngx_http_compliance_limit_zone_t;


/* one compliance_limit */
typedef struct {
    ngx_shm_zone_t                      *shm_zone;
    compliance_bucket_conf_t             bucket;   /* normalised to UNIT */
    uint64_t                             burst;    /* q= */
    ngx_uint_t                           window;   /* w=, seconds */
    ngx_uint_t                           key;      /* LIMIT_BY_* */
    ngx_flag_t                           dry_run;
    ngx_http_compliance_conf_pos_t       where;
} ngx_http_compliance_limit_t;


struct ngx_http_compliance_failure_limit_s {
    ngx_shm_zone_t                      *shm_zone;
    compliance_bucket_conf_t             bucket;
    ngx_uint_t                           rate;     /* as written */
    ngx_msec_t                           period;   /* ms */
    ngx_msec_t                           block;    /* ms, 0: no block */
    compliance_cidr_list_t               allow;    /* never locked out */
    ngx_flag_t                           allow_unix;
    ngx_http_compliance_conf_pos_t       where;
};


typedef struct {
    uint32_t                             hash;
    u_char                               type;
    ngx_str_t                            data;
} ngx_http_compliance_limit_key_t;


/* an element of ctx->limit.results */
typedef struct {
    ngx_http_compliance_limit_t         *limit;
    uint64_t                             remaining;
    uint64_t                             reset;
    unsigned                             known:1;  /* a bucket was read */
    unsigned                             charged:1;
    unsigned                             redis:1;  /* charged in Redis */
    ngx_str_t                            redis_key;
} ngx_http_compliance_limit_result_t;


static char *ngx_http_compliance_limit_parse_rate(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value, compliance_bucket_conf_t *bc,
    ngx_uint_t *rate, ngx_uint_t *window);
static char *ngx_http_compliance_limit_parse_uint(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value, size_t skip, uint64_t *n);
static char *ngx_http_compliance_limit_parse_allow(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value, ngx_array_t **rules,
    ngx_flag_t *unix_peers);
static ngx_shm_zone_t *ngx_http_compliance_limit_use_zone(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value);
static char *ngx_http_compliance_limit_failure_zone(ngx_conf_t *cf,
    ngx_shm_zone_t *shm_zone);
static char *ngx_http_compliance_limit_check_zone(ngx_conf_t *cf,
    ngx_shm_zone_t *shm_zone, const char *directive,
    ngx_http_compliance_conf_pos_t *where);
static ngx_int_t ngx_http_compliance_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_compliance_limit_rbtree_insert_value(
    ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);
static ngx_http_compliance_limit_node_t *ngx_http_compliance_limit_lookup(
    ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_key_t *key);
static ngx_http_compliance_limit_node_t *ngx_http_compliance_limit_create(
    ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_key_t *key, ngx_log_t *log);
static ngx_uint_t ngx_http_compliance_limit_expire(
    ngx_http_compliance_limit_zone_t *zone, ngx_uint_t force);
static void ngx_http_compliance_limit_delete(
    ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_node_t *lr);
static ngx_uint_t ngx_http_compliance_limit_locked(
    ngx_http_compliance_limit_node_t *lr, ngx_msec_t now);
static void ngx_http_compliance_lockout_report(ngx_shm_zone_t *shm_zone,
    ngx_http_compliance_limit_node_t *lr, ngx_msec_t now, ngx_array_t *out);
static void ngx_http_compliance_limit_set_expire(
    ngx_http_compliance_limit_node_t *lr, uint64_t now,
    compliance_bucket_result_t *res);
static void ngx_http_compliance_limit_addr_key(struct sockaddr *sa,
    u_char type, ngx_http_compliance_limit_key_t *key);
static void ngx_http_compliance_limit_make_key(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t by,
    ngx_http_compliance_limit_key_t *key);
static ngx_int_t ngx_http_compliance_limit_token_key(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_limit_key_t *key);
static ngx_uint_t ngx_http_compliance_limit_allowed(
    ngx_http_compliance_failure_limit_t *fl, struct sockaddr *sa);
static void ngx_http_compliance_limit_hash(
    ngx_http_compliance_limit_key_t *key);
static ngx_int_t ngx_http_compliance_limit_account(
    ngx_http_compliance_limit_t *limit, ngx_http_compliance_limit_key_t *key,
    uint64_t now, ngx_uint_t charge, ngx_log_t *log,
    compliance_bucket_result_t *res);
static void ngx_http_compliance_limit_refund(
    ngx_http_compliance_limit_t *limit, ngx_http_compliance_limit_key_t *key,
    uint64_t now, ngx_http_compliance_limit_result_t *lres);
static ngx_uint_t ngx_http_compliance_limit_charged(
    ngx_http_compliance_ctx_t *ctx, ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_compliance_limit_retry_after(ngx_http_request_t *r,
    uint64_t seconds);
static u_char *ngx_http_compliance_limit_uint(u_char *p, uint64_t n);
static ngx_int_t ngx_http_compliance_limit_redis_ask(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_limit_key_t *keys);
static ngx_int_t ngx_http_compliance_limit_redis(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_limit_t *limit,
    ngx_uint_t i, ngx_http_compliance_limit_key_t *key, uint64_t now,
    ngx_uint_t charge, compliance_bucket_result_t *res);
static void ngx_http_compliance_limit_synced(void *data, ngx_str_t *key,
    uint64_t units, uint64_t lock);
static void ngx_http_compliance_limit_follow(
    ngx_http_compliance_limit_t *limit, ngx_http_compliance_limit_key_t *key,
    uint64_t now, uint64_t units, ngx_log_t *log);
static void ngx_http_compliance_limit_redis_key(
    ngx_http_compliance_limit_zone_t *zone, ngx_shm_zone_t *shm_zone,
    ngx_http_compliance_limit_key_t *key, ngx_uint_t forget,
    ngx_http_compliance_failure_limit_t *fl, ngx_msec_t block);


/* a tag of our own: no other zone of this module can be taken for ours */
static ngx_uint_t  ngx_http_compliance_limit_tag;

static ngx_str_t  ngx_http_compliance_limit_policy_name =
    ngx_string("RateLimit-Policy");
static ngx_str_t  ngx_http_compliance_limit_state_name =
    ngx_string("RateLimit");
static ngx_str_t  ngx_http_compliance_retry_after_name =
    ngx_string("Retry-After");


char *
ngx_http_compliance_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_main_conf_t  *cmf = conf;

    u_char                            *p, *last;
    ssize_t                            size;
    ngx_str_t                         *value;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_compliance_limit_zone_t  *zone;

    value = cf->args->elts;

    /* the name is sent in the RateLimit headers as an sf-string */
    p = value[1].data;
    last = p + value[1].len;

    while (p < last && *p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
        p++;
    }

    if (value[1].len == 0 || p != last) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\" in \"%V\"",
                           &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "size \"%V\" of zone \"%V\" in \"%V\" is too "
                           "small, the minimum is %uzk",
                           &value[2], &value[1], &cmd->name,
                           8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &value[1], size,
                                     &ngx_http_compliance_limit_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_compliance_limit_init_zone;
    shm_zone->data = zone;

    /* SPEC 15: redis=, redis_password_file=, mode=, sync=, fail= */
    if (ngx_http_compliance_redis_zone_conf(cf, cmd, &value[1], &value[3],
                                            cf->args->nelts - 3,
                                            &zone->redis)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (zone->redis) {
        ngx_http_compliance_redis_sync_handler(zone->redis,
                                               ngx_http_compliance_limit_synced,
                                               shm_zone);
    }

    cmf->limit.zones++;

    return NGX_CONF_OK;
}


/* the parameters compliance_limit and compliance_auth_failure_limit share */
typedef struct {
    ngx_shm_zone_t                 *shm_zone;    /* zone= */
    compliance_bucket_conf_t        bc;          /* rate= */
    ngx_uint_t                      rate;
    ngx_uint_t                      window;
} ngx_http_compliance_limit_common_t;


static ngx_conf_enum_t  ngx_http_compliance_limit_keys[] = {
    { ngx_string("principal"), NGX_HTTP_COMPLIANCE_LIMIT_BY_PRINCIPAL },
    { ngx_string("org"), NGX_HTTP_COMPLIANCE_LIMIT_BY_ORG },
    { ngx_string("ip"), NGX_HTTP_COMPLIANCE_LIMIT_BY_IP },
    { ngx_string("key_id"), NGX_HTTP_COMPLIANCE_LIMIT_BY_KEY_ID },
    { ngx_null_string, 0 }
};


/*
 * zone= and rate=, each once: NGX_OK when arg was one of them, NGX_DECLINED
 * when it is another parameter, NGX_ERROR when it is bad (logged).
 */
static ngx_int_t
ngx_http_compliance_limit_common(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_http_compliance_limit_common_t *common)
{
    ngx_str_t  s;

    if (ngx_http_compliance_conf_param(arg, "zone", &s)
        && common->shm_zone == NULL)
    {
        common->shm_zone = ngx_http_compliance_limit_use_zone(cf, cmd, arg);

        return common->shm_zone ? NGX_OK : NGX_ERROR;
    }

    if (ngx_http_compliance_conf_param(arg, "rate", &s)
        && common->bc.rate == 0)
    {
        if (ngx_http_compliance_limit_parse_rate(cf, cmd, arg, &common->bc,
                                                 &common->rate,
                                                 &common->window)
            != NGX_CONF_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


char *
ngx_http_compliance_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    char                                *rv;
    uint64_t                             burst;
    ngx_str_t                           *value, s;
    ngx_int_t                            rc;
    ngx_uint_t                           i, key, dry_run;
    ngx_conf_enum_t                     *keys;
    ngx_http_compliance_limit_t         *limit, *limits;
    ngx_http_compliance_limit_common_t   common;

    value = cf->args->elts;
    keys = ngx_http_compliance_limit_keys;

    ngx_memzero(&common, sizeof(ngx_http_compliance_limit_common_t));
    burst = 0;
    key = NGX_CONF_UNSET_UINT;
    dry_run = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        rc = ngx_http_compliance_limit_common(cf, cmd, &value[i], &common);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "burst", &s)
            && burst == 0)
        {
            rv = ngx_http_compliance_limit_parse_uint(cf, cmd, &value[i], 6,
                                                      &burst);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        /* an unknown key= value is an invalid parameter, as it was */
        if (ngx_http_compliance_conf_param(&value[i], "key", &s)
            && key == NGX_CONF_UNSET_UINT
            && ngx_http_compliance_conf_enum_find(keys, &s, &key) == NGX_OK)
        {
            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0 && !dry_run) {
            dry_run = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (common.shm_zone == NULL || common.bc.rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=\" and \"rate=\" "
                           "parameters", &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* capacity in tokens: the burst, by default the rate per period */
    if (burst == 0) {
        burst = common.rate;
    }

    common.bc.burst = burst;

    if (compliance_bucket_conf_check(&common.bc) != COMPLIANCE_BUCKET_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "burst %uL in \"%V\" is too large", burst,
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (clcf->limit.limits == NULL) {
        clcf->limit.limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_compliance_limit_t));
        if (clcf->limit.limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* a zone is charged once per request: one limit per zone here */
    limits = clcf->limit.limits->elts;

    for (i = 0; i < clcf->limit.limits->nelts; i++) {
        if (limits[i].shm_zone == common.shm_zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate zone \"%V\" in \"%V\", a zone "
                               "may be used once per location",
                               &common.shm_zone->shm.name, &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(clcf->limit.limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = common.shm_zone;
    limit->bucket = common.bc;
    limit->burst = burst;
    limit->window = common.window;
    limit->key = (key == NGX_CONF_UNSET_UINT)
                 ? NGX_HTTP_COMPLIANCE_LIMIT_BY_PRINCIPAL : key;
    limit->dry_run = dry_run;
    ngx_http_compliance_conf_pos_set(cf, &limit->where);

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_auth_failure_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    char                                 *rv;
    ngx_str_t                            *value, s;
    ngx_int_t                             block, rc;
    ngx_flag_t                            allow_unix;
    ngx_uint_t                            i;
    ngx_array_t                          *allow;
    ngx_http_compliance_limit_common_t    common;
    ngx_http_compliance_failure_limit_t  *fl;

    if (clcf->limit.failure != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&common, sizeof(ngx_http_compliance_limit_common_t));
    block = 0;
    allow = NULL;
    allow_unix = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        rc = ngx_http_compliance_limit_common(cf, cmd, &value[i], &common);

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "block", &s)
            && block == 0)
        {
            block = ngx_parse_time(&s, 0);

            if (block == NGX_ERROR || block == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid block time \"%V\" in \"%V\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        /* repeatable: each one adds to the list */
        if (ngx_http_compliance_conf_param(&value[i], "allow", &s)) {
            rv = ngx_http_compliance_limit_parse_allow(cf, cmd, &value[i],
                                                       &allow, &allow_unix);
            if (rv != NGX_CONF_OK) {
                return rv;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (common.shm_zone == NULL || common.bc.rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=\" and \"rate=\" "
                           "parameters", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_compliance_limit_failure_zone(cf, common.shm_zone)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    fl = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_failure_limit_t));
    if (fl == NULL) {
        return NGX_CONF_ERROR;
    }

    fl->shm_zone = common.shm_zone;
    fl->rate = common.rate;
    fl->bucket = common.bc;
    fl->bucket.burst = fl->rate;
    fl->period = common.window * 1000;
    fl->block = block;
    fl->allow.rules = allow ? allow->elts : NULL;
    fl->allow.n = allow ? allow->nelts : 0;
    fl->allow_unix = allow_unix;
    ngx_http_compliance_conf_pos_set(cf, &fl->where);

    clcf->limit.failure = fl;

    return NGX_CONF_OK;
}


/* "rate=Nr/s", "Nr/m" or "Nr/h", kept as units per ms of a 1-hour period */
static char *
ngx_http_compliance_limit_parse_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, compliance_bucket_conf_t *bc, ngx_uint_t *rate,
    ngx_uint_t *window)
{
    u_char     *p;
    size_t      len;
    ngx_int_t   n;
    ngx_uint_t  scale;

    p = value->data + 5;
    len = value->len - 5;

    if (len < 4 || p[len - 3] != 'r' || p[len - 2] != '/') {
        goto invalid;
    }

    switch (p[len - 1]) {
    case 's':
        *window = 1;
        break;
    case 'm':
        *window = 60;
        break;
    case 'h':
        *window = 3600;
        break;
    default:
        goto invalid;
    }

    n = ngx_atoi(p, len - 3);
    if (n == NGX_ERROR || n == 0) {
        goto invalid;
    }

    scale = NGX_HTTP_COMPLIANCE_LIMIT_UNIT / (*window * 1000);

    if ((uint64_t) n > COMPLIANCE_BUCKET_MAX_RATE / scale) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rate \"%V\" in \"%V\" is too high",
                           value, &cmd->name);
        return NGX_CONF_ERROR;
    }

    *rate = n;

    bc->rate = (uint64_t) n * scale;
    bc->period_ms = NGX_HTTP_COMPLIANCE_LIMIT_UNIT;
    bc->burst = 0;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid rate \"%V\" in \"%V\", it must look like "
                       "\"rate=10r/s\", \"rate=10r/m\" or \"rate=10r/h\"",
                       value, &cmd->name);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_compliance_limit_parse_uint(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, size_t skip, uint64_t *n)
{
    ngx_int_t  v;

    v = ngx_atoi(value->data + skip, value->len - skip);

    if (v == NGX_ERROR || v == 0
        || (uint64_t) v > COMPLIANCE_BUCKET_MAX_BURST)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           value, &cmd->name);
        return NGX_CONF_ERROR;
    }

    *n = v;

    return NGX_CONF_OK;
}


/*
 * "allow=addr[/prefix],...": trusted sources (monitoring, an office NAT)
 * that are never locked out; "unix:" names unix-socket peers.  A /0
 * would exempt everyone, which is no limit at all: refused.
 */
static char *
ngx_http_compliance_limit_parse_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, ngx_array_t **rules, ngx_flag_t *unix_peers)
{
    u_char             *p, *last;
    ngx_str_t           one;
    compliance_cidr_t  *c;

    if (*rules == NULL) {
        *rules = ngx_array_create(cf->pool, 4, sizeof(compliance_cidr_t));
        if (*rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    p = value->data + 6;
    last = value->data + value->len;

    for ( ;; ) {
        one.data = p;

        while (p < last && *p != ',') {
            p++;
        }

        one.len = p - one.data;

        if (one.len == 5 && ngx_strncmp(one.data, "unix:", 5) == 0) {
            *unix_peers = 1;

        } else {
            c = ngx_array_push(*rules);
            if (c == NULL) {
                return NGX_CONF_ERROR;
            }

            if (compliance_cidr_parse(one.data, one.len, c) != 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid address \"%V\" in \"%V\" of "
                                   "\"%V\"", &one, value, &cmd->name);
                return NGX_CONF_ERROR;
            }

            if (c->prefix == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" in \"%V\" would exempt every "
                                   "address from the lockout",
                                   &one, &cmd->name);
                return NGX_CONF_ERROR;
            }
        }

        if (p == last) {
            return NGX_CONF_OK;
        }

        p++;
    }
}


/* the zones compliance_lockout_admin lists, each once */
static char *
ngx_http_compliance_limit_failure_zone(ngx_conf_t *cf,
    ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t                        i;
    ngx_shm_zone_t                  **z;
    ngx_http_compliance_main_conf_t  *cmf;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->limit.failure_zones == NULL) {
        cmf->limit.failure_zones = ngx_array_create(cf->pool, 2,
                                                 sizeof(ngx_shm_zone_t *));
        if (cmf->limit.failure_zones == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    z = cmf->limit.failure_zones->elts;

    for (i = 0; i < cmf->limit.failure_zones->nelts; i++) {
        if (z[i] == shm_zone) {
            return NGX_CONF_OK;
        }
    }

    z = ngx_array_push(cmf->limit.failure_zones);
    if (z == NULL) {
        return NGX_CONF_ERROR;
    }

    *z = shm_zone;

    return NGX_CONF_OK;
}


/*
 * Zones may be declared after their first use: a zone is looked up (or
 * added with size 0) now, and whether it was ever declared is checked
 * by ngx_http_compliance_limit_check_zone() once the http block is read.
 */
static ngx_shm_zone_t *
ngx_http_compliance_limit_use_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value)
{
    ngx_str_t  name;

    name.data = value->data + 5;
    name.len = value->len - 5;

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           value, &cmd->name);
        return NULL;
    }

    return ngx_shared_memory_add(cf, &name, 0,
                                 &ngx_http_compliance_limit_tag);
}


static char *
ngx_http_compliance_limit_check_zone(ngx_conf_t *cf, ngx_shm_zone_t *shm_zone,
    const char *directive, ngx_http_compliance_conf_pos_t *where)
{
    if (shm_zone->data != NULL) {
        return NGX_CONF_OK;
    }

    ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, where,
                                   "unknown zone \"%V\" in \"%s\", no "
                                   "\"compliance_limit_zone %V ...\" is "
                                   "declared", &shm_zone->shm.name,
                                   directive, &shm_zone->shm.name);

    return NGX_CONF_ERROR;
}


void
ngx_http_compliance_limit_create_loc_conf(
    ngx_http_compliance_limit_loc_conf_t *conf)
{
    conf->limits = NULL;
    conf->failure = NULL;
    conf->admin = 0;
}


/*
 * The limit directive this level wrote, if any, and where (the first
 * compliance_limit), for the access merge, which refuses limits where
 * "compliance" is off; asked before the merge, while an unset field
 * still means "not written here".
 */
const char *
ngx_http_compliance_limit_written(ngx_http_compliance_limit_loc_conf_t *conf,
    ngx_http_compliance_conf_pos_t **pos)
{
    ngx_http_compliance_limit_t  *limits;

    if (conf->limits != NULL) {
        limits = conf->limits->elts;
        *pos = conf->limits->nelts ? &limits[0].where : NULL;
        return "compliance_limit";
    }

    if (conf->failure != NULL) {
        *pos = &conf->failure->where;
        return "compliance_auth_failure_limit";
    }

    *pos = NULL;

    return NULL;
}


/*
 * As with limit_req, a level with its own compliance_limit lines does not
 * inherit the outer ones.  This runs after the whole http block is read,
 * when every compliance_limit_zone is known.
 */
char *
ngx_http_compliance_limit_merge_loc_conf(ngx_conf_t *cf,
    ngx_http_compliance_limit_loc_conf_t *prev,
    ngx_http_compliance_limit_loc_conf_t *conf)
{
    ngx_uint_t                    i;
    ngx_http_compliance_limit_t  *limits;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }

    if (conf->failure == NULL) {
        conf->failure = prev->failure;
    }

    if (conf->limits) {
        limits = conf->limits->elts;

        for (i = 0; i < conf->limits->nelts; i++) {
            if (ngx_http_compliance_limit_check_zone(cf, limits[i].shm_zone,
                                                     "compliance_limit",
                                                     &limits[i].where)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    if (conf->failure) {
        if (ngx_http_compliance_limit_check_zone(cf, conf->failure->shm_zone,
                                         "compliance_auth_failure_limit",
                                         &conf->failure->where)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_compliance_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_limit_zone_t  *ozone = data;

    size_t                              len;
    ngx_slab_pool_t                    *shpool;
    ngx_http_compliance_limit_zone_t   *zone;
    ngx_http_compliance_limit_shctx_t  *sh;

    zone = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    zone->shpool = shpool;

    if (ozone || shm_zone->shm.exists) {
        sh = shpool->data;

        /* a reload: the buckets stay, unless their layout changed */
        if (sh != NULL
            && sh->magic == NGX_HTTP_COMPLIANCE_LIMIT_MAGIC
            && sh->layout == NGX_HTTP_COMPLIANCE_LIMIT_LAYOUT
            && sh->node_size == offsetof(ngx_http_compliance_limit_node_t,
                                         data)
            && sh->unit == NGX_HTTP_COMPLIANCE_LIMIT_UNIT)
        {
            zone->sh = sh;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "compliance_limit_zone \"%V\" has another layout, "
                      "starting with empty buckets", &shm_zone->shm.name);

        ngx_shmtx_lock(&shpool->mutex);
        ngx_slab_init(shpool);
        ngx_shmtx_unlock(&shpool->mutex);
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_limit_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_limit_shctx_t));

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_compliance_limit_rbtree_insert_value);
    ngx_queue_init(&sh->queue);

    len = sizeof(" in compliance_limit_zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in compliance_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* running out is expected and handled by eviction: no [crit] */
    shpool->log_nomem = 0;

    /* the header last: a zone is only ever seen complete */
    sh->magic = NGX_HTTP_COMPLIANCE_LIMIT_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_LIMIT_LAYOUT;
    sh->node_size = offsetof(ngx_http_compliance_limit_node_t, data);
    sh->unit = NGX_HTTP_COMPLIANCE_LIMIT_UNIT;

    shpool->data = sh;
    zone->sh = sh;

    return NGX_OK;
}


static void
ngx_http_compliance_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                          rc;
    ngx_rbtree_node_t                **p;
    ngx_http_compliance_limit_node_t  *lr, *lrt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            lr = (ngx_http_compliance_limit_node_t *) &node->color;
            lrt = (ngx_http_compliance_limit_node_t *) &temp->color;

            rc = (ngx_int_t) lr->type - (ngx_int_t) lrt->type;

            if (rc == 0) {
                rc = ngx_memn2cmp(lr->data, lrt->data, lr->len, lrt->len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* with the zone locked; a hit becomes the most recently used key */
static ngx_http_compliance_limit_node_t *
ngx_http_compliance_limit_lookup(ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_key_t *key)
{
    ngx_int_t                          rc;
    ngx_rbtree_node_t                 *node, *sentinel;
    ngx_http_compliance_limit_node_t  *lr;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key->hash < node->key) {
            node = node->left;
            continue;
        }

        if (key->hash > node->key) {
            node = node->right;
            continue;
        }

        /* key->hash == node->key */

        lr = (ngx_http_compliance_limit_node_t *) &node->color;

        rc = (ngx_int_t) key->type - (ngx_int_t) lr->type;

        if (rc == 0) {
            rc = ngx_memn2cmp(key->data.data, lr->data, key->data.len,
                              (size_t) lr->len);
        }

        if (rc == 0) {
            ngx_queue_remove(&lr->queue);
            ngx_queue_insert_head(&zone->sh->queue, &lr->queue);
            return lr;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * With the zone locked.  Idle full buckets are dropped first, as they
 * equal a new one; when the slab is still full, least recently used keys
 * are evicted until the node fits.  NULL only if even that fails.
 */
static ngx_http_compliance_limit_node_t *
ngx_http_compliance_limit_create(ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_key_t *key, ngx_log_t *log)
{
    size_t                             size;
    ngx_uint_t                         i;
    ngx_rbtree_node_t                 *node;
    ngx_http_compliance_limit_node_t  *lr;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_compliance_limit_node_t, data)
           + key->data.len;

    (void) ngx_http_compliance_limit_expire(zone, 0);

    node = ngx_slab_alloc_locked(zone->shpool, size);

    for (i = 0; node == NULL && i < NGX_HTTP_COMPLIANCE_LIMIT_EVICT; i++) {

        if (ngx_http_compliance_limit_expire(zone, 1) == 0) {
            break;
        }

        node = ngx_slab_alloc_locked(zone->shpool, size);
    }

    if (i && ngx_time() - zone->sh->warned >= NGX_HTTP_COMPLIANCE_LIMIT_WARN)
    {
        zone->sh->warned = ngx_time();

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "compliance: zone is full, least recently used keys "
                      "are evicted%s", zone->shpool->log_ctx);
    }

    if (node == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: could not allocate a key of %uz bytes, "
                      "request not counted%s",
                      key->data.len, zone->shpool->log_ctx);
        return NULL;
    }

    node->key = key->hash;

    lr = (ngx_http_compliance_limit_node_t *) &node->color;

    lr->type = key->type;
    lr->len = (u_short) key->data.len;
    lr->expire = 0;
    lr->until = 0;
    lr->failures = 0;
    lr->blocked = 0;

    ngx_memcpy(lr->data, key->data.data, key->data.len);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &lr->queue);

    return lr;
}


/*
 * With the zone locked, as limit_req: removes up to two idle full buckets
 * from the LRU end; "force" removes the least recently used one first,
 * whatever its state, except a running lockout: flooding the zone with
 * new keys must not free a locked-out address.  Returns the number of
 * nodes removed.
 */
static ngx_uint_t
ngx_http_compliance_limit_expire(ngx_http_compliance_limit_zone_t *zone,
    ngx_uint_t force)
{
    uint32_t                           now;
    ngx_uint_t                         n, spared;
    ngx_queue_t                       *q;
    ngx_http_compliance_limit_node_t  *lr;

    now = (uint32_t) (ngx_current_msec / 1000);
    spared = 0;

    for (n = 0; n < 3; /* void */) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&zone->sh->queue);

        lr = ngx_queue_data(q, ngx_http_compliance_limit_node_t, queue);

        if (force && n == 0 && lr->until > ngx_current_msec
            && spared++ < NGX_HTTP_COMPLIANCE_LIMIT_EVICT)
        {
            ngx_queue_remove(q);
            ngx_queue_insert_head(&zone->sh->queue, q);
            continue;
        }

        if ((n > 0 || !force) && now < lr->expire) {
            break;
        }

        n++;

        ngx_http_compliance_limit_delete(zone, lr);
    }

    return n;
}


/* with the zone locked */
static void
ngx_http_compliance_limit_delete(ngx_http_compliance_limit_zone_t *zone,
    ngx_http_compliance_limit_node_t *lr)
{
    ngx_rbtree_node_t  *node;

    ngx_queue_remove(&lr->queue);

    node = (ngx_rbtree_node_t *)
               ((u_char *) lr - offsetof(ngx_rbtree_node_t, color));

    ngx_rbtree_delete(&zone->sh->rbtree, node);

    ngx_slab_free_locked(zone->shpool, node);
}


/* a node may go once its bucket is full again and no lockout is running */
static void
ngx_http_compliance_limit_set_expire(ngx_http_compliance_limit_node_t *lr,
    uint64_t now, compliance_bucket_result_t *res)
{
    uint64_t  expire;

    expire = now / 1000 + res->reset + 1;

    if (lr->until / 1000 + 1 > expire) {
        expire = lr->until / 1000 + 1;
    }

    lr->expire = (uint32_t) expire;
}


/*
 * The client address as bytes (the connection's, which realip may have
 * replaced): r->connection->sockaddr, or an address an operator names.
 */
static void
ngx_http_compliance_limit_addr_key(struct sockaddr *sa, u_char type,
    ngx_http_compliance_limit_key_t *key)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    u_char               *p;
    struct sockaddr_in6  *sin6;
#endif

    key->type = type;

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        key->data.data = (u_char *) &sin->sin_addr;
        key->data.len = sizeof(struct in_addr);
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        p = sin6->sin6_addr.s6_addr;

        /* an IPv4-mapped address is the IPv4 client */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            key->data.data = p + 12;
            key->data.len = sizeof(struct in_addr);

        } else {
            /*
             * a /64 is the smallest block one subscriber is given: keyed
             * by the full /128 a client could rotate out of a lockout
             */
            key->data.data = p;
            key->data.len = 8;
        }

        break;
#endif

    default:
        /* unix sockets: every client is the same local peer */
        key->data.data = (u_char *) "";
        key->data.len = 0;
        break;
    }

    ngx_http_compliance_limit_hash(key);
}


static void
ngx_http_compliance_limit_make_key(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t by,
    ngx_http_compliance_limit_key_t *key)
{
    /* public and not yet authenticated requests are counted per client */
    if (!ctx->authenticated || by == NGX_HTTP_COMPLIANCE_LIMIT_BY_IP) {
        goto ip;
    }

    if (by == NGX_HTTP_COMPLIANCE_LIMIT_BY_ORG && ctx->org.len) {
        key->type = NGX_HTTP_COMPLIANCE_KEY_ORG;
        key->data = ctx->org;

    } else if (by == NGX_HTTP_COMPLIANCE_LIMIT_BY_KEY_ID
               && ctx->auth_method == NGX_HTTP_COMPLIANCE_AUTH_API_KEY
               && ctx->key_id.len)
    {
        key->type = NGX_HTTP_COMPLIANCE_KEY_API_KEY;
        key->data = ctx->key_id;

    } else if (by != NGX_HTTP_COMPLIANCE_LIMIT_BY_KEY_ID
               || ngx_http_compliance_limit_token_key(r, ctx, key) != NGX_OK)
    {
        key->type = NGX_HTTP_COMPLIANCE_KEY_PRINCIPAL;
        key->data = ctx->principal;
    }

    if (key->data.len > 0xffff) {
        goto ip;
    }

    ngx_http_compliance_limit_hash(key);

    return;

ip:

    ngx_http_compliance_limit_addr_key(r->connection->sockaddr,
                                       NGX_HTTP_COMPLIANCE_KEY_IP, key);
}


/*
 * key=key_id for a token: no operator-issued id names one token holder
 * (the "kid" names the issuer's signing key, shared by all its tokens;
 * a "jti" changes with every refresh), so the credential is the pair
 * of the principal and the application the token was issued to:
 * "client_id" (RFC 9068), else "azp" (OpenID Connect).  NGX_DECLINED
 * when the token names neither: the principal alone is the key.
 */
static ngx_int_t
ngx_http_compliance_limit_token_key(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_limit_key_t *key)
{
    u_char                         *p, buf[COMPLIANCE_JWT_NUM_BUF];
    size_t                          len;
    const u_char                   *client;
    const compliance_jwt_claims_t  *c;

    if (ctx->auth_method != NGX_HTTP_COMPLIANCE_AUTH_JWT) {
        return NGX_DECLINED;
    }

    c = ngx_http_compliance_jwt_ctx_claims(ctx);
    if (c == NULL) {
        return NGX_DECLINED;
    }

    if ((compliance_jwt_claims_str(c, (u_char *) "client_id", 9, buf,
                                   sizeof(buf), &client, &len)
         != 0 || len == 0)
        && (compliance_jwt_claims_str(c, (u_char *) "azp", 3, buf,
                                      sizeof(buf), &client, &len)
            != 0 || len == 0))
    {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, ctx->principal.len + 1 + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* a principal holds no control character: the NUL separates */
    key->type = NGX_HTTP_COMPLIANCE_KEY_TOKEN;
    key->data.data = p;
    key->data.len = ctx->principal.len + 1 + len;

    p = ngx_cpymem(p, ctx->principal.data, ctx->principal.len);
    *p++ = '\0';
    ngx_memcpy(p, client, len);

    return NGX_OK;
}


/* murmur: no table to miss in the cache; the type spreads the kinds */
static void
ngx_http_compliance_limit_hash(ngx_http_compliance_limit_key_t *key)
{
    key->hash = ngx_murmur_hash2(key->data.data, key->data.len)
                + (uint32_t) key->type * 0x9e3779b1;
}


/*
 * One lock, one lookup, one bucket update.  "charge" 0 only reports
 * (a limit after one that refused).  NGX_ERROR: no room for the key.
 */
static ngx_int_t
ngx_http_compliance_limit_account(ngx_http_compliance_limit_t *limit,
    ngx_http_compliance_limit_key_t *key, uint64_t now, ngx_uint_t charge,
    ngx_log_t *log, compliance_bucket_result_t *res)
{
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_limit_node_t  *lr;

    zone = limit->shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_compliance_limit_lookup(zone, key);

    if (lr == NULL) {
        lr = ngx_http_compliance_limit_create(zone, key, log);

        if (lr == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return NGX_ERROR;
        }

        (void) compliance_bucket_init(&lr->bucket, now, &limit->bucket);
    }

    if (charge) {
        (void) compliance_bucket_take(&lr->bucket, now, &limit->bucket, res);

    } else {
        (void) compliance_bucket_peek(&lr->bucket, now, &limit->bucket, res);
    }

    ngx_http_compliance_limit_set_expire(lr, now, res);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


/* a refused request costs no token in the other zones */
static void
ngx_http_compliance_limit_refund(ngx_http_compliance_limit_t *limit,
    ngx_http_compliance_limit_key_t *key, uint64_t now,
    ngx_http_compliance_limit_result_t *lres)
{
    uint64_t                           cap;
    compliance_bucket_result_t         res;
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_limit_node_t  *lr;

    zone = limit->shm_zone->data;
    cap = limit->bucket.burst * limit->bucket.period_ms;

    if (lres->redis) {
        ngx_http_compliance_redis_refund(zone->redis, &lres->redis_key,
                                         &limit->bucket);
        lres->charged = 0;
        return;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    /* the key may have been evicted meanwhile: then nothing to give back */
    lr = ngx_http_compliance_limit_lookup(zone, key);

    if (lr != NULL) {
        lr->bucket.units += limit->bucket.period_ms;

        if (lr->bucket.units > cap) {
            lr->bucket.units = cap;
        }

        (void) compliance_bucket_peek(&lr->bucket, now, &limit->bucket, &res);

        lres->remaining = res.remaining;
        lres->reset = res.reset;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    lres->charged = 0;
}


ngx_int_t
ngx_http_compliance_limit_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    uint64_t                             now, retry;
    ngx_int_t                            rc;
    ngx_uint_t                           i, first, refuse;
    compliance_bucket_result_t           res;
    ngx_http_compliance_limit_t         *limits;
    ngx_http_compliance_limit_key_t      keys[NGX_HTTP_COMPLIANCE_LIMIT_BY_N];
    ngx_http_compliance_limit_key_t     *key;
    ngx_http_compliance_limit_result_t  *lres, *results;

    if (clcf->limit.limits == NULL || ctx->refused) {
        return NGX_DECLINED;
    }

    if (ctx->limit.results == NULL) {
        ctx->limit.results = ngx_array_create(r->pool,
                                 clcf->limit.limits->nelts,
                                 sizeof(ngx_http_compliance_limit_result_t));
        if (ctx->limit.results == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    limits = clcf->limit.limits->elts;
    first = ctx->limit.results->nelts;
    now = ngx_current_msec;
    refuse = 0;
    retry = 0;

    /* each kind of key is made and hashed at most once */
    for (i = 0; i < NGX_HTTP_COMPLIANCE_LIMIT_BY_N; i++) {
        keys[i].data.data = NULL;
    }

    /* SPEC 15: the strict Redis zones are asked first, all at once */
    rc = ngx_http_compliance_limit_redis_ask(r, clcf, ctx, keys);
    if (rc != NGX_OK) {
        return rc;
    }

    for (i = 0; i < clcf->limit.limits->nelts; i++) {

        /* internal redirects: a zone is charged once per request */
        if (ngx_http_compliance_limit_charged(ctx, limits[i].shm_zone)) {
            continue;
        }

        key = &keys[limits[i].key];

        if (key->data.data == NULL) {
            ngx_http_compliance_limit_make_key(r, ctx, limits[i].key, key);
        }

        lres = ngx_array_push(ctx->limit.results);
        if (lres == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        lres->limit = &limits[i];
        lres->known = 0;
        lres->charged = 0;
        lres->redis = 0;

        if (((ngx_http_compliance_limit_zone_t *) limits[i].shm_zone->data)
            ->redis)
        {
            rc = ngx_http_compliance_limit_redis(r, ctx, &limits[i], i, key,
                                                 now, !refuse, &res);

            if (rc == NGX_HTTP_SERVICE_UNAVAILABLE) {
                refuse = 2;
                break;
            }

            if (rc == NGX_OK && ctx->limit.redis) {
                lres->redis = (((ngx_http_compliance_redis_wait_t *)
                                ctx->limit.redis)->answers[i].state
                               == NGX_HTTP_COMPLIANCE_REDIS_DONE);
                lres->redis_key = ((ngx_http_compliance_redis_wait_t *)
                                   ctx->limit.redis)->answers[i].key;
            }

        } else {
            rc = ngx_http_compliance_limit_account(&limits[i], key, now,
                                                   !refuse,
                                                   r->connection->log, &res);
        }

        /* no room even after evictions: not counted, not refused */
        if (rc != NGX_OK) {
            continue;
        }

        lres->known = 1;
        lres->remaining = res.remaining;
        lres->reset = res.reset;

        if (res.allowed) {
            lres->charged = !refuse;
            continue;
        }

        if (limits[i].dry_run) {
            /* recorded for the audit trail; ctx->refused stays unset */
            if (ctx->reason.len == 0) {
                ngx_str_set(&ctx->reason, "rate_limited");
            }

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "compliance: dry run limit in zone \"%V\"",
                           &limits[i].shm_zone->shm.name);
            continue;
        }

        refuse = 1;

        if (res.retry_after > retry) {
            retry = res.retry_after;
        }
    }

    if (!refuse) {
        return NGX_DECLINED;
    }

    results = ctx->limit.results->elts;

    for (i = first; i < ctx->limit.results->nelts; i++) {
        if (results[i].charged) {
            ngx_http_compliance_limit_refund(results[i].limit,
                                             &keys[results[i].limit->key],
                                             now, &results[i]);
        }
    }

    /* fail=closed and no Redis: nothing may be counted as granted */
    if (refuse == 2) {
        return ngx_http_compliance_problem(r, ctx,
                                           NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "limits_unavailable");
    }

    if (ngx_http_compliance_limit_retry_after(r, retry) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "rate_limited");
}


static ngx_uint_t
ngx_http_compliance_limit_charged(ngx_http_compliance_ctx_t *ctx,
    ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t                           i;
    ngx_http_compliance_limit_result_t  *results;

    results = ctx->limit.results->elts;

    for (i = 0; i < ctx->limit.results->nelts; i++) {
        if (results[i].limit->shm_zone == shm_zone) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_compliance_lockout_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    uint64_t                              now, left;
    ngx_http_compliance_limit_key_t       key;
    ngx_http_compliance_limit_zone_t     *zone;
    ngx_http_compliance_limit_node_t     *lr;
    ngx_http_compliance_failure_limit_t  *fl;

    fl = clcf->limit.failure;

    if (fl == NULL || fl->block == 0) {
        return NGX_DECLINED;
    }

    ngx_http_compliance_limit_addr_key(r->connection->sockaddr,
                                       NGX_HTTP_COMPLIANCE_KEY_FAILURE, &key);

    zone = fl->shm_zone->data;
    now = ngx_current_msec;
    left = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_compliance_limit_lookup(zone, &key);

    if (lr != NULL && ngx_http_compliance_limit_locked(lr, now)) {
        left = lr->until - now;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    /* an address put on allow= after it was locked out goes free */
    if (left == 0
        || ngx_http_compliance_limit_allowed(fl, r->connection->sockaddr))
    {
        return NGX_DECLINED;
    }

    if (ngx_http_compliance_limit_retry_after(r, (left + 999) / 1000)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_problem(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "locked_out");
}


/*
 * One authentication failure with a credential presented.  Past the rate
 * a window opens (the block time, else the rate's period): one alert per
 * window, and with block= the address is locked out until it ends.  An
 * allow-listed address is counted apart (its own key type, so it is
 * never found by the lockout check) and only alerted on.
 */
void
ngx_http_compliance_lockout_failure(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    uint64_t                              now;
    ngx_uint_t                            alert, allowed;
    compliance_bucket_result_t            res;
    ngx_http_compliance_limit_key_t       key;
    ngx_http_compliance_limit_zone_t     *zone;
    ngx_http_compliance_limit_node_t     *lr;
    ngx_http_compliance_failure_limit_t  *fl;

    fl = clcf->limit.failure;

    if (fl == NULL) {
        return;
    }

    allowed = ngx_http_compliance_limit_allowed(fl, r->connection->sockaddr);

    ngx_http_compliance_limit_addr_key(r->connection->sockaddr,
                                       allowed
                                       ? NGX_HTTP_COMPLIANCE_KEY_ALLOWED
                                       : NGX_HTTP_COMPLIANCE_KEY_FAILURE,
                                       &key);

    zone = fl->shm_zone->data;
    now = ngx_current_msec;
    alert = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_compliance_limit_lookup(zone, &key);

    if (lr == NULL) {
        lr = ngx_http_compliance_limit_create(zone, &key, r->connection->log);

        if (lr == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return;
        }

        (void) compliance_bucket_init(&lr->bucket, now, &fl->bucket);
    }

    (void) compliance_bucket_take(&lr->bucket, now, &fl->bucket, &res);

    if (lr->failures < 0x7fffffff) {
        lr->failures++;
    }

    /*
     * a new window once the last one ended, or a block where a limit
     * without one (sharing the zone) had opened a window that only
     * reports
     */
    if (!res.allowed
        && (lr->until <= now || (fl->block && !allowed && !lr->blocked)))
    {
        lr->until = now + (fl->block ? fl->block : fl->period);
        lr->blocked = (fl->block && !allowed);
        alert = 1;
    }

    ngx_http_compliance_limit_set_expire(lr, now, &res);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    /* SPEC 15: counted by the fleet too; its lock comes back to here */
    if (zone->redis) {
        ngx_http_compliance_limit_redis_key(zone, fl->shm_zone, &key, 0, fl,
                                            allowed ? 0 : fl->block);
    }

    if (!alert) {
        return;
    }

    if (allowed) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "compliance: allow-listed client %V exceeded %ui "
                      "authentication failures per %Ms in zone \"%V\", "
                      "not locked out",
                      &r->connection->addr_text, fl->rate, fl->period / 1000,
                      &fl->shm_zone->shm.name);

        ngx_http_compliance_audit_event(r, ctx, "alert", "high",
                                        "failure_limit_exceeded");
        return;
    }

    if (fl->block) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "compliance: client %V exceeded %ui authentication "
                      "failures per %Ms, locked out for %Ms by zone \"%V\"",
                      &r->connection->addr_text, fl->rate, fl->period / 1000,
                      fl->block / 1000, &fl->shm_zone->shm.name);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "compliance: client %V exceeded %ui authentication "
                      "failures per %Ms in zone \"%V\"",
                      &r->connection->addr_text, fl->rate, fl->period / 1000,
                      &fl->shm_zone->shm.name);
    }

    ngx_http_compliance_audit_event(r, ctx, "alert", "critical",
                                    "locked_out");
}


static ngx_uint_t
ngx_http_compliance_limit_allowed(ngx_http_compliance_failure_limit_t *fl,
    struct sockaddr *sa)
{
#if (NGX_HAVE_UNIX_DOMAIN)
    if (sa->sa_family == AF_UNIX) {
        return fl->allow_unix;
    }
#endif

    return compliance_cidr_list_match(&fl->allow, sa);
}


/* a node whose window is a block that still runs */
static ngx_uint_t
ngx_http_compliance_limit_locked(ngx_http_compliance_limit_node_t *lr,
    ngx_msec_t now)
{
    return lr->type == NGX_HTTP_COMPLIANCE_KEY_FAILURE && lr->blocked
           && lr->until > now;
}


/*
 * For compliance_lockout_admin: the running lockouts of a zone, all of
 * them (sa NULL) or the one of an address, reported into "out" as long
 * as it has room (it never grows), and removed with "clear": a removed
 * key starts again as a new one, with a full bucket and no failures.
 * Returns how many were found.  One walk of the zone under its mutex.
 */
ngx_uint_t
ngx_http_compliance_lockout_walk(ngx_shm_zone_t *shm_zone,
    struct sockaddr *sa, ngx_uint_t clear, ngx_array_t *out)
{
    ngx_msec_t                         now;
    ngx_uint_t                         n;
    ngx_queue_t                       *q, *next;
    ngx_http_compliance_limit_key_t    key;
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_limit_node_t  *lr;

    zone = shm_zone->data;
    now = ngx_current_msec;
    n = 0;

    if (sa) {
        ngx_http_compliance_limit_addr_key(sa, NGX_HTTP_COMPLIANCE_KEY_FAILURE,
                                           &key);
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (sa) {
        lr = ngx_http_compliance_limit_lookup(zone, &key);

        if (lr != NULL && ngx_http_compliance_limit_locked(lr, now)) {
            n = 1;
            ngx_http_compliance_lockout_report(shm_zone, lr, now, out);

            if (clear) {
                if (zone->redis) {
                    ngx_http_compliance_limit_redis_key(zone, shm_zone, &key,
                                                        1, NULL, 0);
                }

                ngx_http_compliance_limit_delete(zone, lr);
            }
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);

        return n;
    }

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);

        lr = ngx_queue_data(q, ngx_http_compliance_limit_node_t, queue);

        if (!ngx_http_compliance_limit_locked(lr, now)) {
            continue;
        }

        n++;
        ngx_http_compliance_lockout_report(shm_zone, lr, now, out);

        if (clear) {
            if (zone->redis) {
                key.type = lr->type;
                key.data.data = lr->data;
                key.data.len = lr->len;
                ngx_http_compliance_limit_redis_key(zone, shm_zone, &key, 1,
                                                    NULL, 0);
            }

            ngx_http_compliance_limit_delete(zone, lr);
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return n;
}


/*
 * For compliance_status: the keys a compliance_limit_zone holds (one
 * walk of its queue under its mutex) and the bytes of its slab pages in
 * use.  NGX_DECLINED for any other zone.
 */
ngx_int_t
ngx_http_compliance_limit_zone_stats(ngx_shm_zone_t *shm_zone,
    ngx_uint_t *keys, size_t *used)
{
    ngx_uint_t                         n;
    ngx_queue_t                       *q;
    ngx_slab_pool_t                   *shpool;
    ngx_http_compliance_limit_zone_t  *zone;

    if (shm_zone->tag != &ngx_http_compliance_limit_tag) {
        return NGX_DECLINED;
    }

    zone = shm_zone->data;

    if (zone == NULL || zone->sh == NULL) {
        return NGX_DECLINED;
    }

    shpool = zone->shpool;
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        n++;
    }

    *used = (size_t) ((shpool->last - shpool->pages) - shpool->pfree)
            << ngx_pagesize_shift;

    ngx_shmtx_unlock(&shpool->mutex);

    *keys = n;

    return NGX_OK;
}


/* with the zone locked; "out" was sized in advance: no allocation here */
static void
ngx_http_compliance_lockout_report(ngx_shm_zone_t *shm_zone,
    ngx_http_compliance_limit_node_t *lr, ngx_msec_t now, ngx_array_t *out)
{
    ngx_http_compliance_lockout_t  *lo;

    if (out->nelts == out->nalloc || lr->len > sizeof(lo->addr)) {
        return;
    }

    lo = (ngx_http_compliance_lockout_t *) out->elts + out->nelts++;

    lo->zone = shm_zone;
    lo->len = lr->len;
    ngx_memcpy(lo->addr, lr->data, lr->len);
    lo->left = lr->until - now;
    lo->failures = lr->failures;
}


static ngx_int_t
ngx_http_compliance_limit_retry_after(ngx_http_request_t *r,
    uint64_t seconds)
{
    ngx_str_t  value;

    value.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_http_compliance_limit_uint(value.data, seconds)
                - value.data;

    ngx_http_compliance_drop_header(r,
                                     &ngx_http_compliance_retry_after_name);

    return ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_retry_after_name,
                                       &value);
}


/*
 * RateLimit-Policy: "<zone>";q=<burst>;w=<seconds>
 * RateLimit: "<zone>";r=<remaining>;t=<seconds to full>
 * one list member per zone charged or checked for this request.
 */
ngx_int_t
ngx_http_compliance_limit_headers(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx)
{
    size_t                               plen, slen;
    u_char                              *p, *s;
    ngx_str_t                            policy, state, *name;
    ngx_uint_t                           i, n;
    ngx_http_compliance_limit_result_t  *results;

    if (ctx->limit.results == NULL || ctx->limit.results->nelts == 0) {
        return NGX_OK;
    }

    results = ctx->limit.results->elts;
    plen = 0;
    slen = 0;

    for (i = 0; i < ctx->limit.results->nelts; i++) {
        if (!results[i].known) {
            continue;
        }

        name = &results[i].limit->shm_zone->shm.name;

        plen += sizeof(", \"\";q=;w=") - 1 + name->len
                + NGX_INT64_LEN + NGX_INT_T_LEN;
        slen += sizeof(", \"\";r=;t=") - 1 + name->len + 2 * NGX_INT64_LEN;
    }

    if (plen == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, plen + slen);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s = p + plen;
    policy.data = p;
    state.data = s;
    n = 0;

    for (i = 0; i < ctx->limit.results->nelts; i++) {
        if (!results[i].known) {
            continue;
        }

        if (n++) {
            *p++ = ',';
            *p++ = ' ';
            *s++ = ',';
            *s++ = ' ';
        }

        name = &results[i].limit->shm_zone->shm.name;

        /* by hand: this runs for every limited response */
        *p++ = '"';
        p = ngx_cpymem(p, name->data, name->len);
        p = ngx_cpymem(p, "\";q=", sizeof("\";q=") - 1);
        p = ngx_http_compliance_limit_uint(p, results[i].limit->burst);
        p = ngx_cpymem(p, ";w=", sizeof(";w=") - 1);
        p = ngx_http_compliance_limit_uint(p, results[i].limit->window);

        *s++ = '"';
        s = ngx_cpymem(s, name->data, name->len);
        s = ngx_cpymem(s, "\";r=", sizeof("\";r=") - 1);
        s = ngx_http_compliance_limit_uint(s, results[i].remaining);
        s = ngx_cpymem(s, ";t=", sizeof(";t=") - 1);
        s = ngx_http_compliance_limit_uint(s, results[i].reset);
    }

    policy.len = p - policy.data;
    state.len = s - state.data;

    /* ours are the limits in force: an upstream's copies would mislead */
    ngx_http_compliance_drop_header(r,
                                     &ngx_http_compliance_limit_policy_name);
    ngx_http_compliance_drop_header(r,
                                      &ngx_http_compliance_limit_state_name);

    if (ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_limit_policy_name,
                                       &policy)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_compliance_set_header(r,
                                          &ngx_http_compliance_limit_state_name,
                                          &state);
}



static u_char *
ngx_http_compliance_limit_uint(u_char *p, uint64_t n)
{
    u_char  *d, digits[NGX_INT64_LEN];

    d = digits + NGX_INT64_LEN;

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, d, digits + NGX_INT64_LEN - d);
}


/*
 * SPEC 15, strict mode (and sync mode once a worker's lease and credit
 * are spent): one command per limit of a zone with Redis, all
 * sent before the request waits once.  NGX_OK: nothing to wait for (no
 * such zone, or every answer is in: the loop of limit_check uses them);
 * NGX_DONE: the request waits (at most 50 ms).
 */
static ngx_int_t
ngx_http_compliance_limit_redis_ask(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_limit_key_t *keys)
{
    ngx_str_t                          rkey;
    ngx_uint_t                         i, n;
    ngx_http_compliance_limit_t       *limits;
    ngx_http_compliance_limit_key_t   *key;
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_redis_wait_t  *wait;

    limits = clcf->limit.limits->elts;
    n = clcf->limit.limits->nelts;
    wait = NULL;

    for (i = 0; i < n; i++) {
        zone = limits[i].shm_zone->data;

        if (zone->redis == NULL
            || ngx_http_compliance_limit_charged(ctx, limits[i].shm_zone))
        {
            continue;
        }

        if (wait == NULL) {
            wait = ngx_http_compliance_redis_wait(r, ctx->limit.redis,
                                                  clcf->limit.limits, n);
            if (wait == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ctx->limit.redis = wait;
        }

        if (wait->answers[i].state != NGX_HTTP_COMPLIANCE_REDIS_NONE) {
            continue;
        }

        key = &keys[limits[i].key];

        if (key->data.data == NULL) {
            ngx_http_compliance_limit_make_key(r, ctx, limits[i].key, key);
        }

        if (ngx_http_compliance_redis_key(r->pool,
                                          &limits[i].shm_zone->shm.name,
                                          key->type, &key->data, &rkey)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /*
         * sync: decided in the loop from this worker's lease or credit;
         * with neither left, one round trip as in strict mode instead
         * of a refusal while the fleet may still hold tokens
         */
        if (ngx_http_compliance_redis_mode(zone->redis)
            == NGX_HTTP_COMPLIANCE_REDIS_SYNC
            && ngx_http_compliance_redis_lease_left(zone->redis, &rkey,
                                                    &limits[i].bucket))
        {
            continue;
        }

        /* Redis not usable now: answered "failed" at once, no wait */
        (void) ngx_http_compliance_redis_take(zone->redis, wait, i, &rkey,
                                              &limits[i].bucket);
    }

    if (wait == NULL) {
        return NGX_OK;
    }

    return ngx_http_compliance_redis_suspend(wait);
}


/*
 * One limit of a zone with Redis.  Strict: the script's answer, read as
 * the local bucket would report it; sync: the local bucket decides and
 * the token goes into the next sync.  Without Redis: fail=open counts
 * in the local bucket, fail=closed is NGX_HTTP_SERVICE_UNAVAILABLE.
 */
static ngx_int_t
ngx_http_compliance_limit_redis(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_limit_t *limit,
    ngx_uint_t i, ngx_http_compliance_limit_key_t *key, uint64_t now,
    ngx_uint_t charge, compliance_bucket_result_t *res)
{
    ngx_int_t                            rc;
    ngx_str_t                            rkey;
    ngx_uint_t                           allowed;
    compliance_bucket_t                  b;
    ngx_http_compliance_redis_t         *rd;
    ngx_http_compliance_limit_zone_t    *zone;
    ngx_http_compliance_redis_wait_t    *wait;
    ngx_http_compliance_redis_answer_t  *a;

    zone = limit->shm_zone->data;
    rd = zone->redis;
    wait = ctx->limit.redis;

    /* sync mode without a lease left was asked like strict: see ask() */
    if (ngx_http_compliance_redis_mode(rd) == NGX_HTTP_COMPLIANCE_REDIS_SYNC
        && (wait == NULL || i >= wait->n
            || wait->answers[i].state == NGX_HTTP_COMPLIANCE_REDIS_NONE))
    {

        if (!ngx_http_compliance_redis_ready(rd)) {
            goto fallback;
        }

        /* this node's bucket first: a node alone never exceeds it */
        rc = ngx_http_compliance_limit_account(limit, key, now, 0,
                                               r->connection->log, res);

        if (rc != NGX_OK || !charge || !res->allowed) {
            return rc;
        }

        if (ngx_http_compliance_redis_key(r->pool, &limit->shm_zone->shm.name,
                                          key->type, &key->data, &rkey)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* then the fleet's: this worker's lease, or its credit */
        if (ngx_http_compliance_redis_lease(rd, &rkey, &limit->bucket)
            != NGX_OK)
        {
            res->allowed = 0;
            res->retry_after = (limit->bucket.period_ms + limit->bucket.rate
                                - 1) / limit->bucket.rate;
            res->retry_after = (res->retry_after + 999) / 1000;
            return NGX_OK;
        }

        return ngx_http_compliance_limit_account(limit, key, now, 1,
                                                 r->connection->log, res);
    }

    if (wait == NULL || i >= wait->n) {
        goto fallback;
    }

    a = &wait->answers[i];

    if (a->state != NGX_HTTP_COMPLIANCE_REDIS_DONE) {
        goto fallback;
    }

    /* reported as the local bucket reports: remaining, reset, retry */
    b.last_ms = a->now;
    b.units = a->units;

    (void) compliance_bucket_peek(&b, a->now, &limit->bucket, res);

    allowed = a->allowed;
    res->allowed = allowed;

    if (allowed) {
        res->retry_after = 0;

        /* charged by the script after a zone refused: given back */
        if (!charge) {
            ngx_http_compliance_redis_refund(rd, &a->key, &limit->bucket);
        }
    }

    ngx_http_compliance_limit_follow(limit, key, now, a->units,
                                     r->connection->log);

    return NGX_OK;

fallback:

    ngx_http_compliance_redis_fallback(r, rd, &limit->shm_zone->shm.name);

    if (ngx_http_compliance_redis_fail(rd) == NGX_HTTP_COMPLIANCE_REDIS_CLOSED)
    {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    return ngx_http_compliance_limit_account(limit, key, now, charge,
                                             r->connection->log, res);
}


/*
 * Sync mode: the fleet's bucket content for a key, after this worker's
 * tokens were taken from it, caps the local bucket (it never raises
 * it): what the other nodes spent is spent here too.  The local bucket
 * restarts its refill from now, as the Redis content includes the
 * refill up to Redis' now.  After an authentication failure, a lock the
 * fleet holds on the address blocks it here as well, for as long.
 */
static void
ngx_http_compliance_limit_synced(void *data, ngx_str_t *rkey, uint64_t units,
    uint64_t lock)
{
    ngx_shm_zone_t  *shm_zone = data;

    size_t                             skip;
    ngx_http_compliance_limit_key_t    key;
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_limit_node_t  *lr;

    zone = shm_zone->data;

    /* "compliance:<zone>:<type><data>" */
    skip = sizeof("compliance:") - 1 + shm_zone->shm.name.len + 1;

    if (rkey->len <= skip) {
        return;
    }

    key.type = rkey->data[skip];
    key.data.data = rkey->data + skip + 1;
    key.data.len = rkey->len - skip - 1;

    ngx_http_compliance_limit_hash(&key);

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_compliance_limit_lookup(zone, &key);

    if (lr != NULL && lr->bucket.units > units) {
        lr->bucket.units = units;
        lr->bucket.last_ms = ngx_current_msec;
    }

    if (lr != NULL && lock && key.type == NGX_HTTP_COMPLIANCE_KEY_FAILURE
        && lr->until < ngx_current_msec + lock)
    {
        lr->until = ngx_current_msec + lock;
        lr->blocked = 1;

        if (lr->expire < lr->until / 1000 + 1) {
            lr->expire = (uint32_t) (lr->until / 1000 + 1);
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * Lockouts on a zone with Redis: a failure goes to the fleet's bucket
 * (forget 0), or an operator's clear removes the fleet's bucket and
 * lock (forget 1).  Nobody waits; the key is made in a stack buffer as
 * this may run under the zone's mutex (the admin walk).
 */
static void
ngx_http_compliance_limit_redis_key(ngx_http_compliance_limit_zone_t *zone,
    ngx_shm_zone_t *shm_zone, ngx_http_compliance_limit_key_t *key,
    ngx_uint_t forget, ngx_http_compliance_failure_limit_t *fl,
    ngx_msec_t block)
{
    u_char     buf[NGX_MAX_ERROR_STR], *p;
    ngx_str_t  rkey;

    if (sizeof("compliance:") + shm_zone->shm.name.len + 2 + key->data.len
        > sizeof(buf))
    {
        return;
    }

    p = ngx_cpymem(buf, "compliance:", sizeof("compliance:") - 1);
    p = ngx_cpymem(p, shm_zone->shm.name.data, shm_zone->shm.name.len);
    *p++ = ':';
    *p++ = key->type;
    p = ngx_cpymem(p, key->data.data, key->data.len);

    rkey.data = buf;
    rkey.len = p - buf;

    if (forget) {
        ngx_http_compliance_redis_forget(zone->redis, &rkey);
        return;
    }

    (void) ngx_http_compliance_redis_failure(zone->redis, &rkey,
                                             &fl->bucket, block);
}


/*
 * Strict mode: the node's own bucket of the key follows the fleet's (it
 * holds what Redis answered, refilling from now), so that should Redis
 * go, fail=open goes on from where the fleet was rather than from a
 * full bucket.
 */
static void
ngx_http_compliance_limit_follow(ngx_http_compliance_limit_t *limit,
    ngx_http_compliance_limit_key_t *key, uint64_t now, uint64_t units,
    ngx_log_t *log)
{
    compliance_bucket_result_t         res;
    ngx_http_compliance_limit_zone_t  *zone;
    ngx_http_compliance_limit_node_t  *lr;

    zone = limit->shm_zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    lr = ngx_http_compliance_limit_lookup(zone, key);

    if (lr == NULL) {
        lr = ngx_http_compliance_limit_create(zone, key, log);

        if (lr == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return;
        }

        (void) compliance_bucket_init(&lr->bucket, now, &limit->bucket);
    }

    lr->bucket.units = units;
    lr->bucket.last_ms = now;

    (void) compliance_bucket_peek(&lr->bucket, now, &limit->bucket, &res);
    ngx_http_compliance_limit_set_expire(lr, now, &res);

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/* back from a Redis round trip: the access handler goes to the limits */
ngx_uint_t
ngx_http_compliance_limit_resumed(ngx_http_compliance_ctx_t *ctx)
{
    ngx_http_compliance_redis_wait_t  *wait;

    wait = ctx->limit.redis;

    if (wait == NULL || !wait->resumed) {
        return 0;
    }

    wait->resumed = 0;

    return 1;
}
