/*
 * Normalising the firmware's memory map.
 *
 * Firmware maps are unsorted, may list adjacent usable descriptors
 * separately, and (rarely, on bad firmware) overlap.  The frame allocator
 * wants the opposite: few sorted, disjoint, page-aligned ranges it may use.
 * So: collect usable descriptors sorted by base (insertion sort: maps have a
 * few hundred entries at most), merge neighbours, then cut out every page a
 * non-usable descriptor claims (a conflict is resolved toward "not ours"),
 * and finally frame 0, which real-mode leftovers and null-pointer bugs make
 * unsafe to hand out.
 */
#include "memmap.h"
#include "boot/bootinfo.h"

#define PAGE 4096ull
#define EFI_MEMORY_WB 0x8ull     /* the range can be cached write-back: it is memory */

struct desc {
	uint32_t type, pad;
	uint64_t phys, virt, pages, attr;
};

enum mem_class memmap_class(uint32_t type)
{
	switch (type) {
	case EFI_LOADER_CODE: case EFI_LOADER_DATA:
	case EFI_BOOT_CODE: case EFI_BOOT_DATA: case EFI_CONVENTIONAL:
		return MEM_USABLE;
	case BOOTINFO_MEM_KERNEL: case BOOTINFO_MEM_PTABLE:
		return MEM_KERNEL;
	case EFI_RUNTIME_CODE: case EFI_RUNTIME_DATA: case EFI_ACPI_RECLAIM:
	case EFI_ACPI_NVS: case EFI_PAL_CODE:
		return MEM_FIRMWARE;
	case EFI_MMIO: case EFI_MMIO_PORT:
		return MEM_MMIO;
	default:
		return MEM_RESERVED;
	}
}

/* Inserts [base, end) into the sorted array, merging with neighbours. */
static int add_range(struct mem_range *r, size_t *n, size_t max, uint64_t base, uint64_t end)
{
	size_t i = *n;

	while (i > 0 && r[i - 1].base > base)
		i--;
	if (i > 0 && r[i - 1].end >= base) {            /* joins the previous one */
		if (end > r[i - 1].end)
			r[i - 1].end = end;
		i--;
	} else {
		if (*n == max)
			return -1;
		for (size_t j = *n; j > i; j--)
			r[j] = r[j - 1];
		r[i] = (struct mem_range){ base, end };
		(*n)++;
	}
	while (i + 1 < *n && r[i + 1].base <= r[i].end) {  /* swallow what it now reaches */
		if (r[i + 1].end > r[i].end)
			r[i].end = r[i + 1].end;
		for (size_t j = i + 1; j + 1 < *n; j++)
			r[j] = r[j + 1];
		(*n)--;
	}
	return 0;
}

/* Removes [base, end) from every range, splitting one if needed. */
static int cut_range(struct mem_range *r, size_t *n, size_t max, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < *n; i++) {
		if (r[i].end <= base || r[i].base >= end)
			continue;
		if (r[i].base < base && r[i].end > end) {   /* a hole in the middle */
			if (*n == max)
				return -1;
			for (size_t j = *n; j > i + 1; j--)
				r[j] = r[j - 1];
			r[i + 1] = (struct mem_range){ end, r[i].end };
			r[i].end = base;
			(*n)++;
			return 0;
		}
		if (r[i].base < base)
			r[i].end = base;
		else
			r[i].base = end;
		if (r[i].base >= r[i].end) {
			for (size_t j = i; j + 1 < *n; j++)
				r[j] = r[j + 1];
			(*n)--;
			i--;
		}
	}
	return 0;
}

/* A descriptor as a page-aligned range; false if it is empty or wraps. */
static int desc_range(const struct desc *d, uint64_t *base, uint64_t *end)
{
	*base = d->phys & ~(PAGE - 1);
	if (d->pages == 0 || d->pages > (~0ull - *base) / PAGE)
		return 0;
	*end = *base + d->pages * PAGE;
	return 1;
}

static void count(struct memmap_summary *sum, const struct desc *d, uint64_t end)
{
	enum mem_class c = memmap_class(d->type);

	/* A reserved range that cannot be cached write-back is a device window
	 * (OVMF lists the PCIe configuration space so, attribute UC only), not
	 * RAM the firmware keeps: the report counts it with the MMIO ranges. */
	if (c == MEM_RESERVED && !(d->attr & EFI_MEMORY_WB))
		c = MEM_MMIO;

	sum->pages[c] += d->pages;
	/* Reserved descriptors can be device windows (OVMF lists the PCIe
	 * configuration space so): only what is known to be RAM counts. */
	if (c == MEM_USABLE || c == MEM_KERNEL || c == MEM_FIRMWARE) {
		sum->ram_pages += d->pages;
		if (end > sum->top)
			sum->top = end;
	}
}

size_t memmap_usable(const void *map, size_t size, size_t stride,
                     struct mem_range *out, size_t max, struct memmap_summary *sum)
{
	const uint8_t *p = map;
	size_t n = 0;
	uint64_t base, end;

	*sum = (struct memmap_summary){ 0 };
	if (stride < sizeof(struct desc) || size % stride)
		return (size_t)-1;
	sum->descriptors = size / stride;
	for (size_t off = 0; off < size; off += stride) {
		const struct desc *d = (const struct desc *)(p + off);
		if (!desc_range(d, &base, &end))
			continue;
		count(sum, d, end);
		if (memmap_class(d->type) == MEM_USABLE && add_range(out, &n, max, base, end))
			return (size_t)-1;
	}
	for (size_t off = 0; off < size; off += stride) {
		const struct desc *d = (const struct desc *)(p + off);
		if (desc_range(d, &base, &end) && memmap_class(d->type) != MEM_USABLE &&
		    cut_range(out, &n, max, base, end))
			return (size_t)-1;
	}
	if (cut_range(out, &n, max, 0, PAGE))
		return (size_t)-1;
	return n;
}
