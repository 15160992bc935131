/*
 * test_free.c - VirtualFree through the hosted twin, one test per rule of
 * CONTRACT.md ("VirtualFree") and of Windows' behaviour (semantics.md,
 * "VirtualFree"): the order of the checks (type, then a MEM_RELEASE size,
 * then the address), MEM_RELEASE at the base only and of a whole
 * reservation in any state, MEM_DECOMMIT of a range or (size 0, at the base)
 * of everything, the end-of-reservation rule, addresses in no reservation
 * (HOST_E_INVALIDOPERATION), and what is given back: commit charge, frames,
 * page tables, address space.  Every error test checks the HRESULT and that
 * nothing observable changed (twin.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define BASE      0x50000000ull
#define E_ADDR    HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define NOT_OURS  HOST_E_INVALIDOPERATION
#define RC        (MEM_RESERVE | MEM_COMMIT)

/* A reservation at BASE of GR, committed RW and filled with 0x5A. */
static void committed_block(struct twin *t)
{
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x5A);
}

/* ------------------------------------------------------------ the free type */

/* RF Parameters: 0, every single bit other than DECOMMIT and RELEASE, the
 * complements, and DECOMMIT|RELEASE; K32: MEM_FREE. */
static void free_type_must_be_exactly_decommit_or_release(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = { 0, MEM_FREE, MEM_DECOMMIT | MEM_RELEASE,
	                      ~(MEM_DECOMMIT | MEM_RELEASE), ~MEM_DECOMMIT, ~MEM_RELEASE, ~0u,
	                      MEM_RELEASE | MEM_COMMIT, MEM_DECOMMIT | MEM_RESERVE };

	committed_block(t);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, 0, bad[i]));
		assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, PG, bad[i]));
	}
	for (int bit = 0; bit < 32; bit++) {
		DWORD b = 1u << bit;

		if (b == MEM_DECOMMIT || b == MEM_RELEASE)
			continue;
		assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, 0, b));
	}
}

static void free_type_is_checked_before_the_address(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, 0, 0, MEM_FREE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, 0x60000000, 0, 0));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + PG, 0, MEM_DECOMMIT | MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, 0xFFFF800000000000ull, PG, MEM_FREE));
}

/* ------------------------------------------------------------ MEM_RELEASE */

/* K32: "if the type is MEM_RELEASE, size must be 0". */
static void release_with_a_size_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, 1, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, PG, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, GR, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, UINT64_MAX, MEM_RELEASE));
}

static void release_size_is_checked_before_the_address(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, 0, 1, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, 0x60000000, PG, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + PG, PG, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, VA_END, PG, MEM_RELEASE));
}

/* NTV: addr1 + 0x1000 and addr1 + 0x1001 -> STATUS_FREE_VM_NOT_AT_BASE. */
static void release_not_at_the_base_is_invalid_address(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0x1000, 0, MEM_RELEASE));
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0x1001, 0, MEM_RELEASE));
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0xF000, 0, MEM_RELEASE));
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0xFFFF, 0, MEM_RELEASE));
}

/* NTV: addr1 + 0xFFF, size 0, MEM_RELEASE succeeds: rounded down to the
 * page, it is the base. */
static void release_inside_the_base_page_releases_the_reservation(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	committed_block(t);
	release_ok(t, BASE + 0xFFF);
	m = query_ok(t, BASE);
	assert_free_region(m, BASE, VA_END - BASE);
	assert_stats_at_start(t);
}

/* RP TestFreeNoAccess and K32: whatever state its pages are in. */
static void release_takes_the_whole_reservation_whatever_its_pages_are(void **state)
{
	struct twin *t = *state;
	uint8_t v;

	reserve_ok(t, BASE, 0x40000, PAGE_NOACCESS);
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 1);                                   /* resident */
	commit_ok(t, BASE + PG, PG, PAGE_READWRITE);
	fill_ok(t, BASE + PG, PG, 2);
	protect_ok(t, BASE + PG, PG, PAGE_NOACCESS);               /* parked */
	commit_ok(t, BASE + 2 * PG, PG, PAGE_READWRITE | PAGE_GUARD);   /* untouched guard */
	commit_ok(t, BASE + 3 * PG, PG, PAGE_EXECUTE_READ);        /* demand-zero */
	commit_ok(t, BASE + 0x20000, 0x20000, PAGE_READONLY);      /* far, other tables */
	release_ok(t, BASE);
	assert_stats_at_start(t);
	for (uint64_t va = BASE; va < BASE + 0x40000; va += PG)
		assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, va, &v));
}

