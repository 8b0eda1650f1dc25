/*
 * JWT authentication: directives, keys parsed once at config time, and a
 * per-worker cache of verified tokens so a repeated token does not pay
 * for its signature, nor for reading its claims, again.
 */

#include <openssl/rand.h>

#include "ngx_http_compliance_module.h"
#include "ngx_http_compliance_jwks.h"


/*
 * Direct-mapped, per worker.  An entry is only ever written after a good
 * signature, so a failure can never be cached or mask a later good token;
 * claims (exp, nbf, iss, aud, lifetime) are checked on every request,
 * from the index the entry keeps (no JSON is read on a hit).
 */
#define NGX_HTTP_COMPLIANCE_JWT_CACHE  4096

/*
 * A hit compares the whole token (constant time) with the copy the entry
 * keeps, so the slot index only needs to spread honest tokens: it is a
 * keyed mix of the token's last 16 bytes (signature bytes), with a seed
 * drawn per worker so nobody can aim many tokens at one slot.  Longer
 * tokens than this are verified every time rather than copied.
 */
#define NGX_HTTP_COMPLIANCE_JWT_CACHE_TOKEN  2048

/*
 * Entry memory is kept and reused by the next token of the slot; sizes
 * are rounded up so that tokens of about the same size fit in turn.
 */
#define NGX_HTTP_COMPLIANCE_JWT_TOKEN_ROUND  256
#define NGX_HTTP_COMPLIANCE_JWT_BLOCK_ROUND  512


/*
 * The claims of a verified token (its payload text and index), counted:
 * held by the cache slot and by every request that authenticated with
 * it, so a slot reused while a request still reads its identity leaves
 * that request's copy alive.  The claims of a token that is not cached
 * live in the request pool (refs 0: never counted, never freed).
 */
struct ngx_http_compliance_jwt_block_s {
    ngx_uint_t                  refs;
    size_t                      size;       /* room after the struct */
    const compliance_jwt_key_t *key;        /* the key that verified */
    int                         alg;
    compliance_jwt_claims_t     claims;     /* points into that room */
};


typedef struct {
    u_char                           *tok;      /* ngx_alloc()ed copy */
    size_t                            size;     /* of tok's buffer */
    size_t                            len;      /* of the token */
    ngx_uint_t                        keys_id;
    const compliance_jwt_key_t       *key;
    int                               alg;
    ngx_http_compliance_jwt_block_t  *block;    /* NULL: slot empty */
} ngx_http_compliance_jwt_cache_t;


static void ngx_http_compliance_jwt_keys_cleanup(void *data);
static ngx_http_compliance_jwt_cache_t *ngx_http_compliance_jwt_cache_slot(
    const u_char *tok, size_t len);
static ngx_http_compliance_jwt_block_t *ngx_http_compliance_jwt_miss(
    ngx_http_request_t *r, ngx_http_compliance_loc_conf_t *clcf,
    compliance_jwt_keyset_t *ks, ngx_uint_t keys_id,
    ngx_http_compliance_jwt_cache_t **e, u_char *tok, size_t len,
    int *rc) __attribute__((noinline));
static ngx_http_compliance_jwt_block_t *ngx_http_compliance_jwt_store(
    ngx_http_request_t *r, ngx_http_compliance_jwt_cache_t *e,
    const u_char *tok, size_t len, ngx_uint_t keys_id,
    const compliance_jwt_t *jwt);
static void ngx_http_compliance_jwt_unref(ngx_http_compliance_jwt_block_t *b);
static void ngx_http_compliance_jwt_hold(ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_jwt_block_t *b);
static ngx_int_t ngx_http_compliance_jwt_identity(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_jwt_block_t *b);
static ngx_int_t ngx_http_compliance_jwt_claim(ngx_http_request_t *r,
    const compliance_jwt_claims_t *c, ngx_str_t *name, ngx_str_t *value);
static char *ngx_http_compliance_jwt_str_list(ngx_conf_t *cf,
    ngx_array_t **list);
static char *ngx_http_compliance_jwt_leeway_check(ngx_conf_t *cf, void *post,
    void *data);
static ngx_uint_t ngx_http_compliance_jwt_printable(const u_char *p,
    size_t len);


