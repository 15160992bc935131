/* The kernel's benchmark mode (mode=bench): hostmem on the real MMU. */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

/* Runs every measurement and prints "bench: NAME VALUE UNIT" lines; returns
 * the number of steps that failed (a call that did not return S_OK, page
 * tables not back to their baseline). */
int bench_run(void);

#endif
