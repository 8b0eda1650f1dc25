/*
 * Query-string hygiene: does a query string carry a credential (SPEC 5)?
 */

#ifndef _COMPLIANCE_QUERY_H_INCLUDED_
#define _COMPLIANCE_QUERY_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/*
 * Returns 1 when the query string (without the leading '?') has a
 * parameter named api_key, apikey or access_token (any case, percent
 * encoding undone), or any parameter whose value is a JWT or a ck_ API
 * key; 0 otherwise.  Other secret-looking names (token, key, ...) are
 * not refused here: the redaction detectors cover them.
 */
int compliance_query_has_credential(const u_char *args, size_t len);

/* The shape tests, shared with tests and tools. */
int compliance_query_is_jwt(const u_char *p, size_t len);
int compliance_query_is_api_key(const u_char *p, size_t len);


#endif /* _COMPLIANCE_QUERY_H_INCLUDED_ */
