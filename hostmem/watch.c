/*
 * watch.c - write watch: which pages of a MEM_WRITE_WATCH reservation were
 * written since it was allocated or since the last reset, as Win32
 * GetWriteWatch / ResetWriteWatch report them.
 *
 * The record is the hardware's own: the CPU sets the D bit of a PTE on the
 * first write through it, and every rewrite of the PTE latches D into the
 * software W bit (pte.h), so the record survives a new protection, NOACCESS
 * and GUARD, MEM_RESET and, as on Windows, a decommit: a dirty page
 * decommitted in a write-watch reservation leaves a trace (PTE_WRITTEN
 * alone, pte.h), reported until a reset or the release, and kept if the page
 * is committed again.  A reset clears D and W (a trace goes altogether) and
 * invalidates the page's TLB entry: a CPU holding a translation marked dirty
 * would not set D again on the next write.
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

/* Clears the dirty state of the PTE e at va; a trace goes altogether.  A
 * present page's translation is dropped: a CPU holding it marked dirty would
 * not set D again on the next write. */
static void clean(struct hm *hm, uint64_t va, uint64_t e, struct tlb_gather *g)
{
	pt_replace(&hm->pt, va, e, pte_hw_clean(e) & ~PTE_WRITTEN, g);
}

/* Up to max dirty pages of [*va, end) into out (NULL: reset them all);
 * *va moves past the last page looked at.  Returns how many. */
static size_t collect(struct hm *hm, uint64_t *va, uint64_t end, uint64_t *out, size_t max,
                      bool reset)
{
	struct tlb_gather g;
	uint64_t span, e;
	size_t n = 0;

	tlb_gather_init(&g, &hm->frames);
	for (; *va < end && (!out || n < max); *va += span) {
		e = pte_at(hm, *va, &span);
		if (!pte_is_dirty(e))   /* committed and written, or a trace */
			continue;
		if (out)
			out[n] = *va;
		n++;
		if (reset)
			clean(hm, *va, e, &g);
	}
	tlb_finish(&g);
	return n;
}

/*
 * GetWriteWatch.  The caller's array may fault, so it is filled in batches:
 * each batch is harvested (and reset) under the lock into a local buffer and
 * copied out after the lock is dropped.  Every pointer is probed before the
 * first batch, so a bad one is refused before anything is reset.
 */
#define WATCH_BATCH 64

struct watch_call {
	DWORD flags;
	uint64_t base, size;
	void **addresses;
	ULONG_PTR max;                 /* the caller's *count on entry */
	bool count_ok, gran_ok, addresses_ok;
};

/* The pages [base, base + size) could hold, or 0 if the range is nonsense. */
static uint64_t watch_pages(uint64_t base, uint64_t size)
{
	if (size == 0 || base >= VA_LIMIT || size > VA_LIMIT - base)
		return 0;
	return (page_up(base + size) - page_down(base)) / PAGE;
}

static void watch_probe(struct hm *hm, struct watch_call *c, ULONG_PTR *count,
                        DWORD *granularity)
{
	uint64_t n;

	c->count_ok = caller_get(hm, &c->max, count, sizeof(c->max)) &&
	              caller_probe(hm, count, sizeof(*count));
	c->gran_ok = caller_probe(hm, granularity, sizeof(*granularity));
	n = c->count_ok ? watch_pages(c->base, c->size) : 0;
	if (n > c->max)
		n = c->max;
	c->addresses_ok = c->addresses && (n == 0 || caller_probe(hm, c->addresses, n * sizeof(void *)));
}

/* Lock held: the checks in NT's order, then the range. */
static hm_status watch_check(struct hm *hm, const struct watch_call *c, uint64_t *va,
                             uint64_t *end)
{
	if (!c->count_ok || !c->gran_ok)
		return HM_BAD_POINTER;
	if ((c->flags & ~WRITE_WATCH_FLAG_RESET) || c->max == 0)
		return HM_INVALID_PARAMETER;
	if (!c->addresses_ok)
		return HM_BAD_POINTER;
	return watch_range(hm, c->base, c->size, va, end);
}

HRESULT hostmem_get_write_watch(IHostMemoryManager *m, DWORD dwFlags, void *base, SIZE_T size,
                                void **addresses, ULONG_PTR *count, DWORD *granularity)
{
	struct hm *hm = hm_of(m);
	struct watch_call c = { .flags = dwFlags, .base = (uint64_t)(uintptr_t)base, .size = size,
	                        .addresses = addresses };
	uint64_t batch[WATCH_BATCH], va = 0, end = 0, next;
	ULONG_PTR n = 0, k;
	DWORD gran = PAGE;
	hm_status s;
	HRESULT hr;

	watch_probe(hm, &c, count, granularity);
	for (next = 0;; next = va) {
		if (!hm_enter(hm))
			return HOST_E_CLRNOTAVAILABLE;
		s = watch_check(hm, &c, &va, &end);
		if (s != HM_OK)
			return hm_leave(hm, s);
		va = next > va ? next : va;   /* resume after the last batch */
		k = collect(hm, &va, end, batch, c.max - n < WATCH_BATCH ? c.max - n : WATCH_BATCH,
		            dwFlags & WRITE_WATCH_FLAG_RESET);
		hr = hm_leave(hm, HM_OK);
		if (hr != S_OK || !caller_put(hm, addresses + n, batch, k * sizeof(void *)))
			return hr != S_OK ? hr : E_POINTER;
		n += k;
		if (va >= end || n == c.max)
			break;
	}
	if (!caller_put(hm, count, &n, sizeof(n)) || !caller_put(hm, granularity, &gran, sizeof(gran)))
		return E_POINTER;
	return S_OK;
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
		collect(hm, &va, end, 0, 0, true);
	return hm_leave(hm, s);
}
