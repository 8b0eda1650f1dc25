/*
 * JSON Schema draft-07: a compiler (config time) and a validator (per
 * request) for the keywords of SPEC section 11.  No nginx headers.
 *
 * compliance_schema_compile() parses the schema text with the bounded
 * parser of compliance_jtree.h, checks every keyword, compiles every
 * "pattern" and patternProperties name with PCRE2 (JIT when the platform
 * allows) and turns every "$ref" into a pointer into the compiled tree.
 * It refuses, naming the file and the JSON pointer of the keyword:
 *   - an unknown or unsupported keyword, a format outside uuid email
 *     date-time date ipv4 ipv6, a keyword value of the wrong type;
 *   - a "$ref" that is not a local "#" / "#/..." JSON pointer, or does
 *     not lead to a schema;
 *   - "$id" or "$schema" below the root, a "$schema" other than
 *     draft-07;
 *   - a regex PCRE2 does not compile;
 *   - "multipleOf" with more than 18 significant digits;
 *   - a cycle of "$ref" (through allOf, anyOf, oneOf, not, if, then,
 *     else) that would evaluate forever at one place in the instance.
 * Keywords draft-07 defines as having no effect (siblings of "$ref",
 * "then"/"else" without "if", "if" alone, "additionalItems" unless
 * "items" is an array) are accepted, as the draft says, and each gives
 * a warning the caller should log.
 *
 * compliance_schema_validate() checks a tree from compliance_jtree_parse().
 * It allocates only from the caller's arena (error pointers, scratch for
 * uniqueItems), collects at most COMPLIANCE_SCHEMA_MAX_ERRORS errors and
 * never copies an instance value into a message.  Its work is bounded:
 * COMPLIANCE_SCHEMA_MAX_STEPS evaluations unless the caller gives
 * another budget, COMPLIANCE_SCHEMA_MAX_EVAL_DEPTH nested evaluations,
 * and the PCRE2 match limits below per regex match.  Hitting any of
 * them stops validation as a failure ("aborted"): a limit never makes a
 * "not" pass.
 *
 * A compiled schema holds the PCRE2 match data its validations share:
 * validation is NOT thread-safe (one schema per nginx worker process).
 */

#ifndef _COMPLIANCE_SCHEMA_H_INCLUDED_
#define _COMPLIANCE_SCHEMA_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include "compliance_jtree.h"


/* SPEC section 11: at most 20 errors in a 422 */
#define COMPLIANCE_SCHEMA_MAX_ERRORS       20
#define COMPLIANCE_SCHEMA_MESSAGE_MAX      96

/* nesting allowed in a schema file (request bodies: 64) */
#define COMPLIANCE_SCHEMA_DOC_DEPTH        128

/* default budget of subschema evaluations per validation */
#define COMPLIANCE_SCHEMA_MAX_STEPS        1000000
/* nested evaluations (instance depth times schema indirection) */
#define COMPLIANCE_SCHEMA_MAX_EVAL_DEPTH   512
/* instance locations deeper than this abort (parse with max_depth <= 128) */
#define COMPLIANCE_SCHEMA_PATH_MAX         130

/* PCRE2 limits of one match of "pattern" or a patternProperties name */
#define COMPLIANCE_SCHEMA_MATCH_LIMIT      100000
#define COMPLIANCE_SCHEMA_DEPTH_LIMIT      10000
/*
 * JIT stack of a schema: a repeated group such as "(a|b)*" takes about
 * 32 bytes an iteration, so about 30,000 iterations fit
 */
#define COMPLIANCE_SCHEMA_JIT_STACK        (1024 * 1024)

#define COMPLIANCE_SCHEMA_MAX_WARNINGS     16

#define COMPLIANCE_SCHEMA_VALID            0
#define COMPLIANCE_SCHEMA_INVALID          1
#define COMPLIANCE_SCHEMA_ENOMEM          -1


/* instance types, as compliance_schema_property_types() reports them */
#define COMPLIANCE_SCHEMA_TYPE_NULL        0x01
#define COMPLIANCE_SCHEMA_TYPE_BOOLEAN     0x02
#define COMPLIANCE_SCHEMA_TYPE_OBJECT      0x04
#define COMPLIANCE_SCHEMA_TYPE_ARRAY       0x08
#define COMPLIANCE_SCHEMA_TYPE_NUMBER      0x10
#define COMPLIANCE_SCHEMA_TYPE_STRING      0x20
#define COMPLIANCE_SCHEMA_TYPE_INTEGER     0x40


typedef struct compliance_schema_s  compliance_schema_t;


typedef struct {
    /*
     * RFC 6901 pointer into the instance ("" is the whole document,
     * "/items/0/qty"), allocated in the arena.  For "required" it is
     * where the missing member would be.  A member name may hold any
     * byte, "\u0000" too, so the pointer is pointer_len bytes (a NUL
     * follows them for printing, but is not its end).
     */
    const char   *pointer;
    size_t        pointer_len;
    /* the keyword that failed ("minimum", "required", ...), static */
    const char   *keyword;
    /* fixed text, with only numbers and names taken from the schema */
    char          message[COMPLIANCE_SCHEMA_MESSAGE_MAX];
} compliance_schema_error_t;


typedef struct {
    size_t                      nerrors;
    /* 1: validation stopped after the table was full */
    unsigned                    more;
    /* 1: a limit stopped validation; the last error says which */
    unsigned                    aborted;
    compliance_schema_error_t   errors[COMPLIANCE_SCHEMA_MAX_ERRORS];
} compliance_schema_result_t;


/*
 * Compiles json_text[0..len).  file names the schema in messages.  On
 * failure returns NULL and writes "<file>: #/json/pointer: reason" (or
 * "<file>: invalid JSON at line L, column C: reason") to err.
 */
compliance_schema_t *compliance_schema_compile(const char *json_text,
    size_t len, const char *file, char *err, size_t errlen);

void compliance_schema_free(compliance_schema_t *s);

/* warnings of the compilation, "<file>: #/pointer: text" each */
size_t compliance_schema_nwarnings(const compliance_schema_t *s);
const char *compliance_schema_warning(const compliance_schema_t *s,
    size_t i);

/*
 * The types the root schema allows for its member name (its
 * "properties" entry, else "additionalProperties"), from that schema's
 * own "type" keyword after following "$ref"s: COMPLIANCE_SCHEMA_TYPE_*
 * bits, 0 when nothing says (no such schema, or no "type").  *items gets
 * the same for the schema's "items" when it is one schema (0 otherwise).
 * For building an instance from untyped text (query arguments, SPEC
 * 11) before validating it; the validation still checks everything.
 */
unsigned compliance_schema_property_types(const compliance_schema_t *s,
    const u_char *name, size_t len, unsigned *items);

/*
 * Validates instance.  With res NULL only the answer is computed (the
 * first failure stops).  max_steps 0 means COMPLIANCE_SCHEMA_MAX_STEPS.
 * Returns COMPLIANCE_SCHEMA_VALID, _INVALID (errors in res), or
 * _ENOMEM when the arena ran out (treat as a failure).
 */
int compliance_schema_validate(const compliance_schema_t *s,
    const compliance_jnode_t *instance, compliance_arena_t *arena,
    size_t max_steps, compliance_schema_result_t *res);


#endif /* _COMPLIANCE_SCHEMA_H_INCLUDED_ */
