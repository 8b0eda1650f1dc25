/*
 * libFuzzer harness for the RESP2 reply parser and command encoder
 * (core/compliance_resp.c), which read what a Redis server, or anything
 * answering on its address, sends.  The oracle:
 *
 *   - a parsed reply takes no more than it was given, every string in it
 *     lies inside the bytes taken, and the same bytes alone parse to the
 *     same reply; every proper prefix of them asks for more ("again"),
 *     which is what lets the glue parse as bytes arrive;
 *   - "again" on n bytes is "again" on every shorter prefix too;
 *   - the input cut at NUL bytes into up to 16 arguments of at most 4096
 *     bytes is encoded into exactly command_len() bytes, and those parse
 *     back as an array of the same bulk strings.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_resp.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_resp_same(const compliance_resp_value_t *a,
    const compliance_resp_value_t *b);
static void fuzz_resp_inside(const compliance_resp_value_t *v,
    const uint8_t *data, size_t used);
static void fuzz_resp_reply(const uint8_t *data, size_t size);
static void fuzz_resp_command(const uint8_t *data, size_t size);


static void
fuzz_resp_same(const compliance_resp_value_t *a,
    const compliance_resp_value_t *b)
{
    if (a->type != b->type || a->integer != b->integer || a->str != b->str
        || a->len != b->len)
    {
        abort();
    }
}


static void
fuzz_resp_inside(const compliance_resp_value_t *v, const uint8_t *data,
    size_t used)
{
    if (v->str == NULL) {
        if (v->len != 0) {
            abort();
        }

        return;
    }

    if (v->str < data || v->str + v->len > data + used) {
        abort();
    }
}


static void
fuzz_resp_reply(const uint8_t *data, size_t size)
{
    int                      rc;
    size_t                   used, used2, i, step;
    compliance_resp_reply_t  r, r2;

    rc = compliance_resp_parse(data, size, &r, &used);

    if (rc == COMPLIANCE_RESP_AGAIN) {
        if (size > 0
            && compliance_resp_parse(data, size - 1, &r2, &used2)
               != COMPLIANCE_RESP_AGAIN)
        {
            abort();
        }

        return;
    }

    if (rc != COMPLIANCE_RESP_OK) {
        if (rc != COMPLIANCE_RESP_ERROR) {
            abort();
        }

        return;
    }

    if (used == 0 || used > size || r.n > COMPLIANCE_RESP_MAX_ELTS) {
        abort();
    }

    fuzz_resp_inside(&r.value, data, used);

    for (i = 0; i < r.n; i++) {
        fuzz_resp_inside(&r.elts[i], data, used);

        if (r.elts[i].type == COMPLIANCE_RESP_ARRAY) {
            abort();
        }
    }

    if (compliance_resp_parse(data, used, &r2, &used2) != COMPLIANCE_RESP_OK
        || used2 != used || r2.n != r.n)
    {
        abort();
    }

    fuzz_resp_same(&r.value, &r2.value);

    for (i = 0; i < r.n; i++) {
        fuzz_resp_same(&r.elts[i], &r2.elts[i]);
    }

    /* every prefix for short replies, a spread of them for long ones */
    step = used / 64 + 1;

    for (i = 0; i < used; i += step) {
        if (compliance_resp_parse(data, i, &r2, &used2)
            != COMPLIANCE_RESP_AGAIN)
        {
            abort();
        }
    }

    if (compliance_resp_parse(data, used - 1, &r2, &used2)
        != COMPLIANCE_RESP_AGAIN)
    {
        abort();
    }
}


static void
fuzz_resp_command(const uint8_t *data, size_t size)
{
    size_t                   argc, i, start, len, used;
    size_t                   lens[COMPLIANCE_RESP_MAX_ELTS];
    unsigned char           *buf, *end;
    const unsigned char     *argv[COMPLIANCE_RESP_MAX_ELTS];
    compliance_resp_reply_t  r;

    argc = 0;
    start = 0;

    for (i = 0; i <= size && argc < COMPLIANCE_RESP_MAX_ELTS; i++) {
        if (i < size && data[i] != '\0') {
            continue;
        }

        len = i - start;

        if (len > COMPLIANCE_RESP_MAX_BULK) {
            len = COMPLIANCE_RESP_MAX_BULK;
        }

        argv[argc] = data + start;
        lens[argc] = len;
        argc++;
        start = i + 1;
    }

    len = compliance_resp_command_len(argc, argv, lens);

    buf = malloc(len);
    if (buf == NULL) {
        return;
    }

    end = compliance_resp_command(buf, argc, argv, lens);

    if ((size_t) (end - buf) != len
        || compliance_resp_parse(buf, len, &r, &used) != COMPLIANCE_RESP_OK
        || used != len || r.value.type != COMPLIANCE_RESP_ARRAY
        || r.n != argc)
    {
        abort();
    }

    for (i = 0; i < argc; i++) {
        if (r.elts[i].type != COMPLIANCE_RESP_BULK
            || r.elts[i].len != lens[i]
            || (lens[i] && memcmp(r.elts[i].str, argv[i], lens[i]) != 0))
        {
            abort();
        }
    }

    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_resp_reply(data, size);
    fuzz_resp_command(data, size);

    return 0;
}
