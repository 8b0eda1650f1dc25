/*
 * Writes the seed corpora of the harnesses:
 *
 *   fuzz_seeds <dir>  ->  <dir>/jwt, <dir>/text, <dir>/vault, <dir>/schema
 *                         <dir>/stream
 *
 * Seeds are made at run time because the JWT ones are signed with the
 * key pairs ./build.sh fuzz generates (see fuzz.h): no binary corpus and
 * no key is kept in the repository.  Files are named seed-*, so a run
 * overwrites its own seeds and leaves what libFuzzer added alone.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "compliance_b64url.h"
#include "compliance_jwt.h"
#include "compliance_vault.h"

#include "fuzz.h"


#define FUZZ_SEEDS_TOKEN  4096


typedef struct {
    const char  *name;
    const char  *data;
    size_t       len;
} fuzz_seeds_text_t;


static void fuzz_seeds_mkdir(const char *dir, const char *sub);
static void fuzz_seeds_write(const char *dir, const char *sub,
    const char *name, const void *p, size_t len);
static EVP_PKEY *fuzz_seeds_priv(const char *name);
static size_t fuzz_seeds_sign(int alg, EVP_PKEY *pk, const u_char *in,
    size_t len, u_char *sig);
static void fuzz_seeds_jwt(const char *dir);
static void fuzz_seeds_text(const char *dir);
static size_t fuzz_seeds_jwk_ec(EVP_PKEY *pk, char *out, size_t size);
static u_char *fuzz_seeds_entry(u_char *p, unsigned version,
    const char *name, uint64_t set_at, const u_char *secret, size_t slen);
static void fuzz_seeds_vault(const char *dir);
static void fuzz_seeds_schema(const char *dir);
static void fuzz_seeds_stream(const char *dir);


#define FUZZ_SEEDS_STR(n, s)  { n, s, sizeof(s) - 1 }

static const fuzz_seeds_text_t  fuzz_seeds_texts[] = {
    FUZZ_SEEDS_STR("api-key",
        "Ack_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    FUZZ_SEEDS_STR("cidr",
        "C10.0.0.0/8,::ffff:1.2.3.4/128,2001:db8::1/64"),
    FUZZ_SEEDS_STR("chain",
        "Ck{\"seq\":12,\"chain\":\""
        "0000000000000000000000000000000000000000000000000000000000000000"
        "\"}\n"),
    FUZZ_SEEDS_STR("json-utf8",
        "J\x00\x1f\"\\\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80"
        "\xf4\x90\x80\x80\xc0\xaf\xe0\x80"),
    FUZZ_SEEDS_STR("key-file",
        "K# comment\n"
        "abcdefghijkl sha256:AAAAAAAAAAAAAAAAAAAAAA:"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA principal=alice "
        "org=acme scopes=a,b allow=10.0.0.0/8,2001:db8::/32 "
        "expires=2030-02-28 # trailing\n"
        "bcdefghijklm\tsha256:AAAAAAAAAAAAAAAAAAAAAA:"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\tprincipal=bob\n"),
    FUZZ_SEEDS_STR("query",
        "Qa=1&API%5Fkey=x&access_token=y"
        "&v=eyJhbGciOiJIUzI1NiJ9.eyJ4Ijo.sig"
        "&k=ck_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    FUZZ_SEEDS_STR("redact-uri",
        "R/p?password=hunter2&x=4111%201111%201111%201111"
        "&email=john%40example.com&t=eyJhbGciOi.eyJzdWIi.sig"
        "&auth=Bearer%20abc.def"),
    FUZZ_SEEDS_STR("redact-text",
        "Rcard 4111-1111-1111-1111 ssn 123-45-6789 "
        "ck_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
        "acct12345 abcd xyzq www")
};


/* fuzz_schema: the first byte picks a schema of the harness (modulo 9) */
static const fuzz_seeds_text_t  fuzz_seeds_schemas[] = {
    FUZZ_SEEDS_STR("order",
        "\x00{\"id\":\"123e4567-e89b-12d3-a456-426614174000\","
        "\"email\":\"joe@example.com\",\"items\":[{\"sku\":\"ABC-1234\","
        "\"qty\":2,\"price\":9.99},{\"sku\":\"abc\",\"qty\":0}],"
        "\"note\":null,\"extra\":1}"),
    FUZZ_SEEDS_STR("numbers",
        "\x01[7,14.0,1e999999,-1e10,13,0.5,[100,{\"a\":50}],"
        "18446744073709551616,-0,1E-7]"),
    FUZZ_SEEDS_STR("tree",
        "\x02{\"value\":1,\"children\":[{\"value\":\"a\",\"children\":"
        "[]},{\"value\":\"a\",\"children\":[]},{\"x\":true}]}"),
    FUZZ_SEEDS_STR("formats",
        "\x03{\"d\":\"2024-02-29\",\"t\":\"1990-12-31T23:59:60Z\","
        "\"4\":\"192.168.0.1\",\"6\":\"::ffff:1.2.3.4\","
        "\"e\":\"\\\"a b\\\"@[IPv6:::1]\",\"u\":\"00000000-0000-0000-"
        "0000-000000000000\",\"s\":\"ab\",\"~x\":1,\"long-name-here\":2}"),
    FUZZ_SEEDS_STR("arrays",
        "\x04[{\"k\":[0.5]},{\"a\":[1.0,{\"b\":null}]},[true,\"s\"],"
        "[true,true],\"x\",1,1]"),
    FUZZ_SEEDS_STR("conditional",
        "\x05{\"kind\":\"card\",\"pan\":\"4111111111111111\"}"),
    FUZZ_SEEDS_STR("redos",
        "\x06{\"r\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"q\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\","
        "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":null}"),
    FUZZ_SEEDS_STR("unicode",
        "\x07[\"\\ud83d\\ude00\",\"\xc3\xa9\",\"\\u0000\",{\"\\u00e9\":1,"
        "\"\xc3\xa9x\":2}]"),
    /* 'Q': query arguments against the typed query schema (selector 0) */
    FUZZ_SEEDS_STR("query",
        "Q\x00a=12&b=true&c=1&c=2&d=1.5&e=x&e=y&zz=false&q=caf%C3%A9+x"
        "&a&&b=-1e5&c=x"),
    FUZZ_SEEDS_STR("query-bad",
        "Q\x00a=%zz&b=%C0%AF&%ED%A0%80=1"),
    FUZZ_SEEDS_STR("compile",
        "S{\"properties\":{\"a\":{\"$ref\":\"#/definitions/x\"}},"
        "\"definitions\":{\"x\":{\"type\":\"integer\",\"minimum\":3}},"
        "\"required\":[\"a\"]}\0{\"a\":2}"),
};


