/*
 * test_soak.c - the differential soak on the real MMU: seeded random
 * operations (tests/model/drive.h) on the kernel's own manager, every
 * answer compared with the reference model, every read, write and fetch a
 * real access through the fault-recovery context (try_read, try_write,
 * try_exec), so page faults, guard pages, NX and read-only pages are the
 * CPU's.  The model and the driver are compiled in from tests/model.
 *
 * Cost under TCG: the 50 000 steps themselves take well under a second;
 * verify is what costs.  It runs every VERIFY_EVERY steps, as
 * hostmem_verify_in_use, whose cost follows what the soak has mapped and
 * reserved, so the test takes the same time at 256 MiB and 16 GiB; the full
 * walk over every frame record (hostmem_verify: 64 K records at 256 MiB,
 * 4 M at 16 GiB) runs once at the end, and at every step under `make soak`
 * (soak_full=1).  The host runs the full walk after every step
 * (tests/host/test_differential.c).  Process-critical requests are not
 * made: their failure would leave the kernel's manager dead for good.
 */
#include "kernel/ktest.h"
#include "kernel/boot.h"
#include "kernel/print.h"
#include "kernel/memory.h"
#include "hostmem/embed.h"
#include "tests/kernel/code.h"

#include "tests/model/model.c"
#include "tests/model/drive.c"

#define SOAK_OPS      50000u
#define SOAK_SEED     0x50AC0001ull
#define VERIFY_EVERY  16u

static struct model soak_model;

/* An exec is only tried on a byte that reads as `ret` (the driver asks for
 * one there, or where the fetch must fault): anything else would run. */
static uint32_t real_exec(uint64_t va)
{
	uint8_t b = 0;
	uint32_t code = try_read((void *)va, &b, 0);

	if (code)
		return code;   /* the fetch would fault the same way, first */
	return b == 0xC3 ? exec_marked_ret(va) : DRIVE_UNSAFE_EXEC;
}

/* Byte by byte, stopping at the first fault: the bytes before the faulting
 * page are transferred, as the driver expects. */
static uint32_t real_access(void *ctx, enum model_kind kind, uint64_t va, uint8_t *buf,
                            size_t len)
{
	uint32_t code = 0;

	if (kind == MODEL_EXEC)
		return real_exec(va);
	for (size_t i = 0; i < len && !code; i++)
		code = kind == MODEL_READ ? try_read((void *)(va + i), &buf[i], 0)
		                          : try_write((void *)(va + i), buf[i], 0);
	return code;
}

static void soak_log(void *ctx, const char *line)
{
	kprintf("# %s\n", line);
}

KTEST(soak_matches_the_model_on_the_real_mmu)
{
	struct drive_env env = {
		.m = kernel_memory_manager(), .access = real_access, .log = soak_log,
	};
	uint64_t t0 = uptime_ms();
	struct drive d;
	char why[160];
	bool ok = true;

	hostmem_set_verify_each(env.m, false);   /* the driver verifies */
	KASSERT(drive_begin(&d, &soak_model, &env));
	d.verify_every = VERIFY_EVERY;
	d.verify_in_use = !cmdline_number("soak_full", 0);
	d.may_kill = false;
	drive_seed(&d, SOAK_SEED);
	for (uint64_t upto = 0; upto < SOAK_OPS;) {    /* in steps, to show progress */
		upto = upto + 1000 < SOAK_OPS ? upto + 1000 : SOAK_OPS;
		ok = drive_run(&d, upto) && ok;
		ktest_progress(d.ops);
	}
	ok = ok && drive_end(&d);
	KASSERT_EQ(hostmem_verify(env.m, why, sizeof(why)), S_OK);   /* the full walk, once */
	kprintf("# soak: %llu operations, %llu divergences, %llu verifies, %llu walks, %llu ms\n",
	        (unsigned long long)d.ops, (unsigned long long)d.divergences,
	        (unsigned long long)d.verifies, (unsigned long long)d.walks,
	        (unsigned long long)(uptime_ms() - t0));
	KASSERT(ok);
	KASSERT_EQ(d.ops, SOAK_OPS);
	KASSERT_EQ(d.divergences, 0);
}
