/*
 * compliance_graphql (SPEC 11): every GraphQL document a request
 * carries is measured by core/compliance_graphql.c before the request
 * goes on: the "query" argument of the URL (any method: some servers
 * prefer it to the body), and for POST the body, application/json
 * ({"query", "operationName", "variables"}) or application/graphql.
 * Unparsable: 400 graphql_invalid; over a limit: 422
 * graphql_too_complex; __schema or __type with introspection off: 422
 * graphql_introspection; a POST of another type: 415
 * unsupported_media_type.  Each refusal has an "errors" entry naming
 * the problem (never a byte of the document) and the audit record
 * "invalid_request" (ngx_http_compliance_body_refuse()).  The body is
 * read by ngx_http_compliance_body.c and reaches the upstream unchanged.
 * Owns ngx_http_compliance_graphql_conf_t.
 */

#include "ngx_http_compliance_module.h"


/* URL-encoded names longer than this cannot decode to ours */
#define NGX_HTTP_COMPLIANCE_GRAPHQL_NAME_MAX  64


typedef struct {
    ngx_str_t                   query;
    ngx_str_t                   op;
    unsigned                    has_query:1;
    unsigned                    has_op:1;
} ngx_http_compliance_graphql_args_t;


static ngx_int_t ngx_http_compliance_graphql_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_compliance_graphql_json(ngx_http_request_t *r,
    ngx_http_compliance_graphql_conf_t *gc, ngx_str_t *body,
    ngx_http_compliance_graphql_args_t *args);
static ngx_int_t ngx_http_compliance_graphql_check(ngx_http_request_t *r,
    ngx_http_compliance_graphql_conf_t *gc, ngx_str_t *doc, ngx_str_t *op);
static ngx_int_t ngx_http_compliance_graphql_invalid(ngx_http_request_t *r,
    const char *message, size_t offset, ngx_uint_t has_offset);
static ngx_int_t ngx_http_compliance_graphql_args(ngx_http_request_t *r,
    ngx_http_compliance_graphql_args_t *args);
static size_t ngx_http_compliance_graphql_decode(u_char *dst,
    const u_char *src, size_t len);
static void *ngx_http_compliance_graphql_alloc(void *data, size_t size);


static ngx_str_t  ngx_http_compliance_graphql_json_type[] = {
    ngx_string("application/json")
};

static ngx_str_t  ngx_http_compliance_graphql_doc_type[] = {
    ngx_string("application/graphql")
};

static ngx_array_t  ngx_http_compliance_graphql_json_types = {
    ngx_http_compliance_graphql_json_type, 1, sizeof(ngx_str_t), 1, NULL
};

static ngx_array_t  ngx_http_compliance_graphql_doc_types = {
    ngx_http_compliance_graphql_doc_type, 1, sizeof(ngx_str_t), 1, NULL
};


ngx_int_t
ngx_http_compliance_graphql(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_http_compliance_loc_conf_t      *clcf;
    ngx_http_compliance_graphql_conf_t  *gc;
    ngx_http_compliance_graphql_args_t   args;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    gc = &clcf->graphql;

    if (gc->enable != 1 || r != r->main) {
        return NGX_DECLINED;
    }

    /* a CORS preflight carries no document */
    if (r->method == NGX_HTTP_OPTIONS) {
        return NGX_DECLINED;
    }

    rc = ngx_http_compliance_graphql_args(r, &args);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (args.has_query) {
        rc = ngx_http_compliance_graphql_check(r, gc, &args.query,
                                               args.has_op ? &args.op
                                                           : NULL);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (!args.has_query) {
            return ngx_http_compliance_graphql_invalid(r,
                                          "no query argument", 0, 0);
        }

        return NGX_DECLINED;
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_compliance_graphql_invalid(r,
                                   "GraphQL requests are GET or POST", 0, 0);
    }

    if (!ngx_http_compliance_body_type_in(r,
                                     &ngx_http_compliance_graphql_json_types)
        && !ngx_http_compliance_body_type_in(r,
                                     &ngx_http_compliance_graphql_doc_types))
    {
        return ngx_http_compliance_body_refuse(r,
                                     NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                     "unsupported_media_type", NULL, 0);
    }

    return ngx_http_compliance_body_read(r, gc->max_size,
                                         ngx_http_compliance_graphql_body);
}


