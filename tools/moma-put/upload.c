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

enum mode { FAILED = -1, UNDECIDED, SINGLE, MULTI };

/* What one turn of the loop found in the pool. */
struct scan {
	struct slot *first, *todo[64];
	int ntodo, nready, busy, eof, more, rerr;
	uint64_t next_retry;
};

/* Record a failure that is not a request's (input, signal), named as
 * the upload's: -1.  send_stream then stops the pool; main() aborts. */
static int
fail_plain(struct put *p, enum mode mode, int code, const char *msg)
{
	struct xfer x = { .op = mode == MULTI ? OP_PART : OP_PUT };
	struct verdict v = { .exit = code };

	snprintf(v.msg, sizeof v.msg, "%s", msg);
	return report_verdict(p, &x, &v);
}

/* After Complete was sent and its outcome is unknown: is the object at
 * the key the one these parts make?  1 if so, 0 if not, -1 out of
 * memory (recorded). */
static int
already_completed(struct put *p)
{
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	int r;

	if (xfer_init(p, &x, OP_HEAD, 0, p->target.url, NULL, 0,
	    s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256)) != 0) {
		xfer_free(&x);
		return report_fail(p, EX_OSERR, "out of memory");
	}
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
 * lost or said NoSuchUpload); otherwise -1 with p->fail recorded, and
 * the upload kept (p->keep_upload) for a later --complete (or --abort)
 * unless Complete was never sent (nothing reached S3): then aborting is
 * safe, and keep_upload is what it was.
 */
int
upload_complete(struct put *p)
{
	char *body = NULL, *url, sha[65];
	size_t len;
	struct curl_slist *h;
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	uint64_t t0 = stats_now_ns();
	int rc = 0, keep = p->keep_upload, done;

	if (parts_etag(p->parts, p->nparts, p->etag, sizeof p->etag) != 0 ||
	    (body = parts_complete_body(p, &len)) == NULL ||
	    s3_sha256_hex(body, len, sha) != 0) {
		free(body);
		return report_fail(p, EX_OSERR, "Complete: out of memory, or no MD5 "
		    "or SHA-256 in libcrypto");
	}
	h = s3_base_headers(NULL, &p->conf, sha);
	if (h != NULL)
		h = s3_header(h, "Content-Type", "application/xml");
	url = xfer_url(p, OP_COMPLETE, 0, p->upload_id);
	rc = xfer_init(p, &x, OP_COMPLETE, 0, url, body, len, h);
	free(url);
	if (rc != 0) {
		xfer_free(&x);
		free(body);
		return report_fail(p, EX_OSERR, "out of memory");
	}
	/* The commit point: from here the way out never aborts the upload. */
	p->keep_upload = 1;
	if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0) {
		if (!x.sent && strcmp(v.code, "NoSuchUpload") != 0) {
			p->keep_upload = keep;	/* never sent: nothing reached S3 */
			v.exit = v.exit > 0 ? v.exit : EX_UNAVAILABLE;
			rc = report_verdict(p, &x, &v);
		} else if ((done = already_completed(p)) != 0)
			rc = done > 0 ? 0 : -1;
		else {
			v.exit = v.exit > 0 ? v.exit : EX_TEMPFAIL;
			if (strcmp(v.code, "NoSuchUpload") == 0)
				snprintf(v.msg + strlen(v.msg), sizeof v.msg -
				    strlen(v.msg), " (upload %s was aborted or "
				    "expired)", p->upload_id);
			rc = report_verdict(p, &x, &v);
		}
	} else if (strchr(xml.etag, '-') != NULL && strcmp(xml.etag, p->etag) != 0) {
		/* S3 assembled other bytes than the ones we sent: the object
		 * is there, but say so and fail. */
		v.exit = EX_PROTOCOL;
		snprintf(v.msg, sizeof v.msg, "ETag %s, expected %s", xml.etag, p->etag);
		rc = report_verdict(p, &x, &v);
	}
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

/* The whole input fits in one part: one PutObject.  0, or -1 (recorded). */
static int
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
	if (xfer_init(p, &x, OP_PUT, 0, p->target.url, s->buf, s->len, h) != 0) {
		xfer_free(&x);
		return report_fail(p, EX_OSERR, "out of memory");
	}
	if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0) {
		report_verdict(p, &x, &v);
		xfer_free(&x);
		return -1;
	}
	xfer_free(&x);
	p->st.records = 1;
	p->st.bytes_out = s->len;
	p->nparts = 1;
	return 0;
}

