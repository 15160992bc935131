/* The soak's fetch on x86-64: the marker byte 0xC3 is `ret` (code.h). */
#include "kernel/recover.h"
#include "tests/kernel/code.h"

uint32_t exec_marked_ret(uint64_t va)
{
	return try_exec((void *)va, 0);
}
