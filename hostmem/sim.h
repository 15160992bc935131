/*
 * sim.h - the hosted twin: a manager over simulated physical RAM, with a
 * software MMU that walks the page tables hostmem builds, exactly as the CPU
 * does (rights, accessed and dirty, a TLB that only invalidation empties),
 * in the format the library was built for: x86-64 (libhostmem.a), or
 * AArch64 (the host tests' second build).  Accesses go through that MMU; a
 * fault goes to the same hostmem_fault the kernel's page-fault routine calls
 * (demand-zero, guard pages).
 *
 * The twin manages the whole range [0x10000, 0x7FFFFFFF0000).  Its pointers
 * are addresses in that simulated space, not in the host process: read and
 * write them only through hm_sim_read / hm_sim_write / hm_sim_exec.
 * Built into build/host/libhostmem.a by `make host`.  Thread-safe: one lock
 * around every call.
 */
#ifndef HOSTMEM_SIM_H
#define HOSTMEM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "hostmem.h"

typedef struct hm_sim hm_sim;

/* A twin with ram_bytes of simulated physical RAM (rounded down to pages;
 * at least 1 MiB).  E_OUTOFMEMORY if the host cannot provide it. */
HRESULT hm_sim_create(size_t ram_bytes, hm_sim **out);
void hm_sim_destroy(hm_sim *sim);

/* The twin's manager (borrowed: valid until hm_sim_destroy). */
IHostMemoryManager *hm_sim_manager(hm_sim *sim);

/* Each access acts as the CPU would and returns 0, STATUS_ACCESS_VIOLATION or
 * STATUS_GUARD_PAGE_VIOLATION.  Bytes before a faulting page are transferred. */
uint32_t hm_sim_read(hm_sim *sim, const void *va, void *buf, size_t len);
uint32_t hm_sim_write(hm_sim *sim, void *va, const void *buf, size_t len);
uint32_t hm_sim_exec(hm_sim *sim, const void *va);

/* ---- for tests and tools */
#define HM_SIM_DEBUG_FRAMES 0x1u   /* fill freed frames with a pattern, check it */
#define HM_SIM_TLB_KEEP     0x2u   /* TLB entries leave only by invalidation (mmu.h) */
/* AArch64: a CPU without FEAT_HAFDBS, whose MMU leaves the Access flag and
 * the dirty state to hostmem's fault path (pte_arch.h); also set by the
 * environment variable HM_SIM_NO_HAFDBS, so a whole suite can run as such
 * a CPU.  No effect on x86-64. */
#define HM_SIM_NO_HAFDBS    0x4u
HRESULT hm_sim_create_ex(size_t ram_bytes, unsigned flags, hm_sim **out);
/* The host address of simulated physical address 0 (tests inspect frames). */
uint8_t *hm_sim_ram(hm_sim *sim);

/* Caller memory (out-parameters) is host memory in the twin, so it never
 * faults by itself: this makes the n-th next copy hostmem makes to or from
 * caller memory fail as a faulting pointer would (0: none). */
void hm_sim_fail_caller_copy(hm_sim *sim, unsigned n);

/* Accesses that broke the memory-type rule (pte.h): an uncached or
 * write-combining access to a frame not flushed from the cache since it was
 * last used write-back, or a write-back access to a frame used uncached since
 * its last flush.  Should stay 0. */
uint64_t hm_sim_cache_violations(hm_sim *sim);

#endif
