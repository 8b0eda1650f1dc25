/*
 * The request's header list, as the module reads and edits it: headers
 * are matched the way $http_<name> matches them (any case, "_" equal to
 * "-"), the list is never edited in place (a subrequest may hold the old
 * one), and the cached value of $http_<name> is dropped whenever the
 * header changes, so no later variable, log or upstream sees a value the
 * module took out.
 */

#include "ngx_http_compliance_module.h"


static ngx_uint_t ngx_http_compliance_header_is(ngx_str_t *key,
    ngx_str_t *name);


/* config time: the matching name and the index of $http_<name> */
ngx_int_t
ngx_http_compliance_header_init(ngx_conf_t *cf,
    ngx_http_compliance_header_t *h, ngx_str_t *name)
{
    u_char      c, *p;
    ngx_str_t   var;
    ngx_uint_t  i;

    h->name.len = name->len;
    h->name.data = ngx_pnalloc(cf->pool, name->len);
    if (h->name.data == NULL) {
        return NGX_ERROR;
    }

    var.len = sizeof("http_") - 1 + name->len;
    var.data = ngx_pnalloc(cf->pool, var.len);
    if (var.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(var.data, "http_", sizeof("http_") - 1);

    for (i = 0; i < name->len; i++) {
        c = ngx_tolower(name->data[i]);
        h->name.data[i] = (c == '_') ? '-' : c;
        p[i] = (c == '-') ? '_' : c;
    }

    h->var = ngx_http_get_variable_index(cf, &var);
    if (h->var == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* how many request headers match; the first one's value to *value */
ngx_uint_t
ngx_http_compliance_header_count(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h, ngx_str_t *value)
{
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *e;

    found = 0;
    part = &r->headers_in.headers.part;
    e = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            e = part->elts;
            i = 0;
        }

        /* an emptied header (see the vault's withdraw) is gone */
        if (e[i].hash == 0) {
            continue;
        }

        if (ngx_http_compliance_header_is(&e[i].key, &h->name)) {
            if (found++ == 0 && value != NULL) {
                *value = e[i].value;
            }
        }
    }

    return found;
}


/* drops every request header that matches, for the upstream and later */
ngx_int_t
ngx_http_compliance_header_strip(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h)
{
    if (ngx_http_compliance_header_count(r, h, NULL) == 0) {
        return NGX_OK;
    }

    if (h->name.len == sizeof("authorization") - 1
        && ngx_strncmp(h->name.data, "authorization", h->name.len) == 0)
    {
        r->headers_in.authorization = NULL;
    }

    if (ngx_http_compliance_header_copy(r, h, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_compliance_header_invalidate(r, h);

    return NGX_OK;
}


/*
 * Replaces r->headers_in.headers by a copy without the headers that match
 * "h" (if not NULL) and without "elt", with room for "extra" more.  The
 * old list is left as it was for subrequests that copied it.
 */
ngx_int_t
ngx_http_compliance_header_copy(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h, ngx_table_elt_t *elt, ngx_uint_t extra)
{
    ngx_uint_t        i, n;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *e, *ne;

    old = r->headers_in.headers;

    n = 0;

    for (part = &old.part; part; part = part->next) {
        n += part->nelts;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, n + extra + 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        r->headers_in.headers = old;
        return NGX_ERROR;
    }

    part = &old.part;
    e = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            e = part->elts;
            i = 0;
        }

        if (&e[i] == elt
            || (h != NULL && ngx_http_compliance_header_is(&e[i].key,
                                                           &h->name)))
        {
            continue;
        }

        /* never fails: the first part has room for all */
        ne = ngx_list_push(&r->headers_in.headers);
        if (ne == NULL) {
            return NGX_ERROR;
        }

        *ne = e[i];
    }

    return NGX_OK;
}


/* $http_<name> is evaluated again on next use, from the list as it is */
void
ngx_http_compliance_header_invalidate(ngx_http_request_t *r,
    ngx_http_compliance_header_t *h)
{
    if (h->var == NGX_ERROR || r->variables == NULL) {
        return;
    }

    r->variables[h->var].valid = 0;
    r->variables[h->var].not_found = 0;
}


static ngx_uint_t
ngx_http_compliance_header_is(ngx_str_t *key, ngx_str_t *name)
{
    u_char  c;
    size_t  i;

    if (key->len != name->len) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = ngx_tolower(key->data[i]);

        if (c == '_') {
            c = '-';
        }

        if (c != name->data[i]) {
            return 0;
        }
    }

    return 1;
}
