# The x86-64 kernel: the host's compiler, linked at -2 GiB (-mcmodel=kernel).
KCC          := $(CC)
KLD          := $(LD)
KARCH_CFLAGS := -mcmodel=kernel -mno-red-zone
KERNEL_LDS   := linker.ld
