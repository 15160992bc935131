/*
 * Frames and the buddy allocator: one test per rule, verify after each step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hostmem/frame.h"
#include "hostmem/verify.h"
#include "tests/host/lib/ram.h"

#define KiB 1024ull
#define MiB (1024 * KiB)

struct fx {
	struct ram *ram;
	struct frames fr;
};

static void verified(struct frames *fr, int line)
{
	char why[256];

	if (!verify_frames(fr, why, sizeof why))
		fail_msg("line %d: verify: %s", line, why);
}
#define VERIFIED(fr) verified(fr, __LINE__)

static struct fx *fx_new(size_t ram_bytes, const struct phys_range *r, size_t n, unsigned flags)
{
	struct fx *f = calloc(1, sizeof *f);

	f->ram = ram_new(ram_bytes);
	assert_int_equal(frames_init(&f->fr, &f->ram->plat, r, n, flags), FRAME_OK);
	VERIFIED(&f->fr);
	return f;
}

static void fx_free(struct fx *f)
{
	ram_free(f->ram);
	free(f);
}

/* [4K, 36K) holds exactly the record array of 8 MiB (2048 * 16 bytes), so
 * the allocator starts with a single order-10 block at 4 MiB. */
static const struct phys_range one_block[] = { { 0x1000, 0x9000 }, { 4 * MiB, 8 * MiB } };

static const struct phys_range holes[] = {
	{ 0, 640 * KiB }, { 1 * MiB, 3 * MiB }, { 4 * MiB, 8 * MiB },
};

static bool in_ranges(uint64_t pa, const struct phys_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pa >= r[i].base && pa < r[i].end)
			return true;
	return false;
}

/* ------------------------------------------------------------ init */

static void test_init_marks_holes_reserved_and_carves_the_records(void **state)
{
	struct fx *f = fx_new(8 * MiB, holes, 3, 0);

	assert_int_equal(f->fr.nframes, 2048);
	assert_int_equal(f->fr.meta_frames, 8);
	assert_int_equal(f->fr.meta_pa, 0x1000);          /* never frame 0 */
	assert_int_equal(frame_of(&f->fr, 0)->kind, FRAME_RESERVED);
	assert_int_equal(frame_of(&f->fr, 0x1000)->kind, FRAME_META);
	assert_int_equal(frame_of(&f->fr, 700 * KiB)->kind, FRAME_RESERVED);
	assert_int_equal(frame_of(&f->fr, 3 * MiB + 0x5000)->kind, FRAME_RESERVED);
	assert_int_equal(f->fr.usable, (160 - 1 - 8) + 512 + 1024);
	assert_int_equal(f->fr.nfree, f->fr.usable);
	fx_free(f);
}

static void test_init_rejects_bad_ranges(void **state)
{
	struct ram *ram = ram_new(1 * MiB);
	struct frames fr;
	const struct phys_range unsorted[] = { { 0x8000, 0x9000 }, { 0x1000, 0x2000 } };
	const struct phys_range overlap[] = { { 0x1000, 0x5000 }, { 0x4000, 0x9000 } };
	const struct phys_range unaligned[] = { { 0x1000, 0x5800 } };
	const struct phys_range empty[] = { { 0x5000, 0x5000 } };
	const struct phys_range only_frame0[] = { { 0, 0x1000 } };

	assert_int_equal(frames_init(&fr, &ram->plat, unsorted, 2, 0), FRAME_ERR_RANGES);
	assert_int_equal(frames_init(&fr, &ram->plat, overlap, 2, 0), FRAME_ERR_RANGES);
	assert_int_equal(frames_init(&fr, &ram->plat, unaligned, 1, 0), FRAME_ERR_RANGES);
	assert_int_equal(frames_init(&fr, &ram->plat, empty, 1, 0), FRAME_ERR_RANGES);
	assert_int_equal(frames_init(&fr, &ram->plat, unsorted, 0, 0), FRAME_ERR_RANGES);
	assert_int_equal(frames_init(&fr, &ram->plat, only_frame0, 1, 0), FRAME_ERR_NO_ROOM);
	ram_free(ram);
}

