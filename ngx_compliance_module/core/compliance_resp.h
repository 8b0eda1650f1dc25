/*
 * A RESP2 (Redis serialization protocol) command encoder and reply
 * parser for the fleet-wide limits (SPEC 15).  The parser is
 * incremental in the simplest way: it is handed the bytes received so
 * far from the start of a reply and says "again" until they hold a
 * whole one; replies are bounded (a flat array of scalars at most), so
 * re-reading a prefix costs little.  Nothing is allocated: strings in a
 * reply point into the caller's buffer.
 */

#ifndef _COMPLIANCE_RESP_H_INCLUDED_
#define _COMPLIANCE_RESP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define COMPLIANCE_RESP_OK        0
#define COMPLIANCE_RESP_AGAIN     1    /* a prefix of a reply: read more */
#define COMPLIANCE_RESP_ERROR    -1    /* malformed, or beyond the bounds */

/* the bounds: what no reply we ask for comes near */
#define COMPLIANCE_RESP_MAX_ELTS  16   /* array elements */
#define COMPLIANCE_RESP_MAX_LINE  1024 /* a status, error or integer line */
#define COMPLIANCE_RESP_MAX_BULK  4096 /* a bulk string */

#define COMPLIANCE_RESP_STATUS    1    /* +OK */
#define COMPLIANCE_RESP_ERR       2    /* -ERR ... */
#define COMPLIANCE_RESP_INTEGER   3    /* :1 */
#define COMPLIANCE_RESP_BULK      4    /* $3 abc */
#define COMPLIANCE_RESP_NIL       5    /* $-1 or *-1 */
#define COMPLIANCE_RESP_ARRAY     6    /* *2 ... of scalars */


typedef struct {
    int                   type;
    int64_t               integer;  /* INTEGER; ARRAY: element count */
    const unsigned char  *str;      /* STATUS, ERR, BULK: into the input */
    size_t                len;
} compliance_resp_value_t;


typedef struct {
    compliance_resp_value_t  value;
    size_t                   n;     /* elements of an ARRAY */
    compliance_resp_value_t  elts[COMPLIANCE_RESP_MAX_ELTS];
} compliance_resp_reply_t;


/*
 * One reply from p[0..len): COMPLIANCE_RESP_OK with *used bytes taken,
 * COMPLIANCE_RESP_AGAIN when the bytes are a proper prefix of a reply
 * within the bounds, COMPLIANCE_RESP_ERROR otherwise (nested arrays
 * included: none of our commands gets one).
 */
int compliance_resp_parse(const unsigned char *p, size_t len,
    compliance_resp_reply_t *reply, size_t *used);

/* The bytes of a command as an array of bulk strings. */
size_t compliance_resp_command_len(size_t argc,
    const unsigned char *const *argv, const size_t *lens);

/* Writes it at out (command_len bytes); returns the end. */
unsigned char *compliance_resp_command(unsigned char *out, size_t argc,
    const unsigned char *const *argv, const size_t *lens);

/* "1" for an ERR reply that starts with the given code ("NOSCRIPT"). */
int compliance_resp_error_is(const compliance_resp_value_t *v,
    const char *code);


#endif /* _COMPLIANCE_RESP_H_INCLUDED_ */
