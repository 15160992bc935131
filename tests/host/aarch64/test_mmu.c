/*
 * The software MMU's VMSAv8-64 walk, one test per architectural rule.
 * Tables are built by hand here (not with pagetable.c, nor with hostmem's
 * entry format), so the oracle is tested on its own.  Levels are the
 * architecture's: 0 is the root, 3 holds the 4 KiB pages.
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
#define V       (1ull << 0)
#define TYPE    (1ull << 1)     /* table or page; clear: block */
#define ATTR(i) ((uint64_t)(i) << 2)
#define AP_EL0  (1ull << 6)     /* AP[1] */
#define AP_RO   (1ull << 7)     /* AP[2] */
#define AF      (1ull << 10)
#define DBM     (1ull << 51)
#define PXN     (1ull << 53)
#define UXN     (1ull << 54)
#define PXN_TABLE    (1ull << 59)
#define UXN_TABLE    (1ull << 60)
#define AP_TABLE_EL0 (1ull << 61)  /* APTable[0]: no EL0 access */
#define AP_TABLE_RO  (1ull << 62)  /* APTable[1]: no write */

#define TABLE   (V | TYPE)
#define PAGE    (V | TYPE | AF)           /* EL1 read-write, executable */
#define BLOCK   (V | AF)

/* ESR_EL1, written out: EC 0x25 (data abort, same EL) or 0x21 (instruction
 * abort, same EL), IL, WnR, the fault status code. */
#define RD      0x96000000u
#define WR      0x96000040u
#define EX      0x86000000u
#define ADDR(l) (0x00u + (l))
#define TRAN(l) (0x04u + (l))
#define FLAG(l) (0x08u + (l))
#define PERM(l) (0x0Cu + (l))

#define VA  0x0000123456789000ull
#define PA_BITS 40

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
	mmu_init(&f->mmu, &f->ram->plat, f->root, PA_BITS);
	f->mmu.keep = true;
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
	return ram_ptr(f->ram, pa & 0x0000FFFFFFFFF000ull);
}

/* The descriptor for va at `level` (0 root ... 3 pages), creating the
 * tables above it as table descriptors with `upper` bits. */
static uint64_t *entry(struct fx *f, uint64_t va, int level, uint64_t upper)
{
	uint64_t table = f->root;

	for (int l = 0; l < level; l++) {
		uint64_t *e = &entries(f, table)[(va >> (39 - 9 * l)) & 511];

		if (!(*e & V))
			*e = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO | FRAME_ALLOC_TABLE) | upper;
		table = *e;
	}
	return &entries(f, table)[(va >> (39 - 9 * level)) & 511];
}

/* A 4 KiB page at va with leaf bits; returns its frame. */
static uint64_t page(struct fx *f, uint64_t va, uint64_t leaf, uint64_t upper)
{
	uint64_t pa = frame_alloc(&f->fr, 0, FRAME_ALLOC_ZERO);

	*entry(f, va, 3, upper) = pa | leaf;
	return pa;
}

static uint32_t go(struct fx *f, uint64_t va, enum mmu_kind kind)
{
	uint64_t pa;

	return mmu_access(&f->mmu, va, kind, &pa);
}

/* ------------------------------------------------------------ the ESR */

static void test_esr_encodes_class_length_write_and_status(void **state)
{
	(void)state;
	assert_int_equal(MMU_ESR_READ, 0x96000000u);    /* EC 0x25, IL */
	assert_int_equal(MMU_ESR_WRITE, 0x96000040u);   /* and WnR */
	assert_int_equal(MMU_ESR_EXEC, 0x86000000u);    /* EC 0x21, IL */
	assert_int_equal(MMU_FSC_ADDRESS_SIZE(2), 0x02u);
	assert_int_equal(MMU_FSC_TRANSLATION(3), 0x07u);
	assert_int_equal(MMU_FSC_ACCESS_FLAG(1), 0x09u);
	assert_int_equal(MMU_FSC_PERMISSION(0), 0x0Cu);
	assert_int_equal(MMU_SYNDROME(0x9600004Fu), 0x9600004Fu);
	/* No ESR can be MMU_GP or MMU_MISS: both have bit 31 clear. */
	assert_false(MMU_GP & 0x80000000u);
	assert_int_not_equal(MMU_GP, MMU_MISS);
}

/* ------------------------------------------------------------ translation */

