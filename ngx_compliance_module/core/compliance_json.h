/*
 * JSON string escaping for records built by hand in two passes
 * (length, then write).  No nginx headers: shared with the CLIs.
 */

#ifndef _COMPLIANCE_JSON_H_INCLUDED_
#define _COMPLIANCE_JSON_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/*
 * Exact number of bytes compliance_json_escape() writes for s: the body
 * of a JSON string, without the surrounding quotes.
 */
size_t compliance_json_escape_len(const u_char *s, size_t len);

/*
 * Writes the escaped form of s to dst and returns the end pointer.
 * '"', '\\' and every byte below 0x20 are escaped (short forms \b \f \n
 * \r \t, else \u00XX), 0x7f becomes \u007f, well-formed UTF-8 passes
 * through, and every byte that is not part of a well-formed UTF-8
 * sequence (stray continuation, bad lead, truncated, overlong,
 * surrogate, above U+10FFFF) becomes \ufffd.  The output is therefore
 * valid UTF-8 JSON whatever bytes a client sent.
 */
u_char *compliance_json_escape(u_char *dst, const u_char *s, size_t len);


#endif /* _COMPLIANCE_JSON_H_INCLUDED_ */
