/* kernel/memmap.c: turning the firmware's memory map into usable ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/memmap.h"
#include "boot/bootinfo.h"

#define STRIDE 48   /* what OVMF returns: larger than the 40-byte struct */
#define PG 4096ull

static uint8_t map[64 * STRIDE];
static size_t map_size;

static void reset(void) { memset(map, 0xEE, sizeof(map)); map_size = 0; }

static void add_attr(uint32_t type, uint64_t base, uint64_t pages, uint64_t attr)
{
	struct efi_mem_desc d = { .type = type, .phys_start = base, .pages = pages, .attr = attr };
	memcpy(map + map_size, &d, sizeof(d));
	map_size += STRIDE;
}

static void add(uint32_t type, uint64_t base, uint64_t pages) { add_attr(type, base, pages, 0); }

static size_t normalise(struct mem_range *r, size_t max, struct memmap_summary *s)
{
	return memmap_usable(map, map_size, STRIDE, r, max, s);
}

static void usable_types_are_merged_and_sorted(void **state)
{
	struct mem_range r[8];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x200000, 16);
	add(EFI_BOOT_DATA, 0x100000, 256);      /* adjacent below: merges */
	add(EFI_LOADER_CODE, 0x210000, 16);     /* adjacent above: merges */
	add(EFI_CONVENTIONAL, 0x1000000, 1);
	assert_int_equal(normalise(r, 8, &s), 2);
	assert_int_equal(r[0].base, 0x100000);
	assert_int_equal(r[0].end, 0x220000);
	assert_int_equal(r[1].base, 0x1000000);
	assert_int_equal(r[1].end, 0x1001000);
	assert_int_equal(s.descriptors, 4);
	assert_int_equal(s.pages[MEM_USABLE], 289);
}

static void frame_zero_is_never_usable(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0, 160);
	assert_int_equal(normalise(r, 4, &s), 1);
	assert_int_equal(r[0].base, PG);
	assert_int_equal(r[0].end, 160 * PG);
}

static void overlap_with_a_reserved_descriptor_is_cut_out(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100000, 256);              /* 1 MiB .. 2 MiB */
	add(EFI_ACPI_NVS, 0x180000, 16);                   /* a hole in the middle */
	add(EFI_RESERVED, 0x1F0000, 32);                   /* overlaps the end */
	assert_int_equal(normalise(r, 4, &s), 2);
	assert_int_equal(r[0].base, 0x100000);
	assert_int_equal(r[0].end, 0x180000);
	assert_int_equal(r[1].base, 0x190000);
	assert_int_equal(r[1].end, 0x1F0000);
}

static void loader_types_are_kernel_and_never_usable(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100000, 16);
	add(BOOTINFO_MEM_KERNEL, 0x110000, 4);
	add(BOOTINFO_MEM_PTABLE, 0x114000, 2);
	add(EFI_CONVENTIONAL, 0x116000, 10);
	assert_int_equal(normalise(r, 4, &s), 2);
	assert_int_equal(r[0].end, 0x110000);
	assert_int_equal(r[1].base, 0x116000);
	assert_int_equal(s.pages[MEM_KERNEL], 6);
	assert_int_equal(memmap_class(BOOTINFO_MEM_KERNEL), MEM_KERNEL);
	assert_int_equal(memmap_class(EFI_RUNTIME_DATA), MEM_FIRMWARE);
	assert_int_equal(memmap_class(EFI_MMIO), MEM_MMIO);
	assert_int_equal(memmap_class(0x70000000), MEM_RESERVED);
}

static void mmio_is_not_ram_and_does_not_raise_the_top(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100000, 16);
	add(EFI_RUNTIME_CODE, 0x200000, 16);
	add(EFI_MMIO, 0xFEC00000, 1);
	assert_int_equal(normalise(r, 4, &s), 1);
	assert_int_equal(s.ram_pages, 32);
	assert_int_equal(s.pages[MEM_MMIO], 1);
	assert_int_equal(s.top, 0x210000);
}

/* OVMF: 512 KiB reserved inside RAM (UC|WC|WT|WB), the PCIe configuration
 * space reserved at 0xB0000000 (UC only). */
static void reserved_without_write_back_is_a_device_range(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100000, 16);
	add_attr(EFI_RESERVED, 0xF6EC000, 0x80, 0xF);
	add_attr(EFI_RESERVED, 0xB0000000, 0x10000, 0x1);
	add_attr(EFI_MMIO, 0xFFC00000, 0x400, 0x8000000000000001ull);
	assert_int_equal(normalise(r, 4, &s), 1);
	assert_int_equal(s.pages[MEM_RESERVED], 0x80);
	assert_int_equal(s.pages[MEM_MMIO], 0x10000 + 0x400);
}

static void unaligned_and_empty_descriptors(void **state)
{
	struct mem_range r[4];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100800, 2);      /* base rounded down to the page */
	add(EFI_CONVENTIONAL, 0x300000, 0);      /* empty: ignored */
	add(EFI_CONVENTIONAL, ~0ull - PG, 16);   /* wraps: ignored */
	assert_int_equal(normalise(r, 4, &s), 1);
	assert_int_equal(r[0].base, 0x100000);
	assert_int_equal(r[0].end, 0x102000);
}

static void too_many_ranges_or_bad_stride_is_an_error(void **state)
{
	struct mem_range r[2];
	struct memmap_summary s;

	reset();
	for (int i = 0; i < 3; i++)
		add(EFI_CONVENTIONAL, 0x100000 + (uint64_t)i * 0x100000, 1);
	assert_int_equal(normalise(r, 2, &s), (size_t)-1);
	assert_int_equal(memmap_usable(map, map_size, 32, r, 2, &s), (size_t)-1);
	assert_int_equal(memmap_usable(map, map_size - 1, STRIDE, r, 2, &s), (size_t)-1);
}

static void cutting_a_hole_needs_room(void **state)
{
	struct mem_range r[1];
	struct memmap_summary s;

	reset();
	add(EFI_CONVENTIONAL, 0x100000, 16);
	add(EFI_RESERVED, 0x104000, 1);
	assert_int_equal(normalise(r, 1, &s), (size_t)-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(usable_types_are_merged_and_sorted),
		cmocka_unit_test(frame_zero_is_never_usable),
		cmocka_unit_test(overlap_with_a_reserved_descriptor_is_cut_out),
		cmocka_unit_test(loader_types_are_kernel_and_never_usable),
		cmocka_unit_test(mmio_is_not_ram_and_does_not_raise_the_top),
		cmocka_unit_test(reserved_without_write_back_is_a_device_range),
		cmocka_unit_test(unaligned_and_empty_descriptors),
		cmocka_unit_test(too_many_ranges_or_bad_stride_is_an_error),
		cmocka_unit_test(cutting_a_hole_needs_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
