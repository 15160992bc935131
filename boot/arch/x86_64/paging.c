/*
 * The kernel's first page tables (x86-64, 4 levels, built fresh).
 *
 * What is mapped at kernel entry, and nothing else:
 *
 *   KERNEL_VMA..      each PT_LOAD page at its vaddr, 4 KiB pages, backed
 *                     by the one physical block at (vaddr - span_start);
 *                     writable iff PF_W, executable iff PF_X.  Gaps between
 *                     segments stay unmapped.
 *   DIRECT_MAP_BASE.. physical [0, direct_map_size), 2 MiB pages, RW, NX.
 *   lower half        only the page(s) of the hand-over trampoline,
 *                     identity-mapped read-only and executable, so the
 *                     instruction after "mov cr3" can still be fetched.
 *                     Virtual page 0 is never mapped.
 *
 * Table pages of the higher half are BOOTINFO_MEM_PTABLE: they stay live in
 * the kernel.  Table pages below the PML4 entry 256 exist only for the
 * trampoline and are EfiLoaderData, so the kernel frees them for nothing by
 * clearing PML4 entries 0..255.  Intermediate entries are present and
 * writable; only leaves carry the restrictions.
 *
 * Invariant: no leaf is ever written twice.  The plan's segments share no
 * page and the three regions live under different PML4 entries, so a
 * second write can only be a loader bug, and it stops the boot.
 */
#include "boot/services.h"
#include "machine.h"

#define PTE_P     (1ull << 0)
#define PTE_W     (1ull << 1)
#define PTE_PS    (1ull << 7)
#define PTE_NX    (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull
#define HUGE_SIZE (2ull << 20)
#define LOWER_HALF_END (1ull << 47)

/* The direct map may use PML4 entries 256..510; 511 holds the kernel. */
#define DIRECT_MAP_MAX (255ull << 39)

static unsigned pt_index(uint64_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

static EFI_STATUS table_new(uint64_t va, uint64_t *pa)
{
	UINT32 type = va < LOWER_HALF_END ? EfiLoaderData : BOOTINFO_MEM_PTABLE;
	EFI_STATUS st = loader_alloc(type, 1, pa);

	if (!EFI_ERROR(st))
		ZeroMem(PHYS_PTR(*pa), PAGE_SIZE);
	return st;
}

/*
 * Find the entry for va in the level-`leaf` table (1: 4 KiB page, 2: 2 MiB
 * page), creating the tables above it on the way down.
 */
static EFI_STATUS walk(uint64_t pml4, uint64_t va, int leaf, uint64_t **pte)
{
	uint64_t *table = PHYS_PTR(pml4), *e, pa;
	EFI_STATUS st;

	for (int level = 4; level > leaf; level--) {
		e = &table[pt_index(va, level)];
		if (*e & PTE_PS)
			loader_fail("page tables", "walk through a large page");
		if (!(*e & PTE_P)) {
			st = table_new(va, &pa);
			if (EFI_ERROR(st))
				return st;
			*e = pa | PTE_P | PTE_W;
		}
		table = PHYS_PTR(*e & PTE_ADDR);
	}
	*pte = &table[pt_index(va, leaf)];
	return EFI_SUCCESS;
}

static EFI_STATUS map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags,
		      int leaf)
{
	uint64_t *pte;
	EFI_STATUS st = walk(pml4, va, leaf, &pte);

	if (EFI_ERROR(st))
		return st;
	if (*pte != 0)
		loader_fail("page tables", "a page mapped twice");
	*pte = pa | flags | PTE_P | (leaf == 2 ? PTE_PS : 0);
	return EFI_SUCCESS;
}

static EFI_STATUS map_segment(struct loader *ld, const struct elf_segment *s)
{
	uint64_t flags = 0, va, end;
	EFI_STATUS st;

	if (s->flags & PF_W)
		flags |= PTE_W;
	if (!(s->flags & PF_X))
		flags |= PTE_NX;
	va = s->vaddr & ~(PAGE_SIZE - 1);
	end = (s->vaddr + s->memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	for (; va < end; va += PAGE_SIZE) {
		st = map(ld->pml4, va, ld->kphys + (va - ld->plan.span_start),
			 flags, 1);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS map_direct(struct loader *ld)
{
	EFI_STATUS st;

	if (ld->direct_map_size > DIRECT_MAP_MAX)
		loader_fail("direct map", "RAM beyond the direct map's reach");
	for (uint64_t pa = 0; pa < ld->direct_map_size; pa += HUGE_SIZE) {
		st = map(ld->pml4, DIRECT_MAP_BASE + pa, pa, PTE_W | PTE_NX, 2);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS map_identity(struct loader *ld, uint64_t start, uint64_t end)
{
	EFI_STATUS st;

	start &= ~(PAGE_SIZE - 1);
	if (start == 0)
		loader_fail("page tables", "trampoline in physical page 0");
	for (; start < end; start += PAGE_SIZE) {
		st = map(ld->pml4, start, start, 0, 1);
		if (EFI_ERROR(st))
			return st;
	}
	return EFI_SUCCESS;
}

/* Build the tables described above; the PML4 goes to ld->pml4. */
EFI_STATUS paging_build(struct loader *ld)
{
	uint64_t tramp_start = (uintptr_t)handover_tramp, tramp_end = (uintptr_t)handover_tramp_end;
	EFI_STATUS st;

	st = table_new(KERNEL_VMA, &ld->pml4);
	for (unsigned i = 0; i < ld->plan.nseg && !EFI_ERROR(st); i++)
		st = map_segment(ld, &ld->plan.seg[i]);
	if (!EFI_ERROR(st))
		st = map_direct(ld);
	if (!EFI_ERROR(st))
		st = map_identity(ld, tramp_start, tramp_end);
	return st;
}

/*
 * The end of the highest memory-map descriptor that is not MMIO, rounded
 * up to 2 MiB: how much physical space the direct map covers.
 */
EFI_STATUS paging_top_of_ram(uint64_t *top)
{
	UINTN n, key, dsize;
	UINT32 dver;
	EFI_MEMORY_DESCRIPTOR *map, *d;
	uint64_t end, t = 0;

	map = LibMemoryMap(&n, &key, &dsize, &dver);
	if (map == NULL)
		return EFI_OUT_OF_RESOURCES;
	for (UINTN i = 0; i < n; i++) {
		d = (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * dsize);
		if (d->Type == EfiMemoryMappedIO ||
		    d->Type == EfiMemoryMappedIOPortSpace)
			continue;
		end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;
		if (end > t)
			t = end;
	}
	FreePool(map);
	*top = (t + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	return EFI_SUCCESS;
}
