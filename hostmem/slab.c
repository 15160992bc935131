/*
 * slab.c - fixed-size objects carved from whole frames.
 *
 * A slab page is nothing but objects: 4096 / size of them, so 64-byte
 * reservation nodes cost exactly 64 bytes each.  What the allocator must
 * know about a page lives in the page's frame record, which an allocated
 * FRAME_META frame does not otherwise use (frame.h):
 *
 *     next, prev   links of the `partial` list (frame indices): the pages
 *                  with at least one free object
 *     count        objects in use (low byte) and the index of the first
 *                  free object (high byte; SLAB_NONE when the page is full)
 *
 * Free objects of a page are chained through their first byte (the index of
 * the next free one), so a page needs no other bookkeeping.  A byte holds
 * any index because objects are at least 32 bytes: at most 128 per page.
 * Allocation takes from the head of `partial`, so a new page is taken only
 * when every page is full.  s->partial points at the head page's memory.
 *
 * A page whose last object is freed goes back to the frame allocator at once.
 * That keeps the frame count exact: an operation that allocated a node and
 * then failed leaves the frames as they were, which the failure-injection
 * tests check.  Cost: O(1) for both calls, plus one frame allocation or free
 * at a page boundary.  Overhead: none inside the page; the record is the
 * 16 bytes every frame has anyway.
 */
#include "slab.h"

#define SLAB_PAGE  FRAME_SIZE
#define SLAB_MIN   32u          /* so that an object index fits in a byte */
#define SLAB_NONE  0xFFu        /* no free object */

/* The page, as s->partial sees it: nothing but objects. */
struct slab_page {
	uint8_t bytes[SLAB_PAGE];
};

static uint32_t page_index(const struct slab *s, const void *page)
{
	return (uint32_t)(((const uint8_t *)page - s->phys_base) >> FRAME_SHIFT);
}

static struct slab_page *page_at(const struct slab *s, uint32_t idx)
{
	return idx == FRAME_NONE ? 0 : (struct slab_page *)(s->phys_base + frame_pa(idx));
}

static struct frame *page_record(const struct slab *s, const void *page)
{
	return &s->fr->rec[page_index(s, page)];
}

/* count = in_use | first_free << 8. */
static unsigned page_in_use(const struct frame *f) { return f->count & 0xFFu; }
static unsigned page_first_free(const struct frame *f) { return f->count >> 8; }

static void page_set(struct frame *f, unsigned in_use, unsigned first_free)
{
	f->count = (uint16_t)(in_use | first_free << 8);
}

void slab_init(struct slab *s, struct frames *fr, uint8_t *phys_base, uint32_t size)
{
	size = (size + 15) & ~15u;
	if (size < SLAB_MIN)
		size = SLAB_MIN;
	*s = (struct slab){
		.fr = fr, .phys_base = phys_base, .size = size,
		.per_page = SLAB_PAGE / size,
	};
}

static void partial_push(struct slab *s, struct slab_page *p)
{
	struct frame *f = page_record(s, p);

	f->prev = FRAME_NONE;
	f->next = s->partial ? page_index(s, s->partial) : FRAME_NONE;
	if (s->partial)
		page_record(s, s->partial)->prev = page_index(s, p);
	s->partial = p;
}

static void partial_unlink(struct slab *s, struct slab_page *p)
{
	struct frame *f = page_record(s, p);

	if (f->prev != FRAME_NONE)
		s->fr->rec[f->prev].next = f->next;
	else
		s->partial = page_at(s, f->next);
	if (f->next != FRAME_NONE)
		s->fr->rec[f->next].prev = f->prev;
	f->next = f->prev = FRAME_NONE;
}

static struct slab_page *page_new(struct slab *s)
{
	uint64_t pa = frame_alloc(s->fr, 0, FRAME_ALLOC_META);
	struct slab_page *p;

	if (!pa)
		return 0;
	p = (struct slab_page *)(s->phys_base + pa);
	/* Chain the objects so the lowest comes out first. */
	for (uint32_t i = 0; i < s->per_page; i++)
		p->bytes[i * s->size] = (uint8_t)(i + 1 < s->per_page ? i + 1 : SLAB_NONE);
	page_set(page_record(s, p), 0, 0);
	s->pages++;
	partial_push(s, p);
	return p;
}

void *slab_alloc(struct slab *s)
{
	struct slab_page *p = s->partial ? s->partial : page_new(s);
	struct frame *f;
	uint8_t *obj;

	if (!p)
		return 0;
	f = page_record(s, p);
	obj = p->bytes + page_first_free(f) * s->size;
	page_set(f, page_in_use(f) + 1, *obj);
	s->in_use++;
	if (page_first_free(f) == SLAB_NONE)
		partial_unlink(s, p);
	return obj;
}

void slab_free(struct slab *s, void *obj)
{
	struct slab_page *p = (struct slab_page *)((uintptr_t)obj & ~(uintptr_t)(SLAB_PAGE - 1));
	struct frame *f = page_record(s, p);
	unsigned i = (unsigned)((uint8_t *)obj - p->bytes) / s->size;

	if (page_first_free(f) == SLAB_NONE)   /* it was full: it has room again */
		partial_push(s, p);
	*(uint8_t *)obj = (uint8_t)page_first_free(f);
	page_set(f, page_in_use(f) - 1, i);
	s->in_use--;
	if (page_in_use(f) == 0) {
		partial_unlink(s, p);
		s->pages--;
		frame_free(s->fr, (uint64_t)((uint8_t *)p - s->phys_base), 0);
	}
}
