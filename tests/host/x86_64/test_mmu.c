/*
 * The software MMU, one test per hardware rule.  Tables are built by hand
 * here (not with pagetable.c), so the oracle is tested on its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hostmem/frame.h"
#include "hostmem/sim/mmu.h"
#include "tests/host/lib/ram.h"

#define MiB (1024 * 1024ull)
#define GiB (1024 * MiB)

/* The architectural bits, spelled out again on purpose. */
#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define A   (1ull << 5)
#define D   (1ull << 6)
#define PS  (1ull << 7)
#define NX  (1ull << 63)
#define UPPER (P | RW | US)

#define USER_VA    0x0000123456789000ull
#define KERNEL_VA  0xFFFF800012345000ull

struct fx {
	struct ram *ram;
	struct frames fr;
	struct mmu mmu;
	uint64_t root;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const struct phys_range r[] = { { 0, 8 * MiB } };

	f->ram = ram_new(8 * MiB);
	assert_int_equal(frames_init(&f->fr, &f->ram->plat, r, 1, 0), FRAME_OK);
	f->root = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE);
	mmu_init(&f->mmu, &f->ram->plat, f->root, 46);
	ram_attach_mmu(f->ram, &f->mmu);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ram_free(f->ram);
	free(f);
	return 0;
}

static uint64_t *entries(struct fx *f, uint64_t pa)
{
	return ram_ptr(f->ram, pa & 0x000FFFFFFFFFF000ull);
}

/* The entry for va at `level` (4 = PML4 ... 1 = PT), creating the tables
 * above it with `upper` flags. */
static uint64_t *entry(struct fx *f, uint64_t va, int level, uint64_t upper)
{
	uint64_t table = f->root;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &entries(f, table)[(va >> (12 + 9 * (l - 1))) & 511];

		if (!(*e & P))
			*e = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE) | upper;
		table = *e;
	}
	return &entries(f, table)[(va >> (12 + 9 * (level - 1))) & 511];
}

/* A 4 KiB page at va with leaf flags; returns its frame. */
static uint64_t page(struct fx *f, uint64_t va, uint64_t leaf, uint64_t upper)
{
	uint64_t pa = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO);

	*entry(f, va, 1, upper) = pa | leaf;
	return pa;
}

static uint32_t go(struct fx *f, uint64_t va, enum mmu_kind kind)
{
	uint64_t pa;

	return mmu_access(&f->mmu, va, kind, &pa);
}

/* ------------------------------------------------------------ not present */

static void test_not_present_faults_at_every_level(void **state)
{
	struct fx *f = *state;

	for (int level = 4; level >= 1; level--) {
		if (level < 4)
			entry(f, USER_VA, level + 1, UPPER);   /* one more level present */
		assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | PF_U);
		assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_U | PF_W));
		assert_int_equal(go(f, USER_VA, MMU_EXEC), MMU_PF | (PF_U | PF_I));
		assert_int_equal(f->mmu.fault_va, USER_VA);
	}
	*entry(f, USER_VA, 1, UPPER) = 0x5000 | RW | US;   /* all but P */
	assert_int_equal(go(f, USER_VA + 0x10, MMU_READ), MMU_PF | PF_U);
	assert_int_equal(f->mmu.fault_va, USER_VA + 0x10);
	/* A supervisor read of a missing page: error code 0, still a fault. */
	assert_int_equal(go(f, KERNEL_VA, MMU_READ), MMU_PF | 0);
	assert_int_equal(f->mmu.syndrome, 0);
	assert_int_equal(go(f, KERNEL_VA, MMU_WRITE), MMU_PF | PF_W);
	assert_int_equal(f->mmu.syndrome, PF_W);
}

static void test_present_page_translates_with_its_offset(void **state)
{
	struct fx *f = *state;
	uint64_t frame = page(f, USER_VA, P | RW | US, UPPER), pa;

	assert_int_equal(mmu_access(&f->mmu, USER_VA + 0x123, MMU_READ, &pa), 0);
	assert_int_equal(pa, frame + 0x123);
}

static void test_non_canonical_address_is_gp_not_pf(void **state)
{
	struct fx *f = *state;

	assert_int_equal(go(f, 0x0000800000000000ull, MMU_READ), MMU_GP);
	assert_int_equal(go(f, 0xFFFF7FFFFFFFF000ull, MMU_WRITE), MMU_GP);
}

/* ------------------------------------------------------------ RW, WP */

static void test_write_to_read_only_page_faults(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_P | PF_W | PF_U));
}

static void test_write_needs_rw_at_every_level(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US, UPPER);
	*entry(f, USER_VA, 2, UPPER) &= ~RW;          /* the PD entry */
	assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_P | PF_W | PF_U));
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
}

