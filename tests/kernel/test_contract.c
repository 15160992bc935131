/*
 * The contract on the real MMU: the kernel's IHostMemoryManager, real
 * pointers, real faults.  Each test is one rule of CONTRACT.md; the host
 * suite checks every rule in detail through the twin, these prove the same
 * code drives the CPU's page tables correctly.  Verify runs inside every
 * call (hostmem_set_verify_each) and all tests leave nothing behind.
 */
#include "kernel/ktest.h"
#include "tests/kernel/vm.h"
#include "tests/kernel/code.h"

KTEST(reserved_pages_fault_on_any_access)
{
	void *p;

	KASSERT_EQ(alloc(0, 3 * P, MEM_RESERVE, PAGE_READWRITE, &p), S_OK);
	KASSERT_EQ((uint64_t)p % G, 0);
	KASSERT_EQ(try_read(p, 0, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(try_write((uint8_t *)p + 2 * P, 1, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(release_at(p), S_OK);
}

/* The first touch takes a frame through the real #PF path (demand zero). */
KTEST(committed_pages_read_zero_and_keep_writes)
{
	struct hostmem_stats before = stats();
	volatile uint64_t *p;

	KASSERT_EQ(alloc(0, 8 * P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	KASSERT_EQ(stats().frames_data, before.frames_data);   /* nothing touched yet */
	for (int i = 0; i < 8; i++)
		KASSERT_EQ(p[i * 512 + 7], 0);
	p[3 * 512] = 0xFEEDFACE;
	KASSERT_EQ(p[3 * 512], 0xFEEDFACE);
	KASSERT_EQ(stats().frames_data, before.frames_data + 8);
	KASSERT_EQ(release_at((void *)p), S_OK);
	KASSERT_EQ(stats().frames_data, before.frames_data);
}

KTEST(read_only_pages_fault_on_write)
{
	struct fault_info fi;
	uint8_t *p;

	KASSERT_EQ(alloc(0, P, MEM_COMMIT, PAGE_READONLY, (void **)&p), S_OK);
	KASSERT_EQ(try_read(p, 0, 0), 0);
	KASSERT_EQ(try_write(p, 1, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(fi.addr, (uint64_t)p);
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(non_execute_pages_fault_on_fetch)
{
	uint8_t *p;
	DWORD old;

	KASSERT_EQ(alloc(0, P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	put_ret(p);
	KASSERT_EQ(try_exec(p, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, 1, PAGE_EXECUTE_READ, &old), S_OK);
	KASSERT_EQ(old, PAGE_READWRITE);
	KASSERT_EQ(try_exec(p, 0), 0);
	KASSERT_EQ(try_write(p, 0, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(guard_page_faults_once_then_the_access_succeeds)
{
	struct fault_info fi;
	uint8_t *p, v;

	KASSERT_EQ(alloc(0, 2 * P, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD, (void **)&p), S_OK);
	KASSERT_EQ(query(p).Protect, PAGE_READWRITE | PAGE_GUARD);
	KASSERT_EQ(try_write(p + 5, 9, &fi), STATUS_GUARD_PAGE_VIOLATION);
	KASSERT_EQ(fi.addr, (uint64_t)p + 5);
	KASSERT_EQ(try_write(p + 5, 9, 0), 0);
	KASSERT_EQ(try_read(p + 5, &v, 0), 0);
	KASSERT_EQ(v, 9);
	KASSERT_EQ(query(p).Protect, PAGE_READWRITE);
	KASSERT_EQ(query(p).AllocationProtect, PAGE_READWRITE | PAGE_GUARD);
	KASSERT_EQ(query(p + P).Protect, PAGE_READWRITE | PAGE_GUARD);   /* its own guard */
	KASSERT_EQ(release_at(p), S_OK);
}

/* A guard set on a page that already holds data keeps the data. */
KTEST(guard_over_written_data_keeps_it)
{
	uint8_t *p, v;
	DWORD old;

	KASSERT_EQ(alloc(0, P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	p[100] = 42;
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, P, PAGE_READONLY | PAGE_GUARD, &old), S_OK);
	KASSERT_EQ(try_read(p + 100, &v, 0), STATUS_GUARD_PAGE_VIOLATION);
	KASSERT_EQ(try_read(p + 100, &v, 0), 0);
	KASSERT_EQ(v, 42);
	KASSERT_EQ(try_write(p, 1, 0), STATUS_ACCESS_VIOLATION);     /* read-only now */
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(noaccess_commit_differs_from_reserve_and_faults)
{
	uint8_t *p;

	KASSERT_EQ(alloc(0, 2 * P, MEM_RESERVE, PAGE_NOACCESS, (void **)&p), S_OK);
	KASSERT_EQ(alloc(p, P, MEM_COMMIT, PAGE_NOACCESS, (void **)&p), S_OK);
	KASSERT_EQ(query(p).State, MEM_COMMIT);
	KASSERT_EQ(query(p).Protect, PAGE_NOACCESS);
	KASSERT_EQ(query(p + P).State, MEM_RESERVE);
	KASSERT_EQ(query(p + P).Protect, 0);
	KASSERT_EQ(try_read(p, 0, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(release_at(p), S_OK);
}

KTEST(protect_keeps_contents_through_noaccess)
{
	uint8_t *p, v;
	DWORD old;

	KASSERT_EQ(alloc(0, P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	p[7] = 0xAB;
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, P, PAGE_NOACCESS, &old), S_OK);
	KASSERT_EQ(try_read(p + 7, &v, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, P, PAGE_READONLY, &old), S_OK);
	KASSERT_EQ(old, PAGE_NOACCESS);
	KASSERT_EQ(try_read(p + 7, &v, 0), 0);
	KASSERT_EQ(v, 0xAB);
	KASSERT_EQ(release_at(p), S_OK);
}

/* Decommit returns the frame; a new commit of the page reads zero even if
 * the same frame comes back. */
KTEST(decommitted_page_faults_and_recommits_as_zero)
{
	volatile uint8_t *p;
	uint8_t v;

	KASSERT_EQ(alloc(0, P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	p[0] = 0x99;
	KASSERT_EQ(IHostMemoryManager_VirtualFree(mgr(), (void *)p, P, MEM_DECOMMIT), S_OK);
	KASSERT_EQ(try_read((void *)p, 0, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(query((void *)p).State, MEM_RESERVE);
	KASSERT_EQ(alloc((void *)p, P, MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	KASSERT_EQ(try_read((void *)p, &v, 0), 0);
	KASSERT_EQ(v, 0);
	KASSERT_EQ(release_at((void *)p), S_OK);
}

KTEST(release_returns_every_frame_and_table)
{
	struct hostmem_stats before = stats(), after;
	uint8_t *p;

	KASSERT_EQ(alloc(0, 64 * G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	for (uint64_t off = 0; off < 64 * G; off += 7 * P)
		p[off] = 1;
	KASSERT_EQ(release_at(p), S_OK);
	after = stats();
	KASSERT_EQ(after.frames_free, before.frames_free);
	KASSERT_EQ(after.frames_tables, before.frames_tables);
	KASSERT_EQ(after.commit_charge, before.commit_charge);
	KASSERT_EQ(after.reservations, before.reservations);
}

/* No overcommit: a commit the frames cannot back fails and changes nothing. */
KTEST(commit_past_the_limit_fails_and_changes_nothing)
{
	struct hostmem_stats before = stats();
	uint64_t too_much = (before.commit_available + 1) * P;
	void *p, *q;

	KASSERT_EQ(alloc(0, too_much, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p), E_OUTOFMEMORY);
	KASSERT_EQ(p, 0);
	KASSERT_EQ(alloc(0, too_much, MEM_RESERVE, PAGE_READWRITE, &p), S_OK);
	KASSERT_EQ(alloc(p, too_much, MEM_COMMIT, PAGE_READWRITE, &q), E_OUTOFMEMORY);
	KASSERT_EQ(query(p).State, MEM_RESERVE);
	KASSERT_EQ(query(p).RegionSize, too_much);
	KASSERT_EQ(release_at(p), S_OK);
	KASSERT_EQ(stats().frames_free, before.frames_free);
}

KTEST(top_down_places_highest)
{
	void *low, *high;

	KASSERT_EQ(alloc(0, G, MEM_RESERVE, PAGE_READWRITE, &low), S_OK);
	KASSERT_EQ(alloc(0, G, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE, &high), S_OK);
	KASSERT_EQ((uint64_t)high, HM_USER_LIMIT - G);
	KASSERT((uint64_t)low < (uint64_t)high);
	KASSERT_EQ(release_at(low), S_OK);
	KASSERT_EQ(release_at(high), S_OK);
}

KTEST(bad_input_gets_its_hresult_and_changes_nothing)
{
	struct hostmem_stats before = stats();
	void *p;
	DWORD old;

	KASSERT_EQ(alloc(0, 0, MEM_RESERVE, PAGE_READWRITE, &p), E_INVALIDARG);
	KASSERT_EQ(alloc(0, P, MEM_RESERVE, PAGE_WRITECOPY, &p), E_INVALIDARG);
	KASSERT_EQ(alloc((void *)0x8000, P, MEM_RESERVE, PAGE_READWRITE, &p), E_INVALIDARG);
	KASSERT_EQ(alloc((void *)0x20000, P, MEM_COMMIT, PAGE_READWRITE, &p),
	           HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
	KASSERT_EQ(IHostMemoryManager_VirtualFree(mgr(), (void *)0x20000, 0, MEM_RELEASE),
	           HOST_E_INVALIDOPERATION);
	KASSERT_EQ(IHostMemoryManager_VirtualFree(mgr(), (void *)0xFFFF800000000000ull, 0, MEM_RELEASE),
	           HOST_E_INVALIDOPERATION);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), (void *)0x20000, P, PAGE_READWRITE, 0),
	           E_POINTER);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), (void *)0x20000, P, PAGE_READWRITE, &old),
	           HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
	KASSERT_EQ(stats().frames_free, before.frames_free);
	KASSERT_EQ(stats().reservations, before.reservations);
}

/* The manager can never touch the kernel: kernel-half addresses are refused
 * and the kernel's own mappings stay as they were. */
KTEST(kernel_half_is_never_managed)
{
	extern char __text_start[];
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n;
	void *p;
	DWORD old;

	KASSERT_EQ(alloc(__text_start, P, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, &p), E_INVALIDARG);
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), __text_start, P, PAGE_READWRITE, &old),
	           E_INVALIDARG);
	KASSERT_EQ(IHostMemoryManager_VirtualQuery(mgr(), __text_start, &mbi, sizeof(mbi), &n),
	           E_INVALIDARG);
	KASSERT_EQ(try_write(__text_start, 0, 0), STATUS_ACCESS_VIOLATION);
}
