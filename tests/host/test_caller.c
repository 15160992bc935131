/*
 * test_caller.c - caller memory and memory types, through the twin.
 *
 * Caller memory (caller.c): every method reads and writes its out-parameters
 * outside the lock through the platform's copy_in / copy_out.  In the twin
 * they are host memory, so hm_sim_fail_caller_copy stands for a pointer that
 * faults (the kernel's self tests fault for real): the n-th next copy fails.
 * A probe failing before the lock gives E_POINTER with nothing changed; a
 * store failing after a state-changing operation leaves the operation
 * standing where NT does (VirtualAlloc, VirtualProtect) and takes it back
 * where hostmem can (IHostMalloc).
 *
 * Memory types (pte.h, "Memory types"): the twin checks every access against
 * the cache state of its frame (hm_sim_cache_violations): an uncached or
 * write-combining access needs the frame flushed since its write-back use,
 * and a write-back access one flushed since its uncached use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/host/lib/twin.h"

#define BASE  0x50000000ull
#define RC    (MEM_RESERVE | MEM_COMMIT)

/* call, with its k-th copy of caller memory failing (and no later one). */
#define FAILING(t, k, call) ({ \
		hm_sim_fail_caller_copy((t)->sim, (k)); \
		HRESULT hr_ = (call); \
		hm_sim_fail_caller_copy((t)->sim, 0); \
		hr_; \
	})

/* ------------------------------------------------------------ out-parameters */

static void virtual_alloc_with_a_faulting_ppmem_is_e_pointer_and_changes_nothing(void **state)
{
	struct twin *t = *state;
	void *p;

	assert_unchanged(t, E_POINTER, FAILING(t, 1, IHostMemoryManager_VirtualAlloc(t->m, 0, GR, RC,
	                 PAGE_READWRITE, eTaskCritical, &p)));
}

/* NT's order: flags and protection are checked before the out-pointer. */
static void virtual_alloc_checks_its_flags_before_a_faulting_ppmem(void **state)
{
	struct twin *t = *state;
	void *p;

	assert_unchanged(t, E_INVALIDARG, FAILING(t, 1, IHostMemoryManager_VirtualAlloc(t->m, 0, GR, 0x40,
	                 PAGE_READWRITE, eTaskCritical, &p)));
	assert_unchanged(t, E_INVALIDARG, FAILING(t, 1, IHostMemoryManager_VirtualAlloc(t->m, 0, GR, RC,
	                 PAGE_WRITECOPY, eTaskCritical, &p)));
}

/* The probe passed; the final store faults (another thread, in real life):
 * the allocation stands, as NT's does. */
static void virtual_alloc_stands_when_only_the_final_store_faults(void **state)
{
	struct twin *t = *state;
	void *p = VA(1);

	assert_hr(S_OK, FAILING(t, 2, IHostMemoryManager_VirtualAlloc(t->m, VA(BASE), GR, RC,
	          PAGE_READWRITE, eTaskCritical, &p)));
	assert_null(p);     /* the probe's NULL is what the caller has */
	assert_int_equal(query_ok(t, BASE).State, MEM_COMMIT);
}

static void virtual_query_with_a_faulting_buffer_is_e_pointer(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n = 0;

	for (unsigned k = 1; k <= 2; k++) {
		assert_hr(E_POINTER, FAILING(t, k, IHostMemoryManager_VirtualQuery(t->m, VA(BASE), &mbi,
		                                                     sizeof mbi, &n)));
	}
	assert_hr(S_OK, IHostMemoryManager_VirtualQuery(t->m, VA(BASE), &mbi, sizeof mbi, &n));
	assert_int_equal(n, sizeof mbi);
}

