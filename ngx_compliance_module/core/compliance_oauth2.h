/*
 * The answer of an OAuth2 token endpoint (RFC 6749 5.1), as
 * compliance_upstream_oauth2 reads it (SPEC 16).  No nginx headers.
 */

#ifndef _COMPLIANCE_OAUTH2_H_INCLUDED_
#define _COMPLIANCE_OAUTH2_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include "compliance_json.h"


/* the longest answer read, and so the longest token */
#define COMPLIANCE_OAUTH2_MAX_ANSWER    COMPLIANCE_JSON_READ_MAX

/* the lifetime of a token whose answer has no expires_in (D96) */
#define COMPLIANCE_OAUTH2_DEFAULT_LIFE  300

/* the longest expires_in taken: a year */
#define COMPLIANCE_OAUTH2_MAX_LIFE      (366 * 86400)


/*
 * Reads text (len bytes, changed: it is unescaped in place) as the JSON
 * object of a successful token answer: "access_token" a non-empty
 * string of RFC 6750 b64token characters, "token_type", when present,
 * "Bearer" in any case, "expires_in", when present, an integer (or a
 * string of at most 9 digits) from 1 to COMPLIANCE_OAUTH2_MAX_LIFE.
 * Returns 0 with the token inside text and its lifetime in seconds
 * (COMPLIANCE_OAUTH2_DEFAULT_LIFE without expires_in); else -1 and *err
 * a fixed message that quotes nothing of the answer.  Allocates only
 * the member table (malloc), freed before it returns.
 */
int compliance_oauth2_answer_read(u_char *text, size_t len, u_char **token,
    size_t *token_len, long *life, const char **err);

/* 1 when p is an RFC 6750 b64token: 1*( ALPHA DIGIT -._~+/ ) *"=" */
int compliance_oauth2_b64token(const u_char *p, size_t len);


#endif /* _COMPLIANCE_OAUTH2_H_INCLUDED_ */
