/*
 * Self tests of the boot chain and the CPU set-up: what the loader handed
 * over, and that the protections the kernel relies on fault for real.
 */
#include "kernel/ktest.h"
#include "kernel/boot.h"
#include "machine.h"
#include "hostmem/hostmem.h"
#include <stddef.h>

void *memset(void *dst, int c, size_t n);   /* kernel/string.c */

extern char __text_start[], __rodata_start[];

KTEST(boot_info_is_versioned)
{
	KASSERT_EQ(boot_info->magic, BOOTINFO_MAGIC);
	KASSERT_EQ(boot_info->version, BOOTINFO_VERSION);
	KASSERT(boot_info->mmap_desc_size >= 40);
	KASSERT(boot_info->kernel_phys_start < boot_info->kernel_phys_end);
}

/* The runner boots with -m RAM_MB and passes ram=RAM_MB: the map must account
 * for nearly all of it (firmware keeps a little), and never more. */
KTEST(memory_map_matches_qemu_ram)
{
	uint64_t ram = cmdline_number("ram", 0) << 20, usable = 0;

	KASSERT(ram != 0);
	for (size_t i = 0; i < boot_nusable; i++) {
		KASSERT(boot_usable[i].base < boot_usable[i].end);
		KASSERT(i == 0 || boot_usable[i - 1].end < boot_usable[i].base);
		usable += boot_usable[i].end - boot_usable[i].base;
	}
	KASSERT(boot_mem.ram_pages * 4096 <= ram);
	KASSERT(boot_mem.ram_pages * 4096 >= ram - ram / 16);
	KASSERT(usable >= ram / 2);
	KASSERT(boot_usable[0].base >= 4096);
}

KTEST(direct_map_reaches_the_last_usable_page)
{
	const struct mem_range *last = &boot_usable[boot_nusable - 1];
	volatile uint64_t *p = phys_to_virt(last->end - 8);
	uint64_t old = *p;

	*p = 0x1234567890ABCDEFull;
	KASSERT_EQ(*p, 0x1234567890ABCDEFull);
	*p = old;
}

KTEST(write_to_kernel_text_faults)
{
	struct fault_info fi;
	uint8_t before = *(volatile uint8_t *)__text_start;

	KASSERT_EQ(try_write(__text_start, (uint8_t)~before, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(trap_fault_kind(fi.vector, fi.error), FAULT_WRITE);
	KASSERT(trap_fault_present(fi.vector, fi.error));
	KASSERT_EQ(fi.addr, (uint64_t)__text_start);
	KASSERT_EQ(*(volatile uint8_t *)__text_start, before);
}

KTEST(write_to_kernel_rodata_faults)
{
	KASSERT_EQ(try_write(__rodata_start, 0, 0), STATUS_ACCESS_VIOLATION);
}

/* A return instruction in writable data: calling it must fault on the
 * fetch, not run. */
static uint8_t data_code[16] __attribute__((aligned(4))) = ARCH_RET_BYTES;

KTEST(execute_from_data_faults)
{
	struct fault_info fi;

	KASSERT_EQ(try_exec(data_code, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(trap_fault_kind(fi.vector, fi.error), FAULT_EXEC);
	KASSERT(trap_fault_present(fi.vector, fi.error));
	KASSERT_EQ(fi.addr, (uint64_t)data_code);
}

KTEST(execute_from_the_stack_faults)
{
	uint8_t code[16] __attribute__((aligned(4))) = ARCH_RET_BYTES;

	KASSERT_EQ(try_exec(code, 0), STATUS_ACCESS_VIOLATION);
}

KTEST(null_page_faults)
{
	struct fault_info fi;

	KASSERT_EQ(try_read((void *)0, 0, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(fi.addr, 0);
	KASSERT(!trap_fault_present(fi.vector, fi.error));
	KASSERT_EQ(try_write((void *)8, 1, 0), STATUS_ACCESS_VIOLATION);
}

/* What the loader left in the lower half is gone (x86-64: its
 * identity-mapped trampoline; AArch64: the firmware's TTBR0): the lower half
 * is hostmem's. */
KTEST(lower_half_is_empty_at_boot)
{
	const uint64_t *top = phys_to_virt(arch_managed_root());

	for (int i = 0; i < ARCH_LOWER_HALF_ENTRIES; i++)
		KASSERT_EQ(top[i], 0);
	KASSERT_EQ(try_read((void *)boot_info->kernel_phys_start, 0, 0), STATUS_ACCESS_VIOLATION);
}

/* An address the compiler cannot see through, so it neither warns nor folds. */
static volatile uint8_t *opaque(uintptr_t va)
{
	__asm__("" : "+r"(va));
	return (volatile uint8_t *)va;
}

static void fault_twice(void *arg)
{
	struct fault_info *inner = arg;

	/* The inner fault is caught by the inner point; then fault again. */
	inner->code = try_read((void *)16, 0, inner);
	*opaque(24) = 0;
}

KTEST(recovery_points_nest)
{
	struct fault_info inner = { 0 }, outer;

	KASSERT_EQ(try_call(fault_twice, &inner, &outer), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(inner.code, STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(inner.addr, 16);
	KASSERT_EQ(outer.addr, 24);
	KASSERT_EQ(try_read(__text_start, 0, 0), 0);   /* and life goes on */
}

static void invalid_opcode(void *arg)
{
	arch_undefined_instruction();
}

static void breakpoint(void *arg)
{
	arch_breakpoint();
}

KTEST(other_exceptions_become_codes)
{
	struct fault_info fi;

	KASSERT_EQ(try_call(invalid_opcode, 0, &fi), STATUS_ILLEGAL_INSTRUCTION);
	KASSERT_EQ(fi.vector, TRAP_VEC_UNDEFINED);
	KASSERT_EQ(try_call(breakpoint, 0, &fi), STATUS_BREAKPOINT);
}

KTEST(tsc_was_calibrated)
{
	KASSERT(boot_info->tsc_hz >= ARCH_CLOCK_MIN_HZ);
	KASSERT(uptime_ms() < 60000);
}

/* kernel/string.c's memset (rep stosq, then rep stosb): every length and
 * alignment across a word boundary fills exactly its bytes. */
KTEST(memset_fills_exactly_its_bytes)
{
	static uint8_t buf[64];
	void *volatile set = memset;   /* the kernel's, not a builtin inlined */

	for (size_t at = 0; at < 8; at++) {
		for (size_t n = 0; n <= 40; n++) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = 0x11;
			((void *(*)(void *, int, size_t))set)(buf + at, 0x1A5, n);
			for (size_t i = 0; i < sizeof(buf); i++)
				KASSERT_EQ(buf[i], i >= at && i < at + n ? 0xA5 : 0x11);
		}
	}
}

/* A zero fill of whole pages takes the CPU's block clear where it has one
 * (AArch64: DC ZVA): exactly the pages asked for, none of their neighbours. */
KTEST(memset_zeroes_whole_pages_exactly)
{
	static uint8_t buf[4 * 4096] __attribute__((aligned(4096)));
	void *volatile set = memset;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 0xAA;
	((void *(*)(void *, int, size_t))set)(buf + 4096, 0, 2 * 4096);
	for (size_t i = 0; i < sizeof(buf); i++)
		KASSERT_EQ(buf[i], i >= 4096 && i < 3 * 4096 ? 0 : 0xAA);
}
