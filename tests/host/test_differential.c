/*
 * test_differential.c - hostmem against the reference model (tests/model):
 * seeded random operation sequences on the hosted twin, every answer
 * compared with the model's, the manager's own verify after every
 * operation, a full VirtualQuery walk every 256, and at the end everything
 * released and every frame accounted for.  Deterministic: a failure names
 * its seed and operation number, and the soak replays the same run with
 * every operation shown: make soak SOAK_JOBS=1 SOAK_SEED=<seed>
 * SOAK_RAM_MB=<the test's MiB> SOAK_OPS=<n> SOAK_FLAGS=-t
 *
 * The model and the driver are compiled into this program (they are not
 * part of the test library: the kernel and the fuzzer build them too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "tests/host/lib/twin.h"
#include "tests/model/model.c"
#include "tests/model/drive.c"
#include "tests/model/twin_env.h"

/* Small twins: commits meet the limit often, and verify (which walks every
 * frame after every operation) stays quick under the sanitizers. */
#define RAM       (4u << 20)
#define OPS       50000u

static struct model model;

/* n operations from one seed on fresh twins: a run that kills its manager
 * (a process-critical allocation out of memory) goes on with a new twin.
 * Fails on any divergence. */
static void run_seed(uint64_t seed, uint64_t n, size_t ram)
{
	uint64_t total = 0, count[OP_KINDS] = { 0 };
	struct drive d;
	hm_sim *sim;
	bool ok = true;

	for (uint64_t epoch = 0; ok && total < n; epoch++) {
		assert_int_equal(hm_sim_create_ex(ram, HM_SIM_DEBUG_FRAMES | HM_SIM_TLB_KEEP, &sim), S_OK);
		struct drive_env env = twin_env(sim);

		ok = drive_begin(&d, &model, &env);
		if (ok) {
			drive_seed(&d, seed + (epoch << 32));
			ok = drive_run(&d, n - total) && drive_end(&d);
		}
		hm_sim_destroy(sim);
		total += d.ops;
		for (int k = 0; k < OP_KINDS; k++)
			count[k] += d.count[k];
		if (ok && !d.model->dead)
			assert_int_equal(d.verifies, d.ops + 1);
	}
	if (!ok)
		fail_msg("seed %llu: divergence after %llu operations (see above)",
		         (unsigned long long)seed, (unsigned long long)total);
	for (int k = 0; k < OP_KINDS; k++)   /* the mix reached every kind */
		if (count[k] == 0)
			fail_msg("seed %llu: no %s operation ran", (unsigned long long)seed,
			         drive_op_name(k));
}

static void seed_1_matches_the_model(void **state)  { run_seed(1, OPS, RAM); }
static void seed_2_matches_the_model(void **state)  { run_seed(2, OPS, RAM); }

/* 2 MiB of RAM: nearly every commit meets the commit limit. */
static void a_tiny_machine_matches_the_model(void **state)
{
	run_seed(3, 85000, 2u << 20);
}

/* 16 MiB: room for large pages and long-lived data. */
static void a_roomier_machine_matches_the_model(void **state)
{
	run_seed(4, 15000, 16u << 20);
}

/* One run of a byte string on a fresh twin, released at the end. */
static struct drive run_input(const uint8_t *input, size_t len)
{
	struct drive d;
	hm_sim *sim;

	assert_int_equal(hm_sim_create_ex(RAM, HM_SIM_DEBUG_FRAMES | HM_SIM_TLB_KEEP, &sim), S_OK);
	struct drive_env env = twin_env(sim);

	assert_true(drive_begin(&d, &model, &env));
	drive_input(&d, input, len);
	assert_true(drive_run(&d, 100000));
	assert_true(drive_end(&d));
	hm_sim_destroy(sim);
	return d;
}

/* The driver itself: a byte string (a fuzzer's input) decodes into the same
 * operations with the same outcomes on every run, and running out of input
 * ends the run cleanly. */
static void byte_input_is_deterministic_and_ends(void **state)
{
	static uint8_t input[4096];
	struct drive a, b;
	uint64_t x = 42;

	for (size_t i = 0; i < sizeof input; i++)
		input[i] = (uint8_t)splitmix(&x);
	a = run_input(input, sizeof input);
	b = run_input(input, sizeof input);
	assert_true(a.ops > 100 && a.ops < 100000);
	assert_int_equal(a.ops, b.ops);
	assert_memory_equal(a.count, b.count, sizeof a.count);
	assert_memory_equal(a.succeeded, b.succeeded, sizeof a.succeeded);
}

