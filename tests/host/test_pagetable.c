/*
 * Page tables, PTE encoding and the TLB gather, checked against verify, a
 * page-granular model and the software MMU.  One test per rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem/frame.h"
#include "hostmem/pagetable.h"
#include "hostmem/pte.h"
#include "hostmem/tlb.h"
#include "hostmem/verify.h"
#include "hostmem/sim/mmu.h"
#include "tests/host/lib/ram.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PAGE 0x1000ull

struct fx {
	struct ram *ram;
	struct frames fr;
	struct pagetable pt;
	struct mmu mmu;
	size_t free0;            /* nfree right after setup */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const struct phys_range r[] = { { 0, 16 * MiB } };

	f->ram = ram_new(16 * MiB);
	assert_int_equal(frames_init(&f->fr, &f->ram->plat, r, 1, FRAMES_DEBUG), FRAME_OK);
	assert_int_equal(pt_init(&f->pt, &f->fr, &f->ram->plat, 0), PT_OK);
	mmu_init(&f->mmu, &f->ram->plat, f->pt.root, 46);
	ram_attach_mmu(f->ram, &f->mmu);
	f->free0 = f->fr.nfree;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ram_free(f->ram);
	free(f);
	return 0;
}

static void verified(struct fx *f, int line)
{
	char why[256];
	struct pagetable *pts[] = { &f->pt };

	if (!verify_all(&f->fr, pts, 1, why, sizeof why))
		fail_msg("line %d: verify: %s", line, why);
}
#define VERIFIED(f) verified(f, __LINE__)

/* Each operation with its own gather, finished at once. */
static int map(struct fx *f, uint64_t va, size_t n, uint32_t prot)
{
	struct tlb_gather g;
	int err;

	tlb_gather_init(&g, &f->fr);
	err = pt_map(&f->pt, va, n, prot, &g);
	tlb_finish(&g);
	return err;
}

static int unmap(struct fx *f, uint64_t va, size_t n)
{
	struct tlb_gather g;
	int err;

	tlb_gather_init(&g, &f->fr);
	err = pt_unmap(&f->pt, va, n, &g, NULL);
	tlb_finish(&g);
	return err;
}

static int protect(struct fx *f, uint64_t va, size_t n, uint32_t prot)
{
	struct tlb_gather g;
	int err;

	tlb_gather_init(&g, &f->fr);
	err = pt_protect(&f->pt, va, n, prot, &g, 0);
	tlb_finish(&g);
	return err;
}

static int write_pte(struct fx *f, uint64_t va, size_t n, uint64_t value)
{
	struct tlb_gather g;
	int err;

	tlb_gather_init(&g, &f->fr);
	err = pt_write(&f->pt, va, n, value, &g);
	tlb_finish(&g);
	return err;
}

static uint64_t lookup(struct fx *f, uint64_t va)
{
	return pt_lookup(&f->pt, va, NULL);
}

/* The table holding va's entry at level (1 = PT ... 4 = root). */
static uint64_t table_of(struct fx *f, uint64_t va, int level)
{
	uint64_t t = f->pt.root;

	for (int l = 4; l > level; l--) {
		uint64_t e = ((uint64_t *)ram_ptr(f->ram, t))[(va >> (12 + 9 * (l - 1))) & 511];

		assert_true(pte_is_table(e));
		t = pte_frame(e);
	}
	return t;
}

static uint64_t mmu_read64(struct fx *f, uint64_t va, uint32_t *fault)
{
	uint64_t v = 0;

	*fault = mmu_read(&f->mmu, va, &v, sizeof v);
	return v;
}

/* What a result of the MMU says in hostmem's terms (HM_PF_*: present,
 * write, fetch), whatever the format; NO_FAULT when the access went
 * through.  The exact syndromes are each format's test_mmu's. */
#define NO_FAULT 0xFFFFFFFFu
static uint32_t said(uint32_t result)
{
	return result ? pte_fault_access(MMU_SYNDROME(result)) : NO_FAULT;
}

/* ------------------------------------------------------------ pte.h */

static void test_every_valid_protection_round_trips_through_the_pte(void **state)
{
	static const uint32_t base[] = { PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
	                                 PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE };
	static const uint32_t mod[] = { 0, PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE };

	for (size_t b = 0; b < 6; b++) {
		for (size_t m = 0; m < 4; m++) {
			uint32_t prot = base[b] | mod[m];
			/* Windows takes no modifier with NOACCESS. */
			bool valid = !(base[b] == PAGE_NOACCESS && mod[m]);

			assert_int_equal(pte_prot_valid(prot), valid);
			if (!valid)
				continue;
			assert_int_equal(pte_prot(pte_make_demand_zero(prot)), prot);
			assert_int_equal(pte_prot(pte_make_committed(0x5000, prot)), prot);
			assert_int_equal(pte_state(pte_make_demand_zero(prot)), PTE_DEMAND_ZERO);
		}
	}
}

