/*
 * call.c - the way out of every public call.
 *
 * Both COM objects (manager.c, malloc.c) and the hostmem_* calls take the
 * lock through hm_enter (hm.h) and leave through hm_leave, which verifies in
 * tests, notes a change of the memory level, drops the lock, tells the
 * runtime, and maps the status to the HRESULT.
 */
#include "hm.h"
#include "verify.h"

/* Verifies (in tests), notes a level change, drops the lock, then has the
 * callback told (notify.c): it runs without our lock, so it may call back
 * into the manager. */
HRESULT hm_leave(struct hm *hm, hm_status s)
{
	EMemoryAvailable level;
	size_t avail;
	bool changed = false;

	if (!hm->dead && hm->verify == HM_VERIFY_EACH) {
		char why[sizeof(hm->why)];

		if (!verify_manager_in_use(hm, why, sizeof(why))) {
			hm_corrupt(hm, why);
			s = HM_CORRUPT;
		}
	}
	/* Most calls change availability; few leave the level's band. */
	avail = pressure_available(hm);
	if (avail < hm->band_lo || avail > hm->band_hi) {
		level = pressure_level(hm, avail);
		if (level != hm->notified) {
			hm->notified = level;
			hm->level_seq++;
			changed = true;
		}
		pressure_band(hm, &hm->band_lo, &hm->band_hi);
	}
	hm->plat->unlock(hm->plat->ctx);
	if (changed)
		hm_notify(hm);
	return hm_status_hresult(s);
}
