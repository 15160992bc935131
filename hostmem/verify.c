/*
 * verify.c - walk everything, trust nothing, report the first lie.
 *
 * Theory: every structure in hostmem is described twice - a frame's kind is
 * in its record and implied by the entry pointing at it; a table's count is
 * stored and equals its non-zero entries; the counters are stored and equal
 * a census of the records.  verify recomputes the second description from
 * scratch and compares.  Ownership ("exactly once") uses the FRAME_MARK bit:
 * clear all marks, mark each frame when its owner is found, a frame met
 * marked is owned twice, an allocated frame left unmarked is owned by no one
 * (leaked).  Free lists are walked with a step bound of nframes, so a cycle
 * is reported instead of looping.
 *
 * verify_manager adds the manager's own books: the commit charge equals
 * the committed PTEs, promised frames equal the demand-zero PTEs, resident
 * pages equal the data frames, the reservation tree is sound, no page
 * state exists outside a reservation; and IHostMalloc's chunks and lists
 * (hmalloc_verify, malloc.c).
 *
 * Two depths.  The full walk (verify_manager, hostmem_verify) checks every
 * frame record: O(frames + table entries + reservations).  The walk in use
 * (verify_manager_in_use, run inside every call in tests) skips what costs
 * O(RAM) and proves the same ownership by counting: free blocks are checked
 * by their heads only, the page-table walk marks each table and data frame
 * it reaches (a frame met marked is owned twice), and the frames it reached
 * must add up to the allocator's used[TABLE] and used[DATA], so none is
 * owned by no one; then the same walk clears its marks.  Its cost follows
 * what is mapped and reserved, not the size of RAM.  Between verifies no
 * record carries FRAME_MARK.
 *
 * Reports stop at the first broken invariant: later ones are usually its
 * consequences.  Nothing is allocated.
 */
#include "verify.h"
#include "format.h"
#include "hm.h"

#include <stdarg.h>

struct report {
	char *buf;
	size_t len;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->failed && r->len > 0) {
		va_start(ap, fmt);
		hm_vsnprintf(r->buf, r->len, fmt, ap);
		va_end(ap);
	}
	r->failed = true;
	return false;
}

typedef unsigned long long ull;

static const char *const kind_name[FRAME_KINDS] = {
	"reserved", "free", "table", "data", "meta", "zeroing",
};

static void marks_clear(struct frames *fr)
{
	for (uint32_t i = 0; i < fr->nframes; i++)
		fr->rec[i].flags &= (uint8_t)~FRAME_MARK;
}

/* ------------------------------------------------------------ free lists */

static bool check_free_block(struct frames *fr, struct report *r, uint32_t idx, unsigned k,
                             bool in_use)
{
	const struct frame *h = &fr->rec[idx];
	uint8_t state = h->flags & FRAME_CONTENTS;

	if (h->kind != FRAME_FREE || !(h->flags & FRAME_HEAD) || h->order != k)
		return fail(r, "free list %u: frame 0x%llx is %s, head %d, order %u", k,
		            (ull)frame_pa(idx), kind_name[h->kind], !!(h->flags & FRAME_HEAD), h->order);
	if ((idx & ((1u << k) - 1)) || idx + (1u << k) > fr->nframes)
		return fail(r, "free list %u: block 0x%llx misaligned or past the end", k,
		            (ull)frame_pa(idx));
	if (k < FRAME_MAX_ORDER) {
		const struct frame *b = &fr->rec[idx ^ (1u << k)];

		if (b->kind == FRAME_FREE && (b->flags & FRAME_HEAD) && b->order == k)
			return fail(r, "free blocks 0x%llx and buddy 0x%llx both free at order %u",
			            (ull)frame_pa(idx), (ull)frame_pa(idx ^ (1u << k)), k);
	}
	if (fr->debug && state != FRAME_ZEROED && state != FRAME_POISONED && state != FRAME_FRESH)
		return fail(r, "debug: free block 0x%llx neither zeroed nor poisoned", (ull)frame_pa(idx));
	if (in_use)
		return true;   /* the inner records are the full walk's */
	for (uint32_t i = idx; i < idx + (1u << k); i++) {
		const struct frame *f = &fr->rec[i];

		if (f->flags & FRAME_MARK)
			return fail(r, "frame 0x%llx in two free blocks", (ull)frame_pa(i));
		if (i != idx && (f->kind != FRAME_FREE || (f->flags & (FRAME_HEAD | FRAME_ZERO_LIST))))
			return fail(r, "free block 0x%llx order %u: inner frame 0x%llx is %s%s", (ull)frame_pa(idx),
			            k, (ull)frame_pa(i), kind_name[f->kind], (f->flags & FRAME_HEAD) ? " head" : "");
		fr->rec[i].flags |= FRAME_MARK;
	}
	return true;
}

