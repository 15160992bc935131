#include "names.h"
#include "hostmem/format.h"

static const struct { DWORD bit; const char *name; } protections[] = {
	{ PAGE_NOACCESS, "PAGE_NOACCESS" }, { PAGE_READONLY, "PAGE_READONLY" },
	{ PAGE_READWRITE, "PAGE_READWRITE" }, { PAGE_WRITECOPY, "PAGE_WRITECOPY" },
	{ PAGE_EXECUTE, "PAGE_EXECUTE" }, { PAGE_EXECUTE_READ, "PAGE_EXECUTE_READ" },
	{ PAGE_EXECUTE_READWRITE, "PAGE_EXECUTE_READWRITE" },
	{ PAGE_EXECUTE_WRITECOPY, "PAGE_EXECUTE_WRITECOPY" }, { PAGE_GUARD, "PAGE_GUARD" },
	{ PAGE_NOCACHE, "PAGE_NOCACHE" }, { PAGE_WRITECOMBINE, "PAGE_WRITECOMBINE" },
};

const char *protect_name(DWORD prot, char *buf, size_t len)
{
	size_t n = 0;
	DWORD rest = prot;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(protections) / sizeof(protections[0]); i++) {
		if (!(prot & protections[i].bit))
			continue;
		n += hm_snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", protections[i].name);
		rest &= ~protections[i].bit;
	}
	if (!prot)
		hm_snprintf(buf, len, "0");
	else if (rest)
		hm_snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", rest);
	return buf;
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
