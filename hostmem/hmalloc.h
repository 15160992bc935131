/*
 * hmalloc.h - IHostMalloc's records, private to malloc.c (whose top comment
 * has the theory and the invariants) and to the tests that plant
 * corruption in them (tests/host/test_verify.c).  Users include hostmem.h.
 */
#ifndef HOSTMEM_HMALLOC_H
#define HOSTMEM_HMALLOC_H

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
	uint64_t seq;                  /* creation order: the list runs newest first */
};

struct hmalloc {
	IHostMalloc iface;             /* first: This == &a->iface */
	struct hm *hm;
	struct hmalloc *next, *prev;   /* on hm->mallocs, under the manager's lock */
	uint32_t refs;
	DWORD type;
	int lock;
	struct resv_tree chunks;
	struct chunk *partial[NCLASS];
	struct debug_rec *debug;
	size_t ndebug;
	uint64_t debug_seq;            /* the next record's seq */
};

_Static_assert(sizeof(struct hmalloc) <= HM_META_OBJECT, "allocator fits a metadata object");
_Static_assert(sizeof(struct chunk) <= HM_META_OBJECT, "chunk fits a metadata object");
_Static_assert(sizeof(struct debug_rec) <= HM_META_OBJECT, "record fits a metadata object");

static inline struct hmalloc *hmalloc_of(IHostMalloc *m) { return (struct hmalloc *)m; }
static inline struct chunk *chunk_of(struct resv *n) { return (struct chunk *)n; }
static inline SIZE_T class_size(unsigned cls) { return (SIZE_T)16 << cls; }

#endif
