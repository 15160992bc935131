/*
 * mmu.c - the software MMU: the oracle the host tests hold hostmem against.
 *
 * Theory
 * ------
 * 1. Independence.  The MMU reads the page tables the way the CPU does,
 *    with its own constants for the entry bits: it does not include
 *    hostmem's pte.h, so a wrong encoding there shows up as a wrong fault
 *    here instead of being agreed with.
 *
 * 2. Translation (Intel SDM vol. 3, 4.5).  From CR3 down four levels; an
 *    entry with P=0 stops the walk with a not-present fault (error P=0); an
 *    entry with a reserved bit set stops it with P=1|RSVD.  Reserved: bits
 *    51..M of every entry (M = MAXPHYADDR); PS in a PML4 entry; bits 29..13
 *    of a 1 GiB entry and 20..13 of a 2 MiB one (bit 12 is their PAT bit).
 *    PS=1 at PDPT or PD level ends the walk with a 1 GiB or 2 MiB page.
 *
 * 3. Access rights are the combination over all levels: writable only if
 *    RW=1 at every level (CR0.WP=1 applies it to supervisor writes too);
 *    user-accessible only if U/S=1 at every level; executable only if NX=0
 *    at every level (EFER.NXE=1).  Lower-half addresses are user accesses;
 *    upper-half ones supervisor, which may touch user pages (SMAP=SMEP=0).
 *    A violation faults with P=1.  W, U and I in the error code describe
 *    the access, whatever the cause.
 *
 * 4. A and D.  A successful walk sets A in every entry it used and, for a
 *    write, D in the leaf.  A write that hits a TLB entry made by a read
 *    sets D through the leaf address the entry remembers, as the CPU does.
 *    The tables may change under a walk (hostmem runs on other threads):
 *    entries are read with acquire loads (a table or frame is whole before
 *    an entry links it), and A and D are set by compare-and-swap against
 *    the value the walk used, as the CPU's locked update does, so a bit is
 *    never set in an entry hostmem rewrote meanwhile: the walk starts over.
 *    Setting D from a TLB hit checks the leaf is still present and writable
 *    (SDM 4.8), else the entry is dropped and the access walks again.
 *
 * 5. The TLB caches successful translations with their combined rights, 64
 *    entries direct-mapped by virtual page number, and forgets them ONLY on
 *    mmu_flush_page (every entry whose page holds va), mmu_flush_all, or a
 *    page fault at that address (the CPU drops entries for a faulting
 *    address), and, like a real TLB, when a new translation needs the slot.
 *    With m->keep (the tests' mode) a new translation never takes an
 *    occupied slot: it is used once, uncached, so a stale entry stays until
 *    invalidated.  If hostmem forgets an invalidation, the next access uses
 *    the stale translation and the test sees it.  Non-present entries are
 *    never cached, as on the CPU.  Paging-structure caches are not modelled.
 *
 * Cost: a hit is O(1); a miss reads four entries; flush_page checks va's
 * slot and the slots holding 2 MiB or 1 GiB entries.
 */
#include "hostmem/sim/mmu.h"

#define E_P   (1ull << 0)
#define E_RW  (1ull << 1)
#define E_US  (1ull << 2)
#define E_A   (1ull << 5)
#define E_D   (1ull << 6)
#define E_PWT (1ull << 3)
#define E_PCD (1ull << 4)
#define E_PS  (1ull << 7)
#define E_NX  (1ull << 63)

#define LOWER_LIMIT  (1ull << 47)
#define MMU_MISS     0x20000u   /* internal: the TLB entry went, walk again */

_Static_assert(MMU_TLB_SIZE <= 64, "large_slots has a bit per TLB slot");

