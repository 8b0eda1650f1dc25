/*
 * Credential vault: AES-256-GCM file of named secrets.
 * The file format is described in compliance_vault.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "compliance_vault.h"
#include "compliance_apikey.h"
#include "compliance_io.h"


/* Bytes an entry takes in the table besides its name and secret. */
#define COMPLIANCE_VAULT_ENTRY_FIXED    (2 + 8 + 8 + 4)
#define COMPLIANCE_VAULT_ENTRY_FIXED_1  (2 + 8 + 4)
/* the smallest entry of either version: bounds the count */
#define COMPLIANCE_VAULT_ENTRY_MIN    (COMPLIANCE_VAULT_ENTRY_FIXED_1 + 2)
#define COMPLIANCE_VAULT_OVERHEAD                                             \
    (COMPLIANCE_VAULT_HEADER_LEN + COMPLIANCE_VAULT_TAG_LEN)
#define COMPLIANCE_VAULT_MAX_TABLE                                            \
    (COMPLIANCE_VAULT_MAX_FILE - COMPLIANCE_VAULT_OVERHEAD)

#define COMPLIANCE_VAULT_AUTH_MSG                                             \
    "authentication failed: wrong key or tampered file"


struct compliance_vault_s {
    compliance_vault_entry_t  *entries;
    size_t                     nentries;
    size_t                     nalloc;
    /* length of the entry table this vault serializes to */
    size_t                     size;
};


static int compliance_vault_cmp(const u_char *a, size_t alen,
    const u_char *b, size_t blen);
static int compliance_vault_entry_cmp(const void *a, const void *b);
static int compliance_vault_find(const compliance_vault_t *v,
    const u_char *name, size_t len, size_t *pos);
static void compliance_vault_entry_wipe(compliance_vault_entry_t *e);
static int compliance_vault_grow(compliance_vault_t *v, size_t n);
static uint32_t compliance_vault_get_u32(const u_char *p);
static uint64_t compliance_vault_get_u64(const u_char *p);
static u_char *compliance_vault_put_u32(u_char *p, uint32_t n);
static u_char *compliance_vault_put_u64(u_char *p, uint64_t n);
static int compliance_vault_parse(compliance_vault_t *v, unsigned version,
    const u_char *p, size_t len, char *err, size_t errlen);
static int compliance_vault_serialize(const compliance_vault_t *v,
    u_char **out, size_t *outlen);
static int compliance_vault_write_all(int fd, const u_char *p, size_t len);
static int compliance_vault_fsync_dir(const char *path);


static const u_char  compliance_vault_magic[4] = { 'C', 'V', 'L', 'T' };


compliance_vault_t *
compliance_vault_new(void)
{
    compliance_vault_t  *v;

    v = calloc(1, sizeof(compliance_vault_t));
    if (v == NULL) {
        return NULL;
    }

    /* the entry count */
    v->size = 4;

    return v;
}


void
compliance_vault_free(compliance_vault_t *v)
{
    size_t  i;

    if (v == NULL) {
        return;
    }

    for (i = 0; i < v->nentries; i++) {
        compliance_vault_entry_wipe(&v->entries[i]);
    }

    free(v->entries);
    free(v);
}


static void
compliance_vault_entry_wipe(compliance_vault_entry_t *e)
{
    if (e->secret) {
        OPENSSL_cleanse(e->secret, e->secret_len + 1);
        free(e->secret);
    }

    if (e->name) {
        OPENSSL_cleanse(e->name, e->name_len + 1);
        free(e->name);
    }

    OPENSSL_cleanse(e, sizeof(compliance_vault_entry_t));
}


static int
compliance_vault_cmp(const u_char *a, size_t alen, const u_char *b,
    size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}


static int
compliance_vault_entry_cmp(const void *a, const void *b)
{
    const compliance_vault_entry_t  *ea, *eb;

    ea = a;
    eb = b;

    return compliance_vault_cmp(ea->name, ea->name_len, eb->name,
                                eb->name_len);
}


