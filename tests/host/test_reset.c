/*
 * test_reset.c - MEM_RESET and MEM_RESET_UNDO through the hosted twin
 * (alloc.c, commit.c), one test per rule.
 *
 * MEM_RESET says "the contents of these pages no longer matter": it comes
 * alone, with a valid (and otherwise ignored) protection, over a range inside
 * one reservation (else HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)); the pages
 * keep their state and protection and their commit charge, but hostmem gives
 * their frames back at once, so they read zero afterwards.  Reserved-only
 * and untouched pages are fine and lose nothing.
 *
 * MEM_RESET_UNDO says "they matter again": S_OK when no data in the range
 * was discarded, HRESULT_FROM_WIN32(ERROR_DISCARDED) when some was (the
 * pages read zero).  A failing call changes nothing, so the discard stays
 * marked and a second undo fails again, until the pages are decommitted.
 * It comes alone,
 * like MEM_RESET.  A page whose data was discarded stays so for the undo
 * whatever the caller does meanwhile short of decommitting it: reading it
 * (which maps a zero frame) or changing its protection must not make the
 * undo claim the old data is intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

#define BASE       0x50000000ull
#define NPAGES     16
#define PAGE(i)    (BASE + (uint64_t)(i) * PG)
#define RC         (MEM_RESERVE | MEM_COMMIT)
#define E_ADDR     HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define E_DISCARDED HRESULT_FROM_WIN32(ERROR_DISCARDED)

/* NPAGES committed read-write pages at BASE, every byte 0xAB. */
static void written(struct twin *t)
{
	assert_int_equal(alloc_ok(t, BASE, NPAGES * PG, RC, PAGE_READWRITE), BASE);
	fill_ok(t, BASE, NPAGES * PG, 0xAB);
}

static HRESULT reset(struct twin *t, uint64_t va, uint64_t size)
{
	uint64_t r;
	HRESULT hr = twin_alloc(t, va, size, MEM_RESET, PAGE_READWRITE, &r);

	if (hr == S_OK)
		assert_int_equal(r, va & ~(PG - 1));
	return hr;
}

static HRESULT undo(struct twin *t, uint64_t va, uint64_t size)
{
	uint64_t r;
	HRESULT hr = twin_alloc(t, va, size, MEM_RESET_UNDO, PAGE_READWRITE, &r);

	if (hr == S_OK)
		assert_int_equal(r, va & ~(PG - 1));
	return hr;
}

/* The regions of the reservation at base, as VirtualQuery walks them. */
struct walk { size_t n; MEMORY_BASIC_INFORMATION m[NPAGES]; };

static struct walk walk(struct twin *t, uint64_t base)
{
	struct walk w = { 0 };
	uint64_t va = base;

	for (;;) {
		MEMORY_BASIC_INFORMATION m = query_ok(t, va);

		if ((uint64_t)(uintptr_t)m.AllocationBase != base || w.n == NPAGES)
			return w;
		w.m[w.n++] = m;
		va += m.RegionSize;
	}
}

/* ------------------------------------------------------------ MEM_RESET */

static void reset_needs_a_valid_protection_and_ignores_it(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = { 0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, 0x800,
	                      PAGE_NOACCESS | PAGE_GUARD, PAGE_READONLY | PAGE_READWRITE };
	MEMORY_BASIC_INFORMATION m;
	uint64_t r;

	written(t);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET, bad[i]);
	assert_hr(S_OK, twin_alloc(t, BASE, PG, MEM_RESET, PAGE_NOACCESS, &r));
	assert_hr(S_OK, twin_alloc(t, PAGE(1), PG, MEM_RESET, PAGE_EXECUTE_READ | PAGE_GUARD, &r));
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, NPAGES * PG, PAGE_READWRITE);
}

