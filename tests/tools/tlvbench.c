/*
 * tlvbench FILE.frames - storables parsing rate of the encoder's call
 * (tlv_from_json_into: the fast scanner, Jansson for what it declines)
 * against Jansson alone (tlv_from_json) on the messages of a frame
 * stream: the evidence for keeping the scanner.  Prints "fast path N/s
 * (P% taken, COPY copy; sse2 copy N/s) jansson N/s ratio R", COPY the
 * scanner's copy this CPU runs (avx2 or sse2).
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "frame.h"
#include "io.h"
#include "stats.h"
#include "tlv.h"

int
main(int argc, char *argv[])
{
	struct io_in in;
	struct frame_reader r;
	struct frame_hdr h;
	struct frame_msg m;
	char e[FRAME_ERR_LEN], te[TLV_ERR_LEN];
	static struct tlv_body b;
	size_t cap = 1 << 20, used = 0, n = 0, *off = NULL, *len = NULL, ncap = 0;
	uint8_t *all = malloc(cap);
	int fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) < 0)
		errx(EX_USAGE, "usage: tlvbench FILE.frames");
	io_in_init(&in, fd, 1 << 18, FRAME_MAX_RECORD + 8, NULL);
	if (frame_reader_open(&r, &in, &h, e) != FRAME_OK)
		errx(EX_DATAERR, "%s", e);
	/* Load every storables first, so only parsing is timed. */
	while (frame_read(&r, &m, e) == 1) {
		while (used + m.storables_len + TLV_JSON_SLACK > cap)
			if ((all = realloc(all, cap *= 2)) == NULL)
				err(EX_OSERR, "realloc");
		if (all == NULL)
			err(EX_OSERR, "realloc");
		if (n == ncap) {
			ncap = ncap ? ncap * 2 : 1024;
			off = realloc(off, ncap * sizeof *off);
			len = realloc(len, ncap * sizeof *len);
		}
		memcpy(all + used, m.storables, m.storables_len);
		off[n] = used;
		len[n++] = m.storables_len;
		used += m.storables_len;
	}
	/* The slack after each record is the next one's bytes; after the
	 * last, TLV_JSON_SLACK more. */
	memset(all + used, '"', TLV_JSON_SLACK);
	size_t taken = 0;
	for (size_t i = 0; i < n; i++)
		taken += (size_t)tlv_scan_fast(all + off[i], len[i], &b);
	/* The scanner's copy the CPU gets, its SSE2 copy, Jansson alone. */
	double rate[3];
	int wide = tlv_scan_wide(1);
	for (int k = 0; k < 3; k++) {
		tlv_scan_wide(k != 1);
		uint64_t t0 = stats_now_ns();
		size_t bad = 0;
		for (size_t i = 0; i < n; i++)
			bad += (k == 2 ? tlv_from_json(all + off[i], len[i], &b, te) :
			    tlv_from_json_into(all + off[i], len[i], &b, b.buf, te)) != 0;
		rate[k] = (double)n / ((double)(stats_now_ns() - t0) / 1e9);
		if (bad)
			errx(EX_DATAERR, "%zu messages did not parse", bad);
	}
	printf("fast path %.0f/s (%.1f%% taken, %s copy; sse2 copy %.0f/s) jansson %.0f/s ratio %.1f\n",
	    rate[0], n ? 100.0 * (double)taken / (double)n : 0.0, wide ? "avx2" : "sse2", rate[1],
	    rate[2], rate[0] / rate[2]);
	free(all);
	free(off);
	free(len);
	io_in_free(&in);
	return 0;
}
