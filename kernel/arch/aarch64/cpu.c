/*
 * The AArch64 CPU's own set-up, and leaving QEMU.
 *
 * The lower half: the loader left the firmware's identity map in TTBR0 and
 * entry.S disabled its walks.  hostmem gets an empty level-0 table of its
 * own for TTBR0 (in the kernel image, so it is never a free frame) with
 * the same geometry as the upper half: 48-bit VA, 4 KiB granule, walks
 * write-back and inner shareable.  The switch goes: table in TTBR0, then
 * TCR_EL1 (T0SZ, granule, walk attributes, EPD0 = 0), ISB, then every
 * translation the TLB may still hold from the firmware's table goes
 * (TLBI VMALLE1, DSB, ISB).  Nothing was translated through TTBR0 while
 * it changed (EPD0 was set), so no stale entry can come back.
 *
 * Access flag and dirty state: where the CPU has FEAT_HAFDBS
 * (ID_AA64MMFR1_EL1.HAFDBS: 1 Access flag, 2 both), the MMU keeps them
 * (TCR_EL1.HA, HD); otherwise hostmem's fault path does (its pte_arch.h, which
 * also needs bits 59-62 of a page descriptor left to software: HWU0xx 0).
 */
#include "machine.h"
#include "cpu.h"
#include "trap.h"
#include "percpu.h"
#include "kernel/qemu.h"
#include "kernel/smp.h"
#include "kernel/panic.h"
#include "kernel/print.h"

#define TCR_T0SZ_MASK   0x3Full
#define TCR_T0SZ_48BIT  16ull
#define TCR_EPD0        (1ull << 7)
#define TCR_IRGN0_WBWA  (1ull << 8)
#define TCR_ORGN0_WBWA  (1ull << 10)
#define TCR_SH0_INNER   (3ull << 12)
#define TCR_TG0_4K      (0ull << 14)
#define TCR_TTBR0_MASK  0xFFFFull          /* T0SZ, EPD0, IRGN0, ORGN0, SH0, TG0 */
#define TCR_HA          (1ull << 39)       /* hardware Access flag */
#define TCR_HD          (1ull << 40)       /* hardware dirty state (DBM) */
#define TCR_HWU0_MASK   (0xFull << 43)     /* HWU059..HWU062: bits 59-62 stay software's */

#define SCTLR_A         (1ull << 1)        /* alignment checks */
#define SCTLR_WXN       (1ull << 19)       /* writable implies never executable */
#define SCTLR_SPAN      (1ull << 23)       /* 1: exceptions leave PSTATE.PAN alone */

#define SYS_EXIT                 0x18
#define ADP_STOPPED_APP_EXIT     0x20026

static uint64_t lower_root[512] __attribute__((aligned(4096)));

uint64_t virt_to_phys(const void *va)
{
	uint64_t par;

	__asm__ volatile("at s1e1r, %1; isb; mrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
	if (par & 1)
		panic("virt_to_phys: %p is not mapped", va);
	return (par & 0x0000FFFFFFFFF000ull) | ((uint64_t)va & 0xFFF);
}

void arch_init_boot_cpu(void)
{
	trap_init();
	smp_init_boot_cpu();
}

/* Privileged Access Never off, if the CPU has it: the kernel reaches the
 * lower half directly (tests, caller memory), whatever hostmem's AP bits. */
static void pan_off(void)
{
	uint64_t mmfr1;

	__asm__ volatile("mrs %0, id_aa64mmfr1_el1" : "=r"(mmfr1));
	if ((mmfr1 >> 20) & 0xF)
		__asm__ volatile("msr s3_0_c4_c2_3, xzr" ::: "memory");   /* PAN */
}

/* The generic timer's event stream: an event (which ends a WFE) each time
 * bit EVENT_BIT of the virtual count rises, every 2^16 ticks (about 1 ms
 * at QEMU's 62.5 MHz), so every WFE of the kernel is bounded. */
#define CNTKCTL_EVNTEN  (1ull << 2)
#define CNTKCTL_EVNTI   (0xFull << 4)
#define EVENT_BIT       15ull

/* Executable writable pages are a choice of the caller (PAGE_EXECUTE_
 * READWRITE), not forbidden; unaligned normal accesses are allowed. */
void cpu_setup(void)
{
	uint64_t sctlr, cntkctl;

	__asm__ volatile("mrs %0, sctlr_el1" : "=r"(sctlr));
	sctlr = (sctlr & ~(SCTLR_A | SCTLR_WXN)) | SCTLR_SPAN;
	__asm__ volatile("msr sctlr_el1, %0; isb" :: "r"(sctlr) : "memory");
	pan_off();
	__asm__ volatile("mrs %0, cntkctl_el1" : "=r"(cntkctl));
	cntkctl = (cntkctl & ~CNTKCTL_EVNTI) | CNTKCTL_EVNTEN | EVENT_BIT << 4;
	__asm__ volatile("msr cntkctl_el1, %0; isb" :: "r"(cntkctl) : "memory");
}

void cpu_lower_half_install(void)
{
	__asm__ volatile("msr ttbr0_el1, %0; isb" :: "r"(virt_to_phys(lower_root)) : "memory");
	arch_tlb_flush_all();
}

/* TCR_EL1.HA and HD as far as the CPU has them. */
static uint64_t tcr_hardware_flags(void)
{
	uint64_t mmfr1, hafdbs;

	__asm__ volatile("mrs %0, id_aa64mmfr1_el1" : "=r"(mmfr1));
	hafdbs = mmfr1 & 0xF;
	return (hafdbs >= 1 ? TCR_HA : 0) | (hafdbs >= 2 ? TCR_HD : 0);
}

void arch_init_memory(void)
{
	uint64_t tcr;

	cpu_setup();
	__asm__ volatile("mrs %0, tcr_el1" : "=r"(tcr));
	if (!(tcr & TCR_EPD0))
		panic("arch_init_memory: TTBR0 walks were not disabled at entry");
	__asm__ volatile("msr ttbr0_el1, %0; isb" :: "r"(virt_to_phys(lower_root)) : "memory");
	tcr = (tcr & ~(TCR_TTBR0_MASK | TCR_HA | TCR_HD | TCR_HWU0_MASK)) | TCR_T0SZ_48BIT |
	      TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K | tcr_hardware_flags();
	__asm__ volatile("msr tcr_el1, %0; isb" :: "r"(tcr) : "memory");
	arch_tlb_flush_all();
	kprintf("mmu: 48-bit, 4 KiB pages; Access flag and dirty state kept by %s\n",
	        tcr & TCR_HD ? "the MMU (FEAT_HAFDBS)" :
	        tcr & TCR_HA ? "the MMU (Access flag) and the fault path (dirty state)" :
	                       "the fault path (no FEAT_HAFDBS)");
}

/* Semihosting SYS_EXIT with the AArch64 parameter block: QEMU exits with
 * the subcode as its status, (code << 1) | 1 as on x86-64. */
void qemu_exit(unsigned code)
{
	static volatile uint64_t block[2] = { ADP_STOPPED_APP_EXIT, 0 };
	register uint64_t op __asm__("x0") = SYS_EXIT;
	register uint64_t arg __asm__("x1") = (uint64_t)block;

	block[1] = (code << 1) | 1;
	__asm__ volatile("hlt #0xf000" :: "r"(op), "r"(arg) : "memory");
	arch_halt_forever();
}
