/*
 * test_pressure.c - GetMemoryLoad, the memory notifications and the critical
 * levels, through the hosted twin (pressure.c, manager.c), one test per rule.
 *
 * The rules under test (pressure.c's theory statement):
 *   load      = (usable - available) * 100 / usable, available bytes =
 *               commit_available pages * 4096;
 *   notices   Low entered below 20 % available and left at 25 % or more
 *             (so before the first task-critical refusal at 12.5 %),
 *             High entered above 50 % and left at 45 % or less, Neutral
 *             otherwise; one notice per change, delivered after the call
 *             that made it, without the manager's lock;
 *   levels    a task-critical commit may not take availability below
 *             usable / 8, an app-domain-critical one below usable / 32, a
 *             process-critical one may take everything; a process-critical
 *             allocation that fails for lack of memory kills the manager.
 *
 * The twin is tiny (2 MiB: 511 usable frames), so a page is 0.2 % and every
 * threshold can be hit to the page.  Availability is moved with a ballast: a
 * 2 MiB reservation at a 2 MiB-aligned address whose first page stays
 * committed, so its page tables live as long as the test; committing or
 * decommitting k ballast pages then moves commit_available by exactly k, in
 * one call, and so changes the notification level at most once per move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include "tests/host/lib/twin.h"
#include "hostmem/hm.h"

#define PRESSURE_RAM  (2 * MiB)
#define BALLAST       0x40000000ull        /* 1 GiB-aligned: tables of its own */
#define BALLAST_MAX   511ull               /* pages after the anchor page */
#define OTHER         0x50000000ull        /* a second, unrelated reservation */
#define E_ADDR        HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)

static uint64_t ballast;   /* ballast pages committed now */

/* ------------------------------------------------------------ the ballast */

static int pressure_setup(void **state)
{
	struct twin *t = twin_new(PRESSURE_RAM, 0);

	reserve_ok(t, BALLAST, 2 * MiB, PAGE_READWRITE);
	commit_ok(t, BALLAST, PG, PAGE_READWRITE);   /* the anchor: keeps the tables */
	ballast = 0;
	*state = t;
	return 0;
}

#define P(f) cmocka_unit_test_setup_teardown(f, pressure_setup, twin_teardown)

static uint64_t avail(struct twin *t)
{
	return twin_stats(t).commit_available;
}

static uint64_t usable(struct twin *t)
{
	return twin_stats(t).frames_usable;
}

/* The fewest available pages at which the available share is pct %. */
static uint64_t at_pct(struct twin *t, unsigned pct)
{
	return (pct * usable(t) + 99) / 100;
}

static uint64_t floor_task(struct twin *t) { return usable(t) / 8; }
static uint64_t floor_appdomain(struct twin *t) { return usable(t) / 32; }

/* Commits the next n ballast pages in one call at the given level. */
static HRESULT ballast_commit(struct twin *t, uint64_t n, EMemoryCriticalLevel level)
{
	void *p = VA(1);
	HRESULT hr;

	if (ballast + n > BALLAST_MAX)
		twin_fail(__FILE__, __LINE__, "the ballast holds %llu pages, not %llu",
		        BALLAST_MAX, (unsigned long long)(ballast + n));
	hr = IHostMemoryManager_VirtualAlloc(t->m, VA(BALLAST + (1 + ballast) * PG), n * PG,
	                                     MEM_COMMIT, PAGE_READWRITE, level, &p);
	if (hr == S_OK)
		ballast += n;
	else if (p != 0)
		twin_fail(__FILE__, __LINE__, "a failed commit left *ppMem %p", p);
	return hr;
}

/* Decommits the last n ballast pages in one call. */
static void ballast_decommit(struct twin *t, uint64_t n)
{
	free_ok(t, BALLAST + (1 + ballast - n) * PG, n * PG, MEM_DECOMMIT);
	ballast -= n;
}

/* Exactly `pages` available, in one call (process-critical: no floor). */
#define avail_to(t, pages) avail_to_at((t), (pages), __FILE__, __LINE__)
static void avail_to_at(struct twin *t, uint64_t pages, const char *file, int line)
{
	uint64_t now = avail(t);
	HRESULT hr;

	if (now > pages) {
		hr = ballast_commit(t, now - pages, eProcessCritical);
		if (hr != S_OK)
			twin_fail(file, line, "ballast commit of %llu pages: %s",
			        (unsigned long long)(now - pages), hostmem_hresult_name(hr));
	} else if (now < pages) {
		if (pages - now > ballast)
			twin_fail(file, line, "cannot free %llu pages", (unsigned long long)(pages - now));
		ballast_decommit(t, pages - now);
	}
	if (avail(t) != pages)
		twin_fail(file, line, "available %llu, want %llu", (unsigned long long)avail(t),
		        (unsigned long long)pages);
}

