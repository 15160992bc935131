/*
 * test_vaspace.c - NeedsVirtualAddressSpace, AcquiredVirtualAddressSpace and
 * ReleasedVirtualAddressSpace through the hosted twin (vaspace.c), one test
 * per rule.
 *
 * The runtime asks before it takes address space outside VirtualAlloc
 * (Needs: S_OK, or E_OUTOFMEMORY when the range, or with a NULL start any
 * room of that size, is not free), says what it took (Acquired) and what it
 * gave back (Released).  Acquired space is the runtime's, not ours: our
 * placements and fixed reserves never land in it, every contract call treats
 * it as not ours (commit, protect, reset: the invalid-address HRESULT; free:
 * HOST_E_INVALIDOPERATION), and VirtualQuery reports it free.  Like a
 * reservation it occupies whole 64 KiB blocks.  Bad arguments are
 * E_INVALIDARG; every error changes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define BASE    0x50000000ull
#define OTHER   0x60000000ull
#define E_ADDR  HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define RC      (MEM_RESERVE | MEM_COMMIT)
#define WHOLE   (VA_END - VA_FIRST)

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

static HRESULT needs(struct twin *t, uint64_t start, uint64_t size)
{
	return IHostMemoryManager_NeedsVirtualAddressSpace(t->m, VA(start), size);
}

static HRESULT acquired(struct twin *t, uint64_t start, uint64_t size)
{
	return IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(start), size);
}

static HRESULT released(struct twin *t, uint64_t start)
{
	return IHostMemoryManager_ReleasedVirtualAddressSpace(t->m, VA(start));
}

/* ------------------------------------------------------------ Needs */

static void needs_of_free_space_is_s_ok_and_changes_nothing(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, S_OK, needs(t, BASE, MiB));
	assert_unchanged(t, S_OK, needs(t, BASE + 0x1234, 0x100));
	assert_unchanged(t, S_OK, needs(t, VA_FIRST, GR));
	assert_unchanged(t, S_OK, needs(t, VA_END - PG, PG));
	/* Asking reserves nothing: the space is still ours to place. */
	assert_int_equal(reserve_ok(t, BASE, MiB, PAGE_READWRITE), BASE);
}

/* Overlap is judged in 64 KiB blocks, as for reservations. */
static void needs_overlapping_a_reservation_is_e_outofmemory(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 3 * PG, PAGE_READWRITE);
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, BASE, PG));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, BASE + PG, PG));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, BASE + 0x8000, PG));   /* the block's tail */
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, BASE - PG, 2 * PG));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, BASE - GR, 4 * GR));
	assert_unchanged(t, S_OK, needs(t, BASE - GR, GR));
	assert_unchanged(t, S_OK, needs(t, BASE + GR, GR));
}

static void needs_overlapping_acquired_space_is_e_outofmemory(void **state)
{
	struct twin *t = *state;

	assert_hr(S_OK, acquired(t, OTHER, 2 * GR));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, OTHER, PG));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, OTHER + GR + 0x8000, PG));
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, OTHER - GR, 2 * GR));
	assert_unchanged(t, S_OK, needs(t, OTHER + 2 * GR, GR));
}

static void needs_with_bad_arguments_is_e_invalidarg(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	assert_unchanged(t, E_INVALIDARG, needs(t, OTHER, 0));
	assert_unchanged(t, E_INVALIDARG, needs(t, 0, 0));
	assert_unchanged(t, E_INVALIDARG, needs(t, PG, PG));             /* below 64 KiB */
	assert_unchanged(t, E_INVALIDARG, needs(t, VA_FIRST - 1, 2));
	assert_unchanged(t, E_INVALIDARG, needs(t, VA_END, PG));         /* at the limit */
	assert_unchanged(t, E_INVALIDARG, needs(t, VA_END - PG, 2 * PG));  /* crossing it */
	assert_unchanged(t, E_INVALIDARG, needs(t, OTHER, ~0ull));       /* wraps */
	assert_unchanged(t, E_INVALIDARG, needs(t, 0, WHOLE + PG));       /* more than there is */
	assert_unchanged(t, E_INVALIDARG, needs(t, 0, ~0ull));
}

/* NULL start: is there room for that much anywhere? */
static void needs_with_a_null_start_asks_for_room_anywhere(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, S_OK, needs(t, 0, GiB));
	assert_unchanged(t, S_OK, needs(t, 0, WHOLE));
	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, 0, WHOLE));
	assert_unchanged(t, S_OK, needs(t, 0, VA_END - (BASE + GR)));      /* above it */
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, 0, VA_END - (BASE + GR) + PG));
	assert_hr(S_OK, acquired(t, BASE + GR, VA_END - (BASE + GR)));
	assert_unchanged(t, S_OK, needs(t, 0, BASE - VA_FIRST));          /* below it */
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, 0, BASE - VA_FIRST + PG));
}

