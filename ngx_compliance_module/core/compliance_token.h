/*
 * Credential shapes: the one place that knows what an API key, a JWT and
 * an auth-scheme prefix look like, which query parameter names carry
 * secrets, and how to read text through percent-encoding.  The query
 * scanner (credentials in URLs are refused), the redactor (credentials
 * in logs are masked) and the API-key parser all use it, so a shape the
 * one recognises the others recognise too.
 *
 * The detectors read raw text: a %XX (and a doubly encoded %25XX) stands
 * for the byte it encodes, so encoding cannot hide a credential.  They
 * recognise tokens by what they decode to, not by their first bytes: a
 * JWT is three base64url segments whose first decodes to a JSON object,
 * whatever whitespace its header starts with.
 */

#ifndef _COMPLIANCE_TOKEN_H_INCLUDED_
#define _COMPLIANCE_TOKEN_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/* an API key: "ck_" <12 of [a-z2-7]> "_" <43 of base64url> */
#define COMPLIANCE_TOKEN_KEY_PREFIX       "ck_"
#define COMPLIANCE_TOKEN_KEY_ID_LEN       12
#define COMPLIANCE_TOKEN_KEY_SECRET_TEXT  43
#define COMPLIANCE_TOKEN_KEY_LEN                                             \
    (3 + COMPLIANCE_TOKEN_KEY_ID_LEN + 1 + COMPLIANCE_TOKEN_KEY_SECRET_TEXT)

/* compliance_token_api_key() flags */
#define COMPLIANCE_TOKEN_EXACT      0x01    /* as issued: no %XX, no case */

/* compliance_token_param() kinds */
#define COMPLIANCE_TOKEN_PARAM_NONE        0
#define COMPLIANCE_TOKEN_PARAM_SECRET      1    /* password, token, ... */
#define COMPLIANCE_TOKEN_PARAM_CREDENTIAL  2    /* api_key, access_token */
#define COMPLIANCE_TOKEN_PARAM_SSN         3


/* base64url digit values, -1 for anything else */
extern const signed char  compliance_token_b64_value[256];

#if defined(__GNUC__)
#define COMPLIANCE_TOKEN_INLINE  static inline __attribute__((always_inline))
#else
#define COMPLIANCE_TOKEN_INLINE  static inline
#endif


/*
 * compliance_token_hex(): -1 unless c is a hex digit.
 * compliance_token_b64url(): 1 for A-Z a-z 0-9 - _.
 * compliance_token_getc(): the byte at i as the detectors see it (*n raw
 * bytes long: 1, 3 for %XX, 5 for %25XX).
 * compliance_token_getc_back(): the one ending just before i, never
 * below floor (-1 there, *n = 0).
 * Inline: the scanners call them for every byte they look at.
 */

COMPLIANCE_TOKEN_INLINE int
compliance_token_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


COMPLIANCE_TOKEN_INLINE int
compliance_token_b64url(int c)
{
    return c >= 0 && c < 256 && compliance_token_b64_value[c] >= 0;
}


COMPLIANCE_TOKEN_INLINE int
compliance_token_getc(const u_char *in, size_t len, size_t i, size_t *n)
{
    int  hi, lo, c;

    if (in[i] == '%' && len - i > 2) {
        hi = compliance_token_hex(in[i + 1]);
        lo = compliance_token_hex(in[i + 2]);

        if (hi >= 0 && lo >= 0) {
            c = hi << 4 | lo;

            /* encoded twice: "%252D" is a '-' to whoever decodes twice */
            if (c == '%' && len - i > 4) {
                hi = compliance_token_hex(in[i + 3]);
                lo = compliance_token_hex(in[i + 4]);

                if (hi >= 0 && lo >= 0) {
                    *n = 5;
                    return hi << 4 | lo;
                }
            }

            *n = 3;
            return c;
        }
    }

    *n = 1;
    return in[i];
}


COMPLIANCE_TOKEN_INLINE int
compliance_token_getc_back(const u_char *in, size_t floor, size_t i,
    size_t *n)
{
    int  hi, lo;

    if (i <= floor) {
        *n = 0;
        return -1;
    }

    if (i - floor >= 5 && in[i - 5] == '%' && in[i - 4] == '2'
        && in[i - 3] == '5')
    {
        hi = compliance_token_hex(in[i - 2]);
        lo = compliance_token_hex(in[i - 1]);

        if (hi >= 0 && lo >= 0) {
            *n = 5;
            return hi << 4 | lo;
        }
    }

    if (i - floor >= 3 && in[i - 3] == '%') {
        hi = compliance_token_hex(in[i - 2]);
        lo = compliance_token_hex(in[i - 1]);

        if (hi >= 0 && lo >= 0) {
            *n = 3;
            return hi << 4 | lo;
        }
    }

    *n = 1;
    return in[i - 1];
}

/*
 * Shapes starting at i; each returns the end of the token, or 0.  They do
 * not look before i: a caller scanning text checks that the token is not
 * the tail of a longer word.
 *
 * compliance_token_api_key(): the prefix and the id are matched in any
 * case (a key typed in capitals still discloses its secret) unless
 * COMPLIANCE_TOKEN_EXACT is given; a base64url character after the key
 * makes it no key.
 *
 * compliance_token_jwt(): a JWS or JWE in compact form.
 *
 * compliance_token_scheme(): "Bearer" or "ApiKey" (any case) and the
 * blanks after it (space, tab, a '+' in a query string, encoded or not);
 * the end is where the credential starts.
 */
size_t compliance_token_api_key(const u_char *in, size_t len, size_t i,
    unsigned flags);
size_t compliance_token_jwt(const u_char *in, size_t len, size_t i);
size_t compliance_token_scheme(const u_char *in, size_t len, size_t i);

/*
 * A query parameter starting at i (just after '?', '&', ';' or at the
 * start of the input): the kind of its name, and in *value the start of
 * its value (after a raw '='; for a name without one, where the name
 * ends, so the value is empty).  Names are matched in any case, "-" for
 * "_", and framework spellings count by their last part: "password[]",
 * "user[password]", "user.password".
 */
int compliance_token_param(const u_char *in, size_t len, size_t i,
    size_t *value);

/*
 * The cache slot of a credential that verified (the JWT and API-key
 * caches): a mix of its last 16 bytes keyed by a secret seed, so honest
 * credentials spread and nobody can aim many at one slot.  A hit is
 * decided by comparing the whole text, never by this value.
 */
uint64_t compliance_token_slot(const u_char *p, size_t len,
    const uint64_t seed[2]);

/*
 * 1 when the len bytes at a and b are equal, in time that depends on len
 * only (every byte is read, no early exit): how a cache hit compares the
 * credential it holds, 8 bytes a step where CRYPTO_memcmp() takes one.
 */
int compliance_token_equal(const u_char *a, const u_char *b, size_t len);

/*
 * 1 when p is one RFC 6749 3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ),
 * printable ASCII without space, '"' and '\\'.  The one predicate for
 * compliance_require_scope at config time and for the scopes a token
 * carries, so a scope the config accepts can match.
 */
int compliance_token_scope_valid(const u_char *p, size_t len);

/*
 * 1 when a whole parameter value (raw, as in the query string) is a
 * credential: a JWT or an API key, with blanks around it and an optional
 * auth-scheme prefix.
 */
int compliance_token_is_credential(const u_char *in, size_t len);


#endif /* _COMPLIANCE_TOKEN_H_INCLUDED_ */