/* ------------------------------------------------------------ a callback that records */

struct probe {
	ICLRMemoryNotificationCallback iface;   /* first: This == &p->iface */
	int refs;
	int n;                                  /* notices since the last check */
	EMemoryAvailable last;
	int refs_inside;                        /* refs while the last notice ran */
	struct twin *reenter;                   /* call into this manager from the notice */
	bool unregister;                        /* ... and unregister from inside it */
	HRESULT hr_load, hr_stats, hr_query, hr_register;
	DWORD load;
	SIZE_T bytes;
	uint64_t avail;
};

static struct probe *probe_of(ICLRMemoryNotificationCallback *cb) { return (struct probe *)cb; }

static HRESULT probe_QueryInterface(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppv)
{
	*ppv = 0;
	if (memcmp(riid, &IID_IUnknown, sizeof(IID)) &&
	    memcmp(riid, &IID_ICLRMemoryNotificationCallback, sizeof(IID)))
		return E_NOINTERFACE;
	probe_of(This)->refs++;
	*ppv = This;
	return S_OK;
}

static ULONG probe_AddRef(ICLRMemoryNotificationCallback *This)
{
	return (ULONG)++probe_of(This)->refs;
}

static ULONG probe_Release(ICLRMemoryNotificationCallback *This)
{
	struct probe *p = probe_of(This);

	assert_true(p->refs > 0);
	return (ULONG)--p->refs;
}

/* Runs without the manager's lock: every call below would deadlock on the
 * twin's (non-recursive) mutex otherwise. */
static void probe_reenter(struct probe *p)
{
	IHostMemoryManager *m = p->reenter->m;
	struct hostmem_stats st;
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n;

	p->hr_load = IHostMemoryManager_GetMemoryLoad(m, &p->load, &p->bytes);
	p->hr_stats = hostmem_get_stats(m, &st);
	p->avail = st.commit_available;
	p->hr_query = IHostMemoryManager_VirtualQuery(m, VA(BALLAST), &mbi, sizeof mbi, &n);
	if (p->unregister)
		p->hr_register = IHostMemoryManager_RegisterMemoryNotificationCallback(m, 0);
}

static HRESULT probe_OnMemoryNotification(ICLRMemoryNotificationCallback *This,
                                          EMemoryAvailable level)
{
	struct probe *p = probe_of(This);

	p->n++;
	p->last = level;
	p->refs_inside = p->refs;
	if (p->reenter)
		probe_reenter(p);
	return S_OK;
}

static const ICLRMemoryNotificationCallbackVtbl probe_vtbl = {
	probe_QueryInterface, probe_AddRef, probe_Release, probe_OnMemoryNotification,
};

/* One reference: the test's own. */
static void probe_init(struct probe *p)
{
	*p = (struct probe){ .iface = { &probe_vtbl }, .refs = 1 };
}

static HRESULT reg(struct twin *t, struct probe *p)
{
	return IHostMemoryManager_RegisterMemoryNotificationCallback(t->m, p ? &p->iface : 0);
}

/* Exactly one notice, of level want, since the last check (want 0: none). */
#define assert_notice(p, want) assert_notice_at((p), (want), __FILE__, __LINE__)
static void assert_notice_at(struct probe *p, int want, const char *file, int line)
{
	if (want == 0 && p->n != 0)
		twin_fail(file, line, "%d unexpected notice(s), the last %d", p->n, p->last);
	if (want != 0 && (p->n != 1 || (int)p->last != want))
		twin_fail(file, line, "%d notice(s), the last %d; want exactly one of level %d",
		        p->n, p->n ? (int)p->last : 0, want);
	p->n = 0;
}

/* Moves availability to pct % in one call, then checks the notices. */
#define step(t, p, pct, want) do { \
		avail_to_at((t), at_pct((t), (pct)), __FILE__, __LINE__); \
		assert_notice_at((p), (want), __FILE__, __LINE__); \
	} while (0)

#define LOW      eMemoryAvailableLow
#define NEUTRAL  eMemoryAvailableNeutral
#define HIGH     eMemoryAvailableHigh

