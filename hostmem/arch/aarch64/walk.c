/*
 * walk.c (AArch64) - the software MMU's walk of VMSAv8-64 stage 1
 * translation, 4 KiB granule, 48-bit input addresses (hostmem/sim/mmu.c has
 * the TLB and the shared theory; mmu_arch.h the modelled system registers
 * and the ESR values).
 *
 * Theory
 * ------
 * 1. Translation (ARM ARM, VMSAv8-64 translation).  Levels are numbered as
 *    the architecture does, 0 (the root, TTBR0_EL1 = m->root, bits 47:39 of
 *    the address) to 3 (bits 20:12), and a fault reports that number in its
 *    status code.  An address with any of bits 63:48 set is outside TTBR0's
 *    range and TTBR1 walks are disabled: a level-0 translation fault, never
 *    a separate exception.  A descriptor's bits 1:0:
 *      x0   invalid: translation fault at this level;
 *      01   a block at level 1 (1 GiB) or 2 (2 MiB); reserved at levels 0
 *           and 3, where it is a translation fault;
 *      11   a table at levels 0 to 2, a page at level 3.
 *    The output address is bits 47:12 (TCR.DS = 0); one above the
 *    implemented size (m->maxphyaddr, at most 48) is an address size fault
 *    at the level of the descriptor holding it (level 0 for TTBR0 itself).
 *    The same goes, by the oracle's choice, for a RES0 bit of the address
 *    field: 49:48 (50:48 in a table) and, in a block, the bits below its
 *    size.  A CPU may ignore those; hostmem must not depend on either.
 *
 * 2. Access rights, for an EL1 access.  Reads are always allowed (PAN = 0).
 *    A write needs AP[2] (bit 7) clear in the leaf and APTable[1] (bit 62)
 *    clear in every table above it.  A fetch needs PXN (53) clear in the
 *    leaf and PXNTable (59) clear above it, and the page not writable at
 *    EL0 (AP[2:1] = 01 after APTable[1] forces AP[2] and APTable[0], bit
 *    61, clears AP[1]): such a page is implicitly PXN.  UXN and UXNTable
 *    are EL0's and do not matter.  Fetching from Device memory (a MAIR
 *    attribute with a zero top nibble) is a permission fault: the ARM ARM
 *    lets a CPU fault or not, and the oracle takes the stricter one.  A
 *    violation is a permission fault at the leaf's level.
 *
 * 3. Access flag and dirty state (FEAT_HAFDBS, m->hafdbs = TCR.HA and HD).
 *    A leaf with AF (bit 10) clear: with HA the access sets it, else an
 *    access flag fault, which comes before any permission fault.  A write
 *    to a leaf with AP[2] set: with HD and DBM (bit 51) the MMU clears
 *    AP[2] (the page is now dirty) and the write succeeds; otherwise a
 *    permission fault.  DBM never overrides APTable.  Both updates are made
 *    after the checks, by compare-and-swap of the leaf against the value
 *    the walk read (mmu_record), only for an access that does not fault.
 *    Table descriptors are never written (no FEAT_HAFT).
 *
 * 4. The TLB entry: rw = a write may go ahead (AP[2] clear, or DBM under
 *    HD), dirty = AP[2] clear, nx = no EL1 fetch, us = true (unused),
 *    cached = the attribute is 0xFF.  A write hitting an entry made by a
 *    read of a writable-clean page re-reads the leaf: still a valid leaf of
 *    that size with DBM and AF, its AP[2] is cleared by compare-and-swap;
 *    anything else drops the entry and the access walks again.
 */
#include "hostmem/sim/mmu.h"

#define D_VALID     (1ull << 0)
#define D_TYPE      (1ull << 1)    /* table (levels 0-2) or page (3); 0: block */
#define D_ATTR_SHIFT 2             /* AttrIndx, bits 4:2 */
#define D_AP_EL0    (1ull << 6)    /* AP[1]: EL0 may access */
#define D_AP_RO     (1ull << 7)    /* AP[2]: read-only */
#define D_AF        (1ull << 10)
#define D_DBM       (1ull << 51)
#define D_PXN       (1ull << 53)
#define T_PXN       (1ull << 59)   /* PXNTable */
#define T_AP_NO_EL0 (1ull << 61)   /* APTable[0] */
#define T_AP_RO     (1ull << 62)   /* APTable[1] */

#define INPUT_BITS  48             /* T0SZ = 16 */
#define MAX_PA_BITS 48             /* TCR.DS = 0 */

