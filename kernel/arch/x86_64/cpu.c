/*
 * The control registers every CPU sets for itself.
 */
#include "cpu.h"
#include "machine.h"
#include "trap.h"
#include "kernel/qemu.h"
#include "kernel/smp.h"
#include "kernel/boot.h"

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

void arch_init_boot_cpu(void)
{
	idt_init();
	smp_init_boot_cpu();
}

/* The loader's lower half held only its identity-mapped trampoline: the
 * PML4's entries 0..255 go, and the lower half is hostmem's. */
void arch_init_memory(void)
{
	uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xFFFull);

	for (int i = 0; i < 256; i++)
		pml4[i] = 0;
	cpu_setup();
	flush_tlb();
}

/* isa-debug-exit ends QEMU with status (code << 1) | 1. */
void qemu_exit(unsigned code)
{
	outb(0xF4, (uint8_t)code);
	halt_forever();
	__builtin_unreachable();
}
