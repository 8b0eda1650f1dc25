/*
 * Wycheproof signature and MAC vectors through compliance_jwt_sig_verify():
 * every "invalid" must be refused, every "valid" accepted; "acceptable"
 * cases are counted either way.  Keys are loaded the way operators give
 * them: the group's JWK when it has one, else its PEM; HMAC keys as an
 * oct JWK.  HMAC cases the JWT verifier cannot express by design (keys
 * under 32 bytes, truncated tags) are counted as skipped.
 */

#include "unit.h"

#include <unistd.h>

#include <jansson.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"


enum {
    KIND_ECDSA = 0,
    KIND_RSA,
    KIND_PSS,
    KIND_HMAC
};


typedef struct {
    const char  *file;
    int          kind;
    int          alg;
} vector_file_t;


typedef struct {
    unsigned     valid;
    unsigned     invalid;
    unsigned     acc_yes;
    unsigned     acc_no;
    unsigned     skipped;
    unsigned     failures;
} counts_t;


static u_char *hex_decode(const char *hex, size_t *len);
static compliance_jwt_keyset_t *group_keyset(json_t *group,
    const vector_file_t *vf, counts_t *c);
static void run_file(void **state);


static const vector_file_t  files[] = {
    { "ecdsa_secp256r1_sha256_p1363_test.json", KIND_ECDSA,
      COMPLIANCE_JWT_ES256 },
    { "ecdsa_secp384r1_sha384_p1363_test.json", KIND_ECDSA,
      COMPLIANCE_JWT_ES384 },
    { "rsa_signature_2048_sha256_test.json", KIND_RSA, COMPLIANCE_JWT_RS256 },
    { "rsa_signature_2048_sha384_test.json", KIND_RSA, COMPLIANCE_JWT_RS384 },
    { "rsa_signature_2048_sha512_test.json", KIND_RSA, COMPLIANCE_JWT_RS512 },
    { "rsa_pss_2048_sha256_mgf1_32_test.json", KIND_PSS,
      COMPLIANCE_JWT_PS256 },
    { "hmac_sha256_test.json", KIND_HMAC, COMPLIANCE_JWT_HS256 },
    { "hmac_sha384_test.json", KIND_HMAC, COMPLIANCE_JWT_HS384 },
    { "hmac_sha512_test.json", KIND_HMAC, COMPLIANCE_JWT_HS512 }
};


static u_char *
hex_decode(const char *hex, size_t *len)
{
    size_t         i, n;
    u_char        *out;
    unsigned int   b;

    n = strlen(hex);
    assert_int_equal(n % 2, 0);

    out = malloc(n / 2 + 1);
    assert_non_null(out);

    for (i = 0; i < n / 2; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
        out[i] = (u_char) b;
    }

    *len = n / 2;

    return out;
}


/* NULL when the whole group is skipped by design (counted in c). */

static compliance_jwt_keyset_t *
group_keyset(json_t *group, const vector_file_t *vf, counts_t *c)
{
    char                     *text, err[512];
    u_char                   *key;
    size_t                    klen, full, tag;
    json_t                   *jwk, *v;
    compliance_jwt_keyset_t  *ks;

    ks = compliance_jwt_keyset_create();
    assert_non_null(ks);

    if (vf->kind == KIND_HMAC) {
        full = vf->alg == COMPLIANCE_JWT_HS256 ? 256
               : vf->alg == COMPLIANCE_JWT_HS384 ? 384 : 512;
        tag = (size_t) json_integer_value(json_object_get(group, "tagSize"));

        v = json_array_get(json_object_get(group, "tests"), 0);
        key = hex_decode(json_string_value(json_object_get(v, "key")),
                         &klen);

        if (tag != full || klen < COMPLIANCE_JWT_MIN_HMAC) {
            free(key);
            compliance_jwt_keyset_free(ks);
            c->skipped += json_array_size(json_object_get(group, "tests"));
            return NULL;
        }

        free(key);

        /* keys differ per test case in MAC files: see run_file() */
        return ks;
    }

    if (vf->kind == KIND_PSS) {
        v = json_object_get(group, "sLen");

        if (json_integer_value(v) != 32
            || strcmp(json_string_value(json_object_get(group, "mgfSha")),
                      "SHA-256") != 0)
        {
            compliance_jwt_keyset_free(ks);
            c->skipped += json_array_size(json_object_get(group, "tests"));
            return NULL;
        }
    }

    jwk = json_object_get(group, "publicKeyJwk");
    if (jwk == NULL) {
        jwk = json_object_get(group, "keyJwk");
    }

    if (jwk) {
        text = json_dumps(jwk, JSON_COMPACT);
        assert_non_null(text);

    } else {
        v = json_object_get(group, "publicKeyPem");
        assert_non_null(v);
        text = strdup(json_string_value(v));
        assert_non_null(text);
    }

    if (compliance_jwt_keyset_load_mem(ks, (u_char *) text, strlen(text),
                                       vf->file, err, sizeof(err))
        != 0)
    {
        fail_msg("%s: group key refused: %s", vf->file, err);
    }

    free(text);

    return ks;
}


