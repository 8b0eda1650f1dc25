/*
 * Verification of a chained audit trail, one record at a time (see
 * compliance_verify.h).  Used by compliance-audit verify and
 * compliance-report --key.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "compliance_verify.h"


static int verify_fail(compliance_verify_t *v, unsigned long lineno,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int verify_checkpoints(compliance_verify_t *v, unsigned long lineno,
    uint64_t seq, const u_char *hex);


static int
verify_fail(compliance_verify_t *v, unsigned long lineno, const char *fmt,
    ...)
{
    int      n;
    va_list  ap;

    n = snprintf(v->msg, sizeof(v->msg), "line %lu: ", lineno);

    if (n < 0 || (size_t) n >= sizeof(v->msg)) {
        return -1;
    }

    va_start(ap, fmt);
    vsnprintf(v->msg + n, sizeof(v->msg) - n, fmt, ap);
    va_end(ap);

    return -1;
}


int
compliance_verify_hex_valid(const u_char *p, size_t len)
{
    size_t  i;

    if (len != COMPLIANCE_CHAIN_HEX_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


void
compliance_verify_init(compliance_verify_t *v, compliance_chain_t *c,
    const u_char *prev_opt, int continuation, compliance_checkpoints_t *cps)
{
    memset(v, 0, sizeof(compliance_verify_t));

    v->chain = c;
    v->prev_opt = prev_opt;
    v->continuation = continuation;
    v->cps = cps;
}


/* the checkpoints logged for this seq must name this chain value */
static int
verify_checkpoints(compliance_verify_t *v, unsigned long lineno,
    uint64_t seq, const u_char *hex)
{
    size_t                     lo, hi, mid;
    compliance_checkpoints_t  *cps;

    cps = v->cps;

    if (cps == NULL) {
        return 0;
    }

    lo = 0;
    hi = cps->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (cps->cp[mid].seq < seq) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    for ( /* void */ ; lo < cps->n && cps->cp[lo].seq == seq; lo++) {
        if (memcmp(cps->cp[lo].chain, hex, COMPLIANCE_CHAIN_HEX_LEN) != 0) {
            return verify_fail(v, lineno, "chain differs from the "
                               "checkpoint for seq %" PRIu64 " at %s:%lu",
                               seq, cps->path, cps->cp[lo].line);
        }
    }

    return 0;
}


