/*
 * twin.c - the contract tests' fixture.  See twin.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem/embed.h"
#include "hostmem/hm.h"
#include "tests/host/lib/twin.h"

/* A walk with more regions than this is a runaway (RegionSize 0, a loop). */
#define WALK_MAX  (1u << 20)

/* ------------------------------------------------------------ names */

static const char *code_name(uint32_t code)
{
	switch (code) {
	case 0:                           return "0 (no exception)";
	case STATUS_ACCESS_VIOLATION:     return "STATUS_ACCESS_VIOLATION";
	case STATUS_GUARD_PAGE_VIOLATION: return "STATUS_GUARD_PAGE_VIOLATION";
	default:                          return "?";
	}
}

void twin_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error("%s\n", msg);
	_fail(file, line);
	abort();   /* _fail longjmps out of the test */
}

/* ------------------------------------------------------------ life */

struct twin *twin_new(size_t ram_bytes, unsigned sim_flags)
{
	struct twin *t = calloc(1, sizeof *t);
	HRESULT hr;

	assert_non_null(t);
	hr = hm_sim_create_ex(ram_bytes, sim_flags | HM_SIM_TLB_KEEP, &t->sim);
	if (hr != S_OK)
		twin_fail(__FILE__, __LINE__, "hm_sim_create_ex: %s", hostmem_hresult_name(hr));
	t->m = hm_sim_manager(t->sim);
	hostmem_set_verify_each(t->m, true);
	t->start = twin_stats(t);
	return t;
}

void twin_free(struct twin *t)
{
	if (!t)
		return;
	twin_snap_free(&t->before);
	twin_snap_free(&t->after);
	hm_sim_destroy(t->sim);
	free(t);
}

int twin_setup(void **state)
{
	*state = twin_new(TWIN_RAM, 0);
	return 0;
}

int twin_debug_setup(void **state)
{
	*state = twin_new(TWIN_DEBUG_RAM, HM_SIM_DEBUG_FRAMES);
	return 0;
}

int twin_teardown(void **state)
{
	struct twin *t = *state;
	char why[256] = "";
	HRESULT hr = t->dead_ok ? S_OK : hostmem_verify(t->m, why, sizeof why);

	twin_free(t);
	if (hr != S_OK) {
		print_error("teardown: hostmem_verify %s: %s\n", hostmem_hresult_name(hr), why);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ raw calls */

HRESULT twin_alloc(struct twin *t, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                   uint64_t *out)
{
	void *p = VA(0xBADBADBAD000);
	HRESULT hr = IHostMemoryManager_VirtualAlloc(t->m, VA(addr), size, type, prot,
	                                             eTaskCritical, &p);

	*out = (uint64_t)(uintptr_t)p;
	return hr;
}

HRESULT twin_vfree(struct twin *t, uint64_t addr, uint64_t size, DWORD type)
{
	return IHostMemoryManager_VirtualFree(t->m, VA(addr), size, type);
}

HRESULT twin_protect(struct twin *t, uint64_t addr, uint64_t size, DWORD prot, DWORD *old)
{
	return IHostMemoryManager_VirtualProtect(t->m, VA(addr), size, prot, old);
}

HRESULT twin_query(struct twin *t, uint64_t addr, MEMORY_BASIC_INFORMATION *mbi)
{
	SIZE_T n = 0;
	HRESULT hr = IHostMemoryManager_VirtualQuery(t->m, VA(addr), mbi, sizeof *mbi, &n);

	if (hr == S_OK && n != sizeof *mbi)
		twin_fail(__FILE__, __LINE__, "VirtualQuery(%#llx) wrote %zu bytes, not 48",
		      (unsigned long long)addr, (size_t)n);
	return hr;
}

struct hostmem_stats twin_stats(struct twin *t)
{
	struct hostmem_stats st;
	HRESULT hr = hostmem_get_stats(t->m, &st);

	if (hr != S_OK)
		twin_fail(__FILE__, __LINE__, "hostmem_get_stats: %s", hostmem_hresult_name(hr));
	return st;
}

uint32_t twin_read(struct twin *t, uint64_t va, void *buf, size_t len)
{
	return hm_sim_read(t->sim, VA(va), buf, len);
}

uint32_t twin_write(struct twin *t, uint64_t va, const void *buf, size_t len)
{
	return hm_sim_write(t->sim, VA(va), buf, len);
}

uint32_t twin_exec(struct twin *t, uint64_t va)
{
	return hm_sim_exec(t->sim, VA(va));
}

uint32_t twin_peek(struct twin *t, uint64_t va, uint8_t *v)
{
	return twin_read(t, va, v, 1);
}

uint32_t twin_poke(struct twin *t, uint64_t va, uint8_t v)
{
	return twin_write(t, va, &v, 1);
}

void twin_fail_frame_alloc(struct twin *t, unsigned k)
{
	hm_of(t->m)->frames.fail_countdown = k;
}

/* ------------------------------------------------------------ snapshots */

static void snap_push(struct twin_snap *s, const MEMORY_BASIC_INFORMATION *mbi)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->mbi = realloc(s->mbi, s->cap * sizeof *s->mbi);
		s->hash = realloc(s->hash, s->cap * sizeof *s->hash);
		assert_true(s->mbi && s->hash);
	}
	s->mbi[s->n] = *mbi;
	s->hash[s->n] = 0;
	s->n++;
}

