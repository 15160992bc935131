/*
 * test_bad_input.c - a catalogue of bad inputs: each returns its documented
 * HRESULT (CONTRACT.md, README "HRESULT table") and changes nothing.
 *
 * One table per method.  Every entry runs against the same fixture and is
 * checked with a full snapshot before and after (the VirtualQuery walk of
 * the whole space, the contents of every committed page, every counter) and
 * a clean verify; a failing VirtualAlloc must also leave *ppMem NULL.  The
 * fixture:
 *   R      0x50000000  17 pages reserved READWRITE: pages 0-7 committed and
 *                      written, 8-16 reserved only; its second 64 KiB block
 *                      is mostly a free tail no reservation may use
 *   NC     0x50100000  2 pages committed READWRITE|NOCACHE
 *   LP     0x50200000  one 2 MiB large page, READWRITE
 *   GONE   0x50600000  reserved, then released
 *   BLOCK, FREED       an IHostMalloc block, and one already freed
 * Then one test for the dead state: after E_FAIL every call is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "hostmem/embed.h"
#include "tests/host/lib/corrupt.h"
#include "tests/host/lib/twin.h"

#define R       0x50000000ull
#define NC      0x50100000ull
#define LP      0x50200000ull
#define GONE    0x50600000ull
#define LARGE   (2 * MiB)
#define KHALF   0xFFFF800000000000ull      /* the kernel half */
#define FREE_VA 0x60000000ull              /* nothing there */
#define RC      (MEM_RESERVE | MEM_COMMIT)
#define RW      PAGE_READWRITE
#define E_ADDR  HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define E_LEN   HRESULT_FROM_WIN32(ERROR_BAD_LENGTH)
#define E_NOT_OURS HOST_E_INVALIDOPERATION

/* Stand-ins for addresses known only at run time. */
#define BLOCK   0xB10C0001ull
#define FREED   0xB10C0002ull

/* Out-pointers left NULL. */
#define NULL_OUT  0x1u   /* ppMem, pflOldProtect, lpBuffer */
#define NULL_RES  0x2u   /* VirtualQuery's pResult */

struct bad {
	const char *name;
	uint64_t addr, size;   /* VirtualQuery: size is dwLength */
	DWORD type, prot;      /* VirtualFree: type; VirtualProtect: prot */
	uint32_t level;        /* VirtualAlloc: dwCriticalLevel */
	unsigned nulls;
	HRESULT want;
};

struct fixture {
	struct twin *t;
	IHostMalloc *malloc;
	uint64_t block, freed;
};

/* ------------------------------------------------------------ the catalogue */

