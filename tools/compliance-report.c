/*
 * compliance-report: an evidence report from the audit trail.
 *
 *   compliance-report --audit FILE... [--config FILE] [--key K]
 *       [--from T] [--to T] [--format html|json|md] --out FILE
 *
 * Streams the trail one record at a time (a rotated series oldest
 * first, as "compliance-audit verify" takes it), counts into bounded
 * tables, and writes one self-contained report: HTML (inline SVG, no
 * script, no external asset), JSON or Markdown, all three rendered
 * from the same figures.  docs/report.md describes every figure.
 *
 * Exit: 0 report written (and, with --key, the chain verified); 1 the
 * report was written but the chain does not verify, or an input could
 * not be read or the output written (then no report); 2 usage error.
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "compliance_chain.h"
#include "compliance_secret.h"
#include "compliance_verify.h"
#include "compliance_version.h"


#define REPORT_TABLE_CAP   10000   /* distinct keys per table */
#define REPORT_KEY_MAX     200     /* bytes of a key kept */
#define REPORT_HOURS_CAP   10000   /* hours (about 416 days) */
#define REPORT_TOP         25      /* rows of a table in HTML and md */
#define REPORT_CHART_DAYS  (31 * 24)  /* more hours: the chart is by day */
#define REPORT_MAX_AUDIT   256
#define REPORT_SEP         '\x1f'  /* joins the parts of a composite key */
#define REPORT_NCOUNTS     4

#define OUT_ALLOWED        0
#define OUT_DENIED         1
#define OUT_PUBLIC         2
#define OUT_AUTHFAIL       3

#define CONFIG_MAX         (16 * 1024 * 1024)
#define CONF_DEPTH         16


/* a bounded counting table: open addressing, then the "other" bucket */
typedef struct {
    char          *key;
    size_t         len;
    uint64_t       n[REPORT_NCOUNTS];
} rtab_entry_t;


typedef struct {
    const char    *name;
    rtab_entry_t  *e;
    size_t         size;       /* slots, a power of two */
    size_t         used;
    size_t         cap;
    uint64_t       other[REPORT_NCOUNTS];
    uint64_t       other_keys; /* records whose key did not fit */
} rtab_t;


typedef struct {
    uint64_t       lines;
    uint64_t       records;    /* JSON objects */
    uint64_t       in_period;
    uint64_t       before;
    uint64_t       after;
    uint64_t       malformed;
    uint64_t       bad_time;
    uint64_t       requests;
    uint64_t       outcome[3];
    uint64_t       auth_failures;
    uint64_t       rate_limited;
    uint64_t       forbidden;
    uint64_t       alerts;
    uint64_t       gaps;
    uint64_t       lost_records;
    uint64_t       sensitive;
    uint64_t       deprecated;
    uint64_t       credential_uses;
    uint64_t       upstream_host_seen;
    uint64_t       status[6];  /* 1xx..5xx, other */
    int64_t        first_ms;
    int64_t        last_ms;
    char           first[32];
    char           last[32];
} report_totals_t;


typedef struct {
    const char           *audit[REPORT_MAX_AUDIT];
    int                   naudit;
    const char           *config;
    const char           *key;
    const char           *from_s;
    const char           *to_s;
    const char           *format;
    const char           *out;
    int64_t               from_ms;
    int64_t               to_ms;

    report_totals_t       tot;
    rtab_t                hours;
    rtab_t                events;
    rtab_t                reasons;
    rtab_t                clients;
    rtab_t                limited;
    rtab_t                sensitive;
    rtab_t                deprecated;
    rtab_t                credentials;
    rtab_t                principals;
    rtab_t                alerts;

    compliance_chain_t   *chain;
    compliance_verify_t   verify;
    int                   verify_failed;
    char                  verify_msg[COMPLIANCE_VERIFY_MSG_LEN + 256];
    char                  verify_note[COMPLIANCE_VERIFY_MSG_LEN];
    uint64_t              verify_stopped_at;
} report_t;


/* nginx -T: one "# configuration file X:" section */
typedef struct {
    const char    *path;
    char          *text;
    size_t         len;
} conf_file_t;


/* one statement with the block it opens (if any) */
typedef struct conf_stmt_s  conf_stmt_t;

struct conf_stmt_s {
    char         **args;
    size_t         nargs;
    const char    *file;
    unsigned long  line;
    conf_stmt_t  **children;   /* NULL: no block */
    size_t         nchildren;
    int            block;
};


typedef struct {
    char          *text;
    conf_file_t   *files;
    size_t         nfiles;
    conf_stmt_t   *root;
    int            depth;
    char           err[512];
} conf_t;


/* what a location inherits: the nearest statement of each name */
#define CONF_LEVELS  64

typedef struct {
    conf_stmt_t   *level[CONF_LEVELS];
    int            n;
} conf_scope_t;


static void usage_to(FILE *fp);
static int rtab_init(rtab_t *t, const char *name, size_t cap);
static void rtab_free(rtab_t *t);
static void rtab_add(rtab_t *t, const char *key, size_t len, int idx);
static int rtab_cmp(const void *a, const void *b);
static rtab_entry_t **rtab_sorted(rtab_t *t, int by_key);
static int64_t parse_time(const char *s, size_t len, int *ok);
static const char *sfield(json_t *rec, const char *name);
static void process_record(report_t *rp, json_t *rec);
static int read_trail(report_t *rp);
static int conf_load(conf_t *cf, const char *path);
static void conf_free(conf_t *cf);
static json_t *conf_report(conf_t *cf);
static json_t *figures(report_t *rp, json_t *config);
static int write_json(FILE *fp, json_t *f);
static int write_md(FILE *fp, json_t *f);
static int write_html(FILE *fp, json_t *f);


static uint64_t  sort_idx;


static void
usage_to(FILE *fp)
{
    fprintf(fp,
        "usage: compliance-report --audit FILE... [--config FILE] "
        "[--key KEYFILE]\n"
        "           [--from T] [--to T] [--format html|json|md] "
        "--out FILE\n"
        "       compliance-report --help | --version\n"
        "T: 2026-12-03, 2026-12-03T10:00, 2026-12-03T10:00:00[.000]Z "
        "(UTC);\n"
        "--from is inclusive, --to exclusive.  --out - writes to stdout.\n");
}


static uint64_t
hash_bytes(const char *p, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = 1469598103934665603ULL;

    for (i = 0; i < len; i++) {
        h ^= (u_char) p[i];
        h *= 1099511628211ULL;
    }

    return h;
}


static int
rtab_init(rtab_t *t, const char *name, size_t cap)
{
    memset(t, 0, sizeof(rtab_t));

    t->name = name;
    t->cap = cap;
    /* grown as keys come, up to twice the cap */
    t->size = 64;
    t->e = calloc(t->size, sizeof(rtab_entry_t));

    return t->e ? 0 : -1;
}


static void
rtab_free(rtab_t *t)
{
    size_t  i;

    if (t->e == NULL) {
        return;
    }

    for (i = 0; i < t->size; i++) {
        free(t->e[i].key);
    }

    free(t->e);
    t->e = NULL;
}


static int
rtab_grow(rtab_t *t)
{
    size_t         i, j, size;
    rtab_entry_t  *e;

    size = t->size * 2;
    e = calloc(size, sizeof(rtab_entry_t));

    if (e == NULL) {
        return -1;
    }

    for (i = 0; i < t->size; i++) {
        if (t->e[i].key == NULL) {
            continue;
        }

        j = hash_bytes(t->e[i].key, t->e[i].len) & (size - 1);

        while (e[j].key) {
            j = (j + 1) & (size - 1);
        }

        e[j] = t->e[i];
    }

    free(t->e);
    t->e = e;
    t->size = size;

    return 0;
}


/* counts one under key in column idx; a key past the cap goes to other */
static void
rtab_add(rtab_t *t, const char *key, size_t len, int idx)
{
    size_t         i;
    rtab_entry_t  *e;

    if (len > REPORT_KEY_MAX) {
        len = REPORT_KEY_MAX;
    }

    i = hash_bytes(key, len) & (t->size - 1);

    for ( ;; ) {
        e = &t->e[i];

        if (e->key == NULL) {
            break;
        }

        if (e->len == len && memcmp(e->key, key, len) == 0) {
            e->n[idx]++;
            return;
        }

        i = (i + 1) & (t->size - 1);
    }

    if (t->used >= t->cap) {
        t->other[idx]++;
        t->other_keys++;
        return;
    }

    /* keep the load under one half */
    if ((t->used + 1) * 2 > t->size) {
        if (rtab_grow(t) != 0) {
            t->other[idx]++;
            t->other_keys++;
            return;
        }

        rtab_add(t, key, len, idx);
        return;
    }

    e->key = malloc(len + 1);

    if (e->key == NULL) {
        t->other[idx]++;
        t->other_keys++;
        return;
    }

    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->n[idx] = 1;
    t->used++;
}


static uint64_t
rtab_sum(const rtab_entry_t *e)
{
    int       i;
    uint64_t  s;

    s = 0;

    for (i = 0; i < REPORT_NCOUNTS; i++) {
        s += e->n[i];
    }

    return s;
}


/* by the sum of the counts, most first, then by key: stable output */
static int
rtab_cmp(const void *a, const void *b)
{
    uint64_t             x, y;
    const rtab_entry_t  *ea = *(rtab_entry_t * const *) a;
    const rtab_entry_t  *eb = *(rtab_entry_t * const *) b;

    if (sort_idx == 0) {
        x = rtab_sum(ea);
        y = rtab_sum(eb);

        if (x != y) {
            return x > y ? -1 : 1;
        }
    }

    return strcmp(ea->key, eb->key);
}


/* the used entries, by count (by_key: by key); NULL-terminated */
static rtab_entry_t **
rtab_sorted(rtab_t *t, int by_key)
{
    size_t          i, n;
    rtab_entry_t  **a;

    a = malloc((t->used + 1) * sizeof(rtab_entry_t *));

    if (a == NULL) {
        return NULL;
    }

    n = 0;

    for (i = 0; i < t->size; i++) {
        if (t->e[i].key) {
            a[n++] = &t->e[i];
        }
    }

    sort_idx = by_key ? 1 : 0;
    qsort(a, n, sizeof(rtab_entry_t *), rtab_cmp);
    a[n] = NULL;

    return a;
}


static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static int
digits(const char *s, size_t n, int *v)
{
    size_t  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }

        *v = *v * 10 + (s[i] - '0');
    }

    return 1;
}


/*
 * UTC milliseconds of YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z]; *ok = 0 when the
 * text is none of these.
 */
static int64_t
parse_time(const char *s, size_t len, int *ok)
{
    int  y, mo, d, h, mi, sec, ms;

    *ok = 0;
    h = mi = sec = ms = 0;

    if (len > 0 && s[len - 1] == 'Z') {
        len--;
    }

    if (len < 10 || !digits(s, 4, &y) || s[4] != '-'
        || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d)
        || mo < 1 || mo > 12 || d < 1 || d > 31)
    {
        return 0;
    }

    if (len > 10) {
        if (len < 16 || s[10] != 'T' || !digits(s + 11, 2, &h)
            || s[13] != ':' || !digits(s + 14, 2, &mi) || h > 23 || mi > 59)
        {
            return 0;
        }

        if (len > 16) {
            if (len < 19 || s[16] != ':' || !digits(s + 17, 2, &sec)
                || sec > 60)
            {
                return 0;
            }

            if (len > 19) {
                if (len != 23 || s[19] != '.' || !digits(s + 20, 3, &ms)) {
                    return 0;
                }
            }
        }
    }

    *ok = 1;

    return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000
           + (int64_t) sec * 1000 + ms;
}


/* a non-empty string field, or NULL */
static const char *
sfield(json_t *rec, const char *name)
{
    json_t  *v;

    v = json_object_get(rec, name);

    if (json_is_string(v) && json_string_length(v) > 0) {
        return json_string_value(v);
    }

    return NULL;
}


/* a composite key "a<US>b" */
static size_t
key2(char *buf, size_t size, const char *a, const char *b)
{
    int  n;

    n = snprintf(buf, size, "%s%c%s", a, REPORT_SEP, b);

    if (n < 0) {
        return 0;
    }

    return (size_t) n < size ? (size_t) n : size - 1;
}


