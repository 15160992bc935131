/*
 * hostmem/arch/x86_64/pte_arch.h: the x86-64 entry hostmem writes for each
 * protection, and what it reads back (dirty, touch, flush, the syndrome).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostmem/pte.h"

#define FRAME 0x5000ull

static void test_hardware_bits_follow_the_protection(void **state)
{
	assert_int_equal(pte_hw_bits(PAGE_NOACCESS), 0);
	assert_int_equal(pte_hw_bits(PAGE_READWRITE | PAGE_GUARD), 0);
	assert_true(pte_hw_bits(PAGE_READONLY) == (PTE_P | PTE_US | PTE_NX));
	assert_true(pte_hw_bits(PAGE_READWRITE) == (PTE_P | PTE_US | PTE_RW | PTE_NX));
	assert_true(pte_hw_bits(PAGE_EXECUTE) == (PTE_P | PTE_US));
	assert_true(pte_hw_bits(PAGE_EXECUTE_READ) == (PTE_P | PTE_US));
	assert_true(pte_hw_bits(PAGE_EXECUTE_READWRITE) == (PTE_P | PTE_US | PTE_RW));
	assert_true(pte_hw_bits(PAGE_READONLY | PAGE_NOCACHE) ==
	            (PTE_P | PTE_US | PTE_NX | PTE_PCD | PTE_PWT));
	assert_true(pte_hw_bits(PAGE_READWRITE | PAGE_WRITECOMBINE) ==
	            (PTE_P | PTE_US | PTE_RW | PTE_NX | PTE_PWT));
	/* A committed page with a frame is present exactly when the bits say so. */
	assert_int_equal(pte_state(pte_make_committed(FRAME, PAGE_READONLY)), PTE_PRESENT);
	assert_int_equal(pte_state(pte_make_committed(FRAME, PAGE_NOACCESS)), PTE_PARKED);
	assert_int_equal(pte_state(pte_make_committed(FRAME, PAGE_READWRITE | PAGE_GUARD)), PTE_PARKED);
	assert_int_equal(pte_state(0), PTE_NONE);
	assert_int_equal(pte_state(PTE_P | FRAME), PTE_BAD);
}

/* The CPU records writes in D; hostmem's touch adds nothing on x86. */
static void test_d_is_the_write_record(void **state)
{
	uint64_t e = pte_make_committed(FRAME, PAGE_READWRITE);

	assert_false(pte_hw_dirty(e));
	assert_true(pte_hw_dirty(e | PTE_D));
	assert_true(pte_is_dirty(e | PTE_D));
	assert_int_equal(pte_hw_clean(e | PTE_D | PTE_A), e | PTE_A);
	assert_int_equal(pte_marks(e | PTE_D), PTE_WRITTEN);
	assert_int_equal(pte_hw_touch(e, HM_PF_P | HM_PF_W), e);
}

/* A cleared D or a new right is flushed; the software marks are not. */
static void test_every_hardware_change_of_a_present_entry_is_flushed(void **state)
{
	uint64_t e = pte_make_committed(FRAME, PAGE_READWRITE);

	assert_true(pte_needs_flush(e | PTE_D, e));
	assert_true(pte_needs_flush(e, pte_reprotect(e, PAGE_READONLY)));
	assert_false(pte_needs_flush(e, e | PTE_WRITTEN | PTE_DISCARDED));
	assert_false(pte_needs_flush(pte_make_demand_zero(PAGE_READWRITE), e));
}

static void test_tables_and_large_pages(void **state)
{
	uint64_t t = pte_make_table(0x123000), l = pte_make_large(0x200000, PAGE_READWRITE);

	assert_int_equal(t, 0x123000 | PTE_P | PTE_RW | PTE_US);
	assert_true(pte_is_table(t) && !pte_is_large(t));
	assert_true(pte_is_large(l) && !pte_is_table(l));
	assert_int_equal(l & PTE_PS, PTE_PS);
	assert_int_equal(pte_frame(l), 0x200000);
	assert_false(pte_is_large(pte_make_committed(FRAME, PAGE_READWRITE)));
}

/* The #PF error code carries hostmem's bits in place. */
static void test_the_syndrome_is_the_error_code(void **state)
{
	assert_int_equal(pte_fault_access(0x02 | 0x04), HM_PF_W);          /* W|U, not present */
	assert_int_equal(pte_fault_access(0x01 | 0x02 | 0x04), HM_PF_P | HM_PF_W);
	assert_int_equal(pte_fault_access(0x10 | 0x04 | 0x01), HM_PF_P | HM_PF_I);
	assert_int_equal(pte_fault_access(0x08 | 0x01), HM_PF_P | HM_PF_BAD); /* RSVD */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hardware_bits_follow_the_protection),
		cmocka_unit_test(test_d_is_the_write_record),
		cmocka_unit_test(test_every_hardware_change_of_a_present_entry_is_flushed),
		cmocka_unit_test(test_tables_and_large_pages),
		cmocka_unit_test(test_the_syndrome_is_the_error_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
