/*
 * frame.c - physical frames and the buddy allocator.
 *
 * Theory
 * ------
 * 1. Records.  Every 4 KiB frame below the highest usable address has one
 *    16-byte struct frame in an array that lives in physical memory itself
 *    (carved from the first usable range that fits, marked FRAME_META):
 *    0.4% of the memory it describes (256 MiB: 65536 records, 1 MiB).
 *    Holes and firmware memory get records too (FRAME_RESERVED), so any pa
 *    below the top maps to its record with one shift: frame_of().
 *
 * 2. Blocks.  Memory is handed out in blocks of 2^k frames, k = 0..10,
 *    aligned to their size.  The buddy of block i at order k is i ^ 2^k;
 *    two free buddies of the same order always merge, so
 *        INVARIANT: no two free buddies of equal order are both free heads.
 *    Every frame of a block carries the block's kind; only the first (the
 *    head, FRAME_HEAD) carries the order.  A free head is on free_head[order],
 *    a doubly-linked list of indices (prev/next) so that a buddy is unlinked
 *    in O(1) during a merge.  Links never go through page contents: freeing
 *    a frame does not write into it (except the debug fill below).
 *
 * 3. Known-zero blocks.  A free head may carry FRAME_ZEROED: the whole block
 *    reads as zero.  A page-table page freed with count 0 is zero by
 *    construction, so tables come back zeroed for free.  Splitting keeps the
 *    flag on both halves; a merge keeps it only if both halves had it.
 *    frame_alloc(FRAME_ALLOC_ZERO) skips the clearing for such blocks.
 *
 * 4. Debug mode (FRAMES_DEBUG).  Every free block is ZEROED, POISONED
 *    (filled with FRAME_POISON) or FRESH: never allocated since boot, so no
 *    one can have written to it after a free.  A merge of mixed halves checks
 *    a zero half is still zero, then poisons the zero or fresh half (a cost
 *    the size of the block just freed, so filling RAM is paid as it is used,
 *    not at boot).  Allocation checks the whole block against what it
 *    should hold (a fresh one holds nothing to check); a mismatch means
 *    someone wrote to a frame after freeing it: logged and sent to
 *    plat->panic.
 *
 * 5. Counters (frames): usable = nfree + used[TABLE] + used[DATA] +
 *    used[META] + used[ZEROING]; nzeroed counts frames in ZEROED free blocks
 *    and on the zero list.  nfree and nzeroed change only where a free block
 *    or frame is linked or unlinked, used[] only where a block changes hands,
 *    so they cannot drift apart.
 *
 * 6. Bad frees (double, foreign, wrong order, not a head, still on a list)
 *    are refused before anything is touched: frame_free logs and returns an
 *    error, the lists stay intact.
 *
 * 7. Promises.  promised frames are free frames set aside (promised <=
 *    nfree): ordinary allocations see only nfree - promised.  The caller
 *    redeems one by unpromising it and allocating an order-0 frame, which
 *    then cannot fail for lack of memory: an order-0 request succeeds
 *    whenever a frame is free, whatever the fragmentation.  This is how a
 *    commit guarantees the demand-zero fault its frame.
 *
 * 8. Zeroing ahead.  Clearing a page costs more than the rest of a
 *    demand-zero fault, and under the manager's one lock it would serialise
 *    every CPU's faults.  So frames are cleared ahead, outside the lock, as
 *    Windows' zero-page thread does: frames_zeroing_take lends the caller a
 *    block of FRAME_ZERO_BATCH spare frames (kind FRAME_ZEROING: counted in
 *    used[], not in nfree, so no promise ever rests on them and nobody else
 *    can take them); the caller clears it after dropping the lock and pushes
 *    it on the cleared stack (a lock-free push: taking the lock again just
 *    to give it back would cost what we saved), and the next holder of the
 *    lock collects it, putting each frame on the zero list.  Blocks cleared
 *    but not yet collected stay FRAME_ZEROING: every call collects before it
 *    looks, so none observes them.  There is a zero list per CPU (the
 *    platform's cpu(), modulo FRAME_CPUS): a batch joins the list of the CPU
 *    that took it, and a CPU takes from its own list first, so the frames it
 *    maps are the ones in its own cache (shared lists had each first write
 *    fetch the line from the CPU that cleared it).  A zero list holds
 *    order-0 free frames known zero (FRAME_ZERO_LIST, no head, so the buddy
 *    never merges them; counted in nfree and nzeroed, so promises and
 *    availability see them as the free frames they are).  An order-0
 *    allocation takes from the zero lists first when it wants zero, or when
 *    the buddy would have to split a block for it; the demand-zero fault
 *    takes its cluster's frames in one step (frames_take_zeroed); a larger
 *    allocation the buddy cannot serve drains the lists back into it.  A
 *    block already known zero goes to a list at once: a frame known zero is
 *    never cleared twice.
 *
 * Costs: frames_init O(frames); frame_alloc O(orders) + O(2^order) to stamp
 * the records (+ clearing if needed); frame_free O(orders) + O(2^order).
 * No global state: everything is in struct frames.
 */