/* The whole space, region by region; the regions must tile it. */
static void snap_walk(struct twin *t, struct twin_snap *s)
{
	MEMORY_BASIC_INFORMATION mbi;
	uint64_t va = 0;
	HRESULT hr;

	s->n = 0;
	while (va < VA_END) {
		hr = twin_query(t, va, &mbi);
		if (hr != S_OK)
			twin_fail(__FILE__, __LINE__, "snapshot: VirtualQuery(%#llx): %s",
			      (unsigned long long)va, hostmem_hresult_name(hr));
		if ((uint64_t)(uintptr_t)mbi.BaseAddress != va || mbi.RegionSize == 0 ||
		    mbi.RegionSize > VA_END - va || s->n >= WALK_MAX)
			twin_fail(__FILE__, __LINE__,
			      "snapshot: VirtualQuery(%#llx) gave base %p size %#zx: "
			      "the regions do not tile the space", (unsigned long long)va,
			      mbi.BaseAddress, (size_t)mbi.RegionSize);
		snap_push(s, &mbi);
		va += mbi.RegionSize;
	}
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001B3ull;   /* FNV-1a */
	return h;
}

/* The contents of a committed region; it must be readable now. */
static uint64_t hash_region(struct twin *t, uint64_t va, uint64_t size)
{
	static uint8_t buf[64 * 1024];
	uint64_t h = 0xCBF29CE484222325ull;
	uint32_t code;
	size_t n;

	for (; size; va += n, size -= n) {
		n = size < sizeof buf ? size : sizeof buf;
		code = twin_read(t, va, buf, n);
		if (code)
			twin_fail(__FILE__, __LINE__, "snapshot: reading committed %#llx raised %s",
			      (unsigned long long)va, code_name(code));
		h = hash_bytes(h, buf, n);
	}
	return h;
}

static bool unreadable(DWORD prot)
{
	return (prot & 0xFF) == PAGE_NOACCESS || (prot & PAGE_GUARD);
}

static void set_prot(struct twin *t, uint64_t va, uint64_t size, DWORD prot, DWORD want_old)
{
	DWORD old = 0;
	HRESULT hr = twin_protect(t, va, size, prot, &old);

	if (hr != S_OK || old != want_old)
		twin_fail(__FILE__, __LINE__,
		      "snapshot: VirtualProtect(%#llx, %#llx, %#x): %s, old %#x "
		      "(want %#x)", (unsigned long long)va, (unsigned long long)size, prot,
		      hostmem_hresult_name(hr), old, want_old);
}

static void snap_contents(struct twin *t, struct twin_snap *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const MEMORY_BASIC_INFORMATION *r = &s->mbi[i];
		uint64_t va = (uint64_t)(uintptr_t)r->BaseAddress;

		if (r->State != MEM_COMMIT)
			continue;
		if (!unreadable(r->Protect)) {
			s->hash[i] = hash_region(t, va, r->RegionSize);
			continue;
		}
		/* READONLY keeps a cache attribute, so the way back is exact. */
		set_prot(t, va, r->RegionSize, PAGE_READONLY, r->Protect);
		s->hash[i] = hash_region(t, va, r->RegionSize);
		set_prot(t, va, r->RegionSize, r->Protect,
		         PAGE_READONLY | (r->Protect & (PAGE_NOCACHE | PAGE_WRITECOMBINE)));
	}
}

void twin_snap(struct twin *t, struct twin_snap *s)
{
	snap_walk(t, s);
	snap_contents(t, s);
	s->st = twin_stats(t);
}

void twin_snap_free(struct twin_snap *s)
{
	free(s->mbi);
	free(s->hash);
	*s = (struct twin_snap){ 0 };
}

/* ------------------------------------------------------------ assertions */

void twin_assert_hr(HRESULT want, HRESULT got, const char *call, const char *file, int line)
{
	if (want != got)
		twin_fail(file, line, "%s\n    returned %s (0x%08x), want %s (0x%08x)", call,
		      hostmem_hresult_name(got), (uint32_t)got, hostmem_hresult_name(want),
		      (uint32_t)want);
}

