/*
 * dead.c - the state in which the manager refuses every call.
 *
 * It has two causes.  A failed process-critical allocation: the process
 * cannot go on, every later call returns HOST_E_CLRNOTAVAILABLE, but the
 * structures are sound and every promise already given is kept: faults on
 * committed memory are still served (demand-zero, guard pages).  A failed
 * verify (E_FAIL once, then HOST_E_CLRNOTAVAILABLE): nothing the manager
 * holds can be trusted, so faults are no longer resolved either; pages
 * already mapped keep working, since the MMU needs nothing from us for them.
 */
#include "hm.h"

/* From now on every call is refused: the process cannot go on (a failed
 * process-critical allocation) or the manager cannot be trusted (verify). */
void hm_die(struct hm *hm, const char *why)
{
	size_t i;

	for (i = 0; why[i] && i + 1 < sizeof(hm->why); i++)
		hm->why[i] = why[i];
	hm->why[i] = '\0';
	hm->dead = true;
	hm->plat->log(hm->plat->ctx, hm->why);
}

/* Lock held: a broken invariant was found; not even faults are served. */
void hm_corrupt(struct hm *hm, const char *why)
{
	hm->corrupt = true;
	hm_die(hm, why);
}
