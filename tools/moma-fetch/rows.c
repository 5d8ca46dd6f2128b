/*
 * rows.c - the column contract of moma-fetch's query and the conversion
 * of its binary rows to 'M' frame records (man/moma-fetch.1 QUERY
 * COLUMNS, man/moma-frame.5).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "be.h"
#include "fetch.h"

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

/*
 * Names and order are checked, and each column may be of any of the
 * listed types (integers are range-checked against the frame width).
 */
enum kind { K_INT, K_TIME, K_JSON };
static const struct col {
	const char *name;
	enum kind kind;
	int width;		/* K_INT: frame width in bytes */
} cols[NCOLS] = {
#define COL_ROW(e, name, kind, width) { #name, K_##kind, width },
	FETCH_COLUMNS(COL_ROW)
#undef COL_ROW
};

static int
type_ok(enum kind k, Oid t)
{
	switch (k) {
	case K_INT:
		return t == INT2OID || t == INT4OID || t == INT8OID;
	case K_TIME:
		return t == TIMESTAMPTZOID || t == TIMESTAMPOID;
	default:
		return t == JSONBOID || t == JSONOID || t == TEXTOID || t == VARCHAROID;
	}
}

int
rows_check(struct fetch *f, const PGresult *r, int need_binary)
{
	if (PQnfields(r) != NCOLS)
		return fetch_fail(f, EX_CONFIG, "query returns %d columns, moma-fetch needs %d: "
		    "id, campagne_id, numero_abonne, valid_start, valid_end, "
		    "template_id, ack_delay, genre, ack_count, storables",
		    PQnfields(r), NCOLS);
	for (int i = 0; i < NCOLS; i++) {
		Oid t = PQftype(r, i);

		if (strcmp(PQfname(r, i), cols[i].name) != 0)
			return fetch_fail(f, EX_CONFIG,
			    "query column %d is \"%s\", moma-fetch needs \"%s\" there",
			    i + 1, PQfname(r, i), cols[i].name);
		if (!type_ok(cols[i].kind, t))
			return fetch_fail(f, EX_CONFIG,
			    "query column %d (%s) has type oid %u, moma-fetch needs %s",
			    i + 1, cols[i].name, t,
			    cols[i].kind == K_INT ? "smallint, integer or bigint" :
			    cols[i].kind == K_TIME ? "timestamptz (or timestamp, taken as UTC)" :
			    "jsonb, json or text");
		if (need_binary && PQfformat(r, i) != 1)
			return fetch_fail(f, EX_SOFTWARE,
			    "query column %d (%s): server sent text, not binary",
			    i + 1, cols[i].name);
		f->types[i] = t;
	}
	return 0;
}

/* Column c as an integer in the frame width. */
static int
get_int(struct fetch *f, const struct row *r, int c, long long id, int64_t *out)
{
	const uint8_t *p = r->v[c];
	int len = r->len[c], want;
	int64_t v;

	if (len < 0) {
		if (c == C_ID)
			return fetch_fail(f, EX_DATAERR, "row %llu: column id is NULL",
			    (unsigned long long)f->fw.nmsg + 1);
		return fetch_fail(f, EX_DATAERR, "message %lld: column %s is NULL", id, cols[c].name);
	}
	want = f->types[c] == INT8OID ? 8 : f->types[c] == INT4OID ? 4 : 2;
	if (len != want)
		return fetch_fail(f, EX_SOFTWARE,
		    "message %lld: column %s: binary value of %d bytes for type oid %u",
		    id, cols[c].name, len, f->types[c]);
	v = want == 8 ? (int64_t)be64_get(p) : want == 4 ? (int32_t)be32_get(p) :
	    (int16_t)be16_get(p);
	if ((cols[c].width == 4 && (v < INT32_MIN || v > INT32_MAX)) ||
	    (cols[c].width == 2 && (v < INT16_MIN || v > INT16_MAX)))
		return fetch_fail(f, EX_DATAERR,
		    "message %lld: column %s: %lld out of range %lld..%lld (a %d-bit field)",
		    id, cols[c].name, (long long)v, -(1LL << (cols[c].width * 8 - 1)),
		    (1LL << (cols[c].width * 8 - 1)) - 1, cols[c].width * 8);
	*out = v;
	return 0;
}

