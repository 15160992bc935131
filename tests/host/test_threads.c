/*
 * test_threads.c - the twin on many host threads (hostmem/sim/sim.c,
 * "Threads"): each thread that touches simulated memory is a CPU with its
 * own TLB, a shootdown reaches every thread's TLB, a copy never lands in a
 * frame freed under it, and the contract holds with every thread calling
 * at once.  Also built under ThreadSanitizer by `make tsan`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "tests/host/lib/twin.h"
#include "hostmem/embed.h"

#define THREADS 4
#define BASE    0x50000000ull

/* ------------------------------------------------------------ stale translations */

struct stale {
	struct twin *t;
	pthread_barrier_t step;
	uint32_t code;
};

/* The reader warms its TLB, the main thread decommits, the reader reads
 * again: it must fault, never read through the translation it had. */
static void *stale_reader(void *arg)
{
	struct stale *s = arg;
	uint8_t v;

	twin_peek(s->t, BASE, &v);
	pthread_barrier_wait(&s->step);     /* warm */
	pthread_barrier_wait(&s->step);     /* decommitted */
	s->code = twin_peek(s->t, BASE, &v);
	return 0;
}

static void a_decommit_reaches_every_threads_tlb(void **state)
{
	struct stale s = { .t = *state };
	pthread_t th;

	alloc_ok(s.t, BASE, GR, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	fill_ok(s.t, BASE, PG, 0x5A);
	pthread_barrier_init(&s.step, 0, 2);
	assert_int_equal(pthread_create(&th, 0, stale_reader, &s), 0);
	pthread_barrier_wait(&s.step);
	free_ok(s.t, BASE, PG, MEM_DECOMMIT);
	pthread_barrier_wait(&s.step);
	pthread_join(th, 0);
	pthread_barrier_destroy(&s.step);
	assert_int_equal(s.code, STATUS_ACCESS_VIOLATION);
}

/* A reader's copy never lands in a frame a decommit on another thread freed
 * (and the debug fill poisoned) under it: it reads the page's data, zero,
 * or faults. */
struct churn { struct twin *t; volatile int stop; unsigned reads, wrong; };

static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	uint8_t v[64];

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (twin_read(c->t, BASE, v, sizeof v) != 0)
			continue;
		c->reads++;
		for (unsigned i = 0; i < sizeof v; i++)
			c->wrong += v[i] != 0 && v[i] != 0x77;
	}
	return 0;
}

static void a_copy_never_reads_a_frame_freed_under_it(void **state)
{
	struct churn c = { .t = *state };
	pthread_t th;

	reserve_ok(c.t, BASE, GR, PAGE_READWRITE);
	assert_int_equal(pthread_create(&th, 0, churn_reader, &c), 0);
	for (int i = 0; i < 2000; i++) {
		commit_ok(c.t, BASE, PG, PAGE_READWRITE);
		fill_ok(c.t, BASE, PG, 0x77);
		free_ok(c.t, BASE, PG, MEM_DECOMMIT);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, 0);
	print_message("    %u reads, %u wrong bytes\n", c.reads, c.wrong);
	assert_int_equal(c.wrong, 0);
}

/* ------------------------------------------------------------ contention */

struct worker {
	struct twin *t;
	unsigned id, bad, ops;
	pthread_barrier_t *start;
};

/* One thread's share: reservations of its own and pages of its own in a
 * shared one, every byte it wrote checked before the memory goes. */
static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t seed = 0x9E3779B97F4A7C15ull * (w->id + 1), mine = BASE + w->id * 4 * PG;
	IHostMemoryManager *m = w->t->m;
	uint8_t v, got;
	void *p;

	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < 300; i++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint64_t size = ((seed >> 8) % 8 + 1) * PG, at;

		v = (uint8_t)(w->id * 16 + (seed & 15) + 1);
		if (IHostMemoryManager_VirtualAlloc(m, 0, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
		                                    eTaskCritical, &p) != S_OK) {
			w->bad++;
			continue;
		}
		at = (uint64_t)(uintptr_t)p;
		if (twin_poke(w->t, at + size - 1, v) || twin_peek(w->t, at + size - 1, &got) || got != v)
			w->bad++;
		IHostMemoryManager_VirtualAlloc(m, VA(mine), 4 * PG, MEM_COMMIT, PAGE_READWRITE,
		                                eTaskCritical, &p);
		if (twin_poke(w->t, mine + (seed >> 20) % (4 * PG), v))
			w->bad++;
		IHostMemoryManager_VirtualFree(m, VA(mine), 4 * PG, MEM_DECOMMIT);
		if (IHostMemoryManager_VirtualFree(m, VA(at), 0, MEM_RELEASE) != S_OK)
			w->bad++;
		w->ops += 4;
	}
	return 0;
}

