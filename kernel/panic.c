/*
 * The end of the line for broken invariants and unexpected exceptions.  The
 * output is meant for a person reading the serial log: what happened, the
 * registers, and return addresses that `addr2line -e build/kernel.elf` turns
 * into lines (the test runner does that for you).
 */
#include <stdarg.h>
#include "panic.h"
#include "print.h"
#include "qemu.h"

extern char boot_stack_bottom[], boot_stack_top[];
static int panicking;

/* Frame pointers chain the stack: [fp] is the caller's fp, [fp+8] the
 * return address.  Stop at anything outside the kernel stack. */
void panic_backtrace(uint64_t pc, uint64_t fp)
{
	kprintf("backtrace:\n  #0 %p\n", (void *)pc);
	for (int i = 1; i < 24; i++) {
		if (fp < (uint64_t)boot_stack_bottom || fp + 16 > (uint64_t)boot_stack_top || (fp & 7))
			break;
		uint64_t *frame = (uint64_t *)fp;
		if (!frame[1])
			break;
		kprintf("  #%d %p\n", i, (void *)frame[1]);
		fp = frame[0];
	}
}

void panic_begin(void)
{
	if (panicking++) {   /* a fault while reporting one: leave at once */
		kprintf("\nPANIC: fault while panicking\n");
		qemu_exit(EXIT_PANIC);
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	panic_backtrace((uint64_t)__builtin_return_address(0), (uint64_t)__builtin_frame_address(0));
	qemu_exit(EXIT_PANIC);
}

