/*
 * model.c - the reference model of the contract.  See model.h for what it
 * keeps, why it is independent of hostmem, and what it accepts where the
 * contract leaves a choice.
 *
 * The file follows the contract's own order: the parameters a call is
 * given (protections, allocation types, ranges), then the address space
 * (reservations and where a new one goes), then the commit limit, then the
 * pages, and last the five things a caller can do (VirtualAlloc,
 * VirtualFree, VirtualProtect, VirtualQuery, touching memory).  Each public
 * call first checks its arguments in NT's order (flags, protection,
 * out-pointers, then address and size, all before any reservation is
 * looked up), then applies one rule; a failing call changes nothing.
 *
 * Deliberately naive: reservations are a sorted array searched by loops,
 * pages are one struct each, nothing is cached.  The only shortcut: loops
 * over a range skip the untracked space between the two windows in one
 * step, because the driver's fence reservation spans 128 TiB of it.
 */
#include "tests/model/model.h"

#define P        MODEL_PAGE
#define G        MODEL_GRANULE
#define S        MODEL_SAMPLE
#define LARGE    MODEL_LARGE
#define E_ADDR   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define E_LENGTH HRESULT_FROM_WIN32(ERROR_BAD_LENGTH)

/* The protection's parts: one base value, at most one modifier. */
#define BASE_MASK  0xFFu
#define CACHE      (PAGE_NOCACHE | PAGE_WRITECOMBINE)
#define MODIFIERS  (PAGE_GUARD | CACHE)

static uint64_t align_down(uint64_t va, uint64_t a) { return va & ~(a - 1); }
static uint64_t align_up(uint64_t va, uint64_t a)   { return (va + a - 1) & ~(a - 1); }
static uint64_t model_page_down(uint64_t va)              { return align_down(va, P); }
static uint64_t model_page_up(uint64_t va)                { return align_up(va, P); }

/* ================================================================ parameters */

/* "Exactly one of NOACCESS, READONLY, READWRITE, EXECUTE, EXECUTE_READ,
 * EXECUTE_READWRITE, optionally with one of GUARD, NOCACHE, WRITECOMBINE";
 * NOACCESS takes no modifier at all (Windows refuses NOCACHE there too). */
bool model_prot_valid(DWORD prot)
{
	static const DWORD bases[] = {
		PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
		PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
	};
	DWORD base = prot & BASE_MASK, mod = prot & ~BASE_MASK;
	bool known = false;

	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
		known |= base == bases[i];
	if (!known)
		return false;
	if (mod == 0)
		return true;
	if (mod != PAGE_GUARD && mod != PAGE_NOCACHE && mod != PAGE_WRITECOMBINE)
		return false;   /* an unknown bit, or two modifiers */
	return base != PAGE_NOACCESS;
}

/* "flAllocationType must contain COMMIT or RESERVE (or be exactly
 * MEM_RESET, or exactly MEM_RESET_UNDO)"; TOP_DOWN may come along;
 * WRITE_WATCH only with RESERVE; LARGE_PAGES only with RESERVE | COMMIT
 * (and not with WRITE_WATCH).  Anything else, MEM_PHYSICAL included, is
 * ERROR_INVALID_PARAMETER. */
static bool alloc_type_valid(DWORD type)
{
	const DWORD rc = MEM_RESERVE | MEM_COMMIT;
	const DWORD known = rc | MEM_TOP_DOWN | MEM_WRITE_WATCH | MEM_LARGE_PAGES;

	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		return true;
	if ((type & ~known) != 0 || (type & rc) == 0)
		return false;
	if ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE))
		return false;
	if (type & MEM_LARGE_PAGES)
		return (type & rc) == rc && !(type & MEM_WRITE_WATCH);
	return true;
}

/* Large pages are always read/write to the CPU: no NOACCESS, no GUARD. */
static bool large_prot_ok(DWORD prot)
{
	return (prot & BASE_MASK) != PAGE_NOACCESS && !(prot & PAGE_GUARD);
}

