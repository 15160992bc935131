/*
 * watch.c - write watch: which pages of a MEM_WRITE_WATCH reservation were
 * written since it was allocated or since the last reset, as Win32
 * GetWriteWatch / ResetWriteWatch report them.
 *
 * The record is the hardware's own: the CPU sets the D bit of a PTE on the
 * first write through it, and pte.h folds D into the software W bit when a
 * page stops being present, so the state survives NOACCESS and GUARD.  A
 * reset clears both and invalidates the page's TLB entry: a CPU holding a
 * translation marked dirty would not set D again on the next write.  Commit
 * writes fresh PTEs (nothing dirty); decommit removes them (the state goes
 * with the page), as on Windows.
 *
 * Cost: one PTE visit per page of the range; missing tables skipped whole.
 */
#include "hm.h"
#include "pte.h"
#include "tlb.h"

/* [base, base + size) inside one write-watch reservation, page-rounded. */
static hm_status watch_range(struct hm *hm, uint64_t base, uint64_t size,
                             uint64_t *va, uint64_t *end)
{
	struct resv *r;

	if (size == 0 || base < VA_MIN || base >= VA_LIMIT || size > VA_LIMIT - base)
		return HM_INVALID_PARAMETER;
	r = resv_find(&hm->resv, base);
	if (!r || !(r->flags & RESV_F_WRITE_WATCH) || base + size > r->end)
		return HM_INVALID_PARAMETER;
	*va = page_down(base);
	*end = page_up(base + size);
	return HM_OK;
}

/* Clears the dirty state of the PTE at va (present or parked). */
static void clean(struct hm *hm, uint64_t va, struct tlb_gather *g)
{
	uint64_t *e = pt_walk(&hm->pt, va, 0);

	*e &= ~(PTE_D | PTE_WRITTEN);
	if (*e & PTE_P)
		tlb_gather_page(g, va);
}

/* Up to max dirty pages into out (NULL: reset them all); returns how many. */
static size_t collect(struct hm *hm, uint64_t va, uint64_t end, void **out, size_t max,
                      bool reset)
{
	struct tlb_gather g;
	uint64_t span, e;
	size_t n = 0;

	tlb_gather_init(&g, &hm->frames);
	for (; va < end && (!out || n < max); va += span) {
		e = pte_at(hm, va, &span);
		if (!pte_is_committed(e) || !pte_is_dirty(e))
			continue;
		if (out)
			out[n] = (void *)(uintptr_t)va;
		n++;
		if (reset)
			clean(hm, va, &g);
	}
	tlb_finish(&g);
	return n;
}

static hm_status get_watch(struct hm *hm, DWORD flags, uint64_t base, uint64_t size,
                           void **addresses, ULONG_PTR *count, DWORD *granularity)
{
	uint64_t va, end;
	hm_status s;

	if (!count || !granularity)
		return HM_BAD_POINTER;
	if ((flags & ~WRITE_WATCH_FLAG_RESET) || *count == 0)
		return HM_INVALID_PARAMETER;
	if (!addresses)
		return HM_BAD_POINTER;
	s = watch_range(hm, base, size, &va, &end);
	if (s != HM_OK)
		return s;
	*count = collect(hm, va, end, addresses, *count, flags & WRITE_WATCH_FLAG_RESET);
	*granularity = PAGE;
	return HM_OK;
}

HRESULT hostmem_get_write_watch(IHostMemoryManager *m, DWORD dwFlags, void *base, SIZE_T size,
                                void **addresses, ULONG_PTR *count, DWORD *granularity)
{
	struct hm *hm = hm_of(m);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	return hm_leave(hm, get_watch(hm, dwFlags, (uint64_t)(uintptr_t)base, size, addresses,
	                              count, granularity));
}

HRESULT hostmem_reset_write_watch(IHostMemoryManager *m, void *base, SIZE_T size)
{
	struct hm *hm = hm_of(m);
	uint64_t va, end;
	hm_status s;

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	s = watch_range(hm, (uint64_t)(uintptr_t)base, size, &va, &end);
	if (s == HM_OK)
		collect(hm, va, end, 0, 0, true);
	return hm_leave(hm, s);
}
