/*
 * Request ids: UUID v4 from OpenSSL's CSPRNG, drawn in batches so that a
 * request costs a copy, not a RAND_bytes call.
 */

#include <openssl/rand.h>

#include "ngx_http_compliance_module.h"


/* 256 ids per RAND_bytes call */
#define NGX_HTTP_COMPLIANCE_REQID_BATCH  (16 * 256)


static u_char  ngx_http_compliance_reqid_pool[NGX_HTTP_COMPLIANCE_REQID_BATCH];
static size_t  ngx_http_compliance_reqid_pos = NGX_HTTP_COMPLIANCE_REQID_BATCH;


ngx_int_t
ngx_http_compliance_reqid_init_process(ngx_cycle_t *cycle)
{
    /* a worker must never reuse random bytes drawn before the fork */
    ngx_explicit_memzero(ngx_http_compliance_reqid_pool,
                         sizeof(ngx_http_compliance_reqid_pool));
    ngx_http_compliance_reqid_pos = NGX_HTTP_COMPLIANCE_REQID_BATCH;

    return NGX_OK;
}


ngx_int_t
ngx_http_compliance_reqid_generate(u_char *dst)
{
    u_char      *b;
    ngx_uint_t   i;

    static const u_char  hex[] = "0123456789abcdef";

    if (ngx_http_compliance_reqid_pos == NGX_HTTP_COMPLIANCE_REQID_BATCH) {
        if (RAND_bytes(ngx_http_compliance_reqid_pool,
                       NGX_HTTP_COMPLIANCE_REQID_BATCH)
            != 1)
        {
            return NGX_ERROR;
        }

        ngx_http_compliance_reqid_pos = 0;
    }

    b = &ngx_http_compliance_reqid_pool[ngx_http_compliance_reqid_pos];
    ngx_http_compliance_reqid_pos += 16;

    /* RFC 9562: version 4, variant 10 */
    b[6] = (u_char) ((b[6] & 0x0f) | 0x40);
    b[8] = (u_char) ((b[8] & 0x3f) | 0x80);

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *dst++ = '-';
        }

        *dst++ = hex[b[i] >> 4];
        *dst++ = hex[b[i] & 0x0f];
    }

    return NGX_OK;
}
