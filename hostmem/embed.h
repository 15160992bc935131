/*
 * embed.h - what an embedder (the kernel, the hosted twin) uses to run a
 * manager: build it over physical memory, hand it page faults, and, in
 * tests, make it check itself after every call.  Users of the interface
 * include hostmem.h only.
 */
#ifndef HOSTMEM_EMBED_H
#define HOSTMEM_EMBED_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "hostmem.h"
#include "platform.h"
#include "frame.h"

/* Bytes of storage a manager needs (aligned to 16). */
size_t hostmem_storage_size(void);

/*
 * Builds a manager in storage over the usable physical ranges (sorted,
 * page-aligned, disjoint).  root 0: a fresh PML4 of its own (the twin);
 * otherwise the pa of the live root table (x86-64: the PML4; AArch64: the
 * TTBR0 table), whose lower half (empty) it takes over (the kernel).  frame_flags: FRAMES_DEBUG fills freed frames with a pattern.
 * The manager starts with one reference.  E_OUTOFMEMORY if the ranges cannot
 * hold its metadata, E_INVALIDARG if they are malformed.
 */
HRESULT hostmem_init(void *storage, const struct hm_platform *plat,
                     const struct phys_range *ranges, size_t n, uint64_t root,
                     unsigned frame_flags, IHostMemoryManager **out);

/* A page fault at va with the CPU's syndrome (x86-64: the #PF error code;
 * AArch64: ESR_EL1, an instruction or data abort): 0 when it was resolved
 * (retry the access), else STATUS_ACCESS_VIOLATION or
 * STATUS_GUARD_PAGE_VIOLATION. */
uint32_t hostmem_fault(IHostMemoryManager *m, uint64_t va, uint32_t syndrome);

/* Run verify inside every call (tests, fuzzing): a failure makes that call
 * return E_FAIL and the manager unusable. */
void hostmem_set_verify_each(IHostMemoryManager *m, bool on);

/* The pa of the root table the manager maps with (what CR3 or TTBR0_EL1
 * holds). */
uint64_t hostmem_root(IHostMemoryManager *m);

#endif
