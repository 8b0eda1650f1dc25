/*
 * libFuzzer harness for the reader of an OAuth2 token endpoint's answer
 * (compliance_oauth2_answer_read(), compliance_upstream_oauth2, SPEC 16):
 * the input is the body the endpoint answered.
 *
 * Oracles (abort, so libFuzzer keeps the input), against jansson as a
 * model (json_loadb() with JSON_REJECT_DUPLICATES after the reader's
 * depth limit, the fields checked by hand from the header's rules):
 *   - the reader accepts exactly what the model accepts;
 *   - an accepted token lies inside the input's copy, is a b64token and
 *     is jansson's access_token byte for byte; its life is the model's;
 *   - a refusal gives one of the reader's fixed messages;
 *   - the reader is deterministic (a second read agrees).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "compliance_jwt.h"
#include "compliance_oauth2.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *fuzz_oauth2_errors[] = {
    "an empty answer",
    "the answer is over the size cap",
    "out of memory",
    "the answer is no JSON object",
    "the answer has no access_token",
    "the access_token is no RFC 6750 b64token",
    "the token_type is not \"Bearer\"",
    "expires_in is not a number of seconds",
    NULL
};


/* the model: 0 with the token and life, -1 when it refuses */
static int
fuzz_oauth2_model(const uint8_t *data, size_t size, json_t **root,
    const char **tok, size_t *tlen, long *life)
{
    size_t       i, n;
    json_t      *at, *tt, *ei;
    long long    v;
    const char  *s;

    *root = NULL;

    if (size == 0 || size > COMPLIANCE_OAUTH2_MAX_ANSWER
        || !compliance_jwt_json_depth_ok(data, size,
                                         COMPLIANCE_JSON_DEPTH_MAX))
    {
        return -1;
    }

    *root = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                       NULL);

    if (*root == NULL || !json_is_object(*root)) {
        return -1;
    }

    at = json_object_get(*root, "access_token");
    tt = json_object_get(*root, "token_type");
    ei = json_object_get(*root, "expires_in");

    if (!json_is_string(at) || json_string_length(at) == 0) {
        return -1;
    }

    *tok = json_string_value(at);
    *tlen = json_string_length(at);

    if (!compliance_oauth2_b64token((const u_char *) *tok, *tlen)) {
        return -1;
    }

    if (tt != NULL
        && (!json_is_string(tt) || json_string_length(tt) != 6
            || strncasecmp(json_string_value(tt), "bearer", 6) != 0))
    {
        return -1;
    }

    v = COMPLIANCE_OAUTH2_DEFAULT_LIFE;

    if (ei != NULL) {
        v = -1;

        if (json_is_integer(ei)) {
            v = json_integer_value(ei);

        } else if (json_is_string(ei)) {
            s = json_string_value(ei);
            n = json_string_length(ei);

            if (n > 0 && n <= 9) {
                for (v = 0, i = 0; i < n; i++) {
                    if (s[i] < '0' || s[i] > '9') {
                        v = -1;
                        break;
                    }

                    v = v * 10 + (s[i] - '0');
                }
            }
        }
    }

    if (v <= 0 || v > COMPLIANCE_OAUTH2_MAX_LIFE) {
        return -1;
    }

    *life = (long) v;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc, rc2, mrc;
    long         life, life2, mlife;
    size_t       tlen, tlen2, mtlen, i;
    u_char      *buf, *buf2, *tok, *tok2;
    json_t      *root;
    const char  *err, *err2, *mtok;

    /* exact sizes: a read past the input is ASan's */
    buf = malloc(size ? size : 1);
    buf2 = malloc(size ? size : 1);

    if (buf == NULL || buf2 == NULL) {
        abort();
    }

    memcpy(buf, data, size);
    memcpy(buf2, data, size);

    err = NULL;
    err2 = NULL;
    tok = NULL;
    tok2 = NULL;
    tlen = 0;
    tlen2 = 0;
    life = 0;
    life2 = 0;

    rc = compliance_oauth2_answer_read(buf, size, &tok, &tlen, &life, &err);
    rc2 = compliance_oauth2_answer_read(buf2, size, &tok2, &tlen2, &life2,
                                        &err2);

    if (rc != rc2) {
        abort();
    }

    mtok = NULL;
    mtlen = 0;
    mlife = 0;
    mrc = fuzz_oauth2_model(data, size, &root, &mtok, &mtlen, &mlife);

    if (rc != mrc) {
        abort();
    }

    if (rc == 0) {
        if (tok < buf || tok + tlen > buf + size
            || !compliance_oauth2_b64token(tok, tlen)
            || tlen != mtlen || memcmp(tok, mtok, tlen) != 0
            || life != mlife
            || tlen2 != tlen || memcmp(tok2, tok, tlen) != 0
            || life2 != life)
        {
            abort();
        }

    } else {
        if (err == NULL || err2 == NULL || strcmp(err, err2) != 0) {
            abort();
        }

        for (i = 0; fuzz_oauth2_errors[i]; i++) {
            if (strcmp(err, fuzz_oauth2_errors[i]) == 0) {
                break;
            }
        }

        if (fuzz_oauth2_errors[i] == NULL) {
            abort();
        }
    }

    json_decref(root);
    free(buf);
    free(buf2);

    return 0;
}
