/*
 * HMAC-SHA256 audit chain.
 */

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "compliance_chain.h"


#define COMPLIANCE_CHAIN_MARK      ",\"chain\":\""
#define COMPLIANCE_CHAIN_MARK_LEN  (sizeof(COMPLIANCE_CHAIN_MARK) - 1)
/* "seq": after ',' or, when it is the only other field, after '{' */
#define COMPLIANCE_CHAIN_SEQ       "\"seq\":"
#define COMPLIANCE_CHAIN_SEQ_LEN   (sizeof(COMPLIANCE_CHAIN_SEQ) - 1)

/* digits of UINT64_MAX */
#define COMPLIANCE_CHAIN_SEQ_MAX_DIGITS  20


struct compliance_chain_s {
    EVP_MAC      *mac;
    /* keyed once; re-initialised without a key for every record */
    EVP_MAC_CTX  *ctx;
};


static int compliance_chain_mac(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *body,
    size_t len, int brace, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN]);


const u_char  compliance_chain_zero[COMPLIANCE_CHAIN_HEX_LEN] =
    "0000000000000000000000000000000000000000000000000000000000000000";


compliance_chain_t *
compliance_chain_create(const u_char key[COMPLIANCE_CHAIN_KEY_LEN])
{
    char                digest[] = "SHA256";
    OSSL_PARAM          params[2];
    compliance_chain_t  *c;

    c = OPENSSL_zalloc(sizeof(compliance_chain_t));
    if (c == NULL) {
        return NULL;
    }

    c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (c->mac == NULL) {
        goto failed;
    }

    c->ctx = EVP_MAC_CTX_new(c->mac);
    if (c->ctx == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(c->ctx, key, COMPLIANCE_CHAIN_KEY_LEN, params) != 1) {
        goto failed;
    }

    return c;

failed:

    compliance_chain_free(c);
    return NULL;
}


void
compliance_chain_free(compliance_chain_t *c)
{
    if (c == NULL) {
        return;
    }

    /* EVP_MAC_CTX_free cleanses the HMAC key schedule it holds */
    EVP_MAC_CTX_free(c->ctx);
    EVP_MAC_free(c->mac);
    OPENSSL_clear_free(c, sizeof(compliance_chain_t));
}


static int
compliance_chain_mac(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *body,
    size_t len, int brace, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN])
{
    int     rc;
    u_char  md[EVP_MAX_MD_SIZE];
    size_t  mdlen, i;

    static const u_char  hex[] = "0123456789abcdef";

    rc = COMPLIANCE_CHAIN_ERROR;

    /* a NULL key restarts from the keyed inner/outer states */
    if (EVP_MAC_init(c->ctx, NULL, 0, NULL) != 1
        || EVP_MAC_update(c->ctx, prev_hex, COMPLIANCE_CHAIN_HEX_LEN) != 1
        || EVP_MAC_update(c->ctx, body, len) != 1
        || (brace && EVP_MAC_update(c->ctx, (const u_char *) "}", 1) != 1)
        || EVP_MAC_final(c->ctx, md, &mdlen, sizeof(md)) != 1
        || mdlen != COMPLIANCE_CHAIN_HEX_LEN / 2)
    {
        goto done;
    }

    for (i = 0; i < mdlen; i++) {
        out_hex[2 * i] = hex[md[i] >> 4];
        out_hex[2 * i + 1] = hex[md[i] & 0x0f];
    }

    rc = COMPLIANCE_CHAIN_OK;

done:

    OPENSSL_cleanse(md, sizeof(md));
    return rc;
}


int
compliance_chain_compute(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *body,
    size_t len, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN])
{
    return compliance_chain_mac(c, prev_hex, body, len, 0, out_hex);
}


int
compliance_chain_compute_prefix(compliance_chain_t *c,
    const u_char prev_hex[COMPLIANCE_CHAIN_HEX_LEN], const u_char *prefix,
    size_t len, u_char out_hex[COMPLIANCE_CHAIN_HEX_LEN])
{
    return compliance_chain_mac(c, prev_hex, prefix, len, 1, out_hex);
}


int
compliance_chain_split(const u_char *line, size_t len,
    size_t *prefix_len, const u_char **chain_hex, uint64_t *seq)
{
    size_t         i, k, d;
    uint64_t       n;
    const u_char  *h;

    if (len > 0 && line[len - 1] == '\n') {
        len--;
    }

    if (len < COMPLIANCE_CHAIN_SUFFIX_LEN + 1
        || line[len - 1] != '}' || line[len - 2] != '"')
    {
        return COMPLIANCE_CHAIN_NOCHAIN;
    }

    k = len - COMPLIANCE_CHAIN_SUFFIX_LEN;

    if (memcmp(line + k, COMPLIANCE_CHAIN_MARK, COMPLIANCE_CHAIN_MARK_LEN)
        != 0)
    {
        return COMPLIANCE_CHAIN_NOCHAIN;
    }

    h = line + k + COMPLIANCE_CHAIN_MARK_LEN;

    for (i = 0; i < COMPLIANCE_CHAIN_HEX_LEN; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) {
            return COMPLIANCE_CHAIN_BADHEX;
        }
    }

    /* the digits of seq end exactly where ,"chain":" starts */
    d = 0;

    while (d < k && line[k - d - 1] >= '0' && line[k - d - 1] <= '9') {
        d++;
    }

    if (d == 0 || k - d < COMPLIANCE_CHAIN_SEQ_LEN + 1
        || memcmp(line + k - d - COMPLIANCE_CHAIN_SEQ_LEN,
                  COMPLIANCE_CHAIN_SEQ, COMPLIANCE_CHAIN_SEQ_LEN) != 0
        || (line[k - d - COMPLIANCE_CHAIN_SEQ_LEN - 1] != ','
            && line[k - d - COMPLIANCE_CHAIN_SEQ_LEN - 1] != '{'))
    {
        return COMPLIANCE_CHAIN_NOSEQ;
    }

    if (d > COMPLIANCE_CHAIN_SEQ_MAX_DIGITS || line[k - d] == '0') {
        return COMPLIANCE_CHAIN_BADSEQ;
    }

    n = 0;

    for (i = k - d; i < k; i++) {
        if (n > (UINT64_MAX - (uint64_t) (line[i] - '0')) / 10) {
            return COMPLIANCE_CHAIN_BADSEQ;
        }

        n = n * 10 + (uint64_t) (line[i] - '0');
    }

    *prefix_len = k;
    *chain_hex = h;
    *seq = n;

    return COMPLIANCE_CHAIN_OK;
}


const char *
compliance_chain_strerror(int rc)
{
    switch (rc) {

    case COMPLIANCE_CHAIN_OK:
        return "ok";

    case COMPLIANCE_CHAIN_NOCHAIN:
        return "record does not end with the \"chain\" field";

    case COMPLIANCE_CHAIN_BADHEX:
        return "\"chain\" is not 64 lowercase hex digits";

    case COMPLIANCE_CHAIN_NOSEQ:
        return "\"seq\" is not the field just before \"chain\"";

    case COMPLIANCE_CHAIN_BADSEQ:
        return "\"seq\" is not a positive integer";

    default:
        return "HMAC computation failed";
    }
}
