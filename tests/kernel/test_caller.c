/*
 * Caller memory on the real MMU (hostmem/caller.c): out-parameters that live
 * in managed memory.  Committed but untouched, the first store faults and
 * hostmem serves it (the store happens after the lock is dropped); a guard
 * page, a reserved page or an unmapped address fault for real and the
 * method returns E_POINTER instead of panicking the kernel.
 */
#include "kernel/ktest.h"
#include "tests/kernel/vm.h"

/* One committed page, never touched, to hold out-parameters. */
static uint8_t *untouched_page(void)
{
	void *p = 0;

	if (alloc(0, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p) != S_OK)
		return 0;
	return p;
}

KTEST(out_parameters_in_untouched_committed_memory_are_served)
{
	uint8_t *page = untouched_page();
	DWORD *load = (DWORD *)page;
	SIZE_T *bytes = (SIZE_T *)(page + 64);
	struct hostmem_stats *st = (struct hostmem_stats *)(page + 128);

	KASSERT(page);
	KASSERT_EQ(IHostMemoryManager_GetMemoryLoad(mgr(), load, bytes), S_OK);
	KASSERT(*load <= 100);
	KASSERT_EQ(release_at(page), S_OK);

	page = untouched_page();
	st = (struct hostmem_stats *)page;
	KASSERT_EQ(hostmem_get_stats(mgr(), st), S_OK);
	KASSERT(st->frames_usable > 0);
	KASSERT_EQ(release_at(page), S_OK);
}

KTEST(query_and_protect_write_into_untouched_committed_memory)
{
	uint8_t *page = untouched_page();
	MEMORY_BASIC_INFORMATION *mbi = (MEMORY_BASIC_INFORMATION *)page;
	SIZE_T *n = (SIZE_T *)(page + 256);
	void **pp;

	KASSERT(page);
	KASSERT_EQ(IHostMemoryManager_VirtualQuery(mgr(), page, mbi, sizeof(*mbi), n), S_OK);
	KASSERT_EQ(*n, sizeof(*mbi));
	KASSERT_EQ(mbi->State, MEM_COMMIT);
	KASSERT_EQ(release_at(page), S_OK);

	page = untouched_page();
	pp = (void **)page;
	KASSERT_EQ(alloc(0, G, MEM_RESERVE, PAGE_READWRITE, pp), S_OK);
	KASSERT(*pp);
	KASSERT_EQ(release_at(*pp), S_OK);
	KASSERT_EQ(release_at(page), S_OK);
}

KTEST(write_watch_fills_an_untouched_array)
{
	uint8_t *page = untouched_page(), *w;
	void **addrs = (void **)page;
	ULONG_PTR *count = (ULONG_PTR *)(page + 2048);
	DWORD *gran = (DWORD *)(page + 2048 + 64);

	KASSERT(page);
	KASSERT_EQ(alloc(0, 8 * P, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE,
	                 (void **)&w), S_OK);
	w[P] = 1;
	*count = 8;   /* the first store into the page: a real demand-zero fault */
	KASSERT_EQ(hostmem_get_write_watch(mgr(), 0, w, 8 * P, addrs, count, gran), S_OK);
	KASSERT_EQ(*count, 1);
	KASSERT_EQ((uint64_t)addrs[0], (uint64_t)w + P);
	KASSERT_EQ(*gran, P);
	KASSERT_EQ(release_at(w), S_OK);
	KASSERT_EQ(release_at(page), S_OK);
}

/* A guard page in the out-parameter: its one exception is taken inside the
 * copy (the guard is gone) and the call fails with E_POINTER; the next call
 * goes through. */
KTEST(an_out_parameter_on_a_guard_page_is_e_pointer_once)
{
	uint8_t *page;
	DWORD old;
	DWORD *load;
	SIZE_T bytes;

	KASSERT_EQ(alloc(0, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD,
	                 (void **)&page), S_OK);
	load = (DWORD *)page;
	KASSERT_EQ(IHostMemoryManager_GetMemoryLoad(mgr(), load, &bytes), E_POINTER);
	KASSERT_EQ(IHostMemoryManager_GetMemoryLoad(mgr(), load, &bytes), S_OK);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), page, P, PAGE_READWRITE | PAGE_GUARD,
	                                             &old), S_OK);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), page, P, PAGE_READONLY,
	                                             (DWORD *)page), E_POINTER);
	KASSERT_EQ(query(page).Protect, PAGE_READWRITE);   /* the guard went, nothing else */
	KASSERT_EQ(release_at(page), S_OK);
}

/* Reserved-only memory and an address nothing maps: E_POINTER, no panic,
 * and a state-changing call changes nothing. */
KTEST(an_out_parameter_that_faults_is_e_pointer)
{
	struct hostmem_stats before = stats(), after;
	void *reserved, **bad[] = { 0, (void **)0x10, 0 };
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n;

	KASSERT_EQ(alloc(0, G, MEM_RESERVE, PAGE_READWRITE, &reserved), S_OK);
	bad[2] = (void **)reserved;
	before = stats();
	for (int i = 1; i < 3; i++) {
		KASSERT_EQ(alloc(0, G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, bad[i]), E_POINTER);
		KASSERT_EQ(IHostMemoryManager_VirtualQuery(mgr(), reserved, (void *)bad[i],
		                                           sizeof(mbi), &n), E_POINTER);
		KASSERT_EQ(IHostMemoryManager_VirtualQuery(mgr(), reserved, &mbi, sizeof(mbi),
		                                           (SIZE_T *)bad[i]), E_POINTER);
		KASSERT_EQ(hostmem_get_stats(mgr(), (struct hostmem_stats *)bad[i]), E_POINTER);
	}
	after = stats();
	KASSERT_EQ(after.reservations, before.reservations);
	KASSERT_EQ(after.commit_charge, before.commit_charge);
	KASSERT_EQ(release_at(reserved), S_OK);
}
