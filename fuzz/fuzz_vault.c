/*
 * libFuzzer harness for the credential vault reader and the key-file
 * parsers the configuration feeds in.  The first byte selects:
 *
 *   bit 1 set   the rest is a key file: compliance_jwt_keyset_load_mem()
 *               (JWK, JWKS, PEM) and compliance_secret_parse(), and an
 *               import date: compliance_vault_parse_date();
 *   odd         the rest is an entry table, sealed here under the fixed
 *               key and opened, so the plaintext parser is reached (with
 *               bit 2 set, as a version 1 table);
 *   even        the rest is a raw vault file image (header, length and
 *               tag checks).
 *
 * Oracles: a refused vault leaves no object behind; a vault that opens is
 * encoded and opened again and must come back entry for entry (name,
 * secret, set_at, created, lookup by name), then survives a set and a
 * remove.  A date that parses is within 1970..9999.
 */

#include <stdint.h>
#include <string.h>

#include "compliance_jwt.h"
#include "compliance_secret.h"
#include "compliance_vault.h"

#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_vault_roundtrip(const compliance_vault_t *v);
static void fuzz_vault_keys(const u_char *in, size_t len);


static const u_char  fuzz_vault_key[COMPLIANCE_VAULT_KEY_LEN] =
    FUZZ_VAULT_KEY;


static void
fuzz_vault_roundtrip(const compliance_vault_t *v)
{
    char                             err[256];
    u_char                          *img;
    size_t                           len, i;
    compliance_vault_t              *w;
    const compliance_vault_entry_t  *a, *b;

    if (compliance_vault_encode(v, fuzz_vault_key, &img, &len, err,
                                sizeof(err))
        != COMPLIANCE_VAULT_OK)
    {
        fprintf(stderr, "fuzz_vault: an opened vault does not encode: %s\n",
                err);
        abort();
    }

    if (compliance_vault_open(&w, fuzz_vault_key, img, len, err, sizeof(err))
        != COMPLIANCE_VAULT_OK)
    {
        fprintf(stderr, "fuzz_vault: encoded vault does not reopen: %s\n",
                err);
        abort();
    }

    if (compliance_vault_count(v) != compliance_vault_count(w)) {
        fprintf(stderr, "fuzz_vault: round trip changed the count\n");
        abort();
    }

    for (i = 0; i < compliance_vault_count(v); i++) {
        a = compliance_vault_entry(v, i);
        b = compliance_vault_entry(w, i);

        if (a->name_len != b->name_len || a->secret_len != b->secret_len
            || memcmp(a->name, b->name, a->name_len) != 0
            || memcmp(a->secret, b->secret, a->secret_len) != 0
            || a->set_at != b->set_at
            || a->created != b->created
            || compliance_vault_get(w, a->name, a->name_len) != b)
        {
            fprintf(stderr, "fuzz_vault: round trip changed entry %zu\n", i);
            abort();
        }
    }

    if (compliance_vault_count(w) > 0) {
        a = compliance_vault_entry(w, 0);

        if (compliance_vault_remove(w, a->name, a->name_len)
            != COMPLIANCE_VAULT_OK)
        {
            fprintf(stderr, "fuzz_vault: entry 0 cannot be removed\n");
            abort();
        }
    }

    (void) compliance_vault_set(w, (u_char *) "zz", 2, (u_char *) "s", 1, 1);

    compliance_vault_free(w);
    free(img);
}


static void
fuzz_vault_keys(const u_char *in, size_t len)
{
    char                      err[256];
    u_char                    k[COMPLIANCE_SECRET_LEN];
    uint64_t                  t;
    compliance_jwt_keyset_t  *ks;

    ks = compliance_jwt_keyset_create();
    if (ks == NULL) {
        abort();
    }

    (void) compliance_jwt_keyset_load_mem(ks, in, len, "fuzz", err,
                                          sizeof(err));
    compliance_jwt_keyset_free(ks);

    (void) compliance_secret_parse(in, len, k, err, sizeof(err));

    if (compliance_vault_parse_date(in, len, &t) == COMPLIANCE_VAULT_OK
        && t > 253402300799ULL)
    {
        fprintf(stderr, "fuzz_vault: a date past 9999-12-31\n");
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    char                 err[256];
    u_char              *in, *img;
    size_t               len, ilen;
    compliance_vault_t  *v;

    if (size == 0) {
        return 0;
    }

    /* an exact-size copy, so ASan sees any over-read */
    ilen = size - 1;

    in = malloc(ilen ? ilen : 1);
    if (in == NULL) {
        abort();
    }

    memcpy(in, data + 1, ilen);

    if (data[0] & 2) {
        fuzz_vault_keys(in, ilen);
        free(in);
        return 0;
    }

    if (data[0] & 1) {
        if (compliance_vault_seal_version(fuzz_vault_key,
                                          (data[0] & 4)
                                          ? COMPLIANCE_VAULT_VERSION_1
                                          : COMPLIANCE_VAULT_VERSION,
                                          in, ilen, &img, &len, err,
                                          sizeof(err))
            != COMPLIANCE_VAULT_OK)
        {
            free(in);
            return 0;
        }

        rc = compliance_vault_open(&v, fuzz_vault_key, img, len, err,
                                   sizeof(err));
        free(img);

    } else {
        rc = compliance_vault_open(&v, fuzz_vault_key, in, ilen, err,
                                   sizeof(err));
    }

    if (rc == COMPLIANCE_VAULT_OK) {
        fuzz_vault_roundtrip(v);
        compliance_vault_free(v);

    } else if (v != NULL) {
        fprintf(stderr, "fuzz_vault: refused vault left an object: %s\n",
                err);
        abort();
    }

    free(in);

    return 0;
}
