/*
 * moma-splice - pass a carousel's sections through, splice in reused
 * campaigns' bytes from an earlier carousel in campaign order, and write
 * the index of what came out (man/moma-splice.1).
 *
 * Standard input: DVB sections (moma-section(5)) in ascending campaign
 * (message_id) order, as moma-encode writes them.  --reuse PLAN names
 * campaigns of --from CAROUSEL, one index line each, ascending; their
 * bytes go out where their campaign id falls among the input's.  Every
 * reused section is read, checked (table_id, length, its campaign) and
 * counted: a plan that does not describe its carousel is an error, never
 * a carousel that is not what it says.  --index FILE gets one line per
 * campaign of the output:
 *
 *     campagne_id first_byte byte_length messages sections
 *
 * Memory: one section and the stdio buffers, whatever the sizes.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../cli.h"
#include "io.h"
#include "num.h"
#include "section.h"

static const char usage_text[] =
    "usage: moma-splice [--copy file] [--index file] [--reuse plan --from carousel]\n"
    "       moma-splice -h | -V\n";

static const char help_text[] =
    "\nCopy the sections of standard input to standard output, splicing in the\n"
    "campaigns that plan lists from carousel in campaign order, and write the\n"
    "index of the output.\n\n"
    "  --copy file      write the output to file as well\n"
    "  --from carousel  the earlier carousel the plan's byte ranges are in\n"
    "  -h, --help       show this help\n"
    "  --index file     write one line per campaign of the output:\n"
    "                   campagne_id first_byte byte_length messages sections\n"
    "  --reuse plan     index lines (the same five fields) of the campaigns to reuse\n"
    "  -V, --version    print the version\n";

struct entry {		/* one index line */
	uint64_t cid, first, len, msgs, secs;
};

struct splice {
	FILE *out, *index, *plan, *from, *copy;
	const char *copy_path, *index_path, *plan_path, *from_path;
	uint64_t off;		/* bytes written */
	unsigned long plan_line;
	struct entry cur, next;	/* the campaign being written; the plan's next */
	int have_cur, have_next;
	uint8_t sec[SEC_MAX_LEN];	/* the input's section */
	uint8_t rsec[SEC_MAX_LEN];	/* a reused one */
	struct cli_err fail;	/* why the run stops; main reports it */
};

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/*
 * Read one section from in into sec: 1, 0 at a clean end, or -1 with
 * s's failure set (65 naming where with what is wrong).  *len gets its
 * length.
 */
static int
read_section(struct splice *s, uint8_t *sec, FILE *in, const char *where, uint64_t at, size_t *len)
{
	size_t n = fread(sec, 1, 3, in), l;

	if (n == 0 && !ferror(in))
		return 0;
	if (ferror(in))
		return cli_fail(&s->fail, EX_IOERR, "%s", where);
	if (n < 3)
		return cli_failx(&s->fail, EX_DATAERR, "%s: byte %" PRIu64 ": a section cut short",
		    where, at);
	l = 3 + (size_t)sec_get_length(sec);
	if (sec_get_table_id(sec) != SEC_TABLE_ID || (sec[1] & 0xf0) != 0x70 ||
	    l < SEC_OVERHEAD || l > SEC_MAX_LEN)
		return cli_failx(&s->fail, EX_DATAERR, "%s: byte %" PRIu64 ": not a moma section "
		    "(table_id 0x%02x, length %zu)", where, at, sec[0], l);
	if (fread(sec + 3, 1, l - 3, in) != l - 3) {
		if (ferror(in))
			return cli_fail(&s->fail, EX_IOERR, "%s", where);
		return cli_failx(&s->fail, EX_DATAERR, "%s: byte %" PRIu64 ": a section cut short",
		    where, at);
	}
	*len = l;
	return 1;
}

/* n bytes out, and to --copy.  0, or -1 with s's failure set. */
static int
put(struct splice *s, const uint8_t *p, size_t n)
{
	/* EPIPE: 141, the reader died first (io.h); moma-zone blames it. */
	if (fwrite(p, 1, n, s->out) != n)
		return cli_fail(&s->fail, io_write_exit(errno), "stdout");
	if (s->copy != NULL && fwrite(p, 1, n, s->copy) != n)
		return cli_fail(&s->fail, EX_IOERR, "%s", s->copy_path);
	s->off += n;
	return 0;
}

