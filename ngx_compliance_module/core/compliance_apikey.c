/*
 * API keys: key text, key file parsing and verification.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "compliance_apikey.h"
#include "compliance_io.h"


#define COMPLIANCE_APIKEY_F_PRINCIPAL  0
#define COMPLIANCE_APIKEY_F_ORG        1
#define COMPLIANCE_APIKEY_F_SCOPES     2
#define COMPLIANCE_APIKEY_F_ALLOW      3
#define COMPLIANCE_APIKEY_F_EXPIRES    4
#define COMPLIANCE_APIKEY_F_N          5

/* "sha256:" salt ":" hash */
#define COMPLIANCE_APIKEY_HASH_FIELD                                          \
    (7 + COMPLIANCE_APIKEY_SALT_TEXT + 1 + COMPLIANCE_APIKEY_HASH_TEXT)

#define COMPLIANCE_APIKEY_ERRLEN  256


typedef struct {
    const char  *name;
    size_t       len;
    size_t       max;
} compliance_apikey_field_t;


/* What one field yields; allow is malloc()ed only for allow=. */
typedef struct {
    int                     idx;
    u_char                 *value;
    size_t                  len;
    compliance_cidr_list_t  allow;
    long long               expires;
} compliance_apikey_value_t;


static int compliance_apikey_b64val(u_char c);
static int compliance_apikey_b64_decode(const u_char *p, size_t len,
    u_char *out, size_t outlen);
static void compliance_apikey_b64_encode(const u_char *in, size_t n,
    char *out);
static int compliance_apikey_is_id(const u_char *p, size_t len);
static int compliance_apikey_is_value_char(u_char c);
static int compliance_apikey_is_name(const u_char *p, size_t len);
static int compliance_apikey_field(const u_char *p, size_t len,
    compliance_apikey_value_t *v, char *err, size_t errlen);
static int compliance_apikey_parse_line(u_char *p, size_t len,
    compliance_apikey_rec_t *rec, char *err, size_t errlen);
static int compliance_apikey_parse_owned(compliance_apikey_set_t *set,
    char *text, size_t len, char *err, size_t errlen);
static void compliance_apikey_free_recs(compliance_apikey_rec_t *recs,
    size_t n);
static int compliance_apikey_cmp_rec(const void *a, const void *b);
static int compliance_apikey_cmp_key(const void *key, const void *elt);
static int compliance_apikey_digest(const u_char *salt,
    const u_char *secret, u_char *out);


static const compliance_apikey_field_t  compliance_apikey_fields[] = {
    { "principal", 9, COMPLIANCE_APIKEY_MAX_VALUE },
    { "org", 3, COMPLIANCE_APIKEY_MAX_VALUE },
    { "scopes", 6, COMPLIANCE_APIKEY_MAX_SCOPES },
    { "allow", 5, COMPLIANCE_CIDR_MAX_TEXT },
    { "expires", 7, 10 }
};

static const char  compliance_apikey_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static const char  compliance_apikey_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Hashed in place of a record's salt when the id is unknown. */
static const u_char  compliance_apikey_dummy[COMPLIANCE_APIKEY_HASH_LEN];


