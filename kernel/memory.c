/*
 * The kernel as hostmem's platform.  Physical memory is reached through the
 * loader's direct map; a TLB gather ends in one shootdown on every CPU
 * (smp.c); the lock is a ticket spinlock shared by all CPUs.
 *
 * The lock: take a ticket (atomic fetch-add on next), wait until serving
 * reaches it.  Tickets make it fair (FIFO), so no CPU starves under
 * contention.  The wait (smp_wait_for) pauses and applies pending
 * shootdowns (a CPU waiting here may be inside a page fault with
 * interrupts off, and the holder may be waiting for its acknowledgement);
 * with interrupts on it soon sleeps in hlt, and unlock wakes the CPU whose
 * ticket is next (smp_wake).  It panics after 10 s.  A CPU asking for the lock it holds (hostmem touching managed
 * memory under its own lock: a bug) panics instead of deadlocking; owner is
 * written only by the holder.
 *
 * Caller memory (out-parameters) is copied inside a recovery point
 * (recover.c), so a caller pointer that faults makes the method fail with
 * E_POINTER instead of panicking the kernel.
 */
#include "memory.h"
#include "deadline.h"
#include "boot.h"
#include "print.h"
#include "machine.h"
#include "panic.h"
#include "recover.h"
#include "percpu.h"
#include "smp.h"
#include "hostmem/embed.h"

static IHostMemoryManager *manager;
static struct { uint32_t next, serving; int owner; } hm_lock_word = { 0, 0, -1 };
static uint8_t storage[4096] __attribute__((aligned(64)));
static struct phys_range usable_ranges[MAX_USABLE_RANGES];

static void k_flush_page(void *ctx, uint64_t va) { arch_tlb_flush_page(va); }
static void k_shootdown(void *ctx, const uint64_t *va, unsigned n) { smp_shootdown(va, n); }
static int log_expected;

void memory_log_expected(int on) { log_expected = on; }

static void k_log(void *ctx, const char *line)
{
	kprintf("%shostmem: %s\n", log_expected ? "expected: " : "", line);
}

struct copy { uint8_t *dst; const uint8_t *src; size_t n; };

/* Whole words when both sides and the length allow (out-parameters are
 * pointers and DWORDs: every call makes one to three such copies). */
static void do_copy(void *arg)
{
	struct copy *c = arg;

	if ((((uintptr_t)c->dst | (uintptr_t)c->src | c->n) & 7) == 0) {
		for (size_t i = 0; i < c->n; i += 8)
			*(uint64_t *)(c->dst + i) = *(const uint64_t *)(c->src + i);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		c->dst[i] = c->src[i];
}

/* Both directions are the same guarded copy: whichever side is the
 * caller's may fault, and the fault ends the copy, not the kernel.  Memory
 * in the upper half (the kernel's image, stacks, direct map) is always
 * mapped, so a copy between two such addresses needs no recovery point. */
static bool k_copy(void *ctx, void *dst, const void *src, size_t n)
{
	struct copy c = { dst, src, n };

	if ((uint64_t)dst >= DIRECT_MAP_BASE && (uint64_t)src >= DIRECT_MAP_BASE &&
	    (uint64_t)dst + n >= (uint64_t)dst) {
		do_copy(&c);
		return true;
	}
	return try_call(do_copy, &c, 0) == 0;
}

/* Through the direct map: the lines are in memory before the caller maps
 * the frame with another memory type. */
static void k_cache_flush(void *ctx, uint64_t pa, size_t n)
{
	arch_cache_clean(DIRECT_MAP_BASE + pa, n);
}

static void k_lock(void *ctx)
{
	int me = (int)smp_cpu_id();
	uint32_t ticket;

	if (__atomic_load_n(&hm_lock_word.owner, __ATOMIC_RELAXED) == me)
		panic("hostmem re-entered on cpu %d while it holds its lock", me);
	ticket = __atomic_fetch_add(&hm_lock_word.next, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&hm_lock_word.serving, __ATOMIC_ACQUIRE) != ticket)
		smp_wait_for(&hm_lock_word.serving, ticket, deadline_in(10000),
		             "hostmem's lock: not granted within 10 s");
	__atomic_store_n(&hm_lock_word.owner, me, __ATOMIC_RELAXED);
}

/* seq_cst: the store and smp_wake's read of the sleepers are Dekker's pair
 * (smp.c, theory 5). */
static void k_unlock(void *ctx)
{
	uint32_t next = hm_lock_word.serving + 1;

	__atomic_store_n(&hm_lock_word.owner, -1, __ATOMIC_RELAXED);
	__atomic_store_n(&hm_lock_word.serving, next, __ATOMIC_SEQ_CST);
	smp_wake(&hm_lock_word.serving, next);
}

__attribute__((noreturn)) static void k_panic(void *ctx, const char *why)
{
	panic("hostmem: %s", why);
}

static void k_barrier_all(void *ctx) { smp_barrier_all(); }
static void k_relax(void *ctx) { cpu_relax(); }
static unsigned k_cpu(void *ctx) { return smp_cpu_id(); }

static const struct hm_platform platform = {
	.phys_base = (uint8_t *)DIRECT_MAP_BASE,
	.tlb_shootdown = k_shootdown, .tlb_flush_page = k_flush_page,
	.lock = k_lock, .unlock = k_unlock, .copy_in = k_copy, .copy_out = k_copy,
	.cache_flush = k_cache_flush, .barrier_all = k_barrier_all, .relax = k_relax, .cpu = k_cpu,
	.log = k_log, .panic = k_panic,
};

void memory_init(int debug)
{
	struct hostmem_stats st;
	HRESULT hr;

	if (hostmem_storage_size() > sizeof(storage))
		panic("memory: the manager needs %zu bytes of storage", hostmem_storage_size());
	for (size_t i = 0; i < boot_nusable; i++)
		usable_ranges[i] = (struct phys_range){ boot_usable[i].base, boot_usable[i].end };
	hr = hostmem_init(storage, &platform, usable_ranges, boot_nusable, arch_managed_root(),
	                  debug ? FRAMES_DEBUG : 0, &manager);
	if (hr != S_OK)
		panic("memory: hostmem_init failed: %s (0x%08x)", hostmem_hresult_name(hr), (uint32_t)hr);
	if ((hr = hostmem_get_stats(manager, &st)) != S_OK)
		panic("memory: hostmem_get_stats after init: %s", hostmem_hresult_name(hr));
	kprintf("frames: total=%llu free=%llu reserved=%llu (4 KiB)\n",
	        (unsigned long long)boot_mem.ram_pages, (unsigned long long)st.frames_free,
	        (unsigned long long)(boot_mem.ram_pages - st.frames_free));
	kprintf("commit: limit=%llu pages (%llu MiB)%s\n", (unsigned long long)st.commit_available,
	        (unsigned long long)(st.commit_available >> 8), debug ? ", frame debug fill on" : "");
}

IHostMemoryManager *kernel_memory_manager(void)
{
	return manager;
}

uint32_t memory_fault(uint64_t va, uint32_t error)
{
	if (!manager)
		return STATUS_ACCESS_VIOLATION;
	return hostmem_fault(manager, va, error);
}
