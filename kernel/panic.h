#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>
#include "trap.h"

/* Prints the reason and a backtrace, then leaves QEMU with EXIT_PANIC. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* An exception nobody expected: register dump, backtrace, EXIT_PANIC
 * (each architecture's trap.c; it starts with panic_begin). */
void panic_trap(struct trapframe *tf, uint32_t code, uint64_t addr) __attribute__((noreturn));

/* For panic_trap: the first call goes on; a fault while reporting leaves
 * QEMU at once.  Then the frame-pointer chain from (pc, fp): each frame
 * holds the caller's frame pointer and, after it, the return address
 * (rbp on x86-64, x29 on AArch64). */
void panic_begin(void);
void panic_backtrace(uint64_t pc, uint64_t fp);

#endif
