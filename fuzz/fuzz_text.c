/*
 * libFuzzer harness for the scanners that read client bytes as text.
 * The first byte selects one; any other first byte runs them all on the
 * whole input.
 *
 *   'R' redaction (all detectors, the default set, operator patterns):
 *       len() == bytes apply() writes into an exact-size buffer; a
 *       truncated apply() stays within its size and is a prefix of the
 *       full output; needed() == 0 means the output is the input; a
 *       second len() agrees (per-call scratch is reset).
 *   'J' JSON escaping: escape_len() == bytes written; the output parses
 *       as a JSON string (jansson); well-formed UTF-8 comes back
 *       byte for byte.
 *   'Q' query-string credential scanner.
 *   'A' API key text: parse_text, verify against a small key file;
 *       verify OK only for the one real key.
 *   'K' API key file parser: every record is found by its id, strings
 *       end at their stated length; a refused file leaves nothing set.
 *   'C' CIDR allow-list parse and match, audit chain line split: a split
 *       line has ,"chain":"<64 lowercase hex>" where it says.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compliance_apikey.h"
#include "compliance_chain.h"
#include "compliance_cidr.h"
#include "compliance_json.h"
#include "compliance_query.h"
#include "compliance_token.h"
#include "compliance_redact.h"

#include "fuzz.h"


#define FUZZ_TEXT_KEY_SIZE  (COMPLIANCE_APIKEY_TEXT_LEN + 1)


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_text_pattern(const char *name, const char *re);
static void fuzz_text_redact(compliance_redact_t *r, const u_char *in,
    size_t len);
static void fuzz_text_json(const u_char *in, size_t len);
static void fuzz_text_apikey(const u_char *in, size_t len);
static void fuzz_text_keyfile(const u_char *in, size_t len);
static void fuzz_text_cidr(const u_char *in, size_t len);
static void fuzz_text_token(const u_char *in, size_t size);


static compliance_redact_t      *fuzz_text_all;
static compliance_redact_t      *fuzz_text_default;
static compliance_redact_t      *fuzz_text_patterns;
static compliance_apikey_set_t   fuzz_text_set;
static char                      fuzz_text_key[FUZZ_TEXT_KEY_SIZE];


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char  err[256], head[COMPLIANCE_APIKEY_HEAD_LEN + 1], file[1024];

    (void) argc;
    (void) argv;

    fuzz_text_all = compliance_redact_create(COMPLIANCE_REDACT_ALL, err,
                                             sizeof(err));
    fuzz_text_default = compliance_redact_create(COMPLIANCE_REDACT_DEFAULT,
                                                 err, sizeof(err));
    fuzz_text_patterns = compliance_redact_create(COMPLIANCE_REDACT_ALL, err,
                                                  sizeof(err));

    if (fuzz_text_all == NULL || fuzz_text_default == NULL
        || fuzz_text_patterns == NULL)
    {
        fprintf(stderr, "fuzz_text: redact: %s\n", err);
        abort();
    }

    /* \K and lookbehind move the match start; the others backtrack */
    fuzz_text_pattern("acct", "acct[0-9]{4,}");
    fuzz_text_pattern("kpat", "ab\\Kcd");
    fuzz_text_pattern("kend", "xyz\\K");
    fuzz_text_pattern("look", "(?<=q)w+");
    fuzz_text_pattern("alt", "(a|aa)+b");
    fuzz_text_pattern("dot", "\\.[a-z]+\\.");

    if (compliance_apikey_generate(fuzz_text_key, head) != 0) {
        abort();
    }

    snprintf(file, sizeof(file),
             "# test\n%s principal=alice org=o scopes=a,b "
             "allow=10.0.0.0/8,::1 expires=2099-01-01\n"
             "aaaaaaaaaaaa sha256:AAAAAAAAAAAAAAAAAAAAAA:"
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA principal=bob\n",
             head);

    if (compliance_apikey_set_parse(&fuzz_text_set, (u_char *) file,
                                    strlen(file), err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "fuzz_text: key file: %s\n", err);
        abort();
    }

    return 0;
}


static void
fuzz_text_pattern(const char *name, const char *re)
{
    char  err[256];

    if (compliance_redact_add_pattern(fuzz_text_patterns, name,
                                      (const u_char *) re, strlen(re), err,
                                      sizeof(err))
        != 0)
    {
        fprintf(stderr, "fuzz_text: pattern %s: %s\n", name, err);
        abort();
    }
}


