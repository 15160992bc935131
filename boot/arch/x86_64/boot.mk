# BOOTX64.EFI: the host's gnu-efi; firmware calls use the Microsoft ABI.
BCC               := $(CC)
BLD               := $(LD)
BOBJCOPY          := $(OBJCOPY)
EFI_INC           := /usr/include/efi
EFI_LIB           := /usr/lib
EFI_NAME          := BOOTX64.EFI
BOOT_ARCH_CFLAGS  := -mno-red-zone -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI
EFI_LDFLAGS       :=
EFI_OBJCOPY_FLAGS := --target efi-app-x86_64 --subsystem=10
