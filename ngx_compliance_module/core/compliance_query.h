/*
 * Query-string hygiene: does a query string carry a credential (SPEC 5)?
 */

#ifndef _COMPLIANCE_QUERY_H_INCLUDED_
#define _COMPLIANCE_QUERY_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/*
 * Returns 1 when the query string (without the leading '?') has a
 * parameter named api_key, apikey or access_token (any case, "-" for "_",
 * "x[api_key]" forms, percent encoding undone), or any parameter whose
 * value is a JWT or an API key (with blanks or a "Bearer " prefix around
 * it); 0 otherwise.  Parameters are separated by '&' or ';'.  Other
 * secret names (token, key, ...) are not refused here: the redaction
 * detectors cover them.  Shapes and names: compliance_token.h.
 */
int compliance_query_has_credential(const u_char *args, size_t len);


#endif /* _COMPLIANCE_QUERY_H_INCLUDED_ */
