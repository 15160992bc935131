/*
 * alloc.c - VirtualAlloc: validate, decide, act.
 *
 * Every check that can fail on caller input runs before anything changes,
 * in the order Windows runs them (flags, protection, then address and size),
 * so the error a caller sees is the one Windows would report.  Then exactly
 * one of three things happens:
 *
 *   MEM_RESERVE (optionally | MEM_COMMIT): a new reservation, placed by us
 *       (lowest fit, or highest with MEM_TOP_DOWN) or at the address rounded
 *       down to 64 KiB; with MEM_COMMIT every page of it is committed.
 *   MEM_COMMIT alone: with no address, the same as reserve + commit; with
 *       one, commits [pagedown(addr), pageup(addr + size)) inside one
 *       existing reservation.
 *   MEM_RESET: the contents of committed pages may be discarded (they are,
 *       at once: the frames go back).  MEM_RESET_UNDO then reports whether
 *       any data in its range was discarded (commit.c).
 *
 * MEM_LARGE_PAGES comes with MEM_RESERVE | MEM_COMMIT and 2 MiB multiples
 * only; such a reservation is 2 MiB-aligned, backed by 2 MiB frames mapped
 * with PS entries at once, and is never committed, decommitted or reset in
 * part.  MEM_PHYSICAL (AWE) is not offered: E_INVALIDARG.
 */
#include "hm.h"
#include "pte.h"

#define ALLOC_FLAGS (MEM_COMMIT | MEM_RESERVE | MEM_TOP_DOWN | MEM_WRITE_WATCH | MEM_LARGE_PAGES)

static hm_status check_type(DWORD type)
{
	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		return HM_OK;
	if ((type & ~ALLOC_FLAGS) || !(type & (MEM_COMMIT | MEM_RESERVE)))
		return HM_INVALID_PARAMETER;
	if ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE))
		return HM_INVALID_PARAMETER;
	if ((type & MEM_LARGE_PAGES) && ((type & (MEM_COMMIT | MEM_RESERVE)) !=
	                                 (MEM_COMMIT | MEM_RESERVE) || (type & MEM_WRITE_WATCH)))
		return HM_INVALID_PARAMETER;
	return HM_OK;
}

/* Large pages: 2 MiB multiples, and a protection the CPU can map (a 2 MiB
 * page is always present: no NOACCESS, no GUARD). */
static hm_status check_large(uint64_t addr, uint64_t size, DWORD prot)
{
	if ((addr | size) & (HM_LARGE_PAGE - 1))
		return HM_INVALID_PARAMETER;
	return pte_hw_bits(prot) ? HM_OK : HM_INVALID_PAGE_PROTECTION;
}

/* Address and size: inside [VA_MIN, VA_LIMIT), no wrap, size not zero. */
static hm_status check_range(uint64_t addr, uint64_t size)
{
	if (size == 0)
		return HM_INVALID_PARAMETER;
	if (addr == 0)
		return size > VA_LIMIT - VA_MIN ? HM_INVALID_PARAMETER : HM_OK;
	if (addr < VA_MIN || addr >= VA_LIMIT || size > VA_LIMIT - addr)
		return HM_INVALID_PARAMETER;
	return HM_OK;
}

/* A new reservation; with MEM_COMMIT all of it is committed too, or
 * nothing is left behind. */
static hm_status alloc_reserve(struct hm *hm, uint64_t addr, uint64_t size, DWORD type,
                               DWORD prot, uint64_t *out)
{
	uint32_t flags = ((type & MEM_WRITE_WATCH) ? RESV_F_WRITE_WATCH : 0) |
	                 ((type & MEM_LARGE_PAGES) ? RESV_F_LARGE_PAGES : 0);
	struct resv *r;
	hm_status s;

	s = reserve(hm, addr, size, (type & MEM_TOP_DOWN) != 0, prot, flags, &r);
	if (s != HM_OK)
		return s;
	if (type & MEM_COMMIT) {
		s = (flags & RESV_F_LARGE_PAGES) ? commit_large(hm, r->base, r->end, prot)
		                                  : commit_range(hm, r->base, r->end, prot);
		if (s != HM_OK) {
			release(hm, r);
			return s;
		}
		r->flags |= RESV_F_COMMITTED;
	}
	*out = r->base;
	return HM_OK;
}

/* [pagedown(addr), pageup(addr + size)) inside one reservation, or NULL. */
static struct resv *range_in_resv(struct hm *hm, uint64_t addr, uint64_t size,
                                  uint64_t *va, uint64_t *end)
{
	struct resv *r = resv_find(&hm->resv, page_down(addr));

	*va = page_down(addr);
	*end = page_up(addr + size);
	return r && *end <= r->end && !(r->flags & RESV_F_ACQUIRED) ? r : 0;
}

static hm_status alloc_commit(struct hm *hm, uint64_t addr, uint64_t size, DWORD prot,
                              uint64_t *out)
{
	uint64_t va, end;
	struct resv *r = range_in_resv(hm, addr, size, &va, &end);
	hm_status s;

	if (!r)
		return HM_NOT_RESERVED;
	if (r->flags & RESV_F_LARGE_PAGES)
		return HM_INVALID_PARAMETER;     /* committed whole when reserved */
	prot = pte_prot_in(prot, r->protect);
	if (!pte_prot_valid(prot))
		return HM_INVALID_PAGE_PROTECTION;
	s = commit_range(hm, va, end, prot);
	if (s == HM_OK) {
		r->flags |= RESV_F_COMMITTED;
		*out = va;
	}
	return s;
}

/* The protection passed with MEM_RESET or MEM_RESET_UNDO must be valid but
 * means nothing. */
static hm_status alloc_reset(struct hm *hm, uint64_t addr, uint64_t size, DWORD type,
                             uint64_t *out)
{
	uint64_t va, end;

	if (addr == 0 || !range_in_resv(hm, addr, size, &va, &end))
		return HM_NOT_RESERVED;
	if (type == MEM_RESET_UNDO && !undo_reset(hm, va, end))
		return HM_DISCARDED;
	if (type == MEM_RESET)
		reset_range(hm, va, end);
	*out = va;
	return HM_OK;
}

hm_status vm_alloc(struct hm *hm, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                   uint64_t *out)
{
	hm_status s = check_type(type);

	if (s == HM_OK && !pte_prot_valid(prot))
		s = HM_INVALID_PAGE_PROTECTION;
	if (s == HM_OK && !out)
		s = HM_BAD_POINTER;
	if (s == HM_OK)
		s = check_range(addr, size);
	if (s == HM_OK && (type & MEM_LARGE_PAGES))
		s = check_large(addr, size, prot);
	if (s != HM_OK)
		return s;
	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		return alloc_reset(hm, addr, size, type, out);
	if ((type & MEM_RESERVE) || addr == 0)
		return alloc_reserve(hm, addr, size, type, prot, out);
	return alloc_commit(hm, addr, size, prot, out);
}
