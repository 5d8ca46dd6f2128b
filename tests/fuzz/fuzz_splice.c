/*
 * fuzz_splice - moma-splice's inputs: the --reuse plan (index lines), the
 * --from carousel and the sections of standard input, through the tool's
 * own code (tools/moma-splice/moma-splice.c, included; its run() returns
 * a failure in struct splice's fail, as it does to the tool's main).
 *
 * The input: a flag byte (bit 0: with a plan and a carousel), the plan's
 * and the carousel's lengths (16 bits each, little-endian, cut to what
 * there is), the plan, the carousel, and the rest is standard input.
 *
 * What must hold, else abort():
 *   - a refusal is exit 65 (EX_DATAERR) with a message, never 74 or
 *     another status: every input here is a file that reads and seeks
 *     as a file does, so any other status is bad input misreported;
 *   - a success writes an index whose lines are campaigns in ascending
 *     order, each starting where the one before ended, from byte 0 to
 *     the end of the output; --copy has the output's bytes; and the
 *     output, put through moma-splice again without a plan, comes out the
 *     same with the same index (what was spliced in are sections of the
 *     campaigns the index says, in campaign order).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_stdin;

#define main moma_splice_main
#undef stdin
#define stdin fuzz_stdin
#include "../../tools/moma-splice/moma-splice.c"
#undef stdin
#undef main

static char fuzz_msg[CLI_ERR_LEN];

/* A read-only stream of n bytes at p, which reads and seeks as a file. */
static FILE *
memfile(const uint8_t *p, size_t n)
{
	int fd = memfd_create("fuzz_splice", MFD_CLOEXEC);
	FILE *f;

	if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n) || lseek(fd, 0, SEEK_SET) != 0 ||
	    (f = fdopen(fd, "r")) == NULL)
		abort();
	return f;
}

/* Check that idx (the index moma-splice wrote) covers the n bytes of out. */
static void
check_index(const char *idx, size_t n)
{
	uint64_t c, f, l, m, s, end = 0, prev = 0;
	int first = 1, k;

	while (*idx != '\0') {
		if (sscanf(idx, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n",
		    &c, &f, &l, &m, &s, &k) != 5 || idx[k] != '\n') {
			fprintf(stderr, "an index line that is not five numbers: %.40s\n", idx);
			abort();
		}
		if ((!first && c <= prev) || f != end || l == 0 || s == 0 || m > s || c > UINT32_MAX) {
			fprintf(stderr, "index line %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			    " %" PRIu64 " after campaign %" PRIu64 " ending at %" PRIu64 "\n",
			    c, f, l, m, s, prev, end);
			abort();
		}
		end = f + l;
		prev = c;
		first = 0;
		idx += k + 1;
	}
	if (end != n) {
		fprintf(stderr, "the index ends at %" PRIu64 ", the output at %zu\n", end, n);
		abort();
	}
}

struct result {
	int code;		/* 0, or the status of the failure run() recorded */
	char *out, *idx, *copy;
	size_t nout, nidx, ncopy;
};

/* moma-splice on in (n bytes), with plan and from if plan is not NULL. */
static void
splice(struct result *r, const uint8_t *in, size_t n, const uint8_t *plan, size_t np,
    const uint8_t *from, size_t nf)
{
	static struct splice s;
	FILE *volatile out, *volatile idx, *volatile copy, *volatile pl = NULL, *volatile fr = NULL;

	memset(&s, 0, sizeof s);
	memset(r, 0, sizeof *r);
	out = open_memstream(&r->out, &r->nout);
	idx = open_memstream(&r->idx, &r->nidx);
	copy = open_memstream(&r->copy, &r->ncopy);
	if (out == NULL || idx == NULL || copy == NULL)
		abort();
	fuzz_stdin = memfile(in, n);
	s.out = out;
	s.index = idx;
	s.copy = copy;
	s.index_path = "index";
	s.copy_path = "copy";
	if (plan != NULL) {
		s.plan = pl = memfile(plan, np);
		s.from = fr = memfile(from, nf);
		s.plan_path = "plan";
		s.from_path = "carousel";
	}
	if (run(&s) != 0) {
		r->code = s.fail.code;
		memcpy(fuzz_msg, s.fail.msg, sizeof fuzz_msg);
		if (r->code == 0)
			abort();	/* -1 with no failure recorded */
	}
	fclose(fuzz_stdin);
	if (pl != NULL)
		fclose(pl);
	if (fr != NULL)
		fclose(fr);
	if (fclose(out) != 0 || fclose(idx) != 0 || fclose(copy) != 0)
		abort();
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->idx);
	free(r->copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result a, b;
	size_t np, nf;
	int with_plan;

	if (size < 5)
		return 0;
	with_plan = data[0] & 1;
	np = (size_t)data[1] | (size_t)data[2] << 8;
	nf = (size_t)data[3] | (size_t)data[4] << 8;
	data += 5;
	size -= 5;
	if (np > size)
		np = size;
	if (nf > size - np)
		nf = size - np;
	splice(&a, data + np + nf, size - np - nf, with_plan ? data : NULL, np, data + np, nf);
	if (a.code != 0) {
		if (a.code != EX_DATAERR || fuzz_msg[0] == '\0') {
			fprintf(stderr, "refused with status %d (not 65): %s\n", a.code, fuzz_msg);
			abort();
		}
		result_free(&a);
		return 0;
	}
	check_index(a.idx, a.nout);
	if (a.ncopy != a.nout || memcmp(a.copy, a.out, a.nout) != 0) {
		fprintf(stderr, "--copy differs from the output\n");
		abort();
	}
	splice(&b, (const uint8_t *)a.out, a.nout, NULL, 0, NULL, 0);
	if (b.code != 0 || b.nout != a.nout || memcmp(b.out, a.out, a.nout) != 0 ||
	    b.nidx != a.nidx || memcmp(b.idx, a.idx, a.nidx) != 0) {
		fprintf(stderr, "the output, through moma-splice again: status %d (%s), %zu bytes "
		    "for %zu, another index:\n%s---\n%s", b.code, b.code ? fuzz_msg : "", b.nout,
		    a.nout, a.idx, b.idx);
		abort();
	}
	result_free(&a);
	result_free(&b);
	return 0;
}
