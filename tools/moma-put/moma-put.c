/*
 * moma-put - read standard input to its end and store it as one S3 object.
 *
 * A reader thread fills a fixed pool of jobs + 1 part buffers from stdin
 * (and computes each part's MD5 there, on the second core); the main
 * thread drives up to `jobs` UploadPart requests at once through one
 * libcurl multi handle.  A part's buffer returns to the pool only when S3
 * has acknowledged it, so a retry resends from memory and memory stays at
 * (jobs + 1) x part size.  Input that fits in one part goes as a single
 * PutObject.  Any failure or SIGINT/SIGTERM aborts the multipart upload.
 *
 * Two-phase mode (--prepare STATE) uploads every part but leaves the
 * upload open, writing what --complete STATE or --abort STATE needs.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "num.h"
#include "s3.h"
#include "stats.h"

#define MIB		(1024ull * 1024)
#define GIB		(1024ull * MIB)
#define PART_MIN	(5 * MIB)		/* S3: all parts but the last */
#define PART_MAX	(5 * GIB)
#define OBJECT_MAX	(5 * 1024 * GIB)	/* S3: 5 TiB */
#define PARTS_MAX	10000
#define RESP_MAX	(1u << 20)		/* an S3 answer larger is an error */
#define READ_MAX	(1u << 20)		/* one read(2): MD5 it while cached */
#define BACKOFF_BASE_NS	200000000ull		/* 0.2 s, doubled per attempt */
#define BACKOFF_CAP_NS	10000000000ull		/* 10 s */

enum op { OP_PUT, OP_CREATE, OP_PART, OP_COMPLETE, OP_ABORT, OP_HEAD };
static const char *const opname[] = {
	"PutObject", "CreateMultipartUpload", "UploadPart",
	"CompleteMultipartUpload", "AbortMultipartUpload", "HeadObject",
};

/* One HTTP request, reused across its retries. */
struct xfer {
	CURL *e;
	struct curl_slist *hdrs;
	enum op op;
	unsigned partno;		/* 0: object-level request */
	const uint8_t *body;
	size_t body_len, body_off;
	char *resp;
	size_t resp_len, resp_cap;
	int resp_overflow;
	int interruptible;		/* a signal cancels it */
	char etag[128];			/* ETag response header, unquoted */
	char errbuf[CURL_ERROR_SIZE];
};

/* Why a request did not succeed. */
struct verdict {
	int exit;			/* sysexits code; -1: interrupted */
	char code[64];			/* S3 error code, if any */
	char msg[768];
};

enum slot_state { S_FREE, S_FILLING, S_READY, S_SENDING, S_WAITING };

/* One part buffer of the pool. */
struct slot {
	uint8_t *buf;
	size_t cap, len;
	enum slot_state state;
	unsigned partno;
	unsigned char md5[16];
	char md5_b64[32];
	struct xfer x;
	int attempts;
	uint64_t retry_at;
};

/* What the reader thread and the main thread share, under mu. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot *slots;
	int n;
	unsigned next_partno;
	int eof, rerr, more, stop;
	uint64_t bytes_in, blocked_in_ns, blocked_out_ns;
	CURLM *multi;
};

/* What Complete needs of each acknowledged part. */
struct partinfo {
	uint64_t size;
	unsigned char md5[16];
	char etag[72];
};

static struct {
	int jobs, retries, verbose, stats;
	uint64_t part_size;
	unsigned max_parts;
	const char *prepare, *complete, *abort;
	const char *profile, *region, *endpoint, *content_type;
	const char *sse, *sse_kms_key_id, *storage_class;
	int insecure, path_style;
} opt = { .jobs = 4, .retries = 6, .part_size = 8 * MIB, .max_parts = PARTS_MAX };

static struct s3_conf conf;
static struct s3_target target;
static struct stats st;
static uint64_t nrequests, nretries;
static volatile sig_atomic_t got_signal;
static int sigpipe_fd[2] = { -1, -1 };
static int progress_shown;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: moma-put [-hkv] [-j jobs] [-p part-size] [-r retries] "
	    "[--content-type type]\n"
	    "                [--endpoint-url url] [--path-style] [--profile name] "
	    "[--region region]\n"
	    "                [--sse AES256|aws:kms] [--sse-kms-key-id id] "
	    "[--storage-class class]\n"
	    "                [--stats] [--prepare state] s3://bucket/key\n"
	    "       moma-put [-kv] [-r retries] [--stats] "
	    "--complete state | --abort state\n");
	exit(EX_USAGE);
}

/* ---- small helpers ----------------------------------------------------- */

static void
on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (sigpipe_fd[1] >= 0)
		(void)!write(sigpipe_fd[1], "", 1);
	errno = saved;
}

static uint64_t
backoff_ns(int attempt)
{
	uint64_t cap = BACKOFF_BASE_NS << (attempt < 16 ? attempt : 16);

	if (cap > BACKOFF_CAP_NS)
		cap = BACKOFF_CAP_NS;
	/* "Full jitter": uniform in [cap/4, cap], so clients that failed
	 * together do not retry together. */
	return cap / 4 + (uint64_t)(drand48() * (double)(cap - cap / 4));
}

