/*
 * pg.c - moma-fetch's connections: connecting, the transaction and its
 * shared snapshot, the parameters bound on the server, errors as
 * sysexits(3) codes.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "fetch.h"

const char *
pg_chomp(const char *s, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", s ? s : "");
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
exit_code(PGconn *c, const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(c) == CONNECTION_BAD || s == NULL)
		return EX_TEMPFAIL;
	if (!strncmp(s, "08", 2) || !strncmp(s, "40", 2) || !strncmp(s, "53", 2) ||
	    !strncmp(s, "57", 2) || !strncmp(s, "58", 2))
		return EX_TEMPFAIL;
	if (!strncmp(s, "22", 2))
		return EX_DATAERR;
	return EX_CONFIG;
}

int
pg_fail(struct fetch *f, PGconn *c, const PGresult *r, const char *what)
{
	const char *msg = r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
	    : PQerrorMessage(c);
	char buf[FETCH_ERR_LEN - 64];

	return fetch_fail(f, exit_code(c, r), "%s: %s", what, pg_chomp(msg, buf, sizeof buf));
}

/* Run a command that returns no rows.  0 or -1. */
static int
pg_exec(struct fetch *f, PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_fail(f, c, r, sql);
	PQclear(r);
	return rc;
}

int
pg_connect(struct fetch *f)
{
	const char *kw[] = { "dbname", "fallback_application_name", NULL };
	const char *val[] = { f->conninfo, "moma-fetch", NULL };
	const char *idt;
	char buf[1024];
	PGconn *c;

	if (f->nconn >= FETCH_MAX_JOBS)
		return fetch_fail(f, EX_SOFTWARE, "more than %d connections", FETCH_MAX_JOBS);
	if ((c = PQconnectdbParams(kw, val, 1)) == NULL)
		return fetch_fail(f, EX_OSERR, "out of memory");
	f->conn[f->nconn++] = c;
	if (PQstatus(c) != CONNECTION_OK)
		return fetch_fail(f, EX_UNAVAILABLE, "cannot connect: %s",
		    pg_chomp(PQerrorMessage(c), buf, sizeof buf));
	idt = PQparameterStatus(c, "integer_datetimes");
	if (idt == NULL || strcmp(idt, "on") != 0)
		return fetch_fail(f, EX_UNAVAILABLE, "server has integer_datetimes off, unsupported");
	/*
	 * UTC: the date predicate compares timestamptz with a date, which
	 * PostgreSQL casts at the session time zone.
	 */
	if (pg_exec(f, c, "SET TimeZone = 'UTC'", 0, NULL) ||
	    pg_exec(f, c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL))
		return -1;
	if (f->snapshot != NULL) {
		/* Checked by main: hex digits and dashes only. */
		char set_snap[128];

		snprintf(set_snap, sizeof set_snap, "SET TRANSACTION SNAPSHOT '%s'", f->snapshot);
		if (pg_exec(f, c, set_snap, 0, NULL))
			return -1;
	}
	return 0;
}

/*
 * set_config(..., true) lasts until the end of the transaction.  The
 * values travel as bound parameters, never inside SQL text; a query reads
 * them with current_setting(), which the planner folds to the value when
 * it estimates, as it would a literal.
 */
int
pg_bind(struct fetch *f, PGconn *c, int i, int k)
{
	char kbuf[16], ibuf[16];
	const char *p[5] = { f->zone, f->date, kbuf, ibuf, f->campaigns ? f->campaigns : "{}" };

	snprintf(kbuf, sizeof kbuf, "%d", k);
	snprintf(ibuf, sizeof ibuf, "%d", i);
	return pg_exec(f, c, "SELECT set_config('moma.zone', $1, true), "
	    "set_config('moma.date', $2, true), set_config('moma.shards', $3, true), "
	    "set_config('moma.shard', $4, true), set_config('moma.campaigns', $5, true)", 5, p);
}

int
pg_describe(struct fetch *f)
{
	PGconn *c = f->conn[0];
	PGresult *r = PQprepare(c, "", f->query, 0, NULL);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail(f, c, r, "query");
	PQclear(r);
	if (rc)
		return rc;
	r = PQdescribePrepared(c, "");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail(f, c, r, "query");
	else if ((f->nparams = PQnparams(r)) > 2)
		rc = fetch_fail(f, EX_CONFIG, "query uses $%d; moma-fetch binds only $1 (the zone) "
		    "and $2 (the date): read current_setting('moma.zone') and "
		    "current_setting('moma.date') instead", f->nparams);
	else
		rc = rows_check(f, r, 0);
	PQclear(r);
	return rc;
}