/* CreateMultipartUpload, and the state file that names the upload.  0,
 * or -1 (recorded). */
static int
create_upload(struct put *p)
{
	char *url = xfer_url(p, OP_CREATE, 0, NULL);
	struct curl_slist *h = s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256);
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	int r;

	if (h != NULL)
		h = s3_header(h, "Content-Type", p->opt.content_type);
	if (h != NULL)
		h = s3_object_headers(h, &p->conf);
	h = s3_meta_headers(h, p->opt.meta, p->opt.nmeta);
	r = xfer_init(p, &x, OP_CREATE, 0, url, NULL, 0, h);
	free(url);
	if (r != 0)
		r = report_fail(p, EX_OSERR, "out of memory");
	else if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0)
		r = report_verdict(p, &x, &v);
	else if ((p->upload_id = strdup(xml.upload_id)) == NULL)
		r = report_fail(p, EX_OSERR, "out of memory");
	xfer_free(&x);
	if (r != 0)
		return -1;
	if (p->opt.verbose)
		warnx("%s: upload %s", p->target.name, p->upload_id);
	/* From here a kill -9 leaves an upload: name it in the state file
	 * at once, so --abort STATE can clear it.  (x, freed, names the
	 * failure as it always has.) */
	if (p->opt.prepare && state_write(p, p->opt.prepare, PH_UPLOADING) != 0) {
		struct verdict w = { .exit = EX_CANTCREAT };

		snprintf(w.msg, sizeof w.msg, "cannot write the state file %s",
		    p->opt.prepare);
		return report_verdict(p, &x, &w);
	}
	return 0;
}

/* Put part s on the multi handle: 0, or -1 (recorded). */
static int
start_part(struct put *p, struct slot *s)
{
	struct curl_slist *h = s3_base_headers(NULL, &p->conf, "UNSIGNED-PAYLOAD");
	char *url;

	if (h != NULL)
		h = s3_header(h, "Content-MD5", s->md5_b64);
	url = xfer_url(p, OP_PART, s->partno, p->upload_id);
	if (xfer_init(p, &s->x, OP_PART, s->partno, url, s->buf, s->len, h) != 0) {
		free(url);
		return report_fail(p, EX_OSERR, "out of memory");
	}
	free(url);
	xfer_rewind(&s->x);
	p->nrequests++;
	s->attempts++;
	if (curl_multi_add_handle(p->pool.multi, s->x.e) != CURLM_OK)
		return report_fail(p, EX_SOFTWARE, "curl_multi_add_handle failed");
	return 0;
}

/* A part S3 acknowledged: 0, 1 if its ETag says the bytes differ (to
 * retry), -1 if the ETag is not one at all (v says why). */
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
		return -1;
	}
	if (strlen(s->x.etag) == 32 && strcasecmp(s->x.etag, hex) != 0) {
		v->exit = EX_PROTOCOL;
		snprintf(v->msg, sizeof v->msg, "ETag %s, expected %s", s->x.etag, hex);
		return 1;
	}
	return 0;
}

static int
part_done(struct put *p, struct slot *s)
{
	if (parts_record(p, s->partno, s->len, s->md5, s->x.etag) != 0)
		return report_fail(p, EX_OSERR, "out of memory");
	p->st.bytes_out += s->len;
	p->st.records++;
	xfer_free(&s->x);
	pthread_mutex_lock(&p->pool.mu);
	s->state = S_FREE;
	pthread_cond_signal(&p->pool.cv);
	pthread_mutex_unlock(&p->pool.mu);
	return 0;
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

/* Take the finished transfers, adding the parts acknowledged to *done
 * (*any set if any transfer ended at all).  0, or -1 (recorded). */
static int
collect_parts(struct put *p, int *inflight, int *any, unsigned *done)
{
	CURLMsg *m;
	int msgs;

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
			if (part_done(p, s) != 0)
				return -1;
			(*done)++;
			continue;
		}
		if (r < 0 || s->attempts > p->opt.retries) {
			if (r > 0) {
				size_t n = strlen(v.msg);

				snprintf(v.msg + n, sizeof v.msg - n,
				    " (%d attempts)", s->attempts);
			}
			return report_verdict(p, &s->x, &v);
		}
		part_retry(p, s, &v);
	}
	return 0;
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