/* "Cache attributes belong to the allocation": a page's NOCACHE or
 * WRITECOMBINE is always its reservation's, whatever a commit or a
 * VirtualProtect asks for.  The result may be invalid (the allocation's
 * NOCACHE with a GUARD asked for): the caller refuses that. */
static DWORD with_allocation_cache(DWORD prot, const struct model_resv *r)
{
	return (prot & ~(DWORD)CACHE) | (r->prot & CACHE);
}

/* [addr, addr + size) inside the managed range, without wrapping. */
static bool in_managed_range(uint64_t addr, uint64_t size)
{
	return addr >= MODEL_MIN && addr < MODEL_LIMIT && size <= MODEL_LIMIT - addr;
}

/* VirtualAlloc's arguments, in NT's order: flags (the critical level is
 * one), protection, out-pointer, then address and size, then the shape a
 * large-page request must have. */
static HRESULT alloc_arguments(uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                               uint32_t level, bool out_given)
{
	if (!alloc_type_valid(type) || level > eProcessCritical)
		return E_INVALIDARG;
	if (!model_prot_valid(prot))
		return E_INVALIDARG;
	if (!out_given)
		return E_POINTER;
	if (size == 0)
		return E_INVALIDARG;
	if (addr == 0 ? size > MODEL_LIMIT - MODEL_MIN : !in_managed_range(addr, size))
		return E_INVALIDARG;
	if ((type & MEM_LARGE_PAGES) && ((addr % LARGE) || (size % LARGE) || !large_prot_ok(prot)))
		return E_INVALIDARG;
	return S_OK;
}

/* ================================================================ pages */

struct model_page *model_page_at(struct model *m, uint64_t va)
{
	if (va >= MODEL_LOW_BASE && va < MODEL_LOW_END)
		return &m->page[(va - MODEL_LOW_BASE) / P];
	if (va >= MODEL_HIGH_BASE && va < MODEL_LIMIT)
		return &m->page[MODEL_LOW_PAGES + (va - MODEL_HIGH_BASE) / P];
	return 0;
}

/* The first address >= va (and < end) whose page the model tracks, else end. */
static uint64_t first_tracked(uint64_t va, uint64_t end)
{
	if (va < MODEL_LOW_BASE)
		va = MODEL_LOW_BASE;
	else if (va >= MODEL_LOW_END && va < MODEL_HIGH_BASE)
		va = MODEL_HIGH_BASE;
	return va < end ? va : end;
}

#define FOR_TRACKED(a, va, end) \
	for (uint64_t a = first_tracked(va, end); a < (end); a = first_tracked(a + P, end))

int model_sample_index(uint64_t offset)
{
	if (offset < S)
		return (int)offset;
	if (offset >= P - S && offset < P)
		return (int)(S + offset - (P - S));
	return -1;
}

/* ================================================================ the address space */

/* Index of the last reservation with base <= va, or -1. */
static long floor_index(const struct model *m, uint64_t va)
{
	long i = (long)m->nresv - 1;

	while (i >= 0 && m->resv[i].base > va)
		i--;
	return i;
}

struct model_resv *model_resv_at(struct model *m, uint64_t va)
{
	long i = floor_index(m, va);

	return i >= 0 && va < m->resv[i].end ? &m->resv[i] : 0;
}

/* The one reservation [pagedown(addr), pageup(addr + size)) lies in, or
 * NULL ("must all lie in one reservation").  size does not wrap. */
static struct model_resv *holding(struct model *m, uint64_t addr, uint64_t size)
{
	struct model_resv *r = model_resv_at(m, model_page_down(addr));

	return r && model_page_up(addr + size) <= r->end ? r : 0;
}

/* "A reservation owns every 64 KiB block it touches": [base, end) may be
 * reserved if no other reservation touches one of its blocks. */