static void test_invalid_protections_are_refused(void **state)
{
	static const uint32_t bad[] = {
		0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY | PAGE_READWRITE,
		PAGE_GUARD, PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE,
		PAGE_READWRITE | PAGE_NOCACHE | PAGE_WRITECOMBINE, PAGE_READWRITE | 0x800,
		PAGE_NOACCESS | PAGE_GUARD, PAGE_NOACCESS | PAGE_WRITECOMBINE,
		PAGE_NOACCESS | PAGE_NOCACHE,
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(pte_prot_valid(bad[i]));
}

/* Every value with bits up to 0x7FF, and each higher bit: valid exactly when
 * it is one of the 21 pairs above. */
static void test_exactly_the_listed_protections_are_valid(void **state)
{
	static const uint32_t base[] = { PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
	                                 PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE };
	static const uint32_t mod[] = { 0, PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE };

	for (uint32_t prot = 0; prot < 0x1000; prot++) {
		bool listed = false;

		for (size_t b = 0; b < 6; b++)
			for (size_t m = 0; m < 4; m++)
				listed |= prot == (base[b] | mod[m]) && !(b == 0 && m);
		assert_int_equal(pte_prot_valid(prot), listed);
	}
	for (unsigned bit = 11; bit < 32; bit++)
		assert_false(pte_prot_valid(PAGE_READWRITE | (1u << bit)));
}

/* ------------------------------------------------------------ map / unmap */

static void test_map_single_page_is_present_zeroed_and_writable(void **state)
{
	struct fx *f = *state;
	uint64_t va = 0x10000, pte, v = 0x1122334455667788ull;
	uint32_t fault;

	assert_int_equal(map(f, va, 1, PAGE_READWRITE), PT_OK);
	pte = lookup(f, va);
	assert_int_equal(pte_state(pte), PTE_PRESENT);
	assert_int_equal(pte_prot(pte), PAGE_READWRITE);
	assert_int_equal(frame_of(&f->fr, pte_frame(pte))->kind, FRAME_DATA);
	assert_int_equal(pt_tables(&f->pt), 3);
	assert_int_equal(mmu_read64(f, va + 8, &fault), 0);
	assert_int_equal(fault, 0);
	assert_int_equal(mmu_write(&f->mmu, va + 8, &v, 8), 0);
	assert_true(mmu_read64(f, va + 8, &fault) == v);
	VERIFIED(f);
}

static void test_unmap_returns_every_frame_and_table(void **state)
{
	struct fx *f = *state;
	struct tlb_gather g;
	size_t cleared;

	assert_int_equal(map(f, 0x10000, 3, PAGE_READWRITE), PT_OK);
	assert_int_equal(f->fr.nfree, f->free0 - 3 - 3);
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_unmap(&f->pt, 0x10000, 5, &g, &cleared), PT_OK);
	tlb_finish(&g);
	assert_int_equal(cleared, 3);
	assert_int_equal(f->fr.nfree, f->free0);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.used[FRAME_TABLE], 1);   /* the root */
	VERIFIED(f);
}

/* Maps n pages at va, expects `tables` tables, and unmaps back to the root. */
static void check_crossing(struct fx *f, uint64_t va, size_t n, size_t tables)
{
	assert_int_equal(map(f, va, n, PAGE_READWRITE), PT_OK);
	assert_int_equal(pt_tables(&f->pt), tables);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pte_state(lookup(f, va + i * PAGE)), PTE_PRESENT);
	assert_int_equal(lookup(f, va - PAGE), 0);
	assert_int_equal(lookup(f, va + n * PAGE), 0);
	VERIFIED(f);
	assert_int_equal(unmap(f, va, n), PT_OK);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	VERIFIED(f);
}

static void test_range_crossing_2m_boundary_uses_two_pts(void **state)
{
	struct fx *f = *state;

	check_crossing(f, 2 * MiB - 2 * PAGE, 4, 1 + 1 + 2);
	assert_int_equal(map(f, 2 * MiB - 2 * PAGE, 4, PAGE_READWRITE), PT_OK);
	assert_int_equal(frame_of(&f->fr, table_of(f, 2 * MiB - PAGE, 1))->count, 2);
	assert_int_equal(frame_of(&f->fr, table_of(f, 2 * MiB, 1))->count, 2);
	assert_int_equal(frame_of(&f->fr, table_of(f, 2 * MiB, 2))->count, 2);
	VERIFIED(f);
}

static void test_range_crossing_1g_boundary_uses_two_pds(void **state)
{
	check_crossing(*state, 1 * GiB - 2 * PAGE, 4, 1 + 2 + 2);
}

static void test_range_crossing_512g_boundary_uses_two_pdpts(void **state)
{
	check_crossing(*state, 512 * GiB - 2 * PAGE, 4, 2 + 2 + 2);
}

static void test_top_of_the_lower_half_is_mappable(void **state)
{
	check_crossing(*state, PT_LOWER_LIMIT - 2 * PAGE, 2, 3);
}

static void test_ranges_outside_the_lower_half_are_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map(f, 0x10001, 1, PAGE_READWRITE), PT_BAD_RANGE);
	assert_int_equal(map(f, 0x10000, 0, PAGE_READWRITE), PT_BAD_RANGE);
	assert_int_equal(map(f, PT_LOWER_LIMIT, 1, PAGE_READWRITE), PT_BAD_RANGE);
	assert_int_equal(map(f, PT_LOWER_LIMIT - PAGE, 2, PAGE_READWRITE), PT_BAD_RANGE);
	assert_int_equal(unmap(f, 0xFFFF800000000000ull, 1), PT_BAD_RANGE);
	assert_int_equal(map(f, 0x10000, 1, PAGE_WRITECOPY), PT_BAD_VALUE);
	assert_int_equal(f->fr.nfree, f->free0);
	VERIFIED(f);
}

