/*
 * smp.c - many CPUs on AArch64: bring-up through PSCI, the idle loop, the
 * wake-up for work on every CPU, the TLB shootdown, the write-buffer
 * barrier and the sleeping waits.  The CPU table, the work protocol and
 * the fault record are the core's (kernel/smp.c, its theory 1 to 3); this
 * file is what AArch64 adds to them (kernel/smp_arch.h).
 *
 * Theory
 * ------
 * 1. Bring-up.  The ACPI MADT lists the CPUs (GICC entries, by MPIDR); the
 *    FADT says whether PSCI is there and which call reaches it (HVC or
 *    SMC).  For each other CPU, in turn: fill struct ap_boot (ap_start.S),
 *    clean it, the identity map of ap_start's page and that page to the
 *    point of coherency (the new CPU reads them with its MMU and caches
 *    off), CPU_ON(mpidr, pa of ap_start, pa of ap_boot), and wait up to a
 *    second for it to mark itself online.  One that does not is reported
 *    and left alone.  Each CPU gets its own stack and per-CPU block
 *    (TPIDR_EL1), sets up its own SCTLR, PAN and event stream (cpu.c),
 *    gives TTBR0 to hostmem's table, and idles asleep.
 *
 * 2. Interrupts stay masked.  Nothing here takes one: a shootdown is a
 *    broadcast TLBI, the barrier below is one too.  A CPU with nothing to
 *    do sleeps in WFI (gic.c): a wake-up SGI from another CPU, or its own
 *    timer after SLEEP_MS, makes the interrupt pending, which ends the WFI
 *    although it is masked, and the sleeper acknowledges it itself.  Under
 *    TCG a WFI really stops the vCPU's thread, where a WFE only yields: 4
 *    vCPUs on 2 host cores would otherwise crowd each other.  Without a
 *    GICv2 at the addresses the loader mapped, a sleep is a WFE, bounded
 *    by the generic timer's event stream (about 1 ms).  A wake-up is never
 *    lost (the SGI stays pending until the WFI), and every sleep is bounded,
 *    so a waiter still checks its deadline.
 *
 * 3. Shootdown.  TLBI VAAE1IS (VMALLE1IS past MAX_BATCH pages), then DSB
 *    ISH: the DSB completes once every CPU of the inner-shareable domain
 *    has dropped the entries, so when smp_shootdown returns no CPU can use
 *    the old translation, busy or idle, and hostmem may free the frames.
 *    No acknowledgement, no lazy-TLB set.
 *
 * 4. Write buffers (smp_barrier_all, FlushProcessWriteBuffers).  The
 *    architecture's way to make every other CPU's earlier stores visible
 *    without interrupting it is the same broadcast: a TLB invalidation is
 *    complete, for the DSB after it, only when the memory accesses that
 *    used the invalidated entries are complete for every observer, and
 *    VMALLE1IS invalidates the entries every access of every CPU used
 *    (ARM ARM D8.13, completion of TLB maintenance).  So DSB ISH; TLBI
 *    VMALLE1IS; DSB ISH is a barrier on every CPU at once, running or not.
 *
 * 5. Work (kernel/smp.c, theory 2).  The wake-up is DSB ISH, which makes
 *    the stores before it visible to every CPU (the new generation among
 *    them), then SEV and the wake-up SGI.  An idle CPU looks for new work
 *    and otherwise sleeps (theory 2): a wake-up that came after the look
 *    is pending and ends the sleep at once.
 *
 * 6. Sleeping waits (smp_wait_for, hostmem's lock).  A waiter spins a
 *    little, then counts itself in sleepers, looks at the word once more and
 *    sleeps; the writer stores the word and then reads sleepers (seq_cst
 *    both: Dekker's pattern), so either the waiter sees the new value or
 *    the writer sees the sleeper and wakes it.
 *
 * Shared state and what protects it: barriers and sleepers by atomics;
 * ap_boot and idmap by the boot CPU, one CPU start at a time; gic is set by
 * the boot CPU before any other CPU starts.
 */
#include "kernel/smp.h"
#include "kernel/smp_arch.h"
#include "kernel/acpi.h"
#include "kernel/boot.h"
#include "kernel/deadline.h"
#include "kernel/print.h"
#include "machine.h"
#include "percpu.h"
#include "trap.h"
#include "cpu.h"
#include "gic.h"

#define MAX_BATCH     32
#define SPINS_BEFORE_SLEEP 64
#define SLEEP_MS      10

