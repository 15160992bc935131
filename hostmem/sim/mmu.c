/*
 * mmu.c - the software MMU: the oracle the host tests hold hostmem against.
 * This file is what every format shares; the walk is the format's own
 * (hostmem/arch/<arch>/walk.c, whose top comment is the rest of the theory).
 *
 * Theory
 * ------
 * 1. Independence.  The MMU reads the page tables the way the CPU does,
 *    with its own constants for the entry bits: it never includes hostmem's
 *    pte.h or pte_arch.h, so a wrong encoding there shows up as a wrong fault
 *    here instead of being agreed with.
 *
 * 2. Concurrency.  The tables may change under a walk (hostmem runs on
 *    other threads): entries are read with acquire loads, and what an access
 *    records (accessed, dirty) is set by compare-and-swap against the value
 *    the walk used, as the CPU's locked update does, so nothing is recorded
 *    in an entry hostmem rewrote meanwhile: the walk starts over.
 *
 * 3. The TLB caches successful translations with their combined rights, 64
 *    entries direct-mapped by virtual page number, and forgets them ONLY on
 *    mmu_flush_page (every entry whose page holds va), mmu_flush_all, or a
 *    fault at that address (the CPU drops entries for a faulting address),
 *    and, like a real TLB, when a new translation needs the slot.  With
 *    m->keep (the tests' mode) a new translation never takes an occupied
 *    slot: it is used once, uncached, so a stale entry stays until
 *    invalidated.  If hostmem forgets an invalidation, the next access uses
 *    the stale translation and the test sees it.  Entries that fault are
 *    never cached.  Paging-structure caches are not modelled.
 *
 * Cost: a hit is O(1); a miss reads four entries; flush_page checks va's
 * slot and the slots holding 2 MiB or 1 GiB entries.
 */
#include "hostmem/sim/mmu.h"

_Static_assert(MMU_TLB_SIZE <= 64, "large_slots has a bit per TLB slot");

static uint64_t page_mask(unsigned shift)
{
	return ~((1ull << shift) - 1);
}

void mmu_init(struct mmu *m, const struct hm_platform *plat, uint64_t root, unsigned maxphyaddr)
{
	m->plat = plat;
	m->root = root;
	m->fault_va = 0;
	m->syndrome = 0;
	m->maxphyaddr = maxphyaddr;
	m->hits = m->misses = m->walks = 0;
	m->keep = false;
	m->hafdbs = true;
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

uint64_t mmu_entry_read(const struct mmu *m, uint64_t ea)
{
	return __atomic_load_n((uint64_t *)(m->plat->phys_base + ea), __ATOMIC_ACQUIRE);
}

bool mmu_entry_update(const struct mmu *m, uint64_t ea, uint64_t old, uint64_t new)
{
	return old == new ||
	       __atomic_compare_exchange_n((uint64_t *)(m->plat->phys_base + ea), &old, new, false,
	                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------ access */

static uint32_t fault(struct mmu *m, uint64_t va, uint32_t result)
{
	if (result == MMU_GP)
		return result;
	m->fault_va = va;
	m->syndrome = MMU_SYNDROME(result);
	mmu_flush_page(m, va);
	return result;
}

uint32_t mmu_access(struct mmu *m, uint64_t va, enum mmu_kind kind, uint64_t *pa)
{
	struct mmu_tlb_entry *slot = &m->tlb[(va >> 12) % MMU_TLB_SIZE], t;
	struct mmu_path p;
	uint32_t f;

	if (slot->valid && slot->page == (va & page_mask(slot->shift))) {
		m->hits++;
		f = mmu_hit(m, slot, va, kind);
		if (f == 0) {
			*pa = slot->pa + (va & ~page_mask(slot->shift));
			m->last_cached = slot->cached;
			return 0;
		}
		if (f != MMU_MISS)
			return fault(m, va, f);
	}
	m->misses++;
	do {
		m->walks++;
		f = mmu_walk(m, va, kind, &t, &p);
		if (f)
			return fault(m, va, f);
	} while (!mmu_record(m, &p, kind));
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
