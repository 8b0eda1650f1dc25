/*
 * Redaction: hand-written scanners for the built-in detectors, PCRE2 JIT
 * for operator patterns.
 *
 * The built-in detectors are fixed, simple languages (digit runs with a
 * checksum, fixed prefixes, character classes), so one table-driven pass
 * that only stops on a few trigger bytes finds them far faster than a
 * regex engine could, checks Luhn in the same pass and reads through
 * percent-encoding without a decoded copy.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH  8
#include <pcre2.h>

#include "compliance_redact.h"
#include "compliance_token.h"


#define COMPLIANCE_REDACT_NONE       ((size_t) -1)

/* PAN: 13 to 19 digits */
#define COMPLIANCE_REDACT_PAN_MIN    13
#define COMPLIANCE_REDACT_PAN_MAX    19

/* an operator regex may not backtrack without bound on client input */
#define COMPLIANCE_REDACT_MATCH_LIMIT  1000000
#define COMPLIANCE_REDACT_DEPTH_LIMIT  10000

/* compliance_redact_t.trigger: what a byte may start */
#define COMPLIANCE_REDACT_T_DIGIT    1
#define COMPLIANCE_REDACT_T_JWT      2
#define COMPLIANCE_REDACT_T_KEY      3
#define COMPLIANCE_REDACT_T_BEARER   4
#define COMPLIANCE_REDACT_T_EMAIL    5
#define COMPLIANCE_REDACT_T_PARAM    6
#define COMPLIANCE_REDACT_T_PCT      7
#define COMPLIANCE_REDACT_T_DOT      8

/* the detectors that look at query parameter names */
#define COMPLIANCE_REDACT_PARAMS                                             \
    (COMPLIANCE_REDACT_SECRET_PARAMS | COMPLIANCE_REDACT_SSN)

/* compliance_redact_cclass bits */
#define COMPLIANCE_REDACT_C_DIGIT    0x01
#define COMPLIANCE_REDACT_C_ALPHA    0x02
#define COMPLIANCE_REDACT_C_B64URL   0x04   /* A-Z a-z 0-9 - _ */
#define COMPLIANCE_REDACT_C_B32      0x08   /* a-z 2-7 */
#define COMPLIANCE_REDACT_C_TOKEN68  0x10   /* b64url . ~ + / */
#define COMPLIANCE_REDACT_C_LOCAL    0x20   /* e-mail local part */
#define COMPLIANCE_REDACT_C_DOMAIN   0x40   /* A-Z a-z 0-9 - . */
#define COMPLIANCE_REDACT_C_HEX      0x80


typedef struct {
    size_t         start;
    size_t         end;
    const u_char  *tag;
    size_t         tag_len;
} compliance_redact_match_t;


/*
 * The next match of one source (the built-in scanner or one pattern)
 * at or after "from"; start == NONE when there is none.
 */
typedef struct {
    size_t         from;
    size_t         start;
    size_t         end;
    const u_char  *tag;
    size_t         tag_len;
} compliance_redact_cache_t;


typedef struct {
    pcre2_code    *code;
    size_t         tag_len;
    u_char         tag[COMPLIANCE_REDACT_TAG_MAX];
} compliance_redact_pattern_t;


typedef struct {
    compliance_redact_cache_t    builtin;
    compliance_redact_cache_t    pattern[COMPLIANCE_REDACT_MAX_PATTERNS];
} compliance_redact_scratch_t;


struct compliance_redact_s {
    unsigned                      mask;
    unsigned                      text;     /* COMPLIANCE_REDACT_TEXT */
    u_char                        trigger[256];
    size_t                        npatterns;
    compliance_redact_pattern_t  *patterns;
    pcre2_match_data             *match_data;
    pcre2_match_context          *match_ctx;
    /* mutable per-call state, see the header about threads */
    compliance_redact_scratch_t  *scratch;
};


typedef struct {
    const char    *name;
    size_t         name_len;
    unsigned       bit;
    const char    *tag;
    size_t         tag_len;
} compliance_redact_detector_t;


static int compliance_redact_luhn(const u_char *d, size_t n);
static inline int compliance_redact_sep(int c, size_t n);
static int compliance_redact_card_groups(const size_t *glen, size_t ng);
static inline int compliance_redact_hex_letter(int c);
static int compliance_redact_digits(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t i, compliance_redact_match_t *m,
    size_t *skip);
static int compliance_redact_ssn(const u_char *in, size_t len, size_t i,
    size_t *end);
static size_t compliance_redact_pan(const u_char *in, size_t len, size_t g,
    size_t *next, size_t *gend);
static int compliance_redact_jwt(const u_char *in, size_t len, size_t i,
    size_t *end);
static int compliance_redact_api_key(const u_char *in, size_t len, size_t i,
    size_t *end);
static int compliance_redact_bearer(const u_char *in, size_t len, size_t i,
    size_t *start, size_t *end);
static int compliance_redact_email(const u_char *in, size_t len,
    size_t floor, size_t i, size_t n, size_t *start, size_t *end);
static int compliance_redact_param(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t i, unsigned *bit, size_t *start,
    size_t *end);
static int compliance_redact_dot(const u_char *in, size_t len, size_t pos,
    size_t i, size_t *start, size_t *end);
static void compliance_redact_set(compliance_redact_match_t *m,
    unsigned bit, size_t start, size_t end);
static int compliance_redact_builtin(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t pos, compliance_redact_match_t *m);
static void compliance_redact_refresh_builtin(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t from);
static void compliance_redact_refresh_pattern(const compliance_redact_t *r,
    size_t k, const u_char *in, size_t len, size_t from);
