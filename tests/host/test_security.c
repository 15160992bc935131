/*
 * test_security.c - data never leaks, and the manager never reaches outside
 * what it manages.
 *
 *   - A frame given back (decommit, release, MEM_RESET) and handed out again
 *     reads zero: one page whose frame is seen to be reused, then every
 *     frame of the machine cycled through a written pattern.
 *   - Every call refuses addresses outside [0x10000, 0x7FFFFFFF0000): the
 *     kernel half, the first 64 KiB, the limit and beyond, and ranges that
 *     start inside and run out.
 *   - After thousands of differential operations (tests/model), every page
 *     the manager maps is backed by a data frame of its own: never a page
 *     table, the frame records, hostmem's metadata or a frame it was not
 *     given; and nothing is mapped in the upper half of its PML4.
 * Internals (hm.h, pte.h) are read only to find frames and their kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hostmem/embed.h"
#include "hostmem/hm.h"
#include "hostmem/pte.h"
#include "tests/host/lib/twin.h"
#include "tests/model/model.c"
#include "tests/model/drive.c"
#include "tests/model/twin_env.h"

#define T(f)    cmocka_unit_test_setup_teardown(f, setup, twin_teardown)
#define RC      (MEM_RESERVE | MEM_COMMIT)
#define RW      PAGE_READWRITE
#define KHALF   0xFFFF800000000000ull

static int setup(void **state)
{
	*state = twin_new(TWIN_RAM, HM_SIM_DEBUG_FRAMES);
	return 0;
}

/* A twin with fewer spare frames than zeroing ahead needs (frame.c, theory
 * 8): a fault then takes the frame a free just gave back, dirty, and must
 * clear it itself.  In a larger twin it would take one cleared ahead and
 * the reused frame would never be seen. */
static int setup_small(void **state)
{
	*state = twin_new(2 * MiB, HM_SIM_DEBUG_FRAMES);
	return 0;
}
#define T_SMALL(f)  cmocka_unit_test_setup_teardown(f, setup_small, twin_teardown)

/* The frame behind a committed, touched page. */
static uint64_t frame_at(struct twin *t, uint64_t va)
{
	uint64_t span, e = pte_at(hm_of(t->m), va, &span);

	assert_true(pte_is_present(e) || pte_is_parked(e));
	return pte_frame(e);
}

/* ------------------------------------------------------------ old data never shows */

static void a_decommitted_page_committed_again_reads_zero_on_the_same_frame(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, RW), frame;

	fill_ok(t, p, PG, 0x5E);
	frame = frame_at(t, p);
	free_ok(t, p, PG, MEM_DECOMMIT);
	commit_ok(t, p, PG, RW);
	assert_bytes(t, p, PG, 0);
	assert_int_equal(frame_at(t, p), frame);   /* the allocator gave it back */
	release_ok(t, p);
	assert_stats_at_start(t);
}

static void a_released_page_reserved_again_reads_zero_on_the_same_frame(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, RW), q, frame;

	fill_ok(t, p, PG, 0x6F);
	frame = frame_at(t, p);
	release_ok(t, p);
	q = alloc_ok(t, 0, PG, RC, PAGE_EXECUTE_READWRITE);
	assert_bytes(t, q, PG, 0);
	assert_int_equal(frame_at(t, q), frame);
	release_ok(t, q);
}

/* A parked page (NOACCESS keeps its frame and contents) gives both back
 * on decommit; its data must not come back either. */
static void a_parked_page_decommitted_reads_zero_again(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, RW);

	fill_ok(t, p, PG, 0x7A);
	assert_int_equal(protect_ok(t, p, PG, PAGE_NOACCESS), RW);
	free_ok(t, p, PG, MEM_DECOMMIT);
	commit_ok(t, p, PG, RW);
	assert_bytes(t, p, PG, 0);
	release_ok(t, p);
}

/* MEM_RESET gives the frame away: what the page reads next is zero, never
 * what another allocation wrote into that frame meanwhile. */
static void a_reset_page_never_shows_another_allocations_data(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, PG, RC, RW), q, r;

	fill_ok(t, p, PG, 0x11);
	assert_hr(S_OK, twin_alloc(t, p, PG, MEM_RESET, RW, &r));
	q = alloc_ok(t, 0, 16 * PG, RC, RW);
	fill_ok(t, q, 16 * PG, 0x22);   /* takes the freed frame */
	assert_bytes(t, p, PG, 0);
	release_ok(t, q);
	release_ok(t, p);
}

/* Every frame of the machine written with a pattern, given back, taken
 * again: not one byte of the pattern is seen. */
