/*
 * cli.h - what every tool's main file does alike and libshared may not
 * (libshared never prints nor exits): leave after --help or --version.
 * Header-only, for the main files under tools/.
 */
#ifndef MOMA_CLI_H
#define MOMA_CLI_H

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "io.h"

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

#endif