/* the body is in: its document */
static ngx_int_t
ngx_http_compliance_graphql_body(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_str_t                            body;
    ngx_http_compliance_loc_conf_t      *clcf;
    ngx_http_compliance_graphql_conf_t  *gc;
    ngx_http_compliance_graphql_args_t   args;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_compliance_module);
    gc = &clcf->graphql;

    if (ngx_http_compliance_body_view(r, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* checked before the read: no duplicate, and its document passed */
    rc = ngx_http_compliance_graphql_args(r, &args);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_compliance_body_type_in(r,
                                     &ngx_http_compliance_graphql_json_types))
    {
        return ngx_http_compliance_graphql_json(r, gc, &body, &args);
    }

    if (body.len == 0) {
        return ngx_http_compliance_graphql_invalid(r, "empty body", 0, 0);
    }

    return ngx_http_compliance_graphql_check(r, gc, &body,
                                             args.has_op ? &args.op : NULL);
}


/* {"query": "...", "operationName": "..." | null, "variables": {} | null} */
static ngx_int_t
ngx_http_compliance_graphql_json(ngx_http_request_t *r,
    ngx_http_compliance_graphql_conf_t *gc, ngx_str_t *body,
    ngx_http_compliance_graphql_args_t *args)
{
    int                        rc;
    size_t                     off, limit;
    ngx_str_t                  doc, op, *opp;
    compliance_arena_t         a;
    compliance_jnode_t        *root;
    const compliance_jnode_t  *q, *o, *v;

    /* a tree node per two bytes at most: this never refuses valid JSON */
    limit = 32 * body->len + 65536;

    compliance_arena_init(&a, NULL, 0, ngx_http_compliance_graphql_alloc,
                          r->pool, limit);

    rc = compliance_jtree_parse(body->data, body->len,
                                COMPLIANCE_JTREE_MAX_DEPTH, &a, &root, &off);

    if (rc == COMPLIANCE_JTREE_ENOMEM) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: no memory to parse a GraphQL request "
                      "body of %uz bytes", body->len);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != COMPLIANCE_JTREE_OK) {
        return ngx_http_compliance_graphql_invalid(r, "the body is not JSON",
                                                   0, 0);
    }

    if (root->type == COMPLIANCE_JARRAY) {
        return ngx_http_compliance_graphql_invalid(r,
                                  "batched requests are not accepted", 0, 0);
    }

    if (root->type != COMPLIANCE_JOBJECT) {
        return ngx_http_compliance_graphql_invalid(r,
                                  "the body is not a JSON object", 0, 0);
    }

    q = compliance_jtree_get(root, (u_char *) "query", 5);

    if (q == NULL || q->type != COMPLIANCE_JSTRING) {
        return ngx_http_compliance_graphql_invalid(r,
                                  "no query string in the body", 0, 0);
    }

    o = compliance_jtree_get(root, (u_char *) "operationName", 13);
    opp = args->has_op ? &args->op : NULL;

    if (o != NULL && o->type == COMPLIANCE_JSTRING) {
        op.data = (u_char *) o->u.str.data;
        op.len = o->u.str.len;
        opp = &op;

    } else if (o != NULL && o->type != COMPLIANCE_JNULL) {
        return ngx_http_compliance_graphql_invalid(r,
                                  "operationName is not a string", 0, 0);
    }

    v = compliance_jtree_get(root, (u_char *) "variables", 9);

    if (v != NULL && v->type != COMPLIANCE_JOBJECT
        && v->type != COMPLIANCE_JNULL)
    {
        return ngx_http_compliance_graphql_invalid(r,
                                  "variables is not an object", 0, 0);
    }

    doc.data = (u_char *) q->u.str.data;
    doc.len = q->u.str.len;

    return ngx_http_compliance_graphql_check(r, gc, &doc, opp);
}


