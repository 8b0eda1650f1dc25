/*
 * compliance-keygen: creates, lists and revokes API keys in a key file.
 *
 *   compliance-keygen --file F --principal P [--org O] [--scopes a,b]
 *       [--allow CIDRs] [--expires YYYY-MM-DD]
 *   compliance-keygen --file F --list
 *   compliance-keygen --file F --revoke ID
 *   compliance-keygen --file F --rotate ID [--grace 7d] [--expires DATE]
 *
 * Every change is a locked read-modify-write of the whole file, checked
 * with the same parser nginx uses, written to a temporary file and
 * renamed over the original, so nginx never reads a half-written file and
 * two concurrent runs never lose each other's keys.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "compliance_apikey.h"
#include "compliance_io.h"
#include "compliance_version.h"


#define KEYGEN_NAME       "compliance-keygen"
#define KEYGEN_MAX_ARG    2048
#define KEYGEN_ERRLEN     1024
#define KEYGEN_ID_TRIES   16

/* --rotate: the default and the longest grace period */
#define KEYGEN_GRACE_DEFAULT  "7d"
#define KEYGEN_GRACE_MAX      3650
#define KEYGEN_DAY            86400

/* Key files are read by the nginx master; nobody else needs them. */
#define KEYGEN_FILE_MODE  0640


typedef struct {
    const char  *file;
    const char  *principal;
    const char  *org;
    const char  *scopes;
    const char  *allow;
    const char  *expires;
    const char  *revoke;
    const char  *rotate;
    const char  *grace;
    int          list;
} keygen_args_t;


static int keygen_std_fds(void);
static void keygen_usage(void);
static void keygen_usage_to(FILE *fp);
static void keygen_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int keygen_set_once(const char **slot, const char *name,
    const char *value);
static int keygen_parse_args(int argc, char **argv, keygen_args_t *a);
static int keygen_lock(const char *path);
static int keygen_read(const char *path, char **buf, size_t *len,
    struct stat *st, int *exists);
static int keygen_write_all(int fd, const char *p, size_t len);
static int keygen_write(const char *path, const char *buf, size_t len,
    const struct stat *old, int exists);
static int keygen_add_field(char *line, size_t size, const char *name,
    const char *value);
static int keygen_future(const char *expires);
static int keygen_id_arg(const char *option, const char *id);
static int keygen_read_set(const char *path, char **buf, size_t *len,
    struct stat *st, int *exists, compliance_apikey_set_t *set);
static int keygen_new_key(compliance_apikey_set_t *set,
    char text[COMPLIANCE_APIKEY_TEXT_LEN + 1],
    char head[COMPLIANCE_APIKEY_HEAD_LEN + 1]);
static int keygen_show_key(char text[COMPLIANCE_APIKEY_TEXT_LEN + 1],
    const char *head);
static void keygen_line(const char *buf, size_t len, size_t target,
    size_t *start, size_t *next);
static int keygen_generate(const keygen_args_t *a);
static int keygen_list(const keygen_args_t *a);
static int keygen_revoke(const keygen_args_t *a);
static int keygen_grace(const char *s, long long *days);
static void keygen_date(long long t, char *buf, size_t size);
static size_t keygen_set_expires(const char *line, size_t len,
    const char *date, char *out);
static int keygen_new_fields(const compliance_apikey_rec_t *r,
    const char *expires, char *fields, size_t size);
static int keygen_rotate(const keygen_args_t *a);
static int keygen_cmp_line(const void *a, const void *b);
static void keygen_print_commas(const char *s);


/*
 * A closed stdin/stdout/stderr would be reused by the next open(): the
 * key could then land in the lock or temporary file.  Fill the gaps with
 * /dev/null; a closed stdout is an error, the key could not be shown.
 */
static int
keygen_std_fds(void)
{
    int  fd, rc;

    rc = 0;

    for (fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1) {
            continue;
        }

        if (open("/dev/null", O_RDWR) != fd) {
            return -1;
        }

        if (fd == STDOUT_FILENO) {
            rc = -1;
        }
    }

    return rc;
}


static void
keygen_usage(void)
{
    keygen_usage_to(stderr);
}


static void
keygen_usage_to(FILE *fp)
{
    fprintf(fp,
            "usage: " KEYGEN_NAME " --file F --principal P [--org O] "
            "[--scopes a,b]\n"
            "           [--allow CIDR,...] [--expires YYYY-MM-DD]\n"
            "       " KEYGEN_NAME " --file F --list\n"
            "       " KEYGEN_NAME " --file F --revoke ID\n"
            "       " KEYGEN_NAME " --file F --rotate ID [--grace 7d] "
            "[--expires YYYY-MM-DD]\n"
            "       " KEYGEN_NAME " --help | --version\n");
}


