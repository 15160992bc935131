/*
 * The UEFI loader's internal interface: what loader.c, file.c, paging.c and
 * handover.c share, and the services every one of them may call
 * (services.c).  Nothing here is seen by the kernel; the kernel sees
 * only boot/bootinfo.h and the machine state described in handover.c.
 *
 * While boot services run, the firmware identity-maps all memory, so a physical
 * address returned by AllocatePages is also a usable pointer; the loader
 * relies on that everywhere and converts with PHYS_PTR.
 */
#ifndef BOOT_SERVICES_H
#define BOOT_SERVICES_H

#include <efi.h>
#include <efilib.h>

#include "boot/bootinfo.h"
#include "boot/elf.h"

#define PAGE_SIZE   4096ull
#define PHYS_PTR(pa) ((void *)(uintptr_t)(pa))

/* Everything efi_main gathers on the way to the hand-over. */
struct loader {
	EFI_HANDLE image;
	void *kfile;                /* \kernel.elf, EfiLoaderData pool */
	UINTN ksize;
	struct elf_plan plan;       /* valid only after elf_validate */
	uint64_t kphys;             /* image span, BOOTINFO_MEM_KERNEL */
	uint64_t pml4;              /* the kernel's top-level table (AArch64: TTBR1's) */
	uint64_t direct_map_size;
	struct bootinfo *bi;        /* BOOTINFO_MEM_KERNEL */
	void *mmap;                 /* BOOTINFO_MEM_KERNEL, mmap_cap bytes */
	UINTN mmap_cap;
};

/* services.c: report "loader: <what>: <reason>" and leave QEMU (exit 39). */
void __attribute__((noreturn)) loader_fail(const char *what,
					   const char *reason);
void __attribute__((noreturn)) loader_fail_status(const char *what,
						  EFI_STATUS st);
EFI_STATUS loader_alloc(UINT32 type, UINTN pages, uint64_t *pa);

/* file.c */
EFI_STATUS file_open_root(EFI_HANDLE image, EFI_FILE_HANDLE *root);
EFI_STATUS file_read(EFI_FILE_HANDLE root, CHAR16 *name, void **buf,
		     UINTN *size);

/* handover.c */
EFI_STATUS handover_exit_boot(struct loader *ld);

/* boot/arch/ARCH/paging.c: the kernel's first page tables. */
EFI_STATUS paging_top_of_ram(uint64_t *top);
EFI_STATUS paging_build(struct loader *ld);

/* boot/arch/ARCH/machine.c: what differs per CPU. */
uint64_t machine_ticks(void);           /* the kernel's cycle counter */
uint64_t machine_ticks_hz(void);        /* its rate */
/* Memory taken before the memory map is read (x86-64: the AP pages). */
void machine_reserve(struct loader *ld);
/* Leave QEMU with status 39 (the kernel's EXIT_LOADER). */
void __attribute__((noreturn)) machine_exit_fail(void);
/* Switch to the kernel's tables and enter it; after ExitBootServices. */
void __attribute__((noreturn)) handover_jump(struct loader *ld);

#endif