#include "frame.h"
#include "format.h"

#define ORDER_FRAMES(k)  (1u << (k))

static uint64_t *frame_words(struct frames *fr, uint32_t idx)
{
	return (uint64_t *)(fr->plat->phys_base + frame_pa(idx));
}

static void say(struct frames *fr, const char *line)
{
	if (fr->plat->log)
		fr->plat->log(fr->plat->ctx, line);
}

/* ------------------------------------------------------------ free lists */

static void list_push(struct frames *fr, uint32_t idx, unsigned order, uint8_t state)
{
	struct frame *f = &fr->rec[idx];
	uint32_t next = fr->free_head[order];

	f->kind = FRAME_FREE;
	f->order = (uint8_t)order;
	f->flags = FRAME_HEAD | state;
	f->count = 0;
	f->prev = FRAME_NONE;
	f->next = next;
	if (next != FRAME_NONE)
		fr->rec[next].prev = idx;
	fr->free_head[order] = idx;
	fr->nfree += ORDER_FRAMES(order);
	if (state & FRAME_ZEROED)
		fr->nzeroed += ORDER_FRAMES(order);
}

/* Unlinks a free head; returns its ZEROED/POISONED state, the record becomes
 * an interior free frame. */
static uint8_t list_remove(struct frames *fr, uint32_t idx)
{
	struct frame *f = &fr->rec[idx];
	uint8_t state = f->flags & FRAME_CONTENTS;

	if (f->prev != FRAME_NONE)
		fr->rec[f->prev].next = f->next;
	else
		fr->free_head[f->order] = f->next;
	if (f->next != FRAME_NONE)
		fr->rec[f->next].prev = f->prev;
	fr->nfree -= ORDER_FRAMES(f->order);
	if (state & FRAME_ZEROED)
		fr->nzeroed -= ORDER_FRAMES(f->order);
	f->next = f->prev = FRAME_NONE;
	f->flags &= (uint8_t)~(FRAME_HEAD | FRAME_CONTENTS);
	f->order = 0;
	return state;
}

static bool is_free_head(const struct frames *fr, uint32_t idx, unsigned order)
{
	const struct frame *f;

	if (idx >= fr->nframes)
		return false;
	f = &fr->rec[idx];
	return f->kind == FRAME_FREE && (f->flags & FRAME_HEAD) && f->order == order;
}

size_t frames_free_blocks(const struct frames *fr, unsigned order)
{
	size_t n = 0;

	if (order > FRAME_MAX_ORDER)
		return 0;
	for (uint32_t i = fr->free_head[order]; i != FRAME_NONE && n <= fr->nframes;
	     i = fr->rec[i].next)
		n++;
	return n;
}

/* ------------------------------------------------------------ debug fill */

/* Zeroing is the embedder's memset, the fastest fill it has (rep stosq in
 * the kernel, libc's on the host); the debug pattern is a word loop. */
static void block_fill(struct frames *fr, uint32_t idx, unsigned order, uint64_t v)
{
	uint64_t *w = frame_words(fr, idx);
	size_t n = (size_t)ORDER_FRAMES(order) * (FRAME_SIZE / 8);

	if (v == 0) {
		__builtin_memset(w, 0, n * 8);
		return;
	}
	for (size_t i = 0; i < n; i++)
		w[i] = v;
}

