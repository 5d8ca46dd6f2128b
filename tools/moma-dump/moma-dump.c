/*
 * moma-dump - any moma stream to JSON lines, and JSON lines back to frames.
 *
 * Input kind is detected from the first bytes: "MOMAFRM\n" is a frame
 * stream (moma-frame(5)), 0x92 a section file (moma-section(5)), 0x47
 * every 188 bytes a transport stream carrying such sections (ts.h).  Every
 * record is verified (lengths, checksums, CRCs) and the byte offset of
 * anything wrong is reported.  -r reads JSON lines and writes a frame
 * stream, so moma-encode can be driven without a database (reverse.c).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "moma-dump.h"

#include "../cli.h"
#include "dvbtime.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "section.h"
#include "stats.h"
#include "tlv.h"
#include "ts.h"

#define IN_BUF (256 * 1024)

static struct {
	int reverse, stats, verbose, progress;
	uint64_t count;		/* -n: stop after this many records (0: all) */
	const char *type;	/* -t: frames | sections | ts */
	const char *stats_path;	/* --stats-file */
	int pid;		/* --pid: TS sections' PID, -1: auto */
} opt;

struct stats st;
struct io_out out;
struct cli_err dump_err;

static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: moma-dump [-v] [-n count] [--pid pid] [--stats] [--stats-file file]\n"
	    "                 [-t type] [file]\n"
	    "       moma-dump -r [-v] [--stats] [--stats-file file] [file]\n");
	if (code == 0)
		fputs("\nDecode a moma frame stream or carousel (detected from its first bytes) to\n"
		    "JSON lines, one object per record, verifying lengths, checksums and CRCs.\n"
		    "With -r, turn JSON lines back into a frame stream.\n\n"
		    "  -h, --help       show this help\n"
		    "  -n, --count N    stop after N records\n"
		    "  --pid PID        transport stream: the sections' PID (default: the first\n"
		    "                   PID whose first section has table_id 0x92)\n"
		    "  -r, --reverse    JSON lines in, frame stream out\n"
		    "  --stats          print a one-line summary on standard error at exit\n"
		    "  --stats-file F   write the same as key=value lines to F at exit\n"
		    "  -t, --type TYPE  do not detect: frames, sections or ts\n"
		    "  -v, --verbose    progress on standard error when it is a terminal\n"
		    "  -V, --version    print the version\n", stdout);
	if (code == 0)
		cli_help_exit();
	exit(code);
}

/* ---- a growable line buffer ---------------------------------------------- */

/*
 * One output line.  Like a stdio stream's error flag, bad is sticky: the
 * first failure (recorded in dump_err) makes every later append a no-op
 * and emit() returns it, so the appends need no checks; the callers of
 * sb_need that write into the line themselves check its result.
 */
struct sb { char *p; size_t len, cap; int bad; };
static struct sb line;

/* Mark the line bad after a failure was recorded; returns -1. */
static int
sb_fail(struct sb *b, int rc)
{
	b->bad = 1;
	return rc;
}

