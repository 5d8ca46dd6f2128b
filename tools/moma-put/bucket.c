/*
 * bucket.c - what an operator (and moma-zone) asks of a bucket besides
 * uploads: the multipart uploads left open (--list-uploads), clearing
 * them (--abort-uploads), and the object now at a key (--head).
 */
#define _XOPEN_SOURCE 700
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include "put.h"

/* "2026-12-01T09:00:00.000Z" to seconds since the epoch; -1 if not. */
static time_t
iso_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (end == NULL)
		return -1;
	return timegm(&tm);
}

static char *
list_url(struct put *p, const char *key_marker, const char *id_marker)
{
	char *km = s3_uri_encode(key_marker, 0), *pf = s3_uri_encode(p->target.key, 0);
	char *im = s3_uri_encode(id_marker, 0), *u = NULL;

	/* Parameters sorted, as SigV4's canonical query wants them. */
	if (km == NULL || pf == NULL || im == NULL ||
	    asprintf(&u, "%s?key-marker=%s&prefix=%s&upload-id-marker=%s&uploads=",
	    p->target.url, km, pf, im) < 0) {
		report_fail(p, EX_OSERR, "out of memory");
		u = NULL;
	}
	free(km);
	free(pf);
	free(im);
	return u;
}

/* Abort one listed upload; 0, 1 after a warning, or -1 (out of memory,
 * recorded). */
static int
abort_listed(struct put *p, const struct xml_upload *u)
{
	struct s3_target bucket = p->target, obj;
	char *uri, errbuf[S3_ERR_LEN];
	int r;

	if (asprintf(&uri, "s3://%s/%s", bucket.bucket, u->key) < 0)
		return report_fail(p, EX_OSERR, "out of memory");
	if (s3_target_parse(uri, &p->conf, &obj, errbuf, sizeof errbuf) != 0) {
		warnx("%s (upload %s): %s; not aborted", uri, u->upload_id, errbuf);
		free(uri);
		return 1;
	}
	free(uri);
	p->target = obj;
	r = abort_upload(p, u->upload_id) != 0;
	p->target = bucket;
	s3_target_free(&obj);
	return r;
}

/* What to do with each listed upload. */
struct filter {
	int do_abort, print;
	time_t older, newer;		/* 0: no bound */
	const char *exact_key;		/* NULL: any key under the prefix */
	unsigned nfail;
};

/* One page of the listing: print (or abort) what it holds.  0, or -1
 * with p->fail recorded. */
static int
list_page(struct put *p, const struct xml_upload_list *l, struct filter *fl)
{
	for (int i = 0; i < l->n; i++) {
		const struct xml_upload *u = &l->up[i];
		time_t t = iso_time(u->initiated);
		int r;

		if ((fl->older && (t < 0 || t > fl->older)) ||
		    (fl->newer && (t < 0 || t < fl->newer)) ||
		    (fl->exact_key && strcmp(u->key, fl->exact_key) != 0))
			continue;
		if (fl->do_abort && (r = abort_listed(p, u)) != 0) {
			if (r < 0)
				return -1;
			fl->nfail++;
			continue;
		}
		if (fl->print && printf("%s\t%s\t%s\n", u->key, u->upload_id,
		    u->initiated) < 0)
			return report_fail(p, EX_IOERR, "stdout: %s", strerror(errno));
	}
	return 0;
}

/* One page of ListMultipartUploads from the markers into l: 0, or -1
 * with p->fail recorded. */
static int
list_one(struct put *p, const char *key_marker, const char *id_marker,
    struct xml_upload_list *l)
{
	char *url = list_url(p, key_marker, id_marker);
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	int r = -1;

	if (url == NULL)
		return -1;
	if (xfer_init(p, &x, OP_LIST, 0, url, NULL, 0,
	    s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256)) != 0)
		report_fail(p, EX_OSERR, "out of memory");
	else if (xfer_run(p, &x, p->opt.retries + 1, &v, &xml) != 0)
		report_verdict(p, &x, &v);
	else if (xml_uploads_parse(x.resp, x.resp_len, l) != 0) {
		v.exit = EX_PROTOCOL;
		snprintf(v.msg, sizeof v.msg, "not a ListMultipartUploadsResult");
		report_verdict(p, &x, &v);
	} else
		r = 0;
	free(url);
	xfer_free(&x);
	return r;
}

/* Every page of ListMultipartUploads under p->target (a bucket target
 * whose key is the prefix), each through list_page().  0, or -1 with
 * p->fail recorded. */
static int
list_all(struct put *p, struct filter *fl)
{
	struct xml_upload_list *l = malloc(sizeof *l);
	char key_marker[1100] = "", id_marker[512] = "";
	int r = 0;

	if (l == NULL)
		return report_fail(p, EX_OSERR, "out of memory");
	for (int page = 0; page < 100000 && r == 0; page++) {
		r = list_one(p, key_marker, id_marker, l);
		if (r == 0)
			r = list_page(p, l, fl);
		if (r != 0 || strcmp(l->truncated, "true") != 0 || l->next_key[0] == '\0')
			break;
		snprintf(key_marker, sizeof key_marker, "%s", l->next_key);
		snprintf(id_marker, sizeof id_marker, "%s", l->next_upload_id);
	}
	free(l);
	return r;
}

