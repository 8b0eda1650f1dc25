/*
 * base64url (RFC 4648 section 5) without padding, as used by JWS and by
 * the API key format.  Decoding is strict: one canonical text per value.
 */

#ifndef _COMPLIANCE_B64URL_H_INCLUDED_
#define _COMPLIANCE_B64URL_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


/* Characters produced by encoding n bytes (no padding, no NUL). */
#define compliance_b64url_encoded_len(n)                                     \
    (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Upper bound of the bytes decoded from n characters. */
#define compliance_b64url_decoded_len(n)                                     \
    (((n) / 4) * 3 + ((n) % 4 ? (n) % 4 - 1 : 0))


/*
 * Writes compliance_b64url_encoded_len(len) characters to dst (no NUL)
 * and returns that count.
 */
size_t compliance_b64url_encode(u_char *dst, const u_char *src, size_t len);

/*
 * Decodes len characters into dst, which must hold
 * compliance_b64url_decoded_len(len) bytes.  Refuses ('=' padding
 * included) any character outside the URL-safe alphabet, a length of
 * 4k+1, and non-zero unused bits in the last character.  Returns 0 and
 * the decoded size in *dlen, or -1; on failure dst may hold a partial
 * result, so callers decoding secrets wipe it either way.
 */
int compliance_b64url_decode(u_char *dst, size_t *dlen, const u_char *src,
    size_t len);


#endif /* _COMPLIANCE_B64URL_H_INCLUDED_ */
