/*
 * test_query.c - VirtualQuery through the hosted twin, one test per rule of
 * CONTRACT.md ("VirtualQuery") and of Windows' behaviour (semantics.md,
 * "VirtualQuery"): free regions as Windows reports them, addresses below
 * 64 KiB and at the limit, the buffer and out-pointer checks, the bytes
 * written, rounding, reserved vs committed-NOACCESS, AllocationProtect kept
 * forever, runs merged by state and protection but never across a
 * reservation's end, space acquired by the runtime read as free, and a
 * walk of the whole space that tiles it.  Every
 * error test checks the HRESULT, that the buffer and *pResult are
 * untouched, and that nothing observable changed (twin.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tests/host/lib/twin.h"

#define BASE  0x50000000ull
#define RC    (MEM_RESERVE | MEM_COMMIT)
#define MBI   sizeof(MEMORY_BASIC_INFORMATION)

/* A query that must fail with want, leaving buffer, *pResult and the twin
 * as they were. */
static void query_fails(struct twin *t, HRESULT want, uint64_t va, SIZE_T len, bool buf, bool res,
                        const char *file, int line)
{
	uint8_t b[2 * MBI], before[2 * MBI];
	SIZE_T n = 0x7777;

	memset(b, 0xCD, sizeof b);
	memcpy(before, b, sizeof b);
	twin_unchanged_begin(t);
	twin_assert_hr(want, IHostMemoryManager_VirtualQuery(t->m, VA(va), buf ? b : 0, len,
	                                                     res ? &n : 0),
	               "VirtualQuery", file, line);
	twin_unchanged_end(t, file, line);
	if (memcmp(b, before, sizeof b) != 0 || n != 0x7777)
		fail_msg("a failed VirtualQuery wrote its buffer or *pResult (%s:%d)", file, line);
}
#define assert_query_fails(t, want, va, len, buf, res) \
	query_fails((t), (want), (va), (len), (buf), (res), __FILE__, __LINE__)

/* ------------------------------------------------------------ free memory */

/* K32 test_MapViewOfFile: BaseAddress the queried page, AllocationBase
 * NULL, AllocationProtect 0, State MEM_FREE, Protect PAGE_NOACCESS, Type 0;
 * RegionSize runs to the next reservation. */
static void free_region_is_reported_as_windows_does(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	m = query_ok(t, 0x40000000);
	assert_free_region(m, 0x40000000, BASE - 0x40000000);
	m = query_ok(t, 0x40000FFF);
	assert_free_region(m, 0x40000000, BASE - 0x40000000);
}

static void free_region_runs_to_the_limit_when_nothing_is_above(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m = query_ok(t, VA_FIRST);

	assert_free_region(m, VA_FIRST, VA_END - VA_FIRST);
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	m = query_ok(t, BASE + GR);
	assert_free_region(m, BASE + GR, VA_END - BASE - GR);
}

/* INFO test_queryvirtualmemory: 0xFFFF succeeds; below 64 KiB is free. */
static void addresses_below_64k_are_free(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	m = query_ok(t, 0);
	assert_free_region(m, 0, VA_END);
	assert_int_equal(reserve_ok(t, 0, PG, PAGE_NOACCESS), VA_FIRST);
	m = query_ok(t, 0);
	assert_free_region(m, 0, VA_FIRST);
	m = query_ok(t, 0xFFFF);
	assert_free_region(m, 0xF000, PG);
	m = query_ok(t, 0x1234);
	assert_free_region(m, 0x1000, VA_FIRST - 0x1000);
}

/* INFO: HighestUserAddress (0x7FFFFFFEFFFF) succeeds. */
static void highest_user_address_can_be_queried(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m = query_ok(t, VA_END - 1);

	assert_free_region(m, VA_END - PG, PG);
	alloc_ok(t, 0, PG, RC | MEM_TOP_DOWN, PAGE_READONLY);
	m = query_ok(t, VA_END - 1);
	assert_free_region(m, VA_END - PG, PG);
	m = query_ok(t, VA_END - GR);
	assert_committed_region(m, VA_END - GR, VA_END - GR, PAGE_READONLY, PG, PAGE_READONLY);
}

/* ------------------------------------------------------------ argument checks */

/* INFO: HighestUserAddress + 1 and ~0 -> STATUS_INVALID_PARAMETER. */
static void address_at_or_above_the_limit_is_invalid_parameter(void **state)
{
	struct twin *t = *state;
	const uint64_t bad[] = { VA_END, VA_END + 1, 0x800000000000ull, 0xFFFF800000000000ull,
	                         UINT64_MAX };

	alloc_ok(t, 0, PG, RC | MEM_TOP_DOWN, PAGE_READWRITE);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_query_fails(t, E_INVALIDARG, bad[i], MBI, true, true);
}

