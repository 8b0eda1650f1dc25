/*
 * The JSON Schema "format" values the validator asserts (SPEC section
 * 11): exact, allocation-free checks of a byte string.  Each returns 1
 * when s[0..len) has the form, else 0.  No nginx headers.
 */

#ifndef _COMPLIANCE_FORMAT_H_INCLUDED_
#define _COMPLIANCE_FORMAT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/*
 * RFC 3339 full-date "YYYY-MM-DD": month 01-12, a day that exists in
 * that month (29 February in leap years only).
 */
int compliance_format_date(const u_char *s, size_t len);

/*
 * RFC 3339 date-time: full-date "T" HH:MM:SS[.fraction] then "Z" or
 * +-HH:MM ("T" and "Z" in either case).  Second 60 only where a leap
 * second can be: 23:59:60 once the offset is taken away.
 */
int compliance_format_date_time(const u_char *s, size_t len);

/*
 * RFC 5321 mailbox, ASCII: a dot-atom or quoted-string local part of
 * at most 64 bytes, "@", then a host name (letters, digits and inner
 * hyphens, labels of 1 to 63, at most 253 bytes) or an address literal
 * "[a.b.c.d]" / "[IPv6:...]".  No comments, no folding white space.
 */
int compliance_format_email(const u_char *s, size_t len);

/* dotted quad, each part 0-255 in decimal without a leading zero */
int compliance_format_ipv4(const u_char *s, size_t len);

/*
 * RFC 4291 section 2.2 text forms: eight groups of 1 to 4 hex digits,
 * one "::" for a run of zero groups, an optional dotted-quad tail.  No
 * zone index, no brackets, no prefix length.
 */
int compliance_format_ipv6(const u_char *s, size_t len);

/*
 * RFC 4122 string form: 8-4-4-4-12 hex digits in either case; any
 * version and variant.
 */
int compliance_format_uuid(const u_char *s, size_t len);


#endif /* _COMPLIANCE_FORMAT_H_INCLUDED_ */