/* Walks free_head[k]; adds the frames (and zeroed frames) it holds. */
static bool check_free_list(struct frames *fr, struct report *r, unsigned k, bool in_use,
                            size_t *nfree, size_t *nzeroed)
{
	uint32_t prev = FRAME_NONE, steps = 0;

	for (uint32_t i = fr->free_head[k]; i != FRAME_NONE; prev = i, i = fr->rec[i].next) {
		if (i >= fr->nframes || ++steps > fr->nframes)
			return fail(r, "free list %u: link %u out of range or cycle", k, i);
		if (fr->rec[i].prev != prev)
			return fail(r, "free list %u: frame 0x%llx back link %u, expected %u", k,
			            (ull)frame_pa(i), fr->rec[i].prev, prev);
		if (!check_free_block(fr, r, i, k, in_use))
			return false;
		*nfree += 1u << k;
		if (fr->rec[i].flags & FRAME_ZEROED)
			*nzeroed += 1u << k;
	}
	return true;
}

/* The zero lists (frame.c, theory 8): order-0 free frames, flagged, no
 * head, in no buddy block and on one list, as many as the counters say. */
static bool check_zero_list(struct frames *fr, struct report *r, bool in_use,
                            size_t *nfree, size_t *nzeroed)
{
	size_t total = 0;

	for (unsigned c = 0; c < FRAME_CPUS; c++) {
		size_t n = 0;

		for (uint32_t i = fr->zero_head[c]; i != FRAME_NONE; i = fr->rec[i].next) {
			const struct frame *f = &fr->rec[i];

			if (i >= fr->nframes || ++n > fr->nframes)
				return fail(r, "zero list %u: link %u out of range or cycle", c, i);
			if (f->kind != FRAME_FREE || (f->flags & FRAME_HEAD) ||
			    (f->flags & (FRAME_ZERO_LIST | FRAME_ZEROED)) != (FRAME_ZERO_LIST | FRAME_ZEROED))
				return fail(r, "zero list %u: frame 0x%llx is %s, flags 0x%x", c,
				            (ull)frame_pa(i), kind_name[f->kind], f->flags);
			if (in_use)
				continue;
			if (f->flags & FRAME_MARK)
				return fail(r, "frame 0x%llx on a zero list and in a free block or another list",
				            (ull)frame_pa(i));
			fr->rec[i].flags |= FRAME_MARK;
		}
		if (n != fr->nzero[c])
			return fail(r, "zero list %u: counter %zu, list %zu", c, fr->nzero[c], n);
		total += n;
	}
	if (total != fr->nzero_list)
		return fail(r, "zero lists: counter %zu, lists %zu", fr->nzero_list, total);
	*nfree += total;
	*nzeroed += total;
	return true;
}

/* ------------------------------------------------------------ records */

static bool in_meta_array(const struct frames *fr, uint32_t i)
{
	uint32_t first = (uint32_t)(fr->meta_pa >> FRAME_SHIFT);

	return i >= first && i < first + fr->meta_frames;
}

/* One record (the head of an allocated block checks its whole block);
 * returns how many records it covered, 0 on failure. */
