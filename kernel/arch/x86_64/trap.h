#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

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