/*
 * --abort STATE of a run killed before Create answered: abort the
 * uploads of the state's key initiated since `since` (less 30 s of clock
 * difference with S3).  0, 1 if one could not be aborted (after a
 * warning), or -1 with p->fail recorded.
 */
int
bucket_abort_since(struct put *p, time_t since)
{
	struct s3_target obj = p->target;
	char *uri, errbuf[S3_ERR_LEN];
	struct filter fl = { .do_abort = 1, .newer = since - 30,
	    .exact_key = obj.key };
	int r;

	if (asprintf(&uri, "s3://%s/%s", obj.bucket, obj.key) < 0)
		return report_fail(p, EX_OSERR, "out of memory");
	r = s3_bucket_parse(uri, &p->conf, &p->target, errbuf, sizeof errbuf);
	free(uri);
	if (r != 0) {
		p->target = obj;
		return report_fail(p, EX_DATAERR, "%s", errbuf);
	}
	r = list_all(p, &fl);
	s3_target_free(&p->target);
	p->target = obj;
	return r < 0 ? -1 : fl.nfail ? 1 : 0;
}

/*
 * --list-uploads / --abort-uploads s3://bucket[/prefix]: the open
 * multipart uploads under prefix, one "key TAB upload-id TAB initiated"
 * line each, every page of the listing; with do_abort each is aborted
 * first (those initiated more than --older-than ago, if given) and the
 * line printed once it is gone.  0, or -1 with p->fail recorded (69 if
 * an upload could not be aborted).
 */
int
bucket_list(struct put *p, const char *uri, int do_abort)
{
	char errbuf[S3_ERR_LEN];
	struct filter fl = { .do_abort = do_abort, .print = 1,
	    .older = do_abort && p->opt.older_than >= 0 ?
	    time(NULL) - p->opt.older_than : 0 };

	if (s3_bucket_parse(uri, &p->conf, &p->target, errbuf, sizeof errbuf) != 0)
		return report_fail(p, EX_USAGE, "%s", errbuf);
	if (list_all(p, &fl) != 0)
		return -1;
	if (fl.nfail)
		return report_fail(p, EX_UNAVAILABLE, "%s: %u uploads could not be aborted",
		    p->target.name, fl.nfail);
	return 0;
}

/*
 * --head s3://bucket/key: the object now at the key, as "name value"
 * lines: etag, size, last-modified, then meta-NAME for each
 * x-amz-meta-NAME.  Exit 0 if it exists, 66 if there is none, else the
 * request's failure.
 */
/*
 * HEAD or GET (op) of the object uri into x: 0, or -1 with p->fail
 * recorded (EX_NOINPUT and nothing to say if there is none), x freed.
 */
static int
object_request(struct put *p, const char *uri, enum op op, struct xfer *x)
{
	char errbuf[S3_ERR_LEN];
	struct verdict v;
	struct xml_answer xml;
	long http = 0;

	if (s3_target_parse(uri, &p->conf, &p->target, errbuf, sizeof errbuf) != 0)
		return report_fail(p, EX_USAGE, "%s", errbuf);
	if (xfer_init(p, x, op, 0, p->target.url, NULL, 0,
	    s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256)) != 0) {
		xfer_free(x);
		return report_fail(p, EX_OSERR, "out of memory");
	}
	if (xfer_run(p, x, p->opt.retries + 1, &v, &xml) != 0) {
		curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &http);
		if (http == 404)
			report_code(p, EX_NOINPUT);	/* an answer, nothing to say */
		else
			report_verdict(p, x, &v);
		xfer_free(x);
		return -1;
	}
	return 0;
}

int
bucket_head(struct put *p, const char *uri)
{
	struct xfer x;
	const char *h;

	if (object_request(p, uri, OP_HEAD, &x) != 0)
		return -1;
	printf("etag %s\n", x.etag);
	if ((h = xfer_header(&x, "Content-Length")) != NULL)
		printf("size %s\n", h);
	if ((h = xfer_header(&x, "Last-Modified")) != NULL)
		printf("last-modified %s\n", h);
	for (const struct curl_slist *l = x.resp_hdrs; l; l = l->next) {
		const char *c = strchr(l->data, ':');

		if (c != NULL && strncasecmp(l->data, "x-amz-meta-", 11) == 0) {
			const char *val = c + 1;

			while (*val == ' ')
				val++;
			printf("meta-");
			for (const char *k = l->data + 11; k < c; k++)
				putchar(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
			printf(" %s\n", val);
		}
	}
	xfer_free(&x);
	return 0;
}

/*
 * --get s3://bucket/key: a small object (a sidecar, an index: at most the
 * 1 MiB of an S3 answer) on standard output.  Exit 0, 66 if there is
 * none, 65 if it is larger, else the request's failure.
 */
int
bucket_get(struct put *p, const char *uri)
{
	struct xfer x;

	int r = 0;

	if (object_request(p, uri, OP_GET, &x) != 0)
		return -1;
	if (x.resp_overflow)
		r = report_fail(p, EX_DATAERR, "%s: larger than %u bytes (--get is for "
		    "small objects)", uri, RESP_MAX);
	else if (x.resp_len > 0 && fwrite(x.resp, 1, x.resp_len, stdout) != x.resp_len)
		r = report_fail(p, EX_IOERR, "stdout: %s", strerror(errno));
	xfer_free(&x);
	return r;
}