/* Sleep ns, returning early (-1) when a signal arrives. */
static int
nap(uint64_t ns)
{
	uint64_t end = stats_now_ns() + ns, now;

	while ((now = stats_now_ns()) < end) {
		uint64_t d = end - now < 50000000 ? end - now : 50000000;
		struct timespec ts = { 0, (long)d };

		if (got_signal)
			return -1;
		nanosleep(&ts, NULL);
	}
	return got_signal ? -1 : 0;
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = MIB; end++; break;
	case 'g': case 'G': mul = GIB; end++; break;
	case '\0': break;
	default: return -1;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static long
parse_num(const char *s, const char *what, long lo, long hi)
{
	uint64_t v;

	if (num_parse(s, 0, (uint64_t)lo, (uint64_t)hi, &v) != 0) {
		warnx("%s '%s': expected an integer from %ld to %ld", what, s, lo, hi);
		usage();
	}
	return (long)v;
}

/*
 * Part size for part n (1-based): the base size, doubled every
 * max_parts / 11 parts, capped at 5 GiB.  With max_parts = 10,000 and the
 * 5 MiB minimum the parts can hold 909 x 5 MiB x (2^11 - 1) = 8.9 TiB, so
 * a stream of unknown length up to S3's 5 TiB never runs out of parts.
 */
static uint64_t
part_size_for(unsigned n)
{
	unsigned per_tier = opt.max_parts / 11 ? opt.max_parts / 11 : 1;
	unsigned tier = (n - 1) / per_tier;
	uint64_t sz = opt.part_size;

	while (tier-- > 0 && sz < PART_MAX)
		sz *= 2;
	return sz < PART_MAX ? sz : PART_MAX;
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];
	unsigned int len = 32;

	if (!EVP_Digest(p, n, d, &len, EVP_sha256(), NULL))
		errx(EX_SOFTWARE, "SHA-256 unavailable in libcrypto");
	s3_hex(d, 32, out);
}

/* An ETag we put back into XML must be plain: hex digits and '-'. */
static int
etag_ok(const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof ((struct partinfo *)0)->etag)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		    (*s >= 'A' && *s <= 'F') || *s == '-'))
			return 0;
	return 1;
}

/* ---- one request ------------------------------------------------------- */

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
write_cb(char *p, size_t size, size_t nmemb, void *ud)
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
	memcpy(x->resp + x->resp_len, p, n);
	x->resp_len += n;
	x->resp[x->resp_len] = '\0';
	return n;
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, i, j = 0;

	if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		for (i = 5; i < n && j + 1 < sizeof x->etag; i++)
			if (p[i] != ' ' && p[i] != '"' && p[i] != '\r' &&
			    p[i] != '\n' && p[i] != '\t')
				x->etag[j++] = p[i];
		x->etag[j] = '\0';
	}
	return n;
}

static int
xferinfo_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = ud;

	return x->interruptible && got_signal ? 1 : 0;
}

/*
 * Renew temporary credentials that expire within 5 minutes, before a
 * request is built or sent again.  A failure is only a warning: the old
 * credentials may still work, and the server says when they do not.
 */
static void
refresh_creds(void)
{
	char e[S3_ERR_LEN];
	int r = s3_conf_refresh(&conf, e, sizeof e);

	if (r < 0)
		warnx("credentials: %s", e);
	else if (r > 0 && opt.verbose)
		warnx("credentials renewed: %s", conf.creds.desc);
}

static void
xfer_free(struct xfer *x)
{
	if (x->e != NULL)
		curl_easy_cleanup(x->e);
	curl_slist_free_all(x->hdrs);
	free(x->resp);
	memset(x, 0, sizeof *x);
}

/*
 * Prepare request op on url.  body (len bytes) is sent by PutObject,
 * UploadPart and Complete; it must outlive the request.  hdrs (owned by
 * x from now on) are the request's own headers.  Exits on failure: only
 * a lack of memory makes curl refuse an option.
 */
static void
xfer_init(struct xfer *x, enum op op, unsigned partno, const char *url,
    const void *body, size_t len, struct curl_slist *hdrs)
{
	CURLcode rc = CURLE_OK;

	memset(x, 0, sizeof *x);
	x->op = op;
	x->partno = partno;
	x->body = body;
	x->body_len = len;
	x->hdrs = hdrs;
	x->interruptible = op != OP_ABORT;
	refresh_creds();
	if (hdrs == NULL || (x->e = curl_easy_init()) == NULL ||
	    s3_easy_setup(x->e, &conf) != 0)
		errx(EX_SOFTWARE, "cannot set up a request: out of memory");
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
	if (rc == CURLE_OK && s3_easy_creds(x->e, &x->hdrs, &conf) != 0)
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
	}
#undef SET
	if (rc != CURLE_OK)
		errx(EX_SOFTWARE, "cannot set up a request: %s", curl_easy_strerror(rc));
}

static void
xfer_rewind(struct xfer *x)
{
	x->body_off = 0;
	x->resp_len = 0;
	x->resp_overflow = 0;
	x->etag[0] = '\0';
	x->errbuf[0] = '\0';
}

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

/*
 * Judge a finished request: 0 success, 1 worth retrying, -1 failed for
 * good.  Fills v (and xml, when the answer is XML) unless success.
 */