/* Room for n more bytes: 0, or -1 (the line bad). */
static int
sb_need(struct sb *b, size_t n)
{
	char *np;

	if (b->bad)
		return -1;
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n) {
		if (cap > ((size_t)64 << 20))
			return sb_fail(b, cli_failx(&dump_err, EX_SOFTWARE, "output line over 64 MiB"));
		cap *= 2;
	}
	if ((np = realloc(b->p, cap)) == NULL)
		return sb_fail(b, cli_fail(&dump_err, EX_OSERR, "out of memory"));
	b->p = np;
	b->cap = cap;
	return 0;
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb_need(b, 256) != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb_fail(b, cli_failx(&dump_err, EX_SOFTWARE, "format error"));
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (sb_need(b, (size_t)n + 1) != 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static void
sb_jstr(struct sb *b, const uint8_t *s, size_t n)
{
	long w;

	if (sb_need(b, n * 6 + 3) != 0)
		return;
	w = tlv_json_string(s, n, b->p + b->len, b->cap - b->len);
	if (w < 0) {
		sb_fail(b, cli_failx(&dump_err, EX_SOFTWARE, "JSON string overflow"));
		return;
	}
	b->len += (size_t)w;
}

/* Append s[0..n) (n small: the caller's sb_need covers it or this does). */
static inline void
sb_put(struct sb *b, const char *s, size_t n)
{
	if (sb_need(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}
#define SB_LIT(b, lit) sb_put((b), (lit), sizeof(lit) - 1)

/* "00" "01" ... "99" */
#define DIGITS10(t) t "0" t "1" t "2" t "3" t "4" t "5" t "6" t "7" t "8" t "9"
static const char digits2[] = DIGITS10("0") DIGITS10("1") DIGITS10("2") DIGITS10("3")
    DIGITS10("4") DIGITS10("5") DIGITS10("6") DIGITS10("7") DIGITS10("8") DIGITS10("9");

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Decimal integers without printf (a quarter of the dump's time went to
 * vfprintf once), two digits a division by 100 (a digit a division was
 * an eighth of it), backwards into a scratch buffer and out in one
 * fixed-size copy; o has room for 20 bytes.  Returns the end. */
static inline char *
put_u64(char *o, uint64_t v)
{
	char t[40], *e = t + 20, *q = e;

	while (v >= 100) {
		uint64_t d = v / 100;
		q -= 2;
		memcpy(q, digits2 + 2 * (v - 100 * d), 2);
		v = d;
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, digits2 + 2 * v, 2);
	} else {
		*--q = (char)('0' + v);
	}
	memcpy(o, q, 20);
	return o + (e - q);
}

static inline char *
put_i64(char *o, int64_t v)
{
	if (v >= 0)
		return put_u64(o, (uint64_t)v);
	*o++ = '-';
	return put_u64(o, (uint64_t)0 - (uint64_t)v);
}

#define TIME_OUT 40	/* put_time's most: 37 characters and quotes, or 20 digits */

/* The time t at o as "YYYY-MM-DDTHH:MM:SSZ" (or Unix seconds outside
 * years 0..9999); returns the end (o, and the line bad, on failure). */
static char *
time_text(char *o, int64_t t, char *keep, size_t *keep_n)
{
	int64_t days = t / 86400 - (t % 86400 < 0);
	int64_t y;
	unsigned m, d;
	char s[TIME_OUT];

	dvbtime_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return put_i64(o, t);
	int n = dvbtime_format(t, s + 1, sizeof s - 2);
	if (n < 0 || (size_t)n > sizeof s - 3) {
		sb_fail(&line, cli_failx(&dump_err, EX_SOFTWARE, "time format overflow"));
		return o;
	}
	s[0] = '"';
	s[n + 1] = '"';
	memcpy(keep, s, (size_t)n + 2);
	*keep_n = (size_t)n + 2;
	memcpy(o, s, (size_t)n + 2);
	return o + n + 2;
}

/*
 * time_text with a memory: messages of one campaign share their times,
 * so the last text of each slot (0 valid_start, 1 valid_end, 2 others) is
 * kept and reused.  o has room for TIME_OUT bytes.
 */
static inline char *
put_time(char *o, int64_t t, int slot)
{
	static struct { int64_t t; int ok; char s[TIME_OUT]; size_t n; } cache[3];

	if (cache[slot].ok && cache[slot].t == t) {
		memcpy(o, cache[slot].s, TIME_OUT);
		return o + cache[slot].n;
	}
	cache[slot].n = 0;
	char *e = time_text(o, t, cache[slot].s, &cache[slot].n);
	cache[slot].t = t;
	cache[slot].ok = cache[slot].n != 0;
	return e;
}

/* ,"key": and the time t, as put_time. */
static void
sb_time(struct sb *b, const char *key, int64_t t, int slot)
{
	size_t k = strlen(key);

	if (sb_need(b, k + 4 + TIME_OUT) != 0)
		return;
	b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, key, k);
	b->len += k;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
	b->len = (size_t)(put_time(b->p + b->len, t, slot) - b->p);
}

/* The line out, with its newline: 0, or -1 (dump_err set) if the line
 * went bad or the write failed. */
static int
emit(void)
{
	if (sb_need(&line, 1) != 0)
		return -1;
	line.p[line.len++] = '\n';
	if (io_out_write(&out, line.p, line.len) != 0)
		return cli_fail(&dump_err, io_write_exit(errno), "write error");
	line.len = 0;
	st.units_out++;
	if (opt.progress && (st.records & 0xfff) == 0) {
		char s[160];
		if (stats_progress(&st, "records", s, sizeof s))
			fprintf(stderr, "\rmoma-dump: %s ", s);
	}
	return 0;
}

static void
hex(struct sb *b, const uint8_t *p, size_t n)
{
	static const char h[] = "0123456789abcdef";

	if (sb_need(b, 2 * n + 2) != 0)
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		b->p[b->len++] = h[p[i] >> 4];
		b->p[b->len++] = h[p[i] & 15];
	}
	b->p[b->len++] = '"';
}

