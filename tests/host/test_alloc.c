/*
 * test_alloc.c - VirtualAlloc through the hosted twin, one test per rule of
 * CONTRACT.md ("Reserve", "Commit", "Protection", "MEM_RESET") and of the
 * Windows behaviour in semantics.md: placement and rounding, conflicts,
 * reserve + commit, commit into a reservation, the allocation-type and
 * protection checks and their order, MEM_RESET, the refused MEM_PHYSICAL,
 * the critical level, the commit limit, and running out of frames
 * half-way.  Every error test checks the HRESULT, that *ppMem is NULL, and
 * that nothing observable changed (twin.h).  MEM_RESET_UNDO and
 * MEM_LARGE_PAGES have files of their own (test_reset.c, test_large.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define BASE   0x50000000ull            /* a fixed address, as ReactOS's tests use */
#define E_ADDR HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define RC     (MEM_RESERVE | MEM_COMMIT)

/* A twin so small that a commit can fill it (commit-limit tests). */
#define SMALL_RAM (4 * MiB)

static int small_setup(void **state)
{
	*state = twin_new(SMALL_RAM, 0);
	return 0;
}

/* ------------------------------------------------------------ reserve: placement and rounding */

static void reserve_null_address_is_placed_on_64k_boundary(void **state)
{
	struct twin *t = *state;
	uint64_t sizes[] = { 1, PG, 0x2000, 0xFFFC, GR, GR + 1, 3 * MiB + 5 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint64_t p = reserve_ok(t, 0, sizes[i], PAGE_READWRITE);

		assert_int_equal(p % GR, 0);
		assert_true(p >= VA_FIRST && p < VA_END);
	}
}

/* RA CheckSize: base = addr & ~0xFFFF, size = pageup(addr + size) - base. */
static const struct { uint64_t addr, size, base, region; } rounding[] = {
	{ 0x50000000, 0x1,    0x50000000, 0x1000 },
	{ 0x50008000, 0x1,    0x50000000, 0x9000 },
	{ 0x50000010, 0x1000, 0x50000000, 0x2000 },
	{ 0x50010000, 0x2000, 0x50010000, 0x2000 },
	{ 0x5000FFFF, 0x3000, 0x50000000, 0x13000 },
	{ 0x50001010, 0x7000, 0x50000000, 0x9000 },
	{ 0x50001010, 0xC000, 0x50000000, 0xE000 },
};

static void reserve_rounds_base_down_to_64k(void **state)
{
	struct twin *t = *state;

	for (size_t i = 0; i < sizeof rounding / sizeof rounding[0]; i++) {
		uint64_t p = reserve_ok(t, rounding[i].addr, rounding[i].size, PAGE_NOACCESS);

		assert_int_equal(p, rounding[i].base);
		release_ok(t, p);
	}
}

static void reserve_size_runs_to_pageup_of_end_not_to_64k(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	for (size_t i = 0; i < sizeof rounding / sizeof rounding[0]; i++) {
		uint64_t p = reserve_ok(t, rounding[i].addr, rounding[i].size, PAGE_NOACCESS);

		m = query_ok(t, p);
		assert_reserved_region(m, p, p, PAGE_NOACCESS, rounding[i].region);
		release_ok(t, p);
	}
}

/* K32: VirtualAlloc(0, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS). */
static void reserve_of_0xfffc_is_one_64k_reserved_region(void **state)
{
	struct twin *t = *state;
	uint64_t p = reserve_ok(t, 0, 0xFFFC, PAGE_NOACCESS);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_reserved_region(m, p, p, PAGE_NOACCESS, 0x10000);
}

static void reserve_tail_of_last_block_stays_free(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, 0x3000, PAGE_READWRITE);
	m = query_ok(t, BASE + 0x3000);
	assert_free_region(m, BASE + 0x3000, VA_END - (BASE + 0x3000));
	reserve_ok(t, BASE + 0x20000, PG, PAGE_READWRITE);
	m = query_ok(t, BASE + 0x8000);
	assert_free_region(m, BASE + 0x8000, 0x18000);
}

/* RA CheckAlignment: 0x50008000 lies past the end of a 0x3000 reservation
 * at 0x50000000 but in the same 64 KiB block. */
static void reserve_in_the_block_of_another_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 0x3000, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x8000, PG, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x3000, PG, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0xF000, PG, RC, PAGE_READWRITE);
}

static void reserve_overlapping_a_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;
	uint64_t a;

	reserve_ok(t, BASE, 0x20000, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE, PG, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x10000, 0x10000, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE - 0x10000, 0x10001, MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE - 0x10000, 0x100000, RC, PAGE_READWRITE);
	/* NTV: RESERVE|COMMIT at addr1 + 0x1000 of a one-page allocation. */
	a = alloc_ok(t, 0, PG, RC, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, a + PG, PG, RC, PAGE_READWRITE);
}

static void reserve_in_the_block_after_a_partial_block_succeeds(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 0x3000, PAGE_READWRITE);
	assert_int_equal(reserve_ok(t, BASE + GR, PG, PAGE_READWRITE), BASE + GR);
	assert_int_equal(reserve_ok(t, BASE - GR, GR, PAGE_READWRITE), BASE - GR);
}

static void reserve_size_zero_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, 0, 0, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE, 0, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0, 0, RC, PAGE_READWRITE);
}

