/* Self tests of the AArch64 CPU set-up the kernel relies on (cpu.c). */
#include "kernel/ktest.h"

static uint64_t sctlr(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, sctlr_el1" : "=r"(v));
	return v;
}

static uint64_t tcr(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, tcr_el1" : "=r"(v));
	return v;
}

/* MMU on, writable pages may be executable (PAGE_EXECUTE_READWRITE is the
 * caller's choice), no alignment checks on normal memory. */
KTEST(cpu_runs_with_the_mmu_on_and_wxn_off)
{
	KASSERT(sctlr() & 1);                    /* M */
	KASSERT_EQ(sctlr() & (1ull << 19), 0);   /* WXN */
	KASSERT_EQ(sctlr() & (1ull << 1), 0);    /* A */
}

/* Both halves: 48-bit, 4 KiB granule, both walks enabled. */
KTEST(both_halves_are_48_bit_with_4k_pages)
{
	uint64_t r = tcr();

	KASSERT_EQ(r & 0x3F, 16);                /* T0SZ */
	KASSERT_EQ((r >> 16) & 0x3F, 16);        /* T1SZ */
	KASSERT_EQ((r >> 14) & 3, 0);            /* TG0: 4 KiB */
	KASSERT_EQ((r >> 30) & 3, 2);            /* TG1: 4 KiB */
	KASSERT_EQ(r & (1ull << 7), 0);          /* EPD0 */
	KASSERT_EQ(r & (1ull << 23), 0);         /* EPD1 */
}

/* MAIR: 0 write-back, 1 non-cacheable, 2 device-nGnRnE (hostmem's AttrIndx). */
KTEST(mair_holds_the_three_memory_types)
{
	uint64_t mair;

	__asm__ volatile("mrs %0, mair_el1" : "=r"(mair));
	KASSERT_EQ(mair & 0xFFFFFF, 0x0044FF);
}

/* TCR_EL1.HA and HD follow ID_AA64MMFR1_EL1.HAFDBS: the MMU keeps the
 * Access flag and dirty state itself where it can (-cpu max), and the fault
 * path does where it cannot (-cpu cortex-a72).  make test boots both. */
KTEST(hardware_access_and_dirty_state_follow_the_cpu)
{
	uint64_t mmfr1, hafdbs, r = tcr();

	__asm__ volatile("mrs %0, id_aa64mmfr1_el1" : "=r"(mmfr1));
	hafdbs = mmfr1 & 0xF;
	KASSERT_EQ((r >> 39) & 1, hafdbs >= 1);   /* HA */
	KASSERT_EQ((r >> 40) & 1, hafdbs >= 2);   /* HD */
}
