/*
 * test_resv.c - the reservation tree (hostmem/resv.c) against the Reserve
 * rules of CONTRACT.md: 64 KiB placement, partial last blocks, first fit,
 * top-down fit, no room; plus lookups, balance, resv_verify itself, a
 * seeded random run against a brute-force block model, and the O(log n)
 * cost of a fit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem/resv.h"

#define G    RESV_GRAIN
#define P    RESV_PAGE
#define LO   0x10000ull
#define HI   0x7FFFFFFF0000ull

/* ------------------------------------------------------------ helpers */

static void check(const struct resv_tree *t)
{
	char why[256];

	if (!resv_verify(t, why, sizeof why))
		fail_msg("resv_verify: %s", why);
}

/* Reserve [base, end) at a fixed address, as VirtualAlloc would. */
static struct resv *put(struct resv_tree *t, struct resv *n, uint64_t base,
                        uint64_t end)
{
	assert_true(resv_range_free(t, base, end));
	memset(n, 0xA5, sizeof *n);   /* the tree must not trust old links */
	n->base = base;
	n->end = end;
	n->protect = 0x04;
	n->flags = 0;
	resv_insert(t, n);
	check(t);
	return n;
}

static uint64_t fit(const struct resv_tree *t, uint64_t size, bool top_down)
{
	uint64_t base = 0xdead;

	assert_true(resv_fit(t, size, top_down, &base));
	return base;
}

static void no_fit(const struct resv_tree *t, uint64_t size, bool top_down)
{
	uint64_t base = 0xdead;

	assert_false(resv_fit(t, size, top_down, &base));
	assert_int_equal(base, 0xdead);
}

static unsigned log2_ceil(size_t n)
{
	unsigned l = 0;

	while (((size_t)1 << l) < n)
		l++;
	return l;
}

/* ------------------------------------------------------------ placement */

static void test_lowest_fit_takes_the_lowest_free_block(void **state)
{
	struct resv_tree t;
	struct resv a, b;

	assert_true(resv_tree_init(&t, LO, HI));
	assert_int_equal(fit(&t, P, false), LO);
	put(&t, &a, LO, LO + 3 * P);
	/* The rest of a's block is free but holds nothing else. */
	assert_int_equal(fit(&t, P, false), LO + G);
	put(&t, &b, LO + G, LO + 2 * G);
	assert_int_equal(fit(&t, 5 * G + P, false), LO + 2 * G);
}

static void test_top_down_fit_takes_the_highest_free_block(void **state)
{
	struct resv_tree t;
	struct resv a;

	assert_true(resv_tree_init(&t, LO, HI));
	assert_int_equal(fit(&t, P, true), HI - G);
	/* Sizes round up to whole blocks: the end lands in the top block. */
	assert_int_equal(fit(&t, G + P, true), HI - 2 * G);
	assert_int_equal(fit(&t, 2 * G, true), HI - 2 * G);
	put(&t, &a, HI - G, HI - G + P);
	assert_int_equal(fit(&t, P, true), HI - 2 * G);
	assert_int_equal(fit(&t, 3 * G, true), HI - 4 * G);
}

static void test_fixed_placement_conflicts_with_a_partial_last_block(void **state)
{
	struct resv_tree t;
	struct resv a, b;
	uint64_t A = 0x40000000;

	assert_true(resv_tree_init(&t, LO, HI));
	put(&t, &a, A, A + G + P);          /* spans blocks A and A + G */
	assert_false(resv_range_free(&t, A + G, A + 2 * G));
	assert_false(resv_range_free(&t, A + G + 2 * P, A + G + 3 * P));
	assert_false(resv_range_free(&t, A - G, A + P));
	assert_false(resv_range_free(&t, A - G, A - G + 2 * G));
	assert_true(resv_range_free(&t, A - G, A));
	assert_true(resv_range_free(&t, A + 2 * G, A + 2 * G + P));
	put(&t, &b, A + 3 * G, A + 3 * G + P);
	/* Its end only grazes b's block: still a conflict. */
	assert_false(resv_range_free(&t, A + 2 * G, A + 3 * G + P));
	assert_true(resv_range_free(&t, A + 2 * G, A + 3 * G));
}

