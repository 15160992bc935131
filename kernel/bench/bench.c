/*
 * bench.c - the kernel's benchmark mode (mode=bench): what hostmem costs on
 * the real MMU, in TSC ticks.
 *
 * Under QEMU with `-icount shift=0,sleep=off` the virtual clock advances one
 * nanosecond per guest instruction and the TSC follows it, so a TSC delta is
 * an instruction count: deterministic, independent of the host's load.
 * tsc_check() proves it on a loop of known length before anything else is
 * measured (without -icount the figures are plain TSC ticks).
 *
 * What is measured:
 *   1. commit + first touch of 64 MiB (one write per page: each takes the
 *      demand-zero fault, which zeroes a frame and maps it) against writing
 *      the same 64 MiB once it is mapped, in the same boot.  The reference
 *      write is a loop of 8-byte stores, the same code the frame allocator
 *      zeroes with, so the ratio is the fault path's overhead over the
 *      zeroing it cannot avoid; `rep stosq` is reported too.
 *   2. loops: reserve + release 64 KiB, commit + decommit one page next to
 *      a resident page (its page table stays) and in an empty reservation
 *      (the only page of its table, which a decommit keeps), 64 pages.
 *   3. memory: metadata bytes per frame and per reservation, from the
 *      manager's counters; page-table pages after everything is released
 *      must equal the count before the first measurement.
 * Output: one "bench: NAME VALUE UNIT" line per figure (tests/bench/run.sh
 * reads them from the serial log).
 */
#include "bench.h"
#include "kernel/boot.h"
#include "kernel/print.h"
#include "machine.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "hostmem/format.h"

#define KiB       1024ull
#define MiB       (1024 * KiB)
#define PG        4096ull
#define TOUCH     (64 * MiB)
#define WORK      0x7E0000000000ull   /* 2 MiB-aligned: one page table */
#define COLD      (WORK + 4 * MiB)    /* a page table of its own */
#define KEEP      200                 /* the resident page of the work area */
#define LOOPS     1000
#define LIVE_100K 100000
#define FILL      0x200000000000ull   /* 32 TiB: the 100k live reservations */
#define NRESV     65536               /* a whole number of slab pages, give or take one */

static int failures;

static IHostMemoryManager *mgr(void) { return kernel_memory_manager(); }

static void say(const char *name, uint64_t value, const char *unit)
{
	kprintf("bench: %s %llu %s\n", name, (unsigned long long)value, unit);
}

static void check(HRESULT hr, const char *what)
{
	if (hr == S_OK)
		return;
	kprintf("bench: FAILED: %s: %s\n", what, hostmem_hresult_name(hr));
	failures++;
}

static struct hostmem_stats stats(void)
{
	struct hostmem_stats st;

	check(hostmem_get_stats(mgr(), &st), "hostmem_get_stats");
	return st;
}

static void *at(uint64_t va) { return (void *)va; }

static void commit(uint64_t va, uint64_t size)
{
	void *p;

	check(IHostMemoryManager_VirtualAlloc(mgr(), at(va), size, MEM_COMMIT, PAGE_READWRITE,
	                                      eTaskCritical, &p), "VirtualAlloc(MEM_COMMIT)");
}

static void decommit(uint64_t va, uint64_t size)
{
	check(IHostMemoryManager_VirtualFree(mgr(), at(va), size, MEM_DECOMMIT),
	      "VirtualFree(MEM_DECOMMIT)");
}

static uint64_t reserve(uint64_t va, uint64_t size, DWORD type)
{
	void *p = 0;

	check(IHostMemoryManager_VirtualAlloc(mgr(), at(va), size, type, PAGE_READWRITE,
	                                      eTaskCritical, &p), "VirtualAlloc(MEM_RESERVE)");
	return (uint64_t)p;
}

static void release(uint64_t va)
{
	check(IHostMemoryManager_VirtualFree(mgr(), at(va), 0, MEM_RELEASE),
	      "VirtualFree(MEM_RELEASE)");
}

/* ------------------------------------------------------------ the clock */

