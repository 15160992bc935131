/*
 * The in-kernel self-test harness.
 *
 *   #include "kernel/ktest.h"
 *   KTEST(null_page_faults)
 *   {
 *       KASSERT_EQ(try_read((void *)0, 0, 0), STATUS_ACCESS_VIOLATION);
 *   }
 *
 * KTEST puts a record in the .ktests section; the kernel runs them in link
 * order (built-in files, then KTEST_EXTRA files) and prints KTAP:
 *   KTAP version 1 / 1..N / ok N name # time=T ms / not ok N name # time=T ms: reason
 * then "N passed, N failed".  A test body runs inside a recovery point, so an
 * unexpected fault fails that test with a description and the run goes on.
 * A failed KASSERT ends the test at once; KEXPECT records and continues.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdint.h>
#include "recover.h"

struct ktest_run {
	int failed;
	char reason[160];
};

struct ktest {
	const char *name;
	void (*fn)(struct ktest_run *t);
};

#define KTEST(n) \
	static void ktest_fn_##n(struct ktest_run *t); \
	static const struct ktest ktest_rec_##n \
		__attribute__((used, section(".ktests"), aligned(8))) = { #n, ktest_fn_##n }; \
	static void ktest_fn_##n(struct ktest_run *t)

void ktest_fail(struct ktest_run *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define KEXPECT(c) \
	do { if (!(c)) ktest_fail(t, __FILE__, __LINE__, "%s", #c); } while (0)
#define KASSERT(c) \
	do { if (!(c)) { ktest_fail(t, __FILE__, __LINE__, "%s", #c); return; } } while (0)
#define KASSERT_EQ(a, b) \
	do { \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
		if (a_ != b_) { \
			ktest_fail(t, __FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", #a, #b, \
			           (unsigned long long)a_, (unsigned long long)b_); \
			return; \
		} \
	} while (0)

/*
 * For a test that runs for seconds: call it as work gets done (any CPU, any
 * rate); every few seconds it prints a KTAP diagnostic,
 *   # NAME: 1200 operations done, 6 s
 * so a slow run shows it is moving, and how fast.
 */
void ktest_progress(uint64_t done);

/* Runs every registered test; returns the number that failed. */
int ktest_run_all(void);

#endif