/*
 * fuzz_stream: <detectors> <split seed> <body>; \x01 pan, \x03 pan and
 * ssn, \x3f all six response detectors
 */
static const fuzz_seeds_text_t  fuzz_seeds_streams[] = {
    FUZZ_SEEDS_STR("json-cards",
        "\x01\x07{\"cards\":[{\"pan\":\"4111111111111111\"},"
        "{\"pan\":\"5555 5555 5555 4444\"},{\"pan\":\"3782-822463-10005\"}"
        ",{\"id\":\"a4111111111111111\",\"n\":4111111111111112}]}"),
    FUZZ_SEEDS_STR("encoded",
        "\x03\x11{\"u\":\"/p?c=4111%201111%201111%201111&s=123%2D45%2D6789"
        "\",\"h\":\"%25204111\"}"),
    FUZZ_SEEDS_STR("mixed",
        "\x3f\x2a{\"to\":\"jane.doe@example.com\",\"auth\":\"Bearer "
        "abc.def\",\"t\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\","
        "\"k\":\"ck_abcdefghijkl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "\",\"ssn\":\"123-45-6789\",\"c\":\"6011000990139424\"}"),
    FUZZ_SEEDS_STR("text",
        "\x03\x01order 1767225600123 paid with 4111.1111.1111.1111 / "
        "4111111111111111f / 12345678901234567890123 ssn 078-05-1120\n"),
};


static const char  *fuzz_seeds_payload =
    "{\"sub\":\"alice\",\"exp\":4102444800,\"iat\":1700000000,"
    "\"nbf\":1600000000,\"iss\":\"iss1\",\"aud\":[\"x\",\"aud1\"],"
    "\"scope\":\"read write  a\\\"b\",\"scp\":[\"s1\",\"s 2\"],"
    "\"n\":1.5e300,\"b\":true,\"f\":false,\"x\":-9223372036854775808}";


int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds <corpus-dir>\n");
        return 2;
    }

    fuzz_seeds_mkdir(argv[1], "");
    fuzz_seeds_mkdir(argv[1], "jwt");
    fuzz_seeds_mkdir(argv[1], "text");
    fuzz_seeds_mkdir(argv[1], "vault");
    fuzz_seeds_mkdir(argv[1], "schema");
    fuzz_seeds_mkdir(argv[1], "stream");

    fuzz_seeds_jwt(argv[1]);
    fuzz_seeds_text(argv[1]);
    fuzz_seeds_vault(argv[1]);
    fuzz_seeds_schema(argv[1]);
    fuzz_seeds_stream(argv[1]);

    return 0;
}


