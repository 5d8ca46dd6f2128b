/*
 * put.h - what the files of moma-put share: the run's context (struct
 * put, passed to every function instead of file-scope globals), the
 * signals (sig.c), the part list (parts.c), one HTTP request (xfer.c),
 * the failure on its way to main and the --stats output (report.c), the
 * part pool and its reader thread (pool.c),
 * the upload and its commit point (upload.c), the state file (state.c)
 * and the bucket-level commands (bucket.c).  Below them, without struct
 * put: s3.c (configuration, addressing, signing), xml.c, awsconf.c and
 * the credential chain in creds/.
 *
 * The commit point: once CompleteMultipartUpload has been sent, the
 * upload is never aborted by moma-put (only --abort does that); until
 * then any failure or signal aborts it.
 *
 * The way out: no function below main() exits.  A failure is recorded
 * in struct put's fail (its exit code and what to say) and the function
 * returns -1 (or NULL) up to main(), which says it, aborts an upload the
 * run opened and did not keep, writes the statistics and exits.
 */
#ifndef MOMA_PUT_PUT_H
#define MOMA_PUT_PUT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "s3.h"
#include "stats.h"

#define MIB		(1024ull * 1024)
#define GIB		(1024ull * MIB)
#define PART_MIN	(5 * MIB)		/* S3: all parts but the last */
#define PART_MAX	(5 * GIB)
#define OBJECT_MAX	(5 * 1024 * GIB)	/* S3: 5 TiB */
#define PARTS_MAX	10000
#define RESP_MAX	(1u << 20)		/* an S3 answer larger is an error */
#define READ_MAX	(1u << 20)		/* one read(2): hash it while cached */
#define META_MAX	32			/* --meta options */
/* --abort of a run killed before Create answered lists the key's uploads
 * again this long after the run started: a Create in flight at the kill
 * may land after the first listing. */
#define ABORT_GRACE	3			/* seconds */
#define COMPLETE_GRACE_S 60			/* a signalled Complete may finish */

enum op { OP_PUT, OP_CREATE, OP_PART, OP_COMPLETE, OP_ABORT, OP_HEAD,
	OP_LIST, OP_COPY, OP_GET };

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
	int interruptible;		/* a signal cancels it at once */
	int sent;			/* a byte of the request went out */
	char etag[128];			/* ETag response header, unquoted */
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *resp_hdrs;	/* kept when keep_headers */
	int keep_headers;
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
	unsigned next_partno, max_parts;
	uint64_t part_size;
	int eof, more, stop;
	int rerr;			/* errno of a read failure, EFBIG, EPROTO */
	uint64_t bytes_in, blocked_in_ns, blocked_out_ns;
	EVP_MD_CTX *sha;		/* SHA-256 of the whole stream */
	unsigned char sha256[32];
	CURLM *multi;
	pthread_t reader;
};

/* What Complete needs of each acknowledged part. */
struct partinfo {
	uint64_t size;
	unsigned char md5[16];
	char etag[72];
};

struct put_opts {
	int jobs, retries, verbose, stats, insecure;
	uint64_t part_size;
	unsigned max_parts;
	const char *prepare, *complete, *abort;
	const char *stats_path;		/* --stats-file */
	const char *profile, *region, *endpoint, *content_type;
	const char *sse, *sse_kms_key_id, *storage_class;
	int path_style;
	const char *meta[META_MAX];	/* "name=value", name lower-cased */
	int nmeta;
	long older_than;		/* --abort-uploads: seconds, -1 none */
};

/* A failure on its way to main(): the first code recorded, and the lines
 * to say ("moma-put: " before each), in order.  A line holds a state
 * file's longest line (4 KiB) and a request's where and why whole; only
 * a longer command-line operand quoted in a message is cut, at 8 KiB. */
#define FAIL_LINES	3
struct fail {
	int code;			/* sysexits code; -1: a signal; 0: none */
	int usage;			/* the usage text follows the lines */
	int nlines;
	char line[FAIL_LINES][8192];
};

