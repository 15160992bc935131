/*
 * The kernel's own GDT and TSS.  Long mode ignores segment bases and limits,
 * so the GDT only has to name a 64-bit code segment, a data segment and the
 * TSS.  The TSS matters for its interrupt stack table: a double fault, NMI or
 * machine check switches to a stack of its own, so a kernel stack overflow
 * (a #PF that cannot push its frame) still gets reported.
 */
#include <stdint.h>
#include "trap.h"

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

static uint8_t ist_stacks[3][16384] __attribute__((aligned(16)));
static struct tss tss;
static uint64_t gdt[5];

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

void gdt_init(void)
{
	struct descriptor_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };

	for (int i = 0; i < 3; i++)
		tss.ist[i] = (uint64_t)(ist_stacks[i] + sizeof(ist_stacks[i]));
	tss.iomap_base = sizeof(tss);
	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFull;   /* code: present, ring 0, long mode */
	gdt[2] = 0x00CF92000000FFFFull;   /* data: present, writable */
	tss_descriptor(&gdt[3], (uint64_t)&tss, sizeof(tss) - 1);

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
