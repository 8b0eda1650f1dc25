/*
 * JWT revocation lists (SPEC 14): a file of "jti <id>", "sub <subject>"
 * and "kid <kid>" entries, read once at configuration time into a hash
 * set, so that a request pays one keyed hash and a probe or two per
 * claim it is checked for, whatever the size of the list.  No nginx
 * headers: shared by the module, the unit tests, the fuzzer and the
 * benchmark.
 *
 * File format, one entry a line:
 *
 *     # comment (a whole line; "#" after an entry is part of its value)
 *     jti 4f1c2a9e-0b7d-4c55-9d8e-2f7f0c1b6a3d
 *     sub auth0|5f7c8ec7c33c6c004bbafe82
 *     kid 2024-06-signing
 *
 * Leading blanks (spaces, tabs) and blank lines are skipped; the type is
 * one of jti, sub, kid (lowercase), then one or more blanks, then the
 * value: the rest of the line without its trailing blanks and CR.  A
 * value is 1 to COMPLIANCE_REVOKE_MAX_VALUE bytes with no control
 * character (below 0x20, or 0x7f) and is compared byte for byte with
 * the claim as the token carries it (after JSON unescaping).  The same
 * entry twice is counted once.
 */

#ifndef _COMPLIANCE_REVOKE_H_INCLUDED_
#define _COMPLIANCE_REVOKE_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


/* Bounds applied before anything is parsed or allocated. */
#define COMPLIANCE_REVOKE_MAX_FILE     (256 * 1024 * 1024)
#define COMPLIANCE_REVOKE_MAX_ENTRIES  (8 * 1024 * 1024)
#define COMPLIANCE_REVOKE_MAX_VALUE    1024


/* Entry types. */
enum {
    COMPLIANCE_REVOKE_JTI = 0,
    COMPLIANCE_REVOKE_SUB,
    COMPLIANCE_REVOKE_KID,
    COMPLIANCE_REVOKE_NTYPES
};


typedef struct compliance_revoke_s  compliance_revoke_t;


/*
 * Parses a list held in memory (copied: buf may go afterwards).  name
 * stands for the file in messages.  Returns the set, or NULL with err
 * set: "<name>: line N: <why>" (never the value of an entry), or "out of
 * memory".
 */
compliance_revoke_t *compliance_revoke_parse(const u_char *buf, size_t len,
    const char *name, char *err, size_t errlen);

/*
 * Reads (at most COMPLIANCE_REVOKE_MAX_FILE bytes, compliance_file_read())
 * and parses a list file.  *mode receives the permission bits.
 */
compliance_revoke_t *compliance_revoke_load(const char *path,
    unsigned *mode, char *err, size_t errlen);

/* NULL is accepted. */
void compliance_revoke_free(compliance_revoke_t *rv);

/*
 * 1 when the list holds the entry of this type and value (exact bytes),
 * else 0 (NULL list, bad type, empty value included).  O(1): one keyed
 * hash of the value and a probe of a table at most half full.
 */
int compliance_revoke_match(const compliance_revoke_t *rv, int type,
    const u_char *value, size_t len);

/* Distinct entries of a type, or of all types with type -1. */
size_t compliance_revoke_count(const compliance_revoke_t *rv, int type);

/* "jti", "sub", "kid"; NULL when out of range. */
const char *compliance_revoke_type_name(int type);


#endif /* _COMPLIANCE_REVOKE_H_INCLUDED_ */