static int
judge(struct xfer *x, CURLcode rc, struct verdict *v, struct s3_xml *xml)
{
	long http = 0;
	int parsed;

	memset(v, 0, sizeof *v);
	memset(xml, 0, sizeof *xml);
	if (rc == CURLE_ABORTED_BY_CALLBACK && got_signal) {
		v->exit = -1;
		snprintf(v->msg, sizeof v->msg, "interrupted by signal %d",
		    (int)got_signal);
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(v->msg, sizeof v->msg, "%s%s%s", curl_easy_strerror(rc),
		    x->errbuf[0] ? ": " : "", x->errbuf);
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
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &http);
	parsed = x->resp_len > 0 && !x->resp_overflow &&
	    s3_xml_parse(x->resp, x->resp_len, xml) == 0;
	if (http >= 200 && http < 300) {
		if (x->op == OP_CREATE && (!parsed || xml->upload_id[0] == '\0')) {
			v->exit = EX_PROTOCOL;
			snprintf(v->msg, sizeof v->msg, "HTTP %ld without an UploadId", http);
			return -1;
		}
		if (x->op == OP_COMPLETE) {
			/* S3 answers 200 before it finishes, then reports
			 * trouble in the body. */
			if (!parsed) {
				v->exit = EX_TEMPFAIL;
				snprintf(v->msg, sizeof v->msg, "HTTP %ld with %s body",
				    http, x->resp_overflow ? "an oversized" :
				    x->resp_len ? "a malformed" : "an empty");
				return 1;
			}
			if (strcmp(xml->root, "Error") == 0) {
				snprintf(v->code, sizeof v->code, "%s", xml->code);
				snprintf(v->msg, sizeof v->msg, "HTTP %ld but %s: %s",
				    http, xml->code, xml->message);
				v->exit = retryable_code(xml->code) ? EX_TEMPFAIL :
				    strcmp(xml->code, "NoSuchUpload") == 0 ?
				    EX_UNAVAILABLE : EX_PROTOCOL;
				return retryable_code(xml->code) ? 1 : -1;
			}
		}
		return 0;
	}
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

static void
where(const struct xfer *x, char *buf, size_t len)
{
	if (x->partno)
		snprintf(buf, len, "%s: part %u: %s", target.name, x->partno,
		    opname[x->op]);
	else
		snprintf(buf, len, "%s: %s", target.name, opname[x->op]);
}

/*
 * Perform x until it succeeds, fails for good, or has been tried
 * `attempts` times, sleeping a jittered, growing delay between tries.
 * 0 on success; -1 with v filled otherwise.
 */
static int
run_sync(struct xfer *x, int attempts, struct verdict *v, struct s3_xml *xml)
{
	char w[256];

	for (int a = 1;; a++) {
		int r;
		uint64_t d;

		xfer_rewind(x);
		if (a > 1) {
			refresh_creds();
			if (s3_easy_creds(x->e, &x->hdrs, &conf) != 0)
				errx(EX_SOFTWARE, "out of memory");
		}
		nrequests++;
		r = judge(x, curl_easy_perform(x->e), v, xml);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
		if (a >= attempts) {
			size_t n = strlen(v->msg);

			snprintf(v->msg + n, sizeof v->msg - n, " (%d attempts)", a);
			return -1;
		}
		nretries++;
		d = backoff_ns(a - 1);
		if (opt.verbose) {
			where(x, w, sizeof w);
			warnx("%s: %s; retry in %.1f s", w, v->msg, (double)d / 1e9);
		}
		if (nap(d) != 0 && x->interruptible) {
			v->exit = -1;
			snprintf(v->msg, sizeof v->msg, "interrupted by signal %d",
			    (int)got_signal);
			return -1;
		}
	}
}

/* ---- URLs -------------------------------------------------------------- */

/*
 * The URL of op on the target: query parameters sorted and each with '='
 * (curl signs the query as written, and S3 wants the canonical form).
 */
static char *
url_for(enum op op, unsigned partno, const char *upload_id)
{
	char *id = upload_id ? s3_uri_encode(upload_id, 0) : NULL, *u = NULL;
	int n;

	if (upload_id && id == NULL)
		errx(EX_SOFTWARE, "out of memory");
	switch (op) {
	case OP_CREATE:
		n = asprintf(&u, "%s?uploads=", target.url);
		break;
	case OP_PART:
		n = asprintf(&u, "%s?partNumber=%u&uploadId=%s", target.url,
		    partno, id);
		break;
	case OP_COMPLETE:
	case OP_ABORT:
		n = asprintf(&u, "%s?uploadId=%s", target.url, id);
		break;
	default:
		n = asprintf(&u, "%s", target.url);
		break;
	}
	free(id);
	if (n < 0)
		errx(EX_SOFTWARE, "out of memory");
	return u;
}

/* ---- abort, complete --------------------------------------------------- */

/* AbortMultipartUpload; 0 when gone (or already gone), -1 with a warning. */
static int
abort_upload(const char *upload_id)
{
	struct xfer x;
	struct verdict v;
	struct s3_xml xml;
	char *url = url_for(OP_ABORT, 0, upload_id);
	int r;

	xfer_init(&x, OP_ABORT, 0, url, NULL, 0,
	    s3_base_headers(NULL, &conf, S3_EMPTY_SHA256));
	r = run_sync(&x, 3, &v, &xml);
	if (r != 0 && strcmp(v.code, "NoSuchUpload") == 0)
		r = 0;
	if (r != 0)
		warnx("%s: AbortMultipartUpload: %s; upload %s stays open until "
		    "aborted (moma-put --abort, or a bucket lifecycle rule)",
		    target.name, v.msg, upload_id);
	else if (opt.verbose)
		warnx("%s: upload aborted", target.name);
	xfer_free(&x);
	free(url);
	return r;
}

static void
print_stats(void)
{
	char buf[512];

	if (!opt.stats)
		return;
	st.units_out = nrequests;
	stats_summary(&st, "parts", "requests", buf, sizeof buf);
	warnx("stats: %s retries=%" PRIu64, buf, nretries);
}

static void
end_progress(void)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = 0;
}

/* Report v for request x and exit with its code (re-raising a signal). */
static _Noreturn void
die_verdict(const struct xfer *x, const struct verdict *v)
{
	char w[256];

	end_progress();
	where(x, w, sizeof w);
	warnx("%s: %s", w, v->msg);
	print_stats();
	if (v->exit < 0 || got_signal) {
		int sig = got_signal ? (int)got_signal : SIGTERM;

		signal(sig, SIG_DFL);
		raise(sig);
		exit(128 + sig);
	}
	exit(v->exit);
}