static void reserve_size_that_wraps_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, 0, UINT64_MAX, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE, UINT64_MAX, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE, 0 - BASE, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE, UINT64_MAX - BASE + 2, RC, PAGE_READWRITE);
}

static void reserve_leaving_the_usable_range_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, VA_END - GR, GR + 1, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, VA_END - PG, 2 * PG, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0, VA_END - VA_FIRST + 1, MEM_RESERVE, PAGE_NOACCESS);
	/* The very last block is usable. */
	assert_int_equal(reserve_ok(t, VA_END - GR, GR, PAGE_NOACCESS), VA_END - GR);
}

static void reserve_below_64k_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, 0x1000, PG, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0xFFFF, 2, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0x8000, GR, RC, PAGE_READWRITE);
}

static void reserve_at_or_above_the_limit_is_invalid_parameter(void **state)
{
	struct twin *t = *state;
	uint64_t bad[] = { VA_END, VA_END + GR, 0x800000000000ull, 0xFFFF800000000000ull,
	                   0xFFFFFFFFFFFF0000ull };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		alloc_fails(t, E_INVALIDARG, bad[i], PG, MEM_RESERVE, PAGE_NOACCESS);
		alloc_fails(t, E_INVALIDARG, bad[i], PG, RC, PAGE_READWRITE);
	}
}

static void reserve_without_room_is_out_of_memory(void **state)
{
	struct twin *t = *state;

	/* All but the last block, in one reservation (no page is committed). */
	assert_int_equal(reserve_ok(t, 0, VA_END - VA_FIRST - GR, PAGE_NOACCESS), VA_FIRST);
	alloc_fails(t, E_OUTOFMEMORY, 0, 2 * GR, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_OUTOFMEMORY, 0, GR + PG, RC, PAGE_READWRITE);
	assert_int_equal(reserve_ok(t, 0, GR, PAGE_NOACCESS), VA_END - GR);
	alloc_fails(t, E_OUTOFMEMORY, 0, 1, MEM_RESERVE, PAGE_NOACCESS);
}

static void top_down_places_the_reservation_highest(void **state)
{
	struct twin *t = *state;

	assert_int_equal(alloc_ok(t, 0, PG, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS),
	                 VA_END - GR);
	assert_int_equal(alloc_ok(t, 0, 0x20000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS),
	                 VA_END - GR - 0x20000);
	assert_int_equal(alloc_ok(t, 0, 0x18000, RC | MEM_TOP_DOWN, PAGE_READWRITE),
	                 VA_END - GR - 0x20000 - 0x20000);
	/* Without it, the lowest fit. */
	assert_int_equal(reserve_ok(t, 0, PG, PAGE_NOACCESS), VA_FIRST);
}

/* KM: MEM_TOP_DOWN | MEM_COMMIT with no address reserves and commits. */
static void top_down_commit_with_null_address_reserves_and_commits_highest(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, 0x2000, MEM_COMMIT | MEM_TOP_DOWN, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_int_equal(p, VA_END - GR);
	assert_committed_region(m, p, p, PAGE_READWRITE, 0x2000, PAGE_READWRITE);
}

static void top_down_with_an_address_uses_the_address(void **state)
{
	struct twin *t = *state;

	assert_int_equal(alloc_ok(t, BASE + 0x1234, PG, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS),
	                 BASE);
}

/* KM: MEM_TOP_DOWN alone. */
static void top_down_alone_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, 0, PG, MEM_TOP_DOWN, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_TOP_DOWN, PAGE_READWRITE);
}

static void placement_is_the_lowest_fit(void **state)
{
	struct twin *t = *state;

	assert_int_equal(reserve_ok(t, 0, PG, PAGE_NOACCESS), VA_FIRST);
	assert_int_equal(reserve_ok(t, 0, GR + PG, PAGE_NOACCESS), VA_FIRST + GR);
	assert_int_equal(reserve_ok(t, 0, PG, PAGE_NOACCESS), VA_FIRST + 3 * GR);
}

static void placement_reuses_released_space(void **state)
{
	struct twin *t = *state;
	uint64_t a = reserve_ok(t, 0, GR, PAGE_NOACCESS);
	uint64_t b = reserve_ok(t, 0, 2 * GR, PAGE_NOACCESS);
	uint64_t c = reserve_ok(t, 0, GR, PAGE_NOACCESS);

	release_ok(t, b);
	assert_int_equal(reserve_ok(t, 0, 2 * GR, PAGE_READWRITE), b);
	release_ok(t, a);
	assert_int_equal(alloc_ok(t, 0, PG, RC, PAGE_READWRITE), a);
	release_ok(t, c);
	assert_int_equal(reserve_ok(t, 0, 3 * GR, PAGE_NOACCESS), c);
}

/* K32: after MEM_RELEASE, the same address can be reserved at once. */
static void released_address_can_be_reserved_again_at_once(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, 0x2000, RC, PAGE_READWRITE);

	fill_ok(t, p, 0x2000, 0xAB);
	release_ok(t, p);
	assert_int_equal(alloc_ok(t, p, PG, RC, PAGE_READWRITE), p);
	assert_bytes(t, p, PG, 0);
}

/* ------------------------------------------------------------ reserve + commit */

