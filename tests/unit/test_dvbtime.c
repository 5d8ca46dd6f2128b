/*
 * Unit tests for libshared/dvbtime.c: UTC_time (EN 300 468 Annex C)
 * against biTStream's encoder, the MJD limits, parsing.
 * Output is TAP (tap.h).
 */
#include <bitstream/dvb/si/datetime.h>
#include <string.h>

#include "dvbtime.h"

#include "tap.h"

static void
test_dvbtime(void)
{
	uint8_t b[5];
	int64_t t;

	dvbtime_parse("2024-06-01T10:00:00Z", 20, &t);
	ok(dvbtime_encode(t, b) == 0 && memcmp(b, "\xEC\x2E\x10\x00\x00", 5) == 0,
	    "2024-06-01 10:00:00 encodes to EC 2E 10 00 00");
	dvbtime_parse("1993-10-13 12:45:00", 19, &t);
	ok(dvbtime_encode(t, b) == 0 && memcmp(b, "\xC0\x79\x12\x45\x00", 5) == 0,
	    "1993-10-13 12:45:00 encodes to C0 79 12 45 00 (EN 300 468 Annex C example)");
	ok(dvbtime_encode(DVBTIME_MIN, b) == 0 && b[0] == 0 && b[1] == 0, "1858-11-17 is MJD 0");
	ok(dvbtime_encode(DVBTIME_MAX, b) == 0 && b[0] == 0xff && b[1] == 0xff &&
	    memcmp(b + 2, "\x23\x59\x59", 3) == 0, "2038-04-22 23:59:59 is MJD 65535 23:59:59");
	ok(dvbtime_encode(DVBTIME_MIN - 1, b) == -1, "one second before MJD 0 is refused");
	ok(dvbtime_encode(DVBTIME_MAX + 1, b) == -1, "one second after MJD 65535 is refused");
	int same = 1, back = 1;
	for (int i = 0; i < 20000; i++) {
		/* biTStream's Annex C formula is valid 1900-03-01 .. 2038 here */
		int64_t x = -2203891200LL + (int64_t)(rnd() % (uint64_t)(DVBTIME_MAX + 2203891200LL));
		uint64_t ref = dvb_time_encode_UTC((time_t)x);
		uint8_t r[5] = { (uint8_t)(ref >> 32), (uint8_t)(ref >> 24), (uint8_t)(ref >> 16),
		    (uint8_t)(ref >> 8), (uint8_t)ref };
		same &= dvbtime_encode(x, b) == 0 && memcmp(b, r, 5) == 0;
		back &= dvbtime_decode(b, &t) == 0 && t == x;
	}
	ok(same, "dvbtime_encode equals biTStream's dvb_time_encode_UTC on 20000 times 1900..2038");
	ok(back, "dvbtime_decode inverts dvbtime_encode");
	ok(dvbtime_decode((const uint8_t *)"\xEC\x2E\x1A\x00\x00", &t) == -1, "bad BCD digit refused");
	ok(dvbtime_parse("2023-02-29", 10, &t) == -1, "2023-02-29 is not a date");
	ok(dvbtime_parse("2024-02-29", 10, &t) == 0 && t == 1709164800, "2024-02-29 is");
}

int
main(void)
{
	test_dvbtime();
	return tap_done();
}
