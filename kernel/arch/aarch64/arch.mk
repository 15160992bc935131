# The AArch64 kernel: cross-compiled, linked at -2 GiB in the TTBR1 half.
# The small code model reaches anything within 4 GiB of the code, which the
# whole image is.  -mstrict-align: the PL011 and any uncached mapping take
# no unaligned access.
KCC          := aarch64-linux-gnu-gcc
KLD          := aarch64-linux-gnu-ld
# No loop may become a call to memset or memcpy: those are the loops.
# Atomics inline (load/store exclusive), not calls into libgcc.
KARCH_CFLAGS := -mcmodel=small -mstrict-align -march=armv8-a -mno-outline-atomics \
                -fno-tree-loop-distribute-patterns
KERNEL_LDS   := kernel/arch/aarch64/kernel.ld