static void test_adjacent_ranges_merge_into_one_block(void **state)
{
	const struct phys_range r[] = { { 0x1000, 0x9000 }, { 4 * MiB, 6 * MiB }, { 6 * MiB, 8 * MiB } };
	struct fx *f = fx_new(8 * MiB, r, 3, 0);

	assert_int_equal(frames_free_blocks(&f->fr, FRAME_MAX_ORDER), 1);
	assert_int_equal(frames_free_blocks(&f->fr, FRAME_MAX_ORDER - 1), 0);
	fx_free(f);
}

/* ------------------------------------------------------------ alloc / free */

static void test_alloc_never_returns_frame_0_holes_or_records(void **state)
{
	const struct phys_range r[] = { { 0, 64 * KiB }, { 1 * MiB, 1 * MiB + 64 * KiB } };
	struct fx *f = fx_new(2 * MiB, r, 2, 0);
	uint64_t got[64];
	size_t n = 0;
	uint64_t pa;

	while ((pa = frame_alloc(&f->fr, 0, 0)) != 0) {
		assert_true(n < 64);
		assert_true(in_ranges(pa, r, 2));
		assert_true(pa >= f->fr.meta_pa + f->fr.meta_frames * FRAME_SIZE || pa < f->fr.meta_pa);
		for (size_t i = 0; i < n; i++)
			assert_true(got[i] != pa);
		got[n++] = pa;
	}
	assert_int_equal(n, f->fr.usable);
	assert_int_equal(n, 16 - 1 - f->fr.meta_frames + 16);   /* minus frame 0 and the records */
	VERIFIED(&f->fr);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(frame_free(&f->fr, got[i], 0), FRAME_OK);
	assert_int_equal(f->fr.nfree, f->fr.usable);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_buddies_split_on_alloc_and_merge_on_free(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t a, b;

	assert_int_equal(frames_free_blocks(&f->fr, 10), 1);
	a = frame_alloc(&f->fr, 0, 0);
	assert_int_equal(a, 4 * MiB);
	for (unsigned k = 0; k < 10; k++)
		assert_int_equal(frames_free_blocks(&f->fr, k), 1);
	assert_int_equal(frames_free_blocks(&f->fr, 10), 0);
	b = frame_alloc(&f->fr, 0, 0);
	assert_int_equal(b, 4 * MiB + FRAME_SIZE);  /* a's buddy */
	assert_int_equal(frames_free_blocks(&f->fr, 0), 0);
	VERIFIED(&f->fr);
	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_OK);
	assert_int_equal(frames_free_blocks(&f->fr, 0), 1);  /* buddy b still in use */
	assert_int_equal(frame_free(&f->fr, b, 0), FRAME_OK);
	assert_int_equal(frames_free_blocks(&f->fr, 10), 1);
	for (unsigned k = 0; k < 10; k++)
		assert_int_equal(frames_free_blocks(&f->fr, k), 0);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_orders_above_10_and_exhaustion_fail_cleanly(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t big;

	assert_int_equal(frame_alloc(&f->fr, 11, 0), 0);
	big = frame_alloc(&f->fr, 10, 0);
	assert_int_equal(big, 4 * MiB);
	assert_int_equal(frame_alloc(&f->fr, 10, 0), 0);
	assert_int_equal(frame_alloc(&f->fr, 0, 0), 0);
	assert_int_equal(f->fr.nfree, 0);
	assert_int_equal(f->fr.used[FRAME_DATA], 1024);
	VERIFIED(&f->fr);
	assert_int_equal(frame_free(&f->fr, big, 10), FRAME_OK);
	assert_int_equal(f->fr.nfree, 1024);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_double_free_is_refused_and_logged(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t a = frame_alloc(&f->fr, 0, 0);
	uint64_t keep = frame_alloc(&f->fr, 0, 0);   /* so a stays an order-0 head when free */
	size_t nfree;

	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_OK);
	nfree = f->fr.nfree;
	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_ERR_DOUBLE_FREE);
	assert_int_equal(f->ram->logs, 1);
	assert_non_null(strstr(f->ram->last_log, "double free"));
	assert_int_equal(f->fr.nfree, nfree);
	VERIFIED(&f->fr);
	/* An interior frame of a free block is just as free. */
	assert_int_equal(frame_free(&f->fr, 6 * MiB + FRAME_SIZE, 0), FRAME_ERR_DOUBLE_FREE);
	assert_int_equal(frame_free(&f->fr, keep, 0), FRAME_OK);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_foreign_frames_are_refused(void **state)
{
	struct fx *f = fx_new(8 * MiB, holes, 3, 0);
	uint64_t pair = frame_alloc(&f->fr, 1, 0);
	size_t nfree = f->fr.nfree;

	assert_int_equal(frame_free(&f->fr, 0, 0), FRAME_ERR_FOREIGN);
	assert_int_equal(frame_free(&f->fr, 700 * KiB, 0), FRAME_ERR_FOREIGN);   /* hole */
	assert_int_equal(frame_free(&f->fr, 64 * MiB, 0), FRAME_ERR_FOREIGN);    /* past the end */
	assert_int_equal(frame_free(&f->fr, pair + 8, 1), FRAME_ERR_FOREIGN);    /* unaligned */
	assert_int_equal(frame_free(&f->fr, f->fr.meta_pa, 0), FRAME_ERR_FOREIGN);
	assert_int_equal(frame_free(&f->fr, pair + FRAME_SIZE, 0), FRAME_ERR_NOT_HEAD);
	assert_int_equal(frame_free(&f->fr, pair, 0), FRAME_ERR_NOT_HEAD);        /* wrong order */
	assert_int_equal(frame_free(&f->fr, pair, 12), FRAME_ERR_NOT_HEAD);
	assert_int_equal(f->ram->logs, 8);
	assert_int_equal(f->fr.nfree, nfree);
	VERIFIED(&f->fr);
	assert_int_equal(frame_free(&f->fr, pair, 1), FRAME_OK);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_a_listed_block_cannot_be_freed(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	struct frame_list l;
	uint64_t a = frame_alloc(&f->fr, 0, 0);

	frame_list_init(&l);
	frame_list_push(&f->fr, &l, a);
	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_ERR_LISTED);
	assert_int_equal(frame_list_pop(&f->fr, &l), a);
	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_OK);
	VERIFIED(&f->fr);
	fx_free(f);
}

