/*
 * test_watch.c - write watch (hostmem_get_write_watch /
 * hostmem_reset_write_watch, watch.c) through the hosted twin, one test per
 * rule of Win32 GetWriteWatch / ResetWriteWatch as Windows behaves
 * (semantics.md section 6, Wine's test_write_watch).
 *
 * The rules: the range must lie in one MEM_WRITE_WATCH reservation, size
 * not 0 (else E_INVALIDARG); a NULL count or granularity, or a NULL array
 * with a count, is E_POINTER; flags other than WRITE_WATCH_FLAG_RESET and a
 * zero count are E_INVALIDARG.  A page is reported when it was written since
 * it was committed or last reset, in ascending order, page-aligned, at most
 * *count of them, with granularity 4096; WRITE_WATCH_FLAG_RESET clears only
 * the pages it returned.  Commit dirties nothing, a read dirties nothing, a
 * write does (through the software MMU's D bit, like the CPU's), also when it
 * first hit a guard page; decommit forgets; protection changes do not.
 * Every error changes nothing, the dirty state included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tests/host/lib/twin.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

#define BASE   0x50000000ull
#define NPAGES 16
#define RCW    (MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH)
#define PAGE(i) (BASE + (uint64_t)(i) * PG)
#define MAXW   64
#define JUNK   ((void *)(uintptr_t)0xDEADBEEF)

/* A write-watch reservation of NPAGES committed read-write pages at BASE. */
static void watched(struct twin *t)
{
	assert_int_equal(alloc_ok(t, BASE, NPAGES * PG, RCW, PAGE_READWRITE), BASE);
}

static void poke(struct twin *t, uint64_t va)
{
	assert_code(0, twin_poke(t, va, 0x5A));
}

/* What GetWriteWatch reports for [base, base + size), at most max pages. */
struct report {
	HRESULT hr;
	ULONG_PTR count;
	DWORD gran;
	void *addr[MAXW];
};

static struct report watch(struct twin *t, DWORD flags, uint64_t base, uint64_t size, size_t max)
{
	struct report r;

	for (size_t i = 0; i < MAXW; i++)
		r.addr[i] = JUNK;
	r.count = max;
	r.gran = 0;
	r.hr = hostmem_get_write_watch(t->m, flags, VA(base), size, r.addr, &r.count, &r.gran);
	return r;
}

/* The dirty pages of [base, base + size) are exactly want[0..n). */
#define assert_dirty(t, base, size, ...) do { \
		const uint64_t w_[] = { __VA_ARGS__ }; \
		assert_dirty_at((t), (base), (size), w_, sizeof w_ / sizeof w_[0] - 1, __LINE__); \
	} while (0)
/* (the list ends with a sentinel, so an empty list can be written) */
#define END 0

static void assert_dirty_at(struct twin *t, uint64_t base, uint64_t size, const uint64_t *want,
                            size_t n, int line)
{
	struct report r = watch(t, 0, base, size, MAXW);

	if (r.hr != S_OK || r.count != n)
		fail_msg("line %d: GetWriteWatch: %s, count %lu, want %zu", line,
		         hostmem_hresult_name(r.hr), (unsigned long)r.count, n);
	assert_int_equal(r.gran, PG);
	for (size_t i = 0; i < n; i++)
		if ((uint64_t)(uintptr_t)r.addr[i] != want[i])
			fail_msg("line %d: page %zu reported %p, want %#llx", line, i, r.addr[i],
			         (unsigned long long)want[i]);
	assert_ptr_equal(r.addr[n], JUNK);
}

/* ------------------------------------------------------------ errors */

