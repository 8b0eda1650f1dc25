/*
 * compliance-vault: manages the encrypted upstream-credential vault.
 *
 *   compliance-vault genkey K
 *   compliance-vault --vault F --key K set [--created DATE] NAME
 *                                                  (secret on stdin)
 *   compliance-vault --vault F --key K list
 *   compliance-vault --vault F --key K remove NAME
 *   compliance-vault --vault F --key K rekey --new-key K2
 *
 * Secrets never travel on argv and are never printed; writes are atomic
 * and serialized by flock() on the directory of F.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "compliance_io.h"
#include "compliance_secret.h"
#include "compliance_vault.h"
#include "compliance_version.h"


#define CLI_OK     0
#define CLI_FAIL   1
#define CLI_USAGE  2

#define CLI_ERRLEN  512


typedef struct {
    const char  *vault;
    const char  *key;
    const char  *new_key;
    const char  *created;
    const char  *cmd;
    const char  *arg;
    int          nargs;
} cli_args_t;


static void cli_usage(FILE *f);
static int cli_parse_args(int argc, char **argv, cli_args_t *a);
static int cli_genkey(const char *path);
static int cli_load_key(const char *path, u_char *key);
static int cli_lock(const char *vault);
static int cli_load_vault(const char *path, const u_char *key,
    int create, compliance_vault_t **v);
static int cli_save_vault(const compliance_vault_t *v, const char *path,
    const u_char *key);
static int cli_read_secret(u_char *buf, size_t size, size_t *len);
static int cli_created(const char *arg, uint64_t now, uint64_t *created);
static void cli_time(char *buf, size_t size, uint64_t t);
static int cli_set(const cli_args_t *a, const u_char *key);
static int cli_list(const cli_args_t *a, const u_char *key);
static int cli_remove(const cli_args_t *a, const u_char *key);
static int cli_rekey(const cli_args_t *a, const u_char *key);


static const char  *cli_name = "compliance-vault";


int
main(int argc, char **argv)
{
    int         rc;
    u_char      key[COMPLIANCE_VAULT_KEY_LEN];
    cli_args_t  a;

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("compliance-vault (ngx_http_compliance_module) "
               COMPLIANCE_VERSION "\n");
        return 0;
    }

    rc = cli_parse_args(argc, argv, &a);
    if (rc != CLI_OK) {
        return rc;
    }

    if (strcmp(a.cmd, "genkey") == 0) {
        if (a.nargs != 2 || a.vault || a.key || a.new_key) {
            fprintf(stderr, "%s: usage: %s genkey KEYFILE\n", cli_name,
                    cli_name);
            return CLI_USAGE;
        }

        return cli_genkey(a.arg);
    }

    if (a.vault == NULL || a.key == NULL) {
        fprintf(stderr, "%s: %s needs --vault FILE and --key KEYFILE\n",
                cli_name, a.cmd);
        return CLI_USAGE;
    }

    if (cli_load_key(a.key, key) != CLI_OK) {
        OPENSSL_cleanse(key, sizeof(key));
        return CLI_FAIL;
    }

    if (strcmp(a.cmd, "set") == 0) {
        rc = cli_set(&a, key);

    } else if (strcmp(a.cmd, "list") == 0) {
        rc = cli_list(&a, key);

    } else if (strcmp(a.cmd, "remove") == 0) {
        rc = cli_remove(&a, key);

    } else {
        rc = cli_rekey(&a, key);
    }

    OPENSSL_cleanse(key, sizeof(key));

    return rc;
}


static void
cli_usage(FILE *f)
{
    fprintf(f,
        "usage: %s genkey KEYFILE\n"
        "       %s --vault FILE --key KEYFILE set [--created DATE] NAME\n"
        "           (the secret read from stdin; DATE: YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM:SSZ, UTC)\n"
        "       %s --vault FILE --key KEYFILE list\n"
        "       %s --vault FILE --key KEYFILE remove NAME\n"
        "       %s --vault FILE --key KEYFILE rekey --new-key KEYFILE2\n",
        cli_name, cli_name, cli_name, cli_name, cli_name);
}


static int
cli_parse_args(int argc, char **argv, cli_args_t *a)
{
    int           i, nopts;
    const char   *arg, **opt;
    const char   *pos[2];

    memset(a, 0, sizeof(cli_args_t));
    nopts = 0;

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_usage(stdout);
            exit(CLI_OK);
        }

        opt = NULL;

        if (strcmp(arg, "--vault") == 0) {
            opt = &a->vault;

        } else if (strcmp(arg, "--key") == 0) {
            opt = &a->key;

        } else if (strcmp(arg, "--new-key") == 0) {
            opt = &a->new_key;

        } else if (strcmp(arg, "--created") == 0) {
            opt = &a->created;
        }

        if (opt) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "%s: %s needs %s\n", cli_name, arg,
                        (opt == &a->created) ? "a date" : "a file name");
                return CLI_USAGE;
            }

            if (*opt) {
                fprintf(stderr, "%s: %s given twice\n", cli_name, arg);
                return CLI_USAGE;
            }

            *opt = argv[++i];
            continue;
        }

        if (arg[0] == '-') {
            fprintf(stderr, "%s: unknown option \"%s\"\n", cli_name, arg);
            cli_usage(stderr);
            return CLI_USAGE;
        }

        /* never echo extra arguments: they may be a misplaced secret */
        if (nopts == 2) {
            fprintf(stderr, "%s: too many arguments (a secret is read from "
                    "stdin, never from the command line)\n", cli_name);
            return CLI_USAGE;
        }

        pos[nopts++] = arg;
    }

    if (nopts == 0) {
        cli_usage(stderr);
        return CLI_USAGE;
    }

    a->cmd = pos[0];
    a->arg = nopts > 1 ? pos[1] : NULL;
    a->nargs = nopts;

    if (strcmp(a->cmd, "genkey") == 0) {
        return CLI_OK;
    }

    if (strcmp(a->cmd, "set") == 0 || strcmp(a->cmd, "remove") == 0) {
        if (nopts != 2) {
            fprintf(stderr, "%s: %s needs one NAME\n", cli_name, a->cmd);
            return CLI_USAGE;
        }

    } else if (strcmp(a->cmd, "list") == 0
               || strcmp(a->cmd, "rekey") == 0)
    {
        if (nopts != 1) {
            fprintf(stderr, "%s: %s takes no arguments (a secret is read "
                    "from stdin, never from the command line)\n", cli_name,
                    a->cmd);
            return CLI_USAGE;
        }

    } else {
        fprintf(stderr, "%s: unknown command \"%s\"\n", cli_name, a->cmd);
        cli_usage(stderr);
        return CLI_USAGE;
    }

    if (a->new_key && strcmp(a->cmd, "rekey") != 0) {
        fprintf(stderr, "%s: --new-key is only for rekey\n", cli_name);
        return CLI_USAGE;
    }

    if (a->created && strcmp(a->cmd, "set") != 0) {
        fprintf(stderr, "%s: --created is only for set\n", cli_name);
        return CLI_USAGE;
    }

    if (strcmp(a->cmd, "rekey") == 0 && a->new_key == NULL) {
        fprintf(stderr, "%s: rekey needs --new-key KEYFILE\n", cli_name);
        return CLI_USAGE;
    }

    if (a->arg
        && !compliance_vault_name_valid((const u_char *) a->arg,
                                        strlen(a->arg)))
    {
        fprintf(stderr, "%s: invalid NAME: use 1..%d characters of "
                "[A-Za-z0-9_.-]\n", cli_name, COMPLIANCE_VAULT_MAX_NAME);
        return CLI_USAGE;
    }

    return CLI_OK;
}


