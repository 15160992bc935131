/*
 * test_protect.c - VirtualProtect through the hosted twin, one test per rule
 * of CONTRACT.md ("VirtualProtect", "Protection") and of Windows' behaviour
 * (semantics.md, "VirtualProtect"): the protection, then the NULL
 * old-protection pointer,
 * size 0, the valid protections, every page committed and in one
 * reservation, the old protection of the first page, page rounding, contents
 * kept, PAGE_GUARD in the old value, and the cache attribute that belongs to
 * the allocation.  Every error test checks the HRESULT and that nothing
 * observable changed (twin.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define BASE    0x50000000ull
#define E_ADDR  HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define RC      (MEM_RESERVE | MEM_COMMIT)

static void committed_block(struct twin *t)
{
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x5A);
}

static HRESULT protect(struct twin *t, uint64_t va, uint64_t size, DWORD prot)
{
	DWORD old;

	return twin_protect(t, va, size, prot, &old);
}

/* ------------------------------------------------------------ argument checks */

/* K32: VirtualProtect(base, page, PAGE_READONLY, NULL) fails with
 * ERROR_NOACCESS and the next VirtualProtect reports the old value. */
static void null_old_protection_pointer_is_e_pointer_and_changes_nothing(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_POINTER, twin_protect(t, BASE, PG, PAGE_READONLY, 0));
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_NOACCESS), PAGE_READWRITE);
}

/* NT's order (CONTRACT.md): the protection first, then the out-pointer,
 * then the range, as VirtualAlloc checks its own arguments. */
static void null_old_protection_pointer_is_checked_after_the_protection(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, twin_protect(t, BASE, PG, PAGE_WRITECOPY, 0));
	assert_unchanged(t, E_INVALIDARG, twin_protect(t, 0, 0, 0, 0));
	assert_unchanged(t, E_POINTER, twin_protect(t, BASE, 0, PAGE_READONLY, 0));
	assert_unchanged(t, E_POINTER, twin_protect(t, 0x60000000, PG, PAGE_READONLY, 0));
	assert_unchanged(t, E_POINTER, twin_protect(t, VA_END, PG, PAGE_READONLY, 0));
}

/* WRK: CapturedRegionSize == 0 -> STATUS_INVALID_PARAMETER_3, before the
 * reservation is looked up. */
static void size_zero_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE, 0, PAGE_READONLY));
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE + 0x123, 0, PAGE_READONLY));
	assert_unchanged(t, E_INVALIDARG, protect(t, 0x60000000, 0, PAGE_READONLY));
}

static void address_at_or_above_the_limit_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, protect(t, VA_END, PG, PAGE_READONLY));
	assert_unchanged(t, E_INVALIDARG, protect(t, 0xFFFF800000000000ull, PG, PAGE_READONLY));
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE, UINT64_MAX, PAGE_READONLY));
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE, VA_END - BASE + 1, PAGE_READONLY));
}

/* K32 test_VirtualProtect: of the 0x00..0xFF grid only the six base values
 * are valid; every other value fails and leaves the old protection. */
static void invalid_protection_is_invalid_parameter_and_keeps_the_old(void **state)
{
	struct twin *t = *state;
	const DWORD more[] = {
		PAGE_NOACCESS | PAGE_GUARD, PAGE_NOACCESS | PAGE_NOCACHE,
		PAGE_NOACCESS | PAGE_WRITECOMBINE, PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE,
		PAGE_READONLY | PAGE_NOCACHE | PAGE_WRITECOMBINE, PAGE_GUARD, PAGE_NOCACHE,
		PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY, PAGE_WRITECOPY | PAGE_GUARD,
		0x800, PAGE_READWRITE | 0x800, PAGE_READWRITE | 0x10000, 0xFFFFFFFF,
	};

	committed_block(t);
	for (DWORD prot = 0; prot <= 0xFF; prot++) {
		bool valid = prot == 0x01 || prot == 0x02 || prot == 0x04 || prot == 0x10 ||
		             prot == 0x20 || prot == 0x40;

		if (!valid)
			assert_unchanged(t, E_INVALIDARG, protect(t, BASE, PG, prot));
	}
	for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
		assert_unchanged(t, E_INVALIDARG, protect(t, BASE, PG, more[i]));
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_READWRITE);
}

/* ------------------------------------------------------------ the range */

static void protect_of_reserved_pages_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE);
	assert_unchanged(t, E_ADDR, protect(t, BASE, PG, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, BASE, GR, PAGE_READONLY));
}

