/*
 * The hand-over from the UEFI loader to the kernel.
 *
 * The loader fills one struct bootinfo in memory it allocated as
 * BOOTINFO_MEM_KERNEL, then jumps to the kernel entry with its address (in the
 * direct map) in %rdi.  Everything the kernel must not reuse as free RAM is
 * allocated by the loader with one of the OS-defined UEFI memory types below,
 * so the memory map itself says what is live: the kernel image, the kernel's
 * page tables, this struct and the memory map copy.  Loader code and data
 * (EfiLoaderCode/Data) and boot-services memory are free once the kernel runs.
 *
 * Versioning: a kernel accepts magic == BOOTINFO_MAGIC and
 * version == BOOTINFO_VERSION only; any layout change bumps the version.
 */
#ifndef BOOT_BOOTINFO_H
#define BOOT_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_MAGIC   0x544f4f424d454d48ull  /* "HMEMBOOT" little-endian */
#define BOOTINFO_VERSION 2

/* UEFI memory types 0x80000000..0xFFFFFFFF belong to the OS loader. */
#define BOOTINFO_MEM_KERNEL  0x80000001u  /* kernel image, boot info, map copy */
#define BOOTINFO_MEM_PTABLE  0x80000002u  /* the kernel's live page tables */

/* Pages the kernel gets below 1 MiB for starting the other CPUs. */
#define BOOTINFO_AP_PAGES  4

/* Virtual layout the loader builds. */
#define KERNEL_VMA       0xFFFFFFFF80000000ull  /* -2 GiB, -mcmodel=kernel */
#define DIRECT_MAP_BASE  0xFFFF800000000000ull  /* all RAM, 2 MiB pages, RW, NX */

/* One UEFI memory descriptor as the firmware lays it out (40 bytes of
 * fields; the firmware's stride is mmap_desc_size, 48 on OVMF). */
struct efi_mem_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t pages;
	uint64_t attr;
};

struct bootinfo {
	uint64_t magic;
	uint32_t version;
	uint32_t size;              /* sizeof(struct bootinfo) */

	/* The memory map as returned by the final GetMemoryMap. */
	uint64_t mmap_phys;
	uint64_t mmap_size;         /* bytes */
	uint64_t mmap_desc_size;    /* stride between descriptors */
	uint32_t mmap_desc_version;
	uint32_t pad0;

	uint64_t kernel_phys_start; /* physical range of the loaded image */
	uint64_t kernel_phys_end;
	uint64_t pml4_phys;         /* what is in CR3 at kernel entry */
	uint64_t rsdp_phys;         /* ACPI 2.0 RSDP, or 0 */
	uint64_t direct_map_base;   /* DIRECT_MAP_BASE */
	uint64_t direct_map_size;   /* bytes of physical space mapped there */

	uint64_t tsc_at_loader;     /* rdtsc at efi_main entry */
	uint64_t tsc_hz;            /* measured with the firmware's Stall */

	char cmdline[256];          /* contents of \cmdline.txt, NUL-terminated */

	/* BOOTINFO_AP_PAGES pages below 1 MiB, page-aligned, kept for the
	 * kernel to start the other CPUs from (a SIPI vector names a page
	 * under 1 MiB); 0 when the firmware had none free. */
	uint64_t ap_tramp_phys;
};

#endif
