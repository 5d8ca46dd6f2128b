/*
 * stats.c - counters, --stats summary and -v progress formatting.
 */
#include "stats.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t
stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
stats_init(struct stats *st)
{
	*st = (struct stats){ 0 };
	st->start_ns = stats_now_ns();
	st->last_progress_ns = st->start_ns;
}

static double
tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int
stats_summary(const struct stats *st, const char *in_name,
    const char *out_name, char *buf, size_t len)
{
	struct rusage ru = { 0 };
	double wall = (double)(stats_now_ns() - st->start_ns) / 1e9;

	getrusage(RUSAGE_SELF, &ru);
	return snprintf(buf, len,
	    "%s=%llu %s=%llu bytes_in=%llu bytes_out=%llu wall=%.3f cpu=%.3f "
	    "user=%.3f sys=%.3f blocked_in=%.3f blocked_out=%.3f maxrss_kib=%ld",
	    in_name, (unsigned long long)st->records,
	    out_name, (unsigned long long)st->units_out,
	    (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
	    wall, tv_s(ru.ru_utime) + tv_s(ru.ru_stime),
	    tv_s(ru.ru_utime), tv_s(ru.ru_stime),
	    (double)st->blocked_in_ns / 1e9, (double)st->blocked_out_ns / 1e9,
	    ru.ru_maxrss);
}

static void
human(double v, char *buf, size_t len)
{
	const char *u = "";

	if (v >= 1e9) { v /= 1e9; u = "G"; }
	else if (v >= 1e6) { v /= 1e6; u = "M"; }
	else if (v >= 1e3) { v /= 1e3; u = "k"; }
	snprintf(buf, len, "%.2f%s", v, u);
}

int
stats_progress(struct stats *st, const char *in_name, char *buf, size_t len)
{
	uint64_t now = stats_now_ns();
	char recs[32], bytes[32], rate[32];
	double dt, el;
	uint64_t total = st->bytes_in > st->bytes_out ? st->bytes_in : st->bytes_out;

	if (now - st->last_progress_ns < 500000000u)
		return 0;
	dt = (double)(now - st->last_progress_ns) / 1e9;
	el = (double)(now - st->start_ns) / 1e9;
	human((double)st->records, recs, sizeof recs);
	human((double)total, bytes, sizeof bytes);
	human((double)(total - st->last_progress_bytes) / dt, rate, sizeof rate);
	snprintf(buf, len, "%s %s, %sB, %sB/s, %u:%02u:%02u", recs, in_name,
	    bytes, rate, (unsigned)(el / 3600), (unsigned)el / 60 % 60,
	    (unsigned)el % 60);
	st->last_progress_ns = now;
	st->last_progress_bytes = total;
	return 1;
}

/* ---- --stats-file ------------------------------------------------------- */

static struct {
	const char *path;
	stats_pairs_fn *fn;
	void *arg;
	pid_t owner;		/* a forked child that exit()s writes nothing */
	int armed, done, registered;
} sf;

__attribute__((format(printf, 2, 3))) static int
sf_fail(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err, STATS_ERR_LEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}


/* The pairs one a line, then exit=status, into path.XXXXXX, renamed over
 * path.  err may be NULL (the exit handler). */
static int
sf_write(int status, char *err)
{
	char text[1200], *tmp = NULL;
	FILE *f;
	int n, fd, saved, ok;
	size_t len;

	/* 32 bytes kept for "\nexit=STATUS\n". */
	n = sf.fn(sf.arg, text, sizeof text - 32);
	if (n < 0 || (size_t)n >= sizeof text - 32)
		return sf_fail(err, "%s: the statistics do not fit in %zu bytes", sf.path,
		    sizeof text - 32);
	for (char *c = text; *c; c++)
		if (*c == ' ')
			*c = '\n';
	len = (size_t)n;
	len += (size_t)snprintf(text + len, sizeof text - len, "%sexit=%d\n",
	    len ? "\n" : "", status);
	if (asprintf(&tmp, "%s.XXXXXX", sf.path) < 0)
		return sf_fail(err, "%s: %s", sf.path, strerror(ENOMEM));
	if ((fd = mkstemp(tmp)) < 0) {
		saved = errno;
		free(tmp);
		return sf_fail(err, "%s: %s", sf.path, strerror(saved));
	}
	/* stdio loops on short writes; fclose says whether all went out. */
	if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		goto fail;
	}
	ok = fwrite(text, 1, len, f) == len;
	saved = errno;
	if (fclose(f) != 0 || !ok) {
		if (ok)
			saved = errno;
		goto fail;
	}
	if (rename(tmp, sf.path) != 0) {
		saved = errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return sf_fail(err, "%s: %s", sf.path, strerror(saved));
}

#if defined(__GLIBC__)
/* on_exit(3), a GNU extension: the only exit hook that gets the status. */
static void
sf_at_exit(int status, void *unused)
{
	if (sf.armed && !sf.done && getpid() == sf.owner) {
		sf.done = 1;
		(void)sf_write(status, NULL);
	}
}
#endif

int
stats_file_arm(const char *path, stats_pairs_fn *fn, void *arg, char *err)
{
	char *tmp;
	int fd, saved;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return sf_fail(err, "%s: %s", path, strerror(ENOMEM));
	if ((fd = mkstemp(tmp)) < 0) {
		saved = errno;
		free(tmp);
		return sf_fail(err, "%s: %s", path, strerror(saved));
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	sf.path = path;
	sf.fn = fn;
	sf.arg = arg;
	sf.owner = getpid();
	sf.armed = 1;
	sf.done = 0;
#if defined(__GLIBC__)
	if (!sf.registered && on_exit(sf_at_exit, NULL) != 0)
		return sf_fail(err, "%s: on_exit failed", path);
	sf.registered = 1;
#endif
	return 0;
}

int
stats_file_write(int status, char *err)
{
	if (!sf.armed || sf.done)
		return 0;
	sf.done = 1;
	return sf_write(status, err);
}
