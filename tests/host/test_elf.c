/*
 * Host tests for boot/elf.c: one test per validation rule, named after it.
 *
 * Every test starts from the same good three-segment kernel (text, rodata,
 * data+bss), breaks exactly one thing, and expects the sentence of exactly
 * that rule.  Images are handed to elf_validate() in a heap buffer of their
 * exact size, so ASan reports any read past the end of the file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "boot/bootinfo.h"
#include "boot/elf.h"

#define K KERNEL_VMA
#define PT_NOTE 4

struct kimg {
	uint8_t buf[0x6000];
	size_t size;
	struct elf64_ehdr eh;
	struct elf64_phdr ph[20];
};

static void set_ph(struct kimg *k, unsigned i, uint32_t type, uint32_t flags,
		   uint64_t off, uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	struct elf64_phdr *p = &k->ph[i];

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->flags = flags;
	p->offset = off;
	p->vaddr = vaddr;
	p->paddr = vaddr - K;
	p->filesz = filesz;
	p->memsz = memsz;
	p->align = 4096;
}

/* text RX at K, rodata R at K+0x1000, data+bss RW at K+0x2000..K+0x7000. */
static void make_good(struct kimg *k)
{
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', ELFCLASS64,
					   ELFDATA2LSB, EV_CURRENT };

	memset(k, 0, sizeof(*k));
	memcpy(k->eh.ident, ident, sizeof(ident));
	k->eh.type = ET_EXEC;
	k->eh.machine = EM_X86_64;
	k->eh.version = EV_CURRENT;
	k->eh.entry = K + 0x10;
	k->eh.phoff = sizeof(struct elf64_ehdr);
	k->eh.ehsize = sizeof(struct elf64_ehdr);
	k->eh.phentsize = sizeof(struct elf64_phdr);
	k->eh.phnum = 3;
	set_ph(k, 0, PT_LOAD, PF_R | PF_X, 0x1000, K, 0x800, 0x800);
	set_ph(k, 1, PT_LOAD, PF_R, 0x2000, K + 0x1000, 0x100, 0x100);
	set_ph(k, 2, PT_LOAD, PF_R | PF_W, 0x3000, K + 0x2000, 0x10, 0x5000);
	k->size = 0x3010;
}

/* Serialize k and validate it from an exact-size, deliberately odd address. */
static const char *validate(struct kimg *k, struct elf_plan *plan)
{
	size_t phbytes = k->eh.phnum * sizeof(struct elf64_phdr);
	uint8_t *mem, *img;
	const char *err;

	/* Headers that point outside the scratch buffer are left unwritten. */
	if (k->eh.phnum <= 20 && k->eh.phoff <= sizeof(k->buf) &&
	    phbytes <= sizeof(k->buf) - k->eh.phoff)
		memcpy(k->buf + k->eh.phoff, k->ph, phbytes);
	memcpy(k->buf, &k->eh, sizeof(k->eh));
	mem = malloc(k->size + 1);
	assert_non_null(mem);
	img = mem + 1;
	memcpy(img, k->buf, k->size);
	err = elf_validate(img, k->size, plan);
	free(mem);
	return err;
}

static void expect(struct kimg *k, const char *want)
{
	struct elf_plan plan;
	const char *err = validate(k, &plan);

	if (want == NULL)
		assert_null(err);
	else
		assert_string_equal(err == NULL ? "(accepted)" : err, want);
}

static void good_multi_segment_image(void **state)
{
	struct kimg k;
	struct elf_plan plan;

	make_good(&k);
	assert_null(validate(&k, &plan));
	assert_int_equal(plan.nseg, 3);
	assert_int_equal(plan.entry, K + 0x10);
	assert_int_equal(plan.span_start, K);
	assert_int_equal(plan.span_end, K + 0x7000);
	assert_int_equal(plan.seg[0].vaddr, K);
	assert_int_equal(plan.seg[0].offset, 0x1000);
	assert_int_equal(plan.seg[0].flags, PF_R | PF_X);
	assert_int_equal(plan.seg[2].vaddr, K + 0x2000);
	assert_int_equal(plan.seg[2].filesz, 0x10);
	assert_int_equal(plan.seg[2].memsz, 0x5000);
	assert_int_equal(plan.seg[2].flags, PF_R | PF_W);
}

static void non_load_headers_are_ignored(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.phnum = 4;
	set_ph(&k, 3, PT_NOTE, 0, 0xdead0000, 0x1234, 0xffffffff, 1);
	expect(&k, NULL);
}

