/*
 * pte_arch.h (AArch64) - the MMU behind hostmem's page tables: the entry format,
 * where hostmem keeps its own bits in it, and what a fault tells.  pte.h
 * holds what is the same on every architecture; this file answers its
 * questions for VMSAv8-64 stage 1 with a 4 KiB granule and 48-bit
 * addresses: four levels of 512 entries, like x86-64, so the geometry is
 * shared and only the entries differ (ARM ARM, D8.3).
 *
 *  63 62..58 57 56 55  54  53  52  51  50..48 47 ............ 12 11 10 9..8 7..6  5  4..2  1 0
 * +--+------+--+--+--+---+---+----+---+------+------------------+--+--+----+----+--+----+--+-+
 * |  | prot |X |W |C |UXN|PXN|Cont|DBM|      | frame (pa >> 12) |nG|AF| SH | AP |NS|Attr|T |V|
 * +--+------+--+--+--+---+---+----+---+------+------------------+--+--+----+----+--+----+--+-+
 *
 * Software bits: C PTE_COMMITTED (55), W PTE_WRITTEN (56), X PTE_DISCARDED
 * (57), and the protection field (pte.h) at 58..62.  55..58 are the
 * software bits of a page descriptor; 59..62 are ignored too as long as the
 * kernel keeps TCR_EL1.HWU059..HWU062 clear (FEAT_HPDS2 would otherwise
 * give them to the hardware).  An invalid descriptor (V=0) is ignored but
 * for V, so the not-present states need nothing more.
 *
 * Hardware bits per protection.  Every managed page is an EL1 page (the
 * kernel and the code it runs are the only users, as the x86 kernel's are
 * supervisor accesses to U=1 pages): AP[1] = 0, UXN = 1, inner shareable.
 *   NOACCESS, any GUARD    invalid (PTE_PARKED or PTE_DEMAND_ZERO)
 *   READONLY               V|T|AP[2]|PXN
 *   READWRITE              V|T|AP[2]|DBM|PXN   (writable-clean: see below)
 *   EXECUTE, EXECUTE_READ  V|T|AP[2]           (EL1 can always read what it
 *                                              may fetch, as on x86)
 *   EXECUTE_READWRITE      V|T|AP[2]|DBM
 *   memory type, AttrIndx  0 write-back (normal, MAIR 0xFF)
 *                          1 PAGE_NOCACHE and PAGE_WRITECOMBINE: normal
 *                            non-cacheable (0x44)
 *   MAIR_EL1 holds a third attribute, 2 device-nGnRnE (0x00), for the
 *   kernel's own device registers, never for managed pages.  Why NOCACHE is
 *   not device memory, though x86 UC is strongly ordered: these pages are
 *   RAM a program computes in, and on device memory an instruction fetch
 *   faults (PAGE_EXECUTE_READ | PAGE_NOCACHE must run), as do unaligned
 *   and exclusive accesses; the fetch fault would even loop, the page being
 *   present and executable by its protection.  Normal non-cacheable is the
 *   architecture's uncached RAM: no line of it is ever cached, which is
 *   what the contract's NOCACHE promises; its writes may gather, as WC's
 *   do, and a program that needs them ordered uses barriers, as every
 *   program on ARM must.  The two stay apart in the protection field.
 *
 * Accessed and dirty.  With FEAT_HAFDBS (TCR_EL1.HA = HD = 1) the MMU sets
 * AF on the first access and, for a write to a writable-clean page
 * (DBM = 1, AP[2] = 1), clears AP[2]: the page is dirty when DBM is set and
 * AP[2] clear (pte_hw_dirty), so the entry is born read-only and the first
 * write makes it writable, atomically, in the entry.  Without it (a
 * Cortex-A72), the MMU leaves both bits alone: AF = 0 raises an Access flag
 * fault and a write to AP[2] = 1 a permission fault, and hostmem's fault
 * path does what the MMU would have (pte_hw_touch) and retries.  DBM is
 * ignored by such an MMU, so the encoding is the same on both.
 *
 * Table descriptors are V|T with the table's address (no APTable, XNTable:
 * the leaf decides access).  A 2 MiB page is a level-2 block: T = 0 and the
 * leaf bits above.  Level 0 has no blocks.
 *
 * Invalidation.  A TLB may hold any valid descriptor until a TLBI; every
 * change of a valid leaf that takes rights away or changes what it maps is
 * flushed (pte_needs_flush), and a table before it is freed (a TLBI of
 * every level, VAAE1IS, which reaches the walk caches).  A change that
 * only adds (AF set, a write recorded) is not: a CPU holding the old entry
 * faults, finds the access allowed and already recorded, and drops its own
 * stale entry (fault.c).
 *
 * The fault syndrome is ESR_EL1 of an instruction abort (EC 0x20, 0x21) or
 * a data abort (EC 0x24, 0x25): the fault status code says translation
 * (not present), Access flag or permission (present), WnR a write.  Any
 * other status (alignment, address size, an external abort) or class is
 * HM_PF_BAD: no page state explains it.
 */
#ifndef HOSTMEM_PTE_ARCH_H
#define HOSTMEM_PTE_ARCH_H

#include <stdint.h>
#include <stdbool.h>

#include "hostmem/hostmem.h"

#define PTE_ARCH_NAME  "AArch64"