static void test_map_over_a_page_holding_a_frame_is_busy(void **state)
{
	struct fx *f = *state;
	uint64_t before;

	assert_int_equal(map(f, 0x20000, 1, PAGE_NOACCESS), PT_OK);   /* parked */
	before = lookup(f, 0x20000);
	assert_int_equal(map(f, 0x1F000, 3, PAGE_READWRITE), PT_BUSY);
	assert_int_equal(lookup(f, 0x1F000), 0);
	assert_true(lookup(f, 0x20000) == before);
	VERIFIED(f);
}

/* ------------------------------------------------------------ counts, cascade */

static void test_table_count_equals_nonzero_entries(void **state)
{
	struct fx *f = *state;
	uint64_t pt;

	assert_int_equal(map(f, 0x400000, 3, PAGE_READWRITE), PT_OK);
	pt = table_of(f, 0x400000, 1);
	assert_int_equal(frame_of(&f->fr, pt)->count, 3);
	assert_int_equal(write_pte(f, 0x410000, 2, pte_make_demand_zero(PAGE_READONLY)), PT_OK);
	assert_int_equal(frame_of(&f->fr, pt)->count, 5);
	assert_int_equal(unmap(f, 0x401000, 1), PT_OK);
	assert_int_equal(frame_of(&f->fr, pt)->count, 4);
	VERIFIED(f);
}

static void test_cascade_frees_tables_back_to_the_root_only(void **state)
{
	struct fx *f = *state;
	const uint64_t va[] = { 0x10000, 3 * GiB + 0x5000, 700 * GiB, 100000 * GiB + 2 * MiB };
	uint64_t *root = ram_ptr(f->ram, f->pt.root);

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(map(f, va[i], 2, PAGE_READWRITE), PT_OK);
	assert_int_equal(pt_tables(&f->pt), 4 * 3 - 1);  /* the first two share a PDPT */
	VERIFIED(f);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(unmap(f, va[i], 2), PT_OK);
		VERIFIED(f);
	}
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.used[FRAME_TABLE], 1);
	for (int i = 0; i < 512; i++)
		assert_int_equal(root[i], 0);
	assert_int_equal(f->fr.nfree, f->free0);
}

static void test_destroy_frees_the_root_once_empty(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map(f, 0x10000, 1, PAGE_READWRITE), PT_OK);
	assert_int_equal(pt_destroy(&f->pt), PT_BUSY);
	assert_int_equal(unmap(f, 0x10000, 1), PT_OK);
	assert_int_equal(pt_destroy(&f->pt), PT_OK);
	assert_int_equal(f->fr.nfree, f->fr.usable);
	assert_int_equal(pt_init(&f->pt, &f->fr, &f->ram->plat, 0), PT_OK);
}

/* Break-before-make (pte.h): a present entry may change its rights, never
 * its frame or its kind; a store that would retarget one is a hostmem bug,
 * stopped before the MMU can see it. */
static void test_a_present_entry_is_never_retargeted(void **state)
{
	struct fx *f = *state;
	uint64_t va = 0x30000, e, other;
	struct tlb_gather g;
	jmp_buf jb;

	assert_int_equal(map(f, va, 2, PAGE_READWRITE), PT_OK);
	e = lookup(f, va);
	other = lookup(f, va + PAGE);
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_replace(&f->pt, va, e, pte_reprotect(e, PAGE_READONLY), &g), PT_OK);
	tlb_finish(&g);                                  /* new rights: allowed */
	e = lookup(f, va);
	f->ram->panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		tlb_gather_init(&g, &f->fr);
		pt_replace(&f->pt, va, e, (e & ~PTE_FRAME_MASK) | pte_frame(other), &g);
		fail_msg("a present entry was pointed at another frame");
	}
	f->ram->panic_jmp = NULL;
	assert_non_null(strstr(f->ram->last_panic, "retargeted"));
	assert_int_equal(lookup(f, va), e);              /* not stored */
}

/* ------------------------------------------------------------ protect */

static void test_protect_keeps_frame_and_contents(void **state)
{
	struct fx *f = *state;
	uint64_t va = 0x30000, frame, token = 0xC0FFEE, e;
	uint32_t fault;

	assert_int_equal(map(f, va, 1, PAGE_READWRITE), PT_OK);
	frame = pte_frame(lookup(f, va));
	assert_int_equal(mmu_write(&f->mmu, va, &token, 8), 0);
	assert_int_equal(protect(f, va, 1, PAGE_READONLY), PT_OK);
	assert_int_equal(pte_frame(lookup(f, va)), frame);
	assert_int_equal(pte_prot(lookup(f, va)), PAGE_READONLY);
	assert_int_equal(said(mmu_write(&f->mmu, va, &token, 8)), HM_PF_P | HM_PF_W);
	assert_int_equal(mmu_read64(f, va, &fault), token);
	assert_int_equal(protect(f, va, 1, PAGE_NOACCESS), PT_OK);
	e = lookup(f, va);
	assert_int_equal(pte_state(e), PTE_PARKED);
	assert_int_equal(pte_frame(e), frame);
	mmu_read64(f, va, &fault);
	assert_int_equal(said(fault), 0);                         /* not present */
	VERIFIED(f);
	assert_int_equal(protect(f, va, 1, PAGE_EXECUTE_READ | PAGE_GUARD), PT_OK);
	assert_int_equal(pte_prot(lookup(f, va)), PAGE_EXECUTE_READ | PAGE_GUARD);
	assert_int_equal(protect(f, va, 1, PAGE_EXECUTE_READ), PT_OK);
	assert_int_equal(mmu_read64(f, va, &fault), token);
	assert_int_equal(mmu_access(&f->mmu, va, MMU_EXEC, &e), 0);
	VERIFIED(f);
}

