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
 * lists the debug blocks not yet freed.
 */
#include "hm.h"

#define NCLASS          8
#define CLASS_BLOCKS    256
#define LARGE           0xFFu

struct chunk {
	struct resv node;              /* [base, end) in the allocator's tree */
	struct chunk *next, *prev;     /* on partial[cls] while a block is free */
	uint16_t used;
	uint8_t cls;                   /* size class, or LARGE */
	uint64_t bitmap[CLASS_BLOCKS / 64];
};

struct debug_rec {
	struct debug_rec *next;
	uint64_t p;
	SIZE_T size;
	const char *file;
	int line;
};

struct hmalloc {
	IHostMalloc iface;             /* first: This == &a->iface */
	struct hm *hm;
	uint32_t refs;
	DWORD type;
	int lock;
	struct resv_tree chunks;
	struct chunk *partial[NCLASS];
	struct debug_rec *debug;
	size_t ndebug;
};

_Static_assert(sizeof(struct hmalloc) <= HM_META_OBJECT, "allocator fits a metadata object");
_Static_assert(sizeof(struct chunk) <= HM_META_OBJECT, "chunk fits a metadata object");

static struct hmalloc *hmalloc_of(IHostMalloc *m) { return (struct hmalloc *)m; }
static struct chunk *chunk_of(struct resv *n) { return (struct chunk *)n; }
static SIZE_T class_size(unsigned cls) { return (SIZE_T)16 << cls; }

static void spin_lock(int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			;
}

static void spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Metadata objects come from the manager's slab, under the manager's lock. */
static void *meta_alloc(struct hm *hm)
{
	void *p;

	hm->plat->lock(hm->plat->ctx);
	p = slab_alloc(&hm->meta);
	hm->plat->unlock(hm->plat->ctx);
	return p;
}

static void meta_free(struct hm *hm, void *p)
{
	hm->plat->lock(hm->plat->ctx);
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

	spin_lock(&a->lock);
	if (!a->partial[cls]) {
		spin_unlock(&a->lock);
		hr = chunk_new(a, CLASS_BLOCKS * class_size(cls), cls, level, &c);
		if (hr != S_OK)
			return hr;
		spin_lock(&a->lock);
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
	spin_lock(&a->lock);
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
	spin_lock(&a->lock);
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
	spin_lock(&a->lock);
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
	iface = &a->iface;
	if (caller_put(hm, out, &iface, sizeof(iface)))
		return S_OK;
	IHostMalloc_Release(iface);
	return E_POINTER;
}

HRESULT hostmem_malloc_leaks(IHostMalloc *m, hostmem_leak_fn report, void *ctx, SIZE_T *count)
{
	struct hmalloc *a = hmalloc_of(m);

	if (!m || !count)
		return E_POINTER;
	spin_lock(&a->lock);
	*count = a->ndebug;
	for (struct debug_rec *r = a->debug; r && report; r = r->next)
		report(ctx, (void *)(uintptr_t)r->p, r->size, r->file, r->line);
	spin_unlock(&a->lock);
	return S_OK;
}
