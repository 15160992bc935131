/*
 * test_large.c - MEM_LARGE_PAGES through the hosted twin (alloc.c,
 * reserve.c, commit.c, protect.c, free.c), one test per rule.
 *
 * The rules: hostmem_large_page_minimum() is 2 MiB; a large-page request is
 * MEM_RESERVE | MEM_COMMIT (optionally MEM_TOP_DOWN) with size and address
 * in 2 MiB multiples and a protection the CPU can map (no NOACCESS, no
 * GUARD), else E_INVALIDARG; its base is 2 MiB-aligned; each 2 MiB is one
 * physically contiguous, 2 MiB-aligned frame mapped by a PS entry in the
 * page directory, committed and charged at once; VirtualQuery shows one
 * committed region; VirtualProtect works on whole 2 MiB pages only; MEM_COMMIT
 * and MEM_DECOMMIT inside it are refused, MEM_RESET and MEM_RESET_UNDO leave
 * it alone; MEM_RELEASE gives every frame back; E_OUTOFMEMORY when no
 * contiguous 2 MiB run is free, with nothing changed.
 *
 * The mapping is checked from the inside: the test reads the manager's page
 * tables (hm.h, pagetable.h) and the twin's simulated RAM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/host/lib/twin.h"
#include "hostmem/hm.h"
#include "hostmem/pte.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

#define LP      (2 * MiB)
#define BASE    0x40000000ull             /* 2 MiB-aligned */
#define RC      (MEM_RESERVE | MEM_COMMIT)
#define RCL     (RC | MEM_LARGE_PAGES)
#define E_ADDR  HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)

/* The leaf entry mapping va, which must be a 2 MiB PS entry. */
static uint64_t large_entry(struct twin *t, uint64_t va)
{
	int level = 0;
	uint64_t e = pt_lookup(&hm_of(t->m)->pt, va, &level);

	assert_int_equal(level, 2);
	assert_true(pte_is_large(e));
	assert_int_equal(pte_frame(e) % LP, 0);
	return e;
}

/* ------------------------------------------------------------ what a request must be */

static void large_page_minimum_is_2_mib(void **state)
{
	(void)state;
	assert_int_equal(hostmem_large_page_minimum(), 2 * MiB);
}

static void large_pages_need_reserve_and_commit_together(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = {
		MEM_LARGE_PAGES, MEM_LARGE_PAGES | MEM_RESERVE, MEM_LARGE_PAGES | MEM_COMMIT,
		MEM_LARGE_PAGES | MEM_RESERVE | MEM_TOP_DOWN, RCL | MEM_WRITE_WATCH,
		RCL | MEM_PHYSICAL, MEM_LARGE_PAGES | MEM_RESET, RCL | MEM_RESET,
	};

	reserve_ok(t, BASE + 8 * LP, LP, PAGE_READWRITE);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		alloc_fails(t, E_INVALIDARG, 0, LP, bad[i], PAGE_READWRITE);
		alloc_fails(t, E_INVALIDARG, BASE, LP, bad[i], PAGE_READWRITE);
		alloc_fails(t, E_INVALIDARG, BASE + 8 * LP, LP, bad[i], PAGE_READWRITE);
	}
}

static void large_page_size_and_address_must_be_2_mib_multiples(void **state)
{
	struct twin *t = *state;
	const uint64_t sizes[] = { PG, GR, MiB, LP - PG, LP + PG, 3 * MiB };
	const uint64_t addrs[] = { BASE + GR, BASE + MiB, BASE + PG, BASE + 1 };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		alloc_fails(t, E_INVALIDARG, 0, sizes[i], RCL, PAGE_READWRITE);
		alloc_fails(t, E_INVALIDARG, BASE, sizes[i], RCL, PAGE_READWRITE);
	}
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++)
		alloc_fails(t, E_INVALIDARG, addrs[i], LP, RCL, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, BASE, 0, RCL, PAGE_READWRITE);
}

/* A 2 MiB page is always present: nothing that keeps it out of the TLB. */
static void large_pages_refuse_noaccess_guard_and_invalid_protections(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = { PAGE_NOACCESS, PAGE_READWRITE | PAGE_GUARD, PAGE_READONLY | PAGE_GUARD,
	                      PAGE_EXECUTE_READ | PAGE_GUARD, PAGE_WRITECOPY, 0 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		alloc_fails(t, E_INVALIDARG, 0, LP, RCL, bad[i]);
		alloc_fails(t, E_INVALIDARG, BASE, LP, RCL, bad[i]);
	}
}

/* ------------------------------------------------------------ placement, mapping */

