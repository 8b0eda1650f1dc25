/*
 * compliance_upstream_oauth2 (SPEC 16).  One source per name: its shared
 * memory holds the access token, when it was fetched, when it is to be
 * refreshed and when it stops being used, whether fetches fail, and the
 * fetch flag (fetch.c).  The token request is a POST of the
 * client-credentials grant through the token_request location, the
 * client authenticated with HTTP Basic (RFC 6749 2.3.1); the client
 * secret comes from the vault, and every copy of it and of the token
 * this module makes is wiped when it is no longer needed.  Neither ever
 * reaches a log line, a record or a response.
 */

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_fetch.h"
#include "ngx_http_compliance_oauth2.h"

#include "compliance_oauth2.h"


#define NGX_HTTP_COMPLIANCE_OAUTH2_MAGIC    0x4832414fU     /* "OA2H" */
#define NGX_HTTP_COMPLIANCE_OAUTH2_LAYOUT   1

/* the longest token kept; the answer itself is read up to this */
#define NGX_HTTP_COMPLIANCE_OAUTH2_MAX      COMPLIANCE_OAUTH2_MAX_ANSWER

/* the slab pool's own pages */
#define NGX_HTTP_COMPLIANCE_OAUTH2_ROOM     (64 * 1024)


typedef struct {
    uint32_t                            magic;
    uint32_t                            layout;
    ngx_http_compliance_fetch_sh_t      fetch;
    time_t                              fetched;     /* 0: no token */
    time_t                              refresh;     /* refreshed from */
    time_t                              expires;     /* not used from */
    time_t                              failing;     /* outage start */
    ngx_uint_t                          good;        /* fetches */
    ngx_uint_t                          failed;
    size_t                              len;
    u_char                              token[NGX_HTTP_COMPLIANCE_OAUTH2_MAX];
} ngx_http_compliance_oauth2_sh_t;


struct ngx_http_compliance_oauth2_s {
    ngx_str_t                           name;
    ngx_str_t                           uri;
    ngx_str_t                           client_id;
    ngx_str_t                           secret_name;
    ngx_str_t                           scope;
    ngx_str_t                           audience;
    ngx_str_t                           body;        /* the grant */
    time_t                              margin;
    time_t                              retry;
    ngx_msec_t                          timeout;

    const compliance_vault_entry_t     *secret;      /* at merge */

    ngx_shm_zone_t                     *zone;
    ngx_http_compliance_oauth2_sh_t    *sh;
    ngx_slab_pool_t                    *shpool;
    ngx_http_compliance_fetch_t        *fetch;
};


/* per request and source: the token copy it sends; it waits once */
typedef struct {
    ngx_http_compliance_oauth2_t       *o;  /* first: the owner (fetch.c) */
    u_char                             *token;
    size_t                              len;
    ngx_uint_t                          waited;
} ngx_http_compliance_oauth2_req_t;


/* the client credential of one token request, and where it was copied */
typedef struct {
    ngx_http_request_t                 *sr;
    u_char                             *value;       /* "Basic ..." */
    size_t                              len;
} ngx_http_compliance_oauth2_cred_t;


static ngx_http_compliance_oauth2_req_t *ngx_http_compliance_oauth2_req(
    ngx_http_request_t *r, ngx_http_compliance_oauth2_t *o);
static void ngx_http_compliance_oauth2_req_cleanup(void *data);
static ngx_int_t ngx_http_compliance_oauth2_prepare(ngx_http_request_t *r,
    ngx_http_request_t *sr, void *data);
static ngx_int_t ngx_http_compliance_oauth2_header(ngx_http_request_t *sr,
    const char *key, u_char *value, size_t len);
static void ngx_http_compliance_oauth2_cred_cleanup(void *data);
static u_char *ngx_http_compliance_oauth2_form(u_char *dst, u_char *src,
    size_t len);
static void ngx_http_compliance_oauth2_fetched(ngx_http_request_t *r,
    ngx_http_compliance_fetch_result_t *res, void *data);
static void ngx_http_compliance_oauth2_alert(ngx_http_request_t *r,
    ngx_http_compliance_oauth2_t *o, const char *error);
static ngx_int_t ngx_http_compliance_oauth2_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);


/* --- per request */


