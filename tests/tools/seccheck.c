/*
 * seccheck - an independent check of a moma carousel, built only on
 * VideoLAN biTStream's PSI and DVB accessors (not on moma's section code).
 *
 *   seccheck < carousel.bin
 *
 * Walks the sections back to back, recomputes each CRC_32 with
 * biTStream's psi_check_crc, decodes the two UTC_time fields with
 * dvb_time_format_UTC, and prints one tab-separated line per section:
 *   offset table_id section_length index total_count target_filter
 *   network_id message_id template_id valid_start valid_end crc_ok
 * Exit 1 at the first section that is malformed or whose CRC is wrong.
 */
#include <bitstream/mpeg/psi.h>
#include <bitstream/dvb/si/datetime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t
u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
utc(const uint8_t *p)
{
	return (uint64_t)p[0] << 32 | (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 8 | p[4];
}

int
main(void)
{
	static uint8_t sec[PSI_PRIVATE_MAX_SIZE + PSI_HEADER_SIZE];
	unsigned long long off = 0, n = 0;

	for (;;) {
		size_t got = fread(sec, 1, PSI_HEADER_SIZE, stdin);
		if (got == 0)
			break;
		if (got < PSI_HEADER_SIZE) {
			fprintf(stderr, "seccheck: byte %llu: truncated header\n", off);
			return 1;
		}
		uint16_t len = psi_get_length(sec);
		if (psi_get_syntax(sec) || len > PSI_PRIVATE_MAX_SIZE || len < 4) {
			fprintf(stderr, "seccheck: byte %llu: bad section (syntax %d, length %u)\n",
			    off, psi_get_syntax(sec), len);
			return 1;
		}
		if (fread(sec + PSI_HEADER_SIZE, 1, len, stdin) != len) {
			fprintf(stderr, "seccheck: byte %llu: truncated section\n", off);
			return 1;
		}
		int ok = psi_check_crc(sec);
		char vs[64], ve[64];
		dvb_time_format_UTC(utc(sec + 19), NULL, vs);
		dvb_time_format_UTC(utc(sec + 24), NULL, ve);
		printf("%llu\t0x%02x\t%u\t%u\t%u\t%u\t%u\t%u\t%u\t%s\t%s\t%s\n", off,
		    psi_get_tableid(sec), len, sec[3], sec[4], u32(sec + 5), sec[9],
		    u32(sec + 10), u32(sec + 14), vs, ve, ok ? "crc-ok" : "crc-BAD");
		if (!ok) {
			fprintf(stderr, "seccheck: byte %llu: CRC_32 mismatch\n", off);
			return 1;
		}
		off += PSI_HEADER_SIZE + len;
		n++;
	}
	fprintf(stderr, "seccheck: %llu sections, all CRCs good\n", n);
	return 0;
}
