/*
 * free.c - VirtualFree: MEM_RELEASE takes a whole reservation away,
 * MEM_DECOMMIT returns pages to the reserved state.
 *
 * Windows checks the free type and the size before it looks at the address,
 * so a wrong type or a MEM_RELEASE with a size is E_INVALIDARG whatever the
 * address.  An address in no reservation of ours (never allocated, already
 * released, NULL, outside the managed range) is HOST_E_INVALIDOPERATION: the
 * interface's word for "not yours to free".
 */
#include "hm.h"

static hm_status decommit(struct hm *hm, struct resv *r, uint64_t addr, uint64_t size)
{
	uint64_t va = page_down(addr), end;

	if (size == 0) {
		if (va != r->base)
			return HM_FREE_VM_NOT_AT_BASE;
		decommit_range(hm, r->base, r->end, r->flags & RESV_F_WRITE_WATCH, false);
		return HM_OK;
	}
	if (size > VA_LIMIT - addr)
		return HM_INVALID_PARAMETER;
	end = page_up(addr + size);
	if (end > r->end)
		return HM_INVALID_PARAMETER;   /* Windows: STATUS_UNABLE_TO_FREE_VM */
	decommit_range(hm, va, end, r->flags & RESV_F_WRITE_WATCH, false);
	return HM_OK;
}

hm_status vm_free(struct hm *hm, uint64_t addr, uint64_t size, DWORD type)
{
	struct resv *r;

	if (type != MEM_DECOMMIT && type != MEM_RELEASE)
		return HM_INVALID_PARAMETER;
	if (type == MEM_RELEASE && size != 0)
		return HM_INVALID_PARAMETER;
	if (addr < VA_MIN || addr >= VA_LIMIT)
		return HM_NOT_OURS;
	r = resv_find(&hm->resv, page_down(addr));
	if (!r || (r->flags & RESV_F_ACQUIRED))
		return HM_NOT_OURS;
	if (type == MEM_DECOMMIT)   /* 2 MiB pages go only with their reservation */
		return (r->flags & RESV_F_LARGE_PAGES) ? HM_INVALID_PARAMETER : decommit(hm, r, addr, size);
	if (page_down(addr) != r->base)
		return HM_FREE_VM_NOT_AT_BASE;
	release(hm, r);
	return HM_OK;
}
