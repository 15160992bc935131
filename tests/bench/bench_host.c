/*
 * bench_host.c - what hostmem's operations cost on the hosted twin, next to
 * what the same job costs done the Linux way, in one run.
 *
 * Theory
 * ------
 * 1. Live reservations.  The cost of an operation may grow with the number
 *    of reservations the manager already holds (the reservation tree), so
 *    every operation is measured at 1, 1k, 100k and 1M live reservations.
 *    The background is 64 KiB reservations at fixed addresses with a free
 *    64 KiB block between neighbours: every node of the tree then records a
 *    gap, and a first-fit placement descends the whole height of the tree to
 *    the lowest one, which is the costly case.  The background only grows, so
 *    one twin serves every level.
 *
 * 2. The work area.  A 2 MiB reservation (one page table) where the measured
 *    operations happen.  Page KEEP in it stays committed and resident all
 *    along, as in a heap that is in use: its page table exists, so "commit
 *    one page" measures the PTE work ("warm").  A second reservation, in a
 *    page table of its own with nothing else committed, measures the same
 *    operation on the only page of its table ("cold": the table was built
 *    and freed each time until decommits kept emptied tables).
 *
 * 3. The Linux way is what a hosting layer does on Linux: mmap PROT_NONE to
 *    reserve, mprotect to commit, madvise(MADV_DONTNEED) + mprotect PROT_NONE
 *    to decommit, munmap to release, and a page fault on first touch.  Linux
 *    has no VirtualQuery (a PAL keeps its own map); mincore, the cheapest
 *    system call that looks up a page, stands in as its floor.  The Linux
 *    background is one mapping per live reservation, spaced as hostmem's, so
 *    each is a VMA of its own; vm.max_map_count caps how many can exist, and
 *    the live count actually reached is reported next to each figure.
 *
 * 4. Two measures.  "time" runs natively and reports, per operation, the
 *    median over RUNS runs of the mean ns per operation.  "instr" runs under
 *    valgrind --tool=callgrind --instr-atstart=no: each measured loop is
 *    bracketed by CALLGRIND_START_INSTRUMENTATION / ZERO_STATS and
 *    DUMP_STATS_AT(label), so one dump holds exactly one loop's
 *    instructions; the runner (run.sh) divides by the iterations in the
 *    label.  Setup runs uninstrumented, at a few times native speed.
 *
 * 5. Memory is measured from the manager's own counters, never sizeof:
 *    metadata frames per frame of RAM, metadata frames added per reservation
 *    added, and the page-table pages left after everything is released,
 *    against the count before the first operation.
 *
 * Output: CSV rows on stdout, "kind,op,live,impl,value,note"; run.sh turns
 * them into the table, build/bench/results.csv, .json and the plot.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "hostmem/hostmem.h"
#include "hostmem/sim.h"

#define KiB  0x400ull
#define MiB  0x100000ull
#define GiB  0x40000000ull
#define PG   0x1000ull
#define GR   0x10000ull

#define SIM_RAM      (512 * MiB)     /* 1M nodes take ~64 MiB of slab frames */
#define BG_BASE      0x10000ull      /* background: from the lowest usable block */
#define BG_STRIDE    (2 * GR)        /* 64 KiB reserved, 64 KiB free */
#define WORK_BASE    0x7E0000000000ull  /* 2 MiB-aligned: one page table */
#define WORK_SIZE    (2 * MiB)
#define COLD_BASE    (WORK_BASE + 4 * MiB)  /* a page table of its own */
#define KEEP         200             /* the work page that stays resident */
#define TOUCH_FIRST  256             /* first-touch pages [256, 512) */
#define TOUCH_PAGES  256
#define RUNS         7

static const size_t levels[] = { 1, 1000, 100000, 1000000 };
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

static int instr_mode;   /* under callgrind: count instructions, no Linux */

/* ------------------------------------------------------------ reporting */

static void row(const char *kind, const char *op, size_t live, const char *impl,
                double value, const char *note)
{
	printf("%s,%s,%zu,%s,%.2f,%s\n", kind, op, live, impl, value, note ? note : "");
	fflush(stdout);
}