static void test_fixed_placement_stays_inside_the_range(void **state)
{
	struct resv_tree t;

	assert_true(resv_tree_init(&t, LO, HI));
	assert_false(resv_range_free(&t, 0, P));
	assert_false(resv_range_free(&t, LO - P, LO + P));
	assert_false(resv_range_free(&t, HI - G, HI + P));
	assert_false(resv_range_free(&t, HI, HI + G));
	assert_false(resv_range_free(&t, LO, LO));            /* empty */
	assert_false(resv_range_free(&t, LO + G, LO));        /* reversed */
	assert_false(resv_range_free(&t, LO, UINT64_MAX));
	assert_false(resv_range_free(&t, UINT64_MAX - P, UINT64_MAX));
	assert_true(resv_range_free(&t, LO, HI));
	assert_true(resv_range_free(&t, HI - P, HI));
}

static void test_fit_skips_a_gap_too_small(void **state)
{
	struct resv_tree t;
	struct resv n[4];
	uint64_t A = 0x100000;

	assert_true(resv_tree_init(&t, LO, A + 20 * G));
	put(&t, &n[0], LO, A);
	put(&t, &n[1], A + G, A + G + P);          /* 1-block gap below */
	put(&t, &n[2], A + 4 * G, A + 5 * G);      /* 2-block gap below */
	put(&t, &n[3], A + 9 * G, A + 18 * G + P); /* 4-block gap below */
	assert_int_equal(fit(&t, G, false), A);
	assert_int_equal(fit(&t, G + P, false), A + 2 * G);
	assert_int_equal(fit(&t, 3 * G, false), A + 5 * G);
	assert_int_equal(fit(&t, 4 * G, false), A + 5 * G);
	no_fit(&t, 4 * G + P, false);
	/* Top-down: the top gap (1 block) first, then the highest fitting gap. */
	assert_int_equal(fit(&t, G, true), A + 19 * G);
	assert_int_equal(fit(&t, 2 * G, true), A + 7 * G);
	assert_int_equal(fit(&t, G + P, true), A + 7 * G);
	assert_int_equal(fit(&t, 3 * G, true), A + 6 * G);
	no_fit(&t, 5 * G, true);
}

static void test_fit_reaches_the_range_edges(void **state)
{
	struct resv_tree t;
	struct resv a, b;
	uint64_t hi = LO + 64 * G;

	assert_true(resv_tree_init(&t, LO, hi));
	assert_int_equal(fit(&t, 64 * G, false), LO);
	assert_int_equal(fit(&t, 64 * G, true), LO);
	no_fit(&t, 64 * G + P, false);
	no_fit(&t, 64 * G + P, true);
	put(&t, &a, LO + G, hi - G);
	/* Only the first and the last block are left. */
	assert_int_equal(fit(&t, P, false), LO);
	assert_int_equal(fit(&t, G, true), hi - G);
	no_fit(&t, 2 * G, false);
	put(&t, &b, LO, LO + P);
	assert_int_equal(fit(&t, P, false), hi - G);
	assert_int_equal(fit(&t, P, true), hi - G);
}

static void test_no_room_fails_and_changes_nothing(void **state)
{
	struct resv_tree t;
	struct resv a;
	uint64_t hi = LO + 8 * G;

	assert_true(resv_tree_init(&t, LO, hi));
	put(&t, &a, LO, hi - P);
	for (int td = 0; td < 2; td++) {
		no_fit(&t, P, td);
		no_fit(&t, 0, td);
		no_fit(&t, UINT64_MAX, td);
		no_fit(&t, UINT64_MAX - P + 1, td);
		no_fit(&t, UINT64_MAX & ~(G - 1), td);
		no_fit(&t, (uint64_t)UINT32_MAX * G + G, td);
	}
	resv_remove(&t, &a);
	check(&t);
	for (int td = 0; td < 2; td++) {
		no_fit(&t, 0, td);
		no_fit(&t, UINT64_MAX, td);
		no_fit(&t, 8 * G + P, td);
		assert_int_equal(fit(&t, 8 * G, td), LO);
	}
}