static void test_supervisor_writes_obey_wp(void **state)
{
	struct fx *f = *state;

	page(f, KERNEL_VA, P, P | RW);                /* supervisor, read-only */
	assert_int_equal(go(f, KERNEL_VA, MMU_READ), 0);
	assert_int_equal(go(f, KERNEL_VA, MMU_WRITE), MMU_PF | (PF_P | PF_W));
}

/* ------------------------------------------------------------ NX */

static void test_fetch_from_nx_page_faults(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US | NX, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	assert_int_equal(go(f, USER_VA, MMU_EXEC), MMU_PF | (PF_P | PF_U | PF_I));
}

static void test_fetch_through_nx_upper_level_faults(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_EXEC), 0);
	*entry(f, USER_VA, 3, UPPER) |= NX;           /* the PDPT entry */
	mmu_flush_all(&f->mmu);
	assert_int_equal(go(f, USER_VA, MMU_EXEC), MMU_PF | (PF_P | PF_U | PF_I));
}

/* ------------------------------------------------------------ U/S */

static void test_user_access_needs_us_at_every_level(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW, UPPER);              /* leaf without US */
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | (PF_P | PF_U));
	page(f, USER_VA + 0x1000, P | RW | US, UPPER);
	*entry(f, USER_VA, 4, UPPER) &= ~US;          /* the PML4 entry */
	assert_int_equal(go(f, USER_VA + 0x1000, MMU_READ), MMU_PF | (PF_P | PF_U));
}

static void test_supervisor_may_touch_user_pages(void **state)
{
	struct fx *f = *state;

	page(f, KERNEL_VA, P | RW | US, UPPER);        /* SMAP and SMEP off */
	assert_int_equal(go(f, KERNEL_VA, MMU_WRITE), 0);
	assert_int_equal(go(f, KERNEL_VA, MMU_EXEC), 0);
}

/* ------------------------------------------------------------ RSVD */

static void test_reserved_bits_fault_with_rsvd(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | US | (1ull << 50), UPPER);   /* above MAXPHYADDR 46 */
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | (PF_P | PF_RSVD | PF_U));
	assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_P | PF_RSVD | PF_U | PF_W));
	f->mmu.maxphyaddr = 52;                            /* now a real address bit */
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
}

static void test_ps_in_pml4_is_reserved(void **state)
{
	struct fx *f = *state;

	*entry(f, USER_VA, 4, UPPER) = P | RW | US | PS;
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | (PF_P | PF_RSVD | PF_U));
}

static void test_large_page_low_address_bits_are_reserved(void **state)
{
	struct fx *f = *state;

	*entry(f, USER_VA, 2, UPPER) = 2 * MiB | P | US | PS | (1ull << 13);
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | (PF_P | PF_RSVD | PF_U));
	*entry(f, USER_VA, 3, UPPER) = 1 * GiB | P | US | PS | (1ull << 21);
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | (PF_P | PF_RSVD | PF_U));
}

/* ------------------------------------------------------------ PS */

static void test_2m_page_translates_through_the_pd(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull + 2 * MiB, pa;

	*entry(f, va, 2, UPPER) = frame | P | RW | US | PS;
	assert_int_equal(mmu_access(&f->mmu, va + 0x12345, MMU_WRITE, &pa), 0);
	assert_int_equal(pa, frame + 0x12345);
	assert_true(*entry(f, va, 2, UPPER) & D);
}

static void test_1g_page_translates_through_the_pdpt(void **state)
{
	struct fx *f = *state;
	uint64_t va = 5 * GiB, pa;

	*entry(f, va, 3, UPPER) = 0 | P | US | PS;        /* physical 0..1 GiB */
	assert_int_equal(mmu_access(&f->mmu, va + 0x3456789, MMU_READ, &pa), 0);
	assert_int_equal(pa, 0x3456789);
	assert_int_equal(go(f, va, MMU_WRITE), MMU_PF | (PF_P | PF_W | PF_U));
}

/* ------------------------------------------------------------ A / D */

static void test_walk_sets_accessed_everywhere_and_dirty_on_write(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	for (int level = 4; level >= 1; level--)
		assert_true(*entry(f, USER_VA, level, UPPER) & A);
	assert_false(*entry(f, USER_VA, 1, UPPER) & D);
	/* The write hits the TLB entry the read made: D still gets set. */
	assert_int_equal(go(f, USER_VA, MMU_WRITE), 0);
	assert_int_equal(f->mmu.misses, 1);
	assert_true(*entry(f, USER_VA, 1, UPPER) & D);
	for (int level = 4; level >= 2; level--)
		assert_false(*entry(f, USER_VA, level, UPPER) & D);
}

static void test_a_fault_sets_no_accessed_bit(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_P | PF_W | PF_U));
	assert_false(*entry(f, USER_VA, 1, UPPER) & A);
}

/* ------------------------------------------------------------ TLB */