static int
cli_genkey(const char *path)
{
    char         err[CLI_ERRLEN];
    struct stat  st;

    /* a lost key loses the vault: never replace one */
    if (lstat(path, &st) == 0) {
        fprintf(stderr, "%s: \"%s\" already exists; refusing to overwrite "
                "a key\n", cli_name, path);
        return CLI_FAIL;
    }

    if (errno != ENOENT) {
        fprintf(stderr, "%s: cannot check \"%s\": %s\n", cli_name, path,
                strerror(errno));
        return CLI_FAIL;
    }

    if (compliance_secret_generate(path, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", cli_name, err);
        return CLI_FAIL;
    }

    fprintf(stderr, "%s: wrote a new 32-byte key to \"%s\" (mode 0600)\n",
            cli_name, path);

    return CLI_OK;
}


static int
cli_load_key(const char *path, u_char *key)
{
    char      err[CLI_ERRLEN];
    unsigned  mode;

    if (compliance_secret_load(path, key, &mode, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", cli_name, err);
        return CLI_FAIL;
    }

    if (mode & 077) {
        /* the module's words (ngx_http_compliance_warn_file_mode) */
        fprintf(stderr, "%s: warning: key file \"%s\" is accessible by "
                "group or others (mode %04o): chmod 600 it\n", cli_name,
                path, mode & 0777);
    }

    return CLI_OK;
}


/*
 * Writers lock the vault's directory (compliance_lock_dir); the lock is
 * released when the process exits.
 */
static int
cli_lock(const char *vault)
{
    int   fd;
    char  err[CLI_ERRLEN];

    fd = compliance_lock_dir(vault, err, sizeof(err));
    if (fd == -1) {
        fprintf(stderr, "%s: %s\n", cli_name, err);
    }

    return fd;
}


static int
cli_load_vault(const char *path, const u_char *key, int create,
    compliance_vault_t **v)
{
    int   rc;
    char  err[CLI_ERRLEN];

    rc = compliance_vault_load(v, path, key, err, sizeof(err));

    if (rc == COMPLIANCE_VAULT_NOENT && create) {
        *v = compliance_vault_new();
        if (*v == NULL) {
            fprintf(stderr, "%s: out of memory\n", cli_name);
            return CLI_FAIL;
        }

        return CLI_OK;
    }

    if (rc != COMPLIANCE_VAULT_OK) {
        fprintf(stderr, "%s: %s\n", cli_name, err);
        return CLI_FAIL;
    }

    return CLI_OK;
}


static int
cli_save_vault(const compliance_vault_t *v, const char *path,
    const u_char *key)
{
    char  err[CLI_ERRLEN];

    if (compliance_vault_save(v, path, key, err, sizeof(err))
        != COMPLIANCE_VAULT_OK)
    {
        fprintf(stderr, "%s: %s\n", cli_name, err);
        return CLI_FAIL;
    }

    return CLI_OK;
}


/*
 * Reads the whole of stdin (one line from a terminal, echo off) into buf;
 * size is one more than the largest accepted secret plus its newline, so
 * a full buffer means too large.
 */
static int
cli_read_secret(u_char *buf, size_t size, size_t *len)
{
    int             tty, restore;
    size_t          n;
    ssize_t         r;
    struct termios  old, noecho;

    tty = isatty(STDIN_FILENO);
    restore = 0;
    r = 0;

    if (tty) {
        fprintf(stderr, "secret (input hidden, end with Enter): ");

        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            noecho = old;
            noecho.c_lflag &= ~(tcflag_t) ECHO;
            restore = (tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho) == 0);
        }
    }

    n = 0;

    while (n < size) {
        r = read(STDIN_FILENO, buf + n, size - n);

        if (r == -1 && errno == EINTR) {
            continue;
        }

        if (r <= 0) {
            break;
        }

        n += (size_t) r;

        if (tty && buf[n - 1] == '\n') {
            break;
        }
    }

    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    }

    if (tty) {
        fprintf(stderr, "\n");
    }

    if (r == -1) {
        fprintf(stderr, "%s: cannot read the secret from stdin: %s\n",
                cli_name, strerror(errno));
        return CLI_FAIL;
    }

    if (n > 0 && buf[n - 1] == '\n') {
        n--;
    }

    if (n == 0) {
        fprintf(stderr, "%s: refusing an empty secret\n", cli_name);
        return CLI_FAIL;
    }

    if (n > COMPLIANCE_VAULT_MAX_SECRET) {
        fprintf(stderr, "%s: secret is longer than %d bytes\n", cli_name,
                COMPLIANCE_VAULT_MAX_SECRET);
        return CLI_FAIL;
    }

    *len = n;

    return CLI_OK;
}


