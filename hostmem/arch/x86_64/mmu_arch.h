/*
 * mmu_arch.h (x86-64) - what the software MMU's x86-64 walk reports
 * (walk.c).  Modelled CPU state: CR0.WP=1, EFER.NXE=1, CR4.SMEP=SMAP=0, no
 * PKE, no PCID.  Lower-half addresses are user-mode accesses, upper-half
 * ones are supervisor accesses.
 */
#ifndef HOSTMEM_MMU_ARCH_H
#define HOSTMEM_MMU_ARCH_H

/* #PF error code bits, as the CPU pushes them. */
#define PF_P     0x01u  /* 1: protection violation or reserved bit; 0: not present */
#define PF_W     0x02u  /* the access was a write */
#define PF_U     0x04u  /* the access was user-mode */
#define PF_RSVD  0x08u  /* a reserved bit was set in a paging-structure entry */
#define PF_I     0x10u  /* the access was an instruction fetch */
/* Set in every #PF result of mmu_access: the hardware error code alone can
 * be 0 (a supervisor read of a not-present page), which must not read as
 * success.  The code itself is MMU_SYNDROME(result), also in mmu.syndrome,
 * and what hostmem_fault takes. */
#define MMU_PF   0x80000000u
#define MMU_SYNDROME(r)  ((uint32_t)(r) & 0xFFFFu)
/* Not a #PF: a non-canonical address raises #GP. */
#define MMU_GP   0x10000u

#endif
