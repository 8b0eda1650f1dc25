/*
 * 32-byte key files (audit chain key, vault key).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "compliance_secret.h"
#include "compliance_io.h"


/* A key file is tiny; anything larger is refused before it is read. */
#define COMPLIANCE_SECRET_MAX_FILE  128


static int compliance_secret_hexval(u_char c);


void
compliance_secret_wipe(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}


/*
 * Branch-free: the key's digits must not steer control flow or memory
 * access.  Returns 0..15, or -1 (as an int with all bits set) otherwise.
 */
static int
compliance_secret_hexval(u_char c)
{
    int  v, digit, lower, ch;

    ch = c;
    digit = ((ch - '0') | ('9' - ch)) >> 8;       /* 0 if '0'..'9', else -1 */
    ch |= 0x20;
    lower = ((ch - 'a') | ('f' - ch)) >> 8;       /* 0 if 'a'..'f', else -1 */

    v = (~digit & (c - '0')) | (~lower & (ch - 'a' + 10));

    return v | (digit & lower);
}


int
compliance_secret_parse(const u_char *p, size_t len,
    u_char key[COMPLIANCE_SECRET_LEN], char *err, size_t errlen)
{
    int     hi, lo, bad;
    size_t  i, n;

    if (len == COMPLIANCE_SECRET_LEN) {
        memcpy(key, p, COMPLIANCE_SECRET_LEN);
        return 0;
    }

    n = len;

    if (n > 0 && p[n - 1] == '\n') {
        n--;
    }

    if (n != 2 * COMPLIANCE_SECRET_LEN) {
        snprintf(err, errlen, "key must be 32 bytes or 64 hex digits, "
                 "found %zu bytes", len);
        return -1;
    }

    bad = 0;

    for (i = 0; i < COMPLIANCE_SECRET_LEN; i++) {
        hi = compliance_secret_hexval(p[2 * i]);
        lo = compliance_secret_hexval(p[2 * i + 1]);

        bad |= hi | lo;
        key[i] = (u_char) (((unsigned) hi << 4) | ((unsigned) lo & 0x0f));
    }

    if (bad < 0) {
        compliance_secret_wipe(key, COMPLIANCE_SECRET_LEN);
        snprintf(err, errlen, "key has a non-hex character");
        return -1;
    }

    return 0;
}


int
compliance_secret_load(const char *path,
    u_char key[COMPLIANCE_SECRET_LEN], unsigned *mode, char *err,
    size_t errlen)
{
    int                rc;
    char               tmp[256];
    compliance_file_t  f;

    if (compliance_file_read(path, "key file", COMPLIANCE_SECRET_MAX_FILE,
                             &f, err, errlen)
        != COMPLIANCE_FILE_OK)
    {
        return -1;
    }

    if (mode) {
        *mode = f.mode;
    }

    rc = compliance_secret_parse(f.data, f.len, key, err, errlen);
    compliance_file_free(&f, 1);

    if (rc != 0) {
        snprintf(tmp, sizeof(tmp), "key file \"%s\": %s", path, err);
        snprintf(err, errlen, "%s", tmp);
        return -1;
    }

    return 0;
}


int
compliance_secret_generate(const char *path, char *err, size_t errlen)
{
    int     fd;
    char    tmp[4096];
    u_char  key[COMPLIANCE_SECRET_LEN], hex[2 * COMPLIANCE_SECRET_LEN + 1];
    size_t  i;

    static const char  digits[] = "0123456789abcdef";

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid())
        >= (int) sizeof(tmp))
    {
        snprintf(err, errlen, "key file path is too long");
        return -1;
    }

    if (RAND_bytes(key, sizeof(key)) != 1) {
        snprintf(err, errlen, "RAND_bytes failed");
        return -1;
    }

    for (i = 0; i < COMPLIANCE_SECRET_LEN; i++) {
        hex[2 * i] = (u_char) digits[key[i] >> 4];
        hex[2 * i + 1] = (u_char) digits[key[i] & 0x0f];
    }

    hex[2 * COMPLIANCE_SECRET_LEN] = '\n';
    compliance_secret_wipe(key, sizeof(key));

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
        compliance_secret_wipe(hex, sizeof(hex));
        snprintf(err, errlen, "cannot create \"%s\": %s", tmp,
                 strerror(errno));
        return -1;
    }

    if (write(fd, hex, sizeof(hex)) != (ssize_t) sizeof(hex)
        || fsync(fd) == -1)
    {
        compliance_secret_wipe(hex, sizeof(hex));
        snprintf(err, errlen, "cannot write \"%s\": %s", tmp,
                 strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }

    compliance_secret_wipe(hex, sizeof(hex));
    close(fd);

    /* link() never replaces: an existing key is refused, not lost */
    if (link(tmp, path) == -1) {
        snprintf(err, errlen, "cannot create \"%s\": %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }

    unlink(tmp);

    return 0;
}
