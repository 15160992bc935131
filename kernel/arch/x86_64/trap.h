#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>
#include <stdbool.h>

/* What trap.S leaves on the stack, lowest address first. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};

enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_UD = 6, VEC_DF = 8,
	VEC_GP = 13, VEC_PF = 14, VEC_MC = 18,
};

/* Page-fault error code bits. */
#define PF_P     0x01   /* the page was present: a protection fault */
#define PF_W     0x02   /* a write */
#define PF_U     0x04   /* from ring 3 */
#define PF_RSVD  0x08   /* a reserved bit was set in a paging entry */
#define PF_I     0x10   /* an instruction fetch */

/* What fault recovery records of a trap (kernel/recover.c). */
static inline uint64_t trap_vector(const struct trapframe *tf) { return tf->vector; }
static inline uint64_t trap_error(const struct trapframe *tf) { return tf->error; }
static inline uint64_t trap_pc(const struct trapframe *tf) { return tf->rip; }

/*
 * What a recorded fault says (struct fault_info's vector and error), the
 * same questions on every architecture (tests, the console): which access
 * it was, whether a translation existed (a protection fault) or not.
 */
enum fault_access { FAULT_NONE, FAULT_READ, FAULT_WRITE, FAULT_EXEC };
#define TRAP_VEC_UNDEFINED   VEC_UD
#define TRAP_FAULT_ERROR_NAME "#PF error"
static inline enum fault_access trap_fault_kind(uint64_t vector, uint64_t error)
{
	if (vector != VEC_PF)
		return FAULT_NONE;
	return error & PF_I ? FAULT_EXEC : error & PF_W ? FAULT_WRITE : FAULT_READ;
}
static inline bool trap_fault_present(uint64_t vector, uint64_t error)
{
	return vector == VEC_PF && (error & PF_P);
}

/* The callee-saved state of a recovery point (context.S): rbx rbp r12-r15
 * rsp rip rflags. */
#define RECOVER_REGS 9

struct cpu;
/* This CPU's own GDT and TSS (IST stacks), and its copy of the IDT. */
void gdt_load(struct cpu *c);
void idt_load(struct cpu *c);
/* Builds the IDT every CPU copies; once, on the boot CPU, first. */
void idt_init(void);
/* IPIs and the APIC's spurious vector (smp.c). */
void smp_interrupt(uint64_t vector);
const char *trap_name(uint64_t vector);

/* Called by trap.S for every exception. */
void trap(struct trapframe *tf);

#endif
