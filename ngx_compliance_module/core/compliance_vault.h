/*
 * Credential vault: named upstream secrets kept in one AES-256-GCM file.
 * No nginx headers here: this file is shared by the module and the CLIs.
 *
 * File format, version 2 (all integers big-endian):
 *
 *   offset  size  field
 *        0     4  magic "CVLT"
 *        4     1  version, 2 (1 is read too)
 *        5     3  flags/reserved, must be 0
 *        8    12  GCM nonce, fresh RAND_bytes for every write
 *       20     4  ciphertext length N (u32)
 *       24     N  ciphertext of the entry table
 *     24+N    16  GCM tag
 *
 * The 24-byte header is the GCM additional authenticated data, so any
 * change to it fails authentication; the file must be exactly 24 + N + 16
 * bytes and at most COMPLIANCE_VAULT_MAX_FILE.  The key is 32 bytes.
 *
 * Entry table (the plaintext, N bytes):
 *
 *   count u32, then count times:
 *     name length u16 (1..128), name ([A-Za-z0-9_.-]),
 *     set_at u64 (unix seconds: the entry's last write),
 *     created u64 (unix seconds: when this secret was first stored, or
 *                  the date it was imported with; 0: unknown),
 *     secret length u32 (1..16384), secret bytes.
 *
 * Version 1 tables have no "created": such entries read with created 0
 * (age unknown) and are written back as version 2.
 *
 * Nothing may follow the last entry and names are unique.  Writers emit
 * entries sorted by name (bytewise, then shorter first); readers accept
 * any order and sort.
 */

#ifndef _COMPLIANCE_VAULT_H_INCLUDED_
#define _COMPLIANCE_VAULT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#define COMPLIANCE_VAULT_KEY_LEN      32
#define COMPLIANCE_VAULT_NONCE_LEN    12
#define COMPLIANCE_VAULT_TAG_LEN      16
#define COMPLIANCE_VAULT_HEADER_LEN   24
#define COMPLIANCE_VAULT_VERSION      2
#define COMPLIANCE_VAULT_VERSION_1    1
#define COMPLIANCE_VAULT_MAX_NAME     128
#define COMPLIANCE_VAULT_MAX_SECRET   16384
#define COMPLIANCE_VAULT_MAX_FILE     (4 * 1024 * 1024)


/* Return codes; every failure is negative. */
#define COMPLIANCE_VAULT_OK            0
#define COMPLIANCE_VAULT_ERR          -1   /* internal or crypto library */
#define COMPLIANCE_VAULT_NOMEM        -2
#define COMPLIANCE_VAULT_IO           -3   /* open/read/write/rename */
#define COMPLIANCE_VAULT_NOENT        -4   /* vault file does not exist */
#define COMPLIANCE_VAULT_TRUNCATED    -5
#define COMPLIANCE_VAULT_BAD_MAGIC    -6
#define COMPLIANCE_VAULT_BAD_VERSION  -7
#define COMPLIANCE_VAULT_AUTH         -8   /* wrong key or tampered file */
#define COMPLIANCE_VAULT_MALFORMED    -9   /* bad header or entry table */
#define COMPLIANCE_VAULT_TOO_LARGE    -10
#define COMPLIANCE_VAULT_INVALID      -11  /* bad name or secret argument */
#define COMPLIANCE_VAULT_NOT_FOUND    -12


typedef struct compliance_vault_s  compliance_vault_t;

/* name is NUL-terminated; secret has a NUL after secret_len bytes too. */
typedef struct {
    u_char    *name;
    size_t     name_len;
    uint64_t   set_at;
    uint64_t   created;     /* 0: unknown (a version 1 entry) */
    u_char    *secret;
    size_t     secret_len;
} compliance_vault_entry_t;


/* An empty vault, or NULL when out of memory. */
compliance_vault_t *compliance_vault_new(void);

/* Wipes every name and secret, then frees; NULL is accepted. */
void compliance_vault_free(compliance_vault_t *v);

/*
 * Decrypts and parses a vault file image.  On failure *v is NULL, the
 * return code says why and err holds a message without secret material,
 * e.g. "authentication failed: wrong key or tampered file".
 */
int compliance_vault_open(compliance_vault_t **v,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], const u_char *buf,
    size_t len, char *err, size_t errlen);

/* Reads path (a regular file of bounded size) and opens it. */
int compliance_vault_load(compliance_vault_t **v, const char *path,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], char *err, size_t errlen);

