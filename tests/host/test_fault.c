/*
 * test_fault.c - what an access does, through the twin's software MMU and
 * hostmem's fault routine (hm_sim_read / hm_sim_write / hm_sim_exec), one
 * test per rule of CONTRACT.md ("Guard pages", the access rules, commit
 * without overcommit) and of Windows' behaviour (semantics.md, "Guard
 * pages"): a guard page raises STATUS_GUARD_PAGE_VIOLATION once and the
 * retried access goes through; NOACCESS, reserved and free pages raise
 * STATUS_ACCESS_VIOLATION on any access, READONLY pages on writes, pages
 * without execute on instruction fetches; a committed page reads zero at
 * its first touch, which takes the frame its commit promised; a change of
 * protection or state takes effect at once; 2 MiB pages follow the same
 * rules (README).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"
#include "tests/host/lib/corrupt.h"

#define BASE  0x50000000ull
#define RC    (MEM_RESERVE | MEM_COMMIT)
#define AV    STATUS_ACCESS_VIOLATION
#define GUARD STATUS_GUARD_PAGE_VIOLATION

static uint32_t rd(struct twin *t, uint64_t va)
{
	uint8_t v;

	return twin_peek(t, va, &v);
}

static uint32_t wr(struct twin *t, uint64_t va)
{
	return twin_poke(t, va, 0xA7);
}

/* ------------------------------------------------------------ guard pages */

/* K32 test_guard_page: the first access (a read) raises one guard
 * violation; the retried read and the following write raise nothing. */
static void guard_page_raises_once_then_the_access_goes_through(void **state)
{
	struct twin *t = *state;
	uint8_t v = 0xEE;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE | PAGE_GUARD);
	assert_code(GUARD, twin_peek(t, BASE + 8, &v));
	assert_code(0, twin_peek(t, BASE + 8, &v));
	assert_int_equal(v, 0);
	assert_code(0, wr(t, BASE + 8));
	assert_code(0, rd(t, BASE + 0xFFF));
}

/* KM: a copy to an RW|GUARD allocation raises the guard; the second copy
 * succeeds. */
static void guard_page_write_goes_through_when_retried(void **state)
{
	struct twin *t = *state;
	const uint8_t data[4] = { 1, 2, 3, 4 };

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE | PAGE_GUARD);
	assert_code(GUARD, twin_write(t, BASE + 100, data, sizeof data));
	assert_code(0, twin_write(t, BASE + 100, data, sizeof data));
	assert_bytes(t, BASE + 100, 1, 1);
	assert_bytes(t, BASE + 103, 1, 4);
}

/* K32, KM: after the guard fired the query shows the protection without
 * PAGE_GUARD. */
static void guard_is_gone_once_it_fired(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 3 * PG, RC, PAGE_EXECUTE_READ | PAGE_GUARD);
	assert_code(GUARD, rd(t, BASE + PG));
	m = query_ok(t, BASE + PG);
	assert_committed_region(m, BASE + PG, BASE, PAGE_EXECUTE_READ | PAGE_GUARD, PG,
	                        PAGE_EXECUTE_READ);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_EXECUTE_READ | PAGE_GUARD, PG,
	                        PAGE_EXECUTE_READ | PAGE_GUARD);
}

static void each_guard_page_fires_on_its_own(void **state)
{
	struct twin *t = *state;
	uint8_t buf[2 * PG];

	alloc_ok(t, BASE, 2 * PG, RC, PAGE_READWRITE | PAGE_GUARD);
	assert_code(GUARD, rd(t, BASE));
	assert_code(0, rd(t, BASE));
	/* A read across both: the second page fires now, once. */
	assert_code(GUARD, twin_read(t, BASE, buf, sizeof buf));
	assert_code(0, twin_read(t, BASE, buf, sizeof buf));
}

/* The guard is checked before the protection: on a READONLY guard page a
 * write first raises the guard, then the access violation. */
static void guard_fires_before_the_protection_is_checked(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READONLY | PAGE_GUARD);
	assert_code(GUARD, wr(t, BASE));
	assert_code(AV, wr(t, BASE));
	assert_code(0, rd(t, BASE));
}

/* K32 test_guard_page; semantics.md: an instruction fetch trips the guard
 * too. */
