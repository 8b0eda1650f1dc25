/*
 * Unit tests for core/compliance_vault: file format, tamper detection,
 * entry-table limits, set/remove semantics, atomic save, and the AES-GCM
 * primitive against the Wycheproof vectors.
 */

/* memmem() */
#define _GNU_SOURCE

#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "compliance_vault.h"


#define ERRLEN  512

/* A value that must never appear in any error message. */
#define SECRET  "S3CRET-value-never-in-errors"


typedef struct {
    u_char  buf[70000];
    size_t  len;
} table_t;


static void tb_u16(table_t *t, unsigned n);
static void tb_u32(table_t *t, uint32_t n);
static void tb_u64(table_t *t, uint64_t n);
static void tb_bytes(table_t *t, const void *p, size_t len);
static void tb_entry(table_t *t, const char *name, uint64_t set_at,
    const char *secret);
static void tb_entry1(table_t *t, const char *name, uint64_t set_at,
    const char *secret);
static void make_small(u_char **buf, size_t *len);
static int open_image(const u_char *buf, size_t len, const u_char *key,
    char *err);
static int open_table(const table_t *t, char *err);
static void set_str(compliance_vault_t *v, const char *name,
    const char *secret, uint64_t set_at);
static size_t hex_decode(const char *hex, u_char **out);
static char *make_tmpdir(void);
static void remove_tmpdir(char *dir);
static void test_roundtrip(void **state);
static void test_empty_vault(void **state);
static void test_tamper_every_byte(void **state);
static void test_wrong_key(void **state);
static void test_truncated_every_length(void **state);
static void test_unknown_version(void **state);
static void test_bad_magic(void **state);
static void test_trailing_garbage(void **state);
static void test_oversized_image(void **state);
static void test_malformed_tables(void **state);
static void test_set_limits(void **state);
static void test_max_file_size(void **state);
static void test_set_replace_remove(void **state);
static void test_nonce_fresh(void **state);
static void test_save_load(void **state);
static void test_gcm_primitive(void **state);
static void test_wycheproof(void **state);
static void test_strerror(void **state);
static void test_created_age(void **state);
static void test_version_1(void **state);
static void test_parse_date(void **state);


static const u_char  key1[COMPLIANCE_VAULT_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20
};

static const u_char  key2[COMPLIANCE_VAULT_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x21
};


static void
tb_u16(table_t *t, unsigned n)
{
    assert_true(t->len + 2 <= sizeof(t->buf));
    t->buf[t->len++] = (u_char) (n >> 8);
    t->buf[t->len++] = (u_char) n;
}


static void
tb_u32(table_t *t, uint32_t n)
{
    tb_u16(t, n >> 16);
    tb_u16(t, n & 0xffff);
}


static void
tb_u64(table_t *t, uint64_t n)
{
    tb_u32(t, (uint32_t) (n >> 32));
    tb_u32(t, (uint32_t) n);
}


static void
tb_bytes(table_t *t, const void *p, size_t len)
{
    assert_true(t->len + len <= sizeof(t->buf));
    memcpy(t->buf + t->len, p, len);
    t->len += len;
}


static void
tb_entry(table_t *t, const char *name, uint64_t set_at, const char *secret)
{
    tb_u16(t, (unsigned) strlen(name));
    tb_bytes(t, name, strlen(name));
    tb_u64(t, set_at);
    tb_u64(t, set_at);
    tb_u32(t, (uint32_t) strlen(secret));
    tb_bytes(t, secret, strlen(secret));
}


/* a version 1 entry: no creation time */
static void
tb_entry1(table_t *t, const char *name, uint64_t set_at, const char *secret)
{
    tb_u16(t, (unsigned) strlen(name));
    tb_bytes(t, name, strlen(name));
    tb_u64(t, set_at);
    tb_u32(t, (uint32_t) strlen(secret));
    tb_bytes(t, secret, strlen(secret));
}


static void
set_str(compliance_vault_t *v, const char *name, const char *secret,
    uint64_t set_at)
{
    assert_int_equal(compliance_vault_set(v, (const u_char *) name,
                                          strlen(name),
                                          (const u_char *) secret,
                                          strlen(secret), set_at),
                     COMPLIANCE_VAULT_OK);
}


