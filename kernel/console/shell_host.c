/*
 * The console's view of the rest of IHostMemoryManager (memory load,
 * notifications, the address-space notices, IHostMalloc) and of the
 * manager's extras (counters, verify), plus the tour and the way out.
 *
 * The console is a host in the interface's sense: it owns the IHostMalloc
 * objects it creates (one plain, one MALLOC_EXECUTABLE, made on first use)
 * and the ICLRMemoryNotificationCallback it registers.  A notification can
 * arrive in the middle of any call that changes the commit charge; the
 * callback only records it (the interface says it must not block), and the
 * shell prints what arrived once the command is done.
 */
#include "commands.h"
#include "shell.h"
#include "kernel/print.h"
#include "kernel/demo/demo.h"
#include "kernel/qemu.h"

static IHostMalloc *heaps[2];            /* [1]: MALLOC_EXECUTABLE */

/* The allocator for `exec` or not, created (and its creation shown) once. */
static IHostMalloc *heap(int exec)
{
	DWORD type = MALLOC_THREADSAFE | (exec ? MALLOC_EXECUTABLE : 0);
	HRESULT hr;

	if (heaps[exec])
		return heaps[exec];
	hr = IHostMemoryManager_CreateMalloc(shell_mgr(), type, &heaps[exec]);
	kprintf("CreateMalloc(MALLOC_THREADSAFE%s)", exec ? "|MALLOC_EXECUTABLE" : "");
	show_hr(hr);
	if (hr != S_OK)
		heaps[exec] = 0;
	return heaps[exec];
}

int cmd_malloc(int argc, char **argv)
{
	EMemoryCriticalLevel level = eTaskCritical;
	int exec = 0, debug = 0;
	uint64_t size;
	IHostMalloc *h;
	void *p = 0;
	HRESULT hr;

	if (argc < 2 || !arg_number(argv[1], &size))
		return CMD_USAGE;
	for (int i = 2; i < argc; i++) {
		if (word_is(argv[i], "exec"))
			exec = 1;
		else if (word_is(argv[i], "debug"))
			debug = 1;
		else if (!arg_level(argv[i], &level))
			return arg_refuse("\"%s\" is not exec, debug or a level (task appdomain process)",
			                  argv[i]), CMD_USAGE;
	}
	if (!(h = heap(exec)))
		return 0;
	if (debug)
		hr = IHostMalloc_DebugAlloc(h, size, level, "console", shell_lineno(), &p);
	else
		hr = IHostMalloc_Alloc(h, size, level, &p);
	if (debug)
		kprintf("IHostMalloc::DebugAlloc(0x%llx, %s, \"console\", %d)", (unsigned long long)size,
		        level_name(level), shell_lineno());
	else
		kprintf("IHostMalloc::Alloc(0x%llx, %s)", (unsigned long long)size, level_name(level));
	show_hr(hr);
	if (hr == S_OK) {
		shell_set_last((uint64_t)p);
		kprintf("  *ppMem = %p ($)\n", p);
	}
	return 0;
}

/* `exec` as the last word picks the executable allocator. */
static int wants_exec(int argc, char **argv, int first)
{
	return argc > first && word_is(argv[argc - 1], "exec");
}

int cmd_free(int argc, char **argv)
{
	uint64_t addr;
	IHostMalloc *h;
	char at[20];

	if (argc < 2 || argc > 3 || !arg_number(argv[1], &addr))
		return CMD_USAGE;
	if (argc == 3 && !wants_exec(argc, argv, 2))
		return arg_refuse("\"%s\" is not \"exec\"", argv[2]), CMD_USAGE;
	if (!(h = heap(wants_exec(argc, argv, 2))))
		return 0;
	kprintf("IHostMalloc::Free(%s)", addr_text(addr, at));
	show_hr(IHostMalloc_Free(h, (void *)addr));
	return 0;
}

static void show_leak(void *ctx, void *p, SIZE_T size, const char *file, int line)
{
	kprintf("  %p  %zu byte(s), DebugAlloc at %s:%d\n", p, size, file, line);
}

int cmd_leaks(int argc, char **argv)
{
	IHostMalloc *h;
	SIZE_T count = 0;
	HRESULT hr;

	if (argc > 2)
		return CMD_USAGE;
	if (argc == 2 && !wants_exec(argc, argv, 1))
		return arg_refuse("\"%s\" is not \"exec\"", argv[1]), CMD_USAGE;
	if (!(h = heap(wants_exec(argc, argv, 1))))
		return 0;
	hr = hostmem_malloc_leaks(h, 0, 0, &count);    /* the count first, the list after it */
	kprintf("hostmem_malloc_leaks");
	show_hr(hr);
	if (hr != S_OK)
		return 0;
	kprintf("  %zu debug block(s) not freed\n", count);
	hostmem_malloc_leaks(h, show_leak, 0, &count);
	return 0;
}

/* ------------------------------------------------------------ notifications */

#define PENDING 8

static EMemoryAvailable pending[PENDING];
static int npending, nlost;

static HRESULT cb_query(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppv)
{
	if (!ppv)
		return E_POINTER;
	if (!__builtin_memcmp(riid, &IID_IUnknown, sizeof(IID)) ||
	    !__builtin_memcmp(riid, &IID_ICLRMemoryNotificationCallback, sizeof(IID)))
		return *ppv = This, S_OK;
	*ppv = 0;
	return E_NOINTERFACE;
}

/* A static object: references are not counted. */
static ULONG cb_addref(ICLRMemoryNotificationCallback *This) { return 1; }
static ULONG cb_release(ICLRMemoryNotificationCallback *This) { return 1; }

