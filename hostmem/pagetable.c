/*
 * pagetable.c - walk, map, unmap, protect over x86-64 4-level tables.
 *
 * Theory
 * ------
 * 1. Shape.  Levels are numbered 4 (PML4) down to 1 (PT).  An entry at level
 *    l maps span(l) = 4 KiB << 9(l-1) bytes: 4 KiB, 2 MiB, 1 GiB, 512 GiB.
 *    hostmem owns PML4 entries 0..255 (the lower half, PT_LOWER_LIMIT) and
 *    never touches 256..511, so it can adopt the kernel's live PML4.
 *
 *     va: | 47..39 PML4 | 38..30 PDPT | 29..21 PD | 20..12 PT | 11..0 |
 *
 * 2. Counts.  Every table page below the root keeps, in its frame record,
 *    the number of its non-zero entries.  All entry writes go through
 *    entry_set(), which adjusts the count, except two hot loops that keep it
 *    themselves: fill (empty to non-zero, counted once per table) and
 *    pt_fault_in (demand-zero to present: non-zero both).  Callers outside
 *    this file change a leaf with pt_replace, never through a pt_walk
 *    pointer, so
 *        INVARIANT: count == non-zero entries, and no table below the root
 *        has count 0 between operations, except the PTs a decommit kept
 *        (theory 9), each marked kept and counted in pt->kept.
 *    The second half is what lets a failed operation undo itself without a
 *    list of what it created: pruning empty tables over the range removes
 *    the tables this call created, and at most kept PTs besides, which
 *    were free for the taking anyway.
 *
 * 3. Two phases.  Each range operation first scans the range (states of the
 *    PTEs there, large pages) and rejects it if it cannot be done; then
 *    allocates every table and frame it will need; then writes entries,
 *    which cannot fail.  A failure in phase two prunes the tables it made and
 *    returns the frames: the page tables are as before.
 *
 * 4. Lifetime.  When clearing leaves a table empty (count 0), it is unhooked
 *    from its parent, handed to the TLB gather and the parent's count drops,
 *    cascading up to (never including) the root.  After everything is
 *    unmapped only the root is left.
 *
 * 5. TLB.  A change to a present entry gathers its va; frames and tables are
 *    gathered, never freed here: the caller's tlb_finish() flushes first,
 *    frees second.  Entries that were not present need no flush (the CPU
 *    does not cache them).
 *
 * 6. Promises (frame.c, theory 7) are the caller's: this layer never makes
 *    or redeems one, it only writes the demand-zero PTEs they stand for.
 *    pt_commit builds every table its range needs before it writes
 *    anything, so the commit's writes cannot fail once its promise is taken.
 *
 * 7. Traces.  A write-watch decommit (pt_decommit, traced) leaves PTE_WRITTEN
 *    alone in each leaf that was dirty (pte.h, PTE_TRACE): not committed,
 *    but a non-zero entry that keeps its table.  pt_write over a trace keeps
 *    the mark (a recommitted page is still reported); pt_unmap clears it.
 *
 * 8. Large pages.  A PD entry may be a 2 MiB PS page (pt_map_large).  Walks,
 *    lookups, scans and unmap understand it; an operation that would split
 *    one (protect, write, a partial unmap) is refused with PT_LARGE.
 *
 * 9. Kept tables.  A decommit (pt_decommit) that empties a PT keeps it
 *    linked, marked kept: a heap or a GC commits and decommits the same
 *    pages over and over, and freeing the PT each time made every next
 *    commit allocate and clear it again, doubling what the pair cost.
 *    A kept PT becomes an ordinary one when an entry is written into it; it
 *    is freed when a pt_unmap over it (a release) prunes, or by pt_reclaim,
 *    which the manager runs before it refuses a request for want of frames.
 *    The manager also keeps every kept PT inside a live reservation
 *    (verify.c): a release prunes its range.  Upper tables are never kept:
 *    a PT, even empty, keeps its parents non-empty.
 *
 * Costs: an operation on n pages is O(n) entry writes, plus O(n / 512 + 1)
 * table visits; missing subtrees are skipped at the level they are missing,
 * so a sparse range costs what is mapped in it, not its size.
 */
#include "pagetable.h"

#define ENTRY_BITS  9

struct range_op;
typedef void (*visit_fn)(struct pagetable *pt, uint64_t table, unsigned i, int level,
                         uint64_t va, struct range_op *op);

/* One range operation: its inputs, what it visits, and its tallies. */
struct range_op {
	visit_fn fn;
	uint64_t start, end;
	struct tlb_gather *g;
	uint32_t prot;
	uint64_t value;
	struct frame_list frames;      /* pt_map: frames waiting for a PTE */
	size_t cleared;
	struct pt_was was;             /* unmap: what was committed before */
	bool traced;                   /* unmap: dirty leaves leave a trace */
	bool keep;                     /* unmap: PTs left empty are kept (theory 9) */
	size_t state[PTE_BAD + 1];     /* scan: leaves by state */
	size_t large, large_partial;   /* scan: 2 MiB pages met */
	size_t large_pages;            /* scan: their 4 KiB pages inside the range */
};

