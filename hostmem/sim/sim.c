/*
 * sim.c - the hosted twin's platform: RAM from the host's heap, the software
 * MMU of the build's format (x86-64 or AArch64: hostmem/arch/) as the CPU, a
 * spinlock as the lock.  The only hostmem file that uses libc.
 *
 * An access loops like the CPU: translate; on a fault ask hostmem_fault; if it
 * resolved the fault (a demand-zero page got its frame, a stale TLB entry
 * went away), translate again, otherwise the access raises the exception
 * code.  A guard page therefore reports STATUS_GUARD_PAGE_VIOLATION once and
 * the next access goes through, as on Windows.
 *
 * Threads.  Each host thread that accesses simulated memory is a CPU of its
 * own: it gets a software MMU (its own TLB) on its first access, up to
 * SIM_CPUS, and a lock for it, as a real CPU's TLB answers only between
 * instructions.  An access holds its CPU's lock from the translation to
 * the end of the copy of the bytes it allows; a shootdown, sent under
 * hostmem's lock (sim_lock), takes each CPU's lock in turn to flush
 * its TLB.  So a flush waits for the access in flight, and hostmem frees a
 * frame or a table only after every copy through the old translation is
 * done (lock order: hostmem's, then a CPU's; an access never takes
 * hostmem's while it holds its own).  Translations of different threads
 * run at once, and at once with hostmem's work: the MMU reads entries with
 * acquire loads and sets A and D with compare-and-swap, as the CPU's locked
 * updates do, and hostmem writes entries atomically (pagetable.c).
 * hostmem_fault runs without any of these locks (it takes hostmem's).
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hostmem/sim.h"
#include "hostmem/embed.h"
#include "hostmem/sim/mmu.h"

#define SIM_PAGE 4096u
#define SIM_MAXPHYADDR 40
#define SIM_CPUS 16

/* A thread that accesses memory: its MMU, under its own lock.  A cache
 * line of its own, so one CPU's TLB statistics do not bounce another's lock. */
struct sim_cpu {
	pthread_mutex_t lock;
	struct mmu mmu;
} __attribute__((aligned(64)));

struct hm_sim {
	uint8_t *ram;
	size_t ram_bytes;
	struct hm_platform plat;
	struct sim_cpu cpu[SIM_CPUS]; /* one per thread that has accessed memory */
	unsigned ncpus;               /* written under cpus_lock, read with acquire */
	pthread_mutex_t cpus_lock;    /* serialises threads becoming CPUs */
	uint64_t id;                  /* tells twins apart in a thread's cpu record */
	bool keep;                    /* HM_SIM_TLB_KEEP */
	bool hafdbs;                  /* not HM_SIM_NO_HAFDBS */
	IHostMemoryManager *mgr;
	void *storage;
	unsigned fail_copy;           /* hm_sim_fail_caller_copy countdown */
	uint8_t *cache;               /* per frame: CACHE_* (the memory-type rule); atomic */
	uint64_t cache_violations;    /* atomic */
	/* hostmem's lock: 0 free, 1 held (sim_lock).  A cache line of its own,
	 * last: its bouncing must not take the fields above with it. */
	uint32_t lock __attribute__((aligned(64)));
};

/* sim.cache: what the CPU's caches may hold of a frame. */
#define CACHE_FLUSHED   0x1u   /* no line since the last cache_flush */
#define CACHE_UNCACHED  0x2u   /* accessed uncached since the last cache_flush */

/* The twin's locks are held for a microsecond or two.  A waiter that went
 * to sleep at once (glibc's default) would pay a futex wake, tens of
 * microseconds in a VM, for each: an adaptive mutex spins a while first. */
static void mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

/* The calling thread's CPU in this twin, made on first use.  Its MMU is
 * set up before ncpus counts it, so a shootdown sees a CPU whole or not at
 * all (and one it misses has an empty TLB). */
static struct sim_cpu *this_cpu(hm_sim *sim)
{
	static _Thread_local struct { uint64_t sim; unsigned cpu; } self;
	struct sim_cpu *c;
	unsigned n;

