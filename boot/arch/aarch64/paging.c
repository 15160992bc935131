/*
 * The kernel's first page tables on AArch64 (TTBR1: 48-bit VA, 4 KiB
 * granule, 4 levels, built fresh).
 *
 * What is mapped at kernel entry through TTBR1, and nothing else:
 *
 *   KERNEL_VMA..      each PT_LOAD page at its vaddr, 4 KiB pages, backed
 *                     by the one physical block at (vaddr - span_start);
 *                     read-only unless PF_W, privileged-executable iff PF_X.
 *   DIRECT_MAP_BASE.. every memory range of the UEFI map (not MMIO), in
 *                     2 MiB blocks, RW, never executable, normal write-back.
 *                     Device space between the ranges stays unmapped: a
 *                     normal mapping of a device invites speculative reads.
 *   DIRECT_MAP_BASE + PL011_BASE   the UART's page, device-nGnRnE, RW, XN;
 *                     the same for the GICv2 distributor's page and the
 *                     CPU interface's two (the kernel checks the MADT
 *                     names these addresses before it uses them).
 *
 * Every entry is global, never executable at EL0 (UXN), Access flag set
 * (so no Access-flag fault is taken on the kernel's own memory); normal
 * memory is inner shareable.  Table pages are BOOTINFO_MEM_PTABLE: they
 * stay live in the kernel.  The lower half (TTBR0) is not built here: the
 * kernel gives it to hostmem.
 *
 * Invariant: no leaf is written twice with different contents.  Memory
 * ranges may share a 2 MiB block (they are rounded out to blocks), so a
 * block already mapped the same way is left alone; anything else is a
 * loader bug and stops the boot.
 */
#include "boot/services.h"
#include "machine.h"

#define HUGE_SIZE  (2ull << 20)
#define PL011_BASE 0x09000000ull    /* QEMU -M virt */
#define GICD_BASE  0x08000000ull
#define GICC_BASE  0x08010000ull

/* The direct map may use 512 GiB entries 256..510 of the top table; 511
 * holds the kernel. */
#define DIRECT_MAP_MAX (255ull << 39)

#define KERNEL_LEAF  (DESC_AF | DESC_SH_INNER | DESC_ATTR(ATTR_WB) | DESC_UXN)

static unsigned pt_index(uint64_t va, int level)
{
	return (va >> (12 + 9 * (3 - level))) & 511;
}

static EFI_STATUS table_new(uint64_t *pa)
{
	EFI_STATUS st = loader_alloc(BOOTINFO_MEM_PTABLE, 1, pa);

	if (!EFI_ERROR(st))
		ZeroMem(PHYS_PTR(*pa), PAGE_SIZE);
	return st;
}

/*
 * The entry for va in the level-`leaf` table (3: 4 KiB page, 2: 2 MiB
 * block), creating the tables above it on the way down from level 0.
 */
static EFI_STATUS walk(uint64_t root, uint64_t va, int leaf, uint64_t **pte)
{
	uint64_t *table = PHYS_PTR(root), *e, pa;
	EFI_STATUS st;

	for (int level = 0; level < leaf; level++) {
		e = &table[pt_index(va, level)];
		if ((*e & DESC_TABLE) == DESC_BLOCK)
			loader_fail("page tables", "walk through a block");
		if (!(*e & DESC_VALID)) {
			st = table_new(&pa);
			if (EFI_ERROR(st))
				return st;
			*e = pa | DESC_TABLE;
		}
		table = PHYS_PTR(*e & DESC_ADDR);
	}
	*pte = &table[pt_index(va, leaf)];
	return EFI_SUCCESS;
}

static EFI_STATUS map(uint64_t root, uint64_t va, uint64_t pa, uint64_t attrs, int leaf)
{
	uint64_t *pte, want = pa | attrs | (leaf == 3 ? DESC_TABLE : DESC_BLOCK);
	EFI_STATUS st = walk(root, va, leaf, &pte);

	if (EFI_ERROR(st))
		return st;
	if (*pte == want)
		return EFI_SUCCESS;
	if (*pte != 0)
		loader_fail("page tables", "a page mapped twice");
	*pte = want;
	return EFI_SUCCESS;
}

