/*
 * model.h - the contract as a reference model: what VirtualAlloc,
 * VirtualFree, VirtualProtect, VirtualQuery and a CPU access must answer,
 * computed the dumbest way that is still fast enough to run ten million
 * operations.  The differential driver (drive.h) runs every operation on a
 * real manager and on the model and compares the answers.
 *
 * Independence.  The model is a second reading of the rules, made from
 * /work/shared/CONTRACT.md, the README's "Semantics beyond CONTRACT.md" and
 * Windows' documented behaviour, not from hostmem's code: a misreading
 * shared by both would pass unnoticed, so nothing is shared.
 *   - It includes nothing of hostmem but the public names of the interface
 *     (hostmem/hostmem.h: the MEM_*, PAGE_*, HRESULT and status values,
 *     MEMORY_BASIC_INFORMATION).  Page size, granularity, the managed range,
 *     the large-page size and the critical-level shares are its own
 *     constants, below.
 *   - Its functions are ordered and cut by the rules as the contract states
 *     them (parameters, then address space, then pages), one function per
 *     rule; each names the rule it implements.
 *   - The only fact it takes from the machine under test is the number of
 *     usable frames (model_init), a property of the (simulated) machine.
 *     Every limit on commits is computed from it here.
 *
 * What it keeps, all in plain arrays:
 *   - the reservations, sorted by base;
 *   - for every page of two windows of the address space, its state and
 *     protection and a sample of its contents: the low window, 64 MiB from
 *     0x10000, where bottom-up placement lands, and the high window, the
 *     last 4 MiB below the limit, where top-down placement lands.  Pages
 *     outside the windows are "untracked": they may belong to a reservation
 *     (the driver fences the space between the windows with one) but are
 *     never committed; the model refuses to commit them (MODEL_UNTRACKED).
 *   - contents: the first and the last MODEL_SAMPLE bytes of each page.  The
 *     driver writes only there, so every other byte of a committed page is
 *     zero, and a read anywhere has a known answer.
 *   - the commit charge, and whether the manager is dead (a process-critical
 *     allocation failed for lack of memory).
 *
 * Where the contract leaves the implementation a choice, the caller passes
 * what the implementation did (impl, impl_addr) and the model accepts it
 * only if it is one of the allowed answers, then holds the implementation
 * to it:
 *   - the commit limit is a band.  Page tables and the manager's own
 *     records share the frames with committed data; the model does not
 *     count them, it bounds them (MODEL_OVERHEAD_FRAMES).  A commit that
 *     leaves its critical level's reserve with certainty must succeed; one
 *     that would need more frames than the machine has must fail; in
 *     between, either answer.  A bare reservation takes no commit but needs
 *     a record, so it too may fail inside the band.
 *   - large pages need 2 MiB of contiguous frames, which fragmentation can
 *     deny below the limit: anywhere up to the band's top they may fail.
 *   - placement without MEM_TOP_DOWN is "by us": any free spot, aligned, in
 *     the range.  MEM_TOP_DOWN is "as high as possible": exactly the highest.
 *   - MEM_RESET: a sampled byte reads as its old value or as zero (the
 *     contract says "undefined"; a frame of another allocation showing
 *     through is neither).
 *   - MEM_RESET_UNDO over reset pages may succeed (their contents are then
 *     intact and no longer reset) or fail with ERROR_DISCARDED.  A refusal
 *     changes nothing but is remembered: the loss lasts until the pages are
 *     decommitted, so any later undo over a range holding that one must be
 *     refused too.  Over no reset page an undo must succeed.
 */
#ifndef TESTS_MODEL_MODEL_H
#define TESTS_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmem/hostmem.h"

/* ---- the contract's numbers, the model's own copies */

#define MODEL_PAGE         0x1000ull            /* page size */
#define MODEL_GRANULE      0x10000ull           /* allocation granularity */
#define MODEL_MIN          0x10000ull           /* lowest usable address */
#define MODEL_LIMIT        0x7FFFFFFF0000ull    /* end of the managed range */
#define MODEL_LARGE        0x200000ull          /* a large page: 2 MiB */

/*
 * Critical levels: what a commit must leave available, as a share of the
 * usable frames.  A task-critical commit may not take availability below
 * usable/8, an app-domain-critical one below usable/32; a process-critical
 * one may take everything.
 */
#define MODEL_TASK_SHARE       8u
#define MODEL_APPDOMAIN_SHARE  32u

/*
 * Frames a manager may hold for itself while the driver runs (the band's
 * width).  x86-64 paging for the pages the model can commit: the low window
 * (64 MiB from 64 KiB) touches 33 page tables (2 MiB each), a directory
 * and a PDPT; the high window (4 MiB below the limit) 3 + 1 + 1; plus the
 * root: 41.  Records for at most ~130 live reservations (drive.c keeps
 * them few) at up to 750 bytes each: 24.  Slack: 7.
 */
#define MODEL_OVERHEAD_FRAMES  72u

/* ---- the windows the model tracks page by page */

