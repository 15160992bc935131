/*
 * The per-CPU block: what each CPU owns alone.  %gs points at the running
 * CPU's block (IA32_GS_BASE), whose first field points at itself, so
 * this_cpu() is one load and needs no lock: nobody else writes these fields,
 * except where a field says which atomic protects it.
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <stdint.h>
#include <stdbool.h>

#define MAX_CPUS 8

struct recover_point;

struct cpu {
	struct cpu *self;                /* first: %gs:0 */
	unsigned id;                     /* 0 is the boot CPU */
	uint32_t apic_id;
	struct recover_point *innermost; /* fault recovery chain (recover.c) */
	uint64_t shoot_seen;             /* last shootdown applied (arch smp.c; atomic) */
	uint64_t work_seen;              /* last smp_run_all work run (kernel/smp.c) */
	uint64_t barrier_seen;           /* last smp_barrier_all done (arch smp.c; atomic) */
	bool online;                     /* set once by the CPU itself (atomic) */
	bool active;                     /* may hold lower-half translations (arch smp.c, 3; atomic) */
	bool sleeping;                   /* in smp_wait_for's hlt (arch smp.c, 5; atomic) */
	const uint32_t *wait_word;       /* what it sleeps on, until *wait_word == wait_value; */
	uint32_t wait_value;             /*   written before sleeping is set */
	uint64_t sleeps, timer_wakes;    /* sleep_once's count, and how many its timer ended (tests) */
	uint64_t gdt[5];
	uint8_t tss[104] __attribute__((aligned(16)));
	uint8_t idt[4096] __attribute__((aligned(16)));
};

extern struct cpu cpus[MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* Makes c the running CPU's block (sets IA32_GS_BASE). */
void percpu_set(struct cpu *c);

/* One iteration of a wait: pause, and the work another CPU may be waiting
 * for from this one (a TLB shootdown), since a spinning CPU may have
 * interrupts off. */
void cpu_relax(void);

#endif