/* The ETag S3 gives a completed multipart object: MD5 of the parts' MD5s. */
static void
multipart_etag(const struct partinfo *pi, unsigned n, char *out, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char d[16];
	unsigned int dl = 16;
	char hex[33];

	if (c == NULL || !EVP_DigestInit_ex(c, EVP_md5(), NULL))
		errx(EX_SOFTWARE, "MD5 unavailable in libcrypto");
	for (unsigned i = 1; i <= n; i++)
		EVP_DigestUpdate(c, pi[i].md5, 16);
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	s3_hex(d, 16, hex);
	snprintf(out, len, "%s-%u", hex, n);
}

/*
 * After NoSuchUpload on Complete: if the object is there with the ETag
 * these parts make, an earlier attempt (or an earlier --complete) did
 * complete it.  1 if so, 0 if not.
 */
static int
already_completed(const char *want)
{
	struct xfer x;
	struct verdict v;
	struct s3_xml xml;
	int r;

	xfer_init(&x, OP_HEAD, 0, target.url, NULL, 0,
	    s3_base_headers(NULL, &conf, S3_EMPTY_SHA256));
	r = run_sync(&x, opt.retries + 1, &v, &xml) == 0 &&
	    strcmp(x.etag, want) == 0;
	xfer_free(&x);
	return r;
}

/*
 * CompleteMultipartUpload of parts 1..n.  Returns 0, or exits (after
 * aborting the upload unless the failure says it is already gone).
 */
static void
complete_upload(const char *upload_id, const struct partinfo *pi, unsigned n)
{
	static const char head[] = "<CompleteMultipartUpload "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
	static const char tail[] = "</CompleteMultipartUpload>";
	size_t cap = sizeof head + sizeof tail + (size_t)n * 128, len;
	char *body = malloc(cap), *url, sha[65], want[64];
	struct curl_slist *h;
	struct xfer x;
	struct verdict v;
	struct s3_xml xml;

	if (body == NULL)
		errx(EX_SOFTWARE, "out of memory");
	len = (size_t)snprintf(body, cap, "%s", head);
	for (unsigned i = 1; i <= n; i++)
		len += (size_t)snprintf(body + len, cap - len,
		    "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
		    i, pi[i].etag);
	len += (size_t)snprintf(body + len, cap - len, "%s", tail);
	if (len >= cap)
		errx(EX_SOFTWARE, "Complete body overflow");
	multipart_etag(pi, n, want, sizeof want);

	sha256_hex(body, len, sha);
	h = s3_base_headers(NULL, &conf, sha);
	if (h != NULL)
		h = s3_header(h, "Content-Type", "application/xml");
	url = url_for(OP_COMPLETE, 0, upload_id);
	xfer_init(&x, OP_COMPLETE, 0, url, body, len, h);
	free(url);	/* libcurl keeps its own copy; die_verdict() exits */
	if (run_sync(&x, opt.retries + 1, &v, &xml) != 0) {
		if (strcmp(v.code, "NoSuchUpload") == 0) {
			if (already_completed(want))
				goto done;
			snprintf(v.msg + strlen(v.msg), sizeof v.msg - strlen(v.msg),
			    " (upload %s was aborted or expired)", upload_id);
		} else if (v.exit >= 0 || got_signal)
			abort_upload(upload_id);
		die_verdict(&x, &v);
	}
	/* A different multipart ETag means S3 assembled other bytes than the
	 * ones we sent: the object is there, but say so and fail. */
	if (strchr(xml.etag, '-') != NULL && strcmp(xml.etag, want) != 0) {
		v.exit = EX_PROTOCOL;
		snprintf(v.msg, sizeof v.msg, "ETag %s, expected %s", xml.etag, want);
		die_verdict(&x, &v);
	}
done:
	if (opt.verbose)
		warnx("%s: %u parts, ETag %s", target.name, n, want);
	xfer_free(&x);
	free(body);
}

/* ---- the reader thread -------------------------------------------------- */

static struct pool pool;

static void *
reader_main(void *arg)
{
	struct pool *p = arg;
	uint64_t total = 0;
	int more_sent = 0;
	EVP_MD_CTX *md5 = EVP_MD_CTX_new();

	if (md5 == NULL)
		errx(EX_SOFTWARE, "out of memory");

	for (;;) {
		struct slot *s = NULL;
		unsigned partno;
		uint64_t want, t0;
		int eof = 0, rerr = 0;

		pthread_mutex_lock(&p->mu);
		t0 = stats_now_ns();
		for (;;) {
			for (int i = 0; i < p->n && s == NULL; i++)
				if (p->slots[i].state == S_FREE)
					s = &p->slots[i];
			if (s != NULL || p->stop)
				break;
			pthread_cond_wait(&p->cv, &p->mu);
		}
		p->blocked_out_ns += stats_now_ns() - t0;
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		s->state = S_FILLING;
		partno = p->next_partno++;
		pthread_mutex_unlock(&p->mu);

		want = part_size_for(partno);
		s->len = 0;
		if (partno > opt.max_parts)
			rerr = EFBIG;
		else if (s->cap < want) {
			/* The part size grew: a fresh buffer, nothing to keep. */
			free(s->buf);
			s->cap = 0;
			if ((s->buf = malloc(want)) == NULL)
				rerr = ENOMEM;
			else
				s->cap = want;
		}
		/* The MD5 runs over each read while its bytes are still in
		 * the cache, not over the whole part afterwards. */
		if (!EVP_DigestInit_ex(md5, EVP_md5(), NULL))
			errx(EX_SOFTWARE, "MD5 unavailable in libcrypto");
		while (!rerr && s->len < want) {
			size_t ask = want - s->len < READ_MAX ? want - s->len : READ_MAX;
			ssize_t n;

			t0 = stats_now_ns();
			n = read(STDIN_FILENO, s->buf + s->len, ask);
			pthread_mutex_lock(&p->mu);
			p->blocked_in_ns += stats_now_ns() - t0;
			if (n > 0)
				p->bytes_in += (uint64_t)n;
			if (n > 0 && partno > 1 && !more_sent)
				p->more = more_sent = 1;
			pthread_mutex_unlock(&p->mu);
			if (n < 0) {
				if (errno != EINTR)
					rerr = errno;
				continue;
			}
			if (n == 0) {
				eof = 1;
				break;
			}
			EVP_DigestUpdate(md5, s->buf + s->len, (size_t)n);
			s->len += (size_t)n;
			total += (uint64_t)n;
			if (total > OBJECT_MAX)
				rerr = EFBIG;
			if (partno == 2 && s->len == (size_t)n)
				curl_multi_wakeup(p->multi);
		}
		if (!rerr && (s->len > 0 || partno == 1)) {
			unsigned int dl = 16;

			EVP_DigestFinal_ex(md5, s->md5, &dl);
			EVP_EncodeBlock((unsigned char *)s->md5_b64, s->md5, 16);
		}
		pthread_mutex_lock(&p->mu);
		if (rerr) {
			p->rerr = rerr;
			s->state = S_FREE;
		} else if (s->len > 0 || partno == 1) {
			s->partno = partno;
			s->attempts = 0;
			s->state = S_READY;
		} else
			s->state = S_FREE;
		if (eof || rerr)
			p->eof = 1;
		pthread_mutex_unlock(&p->mu);
		curl_multi_wakeup(p->multi);
		if (eof || rerr)
			break;
	}
	EVP_MD_CTX_free(md5);
	return NULL;
}

