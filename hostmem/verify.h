/*
 * verify: cross-checks of hostmem's data structures, for tests and fuzzers
 * after every operation (and the kernel's self tests).  Each returns true
 * when every invariant holds; otherwise false, with a description of the
 * FIRST broken invariant written to why (len bytes, NUL-terminated).
 *
 * They use the FRAME_MARK bit of the frame records as scratch (no
 * allocation; clear again when they return), so they must not run
 * concurrently with an operation, nor while a TLB gather holds blocks
 * (those look leaked).  Cost: O(frames + entries of every table); the _in_use
 * forms skip every per-record check and cost O(free blocks + entries).
 */
#ifndef HOSTMEM_VERIFY_H
#define HOSTMEM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "frame.h"
#include "pagetable.h"

/* Records, block structure, free lists (no cycle, right order, aligned, no
 * two free buddies of equal order), debug fill states, and the counters:
 * usable = free + used[TABLE] + used[DATA] + used[META], and each counter
 * equals what the records say. */
bool verify_frames(struct frames *fr, char *why, size_t len);

/* Every table frame is the root or referenced by exactly one parent entry,
 * every data frame by exactly one leaf (PTE or PS entry); each table's count
 * equals its non-zero entries; every leaf is in a valid state whose hardware
 * bits agree with its stored protection; table entries are plain (pte_arch.h); each
 * pagetable's ntables is right.  pts share fr: ownership is checked across
 * all of them, so every TABLE and DATA frame must belong to one of them. */
bool verify_pagetables(struct frames *fr, struct pagetable *const *pts, size_t n,
                       char *why, size_t len);

/* frames.promised == demand-zero PTEs over pts: the commit layer's
 * invariant (commit.c keeps it), checked here where the PTEs are walked.
 * Call after verify_pagetables passed. */
bool verify_promises(struct frames *fr, struct pagetable *const *pts, size_t n,
                     char *why, size_t len);

struct hm;

/* IHostMalloc's invariants (malloc.c's top comment) over every allocator
 * on hm->mallocs, each under its spinlock; the manager's lock held. */
bool hmalloc_verify(struct hm *hm, char *why, size_t len);

/* verify_frames, then verify_pagetables (not verify_promises). */
bool verify_all(struct frames *fr, struct pagetable *const *pts, size_t n,
                char *why, size_t len);

/* The same ownership without a walk over every record: the free lists by
 * their heads and the counters; the tables and data frames reached from the
 * roots, each once, adding up to used[TABLE] and used[DATA] (verify.c, top). */
bool verify_pagetables_in_use(struct frames *fr, struct pagetable *const *pts, size_t n,
                              char *why, size_t len);
bool verify_all_in_use(struct frames *fr, struct pagetable *const *pts, size_t n,
                       char *why, size_t len);

#endif
