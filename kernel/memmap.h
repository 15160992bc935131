/*
 * The UEFI memory map, normalised.  Portable (no kernel headers): the host
 * unit tests feed it synthetic maps.
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdint.h>
#include <stddef.h>

/* UEFI memory types (UEFI 2.x, EFI_MEMORY_TYPE). */
enum {
	EFI_RESERVED = 0, EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BOOT_CODE, EFI_BOOT_DATA,
	EFI_RUNTIME_CODE, EFI_RUNTIME_DATA, EFI_CONVENTIONAL, EFI_UNUSABLE, EFI_ACPI_RECLAIM,
	EFI_ACPI_NVS, EFI_MMIO, EFI_MMIO_PORT, EFI_PAL_CODE, EFI_PERSISTENT,
};

enum mem_class {
	MEM_USABLE,     /* free for the frame allocator once the kernel runs */
	MEM_KERNEL,     /* the loader's OS types: kernel image, page tables, boot info */
	MEM_FIRMWARE,   /* runtime services, ACPI tables and NVS: RAM, never ours */
	MEM_RESERVED,   /* reserved, unusable, persistent: RAM-backed or not, never ours */
	MEM_MMIO,       /* device space, not RAM (the summary adds reserved ranges
	                 * that cannot be cached write-back) */
};

struct mem_range {
	uint64_t base, end;     /* physical, [base, end), page-aligned */
};

struct memmap_summary {
	size_t   descriptors;
	uint64_t pages[5];      /* per enum mem_class; [MEM_RESERVED]: firmware-reserved
	                         * RAM, [MEM_MMIO]: device ranges */
	uint64_t ram_pages;     /* usable + kernel + firmware: known to be RAM */
	uint64_t top;           /* end of the highest of those */
};

enum mem_class memmap_class(uint32_t efi_type);

/*
 * Reads map (size bytes, one descriptor every stride bytes) and writes the
 * usable physical ranges to out: sorted, merged, with every page that any
 * non-usable descriptor also claims removed, and never frame 0.  Fills *sum.
 * Returns the number of ranges, or (size_t)-1 if more than max were needed or
 * the map is malformed (stride too small, size not a multiple of stride).
 */
size_t memmap_usable(const void *map, size_t size, size_t stride,
                     struct mem_range *out, size_t max, struct memmap_summary *sum);

#endif