static void compliance_redact_reset(const compliance_redact_t *r,
    const u_char *in, size_t len);
static int compliance_redact_next(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t pos, compliance_redact_match_t *m);



#define compliance_redact_str(s)  s, sizeof(s) - 1

static const compliance_redact_detector_t  compliance_redact_detectors[] = {
    { compliance_redact_str("pan"), COMPLIANCE_REDACT_PAN,
      compliance_redact_str("[REDACTED:pan]") },
    { compliance_redact_str("ssn"), COMPLIANCE_REDACT_SSN,
      compliance_redact_str("[REDACTED:ssn]") },
    { compliance_redact_str("email"), COMPLIANCE_REDACT_EMAIL,
      compliance_redact_str("[REDACTED:email]") },
    { compliance_redact_str("jwt"), COMPLIANCE_REDACT_JWT,
      compliance_redact_str("[REDACTED:jwt]") },
    { compliance_redact_str("api_key"), COMPLIANCE_REDACT_API_KEY,
      compliance_redact_str("[REDACTED:api_key]") },
    { compliance_redact_str("bearer"), COMPLIANCE_REDACT_BEARER,
      compliance_redact_str("[REDACTED:bearer]") },
    { compliance_redact_str("secret_params"),
      COMPLIANCE_REDACT_SECRET_PARAMS,
      compliance_redact_str("[REDACTED:secret_params]") },
    { NULL, 0, 0, NULL, 0 }
};


#define D  COMPLIANCE_REDACT_C_DIGIT
#define A  COMPLIANCE_REDACT_C_ALPHA
#define U  COMPLIANCE_REDACT_C_B64URL
#define T  COMPLIANCE_REDACT_C_B32
#define K  COMPLIANCE_REDACT_C_TOKEN68
#define L  COMPLIANCE_REDACT_C_LOCAL
#define N  COMPLIANCE_REDACT_C_DOMAIN
#define H  COMPLIANCE_REDACT_C_HEX

static const u_char  compliance_redact_cclass[256] = {
    /* 0x00 - 0x1f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /*    !  "  #  $  %  &  '  (  )  *  +      ,  -          .      / */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, K|L, 0, U|K|L|N, K|L|N, K,
    /* 0 1 */
    D|U|K|L|N|H, D|U|K|L|N|H,
    /* 2 - 7: also base32 */
    D|U|K|L|N|H|T, D|U|K|L|N|H|T, D|U|K|L|N|H|T, D|U|K|L|N|H|T,
    D|U|K|L|N|H|T, D|U|K|L|N|H|T,
    /* 8 9 */
    D|U|K|L|N|H, D|U|K|L|N|H,
    /* : ; < = > ? */
    0, 0, 0, 0, 0, 0,
    /* @ A - F */
    0, A|U|K|L|N|H, A|U|K|L|N|H, A|U|K|L|N|H, A|U|K|L|N|H, A|U|K|L|N|H,
    A|U|K|L|N|H,
    /* G - Z */
    A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N,
    A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N,
    A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N, A|U|K|L|N,
    A|U|K|L|N, A|U|K|L|N,
    /* [ \ ] ^ _ ` */
    0, 0, 0, 0, U|K|L, 0,
    /* a - f */
    A|U|K|L|N|H|T, A|U|K|L|N|H|T, A|U|K|L|N|H|T, A|U|K|L|N|H|T,
    A|U|K|L|N|H|T, A|U|K|L|N|H|T,
    /* g - z */
    A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T,
    A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T,
    A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T,
    A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T, A|U|K|L|N|T,
    /* { | } ~ DEL */
    0, 0, 0, K, 0,
    /* 0x80 - 0xff: nothing */
};

#undef D
#undef A
#undef U
#undef T
#undef K
#undef L
#undef N
#undef H


#define compliance_redact_is(c, cl)                                          \
    ((c) >= 0 && (compliance_redact_cclass[(c)] & (cl)))


unsigned
compliance_redact_detector_parse(const u_char *name, size_t len)
{
    const compliance_redact_detector_t  *d;

    for (d = compliance_redact_detectors; d->name; d++) {
        if (d->name_len == len && memcmp(d->name, name, len) == 0) {
            return d->bit;
        }
    }

    return 0;
}


const char *
compliance_redact_detector_name(unsigned bit)
{
    const compliance_redact_detector_t  *d;

    for (d = compliance_redact_detectors; d->name; d++) {
        if (d->bit == bit) {
            return d->name;
        }
    }

    return NULL;
}


