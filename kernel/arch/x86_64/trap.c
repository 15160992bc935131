/*
 * Every CPU exception arrives in trap().  A page fault goes to page_fault(),
 * the one routine that decides what a fault on managed memory means (hostmem
 * resolves demand-zero and guard pages there); anything it does not resolve,
 * and every other exception, is raised as an exception code to the innermost
 * recovery point, or panics the kernel when there is none.
 */
#include "trap.h"
#include "cpu.h"
#include "kernel/recover.h"
#include "kernel/panic.h"
#include "kernel/print.h"
#include "kernel/qemu.h"
#include "kernel/memory.h"
#include "hostmem/hostmem.h"

static uint32_t exception_code(uint64_t vector)
{
	switch (vector) {
	case VEC_DE: return STATUS_INTEGER_DIVIDE_BY_ZERO;
	case VEC_BP: return STATUS_BREAKPOINT;
	case VEC_UD: return STATUS_ILLEGAL_INSTRUCTION;
	default:     return STATUS_ACCESS_VIOLATION;
	}
}

/* The one page-fault routine.  Lower-half addresses are hostmem's: it may
 * resolve the fault (a demand-zero page gets its frame) or name the exception
 * (a guard page, an access violation).  A reserved-bit fault is a corrupt
 * page table, never something hostmem can resolve. */
static void page_fault(struct trapframe *tf)
{
	uint64_t va = read_cr2();
	uint32_t code = STATUS_ACCESS_VIOLATION;

	/* With CR2 read, interrupts may come back if the faulting code had
	 * them: hostmem's lock may then sleep and shootdowns arrive as IPIs. */
	if (va < HM_USER_LIMIT && !(tf->error & PF_RSVD)) {
		if (tf->rflags & RFLAGS_IF)
			__asm__ volatile("sti" ::: "memory");
		code = memory_fault(va, (uint32_t)tf->error);
		__asm__ volatile("cli" ::: "memory");
	}
	if (code == 0)
		return;
	raise_exception(tf, code, va);
}

void trap(struct trapframe *tf)
{
	/* These run on IST stacks: there is no safe way back to a recovery point. */
	if (tf->vector == VEC_DF || tf->vector == VEC_NMI || tf->vector == VEC_MC)
		panic_trap(tf, exception_code(tf->vector), read_cr2());
	if (tf->vector == VEC_PF) {
		page_fault(tf);
		return;
	}
	if (tf->vector >= 32) {
		smp_interrupt(tf->vector);
		return;
	}
	raise_exception(tf, exception_code(tf->vector), 0);
}

/* The register dump of an exception nobody expected. */
void panic_trap(struct trapframe *tf, uint32_t code, uint64_t addr)
{
	panic_begin();
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
	panic_backtrace(tf->rip, tf->rbp);
	qemu_exit(EXIT_PANIC);
}
