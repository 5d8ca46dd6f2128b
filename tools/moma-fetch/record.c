/*
 * record.c - what a moma-fetch run records on its way: the failure that
 * ends it (fetch_fail: the sysexits(3) code and the message main()
 * prints), a row set aside (fetch_reject: --reject-log, --max-reject)
 * and the progress line (-v).  The bottom of the tool: every other file
 * calls it, it calls none of them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "fetch.h"

int
fetch_fail(struct fetch *f, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof f->err, fmt, ap);
	va_end(ap);
	f->code = code;
	return -1;
}

/* s as a JSON string, quotes included, on out (RFC 8259: ", \\ and the
 * controls escaped; the reasons are ASCII, which is all they need). */
static void
json_string(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			putc(*s, out);
	putc('"', out);
}

int
fetch_reject(struct fetch *f, long long id, int64_t cid, int has_cid)
{
	char pfx[48];
	const char *why = f->err;
	int n;

	if (f->rlog == NULL)
		return -1;
	/* The log has the id in its own field: the reason without it. */
	n = snprintf(pfx, sizeof pfx, "message %lld: ", id);
	if (strncmp(why, pfx, (size_t)n) == 0)
		why += n;
	if (f->progress)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "moma-fetch: row %llu (message %lld): %s (rejected)\n",
	    (unsigned long long)f->st.records, id, why);
	fprintf(f->rlog, "{\"id\":%lld,\"campagne_id\":", id);
	if (has_cid)
		fprintf(f->rlog, "%lld", (long long)cid);
	else
		fputs("null", f->rlog);
	fputs(",\"stage\":\"moma-fetch\",\"reason\":", f->rlog);
	json_string(f->rlog, why);
	fputs("}\n", f->rlog);
	if (ferror(f->rlog))
		return fetch_fail(f, EX_IOERR, "%s: %s", f->rlog_path, strerror(errno));
	if (++f->rejects > f->max_reject)
		return fetch_fail(f, EX_DATAERR, "row %llu (message %lld): more than %llu rows "
		    "set aside (--max-reject); stopping", (unsigned long long)f->st.records, id,
		    (unsigned long long)f->max_reject);
	return 0;
}

void
fetch_progress(struct fetch *f)
{
	char line[256];

	if (f->verbose && stats_progress(&f->st, "rows", line, sizeof line)) {
		fprintf(stderr, "\rmoma-fetch: %s ", line);
		f->progress = 1;
	}
}
