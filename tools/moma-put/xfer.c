/*
 * xfer.c - one S3 request: its libcurl handle and callbacks, the verdict
 * on its answer, synchronous retries with backoff, request URLs, and
 * where a failed request is ("s3://b/k: part 3: UploadPart").  No exit:
 * a request's failure is a verdict for the caller.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "put.h"

#define BACKOFF_BASE_NS	200000000ull		/* 0.2 s, doubled per attempt */
#define BACKOFF_CAP_NS	10000000000ull		/* 10 s */

/* By enum op (put.h), which has one name more than this table had: a
 * failed --get read past its end. */
static const char *const opname[OP_GET + 1] = {
	[OP_PUT] = "PutObject", [OP_CREATE] = "CreateMultipartUpload",
	[OP_PART] = "UploadPart", [OP_COMPLETE] = "CompleteMultipartUpload",
	[OP_ABORT] = "AbortMultipartUpload", [OP_HEAD] = "HeadObject",
	[OP_LIST] = "ListMultipartUploads", [OP_COPY] = "CopyObject",
	[OP_GET] = "GetObject",
};

uint64_t
xfer_backoff_ns(int attempt)
{
	uint64_t cap = BACKOFF_BASE_NS << (attempt < 16 ? attempt : 16);

	if (cap > BACKOFF_CAP_NS)
		cap = BACKOFF_CAP_NS;
	/* "Full jitter": uniform in [cap/4, cap], so clients that failed
	 * together do not retry together. */
	return cap / 4 + (uint64_t)(drand48() * (double)(cap - cap / 4));
}

/* Sleep ns, returning early (-1) when a signal arrives. */
int
xfer_nap(uint64_t ns)
{
	uint64_t end = stats_now_ns() + ns, now;

	while ((now = stats_now_ns()) < end) {
		uint64_t d = end - now < 50000000 ? end - now : 50000000;
		struct timespec ts = { 0, (long)d };

		if (sig_caught)
			return -1;
		nanosleep(&ts, NULL);
	}
	return sig_caught ? -1 : 0;
}

/* ---- callbacks ---------------------------------------------------------- */

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, left = x->body_len - x->body_off;

	if (n > left)
		n = left;
	memcpy(buf, x->body + x->body_off, n);
	x->body_off += n;
	return n;
}

static int
seek_cb(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (x->resp_overflow || n > RESP_MAX - x->resp_len) {
		x->resp_overflow = 1;
		return n;
	}
	if (x->resp_len + n + 1 > x->resp_cap) {
		size_t cap = x->resp_cap ? x->resp_cap : 4096;
		char *r;

		while (cap < x->resp_len + n + 1)
			cap *= 2;
		if ((r = realloc(x->resp, cap)) == NULL)
			return 0;	/* curl reports a write error */
		x->resp = r;
		x->resp_cap = cap;
	}
	memcpy(x->resp + x->resp_len, ptr, n);
	x->resp_len += n;
	x->resp[x->resp_len] = '\0';
	return n;
}

static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, i, j = 0;

	if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0) {
		for (i = 5; i < n && j + 1 < sizeof x->etag; i++)
			if (ptr[i] != ' ' && ptr[i] != '"' && ptr[i] != '\r' &&
			    ptr[i] != '\n' && ptr[i] != '\t')
				x->etag[j++] = ptr[i];
		x->etag[j] = '\0';
	}
	if (x->keep_headers && n > 2 && n < 8192) {
		char line[8192];
		struct curl_slist *l;

		memcpy(line, ptr, n);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
			n--;
		line[n] = '\0';
		if ((l = curl_slist_append(x->resp_hdrs, line)) != NULL)
			x->resp_hdrs = l;
	}
	return size * nmemb;
}

/* A request marked interruptible stops at a signal.  Complete is not:
 * it may already be applied, so it gets COMPLETE_GRACE_S to finish. */
static int
xferinfo_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ud;
	struct timespec ts;

	if (!sig_caught)
		return 0;
	if (x->interruptible)
		return 1;
	if (x->op != OP_COMPLETE)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec - sig_at_s > COMPLETE_GRACE_S;
}

/*
 * Renew temporary credentials that expire within 5 minutes, before a
 * request is built or sent again.  A failure is only a warning: the old
 * credentials may still work, and the server says when they do not.
 */
static void
refresh_creds(struct put *p)
{
	char e[S3_ERR_LEN];
	int r = s3_conf_refresh(&p->conf, e, sizeof e);

	if (r < 0)
		warnx("credentials: %s", e);
	else if (r > 0 && p->opt.verbose)
		warnx("credentials renewed: %s", p->conf.creds.desc);
}

