/*
 * Kernel entry.  The loader jumps here on its page tables with %rdi = the boot
 * info (direct-map address), interrupts off, and %rsp not valid: load our own
 * stack before anything touches it.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	leaq	boot_stack_top(%rip), %rsp
	xorl	%ebp, %ebp		/* ends the backtrace */
	call	kmain
1:	cli
	hlt
	jmp	1b

	.section .bss
	.balign 4096
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.space	64 * 1024
boot_stack_top:
