/*
 * soak.c - `make soak`: millions of differential operations (drive.h) on
 * hosted twins, built without sanitizers for speed, verify after every
 * operation.  Prints what ran and how many divergences it found (the target
 * is 0) and exits non-zero on any.
 *
 *   soak [-n OPS] [-s SEED] [-j JOBS] [-r RAM_MB] [-v VERIFY_EVERY] [-t]
 *
 * The operations are split over JOBS processes (the machine's cores), each
 * running its own seed (SEED, SEED + 1, ...).  A run whose manager dies (a
 * process-critical allocation out of memory, as the contract allows) goes
 * on with a fresh twin and the next epoch of the same seed.  A divergence
 * stops that job and prints the seed, epoch and operation: rerun it with
 * `-j 1 -s SEED -t` to see every operation leading there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "tests/model/model.c"
#include "tests/model/drive.c"
#include "tests/model/twin_env.h"

struct options {
	uint64_t ops, seed;
	unsigned jobs, ram_mb, verify_every;
	bool trace;
};

struct totals {
	uint64_t ops, divergences, epochs, deaths, verifies, walks;
	uint64_t count[OP_KINDS], succeeded[OP_KINDS];
};

static struct model model;

static void add(struct totals *t, const struct drive *d)
{
	t->ops += d->ops;
	t->divergences += d->divergences;
	t->verifies += d->verifies;
	t->walks += d->walks;
	t->deaths += d->model->dead;
	for (int k = 0; k < OP_KINDS; k++) {
		t->count[k] += d->count[k];
		t->succeeded[k] += d->succeeded[k];
	}
}

/* One seed's share of the operations, epoch after epoch. */
static void run_job(const struct options *o, uint64_t seed, uint64_t n, struct totals *t)
{
	struct drive d;
	hm_sim *sim;

	for (uint64_t epoch = 0; t->ops < n && !t->divergences; epoch++, t->epochs++) {
		if (hm_sim_create_ex((size_t)o->ram_mb << 20, HM_SIM_DEBUG_FRAMES | HM_SIM_TLB_KEEP, &sim) != S_OK) {
			fprintf(stderr, "soak: cannot create a twin of %u MiB\n", o->ram_mb);
			t->divergences++;
			return;
		}
		struct drive_env env = twin_env(sim);

		if (drive_begin(&d, &model, &env)) {
			d.verify_every = o->verify_every;
			d.trace = o->trace;
			drive_seed(&d, seed + (epoch << 32));
			if (drive_run(&d, n - t->ops))
				drive_end(&d);
		} else {
			d.divergences++;
		}
		add(t, &d);
		if (d.divergences)
			fprintf(stderr, "soak: seed %llu epoch %llu: divergence at operation %llu\n",
			        (unsigned long long)seed, (unsigned long long)epoch,
			        (unsigned long long)d.ops);
		hm_sim_destroy(sim);
	}
}

static void print(const struct options *o, const struct totals *t, double secs)
{
	printf("soak: %llu operations in %.1f s (%.0f/s), %u job(s), %u MiB twins, seed %llu\n",
	       (unsigned long long)t->ops, secs, secs > 0 ? t->ops / secs : 0.0, o->jobs,
	       o->ram_mb, (unsigned long long)o->seed);
	for (int k = 0; k < OP_KINDS; k++)
		printf("  %-13s %10llu  (%llu succeeded)\n", drive_op_name(k),
		       (unsigned long long)t->count[k], (unsigned long long)t->succeeded[k]);
	printf("  runs %llu (%llu ended by a process-critical failure), verifies %llu, walks %llu\n",
	       (unsigned long long)t->epochs, (unsigned long long)t->deaths,
	       (unsigned long long)t->verifies, (unsigned long long)t->walks);
	printf("soak: %llu operations, %llu divergences\n", (unsigned long long)t->ops,
	       (unsigned long long)t->divergences);
}

static bool parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .ops = 10000000, .seed = 1, .jobs = 2, .ram_mb = 4,
	                       .verify_every = 1 };
	while ((c = getopt(argc, argv, "n:s:j:r:v:t")) != -1) {
		switch (c) {
		case 'n': o->ops = strtoull(optarg, 0, 0); break;
		case 's': o->seed = strtoull(optarg, 0, 0); break;
		case 'j': o->jobs = (unsigned)atoi(optarg); break;
		case 'r': o->ram_mb = (unsigned)atoi(optarg); break;
		case 'v': o->verify_every = (unsigned)atoi(optarg); break;
		case 't': o->trace = true; break;
		default: return false;
		}
	}
	return o->jobs >= 1 && o->jobs <= 64 && o->ram_mb >= 1;
}

/* Each job reports its totals through a pipe. */
int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct totals all = { 0 }, one;
	struct options o;
	int fd[64][2];

	if (!parse(argc, argv, &o)) {
		fprintf(stderr, "usage: soak [-n OPS] [-s SEED] [-j JOBS] [-r RAM_MB] [-v N] [-t]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned j = 0; j < o.jobs; j++) {
		if (pipe(fd[j]) != 0)
			return 2;
		if (fork() == 0) {
			one = (struct totals){ 0 };
			run_job(&o, o.seed + j, o.ops / o.jobs + (j < o.ops % o.jobs), &one);
			_exit(write(fd[j][1], &one, sizeof one) == sizeof one ? 0 : 1);
		}
		close(fd[j][1]);
	}
	for (unsigned j = 0; j < o.jobs; j++) {
		if (read(fd[j][0], &one, sizeof one) != sizeof one)
			one = (struct totals){ .divergences = 1 };   /* the job crashed */
		all.ops += one.ops;
		all.divergences += one.divergences;
		all.epochs += one.epochs;
		all.deaths += one.deaths;
		all.verifies += one.verifies;
		all.walks += one.walks;
		for (int k = 0; k < OP_KINDS; k++) {
			all.count[k] += one.count[k];
			all.succeeded[k] += one.succeeded[k];
		}
		wait(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print(&o, &all, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return all.divergences ? 1 : 0;
}
