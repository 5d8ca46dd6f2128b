/*
 * stats.h - counters every tool keeps for -v progress and --stats.
 *
 * A tool owns one struct stats.  libshared's io layer adds bytes and the
 * time spent blocked in read(2) and write(2); the tool counts records.
 * Blocked-in versus blocked-out time tells which stage of a pipeline is
 * the bottleneck: a stage that mostly waits to read is starved by the one
 * before it; one that mostly waits to write is held back by the one after.
 */
#ifndef MOMA_STATS_H
#define MOMA_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	uint64_t records;	/* units read (frames, messages, rows) */
	uint64_t units_out;	/* units written (sections, parts) */
	uint64_t bytes_in, bytes_out;
	uint64_t blocked_in_ns, blocked_out_ns;
	uint64_t start_ns;
	uint64_t last_progress_ns;
	uint64_t last_progress_bytes;
};

/* Monotonic clock in nanoseconds. */
uint64_t stats_now_ns(void);

/* Zero the counters and start the wall clock. */
void stats_init(struct stats *st);

/*
 * Format the --stats summary: one line of key=value pairs, no newline,
 * into buf (always NUL-terminated when len > 0):
 *   IN_NAME=N OUT_NAME=N bytes_in=N bytes_out=N wall=S cpu=S user=S sys=S
 *   blocked_in=S blocked_out=S maxrss_kib=N
 * in_name/out_name label records and units_out.  Returns the length
 * snprintf would have written.
 */
int stats_summary(const struct stats *st, const char *in_name,
    const char *out_name, char *buf, size_t len);

/*
 * Progress for -v: when at least 0.5 s passed since the last call that
 * returned 1, format a short line (no newline) into buf and return 1;
 * otherwise return 0 and leave buf alone.  Cheap enough to call once per
 * input buffer.
 */
int stats_progress(struct stats *st, const char *in_name, char *buf, size_t len);

/* Peak resident set size of this process in KiB (getrusage). */
long stats_maxrss_kib(void);

#endif