static void
keygen_error(const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, KEYGEN_NAME ": ");

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);

    fprintf(stderr, "\n");
}


static int
keygen_set_once(const char **slot, const char *name, const char *value)
{
    if (*slot != NULL) {
        keygen_error("option --%s given twice", name);
        return -1;
    }

    if (strlen(value) > KEYGEN_MAX_ARG) {
        keygen_error("option --%s is too long", name);
        return -1;
    }

    *slot = value;

    return 0;
}


static int
keygen_parse_args(int argc, char **argv, keygen_args_t *a)
{
    int           c, rc;
    const char  **slot, *name;

    static const struct option  opts[] = {
        { "file",      required_argument, NULL, 'f' },
        { "principal", required_argument, NULL, 'p' },
        { "org",       required_argument, NULL, 'o' },
        { "scopes",    required_argument, NULL, 's' },
        { "allow",     required_argument, NULL, 'a' },
        { "expires",   required_argument, NULL, 'e' },
        { "revoke",    required_argument, NULL, 'r' },
        { "rotate",    required_argument, NULL, 'R' },
        { "grace",     required_argument, NULL, 'g' },
        { "list",      no_argument,       NULL, 'l' },
        { "help",      no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(a, 0, sizeof(keygen_args_t));

    /* Long options only: a stray short flag is an error, not a guess. */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {

        case 'f':
            slot = &a->file;
            name = "file";
            break;

        case 'p':
            slot = &a->principal;
            name = "principal";
            break;

        case 'o':
            slot = &a->org;
            name = "org";
            break;

        case 's':
            slot = &a->scopes;
            name = "scopes";
            break;

        case 'a':
            slot = &a->allow;
            name = "allow";
            break;

        case 'e':
            slot = &a->expires;
            name = "expires";
            break;

        case 'r':
            slot = &a->revoke;
            name = "revoke";
            break;

        case 'R':
            slot = &a->rotate;
            name = "rotate";
            break;

        case 'g':
            slot = &a->grace;
            name = "grace";
            break;

        case 'l':
            a->list = 1;
            continue;

        case 'h':
            keygen_usage_to(stdout);
            exit(0);

        default:
            keygen_usage();
            return -1;
        }

        rc = keygen_set_once(slot, name, optarg);
        if (rc != 0) {
            return -1;
        }
    }

    if (optind != argc) {
        keygen_error("unexpected argument");
        keygen_usage();
        return -1;
    }

    if (a->file == NULL) {
        keygen_error("--file is required");
        keygen_usage();
        return -1;
    }

    if (a->list + (a->revoke != NULL) + (a->principal != NULL)
        + (a->rotate != NULL)
        != 1)
    {
        keygen_error("give exactly one of --principal, --list, --revoke, "
                     "--rotate");
        keygen_usage();
        return -1;
    }

    /* a rotated key keeps the old one's identity: nothing to give */
    if (a->rotate && (a->org || a->scopes || a->allow)) {
        keygen_error("--rotate keeps the principal, org, scopes and "
                     "allow-list of the old key: --org, --scopes and "
                     "--allow do not apply");
        return -1;
    }

    if (a->grace && a->rotate == NULL) {
        keygen_error("--grace needs --rotate");
        return -1;
    }

    if (a->principal == NULL && a->rotate == NULL
        && (a->org || a->scopes || a->allow || a->expires))
    {
        keygen_error("--org, --scopes, --allow and --expires need "
                     "--principal");
        return -1;
    }

    return 0;
}


/*
 * Writers lock the directory (compliance_lock_dir): the key file itself
 * is replaced by rename(), so a lock on it would protect the wrong inode,
 * and a lock file would be left behind.
 */
static int
keygen_lock(const char *path)
{
    int   fd;
    char  err[KEYGEN_ERRLEN];

    fd = compliance_lock_dir(path, err, sizeof(err));
    if (fd == -1) {
        keygen_error("%s", err);
    }

    return fd;
}


static int
keygen_read(const char *path, char **buf, size_t *len, struct stat *st,
    int *exists)
{
    int      fd;
    char    *p;
    size_t   size, n;
    ssize_t  r;

    *buf = NULL;
    *len = 0;
    *exists = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        if (errno == ENOENT) {
            return 0;
        }

        keygen_error("cannot open \"%s\": %s", path, strerror(errno));
        return -1;
    }

    if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
        keygen_error("\"%s\" is not a regular file", path);
        close(fd);
        return -1;
    }

    if (st->st_size > COMPLIANCE_APIKEY_MAX_FILE) {
        keygen_error("\"%s\" is larger than %d bytes", path,
                     COMPLIANCE_APIKEY_MAX_FILE);
        close(fd);
        return -1;
    }

    size = (size_t) st->st_size + 1;

    p = malloc(size + 1);
    if (p == NULL) {
        keygen_error("out of memory");
        close(fd);
        return -1;
    }

    n = 0;
    r = 0;

    while (n < size) {
        r = read(fd, p + n, size - n);

        if (r == -1 && errno == EINTR) {
            continue;
        }

        if (r <= 0) {
            break;
        }

        n += (size_t) r;
    }

    close(fd);

    if (r == -1 || n == size) {
        keygen_error("cannot read \"%s\": %s", path,
                     r == -1 ? strerror(errno) : "file grew while read");
        free(p);
        return -1;
    }

    p[n] = '\0';

    *buf = p;
    *len = n;
    *exists = 1;

    return 0;
}


