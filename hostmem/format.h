/*
 * A small printf for freestanding code: the kernel console and hostmem's
 * diagnostics (verify reports, logs) both format through it.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, length modifiers l, ll, z, and
 * flags '-', '0', width (number or *). %p prints 0x and 16 hex digits.
 * Output goes one character at a time to put(ctx, c).
 */
#ifndef HOSTMEM_FORMAT_H
#define HOSTMEM_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*hm_putc_fn)(void *ctx, char c);

/* Returns the number of characters produced. */
size_t hm_vformat(hm_putc_fn put, void *ctx, const char *fmt, va_list ap);

/* snprintf: always NUL-terminates when len > 0; returns the length the full
 * output would have had, so a result >= len means it was cut. */
size_t hm_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
size_t hm_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

#endif
