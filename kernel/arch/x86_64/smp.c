/*
 * smp.c - many CPUs on x86-64: bring-up, the idle loop, the wake-up for work
 * on every CPU, the TLB shootdown hostmem's TLB gather ends with, the
 * write-buffer barrier and the sleeping waits.  The CPU table, the work
 * protocol and the fault record are the core's (kernel/smp.c, its theory
 * 1 to 3); this file is what x86-64 adds to them (kernel/smp_arch.h).
 *
 * Theory
 * ------
 * 1. Bring-up.  The loader kept BOOTINFO_AP_PAGES pages below 1 MiB (a
 *    STARTUP IPI names a page there).  The ACPI MADT lists the CPUs by APIC
 *    id.  For each other CPU, in turn: fill the trampoline's data (its
 *    stack, its struct cpu), INIT-STARTUP-STARTUP, and wait up to a second
 *    for it to mark itself online.  One that does not is reported by APIC id
 *    and left alone; the others go on.  Every CPU gets its own GDT, TSS, IST
 *    stacks, IDT copy and per-CPU block (percpu.h), and idles in hlt.
 *
 * 2. Interrupts.  CPUs run with interrupts on, except inside exception
 *    handlers (interrupt gates), where they are off: a page fault that
 *    spins on hostmem's lock cannot take an IPI.  So every wait loop calls
 *    cpu_relax(), which pauses (under multi-threaded TCG an unpaused spin
 *    starves the other vCPUs) and applies a pending shootdown itself.  Every
 *    wait is bounded (deadline_in) and panics with what it waited for.
 *
 * 3. Shootdown.  Only hostmem starts one, under its lock, so there is one
 *    at a time: the batch (up to TLB_GATHER_MAX addresses, or "all") is
 *    published with a new generation number (release), IPI_SHOOTDOWN goes
 *    to every other CPU, each applies the batch and stores the generation
 *    in its shoot_seen (release), and the initiator waits until every
 *    online CPU's shoot_seen has reached it (acquire).  Only then does
 *    hostmem free the frames and tables the batch stood for (tlb.c).  A CPU
 *    that has already applied the generation (by polling) ignores the IPI.
 *    Idle CPUs are left out (lazy TLB): a CPU going idle clears its active
 *    flag, and one leaving idle sets it (seq_cst) and only then reloads CR3,
 *    before it touches the lower half.  The initiator reads the flags after
 *    writing the PTEs (seq_cst): a CPU it did not see active flushes after
 *    the PTEs changed, so it cannot hold a stale translation.  An idle CPU
 *    touches only the kernel's upper half, which hostmem never changes.  So
 *    a shootdown with the other CPUs idle costs no IPI at all.
 *
 * 4. Work (kernel/smp.c, theory 2).  The wake-up is IPI_WAKE to all
 *    others, a store to the uncached APIC, which x86 does not reorder with
 *    the stores before it.  An idle CPU, interrupts off, clears active,
 *    looks for new work and otherwise sti;hlt: an IPI that came after the
 *    look is pending and ends the hlt.  With work it sets active and
 *    reloads CR3 (theory 3) before it runs fn.
 *
 * 5. Sleeping waits.  With 4 vCPUs on 2 host cores a CPU spinning on a
 *    lock takes host time from the CPU that holds it, and every contended
 *    call then costs a host time slice (milliseconds).  So a wait that may
 *    sleep (smp_wait_for, with interrupts on: hostmem's lock) spins briefly,
 *    then halts until smp_wake names the value it waits for, as a
 *    paravirtual spinlock halts and is kicked.  The sleeper and the waker
 *    are the two sides of Dekker's pattern (seq_cst): the sleeper counts
 *    itself in sleepers, sets sleeping and then reads the word; the waker
 *    writes the word and then reads sleepers and sleeping.  One of them sees
 *    the other, so a wake is never lost; sti;hlt has no window, and the APIC
 *    timer wakes the sleeper every SLEEP_MS anyway, so its deadline holds.
 *    A sleeping CPU is out of the lazy-TLB set, as an idle one: it touches
 *    no lower-half address until it wakes, sets active and reloads CR3.
 *    The waiter whose turn is next (the word one short of what it waits
 *    for) spins longer before sleeping, and smp_wake wakes it as well as the
 *    new owner: a handoff to a spinning CPU costs no wake-up, while the
 *    waiters further back sleep and leave the host cores to the holder and
 *    the next in line.
 *
 * Shared state and what protects it: cpus[i].shoot_seen, barrier_seen,
 * active and sleeping are written by CPU i only, read by others with
 * atomics (wait_word and wait_value before sleeping is set); batch and
 * shoot_gen by the initiator holding hostmem's lock; barrier_gen by the
 * holder of barrier_lock; sleepers by atomics.
 */