static int
keygen_write_all(int fd, const char *p, size_t len)
{
    size_t   n;
    ssize_t  w;

    for (n = 0; n < len; n += (size_t) w) {
        w = write(fd, p + n, len - n);

        if (w == -1) {
            if (errno == EINTR) {
                w = 0;
                continue;
            }

            return -1;
        }
    }

    return 0;
}


static int
keygen_write(const char *path, const char *buf, size_t len,
    const struct stat *old, int exists)
{
    int   fd, dfd;
    char  tmp[4096], dir[4096];

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path)
        >= (int) sizeof(tmp))
    {
        keygen_error("file name is too long");
        return -1;
    }

    fd = mkstemp(tmp);
    if (fd == -1) {
        keygen_error("cannot create a temporary file next to \"%s\": %s",
                     path, strerror(errno));
        return -1;
    }

    if (fchmod(fd, KEYGEN_FILE_MODE) == -1) {
        keygen_error("cannot chmod \"%s\": %s", tmp, strerror(errno));
        goto failed;
    }

    /*
     * Keep the group nginx reads the file through; failing is harmless
     * when run by the owner, who already is in the file's group.
     */
    if (exists && fchown(fd, (uid_t) -1, old->st_gid) == -1) {
        /* void */
    }

    if (keygen_write_all(fd, buf, len) != 0) {
        keygen_error("cannot write \"%s\": %s", tmp, strerror(errno));
        goto failed;
    }

    if (fsync(fd) == -1) {
        keygen_error("cannot fsync \"%s\": %s", tmp, strerror(errno));
        goto failed;
    }

    if (close(fd) == -1) {
        fd = -1;
        keygen_error("cannot close \"%s\": %s", tmp, strerror(errno));
        goto failed;
    }

    fd = -1;

    if (rename(tmp, path) == -1) {
        keygen_error("cannot rename \"%s\" to \"%s\": %s", tmp, path,
                     strerror(errno));
        goto failed;
    }

    /* Make the rename itself durable. */
    snprintf(dir, sizeof(dir), "%s", path);

    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd != -1) {
        (void) fsync(dfd);
        close(dfd);
    }

    return 0;

failed:

    if (fd != -1) {
        close(fd);
    }

    unlink(tmp);

    return -1;
}


/* Appends " name=value" after checking it exactly as nginx will. */
static int
keygen_add_field(char *line, size_t size, const char *name,
    const char *value)
{
    char    field[KEYGEN_MAX_ARG + 32], err[KEYGEN_ERRLEN];
    size_t  n, len;

    if (value == NULL) {
        return 0;
    }

    len = (size_t) snprintf(field, sizeof(field), "%s=%s", name, value);
    if (len >= sizeof(field)) {
        keygen_error("--%s is too long", name);
        return -1;
    }

    if (compliance_apikey_check_field((u_char *) field, len, err,
                                      sizeof(err))
        != 0)
    {
        keygen_error("invalid --%s: %s", name, err);
        return -1;
    }

    n = strlen(line);

    if (n + 1 + len + 1 >= size) {
        keygen_error("record is too long");
        return -1;
    }

    line[n] = ' ';
    memcpy(line + n + 1, field, len + 1);

    return 0;
}