/* Binary search; *pos is the match or the insertion point. */
static int
compliance_vault_find(const compliance_vault_t *v, const u_char *name,
    size_t len, size_t *pos)
{
    int     rc;
    size_t  lo, hi, mid;

    lo = 0;
    hi = v->nentries;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        rc = compliance_vault_cmp(v->entries[mid].name,
                                  v->entries[mid].name_len, name, len);

        if (rc == 0) {
            *pos = mid;
            return 1;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    *pos = lo;

    return 0;
}


static int
compliance_vault_grow(compliance_vault_t *v, size_t n)
{
    size_t                     nalloc;
    compliance_vault_entry_t  *e;

    if (n <= v->nalloc) {
        return COMPLIANCE_VAULT_OK;
    }

    nalloc = v->nalloc ? v->nalloc * 2 : 8;

    if (nalloc < n) {
        nalloc = n;
    }

    /* the array holds pointers and lengths only, so realloc leaks nothing */
    e = realloc(v->entries, nalloc * sizeof(compliance_vault_entry_t));
    if (e == NULL) {
        return COMPLIANCE_VAULT_NOMEM;
    }

    v->entries = e;
    v->nalloc = nalloc;

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_name_valid(const u_char *name, size_t len)
{
    size_t  i;
    u_char  c;

    if (name == NULL || len == 0 || len > COMPLIANCE_VAULT_MAX_NAME) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static uint32_t
compliance_vault_get_u32(const u_char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}


static uint64_t
compliance_vault_get_u64(const u_char *p)
{
    return (uint64_t) compliance_vault_get_u32(p) << 32
           | compliance_vault_get_u32(p + 4);
}


static u_char *
compliance_vault_put_u32(u_char *p, uint32_t n)
{
    p[0] = (u_char) (n >> 24);
    p[1] = (u_char) (n >> 16);
    p[2] = (u_char) (n >> 8);
    p[3] = (u_char) n;

    return p + 4;
}


static u_char *
compliance_vault_put_u64(u_char *p, uint64_t n)
{
    p = compliance_vault_put_u32(p, (uint32_t) (n >> 32));

    return compliance_vault_put_u32(p, (uint32_t) n);
}


int
compliance_vault_gcm_seal(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char nonce[COMPLIANCE_VAULT_NONCE_LEN], const u_char *aad,
    size_t aadlen, const u_char *pt, size_t ptlen, u_char *ct,
    u_char tag[COMPLIANCE_VAULT_TAG_LEN])
{
    int              n, rc;
    u_char           final[COMPLIANCE_VAULT_TAG_LEN];
    EVP_CIPHER      *cipher;
    EVP_CIPHER_CTX  *ctx;

    if (aadlen > INT_MAX || ptlen > INT_MAX) {
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (cipher == NULL) {
        return COMPLIANCE_VAULT_ERR;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        EVP_CIPHER_free(cipher);
        return COMPLIANCE_VAULT_NOMEM;
    }

    rc = COMPLIANCE_VAULT_ERR;

    if (EVP_EncryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1) {
        goto done;
    }

    if (aadlen
        && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aadlen) != 1)
    {
        goto done;
    }

    if (ptlen
        && EVP_EncryptUpdate(ctx, ct, &n, pt, (int) ptlen) != 1)
    {
        goto done;
    }

    if (EVP_EncryptFinal_ex(ctx, final, &n) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
                               COMPLIANCE_VAULT_TAG_LEN, tag) != 1)
    {
        goto done;
    }

    rc = COMPLIANCE_VAULT_OK;

done:

    if (rc != COMPLIANCE_VAULT_OK && ptlen) {
        /* never hand out a partial ciphertext as if it were sealed */
        OPENSSL_cleanse(ct, ptlen);
    }

    /* EVP_CIPHER_CTX_free wipes the expanded key schedule */
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);

    return rc;
}


int
compliance_vault_gcm_open(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char nonce[COMPLIANCE_VAULT_NONCE_LEN], const u_char *aad,
    size_t aadlen, const u_char *ct, size_t ctlen,
    const u_char tag[COMPLIANCE_VAULT_TAG_LEN], u_char *pt)
{
    int              n, rc;
    u_char           final[COMPLIANCE_VAULT_TAG_LEN];
    u_char           t[COMPLIANCE_VAULT_TAG_LEN];
    EVP_CIPHER      *cipher;
    EVP_CIPHER_CTX  *ctx;

    if (aadlen > INT_MAX || ctlen > INT_MAX) {
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (cipher == NULL) {
        return COMPLIANCE_VAULT_ERR;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        EVP_CIPHER_free(cipher);
        return COMPLIANCE_VAULT_NOMEM;
    }

    /* the ctrl takes a non-const pointer */
    memcpy(t, tag, COMPLIANCE_VAULT_TAG_LEN);

    rc = COMPLIANCE_VAULT_ERR;

    if (EVP_DecryptInit_ex2(ctx, cipher, key, nonce, NULL) != 1
        || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
                               COMPLIANCE_VAULT_TAG_LEN, t) != 1)
    {
        goto done;
    }

    if (aadlen
        && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aadlen) != 1)
    {
        goto done;
    }

    if (ctlen
        && EVP_DecryptUpdate(ctx, pt, &n, ct, (int) ctlen) != 1)
    {
        goto done;
    }

    /* the tag is compared here, in constant time, by OpenSSL */
    if (EVP_DecryptFinal_ex(ctx, final, &n) != 1) {
        rc = COMPLIANCE_VAULT_AUTH;
        goto done;
    }

    rc = COMPLIANCE_VAULT_OK;

done:

    if (rc != COMPLIANCE_VAULT_OK && ctlen) {
        /* unauthenticated plaintext must not survive */
        OPENSSL_cleanse(pt, ctlen);
    }

    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);

    return rc;
}