static bool blocks_free(const struct model *m, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < m->nresv; i++)
		if (m->resv[i].base < align_up(end, G) && align_up(m->resv[i].end, G) > base)
			return false;
	return true;
}

/* Gap k (0..nresv) of free blocks: before reservation k, after k - 1. */
static void gap(const struct model *m, size_t k, uint64_t *lo, uint64_t *hi)
{
	*lo = k == 0 ? MODEL_MIN : align_up(m->resv[k - 1].end, G);
	*hi = k == m->nresv ? MODEL_LIMIT : m->resv[k].base;
}

/* Whether len bytes at base are a place a new reservation may go. */
static bool spot_ok(const struct model *m, uint64_t base, uint64_t len, uint64_t align)
{
	return base % align == 0 && base >= MODEL_MIN && base < MODEL_LIMIT &&
	       len <= MODEL_LIMIT - base && blocks_free(m, base, base + len);
}

/* The lowest aligned base where len bytes fit. */
static bool lowest_spot(const struct model *m, uint64_t len, uint64_t align, uint64_t *base)
{
	uint64_t lo, hi;

	for (size_t k = 0; k <= m->nresv; k++) {
		gap(m, k, &lo, &hi);
		*base = align_up(lo, align);
		if (*base < hi && hi - *base >= len)
			return true;
	}
	return false;
}

/* "MEM_TOP_DOWN places it as high as possible": the highest aligned base. */
static bool highest_spot(const struct model *m, uint64_t len, uint64_t align, uint64_t *base)
{
	uint64_t lo, hi;

	for (size_t k = m->nresv + 1; k-- > 0;) {
		gap(m, k, &lo, &hi);
		if (hi < lo || hi - lo < len)
			continue;
		*base = align_down(hi - len, align);
		if (*base >= lo)
			return true;
	}
	return false;
}

/* Where a placed reservation of len bytes goes.  Top-down: exactly the
 * highest spot.  Bottom-up: wherever the implementation put it, if that is
 * a spot the rules allow; else the lowest (so a refusal while there is
 * room, or a bad spot, shows as a divergence). */
static bool choose_spot(const struct model *m, uint64_t len, DWORD type, HRESULT impl,
                        uint64_t impl_addr, uint64_t *base)
{
	uint64_t align = (type & MEM_LARGE_PAGES) ? LARGE : G;
	if (type & MEM_TOP_DOWN)
		return highest_spot(m, len, align, base);
	if (impl == S_OK && spot_ok(m, impl_addr, len, align)) {
		*base = impl_addr;
		return true;
	}
	return lowest_spot(m, len, align, base);
}

static void add_resv(struct model *m, uint64_t base, uint64_t end, DWORD prot, bool large)
{
	size_t i = m->nresv;

	for (; i > 0 && m->resv[i - 1].base > base; i--)
		m->resv[i] = m->resv[i - 1];
	m->resv[i] = (struct model_resv){ base, end, prot, large };
	m->nresv++;
}

static void drop_resv(struct model *m, struct model_resv *r)
{
	size_t i = (size_t)(r - m->resv);

	for (; i + 1 < m->nresv; i++)
		m->resv[i] = m->resv[i + 1];
	m->nresv--;
}

/* ================================================================ the commit limit */

/* The limits on a machine with usable frames (model.h): no commit beyond
 * the frames that exist; certainly room up to the frames minus what the
 * manager may hold for itself; and each level's reserve. */
static struct model_limits limits_for(uint64_t usable)
{
	struct model_limits l = { .max = usable };

	l.sure = usable > MODEL_OVERHEAD_FRAMES ? usable - MODEL_OVERHEAD_FRAMES : 0;
	l.reserve[eTaskCritical] = usable / MODEL_TASK_SHARE;
	l.reserve[eAppDomainCritical] = usable / MODEL_APPDOMAIN_SHARE;
	l.reserve[eProcessCritical] = 0;
	return l;
}

