/*
 * Fleet-wide limits on Redis (SPEC 15, decisions D67-D72).
 *
 * Config: the redis=, redis_password_file=, mode=, sync= and fail=
 * options of compliance_limit_zone, the password read (and later wiped)
 * at config time, the script's SHA1 computed once.
 *
 * Per worker and zone: one keepalive connection made with
 * ngx_event_connect_peer(), commands appended to one output buffer and
 * sent once per event loop turn (a posted event), so the commands of
 * many requests share a write and a read (pipelining).  Replies come
 * back in order; a ring of slots says whose each one is.  A connection
 * says AUTH (with a password) and SCRIPT LOAD first and takes requests
 * only once both are answered.  Any failure (refused connect, EOF, a
 * malformed reply, a request waiting past 50 ms) closes it, answers
 * every waiting request with a failure and reconnects after a backoff
 * (100 ms doubling to 2 s); meanwhile requests do not wait at all.
 *
 * Strict: a request asks once for all its Redis limits and waits
 * (NGX_DONE) for the answers or its 50 ms timer, then the phase runs
 * again.  Sync: a token spent locally is added to a per-worker table and
 * sent with the others every sync= (sooner when one key has spent its
 * share); the reply's bucket content caps the local bucket.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_redis.h"

#include <openssl/evp.h>

#include "compliance_resp.h"


#define NGX_HTTP_COMPLIANCE_REDIS_OUT      (256 * 1024)
#define NGX_HTTP_COMPLIANCE_REDIS_IN       (8 * 1024)
#define NGX_HTTP_COMPLIANCE_REDIS_SLOTS    4096
#define NGX_HTTP_COMPLIANCE_REDIS_BACKOFF  100
#define NGX_HTTP_COMPLIANCE_REDIS_BACKOFF_MAX  2000
#define NGX_HTTP_COMPLIANCE_REDIS_HANDSHAKE    1000
#define NGX_HTTP_COMPLIANCE_REDIS_PASSWORD 512
#define NGX_HTTP_COMPLIANCE_REDIS_SYNC_BUCKETS 1024
#define NGX_HTTP_COMPLIANCE_REDIS_SYNC_MAX     4096  /* keys per interval */

/* connection states */
#define NGX_HTTP_COMPLIANCE_REDIS_DOWN     0
#define NGX_HTTP_COMPLIANCE_REDIS_CONNECTING  1
#define NGX_HTTP_COMPLIANCE_REDIS_READY    2

/* slot kinds */
#define NGX_HTTP_COMPLIANCE_REDIS_AUTH     1
#define NGX_HTTP_COMPLIANCE_REDIS_LOAD     2
#define NGX_HTTP_COMPLIANCE_REDIS_TAKE     3
#define NGX_HTTP_COMPLIANCE_REDIS_REFUND   4
#define NGX_HTTP_COMPLIANCE_REDIS_LEASE    5
#define NGX_HTTP_COMPLIANCE_REDIS_FAILURE  6
#define NGX_HTTP_COMPLIANCE_REDIS_FORGET   7


/*
 * Sync mode: a key's lease in this worker (in the table), or a failure
 * on its way (owned by its slot)
 */
typedef struct ngx_http_compliance_redis_item_s
    ngx_http_compliance_redis_item_t;

struct ngx_http_compliance_redis_item_s {
    ngx_http_compliance_redis_item_t  *next;
    uint32_t                           hash;
    uint64_t                           spent;     /* failure: block ms */
    uint64_t                           lease;     /* tokens granted */
    uint64_t                           credit;    /* tokens spent ahead */
    uint64_t                           asked;     /* credit being paid */
    ngx_msec_t                         used;
    ngx_msec_t                         empty;     /* no token until */
    unsigned                           pending:1; /* a lease is asked */
    compliance_bucket_conf_t           bc;
    ngx_str_t                          key;       /* follows the struct */
};


typedef struct {
    ngx_uint_t                         kind;
    ngx_http_compliance_redis_wait_t  *wait;     /* TAKE; NULL: gone */
    ngx_uint_t                         index;    /* in wait->answers */
    ngx_http_compliance_redis_item_t  *item;     /* LEASE; FAILURE: owned */
    ngx_str_t                          key;      /* TAKE: for NOSCRIPT */
    compliance_bucket_conf_t           bc;
    ngx_msec_t                         sent;     /* when it was queued */
} ngx_http_compliance_redis_slot_t;


struct ngx_http_compliance_redis_s {
    /* config */
    ngx_str_t                          zone;
    ngx_str_t                          addr_text;
    ngx_addr_t                        *addr;
    ngx_str_t                          password;  /* wiped with the pool */
    ngx_uint_t                         mode;
    ngx_msec_t                         sync;
    ngx_uint_t                         fail;
    ngx_shm_zone_t                    *shm;       /* counters */
    ngx_http_compliance_redis_counters_t  *counters;

    /* per worker */
    ngx_log_t                         *log;
    ngx_peer_connection_t              pc;
    ngx_uint_t                         state;
    ngx_msec_t                         backoff;
    ngx_event_t                        reconnect;
    ngx_event_t                        flush;
    ngx_event_t                        sync_timer;
    ngx_uint_t                         outage;    /* this worker's view */
    ngx_atomic_uint_t                  generation; /* of the outage mask */
    time_t                             logged;    /* last error reply */

    u_char                            *out;
    size_t                             out_len;
    size_t                             out_sent;
    u_char                            *in;
    size_t                             in_len;

    ngx_http_compliance_redis_slot_t  *slots;
    ngx_uint_t                         head;
    ngx_uint_t                         count;

    ngx_http_compliance_redis_item_t **items;     /* sync table */
    ngx_uint_t                         nitems;
    ngx_http_compliance_redis_sync_pt  sync_handler;
    void                              *sync_data;
};


