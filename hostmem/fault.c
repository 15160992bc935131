/*
 * fault.c - what a page fault on managed memory means.
 *
 * The kernel's page-fault routine and the hosted twin's software MMU both
 * call hm_fault with the address and what the fault tells (HM_PF_*: a
 * present page, a write, a fetch; pte_arch.h reads them off the CPU's syndrome,
 * the x86 #PF error code or the AArch64 ESR).  The answer is 0
 * ("resolved: retry the access") or the exception the access raises:
 *
 *   demand-zero page, access allowed   map a zeroed frame (the commit charge
 *                                      promised one, so this cannot fail), and
 *                                      the same for its like neighbours in the
 *                                      aligned 64 KiB cluster; retry
 *   guard page (present data or not)   clear the guard, raise
 *                                      STATUS_GUARD_PAGE_VIOLATION once; the
 *                                      retried access then goes through
 *   present page, access allowed       the MMU wants the access recorded
 *                                      in the entry by software (pte_arch.h:
 *                                      AArch64 without FEAT_HAFDBS): record
 *                                      it; or a stale TLB entry: flush it;
 *                                      retry
 *   anything else                      STATUS_ACCESS_VIOLATION: reserved or
 *                                      free pages, NOACCESS, a write to a
 *                                      read-only page, a fetch from NX, a
 *                                      fault no page explains (HM_PF_BAD)
 *
 * Fault-around: the trap and the walk cost about half of zeroing a page, and
 * a touched page's neighbours are usually touched next.  Their frames are
 * already promised (strict commit), so mapping them now takes nothing from
 * anyone; it only zeroes a little earlier.  Only PTEs identical to the
 * faulting one (same protection, no guard, same marks) join, so every rule
 * above still holds page by page.
 */
#include "hm.h"
#include "pte.h"
#include "tlb.h"

#define CLUSTER 16u   /* pages mapped by one demand-zero fault, at most */

/* May an access of this kind (HM_PF_*) touch a page with
 * this protection?  x86 cannot fetch without reading: EXECUTE reads too. */
static bool allowed(DWORD prot, uint32_t error)
{
	DWORD base = prot & 0xFF;

	if (base == PAGE_NOACCESS)
		return false;
	if (error & HM_PF_W)
		return base == PAGE_READWRITE || base == PAGE_EXECUTE_READWRITE;
	if (error & HM_PF_I)
		return base == PAGE_EXECUTE || base == PAGE_EXECUTE_READ ||
		       base == PAGE_EXECUTE_READWRITE;
	return true;
}

static uint32_t clear_guard(struct hm *hm, uint64_t va, uint64_t e)
{
	struct tlb_gather g;
	DWORD prot = pte_prot(e) & ~PAGE_GUARD;

	tlb_gather_init(&g, &hm->frames);
	/* A guard page MEM_RESET emptied stays marked: the data is still lost,
	 * and MEM_RESET_UNDO must say so. */
	if (pte_is_demand_zero(e))
		pt_write(&hm->pt, va, 1, pte_make_demand_zero(prot) | pte_marks(e), &g);
	else
		pt_protect(&hm->pt, va, 1, prot, &g, 0);
	tlb_finish(&g);
	return STATUS_GUARD_PAGE_VIOLATION;
}

/* The run of PTEs equal to the faulting one e, around va, inside va's
 * aligned cluster (which lies inside one page table). */
static void cluster(struct hm *hm, uint64_t va, uint64_t e, uint64_t *lo, uint64_t *hi)
{
	uint64_t first = va & ~(uint64_t)(CLUSTER * PAGE - 1);
	const uint64_t *pte = pt_walk(&hm->pt, va, 0);

	*lo = va;
	*hi = va + PAGE;
	while (*lo > first && pte_read(&pte[-(int64_t)((va - *lo) / PAGE) - 1]) == e)
		*lo -= PAGE;
	while (*hi < first + CLUSTER * PAGE && pte_read(&pte[(*hi - va) / PAGE]) == e)
		*hi += PAGE;
}

/* The promises made at commit become frames.  A MEM_RESET mark stays with
 * each page (the data it stood for is still gone), and so does a write
 * record.  Failure injection (frames.fail_countdown) stands for running out
 * of frames, which a promise rules out: it is held off here, so a test's
 * sweep cannot turn a touch of committed memory into a panic. */
static uint32_t demand_zero(struct hm *hm, uint64_t va, uint64_t e, uint32_t error)
{
	uint32_t countdown = hm->frames.fail_countdown;
	uint64_t lo, hi;
	int s;

	cluster(hm, va, e, &lo, &hi);
	frames_unpromise(&hm->frames, (hi - lo) / PAGE);
	hm->frames.fail_countdown = 0;
	s = pt_fault_in(&hm->pt, lo, (hi - lo) / PAGE, e, (va - lo) / PAGE, error);
	hm->frames.fail_countdown = countdown;
	if (s != PT_OK)
		hm->plat->panic(hm->plat->ctx, "hm_fault: a promised frame was not there");
	return 0;
}

/* An MMU that does not record accesses and writes itself (AArch64 without
 * FEAT_HAFDBS) faults on the first access (the Access flag) and the first
 * write (a writable-clean page is read-only to it): the entry takes what
 * the access means (pte_arch.h), touched, which only adds rights, so no
 * other CPU's translation needs dropping (pte_needs_flush says none). */
static void record(struct hm *hm, uint64_t va, uint64_t e, uint64_t touched)
{
	struct tlb_gather g;

	tlb_gather_init(&g, &hm->frames);
	pt_replace(&hm->pt, va, e, touched, &g);
	tlb_finish(&g);
}

uint32_t hm_fault_locked(struct hm *hm, uint64_t addr, uint32_t error)
{
	uint64_t va = page_down(addr), span, e, touched;

	if (addr < VA_MIN || addr >= VA_LIMIT || (error & HM_PF_BAD))
		return STATUS_ACCESS_VIOLATION;
	e = pte_at(hm, va, &span);
	if (!pte_is_committed(e))
		return STATUS_ACCESS_VIOLATION;
	if (pte_prot(e) & PAGE_GUARD)
		return clear_guard(hm, va, e);
	if (!allowed(pte_prot(e), error))
		return STATUS_ACCESS_VIOLATION;
	if (pte_is_demand_zero(e))
		return demand_zero(hm, va, e, error);
	touched = pte_hw_touch(e, error);
	if (touched != e)
		record(hm, va, e, touched);
	/* This CPU's own translation may be the stale one that faulted. */
	hm->plat->tlb_flush_page(hm->plat->ctx, va);
	return 0;
}
