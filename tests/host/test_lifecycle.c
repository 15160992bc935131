/*
 * test_lifecycle.c - the manager as a COM object, through the twin:
 * QueryInterface with the contract's IIDs (IUnknown, IHostMemoryManager),
 * E_NOINTERFACE for any other, E_POINTER for NULL arguments, AddRef and
 * Release counting; and the dead state of CONTRACT.md ("internal corruption
 * detected"): with verify on after every call, the first call after
 * corrupt_commit_charge returns E_FAIL and every later call
 * HOST_E_CLRNOTAVAILABLE, with its out-parameters cleared; a failed
 * process-critical allocation does the same (E_OUTOFMEMORY, then
 * HOST_E_CLRNOTAVAILABLE).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hostmem/embed.h"
#include "tests/host/lib/corrupt.h"
#include "tests/host/lib/twin.h"

#define BASE  0x50000000ull
#define RC    (MEM_RESERVE | MEM_COMMIT)
#define DEAD  HOST_E_CLRNOTAVAILABLE

/* The IIDs as CONTRACT.md spells them, written out again on purpose. */
static const IID iid_unknown = { 0x00000000, 0x0000, 0x0000,
	{ 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 } };
static const IID iid_manager = { 0x7BC698D1, 0xF9E3, 0x4460,
	{ 0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25 } };
static const IID iid_malloc = { 0x1831991C, 0xCC53, 0x4A31,
	{ 0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79 } };
static const IID iid_callback = { 0x47EB8E57, 0x0846, 0x4546,
	{ 0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49 } };

/* VirtualAlloc at a critical level; *p is cleared first. */
static HRESULT alloc_at(struct twin *t, uint64_t addr, uint64_t size, DWORD type,
                        EMemoryCriticalLevel level, void **p)
{
	*p = VA(0xBAD);
	return IHostMemoryManager_VirtualAlloc(t->m, VA(addr), size, type, PAGE_READWRITE, level,
	                                       p);
}

/* ------------------------------------------------------------ IUnknown */

static void exported_iids_are_the_contracts(void **state)
{
	assert_memory_equal(&IID_IUnknown, &iid_unknown, sizeof(IID));
	assert_memory_equal(&IID_IHostMemoryManager, &iid_manager, sizeof(IID));
	assert_memory_equal(&IID_IHostMalloc, &iid_malloc, sizeof(IID));
	assert_memory_equal(&IID_ICLRMemoryNotificationCallback, &iid_callback, sizeof(IID));
}

static void query_interface_for_iunknown_or_the_manager_returns_it_with_a_reference(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	void *p = 0;

	assert_hr(S_OK, IHostMemoryManager_QueryInterface(m, &iid_unknown, &p));
	assert_ptr_equal(p, m);
	assert_hr(S_OK, IHostMemoryManager_QueryInterface(m, &iid_manager, &p));
	assert_ptr_equal(p, m);
	/* Created with one reference, two more taken: the next Release says 2. */
	assert_int_equal(IHostMemoryManager_Release(m), 2);
	assert_int_equal(IHostMemoryManager_Release(m), 1);
}

static void query_interface_for_another_interface_is_e_nointerface(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	const IID *other[] = { &iid_malloc, &iid_callback };
	void *p;

	for (size_t i = 0; i < 2; i++) {
		p = VA(0xBAD);
		assert_hr(E_NOINTERFACE, IHostMemoryManager_QueryInterface(m, other[i], &p));
		assert_null(p);
	}
	/* An IID one byte away from the manager's is another interface. */
	for (size_t i = 0; i < sizeof(IID); i++) {
		IID near = iid_manager;

		((uint8_t *)&near)[i] ^= 0x01;
		p = VA(0xBAD);
		assert_hr(E_NOINTERFACE, IHostMemoryManager_QueryInterface(m, &near, &p));
		assert_null(p);
	}
	/* No reference was taken. */
	assert_int_equal(IHostMemoryManager_AddRef(m), 2);
	assert_int_equal(IHostMemoryManager_Release(m), 1);
}

static void query_interface_with_a_null_argument_is_e_pointer(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	void *p = VA(0xBAD);

	assert_hr(E_POINTER, IHostMemoryManager_QueryInterface(m, &iid_manager, 0));
	assert_hr(E_POINTER, IHostMemoryManager_QueryInterface(m, 0, &p));
	assert_null(p);
	assert_int_equal(IHostMemoryManager_AddRef(m), 2);
	assert_int_equal(IHostMemoryManager_Release(m), 1);
}

