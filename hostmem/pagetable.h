/*
 * Page tables: the lower half (PML4 entries 0..255) of one x86-64 4-level
 * address space.  The theory statement is at the top of pagetable.c.
 *
 * Every range operation takes a page-aligned va and a page count, must stay
 * below PT_LOWER_LIMIT, and takes a TLB gather: the operation only gathers
 * invalidations and frees; the CALLER calls tlb_finish(g) afterwards,
 * whatever the result (several operations may share one gather).  A failing
 * operation changes no PTE and, once the gather is finished, leaves exactly
 * the frames and tables that were there before.
 */
#ifndef HOSTMEM_PAGETABLE_H
#define HOSTMEM_PAGETABLE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "platform.h"
#include "frame.h"
#include "pte.h"
#include "tlb.h"

#define PT_LOWER_LIMIT  (1ull << 47)   /* hostmem owns [0, 2^47) only */
#define PT_LARGE_SHIFT  21
#define PT_LARGE_SIZE   (1ull << PT_LARGE_SHIFT)   /* a PS page at PD level */
#define PT_LARGE_ORDER  9

enum pt_status {
	PT_OK = 0,
	PT_NO_MEMORY,      /* a frame or table could not be allocated */
	PT_BAD_RANGE,      /* unaligned, empty, or not inside the lower half */
	PT_BUSY,           /* map: a page in the range already holds a frame */
	PT_NOT_COMMITTED,  /* protect: a page in the range is not committed */
	PT_LARGE,          /* would split a 2 MiB page (not supported) */
	PT_BAD_VALUE,      /* invalid protection, or a PTE value with a frame */
	PT_ROOT_IN_USE,    /* adopt: the root's lower half is not empty */
};

struct pagetable {
	uint64_t root;                  /* pa of the PML4 (what CR3 holds) */
	struct frames *fr;
	const struct hm_platform *plat;
	bool owns_root;                 /* allocated by pt_init */
	size_t ntables;                 /* table pages below the root */
	size_t kept;                    /* of those, empty PTs a decommit kept */
	/* The PT descend found last and the 2 MiB region (va >> 21) it maps:
	 * an operation walks to the same PT several times.  0 when none; any
	 * table unhooked clears it, so it always names a linked PT. */
	uint64_t hint_pt, hint_region;
};

/* A fresh root (adopt_root == 0) or the live PML4 at adopt_root, whose lower
 * half must be empty; its upper half is never read or written. */
int pt_init(struct pagetable *pt, struct frames *fr, const struct hm_platform *plat,
            uint64_t adopt_root);
/* Frees an owned root.  PT_BUSY unless every table is gone. */
int pt_destroy(struct pagetable *pt);

/* Table pages below the root, and how many of them are kept empty PTs. */
static inline size_t pt_tables(const struct pagetable *pt)
{
	return pt->ntables;
}

static inline size_t pt_kept(const struct pagetable *pt)
{
	return pt->kept;
}

/* Reads an entry: atomically, since another CPU's walk may set A or D in
 * it at any moment. */
static inline uint64_t pte_read(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_RELAXED);
}

/* The leaf entry mapping va: the PTE (*level = 1) or a PS entry in the PD
 * (*level = 2); NULL (and the level where the walk stopped) if a table on the
 * way is missing.  Read through it with pte_read; writes through it bypass
 * the table counts. */
uint64_t *pt_walk(struct pagetable *pt, uint64_t va, int *level);
/* pt_walk after creating missing tables down to the PT.  Fails with
 * PT_NO_MEMORY (tables created here pruned into g) or PT_LARGE. */
int pt_walk_alloc(struct pagetable *pt, uint64_t va, uint64_t **pte, struct tlb_gather *g);
/* Pages of [va, va + npages) that are committed (a 2 MiB page counts its
 * pages inside the range), and those of them that are demand-zero.  One
 * visit per PTE, missing tables skipped whole. */
void pt_count(struct pagetable *pt, uint64_t va, size_t npages, size_t *committed,
              size_t *demand_zero);
/* The value of the leaf entry for va (0 if no table), level as pt_walk. */
uint64_t pt_lookup(struct pagetable *pt, uint64_t va, int *level);


/* Maps every page to a fresh zeroed frame with protection prot (present, or
 * parked if prot is NOACCESS/GUARD).  Pages must be PTE_NONE or
 * PTE_DEMAND_ZERO (else PT_BUSY).  All frames and tables are allocated before
 * the first PTE is written.  Promises are the caller's: the demand-zero
 * fault unpromises one frame, then maps. */
