/*
 * pool.c - the part pool and the reader thread that fills it.
 *
 * A fixed pool of jobs + 1 part buffers; the reader thread takes a free
 * one, fills it from standard input (hashing each read while its bytes
 * are still in the cache: MD5 per part, SHA-256 of the whole stream) and
 * marks it ready.  A buffer is free again only once S3 has acknowledged
 * its part, so memory stays at (jobs + 1) x part size.  The reader never
 * exits the process: it reports a failure in pool.rerr and stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "put.h"

/*
 * Part size for part n (1-based): the base size, doubled every
 * max_parts / 11 parts, capped at 5 GiB.  With max_parts = 10,000 and the
 * 5 MiB minimum the parts can hold 909 x 5 MiB x (2^11 - 1) = 8.9 TiB, so
 * a stream of unknown length up to S3's 5 TiB never runs out of parts.
 */
uint64_t
pool_part_size(const struct pool *pl, unsigned n)
{
	unsigned per_tier = pl->max_parts / 11 ? pl->max_parts / 11 : 1;
	unsigned tier = (n - 1) / per_tier;
	uint64_t sz = pl->part_size;

	while (tier-- > 0 && sz < PART_MAX)
		sz *= 2;
	return sz < PART_MAX ? sz : PART_MAX;
}

/* Wait for a free slot; NULL when told to stop. */
static struct slot *
take_slot(struct pool *pl, unsigned *partno)
{
	struct slot *s = NULL;
	uint64_t t0;

	pthread_mutex_lock(&pl->mu);
	t0 = stats_now_ns();
	for (;;) {
		for (int i = 0; i < pl->n && s == NULL; i++)
			if (pl->slots[i].state == S_FREE)
				s = &pl->slots[i];
		if (s != NULL || pl->stop)
			break;
		pthread_cond_wait(&pl->cv, &pl->mu);
	}
	pl->blocked_out_ns += stats_now_ns() - t0;
	if (pl->stop)
		s = NULL;
	else {
		s->state = S_FILLING;
		*partno = pl->next_partno++;
	}
	pthread_mutex_unlock(&pl->mu);
	return s;
}

/* Fill s with part partno; 0, or an errno value.  *eof set at the end. */
static int
fill_slot(struct pool *pl, struct slot *s, unsigned partno, EVP_MD_CTX *md5,
    uint64_t *total, int *eof)
{
	uint64_t want = pool_part_size(pl, partno), t0;

	s->len = 0;
	if (partno > pl->max_parts)
		return EFBIG;
	if (s->cap < want) {
		/* The part size grew: a fresh buffer, nothing to keep. */
		free(s->buf);
		s->cap = 0;
		if ((s->buf = malloc(want)) == NULL)
			return ENOMEM;
		s->cap = want;
	}
	if (!EVP_DigestInit_ex(md5, EVP_md5(), NULL))
		return EPROTO;
	while (s->len < want) {
		size_t ask = want - s->len < READ_MAX ? want - s->len : READ_MAX;
		ssize_t n;

		t0 = stats_now_ns();
		n = read(STDIN_FILENO, s->buf + s->len, ask);
		pthread_mutex_lock(&pl->mu);
		pl->blocked_in_ns += stats_now_ns() - t0;
		if (n > 0) {
			pl->bytes_in += (uint64_t)n;
			if (partno > 1)
				pl->more = 1;
		}
		pthread_mutex_unlock(&pl->mu);
		if (n < 0) {
			if (errno != EINTR)
				return errno;
			continue;
		}
		if (n == 0) {
			*eof = 1;
			break;
		}
		if (!EVP_DigestUpdate(md5, s->buf + s->len, (size_t)n) ||
		    !EVP_DigestUpdate(pl->sha, s->buf + s->len, (size_t)n))
			return EPROTO;
		s->len += (size_t)n;
		if ((*total += (uint64_t)n) > OBJECT_MAX)
			return EFBIG;
		if (partno == 2 && s->len == (size_t)n)
			curl_multi_wakeup(pl->multi);
	}
	if (s->len > 0 || partno == 1) {
		unsigned int dl = 16;

		if (!EVP_DigestFinal_ex(md5, s->md5, &dl))
			return EPROTO;
		EVP_EncodeBlock((unsigned char *)s->md5_b64, s->md5, 16);
	}
	return 0;
}

static void *
reader_main(void *arg)
{
	struct pool *pl = arg;
	uint64_t total = 0;
	EVP_MD_CTX *md5 = EVP_MD_CTX_new();
	int rerr = md5 == NULL ? ENOMEM : 0, eof = 0;

	while (!rerr && !eof) {
		unsigned partno;
		struct slot *s = take_slot(pl, &partno);

		if (s == NULL)
			break;
		rerr = fill_slot(pl, s, partno, md5, &total, &eof);
		pthread_mutex_lock(&pl->mu);
		if (rerr) {
			pl->rerr = rerr;
			s->state = S_FREE;
		} else if (s->len > 0 || partno == 1) {
			s->partno = partno;
			s->attempts = 0;
			s->state = S_READY;
		} else
			s->state = S_FREE;
		if (eof || rerr)
			pl->eof = 1;
		pthread_mutex_unlock(&pl->mu);
		curl_multi_wakeup(pl->multi);
	}
	if (rerr == 0 && eof) {
		unsigned int dl = 32;

		if (!EVP_DigestFinal_ex(pl->sha, pl->sha256, &dl)) {
			pthread_mutex_lock(&pl->mu);
			pl->rerr = EPROTO;
			pthread_mutex_unlock(&pl->mu);
		}
	}
	EVP_MD_CTX_free(md5);
	return NULL;
}

/* Allocate the pool and start the reader; 0, or -1 with errno set. */
int
pool_start(struct put *p)
{
	struct pool *pl = &p->pool;
	sigset_t block, old;

	pl->n = p->opt.jobs + 1;
	pl->next_partno = 1;
	pl->part_size = p->opt.part_size;
	pl->max_parts = p->opt.max_parts;
	if ((pl->slots = calloc((size_t)pl->n, sizeof *pl->slots)) == NULL ||
	    (pl->multi = curl_multi_init()) == NULL ||
	    (pl->sha = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(pl->sha, EVP_sha256(), NULL)) {
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	/* A bigger pipe means fewer, larger reads. */
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);

	/* Signals go to the main thread only. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	errno = pthread_create(&pl->reader, NULL, reader_main, pl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return errno ? -1 : 0;
}

/* Tell the reader to stop taking slots (after a failure). */
void
pool_stop(struct put *p)
{
	struct pool *pl = &p->pool;

	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	for (int i = 0; i < pl->n; i++)
		if (pl->slots[i].state == S_SENDING)
			curl_multi_remove_handle(pl->multi, pl->slots[i].x.e);
}

/* After the end of input: join the reader, take its figures, free. */
void
pool_finish(struct put *p)
{
	struct pool *pl = &p->pool;

	pthread_join(pl->reader, NULL);
	p->st.bytes_in = pl->bytes_in;
	p->st.blocked_in_ns = pl->blocked_in_ns;
	p->st.blocked_out_ns = pl->blocked_out_ns;
	s3_hex(pl->sha256, 32, p->sha256);
	for (int i = 0; i < pl->n; i++) {
		xfer_free(&pl->slots[i].x);
		free(pl->slots[i].buf);
	}
	free(pl->slots);
	pl->slots = NULL;
	curl_multi_cleanup(pl->multi);
	EVP_MD_CTX_free(pl->sha);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
}
