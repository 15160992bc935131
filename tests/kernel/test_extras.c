/*
 * The rest of the interface on the real MMU: write watch on the CPU's own
 * dirty bits, large pages as real 2 MiB PS entries, MEM_RESET, IHostMalloc
 * blocks used through real pointers, notifications, acquired space.
 */
#include "kernel/ktest.h"
#include "tests/kernel/vm.h"
#include "tests/kernel/code.h"
#include "hostmem/hm.h"
#include "hostmem/pte.h"

/* The dirty state is the CPU's D bit: only a real write through the real
 * MMU can have set it. */
KTEST(write_watch_reports_what_the_cpu_marked_dirty)
{
	volatile uint8_t *p;
	void *pages[8];
	ULONG_PTR n = 8;
	DWORD gran;

	KASSERT_EQ(alloc(0, 8 * P, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE,
	                 (void **)&p), S_OK);
	(void)p[2 * P];                                  /* a read marks nothing */
	p[3 * P + 1] = 1;
	p[6 * P] = 2;
	KASSERT_EQ(hostmem_get_write_watch(mgr(), WRITE_WATCH_FLAG_RESET, (void *)p, 8 * P, pages,
	                                   &n, &gran), S_OK);
	KASSERT_EQ(n, 2);
	KASSERT_EQ((uint64_t)pages[0], (uint64_t)p + 3 * P);
	KASSERT_EQ((uint64_t)pages[1], (uint64_t)p + 6 * P);
	KASSERT_EQ(gran, P);
	p[6 * P] = 3;                                    /* the TLB entry was dropped: D again */
	n = 8;
	KASSERT_EQ(hostmem_get_write_watch(mgr(), 0, (void *)p, 8 * P, pages, &n, &gran), S_OK);
	KASSERT_EQ(n, 1);
	KASSERT_EQ((uint64_t)pages[0], (uint64_t)p + 6 * P);
	KASSERT_EQ(release_at((void *)p), S_OK);
}

