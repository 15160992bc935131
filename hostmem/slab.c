/*
 * slab.c - fixed-size objects carved from whole frames.
 *
 * Each page starts with a small header; the objects follow.  Free objects of
 * a page are chained through their first word, so a page needs no other
 * bookkeeping.  Pages with at least one free object are on a doubly linked
 * `partial` list; allocation takes from its head, so a new page is taken only
 * when every page is full.
 *
 * A page whose last object is freed goes back to the frame allocator at once.
 * That keeps the frame count exact: an operation that allocated a node and
 * then failed leaves the frames as they were, which the failure-injection
 * tests check.  Cost: O(1) for both calls, plus one frame allocation or free
 * at a page boundary.  Overhead: one header (64 bytes) per page.
 */
#include "slab.h"

#define SLAB_PAGE  FRAME_SIZE
#define SLAB_HDR   64u

struct slab_page {
	struct slab_page *next, *prev;   /* on s->partial */
	void *free;                      /* first free object of this page */
	uint32_t in_use;
};

_Static_assert(sizeof(struct slab_page) <= SLAB_HDR, "slab header fits its slot");

void slab_init(struct slab *s, struct frames *fr, uint8_t *phys_base, uint32_t size)
{
	size = (size + 15) & ~15u;
	*s = (struct slab){
		.fr = fr, .phys_base = phys_base, .size = size,
		.per_page = (SLAB_PAGE - SLAB_HDR) / size,
	};
}

static void partial_push(struct slab *s, struct slab_page *p)
{
	p->prev = 0;
	p->next = s->partial;
	if (p->next)
		p->next->prev = p;
	s->partial = p;
}

static void partial_unlink(struct slab *s, struct slab_page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->partial = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static struct slab_page *page_new(struct slab *s)
{
	uint64_t pa = frame_alloc(s->fr, 0, FRAME_ALLOC_META);
	struct slab_page *p;
	uint8_t *obj;

	if (!pa)
		return 0;
	p = (struct slab_page *)(s->phys_base + pa);
	p->free = 0;
	p->in_use = 0;
	/* Chain the objects so the lowest comes out first. */
	for (uint32_t i = s->per_page; i-- > 0;) {
		obj = (uint8_t *)p + SLAB_HDR + (size_t)i * s->size;
		*(void **)obj = p->free;
		p->free = obj;
	}
	s->pages++;
	partial_push(s, p);
	return p;
}

void *slab_alloc(struct slab *s)
{
	struct slab_page *p = s->partial ? s->partial : page_new(s);
	void *obj;

	if (!p)
		return 0;
	obj = p->free;
	p->free = *(void **)obj;
	p->in_use++;
	s->in_use++;
	if (!p->free)
		partial_unlink(s, p);
	return obj;
}

void slab_free(struct slab *s, void *obj)
{
	struct slab_page *p = (struct slab_page *)((uintptr_t)obj & ~(uintptr_t)(SLAB_PAGE - 1));

	if (!p->free)               /* it was full: it has room again */
		partial_push(s, p);
	*(void **)obj = p->free;
	p->free = obj;
	p->in_use--;
	s->in_use--;
	if (p->in_use == 0) {
		partial_unlink(s, p);
		s->pages--;
		frame_free(s->fr, (uint64_t)((uint8_t *)p - s->phys_base), 0);
	}
}