/* What stops the loop: a signal, or the reader's failure.  0, or -1
 * (recorded). */
static int
check_stop(struct put *p, enum mode mode, int rerr)
{
	char msg[128];

	if (sig_caught) {
		snprintf(msg, sizeof msg, "interrupted by signal %d", (int)sig_caught);
		return fail_plain(p, mode, -1, msg);
	}
	if (rerr == EFBIG) {
		snprintf(msg, sizeof msg, "input larger than S3 allows "
		    "(%u parts, 5 TiB)", p->opt.max_parts);
		return fail_plain(p, mode, EX_DATAERR, msg);
	}
	if (rerr == ENOMEM)	/* a part buffer or a digest */
		return fail_plain(p, mode, EX_OSERR, "out of memory");
	if (rerr) {
		snprintf(msg, sizeof msg, "standard input: %s", strerror(rerr));
		return fail_plain(p, mode, EX_IOERR, msg);
	}
	return 0;
}

/* Read stdin to its end and store its parts: SINGLE or MULTI, or FAILED
 * (recorded). */
static enum mode
send_loop(struct put *p)
{
	enum mode mode = UNDECIDED;
	int inflight = 0, running, any;
	unsigned done = 0;
	struct scan sc;

	for (;;) {
		/* The reader thread hands its failure over in pool.rerr. */
		scan_pool(p, mode, inflight, &sc);
		if (check_stop(p, mode, sc.rerr) != 0)
			return FAILED;
		if (mode == UNDECIDED && sc.first != NULL &&
		    (sc.eof || sc.more || p->opt.prepare)) {
			if (sc.eof && sc.nready == 1 && !p->opt.prepare)
				return put_single(p, sc.first) == 0 ? SINGLE : FAILED;
			if (create_upload(p) != 0)
				return FAILED;
			mode = MULTI;
			continue;
		}
		for (int i = 0; i < sc.ntodo; i++) {
			if (start_part(p, sc.todo[i]) != 0)
				return FAILED;
			inflight++;
		}
		if (mode == MULTI && sc.eof && sc.busy == 0) {
			p->nparts = done;
			return MULTI;
		}
		curl_multi_perform(p->pool.multi, &running);
		if (collect_parts(p, &inflight, &any, &done) != 0)
			return FAILED;
		if (!any)
			wait_turn(p, sc.next_retry);
		show_progress(p, inflight, done);
	}
}

/*
 * The one-shot and --prepare runs.  0, or -1 with p->fail recorded; the
 * reader is then told to stop but not joined (it may wait on stdin), and
 * main() aborts the upload unless Complete was sent.
 */
int
upload_stream(struct put *p)
{
	enum mode mode;

	if (pool_start(p) != 0)
		return report_fail(p, EX_OSERR, "cannot start the reader: %s",
		    strerror(errno));
	if ((mode = send_loop(p)) == FAILED) {
		pool_stop(p);
		return -1;
	}
	pool_finish(p);
	report_progress_end(p);
	if (mode != MULTI)
		return 0;
	if (p->opt.prepare) {
		if (state_write(p, p->opt.prepare, PH_READY) != 0) {
			struct xfer x = { .op = OP_PART };
			struct verdict v = { .exit = EX_CANTCREAT };

			snprintf(v.msg, sizeof v.msg, "cannot write the state "
			    "file %s", p->opt.prepare);
			return report_verdict(p, &x, &v);
		}
		p->keep_upload = 1;	/* left open on purpose */
		if (p->opt.verbose)
			warnx("%s: %u parts uploaded, upload %s left open; state "
			    "in %s", p->target.name, p->nparts, p->upload_id,
			    p->opt.prepare);
		return 0;
	}
	if (upload_complete(p) == 0)
		return 0;
	if (p->keep_upload)	/* Complete was sent */
		report_fail(p, 0, "%s: upload %s left open (Complete was sent, so it "
		    "is not aborted); moma-put --abort-uploads clears it",
		    p->target.name, p->upload_id);
	return -1;
}