static void
process_record(report_t *rp, json_t *rec)
{
    int                outcome, ok;
    char               buf[2 * REPORT_KEY_MAX + 8];
    char               part[REPORT_KEY_MAX + 1];
    json_t            *v;
    size_t             n;
    int64_t            ms;
    json_int_t         status;
    const char        *ts, *event, *method, *principal, *key, *path;
    const char        *cred, *host, *reason;
    report_totals_t   *tot;

    tot = &rp->tot;
    tot->records++;

    ts = sfield(rec, "timestamp");
    ms = ts ? parse_time(ts, strlen(ts), &ok) : (ok = 0);

    if (!ok || strlen(ts) != 24) {
        tot->bad_time++;
        return;
    }

    if (rp->from_ms != INT64_MIN && ms < rp->from_ms) {
        tot->before++;
        return;
    }

    if (rp->to_ms != INT64_MAX && ms >= rp->to_ms) {
        tot->after++;
        return;
    }

    tot->in_period++;

    if (tot->in_period == 1 || ms < tot->first_ms) {
        tot->first_ms = ms;
        snprintf(tot->first, sizeof(tot->first), "%s", ts);
    }

    if (tot->in_period == 1 || ms > tot->last_ms) {
        tot->last_ms = ms;
        snprintf(tot->last, sizeof(tot->last), "%s", ts);
    }

    event = sfield(rec, "event");
    event = event ? event : "(none)";
    rtab_add(&rp->events, event, strlen(event), 0);

    principal = sfield(rec, "user_id");
    path = sfield(rec, "path");
    path = path ? path : "(none)";
    method = sfield(rec, "method");
    reason = sfield(rec, "reason");

    v = json_object_get(rec, "status");
    status = json_is_integer(v) ? json_integer_value(v) : 0;
    tot->status[(status >= 100 && status < 600) ? status / 100 - 1 : 5]++;

    if (strcmp(event, "alert") == 0) {
        tot->alerts++;
        reason = reason ? reason : "(none)";
        rtab_add(&rp->alerts, reason, strlen(reason), 0);
        return;
    }

    if (strcmp(event, "gap") == 0) {
        tot->gaps++;
        v = json_object_get(rec, "lost_records");

        if (json_is_integer(v) && json_integer_value(v) > 0) {
            tot->lost_records += (uint64_t) json_integer_value(v);
        }

        return;
    }

    if (strcmp(event, "auth_failure") == 0
        || strcmp(event, "forbidden") == 0
        || strcmp(event, "rate_limited") == 0)
    {
        outcome = OUT_DENIED;

    } else if (strcmp(event, "request") == 0) {
        key = sfield(rec, "auth_method");
        outcome = (key && strcmp(key, "public") == 0) ? OUT_PUBLIC
                                                       : OUT_ALLOWED;

    } else {
        /* an event this version does not know: counted, not charted */
        return;
    }

    tot->requests++;
    tot->outcome[outcome]++;

    /* "YYYY-MM-DDTHH" */
    rtab_add(&rp->hours, ts, 13, outcome);

    if (principal) {
        rtab_add(&rp->principals, principal, strlen(principal), outcome);
    }

    if (outcome == OUT_DENIED && reason) {
        rtab_add(&rp->reasons, reason, strlen(reason), 0);
    }

    if (strcmp(event, "auth_failure") == 0) {
        tot->auth_failures++;
        rtab_add(&rp->hours, ts, 13, OUT_AUTHFAIL);
        key = sfield(rec, "client_ip");
        key = key ? key : "(none)";
        rtab_add(&rp->clients, key, strlen(key), 0);

    } else if (strcmp(event, "rate_limited") == 0) {
        tot->rate_limited++;

        if ((key = sfield(rec, "key_id"))) {
            n = key2(buf, sizeof(buf), "key_id", key);

        } else if (principal) {
            n = key2(buf, sizeof(buf), "principal", principal);

        } else {
            key = sfield(rec, "client_ip");
            n = key2(buf, sizeof(buf), "client_ip", key ? key : "(none)");
        }

        rtab_add(&rp->limited, buf, n, 0);

    } else if (strcmp(event, "forbidden") == 0) {
        tot->forbidden++;
    }

    v = json_object_get(rec, "severity");

    if (json_is_string(v) && strcmp(json_string_value(v), "high") == 0) {
        tot->sensitive++;
        key = sfield(rec, "resource_type");
        snprintf(part, sizeof(part), "%s %s%s%s", method ? method : "-",
                 key ? key : "", key ? " " : "", path);
        n = key2(buf, sizeof(buf), principal ? principal : "(anonymous)",
                 part);
        rtab_add(&rp->sensitive, buf, n, outcome);
    }

    if (json_is_true(json_object_get(rec, "deprecated"))) {
        tot->deprecated++;
        snprintf(part, sizeof(part), "%s %s", method ? method : "-", path);
        n = key2(buf, sizeof(buf), principal ? principal : "(anonymous)",
                 part);
        rtab_add(&rp->deprecated, buf, n, 0);
    }

    cred = sfield(rec, "credential_id");

    if (cred) {
        tot->credential_uses++;
        host = sfield(rec, "upstream_host");

        if (host) {
            tot->upstream_host_seen++;
        }

        n = key2(buf, sizeof(buf), cred, host ? host : "");
        rtab_add(&rp->credentials, buf, n, outcome);
    }
}


/* the files in order; each line verified (with --key) and counted */
static int
read_trail(report_t *rp)
{
    int             i, rc;
    FILE           *fp;
    char           *buf;
    json_t         *rec;
    size_t          cap, len;
    ssize_t         n;
    const char     *file;
    json_error_t    jerr;
    unsigned long   lineno;

    buf = NULL;
    cap = 0;
    file = NULL;
    lineno = 0;

    for (i = 0; i < rp->naudit; i++) {
        file = rp->audit[i];
        fp = (strcmp(file, "-") == 0) ? stdin : fopen(file, "r");

        if (fp == NULL) {
            fprintf(stderr, "compliance-report: cannot open \"%s\": %s\n",
                    file, strerror(errno));
            free(buf);
            return -1;
        }

        lineno = 0;

        while ((n = getline(&buf, &cap, fp)) != -1) {
            lineno++;
            rp->tot.lines++;
            len = (size_t) n;

            rec = NULL;

            if (len <= COMPLIANCE_VERIFY_LINE_MAX) {
                rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
            }

            if (rp->chain && !rp->verify_failed) {
                rc = compliance_verify_line(&rp->verify, (u_char *) buf, len,
                                            lineno,
                                            json_is_object(rec) ? rec : NULL);

                if (rp->verify.note[0]) {
                    snprintf(rp->verify_note, sizeof(rp->verify_note), "%s",
                             rp->verify.note);
                    rp->verify.note[0] = '\0';
                }

                if (rc != 0) {
                    rp->verify_failed = 1;
                    rp->verify_stopped_at = rp->tot.lines;
                    snprintf(rp->verify_msg, sizeof(rp->verify_msg),
                             "%s (in \"%s\")", rp->verify.msg, file);
                }
            }

            if (!json_is_object(rec)) {
                json_decref(rec);
                rp->tot.malformed++;
                continue;
            }

            process_record(rp, rec);
            json_decref(rec);
        }

        if (ferror(fp)) {
            fprintf(stderr, "compliance-report: cannot read \"%s\": %s\n",
                    file, strerror(errno));
            free(buf);

            if (fp != stdin) {
                fclose(fp);
            }

            return -1;
        }

        if (fp != stdin) {
            fclose(fp);
        }
    }

    free(buf);

    if (rp->chain && !rp->verify_failed
        && compliance_verify_finish(&rp->verify, file, lineno) != 0)
    {
        rp->verify_failed = 1;
        snprintf(rp->verify_msg, sizeof(rp->verify_msg), "%s",
                 rp->verify.msg);
    }

    return 0;
}


/* ---- nginx -T ---------------------------------------------------------- */


#define CONF_HEADER  "# configuration file "


typedef struct {
    const char    *p;
    const char    *end;
    unsigned long  line;
} conf_lex_t;


/* one token into *tok; 1 word, ';' '{' '}' as themselves, 0 at the end */
static int
conf_token(conf_lex_t *lx, char **tok)
{
    int          q;
    char        *w;
    size_t       n, size;
    const char  *p;

    *tok = NULL;

    for ( ;; ) {
        while (lx->p < lx->end
               && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'
                   || *lx->p == '\n'))
        {
            if (*lx->p == '\n') {
                lx->line++;
            }

            lx->p++;
        }

        if (lx->p < lx->end && *lx->p == '#') {
            while (lx->p < lx->end && *lx->p != '\n') {
                lx->p++;
            }

            continue;
        }

        break;
    }

    if (lx->p >= lx->end) {
        return 0;
    }

    if (*lx->p == ';' || *lx->p == '{' || *lx->p == '}') {
        return *lx->p++;
    }

    size = 64;
    n = 0;
    w = malloc(size);

    if (w == NULL) {
        return -1;
    }

    q = 0;

    if (*lx->p == '"' || *lx->p == '\'') {
        q = *lx->p++;
    }

    while (lx->p < lx->end) {
        p = lx->p;

        if (q) {
            if (*p == q) {
                lx->p++;
                break;
            }

        } else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'
                   || *p == ';' || *p == '}'
                   || (*p == '{' && !(n > 0 && w[n - 1] == '$')))
        {
            break;
        }

        if (*p == '\\' && p + 1 < lx->end
            && (p[1] == '"' || p[1] == '\'' || p[1] == '\\'))
        {
            p++;
            lx->p++;
        }

        if (*p == '\n') {
            lx->line++;
        }

        if (n + 2 > size) {
            size *= 2;
            w = realloc(w, size);

            if (w == NULL) {
                return -1;
            }
        }

        /* ${name}: the braces belong to the word */
        if (*p == '{') {
            while (lx->p < lx->end && *lx->p != '}' && n + 2 < size) {
                w[n++] = *lx->p++;
            }

            if (lx->p < lx->end && *lx->p == '}') {
                w[n++] = *lx->p++;
            }

            continue;
        }

        w[n++] = *p;
        lx->p++;
    }

    w[n] = '\0';
    *tok = w;

    return 1;
}


static int
conf_push(conf_stmt_t *parent, conf_stmt_t *s)
{
    conf_stmt_t  **c;

    c = realloc(parent->children,
                (parent->nchildren + 1) * sizeof(conf_stmt_t *));

    if (c == NULL) {
        return -1;
    }

    parent->children = c;
    parent->children[parent->nchildren++] = s;

    return 0;
}


static int conf_parse(conf_t *cf, size_t fi, conf_stmt_t *parent);