static uint32_t check_record(struct frames *fr, struct report *r, uint32_t i, size_t *census)
{
	const struct frame *f = &fr->rec[i];
	uint32_t n = 1;

	if (f->kind >= FRAME_KINDS)
		return fail(r, "frame 0x%llx: kind %u", (ull)frame_pa(i), f->kind);
	if (f->kind == FRAME_FREE && !(f->flags & FRAME_MARK))
		return fail(r, "frame 0x%llx is free but on no free list", (ull)frame_pa(i));
	if (f->flags & FRAME_LISTED)
		return fail(r, "frame 0x%llx still on a frame list", (ull)frame_pa(i));
	if ((i == 0 || in_meta_array(fr, i)) && f->kind != (i ? FRAME_META : FRAME_RESERVED))
		return fail(r, "frame 0x%llx should be %s, is %s", (ull)frame_pa(i),
		            i ? "meta" : "reserved", kind_name[f->kind]);
	if (f->kind == FRAME_TABLE || f->kind == FRAME_DATA || f->kind == FRAME_ZEROING ||
	    (f->kind == FRAME_META && !in_meta_array(fr, i))) {
		if (!(f->flags & FRAME_HEAD) || f->order > FRAME_MAX_ORDER)
			return fail(r, "frame 0x%llx (%s) is not the head of a block", (ull)frame_pa(i),
			            kind_name[f->kind]);
		n = 1u << f->order;
		for (uint32_t j = i + 1; j < i + n; j++)
			if (j >= fr->nframes || fr->rec[j].kind != f->kind || (fr->rec[j].flags & FRAME_HEAD))
				return fail(r, "block 0x%llx order %u: frame 0x%llx breaks it",
				            (ull)frame_pa(i), f->order, (ull)frame_pa(j));
	}
	census[f->kind] += n;
	return n;
}

/* The free lists (heads only in use), adding up the frames they hold. */
static bool check_free_lists(struct frames *fr, struct report *r, bool in_use, size_t *nfree,
                             size_t *nzeroed)
{
	for (unsigned k = 0; k < FRAME_ORDERS; k++)
		if (!check_free_list(fr, r, k, in_use, nfree, nzeroed))
			return false;
	return check_zero_list(fr, r, in_use, nfree, nzeroed);
}

/* The counters against the lists and, in the full walk, the census of the
 * records (census NULL in use). */
static bool check_counters(struct frames *fr, struct report *r, const size_t *census,
                           size_t nfree, size_t nzeroed)
{
	size_t used = fr->used[FRAME_TABLE] + fr->used[FRAME_DATA] + fr->used[FRAME_META] +
	              fr->used[FRAME_ZEROING];

	if (fr->nfree != nfree || (census && census[FRAME_FREE] != nfree))
		return fail(r, "free frames: counter %zu, free lists %zu, records %zu",
		            fr->nfree, nfree, census ? census[FRAME_FREE] : nfree);
	if (fr->nzeroed != nzeroed)
		return fail(r, "zeroed free frames: counter %zu, free lists %zu", fr->nzeroed, nzeroed);
	for (unsigned k = FRAME_TABLE; census && k < FRAME_KINDS; k++) {
		size_t expect = fr->used[k] + (k == FRAME_META ? fr->meta_frames : 0);

		if (census[k] != expect)
			return fail(r, "%s frames: counter says %zu, records %zu", kind_name[k],
			            expect, census[k]);
	}
	if (fr->promised > fr->nfree)
		return fail(r, "promised %zu > free %zu", fr->promised, fr->nfree);
	if (fr->usable != fr->nfree + used)
		return fail(r, "usable %zu != free %zu + used %zu", fr->usable, fr->nfree, used);
	/* reserved = nframes - usable - meta_frames needs no check of its own:
	 * the census covers each record once, so it follows from the above. */
	return true;
}

