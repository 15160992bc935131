/*
 * A software MMU: the page-table walk as the CPU does it, a TLB, and copies
 * through them, for the hosted twin and the host tests.  What is the same
 * for every format (the TLB, its flushes, the access loop, the copies) is in
 * mmu.c; the walk, the rights and the fault syndrome are the format's
 * (hostmem/arch/<arch>/walk.c, with its constants in mmu_arch.h).
 * Freestanding, like all of hostmem.
 */
#ifndef HOSTMEM_SIM_MMU_H
#define HOSTMEM_SIM_MMU_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "hostmem/platform.h"

#define MMU_TLB_SIZE  64   /* direct-mapped by virtual page number */

/* mmu.keep: a translation whose slot is taken is used once and not cached,
 * instead of evicting the entry there, so an entry leaves the TLB only
 * through mmu_flush_page / mmu_flush_all / a fault at its address, and a
 * missing invalidation cannot be hidden by an eviction (tests set it). */

enum mmu_kind { MMU_READ, MMU_WRITE, MMU_EXEC };

/* Internal: the TLB entry a hit used went away; walk again. */
#define MMU_MISS     0x20000u

struct mmu_tlb_entry {
	uint64_t page;      /* va of the page this translates (4 KiB/2 MiB/1 GiB aligned) */
	uint64_t pa;        /* pa of that page */
	uint64_t leaf;      /* pa of the leaf entry, to record a later write */
	uint8_t shift;      /* 12, 21 or 30: the page size */
	bool cached;        /* write-back memory */
	bool valid, rw, us, nx, dirty;
};

struct mmu {
	const struct hm_platform *plat;  /* phys_base: where the tables are */
	uint64_t root;                   /* pa of the root table (CR3, TTBR0_EL1) */
	uint64_t fault_va;               /* address of the last fault (CR2, FAR_EL1) */
	uint32_t syndrome;               /* what it said (#PF error code, ESR_EL1) */
	unsigned maxphyaddr;             /* physical address bits, 36..52 */
	bool keep;                       /* entries leave only by invalidation */
	bool hafdbs;                     /* AArch64: the MMU records AF and dirty itself */
	bool last_cached;                /* memory type of the last good access */
	struct mmu_tlb_entry tlb[MMU_TLB_SIZE];
	uint64_t large_slots;            /* slots that may hold a 2 MiB / 1 GiB entry */
	uint64_t hits, misses, walks;
};

#include "mmu_arch.h"

void mmu_init(struct mmu *m, const struct hm_platform *plat, uint64_t root, unsigned maxphyaddr);

/*
 * One access of the given kind at va.  Returns 0 and the physical address in
 * *pa, or the format's fault result (mmu_arch.h; never 0; fault_va and
 * syndrome are set), or MMU_GP for an address the format cannot name (x86:
 * non-canonical, which raises #GP instead).  Records the access in the
 * entries like the CPU (accessed, dirty).  Faults are not handled here.
 */
uint32_t mmu_access(struct mmu *m, uint64_t va, enum mmu_kind kind, uint64_t *pa);

/* invlpg, TLBI VAE1: drops every TLB entry whose page contains va. */
void mmu_flush_page(struct mmu *m, uint64_t va);
/* A CR3 reload, TLBI VMALLE1: drops every entry. */
void mmu_flush_all(struct mmu *m);

/* Copies through the MMU, page by page; returns 0 or the first access's
 * result as mmu_access (bytes before the faulting page are copied). */
uint32_t mmu_read(struct mmu *m, uint64_t va, void *dst, size_t n);
uint32_t mmu_write(struct mmu *m, uint64_t va, const void *src, size_t n);

/* ------------------------------------------------------------ for walk.c */

/* The entries a walk used, root first, as it read them. */
struct mmu_path {
	uint64_t ea[4];
	uint64_t e[4];
	int n;
};

/* Acquire load of the entry at pa ea (a table or frame is whole before an
 * entry links it). */
uint64_t mmu_entry_read(const struct mmu *m, uint64_t ea);
/* The entry at ea becomes new if it still holds old (the CPU's locked
 * update); false if it changed meanwhile. */
bool mmu_entry_update(const struct mmu *m, uint64_t ea, uint64_t old, uint64_t new);

/* The format's part.  mmu_walk: translate va for an access of this kind,
 * rights included: 0 with *t and *p filled, or the fault result.
 * mmu_record: what the access writes into the entries the walk used (A, D;
 * AF, DBM); false if one changed since (walk again).  mmu_hit: a TLB hit:
 * 0, the fault result, or MMU_MISS (the entry went: walk). */
uint32_t mmu_walk(struct mmu *m, uint64_t va, enum mmu_kind kind,
                  struct mmu_tlb_entry *t, struct mmu_path *p);
bool mmu_record(struct mmu *m, const struct mmu_path *p, enum mmu_kind kind);
uint32_t mmu_hit(struct mmu *m, struct mmu_tlb_entry *t, uint64_t va, enum mmu_kind kind);
/* The syndrome this format's CPU reports for an access of this kind to a
 * lower-half page whose leaf entry is (not) present: what a test hands
 * hostmem_fault when it plays the CPU. */
uint32_t mmu_syndrome(enum mmu_kind kind, bool present);

#endif
