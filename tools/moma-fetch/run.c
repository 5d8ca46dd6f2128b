/*
 * run.c - the two ways moma-fetch reads the rows, on f->nconn connections
 * that share one snapshot (connection i reads the rows whose id is i
 * modulo k), and the merge that makes their order reproducible.
 *
 * copy (the default): the query as COPY (...) TO STDOUT (FORMAT binary).
 * The server sends a tuple per CopyData message with no result object
 * per row, which costs libpq far less than single-row mode (40% less
 * client CPU, tests/bench).
 *
 * stream: the query itself on the unnamed portal in single-row mode.
 * Kept for a one-core machine, where the backend's COPY output costs it a
 * little more than a plain query's (tests/bench/NOTES.md), and for a
 * --query written with $1 and $2, which COPY cannot bind.
 *
 * In both, the executor sends rows as it produces them and TCP flow
 * control stops the server when we fall behind, so memory stays a few
 * rows plus socket buffers.  Every connection's query ends in ORDER BY
 * campagne_id, id (pg.c); the rows of the K connections are merged in
 * that order, each holding one row at a time, so the stream is the same
 * whatever K and whatever order the server's scans happen to take.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fetch.h"
#include "pgcopy.h"

/* One connection's place in the merge: its current row, if any. */
struct src {
	struct row r;
	int has, done;
	int64_t cid, id;	/* the current row's key */
	/* copy */
	struct pgcopy cs;
	char *buf;		/* the CopyData message r points into */
	/* stream */
	PGresult *res;		/* the result r points into */
	int checked;
};

typedef int advance_fn(struct fetch *, int, struct src *);

/* s->r is a new row: with several connections, its key, which may not go
 * back (a shard that did not deliver its ORDER BY would make the merge
 * wrong).  One connection's rows are the server's order as they are. */
static int
take_key(struct fetch *f, int i, struct src *s)
{
	int64_t cid = s->cid, id = s->id;
	int first = !s->has;

	s->has = 1;
	if (f->nconn == 1)
		return 1;
	if (rows_key(f, &s->r, &s->cid, &s->id))
		return -1;
	if (!first && (s->cid < cid || (s->cid == cid && s->id < id)))
		return fetch_fail(f, EX_SOFTWARE, "connection %d: message %lld (campagne_id %lld) "
		    "after message %lld (campagne_id %lld): not in (campagne_id, id) order",
		    i + 1, (long long)s->id, (long long)s->cid, (long long)id, (long long)cid);
	return 1;
}

/* ---- copy --------------------------------------------------------------- */

static int
copy_start(struct fetch *f)
{
	static const char head[] = "COPY (\n", tail[] = "\n) TO STDOUT (FORMAT binary)";
	char *q = pg_shard_query(f, f->nconn), *sql;
	char buf[1024];
	size_t n;

	if (q == NULL || (sql = malloc(sizeof head + (n = strlen(q)) + sizeof tail)) == NULL) {
		free(q);
		return fetch_fail(f, EX_OSERR, "out of memory");
	}
	memcpy(sql, head, sizeof head - 1);
	memcpy(sql + sizeof head - 1, q, n);
	memcpy(sql + sizeof head - 1 + n, tail, sizeof tail);
	free(q);
	for (int i = 0; i < f->nconn; i++)
		if (!PQsendQuery(f->conn[i], sql)) {
			free(sql);
			return fetch_fail(f, EX_TEMPFAIL, "copy (connection %d): %s", i + 1,
			    pg_chomp(PQerrorMessage(f->conn[i]), buf, sizeof buf));
		}
	free(sql);
	/* Each connection answers COPY OUT first (or an error). */
	for (int i = 0; i < f->nconn; i++) {
		PGresult *r;
		int bad;

		while (PQisBusy(f->conn[i]))
			if (pg_wait(f, &i, 1))
				return -1;
		r = PQgetResult(f->conn[i]);
		if ((bad = PQresultStatus(r) != PGRES_COPY_OUT))
			pg_fail(f, f->conn[i], r, f->nconn > 1 ? "copy (a shard)" : "copy");
		PQclear(r);
		if (bad)
			return -1;
	}
	return 0;
}

/* The COPY of connection i ended: its outcome is the next result. */
static int
copy_end(struct fetch *f, int i, const struct pgcopy *cs)
{
	PGresult *r;
	int rc = 0;

	while ((r = PQgetResult(f->conn[i])) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_fail(f, f->conn[i], r, "copy");
		PQclear(r);
	}
	if (rc == 0 && !cs->trailer_seen)
		rc = fetch_fail(f, EX_PROTOCOL, "copy (connection %d): no binary COPY trailer", i + 1);
	return rc;
}

/* Connection i's next tuple: 1, 0 at the end of its COPY, or -1.  Waits
 * for the server when none is in. */