static void release_of_null_is_invalid_operation(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0, 0, MEM_RELEASE));
	committed_block(t);
	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0, 0, MEM_RELEASE));
}

static void release_of_a_never_allocated_address_is_invalid_operation(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0x60000000, 0, MEM_RELEASE));
	committed_block(t);
	alloc_ok(t, BASE + 4 * GR, GR, RC, PAGE_READWRITE);
	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0x60000000, 0, MEM_RELEASE));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + 2 * GR, 0, MEM_RELEASE));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, VA_FIRST, 0, MEM_RELEASE));
}

/* NTV test_NtFreeVirtualMemory: RELEASE or DECOMMIT of a released page. */
static void free_of_a_released_reservation_is_invalid_operation(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	release_ok(t, BASE);
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE, 0, MEM_RELEASE));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE, PG, MEM_DECOMMIT));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE, 0, MEM_DECOMMIT));
}

/* RA: 0x50008000 is free but in the same 64 KiB block as a 0x3000
 * reservation at 0x50000000; 0x50010000 is a free block. */
static void free_in_the_tail_of_a_reservations_last_block_is_invalid_operation(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 0x3000, RC, PAGE_READWRITE);
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + 0x8000, 0, MEM_RELEASE));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + 0x3000, 0, MEM_RELEASE));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + 0x3000, PG, MEM_DECOMMIT));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + 0x10000, 0, MEM_RELEASE));
}

static void free_outside_the_managed_range_is_invalid_operation(void **state)
{
	struct twin *t = *state;
	const uint64_t bad[] = { 0x1000, 0xFFFF, VA_END, VA_END + GR, 0x800000000000ull,
	                         0xFFFF800000000000ull, UINT64_MAX };

	committed_block(t);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_unchanged(t, NOT_OURS, twin_vfree(t, bad[i], 0, MEM_RELEASE));
		assert_unchanged(t, NOT_OURS, twin_vfree(t, bad[i], 0, MEM_DECOMMIT));
		assert_unchanged(t, NOT_OURS, twin_vfree(t, bad[i], PG, MEM_DECOMMIT));
	}
}

static void released_memory_faults(void **state)
{
	struct twin *t = *state;
	uint8_t v;

	committed_block(t);
	release_ok(t, BASE);
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, BASE, &v));
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE + GR - 1, 0));
}

/* ------------------------------------------------------------ MEM_DECOMMIT */

static void decommit_in_no_reservation_is_invalid_operation(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0x60000000, PG, MEM_DECOMMIT));
	committed_block(t);
	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0, PG, MEM_DECOMMIT));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, 0, 0, MEM_DECOMMIT));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE + GR, PG, MEM_DECOMMIT));
	assert_unchanged(t, NOT_OURS, twin_vfree(t, BASE - PG, 2 * PG, MEM_DECOMMIT));
}

/* NTV: addr1 + 0xFFE, size 0: the whole allocation. */
static void decommit_size_zero_at_the_base_decommits_the_whole_reservation(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	committed_block(t);
	free_ok(t, BASE + 0xFFE, 0, MEM_DECOMMIT);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_READWRITE, GR);
	assert_int_equal(twin_stats(t).commit_charge, 0);
	assert_int_equal(twin_stats(t).reservations, 1);
}

