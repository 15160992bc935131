/* Self tests of the x86-64 CPU set-up the kernel relies on. */
#include "kernel/ktest.h"
#include "cpu.h"

KTEST(cpu_enforces_wp_and_nx)
{
	KASSERT(read_cr0() & CR0_WP);
	KASSERT(rdmsr(MSR_EFER) & EFER_NXE);
}