	if (self.sim == sim->id)
		return &sim->cpu[self.cpu];
	pthread_mutex_lock(&sim->cpus_lock);
	n = sim->ncpus;
	if (n == SIM_CPUS) {
		fprintf(stderr, "hostmem twin: more than %d threads access memory\n", SIM_CPUS);
		abort();
	}
	c = &sim->cpu[n];
	mutex_init(&c->lock);
	mmu_init(&c->mmu, &sim->plat, hostmem_root(sim->mgr), SIM_MAXPHYADDR);
	c->mmu.keep = sim->keep;
	c->mmu.hafdbs = sim->hafdbs;
	__atomic_store_n(&sim->ncpus, n + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sim->cpus_lock);
	self.sim = sim->id;
	self.cpu = n;
	return c;
}

/* The calling thread's CPU number: its zero list (frame.c, theory 8). */
static unsigned sim_cpu_index(void *ctx)
{
	hm_sim *sim = ctx;

	if (!sim->mgr)   /* hostmem_init: no thread is a CPU yet */
		return 0;
	return (unsigned)(this_cpu(sim) - sim->cpu);
}

/* A stale entry of this thread's own (a spurious fault); hostmem's lock held. */
static void sim_flush_page(void *ctx, uint64_t va)
{
	struct sim_cpu *c = this_cpu(ctx);

	pthread_mutex_lock(&c->lock);
	mmu_flush_page(&c->mmu, va);
	pthread_mutex_unlock(&c->lock);
}

/* Every thread's TLB, each under its own lock: returns when no access
 * through a dropped translation is still in flight.  hostmem's lock held. */
static void sim_shootdown(void *ctx, const uint64_t *va, unsigned n)
{
	hm_sim *sim = ctx;
	unsigned ncpus = __atomic_load_n(&sim->ncpus, __ATOMIC_ACQUIRE);

	for (unsigned k = 0; k < ncpus; k++) {
		struct sim_cpu *c = &sim->cpu[k];

		pthread_mutex_lock(&c->lock);
		if (n == 0)
			mmu_flush_all(&c->mmu);
		for (unsigned i = 0; i < n; i++)
			mmu_flush_page(&c->mmu, va[i]);
		pthread_mutex_unlock(&c->lock);
	}
}
/* hostmem's lock.  It is held about a microsecond per fault: a waiter that
 * slept in the kernel would pay a wake-up, tens of microseconds in a VM, each
 * time.  So it spins (test, then test-and-set, with pause), and yields the
 * CPU after a while, for when there are more threads than CPUs and the
 * holder is the one waiting for a CPU.  Held 10 s is a hang: panic. */
__attribute__((noreturn)) static void sim_panic(void *ctx, const char *why);

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sim_lock(void *ctx)
{
	hm_sim *sim = ctx;
	double since = 0;

	while (__atomic_exchange_n(&sim->lock, 1, __ATOMIC_ACQUIRE)) {
		for (unsigned spins = 0; __atomic_load_n(&sim->lock, __ATOMIC_RELAXED); spins++) {
			__builtin_ia32_pause();
			if (spins < 1000)
				continue;
			if (since == 0)
				since = seconds();
			else if (seconds() - since > 10)
				sim_panic(sim, "hostmem's lock held for 10 s");
			sched_yield();
		}
	}
}

static void sim_unlock(void *ctx)
{
	__atomic_store_n(&((hm_sim *)ctx)->lock, 0, __ATOMIC_RELEASE);
}
static void sim_log(void *ctx, const char *line) { fprintf(stderr, "hostmem: %s\n", line); }

static bool sim_copy(void *ctx, void *dst, const void *src, size_t n)
{
	hm_sim *sim = ctx;

	if (sim->fail_copy && --sim->fail_copy == 0)
		return false;
	memcpy(dst, src, n);
	return true;
}

static void sim_relax(void *ctx)
{
	__builtin_ia32_pause();
}

/* FlushProcessWriteBuffers on the twin: every thread of the process runs a
 * full barrier before this returns, so every thread the twin counts as a
 * CPU among them.  Linux's membarrier(PRIVATE_EXPEDITED) does exactly that
 * (an IPI to each CPU running one of our threads); where it is missing,
 * the CLR's own fallback: taking write access away from a page we wrote
 * makes the kernel shoot down its TLB entry on every CPU running our
 * threads, and that IPI serialises them. */