static void test_invalid_descriptor_faults_at_its_level(void **state)
{
	struct fx *f = *state;

	for (int level = 0; level <= 3; level++) {
		if (level > 0)
			entry(f, VA, level, TABLE);        /* one more level valid */
		assert_int_equal(go(f, VA, MMU_READ), RD | TRAN(level));
		assert_int_equal(go(f, VA, MMU_WRITE), WR | TRAN(level));
		assert_int_equal(go(f, VA, MMU_EXEC), EX | TRAN(level));
		assert_int_equal(f->mmu.fault_va, VA);
		assert_int_equal(f->mmu.syndrome, EX | TRAN(level));
	}
	*entry(f, VA, 3, TABLE) = 0x5000 | (PAGE & ~V);   /* all but valid */
	assert_int_equal(go(f, VA + 0x10, MMU_READ), RD | TRAN(3));
	assert_int_equal(f->mmu.fault_va, VA + 0x10);
}

static void test_page_translates_with_its_offset(void **state)
{
	struct fx *f = *state;
	uint64_t frame = page(f, VA, PAGE, TABLE), pa;

	assert_int_equal(mmu_access(&f->mmu, VA + 0x123, MMU_READ, &pa), 0);
	assert_int_equal(pa, frame + 0x123);
	assert_int_equal(mmu_access(&f->mmu, VA + 0xFFF, MMU_WRITE, &pa), 0);
	assert_int_equal(pa, frame + 0xFFF);
}

/* The low 48 bits are mapped; a high bit makes it another address, which
 * TTBR0 does not cover and TTBR1 (EPD1) does not walk. */
static void test_address_outside_ttbr0_is_a_level_0_translation_fault(void **state)
{
	struct fx *f = *state;
	const uint64_t high[] = { 0xFFFF000000000000ull, 0x0001000000000000ull,
	                          0x8000000000000000ull, 0x0100000000000000ull };

	page(f, VA, PAGE, TABLE);
	for (unsigned i = 0; i < sizeof high / sizeof high[0]; i++) {
		assert_int_equal(go(f, VA | high[i], MMU_READ), RD | TRAN(0));
		assert_int_equal(go(f, VA | high[i], MMU_WRITE), WR | TRAN(0));
		assert_int_equal(go(f, VA | high[i], MMU_EXEC), EX | TRAN(0));
		assert_int_equal(f->mmu.fault_va, VA | high[i]);
	}
	assert_int_equal(go(f, VA, MMU_READ), 0);
}

static void test_block_descriptor_at_level_0_is_a_translation_fault(void **state)
{
	struct fx *f = *state;

	*entry(f, VA, 0, 0) = BLOCK;                   /* would be 512 GiB at pa 0 */
	assert_int_equal(go(f, VA, MMU_READ), RD | TRAN(0));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | TRAN(0));
}

static void test_block_type_at_level_3_is_a_translation_fault(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE & ~TYPE, TABLE);              /* bits 1:0 = 01 */
	assert_int_equal(go(f, VA, MMU_READ), RD | TRAN(3));
	assert_int_equal(go(f, VA, MMU_WRITE), WR | TRAN(3));
}

static void test_2m_block_translates_through_level_2(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull + 2 * MiB, pa;

	*entry(f, va, 2, TABLE) = frame | BLOCK;
	assert_int_equal(mmu_access(&f->mmu, va + 0x12345, MMU_WRITE, &pa), 0);
	assert_int_equal(pa, frame + 0x12345);
	assert_int_equal(mmu_access(&f->mmu, va + 2 * MiB - 1, MMU_READ, &pa), 0);
	assert_int_equal(pa, frame + 2 * MiB - 1);
	assert_int_equal(go(f, va + 2 * MiB, MMU_READ), RD | TRAN(2));   /* the next one */
}

static void test_1g_block_translates_through_level_1(void **state)
{
	struct fx *f = *state;
	uint64_t va = 5 * GiB, pa;

	*entry(f, va, 1, TABLE) = 0 | BLOCK | AP_RO;   /* physical 0..1 GiB */
	assert_int_equal(mmu_access(&f->mmu, va + 0x3456789, MMU_READ, &pa), 0);
	assert_int_equal(pa, 0x3456789);
	assert_int_equal(go(f, va, MMU_WRITE), WR | PERM(1));
}

/* ------------------------------------------------------------ address size */