/* NTV: addr1 + 0x1001, size 0 -> STATUS_FREE_VM_NOT_AT_BASE. */
static void decommit_size_zero_not_at_the_base_is_invalid_address(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0x1001, 0, MEM_DECOMMIT));
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0x1000, 0, MEM_DECOMMIT));
	assert_unchanged(t, E_ADDR, twin_vfree(t, BASE + 0xF000, 0, MEM_DECOMMIT));
}

/* NTV: addr1 + 0x1FFF, size 2 -> pages 1 and 2; RF: Buffer + 1, size
 * PAGE_SIZE - 1 -> page 0. */
static void decommit_takes_the_pages_the_range_touches(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	committed_block(t);
	free_ok(t, BASE + 0x1FFF, 2, MEM_DECOMMIT);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, PG, PAGE_READWRITE);
	m = query_ok(t, BASE + PG);
	assert_reserved_region(m, BASE + PG, BASE, PAGE_READWRITE, 2 * PG);
	m = query_ok(t, BASE + 3 * PG);
	assert_committed_region(m, BASE + 3 * PG, BASE, PAGE_READWRITE, GR - 3 * PG,
	                        PAGE_READWRITE);
	free_ok(t, BASE + 1, PG - 1, MEM_DECOMMIT);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_READWRITE, 3 * PG);
	assert_bytes(t, BASE + 3 * PG, GR - 3 * PG, 0x5A);
}

/* RF, NTV, RA: STATUS_UNABLE_TO_FREE_VM, which is 87, not 487. */
static void decommit_past_the_reservation_end_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);          /* one page */
	fill_ok(t, BASE, PG, 0x21);
	alloc_ok(t, BASE + GR, GR, RC, PAGE_READWRITE);     /* the next block */
	fill_ok(t, BASE + GR, GR, 0x22);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, PG + 1, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + 1, PG, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, GR, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + GR, 0x11000, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + GR + 0x1001, 0xFFFF, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, 2 * GR, MEM_DECOMMIT));
}

static void decommit_size_that_wraps_is_invalid_parameter(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE, UINT64_MAX, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, BASE + PG, 0 - BASE, MEM_DECOMMIT));
}

/* RA, RF, K32: reserved-only pages may be decommitted. */
static void decommit_of_reserved_only_pages_succeeds(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	assert_unchanged(t, S_OK, twin_vfree(t, BASE, GR, MEM_DECOMMIT));
	assert_unchanged(t, S_OK, twin_vfree(t, BASE, 0, MEM_DECOMMIT));
	commit_ok(t, BASE + PG, PG, PAGE_READWRITE);
	free_ok(t, BASE, 0x3000, MEM_DECOMMIT);
	m = query_ok(t, BASE);
	assert_reserved_region(m, BASE, BASE, PAGE_NOACCESS, GR);
}

static void decommitted_pages_are_reserved_and_fault(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;
	uint8_t v;

	reserve_ok(t, BASE, GR, PAGE_EXECUTE_READ);
	commit_ok(t, BASE, GR, PAGE_EXECUTE_READWRITE);
	fill_ok(t, BASE, GR, 0x90);
	free_ok(t, BASE + PG, PG, MEM_DECOMMIT);
	m = query_ok(t, BASE + PG);
	assert_reserved_region(m, BASE + PG, BASE, PAGE_EXECUTE_READ, PG);
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, BASE + PG, &v));
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, BASE + PG + 1, 0));
	assert_code(STATUS_ACCESS_VIOLATION, twin_exec(t, BASE + PG + 2));
	assert_code(0, twin_exec(t, BASE));
	assert_code(0, twin_exec(t, BASE + 2 * PG));
}

static void decommitted_then_recommitted_pages_read_zero(void **state)
{
	struct twin *t = *state;

	committed_block(t);
	protect_ok(t, BASE + PG, PG, PAGE_NOACCESS);
	protect_ok(t, BASE + 2 * PG, PG, PAGE_READWRITE | PAGE_GUARD);
	free_ok(t, BASE, 4 * PG, MEM_DECOMMIT);
	commit_ok(t, BASE, 4 * PG, PAGE_READWRITE);
	assert_bytes(t, BASE, 4 * PG, 0);
	assert_bytes(t, BASE + 4 * PG, GR - 4 * PG, 0x5A);
	free_ok(t, BASE, 0, MEM_DECOMMIT);
	commit_ok(t, BASE, GR, PAGE_READONLY);
	assert_bytes(t, BASE, GR, 0);
}

