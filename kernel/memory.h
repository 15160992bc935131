/* The kernel's memory manager: hostmem on the real MMU. */
#ifndef KERNEL_MEMORY_H
#define KERNEL_MEMORY_H

#include <stdint.h>
#include "hostmem/hostmem.h"

/* Builds the manager from the boot memory map over the live page tables.
 * debug: freed frames are pattern-filled and checked (the self tests). */
void memory_init(int debug);

/*
 * The kernel's IHostMemoryManager: the documented way for kernel code (and
 * hosting code built into the kernel) to reach the manager.  Borrowed: do not
 * Release it.  NULL before memory_init.
 */
IHostMemoryManager *kernel_memory_manager(void);

/* While on, hostmem's log lines are marked "expected: ": a self test that
 * provokes an error the manager logs (a foreign frame freed) turns it on
 * around the provocation, so a passing run shows no alarm.  The harness
 * turns it off after each test. */
void memory_log_expected(int on);

/* Called by the page-fault routine for lower-half addresses: 0 when hostmem
 * resolved the fault, otherwise the exception code to raise. */
uint32_t memory_fault(uint64_t va, uint32_t error);

#endif