ngx_int_t
ngx_http_compliance_oauth2_token(ngx_http_request_t *r,
    ngx_http_compliance_oauth2_t *o, ngx_str_t *token)
{
    time_t                             now, min;
    size_t                             len, size, more;
    u_char                            *p;
    ngx_int_t                          rc;
    ngx_uint_t                         refresh, i;
    ngx_http_compliance_oauth2_sh_t   *sh;
    ngx_http_compliance_oauth2_req_t  *st;

    st = ngx_http_compliance_oauth2_req(r, o);
    if (st == NULL) {
        return NGX_ERROR;
    }

    if (st->token) {
        /* a copy made for another location of this request */
        ngx_explicit_memzero(st->token, st->len);
        st->token = NULL;
    }

    sh = o->sh;
    now = ngx_time();
    p = NULL;
    refresh = 0;

    /* a failing endpoint is asked at most once per retry= */
    min = ((volatile ngx_http_compliance_oauth2_sh_t *) sh)->failing
          ? o->retry : 0;

    len = 0;
    size = ((volatile ngx_http_compliance_oauth2_sh_t *) sh)->len;

    /* sized by a read without the lock: again if a longer one came */
    for (i = 0; size && i < 2; i++) {
        p = ngx_pnalloc(r->main->pool, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_shmtx_lock(&o->shpool->mutex);

        if (sh->len && sh->len <= size && now < sh->expires) {
            len = sh->len;
            ngx_memcpy(p, sh->token, len);
            refresh = (now >= sh->refresh);
        }

        more = (sh->len > size && now < sh->expires) ? sh->len : 0;

        ngx_shmtx_unlock(&o->shpool->mutex);

        /* from here on the request's cleanup wipes it */
        st->token = p;
        st->len = size;

        size = more;
    }

    if (len) {
        if (refresh) {
            /* one worker refreshes; the token is used meanwhile */
            (void) ngx_http_compliance_fetch_start(r, o->fetch, min);
        }

        token->data = p;
        token->len = len;

        return NGX_OK;
    }

    if (!st->waited) {
        rc = ngx_http_compliance_fetch_start(r, o->fetch, min);

        if (rc == NGX_OK || rc == NGX_BUSY) {
            st->waited = 1;

            if (ngx_http_compliance_fetch_wait(r, o->fetch) != NGX_DONE) {
                return NGX_ERROR;
            }

            return NGX_DONE;
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    return NGX_DECLINED;
}


static ngx_http_compliance_oauth2_req_t *
ngx_http_compliance_oauth2_req(ngx_http_request_t *r,
    ngx_http_compliance_oauth2_t *o)
{
    return ngx_http_compliance_fetch_req_state(r, o,
                                   sizeof(ngx_http_compliance_oauth2_req_t),
                                   ngx_http_compliance_oauth2_req_cleanup, 1);
}


static void
ngx_http_compliance_oauth2_req_cleanup(void *data)
{
    ngx_http_compliance_oauth2_req_t  *st = data;

    if (st->token) {
        ngx_explicit_memzero(st->token, st->len);
        st->token = NULL;
    }
}


/* --- the token request */


static ngx_int_t
ngx_http_compliance_oauth2_prepare(ngx_http_request_t *r,
    ngx_http_request_t *sr, void *data)
{
    ngx_http_compliance_oauth2_t  *o = data;

    u_char                             *raw, *p;
    ngx_str_t                           src, dst;
    ngx_buf_t                          *b;
    ngx_chain_t                        *cl;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_request_body_t            *rb;
    ngx_http_compliance_oauth2_cred_t  *cred;

    if (o->secret == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_compliance_oauth2_cred_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cred = cln->data;
    cred->sr = sr;
    cred->value = NULL;
    cred->len = 0;
    cln->handler = ngx_http_compliance_oauth2_cred_cleanup;

    /* RFC 6749 2.3.1: both form-encoded, then Basic (RFC 7617) */
    raw = ngx_pnalloc(r->pool,
                      3 * (o->client_id.len + o->secret->secret_len) + 1);
    if (raw == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_compliance_oauth2_form(raw, o->client_id.data,
                                        o->client_id.len);
    *p++ = ':';
    p = ngx_http_compliance_oauth2_form(p, (u_char *) o->secret->secret,
                                        o->secret->secret_len);

    src.data = raw;
    src.len = p - raw;

    cred->len = sizeof("Basic ") - 1 + ngx_base64_encoded_length(src.len);
    cred->value = ngx_pnalloc(r->pool, cred->len);

    if (cred->value == NULL) {
        ngx_explicit_memzero(raw, src.len);
        cred->len = 0;
        return NGX_ERROR;
    }

    dst.data = ngx_cpymem(cred->value, "Basic ", sizeof("Basic ") - 1);
    ngx_encode_base64(&dst, &src);
    cred->len = sizeof("Basic ") - 1 + dst.len;

    ngx_explicit_memzero(raw, src.len);

    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");

    if (ngx_http_compliance_oauth2_header(sr, "Authorization", cred->value,
                                          cred->len)
        != NGX_OK
        || ngx_http_compliance_oauth2_header(sr, "Content-Type",
               (u_char *) "application/x-www-form-urlencoded",
               sizeof("application/x-www-form-urlencoded") - 1)
           != NGX_OK
        || ngx_http_compliance_oauth2_header(sr, "Accept",
               (u_char *) "application/json",
               sizeof("application/json") - 1)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));

    if (b == NULL || cl == NULL || rb == NULL) {
        return NGX_ERROR;
    }

    /* the grant holds no secret: it is the configuration's */
    b->pos = o->body.data;
    b->last = o->body.data + o->body.len;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;

    sr->request_body = rb;
    sr->headers_in.content_length_n = o->body.len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_oauth2_header(ngx_http_request_t *sr, const char *key,
    u_char *value, size_t len)
{
    size_t            klen;
    ngx_table_elt_t  *h;

    klen = ngx_strlen(key);

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key.data = (u_char *) key;
    h->key.len = klen;
    h->value.data = value;
    h->value.len = len;

    h->lowcase_key = ngx_pnalloc(sr->pool, klen);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, klen);

    return NGX_OK;
}


/*
 * The request is done with its token request: the credential, and its
 * copy in the header block the location's upstream module built, go.
 */
static void
ngx_http_compliance_oauth2_cred_cleanup(void *data)
{
    ngx_http_compliance_oauth2_cred_t  *cred = data;

    u_char               *p, *last;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    if (cred->value == NULL || cred->len == 0) {
        return;
    }

    u = cred->sr ? cred->sr->upstream : NULL;

    for (cl = u ? u->request_bufs : NULL; cl; cl = cl->next) {
        b = cl->buf;

        if (b == NULL || !b->temporary || b->start == NULL
            || b->last < b->start)
        {
            continue;
        }

        p = b->start;
        last = b->last;

        while ((size_t) (last - p) >= cred->len) {

            if (*p == cred->value[0]
                && ngx_memcmp(p, cred->value, cred->len) == 0)
            {
                ngx_explicit_memzero(p, cred->len);
                p += cred->len;
                continue;
            }

            p++;
        }
    }

    ngx_explicit_memzero(cred->value, cred->len);
    cred->len = 0;
}


/* application/x-www-form-urlencoded: unreserved bytes as they are */
static u_char *
ngx_http_compliance_oauth2_form(u_char *dst, u_char *src, size_t len)
{
    u_char         c;
    size_t         i;
    static u_char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < len; i++) {
        c = src[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}


/* --- the end of a token request, in the worker that made it */


static void
ngx_http_compliance_oauth2_fetched(ngx_http_request_t *r,
    ngx_http_compliance_fetch_result_t *res, void *data)
{
    ngx_http_compliance_oauth2_t  *o = data;

    long                              lifetime;
    time_t                            now, life, usable, ahead, until;
    ngx_log_t                        *log;
    ngx_str_t                         token;
    ngx_uint_t                        first, good, failed;
    const char                       *error;
    ngx_http_compliance_oauth2_sh_t  *sh;

    sh = o->sh;

    /* the request that fetched went away first: not the endpoint's fault */
    if (r == NULL) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "compliance: the token request of upstream oauth2 "
                      "\"%V\" stopped: %s", &o->name, res->error);
        goto done;
    }

    log = r->connection->log;
    error = res->error;
    life = 0;
    ngx_str_null(&token);

    if (error == NULL
        && compliance_oauth2_answer_read(res->body.data, res->body.len,
                                         &token.data, &token.len, &lifetime,
                                         &error)
           == 0)
    {
        life = (time_t) lifetime;
    }

    now = ngx_time();
    usable = 0;
    first = 0;

    if (error == NULL) {
        /* until expires_in - margin; a short life: half of it (D96) */
        usable = (life > o->margin) ? life - o->margin : life / 2;

        if (usable == 0) {
            error = "expires_in is too short to use the token";
        }
    }

    ahead = ngx_min(o->margin, usable / 2);

    ngx_shmtx_lock(&o->shpool->mutex);

    if (error == NULL) {
        ngx_explicit_memzero(sh->token, sh->len);
        ngx_memcpy(sh->token, token.data, token.len);
        sh->len = token.len;
        sh->fetched = now;
        sh->expires = now + usable;
        sh->refresh = now + usable - ahead;
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
    until = (sh->len && sh->expires > now) ? sh->expires : 0;

    ngx_shmtx_unlock(&o->shpool->mutex);

    ngx_http_compliance_status_count(r,
        error ? NGX_HTTP_COMPLIANCE_STATUS_OAUTH2_FETCH_ERROR
              : NGX_HTTP_COMPLIANCE_STATUS_OAUTH2_FETCH_OK);

    if (error == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "compliance: upstream oauth2 \"%V\": token fetched "
                      "through \"%V\", used for %T s, refreshed after %T s; "
                      "fetches: %ui good, %ui failed", &o->name, &o->uri,
                      usable, usable - ahead, good, failed);
        goto done;
    }

    if (until) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: upstream oauth2 \"%V\": the token "
                      "request through \"%V\" failed: %s; the current "
                      "token is used for %T s more; fetches: %ui good, "
                      "%ui failed", &o->name, &o->uri, error, until - now,
                      good, failed);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "compliance: upstream oauth2 \"%V\": the token "
                      "request through \"%V\" failed: %s; no token, "
                      "requests are refused with 502; fetches: %ui good, "
                      "%ui failed", &o->name, &o->uri, error, good, failed);
    }

    /* one record per outage, by the worker that saw it begin */
    if (first) {
        ngx_http_compliance_oauth2_alert(r, o, error);
    }

done:

    /* the answer held the token: the fetch frees its buffer unwiped */
    if (res->body.data && res->body.len) {
        ngx_explicit_memzero(res->body.data, res->body.len);
    }
}