/* The value of response header name (kept with keep_headers), or NULL. */
const char *
xfer_header(const struct xfer *x, const char *name)
{
	size_t n = strlen(name);

	for (const struct curl_slist *l = x->resp_hdrs; l; l = l->next)
		if (strncasecmp(l->data, name, n) == 0 && l->data[n] == ':') {
			const char *v = l->data + n + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	return NULL;
}

void
xfer_free(struct xfer *x)
{
	if (x->e != NULL)
		curl_easy_cleanup(x->e);
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->resp_hdrs);
	free(x->resp);
	memset(x, 0, sizeof *x);
}

/*
 * Prepare request op on url.  body (len bytes) is sent by PutObject,
 * UploadPart and Complete; it must outlive the request.  hdrs (owned by
 * x from now on) are the request's own headers.  url or hdrs NULL (a
 * failed allocation) fails.  0, or -1 when out of memory (only a lack of
 * memory makes curl refuse an option); x is then still for xfer_free.
 */
int
xfer_init(struct put *p, struct xfer *x, enum op op, unsigned partno,
    const char *url, const void *body, size_t len, struct curl_slist *hdrs)
{
	CURLcode rc = CURLE_OK;

	memset(x, 0, sizeof *x);
	x->op = op;
	x->partno = partno;
	x->body = body;
	x->body_len = len;
	x->hdrs = hdrs;
	x->interruptible = op != OP_ABORT && op != OP_COMPLETE;
	x->keep_headers = op == OP_HEAD;
	refresh_creds(p);
	if (url == NULL || hdrs == NULL || (x->e = curl_easy_init()) == NULL ||
	    s3_easy_setup(x->e, &p->conf) != 0)
		return -1;
#define SET(o, v) if (rc == CURLE_OK) rc = curl_easy_setopt(x->e, o, v)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_HTTPHEADER, x->hdrs);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	SET(CURLOPT_XFERINFODATA, x);
	/* The current keys and session token on the handle (the headers
	 * were built before a renewal could happen). */
	if (rc == CURLE_OK && s3_easy_creds(x->e, &x->hdrs, &p->conf) != 0)
		rc = CURLE_OUT_OF_MEMORY;
	switch (op) {
	case OP_PUT:
	case OP_PART:
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
		SET(CURLOPT_READFUNCTION, read_cb);
		SET(CURLOPT_READDATA, x);
		SET(CURLOPT_SEEKFUNCTION, seek_cb);
		SET(CURLOPT_SEEKDATA, x);
		SET(CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
		break;
	case OP_CREATE:
	case OP_COMPLETE:
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		SET(CURLOPT_POSTFIELDS, len ? (const char *)body : "");
		break;
	case OP_ABORT:
		SET(CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	case OP_HEAD:
		SET(CURLOPT_NOBODY, 1L);
		break;
	case OP_COPY:
		SET(CURLOPT_CUSTOMREQUEST, "PUT");
		break;
	case OP_LIST:
	case OP_GET:
		break;
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

void
xfer_rewind(struct xfer *x)
{
	x->body_off = 0;
	x->resp_len = 0;
	x->resp_overflow = 0;
	x->etag[0] = '\0';
	x->errbuf[0] = '\0';
	curl_slist_free_all(x->resp_hdrs);
	x->resp_hdrs = NULL;
}

/* ---- verdicts ----------------------------------------------------------- */

static int
retryable_code(const char *c)
{
	static const char *const codes[] = {
		"SlowDown", "InternalError", "ServiceUnavailable",
		"RequestTimeout", "BadDigest", "OperationAborted",
	};

	for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
		if (strcmp(c, codes[i]) == 0)
			return 1;
	return 0;
}

/* Does host:port of an http:// endpoint complete a TLS handshake? */
static int
speaks_tls(const char *endpoint)
{
	char *url = NULL;
	CURL *e;
	int yes = 0;

	if (strncmp(endpoint, "http://", 7) != 0 ||
	    asprintf(&url, "https://%s/", endpoint + 7) < 0 ||
	    (e = curl_easy_init()) == NULL) {
		free(url);
		return 0;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	yes = curl_easy_perform(e) == CURLE_OK;
	curl_easy_cleanup(e);
	free(url);
	return yes;
}

/*
 * A TLS endpoint spoken to in plain http, or the reverse, is a
 * configuration error: say so at once instead of retrying it.  A plain
 * request to a TLS port reads as a reset or a non-HTTP answer: a TLS
 * handshake with the same port, once, tells them apart.
 */
static int
scheme_mismatch(struct put *p, const struct xfer *x, CURLcode rc, struct verdict *v)
{
	static int probed;
	const char *ep = p->conf.endpoint ? p->conf.endpoint : "https://(AWS)";

	if (rc == CURLE_SSL_CONNECT_ERROR && strstr(x->errbuf, "wrong version number")) {
		snprintf(v->msg, sizeof v->msg, "endpoint %s: the server does "
		    "not speak TLS (%s); is it an http:// endpoint?", ep, x->errbuf);
		return 1;
	}
	if (p->conf.endpoint != NULL && !probed && (rc == CURLE_RECV_ERROR ||
	    rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	    rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_UNSUPPORTED_PROTOCOL)) {
		probed = 1;
		if (speaks_tls(p->conf.endpoint)) {
			snprintf(v->msg, sizeof v->msg, "endpoint %s: the server "
			    "speaks TLS; is it an https:// endpoint?", ep);
			return 1;
		}
	}
	if ((rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_WEIRD_SERVER_REPLY) &&
	    strstr(x->errbuf, "HTTP/0.9") != NULL) {
		snprintf(v->msg, sizeof v->msg, "endpoint %s: the server did "
		    "not answer in HTTP (%s); is it an https:// endpoint?", ep,
		    x->errbuf);
		return 1;
	}
	return 0;
}

static int
judge_curl(struct put *p, struct xfer *x, CURLcode rc, struct verdict *v)
{
	snprintf(v->msg, sizeof v->msg, "%s%s%s", curl_easy_strerror(rc),
	    x->errbuf[0] ? ": " : "", x->errbuf);
	if (scheme_mismatch(p, x, rc, v)) {
		v->exit = EX_CONFIG;
		return -1;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		v->exit = EX_UNAVAILABLE;
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		v->exit = EX_TEMPFAIL;
		return 1;
	case CURLE_ABORTED_BY_CALLBACK:
		v->exit = EX_TEMPFAIL;
		snprintf(v->msg, sizeof v->msg, "no answer %d s after signal %d",
		    COMPLETE_GRACE_S, (int)sig_caught);
		return -1;
	case CURLE_OUT_OF_MEMORY:
		v->exit = EX_OSERR;	/* 71, as everywhere */
		return -1;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		v->exit = EX_UNAVAILABLE;
		return -1;
	default:
		v->exit = EX_SOFTWARE;
		return -1;
	}
}

/* A 2xx answer: Create must name an upload, Complete may hide an error. */
static int
judge_2xx(struct xfer *x, long http, int parsed, struct verdict *v,
    struct xml_answer *xml)
{
	if (x->op == OP_CREATE && (!parsed || xml->upload_id[0] == '\0')) {
		v->exit = EX_PROTOCOL;
		snprintf(v->msg, sizeof v->msg, "HTTP %ld without an UploadId", http);
		return -1;
	}
	if (x->op != OP_COMPLETE && x->op != OP_COPY)
		return 0;
	/* S3 answers 200 before it finishes, then reports trouble in the
	 * body. */
	if (!parsed) {
		v->exit = EX_TEMPFAIL;
		snprintf(v->msg, sizeof v->msg, "HTTP %ld with %s body", http,
		    x->resp_overflow ? "an oversized" :
		    x->resp_len ? "a malformed" : "an empty");
		return 1;
	}
	if (strcmp(xml->root, "Error") != 0)
		return 0;
	snprintf(v->code, sizeof v->code, "%s", xml->code);
	snprintf(v->msg, sizeof v->msg, "HTTP %ld but %s: %s", http, xml->code,
	    xml->message);
	v->exit = retryable_code(xml->code) ? EX_TEMPFAIL :
	    strcmp(xml->code, "NoSuchUpload") == 0 ? EX_UNAVAILABLE : EX_PROTOCOL;
	return retryable_code(xml->code) ? 1 : -1;
}

/*
 * Judge a finished request: 0 success, 1 worth retrying, -1 failed for
 * good.  Fills v (and xml, when the answer is XML) unless success.
 */
int
xfer_judge(struct put *p, struct xfer *x, CURLcode rc, struct verdict *v,
    struct xml_answer *xml)
{
	long http = 0, reqsize = 0;
	int parsed;

	memset(v, 0, sizeof *v);
	memset(xml, 0, sizeof *xml);
	if (curl_easy_getinfo(x->e, CURLINFO_REQUEST_SIZE, &reqsize) == CURLE_OK &&
	    reqsize > 0)
		x->sent = 1;
	if (rc == CURLE_ABORTED_BY_CALLBACK && sig_caught && x->interruptible) {
		v->exit = -1;
		snprintf(v->msg, sizeof v->msg, "interrupted by signal %d",
		    (int)sig_caught);
		return -1;
	}
	if (rc != CURLE_OK)
		return judge_curl(p, x, rc, v);
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &http);
	parsed = x->resp_len > 0 && !x->resp_overflow &&
	    xml_answer_parse(x->resp, x->resp_len, xml) == 0;
	if (http >= 200 && http < 300)
		return judge_2xx(x, http, parsed, v, xml);
	if (parsed && xml->code[0] != '\0') {
		snprintf(v->code, sizeof v->code, "%s", xml->code);
		snprintf(v->msg, sizeof v->msg, "HTTP %ld %s: %s", http,
		    xml->code, xml->message);
	} else
		snprintf(v->msg, sizeof v->msg, "HTTP %ld", http);
	if (http == 401 || http == 403)
		v->exit = EX_NOPERM;
	else if (http == 404)
		v->exit = EX_UNAVAILABLE;
	else if (http >= 500 || http == 429 || http == 408)
		v->exit = EX_TEMPFAIL;
	else
		v->exit = EX_PROTOCOL;
	if (http >= 500 || http == 429 || http == 408 ||
	    (parsed && retryable_code(xml->code)))
		return 1;
	return -1;
}

void
xfer_where(const struct put *p, const struct xfer *x, char *buf, size_t len)
{
	const char *name = p->target.name ? p->target.name : "moma-put";

	if (x->partno)
		snprintf(buf, len, "%s: part %u: %s", name, x->partno, opname[x->op]);
	else
		snprintf(buf, len, "%s: %s", name, opname[x->op]);
}

/*
 * Perform x until it succeeds, fails for good, or has been tried
 * `attempts` times, sleeping a jittered, growing delay between tries.
 * 0 on success; -1 with v filled otherwise.
 */
int
xfer_run(struct put *p, struct xfer *x, int attempts, struct verdict *v,
    struct xml_answer *xml)
{
	char w[256];

	for (int a = 1;; a++) {
		int r;
		uint64_t d;

		xfer_rewind(x);
		if (a > 1) {
			/* A retry reuses the handle: renewed keys go on it. */
			refresh_creds(p);
			if (s3_easy_creds(x->e, &x->hdrs, &p->conf) != 0) {
				memset(v, 0, sizeof *v);
				v->exit = EX_OSERR;
				snprintf(v->msg, sizeof v->msg, "out of memory");
				return -1;
			}
		}
		p->nrequests++;
		r = xfer_judge(p, x, curl_easy_perform(x->e), v, xml);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
		/* A signalled Complete is not tried again: the caller keeps
		 * the state for a later --complete. */
		if (a >= attempts || (sig_caught && x->op == OP_COMPLETE)) {
			size_t n = strlen(v->msg);

			snprintf(v->msg + n, sizeof v->msg - n, " (%d attempts)", a);
			return -1;
		}
		p->nretries++;
		d = xfer_backoff_ns(a - 1);
		if (p->opt.verbose) {
			xfer_where(p, x, w, sizeof w);
			warnx("%s: %s; retry in %.1f s", w, v->msg, (double)d / 1e9);
		}
		if (xfer_nap(d) != 0 && x->interruptible) {
			v->exit = -1;
			snprintf(v->msg, sizeof v->msg, "interrupted by signal %d",
			    (int)sig_caught);
			return -1;
		}
	}
}

/*
 * The URL of op on the target: query parameters sorted and each with '='
 * (curl signs the query as written, and S3 wants the canonical form).
 * Malloc'd, or NULL when out of memory.
 */
char *
xfer_url(struct put *p, enum op op, unsigned partno, const char *upload_id)
{
	char *id = upload_id ? s3_uri_encode(upload_id, 0) : NULL, *u = NULL;
	int n;

	if (upload_id && id == NULL)
		return NULL;
	switch (op) {
	case OP_CREATE:
		n = asprintf(&u, "%s?uploads=", p->target.url);
		break;
	case OP_PART:
		n = asprintf(&u, "%s?partNumber=%u&uploadId=%s", p->target.url,
		    partno, id);
		break;
	case OP_COMPLETE:
	case OP_ABORT:
		n = asprintf(&u, "%s?uploadId=%s", p->target.url, id);
		break;
	default:
		n = asprintf(&u, "%s", p->target.url);
		break;
	}
	free(id);
	return n < 0 ? NULL : u;
}