int
compliance_verify_line(compliance_verify_t *v, const u_char *line,
    size_t len, unsigned long lineno, json_t *rec)
{
    int            rc, check_link, own;
    json_t        *j;
    size_t         plen;
    u_char         link[COMPLIANCE_CHAIN_HEX_LEN];
    uint64_t       seq;
    json_error_t   jerr;
    const u_char  *hex;

    if (len > COMPLIANCE_VERIFY_LINE_MAX) {
        return verify_fail(v, lineno, "longer than %d bytes",
                           COMPLIANCE_VERIFY_LINE_MAX);
    }

    /* a last line without its newline is a torn write */
    if (len == 0 || line[len - 1] != '\n') {
        return verify_fail(v, lineno, "truncated record (no newline at the "
                           "end of the file)");
    }

    len--;

    if (len == 0) {
        return verify_fail(v, lineno, "empty line");
    }

    own = 0;

    if (rec == NULL) {
        rec = json_loadb((const char *) line, len, JSON_REJECT_DUPLICATES,
                         &jerr);

        if (rec == NULL) {
            return verify_fail(v, lineno, "not valid JSON: %s (column %d)",
                               jerr.text, jerr.column);
        }

        own = 1;
    }

    if (!json_is_object(rec)) {
        if (own) {
            json_decref(rec);
        }

        return verify_fail(v, lineno, "not a JSON object");
    }

    rc = compliance_chain_split(line, len, &plen, &hex, &seq);

    if (rc != COMPLIANCE_CHAIN_OK) {
        if (own) {
            json_decref(rec);
        }

        return verify_fail(v, lineno, "%s", compliance_chain_strerror(rc));
    }

    /* the parsed values must be the very ones the MAC covers */
    j = json_object_get(rec, "seq");
    rc = json_is_integer(j) && (uint64_t) json_integer_value(j) == seq;
    j = json_object_get(rec, "chain");
    rc = rc && json_is_string(j)
         && memcmp(json_string_value(j), hex, COMPLIANCE_CHAIN_HEX_LEN) == 0;

    if (own) {
        json_decref(rec);
    }

    if (!rc) {
        return verify_fail(v, lineno, "\"seq\"/\"chain\" fields are "
                           "ambiguous");
    }

    check_link = 1;

    if (v->records == 0) {
        if (seq == 1) {
            memcpy(v->prev, compliance_chain_zero, COMPLIANCE_CHAIN_HEX_LEN);

            if (v->prev_opt && memcmp(v->prev_opt, compliance_chain_zero,
                                      COMPLIANCE_CHAIN_HEX_LEN) != 0)
            {
                snprintf(v->note, sizeof(v->note), "--prev ignored: the "
                         "file starts at seq 1, whose previous chain value "
                         "is 64 zeros");
            }

        } else if (v->prev_opt) {
            memcpy(v->prev, v->prev_opt, COMPLIANCE_CHAIN_HEX_LEN);

        } else if (v->continuation) {
            /* explicitly accepted: the head is trusted, not checked */
            snprintf(v->note, sizeof(v->note), "first record (seq %" PRIu64
                     ") taken as the anchor (--continuation): its own link "
                     "is not checked", seq);
            v->unanchored = seq;
            check_link = 0;

        } else {
            /*
             * a file that does not start the chain proves nothing about
             * its head: deleted or edited first records look the same
             */
            return verify_fail(v, lineno, "the file starts at seq %" PRIu64
                               ", not 1, and nothing anchors it: the head "
                               "of the chain is missing or was cut; pass "
                               "--prev HEX (the last \"chain\" of the "
                               "previous file or a checkpoint) or "
                               "--continuation to accept an unchecked head",
                               seq);
        }

    } else if (seq != v->last_seq + 1) {
        return verify_fail(v, lineno, "seq %" PRIu64 " where %" PRIu64
                           " was expected (%s)", seq, v->last_seq + 1,
                           seq <= v->last_seq
                           ? "record duplicated or out of order"
                           : "records missing");
    }

    if (check_link) {
        if (compliance_chain_compute_prefix(v->chain, v->prev, line, plen,
                                            link)
            != 0)
        {
            return verify_fail(v, lineno, "HMAC computation failed");
        }

        if (CRYPTO_memcmp(link, hex, COMPLIANCE_CHAIN_HEX_LEN) != 0) {
            return verify_fail(v, lineno, "chain mismatch (record altered, "
                               "inserted, reordered, or a wrong key)");
        }
    }

    if (verify_checkpoints(v, lineno, seq, hex) != 0) {
        return -1;
    }

    memcpy(v->prev, hex, COMPLIANCE_CHAIN_HEX_LEN);
    v->last_seq = seq;
    v->records++;

    return 0;
}


int
compliance_verify_finish(compliance_verify_t *v, const char *last_file,
    unsigned long lines)
{
    compliance_checkpoints_t  *cps;

    cps = v->cps;

    /* a checkpoint beyond the last record: the tail was cut off */
    if (cps && cps->n && cps->cp[cps->n - 1].seq > v->last_seq) {
        snprintf(v->msg, sizeof(v->msg), "%s: line %lu: the series ends at "
                 "seq %" PRIu64 " but %s:%lu has a checkpoint for seq %"
                 PRIu64 " (records missing at the end)", last_file,
                 lines + 1, v->last_seq, cps->path,
                 cps->cp[cps->n - 1].line, cps->cp[cps->n - 1].seq);
        return -1;
    }

    return 0;
}
