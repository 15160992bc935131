/*
 * The end of the line for broken invariants and unexpected exceptions.  The
 * output is meant for a person reading the serial log: what happened, the
 * registers, and return addresses that `addr2line -e build/kernel.elf` turns
 * into lines (the test runner does that for you).
 */
#include <stdarg.h>
#include "panic.h"
#include "print.h"
#include "cpu.h"
#include "qemu.h"

extern char boot_stack_bottom[], boot_stack_top[];
static int panicking;

void qemu_exit(unsigned code)
{
	outb(0xF4, (uint8_t)code);
	halt_forever();
	__builtin_unreachable();
}

/* Frame pointers chain the stack: [rbp] is the caller's rbp, [rbp+8] the
 * return address.  Stop at anything outside the kernel stack. */
static void backtrace(uint64_t rip, uint64_t rbp)
{
	kprintf("backtrace:\n  #0 %p\n", (void *)rip);
	for (int i = 1; i < 24; i++) {
		if (rbp < (uint64_t)boot_stack_bottom || rbp + 16 > (uint64_t)boot_stack_top || (rbp & 7))
			break;
		uint64_t *frame = (uint64_t *)rbp;
		if (!frame[1])
			break;
		kprintf("  #%d %p\n", i, (void *)frame[1]);
		rbp = frame[0];
	}
}

static void enter_panic(void)
{
	if (panicking++) {   /* a fault while reporting one: leave at once */
		kprintf("\nPANIC: fault while panicking\n");
		qemu_exit(EXIT_PANIC);
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;

	enter_panic();
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace((uint64_t)__builtin_return_address(0), (uint64_t)__builtin_frame_address(0));
	qemu_exit(EXIT_PANIC);
}

void panic_trap(struct trapframe *tf, uint32_t code, uint64_t addr)
{
	enter_panic();
	kprintf("\nPANIC: unexpected exception %s (vector %lu) error=0x%lx code=0x%08x\n",
	        trap_name(tf->vector), tf->vector, tf->error, code);
	kprintf("  RIP=%p CS=%04lx RFLAGS=%08lx\n", (void *)tf->rip, tf->cs, tf->rflags);
	kprintf("  RSP=%p SS=%04lx CR2=%p\n", (void *)tf->rsp, tf->ss, (void *)addr);
	kprintf("  CR0=%p CR3=%p CR4=%p\n", (void *)read_cr0(), (void *)read_cr3(), (void *)read_cr4());
	kprintf("  RAX=%p RBX=%p RCX=%p\n", (void *)tf->rax, (void *)tf->rbx, (void *)tf->rcx);
	kprintf("  RDX=%p RSI=%p RDI=%p\n", (void *)tf->rdx, (void *)tf->rsi, (void *)tf->rdi);
	kprintf("  RBP=%p R8 =%p R9 =%p\n", (void *)tf->rbp, (void *)tf->r8, (void *)tf->r9);
	kprintf("  R10=%p R11=%p R12=%p\n", (void *)tf->r10, (void *)tf->r11, (void *)tf->r12);
	kprintf("  R13=%p R14=%p R15=%p\n", (void *)tf->r13, (void *)tf->r14, (void *)tf->r15);
	backtrace(tf->rip, tf->rbp);
	qemu_exit(EXIT_PANIC);
}
