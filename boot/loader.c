/*
 * BOOTX64.EFI / BOOTAA64.EFI: load the kernel ELF from the ESP and jump
 * into it.  What differs per CPU (the clock, the page-table format, the
 * jump) is in boot/arch/ARCH/ behind boot/services.h.
 *
 * The order is fixed by one rule: validate everything, allocate everything,
 * then leave the firmware.  Concretely:
 *
 *   1. Read the cycle counter, and learn its rate (machine_ticks_hz).
 *   2. Read \kernel.elf (and \cmdline.txt if present) from the loader's own
 *      volume; elf_validate() must accept the kernel before any byte of it
 *      is used.
 *   3. Copy the segments into one physical block spanning the image.
 *   4. Build the kernel's page tables (arch/ARCH/paging.c).
 *   5. Allocate the memory-map buffer and fill the boot info.
 *   6. GetMemoryMap + ExitBootServices (handover.c).
 *   7. Switch to the new tables and jump (arch/ARCH/machine.c).
 *
 * Every failure before step 6 completes prints "loader: <what>: <reason>"
 * and exits QEMU with status 39 (machine_exit_fail), so a test run never
 * hangs in the firmware.  Memory the kernel keeps (image, boot info, map
 * copy, higher-half tables) is allocated with the OS types of bootinfo.h;
 * everything else is EfiLoaderData and free once the kernel runs.
 */
#include "boot/services.h"

#define MMAP_SLACK_DESCS 16

static void alloc_bootinfo(struct loader *ld)
{
	uint64_t pa;
	EFI_STATUS st = loader_alloc(BOOTINFO_MEM_KERNEL, 1, &pa);

	if (EFI_ERROR(st))
		loader_fail_status("allocating the boot info", st);
	ZeroMem(PHYS_PTR(pa), PAGE_SIZE);
	ld->bi = PHYS_PTR(pa);
}

static void read_kernel(struct loader *ld, EFI_FILE_HANDLE root)
{
	EFI_STATUS st;
	const char *err;

	st = file_read(root, L"\\kernel.elf", &ld->kfile, &ld->ksize);
	if (EFI_ERROR(st))
		loader_fail_status("reading \\kernel.elf", st);
	err = elf_validate(ld->kfile, ld->ksize, &ld->plan);
	if (err != NULL)
		loader_fail("bad kernel", err);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* An absent \cmdline.txt leaves the (zeroed) command line empty. */
static void read_cmdline(struct loader *ld, EFI_FILE_HANDLE root)
{
	char *s;
	UINTN n;
	EFI_STATUS st;

	st = file_read(root, L"\\cmdline.txt", (void **)&s, &n);
	if (st == EFI_NOT_FOUND)
		return;
	if (EFI_ERROR(st))
		loader_fail_status("reading \\cmdline.txt", st);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (n >= sizeof(ld->bi->cmdline))
		loader_fail("reading \\cmdline.txt", "longer than 255 bytes");
	CopyMem(ld->bi->cmdline, s, n);
	ld->bi->cmdline[n] = '\0';
	FreePool(s);
}

static void read_files(struct loader *ld)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = file_open_root(ld->image, &root);
	if (EFI_ERROR(st))
		loader_fail_status("opening the boot volume", st);
	read_kernel(ld, root);
	read_cmdline(ld, root);
	root->Close(root);
}

/* Copy each segment to block + (vaddr - span_start); the rest stays zero. */
static void load_image(struct loader *ld)
{
	const struct elf_plan *p = &ld->plan;
	UINTN bytes = p->span_end - p->span_start;
	const struct elf_segment *s;
	EFI_STATUS st;

	st = loader_alloc(BOOTINFO_MEM_KERNEL, bytes / PAGE_SIZE, &ld->kphys);
	if (EFI_ERROR(st))
		loader_fail_status("allocating the kernel image", st);
	ZeroMem(PHYS_PTR(ld->kphys), bytes);
	for (s = p->seg; s < p->seg + p->nseg; s++)
		CopyMem(PHYS_PTR(ld->kphys + (s->vaddr - p->span_start)),
			(UINT8 *)ld->kfile + s->offset, s->filesz);
}

static void build_tables(struct loader *ld)
{
	EFI_STATUS st;

	st = paging_top_of_ram(&ld->direct_map_size);
	if (EFI_ERROR(st))
		loader_fail_status("reading the memory map", st);
	st = paging_build(ld);
	if (EFI_ERROR(st))
		loader_fail_status("building page tables", st);
}

/* Sized now, with slack for the descriptors later allocations may add. */
static void alloc_mmap(struct loader *ld)
{
	UINTN size = 0, key, dsize, pages;
	UINT32 dver;
	uint64_t pa;
	EFI_STATUS st;

	st = BS->GetMemoryMap(&size, NULL, &key, &dsize, &dver);
	if (st != EFI_BUFFER_TOO_SMALL)
		loader_fail_status("sizing the memory map", st);
	pages = (size + MMAP_SLACK_DESCS * dsize + PAGE_SIZE - 1) / PAGE_SIZE;
	st = loader_alloc(BOOTINFO_MEM_KERNEL, pages, &pa);
	if (EFI_ERROR(st))
		loader_fail_status("allocating the memory map", st);
	ld->mmap = PHYS_PTR(pa);
	ld->mmap_cap = pages * PAGE_SIZE;
}

static uint64_t find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (CompareGuid(&ST->ConfigurationTable[i].VendorGuid,
				&acpi20) == 0)
			return (uintptr_t)ST->ConfigurationTable[i].VendorTable;
	return 0;
}

/* Everything but the memory map, which only ExitBootServices fixes. */
static void fill_bootinfo(struct loader *ld)
{
	struct bootinfo *bi = ld->bi;

	bi->magic = BOOTINFO_MAGIC;
	bi->version = BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->kernel_phys_start = ld->kphys;
	bi->kernel_phys_end = ld->kphys + (ld->plan.span_end - ld->plan.span_start);
	bi->pml4_phys = ld->pml4;
	bi->rsdp_phys = find_rsdp();
	bi->direct_map_base = DIRECT_MAP_BASE;
	bi->direct_map_size = ld->direct_map_size;
}

/* Called by gnu-efi's crt0 (SysV ABI there, hence not EFIAPI). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint64_t t0 = machine_ticks();
	struct loader ld = { .image = image };
	EFI_STATUS st;

	InitializeLib(image, systab);
	alloc_bootinfo(&ld);
	machine_reserve(&ld);
	ld.bi->tsc_at_loader = t0;
	ld.bi->tsc_hz = machine_ticks_hz();
	read_files(&ld);
	load_image(&ld);
	build_tables(&ld);
	alloc_mmap(&ld);
	fill_bootinfo(&ld);
	st = handover_exit_boot(&ld);
	if (EFI_ERROR(st))
		loader_fail_status("ExitBootServices", st);
	handover_jump(&ld);
}
