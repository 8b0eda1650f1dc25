/*
 * compliance_chain: HMAC-SHA256 link computation and record splitting.
 */

#include "unit.h"

#include <time.h>

#include <openssl/hmac.h>

#include "compliance_chain.h"


static const u_char  key[32] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
};


static void reference(const u_char prev[64], const char *body,
    u_char out[64]);


/* the definition, written independently with one-shot HMAC() */
static void
reference(const u_char prev[64], const char *body, u_char out[64])
{
    u_char        buf[4096], md[32];
    size_t        len, i;
    unsigned int  mdlen;

    len = strlen(body);
    assert_true(len + 64 <= sizeof(buf));
    memcpy(buf, prev, 64);
    memcpy(buf + 64, body, len);

    assert_non_null(HMAC(EVP_sha256(), key, sizeof(key), buf, len + 64, md,
                         &mdlen));

    for (i = 0; i < 32; i++) {
        out[2 * i] = (u_char) "0123456789abcdef"[md[i] >> 4];
        out[2 * i + 1] = (u_char) "0123456789abcdef"[md[i] & 0x0f];
    }
}


static void
test_compute_matches_definition(void **state)
{
    u_char               a[64], b[64], c2[64];
    compliance_chain_t  *c;

    static const char  body1[] = "{\"event\":\"request\",\"seq\":1}";
    static const char  body2[] = "{\"event\":\"request\",\"seq\":2}";

    (void) state;

    c = compliance_chain_create(key);
    assert_non_null(c);

    assert_int_equal(compliance_chain_compute(c, compliance_chain_zero,
                         (u_char *) body1, strlen(body1), a), 0);
    reference(compliance_chain_zero, body1, b);
    assert_memory_equal(a, b, 64);

    /* the context is reusable: the next link, and the same one again */
    assert_int_equal(compliance_chain_compute(c, a, (u_char *) body2,
                         strlen(body2), c2), 0);
    reference(a, body2, b);
    assert_memory_equal(c2, b, 64);

    assert_int_equal(compliance_chain_compute(c, compliance_chain_zero,
                         (u_char *) body1, strlen(body1), b), 0);
    assert_memory_equal(a, b, 64);

    /* the prefix form appends the closing brace itself */
    assert_int_equal(compliance_chain_compute_prefix(c,
                         compliance_chain_zero, (u_char *) body1,
                         strlen(body1) - 1, b), 0);
    assert_memory_equal(a, b, 64);

    /* one changed byte anywhere changes the link */
    assert_int_equal(compliance_chain_compute(c, compliance_chain_zero,
                         (u_char *) "{\"event\":\"requesT\",\"seq\":1}",
                         strlen(body1), b), 0);
    assert_memory_not_equal(a, b, 64);

    compliance_chain_free(c);
    compliance_chain_free(NULL);
}


static void
test_split(void **state)
{
    char                  line[512];
    size_t                plen;
    uint64_t              seq;
    const u_char         *hex;
    compliance_chain_t   *c;
    u_char                link[64];

    static const char  prefix[] = "{\"event\":\"request\",\"path\":"
                                  "\"/a,\\\"chain\\\":\\\"x\",\"seq\":42";

    (void) state;

    c = compliance_chain_create(key);
    assert_non_null(c);

    assert_int_equal(compliance_chain_compute_prefix(c, compliance_chain_zero,
                         (u_char *) prefix, strlen(prefix), link), 0);
    snprintf(line, sizeof(line), "%s,\"chain\":\"%.64s\"}\n", prefix,
             (char *) link);

    assert_int_equal(compliance_chain_split((u_char *) line, strlen(line),
                                            &plen, &hex, &seq), 0);
    assert_int_equal(plen, strlen(prefix));
    assert_int_equal(seq, 42);
    assert_memory_equal(hex, link, 64);

    /* without the newline too */
    assert_int_equal(compliance_chain_split((u_char *) line,
                         strlen(line) - 1, &plen, &hex, &seq), 0);

    compliance_chain_free(c);
}


