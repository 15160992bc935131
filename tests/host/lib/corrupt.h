/*
 * corrupt.h - planted corruption for the tests of the dead state and of
 * verify.  Only tests link it: the library a user links has no way to break
 * its own invariants on purpose.
 */
#ifndef TESTS_HOST_LIB_CORRUPT_H
#define TESTS_HOST_LIB_CORRUPT_H

#include "hostmem/hostmem.h"

/* Breaks "charge == committed PTEs" (one page too many charged), so the
 * next verify, inside a call or hostmem_verify, fails. */
void corrupt_commit_charge(IHostMemoryManager *m);

#endif
