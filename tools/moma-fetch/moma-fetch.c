/*
 * moma-fetch - stream the messages of one zone valid on one date out of
 * PostgreSQL as a moma frame stream (man/moma-fetch.1, man/moma-frame.5).
 *
 * One JOIN inside one READ ONLY REPEATABLE READ transaction, rows in
 * binary.  By default (copy) it runs as COPY (query) TO STDOUT (FORMAT
 * binary), zone and date bound as literals: rows arrive as the executor
 * makes them, TCP flow control bounds memory, and libpq hands over each
 * tuple without building a result per row (40% less CPU than stream
 * mode, which runs the query with PQexecParams on the unnamed portal in
 * single-row mode; measured in tests/bench).  The cursor
 * modes (DECLARE NO SCROLL CURSOR, FETCH FORWARD n; pipelined, single-row
 * or plain) are kept for comparison: a FETCH stores each batch in a
 * tuplestore before sending it, measured 10-20% slower on 1 M rows (stream
 * 1.65 s, COPY binary 1.89 s, pipelined FETCH 2.10 s).  Any error exits before the frame trailer is
 * written, which is how moma-encode learns that the stream is incomplete.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "dvbtime.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "stats.h"

#define DEFAULT_BATCH	5000
#define MAX_JOBS	16
#define MAX_BATCH	1000000
#define QUERY_MAX	(1 << 20)
#define PIPE_DEPTH	2		/* FETCHes queued at the server */
#define CURSOR		"moma_fetch"

/* Server type OIDs (catalog/pg_type.h is not in libpq-dev). */
#define INT2OID		21
#define INT4OID		23
#define INT8OID		20
#define TEXTOID		25
#define JSONOID		114
#define VARCHAROID	1043
#define TIMESTAMPOID	1114
#define TIMESTAMPTZOID	1184
#define JSONBOID	3802

/* 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix seconds. */
#define PG_EPOCH_UNIX	INT64_C(946684800)

static const char default_query[] =
    "SELECT m.id, m.campagne_id_fk AS campagne_id, m.numero_abonne,\n"
    "       c.valid_start, c.valid_end, m.template_id, c.ack_delay,\n"
    "       c.genre, c.ack_count, m.storables\n"
    "  FROM campagnes c\n"
    "  JOIN messages m ON m.campagne_id_fk = c.id\n"
    " WHERE c.zone_diffusion = $1::smallint\n"
    "   AND c.valid_start < $2::date + 1\n"
    "   AND c.valid_end >= $2::date";

/*
 * The column contract of a --query: names and order are checked, and each
 * column may be of any of the listed types (integers are range-checked
 * against the frame width).  Order matches the 'M' record.
 */
enum kind { K_INT, K_TIME, K_JSON };
enum { C_ID, C_CAMPAGNE, C_ABONNE, C_VSTART, C_VEND, C_TEMPLATE, C_ACKDELAY,
	C_GENRE, C_ACKCOUNT, C_STORABLES, NCOLS };
static const struct col {
	const char *name;
	enum kind kind;
	int width;		/* K_INT: frame width in bytes */
} cols[NCOLS] = {
	{ "id", K_INT, 8 },
	{ "campagne_id", K_INT, 8 },
	{ "numero_abonne", K_INT, 8 },
	{ "valid_start", K_TIME, 8 },
	{ "valid_end", K_TIME, 8 },
	{ "template_id", K_INT, 4 },
	{ "ack_delay", K_INT, 4 },
	{ "genre", K_INT, 2 },
	{ "ack_count", K_INT, 2 },
	{ "storables", K_JSON, 0 },
};

enum mode { M_PIPELINE, M_SINGLE, M_PLAIN, M_STREAM, M_COPY };

/* Global so that err(3) exits leave nothing unreachable for LeakSanitizer. */
static struct {
	PGconn *conn;
	char *query;
	struct io_out out;
	struct frame_writer fw;
	struct frame_hdr hdr;
	struct stats st;
	Oid types[NCOLS];	/* column types, from the first result */
	int checked;		/* column contract verified, header written */
	int verbose, show_stats;
	int progress;		/* a progress line is on screen */
	enum mode mode;
	long batch;
	char fetch_sql[64];
} g;

static const char usage_text[] =
    "usage: moma-fetch [-v] [--batch n] [-d conninfo] [--date yyyy-mm-dd] [-j jobs]\n"
    "                  [--explain] [--fetch-mode mode] [--query file] [--stats]\n"
    "                  [--zone-name name] --zone n\n"
    "       moma-fetch --help | --version\n";

/* After --help or --version: exit 0 only if standard output took it all. */
static void
help_exit(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EX_IOERR, "stdout");
	exit(0);
}

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
print_stats(void)
{
	char line[512];

	if (g.progress)
		fputc('\n', stderr);
	if (!g.show_stats)
		return;
	g.st.units_out = g.fw.nmsg;
	stats_summary(&g.st, "rows", "frames", line, sizeof line);
	fprintf(stderr, "moma-fetch: stats: %s\n", line);
}

/* ---- PostgreSQL errors --------------------------------------------------- */

/* libpq messages end with a newline; err(3) adds its own. */
static const char *
chomp(const char *s)
{
	static char buf[2048];
	size_t n;

	snprintf(buf, sizeof buf, "%s", s ? s : "");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf[0] ? buf : "unknown error";
}