static void test_init_refuses_a_bad_range(void **state)
{
	struct resv_tree t;
	uint64_t base = 0xdead;

	assert_false(resv_tree_init(&t, LO + P, HI));
	assert_false(resv_range_free(&t, LO + G, LO + 2 * G));
	assert_false(resv_fit(&t, P, false, &base));
	check(&t);
	assert_false(resv_tree_init(&t, HI, LO));
	assert_false(resv_tree_init(&t, LO, LO));
	assert_false(resv_tree_init(&t, 0, ((uint64_t)UINT32_MAX + 1) * G));
	assert_true(resv_tree_init(&t, 0, (uint64_t)UINT32_MAX * G));
	assert_int_equal(fit(&t, (uint64_t)UINT32_MAX * G, true), 0);
	assert_true(resv_tree_init(&t, LO, HI));
	check(&t);
}

/* ------------------------------------------------------------ lookup */

static void test_find_find_block_and_next_above(void **state)
{
	struct resv_tree t;
	struct resv a, b;
	uint64_t A = 0x200000;

	assert_true(resv_tree_init(&t, LO, HI));
	assert_null(resv_find(&t, A));
	assert_null(resv_next_above(&t, 0));
	assert_null(resv_first(&t));
	put(&t, &a, A, A + 3 * P);
	put(&t, &b, A + 4 * G, A + 5 * G);

	assert_null(resv_find(&t, A - 1));
	assert_ptr_equal(resv_find(&t, A), &a);
	assert_ptr_equal(resv_find(&t, A + 3 * P - 1), &a);
	assert_null(resv_find(&t, A + 3 * P));          /* tail of the block */
	assert_ptr_equal(resv_find_block(&t, A + 3 * P), &a);
	assert_ptr_equal(resv_find_block(&t, A + G - 1), &a);
	assert_null(resv_find_block(&t, A + G));
	assert_ptr_equal(resv_find(&t, A + 5 * G - 1), &b);
	assert_null(resv_find(&t, A + 5 * G));
	assert_null(resv_find_block(&t, A + 5 * G));

	assert_ptr_equal(resv_next_above(&t, 0), &a);
	assert_ptr_equal(resv_next_above(&t, A - 1), &a);
	assert_ptr_equal(resv_next_above(&t, A), &b);
	assert_ptr_equal(resv_next_above(&t, A + 3 * P), &b);
	assert_null(resv_next_above(&t, A + 4 * G));
	assert_null(resv_next_above(&t, UINT64_MAX));

	assert_ptr_equal(resv_first(&t), &a);
	assert_ptr_equal(resv_next(&a), &b);
	assert_null(resv_next(&b));
}

/* An AVL tree of n nodes is at most 1.44 log2(n + 2) high. */
static void assert_avl_height(const struct resv_tree *t)
{
	double bound = 1.4405 * log2_ceil(t->count + 2);

	if (t->root)
		assert_true(t->root->height <= bound + 1);
}