#define MODEL_LOW_BASE     MODEL_MIN
#define MODEL_LOW_SIZE     (64ull << 20)
#define MODEL_LOW_END      (MODEL_LOW_BASE + MODEL_LOW_SIZE)
#define MODEL_HIGH_SIZE    (4ull << 20)
#define MODEL_HIGH_BASE    (MODEL_LIMIT - MODEL_HIGH_SIZE)
#define MODEL_LOW_PAGES    (MODEL_LOW_SIZE / MODEL_PAGE)
#define MODEL_PAGES        ((MODEL_LOW_SIZE + MODEL_HIGH_SIZE) / MODEL_PAGE)

/* Sampled bytes of a page: offsets [0, S) and [PAGE - S, PAGE). */
#define MODEL_SAMPLE       32u
#define MODEL_MAX_RESV     4096u
#define MODEL_MAX_LOST     16u                  /* refused undos remembered */

/* Not an HRESULT of the interface: the model cannot answer (a commit of
 * untracked pages, too many reservations).  A driver bug, not a finding. */
#define MODEL_UNTRACKED    ((HRESULT)0xE0DE0001u)

#define MODEL_E_DISCARDED  HRESULT_FROM_WIN32(ERROR_DISCARDED)

struct model_page {
	uint8_t committed;
	uint8_t reset;                      /* MEM_RESET since the last decommit */
	uint16_t prot;                      /* committed: the protection */
	uint64_t maybe_zero;                /* bit i: bytes[i] may read as zero */
	uint8_t bytes[2 * MODEL_SAMPLE];    /* the sampled bytes */
};

struct model_resv {
	uint64_t base, end;                 /* end page-aligned, exclusive */
	uint32_t prot;                      /* AllocationProtect */
	bool large;                         /* MEM_LARGE_PAGES */
};

/* The commit limit, in pages of charge, all derived from the usable frames:
 * the band [sure, max] and what each critical level must leave. */
struct model_limits {
	uint64_t sure, max;
	uint64_t reserve[3];                /* by EMemoryCriticalLevel */
};

/* A range a MEM_RESET_UNDO was refused for: some of its data is lost. */
struct model_lost {
	uint64_t va, end;
};

struct model {
	struct model_resv resv[MODEL_MAX_RESV];   /* sorted by base */
	size_t nresv;
	struct model_lost lost[MODEL_MAX_LOST];   /* until a page of one is decommitted */
	size_t nlost;
	uint64_t charge;                          /* committed pages */
	struct model_limits limit;
	bool dead;                                /* a process-critical alloc failed */
	struct model_page page[MODEL_PAGES];
};

enum model_kind { MODEL_READ, MODEL_WRITE, MODEL_EXEC };

/* An empty address space on a machine with this many usable frames. */
void model_init(struct model *m, uint64_t usable_frames);

/*
 * VirtualAlloc.  out_given: ppMem is not NULL.  impl, impl_addr: what the
 * implementation under test returned and put in *ppMem, taken where the
 * contract allows more than one answer.  *out: the address on success,
 * else 0.
 */
HRESULT model_alloc(struct model *m, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                    uint32_t level, bool out_given, HRESULT impl, uint64_t impl_addr,
                    uint64_t *out);

HRESULT model_free(struct model *m, uint64_t addr, uint64_t size, DWORD type);

/* VirtualProtect.  old_given: pflOldProtect is not NULL; *old on success. */
HRESULT model_protect(struct model *m, uint64_t addr, uint64_t size, DWORD prot,
                      bool old_given, DWORD *old);

/* VirtualQuery with a buffer of len bytes (buf_given / res_given: lpBuffer
 * and pResult are not NULL).  *mbi on success. */
HRESULT model_query(struct model *m, uint64_t addr, uint64_t len, bool buf_given,
                    bool res_given, MEMORY_BASIC_INFORMATION *mbi);

/*
 * An access of len bytes at va (exec: one fetch, len ignored), as the CPU
 * makes it: pages in order, stopping at the first that faults.  Returns 0,
 * STATUS_ACCESS_VIOLATION or STATUS_GUARD_PAGE_VIOLATION; *done = bytes
 * transferred before the fault.  A write takes its bytes from buf; a read
 * puts the expected bytes in buf and, in zero_ok[i], whether byte i may also
 * read as zero.  A write outside the sampled bytes returns MODEL_UNTRACKED.
 * A dead manager still serves memory committed before it died: commit is a
 * promise for the life of the memory.
 */
uint32_t model_access(struct model *m, enum model_kind kind, uint64_t va, size_t len,
                      uint8_t *buf, bool *zero_ok, size_t *done);

/* ---- what the driver asks about the model's state */

/* Whether prot is one the contract accepts. */
bool model_prot_valid(DWORD prot);
/* The page at va, or NULL outside the windows. */
struct model_page *model_page_at(struct model *m, uint64_t va);
/* The reservation holding va, or NULL. */
struct model_resv *model_resv_at(struct model *m, uint64_t va);
/* Index of a sampled offset in model_page.bytes, or -1. */
int model_sample_index(uint64_t offset);

#endif