/* ---- the upload -------------------------------------------------------- */

static struct partinfo *parts;
static unsigned parts_cap;

static void
record_part(const struct slot *s)
{
	if (s->partno >= parts_cap) {
		unsigned cap = parts_cap ? parts_cap : 64;
		struct partinfo *p;

		while (cap <= s->partno)
			cap *= 2;
		if ((p = realloc(parts, cap * sizeof *p)) == NULL)
			errx(EX_SOFTWARE, "out of memory");
		memset(p + parts_cap, 0, (cap - parts_cap) * sizeof *p);
		parts = p;
		parts_cap = cap;
	}
	parts[s->partno].size = s->len;
	memcpy(parts[s->partno].md5, s->md5, 16);
	snprintf(parts[s->partno].etag, sizeof parts[s->partno].etag, "%.71s", s->x.etag);
}

static void
show_progress(int inflight, unsigned done)
{
	uint64_t now = stats_now_ns(), in;
	double el;

	if (!opt.verbose || !isatty(STDERR_FILENO) ||
	    now - st.last_progress_ns < 500000000ull)
		return;
	st.last_progress_ns = now;
	pthread_mutex_lock(&pool.mu);
	in = pool.bytes_in;
	pthread_mutex_unlock(&pool.mu);
	el = (double)(now - st.start_ns) / 1e9;
	fprintf(stderr, "\rmoma-put: %.1f MiB read, %.1f MiB stored, %.1f MB/s, "
	    "%d parts in flight, %u done  ", (double)in / MIB,
	    (double)st.bytes_out / MIB, el > 0 ? (double)st.bytes_out / el / 1e6 : 0,
	    inflight, done);
	progress_shown = 1;
}

static char *upload_id;

/* Stop everything and exit after a failure of x: abort the upload. */
static _Noreturn void
fail_upload(const struct xfer *x, struct verdict *v)
{
	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	for (int i = 0; i < pool.n; i++)
		if (pool.slots[i].state == S_SENDING)
			curl_multi_remove_handle(pool.multi, pool.slots[i].x.e);
	end_progress();
	if (upload_id != NULL)
		abort_upload(upload_id);
	die_verdict(x, v);
}

static void
start_part(struct slot *s)
{
	struct curl_slist *h = s3_base_headers(NULL, &conf, "UNSIGNED-PAYLOAD");
	char *url;

	if (h != NULL)
		h = s3_header(h, "Content-MD5", s->md5_b64);
	url = url_for(OP_PART, s->partno, upload_id);
	xfer_init(&s->x, OP_PART, s->partno, url, s->buf, s->len, h);
	free(url);
	xfer_rewind(&s->x);
	nrequests++;
	s->attempts++;
	if (curl_multi_add_handle(pool.multi, s->x.e) != CURLM_OK)
		errx(EX_SOFTWARE, "curl_multi_add_handle failed");
}

static void
write_state(const char *path, unsigned n);