bool verify_frames(struct frames *fr, char *why, size_t len)
{
	struct report r = { why, len, false };
	size_t nfree = 0, nzeroed = 0, census[FRAME_KINDS] = { 0 };
	bool ok;

	marks_clear(fr);
	ok = check_free_lists(fr, &r, false, &nfree, &nzeroed);
	for (uint32_t i = 0; ok && i < fr->nframes;) {
		uint32_t n = check_record(fr, &r, i, census);

		ok = n != 0;
		i += n;
	}
	ok = ok && check_counters(fr, &r, census, nfree, nzeroed);
	marks_clear(fr);
	return ok;
}

/* ------------------------------------------------------------ page tables */

struct walk {
	struct frames *fr;
	struct report *r;
	const struct pagetable *pt;
	size_t ntables, kept;
	size_t claimed[FRAME_KINDS];   /* frames reached, by kind */
};

static uint64_t *walk_entries(const struct walk *w, uint64_t pa)
{
	return (uint64_t *)(w->pt->plat->phys_base + pa);
}

/* pa is the head of a block of this kind and order, owned by no one yet. */
static bool claim(struct walk *w, uint64_t pa, uint8_t kind, unsigned order, uint64_t va,
                  const char *who)
{
	struct frame *f;

	if ((pa & (FRAME_SIZE - 1)) || pa == 0 || !frame_in_range(w->fr, pa))
		return fail(w->r, "%s for va 0x%llx points at pa 0x%llx: not a frame of ours",
		            who, (ull)va, (ull)pa);
	f = frame_of(w->fr, pa);
	if (f->kind != kind || !(f->flags & FRAME_HEAD) || f->order != order)
		return fail(w->r, "%s for va 0x%llx: frame 0x%llx is %s order %u, expected %s order %u",
		            who, (ull)va, (ull)pa, kind_name[f->kind], f->order, kind_name[kind], order);
	if (f->flags & FRAME_MARK)
		return fail(w->r, "%s for va 0x%llx: frame 0x%llx is owned twice", who, (ull)va, (ull)pa);
	f->flags |= FRAME_MARK;
	w->claimed[kind] += 1u << order;
	return true;
}

static bool check_leaf(struct walk *w, uint64_t e, uint64_t va)
{
	enum pte_state s = pte_state(e);
	uint32_t prot = pte_prot(e);
	uint64_t known = PTE_FRAME_MASK | PTE_PROT_MASK | PTE_COMMITTED;

	if (s == PTE_BAD)
		return fail(w->r, "pte for va 0x%llx = 0x%llx: no valid state", (ull)va, (ull)e);
	if (s == PTE_TRACE)   /* where it may be: leaf_in_resv */
		return true;
	if (s == PTE_PRESENT && (pte_hw_clean(e) & PTE_HW_MASK) != pte_hw_bits(prot))
		return fail(w->r, "pte for va 0x%llx = 0x%llx: hardware bits disagree with protection 0x%x",
		            (ull)va, (ull)e, prot);
	if (s != PTE_PRESENT && pte_hw_bits(prot) && pte_frame(e))
		return fail(w->r, "pte for va 0x%llx = 0x%llx: parked under accessible protection 0x%x",
		            (ull)va, (ull)e, prot);
	known |= PTE_DISCARDED | PTE_WRITTEN;
	if (s == PTE_PRESENT)
		known |= PTE_HW_MASK | PTE_HW_STATE;
	if (e & ~known)
		return fail(w->r, "pte for va 0x%llx = 0x%llx: stray bits", (ull)va, (ull)e);
	if (s == PTE_PRESENT || s == PTE_PARKED)
		return claim(w, pte_frame(e), FRAME_DATA, 0, va, "pte");
	return true;
}