/* INFO: length sizeof(MBI) - 1 -> STATUS_INFO_LENGTH_MISMATCH. */
static void buffer_shorter_than_the_structure_is_bad_length(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_query_fails(t, HRESULT_FROM_WIN32(ERROR_BAD_LENGTH), BASE, MBI - 1, true, true);
	assert_query_fails(t, HRESULT_FROM_WIN32(ERROR_BAD_LENGTH), BASE, 1, true, true);
	assert_query_fails(t, HRESULT_FROM_WIN32(ERROR_BAD_LENGTH), BASE, 0, true, true);
	assert_query_fails(t, HRESULT_FROM_WIN32(ERROR_BAD_LENGTH), 0x60000000, 24, true, true);
}

static void null_buffer_or_null_result_is_e_pointer(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_query_fails(t, E_POINTER, BASE, MBI, false, true);
	assert_query_fails(t, E_POINTER, BASE, MBI, true, false);
	assert_query_fails(t, E_POINTER, 0x60000000, MBI, false, false);
}

/* K32 compares the return value with sizeof(info): 48 on x64. */
static void query_writes_48_bytes_and_says_so(void **state)
{
	struct twin *t = *state;
	uint8_t b[2 * MBI];
	SIZE_T n = 0;

	memset(b, 0xCD, sizeof b);
	assert_hr(S_OK, IHostMemoryManager_VirtualQuery(t->m, VA(BASE), b, sizeof b, &n));
	assert_int_equal(n, 48);
	for (size_t i = MBI; i < sizeof b; i++)
		assert_int_equal(b[i], 0xCD);
}

/* ------------------------------------------------------------ allocated memory */

/* RA: a query at 0x5000F700 gives BaseAddress 0x5000F000. */
static void base_address_is_rounded_down_to_the_page(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	m = query_ok(t, BASE + 0xF700);
	assert_committed_region(m, BASE + 0xF000, BASE, PAGE_READWRITE, PG, PAGE_READWRITE);
}

static void region_starts_at_the_queried_page(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 16 * PG, RC, PAGE_EXECUTE_READ);
	m = query_ok(t, BASE + 3 * PG + 5);
	assert_committed_region(m, BASE + 3 * PG, BASE, PAGE_EXECUTE_READ, 13 * PG,
	                        PAGE_EXECUTE_READ);
}

/* K32: reserve 0xFFFC NOACCESS -> RegionSize 0x10000, MEM_RESERVE, Protect
 * 0, AllocationProtect PAGE_NOACCESS, MEM_PRIVATE. */
static void reserved_pages_report_protect_zero(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, 0xFFFC, PAGE_NOACCESS);
	m = query_ok(t, BASE + 0x10);
	assert_reserved_region(m, BASE, BASE, PAGE_NOACCESS, GR);
	reserve_ok(t, BASE + GR, 3 * PG, PAGE_EXECUTE_READWRITE | PAGE_GUARD);
	m = query_ok(t, BASE + GR + PG);
	assert_reserved_region(m, BASE + GR + PG, BASE + GR, PAGE_EXECUTE_READWRITE | PAGE_GUARD,
	                       2 * PG);
}

/* K32: reserved pages say MEM_RESERVE / 0, committed NOACCESS pages say
 * MEM_COMMIT / PAGE_NOACCESS; both fault. */
static void reserved_and_committed_noaccess_are_told_apart(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_int_equal(commit_ok(t, BASE, PG, PAGE_NOACCESS), BASE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_NOACCESS, PG, PAGE_NOACCESS);
	m = query_ok(t, BASE + PG);
	assert_reserved_region(m, BASE + PG, BASE, PAGE_NOACCESS, GR - PG);
}

/* RA: NOACCESS reserve -> RW commit -> AllocationProtect NOACCESS; K32: a
 * RW|GUARD allocation keeps RW|GUARD after the guard fired. */