compliance_redact_t *
compliance_redact_create(unsigned detector_mask, char *err, size_t errlen)
{
    int                   c;
    unsigned              m;
    compliance_redact_t  *r;

    if (detector_mask
        & ~(unsigned) (COMPLIANCE_REDACT_ALL | COMPLIANCE_REDACT_TEXT))
    {
        snprintf(err, errlen, "unknown redaction detector bits 0x%x",
                 detector_mask
                 & ~(unsigned) (COMPLIANCE_REDACT_ALL
                                | COMPLIANCE_REDACT_TEXT));
        return NULL;
    }

    r = calloc(1, sizeof(compliance_redact_t));
    if (r == NULL) {
        goto nomem;
    }

    r->text = detector_mask & COMPLIANCE_REDACT_TEXT;
    r->mask = detector_mask & COMPLIANCE_REDACT_ALL;

    r->scratch = calloc(1, sizeof(compliance_redact_scratch_t));
    if (r->scratch == NULL) {
        goto nomem;
    }

    /* only the whole-match pair is ever read */
    r->match_data = pcre2_match_data_create(1, NULL);
    if (r->match_data == NULL) {
        goto nomem;
    }

    r->match_ctx = pcre2_match_context_create(NULL);
    if (r->match_ctx == NULL) {
        goto nomem;
    }

    pcre2_set_match_limit(r->match_ctx, COMPLIANCE_REDACT_MATCH_LIMIT);
    pcre2_set_depth_limit(r->match_ctx, COMPLIANCE_REDACT_DEPTH_LIMIT);

    m = r->mask;

    /* free text has no query parameters (see COMPLIANCE_REDACT_TEXT) */
    if (r->text) {
        m &= ~(unsigned) COMPLIANCE_REDACT_SECRET_PARAMS;
    }

    for (c = '0'; c <= '9'; c++) {
        if (m & (COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN)) {
            r->trigger[c] = COMPLIANCE_REDACT_T_DIGIT;
        }
    }

    /* "eyJ" starts most JWTs; a '.' ends the header of every one */
    if (m & COMPLIANCE_REDACT_JWT) {
        r->trigger['e'] = COMPLIANCE_REDACT_T_JWT;
        r->trigger['.'] = COMPLIANCE_REDACT_T_DOT;
    }

    if (m & COMPLIANCE_REDACT_API_KEY) {
        r->trigger['c'] = COMPLIANCE_REDACT_T_KEY;
        r->trigger['C'] = COMPLIANCE_REDACT_T_KEY;
    }

    if (m & COMPLIANCE_REDACT_BEARER) {
        r->trigger['b'] = COMPLIANCE_REDACT_T_BEARER;
        r->trigger['B'] = COMPLIANCE_REDACT_T_BEARER;
    }

    if (m & COMPLIANCE_REDACT_EMAIL) {
        r->trigger['@'] = COMPLIANCE_REDACT_T_EMAIL;
    }

    if ((m & COMPLIANCE_REDACT_PARAMS) && !r->text) {
        r->trigger['?'] = COMPLIANCE_REDACT_T_PARAM;
        r->trigger['&'] = COMPLIANCE_REDACT_T_PARAM;
        r->trigger[';'] = COMPLIANCE_REDACT_T_PARAM;
    }

    /* %XX may encode any trigger byte except the parameter separators */
    if (m & ~(unsigned) COMPLIANCE_REDACT_SECRET_PARAMS) {
        r->trigger['%'] = COMPLIANCE_REDACT_T_PCT;
    }

    return r;

nomem:

    compliance_redact_free(r);
    snprintf(err, errlen, "out of memory");
    return NULL;
}


int
compliance_redact_add_pattern(compliance_redact_t *r, const char *name,
    const u_char *re, size_t len, char *err, size_t errlen)
{
    int                           rc;
    size_t                        nlen, i;
    uint32_t                      minlen;
    PCRE2_SIZE                    off;
    pcre2_code                   *code;
    PCRE2_UCHAR                   msg[256];
    compliance_redact_pattern_t  *p;

    nlen = strlen(name);

    if (nlen == 0 || nlen > COMPLIANCE_REDACT_NAME_MAX) {
        snprintf(err, errlen, "pattern name must be 1 to %d characters",
                 COMPLIANCE_REDACT_NAME_MAX);
        return -1;
    }

    for (i = 0; i < nlen; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
        {
            snprintf(err, errlen, "invalid pattern name \"%s\": only a-z, "
                     "0-9 and _ are allowed", name);
            return -1;
        }
    }

    /* a tag must name one thing, or the audit trail becomes ambiguous */
    if (compliance_redact_detector_parse((const u_char *) name, nlen)) {
        snprintf(err, errlen, "pattern name \"%s\" is a built-in detector",
                 name);
        return -1;
    }

    for (i = 0; i < r->npatterns; i++) {
        if (r->patterns[i].tag_len == nlen + 11
            && memcmp(r->patterns[i].tag + 10, name, nlen) == 0)
        {
            snprintf(err, errlen, "duplicate pattern name \"%s\"", name);
            return -1;
        }
    }

    if (r->npatterns == COMPLIANCE_REDACT_MAX_PATTERNS) {
        snprintf(err, errlen, "too many redaction patterns (at most %d)",
                 COMPLIANCE_REDACT_MAX_PATTERNS);
        return -1;
    }

    code = pcre2_compile(re, len, 0, &rc, &off, NULL);

    if (code == NULL) {
        if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0) {
            snprintf((char *) msg, sizeof(msg), "error %d", rc);
        }

        snprintf(err, errlen, "pattern \"%s\": %s at offset %zu", name,
                 (char *) msg, (size_t) off);
        return -1;
    }

    if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen) != 0
        || minlen == 0)
    {
        pcre2_code_free(code);
        snprintf(err, errlen, "pattern \"%s\" can match an empty string",
                 name);
        return -1;
    }

    /* no JIT on this platform: the interpreter still works, only slower */
    (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

    p = realloc(r->patterns,
                (r->npatterns + 1) * sizeof(compliance_redact_pattern_t));
    if (p == NULL) {
        pcre2_code_free(code);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    r->patterns = p;
    p += r->npatterns++;

    p->code = code;
    p->tag_len = (size_t) snprintf((char *) p->tag, sizeof(p->tag),
                                   "[REDACTED:%s]", name);

    return 0;
}


void
compliance_redact_free(compliance_redact_t *r)
{
    size_t  i;

    if (r == NULL) {
        return;
    }

    for (i = 0; i < r->npatterns; i++) {
        pcre2_code_free(r->patterns[i].code);
    }

    free(r->patterns);
    pcre2_match_context_free(r->match_ctx);
    pcre2_match_data_free(r->match_data);
    free(r->scratch);
    free(r);
}


static int
compliance_redact_luhn(const u_char *d, size_t n)
{
    size_t    i;
    unsigned  v, sum;

    sum = 0;

    for (i = 0; i < n; i++) {
        v = d[n - 1 - i];

        if (i & 1) {
            v *= 2;

            if (v > 9) {
                v -= 9;
            }
        }

        sum += v;
    }

    return sum % 10 == 0;
}


/*
 * Separators inside a card number or an SSN: the classic ones (space,
 * dash, a raw '+' that is a space in a query string; an encoded '+' is
 * a plus) join any digit groups; the wide ones (dot, slash, underscore,
 * tab) and doubled separators join only groups shaped like a card's.
 */
#define COMPLIANCE_REDACT_SEP_CLASSIC  1
#define COMPLIANCE_REDACT_SEP_WIDE     2

static inline int
compliance_redact_sep(int c, size_t n)
{
    if (c == ' ' || c == '-' || (c == '+' && n == 1)) {
        return COMPLIANCE_REDACT_SEP_CLASSIC;
    }

    if (c == '.' || c == '/' || c == '_' || c == '\t') {
        return COMPLIANCE_REDACT_SEP_WIDE;
    }

    return 0;
}


/*
 * SSN: the whole digit run at i is NNN?NN?NNNN with one separator, the
 * same both times (possibly encoded), so a run that merely contains that
 * shape is not one.
 */
static int
compliance_redact_ssn(const u_char *in, size_t len, size_t i, size_t *end)
{
    int     c, sep;
    size_t  n, g, k, sn;

    static const size_t  groups[] = { 3, 2, 4 };

    sep = -1;
    sn = 0;

    for (g = 0; g < 3; g++) {
        if (g > 0) {
            if (i >= len) {
                return 0;
            }

            c = compliance_token_getc(in, len, i, &n);

            if (sep == -1) {
                if (!compliance_redact_sep(c, n)) {
                    return 0;
                }

                sep = c;
                sn = n;

            } else if (c != sep || (c == '+' && n != sn)) {
                return 0;
            }

            i += n;
        }

        for (k = 0; k < groups[g]; k++) {
            if (i >= len) {
                return 0;
            }

            c = compliance_token_getc(in, len, i, &n);

            if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
                return 0;
            }

            i += n;
        }
    }

    *end = i;

    if (i == len) {
        return 1;
    }

    c = compliance_token_getc(in, len, i, &n);

    if (compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
        return 0;
    }

    /* a space or dash and another digit: the run goes on */
    if (compliance_redact_sep(c, n) == COMPLIANCE_REDACT_SEP_CLASSIC
        && i + n < len
        && compliance_redact_is(compliance_token_getc(in, len, i + n, &k),
                                COMPLIANCE_REDACT_C_DIGIT))
    {
        return 0;
    }

    return 1;
}