/* Is a change that adds fresh pages of charge, and must leave keep pages
 * available, refused for lack of memory?  Beyond the band always; inside
 * it (and for large pages anywhere below its top) as the implementation
 * answered; below it never. */
static bool refused_for_memory(const struct model *m, uint64_t fresh, uint64_t keep, bool large,
                               HRESULT impl)
{
	uint64_t need = m->charge + fresh + keep;

	if (need > m->limit.max)
		return true;
	if (need <= m->limit.sure && !large)
		return false;
	return impl == E_OUTOFMEMORY;
}

/* ================================================================ page state */

/* Pages of [va, end) not committed; false if one is untracked. */
static bool count_uncommitted(struct model *m, uint64_t va, uint64_t end, uint64_t *n)
{
	struct model_page *p;

	*n = 0;
	for (; va < end; va += P) {
		p = model_page_at(m, va);
		if (!p)
			return false;
		*n += !p->committed;
	}
	return true;
}

/* Whether every page of [va, end) is committed (untracked pages never are). */
static bool all_committed(struct model *m, uint64_t va, uint64_t end)
{
	struct model_page *p;

	for (; va < end; va += P) {
		p = model_page_at(m, va);
		if (!p || !p->committed)
			return false;
	}
	return true;
}

/* "New pages read as zero.  Already-committed pages keep their contents and
 * take the new protection."  A reset mark stays (only a decommit drops it). */
static void commit_pages(struct model *m, uint64_t va, uint64_t end, DWORD prot)
{
	struct model_page *p;

	for (; va < end; va += P) {
		p = model_page_at(m, va);
		if (!p->committed) {
			*p = (struct model_page){ .committed = 1 };
			m->charge++;
		}
		p->prot = (uint16_t)prot;
	}
}

/* Forgets the refused undos a decommit of [va, end) touches: their lost
 * data is gone for good, and a new commit starts clean. */
static void forget_lost(struct model *m, uint64_t va, uint64_t end)
{
	for (size_t i = m->nlost; i-- > 0;)
		if (m->lost[i].va < end && m->lost[i].end > va)
			m->lost[i] = m->lost[--m->nlost];
}

/* Back to reserved: contents, protection and reset marks are gone. */
static void decommit_pages(struct model *m, uint64_t va, uint64_t end)
{
	forget_lost(m, va, end);
	FOR_TRACKED(a, va, end) {
		struct model_page *p = model_page_at(m, a);

		m->charge -= p->committed;
		*p = (struct model_page){ 0 };
	}
}

/* ================================================================ VirtualAlloc */

/* MEM_RESERVE (and MEM_COMMIT with no address): a new reservation at
 * addr's 64 KiB block, or placed; with MEM_COMMIT all of it committed.
 * A reservation alone takes no charge but needs a record. */
static HRESULT reserve_new(struct model *m, uint64_t addr, uint64_t size, DWORD type,
                           DWORD prot, uint32_t level, HRESULT impl, uint64_t impl_addr,
                           uint64_t *out)
{
	bool commit = (type & MEM_COMMIT) != 0, large = (type & MEM_LARGE_PAGES) != 0;
	uint64_t base = align_down(addr, G), end = model_page_up(addr + size), fresh = 0;

	if (addr && !blocks_free(m, base, end))
		return E_ADDR;
	if (!addr && !choose_spot(m, model_page_up(size), type, impl, impl_addr, &base))
		return E_OUTOFMEMORY;   /* no room */
	if (!addr)
		end = base + model_page_up(size);
	if (m->nresv == MODEL_MAX_RESV || (commit && !count_uncommitted(m, base, end, &fresh)))
		return MODEL_UNTRACKED;
	if (refused_for_memory(m, fresh, commit ? m->limit.reserve[level] : 0, large, impl))
		return E_OUTOFMEMORY;
	add_resv(m, base, end, prot, large);
	if (commit)
		commit_pages(m, base, end, prot);
	*out = base;
	return S_OK;
}