int
compliance_vault_seal(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    const u_char *pt, size_t ptlen, u_char **out, size_t *outlen,
    char *err, size_t errlen)
{
    return compliance_vault_seal_version(key, COMPLIANCE_VAULT_VERSION, pt,
                                         ptlen, out, outlen, err, errlen);
}


int
compliance_vault_seal_version(const u_char key[COMPLIANCE_VAULT_KEY_LEN],
    unsigned version, const u_char *pt, size_t ptlen, u_char **out,
    size_t *outlen, char *err, size_t errlen)
{
    int      rc;
    u_char  *buf, *p;

    *out = NULL;
    *outlen = 0;

    if (ptlen > COMPLIANCE_VAULT_MAX_TABLE) {
        snprintf(err, errlen, "vault would exceed %d bytes",
                 COMPLIANCE_VAULT_MAX_FILE);
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    buf = malloc(COMPLIANCE_VAULT_OVERHEAD + ptlen);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return COMPLIANCE_VAULT_NOMEM;
    }

    p = buf;
    memcpy(p, compliance_vault_magic, sizeof(compliance_vault_magic));
    p += sizeof(compliance_vault_magic);
    *p++ = (u_char) version;
    *p++ = 0;
    *p++ = 0;
    *p++ = 0;

    /* a GCM nonce must never repeat under one key: fresh for every write */
    if (RAND_bytes(p, COMPLIANCE_VAULT_NONCE_LEN) != 1) {
        free(buf);
        snprintf(err, errlen, "RAND_bytes failed");
        return COMPLIANCE_VAULT_ERR;
    }

    p += COMPLIANCE_VAULT_NONCE_LEN;
    p = compliance_vault_put_u32(p, (uint32_t) ptlen);

    rc = compliance_vault_gcm_seal(key, buf + 8, buf,
                                   COMPLIANCE_VAULT_HEADER_LEN, pt, ptlen, p,
                                   p + ptlen);
    if (rc != COMPLIANCE_VAULT_OK) {
        free(buf);
        snprintf(err, errlen, "encryption failed");
        return rc;
    }

    *out = buf;
    *outlen = COMPLIANCE_VAULT_OVERHEAD + ptlen;

    return COMPLIANCE_VAULT_OK;
}