/* ---- frames -> JSON ------------------------------------------------------- */

/* The storables of a message that storables_json declined, after the
 * ,"storables": in line: compact JSON from Jansson, or when Jansson cannot
 * read them (duplicate keys included: the encoder refuses them, and a dump
 * that folded them would make a bad message look good), the bytes in hex
 * and Jansson's error. */
static void
storables_jansson(const uint8_t *s, size_t n)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)s, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	char *d = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (d) {
		sb_put(&line, d, strlen(d));
	} else {
		line.len -= sizeof ",\"storables\":" - 1;
		SB_LIT(&line, ",\"storables_hex\":");
		hex(&line, s, n);
		SB_LIT(&line, ",\"storables_error\":");
		sb_jstr(&line, (const uint8_t *)je.text, strlen(je.text));
	}
	free(d);
	json_decref(j);
}

/* A message line's most bytes but its storables: 157 of names and
 * punctuation, 8 integers of at most 20 and 2 times of TIME_OUT. */
#define MSG_OUT (160 + 8 * 20 + 2 * TIME_OUT)

/* One message line: the frame's number and fields, then storables,
 * written straight into line (one sb_need for all).  0, or -1 with
 * dump_err set. */
static int
dump_message(uint64_t frame, const struct frame_msg *m)
{
	if (sb_need(&line, MSG_OUT + m->storables_len + 2) != 0)
		return -1;
	char *o = line.p + line.len;
	o = PUT_LIT(o, "{\"type\":\"message\",\"frame\":");
	o = put_u64(o, frame);
	o = PUT_LIT(o, ",\"id\":");
	o = put_i64(o, m->id);
	o = PUT_LIT(o, ",\"campagne_id\":");
	o = put_i64(o, m->campagne_id);
	o = PUT_LIT(o, ",\"numero_abonne\":");
	o = put_i64(o, m->numero_abonne);
	o = PUT_LIT(o, ",\"template_id\":");
	o = put_i64(o, m->template_id);
	o = PUT_LIT(o, ",\"genre\":");
	o = put_i64(o, m->genre);
	o = PUT_LIT(o, ",\"ack_count\":");
	o = put_i64(o, m->ack_count);
	o = PUT_LIT(o, ",\"ack_delay\":");
	o = put_i64(o, m->ack_delay);
	o = PUT_LIT(o, ",\"valid_start\":");
	o = put_time(o, m->valid_start, 0);
	o = PUT_LIT(o, ",\"valid_end\":");
	o = put_time(o, m->valid_end, 1);
	o = PUT_LIT(o, ",\"storables\":");
	long w = storables_json(m->storables, m->storables_len, o);
	if (w >= 0) {
		o += w;
		*o++ = '}';
		line.len = (size_t)(o - line.p);
	} else {
		line.len = (size_t)(o - line.p);
		storables_jansson(m->storables, m->storables_len);
		SB_LIT(&line, "}");
	}
	return emit();
}

/* Why a frame reader stopped (rc < 0; ferr, message cur_id), recorded;
 * returns -1. */
