/*
 * resv.c - the reservation tree.
 *
 * Theory statement
 * ================
 *
 * 1. What is kept.  Every reservation [base, end) of the address space is a
 *    node, keyed by base; an in-order walk visits them in address order.
 *    Reservations are handed out in 64 KiB blocks (G): a node occupies its
 *    span, the blocks [base, bend) with bend = roundup(end, G), and no two
 *    spans share a block.  All spans lie in the managed range [lo, hi), whose
 *    ends are multiples of G.
 *
 * 2. Gaps.  With the nodes in order r1 < r2 < ... < rn, the space where a
 *    new reservation can go is exactly the n + 1 gaps
 *        [lo, r1.base), [r1.bend, r2.base), ..., [rn.bend, hi).
 *    Node ri records in ri.gap the gap just below it, [r(i-1).bend, ri.base)
 *    (for r1, [lo, r1.base)).  The top gap [rn.bend, hi) belongs to no node;
 *    it is found from the rightmost node when needed, in O(log n).
 *    Every gap starts and ends on a block boundary, so gaps are counted in
 *    blocks: a request of s bytes needs ceil(s / G) blocks at a G-aligned
 *    base, and fits in a gap iff the gap has that many.  32 bits count the
 *    blocks of 256 TiB, which is what keeps a node in 64 bytes.
 *
 * 3. The augmentation.  r.max_gap is the largest gap recorded by any node of
 *    r's subtree.  It is a function of the node and its two children only,
 *        max_gap(r) = max(r.gap, max_gap(r.child[0]), max_gap(r.child[1])),
 *    so a rotation repairs it by recomputing the two nodes it moves, and a
 *    change to one node's gap is repaired on the way from it to the root.
 *
 * 4. Invariants, all checked by resv_verify:
 *    - order: in-order bases strictly increase, and r(i-1).bend <= ri.base;
 *    - fields: base a multiple of G, end page-aligned, lo <= base < end <= hi;
 *    - gap: ri.gap == (ri.base - r(i-1).bend) / G, with r0.bend = lo;
 *    - max_gap as in 3;
 *    - AVL: height = 1 + the taller child's height (empty = 0, leaf = 1),
 *      and the children's heights differ by at most one;
 *    - links: a child's parent is its parent, the root's is NULL;
 *    - count is the number of nodes.
 *
 * 5. Placement.  First fit wants the lowest gap of at least need blocks.
 *    Start at the root; if the lower child's max_gap is enough, the answer
 *    is in there (every gap in it is lower): go there; else if this node's
 *    own gap is enough, it is the answer; else it is in the upper child,
 *    whose max_gap must then be enough.  One step per level, so O(height);
 *    whole subtrees whose max_gap is too small are never entered.  If the
 *    root's max_gap is too small, only the top gap is left.  The reservation
 *    starts where the gap starts, r.base - r.gap * G.  Top-down is the
 *    mirror image: the top gap first (it is the highest), then the descent
 *    preferring the upper child, and the reservation ends where its gap ends:
 *    base = r.base - need * G (or hi - need * G).
 *    A fit touches at most 2 * height nodes: the descent and the walk to
 *    the rightmost node.
 *    Aligned placement (resv_fit_aligned, for 2 MiB pages) cannot trust
 *    gap sizes alone: a gap of need blocks holds an aligned start only if
 *    its start falls right.  So it asks for the highest (lowest) gap of at
 *    least need blocks below (above) a bound, checks it for an aligned
 *    start, and moves the bound past it when it has none.  Each question is
 *    one descent, O(height); a placement costs O((k + 1) * height), k the
 *    big-enough gaps passed over for want of alignment.  Padding the size
 *    by align - G instead would be one descent, but it passes over a gap
 *    that holds an aligned start with less room to spare, so "the highest
 *    (lowest) place" would not be.
 *
 * 6. Why AVL.  Every insert and remove changes some node's gap, so the
 *    walk up must at least reach that node; red-black trees' selling point,
 *    O(1) rotations, buys little when the walk is there anyway.  What is left
 *    is height, and AVL's bound (1.44 log2 n against 2 log2 n) makes every
 *    lookup and every placement shorter.  A byte of height per node (rather
 *    than a balance factor) keeps rebalancing plain: recompute, compare the
 *    children, rotate.
 *
 * 7. Updates.  Insert descends to a leaf position, passing the new node's
 *    in-order neighbours on the way: the node's gap runs from its
 *    predecessor's bend (or lo); its successor's gap shrinks to start at the
 *    new node's bend.  The successor is an ancestor of the new leaf, so one
 *    walk up from the leaf refreshes heights and max_gap and rotates
 *    wherever the children's heights differ by two.  Remove gives the
 *    successor the freed space: succ.gap += n.gap + n's span.  A node with two
 *    children is replaced by its successor, which is relinked, not copied:
 *    the caller owns node memory and may hold pointers to it.  Then one walk
 *    up from the lowest changed node.
 *    The walk stops early.  A node's height and max_gap are computed from
 *    its own gap and its children's two fields; so above the highest node
 *    whose gap changed (the successor), a subtree whose (height, max_gap)
 *    comes out equal to the pair stored before the update leaves every
 *    ancestor as it was.  In a tree of a million nodes that ends most walks
 *    a few levels up instead of twenty-odd (measured: tests/bench).  A node
 *    moved into another's place takes over that place's stored pair, which
 *    is what its new parent was computed from.
 *
 * 8. Costs (n nodes; height <= 1.44 log2(n + 2)):
 *        resv_tree_init                                     O(1)
 *        resv_find, _find_block, _next_above, _range_free   O(log n)
 *        resv_fit                                           O(log n)
 *        resv_insert, resv_remove                           O(log n)
 *        resv_first O(log n); resv_next O(1) amortized, O(log n) worst
 *        resv_verify                                        O(n)
 *    resv_fit_aligned                   O((k + 1) log n), k as in 5
 *    Nothing allocates; recursion (resv_verify, the bounded gap searches)
 *    goes no deeper than the tree is high.  No locking: the caller's lock covers the tree.
 */
