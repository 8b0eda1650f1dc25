/*
 * The one writer of RFC 9457 problem+json refusals.  Every control that
 * refuses a request goes through ngx_http_compliance_problem(), so every
 * refusal has the same shape, the request id, and no internals.
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


static ngx_str_t *
ngx_http_compliance_title(ngx_uint_t status)
{
    static ngx_str_t  bad_request = ngx_string("Bad Request");
    static ngx_str_t  unauthorized = ngx_string("Unauthorized");
    static ngx_str_t  forbidden = ngx_string("Forbidden");
    static ngx_str_t  gone = ngx_string("Gone");
    static ngx_str_t  too_many = ngx_string("Too Many Requests");
    static ngx_str_t  unavailable = ngx_string("Service Unavailable");
    static ngx_str_t  internal = ngx_string("Internal Server Error");

    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return &bad_request;
    case NGX_HTTP_UNAUTHORIZED:
        return &unauthorized;
    case NGX_HTTP_FORBIDDEN:
        return &forbidden;
    case NGX_HTTP_COMPLIANCE_GONE:
        return &gone;
    case NGX_HTTP_TOO_MANY_REQUESTS:
        return &too_many;
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return &unavailable;
    default:
        return &internal;
    }
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


ngx_int_t
ngx_http_compliance_problem(ngx_http_request_t *r,
    ngx_http_compliance_ctx_t *ctx, ngx_uint_t status, const char *reason)
{
    size_t        len, rlen;
    u_char       *p;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t    *title, *www;
    ngx_chain_t   out;

    rlen = ngx_strlen(reason);

    ctx->reason.data = (u_char *) reason;
    ctx->reason.len = rlen;
    ctx->refused = 1;
    ctx->status = status;

    /*
     * A body that cannot be discarded (a broken chunked encoding) must
     * not turn the refusal into nginx's 400, which error_page could send
     * to another location: the refusal is sent, the connection closed.
     */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    title = ngx_http_compliance_title(status);

    len = sizeof("{\"type\":\"about:blank\",\"title\":\"\",\"status\":"
                 ",\"reason\":\"\",\"request_id\":\"\"}") - 1
          + title->len + NGX_INT_T_LEN + rlen
          + NGX_HTTP_COMPLIANCE_REQID_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* reasons are fixed identifiers: nothing here needs escaping */
    p = ngx_sprintf(b->last, "{\"type\":\"about:blank\",\"title\":\"%V\","
                    "\"status\":%ui,\"reason\":\"%s\",\"request_id\":\"",
                    title, status, reason);
    p = ngx_cpymem(p, ctx->request_id, NGX_HTTP_COMPLIANCE_REQID_LEN);
    *p++ = '"';
    *p++ = '}';
    b->last = p;

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_compliance_problem_type;
    r->headers_out.content_type_len = ngx_http_compliance_problem_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    www = NULL;

    if (status == NGX_HTTP_UNAUTHORIZED) {
        www = (rlen == sizeof("missing_credentials") - 1
               && ngx_strcmp(reason, "missing_credentials") == 0)
              ? &ngx_http_compliance_www_auth_missing
              : &ngx_http_compliance_www_auth_invalid;

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

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
