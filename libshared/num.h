/*
 * num.h - parsing the numbers that options and environment variables
 * carry, one way for every tool.
 */
#ifndef MOMA_NUM_H
#define MOMA_NUM_H

#include <stddef.h>
#include <stdint.h>

#define NUM_HEX 1	/* also accept "0x..." hexadecimal (PIDs) */

/*
 * Parse s as a whole unsigned decimal number (or, with NUM_HEX, "0x" and
 * hexadecimal digits) in lo..hi: no sign, no spaces, nothing after the
 * digits.  Returns 0 with *out set, or -1 (errno EINVAL for a malformed
 * string, ERANGE for a value outside lo..hi) leaving *out alone.  The
 * caller words the error: libshared does not print.
 */
int num_parse(const char *s, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out);

/* Room for num_arg's message, with a what and an s of up to ~100 bytes. */
#define NUM_ERR_LEN 320

/*
 * num_parse for an option or environment variable named what (e.g.
 * "--zone"), with the one wording every tool gives on failure.  Returns 0
 * with *out set, or -1 leaving *out alone and err (len bytes, always
 * NUL-terminated) holding "WHAT: 'S' is not a number in LO..HI", with
 * " (0xLO..0xHI)" after it under NUM_HEX.  The tool prints it.
 */
int num_arg(char *err, size_t len, const char *what, const char *s, unsigned flags,
    uint64_t lo, uint64_t hi, uint64_t *out);

/* One suffix of num_unit_arg: its letters, matched exactly, and what it
 * multiplies the number by. */
struct num_unit {
	const char *suffix;
	uint64_t mul;
};

/*
 * num_arg for a decimal number with an optional suffix from units (an
 * array ended by { NULL, 0 }), e.g. a size "8M" or a duration "15m":
 * the number times the suffix's multiplier (1 without one), in lo..hi,
 * with no overflow.  Returns 0 with *out set, or -1 leaving *out alone
 * and err holding num_arg's wording, "WHAT: 'S' is not a number in
 * LO..HI", LO and HI each written with the first of the largest suffixes
 * that divides it ("5M..5G").
 */
int num_unit_arg(char *err, size_t len, const char *what, const char *s,
    const struct num_unit *units, uint64_t lo, uint64_t hi, uint64_t *out);

#endif