#include "resv.h"

#define G               RESV_GRAIN
/* An AVL tree of fewer than 2^64 nodes is under 93 high: deeper is a cycle. */
#define RESV_MAX_HEIGHT 96

/* ------------------------------------------------------------ small helpers */

/* The end of r's span: its reservation rounded up to whole blocks. */
static uint64_t resv_bend(const struct resv *r)
{
	return (r->end + G - 1) & ~(G - 1);
}

static unsigned resv_height(const struct resv *r)
{
	return r ? r->height : 0;
}

static uint32_t resv_max_gap(const struct resv *r)
{
	return r ? r->max_gap : 0;
}

/* Recompute r's height and max_gap from r and its children. */
static void resv_pull(struct resv *r)
{
	unsigned h0 = resv_height(r->child[0]), h1 = resv_height(r->child[1]);
	uint32_t m = r->gap;

	if (resv_max_gap(r->child[0]) > m)
		m = resv_max_gap(r->child[0]);
	if (resv_max_gap(r->child[1]) > m)
		m = resv_max_gap(r->child[1]);
	r->height = (uint8_t)(1 + (h0 > h1 ? h0 : h1));
	r->max_gap = m;
}

/* Hang nu (possibly NULL) where old hangs. */
static void resv_replace(struct resv_tree *t, struct resv *old, struct resv *nu)
{
	struct resv *p = old->parent;

	if (!p)
		t->root = nu;
	else
		p->child[p->child[1] == old] = nu;
	if (nu)
		nu->parent = p;
}

static struct resv *resv_extreme(struct resv *x, int side)
{
	while (x && x->child[side])
		x = x->child[side];
	return x;
}

/* ------------------------------------------------------------ balancing */