/* Where the 1-based line target of buf starts, and where the next one. */
static void
keygen_line(const char *buf, size_t len, size_t target, size_t *start,
    size_t *next)
{
    size_t       line;
    const char  *p, *end, *eol;

    p = buf;
    end = buf + len;

    for (line = 1; p < end; line++) {
        eol = memchr(p, '\n', (size_t) (end - p));
        eol = eol ? eol + 1 : end;

        if (line == target) {
            break;
        }

        p = eol;
    }

    *start = (size_t) (p - buf);
    *next = (p < end) ? (size_t) (eol - buf) : len;
}


/* The parser accepts past dates; creating a dead key is a mistake. */
static int
keygen_future(const char *expires)
{
    long long  t;

    if (expires == NULL) {
        return 0;
    }

    if (compliance_apikey_parse_date((u_char *) expires, strlen(expires), &t)
        != 0
        || t <= (long long) time(NULL))
    {
        keygen_error("--expires %s is not in the future", expires);
        return -1;
    }

    return 0;
}


/* Not echoed: a pasted key text here would leak its secret. */
static int
keygen_id_arg(const char *option, const char *id)
{
    if (strlen(id) != COMPLIANCE_APIKEY_ID_LEN
        || strspn(id, "abcdefghijklmnopqrstuvwxyz234567")
           != COMPLIANCE_APIKEY_ID_LEN)
    {
        keygen_error("--%s needs a key id (%d characters of [a-z2-7]) "
                     "as shown by --list", option, COMPLIANCE_APIKEY_ID_LEN);
        return -1;
    }

    return 0;
}


/*
 * The file of an existing key (--revoke, --rotate), read and parsed:
 * on success *buf holds the text and set the records (both for the
 * caller to free).
 */
static int
keygen_read_set(const char *path, char **buf, size_t *len, struct stat *st,
    int *exists, compliance_apikey_set_t *set)
{
    char  err[KEYGEN_ERRLEN];

    if (keygen_read(path, buf, len, st, exists) != 0) {
        return -1;
    }

    if (!*exists) {
        keygen_error("\"%s\" does not exist", path);
        return -1;
    }

    if (compliance_apikey_set_parse(set, (u_char *) *buf, *len, err,
                                    sizeof(err))
        != 0)
    {
        keygen_error("\"%s\": %s; not changed", path, err);
        return -1;
    }

    return 0;
}


/* A key whose id no record of set has; text is the caller's to wipe. */
static int
keygen_new_key(compliance_apikey_set_t *set,
    char text[COMPLIANCE_APIKEY_TEXT_LEN + 1],
    char head[COMPLIANCE_APIKEY_HEAD_LEN + 1])
{
    int  i;

    for (i = 0; i < KEYGEN_ID_TRIES; i++) {
        if (compliance_apikey_generate(text, head) != 0) {
            keygen_error("random generator failed");
            return -1;
        }

        if (compliance_apikey_set_find(set, (u_char *) head,
                                       COMPLIANCE_APIKEY_ID_LEN)
            == NULL)
        {
            return 0;
        }
    }

    keygen_error("could not find a free key id");

    return -1;
}


/*
 * The key is shown once, only after its record is safely stored, and
 * with write(2) so no stdio buffer keeps a copy we cannot wipe.
 */
static int
keygen_show_key(char text[COMPLIANCE_APIKEY_TEXT_LEN + 1], const char *head)
{
    text[COMPLIANCE_APIKEY_TEXT_LEN] = '\n';

    if (keygen_write_all(STDOUT_FILENO, text, COMPLIANCE_APIKEY_TEXT_LEN + 1)
        != 0)
    {
        keygen_error("cannot write the key to stdout: %s; revoke key %.*s",
                     strerror(errno), COMPLIANCE_APIKEY_ID_LEN, head);
        return -1;
    }

    return 0;
}