static char *ngx_http_compliance_redis_password(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *value, ngx_str_t *out);
static void ngx_http_compliance_redis_wipe(void *data);
static ngx_int_t ngx_http_compliance_redis_init_shm(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_compliance_redis_script_sha(ngx_log_t *log);
static void ngx_http_compliance_redis_connect(ngx_http_compliance_redis_t *rd);
static void ngx_http_compliance_redis_reconnect_handler(ngx_event_t *ev);
static ngx_atomic_uint_t ngx_http_compliance_redis_bit(void);
static ngx_atomic_uint_t ngx_http_compliance_redis_down(
    ngx_http_compliance_redis_t *rd, ngx_uint_t down);
static void ngx_http_compliance_redis_close(ngx_http_compliance_redis_t *rd,
    const char *why);
static void ngx_http_compliance_redis_up(ngx_http_compliance_redis_t *rd);
static ngx_int_t ngx_http_compliance_redis_push(
    ngx_http_compliance_redis_t *rd, ngx_uint_t kind, ngx_uint_t argc,
    const u_char **argv, size_t *lens);
static ngx_int_t ngx_http_compliance_redis_script(
    ngx_http_compliance_redis_t *rd, ngx_uint_t kind, ngx_uint_t eval,
    ngx_str_t *key, compliance_bucket_conf_t *bc, u_char op, uint64_t n);
static ngx_int_t ngx_http_compliance_redis_command(
    ngx_http_compliance_redis_t *rd, ngx_uint_t kind, ngx_uint_t eval,
    ngx_str_t *key, compliance_bucket_conf_t *bc, u_char op, uint64_t n,
    uint64_t m);
static void ngx_http_compliance_redis_flush_handler(ngx_event_t *ev);
static void ngx_http_compliance_redis_write_handler(ngx_event_t *ev);
static void ngx_http_compliance_redis_read_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_compliance_redis_send(
    ngx_http_compliance_redis_t *rd);
static ngx_int_t ngx_http_compliance_redis_reply(
    ngx_http_compliance_redis_t *rd, compliance_resp_reply_t *reply);
static ngx_int_t ngx_http_compliance_redis_script_reply(
    compliance_resp_reply_t *reply, ngx_http_compliance_redis_answer_t *a);
static void ngx_http_compliance_redis_answer(
    ngx_http_compliance_redis_wait_t *wait, ngx_uint_t i,
    ngx_http_compliance_redis_answer_t *a);
static void ngx_http_compliance_redis_resume(
    ngx_http_compliance_redis_wait_t *wait);
static void ngx_http_compliance_redis_timeout(ngx_event_t *ev);
static void ngx_http_compliance_redis_detach(
    ngx_http_compliance_redis_wait_t *wait);
static void ngx_http_compliance_redis_cleanup(void *data);
static void ngx_http_compliance_redis_sync_flush(ngx_event_t *ev);
static ngx_msec_t ngx_http_compliance_redis_tick(
    ngx_http_compliance_redis_t *rd);
static ngx_int_t ngx_http_compliance_redis_script_m(
    ngx_http_compliance_redis_t *rd, ngx_uint_t kind, ngx_str_t *key,
    compliance_bucket_conf_t *bc, u_char op, uint64_t n, uint64_t m);
static void ngx_http_compliance_redis_ask_lease(
    ngx_http_compliance_redis_t *rd, ngx_http_compliance_redis_item_t *it,
    uint64_t share);
static void ngx_http_compliance_redis_leased(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_item_t *it,
    ngx_http_compliance_redis_answer_t *a);
static ngx_http_compliance_redis_slot_t *ngx_http_compliance_redis_last(
    ngx_http_compliance_redis_t *rd);


/*
 * The bucket of core/compliance_bucket.c, in Redis: the same units (one
 * token is period_ms units, each millisecond adds rate units), the same
 * refill (none when the clock did not move on), the clock from TIME so
 * nodes with skewed clocks agree.  An absent key is a full bucket: the
 * key expires once it would be full again.  op: t takes one token if
 * there is one, r gives n back, d takes n spent elsewhere (sync mode),
 * l leases (sync mode): n tokens spent on credit are taken, then up to
 * m more granted (answered in the last field);
 * f is an authentication failure: a token taken if there is one, and
 * with none left the key "<key>:lock" set for n ms (a lockout, once:
 * NX); it answers how long the lock still runs (the fleet's lockout,
 * whichever node set it).  One Redis, not a cluster: the lock key is
 * derived here.  Returns {allowed, units after, now in ms, lock ms}.
 */
static const char  ngx_http_compliance_redis_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local rate = tonumber(ARGV[1])\n"
    "local period = tonumber(ARGV[2])\n"
    "local cap = tonumber(ARGV[3])\n"
    "local op = ARGV[4]\n"
    "local n = tonumber(ARGV[5])\n"
    "local m = tonumber(ARGV[6])\n"
    "local s = redis.call('HMGET', KEYS[1], 'l', 'u')\n"
    "local last = tonumber(s[1])\n"
    "local units = tonumber(s[2])\n"
    "if last == nil or units == nil then\n"
    "  last = now\n"
    "  units = cap\n"
    "end\n"
    "if units > cap then units = cap end\n"
    "if now > last then\n"
    "  local add = (now - last) * rate\n"
    "  last = now\n"
    "  if add >= cap - units then units = cap else units = units + add end\n"
    "end\n"
    "local allowed = 1\n"
    "local granted = 0\n"
    "if op == 't' then\n"
    "  if units >= period then units = units - period else allowed = 0 end\n"
    "elseif op == 'r' then\n"
    "  units = math.min(cap, units + period * n)\n"
    "elseif op == 'd' then\n"
    "  units = math.max(0, units - period * n)\n"
    "elseif op == 'f' then\n"
    "  if units >= period then units = units - period else allowed = 0 end\n"
    "elseif op == 'l' then\n"
    "  units = math.max(0, units - period * n)\n"
    "  granted = math.min(m, math.floor(units / period))\n"
    "  units = units - period * granted\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'l', last, 'u', units)\n"
    "local ms = cap - units\n"
    "local full = math.floor(ms / rate)\n"
    "if full * rate < ms then full = full + 1 end\n"
    "redis.call('PEXPIRE', KEYS[1], full + 1000)\n"
    "local lock = 0\n"
    "if op == 'f' then\n"
    "  local lk = KEYS[1] .. ':lock'\n"
    "  if allowed == 0 and n > 0 then\n"
    "    redis.call('SET', lk, '1', 'PX', n, 'NX')\n"
    "  end\n"
    "  lock = math.max(0, redis.call('PTTL', lk))\n"
    "end\n"
    "if op == 'l' then lock = granted end\n"
    "return {allowed, units, now, lock}\n";


static u_char      ngx_http_compliance_redis_sha[40];
static ngx_uint_t  ngx_http_compliance_redis_sha_done;

/* this worker's zones with redis= (cmf->limit.redis) */
static ngx_array_t  *ngx_http_compliance_redis_all;

static ngx_uint_t   ngx_http_compliance_redis_shm_tag;


char *
ngx_http_compliance_redis_zone_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *zone, ngx_str_t *args, ngx_uint_t n,
    ngx_http_compliance_redis_t **rdp)
{
    ngx_str_t                     s, *addr, *pwfile, *mode, *sync, *fail;
    ngx_str_t                     name;
    ngx_url_t                     u;
    ngx_int_t                     t;
    ngx_uint_t                        i;
    ngx_http_compliance_redis_t      *rd, **rdpp;
    ngx_http_compliance_main_conf_t  *cmf;

    addr = NULL;
    pwfile = NULL;
    mode = NULL;
    sync = NULL;
    fail = NULL;

    for (i = 0; i < n; i++) {

        if (ngx_http_compliance_conf_param(&args[i], "redis", &s)
            && addr == NULL)
        {
            addr = &args[i];
            continue;
        }

        if (ngx_http_compliance_conf_param(&args[i], "redis_password_file",
                                           &s)
            && pwfile == NULL)
        {
            pwfile = &args[i];
            continue;
        }

        if (ngx_http_compliance_conf_param(&args[i], "mode", &s)
            && mode == NULL
            && (ngx_strcmp(s.data, "strict") == 0
                || ngx_strcmp(s.data, "sync") == 0))
        {
            mode = &args[i];
            continue;
        }

        if (ngx_http_compliance_conf_param(&args[i], "sync", &s)
            && sync == NULL)
        {
            t = ngx_parse_time(&s, 0);

            if (t == NGX_ERROR || t == 0 || t > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid sync time \"%V\" in \"%V\", "
                                   "it must be 1ms to 60s",
                                   &args[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            sync = &args[i];
            continue;
        }

        if (ngx_http_compliance_conf_param(&args[i], "fail", &s)
            && fail == NULL
            && (ngx_strcmp(s.data, "open") == 0
                || ngx_strcmp(s.data, "closed") == 0))
        {
            fail = &args[i];
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &args[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (addr == NULL) {
        if (n) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" of \"%V\" needs \"redis=\"",
                               &args[0], &cmd->name);
            return NGX_CONF_ERROR;
        }

        *rdp = NULL;
        return NGX_CONF_OK;
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->zone = *zone;
    rd->mode = NGX_HTTP_COMPLIANCE_REDIS_STRICT;
    rd->sync = 100;
    rd->fail = NGX_HTTP_COMPLIANCE_REDIS_OPEN;

    if (mode && ngx_strcmp(mode->data + 5, "sync") == 0) {
        rd->mode = NGX_HTTP_COMPLIANCE_REDIS_SYNC;
    }

    if (sync) {
        s.data = sync->data + 5;
        s.len = sync->len - 5;
        rd->sync = ngx_parse_time(&s, 0);

        if (rd->mode != NGX_HTTP_COMPLIANCE_REDIS_SYNC) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" in \"%V\" needs \"mode=sync\"",
                               sync, &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    if (fail && ngx_strcmp(fail->data + 5, "closed") == 0) {
        rd->fail = NGX_HTTP_COMPLIANCE_REDIS_CLOSED;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = addr->data + 6;
    u.url.len = addr->len - 6;
    u.default_port = 6379;
    u.no_resolve = 0;

    /* a relative socket path is in the prefix, as nginx's other files */
    if (u.url.len > 5 && ngx_strncmp(u.url.data, "unix:", 5) == 0
        && u.url.data[5] != '/')
    {
        s.data = u.url.data + 5;
        s.len = u.url.len - 5;

        if (ngx_conf_full_name(cf->cycle, &s, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        u.url.len = 5 + s.len;
        u.url.data = ngx_pnalloc(cf->pool, u.url.len);
        if (u.url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(u.url.data, "unix:", 5), s.data, s.len);
    }

    if (u.url.len == 0 || ngx_parse_url(cf->pool, &u) != NGX_OK
        || u.naddrs == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\" in \"%V\"%s%s",
                           addr, &cmd->name, u.err ? ": " : "",
                           u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    rd->addr = &u.addrs[0];
    rd->addr_text = u.url;

    if (pwfile) {
        if (ngx_http_compliance_redis_password(cf, cmd, pwfile,
                                               &rd->password)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (!ngx_http_compliance_redis_sha_done) {
        if (ngx_http_compliance_redis_script_sha(cf->log) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ngx_http_compliance_redis_sha_done = 1;
    }

    /* the counters and the outage flag, shared by the workers */
    name.len = sizeof("compliance_redis:") - 1 + zone->len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(name.data, "compliance_redis:%V", zone);

    rd->shm = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                    &ngx_http_compliance_redis_shm_tag);
    if (rd->shm == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->shm->init = ngx_http_compliance_redis_init_shm;
    rd->shm->data = rd;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->limit.redis == NULL) {
        cmf->limit.redis = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_compliance_redis_t *));
        if (cmf->limit.redis == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rdpp = ngx_array_push(cmf->limit.redis);
    if (rdpp == NULL) {
        return NGX_CONF_ERROR;
    }

    *rdpp = rd;
    *rdp = rd;

    return NGX_CONF_OK;
}


/*
 * The password: the file's first line (a final newline is not part of
 * it).  It is never logged; the copy is wiped when the configuration is
 * freed, and every byte of AUTH sent is wiped from the output buffer.
 */
static char *
ngx_http_compliance_redis_password(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *value, ngx_str_t *out)
{
    u_char               buf[NGX_HTTP_COMPLIANCE_REDIS_PASSWORD + 2];
    ssize_t              n;
    ngx_str_t            path;
    ngx_file_t           file;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    path.data = value->data + sizeof("redis_password_file=") - 1;
    path.len = value->len - (sizeof("redis_password_file=") - 1);

    if (path.len == 0 || ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           value, &cmd->name);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot open the Redis password file \"%V\" "
                           "in \"%V\"", &path, &cmd->name);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, buf, sizeof(buf), 0);

    /* a secret: group or others may not read it (and a posture gap) */
    if (ngx_fd_info(file.fd, &fi) != NGX_FILE_ERROR) {
        ngx_http_compliance_warn_file_mode(cf, &cmd->name, &path,
                                           ngx_file_access(&fi), 0077);
    }

    ngx_close_file(file.fd);

    if (n > 0 && buf[n - 1] == '\n') {
        n--;
    }

    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    if (n <= 0 || n > NGX_HTTP_COMPLIANCE_REDIS_PASSWORD
        || ngx_strlchr(buf, buf + n, '\n') || ngx_strlchr(buf, buf + n, '\r'))
    {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the Redis password file \"%V\" in \"%V\" must "
                           "hold one line of 1 to %d bytes",
                           &path, &cmd->name,
                           NGX_HTTP_COMPLIANCE_REDIS_PASSWORD);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_CONF_ERROR;
    }

    out->data = ngx_pnalloc(cf->pool, n);
    if (out->data == NULL) {
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(out->data, buf, n);
    out->len = n;

    ngx_explicit_memzero(buf, sizeof(buf));

    cln->handler = ngx_http_compliance_redis_wipe;
    cln->data = out;

    return NGX_CONF_OK;
}


static void
ngx_http_compliance_redis_wipe(void *data)
{
    ngx_str_t  *s = data;

    ngx_explicit_memzero(s->data, s->len);
}


static ngx_int_t
ngx_http_compliance_redis_init_shm(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_redis_t  *rd = shm_zone->data;

    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /*
     * A reload keeps the counters.  The outage mask starts empty: the
     * new workers find out for themselves, and a bit of an old worker,
     * or of one the new configuration no longer has, would keep an
     * outage running for ever
     */
    if (data || shm_zone->shm.exists) {
        rd->counters = shpool->data;
        rd->counters->outage = 0;

        /* the old workers, still finishing, no longer touch the mask */
        rd->counters->generation++;
        return NGX_OK;
    }

    rd->counters = ngx_slab_calloc(shpool,
                               sizeof(ngx_http_compliance_redis_counters_t));
    if (rd->counters == NULL) {
        return NGX_ERROR;
    }

    shpool->data = rd->counters;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_redis_script_sha(ngx_log_t *log)
{
    u_char         md[EVP_MAX_MD_SIZE];
    unsigned int   len;

    if (EVP_Digest(ngx_http_compliance_redis_lua,
                   sizeof(ngx_http_compliance_redis_lua) - 1, md, &len,
                   EVP_sha1(), NULL)
        != 1 || len != 20)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "compliance: SHA1 of the Redis script failed");
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_http_compliance_redis_sha, md, 20);

    return NGX_OK;
}


ngx_uint_t
ngx_http_compliance_redis_mode(ngx_http_compliance_redis_t *rd)
{
    return rd->mode;
}


ngx_uint_t
ngx_http_compliance_redis_fail(ngx_http_compliance_redis_t *rd)
{
    return rd->fail;
}


ngx_uint_t
ngx_http_compliance_redis_ready(ngx_http_compliance_redis_t *rd)
{
    return rd->state == NGX_HTTP_COMPLIANCE_REDIS_READY;
}


ngx_http_compliance_redis_counters_t *
ngx_http_compliance_redis_counters(ngx_http_compliance_redis_t *rd)
{
    return rd->counters;
}


ngx_str_t *
ngx_http_compliance_redis_zone(ngx_http_compliance_redis_t *rd)
{
    return &rd->zone;
}


ngx_int_t
ngx_http_compliance_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                        i;
    ngx_http_compliance_redis_t      *rd, **all;
    ngx_http_compliance_main_conf_t  *cmf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    cmf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_compliance_module);

    if (cmf == NULL || cmf->limit.redis == NULL) {
        return NGX_OK;
    }

    /* a cache manager or loader serves no request and has no slot */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ngx_http_compliance_redis_all = cmf->limit.redis;
    all = ngx_http_compliance_redis_all->elts;

    for (i = 0; i < ngx_http_compliance_redis_all->nelts; i++) {
        rd = all[i];

        rd->log = cycle->log;

        /* the mask of this configuration's workers; a worker respawned
         * after a crash takes over its slot's bit */
        rd->generation = rd->counters->generation;
        (void) ngx_http_compliance_redis_down(rd, 0);

        rd->out = ngx_alloc(NGX_HTTP_COMPLIANCE_REDIS_OUT, cycle->log);
        rd->in = ngx_alloc(NGX_HTTP_COMPLIANCE_REDIS_IN, cycle->log);
        rd->slots = ngx_alloc(NGX_HTTP_COMPLIANCE_REDIS_SLOTS
                              * sizeof(ngx_http_compliance_redis_slot_t),
                              cycle->log);
        rd->items = ngx_calloc(NGX_HTTP_COMPLIANCE_REDIS_SYNC_BUCKETS
                               * sizeof(ngx_http_compliance_redis_item_t *),
                               cycle->log);

        if (rd->out == NULL || rd->in == NULL || rd->slots == NULL
            || rd->items == NULL)
        {
            return NGX_ERROR;
        }

        rd->reconnect.handler = ngx_http_compliance_redis_reconnect_handler;
        rd->reconnect.data = rd;
        rd->reconnect.log = cycle->log;
        rd->reconnect.cancelable = 1;

        rd->flush.handler = ngx_http_compliance_redis_flush_handler;
        rd->flush.data = rd;
        rd->flush.log = cycle->log;

        rd->sync_timer.handler = ngx_http_compliance_redis_sync_flush;
        rd->sync_timer.data = rd;
        rd->sync_timer.log = cycle->log;
        rd->sync_timer.cancelable = 1;

        rd->backoff = NGX_HTTP_COMPLIANCE_REDIS_BACKOFF;

        ngx_http_compliance_redis_connect(rd);
    }

    return NGX_OK;
}


void
ngx_http_compliance_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_compliance_redis_t  *rd, **all;

    (void) cycle;

    if (ngx_http_compliance_redis_all == NULL) {
        return;
    }

    all = ngx_http_compliance_redis_all->elts;

    for (i = 0; i < ngx_http_compliance_redis_all->nelts; i++) {
        rd = all[i];

        if (rd->pc.connection) {
            ngx_close_connection(rd->pc.connection);
            rd->pc.connection = NULL;
        }

        if (rd->out) {
            ngx_explicit_memzero(rd->out, rd->out_len);
        }
    }
}


static void
ngx_http_compliance_redis_connect(ngx_http_compliance_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_str_t          arg[2];
    const u_char      *argv[3];
    size_t             lens[3];
    ngx_connection_t  *c;

    ngx_memzero(&rd->pc, sizeof(ngx_peer_connection_t));

    rd->pc.sockaddr = rd->addr->sockaddr;
    rd->pc.socklen = rd->addr->socklen;
    rd->pc.name = &rd->addr_text;
    rd->pc.get = ngx_event_get_peer;
    rd->pc.log = rd->log;
    rd->pc.log_error = NGX_ERROR_ERR;
    rd->pc.tries = 1;

    rd->out_len = 0;
    rd->out_sent = 0;
    rd->in_len = 0;
    rd->head = 0;
    rd->count = 0;

#if (NGX_HAVE_UNIX_DOMAIN)
    /*
     * a missing or forbidden socket file is an outage, logged once, not
     * the [crit] of every connect() attempt
     */
    if (rd->addr->sockaddr->sa_family == AF_UNIX
        && access(((struct sockaddr_un *) rd->addr->sockaddr)->sun_path,
                  W_OK) != 0)
    {
        ngx_http_compliance_redis_close(rd, ngx_errno == NGX_ENOENT
                                            ? "no socket file"
                                            : "no access to the socket file");
        return;
    }
#endif

    rc = ngx_event_connect_peer(&rd->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        rd->pc.connection = NULL;
        ngx_http_compliance_redis_close(rd, "cannot connect");
        return;
    }

    c = rd->pc.connection;
    c->data = rd;
    /* resets and refusals are reported once per outage, by close() */
    c->log_error = NGX_ERROR_INFO;
    c->read->handler = ngx_http_compliance_redis_read_handler;
    c->write->handler = ngx_http_compliance_redis_write_handler;
    c->log = rd->log;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->state = NGX_HTTP_COMPLIANCE_REDIS_CONNECTING;

    /* the handshake goes first; requests wait for READY */
    if (rd->password.len) {
        ngx_str_set(&arg[0], "AUTH");
        argv[0] = arg[0].data;
        lens[0] = arg[0].len;
        argv[1] = rd->password.data;
        lens[1] = rd->password.len;

        (void) ngx_http_compliance_redis_push(rd,
                                              NGX_HTTP_COMPLIANCE_REDIS_AUTH,
                                              2, argv, lens);
    }

    ngx_str_set(&arg[0], "SCRIPT");
    ngx_str_set(&arg[1], "LOAD");
    argv[0] = arg[0].data;
    lens[0] = arg[0].len;
    argv[1] = arg[1].data;
    lens[1] = arg[1].len;
    argv[2] = (const u_char *) ngx_http_compliance_redis_lua;
    lens[2] = sizeof(ngx_http_compliance_redis_lua) - 1;

    (void) ngx_http_compliance_redis_push(rd, NGX_HTTP_COMPLIANCE_REDIS_LOAD,
                                          3, argv, lens);

    /* the handshake has a deadline of its own */
    ngx_add_timer(c->read, NGX_HTTP_COMPLIANCE_REDIS_HANDSHAKE);

    if (rc == NGX_OK) {
        ngx_http_compliance_redis_write_handler(c->write);
    }
}


static void
ngx_http_compliance_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_compliance_redis_t  *rd = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    (void) ngx_atomic_fetch_add(&rd->counters->reconnects, 1);

    ngx_http_compliance_redis_connect(rd);
}


/* this worker's bit in the outage mask (past 64 workers, bits are shared) */
static ngx_atomic_uint_t
ngx_http_compliance_redis_bit(void)
{
    return (ngx_atomic_uint_t) 1
           << (ngx_worker % (sizeof(ngx_atomic_uint_t) * 8));
}


/*
 * Sets or clears this worker's bit; the mask as it was before.  A
 * worker of an older configuration (a reload's old workers) leaves it
 * alone: the mask started afresh for the new ones.
 */
static ngx_atomic_uint_t
ngx_http_compliance_redis_down(ngx_http_compliance_redis_t *rd,
    ngx_uint_t down)
{
    ngx_atomic_uint_t  old, bit, mask;

    bit = ngx_http_compliance_redis_bit();

    for ( ;; ) {
        old = rd->counters->outage;

        if (rd->generation != rd->counters->generation) {
            return old;
        }

        mask = down ? (old | bit) : (old & ~bit);

        if (mask == old
            || ngx_atomic_cmp_set(&rd->counters->outage, old, mask))
        {
            return old;
        }
    }
}


/*
 * Every failure ends here: the connection goes, every request waiting
 * on it is answered "failed" (it falls back or gets its 503 now, not at
 * its timer), and a reconnect is due after the backoff.
 */
static void
ngx_http_compliance_redis_close(ngx_http_compliance_redis_t *rd,
    const char *why)
{
    ngx_http_compliance_redis_slot_t    *slot;
    ngx_http_compliance_redis_answer_t   a;

    if (rd->state == NGX_HTTP_COMPLIANCE_REDIS_READY || !rd->outage) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "compliance: Redis %V of zone \"%V\": %s, limits "
                      "fall back to %s until it is back",
                      &rd->addr_text, &rd->zone, why,
                      rd->fail == NGX_HTTP_COMPLIANCE_REDIS_OPEN
                      ? "the local buckets" : "refusing (503)");
    }

    if (!rd->outage) {
        rd->outage = 1;

        /* the first worker down starts the node's outage; a worker on
         * its way out (a reload, a stop) sets no bit for it */
        if (!ngx_exiting && !ngx_quit && !ngx_terminate
            && (ngx_http_compliance_redis_down(rd, 1)
                & ~ngx_http_compliance_redis_bit()) == 0)
        {
            (void) ngx_atomic_fetch_add(&rd->counters->outages, 1);
        }
    }

    if (rd->pc.connection) {
        ngx_close_connection(rd->pc.connection);
        rd->pc.connection = NULL;
    }

    rd->state = NGX_HTTP_COMPLIANCE_REDIS_DOWN;

    if (rd->out) {
        ngx_explicit_memzero(rd->out, rd->out_len);
    }

    rd->out_len = 0;
    rd->out_sent = 0;
    rd->in_len = 0;

    ngx_memzero(&a, sizeof(ngx_http_compliance_redis_answer_t));
    a.state = NGX_HTTP_COMPLIANCE_REDIS_FAILED;

    /* each slot leaves the ring before its request runs on */
    while (rd->count) {
        slot = &rd->slots[rd->head];
        rd->head = (rd->head + 1) % NGX_HTTP_COMPLIANCE_REDIS_SLOTS;
        rd->count--;

        if (slot->kind == NGX_HTTP_COMPLIANCE_REDIS_LEASE) {
            /* the table keeps it: asked again once Redis is back */
            slot->item->pending = 0;

        } else if (slot->item) {
            ngx_free(slot->item);
        }

        slot->item = NULL;

        if (slot->wait) {
            ngx_http_compliance_redis_answer(slot->wait, slot->index, &a);
        }
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit
        && !rd->reconnect.timer_set)
    {
        ngx_add_timer(&rd->reconnect, rd->backoff);

        rd->backoff *= 2;

        if (rd->backoff > NGX_HTTP_COMPLIANCE_REDIS_BACKOFF_MAX) {
            rd->backoff = NGX_HTTP_COMPLIANCE_REDIS_BACKOFF_MAX;
        }
    }
}


static void
ngx_http_compliance_redis_up(ngx_http_compliance_redis_t *rd)
{
    rd->state = NGX_HTTP_COMPLIANCE_REDIS_READY;
    rd->backoff = NGX_HTTP_COMPLIANCE_REDIS_BACKOFF;

    if (rd->pc.connection->read->timer_set) {
        ngx_del_timer(rd->pc.connection->read);
    }

    if (rd->outage) {
        rd->outage = 0;

        /*
         * The outage ends when the last worker down is back: one that
         * is back early must not end it for the others, or the one
         * still falling back would write no alert
         */
        if ((ngx_http_compliance_redis_down(rd, 0)
             & ~ngx_http_compliance_redis_bit()) == 0)
        {
            ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                          "compliance: Redis %V of zone \"%V\" is back "
                          "(outages %uA, fallbacks %uA, timeouts %uA, "
                          "errors %uA)", &rd->addr_text, &rd->zone,
                          rd->counters->outages, rd->counters->fallbacks,
                          rd->counters->timeouts, rd->counters->errors);
        }
    }

    /* sync's interval, and the watchdog of commands nobody waits for */
    if (!rd->sync_timer.timer_set) {
        ngx_add_timer(&rd->sync_timer, ngx_http_compliance_redis_tick(rd));
    }
}


/* a command and its slot, or NGX_ERROR (no room: not sent at all) */
static ngx_int_t
ngx_http_compliance_redis_push(ngx_http_compliance_redis_t *rd,
    ngx_uint_t kind, ngx_uint_t argc, const u_char **argv, size_t *lens)
{
    size_t                             len;
    ngx_http_compliance_redis_slot_t  *slot;

    len = compliance_resp_command_len(argc, argv, lens);

    if (rd->count == NGX_HTTP_COMPLIANCE_REDIS_SLOTS
        || len > NGX_HTTP_COMPLIANCE_REDIS_OUT - rd->out_len)
    {
        return NGX_ERROR;
    }

    (void) compliance_resp_command(rd->out + rd->out_len, argc, argv, lens);
    rd->out_len += len;

    slot = &rd->slots[(rd->head + rd->count)
                      % NGX_HTTP_COMPLIANCE_REDIS_SLOTS];
    rd->count++;

    ngx_memzero(slot, sizeof(ngx_http_compliance_redis_slot_t));
    slot->kind = kind;
    slot->sent = ngx_current_msec;

    if (!rd->flush.posted && rd->pc.connection) {
        ngx_post_event(&rd->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_redis_script(ngx_http_compliance_redis_t *rd,
    ngx_uint_t kind, ngx_uint_t eval, ngx_str_t *key,
    compliance_bucket_conf_t *bc, u_char op, uint64_t n)
{
    return ngx_http_compliance_redis_command(rd, kind, eval, key, bc, op, n,
                                             0);
}


static ngx_int_t
ngx_http_compliance_redis_script_m(ngx_http_compliance_redis_t *rd,
    ngx_uint_t kind, ngx_str_t *key, compliance_bucket_conf_t *bc, u_char op,
    uint64_t n, uint64_t m)
{
    return ngx_http_compliance_redis_command(rd, kind, 0, key, bc, op, n, m);
}


/*
 * EVALSHA sha 1 key rate period cap op n m; EVAL with the body after
 * NOSCRIPT
 */
static ngx_int_t
ngx_http_compliance_redis_command(ngx_http_compliance_redis_t *rd,
    ngx_uint_t kind, ngx_uint_t eval, ngx_str_t *key,
    compliance_bucket_conf_t *bc, u_char op, uint64_t n, uint64_t m)
{
    u_char         num[5][NGX_INT64_LEN], opc;
    size_t         lens[10];
    const u_char  *argv[10];

    opc = op;

    if (eval) {
        argv[0] = (u_char *) "EVAL";
        lens[0] = 4;
        argv[1] = (u_char *) ngx_http_compliance_redis_lua;
        lens[1] = sizeof(ngx_http_compliance_redis_lua) - 1;

    } else {
        argv[0] = (u_char *) "EVALSHA";
        lens[0] = 7;
        argv[1] = ngx_http_compliance_redis_sha;
        lens[1] = 40;
    }

    argv[2] = (u_char *) "1";
    lens[2] = 1;
    argv[3] = key->data;
    lens[3] = key->len;

    argv[4] = num[0];
    lens[4] = ngx_sprintf(num[0], "%uL", bc->rate) - num[0];
    argv[5] = num[1];
    lens[5] = ngx_sprintf(num[1], "%uL", bc->period_ms) - num[1];
    argv[6] = num[2];
    lens[6] = ngx_sprintf(num[2], "%uL",
                          (bc->burst ? bc->burst : bc->rate) * bc->period_ms)
              - num[2];
    argv[7] = &opc;
    lens[7] = 1;
    argv[8] = num[3];
    lens[8] = ngx_sprintf(num[3], "%uL", n) - num[3];
    argv[9] = num[4];
    lens[9] = ngx_sprintf(num[4], "%uL", m) - num[4];

    return ngx_http_compliance_redis_push(rd, kind, 10, argv, lens);
}


static ngx_http_compliance_redis_slot_t *
ngx_http_compliance_redis_last(ngx_http_compliance_redis_t *rd)
{
    return &rd->slots[(rd->head + rd->count - 1)
                      % NGX_HTTP_COMPLIANCE_REDIS_SLOTS];
}


static void
ngx_http_compliance_redis_flush_handler(ngx_event_t *ev)
{
    ngx_http_compliance_redis_t  *rd = ev->data;

    if (rd->pc.connection == NULL) {
        return;
    }

    if (ngx_http_compliance_redis_send(rd) != NGX_OK) {
        ngx_http_compliance_redis_close(rd, "send failed");
    }
}


static void
ngx_http_compliance_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c = ev->data;
    ngx_http_compliance_redis_t  *rd = c->data;

    if (ngx_http_compliance_redis_send(rd) != NGX_OK) {
        ngx_http_compliance_redis_close(rd, "send failed");
    }
}


static ngx_int_t
ngx_http_compliance_redis_send(ngx_http_compliance_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->pc.connection;

    while (rd->out_sent < rd->out_len) {

        n = c->send(c, rd->out + rd->out_sent, rd->out_len - rd->out_sent);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            return NGX_ERROR;
        }

        rd->out_sent += n;
    }

    if (rd->out_sent == rd->out_len) {
        /* AUTH went out here: no copy of the password stays behind */
        ngx_explicit_memzero(rd->out, rd->out_len);
        rd->out_len = 0;
        rd->out_sent = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_compliance_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t             *c = ev->data;
    ngx_http_compliance_redis_t  *rd = c->data;

    int                       rc;
    size_t                    used, off;
    ssize_t                   n;
    compliance_resp_reply_t   reply;

    if (ev->timedout) {
        ngx_http_compliance_redis_close(rd, "no answer to the handshake");
        return;
    }

    for ( ;; ) {
        n = c->recv(c, rd->in + rd->in_len,
                    NGX_HTTP_COMPLIANCE_REDIS_IN - rd->in_len);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_compliance_redis_close(rd, "connection closed");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_compliance_redis_close(rd, "connection failed");
            return;
        }

        rd->in_len += n;
        off = 0;

        for ( ;; ) {
            rc = compliance_resp_parse(rd->in + off, rd->in_len - off,
                                       &reply, &used);

            if (rc == COMPLIANCE_RESP_AGAIN) {
                break;
            }

            if (rc != COMPLIANCE_RESP_OK || rd->count == 0) {
                ngx_http_compliance_redis_close(rd, "malformed reply");
                return;
            }

            if (ngx_http_compliance_redis_reply(rd, &reply) != NGX_OK) {
                return;   /* closed */
            }

            off += used;

            if (rd->pc.connection == NULL) {
                return;
            }
        }

        if (off) {
            ngx_memmove(rd->in, rd->in + off, rd->in_len - off);
            rd->in_len -= off;
        }

        if (rd->in_len == NGX_HTTP_COMPLIANCE_REDIS_IN) {
            ngx_http_compliance_redis_close(rd, "reply too long");
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_compliance_redis_close(rd, "event failed");
    }
}


/* the oldest slot's reply; NGX_ERROR when the connection was closed */
static ngx_int_t
ngx_http_compliance_redis_reply(ngx_http_compliance_redis_t *rd,
    compliance_resp_reply_t *reply)
{
    ngx_http_compliance_redis_slot_t    slot;
    ngx_http_compliance_redis_answer_t  a;

    slot = rd->slots[rd->head];
    rd->head = (rd->head + 1) % NGX_HTTP_COMPLIANCE_REDIS_SLOTS;
    rd->count--;

    switch (slot.kind) {

    case NGX_HTTP_COMPLIANCE_REDIS_AUTH:
        if (reply->value.type != COMPLIANCE_RESP_STATUS) {
            /* the server's message names no secret: it is not echoed */
            ngx_http_compliance_redis_close(rd, "AUTH refused");
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_COMPLIANCE_REDIS_LOAD:
        if (reply->value.type != COMPLIANCE_RESP_BULK
            || reply->value.len != 40
            || ngx_strncasecmp((u_char *) reply->value.str,
                               ngx_http_compliance_redis_sha, 40) != 0)
        {
            ngx_http_compliance_redis_close(rd, "SCRIPT LOAD failed");
            return NGX_ERROR;
        }

        ngx_http_compliance_redis_up(rd);
        return NGX_OK;

    case NGX_HTTP_COMPLIANCE_REDIS_FORGET:
        return NGX_OK;

    default:
        break;
    }

    (void) ngx_atomic_fetch_add(&rd->counters->requests, 1);

    /* a script flushed from the server's cache: sent again with its body */
    if (compliance_resp_error_is(&reply->value, "NOSCRIPT")) {

        if (slot.kind == NGX_HTTP_COMPLIANCE_REDIS_TAKE && slot.wait
            && ngx_http_compliance_redis_script(rd, slot.kind, 1, &slot.key,
                                                &slot.bc, 't', 1)
               == NGX_OK)
        {
            *ngx_http_compliance_redis_last(rd) = slot;
            return NGX_OK;
        }

        if (slot.kind == NGX_HTTP_COMPLIANCE_REDIS_FAILURE
            && ngx_http_compliance_redis_script(rd, slot.kind, 1,
                                                &slot.item->key,
                                                &slot.item->bc, 'f',
                                                slot.item->spent)
               == NGX_OK)
        {
            *ngx_http_compliance_redis_last(rd) = slot;
            return NGX_OK;
        }

        if (slot.kind == NGX_HTTP_COMPLIANCE_REDIS_LEASE
            && ngx_http_compliance_redis_command(rd, slot.kind, 1,
                                     &slot.item->key, &slot.item->bc, 'l',
                                     slot.item->asked,
                                     slot.item->bc.rate * rd->sync
                                     / slot.item->bc.period_ms >= 2
                                     ? slot.item->bc.rate * rd->sync
                                       / slot.item->bc.period_ms : 0)
               == NGX_OK)
        {
            *ngx_http_compliance_redis_last(rd) = slot;
            return NGX_OK;
        }
    }

    if (ngx_http_compliance_redis_script_reply(reply, &a) != NGX_OK) {
        (void) ngx_atomic_fetch_add(&rd->counters->errors, 1);

        /* at most one line a second: a broken key must not flood */
        if (reply->value.type == COMPLIANCE_RESP_ERR
            && rd->logged != ngx_time())
        {
            rd->logged = ngx_time();

            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "compliance: Redis %V of zone \"%V\" answered "
                          "\"%*s\"", &rd->addr_text, &rd->zone,
                          ngx_min(reply->value.len, 200), reply->value.str);
        }
    }

    if (slot.kind == NGX_HTTP_COMPLIANCE_REDIS_LEASE) {
        ngx_http_compliance_redis_leased(rd, slot.item, &a);
        return NGX_OK;
    }

    if (slot.kind == NGX_HTTP_COMPLIANCE_REDIS_FAILURE) {
        if (a.state == NGX_HTTP_COMPLIANCE_REDIS_DONE && rd->sync_handler) {
            rd->sync_handler(rd->sync_data, &slot.item->key, a.units,
                             a.lock);
        }

        ngx_free(slot.item);
        return NGX_OK;
    }

    if (slot.wait) {
        ngx_http_compliance_redis_answer(slot.wait, slot.index, &a);
    }

    return rd->pc.connection ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_compliance_redis_script_reply(compliance_resp_reply_t *reply,
    ngx_http_compliance_redis_answer_t *a)
{
    a->state = NGX_HTTP_COMPLIANCE_REDIS_FAILED;

    if (reply->value.type != COMPLIANCE_RESP_ARRAY || reply->n != 4
        || reply->elts[0].type != COMPLIANCE_RESP_INTEGER
        || reply->elts[3].type != COMPLIANCE_RESP_INTEGER
        || reply->elts[3].integer < 0
        || reply->elts[1].type != COMPLIANCE_RESP_INTEGER
        || reply->elts[2].type != COMPLIANCE_RESP_INTEGER
        || reply->elts[1].integer < 0 || reply->elts[2].integer < 0)
    {
        return NGX_ERROR;
    }

    a->state = NGX_HTTP_COMPLIANCE_REDIS_DONE;
    a->allowed = (reply->elts[0].integer == 1);
    a->units = (uint64_t) reply->elts[1].integer;
    a->now = (uint64_t) reply->elts[2].integer;
    a->lock = (uint64_t) reply->elts[3].integer;

    return NGX_OK;
}


static void
ngx_http_compliance_redis_answer(ngx_http_compliance_redis_wait_t *wait,
    ngx_uint_t i, ngx_http_compliance_redis_answer_t *a)
{
    if (wait->answers[i].state != NGX_HTTP_COMPLIANCE_REDIS_PENDING) {
        return;
    }

    wait->answers[i].state = a->state;
    wait->answers[i].allowed = a->allowed;
    wait->answers[i].units = a->units;
    wait->answers[i].now = a->now;

    if (--wait->pending == 0 && wait->waiting) {
        ngx_http_compliance_redis_resume(wait);
    }
}


static void
ngx_http_compliance_redis_resume(ngx_http_compliance_redis_wait_t *wait)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = wait->r;
    c = r->connection;

    wait->waiting = 0;

    if (wait->timer.timer_set) {
        ngx_del_timer(&wait->timer);
    }

    r->write_event_handler = ngx_http_core_run_phases;
    wait->resumed = 1;

    ngx_http_core_run_phases(r);

    /* the reference taken when the request began to wait */
    ngx_http_finalize_request(r, NGX_DONE);

    ngx_http_run_posted_requests(c);
}


/* past 50 ms: this request goes on without Redis, and Redis is "slow" */
static void
ngx_http_compliance_redis_timeout(ngx_event_t *ev)
{
    ngx_http_compliance_redis_wait_t  *wait = ev->data;

    ngx_uint_t                    i, n;
    ngx_http_compliance_redis_t  *rd, **all;

    n = 0;

    for (i = 0; i < wait->n; i++) {
        if (wait->answers[i].state == NGX_HTTP_COMPLIANCE_REDIS_PENDING) {
            wait->answers[i].state = NGX_HTTP_COMPLIANCE_REDIS_FAILED;
            n++;
        }
    }

    wait->pending = 0;

    ngx_http_compliance_redis_detach(wait);

    /*
     * a connection whose oldest command has waited 50 ms is slow: it is
     * closed, and every request behind that command goes on now
     */
    all = ngx_http_compliance_redis_all->elts;

    for (i = 0; n && i < ngx_http_compliance_redis_all->nelts; i++) {
        rd = all[i];

        if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_DOWN && rd->count
            && ngx_current_msec - rd->slots[rd->head].sent
               >= NGX_HTTP_COMPLIANCE_REDIS_WAIT)
        {
            (void) ngx_atomic_fetch_add(&rd->counters->timeouts, 1);
            ngx_http_compliance_redis_close(rd, "slower than 50 ms");
        }
    }

    if (wait->waiting) {
        ngx_http_compliance_redis_resume(wait);
    }
}


/* the ring forgets a request that no longer waits */
static void
ngx_http_compliance_redis_detach(ngx_http_compliance_redis_wait_t *wait)
{
    ngx_uint_t                    i, j;
    ngx_http_compliance_redis_t  *rd, **all;

    if (ngx_http_compliance_redis_all == NULL) {
        return;
    }

    all = ngx_http_compliance_redis_all->elts;

    for (i = 0; i < ngx_http_compliance_redis_all->nelts; i++) {
        rd = all[i];

        for (j = 0; j < rd->count; j++) {
            if (rd->slots[(rd->head + j) % NGX_HTTP_COMPLIANCE_REDIS_SLOTS]
                .wait == wait)
            {
                rd->slots[(rd->head + j) % NGX_HTTP_COMPLIANCE_REDIS_SLOTS]
                    .wait = NULL;
            }
        }
    }
}


static void
ngx_http_compliance_redis_cleanup(void *data)
{
    ngx_http_compliance_redis_wait_t  *wait = data;

    if (wait->timer.timer_set) {
        ngx_del_timer(&wait->timer);
    }

    if (wait->pending) {
        ngx_http_compliance_redis_detach(wait);
        wait->pending = 0;
    }

    wait->waiting = 0;
}


ngx_int_t
ngx_http_compliance_redis_key(ngx_pool_t *pool, ngx_str_t *zone, u_char type,
    ngx_str_t *data, ngx_str_t *out)
{
    u_char  *p;

    out->len = sizeof("compliance:") - 1 + zone->len + 2 + data->len;

    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(out->data, "compliance:", sizeof("compliance:") - 1);
    p = ngx_cpymem(p, zone->data, zone->len);
    *p++ = ':';
    *p++ = type;
    ngx_memcpy(p, data->data, data->len);

    return NGX_OK;
}


/*
 * The request's wait for the limits array of its location: the one it
 * has if it was made for the same array, a new one otherwise (after an
 * internal redirect to a location with other limits).
 */
ngx_http_compliance_redis_wait_t *
ngx_http_compliance_redis_wait(ngx_http_request_t *r,
    ngx_http_compliance_redis_wait_t *wait, void *limits, ngx_uint_t n)
{
    ngx_pool_cleanup_t  *cln;

    if (wait && wait->limits == limits) {
        return wait;
    }

    if (wait && wait->pending) {
        return NULL;
    }

    wait = ngx_pcalloc(r->pool, sizeof(ngx_http_compliance_redis_wait_t));
    if (wait == NULL) {
        return NULL;
    }

    wait->answers = ngx_pcalloc(r->pool,
                           n * sizeof(ngx_http_compliance_redis_answer_t));
    if (wait->answers == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_compliance_redis_cleanup;
    cln->data = wait;

    wait->r = r;
    wait->limits = limits;
    wait->n = n;
    wait->timer.handler = ngx_http_compliance_redis_timeout;
    wait->timer.data = wait;
    wait->timer.log = r->connection->log;

    return wait;
}


/*
 * Asks for a token of limit i: NGX_OK when the command is on its way
 * (the answer will be in wait->answers[i]), NGX_DECLINED when Redis is
 * not usable now (the caller falls back at once).
 */
ngx_int_t
ngx_http_compliance_redis_take(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_wait_t *wait, ngx_uint_t i, ngx_str_t *key,
    compliance_bucket_conf_t *bc)
{
    ngx_http_compliance_redis_slot_t  *slot;

    wait->answers[i].key = *key;

    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY
        || ngx_http_compliance_redis_script(rd,
                                            NGX_HTTP_COMPLIANCE_REDIS_TAKE,
                                            0, key, bc, 't', 1)
           != NGX_OK)
    {
        wait->answers[i].state = NGX_HTTP_COMPLIANCE_REDIS_FAILED;
        return NGX_DECLINED;
    }

    slot = ngx_http_compliance_redis_last(rd);
    slot->wait = wait;
    slot->index = i;
    slot->key = *key;
    slot->bc = *bc;

    wait->answers[i].key = *key;
    wait->answers[i].state = NGX_HTTP_COMPLIANCE_REDIS_PENDING;
    wait->pending++;

    return NGX_OK;
}


/* NGX_DONE: the request waits (at most 50 ms); NGX_OK: nothing to wait for */
ngx_int_t
ngx_http_compliance_redis_suspend(ngx_http_compliance_redis_wait_t *wait)
{
    ngx_http_request_t  *r;

    if (wait->pending == 0) {
        return NGX_OK;
    }

    if (wait->waiting) {
        return NGX_DONE;
    }

    r = wait->r;

    wait->waiting = 1;
    r->main->count++;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_add_timer(&wait->timer, NGX_HTTP_COMPLIANCE_REDIS_WAIT);

    return NGX_DONE;
}


/* a token back (another zone refused the request); nobody waits for it */
void
ngx_http_compliance_redis_refund(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc)
{
    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY) {
        return;
    }

    (void) ngx_http_compliance_redis_script(rd,
                                            NGX_HTTP_COMPLIANCE_REDIS_REFUND,
                                            0, key, bc, 'r', 1);
}


/*
 * A request decided without Redis: counted, and the first one of an
 * outage, in whichever worker, writes the alert record: one per outage
 * of the node (from its first worker down to its last one back), the
 * outage's number in "alerted" telling the others it is written.
 */
void
ngx_http_compliance_redis_fallback(ngx_http_request_t *r,
    ngx_http_compliance_redis_t *rd, ngx_str_t *zone)
{
    ngx_atomic_uint_t           n, done;
    ngx_http_compliance_ctx_t  *ctx;

    (void) ngx_atomic_fetch_add(rd->fail == NGX_HTTP_COMPLIANCE_REDIS_OPEN
                                ? &rd->counters->fallbacks
                                : &rd->counters->refused, 1);

    /*
     * The outage's number, alerted by the first request that takes it;
     * "alerted" read first, so it is never set back to an older number
     */
    done = rd->counters->alerted;
    n = rd->counters->outages;

    if (!rd->outage || (ngx_atomic_int_t) (n - done) <= 0
        || !ngx_atomic_cmp_set(&rd->counters->alerted, done, n))
    {
        return;
    }

    ctx = ngx_http_compliance_get_ctx(r);
    if (ctx == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "compliance: zone \"%V\" decides without Redis %V (%s)",
                  zone, &rd->addr_text,
                  rd->fail == NGX_HTTP_COMPLIANCE_REDIS_OPEN
                  ? "fail=open: local buckets" : "fail=closed: 503");

    ngx_http_compliance_audit_event(r, ctx, "alert", "high",
                                    "limits_unavailable");
}


void
ngx_http_compliance_redis_sync_handler(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_sync_pt handler, void *data)
{
    rd->sync_handler = handler;
    rd->sync_data = data;
}


/*
 * Sync mode: tokens are leased.  A worker spends a key's tokens from
 * the lease Redis granted it, asks for the next lease (up to its share
 * of a sync interval, rate x sync, when that is 2 tokens or more) as
 * the lease runs out, and while that answer is on its way spends up to
 * one share (at least one token) on credit, which the next request to
 * Redis takes from the fleet's bucket first; once Redis said the bucket
 * is empty, no credit until it has refilled a token.  So the fleet
 * grants what its one bucket holds, plus at most one share per worker
 * on credit, and no request waits.  NGX_OK: a token is spent;
 * NGX_DECLINED: none is left for now (refused).
 */
ngx_int_t
ngx_http_compliance_redis_lease(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc)
{
    uint32_t                           hash;
    uint64_t                           share;
    ngx_int_t                          rc;
    ngx_http_compliance_redis_item_t  *it, **pp;

    hash = ngx_murmur_hash2(key->data, key->len);
    pp = &rd->items[hash % NGX_HTTP_COMPLIANCE_REDIS_SYNC_BUCKETS];

    for (it = *pp; it; it = it->next) {
        if (it->hash == hash && it->key.len == key->len
            && ngx_memcmp(it->key.data, key->data, key->len) == 0)
        {
            break;
        }
    }

    if (it == NULL) {
        if (rd->nitems >= NGX_HTTP_COMPLIANCE_REDIS_SYNC_MAX) {
            return NGX_DECLINED;
        }

        it = ngx_calloc(sizeof(ngx_http_compliance_redis_item_t) + key->len,
                        rd->log);
        if (it == NULL) {
            return NGX_DECLINED;
        }

        it->hash = hash;
        it->bc = *bc;
        it->key.data = (u_char *) (it + 1);
        it->key.len = key->len;
        ngx_memcpy(it->key.data, key->data, key->len);

        it->next = *pp;
        *pp = it;
        rd->nitems++;
    }

    it->used = ngx_current_msec;

    share = bc->rate * rd->sync / bc->period_ms;
    share = ngx_max(share, 1);

    if (it->lease) {
        it->lease--;
        rc = NGX_OK;

    } else if (it->credit < share
               && (ngx_msec_int_t) (ngx_current_msec - it->empty) >= 0)
    {
        it->credit++;
        rc = NGX_OK;

    } else {
        rc = NGX_DECLINED;
    }

    if (it->lease == 0 && !it->pending) {
        ngx_http_compliance_redis_ask_lease(rd, it, share);
    }

    return rc;
}


/*
 * Whether lease() would give a token now without Redis: 1 also when
 * Redis is not usable (the caller falls back) or the key is new here.
 */
ngx_uint_t
ngx_http_compliance_redis_lease_left(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc)
{
    uint32_t                           hash;
    uint64_t                           share;
    ngx_http_compliance_redis_item_t  *it;

    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY) {
        return 1;
    }

    hash = ngx_murmur_hash2(key->data, key->len);

    for (it = rd->items[hash % NGX_HTTP_COMPLIANCE_REDIS_SYNC_BUCKETS];
         it;
         it = it->next)
    {
        if (it->hash == hash && it->key.len == key->len
            && ngx_memcmp(it->key.data, key->data, key->len) == 0)
        {
            break;
        }
    }

    if (it == NULL) {
        return rd->nitems < NGX_HTTP_COMPLIANCE_REDIS_SYNC_MAX;
    }

    share = bc->rate * rd->sync / bc->period_ms;
    share = ngx_max(share, 1);

    return it->lease
           || (it->credit < share
               && (ngx_msec_int_t) (ngx_current_msec - it->empty) >= 0);
}


