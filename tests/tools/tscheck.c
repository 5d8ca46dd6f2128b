/*
 * tscheck - an independent check of a moma transport stream, built on
 * VideoLAN libdvbpsi's section reassembly (not on moma's ts.c).
 *
 *   tscheck [-r] PID < carousel.ts
 *
 * Feeds every packet of PID (decimal or 0x hex) to a libdvbpsi private
 * decoder (dvbpsi_decoder_new + dvbpsi_packet_push), which reassembles
 * the sections and reports discontinuities.  libdvbpsi verifies the CRC
 * of long-form sections only, so tscheck recomputes each CRC_32 itself
 * (CRC-32/MPEG-2, bit by bit, not moma's table).  One tab-separated line
 * per section:
 *   table_id section_length index total_count message_id crc crc_ok
 * with table_id and crc as 0x-hex, the rest decimal.  Exit 1 at the end
 * if any packet lacks its sync byte, libdvbpsi reported an error, a CRC
 * is wrong, or the file is not a whole number of packets.  With -r, the
 * sections' raw bytes are written instead, back to back: a section file
 * to cmp with moma-encode's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dvbpsi/dvbpsi.h>	/* needs the three above first */
#include <dvbpsi/psi.h>

static int bad, raw;
static unsigned long long nsec;

static uint32_t
crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint32_t)p[i] << 24;
		for (int b = 0; b < 8; b++)
			c = c & 0x80000000u ? c << 1 ^ 0x04c11db7u : c << 1;
	}
	return c;
}

static void
message(dvbpsi_t *h, const dvbpsi_msg_level_t level, const char *msg)
{
	(void)h;
	fprintf(stderr, "tscheck: libdvbpsi %s: %s\n", level == DVBPSI_MSG_ERROR ? "error" :
	    level == DVBPSI_MSG_WARN ? "warning" : "debug", msg);
	if (level == DVBPSI_MSG_ERROR)
		bad = 1;
}

static void
gather(dvbpsi_t *h, dvbpsi_psi_section_t *s)
{
	(void)h;
	for (dvbpsi_psi_section_t *p = s; p; p = p->p_next) {
		const uint8_t *d = p->p_data;
		size_t size = (size_t)p->i_length + 3;
		uint32_t crc = (uint32_t)d[size - 4] << 24 | (uint32_t)d[size - 3] << 16 |
		    (uint32_t)d[size - 2] << 8 | d[size - 1];
		int ok = size >= 7 && crc_bitwise(d, size - 4) == crc;
		nsec++;
		if (!ok) {
			fprintf(stderr, "tscheck: section %llu: CRC_32 0x%08x is wrong\n", nsec, crc);
			bad = 1;
		}
		if (raw) {
			fwrite(d, 1, size, stdout);
			continue;
		}
		printf("0x%02x\t%u\t%u\t%u\t%u\t0x%08x\t%s\n", p->i_table_id, p->i_length,
		    size > 4 ? d[3] : 0, size > 4 ? d[4] : 0,
		    size > 14 ? (unsigned)d[10] << 24 | (unsigned)d[11] << 16 | (unsigned)d[12] << 8 | d[13] : 0,
		    crc, ok ? "crc-ok" : "crc-BAD");
	}
	dvbpsi_DeletePSISections(s);
}

int
main(int argc, char *argv[])
{
	uint8_t pkt[188];
	unsigned long long n = 0;
	size_t got;

	if (argc == 3 && strcmp(argv[1], "-r") == 0) {
		raw = 1;
		argc--;
		argv++;
	}
	if (argc != 2) {
		fputs("usage: tscheck [-r] PID < file.ts\n", stderr);
		return 2;
	}
	unsigned long pid = strtoul(argv[1], NULL, 0);
	dvbpsi_t *h = dvbpsi_new(message, DVBPSI_MSG_WARN);
	if (h == NULL)
		return 2;
	h->p_decoder = dvbpsi_decoder_new(gather, 4096, true, sizeof(dvbpsi_decoder_t));
	if (h->p_decoder == NULL)
		return 2;
	while ((got = fread(pkt, 1, sizeof pkt, stdin)) == sizeof pkt) {
		if (pkt[0] != 0x47) {
			fprintf(stderr, "tscheck: packet %llu: no sync byte\n", n);
			bad = 1;
		}
		if ((unsigned long)((pkt[1] & 0x1f) << 8 | pkt[2]) == pid && !dvbpsi_packet_push(h, pkt)) {
			fprintf(stderr, "tscheck: packet %llu: dvbpsi_packet_push failed\n", n);
			bad = 1;
		}
		n++;
	}
	if (got != 0) {
		fprintf(stderr, "tscheck: %zu bytes after the last whole packet\n", got);
		bad = 1;
	}
	dvbpsi_decoder_delete(h->p_decoder);
	h->p_decoder = NULL;
	dvbpsi_delete(h);
	fprintf(stderr, "tscheck: %llu packets, %llu sections\n", n, nsec);
	if (fflush(stdout) != 0 || ferror(stdout))
		bad = 1;
	return bad;
}
