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

#endif
