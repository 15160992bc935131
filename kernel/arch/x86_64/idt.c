/*
 * The IDT: the 32 CPU exception vectors go to the entries in vectors.S.  NMI,
 * double fault and machine check run on their own IST stacks (gdt.c); every
 * other exception stays on the current stack, which fault recovery relies on
 * (context.S jumps back on the same stack).
 */
#include <stdint.h>
#include "trap.h"
#include "portio.h"
#include "percpu.h"
#include "apic.h"

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

extern const uint64_t trap_entries[32];
extern char irq_com1[], trap_entry_240[], trap_entry_241[], trap_entry_242[], trap_entry_255[];
static struct gate idt[256];

static void set_gate(int vec, uint64_t handler, int ist)
{
	idt[vec] = (struct gate){
		.off_lo = handler & 0xFFFF, .sel = 0x08, .ist = (uint8_t)ist,
		.type = 0x8E,   /* present, ring 0, interrupt gate: IF stays clear */
		.off_mid = handler >> 16 & 0xFFFF, .off_hi = (uint32_t)(handler >> 32),
	};
}

/*
 * The legacy 8259 pair, remapped past the exception vectors (IRQ n ->
 * vector 0x20 + n) with every line masked but IRQ4, COM1's (on the boot
 * CPU).  The local APICs bring the IPIs (smp.c).
 */
static void pic_init(void)
{
	static const uint8_t init[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };

	for (int i = 0; i < 4; i++) {
		outb(0x20 + (i ? 1 : 0), init[0][i]);
		outb(0xA0 + (i ? 1 : 0), init[1][i]);
	}
	outb(0x21, (uint8_t)~0x10);   /* master: only IRQ4 */
	outb(0xA1, 0xFF);             /* slave: nothing */
}

void idt_init(void)
{
	for (int v = 0; v < 32; v++)
		set_gate(v, trap_entries[v], v == VEC_NMI ? 2 : v == VEC_DF ? 1 : v == VEC_MC ? 3 : 0);
	set_gate(0x24, (uint64_t)irq_com1, 0);
	set_gate(IPI_WAKE, (uint64_t)trap_entry_240, 0);
	set_gate(IPI_SHOOTDOWN, (uint64_t)trap_entry_241, 0);
	set_gate(IPI_BARRIER, (uint64_t)trap_entry_242, 0);
	set_gate(APIC_SPURIOUS, (uint64_t)trap_entry_255, 0);
	pic_init();
}

/* Each CPU loads a copy of its own (percpu.h). */
void idt_load(struct cpu *c)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) p = {
		sizeof(idt) - 1, (uint64_t)c->idt };
	const uint8_t *from = (const uint8_t *)idt;

	_Static_assert(sizeof(idt) == sizeof(c->idt), "struct cpu holds an IDT");
	for (unsigned i = 0; i < sizeof(idt); i++)
		c->idt[i] = from[i];
	__asm__ volatile("lidt %0" :: "m"(p));
}

const char *trap_name(uint64_t v)
{
	static const char *const names[32] = {
		"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
		"#BR bound range", "#UD invalid opcode", "#NM device not available",
		"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
		"#NP segment not present", "#SS stack fault", "#GP general protection",
		"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
		"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
	};
	return v < 32 && names[v] ? names[v] : "reserved";
}
