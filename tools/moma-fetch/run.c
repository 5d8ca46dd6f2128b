/*
 * run.c - the two ways moma-fetch reads the rows, on f->nconn connections
 * that share one snapshot (connection i reads the rows whose id is i
 * modulo k).
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
 * rows plus socket buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fetch.h"
#include "pgcopy.h"

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

/* Every tuple of one CopyData message of connection i. */
static int
copy_message(struct fetch *f, int i, struct pgcopy *cs, const char *buf, int n)
{
	char err[PGCOPY_ERR_LEN];
	struct row r;
	int rc;

	pgcopy_feed(cs, buf, (size_t)n);
	while ((rc = pgcopy_next(cs, NCOLS, r.v, r.len, err)) == 1) {
		if (rows_put(f, &r))
			return -1;
		if ((f->st.records & 4095) == 0)
			fetch_progress(f);
	}
	if (rc < 0)
		return fetch_fail(f, EX_PROTOCOL, "copy (connection %d): %s after row %llu",
		    i + 1, err, (unsigned long long)f->fw.nmsg);
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

/* Rows as they arrive, from whichever connection has some. */
int
run_copy(struct fetch *f)
{
	struct pgcopy cs[FETCH_MAX_JOBS] = { { 0 } };
	int live = f->nconn, done[FETCH_MAX_JOBS] = { 0 };
	char ebuf[1024];

	if (copy_start(f))
		return -1;
	while (live > 0) {
		int np = 0, who[FETCH_MAX_JOBS];

		for (int i = 0; i < f->nconn; i++) {
			char *buf;
			int n, rc = 0;

			if (done[i])
				continue;
			while (rc == 0 && (n = PQgetCopyData(f->conn[i], &buf, 1)) > 0) {
				rc = copy_message(f, i, &cs[i], buf, n);
				PQfreemem(buf);
			}
			if (rc)
				return -1;
			if (n == -2)
				return fetch_fail(f, EX_TEMPFAIL, "copy (connection %d): %s", i + 1,
				    pg_chomp(PQerrorMessage(f->conn[i]), ebuf, sizeof ebuf));
			if (n == -1) {
				if (copy_end(f, i, &cs[i]))
					return -1;
				done[i] = 1;
				live--;
				continue;
			}
			who[np++] = i;
		}
		if (np > 0 && pg_wait(f, who, np))
			return -1;
	}
	fetch_progress(f);
	return 0;
}

/* ---- stream ------------------------------------------------------------- */

/* One result of single-row mode: its row, if any, as a frame.  The first
 * result of each connection is checked to be binary. */
static int
stream_result(struct fetch *f, PGconn *c, PGresult *res, int *checked)
{
	struct row r;
	int n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_SINGLE_TUPLE)
		return pg_fail(f, c, res, "query");
	if (!*checked && rows_check(f, res, 1))
		return -1;
	*checked = 1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < NCOLS; k++) {
			r.v[k] = (const uint8_t *)PQgetvalue(res, i, k);
			r.len[k] = PQgetisnull(res, i, k) ? -1 : PQgetlength(res, i, k);
		}
		if (rows_put(f, &r))
			return -1;
		if ((f->st.records & 4095) == 0)
			fetch_progress(f);
	}
	return 0;
}

int
run_stream(struct fetch *f)
{
	const char *params[2] = { f->zone, f->date };
	int live = f->nconn, done[FETCH_MAX_JOBS] = { 0 }, checked[FETCH_MAX_JOBS] = { 0 };
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
	while (live > 0) {
		int np = 0, who[FETCH_MAX_JOBS];

		for (int i = 0; i < f->nconn; i++) {
			PGconn *c = f->conn[i];

			while (!done[i] && !PQisBusy(c)) {
				PGresult *r = PQgetResult(c);
				int rc;

				if (r == NULL) {
					done[i] = 1;
					live--;
					break;
				}
				rc = stream_result(f, c, r, &checked[i]);
				PQclear(r);
				if (rc)
					return -1;
			}
			if (!done[i])
				who[np++] = i;
		}
		if (np > 0 && pg_wait(f, who, np))
			return -1;
	}
	fetch_progress(f);
	return 0;
}
