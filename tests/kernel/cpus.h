/* For the tests that need more than one CPU (make test boots 4; SMP=1
 * makes them fail with that reason). */
#ifndef TESTS_KERNEL_CPUS_H
#define TESTS_KERNEL_CPUS_H

#include "kernel/ktest.h"
#include "kernel/smp.h"
#include "kernel/boot.h"

#define NEED_CPUS(n) \
	do { if (smp_cpu_count() < (n)) { \
		ktest_fail(t, __FILE__, __LINE__, "needs %d CPUs, %u online (SMP=%u)", (n), \
		           smp_cpu_count(), (unsigned)cmdline_number("smp", 0)); \
		return; } } while (0)

#endif
