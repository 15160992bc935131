/*
 * What every part of the loader may call: a page from the firmware, and
 * failing.  A failure prints "loader: <what>: <reason>" and exits QEMU
 * with status 39 (machine_exit_fail), so a test run never hangs in the
 * firmware (loader.c tells when that applies).
 */
#include "boot/services.h"

void loader_fail(const char *what, const char *reason)
{
	Print(L"loader: %a: %a\r\n", what, reason);
	machine_exit_fail();
}

void loader_fail_status(const char *what, EFI_STATUS st)
{
	Print(L"loader: %a: %r\r\n", what, st);
	machine_exit_fail();
}

EFI_STATUS loader_alloc(UINT32 type, UINTN pages, uint64_t *pa)
{
	return BS->AllocatePages(AllocateAnyPages, (EFI_MEMORY_TYPE)type, pages,
				 pa);
}
