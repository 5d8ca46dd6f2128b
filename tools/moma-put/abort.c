/*
 * abort.c - AbortMultipartUpload of one upload: what main() does on its
 * way out with an upload this run opened and did not commit (abort_open),
 * what --abort STATE and --abort-uploads do on purpose (moma-put.c,
 * bucket.c).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "put.h"

/* AbortMultipartUpload; 0 when gone (or already gone), -1 with a warning. */
int
abort_upload(struct put *p, const char *upload_id)
{
	struct xfer x;
	struct verdict v;
	struct xml_answer xml;
	char *url = xfer_url(p, OP_ABORT, 0, upload_id);
	int r = -1;

	memset(&v, 0, sizeof v);
	snprintf(v.msg, sizeof v.msg, "out of memory");
	if (xfer_init(p, &x, OP_ABORT, 0, url, NULL, 0,
	    s3_base_headers(NULL, &p->conf, S3_EMPTY_SHA256)) == 0)
		r = xfer_run(p, &x, 3, &v, &xml);
	/* Gone already (Swift says NoSuchKey of a completed upload). */
	if (r != 0 && (strcmp(v.code, "NoSuchUpload") == 0 ||
	    strcmp(v.code, "NoSuchKey") == 0))
		r = 0;
	if (r != 0)
		warnx("%s: AbortMultipartUpload: %s; upload %s stays open until "
		    "aborted (moma-put --abort-uploads, or a bucket lifecycle rule)",
		    p->target.name, v.msg, upload_id);
	else if (p->opt.verbose)
		warnx("%s: upload %s aborted", p->target.name, upload_id);
	xfer_free(&x);
	free(url);
	return r;
}

/* On the way out of a failed run (main): nothing left behind.  The
 * upload the run opened is aborted unless kept (Complete sent, --prepare
 * done, or named by a state file), and with it the --prepare state file
 * that describes it. */
void
abort_open(struct put *p)
{
	if (p->upload_id == NULL || p->keep_upload)
		return;
	p->keep_upload = 1;
	if (abort_upload(p, p->upload_id) == 0 && p->opt.prepare != NULL)
		unlink(p->opt.prepare);
}
