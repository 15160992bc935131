/* What the AArch64 files share about the CPU's own set-up (cpu.c). */
#ifndef KERNEL_AARCH64_CPU_H
#define KERNEL_AARCH64_CPU_H

#include <stdint.h>

/* The physical address behind a kernel virtual address (AT S1E1R). */
uint64_t virt_to_phys(const void *va);

/* What every CPU sets for itself: SCTLR_EL1 (WXN, A off, SPAN on), PAN
 * off, the generic timer's event stream (a WFE ends within about 1 ms). */
void cpu_setup(void);

/* This CPU's TTBR0 becomes hostmem's table, its TLB emptied. */
void cpu_lower_half_install(void);

#endif