static void test_stale_entry_is_used_until_flush_page(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	*entry(f, USER_VA, 1, UPPER) = 0;              /* unmapped, not flushed */
	assert_int_equal(go(f, USER_VA, MMU_READ), 0); /* the stale hit */
	assert_int_equal(go(f, USER_VA + 0x1000, MMU_READ), MMU_PF | PF_U);
	f->ram->plat.tlb_flush_page(f->ram->plat.ctx, USER_VA + 0x800);
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | PF_U);
}

static void test_flush_all_drops_every_entry(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US, UPPER);
	page(f, USER_VA + 0x1000, P | RW | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	assert_int_equal(go(f, USER_VA + 0x1000, MMU_READ), 0);
	*entry(f, USER_VA, 1, UPPER) = 0;
	*entry(f, USER_VA + 0x1000, 1, UPPER) = 0;
	f->ram->plat.tlb_shootdown(f->ram->plat.ctx, 0, 0);
	assert_int_equal(go(f, USER_VA, MMU_READ), MMU_PF | PF_U);
	assert_int_equal(go(f, USER_VA + 0x1000, MMU_READ), MMU_PF | PF_U);
}

static void test_fault_drops_the_stale_entry(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	*entry(f, USER_VA, 1, UPPER) |= RW;            /* upgraded, not flushed */
	assert_int_equal(go(f, USER_VA, MMU_WRITE), MMU_PF | (PF_P | PF_W | PF_U));  /* spurious */
	assert_int_equal(go(f, USER_VA, MMU_WRITE), 0);                  /* re-walked */
}

static void test_flush_page_drops_a_large_entry_from_any_address_in_it(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull;

	*entry(f, va, 2, UPPER) = frame | P | RW | US | PS;
	assert_int_equal(go(f, va + 0x5000, MMU_READ), 0);
	*entry(f, va, 2, UPPER) = 0;
	assert_int_equal(go(f, va + 0x5000, MMU_READ), 0);      /* stale */
	mmu_flush_page(&f->mmu, va + 1 * MiB);
	assert_int_equal(go(f, va + 0x5000, MMU_READ), MMU_PF | PF_U);
}

static void test_hits_come_from_the_tlb(void **state)
{
	struct fx *f = *state;

	page(f, USER_VA, P | RW | US, UPPER);
	assert_int_equal(go(f, USER_VA, MMU_READ), 0);
	assert_int_equal(go(f, USER_VA + 8, MMU_READ), 0);
	assert_int_equal(f->mmu.hits, 1);
	assert_int_equal(f->mmu.walks, 1);
}

/* ------------------------------------------------------------ copies */

static void test_copies_cross_pages_and_stop_at_the_first_fault(void **state)
{
	struct fx *f = *state;
	char out[16] = { 0 };
	uint64_t a = page(f, USER_VA, P | RW | US, UPPER);

	page(f, USER_VA + 0x1000, P | RW | US, UPPER);
	assert_int_equal(mmu_write(&f->mmu, USER_VA + 0xFF8, "hello, world!!!", 16), 0);
	assert_memory_equal((char *)ram_ptr(f->ram, a) + 0xFF8, "hello, w", 8);
	assert_int_equal(mmu_read(&f->mmu, USER_VA + 0xFF8, out, 16), 0);
	assert_string_equal(out, "hello, world!!!");
	assert_int_equal(mmu_read(&f->mmu, USER_VA + 0x1FF8, out, 16), MMU_PF | PF_U);
	assert_int_equal(f->mmu.fault_va, USER_VA + 0x2000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_not_present_faults_at_every_level),
		T(test_present_page_translates_with_its_offset),
		T(test_non_canonical_address_is_gp_not_pf),
		T(test_write_to_read_only_page_faults),
		T(test_write_needs_rw_at_every_level),
		T(test_supervisor_writes_obey_wp),
		T(test_fetch_from_nx_page_faults),
		T(test_fetch_through_nx_upper_level_faults),
		T(test_user_access_needs_us_at_every_level),
		T(test_supervisor_may_touch_user_pages),
		T(test_reserved_bits_fault_with_rsvd),
		T(test_ps_in_pml4_is_reserved),
		T(test_large_page_low_address_bits_are_reserved),
		T(test_2m_page_translates_through_the_pd),
		T(test_1g_page_translates_through_the_pdpt),
		T(test_walk_sets_accessed_everywhere_and_dirty_on_write),
		T(test_a_fault_sets_no_accessed_bit),
		T(test_stale_entry_is_used_until_flush_page),
		T(test_flush_all_drops_every_entry),
		T(test_fault_drops_the_stale_entry),
		T(test_flush_page_drops_a_large_entry_from_any_address_in_it),
		T(test_hits_come_from_the_tlb),
		T(test_copies_cross_pages_and_stop_at_the_first_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
