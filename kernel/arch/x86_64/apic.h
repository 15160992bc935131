/*
 * The local APIC (xAPIC, memory-mapped: QEMU's TCG has no x2APIC) and the
 * ACPI MADT that lists the CPUs.  The APIC page is mapped uncached in the
 * direct map's range by apic_init.
 */
#ifndef KERNEL_APIC_H
#define KERNEL_APIC_H

#include <stdint.h>
#include <stdbool.h>

#define IPI_WAKE      0xF0    /* wakes a sleeping CPU: new work, its turn, its timer */
#define IPI_SHOOTDOWN 0xF1    /* apply the published TLB shootdown */
#define IPI_BARRIER   0xF2    /* execute a full memory barrier, acknowledge */
#define APIC_SPURIOUS 0xFF

/* Maps the boot CPU's APIC (every CPU's is at the same address). */
void apic_init(void);
/* This CPU: software-enable its APIC, spurious vector APIC_SPURIOUS. */
void apic_enable(void);
uint32_t apic_id(void);
void apic_eoi(void);
/* A fixed-vector IPI to every other CPU, or to one APIC id. */
void apic_send_all_others(uint8_t vector);
void apic_send(uint32_t apic_id, uint8_t vector);
/* The APIC timer: measure its rate (boot CPU, once), then on any CPU an
 * IPI_WAKE to itself in about ms milliseconds (the bound of a sleep). */
void apic_timer_calibrate(void);
void apic_timer_once(unsigned ms);
bool apic_timer_expired(void);   /* the last apic_timer_once has run out */
/* INIT, then two STARTUPs at page `page` (its physical address >> 12). */
void apic_start_cpu(uint32_t apic_id, uint8_t page);

/* The enabled CPUs' APIC ids from the MADT, the boot CPU's included:
 * how many (at most max), or 0 when there is no usable MADT. */
unsigned acpi_cpu_ids(uint32_t *ids, unsigned max);

#endif