static uint64_t bits(unsigned lo, unsigned hi)   /* bits lo..hi inclusive */
{
	return ((hi >= 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

static uint64_t *phys(const struct mmu *m, uint64_t pa)
{
	return (uint64_t *)(m->plat->phys_base + pa);
}

static uint64_t page_mask(unsigned shift)
{
	return ~((1ull << shift) - 1);
}

void mmu_init(struct mmu *m, const struct hm_platform *plat, uint64_t cr3, unsigned maxphyaddr)
{
	m->plat = plat;
	m->cr3 = cr3;
	m->cr2 = 0;
	m->error = 0;
	m->maxphyaddr = maxphyaddr;
	m->hits = m->misses = m->walks = 0;
	m->keep = false;
	m->last_cached = true;
	mmu_flush_all(m);
}

void mmu_flush_all(struct mmu *m)
{
	for (unsigned i = 0; i < MMU_TLB_SIZE; i++)
		m->tlb[i].valid = false;
	m->large_slots = 0;
}

static void flush_slot(struct mmu_tlb_entry *t, uint64_t va)
{
	if (t->valid && t->page == (va & page_mask(t->shift)))
		t->valid = false;
}

/* A 4 KiB entry for va can only be in va's own slot; a larger page's entry
 * is in the slot of whichever address of it was translated, so those slots
 * are marked and checked too (a mark left by an entry since replaced is
 * dropped here). */
void mmu_flush_page(struct mmu *m, uint64_t va)
{
	flush_slot(&m->tlb[(va >> 12) % MMU_TLB_SIZE], va);
	for (uint64_t left = m->large_slots; left; left &= left - 1) {
		unsigned i = (unsigned)__builtin_ctzll(left);
		struct mmu_tlb_entry *t = &m->tlb[i];

		flush_slot(t, va);
		if (!t->valid || t->shift == 12)
			m->large_slots &= ~(1ull << i);
	}
}

/* ------------------------------------------------------------ walk */

static bool reserved(const struct mmu *m, uint64_t e, int level)
{
	uint64_t r = m->maxphyaddr < 52 ? bits(m->maxphyaddr, 51) : 0;

	if (e & E_PS) {
		if (level == 4)
			return true;
		if (level == 3)
			r |= bits(13, 29);
		if (level == 2)
			r |= bits(13, 20);
	}
	return (e & r) != 0;
}

struct path {
	uint64_t ea[4];   /* pa of each entry used, root first */
	uint64_t e[4];    /* the value read there */
	int n;
};

static uint64_t entry_read(const struct mmu *m, uint64_t ea)
{
	return __atomic_load_n(phys(m, ea), __ATOMIC_ACQUIRE);
}

/* Sets bits in the entry at ea if it still holds e; false if it changed. */
static bool entry_mark(const struct mmu *m, uint64_t ea, uint64_t e, uint64_t bits)
{
	return (e & bits) == bits ||
	       __atomic_compare_exchange_n(phys(m, ea), &e, e | bits, false,
	                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Walks the tables for va; fills *t (rights combined over the levels) and
 * *p and returns 0, or returns MMU_PF | the error code (err is the access
 * part of it, which may be 0). */
static uint32_t walk(struct mmu *m, uint64_t va, uint32_t err,
                     struct mmu_tlb_entry *t, struct path *p)
{
	uint64_t addr = bits(12, m->maxphyaddr - 1), table = m->cr3 & addr;

	*t = (struct mmu_tlb_entry){ .valid = true, .rw = true, .us = true };
	p->n = 0;
	m->walks++;
	for (int level = 4; level >= 1; level--) {
		uint64_t ea = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8, e = entry_read(m, ea);

		if (!(e & E_P))
			return MMU_PF | err;
		if (reserved(m, e, level))
			return MMU_PF | err | PF_P | PF_RSVD;
		t->rw &= (e & E_RW) != 0;
		t->us &= (e & E_US) != 0;
		t->nx |= (e & E_NX) != 0;
		p->ea[p->n] = ea;
		p->e[p->n++] = e;
		if (level == 1 || (e & E_PS)) {
			t->shift = (uint8_t)(12 + 9 * (level - 1));
			t->page = va & page_mask(t->shift);
			t->pa = e & addr & page_mask(t->shift);
			t->leaf = ea;
			t->dirty = (e & E_D) != 0;
			t->cached = !(e & (E_PWT | E_PCD));
			return 0;
		}
		table = e & addr;
	}
	return MMU_PF | err;   /* not reached: level 1 always ends the walk */
}

/* The rights check on a translation: 0 or PF_P. */
static uint32_t rights(const struct mmu_tlb_entry *t, enum mmu_kind kind, bool user)
{
	if (user && !t->us)
		return PF_P;
	if (kind == MMU_WRITE && !t->rw)
		return PF_P;
	if (kind == MMU_EXEC && t->nx)
		return PF_P;
	return 0;
}

/* A in every entry of the path, D too in the leaf for a write; false if an
 * entry changed since the walk read it (the walk must be done again). */
static bool set_accessed(struct mmu *m, const struct path *p, bool write)
{
	for (int i = 0; i < p->n; i++) {
		uint64_t bits = E_A | (write && i == p->n - 1 ? E_D : 0);

		if (!entry_mark(m, p->ea[i], p->e[i], bits))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ access */

/* result: MMU_PF | the error code. */
static uint32_t fault(struct mmu *m, uint64_t va, uint32_t result)
{
	m->cr2 = va;
	m->error = MMU_PF_CODE(result);
	mmu_flush_page(m, va);
	return result;
}

static bool canonical(uint64_t va)
{
	uint64_t top = va >> 47;

	return top == 0 || top == 0x1FFFF;
}

static uint32_t access_code(uint64_t va, enum mmu_kind kind)
{
	return (kind == MMU_WRITE ? PF_W : 0) | (va < LOWER_LIMIT ? PF_U : 0) |
	       (kind == MMU_EXEC ? PF_I : 0);
}

/* A TLB hit: the cached rights decide; a first write sets D. */
static uint32_t access_hit(struct mmu *m, struct mmu_tlb_entry *t, uint64_t va,
                           enum mmu_kind kind, uint32_t err)
{
	uint32_t f = rights(t, kind, va < LOWER_LIMIT);

	m->hits++;
	if (f)
		return fault(m, va, MMU_PF | err | f);
	while (kind == MMU_WRITE && !t->dirty) {
		uint64_t e = entry_read(m, t->leaf);

		if ((e & (E_P | E_RW)) != (E_P | E_RW)) {
			t->valid = false;
			return MMU_MISS;
		}
		t->dirty = entry_mark(m, t->leaf, e, E_D);
	}
	return 0;
}

uint32_t mmu_access(struct mmu *m, uint64_t va, enum mmu_kind kind, uint64_t *pa)
{
	struct mmu_tlb_entry *slot = &m->tlb[(va >> 12) % MMU_TLB_SIZE], t;
	uint32_t err = access_code(va, kind), f;
	struct path p;

	if (!canonical(va))
		return MMU_GP;
	if (slot->valid && slot->page == (va & page_mask(slot->shift))) {
		f = access_hit(m, slot, va, kind, err);
		if (f == 0) {
			*pa = slot->pa + (va & ~page_mask(slot->shift));
			m->last_cached = slot->cached;
		}
		if (f != MMU_MISS)
			return f;
	}
	m->misses++;
	do {
		f = walk(m, va, err, &t, &p);
		if (f == 0)
			f = rights(&t, kind, va < LOWER_LIMIT) ? MMU_PF | err | PF_P : 0;
		if (f)
			return fault(m, va, f);
	} while (!set_accessed(m, &p, kind == MMU_WRITE));
	t.dirty |= kind == MMU_WRITE;
	if (!m->keep || !slot->valid) {
		*slot = t;
		if (t.shift != 12)
			m->large_slots |= 1ull << (slot - m->tlb);
	}
	*pa = t.pa + (va & ~page_mask(t.shift));
	m->last_cached = t.cached;
	return 0;
}

/* ------------------------------------------------------------ copies */

static uint32_t copy(struct mmu *m, uint64_t va, uint8_t *buf, size_t n, bool write)
{
	while (n > 0) {
		size_t chunk = 0x1000 - (va & 0xFFF);
		uint64_t pa;
		uint32_t f = mmu_access(m, va, write ? MMU_WRITE : MMU_READ, &pa);
		uint8_t *mem;

		if (f)
			return f;
		mem = m->plat->phys_base + pa;
		if (chunk > n)
			chunk = n;
		for (size_t i = 0; i < chunk; i++) {
			if (write)
				mem[i] = buf[i];
			else
				buf[i] = mem[i];
		}
		va += chunk;
		buf += chunk;
		n -= chunk;
	}
	return 0;
}

uint32_t mmu_read(struct mmu *m, uint64_t va, void *dst, size_t n)
{
	return copy(m, va, dst, n, false);
}

uint32_t mmu_write(struct mmu *m, uint64_t va, const void *src, size_t n)
{
	return copy(m, va, (uint8_t *)src, n, true);
}