static void die(const char *what, long code)
{
	fprintf(stderr, "bench_host: %s failed (0x%lx)\n", what, code);
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ------------------------------------------------------------ measuring */

/* One operation to measure: fn does `iters` of it; ctx is its world.  setup
 * and teardown run around each timed loop, outside the clock (first touch
 * needs its pages committed first). */
struct op {
	const char *name;
	void (*fn)(void *ctx, int iters);
	void (*setup)(void *ctx);
	void (*teardown)(void *ctx);
	int iters;        /* per timed run */
	int per_iter;     /* operations one iteration counts as */
};

static double time_once(const struct op *o, void *ctx)
{
	double t0, t1;

	if (o->setup)
		o->setup(ctx);
	t0 = now_ns();
	o->fn(ctx, o->iters);
	t1 = now_ns();
	if (o->teardown)
		o->teardown(ctx);
	return (t1 - t0) / ((double)o->iters * o->per_iter);
}

/* Median of RUNS runs after one warm-up run, in ns per operation. */
static double time_op(const struct op *o, void *ctx)
{
	double t[RUNS];

	time_once(o, ctx);
	for (int r = 0; r < RUNS; r++)
		t[r] = time_once(o, ctx);
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

/* One loop under callgrind: its own dump, labelled with what the runner
 * needs to turn the dump's total into instructions per operation. */
static void instr_op(const struct op *o, void *ctx, size_t live)
{
	char label[96];
	int iters = o->iters < 64 ? o->iters : 64;

	snprintf(label, sizeof label, "ir:%s:%zu:%d", o->name, live, iters * o->per_iter);
	if (o->setup)
		o->setup(ctx);
	o->fn(ctx, 1);   /* warm: first-time paths (slab page, tables) out of the count */
	if (o->teardown)
		o->teardown(ctx);
	if (o->setup)
		o->setup(ctx);
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	o->fn(ctx, iters);
	CALLGRIND_DUMP_STATS_AT(label);
	CALLGRIND_STOP_INSTRUMENTATION;
	if (o->teardown)
		o->teardown(ctx);
}

static void measure(const struct op *ops, size_t n, void *ctx, size_t live,
                    const char *impl, const char *note)
{
	for (size_t i = 0; i < n; i++) {
		if (instr_mode)
			instr_op(&ops[i], ctx, live);
		else
			row("ns", ops[i].name, live, impl, time_op(&ops[i], ctx), note);
	}
}

/* ------------------------------------------------------------ hostmem */

struct hm_ctx {
	hm_sim *sim;
	IHostMemoryManager *m;
	size_t live;          /* background reservations */
	int flip;             /* VirtualProtect alternates READONLY / READWRITE */
};

static void *va(uint64_t a) { return (void *)(uintptr_t)a; }

static void hm_check(HRESULT hr, const char *what)
{
	if (hr != S_OK)
		die(what, (long)(uint32_t)hr);
}

static void hm_commit(struct hm_ctx *c, uint64_t a, uint64_t size)
{
	void *p;

	hm_check(IHostMemoryManager_VirtualAlloc(c->m, va(a), size, MEM_COMMIT, PAGE_READWRITE,
	                                         eTaskCritical, &p), "VirtualAlloc(MEM_COMMIT)");
}

static void hm_decommit(struct hm_ctx *c, uint64_t a, uint64_t size)
{
	hm_check(IHostMemoryManager_VirtualFree(c->m, va(a), size, MEM_DECOMMIT),
	         "VirtualFree(MEM_DECOMMIT)");
}

static void hm_reserve_at(struct hm_ctx *c, uint64_t a, uint64_t size)
{
	void *p;

	hm_check(IHostMemoryManager_VirtualAlloc(c->m, va(a), size, MEM_RESERVE, PAGE_READWRITE,
	                                         eTaskCritical, &p), "VirtualAlloc(MEM_RESERVE)");
}

static void hm_release(struct hm_ctx *c, uint64_t a)
{
	hm_check(IHostMemoryManager_VirtualFree(c->m, va(a), 0, MEM_RELEASE),
	         "VirtualFree(MEM_RELEASE)");
}

static void hm_reserve_release_size(struct hm_ctx *c, int n, uint64_t size)
{
	void *p;

	for (int i = 0; i < n; i++) {
		hm_check(IHostMemoryManager_VirtualAlloc(c->m, NULL, size, MEM_RESERVE,
		                                         PAGE_READWRITE, eTaskCritical, &p),
		         "VirtualAlloc(NULL, MEM_RESERVE)");
		hm_release(c, (uint64_t)(uintptr_t)p);
	}
}

static void hm_reserve_release(void *ctx, int n) { hm_reserve_release_size(ctx, n, 64 * KiB); }
/* What .NET's GC reserves up front: the size must not matter. */
static void hm_reserve_release_256g(void *ctx, int n) { hm_reserve_release_size(ctx, n, 256 * GiB); }


static void hm_commit_1(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		hm_commit(ctx, WORK_BASE, PG);
		hm_decommit(ctx, WORK_BASE, PG);
	}
}

static void hm_commit_1_cold(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		hm_commit(ctx, COLD_BASE, PG);
		hm_decommit(ctx, COLD_BASE, PG);
	}
}