/* the sections an "include" names; relative to the main file's dir */
static int
conf_include(conf_t *cf, const char *pattern, conf_stmt_t *parent)
{
    int          rc;
    char         full[4096];
    size_t       i, dl;
    const char  *main, *slash;

    if (pattern[0] == '/') {
        snprintf(full, sizeof(full), "%s", pattern);

    } else {
        main = cf->files[0].path;
        slash = strrchr(main, '/');
        dl = slash ? (size_t) (slash - main) : 0;
        snprintf(full, sizeof(full), "%.*s/%s", (int) dl, main, pattern);
    }

    if (cf->depth >= CONF_DEPTH) {
        snprintf(cf->err, sizeof(cf->err), "includes nested deeper than "
                 "%d levels at \"%s\"", CONF_DEPTH, pattern);
        return -1;
    }

    for (i = 1; i < cf->nfiles; i++) {
        if (fnmatch(full, cf->files[i].path, FNM_PATHNAME) != 0) {
            continue;
        }

        cf->depth++;
        rc = conf_parse(cf, i, parent);
        cf->depth--;

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


/* the statements of section fi into parent, blocks nested */
static int
conf_parse(conf_t *cf, size_t fi, conf_stmt_t *parent)
{
    int            t, depth;
    char          *tok, **a;
    conf_lex_t     lx;
    conf_stmt_t   *stack[CONF_DEPTH * 4], *cur, *s;

    lx.p = cf->files[fi].text;
    lx.end = lx.p + cf->files[fi].len;
    lx.line = 1;

    depth = 0;
    stack[0] = parent;
    s = NULL;

    for ( ;; ) {
        t = conf_token(&lx, &tok);

        if (t < 0) {
            snprintf(cf->err, sizeof(cf->err), "out of memory");
            return -1;
        }

        if (t == 0) {
            break;
        }

        cur = stack[depth];

        if (t == 1) {
            if (s == NULL) {
                s = calloc(1, sizeof(conf_stmt_t));

                if (s == NULL) {
                    free(tok);
                    return -1;
                }

                s->file = cf->files[fi].path;
                s->line = lx.line;
            }

            a = realloc(s->args, (s->nargs + 1) * sizeof(char *));

            if (a == NULL) {
                free(tok);
                return -1;
            }

            s->args = a;
            s->args[s->nargs++] = tok;
            continue;
        }

        if (t == '}') {
            if (s != NULL || depth == 0) {
                snprintf(cf->err, sizeof(cf->err), "%s:%lu: unexpected "
                         "\"}\"", cf->files[fi].path, lx.line);
                return -1;
            }

            depth--;
            continue;
        }

        if (s == NULL) {
            snprintf(cf->err, sizeof(cf->err), "%s:%lu: unexpected \"%c\"",
                     cf->files[fi].path, lx.line, t);
            return -1;
        }

        if (conf_push(cur, s) != 0) {
            return -1;
        }

        if (t == '{') {
            if (depth + 1 >= (int) (sizeof(stack) / sizeof(stack[0]))) {
                snprintf(cf->err, sizeof(cf->err), "%s:%lu: blocks nested "
                         "too deep", cf->files[fi].path, lx.line);
                return -1;
            }

            s->block = 1;
            stack[++depth] = s;

        } else if (strcmp(s->args[0], "include") == 0 && s->nargs == 2) {
            if (conf_include(cf, s->args[1], cur) != 0) {
                return -1;
            }
        }

        s = NULL;
    }

    if (s != NULL || depth != 0) {
        snprintf(cf->err, sizeof(cf->err), "%s: unexpected end of file",
                 cf->files[fi].path);
        return -1;
    }

    return 0;
}


/* reads the file and splits it into the sections of nginx -T */
static int
conf_load(conf_t *cf, const char *path)
{
    FILE         *fp;
    char         *text, *p, *end, *nl, *h;
    size_t        len, n;
    conf_file_t  *f;

    memset(cf, 0, sizeof(conf_t));

    fp = fopen(path, "r");

    if (fp == NULL) {
        snprintf(cf->err, sizeof(cf->err), "cannot open \"%s\": %s", path,
                 strerror(errno));
        return -1;
    }

    text = malloc(CONFIG_MAX + 1);
    cf->text = text;

    if (text == NULL) {
        fclose(fp);
        snprintf(cf->err, sizeof(cf->err), "out of memory");
        return -1;
    }

    len = fread(text, 1, CONFIG_MAX + 1, fp);

    if (ferror(fp)) {
        snprintf(cf->err, sizeof(cf->err), "cannot read \"%s\": %s", path,
                 strerror(errno));
        fclose(fp);
        return -1;
    }

    fclose(fp);

    if (len > CONFIG_MAX) {
        snprintf(cf->err, sizeof(cf->err), "\"%s\" is larger than %d MiB",
                 path, CONFIG_MAX / 1024 / 1024);
        return -1;
    }

    text[len] = '\0';
    end = text + len;

    /* sections: "# configuration file PATH:" lines; else one file */
    p = text;
    n = 0;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        nl = nl ? nl : end;

        if ((size_t) (nl - p) > sizeof(CONF_HEADER)
            && memcmp(p, CONF_HEADER, sizeof(CONF_HEADER) - 1) == 0
            && nl[-1] == ':')
        {
            f = realloc(cf->files, (n + 1) * sizeof(conf_file_t));

            if (f == NULL) {
                return -1;
            }

            cf->files = f;
            h = p + sizeof(CONF_HEADER) - 1;
            nl[-1] = '\0';
            f[n].path = h;
            f[n].text = nl + (nl < end);
            f[n].len = 0;

            if (n > 0) {
                f[n - 1].len = p - f[n - 1].text;
            }

            n++;
        }

        p = nl + (nl < end);
    }

    if (n == 0) {
        cf->files = malloc(sizeof(conf_file_t));

        if (cf->files == NULL) {
            return -1;
        }

        cf->files[0].path = path;
        cf->files[0].text = text;
        cf->files[0].len = len;
        n = 1;

    } else {
        cf->files[n - 1].len = end - cf->files[n - 1].text;
    }

    cf->nfiles = n;

    cf->root = calloc(1, sizeof(conf_stmt_t));

    if (cf->root == NULL) {
        return -1;
    }

    cf->root->block = 1;

    return conf_parse(cf, 0, cf->root);
}


static void
conf_stmt_free(conf_stmt_t *s)
{
    size_t  i;

    for (i = 0; i < s->nchildren; i++) {
        conf_stmt_free(s->children[i]);
    }

    free(s->children);

    for (i = 0; i < s->nargs; i++) {
        free(s->args[i]);
    }

    free(s->args);
    free(s);
}


static void
conf_free(conf_t *cf)
{
    if (cf->root) {
        conf_stmt_free(cf->root);
    }

    free(cf->files);
    free(cf->text);
}


/* ---- posture from the config text ------------------------------------ */


enum {
    CK_UNPROTECTED = 0,
    CK_JWT_ISS_AUD,
    CK_JWT_LIFETIME,
    CK_RATE_LIMIT,
    CK_AUTH_FAILURE,
    CK_AUDIT_LOG,
    CK_AUDIT_CHAIN,
    CK_HTTPS_REDIRECT,
    CK_HSTS,
    CK_TLS_PROTOCOLS,
    CK_KEY_FILE_MODE,
    CK_VALIDATION,
    CK_CERT_EXPIRY,
    CK_ERROR_PAGES,
    CK_MFA,
    CK_AUDIT_CHECKPOINTS,
    CK_VAULT_AGE,
    CK_N
};


typedef struct {
    const char    *id;
    int            assessed;   /* readable from the config text */
    const char    *what;
    const char    *soc2;
    const char    *pci;
    const char    *hipaa;
    const char    *gdpr;
} check_def_t;


/* docs/report.md has the same table with the reasons */
static const check_def_t  checks[CK_N] = {
    { "unprotected_location", 1,
      "location neither under \"compliance on\" nor public",
      "CC6.1", "7.2.1", "164.312(a)(1)", "Art. 32(1)(b)" },
    { "jwt_issuer_audience", 1,
      "JWT accepted without both issuer and audience checks",
      "CC6.1", "8.3.1", "164.312(d)", "Art. 32(1)(b)" },
    { "jwt_lifetime", 1,
      "JWT accepted without a max lifetime of at most 1h",
      "CC6.1", "8.3.1", "164.312(d)", "Art. 32(1)(b)" },
    { "rate_limit", 1,
      "protected location without compliance_limit",
      "CC6.6", "-", "-", "Art. 32(1)(b)" },
    { "auth_failure_limit", 1,
      "protected location without compliance_auth_failure_limit",
      "CC6.1, CC6.6", "8.3.4", "164.308(a)(5)(ii)(C)", "Art. 32(1)(b)" },
    { "audit_log", 1,
      "no audit trail (compliance_audit_log)",
      "CC7.2", "10.2.1", "164.312(b)", "Art. 32(1)(d)" },
    { "audit_chain", 1,
      "audit trail not chained (compliance_audit_chain)",
      "CC7.2", "10.3.2, 10.3.4", "164.312(b), 164.312(c)(1)",
      "Art. 32(1)(b)" },
    { "https_redirect", 1,
      "plain-HTTP location that neither redirects nor is public",
      "CC6.7", "4.2.1", "164.312(e)(1)", "Art. 32(1)(a)" },
    { "hsts", 1,
      "TLS location without HSTS of max-age >= 31536000",
      "CC6.7", "4.2.1", "164.312(e)(1)", "Art. 32(1)(a)" },
    { "tls_protocols", 1,
      "TLS location allowing TLSv1 or TLSv1.1 without compliance_tls_min",
      "CC6.7", "4.2.1", "164.312(e)(1), 164.312(e)(2)(ii)",
      "Art. 32(1)(a)" },
    { "key_file_mode", 0,
      "key, vault or chain file readable by others (file modes are not "
      "in the config text: nginx -t checks them)",
      "CC6.1", "3.6.1, 8.3.2", "164.312(a)(1)", "Art. 32(1)(b)" },
    { "validation", 0,
      "protected proxied location without body validation (checked by "
      "nginx -t)",
      "CC6.6", "6.2.4", "-", "Art. 32(1)(b)" },
    { "certificate_expiry", 0,
      "certificate expired or expiring within 30 days (the certificates "
      "are not in the config text: nginx -t checks them)",
      "CC6.7", "4.2.1.1", "164.312(e)(1)", "Art. 32(1)(a)" },
    { "error_pages", 0,
      "protected location without compliance_error_pages (checked by "
      "nginx -t)",
      "CC6.1", "6.2.4", "-", "Art. 32(1)(b)" },
    { "mfa", 1,
      "sensitive location without compliance_require_mfa",
      "CC6.1", "8.4.2", "164.312(d)", "Art. 32(1)(b)" },
    { "audit_checkpoints", 1,
      "chained trail whose checkpoints reach no lasting error_log "
      "(every main-level error_log is /dev/null or memory:)",
      "CC7.2", "10.3.2", "164.312(b)", "Art. 32(1)(b)" },
    { "vault_age", 0,
      "vault secret older than compliance_vault max_age, or of unknown "
      "age (the vault is not in the config text: nginx -t checks it)",
      "CC6.1", "3.7.4, 8.6.3", "164.308(a)(5)(ii)(D)", "Art. 32(1)(b)" },
};


#define POSTURE_WHERE_MAX  50


typedef struct {
    uint64_t       gaps[CK_N];
    uint64_t       passes[CK_N];
    json_t        *where[CK_N];
    int            used;
} posture_t;


/* the innermost level of the scope with a statement named name */
static int
scope_level(conf_scope_t *sc, const char *name)
{
    int     l;
    size_t  i;

    for (l = sc->n - 1; l >= 0; l--) {
        for (i = 0; i < sc->level[l]->nchildren; i++) {
            if (!sc->level[l]->children[i]->block
                && strcmp(sc->level[l]->children[i]->args[0], name) == 0)
            {
                return l;
            }
        }
    }

    return -1;
}


/* the last statement named name at the innermost level having one */
static conf_stmt_t *
scope_find(conf_scope_t *sc, const char *name)
{
    int           l;
    size_t        i;
    conf_stmt_t  *s, *found;

    l = scope_level(sc, name);

    if (l < 0) {
        return NULL;
    }

    found = NULL;

    for (i = 0; i < sc->level[l]->nchildren; i++) {
        s = sc->level[l]->children[i];

        if (!s->block && strcmp(s->args[0], name) == 0) {
            found = s;
        }
    }

    return found;
}


static int
has_arg(conf_stmt_t *s, const char *arg)
{
    size_t  i;

    for (i = 1; s && i < s->nargs; i++) {
        if (strcmp(s->args[i], arg) == 0) {
            return 1;
        }
    }

    return 0;
}


/* an nginx time (1h, 30m, 3600, 3600s, 1d) in seconds, -1 when not one */
static long long
conf_seconds(const char *s)
{
    char       *end;
    long long   v, total;

    total = 0;

    if (*s == '\0') {
        return -1;
    }

    while (*s) {
        errno = 0;
        v = strtoll(s, &end, 10);

        if (end == s || errno != 0 || v < 0) {
            return -1;
        }

        s = end;

        if (strncmp(s, "ms", 2) == 0) {
            v = v >= 1000 ? v / 1000 : 1;
            s += 2;

        } else if (*s == 's') {
            s++;

        } else if (*s == 'm') {
            v *= 60;
            s++;

        } else if (*s == 'h') {
            v *= 3600;
            s++;

        } else if (*s == 'd') {
            v *= 86400;
            s++;

        } else if (*s == 'w') {
            v *= 7 * 86400;
            s++;

        } else if (*s != '\0') {
            return -1;
        }

        total += v;
    }

    return total;
}


static long long
max_age(const char *s)
{
    const char  *p;

    p = strstr(s, "max-age=");

    if (p == NULL) {
        return -1;
    }

    return strtoll(p + 8, NULL, 10);
}


static void
posture_note(posture_t *ps, int ck, int gap, const char *server,
    conf_stmt_t *loc, const char *file, unsigned long line)
{
    char    where[1024], uri[512];
    size_t  i, n;

    if (!gap) {
        ps->passes[ck]++;
        return;
    }

    ps->gaps[ck]++;

    if (json_array_size(ps->where[ck]) >= POSTURE_WHERE_MAX) {
        return;
    }

    n = 0;
    uri[0] = '\0';

    for (i = 1; loc && i < loc->nargs && n < sizeof(uri); i++) {
        n += snprintf(uri + n, sizeof(uri) - n, "%s%s", i > 1 ? " " : "",
                      loc->args[i]);
    }

    if (loc) {
        snprintf(where, sizeof(where), "server \"%s\" location \"%s\" in "
                 "%s:%lu", server, uri, loc->file, loc->line);

    } else if (server) {
        snprintf(where, sizeof(where), "server \"%s\" in %s:%lu", server,
                 file, line);

    } else {
        snprintf(where, sizeof(where), "http block in %s:%lu", file, line);
    }

    json_array_append_new(ps->where[ck], json_string(where));
}


typedef struct {
    const char    *name;
    int            tls;
    int            plain;
} conf_server_t;


/* the location-level checks for the scope (http, server, locations) */
static void
check_location(posture_t *ps, conf_scope_t *sc, conf_server_t *sv,
    conf_stmt_t *loc, const char *file, unsigned long line)
{
    int            protected, jwt, pub, gap, l, old;
    size_t         i;
    long long      secs;
    conf_stmt_t   *s, *c;

    s = scope_find(sc, "compliance");
    pub = scope_find(sc, "compliance_public") != NULL;
    protected = s && has_arg(s, "on") && !pub;

    posture_note(ps, CK_UNPROTECTED, !protected && !pub, sv->name, loc,
                 file, line);

    if (protected) {
        s = scope_find(sc, "compliance_auth");
        jwt = scope_find(sc, "compliance_jwt_keys") != NULL
              && (s == NULL || has_arg(s, "jwt"));

        if (jwt) {
            gap = scope_find(sc, "compliance_jwt_issuer") == NULL
                  || scope_find(sc, "compliance_jwt_audience") == NULL;
            posture_note(ps, CK_JWT_ISS_AUD, gap, sv->name, loc, file,
                         line);

            s = scope_find(sc, "compliance_jwt_max_lifetime");
            secs = (s && s->nargs == 2) ? conf_seconds(s->args[1]) : -1;
            posture_note(ps, CK_JWT_LIFETIME, secs <= 0 || secs > 3600,
                         sv->name, loc, file, line);
        }

        posture_note(ps, CK_RATE_LIMIT,
                     scope_find(sc, "compliance_limit") == NULL, sv->name,
                     loc, file, line);
        posture_note(ps, CK_AUTH_FAILURE,
                     scope_find(sc, "compliance_auth_failure_limit") == NULL,
                     sv->name, loc, file, line);

        /* evaluated for sensitive locations only, as nginx -t does */
        if (scope_find(sc, "compliance_audit_sensitive") != NULL) {
            posture_note(ps, CK_MFA,
                         scope_find(sc, "compliance_require_mfa") == NULL,
                         sv->name, loc, file, line);
        }
    }

    if (sv->plain) {
        s = scope_find(sc, "compliance_https_redirect");
        gap = !(s && has_arg(s, "on")) && !pub;

        /* return 301 https://... at this level or above */
        s = scope_find(sc, "return");

        if (gap && s && s->nargs == 3 && s->args[1][0] == '3'
            && strncmp(s->args[2], "https://", 8) == 0)
        {
            gap = 0;
        }

        posture_note(ps, CK_HTTPS_REDIRECT, gap, sv->name, loc, file, line);
    }

    if (sv->tls) {
        s = scope_find(sc, "compliance_hsts");
        gap = !(s && s->nargs >= 2 && max_age(s->args[1]) >= 31536000);

        /* add_header is inherited only by levels without their own */
        l = scope_level(sc, "add_header");

        for (i = 0; gap && l >= 0 && i < sc->level[l]->nchildren; i++) {
            c = sc->level[l]->children[i];

            if (!c->block && strcmp(c->args[0], "add_header") == 0
                && c->nargs >= 3
                && strcasecmp(c->args[1], "Strict-Transport-Security") == 0
                && max_age(c->args[2]) >= 31536000)
            {
                gap = 0;
            }
        }

        posture_note(ps, CK_HSTS, gap, sv->name, loc, file, line);

        /* nginx 1.22 allows TLSv1 and TLSv1.1 by default */
        s = scope_find(sc, "ssl_protocols");
        old = s == NULL || has_arg(s, "TLSv1") || has_arg(s, "TLSv1.1");
        gap = old && scope_find(sc, "compliance_tls_min") == NULL;
        posture_note(ps, CK_TLS_PROTOCOLS, gap, sv->name, loc, file, line);
    }
}


static void
walk_locations(posture_t *ps, conf_scope_t *sc, conf_server_t *sv,
    conf_stmt_t *block, int *nlocs)
{
    size_t        i;
    conf_stmt_t  *s;

    for (i = 0; i < block->nchildren; i++) {
        s = block->children[i];

        if (!s->block || strcmp(s->args[0], "location") != 0
            || sc->n >= CONF_LEVELS)
        {
            continue;
        }

        (*nlocs)++;
        sc->level[sc->n++] = s;
        check_location(ps, sc, sv, s, s->file, s->line);
        walk_locations(ps, sc, sv, s, nlocs);
        sc->n--;
    }
}


static int
uses_compliance(conf_stmt_t *b)
{
    size_t  i;

    for (i = 0; i < b->nchildren; i++) {
        if (strncmp(b->children[i]->args[0], "compliance", 10) == 0
            || (b->children[i]->block && uses_compliance(b->children[i])))
        {
            return 1;
        }
    }

    return 0;
}


static int
audit_log_anywhere(conf_stmt_t *b)
{
    size_t        i;
    conf_stmt_t  *c;

    for (i = 0; i < b->nchildren; i++) {
        c = b->children[i];

        if (c->block) {
            if (audit_log_anywhere(c)) {
                return 1;
            }

        } else if (strcmp(c->args[0], "compliance_audit_log") == 0
                   && c->nargs >= 2 && strcmp(c->args[1], "off") != 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Whether the main level has an error log that keeps the chain's
 * checkpoints: no error_log at all (nginx's default file), or one that is
 * neither /dev/null nor memory:.
 */
static int
lasting_error_log(conf_stmt_t *root)
{
    int           seen;
    size_t        i;
    conf_stmt_t  *s;

    seen = 0;

    for (i = 0; i < root->nchildren; i++) {
        s = root->children[i];

        if (s->block || s->nargs < 2 || strcmp(s->args[0], "error_log") != 0)
        {
            continue;
        }

        seen = 1;

        if (strcmp(s->args[1], "/dev/null") != 0
            && strncmp(s->args[1], "memory:", sizeof("memory:") - 1) != 0)
        {
            return 1;
        }
    }

    return !seen;
}


static void
check_http(posture_t *ps, conf_stmt_t *root, conf_stmt_t *http)
{
    int            nlocs, ssl_on, l;
    size_t         i, j;
    conf_stmt_t   *srv, *s, *c;
    conf_scope_t   sc;
    conf_server_t  sv;

    if (!uses_compliance(http)) {
        return;
    }

    ps->used = 1;

    /* one trail per configuration: an audit_log not "off" anywhere */
    sc.n = 0;
    sc.level[sc.n++] = http;
    l = audit_log_anywhere(http);

    posture_note(ps, CK_AUDIT_LOG, !l, NULL, NULL, http->file, http->line);

    c = NULL;

    for (i = 0; i < http->nchildren; i++) {
        if (strcmp(http->children[i]->args[0], "compliance_audit_chain")
            == 0)
        {
            c = http->children[i];
        }
    }

    if (l) {
        posture_note(ps, CK_AUDIT_CHAIN, c == NULL, NULL, NULL, http->file,
                     http->line);
    }

    if (l && c) {
        posture_note(ps, CK_AUDIT_CHECKPOINTS, !lasting_error_log(root),
                     NULL, NULL, c->file, c->line);
    }

    for (i = 0; i < http->nchildren; i++) {
        srv = http->children[i];

        if (!srv->block || strcmp(srv->args[0], "server") != 0) {
            continue;
        }

        s = NULL;
        sv.name = "";
        sv.tls = 0;
        sv.plain = 0;
        ssl_on = 0;

        for (j = 0; j < srv->nchildren; j++) {
            s = srv->children[j];

            if (s->block) {
                continue;
            }

            if (strcmp(s->args[0], "server_name") == 0 && s->nargs > 1
                && sv.name[0] == '\0')
            {
                sv.name = s->args[1];

            } else if (strcmp(s->args[0], "listen") == 0) {
                if (has_arg(s, "ssl") || has_arg(s, "quic")) {
                    sv.tls = 1;

                } else {
                    sv.plain = 1;
                }

            } else if (strcmp(s->args[0], "ssl") == 0 && has_arg(s, "on")) {
                ssl_on = 1;
            }
        }

        if (!sv.tls && !sv.plain) {
            /* no listen: *:80 */
            sv.plain = 1;
        }

        if (ssl_on) {
            sv.tls = 1;
            sv.plain = 0;
        }

        sc.n = 1;
        sc.level[sc.n++] = srv;
        nlocs = 0;
        walk_locations(ps, &sc, &sv, srv, &nlocs);

        if (nlocs == 0) {
            /* the server level answers every request */
            check_location(ps, &sc, &sv, NULL, srv->file, srv->line);
        }
    }
}


/* a name ending in "_" is a prefix: $cookie_NAME */
static const char  *raw_vars[] = {
    "request", "request_uri", "args", "query_string", "http_authorization",
    "http_cookie", "cookie_", NULL
};


/*
 * $name or ${name} in the text, not as the head of a longer name (unless
 * the name ends in "_", a prefix of names)
 */
static int
writes_var(const char *text, const char *name)
{
    size_t       n;
    const char  *p;

    n = strlen(name);

    for (p = strchr(text, '$'); p; p = strchr(p + 1, '$')) {
        if (name[n - 1] == '_') {
            if (strncmp(p + 1, name, n) == 0
                || (p[1] == '{' && strncmp(p + 2, name, n) == 0))
            {
                return 1;
            }

            continue;
        }

        if (p[1] == '{' && strncmp(p + 2, name, n) == 0 && p[2 + n] == '}') {
            return 1;
        }

        if (strncmp(p + 1, name, n) == 0
            && !((p[1 + n] >= 'a' && p[1 + n] <= 'z')
                 || (p[1 + n] >= 'A' && p[1 + n] <= 'Z')
                 || (p[1 + n] >= '0' && p[1 + n] <= '9')
                 || p[1 + n] == '_'))
        {
            return 1;
        }
    }

    return 0;
}


/* log_format and access_log statements anywhere under b */
static void
collect_logs(conf_stmt_t *b, json_t *formats, json_t *used)
{
    int           k;
    size_t        i, j;
    json_t       *vars, *row;
    conf_stmt_t  *s;

    for (i = 0; i < b->nchildren; i++) {
        s = b->children[i];

        if (s->block) {
            collect_logs(s, formats, used);
            continue;
        }

        if (strcmp(s->args[0], "access_log") == 0 && s->nargs >= 2
            && strcmp(s->args[1], "off") != 0)
        {
            json_object_set_new(used, s->nargs >= 3
                                && strchr(s->args[2], '=') == NULL
                                ? s->args[2] : "combined", json_true());
            continue;
        }

        if (strcmp(s->args[0], "log_format") != 0 || s->nargs < 3) {
            continue;
        }

        vars = json_array();

        for (k = 0; raw_vars[k]; k++) {
            for (j = 2; j < s->nargs; j++) {
                if (strncmp(s->args[j], "escape=", 7) != 0
                    && writes_var(s->args[j], raw_vars[k]))
                {
                    json_array_append_new(vars, json_sprintf("$%s",
                                                             raw_vars[k]));
                    break;
                }
            }
        }

        row = json_pack("{s:s, s:s, s:I, s:o}", "name", s->args[1], "file",
                        s->file, "line", (json_int_t) s->line, "variables",
                        vars);
        json_array_append_new(formats, row);
    }
}


static json_t *
conf_report(conf_t *cf)
{
    int         k;
    size_t      i;
    json_t     *out, *rows, *row, *formats, *used, *raw, *files, *v;
    const char *status;
    posture_t   ps;

    memset(&ps, 0, sizeof(ps));

    for (k = 0; k < CK_N; k++) {
        ps.where[k] = json_array();
    }

    for (i = 0; i < cf->root->nchildren; i++) {
        if (cf->root->children[i]->block
            && strcmp(cf->root->children[i]->args[0], "http") == 0)
        {
            check_http(&ps, cf->root, cf->root->children[i]);
        }
    }

    rows = json_array();

    for (k = 0; k < CK_N; k++) {
        if (!checks[k].assessed) {
            status = "not_assessed";

        } else if (!ps.used) {
            status = "not_applicable";

        } else if (ps.gaps[k]) {
            status = "gap";

        } else if (ps.passes[k]) {
            status = "pass";

        } else {
            status = "not_applicable";
        }

        row = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:{s:s, s:s, s:s, "
                        "s:s}}",
                        "check", checks[k].id, "what", checks[k].what,
                        "status", status, "gaps", (json_int_t) ps.gaps[k],
                        "passes", (json_int_t) ps.passes[k],
                        "where", ps.where[k], "criteria",
                        "soc2", checks[k].soc2, "pci_dss_4_0", checks[k].pci,
                        "hipaa", checks[k].hipaa, "gdpr", checks[k].gdpr);
        json_array_append_new(rows, row);
    }

    formats = json_array();
    used = json_object();
    collect_logs(cf->root, formats, used);

    raw = json_array();

    json_array_foreach(formats, i, v) {
        if (json_array_size(json_object_get(v, "variables")) == 0) {
            continue;
        }

        json_object_set_new(v, "used_by_access_log",
                            json_boolean(json_object_get(used,
                                json_string_value(json_object_get(v,
                                                                 "name")))));
        json_array_append(raw, v);
    }

    files = json_array();

    for (i = 0; i < cf->nfiles; i++) {
        json_array_append_new(files, json_string(cf->files[i].path));
    }

    out = json_pack("{s:o, s:b, s:I, s:o, s:o}", "files", files,
                    "compliance_used", ps.used, "log_formats_checked",
                    (json_int_t) json_array_size(formats),
                    "log_formats_raw", raw, "posture", rows);

    json_decref(formats);
    json_decref(used);

    return out;
}


/* ---- the figures -------------------------------------------------------- */


static const char  *outcome_cols[] = { "allowed", "denied", "public", NULL };
static const char  *count_col[] = { "count", NULL };


/*
 * {"distinct":n, "capped":bool, "other":{cols}, "rows":[...]}: every
 * tracked key, most counted first; a composite key is split into the
 * fields f1 and f2.
 */
static json_t *
table_json(rtab_t *t, const char *f1, const char *f2, const char **cols)
{
    int             c;
    char           *sep;
    json_t         *rows, *row, *other;
    rtab_entry_t  **a, **e;

    rows = json_array();
    a = rtab_sorted(t, 0);

    for (e = a; e && *e; e++) {
        row = json_object();
        sep = f2 ? memchr((*e)->key, REPORT_SEP, (*e)->len) : NULL;

        if (sep) {
            json_object_set_new(row, f1, json_stringn((*e)->key,
                                                      sep - (*e)->key));
            json_object_set_new(row, f2, sep[1] ? json_string(sep + 1)
                                                : json_null());

        } else {
            json_object_set_new(row, f1, json_string((*e)->key));
        }

        for (c = 0; cols[c]; c++) {
            json_object_set_new(row, cols[c],
                                json_integer((json_int_t) (*e)->n[c]));
        }

        json_array_append_new(rows, row);
    }

    free(a);

    other = json_object();

    for (c = 0; cols[c]; c++) {
        json_object_set_new(other, cols[c],
                            json_integer((json_int_t) t->other[c]));
    }

    return json_pack("{s:I, s:b, s:I, s:o, s:o}",
                     "distinct", (json_int_t) t->used,
                     "capped", t->other_keys > 0,
                     "cap", (json_int_t) t->cap,
                     "other", other, "rows", rows);
}


static json_t *
hours_json(rtab_t *t)
{
    char            hour[32];
    json_t         *rows;
    rtab_entry_t  **a, **e;

    rows = json_array();
    a = rtab_sorted(t, 1);

    for (e = a; e && *e; e++) {
        snprintf(hour, sizeof(hour), "%s:00Z", (*e)->key);
        json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I, s:I}",
            "hour", hour, "allowed", (json_int_t) (*e)->n[OUT_ALLOWED],
            "denied", (json_int_t) (*e)->n[OUT_DENIED],
            "public", (json_int_t) (*e)->n[OUT_PUBLIC],
            "auth_failures", (json_int_t) (*e)->n[OUT_AUTHFAIL]));
    }

    free(a);

    return rows;
}


static json_t *
figures(report_t *rp, json_t *config)
{
    int               i;
    char              now[32], result[COMPLIANCE_VERIFY_MSG_LEN + 300];
    json_t           *f, *files, *chain, *status;
    time_t            t;
    struct tm         tm;
    report_totals_t  *tot;

    tot = &rp->tot;

    t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);

    files = json_array();

    for (i = 0; i < rp->naudit; i++) {
        json_array_append_new(files, json_string(rp->audit[i]));
    }

    if (rp->chain == NULL) {
        chain = json_pack("{s:b, s:n, s:s}", "checked", 0, "ok",
                          "result", "not checked (no --key)");

    } else {
        if (rp->verify_failed) {
            snprintf(result, sizeof(result), "FAILED: %s", rp->verify_msg);

        } else {
            i = snprintf(result, sizeof(result), "OK %" PRIu64 " records",
                         rp->verify.records);

            if (rp->naudit > 1) {
                snprintf(result + i, sizeof(result) - i, " in %d files",
                         rp->naudit);
            }
        }

        chain = json_pack("{s:b, s:b, s:s, s:I}", "checked", 1, "ok",
                          !rp->verify_failed, "result", result,
                          "records_verified",
                          (json_int_t) rp->verify.records);

        if (rp->verify_failed) {
            json_object_set_new(chain, "records_after_failure",
                json_integer((json_int_t) (tot->lines
                                           - rp->verify_stopped_at)));
        }

        if (rp->verify_note[0]) {
            json_object_set_new(chain, "note",
                                json_string(rp->verify_note));
        }
    }

    status = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
                       "1xx", (json_int_t) tot->status[0],
                       "2xx", (json_int_t) tot->status[1],
                       "3xx", (json_int_t) tot->status[2],
                       "4xx", (json_int_t) tot->status[3],
                       "5xx", (json_int_t) tot->status[4],
                       "other", (json_int_t) tot->status[5]);

    f = json_pack("{s:s, s:s, s:s, s:s}", "report", "compliance-report",
                  "version", COMPLIANCE_VERSION, "generated", now,
                  "format", rp->format);

    json_object_set_new(f, "inputs", json_pack("{s:o, s:s?, s:s?, s:s?}",
        "audit", files, "config", rp->config, "from", rp->from_s,
        "to", rp->to_s));

    json_object_set_new(f, "period", tot->in_period
        ? json_pack("{s:s, s:s}", "first", tot->first, "last", tot->last)
        : json_pack("{s:n, s:n}", "first", "last"));

    json_object_set_new(f, "totals", json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "lines", (json_int_t) tot->lines,
        "records", (json_int_t) tot->records,
        "malformed_lines", (json_int_t) tot->malformed,
        "bad_timestamps", (json_int_t) tot->bad_time,
        "before_from", (json_int_t) tot->before,
        "after_to", (json_int_t) tot->after,
        "in_period", (json_int_t) tot->in_period,
        "requests", (json_int_t) tot->requests,
        "allowed", (json_int_t) tot->outcome[OUT_ALLOWED],
        "denied", (json_int_t) tot->outcome[OUT_DENIED],
        "public", (json_int_t) tot->outcome[OUT_PUBLIC],
        "auth_failures", (json_int_t) tot->auth_failures,
        "forbidden", (json_int_t) tot->forbidden,
        "rate_limited", (json_int_t) tot->rate_limited,
        "alerts", (json_int_t) tot->alerts,
        "gaps", (json_int_t) tot->gaps,
        "lost_records", (json_int_t) tot->lost_records,
        "sensitive", (json_int_t) tot->sensitive,
        "deprecated", (json_int_t) tot->deprecated,
        "credential_uses", (json_int_t) tot->credential_uses));

    json_object_set_new(f, "status_classes", status);
    json_object_set_new(f, "events",
                        table_json(&rp->events, "event", NULL, count_col));
    json_object_set_new(f, "requests_per_hour", hours_json(&rp->hours));
    json_object_set_new(f, "hours_table", json_pack("{s:I, s:b}",
        "cap", (json_int_t) rp->hours.cap,
        "capped", rp->hours.other_keys > 0));
    json_object_set_new(f, "refusal_reasons",
                        table_json(&rp->reasons, "reason", NULL, count_col));
    json_object_set_new(f, "auth_failures_by_client",
                        table_json(&rp->clients, "client_ip", NULL,
                                   count_col));
    json_object_set_new(f, "rate_limited_by_key",
                        table_json(&rp->limited, "kind", "key", count_col));
    json_object_set_new(f, "sensitive_operations",
                        table_json(&rp->sensitive, "principal", "operation",
                                   outcome_cols));
    json_object_set_new(f, "deprecated_by_principal",
                        table_json(&rp->deprecated, "principal", "endpoint",
                                   count_col));
    json_object_set_new(f, "upstream_credentials",
                        table_json(&rp->credentials, "credential_id",
                                   "upstream_host", outcome_cols));
    json_object_set_new(f, "upstream_host_recorded",
                        json_boolean(tot->upstream_host_seen > 0));
    json_object_set_new(f, "principals",
                        table_json(&rp->principals, "principal", NULL,
                                   outcome_cols));
    json_object_set_new(f, "alerts",
                        table_json(&rp->alerts, "reason", NULL, count_col));
    json_object_set_new(f, "chain", chain);
    json_object_set_new(f, "config", config ? config : json_null());

    return f;
}


