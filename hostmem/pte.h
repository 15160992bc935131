/*
 * pte.h - what a page-table entry means: hardware bits, software states and
 * the Win32 protection stored in it.  The one place that knows the encoding.
 *
 * Page state lives in the PTE (the NT way).  A leaf entry is in one of four
 * states, each with one accessor:
 *
 *   PTE_NONE         value 0.  No page state: the reservation decides
 *                    (reserved, or free).
 *   PTE_DEMAND_ZERO  committed, not present, frame field 0.  The first touch
 *                    gets a zeroed frame (the commit charge guarantees one).
 *   PTE_PRESENT      committed and mapped: P=1, frame + hardware bits.
 *   PTE_PARKED       committed, not present, frame field != 0: the page keeps
 *                    its frame and contents while unreachable (PAGE_NOACCESS,
 *                    PAGE_GUARD).  Changing the protection brings it back.
 *   PTE_TRACE        value PTE_WRITTEN alone: not committed (reserved), but
 *                    written before a decommit in a MEM_WRITE_WATCH
 *                    reservation, which GetWriteWatch must still report
 *                    until a reset or the release (as Windows does).
 *
 * Anything else is PTE_BAD, a broken invariant.
 *
 * How those states and the bits below sit in an entry is the architecture's
 * (one header per MMU: hostmem/arch/<arch>/pte_arch.h); this file is the
 * same for all.  Every format has room, ignored by the MMU, for:
 *
 *   PTE_COMMITTED  set in every committed leaf, present or not, so
 *        "committed" is one bit test.
 *   PTE_WRITTEN  the page was written since the last write-watch reset.
 *        The MMU's own record (pte_hw_dirty: x86 D, AArch64 DBM with AP[2]
 *        clear) is how a write first shows; every rewrite of the entry by
 *        hostmem (a new protection, MEM_RESET, a fired guard, a decommit in
 *        a write-watch reservation) latches it into W, as NT captures the
 *        dirty bit into its write-watch bitmap, so only a write-watch reset
 *        or the release forgets a write.  A page is dirty when either says so.
 *   PTE_DISCARDED  MEM_RESET threw the contents away, which MEM_RESET_UNDO
 *        must report.  Set in the demand-zero PTE a reset leaves, it stays
 *        whatever happens to the page (a touch, a new protection,
 *        MEM_RESET_UNDO reporting it) until a decommit.
 *   the protection field, 5 bits at PTE_PROT_SHIFT: the exact Win32
 *        protection, so VirtualQuery reads back what VirtualProtect wrote.
 *        base: 1 NOACCESS  2 READONLY  3 READWRITE  4 EXECUTE  5 EXECUTE_READ
 *              6 EXECUTE_READWRITE  (0 = no protection: never committed)
 *        mod:  0 none  1 GUARD  2 NOCACHE  3 WRITECOMBINE
 *
 * A not-present entry (PTE_P clear) is ignored by the MMU but for that bit,
 * so its states need nothing more.  A present leaf carries the hardware
 * bits of its protection (pte_hw_bits) and what the MMU records in it:
 * accessed (PTE_A) and written.
 *
 * Break-before-make.  hostmem never changes where a present entry points,
 * its kind (table, page, 2 MiB page) or its memory type: a page keeps its
 * frame and cache attribute from the fault that maps it to the change that
 * makes it not present, and that change is flushed (pte_needs_flush) before
 * the frame or table is used again.  So no entry ever goes from one valid
 * translation to another, which the ARM architecture requires
 * (break-before-make) and x86 merely recommends; entry_set (pagetable.c)
 * checks the frame and the kind on every store (pte_same_mapping).
 *
 * Memory types.  The direct map (phys_base) reaches every frame write-back;
 * a NOCACHE or WRITECOMBINE page reaches its frame with another type.  The
 * CPU manuals forbid such aliases unless the cache holds nothing of the
 * frame while the other type is in use (Intel SDM vol. 3, 11.12.4; the ARM
 * ARM's rules on mismatched memory attributes): an uncached read would miss
 * a dirty line of the zeroing (stale data, possibly the previous owner's),
 * and a line written back later would overwrite what the page wrote.  So:
 *   - a frame is zeroed through the direct map, then its lines are flushed
 *     (platform cache_flush: clflush, DC CIVAC), and only then mapped
 *     uncached;
 *   - when it leaves the mapping, it is flushed again after the TLB flush
 *     and before it is freed (tlb_gather_uncached), so write-back use starts
 *     from memory, not from a line older than the page's last write.
 * The cache attribute belongs to the allocation, so a page never changes
 * type while it holds a frame.
 */
