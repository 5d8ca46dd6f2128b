/*
 * moma-encode - frames in, DVB private sections (the carousel) out.
 *
 * Reads a moma frame stream (moma-frame(5)) and writes each message as
 * one or more private sections (moma-section(5)), or with --ts the same
 * sections in MPEG-2 transport packets on one PID (ts.h).  Memory is one
 * input buffer, one output buffer, one TLV body and, with --ts, one
 * buffer for a message's sections, whatever the input size.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../cli.h"
#include "dvbtime.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "section.h"
#include "stats.h"
#include "tlv.h"
#include "ts.h"

#define IN_BUF	(256 * 1024)

/* storables point into the input buffer, whose slack covers the padding
 * tlv_from_json_into reads. */
_Static_assert(IO_IN_SLACK >= TLV_JSON_SLACK, "input buffer slack below TLV_JSON_SLACK");
#define OUT_BUF	(256 * 1024)
/* A message's room in the output: the body is built in place after the
 * header of its first section (+ 16: the builder's block copies). */
#define MSG_ROOM (SEC_HEADER_LEN + TLV_BODY_MAX + 16)

static struct {
	int fail_on_reject, stats, verbose, ts, pat;
	size_t max_section;
	const char *reject_path, *log_path, *stats_path;
	uint64_t max_reject;
	long pid, program, pmt_pid;	/* -1: not given */
} opt = { .max_section = SEC_MAX_LEN, .max_reject = UINT64_MAX, .pid = -1, .program = -1,
	.pmt_pid = -1 };

static _Noreturn void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: moma-encode [-v] [--fail-on-reject] [--max-reject n] [--max-section bytes]\n"
	    "                   [-R file] [--reject-log file] [--stats] [--stats-file file]\n"
	    "                   [--ts --pid pid [--pat] [--pmt-pid pid] [--program number]]\n"
	    "                   [file]\n");
	if (code == 0)
		fputs("\nRead a moma frame stream (moma-frame(5)) from file or standard input and\n"
		    "write the DVB private sections of every message (moma-section(5)).\n\n"
		    "  --fail-on-reject   exit 65 at the end if any record was rejected\n"
		    "  -h, --help         show this help\n"
		    "  --max-reject N     exit 65 once more than N messages were rejected\n"
		    "  --max-section N    largest section in bytes, 43..4096 (default 4096)\n"
		    "  --pat              with --ts: a PAT and a PMT first (PIDs 0 and --pmt-pid)\n"
		    "  --pid PID          with --ts: the sections' PID, 0x0020..0x1ffe\n"
		    "  --pmt-pid PID      with --pat: the PMT's PID (default 0x1000)\n"
		    "  --program N        with --pat: the program_number, 1..65535 (default 1)\n"
		    "  -R, --reject FILE  write bad messages to FILE as a frame stream and go on\n"
		    "  --reject-log FILE  write why each bad message was rejected to FILE (JSON\n"
		    "                     lines) and go on\n"
		    "  --stats            print a one-line summary on standard error at exit\n"
		    "  --stats-file FILE  write the same as key=value lines to FILE at exit\n"
		    "  --ts               write 188-byte MPEG-2 transport packets, not sections\n"
		    "  -v, --verbose      progress on standard error when it is a terminal\n"
		    "  -V, --version      print the version\n", stdout);
	if (code == 0)
		cli_help_exit();
	exit(code);
}

/* Messages arrive grouped by campaign, so the two times repeat: remember
 * the last encoding of each (dvbtime_encode was 3% of the encoder). */
struct tcache { int64_t t; int ok; uint8_t b[5]; };

static int
time_encode(struct tcache *c, int64_t t, uint8_t out[5])
{
	if (c->ok && c->t == t) {
		memcpy(out, c->b, 5);
		return 0;
	}
	if (dvbtime_encode(t, c->b) != 0)
		return -1;
	c->t = t;
	c->ok = 1;
	memcpy(out, c->b, 5);
	return 0;
}