static inline int
compliance_redact_hex_letter(int c)
{
    c |= 0x20;

    return c >= 'a' && c <= 'f';
}


/* card groupings: 4-4-4-4, 4-4-4-4-1 to 3 (19 digits), 4-6-5, 4-6-4 */
static int
compliance_redact_card_groups(const size_t *glen, size_t ng)
{
    size_t  g;

    if (ng == 3) {
        return glen[0] == 4 && glen[1] == 6
               && (glen[2] == 4 || glen[2] == 5);
    }

    if (ng != 4 && ng != 5) {
        return 0;
    }

    for (g = 0; g < 4; g++) {
        if (glen[g] != 4) {
            return 0;
        }
    }

    return ng == 4 || glen[4] <= 3;
}


/*
 * PAN starting at the group start g of a digit run: the longest span of
 * whole groups holding 13 to 19 digits, starting with a payment-card
 * major industry digit (2 to 6), with a valid Luhn sum.  Returns its end
 * or 0.  *gend receives the end of the first group, *next the start of
 * the second one (NONE when the run ends after the first).
 */
static size_t
compliance_redact_pan(const u_char *in, size_t len, size_t g, size_t *next,
    size_t *gend)
{
    int     c, sep, wide, hex;
    u_char  d[COMPLIANCE_REDACT_PAN_MAX];
    size_t  i, j, n, s, k, k0, ng, best;
    size_t  glen[COMPLIANCE_REDACT_PAN_MAX + 1];

    k = 0;
    i = g;
    ng = 0;
    best = 0;
    wide = 0;
    *next = COMPLIANCE_REDACT_NONE;
    *gend = 0;

    /*
     * digits glued to a hex letter are part of a hash or a UUID, not a
     * card number ("x4111...y" still is one: x and y are not hex)
     */
    hex = compliance_redact_hex_letter(compliance_token_getc_back(in, 0, g,
                                                                  &n));

    for ( ;; ) {
        k0 = k;

        while (i < len) {
            c = compliance_token_getc(in, len, i, &n);

            if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
                break;
            }

            if (k < COMPLIANCE_REDACT_PAN_MAX) {
                d[k] = (u_char) (c - '0');
            }

            k++;
            i += n;
        }

        if (*gend == 0) {
            *gend = i;
        }

        /* part of a longer digit run: no span ending further can fit */
        if (k > COMPLIANCE_REDACT_PAN_MAX) {
            break;
        }

        glen[ng++] = k - k0;

        if (k >= COMPLIANCE_REDACT_PAN_MIN && d[0] >= 2 && d[0] <= 6
            && !hex && compliance_redact_luhn(d, k)
            && (!wide || compliance_redact_card_groups(glen, ng))
            && (i == len
                || !compliance_redact_hex_letter(
                        compliance_token_getc(in, len, i, &n))))
        {
            best = i;
        }

        /* the run goes on with one separator, or two, and a digit */
        if (i >= len) {
            break;
        }

        c = compliance_token_getc(in, len, i, &s);
        sep = compliance_redact_sep(c, s);

        if (sep == 0) {
            break;
        }

        j = i + s;

        if (j < len) {
            c = compliance_token_getc(in, len, j, &n);

            if (compliance_redact_sep(c, n)) {
                j += n;
                sep = COMPLIANCE_REDACT_SEP_WIDE;
            }
        }

        if (j >= len) {
            break;
        }

        c = compliance_token_getc(in, len, j, &n);

        if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
            break;
        }

        if (sep == COMPLIANCE_REDACT_SEP_WIDE) {
            wide = 1;
        }

        i = j;

        if (*next == COMPLIANCE_REDACT_NONE) {
            *next = i;
        }
    }

    return best;
}


