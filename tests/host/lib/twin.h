/*
 * twin.h - the fixture of the contract tests: a small hosted twin that
 * verifies itself after every call, wrappers that assert, and snapshots of
 * everything a caller can observe, so that an error test can say "this call
 * failed with exactly this HRESULT and changed nothing".
 *
 * Addresses are the twin's simulated ones, passed around as uint64_t; the
 * wrappers turn them into the interface's pointers.  Every asserting wrapper
 * is a macro, so a failure names the line of the test, not of this file.
 *
 * A snapshot (struct twin_snap) is:
 *   - the VirtualQuery walk of the whole space [0, 0x7FFFFFFF0000), region by
 *     region (the walk itself asserts that the regions tile the space);
 *   - a hash of the contents of every committed region, read through
 *     hm_sim_read.  Regions no access may read (PAGE_NOACCESS, PAGE_GUARD) are
 *     made PAGE_READONLY for the read and given their protection back, so
 *     their contents count too;
 *   - hostmem_get_stats, taken last.
 * Reading gives a demand-zero page its frame, so the first snapshot may move
 * frames from "promised" to "data" (and ends what MEM_RESET_UNDO could report
 * for a reset page); a second snapshot with nothing in between is equal to
 * the first.  Tests that count promised frames take their stats, and tests
 * of MEM_RESET_UNDO make their undo, before any snapshot.  frames_zeroed is
 * not compared: whether a free frame is known zero is the allocator's
 * business, not the contract's.
 */
#ifndef TESTS_HOST_LIB_TWIN_H
#define TESTS_HOST_LIB_TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmem/hostmem.h"
#include "hostmem/sim.h"

#define KiB  0x400ull
#define MiB  0x100000ull
#define GiB  0x40000000ull
#define PG   0x1000ull                 /* P, the page size */
#define GR   0x10000ull                /* G, the allocation granularity */
#define VA_FIRST  0x10000ull           /* the lowest usable address */
#define VA_END    0x7FFFFFFF0000ull    /* the managed range's (exclusive) end */

/* RAM of the twin each test gets: small, so that a commit can fill it and
 * verify after every call (O(frames)) stays cheap. */
#define TWIN_RAM  (8 * MiB)
/* With the debug fill, verify also checks every free frame's pattern, so
 * that twin is smaller still. */
#define TWIN_DEBUG_RAM  (2 * MiB)

struct twin_snap {
	size_t n, cap;
	MEMORY_BASIC_INFORMATION *mbi;   /* the walk, in address order */
	uint64_t *hash;                  /* per region: its contents (0 if not committed) */
	struct hostmem_stats st;
};

struct twin {
	hm_sim *sim;
	IHostMemoryManager *m;
	struct hostmem_stats start;      /* right after creation */
	struct twin_snap before, after;  /* assert_unchanged's scratch */
	bool dead_ok;                    /* the test killed the manager on purpose */
};

/* A twin over ram_bytes with verify_each on; sim_flags as hm_sim_create_ex
 * (HM_SIM_DEBUG_FRAMES: freed frames are filled with a pattern, checked when
 * they are taken again and by every verify). */
struct twin *twin_new(size_t ram_bytes, unsigned sim_flags);
void twin_free(struct twin *t);

/* cmocka fixtures: *state = a TWIN_RAM twin, or a TWIN_DEBUG_RAM twin with
 * the debug fill.  The teardown fails the test if hostmem_verify is not
 * clean (unless dead_ok). */
int twin_setup(void **state);
int twin_debug_setup(void **state);
int twin_teardown(void **state);

/* A simulated address as the interface takes it. */
#define VA(x) ((void *)(uintptr_t)(x))

/* ------------------------------------------------------------ raw calls */

HRESULT twin_alloc(struct twin *t, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                   uint64_t *out);
HRESULT twin_vfree(struct twin *t, uint64_t addr, uint64_t size, DWORD type);
HRESULT twin_protect(struct twin *t, uint64_t addr, uint64_t size, DWORD prot, DWORD *old);
HRESULT twin_query(struct twin *t, uint64_t addr, MEMORY_BASIC_INFORMATION *mbi);
struct hostmem_stats twin_stats(struct twin *t);

/* Accesses as the CPU makes them: 0, STATUS_ACCESS_VIOLATION or
 * STATUS_GUARD_PAGE_VIOLATION. */
uint32_t twin_read(struct twin *t, uint64_t va, void *buf, size_t len);
uint32_t twin_write(struct twin *t, uint64_t va, const void *buf, size_t len);
uint32_t twin_exec(struct twin *t, uint64_t va);
uint32_t twin_peek(struct twin *t, uint64_t va, uint8_t *v);
uint32_t twin_poke(struct twin *t, uint64_t va, uint8_t v);

/* Failure injection (reaches inside the manager): the k-th frame allocation
 * from now fails, once; 0 turns it off. */
void twin_fail_frame_alloc(struct twin *t, unsigned k);

