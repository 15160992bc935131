/*
 * Reservations: the set of reserved address ranges of one address space, kept
 * in an AVL tree keyed by base and augmented with free gaps so that lookup,
 * fixed placement, first fit and top-down fit all cost O(log n).
 * The theory statement is at the top of resv.c.
 *
 * The tree never allocates: the caller owns every struct resv (they will
 * come from a slab) and passes it in.  A node belongs to the tree from
 * resv_insert until resv_remove; meanwhile the caller may read every field
 * and write protect and flags, but must not change base or end.
 *
 * Units: addresses and sizes are bytes.  G is the allocation granularity
 * (64 KiB).  A reservation [base, end) occupies the blocks
 * [base, roundup(end, G)): the tail of its last block is free but holds no
 * other reservation.
 */
#ifndef HOSTMEM_RESV_H
#define HOSTMEM_RESV_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define RESV_GRAIN      0x10000ull  /* G, = HM_ALLOCATION_GRANULARITY */
#define RESV_PAGE       0x1000ull   /* = HM_PAGE_SIZE */

/* Suggested meanings for resv.flags; the tree itself never reads them. */
#define RESV_F_WRITE_WATCH  0x1u    /* reserved with MEM_WRITE_WATCH */
#define RESV_F_LARGE_PAGES  0x2u    /* MEM_LARGE_PAGES */
#define RESV_F_ACQUIRED     0x4u    /* AcquiredVirtualAddressSpace: not ours */
#define RESV_F_COMMITTED    0x8u    /* a page was committed once: release must decommit */

struct resv {
	uint64_t base;          /* multiple of G */
	uint64_t end;           /* exclusive, multiple of the page size, > base */
	uint32_t protect;       /* caller's: the AllocationProtect */
	uint32_t flags;         /* caller's: RESV_F_* */

	/* Private to resv.c. */
	struct resv *child[2];  /* [0] lower bases, [1] higher bases */
	struct resv *parent;
	uint32_t gap;           /* free blocks just below base (see resv.c) */
	uint32_t max_gap;       /* largest gap in this subtree, in blocks */
	uint8_t height;         /* of this subtree; a leaf is 1 */
};
/* One cache line; gaps are 32-bit block counts to make it so. */
_Static_assert(sizeof(struct resv) <= 64, "struct resv must fit in 64 bytes");

struct resv_tree {
	struct resv *root;
	uint64_t lo, hi;        /* the managed range [lo, hi) */
	size_t count;           /* nodes in the tree */
	/* The node last inserted or found, or NULL: a cache, as NT's VadHint,
	 * since calls come in runs on one reservation (reserve then commit,
	 * commit then decommit).  resv_find writes it through a const tree:
	 * no tree is a const object, only const views of one are. */
	struct resv *hint;
};

/*
 * Start an empty tree managing [lo, hi).  lo and hi must be multiples of G,
 * lo < hi, and the range at most 2^32 blocks (256 TiB; the x86-64 user half
 * is 128 TiB).  Returns false, leaving a tree in which nothing fits, if not.
 */
bool resv_tree_init(struct resv_tree *t, uint64_t lo, uint64_t hi);

/* The node with base <= va < end, or NULL; O(1) when it is the hint. */
struct resv *resv_find(const struct resv_tree *t, uint64_t va);

/* The node whose blocks [base, roundup(end, G)) contain va, or NULL. */
struct resv *resv_find_block(const struct resv_tree *t, uint64_t va);

/* The lowest node with base > va, or NULL: a free region at va runs to it. */
struct resv *resv_next_above(const struct resv_tree *t, uint64_t va);

/*
 * May [base, end) be reserved?  True when lo <= base < end <= hi and no
 * reservation occupies any block that [base, end) touches.
 */
bool resv_range_free(const struct resv_tree *t, uint64_t base, uint64_t end);

/*
 * Placement for a reservation of size bytes (page-rounded, > 0): the lowest
 * (top_down: the highest) multiple of G, *base, such that [*base, *base +
 * size) is free and inside [lo, hi).  Returns false, *base untouched, if
 * there is none.  Any size is safe, up to UINT64_MAX.
 */
bool resv_fit(const struct resv_tree *t, uint64_t size, bool top_down,
              uint64_t *base);

/*
 * The same for a base that is also a multiple of align (a power of two, a
 * multiple of G): the lowest (highest) such base whose [base, base + size)
 * is free.  Address 0 is never a base here (lo > 0).  Cost: resv.c, 5.
 */
bool resv_fit_aligned(const struct resv_tree *t, uint64_t size, uint64_t align, bool top_down,
                      uint64_t *base);

/*
 * resv_fit that also says where the new node goes: *at is the node whose gap
 * holds *base, or NULL when it is the space above the last node.  Insert
 * with resv_insert_at before anything else changes the tree.
 */
bool resv_fit_at(const struct resv_tree *t, uint64_t size, bool top_down, uint64_t *base,
                 struct resv **at);

/* resv_fit that also counts the nodes it touched into *visits (tests). */
bool resv_fit_traced(const struct resv_tree *t, uint64_t size, bool top_down,
                     uint64_t *base, size_t *visits);

/*
 * Add n, whose base and end the caller has set and checked with
 * resv_range_free.  protect and flags are the caller's and untouched.
 */
void resv_insert(struct resv_tree *t, struct resv *n);

/* resv_insert of n placed by resv_fit_at (at its answer, the tree unchanged
 * since): no descent from the root, n hangs next to at. */
void resv_insert_at(struct resv_tree *t, struct resv *n, struct resv *at);

/* Take n out of the tree; the caller gets the node's memory back. */
void resv_remove(struct resv_tree *t, struct resv *n);

/* In-order walk by base: resv_first, then resv_next until NULL. */
struct resv *resv_first(const struct resv_tree *t);
struct resv *resv_next(const struct resv *n);

/*
 * Check every invariant of the whole tree (resv.c, section 4): the structure
 * first, then the gaps derived from it.  On the first broken one, write what
 * and where into why (NUL-terminated, cut to why_len; why may be NULL when
 * why_len is 0) and return false.  O(n).
 */
bool resv_verify(const struct resv_tree *t, char *why, size_t why_len);

#endif
