/*
 * drive.c - the differential driver.  See drive.h for what is compared.
 *
 * Structure: a source of bytes (input or PRNG); generators that turn bytes
 * into addresses, sizes, protections and flags, biased by the model's
 * state; one do_* function per interface call that runs it on the manager,
 * then on the model, and compares; one op_* function per kind of operation
 * that picks arguments and calls a do_*; and the books checked after every
 * step (charge, reservations, verify, sometimes a full walk).
 *
 * The manager always goes first: where the contract leaves a choice (the
 * commit limit's band, bottom-up placement, MEM_RESET's contents,
 * MEM_RESET_UNDO's answer) the model is told what the manager did and
 * accepts it only if it is one of the allowed answers.
 *
 * After a process-critical failure kills the manager, the run ends with
 * every call refused and memory committed before still served.
 */
#include <stdarg.h>

#include "tests/model/drive.h"
#include "hostmem/format.h"

#define P       MODEL_PAGE
#define G       MODEL_GRANULE
#define S       MODEL_SAMPLE
#define MBI     sizeof(MEMORY_BASIC_INFORMATION)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Reservations the driver lets live before it prefers releasing. */
#define MANY_RESV 128u

typedef unsigned long long ull;

/* ------------------------------------------------------------ output */

static void say(struct drive *d, const char *fmt, ...)
{
	char line[480];
	va_list ap;

	va_start(ap, fmt);
	hm_vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	d->env.log(d->env.ctx, line);
}

static void describe(struct drive *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hm_vsnprintf(d->desc, sizeof d->desc, fmt, ap);
	va_end(ap);
}

static bool diverge(struct drive *d, const char *what, uint64_t want, uint64_t got)
{
	d->divergences++;
	say(d, "DIVERGENCE at op %llu: %s\n    %s: model 0x%llx, manager 0x%llx", (ull)d->ops,
	    d->desc, what, (ull)want, (ull)got);
	return false;
}

static bool same(struct drive *d, const char *what, uint64_t want, uint64_t got)
{
	return want == got || diverge(d, what, want, got);
}

/* The numbers behind an out-of-memory divergence. */
static void say_memory(struct drive *d)
{
	const struct model *m = d->model;
	struct hostmem_stats st;

	if (hostmem_get_stats(d->env.m, &st) != S_OK)
		return;
	say(d, "    model: charge %llu, band [%llu, %llu], reserves %llu/%llu/%llu\n"
	    "    manager: charge %llu, available %llu, free %llu, tables %llu, meta %llu, data %llu",
	    (ull)m->charge, (ull)m->limit.sure, (ull)m->limit.max, (ull)m->limit.reserve[0],
	    (ull)m->limit.reserve[1], (ull)m->limit.reserve[2], (ull)st.commit_charge,
	    (ull)st.commit_available, (ull)st.frames_free, (ull)st.frames_tables,
	    (ull)st.frames_meta, (ull)st.frames_data);
}

static bool same_hr(struct drive *d, HRESULT want, HRESULT got)
{
	if (want == MODEL_UNTRACKED) {
		d->divergences++;
		say(d, "DRIVER BUG at op %llu: %s: the model cannot answer", (ull)d->ops, d->desc);
		return false;
	}
	if (want == got)
		return true;
	d->divergences++;
	say(d, "DIVERGENCE at op %llu: %s\n    HRESULT: model %s (0x%08x), manager %s (0x%08x)",
	    (ull)d->ops, d->desc, hostmem_hresult_name(want), (uint32_t)want,
	    hostmem_hresult_name(got), (uint32_t)got);
	if (want == E_OUTOFMEMORY || got == E_OUTOFMEMORY)
		say_memory(d);
	return false;
}

/* ------------------------------------------------------------ the source */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint8_t src_byte(struct drive *d)
{
	uint8_t b;

	if (d->from_bytes)
		return d->pos < d->len ? d->data[d->pos++] : 0;
	if (d->pooled == 0) {
		d->pool = splitmix(&d->rng);
		d->pooled = 8;
	}
	b = (uint8_t)d->pool;
	d->pool >>= 8;
	d->pooled--;
	return b;
}

static uint32_t src_u32(struct drive *d)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | src_byte(d);
	return v;
}

static uint64_t src_below(struct drive *d, uint64_t n)
{
	return n ? src_u32(d) % n : 0;
}

/* True with probability x/256. */
static bool src_chance(struct drive *d, unsigned x)
{
	return src_byte(d) < x;
}

