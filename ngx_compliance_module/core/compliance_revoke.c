/*
 * JWT revocation lists: the parser and the hash set (compliance_revoke.h).
 *
 * The file's text is kept whole and the set points into it: one open
 * addressing table of 16-byte slots (keyed hash, offset, length and
 * type), at most half full, probed linearly.  The hash is SipHash-1-3
 * under a key drawn when the list is read, so neither a list's author
 * nor a client can line values up on one run of slots.
 */

#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/rand.h>

#include "compliance_io.h"
#include "compliance_revoke.h"


typedef struct {
    uint64_t     hash;
    uint32_t     off;          /* of the value in text */
    uint32_t     lt;           /* len << 2 | type; 0: empty slot */
} compliance_revoke_slot_t;


struct compliance_revoke_s {
    u_char                    *text;
    size_t                     len;
    compliance_revoke_slot_t  *slots;
    size_t                     mask;
    size_t                     counts[COMPLIANCE_REVOKE_NTYPES];
    uint64_t                   key[2];
};


static compliance_revoke_t *compliance_revoke_build(u_char *text,
    size_t len, const char *name, char *err, size_t errlen);
static int compliance_revoke_line(const u_char *p, const u_char *end,
    int *type, const u_char **v, size_t *vlen, const char **why);
static uint64_t compliance_revoke_hash(const uint64_t key[2], int type,
    const u_char *p, size_t len);


static const char  *compliance_revoke_names[] = { "jti", "sub", "kid" };


const char *
compliance_revoke_type_name(int type)
{
    if (type < 0 || type >= COMPLIANCE_REVOKE_NTYPES) {
        return NULL;
    }

    return compliance_revoke_names[type];
}


#define compliance_revoke_rotl(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

#define compliance_revoke_round(v0, v1, v2, v3)                              \
    v0 += v1; v1 = compliance_revoke_rotl(v1, 13); v1 ^= v0;                 \
    v0 = compliance_revoke_rotl(v0, 32);                                     \
    v2 += v3; v3 = compliance_revoke_rotl(v3, 16); v3 ^= v2;                 \
    v0 += v3; v3 = compliance_revoke_rotl(v3, 21); v3 ^= v0;                 \
    v2 += v1; v1 = compliance_revoke_rotl(v1, 17); v1 ^= v2;                 \
    v2 = compliance_revoke_rotl(v2, 32)


/*
 * SipHash-1-3 of the value, with the type folded into the key: the same
 * text as a jti and as a sub are two entries.
 */
static uint64_t
compliance_revoke_hash(const uint64_t key[2], int type, const u_char *p,
    size_t len)
{
    size_t    i, left;
    uint64_t  k0, k1, v0, v1, v2, v3, m, b;

    k0 = key[0] ^ ((uint64_t) (type + 1) * 0x9e3779b97f4a7c15ULL);
    k1 = key[1];

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    for (i = 0; i + 8 <= len; i += 8) {
        m = (uint64_t) p[i]
            | (uint64_t) p[i + 1] << 8
            | (uint64_t) p[i + 2] << 16
            | (uint64_t) p[i + 3] << 24
            | (uint64_t) p[i + 4] << 32
            | (uint64_t) p[i + 5] << 40
            | (uint64_t) p[i + 6] << 48
            | (uint64_t) p[i + 7] << 56;

        v3 ^= m;
        compliance_revoke_round(v0, v1, v2, v3);
        v0 ^= m;
    }

    b = (uint64_t) len << 56;
    left = len - i;

    while (left) {
        left--;
        b |= (uint64_t) p[i + left] << (8 * left);
    }

    v3 ^= b;
    compliance_revoke_round(v0, v1, v2, v3);
    v0 ^= b;

    v2 ^= 0xff;
    compliance_revoke_round(v0, v1, v2, v3);
    compliance_revoke_round(v0, v1, v2, v3);
    compliance_revoke_round(v0, v1, v2, v3);

    return v0 ^ v1 ^ v2 ^ v3;
}


/*
 * One line, p..end without its LF.  Returns 1 for an entry (*type, *v,
 * *vlen), 0 for a blank or comment line, -1 with *why.
 */
static int
compliance_revoke_line(const u_char *p, const u_char *end, int *type,
    const u_char **v, size_t *vlen, const char **why)
{
    int            t;
    const u_char  *w, *q;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
    {
        end--;
    }

    if (p == end || *p == '#') {
        return 0;
    }

    w = p;

    while (p < end && *p != ' ' && *p != '\t') {
        p++;
    }

    for (t = 0; t < COMPLIANCE_REVOKE_NTYPES; t++) {
        if (p - w == 3 && memcmp(w, compliance_revoke_names[t], 3) == 0) {
            break;
        }
    }

    if (t == COMPLIANCE_REVOKE_NTYPES) {
        *why = "expected \"jti <id>\", \"sub <subject>\" or \"kid <kid>\"";
        return -1;
    }

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == end) {
        *why = "entry without a value";
        return -1;
    }

    if ((size_t) (end - p) > COMPLIANCE_REVOKE_MAX_VALUE) {
        *why = "value longer than 1024 bytes";
        return -1;
    }

    for (q = p; q < end; q++) {
        if (*q < 0x20 || *q == 0x7f) {
            *why = "control character in the value";
            return -1;
        }
    }

    *type = t;
    *v = p;
    *vlen = (size_t) (end - p);

    return 1;
}


/*
 * Two passes over text (owned from here on: kept by the set, or freed):
 * the first checks every line and counts the entries, so the table is
 * sized once; the second fills it.
 */