static void
fuzz_text_redact(compliance_redact_t *r, const u_char *in, size_t len)
{
    size_t   need, got, half;
    u_char  *out, *cut;

    need = compliance_redact_len(r, in, len);

    /* exact size, so a write past need is an ASan report */
    out = malloc(need ? need : 1);
    if (out == NULL) {
        abort();
    }

    got = compliance_redact_apply(r, in, len, out, need);

    if (got != need) {
        fprintf(stderr, "fuzz_text: redact len %zu != apply %zu\n", need,
                got);
        abort();
    }

    if (!compliance_redact_needed(r, in, len)
        && (need != len || (len && memcmp(out, in, len) != 0)))
    {
        fprintf(stderr, "fuzz_text: needed() == 0 but output differs\n");
        abort();
    }

    /* cut short: within size, and never a byte the full output lacks */
    half = need / 2;

    cut = malloc(half ? half : 1);
    if (cut == NULL) {
        abort();
    }

    got = compliance_redact_apply(r, in, len, cut, half);

    if (got > half || (got && memcmp(cut, out, got) != 0)) {
        fprintf(stderr, "fuzz_text: truncated apply wrote %zu of %zu, "
                "not a prefix of the full output\n", got, half);
        abort();
    }

    free(cut);
    free(out);

    if (compliance_redact_len(r, in, len) != need) {
        fprintf(stderr, "fuzz_text: second len() differs\n");
        abort();
    }
}


static void
fuzz_text_json(const u_char *in, size_t len)
{
    char          *q;
    size_t         need;
    u_char        *out, *end;
    json_t        *v, *orig;
    json_error_t   e;

    need = compliance_json_escape_len(in, len);

    out = malloc(need ? need : 1);
    q = malloc(need + 3);

    if (out == NULL || q == NULL) {
        abort();
    }

    end = compliance_json_escape(out, in, len);

    if ((size_t) (end - out) != need) {
        fprintf(stderr, "fuzz_text: json len %zu != written %zu\n", need,
                (size_t) (end - out));
        abort();
    }

    q[0] = '"';
    memcpy(q + 1, out, need);
    q[need + 1] = '"';
    q[need + 2] = '\0';

    v = json_loads(q, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

    if (v == NULL || !json_is_string(v)) {
        fprintf(stderr, "fuzz_text: escaped output does not parse: %s\n",
                e.text);
        abort();
    }

    /* jansson accepts only well-formed UTF-8: that must pass through */
    orig = json_stringn((const char *) in, len);

    if (orig != NULL && !json_equal(orig, v)) {
        fprintf(stderr, "fuzz_text: well-formed UTF-8 changed by escaping\n");
        abort();
    }

    json_decref(orig);
    json_decref(v);
    free(q);
    free(out);
}


static void
fuzz_text_apikey(const u_char *in, size_t len)
{
    int                             rc;
    char                            err[128];
    struct sockaddr_in              sin;
    struct sockaddr_in6             sin6;
    compliance_apikey_text_t        t;
    const compliance_apikey_rec_t  *rec;

    (void) compliance_apikey_parse_text(in, len, &t);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);

    rc = compliance_apikey_verify(&fuzz_text_set, in, len,
                                  (struct sockaddr *) &sin, 1700000000, &rec);

    if (rc == COMPLIANCE_APIKEY_OK
        && (len != strlen(fuzz_text_key)
            || memcmp(in, fuzz_text_key, len) != 0))
    {
        fprintf(stderr, "FAIL-OPEN: API key verified that is not the key\n");
        abort();
    }

    (void) compliance_apikey_verify(&fuzz_text_set, in, len,
                                    (struct sockaddr *) &sin6, 1700000000,
                                    &rec);
    (void) compliance_apikey_verify(&fuzz_text_set, in, len, NULL,
                                    1700000000, &rec);

    (void) compliance_apikey_check_field(in, len, err, sizeof(err));
    (void) compliance_apikey_check_field(in, len, err, 1);
}


static void
fuzz_text_keyfile(const u_char *in, size_t len)
{
    char                     err[256];
    size_t                   i;
    compliance_apikey_set_t  s;

    if (compliance_apikey_set_parse(&s, in, len, err, sizeof(err)) != 0) {
        if (s.recs || s.n || s.text) {
            fprintf(stderr, "fuzz_text: refused key file left state\n");
            abort();
        }

        return;
    }

    for (i = 0; i < s.n; i++) {
        if (compliance_apikey_set_find(&s, (u_char *) s.recs[i].id,
                                       COMPLIANCE_APIKEY_ID_LEN)
            == NULL)
        {
            fprintf(stderr, "fuzz_text: record %zu not found by id\n", i);
            abort();
        }

        if (strlen(s.recs[i].principal) != s.recs[i].principal_len
            || strlen(s.recs[i].org) != s.recs[i].org_len
            || strlen(s.recs[i].scopes) != s.recs[i].scopes_len)
        {
            fprintf(stderr, "fuzz_text: key file string not terminated "
                    "at its length\n");
            abort();
        }
    }

    compliance_apikey_set_free(&s);
}


