/*
 * jwt-mint-libjwt: mints one JWT with libjwt, an implementation that
 * shares no code with the module, so the integration tests can prove
 * that tokens made elsewhere verify.  Test-only: nginx never links it.
 *
 *   jwt-mint-libjwt --alg ALG --key FILE [--kid KID] [--claims JSON]
 *
 * ALG is one libjwt knows (HS256/384/512, RS256/384/512, ES256/384/512;
 * libjwt 1.10 has no PS algorithms).  FILE holds the raw HMAC secret or
 * the PEM private key.  The token is printed on stdout with a newline.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>


#define MINT_MAX_KEY  (64 * 1024)


static void mint_usage(void);
static unsigned char *mint_read_key(const char *path, size_t *len);


int
main(int argc, char **argv)
{
    int             i, rc;
    char           *tok;
    jwt_t          *jwt;
    size_t          klen;
    jwt_alg_t       alg;
    const char     *alg_name, *key_file, *kid, *claims;
    unsigned char  *key;

    alg_name = NULL;
    key_file = NULL;
    kid = NULL;
    claims = NULL;

    for (i = 1; i < argc; i++) {

        if (i + 1 >= argc) {
            mint_usage();
            return 2;
        }

        if (strcmp(argv[i], "--alg") == 0) {
            alg_name = argv[++i];

        } else if (strcmp(argv[i], "--key") == 0) {
            key_file = argv[++i];

        } else if (strcmp(argv[i], "--kid") == 0) {
            kid = argv[++i];

        } else if (strcmp(argv[i], "--claims") == 0) {
            claims = argv[++i];

        } else {
            mint_usage();
            return 2;
        }
    }

    if (alg_name == NULL || key_file == NULL) {
        mint_usage();
        return 2;
    }

    alg = jwt_str_alg(alg_name);

    /* an unsigned token is never what a test of this helper wants */
    if (alg == JWT_ALG_INVAL || alg == JWT_ALG_NONE) {
        fprintf(stderr, "jwt-mint-libjwt: unsupported --alg \"%s\"\n",
                alg_name);
        return 2;
    }

    key = mint_read_key(key_file, &klen);
    if (key == NULL) {
        return 1;
    }

    rc = jwt_new(&jwt);
    if (rc != 0) {
        fprintf(stderr, "jwt-mint-libjwt: jwt_new: %s\n", strerror(rc));
        free(key);
        return 1;
    }

    rc = jwt_set_alg(jwt, alg, key, (int) klen);

    /* libjwt holds its own copy of the key from here on */
    memset(key, 0, klen);
    free(key);

    if (rc != 0) {
        fprintf(stderr, "jwt-mint-libjwt: jwt_set_alg: %s\n", strerror(rc));
        goto failed;
    }

    if (kid) {
        rc = jwt_add_header(jwt, "kid", kid);
        if (rc != 0) {
            fprintf(stderr, "jwt-mint-libjwt: kid: %s\n", strerror(rc));
            goto failed;
        }
    }

    if (claims) {
        rc = jwt_add_grants_json(jwt, claims);
        if (rc != 0) {
            fprintf(stderr, "jwt-mint-libjwt: --claims is not a JSON "
                    "object\n");
            goto failed;
        }
    }

    tok = jwt_encode_str(jwt);
    if (tok == NULL) {
        fprintf(stderr, "jwt-mint-libjwt: jwt_encode_str: %s\n",
                strerror(errno));
        goto failed;
    }

    printf("%s\n", tok);
    free(tok);
    jwt_free(jwt);

    return fflush(stdout) == 0 ? 0 : 1;

failed:

    jwt_free(jwt);

    return 1;
}


static void
mint_usage(void)
{
    fprintf(stderr, "usage: jwt-mint-libjwt --alg ALG --key FILE "
            "[--kid KID] [--claims JSON]\n");
}


/* The whole file; a PEM key gets a terminating NUL, which libjwt wants. */

static unsigned char *
mint_read_key(const char *path, size_t *len)
{
    FILE           *f;
    size_t          n;
    unsigned char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "jwt-mint-libjwt: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    buf = malloc(MINT_MAX_KEY + 1);
    if (buf == NULL) {
        fprintf(stderr, "jwt-mint-libjwt: out of memory\n");
        fclose(f);
        return NULL;
    }

    n = fread(buf, 1, MINT_MAX_KEY + 1, f);

    if (ferror(f) || n == 0 || n > MINT_MAX_KEY) {
        fprintf(stderr, "jwt-mint-libjwt: %s: empty, unreadable or too "
                "large\n", path);
        fclose(f);
        free(buf);
        return NULL;
    }

    fclose(f);

    buf[n] = '\0';
    *len = n;

    return buf;
}