/* Committed pages are charged whether touched or not; decommit gives the
 * charge, the frames and the promises back (all but the page table it
 * emptied, which it keeps for the next commit). */
static void decommit_returns_charge_frames_and_promises(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	reserve_ok(t, BASE, GR, PAGE_NOACCESS);
	a = twin_stats(t);
	commit_ok(t, BASE, 8 * PG, PAGE_READWRITE);
	protect_ok(t, BASE + 4 * PG, 4 * PG, PAGE_READONLY);  /* another cluster run */
	fill_ok(t, BASE, 4 * PG, 7);                      /* pages 0..3 resident */
	protect_ok(t, BASE + 3 * PG, PG, PAGE_NOACCESS);   /* page 3 parked */
	b = twin_stats(t);
	assert_int_equal(b.commit_charge, a.commit_charge + 8);
	assert_int_equal(b.commit_promised, a.commit_promised + 4);
	assert_int_equal(b.frames_data, a.frames_data + 4);
	free_ok(t, BASE + 2 * PG, 4 * PG, MEM_DECOMMIT);   /* 2 resident (one parked), 2 not */
	b = twin_stats(t);
	assert_int_equal(b.commit_charge, a.commit_charge + 4);
	assert_int_equal(b.commit_promised, a.commit_promised + 2);
	assert_int_equal(b.frames_data, a.frames_data + 2);
	free_ok(t, BASE, 0, MEM_DECOMMIT);
	b = twin_stats(t);
	assert_int_equal(b.commit_charge, a.commit_charge);
	assert_int_equal(b.commit_promised, a.commit_promised);
	assert_int_equal(b.frames_data, a.frames_data);
	assert_int_equal(b.frames_tables_kept, a.frames_tables_kept + 1);
	/* The page table and the two above it stay. */
	assert_int_equal(b.frames_free + b.frames_tables, a.frames_free + a.frames_tables);
}

/* A decommit keeps the page tables it empties, for the next commit there
 * (pagetable.c, theory 9); hostmem_trim or the release gives them back. */
static void decommit_keeps_empty_page_tables_until_release(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats s;
	uint64_t tables;

	reserve_ok(t, 0x100000000ull, 4 * GiB, PAGE_NOACCESS);
	for (uint64_t off = 0; off < 4 * GiB; off += GiB)
		commit_ok(t, 0x100000000ull + off + 3 * MiB, PG, PAGE_READWRITE);
	tables = twin_stats(t).frames_tables;
	assert_true(tables >= 4);
	free_ok(t, 0x100000000ull, 0, MEM_DECOMMIT);
	s = twin_stats(t);
	assert_int_equal(s.frames_tables, tables);
	assert_int_equal(s.frames_tables_kept, 4);
	commit_ok(t, 0x100000000ull + 3 * MiB, PG, PAGE_READWRITE);   /* in a kept one */
	s = twin_stats(t);
	assert_int_equal(s.frames_tables, tables);
	assert_int_equal(s.frames_tables_kept, 3);
	assert_hr(S_OK, hostmem_trim(t->m));     /* the other three, and their PDs */
	s = twin_stats(t);
	assert_int_equal(s.frames_tables_kept, 0);
	assert_int_equal(s.frames_tables, tables - 6);
	fill_ok(t, 0x100000000ull + 3 * MiB, PG, 0x11);
	release_ok(t, 0x100000000ull);
	s = twin_stats(t);
	assert_int_equal(s.frames_tables, 0);
	assert_int_equal(s.frames_tables_kept, 0);
	assert_int_equal(s.reservations, 0);
}

/* Kept page tables hold frames no one needs: a commit that needs them takes
 * them back rather than fail.  Here 64 are kept and the commit wants 32
 * pages more than the frames free, and a few tables of its own. */