static int
frames_fail(int rc, const char *ferr, int64_t cur_id)
{
	if (rc == FRAME_EIO)
		return cli_fail(&dump_err, EX_IOERR, "read error");
	if (rc != FRAME_EDATA)
		return cli_failx(&dump_err, EX_OSERR, "out of memory");
	if (cur_id >= 0)
		return cli_failx(&dump_err, EX_DATAERR, "%s (message %" PRId64 ")", ferr, cur_id);
	return cli_failx(&dump_err, EX_DATAERR, "%s", ferr);
}

/* A frame stream to JSON lines: header, messages, end.  0, or -1 with
 * dump_err set. */
static int
dump_frames(struct io_in *in)
{
	struct frame_reader fr;
	struct frame_hdr h;
	struct frame_msg m;
	char ferr[FRAME_ERR_LEN];
	int rc;

	if ((rc = frame_reader_open(&fr, in, &h, ferr)) != FRAME_OK)
		return frames_fail(rc, ferr, -1);
	sb_printf(&line, "{\"type\":\"header\",\"version\":%u,\"network_id\":%u,\"date\":",
	    h.version, h.network_id);
	sb_jstr(&line, (const uint8_t *)h.date, strlen(h.date));
	sb_time(&line, "created", h.created, 2);
	sb_printf(&line, ",\"zone\":");
	sb_jstr(&line, (const uint8_t *)h.zone, strlen(h.zone));
	sb_printf(&line, ",\"producer\":");
	sb_jstr(&line, (const uint8_t *)h.producer, strlen(h.producer));
	sb_printf(&line, "}");
	if (emit() != 0)
		return -1;

	while ((rc = frame_read(&fr, &m, ferr)) == 1) {
		st.records++;
		if (dump_message(fr.nmsg, &m) != 0)
			return -1;
		if (opt.count && st.records >= opt.count)
			return 0;
	}
	if (rc < 0)
		return frames_fail(rc, ferr, fr.cur_id);
	sb_printf(&line, "{\"type\":\"end\",\"count\":%" PRIu64 ",\"checksum\":\"0x%08x\"}",
	    fr.nmsg, fr.crc);
	return emit();
}

/* ---- sections -> JSON ------------------------------------------------------ */

/* Reassembly of a message's segments, across calls of dump_section. */
static struct {
	uint8_t *body;
	size_t body_len, body_cap;
	uint8_t expect_next, cur_total;
	uint8_t cur_hdr[SEC_HEADER_LEN];
	uint64_t nsec;
} sd;

/* The reassembled body of the message whose last segment is p: checked
 * (items, and the header's group offsets against them) and rendered as
 * ,"storables":{...}.  0, or -1 with dump_err set (65 for a bad body). */
static int
section_storables(const uint8_t *p, unsigned long long off)
{
	char terr[TLV_ERR_LEN];
	const uint8_t *body = sd.body;
	size_t body_len = sd.body_len;

	if (tlv_validate(body, body_len, terr) != 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: section %" PRIu64 ": %s",
		    off, sd.nsec, terr);
	/* The offsets must be those the registry's grouping gives. */
	uint16_t o[3] = { TLV_NO_OFFSET, TLV_NO_OFFSET, TLV_NO_OFFSET };
	for (size_t i = 0; i < body_len; i += 2u + body[i + 1]) {
		int g = body[i] >= 0x60 ? 2 : body[i] >= 0x40 ? 1 : body[i] >= 0x20 ? 0 : -1;
		if (g >= 0 && o[g] == TLV_NO_OFFSET)
			o[g] = (uint16_t)i;
	}
	if (o[0] != sec_get_offset_appearance(p) || o[1] != sec_get_offset_filter(p) ||
	    o[2] != sec_get_offset_addressee(p))
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: section %" PRIu64 ": offsets "
		    "%u/%u/%u do not match the body's groups %u/%u/%u", off, sd.nsec,
		    sec_get_offset_appearance(p), sec_get_offset_filter(p),
		    sec_get_offset_addressee(p), o[0], o[1], o[2]);
	if (sb_need(&line, body_len * 6 + 64) != 0)
		return -1;
	SB_LIT(&line, ",\"storables\":");
	long w = tlv_to_json(body, body_len, line.p + line.len, line.cap - line.len);
	if (w < 0)
		return sb_fail(&line, cli_failx(&dump_err, EX_SOFTWARE, "storables rendering overflow"));
	line.len += (size_t)w;
	return 0;
}

