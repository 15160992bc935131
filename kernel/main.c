/*
 * kmain: from the loader's hand-over to the self tests or the console.
 *
 * Order matters: the serial port first (so anything after can report), then
 * the boot info check, then our own GDT/IDT before anything can fault, then
 * the lower half is emptied: it belongs to hostmem, and the loader's
 * identity-mapped trampoline is the only thing there.
 */
#include "boot.h"
#include "console.h"
#include "cpu.h"
#include "ktest.h"
#include "panic.h"
#include "qemu.h"
#include "serial.h"
#include "memory.h"
#include "demo.h"
#include "bench.h"
#include "shell.h"
#include "smp.h"
#include "percpu.h"
#include "trap.h"

const struct bootinfo *boot_info;
struct memmap_summary boot_mem;
struct mem_range boot_usable[MAX_USABLE_RANGES];
size_t boot_nusable;

static int streq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

const char *cmdline_get(const char *key, char *buf, size_t len)
{
	const char *s = boot_info->cmdline;
	size_t klen = 0;

	while (key[klen])
		klen++;
	while (*s) {
		while (*s == ' ')
			s++;
		const char *word = s;
		while (*s && *s != ' ')
			s++;
		if ((size_t)(s - word) > klen && word[klen] == '=' && streq_n(word, key, klen)) {
			size_t n = 0;
			for (const char *v = word + klen + 1; v < s && n + 1 < len; v++)
				buf[n++] = *v;
			buf[n] = '\0';
			return buf;
		}
	}
	return 0;
}

uint64_t cmdline_number(const char *key, uint64_t dflt)
{
	char buf[24];
	uint64_t v = 0;

	if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0])
		return dflt;
	for (const char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return dflt;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

uint64_t uptime_ms(void)
{
	uint64_t hz = boot_info->tsc_hz ? boot_info->tsc_hz : 1000000000ull;
	return (rdtsc() - boot_info->tsc_at_loader) / (hz / 1000);
}

static void check_bootinfo(const struct bootinfo *bi)
{
	if (bi->magic != BOOTINFO_MAGIC || bi->version != BOOTINFO_VERSION ||
	    bi->size != sizeof(*bi))
		panic("boot info: magic %llx version %u size %u, expected %llx %u %zu",
		      (unsigned long long)bi->magic, bi->version, bi->size,
		      (unsigned long long)BOOTINFO_MAGIC, BOOTINFO_VERSION, sizeof(*bi));
}

/* What every CPU sets for itself (smp.c calls it on the others): CR0.WP
 * makes read-only pages read-only for ring 0 too; EFER.NXE gives the NX bit
 * meaning; PAT entry 1 becomes write-combining for PAGE_WRITECOMBINE. */
void cpu_setup(void)
{
	write_cr0(read_cr0() | CR0_WP);
	write_cr4(read_cr4() & ~(CR4_SMEP | CR4_SMAP));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	wrmsr(MSR_PAT, (rdmsr(MSR_PAT) & ~0xFF00ull) | (0x01ull << 8));
}

/* The boot CPU's setup, and the lower half emptied for hostmem. */
static void cpu_init(void)
{
	uint64_t *pml4 = phys_to_virt(read_cr3() & ~0xFFFull);

	for (int i = 0; i < 256; i++)
		pml4[i] = 0;
	cpu_setup();
	flush_tlb();
}

/* The map by kind, each in the unit that reads best: RAM (what the kernel
 * may use, what it runs in, what the firmware keeps), then device ranges,
 * which are address space and not memory. */
static void report_classes(uint64_t usable)
{
	const uint64_t *pg = boot_mem.pages;
	char ram[24], use[24], kern[24], fw[24], resv[24], dev[24];

	kprintf("memory map: %zu descriptors; RAM %s: usable %s in %zu ranges, kernel %s, "
	        "firmware %s, firmware-reserved %s; device ranges (MMIO, not RAM) %s\n",
	        boot_mem.descriptors, amount((boot_mem.ram_pages + pg[MEM_RESERVED]) << 12, ram),
	        amount(usable, use), boot_nusable, amount(pg[MEM_KERNEL] << 12, kern),
	        amount(pg[MEM_FIRMWARE] << 12, fw), amount(pg[MEM_RESERVED] << 12, resv),
	        amount(pg[MEM_MMIO] << 12, dev));
}

static void memory_report(void)
{
	const struct bootinfo *bi = boot_info;
	uint64_t usable = 0;

	boot_nusable = memmap_usable(phys_to_virt(bi->mmap_phys), bi->mmap_size,
	                             bi->mmap_desc_size, boot_usable, MAX_USABLE_RANGES, &boot_mem);
	if (boot_nusable == (size_t)-1)
		panic("memory map: malformed or more than %d usable ranges", MAX_USABLE_RANGES);
	for (size_t i = 0; i < boot_nusable; i++)
		usable += boot_usable[i].end - boot_usable[i].base;
	report_classes(usable);
}

/* crash=pf|ud on the command line: an exception outside any test, so the
 * runner can check the panic report and exit code. */
static void crash_if_asked(void)
{
	char what[8];

	if (!cmdline_get("crash", what, sizeof(what)))
		return;
	kprintf("crash=%s: faulting on purpose\n", what);
	if (what[0] == 'u')
		__asm__ volatile("ud2");
	*(volatile uint64_t *)0xDEAD000ull = 1;
}

void kmain(const struct bootinfo *bi)
{
	char mode[16];
	int testing;

	serial_init();
	idt_init();
	smp_init_boot_cpu();
	check_bootinfo(bi);
	boot_info = bi;
	kprintf("\nhostmem kernel: boot info v%u, cmdline \"%s\"\n", bi->version, bi->cmdline);
	cpu_init();
	memory_report();
	kprintf("boot: kernel running %llu ms after loader entry (TSC %llu MHz)\n",
	        (unsigned long long)uptime_ms(), (unsigned long long)(bi->tsc_hz / 1000000));
	smp_start_others();
	testing = cmdline_get("mode", mode, sizeof(mode)) && streq_n(mode, "test", 5);
	memory_init(testing);
	crash_if_asked();
	if (testing)
		qemu_exit(ktest_run_all() ? EXIT_FAIL : EXIT_PASS);
	if (cmdline_get("mode", mode, sizeof(mode)) && streq_n(mode, "bench", 6))
		qemu_exit(bench_run() ? EXIT_FAIL : EXIT_PASS);
	if (cmdline_get("mode", mode, sizeof(mode)) && streq_n(mode, "console", 8))
		shell_run();             /* a terminal or a script drives it; quit exits */
	qemu_exit(demo_run() ? EXIT_FAIL : EXIT_PASS);
}