static bool check_large(struct walk *w, uint64_t e, uint64_t va)
{
	uint32_t prot = pte_prot(e);

	if (pte_state(e) != PTE_PRESENT ||
	    (pte_hw_clean(e) & PTE_HW_MASK) != (pte_leaf_to_large(pte_hw_bits(prot)) & PTE_HW_MASK))
		return fail(w->r, "2 MiB entry for va 0x%llx = 0x%llx: bad state or bits", (ull)va, (ull)e);
	if (pte_frame(e) & (PT_LARGE_SIZE - 1))
		return fail(w->r, "2 MiB entry for va 0x%llx = 0x%llx: frame not 2 MiB aligned",
		            (ull)va, (ull)e);
	return claim(w, pte_frame(e), FRAME_DATA, PT_LARGE_ORDER, va, "2 MiB entry");
}

static bool check_table(struct walk *w, uint64_t table, int level, uint64_t va);

/* A non-leaf entry at level (4..2) mapping va. */
static bool check_upper(struct walk *w, uint64_t e, int level, uint64_t va)
{
	if ((e & ~(PTE_FRAME_MASK | PTE_TABLE_STATE)) != pte_make_table(0))
		return fail(w->r, "level %d entry for va 0x%llx = 0x%llx: not a table entry",
		            level, (ull)va, (ull)e);
	if (!claim(w, pte_frame(e), FRAME_TABLE, 0, va, "table entry"))
		return false;
	w->ntables++;
	return check_table(w, pte_frame(e), level - 1, va);
}

static bool check_entry(struct walk *w, uint64_t e, int level, uint64_t va)
{
	if (level == 1)
		return check_leaf(w, e, va);
	if (level == 2 && pte_is_large(e))
		return check_large(w, e, va);
	return check_upper(w, e, level, va);
}

/* The lower half only for the root, whose count is not kept. */
static bool check_table(struct walk *w, uint64_t table, int level, uint64_t va)
{
	const uint64_t *t = walk_entries(w, table);
	bool root = table == w->pt->root;
	unsigned n = root ? PTE_ENTRIES / 2 : PTE_ENTRIES, nonzero = 0;
	uint64_t span = 1ull << (FRAME_SHIFT + 9 * (level - 1));

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = pte_read(&t[i]);

		if (e == 0)
			continue;
		nonzero++;
		if (!check_entry(w, e, level, va + i * span))
			return false;
	}
	if (!root && frame_of(w->fr, table)->count != nonzero)
		return fail(w->r, "level %d table 0x%llx (va 0x%llx): count %u, non-zero entries %u",
		            level, (ull)table, (ull)va, frame_of(w->fr, table)->count, nonzero);
	/* Empty: only a PT a decommit kept (pagetable.c, theory 9). */
	if (!root && frame_of(w->fr, table)->kept && (level != 1 || nonzero))
		return fail(w->r, "level %d table 0x%llx (va 0x%llx) with %u entries is marked kept",
		            level, (ull)table, (ull)va, nonzero);
	if (!root && nonzero == 0 && !frame_of(w->fr, table)->kept)
		return fail(w->r, "level %d table 0x%llx (va 0x%llx) is empty but not freed",
		            level, (ull)table, (ull)va);
	w->kept += !root && frame_of(w->fr, table)->kept;
	return true;
}

/* The descend hint names the PT linked for its 2 MiB region, or nothing. */
static bool check_hint(struct walk *w)
{
	const struct pagetable *pt = w->pt;
	uint64_t va = pt->hint_region << PT_LARGE_SHIFT, t = pt->root, e;

	if (pt->hint_pt == 0)
		return true;
	for (int l = 4; l > 1; l--) {
		e = pte_read(&walk_entries(w, t)[(va >> (FRAME_SHIFT + 9 * (l - 1))) & 511]);
		if (!pte_is_table(e))
			return fail(w->r, "page-table hint 0x%llx for va 0x%llx: no table there",
			            (ull)pt->hint_pt, (ull)va);
		t = pte_frame(e);
	}
	if (t != pt->hint_pt)
		return fail(w->r, "page-table hint 0x%llx for va 0x%llx: the PT there is 0x%llx",
		            (ull)pt->hint_pt, (ull)va, (ull)t);
	return true;
}