/* Panics unless every word of the block is v: a write after free. */
static void block_check(struct frames *fr, uint32_t idx, unsigned order, uint64_t v)
{
	uint64_t *w = frame_words(fr, idx);
	size_t n = (size_t)ORDER_FRAMES(order) * (FRAME_SIZE / 8);
	char line[160];

	for (size_t i = 0; i < n; i++) {
		if (w[i] == v)
			continue;
		hm_snprintf(line, sizeof line,
		            "frame: use after free: pa 0x%llx (block 0x%llx order %u) "
		            "holds 0x%llx, expected 0x%llx",
		            (unsigned long long)(frame_pa(idx) + i * 8),
		            (unsigned long long)frame_pa(idx), order,
		            (unsigned long long)w[i], (unsigned long long)v);
		say(fr, line);
		fr->plat->panic(fr->plat->ctx, line);
	}
}

/* Debug mode: a ZEROED half about to lose its flag must still be zero, and
 * then carries the pattern like the rest of the merged block. */
static void poison_zero_half(struct frames *fr, uint32_t idx, uint8_t state, unsigned order)
{
	if (state & FRAME_ZEROED)
		block_check(fr, idx, order, 0);
	if (state & (FRAME_ZEROED | FRAME_FRESH))
		block_fill(fr, idx, order, FRAME_POISON);
}

/* Two fresh halves stay fresh; a fresh half joining a used one takes the
 * pattern then, at the cost of a block the size of the one just freed. */
static uint8_t merge_state(struct frames *fr, uint32_t a, uint8_t sa,
                           uint32_t b, uint8_t sb, unsigned order)
{
	if (sa & sb & FRAME_ZEROED)
		return FRAME_ZEROED;
	if (!fr->debug)
		return 0;
	if (sa & sb & FRAME_FRESH)
		return FRAME_FRESH;
	poison_zero_half(fr, a, sa, order);
	poison_zero_half(fr, b, sb, order);
	return FRAME_POISONED;
}

/* ------------------------------------------------------------ insert, take */

/* Adds the free block at idx (records already FRAME_FREE, no head) and merges
 * it with free buddies as far as they go. */
static void block_insert(struct frames *fr, uint32_t idx, unsigned order, uint8_t state)
{
	while (order < FRAME_MAX_ORDER) {
		uint32_t buddy = idx ^ ORDER_FRAMES(order);

		if (!is_free_head(fr, buddy, order))
			break;
		state = merge_state(fr, idx, state, buddy, list_remove(fr, buddy), order);
		idx &= ~ORDER_FRAMES(order);
		order++;
	}
	list_push(fr, idx, order, state);
}

/* Removes a block of exactly this order, splitting a larger one if needed;
 * the unused halves go back with the parent's state. */
static uint32_t take_block(struct frames *fr, unsigned order, uint8_t *state)
{
	for (unsigned k = order; k <= FRAME_MAX_ORDER; k++) {
		uint32_t idx = fr->free_head[k];

		if (idx == FRAME_NONE)
			continue;
		*state = list_remove(fr, idx);
		while (k > order) {
			k--;
			list_push(fr, idx + ORDER_FRAMES(k), k, *state);
		}
		return idx;
	}
	return FRAME_NONE;
}

/* Stamps every record of the block with its new kind; only the head keeps
 * the order. */
static void block_stamp(struct frames *fr, uint32_t idx, unsigned order, uint8_t kind)
{
	for (uint32_t i = idx; i < idx + ORDER_FRAMES(order); i++) {
		struct frame *f = &fr->rec[i];

		f->kind = kind;
		f->flags = 0;
		f->order = 0;
		f->count = 0;
		f->next = f->prev = FRAME_NONE;
	}
	if (kind != FRAME_FREE) {
		fr->rec[idx].flags = FRAME_HEAD;
		fr->rec[idx].order = (uint8_t)order;
	}
}

/* ------------------------------------------------------------ alloc */

static bool injected_failure(struct frames *fr)
{
	if (fr->fail_countdown == 0)
		return false;
	return --fr->fail_countdown == 0;
}

static uint8_t alloc_kind(unsigned flags)
{
	if (flags & FRAME_ALLOC_TABLE)
		return FRAME_TABLE;
	if (flags & FRAME_ALLOC_META)
		return FRAME_META;
	return FRAME_DATA;
}

