/*
 * reverse.c - moma-dump -r: JSON lines (moma-dump's own output, or
 * written by hand) back to a frame stream (moma-frame(5)).
 */
#include <err.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "moma-dump.h"

#include "dvbtime.h"
#include "frame.h"

static unsigned long lineno;

__attribute__((noreturn, format(printf, 1, 2))) static void
lerr(const char *fmt, ...)
{
	va_list ap;
	char msg[300];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errx(EX_DATAERR, "line %lu: %s", lineno, msg);
}

static int64_t
get_int(json_t *o, const char *k, int required, int64_t lo, int64_t hi)
{
	json_t *v = json_object_get(o, k);
	if (v == NULL) {
		if (required)
			lerr("missing \"%s\"", k);
		return 0;
	}
	if (!json_is_integer(v))
		lerr("\"%s\" must be an integer", k);
	json_int_t x = json_integer_value(v);
	if (x < lo || x > hi)
		lerr("\"%s\" %lld out of range %lld..%lld", k, (long long)x, (long long)lo, (long long)hi);
	return x;
}

static int64_t
get_time(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	int64_t t;

	if (v == NULL)
		lerr("missing \"%s\"", k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (!json_is_string(v) ||
	    dvbtime_parse(json_string_value(v), json_string_length(v), &t) != 0)
		lerr("\"%s\" must be \"YYYY-MM-DDTHH:MM:SSZ\" or Unix seconds", k);
	return t;
}

static int
unhex(const char *s, size_t n, uint8_t *dst)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int v = 0;
		for (int j = 0; j < 2; j++) {
			char c = s[i + j];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (d < 0)
				return -1;
			v = v << 4 | d;
		}
		dst[i / 2] = (uint8_t)v;
	}
	return 0;
}

/* The header -r writes when the input has none, and the defaults for
 * fields a header line leaves out. */
static void
default_header(struct frame_hdr *h)
{
	time_t now = time(NULL);
	struct tm tm;

	*h = (struct frame_hdr){ .version = FRAME_VERSION, .created = now };
	gmtime_r(&now, &tm);
	strftime(h->date, sizeof h->date, "%Y-%m-%d", &tm);
	snprintf(h->producer, sizeof h->producer, "moma-dump -r %s", MOMA_VERSION);
}

/* The state of -r: the frame writer, opened at the first record. */
struct rev {
	struct frame_writer fw;
	struct frame_hdr h;
	int opened, ended;
	uint64_t messages;	/* message lines written */
	uint8_t *raw;		/* storables_hex bytes */
};

static void
rev_open(struct rev *r)
{
	if (frame_writer_open(&r->fw, &out, &r->h) != FRAME_OK)
		err(io_write_exit(errno), "write error");
	r->opened = 1;
}

static void
rev_header(struct rev *r, json_t *o)
{
	const char *s;

	if (r->opened)
		lerr("a header after the first record");
	default_header(&r->h);
	r->h.network_id = (uint8_t)get_int(o, "network_id", 0, 0, 255);
	if ((s = json_string_value(json_object_get(o, "date"))) != NULL) {
		int64_t t;
		if (strlen(s) != 10 || dvbtime_parse(s, 10, &t) != 0)
			lerr("\"date\" must be \"YYYY-MM-DD\"");
		memcpy(r->h.date, s, 11);
	}
	if ((s = json_string_value(json_object_get(o, "zone"))) != NULL)
		snprintf(r->h.zone, sizeof r->h.zone, "%s", s);
	if ((s = json_string_value(json_object_get(o, "producer"))) != NULL)
		snprintf(r->h.producer, sizeof r->h.producer, "%s", s);
	r->h.created = json_object_get(o, "created") ? get_time(o, "created") : time(NULL);
	rev_open(r);
}

/* m's storables from exactly one of the three keys; *dumped: what to
 * free after the write (json_dumps' text). */
