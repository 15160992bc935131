/*
 * The AP trampoline: what a started CPU runs, copied by smp.c to the low
 * pages the loader kept (boot info ap_tramp_phys, below 1 MiB, call it B).
 * A STARTUP IPI starts the CPU in real mode at B (CS = B >> 4, IP = 0); the
 * code below is position-independent and learns B from CS:
 *
 *   real mode      load the trampoline's GDT, set CR0.PE, far jump through
 *                  tramp_pm (patched: B + tramp_pm32) into protected mode
 *   protected      PAE, CR3 = B + 4 KiB (the trampoline's PML4: the kernel's
 *                  upper half plus the identity map of the first 2 MiB),
 *                  EFER.LME|NXE, CR0.PG|WP, far return into 64-bit code
 *   long mode      the stack, CPU block and kernel CR3 smp.c left in the
 *                  data below; jump to ap_entry in the kernel's upper half,
 *                  which switches to the kernel's own page tables.
 *
 * Page B + 0: this code and its data; B + 4K: PML4; B + 8K: PDPT; B + 12K: PD.
 * The stack for the short 32-bit stretch is the top of page B + 0.
 */
#define OFF(x) ((x) - tramp_start)

	.section .rodata
	.balign 16
	.globl tramp_start, tramp_end
	.globl tramp_gdtr, tramp_pm, tramp_stack, tramp_cpu, tramp_cr3, tramp_entry
	.globl tramp_pm32, tramp_gdt
	.code16
tramp_start:
	cli
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	movzwl	%ax, %ebx
	shll	$4, %ebx			/* %ebx = B, kept to the end */
	lgdtl	OFF(tramp_gdtr)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	*OFF(tramp_pm)

	.code32
tramp_pm32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	leal	0x1000(%ebx), %esp
	movl	%cr4, %eax
	orl	$0x20, %eax			/* PAE */
	movl	%eax, %cr4
	leal	0x1000(%ebx), %eax
	movl	%eax, %cr3
	movl	$0xC0000080, %ecx
	rdmsr
	orl	$0x900, %eax			/* LME | NXE */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80010001, %eax		/* PG | WP | PE */
	movl	%eax, %cr0
	leal	OFF(lm64)(%ebx), %eax
	pushl	$0x18
	pushl	%eax
	lret

	.code64
lm64:
	movq	OFF(tramp_stack)(%rbx), %rsp
	movq	OFF(tramp_cpu)(%rbx), %rdi
	movq	OFF(tramp_cr3)(%rbx), %rsi
	movq	OFF(tramp_entry)(%rbx), %rax
	jmp	*%rax

	.balign 8
tramp_gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF		/* 0x08: 32-bit code */
	.quad	0x00CF92000000FFFF		/* 0x10: data */
	.quad	0x00AF9A000000FFFF		/* 0x18: 64-bit code */
tramp_gdtr:					/* base patched: B + OFF(tramp_gdt) */
	.word	4 * 8 - 1
	.long	0
	.balign 8
tramp_pm:					/* offset patched: B + OFF(tramp_pm32) */
	.long	0
	.word	0x08
	.balign 8
tramp_stack:	.quad 0
tramp_cpu:	.quad 0
tramp_cr3:	.quad 0
tramp_entry:	.quad 0
tramp_end:


/*
 * ap_entry: the first kernel code a started CPU runs, on the trampoline's
 * page tables with %rdi = its struct cpu, %rsi = the kernel's CR3.  After
 * the switch the low pages are unmapped, but this runs in the upper half;
 * the trampoline's GDT stays loaded, unused, until ap_main loads the CPU's
 * own (nothing reloads a segment or takes an interrupt before that).
 */
	.text
	.globl ap_entry
ap_entry:
	movq	%rsi, %cr3
	xorl	%ebp, %ebp
	call	ap_main
1:	cli
	hlt
	jmp	1b