/* K32: a 0xFFFC reservation with only its first page committed. */
static void protect_over_committed_and_reserved_pages_is_invalid_address(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, 0xFFFC, PAGE_NOACCESS);
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x66);
	assert_unchanged(t, E_ADDR, protect(t, BASE, 0xFFFC, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, BASE + 0xFFF, 2, PAGE_READONLY));
	commit_ok(t, BASE + 0x3000, PG, PAGE_READWRITE);
	assert_unchanged(t, E_ADDR, protect(t, BASE, 0x4000, PAGE_NOACCESS));
}

/* NTV: free memory at NULL -> STATUS_CONFLICTING_ADDRESSES on x64 (487). */
static void protect_of_free_memory_is_invalid_address(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, E_ADDR, protect(t, 0, PG, PAGE_READONLY));
	alloc_ok(t, BASE, 0x3000, RC, PAGE_READWRITE);
	assert_unchanged(t, E_ADDR, protect(t, 0x60000000, PG, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, BASE + 0x3000, PG,
	                                    PAGE_READONLY));   /* block tail */
	assert_unchanged(t, E_ADDR, protect(t, BASE - PG, 2 * PG, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, 0x1000, PG, PAGE_READONLY));
}

static void protect_past_the_reservation_end_is_invalid_address(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 0x3000, RC, PAGE_READWRITE);
	assert_unchanged(t, E_ADDR, protect(t, BASE, 0x4000, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, BASE + 0x2FFF, 2, PAGE_READONLY));
}

/* WRK MiProtectVirtualMemory requires one VAD. */
static void protect_across_two_reservations_is_invalid_address(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	alloc_ok(t, BASE + GR, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 2 * GR, 0x3C);
	assert_unchanged(t, E_ADDR, protect(t, BASE + GR - PG, 2 * PG, PAGE_READONLY));
	assert_unchanged(t, E_ADDR, protect(t, BASE, 2 * GR, PAGE_NOACCESS));
}

/* NTV: NtProtectVirtualMemory(addr + 1, size 1) covers one page. */
static void protect_takes_the_pages_the_range_touches(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	committed_block(t);
	assert_int_equal(protect_ok(t, BASE + 1, 1, PAGE_READONLY), PAGE_READWRITE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, PG, PAGE_READONLY);
	assert_int_equal(protect_ok(t, BASE + 0x3FFF, 2, PAGE_EXECUTE_READ), PAGE_READWRITE);
	m = query_ok(t, BASE + 0x3000);
	assert_committed_region(m, BASE + 0x3000, BASE, PAGE_READWRITE, 2 * PG, PAGE_EXECUTE_READ);
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_READWRITE, 2 * PG, PAGE_READWRITE);
}

/* ------------------------------------------------------------ what it returns and does */

static void protect_returns_the_old_protection(void **state)
{
	struct twin *t = *state;
	const DWORD seq[] = { PAGE_READONLY, PAGE_EXECUTE, PAGE_NOACCESS, PAGE_EXECUTE_READWRITE,
	                      PAGE_EXECUTE_READ, PAGE_READWRITE | PAGE_GUARD, PAGE_READWRITE };
	DWORD prev = PAGE_READWRITE;

	committed_block(t);
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		MEMORY_BASIC_INFORMATION m;

		assert_int_equal(protect_ok(t, BASE, GR, seq[i]), prev);
		m = query_ok(t, BASE);
		assert_committed_region(m, BASE, BASE, PAGE_READWRITE, GR, seq[i]);
		prev = seq[i];
	}
}

/* NTV test_NtProtectVirtualMemory: 8 pages RW, 8 RWX, then all 16 to
 * EXECUTE_READ gives old = PAGE_READWRITE. */
static void protect_returns_the_first_pages_old_protection(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 16 * PG, RC, PAGE_READWRITE);
	protect_ok(t, BASE + 8 * PG, 8 * PG, PAGE_EXECUTE_READWRITE);
	assert_int_equal(protect_ok(t, BASE, 16 * PG, PAGE_EXECUTE_READ), PAGE_READWRITE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, 16 * PG, PAGE_EXECUTE_READ);
}

/* K32: after a VirtualProtect of the first 3 pages of 16, the query gives
 * 3 pages READONLY. */
