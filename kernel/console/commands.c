/*
 * The console's address-space commands.  Each makes one call and prints it
 * as a program would have written it, then what came back:
 *
 *     VirtualAlloc(NULL, 0x10000 (64 KiB), MEM_COMMIT|MEM_RESERVE, PAGE_READWRITE) -> S_OK (0x00000000)
 *       *ppMem = 0x0000000000010000 ($)
 *
 * so a session reads as the program a person would write, and every failure
 * shows the HRESULT the contract gives for it.  Arguments are passed on as
 * typed: the console never second-guesses the manager.
 */
#include "commands.h"
#include "shell.h"
#include "kernel/print.h"
#include "names.h"
#include "hostmem/format.h"

struct alloc_args {
	uint64_t addr, size;
	DWORD type, prot;
	EMemoryCriticalLevel level;
};

/* A word after the size that is none of what may stand there.  In the
 * protection's place, the protection's own reason, then what else it could be. */
static int refuse_tail(const char *word, int prot_place)
{
	char list[160], flag[200], reason[320];
	DWORD prot;

	names_words(memtype_names, memtype_names_count, list, sizeof(list));
	hm_snprintf(flag, sizeof(flag), "a flag (%s, or MEM_* names) or a level "
	            "(task appdomain process)", list);
	if (!prot_place)
		return arg_refuse("\"%s\" is not %s", word, flag);
	arg_protect(word, &prot);
	hm_snprintf(reason, sizeof(reason), "%s", arg_why());
	return arg_refuse("%s\n  nor %s", reason, flag);
}

/* The words after the size: [PROT] [FLAG..] [LEVEL] [at ADDR], in argv[i..]. */
static int alloc_tail(int argc, char **argv, int i, struct alloc_args *a)
{
	int prot_at = i;

	for (; i < argc; i++) {
		if (word_is(argv[i], "at")) {
			if (++i == argc)
				return arg_refuse("\"at\" needs an address after it");
			if (!arg_number(argv[i], &a->addr))
				return 0;
		} else if (i == prot_at && arg_protect(argv[i], &a->prot)) {
			continue;
		} else if (!arg_level(argv[i], &a->level) && !arg_memflag(argv[i], &a->type)) {
			return refuse_tail(argv[i], i == prot_at);
		}
	}
	return 1;
}

/* Why a commit was refused for lack of memory: more than is available, or
 * the critical level's reserve (pressure.c's watermarks) would be broken. */
static void explain_refusal(const struct alloc_args *a)
{
	uint64_t avail, reserve, want = (a->size + HM_PAGE_SIZE - 1) / HM_PAGE_SIZE * HM_PAGE_SIZE;
	struct hostmem_stats st;
	char b1[24], b2[24], b3[24];

	if (hostmem_get_stats(shell_mgr(), &st) != S_OK) {   /* a process-critical refusal */
		kprintf("  the manager is now unusable: a process-critical commit failed, so every "
		        "later call returns HOST_E_CLRNOTAVAILABLE; quit and run again to start over\n");
		return;
	}
	avail = st.commit_available * HM_PAGE_SIZE;
	reserve = (a->level == eTaskCritical ? st.reserve_task :
	           a->level == eAppDomainCritical ? st.reserve_appdomain : 0) * HM_PAGE_SIZE;
	if (want > avail)
		kprintf("  refused: %s is more than the %s available for commit\n",
		        amount(want, b1), amount(avail, b2));
	else
		kprintf("  refused: would leave less than the %s reserve of %s; available %s "
		        "(%s asked)\n", a->level == eTaskCritical ? "task-critical" : "app-domain-critical",
		        amount(reserve, b1), amount(avail, b2),
		        amount(want, b3));
}

