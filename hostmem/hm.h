/*
 * hm.h - the memory manager inside: one struct hm per address space, and the
 * operations the interface (manager.c) calls.  Not for users: they include
 * hostmem.h.
 *
 * Who does what:
 *   manager.c   the COM object IHostMemoryManager, and the hostmem_* calls.
 *   call.c      the way out of every call: verify in tests, the level,
 *               unlock, notify, status -> HRESULT.
 *   dead.c      the state in which every call is refused.  iid.c  the IIDs.
 *   alloc.c     VirtualAlloc: validation, then reserve / commit / reset.
 *   free.c      VirtualFree: validation, then release / decommit.
 *   protect.c   VirtualProtect.   query.c  VirtualQuery.
 *   reserve.c   reservations: placement, the node slab, release.
 *   commit.c    page state changes with the commit charge.
 *   pressure.c  availability, critical-level watermarks, notification level.
 *   vaspace.c   address space the runtime takes outside VirtualAlloc.
 *   fault.c     what a page fault on managed memory means.
 *   malloc.c    IHostMalloc on top of VirtualAlloc.
 *   watch.c     GetWriteWatch / ResetWriteWatch on the dirty bits.
 *
 * Commit accounting (strict, no overcommit).  Every committed page is either
 * resident (its PTE holds a frame) or promised (demand-zero: a frame is owed
 * on first touch).  `promised` frames are set aside in the frame allocator
 * (frames.promised): no other allocation may take them, so the demand-zero
 * fault can always be served.  Invariants, checked by verify:
 *     charge   == committed PTEs
 *     promised == demand-zero PTEs == frames.promised
 *     charge - promised == frames.used[FRAME_DATA]
 * The commit limit is therefore dynamic: a commit of n new pages succeeds
 * while n <= frames.nfree - frames.promised, i.e. page tables and metadata
 * compete with commit for the same free frames, and a promise once given is
 * never broken.
 */
#ifndef HOSTMEM_HM_H
#define HOSTMEM_HM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "hostmem.h"
#include "platform.h"
#include "status.h"
#include "frame.h"
#include "pagetable.h"
#include "resv.h"
#include "slab.h"

#define PAGE       HM_PAGE_SIZE
#define GRANULE    HM_ALLOCATION_GRANULARITY
#define VA_MIN     HM_USER_MIN
#define VA_LIMIT   HM_USER_LIMIT
#define HM_LARGE_PAGE 0x200000ull

static inline uint64_t page_down(uint64_t va) { return va & ~(uint64_t)(PAGE - 1); }
static inline uint64_t page_up(uint64_t va)   { return (va + PAGE - 1) & ~(uint64_t)(PAGE - 1); }

/* Size of the objects of hm->meta (malloc.c's bookkeeping). */
#define HM_META_OBJECT 192

/* Verify after every operation: off (production), or everything (tests). */
enum hm_verify_mode { HM_VERIFY_OFF, HM_VERIFY_EACH };

struct hm {
	IHostMemoryManager iface;        /* first: This == &hm->iface */
	const struct hm_platform *plat;
	struct frames frames;
	struct pagetable pt;
	struct resv_tree resv;
	struct slab nodes;               /* struct resv nodes */
	struct slab meta;                /* IHostMalloc objects, chunks, records */
	struct hmalloc *mallocs;         /* live IHostMalloc objects (malloc.c), for verify */
	size_t charge;                   /* committed pages */
	EMemoryCriticalLevel level;      /* of the allocation in progress (pressure.c) */
	EMemoryAvailable notified;       /* the level now (pressure.c), under the lock */
	size_t band_lo, band_hi;         /* pressure_available in [lo, hi]: the level stays
	                                    (pressure_band), under the lock */
	uint64_t level_seq;              /* bumped with each change of it, under the lock */
	uint64_t delivered_seq;          /* the last one told (notify.c: the deliverer's) */
	bool notify_pending, notify_busy;   /* notify.c, atomics */
	ICLRMemoryNotificationCallback *callback;   /* holds a reference */
	size_t acquired;                 /* nodes that are acquired space (vaspace.c) */
	uint32_t refs;
	enum hm_verify_mode verify;
	bool dead;                       /* every call is refused (dead.c) */
	bool corrupt;                    /* ... because verify failed: faults too */
	char why[192];                   /* what verify found, once dead */
};

static inline struct hm *hm_of(IHostMemoryManager *m) { return (struct hm *)m; }

/* Builds a manager over the usable physical ranges; root 0 makes a fresh
 * PML4, otherwise its (empty) lower half is adopted.  Not locked. */
hm_status hm_init(struct hm *hm, const struct hm_platform *plat,
                  const struct phys_range *ranges, size_t n, uint64_t root,
                  unsigned frame_flags);

/* The operations, called with the lock held.  Arguments are raw caller
 * input: each validates everything before it changes anything. */
