/*
 * Redaction of secrets and PII in URIs, query strings and audit fields.
 * No nginx headers: shared by the module and the CLIs.
 *
 * Every match is replaced with "[REDACTED:<name>]".  The built-in
 * detectors are hand-written scanners (one pass, no allocation); operator
 * patterns are PCRE2, compiled and JIT-ed when they are added.
 *
 * Percent-encoding: the built-in detectors read the input through a
 * percent-decoding view (%XX counts as the byte it encodes), so
 * 4111%2D1111..., john%40example.com, Bearer%20... or pass%77ord=... are
 * caught and the replaced span covers the encoded bytes.  Operator
 * patterns see the raw bytes.  Overlapping matches merge into one span
 * named after the match that starts first.  An operator pattern that
 * hits the PCRE2 match limit redacts the rest of the input (fail
 * closed).
 *
 * A redact object holds per-call scratch (PCRE2 match data, the next
 * match of each pattern) that is allocated at create time and reused:
 * the apply functions take a const object but are NOT thread-safe.  Use
 * one object per nginx worker (the usual single-threaded model).
 */

#ifndef _COMPLIANCE_REDACT_H_INCLUDED_
#define _COMPLIANCE_REDACT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#define COMPLIANCE_REDACT_PAN            0x0001
#define COMPLIANCE_REDACT_SSN            0x0002
#define COMPLIANCE_REDACT_EMAIL          0x0004
#define COMPLIANCE_REDACT_JWT            0x0008
#define COMPLIANCE_REDACT_API_KEY        0x0010
#define COMPLIANCE_REDACT_BEARER         0x0020
#define COMPLIANCE_REDACT_SECRET_PARAMS  0x0040

#define COMPLIANCE_REDACT_ALL            0x007f

/*
 * A flag for compliance_redact_create(): the input is free text (a
 * response body), not a URI or a query string, so no query-parameter
 * detector runs (secret_params is ignored, ssn matches only its NNN-NN-
 * NNNN shape): a parameter's value runs to the next '&', which in a body
 * may be anywhere.
 */
#define COMPLIANCE_REDACT_TEXT           0x0100

/* SPEC section 4: every detector except email */
#define COMPLIANCE_REDACT_DEFAULT                                            \
    (COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN | COMPLIANCE_REDACT_JWT   \
     | COMPLIANCE_REDACT_API_KEY | COMPLIANCE_REDACT_BEARER                  \
     | COMPLIANCE_REDACT_SECRET_PARAMS)

/* operator pattern names: [a-z0-9_]{1,32} */
#define COMPLIANCE_REDACT_NAME_MAX       32
#define COMPLIANCE_REDACT_MAX_PATTERNS   64

/* longest replacement: "[REDACTED:" + name + "]" */
#define COMPLIANCE_REDACT_TAG_MAX  (10 + COMPLIANCE_REDACT_NAME_MAX + 1)


typedef struct compliance_redact_s  compliance_redact_t;


/*
 * The bit for a detector name ("pan", "ssn", "email", "jwt", "api_key",
 * "bearer", "secret_params"), or 0 for an unknown name.
 */
unsigned compliance_redact_detector_parse(const u_char *name, size_t len);

/* The name of a single detector bit, NULL if it is not one. */
const char *compliance_redact_detector_name(unsigned bit);

/*
 * detector_mask: COMPLIANCE_REDACT_* bits (unknown bits are refused).
 * Returns NULL with a message in err on failure.
 */
compliance_redact_t *compliance_redact_create(unsigned detector_mask,
    char *err, size_t errlen);

/*
 * Adds an operator pattern (compliance_redact_pattern name regex).  The
 * regex is compiled in byte mode (not UTF) and JIT-compiled when the
 * platform allows.  A bad regex, an error message names the offset; a
 * bad or duplicate name and a pattern that can match the empty string
 * are refused too.  Returns 0, or -1 with a message in err.
 */
int compliance_redact_add_pattern(compliance_redact_t *r, const char *name,
    const u_char *re, size_t len, char *err, size_t errlen);

void compliance_redact_free(compliance_redact_t *r);

/*
 * 1 if at least one detector or pattern matches in, else 0.  It stops
 * at the first match, so a clean input costs one scan and nothing else.
 */
int compliance_redact_needed(const compliance_redact_t *r, const u_char *in,
    size_t len);

/*
 * The EXACT length of the redacted output (it may be longer than len:
 * a short secret becomes a longer tag).
 */
size_t compliance_redact_len(const compliance_redact_t *r, const u_char *in,
    size_t len);

/*
 * Writes the redacted form of in to out and returns the number of bytes
 * written.  It never writes more than size bytes: with size below
 * compliance_redact_len() the output is cut short, but it never holds a
 * matched byte.
 */
size_t compliance_redact_apply(const compliance_redact_t *r,
    const u_char *in, size_t len, u_char *out, size_t size);


/*
 * The matches one at a time, for callers that write their own
 * replacement (the response filter keeps a card's last four digits):
 * first call with pos 0, then with pos = the previous *end.  Returns 1
 * with the span and the detector's bit (0 for an operator pattern), 0
 * when there is no more.  The spans are those compliance_redact_apply()
 * replaces.
 */
int compliance_redact_span(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t pos, size_t *start, size_t *end, unsigned *bit);

/*
 * joins[c] = 1 for every byte that a match of r's built-in detectors can
 * hold or that its scanners look at around a match (digits, separators,
 * %XX, ...).  A byte with joins[c] == 0 separates: no match spans it and
 * no scanner reads across it, so text cut just after such a byte
 * redacts, in two calls, exactly as it does in one.  With an operator
 * pattern every byte joins.  compliance_redact_stream.c cuts there.
 */
void compliance_redact_joins(const compliance_redact_t *r, u_char joins[256]);


#endif /* _COMPLIANCE_REDACT_H_INCLUDED_ */
