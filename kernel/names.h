/* Readable names for the contract's numbers, for the run-mode tour and the console. */
#ifndef KERNEL_NAMES_H
#define KERNEL_NAMES_H

#include <stddef.h>
#include "hostmem/hostmem.h"

/* "PAGE_READWRITE|PAGE_GUARD", "0" for none; into buf. */
const char *protect_name(DWORD prot, char *buf, size_t len);
/* "MEM_COMMIT", "MEM_RESERVE", "MEM_FREE". */
const char *state_name(DWORD state);
/* "STATUS_ACCESS_VIOLATION", "STATUS_GUARD_PAGE_VIOLATION", "ok". */
const char *exception_name(uint32_t code);

#endif
