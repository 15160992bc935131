/*
 * Many CPUs: bring-up, the CPUs online, and running a function on all of
 * them (tests).  The theory statements are at the top of kernel/smp.c (the
 * CPU table, work on every CPU, its fault record) and of each
 * kernel/arch/<arch>/smp.c (bring-up, wake-ups, idle, shootdown, waits).
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdint.h>

unsigned smp_cpu_count(void);   /* CPUs online */
unsigned smp_cpu_id(void);      /* the calling CPU; 0 is the boot CPU */
/* Runs fn(arg, cpu) on every online CPU at once, the caller's included, and returns
   when all have returned. Fault recovery and KASSERT work inside fn on any CPU. */
void smp_run_all(void (*fn)(void *arg, unsigned cpu), void *arg);

/* Boot CPU: its per-CPU block, before anything can fault. */
void smp_init_boot_cpu(void);
/* Boot CPU: finds the other CPUs (ACPI MADT) and starts them; prints the
 * "cpus: N online" line. */
void smp_start_others(void);

/* TLB shootdown (hostmem's platform, kernel/memory.c): va[0..n) on every
 * online CPU, or everything when n == 0; returns once every CPU has done
 * it.  The caller holds the lock that makes it the only initiator. */
void smp_shootdown(const uint64_t *va, unsigned n);

/* Returns after every online CPU has executed a full barrier
 * (FlushProcessWriteBuffers): x86-64, mfence on an IPI, each acknowledging
 * with a generation number, as a shootdown; AArch64, DSB ISH, TLBI
 * VMALLE1IS, DSB ISH, which completes only once every CPU's accesses
 * through the entries are done. */
void smp_barrier_all(void);
/* How many barriers this CPU has executed for smp_barrier_all (tests). */
uint64_t smp_barriers_done(unsigned cpu);

/* An unexpected fault in fn on some CPU during the last smp_run_all: its
 * exception code (0 if none), for the test harness. */
uint32_t smp_take_fault(uint64_t *rip, uint64_t *addr, unsigned *cpu);

/* Waits until *word == want (acquire), panicking with what past deadline.
 * With interrupts on it spins briefly, then sleeps (hlt; WFI) until
 * smp_wake names that value; with them off (a page fault) it only spins.
 * The writer of *word stores it (seq_cst) and then calls smp_wake. */
void smp_wait_for(const uint32_t *word, uint32_t want, uint64_t deadline, const char *what);
void smp_wake(const uint32_t *word, uint32_t value);

#endif
