/*
 * Streaming redaction of a response body (SPEC 12,
 * compliance_redact_response).  No nginx headers.
 *
 * The body arrives in buffers of any size, cut anywhere: a card number
 * may start in one and end in the next.  The stream reuses the
 * detectors of compliance_redact.c (the same object, created with
 * COMPLIANCE_REDACT_TEXT) and cuts the text only just after a byte that
 * separates (compliance_redact_joins()): everything up to the last such
 * byte of a buffer is redacted at once, the rest is held back and
 * redacted with what follows.  So the output is the same for any split
 * of the input, byte for byte, as for the whole body in one buffer.
 *
 * Replacements: "[REDACTED:pan:<last four digits>]" for a card number,
 * "[REDACTED:<name>]" for the other detectors.
 *
 * Memory: the held-back text comes from the caller's allocator (nginx:
 * the request pool) and never exceeds "max", the most body bytes the
 * stream accepts in all; a longer body is refused
 * (COMPLIANCE_REDACT_STREAM_TOO_LARGE) without reading past max.
 */

#ifndef _COMPLIANCE_REDACT_STREAM_H_INCLUDED_
#define _COMPLIANCE_REDACT_STREAM_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include "compliance_redact.h"


#define COMPLIANCE_REDACT_STREAM_OK         0
#define COMPLIANCE_REDACT_STREAM_ERROR     -1   /* alloc or emit failed */
#define COMPLIANCE_REDACT_STREAM_TOO_LARGE -2   /* more than max bytes */

/* "[REDACTED:pan:1234]" */
#define COMPLIANCE_REDACT_STREAM_PAN_TAG_LEN  19


/* output: 0, or -1 to stop the stream (it returns ..._ERROR) */
typedef int (*compliance_redact_stream_emit_pt)(void *data, const u_char *p,
    size_t len);
typedef void *(*compliance_redact_stream_alloc_pt)(void *data, size_t size);
typedef void (*compliance_redact_stream_free_pt)(void *data, void *p);


/* what the stream needs from its user: set once, read only */
typedef struct {
    const compliance_redact_t          *redact;
    u_char                              joins[256];
    compliance_redact_stream_emit_pt    emit;
    compliance_redact_stream_alloc_pt   alloc;
    compliance_redact_stream_free_pt    free;     /* may be NULL */
} compliance_redact_stream_conf_t;


typedef struct {
    const compliance_redact_stream_conf_t  *conf;
    void                               *data;     /* for the callbacks */
    u_char                             *hold;     /* the held-back text */
    size_t                              hold_len;
    size_t                              hold_size;
    size_t                              total;    /* bytes fed */
    size_t                              max;
    size_t                              matches;  /* replaced so far */
    int                                 failed;
} compliance_redact_stream_t;


/*
 * Fills conf for the redact object r (created with COMPLIANCE_REDACT_TEXT
 * and without operator patterns, or nothing would ever be cut).  Config
 * time: one conf serves every stream.
 */
void compliance_redact_stream_conf(compliance_redact_stream_conf_t *conf,
    const compliance_redact_t *r, compliance_redact_stream_emit_pt emit,
    compliance_redact_stream_alloc_pt alloc,
    compliance_redact_stream_free_pt free);

void compliance_redact_stream_init(compliance_redact_stream_t *s,
    const compliance_redact_stream_conf_t *conf, void *data, size_t max);

/*
 * The next len bytes of the body: emits what can be redacted now (maybe
 * nothing) and holds the rest.  After an error every call fails.
 */
int compliance_redact_stream_feed(compliance_redact_stream_t *s,
    const u_char *in, size_t len);

/* the end of the body: emits what was held back */
int compliance_redact_stream_finish(compliance_redact_stream_t *s);

/* the held-back text is wiped and given back */
void compliance_redact_stream_free(compliance_redact_stream_t *s);


#endif /* _COMPLIANCE_REDACT_STREAM_H_INCLUDED_ */