static void protect_splits_the_region(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 16 * PG, RC, PAGE_READWRITE);
	protect_ok(t, BASE, 3 * PG, PAGE_READONLY);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, 3 * PG, PAGE_READONLY);
	m = query_ok(t, BASE + 3 * PG);
	assert_committed_region(m, BASE + 3 * PG, BASE, PAGE_READWRITE, 13 * PG, PAGE_READWRITE);
}

/* RP TestReadWrite: RW 0xFF -> READONLY (write faults, read 0xFF) ->
 * NOACCESS (both fault) -> READONLY (read 0xFF). */
static void protect_keeps_contents_through_noaccess(void **state)
{
	struct twin *t = *state;
	uint8_t v;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0xFF);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_READWRITE);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE, 0));
	assert_bytes(t, BASE, PG, 0xFF);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_NOACCESS), PAGE_READONLY);
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, BASE, &v));
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE, 0));
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_NOACCESS);
	assert_bytes(t, BASE, PG, 0xFF);
}

/* Protecting pages never touched does not give them frames; they still
 * read zero afterwards. */
static void protect_of_untouched_pages_keeps_them_untouched(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	a = twin_stats(t);
	protect_ok(t, BASE, GR, PAGE_NOACCESS);
	protect_ok(t, BASE, GR, PAGE_EXECUTE_READ | PAGE_GUARD);
	protect_ok(t, BASE, GR, PAGE_READONLY);
	b = twin_stats(t);
	assert_int_equal(b.commit_promised, a.commit_promised);
	assert_int_equal(b.frames_data, a.frames_data);
	assert_bytes(t, BASE, GR, 0);
}

/* Protections take effect at once: no stale translation survives. */
static void protect_takes_effect_at_once(void **state)
{
	struct twin *t = *state;
	uint8_t v;

	committed_block(t);
	assert_code(0, twin_poke(t, BASE, 1));                 /* now in the TLB, writable */
	protect_ok(t, BASE, PG, PAGE_READONLY);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE, 2));
	assert_code(0, twin_peek(t, BASE, &v));
	assert_int_equal(v, 1);
	protect_ok(t, BASE, PG, PAGE_NOACCESS);
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, BASE, &v));
	protect_ok(t, BASE, PG, PAGE_EXECUTE_READWRITE);
	assert_code(0, twin_exec(t, BASE));
	protect_ok(t, BASE, PG, PAGE_READWRITE);
	assert_code(STATUS_ACCESS_VIOLATION, twin_exec(t, BASE));
}

/* K32 test_guard_page: RW on a guard page returns RW|GUARD; RW|GUARD again
 * returns RW. */
static void protect_of_a_guard_page_returns_the_guard(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE | PAGE_GUARD);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE), PAGE_READWRITE | PAGE_GUARD);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE | PAGE_GUARD), PAGE_READWRITE);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_READWRITE | PAGE_GUARD);
}

/* ------------------------------------------------------------ the cache attribute */

/* K32 ~L455: on current Windows PAGE_NOCACHE belongs to the allocation. */
static void protect_keeps_the_cache_attribute_of_the_allocation(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 0x2000, RC, PAGE_READWRITE | PAGE_NOCACHE);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE), PAGE_READWRITE | PAGE_NOCACHE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE | PAGE_NOCACHE, 0x2000,
	                        PAGE_READWRITE | PAGE_NOCACHE);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_READWRITE | PAGE_NOCACHE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE | PAGE_NOCACHE, PG,
	                        PAGE_READONLY | PAGE_NOCACHE);
	alloc_ok(t, BASE + GR, PG, RC, PAGE_EXECUTE_READ | PAGE_WRITECOMBINE);
	assert_int_equal(protect_ok(t, BASE + GR, PG, PAGE_READWRITE | PAGE_NOCACHE),
	                 PAGE_EXECUTE_READ | PAGE_WRITECOMBINE);
	m = query_ok(t, BASE + GR);
	assert_committed_region(m, BASE + GR, BASE + GR, PAGE_EXECUTE_READ | PAGE_WRITECOMBINE, PG,
	                        PAGE_READWRITE | PAGE_WRITECOMBINE);
}

/* GUARD cannot carry the allocation's NOCACHE: refused, but a page that is
 * not committed is reported first, whatever the protection. */
