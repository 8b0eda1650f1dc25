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
 * The Wycheproof vectors the tests read are part of the tree
 * (t/unit/testdata/wycheproof, see its README.md); the path is relative to
 * the top of the tree, where "make -f Makefile.core check" runs them.
 * COMPLIANCE_TESTDATA overrides the location; a missing vector file fails
 * its test.
 */
static inline const char *
unit_testdata_dir(void)
{
    const char  *d;

    d = getenv("COMPLIANCE_TESTDATA");

    return d ? d : "t/unit/testdata";
}


#endif /* _COMPLIANCE_UNIT_H_INCLUDED_ */
