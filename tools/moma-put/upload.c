/*
 * upload.c - standard input to one object: a single PutObject when it
 * fits in one part, otherwise a multipart upload driven through one curl
 * multi handle with up to `jobs` parts in flight, each retried from
 * memory; then Complete, the commit point, or (with --prepare) the state
 * file that --complete and --abort take.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "put.h"

enum mode { UNDECIDED, SINGLE, MULTI };

/* What one turn of the loop found in the pool. */
struct scan {
	struct slot *first, *todo[64];
	int ntodo, nready, busy, eof, more, rerr;
	uint64_t next_retry;
};

/* Stop everything and exit after a failure of x, before Complete was
 * sent: report_exit aborts the upload, so nothing stays behind. */
static _Noreturn void
fail_upload(struct put *p, const struct xfer *x, struct verdict *v)
{
	pool_stop(p);
	report_verdict(p, x, v);
	report_exit(p, v->exit);
}

static _Noreturn void
fail_plain(struct put *p, enum mode mode, int code, const char *msg)
{
	struct xfer x = { .op = mode == MULTI ? OP_PART : OP_PUT };
	struct verdict v = { .exit = code };

	snprintf(v.msg, sizeof v.msg, "%s", msg);
	fail_upload(p, &x, &v);
}

/* After Complete was sent and its outcome is unknown: is the object at
 * the key the one these parts make?  1 if so. */
static int
already_completed(struct put *p)
{
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	int r;

	if (xfer_init(p, &x, OP_HEAD, 0, p->target.url, NULL, 0,
	    s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256)) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	x.interruptible = 0;
	r = xfer_run(p, &x, 3, &v, &xml) == 0 && strcmp(x.etag, p->etag) == 0;
	xfer_free(&x);
	return r;
}

/*
 * CompleteMultipartUpload of parts 1..nparts: the commit point.  Once it
 * has been sent the upload is never aborted here, whatever happens: the
 * object may already be the new one.  Returns 0 when the object at the
 * key is the one these parts make (checked by HEAD when the answer was
 * lost or said NoSuchUpload); otherwise a sysexits code after saying why,
 * with the upload left open for a later --complete (or --abort).  A
 * negative sysexits code: Complete was never sent (nothing reached S3),
 * so aborting is safe.
 */
int
upload_complete(struct put *p)
{
	char *body, *url, sha[65];
	size_t len;
	struct curl_slist *h;
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	uint64_t t0 = stats_now_ns();
	int rc = 0, keep = p->keep_upload;

	if (parts_etag(p->parts, p->nparts, p->etag, sizeof p->etag) != 0 ||
	    (body = parts_complete_body(p, &len)) == NULL ||
	    s3_sha256_hex(body, len, sha) != 0)
		report_fail(p, EX_OSERR, "Complete: out of memory, or no MD5 or SHA-256 "
		    "in libcrypto");
	h = s3_base_headers(NULL, &p->conf, sha);
	if (h != NULL)
		h = s3_header(h, "Content-Type", "application/xml");
	url = xfer_url(p, OP_COMPLETE, 0, p->upload_id);
	if (xfer_init(p, &x, OP_COMPLETE, 0, url, body, len, h) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	free(url);
	/* The commit point: from here the way out never aborts the upload. */
	p->keep_upload = 1;
	if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0) {
		if (!x.sent && strcmp(v.code, "NoSuchUpload") != 0)
			rc = -(v.exit > 0 ? v.exit : EX_UNAVAILABLE);
		else if (already_completed(p))
			rc = 0;
		else {
			rc = v.exit > 0 ? v.exit : EX_TEMPFAIL;
			if (strcmp(v.code, "NoSuchUpload") == 0)
				snprintf(v.msg + strlen(v.msg), sizeof v.msg -
				    strlen(v.msg), " (upload %s was aborted or "
				    "expired)", p->upload_id);
		}
		if (rc != 0)
			report_verdict(p, &x, &v);
	} else if (strchr(xml.etag, '-') != NULL && strcmp(xml.etag, p->etag) != 0) {
		/* S3 assembled other bytes than the ones we sent: the object
		 * is there, but say so and fail. */
		v.exit = EX_PROTOCOL;
		snprintf(v.msg, sizeof v.msg, "ETag %s, expected %s", xml.etag, p->etag);
		report_verdict(p, &x, &v);
		rc = EX_PROTOCOL;
	}
	if (rc < 0)		/* never sent: nothing reached S3 */
		p->keep_upload = keep;
	if (rc == 0 && p->opt.verbose)
		warnx("%s: %u parts, ETag %s", p->target.name, p->nparts, p->etag);
	p->complete_ns += stats_now_ns() - t0;
	xfer_free(&x);
	free(body);
	return rc;
}

