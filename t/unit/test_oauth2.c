/*
 * compliance_oauth2_answer_read() and compliance_oauth2_b64token(): the
 * token endpoint's answer as compliance_upstream_oauth2 takes it.
 */

#include "unit.h"

#include "compliance_oauth2.h"


/* reads s (copied: the reader changes its text); returns the rc */
static int
answer(const char *s, char *tok, size_t toksize, long *life,
    const char **err)
{
    int      rc;
    u_char   buf[COMPLIANCE_OAUTH2_MAX_ANSWER + 16], *t;
    size_t   len, tlen;

    len = strlen(s);
    assert_true(len <= sizeof(buf));
    memcpy(buf, s, len);

    *err = NULL;
    *life = -7;
    t = NULL;
    tlen = 0;

    rc = compliance_oauth2_answer_read(buf, len, &t, &tlen, life, err);

    if (rc == 0) {
        assert_non_null(t);
        assert_true(t >= buf && t + tlen <= buf + len);
        assert_true(tlen < toksize);
        memcpy(tok, t, tlen);
        tok[tlen] = '\0';
        assert_null(*err);

    } else {
        assert_int_equal(rc, -1);
        assert_non_null(*err);
    }

    return rc;
}


static void
test_good(void **state)
{
    char         tok[64];
    long         life;
    const char  *err;

    (void) state;

    assert_int_equal(answer("{\"access_token\":\"abc.DEF-1_2~3+4/5==\","
                            "\"token_type\":\"Bearer\",\"expires_in\":3600}",
                            tok, sizeof(tok), &life, &err), 0);
    assert_string_equal(tok, "abc.DEF-1_2~3+4/5==");
    assert_int_equal(life, 3600);

    /* any case, a string of digits, members in any order, extras */
    assert_int_equal(answer(" {\"expires_in\":\"120\",\"scope\":\"a b\","
                            "\"token_type\":\"bEaReR\",\"x\":{\"y\":[1]},"
                            "\"access_token\":\"t\"} ",
                            tok, sizeof(tok), &life, &err), 0);
    assert_string_equal(tok, "t");
    assert_int_equal(life, 120);

    /* no token_type, no expires_in: the default life */
    assert_int_equal(answer("{\"access_token\":\"t2\"}", tok, sizeof(tok),
                            &life, &err), 0);
    assert_int_equal(life, COMPLIANCE_OAUTH2_DEFAULT_LIFE);

    /* an escaped token is unescaped, then checked */
    assert_int_equal(answer("{\"access_token\":\"a\\/b\"}", tok, sizeof(tok),
                            &life, &err), 0);
    assert_string_equal(tok, "a/b");

    assert_int_equal(answer("{\"access_token\":\"t\",\"expires_in\":31622400}",
                            tok, sizeof(tok), &life, &err), 0);
    assert_int_equal(life, COMPLIANCE_OAUTH2_MAX_LIFE);
}


static void
test_bad(void **state)
{
    size_t       i;
    char         tok[64];
    long         life;
    const char  *err;

    static const char  *bad[] = {
        "",
        "not json",
        "[\"access_token\"]",
        "{\"access_token\":\"t\"",
        "{\"access_token\":\"t\",\"access_token\":\"u\"}",
        "{}",
        "{\"access_token\":\"\"}",
        "{\"access_token\":42}",
        "{\"access_token\":null}",
        "{\"access_token\":\"a b\"}",
        "{\"access_token\":\"a\\r\\nX-Evil: 1\"}",
        "{\"access_token\":\"a\\u0000b\"}",
        "{\"access_token\":\"==\"}",
        "{\"access_token\":\"a=b\"}",
        "{\"access_token\":\"t\",\"token_type\":\"mac\"}",
        "{\"access_token\":\"t\",\"token_type\":\"Bearer \"}",
        "{\"access_token\":\"t\",\"token_type\":1}",
        "{\"access_token\":\"t\",\"expires_in\":0}",
        "{\"access_token\":\"t\",\"expires_in\":-5}",
        "{\"access_token\":\"t\",\"expires_in\":1.5}",
        "{\"access_token\":\"t\",\"expires_in\":31622401}",
        "{\"access_token\":\"t\",\"expires_in\":\"12a\"}",
        "{\"access_token\":\"t\",\"expires_in\":\"\"}",
        "{\"access_token\":\"t\",\"expires_in\":\"1234567890\"}",
        "{\"access_token\":\"t\",\"expires_in\":null}",
        "{\"error\":\"invalid_client\"}",
        NULL
    };

    (void) state;

    for (i = 0; bad[i]; i++) {
        if (answer(bad[i], tok, sizeof(tok), &life, &err) != -1) {
            fail_msg("accepted: %s", bad[i]);
        }

        /* the message never quotes the answer */
        assert_null(strstr(err, "invalid_client"));
        assert_null(strstr(err, "Evil"));
    }
}


static void
test_cap(void **state)
{
    u_char       *buf, *t;
    size_t        len, tlen;
    long          life;
    const char   *err;

    (void) state;

    len = COMPLIANCE_OAUTH2_MAX_ANSWER + 1;
    buf = malloc(len);
    assert_non_null(buf);
    memset(buf, ' ', len);
    memcpy(buf, "{\"access_token\":\"t\"}", 20);

    assert_int_equal(compliance_oauth2_answer_read(buf, len, &t, &tlen,
                                                   &life, &err), -1);
    assert_string_equal(err, "the answer is over the size cap");

    /* at the cap: read */
    memset(buf, ' ', len);
    memcpy(buf, "{\"access_token\":\"t\"}", 20);
    assert_int_equal(compliance_oauth2_answer_read(buf, len - 1, &t, &tlen,
                                                   &life, &err), 0);
    assert_int_equal(tlen, 1);

    free(buf);
}


static void
test_b64token(void **state)
{
    (void) state;

    assert_int_equal(compliance_oauth2_b64token((u_char *) "a", 1), 1);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "a==", 3), 1);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "", 0), 0);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "=", 1), 0);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "a=a", 3), 0);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "a\"", 2), 0);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "a,b", 3), 0);
    assert_int_equal(compliance_oauth2_b64token((u_char *) "a\0b", 3), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_b64token),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