/* e's line in --index.  0, or -1 with s's failure set. */
static int
index_line(struct splice *s, const struct entry *e)
{
	if (s->index != NULL && fprintf(s->index, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	    " %" PRIu64 "\n", e->cid, e->first, e->len, e->msgs, e->secs) < 0)
		return cli_fail(&s->fail, EX_IOERR, "%s", s->index_path);
	return 0;
}

/* The plan's next line into s->next (have_next 0 at its end).  0, or -1
 * with s's failure set. */
static int
plan_next(struct splice *s)
{
	char line[160], extra;
	uint64_t prev = s->next.cid;
	int had = s->have_next;
	struct entry e;

	s->have_next = 0;
	if (s->plan == NULL || fgets(line, sizeof line, s->plan) == NULL) {
		if (s->plan != NULL && ferror(s->plan))
			return cli_fail(&s->fail, EX_IOERR, "%s", s->plan_path);
		return 0;
	}
	s->plan_line++;
	if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %c",
	    &e.cid, &e.first, &e.len, &e.msgs, &e.secs, &extra) != 5 || strchr(line, '-') ||
	    strchr(line, '\n') == NULL || e.len == 0)
		return cli_failx(&s->fail, EX_DATAERR, "--reuse %s: line %lu: not 'campagne_id "
		    "first length messages sections'", s->plan_path, s->plan_line);
	/* A section's campaign id has 32 bits, a file offset 63 (sscanf
	 * takes a number too large as UINT64_MAX). */
	if (e.cid > UINT32_MAX || e.len > (uint64_t)INT64_MAX || e.first > (uint64_t)INT64_MAX - e.len)
		return cli_failx(&s->fail, EX_DATAERR, "--reuse %s: line %lu: out of range "
		    "(campagne_id at most %" PRIu32 ", first + length at most %" PRId64 ")",
		    s->plan_path, s->plan_line, UINT32_MAX, INT64_MAX);
	if (had && e.cid <= prev)
		return cli_failx(&s->fail, EX_DATAERR, "--reuse %s: line %lu: campaign %" PRIu64
		    " after %" PRIu64 ": not in ascending order", s->plan_path, s->plan_line, e.cid,
		    prev);
	s->next = e;
	s->have_next = 1;
	return 0;
}

/* Copy the plan's next campaign from --from, checking every section.
 * 0, or -1 with s's failure set. */
static int
reuse(struct splice *s)
{
	const struct entry *e = &s->next;
	struct entry got = { .cid = e->cid, .first = s->off };
	size_t l;
	int r;

	if (fseeko(s->from, (off_t)e->first, SEEK_SET) != 0)
		return cli_fail(&s->fail, EX_IOERR, "%s", s->from_path);
	while (got.len < e->len) {
		if ((r = read_section(s, s->rsec, s->from, s->from_path, e->first + got.len, &l)) < 0)
			return -1;
		if (r == 0)
			return cli_failx(&s->fail, EX_DATAERR, "%s: campaign %" PRIu64 ": ends at "
			    "byte %" PRIu64 ", before %" PRIu64, s->from_path, e->cid,
			    e->first + got.len, e->first + e->len);
		if (sec_get_message_id(s->rsec) != (uint32_t)e->cid || got.len + l > e->len)
			return cli_failx(&s->fail, EX_DATAERR, "%s: byte %" PRIu64 ": not a section of "
			    "campaign %" PRIu64 " (--reuse %s line %lu)", s->from_path,
			    e->first + got.len, e->cid, s->plan_path, s->plan_line);
		if (put(s, s->rsec, l) != 0)
			return -1;
		got.len += l;
		got.secs++;
		got.msgs += sec_get_index(s->rsec) == 0;
	}
	if (got.msgs != e->msgs || got.secs != e->secs)
		return cli_failx(&s->fail, EX_DATAERR, "%s: campaign %" PRIu64 ": %" PRIu64
		    " messages in %" PRIu64 " sections, the plan says %" PRIu64 " in %" PRIu64,
		    s->from_path, e->cid, got.msgs, got.secs, e->msgs, e->secs);
	if (index_line(s, &got) != 0)
		return -1;
	return plan_next(s);
}

/* The reused campaigns before cid (all of them: UINT64_MAX).  0, or -1
 * with s's failure set. */
static int
reuse_before(struct splice *s, uint64_t cid)
{
	while (s->have_next && s->next.cid < cid)
		if (reuse(s) != 0)
			return -1;
	if (s->have_next && s->next.cid == cid && cid != UINT64_MAX)
		return cli_failx(&s->fail, EX_DATAERR, "campaign %" PRIu64 " is both on standard "
		    "input and in --reuse %s", cid, s->plan_path);
	return 0;
}

