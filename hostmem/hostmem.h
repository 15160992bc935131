/*
 * hostmem.h - the one header a user of hostmem includes.
 *
 * IHostMemoryManager (MSCorEE.h) in the C shape MIDL emits: an interface is a
 * struct whose first member points at a table of functions, each taking the
 * interface pointer first.  Semantics are those of Win32 VirtualAlloc,
 * VirtualFree, VirtualQuery and VirtualProtect on x64; errors are HRESULTs,
 * mapped from the Win32 errors one to one (README, "HRESULT table").
 *
 * Freestanding: only <stdint.h> and <stddef.h>.
 */
#ifndef HOSTMEM_HOSTMEM_H
#define HOSTMEM_HOSTMEM_H

#include <stdint.h>
#include <stddef.h>

/* ------------------------------------------------------------ Windows types */
typedef int32_t   HRESULT;
typedef uint32_t  DWORD;
typedef uint32_t  ULONG;
typedef size_t    SIZE_T;
typedef uintptr_t ULONG_PTR;
typedef void     *LPVOID;
typedef int       BOOL;

typedef struct _GUID {
	uint32_t Data1;
	uint16_t Data2;
	uint16_t Data3;
	uint8_t  Data4[8];
} GUID;
typedef GUID IID;
typedef const IID *REFIID;

/* ------------------------------------------------------------ constants */
#define HM_PAGE_SIZE               0x1000u
#define HM_ALLOCATION_GRANULARITY  0x10000u
#define HM_USER_MIN                0x10000ull
#define HM_USER_LIMIT              0x7FFFFFFF0000ull  /* exclusive */

#define MEM_COMMIT        0x00001000u
#define MEM_RESERVE       0x00002000u
#define MEM_DECOMMIT      0x00004000u
#define MEM_RELEASE       0x00008000u
#define MEM_FREE          0x00010000u
#define MEM_PRIVATE       0x00020000u
#define MEM_RESET         0x00080000u
#define MEM_TOP_DOWN      0x00100000u
#define MEM_WRITE_WATCH   0x00200000u
#define MEM_PHYSICAL      0x00400000u
#define MEM_RESET_UNDO    0x01000000u
#define MEM_LARGE_PAGES   0x20000000u

#define PAGE_NOACCESS           0x01u
#define PAGE_READONLY           0x02u
#define PAGE_READWRITE          0x04u
#define PAGE_WRITECOPY          0x08u
#define PAGE_EXECUTE            0x10u
#define PAGE_EXECUTE_READ       0x20u
#define PAGE_EXECUTE_READWRITE  0x40u
#define PAGE_EXECUTE_WRITECOPY  0x80u
#define PAGE_GUARD              0x100u
#define PAGE_NOCACHE            0x200u
#define PAGE_WRITECOMBINE       0x400u

#define WRITE_WATCH_FLAG_RESET  0x01u

#define HRESULT_FROM_WIN32(e) \
	((HRESULT)((e) <= 0 ? (uint32_t)(e) : (((uint32_t)(e) & 0xFFFFu) | 0x80070000u)))

/* The interface's codes (CONTRACT.md).  E_NOTIMPL is among them, for
 * hosting code that compares against it, but no method here returns it:
 * every method of both interfaces is implemented. */
#define S_OK                     ((HRESULT)0)
#define E_NOTIMPL                ((HRESULT)0x80004001u)
#define E_NOINTERFACE            ((HRESULT)0x80004002u)
#define E_POINTER                ((HRESULT)0x80004003u)
#define E_FAIL                   ((HRESULT)0x80004005u)
#define E_OUTOFMEMORY            ((HRESULT)0x8007000Eu)
#define E_INVALIDARG             ((HRESULT)0x80070057u)
#define HOST_E_INVALIDOPERATION  ((HRESULT)0x80131022u)
#define HOST_E_CLRNOTAVAILABLE   ((HRESULT)0x80131023u)
#define HOST_E_TIMEOUT           ((HRESULT)0x80131024u)
#define HOST_E_NOT_OWNER         ((HRESULT)0x80131025u)
#define HOST_E_ABANDONED         ((HRESULT)0x80131026u)

