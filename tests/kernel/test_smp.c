/*
 * Many CPUs on the real MMU (kernel/smp.h, each architecture's smp.c):
 * bring-up, work on every CPU, per-CPU fault recovery, the TLB shootdown
 * (QEMU keeps a TLB per vCPU, so a missing IPI on x86-64 or a missing
 * broadcast TLBI on AArch64 leaves a stale translation a test can read
 * through), and the contract under contention.  These need 2 CPUs or more (make test boots 4;
 * SMP=1 makes them fail with that reason).
 */
#include "kernel/ktest.h"
#include "kernel/deadline.h"
#include "kernel/smp.h"
#include "kernel/boot.h"
#include "machine.h"
#include "kernel/print.h"
#include "hostmem/format.h"
#include "tests/kernel/vm.h"
#include "tests/kernel/cpus.h"

/* Waits for *flag >= want without servicing shootdowns (cpu_relax would on
 * x86-64): only the shootdown itself may flush this CPU's TLB in the tests
 * that use it. */
static bool wait_flag(volatile int *flag, int want)
{
	uint64_t deadline = deadline_in(5000);

	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < want) {
		arch_relax();
		if (arch_ticks() > deadline)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ bring-up */

struct census { unsigned mask, ids[8]; struct ktest_run *t; };

static void count_in(void *arg, unsigned cpu)
{
	struct census *c = arg;

	__atomic_or_fetch(&c->mask, 1u << cpu, __ATOMIC_ACQ_REL);
	c->ids[cpu] = smp_cpu_id();
}

KTEST(every_cpu_the_runner_asked_for_is_online_and_runs_work)
{
	struct census c = { .t = t };
	unsigned n = smp_cpu_count();

	KASSERT_EQ(n, cmdline_number("smp", 1));
	smp_run_all(count_in, &c);
	KASSERT_EQ(c.mask, (1u << n) - 1);
	for (unsigned i = 0; i < n; i++)
		KASSERT_EQ(c.ids[i], i);
	KASSERT_EQ(smp_cpu_id(), 0);
}

struct recovery { unsigned ok; };

/* Each CPU's own recovery chain: a fault on one CPU returns to its own
 * try_read, whatever the others are doing. */
static void fault_everywhere(void *arg, unsigned cpu)
{
	struct recovery *r = arg;
	struct fault_info fi;

	for (int i = 0; i < 50; i++)
		if (try_read((void *)(0x1000ull + cpu * 8), 0, &fi) != STATUS_ACCESS_VIOLATION)
			return;
	__atomic_add_fetch(&r->ok, 1, __ATOMIC_ACQ_REL);
}

KTEST(fault_recovery_works_on_every_cpu_at_once)
{
	struct recovery r = { 0 };

	NEED_CPUS(2);
	smp_run_all(fault_everywhere, &r);
	KASSERT_EQ(r.ok, smp_cpu_count());
}

/* ------------------------------------------------------------ shootdown */

enum change { DECOMMIT, NOACCESS, REUSE };

struct stale {
	struct ktest_run *t;
	enum change change;
	volatile uint8_t *p;              /* the page CPU 1 reads */
	volatile int phase;
	uint32_t code;                    /* CPU 1's read after the change */
	uint8_t value;
	void *other;                      /* REUSE: where the frame went */
};

/* CPU 0 changes the page CPU 1 has a translation for. */
static void stale_change(struct stale *s)
{
	DWORD old;

	if (s->change == DECOMMIT)
		IHostMemoryManager_VirtualFree(mgr(), (void *)s->p, P, MEM_DECOMMIT);
	else if (s->change == NOACCESS)
		IHostMemoryManager_VirtualProtect(mgr(), (void *)s->p, P, PAGE_NOACCESS, &old);
	else {   /* the frames go back and come out again elsewhere, new data */
		release_at((void *)s->p);
		if (alloc(s->other, G, MEM_COMMIT, PAGE_READWRITE, &s->other) == S_OK)
			for (uint64_t i = 0; i < G; i++)
				((volatile uint8_t *)s->other)[i] = 0xC3;
	}
}

static void stale_run(void *arg, unsigned cpu)
{
	struct stale *s = arg;
	uint8_t v = 0;

	if (cpu == 1) {
		if (try_read(s->p, &v, 0) || v != 0x5A)    /* the TLB holds it now */
			return;
		__atomic_store_n(&s->phase, 1, __ATOMIC_RELEASE);
		if (!wait_flag(&s->phase, 2))
			return;
		s->code = try_read(s->p, &s->value, 0);
		__atomic_store_n(&s->phase, 3, __ATOMIC_RELEASE);
	} else if (cpu == 0) {
		if (!wait_flag(&s->phase, 1))
			return;
		stale_change(s);
		__atomic_store_n(&s->phase, 2, __ATOMIC_RELEASE);
		wait_flag(&s->phase, 3);
	}
}

/* After the call that changed the page returns, CPU 1 faults on it: it
 * never reads through the translation it had before. */
static void stale_case(struct ktest_run *t, enum change change)
{
	struct stale s = { .t = t, .change = change };
	void *p;

	KASSERT_EQ(alloc(0, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p), S_OK);
	KASSERT_EQ(alloc(0, G, MEM_RESERVE, PAGE_READWRITE, &s.other), S_OK);
	for (uint64_t i = 0; i < G; i++)
		((volatile uint8_t *)p)[i] = 0x5A;
	s.p = p;
	smp_run_all(stale_run, &s);
	if (change != REUSE)
		release_at(p);
	release_at(s.other);
	KASSERT_EQ(s.phase, 3);
	KASSERT_EQ(s.code, STATUS_ACCESS_VIOLATION);
}

KTEST(a_decommit_leaves_no_stale_translation_on_another_cpu)
{
	NEED_CPUS(2);
	stale_case(t, DECOMMIT);
}

KTEST(a_noaccess_protect_leaves_no_stale_translation_on_another_cpu)
{
	NEED_CPUS(2);
	stale_case(t, NOACCESS);
}

KTEST(a_reused_frame_is_never_read_through_a_stale_translation)
{
	NEED_CPUS(2);
	stale_case(t, REUSE);
}

/* ------------------------------------------------------------ contention */

struct race {
	struct ktest_run *t;
	volatile uint8_t *page;           /* one demand-zero page for everyone */
	volatile int ready;
	unsigned ok;
};

/* Every CPU touches the same untouched page at once: one frame, and every
 * CPU's byte is there afterwards. */
static void touch_together(void *arg, unsigned cpu)
{
	struct race *r = arg;

	__atomic_add_fetch(&r->ready, 1, __ATOMIC_ACQ_REL);
	if (!wait_flag(&r->ready, (int)smp_cpu_count()))
		return;
	if (try_write(r->page + cpu * 64, (uint8_t)(cpu + 1), 0) == 0)
		__atomic_add_fetch(&r->ok, 1, __ATOMIC_ACQ_REL);
}

KTEST(cpus_touching_one_demand_zero_page_get_one_frame)
{
	struct race r = { .t = t };
	struct hostmem_stats before, after;
	void *p;

	NEED_CPUS(2);
	KASSERT_EQ(alloc(0, G, MEM_RESERVE, PAGE_READWRITE, &p), S_OK);
	KASSERT_EQ(alloc(p, P, MEM_COMMIT, PAGE_READWRITE, &p), S_OK);
	r.page = p;
	before = stats();
	smp_run_all(touch_together, &r);
	after = stats();
	KASSERT_EQ(r.ok, smp_cpu_count());
	KASSERT_EQ(after.frames_data, before.frames_data + 1);
	for (unsigned c = 0; c < smp_cpu_count(); c++)
		KASSERT_EQ(r.page[c * 64], c + 1);
	KASSERT_EQ(release_at(p), S_OK);
}

/* Rounds of 5 calls per CPU: smp_rounds= on the command line (make soak
 * sets it), else 5,000: 100,000 calls from 4 CPUs.  They run in
 * STRESS_PHASES phases with verify at each quiescent point between.
 * Contended waits sleep (kernel/smp.c, theory 5): measured, 100,000 calls
 * from 4 vCPUs on 2 host cores take about 19 s; spinning, 2,000 took 12 s. */
#define STRESS_ROUNDS ((unsigned)cmdline_number("smp_rounds", 5000))
#define STRESS_PHASES 10

struct stress { struct ktest_run *t; void *shared; unsigned ops, bad, rounds, phase; };

/* One CPU's share: its own reservations and its own pages of the shared
 * one, with real touches and content checks. */
static void stress_run(void *arg, unsigned cpu)
{
	struct stress *s = arg;
	IHostMemoryManager *m = kernel_memory_manager();
	uint64_t seed = 0x9E3779B97F4A7C15ull * (cpu + 1) + s->phase;
	volatile uint8_t *mine = (volatile uint8_t *)s->shared + cpu * 4 * P;
	void *p, *q;
	DWORD old;

	for (unsigned i = 0; i < s->rounds; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint64_t size = ((seed >> 8) % 16 + 1) * P;
		uint8_t v = (uint8_t)(cpu * 16 + (seed & 15));

		if (IHostMemoryManager_VirtualAlloc(m, 0, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
		                                    eTaskCritical, &p) != S_OK) {
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		((volatile uint8_t *)p)[size - 1] = v;
		if (IHostMemoryManager_VirtualProtect(m, p, size, PAGE_READONLY, &old) != S_OK ||
		    ((volatile uint8_t *)p)[size - 1] != v || ((volatile uint8_t *)p)[0] != 0)
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
		IHostMemoryManager_VirtualAlloc(m, (void *)mine, 4 * P, MEM_COMMIT, PAGE_READWRITE,
		                                eTaskCritical, &q);
		mine[(seed >> 20) % (4 * P)] = v;
		IHostMemoryManager_VirtualFree(m, (void *)mine, 4 * P, MEM_DECOMMIT);
		if (IHostMemoryManager_VirtualFree(m, p, 0, MEM_RELEASE) != S_OK)
			__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
		ktest_progress(__atomic_add_fetch(&s->ops, 5, __ATOMIC_RELAXED));
	}
}

/* Every CPU at once; verify, and counters, frames and page tables exact,
 * at every quiescent point. */
KTEST(the_contract_holds_under_contention_from_every_cpu)
{
	struct stress s = { .t = t };
	struct hostmem_stats before, after;
	char why[192];

	NEED_CPUS(2);
	KASSERT_EQ(alloc(0, smp_cpu_count() * 4 * P, MEM_RESERVE, PAGE_READWRITE, &s.shared), S_OK);
	KASSERT_EQ(hostmem_trim(kernel_memory_manager()), S_OK);
	before = stats();
	for (s.phase = 0; s.phase < STRESS_PHASES; s.phase++) {
		hostmem_set_verify_each(kernel_memory_manager(), false);   /* stats() set it */
		s.rounds = STRESS_ROUNDS / STRESS_PHASES + (s.phase < STRESS_ROUNDS % STRESS_PHASES);
		smp_run_all(stress_run, &s);
		KASSERT_EQ(hostmem_verify(kernel_memory_manager(), why, sizeof(why)), S_OK);
		/* Decommits in the shared reservation may keep its page tables. */
		KASSERT_EQ(hostmem_trim(kernel_memory_manager()), S_OK);
		after = stats();
		KASSERT_EQ(after.commit_charge, before.commit_charge);
		KASSERT_EQ(after.frames_data, before.frames_data);
		KASSERT_EQ(after.frames_tables, before.frames_tables);
		KASSERT_EQ(after.reservations, before.reservations);
	}
	KASSERT_EQ(s.bad, 0);
	KASSERT_EQ(s.ops, smp_cpu_count() * STRESS_ROUNDS * 5);
	KASSERT_EQ(release_at(s.shared), S_OK);
}

/* ------------------------------------------------------------ lost dirty */

#define DIRTY_PAGES 1024

struct dirty {
	struct ktest_run *t;
	volatile uint8_t *p;
	volatile int started, done;
	unsigned rewrites;
};

/* CPU 1 writes each page once; CPU 0 rewrites every PTE of the range again
 * and again (RW <-> RWX: always writable, so no write faults) until it is
 * done.  CPU 1 starts once CPU 0 has (on a loaded host a vCPU may run its
 * 1,024 stores before the other is scheduled at all).  A D bit the CPU sets between hostmem's read of a PTE and its store
 * must survive the store (pagetable.c, leaf_set). */
static void dirty_run(void *arg, unsigned cpu)
{
	struct dirty *d = arg;
	DWORD old, prot = PAGE_EXECUTE_READWRITE;

	if (cpu == 1) {
		wait_flag(&d->started, 1);   /* late or not, the writes are checked */
		/* Backwards, against CPU 0's sweep: they cross at every sweep. */
		for (unsigned k = DIRTY_PAGES; k-- > 0;)
			d->p[(uint64_t)k * P + (k % 64)] = (uint8_t)k;
		__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	} else if (cpu == 0) {
		__atomic_store_n(&d->started, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&d->done, __ATOMIC_ACQUIRE)) {
			IHostMemoryManager_VirtualProtect(kernel_memory_manager(), (void *)d->p,
			                                  DIRTY_PAGES * P, prot, &old);
			prot = prot == PAGE_READWRITE ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
			d->rewrites++;
		}
	}
}

KTEST(a_write_during_a_pte_rewrite_on_another_cpu_is_never_lost)
{
	static void *pages[DIRTY_PAGES];
	struct dirty d = { .t = t };
	ULONG_PTR n = DIRTY_PAGES;
	DWORD gran;
	void *p;

	NEED_CPUS(2);
	KASSERT_EQ(alloc(0, DIRTY_PAGES * P, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
	                 PAGE_READWRITE, &p), S_OK);
	for (unsigned k = 0; k < DIRTY_PAGES; k++)        /* frames now: writes only set D */
		(void)((volatile uint8_t *)p)[(uint64_t)k * P];
	d.p = p;
	/* The race is narrow (a few instructions per PTE): several rounds, so
	 * that without leaf_set's exchange a lost write shows. */
	for (int round = 0; round < 12; round++) {
		hostmem_set_verify_each(kernel_memory_manager(), false);
		d.started = d.done = 0;
		KASSERT_EQ(hostmem_reset_write_watch(kernel_memory_manager(), p, DIRTY_PAGES * P), S_OK);
		smp_run_all(dirty_run, &d);
		n = DIRTY_PAGES;
		KASSERT_EQ(hostmem_get_write_watch(mgr(), 0, p, DIRTY_PAGES * P, pages, &n, &gran), S_OK);
		KEXPECT(n == DIRTY_PAGES);
	}
	release_at(p);
	KASSERT(d.rewrites >= 12);
}

/* ------------------------------------------------------------ write buffers */

struct barrier_call { unsigned ok; };

/* Called from every CPU at once: each call returns only when every online
 * CPU has executed the barrier it asked for (their counters passed it). */
static void barrier_everywhere(void *arg, unsigned cpu)
{
	struct barrier_call *b = arg;

	for (int i = 0; i < 20; i++) {
		uint64_t before[8];
		unsigned n = smp_cpu_count(), behind = 0;

		for (unsigned c = 0; c < n; c++)
			before[c] = smp_barriers_done(c);
		if (hostmem_flush_process_write_buffers(kernel_memory_manager()) != S_OK)
			return;
		for (unsigned c = 0; c < n; c++)
			behind += smp_barriers_done(c) <= before[c];
		if (behind)
			return;
	}
	__atomic_add_fetch(&b->ok, 1, __ATOMIC_ACQ_REL);
}

KTEST(flush_process_write_buffers_reaches_every_cpu)
{
	struct barrier_call b = { 0 };

	NEED_CPUS(2);
	smp_run_all(barrier_everywhere, &b);
	KASSERT_EQ(b.ok, smp_cpu_count());
}

/* ------------------------------------------------------------ IHostMalloc */

#define MALLOC_ROUNDS 3000
#define MALLOC_HELD   8

struct mrace { IHostMalloc *a; unsigned bad, ops; };

/* Every CPU allocates and frees blocks (mostly of one size class, some of
 * every class) from one MALLOC_THREADSAFE allocator, each block filled with its owner's pattern
 * and checked before it is freed: a block handed out twice, or lost, shows. */
static void malloc_run(void *arg, unsigned cpu)
{
	struct mrace *m = arg;
	uint8_t *held[MALLOC_HELD] = { 0 };
	SIZE_T size[MALLOC_HELD] = { 0 };
	uint64_t seed = 0xD1B54A32D192ED03ull * (cpu + 1);

	for (unsigned i = 0; i < MALLOC_ROUNDS; i++) {
		unsigned k = i % MALLOC_HELD;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		if (held[k]) {
			for (SIZE_T j = 0; j < size[k]; j++)
				if (held[k][j] != (uint8_t)(cpu * 31 + k))
					__atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
			if (IHostMalloc_Free(m->a, held[k]) != S_OK)
				__atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
		}
		/* Mostly one class, so every CPU works the same chunk lists. */
		size[k] = (seed >> 16) % 16 ? 48 + (seed >> 24) % 16 : 16 + (seed >> 24) % 3000;
		if (IHostMalloc_Alloc(m->a, size[k], eTaskCritical, (void **)&held[k]) != S_OK) {
			held[k] = 0;
			__atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (SIZE_T j = 0; j < size[k]; j++)
			held[k][j] = (uint8_t)(cpu * 31 + k);
		ktest_progress(__atomic_add_fetch(&m->ops, 1, __ATOMIC_RELAXED));
	}
	for (unsigned k = 0; k < MALLOC_HELD; k++)
		if (held[k] && IHostMalloc_Free(m->a, held[k]) != S_OK)
			__atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
}

KTEST(ihostmalloc_threadsafe_serves_every_cpu_at_once)
{
	struct mrace m = { 0 };
	struct hostmem_stats before, after;
	char why[192];

	NEED_CPUS(2);
	before = stats();
	KASSERT_EQ(IHostMemoryManager_CreateMalloc(mgr(), MALLOC_THREADSAFE, &m.a), S_OK);
	hostmem_set_verify_each(kernel_memory_manager(), false);
	smp_run_all(malloc_run, &m);
	KASSERT_EQ(hostmem_verify(kernel_memory_manager(), why, sizeof(why)), S_OK);
	IHostMalloc_Release(m.a);
	after = stats();
	KASSERT_EQ(m.bad, 0);
	KASSERT_EQ(m.ops, smp_cpu_count() * MALLOC_ROUNDS);
	KASSERT_EQ(after.reservations, before.reservations);
	KASSERT_EQ(after.commit_charge, before.commit_charge);
}

/* ------------------------------------------------------------ lazy TLB */

struct lazy { volatile uint8_t *p; uint32_t warm, after; };

static void lazy_warm(void *arg, unsigned cpu)
{
	struct lazy *l = arg;
	uint8_t v;

	if (cpu == 1)
		l->warm = try_read(l->p, &v, 0);
}

static void lazy_read(void *arg, unsigned cpu)
{
	struct lazy *l = arg;
	uint8_t v;

	if (cpu == 1)
		l->after = try_read(l->p, &v, 0);
}

/* CPU 1 reads a page, goes idle (left out of shootdowns), CPU 0 decommits
 * it, CPU 1 wakes and reads again: the CR3 reload on waking (smp.c, theory
 * 3) is all that stands between it and its old translation. */
KTEST(an_idle_cpu_wakes_with_no_stale_translation)
{
	struct lazy l = { 0 };
	void *p;

	NEED_CPUS(2);
	KASSERT_EQ(alloc(0, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p), S_OK);
	*(volatile uint8_t *)p = 0x5A;
	l.p = p;
	smp_run_all(lazy_warm, &l);
	KASSERT_EQ(IHostMemoryManager_VirtualFree(mgr(), p, P, MEM_DECOMMIT), S_OK);
	smp_run_all(lazy_read, &l);
	release_at(p);
	KASSERT_EQ(l.warm, 0);
	KASSERT_EQ(l.after, STATUS_ACCESS_VIOLATION);
}

/* ------------------------------------------------------------ the console */

#define PRINT_LINES 16
#define PRINT_TEXT  "abcdefghijklmnopqrstuvwxyz0123456789"

static void print_lines(void *arg, unsigned cpu)
{
	for (unsigned k = 0; k < PRINT_LINES; k++)
		kprintf("# console from every cpu: cpu %u line %u " PRINT_TEXT "\n", cpu, k);
}

/* Every CPU prints at once; read back (console_recent), each line is whole:
 * without the console's lock their bytes interleave on the serial port. */
KTEST(lines_printed_from_every_cpu_at_once_stay_whole)
{
	static char buf[CONSOLE_RING + 1];
	char want[96];
	unsigned whole = 0;
	size_t n;

	NEED_CPUS(2);
	smp_run_all(print_lines, 0);
	n = console_recent(buf, CONSOLE_RING);
	buf[n] = 0;
	for (unsigned c = 0; c < smp_cpu_count(); c++)
		for (unsigned k = 0; k < PRINT_LINES; k++) {
			size_t len = hm_snprintf(want, sizeof(want),
			                         "\n# console from every cpu: cpu %u line %u " PRINT_TEXT "\n", c, k);

			for (size_t i = 0; i + len <= n; i++)
				if (buf[i] == '\n' && !__builtin_memcmp(buf + i, want, len)) {
					whole++;
					break;
				}
		}
	KASSERT_EQ(whole, smp_cpu_count() * PRINT_LINES);
}
