/*
 * moma-fetch - stream the messages of one zone valid on one date out of
 * PostgreSQL as a moma frame stream (man/moma-fetch.1, man/moma-frame.5).
 *
 * One JOIN inside one READ ONLY REPEATABLE READ transaction (-j K: K
 * connections on one exported snapshot), the zone and the date bound on
 * the server with set_config() and read by current_setting() in the
 * query, rows in binary through COPY (run.c) in (campagne_id, id) order
 * (the K shards merged on that key), converted to frames (rows.c).  Any
 * error exits before the frame trailer is written, which is how
 * moma-encode learns that the stream is incomplete.
 *
 * Files: moma-fetch.c options and the run; pg.c connections, snapshot,
 * errors; run.c copy and stream modes; pgcopy.c the binary COPY format;
 * rows.c the column contract and rows to frames; record.c what the run
 * records on its way (the failure, the rows set aside, progress), which
 * every other file calls and which calls none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "../cli.h"
#include "dvbtime.h"
#include "fetch.h"
#include "num.h"

#define MAX_BATCH	1000000
#define QUERY_MAX	(1 << 20)

/*
 * The messages of each valid campaign through LATERAL: one range of the
 * index on messages (campagne_id_fk, id) per campaign, campaign by
 * campaign, so the rows come in (campagne_id, id) order with no sort of
 * the zone.  A plain JOIN gets a hash join and a sort of every row of the
 * zone as soon as the zone is a part of the table (measured on 10 M rows
 * over 4 zones: 4.6 s of server CPU against 1.8 s; on a table holding
 * one zone only, a merge join, 10% less than this).
 */
static const char default_query[] =
    "SELECT m.id, c.id AS campagne_id, m.numero_abonne,\n"
    "       c.valid_start, c.valid_end, m.template_id, c.ack_delay,\n"
    "       c.genre, c.ack_count, m.storables\n"
    "  FROM campagnes c\n"
    " CROSS JOIN LATERAL (SELECT * FROM messages m WHERE m.campagne_id_fk = c.id\n"
    "                     ORDER BY m.id) m\n"
    " WHERE c.zone_diffusion = current_setting('moma.zone')::smallint\n"
    "   AND c.valid_start < current_setting('moma.date')::date + 1\n"
    "   AND c.valid_end >= current_setting('moma.date')::date";

static const char usage_text[] =
    "usage: moma-fetch [-v] [-d conninfo] [--campaigns file] [--date yyyy-mm-dd]\n"
    "                  [-j jobs] [--explain] [--fetch-mode mode] [--max-reject n]\n"
    "                  [--query file] [--reject-log file] [--snapshot name] [--stats]\n"
    "                  [--stats-file file] [--zone-name name] --zone n\n"
    "       moma-fetch -h | -V\n";

static const char help_text[] =
    "\nStream the messages of zone n valid on a date (default today,\n"
    "UTC) out of PostgreSQL as a moma frame stream on standard output.\n\n"
    "  --campaigns file   only the campaigns whose ids file lists, one a line\n"
    "  -d conninfo        libpq connection string or URI (else PG* variables)\n"
    "  --dbname conninfo  the same as -d\n"
    "  --date yyyy-mm-dd  the day whose valid campaigns are read\n"
    "  --explain          print the query plan and exit\n"
    "  --fetch-mode mode  copy (default) or stream\n"
    "  -h, --help         show this help\n"
    "  -j, --jobs k       k connections on one snapshot, each a shard\n"
    "  --max-reject n     with --reject-log: fail once more than n rows are set aside\n"
    "  --query file       another query returning the documented columns\n"
    "  --reject-log file  set bad rows aside, one JSON line each in file, and go on\n"
    "  --snapshot name    read in this exported snapshot (pg_export_snapshot())\n"
    "  --stats            print a one-line summary on standard error at exit\n"
    "  --stats-file FILE  write the same as key=value lines to FILE at exit\n"
    "  -v, --verbose      progress on standard error when it is a terminal\n"
    "  -V, --version      print the version\n"
    "  --zone n           the zone: campagnes.zone_diffusion, 0..255\n"
    "  --zone-name name   the zone's name for the stream header\n";