/* A section line's most bytes but its storables: 300 of names and
 * punctuation, 17 integers of at most 20, 2 times of TIME_OUT. */
#define SEC_OUT (300 + 17 * 20 + 2 * TIME_OUT)

/* "0x%08x" of x, quoted, at o; returns the end. */
static char *
put_hex32(char *o, uint32_t x)
{
	static const char h[] = "0123456789abcdef";

	o = PUT_LIT(o, "\"0x");
	for (int i = 28; i >= 0; i -= 4)
		*o++ = h[x >> i & 15];
	*o++ = '"';
	return o;
}

/*
 * Check the section at p (avail readable bytes, found at byte off) and
 * add its segment of the body to the message being reassembled.  0, or
 * -1 with dump_err set (65 for a bad section).
 */
static int
section_collect(const uint8_t *p, size_t avail, unsigned long long off)
{
	char serr[SEC_ERR_LEN];
	size_t need, blen;
	uint8_t idx, total, *nb;

	sd.nsec++;
	if (sec_validate(p, avail, &need, serr) != 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: section %" PRIu64 ": %s",
		    off, sd.nsec, serr);
	blen = sec_get_body_len(p);
	idx = sec_get_index(p);
	total = sec_get_total_count(p);
	/* Segments of one message come in order, with the same header. */
	if (sd.expect_next != 0 && (idx != sd.expect_next || total != sd.cur_total ||
	    memcmp(sd.cur_hdr + 5, p + 5, SEC_HEADER_LEN - 5) != 0))
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: section %" PRIu64 ": segment "
		    "%u/%u where segment %u/%u of message %" PRIu32 " was due", off, sd.nsec, idx,
		    total, sd.expect_next, sd.cur_total, be32_get(sd.cur_hdr + 10));
	if (sd.expect_next == 0 && idx != 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: section %" PRIu64 ": segment "
		    "%u/%u without segment 0", off, sd.nsec, idx, total);
	if (idx == 0) {
		memcpy(sd.cur_hdr, p, SEC_HEADER_LEN);
		sd.cur_total = total;
		sd.body_len = 0;
	}
	if (sd.body_len + blen > sd.body_cap) {
		if ((nb = realloc(sd.body, (sd.body_len + blen) * 2)) == NULL)
			return cli_fail(&dump_err, EX_OSERR, "out of memory");
		sd.body = nb;
		sd.body_cap = (sd.body_len + blen) * 2;
	}
	if (blen > 0)	/* an empty first body: sd.body still NULL */
		memcpy(sd.body + sd.body_len, sec_get_body(p), blen);
	sd.body_len += blen;
	sd.expect_next = idx + 1 == total ? 0 : idx + 1;
	return 0;
}

/*
 * Check and print the section at p (avail readable bytes), found at byte
 * off of the input: a section file offset, or in a transport stream the
 * offset of the packet in which the section starts.  0, or -1 with
 * dump_err set (65 for a bad section).
 */
