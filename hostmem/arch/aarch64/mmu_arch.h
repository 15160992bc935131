/*
 * mmu_arch.h (AArch64) - what the software MMU's VMSAv8-64 walk reports
 * (walk.c).
 *
 * Modelled state: stage 1 of the EL1&0 regime, every access an EL1 access.
 *   TCR_EL1    TG0 = 4 KiB granule, T0SZ = 16: TTBR0_EL1 (m->root) covers
 *              [0, 2^48) from level 0; EPD1 = 1: no TTBR1 walks, so an
 *              address with any of bits 63:48 set takes a level-0
 *              translation fault; TBI0 = TBI1 = 0; DS = 0 (no FEAT_LPA2:
 *              output addresses are at most 48 bits); IPS = m->maxphyaddr
 *              bits (48 at most); HA = HD = m->hafdbs; HPD0 = 0
 *              (APTable and PXNTable apply).
 *   MAIR_EL1   Attr0 = 0xFF normal write-back, Attr1 = 0x44 normal
 *              non-cacheable, Attr2 = 0x00 device-nGnRnE, Attr3..7 = 0x00.
 *   SCTLR_EL1  M = 1, WXN = 0.  PSTATE.PAN = 0.
 *
 * A fault result is the ESR_EL1 value the CPU would report: EC 0x25 (data
 * abort without a change of EL) with WnR for a write, EC 0x21 (instruction
 * abort without a change of EL) for a fetch; IL = 1; ISV = 0, FnV = 0 (FAR
 * holds the address), S1PTW = 0; the fault status code in bits 5:0 with the
 * level in its low two bits.  EC 0x21 and 0x25 both have bit 5 set, so
 * every ESR has bit 31 set and none is 0.
 */
#ifndef HOSTMEM_MMU_ARCH_H
#define HOSTMEM_MMU_ARCH_H

#define MMU_ESR_EC_IABT  (0x21u << 26)  /* instruction abort, same EL */
#define MMU_ESR_EC_DABT  (0x25u << 26)  /* data abort, same EL */
#define MMU_ESR_IL       (1u << 25)     /* a 32-bit instruction */
#define MMU_ESR_WNR      (1u << 6)      /* data abort: the access was a write */

/* The access part of the ESR, one per mmu_kind: 0x96000000, 0x96000040,
 * 0x86000000. */
#define MMU_ESR_READ     (MMU_ESR_EC_DABT | MMU_ESR_IL)
#define MMU_ESR_WRITE    (MMU_ESR_EC_DABT | MMU_ESR_IL | MMU_ESR_WNR)
#define MMU_ESR_EXEC     (MMU_ESR_EC_IABT | MMU_ESR_IL)

/* Fault status codes (DFSC, IFSC) at lookup level l (0..3). */
#define MMU_FSC_ADDRESS_SIZE(l)  (0x00u | (unsigned)(l))  /* 0b0000LL */
#define MMU_FSC_TRANSLATION(l)   (0x04u | (unsigned)(l))  /* 0b0001LL */
#define MMU_FSC_ACCESS_FLAG(l)   (0x08u | (unsigned)(l))  /* 0b0010LL */
#define MMU_FSC_PERMISSION(l)    (0x0Cu | (unsigned)(l))  /* 0b0011LL */

/* The result is the ESR itself, and what hostmem_fault takes. */
#define MMU_SYNDROME(r)  ((uint32_t)(r))
/* Required by the shared code (sim.c tells it apart from a fault), but the
 * AArch64 walk never returns it: an address outside TTBR0's range is a
 * translation fault, not a separate exception.  Bit 31 is clear, so no ESR
 * of the walk can equal it, and it differs from MMU_MISS. */
#define MMU_GP   0x10000u

#endif
