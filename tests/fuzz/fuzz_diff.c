/*
 * fuzz_diff.c - the differential fuzzer: libFuzzer's input decodes (drive.h)
 * into a sequence of VirtualAlloc / VirtualFree / VirtualProtect /
 * VirtualQuery / MEM_RESET / MEM_RESET_UNDO calls and reads, writes and
 * fetches on a hosted twin; every answer is compared with the
 * reference model (tests/model), the manager verifies itself after every
 * operation, and at the end everything is released and every frame must be
 * back.  A divergence is printed and aborts, so libFuzzer keeps the input.
 * Built with clang, -fsanitize=fuzzer,address,undefined (`make fuzz`).
 *
 * Replay one input:  build/fuzz/fuzz_diff path/to/input
 */
#include <stdlib.h>

#include "tests/model/model.c"
#include "tests/model/drive.c"
#include "tests/model/twin_env.h"

/* Small: the commit limit is close. */
#define FUZZ_RAM  (8u << 20)

static struct model model;
static hm_sim *sim;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * One twin serves input after input: drive_end gives every frame back and
 * checks it, so the next input starts from the same contract state (the
 * free lists' order may differ, which the contract cannot see).  Building a
 * twin costs far more than a short input (the debug fill of all its RAM).
 * A twin whose manager died (a process-critical failure) is replaced.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drive d;
	bool ok;

	if (!sim && hm_sim_create_ex(FUZZ_RAM, HM_SIM_DEBUG_FRAMES | HM_SIM_TLB_KEEP, &sim) != S_OK)
		abort();
	struct drive_env env = twin_env(sim);

	ok = drive_begin(&d, &model, &env);
	if (ok) {
		drive_input(&d, data, size);
		d.walk_every = 64;   /* inputs are short: walk often */
		ok = drive_run(&d, ~0ull) && drive_end(&d);
	}
	if (!ok)
		abort();
	if (model.dead) {
		hm_sim_destroy(sim);
		sim = 0;
	}
	return 0;
}
