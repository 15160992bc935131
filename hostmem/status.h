/*
 * What went wrong, precisely, inside hostmem.  The core speaks these
 * (NTSTATUS-like: each names one failure); the interface turns them into the
 * Win32 error and the HRESULT in one table (status.c), which is part of the
 * public API (README, "HRESULT table").
 */
#ifndef HOSTMEM_STATUS_H
#define HOSTMEM_STATUS_H

#include "hostmem.h"

typedef enum hm_status {
	HM_OK = 0,
	HM_INVALID_PARAMETER,        /* a bad size, address, flag mix */
	HM_INVALID_PAGE_PROTECTION,  /* flProtect is not one base value + one modifier */
	HM_CONFLICTING_ADDRESSES,    /* reserve over (a 64 KiB block of) a reservation */
	HM_NOT_RESERVED,             /* commit/reset/protect outside one reservation */
	HM_NOT_COMMITTED,            /* protect over pages that are not committed */
	HM_FREE_VM_NOT_AT_BASE,      /* release, or decommit size 0, not at the base */
	HM_NOT_OURS,                 /* free of an address in no reservation of ours */
	HM_NO_MEMORY,                /* no frames, tables, nodes or address space */
	HM_COMMITMENT_LIMIT,         /* the commit charge would pass the limit */
	HM_BAD_POINTER,              /* a NULL out-pointer */
	HM_BAD_LENGTH,               /* VirtualQuery buffer too small */
	HM_DISCARDED,                /* MEM_RESET_UNDO: some data was already dropped */
	HM_CORRUPT,                  /* verify failed: the manager is now unusable */
	HM_UNAVAILABLE,              /* every call after HM_CORRUPT */
	HM_STATUS_COUNT
} hm_status;

/* The Win32 error behind a status (0 for HM_OK and the host-only ones). */
uint32_t hm_status_win32(hm_status s);
HRESULT  hm_status_hresult(hm_status s);
const char *hm_status_name(hm_status s);

#endif