/* The usage on standard error, and exit with code (EX_USAGE). */
static _Noreturn void
usage(int code)
{
	fputs(usage_text, stderr);
	exit(code);
}

struct opts {
	const char *date, *qfile, *zname, *stats_path, *rlog_path, *campaigns;
	long zone;
	int explain, stats;
	char today[16], zone_txt[24];	/* the default --date; --zone as text */
};

/*
 * Strict YYYY-MM-DD naming a real day: 0, or -1 with why.  The day must
 * be one a DVB UTC_time can carry (16-bit MJD, 1858-11-17..2038-04-22):
 * a campaign valid on another day ends after 2038-04-22 or starts before
 * 1858-11-17, so none of its messages could be encoded.  (PostgreSQL
 * itself would take 4713 BC to 5874897 AD, but no year 0.)
 */
static int
check_date(const char *s, const char **why)
{
	int64_t t, y;
	unsigned m, d;
	char back[16];

	*why = "not a date YYYY-MM-DD";
	if (strlen(s) != 10 || dvbtime_parse(s, 10, &t) != 0)
		return -1;
	dvbtime_civil_from_days(t / 86400, &y, &m, &d);
	snprintf(back, sizeof back, "%04lld-%02u-%02u", (long long)y, m, d);
	if (strcmp(back, s) != 0)
		return -1;
	*why = "out of range 1858-11-17..2038-04-22 (the days of a DVB UTC_time, 16-bit MJD)";
	return t < DVBTIME_MIN || t > DVBTIME_MAX ? -1 : 0;
}

/* A snapshot name is hex digits and dashes: it goes in SQL text. */
static const char *
snapshot_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || strspn(s, "0123456789ABCDEFabcdef-") != strlen(s)) {
		warnx("--snapshot: '%s' is not a snapshot name", s);
		usage(EX_USAGE);
	}
	return s;
}

/* What the options say together: --zone given, --date a DVB day,
 * --zone-name short enough; else the usage error. */
static void
check_args(const struct opts *o)
{
	const char *why;

	if (o->zone < 0) {
		warnx("--zone is required");
		usage(EX_USAGE);
	}
	if (o->date != NULL && check_date(o->date, &why) != 0) {
		warnx("--date: %s: %s", o->date, why);
		usage(EX_USAGE);
	}
	if (o->zname != NULL && strlen(o->zname) > 255) {
		warnx("--zone-name: longer than 255 bytes");
		usage(EX_USAGE);
	}
}

/* Options into f and o: a bad one leaves with the usage (64), --help and
 * --version with cli_help_exit, before any work. */
