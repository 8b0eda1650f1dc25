/*
 * bench-revoke: how long a revocation list takes to load, and a lookup
 * (core/compliance_revoke.c), outside nginx.
 *
 *   build/bench/bench-revoke [lines] [file]
 *
 * Writes a list of `lines` entries (default 1,000,000: 80% "jti <uuid>",
 * 15% "sub auth0|<24 hex>", 5% "kid key-<n>", one comment every 1,000
 * lines) to file (default a temporary file, removed afterwards), then
 * loads it with compliance_revoke_load() five times and prints the best
 * and the median wall time, the file size and the entries, and the cost
 * of a lookup that hits and one that misses (ns, averaged over 10^6
 * lookups).  Exits 1 when the best load of 1,000,000 lines or fewer
 * takes 2 s or more (SPEC 14).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compliance_revoke.h"


#define BENCH_LOADS    5
#define BENCH_LOOKUPS  1000000


static double bench_now(void);
static int bench_cmp(const void *a, const void *b);
static void bench_value(size_t i, int *type, char *buf, size_t size);
static int bench_write(const char *path, size_t lines, size_t *bytes);


static double
bench_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static int
bench_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


/* entry i, the same on every call: a pseudo-random uuid, subject or kid */
static void
bench_value(size_t i, int *type, char *buf, size_t size)
{
    uint64_t  a, b;

    a = (uint64_t) i * 0x9e3779b97f4a7c15ULL + 1;
    a ^= a >> 31;
    a *= 0xbf58476d1ce4e5b9ULL;
    a ^= a >> 29;
    b = a * 0x94d049bb133111ebULL;
    b ^= b >> 32;

    switch (i % 20) {

    case 0:
        *type = COMPLIANCE_REVOKE_KID;
        snprintf(buf, size, "key-%zu", i);
        break;

    case 1: case 2: case 3:
        *type = COMPLIANCE_REVOKE_SUB;
        snprintf(buf, size, "auth0|%012llx%012llx",
                 (unsigned long long) (a & 0xffffffffffffULL),
                 (unsigned long long) (b & 0xffffffffffffULL));
        break;

    default:
        *type = COMPLIANCE_REVOKE_JTI;
        snprintf(buf, size, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                 (unsigned long long) (a >> 32),
                 (unsigned long long) ((a >> 16) & 0xffff),
                 (unsigned long long) (a & 0xfff),
                 (unsigned long long) (b >> 52),
                 (unsigned long long) (b & 0xffffffffffffULL));
        break;
    }
}


static int
bench_write(const char *path, size_t lines, size_t *bytes)
{
    int     type;
    char    v[128];
    FILE   *fp;
    size_t  i;
    long    end;

    fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        return -1;
    }

    for (i = 0; i < lines; i++) {
        if (i % 1000 == 0) {
            fprintf(fp, "# batch %zu\n", i / 1000);
        }

        bench_value(i, &type, v, sizeof(v));
        fprintf(fp, "%s %s\n", compliance_revoke_type_name(type), v);
    }

    end = ftell(fp);

    if (fclose(fp) != 0 || end < 0) {
        perror(path);
        return -1;
    }

    *bytes = (size_t) end;

    return 0;
}


int
main(int argc, char **argv)
{
    int                   type, fd, tmp, rc;
    char                  path[4096], err[1024], v[128];
    double                t0, loads[BENCH_LOADS], hit, miss;
    size_t                lines, bytes, i, n, found;
    compliance_revoke_t  *rv;

    lines = (argc > 1) ? (size_t) strtoul(argv[1], NULL, 10) : 1000000;
    tmp = (argc <= 2);

    if (tmp) {
        snprintf(path, sizeof(path), "/tmp/bench-revoke.XXXXXX");
        fd = mkstemp(path);
        if (fd == -1) {
            perror("mkstemp");
            return 2;
        }

        close(fd);

    } else {
        snprintf(path, sizeof(path), "%s", argv[2]);
    }

    if (bench_write(path, lines, &bytes) != 0) {
        return 2;
    }

    rv = NULL;

    for (i = 0; i < BENCH_LOADS; i++) {
        compliance_revoke_free(rv);

        t0 = bench_now();
        rv = compliance_revoke_load(path, NULL, err, sizeof(err));
        loads[i] = bench_now() - t0;

        if (rv == NULL) {
            fprintf(stderr, "bench-revoke: %s\n", err);
            return 2;
        }
    }

    n = compliance_revoke_count(rv, -1);

    /* lookups of listed values, then of values that are not listed */
    found = 0;
    t0 = bench_now();

    for (i = 0; i < BENCH_LOOKUPS; i++) {
        bench_value(i % lines, &type, v, sizeof(v));
        found += compliance_revoke_match(rv, type, (u_char *) v, strlen(v));
    }

    hit = bench_now() - t0;

    t0 = bench_now();

    for (i = 0; i < BENCH_LOOKUPS; i++) {
        bench_value(lines + i, &type, v, sizeof(v));
        found += compliance_revoke_match(rv, type, (u_char *) v, strlen(v));
    }

    miss = bench_now() - t0;

    /* the cost of making the value, to be taken off the lookups */
    t0 = bench_now();

    for (i = 0; i < BENCH_LOOKUPS; i++) {
        bench_value(lines + i, &type, v, sizeof(v));
        found += (v[0] == 0);
    }

    t0 = bench_now() - t0;

    qsort(loads, BENCH_LOADS, sizeof(double), bench_cmp);

    printf("revocation list: %zu lines, %zu bytes, %zu entries\n",
           lines, bytes, n);
    printf("load: best %.3f s, median %.3f s (%d loads)\n",
           loads[0], loads[BENCH_LOADS / 2], BENCH_LOADS);
    printf("lookup: hit %.0f ns, miss %.0f ns (%d each; %zu of %d hits "
           "found)\n",
           (hit - t0) * 1e9 / BENCH_LOOKUPS,
           (miss - t0) * 1e9 / BENCH_LOOKUPS, BENCH_LOOKUPS,
           found, BENCH_LOOKUPS);

    compliance_revoke_free(rv);

    if (tmp) {
        unlink(path);
    }

    rc = 0;

    if (found != BENCH_LOOKUPS) {
        fprintf(stderr, "bench-revoke: listed values not found\n");
        rc = 1;
    }

    if (lines <= 1000000 && loads[0] >= 2.0) {
        fprintf(stderr, "bench-revoke: load over 2 s\n");
        rc = 1;
    }

    return rc;
}
