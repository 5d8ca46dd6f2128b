/*
 * num.c - strict unsigned number parsing for options.
 */
#include "num.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* v as "N" or "N<suffix>" with the largest unit that divides it. */
static void
unit_fmt(char *buf, size_t len, uint64_t v, const struct num_unit *units)
{
	const struct num_unit *best = NULL;

	for (const struct num_unit *u = units; v != 0 && u->suffix != NULL; u++)
		if (u->mul > 1 && v % u->mul == 0 && (best == NULL || u->mul > best->mul))
			best = u;
	if (best == NULL)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "%llu%s", (unsigned long long)(v / best->mul), best->suffix);
}

int
num_unit_arg(char *err, size_t len, const char *what, const char *s,
    const struct num_unit *units, uint64_t lo, uint64_t hi, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t mul = 1, v;
	char digits[24], los[32], his[32];

	if (s[n] != '\0') {
		mul = 0;
		for (const struct num_unit *u = units; u->suffix != NULL; u++)
			if (strcmp(s + n, u->suffix) == 0)
				mul = u->mul;
	}
	if (n > 0 && n < sizeof digits && mul != 0) {
		memcpy(digits, s, n);
		digits[n] = '\0';
		if (num_parse(digits, 0, 0, UINT64_MAX / mul, &v) == 0 &&
		    v * mul >= lo && v * mul <= hi) {
			*out = v * mul;
			return 0;
		}
	}
	unit_fmt(los, sizeof los, lo, units);
	unit_fmt(his, sizeof his, hi, units);
	snprintf(err, len, "%s: '%s' is not a number in %s..%s", what, s, los, his);
	return -1;
}
