/*
 * The four functions GCC may call on its own even in freestanding code (for
 * struct copies and initialisers): the kernel has no libc to provide them.
 * Byte loops, but for memset: the kernel is small, and TCG gains little
 * from cleverness.
 */
#include <stddef.h>
#include <stdint.h>
#include "machine.h"

/* The one that runs hot: hostmem clears every frame with it, so it is the
 * architecture's fastest fill (x86-64: rep stosq, then rep stosb). */
void *memset(void *dst, int c, size_t n)
{
	arch_memset(dst, (uint8_t)c, n);
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

/* Copies backwards when the destination starts inside the source. */
void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d > s && d < s + n)
		while (n--)
			d[n] = s[n];
	else
		while (n--)
			*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}
