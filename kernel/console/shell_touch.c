/*
 * Touching memory from the console: the accesses a program would make, each
 * inside a recovery point (recover.h), so a fault the contract says must
 * happen is caught and shown, and the console goes on.
 *
 * Bytes are moved one at a time through volatile pointers: when an access
 * faults, the fault address says exactly how far it got, and everything
 * before it has really been read or written (as on Windows: a program that
 * catches the exception sees the bytes it had already stored).
 *
 * Only the lower half is open to these commands: it is the managed address
 * space, where every fault means something in the contract.  The upper half
 * is the kernel, and a stray write there would not be an experiment.
 */
#include "commands.h"
#include "shell.h"
#include "kernel/print.h"
#include "names.h"
#include "machine.h"

#define LOWER_HALF_END 0x0000800000000000ull
#define READ_MAX  4096
#define WRITE_MAX 128
/* The CPU's return instruction (x86-64 c3; AArch64 c0 03 5f d6): what
 * `write ADDR ret` puts there, and what exec wants to find. */
static const uint8_t ret_insn[] = ARCH_RET_BYTES;

struct copy {
	volatile uint8_t *dst;
	const volatile uint8_t *src;
	uint64_t n;
	uint8_t fill;
	int filling;
};

static void do_copy(void *arg)
{
	struct copy *c = arg;

	for (uint64_t i = 0; i < c->n; i++)
		c->dst[i] = c->filling ? c->fill : c->src[i];
}

static int lower_half(uint64_t addr, uint64_t size)
{
	if (addr < LOWER_HALF_END && size <= LOWER_HALF_END - addr)
		return 1;
	kprintf("only the lower half [0, 0x%llx) is the managed address space; the rest is the kernel's\n",
	        LOWER_HALF_END);
	return 0;
}

/* Runs the copy; returns how many bytes of `managed` it got through. */
static uint64_t touch(struct copy *c, uint64_t managed, const char *verb, uint64_t addr)
{
	struct fault_info fi;
	char at[20];
	uint32_t code = try_call(do_copy, c, &fi);

	kprintf("%s %llu byte(s) at %s", verb, (unsigned long long)c->n, addr_text(addr, at));
	show_fault(code, &fi);
	if (!code)
		return c->n;
	return fi.addr >= managed && fi.addr - managed < c->n ? fi.addr - managed : 0;
}

static void dump(const uint8_t *p, uint64_t addr, uint64_t n)
{
	for (uint64_t row = 0; row < n; row += 16) {
		kprintf("  %p ", (void *)(addr + row));
		for (uint64_t i = row; i < row + 16; i++) {
			if (i < n)
				kprintf(" %02x", p[i]);
			else
				kprintf("   ");
		}
		kprintf("  |");
		for (uint64_t i = row; i < row + 16 && i < n; i++)
			kprintf("%c", p[i] >= 0x20 && p[i] < 0x7F ? p[i] : '.');
		kprintf("|\n");
	}
}

int cmd_read(int argc, char **argv)
{
	static uint8_t buf[READ_MAX];
	uint64_t addr, n = 64, got;

	if (argc < 2 || argc > 3 || !arg_number(argv[1], &addr) ||
	    (argc == 3 && !arg_number(argv[2], &n)))
		return CMD_USAGE;
	if (n == 0 || n > READ_MAX)
		return arg_refuse("\"%s\": read shows 1 to %d bytes", argv[2], READ_MAX), CMD_USAGE;
	if (!lower_half(addr, n))
		return 0;
	got = touch(&(struct copy){ .dst = buf, .src = (const uint8_t *)addr, .n = n }, addr, "read", addr);
	if (got < n && got)
		kprintf("  the %llu byte(s) read before the fault:\n", (unsigned long long)got);
	dump(buf, addr, got);
	return 0;
}

/* One byte in hex, with or without 0x: "c3", "0xC3". */
static int arg_byte(const char *word, uint8_t *out)
{
	const char *s = word;
	uint64_t v;
	char hex[24] = "0x";
	size_t i = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s[i] && i < 2; i++)
		hex[2 + i] = s[i];
	if (i == 0 || s[i] || !arg_number(hex, &v) || v > 0xFF)
		return arg_refuse("\"%s\" is not a byte in hex (00 to ff)", word);
	*out = (uint8_t)v;
	return 1;
}

