/*
 * io.h - buffered, timed reading and writing of file descriptors.
 *
 * One buffer per stream, reused for the whole run: memory stays the same
 * whatever the input size.  Reads and writes loop on short counts and
 * EINTR, and the time spent blocked in them is added to a struct stats so
 * --stats can tell a starved stage from a throttled one.
 */
#ifndef MOMA_IO_H
#define MOMA_IO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "stats.h"

/* Bytes readable past the end of an io_in buffer (past cap, so past any
 * unread byte): lets vector scanners such as tlv_from_json_into load 64
 * bytes at a time up to the last byte of a record. */
#define IO_IN_SLACK	64

struct io_in {
	int fd;
	uint8_t *buf;
	size_t cap;		/* bytes allocated */
	size_t max;		/* the buffer never grows past this */
	size_t pos, end;	/* unread bytes are buf[pos..end) */
	uint64_t offset;	/* stream offset of buf[pos] */
	int eof;
	struct stats *st;	/* may be NULL */
};

/*
 * Prepare to read fd through a buffer of cap bytes that may grow to max
 * (cap <= max).  st, if not NULL, receives bytes_in and blocked_in_ns.
 * Returns 0, or -1 with errno ENOMEM.  The caller closes fd.
 */
int io_in_init(struct io_in *in, int fd, size_t cap, size_t max, struct stats *st);

/*
 * Make at least n unread bytes contiguous at io_in_ptr(in), reading and
 * growing the buffer (up to max) as needed.  Returns the number of unread
 * bytes now buffered: >= n, or fewer if end of file came first.  Returns
 * -1 with errno set on a read error or ENOMEM, or with errno EFBIG when n
 * exceeds max.
 */
ssize_t io_in_fill(struct io_in *in, size_t n);

static inline const uint8_t *
io_in_ptr(const struct io_in *in)
{
	return in->buf + in->pos;
}

/* Consume n buffered bytes (n <= what io_in_fill returned). */
static inline void
io_in_skip(struct io_in *in, size_t n)
{
	in->pos += n;
	in->offset += n;
}

void io_in_free(struct io_in *in);

struct io_out {
	int fd;
	uint8_t *buf;
	size_t cap, len;
	struct stats *st;	/* may be NULL */
};

/* Prepare to write fd through a cap-byte buffer.  0, or -1 (ENOMEM). */
int io_out_init(struct io_out *out, int fd, size_t cap, struct stats *st);

/*
 * Return a pointer to n writable bytes in the buffer, flushing first if
 * they do not fit and growing the buffer if n > cap.  Nothing is written
 * until io_out_commit(out, n).  NULL with errno set on a write error.
 */
uint8_t *io_out_reserve(struct io_out *out, size_t n);

static inline void
io_out_commit(struct io_out *out, size_t n)
{
	out->len += n;
}

/* Append n bytes.  0, or -1 with errno set on a write error. */
int io_out_write(struct io_out *out, const void *p, size_t n);

/* Write out everything buffered.  0, or -1 with errno set. */
int io_out_flush(struct io_out *out);

void io_out_free(struct io_out *out);


/*
 * The exit status of a tool whose standard output's reader went away
 * (EPIPE): the status a shell gives a process killed by SIGPIPE, which
 * the tools ignore so as to report and clean up.  A pipeline's script
 * (moma-zone) tells by it alone a stage that is a victim of a later
 * stage's failure.  io_write_exit(errno) is the status for a failed
 * write of standard output: IO_EX_PIPE for EPIPE, else 74 (EX_IOERR).
 */
#define IO_EX_PIPE	141
static inline int
io_write_exit(int e)
{
	return e == EPIPE ? IO_EX_PIPE : 74;
}

/* Room for io_fshut's message. */
#define IO_ERR_LEN 256

/*
 * sbase's fshut without the exit: flush the stdio stream f and check its
 * error flag, so that a tool exits 0 only when its output was all
 * written (after --help, --version or a report on stdout).  0, or -1 with
 * err (len bytes) holding "NAME: strerror" for the tool to print.
 */
int io_fshut(FILE *f, const char *name, char *err, size_t len);

#endif