/* --created: a past date, so an import cannot make a secret look young */
static int
cli_created(const char *arg, uint64_t now, uint64_t *created)
{
    if (compliance_vault_parse_date((const u_char *) arg, strlen(arg),
                                    created)
        != COMPLIANCE_VAULT_OK)
    {
        fprintf(stderr, "%s: invalid --created \"%s\": use YYYY-MM-DD or "
                "YYYY-MM-DDTHH:MM:SSZ (UTC)\n", cli_name, arg);
        return CLI_USAGE;
    }

    if (*created > now) {
        fprintf(stderr, "%s: --created \"%s\" is in the future\n",
                cli_name, arg);
        return CLI_USAGE;
    }

    if (*created == 0) {
        /* 0 means unknown in the file: the epoch itself is a second on */
        *created = 1;
    }

    return CLI_OK;
}


static int
cli_set(const cli_args_t *a, const u_char *key)
{
    int                              rc, lock;
    char                             when[32];
    size_t                           len;
    u_char                           secret[COMPLIANCE_VAULT_MAX_SECRET + 2];
    uint64_t                         now, created, before;
    compliance_vault_t              *v;
    const compliance_vault_entry_t  *e;

    now = (uint64_t) time(NULL);
    created = 0;

    if (a->created && cli_created(a->created, now, &created) != CLI_OK) {
        return CLI_USAGE;
    }

    lock = cli_lock(a->vault);
    if (lock == -1) {
        return CLI_FAIL;
    }

    /* a wrong key is reported before anyone types a secret */
    if (cli_load_vault(a->vault, key, 1, &v) != CLI_OK) {
        close(lock);
        return CLI_FAIL;
    }

    e = compliance_vault_get(v, (const u_char *) a->arg, strlen(a->arg));
    before = e ? e->created : 0;

    len = 0;
    rc = cli_read_secret(secret, sizeof(secret), &len);

    if (rc == CLI_OK) {
        rc = compliance_vault_set(v, (const u_char *) a->arg,
                                  strlen(a->arg), secret, len, now);

        if (rc == COMPLIANCE_VAULT_OK && created) {
            rc = compliance_vault_set_created(v, (const u_char *) a->arg,
                                              strlen(a->arg), created);
        }

        if (rc != COMPLIANCE_VAULT_OK) {
            fprintf(stderr, "%s: cannot set \"%s\": %s\n", cli_name, a->arg,
                    compliance_vault_strerror(rc));
            rc = CLI_FAIL;

        } else {
            rc = cli_save_vault(v, a->vault, key);
        }
    }

    OPENSSL_cleanse(secret, sizeof(secret));

    if (rc == CLI_OK) {
        e = compliance_vault_get(v, (const u_char *) a->arg,
                                 strlen(a->arg));
        cli_time(when, sizeof(when), e->created);

        fprintf(stderr, "%s: set \"%s\" in \"%s\", created %s%s\n",
                cli_name, a->arg, a->vault, when,
                (created == 0 && e->created != now)
                ? (before ? " (the same secret: its age is kept)"
                          : " (the same secret, of unknown age: give "
                            "--created DATE)")
                : "");
    }

    compliance_vault_free(v);
    close(lock);

    return rc;
}