static EFI_STATUS map_segment(struct loader *ld, const struct elf_segment *s)
{
	uint64_t attrs = KERNEL_LEAF, va, end;
	EFI_STATUS st;

	if (!(s->flags & PF_W))
		attrs |= DESC_AP_RO;
	if (!(s->flags & PF_X))
		attrs |= DESC_PXN;
	va = s->vaddr & ~(PAGE_SIZE - 1);
	end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	for (; va < end; va += PAGE_SIZE) {
		st = map(ld->pml4, va, ld->kphys + (va - ld->plan.span_start), attrs, 3);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

static int is_memory(const EFI_MEMORY_DESCRIPTOR *d)
{
	return d->Type != EfiMemoryMappedIO && d->Type != EfiMemoryMappedIOPortSpace &&
	       d->Type != EfiReservedMemoryType && d->Type != EfiUnusableMemory;
}

/* One memory range, rounded out to whole blocks. */
static EFI_STATUS map_range(struct loader *ld, uint64_t start, uint64_t end)
{
	EFI_STATUS st;

	start &= ~(HUGE_SIZE - 1);
	for (uint64_t pa = start; pa < end; pa += HUGE_SIZE) {
		st = map(ld->pml4, DIRECT_MAP_BASE + pa, pa,
			 KERNEL_LEAF | DESC_PXN, 2);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS map_direct(struct loader *ld)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *mm, *d;
	EFI_STATUS st = EFI_SUCCESS;

	if (ld->direct_map_size > DIRECT_MAP_MAX)
		loader_fail("direct map", "RAM beyond the direct map's reach");
	mm = LibMemoryMap(&n, &key, &dsize, &dver);
	if (mm == NULL)
		return EFI_OUT_OF_RESOURCES;
	for (UINTN i = 0; i < n && !EFI_ERROR(st); i++) {
		d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)mm + i * dsize);
		if (is_memory(d))
			st = map_range(ld, d->PhysicalStart,
				       d->PhysicalStart + d->NumberOfPages * PAGE_SIZE);
	}
	FreePool(mm);
	return st;
}

static EFI_STATUS map_device(struct loader *ld, uint64_t pa, unsigned pages)
{
	EFI_STATUS st = EFI_SUCCESS;

	for (unsigned i = 0; i < pages && !EFI_ERROR(st); i++)
		st = map(ld->pml4, DIRECT_MAP_BASE + pa + i * PAGE_SIZE, pa + i * PAGE_SIZE,
			 DESC_AF | DESC_ATTR(ATTR_DEVICE) | DESC_PXN | DESC_UXN, 3);
	return st;
}

static EFI_STATUS map_devices(struct loader *ld)
{
	EFI_STATUS st = map_device(ld, PL011_BASE, 1);

	if (!EFI_ERROR(st))
		st = map_device(ld, GICD_BASE, 1);
	if (!EFI_ERROR(st))
		st = map_device(ld, GICC_BASE, 2);
	return st;
}

/* Build the tables described above; the root goes to ld->pml4. */
EFI_STATUS paging_build(struct loader *ld)
{
	EFI_STATUS st;

	st = table_new(&ld->pml4);
	for (unsigned i = 0; i < ld->plan.nseg && !EFI_ERROR(st); i++)
		st = map_segment(ld, &ld->plan.seg[i]);
	if (!EFI_ERROR(st))
		st = map_direct(ld);
	if (!EFI_ERROR(st))
		st = map_devices(ld);
	return st;
}

/*
 * The end of the highest memory range, rounded up to 2 MiB: how much
 * physical space the direct map spans (it maps only the memory in it).
 */
EFI_STATUS paging_top_of_ram(uint64_t *top)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *mm, *d;
	uint64_t end, t = 0;

	mm = LibMemoryMap(&n, &key, &dsize, &dver);
	if (mm == NULL)
		return EFI_OUT_OF_RESOURCES;
	for (UINTN i = 0; i < n; i++) {
		d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)mm + i * dsize);
		if (!is_memory(d))
			continue;
		end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;
		if (end > t)
			t = end;
	}
	FreePool(mm);
	*top = (t + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	return EFI_SUCCESS;
}
