/*
 * Code written as data, for the tests that execute from managed memory: a
 * return instruction in the CPU's own encoding (x86-64 one byte, AArch64
 * four, aligned), made fetchable (the instruction cache synchronised).
 */
#ifndef TESTS_KERNEL_CODE_H
#define TESTS_KERNEL_CODE_H

#include <stdint.h>
#include <stddef.h>
#include "machine.h"

static inline void put_ret(void *at)
{
	static const uint8_t ret[] = ARCH_RET_BYTES;

	for (size_t i = 0; i < sizeof(ret); i++)
		((volatile uint8_t *)at)[i] = ret[i];
	arch_sync_icache((uint64_t)at, sizeof(ret));
}

/*
 * One fetch at va, where the soak's driver has put its `ret` marker (the
 * byte 0xC3): 0 when it ran and returned, else the exception code
 * (tests/kernel/ARCH/exec_probe.c).  x86-64 runs the byte itself.  AArch64
 * has no one-byte return: it plants its own at va rounded down to 4 bytes
 * (the same page, so the same rights) through the direct map, runs it
 * there, and puts the data back, so neither the bytes nor the page's
 * dirty state change.
 */
uint32_t exec_marked_ret(uint64_t va);

#endif
