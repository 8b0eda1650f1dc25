/*
 * libFuzzer harness for the streaming response redactor
 * (core/compliance_redact_stream.c).
 *
 * Input: <detectors> <split seed> <body>.  The first byte picks the
 * detectors (its low six bits: pan ssn email jwt api_key bearer; none
 * set means pan and ssn), the second seeds the split points.
 *
 * Oracles:
 *   - the body fed whole, cut at pseudo-random points, and one byte at a
 *     time gives the same output and the same match count (streaming in
 *     any split == one shot);
 *   - the one-shot output is compliance_redact_apply()'s on the whole
 *     body when no card number was replaced (the other tags are the
 *     same), so the stream finds what the log redactor finds;
 *   - the hold never outgrows what was fed; every allocation is given
 *     back; with max below the body's length the stream refuses it and
 *     emits nothing past max bytes of input.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_redact.h"
#include "compliance_redact_stream.h"


typedef struct {
    u_char  *p;
    size_t   len;
    size_t   size;
    size_t   live;      /* allocations not given back */
} fuzz_stream_out_t;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_stream_emit(void *data, const u_char *p, size_t len);
static void *fuzz_stream_alloc(void *data, size_t size);
static void fuzz_stream_free(void *data, void *p);
static size_t fuzz_stream_run(const compliance_redact_stream_conf_t *conf,
    const u_char *in, size_t len, unsigned seed, int mode,
    fuzz_stream_out_t *o);
static void fuzz_stream_fail(const char *what);


static const unsigned  fuzz_stream_bits[6] = {
    COMPLIANCE_REDACT_PAN, COMPLIANCE_REDACT_SSN, COMPLIANCE_REDACT_EMAIL,
    COMPLIANCE_REDACT_JWT, COMPLIANCE_REDACT_API_KEY,
    COMPLIANCE_REDACT_BEARER
};

static compliance_redact_t              *fuzz_stream_redact[64];
static compliance_redact_stream_conf_t   fuzz_stream_conf[64];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char      err[256];
    unsigned  k, b, mask;

    (void) argc;
    (void) argv;

    for (k = 0; k < 64; k++) {
        mask = 0;

        for (b = 0; b < 6; b++) {
            if (k & (1u << b)) {
                mask |= fuzz_stream_bits[b];
            }
        }

        if (mask == 0) {
            mask = COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN;
        }

        fuzz_stream_redact[k] = compliance_redact_create(
                                    mask | COMPLIANCE_REDACT_TEXT, err,
                                    sizeof(err));
        if (fuzz_stream_redact[k] == NULL) {
            fprintf(stderr, "fuzz_stream: %s\n", err);
            abort();
        }

        compliance_redact_stream_conf(&fuzz_stream_conf[k],
                                      fuzz_stream_redact[k],
                                      fuzz_stream_emit, fuzz_stream_alloc,
                                      fuzz_stream_free);
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                                 *in, *flat, *p;
    size_t                                  len, n1, n2, n3, flen, k, pan;
    unsigned                                pick, seed;
    fuzz_stream_out_t                       o1, o2, o3, o4;
    compliance_redact_stream_t              s;
    const compliance_redact_stream_conf_t  *conf;

    if (size < 2) {
        return 0;
    }

    pick = data[0] & 63;
    seed = data[1];
    len = size - 2;

    /* an exact-size copy: reads past the body are caught */
    in = malloc(len ? len : 1);
    if (in == NULL) {
        return 0;
    }

    memcpy(in, data + 2, len);
    conf = &fuzz_stream_conf[pick];

    memset(&o1, 0, sizeof(o1));
    memset(&o2, 0, sizeof(o2));
    memset(&o3, 0, sizeof(o3));
    memset(&o4, 0, sizeof(o4));

    n1 = fuzz_stream_run(conf, in, len, seed, 0, &o1);
    n2 = fuzz_stream_run(conf, in, len, seed, 1, &o2);
    n3 = fuzz_stream_run(conf, in, len, seed, 2, &o3);

    if (n1 != n2 || n1 != n3) {
        fuzz_stream_fail("match counts differ between splits");
    }

    if (o1.len != o2.len || o1.len != o3.len
        || (o1.len && (memcmp(o1.p, o2.p, o1.len) != 0
                       || memcmp(o1.p, o3.p, o1.len) != 0)))
    {
        fuzz_stream_fail("output differs between splits");
    }

    /* without a card tag, the output is the log redactor's */
    pan = 0;

    for (k = 0; k + 14 <= o1.len; k++) {
        if (memcmp(o1.p + k, "[REDACTED:pan:", 14) == 0) {
            pan = 1;
            break;
        }
    }

    if (!pan && len) {
        flen = compliance_redact_len(fuzz_stream_redact[pick], in, len);
        flat = malloc(flen ? flen : 1);

        if (flat != NULL) {
            flen = compliance_redact_apply(fuzz_stream_redact[pick], in, len,
                                           flat, flen);

            if (flen != o1.len || (flen && memcmp(flat, o1.p, flen) != 0)) {
                fuzz_stream_fail("stream and compliance_redact_apply differ");
            }

            free(flat);
        }
    }

    /* a body over max is refused, and nothing past max goes out */
    if (len > 1) {
        compliance_redact_stream_init(&s, conf, &o4, len - 1);

        p = in;
        k = (seed % len) + 1;

        if (compliance_redact_stream_feed(&s, p, k - 1)
            != COMPLIANCE_REDACT_STREAM_OK)
        {
            fuzz_stream_fail("a body within max refused");
        }

        if (compliance_redact_stream_feed(&s, p + k - 1, len - k + 1)
            != COMPLIANCE_REDACT_STREAM_TOO_LARGE
            || compliance_redact_stream_finish(&s)
               != COMPLIANCE_REDACT_STREAM_ERROR)
        {
            fuzz_stream_fail("a body over max not refused");
        }

        compliance_redact_stream_free(&s);

        if (o4.live != 0) {
            fuzz_stream_fail("hold not given back");
        }
    }

    free(o1.p);
    free(o2.p);
    free(o3.p);
    free(o4.p);
    free(in);

    return 0;
}