/* Read stdin to its end and store it.  Exits on failure. */
static void
upload_stream(void)
{
	enum { UNDECIDED, SINGLE, MULTI } mode = UNDECIDED;
	struct curl_waitfd wfd = { .events = CURL_WAIT_POLLIN };
	pthread_t reader;
	sigset_t block, old;
	int inflight = 0;
	unsigned done = 0, nparts = 0;
	struct xfer x;
	struct verdict v;
	struct s3_xml xml;

	pool.n = opt.jobs + 1;
	pool.next_partno = 1;
	if ((pool.slots = calloc((size_t)pool.n, sizeof *pool.slots)) == NULL ||
	    (pool.multi = curl_multi_init()) == NULL)
		errx(EX_SOFTWARE, "out of memory");
	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.cv, NULL);
	/* A bigger pipe means fewer, larger reads. */
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);

	/* Signals go to the main thread only. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if ((errno = pthread_create(&reader, NULL, reader_main, &pool)) != 0)
		err(EX_OSERR, "pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	wfd.fd = sigpipe_fd[0];

	for (;;) {
		struct slot *first = NULL;
		int eof, rerr, more, nready = 0, busy = 0, running, finished = 0;
		uint64_t now = stats_now_ns(), next_retry = 0;
		struct slot *todo[64];
		int ntodo = 0;
		CURLMsg *m;
		int msgs;

		if (got_signal) {
			memset(&v, 0, sizeof v);
			v.exit = -1;
			snprintf(v.msg, sizeof v.msg, "interrupted by signal %d",
			    (int)got_signal);
			memset(&x, 0, sizeof x);
			x.op = mode == MULTI ? OP_PART : OP_PUT;
			fail_upload(&x, &v);
		}

		pthread_mutex_lock(&pool.mu);
		eof = pool.eof;
		rerr = pool.rerr;
		more = pool.more;
		for (int i = 0; i < pool.n; i++) {
			struct slot *s = &pool.slots[i];

			if (s->state == S_READY) {
				nready++;
				if (s->partno == 1)
					first = s;
				if (mode == MULTI && inflight + ntodo < opt.jobs) {
					s->state = S_SENDING;
					todo[ntodo++] = s;
				}
			} else if (s->state == S_WAITING) {
				if (s->retry_at <= now && inflight + ntodo < opt.jobs) {
					s->state = S_SENDING;
					todo[ntodo++] = s;
				} else if (!next_retry || s->retry_at < next_retry)
					next_retry = s->retry_at;
			}
			if (s->state != S_FREE)
				busy++;
		}
		st.bytes_in = pool.bytes_in;
		pthread_mutex_unlock(&pool.mu);

		if (rerr) {
			memset(&x, 0, sizeof x);
			x.op = mode == MULTI ? OP_PART : OP_PUT;
			memset(&v, 0, sizeof v);
			if (rerr == EFBIG) {
				v.exit = EX_DATAERR;
				snprintf(v.msg, sizeof v.msg, "input larger than S3 "
				    "allows (%u parts, 5 TiB)", opt.max_parts);
			} else {
				v.exit = EX_IOERR;
				snprintf(v.msg, sizeof v.msg, "standard input: %s",
				    strerror(rerr));
			}
			fail_upload(&x, &v);
		}

		if (mode == UNDECIDED && first != NULL &&
		    (eof || more || opt.prepare)) {
			if (eof && nready == 1 && !opt.prepare) {
				/* The whole input fits in one part. */
				struct curl_slist *h = s3_base_headers(NULL,
				    &conf, "UNSIGNED-PAYLOAD");

				mode = SINGLE;
				if (h != NULL)
					h = s3_header(h, "Content-MD5", first->md5_b64);
				if (h != NULL)
					h = s3_header(h, "Content-Type", opt.content_type);
				h = s3_object_headers(h, &conf);
				xfer_init(&x, OP_PUT, 0, target.url, first->buf,
				    first->len, h);
				if (run_sync(&x, opt.retries + 1, &v, &xml) != 0)
					fail_upload(&x, &v);
				xfer_free(&x);
				st.records = 1;
				st.bytes_out = first->len;
				nparts = 1;
				break;
			}
			char *url = url_for(OP_CREATE, 0, NULL);
			struct curl_slist *h = s3_base_headers(NULL, &conf,
			    S3_EMPTY_SHA256);

			if (h != NULL)
				h = s3_header(h, "Content-Type", opt.content_type);
			h = s3_object_headers(h, &conf);
			xfer_init(&x, OP_CREATE, 0, url, NULL, 0, h);
			free(url);
			if (run_sync(&x, opt.retries + 1, &v, &xml) != 0)
				fail_upload(&x, &v);
			if ((upload_id = strdup(xml.upload_id)) == NULL)
				errx(EX_SOFTWARE, "out of memory");
			xfer_free(&x);
			if (opt.verbose)
				warnx("%s: upload %s", target.name, upload_id);
			mode = MULTI;
			continue;
		}

		for (int i = 0; i < ntodo; i++) {
			start_part(todo[i]);
			inflight++;
		}

		if (mode == MULTI && eof && busy == 0) {
			nparts = done;
			break;
		}

		curl_multi_perform(pool.multi, &running);
		while ((m = curl_multi_info_read(pool.multi, &msgs)) != NULL) {
			struct slot *s = NULL;
			int r;

			if (m->msg != CURLMSG_DONE)
				continue;
			/* Look again before waiting: this may free a slot or
			 * have been the last part, and nothing would wake the
			 * poll below for it (it cost 0.5 s per upload). */
			finished = 1;
			for (int i = 0; i < pool.n; i++)
				if (pool.slots[i].x.e == m->easy_handle)
					s = &pool.slots[i];
			if (s == NULL)
				continue;
			r = judge(&s->x, m->data.result, &v, &xml);
			curl_multi_remove_handle(pool.multi, s->x.e);
			inflight--;
			if (r == 0) {
				char hex[33];

				s3_hex(s->md5, 16, hex);
				/* Content-MD5 made S3 check the bytes; an ETag
				 * that is an MD5 must also be ours. */
				if (!etag_ok(s->x.etag)) {
					v.exit = EX_PROTOCOL;
					snprintf(v.msg, sizeof v.msg,
					    "bad ETag '%s'", s->x.etag);
					fail_upload(&s->x, &v);
				}
				if (strlen(s->x.etag) == 32 &&
				    strcasecmp(s->x.etag, hex) != 0) {
					r = 1;
					v.exit = EX_PROTOCOL;
					snprintf(v.msg, sizeof v.msg, "ETag %s, "
					    "expected %s", s->x.etag, hex);
				}
			}
			if (r == 0) {
				record_part(s);
				st.bytes_out += s->len;
				st.records++;
				done++;
				xfer_free(&s->x);
				pthread_mutex_lock(&pool.mu);
				s->state = S_FREE;
				pthread_cond_signal(&pool.cv);
				pthread_mutex_unlock(&pool.mu);
				continue;
			}
			if (r < 0 || s->attempts > opt.retries) {
				if (r > 0) {
					size_t n = strlen(v.msg);

					snprintf(v.msg + n, sizeof v.msg - n,
					    " (%d attempts)", s->attempts);
				}
				fail_upload(&s->x, &v);
			}
			nretries++;
			pthread_mutex_lock(&pool.mu);
			s->retry_at = stats_now_ns() + backoff_ns(s->attempts - 1);
			s->state = S_WAITING;
			pthread_mutex_unlock(&pool.mu);
			if (opt.verbose) {
				char w[256];

				end_progress();
				where(&s->x, w, sizeof w);
				warnx("%s: %s; retry in %.1f s", w, v.msg,
				    (double)(s->retry_at - stats_now_ns()) / 1e9);
			}
			xfer_free(&s->x);
		}

		if (finished) {
			show_progress(inflight, done);
			continue;
		}
		{
			int timeout = 500;

			if (next_retry) {
				uint64_t n2 = stats_now_ns();
				int ms = next_retry > n2 ?
				    (int)((next_retry - n2) / 1000000) + 1 : 0;

				if (ms < timeout)
					timeout = ms;
			}
			wfd.revents = 0;
			curl_multi_poll(pool.multi, &wfd, 1, timeout, NULL);
		}
		show_progress(inflight, done);
	}

	pthread_join(reader, NULL);
	pthread_mutex_lock(&pool.mu);
	st.bytes_in = pool.bytes_in;
	st.blocked_in_ns = pool.blocked_in_ns;
	st.blocked_out_ns = pool.blocked_out_ns;
	pthread_mutex_unlock(&pool.mu);
	end_progress();

	if (mode == MULTI) {
		if (opt.prepare)
			write_state(opt.prepare, nparts);
		else
			complete_upload(upload_id, parts, nparts);
	}
	for (int i = 0; i < pool.n; i++)
		free(pool.slots[i].buf);
	free(pool.slots);
	curl_multi_cleanup(pool.multi);
	pthread_mutex_destroy(&pool.mu);
	pthread_cond_destroy(&pool.cv);
}

