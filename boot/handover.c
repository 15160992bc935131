/*
 * Leaving the firmware.
 *
 * ExitBootServices takes the key of the latest memory map; any allocation
 * or console output in between can change the map and void the key.  So the
 * map is read into a buffer allocated earlier, and ExitBootServices follows
 * with no firmware call in between.  A stale key (EFI_INVALID_PARAMETER,
 * e.g. a timer event allocated meanwhile) is retried a few times into the
 * same buffer; after a failed ExitBootServices only memory-map services are
 * allowed, and GetMemoryMap is the only one used.  The jump into the kernel
 * is the architecture's (boot/arch/ARCH/machine.c), which documents the
 * machine state at the kernel's entry point.
 */
#include "boot/services.h"

#define EFI_RETRIES 4

/* Take the final memory map and leave boot services; no output after this. */
EFI_STATUS handover_exit_boot(struct loader *ld)
{
	UINTN size, key, dsize;
	UINT32 dver;
	EFI_STATUS st = EFI_INVALID_PARAMETER;

	for (int i = 0; i < EFI_RETRIES && st == EFI_INVALID_PARAMETER; i++) {
		size = ld->mmap_cap;
		st = BS->GetMemoryMap(&size, ld->mmap, &key, &dsize, &dver);
		if (EFI_ERROR(st))
			return st;
		st = BS->ExitBootServices(ld->image, key);
	}
	if (EFI_ERROR(st))
		return st;
	ld->bi->mmap_phys = (uintptr_t)ld->mmap;
	ld->bi->mmap_size = size;
	ld->bi->mmap_desc_size = dsize;
	ld->bi->mmap_desc_version = dver;
	return EFI_SUCCESS;
}