/* x's child on side d rises into x's place; x becomes its child on side !d. */
static void resv_rotate(struct resv_tree *t, struct resv *x, int d)
{
	struct resv *y = x->child[d];
	struct resv *mid = y->child[!d];

	resv_replace(t, x, y);
	x->child[d] = mid;
	if (mid)
		mid->parent = x;
	y->child[!d] = x;
	x->parent = y;
	resv_pull(x);   /* x is below y now: first */
	resv_pull(y);
}

/* Refresh x; if its children's heights differ by two, rotate it level.
 * Returns the node now at the top of x's old subtree. */
static struct resv *resv_rebalance(struct resv_tree *t, struct resv *x)
{
	int diff = (int)resv_height(x->child[0]) - (int)resv_height(x->child[1]);
	int d = diff > 0 ? 0 : 1;    /* the taller side */
	struct resv *y = x->child[d];

	if (diff >= -1 && diff <= 1) {
		resv_pull(x);
		return x;
	}
	/* A taller inner grandchild would stay too tall: turn it outward first. */
	if (resv_height(y->child[!d]) > resv_height(y->child[d]))
		resv_rotate(t, y, !d);
	resv_rotate(t, x, d);
	return x->parent;
}

/* Above a subtree whose height held, only max_gap can still change, and no
 * rotation is due: this lighter walk refreshes max_gap alone. */
static void resv_gap_fixup(struct resv *x, const struct resv *dirty, bool past)
{
	for (; x; x = x->parent) {
		uint32_t m = x->gap;

		if (resv_max_gap(x->child[0]) > m)
			m = resv_max_gap(x->child[0]);
		if (resv_max_gap(x->child[1]) > m)
			m = resv_max_gap(x->child[1]);
		past = past || x == dirty;
		if (past && m == x->max_gap)
			return;
		x->max_gap = m;
	}
}

/*
 * Restore heights, max_gap and balance on the path from x up (theory, 7).
 * dirty is the highest node of that path whose own gap changed, or NULL.
 * A parent's fields are computed from its children's height and max_gap
 * alone, and a node's stored pair is what its parent was computed from; so
 * once past dirty, the first subtree whose pair comes out as stored ends the
 * walk: nothing above it can change.
 */
static void resv_fixup(struct resv_tree *t, struct resv *x, const struct resv *dirty)
{
	bool past = dirty == NULL;

	while (x) {
		struct resv *up = x->parent;   /* still above x's subtree after rotation */
		unsigned height = x->height;
		uint32_t max_gap = x->max_gap;
		struct resv *top = resv_rebalance(t, x);

		past = past || x == dirty;
		x = up;
		if (top->height != height)
			continue;
		if (!past || top->max_gap != max_gap)
			resv_gap_fixup(x, dirty, past);
		return;
	}
}

/* ------------------------------------------------------------ lookup */

bool resv_tree_init(struct resv_tree *t, uint64_t lo, uint64_t hi)
{
	bool ok = lo < hi && lo % G == 0 && hi % G == 0 &&
	          (hi - lo) / G <= UINT32_MAX;

	t->root = NULL;
	t->hint = NULL;
	t->count = 0;
	t->lo = ok ? lo : 0;
	t->hi = ok ? hi : 0;
	return ok;
}

/* The node with the greatest base <= va, or NULL. */
static struct resv *resv_floor(const struct resv_tree *t, uint64_t va)
{
	struct resv *x = t->root, *best = NULL;

	while (x) {
		if (x->base <= va) {
			best = x;
			x = x->child[1];
		} else {
			x = x->child[0];
		}
	}
	return best;
}

struct resv *resv_find(const struct resv_tree *t, uint64_t va)
{
	struct resv *r = t->hint;

	if (r && r->base <= va && va < r->end)
		return r;
	r = resv_floor(t, va);
	if (!r || va >= r->end)
		return NULL;
	((struct resv_tree *)t)->hint = r;     /* a cache (resv.h) */
	return r;
}

