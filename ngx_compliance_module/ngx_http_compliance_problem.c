/*
 * The one writer of RFC 9457 problem+json refusals.  Every control that
 * refuses a request goes through ngx_http_compliance_problem(), so every
 * refusal has the same shape, the request id, and no internals.  The
 * error pages of ngx_http_compliance_boundary.c are the same body
 * without a reason.
 */

#include "ngx_http_compliance_module.h"


static ngx_str_t *ngx_http_compliance_title(ngx_uint_t status);


static ngx_str_t  ngx_http_compliance_problem_type =
    ngx_string("application/problem+json");

static ngx_str_t  ngx_http_compliance_www_auth_name =
    ngx_string("WWW-Authenticate");

/* RFC 6750 3.1: no error code when the request carried no credentials */
static ngx_str_t  ngx_http_compliance_www_auth_missing =
    ngx_string("Bearer realm=\"api\"");
static ngx_str_t  ngx_http_compliance_www_auth_invalid =
    ngx_string("Bearer realm=\"api\", error=\"invalid_token\"");
static ngx_str_t  ngx_http_compliance_www_auth_scope =
    ngx_string("Bearer realm=\"api\", error=\"insufficient_scope\"");

/* RFC 9470 3: a good token whose sign-in was not strong enough */
static ngx_str_t  ngx_http_compliance_www_auth_mfa =
    ngx_string("Bearer realm=\"api\", "
               "error=\"insufficient_user_authentication\", "
               "error_description=\"multi-factor authentication "
               "required\"");


/* the status phrases of RFC 9110 (RFC 9457 4.2: the title of about:blank) */
static ngx_str_t *
ngx_http_compliance_title(ngx_uint_t status)
{
    ngx_uint_t  i;

    static struct {
        ngx_uint_t  status;
        ngx_str_t   title;
    }  titles[] = {
        { 400, ngx_string("Bad Request") },
        { 401, ngx_string("Unauthorized") },
        { 402, ngx_string("Payment Required") },
        { 403, ngx_string("Forbidden") },
        { 404, ngx_string("Not Found") },
        { 405, ngx_string("Method Not Allowed") },
        { 406, ngx_string("Not Acceptable") },
        { 407, ngx_string("Proxy Authentication Required") },
        { 408, ngx_string("Request Timeout") },
        { 409, ngx_string("Conflict") },
        { 410, ngx_string("Gone") },
        { 411, ngx_string("Length Required") },
        { 412, ngx_string("Precondition Failed") },
        { 413, ngx_string("Content Too Large") },
        { 414, ngx_string("URI Too Long") },
        { 415, ngx_string("Unsupported Media Type") },
        { 416, ngx_string("Range Not Satisfiable") },
        { 417, ngx_string("Expectation Failed") },
        { 421, ngx_string("Misdirected Request") },
        { 422, ngx_string("Unprocessable Content") },
        { 426, ngx_string("Upgrade Required") },
        { 428, ngx_string("Precondition Required") },
        { 429, ngx_string("Too Many Requests") },
        { 431, ngx_string("Request Header Fields Too Large") },
        { 500, ngx_string("Internal Server Error") },
        { 501, ngx_string("Not Implemented") },
        { 502, ngx_string("Bad Gateway") },
        { 503, ngx_string("Service Unavailable") },
        { 504, ngx_string("Gateway Timeout") },
        { 505, ngx_string("HTTP Version Not Supported") },
        { 507, ngx_string("Insufficient Storage") }
    };

    static ngx_str_t  client_error = ngx_string("Client Error");
    static ngx_str_t  server_error = ngx_string("Server Error");

    for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
        if (titles[i].status == status) {
            return &titles[i].title;
        }
    }

    return (status < 500) ? &client_error : &server_error;
}


/* one authoritative value: an upstream's own copies are dropped */
void
ngx_http_compliance_drop_header(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            h[i].hash = 0;
        }
    }
}


ngx_int_t
ngx_http_compliance_set_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;
    h->value = *value;
    h->lowcase_key = NULL;

    return NGX_OK;
}


/*
 * The body {"type","title","status"[,"reason"],"request_id"}; reason
 * NULL leaves the member out.  Reasons are fixed identifiers and titles
 * fixed phrases: nothing here needs escaping.
 */
