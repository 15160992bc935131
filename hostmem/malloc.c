/*
 * malloc.c - IHostMalloc, built on the manager's own VirtualAlloc.
 *
 * Small blocks (up to 2 KiB) come in eight size classes, 16 to 2048 bytes,
 * each a multiple of 16 so every block is 16-byte aligned.  A chunk is one
 * reservation, committed whole, holding 256 blocks of one class (4 KiB for
 * 16-byte blocks up to 512 KiB for 2 KiB ones); a bitmap says which are in
 * use.  Bigger blocks get a reservation of their own.  Executable memory
 * (PAGE_EXECUTE_READWRITE) only for an allocator created with
 * MALLOC_EXECUTABLE.
 *
 * All bookkeeping lives outside the blocks, in hostmem's metadata (a slab of
 * the manager): block memory is the caller's alone, may sit behind the
 * twin's software MMU, and a wild write into it cannot corrupt the allocator.
 * Chunks are found by address through a reservation tree of the allocator's
 * own (resv.c, used only for lookup), so Free knows in O(log n) whether a
 * pointer is one it handed out: a foreign, interior or already-freed pointer
 * is HOST_E_INVALIDOPERATION and changes nothing.
 *
 * Locking: the allocator's own spinlock guards its tree, lists and bitmaps.
 * It is never held across a call into the manager (VirtualAlloc may call the
 * memory notification callback, which may call back into this allocator), so
 * a new chunk is made unlocked and then linked in.  A chunk whose last block
 * is freed is released at once.
 *
 * DebugAlloc also records file and line per block; hostmem_malloc_leaks
 * lists the debug blocks not yet freed, calling its report function with
 * no lock held (it may Free the block), a batch at a time.
 *
 * Every live allocator is on hm->mallocs (linked under the manager's lock,
 * unlinked when its last reference goes, before its chunks are dropped), so
 * verify_manager reaches the invariants below through hmalloc_verify, under
 * each allocator's spinlock:
 *   1. The chunk tree is a sound reservation tree.
 *   2. A small chunk spans page_up(256 blocks) of its class, its used count
 *      is the bits set in its bitmap, and it is never empty (the last Free
 *      releases it); a large chunk has used 1 and an empty bitmap.
 *   3. A small chunk is on partial[cls] exactly when it has a free block:
 *      a partial list holds only chunks of the tree, of its class, not full,
 *      back links right; and as many as the tree has non-full small chunks.
 *   4. Every chunk is exactly a reservation of the manager (not acquired
 *      space), committed whole.
 *   5. ndebug counts the debug records, each of which names a live block.
 */
#include "hmalloc.h"
#include "format.h"
#include "verify.h"

#include <stdarg.h>

/* A test-and-test-and-set lock: spins through the platform's relax (pause;
 * in the kernel also the shootdown this CPU owes), and panics rather than
 * hanging: no holder keeps it longer than a few list operations. */
#define SPIN_LIMIT (1ull << 28)

static void spin_lock(const struct hm *hm, int *l)
{
	uint64_t spins = 0;

	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
			hm->plat->relax(hm->plat->ctx);
			if (++spins == SPIN_LIMIT)
				hm->plat->panic(hm->plat->ctx, "IHostMalloc's lock: not granted after 2^28 spins");
		}
}

static void spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Metadata objects come from the manager's slab, under the manager's lock. */
static void *meta_alloc(struct hm *hm)
{
	void *p;

	hm_lock(hm);
	p = slab_alloc(&hm->meta);
	if (!p && reclaim_tables(hm))
		p = slab_alloc(&hm->meta);
	hm->plat->unlock(hm->plat->ctx);
	return p;
}

static void meta_free(struct hm *hm, void *p)
{
	hm_lock(hm);
	slab_free(&hm->meta, p);
	hm->plat->unlock(hm->plat->ctx);
}

static unsigned class_for(SIZE_T size)
{
	unsigned cls = 0;

	while (class_size(cls) < size)
		cls++;
	return cls;
}

static DWORD block_protect(const struct hmalloc *a)
{
	return (a->type & MALLOC_EXECUTABLE) ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE;
}