/*
 * A digit run starts at i (the byte before is not a digit).  Tries SSN
 * on the whole run, then PAN from each group start.  Without a match,
 * *skip receives the end of the run so no digit of it is looked at
 * again.
 */
static int
compliance_redact_digits(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t i, compliance_redact_match_t *m, size_t *skip)
{
    int     c;
    size_t  g, n, end, next, gend;

    /*
     * The common case, a number in text ("id":884210, a timestamp): raw
     * digits ended by a byte that neither joins groups nor encodes one
     * are never an SSN, and a card only with 13 to 19 digits starting
     * with 2 to 6.  Anything else takes the full path below.
     */
    if (in[i] >= '0' && in[i] <= '9') {
        for (g = i + 1; g < len && in[g] >= '0' && in[g] <= '9'; g++) {
            /* void */
        }

        if (g == len || (in[g] != '%' && !compliance_redact_sep(in[g], 1))) {
            n = g - i;

            if (!(r->mask & COMPLIANCE_REDACT_PAN)
                || n < COMPLIANCE_REDACT_PAN_MIN
                || n > COMPLIANCE_REDACT_PAN_MAX
                || in[i] < '2' || in[i] > '6')
            {
                *skip = g;
                return 0;
            }
        }
    }

    if ((r->mask & COMPLIANCE_REDACT_SSN)
        && compliance_redact_ssn(in, len, i, &end))
    {
        compliance_redact_set(m, COMPLIANCE_REDACT_SSN, i, end);
        return 1;
    }

    if (!(r->mask & COMPLIANCE_REDACT_PAN)) {
        /* without PAN, a wide separator ends the run (see below) */
        while (i < len) {
            c = compliance_token_getc(in, len, i, &n);

            if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
                break;
            }

            i += n;
        }

        *skip = i;
        return 0;
    }

    g = i;

    for ( ;; ) {
        end = compliance_redact_pan(in, len, g, &next, &gend);

        if (end) {
            compliance_redact_set(m, COMPLIANCE_REDACT_PAN, g, end);
            return 1;
        }

        if (next == COMPLIANCE_REDACT_NONE) {
            *skip = gend;
            return 0;
        }

        g = next;

        /*
         * a dot, slash, underscore or tab joins card groups, but for an
         * SSN it ends a run: "/emp/998877/123-45-6789" holds one
         */
        c = compliance_token_getc_back(in, 0, g, &n);

        if ((r->mask & COMPLIANCE_REDACT_SSN)
            && compliance_redact_sep(c, n) == COMPLIANCE_REDACT_SEP_WIDE
            && compliance_redact_ssn(in, len, g, &end))
        {
            compliance_redact_set(m, COMPLIANCE_REDACT_SSN, g, end);
            return 1;
        }
    }
}


/* a JWT (compliance_token_jwt()), not the tail of a longer word */
static int
compliance_redact_jwt(const u_char *in, size_t len, size_t i, size_t *end)
{
    int     c;
    size_t  n;

    c = compliance_token_getc_back(in, 0, i, &n);

    if (compliance_token_b64url(c)) {
        return 0;
    }

    *end = compliance_token_jwt(in, len, i);

    return *end != 0;
}


/*
 * A '.' at i: the base64url run before it (not below pos) may be the
 * header of a JWT that does not start "eyJ" (blanks before its '{').
 */
static int
compliance_redact_dot(const u_char *in, size_t len, size_t pos, size_t i,
    size_t *start, size_t *end)
{
    int     c;
    size_t  n, j;

    j = i;

    for ( ;; ) {
        c = compliance_token_getc_back(in, pos, j, &n);

        if (!compliance_token_b64url(c)) {
            break;
        }

        j -= n;
    }

    if (j == i) {
        return 0;
    }

    /* the run must start a word, not continue one before pos */
    if (j == pos
        && compliance_token_b64url(compliance_token_getc_back(in, 0, j, &n)))
    {
        return 0;
    }

    *end = compliance_token_jwt(in, len, j);

    if (*end <= i) {
        return 0;
    }

    *start = j;
    return 1;
}


/* an API key in any case, not inside a longer token */
static int
compliance_redact_api_key(const u_char *in, size_t len, size_t i,
    size_t *end)
{
    int     c;
    size_t  n;

    c = compliance_token_getc_back(in, 0, i, &n);

    if (compliance_token_b64url(c)) {
        return 0;
    }

    *end = compliance_token_api_key(in, len, i, 0);

    return *end != 0;
}


