#include <stdarg.h>
#include "ktest.h"
#include "console.h"
#include "smp.h"
#include "boot.h"
#include "hostmem/format.h"

extern const struct ktest __ktests_start[], __ktests_end[];

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
	uint64_t t0 = uptime_ms();
	unsigned long long ms;
	unsigned cpu;

	if (try_call(run_one, &a, &fi))
		ktest_fail(&run, "fault", 0, "unexpected exception 0x%08x vector %u at rip %p addr %p",
		           fi.code, fi.vector, (void *)fi.rip, (void *)fi.addr);
	if ((fi.code = smp_take_fault(&fi.rip, &fi.addr, &cpu)) != 0)
		ktest_fail(&run, "fault", 0, "unexpected exception 0x%08x on cpu %u at rip %p addr %p",
		           fi.code, cpu, (void *)fi.rip, (void *)fi.addr);
	ms = uptime_ms() - t0;
	if (run.failed)
		kprintf("not ok %d %s # time=%llu ms: %s\n", index, test->name, ms, run.reason);
	else
		kprintf("ok %d %s # time=%llu ms\n", index, test->name, ms);
	if (ms >= 1000)   /* where the time goes, for a person reading */
		kprintf("# %s took %llu ms\n", test->name, ms);
	return run.failed != 0;
}

int ktest_run_all(void)
{
	int n = (int)(__ktests_end - __ktests_start), failed = 0;

	kprintf("KTAP version 1\n1..%d\n", n);
	for (int i = 0; i < n; i++)
		failed += run_test(i + 1, &__ktests_start[i]);
	kprintf("%d passed, %d failed\n", n - failed, failed);
	return failed;
}
