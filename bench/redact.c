/*
 * bench-redact: the cost of compliance_redact_response's masking, core/
 * alone (bench/notes.md): a 4 KiB JSON body without a card number and
 * the same body with 10 of them, through compliance_redact_stream with
 * "pan ssn", the way the body filter feeds it: whole, in 1 KiB pieces
 * (small upstream buffers) and in 7-byte pieces (a worst case for the
 * held-back tail).  The output is copied into a buffer, as the filter
 * copies it into its own.  A memcpy of the body is the reference.
 * Only the public API of core/ is used.  Nothing here is linked into the
 * module.
 *
 *   bench-redact [-n iterations] [-r rounds]
 *
 * (defaults 20000 iterations, 7 rounds).  Prints the best round of each
 * measurement in microseconds of the thread's CPU time per KiB of body
 * (a busy machine slows it less than wall-clock time would).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compliance_redact.h"
#include "compliance_redact_stream.h"


#define BENCH_BODY   4096
#define BENCH_OUT    (BENCH_BODY * 2)


typedef struct {
    u_char   buf[BENCH_OUT];
    size_t   len;
} bench_out_t;


static double bench_now(void);
static int bench_emit(void *data, const u_char *p, size_t len);
static void *bench_alloc(void *data, size_t size);
static void bench_free(void *data, void *p);
static size_t bench_body(u_char *p, int cards);
static double bench_stream(const compliance_redact_stream_conf_t *conf,
    const u_char *body, size_t len, size_t piece, long n, size_t *matches);
static double bench_copy(const u_char *body, size_t len, long n);


/* the allocator of the hold: one static block, as a pool would give */
static u_char  bench_hold[BENCH_BODY * 2];


