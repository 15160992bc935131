# make bench: what hostmem costs, on the hosted twin next to the Linux way and
# in the kernel under QEMU -icount (tests/bench/run.sh; README, Performance).
# Never part of `make test`: benchmarks do not assert timings.

BENCH_OUT := $(BUILD)/bench

.PHONY: bench
$(BUILD)/.deps-bench-ok: scripts/install-deps.sh
	@scripts/install-deps.sh bench
	@mkdir -p $(BUILD) && touch $@

# Against the non-sanitized twin (make host), at -O2 like it.
$(BENCH_OUT)/bench_host: tests/bench/bench_host.c $(BUILD)/host/libhostmem.a | $(BUILD)/.deps-bench-ok
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -I. $< -o $@ $(BUILD)/host/libhostmem.a -lpthread

bench: $(BENCH_OUT)/bench_host $(LOADER_EFI) $(BUILD)/kernel.elf
	@$(MAKE) --no-print-directory ARCH=aarch64 kernel-image
	@BUILD=$(BUILD) tests/bench/run.sh
