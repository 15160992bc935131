/*
 * The console: read a line, split it into words, run the command it names.
 *
 * Input comes from the serial port through the line editor (lineedit.c):
 * keys typed on the terminal `make run` opened, or a script the runner feeds
 * once it has seen the first prompt (`make run SCRIPT=file`).  Either way the
 * output is the same transcript: prompt, the echoed line, the result.
 *
 * Words are separated by spaces; "a quoted string" is one word (quotes kept,
 * for `write`); `#` starts a comment.  A command that does not parse names
 * the word it refused and why (arg_why), then its usage; more words than the
 * usage line has are refused before the command runs; an unknown name gets the
 * nearest command's.  Each command runs inside a recovery point (recover.h), so even a
 * fault in the console's own code is reported and the console goes on; the
 * faults a person asks for (`read`, `write`, `exec`) have their own, closer
 * recovery points and are shown as results.
 */
#include "shell.h"
#include "commands.h"
#include "kernel/print.h"
#include "lineedit.h"
#include "kernel/qemu.h"

#define MAX_WORDS 16

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *example;
	const char *what;
};

/* A heading is an entry without a function. */
static const struct command commands[] = {
	{ "address space (VirtualAlloc, VirtualFree, VirtualProtect, VirtualQuery)", 0, 0, 0, 0 },
	{ "reserve",  cmd_reserve,  "SIZE [PROT] [FLAG..] [LEVEL] [at ADDR]", "reserve 1M rw topdown",
	  "VirtualAlloc MEM_RESERVE; FLAG: topdown watch large (or any MEM_ name or number)" },
	{ "alloc",    cmd_alloc,    "SIZE [PROT] [FLAG..] [LEVEL] [at ADDR]", "alloc 64K rw",
	  "VirtualAlloc MEM_RESERVE|MEM_COMMIT: reserve and commit in one call" },
	{ "commit",   cmd_commit,   "ADDR SIZE [PROT] [FLAG..] [LEVEL]", "commit $+64K 8K rw",
	  "VirtualAlloc MEM_COMMIT of pages inside a reservation (ADDR null: reserve too)" },
	{ "decommit", cmd_decommit, "ADDR [SIZE]", "decommit $ 8K",
	  "VirtualFree MEM_DECOMMIT (SIZE 0 at the base: the whole reservation)" },
	{ "release",  cmd_release,  "ADDR [SIZE]", "release $",
	  "VirtualFree MEM_RELEASE (SIZE must be 0, ADDR the base)" },
	{ "protect",  cmd_protect,  "ADDR SIZE PROT", "protect $+4K 4K rw+guard",
	  "VirtualProtect; shows the old protection" },
	{ "reset",    cmd_reset,    "ADDR SIZE [undo]", "reset $ 64K",
	  "VirtualAlloc MEM_RESET (the contents may go) or MEM_RESET_UNDO" },
	{ "query",    cmd_query,    "ADDR", "query $+4K",
	  "VirtualQuery: the MEMORY_BASIC_INFORMATION of the region around ADDR" },
	{ "map",      cmd_map,      "[text|json|csv]", "map csv",
	  "the address space like VMMap: regions under their reservations, committed and resident pages" },
	{ "watch",    cmd_watch,    "ADDR SIZE [reset|clear]", "watch $ 64K reset",
	  "GetWriteWatch (reset: WRITE_WATCH_FLAG_RESET); clear: ResetWriteWatch" },
	{ "memory access (a fault is caught and shown, as Windows SEH would)", 0, 0, 0, 0 },
	{ "read",     cmd_read,     "ADDR [SIZE]", "read $ 32",
	  "reads SIZE bytes (64, at most 4K) and dumps them" },
	{ "write",    cmd_write,    "ADDR HEX.. | \"TEXT\" | ret", "write $ \"hello\"",
	  "writes bytes (hex: de ad be ef), a string, or the CPU's return instruction" },
	{ "fill",     cmd_fill,     "ADDR SIZE [HEX]", "fill $ 64K 5a",
	  "writes SIZE bytes of one value (first touch: demand-zero faults)" },
	{ "exec",     cmd_exec,     "ADDR", "exec $",
	  "calls ADDR (an instruction fetch); runs only a ret there (write ADDR ret)" },
	{ "the rest of the interface, and the manager's extras", 0, 0, 0, 0 },
	{ "load",     cmd_load,     "", "load", "GetMemoryLoad: percent in use, bytes available" },
	{ "stats",    cmd_stats,    "", "stats",
	  "frames, commit charge, page tables, reservations (hostmem_get_stats)" },
	{ "verify",   cmd_verify,   "", "verify",
	  "hostmem_verify: cross-checks every structure and page table" },
	{ "malloc",   cmd_malloc,   "SIZE [exec] [debug] [LEVEL]", "malloc 100",
	  "IHostMalloc::Alloc (CreateMalloc on first use; debug: DebugAlloc)" },
	{ "free",     cmd_free,     "ADDR [exec]", "free $", "IHostMalloc::Free" },
	{ "leaks",    cmd_leaks,    "[exec]", "leaks", "DebugAlloc blocks not yet freed" },
	{ "notify",   cmd_notify,   "", "notify",
	  "RegisterMemoryNotificationCallback: memory levels are shown as they change" },
	{ "vas",      cmd_vas,      "need|acquired|released ADDR [SIZE]", "vas need 0x40000000 1M",
	  "Needs/Acquired/ReleasedVirtualAddressSpace" },
	{ "the console", 0, 0, 0, 0 },
	{ "demo",     cmd_demo,     "", "demo", "the scripted tour of the contract" },
	{ "help",     0,            "[COMMAND]", "help protect", "this list, or one command" },
	{ "quit",     cmd_quit,     "", "quit", "leaves QEMU (so does Ctrl-D)" },
};