/* Under -icount shift=0 a TSC tick is one instruction: check it on a loop
 * of 2,000,002 instructions. */
static void tsc_check(void)
{
	uint64_t t0 = arch_ticks();

	arch_spin_insns(1000000);
	say("tsc_check_2000002_insn", arch_ticks() - t0, "ticks");
}

/* ------------------------------------------------------------ 1. first touch */

/* A reference: 8-byte stores.  volatile keeps GCC from turning it into a
 * call to memset. */
static void fill64(uint64_t va, uint64_t bytes)
{
	volatile uint64_t *w = at(va);

	for (uint64_t i = 0; i < bytes / 8; i++)
		w[i] = 0;
}

/* The reference the targets use: the CPU's fastest clear (x86-64: rep
 * stosq, as hostmem clears a frame: memset, kernel/string.c). */
static void fill_rep(uint64_t va, uint64_t bytes)
{
	arch_fill_zero(at(va), bytes);
}

static void bench_first_touch(void)
{
	uint64_t t0, base, touch, ref, rep;

	t0 = arch_ticks();
	base = reserve(0, TOUCH, MEM_RESERVE | MEM_COMMIT);
	for (uint64_t off = 0; off < TOUCH; off += PG)
		*(volatile uint8_t *)at(base + off) = 1;
	touch = arch_ticks() - t0;
	t0 = arch_ticks();
	fill64(base, TOUCH);
	ref = arch_ticks() - t0;
	t0 = arch_ticks();
	fill_rep(base, TOUCH);
	rep = arch_ticks() - t0;
	t0 = arch_ticks();
	release(base);
	say("commit_touch_64MiB", touch, "ticks");
	say("fill64_64MiB", ref, "ticks");
	say(ARCH_FILL_NAME "_64MiB", rep, "ticks");
	say("release_64MiB", arch_ticks() - t0, "ticks");
	say("touch_over_fill64_x1000", touch * 1000 / (ref ? ref : 1), "ratio");
	/* Fault work: what the touch cost beyond clearing the same memory the
	 * fastest way.  The clearing is counted wherever it happens: hostmem
	 * clears frames ahead on the faulting CPU itself (frame.c, theory 8). */
	say("touch_overhead_per_page", (touch > rep ? touch - rep : 0) / (TOUCH / PG), "ticks");
}

/* ------------------------------------------------------------ 2. loops */

/* A figure's name with the live-count suffix ("" or "_100k"). */
static const char *named(char *buf, size_t len, const char *name, const char *suffix)
{
	hm_snprintf(buf, len, "%s%s", name, suffix);
	return buf;
}

static void loop_reserve_release(const char *suffix)
{
	uint64_t t0 = arch_ticks();
	char name[48];

	for (int i = 0; i < LOOPS; i++)
		release(reserve(0, 64 * KiB, MEM_RESERVE));
	say(named(name, sizeof(name), "reserve_release", suffix), (arch_ticks() - t0) / LOOPS, "ticks/op");
}

static void loop_commit(const char *what, const char *suffix, uint64_t va, uint64_t pages, int n)
{
	uint64_t t0 = arch_ticks();
	char name[48];

	for (int i = 0; i < n; i++) {
		commit(va, pages * PG);
		decommit(va, pages * PG);
	}
	say(named(name, sizeof(name), what, suffix), (arch_ticks() - t0) / n, "ticks/op");
}

/* The loops, with the work areas and the other reservations live. */
static void bench_loops(const char *suffix)
{
	reserve(WORK, 2 * MiB, MEM_RESERVE);
	reserve(COLD, 64 * KiB, MEM_RESERVE);
	commit(WORK + KEEP * PG, PG);
	*(volatile uint8_t *)at(WORK + KEEP * PG) = 1;
	loop_reserve_release(suffix);
	loop_commit("commit_decommit_1", suffix, WORK, 1, LOOPS);
	loop_commit("commit_decommit_1_cold", suffix, COLD, 1, LOOPS);
	loop_commit("commit_decommit_64", suffix, WORK, 64, LOOPS / 10);
	release(WORK);
	release(COLD);
}