/* ---- the loop ----------------------------------------------------------- */

static void
show_progress(struct put *p, int inflight, unsigned done)
{
	uint64_t now = stats_now_ns(), in;
	double el;

	if (!p->opt.verbose || !isatty(STDERR_FILENO) ||
	    now - p->st.last_progress_ns < 500000000ull)
		return;
	p->st.last_progress_ns = now;
	pthread_mutex_lock(&p->pool.mu);
	in = p->pool.bytes_in;
	pthread_mutex_unlock(&p->pool.mu);
	el = (double)(now - p->st.start_ns) / 1e9;
	fprintf(stderr, "\rmoma-put: %.1f MiB read, %.1f MiB stored, %.1f MB/s, "
	    "%d parts in flight, %u done  ", (double)in / MIB,
	    (double)p->st.bytes_out / MIB,
	    el > 0 ? (double)p->st.bytes_out / el / 1e6 : 0, inflight, done);
	p->progress_shown = 1;
}

/* Look at every slot: which are ready, which wait, which may go now. */
static void
scan_pool(struct put *p, enum mode mode, int inflight, struct scan *sc)
{
	struct pool *pl = &p->pool;
	uint64_t now = stats_now_ns();

	memset(sc, 0, sizeof *sc);
	pthread_mutex_lock(&pl->mu);
	sc->eof = pl->eof;
	sc->rerr = pl->rerr;
	sc->more = pl->more;
	for (int i = 0; i < pl->n; i++) {
		struct slot *s = &pl->slots[i];
		int room = inflight + sc->ntodo < p->opt.jobs;

		if (s->state == S_READY) {
			sc->nready++;
			if (s->partno == 1)
				sc->first = s;
			if (mode == MULTI && room) {
				s->state = S_SENDING;
				sc->todo[sc->ntodo++] = s;
			}
		} else if (s->state == S_WAITING) {
			if (s->retry_at <= now && room) {
				s->state = S_SENDING;
				sc->todo[sc->ntodo++] = s;
			} else if (!sc->next_retry || s->retry_at < sc->next_retry)
				sc->next_retry = s->retry_at;
		}
		if (s->state != S_FREE)
			sc->busy++;
	}
	p->st.bytes_in = pl->bytes_in;
	pthread_mutex_unlock(&pl->mu);
}

/* The whole input fits in one part: one PutObject. */
static void
put_single(struct put *p, struct slot *s)
{
	struct curl_slist *h = s3_base_headers(NULL, &p->conf, "UNSIGNED-PAYLOAD");
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;

	if (h != NULL)
		h = s3_header(h, "Content-MD5", s->md5_b64);
	if (h != NULL)
		h = s3_header(h, "Content-Type", p->opt.content_type);
	if (h != NULL)
		h = s3_object_headers(h, &p->conf);
	h = s3_meta_headers(h, p->opt.meta, p->opt.nmeta);
	if (xfer_init(p, &x, OP_PUT, 0, p->target.url, s->buf, s->len, h) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0)
		fail_upload(p, &x, &v);
	xfer_free(&x);
	p->st.records = 1;
	p->st.bytes_out = s->len;
	p->nparts = 1;
}

static void
create_upload(struct put *p)
{
	char *url = xfer_url(p, OP_CREATE, 0, NULL);
	struct curl_slist *h = s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256);
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;

	if (h != NULL)
		h = s3_header(h, "Content-Type", p->opt.content_type);
	if (h != NULL)
		h = s3_object_headers(h, &p->conf);
	h = s3_meta_headers(h, p->opt.meta, p->opt.nmeta);
	if (xfer_init(p, &x, OP_CREATE, 0, url, NULL, 0, h) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	free(url);
	if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0)
		fail_upload(p, &x, &v);
	if ((p->upload_id = strdup(xml.upload_id)) == NULL)
		report_fail(p, EX_OSERR, "out of memory");
	xfer_free(&x);
	if (p->opt.verbose)
		warnx("%s: upload %s", p->target.name, p->upload_id);
	/* From here a kill -9 leaves an upload: name it in the state file
	 * at once, so --abort STATE can clear it. */
	if (p->opt.prepare && state_write(p, p->opt.prepare, PH_UPLOADING) != 0) {
		struct verdict w = { .exit = EX_CANTCREAT };

		snprintf(w.msg, sizeof w.msg, "cannot write the state file %s",
		    p->opt.prepare);
		fail_upload(p, &x, &w);
	}
}

