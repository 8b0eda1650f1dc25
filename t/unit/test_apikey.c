/*
 * API keys: key text, key file parsing, verification (SPEC 5).
 */

/* strptime() and timegm() cross-check the date parser. */
#define _GNU_SOURCE

#include "unit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "compliance_apikey.h"


#define UNIT_ID       "abcdefghij23"
#define UNIT_ID2      "zzzzzzzzzzz7"

/* 2030-01-01T00:00:00Z */
#define UNIT_EXPIRES  1893456000LL


static void b64url(const u_char *in, size_t n, char *out);
static void make_key(const char *id, u_char seed, char *key, char *head,
    char *salt_text, char *hash_text);
static void subst(const char *tmpl, const char *head, char *out,
    size_t size);
static const struct sockaddr *v4(const char *a);
static const struct sockaddr *v6(const char *a);
static int verify(const compliance_apikey_set_t *set, const char *key,
    const struct sockaddr *sa, long long now,
    const compliance_apikey_rec_t **rec);
static void load_fixture(compliance_apikey_set_t *set);
static void test_text_ok(void **state);
static void test_text_refused(void **state);
static void test_text_canonical(void **state);
static void test_generate(void **state);
static void test_parse_records(void **state);
static void test_parse_refusals(void **state);
static void test_duplicate_id(void **state);
static void test_bounds(void **state);
static void test_dates(void **state);
static void test_check_field(void **state);
static void test_verify(void **state);
static void test_verify_cache(void **state);
static void test_verify_expiry_boundary(void **state);
static void test_verify_ip(void **state);
static void test_verify_order(void **state);
static void test_reasons(void **state);
static void test_load(void **state);
static void test_many_keys(void **state);


typedef struct {
    const char  *text;
    const char  *want;
} unit_refusal_t;


static struct sockaddr_in   unit_sin;
static struct sockaddr_in6  unit_sin6;

static char  unit_key_a[COMPLIANCE_APIKEY_TEXT_LEN + 1];
static char  unit_key_b[COMPLIANCE_APIKEY_TEXT_LEN + 1];
static char  unit_head_a[COMPLIANCE_APIKEY_HEAD_LEN + 1];
static char  unit_head_b[COMPLIANCE_APIKEY_HEAD_LEN + 1];
static char  unit_salt_a[64];
static char  unit_hash_a[64];


/* Independent of the code under test: OpenSSL's base64, re-alphabeted. */
static void
b64url(const u_char *in, size_t n, char *out)
{
    char  *p;

    EVP_EncodeBlock((u_char *) out, in, (int) n);

    for (p = out; *p; p++) {
        if (*p == '+') {
            *p = '-';

        } else if (*p == '/') {
            *p = '_';

        } else if (*p == '=') {
            *p = '\0';
            break;
        }
    }
}


/* A deterministic key: secret bytes seed + 7i, salt bytes seed + i. */
static void
make_key(const char *id, u_char seed, char *key, char *head,
    char *salt_text, char *hash_text)
{
    int           i;
    char          s[64], salt_b64[64], hash_b64[64];
    u_char        secret[32], salt[16], buf[48], hash[32];
    unsigned int  hlen;

    for (i = 0; i < 32; i++) {
        secret[i] = (u_char) (seed + 7 * i);
    }

    for (i = 0; i < 16; i++) {
        salt[i] = (u_char) (seed + i);
    }

    memcpy(buf, salt, 16);
    memcpy(buf + 16, secret, 32);
    assert_int_equal(EVP_Digest(buf, sizeof(buf), hash, &hlen, EVP_sha256(),
                                NULL), 1);

    b64url(secret, 32, s);
    b64url(salt, 16, salt_b64);
    b64url(hash, 32, hash_b64);

    assert_int_equal(strlen(s), 43);
    assert_int_equal(strlen(salt_b64), 22);
    assert_int_equal(strlen(hash_b64), 43);

    snprintf(key, COMPLIANCE_APIKEY_TEXT_LEN + 1, "ck_%s_%s", id, s);
    snprintf(head, COMPLIANCE_APIKEY_HEAD_LEN + 1, "%s sha256:%s:%s", id,
             salt_b64, hash_b64);

    if (salt_text) {
        strcpy(salt_text, salt_b64);
        strcpy(hash_text, hash_b64);
    }
}


/* Replaces each '@' in tmpl by head. */
static void
subst(const char *tmpl, const char *head, char *out, size_t size)
{
    size_t  n, hl;

    n = 0;
    hl = strlen(head);

    for ( /* void */ ; *tmpl; tmpl++) {
        if (*tmpl == '@') {
            assert_true(n + hl < size);
            memcpy(out + n, head, hl);
            n += hl;
            continue;
        }

        assert_true(n + 1 < size);
        out[n++] = *tmpl;
    }

    out[n] = '\0';
}


static const struct sockaddr *
v4(const char *a)
{
    memset(&unit_sin, 0, sizeof(unit_sin));
    unit_sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, a, &unit_sin.sin_addr), 1);

    return (const struct sockaddr *) &unit_sin;
}


