/*
 * kmain: from the loader's hand-over to the self tests or the console.
 *
 * Order matters: the serial port first (so anything after can report), then
 * our own exception table (GDT/IDT, VBAR) before anything can fault, then
 * the boot info check, then the lower half is emptied: it belongs to
 * hostmem, and what the loader left there (x86-64: its identity-mapped
 * trampoline) goes.
 */
#include "boot.h"
#include "print.h"
#include "machine.h"
#include "ktest.h"
#include "panic.h"
#include "qemu.h"
#include "serial.h"
#include "memory.h"
#include "kernel/demo/demo.h"
#include "kernel/bench/bench.h"
#include "kernel/console/shell.h"
#include "smp.h"

static void check_bootinfo(const struct bootinfo *bi)
{
	if (bi->magic != BOOTINFO_MAGIC || bi->version != BOOTINFO_VERSION ||
	    bi->size != sizeof(*bi))
		panic("boot info: magic %llx version %u size %u, expected %llx %u %zu",
		      (unsigned long long)bi->magic, bi->version, bi->size,
		      (unsigned long long)BOOTINFO_MAGIC, BOOTINFO_VERSION, sizeof(*bi));
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
		arch_undefined_instruction();
	*(volatile uint64_t *)0xDEAD000ull = 1;
}

void kmain(const struct bootinfo *bi)
{
	int testing;

	serial_init();
	arch_init_boot_cpu();
	check_bootinfo(bi);
	boot_info = bi;
	kprintf("\nhostmem kernel: boot info v%u, cmdline \"%s\"\n", bi->version, bi->cmdline);
	arch_init_memory();
	memory_report();
	kprintf("boot: kernel running %llu ms after loader entry (%s %llu MHz)\n",
	        (unsigned long long)uptime_ms(), ARCH_CLOCK_NAME,
	        (unsigned long long)(bi->tsc_hz / 1000000));
	smp_start_others();
	testing = cmdline_is("mode", "test");
	memory_init(testing);
	crash_if_asked();
	if (testing)
		qemu_exit(ktest_run_all() ? EXIT_FAIL : EXIT_PASS);
	if (cmdline_is("mode", "bench"))
		qemu_exit(bench_run() ? EXIT_FAIL : EXIT_PASS);
	if (cmdline_is("mode", "console"))
		shell_run();             /* a terminal or a script drives it; quit exits */
	qemu_exit(demo_run() ? EXIT_FAIL : EXIT_PASS);
}