static void
ngx_http_compliance_oauth2_alert(ngx_http_request_t *r,
    ngx_http_compliance_oauth2_t *o, const char *error)
{
    ngx_str_t  pairs[7];

    ngx_str_set(&pairs[0], "oauth2");
    pairs[1] = o->name;
    ngx_str_set(&pairs[2], "token_request");
    pairs[3] = o->uri;
    ngx_str_set(&pairs[4], "error");
    pairs[5].data = (u_char *) error;
    pairs[5].len = ngx_strlen(error);
    ngx_str_null(&pairs[6]);

    ngx_http_compliance_audit_alert_strings(r, "upstream_token_failed",
                                            pairs);
}


/* --- configuration */


static ngx_int_t
ngx_http_compliance_oauth2_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_compliance_oauth2_t  *oo = data;

    ngx_slab_pool_t                  *shpool;
    ngx_http_compliance_oauth2_t     *o;
    ngx_http_compliance_oauth2_sh_t  *sh;

    o = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (oo) {
        sh = oo->sh;

        if (sh->magic == NGX_HTTP_COMPLIANCE_OAUTH2_MAGIC
            && sh->layout == NGX_HTTP_COMPLIANCE_OAUTH2_LAYOUT)
        {
            o->sh = sh;
            o->shpool = oo->shpool;
            ngx_http_compliance_fetch_attach(o->fetch, o->shpool,
                                             &sh->fetch, 0);

            /*
             * A reload: the token goes on, unless it was granted to
             * other client credentials or for another scope (a rotated
             * client secret gets a new token at once).
             */
            if (oo->client_id.len != o->client_id.len
                || ngx_strncmp(oo->client_id.data, o->client_id.data,
                               o->client_id.len) != 0
                || oo->scope.len != o->scope.len
                || ngx_strncmp(oo->scope.data, o->scope.data, o->scope.len)
                   != 0
                || oo->audience.len != o->audience.len
                || ngx_strncmp(oo->audience.data, o->audience.data,
                               o->audience.len) != 0
                || oo->secret == NULL || o->secret == NULL
                || oo->secret->secret_len != o->secret->secret_len
                || ngx_memcmp(oo->secret->secret, o->secret->secret,
                              o->secret->secret_len) != 0)
            {
                ngx_shmtx_lock(&shpool->mutex);
                ngx_explicit_memzero(sh->token, sh->len);
                sh->len = 0;
                sh->fetched = 0;
                sh->expires = 0;
                sh->refresh = 0;
                ngx_shmtx_unlock(&shpool->mutex);
            }

            return NGX_OK;
        }

    } else {
        sh = ngx_slab_alloc(shpool, sizeof(ngx_http_compliance_oauth2_sh_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }

        shpool->data = sh;
    }

    ngx_memzero(sh, sizeof(ngx_http_compliance_oauth2_sh_t));
    sh->magic = NGX_HTTP_COMPLIANCE_OAUTH2_MAGIC;
    sh->layout = NGX_HTTP_COMPLIANCE_OAUTH2_LAYOUT;

    o->sh = sh;
    o->shpool = shpool;
    ngx_http_compliance_fetch_attach(o->fetch, shpool, &sh->fetch, 1);

    return NGX_OK;
}


