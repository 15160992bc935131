/*
 * Second checks, on the real MMU, of three mechanisms that each had one
 * test: a stale TLB entry or a forgotten mark would let a real access (or
 * a real fault) tell a different story than the page tables.
 *
 *   - MEM_RESET's PTE_DISCARDED survives the first touch (fault.c), so
 *     MEM_RESET_UNDO still reports the loss after a read or a write;
 *   - a reprotected 2 MiB page leaves no writable TLB entry (protect.c);
 *   - ResetWriteWatch drops the TLB entries of the pages it cleans, also
 *     past the gather's 32 addresses (the full-flush path), so the CPU
 *     sets D again on the next write (watch.c).
 */
#include "kernel/ktest.h"
#include "kernel/recover.h"
#include "tests/kernel/vm.h"

#define DISCARDED HRESULT_FROM_WIN32(ERROR_DISCARDED)
#define LARGE     (2ull << 20)

static HRESULT undo(uint8_t *p, SIZE_T size)
{
	void *q;

	return alloc(p, size, MEM_RESET_UNDO, PAGE_READWRITE, &q);
}

/* The touch is a real fault taken by the CPU: one page read, one written
 * (each its own 64 KiB cluster, so each faults).  The data is gone either
 * way, and MEM_RESET_UNDO must say so for each. */
KTEST(a_reset_page_still_reports_the_loss_after_its_first_touch)
{
	uint8_t *p, *q, v = 0xFF;

	KASSERT_EQ(alloc(0, 2 * G, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, (void **)&p), S_OK);
	p[0] = 0x42;
	p[G] = 0x43;
	KASSERT_EQ(alloc(p, 2 * G, MEM_RESET, PAGE_NOACCESS, (void **)&q), S_OK);
	KASSERT_EQ(try_read(p, &v, 0), 0);
	KASSERT_EQ(v, 0);
	KASSERT_EQ(try_write(p + G, 7, 0), 0);
	KASSERT_EQ(undo(p, P), DISCARDED);
	KASSERT_EQ(undo(p + G, P), DISCARDED);
	KASSERT_EQ(p[G], 7);                             /* the write after the reset stays */
	KASSERT_EQ(release_at(p), S_OK);
}

/* A write loads a writable TLB entry for the 2 MiB page; after
 * VirtualProtect(READONLY) the same address must fault, not write through
 * the stale entry. */
KTEST(a_reprotected_large_page_leaves_no_writable_tlb_entry)
{
	uint8_t *p, v = 0;
	DWORD old;

	KASSERT_EQ(alloc(0, LARGE, MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE,
	                 (void **)&p), S_OK);
	p[0] = 1;
	p[LARGE - 1] = 2;
	KASSERT_EQ(IHostMemoryManager_VirtualProtect(mgr(), p, LARGE, PAGE_READONLY, &old), S_OK);
	KASSERT_EQ(try_write(p, 9, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(try_write(p + LARGE - 1, 9, 0), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(try_read(p, &v, 0), 0);
	KASSERT_EQ(v, 1);
	KASSERT_EQ(release_at(p), S_OK);
}

/* 40 pages written (40 TLB entries with D), reset with ResetWriteWatch
 * (past 32 addresses: one full flush), written again: every page is
 * reported, because every write had to set D in the PTE again. */
KTEST(reset_write_watch_of_many_pages_lets_the_cpu_mark_them_again)
{
	enum { N = 40 };
	volatile uint8_t *p;
	void *pages[N];
	ULONG_PTR n = N;
	DWORD gran;

	KASSERT_EQ(alloc(0, N * P, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE,
	                 (void **)&p), S_OK);
	for (int i = 0; i < N; i++)
		p[i * P] = 1;
	KASSERT_EQ(hostmem_reset_write_watch(mgr(), (void *)p, N * P), S_OK);
	KASSERT_EQ(hostmem_get_write_watch(mgr(), 0, (void *)p, N * P, pages, &n, &gran), S_OK);
	KASSERT_EQ(n, 0);
	for (int i = 0; i < N; i++)
		p[i * P] = 2;
	n = N;
	KASSERT_EQ(hostmem_get_write_watch(mgr(), 0, (void *)p, N * P, pages, &n, &gran), S_OK);
	KASSERT_EQ(n, N);
	KASSERT_EQ(release_at((void *)p), S_OK);
}
