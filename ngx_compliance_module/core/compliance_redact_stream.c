/*
 * Streaming redaction of a response body (see the header).
 *
 * Why the cut is safe: every byte a match can hold, and every byte the
 * detectors look at before or after one (a hex letter glued to digits,
 * the hex digits of a %XX), joins (compliance_redact_joins()).  So no
 * match, and no look around one, crosses a byte that does not: text cut
 * just after it redacts piece by piece exactly as in one piece.  The
 * fuzzer (fuzz/fuzz_stream.c) checks that any split gives the one-shot
 * output.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "compliance_redact_stream.h"
#include "compliance_token.h"


#define COMPLIANCE_REDACT_STREAM_HOLD_MIN  256


static int compliance_redact_stream_text(compliance_redact_stream_t *s,
    const u_char *p, size_t len);
static int compliance_redact_stream_pan(compliance_redact_stream_t *s,
    const u_char *p, size_t len, size_t start, size_t end);
static int compliance_redact_stream_hold(compliance_redact_stream_t *s,
    const u_char *p, size_t len);


void
compliance_redact_stream_conf(compliance_redact_stream_conf_t *conf,
    const compliance_redact_t *r, compliance_redact_stream_emit_pt emit,
    compliance_redact_stream_alloc_pt alloc,
    compliance_redact_stream_free_pt free)
{
    conf->redact = r;
    conf->emit = emit;
    conf->alloc = alloc;
    conf->free = free;

    compliance_redact_joins(r, conf->joins);
}


void
compliance_redact_stream_init(compliance_redact_stream_t *s,
    const compliance_redact_stream_conf_t *conf, void *data, size_t max)
{
    memset(s, 0, sizeof(compliance_redact_stream_t));

    s->conf = conf;
    s->data = data;
    s->max = max;
}


int
compliance_redact_stream_feed(compliance_redact_stream_t *s,
    const u_char *in, size_t len)
{
    size_t         first, last;
    const u_char  *joins;

    if (s->failed) {
        return COMPLIANCE_REDACT_STREAM_ERROR;
    }

    if (len > s->max - s->total) {
        s->failed = 1;
        return COMPLIANCE_REDACT_STREAM_TOO_LARGE;
    }

    s->total += len;

    if (len == 0) {
        return COMPLIANCE_REDACT_STREAM_OK;
    }

    joins = s->conf->joins;

    /* the last separating byte; usually a few bytes from the end */
    for (last = len; last > 0 && joins[in[last - 1]]; last--) {
        /* void */
    }

    if (last == 0) {
        return compliance_redact_stream_hold(s, in, len);
    }

    /* what was held goes out with the bytes up to the first separator */
    if (s->hold_len) {
        for (first = 0; joins[in[first]]; first++) {
            /* void: in[last - 1] separates */
        }

        first++;

        if (compliance_redact_stream_hold(s, in, first) != 0
            || compliance_redact_stream_text(s, s->hold, s->hold_len) != 0)
        {
            return COMPLIANCE_REDACT_STREAM_ERROR;
        }

        OPENSSL_cleanse(s->hold, s->hold_len);
        s->hold_len = 0;

        in += first;
        len -= first;
        last -= first;
    }

    if (compliance_redact_stream_text(s, in, last) != 0) {
        return COMPLIANCE_REDACT_STREAM_ERROR;
    }

    return compliance_redact_stream_hold(s, in + last, len - last);
}


int
compliance_redact_stream_finish(compliance_redact_stream_t *s)
{
    if (s->failed) {
        return COMPLIANCE_REDACT_STREAM_ERROR;
    }

    if (compliance_redact_stream_text(s, s->hold, s->hold_len) != 0) {
        return COMPLIANCE_REDACT_STREAM_ERROR;
    }

    if (s->hold_len) {
        OPENSSL_cleanse(s->hold, s->hold_len);
        s->hold_len = 0;
    }

    return COMPLIANCE_REDACT_STREAM_OK;
}