static void unaligned_span_is_rounded_to_pages(void **state)
{
	struct kimg k;
	struct elf_plan plan;

	make_good(&k);
	set_ph(&k, 0, PT_LOAD, PF_R | PF_X, 0x1010, K + 0x10, 0x7f0, 0x7f0);
	set_ph(&k, 2, PT_LOAD, PF_R | PF_W, 0x3000, K + 0x2000, 0x10, 0x4001);
	assert_null(validate(&k, &plan));
	assert_int_equal(plan.span_start, K);
	assert_int_equal(plan.span_end, K + 0x7000);
}

static void rule_size_at_least_ehdr(void **state)
{
	struct kimg k;

	make_good(&k);
	k.size = sizeof(struct elf64_ehdr) - 1;
	expect(&k, "file is smaller than an ELF64 header");
	k.size = 0;
	expect(&k, "file is smaller than an ELF64 header");
}

static void rule_magic(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.ident[3] = 'G';
	expect(&k, "bad ELF magic");
	make_good(&k);
	k.eh.ident[0] = 0;
	expect(&k, "bad ELF magic");
}

static void rule_elfclass64(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.ident[EI_CLASS] = 1;
	expect(&k, "not ELFCLASS64");
}

static void rule_little_endian(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.ident[EI_DATA] = 2;
	expect(&k, "not little-endian");
}

static void rule_ev_current(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.ident[EI_VERSION] = 0;
	expect(&k, "ELF version is not EV_CURRENT");
	make_good(&k);
	k.eh.version = 2;
	expect(&k, "ELF version is not EV_CURRENT");
}

static void rule_machine_x86_64(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.machine = 3;       /* EM_386 */
	expect(&k, "machine is not x86-64");
}

static void rule_type_exec(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.type = 3;          /* ET_DYN */
	expect(&k, "type is not ET_EXEC");
}

static void rule_phentsize_56(void **state)
{
	struct kimg k;

	make_good(&k);
	k.eh.phentsize = 64;
	expect(&k, "program header size is not 56");
}

static void rule_phdrs_inside_file(void **state)
{
	const char *want = "program headers extend past the end of the file";
	struct kimg k;

	make_good(&k);
	k.eh.phoff = k.size + 1;
	expect(&k, want);
	make_good(&k);
	k.eh.phoff = k.size - 2 * sizeof(struct elf64_phdr);
	k.eh.phnum = 3;
	expect(&k, want);
	make_good(&k);
	k.eh.phoff = UINT64_MAX - 8;    /* phoff + phnum * 56 wraps */
	expect(&k, want);
	make_good(&k);
	k.eh.phnum = 0xffff;
	expect(&k, want);
}

static void rule_at_least_one_load(void **state)
{
	struct kimg k;

	make_good(&k);
	for (unsigned i = 0; i < 3; i++)
		k.ph[i].type = PT_NOTE;
	expect(&k, "no PT_LOAD segment");
	make_good(&k);
	k.eh.phnum = 0;
	expect(&k, "no PT_LOAD segment");
}

/* n one-page RX segments at K, K+0x1000, ... all backed by file page 1. */
static void make_loads(struct kimg *k, unsigned n)
{
	make_good(k);
	k->eh.phnum = n;
	for (unsigned i = 0; i < n; i++)
		set_ph(k, i, PT_LOAD, PF_R | PF_X, 0x1000, K + i * 0x1000,
		       0x100, 0x1000);
}

static void rule_at_most_16_loads(void **state)
{
	struct kimg k;

	make_loads(&k, 16);
	expect(&k, NULL);
	make_loads(&k, 17);
	expect(&k, "more than 16 PT_LOAD segments");
}

static void rule_filesz_at_most_memsz(void **state)
{
	struct kimg k;

	make_good(&k);
	k.ph[1].memsz = k.ph[1].filesz - 1;
	expect(&k, "segment filesz exceeds memsz");
}

static void rule_file_bytes_inside_file(void **state)
{
	const char *want = "segment file bytes extend past the end of the file";
	struct kimg k;

	make_good(&k);
	k.ph[2].filesz = 0x11;
	expect(&k, want);
	make_good(&k);
	k.ph[2].offset = 0x4000;
	k.ph[2].vaddr = K + 0x4000;
	k.ph[2].filesz = 0;
	expect(&k, want);
	make_good(&k);
	k.ph[2].offset = UINT64_MAX - 7;        /* offset + filesz wraps */
	expect(&k, want);
}