/* A committed reservation of bytes and its descriptor, not yet linked. */
static HRESULT chunk_new(struct hmalloc *a, SIZE_T bytes, unsigned cls,
                         EMemoryCriticalLevel level, struct chunk **out)
{
	IHostMemoryManager *m = &a->hm->iface;
	struct chunk *c = meta_alloc(a->hm);
	void *base;
	HRESULT hr;

	if (!c)
		return E_OUTOFMEMORY;
	hr = IHostMemoryManager_VirtualAlloc(m, 0, bytes, MEM_RESERVE | MEM_COMMIT,
	                                     block_protect(a), level, &base);
	if (hr != S_OK) {
		meta_free(a->hm, c);
		return hr == E_INVALIDARG ? E_OUTOFMEMORY : hr;   /* too big to place */
	}
	*c = (struct chunk){ .cls = (uint8_t)cls };
	c->node.base = (uint64_t)(uintptr_t)base;
	c->node.end = page_up(c->node.base + bytes);
	*out = c;
	return S_OK;
}

static void chunk_drop(struct hmalloc *a, struct chunk *c)
{
	IHostMemoryManager_VirtualFree(&a->hm->iface, (void *)(uintptr_t)c->node.base, 0, MEM_RELEASE);
	meta_free(a->hm, c);
}

static void partial_push(struct hmalloc *a, struct chunk *c)
{
	c->prev = 0;
	c->next = a->partial[c->cls];
	if (c->next)
		c->next->prev = c;
	a->partial[c->cls] = c;
}

static void partial_unlink(struct hmalloc *a, struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		a->partial[c->cls] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = 0;
}

/* Takes the lowest free block of a chunk on a partial list (lock held). */
static uint64_t block_take(struct hmalloc *a, struct chunk *c)
{
	unsigned w = 0, bit;

	while (c->bitmap[w] == ~0ull)
		w++;
	bit = (unsigned)__builtin_ctzll(~c->bitmap[w]);
	c->bitmap[w] |= 1ull << bit;
	if (++c->used == CLASS_BLOCKS)
		partial_unlink(a, c);
	return c->node.base + (w * 64 + bit) * class_size(c->cls);
}

static HRESULT alloc_small(struct hmalloc *a, unsigned cls, EMemoryCriticalLevel level,
                           uint64_t *p)
{
	struct chunk *c;
	HRESULT hr;

	spin_lock(a->hm, &a->lock);
	if (!a->partial[cls]) {
		spin_unlock(&a->lock);
		hr = chunk_new(a, CLASS_BLOCKS * class_size(cls), cls, level, &c);
		if (hr != S_OK)
			return hr;
		spin_lock(a->hm, &a->lock);
		resv_insert(&a->chunks, &c->node);
		partial_push(a, c);
	}
	*p = block_take(a, a->partial[cls]);
	spin_unlock(&a->lock);
	return S_OK;
}

static HRESULT alloc_large(struct hmalloc *a, SIZE_T size, EMemoryCriticalLevel level,
                           uint64_t *p)
{
	struct chunk *c;
	HRESULT hr = chunk_new(a, size, LARGE, level, &c);

	if (hr != S_OK)
		return hr;
	c->used = 1;
	spin_lock(a->hm, &a->lock);
	resv_insert(&a->chunks, &c->node);
	spin_unlock(&a->lock);
	*p = c->node.base;
	return S_OK;
}

/* A process-critical block the manager cannot give makes it unusable, as
 * a process-critical VirtualAlloc does (pressure.c). */
static HRESULT block_alloc(struct hmalloc *a, SIZE_T size, EMemoryCriticalLevel level,
                           uint64_t *p)
{
	struct hm *hm = a->hm;
	HRESULT hr;

	if ((uint32_t)level > eProcessCritical)
		return E_INVALIDARG;
	if (hm->dead)
		return HOST_E_CLRNOTAVAILABLE;
	if (size > VA_LIMIT - VA_MIN)
		hr = E_OUTOFMEMORY;
	else if (size <= class_size(NCLASS - 1))
		hr = alloc_small(a, class_for(size ? size : 1), level, p);
	else
		hr = alloc_large(a, size, level, p);
	if (hr == E_OUTOFMEMORY && level == eProcessCritical && hm_enter(hm)) {
		hm_die(hm, "a process-critical IHostMalloc allocation failed");
		hm->plat->unlock(hm->plat->ctx);
	}
	return hr;
}