/* the credential after "Bearer" and blanks (compliance_token_scheme()) */
static int
compliance_redact_bearer(const u_char *in, size_t len, size_t i,
    size_t *start, size_t *end)
{
    int     c;
    size_t  n;

    c = compliance_token_getc_back(in, 0, i, &n);

    if (compliance_redact_is(c, COMPLIANCE_REDACT_C_ALPHA
                                | COMPLIANCE_REDACT_C_DIGIT))
    {
        return 0;
    }

    i = compliance_token_scheme(in, len, i);

    if (i == 0) {
        return 0;
    }

    *start = i;

    while (i < len) {
        c = compliance_token_getc(in, len, i, &n);

        if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_TOKEN68)) {
            break;
        }

        i += n;
    }

    while (i < len) {
        c = compliance_token_getc(in, len, i, &n);

        if (c != '=') {
            break;
        }

        i += n;
    }

    if (i == *start) {
        return 0;
    }

    *end = i;
    return 1;
}


/*
 * The '@' (n bytes, maybe %40) is at i: the local part is read
 * backwards (not below floor, where this search started), the domain
 * forwards; the domain needs a dot and an alphabetic TLD of 2+ letters.
 */
static int
compliance_redact_email(const u_char *in, size_t len, size_t floor,
    size_t i, size_t n, size_t *start, size_t *end)
{
    int     c;
    size_t  j, k, labels, tld, alpha, last;

    j = i;

    for ( ;; ) {
        c = compliance_token_getc_back(in, floor, j, &k);

        if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_LOCAL)) {
            break;
        }

        j -= k;
    }

    if (j == i) {
        return 0;
    }

    *start = j;

    j = i + n;
    labels = 0;
    tld = 0;
    alpha = 1;
    last = 0;

    while (j < len) {
        c = compliance_token_getc(in, len, j, &k);

        if (c == '.') {
            /* an empty label ends the domain */
            if (tld == 0) {
                break;
            }

            labels++;
            tld = 0;
            alpha = 1;

        } else if (compliance_redact_is(c, COMPLIANCE_REDACT_C_DOMAIN)) {
            if (!compliance_redact_is(c, COMPLIANCE_REDACT_C_ALPHA)) {
                alpha = 0;
            }

            if (++tld >= 2 && alpha && labels > 0) {
                last = j + k;
            }

        } else {
            break;
        }

        j += k;
    }

    if (last == 0) {
        return 0;
    }

    *end = last;
    return 1;
}


/*
 * A query parameter starts at i (after '?', '&' or ';', or at the start
 * of the input).  If its name is a secret one (compliance_token_param()),
 * its value, up to the next raw '&', is the match: *bit says which
 * detector it counts for.
 */
static int
compliance_redact_param(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t i, unsigned *bit, size_t *start, size_t *end)
{
    int  kind;

    kind = compliance_token_param(in, len, i, start);

    switch (kind) {

    case COMPLIANCE_TOKEN_PARAM_SECRET:
    case COMPLIANCE_TOKEN_PARAM_CREDENTIAL:
        *bit = COMPLIANCE_REDACT_SECRET_PARAMS;
        break;

    case COMPLIANCE_TOKEN_PARAM_SSN:
        *bit = COMPLIANCE_REDACT_SSN;
        break;

    default:
        return 0;
    }

    if (!(r->mask & *bit)) {
        return 0;
    }

    for (i = *start; i < len && in[i] != '&'; i++) {
        /* void */
    }

    /* nothing to hide in an empty value */
    if (i == *start) {
        return 0;
    }

    *end = i;
    return 1;
}


static void
compliance_redact_set(compliance_redact_match_t *m, unsigned bit,
    size_t start, size_t end)
{
    const compliance_redact_detector_t  *d;

    for (d = compliance_redact_detectors; d->bit != bit; d++) {
        /* void */
    }

    m->start = start;
    m->end = end;
    m->tag = (const u_char *) d->tag;
    m->tag_len = d->tag_len;
}


/*
 * The first built-in match whose trigger byte is at or after pos, in
 * one pass that only stops at trigger bytes.
 */
