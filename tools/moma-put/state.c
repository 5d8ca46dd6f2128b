/*
 * state.c - the two-phase state file: what --complete STATE and --abort
 * STATE need of an upload that --prepare left open.
 *
 *   moma-put-state 2
 *   phase creating|uploading|ready
 *   created SECONDS   (since the epoch, when --prepare started)
 *   endpoint URL|aws
 *   region R
 *   bucket B
 *   key K
 *   upload-id ID      (not while creating)
 *   bytes N           (ready only, with sha256 and the part lines)
 *   sha256 HEX
 *   etag E            (the multipart ETag the parts make)
 *   parts N
 *   1 SIZE MD5HEX ETAG
 *   ...
 *
 * It is written before CreateMultipartUpload is sent (phase creating: a
 * kill -9 before its answer leaves an upload whose id only S3 knows, so
 * --abort then aborts the key's uploads initiated since "created"), as
 * soon as Create answers (phase uploading) and when every part is stored
 * (phase ready).  Each write goes to STATE.tmp, created with
 * O_EXCL|O_NOFOLLOW and mode 0600, then fsync and rename.  It holds no
 * secret.  Read back it is untrusted input: every line is checked, in
 * order, and the endpoint and region must be the ones the current
 * configuration names, so credentials never go anywhere else.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "num.h"
#include "put.h"

#define STATE_MAGIC	"moma-put-state 2"
#define LINE_MAX_LEN	4096

static const char *
endpoint_id(const struct put *p)
{
	return p->conf.endpoint ? p->conf.endpoint : "aws";
}

/*
 * Create path's temporary file for writing.  A leftover regular file of
 * ours (a run killed while writing) is replaced; anything else there, a
 * symlink above all, is refused.  Returns the fd, or -1 with p->fail
 * recorded (73).
 */
static int
tmp_create(struct put *p, const char *tmp)
{
	for (int tries = 0; tries < 2; tries++) {
		struct stat sb;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);

		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		if (lstat(tmp, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    sb.st_uid != geteuid())
			return report_fail(p, EX_CANTCREAT, "%s: exists and is not a "
			    "leftover state file of ours (a symlink?): refusing to "
			    "write it", tmp);
		if (unlink(tmp) != 0)
			break;
	}
	return report_fail(p, EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
}

static char *
tmp_name(struct put *p, const char *path)
{
	char *tmp;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		report_fail(p, EX_OSERR, "out of memory");
		return NULL;
	}
	return tmp;
}

/*
 * Before any request of --prepare: the state file must be writable, and
 * must not already describe an upload (that one would be lost).
 * 0, or -1 with p->fail recorded (73).
 */
int
state_open(struct put *p, const char *path)
{
	char *tmp;
	struct stat sb;
	int fd;

	if (lstat(path, &sb) == 0)
		return report_fail(p, EX_CANTCREAT, "%s: exists: finish it with "
		    "--complete or --abort first", path);
	if ((tmp = tmp_name(p, path)) == NULL)
		return -1;
	fd = tmp_create(p, tmp);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return fd >= 0 ? 0 : -1;
}

static const char *const phase_name[] = { "creating", "uploading", "ready" };

static int
state_print(struct put *p, FILE *f, int phase)
{
	fprintf(f, "%s\nphase %s\ncreated %lld\nendpoint %s\nregion %s\n"
	    "bucket %s\nkey %s\n", STATE_MAGIC, phase_name[phase],
	    (long long)p->created, endpoint_id(p), p->conf.region,
	    p->target.bucket, p->target.key);
	if (phase == PH_CREATING)
		return 0;
	fprintf(f, "upload-id %s\n", p->upload_id);
	if (phase != PH_READY)
		return 0;
	if (parts_etag(p->parts, p->nparts, p->etag, sizeof p->etag) != 0)
		return report_fail(p, EX_SOFTWARE, "MD5 unavailable in libcrypto");
	fprintf(f, "bytes %" PRIu64 "\nsha256 %s\netag %s\nparts %u\n",
	    p->st.bytes_out, p->sha256, p->etag, p->nparts);
	for (unsigned i = 1; i <= p->nparts; i++) {
		char hex[33];

		s3_hex(p->parts[i].md5, 16, hex);
		fprintf(f, "%u %" PRIu64 " %s %s\n", i, p->parts[i].size, hex,
		    p->parts[i].etag);
	}
	return 0;
}

/* Write the state of phase (PH_READY: with the parts) atomically.  0,
 * or -1 with p->fail recorded; the caller decides about the upload. */
