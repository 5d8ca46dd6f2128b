/*
 * stats.c - counters, --stats summary and -v progress formatting.
 */
#include "stats.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

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

long
stats_maxrss_kib(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
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