static int
write_json(FILE *fp, json_t *f)
{
    if (json_dumpf(f, fp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
        return -1;
    }

    return fputc('\n', fp) == EOF ? -1 : 0;
}


/* ---- HTML and Markdown ------------------------------------------------ */


typedef struct {
    const char    *key;        /* member of the figures */
    const char    *title;
    const char    *anchor;
    const char    *what;
    const char    *cols[6];    /* row fields; NULL-terminated */
    const char    *heads[6];
} section_t;


static const section_t  sections[] = {
    { "auth_failures_by_client", "Authentication failures by client",
      "auth-clients",
      "Records with event auth_failure (401), by client_ip.",
      { "client_ip", "count", NULL }, { "client", "failures", NULL } },
    { "rate_limited_by_key", "429s by key", "rate-limited",
      "Records with event rate_limited (429), by key_id, else the "
      "principal, else the client address.",
      { "kind", "key", "count", NULL }, { "by", "key", "429s", NULL } },
    { "refusal_reasons", "Refusals by reason", "reasons",
      "Denied requests (auth_failure, forbidden, rate_limited) by reason.",
      { "reason", "count", NULL }, { "reason", "requests", NULL } },
    { "sensitive_operations", "Sensitive operations", "sensitive",
      "Records of severity high (compliance_audit_sensitive locations), "
      "by principal and operation (method, resource type, path).",
      { "principal", "operation", "allowed", "denied", NULL },
      { "principal", "operation", "allowed", "denied", NULL } },
    { "deprecated_by_principal", "Deprecated-endpoint use", "deprecated",
      "Records with \"deprecated\": true, by principal and endpoint.",
      { "principal", "endpoint", "count", NULL },
      { "principal", "endpoint", "requests", NULL } },
    { "upstream_credentials", "Upstream credential use (processor "
      "inventory)", "credentials",
      "Records with a credential_id (the vault credential injected "
      "upstream), by credential and upstream host.",
      { "credential_id", "upstream_host", "allowed", "denied", NULL },
      { "credential", "upstream host", "allowed", "denied", NULL } },
    { "principals", "Requests by principal", "principals",
      "Requests by user_id (authenticated and refused).",
      { "principal", "allowed", "denied", "public", NULL },
      { "principal", "allowed", "denied", "public", NULL } },
    { "alerts", "Alerts", "alerts",
      "Records with event alert (lockouts, certificate expiry), by reason.",
      { "reason", "count", NULL }, { "reason", "alerts", NULL } },
    { "events", "Records by event", "events",
      "Every record of the period by its event field.",
      { "event", "count", NULL }, { "event", "records", NULL } },
};


static const char  *total_names[][2] = {
    { "in_period", "records in the period" },
    { "requests", "requests" },
    { "allowed", "allowed" },
    { "denied", "denied" },
    { "public", "public" },
    { "auth_failures", "authentication failures (401)" },
    { "forbidden", "forbidden (403 and other refusals)" },
    { "rate_limited", "rate limited (429)" },
    { "sensitive", "sensitive operations" },
    { "deprecated", "deprecated-endpoint requests" },
    { "credential_uses", "upstream credential uses" },
    { "alerts", "alerts" },
    { "gaps", "gap records" },
    { "lost_records", "lost records (from gap records)" },
    { "lines", "lines read" },
    { "records", "records read" },
    { "malformed_lines", "malformed lines (skipped)" },
    { "bad_timestamps", "records without a valid timestamp (skipped)" },
    { "before_from", "records before --from" },
    { "after_to", "records at or after --to" },
    { NULL, NULL }
};


static void
html_esc(FILE *fp, const char *s)
{
    for ( /* void */ ; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", fp);
            break;
        case '>':
            fputs("&gt;", fp);
            break;
        case '&':
            fputs("&amp;", fp);
            break;
        case '"':
            fputs("&quot;", fp);
            break;
        case '\'':
            fputs("&#39;", fp);
            break;
        default:
            fputc(*s, fp);
        }
    }
}