KTEST(large_pages_are_real_2mib_entries)
{
	uint8_t *p;
	int level;
	uint64_t e;
	DWORD old;

	KASSERT_EQ(hostmem_large_page_minimum(), 2u << 20);
	KASSERT_EQ(alloc(0, 4u << 20, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE,
	                 (void **)&p), S_OK);
	KASSERT_EQ((uint64_t)p & ((2u << 20) - 1), 0);
	e = pt_lookup(&hm_of(mgr())->pt, (uint64_t)p + (3u << 20), &level);
	KASSERT_EQ(level, 2);
	KASSERT(pte_is_large(e));
	KASSERT_EQ(p[(3u << 20) + 5], 0);
	p[(3u << 20) + 5] = 7;
	KASSERT_EQ(p[(3u << 20) + 5], 7);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, 2u << 20, PAGE_READONLY, &old), S_OK);
	KASSERT_EQ(try_write(p + 100, 1, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(try_write(p + (2u << 20), 1, 0), 0);   /* the second 2 MiB page is still RW */
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, P, PAGE_READWRITE, &old), E_INVALIDARG);
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(reset_discards_and_undo_says_so)
{
	uint8_t *p, *q, v;

	KASSERT_EQ(alloc(0, 2 * P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	p[0] = 0x42;
	KASSERT_EQ(alloc(p, 2 * P, MEM_RESET, PAGE_NOACCESS, (void **)&q), S_OK);
	KASSERT_EQ(q, p);
	KASSERT_EQ(alloc(p, 2 * P, MEM_RESET_UNDO, PAGE_READWRITE, (void **)&q),
	           HRESULT_FROM_WIN32(ERROR_DISCARDED));
	KASSERT_EQ(try_read(p, &v, 0), 0);               /* still committed, still RW: zero */
	KASSERT_EQ(v, 0);
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(host_malloc_blocks_work_through_real_pointers)
{
	IHostMalloc *a, *x;
	uint8_t *b[40], *code;

	KASSERT_EQ(IHostMemoryManager_CreateMalloc(mgr(), MALLOC_THREADSAFE, &a), S_OK);
	for (int i = 0; i < 40; i++) {
		KASSERT_EQ(IHostMalloc_Alloc(a, 24 + i * 100, eTaskCritical, (void **)&b[i]), S_OK);
		KASSERT_EQ((uint64_t)b[i] & 15, 0);
		for (int j = 0; j < 24 + i * 100; j++)
			b[i][j] = (uint8_t)i;
	}
	for (int i = 0; i < 40; i++)
		KASSERT_EQ(b[i][23], (uint8_t)i);        /* no block overlapped another */
	KASSERT_EQ(try_exec(b[0], 0), STATUS_ACCESS_VIOLATION);
	for (int i = 0; i < 40; i++)
		KASSERT_EQ(IHostMalloc_Free(a, b[i]), S_OK);
	KASSERT_EQ(IHostMalloc_Free(a, b[0]), HOST_E_INVALIDOPERATION);
	KASSERT_EQ(IHostMalloc_Release(a), 0);
	KASSERT_EQ(IHostMemoryManager_CreateMalloc(mgr(), MALLOC_EXECUTABLE, &x), S_OK);
	KASSERT_EQ(IHostMalloc_Alloc(x, 16, eTaskCritical, (void **)&code), S_OK);
	put_ret(code);
	KASSERT_EQ(try_exec(code, 0), 0);
	KASSERT_EQ(IHostMalloc_Release(x), 0);
}

struct probe {
	ICLRMemoryNotificationCallback iface;
	int refs, calls;
	EMemoryAvailable last;
};

static HRESULT probe_qi(ICLRMemoryNotificationCallback *t, REFIID r, void **p) { return E_NOINTERFACE; }
static ULONG probe_addref(ICLRMemoryNotificationCallback *t) { return ++((struct probe *)t)->refs; }
static ULONG probe_release(ICLRMemoryNotificationCallback *t) { return --((struct probe *)t)->refs; }

static HRESULT probe_notify(ICLRMemoryNotificationCallback *t, EMemoryAvailable level)
{
	struct probe *p = (struct probe *)t;
	DWORD load;
	SIZE_T avail;

	p->calls++;
	p->last = level;
	/* Called without the manager's lock: calling back in must work. */
	return IHostMemoryManager_GetMemoryLoad(kernel_memory_manager(), &load, &avail);
}

static const ICLRMemoryNotificationCallbackVtbl probe_vtbl = {
	probe_qi, probe_addref, probe_release, probe_notify,
};

KTEST(low_memory_is_notified_and_then_high_again)
{
	struct probe pr = { { &probe_vtbl }, 1, 0, 0 };
	struct hostmem_stats st;
	DWORD load;
	SIZE_T avail;
	void *p;

	KASSERT_EQ(IHostMemoryManager_RegisterMemoryNotificationCallback(mgr(), &pr.iface), S_OK);
	KASSERT_EQ(pr.refs, 2);
	hostmem_get_stats(mgr(), &st);
	/* Commit (untouched: nothing is zeroed) until less than 10 % is left. */
	KASSERT_EQ(IHostMemoryManager_VirtualAlloc(mgr(), 0, (st.commit_available - st.frames_usable / 20) * P,
	                                           MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
	                                           eProcessCritical, &p), S_OK);
	KASSERT_EQ(pr.last, eMemoryAvailableLow);
	KASSERT_EQ(IHostMemoryManager_GetMemoryLoad(mgr(), &load, &avail), S_OK);
	KASSERT(load >= 90);
	KASSERT_EQ(release_at(p), S_OK);
	KASSERT_EQ(pr.last, eMemoryAvailableHigh);
	KASSERT(pr.calls >= 2);
	KASSERT_EQ(IHostMemoryManager_RegisterMemoryNotificationCallback(mgr(), 0), S_OK);
	KASSERT_EQ(pr.refs, 1);
}

KTEST(acquired_space_is_never_handed_out)
{
	void *p;

	KASSERT_EQ(IHostMemoryManager_NeedsVirtualAddressSpace(mgr(), (void *)0x500000000ull, 1u << 20), S_OK);
	KASSERT_EQ(IHostMemoryManager_AcquiredVirtualAddressSpace(mgr(), (void *)0x500000000ull, 1u << 20), S_OK);
	KASSERT_EQ(alloc((void *)0x500010000ull, P, MEM_RESERVE, PAGE_READWRITE, &p),
	           HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
	KASSERT_EQ(IHostMemoryManager_NeedsVirtualAddressSpace(mgr(), (void *)0x500000000ull, P), E_OUTOFMEMORY);
	KASSERT_EQ(IHostMemoryManager_ReleasedVirtualAddressSpace(mgr(), (void *)0x500000000ull), S_OK);
	KASSERT_EQ(alloc((void *)0x500010000ull, P, MEM_RESERVE, PAGE_READWRITE, &p), S_OK);
	KASSERT_EQ(release_at(p), S_OK);
}
