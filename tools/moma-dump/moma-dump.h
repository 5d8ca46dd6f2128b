/*
 * moma-dump.h - what moma-dump.c (streams to JSON lines) and reverse.c
 * (JSON lines to frames, -r) share.
 */
#ifndef MOMA_DUMP_H
#define MOMA_DUMP_H

#include <stdio.h>

#include "io.h"
#include "stats.h"

extern struct stats st;		/* --stats counters */
extern struct io_out out;	/* standard output */

/* -r: JSON lines from f to a frame stream on out; exits 65 naming the
 * line on bad input. */
int reverse(FILE *f);

#endif