/* the credit spent is taken first, then up to "share" tokens granted */
static void
ngx_http_compliance_redis_ask_lease(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_item_t *it, uint64_t share)
{
    /* a lease of one token would only be kept from the other workers */
    if (share < 2) {
        share = 0;
    }

    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY
        || ngx_http_compliance_redis_script_m(rd,
                                              NGX_HTTP_COMPLIANCE_REDIS_LEASE,
                                              &it->key, &it->bc, 'l',
                                              it->credit, share)
           != NGX_OK)
    {
        return;
    }

    it->pending = 1;
    it->asked = it->credit;
    ngx_http_compliance_redis_last(rd)->item = it;
}


static void
ngx_http_compliance_redis_leased(ngx_http_compliance_redis_t *rd,
    ngx_http_compliance_redis_item_t *it,
    ngx_http_compliance_redis_answer_t *a)
{
    it->pending = 0;

    if (a->state != NGX_HTTP_COMPLIANCE_REDIS_DONE) {
        return;
    }

    it->credit -= ngx_min(it->credit, it->asked);
    it->lease += a->lock;

    /* no whole token left in the fleet's bucket: none until refilled */
    if (a->units < it->bc.period_ms) {
        it->empty = ngx_current_msec
                    + (it->bc.period_ms - a->units + it->bc.rate - 1)
                      / it->bc.rate;

    } else {
        it->empty = ngx_current_msec;
    }

    /* the fleet's content caps this node's bucket (the headers) */
    if (rd->sync_handler) {
        rd->sync_handler(rd->sync_data, &it->key, a->units, 0);
    }
}


