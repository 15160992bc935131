/*
 * test_tlb.c - the TLB gather's rule, seen from the contract: a frame or a
 * page table is given back only after the flush that drops every
 * translation to it (tlb.c).  A second check next to test_pagetable's
 * count of free frames at each flush: here a whole manager runs over
 * test RAM with the debug fill, and at the moment of each flush during a
 * VirtualFree the frames and tables it takes away must still be allocated
 * and hold exactly what a stale translation could still read.  Freed
 * first, they would be free records filled with FRAME_POISON.
 *
 * There is no real-MMU version: on one CPU nothing runs between a free and
 * the flush after it, so only a look from inside the flush can tell.
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
#include "hostmem/sim/mmu.h"
#include "tests/host/lib/ram.h"

#define MiB    0x100000ull
#define PG     0x1000ull
#define BASE   0x50000000ull
#define NPAGES 3
#define MARK   0x3Cu

/* What a flush must still find: the data frames and the page table. */
struct probe {
	struct hm *hm;
	uint64_t frame[NPAGES], table;
	size_t flushes, bad;
};

struct fx {
	struct ram *ram;
	void *storage;
	IHostMemoryManager *m;
	struct probe probe;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const struct phys_range r = { PG, 4 * MiB };

	assert_non_null(f);
	f->ram = ram_new(4 * MiB);
	f->storage = aligned_alloc(16, hostmem_storage_size());
	assert_int_equal(hostmem_init(f->storage, &f->ram->plat, &r, 1, 0, FRAMES_DEBUG, &f->m),
	                 S_OK);
	hostmem_set_verify_each(f->m, true);
	f->probe.hm = hm_of(f->m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->storage);
	ram_free(f->ram);
	free(f);
	return 0;
}

/* Each of the probe's frames is still an allocated block of its kind, and
 * each data frame still holds MARK. */
static void probe_flush(struct ram *r, uint64_t va, bool all)
{
	struct probe *p = r->test_ctx;
	const struct frames *fr = &p->hm->frames;

	p->flushes++;
	if (frame_of(fr, p->table)->kind != FRAME_TABLE)
		p->bad++;
	for (int i = 0; i < NPAGES; i++) {
		const uint8_t *bytes = ram_ptr(r, p->frame[i]);

		if (frame_of(fr, p->frame[i])->kind != FRAME_DATA || bytes[0] != MARK ||
		    bytes[PG - 1] != MARK)
			p->bad++;
	}
}

/* NPAGES committed pages at BASE, each faulted in and filled with MARK
 * through its frame; the probe learns the frames and their table. */
static void pages_in_ram(struct fx *f)
{
	struct hm *hm = hm_of(f->m);
	void *p;
	int level;

	assert_int_equal(IHostMemoryManager_VirtualAlloc(f->m, (void *)(uintptr_t)BASE, NPAGES * PG,
	                 MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p), S_OK);
	for (int i = 0; i < NPAGES; i++) {
		uint64_t va = BASE + (uint64_t)i * PG, e;

		assert_int_equal(hostmem_fault(f->m, va, mmu_syndrome(MMU_WRITE, false)), 0);
		e = pt_lookup(&hm->pt, va, &level);
		assert_true(pte_is_present(e));
		f->probe.frame[i] = pte_frame(e);
		memset(ram_ptr(f->ram, pte_frame(e)), MARK, PG);
	}
	f->probe.table = (uint64_t)((uint8_t *)pt_walk(&hm->pt, BASE, &level) - f->ram->mem) &
	                 ~(PG - 1);
	f->ram->test_ctx = &f->probe;
	f->ram->on_flush = probe_flush;
}

/* MEM_RELEASE of the only reservation: its frames and every table under
 * the root go, each after its flush. */
static void release_frees_frames_and_tables_only_after_the_flush(void **state)
{
	struct fx *f = *state;

	pages_in_ram(f);
	assert_int_equal(IHostMemoryManager_VirtualFree(f->m, (void *)(uintptr_t)BASE, 0,
	                                                MEM_RELEASE), S_OK);
	f->ram->on_flush = NULL;
	assert_true(f->probe.flushes > 0);
	assert_int_equal(f->probe.bad, 0);
	assert_int_equal(frame_of(&hm_of(f->m)->frames, f->probe.table)->kind, FRAME_FREE);
	assert_int_equal(frame_of(&hm_of(f->m)->frames, f->probe.frame[0])->kind, FRAME_FREE);
	assert_int_equal(hm_of(f->m)->pt.ntables, 0);
}

/* MEM_DECOMMIT keeps the reservation; the table goes with its last page. */
static void decommit_frees_frames_only_after_the_flush(void **state)
{
	struct fx *f = *state;

	pages_in_ram(f);
	assert_int_equal(IHostMemoryManager_VirtualFree(f->m, (void *)(uintptr_t)BASE, NPAGES * PG,
	                                                MEM_DECOMMIT), S_OK);
	f->ram->on_flush = NULL;
	assert_true(f->probe.flushes > 0);
	assert_int_equal(f->probe.bad, 0);
	assert_int_equal(frame_of(&hm_of(f->m)->frames, f->probe.frame[NPAGES - 1])->kind,
	                 FRAME_FREE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(release_frees_frames_and_tables_only_after_the_flush,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(decommit_frees_frames_only_after_the_flush,
		                                setup, teardown),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