/* clock skew beyond this is a broken clock, and makes "exp" meaningless */
#define NGX_HTTP_COMPLIANCE_MAX_LEEWAY  300

ngx_conf_post_t  ngx_http_compliance_jwt_leeway_post =
    { ngx_http_compliance_jwt_leeway_check };


static ngx_http_compliance_jwt_cache_t  *ngx_http_compliance_jwt_cache;
static uint64_t                          ngx_http_compliance_jwt_seed[2];

/*
 * Key sets are told apart by an id that is never reused in a process,
 * not by address: with "master_process off" the cache outlives a reload
 * and a new key set may be allocated where a freed one was.
 */
static ngx_uint_t                        ngx_http_compliance_jwt_keys_ids;


ngx_int_t
ngx_http_compliance_jwt_init_process(ngx_cycle_t *cycle)
{
    size_t  size;

    if (RAND_bytes((u_char *) ngx_http_compliance_jwt_seed,
                   sizeof(ngx_http_compliance_jwt_seed))
        != 1)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "compliance: RAND_bytes() failed");
        return NGX_ERROR;
    }

    size = NGX_HTTP_COMPLIANCE_JWT_CACHE
           * sizeof(ngx_http_compliance_jwt_cache_t);

    ngx_http_compliance_jwt_cache = ngx_calloc(size, cycle->log);
    if (ngx_http_compliance_jwt_cache == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_compliance_jwt_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                        i;
    ngx_http_compliance_jwt_cache_t  *e;

    if (ngx_http_compliance_jwt_cache) {
        for (i = 0; i < NGX_HTTP_COMPLIANCE_JWT_CACHE; i++) {
            e = &ngx_http_compliance_jwt_cache[i];

            /* a block a request still holds stays for that request */
            if (e->block) {
                ngx_http_compliance_jwt_unref(e->block);
            }

            if (e->tok) {
                ngx_free(e->tok);
            }
        }

        ngx_free(ngx_http_compliance_jwt_cache);
        ngx_http_compliance_jwt_cache = NULL;
    }
}


static ngx_http_compliance_jwt_cache_t *
ngx_http_compliance_jwt_cache_slot(const u_char *tok, size_t len)
{
    uint64_t  h;

    h = compliance_token_slot(tok, len, ngx_http_compliance_jwt_seed);

    return &ngx_http_compliance_jwt_cache[h % NGX_HTTP_COMPLIANCE_JWT_CACHE];
}


static void
ngx_http_compliance_jwt_unref(ngx_http_compliance_jwt_block_t *b)
{
    /* 0: in a request pool */
    if (b->refs && --b->refs == 0) {
        ngx_free(b);
    }
}


static void
ngx_http_compliance_jwt_hold(ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_jwt_block_t *b)
{
    if (b->refs) {
        b->refs++;
    }

    if (ctx->jwt_claims) {
        ngx_http_compliance_jwt_unref(ctx->jwt_claims);
    }

    ctx->jwt_claims = b;
}


void
ngx_http_compliance_jwt_ctx_cleanup(ngx_http_compliance_ctx_t *ctx)
{
    if (ctx->jwt_claims) {
        ngx_http_compliance_jwt_unref(ctx->jwt_claims);
        ctx->jwt_claims = NULL;
    }
}


/*
 * The claims of the token the request authenticated with, valid while
 * the request lives (it holds them); NULL without one.
 */
const compliance_jwt_claims_t *
ngx_http_compliance_jwt_ctx_claims(ngx_http_compliance_ctx_t *ctx)
{
    return ctx->jwt_claims ? &ctx->jwt_claims->claims : NULL;
}


/*
 * The claims of a token that just verified, kept in its slot e (memory
 * of the slot's previous token reused when nobody else holds it), or in
 * the request pool when e is NULL or memory is short.  NULL: no memory.
 */
