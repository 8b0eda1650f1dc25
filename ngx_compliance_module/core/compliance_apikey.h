/*
 * API keys (SPEC 5): key text, key file parsing and verification.
 * No nginx headers here: shared by the module, the CLIs and the tests.
 *
 * Key text:  ck_<id>_<secret>
 *   id      12 chars of the lowercase RFC 4648 base32 alphabet [a-z2-7]
 *   secret  43 chars of base64url without padding: 32 random bytes, with
 *           the 2 unused trailing bits zero (one canonical text per key)
 *
 * Key file, one record a line, "#" comments (whole line, or a field that
 * starts with "#") and blank lines, fields separated by spaces/tabs:
 *   <id> sha256:<salt>:<hash> principal=<p> [org=<o>] [scopes=a,b]
 *       [allow=cidr,...] [expires=YYYY-MM-DD]
 *   salt    base64url (no padding) of 16 random bytes
 *   hash    base64url (no padding) of SHA-256(salt bytes || secret bytes),
 *           where the secret bytes are the 32 DECODED bytes of the secret,
 *           not its 43-char text; compared with CRYPTO_memcmp
 *   expires the key stops working at 00:00:00 UTC of that date
 */

#ifndef _COMPLIANCE_APIKEY_H_INCLUDED_
#define _COMPLIANCE_APIKEY_H_INCLUDED_


#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "compliance_cidr.h"
#include "compliance_token.h"


/* the key's text shape is compliance_token.h's */
#define COMPLIANCE_APIKEY_ID_LEN       COMPLIANCE_TOKEN_KEY_ID_LEN
#define COMPLIANCE_APIKEY_SECRET_LEN   32
#define COMPLIANCE_APIKEY_SECRET_TEXT  COMPLIANCE_TOKEN_KEY_SECRET_TEXT
#define COMPLIANCE_APIKEY_SALT_LEN     16
#define COMPLIANCE_APIKEY_SALT_TEXT    22
#define COMPLIANCE_APIKEY_HASH_LEN     32
#define COMPLIANCE_APIKEY_HASH_TEXT    43

/* "ck_" id "_" secret */
#define COMPLIANCE_APIKEY_TEXT_LEN     COMPLIANCE_TOKEN_KEY_LEN

/* "<id> sha256:<salt>:<hash>" */
#define COMPLIANCE_APIKEY_HEAD_LEN                                            \
    (COMPLIANCE_APIKEY_ID_LEN + 8 + COMPLIANCE_APIKEY_SALT_TEXT + 1          \
     + COMPLIANCE_APIKEY_HASH_TEXT)

/* Bounds applied before anything is parsed. */
#define COMPLIANCE_APIKEY_MAX_FILE     (16 * 1024 * 1024)
#define COMPLIANCE_APIKEY_MAX_LINE     4096
#define COMPLIANCE_APIKEY_MAX_VALUE    256   /* principal, org */
#define COMPLIANCE_APIKEY_MAX_SCOPES   1024  /* the whole scopes= value */

/* Verification results, in the order they are checked. */
#define COMPLIANCE_APIKEY_OK              0
#define COMPLIANCE_APIKEY_MALFORMED       1
#define COMPLIANCE_APIKEY_UNKNOWN         2   /* unknown id or bad secret */
#define COMPLIANCE_APIKEY_EXPIRED         3
#define COMPLIANCE_APIKEY_IP_NOT_ALLOWED  4


typedef struct {
    char                    id[COMPLIANCE_APIKEY_ID_LEN + 1];
    u_char                  salt[COMPLIANCE_APIKEY_SALT_LEN];
    u_char                  hash[COMPLIANCE_APIKEY_HASH_LEN];
    const char             *principal;
    size_t                  principal_len;
    const char             *org;          /* "" when absent */
    size_t                  org_len;
    const char             *scopes;       /* space-separated, "" if none */
    size_t                  scopes_len;
    const char             *allow_text;   /* as written, "" if any IP */
    compliance_cidr_list_t  allow;        /* n == 0: any address */
    long long               expires;      /* unix time, 0: never */
    size_t                  line;         /* 1-based line in the file */
} compliance_apikey_rec_t;


