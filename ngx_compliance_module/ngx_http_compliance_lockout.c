/*
 * compliance_lockout_admin: a content handler that lists the running
 * authentication-failure lockouts of every zone (GET, HEAD) and clears
 * one address, or all of them (POST, DELETE), writing an audit record of
 * each clear.  The lockouts live in shared memory that only nginx's own
 * processes map, so a request to any worker sees and changes them for
 * every worker; nothing outside nginx could (docs/decisions.md, D35).
 */

#include "ngx_http_compliance_module.h"

#include "compliance_cidr.h"


/* lockouts listed in one response at most; "total" still counts all */
#define NGX_HTTP_COMPLIANCE_LOCKOUT_LIST_MAX  1000

/* the longest address text: "ffff:...:ffff::/64" */
#define NGX_HTTP_COMPLIANCE_LOCKOUT_ADDR_LEN  (NGX_INET6_ADDRSTRLEN + 3)


/* the query arguments */
typedef struct {
    ngx_str_t                   address;   /* unescaped, or data NULL */
    ngx_str_t                   zone;
    ngx_str_t                   all;
    ngx_sockaddr_t              sockaddr;  /* of "address" */
    ngx_shm_zone_t             *shm_zone;  /* of "zone", or NULL: all */
} ngx_http_compliance_lockout_args_t;


/*
 * ngx_http_access_module's location conf, private to that module (the
 * same in every nginx since IPv6 and unix-socket rules came in): only
 * to know whether allow/deny rules apply to an admin location.
 */
typedef struct {
    ngx_array_t                *rules;
#if (NGX_HAVE_INET6)
    ngx_array_t                *rules6;
#endif
#if (NGX_HAVE_UNIX_DOMAIN)
    ngx_array_t                *rules_un;
#endif
} ngx_http_compliance_nginx_access_conf_t;


extern ngx_module_t  ngx_http_access_module;


static ngx_int_t ngx_http_compliance_lockout_handler(ngx_http_request_t *r);
static const char *ngx_http_compliance_lockout_args(ngx_http_request_t *r,
    ngx_http_compliance_lockout_args_t *args);
static ngx_int_t ngx_http_compliance_lockout_arg(ngx_http_request_t *r,
    ngx_str_t *dst, u_char *value, size_t len);
static const char *ngx_http_compliance_lockout_address(ngx_str_t *text,
    ngx_sockaddr_t *sa);
static ngx_uint_t ngx_http_compliance_lockout_collect(ngx_http_request_t *r,
    ngx_http_compliance_lockout_args_t *args, ngx_uint_t clear,
    ngx_array_t *out);
static size_t ngx_http_compliance_lockout_addr_text(
    ngx_http_compliance_lockout_t *lo, u_char *buf);
static ngx_int_t ngx_http_compliance_lockout_audit(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_lockout_args_t *args,
    ngx_array_t *cleared, ngx_uint_t n);
static ngx_int_t ngx_http_compliance_lockout_list(ngx_http_request_t *r,
    ngx_array_t *lockouts, ngx_uint_t n, const char *label);
static ngx_int_t ngx_http_compliance_lockout_error(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason);
static ngx_int_t ngx_http_compliance_lockout_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_buf_t *b);


static ngx_str_t  ngx_http_compliance_lockout_json =
    ngx_string("application/json");
static ngx_str_t  ngx_http_compliance_lockout_problem =
    ngx_string("application/problem+json");
static ngx_str_t  ngx_http_compliance_lockout_allow_name =
    ngx_string("Allow");
static ngx_str_t  ngx_http_compliance_lockout_allow =
    ngx_string("GET, HEAD, POST, DELETE");
static ngx_str_t  ngx_http_compliance_lockout_cache_name =
    ngx_string("Cache-Control");
static ngx_str_t  ngx_http_compliance_lockout_no_store =
    ngx_string("no-store");


char *
ngx_http_compliance_lockout_admin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_compliance_loc_conf_t  *clcf = conf;

    ngx_http_core_loc_conf_t  *core;

    if (clcf->limit.admin) {
        return "is duplicate";
    }

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    core->handler = ngx_http_compliance_lockout_handler;

    clcf->limit.admin = 1;

    return NGX_CONF_OK;
}


/*
 * Who may clear a lockout is decided by the module, like any request:
 * the location must be under "compliance on", so the request either
 * authenticated (the principal is recorded) or the location is public
 * by an explicit compliance_public and then restricted by allow/deny.
 * Every clear is an audit record, so a trail must be configured.
 */