/* A one-entry vault image under key1. */
static void
make_small(u_char **buf, size_t *len)
{
    char                 err[ERRLEN];
    compliance_vault_t  *v;

    v = compliance_vault_new();
    assert_non_null(v);
    set_str(v, "db", SECRET, 1700000000);

    assert_int_equal(compliance_vault_encode(v, key1, buf, len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    compliance_vault_free(v);
}


/* Opens an image that must fail; checks the failure leaks nothing. */
static int
open_image(const u_char *buf, size_t len, const u_char *key, char *err)
{
    int                  rc;
    compliance_vault_t  *v;

    err[0] = '\0';
    v = (compliance_vault_t *) 1;

    rc = compliance_vault_open(&v, key, buf, len, err, ERRLEN);

    if (rc != COMPLIANCE_VAULT_OK) {
        assert_null(v);
        assert_true(err[0] != '\0');
        assert_null(strstr(err, SECRET));
    }

    compliance_vault_free(v);

    return rc;
}


static int
open_table(const table_t *t, char *err)
{
    int      rc;
    u_char  *img;
    size_t   len;

    assert_int_equal(compliance_vault_seal(key1, t->buf, t->len, &img, &len,
                                           err, ERRLEN),
                     COMPLIANCE_VAULT_OK);

    rc = open_image(img, len, key1, err);
    free(img);

    return rc;
}


static void
test_roundtrip(void **state)
{
    char                             err[ERRLEN];
    u_char                          *img;
    size_t                           len;
    compliance_vault_t              *v, *w;
    const compliance_vault_entry_t  *e;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);

    set_str(v, "zeta", "last", 3);
    set_str(v, "alpha", SECRET, 1);
    set_str(v, "mid.dle-name_1", "x", UINT64_MAX);

    /* binary secrets with NUL bytes survive */
    assert_int_equal(compliance_vault_set(v, (const u_char *) "bin", 3,
                                          (const u_char *) "a\0b\n", 4, 7),
                     COMPLIANCE_VAULT_OK);

    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_memory_equal(img, "CVLT\x02\0\0\0", 8);
    assert_null(memmem(img, len, SECRET, strlen(SECRET)));
    assert_null(memmem(img, len, "alpha", 5));

    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);

    assert_int_equal(compliance_vault_count(w), 4);

    /* iteration is in name order */
    assert_string_equal(compliance_vault_entry(w, 0)->name, "alpha");
    assert_string_equal(compliance_vault_entry(w, 1)->name, "bin");
    assert_string_equal(compliance_vault_entry(w, 2)->name,
                        "mid.dle-name_1");
    assert_string_equal(compliance_vault_entry(w, 3)->name, "zeta");
    assert_null(compliance_vault_entry(w, 4));

    e = compliance_vault_get(w, (const u_char *) "alpha", 5);
    assert_non_null(e);
    assert_int_equal(e->name_len, 5);
    assert_int_equal(e->secret_len, strlen(SECRET));
    assert_memory_equal(e->secret, SECRET, strlen(SECRET));
    assert_int_equal(e->secret[e->secret_len], '\0');
    assert_int_equal(e->set_at, 1);

    e = compliance_vault_get(w, (const u_char *) "bin", 3);
    assert_non_null(e);
    assert_int_equal(e->secret_len, 4);
    assert_memory_equal(e->secret, "a\0b\n", 4);

    e = compliance_vault_get(w, (const u_char *) "mid.dle-name_1", 14);
    assert_non_null(e);
    assert_true(e->set_at == UINT64_MAX);

    /* a prefix or an extension of a name is a different name */
    assert_null(compliance_vault_get(w, (const u_char *) "alph", 4));
    assert_null(compliance_vault_get(w, (const u_char *) "alphaa", 6));
    assert_null(compliance_vault_get(w, (const u_char *) "", 0));

    compliance_vault_free(v);
    compliance_vault_free(w);
}


static void
test_empty_vault(void **state)
{
    char                 err[ERRLEN];
    u_char              *img;
    size_t               len;
    compliance_vault_t  *v, *w;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);
    assert_int_equal(compliance_vault_count(v), 0);

    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    /* header + count + tag */
    assert_int_equal(len, COMPLIANCE_VAULT_HEADER_LEN + 4
                          + COMPLIANCE_VAULT_TAG_LEN);

    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_count(w), 0);

    free(img);
    compliance_vault_free(v);
    compliance_vault_free(w);
    compliance_vault_free(NULL);
}


/* Every single-bit and whole-byte change anywhere must be refused. */
static void
test_tamper_every_byte(void **state)
{
    int      rc, m;
    char     err[ERRLEN];
    u_char  *img;
    size_t   len, i;

    static const u_char  masks[] = { 0x01, 0x80, 0xff };

    (void) state;

    make_small(&img, &len);
    assert_int_equal(open_image(img, len, key1, err), COMPLIANCE_VAULT_OK);

    for (i = 0; i < len; i++) {
        for (m = 0; m < (int) sizeof(masks); m++) {
            img[i] ^= masks[m];
            rc = open_image(img, len, key1, err);
            img[i] ^= masks[m];

            if (i < 4) {
                assert_int_equal(rc, COMPLIANCE_VAULT_BAD_MAGIC);
                assert_string_equal(err, "bad magic: not a vault file");

            } else if (i == 4) {
                assert_int_equal(rc, COMPLIANCE_VAULT_BAD_VERSION);
                assert_non_null(strstr(err, "unknown version"));

            } else if (i < 8) {
                assert_int_equal(rc, COMPLIANCE_VAULT_MALFORMED);
                assert_non_null(strstr(err, "reserved"));

            } else if (i >= 20 && i < 24) {
                /* the length field: too long or too short for the file */
                assert_true(rc == COMPLIANCE_VAULT_TRUNCATED
                            || rc == COMPLIANCE_VAULT_MALFORMED);

            } else {
                /* nonce, ciphertext and tag */
                assert_int_equal(rc, COMPLIANCE_VAULT_AUTH);
                assert_string_equal(err, "authentication failed: wrong key "
                                    "or tampered file");
            }
        }
    }

    free(img);
}


static void
test_wrong_key(void **state)
{
    char     err[ERRLEN];
    u_char  *img;
    size_t   len;

    (void) state;

    make_small(&img, &len);

    assert_int_equal(open_image(img, len, key2, err), COMPLIANCE_VAULT_AUTH);
    assert_string_equal(err,
                        "authentication failed: wrong key or tampered file");
    assert_string_equal(compliance_vault_strerror(COMPLIANCE_VAULT_AUTH),
                        err);

    free(img);
}