static int
keygen_generate(const keygen_args_t *a)
{
    int                      lock, exists, rc, i;
    char                    *buf, *nbuf, err[KEYGEN_ERRLEN];
    char                     text[COMPLIANCE_APIKEY_TEXT_LEN + 1];
    char                     head[COMPLIANCE_APIKEY_HEAD_LEN + 1];
    char                     fields[COMPLIANCE_APIKEY_MAX_LINE + 1];
    size_t                   len, nlen, flen;
    struct stat              st;
    compliance_apikey_set_t  set;

    rc = 1;
    buf = NULL;
    nbuf = NULL;
    fields[0] = '\0';

    if (keygen_add_field(fields, sizeof(fields), "principal", a->principal)
        || keygen_add_field(fields, sizeof(fields), "org", a->org)
        || keygen_add_field(fields, sizeof(fields), "scopes", a->scopes)
        || keygen_add_field(fields, sizeof(fields), "allow", a->allow)
        || keygen_add_field(fields, sizeof(fields), "expires", a->expires))
    {
        return 1;
    }

    if (keygen_future(a->expires) != 0) {
        return 1;
    }

    lock = keygen_lock(a->file);
    if (lock == -1) {
        return 1;
    }

    if (keygen_read(a->file, &buf, &len, &st, &exists) != 0) {
        goto done;
    }

    if (compliance_apikey_set_parse(&set, (u_char *) buf, len, err,
                                    sizeof(err))
        != 0)
    {
        keygen_error("\"%s\": %s; not changed", a->file, err);
        goto done;
    }

    i = keygen_new_key(&set, text, head);
    compliance_apikey_set_free(&set);

    if (i != 0) {
        goto done;
    }

    flen = strlen(fields);
    nlen = len + 1 + COMPLIANCE_APIKEY_HEAD_LEN + flen + 1;

    nbuf = malloc(nlen + 1);
    if (nbuf == NULL) {
        keygen_error("out of memory");
        goto done;
    }

    if (len) {
        memcpy(nbuf, buf, len);
    }

    nlen = len;

    /* A last line without newline must not swallow the new record. */
    if (len && buf[len - 1] != '\n') {
        nbuf[nlen++] = '\n';
    }

    memcpy(nbuf + nlen, head, COMPLIANCE_APIKEY_HEAD_LEN);
    nlen += COMPLIANCE_APIKEY_HEAD_LEN;
    memcpy(nbuf + nlen, fields, flen);
    nlen += flen;
    nbuf[nlen++] = '\n';

    /* What is written must load in nginx: check the whole result. */
    if (compliance_apikey_set_parse(&set, (u_char *) nbuf, nlen, err,
                                    sizeof(err))
        != 0)
    {
        keygen_error("refusing to write an invalid file: %s", err);
        goto done;
    }

    compliance_apikey_set_free(&set);

    if (keygen_write(a->file, nbuf, nlen, &st, exists) != 0) {
        goto done;
    }

    if (keygen_show_key(text, head) != 0) {
        goto done;
    }

    rc = 0;

done:

    OPENSSL_cleanse(text, sizeof(text));
    free(buf);
    free(nbuf);
    close(lock);

    return rc;
}


static int
keygen_cmp_line(const void *a, const void *b)
{
    const compliance_apikey_rec_t  *ra, *rb;

    ra = *(const compliance_apikey_rec_t * const *) a;
    rb = *(const compliance_apikey_rec_t * const *) b;

    return (ra->line > rb->line) - (ra->line < rb->line);
}


/* Scopes are stored space-separated; show them as they are written. */
static void
keygen_print_commas(const char *s)
{
    for ( /* void */ ; *s; s++) {
        putchar(*s == ' ' ? ',' : *s);
    }
}


static int
keygen_list(const keygen_args_t *a)
{
    int                              exists, rc;
    char                            *buf, err[KEYGEN_ERRLEN], date[16];
    size_t                           len, i;
    time_t                           t;
    struct tm                        tm;
    struct stat                      st;
    compliance_apikey_set_t          set;
    const compliance_apikey_rec_t  **order, *r;

    if (keygen_read(a->file, &buf, &len, &st, &exists) != 0) {
        return 1;
    }

    if (!exists) {
        keygen_error("\"%s\" does not exist", a->file);
        return 1;
    }

    rc = compliance_apikey_set_parse(&set, (u_char *) buf, len, err,
                                     sizeof(err));
    free(buf);

    if (rc != 0) {
        keygen_error("\"%s\": %s", a->file, err);
        return 1;
    }

    order = calloc(set.n ? set.n : 1, sizeof(*order));
    if (order == NULL) {
        compliance_apikey_set_free(&set);
        keygen_error("out of memory");
        return 1;
    }

    for (i = 0; i < set.n; i++) {
        order[i] = &set.recs[i];
    }

    qsort(order, set.n, sizeof(*order), keygen_cmp_line);

    /*
     * A labelled table, one key a line.  Never the salt or the hash: they
     * would help an offline attack.
     */
    printf("ID\tPRINCIPAL\tORG\tSCOPES\tALLOW\tEXPIRES\n");

    for (i = 0; i < set.n; i++) {
        r = order[i];

        printf("%s\t%s\t%s\t", r->id, r->principal,
               r->org_len ? r->org : "-");

        if (r->scopes_len) {
            keygen_print_commas(r->scopes);

        } else {
            putchar('-');
        }

        printf("\t%s\t", r->allow.n ? r->allow_text : "-");

        if (r->expires) {
            t = (time_t) r->expires;
            gmtime_r(&t, &tm);
            strftime(date, sizeof(date), "%Y-%m-%d", &tm);
            printf("%s\n", date);

        } else {
            printf("-\n");
        }
    }

    free(order);
    compliance_apikey_set_free(&set);

    if (fflush(stdout) != 0) {
        keygen_error("cannot write to stdout: %s", strerror(errno));
        return 1;
    }

    return 0;
}