static const struct bad bad_alloc[] = {
	{ "reserve over R, misaligned",          R + 0x1234, PG, MEM_RESERVE, RW, 0, 0, E_ADDR },
	{ "reserve in R's free tail block",      R + 0x18000, PG, MEM_RESERVE, RW, 0, 0, E_ADDR },
	{ "reserve from below into R",           R - GR, 2 * GR, MEM_RESERVE, RW, 0, 0, E_ADDR },
	{ "reserve size 0",                      FREE_VA, 0, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "placed reserve size 0",               0, 0, RC, RW, 0, 0, E_INVALIDARG },
	{ "commit size 0 in R",                  R, 0, MEM_COMMIT, RW, 0, 0, E_INVALIDARG },
	{ "size wraps",                          R, ~0ull, MEM_COMMIT, RW, 0, 0, E_INVALIDARG },
	{ "address + size wraps",                0xFFFFFFFFFFFFF000ull, 2 * PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "placed, larger than the space",       0, VA_END, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "placed, no room for it",              0, VA_END - VA_FIRST, MEM_RESERVE, RW, 0, 0, E_OUTOFMEMORY },
	{ "reserve in the kernel half",          KHALF, PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "commit in the kernel half",           KHALF, PG, MEM_COMMIT, RW, 0, 0, E_INVALIDARG },
	{ "reserve at 4 KiB",                    0x1000, PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "reserve at 0xFFFF",                   0xFFFF, PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "reserve at the limit",                VA_END, PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "reserve across the limit",            VA_END - PG, 2 * PG, MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "commit in free space",                FREE_VA, PG, MEM_COMMIT, RW, 0, 0, E_ADDR },
	{ "commit past R's end",                 R + 16 * PG, 2 * PG, MEM_COMMIT, RW, 0, 0, E_ADDR },
	{ "commit in R's tail",                  R + 20 * PG, PG, MEM_COMMIT, RW, 0, 0, E_ADDR },
	{ "commit in a released reservation",    GONE, PG, MEM_COMMIT, RW, 0, 0, E_ADDR },
	{ "type 0",                              FREE_VA, PG, 0, RW, 0, 0, E_INVALIDARG },
	{ "type MEM_DECOMMIT",                   R, PG, MEM_DECOMMIT, RW, 0, 0, E_INVALIDARG },
	{ "MEM_RESET with MEM_COMMIT",           R, PG, MEM_RESET | MEM_COMMIT, RW, 0, 0, E_INVALIDARG },
	{ "MEM_RESET_UNDO with MEM_RESERVE",     R, PG, MEM_RESET_UNDO | MEM_RESERVE, RW, 0, 0, E_INVALIDARG },
	{ "MEM_RESET with MEM_RESET_UNDO",       R, PG, MEM_RESET | MEM_RESET_UNDO, RW, 0, 0, E_INVALIDARG },
	{ "MEM_WRITE_WATCH without reserve",     R, PG, MEM_COMMIT | MEM_WRITE_WATCH, RW, 0, 0, E_INVALIDARG },
	{ "MEM_TOP_DOWN alone",                  0, PG, MEM_TOP_DOWN, RW, 0, 0, E_INVALIDARG },
	{ "MEM_PHYSICAL",                        0, PG, MEM_RESERVE | MEM_PHYSICAL, RW, 0, 0, E_INVALIDARG },
	{ "an unknown type bit",                 0, PG, MEM_RESERVE | 0x80000000u, RW, 0, 0, E_INVALIDARG },
	{ "large pages without commit",          0, LARGE, MEM_RESERVE | MEM_LARGE_PAGES, RW, 0, 0, E_INVALIDARG },
	{ "large pages, size not 2 MiB",         0, LARGE + PG, RC | MEM_LARGE_PAGES, RW, 0, 0, E_INVALIDARG },
	{ "large pages, address not 2 MiB",      0x50410000ull, LARGE, RC | MEM_LARGE_PAGES, RW, 0, 0, E_INVALIDARG },
	{ "large pages, NOACCESS",               0, LARGE, RC | MEM_LARGE_PAGES, PAGE_NOACCESS, 0, 0, E_INVALIDARG },
	{ "large pages, GUARD",                  0, LARGE, RC | MEM_LARGE_PAGES, RW | PAGE_GUARD, 0, 0, E_INVALIDARG },
	{ "large pages with write watch",        0, LARGE, RC | MEM_LARGE_PAGES | MEM_WRITE_WATCH, RW, 0, 0, E_INVALIDARG },
	{ "protection 0",                        0, PG, RC, 0, 0, 0, E_INVALIDARG },
	{ "PAGE_WRITECOPY",                      0, PG, RC, PAGE_WRITECOPY, 0, 0, E_INVALIDARG },
	{ "PAGE_EXECUTE_WRITECOPY",              0, PG, RC, PAGE_EXECUTE_WRITECOPY, 0, 0, E_INVALIDARG },
	{ "two base protections",                0, PG, RC, PAGE_READONLY | RW, 0, 0, E_INVALIDARG },
	{ "NOACCESS with GUARD",                 0, PG, RC, PAGE_NOACCESS | PAGE_GUARD, 0, 0, E_INVALIDARG },
	{ "NOACCESS with WRITECOMBINE",          0, PG, RC, PAGE_NOACCESS | PAGE_WRITECOMBINE, 0, 0, E_INVALIDARG },
	{ "NOACCESS with NOCACHE",               0, PG, RC, PAGE_NOACCESS | PAGE_NOCACHE, 0, 0, E_INVALIDARG },
	{ "GUARD with NOCACHE",                  0, PG, RC, RW | PAGE_GUARD | PAGE_NOCACHE, 0, 0, E_INVALIDARG },
	{ "NOCACHE with WRITECOMBINE",           0, PG, RC, RW | PAGE_NOCACHE | PAGE_WRITECOMBINE, 0, 0, E_INVALIDARG },
	{ "an unknown protection bit",           0, PG, RC, RW | 0x800, 0, 0, E_INVALIDARG },
	{ "protection checked for a reserve",    FREE_VA, PG, MEM_RESERVE, PAGE_WRITECOPY, 0, 0, E_INVALIDARG },
	{ "protection checked for MEM_RESET",    R, PG, MEM_RESET, 0, 0, 0, E_INVALIDARG },
	{ "ppMem NULL",                          0, PG, RC, RW, 0, NULL_OUT, E_POINTER },
	{ "ppMem NULL before the size",          FREE_VA, 0, MEM_RESERVE, RW, 0, NULL_OUT, E_POINTER },
	{ "protection before ppMem",             0, PG, RC, 0, 0, NULL_OUT, E_INVALIDARG },
	{ "critical level 3",                    0, PG, RC, RW, 3, 0, E_INVALIDARG },
	{ "critical level 0xFFFFFFFF",           0, PG, RC, RW, 0xFFFFFFFFu, 0, E_INVALIDARG },
	{ "MEM_RESET at NULL",                   0, PG, MEM_RESET, RW, 0, 0, E_ADDR },
	{ "MEM_RESET in free space",             FREE_VA, PG, MEM_RESET, RW, 0, 0, E_ADDR },
	{ "MEM_RESET past R's end",              R + 15 * PG, 4 * PG, MEM_RESET, RW, 0, 0, E_ADDR },
	{ "MEM_RESET size 0",                    R, 0, MEM_RESET, RW, 0, 0, E_INVALIDARG },
	{ "MEM_RESET_UNDO in free space",        FREE_VA, PG, MEM_RESET_UNDO, RW, 0, 0, E_ADDR },
	{ "commit inside the large page",        LP, PG, MEM_COMMIT, RW, 0, 0, E_INVALIDARG },
};

