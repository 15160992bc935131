# The serial console (kernel/console/shell.c): `make run` opens it on a terminal;
# `make run SCRIPT=file` types a file into it (tests/run-kernel.sh).
#
#   make console-test   one boot driven by tests/console/session.hm, a check
#                       per rule (also part of `make test`, runner checks)
#   make map            boots with SCRIPT (tests/console/map.hm), then `map csv`,
#                       and draws build/map.png (scripts/map-plot.sh); LOG=file
#                       draws the last `map csv` of a serial log, no boot
.PHONY: console-test map
console-test: $(LOADER_EFI) $(BUILD)/kernel.elf
	@tests/console/test_console.sh

MAP_SCRIPT = $(or $(SCRIPT),tests/console/map.hm)
ifeq ($(origin LOG),command line)   # not a LOG the environment happens to have
map:
	@scripts/map-plot.sh $(LOG) $(BUILD)/map.png
else
map: $(LOADER_EFI) $(BUILD)/kernel.elf
	@{ cat $(MAP_SCRIPT); echo; echo 'map csv'; } > $(BUILD)/map-session.hm
	@SCRIPT=$(BUILD)/map-session.hm QUIET=1 TAG=map tests/run-kernel.sh run
	@scripts/map-plot.sh $(BUILD)/serial-map.log $(BUILD)/map.png
endif
