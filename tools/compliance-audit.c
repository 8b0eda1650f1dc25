/*
 * compliance-audit: checks and summarises the audit trail.
 *
 *   compliance-audit verify --key K [--prev HEX | --continuation]
 *       [--checkpoints LOG] FILE...
 *   compliance-audit summary FILE
 *
 * verify checks one file, or a rotated series oldest first (audit.jsonl.2
 * audit.jsonl.1 audit.jsonl): the chain runs on from each file into the
 * next.  It exits 0 printing "OK <n> records", 1 naming the first bad
 * line (and its file) on stderr, 2 on a usage or setup error.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "compliance_chain.h"
#include "compliance_secret.h"
#include "compliance_verify.h"
#include "compliance_version.h"


#define AUDIT_LINE_MAX   COMPLIANCE_VERIFY_LINE_MAX
#define AUDIT_TOP_IPS    10

#define AUDIT_CHECKPOINT  "compliance audit checkpoint seq="


typedef struct {
    const char    *key;
    json_int_t     n;
} audit_count_t;


static void usage(void);
static void usage_to(FILE *fp);
static int cp_cmp(const void *a, const void *b);
static int load_checkpoints(const char *path, compliance_checkpoints_t *cps);
static int verify(int argc, char **argv);
static int verify_file(compliance_verify_t *v, const char *file,
    unsigned long *lines);
static void count(json_t *map, const char *key);
static int count_cmp(const void *a, const void *b);
static int print_counts(const char *title, json_t *map, size_t limit);
static const char *str_field(json_t *rec, const char *name);
static int summary(int argc, char **argv);


static void
usage(void)
{
    usage_to(stderr);
}


static void
usage_to(FILE *fp)
{
    fprintf(fp,
        "usage: compliance-audit verify --key KEYFILE "
        "[--prev HEX | --continuation] [--checkpoints LOG] FILE...\n"
        "       compliance-audit summary FILE\n"
        "       compliance-audit --help | --version\n");
}


static int
cp_cmp(const void *a, const void *b)
{
    const compliance_checkpoint_t  *x = a, *y = b;

    if (x->seq != y->seq) {
        return x->seq < y->seq ? -1 : 1;
    }

    return x->line < y->line ? -1 : (x->line > y->line);
}


/*
 * Collects "compliance audit checkpoint seq=<n> chain=<hex>" from an
 * error log or syslog file, whatever the prefix of the line.
 */
static int
load_checkpoints(const char *path, compliance_checkpoints_t *cps)
{
    FILE                *fp;
    char                *buf, *p, *end;
    size_t               cap;
    ssize_t              n;
    uint64_t             seq;
    unsigned long        lineno;
    compliance_checkpoint_t  *cp;

    fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "compliance-audit: cannot open \"%s\": %s\n", path,
                strerror(errno));
        return -1;
    }

    buf = NULL;
    cap = 0;
    lineno = 0;
    cps->path = path;

    while ((n = getline(&buf, &cap, fp)) != -1) {
        lineno++;

        p = strstr(buf, AUDIT_CHECKPOINT);
        if (p == NULL) {
            continue;
        }

        p += sizeof(AUDIT_CHECKPOINT) - 1;

        errno = 0;
        seq = strtoull(p, &end, 10);

        if (end == p || *p < '0' || *p > '9' || errno != 0
            || strncmp(end, " chain=", 7) != 0
            || !compliance_verify_hex_valid((u_char *) end + 7,
                          strspn(end + 7, "0123456789abcdef")))
        {
            fprintf(stderr, "compliance-audit: %s:%lu: malformed "
                    "checkpoint ignored\n", path, lineno);
            continue;
        }

        if (cps->n == cps->size) {
            cps->size = cps->size ? 2 * cps->size : 64;
            cp = realloc(cps->cp, cps->size * sizeof(compliance_checkpoint_t));

            if (cp == NULL) {
                fprintf(stderr, "compliance-audit: out of memory\n");
                free(buf);
                fclose(fp);
                return -1;
            }

            cps->cp = cp;
        }

        cp = &cps->cp[cps->n++];
        cp->seq = seq;
        cp->line = lineno;
        memcpy(cp->chain, end + 7, COMPLIANCE_CHAIN_HEX_LEN);
    }

    if (ferror(fp)) {
        fprintf(stderr, "compliance-audit: cannot read \"%s\": %s\n", path,
                strerror(errno));
        free(buf);
        fclose(fp);
        return -1;
    }

    free(buf);
    fclose(fp);

    if (cps->n) {
        qsort(cps->cp, cps->n, sizeof(compliance_checkpoint_t), cp_cmp);
    }

    return 0;
}