void drive_seed(struct drive *d, uint64_t seed)
{
	d->from_bytes = false;
	d->rng = seed;
	d->pooled = 0;
}

void drive_input(struct drive *d, const uint8_t *data, size_t len)
{
	d->from_bytes = true;
	d->data = data;
	d->len = len;
	d->pos = 0;
}

/* ------------------------------------------------------------ addresses */

static bool in_fence(uint64_t va)
{
	return va >= MODEL_LOW_END && va < MODEL_HIGH_BASE;
}

/* Mostly the low window's first 8 MiB, where placement also goes, so that
 * fixed and placed reservations meet (and few page tables make verify
 * quick); sometimes anywhere in either window. */
static uint64_t addr_window(struct drive *d)
{
	uint8_t b = src_byte(d);
	uint64_t va;

	if (b < 160)
		va = MODEL_LOW_BASE + src_below(d, (8ull << 20) / P) * P;
	else if (b < 208)
		va = MODEL_LOW_BASE + src_below(d, MODEL_LOW_SIZE / P) * P;
	else
		va = MODEL_HIGH_BASE + src_below(d, MODEL_HIGH_SIZE / P) * P;
	if ((b & 3) == 0)
		va &= ~(G - 1);
	else if ((b & 3) == 1)
		va += src_below(d, P);
	return va;
}

/* Where a reservation is: its base, a page or byte inside, its last page,
 * the free tail of its last block, or a little past its end. */
static uint64_t addr_near(struct drive *d)
{
	const struct model_resv *r;
	uint64_t size;

	if (d->model->nresv == 0)
		return addr_window(d);
	r = &d->model->resv[src_below(d, d->model->nresv)];
	if (r->base == MODEL_LOW_END)   /* the fence: not a target */
		return addr_window(d);
	size = r->end - r->base;
	switch (src_byte(d) & 7) {
	case 3:  return r->base + src_below(d, size / P) * P;
	case 4:  return r->base + src_below(d, size);
	case 5:  return r->end - P;
	case 6:  return r->end + src_below(d, G);
	case 7:  return r->base + src_below(d, size / P + 16) * P + src_below(d, 2) * src_below(d, P);
	default: return r->base;
	}
}

static const uint64_t special_addr[] = {
	0, 1, 0xFFF, 0x1000, 0xFFFF, 0x10000, 0x10001, 0x1FFFF,
	MODEL_LOW_END - P, MODEL_LOW_END, MODEL_HIGH_BASE - G, MODEL_HIGH_BASE,
	MODEL_LIMIT - P, MODEL_LIMIT - 1, MODEL_LIMIT, MODEL_LIMIT + P,
	0x7FFFFFFFFFFFull, 0x800000000000ull, 0xFFFF800000000000ull, 0xFFFFFFFF80000000ull,
	0xFFFFFFFFFFFFF000ull, ~0ull,
};

static uint64_t addr_any(struct drive *d)
{
	uint8_t b = src_byte(d);

	if (b < 128)
		return addr_near(d);
	if (b < 192)
		return addr_window(d);
	if (b < 248)
		return special_addr[src_below(d, NELEM(special_addr))];
	return (uint64_t)src_u32(d) << 32 | src_u32(d);
}

/* Calls that could commit or free the fence get another address. */
static uint64_t not_fence(uint64_t va)
{
	return in_fence(va) ? MODEL_LIMIT : va;
}

/* ------------------------------------------------------------ sizes, flags */

static const uint64_t special_size[] = {
	0, 1, 0xFFF, 0x1001, 0x10001, MODEL_LOW_SIZE + P, MODEL_LIMIT - MODEL_MIN,
	MODEL_LIMIT - MODEL_MIN + 1, MODEL_LIMIT, 1ull << 47, ~0ull, ~0ull - 0xFFF,
	0x8000000000000000ull,
};

static uint64_t size_pick(struct drive *d)
{
	uint8_t b = src_byte(d);

	if (b < 96)
		return (1 + b % 8) * P;
	if (b < 160)
		return (1 + src_below(d, 64)) * P;
	if (b < 192)
		return 1 + src_below(d, 3 * P);
	if (b < 216)
		return (1 + src_below(d, 1024)) * P;
	if (b < 232)
		return (1 + src_below(d, 16)) << 20;   /* spans page tables */
	if (b < 240)
		return (1 + src_below(d, 16)) * G;
	return special_size[src_below(d, NELEM(special_size))];
}