static void test_remove_rebalances_and_keeps_order(void **state)
{
	enum { N = 512 };
	static struct resv n[N];
	struct resv_tree t;
	int i;

	assert_true(resv_tree_init(&t, LO, LO + 2 * N * G));
	for (i = 0; i < N; i++) {           /* ascending: a plain BST degenerates */
		put(&t, &n[i], LO + 2 * i * G, LO + 2 * i * G + P);
		assert_avl_height(&t);
	}
	assert_int_equal(t.count, N);
	/* Remove from the front, so every removal unbalances the low side. */
	for (i = 0; i < N / 2; i++) {
		assert_ptr_equal(resv_first(&t), &n[i]);
		resv_remove(&t, &n[i]);
		check(&t);
		assert_avl_height(&t);
		assert_null(n[i].parent);
	}
	assert_int_equal(fit(&t, (uint64_t)N * G, false), LO);
	/* Then always the root: the two-children case every time. */
	while (t.root && t.root->child[0] && t.root->child[1]) {
		resv_remove(&t, t.root);
		check(&t);
		assert_avl_height(&t);
	}
	for (struct resv *r = resv_first(&t), *nx; r; r = nx) {
		nx = resv_next(r);
		assert_true(nx == NULL || nx->base > r->base);
	}
	while (t.root) {
		resv_remove(&t, t.root);
		check(&t);
	}
	assert_int_equal(t.count, 0);
	assert_int_equal(fit(&t, 2 * N * G, true), LO);
}

/* ------------------------------------------------------------ verify */

static void build_seven(struct resv_tree *t, struct resv n[7])
{
	assert_true(resv_tree_init(t, LO, HI));
	for (int i = 0; i < 7; i++)
		put(t, &n[i], LO + (uint64_t)(3 * i + 1) * G,
		    LO + (uint64_t)(3 * i + 1) * G + 5 * P);
}

