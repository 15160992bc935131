/*
 * model.c - the reference model of the contract.  See model.h for what it
 * keeps and why; this file is the rules, one function per rule, in the
 * order CONTRACT.md gives them.
 *
 * Deliberately naive: reservations are a sorted array searched by loops
 * (placement walks the gaps between them in address order), pages are one
 * struct each, and nothing is cached.  The only shortcut is that loops over
 * a range skip the untracked space between the two windows in one step,
 * because the driver's fence reservation spans 128 TiB of it.
 */
#include "tests/model/model.h"

#define P        MODEL_PAGE
#define G        MODEL_GRANULE
#define S        MODEL_SAMPLE
#define CACHE    (PAGE_NOCACHE | PAGE_WRITECOMBINE)
#define MODS     (PAGE_GUARD | PAGE_NOCACHE | PAGE_WRITECOMBINE)
#define LARGE    MODEL_LARGE
#define E_ADDR   HRESULT_FROM_WIN32(ERROR_INVALID_ADDRESS)
#define E_LENGTH HRESULT_FROM_WIN32(ERROR_BAD_LENGTH)

static uint64_t trunc_page(uint64_t va) { return va & ~(P - 1); }
static uint64_t round_page(uint64_t va)  { return (va + P - 1) & ~(P - 1); }
static uint64_t round_block(uint64_t va) { return (va + G - 1) & ~(G - 1); }

/* ------------------------------------------------------------ pages */

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

int model_sample_index(uint64_t offset)
{
	if (offset < S)
		return (int)offset;
	if (offset >= P - S && offset < P)
		return (int)(S + offset - (P - S));
	return -1;
}

/* ------------------------------------------------------------ protections */

bool model_prot_valid(DWORD prot)
{
	DWORD base = prot & 0xFF, mods = prot & MODS;

	if (prot & ~(0xFFu | MODS))
		return false;
	if (base != PAGE_NOACCESS && base != PAGE_READONLY && base != PAGE_READWRITE &&
	    base != PAGE_EXECUTE && base != PAGE_EXECUTE_READ && base != PAGE_EXECUTE_READWRITE)
		return false;   /* zero, WRITECOPY variants, two base values */
	if (mods != 0 && mods != PAGE_GUARD && mods != PAGE_NOCACHE && mods != PAGE_WRITECOMBINE)
		return false;   /* two modifiers */
	return !(base == PAGE_NOACCESS && mods);
}

/* The type of a VirtualAlloc: COMMIT and/or RESERVE (+ TOP_DOWN,
 * WRITE_WATCH with RESERVE, LARGE_PAGES with both and no WRITE_WATCH), or
 * exactly MEM_RESET, or exactly MEM_RESET_UNDO. */
static bool type_valid(DWORD type)
{
	DWORD both = MEM_COMMIT | MEM_RESERVE;

	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		return true;
	if (type & ~(both | MEM_TOP_DOWN | MEM_WRITE_WATCH | MEM_LARGE_PAGES))
		return false;
	if (!(type & both))
		return false;
	if ((type & MEM_WRITE_WATCH) && !(type & MEM_RESERVE))
		return false;
	return !(type & MEM_LARGE_PAGES) || ((type & both) == both && !(type & MEM_WRITE_WATCH));
}

/* A protection a 2 MiB page can have: always present, so no NOACCESS and
 * no GUARD. */
static bool large_prot(DWORD prot)
{
	return (prot & 0xFF) != PAGE_NOACCESS && !(prot & PAGE_GUARD);
}

/* VirtualProtect leaves the page's cache attribute as it was. */
static DWORD keep_cache(DWORD want, DWORD had)
{
	return (want & ~CACHE) | (had & CACHE);
}

/* ------------------------------------------------------------ reservations */