/* ------------------------------------------------------------ what the driver found
 * Each bug the differential runs found in hostmem, replayed as a plain test
 * (the fix is named in its comment). */

#define RC  (MEM_RESERVE | MEM_COMMIT)

/* MEM_RESET over the last 4 KiB of a 2 MiB page took the PS entry for a
 * 4 KiB PTE (the span of its last page is one page) and rewrote it
 * demand-zero: the promise count broke and verify failed.  Large pages are
 * left alone (commit.c, reset_range: pte_is_large). */
static void reset_of_a_large_pages_last_page_leaves_it_alone(void **state)
{
	struct twin *t = twin_new(TWIN_RAM, HM_SIM_DEBUG_FRAMES);
	uint64_t p = alloc_ok(t, 0, 2 * MiB, RC | MEM_LARGE_PAGES, PAGE_READWRITE), r;

	fill_ok(t, p + 2 * MiB - PG, PG, 0x3C);
	assert_hr(S_OK, twin_alloc(t, p + 2 * MiB - PG, 1, MEM_RESET, PAGE_READWRITE, &r));
	assert_clean(t);
	assert_bytes(t, p + 2 * MiB - PG, PG, 0x3C);
	assert_hr(S_OK, twin_alloc(t, p + 2 * MiB - PG, 1, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	assert_bytes(t, p + 2 * MiB - PG, PG, 0x3C);
	release_ok(t, p);
	assert_stats_at_start(t);
	twin_free(t);
}

/* MEM_RESET_UNDO over the last 4 KiB of a 2 MiB stretch whose page table
 * does not exist walked a NULL PTE pointer (segfault), for the same reason.
 * Marks are looked for only in existing 4 KiB PTEs (commit.c, undo_reset). */
static void undo_where_no_page_table_exists_is_fine(void **state)
{
	struct twin *t = twin_new(TWIN_RAM, 0);
	uint64_t base = 0x10000000, r;

	reserve_ok(t, base, 4 * MiB, PAGE_READWRITE);
	commit_ok(t, base, PG, PAGE_READWRITE);   /* a directory, one table */
	assert_hr(S_OK, twin_alloc(t, base + 4 * MiB - PG, PG, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	assert_hr(S_OK, twin_alloc(t, base + 2 * MiB - PG, 2 * PG, MEM_RESET_UNDO, PAGE_READWRITE, &r));
	assert_clean(t);
	release_ok(t, base);
	twin_free(t);
}

/* A recommit of committed pages takes no commit, yet was refused with
 * E_OUTOFMEMORY once availability was below the task-critical watermark
 * (a process-critical commit may take it there).  No watermark refuses a
 * commit that takes nothing (commit.c, commit_range). */
static void recommit_below_the_task_watermark_succeeds(void **state)
{
	struct twin *t = twin_new(TWIN_RAM, 0);
	uint64_t p = alloc_ok(t, 0, PG, RC, PAGE_READWRITE), q;

	while (twin_alloc(t, 0, PG, RC, PAGE_READWRITE, &q) == S_OK)
		;
	assert_hr(S_OK, IHostMemoryManager_VirtualAlloc(t->m, 0, PG, RC, PAGE_READWRITE,
	                                                eProcessCritical, (void **)&q));
	assert_hr(S_OK, twin_alloc(t, p, PG, MEM_COMMIT, PAGE_READONLY, &q));
	assert_int_equal(query_ok(t, p).Protect, PAGE_READONLY);
	assert_hr(E_OUTOFMEMORY, twin_alloc(t, 0, PG, RC, PAGE_READWRITE, &q));
	twin_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_1_matches_the_model),
		cmocka_unit_test(seed_2_matches_the_model),
		cmocka_unit_test(a_tiny_machine_matches_the_model),
		cmocka_unit_test(a_roomier_machine_matches_the_model),
		cmocka_unit_test(byte_input_is_deterministic_and_ends),
		cmocka_unit_test(reset_of_a_large_pages_last_page_leaves_it_alone),
		cmocka_unit_test(undo_where_no_page_table_exists_is_fine),
		cmocka_unit_test(recommit_below_the_task_watermark_succeeds),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
