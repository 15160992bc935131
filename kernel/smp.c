/*
 * smp.c - many CPUs, the part every architecture shares: the CPU table, work
 * on every CPU (smp_run_all) and the fault record it keeps for the tests.
 * Bring-up, wake-ups, the idle loop, the TLB shootdown, the write-buffer
 * barrier and the sleeping waits are the architecture's
 * (kernel/arch/<arch>/smp.c, each with its own theory); the two halves
 * reach each other through smp_arch.h.
 *
 * Theory
 * ------
 * 1. The CPU table.  cpus[] holds each CPU's per-CPU block (struct cpu is
 *    the architecture's, percpu.h): cpus[0] is the boot CPU, the others are
 *    numbered in the order they came up.  A starting CPU's last act before
 *    it idles is smp_cpu_online: it joins the work protocol at the current
 *    generation (so it never runs work published before it came), then sets
 *    its online flag (release).  Only the boot CPU raises ncpus, and only
 *    after it has seen that flag (acquire), so every CPU below
 *    smp_cpu_count() is online.  A CPU that does not come up within 1 s
 *    keeps no number: the next one is started in its place.
 *
 * 2. Work.  smp_run_all stores (fn, arg), zeroes work_done and publishes
 *    the lot with a new work_gen; it wakes the others, runs fn itself and
 *    waits up to 60 s for work_done to reach the CPUs online at the start.
 *    An idle CPU that sees a generation it has not run runs fn once and
 *    adds itself to work_done.  Ordering: the increment of work_gen is a
 *    release and the idle CPU's load of it an acquire, so a CPU that sees
 *    the new generation sees the new fn, arg and the zeroed count; each
 *    CPU's add to work_done is a release and the initiator's load an
 *    acquire, so when smp_run_all returns it sees everything fn did on
 *    every CPU, the fault record included.  Release is all the memory
 *    model is asked for.  Seq_cst would add nothing: the sleeper and the
 *    waker are not a Dekker pair, since an idle CPU announces nothing in
 *    memory before it sleeps; it sleeps in a way a wake-up ends even when
 *    the wake-up came first (x86: cli, the check, sti;hlt with the IPI
 *    pending; AArch64: WFI with the SGI pending, WFE with the event
 *    register set).  What no atomic orders is the wake-up itself, a device
 *    write (the xAPIC's ICR, GICD_SGIR): a CPU woken before the new
 *    generation reached it would look, find nothing and sleep through the
 *    round (on x86 perhaps until the 60 s panic: its idle hlt has no
 *    timer).  So smp_arch_wake_others promises that the caller's earlier
 *    stores are visible before it wakes anyone: on x86 a store to uncached
 *    APIC memory is not reordered with earlier stores; on AArch64 it is DSB
 *    ISH before SEV and the SGI (a store-release orders what comes before
 *    it, not a device write after it).  The initiator marks the generation seen with
 *    the value its increment returned: it is the one it published.
 *
 * 3. Faults.  fn runs inside a recovery point on every CPU, so an
 *    unexpected fault ends fn on that CPU only.  The first fault of a round
 *    is kept: the CPU whose compare-and-swap takes fault.code from 0 writes
 *    the rest of the record, then counts itself done (release), so the
 *    record is whole once smp_run_all has returned; smp_take_fault hands
 *    it over and clears the code for the next round.
 *
 * Shared state and what protects it: cpus[i].online and work_seen are
 * written by CPU i only (online as an atomic); ncpus by the boot CPU
 * (release/acquire); work by the one initiator (the test or bench driver),
 * published through work_gen (release/acquire); work_done by atomics;
 * fault.code by atomics, the rest of fault by the CPU that took the code.
 */
#include "kernel/smp.h"
#include "kernel/smp_arch.h"
#include "kernel/deadline.h"
#include "kernel/recover.h"
#include "machine.h"
#include "percpu.h"

#define AP_STACK (64 * 1024)

struct cpu cpus[MAX_CPUS];
static uint8_t ap_stacks[MAX_CPUS][AP_STACK] __attribute__((aligned(16)));
static unsigned ncpus = 1;

static struct {
	void (*fn)(void *arg, unsigned cpu);
	void *arg;
} work;
static uint64_t work_gen;
static unsigned work_done;
static struct { uint32_t code; unsigned cpu; uint64_t rip, addr; } fault;

/* ------------------------------------------------------------ the CPU table */

unsigned smp_cpu_count(void) { return __atomic_load_n(&ncpus, __ATOMIC_ACQUIRE); }
unsigned smp_cpu_id(void) { return this_cpu()->id; }

void *smp_stack_top(unsigned n) { return ap_stacks[n] + AP_STACK; }

void smp_cpu_online(struct cpu *c)
{
	c->work_seen = __atomic_load_n(&work_gen, __ATOMIC_ACQUIRE);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
}

bool smp_cpu_wait_online(struct cpu *c)
{
	uint64_t deadline = deadline_in(1000);

	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
		cpu_relax();
		if (arch_ticks() > deadline)
			return false;           /* reported and left alone (theory 1) */
	}
	return true;
}

void smp_cpus_set(unsigned n) { __atomic_store_n(&ncpus, n, __ATOMIC_RELEASE); }

/* ------------------------------------------------------------ work */

struct work_call { void (*fn)(void *, unsigned); void *arg; };

static void work_trampoline(void *p)
{
	struct work_call *w = p;

	w->fn(w->arg, this_cpu()->id);
}

bool smp_work_claim(struct cpu *c)
{
	uint64_t gen = __atomic_load_n(&work_gen, __ATOMIC_ACQUIRE);   /* theory 2 */

	if (gen == c->work_seen)
		return false;
	c->work_seen = gen;
	return true;
}

void smp_work_run(void)
{
	struct work_call w = { work.fn, work.arg };
	struct fault_info fi;
	uint32_t code = try_call(work_trampoline, &w, &fi), none = 0;

	if (code && __atomic_compare_exchange_n(&fault.code, &none, code, false,
	                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		fault.cpu = this_cpu()->id;             /* theory 3: this CPU's record */
		fault.rip = fi.rip;
		fault.addr = fi.addr;
	}
	__atomic_add_fetch(&work_done, 1, __ATOMIC_RELEASE);
}

void smp_run_all(void (*fn)(void *arg, unsigned cpu), void *arg)
{
	unsigned n = smp_cpu_count();
	uint64_t deadline;

	work.fn = fn;
	work.arg = arg;
	__atomic_store_n(&work_done, 0, __ATOMIC_RELAXED);
	/* Release: fn, arg and the zero before the generation; the wake-up
	 * after it orders itself (theory 2). */
	this_cpu()->work_seen = __atomic_add_fetch(&work_gen, 1, __ATOMIC_RELEASE);
	if (n > 1)
		smp_arch_wake_others();
	smp_work_run();
	deadline = deadline_in(60000);
	while (__atomic_load_n(&work_done, __ATOMIC_ACQUIRE) < n) {
		cpu_relax();
		deadline_check(deadline, "smp_run_all: the other CPUs did not finish within 60 s");
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
