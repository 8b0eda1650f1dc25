/*
 * 32-byte key files (audit chain key, vault key): parsing and wiping.
 * No nginx headers here: this file is shared by the module and the CLIs.
 */

#ifndef _COMPLIANCE_SECRET_H_INCLUDED_
#define _COMPLIANCE_SECRET_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#define COMPLIANCE_SECRET_LEN  32


/*
 * Parses the contents of a key file: exactly 32 raw bytes, or 64 hex
 * digits optionally followed by one newline.  Returns 0 and fills key,
 * or -1 with a message (never containing key material) in err.
 */
int compliance_secret_parse(const u_char *p, size_t len,
    u_char key[COMPLIANCE_SECRET_LEN], char *err, size_t errlen);

/*
 * Reads and parses a key file.  The read buffer is wiped before return.
 * On success *mode receives the file's permission bits so the caller can
 * warn about group/other access in its own way.
 */
int compliance_secret_load(const char *path,
    u_char key[COMPLIANCE_SECRET_LEN], unsigned *mode, char *err,
    size_t errlen);

/*
 * Writes 32 random bytes as 64 hex digits + newline, mode 0600.  The file
 * appears whole or not at all, and an existing file is never replaced.
 */
int compliance_secret_generate(const char *path, char *err, size_t errlen);

void compliance_secret_wipe(void *p, size_t len);


#endif /* _COMPLIANCE_SECRET_H_INCLUDED_ */