static void test_output_address_above_the_pa_size_is_an_address_size_fault(void **state)
{
	struct fx *f = *state;
	uint64_t pa;

	page(f, VA, PAGE | (1ull << PA_BITS), TABLE);
	assert_int_equal(go(f, VA, MMU_READ), RD | ADDR(3));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | ADDR(3));
	f->mmu.maxphyaddr = PA_BITS + 1;               /* now a real address bit */
	assert_int_equal(mmu_access(&f->mmu, VA, MMU_READ, &pa), 0);
	assert_true(pa & (1ull << PA_BITS));
}

static void test_table_address_above_the_pa_size_faults_at_its_level(void **state)
{
	struct fx *f = *state;

	for (int level = 0; level <= 2; level++) {
		uint64_t *e;

		page(f, VA, PAGE, TABLE);
		e = entry(f, VA, level, TABLE);
		*e |= 1ull << 47;
		assert_int_equal(go(f, VA, MMU_WRITE), WR | ADDR(level));
		*e &= ~(1ull << 47);
		assert_int_equal(go(f, VA, MMU_WRITE), 0);
		mmu_flush_all(&f->mmu);
	}
}

static void test_root_above_the_pa_size_is_a_level_0_address_size_fault(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE);
	f->mmu.root |= 1ull << 45;
	assert_int_equal(go(f, VA, MMU_READ), RD | ADDR(0));
}

/* The oracle's choice (walk.c theory 1): RES0 bits of the address field
 * fault, whatever the PA size. */
static void test_res0_address_bits_are_address_size_faults(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), big = 0x40000000ull;
	uint64_t *e;

	f->mmu.maxphyaddr = 52;                        /* clamped to 48 (DS = 0) */
	e = entry(f, VA, 3, TABLE);
	*e = 0x5000 | PAGE | (1ull << 48);
	assert_int_equal(go(f, VA, MMU_READ), RD | ADDR(3));
	*e = 0x5000 | PAGE | (1ull << 50);             /* GP in a page: ignored */
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*entry(f, VA, 2, TABLE) |= 1ull << 50;         /* RES0 in a table */
	mmu_flush_all(&f->mmu);
	assert_int_equal(go(f, VA, MMU_READ), RD | ADDR(2));
	*entry(f, big, 2, TABLE) = frame | BLOCK | (1ull << 20);   /* below 2 MiB */
	assert_int_equal(go(f, big, MMU_READ), RD | ADDR(2));
}

/* ------------------------------------------------------------ write */

static void test_write_to_read_only_page_is_a_permission_fault(void **state)
{
	struct fx *f = *state;

	for (int ha = 0; ha <= 1; ha++) {
		f->mmu.hafdbs = ha;
		page(f, VA, PAGE | AP_RO, TABLE);           /* no DBM */
		assert_int_equal(go(f, VA, MMU_READ), 0);
		assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
		assert_int_equal(f->mmu.syndrome, 0x9600004Fu);
		assert_int_equal(*entry(f, VA, 3, TABLE) & (AP_RO | AF), AP_RO | AF);
		mmu_flush_all(&f->mmu);
	}
}

static void test_ap_table_forbids_writes_from_every_level(void **state)
{
	struct fx *f = *state;

	for (int level = 0; level <= 2; level++) {
		uint64_t *e;

		page(f, VA, PAGE | AP_RO | DBM, TABLE);     /* DBM does not override it */
		e = entry(f, VA, level, TABLE);
		*e |= AP_TABLE_RO;
		assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
		assert_true(*entry(f, VA, 3, TABLE) & AP_RO);
		assert_int_equal(go(f, VA, MMU_READ), 0);
		assert_int_equal(go(f, VA, MMU_EXEC), 0);
		*e &= ~AP_TABLE_RO;
		mmu_flush_all(&f->mmu);
		assert_int_equal(go(f, VA, MMU_WRITE), 0);
		mmu_flush_all(&f->mmu);
	}
}

static void test_ap_table_el0_bit_does_not_limit_el1(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE | AP_TABLE_EL0);
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(go(f, VA, MMU_EXEC), 0);
}

static void test_write_to_a_2m_read_only_block_faults_at_level_2(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull;

	*entry(f, va, 2, TABLE) = frame | BLOCK | AP_RO;
	assert_int_equal(go(f, va + 0x5000, MMU_READ), 0);
	assert_int_equal(go(f, va + 0x5000, MMU_WRITE), WR | PERM(2));   /* a hit */
	assert_int_equal(go(f, va + 0x5000, MMU_WRITE), WR | PERM(2));   /* a walk */
	assert_int_equal(f->mmu.walks, 2);
}