static int
compliance_redact_builtin(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t pos, compliance_redact_match_t *m)
{
    int            c;
    size_t         i, n, k, skip, s, e;
    u_char         t;
    unsigned       bit;
    const u_char  *trig;

    if (r->mask == 0) {
        return 0;
    }

    if (pos == 0 && (r->mask & COMPLIANCE_REDACT_PARAMS) && !r->text
        && compliance_redact_param(r, in, len, 0, &bit, &s, &e))
    {
        compliance_redact_set(m, bit, s, e);
        return 1;
    }

    trig = r->trigger;
    i = pos;

    for ( ;; ) {

        /* the common case: a stretch of bytes that start nothing */
        while (len - i >= 4
               && (trig[in[i]] | trig[in[i + 1]] | trig[in[i + 2]]
                   | trig[in[i + 3]]) == 0)
        {
            i += 4;
        }

        while (i < len && trig[in[i]] == 0) {
            i++;
        }

        if (i >= len) {
            return 0;
        }

        c = in[i];
        t = trig[c];
        n = 1;

        if (t == COMPLIANCE_REDACT_T_PCT) {
            c = compliance_token_getc(in, len, i, &n);

            /* a %XX stands for its byte; parameter separators are raw */
            t = (n > 1) ? trig[c] : 0;

            if (t == COMPLIANCE_REDACT_T_PARAM || t == COMPLIANCE_REDACT_T_PCT)
            {
                t = 0;
            }
        }

        switch (t) {

        case COMPLIANCE_REDACT_T_PARAM:
            if (compliance_redact_param(r, in, len, i + 1, &bit, &s, &e)) {
                compliance_redact_set(m, bit, s, e);
                return 1;
            }

            break;

        case COMPLIANCE_REDACT_T_DOT:
            if (compliance_redact_dot(in, len, pos, i, &s, &e)) {
                compliance_redact_set(m, COMPLIANCE_REDACT_JWT, s, e);
                return 1;
            }

            break;

        case COMPLIANCE_REDACT_T_DIGIT:
            c = compliance_token_getc_back(in, 0, i, &k);

            if (compliance_redact_is(c, COMPLIANCE_REDACT_C_DIGIT)) {
                break;
            }

            if (compliance_redact_digits(r, in, len, i, m, &skip)) {
                return 1;
            }

            i = skip;
            continue;

        /*
         * Most trigger letters start ordinary words: one look at the
         * next raw byte rejects them before any decoding.
         */

        case COMPLIANCE_REDACT_T_JWT:
            if (n == 1 && i + 1 < len && in[i + 1] != 'y' && in[i + 1] != '%')
            {
                break;
            }

            if (compliance_redact_jwt(in, len, i, &e)) {
                compliance_redact_set(m, COMPLIANCE_REDACT_JWT, i, e);
                return 1;
            }

            break;

        case COMPLIANCE_REDACT_T_KEY:
            if (n == 1 && i + 1 < len && (in[i + 1] | 0x20) != 'k'
                && in[i + 1] != '%')
            {
                break;
            }

            if (compliance_redact_api_key(in, len, i, &e)) {
                compliance_redact_set(m, COMPLIANCE_REDACT_API_KEY, i, e);
                return 1;
            }

            break;

        case COMPLIANCE_REDACT_T_BEARER:
            if (n == 1 && i + 1 < len && (in[i + 1] | 0x20) != 'e'
                && in[i + 1] != '%')
            {
                break;
            }

            if (compliance_redact_bearer(in, len, i, &s, &e)) {
                compliance_redact_set(m, COMPLIANCE_REDACT_BEARER, s, e);
                return 1;
            }

            break;

        case COMPLIANCE_REDACT_T_EMAIL:
            if (compliance_redact_email(in, len, pos, i, n, &s, &e)) {
                compliance_redact_set(m, COMPLIANCE_REDACT_EMAIL, s, e);
                return 1;
            }

            break;

        default:
            break;
        }

        /* the hex digits of a decoded %XX are not looked at again */
        i += n;
    }
}


static void
compliance_redact_refresh_builtin(const compliance_redact_t *r,
    const u_char *in, size_t len, size_t from)
{
    compliance_redact_cache_t  *c;
    compliance_redact_match_t   m;

    c = &r->scratch->builtin;
    c->from = from;

    if (compliance_redact_builtin(r, in, len, from, &m)) {
        c->start = m.start;
        c->end = m.end;
        c->tag = m.tag;
        c->tag_len = m.tag_len;

    } else {
        c->start = COMPLIANCE_REDACT_NONE;
    }
}


static void
compliance_redact_refresh_pattern(const compliance_redact_t *r, size_t k,
    const u_char *in, size_t len, size_t from)
{
    int                           rc;
    PCRE2_SIZE                   *ov;
    compliance_redact_cache_t    *c;
    compliance_redact_pattern_t  *p;

    p = &r->patterns[k];
    c = &r->scratch->pattern[k];

    c->from = from;
    c->tag = p->tag;
    c->tag_len = p->tag_len;

    if (from >= len) {
        c->start = COMPLIANCE_REDACT_NONE;
        return;
    }

    rc = pcre2_match(p->code, in, len, from, 0, r->match_data,
                     r->match_ctx);

    if (rc == PCRE2_ERROR_NOMATCH) {
        c->start = COMPLIANCE_REDACT_NONE;
        return;
    }

    if (rc < 0) {
        /*
         * Match limit hit or another failure: the rest of the input
         * cannot be shown to be clean, so it is all redacted.
         */
        c->start = from;
        c->end = len;
        return;
    }

    ov = pcre2_get_ovector_pointer(r->match_data);

    c->start = ov[0];
    c->end = ov[1];

    /* \K can report an end before the start; always make progress */
    if (c->start < from || c->start >= len) {
        c->start = from;
    }

    if (c->end <= c->start || c->end > len) {
        c->end = c->start + 1;
    }
}


static void
compliance_redact_reset(const compliance_redact_t *r, const u_char *in,
    size_t len)
{
    size_t  k;

    compliance_redact_refresh_builtin(r, in, len, 0);

    for (k = 0; k < r->npatterns; k++) {
        compliance_redact_refresh_pattern(r, k, in, len, 0);
    }
}


/*
 * The next span to replace at or after pos.  Every source keeps its
 * next match in the scratch cache; overlapping matches from different
 * sources merge into one span named after the one that starts first,
 * so no byte of any match survives.
 */
static int
compliance_redact_next(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t pos, compliance_redact_match_t *m)
{
    int                         more;
    size_t                      k;
    compliance_redact_cache_t  *c, *best;

    best = NULL;

    for (k = 0; k <= r->npatterns; k++) {
        c = (k == 0) ? &r->scratch->builtin : &r->scratch->pattern[k - 1];

        if (c->start != COMPLIANCE_REDACT_NONE && c->start < pos) {
            if (k == 0) {
                compliance_redact_refresh_builtin(r, in, len, pos);

            } else {
                compliance_redact_refresh_pattern(r, k - 1, in, len, pos);
            }
        }

        if (c->start == COMPLIANCE_REDACT_NONE) {
            continue;
        }

        if (best == NULL || c->start < best->start
            || (c->start == best->start && c->end > best->end))
        {
            best = c;
        }
    }

    if (best == NULL) {
        return 0;
    }

    m->start = best->start;
    m->end = best->end;
    m->tag = best->tag;
    m->tag_len = best->tag_len;

    do {
        more = 0;

        for (k = 0; k <= r->npatterns; k++) {
            c = (k == 0) ? &r->scratch->builtin : &r->scratch->pattern[k - 1];

            if (c->start == COMPLIANCE_REDACT_NONE || c->start >= m->end) {
                continue;
            }

            if (c->end > m->end) {
                m->end = c->end;
            }

            if (k == 0) {
                compliance_redact_refresh_builtin(r, in, len, m->end);

            } else {
                compliance_redact_refresh_pattern(r, k - 1, in, len, m->end);
            }

            more = 1;
        }

    } while (more);

    return 1;
}