void twin_assert_code(uint32_t want, uint32_t got, const char *call, const char *file, int line)
{
	if (want != got)
		twin_fail(file, line, "%s\n    raised %s (%#x), want %s (%#x)", call,
		      code_name(got), got, code_name(want), want);
}

static void describe(char *out, size_t len, const MEMORY_BASIC_INFORMATION *m)
{
	snprintf(out, len, "{base %p, alloc %p/%#x, size %#zx, state %#x, prot %#x, type %#x}",
	         m->BaseAddress, m->AllocationBase, m->AllocationProtect, (size_t)m->RegionSize,
	         m->State, m->Protect, m->Type);
}

static bool same_region(const MEMORY_BASIC_INFORMATION *a, const MEMORY_BASIC_INFORMATION *b)
{
	return a->BaseAddress == b->BaseAddress && a->AllocationBase == b->AllocationBase &&
	       a->AllocationProtect == b->AllocationProtect && a->RegionSize == b->RegionSize &&
	       a->State == b->State && a->Protect == b->Protect && a->Type == b->Type;
}

#define STAT(f) { #f, offsetof(struct hostmem_stats, f) }
static const struct { const char *name; size_t off; } compared_stats[] = {
	STAT(frames_usable), STAT(frames_free), STAT(frames_data), STAT(frames_tables),
	STAT(frames_meta), STAT(reservations), STAT(commit_charge), STAT(commit_promised),
	STAT(commit_available),
};

static uint64_t stat_of(const struct hostmem_stats *st, size_t off)
{
	return *(const uint64_t *)((const char *)st + off);
}

void twin_assert_same(const struct twin_snap *a, const struct twin_snap *b,
                      const char *file, int line)
{
	char x[160], y[160];

	for (size_t i = 0; i < a->n || i < b->n; i++) {
		if (i >= a->n || i >= b->n)
			twin_fail(file, line, "state changed: %zu regions before, %zu after", a->n,
			      b->n);
		if (!same_region(&a->mbi[i], &b->mbi[i])) {
			describe(x, sizeof x, &a->mbi[i]);
			describe(y, sizeof y, &b->mbi[i]);
			twin_fail(file, line, "state changed: region %zu was\n    %s\n  and is\n    %s",
			      i, x, y);
		}
		if (a->hash[i] != b->hash[i]) {
			describe(x, sizeof x, &a->mbi[i]);
			twin_fail(file, line, "state changed: the contents of %s", x);
		}
	}
	for (size_t i = 0; i < sizeof compared_stats / sizeof compared_stats[0]; i++) {
		uint64_t u = stat_of(&a->st, compared_stats[i].off);
		uint64_t v = stat_of(&b->st, compared_stats[i].off);

		if (u != v)
			twin_fail(file, line, "state changed: stats.%s was %llu, is %llu",
			      compared_stats[i].name, (unsigned long long)u, (unsigned long long)v);
	}
}

void twin_assert_clean(struct twin *t, const char *file, int line)
{
	char why[256] = "";
	HRESULT hr = hostmem_verify(t->m, why, sizeof why);

	if (hr != S_OK)
		twin_fail(file, line, "hostmem_verify: %s: %s", hostmem_hresult_name(hr), why);
}

void twin_assert_region(const MEMORY_BASIC_INFORMATION *mbi, uint64_t base, uint64_t alloc_base,
                        DWORD alloc_prot, uint64_t size, DWORD state, DWORD prot, DWORD type,
                        const char *file, int line)
{
	MEMORY_BASIC_INFORMATION want = {
		.BaseAddress = VA(base), .AllocationBase = VA(alloc_base),
		.AllocationProtect = alloc_prot, .RegionSize = size, .State = state,
		.Protect = prot, .Type = type,
	};
	char x[160], y[160];

	if (!same_region(mbi, &want)) {
		describe(x, sizeof x, mbi);
		describe(y, sizeof y, &want);
		twin_fail(file, line, "VirtualQuery gave\n    %s\n  want\n    %s", x, y);
	}
}

/* Everything given back: no reservation, no charge, no table, no data
 * frame, and as many free frames as at the start. */