static void
md_esc(FILE *fp, const char *s)
{
    for ( /* void */ ; s && *s; s++) {
        if (*s == '\n' || *s == '\r') {
            fputc(' ', fp);

        } else if (*s == '<') {
            fputs("&lt;", fp);

        } else if (*s == '>') {
            fputs("&gt;", fp);

        } else if (*s == '&') {
            fputs("&amp;", fp);

        } else {
            if (strchr("\\`*_[]|#", *s)) {
                fputc('\\', fp);
            }

            fputc(*s, fp);
        }
    }
}


/* a cell as text: string, integer, or "(not recorded)" for null */
static const char *
cell(json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) {
        return json_string_value(v);
    }

    if (json_is_integer(v)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }

    if (json_is_true(v)) {
        return "yes";
    }

    if (json_is_false(v)) {
        return "no";
    }

    return "(not recorded)";
}


static json_int_t
num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}


/* hours since the epoch of "YYYY-MM-DDTHH:00Z" */
static int64_t
hour_of(json_t *row)
{
    int          ok;
    int64_t      ms;
    const char  *h;

    h = json_string_value(json_object_get(row, "hour"));
    ms = h ? parse_time(h, strlen(h), &ok) : 0;

    return ms / 3600000;
}


#define CHART_W       1160
#define CHART_H       240
#define CHART_LEFT    60
#define CHART_BOTTOM  30
#define CHART_MAX     REPORT_CHART_DAYS