/* Semantics.md's parameter table, in its order. */
static void get_write_watch_checks_its_parameters(void **state)
{
	struct twin *t = *state;
	void *addrs[4] = { JUNK, JUNK, JUNK, JUNK };
	ULONG_PTR count;
	DWORD gran = 7;

	watched(t);
	poke(t, PAGE(2));
	count = 0;
	assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, 0, VA(BASE), PG * NPAGES,
	                 addrs, &count, &gran));
	assert_unchanged(t, E_POINTER, hostmem_get_write_watch(t->m, 0, VA(BASE), PG * NPAGES,
	                 addrs, NULL, &gran));
	count = 4;
	assert_unchanged(t, E_POINTER, hostmem_get_write_watch(t->m, 0, VA(BASE), PG * NPAGES,
	                 addrs, &count, NULL));
	assert_unchanged(t, E_POINTER, hostmem_get_write_watch(t->m, 0, VA(BASE), PG * NPAGES,
	                 NULL, &count, &gran));
	count = 0;
	assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, 0, VA(BASE), PG * NPAGES,
	                 NULL, &count, &gran));
	count = 4;
	assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, 0xDEADBEEF, VA(BASE),
	                 PG * NPAGES, addrs, &count, &gran));
	assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, WRITE_WATCH_FLAG_RESET | 2,
	                 VA(BASE), PG * NPAGES, addrs, &count, &gran));
	assert_int_equal(count, 4);
	assert_int_equal(gran, 7);
	assert_ptr_equal(addrs[0], JUNK);
	/* None of it reset anything. */
	assert_dirty(t, BASE, NPAGES * PG, PAGE(2), END);
}

static void get_write_watch_range_must_lie_in_the_reservation(void **state)
{
	struct twin *t = *state;
	void *addrs[4];
	ULONG_PTR count = 4;
	DWORD gran;
	const struct { uint64_t base, size; } bad[] = {
		{ BASE, 0 },
		{ BASE, 2 * NPAGES * PG },                      /* twice the region */
		{ PAGE(NPAGES - 1), PG + 1 },                   /* crossing its end */
		{ PAGE(NPAGES), PG },                           /* just past its end */
		{ 0, PG },
		{ BASE - GR, PG },                              /* free space */
		{ VA_END, PG },
		{ BASE, ~0ull },
	};

	watched(t);
	poke(t, PAGE(0));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, WRITE_WATCH_FLAG_RESET,
		                 VA(bad[i].base), bad[i].size, addrs, &count, &gran));
	assert_int_equal(count, 4);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(0), END);
}

static void reset_write_watch_range_must_lie_in_the_reservation(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(NPAGES - 1));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(BASE), 0));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(BASE), 2 * NPAGES * PG));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(PAGE(NPAGES - 1)),
	                 PG + 1));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(0), PG));
	assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(BASE - GR), PG));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(NPAGES - 1), END);
}

/* Ordinary memory, a large-page reservation, acquired space. */
static void a_reservation_without_write_watch_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	uint64_t plain = alloc_ok(t, 0, 4 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	uint64_t large = alloc_ok(t, 0, 2 * MiB, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES,
	                          PAGE_READWRITE);
	const uint64_t bases[] = { plain, large, BASE };
	void *addrs[4];
	ULONG_PTR count = 4;
	DWORD gran;

	assert_hr(S_OK, IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(BASE), GR));
	poke(t, plain);
	poke(t, large);
	for (size_t i = 0; i < 3; i++) {
		assert_unchanged(t, E_INVALIDARG, hostmem_get_write_watch(t->m, 0, VA(bases[i]), PG,
		                 addrs, &count, &gran));
		assert_unchanged(t, E_INVALIDARG, hostmem_reset_write_watch(t->m, VA(bases[i]), PG));
	}
}

/* ------------------------------------------------------------ what is reported */

static void a_fresh_commit_reports_no_page(void **state)
{
	struct twin *t = *state;
	struct report r;

	watched(t);
	r = watch(t, 0, BASE, NPAGES * PG, MAXW);
	assert_hr(S_OK, r.hr);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.gran, PG);
	assert_ptr_equal(r.addr[0], JUNK);             /* untouched when nothing is dirty */
	/* A reservation with nothing committed yet, and a commit into it later. */
	assert_int_equal(alloc_ok(t, BASE + GR, 4 * PG, MEM_RESERVE | MEM_WRITE_WATCH,
	                          PAGE_NOACCESS), BASE + GR);
	assert_dirty(t, BASE + GR, 4 * PG, END);
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(BASE + GR), 4 * PG));
	commit_ok(t, BASE + GR, 4 * PG, PAGE_READWRITE);
	assert_dirty(t, BASE + GR, 4 * PG, END);
}

/* One byte inside the page reports the page's base, at granularity 4096. */
static void a_write_reports_its_page(void **state)
{
	struct twin *t = *state;

	watched(t);
	assert_code(0, twin_poke(t, PAGE(1) + 1, 7));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), END);
	assert_dirty(t, PAGE(1) + 0x800, 1, PAGE(1), END);   /* the range is page-rounded */
}

