/*
 * test_verify.c - every check of hostmem_verify (verify.c, resv.c's audit,
 * malloc.c's) can fail: each test builds a little state on a fresh twin,
 * plants exactly the corruption one check exists for by poking the
 * internal structures (frames, page tables, the reservation tree, the
 * manager's counters, IHostMalloc's chunks and lists), and sees
 * hostmem_verify return E_FAIL with a report naming that check.  A check no test can trip is a check nobody would
 * miss; so every invariant gets its test, named after it.
 *
 * Each test first proves the twin clean (verify runs inside every call and
 * once more before the plant), so the report can only come from the plant.
 * Nothing is restored: the manager is dead afterwards and the twin dropped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tests/host/lib/twin.h"
#include "hostmem/embed.h"
#include "hostmem/hm.h"
#include "hostmem/hmalloc.h"
#include "hostmem/pte.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
#define D(f) cmocka_unit_test_setup_teardown(f, twin_debug_setup, twin_teardown)

#define BASE  0x50000000ull
#define RC    (MEM_RESERVE | MEM_COMMIT)
#define RW    PAGE_READWRITE
#define LP    (2 * MiB)
/* Whatever the format: the bits by which a writable page differs from a
 * read-only one, and a bit no leaf may have. */
#define RW_NOT_RO  (pte_hw_bits(PAGE_READWRITE) ^ pte_hw_bits(PAGE_READONLY))
#define KNOWN      (PTE_FRAME_MASK | PTE_PROT_MASK | PTE_COMMITTED | PTE_WRITTEN | \
                    PTE_DISCARDED | PTE_HW_MASK | PTE_HW_STATE)
#define STRAY      (~KNOWN & (KNOWN + 1))   /* the lowest bit outside KNOWN */

typedef unsigned long long ull;

/* ------------------------------------------------------------ helpers */

static struct hm *hm_in(struct twin *t) { return hm_of(t->m); }
static struct frames *frames_in(struct twin *t) { return &hm_of(t->m)->frames; }

/* hostmem_verify fails, and its report contains what. */
#define assert_broken(t, what) broken_at((t), (what), __FILE__, __LINE__)

static void broken_at(struct twin *t, const char *what, const char *file, int line)
{
	char why[256] = "";
	HRESULT hr = hostmem_verify(t->m, why, sizeof why);

	t->dead_ok = true;
	if (hr != E_FAIL)
		twin_fail(file, line, "hostmem_verify: %s, expected E_FAIL", hostmem_hresult_name(hr));
	print_message("# expected: verify: %s\n", why);
	if (!strstr(why, what))
		twin_fail(file, line, "expected \"%s\" in \"%s\"", what, why);
}

/* The entry of the table at level (4 = PML4 .. 1 = PT) that maps va. */
static uint64_t *entry_at(struct twin *t, uint64_t va, int level)
{
	struct hm *hm = hm_in(t);
	uint64_t table = hm->pt.root;

	for (int l = 4;; l--) {
		uint64_t *e = (uint64_t *)(hm->plat->phys_base + table) +
		              ((va >> (12 + 9 * (l - 1))) & 511);

		if (l == level)
			return e;
		assert_true(pte_is_table(*e));
		table = pte_frame(*e);
	}
}

static uint64_t *pte_at_va(struct twin *t, uint64_t va) { return entry_at(t, va, 1); }

/* The pa of the page table (PT) holding va's PTE. */
static uint64_t pt_of(struct twin *t, uint64_t va) { return pte_frame(*entry_at(t, va, 2)); }

static struct frame *rec_of(struct twin *t, uint64_t pa) { return frame_of(frames_in(t), pa); }

/* A committed 64 KiB at BASE, all of it present (the first touch maps its
 * cluster), proved clean. */
static void touched(struct twin *t)
{
	alloc_ok(t, BASE, GR, RC, RW);
	fill_ok(t, BASE, GR, 0x5A);
	assert_clean(t);
}

/* The data frame of BASE's page. */
static struct frame *data_rec(struct twin *t)
{
	return rec_of(t, pte_frame(*pte_at_va(t, BASE)));
}

/* ------------------------------------------------------------ free-list helpers */

static void list_unlink(struct frames *fr, unsigned k, uint32_t i)
{
	struct frame *f = &fr->rec[i];

	if (f->prev != FRAME_NONE)
		fr->rec[f->prev].next = f->next;
	else
		fr->free_head[k] = f->next;
	if (f->next != FRAME_NONE)
		fr->rec[f->next].prev = f->prev;
}

static void list_push(struct frames *fr, unsigned k, uint32_t i)
{
	fr->rec[i].prev = FRAME_NONE;
	fr->rec[i].next = fr->free_head[k];
	if (fr->free_head[k] != FRAME_NONE)
		fr->rec[fr->free_head[k]].prev = i;
	fr->free_head[k] = i;
}

