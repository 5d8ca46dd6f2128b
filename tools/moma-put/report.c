/*
 * report.c - a failure on its way to main() (struct fail: the exit code
 * and what to say), a failed request's message, the --stats line and
 * --stats-file pairs, and the end of the progress line.  Nothing here
 * prints a failure or exits: main() says the recorded lines, aborts what
 * the run left open and exits, in one place.
 */
#include <err.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "put.h"

/* The --stats pairs (stats_pairs_fn): the common ones, then retries=
 * and complete= (seconds in CompleteMultipartUpload). */
int
report_pairs(void *arg, char *buf, size_t len)
{
	struct put *p = arg;
	int n;

	p->st.units_out = p->nrequests;
	n = stats_summary(&p->st, "parts", "requests", buf, len);
	if (n < 0 || (size_t)n >= len)
		return n;
	return n + snprintf(buf + n, len - (size_t)n, " retries=%" PRIu64 " complete=%.3f",
	    p->nretries, (double)p->complete_ns / 1e9);
}

void
report_stats(struct put *p)
{
	char buf[512];

	if (!p->opt.stats)
		return;
	report_pairs(p, buf, sizeof buf);
	warnx("stats: %s", buf);
}

void
report_progress_end(struct put *p)
{
	if (p->progress_shown)
		fputc('\n', stderr);
	p->progress_shown = 0;
}

static int
vrecord(struct put *p, int code, const char *fmt, va_list ap)
{
	struct fail *f = &p->fail;

	if (f->code == 0)
		f->code = code;
	if (f->nlines < FAIL_LINES)
		vsnprintf(f->line[f->nlines++], sizeof f->line[0], fmt, ap);
	return -1;
}

/* Record code (unless a failure is recorded already) and the line
 * "MESSAGE", which main() says as "moma-put: MESSAGE".  Returns -1. */
int
report_fail(struct put *p, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(p, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* Record code alone (unless a failure is recorded already): an outcome
 * with nothing more to say (no such object, a signal, a warning given
 * already).  Returns -1. */
int
report_code(struct put *p, int code)
{
	if (p->fail.code == 0)
		p->fail.code = code;
	return -1;
}

/* Record the failure of request x, as "where: why", with its code (-1:
 * a signal interrupted it).  Returns -1. */
int
report_verdict(struct put *p, const struct xfer *x, const struct verdict *v)
{
	char w[256];

	xfer_where(p, x, w, sizeof w);
	return report_fail(p, v->exit, "%s: %s", w, v->msg);
}