static int
compliance_vault_serialize(const compliance_vault_t *v, u_char **out,
    size_t *outlen)
{
    size_t                           i;
    u_char                          *buf, *p;
    const compliance_vault_entry_t  *e;

    buf = malloc(v->size);
    if (buf == NULL) {
        return COMPLIANCE_VAULT_NOMEM;
    }

    p = compliance_vault_put_u32(buf, (uint32_t) v->nentries);

    for (i = 0; i < v->nentries; i++) {
        e = &v->entries[i];

        *p++ = (u_char) (e->name_len >> 8);
        *p++ = (u_char) e->name_len;
        memcpy(p, e->name, e->name_len);
        p += e->name_len;
        p = compliance_vault_put_u64(p, e->set_at);
        p = compliance_vault_put_u64(p, e->created);
        p = compliance_vault_put_u32(p, (uint32_t) e->secret_len);
        memcpy(p, e->secret, e->secret_len);
        p += e->secret_len;
    }

    *out = buf;
    *outlen = (size_t) (p - buf);

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_encode(const compliance_vault_t *v,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], u_char **out,
    size_t *outlen, char *err, size_t errlen)
{
    int      rc;
    size_t   ptlen;
    u_char  *pt;

    *out = NULL;
    *outlen = 0;

    rc = compliance_vault_serialize(v, &pt, &ptlen);
    if (rc != COMPLIANCE_VAULT_OK) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }

    rc = compliance_vault_seal(key, pt, ptlen, out, outlen, err, errlen);

    OPENSSL_cleanse(pt, ptlen);
    free(pt);

    return rc;
}