/* MAIR_EL1, attribute by AttrIndx. */
static const uint8_t mair[8] = { 0xFF, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

/* What the tables above the leaf take away. */
struct hier {
	bool ro, no_el0, pxn;
};

static uint64_t bits(unsigned lo, unsigned hi)   /* bits lo..hi inclusive */
{
	return ((hi >= 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

static uint64_t page_mask(unsigned shift)
{
	return ~((1ull << shift) - 1);
}

static unsigned level_shift(int level)   /* 39, 30, 21, 12 */
{
	return (unsigned)(39 - 9 * level);
}

static unsigned pa_bits(const struct mmu *m)
{
	return m->maxphyaddr < MAX_PA_BITS ? m->maxphyaddr : MAX_PA_BITS;
}

static uint32_t esr(enum mmu_kind kind, uint32_t fsc)
{
	return (kind == MMU_EXEC ? MMU_ESR_EXEC : kind == MMU_WRITE ? MMU_ESR_WRITE : MMU_ESR_READ) |
	       fsc;
}

/* The bits of a valid descriptor's address field that must be clear: above
 * the output size, RES0, and in a block those below its size. */
static uint64_t address_excess(const struct mmu *m, uint64_t d, int level)
{
	uint64_t out = bits(pa_bits(m), 49);

	if (!(d & D_TYPE))
		out |= bits(12, level_shift(level) - 1);
	else if (level < 3)
		out |= 1ull << 50;
	return d & out;
}

/* 0, or the fault a descriptor raises before its contents are used. */
static uint32_t descriptor_fault(const struct mmu *m, uint64_t d, int level, enum mmu_kind kind)
{
	if (!(d & D_VALID))
		return esr(kind, MMU_FSC_TRANSLATION(level));
	if (!(d & D_TYPE) && (level == 0 || level == 3))
		return esr(kind, MMU_FSC_TRANSLATION(level));
	if (address_excess(m, d, level))
		return esr(kind, MMU_FSC_ADDRESS_SIZE(level));
	return 0;
}

static bool allowed(const struct mmu_tlb_entry *t, enum mmu_kind kind)
{
	return !(kind == MMU_WRITE && !t->rw) && !(kind == MMU_EXEC && t->nx);
}

/* The translation a leaf at `level` gives, and the access's fault if any. */
static uint32_t leaf(const struct mmu *m, uint64_t va, enum mmu_kind kind, int level,
                     const struct hier *h, uint64_t ea, uint64_t d, struct mmu_tlb_entry *t)
{
	unsigned shift = level_shift(level);
	uint8_t attr = mair[(d >> D_ATTR_SHIFT) & 7];
	bool el0_writable = (d & D_AP_EL0) && !h->no_el0 && !(d & D_AP_RO) && !h->ro;

	*t = (struct mmu_tlb_entry){ .valid = true, .us = true };
	t->shift = (uint8_t)shift;
	t->page = va & page_mask(shift);
	t->pa = d & bits(12, MAX_PA_BITS - 1) & page_mask(shift);
	t->leaf = ea;
	t->dirty = !(d & D_AP_RO);
	t->rw = !h->ro && (t->dirty || (m->hafdbs && (d & D_DBM)));
	t->nx = (d & D_PXN) || h->pxn || el0_writable || (attr & 0xF0) == 0;
	t->cached = attr == 0xFF;
	if (!(d & D_AF) && !m->hafdbs)
		return esr(kind, MMU_FSC_ACCESS_FLAG(level));
	if (!allowed(t, kind))
		return esr(kind, MMU_FSC_PERMISSION(level));
	return 0;
}

uint32_t mmu_walk(struct mmu *m, uint64_t va, enum mmu_kind kind,
                  struct mmu_tlb_entry *t, struct mmu_path *p)
{
	uint64_t table = m->root & page_mask(12);
	struct hier h = { false, false, false };
	uint32_t f;

	p->n = 0;
	if (va >> INPUT_BITS)   /* TTBR1's half (EPD1 = 1) or neither half */
		return esr(kind, MMU_FSC_TRANSLATION(0));
	if (m->root >> pa_bits(m))
		return esr(kind, MMU_FSC_ADDRESS_SIZE(0));
	for (int level = 0;; level++) {
		uint64_t ea = table + ((va >> level_shift(level)) & 511) * 8;
		uint64_t d = mmu_entry_read(m, ea);

		f = descriptor_fault(m, d, level, kind);
		if (f)
			return f;
		p->ea[p->n] = ea;
		p->e[p->n++] = d;
		if (level == 3 || !(d & D_TYPE))
			return leaf(m, va, kind, level, &h, ea, d, t);
		h.ro |= (d & T_AP_RO) != 0;
		h.no_el0 |= (d & T_AP_NO_EL0) != 0;
		h.pxn |= (d & T_PXN) != 0;
		table = d & bits(12, MAX_PA_BITS - 1);
	}
}

/* The leaf's AF set and, for a write, its AP[2] cleared (the walk only
 * succeeds with AP[2] set when DBM and HD allow it); the tables are
 * checked unchanged. */
bool mmu_record(struct mmu *m, const struct mmu_path *p, enum mmu_kind kind)
{
	int last = p->n - 1;
	uint64_t d = p->e[last], new = d | D_AF;

	for (int i = 0; i < last; i++)
		if (mmu_entry_read(m, p->ea[i]) != p->e[i])
			return false;
	if (kind == MMU_WRITE)
		new &= ~D_AP_RO;
	if (new == d)
		return mmu_entry_read(m, p->ea[last]) == d;
	return mmu_entry_update(m, p->ea[last], d, new);
}

/* Still the valid leaf of a page of this size, with DBM and AF. */
static bool dirtiable(uint64_t d, unsigned shift)
{
	uint64_t type = shift == 12 ? D_VALID | D_TYPE : D_VALID;

	return (d & (D_VALID | D_TYPE)) == type && (d & (D_DBM | D_AF)) == (D_DBM | D_AF);
}

/* The cached rights decide; a first write to a writable-clean page clears
 * its AP[2]. */
uint32_t mmu_hit(struct mmu *m, struct mmu_tlb_entry *t, uint64_t va, enum mmu_kind kind)
{
	if (!allowed(t, kind))
		return esr(kind, MMU_FSC_PERMISSION((39 - t->shift) / 9));
	while (kind == MMU_WRITE && !t->dirty) {
		uint64_t d = mmu_entry_read(m, t->leaf);

		if (!m->hafdbs || !dirtiable(d, t->shift)) {
			t->valid = false;
			return MMU_MISS;
		}
		t->dirty = mmu_entry_update(m, t->leaf, d, d & ~D_AP_RO);
	}
	return 0;
}

uint32_t mmu_syndrome(enum mmu_kind kind, bool present)
{
	return esr(kind, present ? MMU_FSC_PERMISSION(3) : MMU_FSC_TRANSLATION(3));
}
