/*
 * test_malloc.c - IHostMalloc (CreateMalloc) through the hosted twin
 * (malloc.c), one test per rule.
 *
 * The rules: CreateMalloc takes MALLOC_THREADSAFE | MALLOC_EXECUTABLE and
 * nothing else (E_INVALIDARG), a NULL out-pointer is E_POINTER; the
 * allocator answers QueryInterface for IHostMalloc and IUnknown only; Alloc
 * hands out distinct, 16-byte aligned, non-overlapping blocks of every size,
 * readable and writable through the twin's MMU, executable only when the
 * allocator was made with MALLOC_EXECUTABLE; Free of a pointer it did not
 * hand out (foreign, interior, already freed) is HOST_E_INVALIDOPERATION and
 * changes nothing; a block freed from a full chunk is handed out again
 * from that chunk; DebugAlloc records file and line, and hostmem_malloc_leaks
 * reports exactly the debug blocks not yet freed, with no lock held (the
 * report may Free them); the last Release gives
 * every chunk back; E_OUTOFMEMORY when memory runs out, with the critical
 * level honoured (task-critical fails first).
 *
 * Block addresses are the twin's simulated ones: they are read and written
 * only through hm_sim_read / hm_sim_write (twin.h).
 */
#define _GNU_SOURCE   /* pthread_timedjoin_np */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/host/lib/twin.h"

#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)

#define BASE  0x50000000ull
#define PA(p) ((uint64_t)(uintptr_t)(p))

static IHostMalloc *malloc_ok(struct twin *t, DWORD type)
{
	IHostMalloc *a = (IHostMalloc *)1;

	assert_hr(S_OK, IHostMemoryManager_CreateMalloc(t->m, type, &a));
	assert_non_null(a);
	return a;
}

static uint64_t block_ok(IHostMalloc *a, SIZE_T size)
{
	void *p = VA(1);

	assert_hr(S_OK, IHostMalloc_Alloc(a, size, eTaskCritical, &p));
	assert_non_null(p);
	return PA(p);
}

static void block_free_ok(IHostMalloc *a, uint64_t p)
{
	assert_hr(S_OK, IHostMalloc_Free(a, VA(p)));
}

/* Every size class (16 << 0 .. 16 << 7) at and around its bounds, then
 * sizes that get a reservation of their own. */
static const SIZE_T sizes[] = {
	0, 1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257,
	500, 511, 512, 513, 1000, 1023, 1024, 1025, 2000, 2047, 2048,
	2049, 3000, 4096, 4097, 10000, 65536, 65537, 300000, 1048576,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

struct block { uint64_t p; SIZE_T size; };

static int by_address(const void *x, const void *y)
{
	const struct block *a = x, *b = y;

	return a->p < b->p ? -1 : a->p > b->p;
}

/* No two blocks share a byte (a size-0 block still owns one). */
static void assert_disjoint(struct block *b, size_t n)
{
	qsort(b, n, sizeof *b, by_address);
	for (size_t i = 0; i + 1 < n; i++)
		if (b[i].p + (b[i].size ? b[i].size : 1) > b[i + 1].p)
			fail_msg("block %#llx (%zu bytes) overlaps block %#llx",
			         (unsigned long long)b[i].p, (size_t)b[i].size,
			         (unsigned long long)b[i + 1].p);
}

/* ------------------------------------------------------------ CreateMalloc, QueryInterface */

static void create_malloc_with_an_unknown_type_bit_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	const DWORD bad[] = { 0x4, 0x8, MALLOC_THREADSAFE | 0x100, 0x80000000u, 0xFFFFFFFFu };
	IHostMalloc *a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		a = (IHostMalloc *)1;
		assert_unchanged(t, E_INVALIDARG, IHostMemoryManager_CreateMalloc(t->m, bad[i], &a));
		assert_null(a);
	}
}

static void create_malloc_with_a_null_out_pointer_is_e_pointer(void **state)
{
	struct twin *t = *state;

	assert_unchanged(t, E_POINTER, IHostMemoryManager_CreateMalloc(t->m, MALLOC_THREADSAFE, NULL));
}