static int
compliance_vault_parse(compliance_vault_t *v, unsigned version,
    const u_char *p, size_t len, char *err, size_t errlen)
{
    size_t                     i, count, nlen, slen, times, size;
    const u_char              *end;
    compliance_vault_entry_t  *e;

    end = p + len;

    /* set_at, and since version 2 the creation time */
    times = (version == COMPLIANCE_VAULT_VERSION_1) ? 8 : 16;

    /* what the vault serializes to: the current version's layout */
    size = 4;

    if (len < 4) {
        snprintf(err, errlen, "malformed entry table: no entry count");
        return COMPLIANCE_VAULT_MALFORMED;
    }

    count = compliance_vault_get_u32(p);
    p += 4;

    /* bound the allocation by what the table can hold */
    if (count > (len - 4) / COMPLIANCE_VAULT_ENTRY_MIN) {
        snprintf(err, errlen, "malformed entry table: %zu entries cannot "
                 "fit in %zu bytes", count, len);
        return COMPLIANCE_VAULT_MALFORMED;
    }

    if (compliance_vault_grow(v, count) != COMPLIANCE_VAULT_OK) {
        snprintf(err, errlen, "out of memory");
        return COMPLIANCE_VAULT_NOMEM;
    }

    for (i = 0; i < count; i++) {

        if (end - p < 2) {
            goto short_entry;
        }

        nlen = (size_t) p[0] << 8 | p[1];
        p += 2;

        if (nlen == 0 || nlen > COMPLIANCE_VAULT_MAX_NAME) {
            snprintf(err, errlen, "malformed entry table: entry %zu has "
                     "name length %zu, not 1..%d", i, nlen,
                     COMPLIANCE_VAULT_MAX_NAME);
            return COMPLIANCE_VAULT_MALFORMED;
        }

        if ((size_t) (end - p) < nlen + times + 4) {
            goto short_entry;
        }

        if (!compliance_vault_name_valid(p, nlen)) {
            snprintf(err, errlen, "malformed entry table: entry %zu has "
                     "a name outside [A-Za-z0-9_.-]", i);
            return COMPLIANCE_VAULT_MALFORMED;
        }

        e = &v->entries[v->nentries];
        memset(e, 0, sizeof(compliance_vault_entry_t));

        e->name = malloc(nlen + 1);
        if (e->name == NULL) {
            snprintf(err, errlen, "out of memory");
            return COMPLIANCE_VAULT_NOMEM;
        }

        memcpy(e->name, p, nlen);
        e->name[nlen] = '\0';
        e->name_len = nlen;
        v->nentries++;
        p += nlen;

        e->set_at = compliance_vault_get_u64(p);
        p += 8;

        if (version != COMPLIANCE_VAULT_VERSION_1) {
            e->created = compliance_vault_get_u64(p);
            p += 8;
        }

        slen = compliance_vault_get_u32(p);
        p += 4;

        if (slen == 0 || slen > COMPLIANCE_VAULT_MAX_SECRET) {
            snprintf(err, errlen, "malformed entry table: entry \"%s\" has "
                     "secret length %zu, not 1..%d", e->name, slen,
                     COMPLIANCE_VAULT_MAX_SECRET);
            return COMPLIANCE_VAULT_MALFORMED;
        }

        if ((size_t) (end - p) < slen) {
            goto short_entry;
        }

        e->secret = malloc(slen + 1);
        if (e->secret == NULL) {
            snprintf(err, errlen, "out of memory");
            return COMPLIANCE_VAULT_NOMEM;
        }

        memcpy(e->secret, p, slen);
        e->secret[slen] = '\0';
        e->secret_len = slen;
        p += slen;

        size += COMPLIANCE_VAULT_ENTRY_FIXED + nlen + slen;
    }

    if (p != end) {
        snprintf(err, errlen, "malformed entry table: %zu trailing bytes "
                 "after the last entry", (size_t) (end - p));
        return COMPLIANCE_VAULT_MALFORMED;
    }

    if (v->nentries > 1) {
        qsort(v->entries, v->nentries, sizeof(compliance_vault_entry_t),
              compliance_vault_entry_cmp);
    }

    for (i = 1; i < v->nentries; i++) {
        if (compliance_vault_entry_cmp(&v->entries[i - 1], &v->entries[i])
            == 0)
        {
            snprintf(err, errlen, "malformed entry table: duplicate name "
                     "\"%s\"", v->entries[i].name);
            return COMPLIANCE_VAULT_MALFORMED;
        }
    }

    if (size > COMPLIANCE_VAULT_MAX_TABLE) {
        /* a full version 1 file grows by 8 bytes an entry */
        snprintf(err, errlen, "vault would exceed %d bytes in version %d",
                 COMPLIANCE_VAULT_MAX_FILE, COMPLIANCE_VAULT_VERSION);
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    v->size = size;

    return COMPLIANCE_VAULT_OK;

short_entry:

    snprintf(err, errlen, "malformed entry table: entry %zu runs past "
             "the end", i);

    return COMPLIANCE_VAULT_MALFORMED;
}


int
compliance_vault_open(compliance_vault_t **v,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], const u_char *buf,
    size_t len, char *err, size_t errlen)
{
    int                  rc;
    size_t               i, n, ctlen;
    u_char              *pt;
    compliance_vault_t  *vault;

    *v = NULL;

    if (len > COMPLIANCE_VAULT_MAX_FILE) {
        snprintf(err, errlen, "vault file is larger than %d bytes",
                 COMPLIANCE_VAULT_MAX_FILE);
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    /* judge what is there before calling a short file truncated */
    n = len < sizeof(compliance_vault_magic)
        ? len : sizeof(compliance_vault_magic);

    if (n && memcmp(buf, compliance_vault_magic, n) != 0) {
        snprintf(err, errlen, "bad magic: not a vault file");
        return COMPLIANCE_VAULT_BAD_MAGIC;
    }

    if (len <= 4) {
        snprintf(err, errlen, "truncated vault file (%zu bytes)", len);
        return COMPLIANCE_VAULT_TRUNCATED;
    }

    if (buf[4] != COMPLIANCE_VAULT_VERSION
        && buf[4] != COMPLIANCE_VAULT_VERSION_1)
    {
        snprintf(err, errlen, "unknown version %u", (unsigned) buf[4]);
        return COMPLIANCE_VAULT_BAD_VERSION;
    }

    for (i = 5; i < 8 && i < len; i++) {
        if (buf[i] != 0) {
            snprintf(err, errlen, "malformed header: reserved bytes are "
                     "not zero");
            return COMPLIANCE_VAULT_MALFORMED;
        }
    }

    if (len < COMPLIANCE_VAULT_OVERHEAD) {
        snprintf(err, errlen, "truncated vault file (%zu bytes)", len);
        return COMPLIANCE_VAULT_TRUNCATED;
    }

    ctlen = compliance_vault_get_u32(buf + 20);

    if (ctlen > len - COMPLIANCE_VAULT_OVERHEAD) {
        snprintf(err, errlen, "truncated vault file (%zu bytes, header "
                 "announces %zu)", len, ctlen + COMPLIANCE_VAULT_OVERHEAD);
        return COMPLIANCE_VAULT_TRUNCATED;
    }

    if (ctlen < len - COMPLIANCE_VAULT_OVERHEAD) {
        snprintf(err, errlen, "malformed vault file: %zu trailing bytes "
                 "after the tag", len - COMPLIANCE_VAULT_OVERHEAD - ctlen);
        return COMPLIANCE_VAULT_MALFORMED;
    }

    pt = malloc(ctlen ? ctlen : 1);
    if (pt == NULL) {
        snprintf(err, errlen, "out of memory");
        return COMPLIANCE_VAULT_NOMEM;
    }

    rc = compliance_vault_gcm_open(key, buf + 8, buf,
                                   COMPLIANCE_VAULT_HEADER_LEN,
                                   buf + COMPLIANCE_VAULT_HEADER_LEN, ctlen,
                                   buf + COMPLIANCE_VAULT_HEADER_LEN + ctlen,
                                   pt);
    if (rc != COMPLIANCE_VAULT_OK) {
        free(pt);

        if (rc == COMPLIANCE_VAULT_AUTH) {
            snprintf(err, errlen, COMPLIANCE_VAULT_AUTH_MSG);

        } else {
            snprintf(err, errlen, "decryption failed");
        }

        return rc;
    }

    vault = compliance_vault_new();
    if (vault == NULL) {
        OPENSSL_cleanse(pt, ctlen);
        free(pt);
        snprintf(err, errlen, "out of memory");
        return COMPLIANCE_VAULT_NOMEM;
    }

    rc = compliance_vault_parse(vault, buf[4], pt, ctlen, err, errlen);

    OPENSSL_cleanse(pt, ctlen);
    free(pt);

    if (rc != COMPLIANCE_VAULT_OK) {
        compliance_vault_free(vault);
        return rc;
    }

    *v = vault;

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_load(compliance_vault_t **v, const char *path,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], char *err, size_t errlen)
{
    int                rc;
    char               msg[256];
    compliance_file_t  f;

    *v = NULL;

    rc = compliance_file_read(path, "vault file", COMPLIANCE_VAULT_MAX_FILE,
                              &f, err, errlen);

    switch (rc) {
    case COMPLIANCE_FILE_OK:
        break;
    case COMPLIANCE_FILE_NOENT:
        return COMPLIANCE_VAULT_NOENT;
    case COMPLIANCE_FILE_TOO_LARGE:
        return COMPLIANCE_VAULT_TOO_LARGE;
    case COMPLIANCE_FILE_NOMEM:
        return COMPLIANCE_VAULT_NOMEM;
    default:
        return COMPLIANCE_VAULT_IO;
    }

    rc = compliance_vault_open(v, key, f.data, f.len, msg, sizeof(msg));

    /* the file holds only ciphertext: nothing to wipe */
    compliance_file_free(&f, 0);

    if (rc != COMPLIANCE_VAULT_OK) {
        snprintf(err, errlen, "vault file \"%s\": %s", path, msg);
    }

    return rc;
}


static int
compliance_vault_write_all(int fd, const u_char *p, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, p, len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            return -1;
        }

        p += n;
        len -= (size_t) n;
    }

    return 0;
}


