/*
 * drive.h - the differential driver: turns a byte string (a fuzzer's input)
 * or a seeded PRNG stream into a sequence of operations, runs each on a real
 * IHostMemoryManager and on the reference model (model.h), and compares
 * everything a caller can observe:
 *
 *   VirtualAlloc    HRESULT and *ppMem
 *   VirtualFree     HRESULT
 *   VirtualProtect  HRESULT and the old protection
 *   VirtualQuery    HRESULT, every field, and *pResult
 *   read/write/exec the exception raised and the bytes read
 *
 * and after every operation the manager's commit charge and reservation
 * count (hostmem_get_stats) and, every verify_every operations, its own
 * consistency check (hostmem_verify).  Every walk_every operations the whole
 * address space is walked with VirtualQuery on both sides.
 *
 * Operations are biased toward what exists (bases, insides and ends of the
 * model's reservations, the 64 KiB tails after them) and toward the model's
 * windows, with a share of wild arguments: misaligned, wrapping, zero,
 * huge, below 64 KiB, at or above the limit, in the kernel half, invalid
 * flags and protections, NULL out-pointers, short query buffers.
 *
 * At the start the driver fences off the space between the model's windows
 * with one reservation (model.h), so that every placement lands where the
 * model tracks pages; drive_end releases everything and checks that the
 * manager's frames and counters are exactly as before drive_begin.
 *
 * Freestanding: it runs on the hosted twin (host tests, the fuzzer, the
 * soak) and in the kernel on the real MMU; the embedder supplies the
 * accesses and a log.
 */
#ifndef TESTS_MODEL_DRIVE_H
#define TESTS_MODEL_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmem/hostmem.h"
#include "tests/model/model.h"

/* An access callback's answer when it refused to run a fetch: the byte at
 * the target was not the `ret` (0xC3) the model promised.  Kernel only. */
#define DRIVE_UNSAFE_EXEC  0xE0DE0002u

/*
 * One access as the CPU makes it, on the manager under test: a read or write
 * of len bytes at va through buf, or one instruction fetch at va (exec;
 * the driver only asks for one where the byte is 0xC3, `ret`, or where the
 * model says the fetch faults).  Returns 0, STATUS_ACCESS_VIOLATION or
 * STATUS_GUARD_PAGE_VIOLATION; the bytes before the faulting page are
 * transferred.
 */
typedef uint32_t (*drive_access_fn)(void *ctx, enum model_kind kind, uint64_t va,
                                    uint8_t *buf, size_t len);
typedef void (*drive_log_fn)(void *ctx, const char *line);

struct drive_env {
	IHostMemoryManager *m;
	drive_access_fn access;
	drive_log_fn log;
	void *ctx;
};

enum drive_op {
	OP_RESERVE, OP_RESERVE_AT, OP_COMMIT, OP_RESET, OP_LARGE, OP_DECOMMIT, OP_RELEASE,
	OP_PROTECT, OP_QUERY, OP_READ, OP_WRITE, OP_EXEC,
	OP_WILD_ALLOC, OP_WILD_FREE, OP_WILD_PROTECT, OP_WILD_QUERY,
	OP_KINDS
};

struct drive {
	struct drive_env env;
	struct model *model;

	/* The source of decisions: input bytes (zeros past the end), or a PRNG. */
	const uint8_t *data;
	size_t len, pos;
	uint64_t rng, pool;
	unsigned pooled;
	bool from_bytes;

	/* Settings (drive_begin: 1, false, 256, false, true). */
	unsigned verify_every;
	bool verify_in_use;             /* hostmem_verify_in_use, not the full walk */
	unsigned walk_every;
	bool trace;                     /* log every operation and its result */
	bool may_kill;                  /* process-critical requests, whose failure
	                                   leaves the manager dead, may be made */

	/* What happened. */
	uint64_t ops, divergences, verifies, walks;
	uint64_t count[OP_KINDS];       /* operations of each kind */
	uint64_t succeeded[OP_KINDS];   /* of which returned S_OK / raised nothing */
	bool op_ok;                     /* the last call returned S_OK / raised nothing */
	struct hostmem_stats start;     /* before drive_begin */
	char desc[200];                 /* the operation being run */
};

/* Checks that the manager holds no reservation, starts the model on a
 * machine with the manager's usable frames (the one fact it takes from the
 * machine) and fences the space between the windows.  False (logged) if the
 * manager is not empty or the fence does not go in. */
bool drive_begin(struct drive *d, struct model *model, const struct drive_env *env);

/* Where decisions come from: a seed, or bytes (the run ends with them). */
void drive_seed(struct drive *d, uint64_t seed);
void drive_input(struct drive *d, const uint8_t *data, size_t len);

/* One operation.  False when the input is used up or on a divergence
 * (logged, counted in d->divergences). */
bool drive_step(struct drive *d);

/* Steps until n operations in all, the end of the input, or a divergence.
 * True unless there was a divergence. */
bool drive_run(struct drive *d, uint64_t n);

/* Releases every reservation on both sides, walks the space once more, and
 * checks that frames, tables, metadata, charge and reservations are back
 * to what drive_begin found.  True when all of it held. */
bool drive_end(struct drive *d);

/* The name of an operation kind ("reserve", ...). */
const char *drive_op_name(enum drive_op op);

#endif