static void the_base_is_2_mib_aligned_placed_or_fixed(void **state)
{
	struct twin *t = *state;
	uint64_t p;

	/* The lowest free 64 KiB block is not 2 MiB-aligned any more. */
	assert_int_equal(reserve_ok(t, 0, GR, PAGE_READWRITE), VA_FIRST);
	p = alloc_ok(t, 0, LP, RCL, PAGE_READWRITE);
	assert_int_equal(p % LP, 0);
	p = alloc_ok(t, 0, LP, RCL | MEM_TOP_DOWN, PAGE_READWRITE);
	assert_int_equal(p, (VA_END & ~(LP - 1)) - LP);          /* as high as it can go */
	assert_int_equal(alloc_ok(t, BASE, LP, RCL, PAGE_READONLY), BASE);
}

/* Every 2 MiB its own 2 MiB-aligned frame, mapped by a PS entry with the
 * protection's bits: what is written through the MMU lands in that frame. */
static void each_2_mib_is_one_contiguous_frame_mapped_by_a_ps_entry(void **state)
{
	struct twin *t = *state;
	uint8_t *ram = hm_sim_ram(t->sim);
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);
	uint64_t e0 = large_entry(t, p), e1 = large_entry(t, p + LP);
	const uint64_t offs[] = { 0, PG, LP / 2 + 5, LP - 1 };

	assert_int_not_equal(pte_frame(e0), pte_frame(e1));
	assert_true(pte_is_large(e0) && pte_is_large(e1));
	assert_int_equal(pte_hw_clean(e0) & PTE_HW_MASK,
	                 pte_leaf_to_large(pte_hw_bits(PAGE_READWRITE)) & PTE_HW_MASK);
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		assert_code(0, twin_poke(t, p + offs[i], (uint8_t)(0x10 + i)));
		assert_code(0, twin_poke(t, p + LP + offs[i], (uint8_t)(0x20 + i)));
		assert_int_equal(ram[pte_frame(e0) + offs[i]], 0x10 + i);
		assert_int_equal(ram[pte_frame(e1) + offs[i]], 0x20 + i);
	}
	/* The same pages every time: the entries do not move. */
	assert_int_equal(pte_frame(large_entry(t, p + LP - 1)), pte_frame(e0));
}

static void large_pages_read_zero_and_keep_what_is_written(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, 2 * LP, RCL, PAGE_READWRITE);

	assert_bytes(t, p, 2 * LP, 0);
	fill_ok(t, p + 3 * PG, 5 * PG, 0x6B);
	fill_ok(t, p + LP - 8, 16, 0x7C);          /* across the two 2 MiB pages */
	assert_bytes(t, p, 3 * PG, 0);
	assert_bytes(t, p + 3 * PG, 5 * PG, 0x6B);
	assert_bytes(t, p + LP - 8, 16, 0x7C);
	assert_bytes(t, p + LP + 8, LP - 8, 0);
}

/* Committed and charged at once: data frames, no promise. */
static void large_pages_are_charged_and_backed_at_once(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats a = twin_stats(t), b;

	alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);
	b = twin_stats(t);
	assert_int_equal(b.commit_charge - a.commit_charge, 2 * LP / PG);
	assert_int_equal(b.frames_data - a.frames_data, 2 * LP / PG);
	assert_int_equal(b.commit_promised, a.commit_promised);
	assert_true(a.commit_available - b.commit_available >= 2 * LP / PG);
}

static void query_shows_one_committed_region(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION m;

	alloc_ok(t, BASE, 2 * LP, RCL, PAGE_EXECUTE_READ);
	m = query_ok(t, BASE);
	assert_committed_region(m, BASE, BASE, PAGE_EXECUTE_READ, 2 * LP, PAGE_EXECUTE_READ);
	m = query_ok(t, BASE + 3 * MiB + 5);
	assert_committed_region(m, BASE + 3 * MiB, BASE, PAGE_EXECUTE_READ, MiB, PAGE_EXECUTE_READ);
	m = query_ok(t, BASE + 2 * LP);
	assert_int_equal(m.State, MEM_FREE);
}

/* ------------------------------------------------------------ protection */

