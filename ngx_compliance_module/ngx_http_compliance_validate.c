/*
 * Request validation at the boundary (SPEC 11): "compliance_validate_body"
 * and "compliance_validate_query".  Owns
 * ngx_http_compliance_validate_conf_t.  Schemas are compiled once, when
 * the directive is read (core/compliance_schema.c); a schema the
 * compiler refuses fails the configuration with its file and JSON
 * pointer.  The step is the last of the enforcement handler: the query
 * is checked first (it needs no body), then the body is read
 * (ngx_http_compliance_body.c), parsed (core/compliance_jtree.c) and
 * validated.  Refusals: 400 malformed_body / malformed_query, 413
 * body_too_large, 415 unsupported_media_type, 422 validation_failed with
 * the "errors" member; each is an "invalid_request" audit event.
 */

#include "ngx_http_compliance_module.h"
#include "compliance_io.h"
#include "compliance_qargs.h"


/* a schema file larger than this is refused (a schema, not a data set) */
#define NGX_HTTP_COMPLIANCE_SCHEMA_FILE_MAX  (1024 * 1024)

/*
 * A parsed body takes at most about 40 bytes of tree a byte of text
 * ("[0,0,..." is a 56-byte node every 2 bytes, plus the name index):
 * the arena's bound, so a request's memory stays proportional to
 * max_size whatever the body holds.
 */
#define NGX_HTTP_COMPLIANCE_TREE_RATIO       48
#define NGX_HTTP_COMPLIANCE_TREE_BASE        (16 * 1024)


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  method;
} ngx_http_compliance_method_t;


/* a schema file compiled for this configuration, by its full path */
typedef struct {
    ngx_str_t                   path;
    compliance_schema_t        *schema;
} ngx_http_compliance_schema_file_t;


static ngx_int_t ngx_http_compliance_validate_query_step(
    ngx_http_request_t *r, ngx_http_compliance_loc_conf_t *clcf);
