/*
 * The console's words: how a typed argument becomes a number, a protection
 * or an allocation flag, and how a result is shown; and the state the words
 * refer to (what `$` stands for, the number of the line).
 *
 * Only syntax is checked here.  Whether a protection or a flag mix is valid
 * is the contract's business, so `alloc 64K rw+rx` reaches VirtualAlloc and
 * comes back E_INVALIDARG, exactly as a program's call would.
 *
 * Numbers are unsigned 64-bit; one that overflows is not a number.  A word
 * that is refused leaves the reason behind (arg_why): which word, and what
 * was expected instead, so a person fixes the word rather than rereading the
 * usage line.
 */
#include <stdarg.h>
#include "shell.h"
#include "kernel/print.h"
#include "kernel/memory.h"
#include "names.h"
#include "trap.h"
#include "hostmem/format.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t last;
static int have_last;      /* `$` means nothing until a command returned a base */
static char why[320];
static int lineno;

void shell_set_last(uint64_t addr) { last = addr; have_last = 1; }
int shell_lineno(void) { return lineno; }
void shell_next_line(void) { lineno++; }

int arg_refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hm_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return 0;
}

const char *arg_why(void) { return why; }
void arg_forget(void) { why[0] = '\0'; }

/* Takes the word: the reason of an earlier try at it no longer applies. */
static int taken(void)
{
	arg_forget();
	return 1;
}
IHostMemoryManager *shell_mgr(void) { return kernel_memory_manager(); }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c; }

/* s[0..n) equals w[0..wn), ignoring case. */
static int spans_equal(const char *s, size_t n, const char *w, size_t wn)
{
	if (n != wn)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != lower(w[i]))
			return 0;
	return 1;
}

/* s[0..n) equals word; s may be shorter than n (it stops at a mismatch). */
static int span_is(const char *s, size_t n, const char *word)
{
	size_t i = 0;

	for (; i < n && word[i]; i++)
		if (lower(s[i]) != lower(word[i]))
			return 0;
	return i == n && !word[i];
}

int word_is(const char *s, const char *word)
{
	size_t n = 0;

	while (s[n])
		n++;
	return span_is(s, n, word);
}

/* s[0..n) names an entry of the table: its Windows name or a short one. */
static int lookup(const struct named *t, size_t count, const char *s, size_t n, DWORD *out)
{
	for (size_t i = 0; i < count; i++) {
		const char *w = t[i].words;

		if (span_is(s, n, t[i].win32))
			return *out = t[i].value, 1;
		while (*w) {
			size_t len = 0;

			while (w[len] && w[len] != ' ')
				len++;
			if (spans_equal(s, n, w, len))
				return *out = t[i].value, 1;
			w += len + (w[len] == ' ');
		}
	}
	return 0;
}

/* The value of digit c in base, or -1. */
static int digit(char c, unsigned base)
{
	int d = 99;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (lower(c) >= 'a' && lower(c) <= 'f')
		d = lower(c) - 'a' + 10;
	return d < (int)base ? d : -1;
}

/* Decimal, or hex after 0x; advances *sp.  0 when there are no digits or the
 * value does not fit in 64 bits (*sp then stops at the digit that overflowed). */
static int scan_uint(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	unsigned base = 10;
	uint64_t v = 0;
	int d, n = 0;

	if (s[0] == '0' && lower(s[1]) == 'x') {
		base = 16;
		s += 2;
	}
	for (; (d = digit(*s, base)) >= 0; s++, n++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			*sp = s;
			return 0;
		}
		v = v * base + (uint64_t)d;
	}
	*sp = s;
	*out = v;
	return n > 0;
}

/* The shift of a unit letter (K M G T), or 0. */
static unsigned unit_shift(char c)
{
	switch (lower(c)) {
	case 'k': return 10;
	case 'm': return 20;
	case 'g': return 30;
	case 't': return 40;
	default:  return 0;
	}
}

/* "1.5M" -> ": 1536K": the same size as a whole number of the next smaller
 * unit, into buf; "" when there is none (0.1M is not a whole number of K). */
static const char *whole_hint(const char *s, char buf[32])
{
	static const char *const smaller[] = { "", "K", "M", "G" };
	uint64_t num = 0, den = 1;
	unsigned shift;

	buf[0] = '\0';
	for (; *s >= '0' && *s <= '9' && num < 1000000; s++)
		num = num * 10 + (uint64_t)(*s - '0');
	if (*s++ != '.')
		return buf;
	for (; *s >= '0' && *s <= '9' && den < 1000000; s++, den *= 10)
		num = num * 10 + (uint64_t)(*s - '0');
	shift = unit_shift(*s);
	if (shift && (num << 10) % den == 0)
		hm_snprintf(buf, 32, ": %llu%s", (unsigned long long)((num << 10) / den),
		            smaller[shift / 10 - 1]);
	return buf;
}