static void addref_and_release_count_references(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;

	assert_int_equal(IHostMemoryManager_AddRef(m), 2);
	assert_int_equal(IHostMemoryManager_AddRef(m), 3);
	assert_int_equal(IHostMemoryManager_Release(m), 2);
	assert_int_equal(IHostMemoryManager_Release(m), 1);
}

/* The storage belongs to the embedder: the last Release frees nothing and
 * the embedder may still tear the twin down. */
static void last_release_returns_zero(void **state)
{
	struct twin *t = *state;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_int_equal(IHostMemoryManager_Release(t->m), 0);
	t->dead_ok = true;
}

/* ------------------------------------------------------------ corruption */

static void a_fresh_manager_verifies_clean(void **state)
{
	struct twin *t = *state;

	assert_clean(t);
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	fill_ok(t, BASE, GR, 1);
	assert_clean(t);
}

/* Each contract method, on a manager just corrupted (verify after every
 * call on): E_FAIL, and the out-parameters stay cleared. */
static void first_call_after_corruption_is_e_fail(void **state)
{
	for (int method = 0; method < 5; method++) {
		struct twin *t = twin_new(TWIN_RAM, 0);
		IHostMemoryManager *m = t->m;
		MEMORY_BASIC_INFORMATION mbi;
		SIZE_T n = 0;
		DWORD old = 0, load = 0;
		void *p = VA(0xBAD);

		alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
		corrupt_commit_charge(m);
		switch (method) {
		case 0:
			assert_hr(E_FAIL, alloc_at(t, 0, PG, RC, eTaskCritical, &p));
			assert_null(p);
			break;
		case 1:
			assert_hr(E_FAIL, IHostMemoryManager_VirtualFree(m, VA(BASE), PG,
			                                                 MEM_DECOMMIT));
			break;
		case 2:
			assert_hr(E_FAIL, IHostMemoryManager_VirtualQuery(m, VA(BASE), &mbi,
			                                                  sizeof mbi, &n));
			break;
		case 3:
			assert_hr(E_FAIL, IHostMemoryManager_VirtualProtect(m, VA(BASE), PG,
			                                                    PAGE_READONLY, &old));
			break;
		case 4:
			assert_hr(E_FAIL, IHostMemoryManager_GetMemoryLoad(m, &load, &n));
			break;
		}
		assert_hr(DEAD, IHostMemoryManager_VirtualQuery(m, VA(BASE), &mbi, sizeof mbi, &n));
		twin_free(t);
	}
}

/* CONTRACT.md: once a method returned E_FAIL, every later call returns
 * HOST_E_CLRNOTAVAILABLE. */
static void every_contract_call_after_e_fail_is_clrnotavailable(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	MEMORY_BASIC_INFORMATION mbi;
	struct hostmem_stats st;
	char why[128];
	SIZE_T n = 0x77;
	DWORD old = 0x77;
	void *p;

	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	corrupt_commit_charge(m);
	assert_hr(E_FAIL, IHostMemoryManager_VirtualFree(m, VA(BASE), PG, MEM_DECOMMIT));
	t->dead_ok = true;
	for (int again = 0; again < 2; again++) {
		assert_hr(DEAD, alloc_at(t, 0, PG, RC, eTaskCritical, &p));
		assert_null(p);
		assert_hr(DEAD, alloc_at(t, BASE, PG, MEM_COMMIT, eProcessCritical, &p));
		assert_null(p);
		assert_hr(DEAD, IHostMemoryManager_VirtualFree(m, VA(BASE), 0, MEM_RELEASE));
		memset(&mbi, 0xCD, sizeof mbi);
		assert_hr(DEAD, IHostMemoryManager_VirtualQuery(m, VA(BASE), &mbi, sizeof mbi, &n));
		assert_int_equal(n, 0x77);
		assert_int_equal(mbi.State, 0xCDCDCDCD);
		assert_hr(DEAD, IHostMemoryManager_VirtualProtect(m, VA(BASE), PG, PAGE_READONLY,
		                                                  &old));
		assert_int_equal(old, 0x77);
		p = VA(0xBAD);
		assert_hr(DEAD, IHostMemoryManager_QueryInterface(m, &iid_manager, &p));
		assert_null(p);
		assert_hr(DEAD, hostmem_get_stats(m, &st));
		assert_hr(DEAD, hostmem_trim(m));
		assert_hr(DEAD, hostmem_verify(m, why, sizeof why));
	}
}