static const DWORD wild_prots[] = {
	0, PAGE_WRITECOPY, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY | PAGE_READWRITE,
	PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE, PAGE_READWRITE | PAGE_NOCACHE | PAGE_WRITECOMBINE,
	PAGE_READWRITE | 0x800, PAGE_READWRITE | 0x1000, PAGE_NOACCESS | PAGE_NOCACHE,
	PAGE_NOACCESS | PAGE_GUARD, PAGE_NOACCESS | PAGE_WRITECOMBINE, PAGE_GUARD, 0xFFFFFFFFu,
};

static DWORD prot_wild(struct drive *d)
{
	uint8_t b = src_byte(d);

	if (b < 240)
		return wild_prots[b % NELEM(wild_prots)];
	return src_u32(d);
}

/* Mostly valid, READWRITE first; NOACCESS with a modifier now and then. */
static DWORD prot_pick(struct drive *d)
{
	static const DWORD base[8] = {
		PAGE_READWRITE, PAGE_READWRITE, PAGE_READWRITE, PAGE_EXECUTE_READWRITE,
		PAGE_READONLY, PAGE_NOACCESS, PAGE_EXECUTE, PAGE_EXECUTE_READ,
	};
	static const DWORD mod[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, PAGE_GUARD, PAGE_GUARD, PAGE_GUARD,
		PAGE_NOCACHE, PAGE_NOCACHE, PAGE_WRITECOMBINE,
	};
	uint8_t b = src_byte(d);

	if (b >= 250)
		return prot_wild(d);
	return base[b & 7] | mod[(b >> 3) & 15];
}

static DWORD type_wild(struct drive *d)
{
	static const DWORD bits[] = {
		MEM_COMMIT, MEM_RESERVE, MEM_RESET, MEM_TOP_DOWN, MEM_WRITE_WATCH, MEM_PHYSICAL,
		MEM_RESET_UNDO, MEM_LARGE_PAGES, MEM_DECOMMIT, MEM_RELEASE, MEM_FREE, 0x80000000u, 0x1u,
	};
	DWORD type = 0;
	unsigned n = src_byte(d) % 4;

	for (unsigned i = 0; i < n; i++)
		type |= bits[src_below(d, NELEM(bits))];
	return type;
}

/* ------------------------------------------------------------ the calls, compared */

static bool do_alloc(struct drive *d, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                     uint32_t level, bool out_given)
{
	void *p = (void *)(uintptr_t)0xBADBAD000ull;
	uint64_t want;
	HRESULT hr, exp;

	describe(d, "VirtualAlloc(0x%llx, 0x%llx, 0x%x, 0x%x, level %u%s)", (ull)addr, (ull)size,
	         type, prot, level, out_given ? "" : ", ppMem NULL");
	hr = IHostMemoryManager_VirtualAlloc(d->env.m, (void *)(uintptr_t)addr, size, type, prot,
	                                     (EMemoryCriticalLevel)level, out_given ? &p : 0);
	exp = model_alloc(d->model, addr, size, type, prot, level, out_given, hr,
	                  (uint64_t)(uintptr_t)p, &want);
	d->op_ok = hr == S_OK;
	if (!same_hr(d, exp, hr))
		return false;
	return !out_given || same(d, "*ppMem", want, (uint64_t)(uintptr_t)p);
}

static bool do_free(struct drive *d, uint64_t addr, uint64_t size, DWORD type)
{
	HRESULT hr;

	describe(d, "VirtualFree(0x%llx, 0x%llx, 0x%x)", (ull)addr, (ull)size, type);
	hr = IHostMemoryManager_VirtualFree(d->env.m, (void *)(uintptr_t)addr, size, type);
	d->op_ok = hr == S_OK;
	return same_hr(d, model_free(d->model, addr, size, type), hr);
}

static bool do_protect(struct drive *d, uint64_t addr, uint64_t size, DWORD prot, bool old_given)
{
	DWORD old = 0xDEADBEEF, want = 0;
	HRESULT hr;

	describe(d, "VirtualProtect(0x%llx, 0x%llx, 0x%x%s)", (ull)addr, (ull)size, prot,
	         old_given ? "" : ", pflOldProtect NULL");
	hr = IHostMemoryManager_VirtualProtect(d->env.m, (void *)(uintptr_t)addr, size, prot,
	                                       old_given ? &old : 0);
	d->op_ok = hr == S_OK;
	if (!same_hr(d, model_protect(d->model, addr, size, prot, old_given, &want), hr))
		return false;
	return hr != S_OK || same(d, "old protection", want, old);
}