static void
test_truncated_every_length(void **state)
{
    char     err[ERRLEN];
    u_char  *img, *copy;
    size_t   len, i;

    (void) state;

    make_small(&img, &len);

    for (i = 0; i < len; i++) {
        /* an exact-size copy, so valgrind sees any read past the end */
        copy = malloc(i ? i : 1);
        assert_non_null(copy);
        memcpy(copy, img, i);

        assert_int_equal(open_image(copy, i, key1, err),
                         COMPLIANCE_VAULT_TRUNCATED);
        assert_non_null(strstr(err, "truncated"));

        free(copy);
    }

    free(img);
}


static void
test_unknown_version(void **state)
{
    char     err[ERRLEN];
    u_char  *img;
    size_t   len;

    (void) state;

    make_small(&img, &len);

    img[4] = 3;
    assert_int_equal(open_image(img, len, key1, err),
                     COMPLIANCE_VAULT_BAD_VERSION);
    assert_string_equal(err, "unknown version 3");

    img[4] = 0;
    assert_int_equal(open_image(img, len, key1, err),
                     COMPLIANCE_VAULT_BAD_VERSION);
    assert_string_equal(err, "unknown version 0");

    /* the version is judged even when the rest is missing */
    img[4] = 255;
    assert_int_equal(open_image(img, 5, key1, err),
                     COMPLIANCE_VAULT_BAD_VERSION);
    assert_string_equal(err, "unknown version 255");

    free(img);
}


static void
test_bad_magic(void **state)
{
    char     err[ERRLEN];
    u_char  *img;
    size_t   len;

    (void) state;

    make_small(&img, &len);

    memcpy(img, "CVLU", 4);
    assert_int_equal(open_image(img, len, key1, err),
                     COMPLIANCE_VAULT_BAD_MAGIC);
    assert_string_equal(err, "bad magic: not a vault file");

    assert_int_equal(open_image((const u_char *) "{\"json\": 1}", 11, key1,
                                err),
                     COMPLIANCE_VAULT_BAD_MAGIC);

    /* a short file that starts wrong is not a vault, not a truncated one */
    assert_int_equal(open_image((const u_char *) "X", 1, key1, err),
                     COMPLIANCE_VAULT_BAD_MAGIC);

    free(img);
}


static void
test_trailing_garbage(void **state)
{
    char     err[ERRLEN];
    u_char  *img, *big;
    size_t   len;

    (void) state;

    make_small(&img, &len);

    big = malloc(len + 1);
    assert_non_null(big);
    memcpy(big, img, len);
    big[len] = '\n';

    assert_int_equal(open_image(big, len + 1, key1, err),
                     COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "trailing"));

    free(big);
    free(img);
}


static void
test_oversized_image(void **state)
{
    char     err[ERRLEN];
    u_char  *img, *out;
    size_t   len;

    (void) state;

    make_small(&img, &len);

    /* the size bound is checked before anything is read */
    assert_int_equal(open_image(img, COMPLIANCE_VAULT_MAX_FILE + 1, key1,
                                err),
                     COMPLIANCE_VAULT_TOO_LARGE);

    assert_int_equal(compliance_vault_seal(key1, img,
                                           COMPLIANCE_VAULT_MAX_FILE, &out,
                                           &len, err, sizeof(err)),
                     COMPLIANCE_VAULT_TOO_LARGE);
    assert_null(out);
    assert_int_equal(len, 0);

    free(img);
}


