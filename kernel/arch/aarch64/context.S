/*
 * The two halves of fault recovery (kernel/recover.h; the chain is kept in
 * recover.c): recover_save records the callee-saved registers x19..x28, the
 * frame pointer, the link register (where to return), the stack pointer
 * and the interrupt mask, like setjmp; recover_jump, called from trap() on
 * the same stack, restores them so recover_save returns a second time with
 * a non-zero value.  Restoring sp discards the trap frame: no eret is
 * needed because the fault happened at EL1 on this stack; DAIF is restored
 * instead, so the mask is what it was at try_call (the exception had set
 * it all).
 *
 * struct recover_point layout: x19..x28, x29, x30, sp, daif (8 bytes each).
 */
	.text
	.globl recover_save, recover_jump
recover_save:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x1, sp
	mrs	x2, daif
	stp	x1, x2, [x0, #96]
	mov	x0, #0
	ret

recover_jump:
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldp	x2, x3, [x0, #96]
	mov	sp, x2
	msr	daif, x3
	mov	w0, w1
	ret