static bool same_mbi(struct drive *d, const MEMORY_BASIC_INFORMATION *w,
                     const MEMORY_BASIC_INFORMATION *g)
{
	return same(d, "BaseAddress", (uintptr_t)w->BaseAddress, (uintptr_t)g->BaseAddress) &&
	       same(d, "AllocationBase", (uintptr_t)w->AllocationBase, (uintptr_t)g->AllocationBase) &&
	       same(d, "AllocationProtect", w->AllocationProtect, g->AllocationProtect) &&
	       same(d, "RegionSize", w->RegionSize, g->RegionSize) &&
	       same(d, "State", w->State, g->State) &&
	       same(d, "Protect", w->Protect, g->Protect) &&
	       same(d, "Type", w->Type, g->Type);
}

/* VirtualQuery; *size (when not NULL) gets the region's size. */
static bool do_query(struct drive *d, uint64_t addr, SIZE_T len, bool buf_given,
                     bool res_given, uint64_t *size)
{
	MEMORY_BASIC_INFORMATION got[2], want;
	SIZE_T n = 0xDEAD;
	HRESULT hr, exp;

	describe(d, "VirtualQuery(0x%llx, len %llu%s%s)", (ull)addr, (ull)len,
	         buf_given ? "" : ", lpBuffer NULL", res_given ? "" : ", pResult NULL");
	hr = IHostMemoryManager_VirtualQuery(d->env.m, (void *)(uintptr_t)addr,
	                                     buf_given ? got : 0, len, res_given ? &n : 0);
	exp = model_query(d->model, addr, len, buf_given, res_given, &want);
	d->op_ok = hr == S_OK;
	if (!same_hr(d, exp, hr))
		return false;
	if (hr != S_OK)
		return true;
	if (size)
		*size = want.RegionSize;
	return same_mbi(d, &want, &got[0]) && same(d, "*pResult", MBI, n);
}

static bool do_read(struct drive *d, uint64_t va, size_t len)
{
	uint8_t got[64], want[64];
	bool zero_ok[64];
	uint32_t code, exp;
	size_t done;

	describe(d, "read %llu bytes at 0x%llx", (ull)len, (ull)va);
	code = d->env.access(d->env.ctx, MODEL_READ, va, got, len);
	exp = model_access(d->model, MODEL_READ, va, len, want, zero_ok, &done);
	d->op_ok = code == 0;
	if (!same(d, "exception", exp, code))
		return false;
	for (size_t i = 0; i < done; i++) {
		if (got[i] == want[i] || (zero_ok[i] && got[i] == 0))
			continue;
		d->divergences++;
		say(d, "DIVERGENCE at op %llu: %s\n    byte at 0x%llx: model 0x%02x%s, manager 0x%02x",
		    (ull)d->ops, d->desc, (ull)(va + i), want[i], zero_ok[i] ? " or 0" : "", got[i]);
		return false;
	}
	return true;
}

static bool do_write(struct drive *d, uint64_t va, uint8_t *buf, size_t len)
{
	uint32_t code, exp;
	size_t done;

	describe(d, "write %llu bytes (0x%02x...) at 0x%llx", (ull)len, buf[0], (ull)va);
	code = d->env.access(d->env.ctx, MODEL_WRITE, va, buf, len);
	exp = model_access(d->model, MODEL_WRITE, va, len, buf, 0, &done);
	d->op_ok = code == 0;
	if (exp == (uint32_t)MODEL_UNTRACKED)
		return same_hr(d, MODEL_UNTRACKED, 0);
	return same(d, "exception", exp, code);
}

static bool do_exec(struct drive *d, uint64_t va)
{
	uint32_t code, exp;
	size_t done;

	describe(d, "execute at 0x%llx", (ull)va);
	code = d->env.access(d->env.ctx, MODEL_EXEC, va, 0, 0);
	exp = model_access(d->model, MODEL_EXEC, va, 1, 0, 0, &done);
	d->op_ok = code == 0;
	return same(d, "exception", exp, code);
}

/* ------------------------------------------------------------ operations */

/* Task-critical mostly; process-critical rarely, since its failure ends
 * the run (the manager is dead, as the contract says). */