char *
ngx_http_compliance_lockout_admin_merge(ngx_conf_t *cf,
    ngx_http_compliance_access_conf_t *access,
    ngx_http_compliance_audit_conf_t *audit)
{
    ngx_http_core_loc_conf_t                 *core;
    ngx_http_compliance_main_conf_t          *cmf;
    ngx_http_compliance_nginx_access_conf_t  *acf;

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    cmf = ngx_http_conf_get_module_main_conf(cf, ngx_http_compliance_module);

    if (!access->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_lockout_admin\" in location \"%V\" "
                           "needs \"compliance on\": who may clear "
                           "lockouts is checked by the module", &core->name);
        return NGX_CONF_ERROR;
    }

    if (cmf->limit.failure_zones == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_lockout_admin\" in location \"%V\" "
                           "has no lockouts to manage: no "
                           "\"compliance_auth_failure_limit\" is configured",
                           &core->name);
        return NGX_CONF_ERROR;
    }

    if (audit->log == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_lockout_admin\" in location \"%V\" "
                           "needs \"compliance_audit_log\": every clear is "
                           "an audit record", &core->name);
        return NGX_CONF_ERROR;
    }

    if (access->public_reason.data == NULL) {
        return NGX_CONF_OK;
    }

    acf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_access_module);

    if (acf->rules == NULL
#if (NGX_HAVE_INET6)
        && acf->rules6 == NULL
#endif
#if (NGX_HAVE_UNIX_DOMAIN)
        && acf->rules_un == NULL
#endif
       )
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"compliance_lockout_admin\" in public location "
                           "\"%V\" needs \"allow\" and \"deny\" rules (such "
                           "as \"allow 127.0.0.1; deny all;\"), or "
                           "credentials instead of \"compliance_public\": "
                           "anyone could clear lockouts", &core->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_compliance_lockout_handler(ngx_http_request_t *r)
{
    ngx_int_t                           rc;
    ngx_uint_t                          n, clear;
    ngx_array_t                        *out;
    const char                         *reason;
    ngx_http_compliance_ctx_t          *ctx;
    ngx_http_compliance_lockout_args_t  args;

    ctx = ngx_http_compliance_access_admitted(r);
    if (ctx == NULL) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (!(r->method
          & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST|NGX_HTTP_DELETE)))
    {
        if (ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_lockout_allow_name,
                                       &ngx_http_compliance_lockout_allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_compliance_lockout_error(r, ctx,
                                                 NGX_HTTP_NOT_ALLOWED,
                                                 "method_not_allowed");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    reason = ngx_http_compliance_lockout_args(r, &args);

    clear = !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD));

    if (reason == NULL && clear
        && (args.address.data == NULL) == (args.all.data == NULL))
    {
        /* one address, or all of them said explicitly: never a default */
        reason = "address_required";
    }

    if (reason == NULL && !clear && args.all.data != NULL) {
        reason = "invalid_parameter";
    }

    if (reason != NULL) {
        return ngx_http_compliance_lockout_error(r, ctx,
                                                 NGX_HTTP_BAD_REQUEST,
                                                 reason);
    }

    out = ngx_array_create(r->pool, NGX_HTTP_COMPLIANCE_LOCKOUT_LIST_MAX,
                           sizeof(ngx_http_compliance_lockout_t));
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = ngx_http_compliance_lockout_collect(r, &args, clear, out);

    if (!clear) {
        return ngx_http_compliance_lockout_list(r, out, n, "total");
    }

    if (n == 0) {
        return ngx_http_compliance_lockout_error(r, ctx, NGX_HTTP_NOT_FOUND,
                                                 "not_locked_out");
    }

    if (ngx_http_compliance_lockout_audit(r, ctx, &args, out, n) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_lockout_list(r, out, n, "cleared");
}


/*
 * address=<addr> (an IPv6 address stands for its /64, as it is kept;
 * "unix:" for unix-socket peers), zone=<name>, all=yes.  Returns NULL,
 * or the reason of a 400.
 */
