/*
 * protect.c - VirtualProtect.
 *
 * Every page of the range must be committed and in one reservation; the old
 * protection returned is the first page's.  Frames and contents stay: only
 * the hardware bits and the stored protection change (pt_protect), so a
 * NOACCESS or GUARD page keeps its frame parked behind a non-present PTE.
 *
 * A large-page reservation changes protection a whole 2 MiB page at a time
 * (its PS entries are rewritten in place); a 2 MiB page is always present,
 * so NOACCESS and GUARD are refused there.
 *
 * The cache attribute belongs to the allocation, as on current Windows:
 * VirtualProtect neither adds nor removes PAGE_NOCACHE / PAGE_WRITECOMBINE,
 * and every page has the allocation's (pte_prot_in); a protection that
 * cannot carry it (GUARD, NOACCESS) is refused.
 */
#include "hm.h"
#include "pte.h"
#include "tlb.h"

/* Is every page of [va, end) committed? */
static bool all_committed(struct hm *hm, uint64_t va, uint64_t end)
{
	size_t committed, promised;

	count_pages(hm, va, end, &committed, &promised);
	return committed == (end - va) / PAGE;
}

/* Every page of a large-page reservation is committed, from its reserve to
 * its release. */
static hm_status protect_large(struct hm *hm, uint64_t va, uint64_t end, DWORD prot,
                               DWORD *old)
{
	struct tlb_gather g;
	uint64_t e;

	if ((va | end) & (HM_LARGE_PAGE - 1))
		return HM_INVALID_PARAMETER;
	if (!pte_hw_bits(prot))
		return HM_INVALID_PAGE_PROTECTION;
	*old = pte_prot(pt_lookup(&hm->pt, va, 0));
	tlb_gather_init(&g, &hm->frames);
	for (; va < end; va += HM_LARGE_PAGE) {
		e = pt_lookup(&hm->pt, va, 0);
		pt_replace(&hm->pt, va, e, pte_reprotect_large(e, prot), &g);
	}
	tlb_finish(&g);
	return HM_OK;
}

/*
 * Windows reports a page that is not committed before a protection that the
 * allocation's cache attribute makes invalid.  pt_protect checks the pages
 * as it goes (one lookup for one page), so the protection is checked first
 * and, on that rarer refusal, the pages decide which error it is.
 */
hm_status vm_protect(struct hm *hm, uint64_t addr, uint64_t size, DWORD prot, DWORD *old)
{
	struct tlb_gather g;
	uint64_t va, end;
	struct resv *r;
	uint32_t first;
	int err;

	/* NT's order: the protection, then the out-pointer. */
	if (!pte_prot_valid(prot))
		return HM_INVALID_PAGE_PROTECTION;
	if (!old)
		return HM_BAD_POINTER;
	if (size == 0 || addr >= VA_LIMIT || size > VA_LIMIT - addr)
		return HM_INVALID_PARAMETER;
	va = page_down(addr);
	end = page_up(addr + size);
	r = resv_find(&hm->resv, va);
	if (!r || end > r->end || (r->flags & RESV_F_ACQUIRED))
		return HM_NOT_RESERVED;
	prot = pte_prot_in(prot, r->protect);
	if (!pte_prot_valid(prot))
		return all_committed(hm, va, end) ? HM_INVALID_PAGE_PROTECTION : HM_NOT_COMMITTED;
	if (r->flags & RESV_F_LARGE_PAGES)
		return protect_large(hm, va, end, prot, old);
	tlb_gather_init(&g, &hm->frames);
	err = pt_protect(&hm->pt, va, (end - va) / PAGE, prot, &g, &first);
	tlb_finish(&g);
	if (err != PT_OK)
		return HM_NOT_COMMITTED;
	*old = first;
	return HM_OK;
}