static uint32_t level_pick(struct drive *d)
{
	uint8_t b = src_byte(d);

	if (b == 0xFF)   /* not 0: a fuzzer's input reads as zeros past its end */
		return src_chance(d, 64) && d->may_kill ? eProcessCritical : eTaskCritical;
	return b >= 0xE0 ? eAppDomainCritical : eTaskCritical;
}

static bool op_reserve(struct drive *d)
{
	DWORD type = src_chance(d, 32) ? MEM_COMMIT : MEM_RESERVE;

	if (src_chance(d, 128))
		type |= MEM_COMMIT;
	if (src_chance(d, 64))
		type |= MEM_TOP_DOWN;
	if ((type & MEM_RESERVE) && src_chance(d, 16))
		type |= MEM_WRITE_WATCH;
	return do_alloc(d, 0, size_pick(d), type, prot_pick(d), level_pick(d), true);
}

static bool op_reserve_at(struct drive *d)
{
	uint64_t addr = not_fence(src_chance(d, 160) ? addr_window(d) : addr_near(d));
	DWORD type = src_chance(d, 128) ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE;

	return do_alloc(d, addr, size_pick(d), type, prot_pick(d), level_pick(d), true);
}

static bool op_commit(struct drive *d)
{
	uint64_t addr = not_fence(addr_near(d));
	uint64_t size = src_chance(d, 192) ? (1 + src_below(d, 16)) * P : size_pick(d);

	return do_alloc(d, addr, size, MEM_COMMIT, prot_pick(d), level_pick(d), true);
}

/* MEM_RESET or MEM_RESET_UNDO.  A refused undo changes nothing, so asking
 * again (often right away) must be refused again. */
static bool op_reset(struct drive *d)
{
	uint64_t addr = addr_near(d), size = size_pick(d);
	DWORD type = src_chance(d, 80) ? MEM_RESET_UNDO : MEM_RESET, prot = prot_pick(d);

	if (!do_alloc(d, addr, size, type, prot, eTaskCritical, true))
		return false;
	if (type == MEM_RESET_UNDO && !d->op_ok && src_chance(d, 128))
		return do_alloc(d, addr, size, type, prot, eTaskCritical, true);
	return true;
}

/* Large pages: whole 2 MiB pages, placed or at a 2 MiB boundary in the
 * windows (sometimes not quite). */
static bool op_large(struct drive *d)
{
	/* Contiguous 2 MiB frames run out long before the commit limit: a
	 * process-critical request here would end most runs. */
	DWORD type = MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES;
	uint64_t addr = 0, size = (1 + src_below(d, 2)) * MODEL_LARGE;
	uint8_t b = src_byte(d);

	if (b & 1)
		type |= MEM_TOP_DOWN;
	if (b < 64)
		addr = not_fence(addr_window(d) & ~(MODEL_LARGE - 1));
	if (b >= 240)
		size += P * (1 + src_below(d, 16));
	return do_alloc(d, addr, size, type, prot_pick(d), src_below(d, 2), true);
}

static bool op_decommit(struct drive *d)
{
	uint64_t addr = not_fence(addr_near(d));

	return do_free(d, addr, src_chance(d, 64) ? 0 : size_pick(d), MEM_DECOMMIT);
}

static bool op_release(struct drive *d)
{
	uint64_t addr = not_fence(addr_near(d));

	return do_free(d, addr, src_chance(d, 16) ? size_pick(d) : 0, MEM_RELEASE);
}

static bool op_protect(struct drive *d)
{
	uint64_t addr = addr_near(d);
	uint64_t size = src_chance(d, 192) ? (1 + src_below(d, 8)) * P : size_pick(d);
	const struct model_resv *r = model_resv_at(d->model, addr);

	if (r && r->large && src_chance(d, 192)) {   /* whole 2 MiB pages */
		addr = r->base + src_below(d, (r->end - r->base) / MODEL_LARGE) * MODEL_LARGE;
		size = (1 + src_below(d, 2)) * MODEL_LARGE;
	}
	return do_protect(d, addr, size, prot_pick(d), !src_chance(d, 4));
}

static bool op_query(struct drive *d)
{
	return do_query(d, addr_any(d), MBI, true, true, 0);
}

static bool op_read(struct drive *d)
{
	uint64_t va = src_chance(d, 8) ? src_below(d, MODEL_MIN) : addr_near(d);
	size_t len = src_chance(d, 224) ? 1 + src_below(d, 16) : 1 + src_below(d, 64);

	return do_read(d, va, len);
}

