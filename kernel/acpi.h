/* The firmware's ACPI tables, found from the RSDP the loader passed. */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>

#define ACPI_HEADER_SIZE 36   /* every system description table's header */

/* The table with signature sig (4 characters: "APIC" is the MADT) from the
 * XSDT, through the direct map, and its length; NULL when there is none. */
const uint8_t *acpi_table(const char *sig, uint32_t *len);

#endif