/* UTC, or "unknown" for 0 */
static void
cli_time(char *buf, size_t size, uint64_t t)
{
    time_t     tt;
    struct tm  tm;

    if (t == 0) {
        snprintf(buf, size, "unknown");
        return;
    }

    tt = (time_t) t;

    if (t > (uint64_t) INT64_MAX
        || gmtime_r(&tt, &tm) == NULL
        || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        snprintf(buf, size, "@%llu", (unsigned long long) t);
    }
}


static int
cli_list(const cli_args_t *a, const u_char *key)
{
    char                             when[32], age[32];
    size_t                           i, n;
    uint64_t                         now, secs;
    compliance_vault_t              *v;
    const compliance_vault_entry_t  *e;

    /* writers rename a complete file into place: reading needs no lock */
    if (cli_load_vault(a->vault, key, 0, &v) != CLI_OK) {
        return CLI_FAIL;
    }

    n = compliance_vault_count(v);

    now = (uint64_t) time(NULL);

    /* a labelled table: one header line, then one entry a line */
    printf("NAME\tCREATED\tAGE\n");

    for (i = 0; i < n; i++) {
        e = compliance_vault_entry(v, i);
        cli_time(when, sizeof(when), e->created);

        if (compliance_vault_entry_age(e, now, &secs)) {
            /* whole days: the unit of a rotation policy */
            snprintf(age, sizeof(age), "%llud",
                     (unsigned long long) (secs / 86400));

        } else {
            snprintf(age, sizeof(age), "unknown");
        }

        printf("%s\t%s\t%s\n", (const char *) e->name, when, age);
    }

    compliance_vault_free(v);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the list: %s\n", cli_name,
                strerror(errno));
        return CLI_FAIL;
    }

    return CLI_OK;
}