/* The chunk holding p if p is a block this allocator handed out and has not
 * taken back; *index is its block number (lock held). */
static struct chunk *block_owner(struct hmalloc *a, uint64_t p, unsigned *index)
{
	struct resv *n = resv_find(&a->chunks, p);
	struct chunk *c = n ? chunk_of(n) : 0;
	uint64_t off;

	if (!c)
		return 0;
	off = p - c->node.base;
	if (c->cls == LARGE)
		return off == 0 ? c : 0;
	if (off % class_size(c->cls))
		return 0;
	*index = (unsigned)(off / class_size(c->cls));
	return (c->bitmap[*index / 64] >> (*index % 64)) & 1 ? c : 0;
}

/* Gives block index of c back; true when the chunk is now empty and
 * unlinked, for the caller to drop outside the lock. */
static bool block_give(struct hmalloc *a, struct chunk *c, unsigned index)
{
	if (c->cls != LARGE) {
		if (c->used == CLASS_BLOCKS)
			partial_push(a, c);
		c->bitmap[index / 64] &= ~(1ull << (index % 64));
	}
	if (--c->used)
		return false;
	if (c->cls != LARGE)
		partial_unlink(a, c);
	resv_remove(&a->chunks, &c->node);
	return true;
}

/* Unlinks and returns the debug record of p, if it has one (lock held). */
static struct debug_rec *debug_take(struct hmalloc *a, uint64_t p)
{
	for (struct debug_rec **r = &a->debug; *r; r = &(*r)->next) {
		if ((*r)->p == p) {
			struct debug_rec *found = *r;
			*r = found->next;
			a->ndebug--;
			return found;
		}
	}
	return 0;
}

/* hm->mallocs: every live allocator, for verify (manager's lock). */
static void mallocs_link(struct hmalloc *a)
{
	struct hm *hm = a->hm;

	hm_lock(hm);
	a->prev = 0;
	a->next = hm->mallocs;
	if (a->next)
		a->next->prev = a;
	hm->mallocs = a;
	hm->plat->unlock(hm->plat->ctx);
}

static void mallocs_unlink(struct hmalloc *a)
{
	struct hm *hm = a->hm;

	hm_lock(hm);
	if (a->prev)
		a->prev->next = a->next;
	else
		hm->mallocs = a->next;
	if (a->next)
		a->next->prev = a->prev;
	hm->plat->unlock(hm->plat->ctx);
}

/* ------------------------------------------------------------ IHostMalloc */

static HRESULT ma_QueryInterface(IHostMalloc *This, REFIID riid, void **ppv)
{
	if (!ppv)
		return E_POINTER;
	*ppv = 0;
	if (!riid)
		return E_POINTER;
	if (!hm_same_iid(riid, &IID_IUnknown) && !hm_same_iid(riid, &IID_IHostMalloc))
		return E_NOINTERFACE;
	This->lpVtbl->AddRef(This);
	*ppv = This;
	return S_OK;
}

static ULONG ma_AddRef(IHostMalloc *This)
{
	return __atomic_add_fetch(&hmalloc_of(This)->refs, 1, __ATOMIC_RELAXED);
}

/* The last reference takes every block and record with it. */
static void hmalloc_destroy(struct hmalloc *a)
{
	struct resv *n;

	mallocs_unlink(a);
	while (a->debug)
		meta_free(a->hm, debug_take(a, a->debug->p));
	while ((n = resv_first(&a->chunks)) != 0) {
		resv_remove(&a->chunks, n);
		chunk_drop(a, chunk_of(n));
	}
	meta_free(a->hm, a);
}

