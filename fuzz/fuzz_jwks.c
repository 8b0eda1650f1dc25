/*
 * libFuzzer harness for the reader of key sets fetched from an identity
 * provider (compliance_jwt_keyset_load_remote(), SPEC 14): the input is
 * the body a provider answered.
 *
 * Oracles (abort, so libFuzzer keeps the input):
 *   - a refused set leaves no key and no algorithm behind;
 *   - an accepted set holds 1 to COMPLIANCE_JWKS_MAX_KEYS keys, none of
 *     them symmetric, each serving at least one algorithm, and its
 *     algorithms are the union of its keys';
 *   - the reader is deterministic (a second load agrees);
 *   - a set accepted with nothing skipped is a key file too: the rules
 *     of compliance_jwt_keyset_load_mem() hold for it, with the same
 *     keys.
 */

#include <stdint.h>
#include <string.h>

#include "compliance_jwt.h"

#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                          rc, rc2;
    char                         err[512];
    size_t                       i, n, skipped, skipped2;
    unsigned                     algs;
    compliance_jwt_keyset_t     *ks, *ks2;
    const compliance_jwt_key_t  *key;

    ks = compliance_jwt_keyset_create();
    ks2 = compliance_jwt_keyset_create();

    if (ks == NULL || ks2 == NULL) {
        abort();
    }

    rc = compliance_jwt_keyset_load_remote(ks, data, size, "fuzz", &skipped,
                                           err, sizeof(err));
    n = compliance_jwt_keyset_count(ks);

    if (rc != 0) {
        if (n != 0 || compliance_jwt_keyset_algs(ks) != 0) {
            abort();
        }

    } else {
        if (n == 0 || n > COMPLIANCE_JWKS_MAX_KEYS) {
            abort();
        }

        algs = 0;

        for (i = 0; i < n; i++) {
            key = compliance_jwt_keyset_key(ks, i);

            if (compliance_jwt_key_type(key) == COMPLIANCE_JWT_KTY_OCT
                || compliance_jwt_key_algs(key) == 0)
            {
                abort();
            }

            algs |= compliance_jwt_key_algs(key);
        }

        if (algs != compliance_jwt_keyset_algs(ks)) {
            abort();
        }
    }

    rc2 = compliance_jwt_keyset_load_remote(ks2, data, size, "fuzz",
                                            &skipped2, err, sizeof(err));

    if (rc2 != rc || compliance_jwt_keyset_count(ks2) != n
        || (rc == 0 && skipped2 != skipped))
    {
        abort();
    }

    compliance_jwt_keyset_free(ks2);

    if (rc == 0 && skipped == 0) {
        ks2 = compliance_jwt_keyset_create();
        if (ks2 == NULL) {
            abort();
        }

        if (compliance_jwt_keyset_load_mem(ks2, data, size, "fuzz", err,
                                           sizeof(err))
            != 0
            || compliance_jwt_keyset_count(ks2) != n
            || compliance_jwt_keyset_algs(ks2)
               != compliance_jwt_keyset_algs(ks))
        {
            abort();
        }

        compliance_jwt_keyset_free(ks2);
    }

    compliance_jwt_keyset_free(ks);

    return 0;
}