/* ------------------------------------------------------------ GetMemoryLoad */

/* GetMemoryLoad agrees with the counters, whatever state they are in. */
static void assert_load_matches_stats(struct twin *t)
{
	DWORD load = 0xDEAD;
	SIZE_T bytes = 1;
	struct hostmem_stats st;

	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	st = twin_stats(t);
	assert_int_equal(load, (st.frames_usable - st.commit_available) * 100 / st.frames_usable);
	assert_int_equal(bytes, st.commit_available * PG);
	assert_true(load <= 100);
}

static void memory_load_is_the_unavailable_share_of_usable_frames(void **state)
{
	struct twin *t = *state;

	assert_load_matches_stats(t);
	avail_to(t, at_pct(t, 70));
	assert_load_matches_stats(t);
	fill_ok(t, BALLAST + PG, 50 * PG, 0x5A);
	assert_load_matches_stats(t);
	avail_to(t, 1);
	assert_load_matches_stats(t);
	avail_to(t, at_pct(t, 90));
	assert_load_matches_stats(t);
}

/* Available means "a commit could still take it": a commit lowers it at
 * once, touching the committed pages does not, a decommit gives it back. */
static void available_bytes_count_commitments_not_residency(void **state)
{
	struct twin *t = *state;
	DWORD load;
	SIZE_T b0, b1, b2, b3;

	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &b0));
	assert_hr(S_OK, ballast_commit(t, 100, eTaskCritical));
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &b1));
	assert_int_equal(b0 - b1, 100 * PG);
	fill_ok(t, BALLAST + PG, 100 * PG, 0xA5);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &b2));
	assert_int_equal(b2, b1);
	ballast_decommit(t, 100);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &b3));
	assert_int_equal(b3, b0);
}

static void memory_load_reaches_100_when_nothing_is_available(void **state)
{
	struct twin *t = *state;
	DWORD load = 0;
	SIZE_T bytes = 1;

	avail_to(t, 0);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	assert_int_equal(load, 100);
	assert_int_equal(bytes, 0);
}

static void memory_load_with_a_null_pointer_is_e_pointer(void **state)
{
	struct twin *t = *state;
	DWORD load = 0xDEAD;
	SIZE_T bytes = 0xBEEF;

	assert_unchanged(t, E_POINTER, IHostMemoryManager_GetMemoryLoad(t->m, NULL, &bytes));
	assert_unchanged(t, E_POINTER, IHostMemoryManager_GetMemoryLoad(t->m, &load, NULL));
	assert_unchanged(t, E_POINTER, IHostMemoryManager_GetMemoryLoad(t->m, NULL, NULL));
	assert_int_equal(load, 0xDEAD);
	assert_int_equal(bytes, 0xBEEF);
}

/* ------------------------------------------------------------ notifications */

static void a_notice_reports_each_new_level(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	step(t, &p, 30, NEUTRAL);
	step(t, &p, 5, LOW);
	step(t, &p, 30, NEUTRAL);
	step(t, &p, 80, HIGH);
	step(t, &p, 30, NEUTRAL);
	assert_hr(S_OK, reg(t, 0));
}

/* Low below 20 %, left at 25 %; High above 50 %, left at 45 %. */
static void each_threshold_fires_at_its_documented_percentage(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	step(t, &p, 46, 0);          /* High is kept above 45 % */
	step(t, &p, 45, NEUTRAL);
	step(t, &p, 20, 0);          /* Low is entered below 20 % */
	step(t, &p, 19, LOW);
	step(t, &p, 24, 0);          /* Low is kept below 25 % */
	step(t, &p, 25, NEUTRAL);
	step(t, &p, 50, 0);          /* High is entered above 50 % */
	step(t, &p, 51, HIGH);
	assert_hr(S_OK, reg(t, 0));
}

/* Hovering on either side of a threshold (inside the hysteresis band)
 * reports the crossing once. */
static void oscillating_around_a_threshold_does_not_chatter(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	step(t, &p, 19, LOW);
	for (int i = 0; i < 5; i++) {
		step(t, &p, 20, 0);
		step(t, &p, 24, 0);
		step(t, &p, 19, 0);
	}
	step(t, &p, 25, NEUTRAL);
	for (int i = 0; i < 5; i++) {
		step(t, &p, 24, 0);
		step(t, &p, 20, 0);
		step(t, &p, 25, 0);
	}
	step(t, &p, 51, HIGH);
	for (int i = 0; i < 5; i++) {
		step(t, &p, 50, 0);
		step(t, &p, 46, 0);
		step(t, &p, 51, 0);
	}
	step(t, &p, 45, NEUTRAL);
	for (int i = 0; i < 5; i++) {
		step(t, &p, 50, 0);
		step(t, &p, 46, 0);
		step(t, &p, 45, 0);
	}
	assert_hr(S_OK, reg(t, 0));
}

