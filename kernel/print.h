#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

/* Formatted output to the serial console (hostmem/format.h conversions). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* The last bytes printed, oldest first (at most CONSOLE_RING, kept as they
 * went out, under the same lock): copies up to len of them into buf and
 * returns how many.  What a test reads back, and what a panic could show. */
#define CONSOLE_RING 16384
size_t console_recent(char *buf, size_t len);

#endif