static void hm_commit_64(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		hm_commit(ctx, WORK_BASE, 64 * PG);
		hm_decommit(ctx, WORK_BASE, 64 * PG);
	}
}

static void hm_query(void *ctx, int n)
{
	struct hm_ctx *c = ctx;
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T got;

	for (int i = 0; i < n; i++)
		hm_check(IHostMemoryManager_VirtualQuery(c->m, va(WORK_BASE + KEEP * PG), &mbi,
		                                         sizeof mbi, &got), "VirtualQuery");
}

static void hm_protect(void *ctx, int n)
{
	struct hm_ctx *c = ctx;
	DWORD old;

	for (int i = 0; i < n; i++) {
		c->flip ^= 1;
		hm_check(IHostMemoryManager_VirtualProtect(c->m, va(WORK_BASE + KEEP * PG), PG,
		                                           c->flip ? PAGE_READONLY : PAGE_READWRITE,
		                                           &old), "VirtualProtect");
	}
}

static void hm_touch_setup(void *ctx)
{
	hm_commit(ctx, WORK_BASE + TOUCH_FIRST * PG, TOUCH_PAGES * PG);
}

static void hm_touch_teardown(void *ctx)
{
	hm_decommit(ctx, WORK_BASE + TOUCH_FIRST * PG, TOUCH_PAGES * PG);
}

/* One byte written into each page: the first touch takes the demand-zero
 * fault through the twin's software MMU, as the CPU would. */
static void hm_touch(void *ctx, int n)
{
	struct hm_ctx *c = ctx;
	uint8_t b = 1;

	for (int i = 0; i < n; i++)
		if (hm_sim_write(c->sim, va(WORK_BASE + (TOUCH_FIRST + i) * PG), &b, 1) != 0)
			die("first touch", i);
}

static const struct op hm_ops[] = {
	{ "reserve_release",   hm_reserve_release, 0, 0, 4096, 1 },
	{ "reserve_release_256g", hm_reserve_release_256g, 0, 0, 4096, 1 },
	{ "commit_decommit_1", hm_commit_1,        0, 0, 4096, 1 },
	{ "commit_decommit_1_cold", hm_commit_1_cold, 0, 0, 4096, 1 },
	{ "commit_decommit_64", hm_commit_64,      0, 0, 512, 1 },
	{ "query",             hm_query,           0, 0, 8192, 1 },
	{ "protect",           hm_protect,         0, 0, 8192, 1 },
	{ "first_touch",       hm_touch, hm_touch_setup, hm_touch_teardown, TOUCH_PAGES, 1 },
};

/* ------------------------------------------------------------ hostmem: world */

static void hm_grow(struct hm_ctx *c, size_t live)
{
	for (; c->live < live; c->live++)
		hm_reserve_at(c, BG_BASE + c->live * BG_STRIDE, 64 * KiB);
}