/* ---- two-phase state ---------------------------------------------------- */

#define STATE_MAGIC "moma-put-state 1"

/*
 * Write the state file atomically (temporary file, fsync, rename), mode
 * 0600.  It names the upload; it holds no secret.  On failure the upload
 * is aborted and moma-put exits.
 */
static void
write_state(const char *path, unsigned n)
{
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, ok;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		errx(EX_SOFTWARE, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok = fd >= 0 && (f = fdopen(fd, "w")) != NULL;
	if (ok) {
		fprintf(f, "%s\ntarget %s\nurl %s\nregion %s\nupload-id %s\n"
		    "parts %u\n", STATE_MAGIC, target.name, target.url,
		    conf.region, upload_id, n);
		for (unsigned i = 1; i <= n; i++) {
			char hex[33];

			s3_hex(parts[i].md5, 16, hex);
			fprintf(f, "%u %" PRIu64 " %s %s\n", i, parts[i].size,
			    hex, parts[i].etag);
		}
		ok = fflush(f) == 0 && !ferror(f) && fsync(fd) == 0;
		ok = (fclose(f) == 0) && ok;
		fd = -1;
		ok = ok && rename(tmp, path) == 0;
	}
	if (!ok) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		warnx("%s: %s", path, strerror(e));
		abort_upload(upload_id);
		print_stats();
		exit(EX_IOERR);
	}
	free(tmp);
	if (opt.verbose)
		warnx("%s: %u parts uploaded, upload %s left open; state in %s",
		    target.name, n, upload_id, path);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Read a state file written by --prepare into target, conf.region,
 * upload_id and parts; returns the part count.  Exits 66 if it cannot be
 * opened, 65 if it is not a valid state file.
 */
static unsigned
read_state(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *name = NULL, *url = NULL, *region = NULL, *id = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned n = 0, lineno = 0, seen = 0;

	if (f == NULL)
		err(EX_NOINPUT, "%s", path);
	while ((len = getline(&line, &cap, f)) > 0) {
		char **dst = NULL, *val;

		lineno++;
		if (len > 8192)
			goto bad;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0)
				goto bad;
			continue;
		}
		if ((val = strchr(line, ' ')) == NULL)
			goto bad;
		*val++ = '\0';
		if (strcmp(line, "target") == 0) dst = &name;
		else if (strcmp(line, "url") == 0) dst = &url;
		else if (strcmp(line, "region") == 0) dst = &region;
		else if (strcmp(line, "upload-id") == 0) dst = &id;
		else if (strcmp(line, "parts") == 0) {
			char *end;
			unsigned long v = strtoul(val, &end, 10);

			if (*end || v > PARTS_MAX || v == 0)
				goto bad;
			n = (unsigned)v;
			continue;
		} else {
			/* "N size md5hex etag" */
			char md5[33], etag[72];
			unsigned long pn = strtoul(line, NULL, 10);
			uint64_t size;
			struct slot s = { 0 };

			if (pn != seen + 1 || pn > n ||
			    sscanf(val, "%" SCNu64 " %32s %71s", &size, md5, etag) != 3 ||
			    strlen(md5) != 32 || !etag_ok(etag))
				goto bad;
			for (int i = 0; i < 16; i++) {
				int hi = hexval(md5[2 * i]), lo = hexval(md5[2 * i + 1]);

				if (hi < 0 || lo < 0)
					goto bad;
				s.md5[i] = (unsigned char)(hi << 4 | lo);
			}
			s.partno = (unsigned)pn;
			s.len = (size_t)size;
			snprintf(s.x.etag, sizeof s.x.etag, "%s", etag);
			record_part(&s);
			seen++;
			continue;
		}
		free(*dst);
		if ((*dst = strdup(val)) == NULL)
			errx(EX_SOFTWARE, "out of memory");
	}
	if (ferror(f))
		err(EX_IOERR, "%s", path);
	if (lineno == 0 || !name || !url || !region || !id || n == 0 || seen != n)
		goto bad;
	fclose(f);
	free(line);
	target.name = name;
	target.url = url;
	free(conf.region);
	conf.region = region;
	upload_id = id;
	return n;
