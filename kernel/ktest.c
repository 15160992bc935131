#include <stdarg.h>
#include <stdbool.h>
#include "ktest.h"
#include "print.h"
#include "smp.h"
#include "boot.h"
#include "memory.h"
#include "hostmem/format.h"

extern const struct ktest __ktests_start[], __ktests_end[];

#define PROGRESS_MS 3000

static const struct ktest *running;
static uint64_t started, progress_due;   /* uptime_ms */

void ktest_progress(uint64_t done)
{
	uint64_t now = uptime_ms(), due = __atomic_load_n(&progress_due, __ATOMIC_RELAXED);

	/* One CPU wins each due time; the others go on working. */
	if (now < due || !__atomic_compare_exchange_n(&progress_due, &due, now + PROGRESS_MS, false,
	                                              __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	kprintf("# %s: %llu operations done, %llu s\n", running->name, (unsigned long long)done,
	        (unsigned long long)(now > started ? (now - started) / 1000 : 0));
}

void ktest_fail(struct ktest_run *t, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	/* The first failure is the reason; later ones (on any CPU) add nothing. */
	if (__atomic_fetch_add(&t->failed, 1, __ATOMIC_ACQ_REL))
		return;
	n = hm_snprintf(t->reason, sizeof(t->reason), "%s:%d: ", file, line);
	if (n >= sizeof(t->reason))
		return;
	va_start(ap, fmt);
	hm_vsnprintf(t->reason + n, sizeof(t->reason) - n, fmt, ap);
	va_end(ap);
}

static void run_one(void *arg)
{
	struct { const struct ktest *test; struct ktest_run *run; } *a = arg;
	a->test->fn(a->run);
}

/* Runs one test and prints its KTAP line, its time as a diagnostic after
 * the name (" # time=N ms", then ": reason" when it failed), and for a test
 * of a second or more a "# NAME took N ms" line.  Returns 1 if it failed. */
static int run_test(int index, const struct ktest *test)
{
	struct ktest_run run = { 0 };
	struct { const struct ktest *test; struct ktest_run *run; } a = { test, &run };
	struct fault_info fi;
	unsigned long long ms;
	unsigned cpu;

	running = test;
	started = uptime_ms();
	__atomic_store_n(&progress_due, started + PROGRESS_MS, __ATOMIC_RELAXED);
	memory_log_expected(0);
	if (try_call(run_one, &a, &fi))
		ktest_fail(&run, "fault", 0, "unexpected exception 0x%08x vector %u at rip %p addr %p",
		           fi.code, fi.vector, (void *)fi.rip, (void *)fi.addr);
	if ((fi.code = smp_take_fault(&fi.rip, &fi.addr, &cpu)) != 0)
		ktest_fail(&run, "fault", 0, "unexpected exception 0x%08x on cpu %u at rip %p addr %p",
		           fi.code, cpu, (void *)fi.rip, (void *)fi.addr);
	memory_log_expected(0);      /* a test that failed half-way leaves it on */
	ms = uptime_ms() - started;
	if (run.failed)
		kprintf("not ok %d %s # time=%llu ms: %s\n", index, test->name, ms, run.reason);
	else
		kprintf("ok %d %s # time=%llu ms\n", index, test->name, ms);
	if (ms >= 1000)   /* where the time goes, for a person reading */
		kprintf("# %s took %llu ms\n", test->name, ms);
	return run.failed != 0;
}

/* only=WORD on the command line keeps the tests whose name holds WORD
 * (make ktest ONLY=WORD); the plan counts what runs. */
static bool selected(const struct ktest *test, const char *only)
{
	if (!only)
		return true;
	for (const char *h = test->name; *h; h++) {
		size_t k = 0;

		while (only[k] && h[k] == only[k])
			k++;
		if (!only[k])
			return true;
	}
	return false;
}

int ktest_run_all(void)
{
	int n = 0, failed = 0, index = 0;
	char buf[64];
	const char *only = cmdline_get("only", buf, sizeof(buf));

	for (const struct ktest *k = __ktests_start; k < __ktests_end; k++)
		n += selected(k, only);
	kprintf("KTAP version 1\n1..%d\n", n);
	for (int i = 0; i < (int)(__ktests_end - __ktests_start); i++)
		if (selected(&__ktests_start[i], only))
			failed += run_test(++index, &__ktests_start[i]);
	kprintf("%d passed, %d failed\n", n - failed, failed);
	return failed;
}
