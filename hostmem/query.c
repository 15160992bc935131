/*
 * query.c - VirtualQuery: describe the run of pages from pagedown(addr)
 * that share state, protection and reservation.
 *
 * Inside a reservation a run never crosses its end; pages are compared by
 * (committed, protection), with reserved pages reporting Protect 0.  Missing
 * page tables are skipped a whole table's reach at a time, so a query over a
 * large reserved range costs a few walks, not one per page.  Outside every
 * reservation the region is free and runs to the next reservation's base (or
 * the end of the managed range), reported as Windows does: State MEM_FREE,
 * Protect PAGE_NOACCESS, AllocationBase NULL, AllocationProtect 0, Type 0.
 * Addresses below 64 KiB, and space the runtime acquired outside
 * VirtualAlloc (vaspace.c), are free space like any other.
 *
 * hostmem_resident_pages, the console map's "resident" column, reads the
 * same entries: a committed page is resident once it holds a frame (present,
 * or parked behind NOACCESS or GUARD), not while it is demand-zero.
 */
#include "hm.h"
#include "pte.h"

/* What a query reports for one page: protection 0 for reserved pages. */
static DWORD page_key(uint64_t e, DWORD *state)
{
	*state = pte_is_committed(e) ? MEM_COMMIT : MEM_RESERVE;
	return *state == MEM_COMMIT ? pte_prot(e) : 0;
}

/* The first reservation of ours above va.  Space the runtime acquired is
 * not ours and reads as free, so a free region runs on through it. */
static struct resv *next_ours_above(struct hm *hm, uint64_t va)
{
	struct resv *r = resv_next_above(&hm->resv, va);

	while (r && (r->flags & RESV_F_ACQUIRED))
		r = resv_next(r);
	return r;
}

static void query_free(struct hm *hm, uint64_t va, MEMORY_BASIC_INFORMATION *mbi)
{
	struct resv *next = next_ours_above(hm, va);

	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)va,
		.RegionSize = (next ? next->base : VA_LIMIT) - va,
		.State = MEM_FREE,
		.Protect = PAGE_NOACCESS,
	};
}

/* The run of pages from va (below limit) that report what the page at va
 * does, *state and *prot: where it ends.  Inside a page table the PTEs are
 * read in a row; a missing table or a 2 MiB page is one step. */
static uint64_t run_end(struct hm *hm, uint64_t va, uint64_t limit, DWORD *state, DWORD *prot)
{
	bool first = true;
	uint64_t span, stop;
	DWORD key, s;
	int level;

	while (va < limit) {
		const uint64_t *pte = pt_walk(&hm->pt, va, &level);

		if (pte && level == 1) {
			stop = (va | (HM_LARGE_PAGE - 1)) + 1;
			for (stop = stop < limit ? stop : limit; va < stop; va += PAGE, pte++) {
				key = page_key(pte_read(pte), &s);
				if (!first && (key != *prot || s != *state))
					return va;
				*prot = key;
				*state = s;
				first = false;
			}
			continue;
		}
		key = page_key(pte_at(hm, va, &span), &s);
		if (!first && (key != *prot || s != *state))
			return va;
		*prot = key;
		*state = s;
		first = false;
		va += span;
	}
	return limit;
}

static void query_resv(struct hm *hm, struct resv *r, uint64_t va, MEMORY_BASIC_INFORMATION *mbi)
{
	DWORD state = MEM_RESERVE, prot = 0;   /* va < r->end: run_end sets both */
	uint64_t end = run_end(hm, va, r->end, &state, &prot);

	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)va,
		.AllocationBase = (void *)r->base,
		.AllocationProtect = r->protect,
		.RegionSize = end - va,
		.State = state,
		.Protect = prot,
		.Type = MEM_PRIVATE,
	};
}

hm_status vm_query(struct hm *hm, uint64_t addr, MEMORY_BASIC_INFORMATION *mbi)
{
	uint64_t va = page_down(addr);
	struct resv *r;

	if (addr >= VA_LIMIT)
		return HM_INVALID_PARAMETER;
	r = va >= VA_MIN ? resv_find(&hm->resv, va) : 0;
	if (r && !(r->flags & RESV_F_ACQUIRED))
		query_resv(hm, r, va, mbi);
	else
		query_free(hm, va, mbi);
	return HM_OK;
}

/* Pages of [va, end) holding a frame; missing tables skipped whole, a
 * 2 MiB page counted as the pages of it inside the range. */
static uint64_t resident_in(struct hm *hm, uint64_t va, uint64_t end)
{
	uint64_t span, e, n = 0;

	for (; va < end; va += span) {
		e = pte_at(hm, va, &span);
		if (span > end - va)
			span = end - va;
		if (pte_is_present(e) || pte_is_parked(e))
			n += span / PAGE;
	}
	return n;
}

HRESULT hostmem_resident_pages(IHostMemoryManager *m, void *base, SIZE_T size, SIZE_T *resident)
{
	struct hm *hm = hm_of(m);
	uint64_t va = (uint64_t)(uintptr_t)base;
	SIZE_T n = 0;
	hm_status s = HM_OK;
	HRESULT hr;

	if (!resident)
		return E_POINTER;
	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	if (va >= VA_LIMIT || size > VA_LIMIT - va)
		s = HM_INVALID_PARAMETER;
	else
		n = resident_in(hm, page_down(va), page_up(va + size));
	hr = hm_leave(hm, s);
	if (hr == S_OK && !caller_put(hm, resident, &n, sizeof(n)))
		return E_POINTER;
	return hr;
}