static void expect_broken(const struct resv_tree *t, const char *needle)
{
	char why[160];

	assert_false(resv_verify(t, why, sizeof why));
	print_message("# expected: resv_verify: %s\n", why);
	if (!strstr(why, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, why);
}

static void test_verify_detects_a_corrupted_gap(void **state)
{
	struct resv_tree t;
	struct resv n[7];

	build_seven(&t, n);
	n[3].max_gap += 1;
	expect_broken(&t, "max_gap");
	n[3].max_gap -= 1;
	check(&t);
	n[5].gap = 7;
	expect_broken(&t, "resv 0x110000: gap (blocks) 0x7 should be 0x2");
	n[5].gap = 2;
	check(&t);
}

static void swap_keys(struct resv *a, struct resv *b)
{
	uint64_t base = a->base, end = a->end;

	a->base = b->base;
	a->end = b->end;
	b->base = base;
	b->end = end;
}

static void test_verify_detects_a_broken_order(void **state)
{
	struct resv_tree t;
	struct resv n[7];

	build_seven(&t, n);
	swap_keys(&n[2], &n[4]);
	expect_broken(&t, "out of order: it follows base");
	swap_keys(&n[2], &n[4]);
	check(&t);
	n[2].end = n[3].base + P;      /* runs into its successor's block */
	expect_broken(&t, "inside the blocks");
}

static void test_verify_detects_broken_shape_and_links(void **state)
{
	struct resv_tree t;
	struct resv n[7], *r;
	char tiny[8];

	build_seven(&t, n);
	r = t.root;
	r->height++;
	expect_broken(&t, "height");
	r->height--;
	r->child[0]->parent = r->child[1];
	expect_broken(&t, "parent link");
	r->child[0]->parent = r;
	r->child[1]->child[1]->child[1] = r;   /* a cycle */
	expect_broken(&t, "parent link");
	r->child[1]->child[1]->child[1] = NULL;
	t.count++;
	expect_broken(&t, "differ from count");
	t.count -= 2;
	expect_broken(&t, "exceed count");
	t.count++;
	n[1].base += P;
	expect_broken(&t, "not a multiple");
	n[1].base -= P;
	check(&t);
	/* The message is cut to the buffer, never overrun. */
	t.count++;
	assert_false(resv_verify(&t, tiny, sizeof tiny));
	assert_int_equal(strlen(tiny), sizeof tiny - 1);
	assert_false(resv_verify(&t, NULL, 0));
}

/* ------------------------------------------------------------ random */

/* xorshift64*: the same sequence on every machine. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(uint64_t n)
{
	return rng() % n;
}

/* The model: who owns each block of a small range. */
enum { MB = 48 };                      /* blocks in the range */
#define MHI (LO + MB * G)

struct model {
	struct resv node[MB];
	bool used[MB];
	int owner[MB];                     /* node index, or -1 */
};

static bool model_free(const struct model *m, uint64_t base, uint64_t end)
{
	if (base < LO || base >= end || end > MHI)
		return false;
	for (uint64_t b = (base - LO) / G; b < (end - LO + G - 1) / G; b++)
		if (m->owner[b] >= 0)
			return false;
	return true;
}

static bool model_fit(const struct model *m, uint64_t size, bool top_down,
                      uint64_t *base)
{
	uint64_t need = (size + G - 1) / G;       /* sizes here are small */

	for (int i = 0; i + need <= MB; i++) {
		uint64_t b = top_down ? MB - need - i : (uint64_t)i;

		if (model_free(m, LO + b * G, LO + (b + need) * G)) {
			*base = LO + b * G;
			return true;
		}
	}
	return false;
}

/* The lowest (highest) base that is a multiple of align with room. */
static bool model_fit_aligned(const struct model *m, uint64_t size, uint64_t align,
                              bool top_down, uint64_t *base)
{
	uint64_t need = (size + G - 1) / G, first = (LO + align - 1) & ~(align - 1);
	bool found = false;

	for (uint64_t b = first; b + need * G <= MHI; b += align) {
		if (!model_free(m, b, b + need * G))
			continue;
		*base = b;
		found = true;
		if (!top_down)
			break;
	}
	return found;
}

/* What resv_find (block = false) or resv_find_block should return. */
static struct resv *model_find(struct model *m, uint64_t va, bool block)
{
	for (int i = 0; i < MB; i++) {
		struct resv *r = &m->node[i];
		uint64_t end = block ? (r->end + G - 1) & ~(G - 1) : r->end;

		if (m->used[i] && r->base <= va && va < end)
			return r;
	}
	return NULL;
}

static struct resv *model_next_above(struct model *m, uint64_t va)
{
	struct resv *best = NULL;

	for (int i = 0; i < MB; i++)
		if (m->used[i] && m->node[i].base > va &&
		    (!best || m->node[i].base < best->base))
			best = &m->node[i];
	return best;
}

static void random_reserve(struct resv_tree *t, struct model *m)
{
	uint64_t base = LO + below(MB + 2) * G - (below(4) == 0 ? G : 0);
	uint64_t end = base + (1 + below(3 * G / P)) * P;
	uint64_t loose = base + below(G / P) * P;   /* a fixed, unrounded address */
	int i;

	assert_int_equal(resv_range_free(t, loose, end), model_free(m, loose, end));
	if (!model_free(m, base, end))
		return;
	for (i = 0; m->used[i]; i++)
		;
	put(t, &m->node[i], base, end);
	m->used[i] = true;
	for (uint64_t b = (base - LO) / G; b < (end - LO + G - 1) / G; b++)
		m->owner[b] = i;
}

/* Placement and insertion at the point the fit found (what VirtualAlloc
 * with no address does): the model's place, and a tree as resv_insert
 * would leave it. */
static void random_place(struct resv_tree *t, struct model *m)
{
	uint64_t size = (1 + below(below(4) == 0 ? 40 : 16)) * P, want = 1, got = 2;
	bool td = below(2), ok = model_fit(m, size, td, &want);
	struct resv *at = (struct resv *)0x1;
	int i;

	assert_int_equal(resv_fit_at(t, size, td, &got, &at), ok);
	if (!ok)
		return;
	assert_int_equal(got, want);
	for (i = 0; m->used[i]; i++)
		;
	memset(&m->node[i], 0xA5, sizeof m->node[i]);
	m->node[i].base = got;
	m->node[i].end = got + size;
	resv_insert_at(t, &m->node[i], at);
	check(t);
	m->used[i] = true;
	for (uint64_t b = (got - LO) / G; b < (got + size - LO + G - 1) / G; b++)
		m->owner[b] = i;
}

static void random_release(struct resv_tree *t, struct model *m)
{
	int i = (int)below(MB);

	if (!m->used[i])
		return;
	resv_remove(t, &m->node[i]);
	m->used[i] = false;
	for (int b = 0; b < MB; b++)
		if (m->owner[b] == i)
			m->owner[b] = -1;
}

static void random_fit(const struct resv_tree *t, const struct model *m)
{
	uint64_t size = (1 + below(below(8) == 0 ? MB * 16 + 32 : 48)) * P;
	bool td = below(2);
	uint64_t want = 1, got = 2;
	bool ok = model_fit(m, size, td, &want);

	assert_int_equal(resv_fit(t, size, td, &got), ok);
	if (ok)
		assert_int_equal(got, want);
	/* The same request at a base aligned to 2, 4 or 8 blocks. */
	uint64_t align = G << (1 + below(3));

	ok = model_fit_aligned(m, size, align, td, &want);
	assert_int_equal(resv_fit_aligned(t, size, align, td, &got), ok);
	if (ok)
		assert_int_equal(got, want);
}

/* The padded search this replaced (size + align - G in one gap) passed
 * over a gap holding an aligned start with less to spare.  Here the only
 * 2 MiB-aligned room is [4 MiB, 6 MiB) in a gap of exactly 2 MiB, under a
 * bigger gap whose aligned start is lower. */
static void test_aligned_fit_finds_an_aligned_start_in_a_tight_gap(void **state)
{
	static struct resv n[3];
	const uint64_t M = 0x100000;
	struct resv_tree t;
	uint64_t base = 0;

	assert_true(resv_tree_init(&t, LO, 8 * M));
	put(&t, &n[0], LO, 4 * M);                  /* [4 MiB, 6 MiB) is free */
	put(&t, &n[1], 6 * M, 6 * M + G);           /* [6 MiB + 64 KiB, 8 MiB) is free: no aligned 2 MiB */
	assert_true(resv_fit_aligned(&t, 2 * M, 2 * M, true, &base));
	assert_int_equal(base, 4 * M);
	assert_true(resv_fit_aligned(&t, 2 * M, 2 * M, false, &base));
	assert_int_equal(base, 4 * M);
	put(&t, &n[2], 4 * M, 4 * M + P);
	assert_false(resv_fit_aligned(&t, 2 * M, 2 * M, true, &base));
	assert_false(resv_fit_aligned(&t, 2 * M, 2 * M, false, &base));
}

static void random_lookup(const struct resv_tree *t, struct model *m)
{
	uint64_t va = below(MHI + 2 * G);

	assert_ptr_equal(resv_find(t, va), model_find(m, va, false));
	assert_ptr_equal(resv_find_block(t, va), model_find(m, va, true));
	assert_ptr_equal(resv_next_above(t, va), model_next_above(m, va));
}

static void test_random_operations_match_a_block_model(void **state)
{
	static const uint64_t seeds[] = { 1, 0x9E3779B97F4A7C15ull, 20240601 };
	static struct model m;
	struct resv_tree t;

	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		rng_state = seeds[s];
		memset(&m, 0, sizeof m);
		memset(m.owner, -1, sizeof m.owner);
		assert_true(resv_tree_init(&t, LO, MHI));
		for (int step = 0; step < 20000; step++) {
			uint64_t op = below(10);

			if (op < 3)
				random_reserve(&t, &m);
			else if (op < 4)
				random_place(&t, &m);
			else if (op < 7)
				random_release(&t, &m);
			else if (op < 9)
				random_fit(&t, &m);
			else
				random_lookup(&t, &m);
			check(&t);
		}
	}
}

