/*
 * The run-mode tour: the contract on the real MMU, one step per line, each
 * with what it returned (HRESULT by name, or the exception a touch raised)
 * and whether that is what the contract says.  Ends with the address-space
 * map and the counters, and leaves nothing behind.
 */
#include "demo.h"
#include "kernel/print.h"
#include "kernel/memory.h"
#include "kernel/console/map.h"
#include "kernel/console/names.h"
#include "kernel/recover.h"
#include <stdbool.h>

#define P 4096ull

static int misses;

static IHostMemoryManager *mgr(void) { return kernel_memory_manager(); }

/* The notification callback runs inside the call that moved the level, so
 * before that call's line is printed: it only keeps what it heard, and each
 * step's line is followed by what arrived during it. */
#define HEARD_MAX 8
static EMemoryAvailable heard[HEARD_MAX];
static int nheard;

static void notes_show(void)
{
	static const char *const names[] = { "?", "eMemoryAvailableLow", "eMemoryAvailableNeutral",
	                                     "eMemoryAvailableHigh" };

	for (int i = 0; i < nheard; i++)
		kprintf("  >> OnMemoryNotification(%s)\n", names[heard[i] <= 3 ? heard[i] : 0]);
	nheard = 0;
}

/* Prints one call and its result; false (and counted) if it is not what
 * the contract says, so the tour never touches memory it did not get. */
static bool step(const char *what, HRESULT got, HRESULT want)
{
	kprintf("  %-58s -> %s%s\n", what, hostmem_hresult_name(got),
	        got == want ? "" : "   (UNEXPECTED)");
	notes_show();
	misses += got != want;
	return got == want;
}

static void touch(const char *what, uint32_t got, uint32_t want)
{
	kprintf("  %-58s -> %s%s\n", what, exception_name(got), got == want ? "" : "   (UNEXPECTED)");
	misses += got != want;
}

/* The counters, or why there are none: a manager that became unusable
 * answers every call with HOST_E_CLRNOTAVAILABLE, and says so once. */
static void counters(const char *when)
{
	struct hostmem_stats st;
	HRESULT hr = hostmem_get_stats(mgr(), &st);

	if (hr != S_OK) {
		kprintf("  [%s] no counters: hostmem_get_stats -> %s (the manager is unusable)\n", when,
		        hostmem_hresult_name(hr));
		return;
	}
	kprintf("  [%s] reservations=%llu committed=%llu untouched=%llu frames in use=%llu "
	        "page tables=%llu free frames=%llu\n", when,
	        (unsigned long long)st.reservations, (unsigned long long)st.commit_charge,
	        (unsigned long long)st.commit_promised, (unsigned long long)st.frames_data,
	        (unsigned long long)st.frames_tables, (unsigned long long)st.frames_free);
}

static bool tour_commit(uint8_t *base)
{
	void *p;

	if (!step("VirtualAlloc(base, 64 KiB, MEM_COMMIT, PAGE_READWRITE)",
	          IHostMemoryManager_VirtualAlloc(mgr(), base, 16 * P, MEM_COMMIT, PAGE_READWRITE,
	                                          eTaskCritical, &p), S_OK))
		return false;
	counters("committed, untouched");
	for (int i = 0; i < 16; i++)
		base[i * P] = (uint8_t)i;
	kprintf("  wrote one byte in each of the 16 pages (first touch: demand-zero faults)\n");
	counters("touched");
	return true;
}

static void tour_faults(uint8_t *base)
{
	DWORD old;

	step("VirtualProtect(base + 4 KiB, 4 KiB, PAGE_READONLY)",
	     IHostMemoryManager_VirtualProtect(mgr(), base + P, P, PAGE_READONLY, &old), S_OK);
	touch("write to the read-only page", try_write(base + P, 1, 0), STATUS_ACCESS_VIOLATION);
	step("VirtualProtect(base + 8 KiB, 4 KiB, PAGE_READWRITE | PAGE_GUARD)",
	     IHostMemoryManager_VirtualProtect(mgr(), base + 2 * P, P, PAGE_READWRITE | PAGE_GUARD,
	                                       &old), S_OK);
	touch("read the guard page", try_read(base + 2 * P, 0, 0), STATUS_GUARD_PAGE_VIOLATION);
	touch("read it again: the guard is gone", try_read(base + 2 * P, 0, 0), 0);
	touch("read a reserved page (base + 128 KiB)", try_read(base + 32 * P, 0, 0),
	      STATUS_ACCESS_VIOLATION);
	touch("execute from a PAGE_READWRITE page", try_exec(base, 0), STATUS_ACCESS_VIOLATION);
}