static void
test_malformed_tables(void **state)
{
    int                              i;
    char                             err[ERRLEN], name[200];
    table_t                         *t;
    u_char                          *img;
    size_t                           len;
    compliance_vault_t              *v;
    const compliance_vault_entry_t  *e;

    (void) state;

    t = calloc(1, sizeof(table_t));
    assert_non_null(t);

    /* a well-formed table in any order opens, sorted */
    tb_u32(t, 2);
    tb_entry(t, "b", 2, SECRET);
    tb_entry(t, "a", 1, "one");
    assert_int_equal(compliance_vault_seal(key1, t->buf, t->len, &img, &len,
                                           err, sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_open(&v, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);
    assert_string_equal(compliance_vault_entry(v, 0)->name, "a");
    e = compliance_vault_get(v, (const u_char *) "b", 1);
    assert_non_null(e);
    assert_memory_equal(e->secret, SECRET, strlen(SECRET));
    compliance_vault_free(v);

    /* duplicate names */
    t->len = 0;
    tb_u32(t, 3);
    tb_entry(t, "dup", 1, SECRET);
    tb_entry(t, "other", 1, "x");
    tb_entry(t, "dup", 2, "y");
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "duplicate name \"dup\""));

    /* an empty table has no count */
    t->len = 0;
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);

    /* count larger than the table can hold */
    t->len = 0;
    tb_u32(t, 0xffffffff);
    tb_entry(t, "a", 1, "x");
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "cannot fit"));

    /* count smaller than the entries present: trailing bytes */
    t->len = 0;
    tb_u32(t, 1);
    tb_entry(t, "a", 1, "x");
    tb_entry(t, "b", 1, SECRET);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "trailing"));

    /* count larger than the entries present */
    t->len = 0;
    tb_u32(t, 2);
    tb_entry(t, "a", 1, SECRET);
    tb_bytes(t, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 19);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);

    /* a secret running past the end */
    t->len = 0;
    tb_u32(t, 1);
    tb_u16(t, 1);
    tb_bytes(t, "a", 1);
    tb_u64(t, 1);
    tb_u64(t, 1);
    tb_u32(t, 100);
    tb_bytes(t, SECRET, strlen(SECRET));
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "runs past"));

    /* zero-length name */
    t->len = 0;
    tb_u32(t, 1);
    tb_entry(t, "", 1, SECRET);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "name length 0"));

    /* zero-length secret (a second entry keeps the count plausible) */
    t->len = 0;
    tb_u32(t, 2);
    tb_entry(t, "a", 1, "");
    tb_entry(t, "b", 1, SECRET);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "secret length 0"));

    /* names: 128 bytes is the limit, and only [A-Za-z0-9_.-] */
    memset(name, 'n', sizeof(name));
    name[COMPLIANCE_VAULT_MAX_NAME] = '\0';
    t->len = 0;
    tb_u32(t, 1);
    tb_entry(t, name, 1, SECRET);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_OK);

    name[COMPLIANCE_VAULT_MAX_NAME] = 'n';
    name[COMPLIANCE_VAULT_MAX_NAME + 1] = '\0';
    t->len = 0;
    tb_u32(t, 1);
    tb_entry(t, name, 1, SECRET);
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "name length 129"));

    for (i = 0; i < 3; i++) {
        t->len = 0;
        tb_u32(t, 1);
        tb_entry(t, i == 0 ? "a b" : i == 1 ? "a/b" : "a\nb", 1, SECRET);
        assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
        assert_non_null(strstr(err, "outside"));
    }

    /* secrets: 16384 bytes is the limit */
    t->len = 0;
    tb_u32(t, 1);
    tb_u16(t, 1);
    tb_bytes(t, "a", 1);
    tb_u64(t, 1);
    tb_u64(t, 1);
    tb_u32(t, COMPLIANCE_VAULT_MAX_SECRET);
    memset(t->buf + t->len, 's', COMPLIANCE_VAULT_MAX_SECRET);
    t->len += COMPLIANCE_VAULT_MAX_SECRET;
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_OK);

    t->len = 0;
    tb_u32(t, 1);
    tb_u16(t, 1);
    tb_bytes(t, "a", 1);
    tb_u64(t, 1);
    tb_u64(t, 1);
    tb_u32(t, COMPLIANCE_VAULT_MAX_SECRET + 1);
    memset(t->buf + t->len, 's', COMPLIANCE_VAULT_MAX_SECRET + 1);
    t->len += COMPLIANCE_VAULT_MAX_SECRET + 1;
    assert_int_equal(open_table(t, err), COMPLIANCE_VAULT_MALFORMED);
    assert_non_null(strstr(err, "secret length 16385"));

    free(t);
}


static void
test_set_limits(void **state)
{
    char                 name[200];
    u_char              *big;
    compliance_vault_t  *v;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);

    memset(name, 'a', sizeof(name));

    assert_int_equal(compliance_vault_set(v, (const u_char *) name,
                                          COMPLIANCE_VAULT_MAX_NAME,
                                          (const u_char *) "x", 1, 0),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_set(v, (const u_char *) name,
                                          COMPLIANCE_VAULT_MAX_NAME + 1,
                                          (const u_char *) "x", 1, 0),
                     COMPLIANCE_VAULT_INVALID);
    assert_int_equal(compliance_vault_set(v, (const u_char *) name, 0,
                                          (const u_char *) "x", 1, 0),
                     COMPLIANCE_VAULT_INVALID);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "a=b", 3,
                                          (const u_char *) "x", 1, 0),
                     COMPLIANCE_VAULT_INVALID);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "a\0", 2,
                                          (const u_char *) "x", 1, 0),
                     COMPLIANCE_VAULT_INVALID);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "a", 1,
                                          (const u_char *) "", 0, 0),
                     COMPLIANCE_VAULT_INVALID);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "a", 1,
                                          NULL, 1, 0),
                     COMPLIANCE_VAULT_INVALID);

    big = malloc(COMPLIANCE_VAULT_MAX_SECRET + 1);
    assert_non_null(big);
    memset(big, 0, COMPLIANCE_VAULT_MAX_SECRET + 1);

    assert_int_equal(compliance_vault_set(v, (const u_char *) "big", 3, big,
                                          COMPLIANCE_VAULT_MAX_SECRET, 0),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "big2", 4, big,
                                          COMPLIANCE_VAULT_MAX_SECRET + 1, 0),
                     COMPLIANCE_VAULT_INVALID);

    /* refused calls changed nothing */
    assert_int_equal(compliance_vault_count(v), 2);
    assert_non_null(compliance_vault_get(v, (const u_char *) "big", 3));
    assert_null(compliance_vault_get(v, (const u_char *) "big2", 4));

    assert_int_equal(compliance_vault_name_valid((const u_char *) "A-z_0.9",
                                                 7), 1);
    assert_int_equal(compliance_vault_name_valid(NULL, 0), 0);

    free(big);
    compliance_vault_free(v);
}