/* len (1..S) bytes where the model samples: in the first or last S bytes
 * of a page, or across the end of one page into the next. */
static bool op_write_at(struct drive *d, uint64_t page, size_t len)
{
	uint8_t buf[S];
	uint64_t off, k;

	switch (src_byte(d) & 3) {
	case 0:  off = src_below(d, S - len + 1); break;
	case 1:  off = P - S + src_below(d, S - len + 1); break;
	case 2:  k = 1 + src_below(d, len); off = P - k; break;
	default: off = 0; break;
	}
	if (src_chance(d, 64))
		for (size_t i = 0; i < len; i++)
			buf[i] = 0xC3;   /* `ret`: what op_exec looks for */
	else
		for (size_t i = 0; i < len; i++)
			buf[i] = src_byte(d);
	return do_write(d, page + off, buf, len);
}

static bool op_write(struct drive *d)
{
	uint64_t page = src_chance(d, 8) ? 0 : addr_near(d) & ~(P - 1);

	return op_write_at(d, page, 1 + src_below(d, S));
}

/* A sampled byte the model knows is 0xC3, or -1. */
static int find_ret(const struct model_page *p)
{
	for (unsigned i = 0; i < 2 * S; i++)
		if (p->bytes[i] == 0xC3 && !((p->maybe_zero >> i) & 1))
			return (int)i;
	return -1;
}

/* A fetch where the model says it faults, or at a `ret` the model knows
 * of: never at bytes that would run as code.  No `ret` on a readable page:
 * write one instead. */
static bool op_exec(struct drive *d)
{
	uint64_t page = addr_near(d) & ~(P - 1);
	struct model_page *p = model_page_at(d->model, page);
	int i;

	if (!p || !p->committed || (p->prot & PAGE_GUARD) || (p->prot & 0xFF) == PAGE_NOACCESS)
		return do_exec(d, page + src_below(d, P));
	i = find_ret(p);
	if (i < 0) {
		uint8_t ret = 0xC3;

		return do_write(d, page + (src_chance(d, 128) ? src_below(d, S) : P - 1 - src_below(d, S)),
		                &ret, 1);
	}
	return do_exec(d, page + (i < (int)S ? (uint64_t)i : P - 2 * S + (uint64_t)i));
}

static bool op_wild_alloc(struct drive *d)
{
	uint64_t addr = not_fence(src_chance(d, 32) ? 0 : addr_any(d));
	uint32_t level = src_chance(d, 16) ? src_u32(d) : level_pick(d);

	if (level == eProcessCritical && !d->may_kill)
		level = eAppDomainCritical;
	uint64_t size = size_pick(d);
	DWORD type = type_wild(d);

	return do_alloc(d, addr, size, type, src_chance(d, 128) ? prot_pick(d) : prot_wild(d),
	                level, !src_chance(d, 32));
}

static bool op_wild_free(struct drive *d)
{
	static const DWORD types[] = {
		MEM_DECOMMIT, MEM_RELEASE, 0, MEM_DECOMMIT | MEM_RELEASE, MEM_FREE, MEM_RESERVE,
		MEM_RELEASE | 1, MEM_COMMIT,
	};
	uint64_t addr = not_fence(addr_any(d));
	uint64_t size = src_chance(d, 96) ? 0 : size_pick(d);
	DWORD type = src_chance(d, 240) ? types[src_below(d, NELEM(types))] : src_u32(d);

	return do_free(d, addr, size, type);
}

static bool op_wild_protect(struct drive *d)
{
	uint64_t addr = addr_any(d), size = size_pick(d);

	return do_protect(d, addr, size, src_chance(d, 128) ? prot_pick(d) : prot_wild(d),
	                  !src_chance(d, 64));
}

static bool op_wild_query(struct drive *d)
{
	static const SIZE_T lens[] = { MBI, MBI, MBI, 0, 1, MBI - 1, MBI + 1, 2 * MBI };
	uint64_t addr = src_chance(d, 224) ? addr_any(d) : (uint64_t)src_u32(d) << 16;
	SIZE_T len = lens[src_below(d, NELEM(lens))];

	return do_query(d, addr, len, !src_chance(d, 16), !src_chance(d, 16), 0);
}

/* ------------------------------------------------------------ the mix */

