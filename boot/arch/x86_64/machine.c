/*
 * The x86-64 side of the loader: the TSC, the AP pages below 1 MiB, leaving
 * QEMU, and the jump into the kernel.
 *
 * The trampoline is the one piece of code that runs on both sides of the
 * CR3 switch, so it sits in its own page-aligned stretch of .text that the
 * new tables identity-map (paging.c).  Machine state at the kernel entry
 * point:
 *
 *   CR3  = bootinfo.pml4_phys (tables described in paging.c)
 *   RDI  = DIRECT_MAP_BASE + physical address of struct bootinfo
 *   RIP  = ELF entry;  interrupts off;  EFER.NXE = 1;  CR0.WP = 1;
 *   CR4.PGE = 0, so no global TLB entry of the firmware's tables survives
 *   RSP, GDTR, IDTR still point into firmware memory that the new tables
 *   do not map: the kernel loads its own stack, GDT and IDT before any
 *   push, segment load or exception.
 */
#include "boot/services.h"
#include "machine.h"

#define DEBUG_EXIT_PORT  0xf4
#define DEBUG_EXIT_FAIL  0x13       /* QEMU exit status (0x13 << 1) | 1 = 39 */

uint64_t machine_ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The TSC's rate is not architectural: count it across the firmware's
 * 10 ms Stall. */
uint64_t machine_ticks_hz(void)
{
	uint64_t t0 = machine_ticks();

	BS->Stall(10000);
	return (machine_ticks() - t0) * 100;
}

/* Low pages for the kernel's AP trampoline, taken before the memory map is
 * read so the final map shows them as the kernel's.  The first free run
 * from 0x8000 up; none (0) just means one CPU. */
void machine_reserve(struct loader *ld)
{
	for (EFI_PHYSICAL_ADDRESS pa = 0x8000; pa + BOOTINFO_AP_PAGES * PAGE_SIZE <= 0x9F000;
	     pa += PAGE_SIZE) {
		EFI_PHYSICAL_ADDRESS at = pa;

		if (!EFI_ERROR(BS->AllocatePages(AllocateAddress, (EFI_MEMORY_TYPE)BOOTINFO_MEM_KERNEL,
		                                 BOOTINFO_AP_PAGES, &at))) {
			ld->bi->ap_tramp_phys = at;
			return;
		}
	}
}

void machine_exit_fail(void)
{
	__asm__ volatile("outb %0, %1"
			 : : "a"((uint8_t)DEBUG_EXIT_FAIL), "Nd"(DEBUG_EXIT_PORT));
	/* Without the debug-exit device the write does nothing: stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * handover_tramp(cr3 = rdi, entry = rsi, bootinfo = rdx), SysV ABI.
 * rdmsr/wrmsr clobber edx, so the argument moves to r8 first.  NXE must be
 * set before the new CR3 is live: its NX bits are reserved bits otherwise.
 * Clearing CR4.PGE flushes global translations, which a CR3 load keeps.
 */
__asm__(
	"	.section .text.handover, \"ax\", @progbits\n"
	"	.balign 4096\n"
	"	.hidden handover_tramp\n"
	"	.globl handover_tramp\n"
	"handover_tramp:\n"
	"	cli\n"
	"	mov %rdx, %r8\n"
	"	mov $0xc0000080, %ecx\n"   /* IA32_EFER */
	"	rdmsr\n"
	"	or $0x800, %eax\n"         /* NXE */
	"	wrmsr\n"
	"	mov %cr0, %rax\n"
	"	or $0x10000, %rax\n"       /* WP */
	"	mov %rax, %cr0\n"
	"	mov %cr4, %rax\n"
	"	and $~0x80, %rax\n"       /* PGE */
	"	mov %rax, %cr4\n"
	"	mov %rdi, %cr3\n"
	"	mov %r8, %rdi\n"
	"	xor %ebp, %ebp\n"
	"	jmp *%rsi\n"
	"	.hidden handover_tramp_end\n"
	"	.globl handover_tramp_end\n"
	"handover_tramp_end:\n"
	"	.previous\n");

void __attribute__((noreturn)) handover_jump(struct loader *ld)
{
	void (*tramp)(uint64_t, uint64_t, uint64_t) = (void *)handover_tramp;

	tramp(ld->pml4, ld->plan.entry, DIRECT_MAP_BASE + (uintptr_t)ld->bi);
	__builtin_unreachable();
}