/* ------------------------------------------------------------ fetch */

static void test_pxn_forbids_fetch(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | PXN, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
	assert_int_equal(f->mmu.syndrome, 0x8600000Fu);
}

static void test_pxn_table_forbids_fetch_from_every_level(void **state)
{
	struct fx *f = *state;

	for (int level = 0; level <= 2; level++) {
		uint64_t *e;

		page(f, VA, PAGE, TABLE);
		e = entry(f, VA, level, TABLE);
		*e |= PXN_TABLE;
		assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
		assert_int_equal(go(f, VA, MMU_WRITE), 0);
		*e &= ~PXN_TABLE;
		mmu_flush_all(&f->mmu);
		assert_int_equal(go(f, VA, MMU_EXEC), 0);
		mmu_flush_all(&f->mmu);
	}
}

static void test_uxn_does_not_matter_at_el1(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | UXN, TABLE | UXN_TABLE);
	assert_int_equal(go(f, VA, MMU_EXEC), 0);
}

/* AP[2:1] = 01 (read-write at EL0 too) makes a page PXN for EL1; 00 and 11
 * do not, nor 01 when a table takes EL0's write or EL0's access away. */
static void test_page_writable_at_el0_is_not_executable_at_el1(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | AP_EL0, TABLE);
	assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	page(f, VA + 0x1000, PAGE | AP_EL0 | AP_RO, TABLE);
	assert_int_equal(go(f, VA + 0x1000, MMU_EXEC), 0);
	page(f, VA + 0x2000, PAGE, TABLE);
	assert_int_equal(go(f, VA + 0x2000, MMU_EXEC), 0);
	*entry(f, VA, 2, TABLE) |= AP_TABLE_RO;
	mmu_flush_all(&f->mmu);
	assert_int_equal(go(f, VA, MMU_EXEC), 0);
	*entry(f, VA, 2, TABLE) ^= AP_TABLE_RO | AP_TABLE_EL0;
	mmu_flush_all(&f->mmu);
	assert_int_equal(go(f, VA, MMU_EXEC), 0);
}

static void test_fetch_from_device_memory_faults(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | ATTR(2), TABLE);            /* device-nGnRnE */
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
	page(f, VA + 0x1000, PAGE | ATTR(1), TABLE);   /* normal non-cacheable */
	assert_int_equal(go(f, VA + 0x1000, MMU_EXEC), 0);
}

/* ------------------------------------------------------------ memory type */

static void test_attr_index_decides_cached(void **state)
{
	struct fx *f = *state;
	const bool cached[8] = { true, false, false, false, false, false, false, false };

	for (unsigned i = 0; i < 8; i++) {
		page(f, VA + i * 0x1000, PAGE | ATTR(i), TABLE);
		f->mmu.last_cached = !cached[i];
		assert_int_equal(go(f, VA + i * 0x1000, MMU_READ), 0);
		assert_int_equal(f->mmu.last_cached, cached[i]);
		f->mmu.last_cached = !cached[i];
		assert_int_equal(go(f, VA + i * 0x1000, MMU_READ), 0);   /* a hit */
		assert_int_equal(f->mmu.last_cached, cached[i]);
	}
}

/* ------------------------------------------------------------ access flag */

static void test_hafdbs_sets_the_access_flag_in_the_leaf_only(void **state)
{
	struct fx *f = *state;

	page(f, VA, (PAGE & ~AF) | AP_RO | DBM, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_true(*entry(f, VA, 3, TABLE) & AF);
	assert_true(*entry(f, VA, 3, TABLE) & AP_RO);  /* a read leaves it clean */
	for (int level = 0; level <= 2; level++)
		assert_int_equal(*entry(f, VA, level, TABLE) & ~0x0000FFFFFFFFF000ull, TABLE);
}

static void test_access_flag_clear_without_hafdbs_faults(void **state)
{
	struct fx *f = *state;

	f->mmu.hafdbs = false;
	page(f, VA, PAGE & ~AF, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), RD | FLAG(3));
	assert_int_equal(go(f, VA, MMU_WRITE), WR | FLAG(3));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | FLAG(3));
	assert_int_equal(f->mmu.syndrome, 0x8600000Bu);
	assert_false(*entry(f, VA, 3, TABLE) & AF);
	*entry(f, VA, 3, TABLE) |= AF;                 /* what the fault path does */
	assert_int_equal(go(f, VA, MMU_READ), 0);      /* no flush: nothing was cached */
}

