# hostmem: the Windows reserve/commit/free contract on bare metal.
#
#   make run        build, boot the kernel in QEMU + OVMF, show the console
#   make test       host unit tests + kernel self tests; ends "N passed, N failed";
#                   build/test-results.xml has every test (JUnit XML)
#   make help       every target, one line each
#
# Extra kernel self tests: make test KTEST_EXTRA="path/a.c path/b.c"
#
# ARCH=x86_64 (the default) or ARCH=aarch64 picks the kernel and loader that
# run, ktest, debug build and boot; each architecture's flags are in
# kernel/arch/$(ARCH)/arch.mk and boot/arch/$(ARCH)/boot.mk.  x86-64 builds
# into build/, AArch64 into build/aarch64/.  The host side is built once.

ARCH       ?= x86_64
ifeq ($(filter x86_64 aarch64,$(ARCH)),)
$(error ARCH=$(ARCH): x86_64 or aarch64)
endif
BUILD      := build$(if $(filter-out x86_64,$(ARCH)),/$(ARCH))
CC         ?= gcc
LD         := ld
OBJCOPY    := objcopy
# The run scripts read these: which QEMU, firmware and build directory.
export ARCH BUILD
KTEST_EXTRA ?=
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

# The packages are checked (quickly) before anything is built.
DEPS := $(BUILD)/.deps-ok