struct resv *resv_find_block(const struct resv_tree *t, uint64_t va)
{
	struct resv *r = resv_floor(t, va);

	return r && va < resv_bend(r) ? r : NULL;
}

struct resv *resv_next_above(const struct resv_tree *t, uint64_t va)
{
	struct resv *x = t->root, *best = NULL;

	while (x) {
		if (x->base > va) {
			best = x;
			x = x->child[0];
		} else {
			x = x->child[1];
		}
	}
	return best;
}

bool resv_range_free(const struct resv_tree *t, uint64_t base, uint64_t end)
{
	uint64_t first, last;
	const struct resv *r;

	if (base < t->lo || base >= end || end > t->hi)
		return false;
	first = base & ~(G - 1);
	last = (end + G - 1) & ~(G - 1);    /* no wrap: end <= hi, hi aligned */
	/* Spans are disjoint and sorted: only the last one starting below
	 * our last block can reach into our blocks. */
	r = resv_floor(t, last - 1);
	return !r || resv_bend(r) <= first;
}

struct resv *resv_first(const struct resv_tree *t)
{
	return resv_extreme(t->root, 0);
}

struct resv *resv_next(const struct resv *n)
{
	const struct resv *x = n;

	if (x->child[1])
		return resv_extreme(x->child[1], 0);
	while (x->parent && x->parent->child[1] == x)
		x = x->parent;
	return x->parent;
}

/* ------------------------------------------------------------ placement */

/* Free blocks above the highest span (the whole range when empty). */
static uint64_t resv_top_gap(const struct resv_tree *t, size_t *seen)
{
	const struct resv *x = t->root;

	if (!x)
		return (t->hi - t->lo) / G;
	for ((*seen)++; x->child[1]; (*seen)++)
		x = x->child[1];
	return (t->hi - resv_bend(x)) / G;
}

/*
 * The node recording a gap of at least need blocks that is lowest
 * (first = 0) or highest (first = 1) in x's subtree, or NULL.
 */
static const struct resv *resv_gap_search(const struct resv *x, uint64_t need,
                                          int first, size_t *seen)
{
	if (!x || x->max_gap < need)
		return NULL;
	for (;;) {
		(*seen)++;
		if (resv_max_gap(x->child[first]) >= need)
			x = x->child[first];
		else if (x->gap >= need)
			return x;
		else
			x = x->child[!first];   /* max_gap says it is in here */
	}
}

/* Each fit also says which node's gap holds the answer (*at, NULL for the
 * top gap): where the new node goes in order (resv_insert_at). */
static bool resv_fit_low(const struct resv_tree *t, uint64_t need,
                         uint64_t *base, const struct resv **at, size_t *seen)
{
	const struct resv *r = resv_gap_search(t->root, need, 0, seen);
	uint64_t top;

	*at = r;
	if (r) {
		*base = r->base - (uint64_t)r->gap * G;
		return true;
	}
	top = resv_top_gap(t, seen);
	if (top < need)
		return false;
	*base = t->hi - top * G;
	return true;
}

static bool resv_fit_high(const struct resv_tree *t, uint64_t need,
                          uint64_t *base, const struct resv **at, size_t *seen)
{
	const struct resv *r;

	*at = NULL;
	if (resv_top_gap(t, seen) >= need) {
		*base = t->hi - need * G;
		return true;
	}
	r = resv_gap_search(t->root, need, 1, seen);
	if (!r)
		return false;
	*at = r;
	*base = r->base - need * G;
	return true;
}

/* The blocks size needs, rounded up without computing size + G - 1 (which
 * could wrap); 0 when size is 0 or more than the range holds, so that a
 * non-zero result keeps need * G and every base in range. */
static uint64_t need_blocks(const struct resv_tree *t, uint64_t size)
{
	uint64_t need = size / G + (size % G != 0);

	return need <= (t->hi - t->lo) / G ? need : 0;
}

