/*
 * A bounded JSON parser that builds a compact tree in a caller-provided
 * arena, for request bodies (untrusted) and schema files.  No nginx
 * headers, no global allocation: every byte comes from the arena, which
 * takes memory from a fixed buffer and then, if given one, from the
 * caller's allocator (the module passes r->pool).
 *
 * What the parser refuses (RFC 8259 strictly, plus):
 *   - bytes that are not well-formed UTF-8 (RFC 3629: no overlong form,
 *     no surrogate, nothing above U+10FFFF), a lone surrogate in a \u
 *     escape, a byte order mark, a control character in a string;
 *   - a duplicate member name in an object (names compared after
 *     unescaping, so "a" and "\u0061" are the same name);
 *   - nesting deeper than max_depth arrays and objects;
 *   - a number whose decimal exponent, once normalised, lies beyond
 *     +-COMPLIANCE_JTREE_EXP_MAX (1e999999 is fine, 1e99999999999 not).
 *
 * Numbers are kept exactly, as decimal significand digits and an
 * exponent: 1e999999, 18446744073709551616 and 0.1 compare, test for
 * integer and divide (multipleOf) without rounding.
 */

#ifndef _COMPLIANCE_JTREE_H_INCLUDED_
#define _COMPLIANCE_JTREE_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/* SPEC section 11: a body nested deeper than 64 is malformed */
#define COMPLIANCE_JTREE_MAX_DEPTH   64

/* |normalised decimal exponent| above this: COMPLIANCE_JTREE_ERANGE */
#define COMPLIANCE_JTREE_EXP_MAX     1000000000

/* objects with more members than this carry a name-sorted index */
#define COMPLIANCE_JTREE_SORT_MIN    8

#define COMPLIANCE_JTREE_OK          0
#define COMPLIANCE_JTREE_ESYNTAX    -1
#define COMPLIANCE_JTREE_EUTF8      -2
#define COMPLIANCE_JTREE_ESURROGATE -3
#define COMPLIANCE_JTREE_EDUPKEY    -4
#define COMPLIANCE_JTREE_EDEPTH     -5
#define COMPLIANCE_JTREE_ERANGE     -6
#define COMPLIANCE_JTREE_ENOMEM     -7


typedef enum {
    COMPLIANCE_JNULL = 0,
    COMPLIANCE_JFALSE,
    COMPLIANCE_JTRUE,
    COMPLIANCE_JNUMBER,
    COMPLIANCE_JSTRING,
    COMPLIANCE_JARRAY,
    COMPLIANCE_JOBJECT
} compliance_jtype_e;


typedef void *(*compliance_arena_alloc_pt)(void *data, size_t size);

typedef struct {
    u_char                     *pos;
    u_char                     *end;
    compliance_arena_alloc_pt   alloc;
    void                       *data;
    size_t                      limit;   /* bytes alloc may give, 0: any */
    size_t                      taken;   /* bytes alloc has given */
} compliance_arena_t;


typedef struct compliance_jnode_s  compliance_jnode_t;

/*
 * A value.  Members of an object and elements of an array are linked by
 * next in document order; a member's name is key/key_len (unescaped,
 * NUL-free is not guaranteed: "\u0000" is a legal name).  Strings and
 * names without escapes point into the parsed text, which must outlive
 * the tree.
 *
 * A number is (neg) 0.D x 10^exp where D = digits[0..ndigits) are ASCII
 * digits with no leading and no trailing zero; zero has ndigits == 0
 * and neg == 0 (so -0 == 0).
 */
struct compliance_jnode_s {
    compliance_jnode_t   *next;
    const u_char         *key;
    size_t                key_len;

    union {
        struct {
            const u_char  *data;
            size_t         len;
        } str;

        struct {
            const u_char  *digits;
            size_t         ndigits;
            int64_t        exp;
        } num;

        struct {
            compliance_jnode_t   *first;
            /* objects above SORT_MIN members: sorted by name, else NULL */
            compliance_jnode_t  **sorted;
            size_t                count;
        } kids;
    } u;