static bool check_pagetable(struct walk *w)
{
	const struct pagetable *pt = w->pt;

	if (frame_in_range(w->fr, pt->root) && frame_of(w->fr, pt->root)->kind == FRAME_TABLE &&
	    !claim(w, pt->root, FRAME_TABLE, 0, 0, "root"))
		return false;
	if (pt->owns_root && !(frame_in_range(w->fr, pt->root) &&
	                       frame_of(w->fr, pt->root)->kind == FRAME_TABLE))
		return fail(w->r, "owned root 0x%llx is not a table frame", (ull)pt->root);
	w->ntables = 0;
	w->kept = 0;
	if (!check_table(w, pt->root, 4, 0))
		return false;
	if (w->ntables != pt->ntables)
		return fail(w->r, "pagetable root 0x%llx: ntables %zu, found %zu", (ull)pt->root,
		            pt->ntables, w->ntables);
	if (w->kept != pt->kept)
		return fail(w->r, "pagetable root 0x%llx: kept PTs %zu, found %zu", (ull)pt->root,
		            pt->kept, w->kept);
	return check_hint(w);
}

static bool check_all_owned(struct frames *fr, struct report *r)
{
	for (uint32_t i = 0; i < fr->nframes; i++) {
		const struct frame *f = &fr->rec[i];

		if ((f->kind == FRAME_TABLE || f->kind == FRAME_DATA) && (f->flags & FRAME_HEAD) &&
		    !(f->flags & FRAME_MARK))
			return fail(r, "%s frame 0x%llx (order %u) is owned by no entry: leaked",
			            kind_name[f->kind], (ull)frame_pa(i), f->order);
	}
	return true;
}

bool verify_pagetables(struct frames *fr, struct pagetable *const *pts, size_t n,
                       char *why, size_t len)
{
	struct report r = { why, len, false };
	struct walk w = { .fr = fr, .r = &r };
	bool ok = true;

	marks_clear(fr);
	for (size_t i = 0; ok && i < n; i++) {
		w.pt = pts[i];
		ok = check_pagetable(&w);
	}
	ok = ok && check_all_owned(fr, &r);
	marks_clear(fr);
	return ok;
}

static void unmark_frame(struct frames *fr, uint64_t pa)
{
	if (pa != 0 && frame_in_range(fr, pa))
		frame_of(fr, pa)->flags &= (uint8_t)~FRAME_MARK;
}

/* Clears the marks the walk set, along the same entries.  A table is
 * entered only while it is marked, and unmarked first: a walk that stopped
 * at a broken entry, or a cycle, cannot lead this one astray. */
static void unmark_table(struct walk *w, uint64_t table, int level)
{
	const uint64_t *t = walk_entries(w, table);
	unsigned n = table == w->pt->root ? PTE_ENTRIES / 2 : PTE_ENTRIES;

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = pte_read(&t[i]), pa = pte_frame(e);

		if (e == 0 || pa == 0 || !frame_in_range(w->fr, pa))
			continue;
		if (level == 1 || (level == 2 && pte_is_large(e))) {
			unmark_frame(w->fr, pa);
		} else if ((e & PTE_P) && (frame_of(w->fr, pa)->flags & FRAME_MARK)) {
			unmark_frame(w->fr, pa);
			unmark_table(w, pa, level - 1);
		}
	}
}

/* The walk in use (see the top): ownership proved by counting. */
bool verify_pagetables_in_use(struct frames *fr, struct pagetable *const *pts, size_t n,
                              char *why, size_t len)
{
	struct report r = { why, len, false };
	struct walk w = { .fr = fr, .r = &r };
	bool ok = true;

	for (size_t i = 0; ok && i < n; i++) {
		w.pt = pts[i];
		ok = check_pagetable(&w);
	}
	if (ok && w.claimed[FRAME_TABLE] != fr->used[FRAME_TABLE])
		ok = fail(&r, "table frames: %zu allocated, %zu reached from a root: the rest are "
		          "owned by no entry: leaked", fr->used[FRAME_TABLE], w.claimed[FRAME_TABLE]);
	if (ok && w.claimed[FRAME_DATA] != fr->used[FRAME_DATA])
		ok = fail(&r, "data frames: %zu allocated, %zu mapped: the rest are owned by no "
		          "entry: leaked", fr->used[FRAME_DATA], w.claimed[FRAME_DATA]);
	for (size_t i = 0; i < n; i++) {
		w.pt = pts[i];
		unmark_frame(fr, pts[i]->root);
		unmark_table(&w, pts[i]->root, 4);
	}
	return ok;
}