static int
dump_section(const uint8_t *p, size_t avail, unsigned long long off)
{
	int64_t vs, ve;

	if (section_collect(p, avail, off) != 0 || sb_need(&line, SEC_OUT) != 0)
		return -1;
	dvbtime_decode(sec_get_valid_start(p), &vs);
	dvbtime_decode(sec_get_valid_end(p), &ve);
	char *o = line.p + line.len;
	o = PUT_LIT(o, "{\"type\":\"section\",\"offset\":");
	o = put_u64(o, off);
	o = PUT_LIT(o, ",\"table_id\":");
	o = put_u64(o, sec_get_table_id(p));
	o = PUT_LIT(o, ",\"section_length\":");
	o = put_u64(o, sec_get_length(p));
	o = PUT_LIT(o, ",\"index\":");
	o = put_u64(o, sec_get_index(p));
	o = PUT_LIT(o, ",\"total_count\":");
	o = put_u64(o, sec_get_total_count(p));
	o = PUT_LIT(o, ",\"target_filter\":");
	o = put_u64(o, sec_get_target_filter(p));
	o = PUT_LIT(o, ",\"network_id\":");
	o = put_u64(o, sec_get_network_id(p));
	o = PUT_LIT(o, ",\"message_id\":");
	o = put_u64(o, sec_get_message_id(p));
	o = PUT_LIT(o, ",\"template_id\":");
	o = put_u64(o, sec_get_template_id(p));
	o = PUT_LIT(o, ",\"genre\":");
	o = put_u64(o, sec_get_genre(p));
	o = PUT_LIT(o, ",\"valid_start\":");
	o = put_time(o, vs, 0);
	o = PUT_LIT(o, ",\"valid_end\":");
	o = put_time(o, ve, 1);
	o = PUT_LIT(o, ",\"ack_count\":");
	o = put_u64(o, sec_get_ack_count(p));
	o = PUT_LIT(o, ",\"ack_delay\":");
	o = put_u64(o, sec_get_ack_delay(p));
	o = PUT_LIT(o, ",\"offset_appearance\":");
	o = put_u64(o, sec_get_offset_appearance(p));
	o = PUT_LIT(o, ",\"offset_filter\":");
	o = put_u64(o, sec_get_offset_filter(p));
	o = PUT_LIT(o, ",\"offset_addressee\":");
	o = put_u64(o, sec_get_offset_addressee(p));
	o = PUT_LIT(o, ",\"body_len\":");
	o = put_u64(o, sec_get_body_len(p));
	o = PUT_LIT(o, ",\"crc\":");
	o = put_hex32(o, sec_get_crc(p));
	line.len = (size_t)(o - line.p);
	if (sd.expect_next == 0 && section_storables(p, off) != 0)
		return -1;
	SB_LIT(&line, "}");
	st.records++;
	return emit();
}

/* At the end of the input: a message must not stop between segments.
 * 0, or -1 with dump_err set. */
static int
dump_sections_end(unsigned long long off)
{
	free(sd.body);
	sd.body = NULL;
	if (sd.expect_next != 0 && !(opt.count && st.records >= opt.count))
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: truncated carousel: message %"
		    PRIu32 " ends at segment %u of %u", off, be32_get(sd.cur_hdr + 10),
		    sd.expect_next, sd.cur_total);
	return 0;
}

/* A section file to JSON lines.  0, or -1 with dump_err set. */
static int
dump_sections(struct io_in *in)
{
	for (;;) {
		ssize_t got = io_in_fill(in, 3);
		if (got < 0)
			return cli_fail(&dump_err, EX_IOERR, "read error");
		if (got == 0)
			break;
		unsigned long long off = in->offset;
		if (got >= 3) {
			size_t size = (size_t)sec_get_length(io_in_ptr(in)) + 3;
			if ((got = io_in_fill(in, size < SEC_MAX_LEN ? size : SEC_MAX_LEN)) < 0)
				return cli_fail(&dump_err, EX_IOERR, "read error");
		}
		const uint8_t *p = io_in_ptr(in);
		if (dump_section(p, (size_t)got, off) != 0)
			return -1;
		io_in_skip(in, sec_get_size(p));
		if (opt.count && st.records >= opt.count)
			break;
	}
	return dump_sections_end((unsigned long long)in->offset);
}

/* ---- transport stream -> JSON ----------------------------------------------- */

/*
 * One packet of the transport stream at byte off of in: its sections on
 * the PID printed.  1 when -n's count is reached, 0 to go on, or -1 with
 * dump_err set.
 */