static const struct sockaddr *
v6(const char *a)
{
    memset(&unit_sin6, 0, sizeof(unit_sin6));
    unit_sin6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, a, &unit_sin6.sin6_addr), 1);

    return (const struct sockaddr *) &unit_sin6;
}


static int
verify(const compliance_apikey_set_t *set, const char *key,
    const struct sockaddr *sa, long long now,
    const compliance_apikey_rec_t **rec)
{
    return compliance_apikey_verify(set, (const u_char *) key, strlen(key),
                                    sa, now, rec);
}


/*
 * Key A: alice, scopes, allow list, expires 2030-01-01.
 * Key B: bob, nothing optional.
 */
static void
load_fixture(compliance_apikey_set_t *set)
{
    char  buf[2048], err[256], line[1024];

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, unit_salt_a, unit_hash_a);
    make_key(UNIT_ID2, 99, unit_key_b, unit_head_b, NULL, NULL);

    subst("# API keys\n"
          "\n"
          "@ principal=alice org=acme scopes=read,write,admin:x "
          "allow=10.0.0.0/8,2001:db8::/32 expires=2030-01-01\n",
          unit_head_a, buf, sizeof(buf));

    subst("  \t\r\n@\tprincipal=bob   # the demo key\r\n# end",
          unit_head_b, line, sizeof(line));

    strcat(buf, line);

    assert_int_equal(compliance_apikey_set_parse(set, (const u_char *) buf,
                                                 strlen(buf), err,
                                                 sizeof(err)), 0);
}


static void
test_text_ok(void **state)
{
    size_t                    i;
    compliance_apikey_text_t  t;

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, NULL, NULL);

    assert_int_equal(strlen(unit_key_a), COMPLIANCE_APIKEY_TEXT_LEN);
    assert_int_equal(compliance_apikey_parse_text((const u_char *) unit_key_a,
                                                  strlen(unit_key_a), &t),
                     COMPLIANCE_APIKEY_OK);
    assert_string_equal(t.id, UNIT_ID);

    for (i = 0; i < 32; i++) {
        assert_int_equal(t.secret[i], (u_char) (1 + 7 * i));
    }
}


static void
test_text_refused(void **state)
{
    char                      k[128];
    size_t                    i, j;
    compliance_apikey_text_t  t;

    static const char  *bad_id_chars = "A01890-_.Z";
    static const char  *bad_secret_chars = "+/= .\x01\x80";

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, NULL, NULL);

#define UNIT_BAD(s, n)                                                        \
    do {                                                                      \
        memset(&t, 0x55, sizeof(t));                                          \
        assert_int_equal(compliance_apikey_parse_text((const u_char *) (s),   \
                                                      (n), &t),               \
                         COMPLIANCE_APIKEY_MALFORMED);                        \
        for (j = 0; j < sizeof(t.secret); j++) {                              \
            assert_int_equal(t.secret[j], 0);                                 \
        }                                                                     \
    } while (0)

    UNIT_BAD("", 0);
    UNIT_BAD(unit_key_a, 58);

    /* Wrong prefix. */
    for (i = 0; i < 4; i++) {
        strcpy(k, unit_key_a);
        k[i] = (char) (i == 3 ? '-' : k[i] ^ 0x20);
        UNIT_BAD(k, strlen(k));
    }

    strcpy(k, "ak_");
    strcat(k, unit_key_a + 3);
    UNIT_BAD(k, strlen(k));

    /* id of 11 and of 13 characters (total length kept, or not). */
    snprintf(k, sizeof(k), "ck_abcdefghij2_%s", unit_key_a + 16);
    UNIT_BAD(k, strlen(k));
    snprintf(k, sizeof(k), "ck_abcdefghij234_%s", unit_key_a + 16);
    UNIT_BAD(k, strlen(k));
    snprintf(k, sizeof(k), "ck_abcdefghij2_%sA", unit_key_a + 16);
    UNIT_BAD(k, strlen(k));

    /* Uppercase and other characters outside [a-z2-7] in the id. */
    for (i = 0; bad_id_chars[i]; i++) {
        strcpy(k, unit_key_a);
        k[5] = bad_id_chars[i];
        UNIT_BAD(k, strlen(k));
    }

    /* Separator between id and secret. */
    strcpy(k, unit_key_a);
    k[15] = '-';
    UNIT_BAD(k, strlen(k));

    /* Secret of 42 and 44 characters. */
    strcpy(k, unit_key_a);
    k[58] = '\0';
    UNIT_BAD(k, strlen(k));
    strcpy(k, unit_key_a);
    strcat(k, "A");
    UNIT_BAD(k, strlen(k));

    /* Characters outside base64url, anywhere in the secret. */
    for (i = 0; bad_secret_chars[i]; i++) {
        strcpy(k, unit_key_a);
        k[20 + i] = bad_secret_chars[i];
        UNIT_BAD(k, strlen(k));
    }

    strcpy(k, unit_key_a);
    k[30] = '\0';
    UNIT_BAD(k, COMPLIANCE_APIKEY_TEXT_LEN);

    /* Surrounding whitespace is the caller's business, not accepted. */
    snprintf(k, sizeof(k), " %.58s", unit_key_a);
    UNIT_BAD(k, strlen(k));
    snprintf(k, sizeof(k), "%s\n", unit_key_a);
    UNIT_BAD(k, strlen(k));

