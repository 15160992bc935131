/* What the kernel learned at boot, for everything that runs after. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "boot/bootinfo.h"
#include "memmap.h"

#define MAX_USABLE_RANGES 128

extern const struct bootinfo *boot_info;
extern struct memmap_summary boot_mem;
extern struct mem_range boot_usable[MAX_USABLE_RANGES];
extern size_t boot_nusable;

static inline void *phys_to_virt(uint64_t pa) { return (void *)(DIRECT_MAP_BASE + pa); }

/* The value of key=value on the command line (into buf), or NULL. */
const char *cmdline_get(const char *key, char *buf, size_t len);
uint64_t cmdline_number(const char *key, uint64_t dflt);
/* Is key=value on the command line? */
bool cmdline_is(const char *key, const char *value);

/* Milliseconds since the loader started, from the TSC. */
uint64_t uptime_ms(void);

#endif
