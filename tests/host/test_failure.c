/*
 * test_failure.c - failure injection: every frame, page-table and metadata
 * allocation an operation makes is made to fail in turn.
 *
 * The frame allocator's one-shot countdown (frames.fail_countdown = k: the
 * k-th frame allocation from now fails) sweeps k = 1, 2, ... over one
 * operation until it succeeds.  Each k that fails must:
 *   - return the documented HRESULT, E_OUTOFMEMORY (*ppMem NULL),
 *   - leave everything a caller can observe as it was: the VirtualQuery walk
 *     of the whole space, the contents of every committed page, and the
 *     counters (frames free, data, tables, metadata, charge, promised,
 *     available, reservations), so the frame count is exactly back,
 *   - leave a manager that verifies clean.
 * Operations that allocate nothing (protect, decommit, reset, undo,
 * release, a demand-zero touch) must succeed at k = 1 without consuming the
 * countdown: they have no failure point at all.  A touch of committed memory
 * redeems a promise made at commit, so running out there is impossible and
 * the hook is held off (fault.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "hostmem/hm.h"
#include "tests/host/lib/twin.h"

#define T(f) cmocka_unit_test_setup_teardown(f, setup, twin_teardown)
#define RC      (MEM_RESERVE | MEM_COMMIT)
#define GIB1    0x40000000ull                 /* a page-directory boundary */
#define FAR     0x7F0000000000ull             /* a PML4 slot of its own */

/* What an operation works on, set up before the sweep. */
struct fx {
	uint64_t base, p;
	IHostMalloc *malloc;
};

typedef HRESULT (*op_fn)(struct twin *t, struct fx *x);

/* Debug fill on: a frame touched after it was given back is caught too. */
static int setup(void **state)
{
	*state = twin_new(TWIN_RAM, HM_SIM_DEBUG_FRAMES);
	return 0;
}

static uint32_t countdown(struct twin *t)
{
	return hm_of(t->m)->frames.fail_countdown;
}

#define NO_POINTER  0xBADBAD000ull   /* what an operation that gives none leaves */

/* Fails one attempt (the k-th allocation) and checks it changed nothing;
 * an allocation's pointer out is NULL. */
static HRESULT attempt(struct twin *t, struct fx *x, op_fn op, unsigned k, uint32_t *left)
{
	struct twin_snap before = { 0 }, after = { 0 };
	char what[64];
	HRESULT hr;

	twin_snap(t, &before);
	twin_fail_frame_alloc(t, k);
	x->p = NO_POINTER;
	hr = op(t, x);
	*left = countdown(t);
	twin_fail_frame_alloc(t, 0);
	if (hr != S_OK) {
		snprintf(what, sizeof what, "the operation, allocation %u failing", k);
		twin_assert_hr(E_OUTOFMEMORY, hr, what, __FILE__, __LINE__);
		assert_true(x->p == 0 || x->p == NO_POINTER);
		twin_snap(t, &after);
		twin_assert_same(&before, &after, __FILE__, __LINE__);
		assert_clean(t);
	}
	twin_snap_free(&before);
	twin_snap_free(&after);
	return hr;
}

/* Sweeps k = 1, 2, ... until op succeeds; returns its failure points. */
static unsigned sweep(struct twin *t, struct fx *x, op_fn op)
{
	uint32_t left = 0;
	unsigned k;

	for (k = 1; k < 200; k++)
		if (attempt(t, x, op, k, &left) == S_OK)
			break;
	assert_true(k < 200);
	/* It succeeded at k: k - 1 allocations, and the k-th not reached. */
	assert_int_equal(left, 1);
	assert_clean(t);
	print_message("    %u failure point(s), each E_OUTOFMEMORY with nothing changed\n", k - 1);
	return k - 1;
}

/* ------------------------------------------------------------ the operations */

static HRESULT op_reserve(struct twin *t, struct fx *x)
{
	return twin_alloc(t, 0, 16 * GR, MEM_RESERVE, PAGE_READWRITE, &x->p);
}

/* 6 MiB placed at the bottom: four page tables, a directory, a PDPT. */
static HRESULT op_reserve_commit_large_range(struct twin *t, struct fx *x)
{
	return twin_alloc(t, 0, 6 * MiB, RC, PAGE_READWRITE, &x->p);
}