/* ------------------------------------------------------------ leaves */

typedef bool (*leaf_fn)(void *ctx, uint64_t va, uint64_t e, uint64_t pages);

/* Calls fn for every non-zero leaf (PTE, or a 2 MiB entry covering 512
 * pages) under table, in address order; stops when fn returns false.
 * Assumes verify_pagetables passed. */
static bool leaves_each(const struct pagetable *pt, uint64_t table, int level, uint64_t va,
                        leaf_fn fn, void *ctx)
{
	const uint64_t *t = (const uint64_t *)(pt->plat->phys_base + table);
	unsigned n = table == pt->root ? PTE_ENTRIES / 2 : PTE_ENTRIES;
	uint64_t span = 1ull << (FRAME_SHIFT + 9 * (level - 1));

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = pte_read(&t[i]), at = va + i * span;
		bool ok = true;

		if (e == 0)
			continue;
		if (level == 1 || (level == 2 && pte_is_large(e)))
			ok = fn(ctx, at, e, span >> FRAME_SHIFT);
		else
			ok = leaves_each(pt, pte_frame(e), level - 1, at, fn, ctx);
		if (!ok)
			return false;
	}
	return true;
}

struct tally {
	size_t committed, demand_zero;
};

static bool tally_leaf(void *ctx, uint64_t va, uint64_t e, uint64_t pages)
{
	struct tally *t = ctx;

	if (pte_is_committed(e))
		t->committed += pages;
	t->demand_zero += pte_is_demand_zero(e);
	return true;
}

static struct tally tally_pagetables(struct pagetable *const *pts, size_t n)
{
	struct tally t = { 0, 0 };

	for (size_t i = 0; i < n; i++)
		leaves_each(pts[i], pts[i]->root, 4, 0, tally_leaf, &t);
	return t;
}

bool verify_promises(struct frames *fr, struct pagetable *const *pts, size_t n,
                     char *why, size_t len)
{
	struct report r = { why, len, false };
	struct tally t = tally_pagetables(pts, n);

	if (t.demand_zero != fr->promised)
		return fail(&r, "promised frames %zu != demand-zero PTEs %zu", fr->promised,
		            t.demand_zero);
	return true;
}

/* ------------------------------------------------------------ the manager */

struct in_resv {
	const struct hm *hm;
	struct report *r;
};

/* Page state exists only inside a reservation of the managed range. */
static bool leaf_in_resv(void *ctx, uint64_t va, uint64_t e, uint64_t pages)
{
	struct in_resv *c = ctx;

	if (va < VA_MIN || va + pages * PAGE > VA_LIMIT)
		return fail(c->r, "pte 0x%llx at va 0x%llx: outside the managed range", (ull)e, (ull)va);
	const struct resv *first = resv_find(&c->hm->resv, va);

	if (!first || first != resv_find(&c->hm->resv, va + (pages - 1) * PAGE))
		return fail(c->r, "pte 0x%llx at va 0x%llx: in no reservation", (ull)e, (ull)va);
	if (first->flags & RESV_F_ACQUIRED)
		return fail(c->r, "pte 0x%llx at va 0x%llx: in space the runtime acquired", (ull)e, (ull)va);
	if (pte_state(e) == PTE_TRACE && !(first->flags & RESV_F_WRITE_WATCH))
		return fail(c->r, "pte 0x%llx at va 0x%llx: a write trace outside a write-watch "
		            "reservation", (ull)e, (ull)va);
	return true;
}