/* The head of a free block of order >= 1; *order is its order. */
static uint32_t big_free_block(struct frames *fr, unsigned *order)
{
	for (unsigned k = 1; k < FRAME_ORDERS; k++) {
		if (fr->free_head[k] != FRAME_NONE) {
			*order = k;
			return fr->free_head[k];
		}
	}
	fail_msg("no free block of order >= 1");
	return FRAME_NONE;
}

/* The head of any free block. */
static uint32_t any_free_block(struct frames *fr, unsigned *order)
{
	for (unsigned k = 0; k < FRAME_ORDERS; k++) {
		if (fr->free_head[k] != FRAME_NONE) {
			*order = k;
			return fr->free_head[k];
		}
	}
	fail_msg("no free block");
	return FRAME_NONE;
}

/* ============================================================ frames */

/* A free list holds only free heads of its own order. */
static void free_lists_hold_free_heads_of_their_order(void **state)
{
	struct twin *t = *state;
	unsigned k;

	touched(t);
	frames_in(t)->rec[any_free_block(frames_in(t), &k)].kind = FRAME_DATA;
	assert_broken(t, "is data, head 1");
}

/* A free block of order k starts at a multiple of 2^k. */
static void free_blocks_are_aligned_to_their_size(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = big_free_block(fr, &k);

	list_unlink(fr, k, i);
	fr->rec[i + 1].flags = fr->rec[i].flags;
	fr->rec[i + 1].order = (uint8_t)k;
	fr->rec[i].flags &= (uint8_t)~FRAME_HEAD;
	list_push(fr, k, i + 1);
	assert_broken(t, "misaligned or past the end");
}

/* Two free buddies of equal order always merge. */
static void free_buddies_are_merged(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = big_free_block(fr, &k), half = 1u << (k - 1);

	list_unlink(fr, k, i);
	fr->rec[i].order = (uint8_t)(k - 1);
	fr->rec[i + half].flags |= FRAME_HEAD | (fr->rec[i].flags & FRAME_CONTENTS);
	fr->rec[i + half].order = (uint8_t)(k - 1);
	list_push(fr, k - 1, i);
	list_push(fr, k - 1, i + half);
	assert_broken(t, "both free at order");
}

/* In debug mode every free block is known zero, poisoned, or fresh from boot. */
static void debug_free_blocks_are_zeroed_or_poisoned(void **state)
{
	struct twin *t = *state;
	unsigned k;

	touched(t);
	frames_in(t)->rec[any_free_block(frames_in(t), &k)].flags &=
		(uint8_t)~FRAME_CONTENTS;
	assert_broken(t, "neither zeroed nor poisoned");
}

/* No frame is in two free blocks. */
static void no_frame_is_in_two_free_blocks(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = big_free_block(fr, &k);

	fr->rec[i + 1].flags |= FRAME_HEAD;
	fr->rec[i + 1].order = 0;
	list_push(fr, 0, i + 1);
	assert_broken(t, "in two free blocks");
}

/* Every frame of a free block is free, and only the first is a head. */
static void free_blocks_are_free_throughout(void **state)
{
	struct twin *t = *state;
	unsigned k;
	uint32_t i = big_free_block(frames_in(t), &k);

	frames_in(t)->rec[i + 1].kind = FRAME_DATA;
	assert_broken(t, "inner frame");
}

/* Free-list links stay inside the record array. */
static void free_list_links_stay_in_range(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = any_free_block(fr, &k);

	while (fr->rec[i].next != FRAME_NONE)
		i = fr->rec[i].next;
	fr->rec[i].next = fr->nframes + 5;
	assert_broken(t, "out of range or cycle");
}

/* Each free-list back link names the previous block. */
static void free_list_back_links_match(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = any_free_block(fr, &k);

	fr->rec[i].prev = i;
	assert_broken(t, "back link");
}

/* A record's kind is one of the kinds. */
static void records_have_a_known_kind(void **state)
{
	struct twin *t = *state;

	touched(t);
	data_rec(t)->kind = 7;
	assert_broken(t, ": kind 7");
}

/* A free frame is on a free list. */
static void free_frames_are_on_a_free_list(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	unsigned k;
	uint32_t i = any_free_block(fr, &k);

	list_unlink(fr, k, i);
	assert_broken(t, "free but on no free list");
}

/* Between operations no block waits on a frame list (a TLB gather). */
static void no_block_is_left_on_a_frame_list(void **state)
{
	struct twin *t = *state;

	touched(t);
	data_rec(t)->flags |= FRAME_LISTED;
	assert_broken(t, "still on a frame list");
}

/* Frame 0 is never handed out. */
static void frame_zero_is_reserved(void **state)
{
	struct twin *t = *state;

	frames_in(t)->rec[0].kind = FRAME_DATA;
	assert_broken(t, "should be reserved");
}

