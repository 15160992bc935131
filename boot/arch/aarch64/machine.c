/*
 * The AArch64 side of the loader: the generic timer, leaving QEMU through
 * semihosting, and the switch to the kernel's tables.
 *
 * The firmware runs at EL1 with the MMU on: its identity map in TTBR0, and
 * TTBR1 walks disabled (TCR_EL1.EPD1).  The loader never turns the MMU off:
 * the switch runs in the firmware's identity map, so TTBR0 and TCR_EL1's
 * TTBR0 fields stay as they are, and only the upper half is added: MAIR_EL1
 * gets the kernel's attributes, TCR_EL1 the TTBR1 fields (48-bit VA, 4 KiB
 * granule, write-back inner-shareable walks), TTBR1_EL1 the kernel's root;
 * then the TLB is invalidated and the loader branches to the kernel, whose
 * first act is to turn TTBR0 walks off (TCR_EL1.EPD0) until hostmem's table
 * goes there.  The firmware maps its normal memory through MAIR index 3,
 * which stays write-back in the kernel's MAIR (checked), so the code doing
 * the switch keeps its memory type; the firmware's device mappings (index 0)
 * turn write-back for those few instructions, none of which touch them.
 * The tables were written through the write-back cache and the walks are
 * write-back inner-shareable too: no cache maintenance is needed, only
 * DSB ISHST before the TLBI so the walker sees them.
 *
 * Machine state at the kernel's entry point:
 *
 *   EL1, MMU and caches on, DAIF all masked
 *   TTBR1 = bootinfo.pml4_phys (tables described in paging.c)
 *   TTBR0 = the firmware's identity map, still enabled: the kernel disables it
 *   MAIR  = 0: normal WB, 1: normal non-cacheable, 2: device-nGnRnE, 3: normal WB
 *   x0    = DIRECT_MAP_BASE + physical address of struct bootinfo
 *   PC    = ELF entry;  SP still in firmware memory: the kernel loads its own
 */
#include "boot/services.h"
#include "machine.h"

#define SYS_EXIT                 0x18
#define ADP_STOPPED_APP_EXIT     0x20026
#define EXIT_LOADER_STATUS       39       /* (0x13 << 1) | 1, as on x86-64 */

uint64_t machine_ticks(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

/* The generic timer states its own rate. */
uint64_t machine_ticks_hz(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* Other CPUs start through PSCI at any address: nothing to keep low. */
void machine_reserve(struct loader *ld)
{
	uint64_t el;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	if (((el >> 2) & 3) != 1)
		loader_fail("machine", "the firmware does not run at EL1");
}

/* Semihosting SYS_EXIT: QEMU (with -semihosting-config enable=on) exits
 * with the subcode as its status. */
void machine_exit_fail(void)
{
	static volatile uint64_t block[2] = { ADP_STOPPED_APP_EXIT, EXIT_LOADER_STATUS };
	register uint64_t op __asm__("x0") = SYS_EXIT;
	register uint64_t arg __asm__("x1") = (uint64_t)(uintptr_t)block;

	__asm__ volatile("hlt #0xf000" :: "r"(op), "r"(arg) : "memory");
	for (;;)
		__asm__ volatile("wfi");
}

/* TCR_EL1 with the TTBR1 half configured; TTBR0's fields stay the firmware's. */
static uint64_t tcr_with_ttbr1(uint64_t tcr)
{
	tcr &= ~(TCR_T1SZ_MASK | TCR_A1 | TCR_EPD1 | TCR_IRGN1_MASK | TCR_ORGN1_MASK |
	         TCR_SH1_MASK | TCR_TG1_MASK);
	return tcr | TCR_T1SZ_48BIT | TCR_IRGN1_WBWA | TCR_ORGN1_WBWA | TCR_SH1_INNER |
	       TCR_TG1_4K;
}

void handover_jump(struct loader *ld)
{
	uint64_t mair, tcr;
	register uint64_t x0 __asm__("x0") = DIRECT_MAP_BASE + (uintptr_t)ld->bi;

	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	__asm__ volatile("mrs %0, mair_el1; mrs %1, tcr_el1" : "=r"(mair), "=r"(tcr));
	if (((mair >> 24) & 0xFF) != MAIR_NORMAL_WB)
		loader_fail("handover", "the firmware's MAIR index 3 is not normal write-back");
	__asm__ volatile(
		"msr mair_el1, %0\n\t"
		"msr tcr_el1, %1\n\t"
		"msr ttbr1_el1, %2\n\t"
		"isb\n\t"
		"dsb ishst\n\t"
		"tlbi vmalle1\n\t"
		"dsb ish\n\t"
		"isb\n\t"
		"mov x29, xzr\n\t"
		"mov x30, xzr\n\t"
		"br %3"
		:: "r"(KERNEL_MAIR), "r"(tcr_with_ttbr1(tcr)), "r"(ld->pml4), "r"(ld->plan.entry),
		   "r"(x0)
		: "memory");
	__builtin_unreachable();
}