static void a_jump_across_levels_reports_only_the_level_reached(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	step(t, &p, 3, LOW);         /* High -> Low in one call: no Neutral */
	step(t, &p, 90, HIGH);
	assert_hr(S_OK, reg(t, 0));
}

/* Calls that leave availability alone (queries, loads, reserves) say
 * nothing, and neither does the registration itself. */
static void calls_that_change_no_level_send_no_notice(void **state)
{
	struct twin *t = *state;
	MEMORY_BASIC_INFORMATION mbi;
	struct probe p;
	DWORD load;
	SIZE_T bytes;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	assert_notice(&p, 0);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	assert_hr(S_OK, twin_query(t, BALLAST, &mbi));
	reserve_ok(t, OTHER, 64 * MiB, PAGE_READWRITE);
	release_ok(t, OTHER);
	assert_notice(&p, 0);
	assert_hr(S_OK, reg(t, 0));
}

/* The level is tracked whether or not anyone listens: a crossing made while
 * no callback was registered is not replayed to a later one. */
static void a_crossing_while_unregistered_is_not_replayed(void **state)
{
	struct twin *t = *state;
	struct probe p;
	DWORD load;
	SIZE_T bytes;

	probe_init(&p);
	avail_to(t, at_pct(t, 5));
	assert_hr(S_OK, reg(t, &p));
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	step(t, &p, 22, 0);
	step(t, &p, 30, NEUTRAL);
	assert_hr(S_OK, reg(t, 0));
}

static void registration_takes_a_reference(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	assert_int_equal(p.refs, 2);
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(p.refs, 1);
}

static void reregistration_replaces_and_releases_the_old_callback(void **state)
{
	struct twin *t = *state;
	struct probe a, b;

	probe_init(&a);
	probe_init(&b);
	assert_hr(S_OK, reg(t, &a));
	assert_hr(S_OK, reg(t, &b));
	assert_int_equal(a.refs, 1);
	assert_int_equal(b.refs, 2);
	step(t, &b, 30, NEUTRAL);
	assert_notice(&a, 0);
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(b.refs, 1);
}

static void registering_the_same_callback_again_keeps_one_reference(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	assert_hr(S_OK, reg(t, &p));
	assert_int_equal(p.refs, 2);
	step(t, &p, 30, NEUTRAL);
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(p.refs, 1);
}

static void registering_null_unregisters(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, 0));             /* nothing registered: fine */
	assert_hr(S_OK, reg(t, &p));
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(p.refs, 1);
	step(t, &p, 30, 0);
	step(t, &p, 5, 0);
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(p.refs, 1);
}

/* The manager holds a reference of its own for the length of the call, and
 * gives it back: AddRef and Release balance. */
static void a_notice_holds_a_reference_while_it_runs(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	step(t, &p, 30, NEUTRAL);
	assert_int_equal(p.refs_inside, 3);     /* the test's, the registration's, the call's */
	assert_int_equal(p.refs, 2);
	assert_hr(S_OK, reg(t, 0));
	assert_int_equal(p.refs, 1);
}

/* A deadlock would hang the test: the alarm turns it into a failure. */
static void the_callback_runs_without_the_lock_and_may_call_the_manager(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	p.reenter = t;
	assert_hr(S_OK, reg(t, &p));
	alarm(10);
	step(t, &p, 30, NEUTRAL);
	alarm(0);
	assert_hr(S_OK, p.hr_load);
	assert_hr(S_OK, p.hr_stats);
	assert_hr(S_OK, p.hr_query);
	/* It sees the state the call left behind. */
	assert_int_equal(p.avail, at_pct(t, 30));
	assert_int_equal(p.bytes, at_pct(t, 30) * PG);
	assert_int_equal(p.load, (usable(t) - at_pct(t, 30)) * 100 / usable(t));
	assert_hr(S_OK, reg(t, 0));
}

/* Unregistering from inside the notice drops the registration's
 * reference; the call's own keeps the callback alive until it returns. */