static const struct {
	enum drive_op op;
	uint8_t weight;        /* out of 256 */
	const char *name;
	bool (*run)(struct drive *d);
} mix[OP_KINDS] = {
	{ OP_RESERVE,      24, "reserve",      op_reserve },
	{ OP_RESERVE_AT,   12, "reserve-at",   op_reserve_at },
	{ OP_COMMIT,       28, "commit",       op_commit },
	{ OP_RESET,         8, "reset",        op_reset },
	{ OP_LARGE,         4, "large",        op_large },
	{ OP_DECOMMIT,     16, "decommit",     op_decommit },
	{ OP_RELEASE,      20, "release",      op_release },
	{ OP_PROTECT,      24, "protect",      op_protect },
	{ OP_QUERY,        20, "query",        op_query },
	{ OP_READ,         30, "read",         op_read },
	{ OP_WRITE,        30, "write",        op_write },
	{ OP_EXEC,         12, "exec",         op_exec },
	{ OP_WILD_ALLOC,   10, "wild-alloc",   op_wild_alloc },
	{ OP_WILD_FREE,     6, "wild-free",    op_wild_free },
	{ OP_WILD_PROTECT,  6, "wild-protect", op_wild_protect },
	{ OP_WILD_QUERY,    6, "wild-query",   op_wild_query },
};

const char *drive_op_name(enum drive_op op)
{
	return op < OP_KINDS ? mix[op].name : "?";
}

static enum drive_op pick_op(struct drive *d)
{
	unsigned b = src_byte(d);
	enum drive_op op = OP_WILD_QUERY;

	for (unsigned i = 0; i < OP_KINDS; i++) {
		if (b < mix[i].weight) {
			op = mix[i].op;
			break;
		}
		b -= mix[i].weight;
	}
	/* Many reservations: new ones give way to releases. */
	if ((op == OP_RESERVE || op == OP_RESERVE_AT) && d->model->nresv > MANY_RESV)
		op = OP_RELEASE;
	return op;
}

/* ------------------------------------------------------------ the books */

static bool check_books(struct drive *d)
{
	struct hostmem_stats st;

	if (!same_hr(d, S_OK, hostmem_get_stats(d->env.m, &st)))
		return false;
	return same(d, "stats: commit charge", d->start.commit_charge + d->model->charge,
	            st.commit_charge) &&
	       same(d, "stats: reservations", d->start.reservations + d->model->nresv,
	            st.reservations);
}

static bool verify_now(struct drive *d)
{
	char why[256] = "";
	HRESULT hr = d->verify_in_use ? hostmem_verify_in_use(d->env.m, why, sizeof why)
	                              : hostmem_verify(d->env.m, why, sizeof why);

	d->verifies++;
	if (hr == S_OK)
		return true;
	d->divergences++;
	say(d, "VERIFY FAILED after op %llu: %s\n    %s: %s", (ull)d->ops, d->desc,
	    hostmem_hresult_name(hr), why);
	return false;
}

/* VirtualQuery region by region over the whole range, on both sides. */
static bool walk(struct drive *d)
{
	uint64_t va = 0, size = 0;

	d->walks++;
	while (va < MODEL_LIMIT) {
		if (!do_query(d, va, MBI, true, true, &size))
			return false;
		va += size;
	}
	return true;
}

/* The manager died (a process-critical allocation found no memory): every
 * call must now be refused.  Ends the run (after dead_still_serves_memory);
 * not a divergence. */
static bool dead_refuses_everything(struct drive *d)
{
	char why[64];

	if (d->trace)
		say(d, "op %llu: %s: out of memory at process-critical level: the manager is "
		    "dead, as the contract says; the run ends", (ull)d->ops, d->desc);
	if (!do_query(d, MODEL_LOW_BASE, MBI, true, true, 0) ||
	    !do_free(d, MODEL_LOW_END, 0, MEM_RELEASE) ||
	    !do_protect(d, MODEL_LOW_BASE, P, PAGE_READWRITE, true) ||
	    !do_alloc(d, 0, P, MEM_COMMIT, PAGE_READWRITE, eProcessCritical, true))
		return false;
	describe(d, "hostmem_verify of a dead manager");
	return same_hr(d, HOST_E_CLRNOTAVAILABLE, hostmem_verify(d->env.m, why, sizeof why));
}

