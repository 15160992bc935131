/*
 * The soak's fetch on AArch64 (code.h says why it plants its own `ret`).
 * The page may be mapped non-cacheable or device (PAGE_WRITECOMBINE,
 * PAGE_NOCACHE) while the direct map is write-back, so the planted
 * instruction and the restored data are cleaned to the point of coherency,
 * and the instruction cache is emptied before the fetch.
 */
#include "kernel/recover.h"
#include "kernel/boot.h"
#include "kernel/panic.h"
#include "tests/kernel/code.h"

/* The physical address behind va for an EL1 read, or 0 when none. */
static uint64_t translate(uint64_t va)
{
	uint64_t par;

	__asm__ volatile("at s1e1r, %1; isb; mrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
	return par & 1 ? 0 : (par & 0x0000FFFFFFFFF000ull) | (va & 0xFFF);
}

static void put_word(volatile uint32_t *alias, uint32_t w)
{
	*alias = w;
	arch_cache_clean((uint64_t)alias, sizeof(*alias));
	__asm__ volatile("ic iallu; dsb nsh; isb" ::: "memory");
}

uint32_t exec_marked_ret(uint64_t va)
{
	static const uint8_t ret_bytes[4] = ARCH_RET_BYTES;
	uint64_t at = va & ~3ull, pa = translate(at);
	volatile uint32_t *alias;
	uint32_t saved, code;

	if (!pa)   /* the caller read va first: a readable page translates */
		panic("exec_marked_ret: %p reads but does not translate", (void *)va);
	alias = phys_to_virt(pa);
	saved = *alias;
	put_word(alias, (uint32_t)ret_bytes[0] | (uint32_t)ret_bytes[1] << 8 |
	                (uint32_t)ret_bytes[2] << 16 | (uint32_t)ret_bytes[3] << 24);
	code = try_exec((void *)at, 0);
	put_word(alias, saved);
	return code;
}