#define PSCI_CPU_ON   0xC4000003u        /* SMC64 */
#define MADT_GICC     0x0B
#define FADT_ARM_BOOT 129                /* ARM_BOOT_ARCH: bit 0 PSCI, bit 1 by HVC */

struct ap_boot { uint64_t mair, tcr, ttbr1, ttbr0, sctlr, stack, cpu, entry; };

static struct ap_boot ap_boot __attribute__((aligned(64)));
static uint64_t idmap[4][512] __attribute__((aligned(4096)));
static uint64_t barriers;
static unsigned sleepers;             /* CPUs in a sleeping wait (theory 6; atomic) */
static bool gic;                      /* sleeps are WFI (theory 2) */

extern char ap_start[];

/* ------------------------------------------------------------ small things */

void percpu_set(struct cpu *c)
{
	__asm__ volatile("msr tpidr_el1, %0" :: "r"(c) : "memory");
}

void cpu_relax(void)
{
	arch_relax();
}

/* The stores before it are visible before any CPU wakes (theory 5). */
void smp_arch_wake_others(void)
{
	__asm__ volatile("dsb ish; sev" ::: "memory");
	gic_wake_others();
}

/* ------------------------------------------------------------ shootdown, barrier */

void smp_shootdown(const uint64_t *va, unsigned n)
{
	if (n == 0 || n > MAX_BATCH) {
		arch_tlb_flush_all_cpus();
		return;
	}
	for (unsigned i = 0; i < n; i++)
		arch_tlb_flush_page_all_cpus(va[i]);
}

void smp_barrier_all(void)
{
	__asm__ volatile("dsb ish; tlbi vmalle1is; dsb ish; isb" ::: "memory");
	__atomic_add_fetch(&barriers, 1, __ATOMIC_RELEASE);
}

/* Every CPU takes part in every barrier (theory 4): the count is theirs. */
uint64_t smp_barriers_done(unsigned cpu)
{
	return __atomic_load_n(&barriers, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ waits */

void smp_wait_for(const uint32_t *word, uint32_t want, uint64_t deadline, const char *what)
{
	unsigned spins = 0;

	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != want) {
		deadline_check(deadline, what);
		if (++spins < SPINS_BEFORE_SLEEP) {
			cpu_relax();
			continue;
		}
		__atomic_add_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != want)
			gic_sleep(SLEEP_MS);
		__atomic_sub_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
		spins = 0;
	}
}

/* The writer stored the word (seq_cst) before (theory 6). */
void smp_wake(const uint32_t *word, uint32_t value)
{
	if (__atomic_load_n(&sleepers, __ATOMIC_SEQ_CST))
		smp_arch_wake_others();
}

/* New work, else sleep (theory 2, 5): a new generation comes with a
 * wake-up, after the store, so the look before the sleep cannot miss it. */
static void __attribute__((noreturn)) idle(void)
{
	struct cpu *c = this_cpu();

	for (;;) {
		if (smp_work_claim(c)) {
			smp_work_run();
			continue;
		}
		gic_sleep(SLEEP_MS);
	}
}

/* ------------------------------------------------------------ bring-up */

void smp_init_boot_cpu(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	cpus[0].id = 0;
	cpus[0].mpidr = mpidr & 0xFF00FFFFFFull;
	percpu_set(&cpus[0]);
}

/* ap_start.S jumps here, on the CPU's own stack, in the upper half. */
void __attribute__((noreturn)) ap_main(struct cpu *c)
{
	trap_init();
	percpu_set(c);
	cpu_setup();
	cpu_lower_half_install();
	gic_cpu_init();
	smp_cpu_online(c);
	idle();
}

static unsigned idx(uint64_t pa, int level) { return (pa >> (39 - 9 * level)) & 511; }

/* TTBR0 for a starting CPU: ap_start's page at its physical address,
 * executable at EL1, nothing else (the boot CPU's descriptor bits). */
static void idmap_build(uint64_t pa)
{
	for (int l = 0; l < 3; l++)
		idmap[l][idx(pa, l)] = virt_to_phys(idmap[l + 1]) | 3;
	idmap[3][idx(pa, 3)] = (pa & ~0xFFFull) | 3 | (1ull << 10) | (3ull << 8) | (1ull << 7);
	arch_cache_clean((uint64_t)idmap, sizeof(idmap));
	arch_cache_clean((uint64_t)ap_start, 4096);
}