static void test_protect_requires_every_page_committed(void **state)
{
	struct fx *f = *state;
	uint64_t a, b;

	assert_int_equal(map(f, 0x40000, 2, PAGE_READWRITE), PT_OK);
	a = lookup(f, 0x40000);
	b = lookup(f, 0x41000);
	assert_int_equal(protect(f, 0x40000, 3, PAGE_READONLY), PT_NOT_COMMITTED);
	assert_int_equal(protect(f, 0x3F000, 2, PAGE_READONLY), PT_NOT_COMMITTED);
	assert_int_equal(protect(f, 0x40000, 2, 0), PT_BAD_VALUE);
	assert_true(lookup(f, 0x40000) == a && lookup(f, 0x41000) == b);
	VERIFIED(f);
}

static void test_protect_flushes_the_stale_translation(void **state)
{
	struct fx *f = *state;
	uint64_t pa, v = 1;

	assert_int_equal(map(f, 0x50000, 1, PAGE_READWRITE), PT_OK);
	assert_int_equal(mmu_access(&f->mmu, 0x50000, MMU_WRITE, &pa), 0);   /* cached */
	assert_int_equal(protect(f, 0x50000, 1, PAGE_READONLY), PT_OK);
	assert_int_equal(said(mmu_write(&f->mmu, 0x50000, &v, 8)), HM_PF_P | HM_PF_W);
	VERIFIED(f);
}

/* ------------------------------------------------------------ write_pte */

static void test_write_pte_makes_demand_zero_pages(void **state)
{
	struct fx *f = *state;
	uint64_t v, pa;

	assert_int_equal(write_pte(f, 0x60000, 4, pte_make_demand_zero(PAGE_READWRITE)), PT_OK);
	for (int i = 0; i < 4; i++) {
		v = lookup(f, 0x60000 + i * PAGE);
		assert_int_equal(pte_state(v), PTE_DEMAND_ZERO);
		assert_int_equal(pte_prot(v), PAGE_READWRITE);
	}
	assert_int_equal(said(mmu_access(&f->mmu, 0x60000, MMU_READ, &pa)), 0);
	assert_int_equal(f->fr.promised, 0);     /* promises are the caller's */
	VERIFIED(f);
	/* The demand-zero fault: a frame under the stored protection. */
	assert_int_equal(map(f, 0x61000, 1, pte_prot(lookup(f, 0x61000))), PT_OK);
	assert_int_equal(mmu_access(&f->mmu, 0x61000, MMU_WRITE, &pa), 0);
	VERIFIED(f);
	assert_int_equal(write_pte(f, 0x60000, 4, 0), PT_OK);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	VERIFIED(f);
}

static void test_write_pte_over_present_pages_frees_their_frames(void **state)
{
	struct fx *f = *state;
	uint64_t pa;

	assert_int_equal(map(f, 0x70000, 2, PAGE_READWRITE), PT_OK);
	assert_int_equal(mmu_access(&f->mmu, 0x70000, MMU_READ, &pa), 0);
	assert_int_equal(write_pte(f, 0x70000, 2, pte_make_demand_zero(PAGE_READONLY)), PT_OK);
	assert_int_equal(f->fr.used[FRAME_DATA], 0);
	assert_int_equal(said(mmu_access(&f->mmu, 0x70000, MMU_READ, &pa)), 0);  /* flushed */
	VERIFIED(f);
}

static void test_write_pte_refuses_values_with_frames(void **state)
{
	struct fx *f = *state;

	assert_int_equal(write_pte(f, 0x70000, 1, PTE_COMMITTED | 0x5000), PT_BAD_VALUE);
	assert_int_equal(write_pte(f, 0x70000, 1, PTE_P), PT_BAD_VALUE);
	assert_int_equal(pt_tables(&f->pt), 0);
}

/* The commit path: promise, then pt_commit, which builds every table its
 * range needs before it writes; over tables that exist it allocates nothing,
 * even with an allocation failure armed. */
static void test_a_commit_over_its_tables_cannot_fail(void **state)
{
	struct fx *f = *state;
	struct tlb_gather g;
	uint64_t va = 1 * GiB - 8 * PAGE;
	size_t fresh;

	assert_true(frames_promise(&f->fr, 16));
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_commit(&f->pt, va, 16, PAGE_READWRITE, &g, &fresh), PT_OK);
	assert_int_equal(fresh, 16);
	assert_int_equal(pt_tables(&f->pt), 1 + 2 + 2);
	f->fr.fail_countdown = 1;
	assert_int_equal(pt_commit(&f->pt, va, 16, PAGE_READWRITE, &g, &fresh), PT_OK);
	assert_int_equal(fresh, 0);
	tlb_finish(&g);
	assert_int_equal(f->fr.fail_countdown, 1);
	f->fr.fail_countdown = 0;
	VERIFIED(f);
	/* The fault redeems a promise, then maps. */
	frames_unpromise(&f->fr, 1);
	assert_int_equal(map(f, va, 1, PAGE_READWRITE), PT_OK);
	assert_int_equal(f->fr.promised, 15);
	frames_unpromise(&f->fr, 15);
	VERIFIED(f);
}