/* ------------------------------------------------------------ snapshots */

void twin_snap(struct twin *t, struct twin_snap *s);
void twin_snap_free(struct twin_snap *s);

/* ------------------------------------------------------------ asserting
 * (file and line are the test's) */

void twin_assert_hr(HRESULT want, HRESULT got, const char *call, const char *file, int line);
void twin_assert_code(uint32_t want, uint32_t got, const char *call, const char *file, int line);
void twin_assert_same(const struct twin_snap *a, const struct twin_snap *b,
                      const char *file, int line);
void twin_assert_clean(struct twin *t, const char *file, int line);
void twin_assert_region(const MEMORY_BASIC_INFORMATION *mbi, uint64_t base, uint64_t alloc_base,
                        DWORD alloc_prot, uint64_t size, DWORD state, DWORD prot, DWORD type,
                        const char *file, int line);
void twin_assert_stats_at_start(struct twin *t, const char *file, int line);
uint64_t twin_alloc_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                       const char *file, int line);
void twin_alloc_fails(struct twin *t, HRESULT want, uint64_t addr, uint64_t size, DWORD type,
                      DWORD prot, const char *file, int line);
void twin_free_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD type,
                  const char *file, int line);
DWORD twin_protect_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD prot,
                      const char *file, int line);
MEMORY_BASIC_INFORMATION twin_query_ok(struct twin *t, uint64_t addr, const char *file, int line);
void twin_fill_ok(struct twin *t, uint64_t va, size_t len, uint8_t v, const char *file, int line);
void twin_assert_bytes(struct twin *t, uint64_t va, size_t len, uint8_t v,
                       const char *file, int line);
void twin_unchanged_begin(struct twin *t);
void twin_unchanged_end(struct twin *t, const char *file, int line);

#define assert_hr(want, call)      twin_assert_hr((want), (call), #call, __FILE__, __LINE__)
#define assert_code(want, access)  twin_assert_code((want), (access), #access, __FILE__, __LINE__)

/* call (an HRESULT expression) returns want, and the twin is exactly as it
 * was before and verifies clean. */
#define assert_unchanged(t, want, call) do { \
		twin_unchanged_begin(t); \
		twin_assert_hr((want), (call), #call, __FILE__, __LINE__); \
		twin_unchanged_end((t), __FILE__, __LINE__); \
	} while (0)

/* VirtualAlloc fails with want, sets *ppMem to NULL, and changes nothing. */
#define alloc_fails(t, want, addr, size, type, prot) \
	twin_alloc_fails((t), (want), (addr), (size), (type), (prot), __FILE__, __LINE__)

#define alloc_ok(t, addr, size, type, prot) \
	twin_alloc_ok((t), (addr), (size), (type), (prot), __FILE__, __LINE__)
#define reserve_ok(t, addr, size, prot)  alloc_ok((t), (addr), (size), MEM_RESERVE, (prot))
#define commit_ok(t, addr, size, prot)   alloc_ok((t), (addr), (size), MEM_COMMIT, (prot))
#define free_ok(t, addr, size, type) \
	twin_free_ok((t), (addr), (size), (type), __FILE__, __LINE__)
#define release_ok(t, addr)              free_ok((t), (addr), 0, MEM_RELEASE)
#define protect_ok(t, addr, size, prot) \
	twin_protect_ok((t), (addr), (size), (prot), __FILE__, __LINE__)
#define query_ok(t, addr)                twin_query_ok((t), (addr), __FILE__, __LINE__)
#define fill_ok(t, va, len, v)           twin_fill_ok((t), (va), (len), (v), __FILE__, __LINE__)
#define assert_bytes(t, va, len, v) \
	twin_assert_bytes((t), (va), (len), (v), __FILE__, __LINE__)
#define assert_clean(t)                  twin_assert_clean((t), __FILE__, __LINE__)
#define assert_stats_at_start(t)         twin_assert_stats_at_start((t), __FILE__, __LINE__)

/* Every field of a MEMORY_BASIC_INFORMATION. */
#define assert_region(mbi, base, alloc_base, alloc_prot, size, state, prot, type) \
	twin_assert_region(&(mbi), (base), (alloc_base), (alloc_prot), (size), (state), (prot), \
	                   (type), __FILE__, __LINE__)

/* Shorthand for the common shapes. */
#define assert_free_region(mbi, base, size) \
	assert_region(mbi, base, 0, 0, size, MEM_FREE, PAGE_NOACCESS, 0)
#define assert_reserved_region(mbi, base, alloc_base, alloc_prot, size) \
	assert_region(mbi, base, alloc_base, alloc_prot, size, MEM_RESERVE, 0, MEM_PRIVATE)
#define assert_committed_region(mbi, base, alloc_base, alloc_prot, size, prot) \
	assert_region(mbi, base, alloc_base, alloc_prot, size, MEM_COMMIT, prot, MEM_PRIVATE)

/* Fails the running cmocka test at file:line with a printf-style message. */
void twin_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#endif
