/*
 * Shared includes and helpers for the core/ unit tests (cmocka).
 */

#ifndef _COMPLIANCE_UNIT_H_INCLUDED_
#define _COMPLIANCE_UNIT_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>


/*
 * Wycheproof vectors live in ../shared/testdata (never in this repository).
 * COMPLIANCE_TESTDATA overrides the location; a test that finds no vectors
 * calls skip(), which cmocka reports visibly as SKIPPED.
 */
static inline const char *
unit_testdata_dir(void)
{
    const char  *d;

    d = getenv("COMPLIANCE_TESTDATA");

    return d ? d : "../shared/testdata";
}


#endif /* _COMPLIANCE_UNIT_H_INCLUDED_ */