static void protect_changes_whole_2_mib_pages(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);
	MEMORY_BASIC_INFORMATION m;
	uint8_t b;

	fill_ok(t, p + LP, PG, 0x3E);
	assert_int_equal(protect_ok(t, p + LP, LP, PAGE_READONLY), PAGE_READWRITE);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, p + LP + 7, 1));
	assert_code(0, twin_peek(t, p + LP + 7, &b));
	assert_bytes(t, p + LP, PG, 0x3E);                 /* contents kept */
	assert_code(0, twin_poke(t, p + 7, 1));            /* the other page is untouched */
	assert_int_equal(pte_hw_clean(large_entry(t, p + LP)) & PTE_HW_MASK,
	                 pte_leaf_to_large(pte_hw_bits(PAGE_READONLY)) & PTE_HW_MASK);
	m = query_ok(t, p);
	assert_committed_region(m, p, p, PAGE_READWRITE, LP, PAGE_READWRITE);
	m = query_ok(t, p + LP);
	assert_committed_region(m, p + LP, p, PAGE_READWRITE, LP, PAGE_READONLY);
	assert_code(STATUS_ACCESS_VIOLATION, twin_exec(t, p));
	assert_int_equal(protect_ok(t, p, 2 * LP, PAGE_EXECUTE_READWRITE), PAGE_READWRITE);
	assert_code(0, twin_exec(t, p + LP));
	assert_code(0, twin_poke(t, p + LP, 2));
	assert_int_equal(protect_ok(t, p, LP, PAGE_EXECUTE_READ), PAGE_EXECUTE_READWRITE);
	assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, p, 3));
	assert_code(0, twin_exec(t, p));
}

static void protect_of_part_of_a_2_mib_page_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);
	const struct { uint64_t va, size; } part[] = {
		{ p, PG }, { p + PG, LP }, { p, LP + PG }, { p + MiB, LP }, { p + LP - PG, 2 * PG },
	};
	DWORD old = 0;

	fill_ok(t, p, 2 * LP, 0x55);
	for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
		assert_unchanged(t, E_INVALIDARG, twin_protect(t, part[i].va, part[i].size,
		                 PAGE_READONLY, &old));
}

static void protect_to_noaccess_or_guard_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, LP, RCL, PAGE_READWRITE);
	DWORD old = 0;

	fill_ok(t, p, PG, 0x44);
	assert_unchanged(t, E_INVALIDARG, twin_protect(t, p, LP, PAGE_NOACCESS, &old));
	assert_unchanged(t, E_INVALIDARG, twin_protect(t, p, LP, PAGE_READWRITE | PAGE_GUARD, &old));
}

/* ------------------------------------------------------------ commit, decommit, reset, release */

static void commit_and_decommit_inside_large_pages_are_refused(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);

	fill_ok(t, p, PG, 0x21);
	alloc_fails(t, E_INVALIDARG, p, PG, MEM_COMMIT, PAGE_READWRITE);
	alloc_fails(t, E_INVALIDARG, p, 2 * LP, MEM_COMMIT, PAGE_READONLY);
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, p, LP, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, p, 0, MEM_DECOMMIT));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, p + LP, PG, MEM_DECOMMIT));
}

