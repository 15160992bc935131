/*
 * Leaving QEMU, on every architecture.  Each kernel/arch/<arch>/ implements
 * qemu_exit so that QEMU's exit status is (v << 1) | 1 for the codes below
 * (x86-64: the isa-debug-exit device at port 0xF4; AArch64: semihosting
 * SYS_EXIT with that status as the subcode), so the runner reads one table.
 * The runner treats only EXIT_PASS as a pass: a reset or triple fault with
 * -no-reboot exits 0, and a hang is caught by its timeout.
 */
#ifndef KERNEL_QEMU_H
#define KERNEL_QEMU_H

#define EXIT_PASS    0x10   /* status 33: every self test passed / run finished */
#define EXIT_FAIL    0x11   /* status 35: a self test failed */
#define EXIT_PANIC   0x12   /* status 37: kernel panic (unexpected exception) */
#define EXIT_LOADER  0x13   /* status 39: the loader refused to boot */

void qemu_exit(unsigned code) __attribute__((noreturn));

#endif