static void ap_boot_fill(unsigned n)
{
	__asm__ volatile("mrs %0, mair_el1; mrs %1, tcr_el1; mrs %2, ttbr1_el1; mrs %3, sctlr_el1"
	                 : "=r"(ap_boot.mair), "=r"(ap_boot.tcr), "=r"(ap_boot.ttbr1),
	                   "=r"(ap_boot.sctlr));
	ap_boot.ttbr0 = virt_to_phys(idmap[0]);
	ap_boot.stack = (uint64_t)smp_stack_top(n);
	ap_boot.cpu = (uint64_t)&cpus[n];
	ap_boot.entry = (uint64_t)ap_main;
	arch_cache_clean((uint64_t)&ap_boot, sizeof(ap_boot));
}

static int64_t psci_call(bool hvc, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn, x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2, x3 __asm__("x3") = a3;

	if (hvc)
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory",
		                 "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
		                 "x14", "x15", "x16", "x17");
	else
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory",
		                 "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
		                 "x14", "x15", "x16", "x17");
	return (int64_t)x0;
}

/* Starts one CPU as cpus[n]; true once it is online. */
static bool start_cpu(bool hvc, unsigned n, uint64_t mpidr)
{
	struct cpu *c = &cpus[n];
	int64_t r;

	c->id = n;
	c->mpidr = mpidr;
	ap_boot_fill(n);
	r = psci_call(hvc, PSCI_CPU_ON, mpidr, virt_to_phys(ap_start), virt_to_phys(&ap_boot));
	if (r != 0) {
		kprintf("cpu: MPIDR %llx: PSCI CPU_ON returned %lld\n", (unsigned long long)mpidr,
		        (long long)r);
		return false;
	}
	return smp_cpu_wait_online(c);
}

/* The enabled CPUs' MPIDRs from the MADT (GICC entries), the boot CPU's
 * included: how many (at most max), 0 without a MADT. */
static unsigned madt_mpidrs(uint64_t *ids, unsigned max)
{
	uint32_t len;
	const uint8_t *madt = acpi_table("APIC", &len), *p, *end;
	unsigned n = 0;

	if (!madt)
		return 0;
	end = madt + len;
	for (p = madt + ACPI_HEADER_SIZE + 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		if (p[0] != MADT_GICC || p[1] < 76 || !(p[12] & 1) || n == max)
			continue;
		ids[n] = 0;
		for (int i = 7; i >= 0; i--)
			ids[n] = ids[n] << 8 | p[68 + i];
		n++;
	}
	return n;
}

/* PSCI present (the FADT's ARM boot flags), and whether by HVC. */
static bool psci_conduit(bool *hvc)
{
	uint32_t len;
	const uint8_t *fadt = acpi_table("FACP", &len);

	if (!fadt || len < FADT_ARM_BOOT + 2 || !(fadt[FADT_ARM_BOOT] & 1))
		return false;
	*hvc = fadt[FADT_ARM_BOOT] & 2;
	return true;
}

void smp_start_others(void)
{
	uint64_t ids[MAX_CPUS * 2], t0 = uptime_ms();
	unsigned found = madt_mpidrs(ids, MAX_CPUS * 2), n = 1;
	bool hvc = false, psci = psci_conduit(&hvc);

	__atomic_store_n(&cpus[0].online, true, __ATOMIC_RELEASE);
	gic = gic_init();
	gic_cpu_init();
	if (psci && found > 1)
		idmap_build(virt_to_phys(ap_start));
	for (unsigned i = 0; i < found && psci; i++) {
		if (ids[i] == cpus[0].mpidr)
			continue;
		if (n == MAX_CPUS) {
			kprintf("cpu: MPIDR %llx not started: at most %d CPUs\n",
			        (unsigned long long)ids[i], MAX_CPUS);
			continue;
		}
		if (start_cpu(hvc, n, ids[i]))
			smp_cpus_set(++n);
		else
			kprintf("cpu: MPIDR %llx did not come up within 1 s; going on without it\n",
			        (unsigned long long)ids[i]);
	}
	kprintf("cpus: %u online (%u in the MADT%s; idle in %s), bring-up %llu ms\n", n, found,
	        psci ? (hvc ? ", PSCI by HVC" : ", PSCI by SMC") : ", no PSCI",
	        gic ? "WFI, woken by SGI" : "WFE", (unsigned long long)(uptime_ms() - t0));
}