static void
fuzz_seeds_mkdir(const char *dir, const char *sub)
{
    char  path[1024];

    snprintf(path, sizeof(path), "%s/%s", dir, sub);

    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}


static void
fuzz_seeds_write(const char *dir, const char *sub, const char *name,
    const void *p, size_t len)
{
    char   path[1024];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s/seed-%s", dir, sub, name);

    f = fopen(path, "w");

    if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}


static EVP_PKEY *
fuzz_seeds_priv(const char *name)
{
    char       path[1024];
    FILE      *f;
    EVP_PKEY  *pk;

    fuzz_key_path(path, sizeof(path), name);

    f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }

    pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);

    if (pk == NULL) {
        fprintf(stderr, "fuzz_seeds: no private key in %s\n", path);
        exit(1);
    }

    return pk;
}


/* The JWS signature of in: HMAC, RSA PKCS#1 v1.5, PSS, or ECDSA r||s. */

static size_t
fuzz_seeds_sign(int alg, EVP_PKEY *pk, const u_char *in, size_t len,
    u_char *sig)
{
    u_char         der[256];
    size_t         slen, dlen, coord;
    unsigned       mlen;
    ECDSA_SIG     *es;
    EVP_MD_CTX    *ctx;
    const u_char  *dp;
    const EVP_MD  *md;
    EVP_PKEY_CTX  *pctx;

    md = (alg % 3 == 0) ? EVP_sha256()
         : (alg % 3 == 1) ? EVP_sha384() : EVP_sha512();

    if (alg <= COMPLIANCE_JWT_HS512) {
        if (HMAC(md, FUZZ_HS_SECRET, FUZZ_HS_LEN, in, len, sig, &mlen)
            == NULL)
        {
            exit(1);
        }

        return mlen;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, &pctx, md, NULL, pk) != 1) {
        exit(1);
    }

    if (alg >= COMPLIANCE_JWT_PS256 && alg <= COMPLIANCE_JWT_PS512
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               != 1))
    {
        exit(1);
    }

    if (alg < COMPLIANCE_JWT_ES256) {
        slen = 512;

        if (EVP_DigestSign(ctx, sig, &slen, in, len) != 1) {
            exit(1);
        }

        EVP_MD_CTX_free(ctx);
        return slen;
    }

    dlen = sizeof(der);

    if (EVP_DigestSign(ctx, der, &dlen, in, len) != 1) {
        exit(1);
    }

    EVP_MD_CTX_free(ctx);

    dp = der;
    es = d2i_ECDSA_SIG(NULL, &dp, (long) dlen);
    if (es == NULL) {
        exit(1);
    }

    coord = (alg == COMPLIANCE_JWT_ES256) ? 32 : 48;

    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int) coord) != (int) coord
        || BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + coord, (int) coord)
           != (int) coord)
    {
        exit(1);
    }

    ECDSA_SIG_free(es);

    return 2 * coord;
}