static void virtual_protect_with_a_faulting_old_pointer_changes_nothing(void **state)
{
	struct twin *t = *state;
	DWORD old;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	for (unsigned k = 1; k <= 2; k++) {   /* the probe reads, then writes back */
		assert_unchanged(t, E_POINTER, FAILING(t, k, IHostMemoryManager_VirtualProtect(t->m,
		                 VA(BASE), PG,
		                 PAGE_READONLY, &old)));
	}
	/* An invalid protection is reported first. */
	assert_unchanged(t, E_INVALIDARG, FAILING(t, 1, IHostMemoryManager_VirtualProtect(t->m,
	                 VA(BASE), PG,
	                 PAGE_WRITECOPY, &old)));
}

static void get_memory_load_with_a_faulting_pointer_is_e_pointer(void **state)
{
	struct twin *t = *state;
	DWORD load;
	SIZE_T bytes;

	for (unsigned k = 1; k <= 2; k++) {
		assert_hr(E_POINTER, FAILING(t, k, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes)));
	}
}

static void stats_and_verify_with_a_faulting_pointer_are_e_pointer(void **state)
{
	struct twin *t = *state;
	struct hostmem_stats st;
	char why[64];

	assert_hr(E_POINTER, FAILING(t, 1, hostmem_get_stats(t->m, &st)));
	assert_hr(E_POINTER, FAILING(t, 1, hostmem_verify(t->m, why, sizeof why)));
}

/* A faulting array, count or granularity: E_POINTER and nothing reset, since
 * every pointer is probed before the first page is harvested. */
static void get_write_watch_with_a_faulting_pointer_resets_nothing(void **state)
{
	struct twin *t = *state;
	void *addrs[16];
	ULONG_PTR count;
	DWORD gran;

	alloc_ok(t, BASE, GR, RC | MEM_WRITE_WATCH, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 0x11);
	for (unsigned k = 1; k <= 5; k++) {
		count = 16;
		assert_unchanged(t, E_POINTER, FAILING(t, k, hostmem_get_write_watch(t->m, WRITE_WATCH_FLAG_RESET,
		                 VA(BASE), GR, addrs, &count, &gran)));
	}
	count = 16;
	assert_hr(S_OK, hostmem_get_write_watch(t->m, 0, VA(BASE), GR, addrs, &count, &gran));
	assert_int_equal(count, 16);
}

/* More dirty pages than one batch (64): the array is filled in order across
 * batches, and the count says how many. */
static void get_write_watch_fills_the_array_across_batches(void **state)
{
	struct twin *t = *state;
	void *addrs[200];
	ULONG_PTR count = 200;
	DWORD gran = 0;

	alloc_ok(t, BASE, 150 * PG, RC | MEM_WRITE_WATCH, PAGE_READWRITE);
	fill_ok(t, BASE, 150 * PG, 0x22);
	assert_hr(S_OK, hostmem_get_write_watch(t->m, WRITE_WATCH_FLAG_RESET, VA(BASE), 150 * PG,
	                                        addrs, &count, &gran));
	assert_int_equal(count, 150);
	assert_int_equal(gran, PG);
	for (unsigned i = 0; i < 150; i++)
		assert_ptr_equal(addrs[i], VA(BASE + i * PG));
	count = 200;
	assert_hr(S_OK, hostmem_get_write_watch(t->m, 0, VA(BASE), 150 * PG, addrs, &count, &gran));
	assert_int_equal(count, 0);
}

static void create_malloc_with_a_faulting_pointer_leaves_no_allocator(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;

	for (unsigned k = 1; k <= 2; k++) {
		assert_unchanged(t, E_POINTER, FAILING(t, k, IHostMemoryManager_CreateMalloc(t->m,
		                 MALLOC_THREADSAFE,
		                 &a)));
	}
}

