/*
 * compliance_jwt_revocation (SPEC 14): a list of revoked token ids
 * (jti), subjects (sub) and signing keys (kid), read when the
 * configuration is (at start and on every reload, never at run time:
 * decision D77) into core/compliance_revoke.c's hash set.  A token that
 * verified is refused with 401 token_revoked when one of its claims is
 * listed; the check is part of the token's verification (jwt.c calls it
 * last, access.c again after an internal redirect into a location with
 * another list).
 */

#include "ngx_http_compliance_module.h"


/*
 * The lists read while this configuration is: a file named by several
 * servers or locations is read and held once.  Static, as nginx reads a
 * configuration in one process at a time; a new cycle starts afresh, and
 * the cycle's pool forgets the array when it goes (a reload that failed
 * included, so that a later cycle at the same address finds nothing).
 */
typedef struct {
    ngx_str_t                    path;
    compliance_revoke_t         *list;
} ngx_http_compliance_revoke_file_t;


static void ngx_http_compliance_revoke_cleanup(void *data);
static void ngx_http_compliance_revoke_files_cleanup(void *data);
static ngx_uint_t ngx_http_compliance_revoke_claim(
    const compliance_revoke_t *rv, const compliance_jwt_claims_t *c,
    int type);


static ngx_array_t  *ngx_http_compliance_revoke_files;
static ngx_cycle_t  *ngx_http_compliance_revoke_cycle;


/*
 * NULL when the token the request authenticated with is not revoked
 * here, else "token_revoked" (and ctx->revoked_by says which entry).
 * Called once the token verified and its identity is read.
 */
const char *
ngx_http_compliance_revoke_check(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf, ngx_http_compliance_ctx_t *ctx)
{
    int                             type;
    compliance_revoke_t            *rv;
    const compliance_jwt_claims_t  *c;

    rv = clcf->revoke.list;

    if (rv == NULL) {
        return NULL;
    }

    c = ngx_http_compliance_jwt_ctx_claims(ctx);

    if (c == NULL) {
        return NULL;
    }

    if (ngx_http_compliance_revoke_claim(rv, c, COMPLIANCE_REVOKE_JTI)) {
        type = COMPLIANCE_REVOKE_JTI;

    } else if (ngx_http_compliance_revoke_claim(rv, c,
                                                COMPLIANCE_REVOKE_SUB))
    {
        type = COMPLIANCE_REVOKE_SUB;

    /* the kid of the key that verified the token */
    } else if (ctx->key_id.len
               && compliance_revoke_match(rv, COMPLIANCE_REVOKE_KID,
                                          ctx->key_id.data, ctx->key_id.len))
    {
        type = COMPLIANCE_REVOKE_KID;

    } else {
        return NULL;
    }

    ctx->revoked_by.data = (u_char *) compliance_revoke_type_name(type);
    ctx->revoked_by.len = 3;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "compliance: token revoked by its %V", &ctx->revoked_by);

    return "token_revoked";
}


/* the claim named as the type ("jti", "sub"), a string or a number */
static ngx_uint_t
ngx_http_compliance_revoke_claim(const compliance_revoke_t *rv,
    const compliance_jwt_claims_t *c, int type)
{
    u_char         num[COMPLIANCE_JWT_NUM_BUF];
    size_t         len;
    const u_char  *p;

    if (compliance_revoke_count(rv, type) == 0) {
        return 0;
    }

    if (compliance_jwt_claims_str(c,
                                  (const u_char *)
                                  compliance_revoke_type_name(type),
                                  3, num, sizeof(num), &p, &len)
        != 0)
    {
        return 0;
    }

    return compliance_revoke_match(rv, type, p, len);
}


/* --- configuration */


static void
ngx_http_compliance_revoke_cleanup(void *data)
{
    compliance_revoke_t  *rv = data;

    compliance_revoke_free(rv);
}


