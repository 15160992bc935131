/*
 * The seam between hostmem and whatever runs it.
 *
 * hostmem is freestanding: it never includes a kernel or libc header.  All it
 * needs from its embedder is in struct hm_platform:
 *
 *   phys_base  physical address p is readable and writable at phys_base + p.
 *              In the kernel that is the direct map; in the hosted twin it is
 *              the buffer that plays physical RAM.  Page tables and frames are
 *              only ever touched through it.
 *   tlb_shootdown
 *              drop the translations of va[0..n) (n == 0: all of them), and
 *              the cached walks through them, on every CPU, and return only
 *              when every CPU has: x86-64, invlpg by IPI (kernel/smp.c);
 *              AArch64, TLBI VAE1IS (not VALE1IS: an address may stand for
 *              a freed table) then DSB ISH; the software MMU's TLB in the
 *              twin.  Called with the lock held, once per TLB gather.
 *   tlb_flush_page
 *              drop va's translation on this CPU only (a spurious fault:
 *              a stale, more restrictive entry of this CPU's own): invlpg,
 *              TLBI VALE1 + DSB NSH + ISB.
 *   lock / unlock
 *              one lock around every public operation.  Never held while
 *              calling back out of hostmem (notifications).
 *   copy_in / copy_out
 *              move n bytes between hostmem and the caller's memory, which
 *              may fault: true when the copy completed, false when it
 *              faulted (the fault was caught, never a panic).  Never called
 *              with the lock held, so a fault may come back into hostmem.
 *   cache_flush
 *              write back and invalidate the CPU's cache lines of physical
 *              [pa, pa + n) (clflush, DC CIVAC): before a frame is mapped uncached or
 *              write-combining, and when it leaves such a mapping (pte.h).
 *   relax      one iteration of a spin-wait (pause, and in the kernel the
 *              shootdown this CPU may owe): IHostMalloc's lock spins.
 *   barrier_all
 *              return after every CPU has executed a full memory barrier
 *              (hostmem_flush_process_write_buffers).  Not under the lock.
 *   cpu        the calling CPU's index (any number; hostmem reduces it
 *              modulo FRAME_CPUS): frames a CPU cleared ahead are mapped by
 *              that CPU first, from its cache (frame.c, theory 8).  May be
 *              NULL: every CPU is then 0.
 *   log        one line of diagnostics, no trailing newline.
 *   panic      a broken invariant; does not return.  Never used for caller
 *              input: bad input is an HRESULT.
 */
#ifndef HOSTMEM_PLATFORM_H
#define HOSTMEM_PLATFORM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

struct hm_platform {
	uint8_t *phys_base;
	void (*tlb_shootdown)(void *ctx, const uint64_t *va, unsigned n);
	void (*tlb_flush_page)(void *ctx, uint64_t va);
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	bool (*copy_in)(void *ctx, void *dst, const void *src, size_t n);
	bool (*copy_out)(void *ctx, void *dst, const void *src, size_t n);
	void (*cache_flush)(void *ctx, uint64_t pa, size_t n);
	void (*barrier_all)(void *ctx);
	void (*relax)(void *ctx);
	unsigned (*cpu)(void *ctx);
	void (*log)(void *ctx, const char *line);
	void (*panic)(void *ctx, const char *why) __attribute__((noreturn));
	void *ctx;
};

#endif
