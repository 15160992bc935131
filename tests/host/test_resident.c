/*
 * test_resident.c - hostmem_resident_pages (query.c), the console map's
 * "resident" column, through the hosted twin, one test per rule.
 *
 * The rules: a page is resident when it holds a frame, i.e. it is committed
 * and was touched (read or written) since the commit, or is a like
 * neighbour of a touched page in its aligned 64 KiB cluster (fault.c's
 * fault-around); a commit alone makes nothing resident; NOACCESS and GUARD keep a touched page resident (parked,
 * its frame kept); decommit and release make it not resident; a large page
 * is resident at once; reserved and free space count 0; the range is
 * page-rounded and may cross reservations.  A NULL out-pointer is E_POINTER,
 * a range leaving the managed space E_INVALIDARG, both changing nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

#define BASE   0x50000000ull
#define RC     (MEM_RESERVE | MEM_COMMIT)
#define LP     (2 * MiB)

/* The resident pages of [base, base + size), asserting S_OK. */
static SIZE_T resident(struct twin *t, uint64_t base, uint64_t size)
{
	SIZE_T n = 0x7777;

	assert_hr(S_OK, hostmem_resident_pages(t->m, VA(base), size, &n));
	return n;
}

static void touch(struct twin *t, uint64_t va)
{
	uint8_t b;

	assert_code(0, twin_peek(t, va, &b));
}

static void committed_untouched_pages_are_not_resident(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 16 * PG, RC, PAGE_READWRITE);
	assert_int_equal(resident(t, BASE, 16 * PG), 0);
}

/* Fault-around (fault.c): a touch maps its page and the like pages next to
 * it in its aligned 64 KiB cluster, all promised frames already. */
static void a_touch_makes_its_64k_cluster_resident(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 4 * GR, RC, PAGE_READWRITE);
	touch(t, BASE + GR + 3 * PG);
	assert_int_equal(resident(t, BASE, 4 * GR), 16);
	assert_int_equal(resident(t, BASE + GR, GR), 16);
	assert_code(0, twin_poke(t, BASE + 3 * GR + 5, 1));
	assert_int_equal(resident(t, BASE, 4 * GR), 32);
	assert_int_equal(resident(t, BASE + 2 * GR, GR), 0);
}

/* A page with another protection stops the cluster: only identical
 * demand-zero entries join a touch. */
static void a_touch_maps_only_its_like_neighbours(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	protect_ok(t, BASE + 4 * PG, PG, PAGE_READONLY);
	touch(t, BASE);
	assert_int_equal(resident(t, BASE, GR), 4);
	assert_int_equal(resident(t, BASE + 2 * PG, 1), 1);
}

/* Resident pages are exactly the committed ones minus the promised (hm.h). */
static void resident_pages_are_the_data_frames(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats st;

	alloc_ok(t, BASE, 8 * GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE + GR, 1, 0x11);
	fill_ok(t, BASE + 5 * GR, 2 * GR, 0x11);
	st = twin_stats(t);
	assert_int_equal(resident(t, VA_FIRST, VA_END - VA_FIRST), 48);
	assert_int_equal(st.commit_charge - st.commit_promised, 48);
}

static void noaccess_and_guard_keep_a_touched_page_resident(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	protect_ok(t, BASE + 2 * PG, GR - 2 * PG, PAGE_READONLY);   /* stops the cluster */
	fill_ok(t, BASE, 2 * PG, 0x22);
	protect_ok(t, BASE, PG, PAGE_NOACCESS);
	protect_ok(t, BASE + PG, PG, PAGE_READWRITE | PAGE_GUARD);
	protect_ok(t, BASE + 2 * PG, PG, PAGE_NOACCESS);   /* untouched: still nothing */
	assert_int_equal(resident(t, BASE, GR), 2);
}

static void decommit_and_release_end_residency(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 8 * PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 8 * PG, 0x33);
	free_ok(t, BASE, 2 * PG, MEM_DECOMMIT);
	assert_int_equal(resident(t, BASE, 8 * PG), 6);
	release_ok(t, BASE);
	assert_int_equal(resident(t, BASE, 8 * PG), 0);
}

static void a_large_page_is_resident_at_once(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, LP, RC | MEM_LARGE_PAGES, PAGE_READWRITE);

	assert_int_equal(resident(t, p, LP), LP / PG);
	assert_int_equal(resident(t, p + PG, 3 * PG), 3);
}

static void range_is_page_rounded_and_may_cross_reservations(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_ok(t, BASE + 2 * GR, GR, RC, PAGE_READWRITE);
	touch(t, BASE);
	touch(t, BASE + 2 * GR);
	assert_int_equal(resident(t, BASE + GR - 1, 2), 1);             /* one byte each side */
	assert_int_equal(resident(t, BASE + GR - 1, GR + 2), 2);        /* across the free gap */
	assert_int_equal(resident(t, BASE, 3 * GR), 32);
	assert_int_equal(resident(t, VA_FIRST, 0), 0);
}

static void null_out_pointer_is_e_pointer(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_unchanged(t, E_POINTER, hostmem_resident_pages(t->m, VA(BASE), GR, 0));
}

static void range_leaving_the_managed_space_is_invalid(void **state)
{
	struct twin *t = *state;
	SIZE_T n = 0x7777;

	assert_unchanged(t, E_INVALIDARG, hostmem_resident_pages(t->m, VA(VA_END), PG, &n));
	assert_unchanged(t, E_INVALIDARG, hostmem_resident_pages(t->m, VA(VA_END - PG), 2 * PG, &n));
	assert_int_equal(n, 0x7777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(committed_untouched_pages_are_not_resident),
		T(a_touch_makes_its_64k_cluster_resident),
		T(a_touch_maps_only_its_like_neighbours),
		T(resident_pages_are_the_data_frames),
		T(noaccess_and_guard_keep_a_touched_page_resident),
		T(decommit_and_release_end_residency),
		T(a_large_page_is_resident_at_once),
		T(range_is_page_rounded_and_may_cross_reservations),
		T(null_out_pointer_is_e_pointer),
		T(range_leaving_the_managed_space_is_invalid),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