/* MEM_COMMIT at an address: the pages must lie in one reservation, take
 * the allocation's cache attribute, and only the fresh ones are charged. */
static HRESULT commit_in(struct model *m, uint64_t addr, uint64_t size, DWORD prot,
                         uint32_t level, HRESULT impl, uint64_t *out)
{
	uint64_t va = model_page_down(addr), end = model_page_up(addr + size), fresh;
	struct model_resv *r = holding(m, addr, size);

	if (!r)
		return E_ADDR;
	if (r->large)
		return E_INVALIDARG;   /* committed whole when reserved */
	prot = with_allocation_cache(prot, r);
	if (!model_prot_valid(prot))
		return E_INVALIDARG;
	if (!count_uncommitted(m, va, end, &fresh))
		return MODEL_UNTRACKED;
	if (fresh && refused_for_memory(m, fresh, m->limit.reserve[level], false, impl))
		return E_OUTOFMEMORY;
	commit_pages(m, va, end, prot);
	*out = va;
	return S_OK;
}

/* MEM_RESET: committed pages' contents become undefined (each sampled byte
 * reads as itself or zero); state and protection stay.  Large pages are
 * left alone. */
static void reset_pages(struct model *m, uint64_t va, uint64_t end)
{
	FOR_TRACKED(a, va, end) {
		struct model_page *p = model_page_at(m, a);

		if (p->committed) {
			p->maybe_zero = ~0ull;
			p->reset = 1;
		}
	}
}

/* Whether [va, end) holds a range an earlier undo was refused for. */
static bool holds_lost(const struct model *m, uint64_t va, uint64_t end)
{
	for (size_t i = 0; i < m->nlost; i++)
		if (m->lost[i].va >= va && m->lost[i].end <= end)
			return true;
	return false;
}

/* A refused undo changes nothing, but the model remembers the range (when
 * full, the oldest is forgotten: weaker, never wrong). */
static HRESULT refuse_undo(struct model *m, uint64_t va, uint64_t end)
{
	if (m->nlost == MODEL_MAX_LOST) {
		for (size_t i = 1; i < MODEL_MAX_LOST; i++)
			m->lost[i - 1] = m->lost[i];
		m->nlost--;
	}
	m->lost[m->nlost++] = (struct model_lost){ va, end };
	return MODEL_E_DISCARDED;
}

/* MEM_RESET_UNDO: over a range already refused, refused again; over no
 * reset page, S_OK.  Over some, S_OK means their data is intact (held to
 * it: no longer "old or zero", no longer reset); ERROR_DISCARDED changes
 * nothing. */
static HRESULT undo_pages(struct model *m, uint64_t va, uint64_t end, HRESULT impl)
{
	bool any = false;

	if (holds_lost(m, va, end))
		return MODEL_E_DISCARDED;
	FOR_TRACKED(a, va, end)
		any |= model_page_at(m, a)->reset;
	if (any && impl == MODEL_E_DISCARDED)
		return refuse_undo(m, va, end);
	FOR_TRACKED(a, va, end) {
		struct model_page *p = model_page_at(m, a);

		if (p->reset)
			p->maybe_zero = 0;
		p->reset = 0;
	}
	return S_OK;
}

/* MEM_RESET / MEM_RESET_UNDO: "the range must lie in one reservation"
 * (NULL lies in none); the protection was checked and means nothing. */
static HRESULT reset_in(struct model *m, uint64_t addr, uint64_t size, DWORD type,
                        HRESULT impl, uint64_t *out)
{
	uint64_t va = model_page_down(addr), end = model_page_up(addr + size);
	struct model_resv *r = holding(m, addr, size);

	if (!r)
		return E_ADDR;
	if (type == MEM_RESET_UNDO && undo_pages(m, va, end, impl) != S_OK)
		return MODEL_E_DISCARDED;
	if (type == MEM_RESET && !r->large)
		reset_pages(m, va, end);
	*out = va;
	return S_OK;
}

