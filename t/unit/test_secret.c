/*
 * core/compliance_secret: 32-byte key files.
 */

#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "compliance_secret.h"


static void
test_parse(void **state)
{
    char    err[256];
    u_char  key[COMPLIANCE_SECRET_LEN], raw[COMPLIANCE_SECRET_LEN];
    u_char  longer[2 * COMPLIANCE_SECRET_LEN + 2];
    int     c, i;
    char    hex[2 * COMPLIANCE_SECRET_LEN + 2];

    (void) state;

    for (i = 0; i < COMPLIANCE_SECRET_LEN; i++) {
        raw[i] = (u_char) (i * 7 + 1);
    }

    /* 32 raw bytes */
    assert_int_equal(compliance_secret_parse(raw, sizeof(raw), key, err,
                                             sizeof(err)), 0);
    assert_memory_equal(key, raw, sizeof(raw));

    /* 64 hex digits, either case, with or without one newline */
    for (i = 0; i < COMPLIANCE_SECRET_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02X", raw[i]);
    }

    assert_int_equal(compliance_secret_parse((u_char *) hex, 64, key, err,
                                             sizeof(err)), 0);
    assert_memory_equal(key, raw, sizeof(raw));

    hex[64] = '\n';
    assert_int_equal(compliance_secret_parse((u_char *) hex, 65, key, err,
                                             sizeof(err)), 0);
    assert_memory_equal(key, raw, sizeof(raw));

    /* every non-hex byte in a digit position is refused */
    for (c = 0; c < 256; c++) {
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
            || (c >= 'A' && c <= 'F'))
        {
            continue;
        }

        /* the low and the high digit of a byte */
        hex[17] = (char) c;
        assert_int_equal(compliance_secret_parse((u_char *) hex, 64, key, err,
                                                 sizeof(err)), -1);
        hex[17] = '0';

        hex[16] = (char) c;
        assert_int_equal(compliance_secret_parse((u_char *) hex, 64, key, err,
                                                 sizeof(err)), -1);
        hex[16] = '0';
    }

    /* wrong lengths */
    memset(longer, 'a', sizeof(longer));
    assert_int_equal(compliance_secret_parse(raw, 31, key, err, sizeof(err)),
                     -1);
    assert_int_equal(compliance_secret_parse(longer, 33, key, err,
                                             sizeof(err)), -1);
    assert_int_equal(compliance_secret_parse(longer, 66, key, err,
                                             sizeof(err)), -1);
    assert_int_equal(compliance_secret_parse(raw, 0, key, err, sizeof(err)),
                     -1);
}


static void
test_files(void **state)
{
    char         dir[] = "/tmp/compliance-secret-XXXXXX";
    char         path[256], err[256];
    u_char       key[COMPLIANCE_SECRET_LEN], again[COMPLIANCE_SECRET_LEN];
    unsigned     mode;
    struct stat  st;

    (void) state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/k", dir);

    assert_int_equal(compliance_secret_generate(path, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);

    mode = 0;
    assert_int_equal(compliance_secret_load(path, key, &mode, err,
                                            sizeof(err)), 0);
    assert_int_equal(mode, 0600);

    /* an existing key is never replaced */
    assert_int_equal(compliance_secret_generate(path, err, sizeof(err)), -1);
    assert_int_equal(compliance_secret_load(path, again, NULL, err,
                                            sizeof(err)), 0);
    assert_memory_equal(key, again, sizeof(key));

    unlink(path);

    assert_int_equal(compliance_secret_load(path, key, NULL, err,
                                            sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open"));

    assert_int_equal(compliance_secret_load(dir, key, NULL, err,
                                            sizeof(err)), -1);

    rmdir(dir);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