static void allocation_protect_is_kept_forever(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;
	uint8_t v;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	commit_ok(t, BASE, 2 * PG, PAGE_READWRITE);
	protect_ok(t, BASE, PG, PAGE_EXECUTE_READ);
	commit_ok(t, BASE + PG, PG, PAGE_READONLY | PAGE_GUARD);
	for (uint64_t va = BASE; va < BASE + GR; va += PG) {
		m = query_ok(t, va);
		assert_int_equal(m.AllocationProtect, PAGE_NOACCESS);
		assert_int_equal((uint64_t)(uintptr_t)m.AllocationBase, BASE);
	}
	free_ok(t, BASE, 0, MEM_DECOMMIT);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_NOACCESS, GR);

	alloc_ok(t, BASE + GR, PG, RC, PAGE_READWRITE | PAGE_GUARD);
	m = query_ok(t, BASE + GR);
	assert_committed_region(m, BASE + GR, BASE + GR, PAGE_READWRITE | PAGE_GUARD, PG,
	                        PAGE_READWRITE | PAGE_GUARD);
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_peek(t, BASE + GR, &v));
	m = query_ok(t, BASE + GR);
	assert_committed_region(m, BASE + GR, BASE + GR, PAGE_READWRITE | PAGE_GUARD, PG,
	                        PAGE_READWRITE);
}

/* Pages committed one by one, touched or not, parked or not: one region as
 * long as state and protection agree. */
static void region_is_the_run_of_pages_with_the_same_state_and_protection(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	for (uint64_t va = BASE + 8 * PG; va > BASE; va -= PG)
		commit_ok(t, va, PG, PAGE_READWRITE);
	fill_ok(t, BASE + 3 * PG, 2 * PG, 9);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, 8 * PG, PAGE_READWRITE);
	protect_ok(t, BASE + PG, 8 * PG, PAGE_NOACCESS);   /* 2 parked, 6 untouched */
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, 8 * PG, PAGE_NOACCESS);
	protect_ok(t, BASE + 4 * PG, PG, PAGE_READONLY);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, 3 * PG, PAGE_NOACCESS);
	protect_ok(t, BASE + 4 * PG, PG, PAGE_NOACCESS);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, 8 * PG, PAGE_NOACCESS);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_READWRITE, PG);
}

/* Two adjacent reservations with the same state and protection are still
 * two regions. */
static void region_never_crosses_a_reservation_end(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_ok(t, BASE + GR, GR, RC, PAGE_READWRITE);
	reserve_ok(t, BASE + 2 * GR, GR, PAGE_READWRITE);
	reserve_ok(t, BASE + 3 * GR, GR, PAGE_READWRITE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, GR, PAGE_READWRITE);
	m = query_ok(t, BASE + GR);
	assert_committed_region(m, BASE + GR, BASE + GR, PAGE_READWRITE, GR, PAGE_READWRITE);
	m = query_ok(t, BASE + 2 * GR);
	assert_reserved_region(m, BASE + 2 * GR, BASE + 2 * GR, PAGE_READWRITE, GR);
	m = query_ok(t, BASE + 3 * GR);
	assert_reserved_region(m, BASE + 3 * GR, BASE + 3 * GR, PAGE_READWRITE, GR);
}

/* K32 test_VirtualAlloc_protection: not the unused tail of the block. */
static void one_page_allocation_is_one_page_region(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, PAGE_EXECUTE);
	MEMORY_BASIC_INFORMATION m = query_ok(t, p);

	assert_committed_region(m, p, p, PAGE_EXECUTE, PG, PAGE_EXECUTE);
}

/* A sparse reservation of 64 GiB is a handful of regions. */
static void sparse_reservation_is_described_run_by_run(void **state)
{
	struct twin *t = *state;
	const uint64_t base = 0x1000000000ull, size = 64 * GiB;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, base, size, PAGE_NOACCESS);
	commit_ok(t, base + 32 * GiB + 5 * PG, 2 * PG, PAGE_READWRITE);
	m = query_ok(t, base);
	assert_reserved_region(m, base, base, PAGE_NOACCESS, 32 * GiB + 5 * PG);
	m = query_ok(t, base + 32 * GiB + 5 * PG);
	assert_committed_region(m, base + 32 * GiB + 5 * PG, base, PAGE_NOACCESS, 2 * PG,
	                        PAGE_READWRITE);
	m = query_ok(t, base + 32 * GiB + 7 * PG);
	assert_reserved_region(m, base + 32 * GiB + 7 * PG, base, PAGE_NOACCESS, 32 * GiB - 7 * PG);
	m = query_ok(t, base + size);
	assert_free_region(m, base + size, VA_END - base - size);
}

static void released_reservation_is_free_again(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_ok(t, BASE + 2 * GR, GR, RC, PAGE_READWRITE);
	release_ok(t, BASE);
	m = query_ok(t, BASE + PG);
	assert_free_region(m, BASE + PG, GR - PG + GR);
	m = query_ok(t, VA_FIRST);
	assert_free_region(m, VA_FIRST, BASE + 2 * GR - VA_FIRST);
}