/*
 * Every sync=: a key with credit spent is reconciled (its next lease
 * asked), and a key idle for a whole interval gives its lease back and
 * leaves the table.
 */
static ngx_msec_t
ngx_http_compliance_redis_tick(ngx_http_compliance_redis_t *rd)
{
    return rd->mode == NGX_HTTP_COMPLIANCE_REDIS_SYNC
           ? ngx_min(rd->sync, 100) : 100;
}


static void
ngx_http_compliance_redis_sync_flush(ngx_event_t *ev)
{
    ngx_http_compliance_redis_t  *rd = ev->data;

    uint64_t                           share;
    ngx_uint_t                         i;
    ngx_http_compliance_redis_item_t  *it, **pp;

    /*
     * leases and failures have no request waiting 50 ms for them: a
     * command older than that makes Redis slow here
     */
    if (rd->state == NGX_HTTP_COMPLIANCE_REDIS_READY && rd->count
        && ngx_current_msec - rd->slots[rd->head].sent
           >= NGX_HTTP_COMPLIANCE_REDIS_WAIT)
    {
        (void) ngx_atomic_fetch_add(&rd->counters->timeouts, 1);
        ngx_http_compliance_redis_close(rd, "slower than 50 ms");
        return;
    }

    if (rd->mode != NGX_HTTP_COMPLIANCE_REDIS_SYNC) {
        goto next;
    }

    for (i = 0; i < NGX_HTTP_COMPLIANCE_REDIS_SYNC_BUCKETS; i++) {
        pp = &rd->items[i];

        while ((it = *pp) != NULL) {

            if (it->pending || rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY) {
                pp = &it->next;
                continue;
            }

            if (ngx_current_msec - it->used < rd->sync) {
                if (it->credit) {
                    share = it->bc.rate * rd->sync / it->bc.period_ms;
                    ngx_http_compliance_redis_ask_lease(rd, it,
                                                        ngx_max(share, 1));
                }

                pp = &it->next;
                continue;
            }

            /* idle: the credit is paid, the lease given back */
            if (it->credit) {
                (void) ngx_http_compliance_redis_script_m(rd,
                                          NGX_HTTP_COMPLIANCE_REDIS_REFUND,
                                          &it->key, &it->bc, 'l',
                                          it->credit, 0);
            }

            if (it->lease) {
                (void) ngx_http_compliance_redis_script_m(rd,
                                          NGX_HTTP_COMPLIANCE_REDIS_REFUND,
                                          &it->key, &it->bc, 'r',
                                          it->lease, 0);
            }

            *pp = it->next;
            rd->nitems--;
            ngx_free(it);
        }
    }

next:

    if (rd->state == NGX_HTTP_COMPLIANCE_REDIS_READY
        && !ngx_exiting && !ngx_quit && !ngx_terminate)
    {
        ngx_add_timer(&rd->sync_timer, ngx_http_compliance_redis_tick(rd));
    }
}