/* "When a process-critical allocation fails" (for lack of memory) "the
 * manager becomes unusable and every later call returns
 * HOST_E_CLRNOTAVAILABLE". */
HRESULT model_alloc(struct model *m, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                    uint32_t level, bool out_given, HRESULT impl, uint64_t impl_addr,
                    uint64_t *out)
{
	HRESULT hr;

	*out = 0;
	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	hr = alloc_arguments(addr, size, type, prot, level, out_given);
	if (hr != S_OK)
		return hr;
	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		hr = reset_in(m, addr, size, type, impl, out);
	else if ((type & MEM_RESERVE) || addr == 0)
		hr = reserve_new(m, addr, size, type, prot, level, impl, impl_addr, out);
	else
		hr = commit_in(m, addr, size, prot, level, impl, out);
	if (hr == E_OUTOFMEMORY && level == eProcessCritical)
		m->dead = true;
	return hr;
}

/* ================================================================ VirtualFree */

/* MEM_DECOMMIT: "size 0 at the base decommits the whole reservation (size
 * 0 elsewhere: ERROR_INVALID_ADDRESS); otherwise the pages touched by the
 * range, which must end inside the reservation (else
 * ERROR_INVALID_PARAMETER)".  Large pages are only ever released. */
static HRESULT decommit_in(struct model *m, struct model_resv *r, uint64_t addr, uint64_t size)
{
	if (r->large)
		return E_INVALIDARG;
	if (size == 0 && model_page_down(addr) != r->base)
		return E_ADDR;
	if (size == 0) {
		decommit_pages(m, r->base, r->end);
		return S_OK;
	}
	if (size > r->end - addr)   /* ends past the reservation, or wraps */
		return E_INVALIDARG;
	decommit_pages(m, model_page_down(addr), model_page_up(addr + size));
	return S_OK;
}

/* MEM_RELEASE: "the page-rounded address must be the reservation's base";
 * everything goes, whatever state its pages are in. */
static HRESULT release_resv(struct model *m, struct model_resv *r, uint64_t addr)
{
	if (model_page_down(addr) != r->base)
		return E_ADDR;
	decommit_pages(m, r->base, r->end);
	drop_resv(m, r);
	return S_OK;
}

/* The free type and (MEM_RELEASE) the size are judged before the address;
 * an address in no reservation of ours (NULL, released, never allocated,
 * outside the range) is not ours to free. */
HRESULT model_free(struct model *m, uint64_t addr, uint64_t size, DWORD type)
{
	struct model_resv *r;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (type != MEM_DECOMMIT && type != MEM_RELEASE)
		return E_INVALIDARG;
	if (type == MEM_RELEASE && size != 0)
		return E_INVALIDARG;
	r = model_resv_at(m, model_page_down(addr));
	if (!r)
		return HOST_E_INVALIDOPERATION;
	return type == MEM_RELEASE ? release_resv(m, r, addr) : decommit_in(m, r, addr, size);
}

/* ================================================================ VirtualProtect */

/* Arguments in NT's order: protection, out-pointer, then the range: size 0,
 * at or past the limit, or wrapping is ERROR_INVALID_PARAMETER.  (Below
 * 64 KiB is not checked here: as in NT, that space simply holds no
 * reservation, so the lookup answers ERROR_INVALID_ADDRESS.) */
static HRESULT protect_arguments(uint64_t addr, uint64_t size, DWORD prot, bool old_given)
{
	if (!model_prot_valid(prot))
		return E_INVALIDARG;
	if (!old_given)
		return E_POINTER;
	if (size == 0 || addr >= MODEL_LIMIT || size > MODEL_LIMIT - addr)
		return E_INVALIDARG;
	return S_OK;
}