/* A query reads page state, it does not touch pages: no frame is given to
 * an untouched page, no guard fires. */
static void query_changes_nothing(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;
	MEMORY_BASIC_INFORMATION m;
	uint8_t v;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE | PAGE_GUARD);
	a = twin_stats(t);
	for (uint64_t va = BASE; va < BASE + GR; va += PG / 2)
		m = query_ok(t, va);
	(void)m;
	b = twin_stats(t);
	assert_int_equal(b.commit_promised, a.commit_promised);
	assert_int_equal(b.frames_data, a.frames_data);
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_peek(t, BASE, &v));
}

/* Space the runtime took outside VirtualAlloc is not ours: it reads as
 * free, and a free region runs on through it to our next reservation. */
static void acquired_space_is_part_of_the_free_region_around_it(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	reserve_ok(t, 0x70000000, GR, PAGE_READWRITE);
	assert_hr(S_OK, IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(0x60000000),
	                                                               3 * PG));
	assert_hr(S_OK, IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(0x60020000), GR));
	m = query_ok(t, BASE + GR);
	assert_free_region(m, BASE + GR, 0x70000000 - BASE - GR);
	m = query_ok(t, 0x60001000);
	assert_free_region(m, 0x60001000, 0x70000000 - 0x60001000);
	m = query_ok(t, 0x70000000 + GR);
	assert_free_region(m, 0x70000000 + GR, VA_END - 0x70000000 - GR);
}

/* From 0 to the limit, each region starts where the last ended (twin_snap
 * asserts that), free regions never touch each other, and no region holds
 * pages of two reservations. */
static void walk_tiles_the_address_space(void **state)
{
	struct twin *t = *state;
	struct twin_snap s = { 0 };

	alloc_ok(t, 0, 3 * PG, RC, PAGE_READWRITE);
	reserve_ok(t, BASE, 5 * GR + PG, PAGE_NOACCESS);
	commit_ok(t, BASE + 2 * GR, 3 * PG, PAGE_EXECUTE_READ);
	alloc_ok(t, BASE + 6 * GR, GR, RC, PAGE_READONLY);
	alloc_ok(t, 0, 5 * PG, RC | MEM_TOP_DOWN, PAGE_READWRITE | PAGE_NOCACHE);
	twin_snap(t, &s);
	assert_true(s.n >= 9);
	assert_int_equal((uint64_t)(uintptr_t)s.mbi[0].BaseAddress, 0);
	for (size_t i = 0; i < s.n; i++) {
		const MEMORY_BASIC_INFORMATION *r = &s.mbi[i];
		uint64_t base = (uint64_t)(uintptr_t)r->BaseAddress;
		uint64_t ab = (uint64_t)(uintptr_t)r->AllocationBase;

		if (i > 0)
			assert_false(r->State == MEM_FREE && s.mbi[i - 1].State == MEM_FREE);
		if (r->State == MEM_FREE)
			continue;
		/* The whole region lies in its allocation: query its last page. */
		MEMORY_BASIC_INFORMATION last = query_ok(t, base + r->RegionSize - 1);
		assert_int_equal((uint64_t)(uintptr_t)last.AllocationBase, ab);
		assert_int_equal(ab % GR, 0);
	}
	twin_snap_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
		T(free_region_is_reported_as_windows_does),
		T(free_region_runs_to_the_limit_when_nothing_is_above),
		T(addresses_below_64k_are_free),
		T(highest_user_address_can_be_queried),
		T(address_at_or_above_the_limit_is_invalid_parameter),
		T(buffer_shorter_than_the_structure_is_bad_length),
		T(null_buffer_or_null_result_is_e_pointer),
		T(query_writes_48_bytes_and_says_so),
		T(base_address_is_rounded_down_to_the_page),
		T(region_starts_at_the_queried_page),
		T(reserved_pages_report_protect_zero),
		T(reserved_and_committed_noaccess_are_told_apart),
		T(allocation_protect_is_kept_forever),
		T(region_is_the_run_of_pages_with_the_same_state_and_protection),
		T(region_never_crosses_a_reservation_end),
		T(one_page_allocation_is_one_page_region),
		T(sparse_reservation_is_described_run_by_run),
		T(released_reservation_is_free_again),
		T(query_changes_nothing),
		T(acquired_space_is_part_of_the_free_region_around_it),
		T(walk_tiles_the_address_space),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
