/*
 * The four functions GCC may call on its own even in freestanding code (for
 * struct copies and initialisers): the kernel has no libc to provide them.
 * Byte loops, but for memset: the kernel is small, and TCG gains little
 * from cleverness.
 */
#include <stddef.h>
#include <stdint.h>

/* The one that runs hot: hostmem clears every frame with it.  rep stosq
 * for the words (the fastest fill here, under TCG as on hardware), rep
 * stosb for the tail. */
void *memset(void *dst, int c, size_t n)
{
	uint64_t v = 0x0101010101010101ull * (uint8_t)c;
	size_t words = n / 8, tail = n % 8;
	void *d = dst;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(v) : "memory");
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
