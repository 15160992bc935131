/*
 * The seam inside "many CPUs": what the core (kernel/smp.c: the CPU table,
 * work on every CPU, the fault record) and each kernel/arch/<arch>/smp.c
 * (bring-up, wake-ups, the idle loop, shootdown, barrier, sleeping waits)
 * give each other.  The rest of the kernel uses kernel/smp.h only.
 */
#ifndef KERNEL_SMP_ARCH_H
#define KERNEL_SMP_ARCH_H

#include <stdbool.h>
#include "percpu.h"

/* ---------------------------------------------------------- the core's */

/* The top of CPU n's stack (n > 0), for its start code. */
void *smp_stack_top(unsigned n);

/* A starting CPU, last on its way up, before it idles: joins the work
 * protocol at the current generation, then marks itself online (release:
 * everything it set up before is visible to whoever sees it online). */
void smp_cpu_online(struct cpu *c);
/* Boot CPU: waits up to 1 s for c to mark itself online; true if it did. */
bool smp_cpu_wait_online(struct cpu *c);
/* Boot CPU: cpus[0..n) are online (smp_cpu_count() == n from now on). */
void smp_cpus_set(unsigned n);

/* The idle loop's question: has work been published that this CPU has not
 * run?  If so it is now marked seen and the caller must run it
 * (smp_work_run) before it asks again: the initiator waits for it. */
bool smp_work_claim(struct cpu *c);
/* Runs the published work on this CPU inside a recovery point and counts
 * this CPU done (smp.c theory 2, 3). */
void smp_work_run(void);

/* ---------------------------------------------------------- the architecture's */

/* Wakes every other online CPU from its idle sleep.  Every store the caller
 * made before the call is visible to a CPU before that CPU can wake from
 * it (smp.c theory 2 says why the memory model alone cannot promise it). */
void smp_arch_wake_others(void);

#endif