/*
 * Stacked bars of the hourly rows: cols are the stacked fields.  The
 * range from the first to the last hour is split into at most
 * CHART_MAX buckets of whole hours.
 */
static void
svg_chart(FILE *fp, json_t *hours, const char **cols, const char **colors,
    const char *title)
{
    int         c, ncols;
    char        label[40];
    json_t     *row;
    size_t      i, nb, b;
    int64_t     h0, h1, per, h;
    uint64_t   *sum, max, v, y, bh;
    double      bw, x;
    time_t      tt;
    struct tm   tm;

    for (ncols = 0; cols[ncols]; ncols++) { /* void */ }

    if (json_array_size(hours) == 0) {
        fprintf(fp, "<p>No requests in the period.</p>\n");
        return;
    }

    h0 = hour_of(json_array_get(hours, 0));
    h1 = hour_of(json_array_get(hours, json_array_size(hours) - 1));
    per = (h1 - h0) / CHART_MAX + 1;
    nb = (size_t) ((h1 - h0) / per + 1);

    sum = calloc(nb * ncols, sizeof(uint64_t));

    if (sum == NULL) {
        return;
    }

    json_array_foreach(hours, i, row) {
        b = (size_t) ((hour_of(row) - h0) / per);

        for (c = 0; c < ncols && b < nb; c++) {
            sum[b * ncols + c] += (uint64_t) num(row, cols[c]);
        }
    }

    max = 1;

    for (b = 0; b < nb; b++) {
        v = 0;

        for (c = 0; c < ncols; c++) {
            v += sum[b * ncols + c];
        }

        max = v > max ? v : max;
    }

    fprintf(fp, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"", CHART_W, CHART_H, CHART_W, CHART_H);
    html_esc(fp, title);
    fprintf(fp, "\">\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
            "fill=\"#fafafa\"/>\n", CHART_W, CHART_H);

    bw = (double) (CHART_W - CHART_LEFT - 10) / nb;

    for (b = 0; b < nb; b++) {
        x = CHART_LEFT + b * bw;
        y = CHART_H - CHART_BOTTOM;

        for (c = 0; c < ncols; c++) {
            v = sum[b * ncols + c];

            if (v == 0) {
                continue;
            }

            bh = v * (CHART_H - CHART_BOTTOM - 20) / max;
            bh = bh ? bh : 1;
            y -= bh;
            tt = (time_t) ((h0 + (int64_t) b * per) * 3600);
            gmtime_r(&tt, &tm);
            strftime(label, sizeof(label), "%Y-%m-%d %H:00", &tm);
            fprintf(fp, "<rect x=\"%.2f\" y=\"%" PRIu64 "\" width=\"%.2f\" "
                    "height=\"%" PRIu64 "\" fill=\"%s\"><title>%s %s: %"
                    PRIu64 "</title></rect>\n", x, y,
                    bw > 2 ? bw - 1 : bw, bh, colors[c], label, cols[c], v);
        }
    }

    /* axes: zero, the maximum, the first and the last bucket */
    fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"#333\"/>\n", CHART_LEFT, CHART_H - CHART_BOTTOM,
            CHART_W - 10, CHART_H - CHART_BOTTOM);
    fprintf(fp, "<line x1=\"%d\" y1=\"20\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"#333\"/>\n", CHART_LEFT, CHART_LEFT,
            CHART_H - CHART_BOTTOM);
    fprintf(fp, "<text x=\"%d\" y=\"24\" font-size=\"12\" "
            "text-anchor=\"end\">%" PRIu64 "</text>\n", CHART_LEFT - 4, max);
    fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
            "text-anchor=\"end\">0</text>\n", CHART_LEFT - 4,
            CHART_H - CHART_BOTTOM);

    for (h = 0; h < 2; h++) {
        tt = (time_t) ((h ? h0 + (int64_t) (nb - 1) * per : h0) * 3600);
        gmtime_r(&tt, &tm);
        strftime(label, sizeof(label), "%Y-%m-%d %H:00Z", &tm);
        fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
                "text-anchor=\"%s\">%s</text>\n",
                h ? CHART_W - 10 : CHART_LEFT, CHART_H - 10,
                h ? "end" : "start", label);
    }

    fprintf(fp, "</svg>\n<figcaption>");
    html_esc(fp, title);
    fprintf(fp, " (bars of %" PRId64 " hour%s; max %" PRIu64 "). ", per,
            per > 1 ? "s" : "", max);

    for (c = 0; c < ncols; c++) {
        fprintf(fp, "<span class=\"key\" style=\"background:%s\"></span>%s ",
                colors[c], cols[c]);
    }

    fprintf(fp, "</figcaption></figure>\n");

    free(sum);
}


/* the rows of a table section, the top REPORT_TOP and the rest summed */
static void
html_table(FILE *fp, json_t *f, const section_t *sc)
{
    int          c, ncount;
    char         buf[32];
    json_t      *t, *rows, *row, *other;
    size_t       i, n;
    json_int_t   rest[6];

    t = json_object_get(f, sc->key);
    rows = json_object_get(t, "rows");
    other = json_object_get(t, "other");

    fprintf(fp, "<section id=\"%s\"><h2>", sc->anchor);
    html_esc(fp, sc->title);
    fprintf(fp, "</h2>\n<p>");
    html_esc(fp, sc->what);
    fprintf(fp, " Distinct: <b>%" JSON_INTEGER_FORMAT "</b>.</p>\n",
            num(t, "distinct"));

    n = json_array_size(rows);

    if (n == 0) {
        fprintf(fp, "<p>None in the period.</p></section>\n");
        return;
    }

    fprintf(fp, "<table><tr>");

    for (c = 0; sc->heads[c]; c++) {
        fprintf(fp, "<th>");
        html_esc(fp, sc->heads[c]);
        fprintf(fp, "</th>");
    }

    fprintf(fp, "</tr>\n");
    memset(rest, 0, sizeof(rest));
    ncount = 0;

    json_array_foreach(rows, i, row) {
        if (i >= REPORT_TOP) {
            for (c = 0; sc->cols[c]; c++) {
                if (json_is_integer(json_object_get(row, sc->cols[c]))) {
                    rest[c] += num(row, sc->cols[c]);
                }
            }

            ncount++;
            continue;
        }

        fprintf(fp, "<tr>");

        for (c = 0; sc->cols[c]; c++) {
            fprintf(fp, json_is_integer(json_object_get(row, sc->cols[c]))
                        ? "<td class=\"n\">" : "<td>");
            html_esc(fp, cell(json_object_get(row, sc->cols[c]), buf,
                              sizeof(buf)));
            fprintf(fp, "</td>");
        }

        fprintf(fp, "</tr>\n");
    }

    if (ncount || json_is_true(json_object_get(t, "capped"))) {
        fprintf(fp, "<tr class=\"rest\"><td>%d more%s</td>", ncount,
                json_is_true(json_object_get(t, "capped"))
                ? " + keys past the table cap" : "");

        for (c = 1; sc->cols[c]; c++) {
            if (json_object_get(other, sc->cols[c])) {
                fprintf(fp, "<td class=\"n\">%" JSON_INTEGER_FORMAT "</td>",
                        rest[c] + num(other, sc->cols[c]));

            } else {
                fprintf(fp, "<td></td>");
            }
        }

        fprintf(fp, "</tr>\n");
    }

    fprintf(fp, "</table></section>\n");
}


static const char  *html_style =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left;"
    "vertical-align:top}"
    "th{background:#eee}td.n{text-align:right;font-variant-numeric:"
    "tabular-nums}tr.rest td{font-style:italic;color:#555}"
    ".ok{background:#e8f5e9;border:2px solid #2e7d32;padding:.6em}"
    ".bad{background:#ffebee;border:2px solid #c62828;padding:.6em}"
    ".none{background:#f5f5f5;border:2px solid #999;padding:.6em}"
    ".gap{color:#c62828;font-weight:bold}.pass{color:#2e7d32}"
    ".key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 1em}"
    "figure{margin:0 0 1.5em}code{background:#f3f3f3;padding:0 .2em}";