/* The same loops among 100,000 live reservations (a tree 17 deep), as the
 * twin measures them: FILL holds them, 128 KiB apart. */
static void bench_loops_at_100k(void)
{
	for (uint64_t i = 0; i < LIVE_100K; i++)
		reserve(FILL + i * 128 * KiB, 64 * KiB, MEM_RESERVE);
	bench_loops("_100k");
	for (uint64_t i = 0; i < LIVE_100K; i++)
		release(FILL + i * 128 * KiB);
}

/* ------------------------------------------------------------ 3. memory */

/* The record array is carved from usable RAM before the allocator gets the
 * rest: usable RAM minus what the allocator was given (and frame 0) is its
 * size.  Records cover every frame below the top of usable RAM. */
static void bench_meta_per_frame(const struct hostmem_stats *st)
{
	uint64_t usable = 0, top = boot_usable[boot_nusable - 1].end / PG;

	for (size_t i = 0; i < boot_nusable; i++)
		usable += (boot_usable[i].end - boot_usable[i].base) / PG;
	if (boot_usable[0].base == 0)
		usable--;
	say("meta_bytes_per_frame_x1000", (usable - st->frames_usable) * PG * 1000 / top, "bytes");
}

static void bench_meta_per_resv(void)
{
	struct hostmem_stats a = stats(), b;

	for (uint64_t i = 0; i < NRESV; i++)
		reserve(WORK + i * 128 * KiB, 64 * KiB, MEM_RESERVE);
	b = stats();
	for (uint64_t i = 0; i < NRESV; i++)
		release(WORK + i * 128 * KiB);
	say("meta_bytes_per_resv_x1000", (b.frames_meta - a.frames_meta) * PG * 1000 / NRESV, "bytes");
}

/* ------------------------------------------------------------ many CPUs
 *
 * smp_bench=1 (no -icount: the TSC is time): the wall time of a commit,
 * first touch and decommit of one page, whose decommit ends in a
 * shootdown, with k other CPUs active (spinning in smp_run_all work, so
 * each must take the IPI and acknowledge), k = 0 .. CPUs - 1.  The
 * difference to k = 0 is what the shootdown's IPIs cost.
 *
 * smp_bench=2 (under -icount, where QEMU runs the CPUs in turn and the TSC
 * counts the instructions all of them execute): the same cycle in
 * instructions, the other k CPUs halted but active (still in every
 * shootdown), so what they add is only what a shootdown makes them do:
 * take the IPI, flush, acknowledge.  A spinner would add its spin. */
#define SMP_ROUNDS 2000
#define SMP_VA     0x40000000000ull

struct smp_bench { unsigned k; bool halt; volatile int ready, stop; uint64_t ticks; };

/* Halts until an interrupt, unless told to stop: sti's one-instruction
 * shadow makes "sti; hlt" atomic, so a wake-up sent after the check is
 * not lost. */
static void halt_until_stop(struct smp_bench *b)
{
	for (;;) {
		arch_irq_off();
		if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			break;
		arch_irq_on_and_wait();
	}
	arch_irq_on();
}

static void smp_bench_cpu(void *arg, unsigned cpu)
{
	struct smp_bench *b = arg;
	uint64_t t0;

	if (cpu > b->k)
		return;                           /* idle: left out of shootdowns */
	if (cpu != 0) {
		__atomic_add_fetch(&b->ready, 1, __ATOMIC_ACQ_REL);
		if (b->halt)
			halt_until_stop(b);
		while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			arch_relax();
		return;
	}
	while (__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) < (int)b->k)
		arch_relax();
	t0 = arch_ticks();
	for (int i = 0; i < SMP_ROUNDS; i++) {
		commit(SMP_VA, PG);
		*(volatile uint8_t *)at(SMP_VA) = 1;
		decommit(SMP_VA, PG);
	}
	b->ticks = (arch_ticks() - t0) / SMP_ROUNDS;
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	smp_barrier_all();                    /* wakes the halted ones */
}

/* First touches on disjoint reservations by n CPUs at once (n = 1, 2, 4):
 * pages per second (the best of 3 runs) against n = 1 in the same run.  Every CPU's touches
 * fault into hostmem, whose one lock the faults share. */