/*
 * Encrypts v under key with a fresh nonce into a malloc()ed file image
 * (ciphertext only; the caller free()s it).
 */
int compliance_vault_encode(const compliance_vault_t *v,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], u_char **out,
    size_t *outlen, char *err, size_t errlen);

/*
 * Writes v atomically: temporary file in the same directory, mode 0600,
 * fsync, rename over path, fsync of the directory.
 */
int compliance_vault_save(const compliance_vault_t *v, const char *path,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], char *err, size_t errlen);

/* NULL when absent. */
const compliance_vault_entry_t *compliance_vault_get(
    const compliance_vault_t *v, const u_char *name, size_t len);

/* Entries in name order: index 0 .. count - 1; NULL when out of range. */
size_t compliance_vault_count(const compliance_vault_t *v);
const compliance_vault_entry_t *compliance_vault_entry(
    const compliance_vault_t *v, size_t i);

/*
 * Adds or replaces an entry; the secret is copied.  On failure the vault
 * is unchanged.  COMPLIANCE_VAULT_TOO_LARGE when the file would exceed
 * COMPLIANCE_VAULT_MAX_FILE.  A new entry, or a new secret for an entry,
 * is created at set_at; the same secret set again keeps its creation
 * time (unknown stays unknown): its age is the secret's, not the write's.
 */
int compliance_vault_set(compliance_vault_t *v, const u_char *name,
    size_t len, const u_char *secret, size_t slen, uint64_t set_at);

/*
 * Sets an entry's creation time (an imported secret's real date; 0:
 * unknown).  COMPLIANCE_VAULT_NOT_FOUND when absent.
 */
int compliance_vault_set_created(compliance_vault_t *v, const u_char *name,
    size_t len, uint64_t created);

/*
 * The age of an entry's secret at now: 1 with *age (0 for a creation
 * time after now), or 0 when the creation time is unknown.
 */
int compliance_vault_entry_age(const compliance_vault_entry_t *e,
    uint64_t now, uint64_t *age);

/*
 * Parses an import date, "YYYY-MM-DD" (00:00 UTC) or
 * "YYYY-MM-DDTHH:MM:SSZ", years 1970..9999, into unix seconds.
 * Returns COMPLIANCE_VAULT_OK or COMPLIANCE_VAULT_INVALID.
 */
int compliance_vault_parse_date(const u_char *p, size_t len, uint64_t *t);

/* Wipes and removes an entry; COMPLIANCE_VAULT_NOT_FOUND when absent. */
int compliance_vault_remove(compliance_vault_t *v, const u_char *name,
    size_t len);

/* 1 when name is 1..128 bytes of [A-Za-z0-9_.-], else 0. */
int compliance_vault_name_valid(const u_char *name, size_t len);

/* A fixed message for a return code. */
const char *compliance_vault_strerror(int rc);

/*
 * Builds a file image around an arbitrary entry table: used by
 * compliance_vault_encode and by tests that need malformed tables.
 * compliance_vault_seal writes the current version; _seal_version the
 * one given (tests of version 1 files).
 */
int compliance_vault_seal(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char *pt, size_t ptlen, u_char **out, size_t *outlen,
    char *err, size_t errlen);
int compliance_vault_seal_version(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    unsigned version, const u_char *pt, size_t ptlen, u_char **out,
    size_t *outlen, char *err, size_t errlen);

/*
 * The AES-256-GCM primitive of the vault: 96-bit nonce, 128-bit tag.
 * gcm_seal writes ptlen bytes to ct and the tag; gcm_open writes ctlen
 * bytes to pt, returns COMPLIANCE_VAULT_AUTH when the tag does not verify
 * and then leaves pt zeroed.  aad and the data may be empty (NULL, 0).
 */
int compliance_vault_gcm_seal(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char nonce[COMPLIANCE_VAULT_NONCE_LEN], const u_char *aad,
    size_t aadlen, const u_char *pt, size_t ptlen, u_char *ct,
    u_char tag[COMPLIANCE_VAULT_TAG_LEN]);
int compliance_vault_gcm_open(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char nonce[COMPLIANCE_VAULT_NONCE_LEN], const u_char *aad,
    size_t aadlen, const u_char *ct, size_t ctlen,
    const u_char tag[COMPLIANCE_VAULT_TAG_LEN], u_char *pt);


#endif /* _COMPLIANCE_VAULT_H_INCLUDED_ */
