/*
 * Every exception arrives in trap().  A synchronous exception taken at EL1
 * is decoded from ESR_EL1: an instruction or data abort goes to
 * page_fault(), the one routine that decides what a fault on managed memory
 * means (hostmem resolves demand-zero and guard pages there, and reads the
 * raw ESR_EL1 itself); anything it does not resolve, and every other
 * synchronous exception, is raised as an exception code to the innermost
 * recovery point, or panics the kernel when there is none.  Interrupts,
 * SError and anything from EL0 or SP_EL0 are never expected: panic.
 */
#include "trap.h"
#include "machine.h"
#include "kernel/recover.h"
#include "kernel/panic.h"
#include "kernel/print.h"
#include "kernel/qemu.h"
#include "kernel/memory.h"
#include "hostmem/hostmem.h"

extern const char trap_vectors[];

void trap_init(void)
{
	__asm__ volatile("msr vbar_el1, %0; isb" :: "r"(trap_vectors) : "memory");
}

static uint32_t exception_code(uint64_t esr)
{
	switch (ESR_EL1_EC(esr)) {
	case EC_UNKNOWN: return STATUS_ILLEGAL_INSTRUCTION;
	case EC_BRK:     return STATUS_BREAKPOINT;
	default:         return STATUS_ACCESS_VIOLATION;
	}
}

/* The one page-fault routine.  Lower-half addresses are hostmem's: it may
 * resolve the fault (a demand-zero page gets its frame) or name the
 * exception (a guard page, an access violation).  An abort whose FAR is not
 * valid, or one in the upper half, is an access violation. */
static void page_fault(struct trapframe *tf)
{
	uint64_t va = tf->far;
	uint32_t code = STATUS_ACCESS_VIOLATION;

	if (!(tf->esr & ESR_EL1_FNV) && va < HM_USER_LIMIT)
		code = memory_fault(va, (uint32_t)tf->esr);
	if (code == 0)
		return;
	raise_exception(tf, code, va);
}

void trap(struct trapframe *tf)
{
	uint64_t ec = ESR_EL1_EC(tf->esr);

	if (tf->kind != VEC_SYNC)
		panic_trap(tf, STATUS_ACCESS_VIOLATION, tf->far);
	if (ec == EC_DABT_SAME || ec == EC_IABT_SAME) {
		page_fault(tf);
		return;
	}
	raise_exception(tf, exception_code(tf->esr), ec == EC_PC_ALIGN ? tf->far : 0);
}

const char *trap_name(uint64_t ec)
{
	switch (ec) {
	case EC_UNKNOWN:   return "undefined instruction";
	case EC_IABT_SAME: return "instruction abort";
	case EC_PC_ALIGN:  return "PC alignment fault";
	case EC_DABT_SAME: return "data abort";
	case EC_SP_ALIGN:  return "SP alignment fault";
	case EC_BRK:       return "BRK breakpoint";
	default:           return "exception";
	}
}

static const char *const kind_names[16] = {
	"sync (SP_EL0)", "IRQ (SP_EL0)", "FIQ (SP_EL0)", "SError (SP_EL0)",
	"sync", "IRQ", "FIQ", "SError",
	"sync from EL0", "IRQ from EL0", "FIQ from EL0", "SError from EL0",
	"sync from AArch32", "IRQ from AArch32", "FIQ from AArch32", "SError from AArch32",
};

/* The register dump of an exception nobody expected. */
void panic_trap(struct trapframe *tf, uint32_t code, uint64_t addr)
{
	uint64_t sctlr, ttbr0, ttbr1, tcr;

	panic_begin();
	__asm__ volatile("mrs %0, sctlr_el1; mrs %1, ttbr0_el1; mrs %2, ttbr1_el1; mrs %3, tcr_el1"
	                 : "=r"(sctlr), "=r"(ttbr0), "=r"(ttbr1), "=r"(tcr));
	kprintf("\nPANIC: unexpected exception %s: %s (EC 0x%02lx) code=0x%08x\n",
	        kind_names[tf->kind & 15], trap_name(ESR_EL1_EC(tf->esr)), ESR_EL1_EC(tf->esr), code);
	kprintf("  ELR=%p SPSR=%08lx ESR=%08lx\n", (void *)tf->elr, tf->spsr, tf->esr);
	kprintf("  SP =%p FAR=%p\n", (void *)tf->sp, (void *)addr);
	kprintf("  SCTLR=%08lx TCR=%p TTBR0=%p TTBR1=%p\n", sctlr, (void *)tcr, (void *)ttbr0,
	        (void *)ttbr1);
	for (int i = 0; i < 30; i += 3)
		kprintf("  X%-2d=%p X%-2d=%p X%-2d=%p\n", i, (void *)tf->x[i], i + 1,
		        (void *)tf->x[i + 1], i + 2, (void *)tf->x[i + 2]);
	kprintf("  X30=%p (LR)\n", (void *)tf->x[30]);
	panic_backtrace(tf->elr, tf->x[29]);
	qemu_exit(EXIT_PANIC);
}