/*
 * sysexits(3) code for a failed result: the connection lost or a transient
 * server condition (classes 08, 40, 53, 57, 58) is EX_TEMPFAIL, a data
 * exception (22) EX_DATAERR, anything else (syntax, missing table,
 * permission: the query does not fit the database) EX_CONFIG.
 */
static int
pg_exit_code(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(g.conn) == CONNECTION_BAD || s == NULL)
		return EX_TEMPFAIL;
	if (!strncmp(s, "08", 2) || !strncmp(s, "40", 2) || !strncmp(s, "53", 2) ||
	    !strncmp(s, "57", 2) || !strncmp(s, "58", 2))
		return EX_TEMPFAIL;
	if (!strncmp(s, "22", 2))
		return EX_DATAERR;
	return EX_CONFIG;
}

static void __attribute__((noreturn))
pg_fail(PGresult *r, const char *what)
{
	const char *msg = r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
	    : PQerrorMessage(g.conn);

	errx(pg_exit_code(r), "%s: %s", what, chomp(msg));
}

/* Run a command that returns no rows; exit on error. */
static void
exec_cmd(const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(g.conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pg_fail(r, sql);
	PQclear(r);
}

/*
 * Next result of the pipeline, waiting for the server in poll(2) so that
 * the wait counts as blocked_in time (and the parsing by libpq does not).
 */
static PGresult *
next_result(void)
{
	while (PQisBusy(g.conn)) {
		struct pollfd p = { .fd = PQsocket(g.conn), .events = POLLIN };
		uint64_t t0 = stats_now_ns();
		int n = poll(&p, 1, -1);

		g.st.blocked_in_ns += stats_now_ns() - t0;
		if (n < 0 && errno != EINTR)
			err(EX_OSERR, "poll");
		if (!PQconsumeInput(g.conn))
			errx(EX_TEMPFAIL, "connection lost: %s", chomp(PQerrorMessage(g.conn)));
	}
	return PQgetResult(g.conn);
}

/* ---- binary values to frame fields ------------------------------------- */

static void
check_columns(const PGresult *r, int need_binary)
{
	if (PQnfields(r) != NCOLS)
		errx(EX_CONFIG, "query returns %d columns, moma-fetch needs %d: "
		    "id, campagne_id, numero_abonne, valid_start, valid_end, "
		    "template_id, ack_delay, genre, ack_count, storables",
		    PQnfields(r), NCOLS);
	for (int i = 0; i < NCOLS; i++) {
		Oid t = PQftype(r, i);
		int ok;

		if (strcmp(PQfname(r, i), cols[i].name) != 0)
			errx(EX_CONFIG, "query column %d is \"%s\", moma-fetch needs \"%s\" there",
			    i + 1, PQfname(r, i), cols[i].name);
		switch (cols[i].kind) {
		case K_INT:
			ok = t == INT2OID || t == INT4OID || t == INT8OID;
			break;
		case K_TIME:
			ok = t == TIMESTAMPTZOID || t == TIMESTAMPOID;
			break;
		default:
			ok = t == JSONBOID || t == JSONOID || t == TEXTOID || t == VARCHAROID;
			break;
		}
		if (!ok)
			errx(EX_CONFIG, "query column %d (%s) has type oid %u, moma-fetch needs %s",
			    i + 1, cols[i].name, t,
			    cols[i].kind == K_INT ? "smallint, integer or bigint" :
			    cols[i].kind == K_TIME ? "timestamptz (or timestamp, taken as UTC)" :
			    "jsonb, json or text");
		if (need_binary && PQfformat(r, i) != 1)
			errx(EX_SOFTWARE, "query column %d (%s): server sent text, not binary",
			    i + 1, cols[i].name);
		g.types[i] = t;
	}
}

/*
 * One row as the server sent it, in binary: each column's bytes and
 * length, -1 for NULL.  Filled from a PGresult or from a COPY tuple.
 */
struct row {
	const uint8_t *v[NCOLS];
	int len[NCOLS];
};

/* Column c as an integer in the frame width; exit on NULL/range. */
static int64_t
get_int(const struct row *r, int c, long long id)
{
	const uint8_t *p = r->v[c];
	int len = r->len[c];
	int64_t v;

	if (len < 0) {
		if (c == C_ID)
			errx(EX_DATAERR, "row %llu: column id is NULL",
			    (unsigned long long)g.fw.nmsg + 1);
		errx(EX_DATAERR, "message %lld: column %s is NULL", id, cols[c].name);
	}
	switch (g.types[c]) {
	case INT8OID:
		if (len != 8)
			goto badlen;
		v = (int64_t)be64_get(p);
		break;
	case INT4OID:
		if (len != 4)
			goto badlen;
		v = (int32_t)be32_get(p);
		break;
	default:
		if (len != 2)
			goto badlen;
		v = (int16_t)be16_get(p);
		break;
	}
	if ((cols[c].width == 4 && (v < INT32_MIN || v > INT32_MAX)) ||
	    (cols[c].width == 2 && (v < INT16_MIN || v > INT16_MAX)))
		errx(EX_DATAERR, "message %lld: column %s: %lld out of range for a %d-bit field",
		    id, cols[c].name, (long long)v, cols[c].width * 8);
	return v;
badlen:
	errx(EX_SOFTWARE, "message %lld: column %s: binary value of %d bytes for type oid %u",
	    id, cols[c].name, len, g.types[c]);
}

/*
 * timestamp[tz] binary: int64 microseconds since 2000-01-01 UTC (timestamp
 * without time zone is taken as UTC).  Floor division, so a time before
 * 1970 with a fraction rounds down like the calendar does.  PostgreSQL's
 * 'infinity' and '-infinity' are INT64_MAX and INT64_MIN and stay so; the
 * encoder rejects them as outside the DVB date range.
 */
static int64_t
get_time(const struct row *r, int c, long long id)
{
	int64_t us, s;

	if (r->len[c] < 0)
		errx(EX_DATAERR, "message %lld: column %s is NULL", id, cols[c].name);
	if (r->len[c] != 8)
		errx(EX_SOFTWARE, "message %lld: column %s: binary timestamp of %d bytes",
		    id, cols[c].name, r->len[c]);
	us = (int64_t)be64_get(r->v[c]);
	if (us == INT64_MAX || us == INT64_MIN)
		return us;
	s = us / 1000000;
	if (us % 1000000 < 0)
		s--;
	return s + PG_EPOCH_UNIX;
}

static void
convert_row(const struct row *r)
{
	struct frame_msg m;
	long long id = (long long)get_int(r, C_ID, 0);
	const uint8_t *js;
	int jl;

	m.id = id;
	m.campagne_id = get_int(r, C_CAMPAGNE, id);
	m.numero_abonne = get_int(r, C_ABONNE, id);
	m.valid_start = get_time(r, C_VSTART, id);
	m.valid_end = get_time(r, C_VEND, id);
	m.template_id = (int32_t)get_int(r, C_TEMPLATE, id);
	m.ack_delay = (int32_t)get_int(r, C_ACKDELAY, id);
	m.genre = (int16_t)get_int(r, C_GENRE, id);
	m.ack_count = (int16_t)get_int(r, C_ACKCOUNT, id);

	if (r->len[C_STORABLES] < 0)
		errx(EX_DATAERR, "message %lld: column storables is NULL", id);
	js = r->v[C_STORABLES];
	jl = r->len[C_STORABLES];
	if (g.types[C_STORABLES] == JSONBOID) {
		/* jsonb binary: a version byte (1), then the JSON text. */
		if (jl < 1 || js[0] != 1)
			errx(EX_SOFTWARE, "message %lld: column storables: "
			    "unknown jsonb binary version %d", id, jl ? js[0] : -1);
		js++;
		jl--;
	}
	m.storables = js;
	m.storables_len = (size_t)jl;
	for (int c = 0; c < NCOLS; c++)
		if (r->len[c] > 0)
			g.st.bytes_in += (uint64_t)r->len[c];

	switch (frame_write_msg(&g.fw, &m)) {
	case FRAME_OK:
		break;
	case FRAME_EDATA:
		errx(EX_DATAERR, "message %lld: column storables: %d bytes, "
		    "above the frame record limit of %u", id, jl,
		    FRAME_MAX_RECORD - 1 - FRAME_MSG_FIXED);
	default:
		err(EX_IOERR, "stdout");
	}
	g.st.records++;
}

static void
convert_batch(const PGresult *res)
{
	int n = PQntuples(res);

	for (int i = 0; i < n; i++) {
		struct row r;

		for (int c = 0; c < NCOLS; c++) {
			r.v[c] = (const uint8_t *)PQgetvalue(res, i, c);
			r.len[c] = PQgetisnull(res, i, c) ? -1 : PQgetlength(res, i, c);
		}
		convert_row(&r);
	}
}

static void
show_progress(void)
{
	char line[256];

	if (g.verbose && stats_progress(&g.st, "rows", line, sizeof line)) {
		fprintf(stderr, "\rmoma-fetch: %s ", line);
		g.progress = 1;
	}
}

/*
 * Check the result of one FETCH and turn it into frames.  The first result
 * fixes the column types and writes the stream header: no header goes out
 * for a query that does not fit the contract.  Returns the row count.
 */
static int
take_batch(PGresult *res)
{
	int n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_SINGLE_TUPLE)
		pg_fail(res, "fetch");
	if (!g.checked) {
		check_columns(res, 1);
		if (frame_writer_open(&g.fw, &g.out, &g.hdr) != FRAME_OK)
			err(EX_IOERR, "stdout");
		g.checked = 1;
	}
	n = PQntuples(res);
	convert_batch(res);
	show_progress();
	return n;
}

