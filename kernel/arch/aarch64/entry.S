/*
 * Kernel entry (boot/arch/aarch64/machine.c describes the machine state).
 * First the firmware's lower half goes: TTBR0 walks off (TCR_EL1.EPD0) and
 * the TLB emptied, so nothing but the kernel's own upper half translates
 * until hostmem's table is installed (cpu.c, arch_init_memory).  Then our
 * stack (SP_EL1), and kmain with x0 = the boot info.
 */
	.section .text.entry, "ax"
	.globl _start
_start:
	msr	daifset, #0xf
	msr	spsel, #1
	mrs	x1, tcr_el1
	orr	x1, x1, #(1 << 7)	/* EPD0 */
	msr	tcr_el1, x1
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	adrp	x1, boot_stack_top
	add	x1, x1, :lo12:boot_stack_top
	mov	sp, x1
	mov	x29, xzr		/* ends the backtrace */
	mov	x30, xzr
	bl	kmain
1:	wfi
	b	1b

	.section .bss
	.balign 4096
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.space	64 * 1024
boot_stack_top:
