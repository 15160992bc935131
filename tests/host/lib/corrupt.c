/*
 * corrupt.c - planted corruption for tests.  See corrupt.h.
 */
#include "hostmem/hm.h"
#include "tests/host/lib/corrupt.h"

void corrupt_commit_charge(IHostMemoryManager *m)
{
	hm_of(m)->charge++;
}