/* "Every page in the range committed and in one reservation (else
 * ERROR_INVALID_ADDRESS)"; the allocation's cache attribute stays, and must
 * combine with what was asked; a large reservation changes whole 2 MiB
 * pages, and they stay present.  Returns the first page's old protection. */
HRESULT model_protect(struct model *m, uint64_t addr, uint64_t size, DWORD prot,
                      bool old_given, DWORD *old)
{
	uint64_t va = model_page_down(addr), end;
	struct model_resv *r;
	HRESULT hr;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	hr = protect_arguments(addr, size, prot, old_given);
	if (hr != S_OK)
		return hr;
	end = model_page_up(addr + size);
	r = holding(m, addr, size);
	if (!r || !all_committed(m, va, end))
		return E_ADDR;
	prot = with_allocation_cache(prot, r);
	if (!model_prot_valid(prot))
		return E_INVALIDARG;
	if (r->large && ((va % LARGE) || (end % LARGE) || !large_prot_ok(prot)))
		return E_INVALIDARG;
	*old = model_page_at(m, va)->prot;
	for (; va < end; va += P)
		model_page_at(m, va)->prot = (uint16_t)prot;
	return S_OK;
}

/* ================================================================ VirtualQuery */

/* State and reported protection of a page of a reservation ("reserved
 * pages report Protect 0"). */
static DWORD page_state(struct model *m, uint64_t va, DWORD *prot)
{
	struct model_page *p = model_page_at(m, va);

	*prot = p && p->committed ? p->prot : 0;
	return p && p->committed ? MEM_COMMIT : MEM_RESERVE;
}

/* "The run of pages from pagedown(addr) sharing state, protection and
 * reservation; never crosses a reservation's end." */
static uint64_t run_end(struct model *m, const struct model_resv *r, uint64_t va)
{
	DWORD prot, prot2, state = page_state(m, va, &prot);
	uint64_t end = va + P;

	while (end < r->end) {
		if (!model_page_at(m, end)) {   /* untracked: reserved, skip it whole */
			if (state != MEM_RESERVE)
				break;
			end = first_tracked(end, r->end);
			continue;
		}
		if (page_state(m, end, &prot2) != state || prot2 != prot)
			break;
		end += P;
	}
	return end;
}

static void query_resv(struct model *m, const struct model_resv *r, uint64_t va,
                       MEMORY_BASIC_INFORMATION *mbi)
{
	DWORD prot, state = page_state(m, va, &prot);

	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)(uintptr_t)va,
		.AllocationBase = (void *)(uintptr_t)r->base,
		.AllocationProtect = r->prot,
		.RegionSize = run_end(m, r, va) - va,
		.State = state,
		.Protect = prot,
		.Type = MEM_PRIVATE,
	};
}

/* "Free memory reports MEM_FREE with RegionSize up to the next
 * reservation" (or the limit), Protect NOACCESS, no allocation, Type 0. */
static void query_free(struct model *m, uint64_t va, MEMORY_BASIC_INFORMATION *mbi)
{
	long next = floor_index(m, va) + 1;
	uint64_t end = (size_t)next < m->nresv ? m->resv[next].base : MODEL_LIMIT;

	*mbi = (MEMORY_BASIC_INFORMATION){
		.BaseAddress = (void *)(uintptr_t)va,
		.RegionSize = end - va,
		.State = MEM_FREE,
		.Protect = PAGE_NOACCESS,
	};
}

/* The address (at or beyond the limit: ERROR_INVALID_PARAMETER), then the
 * buffer's length, then the out-pointers. */
HRESULT model_query(struct model *m, uint64_t addr, uint64_t len, bool buf_given,
                    bool res_given, MEMORY_BASIC_INFORMATION *mbi)
{
	uint64_t va = model_page_down(addr);
	struct model_resv *r;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (addr >= MODEL_LIMIT)
		return E_INVALIDARG;
	if (len < sizeof(MEMORY_BASIC_INFORMATION))
		return E_LENGTH;
	if (!buf_given || !res_given)
		return E_POINTER;
	r = model_resv_at(m, va);
	if (r)
		query_resv(m, r, va, mbi);
	else
		query_free(m, va, mbi);
	return S_OK;
}

