/*
 * errenv.c - see errenv.h.
 */
#include "errenv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
errenv_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
errenv_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}
