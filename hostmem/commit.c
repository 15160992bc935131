/*
 * commit.c - page state changes, and the commit charge that goes with them.
 *
 * Commit writes page state, not frames: a newly committed page becomes a
 * demand-zero PTE carrying its protection, and a frame is promised to it
 * (frames_promise), so the first touch is served by the fault routine and can
 * never fail.  Already committed pages keep their frames and contents and
 * only take the new protection.
 *
 * A commit is all or nothing.  The charge is taken first (the only check that
 * depends on the whole range); then pt_commit builds every page table the
 * range needs, which may run out of frames: if it does, the tables it made
 * are pruned and the charge is returned, with nothing written.  The writes
 * after that allocate nothing and cannot fail, and count what was committed
 * already.  A page that a write-watch decommit left as a trace (pte.h) is
 * committed like any reserved page and keeps its write record.
 *
 * Decommit and reset give frames back through one TLB gather: the flush comes
 * before any frame or table is reused.  Both keep the write record: a reset
 * page stays dirty, and a decommit in a write-watch reservation leaves a
 * trace of each dirty page.  A decommit keeps the page tables it empties
 * (pagetable.c, theory 9): the next commit there finds them.
 *
 * Cost: O(pages in the range) PTE visits, with missing tables skipped whole;
 * one walk each for commit and decommit (two for a commit near the limits).
 */
#include "hm.h"
#include "pte.h"
#include "tlb.h"

static uint64_t level_span(int level)
{
	return 1ull << (12 + 9 * (level - 1));
}

uint64_t pte_at(struct hm *hm, uint64_t va, uint64_t *span)
{
	int level;
	uint64_t e = pt_lookup(&hm->pt, va, &level);

	if (level == 1)
		*span = PAGE;
	else   /* a missing table, or a 2 MiB page: the same to its end */
		*span = level_span(level) - (va & (level_span(level) - 1));
	return e;
}

/* One page is one lookup; a range, one visit per PTE (pt_count). */
void count_pages(struct hm *hm, uint64_t va, uint64_t end, size_t *committed, size_t *promised)
{
	uint64_t span, e;

	if (end - va > PAGE) {
		pt_count(&hm->pt, va, (end - va) / PAGE, committed, promised);
		return;
	}
	e = pte_at(hm, va, &span);
	*committed = pte_is_committed(e);
	*promised = pte_is_demand_zero(e);
}

bool reclaim_tables(struct hm *hm)
{
	struct tlb_gather g;

	if (pt_kept(&hm->pt) == 0)
		return false;
	tlb_gather_init(&g, &hm->frames);
	pt_reclaim(&hm->pt, &g);
	tlb_finish(&g);
	return true;
}

/* pt_commit with want frames promised: on success the promise of the pages
 * that were committed already is returned, on failure all of it. */
static hm_status commit_promised(struct hm *hm, uint64_t va, uint64_t end, DWORD prot,
                                 size_t want)
{
	struct tlb_gather g;
	size_t fresh;
	int err;

	tlb_gather_init(&g, &hm->frames);
	err = pt_commit(&hm->pt, va, (end - va) / PAGE, prot, &g, &fresh);
	tlb_finish(&g);
	frames_unpromise(&hm->frames, err == PT_OK ? want - fresh : want);
	if (err != PT_OK)
		return HM_NO_MEMORY;
	hm->charge += fresh;
	return HM_OK;
}

/* The most page tables a range of n pages can need: a PT per 512 pages, a
 * PD per 512 PTs, a PDPT per 512 PDs, each plus two for the ends. */
static size_t tables_for(size_t n)
{
	return n / 256 + 6;
}

/*
 * Far from the limits (nearly always) the charge is taken for every page of
 * the range, and what pt_commit finds committed already is given back: one
 * walk.  That is done only when the frames left beside the promise are
 * enough for every table the range could need, so it never refuses a commit
 * that the exact charge would let through; otherwise the range is counted
 * first.  Frames that kept page tables hold are anyone's: a refused commit
 * takes them back and tries again (once: a failed commit keeps none).
 */