hm_status vm_alloc(struct hm *hm, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                   uint64_t *out);
hm_status vm_free(struct hm *hm, uint64_t addr, uint64_t size, DWORD type);
hm_status vm_protect(struct hm *hm, uint64_t addr, uint64_t size, DWORD prot, DWORD *old);
hm_status vm_query(struct hm *hm, uint64_t addr, MEMORY_BASIC_INFORMATION *mbi);

/* reserve.c */
hm_status reserve(struct hm *hm, uint64_t addr, uint64_t size, bool top_down, DWORD prot,
                  uint32_t flags, struct resv **out);
void release(struct hm *hm, struct resv *r);

/* commit.c: [va, end) page-aligned and inside one reservation. */
hm_status commit_range(struct hm *hm, uint64_t va, uint64_t end, DWORD prot);
/* traced: a write-watch reservation's dirty pages leave a trace (pte.h);
 * release: the page tables left empty go too, instead of being kept. */
void decommit_range(struct hm *hm, uint64_t va, uint64_t end, bool traced, bool release);
/* Frees the empty page tables decommits kept (pagetable.c, theory 9); true
 * if there were any, so that a request refused for want of frames may try
 * again.  Lock held, between operations. */
bool reclaim_tables(struct hm *hm);
void reset_range(struct hm *hm, uint64_t va, uint64_t end);
bool undo_reset(struct hm *hm, uint64_t va, uint64_t end);
hm_status commit_large(struct hm *hm, uint64_t va, uint64_t end, DWORD prot);
/* Counts the committed and the demand-zero pages of [va, end). */
void count_pages(struct hm *hm, uint64_t va, uint64_t end, size_t *committed, size_t *promised);
/* The PTE of va, and *span: how far from va that value holds for sure (one
 * page, or to the end of a missing table's reach). */
uint64_t pte_at(struct hm *hm, uint64_t va, uint64_t *span);

/* caller.c: the caller's memory, through the platform, never under the
 * lock.  false when the access faulted (or the pointer is NULL). */
bool caller_put(const struct hm *hm, void *dst, const void *src, size_t n);
bool caller_get(const struct hm *hm, void *dst, const void *src, size_t n);
bool caller_zero(const struct hm *hm, void *dst, size_t n);
/* Reads and writes back n bytes: writable, and the contents unchanged. */
bool caller_probe(const struct hm *hm, void *p, size_t n);

/* malloc.c: CreateMalloc. */
HRESULT hmalloc_create(struct hm *hm, DWORD type, IHostMalloc **out);

/* call.c: every public call is hm_enter (hm_lock; false if dead), the
 * work, hm_leave (verify in tests, unlock, notify, status -> HRESULT).
 * hm_lock is the platform's lock plus collecting the frames cleared
 * outside it (frame.c, theory 8); hostmem takes its lock only through it. */
static inline void hm_lock(struct hm *hm)
{
	hm->plat->lock(hm->plat->ctx);
	frames_zeroing_collect(&hm->frames);
}

static inline bool hm_enter(struct hm *hm)
{
	hm_lock(hm);
	if (!hm->dead)
		return true;
	hm->plat->unlock(hm->plat->ctx);
	return false;
}

/* Lock held: from now on every call is refused (HOST_E_CLRNOTAVAILABLE). */
void hm_die(struct hm *hm, const char *why);
/* The same, because an invariant is broken: faults are refused too. */
void hm_corrupt(struct hm *hm, const char *why);
HRESULT hm_leave(struct hm *hm, hm_status s);
/* notify.c: after a level change, with the lock dropped: the latest level
 * reaches the callback, in order, once. */
void hm_notify(struct hm *hm);
bool hm_same_iid(REFIID a, REFIID b);

/* vaspace.c: NeedsVirtualAddressSpace / Acquired / Released. */
hm_status vm_needs_space(struct hm *hm, uint64_t start, uint64_t size);
hm_status vm_acquired_space(struct hm *hm, uint64_t start, uint64_t size);
hm_status vm_released_space(struct hm *hm, uint64_t start);

/* pressure.c: availability, critical-level watermarks, notification level. */
size_t pressure_available(const struct hm *hm);
bool pressure_allows(const struct hm *hm, size_t pages);
/* What a commit at this level must leave available (its watermark). */
size_t pressure_floor(const struct hm *hm, EMemoryCriticalLevel level);
DWORD pressure_load(const struct hm *hm);
EMemoryAvailable pressure_level(const struct hm *hm, size_t avail);
/* The availabilities at which pressure_level gives hm->notified again. */
void pressure_band(const struct hm *hm, size_t *lo, size_t *hi);

/* fault.c: 0 when the access may be retried, else the exception code.
 * error: the HM_PF_* bits (pte.h) of the fault. */
uint32_t hm_fault_locked(struct hm *hm, uint64_t va, uint32_t error);

/* verify.c: every structure and counter of the manager, cross-checked. */
bool verify_manager(struct hm *hm, char *why, size_t len);
/* The same at a cost that follows what is in use, not the size of RAM (the
 * check inside every call in tests; the full walk stays hostmem_verify's). */
bool verify_manager_in_use(struct hm *hm, char *why, size_t len);

#endif
