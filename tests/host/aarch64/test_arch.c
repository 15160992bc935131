/*
 * hostmem/arch/aarch64/pte_arch.h: the VMSAv8-64 descriptor hostmem writes for
 * each protection, and what it reads back (dirty through DBM, what an
 * access records, which changes need a TLBI, the ESR).  The architectural
 * bits are spelled out again here on purpose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostmem/pte.h"

#define V       (1ull << 0)
#define T       (1ull << 1)      /* table / page; clear in a block */
#define ATTR(i) ((uint64_t)(i) << 2)
#define AP_RO   (1ull << 7)      /* AP[2] */
#define AP_EL0  (1ull << 6)      /* AP[1] */
#define ISH     (3ull << 8)
#define AF      (1ull << 10)
#define DBM     (1ull << 51)
#define PXN     (1ull << 53)
#define UXN     (1ull << 54)
#define FRAME   0x5000ull

static void test_descriptor_bits_follow_the_protection(void **state)
{
	const uint64_t page = V | T | ISH | UXN;

	assert_int_equal(pte_hw_bits(PAGE_NOACCESS), 0);
	assert_int_equal(pte_hw_bits(PAGE_EXECUTE_READ | PAGE_GUARD), 0);
	assert_true(pte_hw_bits(PAGE_READONLY) == (page | AP_RO | PXN));
	assert_true(pte_hw_bits(PAGE_READWRITE) == (page | AP_RO | DBM | PXN));   /* writable-clean */
	assert_true(pte_hw_bits(PAGE_EXECUTE) == (page | AP_RO));
	assert_true(pte_hw_bits(PAGE_EXECUTE_READ) == (page | AP_RO));
	assert_true(pte_hw_bits(PAGE_EXECUTE_READWRITE) == (page | AP_RO | DBM));
	assert_true(pte_hw_bits(PAGE_READONLY | PAGE_NOCACHE) == (page | AP_RO | PXN | ATTR(1)));
	assert_true(pte_hw_bits(PAGE_EXECUTE_READ | PAGE_NOCACHE) == (page | AP_RO | ATTR(1)));
	assert_true(pte_hw_bits(PAGE_READWRITE | PAGE_WRITECOMBINE) ==
	            (page | AP_RO | DBM | PXN | ATTR(1)));
	/* EL1 pages: never reachable from EL0, which would also make them PXN. */
	for (uint32_t p = PAGE_READONLY; p <= PAGE_EXECUTE_READWRITE; p <<= 1)
		assert_false(pte_hw_bits(p) & AP_EL0);
	/* The software bits sit where the MMU ignores them (55..62). */
	assert_true((PTE_COMMITTED | PTE_WRITTEN | PTE_DISCARDED | PTE_PROT_MASK) ==
	            (0xFFull << 55));
	assert_int_equal(pte_state(pte_make_committed(FRAME, PAGE_READONLY)), PTE_PRESENT);
	assert_int_equal(pte_state(pte_make_committed(FRAME, PAGE_NOACCESS)), PTE_PARKED);
	assert_int_equal(pte_state(V | T | FRAME), PTE_BAD);
}

/* Dirty is DBM with AP[2] clear; cleaning sets AP[2] again. */
static void test_dbm_is_the_write_record(void **state)
{
	uint64_t e = pte_make_committed(FRAME, PAGE_READWRITE), ro = pte_make_committed(FRAME, PAGE_READONLY);

	assert_false(pte_hw_dirty(e));
	assert_true(pte_hw_dirty(e & ~AP_RO));
	assert_true(pte_is_dirty(e & ~AP_RO));
	assert_int_equal(pte_marks(e & ~AP_RO), PTE_WRITTEN);
	assert_int_equal(pte_hw_clean((e & ~AP_RO) | AF), e | AF);
	assert_false(pte_hw_dirty(ro));                       /* read-only, no DBM */
	assert_int_equal(pte_hw_clean(ro), ro);
	assert_false(pte_hw_dirty((e & ~AP_RO & ~V)));        /* invalid: nothing recorded */
	assert_int_equal(pte_hw_clean(PTE_WRITTEN), PTE_WRITTEN);   /* a trace stays a trace */
}

/* What an access records: AF always, AP[2] cleared by a write to a
 * writable page only. */