static void test_a_commit_that_cannot_build_its_tables_prunes_them(void **state)
{
	struct fx *f = *state;
	struct tlb_gather g;
	size_t fresh;

	f->fr.fail_countdown = 4;
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_commit(&f->pt, 1 * GiB - 8 * PAGE, 16, PAGE_READWRITE, &g, &fresh),
	                 PT_NO_MEMORY);
	tlb_finish(&g);
	assert_int_equal(fresh, 0);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	VERIFIED(f);
}

/* ------------------------------------------------------------ TLB gather */

static void test_gather_invalidates_per_page_up_to_the_ceiling(void **state)
{
	struct fx *f = *state;

	/* A neighbour keeps the tables, so only leaves are flushed. */
	assert_int_equal(map(f, 0x100000, 1 + 2 * TLB_GATHER_MAX + 1, PAGE_READWRITE), PT_OK);
	f->ram->flush_pages = f->ram->flush_alls = 0;
	assert_int_equal(unmap(f, 0x101000, TLB_GATHER_MAX), PT_OK);
	assert_int_equal(f->ram->flush_pages, TLB_GATHER_MAX);
	assert_int_equal(f->ram->flush_alls, 0);
	assert_int_equal(unmap(f, 0x101000 + TLB_GATHER_MAX * PAGE, TLB_GATHER_MAX + 1), PT_OK);
	assert_int_equal(f->ram->flush_pages, TLB_GATHER_MAX);
	assert_int_equal(f->ram->flush_alls, 1);
	VERIFIED(f);
}

static void test_demand_zero_only_tables_still_get_a_flush(void **state)
{
	struct fx *f = *state;

	assert_int_equal(write_pte(f, 0x10000, 2, pte_make_demand_zero(PAGE_READWRITE)), PT_OK);
	f->ram->flush_pages = f->ram->flush_alls = 0;
	assert_int_equal(write_pte(f, 0x10000, 2, 0), PT_OK);
	/* No leaf was present, but the freed PT, PD and PDPT need their cached
	 * walks dropped: on x86 one invalidation drops them all, on AArch64
	 * one per table (pte_arch.h). */
	assert_int_equal(f->ram->flush_pages + f->ram->flush_alls, PTE_WALKS_FLUSHED_BY_VA ? 3 : 1);
	VERIFIED(f);
}

struct flush_probe {
	struct fx *f;
	size_t nfree_at_flush[4];
	int flushes;
};

static void probe_flush(struct ram *r, uint64_t va, bool all)
{
	struct flush_probe *p = r->test_ctx;

	if (p->flushes < 4)
		p->nfree_at_flush[p->flushes] = p->f->fr.nfree;
	p->flushes++;
}

static void test_no_frame_is_freed_before_the_flush(void **state)
{
	struct fx *f = *state;
	struct flush_probe p = { .f = f };
	size_t before;

	assert_int_equal(map(f, 0x10000, 3, PAGE_READWRITE), PT_OK);
	assert_int_equal(map(f, 0x800000, 40, PAGE_READWRITE), PT_OK);
	f->ram->test_ctx = &p;
	f->ram->on_flush = probe_flush;
	before = f->fr.nfree;
	assert_int_equal(unmap(f, 0x10000, 3), PT_OK);          /* per-page flushes */
	assert_int_equal(p.flushes, PTE_WALKS_FLUSHED_BY_VA ? 3 + 1 : 3);   /* + the PT's own */
	for (int i = 0; i < 3; i++)
		assert_int_equal(p.nfree_at_flush[i], before);
	assert_int_equal(f->fr.nfree, before + 3 + 1);          /* + the PT */
	p.flushes = 0;
	before = f->fr.nfree;
	assert_int_equal(unmap(f, 0x800000, 40), PT_OK);        /* one full flush */
	assert_int_equal(p.flushes, 1);
	assert_int_equal(p.nfree_at_flush[0], before);
	assert_true(f->fr.nfree > before);
	f->ram->on_flush = NULL;
	VERIFIED(f);
}

/* ------------------------------------------------------------ injected failure */

static void snapshot(struct fx *f, uint64_t va, size_t n, uint64_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = lookup(f, va + i * PAGE);
}

/*
 * Runs op with the k-th allocation failing, k = 1, 2, ... until it succeeds.
 * Every failure must leave frames, tables, promises and PTEs as they were.
 * Returns the k that succeeded (allocation points + 1).
 */
