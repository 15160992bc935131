/*
 * ram.c - simulated physical RAM and its hm_platform for host tests.
 * See ram.h.
 */
#include "tests/host/lib/ram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ram_tlb_flush_page(void *ctx, uint64_t va)
{
	struct ram *r = ctx;

	r->flush_pages++;
	if (r->mmu)
		mmu_flush_page(r->mmu, va);
	if (r->on_flush)
		r->on_flush(r, va, false);
}

static void ram_tlb_flush_all(void *ctx)
{
	struct ram *r = ctx;

	r->flush_alls++;
	if (r->mmu)
		mmu_flush_all(r->mmu);
	if (r->on_flush)
		r->on_flush(r, 0, true);
}

static void ram_lock(void *ctx)
{
	((struct ram *)ctx)->locks++;
}

static void ram_unlock(void *ctx)
{
	((struct ram *)ctx)->locks--;
}

static void ram_tlb_shootdown(void *ctx, const uint64_t *va, unsigned n)
{
	if (n == 0)
		ram_tlb_flush_all(ctx);
	for (unsigned i = 0; i < n; i++)
		ram_tlb_flush_page(ctx, va[i]);
}

static bool ram_copy(void *ctx, void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
	return true;
}

/* Host memory has one memory type: only count what hostmem asked for. */
static void ram_cache_flush(void *ctx, uint64_t pa, size_t n)
{
	struct ram *r = ctx;

	r->cache_flushes++;
	r->cache_flushed += n;
}

static void ram_relax(void *ctx)
{
	__builtin_ia32_pause();
}

/* The CPU a test says it runs on (ram->cpu). */
static unsigned ram_cpu(void *ctx)
{
	return ((struct ram *)ctx)->cpu;
}

static void ram_barrier_all(void *ctx)
{
	static int fence;

	__atomic_fetch_add(&fence, 0, __ATOMIC_SEQ_CST);   /* a locked RMW: a full barrier */
}

static void ram_log(void *ctx, const char *line)
{
	struct ram *r = ctx;

	r->logs++;
	snprintf(r->last_log, sizeof r->last_log, "%s", line);
	if (r->echo_log)
		fprintf(stderr, "# log: %s\n", line);
}

__attribute__((noreturn)) static void ram_panic(void *ctx, const char *why)
{
	struct ram *r = ctx;

	r->panics++;
	snprintf(r->last_panic, sizeof r->last_panic, "%s", why);
	if (r->panic_jmp)
		longjmp(*r->panic_jmp, 1);
	fprintf(stderr, "hostmem panic: %s\n", why);
	abort();
}

struct ram *ram_new(size_t bytes)
{
	struct ram *r = calloc(1, sizeof *r);

	if (!r || (bytes & 0xFFF))
		abort();
	r->mem = aligned_alloc(4096, bytes);
	if (!r->mem)
		abort();
	memset(r->mem, 0xA5, bytes);
	r->size = bytes;
	r->echo_log = getenv("RAM_ECHO_LOG") != NULL;
	r->plat = (struct hm_platform){
		.phys_base = r->mem,
		.tlb_shootdown = ram_tlb_shootdown,
		.tlb_flush_page = ram_tlb_flush_page,
		.lock = ram_lock,
		.unlock = ram_unlock,
		.copy_in = ram_copy,
		.copy_out = ram_copy,
		.cache_flush = ram_cache_flush,
		.barrier_all = ram_barrier_all,
		.relax = ram_relax,
		.cpu = ram_cpu,
		.log = ram_log,
		.panic = ram_panic,
		.ctx = r,
	};
	return r;
}

void ram_free(struct ram *r)
{
	if (!r)
		return;
	free(r->mem);
	free(r);
}

void ram_attach_mmu(struct ram *r, struct mmu *m)
{
	r->mmu = m;
}