static struct hostmem_stats hm_stats(struct hm_ctx *c)
{
	struct hostmem_stats st;

	hm_check(hostmem_get_stats(c->m, &st), "hostmem_get_stats");
	return st;
}

/* The work area: the reservation with its resident KEEP page, and the cold
 * reservation with nothing committed. */
static void hm_work_open(struct hm_ctx *c)
{
	uint8_t b = 1;

	hm_reserve_at(c, WORK_BASE, WORK_SIZE);
	hm_reserve_at(c, COLD_BASE, 64 * KiB);
	hm_commit(c, WORK_BASE + KEEP * PG, PG);
	if (hm_sim_write(c->sim, va(WORK_BASE + KEEP * PG), &b, 1) != 0)
		die("touch of the KEEP page", 0);
}

static void hm_release_all(struct hm_ctx *c)
{
	hm_release(c, WORK_BASE);
	hm_release(c, COLD_BASE);
	while (c->live > 0) {
		c->live--;
		hm_release(c, BG_BASE + c->live * BG_STRIDE);
	}
}

/* Metadata per frame: the record array is carved from RAM before the
 * allocator is handed the rest, so RAM frames - 1 (frame 0, never given) -
 * usable frames is its size. */
static void mem_per_frame(const struct hostmem_stats *st)
{
	double frames = SIM_RAM / PG;
	double meta = frames - 1 - (double)st->frames_usable;

	row("mem", "meta_bytes_per_frame", 0, "hostmem", meta * PG / frames, "record array / RAM frames");
}

static void mem_per_resv(const struct hostmem_stats *a, const struct hostmem_stats *b)
{
	double n = (double)(b->reservations - a->reservations);
	double bytes = (double)(b->frames_meta - a->frames_meta) * PG;

	row("mem", "meta_bytes_per_resv", (size_t)b->reservations, "hostmem", bytes / n,
	    "slab frames added / reservations added");
}

/* Page-table pages the first commit in a fresh 256 GiB reservation adds:
 * at most one per level below the root on its path (3). */
static double tables_first_commit_256g(struct hm_ctx *c)
{
	struct hostmem_stats a, b;
	void *p, *q;

	hm_check(IHostMemoryManager_VirtualAlloc(c->m, NULL, 256 * GiB, MEM_RESERVE,
	                                         PAGE_READWRITE, eTaskCritical, &p), "reserve 256 GiB");
	a = hm_stats(c);
	hm_check(IHostMemoryManager_VirtualAlloc(c->m, p, PG, MEM_COMMIT, PAGE_READWRITE,
	                                         eTaskCritical, &q), "commit its first page");
	b = hm_stats(c);
	hm_release(c, (uint64_t)(uintptr_t)p);
	return (double)b.frames_tables - (double)a.frames_tables;
}

static void hm_run(void)
{
	struct hm_ctx c = { 0 };
	struct hostmem_stats base, before, after;

	hm_check(hm_sim_create(SIM_RAM, &c.sim), "hm_sim_create");
	c.m = hm_sim_manager(c.sim);
	base = hm_stats(&c);
	hm_work_open(&c);
	before = hm_stats(&c);
	for (size_t l = 0; l < NLEVELS; l++) {
		hm_grow(&c, levels[l]);
		measure(hm_ops, sizeof hm_ops / sizeof hm_ops[0], &c, levels[l], "hostmem", "");
	}
	after = hm_stats(&c);
	hm_release_all(&c);
	if (!instr_mode) {
		struct hostmem_stats end = hm_stats(&c);

		mem_per_frame(&base);
		mem_per_resv(&before, &after);
		row("mem", "tables_baseline", 0, "hostmem", (double)base.frames_tables, "");
		row("mem", "tables_first_commit_256g", 0, "hostmem", tables_first_commit_256g(&c), "");
		row("mem", "tables_at_1M", levels[NLEVELS - 1], "hostmem", (double)after.frames_tables, "");
		row("mem", "tables_after_release", 0, "hostmem", (double)end.frames_tables, "");
		row("mem", "meta_frames_after_release", 0, "hostmem", (double)end.frames_meta, "");
		row("mem", "free_frames_delta_after_release", 0, "hostmem",
		    (double)end.frames_free - (double)base.frames_free, "");
	}
	hm_sim_destroy(c.sim);
}

