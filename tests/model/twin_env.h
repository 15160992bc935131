/*
 * twin_env.h - the driver's environment on the hosted twin (host only: the
 * differential test, the fuzzer and the soak).  Accesses go through the
 * twin's software MMU (hm_sim_read / hm_sim_write / hm_sim_exec), the log to
 * stderr.  Header-only so that each program takes it with the model and the
 * driver it includes.
 */
#ifndef TESTS_MODEL_TWIN_ENV_H
#define TESTS_MODEL_TWIN_ENV_H

#include <stdio.h>

#include "hostmem/sim.h"
#include "tests/model/drive.h"

static uint32_t twin_env_access(void *ctx, enum model_kind kind, uint64_t va, uint8_t *buf,
                                size_t len)
{
	hm_sim *sim = ctx;
	void *p = (void *)(uintptr_t)va;

	if (kind == MODEL_READ)
		return hm_sim_read(sim, p, buf, len);
	if (kind == MODEL_WRITE)
		return hm_sim_write(sim, p, buf, len);
	return hm_sim_exec(sim, p);
}

static void twin_env_log(void *ctx, const char *line)
{
	fprintf(stderr, "%s\n", line);
}

static inline struct drive_env twin_env(hm_sim *sim)
{
	return (struct drive_env){
		.m = hm_sim_manager(sim), .access = twin_env_access, .log = twin_env_log, .ctx = sim,
	};
}

#endif
