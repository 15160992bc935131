/*
 * smp.c - the kernel/smp.h interface on AArch64, with one CPU for now.
 *
 * Other CPUs would start through PSCI CPU_ON (not done yet); until then the
 * boot CPU is the only one online and every operation of smp.h is exact
 * for one CPU:
 *
 * - A shootdown invalidates with the broadcast TLBI forms (VAAE1IS,
 *   VMALLE1IS), which reach every CPU of the inner-shareable domain in
 *   hardware, so it stays correct when more CPUs come: on AArch64 a
 *   shootdown needs no IPI and no acknowledgement.  A batch above
 *   MAX_BATCH pages becomes one full invalidation (cheaper than that many
 *   broadcasts).
 * - A barrier on every CPU is a DSB SY on this one.
 * - smp_run_all runs the work here, inside a recovery point, and keeps an
 *   unexpected fault for smp_take_fault, as on x86-64.
 * - A wait for a word polls it (yield) until the deadline; with one CPU
 *   nothing sleeps in smp_wait_for, so smp_wake has nobody to wake.
 *
 * Shared state: the fault record is written with an atomic exchange; the
 * rest belongs to the one CPU.
 */
#include "kernel/smp.h"
#include "kernel/deadline.h"
#include "kernel/print.h"
#include "kernel/recover.h"
#include "percpu.h"
#include "machine.h"

#define MAX_BATCH 32

struct cpu cpus[MAX_CPUS];
static struct { uint32_t code; unsigned cpu; uint64_t rip, addr; } fault;

unsigned smp_cpu_count(void) { return 1; }
unsigned smp_cpu_id(void) { return this_cpu()->id; }

void percpu_set(struct cpu *c)
{
	__asm__ volatile("msr tpidr_el1, %0" :: "r"(c) : "memory");
}

void cpu_relax(void)
{
	arch_relax();
}

void smp_init_boot_cpu(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	cpus[0].id = 0;
	cpus[0].mpidr = mpidr & 0xFF00FFFFFFull;
	percpu_set(&cpus[0]);
}

void smp_start_others(void)
{
	__atomic_store_n(&cpus[0].online, true, __ATOMIC_RELEASE);
	kprintf("cpus: 1 online (AArch64: the others would start with PSCI CPU_ON, not done yet)\n");
}

void smp_shootdown(const uint64_t *va, unsigned n)
{
	if (n == 0 || n > MAX_BATCH) {
		arch_tlb_flush_all_cpus();
		return;
	}
	for (unsigned i = 0; i < n; i++)
		arch_tlb_flush_page_all_cpus(va[i]);
}

void smp_barrier_all(void)
{
	arch_full_barrier();
	__atomic_add_fetch(&this_cpu()->barriers, 1, __ATOMIC_RELEASE);
}

uint64_t smp_barriers_done(unsigned cpu)
{
	return __atomic_load_n(&cpus[cpu].barriers, __ATOMIC_ACQUIRE);
}

struct work_call { void (*fn)(void *, unsigned); void *arg; };

static void work_trampoline(void *p)
{
	struct work_call *w = p;

	w->fn(w->arg, this_cpu()->id);
}

void smp_run_all(void (*fn)(void *arg, unsigned cpu), void *arg)
{
	struct work_call w = { fn, arg };
	struct fault_info fi;
	uint32_t code = try_call(work_trampoline, &w, &fi), none = 0;

	if (code && __atomic_compare_exchange_n(&fault.code, &none, code, false,
	                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		fault.cpu = this_cpu()->id;
		fault.rip = fi.rip;
		fault.addr = fi.addr;
	}
}

uint32_t smp_take_fault(uint64_t *rip, uint64_t *addr, unsigned *cpu)
{
	uint32_t code = __atomic_exchange_n(&fault.code, 0, __ATOMIC_ACQ_REL);

	*rip = fault.rip;
	*addr = fault.addr;
	*cpu = fault.cpu;
	return code;
}

void smp_wait_for(const uint32_t *word, uint32_t want, uint64_t deadline, const char *what)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != want) {
		deadline_check(deadline, what);
		cpu_relax();
	}
}

void smp_wake(const uint32_t *word, uint32_t value)
{
	/* Nobody sleeps in smp_wait_for with one CPU: nothing to wake. */
}
