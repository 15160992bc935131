/*
 * Leaving QEMU.  The isa-debug-exit device at port 0xF4 ends QEMU with status
 * (v << 1) | 1.  The runner treats only EXIT_PASS as a pass: a triple fault
 * with -no-reboot exits 0, and a hang is caught by its timeout.
 */
#ifndef KERNEL_QEMU_H
#define KERNEL_QEMU_H

#define EXIT_PASS    0x10   /* status 33: every self test passed / run finished */
#define EXIT_FAIL    0x11   /* status 35: a self test failed */
#define EXIT_PANIC   0x12   /* status 37: kernel panic (unexpected exception) */
#define EXIT_LOADER  0x13   /* status 39: the loader refused to boot */

void qemu_exit(unsigned code) __attribute__((noreturn));

#endif