struct put {
	struct put_opts opt;
	struct fail fail;
	struct s3_conf conf;
	struct s3_target target;
	struct stats st;
	uint64_t nrequests, nretries;
	struct partinfo *parts;		/* 1-based */
	unsigned parts_cap, nparts;
	char *upload_id;
	int progress_shown;
	int sigfd;			/* read end of the signal pipe */
	struct pool pool;
	int state_fd;			/* --prepare: its temporary file, or -1 */
	char *state_tmp;
	char etag[64];			/* the multipart ETag the parts make */
	char sha256[65];		/* of the stream, once read */
	uint64_t complete_ns;		/* time spent in Complete */
	time_t created;			/* --prepare started */
	/* 1: the way out must not abort upload_id: Complete was sent, or
	 * --prepare left it open on purpose, or a state file named it. */
	int keep_upload;
};

/* sig.c: set by the signal handler; the run checks sig_caught between
 * steps.  sig_install() returns the read end of the pipe it wakes. */
extern volatile sig_atomic_t sig_caught;
extern volatile sig_atomic_t sig_at_s;	/* CLOCK_MONOTONIC s of the first */
int sig_install(void);

/* parts.c: the acknowledged parts (1-based in p->parts), the multipart
 * ETag they make, the CompleteMultipartUpload body that lists them.  No
 * exit: -1 or NULL when out of memory (or, parts_etag, without MD5). */
int parts_record(struct put *p, unsigned partno, uint64_t size,
    const unsigned char md5[16], const char *etag);
int parts_etag(const struct partinfo *pi, unsigned n, char *out, size_t len);
int parts_etag_ok(const char *s);
char *parts_complete_body(const struct put *p, size_t *lenp);

/* xfer.c: one request, its verdict, its retries, its URL. */
int xfer_init(struct put *p, struct xfer *x, enum op op, unsigned partno,
    const char *url, const void *body, size_t len, struct curl_slist *hdrs);
void xfer_rewind(struct xfer *x);
void xfer_free(struct xfer *x);
int xfer_judge(struct put *p, struct xfer *x, CURLcode rc, struct verdict *v,
    struct xml_answer *xml);
int xfer_run(struct put *p, struct xfer *x, int attempts, struct verdict *v,
    struct xml_answer *xml);
char *xfer_url(struct put *p, enum op op, unsigned partno, const char *upload_id);
void xfer_where(const struct put *p, const struct xfer *x, char *buf, size_t len);
uint64_t xfer_backoff_ns(int attempt);
int xfer_nap(uint64_t ns);
const char *xfer_header(const struct xfer *x, const char *name);

/* abort.c: abort_open aborts the upload the run opened unless kept
 * (struct put's keep_upload); main() calls it on its way out. */
int abort_upload(struct put *p, const char *upload_id);
void abort_open(struct put *p);

/* report.c: failures recorded on their way to main() (struct fail),
 * statistics.  report_fail and report_verdict record p->fail (the first
 * code stays, the lines add up) and return -1, for the caller to return. */
int report_fail(struct put *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int report_code(struct put *p, int code);
int report_verdict(struct put *p, const struct xfer *x, const struct verdict *v);
void report_stats(struct put *p);
int report_pairs(void *arg, char *buf, size_t len);
void report_progress_end(struct put *p);

/* pool.c */
int pool_start(struct put *p);
void pool_stop(struct put *p);
void pool_finish(struct put *p);
uint64_t pool_part_size(const struct pool *pl, unsigned n);

/* upload.c: 0, or -1 with p->fail recorded. */
int upload_stream(struct put *p);
int upload_complete(struct put *p);

/* state.c: state_read returns the phase; the others 0; all -1 with
 * p->fail recorded. */
enum { PH_CREATING, PH_UPLOADING, PH_READY };
int state_open(struct put *p, const char *path);
int state_write(struct put *p, const char *path, int phase);
int state_read(struct put *p, const char *path);

/* bucket.c: 0, or -1 with p->fail recorded (a missing object: code 66,
 * nothing to say). */
int bucket_list(struct put *p, const char *uri, int do_abort);
int bucket_abort_since(struct put *p, time_t since);
int bucket_head(struct put *p, const char *uri);
int bucket_get(struct put *p, const char *uri);

#endif