static void guard_fires_on_an_instruction_fetch(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_EXECUTE_READ | PAGE_GUARD);
	assert_code(GUARD, twin_exec(t, BASE + 0x10));
	assert_code(0, twin_exec(t, BASE + 0x10));
	alloc_ok(t, BASE + GR, PG, RC, PAGE_READWRITE | PAGE_GUARD);
	assert_code(GUARD, twin_exec(t, BASE + GR));
	assert_code(AV, twin_exec(t, BASE + GR));
}

/* K32: re-guarding a page arms it again, for one exception. */
static void guard_set_again_fires_again_once(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x42);
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE | PAGE_GUARD), PAGE_READWRITE);
	assert_code(GUARD, rd(t, BASE));
	assert_code(0, rd(t, BASE + 4));
	assert_int_equal(protect_ok(t, BASE, PG, PAGE_READWRITE | PAGE_GUARD), PAGE_READWRITE);
	assert_code(GUARD, wr(t, BASE + 4));
	assert_code(0, wr(t, BASE + 4));
	assert_bytes(t, BASE, 4, 0x42);
}

/* ------------------------------------------------------------ access rules */

static void noaccess_pages_fault_on_every_access(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 2 * PG, RC, PAGE_NOACCESS);
	assert_code(AV, rd(t, BASE));
	assert_code(AV, wr(t, BASE + PG));
	assert_code(AV, twin_exec(t, BASE + 5));
	/* And again: a NOACCESS fault resolves nothing. */
	assert_code(AV, rd(t, BASE));
}

static void reserved_pages_fault_on_every_access(void **state)
{
	struct twin *t = *state;

	reserve_ok(t, BASE, GR, PAGE_EXECUTE_READWRITE);
	assert_code(AV, rd(t, BASE));
	assert_code(AV, wr(t, BASE + PG));
	assert_code(AV, twin_exec(t, BASE + 2 * PG));
}

static void free_memory_faults_on_every_access(void **state)
{
	struct twin *t = *state;
	const uint64_t va[] = { 0, 0x1000, VA_FIRST, BASE + 0x3000, BASE + GR, VA_END - 1,
	                        VA_END, 0xFFFF800000001000ull };

	alloc_ok(t, BASE, 0x3000, RC, PAGE_EXECUTE_READWRITE);
	for (size_t i = 0; i < sizeof va / sizeof va[0]; i++) {
		assert_code(AV, rd(t, va[i]));
		assert_code(AV, wr(t, va[i]));
		assert_code(AV, twin_exec(t, va[i]));
	}
}

static void readonly_pages_fault_on_writes_only(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_READONLY);
	assert_code(AV, wr(t, BASE));        /* also before the first read */
	assert_code(0, rd(t, BASE));
	assert_code(AV, wr(t, BASE));
	alloc_ok(t, BASE + GR, PG, RC, PAGE_READONLY | PAGE_NOCACHE);
	assert_code(0, rd(t, BASE + GR));
	assert_code(AV, wr(t, BASE + GR));
}

static void pages_without_execute_fault_on_instruction_fetch(void **state)
{
	struct twin *t = *state;
	const DWORD prots[] = { PAGE_READONLY, PAGE_READWRITE, PAGE_READWRITE | PAGE_NOCACHE,
	                        PAGE_READONLY | PAGE_WRITECOMBINE };

	for (size_t i = 0; i < sizeof prots / sizeof prots[0]; i++) {
		uint64_t p = alloc_ok(t, 0, PG, RC, prots[i]);

		assert_code(0, rd(t, p));
		assert_code(AV, twin_exec(t, p));
	}
}

static void execute_pages_allow_instruction_fetch(void **state)
{
	struct twin *t = *state;
	const DWORD prots[] = { PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
	                        PAGE_EXECUTE_READ | PAGE_NOCACHE };

	for (size_t i = 0; i < sizeof prots / sizeof prots[0]; i++) {
		uint64_t p = alloc_ok(t, 0, PG, RC, prots[i]);

		assert_code(0, twin_exec(t, p + 0x800));
	}
}

/* x86 cannot fetch without reading: PAGE_EXECUTE reads (as on Windows x64);
 * it does not write. */