/* The record array's own frames are metadata. */
static void record_array_frames_are_meta(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);

	frame_of(fr, fr->meta_pa)->kind = FRAME_TABLE;
	assert_broken(t, "should be meta");
}

/* An allocated block starts with its head. */
static void allocated_blocks_start_with_a_head(void **state)
{
	struct twin *t = *state;

	touched(t);
	data_rec(t)->flags &= (uint8_t)~FRAME_HEAD;
	assert_broken(t, "not the head of a block");
}

/* Every frame of an allocated block has the block's kind and no head. */
static void allocated_blocks_are_whole(void **state)
{
	struct twin *t = *state;

	touched(t);
	data_rec(t)->order = 1;
	assert_broken(t, "breaks it");
}

/* nfree equals the free lists and the records. */
static void free_counter_matches_the_lists(void **state)
{
	struct twin *t = *state;

	frames_in(t)->nfree++;
	assert_broken(t, "free frames: counter");
}

/* nzeroed equals the frames of ZEROED free blocks. */
static void zeroed_counter_matches_the_lists(void **state)
{
	struct twin *t = *state;

	frames_in(t)->nzeroed++;
	assert_broken(t, "zeroed free frames");
}

/* used[kind] equals the records of that kind. */
static void kind_counters_match_the_records(void **state)
{
	struct twin *t = *state;

	touched(t);
	frames_in(t)->used[FRAME_TABLE]++;
	assert_broken(t, "table frames: counter says");
}

/* Promised frames are free frames. */
static void promised_frames_are_free(void **state)
{
	struct twin *t = *state;

	frames_in(t)->promised = frames_in(t)->nfree + 1;
	assert_broken(t, "> free");
}

/* usable = free + used. */
static void usable_is_free_plus_used(void **state)
{
	struct twin *t = *state;

	frames_in(t)->usable++;
	assert_broken(t, "usable");
}

/* ============================================================ page tables */

/* A leaf points at a frame of ours. */
static void leaves_point_at_our_frames(void **state)
{
	struct twin *t = *state;
	uint64_t *e;

	touched(t);
	e = pte_at_va(t, BASE);
	*e = (*e & ~PTE_FRAME_MASK) | (1ull << 40);
	assert_broken(t, "not a frame of ours");
}

/* A leaf's frame is a data frame (an entry's kind and order match). */
static void leaves_point_at_data_frames(void **state)
{
	struct twin *t = *state;
	uint64_t *e;

	touched(t);
	e = pte_at_va(t, BASE);
	*e = (*e & ~PTE_FRAME_MASK) | pt_of(t, BASE);
	assert_broken(t, "expected data order 0");
}

/* Every frame is owned by at most one entry. */
static void no_frame_is_owned_twice(void **state)
{
	struct twin *t = *state;
	uint64_t *e0, *e1;

	touched(t);
	e0 = pte_at_va(t, BASE);
	e1 = pte_at_va(t, BASE + PG);
	*e1 = (*e1 & ~PTE_FRAME_MASK) | pte_frame(*e0);
	assert_broken(t, "owned twice");
}

/* A leaf is in one of the four states. */
static void leaves_are_in_a_valid_state(void **state)
{
	struct twin *t = *state;

	touched(t);
	*pte_at_va(t, BASE) &= ~PTE_COMMITTED;
	assert_broken(t, "no valid state");
}

/* A present leaf's hardware bits are those of its stored protection. */
static void hardware_bits_agree_with_the_protection(void **state)
{
	struct twin *t = *state;

	touched(t);
	*pte_at_va(t, BASE) ^= RW_NOT_RO;
	assert_broken(t, "hardware bits disagree");
}

/* Only NOACCESS and GUARD pages are parked (not present, frame kept). */
static void only_inaccessible_pages_are_parked(void **state)
{
	struct twin *t = *state;

	touched(t);
	*pte_at_va(t, BASE) &= ~PTE_P;
	assert_broken(t, "parked under accessible protection");
}

/* A leaf has no bits outside its state's. */
static void leaves_have_no_stray_bits(void **state)
{
	struct twin *t = *state;

	touched(t);
	*pte_at_va(t, BASE) |= STRAY;
	assert_broken(t, "stray bits");
}

/* A 2 MiB entry is present with the bits of its protection. */
static void large_entries_have_the_bits_of_their_protection(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, LP, RC | MEM_LARGE_PAGES, RW);

	assert_clean(t);
	*entry_at(t, p, 2) ^= RW_NOT_RO;
	assert_broken(t, "bad state or bits");
}

/* A 2 MiB entry maps a 2 MiB-aligned block. */
static void large_entries_are_2mib_aligned(void **state)
{
	struct twin *t = *state;
	uint64_t p = alloc_ok(t, 0, LP, RC | MEM_LARGE_PAGES, RW);

	assert_clean(t);
	*entry_at(t, p, 2) += PG;
	assert_broken(t, "not 2 MiB aligned");
}