static void the_callback_may_unregister_itself(void **state)
{
	struct twin *t = *state;
	struct probe p;

	probe_init(&p);
	p.reenter = t;
	p.unregister = true;
	assert_hr(S_OK, reg(t, &p));
	alarm(10);
	step(t, &p, 30, NEUTRAL);
	alarm(0);
	assert_hr(S_OK, p.hr_register);
	assert_int_equal(p.refs, 1);
	step(t, &p, 5, 0);
}

/* ------------------------------------------------------------ critical levels */

/* One page of ballast at a level, failing: E_OUTOFMEMORY and nothing
 * changed. */
#define commit_refused(t, n, level) \
	assert_unchanged((t), E_OUTOFMEMORY, ballast_commit((t), (n), (level)))

static void task_critical_fails_first_at_one_eighth_available(void **state)
{
	struct twin *t = *state;
	uint64_t ft = floor_task(t);

	avail_to(t, ft + 1);
	commit_refused(t, 2, eTaskCritical);
	assert_hr(S_OK, ballast_commit(t, 1, eTaskCritical));      /* down to the watermark */
	assert_int_equal(avail(t), ft);
	commit_refused(t, 1, eTaskCritical);
	assert_hr(S_OK, ballast_commit(t, 1, eAppDomainCritical));
	assert_hr(S_OK, ballast_commit(t, 1, eProcessCritical));
	commit_refused(t, 1, eTaskCritical);
}

/* A new reservation committed at once is refused the same way, and its
 * reservation and page tables are taken back. */
static void reserve_and_commit_under_the_watermark_leaves_nothing_behind(void **state)
{
	struct twin *t = *state;
	void *p = VA(1);

	avail_to(t, floor_task(t) + 1);
	assert_unchanged(t, E_OUTOFMEMORY, IHostMemoryManager_VirtualAlloc(t->m, 0, 2 * PG,
	                 MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p));
	assert_null(p);
	assert_unchanged(t, E_OUTOFMEMORY, IHostMemoryManager_VirtualAlloc(t->m, VA(OTHER), 2 * PG,
	                 MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, eTaskCritical, &p));
	assert_null(p);
}

static void app_domain_critical_fails_next_at_one_thirty_second_available(void **state)
{
	struct twin *t = *state;
	uint64_t fa = floor_appdomain(t);

	avail_to(t, fa + 1);
	commit_refused(t, 1, eTaskCritical);
	commit_refused(t, 2, eAppDomainCritical);
	assert_hr(S_OK, ballast_commit(t, 1, eAppDomainCritical));
	assert_int_equal(avail(t), fa);
	commit_refused(t, 1, eAppDomainCritical);
	commit_refused(t, 1, eTaskCritical);
	assert_hr(S_OK, ballast_commit(t, 1, eProcessCritical));
}

static void process_critical_may_take_the_reserve_to_the_last_page(void **state)
{
	struct twin *t = *state;
	uint64_t fa = floor_appdomain(t);
	DWORD load;
	SIZE_T bytes;

	avail_to(t, fa);
	assert_hr(S_OK, ballast_commit(t, fa, eProcessCritical));
	assert_int_equal(avail(t), 0);
	/* The promise holds: every page of the reserve can be touched. */
	fill_ok(t, BALLAST + PG, ballast * PG, 0x3C);
	assert_bytes(t, BALLAST + PG, ballast * PG, 0x3C);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	assert_int_equal(load, 100);
	assert_int_equal(bytes, 0);
	/* Nothing is lost: the manager is still fine. */
	ballast_decommit(t, fa);
	assert_int_equal(avail(t), fa);
}

/* The runtime hears Low before its first refusal: commits of 16 KiB at one
 * critical level, from plenty down to the first E_OUTOFMEMORY, see exactly
 * one notice (Low) before it. */
static void low_is_heard_before_the_first_refusal_at(struct twin *t, EMemoryCriticalLevel level)
{
	struct probe p;
	HRESULT hr;

	avail_to(t, at_pct(t, 40));
	probe_init(&p);
	assert_hr(S_OK, reg(t, &p));
	while ((hr = ballast_commit(t, 4, level)) == S_OK)
		;
	assert_hr(E_OUTOFMEMORY, hr);
	assert_notice(&p, LOW);
	assert_hr(S_OK, reg(t, 0));
}

static void task_critical_commits_hear_low_before_their_first_refusal(void **state)
{
	low_is_heard_before_the_first_refusal_at(*state, eTaskCritical);
}