/* A verified key: its whole text, the record it proved. */
typedef struct {
    const compliance_apikey_rec_t  *rec;
    u_char                          text[COMPLIANCE_APIKEY_TEXT_LEN];
} compliance_apikey_hit_t;

#define COMPLIANCE_APIKEY_CACHE  1024


/*
 * Records sorted by id for bsearch(); strings live in text.  cache holds
 * COMPLIANCE_APIKEY_CACHE keys that verified, so a repeated key skips
 * its SHA-256: each process (nginx worker) has its own copy after fork,
 * and a new set (a reload) starts empty, so revocation by reload holds.
 */
typedef struct {
    compliance_apikey_rec_t  *recs;
    size_t                    n;
    char                     *text;
    compliance_apikey_hit_t  *cache;
    uint64_t                  seed[2];
} compliance_apikey_set_t;


/* A parsed key text; the secret must be wiped after use. */
typedef struct {
    char                    id[COMPLIANCE_APIKEY_ID_LEN + 1];
    u_char                  secret[COMPLIANCE_APIKEY_SECRET_LEN];
} compliance_apikey_text_t;


/*
 * Parses key file contents.  On success returns 0 and fills set (free it
 * with compliance_apikey_set_free()).  On failure returns -1, leaves set
 * empty and writes "line N: <why>" to err; the message never contains a
 * salt, a hash or a field that did not parse as a known name.
 */
int compliance_apikey_set_parse(compliance_apikey_set_t *set,
    const u_char *buf, size_t len, char *err, size_t errlen);

/*
 * Reads (at most COMPLIANCE_APIKEY_MAX_FILE bytes) and parses a key file.
 * *mode receives the permission bits so the caller can warn when the
 * file is readable by others.
 */
int compliance_apikey_set_load(compliance_apikey_set_t *set,
    const char *path, unsigned *mode, char *err, size_t errlen);

void compliance_apikey_set_free(compliance_apikey_set_t *set);

/* O(log n); NULL when absent.  id is exactly COMPLIANCE_APIKEY_ID_LEN. */
const compliance_apikey_rec_t *compliance_apikey_set_find(
    const compliance_apikey_set_t *set, const u_char *id, size_t len);

/*
 * Validates one "name=value" record field exactly as the file parser
 * does (so a CLI can refuse input before writing).  Returns 0 or -1.
 */
int compliance_apikey_check_field(const u_char *p, size_t len, char *err,
    size_t errlen);

/* Returns COMPLIANCE_APIKEY_OK or _MALFORMED (out is wiped then). */
int compliance_apikey_parse_text(const u_char *p, size_t len,
    compliance_apikey_text_t *out);

/*
 * Checks a presented key: malformed, then unknown id or wrong secret
 * (one code; the hash is computed for unknown ids too), then expiry
 * (now >= expires), then the allow list against sa (NULL: no address,
 * refused when the key has an allow list).  On OK *rec is the record.
 */
int compliance_apikey_verify(const compliance_apikey_set_t *set,
    const u_char *key, size_t len, const struct sockaddr *sa, long long now,
    const compliance_apikey_rec_t **rec);

/* The SPEC 6 reason for a verification result; NULL for OK. */
const char *compliance_apikey_reason(int rc);

/*
 * Creates a key from RAND_bytes: text receives the key text and head
 * "<id> sha256:<salt>:<hash>", both NUL-terminated.  The caller wipes
 * text.  Returns 0, or -1 when the random generator fails.
 */
int compliance_apikey_generate(char text[COMPLIANCE_APIKEY_TEXT_LEN + 1],
    char head[COMPLIANCE_APIKEY_HEAD_LEN + 1]);

/*
 * Parses "YYYY-MM-DD" (a real calendar date, years 1970..9999) into the
 * unix time of 00:00:00 UTC that day.  Returns 0 or -1.
 */
int compliance_apikey_parse_date(const u_char *p, size_t len,
    long long *t);


#endif /* _COMPLIANCE_APIKEY_H_INCLUDED_ */