static ngx_http_compliance_jwt_block_t *
ngx_http_compliance_jwt_store(ngx_http_request_t *r,
    ngx_http_compliance_jwt_cache_t *e, const u_char *tok, size_t len,
    ngx_uint_t keys_id, const compliance_jwt_t *jwt)
{
    u_char                           *t;
    size_t                            need, size;
    ngx_http_compliance_jwt_block_t  *b;

    need = compliance_jwt_claims_size(&jwt->claims);

    if (e == NULL) {
        goto pool;
    }

    b = NULL;
    t = NULL;

    if (e->block == NULL || e->block->refs > 1 || e->block->size < need) {
        size = ngx_align(need, NGX_HTTP_COMPLIANCE_JWT_BLOCK_ROUND);

        b = ngx_alloc(sizeof(ngx_http_compliance_jwt_block_t) + size,
                      r->connection->log);
        if (b == NULL) {
            goto pool;
        }

        b->refs = 1;
        b->size = size;
    }

    if (e->size < len) {
        size = ngx_align(len, NGX_HTTP_COMPLIANCE_JWT_TOKEN_ROUND);

        t = ngx_alloc(size, r->connection->log);
        if (t == NULL) {
            if (b) {
                ngx_free(b);
            }

            /* the slot keeps its previous token */
            goto pool;
        }
    }

    if (b) {
        if (e->block) {
            ngx_http_compliance_jwt_unref(e->block);
        }

        e->block = b;
    }

    if (t) {
        if (e->tok) {
            ngx_free(e->tok);
        }

        e->tok = t;
        e->size = size;
    }

    ngx_memcpy(e->tok, tok, len);
    e->len = len;
    e->keys_id = keys_id;
    e->key = jwt->key;
    e->alg = jwt->alg;

    b = e->block;
    b->key = jwt->key;
    b->alg = jwt->alg;
    compliance_jwt_claims_copy(&b->claims, &jwt->claims, b + 1);

    return b;

pool:

    b = ngx_palloc(r->pool, sizeof(ngx_http_compliance_jwt_block_t) + need);
    if (b == NULL) {
        return NULL;
    }

    b->refs = 0;
    b->size = need;
    b->key = jwt->key;
    b->alg = jwt->alg;

    compliance_jwt_claims_copy(&b->claims, &jwt->claims, b + 1);

    return b;
}


/*
 * A token no slot holds: verified, and its claims stored (*e is set to
 * NULL when they could not go into that slot).  NULL with *rc on a
 * refusal, or with NOMEM when memory is short.  Out of line, so that a
 * hit does not carry the verifier's buffers on its stack frame.
 */
static ngx_http_compliance_jwt_block_t *
ngx_http_compliance_jwt_miss(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, compliance_jwt_keyset_t *ks,
    ngx_uint_t keys_id, ngx_http_compliance_jwt_cache_t **e, u_char *tok,
    size_t len, int *rc)
{
    compliance_jwt_t                  jwt;
    ngx_http_compliance_jwt_block_t  *b;

    *rc = compliance_jwt_verify(ks, clcf->jwt.algs, tok, len, &jwt);
    if (*rc != COMPLIANCE_JWT_OK) {
        return NULL;
    }

    b = ngx_http_compliance_jwt_store(r, *e, tok, len, keys_id, &jwt);
    if (b == NULL) {
        *rc = COMPLIANCE_JWT_NOMEM;
        return NULL;
    }

    if (*e && (*e)->block != b) {
        *e = NULL;
    }

    return b;
}


/*
 * Returns NULL when the token is good (ctx then holds the identity), or
 * the SPEC reason of the refusal.  *internal is set on a server fault.
 */