static void
parse_args(int argc, char **argv, struct fetch *f, struct opts *o)
{
	enum { O_BATCH = 256, O_DATE, O_EXPLAIN, O_MAX_REJECT, O_MODE, O_QUERY,
		O_REJECT_LOG, O_STATS, O_STATS_FILE, O_ZONE, O_ZONE_NAME, O_VERSION,
		O_SNAPSHOT, O_CAMPAIGNS };
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, O_BATCH },
		{ "campaigns", required_argument, NULL, O_CAMPAIGNS },
		{ "date", required_argument, NULL, O_DATE },
		{ "dbname", required_argument, NULL, 'd' },
		{ "explain", no_argument, NULL, O_EXPLAIN },
		{ "fetch-mode", required_argument, NULL, O_MODE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "max-reject", required_argument, NULL, O_MAX_REJECT },
		{ "query", required_argument, NULL, O_QUERY },
		{ "reject-log", required_argument, NULL, O_REJECT_LOG },
		{ "snapshot", required_argument, NULL, O_SNAPSHOT },
		{ "stats", no_argument, NULL, O_STATS },
		{ "stats-file", required_argument, NULL, O_STATS_FILE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "zone", required_argument, NULL, O_ZONE },
		{ "zone-name", required_argument, NULL, O_ZONE_NAME },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "d:hj:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			f->jobs = (int)cli_num(optarg, "-j", 0, 1, FETCH_MAX_JOBS, usage);
			break;
		case O_BATCH:	/* the cursor modes' batch size, now unused */
			cli_num(optarg, "--batch", 0, 1, MAX_BATCH, usage);
			break;
		case O_CAMPAIGNS: o->campaigns = optarg; break;
		case O_DATE: o->date = optarg; break;
		case 'd': f->conninfo = optarg; break;
		case O_EXPLAIN: o->explain = 1; break;
		case O_MAX_REJECT:
			f->max_reject = cli_num(optarg, "--max-reject", 0, 0, LONG_MAX - 1, usage);
			break;
		case O_MODE:
			if (strcmp(optarg, "stream") == 0)
				f->mode = MODE_STREAM;
			else if (strcmp(optarg, "copy") == 0)
				f->mode = MODE_COPY;
			else {
				warnx("--fetch-mode: %s: want copy or stream", optarg);
				usage(EX_USAGE);
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			cli_help_exit();
			break;
		case O_QUERY: o->qfile = optarg; break;
		case O_REJECT_LOG: o->rlog_path = optarg; break;
		case O_SNAPSHOT: f->snapshot = snapshot_name(optarg); break;
		case O_STATS: o->stats = 1; break;
		case O_STATS_FILE: o->stats_path = optarg; break;
		case 'v':
			f->verbose = isatty(STDERR_FILENO);
			break;
		case 'V':
		case O_VERSION:
			printf("moma-fetch %s\n", MOMA_VERSION);
			cli_help_exit();
			break;
		case O_ZONE:
			o->zone = (long)cli_num(optarg, "--zone", 0, 0, 255, usage);
			break;
		case O_ZONE_NAME: o->zname = optarg; break;
		default:
			usage(EX_USAGE);
		}
	}
	if (argc != optind && o->zone >= 0)
		usage(EX_USAGE);
	check_args(o);
}

/* The query text from path ("-": stdin), without a trailing semicolon
 * (it goes inside COPY (...)).  NULL with f's error set. */