int
state_write(struct put *p, const char *path, int phase)
{
	char *tmp = tmp_name(p, path);
	FILE *f = NULL;
	int fd = tmp == NULL ? -1 : tmp_create(p, tmp), ok, e = 0;

	ok = fd >= 0 && (f = fdopen(fd, "w")) != NULL;
	if (ok) {
		ok = state_print(p, f, phase) == 0;
		ok = ok && fflush(f) == 0 && !ferror(f) && fsync(fd) == 0;
		e = errno;
		ok = fclose(f) == 0 && ok;
		fd = -1;
		ok = ok && rename(tmp, path) == 0;
		if (!ok)
			report_fail(p, EX_CANTCREAT, "%s: %s", path, strerror(e ? e : errno));
	} else if (fd >= 0) {
		report_fail(p, EX_CANTCREAT, "%s: %s", tmp, strerror(errno));
		close(fd);
	}
	if (!ok && f != NULL)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

/* ---- reading ------------------------------------------------------------ */

/* The reader records its first complaint and from then on reads nothing:
 * every step after it is a no-op, and state_read returns -1. */
struct reader {
	struct put *p;
	FILE *f;
	const char *path;
	char *line;
	size_t cap;
	unsigned lineno;
	int failed;
};

static void
bad(struct reader *r, const char *why)
{
	if (!r->failed)
		report_fail(r->p, EX_DATAERR, "%s: line %u: %s: not a valid moma-put "
		    "state file", r->path, r->lineno, why);
	r->failed = 1;
}

/* The next line, whole, without control characters ("" once failed). */
static char *
next_line(struct reader *r)
{
	ssize_t len;

	if (r->failed)
		return "";
	len = getline(&r->line, &r->cap, r->f);
	r->lineno++;
	if (len <= 0 || len > LINE_MAX_LEN || r->line[len - 1] != '\n') {
		bad(r, "truncated or overlong line");
		return "";
	}
	r->line[len - 1] = '\0';
	if ((size_t)(len - 1) != strlen(r->line))
		bad(r, "NUL byte");
	for (char *c = r->line; *c && !r->failed; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			bad(r, "control character");
	return r->failed ? "" : r->line;
}

/* The next line, which must be "name value"; returns the value. */
static char *
field(struct reader *r, const char *name)
{
	size_t n = strlen(name);
	char why[96], *l = next_line(r);

	if (r->failed)
		return "";
	if (strncmp(l, name, n) != 0 || l[n] != ' ' || l[n + 1] == '\0') {
		snprintf(why, sizeof why, "expected '%s'", name);
		bad(r, why);
		return "";
	}
	return l + n + 1;
}

static uint64_t
number(struct reader *r, const char *s, uint64_t max)
{
	uint64_t v = 0;

	if (!r->failed && num_parse(s, 0, 0, max, &v) != 0)
		bad(r, "bad number");
	return v;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
	    c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
read_part(struct reader *r, struct put *p, unsigned i)
{
	char want[16], md5hex[33], etag[72], tail, *l = next_line(r);
	unsigned char md5[16];
	uint64_t size;

	if (r->failed)
		return;
	snprintf(want, sizeof want, "%u ", i);
	if (strncmp(l, want, strlen(want)) != 0) {
		bad(r, "parts out of order");
		return;
	}
	if (sscanf(l + strlen(want), "%" SCNu64 " %32s %71s%c", &size,
	    md5hex, etag, &tail) != 3 || strlen(md5hex) != 32 || !parts_etag_ok(etag) ||
	    size > PART_MAX) {
		bad(r, "bad part line");
		return;
	}
	for (int k = 0; k < 16; k++) {
		int hi = hexval(md5hex[2 * k]), lo = hexval(md5hex[2 * k + 1]);

		if (hi < 0 || lo < 0) {
			bad(r, "bad MD5");
			return;
		}
		md5[k] = (unsigned char)(hi << 4 | lo);
	}
	if (parts_record(p, i, size, md5, etag) != 0) {
		report_fail(p, EX_OSERR, "out of memory");
		r->failed = 1;
	}
}

/* The endpoint, region, bucket and key of the state, against the
 * current configuration: a mismatch is 65, before any request. */
static void
read_target(struct reader *r, struct put *p)
{
	char *v, *uri = NULL, errbuf[S3_ERR_LEN], *bucket;
	int n;

	v = field(r, "endpoint");
	if (!r->failed && strcmp(v, endpoint_id(p)) != 0) {
		report_fail(p, EX_DATAERR, "%s: the upload is at endpoint %s, but the "
		    "configuration names %s: refusing to send anything",
		    r->path, v, endpoint_id(p));
		r->failed = 1;
	}
	v = field(r, "region");
	if (!r->failed && strcmp(v, p->conf.region) != 0) {
		report_fail(p, EX_DATAERR, "%s: the upload is in region %s, but the "
		    "configuration names %s: refusing to send anything",
		    r->path, v, p->conf.region);
		r->failed = 1;
	}
	bucket = strdup(field(r, "bucket"));
	v = field(r, "key");
	if (r->failed) {
		free(bucket);
		return;
	}
	if (bucket == NULL || asprintf(&uri, "s3://%s/%s", bucket, v) < 0) {
		free(bucket);
		report_fail(p, EX_OSERR, "out of memory");
		r->failed = 1;
		return;
	}
	n = s3_target_parse(uri, &p->conf, &p->target, errbuf, sizeof errbuf);
	free(uri);
	free(bucket);
	if (n != 0) {
		report_fail(p, EX_DATAERR, "%s: line %u: %s", r->path, r->lineno, errbuf);
		r->failed = 1;
	}
}

/* A ready state's bytes, sha256, etag and parts, the etag checked. */
static void
read_ready(struct reader *r, struct put *p)
{
	char *v, want_etag[64];

	p->st.bytes_out = number(r, field(r, "bytes"), OBJECT_MAX);
	v = field(r, "sha256");
	if (!r->failed && (strlen(v) != 64 || strspn(v, "0123456789abcdef") != 64))
		bad(r, "bad sha256");
	if (!r->failed)
		memcpy(p->sha256, v, 65);
	v = field(r, "etag");
	if (!r->failed && strlen(v) >= sizeof want_etag)
		bad(r, "bad etag");
	if (r->failed)
		return;
	memcpy(want_etag, v, strlen(v) + 1);
	p->nparts = (unsigned)number(r, field(r, "parts"), PARTS_MAX);
	if (!r->failed && p->nparts == 0)
		bad(r, "no parts");
	for (unsigned i = 1; i <= p->nparts && !r->failed; i++)
		read_part(r, p, i);
	if (r->failed)
		return;
	if (parts_etag(p->parts, p->nparts, p->etag, sizeof p->etag) != 0) {
		report_fail(p, EX_SOFTWARE, "MD5 unavailable in libcrypto");
		r->failed = 1;
	} else if (strcmp(want_etag, p->etag) != 0)
		bad(r, "etag does not match the parts");
}

/*
 * Read a state file written by --prepare into p (target, created,
 * upload_id, parts, sha256, etag); returns its phase (PH_READY: every
 * part was stored; PH_CREATING: no upload id), or -1 with p->fail
 * recorded: 66 if it cannot be opened, 65 if it is not a valid state
 * file or names another endpoint than the configuration.
 */
int
state_read(struct put *p, const char *path)
{
	struct reader r = { .p = p, .path = path };
	char *v;
	int phase = -1;

	if ((r.f = fopen(path, "re")) == NULL)
		return report_fail(p, EX_NOINPUT, "%s: %s", path, strerror(errno));
	r.lineno++;
	if (getline(&r.line, &r.cap, r.f) <= 0 ||
	    strcmp(r.line, STATE_MAGIC "\n") != 0)
		bad(&r, "no '" STATE_MAGIC "' line");
	v = field(&r, "phase");
	for (int i = 0; i < 3; i++)
		if (strcmp(v, phase_name[i]) == 0)
			phase = i;
	if (phase < 0)
		bad(&r, "unknown phase");
	p->created = (time_t)number(&r, field(&r, "created"), INT64_MAX);
	read_target(&r, p);
	if (phase != PH_CREATING) {
		v = field(&r, "upload-id");
		if (!r.failed && (strlen(v) >= 512 || strchr(v, ' ') != NULL))
			bad(&r, "bad upload id");
		if (!r.failed && (p->upload_id = strdup(v)) == NULL) {
			report_fail(p, EX_OSERR, "out of memory");
			r.failed = 1;
		}
	}
	if (phase == PH_READY)
		read_ready(&r, p);
	if (!r.failed && getline(&r.line, &r.cap, r.f) != -1)
		bad(&r, "trailing data");
	if (!r.failed && ferror(r.f)) {
		report_fail(p, EX_IOERR, "%s: %s", path, strerror(errno));
		r.failed = 1;
	}
	fclose(r.f);
	free(r.line);
	return r.failed ? -1 : phase;
}
