/*
 * Shorthands for self tests of the contract on the kernel's manager.  Each
 * call turns verify-each on: the manager checks every structure inside every
 * call the tests make.
 */
#ifndef TESTS_KERNEL_VM_H
#define TESTS_KERNEL_VM_H

#include "kernel/memory.h"
#include "hostmem/embed.h"

#define P 4096ull
#define G 0x10000ull

static inline IHostMemoryManager *mgr(void)
{
	IHostMemoryManager *m = kernel_memory_manager();

	hostmem_set_verify_each(m, true);
	return m;
}

static inline HRESULT alloc(void *addr, SIZE_T size, DWORD type, DWORD prot, void **p)
{
	return IHostMemoryManager_VirtualAlloc(mgr(), addr, size, type, prot, eTaskCritical, p);
}

/* MEM_RELEASE of the reservation at p. */
static inline HRESULT release_at(void *p)
{
	return IHostMemoryManager_VirtualFree(mgr(), p, 0, MEM_RELEASE);
}

static inline MEMORY_BASIC_INFORMATION query(void *p)
{
	MEMORY_BASIC_INFORMATION mbi = { 0 };
	SIZE_T n;

	IHostMemoryManager_VirtualQuery(mgr(), p, &mbi, sizeof(mbi), &n);
	return mbi;
}

static inline struct hostmem_stats stats(void)
{
	struct hostmem_stats st;

	hostmem_get_stats(mgr(), &st);
	return st;
}

#endif