static void
html_config(FILE *fp, json_t *cfg)
{
    char         buf[32];
    json_t      *rows, *row, *v, *crit;
    size_t       i, j;
    const char  *st;

    fprintf(fp, "<section id=\"config\"><h2>Configuration (nginx -T)"
            "</h2>\n<p>Files: ");

    json_array_foreach(json_object_get(cfg, "files"), i, v) {
        fprintf(fp, "%s<code>", i ? ", " : "");
        html_esc(fp, json_string_value(v));
        fprintf(fp, "</code>");
    }

    fprintf(fp, ".</p>\n<h3>log_formats writing query strings, "
            "Authorization or cookies raw</h3>\n");

    rows = json_object_get(cfg, "log_formats_raw");

    fprintf(fp, "<p>%" JSON_INTEGER_FORMAT " log_format%s checked, "
            "<b>%zu</b> writ%s raw request data.</p>\n",
            num(cfg, "log_formats_checked"),
            num(cfg, "log_formats_checked") == 1 ? "" : "s",
            json_array_size(rows), json_array_size(rows) == 1 ? "es" : "e");

    if (json_array_size(rows)) {
        fprintf(fp, "<table><tr><th>log_format</th><th>variables</th>"
                "<th>used by an access_log</th><th>where</th></tr>\n");

        json_array_foreach(rows, i, row) {
            fprintf(fp, "<tr><td>");
            html_esc(fp, json_string_value(json_object_get(row, "name")));
            fprintf(fp, "</td><td>");

            json_array_foreach(json_object_get(row, "variables"), j, v) {
                fprintf(fp, "%s<code>", j ? " " : "");
                html_esc(fp, json_string_value(v));
                fprintf(fp, "</code>");
            }

            fprintf(fp, "</td><td>%s</td><td>",
                    json_is_true(json_object_get(row, "used_by_access_log"))
                    ? "yes" : "no");
            html_esc(fp, json_string_value(json_object_get(row, "file")));
            fprintf(fp, ":%" JSON_INTEGER_FORMAT "</td></tr>\n",
                    num(row, "line"));
        }

        fprintf(fp, "</table>\n");
    }

    fprintf(fp, "<h3>Posture mapped to criteria</h3>\n");

    if (!json_is_true(json_object_get(cfg, "compliance_used"))) {
        fprintf(fp, "<p>No http block uses a compliance directive: the "
                "checks do not apply.</p>\n");
    }

    fprintf(fp, "<table><tr><th>check</th><th>status</th><th>gaps</th>"
            "<th>passes</th><th>SOC 2</th><th>PCI-DSS 4.0</th>"
            "<th>HIPAA</th><th>GDPR</th><th>what / where</th></tr>\n");

    json_array_foreach(json_object_get(cfg, "posture"), i, row) {
        st = json_string_value(json_object_get(row, "status"));
        crit = json_object_get(row, "criteria");

        fprintf(fp, "<tr><td><code>%s</code></td><td class=\"%s\">%s</td>"
                "<td class=\"n\">%s</td>",
                json_string_value(json_object_get(row, "check")),
                strcmp(st, "gap") == 0 ? "gap"
                : strcmp(st, "pass") == 0 ? "pass" : "", st,
                cell(json_object_get(row, "gaps"), buf, sizeof(buf)));
        fprintf(fp, "<td class=\"n\">%s</td>",
                cell(json_object_get(row, "passes"), buf, sizeof(buf)));
        fprintf(fp, "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
                json_string_value(json_object_get(crit, "soc2")),
                json_string_value(json_object_get(crit, "pci_dss_4_0")),
                json_string_value(json_object_get(crit, "hipaa")),
                json_string_value(json_object_get(crit, "gdpr")));
        html_esc(fp, json_string_value(json_object_get(row, "what")));

        json_array_foreach(json_object_get(row, "where"), j, v) {
            fprintf(fp, "<br>");
            html_esc(fp, json_string_value(v));
        }

        if (num(row, "gaps") > (json_int_t) j) {
            fprintf(fp, "<br>(and %" JSON_INTEGER_FORMAT " more)",
                    num(row, "gaps") - (json_int_t) j);
        }

        fprintf(fp, "</td></tr>\n");
    }

    fprintf(fp, "</table></section>\n");
}


static void
html_hours(FILE *fp, json_t *hours)
{
    json_t  *row;
    size_t   i;

    fprintf(fp, "<details><summary>Hourly figures (%zu hours with "
            "requests)</summary>\n<table><tr><th>hour (UTC)</th>"
            "<th>allowed</th><th>denied</th><th>public</th>"
            "<th>auth failures</th></tr>\n", json_array_size(hours));

    json_array_foreach(hours, i, row) {
        fprintf(fp, "<tr><td>%s</td><td class=\"n\">%" JSON_INTEGER_FORMAT
                "</td><td class=\"n\">%" JSON_INTEGER_FORMAT "</td>"
                "<td class=\"n\">%" JSON_INTEGER_FORMAT "</td>"
                "<td class=\"n\">%" JSON_INTEGER_FORMAT "</td></tr>\n",
                json_string_value(json_object_get(row, "hour")),
                num(row, "allowed"), num(row, "denied"), num(row, "public"),
                num(row, "auth_failures"));
    }

    fprintf(fp, "</table></details>\n");
}


static int
write_html(FILE *fp, json_t *f)
{
    json_t       *tot, *chain, *in, *v, *period, *hours;
    size_t        i, k;
    const char   *cls;
    const char   *out_cols[] = { "allowed", "denied", "public", NULL };
    const char   *out_colors[] = { "#2e7d32", "#c62828", "#1565c0" };
    const char   *af_cols[] = { "auth_failures", NULL };
    const char   *af_colors[] = { "#ef6c00" };

    tot = json_object_get(f, "totals");
    chain = json_object_get(f, "chain");
    in = json_object_get(f, "inputs");
    period = json_object_get(f, "period");
    hours = json_object_get(f, "requests_per_hour");

    fprintf(fp, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
            "<meta charset=\"utf-8\">\n<title>Compliance evidence report"
            "</title>\n<style>%s</style></head>\n<body>\n"
            "<h1>Compliance evidence report</h1>\n", html_style);

    fprintf(fp, "<p>Generated %s by compliance-report %s from ",
            json_string_value(json_object_get(f, "generated")),
            json_string_value(json_object_get(f, "version")));

    json_array_foreach(json_object_get(in, "audit"), i, v) {
        fprintf(fp, "%s<code>", i ? ", " : "");
        html_esc(fp, json_string_value(v));
        fprintf(fp, "</code>");
    }

    fprintf(fp, ".</p>\n<p>Period: <b>");
    html_esc(fp, cell(json_object_get(period, "first"), NULL, 0));
    fprintf(fp, "</b> to <b>");
    html_esc(fp, cell(json_object_get(period, "last"), NULL, 0));
    fprintf(fp, "</b> (first and last record");

    if (json_is_string(json_object_get(in, "from"))
        || json_is_string(json_object_get(in, "to")))
    {
        fprintf(fp, "; selected: from ");
        html_esc(fp, json_string_value(json_object_get(in, "from")));
        fprintf(fp, " to ");
        html_esc(fp, json_string_value(json_object_get(in, "to")));
    }

    fprintf(fp, ").</p>\n");

    cls = !json_is_true(json_object_get(chain, "checked")) ? "none"
          : json_is_true(json_object_get(chain, "ok")) ? "ok" : "bad";

    fprintf(fp, "<section id=\"chain\"><h2>Chain verification</h2>\n"
            "<p class=\"%s\"><b>", cls);
    html_esc(fp, json_string_value(json_object_get(chain, "result")));
    fprintf(fp, "</b>");

    if (strcmp(cls, "bad") == 0) {
        fprintf(fp, "<br>The records from the bad line on cannot be "
                "trusted; they are still counted below.");
    }

    if (json_object_get(chain, "note")) {
        fprintf(fp, "<br>Note: ");
        html_esc(fp, json_string_value(json_object_get(chain, "note")));
    }

    fprintf(fp, "</p></section>\n");

    fprintf(fp, "<section id=\"totals\"><h2>Totals</h2>\n<table>\n");

    for (k = 0; total_names[k][0]; k++) {
        fprintf(fp, "<tr><th>%s</th><td class=\"n\" id=\"total-%s\">%"
                JSON_INTEGER_FORMAT "</td></tr>\n", total_names[k][1],
                total_names[k][0], num(tot, total_names[k][0]));
    }

    fprintf(fp, "</table>\n<p>Status classes:");

    json_object_foreach(json_object_get(f, "status_classes"), cls, v) {
        fprintf(fp, " %s <b>%" JSON_INTEGER_FORMAT "</b>", cls,
                json_integer_value(v));
    }

    fprintf(fp, ".</p></section>\n");

    fprintf(fp, "<section id=\"per-hour\"><h2>Requests per hour by "
            "outcome</h2>\n<p>allowed: served, authenticated or not "
            "checked (event request, auth_method jwt, api_key or none); "
            "denied: refused (event auth_failure, forbidden, rate_limited);"
            " public: served on a compliance_public location.</p>\n");
    svg_chart(fp, hours, out_cols, out_colors, "Requests per hour");
    html_hours(fp, hours);
    fprintf(fp, "</section>\n<section id=\"auth-time\"><h2>"
            "Authentication failures over time</h2>\n");
    svg_chart(fp, hours, af_cols, af_colors,
              "Authentication failures per hour");
    fprintf(fp, "</section>\n");

    for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
        html_table(fp, f, &sections[k]);

        if (strcmp(sections[k].key, "upstream_credentials") == 0
            && !json_is_true(json_object_get(f, "upstream_host_recorded")))
        {
            fprintf(fp, "<p><b>The audit records of this trail do not carry "
                    "the upstream host</b> (no upstream_host field): map "
                    "each credential_id to its upstream with the vault "
                    "configuration (compliance_upstream_credential).</p>\n");
        }
    }

    if (json_is_object(json_object_get(f, "config"))) {
        html_config(fp, json_object_get(f, "config"));
    }

    fprintf(fp, "<section id=\"limits\"><h2>How to read this report</h2>"
            "\n<p>Tables keep at most %" JSON_INTEGER_FORMAT " distinct "
            "keys each; later keys are counted in the last row. HTML and "
            "Markdown show the top %d rows; the json report has every kept "
            "row. See docs/report.md.</p></section>\n</body></html>\n",
            num(json_object_get(f, "events"), "cap"), REPORT_TOP);

    return ferror(fp) ? -1 : 0;
}


static void
md_table(FILE *fp, json_t *f, const section_t *sc)
{
    int          c, ncount;
    char         buf[32];
    json_t      *t, *rows, *row, *other;
    size_t       i;
    json_int_t   rest[6];

    t = json_object_get(f, sc->key);
    rows = json_object_get(t, "rows");
    other = json_object_get(t, "other");

    fprintf(fp, "## %s\n\n%s Distinct: %" JSON_INTEGER_FORMAT ".\n\n",
            sc->title, sc->what, num(t, "distinct"));

    if (json_array_size(rows) == 0) {
        fprintf(fp, "None in the period.\n\n");
        return;
    }

    for (c = 0; sc->heads[c]; c++) {
        fprintf(fp, "| %s ", sc->heads[c]);
    }

    fprintf(fp, "|\n");

    for (c = 0; sc->heads[c]; c++) {
        fprintf(fp, "|---");
    }

    fprintf(fp, "|\n");
    memset(rest, 0, sizeof(rest));
    ncount = 0;

    json_array_foreach(rows, i, row) {
        if (i >= REPORT_TOP) {
            for (c = 0; sc->cols[c]; c++) {
                if (json_is_integer(json_object_get(row, sc->cols[c]))) {
                    rest[c] += num(row, sc->cols[c]);
                }
            }

            ncount++;
            continue;
        }

        for (c = 0; sc->cols[c]; c++) {
            fprintf(fp, "| ");
            md_esc(fp, cell(json_object_get(row, sc->cols[c]), buf,
                            sizeof(buf)));
            fprintf(fp, " ");
        }

        fprintf(fp, "|\n");
    }

    if (ncount || json_is_true(json_object_get(t, "capped"))) {
        fprintf(fp, "| *%d more%s* ", ncount,
                json_is_true(json_object_get(t, "capped"))
                ? " + keys past the table cap" : "");

        for (c = 1; sc->cols[c]; c++) {
            if (json_object_get(other, sc->cols[c])) {
                fprintf(fp, "| %" JSON_INTEGER_FORMAT " ",
                        rest[c] + num(other, sc->cols[c]));

            } else {
                fprintf(fp, "| ");
            }
        }

        fprintf(fp, "|\n");
    }

    fprintf(fp, "\n");
}


