#include "deadline.h"
#include "boot.h"
#include "machine.h"
#include "panic.h"
#include "percpu.h"

uint64_t deadline_in(uint64_t ms)
{
	return arch_ticks() + boot_info->tsc_hz / 1000 * ms;
}

void deadline_check(uint64_t deadline, const char *what)
{
	if (arch_ticks() > deadline)
		panic("cpu %u: %s", this_cpu()->id, what);
}
