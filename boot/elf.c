/*
 * Kernel ELF validation (see elf.h for the guarantees of a plan).
 *
 * The file is untrusted: every field is read byte by byte from inside
 * [0, size), and every sum of two file-controlled 64-bit values is compared
 * against a bound by subtraction first, so no check can be defeated by
 * overflow.  The checks run in a fixed order, header first, then each
 * program header, then the image as a whole, and the first failure is
 * reported; tests rely on that order to aim at one rule at a time.
 */
#include "boot/elf.h"
#include "boot/bootinfo.h"

#define PAGE_MASK (ELF_PAGE - 1)

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

static void read_ehdr(const uint8_t *p, struct elf64_ehdr *h)
{
	for (unsigned i = 0; i < sizeof(h->ident); i++)
		h->ident[i] = p[i];
	h->type = rd(p + 16, 2);
	h->machine = rd(p + 18, 2);
	h->version = rd(p + 20, 4);
	h->entry = rd(p + 24, 8);
	h->phoff = rd(p + 32, 8);
	h->phentsize = rd(p + 54, 2);
	h->phnum = rd(p + 56, 2);
}

static void read_phdr(const uint8_t *p, struct elf64_phdr *ph)
{
	ph->type = rd(p, 4);
	ph->flags = rd(p + 4, 4);
	ph->offset = rd(p + 8, 8);
	ph->vaddr = rd(p + 16, 8);
	ph->filesz = rd(p + 32, 8);
	ph->memsz = rd(p + 40, 8);
}

static const char *check_ehdr(const uint8_t *p, size_t size,
			      struct elf64_ehdr *h)
{
	if (size < sizeof(struct elf64_ehdr))
		return "file is smaller than an ELF64 header";
	read_ehdr(p, h);
	if (h->ident[0] != 0x7f || h->ident[1] != 'E' ||
	    h->ident[2] != 'L' || h->ident[3] != 'F')
		return "bad ELF magic";
	if (h->ident[EI_CLASS] != ELFCLASS64)
		return "not ELFCLASS64";
	if (h->ident[EI_DATA] != ELFDATA2LSB)
		return "not little-endian";
	if (h->ident[EI_VERSION] != EV_CURRENT || h->version != EV_CURRENT)
		return "ELF version is not EV_CURRENT";
	if (h->machine != ELF_MACHINE)
		return "machine is not " ELF_MACHINE_NAME;
	if (h->type != ET_EXEC)
		return "type is not ET_EXEC";
	if (h->phentsize != sizeof(struct elf64_phdr))
		return "program header size is not 56";
	if (h->phoff > size ||
	    (uint64_t)h->phnum * sizeof(struct elf64_phdr) > size - h->phoff)
		return "program headers extend past the end of the file";
	return NULL;
}

/* The rules one PT_LOAD must obey on its own. */
static const char *check_segment(const struct elf64_phdr *ph, size_t size)
{
	if (ph->filesz > ph->memsz)
		return "segment filesz exceeds memsz";
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return "segment file bytes extend past the end of the file";
	if (ph->vaddr < KERNEL_VMA)
		return "segment vaddr below KERNEL_VMA";
	/* The end must also survive rounding up to a page. */
	if (ph->vaddr > UINT64_MAX - PAGE_MASK ||
	    ph->memsz > UINT64_MAX - PAGE_MASK - ph->vaddr)
		return "segment vaddr + memsz wraps around";
	if ((ph->vaddr & PAGE_MASK) != (ph->offset & PAGE_MASK))
		return "segment vaddr and offset differ modulo 4096";
	return NULL;
}

static uint64_t seg_first_page(const struct elf_segment *s)
{
	return s->vaddr & ~PAGE_MASK;
}

static uint64_t seg_end_page(const struct elf_segment *s)
{
	return (s->vaddr + s->memsz + PAGE_MASK) & ~PAGE_MASK;
}

/* Append a checked PT_LOAD, keeping the plan sorted and page-disjoint. */
static const char *add_segment(struct elf_plan *plan,
			       const struct elf64_phdr *ph)
{
	struct elf_segment *s;

	if (plan->nseg == ELF_MAX_LOADS)
		return "more than 16 PT_LOAD segments";
	s = &plan->seg[plan->nseg];
	s->vaddr = ph->vaddr;
	s->memsz = ph->memsz;
	s->offset = ph->offset;
	s->filesz = ph->filesz;
	s->flags = ph->flags;
	if (plan->nseg > 0 && seg_first_page(s) < seg_end_page(s - 1))
		return "PT_LOAD segments unsorted or sharing a page";
	plan->nseg++;
	return NULL;
}

static const char *check_image(struct elf_plan *plan)
{
	const struct elf_segment *s;

	if (plan->nseg == 0)
		return "no PT_LOAD segment";
	/* Sorted and disjoint: the first and last segments bound the span. */
	plan->span_start = seg_first_page(&plan->seg[0]);
	plan->span_end = seg_end_page(&plan->seg[plan->nseg - 1]);
	if (plan->span_end - plan->span_start > ELF_MAX_SPAN)
		return "image span exceeds 64 MiB";
	for (s = plan->seg; s < plan->seg + plan->nseg; s++)
		if ((s->flags & PF_X) && plan->entry >= s->vaddr &&
		    plan->entry - s->vaddr < s->memsz)
			return NULL;
	return "entry point not inside an executable PT_LOAD";
}

const char *elf_validate(const void *image, size_t size, struct elf_plan *plan)
{
	const uint8_t *p = image;
	struct elf64_ehdr h;
	struct elf64_phdr ph;
	const char *err;

	if ((err = check_ehdr(p, size, &h)) != NULL)
		return err;
	plan->nseg = 0;
	plan->entry = h.entry;
	for (unsigned i = 0; i < h.phnum; i++) {
		read_phdr(p + h.phoff + (uint64_t)i * sizeof(ph), &ph);
		if (ph.type != PT_LOAD)
			continue;
		if ((err = check_segment(&ph, size)) != NULL)
			return err;
		if ((err = add_segment(plan, &ph)) != NULL)
			return err;
	}
	return check_image(plan);
}
