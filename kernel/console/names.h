/* Readable names for the contract's numbers, for the run-mode tour and the console. */
#ifndef KERNEL_NAMES_H
#define KERNEL_NAMES_H

#include <stddef.h>
#include "hostmem/hostmem.h"

/* A flag's Windows name and the short words the console also accepts. */
struct named {
	DWORD value;
	const char *win32;
	const char *words;       /* separated by spaces */
};

extern const struct named protect_names[];
extern const size_t protect_names_count;
extern const struct named memtype_names[];
extern const size_t memtype_names_count;

/* "A|B|0x40" for the bits of v named in t, "0" for none; into buf. */
const char *flags_text(const struct named *t, size_t n, DWORD v, char *buf, size_t len);

/* The first short word of each entry, space-separated: "noaccess ro rw ..."; into buf. */
const char *names_words(const struct named *t, size_t count, char *buf, size_t len);

/* "PAGE_READWRITE|PAGE_GUARD", "0" for none; into buf. */
const char *protect_name(DWORD prot, char *buf, size_t len);
/* "MEM_COMMIT|MEM_RESERVE"; into buf. */
const char *memtype_name(DWORD type, char *buf, size_t len);
/* "MEM_COMMIT", "MEM_RESERVE", "MEM_FREE". */
const char *state_name(DWORD state);
/* "STATUS_ACCESS_VIOLATION", "STATUS_GUARD_PAGE_VIOLATION", "ok". */
const char *exception_name(uint32_t code);

#endif