static void app_domain_critical_commits_hear_low_before_their_first_refusal(void **state)
{
	low_is_heard_before_the_first_refusal_at(*state, eAppDomainCritical);
}

/* ------------------------------------------------------------ many threads */

/* A callback that takes its time, like a runtime starting a collection, and
 * records the level it acted on last (at its end). */
struct slow_probe {
	ICLRMemoryNotificationCallback iface;
	int refs;
	volatile int last, calls, inside, overlaps;
};

static HRESULT slow_qi(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppv)
{
	*ppv = 0;
	return E_NOINTERFACE;
}
static ULONG slow_addref(ICLRMemoryNotificationCallback *This)
{
	return (ULONG)__atomic_add_fetch(&((struct slow_probe *)This)->refs, 1, __ATOMIC_ACQ_REL);
}
static ULONG slow_release(ICLRMemoryNotificationCallback *This)
{
	return (ULONG)__atomic_sub_fetch(&((struct slow_probe *)This)->refs, 1, __ATOMIC_ACQ_REL);
}
static HRESULT slow_notify(ICLRMemoryNotificationCallback *This, EMemoryAvailable level)
{
	struct slow_probe *p = (struct slow_probe *)This;

	if (__atomic_add_fetch(&p->inside, 1, __ATOMIC_ACQ_REL) > 1)
		__atomic_add_fetch(&p->overlaps, 1, __ATOMIC_ACQ_REL);
	usleep(50);
	__atomic_store_n(&p->last, (int)level, __ATOMIC_RELEASE);
	__atomic_add_fetch(&p->calls, 1, __ATOMIC_ACQ_REL);
	__atomic_sub_fetch(&p->inside, 1, __ATOMIC_ACQ_REL);
	return S_OK;
}
static const ICLRMemoryNotificationCallbackVtbl slow_vtbl = {
	slow_qi, slow_addref, slow_release, slow_notify,
};

struct flipper { struct twin *t; uint64_t base, pages; pthread_barrier_t *start; };

/* Commits and decommits a share of usable, so the level keeps moving
 * (55 % alone crosses High/Neutral; with the other's 30 %, Low) while the
 * other thread does the same. */
static void *flip(void *arg)
{
	struct flipper *f = arg;
	void *p;

	pthread_barrier_wait(f->start);
	for (int i = 0; i < 300; i++) {
		IHostMemoryManager_VirtualAlloc(f->t->m, VA(f->base), f->pages * PG, MEM_COMMIT,
		                                PAGE_READWRITE, eTaskCritical, &p);
		IHostMemoryManager_VirtualFree(f->t->m, VA(f->base), f->pages * PG, MEM_DECOMMIT);
	}
	return 0;
}

/* Two threads change the level at once: the callbacks never overlap, and
 * once the calls stop the level the callback acted on last is the current
 * one (notify.c). */
static void notifications_from_two_threads_end_at_the_current_level(void **state)
{
	struct twin *t = *state;
	struct slow_probe p = { { &slow_vtbl }, 1, 0, 0, 0, 0 };
	pthread_barrier_t start;
	struct flipper f[2] = { { t, OTHER, usable(t) * 55 / 100, &start },
	                        { t, OTHER + 4 * MiB, usable(t) * 30 / 100, &start } };
	pthread_t th[2];

	pthread_barrier_init(&start, 0, 2);
	reserve_ok(t, OTHER, 2 * MiB, PAGE_READWRITE);
	reserve_ok(t, OTHER + 4 * MiB, 2 * MiB, PAGE_READWRITE);
	assert_hr(S_OK, IHostMemoryManager_RegisterMemoryNotificationCallback(t->m, &p.iface));
	for (int k = 0; k < 2; k++)
		assert_int_equal(pthread_create(&th[k], 0, flip, &f[k]), 0);
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], 0);
	pthread_barrier_destroy(&start);
	print_message("    %llu level changes, %d notices\n",
	              (unsigned long long)hm_of(t->m)->level_seq, p.calls);
	assert_true(hm_of(t->m)->level_seq > 20 && p.calls > 0);
	assert_int_equal(p.overlaps, 0);
	assert_int_equal(p.last, hm_of(t->m)->notified);
	assert_hr(S_OK, IHostMemoryManager_RegisterMemoryNotificationCallback(t->m, 0));
}