static int
compliance_apikey_b64val(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


/*
 * Strict unpadded base64url of exactly outlen bytes: the text length must
 * be the canonical one and the unused trailing bits zero, so every value
 * has a single accepted spelling.
 */
static int
compliance_apikey_b64_decode(const u_char *p, size_t len, u_char *out,
    size_t outlen)
{
    int       v;
    size_t    i, o;
    unsigned  acc, bits;

    if (len != (outlen * 8 + 5) / 6) {
        return -1;
    }

    acc = 0;
    bits = 0;
    o = 0;

    for (i = 0; i < len; i++) {
        v = compliance_apikey_b64val(p[i]);
        if (v < 0) {
            goto failed;
        }

        acc = (acc << 6) | (unsigned) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            out[o++] = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (acc != 0) {
        goto failed;
    }

    return 0;

failed:

    OPENSSL_cleanse(out, outlen);
    return -1;
}


/* Writes (n * 8 + 5) / 6 characters and a NUL. */
static void
compliance_apikey_b64_encode(const u_char *in, size_t n, char *out)
{
    size_t    i;
    unsigned  acc, bits;

    acc = 0;
    bits = 0;

    for (i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;

        while (bits >= 6) {
            bits -= 6;
            *out++ = compliance_apikey_b64[(acc >> bits) & 0x3f];
        }

        acc &= (1u << bits) - 1;
    }

    if (bits) {
        *out++ = compliance_apikey_b64[(acc << (6 - bits)) & 0x3f];
    }

    *out = '\0';
}


static int
compliance_apikey_is_id(const u_char *p, size_t len)
{
    size_t  i;

    if (len != COMPLIANCE_APIKEY_ID_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '2' && p[i] <= '7')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Printable ASCII without quotes or backslashes: values reach audit
 * records, variables and headers, where these would need escaping.
 */
static int
compliance_apikey_is_value_char(u_char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '\\';
}


/* Only names that look like field names are echoed in messages. */
static int
compliance_apikey_is_name(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > 32) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_')) {
            return 0;
        }
    }

    return 1;
}


int
compliance_apikey_parse_date(const u_char *p, size_t len, long long *t)
{
    int        y, m, d, i, leap;
    long long  days;

    static const int  mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };
    static const int  before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
                                   273, 304, 334 };

    if (len != 10 || p[4] != '-' || p[7] != '-') {
        return -1;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            return -1;
        }
    }

    y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
        + (p[3] - '0');
    m = (p[5] - '0') * 10 + (p[6] - '0');
    d = (p[8] - '0') * 10 + (p[9] - '0');

    if (y < 1970 || m < 1 || m > 12 || d < 1) {
        return -1;
    }

    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    if (d > mdays[m - 1] + (m == 2 && leap)) {
        return -1;
    }

    /* Leap days in the years before y, counted from year 1. */
    days = 365LL * (y - 1970)
           + ((y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400)
           - (1969 / 4 - 1969 / 100 + 1969 / 400);

    days += before[m - 1] + (m > 2 && leap) + d - 1;

    *t = days * 86400;

    return 0;
}


/*
 * Parses one "name=value" field.  Messages name the field but never
 * echo a value (a pasted key or hash must not land in a log).
 */
static int
compliance_apikey_field(const u_char *p, size_t len,
    compliance_apikey_value_t *v, char *err, size_t errlen)
{
    int                               i;
    char                              why[COMPLIANCE_APIKEY_ERRLEN];
    size_t                            nlen, j;
    const u_char                     *eq, *val, *s;
    const compliance_apikey_field_t  *f;

    v->allow.rules = NULL;
    v->allow.n = 0;
    v->expires = 0;

    eq = memchr(p, '=', len);
    if (eq == NULL) {
        snprintf(err, errlen, "field without \"=\" (expected name=value)");
        return -1;
    }

    nlen = (size_t) (eq - p);

    for (i = 0; i < COMPLIANCE_APIKEY_F_N; i++) {
        f = &compliance_apikey_fields[i];

        if (nlen == f->len && memcmp(p, f->name, nlen) == 0) {
            break;
        }
    }

    if (i == COMPLIANCE_APIKEY_F_N) {
        if (compliance_apikey_is_name(p, nlen)) {
            snprintf(err, errlen, "unknown field \"%.*s\"", (int) nlen, p);

        } else {
            snprintf(err, errlen, "unknown field");
        }

        return -1;
    }

    f = &compliance_apikey_fields[i];
    val = eq + 1;
    v->idx = i;
    v->value = (u_char *) val;
    v->len = len - nlen - 1;

    if (v->len == 0) {
        snprintf(err, errlen, "%s: empty value", f->name);
        return -1;
    }

    if (v->len > f->max) {
        snprintf(err, errlen, "%s: value longer than %zu characters",
                 f->name, f->max);
        return -1;
    }

    for (j = 0; j < v->len; j++) {
        if (!compliance_apikey_is_value_char(val[j])) {
            snprintf(err, errlen, "%s: forbidden character (allowed: "
                     "printable ASCII without spaces, quotes, backslashes)",
                     f->name);
            return -1;
        }
    }

    switch (i) {

    case COMPLIANCE_APIKEY_F_SCOPES:
        s = val;

        for (j = 0; j <= v->len; j++) {
            if (j == v->len || val[j] == ',') {
                if (&val[j] == s) {
                    snprintf(err, errlen, "scopes: empty scope in list");
                    return -1;
                }

                s = &val[j + 1];
            }
        }

        break;

    case COMPLIANCE_APIKEY_F_ALLOW:
        if (compliance_cidr_list_parse(val, v->len, &v->allow, why,
                                       sizeof(why))
            != 0)
        {
            snprintf(err, errlen, "allow: %s", why);
            return -1;
        }

        break;

    case COMPLIANCE_APIKEY_F_EXPIRES:
        if (compliance_apikey_parse_date(val, v->len, &v->expires) != 0) {
            snprintf(err, errlen, "expires: not a valid date YYYY-MM-DD "
                     "(1970-01-01 or later)");
            return -1;
        }

        break;

    default:
        break;
    }

    return 0;
}