/* Table entries are plain: the leaf alone decides access. */
static void table_entries_are_plain(void **state)
{
	struct twin *t = *state;

	touched(t);
	*entry_at(t, BASE, 2) |= 1ull << 63;   /* x86 NX, AArch64 NSTable */
	assert_broken(t, "not a table entry");
}

/* A table's count is its number of non-zero entries. */
static void table_counts_match_their_entries(void **state)
{
	struct twin *t = *state;

	touched(t);
	rec_of(t, pt_of(t, BASE))->count++;
	assert_broken(t, "non-zero entries");
}

/* A table whose last entry goes is freed at once, unless a decommit kept
 * it (the next test): no other empty table below the root. */
static void empty_page_tables_are_freed(void **state)
{
	struct twin *t = *state;
	uint64_t pt;

	alloc_ok(t, BASE, PG, RC, RW);
	assert_clean(t);
	pt = pt_of(t, BASE);
	*pte_at_va(t, BASE) = 0;
	rec_of(t, pt)->count = 0;
	assert_broken(t, "is empty but not freed");
}

/* A decommit keeps the PT it empties (pagetable.c, theory 9): marked, and
 * counted; a count that disagrees is caught, and (next) a mark on a table
 * with entries. */
static void only_empty_page_tables_are_kept(void **state)
{
	struct twin *t = *state;
	uint64_t pt;

	alloc_ok(t, BASE, PG, RC, RW);
	free_ok(t, BASE, PG, MEM_DECOMMIT);
	assert_clean(t);
	pt = pt_of(t, BASE);
	assert_true(rec_of(t, pt)->kept);
	hm_in(t)->pt.kept++;
	assert_broken(t, "kept PTs 2, found 1");
}

static void a_page_table_with_entries_is_not_kept(void **state)
{
	struct twin *t = *state;
	uint64_t pt;

	alloc_ok(t, BASE, PG, RC, RW);
	free_ok(t, BASE, PG, MEM_DECOMMIT);
	commit_ok(t, BASE, PG, RW);
	assert_clean(t);
	pt = pt_of(t, BASE);
	assert_false(rec_of(t, pt)->kept);
	rec_of(t, pt)->kept = 1;
	hm_in(t)->pt.kept++;
	assert_broken(t, "with 1 entries is marked kept");
}

/* A kept PT serves a live reservation: once the reservation has gone (here
 * without its release's prune), it is an empty table too many. */
static void kept_page_tables_map_a_live_reservation(void **state)
{
	struct twin *t = *state;
	struct hm *hm = hm_in(t);
	struct resv *r;

	alloc_ok(t, BASE, PG, RC, RW);
	free_ok(t, BASE, PG, MEM_DECOMMIT);
	assert_clean(t);
	r = resv_find(&hm->resv, BASE);
	resv_remove(&hm->resv, r);
	slab_free(&hm->nodes, r);
	assert_broken(t, "maps no live reservation");
}

/* An owned root is a table frame. */
static void an_owned_root_is_a_table_frame(void **state)
{
	struct twin *t = *state;
	struct hm *hm = hm_in(t);

	rec_of(t, hm->pt.root)->kind = FRAME_META;
	hm->frames.used[FRAME_TABLE]--;
	hm->frames.used[FRAME_META]++;
	assert_broken(t, "owned root");
}

/* The descend hint names the PT linked for its region: a stale one would
 * send a walk into a freed table. */
static void the_descend_hint_names_a_linked_table(void **state)
{
	struct twin *t = *state;
	struct hm *hm = hm_in(t);

	touched(t);
	hm->pt.hint_pt = pt_of(t, BASE);
	hm->pt.hint_region = (BASE >> PT_LARGE_SHIFT) + 1;
	assert_broken(t, "page-table hint");
}

/* ------------------------------------------------------------ the walk in use
 * verify_manager_in_use (inside every call in tests) proves ownership by
 * counting instead of walking every record: each corruption below is one it
 * must still see. */

/* verify_manager_in_use fails, and its report contains what. */
static void broken_in_use(struct twin *t, const char *what)
{
	char why[256] = "";

	assert_false(verify_manager_in_use(hm_in(t), why, sizeof why));
	print_message("# expected: verify in use: %s\n", why);
	assert_non_null(strstr(why, what));
}

/* A data frame allocated and mapped by no PTE. */
static void in_use_a_leaked_data_frame_is_found_by_count(void **state)
{
	struct twin *t = *state;
	uint64_t pa;

	touched(t);
	pa = frame_alloc(frames_in(t), 0, 0);
	broken_in_use(t, "data frames: 17 allocated, 16 mapped");
	frame_free(frames_in(t), pa, 0);
	assert_true(verify_manager_in_use(hm_in(t), 0, 0));
}