/*
 * Check the ranges the section imposes and fill *sm from *m; the TLV body
 * is built at body (TLV_BODY_MAX + 16 bytes) with *b as working state.
 * 0, or -1 with the reason in err.
 */
static int
convert(const struct frame_msg *m, const struct frame_hdr *h, struct tlv_body *b,
    uint8_t *body, struct sec_msg *sm, char *err, size_t errlen)
{
	char terr[TLV_ERR_LEN];
	static struct tcache cs, ce;

#define RANGE(field, v, lo, hi) do { \
	if ((int64_t)(v) < (int64_t)(lo) || (int64_t)(v) > (int64_t)(hi)) { \
		snprintf(err, errlen, "%s %" PRId64 " out of range %" PRId64 "..%" PRId64, \
		    field, (int64_t)(v), (int64_t)(lo), (int64_t)(hi)); \
		return -1; \
	} } while (0)
	RANGE("numero_abonne", m->numero_abonne, 0, UINT32_MAX);
	RANGE("campagne_id", m->campagne_id, 0, UINT32_MAX);
	RANGE("template_id", m->template_id, 0, INT32_MAX);
	RANGE("genre", m->genre, 0, 255);
	RANGE("ack_count", m->ack_count, 0, 255);
	RANGE("ack_delay", m->ack_delay, 0, 65535);
#undef RANGE
	if (time_encode(&cs, m->valid_start, sm->valid_start) ||
	    time_encode(&ce, m->valid_end, sm->valid_end)) {
		int64_t t = dvbtime_encode(m->valid_start, sm->valid_start) ?
		    m->valid_start : m->valid_end;
		char when[40];
		dvbtime_format(t, when, sizeof when);
		snprintf(err, errlen, "%s %s out of range "
		    "1858-11-17..2038-04-22 (the DVB date range, 16-bit MJD)",
		    t == m->valid_start ? "valid_start" : "valid_end", when);
		return -1;
	}
	if (tlv_from_json_into(m->storables, m->storables_len, b, body, terr) != 0) {
		snprintf(err, errlen, "storables: %s", terr);
		return -1;
	}
	sm->target_filter = (uint32_t)m->numero_abonne;
	sm->network_id = h->network_id;
	sm->message_id = (uint32_t)m->campagne_id;
	sm->template_id = (uint32_t)m->template_id;
	sm->genre = (uint8_t)m->genre;
	sm->ack_count = (uint8_t)m->ack_count;
	sm->ack_delay = (uint16_t)m->ack_delay;
	sm->off_appearance = b->off_appearance;
	sm->off_filter = b->off_filter;
	sm->off_addressee = b->off_addressee;
	sm->body = body;
	sm->body_len = b->len;
	return 0;
}

/* One run: the streams and the per-message buffers. */
struct enc {
	struct stats st;
	struct io_in in;
	struct io_out out, rout;
	struct frame_reader fr;
	struct frame_writer rw;	/* -R: the rejected messages */
	FILE *log;		/* --reject-log: why, one JSON line each */
	struct frame_hdr hdr;
	struct ts_mux mux;
	uint8_t *secs;		/* --ts: one message's sections */
	size_t secs_cap;
	int rfd;
	uint64_t rejects;
	struct cli_err fail;	/* why the run stops; main reports it */
};

static struct tlv_body body;

/* Options, checked; returns the input's file descriptor, or -1 with
 * e's failure set (a bad number or option left with the usage). */
