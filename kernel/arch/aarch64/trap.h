#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>
#include <stdbool.h>

/* What vectors.S leaves on the stack, lowest address first (TF_* there). */
struct trapframe {
	uint64_t x[31];             /* x0..x30 (x29 the frame pointer, x30 the link) */
	uint64_t sp;                /* SP_EL1 before the exception */
	uint64_t elr, spsr;         /* where it happened, and PSTATE there */
	uint64_t esr, far;          /* why, and the faulting address */
	uint64_t kind;              /* which vector: VEC_* */
	uint64_t pad;
};

/* The vector table's entries (VBAR_EL1 + 0x80 * kind). */
enum {
	VEC_SYNC_SP0, VEC_IRQ_SP0, VEC_FIQ_SP0, VEC_SERROR_SP0,
	VEC_SYNC, VEC_IRQ, VEC_FIQ, VEC_SERROR,           /* EL1 on SP_EL1: ours */
	VEC_SYNC_EL0, VEC_IRQ_EL0, VEC_FIQ_EL0, VEC_SERROR_EL0,
	VEC_SYNC_EL0_32, VEC_IRQ_EL0_32, VEC_FIQ_EL0_32, VEC_SERROR_EL0_32,
};

/* ESR_EL1's exception classes the kernel tells apart (ESR_EL1.EC).  The
 * names differ from hostmem's ESR_* (hostmem/arch/aarch64/pte_arch.h), which a
 * file may include beside these. */
#define ESR_EL1_EC(esr)    (((esr) >> 26) & 0x3F)
#define EC_UNKNOWN         0x00   /* an undefined instruction, among others */
#define EC_IABT_SAME       0x21   /* instruction abort taken at EL1 */
#define EC_PC_ALIGN        0x22
#define EC_DABT_SAME       0x25   /* data abort taken at EL1 */
#define EC_SP_ALIGN        0x26
#define EC_BRK             0x3C
/* Abort ISS fields: FAR not valid, write not read, the status code. */
#define ESR_EL1_FNV        (1ull << 10)
#define ESR_EL1_WNR        (1ull << 6)
#define ESR_EL1_FSC(esr)   ((esr) & 0x3F)

/* What fault recovery records of a trap (kernel/recover.c): the vector is
 * the exception class, the error code the whole ESR_EL1. */
static inline uint64_t trap_vector(const struct trapframe *tf) { return ESR_EL1_EC(tf->esr); }
static inline uint64_t trap_error(const struct trapframe *tf) { return tf->esr; }
static inline uint64_t trap_pc(const struct trapframe *tf) { return tf->elr; }

/* What a recorded fault says: kernel/arch/x86_64/trap.h explains.  The
 * fault status code tells a translation fault (no valid entry, 0x04-0x07)
 * from an Access-flag or permission fault on a valid one (0x08-0x0F). */
enum fault_access { FAULT_NONE, FAULT_READ, FAULT_WRITE, FAULT_EXEC };
#define TRAP_VEC_UNDEFINED   EC_UNKNOWN
#define TRAP_FAULT_ERROR_NAME "ESR"
static inline enum fault_access trap_fault_kind(uint64_t ec, uint64_t esr)
{
	if (ec == EC_IABT_SAME)
		return FAULT_EXEC;
	if (ec != EC_DABT_SAME)
		return FAULT_NONE;
	return esr & ESR_EL1_WNR ? FAULT_WRITE : FAULT_READ;
}
static inline bool trap_fault_present(uint64_t ec, uint64_t esr)
{
	return trap_fault_kind(ec, esr) != FAULT_NONE && ESR_EL1_FSC(esr) >= 0x08 && ESR_EL1_FSC(esr) <= 0x0F;
}

/* The callee-saved state of a recovery point (context.S): x19..x30, sp, DAIF. */
#define RECOVER_REGS 14

/* Points VBAR_EL1 at the vector table (this CPU). */
void trap_init(void);
/* An exception class by name. */
const char *trap_name(uint64_t ec);

/* Called by vectors.S for every exception. */
void trap(struct trapframe *tf);

#endif