/* 3 MiB across a 1 GiB boundary: two directories, two tables. */
static HRESULT op_reserve_commit_across_directories(struct twin *t, struct fx *x)
{
	return twin_alloc(t, GIB1 - MiB, 3 * MiB, RC, PAGE_READWRITE, &x->p);
}

/* One page in a PML4 slot nothing used yet: PDPT, directory, table. */
static HRESULT op_commit_far_away(struct twin *t, struct fx *x)
{
	return twin_alloc(t, FAR, PG, RC, PAGE_READWRITE, &x->p);
}

/* Over [GIB1 - 1 MiB, GIB1 + 1 MiB): the first half committed and written,
 * the second half reserved only, with no tables yet. */
static HRESULT op_commit_mixed_range(struct twin *t, struct fx *x)
{
	return twin_alloc(t, x->base, 2 * MiB, MEM_COMMIT, PAGE_READONLY, &x->p);
}

static HRESULT op_large_pages(struct twin *t, struct fx *x)
{
	return twin_alloc(t, 0, 4 * MiB, RC | MEM_LARGE_PAGES, PAGE_READWRITE, &x->p);
}

static HRESULT op_write_watch(struct twin *t, struct fx *x)
{
	return twin_alloc(t, 0, 64 * PG, RC | MEM_WRITE_WATCH, PAGE_READWRITE, &x->p);
}

static HRESULT op_malloc_small(struct twin *t, struct fx *x)
{
	void *p = (void *)(uintptr_t)0xDEAD0000ull;   /* must come back NULL on failure */
	HRESULT hr = IHostMalloc_Alloc(x->malloc, 100, eTaskCritical, &p);

	x->p = (uint64_t)(uintptr_t)p;
	return hr;
}

static HRESULT op_malloc_big(struct twin *t, struct fx *x)
{
	void *p = (void *)(uintptr_t)0xDEAD0000ull;   /* must come back NULL on failure */
	HRESULT hr = IHostMalloc_Alloc(x->malloc, 300 * KiB, eTaskCritical, &p);

	x->p = (uint64_t)(uintptr_t)p;
	return hr;
}

static HRESULT op_protect_split(struct twin *t, struct fx *x)
{
	DWORD old;

	return twin_protect(t, x->base + 4 * PG, 4 * PG, PAGE_READONLY, &old);
}

static HRESULT op_decommit(struct twin *t, struct fx *x)
{
	return twin_vfree(t, x->base + 4 * PG, 4 * PG, MEM_DECOMMIT);
}

static HRESULT op_reset(struct twin *t, struct fx *x)
{
	uint64_t r;

	return twin_alloc(t, x->base, 16 * PG, MEM_RESET, PAGE_READWRITE, &r);
}

static HRESULT op_release(struct twin *t, struct fx *x)
{
	return twin_vfree(t, x->base, 0, MEM_RELEASE);
}

/* ------------------------------------------------------------ helpers */

/* 16 committed read-write pages, written, at base. */
static void sixteen_written_pages(struct twin *t, struct fx *x)
{
	x->base = alloc_ok(t, 0, 16 * PG, RC, PAGE_READWRITE);
	fill_ok(t, x->base, 16 * PG, 0x5C);
}

/* Releases what the last operation reserved; everything is back. */
static void release_and_check(struct twin *t, uint64_t base)
{
	release_ok(t, base);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ tests: operations that allocate */

static void reserve_fails_cleanly_at_its_node(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_reserve) >= 1);   /* the node slab's page */
	release_and_check(t, x.p);
}

static void reserve_commit_of_a_large_range_fails_cleanly_at_every_table(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_reserve_commit_large_range) >= 7);
	assert_bytes(t, x.p + 5 * MiB, PG, 0);
	release_and_check(t, x.p);
}

static void reserve_commit_across_directories_fails_cleanly(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_reserve_commit_across_directories) >= 6);
	assert_int_equal(x.p, GIB1 - MiB);
	release_and_check(t, x.p);
}

static void commit_in_a_fresh_pml4_slot_fails_cleanly(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_commit_far_away) >= 4);
	release_and_check(t, x.p);
}