static void
start_part(struct put *p, struct slot *s)
{
	struct curl_slist *h = s3_base_headers(NULL, &p->conf, "UNSIGNED-PAYLOAD");
	char *url;

	if (h != NULL)
		h = s3_header(h, "Content-MD5", s->md5_b64);
	url = xfer_url(p, OP_PART, s->partno, p->upload_id);
	if (xfer_init(p, &s->x, OP_PART, s->partno, url, s->buf, s->len, h) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	free(url);
	xfer_rewind(&s->x);
	p->nrequests++;
	s->attempts++;
	if (curl_multi_add_handle(p->pool.multi, s->x.e) != CURLM_OK)
		report_fail(p, EX_SOFTWARE, "curl_multi_add_handle failed");
}

/* A part S3 acknowledged: 0, or 1 if its ETag says the bytes differ. */
static int
check_part(struct put *p, struct slot *s, struct verdict *v)
{
	char hex[33];

	s3_hex(s->md5, 16, hex);
	/* Content-MD5 made S3 check the bytes; an ETag that is an MD5 must
	 * also be ours. */
	if (!parts_etag_ok(s->x.etag)) {
		v->exit = EX_PROTOCOL;
		snprintf(v->msg, sizeof v->msg, "bad ETag '%s'", s->x.etag);
		fail_upload(p, &s->x, v);
	}
	if (strlen(s->x.etag) == 32 && strcasecmp(s->x.etag, hex) != 0) {
		v->exit = EX_PROTOCOL;
		snprintf(v->msg, sizeof v->msg, "ETag %s, expected %s", s->x.etag, hex);
		return 1;
	}
	return 0;
}

static void
part_done(struct put *p, struct slot *s)
{
	if (parts_record(p, s->partno, s->len, s->md5, s->x.etag) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	p->st.bytes_out += s->len;
	p->st.records++;
	xfer_free(&s->x);
	pthread_mutex_lock(&p->pool.mu);
	s->state = S_FREE;
	pthread_cond_signal(&p->pool.cv);
	pthread_mutex_unlock(&p->pool.mu);
}

static void
part_retry(struct put *p, struct slot *s, struct verdict *v)
{
	p->nretries++;
	pthread_mutex_lock(&p->pool.mu);
	s->retry_at = stats_now_ns() + xfer_backoff_ns(s->attempts - 1);
	s->state = S_WAITING;
	pthread_mutex_unlock(&p->pool.mu);
	if (p->opt.verbose) {
		char w[256];

		report_progress_end(p);
		xfer_where(p, &s->x, w, sizeof w);
		warnx("%s: %s; retry in %.1f s", w, v->msg,
		    (double)(s->retry_at - stats_now_ns()) / 1e9);
	}
	xfer_free(&s->x);
}

/* Take the finished transfers; returns how many parts were acknowledged
 * (*any set if any transfer ended at all). */
static unsigned
collect_parts(struct put *p, int *inflight, int *any)
{
	CURLMsg *m;
	int msgs;
	unsigned done = 0;

	*any = 0;
	while ((m = curl_multi_info_read(p->pool.multi, &msgs)) != NULL) {
		struct slot *s = NULL;
		struct verdict v;
		struct xml_answer xml;
		int r;

		if (m->msg != CURLMSG_DONE)
			continue;
		/* Look again before waiting: this may free a slot or have
		 * been the last part, and nothing would wake the poll. */
		*any = 1;
		for (int i = 0; i < p->pool.n; i++)
			if (p->pool.slots[i].x.e == m->easy_handle)
				s = &p->pool.slots[i];
		if (s == NULL)
			continue;
		r = xfer_judge(p, &s->x, m->data.result, &v, &xml);
		curl_multi_remove_handle(p->pool.multi, s->x.e);
		(*inflight)--;
		if (r == 0)
			r = check_part(p, s, &v);
		if (r == 0) {
			part_done(p, s);
			done++;
			continue;
		}
		if (r < 0 || s->attempts > p->opt.retries) {
			if (r > 0) {
				size_t n = strlen(v.msg);

				snprintf(v.msg + n, sizeof v.msg - n,
				    " (%d attempts)", s->attempts);
			}
			fail_upload(p, &s->x, &v);
		}
		part_retry(p, s, &v);
	}
	return done;
}

static void
wait_turn(struct put *p, uint64_t next_retry)
{
	struct curl_waitfd wfd = { .fd = p->sigfd, .events = CURL_WAIT_POLLIN };
	int timeout = 500;

	if (next_retry) {
		uint64_t now = stats_now_ns();
		int ms = next_retry > now ? (int)((next_retry - now) / 1000000) + 1 : 0;

		if (ms < timeout)
			timeout = ms;
	}
	curl_multi_poll(p->pool.multi, &wfd, 1, timeout, NULL);
}

/* Read stdin to its end and store its parts.  Exits on failure. */
static enum mode
send_stream(struct put *p)
{
	enum mode mode = UNDECIDED;
	int inflight = 0, running, any;
	unsigned done = 0;
	struct scan sc;

	for (;;) {
		char msg[128];

		if (sig_caught) {
			snprintf(msg, sizeof msg, "interrupted by signal %d",
			    (int)sig_caught);
			fail_plain(p, mode, -1, msg);
		}
		scan_pool(p, mode, inflight, &sc);
		if (sc.rerr == EFBIG) {
			snprintf(msg, sizeof msg, "input larger than S3 allows "
			    "(%u parts, 5 TiB)", p->opt.max_parts);
			fail_plain(p, mode, EX_DATAERR, msg);
		}
		if (sc.rerr) {
			snprintf(msg, sizeof msg, "standard input: %s",
			    strerror(sc.rerr));
			fail_plain(p, mode, EX_IOERR, msg);
		}
		if (mode == UNDECIDED && sc.first != NULL &&
		    (sc.eof || sc.more || p->opt.prepare)) {
			if (sc.eof && sc.nready == 1 && !p->opt.prepare) {
				put_single(p, sc.first);
				return SINGLE;
			}
			create_upload(p);
			mode = MULTI;
			continue;
		}
		for (int i = 0; i < sc.ntodo; i++) {
			start_part(p, sc.todo[i]);
			inflight++;
		}
		if (mode == MULTI && sc.eof && sc.busy == 0) {
			p->nparts = done;
			return MULTI;
		}
		curl_multi_perform(p->pool.multi, &running);
		done += collect_parts(p, &inflight, &any);
		if (!any)
			wait_turn(p, sc.next_retry);
		show_progress(p, inflight, done);
	}
}

/*
 * The one-shot and --prepare runs.  Exits on failure through
 * report_exit, which aborts whatever upload it started, unless Complete
 * had been sent.
 */
void
upload_stream(struct put *p)
{
	enum mode mode;
	int rc;

	if (pool_start(p) != 0)
		report_fail(p, EX_OSERR, "cannot start the reader: %s", strerror(errno));
	mode = send_stream(p);
	pool_finish(p);
	report_progress_end(p);
	if (mode != MULTI)
		return;
	if (p->opt.prepare) {
		if (state_write(p, p->opt.prepare, PH_READY) != 0) {
			struct xfer x = { .op = OP_PART };
			struct verdict v = { .exit = EX_CANTCREAT };

			snprintf(v.msg, sizeof v.msg, "cannot write the state "
			    "file %s", p->opt.prepare);
			report_verdict(p, &x, &v);
			report_exit(p, EX_CANTCREAT);
		}
		p->keep_upload = 1;	/* left open on purpose */
		if (p->opt.verbose)
			warnx("%s: %u parts uploaded, upload %s left open; state "
			    "in %s", p->target.name, p->nparts, p->upload_id,
			    p->opt.prepare);
		return;
	}
	if ((rc = upload_complete(p)) < 0)
		report_exit(p, -rc);	/* never sent: the way out aborts */
	if (rc > 0) {
		warnx("%s: upload %s left open (Complete was sent, so it is "
		    "not aborted); moma-put --abort-uploads clears it", p->target.name,
		    p->upload_id);
		report_exit(p, rc);
	}
}