static void an_uncommitted_page_is_reported_before_the_cache_attribute(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 0x2000, MEM_RESERVE, PAGE_READWRITE | PAGE_NOCACHE);
	alloc_ok(t, BASE, PG, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE, PG, PAGE_READWRITE | PAGE_GUARD));
	assert_unchanged(t, E_ADDR, protect(t, BASE, 0x2000, PAGE_READWRITE | PAGE_GUARD));
	assert_unchanged(t, E_ADDR, protect(t, BASE + PG, PG, PAGE_READWRITE | PAGE_GUARD));
}

/* K32: VirtualProtect(READONLY|NOCACHE) of plain RW memory gives READONLY. */
static void protect_cannot_add_a_cache_attribute(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	committed_block(t);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY | PAGE_NOCACHE), PAGE_READWRITE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, PG, PAGE_READONLY);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE | PAGE_WRITECOMBINE),
	                 PAGE_READONLY);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, GR, PAGE_READWRITE);
}

/* Pages committed later, with whatever cache bits the commit asked for,
 * take the allocation's: a reservation made NOCACHE gives NOCACHE pages, a
 * plain one plain pages (pte_prot_in). */
static void committed_pages_take_the_cache_attribute_of_the_allocation(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_READWRITE | PAGE_NOCACHE);
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	commit_ok(t, BASE + PG, PG, PAGE_READWRITE | PAGE_WRITECOMBINE);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE | PAGE_NOCACHE, 2 * PG,
	                        PAGE_READWRITE | PAGE_NOCACHE);
	assert_int_equal(protect_ok(t, BASE, 2 * PG, PAGE_READONLY), PAGE_READWRITE | PAGE_NOCACHE);
	reserve_ok(t, BASE + GR, GR, PAGE_NOACCESS);
	commit_ok(t, BASE + GR, PG, PAGE_READWRITE | PAGE_NOCACHE);
	m = query_ok(t, BASE + GR);
	assert_committed_region(m, BASE + GR, BASE + GR, PAGE_NOACCESS, PG, PAGE_READWRITE);
}

/* The allocation's attribute must combine with what is asked: NOACCESS or
 * GUARD with a cache attribute is no valid protection, so the call fails
 * and changes nothing, for VirtualProtect and MEM_COMMIT alike. */
static void noaccess_or_guard_in_a_cached_allocation_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_READWRITE | PAGE_NOCACHE);
	commit_ok(t, BASE, 2 * PG, PAGE_READWRITE);
	fill_ok(t, BASE, 2 * PG, 0x4D);
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE + PG, PG, PAGE_NOACCESS));
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE + PG, PG, PAGE_READWRITE | PAGE_GUARD));
	assert_unchanged(t, E_INVALIDARG, protect(t, BASE, 2 * PG, PAGE_READONLY | PAGE_GUARD));
	alloc_fails(t, E_INVALIDARG, BASE + 2 * PG, PG, MEM_COMMIT, PAGE_NOACCESS);
	alloc_fails(t, E_INVALIDARG, BASE + 2 * PG, PG, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READONLY), PAGE_READWRITE | PAGE_NOCACHE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
#define D(f) cmocka_unit_test_setup_teardown(f, twin_debug_setup, twin_teardown)
		T(null_old_protection_pointer_is_e_pointer_and_changes_nothing),
		T(null_old_protection_pointer_is_checked_after_the_protection),
		T(size_zero_is_invalid_parameter),
		T(address_at_or_above_the_limit_is_invalid_parameter),
		T(invalid_protection_is_invalid_parameter_and_keeps_the_old),
		T(protect_of_reserved_pages_is_invalid_address),
		T(protect_over_committed_and_reserved_pages_is_invalid_address),
		T(protect_of_free_memory_is_invalid_address),
		T(protect_past_the_reservation_end_is_invalid_address),
		T(protect_across_two_reservations_is_invalid_address),
		T(protect_takes_the_pages_the_range_touches),
		T(protect_returns_the_old_protection),
		T(protect_returns_the_first_pages_old_protection),
		T(protect_splits_the_region),
		D(protect_keeps_contents_through_noaccess),
		T(protect_of_untouched_pages_keeps_them_untouched),
		T(protect_takes_effect_at_once),
		T(protect_of_a_guard_page_returns_the_guard),
		T(protect_keeps_the_cache_attribute_of_the_allocation),
		T(an_uncommitted_page_is_reported_before_the_cache_attribute),
		T(protect_cannot_add_a_cache_attribute),
		T(committed_pages_take_the_cache_attribute_of_the_allocation),
		T(noaccess_or_guard_in_a_cached_allocation_is_invalid_parameter),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