#undef UNIT_BAD
}


static void
test_text_canonical(void **state)
{
    char                      k[128];
    const char               *c;
    compliance_apikey_text_t  t;

    (void) state;

    /* 43 chars carry 258 bits: the last one's 2 low bits must be 0. */
    for (c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
         *c; c++)
    {
        snprintf(k, sizeof(k), "ck_%s_%.42s%c", UNIT_ID,
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", *c);

        if ((strchr("AEIMQUYcgkosw048", *c) != NULL)
            != (compliance_apikey_parse_text((const u_char *) k, strlen(k),
                                             &t)
                == COMPLIANCE_APIKEY_OK))
        {
            fail_msg("last secret character '%c' judged wrongly", *c);
        }
    }

    snprintf(k, sizeof(k), "ck_%s_%.42s%c", UNIT_ID,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 'w');
    assert_int_equal(compliance_apikey_parse_text((const u_char *) k,
                                                  strlen(k), &t),
                     COMPLIANCE_APIKEY_OK);
    assert_int_equal(t.secret[31], 0x0c);
}


static void
test_generate(void **state)
{
    int                             i;
    char                            text[COMPLIANCE_APIKEY_TEXT_LEN + 1];
    char                            text2[COMPLIANCE_APIKEY_TEXT_LEN + 1];
    char                            head[COMPLIANCE_APIKEY_HEAD_LEN + 1];
    char                            buf[512], err[256];
    compliance_apikey_text_t        t;
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *rec;

    (void) state;

    for (i = 0; i < 50; i++) {
        assert_int_equal(compliance_apikey_generate(text, head), 0);
        assert_int_equal(strlen(text), COMPLIANCE_APIKEY_TEXT_LEN);
        assert_int_equal(strlen(head), COMPLIANCE_APIKEY_HEAD_LEN);
        assert_memory_equal(text + 3, head, COMPLIANCE_APIKEY_ID_LEN);

        assert_int_equal(compliance_apikey_parse_text((const u_char *) text,
                                                      strlen(text), &t),
                         COMPLIANCE_APIKEY_OK);

        snprintf(buf, sizeof(buf), "%s principal=gen\n", head);
        assert_int_equal(compliance_apikey_set_parse(&set,
                                                     (const u_char *) buf,
                                                     strlen(buf), err,
                                                     sizeof(err)), 0);

        assert_int_equal(verify(&set, text, NULL, 0, &rec),
                         COMPLIANCE_APIKEY_OK);
        assert_string_equal(rec->principal, "gen");

        /* The secret is not in the record head. */
        assert_null(strstr(head, text + 16));

        compliance_apikey_set_free(&set);
    }

    assert_int_equal(compliance_apikey_generate(text2, head), 0);
    assert_string_not_equal(text, text2);
}


static void
test_parse_records(void **state)
{
    const compliance_apikey_rec_t  *a, *b;
    compliance_apikey_set_t         set;

    (void) state;

    load_fixture(&set);

    assert_int_equal(set.n, 2);

    a = compliance_apikey_set_find(&set, (const u_char *) UNIT_ID, 12);
    b = compliance_apikey_set_find(&set, (const u_char *) UNIT_ID2, 12);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(compliance_apikey_set_find(&set,
                                           (const u_char *) "abcdefghij22",
                                           12));
    assert_null(compliance_apikey_set_find(&set, (const u_char *) UNIT_ID,
                                           11));

    assert_string_equal(a->id, UNIT_ID);
    assert_string_equal(a->principal, "alice");
    assert_int_equal(a->principal_len, 5);
    assert_string_equal(a->org, "acme");
    assert_int_equal(a->org_len, 4);
    assert_string_equal(a->scopes, "read write admin:x");
    assert_int_equal(a->scopes_len, 18);
    assert_string_equal(a->allow_text, "10.0.0.0/8,2001:db8::/32");
    assert_int_equal(a->allow.n, 2);
    assert_int_equal(a->expires, UNIT_EXPIRES);
    assert_int_equal(a->line, 3);

    assert_string_equal(b->principal, "bob");
    assert_string_equal(b->org, "");
    assert_int_equal(b->org_len, 0);
    assert_string_equal(b->scopes, "");
    assert_string_equal(b->allow_text, "");
    assert_int_equal(b->allow.n, 0);
    assert_int_equal(b->expires, 0);
    assert_int_equal(b->line, 5);

    compliance_apikey_set_free(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.recs);

    /* An empty file and a comments-only file are empty sets. */
    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) "",
                                                 0, NULL, 0), 0);
    assert_int_equal(set.n, 0);
    compliance_apikey_set_free(&set);

    assert_int_equal(compliance_apikey_set_parse(&set,
                                                 (const u_char *) "#\n\n #x",
                                                 7, NULL, 0), 0);
    assert_int_equal(set.n, 0);
    compliance_apikey_set_free(&set);
}