static void sim_barrier_all(void *ctx)
{
	static int state;                /* 0 unknown, 1 membarrier, 2 mprotect; atomic */
	static long page[4096 / sizeof(long)] __attribute__((aligned(4096)));
	static pthread_mutex_t page_lock = PTHREAD_MUTEX_INITIALIZER;
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);

	if (s == 0) {
		s = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : 2;
		__atomic_store_n(&state, s, __ATOMIC_RELEASE);
	}
	if (s == 1 && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
	pthread_mutex_lock(&page_lock);
	if (mprotect(page, sizeof(page), PROT_READ | PROT_WRITE) != 0)
		abort();
	__atomic_add_fetch(&page[0], 1, __ATOMIC_SEQ_CST);
	if (mprotect(page, sizeof(page), PROT_READ) != 0)
		abort();
	pthread_mutex_unlock(&page_lock);
}

static void sim_cache_flush(void *ctx, uint64_t pa, size_t n)
{
	hm_sim *sim = ctx;

	for (uint64_t f = pa / SIM_PAGE; f < (pa + n + SIM_PAGE - 1) / SIM_PAGE; f++)
		__atomic_store_n(&sim->cache[f], CACHE_FLUSHED, __ATOMIC_RELAXED);
}

/* The memory-type rule, checked on every access the MMU let through: a
 * write-back access may leave lines in the cache, an uncached one goes
 * around it, and mixing the two without a flush in between reads stale data
 * on real hardware. */
static void cache_check(hm_sim *sim, uint64_t pa, bool cached)
{
	uint8_t *c = &sim->cache[pa / SIM_PAGE];
	uint8_t was = __atomic_load_n(c, __ATOMIC_RELAXED);

	/* Written only when it changes: threads on neighbouring frames share
	 * the line, and a store on every access would bounce it between them. */
	if (cached && was != 0)
		was = __atomic_exchange_n(c, 0, __ATOMIC_RELAXED);
	else if (!cached && !(was & CACHE_UNCACHED))
		was = __atomic_fetch_or(c, CACHE_UNCACHED, __ATOMIC_RELAXED);

	if (cached ? (was & CACHE_UNCACHED) : !(was & CACHE_FLUSHED))
		__atomic_add_fetch(&sim->cache_violations, 1, __ATOMIC_RELAXED);
}

__attribute__((noreturn)) static void sim_panic(void *ctx, const char *why)
{
	fprintf(stderr, "hostmem: PANIC: %s\n", why);
	abort();
}

static HRESULT sim_start(hm_sim *sim, unsigned flags)
{
	struct phys_range ram = { SIM_PAGE, sim->ram_bytes };
	HRESULT hr;

	sim->plat = (struct hm_platform){
		.phys_base = sim->ram, .tlb_shootdown = sim_shootdown,
		.tlb_flush_page = sim_flush_page, .lock = sim_lock, .unlock = sim_unlock,
		.copy_in = sim_copy, .copy_out = sim_copy, .cache_flush = sim_cache_flush,
		.barrier_all = sim_barrier_all, .relax = sim_relax, .cpu = sim_cpu_index,
		.log = sim_log, .panic = sim_panic, .ctx = sim,
	};
	hr = hostmem_init(sim->storage, &sim->plat, &ram, 1, 0,
	                  (flags & HM_SIM_DEBUG_FRAMES) ? FRAMES_DEBUG : 0, &sim->mgr);
	sim->keep = (flags & HM_SIM_TLB_KEEP) != 0;
	sim->hafdbs = !(flags & HM_SIM_NO_HAFDBS) && !getenv("HM_SIM_NO_HAFDBS");
	return hr;
}

HRESULT hm_sim_create_ex(size_t ram_bytes, unsigned flags, hm_sim **out)
{
	hm_sim *sim;
	HRESULT hr;

	if (!out)
		return E_POINTER;
	*out = NULL;
	ram_bytes &= ~(size_t)(SIM_PAGE - 1);
	if (ram_bytes < (1u << 20) || ram_bytes > (1ull << SIM_MAXPHYADDR))
		return E_INVALIDARG;
	static uint64_t ids;

	/* Aligned as its type says (its locks and CPUs each own a cache line):
	 * calloc promises only 16 bytes, and a CPU's counters then shared a line
	 * with the next CPU's lock. */
	sim = aligned_alloc(_Alignof(hm_sim), (sizeof(*sim) + _Alignof(hm_sim) - 1) &
	                                      ~(_Alignof(hm_sim) - 1));
	if (!sim)
		return E_OUTOFMEMORY;
	memset(sim, 0, sizeof(*sim));
	sim->id = __atomic_add_fetch(&ids, 1, __ATOMIC_RELAXED);
	sim->ram_bytes = ram_bytes;
	sim->ram = aligned_alloc(SIM_PAGE, ram_bytes);
	sim->storage = aligned_alloc(64, (hostmem_storage_size() + 63) & ~(size_t)63);
	sim->cache = calloc(ram_bytes / SIM_PAGE, 1);
	pthread_mutex_init(&sim->cpus_lock, NULL);
	hr = sim->ram && sim->storage && sim->cache ? sim_start(sim, flags) : E_OUTOFMEMORY;
	if (hr != S_OK) {
		hm_sim_destroy(sim);
		return hr;
	}
	*out = sim;
	return S_OK;
}