#define TOUCH_SMP (16 * MiB)

struct touch_bench { unsigned n; volatile int ready; uint64_t base[8], start[8], end[8]; };

static void touch_bench_cpu(void *arg, unsigned cpu)
{
	struct touch_bench *b = arg;

	if (cpu >= b->n)
		return;
	__atomic_add_fetch(&b->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) < (int)b->n)
		arch_relax();
	b->start[cpu] = arch_ticks();
	for (uint64_t off = 0; off < TOUCH_SMP; off += PG)
		*(volatile uint8_t *)at(b->base[cpu] + off) = 1;
	b->end[cpu] = arch_ticks();
}

/* Pages per second with n CPUs touching at once. */
static uint64_t touch_rate(unsigned n)
{
	struct touch_bench b = { .n = n };
	uint64_t first = ~0ull, last = 0;

	for (unsigned c = 0; c < n; c++)
		b.base[c] = reserve(0, TOUCH_SMP, MEM_RESERVE | MEM_COMMIT);
	smp_run_all(touch_bench_cpu, &b);
	for (unsigned c = 0; c < n; c++) {
		first = b.start[c] < first ? b.start[c] : first;
		last = b.end[c] > last ? b.end[c] : last;
		release(b.base[c]);
	}
	return n * (TOUCH_SMP / PG) * boot_info->tsc_hz / (last - first ? last - first : 1);
}

static void bench_touch_smp(void)
{
	static const unsigned ns[] = { 1, 2, 4 };
	uint64_t one = 0, rate;
	char name[40];

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]) && ns[i] <= smp_cpu_count(); i++) {
		rate = 0;
		for (int run = 0; run < 3; run++) {     /* best of 3: the host is noisy */
			uint64_t r = touch_rate(ns[i]);

			rate = r > rate ? r : rate;
		}
		one = i == 0 ? rate : one;
		hm_snprintf(name, sizeof(name), "smp_touch_pages_per_s_%u_cpus", ns[i]);
		say(name, rate, "pages/s");
		hm_snprintf(name, sizeof(name), "smp_touch_x1000_%u_cpus", ns[i]);
		say(name, rate * 1000 / (one ? one : 1), "ratio");
	}
}

static int bench_smp(bool insn)
{
	char name[40];

	kprintf("bench: many CPUs: %u online\n", smp_cpu_count());
	reserve(SMP_VA, 64 * KiB, MEM_RESERVE);
	for (unsigned k = 0; k < smp_cpu_count(); k++) {
		struct smp_bench b = { .k = k, .halt = insn };

		smp_run_all(smp_bench_cpu, &b);
		hm_snprintf(name, sizeof(name), insn ? "smp_cycle_ticks_%u_active" : "smp_cycle_ns_%u_active", k);
		say(name, insn ? b.ticks : b.ticks * 1000000000ull / boot_info->tsc_hz,
		    insn ? "ticks" : "ns");
	}
	release(SMP_VA);
	if (!insn)
		bench_touch_smp();
	kprintf("bench: %d failed\n", failures);
	return failures;
}

int bench_run(void)
{
	if (cmdline_number("smp_bench", 0))
		return bench_smp(cmdline_number("smp_bench", 0) == 2);

	struct hostmem_stats before = stats(), after;

	kprintf("bench: hostmem on the real MMU (figures in %s ticks)\n", ARCH_CLOCK_NAME);
	tsc_check();
	bench_meta_per_frame(&before);
	bench_first_touch();
	bench_loops("");
	bench_loops_at_100k();
	bench_meta_per_resv();
	after = stats();
	say("tables_baseline", before.frames_tables, "pages");
	say("tables_after_release", after.frames_tables, "pages");
	say("meta_frames_after_release", after.frames_meta, "pages");
	if (after.frames_tables != before.frames_tables || after.reservations != 0) {
		kprintf("bench: FAILED: page tables or reservations left behind\n");
		failures++;
	}
	kprintf("bench: %d failed\n", failures);
	return failures;
}
