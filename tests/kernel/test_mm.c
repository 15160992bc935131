/*
 * Frames and page tables on the real MMU (the kernel's own manager, its live
 * PML4).  The same operations the host tests check against the software MMU,
 * here proven by the CPU: every expected fault is a real #PF caught by the
 * recovery context, with the error code the hardware pushed.
 *
 * These tests work below the contract, in a window no reservation uses, and
 * leave no page behind: the manager's verify (which checks that every PTE
 * lies in a reservation) runs at the end of each.
 */
#include "kernel/ktest.h"
#include "kernel/boot.h"
#include "kernel/memory.h"
#include "machine.h"
#include "tests/kernel/code.h"
#include "hostmem/hm.h"
#include "hostmem/pte.h"
#include "hostmem/tlb.h"
#include "hostmem/verify.h"
#include "hostmem/embed.h"

#define WINDOW 0x7F0000000000ull   /* high in the lower half: not placed there by tests */

/* These tests map pages outside any reservation on purpose, which the
 * manager's own verify would (rightly) call corruption: they check with
 * verify_manager themselves, once their pages are gone. */
/* The manager, its counters settled: frames cleared outside the lock by
 * earlier faults are collected (frame.c, theory 8), as any call would. */
static struct hm *the_hm(void)
{
	struct hm *hm = hm_of(kernel_memory_manager());

	hostmem_set_verify_each(kernel_memory_manager(), false);
	hm_lock(hm);
	hm->plat->unlock(hm->plat->ctx);
	return hm;
}

static int verified(struct ktest_run *t)
{
	char why[160];

	if (verify_manager(the_hm(), why, sizeof(why)))
		return 1;
	ktest_fail(t, __FILE__, __LINE__, "verify: %s", why);
	return 0;
}

static int map(uint64_t va, size_t n, uint32_t prot)
{
	struct tlb_gather g;
	int s;

	tlb_gather_init(&g, &the_hm()->frames);
	s = pt_map(&the_hm()->pt, va, n, prot, &g);
	tlb_finish(&g);
	return s;
}

static void unmap(uint64_t va, size_t n)
{
	struct tlb_gather g;

	tlb_gather_init(&g, &the_hm()->frames);
	pt_unmap(&the_hm()->pt, va, n, &g, 0);
	tlb_finish(&g);
}

static int protect(uint64_t va, size_t n, uint32_t prot)
{
	struct tlb_gather g;
	int s;

	tlb_gather_init(&g, &the_hm()->frames);
	s = pt_protect(&the_hm()->pt, va, n, prot, &g, 0);
	tlb_finish(&g);
	return s;
}

KTEST(frames_line_agrees_with_the_memory_map)
{
	struct frames *fr = &the_hm()->frames;
	uint64_t usable = 0;

	for (size_t i = 0; i < boot_nusable; i++)
		usable += (boot_usable[i].end - boot_usable[i].base) / 4096;
	/* The record array is carved out of the usable ranges first. */
	KASSERT_EQ(fr->usable + fr->meta_frames, usable);
	KASSERT_EQ(fr->nfree + fr->used[FRAME_TABLE] + fr->used[FRAME_DATA] + fr->used[FRAME_META] +
	           fr->used[FRAME_ZEROING],
	           fr->usable);
	KASSERT(fr->meta_frames * 4096ull >= fr->nframes * sizeof(struct frame));
	KASSERT(fr->nframes * 4096ull >= boot_usable[boot_nusable - 1].end);
}

/* The kernel image and the loader's page tables are in the map as the
 * loader's own types: the allocator must never hand them out. */
KTEST(frames_never_hand_out_the_kernel_or_its_tables)
{
	struct frames *fr = &the_hm()->frames;
	uint64_t k = boot_info->kernel_phys_start, root = boot_info->pml4_phys;

	KASSERT_EQ(frame_of(fr, k)->kind, FRAME_RESERVED);
	KASSERT_EQ(frame_of(fr, root)->kind, FRAME_RESERVED);
	KASSERT_EQ(frame_of(fr, 0)->kind, FRAME_RESERVED);
	memory_log_expected(1);      /* each refusal is logged */
	KASSERT_EQ(frame_free(fr, k, 0), FRAME_ERR_FOREIGN);
	KASSERT_EQ(frame_free(fr, 0, 0), FRAME_ERR_FOREIGN);
	memory_log_expected(0);
}

KTEST(frame_alloc_and_free_an_order_10_block)
{
	struct frames *fr = &the_hm()->frames;
	size_t before = fr->nfree;
	uint64_t pa = frame_alloc(fr, 10, FRAME_ALLOC_ZERO);
	const uint64_t *p = phys_to_virt(pa);

	KASSERT(pa != 0);
	KASSERT_EQ(pa & ((4096ull << 10) - 1), 0);
	for (size_t i = 0; i < (4096u << 10) / 8; i += 511)
		KASSERT_EQ(p[i], 0);
	KASSERT_EQ(fr->nfree, before - 1024);
	KASSERT_EQ(frame_free(fr, pa, 10), FRAME_OK);
	memory_log_expected(1);
	KASSERT_EQ(frame_free(fr, pa, 10), FRAME_ERR_DOUBLE_FREE);
	memory_log_expected(0);
	KASSERT_EQ(fr->nfree, before);
	KASSERT(verified(t));
}

KTEST(mapped_page_reads_zero_and_takes_writes)
{
	volatile uint64_t *p = (volatile uint64_t *)WINDOW;
	uint8_t v;

	KASSERT_EQ(map(WINDOW, 2, PAGE_READWRITE), PT_OK);
	KASSERT_EQ(try_read((void *)(WINDOW + 4096 + 17), &v, 0), 0);
	KASSERT_EQ(v, 0);
	p[0] = 0x1122334455667788ull;
	KASSERT_EQ(p[0], 0x1122334455667788ull);
	unmap(WINDOW, 2);
	KASSERT(verified(t));
}