static void test_access_flag_fault_comes_before_permission_fault(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull;

	f->mmu.hafdbs = false;
	page(f, VA, (PAGE & ~AF) | AP_RO | PXN, TABLE);
	assert_int_equal(go(f, VA, MMU_WRITE), WR | FLAG(3));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | FLAG(3));
	*entry(f, va, 2, TABLE) = frame | (BLOCK & ~AF) | AP_RO;
	assert_int_equal(go(f, va, MMU_WRITE), WR | FLAG(2));
}

static void test_a_faulting_access_sets_no_access_flag(void **state)
{
	struct fx *f = *state;

	page(f, VA, (PAGE & ~AF) | AP_RO | PXN, TABLE);
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
	assert_false(*entry(f, VA, 3, TABLE) & AF);
}

/* ------------------------------------------------------------ dirty state */

static void test_hafdbs_write_to_writable_clean_page_clears_ap2(void **state)
{
	struct fx *f = *state;
	uint64_t leaf = (PAGE & ~AF) | AP_RO | DBM;

	page(f, VA, leaf, TABLE);
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(*entry(f, VA, 3, TABLE) & ~0x0000FFFFFFFFF000ull, (leaf | AF) & ~AP_RO);
}

static void test_write_to_writable_clean_page_without_hafdbs_faults(void **state)
{
	struct fx *f = *state;
	uint64_t leaf = PAGE | AP_RO | DBM;

	f->mmu.hafdbs = false;
	page(f, VA, leaf, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));   /* a hit */
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));   /* a walk */
	assert_int_equal(*entry(f, VA, 3, TABLE) & ~0x0000FFFFFFFFF000ull, leaf);
	*entry(f, VA, 3, TABLE) &= ~AP_RO;            /* what the fault path does */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
}

static void test_write_hitting_a_read_translation_clears_ap2(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull;

	page(f, VA, PAGE | AP_RO | DBM, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_true(*entry(f, VA, 3, TABLE) & AP_RO);  /* a read leaves it clean */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(f->mmu.walks, 1);
	assert_false(*entry(f, VA, 3, TABLE) & AP_RO);
	*entry(f, va, 2, TABLE) = frame | BLOCK | AP_RO | DBM;
	assert_int_equal(go(f, va + 0x3000, MMU_READ), 0);
	assert_int_equal(go(f, va + 0x43000, MMU_WRITE), 0);   /* the same TLB slot */
	assert_int_equal(f->mmu.walks, 2);
	assert_false(*entry(f, va, 2, TABLE) & AP_RO);
}

/* The leaf changed since the read's walk, without a flush: the write walks
 * again and the walk decides. */
static void test_write_hit_on_a_changed_leaf_walks_again(void **state)
{
	struct fx *f = *state;
	uint64_t *e;

	page(f, VA, PAGE | AP_RO | DBM, TABLE);
	e = entry(f, VA, 3, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*e &= ~DBM;                                    /* made read-only */
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
	assert_int_equal(f->mmu.walks, 2);
	*e |= DBM;
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*e &= ~V;                                      /* unmapped */
	assert_int_equal(go(f, VA, MMU_WRITE), WR | TRAN(3));
	*e |= V;
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*e &= ~AF;                                     /* aged: the walk sets AF */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(*e & (AF | AP_RO), AF);
	assert_int_equal(f->mmu.walks, 6);
	*e |= AP_RO;                                   /* clean again */
	mmu_flush_page(&f->mmu, VA);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*e &= ~TYPE;                                   /* a block type at level 3 */
	assert_int_equal(go(f, VA, MMU_WRITE), WR | TRAN(3));
	assert_int_equal(f->mmu.walks, 8);
}

/* A hit only dirties a page while the MMU manages dirty state; otherwise
 * the walk decides. */
static void test_write_hit_clears_ap2_only_with_hafdbs(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | AP_RO | DBM, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	f->mmu.hafdbs = false;
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
	assert_true(*entry(f, VA, 3, TABLE) & AP_RO);
}

/* ------------------------------------------------------------ the entry */

static void test_tlb_entry_holds_the_leaf_rights(void **state)
{
	struct fx *f = *state;
	struct mmu_tlb_entry t;
	struct mmu_path p;

	page(f, VA, PAGE | AP_RO | DBM | ATTR(1), TABLE);
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_READ, &t, &p), 0);
	assert_true(t.valid && t.rw && t.us);
	assert_false(t.dirty || t.nx || t.cached);
	assert_int_equal(t.shift, 12);
	assert_int_equal(t.leaf, p.ea[3]);
	assert_int_equal(p.n, 4);
	f->mmu.hafdbs = false;
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_READ, &t, &p), 0);
	assert_false(t.rw);
	page(f, VA, PAGE | PXN, TABLE);
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_READ, &t, &p), 0);
	assert_true(t.rw && t.dirty && t.nx && t.cached);
}

