/*
 * Each CPU's own GDT and TSS (in its per-CPU block).  Long mode ignores segment bases and limits,
 * so the GDT only has to name a 64-bit code segment, a data segment and the
 * TSS.  The TSS matters for its interrupt stack table: a double fault, NMI or
 * machine check switches to a stack of its own, so a kernel stack overflow
 * (a #PF that cannot push its frame) still gets reported.
 */
#include <stdint.h>
#include "trap.h"
#include "percpu.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS   0x18

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

static uint8_t ist_stacks[MAX_CPUS][3][16384] __attribute__((aligned(16)));
_Static_assert(sizeof(struct tss) <= sizeof(((struct cpu *)0)->tss), "struct cpu holds a TSS");

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	slot[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
	          ((uint64_t)(limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
	slot[1] = base >> 32;
}

void gdt_load(struct cpu *c)
{
	struct tss *tss = (struct tss *)c->tss;
	uint64_t *gdt = c->gdt;
	struct descriptor_ptr p = { sizeof(c->gdt) - 1, (uint64_t)gdt };

	for (int i = 0; i < 3; i++)
		tss->ist[i] = (uint64_t)(ist_stacks[c->id][i] + sizeof(ist_stacks[c->id][i]));
	tss->iomap_base = sizeof(*tss);
	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFull;   /* code: present, ring 0, long mode */
	gdt[2] = 0x00CF92000000FFFFull;   /* data: present, writable */
	tss_descriptor(&gdt[3], (uint64_t)tss, sizeof(*tss) - 1);

	__asm__ volatile(
		"lgdt %0\n\t"
		"movw %1, %%ax\n\t"
		"movw %%ax, %%ds\n\t movw %%ax, %%es\n\t movw %%ax, %%ss\n\t"
		"movw %%ax, %%fs\n\t movw %%ax, %%gs\n\t"
		"pushq %2\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %3, %%ax\n\t"
		"ltr %%ax"
		:: "m"(p), "i"(SEL_KDATA), "i"(SEL_KCODE), "i"(SEL_TSS) : "rax", "memory");
}
