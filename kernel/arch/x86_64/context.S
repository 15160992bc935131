/*
 * The two halves of fault recovery (kernel/recover.h; the chain is kept in recover.c): recover_save records
 * the callee-saved registers, the stack pointer and the return address, like
 * setjmp; recover_jump, called from the trap handler on the same stack,
 * restores them so recover_save returns a second time with a non-zero value.
 * Restoring %rsp discards the trap frame: no iretq is needed because the
 * fault happened in ring 0 on this stack; the flags are restored instead,
 * so the interrupt flag is what it was at try_call (the exception's gate
 * had turned it off).
 *
 * struct recover_point layout: rbx rbp r12 r13 r14 r15 rsp rip rflags (8 bytes each).
 */
	.text
	.globl recover_save, recover_jump
recover_save:
	movq	%rbx, 0(%rdi)
	movq	%rbp, 8(%rdi)
	movq	%r12, 16(%rdi)
	movq	%r13, 24(%rdi)
	movq	%r14, 32(%rdi)
	movq	%r15, 40(%rdi)
	leaq	8(%rsp), %rax		/* the caller's rsp after our ret */
	movq	%rax, 48(%rdi)
	movq	(%rsp), %rax
	movq	%rax, 56(%rdi)
	pushfq
	popq	%rax
	movq	%rax, 64(%rdi)
	xorl	%eax, %eax
	ret

recover_jump:
	movq	0(%rdi), %rbx
	movq	8(%rdi), %rbp
	movq	16(%rdi), %r12
	movq	24(%rdi), %r13
	movq	32(%rdi), %r14
	movq	40(%rdi), %r15
	movq	48(%rdi), %rsp
	pushq	64(%rdi)
	popfq
	movl	%esi, %eax
	jmp	*56(%rdi)