#include "kernel/smp.h"
#include "kernel/smp_arch.h"
#include "kernel/deadline.h"
#include "percpu.h"
#include "apic.h"
#include "kernel/boot.h"
#include "kernel/print.h"
#include "cpu.h"
#include "kernel/panic.h"
#include "trap.h"

#define MAX_BATCH  32
#define SPINS_BEFORE_SLEEP 64       /* theory 5 */
#define SPINS_WHEN_NEXT    300      /* the waiter whose turn is next */
#define SLEEP_MS   10

static struct {
	uint64_t va[MAX_BATCH];
	unsigned n;                      /* 0: flush everything */
} batch;
static uint64_t shoot_gen;
static unsigned sleepers;             /* CPUs in sleep_once (theory 5; atomic) */
static uint64_t barrier_gen;           /* smp_barrier_all; callers serialised by barrier_lock */
static int barrier_lock;

/* ------------------------------------------------------------ small things */

void percpu_set(struct cpu *c)
{
	c->self = c;
	wrmsr(0xC0000101u, (uint64_t)c);     /* IA32_GS_BASE */
}

/* Applies the published batch if this CPU has not yet. */
static void shootdown_apply(void)
{
	struct cpu *c = this_cpu();
	uint64_t gen = __atomic_load_n(&shoot_gen, __ATOMIC_ACQUIRE);

	if (c->shoot_seen == gen)
		return;
	if (batch.n == 0)
		flush_tlb();
	for (unsigned i = 0; i < batch.n; i++)
		invlpg(batch.va[i]);
	__atomic_store_n(&c->shoot_seen, gen, __ATOMIC_RELEASE);
}

/* The barrier this CPU owes, if any: mfence, then the acknowledgement. */
static void barrier_apply(void)
{
	struct cpu *c = this_cpu();
	uint64_t gen = __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE);

	if (c->barrier_seen == gen)
		return;
	__asm__ volatile("mfence" ::: "memory");
	__atomic_store_n(&c->barrier_seen, gen, __ATOMIC_RELEASE);
}

void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
	if (this_cpu()->online) {
		shootdown_apply();
		barrier_apply();
	}
}

/* ------------------------------------------------------------ shootdown */

static void wait_for_acks(uint64_t gen, unsigned mask)
{
	uint64_t deadline = deadline_in(10000);

	for (unsigned i = 0; i < MAX_CPUS; i++) {
		if (!(mask & (1u << i)))
			continue;
		while (__atomic_load_n(&cpus[i].shoot_seen, __ATOMIC_ACQUIRE) != gen) {
			__asm__ volatile("pause" ::: "memory");
			if (rdtsc() > deadline)
				panic("tlb shootdown: cpu %u (APIC id %u) did not acknowledge "
				      "generation %llu within 10 s", i, cpus[i].apic_id,
				      (unsigned long long)gen);
		}
	}
}

void smp_shootdown(const uint64_t *va, unsigned n)
{
	unsigned mask = 0, me = this_cpu()->id;
	uint64_t gen;

	if (n > MAX_BATCH)
		n = 0;
	batch.n = n;
	for (unsigned i = 0; i < n; i++)
		batch.va[i] = va[i];
	gen = __atomic_add_fetch(&shoot_gen, 1, __ATOMIC_SEQ_CST);
	shootdown_apply();                      /* this CPU, and its shoot_seen */
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		if (i == me || !__atomic_load_n(&cpus[i].active, __ATOMIC_SEQ_CST))
			continue;
		mask |= 1u << i;
		apic_send(cpus[i].apic_id, IPI_SHOOTDOWN);
	}
	wait_for_acks(gen, mask);
}

/* ------------------------------------------------------------ sleeping waits */

/* One halt until the word may have changed (theory 5); the CPU leaves the
 * lazy-TLB set meanwhile. */
