/*
 * libFuzzer harness for the revocation list parser and its hash set
 * (core/compliance_revoke.c).  The input is a list file.
 *
 * Oracles, against a model written here from the format in
 * compliance_revoke.h (split on LF, trim blanks and CR, a sorted array
 * instead of a hash table):
 *
 *   - the parser accepts exactly the files the model accepts, and a
 *     refusal names the line the model stops at;
 *   - every entry of the model is found, under its own type only, and
 *     the distinct counts per type are the model's;
 *   - a value one byte longer or shorter than an entry, or the entry
 *     under another type, is found only when the model holds that too.
 */

#include <stdint.h>
#include <string.h>

#include "compliance_revoke.h"

#include "fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    int            type;
    const u_char  *v;
    size_t         len;
} fuzz_revoke_entry_t;


static int fuzz_revoke_cmp(const void *a, const void *b);
static int fuzz_revoke_model(const u_char *p, size_t len,
    fuzz_revoke_entry_t *e, size_t *n, size_t *bad_line);
static int fuzz_revoke_has(const fuzz_revoke_entry_t *e, size_t n, int type,
    const u_char *v, size_t len);
static void fuzz_revoke_probe(const compliance_revoke_t *rv,
    const fuzz_revoke_entry_t *e, size_t n, int type, const u_char *v,
    size_t len);


static int
fuzz_revoke_cmp(const void *a, const void *b)
{
    int                         c;
    size_t                      m;
    const fuzz_revoke_entry_t  *x = a, *y = b;

    if (x->type != y->type) {
        return x->type - y->type;
    }

    m = x->len < y->len ? x->len : y->len;
    c = memcmp(x->v, y->v, m);

    if (c) {
        return c;
    }

    return (x->len > y->len) - (x->len < y->len);
}


static int
fuzz_revoke_model(const u_char *p, size_t len, fuzz_revoke_entry_t *e,
    size_t *n, size_t *bad_line)
{
    int            t;
    size_t         line, i;
    const u_char  *end, *eol, *s, *q, *w;

    static const char  *names[] = { "jti", "sub", "kid" };

    end = p + len;
    *n = 0;
    line = 0;

    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        p += 3;
    }

    for ( /* void */ ; p < end; p = eol + 1) {
        line++;

        eol = p;
        while (eol < end && *eol != '\n') {
            eol++;
        }

        s = p;
        q = eol;

        while (s < q && (*s == ' ' || *s == '\t')) {
            s++;
        }

        while (q > s && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) {
            q--;
        }

        if (s == q || *s == '#') {
            continue;
        }

        w = s;
        while (s < q && *s != ' ' && *s != '\t') {
            s++;
        }

        for (t = 0; t < 3; t++) {
            if (s - w == 3 && memcmp(w, names[t], 3) == 0) {
                break;
            }
        }

        while (s < q && (*s == ' ' || *s == '\t')) {
            s++;
        }

        if (t == 3 || s == q
            || (size_t) (q - s) > COMPLIANCE_REVOKE_MAX_VALUE)
        {
            *bad_line = line;
            return -1;
        }

        for (i = 0; s + i < q; i++) {
            if (s[i] < 0x20 || s[i] == 0x7f) {
                *bad_line = line;
                return -1;
            }
        }

        e[*n].type = t;
        e[*n].v = s;
        e[*n].len = (size_t) (q - s);
        (*n)++;
    }

    return 0;
}


static int
fuzz_revoke_has(const fuzz_revoke_entry_t *e, size_t n, int type,
    const u_char *v, size_t len)
{
    fuzz_revoke_entry_t  key;

    key.type = type;
    key.v = v;
    key.len = len;

    return bsearch(&key, e, n, sizeof(fuzz_revoke_entry_t), fuzz_revoke_cmp)
           != NULL;
}


static void
fuzz_revoke_probe(const compliance_revoke_t *rv,
    const fuzz_revoke_entry_t *e, size_t n, int type, const u_char *v,
    size_t len)
{
    int  want, got;

    want = (len > 0 && len <= COMPLIANCE_REVOKE_MAX_VALUE)
           ? fuzz_revoke_has(e, n, type, v, len) : 0;
    got = compliance_revoke_match(rv, type, v, len);

    if (want != got) {
        fprintf(stderr, "fuzz_revoke: %s of %zu bytes: found %d, model %d\n",
                compliance_revoke_type_name(type), len, got, want);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   t, rc;
    char                  err[512], want[64];
    u_char               *in, *longer;
    size_t                n, i, distinct[COMPLIANCE_REVOKE_NTYPES], line;
    compliance_revoke_t  *rv;
    fuzz_revoke_entry_t  *e;

    /* an exact-size copy, so a read past the input is caught */
    in = malloc(size ? size : 1);
    e = malloc((size / 2 + 1) * sizeof(fuzz_revoke_entry_t));
    longer = malloc(COMPLIANCE_REVOKE_MAX_VALUE + 2);

    if (in == NULL || e == NULL || longer == NULL) {
        abort();
    }

    memcpy(in, data, size);

    err[0] = '\0';
    rv = compliance_revoke_parse(in, size, "f", err, sizeof(err));

    line = 0;
    rc = fuzz_revoke_model(in, size, e, &n, &line);

    if ((rv != NULL) != (rc == 0)) {
        fprintf(stderr, "fuzz_revoke: parser %s, model %s (%s)\n",
                rv ? "accepts" : "refuses", rc == 0 ? "accepts" : "refuses",
                err);
        abort();
    }

    if (rv == NULL) {
        snprintf(want, sizeof(want), "f: line %zu: ", line);

        if (strncmp(err, want, strlen(want)) != 0) {
            fprintf(stderr, "fuzz_revoke: \"%s\", model: line %zu\n", err,
                    line);
            abort();
        }

        goto done;
    }

    qsort(e, n, sizeof(fuzz_revoke_entry_t), fuzz_revoke_cmp);

    memset(distinct, 0, sizeof(distinct));

    for (i = 0; i < n; i++) {
        if (i == 0 || fuzz_revoke_cmp(&e[i - 1], &e[i]) != 0) {
            distinct[e[i].type]++;
        }
    }

    for (t = 0; t < COMPLIANCE_REVOKE_NTYPES; t++) {
        if (compliance_revoke_count(rv, t) != distinct[t]) {
            fprintf(stderr, "fuzz_revoke: %zu %s entries, model %zu\n",
                    compliance_revoke_count(rv, t),
                    compliance_revoke_type_name(t), distinct[t]);
            abort();
        }
    }

    for (i = 0; i < n; i++) {
        for (t = 0; t < COMPLIANCE_REVOKE_NTYPES; t++) {
            fuzz_revoke_probe(rv, e, n, t, e[i].v, e[i].len);
        }

        fuzz_revoke_probe(rv, e, n, e[i].type, e[i].v, e[i].len - 1);

        memcpy(longer, e[i].v, e[i].len);
        longer[e[i].len] = e[i].v[0];
        fuzz_revoke_probe(rv, e, n, e[i].type, longer, e[i].len + 1);
    }

    compliance_revoke_free(rv);

done:

    free(longer);
    free(e);
    free(in);

    return 0;
}
