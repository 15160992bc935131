/*
 * The per-CPU block: what each CPU owns alone.  TPIDR_EL1 holds the running
 * CPU's block, so this_cpu() is one register read and needs no lock:
 * nobody else writes these fields, except where a field names its atomic.
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <stdint.h>
#include <stdbool.h>

#define MAX_CPUS 8

struct recover_point;

struct cpu {
	unsigned id;                     /* 0 is the boot CPU */
	uint64_t mpidr;                  /* its MPIDR_EL1 affinity (PSCI's name for it) */
	struct recover_point *innermost; /* fault recovery chain (recover.c) */
	uint64_t work_seen;              /* last smp_run_all work run (kernel/smp.c) */
	bool online;                     /* set once by the CPU itself (atomic) */
};

extern struct cpu cpus[MAX_CPUS];

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("mrs %0, tpidr_el1" : "=r"(c));
	return c;
}

/* Makes c the running CPU's block (sets TPIDR_EL1). */
void percpu_set(struct cpu *c);

/* One iteration of a wait: yield (another vCPU, or a sibling thread, may
 * run).  Nothing else: a shootdown is the hardware's (broadcast TLBI) and
 * asks nothing of the waiting CPU. */
void cpu_relax(void);

#endif