/* RA: RESERVE|COMMIT at 0x50004080, size 0x1000 commits 0x50000000..0x50006000. */
static void reserve_commit_commits_the_whole_reservation_from_its_64k_base(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE + 0x4080, PG, RC, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_int_equal(p, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, 0x6000, PAGE_READWRITE);
	assert_code(0, twin_poke(t, BASE, 1));
	assert_code(0, twin_poke(t, BASE + 0x4080, 2));
	m = query_ok(t, BASE + 0x6000);
	assert_free_region(m, BASE + 0x6000, VA_END - BASE - 0x6000);
}

/* KM CustomBaseAllocation: 0x60025000, size 200. */
static void reserve_commit_pages_read_zero(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0x60025000, 200, RC, PAGE_READWRITE);

	assert_int_equal(p, 0x60020000);
	assert_bytes(t, p, 0x6000, 0);
}

/* KM: MEM_COMMIT alone with no address reserves and commits; 200 -> 0x1000. */
static void commit_with_null_address_reserves_and_commits(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, 200, MEM_COMMIT, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_int_equal(p % GR, 0);
	assert_committed_region(m, p, p, PAGE_READWRITE, PG, PAGE_READWRITE);
	assert_bytes(t, p, PG, 0);
	assert_int_equal(twin_stats(t).reservations, 1);
}

/* K32 test_VirtualAlloc_protection: a one-page allocation is one page. */
static void reservation_is_page_granular(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, PAGE_READONLY);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_committed_region(m, p, p, PAGE_READONLY, PG, PAGE_READONLY);
	m = query_ok(t, p + PG);
	assert_int_equal(m.State, MEM_FREE);
}

/* ------------------------------------------------------------ commit into a reservation */

static void commit_returns_pagedown_and_commits_the_pages_touched(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_int_equal(commit_ok(t, BASE + 0x1FFF, 2, PAGE_READWRITE), BASE + 0x1000);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_NOACCESS, 0x1000);
	m = query_ok(t, BASE + 0x1000);
	assert_committed_region(m, BASE + 0x1000, BASE, PAGE_NOACCESS, 0x2000, PAGE_READWRITE);
	m = query_ok(t, BASE + 0x3000);
	assert_reserved_region(m, BASE + 0x3000, BASE, PAGE_NOACCESS, 0xD000);
}

/* RA: the last page of a reservation, queried at 0x5000F700. */
static void commit_of_the_last_page_of_a_reservation(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_int_equal(commit_ok(t, BASE + 0xF000, PG, PAGE_READWRITE), BASE + 0xF000);
	m = query_ok(t, BASE + 0xF700);
	assert_committed_region(m, BASE + 0xF000, BASE, PAGE_NOACCESS, PG, PAGE_READWRITE);
}

static void commit_outside_any_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_ADDR, BASE, PG, MEM_COMMIT, PAGE_READWRITE);
	reserve_ok(t, BASE + 4 * GR, GR, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, VA_FIRST, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, VA_END - PG, PG, MEM_COMMIT, PAGE_READWRITE);
}

/* RA CheckAlignment: 0x50003000, past the end of a 0x3000 reservation. */
static void commit_in_the_tail_of_a_reservations_last_block_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 0x3000, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x3000, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x8000, PG, MEM_COMMIT, PAGE_READWRITE);
}

static void commit_crossing_the_reservation_end_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 0x3000, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x2000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE, 0x3001, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x2FFF, 2, MEM_COMMIT, PAGE_READWRITE);
}

/* RA CheckAdjacentVADs: three adjacent reservations; a commit that crosses
 * from the first into the second commits nothing. */
static void commit_crossing_into_the_next_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	reserve_ok(t, BASE + GR, GR, PAGE_READWRITE);
	reserve_ok(t, BASE + 2 * GR, GR, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + 0x4000, GR, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE, 3 * GR, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + GR - PG, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
}

static void commit_at_or_above_the_limit_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_INVALIDARG, VA_END, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, 0xFFFF800000000000ull, PG, MEM_COMMIT, PAGE_READWRITE);
}

static void commit_size_zero_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, 0, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE + 0x10, 0, MEM_COMMIT, PAGE_READWRITE);
}

static void commit_size_that_wraps_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, UINT64_MAX, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE + PG, 0 - BASE, MEM_COMMIT, PAGE_READWRITE);
}

static void committed_pages_read_zero(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 4 * GR, PAGE_NOACCESS);
	commit_ok(t, BASE + 0x3000, 0x15000, PAGE_READONLY);
	assert_bytes(t, BASE + 0x3000, 0x15000, 0);
}

/* RA: committing a committed page again with another protection succeeds
 * and the page takes it; its contents stay. */
static void commit_over_committed_pages_changes_protection_and_keeps_contents(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	commit_ok(t, BASE, 0x2000, PAGE_READWRITE);
	fill_ok(t, BASE, 0x2000, 0x5A);
	assert_int_equal(commit_ok(t, BASE, 0x2000, PAGE_READONLY), BASE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_NOACCESS, 0x2000, PAGE_READONLY);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE + 5, 0));
	assert_bytes(t, BASE, 0x2000, 0x5A);
}

/* RA CheckAdjacentVADs: page 0 RW, page 2 NOACCESS, then a READONLY commit
 * of pages 0..2 succeeds and re-protects page 0 too. */