/* The 4 MiB file bound is enforced when adding, and the result opens. */
static void
test_max_file_size(void **state)
{
    int                  rc;
    char                 err[ERRLEN], name[16];
    u_char              *big, *img;
    size_t               i, len;
    compliance_vault_t  *v, *w;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);

    big = malloc(COMPLIANCE_VAULT_MAX_SECRET);
    assert_non_null(big);
    memset(big, 'z', COMPLIANCE_VAULT_MAX_SECRET);

    rc = COMPLIANCE_VAULT_OK;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "k%04zu", i);
        rc = compliance_vault_set(v, (const u_char *) name, strlen(name),
                                  big, COMPLIANCE_VAULT_MAX_SECRET, i);
        if (rc != COMPLIANCE_VAULT_OK) {
            break;
        }
    }

    assert_int_equal(rc, COMPLIANCE_VAULT_TOO_LARGE);
    assert_int_equal(compliance_vault_count(v), i);
    assert_true(i > 200 && i < 260);

    /* a smaller secret still fits; replacing with a larger one may not */
    assert_int_equal(compliance_vault_set(v, (const u_char *) "tiny", 4,
                                          big, 1, 0),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_set(v, (const u_char *) "tiny", 4,
                                          big, COMPLIANCE_VAULT_MAX_SECRET,
                                          9),
                     COMPLIANCE_VAULT_TOO_LARGE);
    assert_int_equal(compliance_vault_get(v, (const u_char *) "tiny",
                                          4)->secret_len, 1);

    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_true(len <= COMPLIANCE_VAULT_MAX_FILE);
    assert_true(len > COMPLIANCE_VAULT_MAX_FILE - 2 * 16500);

    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_count(w), i + 1);

    free(img);
    free(big);
    compliance_vault_free(v);
    compliance_vault_free(w);
}


static void
test_set_replace_remove(void **state)
{
    char                             err[ERRLEN];
    u_char                          *img;
    size_t                           len, len2;
    compliance_vault_t              *v, *w;
    const compliance_vault_entry_t  *e;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);

    set_str(v, "a", "first", 10);
    set_str(v, "b", "bee", 11);
    set_str(v, "c", "sea", 12);

    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);

    /* replace: same count, new value and time, size tracks the change */
    set_str(v, "a", "second-longer", 20);
    assert_int_equal(compliance_vault_count(v), 3);
    e = compliance_vault_get(v, (const u_char *) "a", 1);
    assert_non_null(e);
    assert_int_equal(e->secret_len, 13);
    assert_memory_equal(e->secret, "second-longer", 13);
    assert_int_equal(e->set_at, 20);

    assert_int_equal(compliance_vault_encode(v, key1, &img, &len2, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(len2, len + 8);
    free(img);

    /* remove */
    assert_int_equal(compliance_vault_remove(v, (const u_char *) "b", 1),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_count(v), 2);
    assert_null(compliance_vault_get(v, (const u_char *) "b", 1));
    assert_string_equal(compliance_vault_entry(v, 0)->name, "a");
    assert_string_equal(compliance_vault_entry(v, 1)->name, "c");

    assert_int_equal(compliance_vault_remove(v, (const u_char *) "b", 1),
                     COMPLIANCE_VAULT_NOT_FOUND);
    assert_int_equal(compliance_vault_remove(v, (const u_char *) "zz", 2),
                     COMPLIANCE_VAULT_NOT_FOUND);

    /* the serialized form matches the in-memory state */
    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);

    assert_int_equal(compliance_vault_count(w), 2);
    e = compliance_vault_get(w, (const u_char *) "c", 1);
    assert_non_null(e);
    assert_memory_equal(e->secret, "sea", 3);
    assert_int_equal(e->set_at, 12);

    /* remove everything, then add again */
    assert_int_equal(compliance_vault_remove(v, (const u_char *) "a", 1),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_remove(v, (const u_char *) "c", 1),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_count(v), 0);
    set_str(v, "new", "value", 1);
    assert_int_equal(compliance_vault_count(v), 1);

    compliance_vault_free(v);
    compliance_vault_free(w);
}


static void
test_nonce_fresh(void **state)
{
    char                 err[ERRLEN];
    u_char              *a, *b;
    size_t               alen, blen;
    compliance_vault_t  *v;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);
    set_str(v, "db", SECRET, 5);

    assert_int_equal(compliance_vault_encode(v, key1, &a, &alen, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_encode(v, key1, &b, &blen, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);

    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, 8);
    assert_memory_not_equal(a + 8, b + 8, COMPLIANCE_VAULT_NONCE_LEN);
    assert_memory_equal(a + 20, b + 20, 4);
    assert_memory_not_equal(a + COMPLIANCE_VAULT_HEADER_LEN,
                            b + COMPLIANCE_VAULT_HEADER_LEN,
                            alen - COMPLIANCE_VAULT_HEADER_LEN);

    free(a);
    free(b);
    compliance_vault_free(v);
}


static char *
make_tmpdir(void)
{
    char  *dir;

    dir = strdup("/tmp/test_vault.XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));

    return dir;
}


static void
remove_tmpdir(char *dir)
{
    char            path[512];
    DIR            *d;
    struct dirent  *de;

    d = opendir(dir);
    assert_non_null(d);

    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }

    closedir(d);
    rmdir(dir);
    free(dir);
}