static bool resv_fit_node(const struct resv_tree *t, uint64_t size, bool top_down,
                          uint64_t *base, const struct resv **at, size_t *seen)
{
	uint64_t need = need_blocks(t, size);

	if (!need)
		return false;
	return top_down ? resv_fit_high(t, need, base, at, seen)
	                : resv_fit_low(t, need, base, at, seen);
}

bool resv_fit_traced(const struct resv_tree *t, uint64_t size, bool top_down,
                     uint64_t *base, size_t *visits)
{
	const struct resv *at;
	size_t seen = 0;
	bool ok = resv_fit_node(t, size, top_down, base, &at, &seen);

	if (visits)
		*visits = seen;
	return ok;
}

bool resv_fit_at(const struct resv_tree *t, uint64_t size, bool top_down, uint64_t *base,
                 struct resv **at)
{
	const struct resv *r;
	size_t seen = 0;

	if (!resv_fit_node(t, size, top_down, base, &r, &seen))
		return false;
	*at = (struct resv *)r;     /* the caller's own node */
	return true;
}

bool resv_fit(const struct resv_tree *t, uint64_t size, bool top_down,
              uint64_t *base)
{
	return resv_fit_traced(t, size, top_down, base, NULL);
}

/* The highest node of x's subtree with base <= limit whose gap has at least
 * need blocks, or NULL.  Subtrees whose max_gap is too small are skipped. */
static const struct resv *resv_gap_below(const struct resv *x, uint64_t need, uint64_t limit)
{
	const struct resv *r;

	if (!x || x->max_gap < need)
		return NULL;
	if (x->base > limit)
		return resv_gap_below(x->child[0], need, limit);
	r = resv_gap_below(x->child[1], need, limit);
	if (r)
		return r;
	return x->gap >= need ? x : resv_gap_below(x->child[0], need, limit);
}

/* The lowest node of x's subtree with base >= limit whose gap has at least
 * need blocks, or NULL. */
static const struct resv *resv_gap_above(const struct resv *x, uint64_t need, uint64_t limit)
{
	const struct resv *r;

	if (!x || x->max_gap < need)
		return NULL;
	if (x->base < limit)
		return resv_gap_above(x->child[1], need, limit);
	r = resv_gap_above(x->child[0], need, limit);
	if (r)
		return r;
	return x->gap >= need ? x : resv_gap_above(x->child[1], need, limit);
}

/* The aligned start for len bytes in the free [lo, hi) nearest its top (or
 * bottom), or 0 when there is none; lo and hi are block multiples. */
static uint64_t resv_aligned_in(uint64_t lo, uint64_t hi, uint64_t len, uint64_t align,
                                bool top_down)
{
	uint64_t a;

	if (hi - lo < len)
		return 0;
	a = top_down ? (hi - len) & ~(align - 1) : (lo + align - 1) & ~(align - 1);
	return a >= lo && a <= hi - len ? a : 0;
}

static bool resv_fit_aligned_high(const struct resv_tree *t, uint64_t need, uint64_t align,
                                  uint64_t *base)
{
	const struct resv *r;
	size_t seen = 0;
	uint64_t top = resv_top_gap(t, &seen), limit = t->hi;

	*base = resv_aligned_in(t->hi - top * G, t->hi, need * G, align, true);
	while (*base == 0 && (r = resv_gap_below(t->root, need, limit - 1)) != NULL) {
		*base = resv_aligned_in(r->base - (uint64_t)r->gap * G, r->base, need * G, align, true);
		limit = r->base;
	}
	return *base != 0;
}

static bool resv_fit_aligned_low(const struct resv_tree *t, uint64_t need, uint64_t align,
                                 uint64_t *base)
{
	const struct resv *r;
	size_t seen = 0;
	uint64_t top, limit = t->lo;

	*base = 0;
	while (*base == 0 && (r = resv_gap_above(t->root, need, limit)) != NULL) {
		*base = resv_aligned_in(r->base - (uint64_t)r->gap * G, r->base, need * G, align, false);
		limit = r->base + 1;
	}
	if (*base == 0) {
		top = resv_top_gap(t, &seen);
		*base = resv_aligned_in(t->hi - top * G, t->hi, need * G, align, false);
	}
	return *base != 0;
}