#define PTE_P          (1ull << 0)   /* valid */
#define PTE_T          (1ull << 1)   /* table (levels 0-2) or page (level 3); 0: block */
#define PTE_ATTR_NC    (1ull << 2)   /* AttrIndx 1: normal non-cacheable */
#define PTE_ATTR_MASK  (7ull << 2)
#define PTE_AP_RO      (1ull << 7)   /* AP[2]: read-only */
#define PTE_SH_INNER   (3ull << 8)
#define PTE_A          (1ull << 10)  /* AF */
#define PTE_DBM        (1ull << 51)
#define PTE_PXN        (1ull << 53)
#define PTE_UXN        (1ull << 54)
#define PTE_COMMITTED  (1ull << 55)
#define PTE_WRITTEN    (1ull << 56)  /* written since the last write-watch reset */
#define PTE_DISCARDED  (1ull << 57)  /* demand-zero because MEM_RESET dropped the data */

#define PTE_FRAME_MASK  0x0000FFFFFFFFF000ull  /* bits 12..47 */
#define PTE_PROT_SHIFT  58

/* The bits a protection decides in a present leaf (AP[2] as it is while
 * clean), and those the MMU may set in one (AF) or in a table entry. */
#define PTE_HW_MASK     (PTE_P | PTE_T | PTE_ATTR_MASK | PTE_AP_RO | PTE_SH_INNER | \
                         PTE_DBM | PTE_PXN | PTE_UXN)
#define PTE_HW_STATE    PTE_A
#define PTE_TABLE_STATE 0ull

static inline uint64_t pte_hw_bits(uint32_t prot)
{
	uint64_t b = PTE_P | PTE_T | PTE_AP_RO | PTE_SH_INNER | PTE_UXN;

	if ((prot & PAGE_GUARD) || (prot & 0xFFu) == PAGE_NOACCESS)
		return 0;
	if (prot & (PAGE_READONLY | PAGE_READWRITE))
		b |= PTE_PXN;
	if (prot & (PAGE_READWRITE | PAGE_EXECUTE_READWRITE))
		b |= PTE_DBM;
	if (prot & (PAGE_NOCACHE | PAGE_WRITECOMBINE))
		b |= PTE_ATTR_NC;
	return b;
}

static inline bool pte_hw_dirty(uint64_t e)
{
	return (e & (PTE_P | PTE_DBM | PTE_AP_RO)) == (PTE_P | PTE_DBM);
}

/* Writable-clean again: the next write is recorded anew. */
static inline uint64_t pte_hw_clean(uint64_t e)
{
	return (e & (PTE_P | PTE_DBM)) == (PTE_P | PTE_DBM) ? e | PTE_AP_RO : e;
}

/* What an allowed access (HM_PF_*) makes of a present entry: accessed, and
 * for a write to a writable page, dirty.  What the MMU does itself with
 * FEAT_HAFDBS, and the fault path without it. */
static inline uint64_t pte_hw_touch(uint64_t e, uint32_t access)
{
	e |= PTE_A;
	if ((access & HM_PF_W) && (e & PTE_DBM))
		e &= ~PTE_AP_RO;
	return e;
}

/* Does replacing old by new need the old translation dropped?  Not if old
 * was invalid, nor if new only adds to it: AF set, or a write recorded in a
 * writable page (see Invalidation above). */
static inline bool pte_needs_flush(uint64_t old, uint64_t new)
{
	uint64_t changed = (old ^ new) & ~(PTE_WRITTEN | PTE_DISCARDED);
	uint64_t added = new & PTE_A & ~old;

	if ((old & new & PTE_DBM) && (old & ~new & PTE_AP_RO))
		added |= PTE_AP_RO;
	return (old & PTE_P) && (changed & ~added);
}

/* A freed table's cached walks go only with a TLBI of an address it
 * mapped (of every level: VAAE1IS; VALE1IS would keep them). */
#define PTE_WALKS_FLUSHED_BY_VA  true

static inline uint64_t pte_make_table(uint64_t pa)
{
	return (pa & PTE_FRAME_MASK) | PTE_P | PTE_T;
}

/* Above the leaf level: a table (not a block, not invalid). */
static inline bool pte_is_table(uint64_t e)
{
	return (e & (PTE_P | PTE_T)) == (PTE_P | PTE_T);
}

/* A present leaf made a 2 MiB block (level 2). */
static inline uint64_t pte_leaf_to_large(uint64_t e)
{
	return e & ~PTE_T;
}

static inline bool pte_is_large(uint64_t e)
{
	return (e & (PTE_P | PTE_T)) == PTE_P;
}

/* ESR_EL1 of an abort, in HM_PF_* bits. */
#define ESR_EC(esr)     ((esr) >> 26)
#define ESR_FSC(esr)    ((esr) & 0x3Fu)
#define ESR_WNR         (1u << 6)
#define ESR_EC_IABT_LOW 0x20u
#define ESR_EC_IABT     0x21u
#define ESR_EC_DABT_LOW 0x24u
#define ESR_EC_DABT     0x25u

static inline uint32_t pte_fault_access(uint32_t esr)
{
	uint32_t ec = ESR_EC(esr), fsc = ESR_FSC(esr), access = 0;

	if (ec == ESR_EC_IABT_LOW || ec == ESR_EC_IABT)
		access |= HM_PF_I;
	else if (ec != ESR_EC_DABT_LOW && ec != ESR_EC_DABT)
		return HM_PF_BAD;
	else if (esr & ESR_WNR)
		access |= HM_PF_W;
	if (fsc >= 0x08u && fsc <= 0x0Fu)   /* Access flag (0b0010LL), permission (0b0011LL) */
		access |= HM_PF_P;
	else if (fsc < 0x04u || fsc > 0x07u)   /* not a translation fault (0b0001LL) either */
		access |= HM_PF_BAD;
	return access;
}

#endif