static double
bench_now(void)
{
    struct timespec  ts;

    /* the thread's CPU time: what other processes take is not counted */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
bench_emit(void *data, const u_char *p, size_t len)
{
    bench_out_t  *o = data;

    if (len > BENCH_OUT - o->len) {
        return -1;
    }

    memcpy(o->buf + o->len, p, len);
    o->len += len;

    return 0;
}


static void *
bench_alloc(void *data, size_t size)
{
    (void) data;

    return size <= sizeof(bench_hold) ? bench_hold : NULL;
}


static void
bench_free(void *data, void *p)
{
    (void) data;
    (void) p;
}


/*
 * An API's page of orders: ids, timestamps, amounts, ISO dates, UUIDs,
 * names, e-mail-free text; with cards, 10 of the orders carry a card
 * number (spaced, dashed or plain).
 */
static size_t
bench_body(u_char *p, int cards)
{
    int          i;
    size_t       len, n;
    const char  *card;

    static const char  *pans[] = {
        "4111111111111111", "5555 5555 5555 4444", "3782-822463-10005",
        "6011000990139424", "4012888888881881", "5105-1051-0510-5100",
        "2223003122003222", "4000 0566 5566 5556", "3056930009020004",
        "6200000000000005"
    };

    len = (size_t) snprintf((char *) p, BENCH_BODY, "{\"page\":3,"
                            "\"per_page\":20,\"orders\":[");

    for (i = 0; ; i++) {
        card = (cards && i < 10) ? pans[i] : "";

        n = (size_t) snprintf((char *) p + len, BENCH_BODY - len,
            "%s{\"id\":%d,\"uuid\":\"3f0c%04x-6c1e-4d7e-9f52-3b1f0d0c9a11\","
            "\"created\":\"2026-11-%02dT10:%02d:03.861Z\",\"ts\":%ld,"
            "\"total\":%d.%02d,\"currency\":\"EUR\",\"status\":\"paid\","
            "\"customer\":\"Customer %d\",\"card\":\"%s\"}",
            i ? "," : "", 884210 + i, i, 1 + i % 28, i % 60,
            1767225600123L + i * 1000L, 10 + i * 7, i % 100, 4000 + i,
            card);

        if (len + n + 3 > BENCH_BODY - 320) {
            break;
        }

        len += n;
    }

    /* pad to exactly 4 KiB with a description */
    p[len++] = ']';
    memcpy(p + len, ",\"note\":\"", 9);
    len += 9;

    while (len < BENCH_BODY - 3) {
        p[len] = "see the terms of service for refunds "[len % 37];
        len++;
    }

    p[len++] = '"';
    p[len++] = '}';
    p[len++] = '\n';

    return len;
}


static double
bench_stream(const compliance_redact_stream_conf_t *conf, const u_char *body,
    size_t len, size_t piece, long n, size_t *matches)
{
    long                        i;
    size_t                      off, k;
    double                      t0;
    bench_out_t                 o;
    compliance_redact_stream_t  s;

    t0 = bench_now();

    for (i = 0; i < n; i++) {
        o.len = 0;
        compliance_redact_stream_init(&s, conf, &o, 1 << 20);

        for (off = 0; off < len; off += k) {
            k = (len - off < piece) ? len - off : piece;

            if (compliance_redact_stream_feed(&s, body + off, k) != 0) {
                fprintf(stderr, "bench-redact: feed failed\n");
                exit(1);
            }
        }

        if (compliance_redact_stream_finish(&s) != 0) {
            fprintf(stderr, "bench-redact: finish failed\n");
            exit(1);
        }

        *matches = s.matches;
        compliance_redact_stream_free(&s);
    }

    return (bench_now() - t0) / n * 1e6 / (len / 1024.0);
}


static double
bench_copy(const u_char *body, size_t len, long n)
{
    long          i;
    double        t0;
    bench_out_t   o;
    volatile int  sink;

    t0 = bench_now();

    for (i = 0; i < n; i++) {
        o.len = 0;
        (void) bench_emit(&o, body, len);
        sink = o.buf[i % len];
    }

    (void) sink;

    return (bench_now() - t0) / n * 1e6 / (len / 1024.0);
}


int
main(int argc, char **argv)
{
    int                              c, r, rounds, k, m;
    long                             n;
    char                             err[256];
    u_char                           clean[BENCH_BODY], cards[BENCH_BODY];
    size_t                           clen, plen, matches;
    double                           t, best[2][3], copy;
    compliance_redact_t             *rd;
    compliance_redact_stream_conf_t  conf;

    static const size_t  pieces[3] = { BENCH_BODY, 1024, 7 };

    n = 20000;
    rounds = 7;

    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        switch (c) {
        case 'n':
            n = atol(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: bench-redact [-n iterations] "
                    "[-r rounds]\n");
            return 2;
        }
    }

    if (n <= 0 || rounds <= 0) {
        fprintf(stderr, "bench-redact: -n and -r must be positive\n");
        return 2;
    }

    rd = compliance_redact_create(COMPLIANCE_REDACT_PAN | COMPLIANCE_REDACT_SSN
                                  | COMPLIANCE_REDACT_TEXT, err, sizeof(err));
    if (rd == NULL) {
        fprintf(stderr, "bench-redact: %s\n", err);
        return 1;
    }

    compliance_redact_stream_conf(&conf, rd, bench_emit, bench_alloc,
                                  bench_free);

    clen = bench_body(clean, 0);
    plen = bench_body(cards, 1);

    copy = 1e9;

    for (m = 0; m < 2; m++) {
        for (k = 0; k < 3; k++) {
            best[m][k] = 1e9;
        }
    }

    for (r = 0; r < rounds; r++) {
        for (k = 0; k < 3; k++) {
            t = bench_stream(&conf, clean, clen, pieces[k], n, &matches);
            if (matches != 0) {
                fprintf(stderr, "bench-redact: %zu matches in the clean "
                        "body\n", matches);
                return 1;
            }
            best[0][k] = t < best[0][k] ? t : best[0][k];

            t = bench_stream(&conf, cards, plen, pieces[k], n, &matches);
            if (matches != 10) {
                fprintf(stderr, "bench-redact: %zu matches, not 10\n",
                        matches);
                return 1;
            }
            best[1][k] = t < best[1][k] ? t : best[1][k];
        }

        t = bench_copy(clean, clen, n);
        copy = t < copy ? t : copy;
    }

    printf("bench-redact: pan ssn, %ld iterations, best of %d rounds, "
           "us per KiB\n", n, rounds);
    printf("%-34s %8s %8s %8s\n", "body", "whole", "1 KiB", "7 B");
    printf("%-34s %8.3f %8.3f %8.3f\n", "clean JSON, 4 KiB", best[0][0],
           best[0][1], best[0][2]);
    printf("%-34s %8.3f %8.3f %8.3f\n", "JSON with 10 cards, 4 KiB",
           best[1][0], best[1][1], best[1][2]);
    printf("%-34s %8.3f\n", "memcpy of the body (reference)", copy);

    compliance_redact_free(rd);

    return 0;
}