/* A committed page with PAGE_GUARD set, or 0. */
static uint64_t find_guard_page(struct model *m)
{
	for (uint64_t i = 0; i < MODEL_PAGES; i++) {
		uint64_t va = i < MODEL_LOW_PAGES ? MODEL_LOW_BASE + i * P
		                                  : MODEL_HIGH_BASE + (i - MODEL_LOW_PAGES) * P;
		struct model_page *p = model_page_at(m, va);

		if (p->committed && (p->prot & PAGE_GUARD))
			return va;
	}
	return 0;
}

/* "Commit is a promise for the life of the memory": a dead manager still
 * serves what was committed before it died.  A guard page goes off once,
 * then lets the access through (or not, as its protection says); reads,
 * writes and fetches elsewhere answer as they did before. */
static bool dead_still_serves_memory(struct drive *d)
{
	uint64_t guard = find_guard_page(d->model);
	bool ok = true;

	if (guard)
		ok = do_read(d, guard, 1) && do_read(d, guard, 1);
	for (int i = 0; ok && i < 32; i++) {
		uint8_t b = src_byte(d);

		ok = b < 128 ? op_read(d) : b < 224 ? op_write(d) : op_exec(d);
	}
	return ok;
}

bool drive_step(struct drive *d)
{
	enum drive_op op;

	if ((d->from_bytes && d->pos >= d->len) || d->model->dead)
		return false;
	op = pick_op(d);
	d->ops++;
	d->count[op]++;
	d->op_ok = false;
	if (!mix[op].run(d))
		return false;
	d->succeeded[op] += d->op_ok;
	if (d->trace)
		say(d, "op %llu: %s: %s", (ull)d->ops, d->desc, d->op_ok ? "ok" : "failed");
	if (d->model->dead) {
		if (dead_refuses_everything(d))
			dead_still_serves_memory(d);
		return false;
	}
	if (!check_books(d))
		return false;
	if (d->verify_every && d->ops % d->verify_every == 0 && !verify_now(d))
		return false;
	return !(d->walk_every && d->ops % d->walk_every == 0) || walk(d);
}

bool drive_run(struct drive *d, uint64_t n)
{
	uint64_t before = d->divergences;

	while (d->ops < n && drive_step(d))
		;
	return d->divergences == before;
}

/* ------------------------------------------------------------ begin, end */

bool drive_begin(struct drive *d, struct model *model, const struct drive_env *env)
{
	*d = (struct drive){ .env = *env, .model = model, .verify_every = 1, .walk_every = 256,
	                     .may_kill = true };
	drive_seed(d, 1);
	if (hostmem_get_stats(env->m, &d->start) != S_OK || d->start.reservations != 0) {
		say(d, "drive: the manager must start with no reservation (it has %llu)",
		    (ull)d->start.reservations);
		return false;
	}
	/* The one fact the model takes from the machine: its usable frames.
	 * Every limit on commits it derives itself (model.h). */
	model_init(model, d->start.frames_usable);
	return do_alloc(d, MODEL_LOW_END, MODEL_HIGH_BASE - MODEL_LOW_END, MEM_RESERVE,
	                PAGE_NOACCESS, eTaskCritical, true);
}

static bool back_at_start(struct drive *d, const struct hostmem_stats *st)
{
	const struct hostmem_stats *s0 = &d->start;

	describe(d, "after releasing everything");
	return same(d, "stats: frames_free", s0->frames_free, st->frames_free) &&
	       same(d, "stats: frames_data", s0->frames_data, st->frames_data) &&
	       same(d, "stats: frames_tables", s0->frames_tables, st->frames_tables) &&
	       same(d, "stats: frames_meta", s0->frames_meta, st->frames_meta) &&
	       same(d, "stats: commit_charge", s0->commit_charge, st->commit_charge) &&
	       same(d, "stats: commit_promised", s0->commit_promised, st->commit_promised) &&
	       same(d, "stats: commit_available", s0->commit_available, st->commit_available) &&
	       same(d, "stats: reservations", s0->reservations, st->reservations);
}

bool drive_end(struct drive *d)
{
	struct hostmem_stats st;

	if (d->model->dead)
		return d->divergences == 0;
	while (d->model->nresv > 0)
		if (!do_free(d, d->model->resv[d->model->nresv - 1].base, 0, MEM_RELEASE) ||
		    !check_books(d))
			return false;
	if (!walk(d) || !verify_now(d))
		return false;
	if (!same_hr(d, S_OK, hostmem_get_stats(d->env.m, &st)))
		return false;
	return back_at_start(d, &st);
}
