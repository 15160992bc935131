/*
 * vaspace.c - address space the runtime takes outside VirtualAlloc.
 *
 * The runtime asks first (NeedsVirtualAddressSpace), then says what it took
 * (Acquired) and later gave back (Released).  Acquired space becomes a node
 * in the reservation tree flagged RESV_F_ACQUIRED: placement and fixed
 * reserves see it as occupied, so the manager never hands it out, while every
 * contract call treats it as not ours (no commit, no free, queried as free).
 * Like a reservation it occupies whole 64 KiB blocks.
 */
#include "hm.h"

static hm_status check_space(uint64_t start, uint64_t size)
{
	if (size == 0 || start < VA_MIN || start >= VA_LIMIT || size > VA_LIMIT - start)
		return HM_INVALID_PARAMETER;
	return HM_OK;
}

/* May the runtime take [start, start + size)?  NULL start: is there room
 * for that much anywhere? */
hm_status vm_needs_space(struct hm *hm, uint64_t start, uint64_t size)
{
	uint64_t base;

	if (start == 0) {
		if (size == 0 || size > VA_LIMIT - VA_MIN)
			return HM_INVALID_PARAMETER;
		return resv_fit(&hm->resv, page_up(size), false, &base) ? HM_OK : HM_NO_MEMORY;
	}
	if (check_space(start, size) != HM_OK)
		return HM_INVALID_PARAMETER;
	base = start & ~(uint64_t)(GRANULE - 1);
	return resv_range_free(&hm->resv, base, page_up(start + size)) ? HM_OK : HM_NO_MEMORY;
}

/* The runtime took it: keep it out of our placements.  Space we already
 * hand out cannot have been taken: that is a bad argument. */
hm_status vm_acquired_space(struct hm *hm, uint64_t start, uint64_t size)
{
	uint64_t base = start & ~(uint64_t)(GRANULE - 1);
	struct resv *r;

	if (check_space(start, size) != HM_OK)
		return HM_INVALID_PARAMETER;
	if (!resv_range_free(&hm->resv, base, page_up(start + size)))
		return HM_INVALID_PARAMETER;
	r = slab_alloc(&hm->nodes);
	if (!r)
		return HM_NO_MEMORY;
	*r = (struct resv){ .base = base, .end = page_up(start + size), .flags = RESV_F_ACQUIRED };
	resv_insert(&hm->resv, r);
	hm->acquired++;
	return HM_OK;
}

hm_status vm_released_space(struct hm *hm, uint64_t start)
{
	struct resv *r;

	if (start < VA_MIN || start >= VA_LIMIT)
		return HM_INVALID_PARAMETER;
	r = resv_find(&hm->resv, start);
	if (!r || !(r->flags & RESV_F_ACQUIRED) || r->base != (start & ~(uint64_t)(GRANULE - 1)))
		return HM_INVALID_PARAMETER;
	resv_remove(&hm->resv, r);
	slab_free(&hm->nodes, r);
	hm->acquired--;
	return HM_OK;
}
