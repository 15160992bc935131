/*
 * A slab of fixed-size objects for hostmem's own metadata (reservation
 * nodes).  Pages come from the frame allocator as FRAME_META and are reached
 * through plat->phys_base, so metadata never lives in managed memory and the
 * manager never calls itself to allocate.  The theory is at the top of slab.c.
 */
#ifndef HOSTMEM_SLAB_H
#define HOSTMEM_SLAB_H

#include <stdint.h>
#include <stddef.h>
#include "frame.h"

struct slab_page;

struct slab {
	struct frames *fr;
	uint8_t *phys_base;
	uint32_t size;              /* object size, a multiple of 16 */
	uint32_t per_page;          /* objects in one page */
	struct slab_page *partial;  /* pages with a free object */
	size_t in_use;              /* objects handed out */
	size_t pages;               /* pages held */
};

void slab_init(struct slab *s, struct frames *fr, uint8_t *phys_base, uint32_t size);
/* An object of s->size bytes (contents undefined), or NULL when no frame. */
void *slab_alloc(struct slab *s);
void slab_free(struct slab *s, void *obj);

#endif