/* Makes the rename itself durable. */
static int
compliance_vault_fsync_dir(const char *path)
{
    int          fd, rc;
    char        *dir, *slash;
    const char  *d;

    dir = strdup(path);
    if (dir == NULL) {
        return -1;
    }

    slash = strrchr(dir, '/');

    if (slash == NULL) {
        d = ".";

    } else if (slash == dir) {
        d = "/";

    } else {
        *slash = '\0';
        d = dir;
    }

    fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        free(dir);
        return -1;
    }

    rc = fsync(fd);
    close(fd);
    free(dir);

    return rc;
}


int
compliance_vault_save(const compliance_vault_t *v, const char *path,
    const u_char key[COMPLIANCE_VAULT_KEY_LEN], char *err, size_t errlen)
{
    int      fd, rc;
    char    *tmp;
    size_t   len, plen;
    u_char  *buf;

    static const char  suffix[] = ".tmp.XXXXXX";

    rc = compliance_vault_encode(v, key, &buf, &len, err, errlen);
    if (rc != COMPLIANCE_VAULT_OK) {
        return rc;
    }

    plen = strlen(path);

    tmp = malloc(plen + sizeof(suffix));
    if (tmp == NULL) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return COMPLIANCE_VAULT_NOMEM;
    }

    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof(suffix));

    /* same directory, so the rename is atomic; mkstemp creates it 0600 */
    fd = mkstemp(tmp);
    if (fd == -1) {
        snprintf(err, errlen, "cannot create temporary file \"%s\": %s",
                 tmp, strerror(errno));
        free(tmp);
        free(buf);
        return COMPLIANCE_VAULT_IO;
    }

    if (fchmod(fd, 0600) == -1
        || compliance_vault_write_all(fd, buf, len) == -1
        || fsync(fd) == -1)
    {
        snprintf(err, errlen, "cannot write \"%s\": %s", tmp,
                 strerror(errno));
        close(fd);
        goto failed;
    }

    if (close(fd) == -1) {
        snprintf(err, errlen, "cannot close \"%s\": %s", tmp,
                 strerror(errno));
        goto failed;
    }

    if (rename(tmp, path) == -1) {
        snprintf(err, errlen, "cannot rename \"%s\" to \"%s\": %s", tmp,
                 path, strerror(errno));
        goto failed;
    }

    free(tmp);
    free(buf);

    if (compliance_vault_fsync_dir(path) == -1) {
        snprintf(err, errlen, "cannot sync the directory of \"%s\": %s",
                 path, strerror(errno));
        return COMPLIANCE_VAULT_IO;
    }

    return COMPLIANCE_VAULT_OK;