static void test_record_fails_if_an_entry_changed_since_the_walk(void **state)
{
	struct fx *f = *state;
	struct mmu_tlb_entry t;
	struct mmu_path p;
	uint64_t *leaf, *top;

	page(f, VA, (PAGE & ~AF) | AP_RO | DBM, TABLE);
	leaf = entry(f, VA, 3, TABLE);
	top = entry(f, VA, 0, TABLE);
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_WRITE, &t, &p), 0);
	*leaf |= PXN;
	assert_false(mmu_record(&f->mmu, &p, MMU_WRITE));
	assert_true(*leaf & AP_RO);
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_WRITE, &t, &p), 0);
	*top |= PXN_TABLE;
	assert_false(mmu_record(&f->mmu, &p, MMU_WRITE));
	assert_int_equal(*leaf & (AF | AP_RO), AP_RO);
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_WRITE, &t, &p), 0);
	assert_true(mmu_record(&f->mmu, &p, MMU_WRITE));
	assert_int_equal(*leaf & (AF | AP_RO), AF);
	/* Nothing to write, and still it notices. */
	assert_int_equal(mmu_walk(&f->mmu, VA, MMU_READ, &t, &p), 0);
	*leaf |= UXN;
	assert_false(mmu_record(&f->mmu, &p, MMU_READ));
}

/* ------------------------------------------------------------ TLB */

static void test_stale_entry_is_used_until_flush_page(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*entry(f, VA, 3, TABLE) = 0;                   /* unmapped, not flushed */
	assert_int_equal(go(f, VA, MMU_READ), 0);      /* the stale hit */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(go(f, VA + 0x1000, MMU_READ), RD | TRAN(3));
	f->ram->plat.tlb_flush_page(f->ram->plat.ctx, VA + 0x800);
	assert_int_equal(go(f, VA, MMU_READ), RD | TRAN(3));
}

static void test_stale_rights_are_used_until_flush_page(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE);
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	*entry(f, VA, 3, TABLE) |= AP_RO | PXN;       /* rights taken away, not flushed */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);
	assert_int_equal(go(f, VA, MMU_EXEC), 0);
	mmu_flush_page(&f->mmu, VA);
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));
	assert_int_equal(go(f, VA, MMU_EXEC), EX | PERM(3));
}

static void test_flush_all_drops_every_entry(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE);
	page(f, VA + 0x1000, PAGE, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_int_equal(go(f, VA + 0x1000, MMU_READ), 0);
	*entry(f, VA, 3, TABLE) = 0;
	*entry(f, VA + 0x1000, 3, TABLE) = 0;
	f->ram->plat.tlb_shootdown(f->ram->plat.ctx, 0, 0);
	assert_int_equal(go(f, VA, MMU_READ), RD | TRAN(3));
	assert_int_equal(go(f, VA + 0x1000, MMU_READ), RD | TRAN(3));
}

static void test_fault_drops_the_stale_entry(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE | AP_RO, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	*entry(f, VA, 3, TABLE) &= ~AP_RO;             /* upgraded, not flushed */
	assert_int_equal(go(f, VA, MMU_WRITE), WR | PERM(3));   /* spurious */
	assert_int_equal(go(f, VA, MMU_WRITE), 0);              /* walked again */
}