/* The input's section in s->sec (l bytes) out, after the campaigns the
 * plan has before its own.  0, or -1 with s's failure set. */
static int
pass(struct splice *s, size_t l)
{
	uint64_t cid = sec_get_message_id(s->sec);

	if (!s->have_cur || cid != s->cur.cid) {
		if (s->have_cur && cid < s->cur.cid)
			return cli_failx(&s->fail, EX_DATAERR, "stdin: campaign %" PRIu64 " after %"
			    PRIu64 ": not in campaign order", cid, s->cur.cid);
		if ((s->have_cur && index_line(s, &s->cur) != 0) || reuse_before(s, cid) != 0)
			return -1;
		s->cur = (struct entry){ .cid = cid, .first = s->off };
		s->have_cur = 1;
	}
	if (put(s, s->sec, l) != 0)
		return -1;
	s->cur.len += l;
	s->cur.secs++;
	s->cur.msgs += sec_get_index(s->sec) == 0;
	return 0;
}

/* Standard input through, the plan's campaigns spliced in.  0, or -1
 * with s's failure set. */
static int
run(struct splice *s)
{
	size_t l;
	int r;

	if (plan_next(s) != 0)
		return -1;
	while ((r = read_section(s, s->sec, stdin, "stdin", s->off, &l)) > 0)
		if (pass(s, l) != 0)
			return -1;
	if (r < 0 || (s->have_cur && index_line(s, &s->cur) != 0) ||
	    reuse_before(s, UINT64_MAX) != 0)
		return -1;
	while (s->have_next)
		if (reuse(s) != 0)
			return -1;
	return 0;
}

/* The files the options name, opened.  0, or -1 with s's failure set. */
static int
open_files(struct splice *s)
{
	if (s->plan_path && (s->plan = fopen(s->plan_path, "re")) == NULL)
		return cli_fail(&s->fail, EX_NOINPUT, "--reuse %s", s->plan_path);
	if (s->from_path && (s->from = fopen(s->from_path, "re")) == NULL)
		return cli_fail(&s->fail, EX_NOINPUT, "--from %s", s->from_path);
	if (s->index_path && (s->index = fopen(s->index_path, "we")) == NULL)
		return cli_fail(&s->fail, EX_CANTCREAT, "--index %s", s->index_path);
	if (s->copy_path && (s->copy = fopen(s->copy_path, "we")) == NULL)
		return cli_fail(&s->fail, EX_CANTCREAT, "--copy %s", s->copy_path);
	s->out = stdout;
	return 0;
}

/* Every output written out: standard output, --copy, --index.  0, or -1
 * with s's failure set. */
static int
close_files(struct splice *s)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(&s->fail, io_write_exit(errno), "stdout");
	if (s->copy && (fflush(s->copy) != 0 || ferror(s->copy) || fclose(s->copy) != 0))
		return cli_fail(&s->fail, EX_IOERR, "%s", s->copy_path);
	if (s->index && (fflush(s->index) != 0 || ferror(s->index) || fclose(s->index) != 0))
		return cli_fail(&s->fail, EX_IOERR, "%s", s->index_path);
	return 0;
}

/* Options (a usage error leaves from usage()), then the one way out: a
 * failure anywhere is recorded in s.fail and printed and exited with here. */
int
main(int argc, char **argv)
{
	enum { O_COPY = 256, O_FROM, O_INDEX, O_REUSE };
	static const struct option longopts[] = {
		{ "copy", required_argument, NULL, O_COPY },
		{ "from", required_argument, NULL, O_FROM },
		{ "help", no_argument, NULL, 'h' },
		{ "index", required_argument, NULL, O_INDEX },
		{ "reuse", required_argument, NULL, O_REUSE },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct splice s;
	int ch;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case O_COPY: s.copy_path = optarg; break;
		case O_FROM: s.from_path = optarg; break;
		case O_INDEX: s.index_path = optarg; break;
		case O_REUSE: s.plan_path = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			cli_help_exit();
			break;
		case 'V':
			printf("moma-splice %s\n", MOMA_VERSION);
			cli_help_exit();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (s.plan_path == NULL) != (s.from_path == NULL)) {
		if (optind == argc)
			warnx("--reuse and --from go together");
		usage();
	}
	if (open_files(&s) == 0 && run(&s) == 0 && close_files(&s) == 0)
		return 0;
	warnx("%s", s.fail.msg);
	return s.fail.code;
}