static void execute_only_pages_read_but_do_not_write(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_EXECUTE);
	assert_code(0, rd(t, BASE));
	assert_code(AV, wr(t, BASE));
	alloc_ok(t, BASE + GR, PG, RC, PAGE_EXECUTE_READ);
	assert_code(AV, wr(t, BASE + GR));
}

static void execute_readwrite_pages_allow_every_access(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, PAGE_EXECUTE_READWRITE);
	assert_code(0, wr(t, BASE));
	assert_code(0, rd(t, BASE));
	assert_code(0, twin_exec(t, BASE));
}

/* The access stops at the first page that faults; the bytes before it are
 * written. */
static void an_access_faults_at_the_first_page_it_may_not_touch(void **state)
{
	struct twin *t = *state;
	const uint8_t two[2] = { 0x61, 0x62 };

	alloc_ok(t, BASE, 2 * PG, RC, PAGE_READWRITE);
	protect_ok(t, BASE + PG, PG, PAGE_READONLY);
	assert_code(AV, twin_write(t, BASE + PG - 1, two, 2));
	assert_bytes(t, BASE + PG - 1, 1, 0x61);
	assert_bytes(t, BASE + PG, 1, 0);
}

/* ------------------------------------------------------------ demand zero */

/* A new page has no frame until it is touched; the first touch takes the
 * frames the commit promised to its like neighbours in the aligned 64 KiB
 * cluster (fault-around) and reads zero, even where RAM held junk.  A page
 * of another protection in the cluster is left alone. */
static void first_touch_takes_the_promised_frames_of_its_cluster(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a, b;

	alloc_ok(t, BASE, 20 * PG, RC, PAGE_READWRITE);
	protect_ok(t, BASE + 3 * PG, PG, PAGE_READONLY);
	a = twin_stats(t);
	assert_int_equal(a.commit_promised, 20);
	assert_bytes(t, BASE + PG, PG, 0);
	b = twin_stats(t);
	/* pages 0..2 and 4..15 are alike; 3 differs; 16..19 are the next cluster */
	assert_int_equal(b.commit_promised, a.commit_promised - 3);
	assert_int_equal(b.frames_data, a.frames_data + 3);
	assert_bytes(t, BASE + 8 * PG, PG, 0);
	b = twin_stats(t);
	assert_int_equal(b.commit_promised, a.commit_promised - 15);
	assert_int_equal(b.frames_data, a.frames_data + 15);
	assert_int_equal(b.commit_available, a.commit_available);
	assert_int_equal(b.commit_charge, a.commit_charge);
}

/* With the debug fill, every freed frame holds a pattern: a page committed
 * after others were freed still reads zero. */
static void recycled_frames_read_zero(void **state)
{
	struct twin *t = *state;

	for (int round = 0; round < 3; round++) {
		uint64_t p = alloc_ok(t, 0, 64 * PG, RC, PAGE_READWRITE);

		assert_bytes(t, p, 64 * PG, 0);
		fill_ok(t, p, 64 * PG, 0xF4);
		release_ok(t, p);
	}
}

/* Decommit and release take effect at once: no stale translation. */
static void decommit_and_release_take_effect_at_once(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, 2 * PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, 2 * PG, 0x3E);                 /* both in the TLB */
	free_ok(t, BASE, PG, MEM_DECOMMIT);
	assert_code(AV, rd(t, BASE));
	commit_ok(t, BASE, PG, PAGE_READWRITE);
	assert_bytes(t, BASE, PG, 0);
	release_ok(t, BASE);
	assert_code(AV, rd(t, BASE + PG));
	alloc_ok(t, BASE, 2 * PG, RC, PAGE_READWRITE);
	assert_bytes(t, BASE, 2 * PG, 0);
}

/* Clearing a guard must not clear what MEM_RESET recorded: the reset page
 * lost its data, and MEM_RESET_UNDO must still say so after the guard fired
 * (README, MEM_RESET_UNDO). */
