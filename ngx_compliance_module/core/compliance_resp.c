/*
 * RESP2 encoder and bounded reply parser.
 */

#include <string.h>

#include "compliance_resp.h"


static int compliance_resp_line(const unsigned char *p, size_t len,
    size_t *end);
static int compliance_resp_int(const unsigned char *p, size_t n,
    int64_t *out);
static int compliance_resp_scalar(const unsigned char *p, size_t len,
    compliance_resp_value_t *v, size_t *used, int top);
static size_t compliance_resp_digits(size_t n);
static unsigned char *compliance_resp_uint(unsigned char *p, size_t n);


/*
 * The line at p ends with CRLF: *end is the offset of the CR.  A CR or
 * LF alone inside the line is malformed; so is a line past the bound.
 */
static int
compliance_resp_line(const unsigned char *p, size_t len, size_t *end)
{
    size_t  i;

    for (i = 0; i < len; i++) {

        if (i > COMPLIANCE_RESP_MAX_LINE) {
            return COMPLIANCE_RESP_ERROR;
        }

        if (p[i] == '\n') {
            return COMPLIANCE_RESP_ERROR;
        }

        if (p[i] != '\r') {
            continue;
        }

        if (i + 1 == len) {
            return COMPLIANCE_RESP_AGAIN;
        }

        if (p[i + 1] != '\n') {
            return COMPLIANCE_RESP_ERROR;
        }

        *end = i;
        return COMPLIANCE_RESP_OK;
    }

    return (len > COMPLIANCE_RESP_MAX_LINE) ? COMPLIANCE_RESP_ERROR
                                            : COMPLIANCE_RESP_AGAIN;
}


/* a decimal integer, optionally negative, within int64 */
static int
compliance_resp_int(const unsigned char *p, size_t n, int64_t *out)
{
    int       neg;
    size_t    i;
    uint64_t  v, limit;

    neg = (n > 0 && p[0] == '-');
    i = neg;

    if (i == n || n - i > 19) {
        return COMPLIANCE_RESP_ERROR;
    }

    limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    v = 0;

    for ( /* void */ ; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return COMPLIANCE_RESP_ERROR;
        }

        if (v > (limit - (p[i] - '0')) / 10) {
            return COMPLIANCE_RESP_ERROR;
        }

        v = v * 10 + (p[i] - '0');
    }

    if (neg) {
        *out = (v == (uint64_t) INT64_MAX + 1) ? INT64_MIN : -(int64_t) v;

    } else {
        *out = (int64_t) v;
    }

    return COMPLIANCE_RESP_OK;
}


/* one value; an array header only at the top ("top" 1) */
static int
compliance_resp_scalar(const unsigned char *p, size_t len,
    compliance_resp_value_t *v, size_t *used, int top)
{
    int      rc;
    size_t   end;
    int64_t  n;

    if (len == 0) {
        return COMPLIANCE_RESP_AGAIN;
    }

    rc = compliance_resp_line(p + 1, len - 1, &end);
    if (rc != COMPLIANCE_RESP_OK) {
        return rc;
    }

    /* type byte, the line, CRLF */
    *used = 1 + end + 2;
    v->str = p + 1;
    v->len = end;
    v->integer = 0;

    switch (p[0]) {

    case '+':
        v->type = COMPLIANCE_RESP_STATUS;
        return COMPLIANCE_RESP_OK;

    case '-':
        v->type = COMPLIANCE_RESP_ERR;
        return COMPLIANCE_RESP_OK;

    case ':':
        v->type = COMPLIANCE_RESP_INTEGER;
        v->str = NULL;
        v->len = 0;
        return compliance_resp_int(p + 1, end, &v->integer);

    case '$':
        if (compliance_resp_int(p + 1, end, &n) != COMPLIANCE_RESP_OK
            || n < -1 || n > COMPLIANCE_RESP_MAX_BULK)
        {
            return COMPLIANCE_RESP_ERROR;
        }

        if (n == -1) {
            v->type = COMPLIANCE_RESP_NIL;
            v->str = NULL;
            v->len = 0;
            return COMPLIANCE_RESP_OK;
        }

        if (len - *used < (size_t) n + 2) {
            return COMPLIANCE_RESP_AGAIN;
        }

        if (p[*used + n] != '\r' || p[*used + n + 1] != '\n') {
            return COMPLIANCE_RESP_ERROR;
        }

        v->type = COMPLIANCE_RESP_BULK;
        v->str = p + *used;
        v->len = (size_t) n;
        *used += (size_t) n + 2;
        return COMPLIANCE_RESP_OK;

    case '*':
        if (!top
            || compliance_resp_int(p + 1, end, &n) != COMPLIANCE_RESP_OK
            || n < -1 || n > COMPLIANCE_RESP_MAX_ELTS)
        {
            return COMPLIANCE_RESP_ERROR;
        }

        v->str = NULL;
        v->len = 0;
        v->type = (n == -1) ? COMPLIANCE_RESP_NIL : COMPLIANCE_RESP_ARRAY;
        v->integer = (n == -1) ? 0 : n;
        return COMPLIANCE_RESP_OK;

    default:
        return COMPLIANCE_RESP_ERROR;
    }
}