static const struct bad bad_free[] = {
	{ "release NULL",                        0, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "release of free space",               FREE_VA, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "release twice",                       GONE, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "decommit of a released reservation",  GONE, PG, MEM_DECOMMIT, 0, 0, 0, E_NOT_OURS },
	{ "release not at the base",             R + PG, 0, MEM_RELEASE, 0, 0, 0, E_ADDR },
	{ "release with a size",                 R, PG, MEM_RELEASE, 0, 0, 0, E_INVALIDARG },
	{ "free type 0",                         R, 0, 0, 0, 0, 0, E_INVALIDARG },
	{ "decommit and release together",       R, 0, MEM_DECOMMIT | MEM_RELEASE, 0, 0, 0, E_INVALIDARG },
	{ "free type MEM_FREE",                  R, 0, MEM_FREE, 0, 0, 0, E_INVALIDARG },
	{ "free type MEM_RESERVE",               R, 0, MEM_RESERVE, 0, 0, 0, E_INVALIDARG },
	{ "free type MEM_COMMIT",                R, PG, MEM_COMMIT, 0, 0, 0, E_INVALIDARG },
	{ "bad type before a bad address",       KHALF, 0, 0x1, 0, 0, 0, E_INVALIDARG },
	{ "decommit past the end",               R, 32 * PG, MEM_DECOMMIT, 0, 0, 0, E_INVALIDARG },
	{ "decommit size wraps",                 R + PG, ~0ull, MEM_DECOMMIT, 0, 0, 0, E_INVALIDARG },
	{ "decommit size 0 not at the base",     R + PG, 0, MEM_DECOMMIT, 0, 0, 0, E_ADDR },
	{ "release in the kernel half",          KHALF, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "release at 4 KiB",                    0x1000, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "release at the limit",                VA_END, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "release in R's tail",                 R + 20 * PG, 0, MEM_RELEASE, 0, 0, 0, E_NOT_OURS },
	{ "decommit of a large page",            LP, LARGE, MEM_DECOMMIT, 0, 0, 0, E_INVALIDARG },
};

