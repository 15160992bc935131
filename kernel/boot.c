/*
 * What the kernel learned at boot, for everything that runs after: the
 * loader's boot info, the memory map (main.c fills these in kmain), the
 * command line, and the time since the loader started.
 */
#include "boot.h"
#include "machine.h"

const struct bootinfo *boot_info;
struct memmap_summary boot_mem;
struct mem_range boot_usable[MAX_USABLE_RANGES];
size_t boot_nusable;

static int streq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

const char *cmdline_get(const char *key, char *buf, size_t len)
{
	const char *s = boot_info->cmdline;
	size_t klen = 0;

	while (key[klen])
		klen++;
	while (*s) {
		while (*s == ' ')
			s++;
		const char *word = s;
		while (*s && *s != ' ')
			s++;
		if ((size_t)(s - word) > klen && word[klen] == '=' && streq_n(word, key, klen)) {
			size_t n = 0;
			for (const char *v = word + klen + 1; v < s && n + 1 < len; v++)
				buf[n++] = *v;
			buf[n] = '\0';
			return buf;
		}
	}
	return 0;
}

bool cmdline_is(const char *key, const char *value)
{
	char buf[24];
	size_t n = 0;

	while (value[n])
		n++;
	return cmdline_get(key, buf, sizeof(buf)) && streq_n(buf, value, n + 1);
}

uint64_t cmdline_number(const char *key, uint64_t dflt)
{
	char buf[24];
	uint64_t v = 0;

	if (!cmdline_get(key, buf, sizeof(buf)) || !buf[0])
		return dflt;
	for (const char *p = buf; *p; p++) {
		if (*p < '0' || *p > '9')
			return dflt;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}

uint64_t uptime_ms(void)
{
	uint64_t hz = boot_info->tsc_hz ? boot_info->tsc_hz : 1000000000ull;
	return (arch_ticks() - boot_info->tsc_at_loader) / (hz / 1000);
}