/* ------------------------------------------------------------ zeroed blocks */

static void test_zero_alloc_reads_zero_from_junk_ram(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t pa = frame_alloc(&f->fr, 2, FRAME_ALLOC_ZERO);
	const uint8_t *p = ram_ptr(f->ram, pa);

	for (size_t i = 0; i < 4 * FRAME_SIZE; i++)
		assert_int_equal(p[i], 0);
	fx_free(f);
}

static void test_empty_table_frees_as_zeroed_block(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t t = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);
	uint64_t d = frame_alloc(&f->fr, 0, 0);   /* t's buddy: keeps t from merging */

	assert_int_equal(f->fr.nzeroed, 0);
	assert_int_equal(frame_free(&f->fr, t, 0), FRAME_OK);
	assert_int_equal(f->fr.nzeroed, 1);
	VERIFIED(&f->fr);
	assert_int_equal(frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO), t);
	assert_int_equal(f->fr.nzeroed, 0);
	/* A data frame is not known zero when freed. */
	assert_int_equal(frame_free(&f->fr, t, 0), FRAME_OK);
	assert_int_equal(f->fr.nzeroed, 0);
	assert_int_equal(frame_free(&f->fr, d, 0), FRAME_OK);
	VERIFIED(&f->fr);
	fx_free(f);
}


/* ------------------------------------------------------------ zeroing ahead */

/* one_block leaves 1024 free frames, fewer than FRAME_ZERO_SPARE + a batch
 * (nothing is zeroed ahead there); this one has about 3,000. */
static const struct phys_range ample[] = { { 0x1000, 0x9000 }, { 4 * MiB, 16 * MiB } };

static bool all_zero(struct fx *f, uint64_t pa, size_t bytes)
{
	const uint8_t *p = ram_ptr(f->ram, pa);

	for (size_t i = 0; i < bytes; i++)
		if (p[i])
			return false;
	return true;
}