static char *
read_query(struct fetch *f, const char *path)
{
	FILE *q = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *s = NULL;
	size_t n;

	if (q == NULL) {
		fetch_fail(f, EX_NOINPUT, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((s = malloc(QUERY_MAX + 1)) == NULL) {
		fetch_fail(f, EX_OSERR, "malloc: %s", strerror(errno));
		goto out;
	}
	n = fread(s, 1, QUERY_MAX + 1, q);
	if (ferror(q))
		fetch_fail(f, EX_IOERR, "%s: %s", path, strerror(errno));
	else if (n > QUERY_MAX)
		fetch_fail(f, EX_DATAERR, "%s: query longer than %d bytes", path, QUERY_MAX);
	else if (memchr(s, '\0', n) != NULL)
		fetch_fail(f, EX_DATAERR, "%s: NUL byte in query", path);
	else {
		while (n > 0 && strchr(" \t\r\n;", s[n - 1]) != NULL)
			n--;
		s[n] = '\0';
		if (n > 0)
			goto out;
		fetch_fail(f, EX_DATAERR, "%s: empty query", path);
	}
	free(s);
	s = NULL;
out:
	if (q != stdin)
		fclose(q);
	return s;
}

/*
 * --campaigns: the ids of path, one a line (decimal, up to 19 digits), as
 * the array literal "{id,...}".  NULL with f's error set.
 */
static char *
read_campaigns(struct fetch *f, const char *path)
{
	FILE *in = fopen(path, "r");
	char line[64], *a = NULL, *na;
	size_t len = 1, cap = 0;
	unsigned long lineno = 0;

	if (in == NULL) {
		fetch_fail(f, EX_NOINPUT, "--campaigns %s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof line, in) != NULL) {
		size_t n = strcspn(line, "\n");

		lineno++;
		if (line[n] != '\n' && !feof(in)) {
			fetch_fail(f, EX_DATAERR, "--campaigns %s: line %lu: too long", path, lineno);
			goto bad;
		}
		line[n] = '\0';
		if (n == 0 || n > 19 || strspn(line, "0123456789") != n) {
			fetch_fail(f, EX_DATAERR, "--campaigns %s: line %lu: '%.20s' is not a campaign id",
			    path, lineno, line);
			goto bad;
		}
		if (len + n + 2 > cap) {
			cap = (cap + n + 2) * 2;
			if ((na = realloc(a, cap)) == NULL) {
				fetch_fail(f, EX_OSERR, "out of memory");
				goto bad;
			}
			a = na;
		}
		a[len - 1] = len == 1 ? '{' : ',';
		memcpy(a + len, line, n);
		len += n + 1;
	}
	if (ferror(in)) {
		fetch_fail(f, EX_IOERR, "--campaigns %s: %s", path, strerror(errno));
		goto bad;
	}
	fclose(in);
	if (a == NULL && (a = malloc(3)) != NULL)
		len = 2, a[0] = '{';
	if (a == NULL) {
		fetch_fail(f, EX_OSERR, "out of memory");
		return NULL;
	}
	a[len - 1] = '}';
	a[len] = '\0';
	return a;
bad:
	fclose(in);
	free(a);
	return NULL;
}

/*
 * The header's creation time into *t: now, or SOURCE_DATE_EPOCH when set
 * (reproducible-builds.org), so that the same data can give the same
 * frame stream byte for byte.  The carousel never depends on it.  0, or
 * -1 with f's error set (64).
 */
static int
created(struct fetch *f, int64_t *t)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char e[NUM_ERR_LEN];
	uint64_t v;

	*t = (int64_t)time(NULL);
	if (s == NULL || *s == '\0')
		return 0;
	if (num_arg(e, sizeof e, "SOURCE_DATE_EPOCH", s, 0, 0, INT64_MAX, &v) != 0)
		return fetch_fail(f, EX_USAGE, "%s", e);
	*t = (int64_t)v;
	return 0;
}

/* The --stats pairs (stats_pairs_fn). */
static int
fetch_pairs(void *arg, char *buf, size_t len)
{
	struct fetch *f = arg;

	int n;

	f->st.units_out = f->fw.nmsg;
	n = stats_summary(&f->st, "rows", "frames", buf, len);
	if (n < 0 || (size_t)n >= len)
		return n;
	return n + snprintf(buf + n, len - (size_t)n, " rejected=%llu",
	    (unsigned long long)f->rejects);
}

static void
print_stats(struct fetch *f, int show)
{
	char line[512];

	if (f->progress)
		fputc('\n', stderr);
	if (!show)
		return;
	fetch_pairs(f, line, sizeof line);
	fprintf(stderr, "moma-fetch: stats: %s\n", line);
}

/* Connect, bind, check the query, then explain it or read every row and
 * write the frames, trailer last.  0 or -1 with f's error set. */
static int
fetch_run(struct fetch *f, int explain)
{
	if (pg_connect(f) || pg_bind(f, f->conn[0], 0, f->jobs) || pg_describe(f))
		return -1;
	if (explain)
		return pg_explain(f);
	/* COPY takes no bind parameters: a --query of 0.1 ($1, $2) streams. */
	if (f->nparams > 0)
		f->mode = MODE_STREAM;
	if (frame_writer_open(&f->fw, &f->out, &f->hdr) != FRAME_OK)
		return fetch_fail(f, io_write_exit(errno), "stdout: %s", strerror(errno));
	if (pg_open_shards(f, f->jobs))
		return -1;
	for (int i = 1; i < f->nconn; i++)
		if (pg_bind(f, f->conn[i], i, f->jobs))
			return -1;
	if (fetch_rows(f))
		return -1;
	/* Everything is read: only now may the trailer go out. */
	if (pg_commit(f))
		return -1;
	if (frame_write_end(&f->fw) != FRAME_OK)
		return fetch_fail(f, io_write_exit(errno), "stdout: %s", strerror(errno));
	return 0;
}

/* The run's settings from the options: the header, --stats-file, the
 * output, --reject-log.  0, or -1 with f's error set. */
static int
setup(struct fetch *f, struct opts *o)
{
	char serr[STATS_ERR_LEN];

	/* A closed stdout would be the first descriptor free: libpq's socket
	 * would take it, and the frames would go to the server. */
	if (fcntl(STDOUT_FILENO, F_GETFD) == -1)
		return fetch_fail(f, EX_IOERR, "stdout: %s", strerror(errno));
	if (o->date == NULL) {
		int64_t y;
		unsigned m, d;

		dvbtime_civil_from_days((int64_t)time(NULL) / 86400, &y, &m, &d);
		snprintf(o->today, sizeof o->today, "%04lld-%02u-%02u", (long long)y, m, d);
		o->date = o->today;
	}
	snprintf(o->zone_txt, sizeof o->zone_txt, "%ld", o->zone);
	f->zone = o->zone_txt;
	f->date = o->date;
	f->hdr.network_id = (uint8_t)o->zone;
	memcpy(f->hdr.date, o->date, 10);	/* checked: exactly 10 bytes */
	if (created(f, &f->hdr.created) != 0)
		return -1;
	snprintf(f->hdr.zone, sizeof f->hdr.zone, "%s", o->zname ? o->zname : o->zone_txt);
	snprintf(f->hdr.producer, sizeof f->hdr.producer, "moma-fetch %s", MOMA_VERSION);
	stats_init(&f->st);
	if (o->stats_path && stats_file_arm(o->stats_path, fetch_pairs, f, serr) != 0)
		return fetch_fail(f, EX_CANTCREAT, "--stats-file %s", serr);
	if (io_out_init(&f->out, STDOUT_FILENO, 256 * 1024, &f->st) != 0)
		return fetch_fail(f, EX_OSERR, "malloc: %s", strerror(errno));
	if ((f->rlog_path = o->rlog_path) != NULL && !o->explain &&
	    (f->rlog = fopen(o->rlog_path, "we")) == NULL)
		return fetch_fail(f, EX_CANTCREAT, "%s: %s", o->rlog_path, strerror(errno));
	return 0;
}

/* The query (and --campaigns) read, the run, its resources released and
 * the reject log closed.  0, or -1 with f's error set. */
static int
fetch_all(struct fetch *f, const struct opts *o)
{
	int rc;

	f->query = o->qfile ? read_query(f, o->qfile) : strdup(default_query);
	if (f->query == NULL && !o->qfile)
		fetch_fail(f, EX_OSERR, "out of memory");
	if (f->query != NULL && o->campaigns != NULL &&
	    (f->campaigns = read_campaigns(f, o->campaigns)) == NULL) {
		free(f->query);
		f->query = NULL;
	}
	rc = f->query ? fetch_run(f, o->explain) : -1;
	pg_close(f);
	io_out_free(&f->out);
	free(f->query);
	free(f->campaigns);
	if (f->rlog != NULL && (fflush(f->rlog) != 0 || ferror(f->rlog) || fclose(f->rlog) != 0) &&
	    rc == 0)
		rc = fetch_fail(f, EX_IOERR, "%s: %s", o->rlog_path, strerror(errno));
	return rc;
}

/* The one way out: a failure anywhere is recorded in f (fetch_fail) and
 * comes back here to be printed, counted in --stats-file and exited with. */
int
main(int argc, char **argv)
{
	static struct fetch f = { .mode = MODE_COPY, .jobs = 1, .max_reject = UINT64_MAX };
	struct opts o = { .zone = -1 };
	char serr[STATS_ERR_LEN];
	int rc;

	parse_args(argc, argv, &f, &o);
	if ((rc = setup(&f, &o)) == 0) {
		rc = fetch_all(&f, &o);
		print_stats(&f, o.stats && !o.explain);
	}
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = fetch_fail(&f, io_write_exit(errno), "stdout: %s", strerror(errno));
	if (rc == 0 && stats_file_write(0, serr) != 0)
		rc = fetch_fail(&f, EX_CANTCREAT, "--stats-file %s", serr);
	if (rc == 0)
		return 0;
	warnx("%s", f.err);
	(void)stats_file_write(f.code, NULL);
	return f.code;
}