    uint8_t               type;
    uint8_t               neg;
};


/*
 * buf/size: the first block (may be NULL/0).  alloc/data: where more
 * blocks come from when it is full (NULL: nowhere), at most limit bytes
 * in all (0: no limit).  Blocks taken from alloc are never given back
 * here: the caller frees them (a pool does it at the end of a request).
 */
void compliance_arena_init(compliance_arena_t *a, void *buf, size_t size,
    compliance_arena_alloc_pt alloc, void *data, size_t limit);

/* size bytes aligned for any node, or NULL when the arena is exhausted */
void *compliance_arena_alloc(compliance_arena_t *a, size_t size);

/*
 * Parses exactly p[0..len) (whitespace around the value allowed) into a
 * tree.  On failure returns a COMPLIANCE_JTREE_E* code and the byte
 * offset of the problem in *off; the arena keeps what was allocated.
 */
int compliance_jtree_parse(const u_char *p, size_t len, unsigned max_depth,
    compliance_arena_t *a, compliance_jnode_t **root, size_t *off);

/* a short fixed text for a COMPLIANCE_JTREE_E* code */
const char *compliance_jtree_strerror(int rc);

/* the member named key, or NULL (binary search when the object is sorted) */
const compliance_jnode_t *compliance_jtree_get(const compliance_jnode_t *obj,
    const u_char *key, size_t len);

/*
 * A total order on JSON values: by type (null < false < true < number <
 * string < array < object), numbers by value, strings by bytes, arrays
 * element by element, objects by member count, then by their members
 * sorted by name (name, then value).  0 exactly when JSON Schema calls
 * the two values equal (1.0 == 1, member order ignored).
 */
int compliance_jtree_cmp(const compliance_jnode_t *a,
    const compliance_jnode_t *b);

/*
 * A 64-bit hash that agrees with compliance_jtree_cmp(): equal values
 * hash alike (member order ignored, 1.0 and 1 alike).
 */
uint64_t compliance_jtree_hash(const compliance_jnode_t *n);

/* numbers only: <0, 0, >0 */
int compliance_jnum_cmp(const compliance_jnode_t *a,
    const compliance_jnode_t *b);

/* 1 if the number has no fractional part (1.0 and 1e400 are integers) */
int compliance_jnum_is_integer(const compliance_jnode_t *n);

/*
 * 1 if the value of n is an integer multiple of the positive number d
 * whose significand is b (d = b x 10^e, b < 10^18 and not divisible by
 * 10, as compliance_jnum_small() gives), else 0.  Exact.
 */
int compliance_jnum_multiple_of(const compliance_jnode_t *n, uint64_t b,
    int64_t e);

/*
 * n = b x 10^e with b an integer of at most 18 digits: returns 0 and
 * sets b and e; -1 if the significand has more digits.
 */
int compliance_jnum_small(const compliance_jnode_t *n, uint64_t *b,
    int64_t *e);

/*
 * n rounded to a non-negative integer count, saturated at UINT64_MAX;
 * -1 if n is negative or not an integer.
 */
int compliance_jnum_count(const compliance_jnode_t *n, uint64_t *count);

/*
 * Writes a short decimal form of the number (NUL-terminated, at most
 * size - 1 bytes; long significands are cut to 17 digits in exponent
 * form).  For messages only.
 */
void compliance_jnum_format(const compliance_jnode_t *n, char *buf,
    size_t size);

/* the number of code points in well-formed UTF-8 */
size_t compliance_utf8_length(const u_char *p, size_t len);

/*
 * In-place heap sort of n pointers by cmp (no allocation, no
 * recursion): the ordering the tree and the schema code need without
 * qsort(), which may call malloc().
 */
void compliance_jtree_sort(void **base, size_t n,
    int (*cmp)(const void *a, const void *b, void *data), void *data);


#endif /* _COMPLIANCE_JTREE_H_INCLUDED_ */
