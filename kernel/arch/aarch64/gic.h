/*
 * The GICv2 of QEMU's -M virt, used for one thing: letting a CPU sleep in
 * WFI until another CPU or its own timer wakes it.  Interrupts stay masked
 * (PSTATE.I) all the time; WFI ends when one is pending all the same, and
 * the sleeper acknowledges it itself: no handler, no vector.
 */
#ifndef KERNEL_AARCH64_GIC_H
#define KERNEL_AARCH64_GIC_H

#include <stdbool.h>

/* Boot CPU, once: finds the GIC in the MADT at the addresses the loader
 * mapped and turns the distributor on; false when there is none (then
 * gic_sleep is a bounded WFE). */
bool gic_init(void);
/* This CPU's interface, its wake-up SGI and its timer's interrupt. */
void gic_cpu_init(void);
/* Sleeps until a wake-up from another CPU, or ms milliseconds. */
void gic_sleep(unsigned ms);
/* Wakes every other CPU sleeping in gic_sleep. */
void gic_wake_others(void);

#endif