int
compliance_apikey_check_field(const u_char *p, size_t len, char *err,
    size_t errlen)
{
    compliance_apikey_value_t  v;

    if (compliance_apikey_field(p, len, &v, err, errlen) != 0) {
        return -1;
    }

    compliance_cidr_list_free(&v.allow);

    return 0;
}


/*
 * Parses one record line (no newline) in place: the separator after a
 * value is overwritten by NUL so the record's strings point into p.
 * Returns 1 for a record, 0 for a blank or comment line, -1 on error.
 */
static int
compliance_apikey_parse_line(u_char *p, size_t len,
    compliance_apikey_rec_t *rec, char *err, size_t errlen)
{
    size_t                     pos, start, j, tlen;
    unsigned                   seen;
    u_char                    *tok;
    compliance_apikey_value_t  v;

    /* Tolerate CRLF files written on another system. */
    if (len > 0 && p[len - 1] == '\r') {
        len--;
    }

    pos = 0;

    while (pos < len && (p[pos] == ' ' || p[pos] == '\t')) {
        pos++;
    }

    if (pos == len || p[pos] == '#') {
        return 0;
    }

    memset(rec, 0, sizeof(compliance_apikey_rec_t));
    rec->org = "";
    rec->scopes = "";
    rec->allow_text = "";

    seen = 0;

    for (j = 0; pos < len; j++) {
        start = pos;

        while (pos < len && p[pos] != ' ' && p[pos] != '\t') {
            pos++;
        }

        tok = p + start;
        tlen = pos - start;

        /* The separator (or the end of line) becomes the terminator. */
        p[pos] = '\0';

        while (++pos < len && (p[pos] == ' ' || p[pos] == '\t')) {
            /* void */
        }

        if (j == 0) {
            if (!compliance_apikey_is_id(tok, tlen)) {
                snprintf(err, errlen, "invalid key id (expected %d "
                         "characters of [a-z2-7])", COMPLIANCE_APIKEY_ID_LEN);
                goto failed;
            }

            memcpy(rec->id, tok, tlen);
            continue;
        }

        if (j == 1) {
            if (tlen != COMPLIANCE_APIKEY_HASH_FIELD
                || memcmp(tok, "sha256:", 7) != 0
                || tok[7 + COMPLIANCE_APIKEY_SALT_TEXT] != ':'
                || compliance_apikey_b64_decode(tok + 7,
                                                COMPLIANCE_APIKEY_SALT_TEXT,
                                                rec->salt,
                                                COMPLIANCE_APIKEY_SALT_LEN)
                   != 0
                || compliance_apikey_b64_decode(
                       tok + 8 + COMPLIANCE_APIKEY_SALT_TEXT,
                       COMPLIANCE_APIKEY_HASH_TEXT, rec->hash,
                       COMPLIANCE_APIKEY_HASH_LEN)
                   != 0)
            {
                snprintf(err, errlen, "invalid hash field (expected "
                         "sha256:<22-char base64url salt>:<43-char "
                         "base64url hash>)");
                goto failed;
            }

            continue;
        }

        if (tok[0] == '#') {
            break;
        }

        if (compliance_apikey_field(tok, tlen, &v, err, errlen) != 0) {
            goto failed;
        }

        if (seen & (1u << v.idx)) {
            compliance_cidr_list_free(&v.allow);
            snprintf(err, errlen, "duplicate field \"%s\"",
                     compliance_apikey_fields[v.idx].name);
            goto failed;
        }

        seen |= 1u << v.idx;

        switch (v.idx) {

        case COMPLIANCE_APIKEY_F_PRINCIPAL:
            rec->principal = (const char *) v.value;
            rec->principal_len = v.len;
            break;

        case COMPLIANCE_APIKEY_F_ORG:
            rec->org = (const char *) v.value;
            rec->org_len = v.len;
            break;

        case COMPLIANCE_APIKEY_F_SCOPES:
            /* Stored the way JWT "scope" claims are: space-separated. */
            for (start = 0; start < v.len; start++) {
                if (v.value[start] == ',') {
                    v.value[start] = ' ';
                }
            }

            rec->scopes = (const char *) v.value;
            rec->scopes_len = v.len;
            break;

        case COMPLIANCE_APIKEY_F_ALLOW:
            rec->allow_text = (const char *) v.value;
            rec->allow = v.allow;
            break;

        default: /* COMPLIANCE_APIKEY_F_EXPIRES */
            rec->expires = v.expires;
            break;
        }
    }

    if (j < 2) {
        snprintf(err, errlen, "missing hash field sha256:<salt>:<hash>");
        goto failed;
    }

    if (!(seen & (1u << COMPLIANCE_APIKEY_F_PRINCIPAL))) {
        snprintf(err, errlen, "missing principal=");
        goto failed;
    }

    return 1;

failed:

    compliance_cidr_list_free(&rec->allow);
    return -1;
}