failed:

    unlink(tmp);
    free(tmp);
    free(buf);

    return COMPLIANCE_VAULT_IO;
}


const compliance_vault_entry_t *
compliance_vault_get(const compliance_vault_t *v, const u_char *name,
    size_t len)
{
    size_t  i;

    if (v == NULL || name == NULL) {
        return NULL;
    }

    if (!compliance_vault_find(v, name, len, &i)) {
        return NULL;
    }

    return &v->entries[i];
}


size_t
compliance_vault_count(const compliance_vault_t *v)
{
    return v ? v->nentries : 0;
}


const compliance_vault_entry_t *
compliance_vault_entry(const compliance_vault_t *v, size_t i)
{
    if (v == NULL || i >= v->nentries) {
        return NULL;
    }

    return &v->entries[i];
}


int
compliance_vault_set(compliance_vault_t *v, const u_char *name,
    size_t len, const u_char *secret, size_t slen, uint64_t set_at)
{
    int                        found;
    size_t                     i, size;
    u_char                    *s, *n;
    compliance_vault_entry_t  *e;

    if (!compliance_vault_name_valid(name, len)
        || secret == NULL || slen == 0 || slen > COMPLIANCE_VAULT_MAX_SECRET)
    {
        return COMPLIANCE_VAULT_INVALID;
    }

    found = compliance_vault_find(v, name, len, &i);

    size = v->size + COMPLIANCE_VAULT_ENTRY_FIXED + len + slen;

    if (found) {
        size -= COMPLIANCE_VAULT_ENTRY_FIXED + len
                + v->entries[i].secret_len;
    }

    if (size > COMPLIANCE_VAULT_MAX_TABLE
        || (!found && v->nentries >= UINT32_MAX))
    {
        return COMPLIANCE_VAULT_TOO_LARGE;
    }

    s = malloc(slen + 1);
    if (s == NULL) {
        return COMPLIANCE_VAULT_NOMEM;
    }

    memcpy(s, secret, slen);
    s[slen] = '\0';

    if (found) {
        e = &v->entries[i];

        /* a new secret starts a new age; the same one keeps its own */
        if (e->secret_len != slen
            || CRYPTO_memcmp(e->secret, secret, slen) != 0)
        {
            e->created = set_at;
        }

        OPENSSL_cleanse(e->secret, e->secret_len + 1);
        free(e->secret);

        e->secret = s;
        e->secret_len = slen;
        e->set_at = set_at;
        v->size = size;

        return COMPLIANCE_VAULT_OK;
    }

    n = malloc(len + 1);
    if (n == NULL
        || compliance_vault_grow(v, v->nentries + 1) != COMPLIANCE_VAULT_OK)
    {
        free(n);
        OPENSSL_cleanse(s, slen + 1);
        free(s);
        return COMPLIANCE_VAULT_NOMEM;
    }

    memcpy(n, name, len);
    n[len] = '\0';

    memmove(&v->entries[i + 1], &v->entries[i],
            (v->nentries - i) * sizeof(compliance_vault_entry_t));

    e = &v->entries[i];
    e->name = n;
    e->name_len = len;
    e->set_at = set_at;
    e->created = set_at;
    e->secret = s;
    e->secret_len = slen;

    v->nentries++;
    v->size = size;

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_remove(compliance_vault_t *v, const u_char *name,
    size_t len)
{
    size_t                     i;
    compliance_vault_entry_t  *e;

    if (name == NULL || !compliance_vault_find(v, name, len, &i)) {
        return COMPLIANCE_VAULT_NOT_FOUND;
    }

    e = &v->entries[i];
    v->size -= COMPLIANCE_VAULT_ENTRY_FIXED + e->name_len + e->secret_len;

    compliance_vault_entry_wipe(e);

    memmove(&v->entries[i], &v->entries[i + 1],
            (v->nentries - i - 1) * sizeof(compliance_vault_entry_t));

    v->nentries--;

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_set_created(compliance_vault_t *v, const u_char *name,
    size_t len, uint64_t created)
{
    size_t  i;

    if (name == NULL || !compliance_vault_find(v, name, len, &i)) {
        return COMPLIANCE_VAULT_NOT_FOUND;
    }

    v->entries[i].created = created;

    return COMPLIANCE_VAULT_OK;
}


int
compliance_vault_entry_age(const compliance_vault_entry_t *e, uint64_t now,
    uint64_t *age)
{
    if (e->created == 0) {
        return 0;
    }

    *age = (now > e->created) ? now - e->created : 0;

    return 1;
}


/* two decimal digits at p, or -1 */
static int
compliance_vault_2digits(const u_char *p)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
        return -1;
    }

    return (p[0] - '0') * 10 + (p[1] - '0');
}


