/*
 * GraphQL executable documents (SPEC 11): a lexer and parser for the
 * executable grammar of the GraphQL specification (operations,
 * variables, selection sets, aliases, arguments, directives, fragments
 * and inline fragments, every value kind with block strings and
 * escapes) that measures what compliance_graphql limits.
 *
 * Bounded by construction: the scan is one pass over the bytes; it
 * stops at the first token past max_tokens; brackets of any kind nest
 * at most COMPLIANCE_GQL_MAX_NEST deep (the recursion of the parser is
 * capped there); the records it keeps (one per definition and per
 * fragment spread) come from the caller's arena, so memory is at most
 * proportional to max_tokens.  Fragment spreads are expanded for depth
 * and aliases by computing each fragment once (memoised, cycles
 * refused), never by copying: a document of 1,000 tokens that would
 * expand to 2^100 fields is measured in linear time, its alias count
 * saturating.
 *
 * No nginx headers, no global state; messages are fixed texts that
 * never hold a byte of the document, in printable ASCII without a quote
 * or a backslash (they go into JSON as they are).
 */

#ifndef _COMPLIANCE_GRAPHQL_H_INCLUDED_
#define _COMPLIANCE_GRAPHQL_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "compliance_jtree.h"


/* brackets ({ [ ( of selections, values and list types) nested deeper */
#define COMPLIANCE_GQL_MAX_NEST        128

#define COMPLIANCE_GQL_OK              0
#define COMPLIANCE_GQL_EINVALID       -1   /* 400 graphql_invalid */
#define COMPLIANCE_GQL_EDEPTH         -2   /* 422 graphql_too_complex */
#define COMPLIANCE_GQL_EALIASES       -3   /* 422 graphql_too_complex */
#define COMPLIANCE_GQL_ETOKENS        -4   /* 422 graphql_too_complex */
#define COMPLIANCE_GQL_ENEST          -5   /* 422 graphql_too_complex */
#define COMPLIANCE_GQL_EINTROSPECTION -6   /* 422 graphql_introspection */
#define COMPLIANCE_GQL_ENOMEM         -7   /* the arena is exhausted */


typedef struct {
    uint64_t     max_depth;      /* fields on the longest path */
    uint64_t     max_aliases;    /* aliased fields in one operation */
    uint64_t     max_tokens;     /* lexical tokens in the document */
    unsigned     introspection;  /* 0: __schema and __type refused */
} compliance_graphql_limits_t;


/*
 * What the check measured.  When it stops early (a limit passed while
 * parsing) the figures are those reached so far: at least the limit.
 *
 * depth: the most fields on one path from an operation's root, fragment
 * spreads expanded ({ a { b } } is 2; inline fragments and spreads add
 * nothing themselves); aliases: the fields written "alias: name", with
 * every spread counting its fragment's aliases again (saturating at
 * UINT64_MAX); both are the maximum over the document's definitions,
 * a fragment counting as if spread once at an operation's top (so an
 * unused fragment cannot hide what the parser has already refused).
 */
typedef struct {
    uint64_t      depth;
    uint64_t      aliases;
    uint64_t      tokens;
    uint32_t      operations;
    uint32_t      fragments;
    unsigned      introspection;  /* a __schema or __type field was seen */

    size_t        offset;         /* byte offset of the refusal */
    const char   *message;        /* fixed text; NULL when OK */
    const char   *limit;          /* "max_depth" ...; NULL unless a limit */
} compliance_graphql_result_t;


/*
 * Checks the document p[0..len) against the limits.  op/op_len: the
 * request's operationName (NULL: none); when given, the document must
 * define an operation of that name.  Every operation is measured, not
 * only the named one (a server that picks another cannot be led past a
 * limit).  Returns COMPLIANCE_GQL_OK or a COMPLIANCE_GQL_E* code, with
 * the figures, offset, message and limit in *res.
 *
 * Refused as invalid besides syntax: type-system definitions, an
 * anonymous operation beside others, two operations or two fragments of
 * one name, a spread of an undefined fragment, a fragment cycle (also
 * among fragments no operation uses), a variable in a constant (default
 * value, directive of a variable), a lone surrogate in a \u escape,
 * bytes that are not well-formed UTF-8.
 */
int compliance_graphql_check(const u_char *p, size_t len, const u_char *op,
    size_t op_len, const compliance_graphql_limits_t *limits,
    compliance_arena_t *arena, compliance_graphql_result_t *res);

/* a short fixed text for a COMPLIANCE_GQL_E* code */
const char *compliance_graphql_strerror(int rc);


#endif /* _COMPLIANCE_GRAPHQL_H_INCLUDED_ */