/* ------------------------------------------------------------ Acquired */

static void acquired_space_is_never_placed_by_a_null_address_reserve(void **state)
{
	struct twin *t = *state;

	assert_hr(S_OK, acquired(t, VA_FIRST, 16 * MiB));
	assert_int_equal(reserve_ok(t, 0, GR, PAGE_READWRITE), VA_FIRST + 16 * MiB);
	assert_int_equal(alloc_ok(t, 0, PG, RC, PAGE_READWRITE), VA_FIRST + 16 * MiB + GR);
	assert_hr(S_OK, acquired(t, VA_END - 16 * MiB, 16 * MiB));
	assert_int_equal(alloc_ok(t, 0, GR, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE),
	                 VA_END - 16 * MiB - GR);
	assert_true(alloc_ok(t, 0, 2 * MiB, RC | MEM_LARGE_PAGES | MEM_TOP_DOWN, PAGE_READWRITE)
	            + 2 * MiB <= VA_END - 16 * MiB);
}

/* With every block but two acquired, placements get exactly those two,
 * then fail. */
static void only_the_space_not_acquired_is_placed(void **state)
{
	struct twin *t = *state;

	assert_hr(S_OK, acquired(t, VA_FIRST, WHOLE - 2 * GR));
	assert_int_equal(reserve_ok(t, 0, GR, PAGE_READWRITE), VA_END - 2 * GR);
	assert_int_equal(reserve_ok(t, 0, PG, PAGE_READWRITE), VA_END - GR);
	alloc_fails(t, E_OUTOFMEMORY, 0, PG, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, 0, PG, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, 0, PG));
}

static void a_fixed_reserve_over_acquired_space_conflicts(void **state)
{
	struct twin *t = *state;

	assert_hr(S_OK, acquired(t, OTHER, 3 * PG));
	alloc_fails(t, E_ADDR, OTHER, PG, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, OTHER + 0x8000, PG, MEM_RESERVE, PAGE_READWRITE);  /* same block */
	alloc_fails(t, E_ADDR, OTHER - GR, 2 * GR, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, OTHER, PG, RC, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, OTHER - 2 * MiB, 4 * MiB, RC | MEM_LARGE_PAGES, PAGE_READWRITE);
	assert_int_equal(reserve_ok(t, OTHER + GR, GR, PAGE_READWRITE), OTHER + GR);
	assert_int_equal(reserve_ok(t, OTHER - GR, GR, PAGE_READWRITE), OTHER - GR);
}

/* A start inside a block takes the whole block. */
static void acquired_space_takes_whole_64k_blocks(void **state)
{
	struct twin *t = *state;

	assert_hr(S_OK, acquired(t, OTHER + 0x9000, PG));
	alloc_fails(t, E_ADDR, OTHER, PG, MEM_RESERVE, PAGE_READWRITE);
	assert_unchanged(t, E_OUTOFMEMORY, needs(t, OTHER, PG));
	assert_int_equal(reserve_ok(t, OTHER + GR, PG, PAGE_READWRITE), OTHER + GR);
}

/* Commit, protect, reset, free and write watch all treat it as space that
 * is not ours; the CPU cannot touch it through our tables either. */
static void contract_calls_in_acquired_space_are_refused_as_not_ours(void **state)
{
	struct twin *t = *state;
	DWORD old = 0, gran;
	void *addrs[4];
	ULONG_PTR count = 4;
	uint8_t b;

	assert_hr(S_OK, acquired(t, OTHER, 4 * PG));
	alloc_fails(t, E_ADDR, OTHER, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, OTHER, PG, MEM_RESET, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, OTHER, PG, MEM_RESET_UNDO, PAGE_READWRITE);
	assert_unchanged(t, E_ADDR, twin_protect(t, OTHER, PG, PAGE_READONLY, &old));
	assert_unchanged(t, HOST_E_INVALIDOPERATION, twin_vfree(t, OTHER, 0, MEM_RELEASE));
	assert_unchanged(t, HOST_E_INVALIDOPERATION, twin_vfree(t, OTHER, PG, MEM_DECOMMIT));
	assert_unchanged(t, HOST_E_INVALIDOPERATION, twin_vfree(t, OTHER, 0, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, 0, VA(OTHER), PG, addrs,
	                 &count, &gran));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(OTHER), PG));
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, OTHER, &b));
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, OTHER, 1));
}