KTEST(read_only_page_faults_on_write_with_present_and_write_bits)
{
	struct fault_info fi;
	uint8_t v;

	KASSERT_EQ(map(WINDOW, 1, PAGE_READWRITE), PT_OK);
	*(volatile uint8_t *)WINDOW = 0x5A;
	KASSERT_EQ(protect(WINDOW, 1, PAGE_READONLY), PT_OK);
	KASSERT_EQ(try_write((void *)WINDOW, 1, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(trap_fault_kind(fi.vector, fi.error), FAULT_WRITE);
	KASSERT(trap_fault_present(fi.vector, fi.error));
	KASSERT_EQ(fi.addr, WINDOW);
	KASSERT_EQ(try_read((void *)WINDOW, &v, 0), 0);
	KASSERT_EQ(v, 0x5A);                    /* contents kept */
	unmap(WINDOW, 1);
	KASSERT(verified(t));
}

KTEST(non_executable_page_faults_on_fetch_executable_runs)
{
	struct fault_info fi;

	KASSERT_EQ(map(WINDOW, 1, PAGE_READWRITE), PT_OK);
	put_ret((void *)WINDOW);
	KASSERT_EQ(try_exec((void *)WINDOW, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT_EQ(trap_fault_kind(fi.vector, fi.error), FAULT_EXEC);
	KASSERT(trap_fault_present(fi.vector, fi.error));
	KASSERT_EQ(protect(WINDOW, 1, PAGE_EXECUTE_READ), PT_OK);
	KASSERT_EQ(try_exec((void *)WINDOW, 0), 0);
	unmap(WINDOW, 1);
	KASSERT(verified(t));
}

/* If unmap forgot its TLB invalidation, the CPU would still reach the old frame. */
KTEST(unmap_invalidates_the_tlb)
{
	struct fault_info fi;

	KASSERT_EQ(map(WINDOW, 1, PAGE_READWRITE), PT_OK);
	*(volatile uint8_t *)WINDOW = 1;         /* the translation is now cached */
	unmap(WINDOW, 1);
	KASSERT_EQ(try_read((void *)WINDOW, 0, &fi), STATUS_ACCESS_VIOLATION);
	KASSERT(!trap_fault_present(fi.vector, fi.error));
	KASSERT(verified(t));
}

KTEST(noaccess_page_is_not_present_and_keeps_its_frame)
{
	uint8_t v;

	KASSERT_EQ(map(WINDOW, 1, PAGE_READWRITE), PT_OK);
	*(volatile uint8_t *)WINDOW = 0x77;
	KASSERT_EQ(protect(WINDOW, 1, PAGE_NOACCESS), PT_OK);
	KASSERT_EQ(try_read((void *)WINDOW, 0, 0), STATUS_ACCESS_VIOLATION);
	KASSERT(pte_is_parked(pt_lookup(&the_hm()->pt, WINDOW, 0)));
	KASSERT_EQ(protect(WINDOW, 1, PAGE_READWRITE), PT_OK);
	KASSERT_EQ(try_read((void *)WINDOW, &v, 0), 0);
	KASSERT_EQ(v, 0x77);
	unmap(WINDOW, 1);
	KASSERT(verified(t));
}

/* A range over a 1 GiB boundary needs a PDPT entry, two PDs and two PTs;
 * unmapping it must free every one of them, back to the root alone. */
KTEST(empty_tables_are_freed_up_to_the_root)
{
	struct hm *hm = the_hm();
	size_t tables = pt_tables(&hm->pt), free = hm->frames.nfree;
	uint64_t va = WINDOW + (1ull << 30) - 4096;

	KASSERT_EQ(map(va, 2, PAGE_READWRITE), PT_OK);
	KASSERT_EQ(pt_tables(&hm->pt), tables + 5);
	*(volatile uint8_t *)va = 1;
	*(volatile uint8_t *)(va + 4096) = 2;
	unmap(va, 2);
	KASSERT_EQ(pt_tables(&hm->pt), tables);
	KASSERT_EQ(hm->frames.nfree, free);
	KASSERT(verified(t));
}

/* Out of frames at every allocation point of a map across table boundaries:
 * each failure leaves the frame count and the tables exactly as they were. */
KTEST(map_failure_at_every_allocation_point_is_rolled_back)
{
	struct hm *hm = the_hm();
	size_t tables = pt_tables(&hm->pt), free = hm->frames.nfree;
	uint64_t va = WINDOW + (1ull << 30) - 2 * 4096;
	int s = PT_NO_MEMORY;
	unsigned k;

	for (k = 1; s == PT_NO_MEMORY && k < 64; k++) {
		hm->frames.fail_countdown = k;
		s = map(va, 4, PAGE_READWRITE);
		hm->frames.fail_countdown = 0;
		if (s == PT_NO_MEMORY) {
			KASSERT_EQ(hm->frames.nfree, free);
			KASSERT_EQ(pt_tables(&hm->pt), tables);
			KASSERT_EQ(try_read((void *)va, 0, 0), STATUS_ACCESS_VIOLATION);
			KASSERT(verified(t));
		}
	}
	KASSERT_EQ(s, PT_OK);
	KASSERT(k > 5);                          /* tables and frames were each made to fail */
	unmap(va, 4);
	KASSERT_EQ(hm->frames.nfree, free);
	KASSERT(verified(t));
}