/* IHostMalloc takes the block back when the final store faults. */
static void malloc_alloc_with_a_faulting_pointer_leaves_no_block(void **state)
{
	struct twin *t = *state;
	IHostMalloc *a;
	void *p;

	assert_hr(S_OK, IHostMemoryManager_CreateMalloc(t->m, MALLOC_THREADSAFE, &a));
	for (unsigned k = 1; k <= 2; k++) {
		assert_unchanged(t, E_POINTER, FAILING(t, k, IHostMalloc_Alloc(a, 100, eTaskCritical, &p)));
		assert_unchanged(t, E_POINTER, FAILING(t, k, IHostMalloc_DebugAlloc(a, 100, eTaskCritical,
		                 (char *)__FILE__, __LINE__, &p)));
	}
	IHostMalloc_Release(a);
}

static void query_interface_with_a_faulting_pointer_takes_no_reference(void **state)
{
	struct twin *t = *state;
	void *p;

	for (unsigned k = 1; k <= 3; k++) {
		assert_hr(E_POINTER, FAILING(t, k, IHostMemoryManager_QueryInterface(t->m,
		          &IID_IHostMemoryManager, &p)));
	}
	assert_int_equal(IHostMemoryManager_AddRef(t->m), 2);
	assert_int_equal(IHostMemoryManager_Release(t->m), 1);
}

/* ------------------------------------------------------------ memory types */

static void touch_all(struct twin *t, uint64_t va, uint64_t size, uint8_t v)
{
	fill_ok(t, va, size, v);
	assert_bytes(t, va, size, v);
}

/* A zeroed frame reaches an uncached mapping only after its lines are
 * flushed, and a frame leaving one is flushed before write-back use. */
static void uncached_and_write_combined_frames_are_flushed_both_ways(void **state)
{
	struct twin *t = *state;
	const DWORD types[] = { PAGE_NOCACHE, PAGE_WRITECOMBINE };

	for (unsigned i = 0; i < 2; i++) {
		alloc_ok(t, BASE, 16 * PG, RC, PAGE_READWRITE | types[i]);
		touch_all(t, BASE, 16 * PG, 0x5C);
		assert_int_equal(hm_sim_cache_violations(t->sim), 0);
		release_ok(t, BASE);
		/* The frames come back (LIFO) to write-back pages. */
		alloc_ok(t, BASE, 64 * PG, RC, PAGE_READWRITE);
		touch_all(t, BASE, 64 * PG, 0x3A);
		assert_int_equal(hm_sim_cache_violations(t->sim), 0);
		release_ok(t, BASE);
	}
}

static void uncached_large_pages_are_flushed_both_ways(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, 0x40000000ull, 2 * MiB, RC | MEM_LARGE_PAGES, PAGE_READWRITE | PAGE_NOCACHE);
	touch_all(t, 0x40000000ull, 2 * MiB, 0x6D);
	release_ok(t, 0x40000000ull);
	alloc_ok(t, BASE, 2 * MiB, RC, PAGE_READWRITE);
	touch_all(t, BASE, 2 * MiB, 0x7E);
	assert_int_equal(hm_sim_cache_violations(t->sim), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
	const struct CMUnitTest tests[] = {
		T(virtual_alloc_with_a_faulting_ppmem_is_e_pointer_and_changes_nothing),
		T(virtual_alloc_checks_its_flags_before_a_faulting_ppmem),
		T(virtual_alloc_stands_when_only_the_final_store_faults),
		T(virtual_query_with_a_faulting_buffer_is_e_pointer),
		T(virtual_protect_with_a_faulting_old_pointer_changes_nothing),
		T(get_memory_load_with_a_faulting_pointer_is_e_pointer),
		T(stats_and_verify_with_a_faulting_pointer_are_e_pointer),
		T(get_write_watch_with_a_faulting_pointer_resets_nothing),
		T(get_write_watch_fills_the_array_across_batches),
		T(create_malloc_with_a_faulting_pointer_leaves_no_allocator),
		T(malloc_alloc_with_a_faulting_pointer_leaves_no_block),
		T(query_interface_with_a_faulting_pointer_takes_no_reference),
		T(uncached_and_write_combined_frames_are_flushed_both_ways),
		T(uncached_large_pages_are_flushed_both_ways),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