/* A table frame allocated and linked by no entry. */
static void in_use_a_leaked_table_is_found_by_count(void **state)
{
	struct twin *t = *state;
	uint64_t pa;

	touched(t);
	pa = frame_alloc(frames_in(t), 0, FRAME_ALLOC_TABLE | FRAME_ALLOC_ZERO);
	broken_in_use(t, "reached from a root");
	frame_free(frames_in(t), pa, 0);
	assert_true(verify_manager_in_use(hm_in(t), 0, 0));
}

/* Two PTEs on one frame: the second is met marked. */
static void in_use_a_frame_mapped_twice_is_owned_twice(void **state)
{
	struct twin *t = *state;
	uint64_t *a, *b, saved;

	touched(t);
	a = pte_at_va(t, BASE);
	b = pte_at_va(t, BASE + PG);
	saved = *b;
	*b = (*b & ~PTE_FRAME_MASK) | pte_frame(*a);
	broken_in_use(t, "owned twice");
	*b = saved;
	assert_true(verify_manager_in_use(hm_in(t), 0, 0));   /* and left no mark behind */
}

/* Both walks leave every record unmarked, failed or not. */
static void verify_leaves_no_mark(void **state)
{
	struct twin *t = *state;
	struct frames *fr = frames_in(t);
	char why[128];

	touched(t);
	assert_true(verify_manager_in_use(hm_in(t), why, sizeof why));
	assert_true(verify_manager(hm_in(t), why, sizeof why));
	fr->nfree++;
	assert_false(verify_manager(hm_in(t), why, sizeof why));
	fr->nfree--;
	for (uint32_t i = 0; i < fr->nframes; i++)
		assert_false(fr->rec[i].flags & FRAME_MARK);
}

/* ntables counts the tables below the root. */
static void ntables_counts_the_tables(void **state)
{
	struct twin *t = *state;

	touched(t);
	hm_in(t)->pt.ntables++;
	assert_broken(t, "ntables");
}

/* Every table and data frame is owned by some entry. */
static void no_frame_is_leaked(void **state)
{
	struct twin *t = *state;

	assert_true(frame_alloc(frames_in(t), 0, 0) != 0);
	assert_broken(t, "owned by no entry: leaked");
}

/* ============================================================ the manager's books */

/* charge == committed PTEs. */
static void the_charge_is_the_committed_pages(void **state)
{
	struct twin *t = *state;

	touched(t);
	hm_in(t)->charge++;
	assert_broken(t, "commit charge");
}

/* promised == demand-zero PTEs. */
static void promises_are_the_demand_zero_pages(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, RW);
	assert_clean(t);
	frames_in(t)->promised--;
	assert_broken(t, "demand-zero PTEs");
}

/* One node per reservation: nodes are neither leaked nor shared. */
static void reservation_nodes_match_the_reservations(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, MEM_RESERVE, RW);
	hm_in(t)->nodes.in_use++;
	assert_broken(t, "reservation nodes in use");
}

/* Moves the PTE of from to to, in the same page table (counts unchanged). */
static void move_pte(struct twin *t, uint64_t from, uint64_t to)
{
	uint64_t *a = pte_at_va(t, from), *b = pte_at_va(t, to);

	assert_int_equal(*b, 0);
	*b = *a;
	*a = 0;
}

/* No page state below 0x10000 (or above the limit). */
static void page_state_is_inside_the_managed_range(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, VA_FIRST, PG, RC, RW);
	assert_clean(t);
	move_pte(t, VA_FIRST, 0);
	assert_broken(t, "outside the managed range");
}

/* No page state outside a reservation. */
static void page_state_is_inside_a_reservation(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, RW);
	assert_clean(t);
	move_pte(t, BASE, BASE + 3 * GR);
	assert_broken(t, "in no reservation");
}

/* No page state in space the runtime acquired. */
static void page_state_is_not_in_acquired_space(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, PG, RC, RW);
	assert_hr(S_OK, IHostMemoryManager_AcquiredVirtualAddressSpace(t->m, VA(BASE + 8 * GR), GR));
	assert_clean(t);
	move_pte(t, BASE, BASE + 8 * GR);
	assert_broken(t, "acquired");
}

/* ============================================================ the reservation tree */

/* Three reservations in a row at BASE, BASE + 2G, BASE + 4G, 1 page each:
 * the tree is their middle one with the other two as children. */
static struct resv_tree *three_reservations(struct twin *t)
{
	for (int i = 0; i < 3; i++)
		alloc_ok(t, BASE + 2 * GR * (uint64_t)i, PG, MEM_RESERVE, RW);
	assert_clean(t);
	assert_int_equal(hm_in(t)->resv.root->base, BASE + 2 * GR);
	return &hm_in(t)->resv;
}

/* The managed range is G-aligned and not inverted. */
static void tree_range_is_sound(void **state)
{
	struct twin *t = *state;

	hm_in(t)->resv.lo += PG;
	assert_broken(t, "range: lo");
}