static void
compliance_apikey_free_recs(compliance_apikey_rec_t *recs, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        compliance_cidr_list_free(&recs[i].allow);
    }

    free(recs);
}


static int
compliance_apikey_cmp_rec(const void *a, const void *b)
{
    int                             rc;
    const compliance_apikey_rec_t  *ra, *rb;

    ra = a;
    rb = b;

    rc = memcmp(ra->id, rb->id, COMPLIANCE_APIKEY_ID_LEN);
    if (rc != 0) {
        return rc;
    }

    /* Ties ordered by line so a duplicate is reported where it repeats. */
    return (ra->line > rb->line) - (ra->line < rb->line);
}


static int
compliance_apikey_cmp_key(const void *key, const void *elt)
{
    const compliance_apikey_rec_t  *r;

    r = elt;

    return memcmp(key, r->id, COMPLIANCE_APIKEY_ID_LEN);
}


/* Takes ownership of text (len + 1 bytes, NUL-terminated). */
static int
compliance_apikey_parse_owned(compliance_apikey_set_t *set, char *text,
    size_t len, char *err, size_t errlen)
{
    int                       rc;
    char                      why[COMPLIANCE_APIKEY_ERRLEN];
    size_t                    line, n, cap, i, dup, first;
    u_char                   *p, *end, *eol;
    compliance_apikey_rec_t  *recs, *nrecs;

    set->recs = NULL;
    set->n = 0;
    set->text = NULL;

    recs = NULL;
    n = 0;
    cap = 0;
    line = 0;

    p = (u_char *) text;
    end = p + len;

    while (p < end) {
        line++;

        eol = memchr(p, '\n', (size_t) (end - p));
        if (eol == NULL) {
            eol = end;
        }

        if ((size_t) (eol - p) > COMPLIANCE_APIKEY_MAX_LINE) {
            snprintf(why, sizeof(why), "line longer than %d bytes",
                     COMPLIANCE_APIKEY_MAX_LINE);
            goto failed;
        }

        if (n == cap) {
            cap = cap ? cap * 2 : 64;

            nrecs = realloc(recs, cap * sizeof(compliance_apikey_rec_t));
            if (nrecs == NULL) {
                snprintf(why, sizeof(why), "out of memory");
                goto failed;
            }

            recs = nrecs;
        }

        rc = compliance_apikey_parse_line(p, (size_t) (eol - p), &recs[n],
                                          why, sizeof(why));
        if (rc == -1) {
            goto failed;
        }

        if (rc == 1) {
            recs[n++].line = line;
        }

        p = eol + 1;
    }

    if (n > 1) {
        qsort(recs, n, sizeof(compliance_apikey_rec_t),
              compliance_apikey_cmp_rec);

        dup = 0;
        first = 0;

        for (i = 1; i < n; i++) {
            if (memcmp(recs[i].id, recs[i - 1].id, COMPLIANCE_APIKEY_ID_LEN)
                == 0
                && (dup == 0 || recs[i].line < recs[dup].line))
            {
                dup = i;
                first = i - 1;

                while (first > 0
                       && memcmp(recs[first - 1].id, recs[i].id,
                                 COMPLIANCE_APIKEY_ID_LEN) == 0)
                {
                    first--;
                }
            }
        }

        if (dup) {
            line = recs[dup].line;
            snprintf(why, sizeof(why), "duplicate key id %s (first on "
                     "line %zu)", recs[dup].id, recs[first].line);
            goto failed;
        }
    }

    set->recs = recs;
    set->n = n;
    set->text = text;

    /* without memory or randomness the set works, uncached */
    set->cache = calloc(COMPLIANCE_APIKEY_CACHE,
                        sizeof(compliance_apikey_hit_t));

    if (set->cache
        && RAND_bytes((u_char *) set->seed, sizeof(set->seed)) != 1)
    {
        free(set->cache);
        set->cache = NULL;
    }

    return 0;

failed:

    snprintf(err, errlen, "line %zu: %s", line, why);
    compliance_apikey_free_recs(recs, n);
    free(text);

    return -1;
}


