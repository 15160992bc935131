/*
 * The AArch64 translation regime the loader sets up for the kernel (and the
 * kernel keeps): the MAIR_EL1 attributes, the TCR_EL1 fields of the TTBR1
 * half, and the descriptor bits paging.c writes.  hostmem's encoding of the
 * lower half uses the same attribute indexes: 0 write-back, 1 non-cacheable
 * (PAGE_WRITECOMBINE), 2 device-nGnRnE (PAGE_NOCACHE).
 */
#ifndef BOOT_AARCH64_MACHINE_H
#define BOOT_AARCH64_MACHINE_H

#define MAIR_NORMAL_WB   0xFFull   /* inner and outer write-back, allocate */
#define MAIR_NORMAL_NC   0x44ull
#define MAIR_DEVICE      0x00ull   /* device-nGnRnE */
#define KERNEL_MAIR      (MAIR_NORMAL_WB | MAIR_NORMAL_NC << 8 | MAIR_DEVICE << 16 | \
                          MAIR_NORMAL_WB << 24)
#define ATTR_WB          0
#define ATTR_NC          1
#define ATTR_DEVICE      2

#define TCR_T1SZ_MASK    (0x3Full << 16)
#define TCR_T1SZ_48BIT   (16ull << 16)
#define TCR_A1           (1ull << 22)
#define TCR_EPD1         (1ull << 23)
#define TCR_IRGN1_MASK   (3ull << 24)
#define TCR_IRGN1_WBWA   (1ull << 24)
#define TCR_ORGN1_MASK   (3ull << 26)
#define TCR_ORGN1_WBWA   (1ull << 26)
#define TCR_SH1_MASK     (3ull << 28)
#define TCR_SH1_INNER    (3ull << 28)
#define TCR_TG1_MASK     (3ull << 30)
#define TCR_TG1_4K       (2ull << 30)

/* Descriptor bits (VMSAv8-64, 4 KiB granule). */
#define DESC_VALID       (1ull << 0)
#define DESC_TABLE       (3ull << 0)    /* levels 0-2: next table; level 3: page */
#define DESC_BLOCK       (1ull << 0)    /* levels 1-2 */
#define DESC_ATTR(i)     ((uint64_t)(i) << 2)
#define DESC_AP_RO       (1ull << 7)    /* AP[2]: read-only */
#define DESC_SH_INNER    (3ull << 8)
#define DESC_AF          (1ull << 10)
#define DESC_PXN         (1ull << 53)
#define DESC_UXN         (1ull << 54)
#define DESC_ADDR        0x0000FFFFFFFFF000ull

#endif