int
pg_open_shards(struct fetch *f, int k)
{
	char snap[80], set_snap[128];
	PGconn *c0 = f->conn[0];
	PGresult *r;

	if (k == 1)
		return 0;
	if (f->snapshot != NULL) {	/* pg_connect sets it */
		for (int i = 1; i < k; i++)
			if (pg_connect(f))
				return -1;
		return 0;
	}
	r = PQexec(c0, "SELECT pg_export_snapshot()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_fail(f, c0, r, "pg_export_snapshot");
		PQclear(r);
		return -1;
	}
	snprintf(snap, sizeof snap, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	/* A snapshot name is hex digits and dashes; nothing else goes in SQL. */
	if (snap[0] == '\0' || strspn(snap, "0123456789ABCDEFabcdef-") != strlen(snap))
		return fetch_fail(f, EX_SOFTWARE, "pg_export_snapshot: unexpected name '%s'", snap);
	snprintf(set_snap, sizeof set_snap, "SET TRANSACTION SNAPSHOT '%s'", snap);
	for (int i = 1; i < k; i++)
		if (pg_connect(f) || pg_exec(f, f->conn[i], set_snap, 0, NULL))
			return -1;
	return 0;
}

int
pg_commit(struct fetch *f)
{
	for (int i = f->nconn - 1; i >= 0; i--)
		if (pg_exec(f, f->conn[i], "COMMIT", 0, NULL))
			return -1;
	return 0;
}

void
pg_close(struct fetch *f)
{
	for (int i = 0; i < f->nconn; i++)
		PQfinish(f->conn[i]);
	f->nconn = 0;
}

int
pg_wait(struct fetch *f, const int *who, int np)
{
	struct pollfd pf[FETCH_MAX_JOBS];
	uint64_t t0 = stats_now_ns();
	char buf[1024];

	for (int j = 0; j < np; j++)
		pf[j] = (struct pollfd){ .fd = PQsocket(f->conn[who[j]]), .events = POLLIN };
	if (poll(pf, (nfds_t)np, -1) < 0 && errno != EINTR)
		return fetch_fail(f, EX_OSERR, "poll: %s", strerror(errno));
	f->st.blocked_in_ns += stats_now_ns() - t0;
	for (int j = 0; j < np; j++) {
		PGconn *c = f->conn[who[j]];

		if ((pf[j].revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(c))
			return fetch_fail(f, EX_TEMPFAIL, "connection %d lost: %s", who[j] + 1,
			    pg_chomp(PQerrorMessage(c), buf, sizeof buf));
	}
	return 0;
}

/*
 * The ORDER BY outside the query: the carousel's order is moma-fetch's
 * contract, not each --query's.  PostgreSQL flattens the built-in query
 * into this one, and with the index on messages (campagne_id_fk, id) a
 * merge join delivers the order without sorting; a --query already in
 * this order costs no second sort either.
 */
char *
pg_shard_query(const struct fetch *f, int k)
{
	/* The query on lines of its own: a trailing -- comment stays closed. */
	static const char head[] = "SELECT * FROM (\n";
	static const char shard[] = " AND ((moma_q.id % "
	    "current_setting('moma.shards')::bigint) + current_setting('moma.shards')::bigint) "
	    "% current_setting('moma.shards')::bigint = current_setting('moma.shard')::bigint";
	/* --campaigns: pushed down to the campaigns' scan by the planner. */
	static const char only[] =
	    " AND moma_q.campagne_id = ANY (current_setting('moma.campaigns')::bigint[])";
	static const char mid[] = "\n) AS moma_q WHERE true", order[] = " ORDER BY campagne_id, id";
	static const char all[] = "\n) AS moma_q ORDER BY campagne_id, id";
	size_t n = strlen(f->query);
	char *q;

	if ((q = malloc(sizeof head + n + sizeof mid + sizeof shard + sizeof only +
	    sizeof order)) == NULL)
		return NULL;
	memcpy(q, head, sizeof head - 1);
	memcpy(q + sizeof head - 1, f->query, n + 1);
	if (k == 1 && f->campaigns == NULL)
		return strcat(q, all);
	strcat(q, mid);
	if (k > 1)
		strcat(q, shard);
	if (f->campaigns != NULL)
		strcat(q, only);
	return strcat(q, order);
}

int
pg_explain(struct fetch *f)
{
	PGconn *c = f->conn[0];
	const char *params[2] = { f->zone, f->date };
	char *q = pg_shard_query(f, 1), *sql = NULL;
	PGresult *r;
	int rc = 0;

	if (q == NULL || (sql = malloc(strlen(q) + 9)) == NULL) {
		free(q);
		return fetch_fail(f, EX_OSERR, "out of memory");
	}
	memcpy(sql, "EXPLAIN ", 8);
	memcpy(sql + 8, q, strlen(q) + 1);
	free(q);
	r = PQexecParams(c, sql, f->nparams, NULL, params, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_fail(f, c, r, "explain");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++)
		printf("%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	return rc;
}