static void every_frame_cycled_through_a_pattern_reads_zero(void **state)
{
	struct twin *t = *state;
	uint64_t size, p;

	size = (twin_stats(t).commit_available * 7 / 8 - 64) * PG;   /* the task floor */
	p = alloc_ok(t, 0, size, RC, RW);
	fill_ok(t, p, size, 0xEE);
	free_ok(t, p, 0, MEM_DECOMMIT);
	commit_ok(t, p, size, RW);
	assert_bytes(t, p, size, 0);
	release_ok(t, p);
	p = alloc_ok(t, 0, 2 * MiB, RC | MEM_LARGE_PAGES, RW);
	assert_bytes(t, p, 2 * MiB, 0);
	release_ok(t, p);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ nothing outside the range */

static const uint64_t outside[] = {
	0x1000, 0xFFFF, 0x7FFFFFFF0000ull, 0x7FFFFFFF1000ull, 0x7FFFFFFFF000ull,
	0x800000000000ull, KHALF, 0xFFFFFFFF80000000ull, 0xFFFFFFFFFFFFF000ull,
};

static void every_call_refuses_addresses_outside_the_range(void **state)
{
	struct twin *t = *state;
	static const DWORD types[] = { MEM_RESERVE, MEM_COMMIT, RC, MEM_RESET, MEM_RESET_UNDO };
	MEMORY_BASIC_INFORMATION mbi;
	uint64_t va, p;
	DWORD old;

	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		va = outside[i];
		twin_unchanged_begin(t);
		for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
			assert_hr(E_INVALIDARG, twin_alloc(t, va, PG, types[k], RW, &p));
		assert_hr(HOST_E_INVALIDOPERATION, twin_vfree(t, va, 0, MEM_RELEASE));
		assert_hr(HOST_E_INVALIDOPERATION, twin_vfree(t, va, PG, MEM_DECOMMIT));
		assert_hr(va < VA_FIRST ? E_ADDR : E_INVALIDARG, twin_protect(t, va, PG, RW, &old));
		if (va >= VA_END)
			assert_hr(E_INVALIDARG, twin_query(t, va, &mbi));
		assert_code(STATUS_ACCESS_VIOLATION, twin_poke(t, va, 1));
		assert_hr(E_INVALIDARG, IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(va), PG));
		twin_unchanged_end(t, __FILE__, __LINE__);
	}
}

/* Ranges that start inside and end outside are refused whole. */
static void ranges_that_run_out_of_the_range_are_refused(void **state)
{
	struct twin *t = *state;
	uint64_t top = VA_END - GR, p;
	DWORD old;

	reserve_ok(t, top, GR, RW);
	commit_ok(t, top, GR, RW);
	twin_unchanged_begin(t);
	assert_hr(E_INVALIDARG, twin_alloc(t, top, 2 * GR, RC, RW, &p));
	assert_hr(E_INVALIDARG, twin_alloc(t, top, 2 * GR, MEM_COMMIT, RW, &p));
	assert_hr(E_INVALIDARG, twin_vfree(t, top, 2 * GR, MEM_DECOMMIT));
	assert_hr(E_INVALIDARG, twin_protect(t, top, 2 * GR, PAGE_READONLY, &old));
	assert_hr(E_INVALIDARG, twin_alloc(t, VA_FIRST - PG, 2 * PG, MEM_RESERVE, RW, &p));
	twin_unchanged_end(t, __FILE__, __LINE__);
	release_ok(t, top);
}

/* ------------------------------------------------------------ what is mapped */

/* Every committed page with a frame: a data frame, in range, not the record
 * array, and no frame twice.  Returns the pages seen. */
static size_t check_mapped_frames(struct twin *t, uint8_t *seen)
{
	struct hm *hm = hm_of(t->m);
	struct frames *fr = &hm->frames;
	uint64_t va, span, e, pa, idx;
	size_t pages = 0;

	for (struct resv *r = resv_first(&hm->resv); r; r = resv_next(r)) {
		for (va = r->base; va < r->end; va += span) {
			e = pte_at(hm, va, &span);
			if (!pte_is_present(e) && !pte_is_parked(e))
				continue;
			pa = pte_frame(e) + (pte_is_large(e) ? (va & (2 * MiB - 1)) : 0);
			idx = pa >> 12;
			assert_true(frame_in_range(fr, pa));
			assert_int_equal(frame_of(fr, pte_frame(e))->kind, FRAME_DATA);
			assert_false(idx >= (fr->meta_pa >> 12) && idx < (fr->meta_pa >> 12) + fr->meta_frames);
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
			span = PG;
			pages++;
		}
	}
	return pages;
}

static void no_table_record_or_metadata_frame_is_ever_mapped(void **state)
{
	struct twin *t = *state;
	static struct model model;
	struct drive_env env = twin_env(t->sim);
	const uint64_t *pml4;
	size_t mapped = 0;
	struct drive d;

	hostmem_set_verify_each(t->m, false);   /* the driver verifies */
	assert_true(drive_begin(&d, &model, &env));
	d.may_kill = false;
	drive_seed(&d, 0x5EC0);
	for (int round = 0; round < 20; round++) {
		uint8_t *seen = calloc(hm_of(t->m)->frames.nframes, 1);

		assert_true(drive_run(&d, (round + 1) * 500ull));
		mapped += check_mapped_frames(t, seen);
		free(seen);
	}
	pml4 = (const uint64_t *)(hm_sim_ram(t->sim) + hostmem_root(t->m));
	for (int i = 256; i < 512; i++)
		assert_int_equal(pml4[i], 0);   /* nothing of the upper half */
	assert_true(drive_end(&d));
	assert_true(mapped > 100);
	hostmem_set_verify_each(t->m, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_SMALL(a_decommitted_page_committed_again_reads_zero_on_the_same_frame),
		T_SMALL(a_released_page_reserved_again_reads_zero_on_the_same_frame),
		T(a_parked_page_decommitted_reads_zero_again),
		T(a_reset_page_never_shows_another_allocations_data),
		T(every_frame_cycled_through_a_pattern_reads_zero),
		T(every_call_refuses_addresses_outside_the_range),
		T(ranges_that_run_out_of_the_range_are_refused),
		T(no_table_record_or_metadata_frame_is_ever_mapped),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