bool resv_fit_aligned(const struct resv_tree *t, uint64_t size, uint64_t align, bool top_down,
                      uint64_t *base)
{
	uint64_t need = need_blocks(t, size), at;
	bool ok = false;

	if (need)
		ok = top_down ? resv_fit_aligned_high(t, need, align, &at)
		              : resv_fit_aligned_low(t, need, align, &at);
	if (ok)
		*base = at;
	return ok;
}

/* ------------------------------------------------------------ update */

/* Hang the new leaf n as p's child on side d (p NULL: the root); its gap
 * starts at gap_start, and succ, its in-order successor (NULL: none), is an
 * ancestor of n whose gap now starts at n's bend. */
static void resv_link(struct resv_tree *t, struct resv *n, struct resv *p, int d,
                      uint64_t gap_start, struct resv *succ)
{
	n->child[0] = n->child[1] = NULL;
	n->parent = p;
	if (p)
		p->child[d] = n;
	else
		t->root = n;
	n->gap = (uint32_t)((n->base - gap_start) / G);
	if (succ)     /* an ancestor of n: the fixup below reaches it */
		succ->gap = (uint32_t)((succ->base - resv_bend(n)) / G);
	/* No subtree had height 0: the walk cannot stop at n. */
	n->height = 0;
	n->max_gap = 0;
	t->count++;
	t->hint = n;
	resv_fixup(t, n, succ);
}

void resv_insert(struct resv_tree *t, struct resv *n)
{
	struct resv *x = t->root, *p = NULL, *pred = NULL, *succ = NULL;
	int d = 0;

	while (x) {
		p = x;
		d = n->base > x->base;
		if (d)
			pred = x;
		else
			succ = x;
		x = x->child[d];
	}
	resv_link(t, n, p, d, pred ? resv_bend(pred) : t->lo, succ);
}

/* n goes just below at (the node whose gap holds it), or above the last
 * node: the leaf position is the lowest free place in at's lower subtree
 * (at itself when it has none), or the last node's upper side. */
void resv_insert_at(struct resv_tree *t, struct resv *n, struct resv *at)
{
	struct resv *last;

	if (!at) {
		last = resv_extreme(t->root, 1);
		resv_link(t, n, last, 1, last ? resv_bend(last) : t->lo, NULL);
	} else if (!at->child[0]) {
		resv_link(t, n, at, 0, at->base - (uint64_t)at->gap * G, at);
	} else {
		resv_link(t, n, resv_extreme(at->child[0], 1), 1,
		          at->base - (uint64_t)at->gap * G, at);
	}
}

/* Unlink n, which has at most one child.  Returns where fixup starts. */
static struct resv *resv_unlink_edge(struct resv_tree *t, struct resv *n)
{
	resv_replace(t, n, n->child[0] ? n->child[0] : n->child[1]);
	return n->parent;
}

/*
 * Unlink n, which has two children, moving its successor s (the leftmost
 * node of n's upper subtree, so s has no lower child) into n's place.
 * Returns where fixup starts: the lowest node whose subtree changed.
 */
static struct resv *resv_unlink_inner(struct resv_tree *t, struct resv *n,
                                      struct resv *s)
{
	struct resv *low = s;

	if (s->parent != n) {
		low = s->parent;
		resv_replace(t, s, s->child[1]);
		s->child[1] = n->child[1];
		s->child[1]->parent = s;
	}
	s->child[0] = n->child[0];
	s->child[0]->parent = s;
	resv_replace(t, n, s);
	/* n's parent was computed from n's pair: s stands for it now. */
	s->height = n->height;
	s->max_gap = n->max_gap;
	return low;
}

