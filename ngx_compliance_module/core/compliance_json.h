/*
 * JSON string escaping for records built by hand in two passes (length,
 * then write), and a strict reader of one JSON object that allocates
 * nothing.  No nginx headers: shared with the CLIs.
 */

#ifndef _COMPLIANCE_JSON_H_INCLUDED_
#define _COMPLIANCE_JSON_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


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



/* --- reading */

/* Longest text compliance_json_read() reads: its offsets are 16 bits. */
#define COMPLIANCE_JSON_READ_MAX    8192

/* Deepest nesting compliance_json_read() can be asked to allow. */
#define COMPLIANCE_JSON_DEPTH_MAX   32


/* Value types; 0 is "no such member". */
enum {
    COMPLIANCE_JSON_STRING = 1,
    COMPLIANCE_JSON_INTEGER,
    COMPLIANCE_JSON_REAL,
    COMPLIANCE_JSON_TRUE,
    COMPLIANCE_JSON_FALSE,
    COMPLIANCE_JSON_NULL,
    COMPLIANCE_JSON_OBJECT,
    COMPLIANCE_JSON_ARRAY
};


/*
 * One top-level member of an object read by compliance_json_read(), as
 * offsets into its text.  The name is unescaped in place; so is a string
 * value, whose text is the value_len bytes at value + 1 (text[value] is
 * still its opening quote).  Any other value is value_len bytes at value
 * as written.
 */
typedef struct {
    uint16_t  name;
    uint16_t  name_len;
    uint16_t  value;
    uint16_t  value_len;
} compliance_json_member_t;


/* The elements of an array value, read with compliance_json_next(). */
typedef struct {
    const u_char  *p;
    const u_char  *end;
} compliance_json_array_t;


/*
 * Reads text as one JSON object (RFC 8259; whitespace around it only)
 * the way jansson's json_loadb() with JSON_REJECT_DUPLICATES, followed
 * by an object check, accepts it: well-formed UTF-8 only (no overlongs,
 * no surrogates), no control character in a string, escapes only as
 * RFC 8259 spells them, \u surrogates only in pairs, no \u0000, no two
 * members of one object with the same (unescaped) name at any depth,
 * integers within a long long, reals that do not overflow a double, and,
 * as jansson's lexer does, one NUL byte right after a number or a
 * literal skipped (any other NUL is refused).  Objects and arrays nest
 * at most max_depth deep (the object itself is 1).  Numbers are read by
 * strtod() in the "C" locale's LC_NUMERIC, which neither nginx nor the
 * CLIs change.
 *
 * On success the top-level members are in m[0 .. *n) (cap must be at
 * least len / 6 + 1, which no object of len bytes can exceed), names and
 * string values are unescaped in place, and 0 is returned; else -1 and
 * the text may be changed.  Allocates nothing; uses about 17 KiB of
 * stack.
 */
int compliance_json_read(u_char *text, size_t len, size_t max_depth,
    compliance_json_member_t *m, size_t cap, size_t *n);

/* The member called name (exact bytes), NULL when there is none. */
const compliance_json_member_t *compliance_json_find(const u_char *text,
    const compliance_json_member_t *m, size_t n, const u_char *name,
    size_t len);

/* COMPLIANCE_JSON_* type of a member's value; 0 for m == NULL. */
int compliance_json_type(const u_char *text,
    const compliance_json_member_t *m);

/* Value of an INTEGER value as read (p, len: its text). */
long long compliance_json_integer(const u_char *p, size_t len);

/* Value of a REAL value as read; p is its text, inside the object. */
double compliance_json_real(const u_char *p);

/* Starts reading the elements of an ARRAY member. */
void compliance_json_array(compliance_json_array_t *a, const u_char *text,
    const compliance_json_member_t *m);

/*
 * The next element: its type, and its text in *p, *len (for a string the
 * body between the quotes, escapes as written).  Returns 0 after the
 * last element.
 */
int compliance_json_next(compliance_json_array_t *a, const u_char **p,
    size_t *len);

/* 1 when the string body raw (escapes as written) unescapes to s. */
int compliance_json_str_eq(const u_char *raw, size_t rlen, const u_char *s,
    size_t slen);

/*
 * Unescapes the body of a string that compliance_json_read() accepted
 * into dst, which may be raw itself; returns the length written (never
 * more than rlen).
 */
size_t compliance_json_unescape(u_char *dst, const u_char *raw,
    size_t rlen);


#endif /* _COMPLIANCE_JSON_H_INCLUDED_ */
