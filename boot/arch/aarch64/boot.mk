# BOOTAA64.EFI: Debian's arm64 gnu-efi, unpacked under build/aarch64/gnu-efi
# by scripts/install-deps.sh.  gnu-efi 3.0.15 gives AArch64 apps a PE header
# of its own (crt0) and wants a raw binary; EFI_SUBSYSTEM 0xa marks it an
# application, without which the firmware refuses it as "Unsupported".
GNU_EFI_ARM64     := build/aarch64/gnu-efi/usr
BCC               := aarch64-linux-gnu-gcc
BLD               := aarch64-linux-gnu-ld
BOBJCOPY          := aarch64-linux-gnu-objcopy
EFI_INC           := $(GNU_EFI_ARM64)/include/efi
EFI_LIB           := $(GNU_EFI_ARM64)/lib
EFI_NAME          := BOOTAA64.EFI
BOOT_ARCH_CFLAGS  := -fno-strict-aliasing -mgeneral-regs-only \
                     -DELF_MACHINE=EM_AARCH64 -DELF_MACHINE_NAME='"AArch64"'
EFI_LDFLAGS       := --no-warn-rwx-segments --defsym=EFI_SUBSYSTEM=0xa
EFI_OBJCOPY_FLAGS := -O binary