static void create_malloc_accepts_every_valid_type(void **state)
{
	struct twin *t = *state;
	const DWORD ok[] = { 0, MALLOC_THREADSAFE, MALLOC_EXECUTABLE,
	                     MALLOC_THREADSAFE | MALLOC_EXECUTABLE };

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		IHostMalloc *a = malloc_ok(t, ok[i]);

		block_free_ok(a, block_ok(a, 24));
		assert_int_equal(IHostMalloc_Release(a), 0);
	}
	assert_stats_at_start(t);
}

static void query_interface_answers_ihostmalloc_and_iunknown_only(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	void *p;

	p = VA(1);
	assert_hr(S_OK, IHostMalloc_QueryInterface(a, &IID_IHostMalloc, &p));
	assert_ptr_equal(p, a);
	p = VA(1);
	assert_hr(S_OK, IHostMalloc_QueryInterface(a, &IID_IUnknown, &p));
	assert_ptr_equal(p, a);
	assert_int_equal(IHostMalloc_Release(a), 2);      /* each success took a reference */
	assert_int_equal(IHostMalloc_Release(a), 1);
	p = VA(1);
	assert_hr(E_NOINTERFACE, IHostMalloc_QueryInterface(a, &IID_IHostMemoryManager, &p));
	assert_null(p);
	p = VA(1);
	assert_hr(E_NOINTERFACE, IHostMalloc_QueryInterface(a, &IID_ICLRMemoryNotificationCallback, &p));
	assert_null(p);
	assert_hr(E_POINTER, IHostMalloc_QueryInterface(a, &IID_IHostMalloc, NULL));
	assert_int_equal(IHostMalloc_AddRef(a), 2);
	assert_int_equal(IHostMalloc_Release(a), 1);
	assert_int_equal(IHostMalloc_Release(a), 0);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ Alloc */

static void alloc_gives_distinct_16_byte_aligned_blocks_of_every_size(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct block b[2 * NSIZES];

	for (size_t i = 0; i < 2 * NSIZES; i++) {
		b[i] = (struct block){ block_ok(a, sizes[i % NSIZES]), sizes[i % NSIZES] };
		assert_int_equal(b[i].p % 16, 0);
		assert_true(b[i].p >= VA_FIRST && b[i].p < VA_END);
	}
	assert_disjoint(b, 2 * NSIZES);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

static void blocks_keep_what_is_written_to_them(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t p[NSIZES];

	/* Whole blocks, each with its own byte: an overlap would show. */
	for (size_t i = 0; i < NSIZES; i++) {
		p[i] = block_ok(a, sizes[i]);
		fill_ok(t, p[i], sizes[i], (uint8_t)(i + 1));
	}
	for (size_t i = 0; i < NSIZES; i++)
		assert_bytes(t, p[i], sizes[i], (uint8_t)(i + 1));
	IHostMalloc_Release(a);
}

/* Executable memory only for an allocator that asked for it. */
static void blocks_are_executable_only_with_malloc_executable(void **state)
{
	struct twin *t = *state;
	IHostMalloc *plain = malloc_ok(t, MALLOC_THREADSAFE);
	IHostMalloc *none = malloc_ok(t, 0);
	IHostMalloc *exec = malloc_ok(t, MALLOC_THREADSAFE | MALLOC_EXECUTABLE);
	const SIZE_T sz[] = { 16, 2048, 100000 };

	for (size_t i = 0; i < 3; i++) {
		uint64_t p = block_ok(plain, sz[i]), q = block_ok(none, sz[i]), x = block_ok(exec, sz[i]);

		assert_code(STATUS_ACCESS_VIOLATION, twin_exec(t, p));
		assert_code(STATUS_ACCESS_VIOLATION, twin_exec(t, q));
		assert_code(0, twin_exec(t, x));
		fill_ok(t, x, sz[i], 0xC3);                      /* and still writable */
		assert_int_equal(query_ok(t, p).Protect, PAGE_READWRITE);
		assert_int_equal(query_ok(t, x).Protect, PAGE_EXECUTE_READWRITE);
	}
	IHostMalloc_Release(plain);
	IHostMalloc_Release(none);
	IHostMalloc_Release(exec);
	assert_stats_at_start(t);
}

static void alloc_with_a_null_out_pointer_is_e_pointer(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);

	assert_unchanged(t, E_POINTER, IHostMalloc_Alloc(a, 16, eTaskCritical, NULL));
	assert_unchanged(t, E_POINTER, IHostMalloc_DebugAlloc(a, 16, eTaskCritical, "f.c", 1, NULL));
	IHostMalloc_Release(a);
}

static void alloc_with_an_invalid_critical_level_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	SIZE_T leaks = 9;
	void *p;

	p = VA(1);
	assert_unchanged(t, E_INVALIDARG, IHostMalloc_Alloc(a, 16, (EMemoryCriticalLevel)3, &p));
	assert_null(p);
	p = VA(1);
	assert_unchanged(t, E_INVALIDARG, IHostMalloc_Alloc(a, 100000, (EMemoryCriticalLevel)-1, &p));
	assert_null(p);
	p = VA(1);
	assert_unchanged(t, E_INVALIDARG, IHostMalloc_DebugAlloc(a, 16, (EMemoryCriticalLevel)7,
	                 "f.c", 1, &p));
	assert_null(p);
	assert_hr(S_OK, hostmem_malloc_leaks(a, NULL, NULL, &leaks));
	assert_int_equal(leaks, 0);
	IHostMalloc_Release(a);
}