/* Index of the last reservation with base <= va, or -1. */
static long floor_index(const struct model *m, uint64_t va)
{
	size_t lo = 0, hi = m->nresv;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->resv[mid].base <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

struct model_resv *model_resv_at(struct model *m, uint64_t va)
{
	long i = floor_index(m, va);

	return i >= 0 && va < m->resv[i].end ? &m->resv[i] : 0;
}

/* Whether no reservation touches a 64 KiB block of [base, end). */
static bool blocks_free(const struct model *m, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < m->nresv; i++)
		if (m->resv[i].base < round_block(end) && round_block(m->resv[i].end) > base)
			return false;
	return true;
}

/* Lowest fit: walk the gaps from the bottom; need is whole blocks. */
static bool place_low(const struct model *m, uint64_t need, uint64_t *base)
{
	uint64_t cand = MODEL_MIN;

	for (size_t i = 0; i < m->nresv; i++) {
		if (cand + need <= m->resv[i].base)
			break;
		if (round_block(m->resv[i].end) > cand)
			cand = round_block(m->resv[i].end);
	}
	*base = cand;
	return cand + need <= MODEL_LIMIT;
}

/* Highest fit: walk the gaps from the top. */
static bool place_high(const struct model *m, uint64_t need, uint64_t *base)
{
	uint64_t top = MODEL_LIMIT;

	for (size_t i = m->nresv; i-- > 0;) {
		if (round_block(m->resv[i].end) + need <= top)
			break;
		if (m->resv[i].base < top)
			top = m->resv[i].base;
	}
	*base = top - need;
	return top >= MODEL_MIN + need;
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

/* ------------------------------------------------------------ page state */

/* Whether every page of [va, end) is tracked and committed. */
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

/* Pages of [va, end) not committed yet; false if one is untracked. */
static bool count_fresh(struct model *m, uint64_t va, uint64_t end, uint64_t *fresh)
{
	struct model_page *p;

	*fresh = 0;
	for (; va < end; va += P) {
		p = model_page_at(m, va);
		if (!p)
			return false;
		*fresh += !p->committed;
	}
	return true;
}

/* New pages read zero; committed ones keep their contents, take prot. */
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

static void decommit_pages(struct model *m, uint64_t va, uint64_t end)
{
	struct model_page *p;

	for (va = first_tracked(va, end); va < end; va = first_tracked(va + P, end)) {
		p = model_page_at(m, va);
		if (p->committed)
			m->charge--;
		*p = (struct model_page){ 0 };
	}
}

/* MEM_RESET: each sampled byte now reads as itself or as zero. */
static void reset_pages(struct model *m, uint64_t va, uint64_t end)
{
	struct model_page *p;

	for (va = first_tracked(va, end); va < end; va = first_tracked(va + P, end)) {
		p = model_page_at(m, va);
		if (p->committed) {
			p->maybe_zero = ~0ull;
			p->reset = 1;
		}
	}
}

/* MEM_RESET_UNDO over [va, end): S_OK needs no reset page, or says their
 * data is intact; ERROR_DISCARDED needs one.  Either way they are no
 * longer reset. */
static HRESULT undo_pages(struct model *m, uint64_t va, uint64_t end, HRESULT impl)
{
	bool any = false, intact;
	struct model_page *p;
	uint64_t a;

	for (a = first_tracked(va, end); a < end; a = first_tracked(a + P, end))
		any |= model_page_at(m, a)->reset;
	intact = !any || impl != MODEL_E_DISCARDED;
	for (a = first_tracked(va, end); a < end; a = first_tracked(a + P, end)) {
		p = model_page_at(m, a);
		if (p->reset && intact)
			p->maybe_zero = 0;
		p->reset = 0;
	}
	return intact ? S_OK : MODEL_E_DISCARDED;
}

/* ------------------------------------------------------------ the commit limit */

/* Does a change that adds fresh pages to the charge, leaving reserve pages
 * behind, run out of memory?  Past limit_max always; up to limit_sure never,
 * except a large-page allocation; in between, as the implementation did.
 * A commit leaves its critical level's reserve; a bare reservation needs
 * only a node, which any level may take. */
static bool out_of_memory(const struct model *m, uint64_t fresh, uint64_t reserve, bool large,
                          HRESULT impl)
{
	uint64_t after = m->charge + fresh + reserve;

	if (after > m->limit.max)
		return true;
	if (after <= m->limit.sure && !large)
		return false;
	return impl == E_OUTOFMEMORY;
}

/* ------------------------------------------------------------ VirtualAlloc */

static HRESULT alloc_check(uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                           uint32_t level, bool out_given)
{
	if (level > eProcessCritical || !type_valid(type) || !model_prot_valid(prot))
		return E_INVALIDARG;
	if (!out_given)
		return E_POINTER;
	if (size == 0)
		return E_INVALIDARG;
	if (addr == 0 && size > MODEL_LIMIT - MODEL_MIN)
		return E_INVALIDARG;
	if (addr && (addr < MODEL_MIN || addr >= MODEL_LIMIT || size > MODEL_LIMIT - addr))
		return E_INVALIDARG;
	if ((type & MEM_LARGE_PAGES) && (((addr | size) & (LARGE - 1)) || !large_prot(prot)))
		return E_INVALIDARG;
	return S_OK;
}

/* The reservation [pagedown(addr), pageup(addr + size)) lies in, or NULL. */
static struct model_resv *range_resv(struct model *m, uint64_t addr, uint64_t size)
{
	struct model_resv *r = model_resv_at(m, trunc_page(addr));

	return r && round_page(addr + size) <= r->end ? r : 0;
}

/* Where a new reservation goes: at addr's 64 KiB block, or in the lowest
 * (highest) gap that fits.  A large-page one needs a 2 MiB-aligned base:
 * the gap must hold size + 2 MiB - 64 KiB, and the base is the first
 * aligned address past the gap's start. */
static bool place(const struct model *m, uint64_t addr, uint64_t size, DWORD type,
                  uint64_t *base, uint64_t *end)
{
	uint64_t pad = (type & MEM_LARGE_PAGES) ? LARGE - G : 0, len = round_page(size);
	bool placed;

	if (addr) {
		*base = addr & ~(G - 1);
		*end = round_page(addr + size);
		return true;
	}
	if (len > MODEL_LIMIT - MODEL_MIN - pad)
		return false;
	len = round_block(len + pad);
	placed = (type & MEM_TOP_DOWN) ? place_high(m, len, base) : place_low(m, len, base);
	if (pad)
		*base = (*base + pad) & ~(LARGE - 1);
	*end = *base + round_page(size);
	return placed;
}

static HRESULT alloc_reserve(struct model *m, uint64_t addr, uint64_t size, DWORD type,
                             DWORD prot, uint32_t level, HRESULT impl, uint64_t *out)
{
	bool large = (type & MEM_LARGE_PAGES) != 0;
	uint64_t base, end, fresh = 0;

	if (!place(m, addr, size, type, &base, &end))
		return E_OUTOFMEMORY;
	if (addr && !blocks_free(m, base, end))
		return E_ADDR;
	if (m->nresv == MODEL_MAX_RESV)
		return MODEL_UNTRACKED;
	if ((type & MEM_COMMIT) && !count_fresh(m, base, end, &fresh))
		return MODEL_UNTRACKED;
	if (out_of_memory(m, fresh, (type & MEM_COMMIT) ? m->limit.reserve[level] : 0, large, impl))
		return E_OUTOFMEMORY;
	add_resv(m, base, end, prot, large);
	if (type & MEM_COMMIT)
		commit_pages(m, base, end, prot);
	*out = base;
	return S_OK;
}

static HRESULT alloc_commit(struct model *m, uint64_t addr, uint64_t size, DWORD prot,
                            uint32_t level, HRESULT impl, uint64_t *out)
{
	uint64_t va = trunc_page(addr), end = round_page(addr + size), fresh;
	struct model_resv *r = range_resv(m, addr, size);

	if (!r)
		return E_ADDR;
	if (r->large)
		return E_INVALIDARG;   /* committed whole when reserved */
	if (!count_fresh(m, va, end, &fresh))
		return MODEL_UNTRACKED;
	if (fresh && out_of_memory(m, fresh, m->limit.reserve[level], false, impl))
		return E_OUTOFMEMORY;
	commit_pages(m, va, end, prot);
	*out = va;
	return S_OK;
}

/* MEM_RESET and MEM_RESET_UNDO: the protection was checked, and is unused. */
static HRESULT alloc_reset(struct model *m, uint64_t addr, uint64_t size, DWORD type,
                           HRESULT impl, uint64_t *out)
{
	struct model_resv *r = addr ? range_resv(m, addr, size) : 0;
	uint64_t va = trunc_page(addr), end = round_page(addr + size);
	HRESULT hr = S_OK;

	if (!r)
		return E_ADDR;
	if (type == MEM_RESET_UNDO)
		hr = undo_pages(m, va, end, impl);
	else if (!r->large)   /* 2 MiB pages are left alone */
		reset_pages(m, va, end);
	if (hr == S_OK)
		*out = va;
	return hr;
}

static HRESULT alloc(struct model *m, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                     uint32_t level, bool out_given, HRESULT impl, uint64_t *out)
{
	HRESULT hr = alloc_check(addr, size, type, prot, level, out_given);

	if (hr != S_OK)
		return hr;
	if (type == MEM_RESET || type == MEM_RESET_UNDO)
		return alloc_reset(m, addr, size, type, impl, out);
	if ((type & MEM_RESERVE) || addr == 0)
		return alloc_reserve(m, addr, size, type, prot, level, impl, out);
	return alloc_commit(m, addr, size, prot, level, impl, out);
}

/* A process-critical allocation that finds no memory leaves the process
 * unable to go on: the manager is dead from then on. */
HRESULT model_alloc(struct model *m, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                    uint32_t level, bool out_given, HRESULT impl, uint64_t *out)
{
	HRESULT hr;

	*out = 0;
	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	hr = alloc(m, addr, size, type, prot, level, out_given, impl, out);
	if (hr == E_OUTOFMEMORY && level == eProcessCritical)
		m->dead = true;
	return hr;
}

/* ------------------------------------------------------------ VirtualFree */

static HRESULT decommit(struct model *m, struct model_resv *r, uint64_t addr, uint64_t size)
{
	if (size == 0) {
		if (trunc_page(addr) != r->base)
			return E_ADDR;
		decommit_pages(m, r->base, r->end);
		return S_OK;
	}
	if (size > MODEL_LIMIT - addr || round_page(addr + size) > r->end)
		return E_INVALIDARG;
	decommit_pages(m, trunc_page(addr), round_page(addr + size));
	return S_OK;
}

HRESULT model_free(struct model *m, uint64_t addr, uint64_t size, DWORD type)
{
	struct model_resv *r;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (type != MEM_DECOMMIT && type != MEM_RELEASE)
		return E_INVALIDARG;
	if (type == MEM_RELEASE && size != 0)
		return E_INVALIDARG;
	if (addr < MODEL_MIN || addr >= MODEL_LIMIT)
		return HOST_E_INVALIDOPERATION;
	r = model_resv_at(m, trunc_page(addr));
	if (!r)
		return HOST_E_INVALIDOPERATION;
	if (type == MEM_DECOMMIT)   /* 2 MiB pages go only with their reservation */
		return r->large ? E_INVALIDARG : decommit(m, r, addr, size);
	if (trunc_page(addr) != r->base)
		return E_ADDR;
	decommit_pages(m, r->base, r->end);
	drop_resv(m, r);
	return S_OK;
}

/* ------------------------------------------------------------ VirtualProtect */

HRESULT model_protect(struct model *m, uint64_t addr, uint64_t size, DWORD prot,
                      bool old_given, DWORD *old)
{
	uint64_t va, end;
	struct model_resv *r;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (!model_prot_valid(prot))
		return E_INVALIDARG;
	if (!old_given)
		return E_POINTER;
	if (size == 0 || addr >= MODEL_LIMIT || size > MODEL_LIMIT - addr)
		return E_INVALIDARG;
	va = trunc_page(addr);
	end = round_page(addr + size);
	r = model_resv_at(m, va);
	if (!r || end > r->end || !all_committed(m, va, end))
		return E_ADDR;
	for (uint64_t p = va; p < end; p += P)
		if (!model_prot_valid(keep_cache(prot, model_page_at(m, p)->prot)))
			return E_INVALIDARG;
	if (r->large && (((va | end) & (LARGE - 1)) || !large_prot(prot)))
		return E_INVALIDARG;   /* whole 2 MiB pages, always present */
	*old = model_page_at(m, va)->prot;
	for (uint64_t p = va; p < end; p += P)
		model_page_at(m, p)->prot = (uint16_t)keep_cache(prot, model_page_at(m, p)->prot);
	return S_OK;
}

/* ------------------------------------------------------------ VirtualQuery */

/* State and reported protection of a page of a reservation. */
static DWORD page_state(struct model *m, uint64_t va, DWORD *prot)
{
	struct model_page *p = model_page_at(m, va);

	*prot = p && p->committed ? p->prot : 0;
	return p && p->committed ? MEM_COMMIT : MEM_RESERVE;
}

/* The run from va of pages like va's, up to the reservation's end. */
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

/* Free space runs to the next reservation, or to the limit. */
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

HRESULT model_query(struct model *m, uint64_t addr, uint64_t len, bool buf_given,
                    bool res_given, MEMORY_BASIC_INFORMATION *mbi)
{
	uint64_t va = trunc_page(addr);
	struct model_resv *r;

	if (m->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (addr >= MODEL_LIMIT)
		return E_INVALIDARG;
	if (len < sizeof(MEMORY_BASIC_INFORMATION))
		return E_LENGTH;
	if (!buf_given || !res_given)
		return E_POINTER;
	r = va >= MODEL_MIN ? model_resv_at(m, va) : 0;
	if (r)
		query_resv(m, r, va, mbi);
	else
		query_free(m, va, mbi);
	return S_OK;
}

/* ------------------------------------------------------------ accesses */

static bool allowed(DWORD prot, enum model_kind kind)
{
	DWORD base = prot & 0xFF;

	if (base == PAGE_NOACCESS)
		return false;
	if (kind == MODEL_WRITE)
		return base == PAGE_READWRITE || base == PAGE_EXECUTE_READWRITE;
	if (kind == MODEL_EXEC)
		return base == PAGE_EXECUTE || base == PAGE_EXECUTE_READ ||
		       base == PAGE_EXECUTE_READWRITE;
	return true;   /* x86 reads whatever it may fetch: EXECUTE too */
}

/* What touching the page at va raises; a guard goes off once. */
static uint32_t touch(struct model *m, uint64_t va, enum model_kind kind)
{
	struct model_page *p = va >= MODEL_MIN && va < MODEL_LIMIT ? model_page_at(m, va) : 0;

	if (!p || !p->committed)
		return STATUS_ACCESS_VIOLATION;   /* free, reserved, outside */
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

uint32_t model_access(struct model *m, enum model_kind kind, uint64_t va, size_t len,
                      uint8_t *buf, bool *zero_ok, size_t *done)
{
	uint32_t code;
	size_t n;

	*done = 0;
	if (m->dead)
		return (uint32_t)MODEL_UNTRACKED;
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

/* ------------------------------------------------------------ life */

void model_init(struct model *m, const struct model_limits *limit)
{
	m->nresv = 0;
	m->charge = 0;
	m->limit = *limit;
	m->dead = false;
	for (size_t i = 0; i < MODEL_PAGES; i++)
		m->page[i] = (struct model_page){ 0 };
}
