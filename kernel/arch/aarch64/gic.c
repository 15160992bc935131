/*
 * Sleeping and waking CPUs through the GICv2 (gic.h says what for).
 *
 * A sleep: arm the virtual timer (CNTV) for the bound, WFI, disarm it, and
 * acknowledge what is pending (IAR, then EOIR) so the next WFI waits
 * again.  A wake-up is SGI 0 to every other CPU.  No wake-up is lost: the
 * waker changes the word before it sends the SGI, and an SGI that arrives
 * after the sleeper's last look at the word is pending when it reaches
 * WFI, which then returns at once.  The timer keeps every sleep bounded, so
 * a waiter's deadline still holds.
 *
 * Registers (GICv2 architecture specification): the distributor's CTLR,
 * ISENABLER0 (SGIs and PPIs, banked per CPU), IPRIORITYR and SGIR; the CPU
 * interface's CTLR, PMR (priority mask), IAR and EOIR.
 */
#include <stdint.h>
#include "gic.h"
#include "kernel/acpi.h"
#include "kernel/boot.h"

#define GICD_BASE  0x08000000ull    /* what boot/arch/aarch64/paging.c maps */
#define GICC_BASE  0x08010000ull
#define MADT_GICC  0x0B
#define MADT_GICD  0x0C

enum { GICD_CTLR = 0x000, GICD_ISENABLER0 = 0x100, GICD_IPRIORITYR = 0x400, GICD_SGIR = 0xF00 };
enum { GICC_CTLR = 0x000, GICC_PMR = 0x004, GICC_IAR = 0x00C, GICC_EOIR = 0x010 };

#define SGI_WAKE      0
#define PPI_VTIMER    27            /* the virtual timer's interrupt */
#define PRIO          0x80
#define SPURIOUS      1023
#define CNTV_ENABLE   1ull

static bool present;

static volatile uint32_t *reg(uint64_t base, unsigned off)
{
	return (volatile uint32_t *)((uint8_t *)phys_to_virt(base) + off);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The MADT names a GICv2 (or an unversioned GIC) at the mapped addresses. */
static bool madt_agrees(void)
{
	uint32_t len;
	const uint8_t *madt = acpi_table("APIC", &len), *p, *end;
	bool gicd = false, gicc = false;

	if (!madt)
		return false;
	end = madt + len;
	for (p = madt + ACPI_HEADER_SIZE + 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] == MADT_GICD && p[1] >= 24)
			gicd = rd64(p + 8) == GICD_BASE && (p[20] == 0 || p[20] == 2);
		if (p[0] == MADT_GICC && p[1] >= 76 && (p[12] & 1))
			gicc = rd64(p + 32) == GICC_BASE;
	}
	return gicd && gicc;
}

bool gic_init(void)
{
	present = madt_agrees();
	if (present)
		*reg(GICD_BASE, GICD_CTLR) = 1;
	return present;
}

void gic_cpu_init(void)
{
	volatile uint8_t *prio = (volatile uint8_t *)reg(GICD_BASE, GICD_IPRIORITYR);

	if (!present)
		return;
	prio[SGI_WAKE] = PRIO;
	prio[PPI_VTIMER] = PRIO;
	*reg(GICD_BASE, GICD_ISENABLER0) = 1u << SGI_WAKE | 1u << PPI_VTIMER;
	*reg(GICC_BASE, GICC_PMR) = 0xF0;
	*reg(GICC_BASE, GICC_CTLR) = 1;
}

/* Acknowledge and end whatever is pending, until nothing is: at most the
 * two enabled interrupts, so a few rounds (a bound, not a wait). */
static void ack_all(void)
{
	uint32_t iar;

	for (int i = 0; i < 8; i++) {
		iar = *reg(GICC_BASE, GICC_IAR);
		if ((iar & 0x3FF) == SPURIOUS)
			return;
		*reg(GICC_BASE, GICC_EOIR) = iar;
	}
}

void gic_sleep(unsigned ms)
{
	uint64_t hz;

	if (!present) {
		__asm__ volatile("wfe" ::: "memory");   /* bounded by the event stream */
		return;
	}
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(hz));
	__asm__ volatile("msr cntv_tval_el0, %0; msr cntv_ctl_el0, %1; isb"
	                 :: "r"(hz / 1000 * ms), "r"(CNTV_ENABLE) : "memory");
	__asm__ volatile("dsb sy; wfi" ::: "memory");
	__asm__ volatile("msr cntv_ctl_el0, xzr; isb" ::: "memory");
	ack_all();
}

void gic_wake_others(void)
{
	if (!present)
		return;
	__asm__ volatile("dsb ish" ::: "memory");
	*reg(GICD_BASE, GICD_SGIR) = 1u << 24 | SGI_WAKE;   /* every CPU but this one */
}
