# The serial console (kernel/shell.c): `make run` opens it on a terminal;
# `make run SCRIPT=file` types a file into it (tests/run-kernel.sh).
#
#   make console-test   one boot driven by tests/console/session.hm, a check
#                       per rule (also part of `make test`, runner checks)
.PHONY: console-test
console-test: $(BUILD)/BOOTX64.EFI $(BUILD)/kernel.elf
	@tests/console/test_console.sh