static void
fuzz_seeds_jwt(const char *dir)
{
    int        alg;
    char       hdr[128], name[32];
    u_char     tok[FUZZ_SEEDS_TOKEN], sig[512], *p;
    size_t     i, n, slen;
    EVP_PKEY  *rsa, *ec256, *ec384, *pk;

    static const struct {
        const char  *alg;
        const char  *kid;
    } t[] = {
        { "HS256", "hs" }, { "HS256", NULL }, { "HS384", NULL },
        { "HS512", NULL }, { "RS256", NULL }, { "RS384", NULL },
        { "RS512", NULL }, { "PS256", NULL }, { "PS384", NULL },
        { "PS512", NULL }, { "ES256", NULL }, { "ES384", NULL }
    };

    rsa = fuzz_seeds_priv("rsa.pem");
    ec256 = fuzz_seeds_priv("ec256.pem");
    ec384 = fuzz_seeds_priv("ec384.pem");

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        alg = compliance_jwt_alg_parse((const u_char *) t[i].alg,
                                       strlen(t[i].alg));

        pk = (alg == COMPLIANCE_JWT_ES256) ? ec256
             : (alg == COMPLIANCE_JWT_ES384) ? ec384 : rsa;

        if (t[i].kid) {
            snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\","
                     "\"kid\":\"%s\"}", t[i].alg, t[i].kid);

        } else {
            snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                     t[i].alg);
        }

        p = tok;
        p += compliance_b64url_encode(p, (u_char *) hdr, strlen(hdr));
        *p++ = '.';
        p += compliance_b64url_encode(p, (const u_char *) fuzz_seeds_payload,
                                      strlen(fuzz_seeds_payload));
        n = (size_t) (p - tok);

        slen = fuzz_seeds_sign(alg, pk, tok, n, sig);

        *p++ = '.';
        p += compliance_b64url_encode(p, sig, slen);

        snprintf(name, sizeof(name), "%s%s", t[i].alg, t[i].kid ? "-kid" : "");
        fuzz_seeds_write(dir, "jwt", name, tok, (size_t) (p - tok));
    }

    /* 'S' mode: header and payload JSON, the harness signs them */
    n = (size_t) snprintf((char *) tok, sizeof(tok),
                          "S{\"alg\":\"HS256\",\"kid\":\"hs\"}\n%s",
                          fuzz_seeds_payload);
    fuzz_seeds_write(dir, "jwt", "S-claims", tok, n);

    n = (size_t) snprintf((char *) tok, sizeof(tok),
                          "S{\"alg\":\"HS256\"}\n{\"exp\":4611686018427387904,"
                          "\"iat\":-4611686018427387904,"
                          "\"scope\":[\"a\",\"b\"]}");
    fuzz_seeds_write(dir, "jwt", "S-extreme-times", tok, n);

    /* 'J' mode: JSON for the reader against jansson */
    n = (size_t) snprintf((char *) tok, sizeof(tok), "J%s",
                          fuzz_seeds_payload);
    fuzz_seeds_write(dir, "jwt", "J-claims", tok, n);

    n = (size_t) snprintf((char *) tok, sizeof(tok),
                          "J{\"a\\u0062\":\"\\ud83d\\ude00\\/\","
                          "\"aud\":[\"x\",{\"y\":[1.5e3,-0,null]}],"
                          "\"n\":-9223372036854775808,\"r\":1e-999,"
                          "\"iss\":\"a\\/b\",\"scp\":[\"r\\/w\",true]}");
    fuzz_seeds_write(dir, "jwt", "J-edges", tok, n);

    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
}


static void
fuzz_seeds_text(const char *dir)
{
    size_t  i;

    for (i = 0; i < sizeof(fuzz_seeds_texts) / sizeof(fuzz_seeds_texts[0]);
         i++)
    {
        fuzz_seeds_write(dir, "text", fuzz_seeds_texts[i].name,
                         fuzz_seeds_texts[i].data, fuzz_seeds_texts[i].len);
    }
}


static void
fuzz_seeds_schema(const char *dir)
{
    size_t  i;

    for (i = 0;
         i < sizeof(fuzz_seeds_schemas) / sizeof(fuzz_seeds_schemas[0]);
         i++)
    {
        fuzz_seeds_write(dir, "schema", fuzz_seeds_schemas[i].name,
                         fuzz_seeds_schemas[i].data,
                         fuzz_seeds_schemas[i].len);
    }
}


/* A JWKS with the P-256 public key and an oct key. */

static size_t
fuzz_seeds_jwk_ec(EVP_PKEY *pk, char *out, size_t size)
{
    char     x[64], y[64];
    u_char   buf[32];
    BIGNUM  *bn;

    bn = NULL;

    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bn) != 1
        || BN_bn2binpad(bn, buf, 32) != 32)
    {
        exit(1);
    }

    x[compliance_b64url_encode((u_char *) x, buf, 32)] = '\0';
    BN_free(bn);
    bn = NULL;

    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &bn) != 1
        || BN_bn2binpad(bn, buf, 32) != 32)
    {
        exit(1);
    }

    y[compliance_b64url_encode((u_char *) y, buf, 32)] = '\0';
    BN_free(bn);

    return (size_t) snprintf(out, size,
                             "\x02{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                             "\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"e\"},"
                             "{\"kty\":\"oct\",\"k\":\""
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                             "\"}]}", x, y);
}


/*
 * One entry of a vault table (format in compliance_vault.h); version 1
 * entries have no creation time.
 */