static int
keygen_revoke(const keygen_args_t *a)
{
    int                             lock, exists, rc;
    char                           *buf, *out;
    char                            err[KEYGEN_ERRLEN];
    size_t                          len, olen, target, start, next;
    struct stat                     st;
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *r;

    rc = 1;
    buf = NULL;
    out = NULL;

    if (keygen_id_arg("revoke", a->revoke) != 0) {
        return 1;
    }

    lock = keygen_lock(a->file);
    if (lock == -1) {
        return 1;
    }

    if (keygen_read_set(a->file, &buf, &len, &st, &exists, &set) != 0) {
        goto done;
    }

    r = compliance_apikey_set_find(&set, (u_char *) a->revoke,
                                   COMPLIANCE_APIKEY_ID_LEN);
    target = r ? r->line : 0;

    compliance_apikey_set_free(&set);

    if (target == 0) {
        keygen_error("no key with id \"%s\" in \"%s\"", a->revoke, a->file);
        goto done;
    }

    out = malloc(len + 1);
    if (out == NULL) {
        keygen_error("out of memory");
        goto done;
    }

    /* Copy every line but the record's, comments and blanks included. */
    keygen_line(buf, len, target, &start, &next);

    memcpy(out, buf, start);
    memcpy(out + start, buf + next, len - next);
    olen = len - (next - start);

    if (compliance_apikey_set_parse(&set, (u_char *) out, olen, err,
                                    sizeof(err))
        != 0)
    {
        keygen_error("refusing to write an invalid file: %s", err);
        goto done;
    }

    compliance_apikey_set_free(&set);

    if (keygen_write(a->file, out, olen, &st, exists) != 0) {
        goto done;
    }

    fprintf(stderr, KEYGEN_NAME ": revoked key %s; reload nginx to apply\n",
            a->revoke);

    rc = 0;

done:

    free(buf);
    free(out);
    close(lock);

    return rc;
}


/* "<n>d" or "<n>w": days, 1 to KEYGEN_GRACE_MAX */
static int
keygen_grace(const char *s, long long *days)
{
    char       *end;
    long long   n;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    n = strtoll(s, &end, 10);

    if (errno || end == s || end[0] == '\0' || end[1] != '\0') {
        return -1;
    }

    if (*end == 'w' && n <= KEYGEN_GRACE_MAX / 7) {
        n *= 7;

    } else if (*end != 'd') {
        return -1;
    }

    if (n < 1 || n > KEYGEN_GRACE_MAX) {
        return -1;
    }

    *days = n;

    return 0;
}


static void
keygen_date(long long t, char *buf, size_t size)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;
    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}


/*
 * The record line (without its LF) with its expires= field set to date:
 * an old one taken out, the new one after the last field and before a
 * trailing comment.  out has room for len + sizeof(" expires=") + 10 + 1.
 * Returns the length written.
 */
static size_t
keygen_set_expires(const char *line, size_t len, const char *date,
    char *out)
{
    size_t       n, i;
    const char  *p, *end, *f, *fend, *comment, *last;

    end = line + len;

    if (end > line && end[-1] == '\r') {
        end--;
    }

    /* the comment: a field that starts with "#", after the hash field */
    comment = end;
    last = line;

    for (p = line, i = 0; p < end; i++) {
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == end) {
            break;
        }

        if (i >= 2 && *p == '#') {
            comment = p;
            break;
        }

        while (p < end && *p != ' ' && *p != '\t') {
            p++;
        }

        last = p;
    }

    /* every field up to the last one, each with the blanks before it */
    n = 0;

    for (p = line; p < last; p = fend) {
        f = p;

        while (f < last && (*f == ' ' || *f == '\t')) {
            f++;
        }

        fend = f;

        while (fend < last && *fend != ' ' && *fend != '\t') {
            fend++;
        }

        if (fend - f > 8 && memcmp(f, "expires=", 8) == 0) {
            continue;
        }

        memcpy(out + n, p, (size_t) (fend - p));
        n += (size_t) (fend - p);
    }

    n += (size_t) sprintf(out + n, " expires=%s", date);

    if (comment < end) {
        out[n++] = ' ';
        memcpy(out + n, comment, (size_t) (end - comment));
        n += (size_t) (end - comment);
    }

    return n;
}


