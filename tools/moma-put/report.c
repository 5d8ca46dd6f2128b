/*
 * report.c - the run's way out: a failed request's message, the --stats
 * line and --stats-file pairs, the end of the progress line, and the exit
 * code (a signal that arrived is re-raised instead).  Every failure after
 * the configuration is read leaves through report_exit, which aborts an
 * upload the run opened and did not keep.
 */
#include <err.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

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

/* A failed run leaves nothing behind: the upload it opened is aborted
 * unless kept (Complete sent, --prepare done, or named by a state file),
 * and with it the --prepare state file that describes it. */
static void
abort_open(struct put *p)
{
	if (p->upload_id == NULL || p->keep_upload)
		return;
	p->keep_upload = 1;	/* once: the abort's own failure exits here too */
	if (abort_upload(p, p->upload_id) == 0 && p->opt.prepare != NULL)
		unlink(p->opt.prepare);
}

/* The one way out of a failed run (and of a signalled one): abort what
 * it opened, then exit with code; a signal that arrived is re-raised
 * instead.  The --stats-file says exit=128+N for signal N, as a shell
 * would. */
_Noreturn void
report_exit(struct put *p, int code)
{
	char serr[STATS_ERR_LEN];

	report_progress_end(p);
	if (code != 0 || sig_caught)
		abort_open(p);
	report_stats(p);
	if (code < 0 || sig_caught) {
		int sig = sig_caught ? (int)sig_caught : SIGTERM;

		if (stats_file_write(128 + sig, serr) != 0)
			warnx("--stats-file %s", serr);
		signal(sig, SIG_DFL);
		raise(sig);
		exit(128 + sig);
	}
	if (stats_file_write(code, serr) != 0) {
		warnx("--stats-file %s", serr);
		if (code == 0)
			code = EX_CANTCREAT;
	}
	exit(code);
}

void
report_verdict(struct put *p, const struct xfer *x, const struct verdict *v)
{
	char w[256];

	report_progress_end(p);
	xfer_where(p, x, w, sizeof w);
	warnx("%s: %s", w, v->msg);
}

/* Say "moma-put: MESSAGE" and take the way out with code. */
_Noreturn void
report_fail(struct put *p, int code, const char *fmt, ...)
{
	va_list ap;

	report_progress_end(p);
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	report_exit(p, code);
}

/* Report v for request x and exit with its code (re-raising a signal). */
_Noreturn void
report_die(struct put *p, const struct xfer *x, const struct verdict *v)
{
	report_verdict(p, x, v);
	report_exit(p, v->exit);
}
