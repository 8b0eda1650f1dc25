/*
 * HMAC-SHA256 audit chain.  No nginx headers: shared by the module and
 * compliance-audit.
 *
 * A record is one JSON object a line whose last two fields are
 * "seq":<n>,"chain":"<64 lowercase hex>", then '}' and '\n'.
 *
 *   body_i  = the line without its chain field: the bytes up to (not
 *             including) ,"chain":" followed by '}'
 *   chain_i = hex(HMAC-SHA256(key, chain_{i-1} || body_i)), where
 *             chain_{i-1} is the previous record's 64 hex characters, or
 *             64 '0' characters for seq 1
 *   seq_i   = seq_{i-1} + 1
 *
 * A chain object is not thread-safe: one per nginx worker (or CLI).
 */

#ifndef _COMPLIANCE_CHAIN_H_INCLUDED_
#define _COMPLIANCE_CHAIN_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#define COMPLIANCE_CHAIN_KEY_LEN  32
#define COMPLIANCE_CHAIN_HEX_LEN  64

/* ,"chain":" + 64 hex + "} without the newline */
#define COMPLIANCE_CHAIN_SUFFIX_LEN  (10 + COMPLIANCE_CHAIN_HEX_LEN + 2)

#define COMPLIANCE_CHAIN_OK       0
#define COMPLIANCE_CHAIN_ERROR   -1   /* allocation or OpenSSL failure */
#define COMPLIANCE_CHAIN_NOCHAIN -2   /* no ,"chain":"<hex>"} at the end */
#define COMPLIANCE_CHAIN_BADHEX  -3   /* chain is not 64 lowercase hex */
#define COMPLIANCE_CHAIN_NOSEQ   -4   /* no ,"seq":<n> just before it */
#define COMPLIANCE_CHAIN_BADSEQ  -5   /* seq not a canonical uint64 >= 1 */


typedef struct compliance_chain_s  compliance_chain_t;


/*
 * Fetches HMAC/SHA-256 once and keys a ready context.  The caller wipes
 * its own copy of the key; the object wipes everything it holds when
 * freed.  NULL on failure.
 */
compliance_chain_t *compliance_chain_create(
    const u_char key[COMPLIANCE_CHAIN_KEY_LEN]);

void compliance_chain_free(compliance_chain_t *c);

/* out_hex = hex(HMAC(key, prev_hex || body)), body ends with '}' */
int compliance_chain_compute(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *body,
    size_t len, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN]);

/*
 * The same MAC over prev_hex || prefix || '}', where prefix is the line
 * up to ,"chain":" (see compliance_chain_split): neither the writer nor
 * the verifier needs to copy the record to append the brace.
 */
int compliance_chain_compute_prefix(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *prefix,
    size_t len, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN]);

/*
 * Splits one record line (a trailing '\n' is allowed and ignored):
 * *prefix_len receives the length of the body without its final '}',
 * *chain_hex points at the 64 hex digits inside line, *seq the seq.
 * Returns COMPLIANCE_CHAIN_OK or one of the negative codes above.
 */
int compliance_chain_split(const u_char *line, size_t len,
    size_t *prefix_len, const u_char **chain_hex, uint64_t *seq);

/* A message for a code from this file. */
const char *compliance_chain_strerror(int rc);

/* The chain value that precedes seq 1. */
extern const u_char  compliance_chain_zero[COMPLIANCE_CHAIN_HEX_LEN];


#endif /* _COMPLIANCE_CHAIN_H_INCLUDED_ */