/* printable ASCII, spaces only where allowed (scope is a list) */
static ngx_uint_t
ngx_http_compliance_oauth2_valid_param(ngx_str_t *s, ngx_uint_t spaces)
{
    u_char  c;
    size_t  i;

    if (s->len == 0 || s->len > 1024) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if ((c == ' ' && !spaces) || c < 0x20 || c >= 0x7f || c == '"'
            || c == '\\')
        {
            return 0;
        }
    }

    return 1;
}


char *
ngx_http_compliance_upstream_oauth2(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    u_char                                *p;
    time_t                                 margin, retry, *t;
    ngx_str_t                             *value, name, uri, id, secret;
    ngx_str_t                              scope, audience, header, s;
    ngx_uint_t                             i;
    ngx_msec_t                             timeout;
    const char                            *bad;
    ngx_shm_zone_t                        *zone;
    ngx_http_compliance_oauth2_t          *o;
    ngx_http_compliance_main_conf_t       *cmf;
    ngx_http_compliance_vault_loc_conf_t  *vlcf;

    vlcf = &clcf->vault;

    if (vlcf->name.data != NULL) {
        return vlcf->oauth2 ? "is duplicate"
                            : "cannot be used with "
                              "\"compliance_upstream_credential\" in one "
                              "location";
    }

    value = cf->args->elts;

    if (!compliance_vault_name_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid name \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&uri);
    ngx_str_null(&id);
    ngx_str_null(&secret);
    ngx_str_null(&scope);
    ngx_str_null(&audience);
    ngx_str_set(&header, "Authorization");
    margin = 60;
    retry = 5;
    timeout = 5000;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "token_request",
                                           &s))
        {
            uri = s;

            if (uri.len < 2 || uri.data[0] != '/') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"token_request=%V\" in "
                                   "\"%V\": it names a location, as "
                                   "\"/_token\"", &uri, &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "client_id", &s)) {
            id = s;

            if (id.len == 0
                || !ngx_http_compliance_oauth2_valid_param(&id, 0))
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "client_secret",
                                           &s))
        {
            secret = s;

            if (!compliance_vault_name_valid(secret.data, secret.len)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"client_secret=%V\" in "
                                   "\"%V\": it names an entry of the "
                                   "vault", &secret, &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "scope", &s)) {
            scope = s;

            if (!ngx_http_compliance_oauth2_valid_param(&scope, 1)) {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "audience",
                                           &s))
        {
            audience = s;

            if (!ngx_http_compliance_oauth2_valid_param(&audience, 0)) {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "header", &s)) {
            bad = ngx_http_compliance_vault_header_invalid(&s);
            if (bad != NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid header \"%V\" in \"%V\": %s",
                                   &s, &cmd->name, bad);
                return NGX_CONF_ERROR;
            }

            header = s;
            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "timeout", &s)) {
            timeout = ngx_parse_time(&s, 0);
            if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "margin", &s)) {
            t = &margin;

        } else if (ngx_http_compliance_conf_param(&value[i], "retry", &s)) {
            t = &retry;

        } else {
            goto invalid;
        }

        *t = ngx_parse_time(&s, 1);
        if (*t == (time_t) NGX_ERROR || (t == &retry && *t == 0)) {
            goto invalid;
        }
    }

    if (uri.data == NULL || id.data == NULL || secret.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"token_request=\", "
                           "\"client_id=\" and \"client_secret=\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* one source per name, in every location that names it */
    name.len = sizeof("compliance_upstream_oauth2 ") - 1 + value[1].len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(name.data, "compliance_upstream_oauth2 ",
                   sizeof("compliance_upstream_oauth2 ") - 1);
    ngx_memcpy(p, value[1].data, value[1].len);

    zone = ngx_shared_memory_add(cf, &name,
                                 sizeof(ngx_http_compliance_oauth2_sh_t)
                                 + NGX_HTTP_COMPLIANCE_OAUTH2_ROOM,
                                 &ngx_http_compliance_module);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    o = zone->data;

    if (o) {
        if (o->uri.len != uri.len
            || ngx_strncmp(o->uri.data, uri.data, uri.len) != 0
            || o->client_id.len != id.len
            || ngx_strncmp(o->client_id.data, id.data, id.len) != 0
            || o->secret_name.len != secret.len
            || ngx_strncmp(o->secret_name.data, secret.data, secret.len)
               != 0
            || o->scope.len != scope.len
            || ngx_strncmp(o->scope.data, scope.data, scope.len) != 0
            || o->audience.len != audience.len
            || ngx_strncmp(o->audience.data, audience.data, audience.len)
               != 0
            || o->margin != margin || o->retry != retry
            || o->timeout != timeout)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V %V\" is already given with other "
                               "parameters", &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

    } else {
        o = ngx_pcalloc(cf->pool, sizeof(ngx_http_compliance_oauth2_t));
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        o->name = value[1];
        o->uri = uri;
        o->client_id = id;
        o->secret_name = secret;
        o->scope = scope;
        o->audience = audience;
        o->margin = margin;
        o->retry = retry;
        o->timeout = timeout;
        o->zone = zone;

        /* the grant, form-encoded (RFC 6749 4.4.2) */
        o->body.data = ngx_pnalloc(cf->pool,
                                   sizeof("grant_type=client_credentials"
                                          "&scope=&audience=") - 1
                                   + 3 * (scope.len + audience.len));
        if (o->body.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(o->body.data, "grant_type=client_credentials",
                       sizeof("grant_type=client_credentials") - 1);

        if (scope.len) {
            p = ngx_cpymem(p, "&scope=", sizeof("&scope=") - 1);
            p = ngx_http_compliance_oauth2_form(p, scope.data, scope.len);
        }

        if (audience.len) {
            p = ngx_cpymem(p, "&audience=", sizeof("&audience=") - 1);
            p = ngx_http_compliance_oauth2_form(p, audience.data,
                                                audience.len);
        }

        o->body.len = p - o->body.data;

        o->fetch = ngx_http_compliance_fetch_create(cf, &o->uri, timeout,
                                       NGX_HTTP_COMPLIANCE_OAUTH2_MAX,
                                       ngx_http_compliance_oauth2_fetched, o);
        if (o->fetch == NULL) {
            return NGX_CONF_ERROR;
        }

        o->fetch->prepare = ngx_http_compliance_oauth2_prepare;

        zone->init = ngx_http_compliance_oauth2_init_zone;
        zone->data = o;
    }

    /* vault.c injects it: a credential of this location, as in SPEC 10 */
    vlcf->name = value[1];
    vlcf->header = header;
    ngx_str_set(&vlcf->prefix, "Bearer ");
    vlcf->oauth2 = o;
    ngx_http_compliance_conf_pos_set(cf, &vlcf->where);

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->vault.used = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"",
                       &value[i], &cmd->name);
    return NGX_CONF_ERROR;
}


const char *
ngx_http_compliance_oauth2_resolve(ngx_conf_t *cf,
    ngx_http_compliance_oauth2_t *o, compliance_vault_t *vault)
{
    const compliance_vault_entry_t  *e;

    e = compliance_vault_get(vault, o->secret_name.data, o->secret_name.len);

    if (e == NULL) {
        return "names a client_secret the vault does not hold";
    }

    if (e->secret_len == 0) {
        return "names an empty client_secret";
    }

    /* the same entry in every location of this source (one vault) */
    o->secret = e;

    return NULL;
}