/* ------------------------------------------------------------ the Linux way */

#define L_BG_BASE    0x200000000000ull
#define L_WORK_BASE  0x3E0000000000ull
#define L_COLD_BASE  (L_WORK_BASE + 4 * MiB)
#define L_MARGIN     256      /* VMAs left for the process and the work area */

struct lx_ctx {
	size_t live;          /* background mappings that exist */
	size_t cap;           /* how many vm.max_map_count lets us make */
	int flip;
};

static char *lva(uint64_t a) { return (char *)(uintptr_t)a; }

static void lx_check(int rc, const char *what)
{
	if (rc != 0)
		die(what, rc);
}

static void lx_reserve_at(uint64_t a, size_t size)
{
	void *p = mmap(lva(a), size, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != lva(a))
		die("mmap(MAP_FIXED_NOREPLACE)", (long)a);
}

static void lx_commit(uint64_t a, size_t size)
{
	lx_check(mprotect(lva(a), size, PROT_READ | PROT_WRITE), "mprotect(RW)");
}

static void lx_decommit(uint64_t a, size_t size)
{
	lx_check(madvise(lva(a), size, MADV_DONTNEED), "madvise(DONTNEED)");
	lx_check(mprotect(lva(a), size, PROT_NONE), "mprotect(NONE)");
}

static void lx_reserve_release_size(int n, uint64_t size)
{
	for (int i = 0; i < n; i++) {
		void *p = mmap(NULL, size, PROT_NONE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			die("mmap(NULL)", i);
		lx_check(munmap(p, size), "munmap");
	}
}

static void lx_reserve_release(void *ctx, int n) { lx_reserve_release_size(n, 64 * KiB); }
static void lx_reserve_release_256g(void *ctx, int n) { lx_reserve_release_size(n, 256 * GiB); }

static void lx_commit_1(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		lx_commit(L_WORK_BASE, PG);
		lx_decommit(L_WORK_BASE, PG);
	}
}

static void lx_commit_1_cold(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		lx_commit(L_COLD_BASE, PG);
		lx_decommit(L_COLD_BASE, PG);
	}
}

static void lx_commit_64(void *ctx, int n)
{
	for (int i = 0; i < n; i++) {
		lx_commit(L_WORK_BASE, 64 * PG);
		lx_decommit(L_WORK_BASE, 64 * PG);
	}
}

static void lx_query(void *ctx, int n)
{
	unsigned char v;

	for (int i = 0; i < n; i++)
		lx_check(mincore(lva(L_WORK_BASE + KEEP * PG), PG, &v), "mincore");
}

static void lx_protect(void *ctx, int n)
{
	struct lx_ctx *c = ctx;

	for (int i = 0; i < n; i++) {
		c->flip ^= 1;
		lx_check(mprotect(lva(L_WORK_BASE + KEEP * PG), PG,
		                  c->flip ? PROT_READ : PROT_READ | PROT_WRITE), "mprotect");
	}
}

static void lx_touch_setup(void *ctx)
{
	lx_commit(L_WORK_BASE + TOUCH_FIRST * PG, TOUCH_PAGES * PG);
}

static void lx_touch_teardown(void *ctx)
{
	lx_decommit(L_WORK_BASE + TOUCH_FIRST * PG, TOUCH_PAGES * PG);
}

static void lx_touch(void *ctx, int n)
{
	for (int i = 0; i < n; i++)
		*(volatile char *)lva(L_WORK_BASE + (TOUCH_FIRST + i) * PG) = 1;
}