static const char *
ngx_http_compliance_lockout_args(ngx_http_request_t *r,
    ngx_http_compliance_lockout_args_t *args)
{
    u_char                           *p, *last, *name, *eq, *value;
    ngx_str_t                        *dst;
    ngx_uint_t                        i;
    const char                       *reason;
    ngx_shm_zone_t                  **zones;
    ngx_http_compliance_main_conf_t  *cmf;

    ngx_memzero(args, sizeof(ngx_http_compliance_lockout_args_t));

    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {
        name = p;

        while (p < last && *p != '&') {
            p++;
        }

        eq = ngx_strlchr(name, p, '=');
        value = eq ? eq + 1 : p;
        eq = eq ? eq : p;

        if (eq - name == 7 && ngx_strncmp(name, "address", 7) == 0) {
            dst = &args->address;

        } else if (eq - name == 4 && ngx_strncmp(name, "zone", 4) == 0) {
            dst = &args->zone;

        } else if (eq - name == 3 && ngx_strncmp(name, "all", 3) == 0) {
            dst = &args->all;

        } else if (eq == name && p == name) {
            /* "&&" or a trailing "&" */
            p++;
            continue;

        } else {
            return "invalid_parameter";
        }

        if (dst->data != NULL) {
            return "invalid_parameter";
        }

        if (ngx_http_compliance_lockout_arg(r, dst, value, p - value)
            != NGX_OK)
        {
            return "invalid_parameter";
        }

        if (p < last) {
            p++;
        }
    }

    if (args->all.data
        && (args->all.len != 3 || ngx_strncmp(args->all.data, "yes", 3) != 0))
    {
        return "invalid_parameter";
    }

    if (args->address.data) {
        reason = ngx_http_compliance_lockout_address(&args->address,
                                                     &args->sockaddr);
        if (reason != NULL) {
            return reason;
        }
    }

    if (args->zone.data == NULL) {
        return NULL;
    }

    cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);
    zones = cmf->limit.failure_zones->elts;

    for (i = 0; i < cmf->limit.failure_zones->nelts; i++) {
        if (zones[i]->shm.name.len == args->zone.len
            && ngx_strncmp(zones[i]->shm.name.data, args->zone.data,
                           args->zone.len)
               == 0)
        {
            args->shm_zone = zones[i];
            return NULL;
        }
    }

    return "unknown_zone";
}