int
compliance_apikey_set_parse(compliance_apikey_set_t *set, const u_char *buf,
    size_t len, char *err, size_t errlen)
{
    char  *text;

    set->recs = NULL;
    set->n = 0;
    set->text = NULL;
    set->cache = NULL;

    if (len > COMPLIANCE_APIKEY_MAX_FILE) {
        snprintf(err, errlen, "key file larger than %d bytes",
                 COMPLIANCE_APIKEY_MAX_FILE);
        return -1;
    }

    text = malloc(len + 1);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (len) {
        memcpy(text, buf, len);
    }

    text[len] = '\0';

    return compliance_apikey_parse_owned(set, text, len, err, errlen);
}


int
compliance_apikey_set_load(compliance_apikey_set_t *set, const char *path,
    unsigned *mode, char *err, size_t errlen)
{
    char               why[COMPLIANCE_APIKEY_ERRLEN];
    compliance_file_t  f;

    set->recs = NULL;
    set->n = 0;
    set->text = NULL;

    if (compliance_file_read(path, "key file", COMPLIANCE_APIKEY_MAX_FILE,
                             &f, err, errlen)
        != COMPLIANCE_FILE_OK)
    {
        return -1;
    }

    if (mode) {
        *mode = f.mode;
    }

    /* the set owns the text from here, also when parsing fails */
    if (compliance_apikey_parse_owned(set, (char *) f.data, f.len, why,
                                      sizeof(why))
        != 0)
    {
        snprintf(err, errlen, "key file \"%s\": %s", path, why);
        return -1;
    }

    return 0;
}


void
compliance_apikey_set_free(compliance_apikey_set_t *set)
{
    compliance_apikey_free_recs(set->recs, set->n);
    free(set->text);

    /* the cache holds whole keys */
    if (set->cache) {
        OPENSSL_cleanse(set->cache,
                        COMPLIANCE_APIKEY_CACHE
                        * sizeof(compliance_apikey_hit_t));
        free(set->cache);
        set->cache = NULL;
    }

    set->recs = NULL;
    set->n = 0;
    set->text = NULL;
}