static ULONG ma_Release(IHostMalloc *This)
{
	struct hmalloc *a = hmalloc_of(This);
	ULONG left;

	if (__atomic_load_n(&a->refs, __ATOMIC_RELAXED) == 0)
		return 0;
	left = __atomic_sub_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	if (left == 0)
		hmalloc_destroy(a);
	return left;
}

static HRESULT ma_Free(IHostMalloc *This, void *pMem);

/* Stores a new block's address in the caller's *ppMem, which was probed;
 * if the store faults all the same, the block is taken back. */
static HRESULT block_hand_out(IHostMalloc *This, uint64_t p, void **ppMem)
{
	if (caller_put(hmalloc_of(This)->hm, ppMem, &p, sizeof(p)))
		return S_OK;
	ma_Free(This, (void *)(uintptr_t)p);
	return E_POINTER;
}

static HRESULT ma_Alloc(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                        void **ppMem)
{
	struct hmalloc *a = hmalloc_of(This);
	uint64_t p = 0;
	HRESULT hr;

	if (!caller_zero(a->hm, ppMem, sizeof(*ppMem)))
		return E_POINTER;
	hr = block_alloc(a, cbSize, eCriticalLevel, &p);
	return hr == S_OK ? block_hand_out(This, p, ppMem) : hr;
}

static HRESULT ma_DebugAlloc(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                             char *pszFileName, int iLineNo, void **ppMem)
{
	struct hmalloc *a = hmalloc_of(This);
	struct debug_rec *r;
	HRESULT hr;

	if (!caller_zero(a->hm, ppMem, sizeof(*ppMem)))
		return E_POINTER;
	r = meta_alloc(a->hm);
	if (!r)
		return E_OUTOFMEMORY;
	*r = (struct debug_rec){ .size = cbSize, .file = pszFileName, .line = iLineNo };
	hr = block_alloc(a, cbSize, eCriticalLevel, &r->p);
	if (hr != S_OK) {
		meta_free(a->hm, r);
		return hr;
	}
	spin_lock(a->hm, &a->lock);
	r->seq = a->debug_seq++;
	r->next = a->debug;
	a->debug = r;
	a->ndebug++;
	spin_unlock(&a->lock);
	return block_hand_out(This, r->p, ppMem);
}

static HRESULT ma_Free(IHostMalloc *This, void *pMem)
{
	struct hmalloc *a = hmalloc_of(This);
	uint64_t p = (uint64_t)(uintptr_t)pMem;
	struct debug_rec *r = 0;
	struct chunk *c;
	unsigned index = 0;
	bool empty;

	if (a->hm->dead)
		return HOST_E_CLRNOTAVAILABLE;
	spin_lock(a->hm, &a->lock);
	c = block_owner(a, p, &index);
	if (!c) {
		spin_unlock(&a->lock);
		return HOST_E_INVALIDOPERATION;
	}
	if (a->ndebug)
		r = debug_take(a, p);
	empty = block_give(a, c, index);
	spin_unlock(&a->lock);
	if (r)
		meta_free(a->hm, r);
	if (empty)
		chunk_drop(a, c);
	return S_OK;
}

static const IHostMallocVtbl hmalloc_vtbl = {
	ma_QueryInterface, ma_AddRef, ma_Release, ma_Alloc, ma_DebugAlloc, ma_Free,
};

HRESULT hmalloc_create(struct hm *hm, DWORD type, IHostMalloc **out)
{
	struct hmalloc *a;
	IHostMalloc *iface;

	if (!caller_zero(hm, out, sizeof(*out)))
		return E_POINTER;
	if (type & ~(DWORD)(MALLOC_THREADSAFE | MALLOC_EXECUTABLE))
		return E_INVALIDARG;
	if (hm->dead)
		return HOST_E_CLRNOTAVAILABLE;
	a = meta_alloc(hm);
	if (!a)
		return E_OUTOFMEMORY;
	*a = (struct hmalloc){ .iface = { &hmalloc_vtbl }, .hm = hm, .refs = 1, .type = type };
	resv_tree_init(&a->chunks, VA_MIN, VA_LIMIT);
	mallocs_link(a);
	iface = &a->iface;
	if (caller_put(hm, out, &iface, sizeof(iface)))
		return S_OK;
	IHostMalloc_Release(iface);
	return E_POINTER;
}