const char *
ngx_http_compliance_jwt_authenticate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    u_char *tok, size_t len, ngx_uint_t *internal)
{
    int                               rc;
    ngx_uint_t                        keys_id;
    const char                       *reason;
    compliance_jwt_keyset_t          *ks;
    ngx_http_compliance_jwt_block_t  *b;
    ngx_http_compliance_jwt_cache_t  *e;

    *internal = 0;

    if (len > COMPLIANCE_JWT_MAX_TOKEN) {
        return "malformed_token";
    }

    e = NULL;
    b = NULL;
    ks = clcf->jwt.keys;
    keys_id = clcf->jwt.keys_id;

    /* keys from the identity provider: this worker's current copy */
    if (clcf->jwt.remote) {
        reason = ngx_http_compliance_jwks_keys(r, clcf->jwt.remote, &ks,
                                               &keys_id, internal);
        if (reason != NULL) {
            return reason;
        }
    }

    if (ngx_http_compliance_jwt_cache && len > 0
        && len <= NGX_HTTP_COMPLIANCE_JWT_CACHE_TOKEN)
    {
        e = ngx_http_compliance_jwt_cache_slot(tok, len);

        if (e->block
            && e->len == len
            && e->keys_id == keys_id
            && (clcf->jwt.algs & COMPLIANCE_JWT_ALG_BIT(e->alg))
            && compliance_token_equal(e->tok, tok, len))
        {
            b = e->block;
        }
    }

    ngx_http_compliance_status_count(r,
                             b ? NGX_HTTP_COMPLIANCE_STATUS_JWT_CACHE_HIT
                               : NGX_HTTP_COMPLIANCE_STATUS_JWT_CACHE_MISS);

    if (b == NULL) {
        b = ngx_http_compliance_jwt_miss(r, clcf, ks, keys_id, &e, tok, len,
                                         &rc);

        if (b == NULL) {
            if (rc == COMPLIANCE_JWT_NOMEM) {
                *internal = 1;
                return "internal_error";
            }

            /* the provider may have rotated: wait for a refresh, once */
            if (rc == COMPLIANCE_JWT_UNKNOWN_KEY && clcf->jwt.remote) {
                reason = ngx_http_compliance_jwks_unknown(r, clcf->jwt.remote,
                                                          internal);
                if (reason != NULL) {
                    return reason;
                }
            }

            return compliance_jwt_reason(rc);
        }
    }

    ngx_http_compliance_jwt_hold(ctx, b);

    rc = compliance_jwt_claims_check(&b->claims, &clcf->jwt.policy,
                                     (long long) ngx_time());

    if (rc != COMPLIANCE_JWT_OK) {

        /* an expired token will never be good again: free its slot */
        if (rc == COMPLIANCE_JWT_EXPIRED && e) {
            ngx_http_compliance_jwt_unref(e->block);
            e->block = NULL;
            e->len = 0;
        }

        return compliance_jwt_reason(rc);
    }

    if (ngx_http_compliance_jwt_identity(r, clcf, ctx, b) != NGX_OK) {
        if (ctx->principal.len == 0) {
            return "malformed_token";
        }

        *internal = 1;
        return "internal_error";
    }

    /* revocation lists (ngx_http_compliance_revoke.c) */
    reason = ngx_http_compliance_revoke_check(r, clcf, ctx);
    if (reason != NULL) {
        return reason;
    }

    ctx->auth_method = NGX_HTTP_COMPLIANCE_AUTH_JWT;
    ctx->jwt_keys_id = clcf->jwt.keys_id;
    ctx->jwt_key = b->key;
    ctx->jwt_alg = b->alg;

    return NULL;
}


/*
 * A later pass after an internal redirect or "rewrite ... last": the
 * token stands only if this location would have accepted it (its key
 * set, its algorithm allow-list, its issuer, audience and lifetime
 * policy), and the identity is read again with this location's claim
 * mapping.  The signature was checked against the same key set.
 */
const char *
ngx_http_compliance_jwt_recheck(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_uint_t *internal)
{
    int  rc;

    *internal = 0;

    if (ctx->jwt_keys_id != clcf->jwt.keys_id) {
        return "unknown_key";
    }

    if (!(clcf->jwt.algs & COMPLIANCE_JWT_ALG_BIT(ctx->jwt_alg))) {
        return "alg_not_allowed";
    }

    if (ctx->jwt_claims == NULL) {
        return "malformed_token";
    }

    rc = compliance_jwt_claims_check(&ctx->jwt_claims->claims,
                                     &clcf->jwt.policy,
                                     (long long) ngx_time());
    if (rc != COMPLIANCE_JWT_OK) {
        return compliance_jwt_reason(rc);
    }

    ngx_str_null(&ctx->principal);
    ngx_str_null(&ctx->org);
    ngx_str_null(&ctx->scopes);
    ngx_str_null(&ctx->key_id);

    if (ngx_http_compliance_jwt_identity(r, clcf, ctx, ctx->jwt_claims)
        != NGX_OK)
    {
        if (ctx->principal.len == 0) {
            return "malformed_token";
        }

        *internal = 1;
        return "internal_error";
    }

    return NULL;
}