static void commit_over_a_partly_committed_range_reprotects_and_keeps_contents(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x11);
	commit_ok(t, BASE + 0x2000, PG, PAGE_READWRITE);
	fill_ok(t, BASE + 0x2000, PG, 0x22);
	protect_ok(t, BASE + 0x2000, PG, PAGE_NOACCESS);
	assert_int_equal(commit_ok(t, BASE, 0x3000, PAGE_READONLY), BASE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_NOACCESS, 0x3000, PAGE_READONLY);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE, 0));
	assert_bytes(t, BASE, PG, 0x11);
	assert_bytes(t, BASE + PG, PG, 0);
	assert_bytes(t, BASE + 0x2000, PG, 0x22);
}

/* NTV stack test: MEM_COMMIT of RW|GUARD over a committed page. */
static void commit_can_make_a_committed_page_a_guard_page(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 0x3000, RC, PAGE_READWRITE);
	commit_ok(t, BASE + PG, PG, PAGE_READWRITE | PAGE_GUARD);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, PG, PAGE_READWRITE);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, PG,
	                        PAGE_READWRITE | PAGE_GUARD);
	m = query_ok(t, BASE + 2 * PG);
	assert_committed_region(m, BASE + 2 * PG, BASE, PAGE_READWRITE, PG, PAGE_READWRITE);
}

static void commit_charges_only_pages_not_yet_committed(void **state)
{
	struct twin *t = *state;
	uint64_t c0 = twin_stats(t).commit_charge;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_int_equal(twin_stats(t).commit_charge, c0);
	commit_ok(t, BASE, 4 * PG, PAGE_READWRITE);
	assert_int_equal(twin_stats(t).commit_charge, c0 + 4);
	commit_ok(t, BASE + 2 * PG, 4 * PG, PAGE_READONLY);
	assert_int_equal(twin_stats(t).commit_charge, c0 + 6);
}

/* ------------------------------------------------------------ allocation type */

static void allocation_type_zero_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0, PG, 0, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, PG, 0, PAGE_READWRITE);
}

/* Every bit but COMMIT, RESERVE, TOP_DOWN, WRITE_WATCH (and RESET alone)
 * is refused: DECOMMIT, RELEASE, FREE, PRIVATE, AT_ROUND_TO_PAGE, ... */
static void allocation_type_with_unknown_bits_is_invalid_parameter(void **state)
{
	struct twin *t = *state;
	const DWORD known = MEM_COMMIT | MEM_RESERVE | MEM_TOP_DOWN | MEM_WRITE_WATCH;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	for (int bit = 0; bit < 32; bit++) {
		DWORD b = 1u << bit;

		if (b & known)
			continue;
		alloc_fails(t, E_INVALIDARG, 0, PG, RC | b, PAGE_READWRITE);
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_COMMIT | b, PAGE_READWRITE);
	}
	alloc_fails(t, E_INVALIDARG, 0, PG, 0xFFFFFFFFu, PAGE_READWRITE);
}

/* K32 ~L2020: VirtualAlloc(0, size, MEM_WRITE_WATCH, RW). */
static void write_watch_without_reserve_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, 0, PG, MEM_WRITE_WATCH, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, 0, PG, MEM_WRITE_WATCH | MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_WRITE_WATCH | MEM_COMMIT, PAGE_READWRITE);
}

static void write_watch_memory_is_queried_like_any_other(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, 0x3000, RC | MEM_WRITE_WATCH, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_committed_region(m, p, p, PAGE_READWRITE, 0x3000, PAGE_READWRITE);
	/* The initial protection does not matter (K32). */
	p = alloc_ok(t, 0, GR, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
	commit_ok(t, p, PG, PAGE_NOACCESS);
	m = query_ok(t, p);
	assert_committed_region(m, p, p, PAGE_NOACCESS, PG, PAGE_NOACCESS);
}

/* KM: MEM_COMMIT|MEM_RESET, MEM_TOP_DOWN|MEM_RESET, ... */
static void reset_with_any_other_type_is_invalid_parameter(void **state)
{
	struct twin *t = *state;
	const DWORD with[] = { MEM_COMMIT, MEM_RESERVE, RC, MEM_TOP_DOWN, MEM_WRITE_WATCH,
	                       MEM_RESET_UNDO, MEM_DECOMMIT };

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x77);
	for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET | with[i], PAGE_READWRITE);
}

/* Windows accepts MEM_PHYSICAL|MEM_RESERVE with PAGE_READWRITE (KM); this
 * manager does not offer it yet. */
static void physical_is_refused_and_changes_nothing(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, 0, GR, MEM_PHYSICAL | MEM_RESERVE, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, 0, GR, MEM_PHYSICAL, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_PHYSICAL | MEM_COMMIT, PAGE_READWRITE);
}

/* ------------------------------------------------------------ order, out-pointer, level */

/* WRK/KM: flag and protection errors (87) win over address and size errors. */
static void type_and_protection_are_checked_before_address_and_size(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESERVE, PAGE_WRITECOPY);     /* else 487 */
	alloc_fails(t, E_INVALIDARG, 0x60000000, PG, MEM_COMMIT, 0);           /* else 487 */
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESERVE | 0x40000000, PAGE_NOACCESS);
	/* Everything above BASE taken: no free run of 0x60000000 bytes is left. */
	assert_int_equal(reserve_ok(t, 0, VA_END - BASE - GR, PAGE_NOACCESS), BASE + GR);
	alloc_fails(t, E_OUTOFMEMORY, 0, 0x60000000, MEM_RESERVE, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, 0, 0x60000000, MEM_RESERVE, PAGE_EXECUTE_WRITECOPY);
	alloc_fails(t, E_INVALIDARG, 0, 0x60000000, MEM_RESERVE | MEM_DECOMMIT, PAGE_NOACCESS);
}

