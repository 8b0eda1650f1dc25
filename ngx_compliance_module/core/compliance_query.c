/*
 * Query-string hygiene: credentials never belong in a URL, where proxies,
 * browsers and access logs keep them.
 */

#include "compliance_query.h"
#include "compliance_token.h"


/* a parameter value longer than this (raw) cannot be a credential */
#define COMPLIANCE_QUERY_MAX_VALUE  (3 * 8192)


int
compliance_query_has_credential(const u_char *args, size_t len)
{
    size_t  start, end, value;

    start = 0;

    while (start < len) {

        for (end = start; end < len && args[end] != '&' && args[end] != ';';
             end++)
        {
            /* void */
        }

        /* a name alone ("?api_key") counts: it was meant to hold one */
        if (compliance_token_param(args, end, start, &value)
            == COMPLIANCE_TOKEN_PARAM_CREDENTIAL)
        {
            return 1;
        }

        for (value = start; value < end && args[value] != '='; value++) {
            /* void */
        }

        if (value < end && end - value - 1 <= COMPLIANCE_QUERY_MAX_VALUE
            && compliance_token_is_credential(args + value + 1,
                                              end - value - 1))
        {
            return 1;
        }

        start = end + 1;
    }

    return 0;
}
