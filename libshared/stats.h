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
#include <sys/types.h>

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


/*
 * --stats-file: the pairs of the --stats line, one "key=value" a line,
 * then "exit=STATUS", for scripts to read instead of parsing stderr.
 * The file is complete or absent: it is written to a temporary file
 * beside path (path.XXXXXX) and renamed over path.
 *
 * A tool formats its pairs in one function, used for the --stats line
 * too, so the two never differ: fn(arg, buf, len) writes
 * "k=v k=v ..." (values without spaces) and returns what snprintf
 * returns.
 */
typedef int stats_pairs_fn(void *arg, char *buf, size_t len);

#define STATS_ERR_LEN 320

/*
 * Arm the stats file: check that a file can be created beside path (one
 * is made and removed), and, on glibc, register an on_exit(3) handler so
 * that an exit() of this process that did not go through
 * stats_file_write() (an error exit of any status) still writes the
 * file with its exit status, errors ignored: the file then holds what
 * was counted until then.  A death by signal leaves no file (nor a
 * temporary one).  Child processes that exit() write nothing.  One
 * stats file per process: a second call replaces the first.  Returns
 * 0, or -1 with the reason in err (STATS_ERR_LEN bytes).
 */
int stats_file_arm(const char *path, stats_pairs_fn *fn, void *arg, char *err);

/*
 * Write the armed stats file now with exit=status, once: the exit
 * handler does nothing afterwards.  The way a tool ends normally, so
 * that a failure to write can change its exit status.  0 (also when
 * nothing is armed), or -1 with the reason in err.
 */
int stats_file_write(int status, char *err);

#endif