static u_char *
fuzz_seeds_entry(u_char *p, unsigned version, const char *name,
    uint64_t set_at, const u_char *secret, size_t slen)
{
    int     i;
    size_t  n;

    n = strlen(name);
    *p++ = (u_char) (n >> 8);
    *p++ = (u_char) n;
    p = (u_char *) memcpy(p, name, n) + n;

    for (i = 56; i >= 0; i -= 8) {
        *p++ = (u_char) (set_at >> i);
    }

    for (i = 56; version > 1 && i >= 0; i -= 8) {
        *p++ = (u_char) ((set_at - 86400) >> i);
    }

    for (i = 24; i >= 0; i -= 8) {
        *p++ = (u_char) (slen >> i);
    }

    return (u_char *) memcpy(p, secret, slen) + slen;
}


static void
fuzz_seeds_vault(const char *dir)
{
    char                 path[1024], err[256], buf[2048];
    u_char               table[512], *p, *img, x[100];
    size_t               n, len;
    FILE                *f;
    EVP_PKEY            *ec;
    compliance_vault_t  *v;

    static const u_char  key[COMPLIANCE_VAULT_KEY_LEN] = FUZZ_VAULT_KEY;

    /* bit 1: key files */
    ec = fuzz_seeds_priv("ec256.pem");
    n = fuzz_seeds_jwk_ec(ec, buf, sizeof(buf));
    EVP_PKEY_free(ec);
    fuzz_seeds_write(dir, "vault", "key-jwks", buf, n);

    fuzz_key_path(path, sizeof(path), "rsa.pub");

    f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }

    buf[0] = '\x02';
    n = 1 + fread(buf + 1, 1, sizeof(buf) - 1, f);
    fclose(f);
    fuzz_seeds_write(dir, "vault", "key-pem", buf, n);

    n = (size_t) snprintf(buf, sizeof(buf), "\x02%064d\n", 0);
    fuzz_seeds_write(dir, "vault", "key-hex", buf, n);

    /* even: a real file image under the harness key */
    v = compliance_vault_new();

    if (v == NULL
        || compliance_vault_set(v, (u_char *) "upstream.a", 10,
                                (u_char *) "secret1", 7, 1700000000)
           != COMPLIANCE_VAULT_OK
        || compliance_vault_set(v, (u_char *) "B-2", 3, (u_char *) "s2", 2,
                                1700000000)
           != COMPLIANCE_VAULT_OK
        || compliance_vault_encode(v, key, &img, &len, err, sizeof(err))
           != COMPLIANCE_VAULT_OK)
    {
        fprintf(stderr, "fuzz_seeds: vault: %s\n", err);
        exit(1);
    }

    compliance_vault_free(v);

    table[0] = '\0';
    memcpy(table + 1, img, len);
    fuzz_seeds_write(dir, "vault", "image", table, len + 1);
    free(img);

    /* odd: entry tables, sealed by the harness */
    memset(x, 'x', sizeof(x));

    p = table;
    *p++ = '\x01';
    *p++ = 0;
    *p++ = 0;
    *p++ = 0;
    *p++ = 3;
    p = fuzz_seeds_entry(p, 2, "upstream.a", 1700000000,
                         (u_char *) "secret1", 7);
    p = fuzz_seeds_entry(p, 2, "B-2", 1700000000, x, sizeof(x));
    p = fuzz_seeds_entry(p, 2, "c_3", 1700000000, (u_char *) "\x00\xff", 2);
    fuzz_seeds_write(dir, "vault", "table", table, (size_t) (p - table));

    fuzz_seeds_write(dir, "vault", "table-empty", "\x01\x00\x00\x00\x00", 5);

    /* odd with bit 2: a version 1 table */
    p = table;
    *p++ = '\x05';
    *p++ = 0;
    *p++ = 0;
    *p++ = 0;
    *p++ = 2;
    p = fuzz_seeds_entry(p, 1, "old.a", 1600000000, (u_char *) "secret1", 7);
    p = fuzz_seeds_entry(p, 1, "old-b", 1600000000, x, sizeof(x));
    fuzz_seeds_write(dir, "vault", "table-v1", table, (size_t) (p - table));

    /* bit 1 also feeds the import date parser of compliance-vault set */
    fuzz_seeds_write(dir, "vault", "date", "\x02" "2026-12-04T10:00:00Z", 21);
    fuzz_seeds_write(dir, "vault", "date-day", "\x02" "2000-02-29", 11);
}


static void
fuzz_seeds_stream(const char *dir)
{
    size_t  i;

    for (i = 0;
         i < sizeof(fuzz_seeds_streams) / sizeof(fuzz_seeds_streams[0]);
         i++)
    {
        fuzz_seeds_write(dir, "stream", fuzz_seeds_streams[i].name,
                         fuzz_seeds_streams[i].data,
                         fuzz_seeds_streams[i].len);
    }
}
