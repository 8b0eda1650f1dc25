/*
 * Query arguments as a JSON instance for compliance_validate_query (SPEC
 * 11).  No nginx headers.
 *
 * The query string (without the "?") becomes an object: one member per
 * argument name, in name order.  Names and values are percent-decoded
 * ("+" is a space) and must then be well-formed UTF-8.  A value is a
 * string, converted first when the schema's property for the name says
 * (compliance_schema_property_types()):
 *   - integer or number: a value with JSON number syntax becomes that
 *     number ("12", "-1.5e3"; not " 12", "0x1f", "1.");
 *   - boolean: "true" and "false" become booleans.
 * Anything else stays a string, so a value that does not convert fails
 * the schema's "type" as a string.  A name given more than once is an
 * array of its values, in order; a name given once whose property allows
 * only arrays (array, not string) is a one-element array.  Array
 * elements are converted by the property's "items" type.  "a" without
 * "=" is the empty string; empty arguments ("a=1&&b=2") are skipped.
 */

#ifndef _COMPLIANCE_QARGS_H_INCLUDED_
#define _COMPLIANCE_QARGS_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>

#include "compliance_jtree.h"
#include "compliance_schema.h"


#define COMPLIANCE_QARGS_OK          0
/* a "%" not followed by two hex digits, or not UTF-8 once decoded */
#define COMPLIANCE_QARGS_EMALFORMED -1
#define COMPLIANCE_QARGS_ENOMEM     -2


/*
 * Builds the object of args[0..len) into arena a (the text the tree
 * points into is there too).  s gives the property types (NULL: all
 * strings).  Returns a COMPLIANCE_QARGS_* code; *root on success.
 */
int compliance_qargs_object(const u_char *args, size_t len,
    const compliance_schema_t *s, compliance_arena_t *a,
    compliance_jnode_t **root);


#endif /* _COMPLIANCE_QARGS_H_INCLUDED_ */