static void test_zeroing_ahead_lends_a_block_and_lists_its_frames(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, FRAMES_DEBUG);
	size_t nfree = f->fr.nfree;
	uint64_t pa = frames_zeroing_take(&f->fr);

	assert_true(pa != 0);
	assert_int_equal(f->fr.used[FRAME_ZEROING], FRAME_ZERO_BATCH);
	assert_int_equal(f->fr.nfree, nfree - FRAME_ZERO_BATCH);   /* no promise rests on it */
	VERIFIED(&f->fr);                                          /* in flight, accounted */
	assert_int_equal(frame_free(&f->fr, pa, FRAME_ZERO_ORDER), FRAME_ERR_FOREIGN);
	frames_zeroing_clear(&f->fr, pa);
	assert_true(all_zero(f, pa, FRAME_ZERO_BATCH * FRAME_SIZE));
	assert_int_equal(f->fr.used[FRAME_ZEROING], FRAME_ZERO_BATCH);   /* until collected */
	assert_int_equal(f->fr.nzero_list, 0);
	VERIFIED(&f->fr);
	frames_zeroing_collect(&f->fr);
	assert_int_equal(f->fr.used[FRAME_ZEROING], 0);
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH);
	assert_int_equal(f->fr.nfree, nfree);
	assert_int_equal(f->fr.nzeroed, FRAME_ZERO_BATCH);
	VERIFIED(&f->fr);
	fx_free(f);
}

/* Blocks cleared by several CPUs before anyone takes the lock are all
 * collected, each once. */
static void test_every_cleared_block_is_collected_once(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t a = frames_zeroing_take(&f->fr), b = frames_zeroing_take(&f->fr);

	assert_true(a && b && a != b);
	frames_zeroing_clear(&f->fr, b);
	frames_zeroing_clear(&f->fr, a);
	frames_zeroing_collect(&f->fr);
	assert_int_equal(f->fr.nzero_list, 2 * FRAME_ZERO_BATCH);
	assert_int_equal(f->fr.used[FRAME_ZEROING], 0);
	frames_zeroing_collect(&f->fr);
	assert_int_equal(f->fr.nzero_list, 2 * FRAME_ZERO_BATCH);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_zeroing_ahead_stops_when_listed_enough_or_spare_is_short(void **state)
{
	struct fx *small = fx_new(8 * MiB, one_block, 2, 0);
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t pa;

	assert_int_equal(frames_zeroing_take(&small->fr), 0);
	while ((pa = frames_zeroing_take(&f->fr)) != 0) {
		frames_zeroing_clear(&f->fr, pa);
		frames_zeroing_collect(&f->fr);
	}
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_LOW);
	/* Promises leave too few spare frames: nothing is lent. */
	f->fr.nzero[0] = 0;
	assert_true(frames_promise(&f->fr, frames_available(&f->fr) - FRAME_ZERO_SPARE));
	assert_int_equal(frames_zeroing_take(&f->fr), 0);
	f->fr.nzero[0] = FRAME_ZERO_LOW;
	VERIFIED(&f->fr);
	fx_free(f);
	fx_free(small);
}

static void test_a_block_known_zero_is_listed_without_clearing(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t t = frame_alloc(&f->fr, FRAME_ZERO_ORDER, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);

	/* A table block freed empty is zero; make it the one taken next. */
	assert_int_equal(frame_free(&f->fr, t, FRAME_ZERO_ORDER), FRAME_OK);
	assert_int_equal(f->fr.nzeroed, FRAME_ZERO_BATCH);
	memset(ram_ptr(f->ram, t), 0x77, 8);   /* a clear would hide this: none may happen */
	assert_int_equal(frames_zeroing_take(&f->fr), 0);
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH);
	assert_int_equal(((uint8_t *)ram_ptr(f->ram, t))[0], 0x77);
	fx_free(f);
}

static void test_zero_allocations_take_the_zero_list_first(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, FRAMES_DEBUG);
	uint64_t pa = frames_zeroing_take(&f->fr), got, plain;

	frames_zeroing_clear(&f->fr, pa);
	frames_zeroing_collect(&f->fr);
	got = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO);
	assert_true(got >= pa && got < pa + FRAME_ZERO_BATCH * FRAME_SIZE);
	assert_true(all_zero(f, got, FRAME_SIZE));
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH - 1);
	plain = frame_alloc(&f->fr, 0, 0);   /* no need for zero: the buddy's */
	assert_true(plain < pa || plain >= pa + FRAME_ZERO_BATCH * FRAME_SIZE);
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH - 1);
	VERIFIED(&f->fr);
	frame_free(&f->fr, got, 0);
	frame_free(&f->fr, plain, 0);
	VERIFIED(&f->fr);
	fx_free(f);
}