void
compliance_redact_stream_free(compliance_redact_stream_t *s)
{
    if (s->hold == NULL) {
        return;
    }

    OPENSSL_cleanse(s->hold, s->hold_size);

    if (s->conf->free) {
        s->conf->free(s->data, s->hold);
    }

    s->hold = NULL;
    s->hold_len = 0;
    s->hold_size = 0;
}


/* one piece that ends where the text may be cut: redacted and emitted */
static int
compliance_redact_stream_text(compliance_redact_stream_t *s, const u_char *p,
    size_t len)
{
    size_t                                  pos, start, end;
    unsigned                                bit;
    const char                             *name;
    u_char                                  tag[COMPLIANCE_REDACT_TAG_MAX];
    const compliance_redact_stream_conf_t  *conf;

    conf = s->conf;
    pos = 0;

    while (compliance_redact_span(conf->redact, p, len, pos, &start, &end,
                                  &bit))
    {
        if (start > pos && conf->emit(s->data, p + pos, start - pos) != 0) {
            goto failed;
        }

        s->matches++;

        if (bit == COMPLIANCE_REDACT_PAN) {
            if (compliance_redact_stream_pan(s, p, len, start, end) != 0) {
                goto failed;
            }

        } else {
            name = compliance_redact_detector_name(bit);

            if (name == NULL) {
                name = "pattern";
            }

            memcpy(tag, "[REDACTED:", 10);
            start = strlen(name);
            memcpy(tag + 10, name, start);
            tag[10 + start] = ']';

            if (conf->emit(s->data, tag, 11 + start) != 0) {
                goto failed;
            }
        }

        pos = end;
    }

    if (len > pos && conf->emit(s->data, p + pos, len - pos) != 0) {
        goto failed;
    }

    return 0;

failed:

    s->failed = 1;
    return -1;
}


/* "[REDACTED:pan:1234]": the last four digits, read through %XX */
static int
compliance_redact_stream_pan(compliance_redact_stream_t *s, const u_char *p,
    size_t len, size_t start, size_t end)
{
    int     c;
    size_t  i, n, k;
    u_char  last[4], tag[COMPLIANCE_REDACT_STREAM_PAN_TAG_LEN];

    k = 0;

    for (i = start; i < end; i += n) {
        c = compliance_token_getc(p, len, i, &n);

        if (c >= '0' && c <= '9') {
            last[k++ % 4] = (u_char) c;
        }
    }

    memcpy(tag, "[REDACTED:pan:", 14);

    /* a card has 13 or more digits: k >= 4 */
    for (i = 0; i < 4; i++) {
        tag[14 + i] = last[(k + i) % 4];
    }

    tag[18] = ']';

    c = s->conf->emit(s->data, tag, sizeof(tag));

    OPENSSL_cleanse(last, sizeof(last));

    return c;
}


/* appends to the held-back text, growing it in the caller's memory */
static int
compliance_redact_stream_hold(compliance_redact_stream_t *s, const u_char *p,
    size_t len)
{
    size_t   size;
    u_char  *hold;

    if (len == 0) {
        return 0;
    }

    if (len > s->hold_size - s->hold_len) {
        size = s->hold_size ? s->hold_size : COMPLIANCE_REDACT_STREAM_HOLD_MIN;

        while (size - s->hold_len < len) {
            size *= 2;
        }

        /* the hold never exceeds what the stream may be fed in all */
        if (size > s->max) {
            size = s->max;
        }

        hold = s->conf->alloc(s->data, size);
        if (hold == NULL) {
            s->failed = 1;
            return -1;
        }

        if (s->hold) {
            memcpy(hold, s->hold, s->hold_len);
            OPENSSL_cleanse(s->hold, s->hold_size);

            if (s->conf->free) {
                s->conf->free(s->data, s->hold);
            }
        }

        s->hold = hold;
        s->hold_size = size;
    }

    memcpy(s->hold + s->hold_len, p, len);
    s->hold_len += len;

    return 0;
}