/* ------------------------------------------------------------ leaks */

#define LEAK_BATCH 16

/* Up to LEAK_BATCH records, copied: the lock is dropped before they are
 * reported, and a report may free the record.  below: only records older
 * than this seq; the list runs newest first, so those are its tail, and a
 * record made or freed between batches neither repeats nor hides one. */
struct leak_batch {
	uint64_t below;
	size_t n;
	struct debug_rec rec[LEAK_BATCH];
};

static void leaks_gather(struct hmalloc *a, struct leak_batch *b)
{
	const struct debug_rec *r;

	b->n = 0;
	spin_lock(a->hm, &a->lock);
	r = a->debug;
	while (r && r->seq >= b->below)
		r = r->next;
	for (; r && b->n < LEAK_BATCH; r = r->next)
		b->rec[b->n++] = *r;
	spin_unlock(&a->lock);
	if (b->n)
		b->below = b->rec[b->n - 1].seq;
}

HRESULT hostmem_malloc_leaks(IHostMalloc *m, hostmem_leak_fn report, void *ctx, SIZE_T *count)
{
	struct hmalloc *a = hmalloc_of(m);
	struct leak_batch b;
	SIZE_T n;

	if (!m || !count)
		return E_POINTER;
	spin_lock(a->hm, &a->lock);
	n = a->ndebug;
	b.below = a->debug_seq;
	spin_unlock(&a->lock);
	if (!caller_put(a->hm, count, &n, sizeof(n)))
		return E_POINTER;
	if (!report)
		return S_OK;
	do {
		leaks_gather(a, &b);
		for (size_t i = 0; i < b.n; i++)
			report(ctx, (void *)(uintptr_t)b.rec[i].p, b.rec[i].size, b.rec[i].file,
			       b.rec[i].line);
	} while (b.n == LEAK_BATCH);
	return S_OK;
}

/* ------------------------------------------------------------ verify */

struct mcheck {
	struct hm *hm;
	const struct hmalloc *a;
	char *why;
	size_t len;
};

typedef unsigned long long ull;