static int sweep(struct fx *f, uint64_t va, size_t n, int (*op)(struct fx *f, uint64_t va, size_t n))
{
	uint64_t *before = calloc(n, 8), *after = calloc(n, 8);
	size_t nfree = f->fr.nfree, tables = pt_tables(&f->pt), promised = f->fr.promised;
	int k, err;

	snapshot(f, va, n, before);
	for (k = 1;; k++) {
		f->fr.fail_countdown = k;
		err = op(f, va, n);
		if (err == PT_OK)
			break;
		assert_int_equal(err, PT_NO_MEMORY);
		assert_int_equal(f->fr.nfree, nfree);
		assert_int_equal(pt_tables(&f->pt), tables);
		assert_int_equal(f->fr.promised, promised);
		snapshot(f, va, n, after);
		assert_memory_equal(before, after, n * 8);
		VERIFIED(f);
	}
	f->fr.fail_countdown = 0;
	VERIFIED(f);
	free(before);
	free(after);
	return k;
}

static int op_map(struct fx *f, uint64_t va, size_t n)
{
	return map(f, va, n, PAGE_READWRITE);
}

/* As commit.c does it. */
static int op_commit(struct fx *f, uint64_t va, size_t n)
{
	struct tlb_gather g;
	size_t fresh;
	int err;

	tlb_gather_init(&g, &f->fr);
	err = pt_commit(&f->pt, va, n, PAGE_EXECUTE_READ, &g, &fresh);
	tlb_finish(&g);
	return err;
}

static int op_protect(struct fx *f, uint64_t va, size_t n)
{
	return protect(f, va, n, PAGE_READONLY | PAGE_NOCACHE);
}

static void test_injected_failure_in_map_leaves_nothing_behind(void **state)
{
	struct fx *f = *state;

	/* Tables exist on the left of the 512 GiB line, not on the right. */
	assert_int_equal(map(f, 512 * GiB - 1 * MiB, 1, PAGE_READWRITE), PT_OK);
	assert_int_equal(sweep(f, 512 * GiB - 20 * PAGE, 40, op_map), 3 + 40 + 1);
	/* Across 1 GiB and 2 MiB lines: the PDPT exists, two PDs and PTs do not. */
	assert_int_equal(sweep(f, 1 * GiB - 4 * PAGE, 8, op_map), 4 + 8 + 1);
}

static void test_injected_failure_in_commit_leaves_nothing_behind(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map(f, 512 * GiB - 1 * MiB, 1, PAGE_READWRITE), PT_OK);
	/* Only tables allocate: demand-zero pages have no frame yet. */
	assert_int_equal(sweep(f, 512 * GiB - 20 * PAGE, 40, op_commit), 3 + 1);
	/* Mapping over them allocates only the frames. */
	assert_int_equal(sweep(f, 512 * GiB - 20 * PAGE, 40, op_map), 40 + 1);
}

static void test_protect_never_allocates(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map(f, 2 * MiB - 4 * PAGE, 4, PAGE_READWRITE), PT_OK);
	assert_int_equal(write_pte(f, 2 * MiB, 4, pte_make_demand_zero(PAGE_READWRITE)), PT_OK);
	assert_int_equal(sweep(f, 2 * MiB - 4 * PAGE, 8, op_protect), 1);
}

static void test_walk_alloc_failure_prunes_what_it_made(void **state)
{
	struct fx *f = *state;
	struct tlb_gather g;
	uint64_t *pte;

	f->fr.fail_countdown = 3;
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_walk_alloc(&f->pt, 5 * GiB, &pte, &g), PT_NO_MEMORY);
	tlb_finish(&g);
	assert_null(pte);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_walk_alloc(&f->pt, 5 * GiB, &pte, &g), PT_OK);
	tlb_finish(&g);
	assert_non_null(pte);
	assert_int_equal(*pte, 0);
	assert_int_equal(pt_tables(&f->pt), 3);
}

/* ------------------------------------------------------------ large pages */

static void test_large_pages_are_understood(void **state)
{
	struct fx *f = *state;
	struct tlb_gather g;
	uint64_t va = 1 * GiB + 2 * MiB, e, pa;
	size_t cleared;
	int level;

	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_map_large(&f->pt, va, PAGE_READWRITE, &g), PT_OK);
	tlb_finish(&g);
	e = pt_lookup(&f->pt, va + 0x12345, &level);
	assert_int_equal(level, 2);
	assert_true(pte_is_large(e));
	assert_int_equal(pt_tables(&f->pt), 2);
	assert_int_equal(mmu_access(&f->mmu, va + 0x12345, MMU_WRITE, &pa), 0);
	assert_int_equal(pa, pte_frame(e) + 0x12345);
	e = pt_lookup(&f->pt, va, NULL);
	assert_true(pte_hw_dirty(e));            /* the MMU recorded the write */
	VERIFIED(f);
	assert_int_equal(unmap(f, va + PAGE, 1), PT_LARGE);
	assert_int_equal(protect(f, va, 512, PAGE_READONLY), PT_LARGE);
	assert_int_equal(write_pte(f, va, 1, 0), PT_LARGE);
	assert_int_equal(map(f, va, 1, PAGE_READWRITE), PT_BUSY);
	assert_int_equal(pt_lookup(&f->pt, va, NULL), e);
	tlb_gather_init(&g, &f->fr);
	assert_int_equal(pt_unmap(&f->pt, va - 2 * MiB, 3 * 512, &g, &cleared), PT_OK);
	tlb_finish(&g);
	assert_int_equal(cleared, 512);
	assert_int_equal(said(mmu_access(&f->mmu, va, MMU_READ, &pa)), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	assert_int_equal(pt_tables(&f->pt), 0);
	VERIFIED(f);
}