static void
test_parse_refusals(void **state)
{
    char                     text[8192], err[256], want[256];
    size_t                   i;
    compliance_apikey_set_t  set;

    static const unit_refusal_t  cases[] = {
        { "x\n", "line 1: invalid key id" },
        { "#\n\nABCDEFGHIJKL sha256:x:y principal=a\n",
          "line 3: invalid key id" },
        { "abcdefghij2 sha256:x:y principal=a\n", "line 1: invalid key id" },
        { "abcdefghij234 sha256:x:y principal=a\n",
          "line 1: invalid key id" },
        { "abcdefghij01 sha256:x:y principal=a\n",
          "line 1: invalid key id" },
        { "abcdefghij23\n", "line 1: missing hash field" },
        { "abcdefghij23   \n", "line 1: missing hash field" },
        { "abcdefghij23 sha256:bad principal=a\n",
          "line 1: invalid hash field" },
        { "abcdefghij23 md5:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAA principal=a\n", "line 1: invalid hash field" },
        { "abcdefghij23 sha256:AAAAAAAAAAAAAAAAAAAAAB:AAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAAAAAAA principal=a\n",
          "line 1: invalid hash field" },
        { "abcdefghij23 sha256:AAAAAAAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAAAAAAB principal=a\n",
          "line 1: invalid hash field" },
        { "abcdefghij23 sha256:AAAAAAAAAAAAAAAAAAAAAA;AAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAAAAAAA principal=a\n",
          "line 1: invalid hash field" },
        { "abcdefghij23 sha256:AAAAAAAAAAAAAAAAAAAAA+:AAAAAAAAAAAAAAAAAAAA"
          "AAAAAAAAAAAAAAAAAAAAAAA principal=a\n",
          "line 1: invalid hash field" },
        { "@\n", "line 1: missing principal=" },
        { "@ org=x\n", "line 1: missing principal=" },
        { "@ # principal=a\n", "line 1: missing principal=" },
        { "# a\n@ principal=\n", "line 2: principal: empty value" },
        { "@ principal=a principal=b\n",
          "line 1: duplicate field \"principal\"" },
        { "@ principal=a org=b org=b\n", "line 1: duplicate field \"org\"" },
        { "@ principal=a expires=2030-01-01 expires=2030-01-01\n",
          "line 1: duplicate field \"expires\"" },
        { "@ principal=a allow=1.2.3.4 allow=1.2.3.4\n",
          "line 1: duplicate field \"allow\"" },
        { "@ principal=a foo=bar\n", "line 1: unknown field \"foo\"" },
        { "@ principal=a Principal=b\n", "line 1: unknown field" },
        { "@ principal=a =b\n", "line 1: unknown field" },
        { "@ principal=a nofield\n", "line 1: field without \"=\"" },
        { "@ principal=a\n@ principal=b ck_abc\n",
          "line 2: field without \"=\"" },
        { "@ principal=a\"b\n", "line 1: principal: forbidden character" },
        { "@ principal=a'b\n", "line 1: principal: forbidden character" },
        { "@ principal=a\\b\n", "line 1: principal: forbidden character" },
        { "@ principal=a\x01" "b\n",
          "line 1: principal: forbidden character" },
        { "@ principal=\xc3\xa9\n",
          "line 1: principal: forbidden character" },
        { "@ principal=a\rb\n", "line 1: principal: forbidden character" },
        { "@ principal=a org=\x7f\n", "line 1: org: forbidden character" },
        { "@ principal=a scopes=a,,b\n",
          "line 1: scopes: empty scope in list" },
        { "@ principal=a scopes=,a\n",
          "line 1: scopes: empty scope in list" },
        { "@ principal=a scopes=a,\n",
          "line 1: scopes: empty scope in list" },
        { "@ principal=a scopes=,\n",
          "line 1: scopes: empty scope in list" },
        { "@ principal=a allow=\n", "line 1: allow: empty value" },
        { "@ principal=a allow=1.2.3.4/33\n",
          "line 1: allow: invalid address or CIDR \"1.2.3.4/33\"" },
        { "@ principal=a allow=10.0.0.0/8,\n",
          "line 1: allow: empty element" },
        { "@ principal=a allow=example.com\n",
          "line 1: allow: invalid address or CIDR" },
        { "@ principal=a expires=2023-02-29\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-04-31\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-13-01\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-00-01\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-01-00\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=1969-12-31\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-1-01\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024/01/01\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=20240101\n",
          "line 1: expires: not a valid date" },
        { "@ principal=a expires=2024-01-011\n",
          "line 1: expires: value longer than 10" },
        { "@ principal=a expires=2100-02-29\n",
          "line 1: expires: not a valid date" },
    };

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, unit_salt_a, unit_hash_a);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        subst(cases[i].text, unit_head_a, text, sizeof(text));
        err[0] = '\0';

        set.n = 99;

        if (compliance_apikey_set_parse(&set, (const u_char *) text,
                                        strlen(text), err, sizeof(err))
            != -1)
        {
            fail_msg("case %zu accepted", i);
        }

        assert_int_equal(set.n, 0);
        assert_null(set.recs);

        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0) {
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
                     cases[i].want);
        }

        /* Never a salt or a hash in a message. */
        assert_null(strstr(err, unit_salt_a));
        assert_null(strstr(err, unit_hash_a));
        assert_null(strstr(err, "AAAAAAAAAA"));
    }

    /* An over-long principal, and exactly the limit. */
    snprintf(text, sizeof(text), "%s principal=", unit_head_a);
    memset(text + strlen(text), 'p', COMPLIANCE_APIKEY_MAX_VALUE + 1);
    text[strlen(unit_head_a) + 11 + COMPLIANCE_APIKEY_MAX_VALUE + 1] = '\0';

    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) text,
                                                 strlen(text), err,
                                                 sizeof(err)), -1);
    snprintf(want, sizeof(want), "line 1: principal: value longer than %d",
             COMPLIANCE_APIKEY_MAX_VALUE);
    assert_non_null(strstr(err, want));

    text[strlen(text) - 1] = '\0';
    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) text,
                                                 strlen(text), err,
                                                 sizeof(err)), 0);
    assert_int_equal(set.recs[0].principal_len, COMPLIANCE_APIKEY_MAX_VALUE);
    compliance_apikey_set_free(&set);

    /* An embedded NUL inside a value. */
    snprintf(text, sizeof(text), "%s principal=ab", unit_head_a);
    i = strlen(text);
    text[i - 1] = '\0';
    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) text,
                                                 i, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 1: principal: forbidden character"));

    /* A pasted key text as the id is refused without being echoed. */
    snprintf(text, sizeof(text), "%s principal=a\n", unit_key_a);
    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) text,
                                                 strlen(text), err,
                                                 sizeof(err)), -1);
    assert_null(strstr(err, unit_key_a + 16));
    assert_null(strstr(err, UNIT_ID));
}