static void test_flush_page_drops_a_block_entry_from_any_address_in_it(void **state)
{
	struct fx *f = *state;
	uint64_t frame = frame_alloc(&f->fr, 9, 0), va = 0x40000000ull;

	*entry(f, va, 2, TABLE) = frame | BLOCK;
	assert_int_equal(go(f, va + 0x5000, MMU_READ), 0);
	*entry(f, va, 2, TABLE) = 0;
	assert_int_equal(go(f, va + 0x5000, MMU_READ), 0);      /* stale */
	mmu_flush_page(&f->mmu, va + 1 * MiB);
	assert_int_equal(go(f, va + 0x5000, MMU_READ), RD | TRAN(2));
}

static void test_hits_come_from_the_tlb(void **state)
{
	struct fx *f = *state;

	page(f, VA, PAGE, TABLE);
	assert_int_equal(go(f, VA, MMU_READ), 0);
	assert_int_equal(go(f, VA + 8, MMU_WRITE), 0);
	assert_int_equal(go(f, VA + 16, MMU_EXEC), 0);
	assert_int_equal(f->mmu.hits, 2);
	assert_int_equal(f->mmu.walks, 1);
}

/* ------------------------------------------------------------ copies */

static void test_copies_cross_pages_and_stop_at_the_first_fault(void **state)
{
	struct fx *f = *state;
	char out[16] = { 0 };
	uint64_t a = page(f, VA, PAGE, TABLE);

	page(f, VA + 0x1000, PAGE | AP_RO | DBM, TABLE);
	assert_int_equal(mmu_write(&f->mmu, VA + 0xFF8, "hello, world!!!", 16), 0);
	assert_memory_equal((char *)ram_ptr(f->ram, a) + 0xFF8, "hello, w", 8);
	assert_int_equal(mmu_read(&f->mmu, VA + 0xFF8, out, 16), 0);
	assert_string_equal(out, "hello, world!!!");
	assert_int_equal(mmu_read(&f->mmu, VA + 0x1FF8, out, 16), RD | TRAN(3));
	assert_int_equal(f->mmu.fault_va, VA + 0x2000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_esr_encodes_class_length_write_and_status),
		T(test_invalid_descriptor_faults_at_its_level),
		T(test_page_translates_with_its_offset),
		T(test_address_outside_ttbr0_is_a_level_0_translation_fault),
		T(test_block_descriptor_at_level_0_is_a_translation_fault),
		T(test_block_type_at_level_3_is_a_translation_fault),
		T(test_2m_block_translates_through_level_2),
		T(test_1g_block_translates_through_level_1),
		T(test_output_address_above_the_pa_size_is_an_address_size_fault),
		T(test_table_address_above_the_pa_size_faults_at_its_level),
		T(test_root_above_the_pa_size_is_a_level_0_address_size_fault),
		T(test_res0_address_bits_are_address_size_faults),
		T(test_write_to_read_only_page_is_a_permission_fault),
		T(test_ap_table_forbids_writes_from_every_level),
		T(test_ap_table_el0_bit_does_not_limit_el1),
		T(test_write_to_a_2m_read_only_block_faults_at_level_2),
		T(test_pxn_forbids_fetch),
		T(test_pxn_table_forbids_fetch_from_every_level),
		T(test_uxn_does_not_matter_at_el1),
		T(test_page_writable_at_el0_is_not_executable_at_el1),
		T(test_fetch_from_device_memory_faults),
		T(test_attr_index_decides_cached),
		T(test_hafdbs_sets_the_access_flag_in_the_leaf_only),
		T(test_access_flag_clear_without_hafdbs_faults),
		T(test_access_flag_fault_comes_before_permission_fault),
		T(test_a_faulting_access_sets_no_access_flag),
		T(test_hafdbs_write_to_writable_clean_page_clears_ap2),
		T(test_write_to_writable_clean_page_without_hafdbs_faults),
		T(test_write_hitting_a_read_translation_clears_ap2),
		T(test_write_hit_on_a_changed_leaf_walks_again),
		T(test_write_hit_clears_ap2_only_with_hafdbs),
		T(test_tlb_entry_holds_the_leaf_rights),
		T(test_record_fails_if_an_entry_changed_since_the_walk),
		T(test_stale_entry_is_used_until_flush_page),
		T(test_stale_rights_are_used_until_flush_page),
		T(test_flush_all_drops_every_entry),
		T(test_fault_drops_the_stale_entry),
		T(test_flush_page_drops_a_block_entry_from_any_address_in_it),
		T(test_hits_come_from_the_tlb),
		T(test_copies_cross_pages_and_stop_at_the_first_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