static void
run_file(void **state)
{
    int                          rc;
    char                         path[1024], *jwk, kb[200], err[512];
    u_char                      *msg, *sig, *key;
    size_t                       i, j, mlen, slen, klen;
    json_t                      *root, *groups, *group, *tests, *t;
    counts_t                     c;
    const char                  *result;
    json_error_t                 jerr;
    const vector_file_t         *vf;
    compliance_jwt_keyset_t     *ks, *hks;
    const compliance_jwt_key_t  *k;

    vf = *state;

    snprintf(path, sizeof(path), "%s/wycheproof/%s", unit_testdata_dir(),
             vf->file);

    if (access(path, R_OK) != 0) {
        fail_msg("%s: not found (COMPLIANCE_TESTDATA?)", path);
    }

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }

    memset(&c, 0, sizeof(counts_t));
    groups = json_object_get(root, "testGroups");
    assert_true(json_array_size(groups) > 0);

    json_array_foreach(groups, i, group) {
        ks = group_keyset(group, vf, &c);
        if (ks == NULL) {
            continue;
        }

        tests = json_object_get(group, "tests");

        json_array_foreach(tests, j, t) {
            msg = hex_decode(json_string_value(json_object_get(t, "msg")),
                             &mlen);
            sig = hex_decode(json_string_value(
                                 json_object_get(t, vf->kind == KIND_HMAC
                                                    ? "tag" : "sig")),
                             &slen);
            hks = NULL;

            if (vf->kind == KIND_HMAC) {
                key = hex_decode(json_string_value(json_object_get(t, "key")),
                                 &klen);
                compliance_b64url_encode((u_char *) kb, key, klen);
                kb[compliance_b64url_encoded_len(klen)] = '\0';

                jwk = malloc(strlen(kb) + 32);
                assert_non_null(jwk);
                sprintf(jwk, "{\"kty\":\"oct\",\"k\":\"%s\"}", kb);

                hks = compliance_jwt_keyset_create();
                assert_non_null(hks);
                assert_int_equal(compliance_jwt_keyset_load_mem(hks,
                                     (u_char *) jwk, strlen(jwk), vf->file,
                                     err, sizeof(err)), 0);
                free(jwk);
                free(key);

                k = compliance_jwt_keyset_key(hks, 0);

            } else {
                k = compliance_jwt_keyset_key(ks, 0);
            }

            assert_non_null(k);

            rc = compliance_jwt_sig_verify(k, vf->alg, msg, mlen, sig, slen);
            result = json_string_value(json_object_get(t, "result"));

            if (strcmp(result, "valid") == 0) {
                c.valid++;

                if (rc != COMPLIANCE_JWT_OK) {
                    printf("# %s tcId %lld: valid refused (%d)\n", vf->file,
                           (long long) json_integer_value(
                               json_object_get(t, "tcId")), rc);
                    c.failures++;
                }

            } else if (strcmp(result, "invalid") == 0) {
                c.invalid++;

                if (rc == COMPLIANCE_JWT_OK) {
                    printf("# %s tcId %lld: invalid accepted\n", vf->file,
                           (long long) json_integer_value(
                               json_object_get(t, "tcId")));
                    c.failures++;
                }

            } else if (rc == COMPLIANCE_JWT_OK) {
                c.acc_yes++;

            } else {
                c.acc_no++;
            }

            compliance_jwt_keyset_free(hks);
            free(msg);
            free(sig);
        }

        compliance_jwt_keyset_free(ks);
    }

    json_decref(root);

    printf("# %s: %u run (%u valid, %u invalid, acceptable %u accepted / "
           "%u refused), %u skipped by design, %u failures\n", vf->file,
           c.valid + c.invalid + c.acc_yes + c.acc_no,
           c.valid, c.invalid, c.acc_yes, c.acc_no, c.skipped, c.failures);

    assert_int_equal(c.failures, 0);
    assert_true(c.valid > 0);
    assert_true(c.invalid > 0);
}


int
main(void)
{
    struct CMUnitTest  tests[sizeof(files) / sizeof(files[0])];
    size_t             i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tests[i].name = files[i].file;
        tests[i].test_func = run_file;
        tests[i].setup_func = NULL;
        tests[i].teardown_func = NULL;
        tests[i].initial_state = (void *) &files[i];
    }

    return cmocka_run_group_tests(tests, NULL, NULL);
}
