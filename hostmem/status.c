/*
 * The HRESULT table.  IHostMemoryManager documents S_OK, E_OUTOFMEMORY and
 * the HOST_E_* codes but not how parameter errors surface; we carry the Win32
 * error that VirtualAlloc & co. would set through HRESULT_FROM_WIN32, except
 * where the interface already has a name for it (E_INVALIDARG is
 * HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER); E_OUTOFMEMORY is
 * HRESULT_FROM_WIN32(ERROR_NOT_ENOUGH_MEMORY) and stands for the commit limit
 * too; E_POINTER stands for ERROR_NOACCESS).
 */
#include "status.h"

static const struct {
	const char *name;
	uint32_t win32;
	HRESULT hr;
} table[HM_STATUS_COUNT] = {
	[HM_OK]                      = { "OK",                      0,                       S_OK },
	[HM_INVALID_PARAMETER]       = { "INVALID_PARAMETER",       ERROR_INVALID_PARAMETER, E_INVALIDARG },
	[HM_INVALID_PAGE_PROTECTION] = { "INVALID_PAGE_PROTECTION", ERROR_INVALID_PARAMETER, E_INVALIDARG },
	[HM_CONFLICTING_ADDRESSES]   = { "CONFLICTING_ADDRESSES",   ERROR_INVALID_ADDRESS,   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) },
	[HM_NOT_RESERVED]            = { "NOT_RESERVED",            ERROR_INVALID_ADDRESS,   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) },
	[HM_NOT_COMMITTED]           = { "NOT_COMMITTED",           ERROR_INVALID_ADDRESS,   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) },
	[HM_FREE_VM_NOT_AT_BASE]     = { "FREE_VM_NOT_AT_BASE",     ERROR_INVALID_ADDRESS,   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS) },
	[HM_NOT_OURS]                = { "NOT_OURS",                ERROR_INVALID_ADDRESS,   HOST_E_INVALIDOPERATION },
	[HM_NO_MEMORY]               = { "NO_MEMORY",               ERROR_NOT_ENOUGH_MEMORY, E_OUTOFMEMORY },
	[HM_COMMITMENT_LIMIT]        = { "COMMITMENT_LIMIT",        ERROR_COMMITMENT_LIMIT,  E_OUTOFMEMORY },
	[HM_BAD_POINTER]             = { "BAD_POINTER",             ERROR_NOACCESS,          E_POINTER },
	[HM_BAD_LENGTH]              = { "BAD_LENGTH",              ERROR_BAD_LENGTH,        HRESULT_FROM_WIN32(ERROR_BAD_LENGTH) },
	[HM_DISCARDED]               = { "DISCARDED",               ERROR_DISCARDED,         HRESULT_FROM_WIN32(ERROR_DISCARDED) },
	[HM_CORRUPT]                 = { "CORRUPT",                 0,                       E_FAIL },
	[HM_UNAVAILABLE]             = { "UNAVAILABLE",             0,                       HOST_E_CLRNOTAVAILABLE },
};

uint32_t hm_status_win32(hm_status s)
{
	return s < HM_STATUS_COUNT ? table[s].win32 : 0;
}

HRESULT hm_status_hresult(hm_status s)
{
	return s < HM_STATUS_COUNT ? table[s].hr : E_FAIL;
}

const char *hm_status_name(hm_status s)
{
	return s < HM_STATUS_COUNT ? table[s].name : "?";
}

const char *hostmem_hresult_name(HRESULT hr)
{
	switch ((uint32_t)hr) {
	case (uint32_t)S_OK:                    return "S_OK";
	case (uint32_t)E_NOTIMPL:               return "E_NOTIMPL";
	case (uint32_t)E_NOINTERFACE:           return "E_NOINTERFACE";
	case (uint32_t)E_POINTER:               return "E_POINTER";
	case (uint32_t)E_FAIL:                  return "E_FAIL";
	case (uint32_t)E_OUTOFMEMORY:           return "E_OUTOFMEMORY";
	case (uint32_t)E_INVALIDARG:            return "E_INVALIDARG";
	case (uint32_t)HOST_E_INVALIDOPERATION: return "HOST_E_INVALIDOPERATION";
	case (uint32_t)HOST_E_CLRNOTAVAILABLE:  return "HOST_E_CLRNOTAVAILABLE";
	case (uint32_t)HOST_E_TIMEOUT:          return "HOST_E_TIMEOUT";
	case (uint32_t)HOST_E_NOT_OWNER:        return "HOST_E_NOT_OWNER";
	case (uint32_t)HOST_E_ABANDONED:        return "HOST_E_ABANDONED";
	case (uint32_t)HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS): return "HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)";
	case (uint32_t)HRESULT_FROM_WIN32(ERROR_BAD_LENGTH):      return "HRESULT_FROM_WIN32(ERROR_BAD_LENGTH)";
	case (uint32_t)HRESULT_FROM_WIN32(ERROR_DISCARDED):       return "HRESULT_FROM_WIN32(ERROR_DISCARDED)";
	default:                                return "HRESULT";
	}
}