static void null_ppmem_is_e_pointer_and_allocates_nothing(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, 0, PG, RC, PAGE_READWRITE,
			                                 eTaskCritical, 0));
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, VA(BASE), PG, MEM_COMMIT,
			                                 PAGE_READWRITE,
	                                                 eTaskCritical, 0));
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, VA(0x60000000), PG, MEM_RESERVE,
	                                                 PAGE_READWRITE, eTaskCritical, 0));
}

/* README: type, then protection, then the out-pointer, then address and
 * size. */
static void out_pointer_is_checked_after_type_and_protection_before_address(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_unchanged(t, E_INVALIDARG,
	                 IHostMemoryManager_VirtualAlloc(m, 0, PG, MEM_TOP_DOWN, PAGE_READWRITE,
	                                                 eTaskCritical, 0));
	assert_unchanged(t, E_INVALIDARG,
	                 IHostMemoryManager_VirtualAlloc(m, 0, PG, RC, PAGE_WRITECOPY,
			                                 eTaskCritical, 0));
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, VA(BASE), PG, MEM_RESERVE,
			                                 PAGE_READWRITE,
	                                                 eTaskCritical, 0));       /* else 487 */
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, 0, 0, RC, PAGE_READWRITE, eTaskCritical,
			                                 0));
	assert_unchanged(t, E_POINTER,
	                 IHostMemoryManager_VirtualAlloc(m, VA(VA_END), PG, RC, PAGE_READWRITE,
	                                                 eTaskCritical, 0));
}

static HRESULT alloc_at_level(struct twin *t, DWORD level, void **p)
{
	*p = VA(0xBAD000);
	return IHostMemoryManager_VirtualAlloc(t->m, 0, PG, RC, PAGE_READWRITE,
	                                       (EMemoryCriticalLevel)level, p);
}

static void critical_level_above_process_critical_is_invalid_parameter(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = { 3, 4, 0x7FFFFFFF, 0xFFFFFFFF };
	void *p;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_unchanged(t, E_INVALIDARG, alloc_at_level(t, bad[i], &p));
		assert_null(p);
	}
}

static void every_critical_level_is_accepted(void **state)
{
	struct twin *t = *state;
	void *p;

	for (DWORD level = eTaskCritical; level <= eProcessCritical; level++) {
		assert_hr(S_OK, alloc_at_level(t, level, &p));
		assert_non_null(p);
	}
}

/* ------------------------------------------------------------ protection */

static const DWORD base_prots[] = {
	PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
	PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
};

/* K32 test_VirtualAlloc_protection: Protect == AllocationProtect == the
 * value, one page. */
static void each_base_protection_is_accepted_and_reported(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	for (size_t i = 0; i < 6; i++) {
		uint64_t p = alloc_ok(t, 0, PG, RC, base_prots[i]);

		m = query_ok(t, p);
		assert_committed_region(m, p, p, base_prots[i], PG, base_prots[i]);
		release_ok(t, p);
	}
}

/* KM: PAGE_READONLY|PAGE_WRITECOMBINE succeeds; any base but NOACCESS takes
 * one modifier. */
static void a_base_other_than_noaccess_takes_one_modifier(void **state)
{
	struct twin *t = *state;
	const DWORD mods[] = { PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE };
	MEMORY_BASIC_INFORMATION m;

	for (size_t i = 1; i < 6; i++)
		for (size_t j = 0; j < 3; j++) {
			DWORD prot = base_prots[i] | mods[j];
			uint64_t p = alloc_ok(t, 0, PG, RC, prot);

			m = query_ok(t, p);
			assert_committed_region(m, p, p, prot, PG, prot);
			release_ok(t, p);
			p = reserve_ok(t, 0, PG, prot);
			release_ok(t, p);
		}
}

static const DWORD invalid_prots[] = {
	0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY,
	PAGE_READONLY | PAGE_READWRITE, PAGE_NOACCESS | PAGE_READONLY, PAGE_READONLY | PAGE_EXECUTE,
	PAGE_EXECUTE | PAGE_EXECUTE_READ, PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY,
	PAGE_NOACCESS | PAGE_GUARD, PAGE_NOACCESS | PAGE_NOCACHE, PAGE_NOACCESS | PAGE_WRITECOMBINE,
	PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE,
	PAGE_READWRITE | PAGE_NOCACHE | PAGE_WRITECOMBINE,
	PAGE_READWRITE | PAGE_GUARD | PAGE_WRITECOMBINE, PAGE_WRITECOPY | PAGE_GUARD,
	PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE, 0x800, PAGE_READWRITE | 0x800,
	PAGE_READWRITE | 0x1000, PAGE_READWRITE | 0x40000000, 0xFFFFFFFF,
};

/* Invalid for reserve, for reserve + commit and for a commit over
 * committed pages (whose protection then stays). */