static ngx_int_t
ngx_http_compliance_graphql_check(ngx_http_request_t *r,
    ngx_http_compliance_graphql_conf_t *gc, ngx_str_t *doc, ngx_str_t *op)
{
    int                           rc;
    size_t                        limit, len;
    u_char                       *p;
    uint64_t                      max;
    ngx_str_t                     members;
    const char                   *reason;
    compliance_arena_t            a;
    compliance_graphql_result_t   res;

    /* records are fewer than tokens, and each is at most 64 bytes a token */
    limit = (size_t) ngx_min((uint64_t) doc->len, gc->limits.max_tokens);
    limit = 64 * limit + 65536;

    compliance_arena_init(&a, NULL, 0, ngx_http_compliance_graphql_alloc,
                          r->pool, limit);

    rc = compliance_graphql_check(doc->data, doc->len,
                                  op ? op->data : NULL, op ? op->len : 0,
                                  &gc->limits, &a, &res);

    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "compliance graphql: rc %d, depth %uL, aliases %uL, "
                   "tokens %uL, %uD operations, %uD fragments", rc,
                   res.depth, res.aliases, res.tokens, res.operations,
                   res.fragments);

    switch (rc) {

    case COMPLIANCE_GQL_OK:
        return NGX_DECLINED;

    case COMPLIANCE_GQL_EINVALID:
        return ngx_http_compliance_graphql_invalid(r, res.message,
                                                   res.offset, 1);

    case COMPLIANCE_GQL_EDEPTH:
        max = gc->limits.max_depth;
        break;

    case COMPLIANCE_GQL_EALIASES:
        max = gc->limits.max_aliases;
        break;

    case COMPLIANCE_GQL_ETOKENS:
        max = gc->limits.max_tokens;
        break;

    case COMPLIANCE_GQL_ENEST:
        max = COMPLIANCE_GQL_MAX_NEST;
        break;

    case COMPLIANCE_GQL_EINTROSPECTION:
        max = 0;
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "compliance: no memory to check a GraphQL document "
                      "of %uz bytes", doc->len);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the limit and message are fixed texts: no escaping needed */
    len = sizeof("\"errors\":[{\"limit\":\"\",\"max\":,\"message\":\"\"}]")
          + ngx_strlen(res.limit) + NGX_INT64_LEN + ngx_strlen(res.message);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    members.data = p;

    if (rc == COMPLIANCE_GQL_EINTROSPECTION) {
        reason = "graphql_introspection";
        p = ngx_sprintf(p, "\"errors\":[{\"limit\":\"%s\",\"message\":\"%s\"}]",
                        res.limit, res.message);

    } else {
        reason = "graphql_too_complex";
        p = ngx_sprintf(p, "\"errors\":[{\"limit\":\"%s\",\"max\":%uL,"
                        "\"message\":\"%s\"}]", res.limit, max, res.message);
    }

    members.len = p - members.data;

    return ngx_http_compliance_body_refuse(r, NGX_HTTP_COMPLIANCE_UNPROCESSABLE,
                                           reason, &members, 1);
}


/* 400 graphql_invalid; has_offset: the byte of the document it is about */
static ngx_int_t
ngx_http_compliance_graphql_invalid(ngx_http_request_t *r,
    const char *message, size_t offset, ngx_uint_t has_offset)
{
    size_t      len;
    u_char     *p;
    ngx_str_t   members;

    len = sizeof("\"errors\":[{\"message\":\"\",\"offset\":}]")
          + ngx_strlen(message) + NGX_SIZE_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    members.data = p;

    if (has_offset) {
        p = ngx_sprintf(p, "\"errors\":[{\"message\":\"%s\",\"offset\":%uz}]",
                        message, offset);
    } else {
        p = ngx_sprintf(p, "\"errors\":[{\"message\":\"%s\"}]", message);
    }

    members.len = p - members.data;

    /* as for malformed bodies, a 400 counts no validation error */
    return ngx_http_compliance_body_refuse(r, NGX_HTTP_BAD_REQUEST,
                                           "graphql_invalid", &members, 0);
}


