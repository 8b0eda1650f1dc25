/*
 * compliance_token_equal(): the constant-time comparison of a cached
 * credential with the one a request carries.
 */

#include "unit.h"

#include "compliance_token.h"


static void
test_equal(void **state)
{
    size_t  len, i;
    u_char  a[80], b[80];

    (void) state;

    for (i = 0; i < sizeof(a); i++) {
        a[i] = (u_char) (i * 37 + 11);
    }

    /* every length across the word steps, every differing position */
    for (len = 0; len <= sizeof(a); len++) {
        memcpy(b, a, sizeof(a));
        assert_int_equal(compliance_token_equal(a, b, len), 1);

        for (i = 0; i < len; i++) {
            b[i] ^= 0x80;
            assert_int_equal(compliance_token_equal(a, b, len), 0);
            b[i] ^= 0x80 | 0x01;
            assert_int_equal(compliance_token_equal(a, b, len), 0);
            b[i] ^= 0x01;
        }

        /* bytes past len do not count */
        if (len < sizeof(a)) {
            b[len] ^= 0xff;
            assert_int_equal(compliance_token_equal(a, b, len), 1);
        }
    }

    /* unaligned starts */
    memcpy(b, a, sizeof(a));
    assert_int_equal(compliance_token_equal(a + 3, b + 3, 61), 1);
    b[63] ^= 1;
    assert_int_equal(compliance_token_equal(a + 3, b + 3, 61), 0);
    assert_int_equal(compliance_token_equal(a + 3, b + 3, 60), 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_equal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