static int
cli_remove(const cli_args_t *a, const u_char *key)
{
    int                  rc, lock;
    compliance_vault_t  *v;

    lock = cli_lock(a->vault);
    if (lock == -1) {
        return CLI_FAIL;
    }

    if (cli_load_vault(a->vault, key, 0, &v) != CLI_OK) {
        close(lock);
        return CLI_FAIL;
    }

    rc = compliance_vault_remove(v, (const u_char *) a->arg, strlen(a->arg));

    if (rc == COMPLIANCE_VAULT_NOT_FOUND) {
        fprintf(stderr, "%s: no entry named \"%s\" in \"%s\"\n", cli_name,
                a->arg, a->vault);
        rc = CLI_FAIL;

    } else {
        rc = cli_save_vault(v, a->vault, key);
    }

    compliance_vault_free(v);
    close(lock);

    if (rc == CLI_OK) {
        fprintf(stderr, "%s: removed \"%s\" from \"%s\"\n", cli_name,
                a->arg, a->vault);
    }

    return rc;
}


static int
cli_rekey(const cli_args_t *a, const u_char *key)
{
    int                  rc, lock;
    size_t               n;
    u_char               new_key[COMPLIANCE_VAULT_KEY_LEN];
    compliance_vault_t  *v;

    /* the new key must already exist: rekey never invents a key */
    if (cli_load_key(a->new_key, new_key) != CLI_OK) {
        return CLI_FAIL;
    }

    lock = cli_lock(a->vault);
    if (lock == -1) {
        OPENSSL_cleanse(new_key, sizeof(new_key));
        return CLI_FAIL;
    }

    if (cli_load_vault(a->vault, key, 0, &v) != CLI_OK) {
        OPENSSL_cleanse(new_key, sizeof(new_key));
        close(lock);
        return CLI_FAIL;
    }

    if (CRYPTO_memcmp(key, new_key, COMPLIANCE_VAULT_KEY_LEN) == 0) {
        fprintf(stderr, "%s: warning: the new key equals the old key\n",
                cli_name);
    }

    n = compliance_vault_count(v);
    rc = cli_save_vault(v, a->vault, new_key);

    OPENSSL_cleanse(new_key, sizeof(new_key));
    compliance_vault_free(v);
    close(lock);

    if (rc == CLI_OK) {
        fprintf(stderr, "%s: re-encrypted %zu entries of \"%s\" under "
                "\"%s\"; point compliance_vault key= at it\n", cli_name, n,
                a->vault, a->new_key);
    }

    return rc;
}
