/*
 * Unit tests for libshared/crc.c: the check values of CRC-32/MPEG-2 and
 * CRC-32C, and each fast path against its tables and biTStream's loop.
 * Output is TAP (tap.h).
 */
#include <bitstream/mpeg/psi.h>
#include <string.h>

#include "crc.h"

#include "tap.h"

/* fast(c0, p, n) == table(c0, p, n) for every n in 0..4096 and `tries`
 * random n up to max, at random alignments (buf holds max + 64 bytes)
 * and start values (every third one the CRC's own initial value). */
static int
crc_paths_agree(uint32_t (*fast)(uint32_t, const void *, size_t),
    uint32_t (*table)(uint32_t, const void *, size_t), uint32_t init,
    const uint8_t *buf, size_t max, int tries)
{
	int same = 1;

	for (size_t n = 0; n <= 4096 && n <= max; n++) {
		size_t al = rnd() % 64;
		uint32_t c0 = n % 3 ? (uint32_t)rnd() : init;
		same &= fast(c0, buf + al, n) == table(c0, buf + al, n);
	}
	for (int t = 0; t < tries; t++) {
		size_t n = rnd() % (max + 1), al = rnd() % 64;
		uint32_t c0 = (uint32_t)rnd();
		same &= fast(c0, buf + al, n) == table(c0, buf + al, n);
	}
	return same;
}

static void
test_crc(void)
{
	uint8_t buf[1000];

	ok(crc_mpeg2(CRC_MPEG2_INIT, "123456789", 9) == 0x0376E6E7,
	    "CRC-32/MPEG-2 of \"123456789\" is 0x0376E6E7");
	ok(crc_32c(0, "123456789", 9) == 0xE3069283, "CRC-32C of \"123456789\" is 0xE3069283");
	ok(crc_32c(crc_32c(0, "1234", 4), "56789", 5) == 0xE3069283, "CRC-32C piecewise");
	int same = 1;
	for (int t = 0; t < 200; t++) {
		size_t n = rnd() % sizeof buf;
		uint32_t c = 0xffffffff;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd();
		for (size_t i = 0; i < n; i++)
			c = (c << 8) ^ p_psi_crc_table[(c >> 24) ^ buf[i]];
		same &= crc_mpeg2(CRC_MPEG2_INIT, buf, n) == c;
	}
	ok(same, "slicing-by-8 CRC-32/MPEG-2 equals biTStream's table loop on 200 random buffers");

	/* The accelerated paths (PCLMULQDQ when the CPU has it) against the
	 * tables: every length 0..4096 at a random alignment and start
	 * value, then random lengths up to 8192 (several 64-block runs). */
	static uint8_t big[8192 + 64];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)rnd();
	ok(crc_paths_agree(crc_mpeg2, crc_mpeg2_table, CRC_MPEG2_INIT, big, sizeof big - 64, 2000),
	    "CRC-32/MPEG-2 fast path equals the tables on lengths 0..4096 and 2000 random "
	    "lengths to 8192, random alignments and start values");
	static uint8_t huge[40000 + 64];
	for (size_t i = 0; i < sizeof huge; i++)
		huge[i] = (uint8_t)rnd();
	same = crc_paths_agree(crc_32c, crc_32c_table, 0, huge, sizeof huge - 64, 300);
	ok(same, "CRC-32C fast path (three crc32 chains past 6 KiB) equals the tables on lengths "
	    "0..4096 and 300 random lengths to 40000");
}

int
main(void)
{
	test_crc();
	return tap_done();
}