static int
copy_advance(struct fetch *f, int i, struct src *s)
{
	PGconn *c = f->conn[i];
	char err[PGCOPY_ERR_LEN], ebuf[1024];
	int n, rc;

	for (;;) {
		if (s->buf != NULL) {
			if ((rc = pgcopy_next(&s->cs, NCOLS, s->r.v, s->r.len, err)) == 1)
				return take_key(f, i, s);
			if (rc < 0)
				return fetch_fail(f, EX_PROTOCOL, "copy (connection %d): %s after row %llu",
				    i + 1, err, (unsigned long long)f->fw.nmsg);
			PQfreemem(s->buf);
			s->buf = NULL;
		}
		if ((n = PQgetCopyData(c, &s->buf, 1)) > 0) {
			pgcopy_feed(&s->cs, s->buf, (size_t)n);
			continue;
		}
		s->buf = NULL;
		if (n == 0) {
			if (pg_wait(f, &i, 1))
				return -1;
			continue;
		}
		if (n == -2)
			return fetch_fail(f, EX_TEMPFAIL, "copy (connection %d): %s", i + 1,
			    pg_chomp(PQerrorMessage(c), ebuf, sizeof ebuf));
		s->has = 0;
		s->done = 1;
		return copy_end(f, i, &s->cs) ? -1 : 0;
	}
}

/* ---- stream ------------------------------------------------------------- */

static int
stream_start(struct fetch *f)
{
	const char *params[2] = { f->zone, f->date };
	char *q = pg_shard_query(f, f->nconn);
	char buf[1024];

	if (q == NULL)
		return fetch_fail(f, EX_OSERR, "out of memory");
	for (int i = 0; i < f->nconn; i++)
		if (!PQsendQueryParams(f->conn[i], q, f->nparams, NULL, params, NULL, NULL, 1) ||
		    !PQsetSingleRowMode(f->conn[i])) {
			free(q);
			return fetch_fail(f, EX_TEMPFAIL, "query (connection %d): %s", i + 1,
			    pg_chomp(PQerrorMessage(f->conn[i]), buf, sizeof buf));
		}
	free(q);
	return 0;
}

/* Connection i's next row in single-row mode: 1, 0 at the end, or -1.
 * Its first result is checked to be binary. */
static int
stream_advance(struct fetch *f, int i, struct src *s)
{
	PGconn *c = f->conn[i];

	PQclear(s->res);
	s->res = NULL;
	for (;;) {
		PGresult *res;

		while (PQisBusy(c))
			if (pg_wait(f, &i, 1))
				return -1;
		if ((res = PQgetResult(c)) == NULL) {
			s->has = 0;
			s->done = 1;
			return 0;
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_SINGLE_TUPLE) {
			pg_fail(f, c, res, "query");
			PQclear(res);
			return -1;
		}
		if (!s->checked && rows_check(f, res, 1)) {
			PQclear(res);
			return -1;
		}
		s->checked = 1;
		if (PQntuples(res) == 0) {	/* TUPLES_OK: the end of the rows */
			PQclear(res);
			continue;
		}
		s->res = res;
		for (int k = 0; k < NCOLS; k++) {
			s->r.v[k] = (const uint8_t *)PQgetvalue(res, 0, k);
			s->r.len[k] = PQgetisnull(res, 0, k) ? -1 : PQgetlength(res, 0, k);
		}
		return take_key(f, i, s);
	}
}

/* ---- the merge ---------------------------------------------------------- */

/*
 * K-way merge on (campagne_id, id): the connection whose row comes first
 * gives it, then moves on.  K is at most 16, so a scan of the heads costs
 * less than a heap would.  Shards split on id, so two heads never tie.
 */
static int
merge(struct fetch *f, advance_fn *advance, struct src *s)
{
	for (int i = 0; i < f->nconn; i++)
		if (advance(f, i, &s[i]) < 0)
			return -1;
	for (;;) {
		int b = -1;

		for (int i = 0; i < f->nconn; i++)
			if (s[i].has && (b < 0 || s[i].cid < s[b].cid ||
			    (s[i].cid == s[b].cid && s[i].id < s[b].id)))
				b = i;
		if (b < 0)
			break;
		if (rows_put(f, &s[b].r))
			return -1;
		if ((f->st.records & 4095) == 0)
			fetch_progress(f);
		if (advance(f, b, &s[b]) < 0)
			return -1;
	}
	fetch_progress(f);
	return 0;
}

int
fetch_rows(struct fetch *f)
{
	struct src s[FETCH_MAX_JOBS];
	int copy = f->mode == MODE_COPY, rc;

	memset(s, 0, sizeof s);
	rc = (copy ? copy_start : stream_start)(f);
	if (rc == 0)
		rc = merge(f, copy ? copy_advance : stream_advance, s);
	for (int i = 0; i < f->nconn; i++) {
		PQfreemem(s[i].buf);
		PQclear(s[i].res);
	}
	return rc;
}