/*
 * The "query" and "operationName" arguments, names and values decoded
 * as application/x-www-form-urlencoded ("+" is a space, "%41" is "A",
 * as servers decode them); a second one of either is refused, since
 * servers differ on which one they take.  NGX_DECLINED: go on.
 */
static ngx_int_t
ngx_http_compliance_graphql_args(ngx_http_request_t *r,
    ngx_http_compliance_graphql_args_t *args)
{
    size_t      nlen;
    u_char     *p, *end, *name, *eq, *amp, *v, *semi, *e;
    ngx_str_t  *dst;
    u_char      buf[NGX_HTTP_COMPLIANCE_GRAPHQL_NAME_MAX * 3];

    ngx_memzero(args, sizeof(*args));

    p = r->args.data;
    end = p + r->args.len;

    while (p < end) {
        name = p;

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        p = (amp < end) ? amp + 1 : end;

        /*
         * Some servers split arguments at ';' as well: a "query" or an
         * "operationName" that starts after one is a document this check
         * would not see, refused as given twice
         */
        for (semi = ngx_strlchr(name, amp, ';'); semi != NULL;
             semi = ngx_strlchr(semi + 1, amp, ';'))
        {
            for (e = semi + 1; e < amp && *e != '=' && *e != ';'; e++) {
                /* void */
            }

            if ((size_t) (e - semi - 1) > sizeof(buf)) {
                continue;
            }

            nlen = ngx_http_compliance_graphql_decode(buf, semi + 1,
                                                      e - semi - 1);

            if ((nlen == 5 && ngx_memcmp(buf, "query", 5) == 0)
                || (nlen == 13 && ngx_memcmp(buf, "operationName", 13) == 0))
            {
                goto twice;
            }
        }

        eq = ngx_strlchr(name, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        if ((size_t) (eq - name) > sizeof(buf)) {
            continue;
        }

        nlen = ngx_http_compliance_graphql_decode(buf, name, eq - name);

        if (nlen == 5 && ngx_memcmp(buf, "query", 5) == 0) {
            if (args->has_query) {
                goto twice;
            }

            args->has_query = 1;
            dst = &args->query;

        } else if (nlen == 13 && ngx_memcmp(buf, "operationName", 13) == 0) {
            if (args->has_op) {
                goto twice;
            }

            args->has_op = 1;
            dst = &args->op;

        } else {
            continue;
        }

        if (eq == amp) {
            dst->data = (u_char *) "";
            dst->len = 0;
            continue;
        }

        v = ngx_pnalloc(r->pool, amp - eq);
        if (v == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        dst->data = v;
        dst->len = ngx_http_compliance_graphql_decode(v, eq + 1,
                                                      amp - eq - 1);
    }

    return NGX_DECLINED;

twice:

    return ngx_http_compliance_graphql_invalid(r,
                             "a GraphQL argument given twice", 0, 0);
}


/* form decoding; a "%" not followed by two hex digits stays as it is */
static size_t
ngx_http_compliance_graphql_decode(u_char *dst, const u_char *src,
    size_t len)
{
    int            h, l;
    u_char         c, *d;
    const u_char  *end;

    d = dst;
    end = src + len;

    while (src < end) {
        c = *src++;

        if (c == '+') {
            *d++ = ' ';
            continue;
        }

        if (c == '%' && end - src >= 2) {
            /* the raw bytes are tested (0x10-0x19 fold to digits) */
            h = compliance_token_hex(src[0]);
            l = compliance_token_hex(src[1]);

            if (h >= 0 && l >= 0) {
                *d++ = (u_char) (h << 4 | l);
                src += 2;
                continue;
            }
        }

        *d++ = c;
    }

    return d - dst;
}


static void *
ngx_http_compliance_graphql_alloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


/* --- configuration: ngx_http_compliance_graphql_conf_t */


void
ngx_http_compliance_graphql_create_conf(
    ngx_http_compliance_graphql_conf_t *conf)
{
    conf->enable = NGX_CONF_UNSET;
}


/* a nested location inherits the whole directive */
char *
ngx_http_compliance_graphql_merge_conf(ngx_conf_t *cf,
    ngx_http_compliance_graphql_conf_t *prev,
    ngx_http_compliance_graphql_conf_t *conf)
{
    if (conf->enable == NGX_CONF_UNSET) {
        *conf = *prev;
    }

    return NGX_CONF_OK;
}


/*
 * compliance_graphql [max_depth=N] [max_aliases=N] [max_tokens=N]
 *     [introspection=on|off] [max_size=size];
 */
char *
ngx_http_compliance_graphql_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    off_t                                size;
    uint64_t                            *field;
    ngx_int_t                            n, lo, hi;
    ngx_str_t                           *value, v;
    ngx_uint_t                           i, seen, bit;
    ngx_http_compliance_graphql_conf_t  *gc;
    ngx_http_compliance_main_conf_t     *cmf;

    gc = &clcf->graphql;

    if (gc->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    gc->enable = 1;
    gc->limits.max_depth = NGX_HTTP_COMPLIANCE_GRAPHQL_DEPTH;
    gc->limits.max_aliases = NGX_HTTP_COMPLIANCE_GRAPHQL_ALIASES;
    gc->limits.max_tokens = NGX_HTTP_COMPLIANCE_GRAPHQL_TOKENS;
    gc->limits.introspection = 0;
    gc->max_size = NGX_HTTP_COMPLIANCE_GRAPHQL_SIZE;

    value = cf->args->elts;
    seen = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        field = NULL;
        lo = 0;
        hi = 0;

        if (ngx_http_compliance_conf_param(&value[i], "max_depth", &v)) {
            bit = 0x01;
            field = &gc->limits.max_depth;
            lo = 1;
            hi = COMPLIANCE_GQL_MAX_NEST;

        } else if (ngx_http_compliance_conf_param(&value[i], "max_aliases",
                                                  &v))
        {
            bit = 0x02;
            field = &gc->limits.max_aliases;
            lo = 0;
            hi = 1000000;

        } else if (ngx_http_compliance_conf_param(&value[i], "max_tokens",
                                                  &v))
        {
            bit = 0x04;
            field = &gc->limits.max_tokens;
            lo = 1;
            hi = 1000000;

        } else if (ngx_http_compliance_conf_param(&value[i], "introspection",
                                                  &v))
        {
            bit = 0x08;

            if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {
                gc->limits.introspection = 1;

            } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
                gc->limits.introspection = 0;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\" in \"%V\", "
                                   "introspection must be \"on\" or \"off\"",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

        } else if (ngx_http_compliance_conf_param(&value[i], "max_size", &v))
        {
            bit = 0x10;
            size = ngx_parse_offset(&v);

            /*
             * a body is held whole in memory, a JSON one with its tree
             * (up to 32 bytes a byte): 16 MiB at most
             */
            if (size <= 0 || size > 16 * 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\" in \"%V\", "
                                   "max_size must be a size from 1 to 16m",
                                   &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }

            gc->max_size = size;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (seen & bit) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate parameter \"%V\" in \"%V\"",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        seen |= bit;

        if (field == NULL) {
            continue;
        }

        n = ngx_atoi(v.data, v.len);

        if (n == NGX_ERROR || n < lo || n > hi) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\", it must be "
                               "a number from %i to %i", &value[i],
                               &cmd->name, lo, hi);
            return NGX_CONF_ERROR;
        }

        *field = (uint64_t) n;
    }

    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);
    cmf->handler_needed = 1;
    cmf->body_needed = 1;

    return NGX_CONF_OK;
}
