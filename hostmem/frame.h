/*
 * Physical frames: one 16-byte record per 4 KiB frame and a buddy allocator
 * over them.  The theory statement is at the top of frame.c.
 *
 * Addresses are physical (pa); a pa of 0 is never a valid frame, so
 * frame_alloc returns 0 for failure.  Records link by 32-bit frame index,
 * never through page contents, so a frame's bytes belong to its owner alone.
 */
#ifndef HOSTMEM_FRAME_H
#define HOSTMEM_FRAME_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "platform.h"

#define FRAME_SIZE       0x1000ull
#define FRAME_SHIFT      12
#define FRAME_MAX_ORDER  10               /* largest block: 2^10 frames, 4 MiB */
#define FRAME_ORDERS     (FRAME_MAX_ORDER + 1)
#define FRAME_NONE       0xFFFFFFFFu      /* "no frame" in an index link */
#define FRAME_CPUS       16               /* zero lists: one a CPU (theory 8) */

/* What a frame is used for.  A block's frames all carry the block's kind. */
enum frame_kind {
	FRAME_RESERVED = 0,  /* not ours: firmware, MMIO, holes, frame 0 */
	FRAME_FREE,          /* in the buddy allocator */
	FRAME_TABLE,         /* a page-table page */
	FRAME_DATA,          /* mapped by exactly one PTE (or PS entry) */
	FRAME_META,          /* hostmem's own metadata: the record array, slabs */
	FRAME_ZEROING,       /* being cleared outside the lock for the zero list */
	FRAME_KINDS
};

/* frame.flags */
#define FRAME_HEAD      0x01u  /* first frame of a block (free or allocated) */
#define FRAME_ZEROED    0x02u  /* free head: the whole block is zero */
#define FRAME_POISONED  0x04u  /* free head, debug mode: filled with the pattern */
#define FRAME_MARK      0x08u  /* scratch for verify */
#define FRAME_LISTED    0x10u  /* allocated head linked on a frame_list */
#define FRAME_UNCACHED  0x20u  /* gathered head that was mapped uncached or
                                  write-combining: flush its lines before reuse */
#define FRAME_ZERO_LIST 0x40u  /* free, zero, on the zero list: order 0, no head */
#define FRAME_FRESH     0x80u  /* free head, debug mode: not allocated since boot,
                                  so its contents are nobody's: nothing to check */
#define FRAME_CONTENTS  (FRAME_ZEROED | FRAME_POISONED | FRAME_FRESH)

struct frame {
	uint32_t next;     /* free list or frame_list link (index), FRAME_NONE;
	                      slab pages: the partial list (slab.c) */
	uint32_t prev;     /* free list back link, so a buddy unlinks in O(1) */
	uint16_t count;    /* table frames: non-zero entries, 0..512;
	                      slab pages: objects in use and first free (slab.c) */
	uint8_t kind;      /* enum frame_kind */
	uint8_t order;     /* heads: order of the block */
	uint8_t flags;     /* FRAME_* */
	uint8_t kept;      /* table frames: an empty PT kept by a decommit
	                      (pagetable.c, theory 9) */
	uint8_t unused[2];
};
_Static_assert(sizeof(struct frame) <= 16, "a frame record is at most 16 bytes");

/* A usable physical range [base, end): page-aligned.  Same layout as the
 * kernel's struct mem_range. */
struct phys_range {
	uint64_t base, end;
};

/* frames_init flags */
#define FRAMES_DEBUG  0x1u     /* fill freed frames with a pattern, check it on alloc */

/* frame_alloc flags */
#define FRAME_ALLOC_ZERO   0x1u  /* the block must read as zero */
#define FRAME_ALLOC_TABLE  0x2u  /* kind FRAME_TABLE (default FRAME_DATA) */
#define FRAME_ALLOC_META   0x4u  /* kind FRAME_META */

/* Results of frames_init and frame_free. */
enum frame_status {
	FRAME_OK = 0,
	FRAME_ERR_RANGES,       /* init: ranges unsorted, unaligned, overlapping, too high */
	FRAME_ERR_NO_ROOM,      /* init: no usable range holds the record array */
	FRAME_ERR_DOUBLE_FREE,  /* free: the frame is already free */
	FRAME_ERR_FOREIGN,      /* free: reserved, out of range, metadata array, frame 0,
	                           a block lent out for zeroing */
	FRAME_ERR_NOT_HEAD,     /* free: not the head of an allocated block of that order */
	FRAME_ERR_LISTED,       /* free: the block waits on a frame_list (a TLB gather) */
};

struct frames {
	const struct hm_platform *plat;
	struct frame *rec;            /* nframes records, at phys_base + meta_pa */
	uint32_t nframes;             /* records: frames [0, highest usable end) */
	uint32_t free_head[FRAME_ORDERS];
	uint64_t meta_pa;             /* the record array's first frame */
	uint32_t meta_frames;         /* frames the record array occupies */
	bool debug;

	/* Counters, in frames. */
	size_t usable;                /* handed to the allocator at init */
	size_t nfree;                 /* in free blocks */
	size_t nzeroed;               /* in free blocks flagged FRAME_ZEROED */
	size_t used[FRAME_KINDS];     /* allocated, by kind (TABLE, DATA, META) */
	size_t promised;              /* free frames set aside: <= nfree */
	uint32_t zero_head[FRAME_CPUS]; /* the zero lists, one a CPU (theory 8), by next */
	size_t nzero[FRAME_CPUS];     /* frames on each */
	size_t nzero_list;            /* on all of them; also counted in nfree, nzeroed */
	uint32_t cleared;             /* cleared blocks to collect, linked by their
	                                 heads' next; atomic: pushed without the lock */

