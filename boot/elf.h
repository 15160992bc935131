/*
 * Validating a kernel ELF image before anything of it is loaded.
 *
 * elf_validate() reads an ELF64 file held in a buffer and either rejects it
 * with one static sentence naming the broken rule, or fills a load plan that
 * the loader can follow without further checks.  A plan guarantees:
 *
 *   - 1..ELF_MAX_LOADS PT_LOAD segments, in file order, sorted by vaddr and
 *     not sharing any 4 KiB page, all at or above KERNEL_VMA;
 *   - for each: filesz <= memsz, [offset, offset + filesz) inside the file,
 *     [vaddr, vaddr + memsz) not wrapping, vaddr % 4096 == offset % 4096;
 *   - span_start/span_end are the page-rounded bounds of all segments, and
 *     span_end - span_start <= ELF_MAX_SPAN, so one contiguous physical
 *     block of that size holds the whole image at (vaddr - span_start);
 *   - entry lies inside an executable segment.
 *
 * Pure C on purpose: it is compiled into the loader and, unchanged, into the
 * sanitized host tests.  Only <stdint.h> and <stddef.h>; fields are read
 * byte by byte, so an unaligned or hostile buffer is never dereferenced as
 * a struct.
 */
#ifndef BOOT_ELF_H
#define BOOT_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_PAGE       4096ull
#define ELF_MAX_LOADS  16
#define ELF_MAX_SPAN   (64ull << 20)

/* The on-disk layouts (System V gABI), little-endian, no padding. */
struct elf64_ehdr {
	uint8_t  ident[16];
	uint16_t type;
	uint16_t machine;
	uint32_t version;
	uint64_t entry;
	uint64_t phoff;
	uint64_t shoff;
	uint32_t flags;
	uint16_t ehsize;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

struct elf64_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
	uint64_t align;
};

/* ident[] indices and the values a kernel image must carry. */
#define EI_CLASS       4
#define EI_DATA        5
#define EI_VERSION     6
#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define EV_CURRENT     1
#define ET_EXEC        2
#define EM_X86_64      62
#define EM_AARCH64     183

/* The machine a kernel must be built for: the loader's own.  The build
 * defines both for a loader of another architecture (boot/arch/ARCH/boot.mk);
 * the host tests check the x86-64 default. */
#ifndef ELF_MACHINE
#define ELF_MACHINE      EM_X86_64
#define ELF_MACHINE_NAME "x86-64"
#endif
#define PT_LOAD        1
#define PF_X           1
#define PF_W           2
#define PF_R           4

struct elf_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	uint32_t flags;     /* PF_* */
};

struct elf_plan {
	struct elf_segment seg[ELF_MAX_LOADS];
	unsigned nseg;
	uint64_t span_start;    /* lowest segment vaddr, rounded down to a page */
	uint64_t span_end;      /* highest segment end, rounded up to a page */
	uint64_t entry;
};

/*
 * Check image[0, size) as a kernel and fill *plan.  Returns NULL on
 * success, else a static string saying which rule failed; *plan is then
 * unspecified.
 */
const char *elf_validate(const void *image, size_t size, struct elf_plan *plan);

#endif