/* The tree is no deeper than any AVL tree can be (a cycle would be). */
static void tree_depth_is_bounded(void **state)
{
	static struct resv chain[100];
	struct twin *t = *state;
	struct resv_tree *tree = &hm_in(t)->resv;

	for (int i = 0; i < 100; i++)
		chain[i] = (struct resv){
			.base = BASE + GR * (uint64_t)i, .end = BASE + GR * (uint64_t)i + PG,
			.parent = i ? &chain[i - 1] : NULL, .child = { NULL, i < 99 ? &chain[i + 1] : NULL },
			.height = (uint8_t)(100 - i),
		};
	tree->root = chain;
	tree->count = 100;
	assert_broken(t, "exceeds any AVL tree's");
}

/* Each node's parent link names its parent. */
static void tree_parent_links_match(void **state)
{
	struct twin *t = *state;
	struct resv_tree *tree = three_reservations(t);

	tree->root->child[1]->parent = tree->root->child[1];
	assert_broken(t, "parent link");
}

/* The lookup hint is a node of the tree. */
static void tree_hint_is_a_node_of_the_tree(void **state)
{
	struct twin *t = *state;
	static struct resv stray = { .base = BASE + 64 * GR, .end = BASE + 65 * GR };

	three_reservations(t)->hint = &stray;
	assert_broken(t, "is not a node of the tree");
}

/* Reservations start at a multiple of G. */
static void reservations_start_on_the_granularity(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->root->base += PG;
	assert_broken(t, "is not a multiple of 0x10000");
}

/* A reservation is not empty. */
static void reservations_end_above_their_base(void **state)
{
	struct twin *t = *state;
	struct resv *r = three_reservations(t)->root;

	r->end = r->base;
	assert_broken(t, "is not above base");
}

/* Reservations end on a page boundary. */
static void reservations_end_on_a_page(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->root->end += 1;
	assert_broken(t, "is not a multiple of 0x1000");
}

/* Reservations lie inside the managed range: not below it... */
static void reservations_are_not_below_the_range(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->lo = BASE + GR;
	assert_broken(t, "is below lo");
}

/* ...nor above it. */
static void reservations_are_not_above_the_range(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->hi = BASE + 4 * GR;
	assert_broken(t, "is above hi");
}

/* The tree holds no more nodes than its count... */
static void tree_holds_no_more_than_its_count(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->count--;
	assert_broken(t, "exceed count");
}

/* ...and no fewer. */
static void tree_holds_all_of_its_count(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->count++;
	assert_broken(t, "differ from count");
}

/* In-order is increasing base order. */
static void tree_is_ordered_by_base(void **state)
{
	struct twin *t = *state;
	struct resv *lo = three_reservations(t)->root->child[0];
	struct resv *hi = hm_in(t)->resv.root->child[1];
	uint64_t base = lo->base, end = lo->end;

	lo->base = hi->base;
	lo->end = hi->end;
	hi->base = base;
	hi->end = end;
	assert_broken(t, "is out of order");
}

/* Reservations do not overlap (blocks included). */
static void reservations_do_not_overlap(void **state)
{
	struct twin *t = *state;
	struct resv *r = three_reservations(t)->root;

	r->child[0]->end = r->base + PG;
	assert_broken(t, "is inside the blocks");
}

/* Each node's height is one more than its taller child's. */
static void tree_heights_are_right(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->root->child[0]->height++;
	assert_broken(t, ": height ");
}

/* The tree is AVL-balanced. */
static void tree_is_balanced(void **state)
{
	struct twin *t = *state;
	struct resv_tree *tree = three_reservations(t);
	struct resv *b = tree->root, *a = b->child[0], *c = b->child[1];

	/* a -> b -> c, a chain to the right with heights consistent. */
	tree->root = a;
	a->parent = NULL;
	a->child[1] = b;
	a->height = 3;
	b->parent = a;
	b->child[0] = NULL;
	b->height = 2;
	assert_ptr_equal(c->parent, b);
	assert_broken(t, "unbalanced");
}

/* Each node's gap is the free blocks just below it. */
static void tree_gaps_are_right(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->root->gap++;
	assert_broken(t, "gap (blocks)");
}

/* Each node's max_gap is the largest gap in its subtree. */
static void tree_max_gaps_are_right(void **state)
{
	struct twin *t = *state;

	three_reservations(t)->root->max_gap++;
	assert_broken(t, "max_gap (blocks)");
}

/* ============================================================ IHostMalloc */

static IHostMalloc *allocator(struct twin *t)
{
	IHostMalloc *a = 0;

	assert_hr(S_OK, IHostMemoryManager_CreateMalloc(t->m, MALLOC_THREADSAFE, &a));
	return a;
}

static uint64_t block(IHostMalloc *a, SIZE_T size)
{
	void *p = 0;

	assert_hr(S_OK, IHostMalloc_Alloc(a, size, eTaskCritical, &p));
	return (uint64_t)(uintptr_t)p;
}