static void
test_save_load(void **state)
{
    int                              fd, files;
    char                             err[ERRLEN], path[512], *dir;
    DIR                             *d;
    struct stat                      st;
    struct dirent                   *de;
    compliance_vault_t              *v, *w;
    const compliance_vault_entry_t  *e;

    (void) state;

    dir = make_tmpdir();
    snprintf(path, sizeof(path), "%s/vault.bin", dir);

    assert_int_equal(compliance_vault_load(&w, path, key1, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_NOENT);
    assert_null(w);

    v = compliance_vault_new();
    assert_non_null(v);
    set_str(v, "svc", SECRET, 42);

    /* saving twice replaces the file */
    assert_int_equal(compliance_vault_save(v, path, key1, err, sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    set_str(v, "svc2", "two", 43);
    assert_int_equal(compliance_vault_save(v, path, key1, err, sizeof(err)),
                     COMPLIANCE_VAULT_OK);

    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    /* no temporary file is left behind */
    files = 0;
    d = opendir(dir);
    assert_non_null(d);

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            files++;
            assert_string_equal(de->d_name, "vault.bin");
        }
    }

    closedir(d);
    assert_int_equal(files, 1);

    assert_int_equal(compliance_vault_load(&w, path, key1, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_count(w), 2);
    e = compliance_vault_get(w, (const u_char *) "svc", 3);
    assert_non_null(e);
    assert_memory_equal(e->secret, SECRET, strlen(SECRET));
    compliance_vault_free(w);

    /* errors from a file name it and keep the cause */
    assert_int_equal(compliance_vault_load(&w, path, key2, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_AUTH);
    assert_non_null(strstr(err, "vault.bin"));
    assert_non_null(strstr(err, "authentication failed"));
    assert_null(strstr(err, SECRET));

    assert_int_equal(compliance_vault_load(&w, dir, key1, err, sizeof(err)),
                     COMPLIANCE_VAULT_IO);

    /* an oversized file is refused by its size, not read */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd != -1);
    assert_int_equal(ftruncate(fd, COMPLIANCE_VAULT_MAX_FILE + 1), 0);
    close(fd);
    assert_int_equal(compliance_vault_load(&w, path, key1, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_TOO_LARGE);

    /* an unwritable target leaves nothing behind and says why */
    snprintf(path, sizeof(path), "%s/missing-dir/vault.bin", dir);
    assert_int_equal(compliance_vault_save(v, path, key1, err, sizeof(err)),
                     COMPLIANCE_VAULT_IO);
    assert_non_null(strstr(err, "missing-dir"));

    compliance_vault_free(v);
    remove_tmpdir(dir);
}


static void
test_gcm_primitive(void **state)
{
    u_char  nonce[COMPLIANCE_VAULT_NONCE_LEN], tag[16], ct[32], pt[32];

    static const u_char  msg[32] = "thirty-two bytes of plaintext!!";
    static const u_char  aad[5] = "hdr01";

    (void) state;

    memset(nonce, 7, sizeof(nonce));

    assert_int_equal(compliance_vault_gcm_seal(key1, nonce, aad, 5, msg, 32,
                                               ct, tag),
                     COMPLIANCE_VAULT_OK);
    assert_memory_not_equal(ct, msg, 32);

    assert_int_equal(compliance_vault_gcm_open(key1, nonce, aad, 5, ct, 32,
                                               tag, pt),
                     COMPLIANCE_VAULT_OK);
    assert_memory_equal(pt, msg, 32);

    /* failures leave no plaintext in the output */
    memset(pt, 0xaa, sizeof(pt));
    assert_int_equal(compliance_vault_gcm_open(key1, nonce, aad, 4, ct, 32,
                                               tag, pt),
                     COMPLIANCE_VAULT_AUTH);
    assert_memory_equal(pt, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 32);

    assert_int_equal(compliance_vault_gcm_open(key2, nonce, aad, 5, ct, 32,
                                               tag, pt),
                     COMPLIANCE_VAULT_AUTH);

    tag[15] ^= 1;
    assert_int_equal(compliance_vault_gcm_open(key1, nonce, aad, 5, ct, 32,
                                               tag, pt),
                     COMPLIANCE_VAULT_AUTH);
    tag[15] ^= 1;

    nonce[0] ^= 1;
    assert_int_equal(compliance_vault_gcm_open(key1, nonce, aad, 5, ct, 32,
                                               tag, pt),
                     COMPLIANCE_VAULT_AUTH);
    nonce[0] ^= 1;

    /* empty message and empty aad */
    assert_int_equal(compliance_vault_gcm_seal(key1, nonce, NULL, 0, NULL, 0,
                                               NULL, tag),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_gcm_open(key1, nonce, NULL, 0, NULL, 0,
                                               tag, NULL),
                     COMPLIANCE_VAULT_OK);
    tag[0] ^= 0x80;
    assert_int_equal(compliance_vault_gcm_open(key1, nonce, NULL, 0, NULL, 0,
                                               tag, NULL),
                     COMPLIANCE_VAULT_AUTH);
}


static size_t
hex_decode(const char *hex, u_char **out)
{
    size_t        i, n;
    unsigned int  b;

    n = strlen(hex);
    assert_int_equal(n % 2, 0);

    *out = malloc(n / 2 + 1);
    assert_non_null(*out);

    for (i = 0; i < n / 2; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
        (*out)[i] = (u_char) b;
    }

    return n / 2;
}


static void
test_wycheproof(void **state)
{
    int           rc;
    char          path[512];
    size_t        gi, ti, run, skipped, valid, invalid;
    size_t        klen, ivlen, alen, mlen, clen, tlen;
    u_char       *key, *iv, *aad, *msg, *ct, *tag, *out, *otag;
    json_t       *root, *groups, *g, *tests, *t;
    json_error_t  jerr;
    const char   *result;

    (void) state;

    snprintf(path, sizeof(path), "%s/wycheproof/aes_gcm_test.json",
             unit_testdata_dir());

    if (access(path, R_OK) != 0) {
        fail_msg("no Wycheproof vectors at %s (COMPLIANCE_TESTDATA?)", path);
    }

    root = json_load_file(path, 0, &jerr);
    assert_non_null(root);

    groups = json_object_get(root, "testGroups");
    assert_true(json_is_array(groups));

    run = skipped = valid = invalid = 0;

    json_array_foreach(groups, gi, g) {
        tests = json_object_get(g, "tests");
        assert_true(json_is_array(tests));

        /* the vault uses exactly one parameter set; others by design not */
        if (json_integer_value(json_object_get(g, "keySize")) != 256
            || json_integer_value(json_object_get(g, "ivSize")) != 96
            || json_integer_value(json_object_get(g, "tagSize")) != 128)
        {
            skipped += json_array_size(tests);
            continue;
        }

        json_array_foreach(tests, ti, t) {
            klen = hex_decode(json_string_value(json_object_get(t, "key")),
                              &key);
            ivlen = hex_decode(json_string_value(json_object_get(t, "iv")),
                               &iv);
            alen = hex_decode(json_string_value(json_object_get(t, "aad")),
                              &aad);
            mlen = hex_decode(json_string_value(json_object_get(t, "msg")),
                              &msg);
            clen = hex_decode(json_string_value(json_object_get(t, "ct")),
                              &ct);
            tlen = hex_decode(json_string_value(json_object_get(t, "tag")),
                              &tag);
            result = json_string_value(json_object_get(t, "result"));
            assert_non_null(result);

            assert_int_equal(klen, 32);
            assert_int_equal(ivlen, 12);
            assert_int_equal(tlen, 16);

            out = malloc(clen + 1);
            otag = malloc(16);
            assert_non_null(out);
            assert_non_null(otag);

            rc = compliance_vault_gcm_open(key, iv, aad, alen, ct, clen, tag,
                                           out);

            if (strcmp(result, "valid") == 0) {
                if (rc != COMPLIANCE_VAULT_OK) {
                    fail_msg("tcId %d: valid vector refused",
                             (int) json_integer_value(
                                 json_object_get(t, "tcId")));
                }

                assert_int_equal(clen, mlen);
                assert_memory_equal(out, msg, mlen);

                /* and sealing reproduces the expected ciphertext and tag */
                assert_int_equal(compliance_vault_gcm_seal(key, iv, aad,
                                                           alen, msg, mlen,
                                                           out, otag),
                                 COMPLIANCE_VAULT_OK);
                assert_memory_equal(out, ct, clen);
                assert_memory_equal(otag, tag, 16);
                valid++;

            } else if (strcmp(result, "invalid") == 0) {
                if (rc != COMPLIANCE_VAULT_AUTH) {
                    fail_msg("tcId %d: invalid vector accepted (rc %d)",
                             (int) json_integer_value(
                                 json_object_get(t, "tcId")), rc);
                }

                invalid++;

            } else {
                /* "acceptable": either outcome is allowed */
                assert_true(rc == COMPLIANCE_VAULT_OK
                            || rc == COMPLIANCE_VAULT_AUTH);
            }

            run++;

            free(key);
            free(iv);
            free(aad);
            free(msg);
            free(ct);
            free(tag);
            free(out);
            free(otag);
        }
    }

    json_decref(root);

    print_message("wycheproof aes_gcm: %zu run (%zu valid, %zu invalid), "
                  "%zu skipped (key/iv/tag size other than 256/96/128)\n",
                  run, valid, invalid, skipped);

    assert_true(run > 0);
    assert_true(valid > 0);
    assert_true(invalid > 0);
}


static void
test_strerror(void **state)
{
    int  rc;

    (void) state;

    for (rc = 0; rc >= COMPLIANCE_VAULT_NOT_FOUND - 1; rc--) {
        assert_non_null(compliance_vault_strerror(rc));
        assert_true(strlen(compliance_vault_strerror(rc)) > 0);
    }

    assert_string_equal(compliance_vault_strerror(COMPLIANCE_VAULT_NOT_FOUND),
                        "no such entry");
}


/* the age of a secret: kept when the same secret is set again */
static void
test_created_age(void **state)
{
    char                             err[ERRLEN];
    u_char                          *img;
    size_t                           len;
    uint64_t                         age;
    compliance_vault_t              *v, *w;
    const compliance_vault_entry_t  *e;

    (void) state;

    v = compliance_vault_new();
    assert_non_null(v);

    set_str(v, "a", "one", 100);
    e = compliance_vault_get(v, (const u_char *) "a", 1);
    assert_int_equal(e->created, 100);
    assert_int_equal(e->set_at, 100);

    /* the same secret again: written later, as old as before */
    set_str(v, "a", "one", 200);
    e = compliance_vault_get(v, (const u_char *) "a", 1);
    assert_int_equal(e->created, 100);
    assert_int_equal(e->set_at, 200);

    /* a new secret (a longer one, then one of the same length) is new */
    set_str(v, "a", "one-two", 300);
    e = compliance_vault_get(v, (const u_char *) "a", 1);
    assert_int_equal(e->created, 300);
    set_str(v, "a", "one-tw0", 400);
    e = compliance_vault_get(v, (const u_char *) "a", 1);
    assert_int_equal(e->created, 400);

    /* an import states its date; unknown stays unknown on a same set */
    assert_int_equal(compliance_vault_set_created(v, (const u_char *) "a",
                                                  1, 50),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_set_created(v, (const u_char *) "b",
                                                  1, 50),
                     COMPLIANCE_VAULT_NOT_FOUND);
    assert_int_equal(e->created, 50);

    assert_int_equal(compliance_vault_entry_age(e, 86450, &age), 1);
    assert_int_equal(age, 86400);
    assert_int_equal(compliance_vault_entry_age(e, 10, &age), 1);
    assert_int_equal(age, 0);

    assert_int_equal(compliance_vault_set_created(v, (const u_char *) "a",
                                                  1, 0),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_entry_age(e, 86450, &age), 0);
    set_str(v, "a", "one-tw0", 500);
    assert_int_equal(e->created, 0);

    /* both times survive the file */
    set_str(v, "b", "bee", 600);
    assert_int_equal(compliance_vault_set_created(v, (const u_char *) "b",
                                                  1, 7),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_encode(v, key1, &img, &len, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);

    e = compliance_vault_get(w, (const u_char *) "a", 1);
    assert_int_equal(e->created, 0);
    assert_int_equal(e->set_at, 500);
    e = compliance_vault_get(w, (const u_char *) "b", 1);
    assert_int_equal(e->created, 7);
    assert_int_equal(e->set_at, 600);

    compliance_vault_free(v);
    compliance_vault_free(w);
}


/* files of version 1 open, with ages unknown, and are written as 2 */
static void
test_version_1(void **state)
{
    char                             err[ERRLEN];
    table_t                         *t;
    u_char                          *img, *img2;
    size_t                           len, len2;
    compliance_vault_t              *v, *w;
    const compliance_vault_entry_t  *e;

    (void) state;

    t = calloc(1, sizeof(table_t));
    assert_non_null(t);

    tb_u32(t, 2);
    tb_entry1(t, "old", 1234, SECRET);
    tb_entry1(t, "older", 99, "x");
    assert_int_equal(compliance_vault_seal_version(key1, 1, t->buf, t->len,
                                                   &img, &len, err,
                                                   sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(img[4], 1);
    assert_int_equal(compliance_vault_open(&v, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img);

    e = compliance_vault_get(v, (const u_char *) "old", 3);
    assert_non_null(e);
    assert_int_equal(e->set_at, 1234);
    assert_int_equal(e->created, 0);
    assert_memory_equal(e->secret, SECRET, strlen(SECRET));

    /* written back as version 2: 8 more bytes an entry */
    assert_int_equal(compliance_vault_encode(v, key1, &img2, &len2, err,
                                             sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(img2[4], COMPLIANCE_VAULT_VERSION);
    assert_int_equal(len2, len + 16);
    assert_int_equal(compliance_vault_open(&w, key1, img2, len2, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    free(img2);

    e = compliance_vault_get(w, (const u_char *) "older", 5);
    assert_non_null(e);
    assert_int_equal(e->set_at, 99);
    assert_int_equal(e->created, 0);

    /* a version 2 table under a version 1 header is malformed */
    t->len = 0;
    tb_u32(t, 1);
    tb_entry(t, "a", 1, SECRET);
    assert_int_equal(compliance_vault_seal_version(key1, 1, t->buf, t->len,
                                                   &img, &len, err,
                                                   sizeof(err)),
                     COMPLIANCE_VAULT_OK);
    assert_int_equal(compliance_vault_open(&w, key1, img, len, err,
                                           sizeof(err)),
                     COMPLIANCE_VAULT_MALFORMED);
    assert_null(w);
    assert_null(strstr(err, SECRET));
    free(img);

    compliance_vault_free(v);
    free(t);
}


static void
test_parse_date(void **state)
{
    size_t    i;
    uint64_t  t;

    static const struct {
        const char  *in;
        uint64_t     t;
    } good[] = {
        { "1970-01-01", 0 },
        { "2026-12-04", 1796342400 },
        { "2000-02-29T23:59:59Z", 951868799 },
        { "9999-12-31T23:59:59Z", 253402300799ULL },
    };

    static const char  *bad[] = {
        "1969-12-31", "2025-02-29", "1900-02-29", "2026-13-01",
        "2026-04-31", "2026-1-01", "2026+01-01", "-026-01-01",
        "2026-01-01T24:00:00Z", "2026-01-01T10:60:00Z",
        "2026-01-01 10:00:00Z", "2026-01-01T10:00:00+", "2026-01-01T",
        "2026-01-01T1a:00:00Z", ""
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(compliance_vault_parse_date((u_char *) good[i].in,
                                                     strlen(good[i].in), &t),
                         COMPLIANCE_VAULT_OK);
        assert_true(t == good[i].t);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(compliance_vault_parse_date((u_char *) bad[i],
                                                     strlen(bad[i]), &t),
                         COMPLIANCE_VAULT_INVALID);
    }

    assert_int_equal(compliance_vault_parse_date(NULL, 0, &t),
                     COMPLIANCE_VAULT_INVALID);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_empty_vault),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_oversized_image),
        cmocka_unit_test(test_malformed_tables),
        cmocka_unit_test(test_set_limits),
        cmocka_unit_test(test_max_file_size),
        cmocka_unit_test(test_set_replace_remove),
        cmocka_unit_test(test_nonce_fresh),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_gcm_primitive),
        cmocka_unit_test(test_wycheproof),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_created_age),
        cmocka_unit_test(test_version_1),
        cmocka_unit_test(test_parse_date),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

