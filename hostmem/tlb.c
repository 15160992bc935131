/*
 * tlb.c - the TLB gather.
 *
 * Theory: a page-table change is complete only when every CPU-side cache of
 * the old entry is gone.  Freeing a frame first would let a stale TLB entry
 * read or write memory that already belongs to someone else; freeing a page
 * table first would let the paging-structure caches walk a page that is being
 * reused.  So operations never free directly: they gather, and tlb_finish
 * flushes first and frees second.
 *
 * Invariant: between tlb_gather_init and tlb_finish every gathered block is
 * allocated, FRAME_LISTED, and reachable from no page table.
 *
 * Costs: one shootdown per gather (on many CPUs, one round of IPIs and
 * acknowledgements): invlpg per page up to TLB_GATHER_MAX (32), since a
 * full flush costs the refill of the whole TLB; above that a full flush.  Gathering is
 * O(1) per address and per block; nothing is allocated.
 */
#include "tlb.h"
#include "pte.h"

void tlb_gather_init(struct tlb_gather *g, struct frames *fr)
{
	g->fr = fr;
	g->nva = 0;
	g->flush_all = false;
	g->table_freed = false;
	g->table_va = 0;
	frame_list_init(&g->frames);
}

void tlb_gather_page(struct tlb_gather *g, uint64_t va)
{
	if (g->flush_all)
		return;
	if (g->nva == TLB_GATHER_MAX) {
		g->flush_all = true;
		return;
	}
	g->va[g->nva++] = va;
}

void tlb_gather_frame(struct tlb_gather *g, uint64_t pa)
{
	frame_list_push(g->fr, &g->frames, pa);
}

void tlb_gather_uncached(struct tlb_gather *g, uint64_t pa)
{
	frame_list_push(g->fr, &g->frames, pa);
	frame_of(g->fr, pa)->flags |= FRAME_UNCACHED;
}

void tlb_gather_table(struct tlb_gather *g, uint64_t pa, uint64_t va)
{
	frame_list_push(g->fr, &g->frames, pa);
	if (PTE_WALKS_FLUSHED_BY_VA) {
		tlb_gather_page(g, va);
		return;
	}
	g->table_freed = true;
	g->table_va = va;
}

/* One shootdown for the whole gather: every CPU, one round. */
static void gather_flush(struct tlb_gather *g)
{
	const struct hm_platform *plat = g->fr->plat;

	if (g->table_freed && !g->flush_all && g->nva == 0)
		g->va[g->nva++] = g->table_va;
	if (g->flush_all)
		plat->tlb_shootdown(plat->ctx, 0, 0);
	else if (g->nva)
		plat->tlb_shootdown(plat->ctx, g->va, g->nva);
	g->nva = 0;
	g->flush_all = false;
	g->table_freed = false;
}

void tlb_finish(struct tlb_gather *g)
{
	uint64_t pa;

	if (g->nva == 0 && !g->flush_all && !g->table_freed && g->frames.n == 0)
		return;   /* nothing was present, nothing to free: most commits */
	gather_flush(g);
	while ((pa = frame_list_pop(g->fr, &g->frames)) != 0) {
		struct frame *f = frame_of(g->fr, pa);

		/* No translation of another memory type is left: now its lines
		 * can go, and write-back use may start again. */
		if (f->flags & FRAME_UNCACHED) {
			f->flags &= (uint8_t)~FRAME_UNCACHED;
			g->fr->plat->cache_flush(g->fr->plat->ctx, pa, FRAME_SIZE << f->order);
		}
		/* Only blocks this module's callers took from page tables are
		 * here, so a refusal is a broken invariant, not bad input. */
		if (frame_free(g->fr, pa, f->order) != FRAME_OK)
			g->fr->plat->panic(g->fr->plat->ctx, "tlb_finish: gathered block refused");
	}
}