static void
test_split_refusals(void **state)
{
    size_t         plen;
    uint64_t       seq;
    const u_char  *hex;

#define H64  "0123456789abcdef0123456789abcdef" \
             "0123456789abcdef0123456789abcdef"
#define SPLIT(s)  compliance_chain_split((u_char *) s, sizeof(s) - 1, \
                                         &plen, &hex, &seq)

    (void) state;

    assert_int_equal(SPLIT("{\"seq\":7,\"chain\":\"" H64 "\"}"), 0);
    assert_int_equal(seq, 7);
    assert_int_equal(SPLIT("{\"seq\":18446744073709551615,\"chain\":\""
                           H64 "\"}"), 0);
    assert_true(seq == UINT64_MAX);

    assert_int_equal(SPLIT(""), COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{\"seq\":7}"), COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{\"seq\":7,\"chain\":\"" H64 "\"} "),
                     COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{\"seq\":7,\"chain\":\"" H64 "0\"}"),
                     COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{\"seq\":7,\"chain\": \"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{\"seq\":7,\"chain\":\""
                           "0123456789ABCDEF0123456789abcdef"
                           "0123456789abcdef0123456789abcdef\"}"),
                     COMPLIANCE_CHAIN_BADHEX);
    assert_int_equal(SPLIT("{\"seq\":7,\"x\":1,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOSEQ);
    assert_int_equal(SPLIT("{\"seq\":\"7\",\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOSEQ);
    assert_int_equal(SPLIT("{\"sequence\":7,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOSEQ);
    assert_int_equal(SPLIT(",\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOCHAIN);
    assert_int_equal(SPLIT("{,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOSEQ);
    assert_int_equal(SPLIT("\"seq\":7,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_NOSEQ);
    assert_int_equal(SPLIT("{\"seq\":07,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_BADSEQ);
    assert_int_equal(SPLIT("{\"seq\":0,\"chain\":\"" H64 "\"}"),
                     COMPLIANCE_CHAIN_BADSEQ);
    assert_int_equal(SPLIT("{\"seq\":18446744073709551616,\"chain\":\""
                           H64 "\"}"), COMPLIANCE_CHAIN_BADSEQ);

    assert_non_null(strstr(compliance_chain_strerror(
                               COMPLIANCE_CHAIN_NOSEQ), "seq"));

#undef SPLIT
#undef H64
}


static void
test_chain_speed(void **state)
{
    int                  i, iters, round;
    char                 body[512];
    u_char               prev[64], out[64];
    size_t               len;
    double               ns, best;
    struct timespec      t0, t1;
    compliance_chain_t  *c;

    (void) state;

    /* a typical record, about 400 bytes */
    len = (size_t) snprintf(body, sizeof(body),
        "{\"timestamp\":\"2026-01-01T10:00:00.123Z\",\"request_id\":"
        "\"6f1c2a9e-3b7d-4c1e-9a55-0d2e8f7b6c41\",\"event\":\"request\","
        "\"severity\":\"info\",\"audit\":false,\"user_id\":\"alice\","
        "\"organisation_id\":\"acme\",\"auth_method\":\"jwt\",\"key_id\":"
        "\"k1\",\"client_ip\":\"203.0.113.7\",\"method\":\"GET\",\"path\":"
        "\"/api/v1/customers/8842/orders\",\"status\":200,"
        "\"response_time_ms\":1.234,\"bytes_sent\":5120,\"reason\":\"\","
        "\"resource_type\":\"order\",\"resource_id\":\"8842\","
        "\"seq\":123456}");

    c = compliance_chain_create(key);
    assert_non_null(c);
    memcpy(prev, compliance_chain_zero, 64);

    iters = 200000;
    best = 1e9;

    for (round = 0; round < 5; round++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);

        for (i = 0; i < iters; i++) {
            assert_int_equal(compliance_chain_compute(c, prev,
                                 (u_char *) body, len, out), 0);
            memcpy(prev, out, 64);
        }

        clock_gettime(CLOCK_MONOTONIC, &t1);

        ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec))
             / iters;

        if (ns < best) {
            best = ns;
        }
    }

    printf("# bench chain %zu-byte record: %.1f ns/record\n", len, best);

    compliance_chain_free(c);
}


int
main(void)
{
    int                      rc;
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_compute_matches_definition),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_refusals),
    };

    /* a benchmark, not a test: run only when asked for */
    const struct CMUnitTest  bench[] = {
        cmocka_unit_test(test_chain_speed),
    };

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    if (getenv("COMPLIANCE_UNIT_BENCH") != NULL) {
        rc += cmocka_run_group_tests(bench, NULL, NULL);
    }

    return rc;
}
