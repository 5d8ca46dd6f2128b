/*
 * io.c - buffered, timed reading and writing.
 */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
io_in_init(struct io_in *in, int fd, size_t cap, size_t max, struct stats *st)
{
	*in = (struct io_in){ .fd = fd, .cap = cap, .max = max < cap ? cap : max, .st = st };
	in->buf = malloc(cap + IO_IN_SLACK);
	if (in->buf == NULL)
		return -1;
	memset(in->buf + cap, 0, IO_IN_SLACK);
	return 0;
}

ssize_t
io_in_fill(struct io_in *in, size_t n)
{
	if (in->end - in->pos >= n)
		return (ssize_t)(in->end - in->pos);
	if (n > in->max) {
		errno = EFBIG;
		return -1;
	}
	if (in->pos + n > in->cap) {
		/* Slide the unread tail down; grow only when n itself does not fit. */
		memmove(in->buf, in->buf + in->pos, in->end - in->pos);
		in->end -= in->pos;
		in->pos = 0;
		if (n > in->cap) {
			size_t ncap = in->cap;
			while (ncap < n)
				ncap = ncap > in->max / 2 ? in->max : ncap * 2;
			uint8_t *nb = realloc(in->buf, ncap + IO_IN_SLACK);
			if (nb == NULL)
				return -1;
			memset(nb + ncap, 0, IO_IN_SLACK);
			in->buf = nb;
			in->cap = ncap;
		}
	}
	while (!in->eof && in->end - in->pos < n) {
		uint64_t t0 = in->st ? stats_now_ns() : 0;
		ssize_t r = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (in->st)
			in->st->blocked_in_ns += stats_now_ns() - t0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			in->eof = 1;
		in->end += (size_t)r;
		if (in->st)
			in->st->bytes_in += (uint64_t)r;
	}
	return (ssize_t)(in->end - in->pos);
}

void
io_in_free(struct io_in *in)
{
	free(in->buf);
	in->buf = NULL;
}

/* write(2) all of buf, looping on short writes and EINTR; adds the time
 * blocked and the bytes to st when not NULL.  0, or -1 with errno set. */
static int
io_write_all(int fd, const void *buf, size_t n, struct stats *st)
{
	const uint8_t *p = buf;

	while (n > 0) {
		uint64_t t0 = st ? stats_now_ns() : 0;
		ssize_t w = write(fd, p, n);
		if (st)
			st->blocked_out_ns += stats_now_ns() - t0;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		if (st)
			st->bytes_out += (uint64_t)w;
	}
	return 0;
}

int
io_out_init(struct io_out *out, int fd, size_t cap, struct stats *st)
{
	*out = (struct io_out){ .fd = fd, .cap = cap, .st = st };
	out->buf = malloc(cap);
	return out->buf == NULL ? -1 : 0;
}

int
io_out_flush(struct io_out *out)
{
	if (out->len == 0)
		return 0;
	if (io_write_all(out->fd, out->buf, out->len, out->st) != 0)
		return -1;
	out->len = 0;
	return 0;
}

uint8_t *
io_out_reserve(struct io_out *out, size_t n)
{
	if (out->cap - out->len >= n)
		return out->buf + out->len;
	if (io_out_flush(out) != 0)
		return NULL;
	if (n > out->cap) {
		uint8_t *nb = realloc(out->buf, n);
		if (nb == NULL)
			return NULL;
		out->buf = nb;
		out->cap = n;
	}
	return out->buf;
}

int
io_out_write(struct io_out *out, const void *p, size_t n)
{
	uint8_t *d;

	if (n > out->cap - out->len && n >= out->cap) {
		/* Large writes bypass the buffer rather than growing it. */
		if (io_out_flush(out) != 0)
			return -1;
		return io_write_all(out->fd, p, n, out->st);
	}
	if ((d = io_out_reserve(out, n)) == NULL)
		return -1;
	memcpy(d, p, n);
	io_out_commit(out, n);
	return 0;
}

void
io_out_free(struct io_out *out)
{
	free(out->buf);
	out->buf = NULL;
}

int
io_fshut(FILE *f, const char *name, char *err, size_t len)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	/* fflush set errno; an error flag set earlier may have left it 0. */
	snprintf(err, len, "%s: %s", name, strerror(errno ? errno : EIO));
	return -1;
}