int
compliance_resp_parse(const unsigned char *p, size_t len,
    compliance_resp_reply_t *reply, size_t *used)
{
    int     rc;
    size_t  off, n, i, u;

    rc = compliance_resp_scalar(p, len, &reply->value, &off, 1);
    if (rc != COMPLIANCE_RESP_OK) {
        return rc;
    }

    reply->n = 0;

    if (reply->value.type == COMPLIANCE_RESP_ARRAY) {
        n = (size_t) reply->value.integer;

        for (i = 0; i < n; i++) {
            rc = compliance_resp_scalar(p + off, len - off, &reply->elts[i],
                                        &u, 0);
            if (rc != COMPLIANCE_RESP_OK) {
                return rc;
            }

            off += u;
        }

        reply->n = n;
    }

    *used = off;

    return COMPLIANCE_RESP_OK;
}


static size_t
compliance_resp_digits(size_t n)
{
    size_t  d;

    for (d = 1; n >= 10; n /= 10) {
        d++;
    }

    return d;
}


static unsigned char *
compliance_resp_uint(unsigned char *p, size_t n)
{
    size_t          d;
    unsigned char  *e;

    d = compliance_resp_digits(n);
    e = p + d;

    do {
        *--e = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return p + d;
}


size_t
compliance_resp_command_len(size_t argc, const unsigned char *const *argv,
    const size_t *lens)
{
    size_t  i, len;

    (void) argv;

    /* "*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" each */
    len = 1 + compliance_resp_digits(argc) + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + compliance_resp_digits(lens[i]) + 2 + lens[i] + 2;
    }

    return len;
}


unsigned char *
compliance_resp_command(unsigned char *out, size_t argc,
    const unsigned char *const *argv, const size_t *lens)
{
    size_t  i;

    *out++ = '*';
    out = compliance_resp_uint(out, argc);
    *out++ = '\r';
    *out++ = '\n';

    for (i = 0; i < argc; i++) {
        *out++ = '$';
        out = compliance_resp_uint(out, lens[i]);
        *out++ = '\r';
        *out++ = '\n';

        if (lens[i]) {
            memcpy(out, argv[i], lens[i]);
            out += lens[i];
        }

        *out++ = '\r';
        *out++ = '\n';
    }

    return out;
}


int
compliance_resp_error_is(const compliance_resp_value_t *v, const char *code)
{
    size_t  n;

    n = strlen(code);

    return v->type == COMPLIANCE_RESP_ERR
           && v->len >= n && memcmp(v->str, code, n) == 0
           && (v->len == n || v->str[n] == ' ');
}
