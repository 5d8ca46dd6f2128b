/*
 * reverse.c - moma-dump -r: JSON lines (moma-dump's own output, or
 * written by hand) back to a frame stream (moma-frame(5)).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "moma-dump.h"

#include "dvbtime.h"
#include "frame.h"

static unsigned long lineno;

/* Record why the current line cannot be turned into a frame: "line N:
 * ..." (65); returns -1. */
__attribute__((format(printf, 1, 2))) static int
lfail(const char *fmt, ...)
{
	va_list ap;
	char msg[300];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cli_failx(&dump_err, EX_DATAERR, "line %lu: %s", lineno, msg);
}

/* The integer k of o, in lo..hi, into *x (0 when absent and not
 * required).  0, or -1 with dump_err set. */
static int
get_int(json_t *o, const char *k, int required, int64_t lo, int64_t hi, int64_t *x)
{
	json_t *v = json_object_get(o, k);

	*x = 0;
	if (v == NULL)
		return required ? lfail("missing \"%s\"", k) : 0;
	if (!json_is_integer(v))
		return lfail("\"%s\" must be an integer", k);
	*x = json_integer_value(v);
	if (*x < lo || *x > hi)
		return lfail("\"%s\" %lld out of range %lld..%lld", k, (long long)*x, (long long)lo,
		    (long long)hi);
	return 0;
}

/* The time k of o (a UTC text or Unix seconds) into *t.  0, or -1 with
 * dump_err set. */
static int
get_time(json_t *o, const char *k, int64_t *t)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL)
		return lfail("missing \"%s\"", k);
	if (json_is_integer(v)) {
		*t = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) ||
	    dvbtime_parse(json_string_value(v), json_string_length(v), t) != 0)
		return lfail("\"%s\" must be \"YYYY-MM-DDTHH:MM:SSZ\" or Unix seconds", k);
	return 0;
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

/* The frame writer on out, with r->h.  0, or -1 with dump_err set. */
static int
rev_open(struct rev *r)
{
	if (frame_writer_open(&r->fw, &out, &r->h) != FRAME_OK)
		return cli_fail(&dump_err, io_write_exit(errno), "write error");
	r->opened = 1;
	return 0;
}

/* A header line: the stream's header, the defaults for what it leaves
 * out.  0, or -1 with dump_err set. */
static int
rev_header(struct rev *r, json_t *o)
{
	const char *s;
	int64_t x;

	if (r->opened)
		return lfail("a header after the first record");
	default_header(&r->h);
	if (get_int(o, "network_id", 0, 0, 255, &x) != 0)
		return -1;
	r->h.network_id = (uint8_t)x;
	if ((s = json_string_value(json_object_get(o, "date"))) != NULL) {
		if (strlen(s) != 10 || dvbtime_parse(s, 10, &x) != 0)
			return lfail("\"date\" must be \"YYYY-MM-DD\"");
		memcpy(r->h.date, s, 11);
	}
	if ((s = json_string_value(json_object_get(o, "zone"))) != NULL)
		snprintf(r->h.zone, sizeof r->h.zone, "%s", s);
	if ((s = json_string_value(json_object_get(o, "producer"))) != NULL)
		snprintf(r->h.producer, sizeof r->h.producer, "%s", s);
	r->h.created = time(NULL);
	if (json_object_get(o, "created") && get_time(o, "created", &r->h.created) != 0)
		return -1;
	return rev_open(r);
}

/* m's storables from exactly one of the three keys; *dumped: what to
 * free after the write (json_dumps' text).  0, or -1 with dump_err set. */