static const struct op lx_ops[] = {
	{ "reserve_release",   lx_reserve_release, 0, 0, 4096, 1 },
	{ "reserve_release_256g", lx_reserve_release_256g, 0, 0, 4096, 1 },
	{ "commit_decommit_1", lx_commit_1,        0, 0, 4096, 1 },
	{ "commit_decommit_1_cold", lx_commit_1_cold, 0, 0, 4096, 1 },
	{ "commit_decommit_64", lx_commit_64,      0, 0, 512, 1 },
	{ "query",             lx_query,           0, 0, 8192, 1 },
	{ "protect",           lx_protect,         0, 0, 8192, 1 },
	{ "first_touch",       lx_touch, lx_touch_setup, lx_touch_teardown, TOUCH_PAGES, 1 },
};

/* ------------------------------------------------------------ the Linux way: world */

static size_t read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long v = 0;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* VMAs this process has now: the lines of /proc/self/maps. */
static size_t vma_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int ch;

	if (!f)
		return 0;
	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void lx_work_open(struct lx_ctx *c)
{
	size_t max = read_number("/proc/sys/vm/max_map_count");

	lx_reserve_at(L_WORK_BASE, WORK_SIZE);
	lx_reserve_at(L_COLD_BASE, 64 * KiB);
	madvise(lva(L_WORK_BASE), WORK_SIZE, MADV_NOHUGEPAGE);
	lx_commit(L_WORK_BASE + KEEP * PG, PG);
	*(volatile char *)lva(L_WORK_BASE + KEEP * PG) = 1;
	c->cap = max > vma_count() + L_MARGIN ? max - vma_count() - L_MARGIN : 0;
}

static void lx_grow(struct lx_ctx *c, size_t live)
{
	for (; c->live < live && c->live < c->cap; c->live++)
		lx_reserve_at(L_BG_BASE + c->live * BG_STRIDE, 64 * KiB);
}

static void lx_run(void)
{
	struct lx_ctx c = { 0 };
	char note[96];

	lx_work_open(&c);
	for (size_t l = 0; l < NLEVELS; l++) {
		lx_grow(&c, levels[l]);
		note[0] = '\0';
		if (c.live < levels[l])
			snprintf(note, sizeof note, "capped by vm.max_map_count: %zu live", c.live);
		measure(lx_ops, sizeof lx_ops / sizeof lx_ops[0], &c, levels[l], "linux", note);
	}
	munmap(lva(L_BG_BASE), c.live * BG_STRIDE);
	munmap(lva(L_WORK_BASE), WORK_SIZE);
	munmap(lva(L_COLD_BASE), 64 * KiB);
}

/* ------------------------------------------------------------ threads */

#define THREAD_PAGES 4096    /* 16 MiB per thread: at 64 MiB this machine's own
                                memset no longer scales with 2 threads */
#define THREAD_RAM   (64 * MiB)
#define TOUCH_BASE  0x60000000000ull

#define TOUCH_ROUNDS 10

struct toucher {
	hm_sim *sim;
	uint64_t base;
	unsigned *go, *ready, *done, n;    /* the round to run; threads running it;
	                                      threads finished with it (under *lock) */
	pthread_mutex_t *lock;
	pthread_cond_t *finished;          /* done went up */
	double t0[TOUCH_ROUNDS], t1[TOUCH_ROUNDS];
};

/* Waits until *word reaches want, spinning with pause (a thread about to
 * run a round) or sleeping 20 us at a time (one waiting for the round to
 * start); 10 s is a hang. */
static void wait_for(unsigned *word, unsigned want, bool sleep)
{
	double t0 = now_ns();

	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) < want) {
		if (sleep)
			usleep(20);
		else
			__builtin_ia32_pause();
		if (now_ns() - t0 > 10e9)
			die("a bench thread waited 10 s", 0);
	}
}

/* First touches of a reservation of its own, round after round: each a
 * demand-zero fault.  A round starts when *go says so (asleep till then, so
 * a thread that is done takes no core from one that is not), and only once
 * every thread is running again (wake-ups can come milliseconds apart). */