static void sleep_once(struct cpu *c, const uint32_t *word, uint32_t want)
{
	__asm__ volatile("cli" ::: "memory");
	c->wait_word = word;
	c->wait_value = want;
	__atomic_add_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->active, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->sleeping, true, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != want) {
		/* Left running after an early wake: its IPI_WAKE later ends some
		 * other hlt early, and every hlt here and in idle() re-checks. */
		apic_timer_once(SLEEP_MS);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		c->sleeps++;
		c->timer_wakes += apic_timer_expired();
	}
	__atomic_store_n(&c->sleeping, false, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->active, true, __ATOMIC_SEQ_CST);
	flush_tlb();                             /* theory 3: lazy TLB */
	__asm__ volatile("sti" ::: "memory");
}

void smp_wait_for(const uint32_t *word, uint32_t want, uint64_t deadline, const char *what)
{
	struct cpu *c = this_cpu();
	bool may_sleep = c->online && interrupts_on();
	unsigned spins = 0;
	uint32_t now;

	while ((now = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != want) {
		deadline_check(deadline, what);
		if (may_sleep && spins >= (want - now == 1 ? SPINS_WHEN_NEXT : SPINS_BEFORE_SLEEP)) {
			sleep_once(c, word, want);
			spins = 0;
		} else {
			cpu_relax();
			spins++;
		}
	}
}

/* The waiters for value, and the one for the value after it: it is next in
 * line now, and spins (theory 5) rather than sleeps through its turn. */
void smp_wake(const uint32_t *word, uint32_t value)
{
	if (!__atomic_load_n(&sleepers, __ATOMIC_SEQ_CST))
		return;
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (__atomic_load_n(&cpus[i].sleeping, __ATOMIC_SEQ_CST) && cpus[i].wait_word == word &&
		    (cpus[i].wait_value == value || cpus[i].wait_value == value + 1))
			apic_send(cpus[i].apic_id, IPI_WAKE);
}

/* ------------------------------------------------------------ write buffers */

void smp_barrier_all(void)
{
	uint64_t gen, deadline = deadline_in(10000);
	unsigned me = this_cpu()->id;

	while (__atomic_exchange_n(&barrier_lock, 1, __ATOMIC_ACQUIRE)) {
		cpu_relax();
		deadline_check(deadline, "smp_barrier_all: another barrier held on for 10 s");
	}
	gen = __atomic_add_fetch(&barrier_gen, 1, __ATOMIC_SEQ_CST);
	barrier_apply();
	if (smp_cpu_count() > 1)
		apic_send_all_others(IPI_BARRIER);
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		if (i == me || !__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			continue;
		while (__atomic_load_n(&cpus[i].barrier_seen, __ATOMIC_ACQUIRE) < gen) {
			cpu_relax();
			deadline_check(deadline, "smp_barrier_all: a CPU did not acknowledge in 10 s");
		}
	}
	__atomic_store_n(&barrier_lock, 0, __ATOMIC_RELEASE);
}

uint64_t smp_barriers_done(unsigned cpu)
{
	return __atomic_load_n(&cpus[cpu].barrier_seen, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------ interrupts */

/* IPIs and the spurious vector (trap.c). */
void smp_interrupt(uint64_t vector)
{
	if (vector == APIC_SPURIOUS)
		return;
	if (vector == IPI_SHOOTDOWN)
		shootdown_apply();
	if (vector == IPI_BARRIER)
		barrier_apply();
	apic_eoi();
}

/* ------------------------------------------------------------ work */

/* The stores before it are visible first (theory 4). */
void smp_arch_wake_others(void)
{
	apic_send_all_others(IPI_WAKE);
}

/* The idle loop: run new work, else sleep until an interrupt.  sti;hlt
 * has no window: an IPI arriving after the check wakes the hlt. */
static void __attribute__((noreturn)) idle(void)
{
	struct cpu *c = this_cpu();

	for (;;) {
		__asm__ volatile("cli" ::: "memory");
		__atomic_store_n(&c->active, false, __ATOMIC_SEQ_CST);
		if (smp_work_claim(c)) {
			__atomic_store_n(&c->active, true, __ATOMIC_SEQ_CST);
			flush_tlb();                     /* theory 3: lazy TLB */
			__asm__ volatile("sti" ::: "memory");
			smp_work_run();
			continue;
		}
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

/* ------------------------------------------------------------ bring-up */

void smp_init_boot_cpu(void)
{
	cpus[0].id = 0;
	gdt_load(&cpus[0]);              /* loading %gs clears its base: first */
	percpu_set(&cpus[0]);
	idt_load(&cpus[0]);
}

void ap_main(struct cpu *c)
{
	gdt_load(c);
	percpu_set(c);
	idt_load(c);
	cpu_setup();
	apic_enable();
	c->shoot_seen = __atomic_load_n(&shoot_gen, __ATOMIC_ACQUIRE);
	c->barrier_seen = __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE);
	flush_tlb();
	smp_cpu_online(c);
	idle();
}

extern const char tramp_start[], tramp_end[], tramp_pm32[], tramp_gdt[];
extern char tramp_gdtr[], tramp_pm[], tramp_stack[], tramp_cpu[], tramp_cr3[], tramp_entry[];
extern char ap_entry[];

/* A trampoline field's address in the low copy. */
static void *tramp_field(uint64_t base, const char *field)
{
	return (uint8_t *)phys_to_virt(base) + (field - tramp_start);
}

/* The code, and page tables: the kernel's upper half plus the first 2 MiB
 * identity-mapped (executable), all below 4 GiB for the 32-bit CR3 load. */
static void tramp_install(uint64_t base)
{
	uint64_t *pml4 = phys_to_virt(base + 0x1000), *pdpt = phys_to_virt(base + 0x2000);
	uint64_t *pd = phys_to_virt(base + 0x3000), *kpml4 = phys_to_virt(read_cr3() & ~0xFFFull);
	uint8_t *dst = phys_to_virt(base);

	for (const char *p = tramp_start; p < tramp_end; p++)
		dst[p - tramp_start] = (uint8_t)*p;
	for (int i = 0; i < 512; i++) {
		pml4[i] = i >= 256 ? kpml4[i] : 0;
		pdpt[i] = pd[i] = 0;
	}
	pml4[0] = (base + 0x2000) | 3;
	pdpt[0] = (base + 0x3000) | 3;
	pd[0] = 0x83;                        /* 2 MiB at 0: P RW PS */
	*(uint32_t *)((uint8_t *)tramp_field(base, tramp_gdtr) + 2) = (uint32_t)(base + (tramp_gdt - tramp_start));
	*(uint32_t *)tramp_field(base, tramp_pm) = (uint32_t)(base + (tramp_pm32 - tramp_start));
	*(uint64_t *)tramp_field(base, tramp_cr3) = read_cr3();
	*(uint64_t *)tramp_field(base, tramp_entry) = (uint64_t)ap_entry;
}

/* Starts one CPU as cpus[n]; true once it is online. */
static bool start_cpu(uint64_t base, unsigned n, uint32_t apic)
{
	struct cpu *c = &cpus[n];

	c->id = n;
	c->apic_id = apic;
	*(uint64_t *)tramp_field(base, tramp_stack) = (uint64_t)smp_stack_top(n);
	*(uint64_t *)tramp_field(base, tramp_cpu) = (uint64_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	apic_start_cpu(apic, (uint8_t)(base >> 12));
	return smp_cpu_wait_online(c);
}

void smp_start_others(void)
{
	uint64_t base = boot_info->ap_tramp_phys, t0 = uptime_ms();
	uint32_t ids[MAX_CPUS * 2];
	unsigned found, n = 1;

	apic_init();
	apic_enable();
	apic_timer_calibrate();
	cpus[0].apic_id = apic_id();
	__atomic_store_n(&cpus[0].active, true, __ATOMIC_RELEASE);   /* never idle */
	__atomic_store_n(&cpus[0].online, true, __ATOMIC_RELEASE);
	found = acpi_cpu_ids(ids, MAX_CPUS * 2);
	if (base)
		tramp_install(base);
	for (unsigned i = 0; i < found && base; i++) {
		if (ids[i] == cpus[0].apic_id)
			continue;
		if (n == MAX_CPUS) {
			kprintf("cpu: APIC id %u not started: at most %d CPUs\n", ids[i], MAX_CPUS);
			continue;
		}
		if (start_cpu(base, n, ids[i]))
			smp_cpus_set(++n);
		else
			kprintf("cpu: APIC id %u did not come up within 1 s; going on without it\n", ids[i]);
	}
	__asm__ volatile("sti" ::: "memory");
	kprintf("cpus: %u online (%u in the MADT%s), bring-up %llu ms\n", n, found,
	        base ? "" : ", no low pages for the trampoline", (unsigned long long)(uptime_ms() - t0));
}