static void invalid_protection_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	for (size_t i = 0; i < sizeof invalid_prots / sizeof invalid_prots[0]; i++) {
		DWORD prot = invalid_prots[i];

		alloc_fails(t, E_INVALIDARG, 0, PG, MEM_RESERVE, prot);
		alloc_fails(t, E_INVALIDARG, 0, PG, RC, prot);
		alloc_fails(t, E_INVALIDARG, 0x60000000, PG, MEM_RESERVE, prot);
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_COMMIT, prot);
	}
}

/* K32 test_VirtualProtect's grid: of 0x00..0xFF only the six base values
 * are valid; a commit with any other leaves the page as it was. */
static void only_the_six_base_values_are_valid_protections(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x3C);
	for (DWORD prot = 0; prot <= 0xFF; prot++) {
		bool valid = prot == 0x01 || prot == 0x02 || prot == 0x04 || prot == 0x10 ||
		             prot == 0x20 || prot == 0x40;

		if (valid) {
			assert_int_equal(commit_ok(t, BASE, PG, prot), BASE);
			commit_ok(t, BASE, PG, PAGE_READWRITE);
		} else {
			alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_COMMIT, prot);
		}
	}
	assert_bytes(t, BASE, PG, 0x3C);
}

/* ------------------------------------------------------------ MEM_RESET */

/* K32 ~L395: the NOACCESS passed is ignored; state and protection stay. */
static void reset_keeps_state_and_protection_and_returns_the_address(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;
	uint8_t page[PG];

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x55);
	assert_int_equal(alloc_ok(t, BASE, PG, MEM_RESET, PAGE_NOACCESS), BASE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, GR, PAGE_READWRITE);
	/* Contents: kept or zero, the whole page one way. */
	assert_code(0, twin_read(t, BASE, page, PG));
	for (size_t i = 1; i < PG; i++)
		assert_int_equal(page[i], page[0]);
	assert_true(page[0] == 0x55 || page[0] == 0);
}

static void reset_returns_pagedown_of_the_address(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_int_equal(alloc_ok(t, BASE + 0x1234, 1, MEM_RESET, PAGE_READONLY), BASE + 0x1000);
	assert_int_equal(alloc_ok(t, BASE + 0x2FFF, 2, MEM_RESET, PAGE_READONLY), BASE + 0x2000);
}

/* K32: MEM_RESET of reserved-only pages succeeds and changes nothing. */
static void reset_on_reserved_pages_succeeds_and_changes_nothing(void **state)
{
	struct twin *t = *state;
	uint64_t p = 0;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	assert_unchanged(t, S_OK, twin_alloc(t, BASE + PG, PG, MEM_RESET, PAGE_NOACCESS, &p));
	assert_int_equal(p, BASE + PG);
	m = query_ok(t, BASE + PG);
	assert_reserved_region(m, BASE + PG, BASE, PAGE_NOACCESS, 0xF000);
}

/* K32: MEM_RESET at addr1 + 0xF000, size 0x2000 -> 487. */
static void reset_crossing_the_reservation_end_is_invalid_address(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_ok(t, BASE + GR, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 2 * GR, 0x66);
	alloc_fails(t, E_ADDR, BASE + 0xF000, 0x2000, MEM_RESET, PAGE_NOACCESS);
	reserve_ok(t, 0x60000000, 0x3000, PAGE_NOACCESS);
	alloc_fails(t, E_ADDR, 0x60002000, 0x2000, MEM_RESET, PAGE_NOACCESS);
}

static void reset_outside_any_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, 0x60000000, PG, MEM_RESET, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE + PG, PG, MEM_RESET, PAGE_READWRITE);
}

/* WRK: the protection is validated before the MEM_RESET branch. */
static void reset_needs_a_valid_protection(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x44);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET, 0);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET, PAGE_WRITECOPY);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET, PAGE_NOACCESS | PAGE_GUARD);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(alloc_ok(t, BASE, PG, MEM_RESET, base_prots[i]), BASE);
}

static void reset_keeps_the_commit_charge_and_pages_stay_usable(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x99);
	a = twin_stats(t);
	alloc_ok(t, BASE, GR, MEM_RESET, PAGE_READWRITE);
	b = twin_stats(t);
	assert_int_equal(b.commit_charge, a.commit_charge);
	assert_int_equal(b.commit_available, a.commit_available);
	fill_ok(t, BASE, GR, 0x12);
	assert_bytes(t, BASE, GR, 0x12);
}

static void reset_keeps_noaccess_and_guard_pages_as_they_were(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;
	uint8_t v;

	alloc_ok(t, BASE, 0x2000, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 0x2000, 0x31);
	protect_ok(t, BASE, PG, PAGE_NOACCESS);
	protect_ok(t, BASE + PG, PG, PAGE_READWRITE | PAGE_GUARD);
	alloc_ok(t, BASE, 0x2000, MEM_RESET, PAGE_READWRITE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, PG, PAGE_NOACCESS);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, PG,
	                        PAGE_READWRITE | PAGE_GUARD);
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, BASE, &v));
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_peek(t, BASE + PG, &v));
	assert_code(0, twin_peek(t, BASE + PG, &v));
	assert_true(v == 0x31 || v == 0);
}

/* A commit over committed pages keeps their contents; for a reset page that
 * means keeping the fact that they are gone, for MEM_RESET_UNDO (README). */
