/*
 * tsmux - packetize any section file with libshared's ts_mux, and make
 * sections moma-encode cannot (for the TS layer's largest case).
 *
 *   tsmux PID < sections > file.ts     sections back to back -> TS on PID
 *   tsmux -g N > sections               N moma sections of 4096 bytes
 *
 * moma-encode's bodies stop at about 2100 bytes (8 texts of 254 bytes and
 * the integers), so its sections never reach section_length 4093.  -g
 * writes segments 0..N-1 of a message of N+1 segments, each with
 * section_length 4093, a body of 0x01 bytes and a good CRC_32: a whole
 * moma section as far as sec_validate is concerned, though the message
 * never ends.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "dvbtime.h"
#include "io.h"
#include "section.h"
#include "ts.h"

static void
gen(int n)
{
	static uint8_t s[SEC_MAX_LEN];

	for (int i = 0; i < n; i++) {
		memset(s, 0x01, sizeof s);
		s[0] = SEC_TABLE_ID;
		s[1] = 0x70 | (SEC_MAX_LEN - 3) >> 8;
		s[2] = (SEC_MAX_LEN - 3) & 0xff;
		s[3] = (uint8_t)i;
		s[4] = (uint8_t)(n + 1);
		be32_set(s + 5, 123456);
		s[9] = 1;
		be32_set(s + 10, 4242);
		be32_set(s + 14, 5);
		s[18] = 2;
		dvbtime_encode(1795305600, s + 19);
		dvbtime_encode(1795996799, s + 24);
		s[29] = 1;
		be16_set(s + 30, 30);
		be16_set(s + 32, 0xffff);
		be16_set(s + 34, 0xffff);
		be16_set(s + 36, 0xffff);
		be32_set(s + SEC_MAX_LEN - 4, crc_mpeg2(CRC_MPEG2_INIT, s, SEC_MAX_LEN - 4));
		if (fwrite(s, 1, sizeof s, stdout) != sizeof s)
			err(1, "write");
	}
}

int
main(int argc, char *argv[])
{
	static uint8_t s[TS_SEC_MAX];
	struct io_out out;
	struct ts_mux m;

	if (argc == 3 && strcmp(argv[1], "-g") == 0) {
		gen(atoi(argv[2]));
		return fclose(stdout) != 0;
	}
	if (argc != 2)
		errx(2, "usage: tsmux PID < sections > file.ts | tsmux -g N > sections");
	if (io_out_init(&out, STDOUT_FILENO, 64 * 1024, NULL))
		err(1, "io_out_init");
	ts_mux_init(&m, (uint16_t)strtoul(argv[1], NULL, 0));
	for (;;) {
		size_t got = fread(s, 1, 3, stdin);
		if (got == 0)
			break;
		size_t size = (size_t)((s[1] & 0x0f) << 8 | s[2]) + 3;
		if (got != 3 || size > sizeof s || fread(s + 3, 1, size - 3, stdin) != size - 3)
			errx(1, "truncated or oversized section");
		if (ts_mux_section(&m, &out, s, size))
			err(1, "write");
	}
	if (ts_mux_flush(&m, &out) || io_out_flush(&out))
		err(1, "write");
	io_out_free(&out);
	return 0;
}