/* ---- the three ways to drive the cursor --------------------------------- */

static void
send_fetch(void)
{
	if (!PQsendQueryParams(g.conn, g.fetch_sql, 0, NULL, NULL, NULL, NULL, 1) ||
	    !PQpipelineSync(g.conn))
		errx(EX_TEMPFAIL, "fetch: %s", chomp(PQerrorMessage(g.conn)));
}

/*
 * Pipeline mode: PIPE_DEPTH FETCHes queued, each with its own sync point.
 * A new FETCH is sent as soon as a batch is in, before converting it, so
 * the server is executing the next batch while we convert this one.  A
 * batch shorter than n means the cursor is exhausted; the FETCHes still
 * queued then return no rows and are drained.
 */
static void
run_pipeline(void)
{
	int inflight = 0, done = 0;

	if (!PQenterPipelineMode(g.conn))
		errx(EX_SOFTWARE, "pipeline mode: %s", chomp(PQerrorMessage(g.conn)));
	for (; inflight < PIPE_DEPTH; inflight++)
		send_fetch();
	while (inflight > 0) {
		PGresult *res = next_result(), *r;

		if (res == NULL)
			errx(EX_SOFTWARE, "fetch: no result from the server");
		if (PQresultStatus(res) == PGRES_FATAL_ERROR)
			pg_fail(res, "fetch");
		if ((r = next_result()) != NULL)
			errx(EX_SOFTWARE, "fetch: unexpected extra result %s",
			    PQresStatus(PQresultStatus(r)));
		if ((r = next_result()) == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			pg_fail(r, "fetch: pipeline sync");
		PQclear(r);
		inflight--;
		if (!done && PQntuples(res) < g.batch)
			done = 1;
		if (!done) {
			send_fetch();
			inflight++;
		}
		take_batch(res);
		PQclear(res);
	}
	if (!PQexitPipelineMode(g.conn))
		errx(EX_SOFTWARE, "pipeline mode: %s", chomp(PQerrorMessage(g.conn)));
}

/* Single-row mode: each FETCH streams its rows one PGresult at a time. */
static void
run_single(void)
{
	for (;;) {
		PGresult *res;
		long n = 0;

		if (!PQsendQueryParams(g.conn, g.fetch_sql, 0, NULL, NULL, NULL, NULL, 1) ||
		    !PQsetSingleRowMode(g.conn))
			errx(EX_TEMPFAIL, "fetch: %s", chomp(PQerrorMessage(g.conn)));
		while ((res = next_result()) != NULL) {
			n += take_batch(res);
			PQclear(res);
		}
		if (n < g.batch)
			return;
	}
}

/*
 * Stream: the query itself on the unnamed portal, in single-row mode, in
 * the same read-only repeatable-read transaction.  The executor sends rows
 * as it produces them (a FETCH is a utility statement whose rows PostgreSQL
 * first stores in a tuplestore, then sends); TCP flow control stops the
 * server when we fall behind, so memory stays one row plus socket buffers.
 */
static void
run_stream(const char *const *params)
{
	PGresult *res;

	if (!PQsendQueryParams(g.conn, g.query, 2, NULL, params, NULL, NULL, 1) ||
	    !PQsetSingleRowMode(g.conn))
		errx(EX_TEMPFAIL, "query: %s", chomp(PQerrorMessage(g.conn)));
	while ((res = next_result()) != NULL) {
		take_batch(res);
		PQclear(res);
	}
}

/* Connection i of -j K; 0 is g.conn as main connected it. */
static PGconn *jobs_conn[MAX_JOBS];
static char *concat(const char *, const char *);
static void connect_db(const char *);

/* The shard predicate: rows whose id is $4 modulo $3, negative ids too. */
static char *
sharded_query(void)
{
	/* The query on lines of its own: a trailing -- comment stays closed. */
	char *head = concat("SELECT * FROM (\n", g.query);
	char *q = concat(head,
	    "\n) AS moma_shard WHERE ((moma_shard.id % $3::bigint) + $3::bigint) % $3::bigint = $4::bigint");

	free(head);
	return q;
}

/*
 * Connections 1..k-1 join connection 0's snapshot (g.conn, connected by
 * main, exports it).  With k = 1 there is nothing to share.
 */
static void
open_shards(const char *conninfo, int k)
{
	char snap[80], set_snap[128];
	PGresult *r;

	jobs_conn[0] = g.conn;
	if (k == 1)
		return;
	r = PQexec(g.conn, "SELECT pg_export_snapshot()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		pg_fail(r, "pg_export_snapshot");
	snprintf(snap, sizeof snap, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	/* A snapshot name is hex digits and dashes; nothing else goes in SQL. */
	if (snap[0] == '\0' || strspn(snap, "0123456789ABCDEFabcdef-") != strlen(snap))
		errx(EX_SOFTWARE, "pg_export_snapshot: unexpected name '%s'", snap);
	snprintf(set_snap, sizeof set_snap, "SET TRANSACTION SNAPSHOT '%s'", snap);
	for (int i = 1; i < k; i++) {
		connect_db(conninfo);
		jobs_conn[i] = g.conn;
		exec_cmd(set_snap, 0, NULL);
	}
	g.conn = jobs_conn[0];
}

/* Everything is read: end the other transactions; main commits 0. */
static void
close_shards(int k)
{
	for (int i = 1; i < k; i++) {
		g.conn = jobs_conn[i];
		exec_cmd("COMMIT", 0, NULL);
		PQfinish(g.conn);
		jobs_conn[i] = NULL;
	}
	g.conn = jobs_conn[0];
}

/* Wait until one of the np connections in pf has input, and take it. */
static void
wait_shards(struct pollfd *pf, const int *who, int np)
{
	uint64_t t0 = stats_now_ns();

	if (poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
		err(EX_OSERR, "poll");
	g.st.blocked_in_ns += stats_now_ns() - t0;
	for (int j = 0; j < np; j++) {
		g.conn = jobs_conn[who[j]];
		if ((pf[j].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(g.conn))
			errx(EX_TEMPFAIL, "connection %d lost: %s", who[j] + 1,
			    chomp(PQerrorMessage(g.conn)));
	}
}

/*
 * -j K: K connections read one snapshot (the first exports it with
 * pg_export_snapshot(), the others import it with SET TRANSACTION SNAPSHOT,
 * as pg_dump -j does), each streams the rows whose id is i modulo K, and
 * the rows are merged into the one frame stream as they arrive.  Any
 * connection's error ends the whole run, before the trailer.
 */
static void
run_jobs(const char *conninfo, const char *const *params, int k)
{
	char *sharded = sharded_query();
	char kbuf[16], ibuf[MAX_JOBS][16];
	const char *p4[MAX_JOBS][4];
	int live = k, done[MAX_JOBS] = { 0 };
	PGresult *r;

	open_shards(conninfo, k);
	snprintf(kbuf, sizeof kbuf, "%d", k);
	for (int i = 0; i < k; i++) {
		snprintf(ibuf[i], sizeof ibuf[i], "%d", i);
		p4[i][0] = params[0];
		p4[i][1] = params[1];
		p4[i][2] = kbuf;
		p4[i][3] = ibuf[i];
		g.conn = jobs_conn[i];
		if (!PQsendQueryParams(g.conn, sharded, 4, NULL, p4[i], NULL, NULL, 1) ||
		    !PQsetSingleRowMode(g.conn))
			errx(EX_TEMPFAIL, "query (connection %d): %s", i + 1,
			    chomp(PQerrorMessage(g.conn)));
	}
	while (live > 0) {
		struct pollfd pf[MAX_JOBS];
		int np = 0, who[MAX_JOBS];

		for (int i = 0; i < k; i++) {
			if (done[i])
				continue;
			g.conn = jobs_conn[i];
			while (!done[i] && !PQisBusy(g.conn)) {
				if ((r = PQgetResult(g.conn)) == NULL) {
					done[i] = 1;
					live--;
					break;
				}
				take_batch(r);
				PQclear(r);
			}
			if (!done[i]) {
				pf[np] = (struct pollfd){ .fd = PQsocket(g.conn), .events = POLLIN };
				who[np++] = i;
			}
		}
		if (np == 0)
			break;
		wait_shards(pf, who, np);
	}
	close_shards(k);
	free(sharded);
}

/* ---- copy mode ------------------------------------------------------------ */

/*
 * COPY takes no parameters: $1..$n outside string literals, quoted
 * identifiers and comments become the literal '<vals[i]>' (the values are
 * checked numbers and dates, never quotes).  Any other $N is an error.
 */
static char *
bind_literals(const char *q, const char *const *vals, int n)
{
	size_t cap = strlen(q) + 1, len = 0;
	char *out;

	/* Each $ may become a quoted value of at most 62 bytes. */
	for (int i = 0; i < n; i++)
		if (strlen(vals[i]) > 62 || strchr(vals[i], '\'') != NULL ||
		    strchr(vals[i], '\\') != NULL)
			errx(EX_SOFTWARE, "copy: parameter %d: not a plain value", i + 1);
	for (const char *c = q; *c; c++)
		if (*c == '$')
			cap += 64;
	if ((out = malloc(cap)) == NULL)
		err(EX_OSERR, "malloc");
#define PUT(ch) (out[len++] = (ch))
	for (const char *c = q; *c;) {
		if (*c == '\'' || *c == '"') {
			/* 'string' (E'...' with backslash escapes) or "identifier";
			 * a doubled quote stays inside. */
			char qc = *c;
			int esc = qc == '\'' && c > q && (c[-1] == 'E' || c[-1] == 'e');

			PUT(*c++);
			while (*c) {
				if (esc && *c == '\\' && c[1]) {
					PUT(*c++);
					PUT(*c++);
					continue;
				}
				if (*c == qc) {
					PUT(*c++);
					if (*c != qc)
						break;
				}
				PUT(*c++);
			}
		} else if (c[0] == '-' && c[1] == '-') {
			while (*c && *c != '\n')
				PUT(*c++);
		} else if (c[0] == '/' && c[1] == '*') {
			int depth = 0;

			do {
				if (c[0] == '/' && c[1] == '*') {
					depth++;
					PUT(*c++);
				} else if (c[0] == '*' && c[1] == '/') {
					depth--;
					PUT(*c++);
				}
				PUT(*c++);
			} while (*c && depth > 0);
		} else if (*c == '$' && (c == q || !(isalnum((unsigned char)c[-1]) || c[-1] == '_'))) {
			const char *d = c + 1;

			if (isdigit((unsigned char)*d)) {
				long k = 0;

				while (isdigit((unsigned char)*d) && k < 1000)
					k = k * 10 + (*d++ - '0');
				if (k < 1 || k > n)
					errx(EX_CONFIG, "query uses $%ld; moma-fetch binds $1 to $%d", k, n);
				PUT('\'');
				for (const char *v = vals[k - 1]; *v; v++)
					PUT(*v);
				PUT('\'');
				c = d;
			} else {
				/* $tag$ ... $tag$: a dollar-quoted string, kept whole. */
				while (isalnum((unsigned char)*d) || *d == '_')
					d++;
				if (*d != '$') {
					PUT(*c++);
					continue;
				}
				size_t tl = (size_t)(d - c) + 1;
				const char *e = d + 1;

				while (*e && strncmp(e, c, tl) != 0)
					e++;
				e = *e ? e + tl : e;
				while (c < e)
					PUT(*c++);
			}
		} else
			PUT(*c++);
	}
#undef PUT
	out[len] = '\0';
	return out;
}

/* COPY's binary signature, then flags and header-extension length. */
static const char copy_sig[11] = "PGCOPY\n\377\r\n";

/* Where one connection's binary COPY stream is. */
struct copy_state {
	int header_seen, trailer_seen;
};

/*
 * Take one CopyData message of connection i: the file header if it is the
 * first, then whole tuples (one per message as PostgreSQL sends them, but
 * any number is accepted) or the trailer.
 */
static void
copy_message(const char *buf, int n, int i, struct copy_state *cs)
{
	const uint8_t *p = (const uint8_t *)buf, *end = p + n;

	if (!cs->header_seen) {
		uint32_t flags, ext;

		if (n < 19 || memcmp(p, copy_sig, 11) != 0)
			errx(EX_PROTOCOL, "copy (connection %d): no binary COPY signature", i + 1);
		flags = be32_get(p + 11);
		ext = be32_get(p + 15);
		if (flags & 0x10000u)
			errx(EX_PROTOCOL, "copy (connection %d): rows with OIDs", i + 1);
		if (ext > (uint32_t)(end - p - 19))
			errx(EX_PROTOCOL, "copy (connection %d): header extension past the message", i + 1);
		p += 19 + ext;
		cs->header_seen = 1;
	}
	while (p < end) {
		struct row r;
		int16_t nf;

		if (cs->trailer_seen || end - p < 2)
			goto bad;
		nf = (int16_t)be16_get(p);
		p += 2;
		if (nf == -1) {
			cs->trailer_seen = 1;
			continue;
		}
		if (nf != NCOLS)
			errx(EX_PROTOCOL, "copy (connection %d): tuple of %d columns, want %d",
			    i + 1, nf, NCOLS);
		for (int c = 0; c < NCOLS; c++) {
			int32_t l;

			if (end - p < 4)
				goto bad;
			l = (int32_t)be32_get(p);
			p += 4;
			if (l < -1 || l > end - p)
				goto bad;
			r.v[c] = p;
			r.len[c] = l;
			if (l > 0)
				p += l;
		}
		convert_row(&r);
	}
	return;
bad:
	errx(EX_PROTOCOL, "copy (connection %d): malformed tuple after row %llu", i + 1,
	    (unsigned long long)g.fw.nmsg);
}

/*
 * Copy mode: the query as COPY (...) TO STDOUT (FORMAT binary), its
 * parameters bound as literals.  The server sends a tuple per message
 * with no result object per row, which costs libpq far less than
 * single-row mode.  The columns are checked first on the statement's
 * description.  With -j K each connection copies its shard, merged as in
 * run_jobs.
 */
static void
run_copy(const char *conninfo, const char *const *params, int k)
{
	char *shard = k > 1 ? sharded_query() : NULL;
	char kbuf[16], ibuf[16];
	const char *p4[4] = { params[0], params[1], kbuf, ibuf };
	int live = k, done[MAX_JOBS] = { 0 };
	struct copy_state cs[MAX_JOBS] = { { 0, 0 } };
	uint64_t since_progress = 0;
	char *sql[MAX_JOBS];
	PGresult *r;

	snprintf(kbuf, sizeof kbuf, "%d", k);
	for (int i = 0; i < k; i++) {
		char *q, *a;

		snprintf(ibuf, sizeof ibuf, "%d", i);
		q = bind_literals(shard ? shard : g.query, p4, shard ? 4 : 2);
		a = concat("COPY (\n", q);
		sql[i] = concat(a, "\n) TO STDOUT (FORMAT binary)");
		free(q);
		free(a);
	}
	/* The contract is checked before any output: describe the statement. */
	r = PQprepare(g.conn, "", g.query, 2, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pg_fail(r, "query");
	PQclear(r);
	r = PQdescribePrepared(g.conn, "");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		pg_fail(r, "query");
	check_columns(r, 0);
	PQclear(r);
	if (frame_writer_open(&g.fw, &g.out, &g.hdr) != FRAME_OK)
		err(EX_IOERR, "stdout");
	g.checked = 1;

	open_shards(conninfo, k);
	for (int i = 0; i < k; i++) {
		g.conn = jobs_conn[i];
		if (!PQsendQuery(g.conn, sql[i]))
			errx(EX_TEMPFAIL, "copy (connection %d): %s", i + 1,
			    chomp(PQerrorMessage(g.conn)));
		free(sql[i]);
	}
	/* Each connection answers COPY OUT first (or an error). */
	for (int i = 0; i < k; i++) {
		g.conn = jobs_conn[i];
		while (PQisBusy(g.conn)) {
			struct pollfd pf = { .fd = PQsocket(g.conn), .events = POLLIN };
			int who = i;

			wait_shards(&pf, &who, 1);
		}
		r = PQgetResult(g.conn);
		if (PQresultStatus(r) != PGRES_COPY_OUT)
			pg_fail(r, k > 1 ? "copy (a shard)" : "copy");
		PQclear(r);
	}
	while (live > 0) {
		struct pollfd pf[MAX_JOBS];
		int np = 0, who[MAX_JOBS];

		for (int i = 0; i < k; i++) {
			char *buf;
			int n;

			if (done[i])
				continue;
			g.conn = jobs_conn[i];
			while ((n = PQgetCopyData(g.conn, &buf, 1)) > 0) {
				copy_message(buf, n, i, &cs[i]);
				PQfreemem(buf);
				if (++since_progress == 4096) {
					since_progress = 0;
					show_progress();
				}
			}
			if (n == -2)
				errx(EX_TEMPFAIL, "copy (connection %d): %s", i + 1,
				    chomp(PQerrorMessage(g.conn)));
			if (n == -1) {
				/* The COPY ended: its outcome is the next result. */
				while ((r = PQgetResult(g.conn)) != NULL) {
					if (PQresultStatus(r) != PGRES_COMMAND_OK)
						pg_fail(r, "copy");
					PQclear(r);
				}
				if (!cs[i].trailer_seen)
					errx(EX_PROTOCOL, "copy (connection %d): no binary COPY trailer", i + 1);
				done[i] = 1;
				live--;
				continue;
			}
			pf[np] = (struct pollfd){ .fd = PQsocket(g.conn), .events = POLLIN };
			who[np++] = i;
		}
		if (np > 0)
			wait_shards(pf, who, np);
	}
	show_progress();
	close_shards(k);
	free(shard);
}

/* Plain loop: one FETCH at a time, the server idle while we convert. */
static void
run_plain(void)
{
	for (;;) {
		uint64_t t0 = stats_now_ns();
		PGresult *res = PQexecParams(g.conn, g.fetch_sql, 0, NULL, NULL, NULL, NULL, 1);
		int n;

		g.st.blocked_in_ns += stats_now_ns() - t0;
		n = take_batch(res);
		PQclear(res);
		if (n < g.batch)
			return;
	}
}

/* ---- setup -------------------------------------------------------------- */

static char *
read_query(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *q;
	size_t n;

	if (f == NULL)
		err(EX_NOINPUT, "%s", path);
	if ((q = malloc(QUERY_MAX + 1)) == NULL)
		err(EX_OSERR, "malloc");
	n = fread(q, 1, QUERY_MAX + 1, f);
	if (ferror(f))
		err(EX_IOERR, "%s", path);
	if (n > QUERY_MAX)
		errx(EX_DATAERR, "%s: query longer than %d bytes", path, QUERY_MAX);
	if (f != stdin)
		fclose(f);
	/* The text goes after "DECLARE ... FOR": no trailing semicolon. */
	while (n > 0 && strchr(" \t\r\n;", q[n - 1]) != NULL)
		n--;
	q[n] = '\0';
	if (n == 0)
		errx(EX_DATAERR, "%s: empty query", path);
	if (memchr(q, '\0', n) != NULL)
		errx(EX_DATAERR, "%s: NUL byte in query", path);
	return q;
}

static char *
concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s == NULL)
		err(EX_OSERR, "malloc");
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

static long
number(const char *s, long lo, long hi, const char *what)
{
	uint64_t v;

	if (num_parse(s, 0, (uint64_t)lo, (uint64_t)hi, &v) != 0) {
		warnx("%s: %s: not a number in %ld..%ld", what, s, lo, hi);
		usage();
	}
	return (long)v;
}

/* Strict YYYY-MM-DD naming a real day. */
static int
valid_date(const char *s)
{
	int64_t t, y;
	unsigned m, d;
	char back[16];

	if (strlen(s) != 10 || dvbtime_parse(s, 10, &t) != 0)
		return 0;
	dvbtime_civil_from_days(t / 86400, &y, &m, &d);
	snprintf(back, sizeof back, "%04lld-%02u-%02u", (long long)y, m, d);
	return strcmp(back, s) == 0;
}

static void
connect_db(const char *conninfo)
{
	const char *kw[] = { "dbname", "fallback_application_name", NULL };
	const char *val[] = { conninfo, "moma-fetch", NULL };
	const char *idt;

	g.conn = PQconnectdbParams(kw, val, 1);
	if (g.conn == NULL)
		errx(EX_OSERR, "out of memory");
	if (PQstatus(g.conn) != CONNECTION_OK)
		errx(EX_UNAVAILABLE, "cannot connect: %s", chomp(PQerrorMessage(g.conn)));
	idt = PQparameterStatus(g.conn, "integer_datetimes");
	if (idt == NULL || strcmp(idt, "on") != 0)
		errx(EX_UNAVAILABLE, "server has integer_datetimes off, unsupported");
	/*
	 * UTC: the date predicate compares timestamptz with a date, which
	 * PostgreSQL casts at the session time zone.  cursor_tuple_fraction 1:
	 * we read the whole cursor, so plan for all rows, not the first 10 %
	 * (which favours nested loops over a hash join for big zones).
	 */
	exec_cmd("SET TimeZone = 'UTC'", 0, NULL);
	exec_cmd("SET cursor_tuple_fraction = 1", 0, NULL);
	exec_cmd("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
}

static void
explain(const char *const *params)
{
	char *sql = concat("EXPLAIN ", g.query);
	PGresult *r = PQexecParams(g.conn, sql, 2, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		pg_fail(r, "explain");
	for (int i = 0; i < PQntuples(r); i++)
		printf("%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	free(sql);
}

int
main(int argc, char **argv)
{
	enum { O_BATCH = 256, O_DATE, O_EXPLAIN, O_MODE, O_QUERY, O_STATS,
		O_ZONE, O_ZONE_NAME, O_VERSION };
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, O_BATCH },
		{ "date", required_argument, NULL, O_DATE },
		{ "dbname", required_argument, NULL, 'd' },
		{ "explain", no_argument, NULL, O_EXPLAIN },
		{ "fetch-mode", required_argument, NULL, O_MODE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "query", required_argument, NULL, O_QUERY },
		{ "stats", no_argument, NULL, O_STATS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "zone", required_argument, NULL, O_ZONE },
		{ "zone-name", required_argument, NULL, O_ZONE_NAME },
		{ NULL, 0, NULL, 0 },
	};
	const char *conninfo = NULL, *date = NULL, *qfile = NULL, *zname = NULL;
	char today[16], zone_txt[24];
	long zone = -1;
	int ch, do_explain = 0, jobs = 1;

	stats_init(&g.st);
	g.batch = DEFAULT_BATCH;
	g.mode = M_COPY;
	while ((ch = getopt_long(argc, argv, "d:hj:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			jobs = (int)number(optarg, 1, MAX_JOBS, "-j");
			break;
		case O_BATCH:
			g.batch = number(optarg, 1, MAX_BATCH, "--batch");
			break;
		case O_DATE:
			date = optarg;
			break;
		case 'd':
			conninfo = optarg;
			break;
		case O_EXPLAIN:
			do_explain = 1;
			break;
		case O_MODE:
			if (strcmp(optarg, "pipeline") == 0)
				g.mode = M_PIPELINE;
			else if (strcmp(optarg, "single") == 0)
				g.mode = M_SINGLE;
			else if (strcmp(optarg, "plain") == 0)
				g.mode = M_PLAIN;
			else if (strcmp(optarg, "stream") == 0)
				g.mode = M_STREAM;
			else if (strcmp(optarg, "copy") == 0)
				g.mode = M_COPY;
			else {
				warnx("--fetch-mode: %s: want copy, stream, pipeline, single or plain", optarg);
				usage();
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs("\nStream the messages of zone n valid on a date (default today,\n"
			    "UTC) out of PostgreSQL as a moma frame stream on standard output.\n\n"
			    "  --batch n          rows per FETCH in the cursor modes (default 5000)\n"
			    "  -d conninfo        libpq connection string or URI (else PG* variables)\n"
			    "  --dbname conninfo  the same as -d\n"
			    "  --date yyyy-mm-dd  the day whose valid campaigns are read\n"
			    "  --explain          print the query plan and exit\n"
			    "  --fetch-mode mode  copy (default), stream, pipeline, single or plain\n"
			    "  -h, --help         show this help\n"
			    "  -j, --jobs k       k connections on one snapshot, each a shard (stream, copy)\n"
			    "  --query file       another query returning the documented columns\n"
			    "  --stats            print a one-line summary on standard error at exit\n"
			    "  -v, --verbose      progress on standard error when it is a terminal\n"
			    "  --version          print the version\n"
			    "  --zone n           the zone: campagnes.zone_diffusion, 0..255\n"
			    "  --zone-name name   the zone's name for the stream header\n", stdout);
			help_exit();
			break;
		case O_QUERY:
			qfile = optarg;
			break;
		case O_STATS:
			g.show_stats = 1;
			break;
		case 'v':
			g.verbose = isatty(STDERR_FILENO);
			break;
		case O_VERSION:
			printf("moma-fetch %s\n", MOMA_VERSION);
			help_exit();
			break;
		case O_ZONE:
			zone = number(optarg, 0, 255, "--zone");
			break;
		case O_ZONE_NAME:
			zname = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0 || zone < 0) {
		if (zone < 0)
			warnx("--zone is required");
		usage();
	}
	if (date == NULL) {
		int64_t y;
		unsigned m, d;

		dvbtime_civil_from_days((int64_t)time(NULL) / 86400, &y, &m, &d);
		snprintf(today, sizeof today, "%04lld-%02u-%02u", (long long)y, m, d);
		date = today;
	} else if (!valid_date(date)) {
		warnx("--date: %s: not a date YYYY-MM-DD", date);
		usage();
	}
	if (zname != NULL && strlen(zname) > 255) {
		warnx("--zone-name: longer than 255 bytes");
		usage();
	}
	snprintf(zone_txt, sizeof zone_txt, "%ld", zone);

	g.query = qfile ? read_query(qfile) : concat("", default_query);
	g.hdr.network_id = (uint8_t)zone;
	memcpy(g.hdr.date, date, 10);	/* checked: exactly 10 bytes */
	g.hdr.created = (int64_t)time(NULL);
	snprintf(g.hdr.zone, sizeof g.hdr.zone, "%s", zname ? zname : zone_txt);
	snprintf(g.hdr.producer, sizeof g.hdr.producer, "moma-fetch %s", MOMA_VERSION);
	snprintf(g.fetch_sql, sizeof g.fetch_sql, "FETCH FORWARD %ld FROM " CURSOR, g.batch);
	if (io_out_init(&g.out, STDOUT_FILENO, 256 * 1024, &g.st) != 0)
		err(EX_OSERR, "malloc");
	atexit(print_stats);

	if (jobs > 1 && g.mode != M_STREAM && g.mode != M_COPY) {
		warnx("-j: only with --fetch-mode stream or copy");
		usage();
	}
	const char *params[2] = { zone_txt, date };

	connect_db(conninfo);
	if (do_explain) {
		explain(params);
	} else {
		if (g.mode == M_COPY) {
			run_copy(conninfo, params, jobs);
		} else if (g.mode == M_STREAM && jobs > 1) {
			run_jobs(conninfo, params, jobs);
		} else if (g.mode == M_STREAM) {
			run_stream(params);
		} else {
			char *decl = concat("DECLARE " CURSOR " NO SCROLL CURSOR FOR ", g.query);

			exec_cmd(decl, 2, params);
			free(decl);
			switch (g.mode) {
			case M_PIPELINE: run_pipeline(); break;
			case M_SINGLE: run_single(); break;
			case M_PLAIN: run_plain(); break;
			case M_STREAM: case M_COPY: break;
			}
		}
		if (!g.checked)
			errx(EX_SOFTWARE, "fetch: no result from the server");
		/* Everything is read: only now may the trailer go out. */
		exec_cmd("COMMIT", 0, NULL);
		if (frame_write_end(&g.fw) != FRAME_OK)
			err(EX_IOERR, "stdout");
	}
	PQfinish(g.conn);
	g.conn = NULL;
	io_out_free(&g.out);
	free(g.query);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EX_IOERR, "stdout");
	return 0;
}