static void test_an_access_records_af_and_a_write_dirt(void **state)
{
	uint64_t rw = pte_make_committed(FRAME, PAGE_READWRITE), ro = pte_make_committed(FRAME, PAGE_READONLY);

	assert_int_equal(pte_hw_touch(rw, HM_PF_P), rw | AF);
	assert_int_equal(pte_hw_touch(rw, HM_PF_P | HM_PF_W), (rw | AF) & ~AP_RO);
	assert_int_equal(pte_hw_touch(ro, HM_PF_P | HM_PF_W), ro | AF);
	assert_int_equal(pte_hw_touch(rw | AF, HM_PF_P | HM_PF_I), rw | AF);
}

/* Only what takes rights away or changes the mapping needs a TLBI: the MMU
 * of another CPU with the old, narrower entry faults and drops it itself. */
static void test_only_narrowing_changes_are_flushed(void **state)
{
	uint64_t e = pte_make_committed(FRAME, PAGE_READWRITE);

	assert_false(pte_needs_flush(e, e | AF));
	assert_false(pte_needs_flush(e, e & ~AP_RO));               /* a write recorded */
	assert_false(pte_needs_flush(e | AF, (e | AF) & ~AP_RO));
	assert_true(pte_needs_flush(e & ~AP_RO, e));                /* cleaned: must fault again */
	assert_true(pte_needs_flush(e | AF, e));
	assert_true(pte_needs_flush(e, pte_reprotect(e, PAGE_READONLY)));
	assert_true(pte_needs_flush(e, pte_make_demand_zero(PAGE_READWRITE)));
	assert_false(pte_needs_flush(e, e | PTE_WRITTEN));
	assert_false(pte_needs_flush(pte_make_demand_zero(PAGE_READWRITE), e));
	/* AP[2] cleared in a page without DBM is a new right: flushed. */
	assert_true(pte_needs_flush(pte_make_committed(FRAME, PAGE_READONLY),
	                            pte_make_committed(FRAME, PAGE_READONLY) & ~AP_RO));
}

static void test_tables_blocks_and_pages(void **state)
{
	uint64_t t = pte_make_table(0x123000), l = pte_make_large(0x200000, PAGE_READWRITE);
	uint64_t page = pte_make_committed(FRAME, PAGE_READWRITE);

	assert_int_equal(t, 0x123000 | V | T);
	assert_true(pte_is_table(t) && !pte_is_large(t));
	assert_true(pte_is_large(l) && !pte_is_table(l));
	assert_int_equal(l & (V | T), V);
	assert_int_equal(pte_frame(l), 0x200000);
	assert_false(pte_is_large(page));
	assert_true(PTE_WALKS_FLUSHED_BY_VA);
}

/* ESR_EL1: EC picks fetch or data, WnR the write, the status code whether
 * a translation existed (Access flag and permission faults: present). */
static void test_the_esr_says_what_happened(void **state)
{
	const uint32_t il = 1u << 25, wnr = 1u << 6;
	const uint32_t dabt = 0x25u << 26, iabt = 0x21u << 26, dabt_el0 = 0x24u << 26;

	assert_int_equal(pte_fault_access(dabt | il | 0x07), 0);                 /* translation L3 */
	assert_int_equal(pte_fault_access(dabt | il | wnr | 0x05), HM_PF_W);     /* translation L1 */
	assert_int_equal(pte_fault_access(dabt | il | wnr | 0x0F), HM_PF_P | HM_PF_W);
	assert_int_equal(pte_fault_access(dabt | il | 0x0B), HM_PF_P);           /* Access flag L3 */
	assert_int_equal(pte_fault_access(iabt | il | 0x0F), HM_PF_P | HM_PF_I); /* permission L3 */
	assert_int_equal(pte_fault_access(iabt | il | wnr | 0x07), HM_PF_I);     /* no WnR in IABT */
	assert_int_equal(pte_fault_access(dabt_el0 | il | wnr | 0x0E), HM_PF_P | HM_PF_W);
	/* What no page state explains is never resolved. */
	assert_int_equal(pte_fault_access(dabt | il | 0x00), HM_PF_BAD);         /* address size L0 */
	assert_int_equal(pte_fault_access(dabt | il | wnr | 0x21), HM_PF_W | HM_PF_BAD);  /* alignment */
	assert_int_equal(pte_fault_access(dabt | il | 0x10), HM_PF_BAD);         /* external abort */
	assert_int_equal(pte_fault_access((0x15u << 26) | il), HM_PF_BAD);       /* an SVC, not an abort */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_bits_follow_the_protection),
		cmocka_unit_test(test_dbm_is_the_write_record),
		cmocka_unit_test(test_an_access_records_af_and_a_write_dirt),
		cmocka_unit_test(test_only_narrowing_changes_are_flushed),
		cmocka_unit_test(test_tables_blocks_and_pages),
		cmocka_unit_test(test_the_esr_says_what_happened),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