static void commit_over_reset_pages_keeps_their_discard(void **state)
{
	struct twin *t = *state;
	uint64_t p;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 2 * PG, 0x5E);
	alloc_ok(t, BASE, 2 * PG, MEM_RESET, PAGE_READWRITE);
	assert_int_equal(commit_ok(t, BASE, 4 * PG, PAGE_EXECUTE_READ), BASE);
	assert_hr(HRESULT_FROM_WIN32(ERROR_DISCARDED),
	          twin_alloc(t, BASE, 4 * PG, MEM_RESET_UNDO, PAGE_READWRITE, &p));
	assert_bytes(t, BASE, 2 * PG, 0);
}

/* ------------------------------------------------------------ out of frames half-way */

/* The k-th frame allocation of the call fails (a node page, a page table),
 * for k = 1, 2, ... until the call succeeds: each failure is E_OUTOFMEMORY,
 * leaves *ppMem NULL and changes nothing. */
static void fail_at_each_frame_allocation(struct twin *t, uint64_t addr, uint64_t size,
                                          DWORD type, DWORD prot)
{
	HRESULT hr = E_OUTOFMEMORY;
	uint64_t p;
	unsigned k;

	for (k = 1; hr != S_OK && k < 64; k++) {
		twin_unchanged_begin(t);
		twin_fail_frame_alloc(t, k);
		hr = twin_alloc(t, addr, size, type, prot, &p);
		twin_fail_frame_alloc(t, 0);
		if (hr == S_OK)
			break;
		assert_hr(E_OUTOFMEMORY, hr);
		assert_int_equal(p, 0);
		twin_unchanged_end(t, __FILE__, __LINE__);
	}
	assert_hr(S_OK, hr);
	assert_true(k > 2);   /* at least two allocation points were made to fail */
}

static void reserve_out_of_frames_half_way_changes_nothing(void **state)
{
	struct twin *t = *state;

	/* The first reservation needs a node page, then its tables. */
	fail_at_each_frame_allocation(t, 0, 3 * PG, RC, PAGE_READWRITE);
	/* Across a 1 GiB boundary: two page directories, two page tables. */
	fail_at_each_frame_allocation(t, 0x7FFF40000000ull - 2 * GR, 4 * GR, RC, PAGE_READONLY);
}

static void commit_out_of_frames_half_way_changes_nothing(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, 0x3FE00000ull, 8 * MiB, PAGE_NOACCESS);
	commit_ok(t, 0x3FE00000ull + 4 * PG, 2 * PG, PAGE_READWRITE);
	fill_ok(t, 0x3FE00000ull + 4 * PG, 2 * PG, 0x71);
	/* From a committed page through three more page tables. */
	fail_at_each_frame_allocation(t, 0x3FE00000ull + 5 * PG, 6 * MiB, MEM_COMMIT,
	                              PAGE_EXECUTE_READ);
	assert_bytes(t, 0x3FE00000ull + 4 * PG, 2 * PG, 0x71);
}

/* ------------------------------------------------------------ commit limit */

/* Commits as much as a task-critical commit may take, in a fresh
 * reservation at BASE of span bytes, from its start; returns the bytes
 * committed.  (Its page tables are paid from the same frames.) */
static uint64_t fill_commit(struct twin *t, uint64_t span)
{
	uint64_t done = 0, chunk = 64 * PG, p;

	reserve_ok(t, BASE, span, PAGE_NOACCESS);
	while (chunk) {
		if (done + chunk <= span && twin_alloc(t, BASE + done, chunk, MEM_COMMIT,
		                                       PAGE_READWRITE, &p) == S_OK)
			done += chunk;
		else
			chunk /= 2;
		chunk -= chunk % PG;
	}
	return done;
}

static void commit_over_the_limit_is_out_of_memory_and_changes_nothing(void **state)
{
	struct twin *t = *state;
	uint64_t avail = twin_stats(t).commit_available;

	reserve_ok(t, BASE, 4 * SMALL_RAM, PAGE_NOACCESS);
	alloc_fails(t, E_OUTOFMEMORY, BASE, (avail + 1) * PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, BASE, 4 * SMALL_RAM, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, 0, (avail + 1) * PG, RC, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, 0x60000000, (avail + 1) * PG, RC, PAGE_READWRITE);
}

static void commit_fills_the_limit_then_refuses_and_changes_nothing(void **state)
{
	struct twin *t = *state;
	uint64_t done = fill_commit(t, 4 * SMALL_RAM);

	assert_true(done >= SMALL_RAM / 2);
	alloc_fails(t, E_OUTOFMEMORY, BASE + done, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, 0, PG, RC, PAGE_READWRITE);
	/* Reserving takes no commit. */
	reserve_ok(t, 0x60000000, GR, PAGE_READWRITE);
	/* Re-committing committed pages takes none either. */
	assert_int_equal(commit_ok(t, BASE, done, PAGE_READONLY), BASE);
}

/* No overcommit: every page committed can be touched, even when commits
 * took every frame there was (the last ones process-critical, which may
 * go below the watermarks and never fail here: each leaves more than the
 * three tables a page could need). */
