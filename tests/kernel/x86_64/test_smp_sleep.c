/*
 * Many CPUs on x86-64: what only its mechanism has, the IPIs that reach
 * CPUs asleep in hlt, and the sleeping waits of smp_wait_for (the lazy-TLB
 * set they leave and re-enter, and the APIC timer that bounds them).  The
 * protocol every architecture shares is tested in tests/kernel/test_smp.c.
 */
#include "kernel/ktest.h"
#include "kernel/deadline.h"
#include "kernel/smp.h"
#include "kernel/boot.h"
#include "kernel/memory.h"
#include "cpu.h"
#include "percpu.h"
#include "tests/kernel/vm.h"
#include "tests/kernel/cpus.h"

/* With the other CPUs asleep in hlt, only the IPI reaches them. */
KTEST(flush_process_write_buffers_wakes_idle_cpus)
{
	uint64_t before[8];
	unsigned n = smp_cpu_count();

	NEED_CPUS(2);
	for (unsigned c = 0; c < n; c++)
		before[c] = smp_barriers_done(c);
	KASSERT_EQ(hostmem_flush_process_write_buffers(kernel_memory_manager()), S_OK);
	for (unsigned c = 0; c < n; c++)
		KASSERT(smp_barriers_done(c) > before[c]);
}

/* ------------------------------------------------------------ sleeping waits */

#define WAKE_TRIALS 20

struct nap { struct ktest_run *t; volatile uint8_t *p; uint32_t word, after, done; unsigned rounds; };

/* Until CPU 1 sleeps in smp_wait_for (it spins a little first). */
static void until_cpu1_sleeps(struct ktest_run *t)
{
	uint64_t deadline = deadline_in(5000);

	while (!__atomic_load_n(&cpus[1].sleeping, __ATOMIC_SEQ_CST)) {
		__asm__ volatile("pause" ::: "memory");
		KASSERT(rdtsc() < deadline);
	}
}

static void nap_stale(void *arg, unsigned cpu)
{
	struct nap *n = arg;
	struct ktest_run *t = n->t;
	uint8_t v;

	if (cpu == 1) {
		KASSERT_EQ(try_read(n->p, &v, 0), 0);
		smp_wait_for(&n->word, 1, deadline_in(5000), "test: CPU 1 not woken in 5 s");
		n->after = try_read(n->p, &v, 0);
	} else if (cpu == 0) {
		until_cpu1_sleeps(t);
		KASSERT_EQ(IHostMemoryManager_VirtualFree(mgr(), (void *)n->p, P, MEM_DECOMMIT), S_OK);
		__atomic_store_n(&n->word, 1, __ATOMIC_SEQ_CST);
		smp_wake(&n->word, 1);
	}
}

/* CPU 1 reads a page, then sleeps in a wait (out of the lazy-TLB set, so
 * the decommit's shootdown skips it); CPU 0 decommits and wakes it: the
 * CR3 reload on waking (smp.c, theory 5) is all that keeps CPU 1 from
 * reading the old frame through its old translation. */
KTEST(a_sleeping_waiter_wakes_with_no_stale_translation)
{
	struct nap n = { .t = t };
	void *p;

	NEED_CPUS(2);
	KASSERT_EQ(alloc(0, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p), S_OK);
	*(volatile uint8_t *)p = 0x5A;
	n.p = p;
	smp_run_all(nap_stale, &n);
	release_at(p);
	KASSERT_EQ(n.after, STATUS_ACCESS_VIOLATION);
}

static void nap_wake(void *arg, unsigned cpu)
{
	struct nap *n = arg;
	struct ktest_run *t = n->t;

	for (uint32_t k = 1; k <= n->rounds; k++) {
		if (cpu == 1) {
			smp_wait_for(&n->word, k, deadline_in(5000), "test: CPU 1 not woken in 5 s");
			__atomic_store_n(&n->done, k, __ATOMIC_SEQ_CST);
			smp_wake(&n->done, k);
		} else if (cpu == 0) {
			until_cpu1_sleeps(t);
			__atomic_store_n(&n->word, k, __ATOMIC_SEQ_CST);
			smp_wake(&n->word, k);
			smp_wait_for(&n->done, k, deadline_in(5000), "test: CPU 1 did not go on in 5 s");
		}
	}
}

/* The writer's smp_wake ends the sleep, not the sleeper's 10 ms timer:
 * without the wake every round ends by the timer (WAKE_TRIALS of them); a
 * loaded host may delay an IPI past the timer now and then, hence half. */
KTEST(a_sleeping_waiter_is_woken_by_the_writer_not_its_timer)
{
	struct nap n = { .t = t, .rounds = WAKE_TRIALS };
	uint64_t sleeps, timer;

	NEED_CPUS(2);
	sleeps = cpus[1].sleeps;
	timer = cpus[1].timer_wakes;
	smp_run_all(nap_wake, &n);
	KASSERT(cpus[1].sleeps - sleeps >= WAKE_TRIALS);
	KASSERT(cpus[1].timer_wakes - timer < WAKE_TRIALS / 2);
}

