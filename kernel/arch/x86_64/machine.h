/*
 * The architecture seam of the kernel, x86-64 side.  The kernel's core
 * (the files of kernel/, the console, the demo, the bench and the portable tests)
 * reaches the CPU only through the names below; every kernel/arch/<arch>/
 * provides the same ones, included by bare name ("machine.h"; hostmem's
 * own per-MMU header is hostmem/arch/<arch>/pte_arch.h).  The other
 * headers each architecture provides by bare name: trap.h (struct trapframe
 * and its accessors), percpu.h (MAX_CPUS; struct cpu with .id, .innermost,
 * .online and .work_seen; this_cpu(), cpu_relax()).  kernel/smp_arch.h
 * names what each arch's smp.c gives the core's kernel/smp.c.
 */
#ifndef KERNEL_MACHINE_H
#define KERNEL_MACHINE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "cpu.h"

#define ARCH_NAME       "x86-64"
#define ARCH_CLOCK_NAME "TSC"

/* The cycle counter the loader calibrated (bootinfo.tsc_hz ticks a second). */
static inline uint64_t arch_ticks(void) { return rdtsc(); }

/* One turn of a spin loop: lets a sibling thread (or another vCPU) run. */
static inline void arch_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static inline void arch_irq_off(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void arch_irq_on(void) { __asm__ volatile("sti" ::: "memory"); }
static inline bool arch_irq_enabled(void) { return interrupts_on(); }
/* Interrupts on and wait for one, with no window between the two: an
 * interrupt that arrives after the caller's last check still ends the wait
 * (sti's one-instruction shadow). */
static inline void arch_irq_on_and_wait(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* This CPU's TLB only: one page, or every non-global translation. */
static inline void arch_tlb_flush_page(uint64_t va) { invlpg(va); }
static inline void arch_tlb_flush_all(void) { flush_tlb(); }

/* The physical address of the table hostmem manages the lower half with. */
static inline uint64_t arch_managed_root(void) { return read_cr3() & ~0xFFFull; }

/* Writes back and invalidates the cache lines of [va, va + n), then orders
 * them before anything after: the memory holds the data before the frame
 * is mapped with another memory type. */
static inline void arch_cache_clean(uint64_t va, size_t n)
{
	for (size_t i = 0; i < n; i += 64)
		__asm__ volatile("clflush %0" :: "m"(*(const volatile uint8_t *)(va + i)) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

/* Instructions written as data at va may run now: x86-64 keeps its
 * instruction fetch coherent with stores. */
static inline void arch_sync_icache(uint64_t va, size_t n) {}

/* A full barrier for memory accesses of every kind. */
static inline void arch_full_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

/* An instruction the CPU refuses (the runner's crash=ud check). */
static inline void arch_undefined_instruction(void) { __asm__ volatile("ud2"); }

/* For tests: a breakpoint instruction; a return instruction's bytes (code
 * written into data pages); how many top-level entries cover the lower
 * half (hostmem's); the least rate the cycle counter can have. */
static inline void arch_breakpoint(void) { __asm__ volatile("int3"); }
#define ARCH_RET_BYTES          { 0xC3 }
#define ARCH_LOWER_HALF_ENTRIES 256
#define ARCH_CLOCK_MIN_HZ       100000000ull

/* Exactly 2n + 2 instructions, for counting under -icount (the bench). */
static inline void arch_spin_insns(uint64_t n)
{
	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) :: "cc");
}

/* The fastest way this CPU clears memory (the bench's reference fill). */
#define ARCH_FILL_NAME "rep_stosq"
static inline void arch_fill_zero(void *d, uint64_t bytes)
{
	uint64_t n = bytes / 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory");
}

/* memset's body (kernel/string.c): rep stosq for the words (the fastest
 * fill here, under TCG as on hardware), rep stosb for the tail. */
static inline void arch_memset(void *d, uint8_t c, size_t n)
{
	uint64_t v = 0x0101010101010101ull * c;
	size_t words = n / 8, tail = n % 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(v) : "memory");
}

static inline void __attribute__((noreturn)) arch_halt_forever(void) { halt_forever(); }

/* The boot CPU's state before anything can fault (main.c, first): its
 * per-CPU block and exception table. */
void arch_init_boot_cpu(void);
/* The boot CPU once the boot info is checked: its control registers, and
 * the lower half emptied for hostmem. */
void arch_init_memory(void);

#endif
