/*
 * model.h - the contract as a reference model: what VirtualAlloc,
 * VirtualFree, VirtualProtect, VirtualQuery and a CPU access must answer,
 * computed the dumbest way that is still fast enough to run ten million
 * operations.  The differential driver (drive.h) runs every operation on a
 * real manager and on the model and compares the answers.
 *
 * Written from CONTRACT.md and the edge cases hostmem documents (free
 * regions report PAGE_NOACCESS and Type 0; VirtualProtect keeps each page's
 * NOCACHE/WRITECOMBINE; MEM_RESET needs a valid protection and keeps state;
 * MEM_RESET returns the page-rounded address), never from hostmem's code: it
 * includes nothing of hostmem but the public constants.  Freestanding (no
 * libc), so the same model runs in the kernel's soak.
 *
 * What it keeps, all in plain arrays:
 *   - the reservations, sorted by base (binary search, first fit and top
 *     down are loops over this array);
 *   - for every page of two windows of the address space, its state and
 *     protection and a sample of its contents: the low window, 64 MiB from
 *     0x10000, where bottom-up placement lands, and the high window, the
 *     last 4 MiB below the limit, where top-down placement lands.  Pages
 *     outside the windows are "untracked": they may belong to a reservation
 *     (the driver fences the space between the windows with one) but are
 *     never committed; model_alloc refuses to commit them (MODEL_UNTRACKED).
 *   - contents: the first and the last MODEL_SAMPLE bytes of each page.  The
 *     driver writes only there, so every other byte of a committed page is
 *     zero, and a read anywhere has a known answer.  After MEM_RESET a
 *     sampled byte reads as its old value or as zero (the contract says
 *     "undefined"; a frame of another allocation showing through is neither).
 *   - the commit charge and a commit limit given as a band: a commit that
 *     leaves the charge at or below limit_sure must succeed, one above
 *     limit_max must fail, and in between (where page tables and metadata,
 *     which the model does not count, decide) the model follows the
 *     implementation.  Each critical level keeps a reserve it may not
 *     commit into (hostmem: usable/8 task, usable/32 app-domain, 0
 *     process); a process-critical VirtualAlloc that runs out of memory
 *     leaves the manager dead: every later call is HOST_E_CLRNOTAVAILABLE.
 *   - MEM_RESET_UNDO: a page stays "reset" from MEM_RESET until an undo
 *     or a decommit; accesses, VirtualProtect and a recommit do not change
 *     that ("if the function fails, at least some of the data has been
 *     replaced with zeroes": a write after the reset does not bring the
 *     rest back).  An undo over no reset page must succeed; over some it may
 *     succeed (then their contents are intact: the model holds the
 *     implementation to it) or report ERROR_DISCARDED (contents stay "old
 *     or zero").
 *   - MEM_LARGE_PAGES (hostmem's rules, README): RESERVE|COMMIT only, 2 MiB
 *     multiples of size and address, a protection the CPU maps; placed
 *     2 MiB-aligned in the lowest (highest) gap of size + 2 MiB - 64 KiB;
 *     committed whole; VirtualProtect on whole 2 MiB pages only; commit or
 *     decommit in it E_INVALIDARG; MEM_RESET leaves it alone.  Getting 2 MiB
 *     of contiguous frames can fail at any charge below the limit, so a
 *     large-page allocation may run out of memory wherever the band allows.
 *
 * Where the contract leaves the implementation a choice (the band,
 * MEM_RESET_UNDO), the caller passes the implementation's HRESULT (impl)
 * and the model accepts it only if it is one of the allowed answers.
 */
#ifndef TESTS_MODEL_MODEL_H
#define TESTS_MODEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmem/hostmem.h"

#define MODEL_PAGE         0x1000ull
#define MODEL_GRANULE      0x10000ull
#define MODEL_MIN          0x10000ull           /* lowest usable address */
#define MODEL_LIMIT        0x7FFFFFFF0000ull    /* end of the managed range */

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
#define MODEL_LARGE        0x200000ull          /* a large page */

/* Not an HRESULT of the interface: the model cannot answer (a commit of
 * untracked pages, too many reservations).  A driver bug, not a finding. */
#define MODEL_UNTRACKED    ((HRESULT)0xE0DE0001u)

#define MODEL_E_DISCARDED  HRESULT_FROM_WIN32(ERROR_DISCARDED)

struct model_page {
	uint8_t committed;
	uint8_t reset;                      /* MEM_RESET since the last write */
	uint16_t prot;                      /* committed: the protection */
	uint64_t maybe_zero;                /* bit i: bytes[i] may read as zero */
	uint8_t bytes[2 * MODEL_SAMPLE];    /* the sampled bytes */
};

struct model_resv {
	uint64_t base, end;                 /* end page-aligned, exclusive */
	uint32_t prot;                      /* AllocationProtect */
	bool large;                         /* MEM_LARGE_PAGES */
};

/* The commit limit: the band, and what each critical level must leave. */
struct model_limits {
	uint64_t sure, max;
	uint64_t reserve[3];                /* by EMemoryCriticalLevel */
};

struct model {
	struct model_resv resv[MODEL_MAX_RESV];   /* sorted by base */
	size_t nresv;
	uint64_t charge;                          /* committed pages */
	struct model_limits limit;
	bool dead;                                /* a process-critical alloc failed */
	struct model_page page[MODEL_PAGES];
};

enum model_kind { MODEL_READ, MODEL_WRITE, MODEL_EXEC };

/* An empty address space with this commit limit. */
void model_init(struct model *m, const struct model_limits *limit);

/*
 * VirtualAlloc.  out_given: ppMem is not NULL.  impl: what the
 * implementation under test returned, taken where the contract allows more
 * than one answer.  *out: the address on success, else 0.
 */
HRESULT model_alloc(struct model *m, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                    uint32_t level, bool out_given, HRESULT impl, uint64_t *out);

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
 * read as zero.  A write outside the sampled bytes, or any access once the
 * manager is dead (faults then go unanswered), returns MODEL_UNTRACKED.
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
