/*
 * Verification of a chained audit trail, one record at a time: the
 * logic of "compliance-audit verify", shared with compliance-report.
 * No nginx headers.
 *
 * The caller reads the lines (one file, or a rotated series oldest
 * first: the state runs on from one file into the next) and hands each
 * line to compliance_verify_line(); after the last line of the series,
 * compliance_verify_finish() checks the checkpoints beyond it.  A bad
 * line stops the verification: the message names it (the caller adds
 * the file).
 */

#ifndef _COMPLIANCE_VERIFY_H_INCLUDED_
#define _COMPLIANCE_VERIFY_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "compliance_chain.h"


/* a record is a few hundred bytes; anything this long is not one */
#define COMPLIANCE_VERIFY_LINE_MAX  (1024 * 1024)

#define COMPLIANCE_VERIFY_MSG_LEN   512


/* "compliance audit checkpoint seq=<n> chain=<hex>" of an error log */
typedef struct {
    uint64_t             seq;
    u_char               chain[COMPLIANCE_CHAIN_HEX_LEN];
    unsigned long        line;
} compliance_checkpoint_t;


/* sorted by seq (then line); path names the log in messages */
typedef struct {
    compliance_checkpoint_t  *cp;
    size_t                    n;
    size_t                    size;
    const char               *path;
} compliance_checkpoints_t;


typedef struct {
    compliance_chain_t        *chain;      /* keyed; owned by the caller */
    const u_char              *prev_opt;   /* --prev, or NULL */
    int                        continuation;
    compliance_checkpoints_t  *cps;        /* or NULL */

    /* state */
    u_char                     prev[COMPLIANCE_CHAIN_HEX_LEN];
    uint64_t                   last_seq;
    uint64_t                   records;    /* good records so far */
    uint64_t                   unanchored; /* seq of an unchecked head */

    /* the first bad line: its message, or a note ("--prev ignored") */
    char                       msg[COMPLIANCE_VERIFY_MSG_LEN];
    char                       note[COMPLIANCE_VERIFY_MSG_LEN];
} compliance_verify_t;


/* zeroes the state; chain, prev_opt, continuation and cps are set here */
void compliance_verify_init(compliance_verify_t *v, compliance_chain_t *c,
    const u_char *prev_opt, int continuation, compliance_checkpoints_t *cps);

/*
 * One line as read, its newline included (a last line without one is a
 * torn write).  rec is the line already parsed as a JSON object, or
 * NULL to have it parsed here.  Returns 0, or -1 with v->msg set
 * ("line <n>: <why>").  v->note is set (and must be printed and
 * cleared by the caller) when the first record is taken on trust or
 * --prev is ignored.
 */
int compliance_verify_line(compliance_verify_t *v, const u_char *line,
    size_t len, unsigned long lineno, json_t *rec);

/*
 * After the last line of the series: a checkpoint beyond the last
 * record means records were cut from the end.  last_file and lines name
 * the place in the message.  Returns 0, or -1 with v->msg set.
 */
int compliance_verify_finish(compliance_verify_t *v, const char *last_file,
    unsigned long lines);

/* 64 lowercase hex digits exactly */
int compliance_verify_hex_valid(const u_char *p, size_t len);


#endif /* _COMPLIANCE_VERIFY_H_INCLUDED_ */
