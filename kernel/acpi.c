/*
 * The ACPI tables: RSDP (revision 2 or later) -> XSDT -> the table asked
 * for.  Every table is read through the direct map and only once its whole
 * length lies inside it; fields are read bytewise where ACPI does not align
 * them.
 */
#include "acpi.h"
#include "boot.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static const uint8_t *acpi_at(uint64_t pa, uint64_t len)
{
	if (pa == 0 || pa + len > boot_info->direct_map_size || pa + len < pa)
		return 0;
	return phys_to_virt(pa);
}

static int sig_is(const uint8_t *s, const char *want)
{
	return s[0] == want[0] && s[1] == want[1] && s[2] == want[2] && s[3] == want[3];
}

/* A table whose header and whole length are mapped, or NULL. */
static const uint8_t *table_at(uint64_t pa)
{
	const uint8_t *t = acpi_at(pa, ACPI_HEADER_SIZE);

	return t && acpi_at(pa, rd32(t + 4)) ? t : 0;
}

const uint8_t *acpi_table(const char *sig, uint32_t *len)
{
	const uint8_t *rsdp = acpi_at(boot_info->rsdp_phys, 36), *xsdt, *t;

	if (!rsdp || rsdp[15] < 2)
		return 0;
	xsdt = table_at(rd64(rsdp + 24));
	if (!xsdt || !sig_is(xsdt, "XSDT"))
		return 0;
	for (uint32_t off = ACPI_HEADER_SIZE; off + 8 <= rd32(xsdt + 4); off += 8) {
		t = table_at(rd64(xsdt + off));
		if (t && sig_is(t, sig)) {
			*len = rd32(t + 4);
			return t;
		}
	}
	return 0;
}