/* Whether this allocation may proceed, before any block is touched. */
static bool alloc_allowed(struct frames *fr, unsigned order)
{
	if (order > FRAME_MAX_ORDER || frames_available(fr) < ORDER_FRAMES(order))
		return false;
	return !injected_failure(fr);
}

/* ------------------------------------------------------------ zero list */

/* The calling CPU, as the platform numbers it, folded onto the lists. */
static unsigned this_cpu(const struct frames *fr)
{
	return fr->plat->cpu ? fr->plat->cpu(fr->plat->ctx) % FRAME_CPUS : 0;
}

static void zero_list_push(struct frames *fr, unsigned cpu, uint32_t idx)
{
	struct frame *f = &fr->rec[idx];

	*f = (struct frame){ .next = fr->zero_head[cpu], .prev = FRAME_NONE, .kind = FRAME_FREE,
	                     .flags = FRAME_ZERO_LIST | FRAME_ZEROED };
	fr->zero_head[cpu] = idx;
	fr->nzero[cpu]++;
	fr->nzero_list++;
	fr->nfree++;
	fr->nzeroed++;
}

/* Unlinks the first frame of a zero list (there must be one); the record
 * is left as an interior free frame, like list_remove's. */
static uint32_t zero_list_pop(struct frames *fr, unsigned cpu)
{
	uint32_t idx = fr->zero_head[cpu];
	struct frame *f = &fr->rec[idx];

	fr->zero_head[cpu] = f->next;
	fr->nzero[cpu]--;
	fr->nzero_list--;
	fr->nfree--;
	fr->nzeroed--;
	f->next = FRAME_NONE;
	f->flags = 0;
	return idx;
}

/* A zero list with a frame on it: this CPU's first, else any; or -1. */
static int zero_list_any(const struct frames *fr, unsigned cpu)
{
	if (fr->nzero_list == 0)
		return -1;
	if (fr->zero_head[cpu] != FRAME_NONE)
		return (int)cpu;
	for (unsigned c = 0; c < FRAME_CPUS; c++)
		if (fr->zero_head[c] != FRAME_NONE)
			return (int)c;
	return -1;
}

/* Every frame of the zero lists back into the buddy, where it may merge. */
static void zero_list_drain(struct frames *fr)
{
	for (unsigned c = 0; c < FRAME_CPUS; c++)
		while (fr->zero_head[c] != FRAME_NONE)
			block_insert(fr, zero_list_pop(fr, c), 0, FRAME_ZEROED);
}

/* Lock held: a cleared block's frames join the zero list of the CPU that
 * took it (noted in its head's count). */
static void zeroing_done(struct frames *fr, uint32_t idx)
{
	unsigned cpu = fr->rec[idx].count;

	fr->used[FRAME_ZEROING] -= FRAME_ZERO_BATCH;
	for (uint32_t i = idx + FRAME_ZERO_BATCH; i-- > idx;)
		zero_list_push(fr, cpu, i);
}

uint64_t frames_zeroing_take(struct frames *fr)
{
	unsigned cpu = this_cpu(fr);
	uint8_t state = 0;
	uint32_t idx;

	if (fr->nzero[cpu] >= FRAME_ZERO_LOW ||
	    frames_available(fr) < FRAME_ZERO_SPARE + FRAME_ZERO_BATCH)
		return 0;
	idx = take_block(fr, FRAME_ZERO_ORDER, &state);
	if (idx == FRAME_NONE)
		return 0;
	if (fr->debug && !(state & FRAME_FRESH))
		block_check(fr, idx, FRAME_ZERO_ORDER, (state & FRAME_ZEROED) ? 0 : FRAME_POISON);
	block_stamp(fr, idx, FRAME_ZERO_ORDER, FRAME_ZEROING);
	fr->rec[idx].count = (uint16_t)cpu;
	fr->used[FRAME_ZEROING] += FRAME_ZERO_BATCH;
	if (!(state & FRAME_ZEROED))
		return frame_pa(idx);
	zeroing_done(fr, idx);
	return 0;
}

