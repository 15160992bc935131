/*
 * Host test support: a malloc'd buffer that plays physical RAM, and an
 * hm_platform over it whose TLB hooks invalidate an attached software MMU.
 *
 * Physical address pa is ram->mem + pa, from 0 to size.  The buffer starts
 * filled with junk (0xA5), not zero, so code that assumes fresh memory is
 * zero is caught.  The hooks count their calls; a test may add on_flush to
 * look at the world at the moment of a flush (e.g. that nothing was freed
 * yet).  panic longjmps to panic_jmp when a test set it, else prints and
 * aborts.  Not freestanding: host only.
 */
#ifndef TESTS_HOST_LIB_RAM_H
#define TESTS_HOST_LIB_RAM_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmem/platform.h"
#include "hostmem/sim/mmu.h"

struct ram {
	uint8_t *mem;
	size_t size;
	struct hm_platform plat;
	struct mmu *mmu;              /* invalidated by the TLB hooks, or NULL */

	size_t flush_pages, flush_alls, logs, panics, locks;
	size_t cache_flushes;         /* cache_flush calls */
	uint64_t cache_flushed;       /* bytes they covered */
	char last_log[256];
	char last_panic[256];
	jmp_buf *panic_jmp;           /* set by a test that expects a panic */
	bool echo_log;                /* print log lines (RAM_ECHO_LOG=1 sets it) */
	unsigned cpu;                 /* what the platform's cpu() answers (0) */

	/* Called after the MMU is invalidated; all = tlb_flush_all. */
	void (*on_flush)(struct ram *r, uint64_t va, bool all);
	void *test_ctx;
};

/* bytes of RAM (a multiple of 4 KiB).  Never returns NULL (aborts). */
struct ram *ram_new(size_t bytes);
void ram_free(struct ram *r);

/* The MMU whose TLB the platform hooks invalidate (NULL: none). */
void ram_attach_mmu(struct ram *r, struct mmu *m);

static inline void *ram_ptr(struct ram *r, uint64_t pa)
{
	return r->mem + pa;
}

#endif