static void tour_errors(uint8_t *base)
{
	void *p;

	step("VirtualAlloc(base + 64 KiB, 4 KiB, MEM_RESERVE, ...): overlaps",
	     IHostMemoryManager_VirtualAlloc(mgr(), base + 16 * P, P, MEM_RESERVE, PAGE_READWRITE,
	                                     eTaskCritical, &p), HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
	step("VirtualAlloc(NULL, 4 KiB, MEM_COMMIT, PAGE_WRITECOPY)",
	     IHostMemoryManager_VirtualAlloc(mgr(), 0, P, MEM_COMMIT, PAGE_WRITECOPY, eTaskCritical, &p),
	     E_INVALIDARG);
	step("VirtualFree(base + 4 KiB, 0, MEM_RELEASE): not the base",
	     IHostMemoryManager_VirtualFree(mgr(), base + P, 0, MEM_RELEASE),
	     HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS));
}

/* A notification callback that says what it was told. */
static HRESULT note_qi(ICLRMemoryNotificationCallback *t, REFIID r, void **p) { return E_NOINTERFACE; }
static ULONG note_ref(ICLRMemoryNotificationCallback *t) { return 1; }

static HRESULT note(ICLRMemoryNotificationCallback *t, EMemoryAvailable level)
{
	if (nheard < HEARD_MAX)
		heard[nheard++] = level;
	return S_OK;
}

static const ICLRMemoryNotificationCallbackVtbl note_vtbl = { note_qi, note_ref, note_ref, note };
static ICLRMemoryNotificationCallback notifier = { &note_vtbl };

static void load(void)
{
	DWORD pct;
	SIZE_T avail;

	IHostMemoryManager_GetMemoryLoad(mgr(), &pct, &avail);
	kprintf("  GetMemoryLoad: %u%% in use, %llu MiB available for commit\n", pct,
	        (unsigned long long)(avail >> 20));
	notes_show();
}

/* Commit (without touching) until less than 10 % is left, then give it back:
 * the callback hears Low, then High. */
static void tour_pressure(void)
{
	struct hostmem_stats st;
	void *p, *q;

	kprintf("\n== memory pressure and notifications\n");
	step("RegisterMemoryNotificationCallback(probe)",
	     IHostMemoryManager_RegisterMemoryNotificationCallback(mgr(), &notifier), S_OK);
	load();
	if (!step("hostmem_get_stats(&st)", hostmem_get_stats(mgr(), &st), S_OK))
		return;
	if (st.commit_available < st.frames_usable / 2) {
		kprintf("  (skipped: more than half the memory is already in use)\n");
		return;
	}
	step("VirtualAlloc(NULL, all but 5% of RAM, RESERVE|COMMIT, eProcessCritical)",
	     IHostMemoryManager_VirtualAlloc(mgr(), 0, (st.commit_available - st.frames_usable / 20) * P,
	                                     MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE,
	                                     eProcessCritical, &p), S_OK);
	load();
	step("VirtualAlloc(NULL, 4 MiB, RESERVE|COMMIT, eTaskCritical): below its watermark",
	     IHostMemoryManager_VirtualAlloc(mgr(), 0, 4u << 20, MEM_RESERVE | MEM_COMMIT,
	                                     PAGE_READWRITE, eTaskCritical, &q), E_OUTOFMEMORY);
	step("VirtualFree(the big one, 0, MEM_RELEASE)", IHostMemoryManager_VirtualFree(mgr(), p, 0, MEM_RELEASE), S_OK);
	load();
	step("RegisterMemoryNotificationCallback(NULL)",
	     IHostMemoryManager_RegisterMemoryNotificationCallback(mgr(), 0), S_OK);
}

int demo_run(void)
{
	uint8_t *base;

	misses = 0;
	kprintf("\n== the contract on the real MMU\n");
	counters("start");
	if (!step("VirtualAlloc(NULL, 256 KiB, MEM_RESERVE, PAGE_READWRITE)",
	          IHostMemoryManager_VirtualAlloc(mgr(), 0, 64 * P, MEM_RESERVE, PAGE_READWRITE,
	                                          eTaskCritical, (void **)&base), S_OK))
		return misses;
	kprintf("  base = %p\n", base);
	if (tour_commit(base))
		tour_faults(base);
	tour_errors(base);
	kprintf("\n== the address space (VirtualQuery walk)\n");
	map_print(mgr(), MAP_TEXT);
	kprintf("\n== the same as CSV (make run draws it: build/map.png)\n");
	map_print(mgr(), MAP_CSV);
	tour_pressure();
	kprintf("\n== giving it back\n");
	step("VirtualFree(base, 64 KiB, MEM_DECOMMIT)",
	     IHostMemoryManager_VirtualFree(mgr(), base, 16 * P, MEM_DECOMMIT), S_OK);
	counters("decommitted");
	step("VirtualFree(base, 0, MEM_RELEASE)", IHostMemoryManager_VirtualFree(mgr(), base, 0, MEM_RELEASE), S_OK);
	step("VirtualFree(base, 0, MEM_RELEASE) again",
	     IHostMemoryManager_VirtualFree(mgr(), base, 0, MEM_RELEASE), HOST_E_INVALIDOPERATION);
	counters("released");
	kprintf("\ndemo: %s\n", misses ? "some steps did not do what the contract says" :
	                                 "every step did what the contract says");
	return misses;
}