static void pages_are_reported_in_ascending_order(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(9));
	poke(t, PAGE(3));
	poke(t, PAGE(15));
	poke(t, PAGE(0));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(0), PAGE(3), PAGE(9), PAGE(15), END);
}

static void a_write_across_two_pages_marks_both(void **state)
{
	struct twin *t = *state;
	uint32_t v = 0xA1B2C3D4;

	watched(t);
	assert_code(0, twin_write(t, PAGE(2) - 2, &v, sizeof v));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), PAGE(2), END);
}

static void a_read_does_not_mark(void **state)
{
	struct twin *t = *state;
	uint8_t buf[3 * PG];

	watched(t);
	assert_code(0, twin_read(t, PAGE(4), buf, sizeof buf));   /* demand-zero: maps frames */
	assert_code(0, twin_read(t, PAGE(4), buf, sizeof buf));
	assert_dirty(t, BASE, NPAGES * PG, END);
}

static void only_pages_inside_the_range_are_reported(void **state)
{
	struct twin *t = *state;

	watched(t);
	for (int i = 0; i < NPAGES; i++)
		poke(t, PAGE(i));
	assert_dirty(t, PAGE(3), 2 * PG, PAGE(3), PAGE(4), END);
	assert_dirty(t, PAGE(15), PG, PAGE(15), END);
}

/* *count in is the room, *count out the number written. */
static void count_limits_the_report_and_returns_how_many(void **state)
{
	struct twin *t = *state;
	struct report r;

	watched(t);
	poke(t, PAGE(1));
	poke(t, PAGE(5));
	poke(t, PAGE(6));
	r = watch(t, 0, BASE, NPAGES * PG, 2);
	assert_hr(S_OK, r.hr);
	assert_int_equal(r.count, 2);
	assert_ptr_equal(r.addr[0], VA(PAGE(1)));
	assert_ptr_equal(r.addr[1], VA(PAGE(5)));
	assert_ptr_equal(r.addr[2], JUNK);
	r = watch(t, 0, BASE, NPAGES * PG, 3);
	assert_int_equal(r.count, 3);
	r = watch(t, 0, BASE, NPAGES * PG, MAXW);
	assert_int_equal(r.count, 3);
}

/* ------------------------------------------------------------ resetting */

static void flag_reset_returns_the_pages_then_clears_them(void **state)
{
	struct twin *t = *state;
	struct report r;

	watched(t);
	poke(t, PAGE(2));
	poke(t, PAGE(7));
	r = watch(t, WRITE_WATCH_FLAG_RESET, BASE, NPAGES * PG, MAXW);
	assert_hr(S_OK, r.hr);
	assert_int_equal(r.count, 2);
	assert_ptr_equal(r.addr[0], VA(PAGE(2)));
	assert_ptr_equal(r.addr[1], VA(PAGE(7)));
	assert_dirty(t, BASE, NPAGES * PG, END);
}

/* Three dirty, room for one: the one returned is cleared, not the others. */
static void flag_reset_clears_only_the_pages_it_returned(void **state)
{
	struct twin *t = *state;
	struct report r;

	watched(t);
	poke(t, PAGE(1));
	poke(t, PAGE(2));
	poke(t, PAGE(3));
	r = watch(t, WRITE_WATCH_FLAG_RESET, BASE, NPAGES * PG, 1);
	assert_int_equal(r.count, 1);
	assert_ptr_equal(r.addr[0], VA(PAGE(1)));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(2), PAGE(3), END);
}

static void reset_write_watch_clears_only_its_range(void **state)
{
	struct twin *t = *state;

	watched(t);
	for (int i = 0; i < 6; i++)
		poke(t, PAGE(i));
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(BASE), 3 * PG));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(3), PAGE(4), PAGE(5), END);
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(PAGE(4) + 8), 1));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(3), PAGE(5), END);
}

/* After a reset the next write is seen again: the reset must also drop the
 * translation the CPU cached with its dirty bit set. */
static void a_write_after_a_reset_is_reported_again(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(1));
	poke(t, PAGE(2));
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(BASE), NPAGES * PG));
	assert_dirty(t, BASE, NPAGES * PG, END);
	poke(t, PAGE(1));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), END);
	watch(t, WRITE_WATCH_FLAG_RESET, BASE, NPAGES * PG, MAXW);
	poke(t, PAGE(1));
	poke(t, PAGE(2));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), PAGE(2), END);
}

