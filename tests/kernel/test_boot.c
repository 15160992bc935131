/*
 * Self tests of the boot chain and the CPU set-up: what the loader handed
 * over, and that the protections the kernel relies on fault for real.
 */
#include "kernel/ktest.h"
#include "kernel/boot.h"
#include "cpu.h"
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

KTEST(cpu_enforces_wp_and_nx)
{
	KASSERT(read_cr0() & CR0_WP);
	KASSERT(rdmsr(MSR_EFER) & EFER_NXE);
}

KTEST(write_to_kernel_text_faults)
{
	struct fault_info fi;
	uint8_t before = *(volatile uint8_t *)__text_start;

	KASSERT_EQ(try_write(__text_start, (uint8_t)~before, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(fi.vector, 14);
	KASSERT_EQ(fi.error & 3, 3);           /* present, write */
	KASSERT_EQ(fi.addr, (uint64_t)__text_start);
	KASSERT_EQ(*(volatile uint8_t *)__text_start, before);
}

KTEST(write_to_kernel_rodata_faults)
{
	KASSERT_EQ(try_write(__rodata_start, 0, 0), STATUS_ACCESS_VIOLATION);
}

/* A `ret` in writable data: calling it must fault on the fetch, not run. */
static uint8_t data_code[16] = { 0xC3 };

KTEST(execute_from_data_faults)
{
	struct fault_info fi;

	KASSERT_EQ(try_exec(data_code, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(fi.error & 0x11, 0x11);     /* present, instruction fetch */
	KASSERT_EQ(fi.addr, (uint64_t)data_code);
}

KTEST(execute_from_the_stack_faults)
{
	uint8_t code[16] = { 0xC3 };

	KASSERT_EQ(try_exec(code, 0), STATUS_ACCESS_VIOLATION);
}

KTEST(null_page_faults)
{
	struct fault_info fi;

	KASSERT_EQ(try_read((void *)0, 0, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(fi.addr, 0);
	KASSERT_EQ(fi.error & 1, 0);           /* not present */
	KASSERT_EQ(try_write((void *)8, 1, 0), STATUS_ACCESS_VIOLATION);
}

/* The loader's identity-mapped trampoline is gone: the lower half is hostmem's. */
KTEST(lower_half_is_empty_at_boot)
{
	const uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xFFFull);

	for (int i = 0; i < 256; i++)
		KASSERT_EQ(pml4[i], 0);
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
	__asm__ volatile("ud2");
}

static void breakpoint(void *arg)
{
	__asm__ volatile("int3");
}

KTEST(other_exceptions_become_codes)
{
	struct fault_info fi;

	KASSERT_EQ(try_call(invalid_opcode, 0, &fi), STATUS_ILLEGAL_INSTRUCTION);
	KASSERT_EQ(fi.vector, 6);
	KASSERT_EQ(try_call(breakpoint, 0, &fi), STATUS_BREAKPOINT);
}

KTEST(tsc_was_calibrated)
{
	KASSERT(boot_info->tsc_hz >= 100000000ull);
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
