/*
 * reserve.c - reservations: where a new one goes, and taking one away.
 *
 * A reservation is a node in the gap-augmented tree (resv.c), allocated from
 * the node slab before it is inserted, so the only failure after placement
 * is "no node", and it happens before anything changed.  A reservation's
 * pages are [base, end) with end page-rounded; it owns every 64 KiB block it
 * touches, so placement works in blocks and the tail of its last block stays
 * free but unusable.
 */
#include "hm.h"

/* Where [addr, addr + size) goes: at the 64 KiB block holding addr, or, for
 * addr 0, at the lowest (or highest) base, a multiple of align (64 KiB, or
 * 2 MiB for large pages), whose blocks are free.  When the plain fit placed
 * it, *placed is set and *at says where its node goes (resv_fit_at).
 * Inline: called once, and as a call its nine arguments cost reserve +
 * release about 40 instructions in the kernel (measured under -icount). */
static inline hm_status place(struct hm *hm, uint64_t addr, uint64_t size, bool top_down,
                              uint64_t align, uint64_t *base, uint64_t *end, bool *placed,
                              struct resv **at)
{
	uint64_t len = page_up(size);
	bool fit;

	*placed = !addr && align == GRANULE;
	if (addr) {
		*base = addr & ~(uint64_t)(GRANULE - 1);
		*end = page_up(addr + size);
		return resv_range_free(&hm->resv, *base, *end) ? HM_OK : HM_CONFLICTING_ADDRESSES;
	}
	fit = align == GRANULE ? resv_fit_at(&hm->resv, len, top_down, base, at)
	                       : resv_fit_aligned(&hm->resv, len, align, top_down, base);
	if (!fit)
		return HM_NO_MEMORY;
	*end = *base + len;
	return HM_OK;
}

/* A node from the slab; if its page must come from frames that kept page
 * tables hold, they are given back first. */
static struct resv *node_alloc(struct hm *hm)
{
	struct resv *r = slab_alloc(&hm->nodes);

	if (!r && reclaim_tables(hm))
		r = slab_alloc(&hm->nodes);
	return r;
}

/* A new reservation (nothing committed).  addr and size were validated:
 * inside the managed range, no wrap. */
hm_status reserve(struct hm *hm, uint64_t addr, uint64_t size, bool top_down, DWORD prot,
                  uint32_t flags, struct resv **out)
{
	uint64_t base, end;
	struct resv *r, *at = 0;
	uint64_t align = (flags & RESV_F_LARGE_PAGES) ? HM_LARGE_PAGE : GRANULE;
	bool placed;
	hm_status s = place(hm, addr, size, top_down, align, &base, &end, &placed, &at);

	if (s != HM_OK)
		return s;
	r = node_alloc(hm);            /* the tree is not touched: at still holds */
	if (!r)
		return HM_NO_MEMORY;
	r->base = base;
	r->end = end;
	r->protect = prot;
	r->flags = flags;
	if (placed)
		resv_insert_at(&hm->resv, r, at);
	else
		resv_insert(&hm->resv, r);
	*out = r;
	return HM_OK;
}

/* Decommits every page, then forgets the reservation.  One that never had
 * a page committed has no page state to walk.  Cannot fail. */
void release(struct hm *hm, struct resv *r)
{
	if (r->flags & RESV_F_COMMITTED)
		decommit_range(hm, r->base, r->end, false, true);
	resv_remove(&hm->resv, r);
	slab_free(&hm->nodes, r);
}