static const struct bad bad_protect[] = {
	{ "over reserved pages",                 R + 8 * PG, 2 * PG, 0, PAGE_READONLY, 0, 0, E_ADDR },
	{ "over committed and reserved pages",   R + 6 * PG, 4 * PG, 0, PAGE_READONLY, 0, 0, E_ADDR },
	{ "in free space",                       FREE_VA, PG, 0, PAGE_READONLY, 0, 0, E_ADDR },
	{ "past R's end",                        R + 16 * PG, 2 * PG, 0, PAGE_READONLY, 0, 0, E_ADDR },
	{ "size 0",                              R, 0, 0, PAGE_READONLY, 0, 0, E_INVALIDARG },
	{ "pflOldProtect NULL",                  R, PG, 0, PAGE_READONLY, 0, NULL_OUT, E_POINTER },
	{ "pflOldProtect NULL before the range", FREE_VA, 0, 0, PAGE_READONLY, 0, NULL_OUT, E_POINTER },
	{ "protection before pflOldProtect",     FREE_VA, 0, 0, 0, 0, NULL_OUT, E_INVALIDARG },
	{ "PAGE_WRITECOPY",                      R, PG, 0, PAGE_WRITECOPY, 0, 0, E_INVALIDARG },
	{ "protection 0",                        R, PG, 0, 0, 0, 0, E_INVALIDARG },
	{ "NOACCESS on a NOCACHE page",          NC, PG, 0, PAGE_NOACCESS, 0, 0, E_INVALIDARG },
	{ "GUARD on a NOCACHE page",             NC, PG, 0, RW | PAGE_GUARD, 0, 0, E_INVALIDARG },
	{ "at the limit",                        VA_END, PG, 0, RW, 0, 0, E_INVALIDARG },
	{ "size wraps",                          R, ~0ull, 0, RW, 0, 0, E_INVALIDARG },
	{ "in the kernel half",                  KHALF, PG, 0, RW, 0, 0, E_INVALIDARG },
	{ "below 64 KiB",                        0x1000, PG, 0, RW, 0, 0, E_ADDR },
	{ "part of a large page",                LP, PG, 0, PAGE_READONLY, 0, 0, E_INVALIDARG },
	{ "a large page NOACCESS",               LP, LARGE, 0, PAGE_NOACCESS, 0, 0, E_INVALIDARG },
	{ "a released reservation",              GONE, PG, 0, RW, 0, 0, E_ADDR },
};

static const struct bad bad_query[] = {
	{ "buffer length 0",                     R, 0, 0, 0, 0, 0, E_LEN },
	{ "buffer length 47",                    R, 47, 0, 0, 0, 0, E_LEN },
	{ "lpBuffer NULL",                       R, 48, 0, 0, 0, NULL_OUT, E_POINTER },
	{ "pResult NULL",                        R, 48, 0, 0, 0, NULL_RES, E_POINTER },
	{ "at the limit",                        VA_END, 48, 0, 0, 0, 0, E_INVALIDARG },
	{ "in the kernel half",                  KHALF, 48, 0, 0, 0, 0, E_INVALIDARG },
	{ "the last address",                    ~0ull, 48, 0, 0, 0, 0, E_INVALIDARG },
	{ "address before the length",           VA_END, 1, 0, 0, 0, 0, E_INVALIDARG },
	{ "length before the pointers",          R, 1, 0, 0, 0, NULL_OUT | NULL_RES, E_LEN },
};