static void
ngx_http_compliance_revoke_files_cleanup(void *data)
{
    if (ngx_http_compliance_revoke_files == data) {
        ngx_http_compliance_revoke_files = NULL;
        ngx_http_compliance_revoke_cycle = NULL;
    }
}


char *
ngx_http_compliance_jwt_revocation(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    char                                err[1024];
    ngx_str_t                          *value, file;
    ngx_uint_t                          i;
    ngx_pool_cleanup_t                 *cln;
    compliance_revoke_t                *rv;
    ngx_http_compliance_revoke_file_t  *f;

    if (clcf->revoke.list != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ngx_http_compliance_conf_pos_set(cf, &clcf->revoke.pos);

    value = cf->args->elts;
    file = value[1];

    if (file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid file \"\" in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_compliance_revoke_cycle != cf->cycle
        || ngx_http_compliance_revoke_files == NULL)
    {
        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_http_compliance_revoke_files = ngx_array_create(cf->pool, 4,
                              sizeof(ngx_http_compliance_revoke_file_t));
        if (ngx_http_compliance_revoke_files == NULL) {
            ngx_http_compliance_revoke_cycle = NULL;
            return NGX_CONF_ERROR;
        }

        ngx_http_compliance_revoke_cycle = cf->cycle;
        cln->handler = ngx_http_compliance_revoke_files_cleanup;
        cln->data = ngx_http_compliance_revoke_files;
    }

    f = ngx_http_compliance_revoke_files->elts;

    for (i = 0; i < ngx_http_compliance_revoke_files->nelts; i++) {
        if (f[i].path.len == file.len
            && ngx_strncmp(f[i].path.data, file.data, file.len) == 0)
        {
            clcf->revoke.list = f[i].list;
            return NGX_CONF_OK;
        }
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    rv = compliance_revoke_load((char *) file.data, NULL, err, sizeof(err));

    if (rv == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid revocation list \"%V\" in \"%V\": %s",
                           &value[1], &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_compliance_revoke_cleanup;
    cln->data = rv;

    f = ngx_array_push(ngx_http_compliance_revoke_files);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    f->path = file;
    f->list = rv;

    clcf->revoke.list = rv;

    return NGX_CONF_OK;
}


void
ngx_http_compliance_revoke_create_conf(
    ngx_http_compliance_revoke_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->pos = { { 0, NULL }, 0 };
     */

    conf->list = NGX_CONF_UNSET_PTR;
}


/*
 * access is merged already: a list written where it can never act is an
 * error, as scopes are (access.c)
 */
char *
ngx_http_compliance_revoke_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_revoke_conf_t *prev,
    ngx_http_compliance_revoke_conf_t *conf,
    ngx_http_compliance_access_conf_t *access)
{
    if (conf->list != NGX_CONF_UNSET_PTR
        && ngx_http_compliance_inert_here(cf, access, &conf->pos,
                                          "compliance_jwt_revocation")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->list, prev->list, NULL);
    ngx_http_compliance_conf_pos_merge(conf->pos, prev->pos);

    return NGX_CONF_OK;
}


/*
 * A directive of this concern written in this location (pos: where)
 * that could never act: the location is public, or "compliance" is off
 * there.  At http and server level it is for the locations below.
 * Returns NGX_OK, or NGX_ERROR with the error logged.
 */
ngx_int_t
ngx_http_compliance_inert_here(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_conf_pos_t *pos, const char *name)
{
    ngx_http_core_loc_conf_t  *core;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (core->name.len == 0) {
        return NGX_OK;
    }

    if (access->public_reason.data) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, pos,
                                       "\"%s\" in location \"%V\", "
                                       "public (\"compliance_public "
                                       "\"%V\"\"), would never be "
                                       "checked", name, &core->name,
                                       &access->public_reason);
        return NGX_ERROR;
    }

    if (!access->enable) {
        ngx_http_compliance_conf_error(NGX_LOG_EMERG, cf, pos,
                                       "\"%s\" in location \"%V\", where "
                                       "\"compliance\" is off, would never "
                                       "be enforced", name, &core->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}
