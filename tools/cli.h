/*
 * cli.h - what every tool does alike and libshared may not (libshared
 * never prints nor exits): record a failure for main to report, leave
 * after --help or --version, and take a number option or leave with the
 * usage.  Header-only, for the files under tools/.
 */
#ifndef MOMA_CLI_H
#define MOMA_CLI_H

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "io.h"
#include "num.h"

/* Room for a failure's message: a path of PATH_MAX bytes and its reason. */
#define CLI_ERR_LEN	(4096 + 512)

/*
 * A run's failure, recorded where it happens and returned up to main,
 * the one place a tool prints it ("PROG: MSG", warnx(3)) and exits with
 * code (redis anet's error buffer; moma-fetch's struct fetch has its own).
 */
struct cli_err {
	int code;		/* sysexits(3), or io_write_exit()'s; 0: none yet */
	char msg[CLI_ERR_LEN];	/* as err(3) words it, without the program name */
};

/* The first failure is the cause and is kept; what follows is its echo.
 * errnum < 0: no ": strerror(errnum)" after the message. */
__attribute__((format(printf, 4, 0))) static inline int
cli_vfail(struct cli_err *e, int code, int errnum, const char *fmt, va_list ap)
{
	int n;

	if (e->code != 0)
		return -1;
	e->code = code;
	n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (errnum >= 0 && n >= 0 && (size_t)n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(errnum));
	return -1;
}

/* Record code and the message with ": strerror(errno)" after it, as
 * err(3) would print it; returns -1. */
__attribute__((format(printf, 3, 4))) static inline int
cli_fail(struct cli_err *e, int code, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	cli_vfail(e, code, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

/* Record code and the message, as errx(3) would print it; returns -1. */
__attribute__((format(printf, 3, 4))) static inline int
cli_failx(struct cli_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vfail(e, code, -1, fmt, ap);
	va_end(ap);
	return -1;
}

/* After --help or --version: exit 0 only if standard output took it all
 * (a full disk: 74, with the reason). */
static inline _Noreturn void
cli_help_exit(void)
{
	char e[IO_ERR_LEN];

	if (io_fshut(stdout, "stdout", e, sizeof e) != 0)
		errx(EX_IOERR, "%s", e);
	exit(0);
}

/* A number option s, named what, in lo..hi (flags: num.h's NUM_HEX...);
 * out of range or not a number: num_arg's message, then usage(EX_USAGE),
 * which does not return. */
static inline uint64_t
cli_num(const char *s, const char *what, unsigned flags, uint64_t lo, uint64_t hi,
    void (*usage)(int))
{
	char e[NUM_ERR_LEN];
	uint64_t v;

	if (num_arg(e, sizeof e, what, s, flags, lo, hi, &v) != 0) {
		warnx("%s", e);
		usage(EX_USAGE);
		exit(EX_USAGE);	/* usage does not return; for the compiler */
	}
	return v;
}

#endif