/* Nothing to discard: a 2 MiB page is never taken apart. */
static void reset_and_reset_undo_leave_large_pages_alone(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE), r;

	fill_ok(t, p, 2 * LP, 0x99);
	twin_unchanged_begin(t);
	assert_hr(S_OK, twin_alloc(t, p + PG, LP, MEM_RESET, PAGE_READWRITE, &r));
	assert_int_equal(r, p + PG);
	assert_hr(S_OK, twin_alloc(t, p, 2 * LP, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	/* From the last 4 KiB of a 2 MiB page, where one step reaches its end. */
	assert_hr(S_OK, twin_alloc(t, p + LP - PG, PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_hr(S_OK, twin_alloc(t, p + LP - PG, 2 * PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_hr(S_OK, twin_alloc(t, p + 2 * LP - PG, PG, MEM_RESET, PAGE_READWRITE, &r));
	assert_hr(S_OK, twin_alloc(t, p + LP - PG, 2 * PG, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	twin_unchanged_end(t, __FILE__, __LINE__);
	assert_bytes(t, p, 2 * LP, 0x99);
}

static void release_returns_every_frame(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, BASE, 2 * LP, RCL, PAGE_READWRITE);
	uint64_t q = alloc_ok(t, 0, LP, RCL | MEM_TOP_DOWN, PAGE_EXECUTE_READWRITE);

	fill_ok(t, p, 2 * LP, 0x12);
	assert_unchanged(t, E_ADDR, twin_vfree(t, p + LP, 0, MEM_RELEASE));
	assert_unchanged(t, E_INVALIDARG, twin_vfree(t, p, LP, MEM_RELEASE));
	release_ok(t, p);
	release_ok(t, q);
	assert_stats_at_start(t);
	/* And they can be had again. */
	release_ok(t, alloc_ok(t, 0, 3 * LP, RCL, PAGE_READWRITE));
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ out of memory */

static void more_large_pages_than_memory_is_e_outofmemory(void **state)
{
	struct twin *t = *state;

	alloc_fails(t, E_OUTOFMEMORY, 0, TWIN_RAM, RCL, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, BASE, 2 * TWIN_RAM, RCL, PAGE_READWRITE);
}

/* Fills memory with touched 4 KiB pages, then decommits all of them but
 * one in each physical 2 MiB block: plenty of free frames, no free 2 MiB
 * run.  Returns the region; kept[b] is the page kept in block b (or 0). */
#define FRAG_BLOCKS (TWIN_RAM / LP)
static uint64_t fragment(struct twin *t, uint64_t kept[FRAG_BLOCKS])
{
	struct hostmem_stats st = twin_stats(t);
	uint64_t n = st.commit_available - st.frames_usable / 8 - 16;
	uint64_t p = alloc_ok(t, 0, n * PG, RC, PAGE_READWRITE), end = p + n * PG, from = p;
	struct hm *hm = hm_of(t->m);
	int level;

	fill_ok(t, p, n * PG, 0xF0);
	memset(kept, 0, FRAG_BLOCKS * sizeof kept[0]);
	for (uint64_t va = p; va < end; va += PG) {
		uint64_t b = pte_frame(pt_lookup(&hm->pt, va, &level)) / LP;

		assert_true(b < FRAG_BLOCKS);
		if (kept[b])
			continue;
		kept[b] = va;               /* the first page seen in block b stays */
		if (from < va)
			free_ok(t, from, va - from, MEM_DECOMMIT);
		from = va + PG;
	}
	if (from < end)
		free_ok(t, from, end - from, MEM_DECOMMIT);
	/* The page tables those decommits kept go now, or a commit refused for
	 * want of frames would free them and undo the fragmentation. */
	reclaim_tables(hm);
	return p;
}

/* Frames of physical 2 MiB block b in use for anything. */
static size_t block_used(struct twin *t, uint64_t b)
{
	const struct frames *fr = &hm_of(t->m)->frames;
	size_t used = 0;

	for (uint64_t f = b * (LP / PG); f < (b + 1) * (LP / PG) && f < fr->nframes; f++)
		used += fr->rec[f].kind != FRAME_FREE;
	return used;
}

static void no_contiguous_2_mib_run_is_e_outofmemory_and_changes_nothing(void **state)
{
	struct twin *t = *state;
	uint64_t kept[FRAG_BLOCKS];

	fragment(t, kept);
	/* Memory enough even at task level: only contiguity is missing. */
	assert_true(twin_stats(t).commit_available >= 2 * LP / PG + TWIN_RAM / PG / 8);
	alloc_fails(t, E_OUTOFMEMORY, 0, LP, RCL, PAGE_READWRITE);
	alloc_fails(t, E_OUTOFMEMORY, BASE, LP, RCL, PAGE_READWRITE);
	/* Small pages still come. */
	fill_ok(t, alloc_ok(t, 0, 64 * PG, RC, PAGE_READWRITE), 64 * PG, 1);
}

/* One free run, two wanted: the first 2 MiB page is mapped, the second
 * fails, and the first is taken back; one alone then succeeds there. */
static void a_partly_mapped_request_is_rolled_back(void **state)
{
	struct twin *t = *state;
	uint64_t kept[FRAG_BLOCKS], b, p;

	fragment(t, kept);
	for (b = 0; b < FRAG_BLOCKS; b++)
		if (kept[b] && block_used(t, b) == 1)
			break;
	assert_true(b < FRAG_BLOCKS);
	free_ok(t, kept[b], PG, MEM_DECOMMIT);
	alloc_fails(t, E_OUTOFMEMORY, 0, 2 * LP, RCL, PAGE_READWRITE);
	p = alloc_ok(t, 0, LP, RCL, PAGE_READWRITE);
	assert_int_equal(pte_frame(large_entry(t, p)), b * LP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(large_page_minimum_is_2_mib),
		T(large_pages_need_reserve_and_commit_together),
		T(large_page_size_and_address_must_be_2_mib_multiples),
		T(large_pages_refuse_noaccess_guard_and_invalid_protections),
		T(the_base_is_2_mib_aligned_placed_or_fixed),
		T(each_2_mib_is_one_contiguous_frame_mapped_by_a_ps_entry),
		T(large_pages_read_zero_and_keep_what_is_written),
		T(large_pages_are_charged_and_backed_at_once),
		T(query_shows_one_committed_region),
		T(protect_changes_whole_2_mib_pages),
		T(protect_of_part_of_a_2_mib_page_is_e_invalidarg),
		T(protect_to_noaccess_or_guard_is_e_invalidarg),
		T(commit_and_decommit_inside_large_pages_are_refused),
		T(reset_and_reset_undo_leave_large_pages_alone),
		T(release_returns_every_frame),
		T(more_large_pages_than_memory_is_e_outofmemory),
		T(no_contiguous_2_mib_run_is_e_outofmemory_and_changes_nothing),
		T(a_partly_mapped_request_is_rolled_back),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
