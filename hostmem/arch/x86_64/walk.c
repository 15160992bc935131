/*
 * walk.c (x86-64) - the software MMU's walk of 4-level x86-64 paging
 * (hostmem/sim/mmu.c has the TLB and the shared theory).
 *
 * Theory
 * ------
 * 1. Translation (Intel SDM vol. 3, 4.5).  From CR3 down four levels; an
 *    entry with P=0 stops the walk with a not-present fault (error P=0); an
 *    entry with a reserved bit set stops it with P=1|RSVD.  Reserved: bits
 *    51..M of every entry (M = MAXPHYADDR); PS in a PML4 entry; bits 29..13
 *    of a 1 GiB entry and 20..13 of a 2 MiB one (bit 12 is their PAT bit).
 *    PS=1 at PDPT or PD level ends the walk with a 1 GiB or 2 MiB page.
 *    A non-canonical address raises #GP (MMU_GP) before any walk.
 *
 * 2. Access rights are the combination over all levels: writable only if
 *    RW=1 at every level (CR0.WP=1 applies it to supervisor writes too);
 *    user-accessible only if U/S=1 at every level; executable only if NX=0
 *    at every level (EFER.NXE=1).  Lower-half addresses are user accesses;
 *    upper-half ones supervisor, which may touch user pages (SMAP=SMEP=0).
 *    A violation faults with P=1.  W, U and I in the error code describe
 *    the access, whatever the cause.
 *
 * 3. A and D.  A successful walk sets A in every entry it used and, for a
 *    write, D in the leaf.  A write that hits a TLB entry made by a read
 *    sets D through the leaf address the entry remembers, as the CPU does;
 *    it checks the leaf is still present and writable (SDM 4.8), else the
 *    entry is dropped and the access walks again.
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

static uint64_t bits(unsigned lo, unsigned hi)   /* bits lo..hi inclusive */
{
	return ((hi >= 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

static uint64_t page_mask(unsigned shift)
{
	return ~((1ull << shift) - 1);
}

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

uint32_t mmu_walk(struct mmu *m, uint64_t va, enum mmu_kind kind,
                  struct mmu_tlb_entry *t, struct mmu_path *p)
{
	uint64_t addr = bits(12, m->maxphyaddr - 1), table = m->root & addr;
	uint32_t err = access_code(va, kind);

	if (!canonical(va))
		return MMU_GP;
	*t = (struct mmu_tlb_entry){ .valid = true, .rw = true, .us = true };
	p->n = 0;
	for (int level = 4; level >= 1; level--) {
		uint64_t ea = table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
		uint64_t e = mmu_entry_read(m, ea);

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
			return rights(t, kind, va < LOWER_LIMIT) ? MMU_PF | err | PF_P : 0;
		}
		table = e & addr;
	}
	return MMU_PF | err;   /* not reached: level 1 always ends the walk */
}

/* A in every entry of the path, D too in the leaf for a write. */
bool mmu_record(struct mmu *m, const struct mmu_path *p, enum mmu_kind kind)
{
	for (int i = 0; i < p->n; i++) {
		uint64_t bits = E_A | (kind == MMU_WRITE && i == p->n - 1 ? E_D : 0);

		if (!mmu_entry_update(m, p->ea[i], p->e[i], p->e[i] | bits))
			return false;
	}
	return true;
}

/* The cached rights decide; a first write sets D. */
uint32_t mmu_hit(struct mmu *m, struct mmu_tlb_entry *t, uint64_t va, enum mmu_kind kind)
{
	uint32_t err = access_code(va, kind);

	if (rights(t, kind, va < LOWER_LIMIT))
		return MMU_PF | err | PF_P;
	while (kind == MMU_WRITE && !t->dirty) {
		uint64_t e = mmu_entry_read(m, t->leaf);

		if ((e & (E_P | E_RW)) != (E_P | E_RW)) {
			t->valid = false;
			return MMU_MISS;
		}
		t->dirty = mmu_entry_update(m, t->leaf, e, e | E_D);
	}
	return 0;
}

uint32_t mmu_syndrome(enum mmu_kind kind, bool present)
{
	return access_code(0, kind) | (present ? PF_P : 0);
}