/* A new reservation's base becomes `$`. */
static void valloc(const struct alloc_args *a)
{
	char at[20], size[40], type[160], prot[96], b1[24], b2[24];
	void *p = 0;
	HRESULT hr;

	hr = IHostMemoryManager_VirtualAlloc(shell_mgr(), (void *)a->addr, a->size, a->type,
	                                     a->prot, a->level, &p);
	kprintf("VirtualAlloc(%s, %s, %s, %s%s%s)", addr_text(a->addr, at), size_text(a->size, size),
	        memtype_name(a->type, type, sizeof(type)), protect_name(a->prot, prot, sizeof(prot)),
	        a->level ? ", " : "", a->level ? level_name(a->level) : "");
	show_hr(hr);
	if (hr != S_OK && a->size > HM_USER_LIMIT - HM_USER_MIN)
		kprintf("  %s is more than the whole address space (%s)\n", amount(a->size, b1),
		        amount(HM_USER_LIMIT - HM_USER_MIN, b2));
	else if (hr == E_OUTOFMEMORY && (a->type & MEM_COMMIT))
		explain_refusal(a);
	if (hr != S_OK)
		return;
	if ((a->type & MEM_RESERVE) || !a->addr) {
		shell_set_last((uint64_t)p);
		kprintf("  *ppMem = %p ($)\n", p);
	} else {
		kprintf("  *ppMem = %p\n", p);
	}
}

/* reserve and alloc: SIZE first, the address only with `at`. */
static int reserve_or_alloc(int argc, char **argv, DWORD type)
{
	struct alloc_args a = { .type = type, .prot = PAGE_READWRITE };

	if (argc < 2 || !arg_number(argv[1], &a.size) || !alloc_tail(argc, argv, 2, &a))
		return CMD_USAGE;
	valloc(&a);
	return 0;
}

int cmd_reserve(int argc, char **argv) { return reserve_or_alloc(argc, argv, MEM_RESERVE); }
int cmd_alloc(int argc, char **argv) { return reserve_or_alloc(argc, argv, MEM_RESERVE | MEM_COMMIT); }

int cmd_commit(int argc, char **argv)
{
	struct alloc_args a = { .type = MEM_COMMIT, .prot = PAGE_READWRITE };

	if (argc < 3 || !arg_number(argv[1], &a.addr) || !arg_number(argv[2], &a.size) ||
	    !alloc_tail(argc, argv, 3, &a))
		return CMD_USAGE;
	valloc(&a);
	return 0;
}

int cmd_reset(int argc, char **argv)
{
	/* The protection is ignored but must be valid: PAGE_NOACCESS, as Win32 suggests. */
	struct alloc_args a = { .type = MEM_RESET, .prot = PAGE_NOACCESS };

	if (argc < 3 || argc > 4 || !arg_number(argv[1], &a.addr) || !arg_number(argv[2], &a.size))
		return CMD_USAGE;
	if (argc == 4 && !word_is(argv[3], "undo"))
		return arg_refuse("\"%s\" is not \"undo\"", argv[3]), CMD_USAGE;
	if (argc == 4)
		a.type = MEM_RESET_UNDO;
	valloc(&a);
	return 0;
}

static int vfree(int argc, char **argv, DWORD type)
{
	char at[20], size[40], name[32];
	uint64_t addr, len = 0;

	if (argc < 2 || argc > 3 || !arg_number(argv[1], &addr) ||
	    (argc == 3 && !arg_number(argv[2], &len)))
		return CMD_USAGE;
	kprintf("VirtualFree(%s, %s, %s)", addr_text(addr, at), size_text(len, size),
	        memtype_name(type, name, sizeof(name)));
	show_hr(IHostMemoryManager_VirtualFree(shell_mgr(), (void *)addr, len, type));
	return 0;
}

int cmd_decommit(int argc, char **argv) { return vfree(argc, argv, MEM_DECOMMIT); }
int cmd_release(int argc, char **argv) { return vfree(argc, argv, MEM_RELEASE); }