/* the date is the API-key file's "expires=" date, one parser for both */
int
compliance_vault_parse_date(const u_char *p, size_t len, uint64_t *t)
{
    int        h, mi, s;
    long long  day;

    if (p == NULL
        || (len != sizeof("YYYY-MM-DD") - 1
            && len != sizeof("YYYY-MM-DDTHH:MM:SSZ") - 1)
        || compliance_apikey_parse_date(p, sizeof("YYYY-MM-DD") - 1, &day)
           != 0)
    {
        return COMPLIANCE_VAULT_INVALID;
    }

    h = 0;
    mi = 0;
    s = 0;

    if (len > sizeof("YYYY-MM-DD") - 1) {
        if (p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[19] != 'Z') {
            return COMPLIANCE_VAULT_INVALID;
        }

        h = compliance_vault_2digits(p + 11);
        mi = compliance_vault_2digits(p + 14);
        s = compliance_vault_2digits(p + 17);

        if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
            return COMPLIANCE_VAULT_INVALID;
        }
    }

    *t = (uint64_t) day + (uint64_t) (h * 3600 + mi * 60 + s);

    return COMPLIANCE_VAULT_OK;
}


const char *
compliance_vault_strerror(int rc)
{
    switch (rc) {

    case COMPLIANCE_VAULT_OK:
        return "ok";

    case COMPLIANCE_VAULT_NOMEM:
        return "out of memory";

    case COMPLIANCE_VAULT_IO:
        return "I/O error";

    case COMPLIANCE_VAULT_NOENT:
        return "vault file does not exist";

    case COMPLIANCE_VAULT_TRUNCATED:
        return "truncated vault file";

    case COMPLIANCE_VAULT_BAD_MAGIC:
        return "bad magic: not a vault file";

    case COMPLIANCE_VAULT_BAD_VERSION:
        return "unknown vault version";

    case COMPLIANCE_VAULT_AUTH:
        return COMPLIANCE_VAULT_AUTH_MSG;

    case COMPLIANCE_VAULT_MALFORMED:
        return "malformed vault file";

    case COMPLIANCE_VAULT_TOO_LARGE:
        return "vault would exceed 4194304 bytes";

    case COMPLIANCE_VAULT_INVALID:
        return "invalid name (1..128 of [A-Za-z0-9_.-]) or secret "
               "(1..16384 bytes)";

    case COMPLIANCE_VAULT_NOT_FOUND:
        return "no such entry";

    default:
        return "internal error";
    }
}
