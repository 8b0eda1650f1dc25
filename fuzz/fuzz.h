/*
 * Shared by the libFuzzer harnesses and their seed generator: the fixed
 * test secrets the harnesses sign and seal with, and where the key pairs
 * made by ./build.sh fuzz live.  Test material only, never a real key.
 */

#ifndef _COMPLIANCE_FUZZ_H_INCLUDED_
#define _COMPLIANCE_FUZZ_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>


/*
 * rsa.pem, ec256.pem, ec384.pem (private) and the .pub files next to
 * them; made with openssl at run time, never committed.
 */
#define FUZZ_KEYS_ENV      "COMPLIANCE_FUZZ_KEYS"
#define FUZZ_KEYS_DEFAULT  "build/fuzz/keys"

/* the secret of both oct keys in fuzz_jwt's key set: 32 bytes, no NUL */
#define FUZZ_HS_SECRET     "0123456789abcdef0123456789abcdef"
#define FUZZ_HS_LEN        32

/* the vault key of fuzz_vault */
#define FUZZ_VAULT_KEY     "k0k1k2k3k4k5k6k7k8k9kakbkckdkekf"


static inline void
fuzz_key_path(char *buf, size_t size, const char *name)
{
    const char  *dir;

    dir = getenv(FUZZ_KEYS_ENV);

    snprintf(buf, size, "%s/%s", dir ? dir : FUZZ_KEYS_DEFAULT, name);
}


#endif /* _COMPLIANCE_FUZZ_H_INCLUDED_ */