/* Without the lock.  The push is a compare-and-swap on the stack's head;
 * collect takes the whole stack with one exchange, so a head can never be
 * popped and pushed back under a pusher's feet (no ABA). */
void frames_zeroing_clear(struct frames *fr, uint64_t pa)
{
	uint32_t idx = (uint32_t)(pa >> FRAME_SHIFT);
	uint32_t head = __atomic_load_n(&fr->cleared, __ATOMIC_RELAXED);

	block_fill(fr, idx, FRAME_ZERO_ORDER, 0);
	do
		fr->rec[idx].next = head;
	while (!__atomic_compare_exchange_n(&fr->cleared, &head, idx, true,
	                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void frames_zeroing_collect_all(struct frames *fr)
{
	uint32_t idx = __atomic_exchange_n(&fr->cleared, FRAME_NONE, __ATOMIC_ACQUIRE);

	while (idx != FRAME_NONE) {
		uint32_t next = fr->rec[idx].next;

		zeroing_done(fr, idx);
		idx = next;
	}
}

size_t frames_take_zeroed(struct frames *fr, size_t n, uint64_t *pa)
{
	size_t k = 0;
	int c;

	if (n > frames_available(fr))
		n = frames_available(fr);
	if (n == 0 || fr->nzero_list == 0)
		return 0;
	for (unsigned cpu = this_cpu(fr); k < n && (c = zero_list_any(fr, cpu)) >= 0;) {
		for (; k < n && fr->zero_head[c] != FRAME_NONE; k++) {
			uint32_t idx = zero_list_pop(fr, (unsigned)c);

			if (fr->debug)
				block_check(fr, idx, 0, 0);
			fr->rec[idx].kind = FRAME_DATA;
			fr->rec[idx].flags = FRAME_HEAD;
			pa[k] = frame_pa(idx);
		}
	}
	fr->used[FRAME_DATA] += k;
	return k;
}

/* The block for an allocation: the zero list first for a single frame that
 * must be zero, or that the buddy would have to split a block for (a split
 * now and a merge at its free cost more than a frame cleared early); else
 * the buddy.  The zero list serves what the buddy cannot: a single frame
 * directly, a larger block once drained back and merged. */
static inline __attribute__((always_inline)) uint32_t
alloc_block(struct frames *fr, unsigned order, unsigned flags, uint8_t *state)
{
	int c = order == 0 && fr->nzero_list ? zero_list_any(fr, this_cpu(fr)) : -1;
	uint32_t idx;

	*state = FRAME_ZEROED;
	if (c >= 0 && ((flags & FRAME_ALLOC_ZERO) || fr->free_head[0] == FRAME_NONE))
		return zero_list_pop(fr, (unsigned)c);
	idx = take_block(fr, order, state);
	if (idx != FRAME_NONE || fr->nzero_list == 0)
		return idx;
	if (c >= 0) {
		*state = FRAME_ZEROED;
		return zero_list_pop(fr, (unsigned)c);
	}
	zero_list_drain(fr);
	return take_block(fr, order, state);
}

uint64_t frame_alloc(struct frames *fr, unsigned order, unsigned flags)
{
	uint8_t state = 0, kind = alloc_kind(flags);
	uint32_t idx;

	if (!alloc_allowed(fr, order))
		return 0;
	idx = alloc_block(fr, order, flags, &state);
	if (idx == FRAME_NONE)
		return 0;   /* fragmentation; an order-0 request always finds one */
	if (fr->debug && !(state & FRAME_FRESH))
		block_check(fr, idx, order, (state & FRAME_ZEROED) ? 0 : FRAME_POISON);
	if ((flags & FRAME_ALLOC_ZERO) && !(state & FRAME_ZEROED))
		block_fill(fr, idx, order, 0);
	block_stamp(fr, idx, order, kind);
	fr->used[kind] += ORDER_FRAMES(order);
	return frame_pa(idx);
}

bool frames_promise(struct frames *fr, size_t n)
{
	if (frames_available(fr) < n)
		return false;
	fr->promised += n;
	return true;
}

void frames_unpromise(struct frames *fr, size_t n)
{
	if (n > fr->promised)
		fr->plat->panic(fr->plat->ctx, "frames_unpromise: more than was promised");
	fr->promised -= n;
}

/* ------------------------------------------------------------ free */

static bool in_meta_array(const struct frames *fr, uint32_t idx)
{
	uint32_t first = (uint32_t)(fr->meta_pa >> FRAME_SHIFT);

	return idx >= first && idx < first + fr->meta_frames;
}

static int free_check(const struct frames *fr, uint64_t pa, unsigned order)
{
	const struct frame *f;

	if ((pa & (FRAME_SIZE - 1)) || pa == 0 || !frame_in_range(fr, pa))
		return FRAME_ERR_FOREIGN;
	f = frame_of(fr, pa);
	if (f->kind == FRAME_FREE)
		return FRAME_ERR_DOUBLE_FREE;
	if (f->kind == FRAME_RESERVED || f->kind == FRAME_ZEROING ||
	    in_meta_array(fr, (uint32_t)(pa >> FRAME_SHIFT)))
		return FRAME_ERR_FOREIGN;
	if (order > FRAME_MAX_ORDER || !(f->flags & FRAME_HEAD) || f->order != order)
		return FRAME_ERR_NOT_HEAD;
	if (f->flags & FRAME_LISTED)
		return FRAME_ERR_LISTED;
	return FRAME_OK;
}

static void free_report(struct frames *fr, int err, uint64_t pa, unsigned order)
{
	static const char *const what[] = {
		[FRAME_ERR_DOUBLE_FREE] = "double free",
		[FRAME_ERR_FOREIGN] = "foreign frame",
		[FRAME_ERR_NOT_HEAD] = "not the head of an allocated block of that order",
		[FRAME_ERR_LISTED] = "block still waits on a list",
	};
	char line[128];

	hm_snprintf(line, sizeof line, "frame_free: %s: pa 0x%llx order %u",
	            what[err], (unsigned long long)pa, order);
	say(fr, line);
}

/* What a freed block is known to hold: zero for an empty table, the pattern
 * in debug mode, else nothing. */
static uint8_t freed_state(struct frames *fr, uint32_t idx, unsigned order)
{
	const struct frame *f = &fr->rec[idx];

	if (f->kind == FRAME_TABLE && f->count == 0) {
		if (fr->debug)
			block_check(fr, idx, order, 0);
		return FRAME_ZEROED;
	}
	if (!fr->debug)
		return 0;
	block_fill(fr, idx, order, FRAME_POISON);
	return FRAME_POISONED;
}

int frame_free(struct frames *fr, uint64_t pa, unsigned order)
{
	uint32_t idx = (uint32_t)(pa >> FRAME_SHIFT);
	int err = free_check(fr, pa, order);
	uint8_t state;

	if (err != FRAME_OK) {
		free_report(fr, err, pa, order);
		return err;
	}
	state = freed_state(fr, idx, order);
	fr->used[fr->rec[idx].kind] -= ORDER_FRAMES(order);
	block_stamp(fr, idx, order, FRAME_FREE);
	block_insert(fr, idx, order, state);
	return FRAME_OK;
}

/* ------------------------------------------------------------ frame lists */

void frame_list_init(struct frame_list *l)
{
	l->head = FRAME_NONE;
	l->n = 0;
}

void frame_list_push(struct frames *fr, struct frame_list *l, uint64_t pa)
{
	struct frame *f = frame_of(fr, pa);

	if (f->flags & FRAME_LISTED)
		fr->plat->panic(fr->plat->ctx, "frame_list_push: block already on a list");
	f->flags |= FRAME_LISTED;
	f->next = l->head;
	l->head = (uint32_t)(pa >> FRAME_SHIFT);
	l->n++;
}

uint64_t frame_list_pop(struct frames *fr, struct frame_list *l)
{
	uint32_t idx = l->head;
	struct frame *f;

	if (idx == FRAME_NONE)
		return 0;
	f = &fr->rec[idx];
	l->head = f->next;
	l->n--;
	f->next = FRAME_NONE;
	f->flags &= (uint8_t)~FRAME_LISTED;
	return frame_pa(idx);
}

/* ------------------------------------------------------------ init */

static int ranges_check(const struct phys_range *r, size_t n)
{
	uint64_t prev_end = 0;

	if (n == 0)
		return FRAME_ERR_RANGES;
	for (size_t i = 0; i < n; i++) {
		if ((r[i].base | r[i].end) & (FRAME_SIZE - 1))
			return FRAME_ERR_RANGES;
		if (r[i].end <= r[i].base || r[i].base < prev_end)
			return FRAME_ERR_RANGES;
		prev_end = r[i].end;
	}
	/* Indices are 32-bit and FRAME_NONE is taken: 16 TiB at most. */
	if ((prev_end >> FRAME_SHIFT) >= FRAME_NONE)
		return FRAME_ERR_RANGES;
	return FRAME_OK;
}

/* The first spot in a usable range (never frame 0) that holds bytes. */
static uint64_t meta_place(const struct phys_range *r, size_t n, uint64_t bytes)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = r[i].base ? r[i].base : FRAME_SIZE;

		if (r[i].end > lo && r[i].end - lo >= bytes)
			return lo;
	}
	return 0;
}

static void records_reset(struct frames *fr)
{
	uint32_t meta_first = (uint32_t)(fr->meta_pa >> FRAME_SHIFT);

	for (uint32_t i = 0; i < fr->nframes; i++) {
		struct frame *f = &fr->rec[i];

		*f = (struct frame){ .next = FRAME_NONE, .prev = FRAME_NONE,
		                     .kind = FRAME_RESERVED };
	}
	for (uint32_t i = meta_first; i < meta_first + fr->meta_frames; i++)
		fr->rec[i].kind = FRAME_META;
}

/* Frees frames [a, b) in the largest aligned blocks that fit. */
static void add_run(struct frames *fr, uint32_t a, uint32_t b)
{
	while (a < b) {
		unsigned k = FRAME_MAX_ORDER;
		uint8_t state = 0;

		while ((a & (ORDER_FRAMES(k) - 1)) || a + ORDER_FRAMES(k) > b)
			k--;
		block_stamp(fr, a, k, FRAME_FREE);
		if (fr->debug)
			state = FRAME_FRESH;   /* not filled: that would cost O(RAM) at boot */
		block_insert(fr, a, k, state);
		fr->usable += ORDER_FRAMES(k);
		a += ORDER_FRAMES(k);
	}
}

/* One usable range minus frame 0 and minus the record array. */
static void add_range(struct frames *fr, const struct phys_range *r)
{
	uint32_t lo = (uint32_t)(r->base >> FRAME_SHIFT), hi = (uint32_t)(r->end >> FRAME_SHIFT);
	uint32_t m0 = (uint32_t)(fr->meta_pa >> FRAME_SHIFT), m1 = m0 + fr->meta_frames;

	if (lo == 0)
		lo = 1;
	if (m0 >= lo && m0 < hi) {
		add_run(fr, lo, m0);
		add_run(fr, m1, hi);
	} else {
		add_run(fr, lo, hi);
	}
}

int frames_init(struct frames *fr, const struct hm_platform *plat,
                const struct phys_range *ranges, size_t n, unsigned flags)
{
	int err = ranges_check(ranges, n);
	uint64_t bytes;

	if (err != FRAME_OK)
		return err;
	*fr = (struct frames){ .plat = plat, .debug = (flags & FRAMES_DEBUG) != 0 };
	for (unsigned k = 0; k < FRAME_ORDERS; k++)
		fr->free_head[k] = FRAME_NONE;
	for (unsigned c = 0; c < FRAME_CPUS; c++)
		fr->zero_head[c] = FRAME_NONE;
	fr->cleared = FRAME_NONE;
	fr->nframes = (uint32_t)(ranges[n - 1].end >> FRAME_SHIFT);
	bytes = (uint64_t)fr->nframes * sizeof(struct frame);
	fr->meta_frames = (uint32_t)((bytes + FRAME_SIZE - 1) >> FRAME_SHIFT);
	fr->meta_pa = meta_place(ranges, n, (uint64_t)fr->meta_frames << FRAME_SHIFT);
	if (fr->meta_pa == 0)
		return FRAME_ERR_NO_ROOM;
	fr->rec = (struct frame *)(plat->phys_base + fr->meta_pa);
	records_reset(fr);
	for (size_t i = 0; i < n; i++)
		add_range(fr, &ranges[i]);
	return FRAME_OK;
}