/* More than the address space, or than memory: E_OUTOFMEMORY, nothing
 * changed. */
static void alloc_of_more_than_there_is_is_e_outofmemory(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	const SIZE_T big[] = { ~(SIZE_T)0, VA_END, 1ull << 40, 64 * MiB };
	void *p;

	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		p = VA(1);
		assert_unchanged(t, E_OUTOFMEMORY, IHostMalloc_Alloc(a, big[i], eTaskCritical, &p));
		assert_null(p);
	}
	IHostMalloc_Release(a);
}

/* Task-critical blocks stop at the task watermark, leaving memory that an
 * app-domain-critical request still gets; the failing call changes
 * nothing. */
static void alloc_under_pressure_fails_task_critical_first(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	const SIZE_T sz[] = { 64 * KiB, 2048 };        /* a large block, a small class */
	void *p;
	HRESULT hr;

	for (size_t i = 0; i < 2; i++) {
		do {
			p = VA(1);
			hr = IHostMalloc_Alloc(a, sz[i], eTaskCritical, &p);
		} while (hr == S_OK);
		assert_hr(E_OUTOFMEMORY, hr);
		assert_null(p);
		assert_true(twin_stats(t).commit_available >= twin_stats(t).frames_usable / 32 + 128);
		p = VA(1);
		assert_unchanged(t, E_OUTOFMEMORY, IHostMalloc_Alloc(a, sz[i], eTaskCritical, &p));
		assert_null(p);
		assert_hr(S_OK, IHostMalloc_Alloc(a, sz[i], eAppDomainCritical, &p));
		assert_non_null(p);
	}
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

static void a_failed_process_critical_alloc_makes_the_manager_unusable(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE), *b;
	uint64_t keep = block_ok(a, 32);
	void *p;
	HRESULT hr;

	t->dead_ok = true;
	do {
		p = VA(1);
		hr = IHostMalloc_Alloc(a, 64 * KiB, eProcessCritical, &p);
	} while (hr == S_OK);
	assert_hr(E_OUTOFMEMORY, hr);
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMalloc_Alloc(a, 16, eProcessCritical, &p));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMalloc_DebugAlloc(a, 16, eTaskCritical, "f.c", 1, &p));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMalloc_Free(a, VA(keep)));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_CreateMalloc(t->m, 0, &b));
	IHostMalloc_Release(a);
}

/* ------------------------------------------------------------ Free */

/* NULL, a wild address, memory of the manager's own VirtualAlloc, free
 * space, and another allocator's block. */
static void free_of_a_foreign_pointer_is_host_e_invalidoperation(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE), *other = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t mine = block_ok(a, 64), theirs = block_ok(other, 64);
	uint64_t v = alloc_ok(t, BASE, GR, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	const uint64_t foreign[] = { 0, 1, 0x12345670, v, v + 16, 0x70000000, VA_END, ~0ull - 15,
	                             theirs };

	fill_ok(t, mine, 64, 0x11);
	for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
		assert_unchanged(t, HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(foreign[i])));
	block_free_ok(other, theirs);
	block_free_ok(a, mine);
	IHostMalloc_Release(other);
	IHostMalloc_Release(a);
}

static void free_of_an_interior_pointer_is_host_e_invalidoperation(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t s = block_ok(a, 64), l = block_ok(a, 3 * PG);
	const uint64_t inside[] = { s + 1, s + 8, s + 16, s + 63, l + 16, l + PG, l + 3 * PG - 16 };

	for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++)
		assert_unchanged(t, HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(inside[i])));
	block_free_ok(a, s);
	block_free_ok(a, l);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

