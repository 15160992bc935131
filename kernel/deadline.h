/* Bounded waits: every wait of the kernel has a deadline and panics past it
 * with what it waited for, rather than hang. */
#ifndef KERNEL_DEADLINE_H
#define KERNEL_DEADLINE_H

#include <stdint.h>

/* The cycle counter (arch_ticks) ms milliseconds from now. */
uint64_t deadline_in(uint64_t ms);
/* Panics with what (and this CPU) when the counter has passed deadline. */
void deadline_check(uint64_t deadline, const char *what);

#endif
