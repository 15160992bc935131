#include "deadline.h"
#include "boot.h"
#include "cpu.h"
#include "panic.h"
#include "percpu.h"

uint64_t deadline_in(uint64_t ms)
{
	return rdtsc() + boot_info->tsc_hz / 1000 * ms;
}

void deadline_check(uint64_t deadline, const char *what)
{
	if (rdtsc() > deadline)
		panic("cpu %u: %s", this_cpu()->id, what);
}