static compliance_revoke_t *
compliance_revoke_build(u_char *text, size_t len, const char *name,
    char *err, size_t errlen)
{
    int                        type, rc, pass;
    size_t                     n, line, vlen, size, i;
    uint32_t                   lt;
    uint64_t                   h;
    const char                *why;
    const u_char              *p, *end, *eol, *v, *start;
    compliance_revoke_t       *rv;
    compliance_revoke_slot_t  *s;

    rv = calloc(1, sizeof(compliance_revoke_t));
    if (rv == NULL) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    rv->text = text;
    rv->len = len;

    start = text;
    end = text + len;

    /* a byte order mark some editors write */
    if (len >= 3 && start[0] == 0xef && start[1] == 0xbb && start[2] == 0xbf)
    {
        start += 3;
    }

    n = 0;

    for (pass = 0; pass < 2; pass++) {

        if (pass == 1) {
            for (size = 16; size < 2 * n; size <<= 1) { /* void */ }

            rv->slots = calloc(size, sizeof(compliance_revoke_slot_t));
            if (rv->slots == NULL) {
                snprintf(err, errlen, "out of memory");
                goto failed;
            }

            rv->mask = size - 1;

            if (RAND_bytes((u_char *) rv->key, sizeof(rv->key)) != 1) {
                snprintf(err, errlen, "random generator failed");
                goto failed;
            }
        }

        line = 0;

        for (p = start; p < end; p = eol + 1) {
            line++;

            eol = memchr(p, '\n', (size_t) (end - p));
            if (eol == NULL) {
                eol = end;
            }

            rc = compliance_revoke_line(p, eol, &type, &v, &vlen, &why);

            if (rc == 0) {
                continue;
            }

            if (rc < 0) {
                snprintf(err, errlen, "%s: line %zu: %s", name, line, why);
                goto failed;
            }

            if (pass == 0) {
                if (++n > COMPLIANCE_REVOKE_MAX_ENTRIES) {
                    snprintf(err, errlen, "%s: line %zu: more than %d "
                             "entries", name, line,
                             COMPLIANCE_REVOKE_MAX_ENTRIES);
                    goto failed;
                }

                continue;
            }

            h = compliance_revoke_hash(rv->key, type, v, vlen);
            lt = (uint32_t) (vlen << 2 | (size_t) type);

            for (i = h & rv->mask; /* void */; i = (i + 1) & rv->mask) {
                s = &rv->slots[i];

                if (s->lt == 0) {
                    s->hash = h;
                    s->off = (uint32_t) (v - text);
                    s->lt = lt;
                    rv->counts[type]++;
                    break;
                }

                /* the same entry again */
                if (s->hash == h && s->lt == lt
                    && memcmp(text + s->off, v, vlen) == 0)
                {
                    break;
                }
            }
        }
    }

    return rv;

failed:

    compliance_revoke_free(rv);
    return NULL;
}


compliance_revoke_t *
compliance_revoke_parse(const u_char *buf, size_t len, const char *name,
    char *err, size_t errlen)
{
    u_char  *text;

    if (len > COMPLIANCE_REVOKE_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %d bytes", name,
                 COMPLIANCE_REVOKE_MAX_FILE);
        return NULL;
    }

    text = malloc(len + 1);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    if (len) {
        memcpy(text, buf, len);
    }

    text[len] = '\0';

    return compliance_revoke_build(text, len, name, err, errlen);
}


compliance_revoke_t *
compliance_revoke_load(const char *path, unsigned *mode, char *err,
    size_t errlen)
{
    compliance_file_t  f;

    if (compliance_file_read(path, "revocation list",
                             COMPLIANCE_REVOKE_MAX_FILE, &f, err, errlen)
        != COMPLIANCE_FILE_OK)
    {
        return NULL;
    }

    if (mode) {
        *mode = f.mode;
    }

    return compliance_revoke_build(f.data, f.len, path, err, errlen);
}


void
compliance_revoke_free(compliance_revoke_t *rv)
{
    if (rv == NULL) {
        return;
    }

    free(rv->slots);
    free(rv->text);
    free(rv);
}


int
compliance_revoke_match(const compliance_revoke_t *rv, int type,
    const u_char *value, size_t len)
{
    size_t                           i;
    uint32_t                         lt;
    uint64_t                         h;
    const compliance_revoke_slot_t  *s;

    if (rv == NULL || type < 0 || type >= COMPLIANCE_REVOKE_NTYPES
        || len == 0 || len > COMPLIANCE_REVOKE_MAX_VALUE
        || rv->counts[type] == 0)
    {
        return 0;
    }

    h = compliance_revoke_hash(rv->key, type, value, len);
    lt = (uint32_t) (len << 2 | (size_t) type);

    for (i = h & rv->mask; /* void */; i = (i + 1) & rv->mask) {
        s = &rv->slots[i];

        if (s->lt == 0) {
            return 0;
        }

        if (s->hash == h && s->lt == lt
            && memcmp(rv->text + s->off, value, len) == 0)
        {
            return 1;
        }
    }
}


size_t
compliance_revoke_count(const compliance_revoke_t *rv, int type)
{
    int     t;
    size_t  n;

    if (rv == NULL) {
        return 0;
    }

    if (type >= 0 && type < COMPLIANCE_REVOKE_NTYPES) {
        return rv->counts[type];
    }

    if (type != -1) {
        return 0;
    }

    n = 0;

    for (t = 0; t < COMPLIANCE_REVOKE_NTYPES; t++) {
        n += rv->counts[t];
    }

    return n;
}