/* the fields of the new key: the old one's identity, the new expiry */
static int
keygen_new_fields(const compliance_apikey_rec_t *r, const char *expires,
    char *fields, size_t size)
{
    char    scopes[COMPLIANCE_APIKEY_MAX_SCOPES + 1];
    size_t  i;

    fields[0] = '\0';

    /* stored space-separated, written with commas */
    for (i = 0; i < r->scopes_len && i < COMPLIANCE_APIKEY_MAX_SCOPES; i++) {
        scopes[i] = (r->scopes[i] == ' ') ? ',' : r->scopes[i];
    }

    scopes[i] = '\0';

    return keygen_add_field(fields, size, "principal", r->principal)
           || keygen_add_field(fields, size, "org",
                               r->org_len ? r->org : NULL)
           || keygen_add_field(fields, size, "scopes",
                               r->scopes_len ? scopes : NULL)
           || keygen_add_field(fields, size, "allow",
                               r->allow.n ? r->allow_text : NULL)
           || keygen_add_field(fields, size, "expires", expires);
}


/*
 * A new key for the same principal, org, scopes and allow-list; the old
 * record gets expires= the first midnight (UTC) at least the grace
 * period away, unless it expires sooner already.  Both records are
 * written in one file change, the new one right after the old with a
 * comment saying what replaced what.
 */