static void *touch_own(void *arg)
{
	struct toucher *t = arg;
	uint8_t one = 1;

	for (unsigned r = 0; r < TOUCH_ROUNDS; r++) {
		wait_for(t->go, r + 1, true);
		__atomic_add_fetch(t->ready, 1, __ATOMIC_SEQ_CST);
		wait_for(t->ready, t->n * (r + 1), false);
		t->t0[r] = now_ns();
		for (uint64_t p = 0; p < THREAD_PAGES; p++)
			if (hm_sim_write(t->sim, va(t->base + p * PG), &one, 1))
				die("a first touch", 0);
		t->t1[r] = now_ns();
		pthread_mutex_lock(t->lock);
		__atomic_add_fetch(t->done, 1, __ATOMIC_SEQ_CST);
		pthread_cond_signal(t->finished);
		pthread_mutex_unlock(t->lock);
	}
	return 0;
}

/* The host maps all of the twin's RAM first (its own first touches are
 * not hostmem's cost); every page of the n reservations is written once
 * from this thread, then decommitted and committed again, so the frames
 * are dirty, as in a process that has been running a while. */
static void touch_warm(hm_sim *sim, struct toucher *t, unsigned n)
{
	IHostMemoryManager *m = hm_sim_manager(sim);
	uint8_t one = 1;
	void *p;
	volatile uint8_t *ram = hm_sim_ram(sim);

	for (size_t b = 0; b < THREAD_RAM; b += PG)
		ram[b] = ram[b];   /* the host maps the page; hostmem's bytes stay */
	for (unsigned k = 0; k < n; k++) {
		for (uint64_t i = 0; i < THREAD_PAGES; i++)
			if (hm_sim_write(sim, va(t[k].base + i * PG), &one, 1))
				die("a warm-up touch", 0);
		hm_check(IHostMemoryManager_VirtualFree(m, va(t[k].base), THREAD_PAGES * PG,
		         MEM_DECOMMIT), "VirtualFree");
		hm_check(IHostMemoryManager_VirtualAlloc(m, va(t[k].base), THREAD_PAGES * PG,
		         MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p), "VirtualAlloc");
	}
}

/* Wall time for n threads to first-touch THREAD_PAGES pages each, on their
 * own committed reservations of one warm twin, in TOUCH_ROUNDS rounds (the
 * pages decommitted and committed again between rounds, off the clock): the
 * sum of each round's time from the first start to the last end, as each
 * thread clocks itself. */
static double touch_threads(unsigned n)
{
	struct toucher t[4];
	pthread_t th[4];
	hm_sim *sim;
	IHostMemoryManager *m;
	unsigned go = 0, ready = 0, done = 0;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
	double sum = 0;
	void *p;

	hm_check(hm_sim_create(THREAD_RAM, &sim), "hm_sim_create");
	m = hm_sim_manager(sim);
	for (unsigned k = 0; k < n; k++) {
		t[k] = (struct toucher){ .sim = sim, .base = TOUCH_BASE + k * 0x100000000ull,
		                         .go = &go, .ready = &ready, .done = &done, .n = n,
		                         .lock = &lock, .finished = &finished };
		hm_check(IHostMemoryManager_VirtualAlloc(m, va(t[k].base), THREAD_PAGES * PG,
		         MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p), "VirtualAlloc");
	}
	touch_warm(sim, t, n);
	for (unsigned k = 0; k < n; k++)
		pthread_create(&th[k], 0, touch_own, &t[k]);
	for (unsigned r = 0; r < TOUCH_ROUNDS; r++) {
		double t0 = 0, t1 = 0;

		__atomic_store_n(&go, r + 1, __ATOMIC_SEQ_CST);
		/* Asleep in the kernel until the last thread is done: a main thread
		 * polling, even every 20 us, takes a core from a touching one each
		 * time it wakes, and with 2 threads on 2 cores that is their time. */
		pthread_mutex_lock(&lock);
		while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) < n * (r + 1))
			pthread_cond_wait(&finished, &lock);
		pthread_mutex_unlock(&lock);
		for (unsigned k = 0; k < n; k++) {
			t0 = (k == 0 || t[k].t0[r] < t0) ? t[k].t0[r] : t0;
			t1 = (k == 0 || t[k].t1[r] > t1) ? t[k].t1[r] : t1;
			hm_check(IHostMemoryManager_VirtualFree(m, va(t[k].base), THREAD_PAGES * PG,
			         MEM_DECOMMIT), "VirtualFree");
			hm_check(IHostMemoryManager_VirtualAlloc(m, va(t[k].base), THREAD_PAGES * PG,
			         MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p), "VirtualAlloc");
		}
		sum += t1 - t0;
	}
	for (unsigned k = 0; k < n; k++)
		pthread_join(th[k], 0);
	hm_sim_destroy(sim);
	return sum;
}