void resv_remove(struct resv_tree *t, struct resv *n)
{
	struct resv *succ = resv_next(n);
	/* n with an upper child only: that child, a leaf (AVL), is succ. */
	bool succ_below = succ && succ == n->child[1] && !n->child[0];
	struct resv *low;

	if (n->child[0] && n->child[1])
		low = resv_unlink_inner(t, n, succ);
	else
		low = resv_unlink_edge(t, n);
	if (succ)
		succ->gap += n->gap + (uint32_t)((resv_bend(n) - n->base) / G);
	/* Otherwise succ is on the fixup path, as an ancestor of low or as the
	 * node that took n's place: the walk must go past it. */
	if (succ_below)
		resv_pull(succ);
	n->child[0] = n->child[1] = n->parent = NULL;
	t->count--;
	if (t->hint == n)
		t->hint = NULL;
	resv_fixup(t, low, succ_below ? NULL : succ);
}

/* ------------------------------------------------------------ verify */

/* A message being written into the caller's buffer, cut to fit. */
struct resv_why {
	char *buf;
	size_t len, pos;
};

static void why_str(struct resv_why *w, const char *s)
{
	for (; *s; s++)
		if (w->pos + 1 < w->len)
			w->buf[w->pos++] = *s;
	if (w->len)
		w->buf[w->pos] = '\0';
}

static void why_hex(struct resv_why *w, uint64_t v)
{
	char digits[19] = "0x";
	int n, shift;

	for (shift = 60; shift > 0 && (v >> shift) == 0; shift -= 4)
		;
	for (n = 2; shift >= 0; shift -= 4)
		digits[n++] = "0123456789abcdef"[(v >> shift) & 0xf];
	digits[n] = '\0';
	why_str(w, digits);
}

struct resv_audit {
	const struct resv_tree *t;
	int pass;                   /* 1: structure, 2: augmentation */
	const struct resv *prev;    /* the last node visited in order */
	size_t seen;                /* nodes visited in order */
	struct resv_why why;
};

/* Report "resv <base>: <what> <got><rel><want>"; returns false. */
static bool audit_fail(struct resv_audit *a, const struct resv *r,
                       const char *what, uint64_t got, const char *rel,
                       uint64_t want)
{
	a->why.pos = 0;
	if (r) {
		why_str(&a->why, "resv ");
		why_hex(&a->why, r->base);
		why_str(&a->why, ": ");
	}
	why_str(&a->why, what);
	why_str(&a->why, " ");
	why_hex(&a->why, got);
	why_str(&a->why, rel);
	why_hex(&a->why, want);
	return false;
}

/* Pass 1, on the way down: r's link to its parent and its own fields. */
static bool audit_node(struct resv_audit *a, const struct resv *r,
                       const struct resv *parent, unsigned depth)
{
	const struct resv_tree *t = a->t;

	if (depth > RESV_MAX_HEIGHT)
		return audit_fail(a, r, "depth", depth,
		                  " exceeds any AVL tree's (a cycle?): ",
		                  RESV_MAX_HEIGHT);
	if (r->parent != parent)
		return audit_fail(a, r, "parent link", (uintptr_t)r->parent,
		                  " should be ", (uintptr_t)parent);
	if (r->base % G != 0)
		return audit_fail(a, r, "base", r->base, " is not a multiple of ", G);
	if (r->end <= r->base)
		return audit_fail(a, r, "end", r->end, " is not above base ", r->base);
	if (r->end % RESV_PAGE != 0)
		return audit_fail(a, r, "end", r->end, " is not a multiple of ",
		                  RESV_PAGE);
	if (r->base < t->lo)
		return audit_fail(a, r, "base", r->base, " is below lo ", t->lo);
	if (r->end > t->hi)
		return audit_fail(a, r, "end", r->end, " is above hi ", t->hi);
	return true;
}

/* In order, against the predecessor: pass 1 count, order and overlap;
 * pass 2 the gap. */