#ifndef HOSTMEM_PTE_H
#define HOSTMEM_PTE_H

#include <stdint.h>
#include <stdbool.h>

#include "hostmem.h"

/* What a fault tells, whatever the MMU: pte_fault_access gives these bits
 * of the syndrome the embedder passes (pte_arch.h). */
#define HM_PF_P 0x01u   /* the page was present: a protection fault */
#define HM_PF_W 0x02u   /* a write */
#define HM_PF_I 0x10u   /* an instruction fetch */
#define HM_PF_BAD 0x8000u /* a fault no page state explains (a reserved bit,
                           * an alignment fault): never resolved */

#include "pte_arch.h"

#define PTE_PROT_MASK   (0x1Full << PTE_PROT_SHIFT)
#define PTE_BASE_MASK   0x7u                   /* within the field */
#define PTE_MOD_SHIFT   3

#define PTE_ENTRIES  512

enum pte_state {
	PTE_NONE,
	PTE_DEMAND_ZERO,
	PTE_PRESENT,
	PTE_PARKED,
	PTE_TRACE,
	PTE_BAD,
};

/* ------------------------------------------------------------ protection */

static const uint32_t pte_base_prot[] = {
	0, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
	PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
};
static const uint32_t pte_mod_prot[] = {
	0, PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE,
};

/*
 * The protection field (already shifted into place) for a Win32 protection,
 * or 0 if the value is not one the contract accepts: exactly one base of
 * NOACCESS..EXECUTE_READWRITE, at most one of GUARD/NOCACHE/WRITECOMBINE, and
 * no modifier with NOACCESS (the contract names GUARD and WRITECOMBINE;
 * Windows refuses NOCACHE there too).  Every call validates one, so it is
 * computed from the bit numbers, not searched for in the tables above:
 * bases are bits 0-2 and 4-6 (3 and 7 are the WRITECOPY ones), modifiers
 * bits 8-10, in the tables' order.
 */
static inline uint64_t pte_prot_encode(uint32_t prot)
{
	uint32_t base = prot & 0xFFu, mods = prot & (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE);
	unsigned b, mod;

	if ((prot & ~0x7FFu) || (base & (base - 1)) || !(base & 0x77u) || (mods & (mods - 1)))
		return 0;
	if (base == PAGE_NOACCESS && mods)   /* Windows refuses NOACCESS with any modifier */
		return 0;
	b = (unsigned)__builtin_ctz(base);
	b = b < 3 ? b + 1 : b;               /* bit 0,1,2,4,5,6 -> index 1..6 */
	mod = mods ? (unsigned)__builtin_ctz(mods) - 7 : 0;
	return (uint64_t)(b | (mod << PTE_MOD_SHIFT)) << PTE_PROT_SHIFT;
}

static inline bool pte_prot_valid(uint32_t prot)
{
	return pte_prot_encode(prot) != 0;
}

/* The Win32 protection a PTE stores; 0 if it stores none (or garbage). */
static inline uint32_t pte_prot(uint64_t pte)
{
	unsigned field = (unsigned)((pte & PTE_PROT_MASK) >> PTE_PROT_SHIFT);
	unsigned base = field & PTE_BASE_MASK, mod = field >> PTE_MOD_SHIFT;

	if (base == 0 || base > 6)
		return 0;
	return pte_base_prot[base] | pte_mod_prot[mod];
}

/* Reached with a memory type other than write-back (see "Memory types"). */
static inline bool pte_uncached(uint32_t prot)
{
	return (prot & (PAGE_NOCACHE | PAGE_WRITECOMBINE)) != 0;
}

/* The protection a page of an allocation made with alloc gets when prot is
 * asked for (MEM_COMMIT, VirtualProtect): the cache attribute belongs to the
 * allocation, so the request's is ignored and the allocation's kept.  May be
 * invalid (GUARD or NOACCESS with a cache attribute): the caller refuses it. */
static inline uint32_t pte_prot_in(uint32_t prot, uint32_t alloc)
{
	const uint32_t cache = PAGE_NOCACHE | PAGE_WRITECOMBINE;

	return (prot & ~cache) | (alloc & cache);
}

