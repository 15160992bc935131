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

#endif
