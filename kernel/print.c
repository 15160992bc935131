#include <stdint.h>
#include "print.h"
#include "serial.h"
#include "machine.h"
#include "hostmem/format.h"

/* One line at a time from any CPU: a spinlock around each print.  A CPU
 * that panics while another holds it waits a bounded time, then prints.
 * The lock covers the serial port and the ring. */
static int console_lock;
static char ring[CONSOLE_RING];
static uint64_t ring_end;            /* bytes ever printed */

static void console_put(void *ctx, char c)
{
	serial_putc(c);
	ring[ring_end++ % CONSOLE_RING] = c;
}

static void console_take(void)
{
	uint64_t spins = 0;

	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		if (++spins > 50000000)
			break;
		else
			arch_relax();
}

size_t console_recent(char *buf, size_t len)
{
	uint64_t n, from;

	console_take();
	n = ring_end < CONSOLE_RING ? ring_end : CONSOLE_RING;
	n = n < len ? n : len;
	from = ring_end - n;
	for (uint64_t i = 0; i < n; i++)
		buf[i] = ring[(from + i) % CONSOLE_RING];
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
	return n;
}

void kvprintf(const char *fmt, va_list ap)
{
	console_take();
	hm_vformat(console_put, 0, fmt, ap);
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