#define ERROR_NOT_ENOUGH_MEMORY   8u
#define ERROR_BAD_LENGTH          24u
#define ERROR_DISCARDED           157u   /* MEM_RESET_UNDO: data was discarded */
#define ERROR_INVALID_PARAMETER   87u
#define ERROR_INVALID_ADDRESS     487u
#define ERROR_NOACCESS            998u
#define ERROR_COMMITMENT_LIMIT    1455u

#define STATUS_ACCESS_VIOLATION      0xC0000005u
#define STATUS_GUARD_PAGE_VIOLATION  0x80000001u

typedef enum {
	eTaskCritical = 0,
	eAppDomainCritical = 1,
	eProcessCritical = 2
} EMemoryCriticalLevel;

typedef enum {
	eMemoryAvailableLow = 1,
	eMemoryAvailableNeutral = 2,
	eMemoryAvailableHigh = 3
} EMemoryAvailable;

typedef enum {
	MALLOC_THREADSAFE = 0x1,
	MALLOC_EXECUTABLE = 0x2
} MALLOC_TYPE;

typedef struct _MEMORY_BASIC_INFORMATION {
	void     *BaseAddress;
	void     *AllocationBase;
	DWORD     AllocationProtect;
	DWORD     __alignment1;
	SIZE_T    RegionSize;
	DWORD     State;
	DWORD     Protect;
	DWORD     Type;
	DWORD     __alignment2;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

_Static_assert(sizeof(MEMORY_BASIC_INFORMATION) == 48, "MEMORY_BASIC_INFORMATION is 48 bytes on x64");

extern const IID IID_IUnknown;
extern const IID IID_IHostMemoryManager;             /* {7BC698D1-F9E3-4460-9CDE-D04248E9FA25} */
extern const IID IID_IHostMalloc;                    /* {1831991C-CC53-4A31-B218-04E910446479} */
extern const IID IID_ICLRMemoryNotificationCallback; /* {47EB8E57-0846-4546-AF76-6F42FCFC2649} */

/* ------------------------------------------------------------ ICLRMemoryNotificationCallback */
typedef struct ICLRMemoryNotificationCallback ICLRMemoryNotificationCallback;
typedef struct ICLRMemoryNotificationCallbackVtbl {
	HRESULT (*QueryInterface)(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppvObject);
	ULONG   (*AddRef)(ICLRMemoryNotificationCallback *This);
	ULONG   (*Release)(ICLRMemoryNotificationCallback *This);
	HRESULT (*OnMemoryNotification)(ICLRMemoryNotificationCallback *This, EMemoryAvailable eMemoryAvailable);
} ICLRMemoryNotificationCallbackVtbl;
struct ICLRMemoryNotificationCallback { const ICLRMemoryNotificationCallbackVtbl *lpVtbl; };

#define ICLRMemoryNotificationCallback_QueryInterface(This, riid, ppv) ((This)->lpVtbl->QueryInterface(This, riid, ppv))
#define ICLRMemoryNotificationCallback_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define ICLRMemoryNotificationCallback_Release(This) ((This)->lpVtbl->Release(This))
#define ICLRMemoryNotificationCallback_OnMemoryNotification(This, e) ((This)->lpVtbl->OnMemoryNotification(This, e))

/* ------------------------------------------------------------ IHostMalloc */
typedef struct IHostMalloc IHostMalloc;
typedef struct IHostMallocVtbl {
	HRESULT (*QueryInterface)(IHostMalloc *This, REFIID riid, void **ppvObject);
	ULONG   (*AddRef)(IHostMalloc *This);
	ULONG   (*Release)(IHostMalloc *This);
	HRESULT (*Alloc)(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel, void **ppMem);
	HRESULT (*DebugAlloc)(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
	                      char *pszFileName, int iLineNo, void **ppMem);
	HRESULT (*Free)(IHostMalloc *This, void *pMem);
} IHostMallocVtbl;
struct IHostMalloc { const IHostMallocVtbl *lpVtbl; };

#define IHostMalloc_QueryInterface(This, riid, ppv) ((This)->lpVtbl->QueryInterface(This, riid, ppv))
#define IHostMalloc_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IHostMalloc_Release(This) ((This)->lpVtbl->Release(This))
#define IHostMalloc_Alloc(This, cb, level, pp) ((This)->lpVtbl->Alloc(This, cb, level, pp))
#define IHostMalloc_DebugAlloc(This, cb, level, file, line, pp) \
	((This)->lpVtbl->DebugAlloc(This, cb, level, file, line, pp))
#define IHostMalloc_Free(This, p) ((This)->lpVtbl->Free(This, p))

/* ------------------------------------------------------------ IHostMemoryManager */
typedef struct IHostMemoryManager IHostMemoryManager;
typedef struct IHostMemoryManagerVtbl {
	HRESULT (*QueryInterface)(IHostMemoryManager *This, REFIID riid, void **ppvObject);
	ULONG   (*AddRef)(IHostMemoryManager *This);
	ULONG   (*Release)(IHostMemoryManager *This);
	HRESULT (*CreateMalloc)(IHostMemoryManager *This, DWORD dwMallocType, IHostMalloc **ppMalloc);
	HRESULT (*VirtualAlloc)(IHostMemoryManager *This, void *pAddress, SIZE_T dwSize,
	                        DWORD flAllocationType, DWORD flProtect,
	                        EMemoryCriticalLevel dwCriticalLevel, void **ppMem);
	HRESULT (*VirtualFree)(IHostMemoryManager *This, LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);
	HRESULT (*VirtualQuery)(IHostMemoryManager *This, void *lpAddress, void *lpBuffer,
	                        SIZE_T dwLength, SIZE_T *pResult);
	HRESULT (*VirtualProtect)(IHostMemoryManager *This, void *lpAddress, SIZE_T dwSize,
	                          DWORD flNewProtect, DWORD *pflOldProtect);
	HRESULT (*GetMemoryLoad)(IHostMemoryManager *This, DWORD *pMemoryLoad, SIZE_T *pAvailableBytes);
	HRESULT (*RegisterMemoryNotificationCallback)(IHostMemoryManager *This,
	                                              ICLRMemoryNotificationCallback *pCallback);
	HRESULT (*NeedsVirtualAddressSpace)(IHostMemoryManager *This, LPVOID startAddress, SIZE_T size);
	HRESULT (*AcquiredVirtualAddressSpace)(IHostMemoryManager *This, LPVOID startAddress, SIZE_T size);
	HRESULT (*ReleasedVirtualAddressSpace)(IHostMemoryManager *This, LPVOID startAddress);
} IHostMemoryManagerVtbl;
struct IHostMemoryManager { const IHostMemoryManagerVtbl *lpVtbl; };

#define IHostMemoryManager_QueryInterface(This, riid, ppv) ((This)->lpVtbl->QueryInterface(This, riid, ppv))
#define IHostMemoryManager_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IHostMemoryManager_Release(This) ((This)->lpVtbl->Release(This))
#define IHostMemoryManager_CreateMalloc(This, type, pp) ((This)->lpVtbl->CreateMalloc(This, type, pp))
#define IHostMemoryManager_VirtualAlloc(This, addr, size, type, prot, level, pp) \
	((This)->lpVtbl->VirtualAlloc(This, addr, size, type, prot, level, pp))
#define IHostMemoryManager_VirtualFree(This, addr, size, type) ((This)->lpVtbl->VirtualFree(This, addr, size, type))
#define IHostMemoryManager_VirtualQuery(This, addr, buf, len, pres) \
	((This)->lpVtbl->VirtualQuery(This, addr, buf, len, pres))
#define IHostMemoryManager_VirtualProtect(This, addr, size, prot, pold) \
	((This)->lpVtbl->VirtualProtect(This, addr, size, prot, pold))
#define IHostMemoryManager_GetMemoryLoad(This, pload, pavail) ((This)->lpVtbl->GetMemoryLoad(This, pload, pavail))
#define IHostMemoryManager_RegisterMemoryNotificationCallback(This, cb) \
	((This)->lpVtbl->RegisterMemoryNotificationCallback(This, cb))
#define IHostMemoryManager_NeedsVirtualAddressSpace(This, addr, size) \
	((This)->lpVtbl->NeedsVirtualAddressSpace(This, addr, size))
#define IHostMemoryManager_AcquiredVirtualAddressSpace(This, addr, size) \
	((This)->lpVtbl->AcquiredVirtualAddressSpace(This, addr, size))
#define IHostMemoryManager_ReleasedVirtualAddressSpace(This, addr) \
	((This)->lpVtbl->ReleasedVirtualAddressSpace(This, addr))

/* ------------------------------------------------------------ extras (Win32 beyond the interface) */
HRESULT hostmem_get_write_watch(IHostMemoryManager *m, DWORD dwFlags, void *base, SIZE_T size,
                                void **addresses, ULONG_PTR *count, DWORD *granularity);
HRESULT hostmem_reset_write_watch(IHostMemoryManager *m, void *base, SIZE_T size);
SIZE_T  hostmem_large_page_minimum(void);

/* The blocks an IHostMalloc handed out through DebugAlloc and not yet freed:
 * *count of them, each reported (when report is not NULL) with its size and
 * the file and line DebugAlloc was given. */
typedef void (*hostmem_leak_fn)(void *ctx, void *p, SIZE_T size, const char *file, int line);
HRESULT hostmem_malloc_leaks(IHostMalloc *m, hostmem_leak_fn report, void *ctx, SIZE_T *count);

/* Counters of one manager, in 4 KiB pages unless named otherwise. */
struct hostmem_stats {
	uint64_t frames_usable;      /* physical frames the manager was given */
	uint64_t frames_free;        /* in the frame allocator */
	uint64_t frames_zeroed;      /* free and known to be zero */
	uint64_t frames_data;        /* backing committed pages */
	uint64_t frames_tables;      /* page-table pages (the root excluded) */
	uint64_t frames_meta;        /* hostmem's own metadata */
	uint64_t reservations;
	uint64_t commit_charge;      /* committed pages */
	uint64_t commit_promised;    /* committed, not yet touched: a frame is set aside */
	uint64_t commit_available;   /* pages a commit could still take now */
	uint64_t reserve_task;       /* a task-critical commit must leave this much available */
	uint64_t reserve_appdomain;  /* the same for an app-domain-critical commit */
	uint64_t frames_tables_kept; /* of frames_tables, empty page tables a decommit kept
	                                for the next commit (freed before a commit is refused) */
};
HRESULT hostmem_get_stats(IHostMemoryManager *m, struct hostmem_stats *st);

/* *resident = the pages of [base, base + size) that hold a frame: committed
 * and touched (read or written) since the commit, whatever the protection
 * now (a NOACCESS or GUARD page keeps its frame).  Committed pages not yet
 * touched owe a frame but hold none.  VMMap's "working set" column, from the
 * page tables (Win32 QueryWorkingSetEx reports it per page).  The range is
 * page-rounded and may cross reservations and free space; E_INVALIDARG when
 * it leaves the managed range, E_POINTER for a NULL resident. */
HRESULT hostmem_resident_pages(IHostMemoryManager *m, void *base, SIZE_T size, SIZE_T *resident);

/* Frees the empty page tables decommits kept for the next commit there
 * (frames_tables_kept in the stats).  hostmem frees them by itself before it
 * would refuse a request for want of frames; this is for an embedder that
 * wants them back sooner (a trim, as Windows' EmptyWorkingSet). */
HRESULT hostmem_trim(IHostMemoryManager *m);

/* Returns after every online CPU has executed a full memory barrier (the
 * CLR's FlushProcessWriteBuffers): through the platform's IPIs in the
 * kernel; in the twin, on every thread of the process (membarrier). */
HRESULT hostmem_flush_process_write_buffers(IHostMemoryManager *m);

/* Walks every structure and page table and cross-checks them: S_OK, or
 * E_FAIL with the first broken invariant described in why. */
HRESULT hostmem_verify(IHostMemoryManager *m, char *why, size_t len);
/* The same ownership and counters at a cost that follows what is in use
 * (mapped pages, reservations, free blocks), not the size of RAM: frames are
 * proved owned by counting, not by visiting every record.  What
 * hostmem_set_verify_each runs inside every call. */
HRESULT hostmem_verify_in_use(IHostMemoryManager *m, char *why, size_t len);

/* The name of an HRESULT this interface returns ("E_INVALIDARG", ...). */
const char *hostmem_hresult_name(HRESULT hr);

#endif