__attribute__((format(printf, 2, 3)))
static bool mcheck_fail(struct mcheck *k, const char *fmt, ...)
{
	size_t n = hm_snprintf(k->why, k->len, "IHostMalloc %p: ", (const void *)k->a);
	va_list ap;

	if (n < k->len) {
		va_start(ap, fmt);
		hm_vsnprintf(k->why + n, k->len - n, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Bits set in the bitmap (the kernel has no libgcc for popcount). */
static unsigned bitmap_count(const struct chunk *c)
{
	unsigned n = 0;

	for (unsigned w = 0; w < CLASS_BLOCKS / 64; w++)
		for (uint64_t b = c->bitmap[w]; b; b &= b - 1)
			n++;
	return n;
}

/* Invariant 2: class, extent and counts of one chunk. */
static bool check_chunk_counts(struct mcheck *k, const struct chunk *c)
{
	uint64_t base = c->node.base, bytes = c->node.end - base;
	unsigned bits = bitmap_count(c);

	if (c->cls == LARGE && (c->used != 1 || bits != 0))
		return mcheck_fail(k, "large chunk 0x%llx: used %u, bitmap %u", (ull)base, c->used, bits);
	if (c->cls == LARGE)
		return true;
	if (c->cls >= NCLASS)
		return mcheck_fail(k, "chunk 0x%llx: size class %u", (ull)base, c->cls);
	if (bytes != page_up(CLASS_BLOCKS * class_size(c->cls)))
		return mcheck_fail(k, "chunk 0x%llx: %llu bytes for class %u", (ull)base, (ull)bytes,
		                   c->cls);
	if (c->used != bits)
		return mcheck_fail(k, "chunk 0x%llx: used %u, bitmap %u", (ull)base, c->used, bits);
	if (c->used == 0)
		return mcheck_fail(k, "chunk 0x%llx: empty but not released", (ull)base);
	return true;
}

/* Invariant 4: the manager's reservation under the chunk. */
static bool check_chunk_backing(struct mcheck *k, const struct chunk *c)
{
	const struct resv *r = resv_find(&k->hm->resv, c->node.base);
	uint64_t base = c->node.base, end = c->node.end;
	size_t committed, promised;

	if (!r || r->base != base || r->end != end || (r->flags & RESV_F_ACQUIRED))
		return mcheck_fail(k, "chunk 0x%llx-0x%llx: not a reservation of the manager",
		                   (ull)base, (ull)end);
	count_pages(k->hm, base, end, &committed, &promised);
	if (committed != (end - base) / PAGE)
		return mcheck_fail(k, "chunk 0x%llx: %zu of %llu pages committed", (ull)base,
		                   committed, (ull)((end - base) / PAGE));
	return true;
}

/* Invariant 3, the lists' side; *listed counts their chunks. */
static bool check_partial(struct mcheck *k, unsigned cls, size_t *listed)
{
	const struct chunk *prev = 0;

	for (const struct chunk *c = k->a->partial[cls]; c; prev = c, c = c->next) {
		if (c->prev != prev)
			return mcheck_fail(k, "partial list %u: chunk 0x%llx back link", cls,
			                   (ull)c->node.base);
		if (resv_find(&k->a->chunks, c->node.base) != &c->node)
			return mcheck_fail(k, "partial list %u: chunk 0x%llx is not in the tree", cls,
			                   (ull)c->node.base);
		if (c->cls != cls || c->used >= CLASS_BLOCKS)
			return mcheck_fail(k, "partial list %u: chunk 0x%llx of class %u with %u used",
			                   cls, (ull)c->node.base, c->cls, c->used);
		(*listed)++;
	}
	return true;
}

/* Invariants 1 to 4 over the chunks of one allocator. */
static bool check_chunks(struct mcheck *k)
{
	size_t nonfull = 0, listed = 0;

	if (!resv_verify(&k->a->chunks, k->why, k->len)) {
		char tree[160];

		hm_snprintf(tree, sizeof tree, "%s", k->why);
		return mcheck_fail(k, "chunk tree: %s", tree);
	}
	for (const struct resv *n = resv_first(&k->a->chunks); n; n = resv_next(n)) {
		const struct chunk *c = (const struct chunk *)n;

		if (!check_chunk_counts(k, c) || !check_chunk_backing(k, c))
			return false;
		nonfull += c->cls != LARGE && c->used < CLASS_BLOCKS;
	}
	for (unsigned cls = 0; cls < NCLASS; cls++)
		if (!check_partial(k, cls, &listed))
			return false;
	if (listed != nonfull)
		return mcheck_fail(k, "%zu chunks have a free block, %zu are on partial lists",
		                   nonfull, listed);
	return true;
}

/* Invariant 5. */
static bool check_debug(struct mcheck *k, struct hmalloc *a)
{
	size_t n = 0;
	unsigned index;

	for (const struct debug_rec *r = a->debug; r; r = r->next) {
		if (++n > a->ndebug)
			return mcheck_fail(k, "debug records: more than ndebug %zu", a->ndebug);
		if (!block_owner(a, r->p, &index))
			return mcheck_fail(k, "debug record for 0x%llx: not a live block", (ull)r->p);
	}
	if (n != a->ndebug)
		return mcheck_fail(k, "debug records %zu != ndebug %zu", n, a->ndebug);
	return true;
}

bool hmalloc_verify(struct hm *hm, char *why, size_t len)
{
	struct mcheck k = { hm, 0, why, len };
	const struct hmalloc *prev = 0;
	bool ok = true;

	for (struct hmalloc *a = hm->mallocs; a && ok; prev = a, a = a->next) {
		k.a = a;
		if (a->prev != prev || a->hm != hm)
			return mcheck_fail(&k, "allocator list: back link or manager wrong");
		spin_lock(a->hm, &a->lock);
		ok = check_chunks(&k) && check_debug(&k, a);
		spin_unlock(&a->lock);
	}
	return ok;
}