/* Twice: a small block whose chunk still holds others, the sole block of a
 * chunk (given back with it), a large block. */
static void free_of_an_already_freed_pointer_is_host_e_invalidoperation(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t s1 = block_ok(a, 16), s2 = block_ok(a, 16), sole = block_ok(a, 1024);
	uint64_t l = block_ok(a, 5 * PG);

	fill_ok(t, s2, 16, 0x22);
	block_free_ok(a, s1);
	block_free_ok(a, sole);
	block_free_ok(a, l);
	assert_unchanged(t, HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(s1)));
	assert_unchanged(t, HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(sole)));
	assert_unchanged(t, HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(l)));
	assert_bytes(t, s2, 16, 0x22);
	block_free_ok(a, s2);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

/* A freed block is handed out again (its chunk stays while it has others). */
static void a_freed_block_can_be_allocated_again(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t keep = block_ok(a, 100), p = block_ok(a, 100);

	block_free_ok(a, p);
	assert_int_equal(block_ok(a, 128), p);
	block_free_ok(a, keep);
	IHostMalloc_Release(a);
}

/* A block freed from a full chunk is found again: the chunk goes back on
 * its class's partial list, so the next Alloc of that class reuses the
 * block instead of making a new chunk. */
static void a_block_freed_from_a_full_chunk_is_reused(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t p[256], again;

	for (size_t i = 0; i < 256; i++)
		p[i] = block_ok(a, 64);
	assert_int_equal(twin_stats(t).reservations, 1);      /* one chunk, now full */
	block_free_ok(a, p[100]);
	again = block_ok(a, 64);
	assert_int_equal(again, p[100]);
	assert_int_equal(twin_stats(t).reservations, 1);
	assert_int_equal(query_ok(t, again).AllocationBase, query_ok(t, p[0]).AllocationBase);
	assert_clean(t);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ DebugAlloc, leaks */

struct leak { uint64_t p; SIZE_T size; const char *file; int line; };
struct leaks { size_t n; struct leak l[16]; };

static void collect_leak(void *ctx, void *p, SIZE_T size, const char *file, int line)
{
	struct leaks *ls = ctx;

	assert_true(ls->n < 16);
	ls->l[ls->n++] = (struct leak){ PA(p), size, file, line };
}

/* hostmem_malloc_leaks reports exactly want[0..n), in any order. */
static void assert_leaks(IHostMalloc *a, const struct leak *want, size_t n)
{
	struct leaks got = { 0 };
	SIZE_T count = 99;

	assert_hr(S_OK, hostmem_malloc_leaks(a, collect_leak, &got, &count));
	assert_int_equal(count, n);
	assert_int_equal(got.n, n);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < got.n && got.l[j].p != want[i].p)
			j++;
		if (j == got.n)
			fail_msg("leak %#llx not reported", (unsigned long long)want[i].p);
		assert_int_equal(got.l[j].size, want[i].size);
		assert_string_equal(got.l[j].file, want[i].file);
		assert_int_equal(got.l[j].line, want[i].line);
	}
}

static uint64_t debug_ok(IHostMalloc *a, SIZE_T size, const char *file, int line)
{
	void *p = VA(1);

	assert_hr(S_OK, IHostMalloc_DebugAlloc(a, size, eTaskCritical, (char *)file, line, &p));
	assert_non_null(p);
	assert_int_equal(PA(p) % 16, 0);
	return PA(p);
}