/* ------------------------------------------------------------ guard, decommit, protection */

/* The guard fault stops the write; the retried write goes through and
 * marks the page.  A read of a guard page marks nothing. */
static void a_write_to_a_guard_page_marks_it_after_the_guard_fault(void **state)
{
	struct twin *t = *state;
	uint8_t b;

	watched(t);
	protect_ok(t, PAGE(3), 2 * PG, PAGE_READWRITE | PAGE_GUARD);
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_poke(t, PAGE(3), 1));
	assert_dirty(t, BASE, NPAGES * PG, END);
	assert_code(0, twin_poke(t, PAGE(3), 1));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(3), END);
	assert_code(STATUS_GUARD_PAGE_VIOLATION, twin_peek(t, PAGE(4), &b));
	assert_code(0, twin_peek(t, PAGE(4), &b));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(3), END);
}

/* A guard set on a page already written keeps it reported. */
static void guarding_a_written_page_keeps_it_reported(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(6));
	protect_ok(t, PAGE(6), PG, PAGE_READWRITE | PAGE_GUARD);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(6), END);
}

/* K32 test_write_watch: a page written before a MEM_DECOMMIT of its region
 * is still reported, through a recommit too, until a reset. */
static void decommit_keeps_the_record_until_a_reset(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(1));
	poke(t, PAGE(2));
	poke(t, PAGE(8));
	free_ok(t, PAGE(1), PG, MEM_DECOMMIT);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), PAGE(2), PAGE(8), END);
	free_ok(t, BASE, 0, MEM_DECOMMIT);              /* the whole region */
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), PAGE(2), PAGE(8), END);
	assert_int_equal(query_ok(t, BASE).State, MEM_RESERVE);
	commit_ok(t, BASE, NPAGES * PG, PAGE_READWRITE);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(1), PAGE(2), PAGE(8), END);
	assert_bytes(t, PAGE(2), PG, 0);                /* new pages all the same */
	watch(t, WRITE_WATCH_FLAG_RESET, BASE, NPAGES * PG, MAXW);
	assert_dirty(t, BASE, NPAGES * PG, END);
	poke(t, PAGE(2));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(2), END);
}

/* K32 test_write_watch, "initial protect doesn't matter": reserved and
 * committed NOACCESS, made writable, written, NOACCESS again, decommitted:
 * the write is reported at every step. */
static void a_write_survives_noaccess_and_decommit(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, NPAGES * PG, MEM_RESERVE | MEM_WRITE_WATCH, PAGE_NOACCESS);
	commit_ok(t, BASE, NPAGES * PG, PAGE_NOACCESS);
	assert_dirty(t, BASE, NPAGES * PG, END);
	protect_ok(t, BASE, 6 * PG, PAGE_READWRITE);
	poke(t, PAGE(5) + 200);
	protect_ok(t, BASE, 6 * PG, PAGE_NOACCESS);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
	free_ok(t, BASE, NPAGES * PG, MEM_DECOMMIT);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
}

/* ResetWriteWatch forgets a trace, and the release forgets everything: the
 * page tables the traces kept go with them. */
static void reset_and_release_forget_a_decommitted_write(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats before = twin_stats(t);

	watched(t);
	poke(t, PAGE(3));
	poke(t, PAGE(4));
	free_ok(t, BASE, 0, MEM_DECOMMIT);
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(PAGE(3)), PG));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(4), END);
	release_ok(t, BASE);
	assert_int_equal(twin_stats(t).frames_tables, before.frames_tables);
	watched(t);
	assert_dirty(t, BASE, NPAGES * PG, END);
}

/* Only a write-watch reservation keeps traces: elsewhere a decommit leaves
 * no state.  Its page table is left with no entry: kept empty (pagetable.c,
 * theory 9), where a trace would have made it an ordinary one. */