/* Free space, as far as the caller can see: the region runs on to the next
 * reservation of ours, through the acquired blocks. */
static void acquired_space_is_queried_as_free(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	assert_hr(S_OK, acquired(t, OTHER, 4 * PG));
	m = query_ok(t, OTHER);
	assert_free_region(m, OTHER, VA_END - OTHER);
	m = query_ok(t, OTHER + PG + 5);
	assert_free_region(m, OTHER + PG, VA_END - OTHER - PG);
	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	m = query_ok(t, BASE + GR);
	assert_free_region(m, BASE + GR, VA_END - BASE - GR);
	m = query_ok(t, VA_FIRST);
	assert_free_region(m, VA_FIRST, BASE - VA_FIRST);
}

static void acquired_with_bad_arguments_is_e_invalidarg(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 3 * PG, PAGE_READWRITE);
	assert_hr(S_OK, acquired(t, OTHER, GR));
	assert_unchanged(t, E_INVALIDARG, acquired(t, OTHER + 2 * GR, 0));
	assert_unchanged(t, E_INVALIDARG, acquired(t, 0, GR));
	assert_unchanged(t, E_INVALIDARG, acquired(t, PG, PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, VA_END, PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, VA_END - PG, 2 * PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, OTHER + 2 * GR, ~0ull));
	/* Space we hand out, or already acquired, cannot have been taken. */
	assert_unchanged(t, E_INVALIDARG, acquired(t, BASE, PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, BASE + 0x8000, PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, BASE - GR, 2 * GR));
	assert_unchanged(t, E_INVALIDARG, acquired(t, OTHER, PG));
	assert_unchanged(t, E_INVALIDARG, acquired(t, OTHER - GR, 2 * GR));
}

/* ------------------------------------------------------------ Released */

static void released_space_is_ours_to_place_again(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	assert_hr(S_OK, acquired(t, VA_FIRST, 16 * MiB));
	assert_hr(S_OK, released(t, VA_FIRST));
	assert_unchanged(t, S_OK, needs(t, VA_FIRST, 16 * MiB));
	assert_int_equal(reserve_ok(t, 0, GR, PAGE_READWRITE), VA_FIRST);
	assert_hr(S_OK, acquired(t, OTHER, GR));
	assert_hr(S_OK, released(t, OTHER));
	assert_int_equal(alloc_ok(t, OTHER, PG, RC, PAGE_READWRITE), OTHER);
	m = query_ok(t, OTHER);
	assert_committed_region(m, OTHER, OTHER, PAGE_READWRITE, PG, PAGE_READWRITE);
	release_ok(t, OTHER);
	release_ok(t, VA_FIRST);
	assert_stats_at_start(t);
}

static void released_with_bad_arguments_is_e_invalidarg(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	assert_hr(S_OK, acquired(t, OTHER, 2 * GR));
	assert_unchanged(t, E_INVALIDARG, released(t, 0));
	assert_unchanged(t, E_INVALIDARG, released(t, PG));
	assert_unchanged(t, E_INVALIDARG, released(t, VA_END));
	assert_unchanged(t, E_INVALIDARG, released(t, OTHER - GR));       /* never acquired */
	assert_unchanged(t, E_INVALIDARG, released(t, OTHER + GR));       /* not its start */
	assert_unchanged(t, E_INVALIDARG, released(t, BASE));             /* ours, not the runtime's */
	assert_hr(S_OK, released(t, OTHER));
	assert_unchanged(t, E_INVALIDARG, released(t, OTHER));            /* twice */
	assert_int_equal(query_ok(t, BASE).State, MEM_RESERVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(needs_of_free_space_is_s_ok_and_changes_nothing),
		T(needs_overlapping_a_reservation_is_e_outofmemory),
		T(needs_overlapping_acquired_space_is_e_outofmemory),
		T(needs_with_bad_arguments_is_e_invalidarg),
		T(needs_with_a_null_start_asks_for_room_anywhere),
		T(acquired_space_is_never_placed_by_a_null_address_reserve),
		T(only_the_space_not_acquired_is_placed),
		T(a_fixed_reserve_over_acquired_space_conflicts),
		T(acquired_space_takes_whole_64k_blocks),
		T(contract_calls_in_acquired_space_are_refused_as_not_ours),
		T(acquired_space_is_queried_as_free),
		T(acquired_with_bad_arguments_is_e_invalidarg),
		T(released_space_is_ours_to_place_again),
		T(released_with_bad_arguments_is_e_invalidarg),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