static void rule_vaddr_at_least_kernel_vma(void **state)
{
	struct kimg k;

	make_good(&k);
	k.ph[0].vaddr = 0x1000;
	k.eh.entry = 0x1010;
	expect(&k, "segment vaddr below KERNEL_VMA");
	make_good(&k);
	k.ph[0].vaddr = K - 0x1000;
	expect(&k, "segment vaddr below KERNEL_VMA");
}

static void rule_vaddr_plus_memsz_no_wrap(void **state)
{
	const char *want = "segment vaddr + memsz wraps around";
	struct kimg k;

	make_good(&k);
	k.ph[2].vaddr = 0xfffffffffffff000ull;
	k.ph[2].memsz = 0x1000;
	expect(&k, want);
	make_good(&k);
	k.ph[2].vaddr = UINT64_MAX;
	k.ph[2].offset = 0x2fff;
	k.ph[2].filesz = 1;
	k.ph[2].memsz = 1;
	expect(&k, want);
	make_good(&k);
	k.ph[2].memsz = UINT64_MAX;
	expect(&k, want);
}

static void rule_span_at_most_64mib(void **state)
{
	struct kimg k;

	make_good(&k);
	k.ph[2].memsz = ELF_MAX_SPAN - 0x2000;
	expect(&k, NULL);
	k.ph[2].memsz += 1;
	expect(&k, "image span exceeds 64 MiB");
	make_good(&k);
	k.ph[2].vaddr = K + ELF_MAX_SPAN;
	k.ph[2].offset = 0x3000;
	expect(&k, "image span exceeds 64 MiB");
}

static void rule_vaddr_offset_congruent(void **state)
{
	struct kimg k;

	make_good(&k);
	k.ph[1].offset = 0x2008;
	expect(&k, "segment vaddr and offset differ modulo 4096");
}

static void rule_loads_sorted(void **state)
{
	struct kimg k;
	struct elf64_phdr tmp;

	make_good(&k);
	tmp = k.ph[0];
	k.ph[0] = k.ph[1];
	k.ph[1] = tmp;
	expect(&k, "PT_LOAD segments unsorted or sharing a page");
}

static void rule_loads_page_disjoint(void **state)
{
	struct kimg k;

	make_good(&k);
	/* text ends at K+0x800; rodata starting in the same page collides. */
	k.ph[1].vaddr = K + 0xc00;
	k.ph[1].offset = 0x2c00;
	expect(&k, "PT_LOAD segments unsorted or sharing a page");
	make_good(&k);
	k.ph[1].vaddr = K;
	expect(&k, "PT_LOAD segments unsorted or sharing a page");
}

static void rule_entry_in_executable_load(void **state)
{
	const char *want = "entry point not inside an executable PT_LOAD";
	struct kimg k;

	make_good(&k);
	k.eh.entry = K + 0x1010;        /* rodata: readable, not executable */
	expect(&k, want);
	k.eh.entry = K + 0x800;         /* one past the end of text */
	expect(&k, want);
	k.eh.entry = 0;
	expect(&k, want);
	k.eh.entry = K + 0x7ff;         /* last byte of text */
	expect(&k, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_multi_segment_image),
		cmocka_unit_test(non_load_headers_are_ignored),
		cmocka_unit_test(unaligned_span_is_rounded_to_pages),
		cmocka_unit_test(rule_size_at_least_ehdr),
		cmocka_unit_test(rule_magic),
		cmocka_unit_test(rule_elfclass64),
		cmocka_unit_test(rule_little_endian),
		cmocka_unit_test(rule_ev_current),
		cmocka_unit_test(rule_machine_x86_64),
		cmocka_unit_test(rule_type_exec),
		cmocka_unit_test(rule_phentsize_56),
		cmocka_unit_test(rule_phdrs_inside_file),
		cmocka_unit_test(rule_at_least_one_load),
		cmocka_unit_test(rule_at_most_16_loads),
		cmocka_unit_test(rule_filesz_at_most_memsz),
		cmocka_unit_test(rule_file_bytes_inside_file),
		cmocka_unit_test(rule_vaddr_at_least_kernel_vma),
		cmocka_unit_test(rule_vaddr_plus_memsz_no_wrap),
		cmocka_unit_test(rule_span_at_most_64mib),
		cmocka_unit_test(rule_vaddr_offset_congruent),
		cmocka_unit_test(rule_loads_sorted),
		cmocka_unit_test(rule_loads_page_disjoint),
		cmocka_unit_test(rule_entry_in_executable_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