static void reset_with_any_other_type_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	const DWORD with[] = { MEM_COMMIT, MEM_RESERVE, RC, MEM_TOP_DOWN, MEM_WRITE_WATCH,
	                       MEM_RESET_UNDO, MEM_LARGE_PAGES, MEM_DECOMMIT, MEM_PHYSICAL };

	written(t);
	for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET | with[i], PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, 0, MEM_RESET, PAGE_READWRITE);
}

static void reset_keeps_state_and_protection(void **state)
{
	struct twin *t = *state;
	struct walk before, after;

	assert_int_equal(reserve_ok(t, BASE, NPAGES * PG, PAGE_READWRITE), BASE);
	commit_ok(t, PAGE(0), 4 * PG, PAGE_READWRITE);
	commit_ok(t, PAGE(4), 2 * PG, PAGE_EXECUTE_READWRITE);
	fill_ok(t, BASE, 6 * PG, 0xCD);
	protect_ok(t, PAGE(2), PG, PAGE_READONLY);
	protect_ok(t, PAGE(3), PG, PAGE_NOACCESS);
	protect_ok(t, PAGE(4), PG, PAGE_EXECUTE_READWRITE | PAGE_GUARD);
	commit_ok(t, PAGE(10), 2 * PG, PAGE_READONLY);     /* never touched */
	before = walk(t, BASE);
	assert_hr(S_OK, reset(t, BASE, NPAGES * PG));
	after = walk(t, BASE);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.m, before.m, before.n * sizeof before.m[0]);
}

/* The frames go back now: data frames drop, the charge and availability do
 * not move (each frame becomes a promise again). */
static void reset_returns_the_frames_and_keeps_the_charge(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	written(t);
	a = twin_stats(t);
	assert_hr(S_OK, reset(t, PAGE(2), 10 * PG));
	b = twin_stats(t);
	assert_int_equal(a.frames_data - b.frames_data, 10);
	assert_int_equal(b.frames_free - a.frames_free, 10);
	assert_int_equal(b.commit_promised - a.commit_promised, 10);
	assert_int_equal(b.commit_charge, a.commit_charge);
	assert_int_equal(b.commit_available, a.commit_available);
}

static void reset_pages_read_zero_and_stay_usable(void **state)
{
	struct twin *t = *state;

	written(t);
	assert_hr(S_OK, reset(t, PAGE(4) + 0x10, 2 * PG));   /* pages 4, 5 and 6 */
	assert_bytes(t, BASE, 4 * PG, 0xAB);
	assert_bytes(t, PAGE(4), 3 * PG, 0);
	assert_bytes(t, PAGE(7), (NPAGES - 7) * PG, 0xAB);
	fill_ok(t, PAGE(5), PG, 0x5C);
	assert_bytes(t, PAGE(5), PG, 0x5C);
}

/* A reset page keeps its protection through the discard: NOACCESS stays
 * inaccessible, a guard page still guards, and both read zero after. */
static void reset_of_noaccess_and_guard_pages_discards_and_keeps_them(void **state)
{
	struct twin *t = *state;
	uint8_t b = 0xFF;

	written(t);
	protect_ok(t, PAGE(1), PG, PAGE_NOACCESS);
	protect_ok(t, PAGE(2), PG, PAGE_READWRITE | PAGE_GUARD);
	assert_hr(S_OK, reset(t, BASE, NPAGES * PG));
	assert_code(STATUS_ACCESS_VIOLATION, twin_peek(t, PAGE(1), &b));
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_peek(t, PAGE(2), &b));
	assert_code(0, twin_peek(t, PAGE(2), &b));
	assert_int_equal(b, 0);
	protect_ok(t, PAGE(1), PG, PAGE_READONLY);
	assert_bytes(t, PAGE(1), PG, 0);
}