static void a_fired_guard_keeps_the_reset_discard(void **state)
{
	struct twin *t = *state;
	uint64_t p;

	alloc_ok(t, BASE, PG, RC, PAGE_READWRITE);
	fill_ok(t, BASE, PG, 0x5E);
	protect_ok(t, BASE, PG, PAGE_READWRITE | PAGE_GUARD);
	alloc_ok(t, BASE, PG, MEM_RESET, PAGE_READWRITE);
	assert_code(GUARD, twin_exec(t, BASE));
	assert_hr(HRESULT_FROM_WIN32(ERROR_DISCARDED),
	          twin_alloc(t, BASE, PG, MEM_RESET_UNDO, PAGE_READWRITE, &p));
	assert_bytes(t, BASE, PG, 0);
}

/* 2 MiB pages (README): present from the start, same access rules. */
static void large_pages_follow_the_same_access_rules(void **state)
{
	struct twin *t = *state;
	const uint64_t lp = 2 * MiB, rcl = MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES;
	uint64_t ro = alloc_ok(t, 0, lp, rcl, PAGE_READONLY);
	uint64_t rw = alloc_ok(t, 0, lp, rcl, PAGE_READWRITE);
	struct hostmem_stats a = twin_stats(t);

	assert_code(0, rd(t, ro + lp - 1));
	assert_code(AV, wr(t, ro));
	assert_code(AV, twin_exec(t, ro));
	assert_code(0, wr(t, rw + 0x123456));
	assert_code(AV, twin_exec(t, rw));
	protect_ok(t, rw, lp, PAGE_EXECUTE_READ);
	assert_code(0, twin_exec(t, rw));
	assert_code(AV, wr(t, rw));
	assert_bytes(t, rw + 0x123456, 1, 0xA7);
	/* Nothing was faulted in: the frames were there from the start. */
	assert_int_equal(twin_stats(t).frames_data, a.frames_data);
}

/* ------------------------------------------------------------ a manager that cannot trust itself */

/* After verify found a broken invariant (E_FAIL), hostmem resolves no fault:
 * a demand-zero page or a guard page of the corrupted manager raises an
 * access violation, while a page already mapped keeps working, since the
 * MMU needs nothing from hostmem for it (README, "The dead state"). */
static void after_corruption_faults_are_refused_and_mapped_pages_work(void **state)
{
	struct twin *t = *state;
	char why[192];

	alloc_ok(t, BASE, 3 * PG, RC, PAGE_READWRITE);
	protect_ok(t, BASE + PG, PG, PAGE_READONLY);   /* unlike BASE: no fault-around */
	protect_ok(t, BASE + 2 * PG, PG, PAGE_READWRITE | PAGE_GUARD);
	assert_code(0, wr(t, BASE));
	corrupt_commit_charge(t->m);
	assert_hr(E_FAIL, hostmem_verify(t->m, why, sizeof why));
	t->dead_ok = true;
	assert_code(0, rd(t, BASE));
	assert_code(0, wr(t, BASE + 1));
	assert_code(AV, rd(t, BASE + PG));
	assert_code(AV, rd(t, BASE + 2 * PG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
#define D(f) cmocka_unit_test_setup_teardown(f, twin_debug_setup, twin_teardown)
		T(after_corruption_faults_are_refused_and_mapped_pages_work),
		T(guard_page_raises_once_then_the_access_goes_through),
		T(guard_page_write_goes_through_when_retried),
		T(guard_is_gone_once_it_fired),
		T(each_guard_page_fires_on_its_own),
		T(guard_fires_before_the_protection_is_checked),
		T(guard_fires_on_an_instruction_fetch),
		T(guard_set_again_fires_again_once),
		T(noaccess_pages_fault_on_every_access),
		T(reserved_pages_fault_on_every_access),
		T(free_memory_faults_on_every_access),
		T(readonly_pages_fault_on_writes_only),
		T(pages_without_execute_fault_on_instruction_fetch),
		T(execute_pages_allow_instruction_fetch),
		T(execute_only_pages_read_but_do_not_write),
		T(execute_readwrite_pages_allow_every_access),
		T(an_access_faults_at_the_first_page_it_may_not_touch),
		D(first_touch_takes_the_promised_frames_of_its_cluster),
		D(recycled_frames_read_zero),
		D(decommit_and_release_take_effect_at_once),
		T(a_fired_guard_keeps_the_reset_discard),
		T(large_pages_follow_the_same_access_rules),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