/* ------------------------------------------------------------ states */

static inline uint64_t pte_frame(uint64_t pte)
{
	return pte & PTE_FRAME_MASK;
}

static inline enum pte_state pte_state(uint64_t pte)
{
	if (pte == 0)
		return PTE_NONE;
	if (pte == PTE_WRITTEN)
		return PTE_TRACE;
	if (!(pte & PTE_COMMITTED) || pte_prot(pte) == 0)
		return PTE_BAD;
	if (pte & PTE_P)
		return PTE_PRESENT;
	return pte_frame(pte) ? PTE_PARKED : PTE_DEMAND_ZERO;
}

static inline bool pte_is_none(uint64_t pte)        { return pte_state(pte) == PTE_NONE; }
static inline bool pte_is_demand_zero(uint64_t pte) { return pte_state(pte) == PTE_DEMAND_ZERO; }
static inline bool pte_is_present(uint64_t pte)     { return pte_state(pte) == PTE_PRESENT; }
static inline bool pte_is_parked(uint64_t pte)      { return pte_state(pte) == PTE_PARKED; }

static inline bool pte_is_committed(uint64_t pte)
{
	enum pte_state s = pte_state(pte);

	return s == PTE_DEMAND_ZERO || s == PTE_PRESENT || s == PTE_PARKED;
}

/* ------------------------------------------------------------ constructors
 * prot must be valid (pte_prot_valid); pa page-aligned. */

static inline uint64_t pte_make_demand_zero(uint32_t prot)
{
	return PTE_COMMITTED | pte_prot_encode(prot);
}

/* What a committed page with a frame holds besides the frame's address:
 * worked out once for many frames of one protection. */
static inline uint64_t pte_committed_bits(uint32_t prot)
{
	return PTE_COMMITTED | pte_prot_encode(prot) | pte_hw_bits(prot);
}

/* A committed page holding the frame at pa: present if the protection allows
 * access, parked otherwise.  pa == 0 gives demand-zero. */
static inline uint64_t pte_make_committed(uint64_t pa, uint32_t prot)
{
	return pa ? pte_committed_bits(prot) | pte_frame(pa) : pte_make_demand_zero(prot);
}

/* Written since the last write-watch reset (present or not, or a trace). */
static inline bool pte_is_dirty(uint64_t pte)
{
	return (pte & PTE_WRITTEN) || pte_hw_dirty(pte);
}

/* What a rewrite of the entry carries over whatever its new state: the
 * write record, with the MMU's latched into W, and the MEM_RESET mark. */
static inline uint64_t pte_marks(uint64_t pte)
{
	return (pte & PTE_DISCARDED) | (pte_is_dirty(pte) ? PTE_WRITTEN : 0);
}

/* The same page (frame, contents) under a new protection.  Accessed
 * survives while it stays present, and a write in W. */
static inline uint64_t pte_reprotect(uint64_t pte, uint32_t prot)
{
	uint64_t n = pte_make_committed(pte_frame(pte), prot) | pte_marks(pte);

	if (n & PTE_P)
		n |= pte & PTE_A;
	return n;
}

/* A present 2 MiB page (PD level); pa 2 MiB-aligned, prot must be present. */
static inline uint64_t pte_make_large(uint64_t pa, uint32_t prot)
{
	return pte_leaf_to_large(pte_make_committed(pa, prot));
}

/* The same 2 MiB page under a new protection: it stays present, so what
 * the MMU recorded stays in its bits, a write latched in W. */
static inline uint64_t pte_reprotect_large(uint64_t pte, uint32_t prot)
{
	return pte_make_large(pte_frame(pte), prot) | (pte & PTE_A) |
	       (pte_is_dirty(pte) ? PTE_WRITTEN : 0);
}

/* Does new translate to the same frame, as the same kind of entry, as old?
 * Both present: a present entry may only change its rights and what the
 * MMU recorded ("Break-before-make" above).  The memory type is kept one
 * level up (pte_prot_in: the allocation's), where pagetable.c cannot see. */
static inline bool pte_same_mapping(uint64_t old, uint64_t new)
{
	return pte_frame(old) == pte_frame(new) && pte_is_large(old) == pte_is_large(new) &&
	       pte_is_table(old) == pte_is_table(new);
}

#endif
