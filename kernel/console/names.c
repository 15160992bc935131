#include "names.h"
#include "hostmem/format.h"

const struct named protect_names[] = {
	{ PAGE_NOACCESS,          "PAGE_NOACCESS",          "noaccess na" },
	{ PAGE_READONLY,          "PAGE_READONLY",          "ro r readonly" },
	{ PAGE_READWRITE,         "PAGE_READWRITE",         "rw readwrite" },
	{ PAGE_WRITECOPY,         "PAGE_WRITECOPY",         "wcopy writecopy" },
	{ PAGE_EXECUTE,           "PAGE_EXECUTE",           "x execute" },
	{ PAGE_EXECUTE_READ,      "PAGE_EXECUTE_READ",      "rx" },
	{ PAGE_EXECUTE_READWRITE, "PAGE_EXECUTE_READWRITE", "rwx" },
	{ PAGE_EXECUTE_WRITECOPY, "PAGE_EXECUTE_WRITECOPY", "xwcopy" },
	{ PAGE_GUARD,             "PAGE_GUARD",             "guard" },
	{ PAGE_NOCACHE,           "PAGE_NOCACHE",           "nocache" },
	{ PAGE_WRITECOMBINE,      "PAGE_WRITECOMBINE",      "wcomb writecombine" },
};
const size_t protect_names_count = sizeof(protect_names) / sizeof(protect_names[0]);

const struct named memtype_names[] = {
	{ MEM_COMMIT,      "MEM_COMMIT",      "commit" },
	{ MEM_RESERVE,     "MEM_RESERVE",     "reserve" },
	{ MEM_DECOMMIT,    "MEM_DECOMMIT",    "decommit" },
	{ MEM_RELEASE,     "MEM_RELEASE",     "release" },
	{ MEM_RESET,       "MEM_RESET",       "reset" },
	{ MEM_TOP_DOWN,    "MEM_TOP_DOWN",    "topdown" },
	{ MEM_WRITE_WATCH, "MEM_WRITE_WATCH", "watch" },
	{ MEM_PHYSICAL,    "MEM_PHYSICAL",    "physical" },
	{ MEM_RESET_UNDO,  "MEM_RESET_UNDO",  "undo resetundo" },
	{ MEM_LARGE_PAGES, "MEM_LARGE_PAGES", "large" },
	{ MEM_PRIVATE,     "MEM_PRIVATE",     "" },
};
const size_t memtype_names_count = sizeof(memtype_names) / sizeof(memtype_names[0]);

const char *flags_text(const struct named *t, size_t count, DWORD v, char *buf, size_t len)
{
	size_t n = 0;
	DWORD rest = v;

	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (!(v & t[i].value))
			continue;
		n += hm_snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", t[i].win32);
		rest &= ~t[i].value;
	}
	if (!v)
		hm_snprintf(buf, len, "0");
	else if (rest)
		hm_snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", rest);
	return buf;
}

const char *names_words(const struct named *t, size_t count, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const char *w = t[i].words;
		size_t k = 0;

		if (!*w)                 /* a type the caller never names (MEM_PRIVATE) */
			continue;
		if (n && n + 1 < len)
			buf[n++] = ' ';
		for (; w[k] && w[k] != ' ' && n + 1 < len; k++)
			buf[n++] = w[k];
		buf[n] = '\0';
	}
	return buf;
}

const char *protect_name(DWORD prot, char *buf, size_t len)
{
	return flags_text(protect_names, protect_names_count, prot, buf, len);
}

const char *memtype_name(DWORD type, char *buf, size_t len)
{
	return flags_text(memtype_names, memtype_names_count, type, buf, len);
}

const char *state_name(DWORD state)
{
	switch (state) {
	case MEM_COMMIT:  return "MEM_COMMIT";
	case MEM_RESERVE: return "MEM_RESERVE";
	case MEM_FREE:    return "MEM_FREE";
	default:          return "?";
	}
}

const char *exception_name(uint32_t code)
{
	switch (code) {
	case 0:                           return "ok";
	case STATUS_ACCESS_VIOLATION:     return "STATUS_ACCESS_VIOLATION";
	case STATUS_GUARD_PAGE_VIOLATION: return "STATUS_GUARD_PAGE_VIOLATION";
	default:                          return "exception";
	}
}