static void
test_duplicate_id(void **state)
{
    char                     text[4096], err[256];
    compliance_apikey_set_t  set;

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, NULL, NULL);
    make_key(UNIT_ID2, 2, unit_key_b, unit_head_b, NULL, NULL);

    snprintf(text, sizeof(text),
             "# keys\n"
             "%s principal=a\n"
             "%s principal=b\n"
             "%s principal=c\n"
             "%s principal=d\n"
             "%s principal=e\n",
             unit_head_b, unit_head_a, unit_head_b, unit_head_a, unit_head_b);

    assert_int_equal(compliance_apikey_set_parse(&set, (const u_char *) text,
                                                 strlen(text), err,
                                                 sizeof(err)), -1);
    assert_string_equal(err, "line 4: duplicate key id " UNIT_ID2
                        " (first on line 2)");
    assert_int_equal(set.n, 0);
}


static void
test_bounds(void **state)
{
    char                     err[256];
    u_char                  *big;
    size_t                   n;
    compliance_apikey_set_t  set;

    (void) state;

    /* Line length is checked before the line is looked at. */
    big = malloc(COMPLIANCE_APIKEY_MAX_LINE * 2);
    assert_non_null(big);

    memcpy(big, "#\n", 2);
    memset(big + 2, '#', COMPLIANCE_APIKEY_MAX_LINE + 1);
    n = 2 + COMPLIANCE_APIKEY_MAX_LINE + 1;

    assert_int_equal(compliance_apikey_set_parse(&set, big, n, err,
                                                 sizeof(err)), -1);
    assert_non_null(strstr(err, "line 2: line longer than 4096"));

    n--;
    assert_int_equal(compliance_apikey_set_parse(&set, big, n, err,
                                                 sizeof(err)), 0);
    compliance_apikey_set_free(&set);
    free(big);

    big = calloc(1, COMPLIANCE_APIKEY_MAX_FILE + 1);
    assert_non_null(big);

    assert_int_equal(compliance_apikey_set_parse(&set, big,
                                                 COMPLIANCE_APIKEY_MAX_FILE
                                                 + 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    free(big);
}


static void
test_dates(void **state)
{
    size_t     i;
    char       s[16];
    time_t     want;
    struct tm  tm;
    long long  t;

    static const char  *good[] = {
        "1970-01-01", "1999-12-31", "2000-02-29", "2024-02-29",
        "2023-12-31", "2030-01-01", "2038-01-19", "2100-03-01",
        "2400-02-29", "9999-12-31"
    };
    static const char  *bad[] = {
        "1969-12-31", "0000-01-01", "2023-02-29", "2100-02-29",
        "2024-06-31", "2024-11-31", "2024-01-32", "2024-00-10",
        "2024-13-10", "2024-01-1", "24-01-01", "2024-01-01T",
        "2024-01-0a", "2024_01_01", " 024-01-01", "+024-01-01"
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(&tm, 0, sizeof(tm));
        assert_non_null(strptime(good[i], "%Y-%m-%d", &tm));
        want = timegm(&tm);

        assert_int_equal(compliance_apikey_parse_date(
                             (const u_char *) good[i], strlen(good[i]), &t),
                         0);

        if (t != (long long) want) {
            fail_msg("%s: %lld != %lld", good[i], t, (long long) want);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (compliance_apikey_parse_date((const u_char *) bad[i],
                                         strlen(bad[i]), &t)
            != -1)
        {
            fail_msg("%s accepted", bad[i]);
        }
    }

    /* Every day of 1970..2100 against the C library. */
    for (i = 0; i < 131 * 366; i++) {
        want = (time_t) i * 86400;
        assert_non_null(gmtime_r(&want, &tm));

        if (tm.tm_year > 200) {
            break;
        }

        strftime(s, sizeof(s), "%Y-%m-%d", &tm);
        assert_int_equal(compliance_apikey_parse_date((const u_char *) s, 10,
                                                      &t), 0);
        assert_int_equal(t, (long long) want);
    }
}


static void
test_check_field(void **state)
{
    char    err[256];
    size_t  i;

    static const char  *good[] = {
        "principal=alice", "org=acme-corp", "scopes=read,write",
        "allow=10.0.0.0/8,::1", "expires=2030-01-01", "principal=a=b",
        "principal=user@example.com"
    };
    static const char  *bad[] = {
        "principal=", "principal", "name=x", "org=a b", "scopes=a,,b",
        "allow=10.0.0.0/33", "expires=2030-02-30", "principal=\"x\"",
        "=x", ""
    };

    (void) state;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (compliance_apikey_check_field((const u_char *) good[i],
                                          strlen(good[i]), err, sizeof(err))
            != 0)
        {
            fail_msg("\"%s\" refused: %s", good[i], err);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (compliance_apikey_check_field((const u_char *) bad[i],
                                          strlen(bad[i]), err, sizeof(err))
            != -1)
        {
            fail_msg("\"%s\" accepted", bad[i]);
        }
    }
}


/*
 * The verification cache: a key that verified skips its SHA-256 the next
 * time, but only the exact text hits; expiry and the allow-list are still
 * checked every time; a new set (a reload) starts empty.
 */
static void
test_verify_cache(void **state)
{
    int                             i;
    char                            k[128];
    const compliance_apikey_rec_t  *rec;
    compliance_apikey_set_t         set;

    (void) state;

    load_fixture(&set);
    assert_non_null(set.cache);

    for (i = 0; i < 3; i++) {
        assert_int_equal(verify(&set, unit_key_a, v4("10.1.2.3"),
                                1700000000, &rec), COMPLIANCE_APIKEY_OK);
        assert_string_equal(rec->principal, "alice");
    }

    /* one character off, in the secret or in the id: no hit */
    for (i = 3; i < COMPLIANCE_APIKEY_TEXT_LEN; i++) {
        strcpy(k, unit_key_a);
        k[i] = (char) (k[i] == 'a' ? 'b' : 'a');
        assert_int_not_equal(verify(&set, k, v4("10.1.2.3"), 1700000000,
                                    &rec), COMPLIANCE_APIKEY_OK);
    }

    /* cached, and still refused once expired or from another address */
    assert_int_equal(verify(&set, unit_key_a, v4("10.1.2.3"), 1900000000,
                            &rec), COMPLIANCE_APIKEY_EXPIRED);
    assert_null(rec);
    assert_int_equal(verify(&set, unit_key_a, v4("192.0.2.1"), 1700000000,
                            &rec), COMPLIANCE_APIKEY_IP_NOT_ALLOWED);

    /* a reload: a new set, no memory of the old one */
    compliance_apikey_set_free(&set);
    assert_null(set.cache);
    load_fixture(&set);
    assert_null(set.cache[0].rec);
    assert_int_equal(verify(&set, unit_key_a, v4("10.1.2.3"), 1700000000,
                            &rec), COMPLIANCE_APIKEY_OK);

    compliance_apikey_set_free(&set);
}


static void
test_verify(void **state)
{
    char                            k[128];
    const compliance_apikey_rec_t  *rec;
    compliance_apikey_set_t         set;

    (void) state;

    load_fixture(&set);

    rec = NULL;
    assert_int_equal(verify(&set, unit_key_a, v4("10.1.2.3"), 1700000000,
                            &rec), COMPLIANCE_APIKEY_OK);
    assert_non_null(rec);
    assert_string_equal(rec->id, UNIT_ID);
    assert_string_equal(rec->principal, "alice");

    assert_int_equal(verify(&set, unit_key_b, NULL, 1700000000, &rec),
                     COMPLIANCE_APIKEY_OK);
    assert_string_equal(rec->principal, "bob");

    /* rec is NULL after any failure; rec itself may be NULL. */
    assert_int_equal(verify(&set, "ck_nope", NULL, 0, &rec),
                     COMPLIANCE_APIKEY_MALFORMED);
    assert_null(rec);
    assert_int_equal(verify(&set, unit_key_b, NULL, 0, NULL),
                     COMPLIANCE_APIKEY_OK);

    /* Wrong secret: same code as an unknown id. */
    strcpy(k, unit_key_a);
    k[20] = (char) (k[20] == 'A' ? 'B' : 'A');
    assert_int_equal(verify(&set, k, v4("10.1.2.3"), 0, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);
    assert_null(rec);

    /* Another key's secret under this id. */
    snprintf(k, sizeof(k), "ck_%s_%s", UNIT_ID, unit_key_b + 16);
    assert_int_equal(verify(&set, k, v4("10.1.2.3"), 0, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);

    /* Unknown id with a valid-looking secret. */
    snprintf(k, sizeof(k), "ck_abcdefghij22_%s", unit_key_a + 16);
    assert_int_equal(verify(&set, k, v4("10.1.2.3"), 0, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);

    /* An empty set knows no key. */
    compliance_apikey_set_free(&set);
    assert_int_equal(verify(&set, unit_key_a, v4("10.1.2.3"), 0, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);
    assert_int_equal(verify(NULL, unit_key_a, v4("10.1.2.3"), 0, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);
}


static void
test_verify_expiry_boundary(void **state)
{
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *rec;

    (void) state;

    load_fixture(&set);

    /* Valid until 2029-12-31T23:59:59Z; dead from 2030-01-01T00:00:00Z. */
    assert_int_equal(verify(&set, unit_key_a, v4("10.0.0.1"),
                            UNIT_EXPIRES - 1, &rec), COMPLIANCE_APIKEY_OK);
    assert_int_equal(verify(&set, unit_key_a, v4("10.0.0.1"), UNIT_EXPIRES,
                            &rec), COMPLIANCE_APIKEY_EXPIRED);
    assert_null(rec);
    assert_int_equal(verify(&set, unit_key_a, v4("10.0.0.1"),
                            UNIT_EXPIRES + 86400 * 365, &rec),
                     COMPLIANCE_APIKEY_EXPIRED);

    /* No expiry: valid forever. */
    assert_int_equal(verify(&set, unit_key_b, NULL, 253402300799LL, &rec),
                     COMPLIANCE_APIKEY_OK);

    compliance_apikey_set_free(&set);
}


static void
test_verify_ip(void **state)
{
    long long                       now;
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *rec;

    (void) state;

    load_fixture(&set);
    now = 1700000000;

    assert_int_equal(verify(&set, unit_key_a, v4("10.255.255.255"), now,
                            &rec), COMPLIANCE_APIKEY_OK);
    assert_int_equal(verify(&set, unit_key_a, v4("11.0.0.1"), now, &rec),
                     COMPLIANCE_APIKEY_IP_NOT_ALLOWED);
    assert_null(rec);
    assert_int_equal(verify(&set, unit_key_a, v4("9.255.255.255"), now,
                            &rec), COMPLIANCE_APIKEY_IP_NOT_ALLOWED);

    assert_int_equal(verify(&set, unit_key_a, v6("2001:db8:ffff::1"), now,
                            &rec), COMPLIANCE_APIKEY_OK);
    assert_int_equal(verify(&set, unit_key_a, v6("2001:db9::1"), now, &rec),
                     COMPLIANCE_APIKEY_IP_NOT_ALLOWED);

    /* IPv4 client on a dual-stack socket. */
    assert_int_equal(verify(&set, unit_key_a, v6("::ffff:10.9.8.7"), now,
                            &rec), COMPLIANCE_APIKEY_OK);
    assert_int_equal(verify(&set, unit_key_a, v6("::ffff:12.9.8.7"), now,
                            &rec), COMPLIANCE_APIKEY_IP_NOT_ALLOWED);

    /* No address known (e.g. a unix socket): an allow list refuses. */
    assert_int_equal(verify(&set, unit_key_a, NULL, now, &rec),
                     COMPLIANCE_APIKEY_IP_NOT_ALLOWED);

    /* No allow list: any address. */
    assert_int_equal(verify(&set, unit_key_b, v4("203.0.113.1"), now,
                            &rec), COMPLIANCE_APIKEY_OK);
    assert_int_equal(verify(&set, unit_key_b, v6("2001:db9::1"), now, &rec),
                     COMPLIANCE_APIKEY_OK);

    compliance_apikey_set_free(&set);
}


static void
test_verify_order(void **state)
{
    char                            k[128];
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *rec;

    (void) state;

    load_fixture(&set);

    /* Expired and from a refused address: expiry is reported. */
    assert_int_equal(verify(&set, unit_key_a, v4("11.0.0.1"), UNIT_EXPIRES,
                            &rec), COMPLIANCE_APIKEY_EXPIRED);

    /* Wrong secret wins over both: nothing is revealed about the key. */
    strcpy(k, unit_key_a);
    k[40] = (char) (k[40] == 'A' ? 'B' : 'A');
    assert_int_equal(verify(&set, k, v4("11.0.0.1"), UNIT_EXPIRES, &rec),
                     COMPLIANCE_APIKEY_UNKNOWN);

    /* Malformed wins over everything. */
    k[COMPLIANCE_APIKEY_TEXT_LEN - 1] = '+';
    assert_int_equal(verify(&set, k, v4("11.0.0.1"), UNIT_EXPIRES, &rec),
                     COMPLIANCE_APIKEY_MALFORMED);

    compliance_apikey_set_free(&set);
}


static void
test_reasons(void **state)
{
    (void) state;

    assert_null(compliance_apikey_reason(COMPLIANCE_APIKEY_OK));
    assert_string_equal(compliance_apikey_reason(COMPLIANCE_APIKEY_MALFORMED),
                        "unknown_api_key");
    assert_string_equal(compliance_apikey_reason(COMPLIANCE_APIKEY_UNKNOWN),
                        "unknown_api_key");
    assert_string_equal(compliance_apikey_reason(COMPLIANCE_APIKEY_EXPIRED),
                        "api_key_expired");
    assert_string_equal(
        compliance_apikey_reason(COMPLIANCE_APIKEY_IP_NOT_ALLOWED),
        "ip_not_allowed");
}


static void
test_load(void **state)
{
    int                      fd;
    char                     path[64], buf[512], err[512];
    unsigned                 mode;
    compliance_apikey_set_t  set;

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, NULL, NULL);

    strcpy(path, "/tmp/test_apikey.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);

    snprintf(buf, sizeof(buf), "# k\n%s principal=alice\n", unit_head_a);
    assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t) strlen(buf));
    assert_int_equal(fchmod(fd, 0640), 0);
    close(fd);

    mode = 0;
    assert_int_equal(compliance_apikey_set_load(&set, path, &mode, err,
                                                sizeof(err)), 0);
    assert_int_equal(mode, 0640);
    assert_int_equal(set.n, 1);
    assert_int_equal(verify(&set, unit_key_a, NULL, 0, NULL),
                     COMPLIANCE_APIKEY_OK);
    compliance_apikey_set_free(&set);

    /* A parse error names the file and the line. */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "bogus\n", 6), 6);
    close(fd);

    assert_int_equal(compliance_apikey_set_load(&set, path, &mode, err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 3: invalid key id"));

    unlink(path);

    assert_int_equal(compliance_apikey_set_load(&set, path, &mode, err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));

    assert_int_equal(compliance_apikey_set_load(&set, "/tmp", &mode, err,
                                                sizeof(err)), -1);
    assert_non_null(strstr(err, "not a regular file"));
}


static void
test_many_keys(void **state)
{
    char                           *buf, id[13], err[256];
    size_t                          i, j, n, v, size;
    double                          secs;
    struct timespec                 t0, t1;
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *rec;

    static const size_t  count = 100000;

    (void) state;

    make_key(UNIT_ID, 1, unit_key_a, unit_head_a, NULL, NULL);

    size = count * 200;
    buf = malloc(size);
    assert_non_null(buf);

    /* Distinct ids in reverse order, so the sort has work to do. */
    n = 0;

    for (i = 0; i < count; i++) {
        v = count - i;

        for (j = 0; j < 12; j++) {
            id[11 - j] = "abcdefghijklmnopqrstuvwxyz234567"[v & 31];
            v >>= 5;
        }

        id[12] = '\0';

        n += (size_t) snprintf(buf + n, size - n,
                               "%s%s principal=user%zu scopes=read\n", id,
                               unit_head_a + 12, i);
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);

    assert_int_equal(compliance_apikey_set_parse(&set, (u_char *) buf, n,
                                                 err, sizeof(err)), 0);

    clock_gettime(CLOCK_MONOTONIC, &t1);

    secs = (double) (t1.tv_sec - t0.tv_sec)
           + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;

    /*
     * A figure, not an assertion: speed is measured by benchmarks, and a
     * bound in a test fails on a busy machine (it did, at 1.005 s).
     */
    print_message("# bench apikey: loaded %zu keys (%zu bytes) in %.3f s\n",
                  set.n, n, secs);

    assert_int_equal(set.n, count);

    for (i = 1; i < set.n; i++) {
        assert_true(memcmp(set.recs[i - 1].id, set.recs[i].id, 12) < 0);
    }

    for (i = 0; i < set.n; i += 997) {
        rec = compliance_apikey_set_find(&set,
                                         (const u_char *) set.recs[i].id, 12);
        assert_ptr_equal(rec, &set.recs[i]);
    }

    compliance_apikey_set_free(&set);
    free(buf);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_text_ok),
        cmocka_unit_test(test_text_refused),
        cmocka_unit_test(test_text_canonical),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_parse_records),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_duplicate_id),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_check_field),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_cache),
        cmocka_unit_test(test_verify_expiry_boundary),
        cmocka_unit_test(test_verify_ip),
        cmocka_unit_test(test_verify_order),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_many_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