/* The buddy is empty but for what the zero list holds: a single frame comes
 * from the list, a larger block from the list drained and merged. */
static void test_the_zero_list_serves_what_the_buddy_cannot(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t pa = frames_zeroing_take(&f->fr), one, big;
	size_t n = 0;

	frames_zeroing_clear(&f->fr, pa);
	frames_zeroing_collect(&f->fr);
	for (unsigned k = FRAME_MAX_ORDER + 1; k-- > 0;)   /* largest first: no split */
		while (f->fr.free_head[k] != FRAME_NONE && frame_alloc(&f->fr, k, 0) != 0)
			n++;
	assert_int_equal(f->fr.nfree, FRAME_ZERO_BATCH);
	one = frame_alloc(&f->fr, 0, 0);
	assert_true(one >= pa && one < pa + FRAME_ZERO_BATCH * FRAME_SIZE);
	assert_int_equal(frame_free(&f->fr, one, 0), FRAME_OK);   /* to the buddy, alone */
	big = frame_alloc(&f->fr, 3, FRAME_ALLOC_ZERO);
	assert_int_equal(big & (8 * FRAME_SIZE - 1), 0);
	assert_true(big >= pa && big < pa + FRAME_ZERO_BATCH * FRAME_SIZE);
	assert_int_equal(f->fr.nzero_list, 0);
	VERIFIED(&f->fr);
	assert_true(n > 0);
	fx_free(f);
}

/* A plain single frame the buddy would split a block for comes from the
 * zero list; one the buddy has at order 0 comes from the buddy. */
static void test_a_frame_that_would_split_a_block_comes_from_the_zero_list(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t pa = frames_zeroing_take(&f->fr), a, b;

	frames_zeroing_clear(&f->fr, pa);
	frames_zeroing_collect(&f->fr);
	while (f->fr.free_head[0] != FRAME_NONE)   /* the low range's odd frames */
		assert_true(frame_alloc(&f->fr, 0, 0) != 0);
	a = frame_alloc(&f->fr, 0, 0);
	assert_true(a >= pa && a < pa + FRAME_ZERO_BATCH * FRAME_SIZE);
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH - 1);
	assert_int_equal(frame_free(&f->fr, a, 0), FRAME_OK);   /* its buddy is listed: no merge */
	b = frame_alloc(&f->fr, 0, 0);
	assert_int_equal(b, a);
	assert_int_equal(f->fr.nzero_list, FRAME_ZERO_BATCH - 1);
	VERIFIED(&f->fr);
	fx_free(f);
}

/* The fault's batch: what the zero list holds, never past what is
 * available, each a zeroed data frame. */
static void test_take_zeroed_gives_listed_frames_within_what_is_available(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, FRAMES_DEBUG);
	uint64_t pa = frames_zeroing_take(&f->fr), got[32];
	size_t n;

	frames_zeroing_clear(&f->fr, pa);
	frames_zeroing_collect(&f->fr);
	assert_true(frames_promise(&f->fr, frames_available(&f->fr) - 3));
	assert_int_equal(frames_take_zeroed(&f->fr, 8, got), 3);   /* the rest is promised */
	frames_unpromise(&f->fr, f->fr.promised);
	n = frames_take_zeroed(&f->fr, 32, got + 3);
	assert_int_equal(n, FRAME_ZERO_BATCH - 3);                 /* all the list had */
	assert_int_equal(f->fr.nzero_list, 0);
	assert_int_equal(f->fr.used[FRAME_DATA], FRAME_ZERO_BATCH);
	for (size_t i = 0; i < FRAME_ZERO_BATCH; i++) {
		assert_true(got[i] >= pa && got[i] < pa + FRAME_ZERO_BATCH * FRAME_SIZE);
		assert_true(all_zero(f, got[i], FRAME_SIZE));
		assert_int_equal(frame_of(&f->fr, got[i])->kind, FRAME_DATA);
	}
	VERIFIED(&f->fr);
	for (size_t i = 0; i < FRAME_ZERO_BATCH; i++)
		assert_int_equal(frame_free(&f->fr, got[i], 0), FRAME_OK);
	VERIFIED(&f->fr);
	fx_free(f);
}

