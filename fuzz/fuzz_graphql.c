/*
 * libFuzzer harness for the GraphQL lexer, parser and limits
 * (core/compliance_graphql.c).
 *
 * Input: a GraphQL document.  An input starting with 'O' is
 * "O<operationName>\n<document>".
 *
 * Oracles (what the header promises, not only "no crash"):
 *   - a refusal has a fixed message, an offset within the document and
 *     a limit name exactly for the limit codes; OK has neither;
 *   - the same input gives the same answer and figures twice;
 *   - the figures are tight: a document accepted under wide limits is
 *     accepted under limits equal to its figures and refused with the
 *     code of that limit when one of them is one less; with
 *     introspection off, a document that selected __schema or __type is
 *     refused as introspection and one that did not is accepted;
 *   - a small arena gives the same answer or ENOMEM, never another;
 *   - messages are fixed texts, never pointing into the document, in
 *     printable ASCII without a quote or a backslash.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_graphql.h"


#define FUZZ_GQL_ARENA  (8 << 20)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_gql_run(const u_char *doc, size_t len, const u_char *op,
    size_t op_len, const compliance_graphql_limits_t *lim, size_t arena,
    compliance_graphql_result_t *res);
static void fuzz_gql_fail(const char *what);


static u_char  *fuzz_gql_arena;


static void
fuzz_gql_fail(const char *what)
{
    fprintf(stderr, "fuzz_graphql: %s\n", what);
    abort();
}


static int
fuzz_gql_run(const u_char *doc, size_t len, const u_char *op, size_t op_len,
    const compliance_graphql_limits_t *lim, size_t arena,
    compliance_graphql_result_t *res)
{
    int                  rc;
    const u_char        *m;
    compliance_arena_t   a;

    if (fuzz_gql_arena == NULL) {
        fuzz_gql_arena = malloc(FUZZ_GQL_ARENA);
        if (fuzz_gql_arena == NULL) {
            fuzz_gql_fail("no memory for the arena");
        }
    }

    compliance_arena_init(&a, fuzz_gql_arena, arena, NULL, NULL, 0);

    rc = compliance_graphql_check(doc, len, op, op_len, lim, &a, res);

    if (rc > COMPLIANCE_GQL_OK || rc < COMPLIANCE_GQL_ENOMEM) {
        fuzz_gql_fail("return code out of range");
    }

    if (rc == COMPLIANCE_GQL_OK) {
        if (res->message != NULL || res->limit != NULL) {
            fuzz_gql_fail("OK with a message or a limit");
        }

        return rc;
    }

    if (res->message == NULL || res->offset > len) {
        fuzz_gql_fail("refusal without a message or offset past the end");
    }

    if ((res->limit != NULL)
        != (rc != COMPLIANCE_GQL_EINVALID && rc != COMPLIANCE_GQL_ENOMEM))
    {
        fuzz_gql_fail("limit name does not match the code");
    }

    for (m = (const u_char *) res->message; *m; m++) {
        if (*m < 0x20 || *m > 0x7e || *m == '"' || *m == '\\') {
            fuzz_gql_fail("message not plain printable ASCII");
        }
    }

    /* a fixed text: neither in the document nor in the arena */
    m = (const u_char *) res->message;

    if ((m >= doc && m <= doc + len)
        || (m >= fuzz_gql_arena && m < fuzz_gql_arena + FUZZ_GQL_ARENA))
    {
        fuzz_gql_fail("message points into the document or the arena");
    }

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           rc, rc2;
    size_t                        op_len;
    const u_char                 *doc, *op, *nl;
    compliance_graphql_limits_t   wide, tight;
    compliance_graphql_result_t   res, res2;

    doc = data;
    op = NULL;
    op_len = 0;

    if (size > 0 && data[0] == 'O') {
        nl = memchr(data, '\n', size);
        if (nl != NULL) {
            op = data + 1;
            op_len = (size_t) (nl - op);
            doc = nl + 1;
        }
    }

    size -= (size_t) (doc - data);

    wide.max_depth = UINT64_MAX;
    wide.max_aliases = UINT64_MAX;
    wide.max_tokens = UINT64_MAX;
    wide.introspection = 1;

    rc = fuzz_gql_run(doc, size, op, op_len, &wide, FUZZ_GQL_ARENA, &res);

    rc2 = fuzz_gql_run(doc, size, op, op_len, &wide, FUZZ_GQL_ARENA, &res2);
    if (rc2 != rc || res2.depth != res.depth || res2.aliases != res.aliases
        || res2.tokens != res.tokens || res2.offset != res.offset
        || res2.introspection != res.introspection)
    {
        fuzz_gql_fail("two runs differ");
    }

    if (rc == COMPLIANCE_GQL_ENOMEM) {
        fuzz_gql_fail("ENOMEM with an ample arena");
    }

    rc2 = fuzz_gql_run(doc, size, op, op_len, &wide, 512, &res2);
    if (rc2 != rc && rc2 != COMPLIANCE_GQL_ENOMEM) {
        fuzz_gql_fail("a small arena changed the answer");
    }

    if (rc != COMPLIANCE_GQL_OK) {
        /* a depth or alias limit cannot turn a refusal into OK */
        tight = wide;
        tight.max_depth = 3;
        tight.max_aliases = 2;
        tight.introspection = 0;

        if (fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA,
                         &res2) == COMPLIANCE_GQL_OK)
        {
            fuzz_gql_fail("tighter limits accepted a refused document");
        }

        return 0;
    }

    /* limits equal to the figures */
    tight = wide;
    tight.max_depth = res.depth;
    tight.max_aliases = res.aliases;
    tight.max_tokens = res.tokens;

    if (fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA, &res2)
        != COMPLIANCE_GQL_OK)
    {
        fuzz_gql_fail("refused under limits equal to its figures");
    }

    if (res.depth > 0) {
        tight.max_depth = res.depth - 1;
        if (fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA,
                         &res2) != COMPLIANCE_GQL_EDEPTH)
        {
            fuzz_gql_fail("depth - 1 not refused as too deep");
        }
        tight.max_depth = res.depth;
    }

    if (res.aliases > 0) {
        tight.max_aliases = res.aliases - 1;
        if (fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA,
                         &res2) != COMPLIANCE_GQL_EALIASES)
        {
            fuzz_gql_fail("aliases - 1 not refused as too many aliases");
        }
        tight.max_aliases = res.aliases;
    }

    tight.max_tokens = res.tokens - 1;
    if (fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA, &res2)
        != COMPLIANCE_GQL_ETOKENS)
    {
        fuzz_gql_fail("tokens - 1 not refused as too many tokens");
    }
    tight.max_tokens = res.tokens;

    tight.introspection = 0;
    rc2 = fuzz_gql_run(doc, size, op, op_len, &tight, FUZZ_GQL_ARENA, &res2);
    if (rc2 != (res.introspection ? COMPLIANCE_GQL_EINTROSPECTION
                                  : COMPLIANCE_GQL_OK))
    {
        fuzz_gql_fail("introspection off: wrong answer");
    }

    return 0;
}