static bool check_charge(struct hm *hm, struct report *r)
{
	struct pagetable *pts[] = { &hm->pt };
	struct tally t = tally_pagetables(pts, 1);
	const struct frames *fr = &hm->frames;

	if (hm->charge != t.committed)
		return fail(r, "commit charge %zu != committed pages %zu", hm->charge, t.committed);
	if (fr->promised != t.demand_zero)
		return fail(r, "promised frames %zu != demand-zero PTEs %zu", fr->promised,
		            t.demand_zero);
	/* charge - promised == data frames follows: verify_pagetables found
	 * every data frame owned by exactly one present or parked leaf. */
	if (hm->nodes.in_use != hm->resv.count)
		return fail(r, "reservation nodes in use %zu != reservations %zu",
		            hm->nodes.in_use, hm->resv.count);
	return true;
}

/* A kept PT maps part of a live reservation: a release prunes its range
 * (pagetable.c, theory 9), so none outlives the reservations it served. */
static bool kept_in_resv(struct hm *hm, uint64_t table, int level, uint64_t va,
                         struct report *r)
{
	const uint64_t *t = (const uint64_t *)(hm->plat->phys_base + table);
	unsigned n = table == hm->pt.root ? PTE_ENTRIES / 2 : PTE_ENTRIES;
	uint64_t span = 1ull << (FRAME_SHIFT + 9 * (level - 1));

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = pte_read(&t[i]), at = va + i * span;
		uint64_t lo = at > hm->resv.lo ? at : hm->resv.lo;
		uint64_t hi = at + span < hm->resv.hi ? at + span : hm->resv.hi;

		if (!pte_is_table(e))
			continue;
		if (level > 2 && !kept_in_resv(hm, pte_frame(e), level - 1, at, r))
			return false;
		if (level == 2 && frame_of(&hm->frames, pte_frame(e))->kept &&
		    (lo >= hi || resv_range_free(&hm->resv, lo, hi)))
			return fail(r, "kept PT 0x%llx (va 0x%llx) maps no live reservation",
			            (ull)pte_frame(e), (ull)at);
	}
	return true;
}

static bool verify_hm(struct hm *hm, char *why, size_t len, bool in_use)
{
	struct pagetable *pts[] = { &hm->pt };
	struct report r = { why, len, false };
	struct in_resv c = { hm, &r };

	if (!(in_use ? verify_all_in_use(&hm->frames, pts, 1, why, len)
	             : verify_all(&hm->frames, pts, 1, why, len)) ||
	    !resv_verify(&hm->resv, why, len))
		return false;
	if (!check_charge(hm, &r))
		return false;
	if (pt_kept(&hm->pt) && !kept_in_resv(hm, hm->pt.root, 4, 0, &r))
		return false;
	return leaves_each(&hm->pt, hm->pt.root, 4, 0, leaf_in_resv, &c) &&
	       hmalloc_verify(hm, why, len);
}

bool verify_manager(struct hm *hm, char *why, size_t len)
{
	return verify_hm(hm, why, len, false);
}

bool verify_manager_in_use(struct hm *hm, char *why, size_t len)
{
	return verify_hm(hm, why, len, true);
}

bool verify_all_in_use(struct frames *fr, struct pagetable *const *pts, size_t n,
                       char *why, size_t len)
{
	struct report r = { why, len, false };
	size_t nfree = 0, nzeroed = 0;

	if (len > 0)
		why[0] = '\0';
	return check_free_lists(fr, &r, true, &nfree, &nzeroed) &&
	       check_counters(fr, &r, NULL, nfree, nzeroed) &&
	       verify_pagetables_in_use(fr, pts, n, why, len);
}

bool verify_all(struct frames *fr, struct pagetable *const *pts, size_t n,
                char *why, size_t len)
{
	if (len > 0)
		why[0] = '\0';
	return verify_frames(fr, why, len) && verify_pagetables(fr, pts, n, why, len);
}