static uint64_t debug_block(IHostMalloc *a, SIZE_T size)
{
	void *p = 0;

	assert_hr(S_OK, IHostMalloc_DebugAlloc(a, size, eTaskCritical, "v.c", 1, &p));
	return (uint64_t)(uintptr_t)p;
}

static struct chunk *chunk_at(IHostMalloc *a, uint64_t p)
{
	struct resv *n = resv_find(&hmalloc_of(a)->chunks, p);

	assert_non_null(n);
	return chunk_of(n);
}

/* An allocator with one chunk of 16-byte blocks, n of them in use. */
static struct chunk *small_chunk(struct twin *t, IHostMalloc **out, unsigned n)
{
	IHostMalloc *a = allocator(t);
	uint64_t p = block(a, 16);

	for (unsigned i = 1; i < n; i++)
		block(a, 16);
	assert_clean(t);
	*out = a;
	return chunk_at(a, p);
}

/* The chunks are a sound reservation tree of the allocator's own. */
static void malloc_chunk_tree_is_sound(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	small_chunk(t, &a, 1);
	hmalloc_of(a)->chunks.count++;
	assert_broken(t, "chunk tree: ");
}

/* A chunk's class is one of the eight, or LARGE. */
static void malloc_chunks_have_a_size_class(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	small_chunk(t, &a, 1)->cls = 9;
	assert_broken(t, "size class 9");
}

/* A small chunk spans 256 blocks of its class. */
static void malloc_chunks_span_256_blocks_of_their_class(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	small_chunk(t, &a, 1)->cls = 1;
	assert_broken(t, "bytes for class 1");
}

/* A chunk's used count is the blocks its bitmap marks. */
static void malloc_chunk_used_counts_its_bitmap(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	small_chunk(t, &a, 2)->used++;
	assert_broken(t, "used 3, bitmap 2");
}

/* A chunk whose last block is freed is released at once. */
static void malloc_empty_chunks_are_released(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	struct chunk *c = small_chunk(t, &a, 1);

	c->used = 0;
	c->bitmap[0] = 0;
	assert_broken(t, "empty but not released");
}

/* A large chunk is one block: used 1, nothing in its bitmap. */
static void malloc_large_chunks_hold_one_block(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);

	chunk_at(a, block(a, 3 * PG))->used = 2;
	assert_broken(t, "large chunk");
}

/* Every chunk is exactly a reservation of the manager... */
static void malloc_chunks_are_reservations_of_the_manager(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);
	uint64_t p = block(a, 3 * PG);

	hostmem_set_verify_each(t->m, false);
	assert_hr(S_OK, IHostMemoryManager_VirtualFree(t->m, VA(p), 0, MEM_RELEASE));
	assert_broken(t, "not a reservation of the manager");
}

/* ...committed whole. */
static void malloc_chunks_are_committed_whole(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);
	uint64_t p = block(a, 3 * PG);

	hostmem_set_verify_each(t->m, false);
	assert_hr(S_OK, IHostMemoryManager_VirtualFree(t->m, VA(p + PG), PG, MEM_DECOMMIT));
	assert_broken(t, "2 of 3 pages committed");
}

/* Partial-list back links name the previous chunk. */
static void malloc_partial_list_back_links_match(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	struct chunk *c = small_chunk(t, &a, 1);

	c->prev = c;
	assert_broken(t, "back link");
}

/* A partial list holds chunks of the allocator's tree. */
static void malloc_partial_lists_hold_chunks_of_the_tree(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	struct chunk *c = small_chunk(t, &a, 1);

	resv_remove(&hmalloc_of(a)->chunks, &c->node);
	assert_broken(t, "is not in the tree");
}

/* A partial list holds chunks of its own class... */
static void malloc_partial_lists_hold_chunks_of_their_class(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	struct chunk *c = small_chunk(t, &a, 1);

	hmalloc_of(a)->partial[0] = 0;
	hmalloc_of(a)->partial[1] = c;
	assert_broken(t, "partial list 1: chunk");
}

/* ...and no full chunk. */
static void malloc_partial_lists_hold_no_full_chunk(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	struct chunk *c = small_chunk(t, &a, CLASS_BLOCKS);

	assert_null(hmalloc_of(a)->partial[0]);
	hmalloc_of(a)->partial[0] = c;
	assert_broken(t, "with 256 used");
}

/* Every chunk with a free block is on its partial list, so the block is
 * found again (a block freed from a full chunk puts it back there). */
static void malloc_chunks_with_a_free_block_are_listed(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	small_chunk(t, &a, 1);
	hmalloc_of(a)->partial[0] = 0;
	assert_broken(t, "1 chunks have a free block, 0 are on partial lists");
}

/* The debug records are no more than ndebug (a cycle stops here)... */
static void malloc_debug_records_are_no_more_than_counted(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);

	debug_block(a, 16);
	hmalloc_of(a)->ndebug--;
	assert_broken(t, "more than ndebug");
}