static int
parse_args(struct enc *e, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "fail-on-reject", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "max-reject", required_argument, NULL, 'N' },
		{ "max-section", required_argument, NULL, 'M' },
		{ "pat", no_argument, NULL, 'A' },
		{ "pid", required_argument, NULL, 'P' },
		{ "pmt-pid", required_argument, NULL, 'Q' },
		{ "program", required_argument, NULL, 'G' },
		{ "reject", required_argument, NULL, 'R' },
		{ "reject-log", required_argument, NULL, 'L' },
		{ "stats", no_argument, NULL, 'S' },
		{ "stats-file", required_argument, NULL, 'X' },
		{ "ts", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd = STDIN_FILENO;

	while ((c = getopt_long(argc, argv, "hR:vV", longopts, NULL)) != -1) {
		switch (c) {
		case 'F': opt.fail_on_reject = 1; break;
		case 'h': usage(0); break;
		case 'A': opt.pat = 1; break;
		case 'G': opt.program = (long)cli_num(optarg, "--program", NUM_HEX, 1, 65535, usage); break;
		case 'N': opt.max_reject = cli_num(optarg, "--max-reject", 0, 0, UINT64_MAX - 1, usage); break;
		case 'M': opt.max_section = cli_num(optarg, "--max-section", 0, SEC_MIN_LEN, SEC_MAX_LEN, usage); break;
		case 'P': opt.pid = (long)cli_num(optarg, "--pid", NUM_HEX, TS_PID_MIN, TS_PID_MAX, usage); break;
		case 'Q': opt.pmt_pid = (long)cli_num(optarg, "--pmt-pid", NUM_HEX, TS_PID_MIN, TS_PID_MAX, usage); break;
		case 'R': opt.reject_path = optarg; break;
		case 'L': opt.log_path = optarg; break;
		case 'S': opt.stats = 1; break;
		case 'X': opt.stats_path = optarg; break;
		case 'T': opt.ts = 1; break;
		case 'v': opt.verbose = 1; break;
		case 'V': printf("moma-encode %s\n", MOMA_VERSION); cli_help_exit(); break;
		default: usage(EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(EX_USAGE);
	if (!opt.ts && (opt.pid >= 0 || opt.pat))
		return cli_failx(&e->fail, EX_USAGE, "--pid and --pat need --ts");
	if (opt.ts && opt.pid < 0)
		return cli_failx(&e->fail, EX_USAGE, "--ts needs --pid");
	if (!opt.pat && (opt.program >= 0 || opt.pmt_pid >= 0))
		return cli_failx(&e->fail, EX_USAGE, "--program and --pmt-pid need --pat");
	if (opt.program < 0)
		opt.program = 1;
	if (opt.pmt_pid < 0)
		opt.pmt_pid = 0x1000;
	if (opt.pat && opt.pmt_pid == opt.pid)
		return cli_failx(&e->fail, EX_USAGE, "--pmt-pid and --pid are both 0x%04lx", opt.pid);
	if (argc == 1 && strcmp(argv[0], "-") != 0 &&
	    (fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(&e->fail, EX_NOINPUT, "%s", argv[0]);
	return fd;
}

/* Open the input stream; a stream of JSON lines gets a pointer to the
 * tool that turns them into frames.  0, or -1 with e's failure set. */
static int
open_input(struct enc *e, int fd)
{
	char ferr[FRAME_ERR_LEN];
	int rc;

	if (io_in_init(&e->in, fd, IN_BUF, FRAME_MAX_RECORD + 8, &e->st) ||
	    io_out_init(&e->out, STDOUT_FILENO, OUT_BUF, &e->st))
		return cli_fail(&e->fail, EX_OSERR, "out of memory");
	rc = frame_reader_open(&e->fr, &e->in, &e->hdr, ferr);
	if (rc == FRAME_EDATA && e->in.end > e->in.pos && io_in_ptr(&e->in)[0] == '{')
		return cli_failx(&e->fail, EX_DATAERR, "%s; this looks like JSON lines: "
		    "turn them into frames with moma-dump -r", ferr);
	if (rc == FRAME_EDATA)
		return cli_failx(&e->fail, EX_DATAERR, "%s", ferr);
	if (rc == FRAME_EIO)
		return cli_fail(&e->fail, EX_IOERR, "read error");
	if (rc != FRAME_OK)
		return cli_failx(&e->fail, EX_OSERR, "out of memory");
	return 0;
}

/* -R: the reject file, a frame stream with the input's header;
 * --reject-log: the log of reasons.  0, or -1 with e's failure set. */
static int
open_reject(struct enc *e)
{
	e->rfd = -1;
	if (opt.log_path && (e->log = fopen(opt.log_path, "we")) == NULL)
		return cli_fail(&e->fail, EX_CANTCREAT, "%s", opt.log_path);
	if (!opt.reject_path)
		return 0;
	e->rfd = open(opt.reject_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (e->rfd < 0)
		return cli_fail(&e->fail, EX_CANTCREAT, "%s", opt.reject_path);
	if (io_out_init(&e->rout, e->rfd, 64 * 1024, NULL) ||
	    frame_writer_open(&e->rw, &e->rout, &e->hdr) != FRAME_OK)
		return cli_fail(&e->fail, EX_IOERR, "%s", opt.reject_path);
	return 0;
}

/* One PSI section (PAT or PMT) alone in its packets on pid. */
static int
put_psi(struct enc *e, uint16_t pid, const uint8_t *psi, size_t len)
{
	struct ts_mux pm;

	ts_mux_init(&pm, pid);
	if (ts_mux_section(&pm, &e->out, psi, len) || ts_mux_flush(&pm, &e->out))
		return cli_fail(&e->fail, io_write_exit(errno), "write error");
	return 0;
}

/* --ts: PAT and PMT once, first (how often to repeat them depends on the
 * bitrate, which the multiplexer sets, not this file), then the PID.
 * 0, or -1 with e's failure set. */
static int
open_ts(struct enc *e)
{
	uint8_t pat[TS_PAT_LEN], pmt[TS_PMT_LEN];

	if (!opt.ts)
		return 0;
	if (opt.pat) {
		ts_pat_build(pat, 1, (uint16_t)opt.program, (uint16_t)opt.pmt_pid);
		ts_pmt_build(pmt, (uint16_t)opt.program, (uint16_t)opt.pid, TS_STREAM_TYPE_PRIVATE);
		if (put_psi(e, 0, pat, TS_PAT_LEN) || put_psi(e, (uint16_t)opt.pmt_pid, pmt, TS_PMT_LEN))
			return -1;
	}
	ts_mux_init(&e->mux, (uint16_t)opt.pid);
	e->secs_cap = MSG_ROOM;
	if ((e->secs = malloc(e->secs_cap)) == NULL)
		return cli_fail(&e->fail, EX_OSERR, "out of memory");
	return 0;
}

/*
 * n > 1 segments: they repeat the header, so the body moves out of their
 * way first, to body.buf.  Returns where the sections go: the output, or
 * with --ts the reused buffer, grown to the largest message; NULL with
 * e's failure set.
 */
static uint8_t *
segments_room(struct enc *e, struct sec_msg *sm, uint8_t *d, size_t size)
{
	uint8_t *nb;

	memcpy(body.buf, d + SEC_HEADER_LEN, sm->body_len);
	sm->body = body.buf;
	if (!opt.ts) {
		if ((d = io_out_reserve(&e->out, size)) == NULL)
			cli_fail(&e->fail, io_write_exit(errno), "write error");
		return d;
	}
	if (size > e->secs_cap) {
		size_t cap = size > 2 * e->secs_cap ? size : 2 * e->secs_cap;

		if ((nb = realloc(e->secs, cap)) == NULL) {
			cli_fail(&e->fail, EX_OSERR, "out of memory");
			return NULL;
		}
		e->secs = nb;
		e->secs_cap = cap;
	}
	return e->secs;
}

/*
 * Encode one message as its sections (or their TS packets) on the output:
 * 0; 1 with why the section cannot carry it; -1 with e's failure set.
 * The body is built in place after the first section's header.
 */
static int
encode_msg(struct enc *e, const struct frame_msg *m, char *why, size_t whylen)
{
	uint8_t *d = e->secs;
	struct sec_msg sm;
	size_t size;
	int n;

	if (!opt.ts && (d = io_out_reserve(&e->out, MSG_ROOM)) == NULL)
		return cli_fail(&e->fail, io_write_exit(errno), "write error");
	if (convert(m, &e->hdr, &body, d + SEC_HEADER_LEN, &sm, why, whylen) != 0)
		return 1;
	if ((n = sec_count(sm.body_len, opt.max_section)) < 0) {
		snprintf(why, whylen,
		    "body of %zu bytes needs more than %d sections of at most %zu bytes",
		    sm.body_len, SEC_MAX_SEGMENTS, opt.max_section);
		return 1;
	}
	if (n == 1) {
		size = sec_encode_single(&sm, d);
	} else {
		size = sec_total_size(sm.body_len, n);
		if ((d = segments_room(e, &sm, d, size)) == NULL)
			return -1;
		sec_encode(&sm, opt.max_section, n, d);
	}
	if (opt.ts) {
		for (size_t o = 0; o < size; o += sec_get_size(d + o))
			if (ts_mux_section(&e->mux, &e->out, d + o, sec_get_size(d + o)))
				return cli_fail(&e->fail, io_write_exit(errno), "write error");
	} else {
		io_out_commit(&e->out, size);
	}
	e->st.units_out += (uint64_t)n;
	return 0;
}

/*
 * --reject-log: one JSON line, {"id":N,"campagne_id":N,"stage":"moma-encode",
 * "frame":N,"reason":"..."}; the reason quotes storables, so it is escaped.
 * 0, or -1 on a write error.
 */
static int
log_reject(FILE *f, const struct frame_msg *m, uint64_t frame, const char *why)
{
	char js[6 * 320 + 8];	/* why is at most 320 bytes, each at most \u00XX */
	long n = tlv_json_string((const uint8_t *)why, strlen(why), js, sizeof js - 1);

	if (n < 0)
		return -1;
	js[n] = '\0';
	return fprintf(f, "{\"id\":%" PRId64 ",\"campagne_id\":%" PRId64
	    ",\"stage\":\"moma-encode\",\"frame\":%" PRIu64 ",\"reason\":%s}\n",
	    m->id, m->campagne_id, frame, js) < 0 ? -1 : 0;
}

/* A message the section cannot carry: the end of the run, or with -R or
 * --reject-log a warning and a record of it, until --max-reject.  0 when
 * the run goes on, or -1 with e's failure set. */
static int
reject(struct enc *e, const struct frame_msg *m, const char *why)
{
	if (e->rfd < 0 && e->log == NULL)
		return cli_failx(&e->fail, EX_DATAERR, "frame %" PRIu64 " (message %" PRId64 "): %s",
		    e->fr.nmsg, m->id, why);
	warnx("frame %" PRIu64 " (message %" PRId64 "): %s (rejected)", e->fr.nmsg, m->id, why);
	if (e->rfd >= 0 && frame_write_msg(&e->rw, m) != FRAME_OK)
		return cli_fail(&e->fail, EX_IOERR, "%s", opt.reject_path);
	if (e->log && log_reject(e->log, m, e->fr.nmsg, why) != 0)
		return cli_fail(&e->fail, EX_IOERR, "%s", opt.log_path);
	if (++e->rejects > opt.max_reject)
		return cli_failx(&e->fail, EX_DATAERR, "frame %" PRIu64 " (message %" PRId64
		    "): more than %" PRIu64 " messages rejected (--max-reject); stopping",
		    e->fr.nmsg, m->id, opt.max_reject);
	return 0;
}

/* The --stats pairs (stats_pairs_fn): the common ones, then rejected=
 * and with --ts packets= (the PAT and PMT included). */
static int
enc_pairs(void *arg, char *buf, size_t len)
{
	const struct enc *e = arg;
	int n = stats_summary(&e->st, "records", "sections", buf, len);

	if (n < 0 || (size_t)n >= len)
		return n;
	return n + (opt.ts ?
	    snprintf(buf + n, len - (size_t)n, " rejected=%" PRIu64 " packets=%" PRIu64,
		e->rejects, e->mux.packets + (opt.pat ? 2 : 0)) :
	    snprintf(buf + n, len - (size_t)n, " rejected=%" PRIu64, e->rejects));
}

/* After the last record: the reason the reading stopped, if not the
 * trailer; the output flushed, the reject file closed, --stats.  0, or
 * -1 with e's failure set. */
static int
finish(struct enc *e, int rc, const char *ferr)
{
	if (rc == FRAME_EIO)
		return cli_fail(&e->fail, EX_IOERR, "read error");
	if (rc == FRAME_ENOMEM)
		return cli_failx(&e->fail, EX_OSERR, "out of memory");
	if (rc == FRAME_EDATA && e->fr.cur_id >= 0)
		return cli_failx(&e->fail, EX_DATAERR, "%s (message %" PRId64 ")", ferr, e->fr.cur_id);
	if (rc == FRAME_EDATA)
		return cli_failx(&e->fail, EX_DATAERR, "%s", ferr);
	if ((opt.ts && ts_mux_flush(&e->mux, &e->out) != 0) || io_out_flush(&e->out) != 0)
		return cli_fail(&e->fail, io_write_exit(errno), "write error");
	if (e->rfd >= 0) {
		if (frame_write_end(&e->rw) != FRAME_OK || close(e->rfd) != 0)
			return cli_fail(&e->fail, EX_IOERR, "%s", opt.reject_path);
		io_out_free(&e->rout);
		if (e->rejects)
			warnx("%" PRIu64 " of %" PRIu64 " records rejected to %s",
			    e->rejects, e->st.records, opt.reject_path);
	}
	if (e->log && (fflush(e->log) != 0 || ferror(e->log) || fclose(e->log) != 0))
		return cli_fail(&e->fail, EX_IOERR, "%s", opt.log_path);
	e->log = NULL;
	if (opt.stats) {
		char s[512];

		enc_pairs(e, s, sizeof s);
		fprintf(stderr, "moma-encode: stats: %s\n", s);
	}
	return 0;
}

/* The run on input fd: every record encoded or rejected, the output
 * closed.  0, or -1 with e's failure set. */
static int
encode(struct enc *e, int fd)
{
	struct frame_msg m;
	char ferr[FRAME_ERR_LEN], why[320], line[160];
	int rc, r, progress = opt.verbose && isatty(STDERR_FILENO);

	if (open_input(e, fd) || open_reject(e) || open_ts(e))
		return -1;
	while ((rc = frame_read(&e->fr, &m, ferr)) == 1) {
		e->st.records++;
		if ((r = encode_msg(e, &m, why, sizeof why)) < 0 || (r > 0 && reject(e, &m, why) != 0))
			return -1;
		if (progress && (e->st.records & 0x3fff) == 0 &&
		    stats_progress(&e->st, "records", line, sizeof line))
			fprintf(stderr, "\rmoma-encode: %s ", line);
	}
	if (progress)
		fputs("\r\033[K", stderr);
	if (finish(e, rc, ferr) != 0)
		return -1;
	free(e->secs);
	io_in_free(&e->in);
	io_out_free(&e->out);
	if (fd != STDIN_FILENO)
		close(fd);
	if (close(STDOUT_FILENO) != 0 && errno != EBADF)
		return cli_fail(&e->fail, io_write_exit(errno), "write error");
	return 0;
}

/* The one way out: a failure anywhere is recorded in e.fail and comes
 * back here to be printed, counted in --stats-file and exited with. */
int
main(int argc, char *argv[])
{
	static struct enc e;
	char serr[STATS_ERR_LEN];
	int fd, rc;

	if ((fd = parse_args(&e, argc, argv)) < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe is a write error we report */
	stats_init(&e.st);
	if (opt.stats_path && stats_file_arm(opt.stats_path, enc_pairs, &e, serr) != 0) {
		cli_failx(&e.fail, EX_CANTCREAT, "--stats-file %s", serr);
		goto fail;
	}
	if (encode(&e, fd) != 0)
		goto fail;
	rc = e.rejects && opt.fail_on_reject ? EX_DATAERR : 0;
	if (stats_file_write(rc, serr) == 0)
		return rc;
	cli_failx(&e.fail, EX_CANTCREAT, "--stats-file %s", serr);
fail:
	warnx("%s", e.fail.msg);
	(void)stats_file_write(e.fail.code, NULL);
	return e.fail.code;
}