/* ------------------------------------------------------------ helpers */

static uint64_t *table_at(const struct pagetable *pt, uint64_t pa)
{
	return (uint64_t *)(pt->plat->phys_base + pa);
}

static unsigned index_of(uint64_t va, int level)
{
	return (unsigned)(va >> (FRAME_SHIFT + ENTRY_BITS * (level - 1))) & (PTE_ENTRIES - 1);
}

static uint64_t span_of(int level)
{
	return 1ull << (FRAME_SHIFT + ENTRY_BITS * (level - 1));
}

/* The first address past the region that va's entry at this level maps. */
static uint64_t next_boundary(uint64_t va, int level)
{
	return (va | (span_of(level) - 1)) + 1;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t entry_get(const struct pagetable *pt, uint64_t table, unsigned i)
{
	return pte_read(&table_at(pt, table)[i]);
}

/* A kept PT (theory 9) that is taking an entry, or going: ordinary again. */
static void table_unkeep(struct pagetable *pt, struct frame *f)
{
	if (f->kept) {
		f->kept = 0;
		pt->kept--;
	}
}

static void table_keep(struct pagetable *pt, uint64_t table)
{
	struct frame *f = frame_of(pt->fr, table);

	if (!f->kept) {
		f->kept = 1;
		pt->kept++;
	}
}

/* The only writer of entries: keeps the table's count (the root has none).
 * Over a present entry the store is an atomic exchange, and the value
 * replaced is returned: another CPU may set A or D in it (through its TLB,
 * itself atomically) at any moment until the shootdown that follows, and a
 * plain store could lose that bit.  No CPU writes an entry that is not
 * present, so there a release store does (what the entry will link, a
 * zeroed frame or table, is written before it).  A and D never make an
 * entry zero or not. */
static uint64_t entry_set(struct pagetable *pt, uint64_t table, unsigned i, uint64_t v)
{
	uint64_t *e = &table_at(pt, table)[i];
	uint64_t old = pte_read(e);

	if (old & PTE_P) {
		if ((v & PTE_P) && !pte_same_mapping(old, v))   /* pte.h, break-before-make */
			pt->plat->panic(pt->plat->ctx, "page table: a present entry retargeted");
		old = __atomic_exchange_n(e, v, __ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(e, v, __ATOMIC_RELEASE);
	}

	if (table != pt->root) {
		struct frame *f = frame_of(pt->fr, table);

		if (old == 0 && v != 0 && f->count++ == 0)
			table_unkeep(pt, f);
		else if (old != 0 && v == 0)
			f->count--;
	}
	return old;
}

/* Rewrites a leaf the caller read as `decided`, which may be present.  If
 * another CPU wrote through it after that read (D appeared), the write is
 * latched into the new value: W of a committed value, or `written` (a
 * trace, or 0 when the page is simply gone) in place of a bare one.  So no
 * rewrite by hostmem ever loses a write the CPU recorded (pte.h). */
static void leaf_set(struct pagetable *pt, uint64_t table, unsigned i, uint64_t decided,
                     uint64_t v, uint64_t written)
{
	uint64_t old = entry_set(pt, table, i, v);

	if (!pte_hw_dirty(old) || pte_hw_dirty(decided))
		return;
	if (v & PTE_COMMITTED)
		__atomic_or_fetch(&table_at(pt, table)[i], PTE_WRITTEN, __ATOMIC_SEQ_CST);
	else if (written != v)
		entry_set(pt, table, i, written);
}

static int range_check(uint64_t va, size_t npages)
{
	if ((va & (FRAME_SIZE - 1)) || npages == 0 || va >= PT_LOWER_LIMIT)
		return PT_BAD_RANGE;
	if (npages > (PT_LOWER_LIMIT - va) >> FRAME_SHIFT)
		return PT_BAD_RANGE;
	return PT_OK;
}

/* ------------------------------------------------------------ walking */

/*
 * Walks from the root toward va.  Returns the level of the entry where the
 * walk stopped, *table holding it: 1 (a PTE: the PT exists), or l >= 2 when
 * the entry at level l is not a table (empty, or a large page).  A PT found
 * is remembered (pt->hint_pt), and the next walk into its 2 MiB starts there.
 */
static int descend(struct pagetable *pt, uint64_t va, uint64_t *table)
{
	uint64_t t = pt->root;

	if (pt->hint_pt && va >> PT_LARGE_SHIFT == pt->hint_region) {
		*table = pt->hint_pt;
		return 1;
	}
	for (int l = 4; l > 1; l--) {
		uint64_t e = entry_get(pt, t, index_of(va, l));

		if (!pte_is_table(e)) {
			*table = t;
			return l;
		}
		t = pte_frame(e);
	}
	pt->hint_pt = t;
	pt->hint_region = va >> PT_LARGE_SHIFT;
	*table = t;
	return 1;
}

uint64_t *pt_walk(struct pagetable *pt, uint64_t va, int *level)
{
	uint64_t table;
	int l = descend(pt, va, &table);
	uint64_t *e = &table_at(pt, table)[index_of(va, l)];

	if (level)
		*level = l;
	if (l == 1 || (l == 2 && pte_is_large(pte_read(e))))
		return e;
	return NULL;
}

uint64_t pt_lookup(struct pagetable *pt, uint64_t va, int *level)
{
	uint64_t *e = pt_walk(pt, va, level);

	return e ? pte_read(e) : 0;
}

/*
 * Calls op->fn for every leaf PTE in [va, end) whose PT exists (zero ones
 * included) and, at higher levels, for every non-zero entry that is not a
 * table (a large page).  Missing subtrees are skipped whole.
 */
static void range_each(struct pagetable *pt, uint64_t va, uint64_t end, struct range_op *op)
{
	while (va < end) {
		uint64_t table, stop;
		int level = descend(pt, va, &table);

		if (level > 1) {
			unsigned i = index_of(va, level);

			if (entry_get(pt, table, i) != 0)
				op->fn(pt, table, i, level, va, op);
			va = next_boundary(va, level);
			continue;
		}
		stop = min_u64(end, next_boundary(va, 2));
		for (; va < stop; va += FRAME_SIZE)
			op->fn(pt, table, index_of(va, 1), 1, va, op);
	}
}

/* ------------------------------------------------------------ scan */

static void scan_fn(struct pagetable *pt, uint64_t table, unsigned i, int level,
                    uint64_t va, struct range_op *op)
{
	uint64_t e = entry_get(pt, table, i);
	uint64_t base = va & ~(span_of(level) - 1);

	if (level == 1) {
		op->state[pte_state(e)]++;
	} else if (level == 2 && pte_is_large(e)) {
		op->large++;
		if (base < op->start || base + PT_LARGE_SIZE > op->end)
			op->large_partial++;
		op->large_pages += (min_u64(base + PT_LARGE_SIZE, op->end) -
		                    (base > op->start ? base : op->start)) / FRAME_SIZE;
	} else {
		op->state[PTE_BAD]++;
	}
}

/* Phase one of every operation: what the range holds now. */
static void scan(struct pagetable *pt, struct range_op *op)
{
	op->fn = scan_fn;
	range_each(pt, op->start, op->end, op);
}

void pt_count(struct pagetable *pt, uint64_t va, size_t npages, size_t *committed,
              size_t *demand_zero)
{
	struct range_op op = { .start = va, .end = va + npages * FRAME_SIZE };

	scan(pt, &op);
	*committed = op.state[PTE_DEMAND_ZERO] + op.state[PTE_PRESENT] + op.state[PTE_PARKED] +
	             op.large_pages;
	*demand_zero = op.state[PTE_DEMAND_ZERO];
}

static size_t scan_committed(const struct range_op *op)
{
	return op->state[PTE_DEMAND_ZERO] + op->state[PTE_PRESENT] + op->state[PTE_PARKED];
}

/* ------------------------------------------------------------ table lifetime */

/* Makes every table down to `level` exist on the path to va. */
static int table_ensure(struct pagetable *pt, uint64_t va, int level)
{
	uint64_t t = pt->root;

	for (int l = 4; l > level; l--) {
		unsigned i = index_of(va, l);
		uint64_t e = entry_get(pt, t, i);

		if (e == 0) {
			uint64_t pa = frame_alloc(pt->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);

			if (pa == 0)
				return PT_NO_MEMORY;
			frame_of(pt->fr, pa)->kept = 0;
			e = pte_make_table(pa);
			entry_set(pt, t, i, e);
			pt->ntables++;
		} else if (!pte_is_table(e)) {
			return PT_LARGE;
		}
		t = pte_frame(e);
	}
	return PT_OK;
}

/* Unhooks the table at level l (below the root) that parent's entry for va
 * links, and gathers it. */
static void table_free(struct pagetable *pt, uint64_t parent, uint64_t table, int l,
                       uint64_t va, struct tlb_gather *g)
{
	table_unkeep(pt, frame_of(pt->fr, table));
	entry_set(pt, parent, index_of(va, l + 1), 0);
	tlb_gather_table(g, table, va);
	pt->ntables--;
	pt->hint_pt = 0;
}

/*
 * Unhooks and gathers every empty table on the path to va, bottom up, never
 * the root; with keep, an empty PT stays, kept (theory 9), and so do its
 * parents.  Returns the level where the walk down stopped, so the caller can
 * skip the whole region a missing entry stands for.
 */
static int prune_path(struct pagetable *pt, uint64_t va, struct tlb_gather *g, bool keep)
{
	uint64_t path[5];
	int l = 4, stop;

	path[4] = pt->root;
	while (l > 1 && pte_is_table(entry_get(pt, path[l], index_of(va, l)))) {
		path[l - 1] = pte_frame(entry_get(pt, path[l], index_of(va, l)));
		l--;
	}
	stop = l;
	if (keep && l == 1 && frame_of(pt->fr, path[1])->count == 0) {
		table_keep(pt, path[1]);
		return stop;
	}
	for (; l < 4 && frame_of(pt->fr, path[l])->count == 0; l++)
		table_free(pt, path[l + 1], path[l], l, va, g);
	return stop;
}

static void prune_range(struct pagetable *pt, uint64_t va, uint64_t end, struct tlb_gather *g,
                        bool keep)
{
	while (va < end) {
		int stop = prune_path(pt, va, g, keep);

		va = next_boundary(va, stop > 2 ? stop : 2);
	}
}

/* Phase two, tables: every table down to `level` for [va, end) exists, or
 * none this call made is left (they are pruned into g). */
static int tables_prepare(struct pagetable *pt, uint64_t va, uint64_t end, int level,
                          struct tlb_gather *g)
{
	for (uint64_t a = va; a < end; a = next_boundary(a, level + 1)) {
		int err = table_ensure(pt, a, level);

		if (err != PT_OK) {
			prune_range(pt, va, end, g, false);
			return err;
		}
	}
	return PT_OK;
}

int pt_walk_alloc(struct pagetable *pt, uint64_t va, uint64_t **pte, struct tlb_gather *g)
{
	int err = range_check(va, 1);

	if (err == PT_OK)
		err = tables_prepare(pt, va, va + FRAME_SIZE, 1, g);
	*pte = err == PT_OK ? pt_walk(pt, va, NULL) : NULL;
	return err;
}

/* ------------------------------------------------------------ leaf changes */

/* A frame about to be mapped with prot: one that will be reached uncached
 * or write-combining is written back from the cache first (pte.h). */
static void frame_prepare(const struct pagetable *pt, uint64_t pa, uint64_t size, uint32_t prot)
{
	if (pte_uncached(prot))
		pt->plat->cache_flush(pt->plat->ctx, pa, size);
}

/* What an entry going away leaves to do: its frame to free, its va to flush. */
static void entry_release(uint64_t old, uint64_t va, struct tlb_gather *g)
{
	if (pte_frame(old) && pte_uncached(pte_prot(old)))
		tlb_gather_uncached(g, pte_frame(old));
	else if (pte_frame(old))
		tlb_gather_frame(g, pte_frame(old));
	if (old & PTE_P)
		tlb_gather_page(g, va);
}

static void map_fn(struct pagetable *pt, uint64_t table, unsigned i, int level,
                   uint64_t va, struct range_op *op)
{
	uint64_t pa = frame_list_pop(pt->fr, &op->frames);

	/* Phase one saw only NONE / DEMAND_ZERO here: nothing to flush. */
	frame_prepare(pt, pa, FRAME_SIZE, op->prot);
	entry_set(pt, table, i, pte_make_committed(pa, op->prot));
}

/* What pt_write puts where old was: value, and a trace's mark with it. */
static uint64_t written_value(uint64_t old, uint64_t value)
{
	return value && pte_state(old) == PTE_TRACE ? value | PTE_WRITTEN : value;
}

static void write_fn(struct pagetable *pt, uint64_t table, unsigned i, int level,
                     uint64_t va, struct range_op *op)
{
	uint64_t old = entry_get(pt, table, i), new = written_value(old, op->value);

	if (level != 1 || old == new)
		return;
	leaf_set(pt, table, i, old, new, new);
	entry_release(old, va, op->g);
}

/* What an unmap leaves where old was: nothing, or a trace of a write. */
static uint64_t unmapped_value(uint64_t old, bool traced)
{
	return traced && pte_is_dirty(old) ? PTE_WRITTEN : 0;
}

static void unmap_fn(struct pagetable *pt, uint64_t table, unsigned i, int level,
                     uint64_t va, struct range_op *op)
{
	uint64_t old = entry_get(pt, table, i);

	uint64_t new = level == 1 ? unmapped_value(old, op->traced) : 0;

	if (old == new || level > 2 || (level == 2 && !pte_is_large(old)))
		return;
	leaf_set(pt, table, i, old, new, op->traced ? PTE_WRITTEN : 0);
	entry_release(old, va & ~(span_of(level) - 1), op->g);
	op->cleared += level == 1 ? 1 : PTE_ENTRIES;
}

/* A committed leaf read as old takes prot, keeping its page. */
static inline void reprotect(struct pagetable *pt, uint64_t table, unsigned i, uint64_t old,
                             uint32_t prot, uint64_t va, struct tlb_gather *g)
{
	uint64_t new = pte_reprotect(old, prot);

	if (new == old)
		return;
	leaf_set(pt, table, i, old, new, new);
	if (old & PTE_P)
		tlb_gather_page(g, va);
}

static void protect_fn(struct pagetable *pt, uint64_t table, unsigned i, int level,
                       uint64_t va, struct range_op *op)
{
	if (level == 1)
		reprotect(pt, table, i, entry_get(pt, table, i), op->prot, va, op->g);
}

/* ------------------------------------------------------------ one page
 *
 * The most frequent call of each operation is one page whose page table
 * exists: a first touch, a heap committing, decommitting or protecting a
 * page.  The general path scans the range, prepares tables and visits the
 * range again: three walks and an indirect call for one entry.  These do it
 * in one walk and return false ("take the general path") for everything
 * else, a missing table or a large page included, so they decide exactly
 * as the general path would: same checks, same order, same result.
 */

/* The PT holding va's PTE, or 0 when there is none (missing, or a large
 * page in its place). */
static uint64_t leaf_table(struct pagetable *pt, uint64_t va)
{
	uint64_t table;

	return descend(pt, va, &table) == 1 ? table : 0;
}

static bool map_one(struct pagetable *pt, uint64_t va, uint32_t prot, int *err)
{
	uint64_t table = leaf_table(pt, va), pa;
	unsigned i = index_of(va, 1);
	enum pte_state st;

	if (!table)
		return false;
	st = pte_state(entry_get(pt, table, i));
	if (st != PTE_NONE && st != PTE_DEMAND_ZERO) {
		*err = PT_BUSY;
		return true;
	}
	pa = frame_alloc(pt->fr, 0, FRAME_ALLOC_ZERO);
	*err = pa ? PT_OK : PT_NO_MEMORY;
	if (pa) {   /* was NONE or DEMAND_ZERO: nothing to flush */
		frame_prepare(pt, pa, FRAME_SIZE, prot);
		entry_set(pt, table, i, pte_make_committed(pa, prot));
	}
	return true;
}

/* Writes value into va's PTE in table, read as old (or clears it, value 0;
 * written: what a clear leaves if the page was written meanwhile, leaf_set),
 * and prunes the PT if that, or an empty table made before it, left it empty
 * (with keep: keeps it). */
static void write_at(struct pagetable *pt, uint64_t table, uint64_t va, uint64_t old,
                     uint64_t value, uint64_t written, struct tlb_gather *g, bool keep)
{
	value = written_value(old, value);
	if (old != value) {
		leaf_set(pt, table, index_of(va, 1), old, value, value ? value : written);
		entry_release(old, va, g);
	}
	if (value != 0 || frame_of(pt->fr, table)->count != 0)
		return;
	if (keep)
		table_keep(pt, table);
	else
		prune_path(pt, va, g, false);
}

static bool write_one(struct pagetable *pt, uint64_t va, uint64_t value, struct tlb_gather *g)
{
	uint64_t table = leaf_table(pt, va);

	if (!table)
		return false;
	write_at(pt, table, va, entry_get(pt, table, index_of(va, 1)), value, value, g, false);
	return true;
}

static bool unmap_one(struct pagetable *pt, uint64_t va, struct range_op *op)
{
	uint64_t table = leaf_table(pt, va), old;

	if (!table)
		return false;
	old = entry_get(pt, table, index_of(va, 1));
	op->cleared = old != 0;
	op->was.committed = pte_is_committed(old);
	op->was.demand_zero = pte_is_demand_zero(old);
	write_at(pt, table, va, old, unmapped_value(old, op->traced),
	         op->traced ? PTE_WRITTEN : 0, op->g, op->keep);
	return true;
}

static bool protect_one(struct pagetable *pt, uint64_t va, uint32_t prot,
                        struct tlb_gather *g, uint32_t *first, int *err)
{
	uint64_t table = leaf_table(pt, va), old;
	unsigned i = index_of(va, 1);

	if (!table)
		return false;
	old = entry_get(pt, table, i);
	*err = pte_is_committed(old) ? PT_OK : PT_NOT_COMMITTED;
	if (*err == PT_OK) {
		*first = pte_prot(old);
		reprotect(pt, table, i, old, prot, va, g);
	}
	return true;
}

/* A commit's one page: *fresh = 1 if it was not committed (it becomes
 * demand-zero), 0 if it was (it takes prot). */
static bool commit_one(struct pagetable *pt, uint64_t va, uint32_t prot, struct tlb_gather *g,
                       size_t *fresh)
{
	uint64_t table = leaf_table(pt, va), old, new;
	unsigned i = index_of(va, 1);

	if (!table)
		return false;
	old = entry_get(pt, table, i);
	*fresh = !pte_is_committed(old);
	if (!*fresh) {
		reprotect(pt, table, i, old, prot, va, g);
		return true;
	}
	new = written_value(old, pte_make_demand_zero(prot));
	if (new != old) {
		leaf_set(pt, table, i, old, new, new);
		entry_release(old, va, g);
	}
	return true;
}

/* ------------------------------------------------------------ operations */

/* n zeroed data frames on a list, or none and PT_NO_MEMORY. */
static int frames_take(struct pagetable *pt, size_t n, struct frame_list *l)
{
	frame_list_init(l);
	while (l->n < n) {
		uint64_t pa = frame_alloc(pt->fr, 0, FRAME_ALLOC_ZERO);

		if (pa == 0) {
			/* Never mapped, so no flush: free at once. */
			while ((pa = frame_list_pop(pt->fr, l)) != 0)
				frame_free(pt->fr, pa, 0);
			return PT_NO_MEMORY;
		}
		frame_list_push(pt->fr, l, pa);
	}
	return PT_OK;
}

/* What map and protect check first: a valid range and a valid protection. */
static int prot_range_check(uint64_t va, size_t npages, uint32_t prot)
{
	int err = range_check(va, npages);

	if (err == PT_OK && !pte_prot_valid(prot))
		err = PT_BAD_VALUE;
	return err;
}

int pt_map(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
           struct tlb_gather *g)
{
	struct range_op op = { .start = va, .end = va + npages * FRAME_SIZE, .prot = prot, .g = g };
	int err = prot_range_check(va, npages, prot);

	if (err != PT_OK)
		return err;
	if (npages == 1 && map_one(pt, va, prot, &err))
		return err;
	scan(pt, &op);
	if (op.state[PTE_PRESENT] + op.state[PTE_PARKED] + op.state[PTE_BAD] + op.large)
		return PT_BUSY;
	err = tables_prepare(pt, op.start, op.end, 1, g);
	if (err != PT_OK)
		return err;
	err = frames_take(pt, npages, &op.frames);
	if (err != PT_OK) {
		prune_range(pt, op.start, op.end, g, false);
		return err;
	}
	op.fn = map_fn;
	range_each(pt, op.start, op.end, &op);
	return PT_OK;
}

int pt_fault_in(struct pagetable *pt, uint64_t va, size_t n, uint64_t e, size_t hot,
                uint32_t access)
{
	uint32_t prot = pte_prot(e);
	uint64_t bits = pte_committed_bits(prot) | pte_marks(e), ready[16];
	uint64_t *entry = &table_at(pt, leaf_table(pt, va))[index_of(va, 1)];
	bool uncached = pte_uncached(prot);

	for (size_t k = 0; k < n;) {
		size_t got = frames_take_zeroed(pt->fr, n - k < 16 ? n - k : 16, ready);

		if (got == 0) {   /* the zero list is empty: the buddy's, cleared here */
			ready[0] = frame_alloc(pt->fr, 0, FRAME_ALLOC_ZERO);
			if (ready[0] == 0)
				return PT_NO_MEMORY;
			got = 1;
		}
		/* Demand-zero to present: the count stays, nothing was cached, and
		 * no CPU writes an entry that is not present (entry_set). */
		for (size_t j = 0; j < got; j++, k++) {
			if (uncached)
				frame_prepare(pt, ready[j], FRAME_SIZE, prot);
			uint64_t v = bits | pte_frame(ready[j]);

			__atomic_store_n(&entry[k], k == hot ? pte_hw_touch(v, access) : v,
			                 __ATOMIC_RELEASE);
		}
	}
	return PT_OK;
}

int pt_map_large(struct pagetable *pt, uint64_t va, uint32_t prot, struct tlb_gather *g)
{
	struct range_op op = { .start = va, .end = va + PT_LARGE_SIZE };
	uint64_t pa, table;
	int err = range_check(va, PTE_ENTRIES);

	if (err != PT_OK || (va & (PT_LARGE_SIZE - 1)))
		return PT_BAD_RANGE;
	if (!pte_prot_valid(prot) || pte_hw_bits(prot) == 0)
		return PT_BAD_VALUE;
	scan(pt, &op);
	/* Any PTE seen, even a zero one, means a PT sits where the PS entry goes. */
	if (op.state[PTE_NONE] + scan_committed(&op) + op.state[PTE_BAD] + op.large)
		return PT_BUSY;
	err = tables_prepare(pt, op.start, op.end, 2, g);
	if (err != PT_OK)
		return err;
	pa = frame_alloc(pt->fr, PT_LARGE_ORDER, FRAME_ALLOC_ZERO);
	if (pa == 0) {
		prune_range(pt, op.start, op.end, g, false);
		return PT_NO_MEMORY;
	}
	descend(pt, va, &table);
	frame_prepare(pt, pa, PT_LARGE_SIZE, prot);
	entry_set(pt, table, index_of(va, 2), pte_make_large(pa, prot));
	return PT_OK;
}

/* pt_write of a non-zero value with every table in place: an empty entry
 * (most of them, in a commit) takes the value with a release store (no CPU
 * writes an entry that is not present) and its table's count is added up
 * once; the others go through leaf_set like any rewrite.  With prot (a
 * commit), a committed entry keeps its page and takes prot instead.
 * Returns the entries that were not committed. */
static size_t fill(struct pagetable *pt, uint64_t va, uint64_t end, uint64_t value,
                   uint32_t prot, struct tlb_gather *g)
{
	size_t fresh = 0;

	while (va < end) {
		uint64_t table = leaf_table(pt, va), stop = min_u64(end, next_boundary(va, 2));
		uint64_t *e = &table_at(pt, table)[index_of(va, 1)];
		unsigned added = 0;

		for (; va < stop; va += FRAME_SIZE, e++) {
			uint64_t old = pte_read(e), new;

			if (old == 0) {
				__atomic_store_n(e, value, __ATOMIC_RELEASE);
				added++;
				continue;
			}
			if (prot && pte_is_committed(old)) {
				reprotect(pt, table, index_of(va, 1), old, prot, va, g);
				continue;
			}
			fresh++;
			new = written_value(old, value);
			if (old != new) {
				leaf_set(pt, table, index_of(va, 1), old, new, new);
				entry_release(old, va, g);
			}
		}
		if (added && frame_of(pt->fr, table)->count == 0)
			table_unkeep(pt, frame_of(pt->fr, table));
		frame_of(pt->fr, table)->count += (uint16_t)added;
		fresh += added;
	}
	return fresh;
}

int pt_commit(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
              struct tlb_gather *g, size_t *fresh)
{
	uint64_t end = va + npages * FRAME_SIZE;
	int err = prot_range_check(va, npages, prot);

	*fresh = 0;
	if (err != PT_OK)
		return err;
	if (npages == 1 && commit_one(pt, va, prot, g, fresh))
		return PT_OK;
	/* Meets a 2 MiB page where a PT would go: PT_LARGE, nothing made. */
	err = tables_prepare(pt, va, end, 1, g);
	if (err == PT_OK)
		*fresh = fill(pt, va, end, pte_make_demand_zero(prot), prot, g);
	return err;
}

int pt_write(struct pagetable *pt, uint64_t va, size_t npages, uint64_t value,
             struct tlb_gather *g)
{
	struct range_op op;
	int err = range_check(va, npages);

	if (err != PT_OK)
		return err;
	if (value & (PTE_P | PTE_FRAME_MASK))
		return PT_BAD_VALUE;
	if (npages == 1 && write_one(pt, va, value, g))
		return PT_OK;
	op = (struct range_op){ .start = va, .end = va + npages * FRAME_SIZE, .value = value, .g = g };
	scan(pt, &op);
	if (op.large)
		return PT_LARGE;
	if (value != 0) {
		err = tables_prepare(pt, op.start, op.end, 1, g);
		if (err == PT_OK)
			fill(pt, op.start, op.end, value, 0, g);
		return err;
	}
	op.fn = write_fn;
	range_each(pt, op.start, op.end, &op);
	if (value == 0)
		prune_range(pt, op.start, op.end, g, false);
	return PT_OK;
}

/* pt_unmap's general path: scan, clear, prune. */
static int unmap_range(struct pagetable *pt, struct range_op *op)
{
	scan(pt, op);
	if (op->large_partial)
		return PT_LARGE;
	op->was.committed = scan_committed(op) + op->large_pages;
	op->was.demand_zero = op->state[PTE_DEMAND_ZERO];
	/* Nothing to clear (a reservation never committed): then no table can
	 * become empty either, and only a kept one can be empty already. */
	if (scan_committed(op) + op->state[PTE_BAD] + op->large +
	    (op->traced ? 0 : op->state[PTE_TRACE]) == 0 && (op->keep || pt->kept == 0))
		return PT_OK;
	op->fn = unmap_fn;
	range_each(pt, op->start, op->end, op);
	prune_range(pt, op->start, op->end, op->g, op->keep);
	return PT_OK;
}

static int unmap(struct pagetable *pt, uint64_t va, size_t npages, struct tlb_gather *g,
                 bool traced, bool keep, struct range_op *op)
{
	int err = range_check(va, npages);

	op->cleared = 0;
	op->was = (struct pt_was){ 0, 0 };
	if (err != PT_OK)
		return err;
	/* The range operation's tallies are cleared only when a walk needs them. */
	op->g = g;
	op->traced = traced;
	op->keep = keep;
	if (npages == 1 && unmap_one(pt, va, op))
		return PT_OK;
	*op = (struct range_op){ .start = va, .end = va + npages * FRAME_SIZE, .g = g,
	                         .traced = traced, .keep = keep };
	return unmap_range(pt, op);
}

int pt_unmap(struct pagetable *pt, uint64_t va, size_t npages, struct tlb_gather *g,
             size_t *cleared)
{
	struct range_op op;
	int err = unmap(pt, va, npages, g, false, false, &op);

	if (cleared)
		*cleared = err == PT_OK ? op.cleared : 0;
	return err;
}

int pt_decommit(struct pagetable *pt, uint64_t va, size_t npages, struct tlb_gather *g,
                unsigned how, struct pt_was *was)
{
	struct range_op op;
	int err = unmap(pt, va, npages, g, how & PT_TRACED, !(how & PT_RELEASE), &op);

	*was = op.was;
	return err;
}

/* Frees the kept PTs under table (at level), and the tables above them that
 * this leaves empty; returns whether table itself is now empty. */
static bool reclaim_under(struct pagetable *pt, uint64_t table, int level, uint64_t va,
                          struct tlb_gather *g)
{
	uint64_t span = span_of(level);

	for (unsigned i = 0; i < (table == pt->root ? PTE_ENTRIES / 2 : PTE_ENTRIES); i++) {
		uint64_t e = entry_get(pt, table, i), child = pte_frame(e), at = va + i * span;

		if (!pte_is_table(e))
			continue;
		if (level == 2 ? frame_of(pt->fr, child)->kept
		               : reclaim_under(pt, child, level - 1, at, g))
			table_free(pt, table, child, level - 1, at, g);
		if (pt->kept == 0)
			break;
	}
	return table != pt->root && frame_of(pt->fr, table)->count == 0;
}

void pt_reclaim(struct pagetable *pt, struct tlb_gather *g)
{
	if (pt->kept)
		reclaim_under(pt, pt->root, 4, 0, g);
}

int pt_replace(struct pagetable *pt, uint64_t va, uint64_t decided, uint64_t value,
               struct tlb_gather *g)
{
	uint64_t table, old;
	int level = descend(pt, va, &table);
	unsigned i = index_of(va, level);

	old = entry_get(pt, table, i);
	if (level > 2 || (level == 2 && !pte_is_large(old)) || (level == 2 && value == 0))
		return PT_BAD_RANGE;
	leaf_set(pt, table, i, decided, value, value);
	if (pte_needs_flush(old, value))
		tlb_gather_page(g, va & ~(span_of(level) - 1));
	if (value == 0 && frame_of(pt->fr, table)->count == 0)
		prune_path(pt, va, g, false);
	return PT_OK;
}

int pt_protect(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
               struct tlb_gather *g, uint32_t *first)
{
	struct range_op op;
	uint32_t was;
	int err = prot_range_check(va, npages, prot);

	if (!first)
		first = &was;
	if (err != PT_OK)
		return err;
	if (npages == 1 && protect_one(pt, va, prot, g, first, &err))
		return err;
	op = (struct range_op){ .start = va, .end = va + npages * FRAME_SIZE, .prot = prot, .g = g };
	scan(pt, &op);
	if (op.large)
		return PT_LARGE;
	if (scan_committed(&op) != npages)
		return PT_NOT_COMMITTED;
	*first = pte_prot(pt_lookup(pt, va, NULL));
	op.fn = protect_fn;
	range_each(pt, op.start, op.end, &op);
	return PT_OK;
}

/* ------------------------------------------------------------ init */

int pt_init(struct pagetable *pt, struct frames *fr, const struct hm_platform *plat,
            uint64_t adopt_root)
{
	*pt = (struct pagetable){ .fr = fr, .plat = plat, .root = adopt_root };
	if (adopt_root) {
		for (unsigned i = 0; i < PTE_ENTRIES / 2; i++)
			if (entry_get(pt, adopt_root, i) != 0)
				return PT_ROOT_IN_USE;
		return PT_OK;
	}
	pt->root = frame_alloc(fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);
	if (pt->root == 0)
		return PT_NO_MEMORY;
	pt->owns_root = true;
	return PT_OK;
}

int pt_destroy(struct pagetable *pt)
{
	if (pt->ntables != 0)
		return PT_BUSY;
	if (pt->owns_root)
		frame_free(pt->fr, pt->root, 0);
	pt->root = 0;
	pt->owns_root = false;
	return PT_OK;
}