struct filler { uint8_t *buf; unsigned *ready, n; double t0, t1; };

/* The baseline: each thread clears its own THREAD_PAGES pages of host
 * memory, already mapped, as hostmem clears frames (memset). */
static void *fill_own(void *arg)
{
	struct filler *f = arg;

	__atomic_add_fetch(f->ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(f->ready, __ATOMIC_SEQ_CST) < f->n)
		__builtin_ia32_pause();
	f->t0 = now_ns();
	for (uint64_t p = 0; p < THREAD_PAGES; p++)
		memset(f->buf + p * PG, 0, PG);
	f->t1 = now_ns();
	return 0;
}

static double fill_threads(unsigned n, uint8_t **bufs)
{
	struct filler f[2];
	unsigned ready = 0;
	pthread_t th[2];
	double t0, t1;

	for (unsigned k = 0; k < n; k++) {
		f[k] = (struct filler){ bufs[k], &ready, n, 0, 0 };
		pthread_create(&th[k], 0, fill_own, &f[k]);
	}
	for (unsigned k = 0; k < n; k++)
		pthread_join(th[k], 0);
	t0 = f[0].t0;
	t1 = f[0].t1;
	for (unsigned k = 1; k < n; k++) {
		t0 = f[k].t0 < t0 ? f[k].t0 : t0;
		t1 = f[k].t1 > t1 ? f[k].t1 : t1;
	}
	return t1 - t0;
}

/* First-touch throughput with 2 threads as a ratio to 1 (best of 5 each),
 * and, measured in the same run, the same ratio for the machine's own
 * memset over as much memory: what 2 host threads can gain at all here. */
static void smp_run(void)
{
	double one = 0, two = 0, fone = 0, ftwo = 0;
	uint8_t *bufs[2];

	for (int i = 0; i < 5; i++) {
		double a = touch_threads(1), b = touch_threads(2);

		one = (i == 0 || a < one) ? a : one;
		two = (i == 0 || b < two) ? b : two;
	}
	for (int k = 0; k < 2; k++) {
		bufs[k] = aligned_alloc(PG, THREAD_PAGES * PG);
		memset(bufs[k], 1, THREAD_PAGES * PG);
	}
	for (int i = 0; i < 9; i++) {
		double a = fill_threads(1, bufs), b = fill_threads(2, bufs);

		fone = (i == 0 || a < fone) ? a : fone;
		ftwo = (i == 0 || b < ftwo) ? b : ftwo;
	}
	free(bufs[0]);
	free(bufs[1]);
	row("smp", "first_touch_2_threads_speedup", 2, "hostmem", 2 * one / two, "");
	row("smp", "memset_2_threads_speedup", 2, "machine", 2 * fone / ftwo, "");
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "time") && strcmp(mode, "instr") && strcmp(mode, "smp")) {
		fprintf(stderr, "usage: bench_host time|instr|smp\n"
		        "  time   ns per operation, hostmem and Linux (CSV on stdout)\n"
		        "  smp    only the threaded first-touch ratio (CSV on stdout)\n"
		        "  instr  under valgrind --tool=callgrind --instr-atstart=no:\n"
		        "         one dump per measured loop, labelled ir:OP:LIVE:OPS\n");
		return 2;
	}
	instr_mode = !strcmp(mode, "instr");
	if (!instr_mode)
		printf("kind,op,live,impl,value,note\n");
	if (!strcmp(mode, "smp")) {
		smp_run();
		return 0;
	}
	hm_run();
	if (!instr_mode) {
		lx_run();
		smp_run();
	}
	return 0;
}