static void kept_page_tables_are_given_back_before_a_commit_is_refused(void **state)
{
	struct twin *t = *state;
	const uint64_t r1 = 0x100000000ull, r2 = 0x200000000ull;
	struct hostmem_stats s;
	uint64_t n;
	void *p;

	reserve_ok(t, r1, 128 * MiB, PAGE_NOACCESS);
	for (uint64_t k = 0; k < 64; k++)
		commit_ok(t, r1 + k * 2 * MiB, PG, PAGE_READWRITE);
	free_ok(t, r1, 0, MEM_DECOMMIT);
	s = twin_stats(t);
	assert_int_equal(s.frames_tables_kept, 64);
	n = s.commit_available + 32;
	reserve_ok(t, r2, (n * PG + GR - 1) & ~(GR - 1), PAGE_NOACCESS);
	assert_hr(S_OK, IHostMemoryManager_VirtualAlloc(t->m, VA(r2), n * PG, MEM_COMMIT,
	                                                PAGE_READWRITE, eProcessCritical, &p));
	assert_int_equal(twin_stats(t).frames_tables_kept, 0);
	fill_ok(t, r2 + (n - 1) * PG, PG, 0x3C);
	release_ok(t, r2);
	release_ok(t, r1);
}

/* ------------------------------------------------------------ everything back */

static void releasing_everything_returns_the_stats_to_the_start(void **state)
{
	struct twin *t = *state;
	uint64_t p[40];

	for (int i = 0; i < 40; i++) {
		p[i] = alloc_ok(t, 0, (uint64_t)(i % 7 + 1) * PG + (uint64_t)i,
		                i % 3 ? RC : MEM_RESERVE,
		                i % 2 ? PAGE_READWRITE : PAGE_EXECUTE_READWRITE);
		if (i % 3)
			fill_ok(t, p[i], PG, (uint8_t)i);
	}
	alloc_ok(t, 0, 3 * PG, RC | MEM_TOP_DOWN, PAGE_READONLY);
	release_ok(t, VA_END - GR);
	for (int i = 0; i < 40; i += 2)
		release_ok(t, p[i]);
	for (int i = 1; i < 40; i += 2)
		release_ok(t, p[i]);
	assert_stats_at_start(t);
	assert_int_equal(twin_stats(t).frames_tables, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
#define D(f) cmocka_unit_test_setup_teardown(f, twin_debug_setup, twin_teardown)
		T(free_type_must_be_exactly_decommit_or_release),
		T(free_type_is_checked_before_the_address),
		T(release_with_a_size_is_invalid_parameter),
		T(release_size_is_checked_before_the_address),
		T(release_not_at_the_base_is_invalid_address),
		T(release_inside_the_base_page_releases_the_reservation),
		D(release_takes_the_whole_reservation_whatever_its_pages_are),
		T(release_of_null_is_invalid_operation),
		T(release_of_a_never_allocated_address_is_invalid_operation),
		T(free_of_a_released_reservation_is_invalid_operation),
		T(free_in_the_tail_of_a_reservations_last_block_is_invalid_operation),
		T(free_outside_the_managed_range_is_invalid_operation),
		T(released_memory_faults),
		T(decommit_in_no_reservation_is_invalid_operation),
		T(decommit_size_zero_at_the_base_decommits_the_whole_reservation),
		T(decommit_size_zero_not_at_the_base_is_invalid_address),
		T(decommit_takes_the_pages_the_range_touches),
		T(decommit_past_the_reservation_end_is_invalid_parameter),
		T(decommit_size_that_wraps_is_invalid_parameter),
		T(decommit_of_reserved_only_pages_succeeds),
		T(decommitted_pages_are_reserved_and_fault),
		D(decommitted_then_recommitted_pages_read_zero),
		D(decommit_returns_charge_frames_and_promises),
		T(decommit_keeps_empty_page_tables_until_release),
		T(kept_page_tables_are_given_back_before_a_commit_is_refused),
		D(releasing_everything_returns_the_stats_to_the_start),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
