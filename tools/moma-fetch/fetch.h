/*
 * fetch.h - what the files of moma-fetch share: one run's state and the
 * internal functions over it.
 *
 * Nothing below main exits or prints: a function that fails returns -1
 * after fetch_fail() recorded the sysexits(3) code and the message in the
 * run (redis anet's error buffer, one per run); main reports it.
 */
#ifndef MOMA_FETCH_H
#define MOMA_FETCH_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "frame.h"
#include "io.h"
#include "stats.h"

#define FETCH_MAX_JOBS	16
#define FETCH_ERR_LEN	2048

/*
 * The column contract of a query, in 'M' record order: the one list of
 * the columns (man/moma-fetch.1 QUERY COLUMNS).  X(ENUM, name, KIND,
 * width): C_ENUM is the column's index; name is both the column's name
 * and its field in struct frame_msg; KIND is INT, TIME or JSON; width is
 * an INT's frame width in bytes.  rows.c makes the checks and the
 * conversion from it.
 */
#define FETCH_COLUMNS(X) \
	X(ID,		id,		INT,	8) \
	X(CAMPAGNE,	campagne_id,	INT,	8) \
	X(ABONNE,	numero_abonne,	INT,	8) \
	X(VSTART,	valid_start,	TIME,	8) \
	X(VEND,		valid_end,	TIME,	8) \
	X(TEMPLATE,	template_id,	INT,	4) \
	X(ACKDELAY,	ack_delay,	INT,	4) \
	X(GENRE,	genre,		INT,	2) \
	X(ACKCOUNT,	ack_count,	INT,	2) \
	X(STORABLES,	storables,	JSON,	0)

#define FETCH_COL_ENUM(e, name, kind, width) C_##e,
enum { FETCH_COLUMNS(FETCH_COL_ENUM) NCOLS };
#undef FETCH_COL_ENUM

/*
 * One row as the server sent it, in binary: each column's bytes and
 * length, -1 for NULL.  Filled from a PGresult or from a COPY tuple.
 */
struct row {
	const uint8_t *v[NCOLS];
	int len[NCOLS];
};

enum fetch_mode { MODE_COPY, MODE_STREAM };

struct fetch {
	/* set by main */
	const char *conninfo;
	char *query;		/* the query text, no trailing semicolon */
	const char *zone, *date;	/* checked: digits, YYYY-MM-DD */
	enum fetch_mode mode;
	int jobs;
	int verbose;		/* a progress line when stderr is a terminal */
	struct frame_hdr hdr;
	struct io_out out;
	struct stats st;
	FILE *rlog;		/* --reject-log: set bad rows aside, one JSON line each */
	const char *rlog_path;
	uint64_t max_reject;	/* --max-reject: more fails the run */
	const char *snapshot;	/* --snapshot: an exported snapshot to read in */
	char *campaigns;	/* --campaigns: "{id,...}", or NULL: every campaign */

	/* run state */
	PGconn *conn[FETCH_MAX_JOBS];	/* conn[0] exports the snapshot */
	int nconn;
	int nparams;		/* $n of a --query of 0.1 (0, 1 or 2) */
	Oid types[NCOLS];	/* column types, from the description */
	struct frame_writer fw;
	int progress;		/* a progress line is on screen */
	uint64_t rejects;	/* rows set aside */

	/* the failure, if any */
	int code;		/* sysexits(3) */
	char err[FETCH_ERR_LEN];
};

/* ---- record.c: the failure, the rows set aside, progress ---------------- */

/* Record the failure (printf-style message) in f; returns -1. */
int fetch_fail(struct fetch *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Show the progress line if due. */
void fetch_progress(struct fetch *f);

/*
 * With --reject-log, set aside the row whose data error f->err holds
 * (message id, campagne_id cid; has_cid 0 when that column was the bad
 * one): a warning, a line in the log.  0 if the row is set aside and the
 * run goes on; -1 (f's error set) without --reject-log, above
 * --max-reject, or on a write error.
 */
int fetch_reject(struct fetch *f, long long id, int64_t cid, int has_cid);

/* ---- pg.c: connections, errors, the query ------------------------------- */

/* Connect a new connection as f->conn[f->nconn], UTC, in a read-only
 * repeatable-read transaction.  0 or -1. */
int pg_connect(struct fetch *f);

/* Record a failed result (or the connection's error) as "what: message"
 * with the exit code its SQLSTATE calls for; returns -1. */
int pg_fail(struct fetch *f, PGconn *c, const PGresult *r, const char *what);


/*
 * Bind the zone and date (and, for connection i of k, the shard) on the
 * server for this transaction: set_config('moma.zone', ...) and friends,
 * read by current_setting() in the query.  0 or -1.
 */
int pg_bind(struct fetch *f, PGconn *c, int i, int k);

/* Describe the query (prepared unnamed): f->nparams, the column contract
 * checked (rows.c), f->types set.  0 or -1. */
int pg_describe(struct fetch *f);

/* Connections 1..k-1 join connection 0's exported snapshot.  0 or -1. */
int pg_open_shards(struct fetch *f, int k);

/* COMMIT and close every connection but 0; then COMMIT 0.  0 or -1. */
int pg_commit(struct fetch *f);

/* Close every connection. */
void pg_close(struct fetch *f);

/* Wait until one of the np connections (indexes who[]) has input, and
 * take it into libpq; the wait counts as blocked_in.  0 or -1. */
int pg_wait(struct fetch *f, const int *who, int np);

/* The query each of k connections runs: the rows of the query (those
 * whose id is moma.shard modulo k when k > 1) in ORDER BY campagne_id, id.
 * Malloc'd, NULL on ENOMEM. */
char *pg_shard_query(const struct fetch *f, int k);

/* Print the plan (EXPLAIN) on stdout.  0 or -1. */
int pg_explain(struct fetch *f);

/* libpq's message without its trailing newline, in buf. */
const char *pg_chomp(const char *s, char *buf, size_t len);

/* ---- rows.c: the column contract, rows to frames ------------------------ */

/* Check the columns of a description or first result.  0 or -1. */
int rows_check(struct fetch *f, const PGresult *r, int need_binary);

/* Convert one row to an 'M' record on the frame writer.  0 or -1. */
int rows_put(struct fetch *f, const struct row *r);

/* The row's merge key, (campagne_id, id).  0 or -1 (a NULL, a bad width). */
int rows_key(struct fetch *f, const struct row *r, int64_t *cid, int64_t *id);

/* ---- run.c: the rows, in copy or stream mode, merged -------------------- */

/* Send the query on every connection and write every row as a frame, in
 * (campagne_id, id) order.  0 or -1. */
int fetch_rows(struct fetch *f);

#endif