int pt_map(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
           struct tlb_gather *g);
/* The demand-zero fault's map: the n pages from va lie in one page table
 * and each holds the demand-zero value e (the caller checked, lock held).
 * Each gets a zeroed frame and keeps e's protection and marks.  No count
 * changes (non-zero before and after), nothing needs a flush (not present
 * before).  The frames are promised ones (the caller unpromised n), so an
 * allocation fails only by injection: PT_NO_MEMORY, the pages mapped so far
 * left mapped, for a caller that panics.  Page hot is the one the faulting
 * access (HM_PF_* bits) retries: it is mapped with what that access records
 * (pte_hw_touch), so an MMU that leaves that to software does not fault a
 * second time. */
int pt_fault_in(struct pagetable *pt, uint64_t va, size_t n, uint64_t e, size_t hot,
                uint32_t access);
/* One zeroed 2 MiB frame as a PS entry; va 2 MiB-aligned, the 512 pages
 * PTE_NONE, prot one that is present. */
int pt_map_large(struct pagetable *pt, uint64_t va, uint32_t prot, struct tlb_gather *g);
/* A commit's page state, in one walk that counts: every page of the range
 * not committed becomes demand-zero with prot (a trace keeps its mark),
 * every committed one keeps its page and takes prot; *fresh = the pages that
 * were not committed.  Builds missing tables first: PT_NO_MEMORY (or
 * PT_LARGE, a 2 MiB page in the range) with nothing written and the tables
 * it made pruned into g. */
int pt_commit(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
              struct tlb_gather *g, size_t *fresh);
/* Writes value into every PTE of the range (0 clears).  value must be
 * non-present and frameless; old frames are gathered.  Allocates only
 * missing tables.  A range crossing a 2 MiB page is PT_LARGE. */
int pt_write(struct pagetable *pt, uint64_t va, size_t npages, uint64_t value,
             struct tlb_gather *g);
/* Clears every entry; frames (and 2 MiB pages wholly inside the range) and
 * tables left empty are gathered.  *cleared (may be NULL) = pages whose entry
 * was non-zero.  A 2 MiB page only partly inside is PT_LARGE. */
int pt_unmap(struct pagetable *pt, uint64_t va, size_t npages, struct tlb_gather *g,
             size_t *cleared);
/* What a decommit found committed in its range (a 2 MiB page counts its
 * 4 KiB pages inside the range), and of those the demand-zero ones. */
struct pt_was {
	size_t committed, demand_zero;
};
#define PT_TRACED   0x1u   /* a write-watch reservation's: dirty leaves leave a trace */
#define PT_RELEASE  0x2u   /* a release's: PTs left empty go, as in pt_unmap */
/* pt_unmap for a decommit, in the same walk counting what it clears into
 * *was: PTs left empty stay, kept for the next commit (pagetable.c, theory
 * 9), unless PT_RELEASE.  PT_TRACED: a leaf that was dirty (D or
 * PTE_WRITTEN) becomes a trace (PTE_WRITTEN alone), so the write stays
 * reported; a trace stays. */
int pt_decommit(struct pagetable *pt, uint64_t va, size_t npages, struct tlb_gather *g,
                unsigned how, struct pt_was *was);
/* Frees every kept PT (and the tables above that this empties) into g. */
void pt_reclaim(struct pagetable *pt, struct tlb_gather *g);
/* Rewrites the existing leaf at va (a PTE, or a 2 MiB PS entry), which the
 * caller read as decided, as value, with the same frame (it is neither
 * gathered nor freed): for marks and protections decided by the caller.  A
 * write another CPU recorded after the caller's read is kept (W).  A present
 * old entry's translation is gathered unless only software marks changed
 * (pte_needs_flush); a table left empty is pruned.
 * PT_BAD_RANGE if there is no such leaf (or value 0 for a PS entry). */
int pt_replace(struct pagetable *pt, uint64_t va, uint64_t decided, uint64_t value,
               struct tlb_gather *g);
/* New protection for every page, frames and contents kept; *first (may be
 * NULL) = the first page's protection before.  Every page must be committed
 * (PT_NOT_COMMITTED, nothing changed); never allocates. */
int pt_protect(struct pagetable *pt, uint64_t va, size_t npages, uint32_t prot,
               struct tlb_gather *g, uint32_t *first);

#endif
