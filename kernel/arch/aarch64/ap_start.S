/*
 * Where a CPU started with PSCI CPU_ON begins (smp.c): at EL1, MMU and
 * caches off, at the physical address of ap_start, with x0 = the physical
 * address of struct ap_boot.  With the MMU off every load here is a device
 * access to memory, so smp.c cleans what it wrote to the point of
 * coherency first.  The CPU takes the boot CPU's MAIR, TCR, TTBR1 and
 * SCTLR, and for TTBR0 an identity map of this page only, so the
 * instruction after the MMU comes on is still fetched; then it leaves for
 * the upper half (ap_main), which gives TTBR0 to hostmem's table.  The
 * page holds nothing else (.balign 4096, well under a page).
 *
 * struct ap_boot: mair tcr ttbr1 ttbr0 sctlr stack cpu entry (8 bytes each).
 */
	.section .text.ap, "ax"
	.balign	4096
	.globl	ap_start
ap_start:
	msr	daifset, #0xf
	ldp	x1, x2, [x0, #0]
	msr	mair_el1, x1
	msr	tcr_el1, x2
	ldp	x1, x2, [x0, #16]
	msr	ttbr1_el1, x1
	msr	ttbr0_el1, x2
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	ldp	x4, x2, [x0, #40]	/* all of ap_boot is read before the MMU is on: */
	ldr	x3, [x0, #56]		/* the identity map holds this page only */
	ldr	x1, [x0, #32]
	msr	sctlr_el1, x1
	isb
	mov	sp, x4
	mov	x0, x2
	mov	x29, xzr
	mov	x30, xzr
	br	x3