static HRESULT cb_notify(ICLRMemoryNotificationCallback *This, EMemoryAvailable level)
{
	if (npending < PENDING)
		pending[npending++] = level;
	else
		nlost++;
	return S_OK;
}

static const ICLRMemoryNotificationCallbackVtbl cb_vtbl = {
	cb_query, cb_addref, cb_release, cb_notify,
};
static ICLRMemoryNotificationCallback callback = { &cb_vtbl };

void notify_flush(void)
{
	static const char *const names[] = { "?", "eMemoryAvailableLow", "eMemoryAvailableNeutral",
	                                     "eMemoryAvailableHigh" };

	for (int i = 0; i < npending; i++)
		kprintf("  notification: OnMemoryNotification(%s)\n",
		        pending[i] >= 1 && pending[i] <= 3 ? names[pending[i]] : names[0]);
	if (nlost)
		kprintf("  notification: %d more not shown\n", nlost);
	npending = nlost = 0;
}

int cmd_notify(int argc, char **argv)
{
	int off = argc == 2 && word_is(argv[1], "off");

	if (argc > 2)
		return CMD_USAGE;
	if (argc == 2 && !off)
		return arg_refuse("\"%s\" is not \"off\"", argv[1]), CMD_USAGE;
	kprintf("RegisterMemoryNotificationCallback(%s)", off ? "NULL" : "&console_callback");
	show_hr(IHostMemoryManager_RegisterMemoryNotificationCallback(shell_mgr(), off ? 0 : &callback));
	return 0;
}

/* ------------------------------------------------------------ address-space notices */

int cmd_vas(int argc, char **argv)
{
	IHostMemoryManager *m = shell_mgr();
	char at[20], size[40];
	uint64_t addr, len = 0;
	HRESULT hr;

	if (argc < 3 || argc > 4 || !arg_number(argv[2], &addr) ||
	    (argc == 4 && !arg_number(argv[3], &len)))
		return CMD_USAGE;
	if (word_is(argv[1], "need") && argc == 4)
		hr = IHostMemoryManager_NeedsVirtualAddressSpace(m, (void *)addr, len);
	else if (word_is(argv[1], "acquired") && argc == 4)
		hr = IHostMemoryManager_AcquiredVirtualAddressSpace(m, (void *)addr, len);
	else if (word_is(argv[1], "released") && argc == 3)
		hr = IHostMemoryManager_ReleasedVirtualAddressSpace(m, (void *)addr);
	else if (!word_is(argv[1], "need") && !word_is(argv[1], "acquired") && !word_is(argv[1], "released"))
		return arg_refuse("\"%s\" is not need, acquired or released", argv[1]), CMD_USAGE;
	else
		return CMD_USAGE;
	if (argc == 4)
		kprintf("%sVirtualAddressSpace(%s, %s)", word_is(argv[1], "need") ? "Needs" : "Acquired",
		        addr_text(addr, at), size_text(len, size));
	else
		kprintf("ReleasedVirtualAddressSpace(%s)", addr_text(addr, at));
	show_hr(hr);
	return 0;
}

/* ------------------------------------------------------------ counters and checks */

int cmd_load(int argc, char **argv)
{
	DWORD load = 0;
	SIZE_T avail = 0;
	char size[40];
	HRESULT hr;

	if (argc != 1)
		return CMD_USAGE;
	hr = IHostMemoryManager_GetMemoryLoad(shell_mgr(), &load, &avail);
	kprintf("GetMemoryLoad(&load, &available)");
	show_hr(hr);
	if (hr == S_OK)
		kprintf("  load %u %%, available %s\n", load, size_text(avail, size));
	return 0;
}

static void stat_line(const char *name, uint64_t pages, const char *what)
{
	kprintf("  %-17s %8llu pages %8llu KiB   %s\n", name, (unsigned long long)pages,
	        (unsigned long long)pages * 4, what);
}

int cmd_stats(int argc, char **argv)
{
	struct hostmem_stats st;
	HRESULT hr;

	if (argc != 1)
		return CMD_USAGE;
	hr = hostmem_get_stats(shell_mgr(), &st);
	kprintf("hostmem_get_stats");
	show_hr(hr);
	if (hr != S_OK)
		return 0;
	stat_line("frames usable", st.frames_usable, "physical frames the manager was given");
	stat_line("frames free", st.frames_free, "in the frame allocator");
	stat_line("frames zeroed", st.frames_zeroed, "free and known to be zero");
	stat_line("frames data", st.frames_data, "backing committed pages");
	stat_line("page tables", st.frames_tables, "page-table pages (the root excluded)");
	stat_line("  kept empty", st.frames_tables_kept, "emptied by decommits, kept for the next commit");
	stat_line("metadata", st.frames_meta, "hostmem's own");
	stat_line("commit charge", st.commit_charge, "committed pages");
	stat_line("commit untouched", st.commit_promised, "committed, no frame yet (promised)");
	stat_line("commit available", st.commit_available, "what a commit could still take");
	kprintf("  %-17s %8llu\n", "reservations", (unsigned long long)st.reservations);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	char why[192] = "";
	HRESULT hr;

	if (argc != 1)
		return CMD_USAGE;
	hr = hostmem_verify(shell_mgr(), why, sizeof(why));
	kprintf("hostmem_verify");
	show_hr(hr);
	kprintf("  %s\n", hr == S_OK ? "every structure and page table agrees" : why);
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	if (argc != 1)
		return CMD_USAGE;
	demo_run();
	return 0;
}

int cmd_quit(int argc, char **argv)
{
	if (argc != 1)
		return CMD_USAGE;
	kprintf("bye\n");
	qemu_exit(EXIT_PASS);
}