/* mode 0: whole; 1: pseudo-random cuts; 2: one byte at a time */
static size_t
fuzz_stream_run(const compliance_redact_stream_conf_t *conf, const u_char *in,
    size_t len, unsigned seed, int mode, fuzz_stream_out_t *o)
{
    size_t                      pos, n, matches;
    uint32_t                    x;
    compliance_redact_stream_t  s;

    compliance_redact_stream_init(&s, conf, o, len);

    x = seed * 2654435761u + 1;
    pos = 0;

    while (pos < len) {
        if (mode == 0) {
            n = len;

        } else if (mode == 1) {
            x = x * 1103515245u + 12345u;
            n = (x >> 16) % 24;

        } else {
            n = 1;
        }

        if (n > len - pos) {
            n = len - pos;
        }

        if (compliance_redact_stream_feed(&s, in + pos, n)
            != COMPLIANCE_REDACT_STREAM_OK)
        {
            fuzz_stream_fail("feed failed within max");
        }

        pos += n;

        if (s.hold_len > s.total || s.total != pos) {
            fuzz_stream_fail("hold larger than the input");
        }
    }

    if (compliance_redact_stream_finish(&s) != COMPLIANCE_REDACT_STREAM_OK) {
        fuzz_stream_fail("finish failed");
    }

    matches = s.matches;

    compliance_redact_stream_free(&s);

    if (o->live != 0) {
        fuzz_stream_fail("hold not given back");
    }

    return matches;
}


static int
fuzz_stream_emit(void *data, const u_char *p, size_t len)
{
    u_char             *np;
    fuzz_stream_out_t  *o = data;

    if (o->len + len > o->size) {
        o->size = (o->len + len) * 2 + 16;
        np = realloc(o->p, o->size);

        if (np == NULL) {
            fuzz_stream_fail("out of memory");
        }

        o->p = np;
    }

    memcpy(o->p + o->len, p, len);
    o->len += len;

    return 0;
}


static void *
fuzz_stream_alloc(void *data, size_t size)
{
    fuzz_stream_out_t  *o = data;

    o->live++;

    return malloc(size);
}


static void
fuzz_stream_free(void *data, void *p)
{
    fuzz_stream_out_t  *o = data;

    o->live--;
    free(p);
}


static void
fuzz_stream_fail(const char *what)
{
    fprintf(stderr, "fuzz_stream: %s\n", what);
    abort();
}