static const struct bad bad_malloc_free[] = {
	{ "Free of a VirtualAlloc address",      R, 0, 0, 0, 0, 0, E_NOT_OURS },
	{ "Free NULL",                           0, 0, 0, 0, 0, 0, E_NOT_OURS },
	{ "Free inside a block",                 BLOCK + 8, 0, 0, 0, 0, 0, E_NOT_OURS },
	{ "Free twice",                          FREED, 0, 0, 0, 0, 0, E_NOT_OURS },
	{ "Free of a kernel-half address",       KHALF, 0, 0, 0, 0, 0, E_NOT_OURS },
};

/* ------------------------------------------------------------ running an entry */

static uint64_t resolve(const struct fixture *f, uint64_t va)
{
	if (va - BLOCK < 0x100)
		return f->block + (va - BLOCK);
	if (va == FREED)
		return f->freed;
	return va;
}

static HRESULT run_alloc(struct fixture *f, const struct bad *b)
{
	void *p = VA(0xBADBAD000);
	HRESULT hr = IHostMemoryManager_VirtualAlloc(f->t->m, VA(b->addr), b->size, b->type, b->prot,
	                                             (EMemoryCriticalLevel)b->level,
	                                             (b->nulls & NULL_OUT) ? 0 : &p);

	if (!(b->nulls & NULL_OUT) && p != 0)
		fail_msg("%s: failed, but *ppMem is %p", b->name, p);
	return hr;
}

static HRESULT run_free(struct fixture *f, const struct bad *b)
{
	return IHostMemoryManager_VirtualFree(f->t->m, VA(b->addr), b->size, b->type);
}

static HRESULT run_protect(struct fixture *f, const struct bad *b)
{
	DWORD old = 0xDEADBEEF;

	return IHostMemoryManager_VirtualProtect(f->t->m, VA(b->addr), b->size, b->prot,
	                                         (b->nulls & NULL_OUT) ? 0 : &old);
}

static HRESULT run_query(struct fixture *f, const struct bad *b)
{
	MEMORY_BASIC_INFORMATION mbi[2];
	SIZE_T n = 0xDEAD;

	return IHostMemoryManager_VirtualQuery(f->t->m, VA(b->addr),
	                                       (b->nulls & NULL_OUT) ? 0 : mbi, b->size,
	                                       (b->nulls & NULL_RES) ? 0 : &n);
}

static HRESULT run_malloc_free(struct fixture *f, const struct bad *b)
{
	return IHostMalloc_Free(f->malloc, VA(resolve(f, b->addr)));
}

/* Every entry: its HRESULT, and nothing changed. */
static void run_table(struct fixture *f, const struct bad *tab, size_t n,
                      HRESULT (*run)(struct fixture *, const struct bad *))
{
	char what[160];

	for (size_t i = 0; i < n; i++) {
		snprintf(what, sizeof what, "bad input \"%s\"", tab[i].name);
		twin_unchanged_begin(f->t);
		twin_assert_hr(tab[i].want, run(f, &tab[i]), what, __FILE__, __LINE__);
		twin_unchanged_end(f->t, __FILE__, __LINE__);
	}
	print_message("    %zu bad inputs, each its HRESULT, nothing changed\n", n);
}

