#include <stdint.h>
#include "console.h"
#include "serial.h"
#include "hostmem/format.h"

static void console_put(void *ctx, char c)
{
	serial_putc(c);
}

/* One line at a time from any CPU: a spinlock around each print.  A CPU
 * that panics while another holds it waits a bounded time, then prints. */
static int console_lock;

void kvprintf(const char *fmt, va_list ap)
{
	uint64_t spins = 0;

	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		if (++spins > 50000000)
			break;
		else
			__asm__ volatile("pause");
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
