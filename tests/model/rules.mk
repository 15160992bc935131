# tests/model/rules.mk - `make soak`: the differential soak (tests/model/soak.c).
#
#   make soak                        10 million operations, 2 jobs, 4 MiB twins
#   make soak SOAK_OPS=1000000 SOAK_SEED=7 SOAK_JOBS=1 SOAK_RAM_MB=16
#   make soak SOAK_FLAGS=-t          every operation traced (with SOAK_JOBS=1)
#
# Then the kernel suite at -smp $(SMP) with the contention test at
# SOAK_SMP_ROUNDS rounds of 5 calls per CPU: 10 million calls from 4 CPUs
# (make test: 5,000 rounds, 100,000 calls.  Measured: 1,000,000 calls took
# 201 s here before the next-in-line spin (kernel/smp.c), which made the
# 100,000-call test about twice as slow: 10 million may take over an hour,
# hence TIMEOUT=7200).
#
# Built without sanitizers (speed) against build/host/libhostmem.a; the model
# and the driver are compiled into the program.
SOAK_OPS    ?= 10000000
SOAK_SEED   ?= 1
SOAK_JOBS   ?= 2
SOAK_RAM_MB ?= 4
SOAK_FLAGS  ?=
SOAK_SMP_ROUNDS ?= 500000
MODEL_SRC   := tests/model/model.c tests/model/model.h tests/model/drive.c \
               tests/model/drive.h tests/model/twin_env.h

.PHONY: soak
$(BUILD)/soak: tests/model/soak.c $(MODEL_SRC) $(BUILD)/host/libhostmem.a
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -I. $< -o $@ $(BUILD)/host/libhostmem.a -lpthread

soak: $(BUILD)/soak $(LOADER_EFI) $(BUILD)/kernel.elf
	@$(BUILD)/soak -n $(SOAK_OPS) -s $(SOAK_SEED) -j $(SOAK_JOBS) -r $(SOAK_RAM_MB) $(SOAK_FLAGS)
	@echo "soak: kernel suite, contention test at $(SOAK_SMP_ROUNDS) rounds per CPU"
	@TAG=soak TIMEOUT=7200 tests/run-kernel.sh test smp_rounds=$(SOAK_SMP_ROUNDS) soak_full=1