/* Each CPU's cleared frames go to its own zero list, and a CPU takes its
 * own first: it maps what is in its cache.  Another CPU's list is used only
 * when its own is empty. */
static void test_a_cpu_takes_the_frames_it_cleared_first(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t a, b, got;

	f->ram->cpu = 1;
	a = frames_zeroing_take(&f->fr);
	f->ram->cpu = 2;
	b = frames_zeroing_take(&f->fr);
	frames_zeroing_clear(&f->fr, a);   /* cleared, then collected by anyone */
	frames_zeroing_clear(&f->fr, b);
	f->ram->cpu = 0;
	frames_zeroing_collect(&f->fr);
	assert_int_equal(f->fr.nzero[1], FRAME_ZERO_BATCH);
	assert_int_equal(f->fr.nzero[2], FRAME_ZERO_BATCH);
	f->ram->cpu = 2;
	assert_int_equal(frames_take_zeroed(&f->fr, 1, &got), 1);
	assert_true(got >= b && got < b + FRAME_ZERO_BATCH * FRAME_SIZE);
	f->ram->cpu = 1 + FRAME_CPUS;                   /* numbers fold onto the lists */
	got = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO);
	assert_true(got >= a && got < a + FRAME_ZERO_BATCH * FRAME_SIZE);
	f->ram->cpu = 3;                                /* its own is empty: another's */
	assert_int_equal(frames_take_zeroed(&f->fr, 1, &got), 1);
	assert_int_equal(f->fr.nzero[1] + f->fr.nzero[2], 2 * FRAME_ZERO_BATCH - 3);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_verify_checks_the_zero_list(void **state)
{
	struct fx *f = fx_new(16 * MiB, ample, 2, 0);
	uint64_t pa = frames_zeroing_take(&f->fr);
	char why[256];

	frames_zeroing_clear(&f->fr, pa);
	frames_zeroing_collect(&f->fr);
	VERIFIED(&f->fr);
	f->fr.nzero[0]--;
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "zero list 0: counter"));
	f->fr.nzero[0]++;
	f->fr.nzero_list--;
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "zero lists: counter"));
	f->fr.nzero_list++;
	frame_of(&f->fr, pa)->flags &= (uint8_t)~FRAME_ZEROED;
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "zero list 0: frame"));
	frame_of(&f->fr, pa)->flags |= FRAME_ZEROED;
	f->fr.used[FRAME_ZEROING] += FRAME_ZERO_BATCH;   /* a lent block nobody holds */
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "zeroing frames"));
	f->fr.used[FRAME_ZEROING] -= FRAME_ZERO_BATCH;
	VERIFIED(&f->fr);
	fx_free(f);
}

/* ------------------------------------------------------------ debug mode */

static void test_debug_fill_catches_write_after_free(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, FRAMES_DEBUG);
	jmp_buf jb;
	uint64_t pa = frame_alloc(&f->fr, 0, 0);
	uint64_t *w = ram_ptr(f->ram, pa);

	assert_int_equal(frame_free(&f->fr, pa, 0), FRAME_OK);
	assert_true(w[0] == FRAME_POISON && w[511] == FRAME_POISON);
	VERIFIED(&f->fr);
	w[100] = 42;                       /* the bug: a write after free */
	f->ram->panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		frame_alloc(&f->fr, 0, 0);
		fail_msg("the write after free went unnoticed");
	}
	f->ram->panic_jmp = NULL;
	assert_int_equal(f->ram->panics, 1);
	assert_non_null(strstr(f->ram->last_panic, "use after free"));
	assert_non_null(strstr(f->ram->last_log, "use after free"));
	fx_free(f);
}

/* Debug mode fills nothing at boot: free blocks start FRESH (their junk is
 * nobody's data); a fresh half that merges with a freed one takes the
 * pattern then, so the merged block can be checked like any other. */