/*
 * timestamp[tz] binary: int64 microseconds since 2000-01-01 UTC (timestamp
 * without time zone is taken as UTC).  Floor division, so a time before
 * 1970 with a fraction rounds down like the calendar does.  PostgreSQL's
 * 'infinity' and '-infinity' are INT64_MAX and INT64_MIN and stay so; the
 * encoder rejects them as outside the DVB date range.
 */
static int
get_time(struct fetch *f, const struct row *r, int c, long long id, int64_t *out)
{
	int64_t us, s;

	if (r->len[c] < 0)
		return fetch_fail(f, EX_DATAERR, "message %lld: column %s is NULL", id, cols[c].name);
	if (r->len[c] != 8)
		return fetch_fail(f, EX_SOFTWARE, "message %lld: column %s: binary timestamp of %d bytes",
		    id, cols[c].name, r->len[c]);
	us = (int64_t)be64_get(r->v[c]);
	if (us == INT64_MAX || us == INT64_MIN) {
		*out = us;
		return 0;
	}
	s = us / 1000000;
	if (us % 1000000 < 0)
		s--;
	*out = s + PG_EPOCH_UNIX;
	return 0;
}

/* The storables column as JSON text: jsonb binary is a version byte (1)
 * and the text. */
static int
get_json(struct fetch *f, const struct row *r, long long id, struct frame_msg *m)
{
	const uint8_t *js = r->v[C_STORABLES];
	int jl = r->len[C_STORABLES];

	if (jl < 0)
		return fetch_fail(f, EX_DATAERR, "message %lld: column storables is NULL", id);
	if (f->types[C_STORABLES] == JSONBOID) {
		if (jl < 1 || js[0] != 1)
			return fetch_fail(f, EX_SOFTWARE, "message %lld: column storables: "
			    "unknown jsonb binary version %d", id, jl ? js[0] : -1);
		js++;
		jl--;
	}
	m->storables = js;
	m->storables_len = (size_t)jl;
	return 0;
}

int
rows_key(struct fetch *f, const struct row *r, int64_t *cid, int64_t *id)
{
	if (get_int(f, r, C_ID, 0, id))
		return -1;
	return get_int(f, r, C_CAMPAGNE, (long long)*id, cid);
}

/* A row's failure: set aside if it is the row's data (a NULL, a value
 * outside the frame's field), else the end of the run. */
static int
row_fail(struct fetch *f, long long id, const int64_t *v, int ncols_read)
{
	if (f->code != EX_DATAERR)
		return -1;
	return fetch_reject(f, id, v[C_CAMPAGNE], ncols_read > C_CAMPAGNE);
}

int
rows_put(struct fetch *f, const struct row *r)
{
	struct frame_msg m;
	int64_t v[NCOLS] = { 0 };
	long long id;

	if (get_int(f, r, C_ID, 0, &v[C_ID]))
		return -1;
	id = (long long)v[C_ID];
	f->st.records++;
	for (int c = C_CAMPAGNE; c < C_STORABLES; c++)
		if ((cols[c].kind == K_TIME ? get_time : get_int)(f, r, c, id, &v[c]))
			return row_fail(f, id, v, c);
	if (get_json(f, r, id, &m))
		return row_fail(f, id, v, C_STORABLES);
	/* Each INT and TIME column into the field of its name; get_int
	 * checked the value against the field's width. */
#define SET_INT(e, name) m.name = (__typeof__(m.name))v[C_##e];
#define SET_TIME SET_INT
#define SET_JSON(e, name)
#define COL_SET(e, name, kind, width) SET_##kind(e, name)
	FETCH_COLUMNS(COL_SET)
#undef COL_SET
#undef SET_JSON
#undef SET_TIME
#undef SET_INT
	for (int c = 0; c < NCOLS; c++)
		if (r->len[c] > 0)
			f->st.bytes_in += (uint64_t)r->len[c];

	switch (frame_write_msg(&f->fw, &m)) {
	case FRAME_OK:
		break;
	case FRAME_EDATA:
		fetch_fail(f, EX_DATAERR, "message %lld: column storables: %zu bytes, "
		    "above the frame record limit of %u", id, m.storables_len,
		    FRAME_MAX_RECORD - 1 - FRAME_MSG_FIXED);
		return row_fail(f, id, v, NCOLS);
	default:
		return fetch_fail(f, io_write_exit(errno), "stdout: %s", strerror(errno));
	}
	return 0;
}
