/*
 * The EL1 vector table: 16 entries of 0x80 bytes, 2 KiB aligned.  Every
 * entry saves the whole register file into a struct trapframe (trap.h) on
 * the current stack (SP_EL1: the kernel never runs on SP_EL0) and calls
 * trap(); if trap() returns, the registers, ELR_EL1 and SPSR_EL1 are
 * restored from the frame and eret retries the instruction (a resolved
 * page fault).  Fault recovery (context.S) leaves through recover_jump
 * instead, on the same stack, which discards the frame.
 */
#define TF_SIZE  304
#define TF_SP    248
#define TF_ELR   256
#define TF_ESR   272
#define TF_KIND  288

	.macro	vector kind
	.balign	0x80
	sub	sp, sp, #TF_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	b	trap_common
	.endm

	.text
	.balign	2048
	.globl	trap_vectors
trap_vectors:
	.irp	k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vector	\k
	.endr

trap_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	add	x1, sp, #TF_SIZE
	stp	x30, x1, [sp, #240]	/* x30, and sp as it was */
	mrs	x1, elr_el1
	mrs	x2, spsr_el1
	stp	x1, x2, [sp, #TF_ELR]
	mrs	x1, esr_el1
	mrs	x2, far_el1
	stp	x1, x2, [sp, #TF_ESR]
	str	x0, [sp, #TF_KIND]
	mov	x0, sp
	bl	trap
	ldp	x1, x2, [sp, #TF_ELR]
	msr	elr_el1, x1
	msr	spsr_el1, x2
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #TF_SIZE
	eret