/* Every entry point of a dead manager. */
static void assert_every_call_is_refused(struct twin *t)
{
	IHostMemoryManager *m = t->m;
	MEMORY_BASIC_INFORMATION mbi;
	struct hostmem_stats st;
	IHostMalloc *ma = (IHostMalloc *)1;
	void *p = VA(1), *addrs[4];
	ULONG_PTR count = 4;
	DWORD old, load, gran;
	SIZE_T n, bytes;
	struct probe cb;
	char why[64];

	probe_init(&cb);
	for (int level = eTaskCritical; level <= eProcessCritical; level++) {
		assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_VirtualAlloc(m, 0, PG,
		          MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, (EMemoryCriticalLevel)level, &p));
		assert_null(p);
	}
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_VirtualFree(m, VA(BALLAST), 0, MEM_RELEASE));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_VirtualQuery(m, VA(BALLAST), &mbi,
	          sizeof mbi, &n));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_VirtualProtect(m, VA(BALLAST), PG,
	          PAGE_READONLY, &old));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_GetMemoryLoad(m, &load, &bytes));
	assert_hr(HOST_E_CLRNOTAVAILABLE, reg(t, &cb));
	assert_int_equal(cb.refs, 1);
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_NeedsVirtualAddressSpace(m, VA(OTHER), GR));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_AcquiredVirtualAddressSpace(m, VA(OTHER), GR));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_ReleasedVirtualAddressSpace(m, VA(OTHER)));
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_CreateMalloc(m, MALLOC_THREADSAFE, &ma));
	assert_null(ma);
	assert_hr(HOST_E_CLRNOTAVAILABLE, IHostMemoryManager_QueryInterface(m, &IID_IHostMemoryManager,
	          &p));
	assert_hr(HOST_E_CLRNOTAVAILABLE, hostmem_get_stats(m, &st));
	assert_hr(HOST_E_CLRNOTAVAILABLE, hostmem_verify(m, why, sizeof why));
	assert_hr(HOST_E_CLRNOTAVAILABLE, hostmem_get_write_watch(m, 0, VA(BALLAST), PG, addrs,
	          &count, &gran));
	assert_hr(HOST_E_CLRNOTAVAILABLE, hostmem_reset_write_watch(m, VA(BALLAST), PG));
}

static void a_failed_process_critical_allocation_makes_the_manager_unusable(void **state)
{
	struct twin *t = *state;

	avail_to(t, 0);
	t->dead_ok = true;
	assert_hr(E_OUTOFMEMORY, ballast_commit(t, 1, eProcessCritical));
	assert_every_call_is_refused(t);
}

/* Commit is a promise for the life of the memory: a manager that refuses
 * every new call after a failed process-critical request still serves the
 * faults of what it committed before (CONTRACT.md, rules settled since). */
static void promises_outlive_a_failed_process_critical_allocation(void **state)
{
	struct twin *t = *state;
	uint8_t b = 0xEE;

	reserve_ok(t, OTHER, 4 * PG, PAGE_READWRITE);
	commit_ok(t, OTHER, PG, PAGE_READWRITE);                    /* untouched */
	commit_ok(t, OTHER + PG, PG, PAGE_READWRITE | PAGE_GUARD);
	commit_ok(t, OTHER + 3 * PG, PG, PAGE_READWRITE);
	fill_ok(t, OTHER + 3 * PG, PG, 0x5A);
	avail_to(t, 0);
	t->dead_ok = true;
	assert_hr(E_OUTOFMEMORY, ballast_commit(t, 1, eProcessCritical));
	assert_every_call_is_refused(t);
	assert_int_equal(hm_sim_read(t->sim, VA(OTHER), &b, 1), 0);
	assert_int_equal(b, 0);
	assert_int_equal(hm_sim_write(t->sim, VA(OTHER + 8), &b, 1), 0);
	assert_int_equal(hm_sim_read(t->sim, VA(OTHER + PG), &b, 1), STATUS_GUARD_PAGE_VIOLATION);
	assert_int_equal(hm_sim_read(t->sim, VA(OTHER + PG), &b, 1), 0);
	assert_int_equal(hm_sim_read(t->sim, VA(OTHER + 2 * PG), &b, 1), STATUS_ACCESS_VIOLATION);
	assert_bytes(t, OTHER + 3 * PG, PG, 0x5A);
	/* The ballast's untouched pages too: every promised frame is there. */
	fill_ok(t, BALLAST + PG, ballast * PG, 0x3C);
	assert_bytes(t, BALLAST + PG, ballast * PG, 0x3C);
}

/* Only a lack of memory is fatal: a process-critical request refused for a
 * bad argument, or a task-critical one refused for memory, is an ordinary
 * error. */