const compliance_apikey_rec_t *
compliance_apikey_set_find(const compliance_apikey_set_t *set,
    const u_char *id, size_t len)
{
    if (set == NULL || set->n == 0 || len != COMPLIANCE_APIKEY_ID_LEN) {
        return NULL;
    }

    return bsearch(id, set->recs, set->n, sizeof(compliance_apikey_rec_t),
                   compliance_apikey_cmp_key);
}


int
compliance_apikey_parse_text(const u_char *p, size_t len,
    compliance_apikey_text_t *out)
{
    memset(out, 0, sizeof(compliance_apikey_text_t));

    /* the shape the redactor and the query scanner know, as issued */
    if (len != COMPLIANCE_APIKEY_TEXT_LEN
        || compliance_token_api_key(p, len, 0, COMPLIANCE_TOKEN_EXACT) != len)
    {
        return COMPLIANCE_APIKEY_MALFORMED;
    }

    if (compliance_apikey_b64_decode(p + 4 + COMPLIANCE_APIKEY_ID_LEN,
                                     COMPLIANCE_APIKEY_SECRET_TEXT,
                                     out->secret,
                                     COMPLIANCE_APIKEY_SECRET_LEN)
        != 0)
    {
        return COMPLIANCE_APIKEY_MALFORMED;
    }

    memcpy(out->id, p + 3, COMPLIANCE_APIKEY_ID_LEN);

    return COMPLIANCE_APIKEY_OK;
}


static int
compliance_apikey_digest(const u_char *salt, const u_char *secret,
    u_char *out)
{
    int           rc;
    u_char        buf[COMPLIANCE_APIKEY_SALT_LEN
                      + COMPLIANCE_APIKEY_SECRET_LEN];
    unsigned int  olen;

    memcpy(buf, salt, COMPLIANCE_APIKEY_SALT_LEN);
    memcpy(buf + COMPLIANCE_APIKEY_SALT_LEN, secret,
           COMPLIANCE_APIKEY_SECRET_LEN);

    rc = EVP_Digest(buf, sizeof(buf), out, &olen, EVP_sha256(), NULL);

    OPENSSL_cleanse(buf, sizeof(buf));

    return (rc == 1 && olen == COMPLIANCE_APIKEY_HASH_LEN) ? 0 : -1;
}


/*
 * The slot of a key: a keyed mix of its last 16 characters (secret
 * text), seeded per set so that nobody can aim keys at one slot.
 */
static compliance_apikey_hit_t *
compliance_apikey_cache_slot(const compliance_apikey_set_t *set,
    const u_char *key)
{
    uint64_t  h;

    h = compliance_token_slot(key, COMPLIANCE_APIKEY_TEXT_LEN, set->seed);

    return &set->cache[h % COMPLIANCE_APIKEY_CACHE];
}