/* ------------------------------------------------------------ adopted root */

static void test_adopted_root_keeps_its_upper_half(void **state)
{
	struct ram *ram = ram_new(8 * MiB);
	const struct phys_range r[] = { { 0, 7 * MiB } };   /* the root lives above */
	struct frames fr;
	struct pagetable pt, *pts[] = { &pt };
	uint64_t root = 7 * MiB, *e = ram_ptr(ram, root);
	struct tlb_gather g;
	char why[256];

	memset(e, 0, PAGE);
	for (int i = 256; i < 512; i++)
		e[i] = 0xFFFF000 | PTE_P | (uint64_t)i << 12;
	assert_int_equal(frames_init(&fr, &ram->plat, r, 1, 0), FRAME_OK);
	assert_int_equal(pt_init(&pt, &fr, &ram->plat, root), PT_OK);
	tlb_gather_init(&g, &fr);
	assert_int_equal(pt_map(&pt, 0x10000, 4, PAGE_READWRITE, &g), PT_OK);
	assert_int_equal(pt_map(&pt, PT_LOWER_LIMIT - PAGE, 1, PAGE_READWRITE, &g), PT_OK);
	tlb_finish(&g);
	assert_true(verify_all(&fr, pts, 1, why, sizeof why));
	assert_int_equal(pt_unmap(&pt, 0, PT_LOWER_LIMIT / PAGE, &g, NULL), PT_OK);
	tlb_finish(&g);
	for (int i = 0; i < 512; i++)
		assert_true(e[i] == (i < 256 ? 0 : (0xFFFF000 | PTE_P | (uint64_t)i << 12)));
	assert_int_equal(pt_destroy(&pt), PT_OK);
	assert_int_equal(fr.nfree, fr.usable);
	e[3] = 0x5003;
	assert_int_equal(pt_init(&pt, &fr, &ram->plat, root), PT_ROOT_IN_USE);
	ram_free(ram);
}

/* ------------------------------------------------------------ random ops */

enum { M_NONE, M_DZ, M_PRESENT, M_PARKED };

struct model_page {
	uint8_t state;
	uint32_t prot;
	uint64_t token;   /* expected 8 bytes at offset 0x100 */
};

#define WIN_BASE   (512 * GiB - 3 * MiB)
#define WIN_PAGES  1536u
#define TOKEN_OFF  0x100

struct rnd {
	uint64_t s;
};