static void
md_config(FILE *fp, json_t *cfg)
{
    json_t      *row, *v, *crit;
    size_t       i, j;

    fprintf(fp, "## Configuration (nginx -T)\n\nFiles:");

    json_array_foreach(json_object_get(cfg, "files"), i, v) {
        fprintf(fp, " ");
        md_esc(fp, json_string_value(v));
    }

    fprintf(fp, "\n\n### log_formats writing query strings, Authorization "
            "or cookies raw\n\n%" JSON_INTEGER_FORMAT " checked, %zu "
            "flagged.\n\n", num(cfg, "log_formats_checked"),
            json_array_size(json_object_get(cfg, "log_formats_raw")));

    if (json_array_size(json_object_get(cfg, "log_formats_raw"))) {
        fprintf(fp, "| log_format | variables | used by an access_log | "
                "where |\n|---|---|---|---|\n");
    }

    json_array_foreach(json_object_get(cfg, "log_formats_raw"), i, row) {
        fprintf(fp, "| ");
        md_esc(fp, json_string_value(json_object_get(row, "name")));
        fprintf(fp, " |");

        json_array_foreach(json_object_get(row, "variables"), j, v) {
            fprintf(fp, " `%s`", json_string_value(v));
        }

        fprintf(fp, " | %s | ",
                json_is_true(json_object_get(row, "used_by_access_log"))
                ? "yes" : "no");
        md_esc(fp, json_string_value(json_object_get(row, "file")));
        fprintf(fp, ":%" JSON_INTEGER_FORMAT " |\n", num(row, "line"));
    }

    fprintf(fp, "\n### Posture mapped to criteria\n\n| check | status | "
            "gaps | passes | SOC 2 | PCI-DSS 4.0 | HIPAA | GDPR | what |\n"
            "|---|---|---|---|---|---|---|---|---|\n");

    json_array_foreach(json_object_get(cfg, "posture"), i, row) {
        crit = json_object_get(row, "criteria");
        fprintf(fp, "| `%s` | %s | %" JSON_INTEGER_FORMAT " | %"
                JSON_INTEGER_FORMAT " | %s | %s | %s | %s | ",
                json_string_value(json_object_get(row, "check")),
                json_string_value(json_object_get(row, "status")),
                num(row, "gaps"), num(row, "passes"),
                json_string_value(json_object_get(crit, "soc2")),
                json_string_value(json_object_get(crit, "pci_dss_4_0")),
                json_string_value(json_object_get(crit, "hipaa")),
                json_string_value(json_object_get(crit, "gdpr")));
        md_esc(fp, json_string_value(json_object_get(row, "what")));

        json_array_foreach(json_object_get(row, "where"), j, v) {
            fprintf(fp, "; ");
            md_esc(fp, json_string_value(v));
        }

        fprintf(fp, " |\n");
    }

    fprintf(fp, "\n");
}


static int
write_md(FILE *fp, json_t *f)
{
    json_t      *tot, *chain, *in, *v, *period, *row;
    size_t       i, k;
    const char  *key;

    tot = json_object_get(f, "totals");
    chain = json_object_get(f, "chain");
    in = json_object_get(f, "inputs");
    period = json_object_get(f, "period");

    fprintf(fp, "# Compliance evidence report\n\nGenerated %s by "
            "compliance-report %s from",
            json_string_value(json_object_get(f, "generated")),
            json_string_value(json_object_get(f, "version")));

    json_array_foreach(json_object_get(in, "audit"), i, v) {
        fprintf(fp, " ");
        md_esc(fp, json_string_value(v));
    }

    fprintf(fp, ".\n\nPeriod: %s to %s",
            cell(json_object_get(period, "first"), NULL, 0),
            cell(json_object_get(period, "last"), NULL, 0));

    if (json_is_string(json_object_get(in, "from"))
        || json_is_string(json_object_get(in, "to")))
    {
        fprintf(fp, " (selected: from ");
        md_esc(fp, json_string_value(json_object_get(in, "from")));
        fprintf(fp, " to ");
        md_esc(fp, json_string_value(json_object_get(in, "to")));
        fprintf(fp, ")");
    }

    fprintf(fp, ".\n\n## Chain verification\n\n**");
    md_esc(fp, json_string_value(json_object_get(chain, "result")));
    fprintf(fp, "**\n\n");

    if (json_object_get(chain, "note")) {
        fprintf(fp, "Note: ");
        md_esc(fp, json_string_value(json_object_get(chain, "note")));
        fprintf(fp, "\n\n");
    }

    fprintf(fp, "## Totals\n\n| figure | count |\n|---|---|\n");

    for (k = 0; total_names[k][0]; k++) {
        fprintf(fp, "| %s | %" JSON_INTEGER_FORMAT " |\n", total_names[k][1],
                num(tot, total_names[k][0]));
    }

    fprintf(fp, "\nStatus classes:");

    json_object_foreach(json_object_get(f, "status_classes"), key, v) {
        fprintf(fp, " %s %" JSON_INTEGER_FORMAT ",", key,
                json_integer_value(v));
    }

    fprintf(fp, "\n\n## Requests per hour by outcome\n\n(The HTML report "
            "charts these.)\n\n| hour (UTC) | allowed | denied | public | "
            "auth failures |\n|---|---|---|---|---|\n");

    json_array_foreach(json_object_get(f, "requests_per_hour"), i, row) {
        fprintf(fp, "| %s | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT
                " | %" JSON_INTEGER_FORMAT " | %" JSON_INTEGER_FORMAT " |\n",
                json_string_value(json_object_get(row, "hour")),
                num(row, "allowed"), num(row, "denied"), num(row, "public"),
                num(row, "auth_failures"));
    }

    fprintf(fp, "\n");

    for (k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
        md_table(fp, f, &sections[k]);

        if (strcmp(sections[k].key, "upstream_credentials") == 0
            && !json_is_true(json_object_get(f, "upstream_host_recorded")))
        {
            fprintf(fp, "**The audit records of this trail do not carry the "
                    "upstream host** (no upstream\\_host field): map each "
                    "credential\\_id to its upstream with the vault "
                    "configuration.\n\n");
        }
    }

    if (json_is_object(json_object_get(f, "config"))) {
        md_config(fp, json_object_get(f, "config"));
    }

    fprintf(fp, "Tables keep at most %d distinct keys each; the top %d rows "
            "are shown (the json report has every kept row).\n",
            REPORT_TABLE_CAP, REPORT_TOP);

    return ferror(fp) ? -1 : 0;
}


static int
opt_time(const char *name, const char *s, int64_t *ms)
{
    int  ok;

    *ms = parse_time(s, strlen(s), &ok);

    if (!ok) {
        fprintf(stderr, "compliance-report: %s \"%s\": not a UTC time "
                "(2026-12-03, 2026-12-03T10:00, 2026-12-03T10:00:00Z)\n",
                name, s);
        return -1;
    }

    return 0;
}


static int
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "compliance-report: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage_to(stderr);

    return 2;
}


static int
parse_args(report_t *rp, int argc, char **argv)
{
    int  i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--audit") == 0) {
            while (i + 1 < argc
                   && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0'))
            {
                if (rp->naudit == REPORT_MAX_AUDIT) {
                    return usage_error("more than 256 audit files", "");
                }

                rp->audit[rp->naudit++] = argv[++i];
            }

            continue;
        }

        if (i + 1 >= argc || strncmp(argv[i], "--", 2) != 0) {
            return usage_error("unknown option or missing value \"%s\"",
                               argv[i]);
        }

        if (strcmp(argv[i], "--config") == 0) {
            rp->config = argv[++i];

        } else if (strcmp(argv[i], "--key") == 0) {
            rp->key = argv[++i];

        } else if (strcmp(argv[i], "--from") == 0) {
            rp->from_s = argv[++i];

        } else if (strcmp(argv[i], "--to") == 0) {
            rp->to_s = argv[++i];

        } else if (strcmp(argv[i], "--format") == 0) {
            rp->format = argv[++i];

        } else if (strcmp(argv[i], "--out") == 0) {
            rp->out = argv[++i];

        } else {
            return usage_error("unknown option \"%s\"", argv[i]);
        }
    }

    if (rp->naudit == 0) {
        return usage_error("%s--audit FILE... is required", "");
    }

    if (rp->out == NULL) {
        return usage_error("%s--out FILE is required", "");
    }

    if (strcmp(rp->format, "html") != 0 && strcmp(rp->format, "json") != 0
        && strcmp(rp->format, "md") != 0)
    {
        return usage_error("--format \"%s\": html, json or md", rp->format);
    }

    if ((rp->from_s && opt_time("--from", rp->from_s, &rp->from_ms) != 0)
        || (rp->to_s && opt_time("--to", rp->to_s, &rp->to_ms) != 0))
    {
        usage_to(stderr);
        return 2;
    }

    if (rp->from_ms != INT64_MIN && rp->to_ms != INT64_MAX
        && rp->from_ms >= rp->to_ms)
    {
        return usage_error("%s--from must be before --to", "");
    }

    return 0;
}


/* the report into a temporary file renamed over --out: never half one */
static int
write_report(report_t *rp, json_t *f)
{
    int    rc;
    FILE  *fp;
    char   tmp[4096];

    if (strcmp(rp->out, "-") == 0) {
        fp = stdout;

    } else {
        if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", rp->out,
                     (long) getpid()) >= (int) sizeof(tmp))
        {
            fprintf(stderr, "compliance-report: --out path too long\n");
            return -1;
        }

        fp = fopen(tmp, "w");

        if (fp == NULL) {
            fprintf(stderr, "compliance-report: cannot write \"%s\": %s\n",
                    tmp, strerror(errno));
            return -1;
        }
    }

    rc = strcmp(rp->format, "json") == 0 ? write_json(fp, f)
         : strcmp(rp->format, "md") == 0 ? write_md(fp, f)
         : write_html(fp, f);

    if (fp == stdout) {
        return (rc != 0 || fflush(fp) != 0) ? -1 : 0;
    }

    if (fclose(fp) != 0 || rc != 0) {
        fprintf(stderr, "compliance-report: cannot write \"%s\": %s\n",
                tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }

    if (rename(tmp, rp->out) != 0) {
        fprintf(stderr, "compliance-report: cannot rename \"%s\" to "
                "\"%s\": %s\n", tmp, rp->out, strerror(errno));
        unlink(tmp);
        return -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int          rc;
    char         err[512];
    u_char       key[COMPLIANCE_SECRET_LEN];
    json_t      *f, *config;
    conf_t       cf;
    report_t    *rp;

    if (argc == 2
        && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
    {
        usage_to(stdout);
        return 0;
    }

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("compliance-report (ngx_http_compliance_module) "
               COMPLIANCE_VERSION "\n");
        return 0;
    }

    rp = calloc(1, sizeof(report_t));

    if (rp == NULL) {
        fprintf(stderr, "compliance-report: out of memory\n");
        return 1;
    }

    rp->format = "html";
    rp->from_ms = INT64_MIN;
    rp->to_ms = INT64_MAX;

    rc = parse_args(rp, argc, argv);

    if (rc != 0) {
        free(rp);
        return rc;
    }

    if (rtab_init(&rp->hours, "hours", REPORT_HOURS_CAP) != 0
        || rtab_init(&rp->events, "events", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->reasons, "reasons", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->clients, "clients", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->limited, "limited", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->sensitive, "sensitive", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->deprecated, "deprecated", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->credentials, "credentials", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->principals, "principals", REPORT_TABLE_CAP) != 0
        || rtab_init(&rp->alerts, "alerts", REPORT_TABLE_CAP) != 0)
    {
        fprintf(stderr, "compliance-report: out of memory\n");
        return 1;
    }

    config = NULL;
    memset(&cf, 0, sizeof(cf));
    rc = 1;

    if (rp->config) {
        if (conf_load(&cf, rp->config) != 0) {
            fprintf(stderr, "compliance-report: --config \"%s\": %s\n",
                    rp->config, cf.err[0] ? cf.err : "out of memory");
            goto done;
        }

        config = conf_report(&cf);
    }

    if (rp->key) {
        if (compliance_secret_load(rp->key, key, NULL, err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "compliance-report: --key: %s\n", err);
            goto done;
        }

        rp->chain = compliance_chain_create(key);
        OPENSSL_cleanse(key, sizeof(key));

        if (rp->chain == NULL) {
            fprintf(stderr, "compliance-report: cannot set up "
                    "HMAC-SHA256\n");
            goto done;
        }

        compliance_verify_init(&rp->verify, rp->chain, NULL, 0, NULL);
    }

    if (read_trail(rp) != 0) {
        goto done;
    }

    f = figures(rp, config);
    config = NULL;

    if (f == NULL) {
        fprintf(stderr, "compliance-report: out of memory\n");
        goto done;
    }

    if (write_report(rp, f) != 0) {
        json_decref(f);
        goto done;
    }

    json_decref(f);

    if (rp->verify_failed) {
        fprintf(stderr, "compliance-report: chain verification FAILED: %s "
                "(the report says so)\n", rp->verify_msg);
        goto done;
    }

    rc = 0;

done:

    json_decref(config);
    conf_free(&cf);

    if (rp->chain) {
        compliance_chain_free(rp->chain);
    }

    rtab_free(&rp->hours);
    rtab_free(&rp->events);
    rtab_free(&rp->reasons);
    rtab_free(&rp->clients);
    rtab_free(&rp->limited);
    rtab_free(&rp->sensitive);
    rtab_free(&rp->deprecated);
    rtab_free(&rp->credentials);
    rtab_free(&rp->principals);
    rtab_free(&rp->alerts);
    free(rp);

    return rc;
}
