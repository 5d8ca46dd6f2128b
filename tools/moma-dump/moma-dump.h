/*
 * moma-dump.h - what moma-dump.c (streams to JSON lines) and reverse.c
 * (JSON lines to frames, -r) share.
 */
#ifndef MOMA_DUMP_H
#define MOMA_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "../cli.h"
#include "io.h"
#include "stats.h"

extern struct stats st;		/* --stats counters */
extern struct io_out out;	/* standard output */
extern struct cli_err dump_err;	/* the run's failure, which main reports */

/* -r: JSON lines from fd to a frame stream on out, which must not be a
 * terminal.  0, or -1 with dump_err set (65 naming the line on bad input). */
int reverse(int fd);

/* Storables s[0..n) to out (room for n + 2 bytes) as Jansson's json_dumps
 * (JSON_COMPACT) writes them, when they are an object of the plain shape
 * (at most 32 different keys; strings with no escape but the one-letter
 * ones; integers of at most 18 digits, true, false, null).  Returns the
 * bytes written, or -1 for anything else: then ask Jansson. */
long storables_json(const uint8_t *s, size_t n, char *out);

#endif