static void other_failures_leave_the_manager_usable(void **state)
{
	struct twin *t = *state;
	DWORD load;
	SIZE_T bytes;
	void *p;

	assert_unchanged(t, E_INVALIDARG, IHostMemoryManager_VirtualAlloc(t->m, 0, PG,
	                 MEM_RESERVE | MEM_COMMIT, PAGE_WRITECOPY, eProcessCritical, &p));
	assert_unchanged(t, E_ADDR, IHostMemoryManager_VirtualAlloc(t->m, VA(BALLAST), PG,
	                 MEM_RESERVE, PAGE_READWRITE, eProcessCritical, &p));
	avail_to(t, 0);
	commit_refused(t, 1, eTaskCritical);
	commit_refused(t, 1, eAppDomainCritical);
	assert_hr(S_OK, IHostMemoryManager_GetMemoryLoad(t->m, &load, &bytes));
	assert_int_equal(load, 100);
}

static void a_critical_level_out_of_range_is_e_invalidarg(void **state)
{
	struct twin *t = *state;
	const uint32_t bad[] = { 3, 4, 0x7FFFFFFF, 0xFFFFFFFF };
	void *p = VA(1);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_unchanged(t, E_INVALIDARG, IHostMemoryManager_VirtualAlloc(t->m, 0, PG,
		                 MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE, (EMemoryCriticalLevel)bad[i], &p));
		assert_null(p);
		assert_unchanged(t, E_INVALIDARG, ballast_commit(t, 1, (EMemoryCriticalLevel)bad[i]));
	}
	/* Not a lack of memory: the manager goes on. */
	assert_hr(S_OK, ballast_commit(t, 1, eProcessCritical));
}

/* hm_leave recomputes the level only outside pressure_band's range: for
 * every level and availability, inside the band exactly when the level
 * would stay. */
static void the_level_band_is_where_the_level_stays(void **state)
{
	static struct hm hm;
	static const size_t usables[] = { 1, 2, 7, 99, 100, 101, 1000, 4093 };
	static const EMemoryAvailable levels[] = { eMemoryAvailableLow, eMemoryAvailableNeutral,
	                                          eMemoryAvailableHigh };

	(void)state;
	for (size_t u = 0; u < sizeof usables / sizeof usables[0]; u++) {
		hm.frames.usable = usables[u];
		for (size_t l = 0; l < 3; l++) {
			size_t lo, hi;

			hm.notified = levels[l];
			pressure_band(&hm, &lo, &hi);
			for (size_t avail = 0; avail <= usables[u]; avail++)
				assert_int_equal(lo <= avail && avail <= hi,
				                 pressure_level(&hm, avail) == levels[l]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_level_band_is_where_the_level_stays),
		P(memory_load_is_the_unavailable_share_of_usable_frames),
		P(available_bytes_count_commitments_not_residency),
		P(memory_load_reaches_100_when_nothing_is_available),
		P(memory_load_with_a_null_pointer_is_e_pointer),
		P(a_notice_reports_each_new_level),
		P(each_threshold_fires_at_its_documented_percentage),
		P(oscillating_around_a_threshold_does_not_chatter),
		P(a_jump_across_levels_reports_only_the_level_reached),
		P(calls_that_change_no_level_send_no_notice),
		P(a_crossing_while_unregistered_is_not_replayed),
		P(registration_takes_a_reference),
		P(reregistration_replaces_and_releases_the_old_callback),
		P(registering_the_same_callback_again_keeps_one_reference),
		P(registering_null_unregisters),
		P(a_notice_holds_a_reference_while_it_runs),
		P(the_callback_runs_without_the_lock_and_may_call_the_manager),
		P(the_callback_may_unregister_itself),
		P(task_critical_fails_first_at_one_eighth_available),
		P(reserve_and_commit_under_the_watermark_leaves_nothing_behind),
		P(app_domain_critical_fails_next_at_one_thirty_second_available),
		P(process_critical_may_take_the_reserve_to_the_last_page),
		P(task_critical_commits_hear_low_before_their_first_refusal),
		P(app_domain_critical_commits_hear_low_before_their_first_refusal),
		P(a_failed_process_critical_allocation_makes_the_manager_unusable),
		P(promises_outlive_a_failed_process_critical_allocation),
		P(other_failures_leave_the_manager_usable),
		P(a_critical_level_out_of_range_is_e_invalidarg),
		P(notifications_from_two_threads_end_at_the_current_level),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
