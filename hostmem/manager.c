/*
 * manager.c - IHostMemoryManager: the COM object around struct hm.
 *
 * Every method follows one pattern: probe the out-parameters (caller.c),
 * take the platform lock, refuse if the manager is dead, call the vm_*
 * operation with the raw arguments into locals, optionally verify
 * everything, drop the lock, turn the status into an HRESULT through the one
 * table in status.c, and only then store the results in caller memory: a
 * store may fault, and the fault comes back into hostmem.
 *
 * What every call does on its way out is call.c's; the dead state, dead.c's.
 * Reference counting is honoured, but the storage belongs to the embedder:
 * the last Release frees nothing.
 */
#include "hm.h"
#include "embed.h"
#include "pte.h"
#include "verify.h"

/* ------------------------------------------------------------ IUnknown */

static HRESULT mgr_QueryInterface(IHostMemoryManager *This, REFIID riid, void **ppv)
{
	struct hm *hm = hm_of(This);
	IID iid;

	if (!caller_zero(hm, ppv, sizeof(*ppv)) || !caller_get(hm, &iid, riid, sizeof(iid)))
		return E_POINTER;
	if (hm->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (!hm_same_iid(&iid, &IID_IUnknown) && !hm_same_iid(&iid, &IID_IHostMemoryManager))
		return E_NOINTERFACE;
	if (!caller_put(hm, ppv, &This, sizeof(This)))
		return E_POINTER;
	This->lpVtbl->AddRef(This);
	return S_OK;
}

static ULONG mgr_AddRef(IHostMemoryManager *This)
{
	return __atomic_add_fetch(&hm_of(This)->refs, 1, __ATOMIC_RELAXED);
}

static ULONG mgr_Release(IHostMemoryManager *This)
{
	struct hm *hm = hm_of(This);

	if (__atomic_load_n(&hm->refs, __ATOMIC_RELAXED) == 0)
		return 0;
	return __atomic_sub_fetch(&hm->refs, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ the contract */

static HRESULT mgr_VirtualAlloc(IHostMemoryManager *This, void *pAddress, SIZE_T dwSize,
                                DWORD flAllocationType, DWORD flProtect,
                                EMemoryCriticalLevel dwCriticalLevel, void **ppMem)
{
	struct hm *hm = hm_of(This);
	bool out_ok = caller_zero(hm, ppMem, sizeof(*ppMem));   /* NULL on every failure */
	uint64_t base = 0;
	hm_status s;
	HRESULT hr;

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	if ((uint32_t)dwCriticalLevel > eProcessCritical) {
		s = HM_INVALID_PARAMETER;
	} else {
		hm->level = dwCriticalLevel;
		s = vm_alloc(hm, (uint64_t)(uintptr_t)pAddress, dwSize, flAllocationType,
		             flProtect, out_ok ? &base : 0);
		hm->level = eTaskCritical;
	}
	if (dwCriticalLevel == eProcessCritical && (s == HM_NO_MEMORY || s == HM_COMMITMENT_LIMIT))
		hm_die(hm, "a process-critical allocation failed");
	hr = hm_leave(hm, s);
	/* The probe succeeded, so only another thread can make this store fail;
	 * the allocation then stands, as NT's does. */
	if (hr == S_OK)
		caller_put(hm, ppMem, &base, sizeof(base));
	return hr;
}

static HRESULT mgr_VirtualFree(IHostMemoryManager *This, LPVOID lpAddress, SIZE_T dwSize,
                               DWORD dwFreeType)
{
	struct hm *hm = hm_of(This);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	return hm_leave(hm, vm_free(hm, (uint64_t)(uintptr_t)lpAddress, dwSize, dwFreeType));
}

static HRESULT mgr_VirtualQuery(IHostMemoryManager *This, void *lpAddress, void *lpBuffer,
                                SIZE_T dwLength, SIZE_T *pResult)
{
	struct hm *hm = hm_of(This);
	MEMORY_BASIC_INFORMATION mbi;
	hm_status s;
	HRESULT hr;

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	if ((uint64_t)(uintptr_t)lpAddress >= VA_LIMIT)
		s = HM_INVALID_PARAMETER;
	else if (dwLength < sizeof(mbi))
		s = HM_BAD_LENGTH;
	else if (!lpBuffer || !pResult)
		s = HM_BAD_POINTER;
	else
		s = vm_query(hm, (uint64_t)(uintptr_t)lpAddress, &mbi);
	hr = hm_leave(hm, s);
	if (hr == S_OK) {
		SIZE_T n = sizeof(mbi);

		if (!caller_put(hm, lpBuffer, &mbi, n) || !caller_put(hm, pResult, &n, sizeof(n)))
			hr = E_POINTER;
	}
	return hr;
}

static HRESULT mgr_VirtualProtect(IHostMemoryManager *This, void *lpAddress, SIZE_T dwSize,
                                  DWORD flNewProtect, DWORD *pflOldProtect)
{
	struct hm *hm = hm_of(This);
	bool out_ok = caller_probe(hm, pflOldProtect, sizeof(*pflOldProtect));
	DWORD old = 0;
	HRESULT hr;

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	hr = hm_leave(hm, vm_protect(hm, (uint64_t)(uintptr_t)lpAddress, dwSize, flNewProtect,
	                          out_ok ? &old : 0));
	/* As in VirtualAlloc: after a good probe, the protection stands. */
	if (hr == S_OK)
		caller_put(hm, pflOldProtect, &old, sizeof(old));
	return hr;
}

/* ------------------------------------------------------------ the rest of the interface */

static HRESULT mgr_GetMemoryLoad(IHostMemoryManager *This, DWORD *pMemoryLoad,
                                 SIZE_T *pAvailableBytes)
{
	struct hm *hm = hm_of(This);
	SIZE_T bytes;
	DWORD load;
	HRESULT hr;

	if (!pMemoryLoad || !pAvailableBytes)
		return E_POINTER;
	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	load = pressure_load(hm);
	bytes = pressure_available(hm) * PAGE;
	hr = hm_leave(hm, HM_OK);
	if (hr == S_OK && (!caller_put(hm, pMemoryLoad, &load, sizeof(load)) ||
	                   !caller_put(hm, pAvailableBytes, &bytes, sizeof(bytes))))
		hr = E_POINTER;
	return hr;
}

static HRESULT mgr_CreateMalloc(IHostMemoryManager *This, DWORD dwMallocType, IHostMalloc **ppMalloc)
{
	return hmalloc_create(hm_of(This), dwMallocType, ppMalloc);
}

/* Replaces the callback (NULL unregisters).  AddRef and Release of the
 * callbacks happen outside our lock. */
static HRESULT mgr_RegisterMemoryNotificationCallback(IHostMemoryManager *This,
                                                      ICLRMemoryNotificationCallback *pCallback)
{
	struct hm *hm = hm_of(This);
	ICLRMemoryNotificationCallback *old;

	if (pCallback)
		ICLRMemoryNotificationCallback_AddRef(pCallback);
	if (!hm_enter(hm)) {
		if (pCallback)
			ICLRMemoryNotificationCallback_Release(pCallback);
		return HOST_E_CLRNOTAVAILABLE;
	}
	old = hm->callback;
	hm->callback = pCallback;
	hm->plat->unlock(hm->plat->ctx);
	if (old)
		ICLRMemoryNotificationCallback_Release(old);
	return S_OK;
}

static HRESULT mgr_NeedsVirtualAddressSpace(IHostMemoryManager *This, LPVOID startAddress, SIZE_T size)
{
	struct hm *hm = hm_of(This);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	return hm_leave(hm, vm_needs_space(hm, (uint64_t)(uintptr_t)startAddress, size));
}

static HRESULT mgr_AcquiredVirtualAddressSpace(IHostMemoryManager *This, LPVOID startAddress, SIZE_T size)
{
	struct hm *hm = hm_of(This);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	return hm_leave(hm, vm_acquired_space(hm, (uint64_t)(uintptr_t)startAddress, size));
}

static HRESULT mgr_ReleasedVirtualAddressSpace(IHostMemoryManager *This, LPVOID startAddress)
{
	struct hm *hm = hm_of(This);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	return hm_leave(hm, vm_released_space(hm, (uint64_t)(uintptr_t)startAddress));
}

static const IHostMemoryManagerVtbl vtbl = {
	mgr_QueryInterface,
	mgr_AddRef,
	mgr_Release,
	mgr_CreateMalloc,
	mgr_VirtualAlloc,
	mgr_VirtualFree,
	mgr_VirtualQuery,
	mgr_VirtualProtect,
	mgr_GetMemoryLoad,
	mgr_RegisterMemoryNotificationCallback,
	mgr_NeedsVirtualAddressSpace,
	mgr_AcquiredVirtualAddressSpace,
	mgr_ReleasedVirtualAddressSpace,
};

/* ------------------------------------------------------------ for embedders */

hm_status hm_init(struct hm *hm, const struct hm_platform *plat,
                  const struct phys_range *ranges, size_t n, uint64_t root,
                  unsigned frame_flags)
{
	int fs;

	*hm = (struct hm){ .iface = { &vtbl }, .plat = plat, .refs = 1 };
	fs = frames_init(&hm->frames, plat, ranges, n, frame_flags);
	if (fs != FRAME_OK)
		return fs == FRAME_ERR_NO_ROOM ? HM_NO_MEMORY : HM_INVALID_PARAMETER;
	if (pt_init(&hm->pt, &hm->frames, plat, root) != PT_OK)
		return root ? HM_INVALID_PARAMETER : HM_NO_MEMORY;
	resv_tree_init(&hm->resv, VA_MIN, VA_LIMIT);
	slab_init(&hm->nodes, &hm->frames, plat->phys_base, sizeof(struct resv));
	slab_init(&hm->meta, &hm->frames, plat->phys_base, HM_META_OBJECT);
	hm->notified = pressure_level(hm, pressure_available(hm));
	pressure_band(hm, &hm->band_lo, &hm->band_hi);
	return HM_OK;
}

size_t hostmem_storage_size(void)
{
	return (sizeof(struct hm) + 15) & ~(size_t)15;
}

HRESULT hostmem_init(void *storage, const struct hm_platform *plat,
                     const struct phys_range *ranges, size_t n, uint64_t root,
                     unsigned frame_flags, IHostMemoryManager **out)
{
	struct hm *hm = storage;
	hm_status s;

	if (!out)
		return E_POINTER;
	*out = 0;
	if (!storage || !plat)
		return E_POINTER;
	s = hm_init(hm, plat, ranges, n, root, frame_flags);
	if (s != HM_OK)
		return hm_status_hresult(s);
	*out = &hm->iface;
	return S_OK;
}

/* Lock held.  A fault that just mapped demand-zero pages (not present, and
 * resolved) says more are coming: take a batch to clear for the zero list
 * once the lock is dropped, while the other CPUs may have it (frame.c,
 * theory 8), for the faults after this one. */
static uint64_t zero_ahead(struct hm *hm, uint32_t error, uint32_t code)
{
	return code || (error & HM_PF_P) ? 0 : frames_zeroing_take(&hm->frames);
}

uint32_t hostmem_fault(IHostMemoryManager *m, uint64_t va, uint32_t syndrome)
{
	struct hm *hm = hm_of(m);
	uint32_t code, error = pte_fault_access(syndrome);
	/* Not hm_enter: a manager that refuses new calls still keeps the
	 * promises it gave, unless it cannot trust its own structures. */
	uint64_t batch;

	hm_lock(hm);
	code = hm->corrupt ? STATUS_ACCESS_VIOLATION : hm_fault_locked(hm, va, error);
	batch = zero_ahead(hm, error, code);
	hm_leave(hm, HM_OK);
	if (batch)
		frames_zeroing_clear(&hm->frames, batch);
	return code;
}

void hostmem_set_verify_each(IHostMemoryManager *m, bool on)
{
	hm_of(m)->verify = on ? HM_VERIFY_EACH : HM_VERIFY_OFF;
}

uint64_t hostmem_root(IHostMemoryManager *m)
{
	return hm_of(m)->pt.root;
}

HRESULT hostmem_get_stats(IHostMemoryManager *m, struct hostmem_stats *st)
{
	struct hm *hm = hm_of(m);
	const struct frames *fr = &hm->frames;
	struct hostmem_stats out;

	if (!st)
		return E_POINTER;
	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	out = (struct hostmem_stats){
		.frames_usable = fr->usable, .frames_free = fr->nfree, .frames_zeroed = fr->nzeroed,
		.frames_data = fr->used[FRAME_DATA], .frames_tables = pt_tables(&hm->pt),
		.frames_meta = fr->used[FRAME_META], .reservations = hm->resv.count - hm->acquired,
		.commit_charge = hm->charge, .commit_promised = fr->promised,
		.commit_available = pressure_available(hm),
		.reserve_task = pressure_floor(hm, eTaskCritical),
		.reserve_appdomain = pressure_floor(hm, eAppDomainCritical),
		.frames_tables_kept = pt_kept(&hm->pt),
	};
	hm->plat->unlock(hm->plat->ctx);
	return caller_put(hm, st, &out, sizeof(out)) ? S_OK : E_POINTER;
}

HRESULT hostmem_trim(IHostMemoryManager *m)
{
	struct hm *hm = hm_of(m);

	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	reclaim_tables(hm);
	return hm_leave(hm, HM_OK);
}

HRESULT hostmem_flush_process_write_buffers(IHostMemoryManager *m)
{
	struct hm *hm = hm_of(m);

	if (hm->dead)
		return HOST_E_CLRNOTAVAILABLE;
	hm->plat->barrier_all(hm->plat->ctx);
	return S_OK;
}

static HRESULT verify_call(IHostMemoryManager *m, char *why, size_t len, bool in_use)
{
	struct hm *hm = hm_of(m);
	char text[sizeof(hm->why)] = "";
	bool ok;

	if (!why || !len)
		return E_POINTER;
	if (!hm_enter(hm))
		return HOST_E_CLRNOTAVAILABLE;
	ok = in_use ? verify_manager_in_use(hm, text, sizeof(text))
	            : verify_manager(hm, text, sizeof(text));
	if (!ok)
		hm_corrupt(hm, text);
	hm->plat->unlock(hm->plat->ctx);
	if (len > sizeof(text))
		len = sizeof(text);
	text[len - 1] = '\0';
	if (!caller_put(hm, why, text, len))
		return E_POINTER;
	return ok ? S_OK : E_FAIL;
}

HRESULT hostmem_verify(IHostMemoryManager *m, char *why, size_t len)
{
	return verify_call(m, why, len, false);
}

HRESULT hostmem_verify_in_use(IHostMemoryManager *m, char *why, size_t len)
{
	return verify_call(m, why, len, true);
}

SIZE_T hostmem_large_page_minimum(void)
{
	return HM_LARGE_PAGE;
}
