#include "console.h"
#include "serial.h"
#include "hostmem/format.h"

static void console_put(void *ctx, char c)
{
	serial_putc(c);
}

void kvprintf(const char *fmt, va_list ap)
{
	hm_vformat(console_put, 0, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
