/*
 * A software x86-64 MMU: 4-level paging as the CPU does it, for the hosted
 * twin and the host tests.  The theory statement is at the top of mmu.c.
 *
 * Modelled CPU state: CR0.WP=1, EFER.NXE=1, CR4.SMEP=SMAP=0, no PKE, no
 * PCID.  Lower-half addresses are user-mode accesses, upper-half ones are
 * supervisor accesses.  Freestanding, like all of hostmem.
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

/* #PF error code bits, as the CPU pushes them. */
#define PF_P     0x01u  /* 1: protection violation or reserved bit; 0: not present */
#define PF_W     0x02u  /* the access was a write */
#define PF_U     0x04u  /* the access was user-mode */
#define PF_RSVD  0x08u  /* a reserved bit was set in a paging-structure entry */
#define PF_I     0x10u  /* the access was an instruction fetch */
/* Set in every #PF result of mmu_access: the hardware error code alone can
 * be 0 (a supervisor read of a not-present page), which must not read as
 * success.  The code itself is MMU_PF_CODE(result), also in mmu.error. */
#define MMU_PF   0x80000000u
#define MMU_PF_CODE(r)  ((uint32_t)(r) & 0xFFFFu)
/* Not a #PF: a non-canonical address raises #GP. */
#define MMU_GP   0x10000u

enum mmu_kind { MMU_READ, MMU_WRITE, MMU_EXEC };

struct mmu_tlb_entry {
	uint64_t page;      /* va of the page this translates (4 KiB/2 MiB/1 GiB aligned) */
	uint64_t pa;        /* pa of that page */
	uint64_t leaf;      /* pa of the leaf entry, to set D on a later write */
	uint8_t shift;      /* 12, 21 or 30: the page size */
	bool cached;        /* write-back: PCD = PWT = 0 in the leaf */
	bool valid, rw, us, nx, dirty;
};

struct mmu {
	const struct hm_platform *plat;  /* phys_base: where the tables are */
	uint64_t cr3;                    /* pa of the PML4 */
	uint64_t cr2;                    /* address of the last fault */
	uint32_t error;                  /* its #PF error code */
	unsigned maxphyaddr;             /* M: physical address bits, 36..52 */
	bool keep;                       /* entries leave only by invalidation */
	bool last_cached;                /* memory type of the last good access */
	struct mmu_tlb_entry tlb[MMU_TLB_SIZE];
	uint64_t large_slots;            /* slots that may hold a 2 MiB / 1 GiB entry */
	uint64_t hits, misses, walks;
};

void mmu_init(struct mmu *m, const struct hm_platform *plat, uint64_t cr3, unsigned maxphyaddr);

/*
 * One access of the given kind at va.  Returns 0 and the physical address in
 * *pa, or MMU_PF | the #PF error code (cr2 = va, error = the code), or MMU_GP
 * for a non-canonical va.
 * Sets A in every entry used and D in the leaf on a write, like the CPU.
 * Faults are not handled here.
 */
uint32_t mmu_access(struct mmu *m, uint64_t va, enum mmu_kind kind, uint64_t *pa);

/* invlpg: drops every TLB entry whose page contains va. */
void mmu_flush_page(struct mmu *m, uint64_t va);
/* A CR3 reload: drops every entry. */
void mmu_flush_all(struct mmu *m);

/* Copies through the MMU, page by page; returns 0 or the first access's
 * result as mmu_access (bytes before the faulting page are copied). */
uint32_t mmu_read(struct mmu *m, uint64_t va, void *dst, size_t n);
uint32_t mmu_write(struct mmu *m, uint64_t va, const void *src, size_t n);

#endif