# ---------------------------------------------------------------- hostmem core
# What differs per MMU format is in hostmem/arch/<arch>/ (pte_arch.h, found by
# bare name); the twin's software MMU has one walk per format there too.
# The hosted twin is built for both formats: x86_64 is the library
# (libhostmem.a) and every host test; aarch64 runs the tests in
# TWIN_AARCH64_TESTS as well.
HOSTMEM_SRC := $(wildcard hostmem/*.c)
sim_src      = $(wildcard hostmem/sim/*.c) hostmem/arch/$(1)/walk.c
SIM_SRC     := $(call sim_src,x86_64)
WARN        := -Wall -Wextra -Werror -Wno-unused-parameter
TWIN_INC    := -Ihostmem/arch/x86_64
CORE_CFLAGS := -std=gnu11 -ffreestanding $(WARN) -I.

# ---------------------------------------------------------------- kernel
# kernel/ holds the kernel's core; kernel/arch/$(ARCH) the CPU and the board
# (its headers are included by bare name, so the core names no architecture),
# kernel/console the interactive console, kernel/demo and kernel/bench the
# other boot modes.  Self tests: tests/kernel/ on every architecture,
# tests/kernel/$(ARCH)/ those about one CPU.
# arch.mk sets KCC, KLD, KARCH_CFLAGS (the code model and CPU flags) and
# KERNEL_LDS (the link script).
include kernel/arch/$(ARCH)/arch.mk
KERNEL_DIRS := kernel kernel/arch/$(ARCH) kernel/console kernel/demo kernel/bench
KERNEL_C    := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c)) $(HOSTMEM_SRC) \
               $(wildcard tests/kernel/*.c tests/kernel/$(ARCH)/*.c) $(KTEST_EXTRA)
KERNEL_S    := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.S))
KCFLAGS     := $(CORE_CFLAGS) -Ihostmem/arch/$(ARCH) -O2 -g -nostdlib -fno-pic -fno-pie \
               $(KARCH_CFLAGS) -mgeneral-regs-only -fno-stack-protector \
               -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-toplevel-reorder -DHM_KERNEL
KOBJ        := $(patsubst %.c,$(BUILD)/kernel/%.o,$(KERNEL_C)) \
               $(patsubst %.S,$(BUILD)/kernel/%.o,$(KERNEL_S))
# Extra tests may live anywhere; their objects are keyed by a flattened name.
KOBJ        := $(foreach f,$(KOBJ),$(if $(findstring ..,$f),$(BUILD)/kernel/extra/$(notdir $f),$f))

# ---------------------------------------------------------------- UEFI loader
# boot.mk sets BCC, BLD, BOBJCOPY, EFI_INC, EFI_LIB, BOOT_ARCH_CFLAGS,
# EFI_NAME (the default boot program's name), EFI_LDFLAGS, EFI_OBJCOPY_FLAGS.
include boot/arch/$(ARCH)/boot.mk
BOOT_SRC    := $(wildcard boot/*.c boot/arch/$(ARCH)/*.c)
BOOT_CFLAGS := -std=gnu11 -O2 $(WARN) -I. -Iboot/arch/$(ARCH) -I$(EFI_INC) -I$(EFI_INC)/$(ARCH) \
               -fpic -fshort-wchar -ffreestanding -fno-stack-protector $(BOOT_ARCH_CFLAGS) -DHM_LOADER
BOOT_OBJ    := $(patsubst %.c,$(BUILD)/boot/%.o,$(BOOT_SRC))
LOADER_EFI  := $(BUILD)/$(EFI_NAME)

# ---------------------------------------------------------------- host tests
# Files outside hostmem/ that are portable and unit-tested on the host.
PORTABLE_SRC := $(wildcard boot/elf.c kernel/memmap.c)
HOST_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -I. -fsanitize=address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -DHM_HOST
HOST_TESTS   := $(patsubst tests/host/%.c,$(BUILD)/host/tests/%,\
                $(wildcard tests/host/test_*.c tests/host/x86_64/test_*.c))
HOST_TEST_LIB := $(wildcard tests/host/lib/*.c)
# The tests that hold the twin against the contract and the oracle (no
# x86 bits in them) run on the AArch64 format too, with its MMU's own test.
TWIN_AARCH64_TESTS := $(patsubst %,$(BUILD)/host/aarch64/tests/%,\
                test_alloc test_bad_input test_caller test_differential test_failure test_fault \
                test_free test_large test_lifecycle test_malloc test_pagetable test_pressure \
                test_protect test_query test_reset test_resident test_security test_threads \
                test_tlb test_verify test_watch) \
                $(patsubst tests/host/%.c,$(BUILD)/host/aarch64/tests/%,$(wildcard tests/host/aarch64/test_*.c))

.PHONY: all run test host host-test ktest debug clean deps help install
all: $(BUILD)/esp.img host

# ---------------------------------------------------------------- deps
deps: $(DEPS)
$(DEPS): scripts/install-deps.sh
	@scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

# ---------------------------------------------------------------- kernel build
# The architecture's headers are for the kernel and its tests, never hostmem/.
KINC := -Ikernel/arch/$(ARCH)
$(BUILD)/kernel/hostmem/%.o: KINC :=
$(BUILD)/kernel/%.o: %.c kernel/arch/$(ARCH)/arch.mk | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(KCC) $(KCFLAGS) $(KINC) -MMD -MP -c $< -o $@
$(BUILD)/kernel/%.o: %.S kernel/arch/$(ARCH)/arch.mk | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(KCC) $(KCFLAGS) $(KINC) -MMD -MP -c $< -o $@
define extra_rule
$(BUILD)/kernel/extra/$(notdir $(1:.c=.o)): $(1) | $(DEPS)
	@mkdir -p $$(dir $$@)
	@echo "  CC      $$@"
	$$(Q)$$(KCC) $$(KCFLAGS) $$(KINC) -MMD -MP -c $$< -o $$@
endef
$(foreach f,$(KTEST_EXTRA),$(if $(findstring ..,$f),$(eval $(call extra_rule,$f))))

# KTEST_EXTRA changes the image: remember it so a change relinks.
$(BUILD)/kernel/extra.list: FORCE
	@mkdir -p $(dir $@)
	@echo '$(KTEST_EXTRA)' | cmp -s - $@ || echo '$(KTEST_EXTRA)' > $@
FORCE:

$(BUILD)/kernel.elf: $(KOBJ) $(KERNEL_LDS) $(BUILD)/kernel/extra.list
	@echo "  LD      $@"
	$(Q)$(KLD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T $(KERNEL_LDS) -o $@ $(KOBJ)

# ---------------------------------------------------------------- loader build
$(BUILD)/boot/%.o: %.c boot/arch/$(ARCH)/boot.mk | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(BCC) $(BOOT_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/boot/loader.so: $(BOOT_OBJ)
	@echo "  LD      $@"
	$(Q)$(BLD) -nostdlib -shared -Bsymbolic -znocombreloc $(EFI_LDFLAGS) \
	    -T $(EFI_LIB)/elf_$(ARCH)_efi.lds \
	    $(EFI_LIB)/crt0-efi-$(ARCH).o $(BOOT_OBJ) -o $@ -L$(EFI_LIB) -lefi -lgnuefi
$(LOADER_EFI): $(BUILD)/boot/loader.so
	@echo "  OBJCOPY $@"
	$(Q)$(BOBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	    -j .rel.* -j .rela.* -j .reloc $(EFI_OBJCOPY_FLAGS) $< $@

# ---------------------------------------------------------------- ESP image
# A real FAT file system: \EFI\BOOT\$(EFI_NAME), \kernel.elf, \cmdline.txt.
$(BUILD)/esp.img: $(LOADER_EFI) $(BUILD)/kernel.elf scripts/mkesp.sh
	@echo "  LD      $@"
	$(Q)scripts/mkesp.sh $@ $(LOADER_EFI) $(BUILD)/kernel.elf ""

# ---------------------------------------------------------------- host build
HOST_CORE_OBJ := $(patsubst %.c,$(BUILD)/host/obj/%.o,$(HOSTMEM_SRC) $(SIM_SRC))
$(BUILD)/host/obj/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CORE_CFLAGS) $(TWIN_INC) -O2 -g -MMD -MP -c $< -o $@
$(BUILD)/host/libhostmem.a: $(HOST_CORE_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^
host: $(BUILD)/host/libhostmem.a

# `make install PREFIX=dir`: the twin as a library.  The headers go to
# include/hostmem/ (they include one another by bare name): hostmem.h (the
# interface), sim.h (the twin), and for embedders embed.h, platform.h and
# frame.h; hostmem.pc lets `pkg-config --cflags --libs hostmem` find them.
PREFIX         ?= /usr/local
PUBLIC_HEADERS := hostmem/hostmem.h hostmem/sim.h hostmem/embed.h hostmem/platform.h hostmem/frame.h
install: $(BUILD)/host/libhostmem.a scripts/hostmem.pc.in
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/hostmem
	$(Q)install -m 644 $(BUILD)/host/libhostmem.a $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/hostmem/
	$(Q)sed 's|@PREFIX@|$(PREFIX)|' scripts/hostmem.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hostmem.pc

# The tests use a sanitized build of the same sources, one per format.
HOST_SAN_OBJ := $(patsubst %.c,$(BUILD)/host/san/%.o,$(HOSTMEM_SRC) $(SIM_SRC) $(PORTABLE_SRC) $(HOST_TEST_LIB))
$(BUILD)/host/san/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(TWIN_INC) -MMD -MP -c $< -o $@
$(BUILD)/host/libtest.a: $(HOST_SAN_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^
$(BUILD)/host/tests/%: tests/host/%.c $(BUILD)/host/libtest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(TWIN_INC) -MMD -MP $< -o $@ $(BUILD)/host/libtest.a -lcmocka

ARM_SAN_OBJ := $(patsubst %.c,$(BUILD)/host/aarch64/san/%.o,\
               $(HOSTMEM_SRC) $(call sim_src,aarch64) $(HOST_TEST_LIB))
$(BUILD)/host/aarch64/san/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -Ihostmem/arch/aarch64 -MMD -MP -c $< -o $@
$(BUILD)/host/aarch64/libtest.a: $(ARM_SAN_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^
$(BUILD)/host/aarch64/tests/%: tests/host/%.c $(BUILD)/host/aarch64/libtest.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -Ihostmem/arch/aarch64 -MMD -MP $< -o $@ \
	    $(BUILD)/host/aarch64/libtest.a -lcmocka

# ---------------------------------------------------------------- running
# The AArch64 twin runs twice: its MMU recording AF and dirty itself
# (FEAT_HAFDBS, as QEMU's -cpu max), then leaving them to hostmem's fault
# path (a Cortex-A72).  The differential test (17 s) runs in the second
# only: that path is the one x86 does not share.
HOST_RUN := $(HOST_TESTS) $(filter-out %/test_differential,$(TWIN_AARCH64_TESTS)) \
            no-hafdbs:HM_SIM_NO_HAFDBS=1 $(filter-out %/test_mmu %/test_arch,$(TWIN_AARCH64_TESTS))
host-test: $(HOST_TESTS) $(TWIN_AARCH64_TESTS)
	@tests/run-host.sh $(HOST_RUN)

ktest: $(LOADER_EFI) $(BUILD)/kernel.elf
	@tests/run-kernel.sh test $(if $(ONLY),only=$(ONLY))

# The loader and kernel of ARCH, for a make of its own (make test builds both).
.PHONY: kernel-image
kernel-image: $(LOADER_EFI) $(BUILD)/kernel.elf

# make test runs both architectures' kernels; it is driven from the x86-64
# side (the host tests and build/ are that side's).
ifeq ($(ARCH),x86_64)
test: $(HOST_TESTS) $(TWIN_AARCH64_TESTS) $(LOADER_EFI) $(BUILD)/kernel.elf
	@$(MAKE) --no-print-directory ARCH=aarch64 kernel-image
	@tests/run-all.sh $(HOST_RUN)
else
test:
	@$(MAKE) --no-print-directory ARCH=x86_64 test
endif

# The last map the run printed as CSV (the demo's, or a `map csv` typed) is drawn.
run: $(LOADER_EFI) $(BUILD)/kernel.elf
	@tests/run-kernel.sh run
	@! grep -q '^row,base,size,' $(BUILD)/serial-run.log || scripts/map-plot.sh $(BUILD)/serial-run.log $(BUILD)/map.png

debug: $(LOADER_EFI) $(BUILD)/kernel.elf
	@tests/run-kernel.sh debug

clean:
	rm -rf $(BUILD)

help:
	@echo "make run           build, boot the kernel in QEMU (-smp \$$SMP, 4), console or tour"
	@echo "make test          host unit tests + kernel self tests + runner and console checks"
	@echo "                   (also writes build/test-results.xml, JUnit XML, every test)"
	@echo "make ktest         the kernel self tests only (ONLY=word: those whose name holds it)"
	@echo "make host-test     the host unit tests only (cmocka, ASan + UBSan)"
	@echo "make console-test  the scripted console session"
	@echo "make map           build/map.png: the address space after tests/console/map.hm (SCRIPT=, LOG=)"
	@echo "make host          build/host/libhostmem.a, the hosted twin"
	@echo "make install       libhostmem.a, headers and hostmem.pc under PREFIX (/usr/local)"
	@echo "make debug         QEMU waits for gdb on :1234 (README, Debugging)"
	@echo "make bench         costs on the twin, next to Linux, and in the guest"
	@echo "make soak          10M differential operations, then the kernel suite under load"
	@echo "make fuzz          the differential fuzzer (libFuzzer), FUZZ_SECONDS"
	@echo "make tsan          the threaded host tests under ThreadSanitizer"
	@echo "make deps          install the Debian packages the build needs"
	@echo "make clean         remove build/"
	@echo "Variables: ARCH=x86_64|aarch64 (run, ktest, debug, console-test, map) SMP=N RAM_MB=N V=1"
	@echo "           KTEST_EXTRA=\"a.c b.c\" SCRIPT=file PREFIX=dir"

# Targets owned by a part of the test tree (fuzzing, benchmarks, ...).
include $(wildcard tests/*/rules.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
