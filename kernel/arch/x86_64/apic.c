/*
 * The local APIC and the MADT.  Registers are 32 bits at 16-byte strides;
 * an IPI is the high half of the ICR (destination) then the low half (what
 * to send), after which the delivery-status bit says when the APIC took it.
 */
#include "apic.h"
#include "kernel/deadline.h"
#include "kernel/boot.h"
#include "cpu.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/acpi.h"

#define APIC_PHYS    0xFEE00000ull
#define REG_ID       0x020
#define REG_EOI      0x0B0
#define REG_SVR      0x0F0
#define REG_ICR_LO   0x300
#define REG_ICR_HI   0x310
#define ICR_PENDING  (1u << 12)
#define ICR_INIT     0x00004500u   /* INIT, level assert */
#define ICR_STARTUP  0x00004600u
#define ICR_OTHERS   0x000C0000u   /* shorthand: all excluding self */
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_NOW  0x390
#define REG_TIMER_DIV  0x3E0
#define TIMER_MASKED  (1u << 16)
#define TIMER_DIV_1   0xB

static volatile uint32_t *apic;

/* A PD for the 1 GiB holding the APIC, when the direct map has none there. */
static uint64_t apic_pd[512] __attribute__((aligned(4096)));

static uint64_t kernel_virt_to_phys(const void *p)
{
	return boot_info->kernel_phys_start + ((uint64_t)p - KERNEL_VMA);
}

/* The 2 MiB holding the APIC, at DIRECT_MAP_BASE + its address, uncached
 * (PCD|PWT), not executable. */
void apic_init(void)
{
	uint64_t va = DIRECT_MAP_BASE + APIC_PHYS;
	uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xFFFull), *pdpt, *pd;
	uint64_t e = pml4[(va >> 39) & 511];

	if (!(e & 1))
		panic("apic: the direct map's PML4 entry is missing");
	pdpt = phys_to_virt(e & 0x000FFFFFFFFFF000ull);
	if (!(pdpt[(va >> 30) & 511] & 1))
		pdpt[(va >> 30) & 511] = kernel_virt_to_phys(apic_pd) | 0x3;
	pd = phys_to_virt(pdpt[(va >> 30) & 511] & 0x000FFFFFFFFFF000ull);
	pd[(va >> 21) & 511] = (APIC_PHYS & ~0x1FFFFFull) | 0x9B | (1ull << 63); /* P RW PWT PCD PS */
	invlpg(va);
	apic = (volatile uint32_t *)va;
}

static uint32_t rd(uint32_t reg) { return apic[reg / 4]; }
static void wr(uint32_t reg, uint32_t v) { apic[reg / 4] = v; }

static uint32_t timer_per_ms;   /* APIC timer ticks per ms, the same on every CPU */

void apic_enable(void)
{
	wr(REG_SVR, 0x100 | APIC_SPURIOUS);
	wr(REG_TIMER_DIV, TIMER_DIV_1);
}
uint32_t apic_id(void) { return rd(REG_ID) >> 24; }
void apic_eoi(void) { wr(REG_EOI, 0); }

static void icr(uint32_t hi, uint32_t lo)
{
	uint64_t deadline = deadline_in(1000);

	wr(REG_ICR_HI, hi);
	wr(REG_ICR_LO, lo);
	while (rd(REG_ICR_LO) & ICR_PENDING) {
		__asm__ volatile("pause");
		deadline_check(deadline, "apic: an IPI was not delivered within 1 s");
	}
}

void apic_send_all_others(uint8_t vector) { icr(0, ICR_OTHERS | vector); }
void apic_send(uint32_t id, uint8_t vector) { icr(id << 24, vector); }

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + boot_info->tsc_hz / 1000000 * us;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* The timer's rate, against the TSC: count down from the top for 1 ms. */
void apic_timer_calibrate(void)
{
	wr(REG_LVT_TIMER, TIMER_MASKED | IPI_WAKE);
	wr(REG_TIMER_INIT, 0xFFFFFFFFu);
	delay_us(1000);
	timer_per_ms = 0xFFFFFFFFu - rd(REG_TIMER_NOW);
	wr(REG_TIMER_INIT, 0);
	if (timer_per_ms == 0)
		panic("apic: the timer did not count");
}

void apic_timer_once(unsigned ms)
{
	uint64_t ticks = (uint64_t)timer_per_ms * ms;

	wr(REG_LVT_TIMER, IPI_WAKE);             /* one-shot, unmasked */
	wr(REG_TIMER_INIT, ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks);
}

bool apic_timer_expired(void) { return rd(REG_TIMER_NOW) == 0; }

/* The universal start-up algorithm: INIT, 10 ms, STARTUP, 200 us, STARTUP. */
void apic_start_cpu(uint32_t id, uint8_t page)
{
	icr(id << 24, ICR_INIT);
	delay_us(10000);
	icr(id << 24, ICR_STARTUP | page);
	delay_us(200);
	icr(id << 24, ICR_STARTUP | page);
}

/* ------------------------------------------------------------ ACPI */

unsigned acpi_cpu_ids(uint32_t *ids, unsigned max)
{
	uint32_t len;
	const uint8_t *madt = acpi_table("APIC", &len), *p, *end;
	unsigned n = 0;

	if (!madt)
		return 0;
	p = madt + ACPI_HEADER_SIZE + 8;   /* APIC address, flags */
	end = madt + len;
	for (; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		/* Type 0: processor local APIC; flags bit 0 enabled, bit 1 online-capable. */
		if (p[0] == 0 && p[1] >= 8 && (*(const uint32_t *)(p + 4) & 3) && n < max)
			ids[n++] = p[3];
	}
	return n;
}