static void test_debug_blocks_start_fresh_and_take_the_pattern_on_merge(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, FRAMES_DEBUG);
	uint32_t head = f->fr.free_head[FRAME_MAX_ORDER];
	const uint8_t *junk = ram_ptr(f->ram, frame_pa(head));
	uint64_t pa, *w;

	assert_true(f->fr.rec[head].flags & FRAME_FRESH);
	assert_int_equal(junk[100], 0xA5);                 /* not filled */
	pa = frame_alloc(&f->fr, 0, 0);                    /* splits the fresh block */
	assert_int_equal(frame_free(&f->fr, pa, 0), FRAME_OK);
	head = f->fr.free_head[FRAME_MAX_ORDER];
	assert_int_equal(frame_pa(head), pa);              /* merged back whole */
	assert_true(f->fr.rec[head].flags & FRAME_POISONED);
	w = ram_ptr(f->ram, pa);
	for (size_t i = 0; i < 1024 * FRAME_SIZE / 8; i++)
		assert_true(w[i] == FRAME_POISON);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_debug_catches_write_to_freed_zero_block(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, FRAMES_DEBUG);
	jmp_buf jb;
	uint64_t t = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);
	uint64_t d = frame_alloc(&f->fr, 0, 0);

	assert_int_equal(frame_free(&f->fr, t, 0), FRAME_OK);   /* zeroed, not poisoned */
	((uint8_t *)ram_ptr(f->ram, t))[7] = 1;
	f->ram->panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		frame_free(&f->fr, d, 0);       /* merging checks the zero half */
		fail_msg("the write to a free zero block went unnoticed");
	}
	f->ram->panic_jmp = NULL;
	assert_non_null(strstr(f->ram->last_panic, "use after free"));
	fx_free(f);
}

/* ------------------------------------------------------------ counters */

static void test_counters_add_up_by_kind(void **state)
{
	struct fx *f = fx_new(8 * MiB, holes, 3, FRAMES_DEBUG);
	uint64_t t = frame_alloc(&f->fr, 0, FRAME_ALLOC_TABLE | FRAME_ALLOC_ZERO);
	uint64_t d = frame_alloc(&f->fr, 3, 0);
	uint64_t m = frame_alloc(&f->fr, 1, FRAME_ALLOC_META);

	assert_int_equal(f->fr.used[FRAME_TABLE], 1);
	assert_int_equal(f->fr.used[FRAME_DATA], 8);
	assert_int_equal(f->fr.used[FRAME_META], 2);
	assert_int_equal(f->fr.nfree + 11, f->fr.usable);
	VERIFIED(&f->fr);
	frame_free(&f->fr, t, 0);
	frame_free(&f->fr, d, 3);
	frame_free(&f->fr, m, 1);
	assert_int_equal(f->fr.used[FRAME_TABLE] + f->fr.used[FRAME_DATA] + f->fr.used[FRAME_META], 0);
	assert_int_equal(f->fr.nfree, f->fr.usable);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_promised_frames_are_kept_from_allocation(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t a;

	assert_false(frames_promise(&f->fr, 1025));
	assert_true(frames_promise(&f->fr, 1023));
	assert_int_equal(frames_available(&f->fr), 1);
	assert_int_equal(frame_alloc(&f->fr, 1, 0), 0);     /* needs 2 */
	a = frame_alloc(&f->fr, 0, 0);
	assert_true(a != 0);
	assert_int_equal(frame_alloc(&f->fr, 0, 0), 0);
	assert_false(frames_promise(&f->fr, 1));
	/* Redeeming: unpromise one, then an order-0 allocation always works. */
	frames_unpromise(&f->fr, 1);
	assert_true(frame_alloc(&f->fr, 0, 0) != 0);
	assert_int_equal(f->fr.promised, 1022);
	VERIFIED(&f->fr);
	frames_unpromise(&f->fr, 1022);
	assert_int_equal(frames_available(&f->fr), 1022);
	fx_free(f);
}

/* ------------------------------------------------------------ test hooks */

static void test_failure_injection_fails_the_kth_allocation_once(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);

	f->fr.fail_countdown = 3;
	assert_true(frame_alloc(&f->fr, 0, 0) != 0);
	assert_true(frame_alloc(&f->fr, 0, 0) != 0);
	assert_int_equal(frame_alloc(&f->fr, 0, 0), 0);
	assert_true(frame_alloc(&f->fr, 0, 0) != 0);
	assert_int_equal(f->fr.fail_countdown, 0);
	assert_int_equal(f->fr.used[FRAME_DATA], 3);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_frame_list_links_through_records(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	struct frame_list l;
	jmp_buf jb;
	uint64_t pa[100];

	frame_list_init(&l);
	for (int i = 0; i < 100; i++) {
		pa[i] = frame_alloc(&f->fr, 0, 0);
		frame_list_push(&f->fr, &l, pa[i]);
	}
	assert_int_equal(l.n, 100);
	f->ram->panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		frame_list_push(&f->fr, &l, pa[5]);
		fail_msg("a block pushed twice went unnoticed");
	}
	f->ram->panic_jmp = NULL;
	for (int i = 99; i >= 0; i--)
		assert_int_equal(frame_list_pop(&f->fr, &l), pa[i]);
	assert_int_equal(frame_list_pop(&f->fr, &l), 0);
	VERIFIED(&f->fr);
	fx_free(f);
}