static void every_other_call_after_e_fail_is_clrnotavailable(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	IHostMalloc *hm = VA(0xBAD);
	SIZE_T n = 0x77;
	DWORD load = 0x77;

	corrupt_commit_charge(m);
	assert_hr(E_FAIL, IHostMemoryManager_VirtualFree(m, VA(BASE), 0, MEM_RELEASE));
	t->dead_ok = true;
	assert_hr(DEAD, IHostMemoryManager_GetMemoryLoad(m, &load, &n));
	assert_int_equal(load, 0x77);
	assert_hr(DEAD, IHostMemoryManager_CreateMalloc(m, MALLOC_THREADSAFE, &hm));
	assert_null(hm);
	assert_hr(DEAD, IHostMemoryManager_RegisterMemoryNotificationCallback(m, 0));
	assert_hr(DEAD, IHostMemoryManager_NeedsVirtualAddressSpace(m, VA(BASE), GR));
	assert_hr(DEAD, IHostMemoryManager_AcquiredVirtualAddressSpace(m, VA(BASE), GR));
	assert_hr(DEAD, IHostMemoryManager_ReleasedVirtualAddressSpace(m, VA(BASE)));
}

/* Without verify after each call, hostmem_verify finds the corruption,
 * says what it is, and from then on the manager is refused too. */
static void hostmem_verify_finds_corruption_without_verify_each(void **state)
{
	struct twin *t = *state;
	char why[256] = "";
	MEMORY_BASIC_INFORMATION mbi;

	hostmem_set_verify_each(t->m, false);
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	corrupt_commit_charge(t->m);
	mbi = query_ok(t, BASE);
	(void)mbi;
	assert_hr(E_FAIL, hostmem_verify(t->m, why, sizeof why));
	assert_true(strlen(why) > 0);
	t->dead_ok = true;
	assert_hr(DEAD, twin_query(t, BASE, &mbi));
}

/* CONTRACT.md: when a process-critical allocation fails the manager
 * becomes unusable. */
static void failed_process_critical_allocation_makes_the_manager_unusable(void **state)
{
	struct twin *t = *state;
	IHostMemoryManager *m = t->m;
	MEMORY_BASIC_INFORMATION mbi;
	SIZE_T n;
	void *p;

	assert_hr(E_OUTOFMEMORY, alloc_at(t, 0, 2 * TWIN_RAM, RC, eProcessCritical, &p));
	assert_null(p);
	t->dead_ok = true;
	assert_hr(DEAD, IHostMemoryManager_VirtualQuery(m, VA(BASE), &mbi, sizeof mbi, &n));
	assert_hr(DEAD, alloc_at(t, 0, PG, RC, eTaskCritical, &p));
	assert_null(p);
}

/* Only a failure for lack of memory does: a bad argument is just refused,
 * and the other levels may fail for lack of memory and go on. */
static void other_failures_leave_the_manager_usable(void **state)
{
	struct twin *t = *state;
	void *p;

	assert_hr(E_INVALIDARG, alloc_at(t, 0, 0, RC, eProcessCritical, &p));
	assert_hr(HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS),
	          alloc_at(t, BASE, PG, MEM_COMMIT, eProcessCritical, &p));
	assert_hr(E_OUTOFMEMORY, alloc_at(t, 0, 2 * TWIN_RAM, RC, eTaskCritical, &p));
	assert_hr(E_OUTOFMEMORY, alloc_at(t, 0, 2 * TWIN_RAM, RC, eAppDomainCritical, &p));
	alloc_ok(t, BASE, GR, RC, PAGE_READWRITE);
	assert_clean(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, twin_setup, twin_teardown)
		cmocka_unit_test(exported_iids_are_the_contracts),
		T(query_interface_for_iunknown_or_the_manager_returns_it_with_a_reference),
		T(query_interface_for_another_interface_is_e_nointerface),
		T(query_interface_with_a_null_argument_is_e_pointer),
		T(addref_and_release_count_references),
		T(last_release_returns_zero),
		T(a_fresh_manager_verifies_clean),
		cmocka_unit_test(first_call_after_corruption_is_e_fail),
		T(every_contract_call_after_e_fail_is_clrnotavailable),
		T(every_other_call_after_e_fail_is_clrnotavailable),
		T(hostmem_verify_finds_corruption_without_verify_each),
		T(failed_process_critical_allocation_makes_the_manager_unusable),
		T(other_failures_leave_the_manager_usable),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
