# tests/fuzz/rules.mk - `make fuzz`: the differential fuzzer (libFuzzer,
# clang-14 and libclang-rt-14-dev: `scripts/install-deps.sh fuzz`).
#
#   make fuzz                   60 seconds from the corpus in tests/fuzz/corpus
#   make fuzz FUZZ_SECONDS=600  longer
#   build/fuzz/fuzz_diff FILE   replay one input (a crash in build/fuzz/artifacts/)
#
# New interesting inputs go to build/fuzz/corpus (the tree's corpus is only
# read); to keep some: build/fuzz/fuzz_diff -merge=1 tests/fuzz/corpus build/fuzz/corpus
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang-14
FUZZ_BIN     := $(BUILD)/fuzz/fuzz_diff
FUZZ_FLAGS   := -std=gnu11 -O1 -g -I. $(TWIN_INC) -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer -DHM_HOST
FUZZ_DEPS    := tests/fuzz/fuzz_diff.c tests/model/model.c tests/model/model.h \
                tests/model/drive.c tests/model/drive.h tests/model/twin_env.h \
                $(HOSTMEM_SRC) $(SIM_SRC) $(wildcard hostmem/*.h hostmem/sim/*.h hostmem/arch/x86_64/*)

.PHONY: fuzz
$(FUZZ_BIN): $(FUZZ_DEPS) | $(DEPS)
	@scripts/install-deps.sh fuzz
	@mkdir -p $(dir $@)
	@echo "  CLANG   $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_diff.c $(HOSTMEM_SRC) $(SIM_SRC) -o $@ -lpthread

fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -len_control=0 -timeout=20 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(BUILD)/fuzz/corpus tests/fuzz/corpus