/* ------------------------------------------------------------ cost */

/* The expected fit, found by scanning every gap: -1 if none is big enough. */
static int scan_fit(const uint32_t *gap, int n, uint64_t need, bool top_down)
{
	int found = -1;

	for (int i = 0; i < n; i++)
		if (gap[i] >= need && (top_down || found < 0))
			found = i;
	return found;
}

/* n reservations of one page each, the gap below node i gap[i] blocks
 * (random 0..7, one of 12), and no room above the last. */
static void build_spread(struct resv_tree *t, struct resv *n, uint32_t *gap,
                         int count)
{
	uint64_t blocks = 0;

	rng_state = 42;
	for (int i = 0; i < count; i++) {
		gap[i] = i == count / 3 ? 12 : (uint32_t)below(8);
		blocks += gap[i] + 1;
	}
	assert_true(resv_tree_init(t, LO, LO + blocks * G));
	for (int i = 0, b = 0; i < count; i++, b++) {
		b += gap[i];
		n[i].base = LO + (uint64_t)b * G;
		n[i].end = n[i].base + P;
		resv_insert(t, &n[i]);
	}
	check(t);
}

static void test_fit_touches_O_log_n_nodes(void **state)
{
	enum { N = 100000 };
	struct resv *n = calloc(N, sizeof *n);
	uint32_t *gap = calloc(N, sizeof *gap);
	struct resv_tree t;
	uint64_t base, limit = 4 * log2_ceil(N) + 8;
	size_t visits, worst = 0;

	assert_true(n && gap);
	build_spread(&t, n, gap, N);
	for (uint64_t need = 1; need <= 13; need++) {
		for (int td = 0; td < 2; td++) {
			int i = scan_fit(gap, N, need, td);
			bool ok = resv_fit_traced(&t, need * G, td, &base, &visits);

			assert_int_equal(ok, i >= 0);
			if (ok)
				assert_int_equal(base, td ? n[i].base - need * G
				                          : n[i].base - gap[i] * G);
			worst = visits > worst ? visits : worst;
			assert_true(visits <= limit);
		}
	}
	print_message("# fit at %d nodes: height %u, at most %zu visits (limit %llu)\n",
	              N, t.root->height, worst, (unsigned long long)limit);
	free(n);
	free(gap);
}