static int is_letter(char c) { return lower(c) >= 'a' && lower(c) <= 'z'; }

/* Why the term at t, in the number word, is not one. */
static int refuse_term(const char *word, const char *t)
{
	const char *p = t;
	char hint[32];
	unsigned shift;
	uint64_t v;

	if (*t == '$' && !have_last)
		return arg_refuse("\"%s\": $ stands for the last base a command returned, "
		                  "and none has yet", word);
	if (*t == '-')
		return arg_refuse("\"%s\" is negative: a size or an address is 0 or more", word);
	if (digit(*t, 10) >= 0) {
		if (!scan_uint(&p, &v))
			return digit(*p, 16) >= 0 ? arg_refuse("\"%s\" is more than 64 bits hold", word) :
			       arg_refuse("\"%s\" is not a number: no hex digits after 0x", word);
		if (*p == '.')
			return arg_refuse("\"%s\" is not a whole number%s", word, whole_hint(t, hint));
		if ((shift = unit_shift(*p)) != 0 && v > UINT64_MAX >> shift)
			return arg_refuse("\"%s\" is more than 64 bits hold", word);
		if (!shift && is_letter(*p))
			return arg_refuse("\"%s\": \"%c\" is not a unit (K M G T)", word, *p);
	}
	return arg_refuse("\"%s\" is not a number (e.g. 4096, 0x1000, 64K, 1M, $+8K)", word);
}

/* One term of a number: `$`, `null`, or digits with K/M/G/T (KB, KiB too). */
static int scan_term(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	unsigned shift;

	if (*s == '$' && have_last) {
		*out = last;
		*sp = s + 1;
		return 1;
	}
	if (span_is(s, 4, "null") && !is_letter(s[4])) {
		*out = 0;
		*sp = s + 4;
		return 1;
	}
	if (*s == '$' || !scan_uint(&s, out))
		return 0;
	if ((shift = unit_shift(*s)) != 0) {
		s++;
		s += span_is(s, 2, "ib") ? 2 : lower(*s) == 'b';
		if (*out > UINT64_MAX >> shift)
			return 0;
		*out <<= shift;
	}
	*sp = s;
	return 1;
}

int arg_number(const char *s, uint64_t *out)
{
	const char *p = s, *term = s;
	uint64_t v, t;
	char op;

	if (!scan_term(&p, &v))
		return refuse_term(s, term);
	while (*p == '+' || *p == '-') {
		op = *p++;
		term = p;
		if (!scan_term(&p, &t))
			return refuse_term(s, term);
		if (op == '+' ? v > UINT64_MAX - t : t > v)
			return arg_refuse("\"%s\" %s", s, op == '+' ? "is more than 64 bits hold" :
			                                          "goes below 0");
		v = op == '+' ? v + t : v - t;
	}
	if (*p)
		return refuse_term(s, term);
	*out = v;
	return taken();
}

/* s[0..n) is a whole number. */
static int span_number(const char *s, size_t n, uint64_t *out)
{
	const char *p = s;

	return scan_uint(&p, out) && p == s + n && *out <= 0xFFFFFFFFu;
}

/* What a word of a table was meant to be, for the reason it was refused. */
struct vocabulary {
	const struct named *t;
	size_t count;
	const char *noun;        /* "protection" */
	const char *prefix;      /* "PAGE_" */
};

static int refuse_part(const char *word, const char *part, size_t n, const struct vocabulary *v)
{
	char list[160], text[40], bad[48] = "";
	size_t i;

	names_words(v->t, v->count, list, sizeof(list));
	for (i = 0; i < n && i + 1 < sizeof(text); i++)
		text[i] = part[i];
	text[i] = '\0';
	if (part != word || word[n])         /* one part of rw+purple: name that part */
		hm_snprintf(bad, sizeof(bad), "\"%s\" in ", text);
	return arg_refuse("%s\"%s\" is not a %s (one of: %s; joined by +, or %s* names or a number)",
	                  bad, word, v->noun, list, v->prefix);
}