/* ================================================================ touching memory */

/* "NOACCESS pages raise STATUS_ACCESS_VIOLATION on any access; READONLY on
 * write; non-execute pages on instruction fetch."  x86 reads whatever it
 * may fetch, so EXECUTE pages are readable. */
static bool allowed(DWORD prot, enum model_kind kind)
{
	DWORD base = prot & BASE_MASK;

	if (base == PAGE_NOACCESS)
		return false;
	if (kind == MODEL_WRITE)
		return base == PAGE_READWRITE || base == PAGE_EXECUTE_READWRITE;
	if (kind == MODEL_EXEC)
		return base == PAGE_EXECUTE || base == PAGE_EXECUTE_READ ||
		       base == PAGE_EXECUTE_READWRITE;
	return true;
}

/* What touching the page at va raises.  "The first access to a PAGE_GUARD
 * page raises STATUS_GUARD_PAGE_VIOLATION once and clears the guard";
 * reserved, free and foreign pages raise access violations. */
static uint32_t touch(struct model *m, uint64_t va, enum model_kind kind)
{
	struct model_page *p = model_page_at(m, va);

	if (!p || !p->committed)
		return STATUS_ACCESS_VIOLATION;
	if (p->prot & PAGE_GUARD) {
		p->prot &= (uint16_t)~PAGE_GUARD;
		return STATUS_GUARD_PAGE_VIOLATION;
	}
	return allowed(p->prot, kind) ? 0 : STATUS_ACCESS_VIOLATION;
}

/* Moves n bytes at va (all in one page, access allowed). */
static void transfer(struct model *m, enum model_kind kind, uint64_t va, size_t n,
                     uint8_t *buf, bool *zero_ok)
{
	struct model_page *p = model_page_at(m, va);
	int i;

	for (size_t k = 0; k < n; k++) {
		i = model_sample_index((va + k) & (P - 1));
		if (kind == MODEL_WRITE) {
			p->bytes[i] = buf[k];
			p->maybe_zero &= ~(1ull << i);
			continue;
		}
		buf[k] = i < 0 ? 0 : p->bytes[i];
		if (zero_ok)
			zero_ok[k] = i < 0 || (p->maybe_zero >> i) & 1;
	}
}

static bool writes_sampled(uint64_t va, size_t len)
{
	for (size_t k = 0; k < len; k++)
		if (model_sample_index((va + k) & (P - 1)) < 0)
			return false;
	return true;
}

/* No check of m->dead: memory committed before the manager died is still
 * served (demand-zero, guard pages, violations) exactly as before. */
uint32_t model_access(struct model *m, enum model_kind kind, uint64_t va, size_t len,
                      uint8_t *buf, bool *zero_ok, size_t *done)
{
	uint32_t code;
	size_t n;

	*done = 0;
	if (kind == MODEL_EXEC)
		return touch(m, va, kind);
	if (kind == MODEL_WRITE && !writes_sampled(va, len))
		return (uint32_t)MODEL_UNTRACKED;
	while (*done < len) {
		n = P - ((va + *done) & (P - 1));
		if (n > len - *done)
			n = len - *done;
		code = touch(m, va + *done, kind);
		if (code)
			return code;
		transfer(m, kind, va + *done, n, buf + *done, zero_ok ? zero_ok + *done : 0);
		*done += n;
	}
	return 0;
}

/* ================================================================ life */

void model_init(struct model *m, uint64_t usable_frames)
{
	m->nresv = 0;
	m->nlost = 0;
	m->charge = 0;
	m->limit = limits_for(usable_frames);
	m->dead = false;
	for (size_t i = 0; i < MODEL_PAGES; i++)
		m->page[i] = (struct model_page){ 0 };
}
