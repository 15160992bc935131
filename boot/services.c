/*
 * What every part of the loader may call: a page from the firmware, and
 * failing.  A failure prints "loader: <what>: <reason>" and exits QEMU
 * through isa-debug-exit with status 39, so a test run never hangs in the
 * firmware (loader.c tells when that applies).
 */
#include "boot/services.h"

#define DEBUG_EXIT_PORT  0xf4
#define DEBUG_EXIT_FAIL  0x13       /* QEMU exit status (0x13 << 1) | 1 = 39 */

static void __attribute__((noreturn)) exit_qemu(void)
{
	__asm__ volatile("outb %0, %1"
			 : : "a"((uint8_t)DEBUG_EXIT_FAIL), "Nd"(DEBUG_EXIT_PORT));
	/* Without the debug-exit device the write does nothing: stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void loader_fail(const char *what, const char *reason)
{
	Print(L"loader: %a: %a\r\n", what, reason);
	exit_qemu();
}

void loader_fail_status(const char *what, EFI_STATUS st)
{
	Print(L"loader: %a: %r\r\n", what, st);
	exit_qemu();
}

EFI_STATUS loader_alloc(UINT32 type, UINTN pages, uint64_t *pa)
{
	return BS->AllocatePages(AllocateAnyPages, (EFI_MEMORY_TYPE)type, pages,
				 pa);
}