static void
rev_storables(struct rev *r, json_t *o, struct frame_msg *m, char **dumped)
{
	json_t *sv = json_object_get(o, "storables");
	json_t *sr = json_object_get(o, "storables_raw");
	json_t *sh = json_object_get(o, "storables_hex");

	if (!!sv + !!sr + !!sh != 1)
		lerr("need exactly one of \"storables\", \"storables_raw\", \"storables_hex\"");
	if (sv) {
		if ((*dumped = json_dumps(sv, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			err(EX_OSERR, "out of memory");
		m->storables = (const uint8_t *)*dumped;
		m->storables_len = strlen(*dumped);
	} else if (sr) {
		if (!json_is_string(sr))
			lerr("\"storables_raw\" must be a string");
		m->storables = (const uint8_t *)json_string_value(sr);
		m->storables_len = json_string_length(sr);
	} else {
		if (!json_is_string(sh))
			lerr("\"storables_hex\" must be a string");
		size_t hl = json_string_length(sh);
		free(r->raw);
		if ((r->raw = malloc(hl / 2 + 1)) == NULL)
			err(EX_OSERR, "out of memory");
		if (unhex(json_string_value(sh), hl, r->raw))
			lerr("\"storables_hex\" is not an even number of hex digits");
		m->storables = r->raw;
		m->storables_len = hl / 2;
	}
	if (m->storables_len > FRAME_MAX_RECORD - 1 - FRAME_MSG_FIXED)
		lerr("storables of %zu bytes exceed the frame record maximum", m->storables_len);
}

static void
rev_message(struct rev *r, json_t *o)
{
	struct frame_msg m = { 0 };
	char *dumped = NULL;

	if (!r->opened) {
		default_header(&r->h);
		rev_open(r);
	}
	m.id = get_int(o, "id", 1, INT64_MIN, INT64_MAX);
	m.campagne_id = get_int(o, "campagne_id", 1, INT64_MIN, INT64_MAX);
	m.numero_abonne = get_int(o, "numero_abonne", 1, INT64_MIN, INT64_MAX);
	m.template_id = (int32_t)get_int(o, "template_id", 0, INT32_MIN, INT32_MAX);
	m.genre = (int16_t)get_int(o, "genre", 0, INT16_MIN, INT16_MAX);
	m.ack_count = (int16_t)get_int(o, "ack_count", 0, INT16_MIN, INT16_MAX);
	m.ack_delay = (int32_t)get_int(o, "ack_delay", 0, INT32_MIN, INT32_MAX);
	m.valid_start = get_time(o, "valid_start");
	m.valid_end = get_time(o, "valid_end");
	rev_storables(r, o, &m, &dumped);
	if (frame_write_msg(&r->fw, &m) != FRAME_OK)
		err(io_write_exit(errno), "write error");
	free(dumped);
	r->messages++;
	st.records++;
	st.units_out++;
}

/* An end line: its count, when given, must be the messages written, so
 * that a file cut at a line boundary before it is not taken as whole.
 * The trailer itself is computed from what was written. */
static void
rev_end(struct rev *r, json_t *o)
{
	if (json_object_get(o, "count") != NULL) {
		int64_t n = get_int(o, "count", 1, 0, INT64_MAX);
		if ((uint64_t)n != r->messages)
			lerr("end line count %" PRId64 ", but %" PRIu64 " message%s before it", n,
			    r->messages, r->messages == 1 ? "" : "s");
	}
	r->ended = 1;
}

/* One line of -r's input (n bytes, no newline). */
static void
rev_line(struct rev *r, const char *buf, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);

	if (o == NULL)
		lerr("invalid JSON at column %d: %s", je.column, je.text);
	if (!json_is_object(o))
		lerr("expected a JSON object");
	const char *type = json_string_value(json_object_get(o, "type"));
	if (type == NULL)
		type = "message";
	if (r->ended)
		lerr("a \"%s\" record after the end line", type);
	if (strcmp(type, "header") == 0)
		rev_header(r, o);
	else if (strcmp(type, "message") == 0)
		rev_message(r, o);
	else if (strcmp(type, "end") == 0)
		rev_end(r, o);
	else
		lerr("record type \"%s\" cannot be turned back into frames "
		    "(-r reads header, message and end lines)", type);
	json_decref(o);
}

int
reverse(FILE *f)
{
	static struct rev r;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&buf, &cap, f)) > 0) {
		lineno++;
		st.bytes_in += (uint64_t)n;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (n > 0)
			rev_line(&r, buf, (size_t)n);
	}
	if (ferror(f))
		err(EX_IOERR, "read error");
	if (!r.opened) {
		default_header(&r.h);
		rev_open(&r);
	}
	if (frame_write_end(&r.fw) != FRAME_OK)
		err(io_write_exit(errno), "write error");
	free(buf);
	free(r.raw);
	return 0;
}

