# tests/host/rules.mk - `make tsan`: the host tests that run threads, built
# with ThreadSanitizer (a build of the sources of its own: TSan and ASan do
# not mix) and run; any report fails the run.
#
#   make tsan    test_threads (the twin with a CPU per thread), test_pressure
#                (notifications from two threads), test_malloc (a leak report
#                on another thread)
TSAN_TESTS  := test_threads test_pressure test_malloc
TSAN_CFLAGS := -std=gnu11 -O1 -g $(WARN) -I. $(TWIN_INC) -fsanitize=thread -fno-omit-frame-pointer -DHM_HOST
TSAN_OBJ    := $(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(HOSTMEM_SRC) $(SIM_SRC) $(PORTABLE_SRC) $(HOST_TEST_LIB))
TSAN_BINS   := $(patsubst %,$(BUILD)/tsan/%,$(TSAN_TESTS))

.PHONY: tsan
.SECONDARY: $(TSAN_OBJ)
$(BUILD)/tsan/obj/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(TSAN_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tsan/%: tests/host/%.c $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(TSAN_CFLAGS) $< -o $@ $(TSAN_OBJ) -lcmocka

tsan: $(TSAN_BINS)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66" tests/run-host.sh $(TSAN_BINS)