void twin_assert_stats_at_start(struct twin *t, const char *file, int line)
{
	struct hostmem_stats st = twin_stats(t);

	if (st.reservations || st.commit_charge || st.commit_promised || st.frames_tables ||
	    st.frames_data || st.frames_free != t->start.frames_free ||
	    st.frames_meta != t->start.frames_meta ||
	    st.commit_available != t->start.commit_available)
		twin_fail(file, line,
		      "not back at the start: reservations %llu, charge %llu, promised %llu, "
		      "tables %llu, data %llu, free %llu (start %llu), meta %llu (start %llu)",
		      (unsigned long long)st.reservations, (unsigned long long)st.commit_charge,
		      (unsigned long long)st.commit_promised, (unsigned long long)st.frames_tables,
		      (unsigned long long)st.frames_data, (unsigned long long)st.frames_free,
		      (unsigned long long)t->start.frames_free, (unsigned long long)st.frames_meta,
		      (unsigned long long)t->start.frames_meta);
}

uint64_t twin_alloc_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD type, DWORD prot,
                       const char *file, int line)
{
	uint64_t p;
	HRESULT hr = twin_alloc(t, addr, size, type, prot, &p);

	if (hr != S_OK || p == 0)
		twin_fail(file, line, "VirtualAlloc(%#llx, %#llx, %#x, %#x): %s, *ppMem %#llx",
		      (unsigned long long)addr, (unsigned long long)size, type, prot,
		      hostmem_hresult_name(hr), (unsigned long long)p);
	return p;
}

void twin_unchanged_begin(struct twin *t)
{
	twin_snap(t, &t->before);
}

void twin_unchanged_end(struct twin *t, const char *file, int line)
{
	twin_snap(t, &t->after);
	twin_assert_same(&t->before, &t->after, file, line);
	twin_assert_clean(t, file, line);
}

void twin_alloc_fails(struct twin *t, HRESULT want, uint64_t addr, uint64_t size, DWORD type,
                      DWORD prot, const char *file, int line)
{
	char call[160];
	uint64_t p;
	HRESULT hr;

	snprintf(call, sizeof call, "VirtualAlloc(%#llx, %#llx, %#x, %#x)",
	         (unsigned long long)addr, (unsigned long long)size, type, prot);
	twin_unchanged_begin(t);
	hr = twin_alloc(t, addr, size, type, prot, &p);
	twin_assert_hr(want, hr, call, file, line);
	if (p != 0)
		twin_fail(file, line, "%s failed but *ppMem is %#llx, not NULL", call,
		      (unsigned long long)p);
	twin_unchanged_end(t, file, line);
}

void twin_free_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD type,
                  const char *file, int line)
{
	HRESULT hr = twin_vfree(t, addr, size, type);

	if (hr != S_OK)
		twin_fail(file, line, "VirtualFree(%#llx, %#llx, %#x): %s", (unsigned long long)addr,
		      (unsigned long long)size, type, hostmem_hresult_name(hr));
}

DWORD twin_protect_ok(struct twin *t, uint64_t addr, uint64_t size, DWORD prot,
                      const char *file, int line)
{
	DWORD old = 0xDEADBEEF;
	HRESULT hr = twin_protect(t, addr, size, prot, &old);

	if (hr != S_OK)
		twin_fail(file, line, "VirtualProtect(%#llx, %#llx, %#x): %s", (unsigned long long)addr,
		      (unsigned long long)size, prot, hostmem_hresult_name(hr));
	return old;
}

MEMORY_BASIC_INFORMATION twin_query_ok(struct twin *t, uint64_t addr, const char *file, int line)
{
	MEMORY_BASIC_INFORMATION mbi;
	HRESULT hr = twin_query(t, addr, &mbi);

	if (hr != S_OK)
		twin_fail(file, line, "VirtualQuery(%#llx): %s", (unsigned long long)addr,
		      hostmem_hresult_name(hr));
	return mbi;
}

void twin_fill_ok(struct twin *t, uint64_t va, size_t len, uint8_t v, const char *file, int line)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint32_t code;

	assert_non_null(buf);
	memset(buf, v, len);
	code = twin_write(t, va, buf, len);
	free(buf);
	if (code)
		twin_fail(file, line, "writing %zu bytes at %#llx raised %s", len,
		      (unsigned long long)va,
		      code_name(code));
}

void twin_assert_bytes(struct twin *t, uint64_t va, size_t len, uint8_t v,
                       const char *file, int line)
{
	uint8_t *buf = malloc(len ? len : 1), got = v;
	uint32_t code;
	size_t i = 0;

	assert_non_null(buf);
	code = twin_read(t, va, buf, len);
	while (code == 0 && i < len && buf[i] == v)
		i++;
	if (i < len)
		got = buf[i];
	free(buf);
	if (code)
		twin_fail(file, line, "reading %zu bytes at %#llx raised %s", len,
		      (unsigned long long)va,
		      code_name(code));
	if (i < len)
		twin_fail(file, line, "byte at %#llx is %#x, not %#x", (unsigned long long)(va + i),
		      got, v);
}