	/* Failure injection: when non-zero it counts allocations down; the one
	 * that takes it to 0 fails.  So fail_countdown = k fails the k-th
	 * allocation from now, once. */
	uint32_t fail_countdown;
};

/* A list of allocated blocks linked through their records' next field, so it
 * never runs out of room.  A block is on at most one list. */
struct frame_list {
	uint32_t head;
	uint32_t n;
};

/*
 * Builds the allocator from n usable ranges (sorted, page-aligned,
 * non-overlapping).  Records cover [0, highest end); the record array is
 * carved from the first usable range that holds it and marked FRAME_META.
 * Frame 0 and everything outside the ranges are FRAME_RESERVED.
 * Cost: O(frames) (and a fill of every free frame in debug mode).
 */
int frames_init(struct frames *fr, const struct hm_platform *plat,
                const struct phys_range *ranges, size_t n, unsigned flags);

/* A zeroed (FRAME_ALLOC_ZERO) or unspecified block of 2^order frames, or 0.
 * It never takes promised frames (see frames_promise).
 * Cost: O(FRAME_MAX_ORDER), plus zeroing when the block was not known zero. */
uint64_t frame_alloc(struct frames *fr, unsigned order, unsigned flags);

/*
 * Promises: n free frames set aside, which ordinary allocations cannot take.
 * frames_promise succeeds only if n frames are free beyond those already
 * promised (the commit limit).  To redeem one, frames_unpromise(fr, 1) and
 * then frame_alloc an order-0 frame: that allocation cannot fail for lack of
 * frames (only by injection), whatever the fragmentation.  The caller keeps
 * promised == demand-zero PTEs (commit.c); the page-table layer never
 * touches promises.
 */
bool frames_promise(struct frames *fr, size_t n);
void frames_unpromise(struct frames *fr, size_t n);

/* Free frames nobody was promised: what a new allocation or commit may use. */
static inline size_t frames_available(const struct frames *fr)
{
	return fr->nfree - fr->promised;
}

/*
 * Zeroing ahead, outside the lock (theory 8).  With the lock held,
 * frames_zeroing_take hands out a block of FRAME_ZERO_BATCH spare frames to
 * clear (0: the zero list is long enough, or spare frames are short).  The
 * caller drops the lock and calls frames_zeroing_clear, which clears the
 * block (it is the caller's alone) and leaves it on the cleared stack;
 * frames_zeroing_collect, called by whoever takes the lock next, moves what
 * is there to the zero list.
 */
#define FRAME_ZERO_ORDER  4
#define FRAME_ZERO_BATCH  (1u << FRAME_ZERO_ORDER)
#define FRAME_ZERO_LOW    (2 * FRAME_ZERO_BATCH)   /* take a batch below this */
#define FRAME_ZERO_SPARE  1024u                    /* and only with this many spare */
uint64_t frames_zeroing_take(struct frames *fr);
void frames_zeroing_clear(struct frames *fr, uint64_t pa);
void frames_zeroing_collect_all(struct frames *fr);

/* Up to n frames from the zero list at once, as data frames (what n
 * frame_alloc(0, FRAME_ALLOC_ZERO) would give, for a fraction of the cost):
 * their addresses in pa, the count returned.  For the demand-zero fault,
 * whose frames are promised: never more than are available, and no failure
 * is injected. */
size_t frames_take_zeroed(struct frames *fr, size_t n, uint64_t *pa);

/* Every call makes this check: inline, so an empty stack costs a load. */
static inline void frames_zeroing_collect(struct frames *fr)
{
	if (__atomic_load_n(&fr->cleared, __ATOMIC_RELAXED) != FRAME_NONE)
		frames_zeroing_collect_all(fr);
}

/* Returns the block at pa, allocated with this order, to the allocator and
 * merges it with its free buddies.  A bad pa or order is refused with an
 * error (logged) and changes nothing.  A table frame freed with count 0 is
 * known zero.  Cost: O(FRAME_MAX_ORDER). */
int frame_free(struct frames *fr, uint64_t pa, unsigned order);

/* The record of the frame holding pa; pa must be below nframes frames. */
static inline struct frame *frame_of(const struct frames *fr, uint64_t pa)
{
	return &fr->rec[pa >> FRAME_SHIFT];
}

static inline uint64_t frame_pa(uint32_t index)
{
	return (uint64_t)index << FRAME_SHIFT;
}

static inline bool frame_in_range(const struct frames *fr, uint64_t pa)
{
	return (pa >> FRAME_SHIFT) < fr->nframes;
}

/* Free blocks of one order: walks that free list (tests, statistics). */
size_t frames_free_blocks(const struct frames *fr, unsigned order);

void frame_list_init(struct frame_list *l);
/* Links the allocated block headed by pa; panics if it is already listed. */
void frame_list_push(struct frames *fr, struct frame_list *l, uint64_t pa);
/* Unlinks the most recently pushed block; 0 if the list is empty. */
uint64_t frame_list_pop(struct frames *fr, struct frame_list *l);

/* The debug fill of free frames, one 64-bit word repeated. */
#define FRAME_POISON  0xF4EEDEADF4EEDEADull

#endif