/* the records of one file of the series; 0, 1 (bad record) or 2 */
static int
verify_file(compliance_verify_t *v, const char *file, unsigned long *lines)
{
    int             rc;
    FILE           *fp;
    char           *buf;
    size_t          cap;
    ssize_t         n;
    unsigned long   lineno;

    fp = (strcmp(file, "-") == 0) ? stdin : fopen(file, "r");

    if (fp == NULL) {
        fprintf(stderr, "compliance-audit: cannot open \"%s\": %s\n", file,
                strerror(errno));
        return 2;
    }

    buf = NULL;
    cap = 0;
    lineno = 0;
    rc = 0;

    while ((n = getline(&buf, &cap, fp)) != -1) {
        lineno++;

        rc = compliance_verify_line(v, (u_char *) buf, (size_t) n, lineno,
                                    NULL);

        if (v->note[0]) {
            fprintf(stderr, "note: %s\n", v->note);
            v->note[0] = '\0';
        }

        if (rc != 0) {
            fprintf(stderr, "%s\n  (in \"%s\")\n", v->msg, file);
            rc = 1;
            break;
        }
    }

    if (rc == 0 && ferror(fp)) {
        fprintf(stderr, "compliance-audit: cannot read \"%s\": %s\n", file,
                strerror(errno));
        rc = 2;
    }

    free(buf);

    if (fp != stdin) {
        fclose(fp);
    }

    *lines = lineno;

    return rc;
}


static int
verify(int argc, char **argv)
{
    int                        i, rc, nfiles, first, continuation;
    char                       err[512];
    u_char                     key[COMPLIANCE_SECRET_LEN];
    u_char                     prev_opt[COMPLIANCE_CHAIN_HEX_LEN];
    const char                *key_path, *prev_hex, *cp_path, *last_file;
    unsigned long              lines;
    compliance_chain_t        *c;
    compliance_verify_t        v;
    compliance_checkpoints_t   cps;

    key_path = NULL;
    prev_hex = NULL;
    cp_path = NULL;
    nfiles = 0;
    first = 0;
    continuation = 0;

    for (i = 2; i < argc; i++) {
        if (nfiles == 0 && strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key_path = argv[++i];

        } else if (nfiles == 0 && strcmp(argv[i], "--prev") == 0
                   && i + 1 < argc)
        {
            prev_hex = argv[++i];

        } else if (nfiles == 0 && strcmp(argv[i], "--checkpoints") == 0
                   && i + 1 < argc)
        {
            cp_path = argv[++i];

        } else if (nfiles == 0 && strcmp(argv[i], "--continuation") == 0) {
            continuation = 1;

        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "compliance-audit: unknown option \"%s\" (the "
                    "options come before the files)\n", argv[i]);
            usage();
            return 2;

        } else {
            if (nfiles++ == 0) {
                first = i;
            }
        }
    }

    if (key_path == NULL || nfiles == 0) {
        usage();
        return 2;
    }

    if (prev_hex && continuation) {
        fprintf(stderr, "compliance-audit: --prev and --continuation "
                "exclude each other\n");
        usage();
        return 2;
    }

    if (prev_hex) {
        if (!compliance_verify_hex_valid((const u_char *) prev_hex,
                                         strlen(prev_hex)))
        {
            fprintf(stderr, "compliance-audit: --prev must be 64 lowercase "
                    "hex digits\n");
            return 2;
        }

        memcpy(prev_opt, prev_hex, COMPLIANCE_CHAIN_HEX_LEN);
    }

    memset(&cps, 0, sizeof(cps));

    if (cp_path && load_checkpoints(cp_path, &cps) != 0) {
        free(cps.cp);
        return 2;
    }

    if (compliance_secret_load(key_path, key, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "compliance-audit: %s\n", err);
        free(cps.cp);
        return 2;
    }

    c = compliance_chain_create(key);
    OPENSSL_cleanse(key, sizeof(key));

    if (c == NULL) {
        fprintf(stderr, "compliance-audit: cannot set up HMAC-SHA256\n");
        free(cps.cp);
        return 2;
    }

    compliance_verify_init(&v, c, prev_hex ? prev_opt : NULL, continuation,
                           &cps);
    lines = 0;
    rc = 0;
    last_file = argv[first];

    /* the series in order: the chain runs on from one file into the next */
    for (i = first; i < argc && rc == 0; i++) {
        last_file = argv[i];
        rc = verify_file(&v, argv[i], &lines);
    }

    if (rc == 0 && compliance_verify_finish(&v, last_file, lines) != 0) {
        fprintf(stderr, "%s\n", v.msg);
        rc = 1;
    }

    if (rc == 0) {
        printf("OK %" PRIu64 " records", v.records);

        if (nfiles > 1) {
            printf(" in %d files", nfiles);
        }

        if (v.unanchored) {
            printf(" (head unanchored at seq %" PRIu64 ")", v.unanchored);
        }

        printf("\n");
    }

    compliance_chain_free(c);
    free(cps.cp);

    return rc;
}


static void
count(json_t *map, const char *key)
{
    json_t  *v;

    v = json_object_get(map, key);

    if (v) {
        json_integer_set(v, json_integer_value(v) + 1);

    } else {
        json_object_set_new(map, key, json_integer(1));
    }
}


/* most frequent first, then by name, so the output is stable */
static int
count_cmp(const void *a, const void *b)
{
    const audit_count_t  *x = a, *y = b;

    if (x->n != y->n) {
        return x->n > y->n ? -1 : 1;
    }

    return strcmp(x->key, y->key);
}


