/*
 * num.c - strict unsigned number parsing for options.
 */
#include "num.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int
num_parse(const char *s, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out)
{
	int hex = (flags & NUM_HEX) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *d = hex ? s + 2 : s;
	char *end;
	unsigned long long v;

	/* strtoull accepts spaces and a sign, and wraps "-1": refuse them first. */
	if (!(*d >= '0' && *d <= '9') && !(hex && ((*d >= 'a' && *d <= 'f') || (*d >= 'A' && *d <= 'F')))) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(d, &end, hex ? 16 : 10);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
num_arg(char *err, size_t len, const char *what, const char *s, unsigned flags,
    uint64_t lo, uint64_t hi, uint64_t *out)
{
	int n;

	if (num_parse(s, flags, lo, hi, out) == 0)
		return 0;
	n = snprintf(err, len, "%s: '%s' is not a number in %llu..%llu", what, s,
	    (unsigned long long)lo, (unsigned long long)hi);
	if ((flags & NUM_HEX) && n >= 0 && (size_t)n < len)
		snprintf(err + n, len - (size_t)n, " (0x%04llx..0x%04llx)",
		    (unsigned long long)lo, (unsigned long long)hi);
	return -1;
}