static void
fuzz_text_cidr(const u_char *in, size_t len)
{
    int                      rc;
    char                     err[128];
    size_t                   i, pl;
    uint64_t                 seq;
    const u_char            *hex;
    struct sockaddr_in       sin;
    struct sockaddr_in6      sin6;
    compliance_cidr_t        c;
    compliance_cidr_list_t   l;

    (void) compliance_cidr_parse(in, len, &c);

    if (compliance_cidr_list_parse(in, len, &l, err, sizeof(err)) == 0) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        (void) compliance_cidr_list_match(&l, (struct sockaddr *) &sin);

        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
        (void) compliance_cidr_list_match(&l, (struct sockaddr *) &sin6);

        compliance_cidr_list_free(&l);
    }

    rc = compliance_chain_split(in, len, &pl, &hex, &seq);

    if (rc != COMPLIANCE_CHAIN_OK) {
        return;
    }

    if (pl + 10 + COMPLIANCE_CHAIN_HEX_LEN > len
        || memcmp(in + pl, ",\"chain\":\"", 10) != 0
        || hex != in + pl + 10
        || seq == 0)
    {
        fprintf(stderr, "fuzz_text: chain_split result out of place\n");
        abort();
    }

    for (i = 0; i < COMPLIANCE_CHAIN_HEX_LEN; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9')
              || (hex[i] >= 'a' && hex[i] <= 'f')))
        {
            fprintf(stderr, "fuzz_text: chain_split passed a non-hex\n");
            abort();
        }
    }
}


/*
 * Q: the query scanner and the token shapes.  Oracles: every end a shape
 * reports lies within the input and past its start; a shape found by
 * the lenient reader at 0 makes the whole-value test agree when it spans
 * the input; the query scanner finds a credential in "t=<input>" when
 * the input is one.
 */
static void
fuzz_text_token(const u_char *in, size_t size)
{
    u_char  *q;
    size_t   i, e, v;

    (void) compliance_query_has_credential(in, size);

    for (i = 0; i < size && i < 64; i++) {
        e = compliance_token_jwt(in, size, i);
        if (e != 0 && (e <= i || e > size)) {
            abort();
        }

        e = compliance_token_api_key(in, size, i, 0);
        if (e != 0 && (e <= i || e > size)) {
            abort();
        }

        e = compliance_token_api_key(in, size, i, COMPLIANCE_TOKEN_EXACT);
        if (e != 0 && (e != i + COMPLIANCE_TOKEN_KEY_LEN || e > size)) {
            abort();
        }

        e = compliance_token_scheme(in, size, i);
        if (e != 0 && (e <= i || e > size)) {
            abort();
        }

        v = 0;
        (void) compliance_token_param(in, size, i, &v);
        if (v < i || v > size) {
            abort();
        }
    }

    if (compliance_token_is_credential(in, size)
        && memchr(in, '&', size) == NULL && memchr(in, ';', size) == NULL)
    {
        q = malloc(size + 2);
        if (q == NULL) {
            return;
        }

        q[0] = 't';
        q[1] = '=';
        memcpy(q + 2, in, size);

        if (!compliance_query_has_credential(q, size + 2)) {
            abort();
        }

        free(q);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *in, sel;

    sel = size ? data[0] : 0;

    if (sel != 0 && memchr("RJQAKC", sel, 6) != NULL) {
        data++;
        size--;

    } else {
        sel = 0;
    }

    /* an exact-size copy, so ASan sees any over-read */
    in = malloc(size ? size : 1);
    if (in == NULL) {
        abort();
    }

    memcpy(in, data, size);

    if (sel == 'R' || sel == 0) {
        fuzz_text_redact(fuzz_text_all, in, size);
        fuzz_text_redact(fuzz_text_default, in, size);
        fuzz_text_redact(fuzz_text_patterns, in, size);
    }

    if (sel == 'J' || sel == 0) {
        fuzz_text_json(in, size);
    }

    if (sel == 'Q' || sel == 0) {
        fuzz_text_token(in, size);
    }

    if (sel == 'A' || sel == 0) {
        fuzz_text_apikey(in, size);
    }

    if (sel == 'K' || sel == 0) {
        fuzz_text_keyfile(in, size);
    }

    if (sel == 'C' || sel == 0) {
        fuzz_text_cidr(in, size);
    }

    free(in);

    return 0;
}
