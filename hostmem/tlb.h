/*
 * The TLB gather: one per page-table operation.  It collects what must be
 * invalidated and what may be freed once it is, and tlb_finish() does the two
 * in that order, so no frame or table is reused while a stale translation to
 * it can still exist in some TLB or paging-structure cache.
 *
 *   tlb_gather_page   a translation for va changed or vanished.  Up to
 *                     TLB_GATHER_MAX addresses are invalidated one by one
 *                     (invlpg); past that one full flush is cheaper.
 *   tlb_gather_frame  a block (data frame, 2 MiB frame) to free after the
 *                     flush.  Linked through its frame record (struct
 *                     frame_list), so a gather never runs out.
 *   tlb_gather_table  a page table unhooked from its parent, freed after the
 *                     flush.  The CPU may hold cached walks (x86
 *                     paging-structure caches, ARM walk caches) pointing into
 *                     it even when no leaf under it was present.  On x86 any
 *                     invlpg drops all of those (SDM 4.10.4.1), so the gather
 *                     makes sure at least one invalidation happens, without
 *                     spending a per-page slot on each table; on AArch64 a
 *                     TLBI by address drops only the walks of its address, so
 *                     each table's address is gathered like a page
 *                     (PTE_WALKS_FLUSHED_BY_VA, pte_arch.h).
 *
 * A gather owns nothing else and needs no teardown besides tlb_finish.
 */
#ifndef HOSTMEM_TLB_H
#define HOSTMEM_TLB_H

#include <stdint.h>
#include <stdbool.h>

#include "platform.h"
#include "frame.h"

#define TLB_GATHER_MAX  32

struct tlb_gather {
	struct frames *fr;
	uint64_t va[TLB_GATHER_MAX];
	unsigned nva;
	bool flush_all;
	bool table_freed;           /* a table waits: flush something */
	uint64_t table_va;          /* an address the last such table mapped */
	struct frame_list frames;   /* blocks to free after the flush */
};

void tlb_gather_init(struct tlb_gather *g, struct frames *fr);
/* va's translation must be dropped before the gathered frames are reused. */
void tlb_gather_page(struct tlb_gather *g, uint64_t va);
/* The allocated block headed by pa is freed (with its own order) after the
 * flush.  It must not be freed or gathered otherwise meanwhile. */
void tlb_gather_frame(struct tlb_gather *g, uint64_t pa);
/* The same for a block that was mapped uncached or write-combining: its
 * cache lines are flushed after the TLB flush, before it is freed (pte.h). */
void tlb_gather_uncached(struct tlb_gather *g, uint64_t pa);
/* The table page at pa, just unhooked; va is an address it mapped. */
void tlb_gather_table(struct tlb_gather *g, uint64_t pa, uint64_t va);
/* Flushes (pages or all), then frees the gathered blocks; the gather is
 * empty and reusable afterwards.  Cost: O(addresses + blocks). */
void tlb_finish(struct tlb_gather *g);

#endif
