#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>
#include "trap.h"

/* Prints the reason and a backtrace, then leaves QEMU with EXIT_PANIC. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* An exception nobody expected: register dump, backtrace, EXIT_PANIC. */
void panic_trap(struct trapframe *tf, uint32_t code, uint64_t addr) __attribute__((noreturn));

#endif