/* The bytes of argv[2..]: hex bytes, one "quoted string", or `ret`. */
static int write_bytes(int argc, char **argv, uint8_t *out, uint64_t *n)
{
	const char *s = argv[2];

	*n = 0;
	if (argc == 3 && s[0] == 'r' && s[1] == 'e' && s[2] == 't' && !s[3]) {
		for (; *n < sizeof(ret_insn); (*n)++)
			out[*n] = ret_insn[*n];
		return 1;
	}
	if (argc == 3 && s[0] == '"') {
		for (s++; *s && *s != '"' && *n < WRITE_MAX; s++)
			out[(*n)++] = (uint8_t)*s;
		if (*n == 0)
			return arg_refuse("the string is empty: nothing to write");
		return *s == '"' ? 1 : arg_refuse("the string is longer than %d bytes", WRITE_MAX);
	}
	for (int i = 2; i < argc; i++)
		if (!arg_byte(argv[i], &out[(*n)++]))
			return 0;
	return 1;
}

int cmd_write(int argc, char **argv)
{
	uint8_t bytes[WRITE_MAX];
	uint64_t addr, n;

	uint64_t done;

	if (argc < 3 || !arg_number(argv[1], &addr) || !write_bytes(argc, argv, bytes, &n))
		return CMD_USAGE;
	if (!lower_half(addr, n))
		return 0;
	done = touch(&(struct copy){ .dst = (uint8_t *)addr, .src = bytes, .n = n }, addr, "write", addr);
	if (done)   /* what was written may be run next (exec): fetchable now */
		arch_sync_icache(addr, done);
	return 0;
}

int cmd_fill(int argc, char **argv)
{
	uint64_t addr, n;
	uint8_t v = 0x5A;

	if (argc < 3 || argc > 4 || !arg_number(argv[1], &addr) || !arg_number(argv[2], &n) ||
	    (argc == 4 && !arg_byte(argv[3], &v)))
		return CMD_USAGE;
	if (n == 0)
		return arg_refuse("\"%s\": fill needs at least 1 byte", argv[2]), CMD_USAGE;
	if (lower_half(addr, n))
		touch(&(struct copy){ .dst = (uint8_t *)addr, .n = n, .fill = v, .filling = 1 },
		      addr, "fill", addr);
	return 0;
}

static void do_exec(void *arg)
{
	((void (*)(void))arg)();
}

/*
 * A fetch the contract forbids faults before anything runs.  One it allows
 * runs whatever is there, so then it must be the CPU's ret: zeros would
 * run on through memory (x86-64: as `add %al,(%rax)`).
 */
static int exec_is_safe(uint64_t addr)
{
	MEMORY_BASIC_INFORMATION m;
	SIZE_T n;
	uint8_t b[sizeof(ret_insn)] = { 0 };
	size_t same = 0;
	const DWORD x = PAGE_EXECUTE | PAGE_EXECUTE_READ | PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY;

	if (IHostMemoryManager_VirtualQuery(shell_mgr(), (void *)addr, &m, sizeof(m), &n) != S_OK ||
	    m.State != MEM_COMMIT || !(m.Protect & x) || (m.Protect & PAGE_GUARD))
		return 1;
	while (same < sizeof(b) && try_read((const uint8_t *)addr + same, &b[same], 0) == 0 &&
	       b[same] == ret_insn[same])
		same++;
	if (same == sizeof(b))
		return 1;
	kprintf("exec: %p may be executed and holds 0x%02x, not a ret: it would run on;\n"
	        "  `write %p ret` first\n", (void *)addr, b[0], (void *)addr);
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	struct fault_info fi;
	uint64_t addr;
	char at[20];

	if (argc != 2 || !arg_number(argv[1], &addr))
		return CMD_USAGE;
	if (!lower_half(addr, 1) || !exec_is_safe(addr))
		return 0;
	kprintf("call %s", addr_text(addr, at));
	show_fault(try_call(do_exec, (void *)addr, &fi), &fi);
	return 0;
}
