/* Thin wrappers around the x86-64 instructions the kernel needs. */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stdint.h>
#include <stdbool.h>

#include "portio.h"

#define CR0_WP    (1ull << 16)
#define CR4_SMEP  (1ull << 20)
#define CR4_SMAP  (1ull << 21)
#define MSR_EFER  0xC0000080u
#define EFER_NXE  (1ull << 11)
#define RFLAGS_IF (1ull << 9)
#define MSR_PAT   0x277u

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#define DEFINE_CR(n) \
	static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline bool interrupts_on(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f & RFLAGS_IF;
}
static inline void flush_tlb(void) { write_cr3(read_cr3()); }
static inline void halt_forever(void) { for (;;) __asm__ volatile("cli; hlt"); }

/* The control registers and MSRs every CPU sets for itself (cpu.c: the boot
 * CPU in kmain, the others as smp.c starts them). */
void cpu_setup(void);

#endif