int
compliance_redact_needed(const compliance_redact_t *r, const u_char *in,
    size_t len)
{
    size_t                     k;
    compliance_redact_match_t  m;

    if (len == 0) {
        return 0;
    }

    if (compliance_redact_builtin(r, in, len, 0, &m)) {
        return 1;
    }

    for (k = 0; k < r->npatterns; k++) {
        compliance_redact_refresh_pattern(r, k, in, len, 0);

        if (r->scratch->pattern[k].start != COMPLIANCE_REDACT_NONE) {
            return 1;
        }
    }

    return 0;
}


size_t
compliance_redact_len(const compliance_redact_t *r, const u_char *in,
    size_t len)
{
    size_t                     pos, out;
    compliance_redact_match_t  m;

    if (len == 0) {
        return 0;
    }

    compliance_redact_reset(r, in, len);

    pos = 0;
    out = len;

    while (compliance_redact_next(r, in, len, pos, &m)) {
        out = out - (m.end - m.start) + m.tag_len;
        pos = m.end;
    }

    return out;
}


size_t
compliance_redact_apply(const compliance_redact_t *r, const u_char *in,
    size_t len, u_char *out, size_t size)
{
    size_t                     pos, o, n;
    compliance_redact_match_t  m;

    if (len == 0) {
        return 0;
    }

    compliance_redact_reset(r, in, len);

    pos = 0;
    o = 0;

    for ( ;; ) {
        if (!compliance_redact_next(r, in, len, pos, &m)) {
            m.start = len;
            m.end = len;
            m.tag_len = 0;
        }

        n = m.start - pos;

        if (n > size - o) {
            n = size - o;
        }

        memcpy(out + o, in + pos, n);
        o += n;

        n = m.tag_len;

        if (n > size - o) {
            n = size - o;
        }

        if (n) {
            memcpy(out + o, m.tag, n);
            o += n;
        }

        if (m.end == len) {
            break;
        }

        pos = m.end;
    }

    return o;
}


int
compliance_redact_span(const compliance_redact_t *r, const u_char *in,
    size_t len, size_t pos, size_t *start, size_t *end, unsigned *bit)
{
    compliance_redact_match_t            m;
    const compliance_redact_detector_t  *d;

    if (pos >= len) {
        return 0;
    }

    if (pos == 0) {
        compliance_redact_reset(r, in, len);
    }

    if (!compliance_redact_next(r, in, len, pos, &m)) {
        return 0;
    }

    *start = m.start;
    *end = m.end;
    *bit = 0;

    for (d = compliance_redact_detectors; d->name; d++) {
        if ((const u_char *) d->tag == m.tag) {
            *bit = d->bit;
            break;
        }
    }

    return 1;
}


void
compliance_redact_joins(const compliance_redact_t *r, u_char joins[256])
{
    int       c;
    unsigned  cl, m;

    m = r->mask;
    cl = 0;

    /* what each detector's scanner reads through, or looks at around */
    if (m & (COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN)) {
        cl |= COMPLIANCE_REDACT_C_DIGIT | COMPLIANCE_REDACT_C_HEX;
    }

    if (m & (COMPLIANCE_REDACT_JWT | COMPLIANCE_REDACT_API_KEY)) {
        cl |= COMPLIANCE_REDACT_C_B64URL;
    }

    if (m & COMPLIANCE_REDACT_BEARER) {
        cl |= COMPLIANCE_REDACT_C_ALPHA | COMPLIANCE_REDACT_C_DIGIT
              | COMPLIANCE_REDACT_C_TOKEN68;
    }

    if (m & COMPLIANCE_REDACT_EMAIL) {
        cl |= COMPLIANCE_REDACT_C_LOCAL | COMPLIANCE_REDACT_C_DOMAIN;
    }

    for (c = 0; c < 256; c++) {
        joins[c] = (compliance_redact_cclass[c] & cl) != 0;
    }

    if (m & (COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN)) {
        for (c = 0; c < 256; c++) {
            if (compliance_redact_sep(c, 1)) {
                joins[c] = 1;
            }
        }
    }

    if (m & COMPLIANCE_REDACT_JWT) {
        joins['.'] = 1;
    }

    if (m & COMPLIANCE_REDACT_BEARER) {
        joins[' '] = 1;
        joins['\t'] = 1;
        joins['\r'] = 1;
        joins['\n'] = 1;
        joins['+'] = 1;
        joins['='] = 1;
    }

    if (m & COMPLIANCE_REDACT_EMAIL) {
        joins['@'] = 1;
    }

    /* %XX stands for any byte: its three (or five) bytes all join */
    if (m) {
        joins['%'] = 1;

        for (c = 0; c < 256; c++) {
            if (compliance_token_hex(c) >= 0) {
                joins[c] = 1;
            }
        }
    }

    /* operator patterns may match anything: no byte separates */
    if (r->npatterns) {
        memset(joins, 1, 256);
    }
}