static void a_plain_decommit_leaves_nothing(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats before = twin_stats(t);

	alloc_ok(t, BASE, NPAGES * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	fill_ok(t, BASE, NPAGES * PG, 0x42);
	free_ok(t, BASE, 0, MEM_DECOMMIT);
	assert_int_equal(twin_stats(t).frames_tables_kept, before.frames_tables_kept + 1);
	release_ok(t, BASE);
	assert_int_equal(twin_stats(t).frames_tables, before.frames_tables);
}

/* MEM_RESET drops the data, not the record of the write. */
static void reset_keeps_the_record(void **state)
{
	struct twin *t = *state;
	uint64_t r;

	watched(t);
	poke(t, PAGE(6));
	assert_hr(S_OK, twin_alloc(t, PAGE(6), PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(6), END);
	assert_bytes(t, PAGE(6), PG, 0);                /* the touch keeps it too */
	assert_dirty(t, BASE, NPAGES * PG, PAGE(6), END);
}

/* Write, NOACCESS, read-write again: still reported, at every step. */
static void protection_changes_do_not_clear(void **state)
{
	struct twin *t = *state;

	watched(t);
	poke(t, PAGE(5));
	protect_ok(t, PAGE(5), PG, PAGE_NOACCESS);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
	protect_ok(t, PAGE(5), PG, PAGE_READWRITE);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
	protect_ok(t, PAGE(5), PG, PAGE_READONLY);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
	protect_ok(t, PAGE(5), PG, PAGE_EXECUTE_READWRITE);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
	/* Reset while it is unreachable, then a write through it again. */
	protect_ok(t, PAGE(5), PG, PAGE_NOACCESS);
	assert_hr(S_OK, hostmem_reset_write_watch(t->m, VA(BASE), NPAGES * PG));
	protect_ok(t, PAGE(5), PG, PAGE_READWRITE);
	assert_dirty(t, BASE, NPAGES * PG, END);
	poke(t, PAGE(5));
	assert_dirty(t, BASE, NPAGES * PG, PAGE(5), END);
}

/* Made writable to be written, then NOACCESS again (Wine's test). */
static void a_write_through_a_temporary_protection_is_kept(void **state)
{
	struct twin *t = *state;

	assert_int_equal(alloc_ok(t, BASE, NPAGES * PG, RCW, PAGE_NOACCESS), BASE);
	protect_ok(t, PAGE(2), PG, PAGE_READWRITE);
	poke(t, PAGE(2));
	protect_ok(t, PAGE(2), PG, PAGE_NOACCESS);
	assert_dirty(t, BASE, NPAGES * PG, PAGE(2), END);
}

/* Every other page written, then half the range made read-only: all the
 * written pages stay reported. */
static void every_written_page_survives_a_protection_change_of_half_the_range(void **state)
{
	struct twin *t = *state;
	const uint64_t n = 64;
	struct report r;

	assert_int_equal(alloc_ok(t, BASE, n * PG, RCW, PAGE_READWRITE), BASE);
	for (uint64_t i = 0; i < n; i += 2)
		poke(t, PAGE(i));
	protect_ok(t, BASE, n / 2 * PG, PAGE_READONLY);
	r = watch(t, 0, BASE, n * PG, MAXW);
	assert_hr(S_OK, r.hr);
	assert_int_equal(r.count, n / 2);
	for (uint64_t i = 0; i < n / 2; i++)
		assert_ptr_equal(r.addr[i], VA(PAGE(2 * i)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(get_write_watch_checks_its_parameters),
		T(get_write_watch_range_must_lie_in_the_reservation),
		T(reset_write_watch_range_must_lie_in_the_reservation),
		T(a_reservation_without_write_watch_is_e_invalidarg),
		T(a_fresh_commit_reports_no_page),
		T(a_write_reports_its_page),
		T(pages_are_reported_in_ascending_order),
		T(a_write_across_two_pages_marks_both),
		T(a_read_does_not_mark),
		T(only_pages_inside_the_range_are_reported),
		T(count_limits_the_report_and_returns_how_many),
		T(flag_reset_returns_the_pages_then_clears_them),
		T(flag_reset_clears_only_the_pages_it_returned),
		T(reset_write_watch_clears_only_its_range),
		T(a_write_after_a_reset_is_reported_again),
		T(a_write_to_a_guard_page_marks_it_after_the_guard_fault),
		T(guarding_a_written_page_keeps_it_reported),
		T(decommit_keeps_the_record_until_a_reset),
		T(a_write_survives_noaccess_and_decommit),
		T(reset_and_release_forget_a_decommitted_write),
		T(a_plain_decommit_leaves_nothing),
		T(reset_keeps_the_record),
		T(protection_changes_do_not_clear),
		T(a_write_through_a_temporary_protection_is_kept),
		T(every_written_page_survives_a_protection_change_of_half_the_range),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