ngx_buf_t *
ngx_http_compliance_problem_body(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason)
{
    return ngx_http_compliance_problem_body_members(r, ctx, status, reason,
                                                    NULL);
}


/*
 * The same body with extension members (RFC 9457 3.2): members is raw
 * JSON, "\"name\":value[,...]" without braces, written by the caller
 * (escaped there), or NULL.
 */
ngx_buf_t *
ngx_http_compliance_problem_body_members(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason,
    ngx_str_t *members)
{
    size_t      len;
    u_char     *p;
    ngx_buf_t  *b;
    ngx_str_t  *title;

    title = ngx_http_compliance_title(status);

    len = sizeof("{\"type\":\"about:blank\",\"title\":\"\",\"status\":"
                 ",\"reason\":\"\",\"request_id\":\"\"}") - 1
          + title->len + NGX_INT_T_LEN
          + (reason ? ngx_strlen(reason) : 0)
          + NGX_HTTP_COMPLIANCE_REQID_LEN
          + (members ? members->len + 1 : 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = ngx_sprintf(b->last, "{\"type\":\"about:blank\",\"title\":\"%V\","
                    "\"status\":%ui,", title, status);

    if (reason) {
        p = ngx_sprintf(p, "\"reason\":\"%s\",", reason);
    }

    p = ngx_cpymem(p, "\"request_id\":\"", sizeof("\"request_id\":\"") - 1);
    p = ngx_cpymem(p, ctx->request_id, NGX_HTTP_COMPLIANCE_REQID_LEN);
    *p++ = '"';

    if (members && members->len) {
        *p++ = ',';
        p = ngx_cpymem(p, members->data, members->len);
    }

    *p++ = '}';
    b->last = p;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    return b;
}


/* the response headers of a problem+json body of len bytes */
void
ngx_http_compliance_problem_headers(ngx_http_request_t *r, off_t len)
{
    r->headers_out.content_type = ngx_http_compliance_problem_type;
    r->headers_out.content_type_len = ngx_http_compliance_problem_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = len;
}


ngx_int_t
ngx_http_compliance_problem(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason)
{
    return ngx_http_compliance_problem_members(r, ctx, status, reason, NULL);
}


/* a refusal whose body carries extension members (see above) */
ngx_int_t
ngx_http_compliance_problem_members(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason,
    ngx_str_t *members)
{
    size_t       rlen;
    ngx_buf_t   *b;
    ngx_str_t   *www;

    rlen = ngx_strlen(reason);

    ctx->reason.data = (u_char *) reason;
    ctx->reason.len = rlen;
    ctx->refused = 1;
    ctx->status = status;

    ngx_http_compliance_status_refusal(r, reason);

    /*
     * A body that cannot be discarded (a broken chunked encoding) must
     * not turn the refusal into nginx's 400, which error_page could send
     * to another location: the refusal is sent, the connection closed.
     * A refused request's body is not wanted: no "100 Continue" asks the
     * client for it (as nginx's own error responses).
     */
    r->expect_tested = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    b = ngx_http_compliance_problem_body_members(r, ctx, status, reason,
                                                 members);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = status;
    ngx_http_compliance_problem_headers(r, b->last - b->pos);

    www = NULL;

    if (status == NGX_HTTP_UNAUTHORIZED) {
        www = (rlen == sizeof("missing_credentials") - 1
               && ngx_strcmp(reason, "missing_credentials") == 0)
              ? &ngx_http_compliance_www_auth_missing
              : &ngx_http_compliance_www_auth_invalid;

        if (rlen == sizeof("mfa_required") - 1
            && ngx_strcmp(reason, "mfa_required") == 0)
        {
            www = &ngx_http_compliance_www_auth_mfa;
        }

    } else if (rlen == sizeof("insufficient_scope") - 1
               && ngx_strcmp(reason, "insufficient_scope") == 0)
    {
        /* RFC 6750 3.1 */
        www = &ngx_http_compliance_www_auth_scope;
    }

    if (www) {
        if (ngx_http_compliance_set_header(r,
                                           &ngx_http_compliance_www_auth_name,
                                           www)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_compliance_send_body(r, b);
}


/* the headers as set, then b (the last buffer) unless HEAD */
ngx_int_t
ngx_http_compliance_send_body(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t     rc;
    ngx_chain_t   out;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