bad:
	errx(EX_DATAERR, "%s: not a moma-put state file (line %u)", path, lineno);
}

/* ---- main -------------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	enum { O_CONTENT_TYPE = 256, O_ENDPOINT, O_PROFILE, O_REGION, O_STATS,
	    O_VERSION, O_PREPARE, O_COMPLETE, O_ABORT, O_PATH_STYLE, O_SSE,
	    O_SSE_KMS_KEY_ID, O_STORAGE_CLASS };
	static const struct option longopts[] = {
		{ "abort", required_argument, NULL, O_ABORT },
		{ "complete", required_argument, NULL, O_COMPLETE },
		{ "content-type", required_argument, NULL, O_CONTENT_TYPE },
		{ "endpoint-url", required_argument, NULL, O_ENDPOINT },
		{ "help", no_argument, NULL, 'h' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-verify-ssl", no_argument, NULL, 'k' },
		{ "part-size", required_argument, NULL, 'p' },
		{ "path-style", no_argument, NULL, O_PATH_STYLE },
		{ "prepare", required_argument, NULL, O_PREPARE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "region", required_argument, NULL, O_REGION },
		{ "retries", required_argument, NULL, 'r' },
		{ "sse", required_argument, NULL, O_SSE },
		{ "sse-kms-key-id", required_argument, NULL, O_SSE_KMS_KEY_ID },
		{ "stats", no_argument, NULL, O_STATS },
		{ "storage-class", required_argument, NULL, O_STORAGE_CLASS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { 0 };
	char errbuf[S3_ERR_LEN];
	const char *e;
	int c, two = 0;

	opt.content_type = "application/octet-stream";
	while ((c = getopt_long(argc, argv, "hj:kp:r:v", longopts, NULL)) != -1) {
		switch (c) {
		case O_ABORT: opt.abort = optarg; two++; break;
		case O_COMPLETE: opt.complete = optarg; two++; break;
		case O_CONTENT_TYPE: opt.content_type = optarg; break;
		case O_ENDPOINT: opt.endpoint = optarg; break;
		case 'h':
			printf("moma-put " MOMA_VERSION ": store standard input "
			    "as one S3 object (see moma-put(1))\n");
			fflush(stdout);
			usage();
			break;
		case 'j': opt.jobs = (int)parse_num(optarg, "jobs", 1, 64); break;
		case 'k': opt.insecure = 1; break;
		case 'p':
			if (parse_size(optarg, &opt.part_size) != 0 ||
			    opt.part_size < PART_MIN || opt.part_size > PART_MAX) {
				warnx("part size '%s': expected 5M to 5G", optarg);
				usage();
			}
			break;
		case O_PATH_STYLE: opt.path_style = 1; break;
		case O_PREPARE: opt.prepare = optarg; break;
		case O_PROFILE: opt.profile = optarg; break;
		case O_REGION: opt.region = optarg; break;
		case 'r': opt.retries = (int)parse_num(optarg, "retries", 0, 100); break;
		case O_SSE: opt.sse = optarg; break;
		case O_SSE_KMS_KEY_ID: opt.sse_kms_key_id = optarg; break;
		case O_STATS: opt.stats = 1; break;
		case O_STORAGE_CLASS: opt.storage_class = optarg; break;
		case 'v': opt.verbose = 1; break;
		case O_VERSION:
			printf("moma-put " MOMA_VERSION "\n");
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EX_IOERR;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (two > 1 || (two && (argc != 0 || opt.prepare)) || (!two && argc != 1))
		usage();
	/* For tests only: a lower part limit makes part-size growth visible
	 * with megabytes instead of terabytes. */
	if ((e = getenv("MOMA_PUT_MAX_PARTS")) != NULL && *e)
		opt.max_parts = (unsigned)parse_num(e, "MOMA_PUT_MAX_PARTS", 1, PARTS_MAX);

	/* Before the configuration: the credential chain may ask STS, a
	 * container agent or the instance metadata service. */
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		errx(EX_SOFTWARE, "curl_global_init failed");
	if (s3_conf_load(&conf, opt.profile, opt.region, opt.endpoint,
	    errbuf, sizeof errbuf) != 0)
		errx(EX_CONFIG, "%s", errbuf);
	if (s3_conf_object(&conf, opt.sse, opt.sse_kms_key_id,
	    opt.storage_class, opt.path_style, errbuf, sizeof errbuf) != 0) {
		warnx("%s", errbuf);
		usage();
	}
	if (opt.verbose)
		warnx("credentials: %s", conf.creds.desc);
	conf.insecure = opt.insecure;
	srand48((long)(stats_now_ns() ^ (uint64_t)getpid() << 16));
	stats_init(&st);

	if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK) != 0)
		err(EX_OSERR, "pipe");
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (two) {
		unsigned n = read_state(opt.complete ? opt.complete : opt.abort);

		if (opt.complete) {
			complete_upload(upload_id, parts, n);
			if (unlink(opt.complete) != 0)
				warn("%s", opt.complete);
		} else {
			if (abort_upload(upload_id) != 0) {
				print_stats();
				return EX_UNAVAILABLE;
			}
			if (unlink(opt.abort) != 0)
				warn("%s", opt.abort);
		}
	} else {
		if (s3_target_parse(argv[0], &conf, &target, errbuf,
		    sizeof errbuf) != 0) {
			warnx("%s", errbuf);
			usage();
		}
		upload_stream();
	}
	print_stats();
	free(parts);
	free(upload_id);
	s3_target_free(&target);
	s3_conf_free(&conf);
	curl_global_cleanup();
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EX_IOERR, "stdout");
	return 0;
}