static int
ts_packet(struct ts_demux *d, struct io_in *in, ssize_t got, unsigned long long off)
{
	char terr[TS_ERR_LEN];
	const uint8_t *p;
	size_t size;
	uint64_t soff;
	int r;

	if (got < TS_PKT_LEN)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: packet %" PRIu64 ": truncated: "
		    "%zd of %d bytes", off, d->packets + 1, got, TS_PKT_LEN);
	if (ts_demux_packet(d, io_in_ptr(in), off, terr) != 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: %s", off, terr);
	while ((r = ts_demux_next(d, &p, &size, &soff, terr)) == 1) {
		if (dump_section(p, size, (unsigned long long)soff) != 0)
			return -1;
		if (opt.count && st.records >= opt.count)
			return 1;
	}
	if (r < 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: %s", off, terr);
	return 0;
}

/*
 * The sections on one PID (--pid, or the first carrying table_id 0x92),
 * reassembled and printed as from a section file.  Other PIDs (PAT, PMT)
 * are checked for sync and continuity, not printed.  0, or -1 with
 * dump_err set.
 */
static int
dump_ts(struct io_in *in)
{
	static struct ts_demux d;
	char terr[TS_ERR_LEN];
	int r;

	ts_demux_init(&d, opt.pid, SEC_TABLE_ID);
	for (;;) {
		ssize_t got = io_in_fill(in, TS_PKT_LEN);
		if (got < 0)
			return cli_fail(&dump_err, EX_IOERR, "read error");
		if (got == 0)
			break;
		if ((r = ts_packet(&d, in, got, in->offset)) < 0)
			return -1;
		if (r > 0)
			return dump_sections_end((unsigned long long)in->offset);
		io_in_skip(in, TS_PKT_LEN);
	}
	if (ts_demux_end(&d, terr) != 0)
		return cli_failx(&dump_err, EX_DATAERR, "byte %llu: %s",
		    (unsigned long long)in->offset, terr);
	return dump_sections_end((unsigned long long)in->offset);
}

/* Options into opt; returns the input's descriptor, or -1 with dump_err
 * set (a bad number or option left with the usage). */
static int
parse_args(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "pid", required_argument, NULL, 'P' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "stats", no_argument, NULL, 'S' },
		{ "stats-file", required_argument, NULL, 'X' },
		{ "type", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd = STDIN_FILENO;

	opt.pid = -1;
	while ((c = getopt_long(argc, argv, "hn:rt:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(0); break;
		case 'n': opt.count = cli_num(optarg, "-n", 0, 1, UINT64_MAX, usage); break;
		case 'P': opt.pid = (int)cli_num(optarg, "--pid", NUM_HEX, 0, 0x1ffe, usage); break;
		case 'r': opt.reverse = 1; break;
		case 'S': opt.stats = 1; break;
		case 'X': opt.stats_path = optarg; break;
		case 't':
			if (strcmp(optarg, "frames") && strcmp(optarg, "sections") && strcmp(optarg, "ts"))
				return cli_failx(&dump_err, EX_USAGE,
				    "-t: '%s': want frames, sections or ts", optarg);
			opt.type = optarg;
			break;
		case 'v': opt.verbose = 1; break;
		case 'V': printf("moma-dump %s\n", MOMA_VERSION); cli_help_exit(); break;
		default: usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(EX_USAGE);
	if (opt.reverse && (opt.type || opt.count || opt.pid >= 0))
		return cli_failx(&dump_err, EX_USAGE, "-r takes neither -t, -n nor --pid");
	if (argc == 1 && strcmp(argv[0], "-") != 0 &&
	    (fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(&dump_err, EX_NOINPUT, "%s", argv[0]);
	return fd;
}

/* The kind of input from its first bytes (already buffered in in) in
 * *type: 0, or -1 with dump_err set. */
static int
detect_type(struct io_in *in, const char **type)
{
	ssize_t got = io_in_fill(in, 1);

	*type = "sections";	/* an empty carousel too */
	if (got < 0)
		return cli_fail(&dump_err, EX_IOERR, "read error");
	if (got == 0 || io_in_ptr(in)[0] == SEC_TABLE_ID)
		return 0;
	*type = "frames";
	if (io_in_ptr(in)[0] == FRAME_MAGIC[0])
		return 0;
	if (io_in_ptr(in)[0] != TS_SYNC)
		return cli_failx(&dump_err, EX_DATAERR, "byte 0: unknown input: first byte 0x%02x "
		    "is neither a frame stream ('M'), a section (0x92) nor a transport stream (0x47)",
		    io_in_ptr(in)[0]);
	/* The sync byte of each packet buffered, up to 8. */
	if ((got = io_in_fill(in, 8 * TS_PKT_LEN)) < 0)
		return cli_fail(&dump_err, EX_IOERR, "read error");
	if (got > 8 * TS_PKT_LEN)
		got = 8 * TS_PKT_LEN;
	for (ssize_t i = TS_PKT_LEN; i < got; i += TS_PKT_LEN)
		if (io_in_ptr(in)[i] != TS_SYNC)
			return cli_failx(&dump_err, EX_DATAERR, "byte %zd: unknown input: 0x47 at "
			    "byte 0 but 0x%02x at byte %zd: not a transport stream", i,
			    io_in_ptr(in)[i], i);
	*type = "ts";
	return 0;
}

/* in decoded to JSON lines as the kind its first bytes (or -t) say.  0,
 * or -1 with dump_err set. */
static int
dump_in(struct io_in *in)
{
	const char *type = opt.type;

	if (io_in_fill(in, 1) < 0)
		return cli_fail(&dump_err, EX_IOERR, "read error");
	if (type == NULL && detect_type(in, &type) != 0)
		return -1;
	if (opt.pid >= 0 && strcmp(type, "ts") != 0)
		return cli_failx(&dump_err, EX_USAGE, "--pid is for a transport stream, not %s", type);
	if (strcmp(type, "frames") == 0)
		return dump_frames(in);
	if (strcmp(type, "ts") == 0)
		return dump_ts(in);
	return dump_sections(in);
}

/* fd decoded to JSON lines.  0, or -1 with dump_err set. */
static int
dump(int fd)
{
	struct io_in in;
	int rc;

	if (io_in_init(&in, fd, IN_BUF, FRAME_MAX_RECORD + 8, &st))
		return cli_fail(&dump_err, EX_OSERR, "out of memory");
	rc = dump_in(&in);
	io_in_free(&in);
	return rc;
}

/* The --stats pairs (stats_pairs_fn). */
static int
dump_pairs(void *arg, char *buf, size_t len)
{
	return stats_summary(&st, "records", opt.reverse ? "messages" : "lines", buf, len);
}

/* After the run: the output flushed and closed, --stats.  0, or -1 with
 * dump_err set. */
static int
finish(void)
{
	if (opt.progress)
		fputs("\r\033[K", stderr);
	if (io_out_flush(&out) != 0)
		return cli_fail(&dump_err, io_write_exit(errno), "write error");
	if (opt.stats) {
		char s[400];
		dump_pairs(NULL, s, sizeof s);
		fprintf(stderr, "moma-dump: stats: %s\n", s);
	}
	io_out_free(&out);	/* sets out.buf to NULL: nothing left to flush */
	free(line.p);
	line.p = NULL;
	if (close(STDOUT_FILENO) != 0 && errno != EBADF)
		return cli_fail(&dump_err, io_write_exit(errno), "write error");
	return 0;
}

/* The one way out: a failure anywhere is recorded in dump_err and comes
 * back here to be printed, counted in --stats-file and exited with. */
int
main(int argc, char *argv[])
{
	char serr[STATS_ERR_LEN];
	int fd;

	if ((fd = parse_args(argc, argv)) < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	opt.progress = opt.verbose && isatty(STDERR_FILENO);
	stats_init(&st);
	if (io_out_init(&out, STDOUT_FILENO, 256 * 1024, &st)) {
		cli_fail(&dump_err, EX_OSERR, "out of memory");
		goto fail;
	}
	if (opt.stats_path && stats_file_arm(opt.stats_path, dump_pairs, NULL, serr) != 0) {
		cli_failx(&dump_err, EX_CANTCREAT, "--stats-file %s", serr);
		goto fail;
	}
	if ((opt.reverse ? reverse(fd) : dump(fd)) != 0 || finish() != 0)
		goto fail;
	if (stats_file_write(0, serr) == 0)
		return 0;
	cli_failx(&dump_err, EX_CANTCREAT, "--stats-file %s", serr);
fail:
	warnx("%s", dump_err.msg);
	/* What was decoded before the error still goes out, the last good
	 * record being the best clue to what broke; then the stats file,
	 * which counts those bytes. */
	if (out.buf != NULL)
		(void)io_out_flush(&out);
	(void)stats_file_write(dump_err.code, NULL);
	return dump_err.code;
}
