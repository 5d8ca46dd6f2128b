/*
 * cli.h - what every tool's main file does alike and libshared may not
 * (libshared never prints nor exits): leave after --help or --version,
 * and take a number option or leave with the usage.
 * Header-only, for the main files under tools/.
 */
#ifndef MOMA_CLI_H
#define MOMA_CLI_H

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "io.h"
#include "num.h"

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