static int
print_counts(const char *title, json_t *map, size_t limit)
{
    size_t          i, n;
    json_t         *v;
    const char     *key;
    audit_count_t  *a;

    printf("%s:\n", title);

    n = json_object_size(map);

    if (n == 0) {
        printf("  (none)\n");
        return 0;
    }

    a = malloc(n * sizeof(audit_count_t));
    if (a == NULL) {
        fprintf(stderr, "compliance-audit: out of memory\n");
        return -1;
    }

    i = 0;

    json_object_foreach(map, key, v) {
        a[i].key = key;
        a[i].n = json_integer_value(v);
        i++;
    }

    qsort(a, n, sizeof(audit_count_t), count_cmp);

    if (limit && n > limit) {
        n = limit;
    }

    for (i = 0; i < n; i++) {
        printf("  %-40s %" JSON_INTEGER_FORMAT "\n", a[i].key, a[i].n);
    }

    free(a);

    return 0;
}


/* a string field, "-" when it is missing, null or empty */
static const char *
str_field(json_t *rec, const char *name)
{
    json_t  *v;

    v = json_object_get(rec, name);

    if (json_is_string(v) && json_string_length(v) > 0) {
        return json_string_value(v);
    }

    return "-";
}


static int
summary(int argc, char **argv)
{
    int            rc;
    FILE          *fp;
    char          *buf, cls[8];
    json_t        *rec, *v, *events, *statuses, *users, *reasons, *ips;
    size_t         cap;
    ssize_t        n;
    uint64_t       records, malformed;
    json_int_t     status;
    const char    *event, *reason;
    json_error_t   jerr;

    if (argc != 3) {
        usage();
        return 2;
    }

    fp = (strcmp(argv[2], "-") == 0) ? stdin : fopen(argv[2], "r");

    if (fp == NULL) {
        fprintf(stderr, "compliance-audit: cannot open \"%s\": %s\n",
                argv[2], strerror(errno));
        return 2;
    }

    events = json_object();
    statuses = json_object();
    users = json_object();
    reasons = json_object();
    ips = json_object();

    rc = 0;

    if (!events || !statuses || !users || !reasons || !ips) {
        fprintf(stderr, "compliance-audit: out of memory\n");
        rc = 2;
        goto done;
    }

    buf = NULL;
    cap = 0;
    records = 0;
    malformed = 0;

    while ((n = getline(&buf, &cap, fp)) != -1) {
        if (n > AUDIT_LINE_MAX) {
            malformed++;
            continue;
        }

        rec = json_loadb(buf, (size_t) n, 0, &jerr);

        if (!json_is_object(rec)) {
            json_decref(rec);
            malformed++;
            continue;
        }

        records++;

        event = str_field(rec, "event");
        count(events, event);

        v = json_object_get(rec, "status");

        if (json_is_integer(v)) {
            status = json_integer_value(v);

            if (status >= 200 && status < 600) {
                snprintf(cls, sizeof(cls), "%dxx", (int) (status / 100));

            } else {
                snprintf(cls, sizeof(cls), "other");
            }

        } else {
            snprintf(cls, sizeof(cls), "other");
        }

        count(statuses, cls);
        count(users, str_field(rec, "user_id"));

        reason = str_field(rec, "reason");

        if (strcmp(reason, "-") != 0) {
            count(reasons, reason);
        }

        if (strcmp(event, "auth_failure") == 0) {
            count(ips, str_field(rec, "client_ip"));
        }

        json_decref(rec);
    }

    free(buf);

    if (ferror(fp)) {
        fprintf(stderr, "compliance-audit: cannot read \"%s\": %s\n",
                argv[2], strerror(errno));
        rc = 2;
        goto done;
    }

    printf("records: %" PRIu64 "\n", records);

    if (malformed) {
        printf("malformed lines: %" PRIu64 "\n", malformed);
        fprintf(stderr, "compliance-audit: %" PRIu64 " lines are not JSON "
                "records and were skipped\n", malformed);
    }

    if (print_counts("events", events, 0) != 0
        || print_counts("status classes", statuses, 0) != 0
        || print_counts("users", users, 0) != 0
        || print_counts("reasons", reasons, 0) != 0
        || print_counts("top client_ip (auth_failure)", ips, AUDIT_TOP_IPS)
           != 0)
    {
        rc = 2;
    }

done:

    json_decref(events);
    json_decref(statuses);
    json_decref(users);
    json_decref(reasons);
    json_decref(ips);

    if (fp != stdin) {
        fclose(fp);
    }

    return rc;
}


int
main(int argc, char **argv)
{
    if (argc == 2
        && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
    {
        usage_to(stdout);
        return 0;
    }

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("compliance-audit (ngx_http_compliance_module) "
               COMPLIANCE_VERSION "\n");
        return 0;
    }

    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        return verify(argc, argv);
    }

    if (argc >= 2 && strcmp(argv[1], "summary") == 0) {
        return summary(argc, argv);
    }

    usage();
    return 2;
}