/* Nothing to discard: S_OK, nothing at all changes. */
static void reset_of_reserved_only_pages_is_fine(void **state)
{
	struct twin *t = *state;
	uint64_t r;

	assert_int_equal(reserve_ok(t, BASE, NPAGES * PG, PAGE_READWRITE), BASE);
	commit_ok(t, PAGE(4), PG, PAGE_READWRITE);
	fill_ok(t, PAGE(4), PG, 0x31);
	assert_unchanged(t, S_OK, twin_alloc(t, PAGE(1), PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_unchanged(t, S_OK, twin_alloc(t, PAGE(5), 8 * PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_int_equal(query_ok(t, PAGE(1)).State, MEM_RESERVE);
}

/* Committed but never touched: no frame to give back, no data lost. */
static void reset_of_untouched_pages_changes_nothing(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	assert_int_equal(alloc_ok(t, BASE, NPAGES * PG, RC, PAGE_READWRITE), BASE);
	a = twin_stats(t);
	assert_hr(S_OK, reset(t, BASE, NPAGES * PG));
	b = twin_stats(t);
	assert_memory_equal(&a, &b, sizeof a);
	assert_hr(S_OK, undo(t, BASE, NPAGES * PG));
}

static void reset_crossing_the_reservation_end_is_invalid_address(void **state)
{
	struct twin *t = *state;

	written(t);
	alloc_fails(t, E_ADDR, PAGE(NPAGES - 1), 2 * PG, MEM_RESET, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE, NPAGES * PG + 1, MEM_RESET, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE - PG, 2 * PG, MEM_RESET, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, PAGE(NPAGES), PG, MEM_RESET, PAGE_READWRITE);   /* free space */
	alloc_fails(t, E_ADDR, 0, PG, MEM_RESET, PAGE_READWRITE);
	assert_bytes(t, BASE, NPAGES * PG, 0xAB);
}

/* ------------------------------------------------------------ MEM_RESET_UNDO */

static void reset_undo_with_nothing_reset_is_s_ok_and_keeps_the_data(void **state)
{
	struct twin *t = *state;
	uint64_t r;

	written(t);
	assert_unchanged(t, S_OK, twin_alloc(t, BASE, NPAGES * PG, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	assert_bytes(t, BASE, NPAGES * PG, 0xAB);
}

static void reset_undo_after_a_reset_of_written_pages_is_discarded(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	written(t);
	assert_hr(S_OK, reset(t, PAGE(3), 2 * PG));
	assert_hr(E_DISCARDED, undo(t, BASE, NPAGES * PG));
	/* The pages are ordinary committed pages that read zero... */
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_READWRITE, NPAGES * PG, PAGE_READWRITE);
	assert_bytes(t, PAGE(3), 2 * PG, 0);
	/* ... and the failing undo changed nothing: the next one fails too. */
	assert_hr(E_DISCARDED, undo(t, BASE, NPAGES * PG));
	assert_hr(E_DISCARDED, undo(t, PAGE(4), PG));
	assert_hr(S_OK, undo(t, PAGE(5), PG));
}

/* Only discarded pages inside the undo's own range count. */
static void reset_undo_judges_only_its_range(void **state)
{
	struct twin *t = *state;

	written(t);
	assert_hr(S_OK, reset(t, PAGE(4), 4 * PG));
	assert_hr(S_OK, undo(t, BASE, 4 * PG));
	assert_hr(S_OK, undo(t, PAGE(8), 8 * PG));
	assert_hr(E_DISCARDED, undo(t, PAGE(6), 4 * PG));     /* pages 6, 7 */
	assert_hr(E_DISCARDED, undo(t, PAGE(3), 2 * PG));     /* page 4 */
	assert_hr(E_DISCARDED, undo(t, PAGE(5), 1));          /* page 5 */
	assert_hr(E_DISCARDED, undo(t, BASE, NPAGES * PG));  /* all of them still */
}

static void reset_undo_with_any_other_type_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	const DWORD with[] = { MEM_COMMIT, MEM_RESERVE, RC, MEM_RESET, MEM_TOP_DOWN,
	                       MEM_WRITE_WATCH, MEM_LARGE_PAGES };

	uint64_t r;

	written(t);
	for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
		alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET_UNDO | with[i], PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, PG, MEM_RESET_UNDO, 0);
	alloc_fails(t, E_INVALIDARG, BASE, 0, MEM_RESET_UNDO, PAGE_READWRITE);
	/* Refused calls do not consume a discard (no snapshot here: reading the
	 * discarded page is another rule's business). */
	assert_hr(S_OK, reset(t, BASE, PG));
	for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
		assert_hr(E_INVALIDARG, twin_alloc(t, BASE, PG, MEM_RESET_UNDO | with[i],
		                                   PAGE_READWRITE, &r));
	assert_hr(E_INVALIDARG, twin_alloc(t, BASE, PG, MEM_RESET_UNDO, 0, &r));
	assert_hr(E_DISCARDED, undo(t, BASE, PG));
}

static void reset_undo_outside_one_reservation_is_invalid_address(void **state)
{
	struct twin *t = *state;

	uint64_t r;

	written(t);
	alloc_fails(t, E_ADDR, PAGE(NPAGES - 1), 2 * PG, MEM_RESET_UNDO, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, PAGE(NPAGES), PG, MEM_RESET_UNDO, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, BASE - PG, 2 * PG, MEM_RESET_UNDO, PAGE_READWRITE);
	alloc_fails(t, E_ADDR, 0, PG, MEM_RESET_UNDO, PAGE_READWRITE);
	/* A refused undo does not consume the discard. */
	assert_hr(S_OK, reset(t, PAGE(NPAGES - 1), PG));
	assert_hr(E_ADDR, twin_alloc(t, PAGE(NPAGES - 1), 2 * PG, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	assert_hr(E_DISCARDED, undo(t, PAGE(NPAGES - 1), PG));
}

/* Decommit forgets the discard with the data: recommitted pages are new. */
static void decommit_forgets_a_discard(void **state)
{
	struct twin *t = *state;

	written(t);
	assert_hr(S_OK, reset(t, BASE, 4 * PG));
	free_ok(t, BASE, 4 * PG, MEM_DECOMMIT);
	commit_ok(t, BASE, 4 * PG, PAGE_READWRITE);
	assert_hr(S_OK, undo(t, BASE, 4 * PG));
}

/* Reading a discarded page maps a zero frame: the old data is still gone,
 * and the undo must still say so. */
static void a_read_after_reset_does_not_hide_the_discard(void **state)
{
	struct twin *t = *state;

	written(t);
	assert_hr(S_OK, reset(t, PAGE(2), PG));
	assert_bytes(t, PAGE(2), PG, 0);
	assert_hr(E_DISCARDED, undo(t, PAGE(2), PG));
}

static void a_protection_change_after_reset_does_not_hide_the_discard(void **state)
{
	struct twin *t = *state;

	written(t);
	assert_hr(S_OK, reset(t, PAGE(2), PG));
	protect_ok(t, PAGE(2), PG, PAGE_READONLY);
	assert_hr(E_DISCARDED, undo(t, PAGE(2), PG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(reset_needs_a_valid_protection_and_ignores_it),
		T(reset_with_any_other_type_is_e_invalidarg),
		T(reset_keeps_state_and_protection),
		T(reset_returns_the_frames_and_keeps_the_charge),
		T(reset_pages_read_zero_and_stay_usable),
		T(reset_of_noaccess_and_guard_pages_discards_and_keeps_them),
		T(reset_of_reserved_only_pages_is_fine),
		T(reset_of_untouched_pages_changes_nothing),
		T(reset_crossing_the_reservation_end_is_invalid_address),
		T(reset_undo_with_nothing_reset_is_s_ok_and_keeps_the_data),
		T(reset_undo_after_a_reset_of_written_pages_is_discarded),
		T(reset_undo_judges_only_its_range),
		T(reset_undo_with_any_other_type_is_e_invalidarg),
		T(reset_undo_outside_one_reservation_is_invalid_address),
		T(decommit_forgets_a_discard),
		T(a_read_after_reset_does_not_hide_the_discard),
		T(a_protection_change_after_reset_does_not_hide_the_discard),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
