/*
 * base64url: RFC 4648 vectors, strictness, round trips.
 */

#include "unit.h"

#include "compliance_b64url.h"


static void test_vectors(void **state);
static void test_url_alphabet(void **state);
static void test_every_byte_value(void **state);
static void test_rejects_padding(void **state);
static void test_rejects_bad_length(void **state);
static void test_rejects_trailing_bits(void **state);
static void test_roundtrip(void **state);
static int decode_str(const char *s, u_char *out, size_t *len);


static const char  *vectors[][2] = {
    { "", "" },
    { "f", "Zg" },
    { "fo", "Zm8" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" }
};


static int
decode_str(const char *s, u_char *out, size_t *len)
{
    return compliance_b64url_decode(out, len, (const u_char *) s, strlen(s));
}


static void
test_vectors(void **state)
{
    u_char  buf[64];
    size_t  i, n, len;

    (void) state;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        len = strlen(vectors[i][0]);
        n = compliance_b64url_encode(buf, (const u_char *) vectors[i][0],
                                     len);

        assert_int_equal(n, strlen(vectors[i][1]));
        assert_int_equal(n, compliance_b64url_encoded_len(len));
        assert_memory_equal(buf, vectors[i][1], n);

        assert_int_equal(decode_str(vectors[i][1], buf, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(buf, vectors[i][0], n);
        assert_int_equal(compliance_b64url_decoded_len(
                             strlen(vectors[i][1])), len);
    }
}


static void
test_url_alphabet(void **state)
{
    u_char        buf[8];
    size_t        n;
    const u_char  in[] = { 0xfb, 0xff };

    (void) state;

    n = compliance_b64url_encode(buf, in, 2);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "-_8", 3);

    assert_int_equal(decode_str("-_8", buf, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, in, 2);

    /* the standard alphabet's characters are refused */
    assert_int_equal(decode_str("+/8", buf, &n), -1);
    assert_int_equal(decode_str("ab+c", buf, &n), -1);
    assert_int_equal(decode_str("ab/c", buf, &n), -1);
}


static void
test_every_byte_value(void **state)
{
    int          c, expect;
    u_char       in[4], out[4];
    size_t       n;
    const char  *alpha;

    (void) state;

    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            "0123456789-_";

    for (c = 0; c < 256; c++) {
        in[0] = (u_char) c;
        in[1] = 'A';
        in[2] = 'A';
        in[3] = 'A';

        expect = (c != 0 && strchr(alpha, c) != NULL) ? 0 : -1;

        assert_int_equal(compliance_b64url_decode(out, &n, in, 4), expect);

        if (expect == 0) {
            assert_int_equal(n, 3);
            assert_int_equal(out[0] >> 2, strchr(alpha, c) - alpha);
        }

        /* the same character in the last, partial group */
        in[3] = (u_char) c;
        expect = (c != 0 && strchr(alpha, c) != NULL
                  && ((strchr(alpha, c) - alpha) & 0x03) == 0) ? 0 : -1;

        assert_int_equal(compliance_b64url_decode(out, &n, in + 1, 3),
                         expect);
    }
}


static void
test_rejects_padding(void **state)
{
    u_char  buf[16];
    size_t  n;

    (void) state;

    assert_int_equal(decode_str("Zg==", buf, &n), -1);
    assert_int_equal(decode_str("Zm8=", buf, &n), -1);
    assert_int_equal(decode_str("Zg=", buf, &n), -1);
    assert_int_equal(decode_str("Zm9v====", buf, &n), -1);
    assert_int_equal(decode_str("Zm9v\n", buf, &n), -1);
    assert_int_equal(decode_str(" Zm9v", buf, &n), -1);
    assert_int_equal(decode_str("Zm 9v", buf, &n), -1);
    assert_int_equal(compliance_b64url_decode(buf, &n,
                                              (const u_char *) "Zm\0v", 4),
                     -1);
}


static void
test_rejects_bad_length(void **state)
{
    u_char  buf[16];
    size_t  n;

    (void) state;

    assert_int_equal(decode_str("Z", buf, &n), -1);
    assert_int_equal(decode_str("Zm9vY", buf, &n), -1);
    assert_int_equal(decode_str("Zm9vYmFyZ", buf, &n), -1);

    n = 99;
    assert_int_equal(decode_str("", buf, &n), 0);
    assert_int_equal(n, 0);
}


static void
test_rejects_trailing_bits(void **state)
{
    u_char  buf[16];
    size_t  n;

    (void) state;

    /* "Zg" is canonical for "f"; Zh..Zv carry stray low bits */
    assert_int_equal(decode_str("Zg", buf, &n), 0);
    assert_int_equal(decode_str("Zh", buf, &n), -1);
    assert_int_equal(decode_str("Zv", buf, &n), -1);
    assert_int_equal(decode_str("Zm8", buf, &n), 0);
    assert_int_equal(decode_str("Zm9", buf, &n), -1);
    assert_int_equal(decode_str("Zm-", buf, &n), -1);
    assert_int_equal(decode_str("Zm9vYh", buf, &n), -1);
}


static void
test_roundtrip(void **state)
{
    u_char  in[300], enc[400], out[300];
    size_t  len, n, m, i;

    (void) state;

    for (i = 0; i < sizeof(in); i++) {
        in[i] = (u_char) (i * 37 + 11);
    }

    for (len = 0; len <= sizeof(in); len++) {
        n = compliance_b64url_encode(enc, in, len);
        assert_int_equal(n, compliance_b64url_encoded_len(len));
        assert_true(n % 4 != 1);

        for (i = 0; i < n; i++) {
            assert_true(enc[i] != '=' && enc[i] != '+' && enc[i] != '/');
        }

        assert_int_equal(compliance_b64url_decode(out, &m, enc, n), 0);
        assert_int_equal(m, len);
        assert_true(m <= compliance_b64url_decoded_len(n));
        assert_memory_equal(out, in, len);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_rejects_padding),
        cmocka_unit_test(test_rejects_bad_length),
        cmocka_unit_test(test_rejects_trailing_bits),
        cmocka_unit_test(test_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
