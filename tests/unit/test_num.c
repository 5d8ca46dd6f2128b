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

int
main(void)
{
	test_num();
	test_num_arg();
	return tap_done();
}
