/*
 * The architecture seam of the kernel, AArch64 side: the same names as
 * kernel/arch/x86_64/machine.h, which explains the seam.
 *
 * Barriers, as the architecture requires them around the MMU: a page-table
 * store is made visible to the table walker with DSB ISHST before the TLBI;
 * the TLBI is complete once DSB ISH has passed, and ISB makes this CPU's
 * later instructions use the result.  The ...IS forms broadcast to every
 * CPU of the inner-shareable domain in hardware: a shootdown needs no IPI.
 */
#ifndef KERNEL_MACHINE_H
#define KERNEL_MACHINE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define ARCH_NAME       "AArch64"
#define ARCH_CLOCK_NAME "CNTVCT"

/* The generic timer's virtual count (bootinfo.tsc_hz = CNTFRQ_EL0). */
static inline uint64_t arch_ticks(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

static inline void arch_relax(void) { __asm__ volatile("yield" ::: "memory"); }

/* Only IRQ is used as "interrupts" (DAIF.I); the others stay masked. */
static inline void arch_irq_off(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline void arch_irq_on(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline bool arch_irq_enabled(void)
{
	uint64_t daif;

	__asm__ volatile("mrs %0, daif" : "=r"(daif));
	return !(daif & (1u << 7));
}
/* WFE, then unmask: it ends on an event (SEV from another CPU, the timer's
 * event stream within about 1 ms) or on an interrupt pending even while
 * masked, which is taken as soon as it is unmasked; so the caller's check
 * before it loses no wake-up and the wait is bounded (no interrupt
 * controller is set up to end a WFI). */
static inline void arch_irq_on_and_wait(void)
{
	__asm__ volatile("wfe; msr daifclr, #2" ::: "memory");
}

/* This CPU's TLB only: one page (any ASID), or everything. */
static inline void arch_tlb_flush_page(uint64_t va)
{
	__asm__ volatile("dsb ishst; tlbi vaae1, %0; dsb nsh; isb"
	                 :: "r"((va >> 12) & 0xFFFFFFFFFFFull) : "memory");
}
static inline void arch_tlb_flush_all(void)
{
	__asm__ volatile("dsb ishst; tlbi vmalle1; dsb nsh; isb" ::: "memory");
}
/* Every CPU's TLB, by the hardware broadcast. */
static inline void arch_tlb_flush_page_all_cpus(uint64_t va)
{
	__asm__ volatile("dsb ishst; tlbi vaae1is, %0; dsb ish; isb"
	                 :: "r"((va >> 12) & 0xFFFFFFFFFFFull) : "memory");
}
static inline void arch_tlb_flush_all_cpus(void)
{
	__asm__ volatile("dsb ishst; tlbi vmalle1is; dsb ish; isb" ::: "memory");
}

/* TTBR0_EL1's table: the lower half, hostmem's. */
static inline uint64_t arch_managed_root(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, ttbr0_el1" : "=r"(v));
	return v & 0x0000FFFFFFFFF000ull;
}

/* Clean and invalidate [va, va + n) to the point of coherency, line by
 * line (CTR_EL0.DminLine), then DSB SY: the memory holds the data before
 * the frame is mapped with another memory type. */
static inline void arch_cache_clean(uint64_t va, size_t n)
{
	uint64_t ctr, line;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ull << ((ctr >> 16) & 0xF);
	for (uint64_t a = va & ~(line - 1); a < va + n; a += line)
		__asm__ volatile("dc civac, %0" :: "r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

/* Instructions written as data at va may run now: the data cache lines are
 * cleaned to the point of unification, then the instruction cache's
 * invalidated, each in steps of its smallest line (CTR_EL0). */
static inline void arch_sync_icache(uint64_t va, size_t n)
{
	uint64_t ctr, dline, iline;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	dline = 4ull << ((ctr >> 16) & 0xF);
	iline = 4ull << (ctr & 0xF);
	for (uint64_t a = va & ~(dline - 1); a < va + n; a += dline)
		__asm__ volatile("dc cvau, %0" :: "r"(a) : "memory");
	__asm__ volatile("dsb ish" ::: "memory");
	for (uint64_t a = va & ~(iline - 1); a < va + n; a += iline)
		__asm__ volatile("ic ivau, %0" :: "r"(a) : "memory");
	__asm__ volatile("dsb ish; isb" ::: "memory");
}

static inline void arch_full_barrier(void) { __asm__ volatile("dsb sy" ::: "memory"); }

static inline void arch_undefined_instruction(void) { __asm__ volatile("udf #0"); }

/* For tests: a breakpoint instruction; a return instruction's bytes (code
 * written into data pages); how many top-level entries cover the lower
 * half (hostmem's); the least rate the cycle counter can have. */
static inline void arch_breakpoint(void) { __asm__ volatile("brk #0"); }
#define ARCH_RET_BYTES          { 0xC0, 0x03, 0x5F, 0xD6 }
#define ARCH_LOWER_HALF_ENTRIES 512
#define ARCH_CLOCK_MIN_HZ       10000000ull

/* Exactly 2n + 2 instructions: subs and b.ne per turn. */
static inline void arch_spin_insns(uint64_t n)
{
	__asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) :: "cc");
}

/* DC ZVA's block in bytes (DCZID_EL0), or 0 where it is prohibited. */
static inline uint64_t arch_zva_block(void)
{
	uint64_t dczid;

	__asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
	return dczid & 16 ? 0 : 4ull << (dczid & 15);
}

/* Zeroes whole DC ZVA blocks of [d, d + n): the CPU's own clear of a block
 * (normal memory only: it faults on device memory, which memset never
 * gets).  Returns how far it got from d. */
static inline size_t arch_zero_blocks(uint8_t *d, size_t n)
{
	uint64_t block = arch_zva_block(), start, end;

	if (!block)
		return 0;
	start = ((uintptr_t)d + block - 1) & ~(block - 1);
	end = ((uintptr_t)d + n) & ~(block - 1);
	if (end <= start || start != (uintptr_t)d)
		return 0;
	for (uint64_t a = start; a < end; a += block)
		__asm__ volatile("dc zva, %0" :: "r"(a) : "memory");
	return end - start;
}

/* memset's body: a zero fill from a block boundary is DC ZVA (hostmem
 * clears frames so); otherwise bytes up to an 8-byte boundary, words, the
 * tail (no unaligned access: -mstrict-align). */
static inline void arch_memset(void *dst, uint8_t c, size_t n)
{
	uint8_t *d = dst;
	uint64_t v = 0x0101010101010101ull * c;
	size_t done = c ? 0 : arch_zero_blocks(d, n);

	d += done;
	n -= done;
	for (; n && ((uintptr_t)d & 7); n--)
		*d++ = c;
	for (; n >= 8; n -= 8, d += 8)
		*(uint64_t *)d = v;
	for (; n; n--)
		*d++ = c;
}

/* The bench's reference, the CPU's own clear: DC ZVA (the bench's 64 MiB
 * are block-aligned). */
#define ARCH_FILL_NAME "dc_zva"
static inline void arch_fill_zero(void *d, uint64_t bytes)
{
	arch_zero_blocks(d, bytes);
}

static inline void __attribute__((noreturn)) arch_halt_forever(void)
{
	for (;;)
		__asm__ volatile("msr daifset, #0xf; wfi");
}

void arch_init_boot_cpu(void);
void arch_init_memory(void);

#endif
