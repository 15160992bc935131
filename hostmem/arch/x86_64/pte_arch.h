/*
 * pte_arch.h (x86-64) - the MMU behind hostmem's page tables: the entry format,
 * where hostmem keeps its own bits in it, and what a fault tells.  pte.h
 * holds what is the same on every architecture; this file answers its
 * questions for 4-level x86-64 paging (Intel SDM vol. 3, chapter 4).
 *
 *  63  62..59  58..57 56..55  54..52  51 ............ 12 11 10 9  8 7  6 5 4   3   2  1  0
 * +--+-------+------+------+-------+-------------------+-----+--+-+--+-+-+---+---+--+--+--+
 * |NX| (PKE) |spare | mod  | base  |  frame (pa >> 12)  | X W |C |G|PS|D|A|PCD|PWT|US|RW|P |
 * +--+-------+------+------+-------+-------------------+-----+--+-+--+-+-+---+---+--+--+--+
 *
 * Software bits (ignored by the CPU): C PTE_COMMITTED (9), W PTE_WRITTEN
 * (10), X PTE_DISCARDED (11), and the 5-bit protection field at 52..56
 * (base, mod: pte.h), which the CPU ignores in a present entry and with the
 * rest of a non-present one.
 *
 * Hardware bits per protection (every leaf is in the lower half: U/S=1):
 *   NOACCESS, any GUARD    not present (PTE_PARKED or PTE_DEMAND_ZERO)
 *   READONLY               P|US|NX
 *   READWRITE              P|US|RW|NX
 *   EXECUTE, EXECUTE_READ  P|US          (x86 cannot fetch without reading)
 *   EXECUTE_READWRITE      P|US|RW
 *   + NOCACHE              PCD|PWT       PAT index 3: UC with the reset PAT
 *   + WRITECOMBINE         PWT           PAT index 1: the kernel must program
 *                                        PAT entry 1 as WC (IA32_PAT bits
 *                                        15:8 = 0x01); the reset value is WT.
 *
 * Accessed and dirty.  The CPU sets A on every walk and D on the first
 * write, atomically, in the entry itself: nothing here takes a fault for
 * them, and a write shows as D (pte_hw_dirty).
 *
 * Table (non-leaf) entries of the lower half are P|RW|US: the leaf decides
 * access.  A 2 MiB page is a PD entry with PS=1 and the leaf bits above (its
 * PAT bit would be bit 12, which hostmem never sets, so pte_frame works for
 * it too).  A PML4 entry never has PS (reserved).
 *
 * Invalidation.  The TLB may hold any present entry, and a paging-structure
 * cache any table entry, until invlpg or a CR3 load: every change of a
 * present entry but a software mark is flushed (pte_needs_flush), and a
 * table is flushed by address before it is freed.
 *
 * The fault syndrome is the #PF error code: P (bit 0) a present page, W
 * (bit 1) a write, I (bit 4) a fetch, which are hostmem's HM_PF_* bits;
 * RSVD (bit 3) is HM_PF_BAD.
 */
#ifndef HOSTMEM_PTE_ARCH_H
#define HOSTMEM_PTE_ARCH_H

#include <stdint.h>
#include <stdbool.h>

#include "hostmem/hostmem.h"

#define PTE_ARCH_NAME  "x86-64"

#define PTE_P          (1ull << 0)
#define PTE_RW         (1ull << 1)
#define PTE_US         (1ull << 2)
#define PTE_PWT        (1ull << 3)
#define PTE_PCD        (1ull << 4)
#define PTE_A          (1ull << 5)
#define PTE_D          (1ull << 6)
#define PTE_PS         (1ull << 7)
#define PTE_G          (1ull << 8)
#define PTE_COMMITTED  (1ull << 9)
#define PTE_WRITTEN    (1ull << 10)  /* written since the last write-watch reset */
#define PTE_DISCARDED  (1ull << 11)  /* demand-zero because MEM_RESET dropped the data */
#define PTE_NX         (1ull << 63)

#define PTE_FRAME_MASK  0x000FFFFFFFFFF000ull  /* bits 12..51 */
#define PTE_PROT_SHIFT  52

/* The bits a protection decides in a present leaf, and those the CPU may
 * set in one (A, D) or in a table entry (A). */
#define PTE_HW_MASK     (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_NX)
#define PTE_HW_STATE    (PTE_A | PTE_D)
#define PTE_TABLE_STATE PTE_A

/* Hardware bits of a present leaf with this protection, or 0 when the
 * protection keeps the page not present (NOACCESS, GUARD). */
static inline uint64_t pte_hw_bits(uint32_t prot)
{
	uint64_t b = PTE_P | PTE_US;

	if ((prot & PAGE_GUARD) || (prot & 0xFFu) == PAGE_NOACCESS)
		return 0;
	if (prot & (PAGE_READONLY | PAGE_READWRITE))
		b |= PTE_NX;
	if (prot & (PAGE_READWRITE | PAGE_EXECUTE_READWRITE))
		b |= PTE_RW;
	if (prot & PAGE_NOCACHE)
		b |= PTE_PCD | PTE_PWT;
	if (prot & PAGE_WRITECOMBINE)
		b |= PTE_PWT;
	return b;
}

/* Did the CPU record a write in this entry? */
static inline bool pte_hw_dirty(uint64_t e)
{
	return (e & PTE_D) != 0;
}

/* The entry with the CPU's record of a write taken out. */
static inline uint64_t pte_hw_clean(uint64_t e)
{
	return e & ~PTE_D;
}

/* What an access allowed by the protection makes of a present entry when
 * the CPU does not record it itself.  The x86 CPU always does. */
static inline uint64_t pte_hw_touch(uint64_t e, uint32_t access)
{
	(void)access;
	return e;
}

/* Does replacing old by new need the old translation dropped?  Only if old
 * was present and something besides the software marks changed (the CPU
 * ignores W and DISCARDED; a cleared D must be flushed, or a CPU holding
 * the entry marked dirty would not set D again). */
static inline bool pte_needs_flush(uint64_t old, uint64_t new)
{
	return (old & PTE_P) && ((old ^ new) & ~(PTE_WRITTEN | PTE_DISCARDED));
}

/* An entry pointing at a lower-level page table. */
/* A freed table's cached walks go with any invlpg (all paging-structure
 * caches), not only one of an address it mapped. */
#define PTE_WALKS_FLUSHED_BY_VA  false

static inline uint64_t pte_make_table(uint64_t pa)
{
	return (pa & PTE_FRAME_MASK) | PTE_P | PTE_RW | PTE_US;
}

/* Above the leaf level: a table (not a 2 MiB page, not empty). */
static inline bool pte_is_table(uint64_t e)
{
	return (e & PTE_P) && !(e & PTE_PS);
}

/* A leaf entry made a 2 MiB page (PD level). */
static inline uint64_t pte_leaf_to_large(uint64_t e)
{
	return e | PTE_PS;
}

static inline bool pte_is_large(uint64_t e)
{
	return (e & PTE_P) && (e & PTE_PS);
}

/* The HM_PF_* bits (pte.h) of a fault syndrome: the #PF error code has
 * them in place; RSVD (bit 3), a reserved bit in an entry, no page state
 * explains. */
static inline uint32_t pte_fault_access(uint32_t syndrome)
{
	return (syndrome & (HM_PF_P | HM_PF_W | HM_PF_I)) | (syndrome & 0x08u ? HM_PF_BAD : 0);
}

#endif