int
compliance_apikey_verify(const compliance_apikey_set_t *set,
    const u_char *key, size_t len, const struct sockaddr *sa, long long now,
    const compliance_apikey_rec_t **rec)
{
    int                             rc, same;
    u_char                          digest[COMPLIANCE_APIKEY_HASH_LEN];
    const u_char                   *salt, *hash;
    compliance_apikey_hit_t        *hit;
    compliance_apikey_text_t        t;
    const compliance_apikey_rec_t  *r;

    if (rec) {
        *rec = NULL;
    }

    /* a key that verified before: its whole text, compared in constant time */
    hit = NULL;

    if (set && set->cache && len == COMPLIANCE_APIKEY_TEXT_LEN) {
        hit = compliance_apikey_cache_slot(set, key);

        if (hit->rec && CRYPTO_memcmp(hit->text, key, len) == 0) {
            r = hit->rec;
            goto verified;
        }
    }

    if (compliance_apikey_parse_text(key, len, &t) != COMPLIANCE_APIKEY_OK) {
        return COMPLIANCE_APIKEY_MALFORMED;
    }

    r = compliance_apikey_set_find(set, (u_char *) t.id,
                                   COMPLIANCE_APIKEY_ID_LEN);

    /* An unknown id costs the same hash and compare as a known one. */
    salt = r ? r->salt : compliance_apikey_dummy;
    hash = r ? r->hash : compliance_apikey_dummy;

    rc = compliance_apikey_digest(salt, t.secret, digest);

    OPENSSL_cleanse(&t, sizeof(t));

    same = (rc == 0 && CRYPTO_memcmp(digest, hash, sizeof(digest)) == 0);

    OPENSSL_cleanse(digest, sizeof(digest));

    if (r == NULL || !same) {
        return COMPLIANCE_APIKEY_UNKNOWN;
    }

    if (hit) {
        hit->rec = r;
        memcpy(hit->text, key, COMPLIANCE_APIKEY_TEXT_LEN);
    }

verified:

    /* expiry and the address allow-list are checked every time */
    if (r->expires != 0 && now >= r->expires) {
        return COMPLIANCE_APIKEY_EXPIRED;
    }

    if (r->allow.n != 0 && !compliance_cidr_list_match(&r->allow, sa)) {
        return COMPLIANCE_APIKEY_IP_NOT_ALLOWED;
    }

    if (rec) {
        *rec = r;
    }

    return COMPLIANCE_APIKEY_OK;
}


const char *
compliance_apikey_reason(int rc)
{
    switch (rc) {

    case COMPLIANCE_APIKEY_OK:
        return NULL;

    /*
     * SPEC 6 has no malformed_api_key reason, and telling "malformed"
     * from "unknown" apart helps nobody but a prober.
     */
    case COMPLIANCE_APIKEY_MALFORMED:
    case COMPLIANCE_APIKEY_UNKNOWN:
        return "unknown_api_key";

    case COMPLIANCE_APIKEY_EXPIRED:
        return "api_key_expired";

    case COMPLIANCE_APIKEY_IP_NOT_ALLOWED:
        return "ip_not_allowed";

    default:
        return "unknown_api_key";
    }
}


int
compliance_apikey_generate(char text[COMPLIANCE_APIKEY_TEXT_LEN + 1],
    char head[COMPLIANCE_APIKEY_HEAD_LEN + 1])
{
    int     rc;
    char   *h;
    size_t  i;
    u_char  id[COMPLIANCE_APIKEY_ID_LEN];
    u_char  secret[COMPLIANCE_APIKEY_SECRET_LEN];
    u_char  salt[COMPLIANCE_APIKEY_SALT_LEN];
    u_char  hash[COMPLIANCE_APIKEY_HASH_LEN];

    rc = -1;

    if (RAND_bytes(id, sizeof(id)) != 1
        || RAND_bytes(secret, sizeof(secret)) != 1
        || RAND_bytes(salt, sizeof(salt)) != 1
        || compliance_apikey_digest(salt, secret, hash) != 0)
    {
        goto done;
    }

    /* 256 is a multiple of 32: masking keeps each character uniform. */
    for (i = 0; i < COMPLIANCE_APIKEY_ID_LEN; i++) {
        id[i] = (u_char) compliance_apikey_b32[id[i] & 0x1f];
    }

    memcpy(text, COMPLIANCE_TOKEN_KEY_PREFIX, 3);
    memcpy(text + 3, id, COMPLIANCE_APIKEY_ID_LEN);
    text[3 + COMPLIANCE_APIKEY_ID_LEN] = '_';
    compliance_apikey_b64_encode(secret, sizeof(secret),
                                 text + 4 + COMPLIANCE_APIKEY_ID_LEN);

    h = head;
    memcpy(h, id, COMPLIANCE_APIKEY_ID_LEN);
    h += COMPLIANCE_APIKEY_ID_LEN;
    memcpy(h, " sha256:", 8);
    h += 8;
    compliance_apikey_b64_encode(salt, sizeof(salt), h);
    h += COMPLIANCE_APIKEY_SALT_TEXT;
    *h++ = ':';
    compliance_apikey_b64_encode(hash, sizeof(hash), h);

    rc = 0;

done:

    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(hash, sizeof(hash));

    return rc;
}