/* a percent-decoded, NUL-terminated copy of one argument's value */
static ngx_int_t
ngx_http_compliance_lockout_arg(ngx_http_request_t *r, ngx_str_t *dst,
    u_char *value, size_t len)
{
    u_char  *d, *s;

    dst->data = ngx_pnalloc(r->pool, len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    d = dst->data;
    s = value;

    ngx_unescape_uri(&d, &s, len, 0);

    dst->len = d - dst->data;
    *d = '\0';

    /* a NUL would cut the text short of what the client meant */
    if (ngx_strlchr(dst->data, d, '\0') != NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * One address as lockouts are kept: an IPv4 address, an IPv6 address or
 * its "/64" (what the list shows), or "unix:".  Returns NULL or a reason.
 */
static const char *
ngx_http_compliance_lockout_address(ngx_str_t *text, ngx_sockaddr_t *sa)
{
    compliance_cidr_t  c;

    ngx_memzero(sa, sizeof(ngx_sockaddr_t));

#if (NGX_HAVE_UNIX_DOMAIN)
    if (text->len == 5 && ngx_strncmp(text->data, "unix:", 5) == 0) {
        sa->sockaddr.sa_family = AF_UNIX;
        return NULL;
    }
#endif

    if (compliance_cidr_parse(text->data, text->len, &c) != 0) {
        return "invalid_address";
    }

    if (c.family == AF_INET && c.prefix == 32) {
        sa->sockaddr_in.sin_family = AF_INET;
        ngx_memcpy(&sa->sockaddr_in.sin_addr, c.addr, 4);
        return NULL;
    }

#if (NGX_HAVE_INET6)
    if (c.family == AF_INET6 && (c.prefix == 128 || c.prefix == 64)) {
        sa->sockaddr_in6.sin6_family = AF_INET6;
        ngx_memcpy(&sa->sockaddr_in6.sin6_addr, c.addr, 16);
        return NULL;
    }
#endif

    /* a lockout is of one address: a network would clear many at once */
    return "invalid_address";
}


/* over every zone a failure limit uses, or the one named */
static ngx_uint_t
ngx_http_compliance_lockout_collect(ngx_http_request_t *r,
    ngx_http_compliance_lockout_args_t *args, ngx_uint_t clear,
    ngx_array_t *out)
{
    ngx_uint_t                        i, n;
    struct sockaddr                  *sa;
    ngx_shm_zone_t                  **zones;
    ngx_http_compliance_main_conf_t  *cmf;

    sa = args->address.data ? &args->sockaddr.sockaddr : NULL;

    if (args->shm_zone) {
        return ngx_http_compliance_lockout_walk(args->shm_zone, sa, clear,
                                                out);
    }

    cmf = ngx_http_get_module_main_conf(r, ngx_http_compliance_module);
    zones = cmf->limit.failure_zones->elts;
    n = 0;

    for (i = 0; i < cmf->limit.failure_zones->nelts; i++) {
        n += ngx_http_compliance_lockout_walk(zones[i], sa, clear, out);
    }

    return n;
}


/* "198.51.100.1", "2001:db8:1:2::/64" or "unix:"; buf has ADDR_LEN */
static size_t
ngx_http_compliance_lockout_addr_text(ngx_http_compliance_lockout_t *lo,
    u_char *buf)
{
#if (NGX_HAVE_INET6)
    size_t  n;
    u_char  a6[16];
#endif

    if (lo->len == 4) {
        return ngx_inet_ntop(AF_INET, lo->addr, buf, NGX_INET_ADDRSTRLEN);
    }

#if (NGX_HAVE_INET6)
    if (lo->len == 8) {
        ngx_memzero(a6, sizeof(a6));
        ngx_memcpy(a6, lo->addr, 8);

        n = ngx_inet6_ntop(a6, buf, NGX_INET6_ADDRSTRLEN);

        return ngx_cpymem(buf + n, "/64", 3) - buf;
    }
#endif

    return ngx_cpymem(buf, "unix:", 5) - buf;
}


/*
 * The record of a clear: the common fields say who (client_ip, and
 * user_id with auth_method and key_id when the admin authenticated),
 * then which address ("lockout_address", null for all=yes), in which
 * zone ("lockout_zone", null for every zone) and how many lockouts were
 * removed ("lockouts_cleared").  Also an error.log notice, the second
 * sink the lockout warnings go to.
 */
static ngx_int_t
ngx_http_compliance_lockout_audit(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_http_compliance_lockout_args_t *args,
    ngx_array_t *cleared, ngx_uint_t n)
{
    size_t                          len, alen;
    u_char                         *p;
    u_char                          addr[NGX_HTTP_COMPLIANCE_LOCKOUT_ADDR_LEN];
    ngx_str_t                       fields, *zone, a, z;
    ngx_http_compliance_lockout_t  *lo;

    static ngx_str_t  none = ngx_null_string;

    lo = cleared->elts;
    alen = 0;

    if (args->address.data && cleared->nelts) {
        alen = ngx_http_compliance_lockout_addr_text(&lo[0], addr);
    }

    zone = args->shm_zone ? &args->shm_zone->shm.name : NULL;

    len = sizeof("\"lockout_address\":\"\",\"lockout_zone\":\"\","
                 "\"lockouts_cleared\":,") - 1
          + compliance_json_escape_len(addr, alen)
          + (zone ? compliance_json_escape_len(zone->data, zone->len) : 4)
          + NGX_INT_T_LEN;

    fields.data = ngx_pnalloc(r->pool, len);
    if (fields.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(fields.data, "\"lockout_address\":",
                   sizeof("\"lockout_address\":") - 1);

    if (alen) {
        *p++ = '"';
        p = compliance_json_escape(p, addr, alen);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_cpymem(p, ",\"lockout_zone\":", sizeof(",\"lockout_zone\":") - 1);

    if (zone) {
        *p++ = '"';
        p = compliance_json_escape(p, zone->data, zone->len);
        *p++ = '"';

    } else {
        p = ngx_cpymem(p, "null", 4);
    }

    p = ngx_sprintf(p, ",\"lockouts_cleared\":%ui,", n);

    fields.len = p - fields.data;

    /* the record is written before the response: its status is known */
    r->headers_out.status = NGX_HTTP_OK;

    ngx_http_compliance_audit_event_fields(r, ctx, "lockout_cleared", "high",
                                           NULL, &fields);

    a.data = addr;
    a.len = alen;
    z = zone ? *zone : none;

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "compliance: %ui lockout%s cleared for %s%V in %s%V%s by "
                  "client %V%s%V", n, n == 1 ? "" : "s",
                  alen ? "address " : "every address", &a,
                  zone ? "zone \"" : "every zone", &z, zone ? "\"" : "",
                  &r->connection->addr_text,
                  ctx->authenticated ? ", principal " : "",
                  ctx->authenticated ? &ctx->principal : &none);

    return NGX_OK;
}


/*
 * {"lockouts":[{"zone":"failures","address":"198.51.100.1",
 *  "seconds_left":298,"until":"2026-12-03T10:15:00Z","failures":11}],
 *  "total":1,"truncated":false}, "cleared" for "total" after a clear
 */
static ngx_int_t
ngx_http_compliance_lockout_list(ngx_http_request_t *r,
    ngx_array_t *lockouts, ngx_uint_t n, const char *label)
{
    size_t                          len, alen;
    u_char                         *p;
    u_char                          addr[NGX_HTTP_COMPLIANCE_LOCKOUT_ADDR_LEN];
    time_t                          until;
    ngx_tm_t                        tm;
    ngx_buf_t                      *b;
    ngx_str_t                      *name;
    ngx_uint_t                      i, left;
    ngx_http_compliance_lockout_t  *lo;

    lo = lockouts->elts;

    len = sizeof("{\"lockouts\":[],\"\":,\"truncated\":false}\n") - 1
          + ngx_strlen(label) + NGX_INT_T_LEN;

    for (i = 0; i < lockouts->nelts; i++) {
        name = &lo[i].zone->shm.name;

        len += sizeof(",{\"zone\":\"\",\"address\":\"\",\"seconds_left\":,"
                      "\"until\":\"1970-01-01T00:00:00Z\",\"failures\":}")
               - 1
               + compliance_json_escape_len(name->data, name->len)
               + NGX_HTTP_COMPLIANCE_LOCKOUT_ADDR_LEN + 2 * NGX_INT_T_LEN;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"lockouts\":[", sizeof("{\"lockouts\":[") - 1);

    for (i = 0; i < lockouts->nelts; i++) {
        name = &lo[i].zone->shm.name;
        alen = ngx_http_compliance_lockout_addr_text(&lo[i], addr);

        /* as Retry-After counts: the wait rounded up */
        left = (lo[i].left + 999) / 1000;
        until = ngx_time() + left;
        ngx_gmtime(until, &tm);

        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, "{\"zone\":\"", sizeof("{\"zone\":\"") - 1);
        p = compliance_json_escape(p, name->data, name->len);
        p = ngx_cpymem(p, "\",\"address\":\"", sizeof("\",\"address\":\"") - 1);
        p = ngx_cpymem(p, addr, alen);
        p = ngx_sprintf(p, "\",\"seconds_left\":%ui,"
                        "\"until\":\"%4d-%02d-%02dT%02d:%02d:%02dZ\","
                        "\"failures\":%ui}",
                        left, tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                        tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                        lo[i].failures);
    }

    p = ngx_sprintf(p, "],\"%s\":%ui,\"truncated\":%s}\n", label, n,
                    n > lockouts->nelts ? "true" : "false");

    b->last = p;

    return ngx_http_compliance_lockout_send(r, NGX_HTTP_OK,
                                            &ngx_http_compliance_lockout_json,
                                            b);
}


/* problem+json as the module's refusals, without making one of them */
static ngx_int_t
ngx_http_compliance_lockout_error(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason)
{
    u_char     *p;
    size_t      len;
    ngx_buf_t  *b;
    ngx_str_t   title;

    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        ngx_str_set(&title, "Bad Request");
        break;
    case NGX_HTTP_NOT_FOUND:
        ngx_str_set(&title, "Not Found");
        break;
    default:
        ngx_str_set(&title, "Method Not Allowed");
        break;
    }

    /* a 405 may come before the body was discarded */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    len = sizeof("{\"type\":\"about:blank\",\"title\":\"\",\"status\":"
                 ",\"reason\":\"\",\"request_id\":\"\"}\n") - 1
          + title.len + NGX_INT_T_LEN + ngx_strlen(reason)
          + NGX_HTTP_COMPLIANCE_REQID_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* reasons are fixed identifiers: nothing here needs escaping */
    p = ngx_sprintf(b->last, "{\"type\":\"about:blank\",\"title\":\"%V\","
                    "\"status\":%ui,\"reason\":\"%s\",\"request_id\":\"",
                    &title, status, reason);
    p = ngx_cpymem(p, ctx->request_id, NGX_HTTP_COMPLIANCE_REQID_LEN);
    p = ngx_cpymem(p, "\"}\n", 3);

    b->last = p;

    return ngx_http_compliance_lockout_send(r, status,
                                         &ngx_http_compliance_lockout_problem,
                                         b);
}


static ngx_int_t
ngx_http_compliance_lockout_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    /* the list names client addresses: no cache keeps a copy */
    if (ngx_http_compliance_set_header(r,
                                       &ngx_http_compliance_lockout_cache_name,
                                       &ngx_http_compliance_lockout_no_store)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_compliance_send_body(r, b);
}
