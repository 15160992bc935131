/*
 * caller.c - reading and writing the caller's memory: out-parameters, the
 * VirtualQuery buffer, GetWriteWatch's array.
 *
 * Caller memory is ordinary memory of the address space hostmem manages: it
 * may be committed but never touched (the first store faults, and hostmem's
 * own fault routine must serve it), a guard page, or not valid at all.  So
 * two rules, as NT's system calls follow them:
 *
 *   1. Never under the manager's lock.  A fault taken while the lock is held
 *      would re-enter hostmem; every method computes into locals under the
 *      lock and copies out after hm_leave.
 *   2. Through the platform's copy_in / copy_out, which catch the fault (the
 *      kernel runs the copy inside a recovery point) and report it.  A fault
 *      on caller memory is the caller's error: the method returns E_POINTER
 *      (ERROR_NOACCESS in Win32 terms), never a panic.  A guard page in the
 *      buffer raises its one-time exception inside the copy, so the guard is
 *      gone and the call fails with E_POINTER, as a Windows system call
 *      returns STATUS_GUARD_PAGE_VIOLATION for it.
 *
 * Methods that change state probe their out-parameters first (a store of
 * zero, before the lock), so a bad pointer is refused before anything
 * changes.  Only a second thread that invalidates the memory between the
 * probe and the final store can make that store fail after the operation
 * took effect; as NT does, the operation then stands (see each method).
 */
#include "hm.h"

bool caller_put(const struct hm *hm, void *dst, const void *src, size_t n)
{
	if (!dst)
		return false;
	return hm->plat->copy_out(hm->plat->ctx, dst, src, n);
}

bool caller_get(const struct hm *hm, void *dst, const void *src, size_t n)
{
	if (!src)
		return false;
	return hm->plat->copy_in(hm->plat->ctx, dst, src, n);
}

bool caller_zero(const struct hm *hm, void *dst, size_t n)
{
	static const uint8_t zero[64];
	uint8_t *p = dst;

	if (n <= sizeof(zero))          /* out-parameters: one copy */
		return caller_put(hm, dst, zero, n);
	for (size_t k; n; n -= k, p += k) {
		k = n < sizeof(zero) ? n : sizeof(zero);
		if (!caller_put(hm, p, zero, k))
			return false;
	}
	return dst != 0;
}

bool caller_probe(const struct hm *hm, void *dst, size_t n)
{
	uint8_t keep[64], *p = dst;

	for (size_t k; n; n -= k, p += k) {
		k = n < sizeof(keep) ? n : sizeof(keep);
		if (!caller_get(hm, keep, p, k) || !caller_put(hm, p, keep, k))
			return false;
	}
	return dst != 0;
}