static void debug_alloc_records_file_and_line_of_each_outstanding_block(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct leak w[4];
	uint64_t plain;

	assert_leaks(a, w, 0);
	w[0] = (struct leak){ debug_ok(a, 24, "alpha.c", 10), 24, "alpha.c", 10 };
	plain = block_ok(a, 24);
	w[1] = (struct leak){ debug_ok(a, 5000, "beta.c", 20), 5000, "beta.c", 20 };
	w[2] = (struct leak){ debug_ok(a, 0, "gamma.c", 30), 0, "gamma.c", 30 };
	w[3] = (struct leak){ debug_ok(a, 2048, "alpha.c", 40), 2048, "alpha.c", 40 };
	assert_leaks(a, w, 4);
	block_free_ok(a, plain);                       /* not a debug block: no change */
	assert_leaks(a, w, 4);
	block_free_ok(a, w[1].p);
	w[1] = w[3];
	assert_leaks(a, w, 3);
	block_free_ok(a, w[0].p);
	block_free_ok(a, w[1].p);
	block_free_ok(a, w[2].p);
	assert_leaks(a, w, 0);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

/* A Free that fails is no Free: the debug record stays. */
static void a_refused_free_keeps_the_debug_record(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct leak w = { debug_ok(a, 64, "delta.c", 7), 64, "delta.c", 7 };

	assert_hr(HOST_E_INVALIDOPERATION, IHostMalloc_Free(a, VA(w.p + 16)));
	assert_leaks(a, &w, 1);
	IHostMalloc_Release(a);
}

static void leaks_counts_without_a_report_function_and_needs_a_count(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	SIZE_T count = 0;

	debug_ok(a, 16, "e.c", 1);
	debug_ok(a, 16, "e.c", 2);
	assert_hr(S_OK, hostmem_malloc_leaks(a, NULL, NULL, &count));
	assert_int_equal(count, 2);
	assert_hr(E_POINTER, hostmem_malloc_leaks(a, NULL, NULL, NULL));
	assert_hr(E_POINTER, hostmem_malloc_leaks(NULL, NULL, NULL, &count));
	IHostMalloc_Release(a);
}

/* Checked by the test's own thread: cmocka asserts only there. */
struct freeing {
	IHostMalloc *a;
	size_t n, frees_ok;
	SIZE_T count;
	HRESULT hr;
	uint64_t seen[64];
};

static void free_leak(void *ctx, void *p, SIZE_T size, const char *file, int line)
{
	struct freeing *f = ctx;

	if (f->n < 64)
		f->seen[f->n] = PA(p);
	f->n++;
	f->frees_ok += IHostMalloc_Free(f->a, p) == S_OK;
}

static void *report_and_free(void *arg)
{
	struct freeing *f = arg;

	f->hr = hostmem_malloc_leaks(f->a, free_leak, f, &f->count);
	return arg;
}

/* The report function runs with no lock held, so it may Free the leaked
 * block; every leak is reported once, across batches.  Run in a thread: a
 * report made under the allocator's spinlock would spin for ever. */
static void a_leak_report_may_free_the_block(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct freeing f = { .a = a };
	struct timespec limit;
	pthread_t th;
	uint64_t p[40];

	for (int i = 0; i < 40; i++)
		p[i] = debug_ok(a, 16 + 100 * (SIZE_T)i, "g.c", i);
	assert_int_equal(pthread_create(&th, NULL, report_and_free, &f), 0);
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 10;
	if (pthread_timedjoin_np(th, NULL, &limit) != 0)
		fail_msg("hostmem_malloc_leaks did not return: its report ran under the lock");
	assert_hr(S_OK, f.hr);
	assert_int_equal(f.count, 40);
	assert_int_equal(f.n, 40);
	assert_int_equal(f.frees_ok, 40);
	for (int i = 0; i < 40; i++) {
		size_t j = 0;

		while (j < f.n && f.seen[j] != p[i])
			j++;
		assert_true(j < f.n);
	}
	assert_leaks(a, NULL, 0);
	assert_int_equal(twin_stats(t).reservations, 0);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

/* ------------------------------------------------------------ Release, cycles */

/* The last Release gives back every chunk and record, blocks freed or not. */
static void the_last_release_returns_every_chunk(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE | MALLOC_EXECUTABLE);

	for (size_t i = 0; i < NSIZES; i++)
		block_ok(a, sizes[i]);
	debug_ok(a, 40, "f.c", 1);
	debug_ok(a, 40000, "f.c", 2);
	assert_int_equal(IHostMalloc_AddRef(a), 2);
	assert_int_equal(IHostMalloc_Release(a), 1);   /* still alive: blocks still usable */
	assert_true(twin_stats(t).reservations > 0);
	assert_int_equal(IHostMalloc_Release(a), 0);
	assert_stats_at_start(t);
}

/* A chunk whose last block goes is given back at once. */
static void freeing_every_block_gives_every_chunk_back(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	uint64_t p[NSIZES];
	struct hostmem_stats st;

	for (size_t i = 0; i < NSIZES; i++)
		p[i] = block_ok(a, sizes[i]);
	for (size_t i = 0; i < NSIZES; i++)
		block_free_ok(a, p[i]);
	st = twin_stats(t);
	assert_int_equal(st.reservations, 0);
	assert_int_equal(st.commit_charge, 0);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random sizes, mostly small, now and then large. */
static SIZE_T random_size(void)
{
	uint64_t r = next_random();

	return (r & 15) == 0 ? 2049 + (r >> 8) % (200 * KiB) : (r >> 8) % 2049;
}

/* Many rounds of alloc and free, contents checked as blocks go: nothing
 * left behind, nothing overwritten. */
static void many_alloc_free_cycles_leave_nothing_behind(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct block live[64] = { 0 };

	for (int round = 0; round < 3000; round++) {
		struct block *b = &live[next_random() % 64];

		if (b->p) {
			assert_bytes(t, b->p, b->size, (uint8_t)(b->p >> 4));
			block_free_ok(a, b->p);
			b->p = 0;
		} else {
			b->size = random_size();
			b->p = block_ok(a, b->size);
			fill_ok(t, b->p, b->size, (uint8_t)(b->p >> 4));
		}
	}
	for (size_t i = 0; i < 64; i++)
		if (live[i].p)
			block_free_ok(a, live[i].p);
	assert_int_equal(twin_stats(t).reservations, 0);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

struct worker { IHostMalloc *a; hm_sim *sim; int ok; };

static void *work(void *arg)
{
	struct worker *w = arg;
	void *p[16] = { 0 };
	uint8_t v;

	for (int i = 0; i < 400; i++) {
		int k = i % 16;

		if (p[k]) {
			if (hm_sim_read(w->sim, p[k], &v, 1) || v != (uint8_t)k ||
			    IHostMalloc_Free(w->a, p[k]) != S_OK)
				return NULL;
			p[k] = 0;
		} else {
			v = (uint8_t)k;
			if (IHostMalloc_Alloc(w->a, 16u << (i % 8), eTaskCritical, &p[k]) != S_OK ||
			    hm_sim_write(w->sim, p[k], &v, 1))
				return NULL;
		}
	}
	for (int k = 0; k < 16; k++)
		if (p[k] && IHostMalloc_Free(w->a, p[k]) != S_OK)
			return NULL;
	w->ok = 1;
	return NULL;
}

/* MALLOC_THREADSAFE: one allocator, four threads. */
static void a_threadsafe_allocator_serves_several_threads(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a = malloc_ok(t, MALLOC_THREADSAFE);
	struct worker w[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ a, t->sim, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(w[i].ok);
	}
	assert_int_equal(twin_stats(t).reservations, 0);
	IHostMalloc_Release(a);
	assert_stats_at_start(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(create_malloc_with_an_unknown_type_bit_is_e_invalidarg),
		T(create_malloc_with_a_null_out_pointer_is_e_pointer),
		T(create_malloc_accepts_every_valid_type),
		T(query_interface_answers_ihostmalloc_and_iunknown_only),
		T(alloc_gives_distinct_16_byte_aligned_blocks_of_every_size),
		T(blocks_keep_what_is_written_to_them),
		T(blocks_are_executable_only_with_malloc_executable),
		T(alloc_with_a_null_out_pointer_is_e_pointer),
		T(alloc_with_an_invalid_critical_level_is_e_invalidarg),
		T(alloc_of_more_than_there_is_is_e_outofmemory),
		T(alloc_under_pressure_fails_task_critical_first),
		T(a_failed_process_critical_alloc_makes_the_manager_unusable),
		T(free_of_a_foreign_pointer_is_host_e_invalidoperation),
		T(free_of_an_interior_pointer_is_host_e_invalidoperation),
		T(free_of_an_already_freed_pointer_is_host_e_invalidoperation),
		T(a_freed_block_can_be_allocated_again),
		T(a_block_freed_from_a_full_chunk_is_reused),
		T(debug_alloc_records_file_and_line_of_each_outstanding_block),
		T(a_refused_free_keeps_the_debug_record),
		T(leaks_counts_without_a_report_function_and_needs_a_count),
		T(a_leak_report_may_free_the_block),
		T(the_last_release_returns_every_chunk),
		T(freeing_every_block_gives_every_chunk_back),
		T(many_alloc_free_cycles_leave_nothing_behind),
		T(a_threadsafe_allocator_serves_several_threads),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