hm_status commit_range(struct hm *hm, uint64_t va, uint64_t end, DWORD prot)
{
	size_t npages = (end - va) / PAGE, want = npages, committed, promised;
	hm_status s = HM_COMMITMENT_LIMIT;

	if (pressure_allows(hm, npages + tables_for(npages))) {
		frames_promise(&hm->frames, npages);   /* fits: pressure_allows said so */
		s = commit_promised(hm, va, end, prot, npages);
	} else {
		count_pages(hm, va, end, &committed, &promised);
		want = npages - committed;
		/* A recommit takes nothing, so no watermark can refuse it. */
		if ((!want || pressure_allows(hm, want)) && frames_promise(&hm->frames, want))
			s = commit_promised(hm, va, end, prot, want);
	}
	if (s != HM_OK && reclaim_tables(hm))
		return commit_range(hm, va, end, prot);
	return s;
}

void decommit_range(struct hm *hm, uint64_t va, uint64_t end, bool traced, bool release)
{
	struct tlb_gather g;
	struct pt_was was;

	tlb_gather_init(&g, &hm->frames);
	pt_decommit(&hm->pt, va, (end - va) / PAGE, &g,
	            (traced ? PT_TRACED : 0) | (release ? PT_RELEASE : 0), &was);
	tlb_finish(&g);
	frames_unpromise(&hm->frames, was.demand_zero);
	hm->charge -= was.committed;
}

/* Resident pages become demand-zero again: the frame goes back, the page
 * stays committed with its protection, a promise replaces the frame, and the
 * PTE remembers the loss for MEM_RESET_UNDO.  2 MiB pages are left alone:
 * they are never taken apart. */
void reset_range(struct hm *hm, uint64_t va, uint64_t end)
{
	struct tlb_gather g;
	size_t discarded = 0;
	uint64_t span, e;

	tlb_gather_init(&g, &hm->frames);
	for (; va < end; va += span) {
		e = pte_at(hm, va, &span);
		/* Not span != PAGE: in a 2 MiB page's last 4 KiB the span is one page. */
		if (pte_is_large(e) || (!pte_is_present(e) && !pte_is_parked(e)))
			continue;
		pt_write(&hm->pt, va, 1, pte_make_demand_zero(pte_prot(e)) | pte_marks(e) | PTE_DISCARDED,
		         &g);
		discarded++;
	}
	tlb_finish(&g);
	/* The frames are free again, so the promise always fits. */
	frames_promise(&hm->frames, discarded);
}

/* MEM_RESET_UNDO: true when no page of the range lost its contents to
 * MEM_RESET.  It changes nothing either way, as every failing call: a mark
 * stays until its page is decommitted, so the answer is the same each time
 * it is asked. */
bool undo_reset(struct hm *hm, uint64_t va, uint64_t end)
{
	uint64_t span, e;

	for (; va < end; va += span) {
		e = pte_at(hm, va, &span);
		/* Marks live in 4 KiB PTEs only; a missing table or a 2 MiB page
		 * holds none, whatever its span. */
		if (pte_is_committed(e) && !pte_is_large(e) && (e & PTE_DISCARDED))
			return false;
	}
	return true;
}

/* Large pages: every 2 MiB of [va, end) gets its frame now (so no promise),
 * or none does. */
static hm_status commit_large_once(struct hm *hm, uint64_t va, uint64_t end, DWORD prot)
{
	size_t npages = (end - va) / PAGE;
	struct tlb_gather g;
	uint64_t p;

	if (!pressure_allows(hm, npages))
		return HM_COMMITMENT_LIMIT;
	tlb_gather_init(&g, &hm->frames);
	for (p = va; p < end; p += HM_LARGE_PAGE)
		if (pt_map_large(&hm->pt, p, prot, &g) != PT_OK)
			break;
	if (p < end && p > va)
		pt_unmap(&hm->pt, va, (p - va) / PAGE, &g, 0);
	tlb_finish(&g);
	if (p < end)
		return HM_NO_MEMORY;
	hm->charge += npages;
	return HM_OK;
}

hm_status commit_large(struct hm *hm, uint64_t va, uint64_t end, DWORD prot)
{
	hm_status s = commit_large_once(hm, va, end, prot);

	if (s != HM_OK && reclaim_tables(hm))
		s = commit_large_once(hm, va, end, prot);
	return s;
}