static int
keygen_rotate(const keygen_args_t *a)
{
    int                             lock, exists, rc, i;
    char                           *buf, *out;
    char                            err[KEYGEN_ERRLEN], date[16], today[16];
    char                            text[COMPLIANCE_APIKEY_TEXT_LEN + 1];
    char                            head[COMPLIANCE_APIKEY_HEAD_LEN + 1];
    char                            fields[COMPLIANCE_APIKEY_MAX_LINE + 1];
    char                            principal[COMPLIANCE_APIKEY_MAX_VALUE
                                              + 1];
    const char                     *grace;
    int                             sooner;
    size_t                          len, olen, target, flen, size;
    size_t                          start, next;
    long long                       days, now, until;
    struct stat                     st;
    compliance_apikey_set_t         set;
    const compliance_apikey_rec_t  *r, *nr;

    rc = 1;
    buf = NULL;
    out = NULL;
    text[0] = '\0';

    if (keygen_id_arg("rotate", a->rotate) != 0) {
        return 1;
    }

    grace = a->grace ? a->grace : KEYGEN_GRACE_DEFAULT;

    if (keygen_grace(grace, &days) != 0) {
        keygen_error("invalid --grace \"%s\": a number of days (\"7d\") "
                     "or weeks (\"2w\"), 1 day to %d days", grace,
                     KEYGEN_GRACE_MAX);
        return 1;
    }

    now = (long long) time(NULL);

    /* the key works until 00:00 UTC of its expires= date */
    until = (now + days * KEYGEN_DAY + KEYGEN_DAY - 1)
            / KEYGEN_DAY * KEYGEN_DAY;

    if (keygen_future(a->expires) != 0) {
        return 1;
    }

    lock = keygen_lock(a->file);
    if (lock == -1) {
        return 1;
    }

    if (keygen_read_set(a->file, &buf, &len, &st, &exists, &set) != 0) {
        goto done;
    }

    r = compliance_apikey_set_find(&set, (u_char *) a->rotate,
                                   COMPLIANCE_APIKEY_ID_LEN);
    if (r == NULL) {
        compliance_apikey_set_free(&set);
        keygen_error("no key with id \"%s\" in \"%s\"", a->rotate, a->file);
        goto done;
    }

    if (r->expires && r->expires <= now) {
        compliance_apikey_set_free(&set);
        keygen_error("key %s has expired already: make a new key with "
                     "--principal", a->rotate);
        goto done;
    }

    /* never longer than it had: a grace period only shortens a life */
    sooner = (r->expires && r->expires < until);

    if (sooner) {
        until = r->expires;
    }

    target = r->line;
    snprintf(principal, sizeof(principal), "%s", r->principal);

    if (keygen_new_fields(r, a->expires, fields, sizeof(fields)) != 0) {
        compliance_apikey_set_free(&set);
        goto done;
    }

    i = keygen_new_key(&set, text, head);
    compliance_apikey_set_free(&set);

    if (i != 0) {
        goto done;
    }

    keygen_date(until, date, sizeof(date));
    keygen_date(now, today, sizeof(today));

    flen = strlen(fields);
    size = len + sizeof(" expires=YYYY-MM-DD") + 1
           + sizeof("# xxxxxxxxxxxx replaces xxxxxxxxxxxx: rotated "
                    "YYYY-MM-DD, xxxxxxxxxxxx expires YYYY-MM-DD\n")
           + COMPLIANCE_APIKEY_HEAD_LEN + flen + 2;

    out = malloc(size);
    if (out == NULL) {
        keygen_error("out of memory");
        goto done;
    }

    /* the lines before the record, the three new lines, the rest */
    keygen_line(buf, len, target, &start, &next);

    memcpy(out, buf, start);
    olen = start;

    olen += keygen_set_expires(buf + start, next - start
                               - (buf[next - 1] == '\n'), date, out + olen);

    olen += (size_t) sprintf(out + olen, "\n# %.*s replaces %s: "
                             "rotated %s, %s expires %s\n",
                             COMPLIANCE_APIKEY_ID_LEN, head, a->rotate,
                             today, a->rotate, date);

    memcpy(out + olen, head, COMPLIANCE_APIKEY_HEAD_LEN);
    olen += COMPLIANCE_APIKEY_HEAD_LEN;
    memcpy(out + olen, fields, flen);
    olen += flen;
    out[olen++] = '\n';

    memcpy(out + olen, buf + next, len - next);
    olen += len - next;

    /* What is written must load in nginx, with both keys as meant. */
    if (compliance_apikey_set_parse(&set, (u_char *) out, olen, err,
                                    sizeof(err))
        != 0)
    {
        keygen_error("refusing to write an invalid file: %s", err);
        goto done;
    }

    r = compliance_apikey_set_find(&set, (u_char *) a->rotate,
                                   COMPLIANCE_APIKEY_ID_LEN);
    nr = compliance_apikey_set_find(&set, (u_char *) head,
                                    COMPLIANCE_APIKEY_ID_LEN);

    if (r == NULL || nr == NULL || r->expires != until
        || strcmp(r->principal, nr->principal) != 0
        || strcmp(r->org, nr->org) != 0
        || strcmp(r->scopes, nr->scopes) != 0
        || strcmp(r->allow_text, nr->allow_text) != 0)
    {
        compliance_apikey_set_free(&set);
        keygen_error("refusing to write: the rotated records do not read "
                     "back as meant");
        goto done;
    }

    compliance_apikey_set_free(&set);

    if (keygen_write(a->file, out, olen, &st, exists) != 0) {
        goto done;
    }

    if (keygen_show_key(text, head) != 0) {
        goto done;
    }

    fprintf(stderr, KEYGEN_NAME ": new key %.*s for principal \"%s\", "
            "with the org, scopes and allow-list of %s%s%s\n",
            COMPLIANCE_APIKEY_ID_LEN, head, principal, a->rotate,
            a->expires ? ", expires " : "", a->expires ? a->expires : "");
    if (sooner) {
        fprintf(stderr, KEYGEN_NAME ": old key %s expires %s (its own "
                "date, sooner than the grace period %s); reload nginx to "
                "apply\n", a->rotate, date, grace);

    } else {
        fprintf(stderr, KEYGEN_NAME ": old key %s expires %s (grace %s); "
                "reload nginx to apply\n", a->rotate, date, grace);
    }

    rc = 0;

done:

    OPENSSL_cleanse(text, sizeof(text));
    free(buf);
    free(out);
    close(lock);

    return rc;
}


int
main(int argc, char **argv)
{
    keygen_args_t  a;

    if (keygen_std_fds() != 0) {
        keygen_error("stdin, stdout and stderr must be open");
        return 1;
    }

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("compliance-keygen (ngx_http_compliance_module) "
               COMPLIANCE_VERSION "\n");
        return 0;
    }

    if (keygen_parse_args(argc, argv, &a) != 0) {
        return 2;
    }

    if (a.list) {
        return keygen_list(&a);
    }

    if (a.revoke) {
        return keygen_revoke(&a);
    }

    if (a.rotate) {
        return keygen_rotate(&a);
    }

    return keygen_generate(&a);
}