#define NCOMMANDS (int)(sizeof(commands) / sizeof(commands[0]))

static const struct command *find(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (commands[i].args && word_is(name, commands[i].name))
			return &commands[i];
	return 0;
}

static void usage(const struct command *c)
{
	kprintf("usage: %s %s\n  %s\n  e.g. %s\n", c->name, c->args, c->what, c->example);
}

/* A command refused its arguments: the word and why, if it said, else the usage. */
static void refused(const struct command *c)
{
	if (!*arg_why()) {
		usage(c);
		return;
	}
	kprintf("%s: %s\n", c->name, arg_why());
	kprintf("usage: %s%s%s   (`help %s`: more)\n", c->name, *c->args ? " " : "", c->args, c->name);
}

/* The most words after the name c takes: one per word of its usage line;
 * FLAG.. or HEX.. means any number. */
static int max_words(const struct command *c)
{
	const char *a = c->args;
	int n = 0;

	for (;;) {
		while (*a == ' ')
			a++;
		if (!*a)
			return n;
		for (n++; *a && *a != ' '; a++)
			if (a[0] == '.' && a[1] == '.')
				return MAX_WORDS;
	}
}

/* More words than c takes: refused before it runs, naming the first extra. */
static int too_many(const struct command *c, int argc, char **argv)
{
	int max = max_words(c), extra = argc - 1 - max;

	if (extra <= 0)
		return 0;
	if (extra == 1)
		arg_refuse("\"%s\" is one word too many", argv[max + 1]);
	else
		arg_refuse("\"%s\" and the %d after it are too many words", argv[max + 1], extra - 1);
	refused(c);
	return 1;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c; }

/* Edits (insert, delete, change a letter) from a to b, case ignored; only the
 * first 31 letters of each count. */
static int distance(const char *a, const char *b)
{
	int row[32], nb = 0;

	while (b[nb] && nb < 31)
		nb++;
	for (int j = 0; j <= nb; j++)
		row[j] = j;
	for (int i = 0; a[i] && i < 31; i++) {
		int diag = row[0];

		row[0] = i + 1;
		for (int j = 1; j <= nb; j++) {
			int up = row[j], best = diag + (lower(a[i]) != lower(b[j - 1]));

			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
			row[j] = best;
		}
	}
	return row[nb];
}

static int word_length(const char *w)
{
	int n = 0;

	while (w[n])
		n++;
	return n;
}

/* The command whose name is the fewest edits from name, if it is near: at
 * most 3 edits ("touch" -> "watch"), or fewer than half the longer word's
 * letters; "frobnicate" (6 from "protect") is like no command. */
