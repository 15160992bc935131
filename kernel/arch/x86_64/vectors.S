/*
 * Exception entry points.  Every vector lands in trap_common with the same
 * frame: the CPU's (ss, rsp, rflags, cs, rip), an error code (0 pushed by the
 * entry when the CPU gives none), the vector, then all general registers, in
 * the order of struct trapframe (trap.h; trap() is in trap.c).
 */
	.text

.macro VECTOR vec, has_error
	.globl trap_entry_\vec
trap_entry_\vec:
	.if \has_error == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
.endm

VECTOR 0, 0
VECTOR 1, 0
VECTOR 2, 0
VECTOR 3, 0
VECTOR 4, 0
VECTOR 5, 0
VECTOR 6, 0
VECTOR 7, 0
VECTOR 8, 1
VECTOR 9, 0
VECTOR 10, 1
VECTOR 11, 1
VECTOR 12, 1
VECTOR 13, 1
VECTOR 14, 1
VECTOR 15, 0
VECTOR 16, 0
VECTOR 17, 1
VECTOR 18, 0
VECTOR 19, 0
VECTOR 20, 0
VECTOR 21, 1
VECTOR 22, 0
VECTOR 23, 0
VECTOR 24, 0
VECTOR 25, 0
VECTOR 26, 0
VECTOR 27, 0
VECTOR 28, 0
VECTOR 29, 1
VECTOR 30, 1
VECTOR 31, 0
VECTOR 240, 0		/* IPI_WAKE (apic.h) */
VECTOR 241, 0		/* IPI_SHOOTDOWN */
VECTOR 242, 0		/* IPI_BARRIER */
VECTOR 255, 0		/* the APIC's spurious vector */

/*
 * COM1's interrupt (IRQ4, vector 0x24 after pic_init) only wakes the CPU
 * from the hlt in serial_getc: acknowledge it at the PIC and return.  It
 * touches no register but %al.
 */
	.globl irq_com1
irq_com1:
	pushq	%rax
	movb	$0x20, %al
	outb	%al, $0x20
	popq	%rax
	iretq

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi
	call	trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl trap_entries
trap_entries:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	trap_entry_\v
	.endr
