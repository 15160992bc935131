/*
 * notify.c - delivering memory notifications, in order, on many CPUs.
 *
 * The level is computed under the manager's lock at the end of each call
 * (pressure.c); a change bumps hm->level_seq.  The callback must run
 * without that lock (it may call back into the manager), so two calls on
 * two CPUs could deliver their levels in the wrong order and leave the
 * runtime with a stale one.  Delivery is therefore combined:
 *
 *   - a call that changed the level sets `pending` and tries to become the
 *     one deliverer (`busy`, an atomic flag; nobody waits for it);
 *   - the deliverer, while pending, clears it and delivers the *latest*
 *     level (read under the lock with its sequence number), unless that
 *     sequence number was already delivered;
 *   - a call that finds a deliverer at work leaves its pending flag to it;
 *     a deliverer re-checks pending after giving up busy, so a flag set in
 *     between is never stranded.
 *
 * So an older level is never delivered after a newer one (each delivery
 * reads the newest), and once calls stop the last level delivered is the
 * current one.  A callback that calls back into the manager and changes the
 * level only sets pending: its own deliverer picks it up when the callback
 * returns.  delivered_seq is touched by the deliverer only.
 */
#include "hm.h"

/* The latest level, to the callback registered now, unless already told. */
static void deliver_latest(struct hm *hm)
{
	ICLRMemoryNotificationCallback *cb;
	EMemoryAvailable level;
	uint64_t seq;

	hm_lock(hm);
	level = hm->notified;
	seq = hm->level_seq;
	cb = hm->callback;
	if (cb)
		ICLRMemoryNotificationCallback_AddRef(cb);
	hm->plat->unlock(hm->plat->ctx);
	if (cb && seq != hm->delivered_seq) {
		hm->delivered_seq = seq;
		ICLRMemoryNotificationCallback_OnMemoryNotification(cb, level);
	}
	if (cb)
		ICLRMemoryNotificationCallback_Release(cb);
}

void hm_notify(struct hm *hm)
{
	__atomic_store_n(&hm->notify_pending, true, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&hm->notify_pending, __ATOMIC_SEQ_CST) &&
	       !__atomic_exchange_n(&hm->notify_busy, true, __ATOMIC_ACQUIRE)) {
		while (__atomic_exchange_n(&hm->notify_pending, false, __ATOMIC_ACQ_REL))
			deliver_latest(hm);
		__atomic_store_n(&hm->notify_busy, false, __ATOMIC_RELEASE);
	}
}