static const char *nearest(const char *name)
{
	const char *best = 0;
	int bestd = 1 << 30, bestlen = 0, len = word_length(name);

	for (int i = 0; i < NCOMMANDS; i++) {
		int d;

		if (!commands[i].args || (d = distance(name, commands[i].name)) >= bestd)
			continue;
		bestd = d;
		best = commands[i].name;
		bestlen = word_length(best);
	}
	return best && (bestd <= 3 || 2 * bestd < (len > bestlen ? len : bestlen)) ? best : 0;
}

/* "unknown command "x"" or "help: there is no command "x"", then the
 * nearest command when there is one near enough. */
static void no_such_command(const char *what, const char *name)
{
	const char *near = nearest(name);

	kprintf("%s \"%s\"", what, name);
	if (near)
		kprintf("; the nearest is \"%s\"", near);
	kprintf(" (`help` lists them all)\n");
}

static void help(int argc, char **argv)
{
	const struct command *c = argc > 1 ? find(argv[1]) : 0;

	if (c) {
		usage(c);
		return;
	}
	if (argc > 1) {
		no_such_command("help: there is no command", argv[1]);
		return;
	}
	kprintf("SIZE: 4096, 0x1000, 64K, 1M, 2G, 1T.  ADDR: 0x10000, $ (the last base a command\n"
	        "returned), $+8K.  PROT: rw ro rx rwx x noaccess, +guard +nocache +wcomb, any\n"
	        "PAGE_ name or a number.  LEVEL: task appdomain process.  help COMMAND: more.\n");
	for (int i = 0; i < NCOMMANDS; i++) {
		c = &commands[i];
		if (!c->args) {
			kprintf("%s\n", c->name);
			continue;
		}
		kprintf("  %-8s %-38s e.g. %s\n", c->name, c->args, c->example);
	}
}

/* Splits line in place; returns the number of words, or -1 with why. */
static int split(char *s, char **argv, const char **why)
{
	int argc = 0;

	for (;;) {
		while (*s == ' ')
			s++;
		if (!*s || *s == '#')
			return argc;
		if (argc == MAX_WORDS)
			return *why = "too many words", -1;
		argv[argc++] = s;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				;
			if (!*s)
				return *why = "a quote is not closed", -1;
		}
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

struct invocation {
	const struct command *c;
	int argc;
	char **argv;
};

static void invoke(void *arg)
{
	struct invocation *v = arg;

	if (v->c->run(v->argc, v->argv) == CMD_USAGE)
		refused(v->c);
}

static void execute(char *line)
{
	char *argv[MAX_WORDS];
	const char *why = 0;
	struct invocation v;
	struct fault_info fi;
	uint32_t code;
	int argc = split(line, argv, &why);

	if (argc <= 0) {
		if (argc < 0)
			kprintf("%s\n", why);
		return;
	}
	v = (struct invocation){ find(argv[0]), argc, argv };
	arg_forget();
	if (!v.c) {
		no_such_command("unknown command", argv[0]);
	} else if (too_many(v.c, argc, argv)) {
		;
	} else if (!v.c->run) {
		help(argc, argv);
	} else if ((code = try_call(invoke, &v, &fi)) != 0) {
		kprintf("%s faulted outside the accesses it checks (a bug)", v.c->name);
		show_fault(code, &fi);
	}
	notify_flush();
}

/* A manager that became unusable answers every call with
 * HOST_E_CLRNOTAVAILABLE: the prompt keeps saying so, after the one message. */
static const char *prompt(void)
{
	struct hostmem_stats st;

	return hostmem_get_stats(shell_mgr(), &st) == HOST_E_CLRNOTAVAILABLE ? "hm(unusable)> " : "hm> ";
}

void shell_run(void)
{
	char line[LINEEDIT_MAX];

	kprintf("\nhostmem console: the contract on the real MMU, one call per line.\n"
	        "`help` lists the commands; `quit` or Ctrl-D leaves QEMU.\n");
	for (;;) {
		shell_next_line();
		if (lineedit_read(prompt(), line, sizeof(line)) < 0) {
			kprintf("end of input\n");
			qemu_exit(EXIT_PASS);
		}
		execute(line);
	}
}