static void commit_over_a_mixed_range_fails_cleanly_and_keeps_the_data(void **state)
{
	struct twin *t = *state;
	struct fx x = { .base = GIB1 - MiB };

	reserve_ok(t, x.base, 4 * MiB, PAGE_READWRITE);
	commit_ok(t, x.base, MiB, PAGE_READWRITE);
	fill_ok(t, x.base, MiB, 0xC4);
	assert_true(sweep(t, &x, op_commit_mixed_range) >= 2);
	assert_bytes(t, x.base, MiB, 0xC4);
	assert_bytes(t, GIB1, MiB, 0);
	release_and_check(t, x.base);
}

static void large_page_commit_fails_cleanly_at_every_frame_and_table(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_large_pages) >= 4);   /* node, tables, two 2 MiB frames */
	release_and_check(t, x.p);
}

static void write_watch_reservation_fails_cleanly(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_true(sweep(t, &x, op_write_watch) >= 2);
	release_and_check(t, x.p);
}

static void host_malloc_fails_cleanly_at_every_point(void **state)
{
	struct twin *t = *state;
	struct fx x = { 0 };

	assert_hr(S_OK, IHostMemoryManager_CreateMalloc(t->m, MALLOC_THREADSAFE, &x.malloc));
	assert_true(sweep(t, &x, op_malloc_small) >= 2);
	assert_hr(S_OK, IHostMalloc_Free(x.malloc, (void *)(uintptr_t)x.p));
	assert_true(sweep(t, &x, op_malloc_big) >= 2);
	assert_hr(S_OK, IHostMalloc_Free(x.malloc, (void *)(uintptr_t)x.p));
	IHostMalloc_Release(x.malloc);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ tests: operations that allocate nothing */

static void protect_that_splits_has_no_failure_point(void **state)
{
	struct twin *t = *state;
	struct fx x;

	sixteen_written_pages(t, &x);
	assert_int_equal(sweep(t, &x, op_protect_split), 0);
	assert_bytes(t, x.base + 4 * PG, 4 * PG, 0x5C);
	release_and_check(t, x.base);
}

static void decommit_has_no_failure_point(void **state)
{
	struct twin *t = *state;
	struct fx x;

	sixteen_written_pages(t, &x);
	assert_int_equal(sweep(t, &x, op_decommit), 0);
	release_and_check(t, x.base);
}

static void reset_and_release_have_no_failure_point(void **state)
{
	struct twin *t = *state;
	struct fx x;

	sixteen_written_pages(t, &x);
	assert_int_equal(sweep(t, &x, op_reset), 0);
	assert_int_equal(sweep(t, &x, op_release), 0);
	assert_stats_at_start(t);
}

/* Not swept with snapshots: a snapshot reads every page, which is itself
 * the touch.  The promise made at commit is redeemed whatever the hook. */
static void a_demand_zero_touch_is_not_a_failure_point(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats before, after;
	uint64_t p = alloc_ok(t, 0, 4 * PG, RC, PAGE_READWRITE);
	uint8_t v = 1;

	for (unsigned k = 1; k <= 4; k++) {
		before = twin_stats(t);
		twin_fail_frame_alloc(t, k);
		assert_code(0, twin_read(t, p + (k - 1) * PG, &v, 1));
		assert_int_equal(countdown(t), k);   /* not consumed */
		twin_fail_frame_alloc(t, 0);
		after = twin_stats(t);
		assert_int_equal(v, 0);
		assert_int_equal(after.commit_charge, before.commit_charge);
		assert_true(after.frames_data > before.frames_data || k > 1);
		assert_clean(t);
	}
	release_and_check(t, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reserve_fails_cleanly_at_its_node),
		T(reserve_commit_of_a_large_range_fails_cleanly_at_every_table),
		T(reserve_commit_across_directories_fails_cleanly),
		T(commit_in_a_fresh_pml4_slot_fails_cleanly),
		T(commit_over_a_mixed_range_fails_cleanly_and_keeps_the_data),
		T(large_page_commit_fails_cleanly_at_every_frame_and_table),
		T(write_watch_reservation_fails_cleanly),
		T(host_malloc_fails_cleanly_at_every_point),
		T(protect_that_splits_has_no_failure_point),
		T(decommit_has_no_failure_point),
		T(reset_and_release_have_no_failure_point),
		T(a_demand_zero_touch_is_not_a_failure_point),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
