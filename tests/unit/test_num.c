/*
 * Unit tests for libshared/num.c: strict option numbers.
 * Output is TAP (tap.h).
 */
#include "num.h"

#include <string.h>

#include "tap.h"

static void
test_num(void)
{
	uint64_t v = 7;

	ok(num_parse("4096", 0, 43, 4096, &v) == 0 && v == 4096, "decimal at the top of the range");
	ok(num_parse("0x1ffe", NUM_HEX, 0x20, 0x1ffe, &v) == 0 && v == 0x1ffe, "hexadecimal with NUM_HEX");
	int bad = 0;
	const char *refused[] = { "", " 1", "+1", "-1", "1 ", "1x", "0x10", "18446744073709551616", "42" };
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		bad += num_parse(refused[i], 0, 43, UINT64_MAX, &v) == -1;
	ok(bad == 9 && v == 0x1ffe,	/* *out left alone on failure */
	    "refused: empty, spaces, signs, junk, hex without NUM_HEX, overflow, below range");
	ok(num_parse("0x", NUM_HEX, 0, 10, &v) == -1 && num_parse("-0x1", NUM_HEX, 0, 10, &v) == -1,
	    "refused: bare 0x, signed hex");
}

static void
test_num_arg(void)
{
	char e[NUM_ERR_LEN] = "untouched", tiny[12];
	uint64_t v = 7;

	ok(num_arg(e, sizeof e, "--zone", "255", 0, 0, 255, &v) == 0 && v == 255 &&
	    strcmp(e, "untouched") == 0, "num_arg: a number in range, the buffer untouched");
	ok(num_arg(e, sizeof e, "--zone", "256", 0, 0, 255, &v) == -1 && v == 255 &&
	    strcmp(e, "--zone: '256' is not a number in 0..255") == 0, "num_arg: the one wording");
	ok(num_arg(e, sizeof e, "--pid", "0x3", NUM_HEX, 0x20, 0x1ffe, &v) == -1 &&
	    strcmp(e, "--pid: '0x3' is not a number in 32..8190 (0x0020..0x1ffe)") == 0,
	    "num_arg: NUM_HEX adds the range in hexadecimal");
	ok(num_arg(tiny, sizeof tiny, "--max-reject", "x", 0, 0, 9, &v) == -1 &&
	    strlen(tiny) == sizeof tiny - 1, "num_arg: a short buffer holds a cut, terminated message");
}

static void
test_num_unit_arg(void)
{
	static const struct num_unit size[] = {
		{ "K", 1024 }, { "KiB", 1024 }, { "M", 1 << 20 }, { "G", 1 << 30 },
		{ NULL, 0 },
	};
	static const struct num_unit secs[] = {
		{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { NULL, 0 },
	};
	char e[NUM_ERR_LEN] = "untouched";
	uint64_t v = 7;

	ok(num_unit_arg(e, sizeof e, "-p", "8M", size, 5 << 20, 5ull << 30, &v) == 0 &&
	    v == 8 << 20 && num_unit_arg(e, sizeof e, "-p", "6144KiB", size, 5 << 20,
	    5ull << 30, &v) == 0 && v == 6 << 20 && strcmp(e, "untouched") == 0,
	    "num_unit_arg: a suffix multiplies, the buffer untouched");
	ok(num_unit_arg(e, sizeof e, "-p", "5242880", size, 5 << 20, 5ull << 30, &v) == 0 &&
	    v == 5 << 20, "num_unit_arg: no suffix is a multiplier of 1");
	ok(num_unit_arg(e, sizeof e, "-p", "4M", size, 5 << 20, 5ull << 30, &v) == -1 &&
	    v == 5 << 20 && strcmp(e, "-p: '4M' is not a number in 5M..5G") == 0,
	    "num_unit_arg: num_arg's wording, the range in the units");
	int bad = 0;
	const char *refused[] = { "", "M", "8m", "8MB", " 8M", "+8M", "-8M", "8M ", "8.5M",
	    "18014398509481984K", "99999999999999999999999M" };
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		bad += num_unit_arg(e, sizeof e, "-p", refused[i], size, 0, UINT64_MAX, &v) == -1;
	ok(bad == 11 && v == 5 << 20, "num_unit_arg: refused: no digits, unknown or "
	    "wrong-case suffix, spaces, signs, fractions, overflow");
	ok(num_unit_arg(e, sizeof e, "--older-than", "90m", secs, 0, 3153600000u, &v) == 0 &&
	    v == 5400 && num_unit_arg(e, sizeof e, "--older-than", "1y", secs, 0,
	    3153600000u, &v) == -1 && strcmp(e, "--older-than: '1y' is not a number in "
	    "0..36500d") == 0, "num_unit_arg: durations; 0 is written plain");
}

int
main(void)
{
	test_num();
	test_num_arg();
	test_num_unit_arg();
	return tap_done();
}