HRESULT hm_sim_create(size_t ram_bytes, hm_sim **out)
{
	return hm_sim_create_ex(ram_bytes, 0, out);
}

void hm_sim_destroy(hm_sim *sim)
{
	if (!sim)
		return;
	for (unsigned k = 0; k < sim->ncpus; k++)
		pthread_mutex_destroy(&sim->cpu[k].lock);
	pthread_mutex_destroy(&sim->cpus_lock);
	free(sim->storage);
	free(sim->cache);
	free(sim->ram);
	free(sim);
}

IHostMemoryManager *hm_sim_manager(hm_sim *sim) { return sim->mgr; }
uint8_t *hm_sim_ram(hm_sim *sim) { return sim->ram; }
void hm_sim_fail_caller_copy(hm_sim *sim, unsigned n) { sim->fail_copy = n; }
uint64_t hm_sim_cache_violations(hm_sim *sim)
{
	return __atomic_load_n(&sim->cache_violations, __ATOMIC_RELAXED);
}

/* Translates va for one access, taking faults through hostmem like the CPU.
 * On success *cpu's lock is held: the caller copies the bytes and unlocks,
 * so no shootdown (and so no free of the frame) can come in between.  A
 * resolved fault is retried.  Another thread may undo the resolution before
 * the retry (a decommit and a recommit), so a few in a row are fine; a
 * thousand mean hostmem says "resolved" without changing anything. */
static uint32_t translate(hm_sim *sim, uint64_t va, enum mmu_kind kind, uint8_t **host,
                          struct sim_cpu **cpu)
{
	struct sim_cpu *c = this_cpu(sim);
	uint64_t pa;
	uint32_t err, code;

	for (int attempt = 0; attempt < 1000; attempt++) {
		pthread_mutex_lock(&c->lock);
		err = mmu_access(&c->mmu, va, kind, &pa);
		if (err == 0) {
			cache_check(sim, pa, c->mmu.last_cached);
			*host = sim->ram + pa;
			*cpu = c;
			return 0;
		}
		pthread_mutex_unlock(&c->lock);
		if (err == MMU_GP)
			return STATUS_ACCESS_VIOLATION;
		code = hostmem_fault(sim->mgr, va, err);
		if (code)
			return code;
	}
	sim_panic(sim, "a fault hostmem resolved keeps faulting");
}

/* Copies len bytes between the host buffer and simulated memory, one page
 * at a time, stopping at the first fault. */
static uint32_t copy(hm_sim *sim, uint64_t va, uint8_t *buf, size_t len, bool write)
{
	struct sim_cpu *c;
	uint8_t *host;
	uint32_t code;
	size_t n;

	while (len) {
		n = SIM_PAGE - (va & (SIM_PAGE - 1));
		if (n > len)
			n = len;
		code = translate(sim, va, write ? MMU_WRITE : MMU_READ, &host, &c);
		if (code)
			return code;
		if (write)
			memcpy(host, buf, n);
		else
			memcpy(buf, host, n);
		pthread_mutex_unlock(&c->lock);
		va += n;
		buf += n;
		len -= n;
	}
	return 0;
}

uint32_t hm_sim_read(hm_sim *sim, const void *va, void *buf, size_t len)
{
	return copy(sim, (uint64_t)(uintptr_t)va, buf, len, false);
}

uint32_t hm_sim_write(hm_sim *sim, void *va, const void *buf, size_t len)
{
	return copy(sim, (uint64_t)(uintptr_t)va, (uint8_t *)buf, len, true);
}

uint32_t hm_sim_exec(hm_sim *sim, const void *va)
{
	struct sim_cpu *c;
	uint8_t *host;
	uint32_t code = translate(sim, (uint64_t)(uintptr_t)va, MMU_EXEC, &host, &c);

	if (code == 0)
		pthread_mutex_unlock(&c->lock);
	return code;
}