static void the_contract_holds_with_every_thread_calling_at_once(void **state)
{
	struct twin *t = *state;
	struct worker w[THREADS];
	pthread_barrier_t start;
	pthread_t th[THREADS];
	struct hostmem_stats before;

	reserve_ok(t, BASE, THREADS * 4 * PG, PAGE_READWRITE);
	before = twin_stats(t);
	hostmem_set_verify_each(t->m, false);
	pthread_barrier_init(&start, 0, THREADS);
	for (unsigned k = 0; k < THREADS; k++) {
		w[k] = (struct worker){ .t = t, .id = k, .start = &start };
		assert_int_equal(pthread_create(&th[k], 0, work, &w[k]), 0);
	}
	for (unsigned k = 0; k < THREADS; k++)
		pthread_join(th[k], 0);
	pthread_barrier_destroy(&start);
	hostmem_set_verify_each(t->m, true);
	for (unsigned k = 0; k < THREADS; k++) {
		assert_int_equal(w[k].bad, 0);
		assert_int_equal(w[k].ops, 300 * 4);
	}
	assert_int_equal(twin_stats(t).commit_charge, before.commit_charge);
	assert_int_equal(twin_stats(t).reservations, before.reservations);
	assert_int_equal(twin_stats(t).frames_data, before.frames_data);
}

/* ------------------------------------------------------------ zeroing ahead */

/* Each thread's faults clear batches outside hostmem's lock and push them,
 * lock-free, for the next lock holder to collect (frame.c, theory 8).  A
 * push lost to a race would leave its 16 frames lent out for good: after
 * every thread has touched and released its memory, the free frames must
 * be exactly what they were. */
#define ZERO_PAGES 512    /* 2 MiB a thread: 32 faults, as many batches */

struct toucher {
	struct twin *t;
	uint64_t base;
	pthread_barrier_t *start;
	uint32_t bad;
};

static void *touch_own(void *arg)
{
	struct toucher *w = arg;
	void *p;

	pthread_barrier_wait(w->start);
	if (IHostMemoryManager_VirtualAlloc(w->t->m, (void *)(uintptr_t)w->base, ZERO_PAGES * PG,
	                                    MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
	                                    eTaskCritical, &p) != S_OK)
		w->bad++;
	for (uint64_t i = 0; i < ZERO_PAGES; i++)
		w->bad += twin_poke(w->t, w->base + i * PG, 1) != 0;
	if (IHostMemoryManager_VirtualFree(w->t->m, p, 0, MEM_RELEASE) != S_OK)
		w->bad++;
	return 0;
}

static int big_twin_setup(void **state)
{
	*state = twin_new(32 * MiB, 0);
	return 0;
}

static void every_batch_cleared_outside_the_lock_comes_back(void **state)
{
	struct twin *t = *state;
	struct toucher w[THREADS];
	pthread_barrier_t start;
	pthread_t th[THREADS];
	struct hostmem_stats before = twin_stats(t), after;

	hostmem_set_verify_each(t->m, false);
	pthread_barrier_init(&start, 0, THREADS);
	for (unsigned k = 0; k < THREADS; k++) {
		w[k] = (struct toucher){ t, BASE + k * 4 * MiB, &start, 0 };
		assert_int_equal(pthread_create(&th[k], 0, touch_own, &w[k]), 0);
	}
	for (unsigned k = 0; k < THREADS; k++)
		pthread_join(th[k], 0);
	pthread_barrier_destroy(&start);
	hostmem_set_verify_each(t->m, true);
	after = twin_stats(t);   /* a call: whatever was pushed is collected */
	for (unsigned k = 0; k < THREADS; k++)
		assert_int_equal(w[k].bad, 0);
	assert_true(after.frames_zeroed > before.frames_zeroed);   /* batches were cleared */
	assert_int_equal(after.frames_free, before.frames_free);
	assert_int_equal(after.frames_data, before.frames_data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_decommit_reaches_every_threads_tlb, twin_setup,
		                                twin_teardown),
		cmocka_unit_test_setup_teardown(a_copy_never_reads_a_frame_freed_under_it,
		                                twin_debug_setup, twin_teardown),
		cmocka_unit_test_setup_teardown(the_contract_holds_with_every_thread_calling_at_once,
		                                twin_setup, twin_teardown),
		cmocka_unit_test_setup_teardown(every_batch_cleared_outside_the_lock_comes_back,
		                                big_twin_setup, twin_teardown),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