/* Parts joined by + or |, each a name in the table or a number, ORed. */
static int parse_bits(const struct vocabulary *voc, const char *word, DWORD *out)
{
	const char *s = word;
	DWORD v = 0, part;
	uint64_t num;

	for (;;) {
		size_t n = 0;

		while (s[n] && s[n] != '+' && s[n] != '|')
			n++;
		if (span_number(s, n, &num))
			part = (DWORD)num;
		else if (!lookup(voc->t, voc->count, s, n, &part))
			return refuse_part(word, s, n, voc);
		v |= part;
		if (!s[n])
			break;
		s += n + 1;
	}
	*out = v;
	return taken();
}

int arg_protect(const char *s, DWORD *out)
{
	struct vocabulary voc = { protect_names, protect_names_count, "protection", "PAGE_" };

	return parse_bits(&voc, s, out);
}

int arg_memflag(const char *s, DWORD *out)
{
	struct vocabulary voc = { memtype_names, memtype_names_count, "flag", "MEM_" };
	DWORD v;

	if (!parse_bits(&voc, s, &v))
		return 0;
	*out |= v;
	return 1;
}

static const char *const levels[][2] = {
	[eTaskCritical] = { "task", "eTaskCritical" },
	[eAppDomainCritical] = { "appdomain", "eAppDomainCritical" },
	[eProcessCritical] = { "process", "eProcessCritical" },
};

int arg_level(const char *s, EMemoryCriticalLevel *out)
{
	for (int i = 0; i < (int)COUNT(levels); i++) {
		if (word_is(s, levels[i][0]) || word_is(s, levels[i][1])) {
			*out = (EMemoryCriticalLevel)i;
			return taken();
		}
	}
	return arg_refuse("\"%s\" is not a level (one of: task appdomain process)", s);
}

const char *level_name(EMemoryCriticalLevel level)
{
	return (unsigned)level < COUNT(levels) ? levels[level][1] : "?";
}

const char *addr_text(uint64_t addr, char buf[20])
{
	if (!addr)
		hm_snprintf(buf, 20, "NULL");
	else
		hm_snprintf(buf, 20, "0x%016llx", (unsigned long long)addr);
	return buf;
}

const char *amount(uint64_t bytes, char buf[24])
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	uint64_t whole, tenths;
	int u = 0;

	while (u < 3 && bytes >= (1024ull << (10 * (u + 1))))
		u++;
	whole = bytes >> (10 * (u + 1));
	tenths = ((bytes >> (10 * u)) & 1023) * 10 / 1024;
	if (bytes & ((1ull << (10 * (u + 1))) - 1))
		hm_snprintf(buf, 24, "%llu.%llu %s", (unsigned long long)whole,
		            (unsigned long long)tenths, unit[u]);
	else
		hm_snprintf(buf, 24, "%llu %s", (unsigned long long)whole, unit[u]);
	return buf;
}

const char *size_text(uint64_t size, char buf[40])
{
	char a[24];

	if (size < 1024)
		hm_snprintf(buf, 40, "0x%llx", (unsigned long long)size);
	else
		hm_snprintf(buf, 40, "0x%llx (%s)", (unsigned long long)size, amount(size, a));
	return buf;
}

void show_hr(HRESULT hr)
{
	kprintf(" -> %s (0x%08x)\n", hostmem_hresult_name(hr), (uint32_t)hr);
}

static const char *exception_text(uint32_t code)
{
	switch (code) {
	case STATUS_ILLEGAL_INSTRUCTION:    return "STATUS_ILLEGAL_INSTRUCTION";
	case STATUS_BREAKPOINT:             return "STATUS_BREAKPOINT";
	case STATUS_INTEGER_DIVIDE_BY_ZERO: return "STATUS_INTEGER_DIVIDE_BY_ZERO";
	default:                            return exception_name(code);
	}
}

void show_fault(uint32_t code, const struct fault_info *fi)
{
	const char *how;

	if (!code) {
		kprintf(" -> ok\n");
		return;
	}
	kprintf(" -> %s (0x%08x)\n", exception_text(code), code);
	static const char *const access[] = { 0, "reading", "writing", "executing" };

	how = access[trap_fault_kind(fi->vector, fi->error)];
	if (!how) {
		kprintf("   %s at rip %p\n", trap_name(fi->vector), (void *)fi->rip);
		return;
	}
	kprintf("   %s %p (%s 0x%llx)%s\n", how, (void *)fi->addr, TRAP_FAULT_ERROR_NAME,
	        (unsigned long long)fi->error,
	        code == STATUS_GUARD_PAGE_VIOLATION ? ": the guard is gone, the next access goes through" : "");
}