/*
 * A top-level scalar claim: strings point into the claims, which the
 * request holds; a number is formatted into the request pool.  Returns
 * NGX_DECLINED when the claim is absent or not a scalar.
 */
static ngx_int_t
ngx_http_compliance_jwt_claim(ngx_http_request_t *r,
    const compliance_jwt_claims_t *c, ngx_str_t *name, ngx_str_t *value)
{
    u_char         num[COMPLIANCE_JWT_NUM_BUF];
    size_t         len;
    const u_char  *p;

    if (compliance_jwt_claims_str(c, name->data, name->len, num, sizeof(num),
                                  &p, &len)
        != 0)
    {
        return NGX_DECLINED;
    }

    value->len = len;

    if (p != num) {
        value->data = (u_char *) p;
        return NGX_OK;
    }

    value->data = ngx_pnalloc(r->pool, len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, num, len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_compliance_jwt_identity(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx,
    ngx_http_compliance_jwt_block_t *b)
{
    u_char                   *buf;
    size_t                    len, n;
    ngx_int_t                 rc;
    ngx_str_t                 v;
    const u_char             *kid, *p;
    compliance_jwt_claims_t  *c;

    c = &b->claims;

    /* a token that names no principal cannot be audited: refused */
    rc = ngx_http_compliance_jwt_claim(r, c, &clcf->jwt.claim_principal, &v);

    if (rc != NGX_OK || v.len == 0
        || !ngx_http_compliance_jwt_printable(v.data, v.len))
    {
        ctx->principal.len = 0;
        return NGX_ERROR;
    }

    ctx->principal = v;

    rc = ngx_http_compliance_jwt_claim(r, c, &clcf->jwt.claim_org, &v);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        if (!ngx_http_compliance_jwt_printable(v.data, v.len)) {
            ctx->principal.len = 0;
            return NGX_ERROR;
        }

        ctx->org = v;
    }

    /* usually the claim is the list already: the request points at it */
    p = compliance_jwt_claims_scopes_text(c, clcf->jwt.claim_scopes.data,
                                          clcf->jwt.claim_scopes.len, &n);
    if (p) {
        ctx->scopes.data = (u_char *) p;
        ctx->scopes.len = n;
        n = 0;

    } else {
        n = compliance_jwt_claims_scopes(c, clcf->jwt.claim_scopes.data,
                                         clcf->jwt.claim_scopes.len, NULL, 0);
    }

    if (n) {
        buf = ngx_pnalloc(r->pool, n);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        ctx->scopes.len = compliance_jwt_claims_scopes(c,
                                             clcf->jwt.claim_scopes.data,
                                             clcf->jwt.claim_scopes.len,
                                             buf, n);
        ctx->scopes.data = buf;
    }

    if (b->key) {
        kid = compliance_jwt_key_kid(b->key, &len);
        if (kid) {
            ctx->key_id.data = (u_char *) kid;
            ctx->key_id.len = len;
        }
    }

    return NGX_OK;
}


/*
 * Identity values end up in headers (proxy_set_header, add_header) and
 * logs: no control character may pass (UTF-8 above 0x7f may).
 */
static ngx_uint_t
ngx_http_compliance_jwt_printable(const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * $compliance_jwt_claim_<name>: top-level string and number claims, read
 * from the index the request holds (the formats are jansson's, as the
 * core's differential test against jansson checks).
 */
ngx_int_t
ngx_http_compliance_jwt_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                  *var = (ngx_str_t *) data;

    ngx_int_t                   rc;
    ngx_str_t                   name, value;
    ngx_http_compliance_ctx_t  *ctx;

    ctx = ngx_http_compliance_get_ctx(r);

    if (ctx == NULL || ctx->jwt_claims == NULL
        || ctx->auth_method != NGX_HTTP_COMPLIANCE_AUTH_JWT)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    name.data = var->data + sizeof("compliance_jwt_claim_") - 1;
    name.len = var->len - (sizeof("compliance_jwt_claim_") - 1);

    rc = ngx_http_compliance_jwt_claim(r, &ctx->jwt_claims->claims, &name,
                                       &value);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* a value with CR/LF would split headers it is copied into */
    if (rc == NGX_DECLINED
        || !ngx_http_compliance_jwt_printable(value.data, value.len))
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = value.data;
    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* --- directives */


static void
ngx_http_compliance_jwt_keys_cleanup(void *data)
{
    compliance_jwt_keyset_t  *ks = data;

    compliance_jwt_keyset_free(ks);
}


char *
ngx_http_compliance_jwt_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    char                 err[512];
    ngx_str_t           *value, file;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (clcf->jwt.keys == NGX_CONF_UNSET_PTR) {
        clcf->jwt.keys = compliance_jwt_keyset_create();
        if (clcf->jwt.keys == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            compliance_jwt_keyset_free(clcf->jwt.keys);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_compliance_jwt_keys_cleanup;
        cln->data = clcf->jwt.keys;

        clcf->jwt.keys_id = ++ngx_http_compliance_jwt_keys_ids;
        ngx_http_compliance_conf_pos_set(cf, &clcf->jwt.keys_pos);
    }

    if (compliance_jwt_keyset_load(clcf->jwt.keys, (char *) file.data,
                                   err, sizeof(err))
        != COMPLIANCE_JWT_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid key file \"%V\" in \"%V\": %s",
                           &value[1], &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    /* a JWKS may hold HMAC secrets: others must not read it */
    if (ngx_file_info(file.data, &fi) != NGX_FILE_ERROR) {
        ngx_http_compliance_warn_file_mode(cf, &cmd->name, &value[1],
                                           ngx_file_access(&fi), 0007);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_jwt_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    int          alg;
    ngx_str_t   *value;
    ngx_uint_t   i, mask;

    if (clcf->jwt.algs_conf != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 4
            && ngx_strncasecmp(value[i].data, (u_char *) "none", 4) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid algorithm \"%V\" in \"%V\": "
                               "unsigned tokens are never accepted",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        alg = compliance_jwt_alg_parse(value[i].data, value[i].len);

        if (alg < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid algorithm \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        mask |= COMPLIANCE_JWT_ALG_BIT(alg);
    }

    clcf->jwt.algs_conf = mask;
    ngx_http_compliance_conf_pos_set(cf, &clcf->jwt.algs_pos);

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_jwt_str_list(ngx_conf_t *cf, ngx_array_t **list)
{
    ngx_str_t             *value;
    ngx_uint_t             i;
    compliance_jwt_str_t  *s;

    if (*list != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *list = ngx_array_create(cf->pool, cf->args->nelts - 1,
                             sizeof(compliance_jwt_str_t));
    if (*list == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            return "has an empty value";
        }

        s = ngx_array_push(*list);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        s->data = value[i].data;
        s->len = value[i].len;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_jwt_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    return ngx_http_compliance_jwt_str_list(cf, &clcf->jwt.issuers);
}


char *
ngx_http_compliance_jwt_audience(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    return ngx_http_compliance_jwt_str_list(cf, &clcf->jwt.audiences);
}


char *
ngx_http_compliance_jwt_max_lifetime(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t  *value;

    if (clcf->jwt.max_lifetime != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        clcf->jwt.max_lifetime = 0;
        return NGX_CONF_OK;
    }

    clcf->jwt.max_lifetime = ngx_parse_time(&value[1], 1);

    if (clcf->jwt.max_lifetime == (time_t) NGX_ERROR
        || clcf->jwt.max_lifetime == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_jwt_claims(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t   *value, name, claim, *dst;
    ngx_uint_t   i;

    if (clcf->jwt.claim_principal.data != NULL
        || clcf->jwt.claim_org.data != NULL
        || clcf->jwt.claim_scopes.data != NULL)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_split(&value[i], &name, &claim)
            != NGX_OK
            || claim.len == 0)
        {
            goto invalid;
        }

        if (name.len == 9 && ngx_strncmp(name.data, "principal", 9) == 0) {
            dst = &clcf->jwt.claim_principal;

        } else if (name.len == 3 && ngx_strncmp(name.data, "org", 3) == 0) {
            dst = &clcf->jwt.claim_org;

        } else if (name.len == 6 && ngx_strncmp(name.data, "scopes", 6) == 0)
        {
            dst = &clcf->jwt.claim_scopes;

        } else {
            goto invalid;
        }

        if (dst->data != NULL) {
            goto invalid;
        }

        /* value[] strings are NUL-terminated: the core takes C strings */
        *dst = claim;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\"",
                       &value[i], &cmd->name);
    return NGX_CONF_ERROR;
}


void
ngx_http_compliance_jwt_create_conf(ngx_http_compliance_jwt_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->claim_principal = { 0, NULL };
     *     conf->claim_org = { 0, NULL };
     *     conf->claim_scopes = { 0, NULL };
     *     conf->policy = { 0 };
     *     conf->keys_pos = { { 0, NULL }, 0 };
     *     conf->algs_pos = { { 0, NULL }, 0 };
     */

    conf->keys = NGX_CONF_UNSET_PTR;
    conf->algs_conf = NGX_CONF_UNSET_UINT;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_lifetime = NGX_CONF_UNSET;
}


char *
ngx_http_compliance_jwt_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_jwt_conf_t *prev, ngx_http_compliance_jwt_conf_t *conf)
{
    ngx_uint_t                       avail, own_keys;
    ngx_http_compliance_conf_pos_t  *pos;

    own_keys = (conf->keys != NGX_CONF_UNSET_PTR);

    if (!own_keys) {
        conf->keys = (prev->keys == NGX_CONF_UNSET_PTR) ? NULL : prev->keys;
        conf->keys_id = prev->keys_id;
    }

    ngx_http_compliance_conf_pos_merge(conf->keys_pos, prev->keys_pos);
    ngx_http_compliance_conf_pos_merge(conf->algs_pos, prev->algs_pos);

    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_sec_value(conf->max_lifetime, prev->max_lifetime, 0);
    ngx_conf_merge_str_value(conf->claim_principal,
                             prev->claim_principal, "sub");
    ngx_conf_merge_str_value(conf->claim_org, prev->claim_org,
                             "org_id");
    ngx_conf_merge_str_value(conf->claim_scopes, prev->claim_scopes,
                             "scope");

    ngx_conf_merge_uint_value(conf->algs_conf, prev->algs_conf,
                              NGX_CONF_UNSET_UINT);

    /* without an allow-list: what the keys of this level can verify */
    avail = conf->keys ? compliance_jwt_keyset_algs(conf->keys) : 0;

    conf->algs = (conf->algs_conf != NGX_CONF_UNSET_UINT) ? conf->algs_conf
                                                          : avail;

    if (conf->keys && (conf->algs & avail) == 0) {
        /* of the two, the one written at the inner level */
        pos = (own_keys || conf->algs_conf == NGX_CONF_UNSET_UINT)
              ? &conf->keys_pos : &conf->algs_pos;

        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, pos,
                                       "no key loaded by "
                                       "\"compliance_jwt_keys\" can verify "
                                       "any algorithm allowed by "
                                       "\"compliance_jwt_algorithms\"");
        return NGX_CONF_ERROR;
    }

    conf->policy.issuers = conf->issuers ? conf->issuers->elts : NULL;
    conf->policy.nissuers = conf->issuers ? conf->issuers->nelts : 0;
    conf->policy.audiences = conf->audiences ? conf->audiences->elts : NULL;
    conf->policy.naudiences = conf->audiences ? conf->audiences->nelts : 0;
    conf->policy.leeway = conf->leeway;
    conf->policy.max_lifetime = conf->max_lifetime;

    return NGX_CONF_OK;
}


static char *
ngx_http_compliance_jwt_leeway_check(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *leeway = data;

    if (*leeway > NGX_HTTP_COMPLIANCE_MAX_LEEWAY) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_jwt_leeway\" of %T seconds is "
                           "over %d: fix the clocks (NTP) rather than "
                           "accept expired tokens", *leeway,
                           NGX_HTTP_COMPLIANCE_MAX_LEEWAY);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
