/*
 * pressure.c - how much memory is left, who may still have it, and telling
 * the runtime when that changes.
 *
 * Everything is measured in pages of commit availability,
 *     available = free frames - frames promised to untouched commits,
 * the number a new commit can still take (hm.h, "Commit accounting").  Page
 * tables and metadata draw on the same frames, so they lower it too.
 *
 * Critical levels (VirtualAlloc's dwCriticalLevel, IHostMalloc::Alloc's
 * eCriticalLevel) are watermarks on what a commit must leave behind:
 *     eTaskCritical       may not take available below usable / 8
 *     eAppDomainCritical  may not take it below usable / 32
 *     eProcessCritical    may take everything
 * so under pressure task-critical requests fail first, app-domain-critical
 * ones next, and the last usable/32 pages are a reserve only process-critical
 * requests reach.  A process-critical request that still fails for lack of
 * memory leaves the process unable to go on: the manager becomes unusable
 * (dead.c), as the interface requires.
 *
 * Notifications: the level reported to ICLRMemoryNotificationCallback is a
 * function of available / usable with hysteresis, so a workload hovering at a
 * threshold does not make it chatter:
 *     Low      entered below 20 %, left at 25 % or more
 *     High     entered above 50 %, left at 45 % or less
 *     Neutral  otherwise
 * Low is entered above both watermarks (12.5 % and 3.125 %) on purpose: the
 * runtime must hear "low" before its first task-critical refusal, so that it
 * can collect before it is refused.  A loop of commits smaller than the gap
 * (7.5 % of usable) always crosses 20 % before it reaches 12.5 %; a single
 * commit larger than that can still be refused from Neutral, since nothing
 * was taken that could have been reported.
 * The manager computes the level under its lock at the end of each call and
 * calls the callback after dropping the lock (manager.c), only on a change.
 */
#include "hm.h"

/* Percent of usable frames still available.  LOW_ENTER must stay above the
 * task-critical watermark (100 / TASK_FLOOR_DIVISOR = 12.5 %). */
#define TASK_FLOOR_DIVISOR     8
#define APPDOMAIN_FLOOR_DIVISOR 32
#define LOW_ENTER  20
#define LOW_LEAVE  25
#define HIGH_ENTER 50     /* entered above */
#define HIGH_LEAVE 45     /* left at or below */
_Static_assert(LOW_ENTER * TASK_FLOOR_DIVISOR > 100,
               "Low must be entered before the task-critical watermark refuses");

size_t pressure_available(const struct hm *hm)
{
	return frames_available(&hm->frames);
}

size_t pressure_floor(const struct hm *hm, EMemoryCriticalLevel level)
{
	switch (level) {
	case eTaskCritical:      return hm->frames.usable / TASK_FLOOR_DIVISOR;
	case eAppDomainCritical: return hm->frames.usable / APPDOMAIN_FLOOR_DIVISOR;
	default:                 return 0;
	}
}

bool pressure_allows(const struct hm *hm, size_t pages)
{
	size_t avail = pressure_available(hm);

	return pages <= avail && avail - pages >= pressure_floor(hm, hm->level);
}

DWORD pressure_load(const struct hm *hm)
{
	size_t usable = hm->frames.usable, avail = pressure_available(hm);

	return usable ? (DWORD)((usable - avail) * 100 / usable) : 100;
}

/* The level for availability avail (pressure_available), given the last
 * one reported. */
EMemoryAvailable pressure_level(const struct hm *hm, size_t avail)
{
	size_t usable = hm->frames.usable ? hm->frames.usable : 1;
	size_t pct = avail * 100 / usable;

	switch (hm->notified) {
	case eMemoryAvailableLow:
		if (pct < LOW_LEAVE)
			return eMemoryAvailableLow;
		break;
	case eMemoryAvailableHigh:
		if (pct > HIGH_LEAVE)
			return eMemoryAvailableHigh;
		break;
	default:
		break;
	}
	if (pct < LOW_ENTER)
		return eMemoryAvailableLow;
	if (pct > HIGH_ENTER)
		return eMemoryAvailableHigh;
	return eMemoryAvailableNeutral;
}

/* The least availability whose percent (rounded down, as pressure_level
 * takes it) is at least p. */
static size_t avail_at(size_t usable, size_t p)
{
	return (p * usable + 99) / 100;
}

/* Where pressure_level's answer stays hm->notified, worked out once per
 * change so that hm_leave compares instead of dividing each call. */
void pressure_band(const struct hm *hm, size_t *lo, size_t *hi)
{
	size_t usable = hm->frames.usable ? hm->frames.usable : 1;

	switch (hm->notified) {
	case eMemoryAvailableLow:      /* pct < LOW_LEAVE */
		*lo = 0;
		*hi = avail_at(usable, LOW_LEAVE) - 1;
		break;
	case eMemoryAvailableHigh:     /* pct > HIGH_LEAVE */
		*lo = avail_at(usable, HIGH_LEAVE + 1);
		*hi = (size_t)-1;
		break;
	default:                       /* LOW_ENTER <= pct <= HIGH_ENTER */
		*lo = avail_at(usable, LOW_ENTER);
		*hi = avail_at(usable, HIGH_ENTER + 1) - 1;
		break;
	}
}