int cmd_protect(int argc, char **argv)
{
	char at[20], size[40], prot[96];
	uint64_t addr, len;
	DWORD new, old = 0;
	HRESULT hr;

	if (argc != 4 || !arg_number(argv[1], &addr) || !arg_number(argv[2], &len) ||
	    !arg_protect(argv[3], &new))
		return CMD_USAGE;
	hr = IHostMemoryManager_VirtualProtect(shell_mgr(), (void *)addr, len, new, &old);
	kprintf("VirtualProtect(%s, %s, %s)", addr_text(addr, at), size_text(len, size),
	        protect_name(new, prot, sizeof(prot)));
	show_hr(hr);
	if (hr == S_OK)
		kprintf("  *pflOldProtect = %s\n", protect_name(old, prot, sizeof(prot)));
	return 0;
}

static void show_mbi(const MEMORY_BASIC_INFORMATION *m)
{
	char buf[96], size[40];

	kprintf("  BaseAddress       %p\n", m->BaseAddress);
	kprintf("  AllocationBase    %p\n", m->AllocationBase);
	kprintf("  AllocationProtect %s\n", protect_name(m->AllocationProtect, buf, sizeof(buf)));
	kprintf("  RegionSize        %s\n", size_text(m->RegionSize, size));
	kprintf("  State             %s\n", state_name(m->State));
	kprintf("  Protect           %s\n", protect_name(m->Protect, buf, sizeof(buf)));
	kprintf("  Type              %s\n", memtype_name(m->Type, buf, sizeof(buf)));
}

int cmd_query(int argc, char **argv)
{
	MEMORY_BASIC_INFORMATION m;
	char at[20];
	uint64_t addr;
	SIZE_T n = 0;
	HRESULT hr;

	if (argc != 2 || !arg_number(argv[1], &addr))
		return CMD_USAGE;
	hr = IHostMemoryManager_VirtualQuery(shell_mgr(), (void *)addr, &m, sizeof(m), &n);
	kprintf("VirtualQuery(%s, &mbi, %zu)", addr_text(addr, at), sizeof(m));
	show_hr(hr);
	if (hr == S_OK)
		show_mbi(&m);
	return 0;
}

#define WATCH_MAX 32

static void show_pages(void **pages, ULONG_PTR count)
{
	for (ULONG_PTR i = 0; i < count; i++)
		kprintf("%s%p%s", i % 4 ? " " : "  ", pages[i], i % 4 == 3 || i + 1 == count ? "\n" : "");
	if (count == WATCH_MAX)
		kprintf("  (the first %d)\n", WATCH_MAX);
}

int cmd_watch(int argc, char **argv)
{
	void *pages[WATCH_MAX];
	ULONG_PTR count = WATCH_MAX;
	DWORD gran = 0, flags = 0;
	char at[20], size[40];
	uint64_t addr, len;
	HRESULT hr;

	if (argc < 3 || argc > 4 || !arg_number(argv[1], &addr) || !arg_number(argv[2], &len))
		return CMD_USAGE;
	if (argc == 4 && word_is(argv[3], "clear")) {
		kprintf("ResetWriteWatch(%s, %s)", addr_text(addr, at), size_text(len, size));
		show_hr(hostmem_reset_write_watch(shell_mgr(), (void *)addr, len));
		return 0;
	}
	if (argc == 4 && !word_is(argv[3], "reset"))
		return arg_refuse("\"%s\" is neither \"reset\" nor \"clear\"", argv[3]), CMD_USAGE;
	flags = argc == 4 ? WRITE_WATCH_FLAG_RESET : 0;
	hr = hostmem_get_write_watch(shell_mgr(), flags, (void *)addr, len, pages, &count, &gran);
	kprintf("GetWriteWatch(%s, %s, %s, pages, &count = %d)", flags ? "WRITE_WATCH_FLAG_RESET" : "0",
	        addr_text(addr, at), size_text(len, size), WATCH_MAX);
	show_hr(hr);
	if (hr != S_OK)
		return 0;
	kprintf("  %llu page(s) written, granularity %u\n", (unsigned long long)count, gran);
	show_pages(pages, count);
	return 0;
}