static int
rev_storables(struct rev *r, json_t *o, struct frame_msg *m, char **dumped)
{
	json_t *sv = json_object_get(o, "storables");
	json_t *sr = json_object_get(o, "storables_raw");
	json_t *sh = json_object_get(o, "storables_hex");

	if (!!sv + !!sr + !!sh != 1)
		return lfail("need exactly one of \"storables\", \"storables_raw\", \"storables_hex\"");
	if (sv) {
		if ((*dumped = json_dumps(sv, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			return cli_fail(&dump_err, EX_OSERR, "out of memory");
		m->storables = (const uint8_t *)*dumped;
		m->storables_len = strlen(*dumped);
	} else if (sr) {
		if (!json_is_string(sr))
			return lfail("\"storables_raw\" must be a string");
		m->storables = (const uint8_t *)json_string_value(sr);
		m->storables_len = json_string_length(sr);
	} else {
		if (!json_is_string(sh))
			return lfail("\"storables_hex\" must be a string");
		size_t hl = json_string_length(sh);
		free(r->raw);
		if ((r->raw = malloc(hl / 2 + 1)) == NULL)
			return cli_fail(&dump_err, EX_OSERR, "out of memory");
		if (unhex(json_string_value(sh), hl, r->raw))
			return lfail("\"storables_hex\" is not an even number of hex digits");
		m->storables = r->raw;
		m->storables_len = hl / 2;
	}
	if (m->storables_len > FRAME_MAX_RECORD - 1 - FRAME_MSG_FIXED)
		return lfail("storables of %zu bytes exceed the frame record maximum", m->storables_len);
	return 0;
}

/* A message line's integers, in the order they are checked. */
static const struct { const char *key; int required; int64_t lo, hi; } msg_ints[] = {
	{ "id", 1, INT64_MIN, INT64_MAX },
	{ "campagne_id", 1, INT64_MIN, INT64_MAX },
	{ "numero_abonne", 1, INT64_MIN, INT64_MAX },
	{ "template_id", 0, INT32_MIN, INT32_MAX },
	{ "genre", 0, INT16_MIN, INT16_MAX },
	{ "ack_count", 0, INT16_MIN, INT16_MAX },
	{ "ack_delay", 0, INT32_MIN, INT32_MAX },
};

/* A message line: one 'M' record.  0, or -1 with dump_err set. */
static int
rev_message(struct rev *r, json_t *o)
{
	struct frame_msg m = { 0 };
	char *dumped = NULL;
	int64_t v[sizeof msg_ints / sizeof msg_ints[0]];
	int rc = 0;

	if (!r->opened) {
		default_header(&r->h);
		if (rev_open(r) != 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (get_int(o, msg_ints[i].key, msg_ints[i].required, msg_ints[i].lo,
		    msg_ints[i].hi, &v[i]) != 0)
			return -1;
	m.id = v[0];
	m.campagne_id = v[1];
	m.numero_abonne = v[2];
	m.template_id = (int32_t)v[3];
	m.genre = (int16_t)v[4];
	m.ack_count = (int16_t)v[5];
	m.ack_delay = (int32_t)v[6];
	if (get_time(o, "valid_start", &m.valid_start) != 0 ||
	    get_time(o, "valid_end", &m.valid_end) != 0 || rev_storables(r, o, &m, &dumped) != 0)
		rc = -1;
	else if (frame_write_msg(&r->fw, &m) != FRAME_OK)
		rc = cli_fail(&dump_err, io_write_exit(errno), "write error");
	free(dumped);
	if (rc != 0)
		return -1;
	r->messages++;
	st.records++;
	st.units_out++;
	return 0;
}

/* An end line: its count, when given, must be the messages written, so
 * that a file cut at a line boundary before it is not taken as whole.
 * The trailer itself is computed from what was written.  0, or -1 with
 * dump_err set. */
static int
rev_end(struct rev *r, json_t *o)
{
	int64_t n;

	if (json_object_get(o, "count") != NULL) {
		if (get_int(o, "count", 1, 0, INT64_MAX, &n) != 0)
			return -1;
		if ((uint64_t)n != r->messages)
			return lfail("end line count %" PRId64 ", but %" PRIu64 " message%s before it",
			    n, r->messages, r->messages == 1 ? "" : "s");
	}
	r->ended = 1;
	return 0;
}

/* One JSON object of -r's input: the record its "type" names (a
 * message when it names none).  0, or -1 with dump_err set. */
static int
rev_record(struct rev *r, json_t *o)
{
	const char *type = json_string_value(json_object_get(o, "type"));

	if (type == NULL)
		type = "message";
	if (r->ended)
		return lfail("a \"%s\" record after the end line", type);
	if (strcmp(type, "header") == 0)
		return rev_header(r, o);
	if (strcmp(type, "message") == 0)
		return rev_message(r, o);
	if (strcmp(type, "end") == 0)
		return rev_end(r, o);
	return lfail("record type \"%s\" cannot be turned back into frames "
	    "(-r reads header, message and end lines)", type);
}

/* One line of -r's input (n bytes, no newline).  0, or -1 with dump_err
 * set. */
static int
rev_line(struct rev *r, const char *buf, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (o == NULL)
		return lfail("invalid JSON at column %d: %s", je.column, je.text);
	rc = json_is_object(o) ? rev_record(r, o) : lfail("expected a JSON object");
	json_decref(o);
	return rc;
}

/* The lines of f, each turned into its record.  0, or -1 with dump_err
 * set. */
static int
rev_lines(struct rev *r, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&buf, &cap, f)) > 0) {
		lineno++;
		st.bytes_in += (uint64_t)n;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		if (n > 0)
			rc = rev_line(r, buf, (size_t)n);
	}
	if (rc == 0 && ferror(f))
		rc = cli_fail(&dump_err, EX_IOERR, "read error");
	free(buf);
	return rc;
}

int
reverse(int fd)
{
	static struct rev r;
	FILE *f;
	int rc;

	if (isatty(STDOUT_FILENO))
		return cli_failx(&dump_err, EX_USAGE,
		    "refusing to write a binary frame stream to a terminal");
	if ((f = fdopen(fd, "r")) == NULL)
		return cli_fail(&dump_err, EX_OSERR, "fdopen");
	rc = rev_lines(&r, f);
	if (rc == 0 && !r.opened) {
		default_header(&r.h);
		rc = rev_open(&r);
	}
	if (rc == 0 && frame_write_end(&r.fw) != FRAME_OK)
		rc = cli_fail(&dump_err, io_write_exit(errno), "write error");
	free(r.raw);
	r.raw = NULL;
	return rc;
}