static void commit_then_touch_every_page_never_fails(void **state)
{
	struct twin *t = *state;
	uint64_t done = fill_commit(t, 4 * SMALL_RAM);
	void *p;

	while (twin_stats(t).commit_available > 4) {
		assert_hr(S_OK, IHostMemoryManager_VirtualAlloc(t->m, VA(BASE + done), PG,
		                                                MEM_COMMIT, PAGE_READWRITE,
		                                                eProcessCritical, &p));
		done += PG;
	}
	for (uint64_t va = BASE; va < BASE + done; va += PG)
		assert_code(0, twin_poke(t, va + (va >> 12) % PG, (uint8_t)(va >> 12)));
	for (uint64_t va = BASE; va < BASE + done; va += PG) {
		uint8_t v = 0;

		assert_code(0, twin_peek(t, va + (va >> 12) % PG, &v));
		assert_int_equal(v, (uint8_t)(va >> 12));
	}
	assert_int_equal(twin_stats(t).commit_promised, 0);
	assert_int_equal(twin_stats(t).frames_data, done / PG);
	release_ok(t, BASE);
	assert_stats_at_start(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, small_setup, twin_teardown)
#define D(f) cmocka_unit_test_setup_teardown(f, twin_debug_setup, twin_teardown)
		T(reserve_null_address_is_placed_on_64k_boundary),
		T(reserve_rounds_base_down_to_64k),
		T(reserve_size_runs_to_pageup_of_end_not_to_64k),
		T(reserve_of_0xfffc_is_one_64k_reserved_region),
		T(reserve_tail_of_last_block_stays_free),
		T(reserve_in_the_block_of_another_reservation_is_invalid_address),
		T(reserve_overlapping_a_reservation_is_invalid_address),
		T(reserve_in_the_block_after_a_partial_block_succeeds),
		T(reserve_size_zero_is_invalid_parameter),
		T(reserve_size_that_wraps_is_invalid_parameter),
		T(reserve_leaving_the_usable_range_is_invalid_parameter),
		T(reserve_below_64k_is_invalid_parameter),
		T(reserve_at_or_above_the_limit_is_invalid_parameter),
		T(reserve_without_room_is_out_of_memory),
		T(top_down_places_the_reservation_highest),
		T(top_down_commit_with_null_address_reserves_and_commits_highest),
		T(top_down_with_an_address_uses_the_address),
		T(top_down_alone_is_invalid_parameter),
		T(placement_is_the_lowest_fit),
		T(placement_reuses_released_space),
		D(released_address_can_be_reserved_again_at_once),
		T(reserve_commit_commits_the_whole_reservation_from_its_64k_base),
		T(reserve_commit_pages_read_zero),
		T(commit_with_null_address_reserves_and_commits),
		T(reservation_is_page_granular),
		T(commit_returns_pagedown_and_commits_the_pages_touched),
		T(commit_of_the_last_page_of_a_reservation),
		T(commit_outside_any_reservation_is_invalid_address),
		T(commit_in_the_tail_of_a_reservations_last_block_is_invalid_address),
		T(commit_crossing_the_reservation_end_is_invalid_address),
		T(commit_crossing_into_the_next_reservation_is_invalid_address),
		T(commit_at_or_above_the_limit_is_invalid_parameter),
		T(commit_size_zero_is_invalid_parameter),
		T(commit_size_that_wraps_is_invalid_parameter),
		T(committed_pages_read_zero),
		T(commit_over_committed_pages_changes_protection_and_keeps_contents),
		D(commit_over_a_partly_committed_range_reprotects_and_keeps_contents),
		T(commit_can_make_a_committed_page_a_guard_page),
		T(commit_charges_only_pages_not_yet_committed),
		T(allocation_type_zero_is_invalid_parameter),
		T(allocation_type_with_unknown_bits_is_invalid_parameter),
		T(write_watch_without_reserve_is_invalid_parameter),
		T(write_watch_memory_is_queried_like_any_other),
		T(reset_with_any_other_type_is_invalid_parameter),
		T(physical_is_refused_and_changes_nothing),
		T(type_and_protection_are_checked_before_address_and_size),
		T(null_ppmem_is_e_pointer_and_allocates_nothing),
		T(out_pointer_is_checked_after_type_and_protection_before_address),
		T(critical_level_above_process_critical_is_invalid_parameter),
		T(every_critical_level_is_accepted),
		T(each_base_protection_is_accepted_and_reported),
		T(a_base_other_than_noaccess_takes_one_modifier),
		T(invalid_protection_is_invalid_parameter),
		T(only_the_six_base_values_are_valid_protections),
		D(reset_keeps_state_and_protection_and_returns_the_address),
		T(reset_returns_pagedown_of_the_address),
		T(reset_on_reserved_pages_succeeds_and_changes_nothing),
		T(reset_crossing_the_reservation_end_is_invalid_address),
		T(reset_outside_any_reservation_is_invalid_address),
		T(reset_needs_a_valid_protection),
		D(reset_keeps_the_commit_charge_and_pages_stay_usable),
		D(reset_keeps_noaccess_and_guard_pages_as_they_were),
		T(commit_over_reset_pages_keeps_their_discard),
		T(reserve_out_of_frames_half_way_changes_nothing),
		T(commit_out_of_frames_half_way_changes_nothing),
		S(commit_over_the_limit_is_out_of_memory_and_changes_nothing),
		S(commit_fills_the_limit_then_refuses_and_changes_nothing),
		S(commit_then_touch_every_page_never_fails),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