static void test_verify_reports_the_first_broken_invariant(void **state)
{
	struct fx *f = fx_new(8 * MiB, one_block, 2, 0);
	uint64_t a = frame_alloc(&f->fr, 0, 0);
	char why[256];
	struct frame saved;
	uint32_t head;

	f->fr.nfree++;
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "free frames"));
	f->fr.nfree--;

	head = f->fr.free_head[3];
	saved = f->fr.rec[head];
	f->fr.rec[head].next = head;                        /* a cycle */
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "free list 3"));
	f->fr.rec[head] = saved;

	frame_of(&f->fr, a)->kind = FRAME_TABLE;            /* counter drift */
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "table frames"));
	frame_of(&f->fr, a)->kind = FRAME_DATA;

	frame_of(&f->fr, 6 * MiB + FRAME_SIZE)->flags |= FRAME_HEAD;   /* a stray head */
	assert_false(verify_frames(&f->fr, why, sizeof why));
	assert_non_null(strstr(why, "0x601000"));
	frame_of(&f->fr, 6 * MiB + FRAME_SIZE)->flags &= (uint8_t)~FRAME_HEAD;
	VERIFIED(&f->fr);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_marks_holes_reserved_and_carves_the_records),
		cmocka_unit_test(test_init_rejects_bad_ranges),
		cmocka_unit_test(test_adjacent_ranges_merge_into_one_block),
		cmocka_unit_test(test_alloc_never_returns_frame_0_holes_or_records),
		cmocka_unit_test(test_buddies_split_on_alloc_and_merge_on_free),
		cmocka_unit_test(test_orders_above_10_and_exhaustion_fail_cleanly),
		cmocka_unit_test(test_double_free_is_refused_and_logged),
		cmocka_unit_test(test_foreign_frames_are_refused),
		cmocka_unit_test(test_a_listed_block_cannot_be_freed),
		cmocka_unit_test(test_zero_alloc_reads_zero_from_junk_ram),
		cmocka_unit_test(test_empty_table_frees_as_zeroed_block),
		cmocka_unit_test(test_zeroing_ahead_lends_a_block_and_lists_its_frames),
		cmocka_unit_test(test_every_cleared_block_is_collected_once),
		cmocka_unit_test(test_zeroing_ahead_stops_when_listed_enough_or_spare_is_short),
		cmocka_unit_test(test_a_block_known_zero_is_listed_without_clearing),
		cmocka_unit_test(test_zero_allocations_take_the_zero_list_first),
		cmocka_unit_test(test_the_zero_list_serves_what_the_buddy_cannot),
		cmocka_unit_test(test_a_frame_that_would_split_a_block_comes_from_the_zero_list),
		cmocka_unit_test(test_take_zeroed_gives_listed_frames_within_what_is_available),
		cmocka_unit_test(test_a_cpu_takes_the_frames_it_cleared_first),
		cmocka_unit_test(test_verify_checks_the_zero_list),
		cmocka_unit_test(test_debug_fill_catches_write_after_free),
		cmocka_unit_test(test_debug_blocks_start_fresh_and_take_the_pattern_on_merge),
		cmocka_unit_test(test_debug_catches_write_to_freed_zero_block),
		cmocka_unit_test(test_counters_add_up_by_kind),
		cmocka_unit_test(test_promised_frames_are_kept_from_allocation),
		cmocka_unit_test(test_failure_injection_fails_the_kth_allocation_once),
		cmocka_unit_test(test_frame_list_links_through_records),
		cmocka_unit_test(test_verify_reports_the_first_broken_invariant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