/* ------------------------------------------------------------ fixture */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	void *p;

	assert_non_null(f);
	f->t = twin_new(TWIN_RAM, HM_SIM_DEBUG_FRAMES);
	reserve_ok(f->t, R, 17 * PG, RW);
	commit_ok(f->t, R, 8 * PG, RW);
	fill_ok(f->t, R, 8 * PG, 0xA1);
	alloc_ok(f->t, NC, 2 * PG, RC, RW | PAGE_NOCACHE);
	alloc_ok(f->t, LP, LARGE, RC | MEM_LARGE_PAGES, RW);
	reserve_ok(f->t, GONE, GR, RW);
	release_ok(f->t, GONE);
	assert_hr(S_OK, IHostMemoryManager_CreateMalloc(f->t->m, MALLOC_THREADSAFE, &f->malloc));
	assert_hr(S_OK, IHostMalloc_Alloc(f->malloc, 64, eTaskCritical, &p));
	f->block = (uint64_t)(uintptr_t)p;
	assert_hr(S_OK, IHostMalloc_Alloc(f->malloc, 64, eTaskCritical, &p));
	f->freed = (uint64_t)(uintptr_t)p;
	assert_hr(S_OK, IHostMalloc_Free(f->malloc, p));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *t = f->t;

	IHostMalloc_Free(f->malloc, VA(f->block));
	IHostMalloc_Release(f->malloc);
	free(f);
	return twin_teardown(&t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define N(tab) (sizeof(tab) / sizeof((tab)[0]))

static void bad_virtual_alloc_calls(void **state)
{
	run_table(*state, bad_alloc, N(bad_alloc), run_alloc);
}

static void bad_virtual_free_calls(void **state)
{
	run_table(*state, bad_free, N(bad_free), run_free);
}

static void bad_virtual_protect_calls(void **state)
{
	run_table(*state, bad_protect, N(bad_protect), run_protect);
}

static void bad_virtual_query_calls(void **state)
{
	run_table(*state, bad_query, N(bad_query), run_query);
}

static void bad_host_malloc_frees(void **state)
{
	run_table(*state, bad_malloc_free, N(bad_malloc_free), run_malloc_free);
}

static void the_catalogue_has_at_least_60_entries(void **state)
{
	assert_true(N(bad_alloc) + N(bad_free) + N(bad_protect) + N(bad_query) +
	            N(bad_malloc_free) >= 60);
}

/* After E_FAIL (verify found corruption inside a call) every method is
 * refused with HOST_E_CLRNOTAVAILABLE, out-pointers cleared, for good. */
static void calls_after_e_fail_are_refused(void **state)
{
	struct fixture *f = *state;
	IHostMemoryManager *m = f->t->m;
	MEMORY_BASIC_INFORMATION mbi;
	DWORD old, load;
	SIZE_T n, avail;
	void *p = VA(0xBAD000);
	char why[64];

	corrupt_commit_charge(m);
	assert_hr(E_FAIL, IHostMemoryManager_VirtualQuery(m, VA(R), &mbi, sizeof mbi, &n));
	f->t->dead_ok = true;
	for (int round = 0; round < 2; round++) {
		assert_hr(HOST_E_CLRNOTAVAILABLE,
		          IHostMemoryManager_VirtualAlloc(m, 0, PG, RC, RW, eProcessCritical, &p));
		assert_null(p);
		assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_VirtualFree(m, VA(R), 0, MEM_RELEASE));
		assert_hr(HOST_E_CLRNOTAVAILABLE,
		          IHostMemoryManager_VirtualProtect(m, VA(R), PG, PAGE_READONLY, &old));
		assert_hr(HOST_E_CLRNOTAVAILABLE,
		          IHostMemoryManager_VirtualQuery(m, VA(R), &mbi, sizeof mbi, &n));
		assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_GetMemoryLoad(m, &load, &avail));
		assert_hr(HOST_E_CLRNOTAVAILABLE, hostmem_verify(m, why, sizeof why));
		assert_code(STATUS_ACCESS_VIOLATION, twin_peek(f->t, R + 9 * PG, (uint8_t *)&old));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(bad_virtual_alloc_calls),
		T(bad_virtual_free_calls),
		T(bad_virtual_protect_calls),
		T(bad_virtual_query_calls),
		T(bad_host_malloc_frees),
		cmocka_unit_test(the_catalogue_has_at_least_60_entries),
		T(calls_after_e_fail_are_refused),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