static bool audit_inorder(struct resv_audit *a, const struct resv *r)
{
	const struct resv *p = a->prev;
	uint64_t below = p ? resv_bend(p) : a->t->lo;

	a->prev = r;
	if (a->pass == 2) {
		if (r->gap != (r->base - below) / G)
			return audit_fail(a, r, "gap (blocks)", r->gap,
			                  " should be ", (r->base - below) / G);
		return true;
	}
	if (++a->seen > a->t->count)
		return audit_fail(a, r, "nodes reached", a->seen,
		                  " exceed count ", a->t->count);
	if (p && p->base >= r->base)
		return audit_fail(a, r, "base", r->base,
		                  " is out of order: it follows base ", p->base);
	if (below > r->base)
		return audit_fail(a, r, "base", r->base,
		                  " is inside the blocks of the span ending at ", below);
	return true;
}

/* On the way up, against the children: pass 1 AVL, pass 2 max_gap. */
static bool audit_shape(struct resv_audit *a, const struct resv *r)
{
	unsigned h0 = resv_height(r->child[0]), h1 = resv_height(r->child[1]);
	uint32_t m = r->gap;

	if (a->pass == 1 && r->height != 1 + (h0 > h1 ? h0 : h1))
		return audit_fail(a, r, "height", r->height,
		                  " should be ", 1 + (h0 > h1 ? h0 : h1));
	if (a->pass == 1 && (h0 > h1 + 1 || h1 > h0 + 1))
		return audit_fail(a, r, "lower child's height", h0,
		                  " is unbalanced with the upper's ", h1);
	if (resv_max_gap(r->child[0]) > m)
		m = resv_max_gap(r->child[0]);
	if (resv_max_gap(r->child[1]) > m)
		m = resv_max_gap(r->child[1]);
	if (a->pass == 2 && r->max_gap != m)
		return audit_fail(a, r, "max_gap (blocks)", r->max_gap,
		                  " should be ", m);
	return true;
}

static bool audit_subtree(struct resv_audit *a, const struct resv *r,
                          const struct resv *parent, unsigned depth)
{
	if (!r)
		return true;
	if (a->pass == 1 && !audit_node(a, r, parent, depth))
		return false;
	return audit_subtree(a, r->child[0], r, depth + 1) &&
	       audit_inorder(a, r) &&
	       audit_subtree(a, r->child[1], r, depth + 1) &&
	       audit_shape(a, r);
}

/*
 * Two in-order walks.  The first checks the structure: links and fields on
 * the way down, order and overlap against the predecessor, AVL heights on
 * the way up, and the count.  Only a sound structure is walked again, for
 * the augmentation (gaps, max_gap), which is derived from it: a broken order
 * is reported as such, not as the wrong gap it also causes.  The first
 * failure stops the walk.
 */
bool resv_verify(const struct resv_tree *t, char *why, size_t why_len)
{
	struct resv_audit a = { t, 1, NULL, 0, { why, why_len, 0 } };

	why_str(&a.why, "");
	if (t->lo > t->hi || t->lo % G != 0 || t->hi % G != 0 ||
	    (t->hi - t->lo) / G > UINT32_MAX)
		return audit_fail(&a, NULL, "range: lo", t->lo, ", hi ", t->hi);
	if (!audit_subtree(&a, t->root, NULL, 1))
		return false;
	if (a.seen != t->count)
		return audit_fail(&a, NULL, "nodes reached", a.seen,
		                  " differ from count ", t->count);
	if (t->hint && resv_floor(t, t->hint->base) != t->hint)
		return audit_fail(&a, NULL, "the hint", (uint64_t)(uintptr_t)t->hint,
		                  " is not a node of the tree; found at its base: ",
		                  (uint64_t)(uintptr_t)resv_floor(t, t->hint->base));
	a.pass = 2;
	a.prev = NULL;
	return audit_subtree(&a, t->root, NULL, 1);
}