/*
 * An authentication failure of a lockout zone with Redis: counted in
 * the fleet's bucket; with block_ms, an empty bucket sets the fleet's
 * lock.  Nobody waits: the answer (the lock's time left, whoever set
 * it) reaches the local zone through the sync handler, so this node
 * blocks the address from then on.
 */
ngx_int_t
ngx_http_compliance_redis_failure(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key, compliance_bucket_conf_t *bc, ngx_msec_t block_ms)
{
    ngx_http_compliance_redis_item_t  *it;

    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY) {
        return NGX_DECLINED;
    }

    it = ngx_alloc(sizeof(ngx_http_compliance_redis_item_t) + key->len,
                   rd->log);
    if (it == NULL) {
        return NGX_ERROR;
    }

    it->next = NULL;
    it->hash = 0;
    it->spent = block_ms;
    it->bc = *bc;
    it->key.data = (u_char *) (it + 1);
    it->key.len = key->len;
    ngx_memcpy(it->key.data, key->data, key->len);

    if (ngx_http_compliance_redis_script(rd,
                                         NGX_HTTP_COMPLIANCE_REDIS_FAILURE,
                                         0, &it->key, &it->bc, 'f',
                                         block_ms)
        != NGX_OK)
    {
        ngx_free(it);
        return NGX_DECLINED;
    }

    ngx_http_compliance_redis_last(rd)->item = it;

    return NGX_OK;
}


/* a lockout cleared by the operator: the bucket and the lock go too */
void
ngx_http_compliance_redis_forget(ngx_http_compliance_redis_t *rd,
    ngx_str_t *key)
{
    u_char         *lock;
    size_t          lens[3];
    const u_char   *argv[3];

    if (rd->state != NGX_HTTP_COMPLIANCE_REDIS_READY) {
        return;
    }

    lock = ngx_alloc(key->len + sizeof(":lock") - 1, rd->log);
    if (lock == NULL) {
        return;
    }

    ngx_memcpy(ngx_cpymem(lock, key->data, key->len), ":lock",
               sizeof(":lock") - 1);

    argv[0] = (u_char *) "DEL";
    lens[0] = 3;
    argv[1] = key->data;
    lens[1] = key->len;
    argv[2] = lock;
    lens[2] = key->len + sizeof(":lock") - 1;

    (void) ngx_http_compliance_redis_push(rd, NGX_HTTP_COMPLIANCE_REDIS_FORGET,
                                          3, argv, lens);

    ngx_free(lock);
}
