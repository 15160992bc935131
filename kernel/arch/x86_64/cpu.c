/*
 * The control registers every CPU sets for itself.
 */
#include "cpu.h"

/* What every CPU sets for itself (smp.c calls it on the others): CR0.WP
 * makes read-only pages read-only for ring 0 too; EFER.NXE gives the NX bit
 * meaning; PAT entry 1 becomes write-combining for PAGE_WRITECOMBINE. */
void cpu_setup(void)
{
	write_cr0(read_cr0() | CR0_WP);
	write_cr4(read_cr4() & ~(CR4_SMEP | CR4_SMAP));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	wrmsr(MSR_PAT, (rdmsr(MSR_PAT) & ~0xFF00ull) | (0x01ull << 8));
}