static ngx_int_t ngx_http_compliance_validate_body_step(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_validate_refuse(ngx_http_request_t *r,
    compliance_schema_result_t *res, const char *prefix);
static void *ngx_http_compliance_validate_alloc(void *data, size_t size);
static compliance_schema_t *ngx_http_compliance_validate_load(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *path);
static void ngx_http_compliance_validate_cleanup(void *data);
static ngx_int_t ngx_http_compliance_validate_types(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *list, ngx_array_t **types);
static ngx_int_t ngx_http_compliance_validate_methods(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *list, ngx_uint_t *methods);


static ngx_http_compliance_method_t  ngx_http_compliance_validate_names[] = {
    { ngx_string("POST"), NGX_HTTP_POST },
    { ngx_string("PUT"), NGX_HTTP_PUT },
    { ngx_string("PATCH"), NGX_HTTP_PATCH },
    { ngx_string("DELETE"), NGX_HTTP_DELETE },
    { ngx_string("GET"), NGX_HTTP_GET },
    { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
    { ngx_null_string, 0 }
};

static ngx_str_t  ngx_http_compliance_validate_json =
    ngx_string("application/json");


/* the last step of the enforcement handler */
ngx_int_t
ngx_http_compliance_validate(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    ngx_int_t                             rc;
    ngx_http_compliance_validate_conf_t  *vc;

    vc = &clcf->validate;

    if (vc->query != NULL) {
        rc = ngx_http_compliance_validate_query_step(r, clcf);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* then compliance_graphql (ngx_http_compliance_graphql.c) */
    if (vc->body == NULL || !(r->method & vc->methods)) {
        return ngx_http_compliance_graphql(r);
    }

    if (!ngx_http_compliance_body_type_in(r, vc->types)) {
        return ngx_http_compliance_body_refuse(r,
                                           NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                           "unsupported_media_type", NULL, 0);
    }

    return ngx_http_compliance_body_read(r, vc->max_size,
                                ngx_http_compliance_validate_body_step);
}


static ngx_int_t
ngx_http_compliance_validate_query_step(ngx_http_request_t *r,
    ngx_http_compliance_loc_conf_t *clcf)
{
    int                          rc;
    compliance_arena_t           arena;
    compliance_jnode_t          *root;
    compliance_schema_result_t  *res;

    compliance_arena_init(&arena, NULL, 0, ngx_http_compliance_validate_alloc,
                          r->pool, 0);

    rc = compliance_qargs_object(r->args.data, r->args.len,
                                 clcf->validate.query, &arena, &root);

    if (rc == COMPLIANCE_QARGS_EMALFORMED) {
        return ngx_http_compliance_body_refuse(r, NGX_HTTP_BAD_REQUEST,
                                               "malformed_query", NULL, 0);
    }

    if (rc != COMPLIANCE_QARGS_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    res = ngx_palloc(r->pool, sizeof(compliance_schema_result_t));
    if (res == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = compliance_schema_validate(clcf->validate.query, root, &arena, 0,
                                    res);

    if (rc == COMPLIANCE_SCHEMA_VALID) {
        return NGX_DECLINED;
    }

    if (rc != COMPLIANCE_SCHEMA_INVALID) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_validate_refuse(r, res, "/query");
}


/* the body is in (ngx_http_compliance_body.c) */
static ngx_int_t
ngx_http_compliance_validate_body_step(ngx_http_request_t *r)
{
    int                              rc;
    size_t                           off, n;
    u_char                          *p;
    ngx_str_t                        body, detail;
    const char                      *what;
    compliance_arena_t               arena;
    compliance_jnode_t              *root;
    compliance_schema_result_t      *res;
    ngx_http_compliance_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);

    if (ngx_http_compliance_body_view(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    compliance_arena_init(&arena, NULL, 0, ngx_http_compliance_validate_alloc,
                          r->pool,
                          body.len * NGX_HTTP_COMPLIANCE_TREE_RATIO
                          + NGX_HTTP_COMPLIANCE_TREE_BASE);

    rc = compliance_jtree_parse(body.data, body.len,
                                COMPLIANCE_JTREE_MAX_DEPTH, &arena, &root,
                                &off);

    if (rc == COMPLIANCE_JTREE_ENOMEM) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: no memory to parse a request body of "
                      "%uz bytes", body.len);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != COMPLIANCE_JTREE_OK) {
        /* what and where, never the bytes themselves */
        detail.len = sizeof("\"detail\":\" at byte \"") - 1 + 2 * 64
                     + NGX_SIZE_T_LEN;
        detail.data = ngx_pnalloc(r->pool, detail.len);
        if (detail.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        what = compliance_jtree_strerror(rc);
        n = ngx_strlen(what);

        p = ngx_cpymem(detail.data, "\"detail\":\"",
                       sizeof("\"detail\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, (u_char *) what,
                                       ngx_min(n, 64));
        p = ngx_sprintf(p, " at byte %uz\"", off);
        detail.len = p - detail.data;

        return ngx_http_compliance_body_refuse(r, NGX_HTTP_BAD_REQUEST,
                                               "malformed_body", &detail, 0);
    }

    res = ngx_palloc(r->pool, sizeof(compliance_schema_result_t));
    if (res == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = compliance_schema_validate(clcf->validate.body, root, &arena, 0,
                                    res);

    if (rc == COMPLIANCE_SCHEMA_VALID) {
        return ngx_http_compliance_graphql(r);
    }

    if (rc != COMPLIANCE_SCHEMA_INVALID) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: no memory to validate a request body");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_validate_refuse(r, res, "");
}


/*
 * 422 validation_failed with "errors":[{"pointer","keyword","message"}]
 * (and "truncated":true when validation stopped at the table's end).
 * Pointers name members of the instance (D45); messages hold only text
 * and values from the schema: both are JSON-escaped here.
 */
static ngx_int_t
ngx_http_compliance_validate_refuse(ngx_http_request_t *r,
    compliance_schema_result_t *res, const char *prefix)
{
    size_t                      i, len, plen;
    u_char                     *p;
    ngx_str_t                   members;
    compliance_schema_error_t  *e;

    plen = ngx_strlen(prefix);
    len = sizeof("\"errors\":[],\"truncated\":true") - 1;

    for (i = 0; i < res->nerrors; i++) {
        e = &res->errors[i];

        len += sizeof("{\"pointer\":\"\",\"keyword\":\"\",\"message\":\"\"},")
               - 1 + plen
               + ngx_escape_json(NULL, (u_char *) e->pointer, e->pointer_len)
               + e->pointer_len
               + ngx_escape_json(NULL, (u_char *) e->keyword,
                                 ngx_strlen(e->keyword))
               + ngx_strlen(e->keyword)
               + ngx_escape_json(NULL, (u_char *) e->message,
                                 ngx_strlen(e->message))
               + ngx_strlen(e->message);
    }

    members.data = ngx_pnalloc(r->pool, len);
    if (members.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(members.data, "\"errors\":[", sizeof("\"errors\":[") - 1);

    for (i = 0; i < res->nerrors; i++) {
        e = &res->errors[i];

        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"pointer\":\"", sizeof("{\"pointer\":\"") - 1);
        p = ngx_cpymem(p, prefix, plen);
        p = (u_char *) ngx_escape_json(p, (u_char *) e->pointer,
                                       e->pointer_len);
        p = ngx_cpymem(p, "\",\"keyword\":\"",
                       sizeof("\",\"keyword\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, (u_char *) e->keyword,
                                       ngx_strlen(e->keyword));
        p = ngx_cpymem(p, "\",\"message\":\"",
                       sizeof("\",\"message\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, (u_char *) e->message,
                                       ngx_strlen(e->message));
        *p++ = '"';
        *p++ = '}';
    }

    *p++ = ']';

    if (res->more) {
        p = ngx_cpymem(p, ",\"truncated\":true",
                       sizeof(",\"truncated\":true") - 1);
    }

    members.len = p - members.data;

    return ngx_http_compliance_body_refuse(r, NGX_HTTP_COMPLIANCE_UNPROCESSABLE,
                                           "validation_failed", &members,
                                           res->nerrors);
}


static void *
ngx_http_compliance_validate_alloc(void *data, size_t size)
{
    return ngx_palloc((ngx_pool_t *) data, size);
}


/* --- configuration: ngx_http_compliance_validate_conf_t */


void
ngx_http_compliance_validate_create_conf(
    ngx_http_compliance_validate_conf_t *conf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     conf->types = NULL;
     *     conf->methods = 0;
     *     conf->body_pos = { { 0, NULL }, 0 };
     */

    conf->body = NGX_CONF_UNSET_PTR;
    conf->max_size = NGX_CONF_UNSET;
    conf->query = NGX_CONF_UNSET_PTR;
}


/* a nested location validates as its parent unless it says otherwise */
char *
ngx_http_compliance_validate_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_validate_conf_t *prev,
    ngx_http_compliance_validate_conf_t *conf)
{
    ngx_http_core_loc_conf_t  *core;

    if (conf->body == NGX_CONF_UNSET_PTR) {
        conf->body = prev->body;
        conf->max_size = prev->max_size;
        conf->types = prev->types;
        conf->methods = prev->methods;
        conf->body_pos = prev->body_pos;
    }

    if (conf->body == NGX_CONF_UNSET_PTR) {
        conf->body = NULL;
    }

    /* core's merge ran first: its limit is this location's */
    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->body != NULL
        && core->client_max_body_size != 0
        && conf->max_size > core->client_max_body_size
        && conf->body_pos.file.data != NULL)
    {
        ngx_http_compliance_conf_error(NGX_LOG_WARN, cf, &conf->body_pos,
                                       "\"compliance_validate_body\" "
                                       "max_size=%O is above "
                                       "\"client_max_body_size\" %O: "
                                       "nginx refuses larger bodies "
                                       "first, with its own 413",
                                       conf->max_size,
                                       core->client_max_body_size);
        /* once, where it was written */
        conf->body_pos.file.data = NULL;
    }

    ngx_conf_merge_ptr_value(conf->query, prev->query, NULL);

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_validate_body(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                            *value, v;
    ngx_uint_t                            i;
    compliance_schema_t                  *s;
    ngx_http_compliance_main_conf_t      *cmf;
    ngx_http_compliance_validate_conf_t  *vc;

    vc = &clcf->validate;

    if (vc->body != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    vc->max_size = 64 * 1024;
    vc->methods = NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH;
    vc->types = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_http_compliance_conf_param(&value[i], "max_size", &v)) {
            vc->max_size = ngx_parse_offset(&v);

            if (vc->max_size == NGX_ERROR || vc->max_size == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\" in \"%V\"",
                                   &v, &cmd->name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "types", &v)) {
            if (ngx_http_compliance_validate_types(cf, cmd, &v, &vc->types)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_compliance_conf_param(&value[i], "methods", &v)) {
            if (ngx_http_compliance_validate_methods(cf, cmd, &v,
                                                     &vc->methods)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\"",
                           &value[i], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (vc->types == NULL) {
        v = ngx_http_compliance_validate_json;

        if (ngx_http_compliance_validate_types(cf, cmd, &v, &vc->types)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    s = ngx_http_compliance_validate_load(cf, cmd, &value[1]);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    vc->body = s;
    ngx_http_compliance_conf_pos_set(cf, &vc->body_pos);

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->handler_needed = 1;
    cmf->filter_needed = 1;
    cmf->body_needed = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_compliance_validate_query(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_str_t                        *value;
    compliance_schema_t              *s;
    ngx_http_compliance_main_conf_t  *cmf;

    if (clcf->validate.query != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    s = ngx_http_compliance_validate_load(cf, cmd, &value[1]);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    clcf->validate.query = s;

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->handler_needed = 1;
    cmf->filter_needed = 1;

    return NGX_CONF_OK;
}


/*
 * Reads and compiles a schema file, freed with the configuration; a
 * file several locations name is compiled once
 */
static compliance_schema_t *
ngx_http_compliance_validate_load(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *path)
{
    int                                 rc;
    char                                err[1024];
    size_t                              i, n;
    ngx_str_t                           file;
    compliance_file_t                   f;
    ngx_pool_cleanup_t                 *cln;
    compliance_schema_t                *s;
    ngx_http_compliance_main_conf_t    *cmf;
    ngx_http_compliance_schema_file_t  *sf;

    file = *path;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NULL;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (cmf->schemas == NULL) {
        cmf->schemas = ngx_array_create(cf->pool, 4,
                                  sizeof(ngx_http_compliance_schema_file_t));
        if (cmf->schemas == NULL) {
            return NULL;
        }
    }

    sf = cmf->schemas->elts;

    for (i = 0; i < cmf->schemas->nelts; i++) {
        if (sf[i].path.len == file.len
            && ngx_strncmp(sf[i].path.data, file.data, file.len) == 0)
        {
            return sf[i].schema;
        }
    }

    rc = compliance_file_read((char *) file.data, "schema file",
                              NGX_HTTP_COMPLIANCE_SCHEMA_FILE_MAX, &f, err,
                              sizeof(err));
    if (rc != COMPLIANCE_FILE_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"", err,
                           &cmd->name);
        return NULL;
    }

    s = compliance_schema_compile((char *) f.data, f.len, (char *) file.data,
                                  err, sizeof(err));

    compliance_file_free(&f, 0);

    if (s == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid schema in \"%V\": %s", &cmd->name, err);
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        compliance_schema_free(s);
        return NULL;
    }

    cln->handler = ngx_http_compliance_validate_cleanup;
    cln->data = s;

    n = compliance_schema_nwarnings(s);

    for (i = 0; i < n; i++) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0, "schema in \"%V\": %s",
                           &cmd->name, compliance_schema_warning(s, i));
    }

    sf = ngx_array_push(cmf->schemas);
    if (sf == NULL) {
        return NULL;
    }

    sf->path = file;
    sf->schema = s;

    return s;
}


static void
ngx_http_compliance_validate_cleanup(void *data)
{
    compliance_schema_free(data);
}


/* "a/b,c/d": media types, lowercase, without parameters */
static ngx_int_t
ngx_http_compliance_validate_types(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *list, ngx_array_t **types)
{
    u_char     *p, *last, *s, *slash;
    ngx_str_t  *t;

    if (*types == NULL) {
        *types = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*types == NULL) {
            return NGX_ERROR;
        }
    }

    p = list->data;
    last = p + list->len;

    while (p <= last) {
        s = p;
        slash = NULL;

        while (p < last && *p != ',') {
            if (*p == '/' && slash == NULL) {
                slash = p;

            } else if (*p <= ' ' || *p == ';' || *p == '/' || *p >= 0x7f) {
                slash = NULL;
                break;
            }

            p++;
        }

        if (slash == NULL || slash == s || slash + 1 == p
            || (p < last && *p != ','))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid media type in \"types=%V\" of "
                               "\"%V\", it must be \"type/subtype[,...]\"",
                               list, &cmd->name);
            return NGX_ERROR;
        }

        t = ngx_array_push(*types);
        if (t == NULL) {
            return NGX_ERROR;
        }

        t->len = p - s;
        t->data = ngx_pnalloc(cf->pool, t->len);
        if (t->data == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(t->data, s, t->len);

        p++;
    }

    return NGX_OK;
}


/* "POST,PUT": request methods with a body */
static ngx_int_t
ngx_http_compliance_validate_methods(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *list, ngx_uint_t *methods)
{
    u_char                        *p, *last, *s;
    ngx_http_compliance_method_t  *m;

    *methods = 0;

    p = list->data;
    last = p + list->len;

    while (p <= last) {
        s = p;

        while (p < last && *p != ',') {
            p++;
        }

        for (m = ngx_http_compliance_validate_names; m->name.len; m++) {
            if ((size_t) (p - s) == m->name.len
                && ngx_strncmp(s, m->name.data, m->name.len) == 0)
            {
                break;
            }
        }

        if (m->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid method \"%*s\" in \"methods=%V\" of "
                               "\"%V\", it must be POST, PUT, PATCH, DELETE, "
                               "GET or OPTIONS", p - s, s, list, &cmd->name);
            return NGX_ERROR;
        }

        *methods |= m->method;

        p++;
    }

    return NGX_OK;
}