/* ...and no fewer. */
static void malloc_debug_records_are_as_many_as_counted(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);

	debug_block(a, 16);
	hmalloc_of(a)->ndebug++;
	assert_broken(t, "debug records 1 != ndebug 2");
}

/* A debug record names a live block of its allocator. */
static void malloc_debug_records_name_live_blocks(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = allocator(t);

	debug_block(a, 16);
	hmalloc_of(a)->debug->p += 16;
	assert_broken(t, "not a live block");
}

/* The manager's list of allocators is well linked and theirs. */
static void malloc_allocator_list_is_well_linked(void **state)
{
	struct twin *t = *state;

	allocator(t);
	allocator(t);
	hm_in(t)->mallocs->next->prev = hm_in(t)->mallocs->next;
	assert_broken(t, "allocator list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(free_lists_hold_free_heads_of_their_order),
		T(free_blocks_are_aligned_to_their_size),
		T(free_buddies_are_merged),
		D(debug_free_blocks_are_zeroed_or_poisoned),
		T(no_frame_is_in_two_free_blocks),
		T(free_blocks_are_free_throughout),
		T(free_list_links_stay_in_range),
		T(free_list_back_links_match),
		T(records_have_a_known_kind),
		T(free_frames_are_on_a_free_list),
		T(no_block_is_left_on_a_frame_list),
		T(frame_zero_is_reserved),
		T(record_array_frames_are_meta),
		T(allocated_blocks_start_with_a_head),
		T(allocated_blocks_are_whole),
		T(free_counter_matches_the_lists),
		T(zeroed_counter_matches_the_lists),
		T(kind_counters_match_the_records),
		T(promised_frames_are_free),
		T(usable_is_free_plus_used),

		T(leaves_point_at_our_frames),
		T(leaves_point_at_data_frames),
		T(no_frame_is_owned_twice),
		T(leaves_are_in_a_valid_state),
		T(hardware_bits_agree_with_the_protection),
		T(only_inaccessible_pages_are_parked),
		T(leaves_have_no_stray_bits),
		T(large_entries_have_the_bits_of_their_protection),
		T(large_entries_are_2mib_aligned),
		T(table_entries_are_plain),
		T(table_counts_match_their_entries),
		T(empty_page_tables_are_freed),
		T(only_empty_page_tables_are_kept),
		T(a_page_table_with_entries_is_not_kept),
		T(kept_page_tables_map_a_live_reservation),
		T(an_owned_root_is_a_table_frame),
		T(ntables_counts_the_tables),
		T(the_descend_hint_names_a_linked_table),
		T(in_use_a_leaked_data_frame_is_found_by_count),
		T(in_use_a_leaked_table_is_found_by_count),
		T(in_use_a_frame_mapped_twice_is_owned_twice),
		T(verify_leaves_no_mark),
		T(no_frame_is_leaked),

		T(the_charge_is_the_committed_pages),
		T(promises_are_the_demand_zero_pages),
		T(reservation_nodes_match_the_reservations),
		T(page_state_is_inside_the_managed_range),
		T(page_state_is_inside_a_reservation),
		T(page_state_is_not_in_acquired_space),

		T(tree_range_is_sound),
		T(tree_depth_is_bounded),
		T(tree_parent_links_match),
		T(tree_hint_is_a_node_of_the_tree),
		T(reservations_start_on_the_granularity),
		T(reservations_end_above_their_base),
		T(reservations_end_on_a_page),
		T(reservations_are_not_below_the_range),
		T(reservations_are_not_above_the_range),
		T(tree_holds_no_more_than_its_count),
		T(tree_holds_all_of_its_count),
		T(tree_is_ordered_by_base),
		T(reservations_do_not_overlap),
		T(tree_heights_are_right),
		T(tree_is_balanced),
		T(tree_gaps_are_right),
		T(tree_max_gaps_are_right),

		T(malloc_chunk_tree_is_sound),
		T(malloc_chunks_have_a_size_class),
		T(malloc_chunks_span_256_blocks_of_their_class),
		T(malloc_chunk_used_counts_its_bitmap),
		T(malloc_empty_chunks_are_released),
		T(malloc_large_chunks_hold_one_block),
		T(malloc_chunks_are_reservations_of_the_manager),
		T(malloc_chunks_are_committed_whole),
		T(malloc_partial_list_back_links_match),
		T(malloc_partial_lists_hold_chunks_of_the_tree),
		T(malloc_partial_lists_hold_chunks_of_their_class),
		T(malloc_partial_lists_hold_no_full_chunk),
		T(malloc_chunks_with_a_free_block_are_listed),
		T(malloc_debug_records_are_no_more_than_counted),
		T(malloc_debug_records_are_as_many_as_counted),
		T(malloc_debug_records_name_live_blocks),
		T(malloc_allocator_list_is_well_linked),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
