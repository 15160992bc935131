/*
 * Leaving the firmware and entering the kernel.
 *
 * ExitBootServices takes the key of the latest memory map; any allocation
 * or console output in between can change the map and void the key.  So the
 * map is read into a buffer allocated earlier, and ExitBootServices follows
 * with no firmware call in between.  A stale key (EFI_INVALID_PARAMETER,
 * e.g. a timer event allocated meanwhile) is retried a few times into the
 * same buffer; after a failed ExitBootServices only memory-map services are
 * allowed, and GetMemoryMap is the only one used.
 *
 * The trampoline is the one piece of code that runs on both sides of the
 * CR3 switch, so it sits in its own page-aligned stretch of .text that the
 * new tables identity-map.  Machine state at the kernel entry point:
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

#define EFI_RETRIES 4

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

/* Take the final memory map and leave boot services; no output after this. */
EFI_STATUS handover_exit_boot(struct loader *ld)
{
	UINTN size, key, dsize;
	UINT32 dver;
	EFI_STATUS st = EFI_INVALID_PARAMETER;

	for (int i = 0; i < EFI_RETRIES && st == EFI_INVALID_PARAMETER; i++) {
		size = ld->mmap_cap;
		st = BS->GetMemoryMap(&size, ld->mmap, &key, &dsize, &dver);
		if (EFI_ERROR(st))
			return st;
		st = BS->ExitBootServices(ld->image, key);
	}
	if (EFI_ERROR(st))
		return st;
	ld->bi->mmap_phys = (uintptr_t)ld->mmap;
	ld->bi->mmap_size = size;
	ld->bi->mmap_desc_size = dsize;
	ld->bi->mmap_desc_version = dver;
	return EFI_SUCCESS;
}

void __attribute__((noreturn)) handover_jump(struct loader *ld)
{
	void (*tramp)(uint64_t, uint64_t, uint64_t) = (void *)handover_tramp;

	tramp(ld->pml4, ld->plan.entry, DIRECT_MAP_BASE + (uintptr_t)ld->bi);
	__builtin_unreachable();
}