/* The hint (the node last found or inserted) never outlives its node:
 * after a remove, a lookup in the old range finds nothing. */
static void test_hint_never_names_a_removed_node(void **state)
{
	struct resv_tree t;
	struct resv a, b;

	(void)state;
	resv_tree_init(&t, LO, HI);
	put(&t, &a, 0x100000, 0x110000);
	put(&t, &b, 0x200000, 0x210000);
	assert_ptr_equal(resv_find(&t, 0x10F000), &a);
	assert_ptr_equal(t.hint, &a);
	resv_remove(&t, &a);
	check(&t);
	assert_null(resv_find(&t, 0x100000));
	assert_ptr_equal(resv_find(&t, 0x20F000), &b);
	assert_null(resv_find(&t, 0x210000));
	assert_ptr_equal(t.hint, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest_fit_takes_the_lowest_free_block),
		cmocka_unit_test(test_top_down_fit_takes_the_highest_free_block),
		cmocka_unit_test(test_fixed_placement_conflicts_with_a_partial_last_block),
		cmocka_unit_test(test_fixed_placement_stays_inside_the_range),
		cmocka_unit_test(test_fit_skips_a_gap_too_small),
		cmocka_unit_test(test_fit_reaches_the_range_edges),
		cmocka_unit_test(test_no_room_fails_and_changes_nothing),
		cmocka_unit_test(test_init_refuses_a_bad_range),
		cmocka_unit_test(test_find_find_block_and_next_above),
		cmocka_unit_test(test_remove_rebalances_and_keeps_order),
		cmocka_unit_test(test_verify_detects_a_corrupted_gap),
		cmocka_unit_test(test_verify_detects_a_broken_order),
		cmocka_unit_test(test_verify_detects_broken_shape_and_links),
		cmocka_unit_test(test_random_operations_match_a_block_model),
		cmocka_unit_test(test_aligned_fit_finds_an_aligned_start_in_a_tight_gap),
		cmocka_unit_test(test_fit_touches_O_log_n_nodes),
		cmocka_unit_test(test_hint_never_names_a_removed_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