static uint64_t rnd_next(struct rnd *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static uint32_t rnd_prot(struct rnd *r)
{
	static const uint32_t p[] = {
		PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE, PAGE_EXECUTE_READ,
		PAGE_EXECUTE_READWRITE, PAGE_READWRITE | PAGE_GUARD, PAGE_READONLY | PAGE_NOCACHE,
		PAGE_READWRITE | PAGE_WRITECOMBINE, PAGE_EXECUTE_READ | PAGE_GUARD,
	};

	return p[rnd_next(r) % (sizeof p / sizeof p[0])];
}

static uint8_t state_for(uint32_t prot)
{
	return pte_hw_bits(prot) ? M_PRESENT : M_PARKED;
}

/* Applies one random operation to hostmem and to the model. */
static void random_op(struct fx *f, struct model_page *m, struct rnd *r, uint64_t *lo, size_t *n)
{
	size_t first = rnd_next(r) % WIN_PAGES, len = 1 + rnd_next(r) % (rnd_next(r) % 8 ? 16 : 600);
	uint32_t prot = rnd_prot(r), op = rnd_next(r) % 5;
	uint64_t va = WIN_BASE + first * PAGE;
	bool busy = false, uncommitted = false;

	if (first + len > WIN_PAGES)
		len = WIN_PAGES - first;
	*lo = va;
	*n = len;
	for (size_t i = first; i < first + len; i++) {
		busy |= m[i].state == M_PRESENT || m[i].state == M_PARKED;
		uncommitted |= m[i].state == M_NONE;
	}
	switch (op) {
	case 0:
		assert_int_equal(map(f, va, len, prot), busy ? PT_BUSY : PT_OK);
		for (size_t i = first; !busy && i < first + len; i++)
			m[i] = (struct model_page){ state_for(prot), prot, 0 };
		break;
	case 1:
		assert_int_equal(unmap(f, va, len), PT_OK);
		for (size_t i = first; i < first + len; i++)
			m[i] = (struct model_page){ M_NONE, 0, 0 };
		break;
	case 2:
		assert_int_equal(protect(f, va, len, prot), uncommitted ? PT_NOT_COMMITTED : PT_OK);
		for (size_t i = first; !uncommitted && i < first + len; i++) {
			m[i].prot = prot;
			if (m[i].state != M_DZ)
				m[i].state = state_for(prot);
		}
		break;
	case 3:
		assert_int_equal(write_pte(f, va, len, pte_make_demand_zero(prot)), PT_OK);
		for (size_t i = first; i < first + len; i++)
			m[i] = (struct model_page){ M_DZ, prot, 0 };
		break;
	default:
		assert_int_equal(write_pte(f, va, len, 0), PT_OK);
		for (size_t i = first; i < first + len; i++)
			m[i] = (struct model_page){ M_NONE, 0, 0 };
	}
}

/* What the MMU must answer for an access to a page in this model state,
 * as said() puts it. */
static uint32_t expected_fault(const struct model_page *p, enum mmu_kind kind)
{
	uint32_t code = (kind == MMU_WRITE ? HM_PF_W : 0) | (kind == MMU_EXEC ? HM_PF_I : 0);
	uint32_t base = p->prot & 0xFF;

	if (p->state != M_PRESENT)
		return code;
	if (kind == MMU_WRITE && base != PAGE_READWRITE && base != PAGE_EXECUTE_READWRITE)
		return code | HM_PF_P;
	if (kind == MMU_EXEC && (base == PAGE_READONLY || base == PAGE_READWRITE))
		return code | HM_PF_P;
	return NO_FAULT;
}

static void touch(struct fx *f, struct model_page *m, struct rnd *r, size_t page)
{
	enum mmu_kind kind = rnd_next(r) % 3;
	uint64_t va = WIN_BASE + page * PAGE, pa, v = rnd_next(r);
	uint32_t want = expected_fault(&m[page], kind), fault;

	fault = mmu_access(&f->mmu, va + TOKEN_OFF, kind, &pa);
	if (said(fault) != want)
		fail_msg("page %zu state %d prot 0x%x kind %d: fault 0x%x, expected 0x%x",
		         page, m[page].state, m[page].prot, kind, fault, want);
	if (fault)
		return;
	if (kind == MMU_WRITE) {
		memcpy(ram_ptr(f->ram, pa), &v, 8);
		m[page].token = v;
	} else {
		memcpy(&v, ram_ptr(f->ram, pa), 8);
		assert_true(v == m[page].token);
	}
}

static void model_matches(struct fx *f, const struct model_page *m)
{
	static const enum pte_state to_pte[] = { PTE_NONE, PTE_DEMAND_ZERO, PTE_PRESENT, PTE_PARKED };

	for (size_t i = 0; i < WIN_PAGES; i++) {
		uint64_t e = lookup(f, WIN_BASE + i * PAGE);

		if (pte_state(e) != to_pte[m[i].state] || pte_prot(e) != m[i].prot)
			fail_msg("page %zu: pte 0x%llx, model state %d prot 0x%x", i,
			         (unsigned long long)e, m[i].state, m[i].prot);
	}
}

static void test_random_operations_match_the_model_and_the_mmu(void **state)
{
	struct fx *f = *state;
	struct model_page *m = calloc(WIN_PAGES, sizeof *m);
	const char *seed = getenv("HOSTMEM_SEED");
	struct rnd r = { seed ? strtoull(seed, NULL, 0) : 0x9E3779B97F4A7C15ull };
	uint64_t lo;
	size_t n;

	for (int step = 0; step < 3000; step++) {
		random_op(f, m, &r, &lo, &n);
		model_matches(f, m);
		for (int t = 0; t < 6; t++)
			touch(f, m, &r, (lo - WIN_BASE) / PAGE + rnd_next(&r) % n);
		for (int t = 0; t < 6; t++)
			touch(f, m, &r, rnd_next(&r) % WIN_PAGES);
		VERIFIED(f);
	}
	assert_int_equal(unmap(f, WIN_BASE, WIN_PAGES), PT_OK);
	assert_int_equal(pt_tables(&f->pt), 0);
	assert_int_equal(f->fr.nfree, f->free0);
	VERIFIED(f);
	free(m);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_valid_protection_round_trips_through_the_pte),
		cmocka_unit_test(test_invalid_protections_are_refused),
		cmocka_unit_test(test_exactly_the_listed_protections_are_valid),
		T(test_map_single_page_is_present_zeroed_and_writable),
		T(test_unmap_returns_every_frame_and_table),
		T(test_range_crossing_2m_boundary_uses_two_pts),
		T(test_range_crossing_1g_boundary_uses_two_pds),
		T(test_range_crossing_512g_boundary_uses_two_pdpts),
		T(test_top_of_the_lower_half_is_mappable),
		T(test_ranges_outside_the_lower_half_are_refused),
		T(test_map_over_a_page_holding_a_frame_is_busy),
		T(test_table_count_equals_nonzero_entries),
		T(test_cascade_frees_tables_back_to_the_root_only),
		T(test_destroy_frees_the_root_once_empty),
		T(test_a_present_entry_is_never_retargeted),
		T(test_protect_keeps_frame_and_contents),
		T(test_protect_requires_every_page_committed),
		T(test_protect_flushes_the_stale_translation),
		T(test_write_pte_makes_demand_zero_pages),
		T(test_write_pte_over_present_pages_frees_their_frames),
		T(test_write_pte_refuses_values_with_frames),
		T(test_a_commit_over_its_tables_cannot_fail),
		T(test_a_commit_that_cannot_build_its_tables_prunes_them),
		T(test_gather_invalidates_per_page_up_to_the_ceiling),
		T(test_demand_zero_only_tables_still_get_a_flush),
		T(test_no_frame_is_freed_before_the_flush),
		T(test_injected_failure_in_map_leaves_nothing_behind),
		T(test_injected_failure_in_commit_leaves_nothing_behind),
		T(test_protect_never_allocates),
		T(test_walk_alloc_failure_prunes_what_it_made),
		T(test_large_pages_are_understood),
		cmocka_unit_test(test_adopted_root_keeps_its_upper_half),
		T(test_random_operations_match_the_model_and_the_mmu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
