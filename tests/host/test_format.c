/* hostmem/format.c: the printf behind the kernel console and verify reports. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hostmem/format.h"

#define FMT(expect, ...) do { \
	char buf_[128]; \
	size_t n_ = hm_snprintf(buf_, sizeof(buf_), __VA_ARGS__); \
	assert_string_equal(buf_, expect); \
	assert_int_equal(n_, strlen(expect)); \
} while (0)

static void decimal_signed_and_unsigned(void **state)
{
	FMT("0 -1 42", "%d %d %u", 0, -1, 42u);
	FMT("-2147483648", "%d", (int)-2147483647 - 1);
	FMT("-9223372036854775808", "%lld", (long long)(-9223372036854775807ll - 1));
	FMT("18446744073709551615", "%llu", ~0ull);
	FMT("4294967295", "%u", ~0u);
	FMT("123", "%zu", (size_t)123);
	FMT("-5", "%ld", -5l);
}

static void hex_and_pointers(void **state)
{
	FMT("ff FF 0", "%x %X %x", 255u, 255u, 0u);
	FMT("ffffffffffffffff", "%llx", ~0ull);
	FMT("0x0000000000001000", "%p", (void *)0x1000);
	FMT("0xffffffff80000000", "%p", (void *)0xffffffff80000000ull);
}

static void width_padding_and_alignment(void **state)
{
	FMT("   42", "%5d", 42);
	FMT("00042", "%05d", 42);
	FMT("-0042", "%05d", -42);
	FMT("42   |", "%-5d|", 42);
	FMT("  ab", "%4s", "ab");
	FMT("ab  |", "%-4s|", "ab");
	FMT("   7", "%*d", 4, 7);
	FMT("7   |", "%*d|", -4, 7);
	FMT("000000ff", "%08x", 255u);
	FMT("123456", "%3d", 123456);
}

static void strings_chars_and_percent(void **state)
{
	FMT("x=hello c=Z 100%", "x=%s c=%c 100%%", "hello", 'Z');
	const char *volatile none = NULL;   /* hidden from the format checker */
	FMT("(null)", "%s", none);
	FMT("", "%s", "");
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void unknown_conversion_is_shown(void **state)
{
	FMT("%q", "%q");
}
#pragma GCC diagnostic pop

static void snprintf_truncates_and_reports_full_length(void **state)
{
	char buf[6];
	size_t n = hm_snprintf(buf, sizeof(buf), "%s", "abcdefgh");

	assert_int_equal(n, 8);
	assert_string_equal(buf, "abcde");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(hm_snprintf(buf, 0, "abc"), 3);
	assert_int_equal(buf[0], 'x');       /* len 0: nothing written */
	assert_int_equal(hm_snprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
}

static char out[64];
static size_t outn;
static void put(void *ctx, char c) { (*(int *)ctx)++; out[outn++] = c; }

static int vformat(int *calls, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = hm_vformat(put, calls, fmt, ap);
	va_end(ap);
	return (int)n;
}

static void vformat_calls_put_once_per_character(void **state)
{
	int calls = 0;

	outn = 0;
	assert_int_equal(vformat(&calls, "a%db", 12), 4);
	assert_int_equal(calls, 4);
	assert_memory_equal(out, "a12b", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decimal_signed_and_unsigned),
		cmocka_unit_test(hex_and_pointers),
		cmocka_unit_test(width_padding_and_alignment),
		cmocka_unit_test(strings_chars_and_percent),
		cmocka_unit_test(unknown_conversion_is_shown),
		cmocka_unit_test(snprintf_truncates_and_reports_full_length),
		cmocka_unit_test(vformat_calls_put_once_per_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
