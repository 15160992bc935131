/*
 * Fault recovery for tests, in the spirit of Windows SEH: run a function; if
 * it faults, the fault is caught, described, and returned as an exception
 * code (STATUS_ACCESS_VIOLATION, STATUS_GUARD_PAGE_VIOLATION, ...) instead of
 * a panic, and the caller goes on.  Recovery points nest.
 *
 * A fault outside any recovery point is a kernel panic with a register dump.
 */
#ifndef KERNEL_RECOVER_H
#define KERNEL_RECOVER_H

#include <stdint.h>
#include "trap.h"

#define STATUS_BREAKPOINT            0x80000003u
#define STATUS_ILLEGAL_INSTRUCTION   0xC000001Du
#define STATUS_INTEGER_DIVIDE_BY_ZERO 0xC0000094u

struct fault_info {
	uint32_t code;      /* the exception code; 0 when nothing faulted */
	uint32_t vector;    /* x86-64: the vector; AArch64: ESR_EL1's exception class */
	uint64_t error;     /* the CPU's error code (AArch64: ESR_EL1 whole) */
	uint64_t addr;      /* the faulting address: CR2, FAR_EL1 */
	uint64_t rip;       /* the faulting instruction: RIP, ELR_EL1 */
};

/* Runs fn(arg).  Returns 0 if it returned normally, otherwise the exception
 * code of the fault that stopped it (and fills *info when info is not NULL). */
uint32_t try_call(void (*fn)(void *), void *arg, struct fault_info *info);

/* One access, as a test writes it: each returns 0 or the exception code. */
uint32_t try_read(const volatile void *p, uint8_t *out, struct fault_info *info);
uint32_t try_write(volatile void *p, uint8_t value, struct fault_info *info);
uint32_t try_exec(const void *code, struct fault_info *info);

/* The trap path: deliver an exception to the innermost recovery point, or
 * panic when there is none.  Does not return. */
void raise_exception(struct trapframe *tf, uint32_t code, uint64_t addr)
	__attribute__((noreturn));

#endif
