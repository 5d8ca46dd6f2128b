/*
 * Unit tests for libshared/section.c: segmentation edge cases, every
 * segment checked by biTStream, the single-section path, the accessors.
 * Output is TAP (tap.h).
 */
#include <bitstream/mpeg/psi.h>
#include <string.h>

#include "section.h"

#include "tap.h"

static void
test_segments(void)
{
	static uint8_t body[70000], out[200000];
	size_t per = SEC_MAX_LEN - SEC_OVERHEAD;

	ok(sec_count(0, SEC_MAX_LEN) == 1, "empty body: one section");
	ok(sec_count(SEC_MIN_LEN - SEC_OVERHEAD, SEC_MIN_LEN) == 1 && sec_count(2, SEC_MIN_LEN) == 2,
	    "smallest sections: one body byte each");
	ok(sec_count(per, SEC_MAX_LEN) == 1, "body exactly at the limit (%zu bytes): one section", per);
	ok(sec_count(per + 1, SEC_MAX_LEN) == 2, "one byte over: two sections");
	ok(sec_count(255, SEC_MIN_LEN) == 255, "255 one-byte segments allowed");
	ok(sec_count(256, SEC_MIN_LEN) == -1, "256 segments refused");
	ok(sec_count(255 * per, SEC_MAX_LEN) == 255 && sec_count(255 * per + 1, SEC_MAX_LEN) == -1,
	    "at 4096 bytes: %zu body bytes fit, one more does not", 255 * per);

	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)rnd();
	struct sec_msg m = { .target_filter = 0xdeadbeef, .message_id = 42, .template_id = 7,
		.network_id = 3, .genre = 1, .ack_count = 2, .ack_delay = 300,
		.valid_start = { 0xEC, 0x2E, 0x10, 0, 0 }, .valid_end = { 0xEC, 0x2F, 0x23, 0x59, 0x59 },
		.off_appearance = 1, .off_filter = 2, .off_addressee = 3, .body = body };
	size_t sizes[] = { 0, 1, per - 1, per, per + 1, 3 * per + 17 };
	int allok = 1, bitok = 1, maxok = 1;
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		m.body_len = sizes[k];
		int n = sec_count(m.body_len, SEC_MAX_LEN);
		size_t w = sec_encode(&m, SEC_MAX_LEN, n, out), o = 0, got = 0;
		allok &= w == sec_total_size(m.body_len, n);
		for (int i = 0; i < n; i++) {
			char e[SEC_ERR_LEN];
			size_t need;
			uint8_t *p = out + o;
			allok &= sec_validate(p, w - o, &need, e) == 0;
			bitok &= psi_check_crc(p) && !psi_get_syntax(p) && psi_get_tableid(p) == 0x92 &&
			    sec_get_index(p) == i && sec_get_total_count(p) == n;
			maxok &= sec_get_size(p) <= SEC_MAX_LEN && sec_get_length(p) <= 4093;
			allok &= memcmp(sec_get_body(p), body + got, sec_get_body_len(p)) == 0;
			got += sec_get_body_len(p);
			o += sec_get_size(p);
		}
		allok &= got == m.body_len && o == w;
	}

	/* sec_encode_single around a body already in place equals sec_encode. */
	static uint8_t in_place[SEC_MAX_LEN];
	int single = 1;
	for (size_t len = 0; len <= per; len += 1 + len / 3) {
		m.body_len = len;
		m.off_filter = (uint16_t)len;
		memset(in_place, 0xa5, sizeof in_place);
		memcpy(in_place + SEC_HEADER_LEN, body + len % 7, len);
		m.body = body + len % 7;
		size_t w = sec_encode(&m, SEC_MAX_LEN, 1, out);
		m.body = NULL;
		single &= sec_encode_single(&m, in_place) == w && memcmp(in_place, out, w) == 0;
	}
	m.body = body;
	ok(single, "sec_encode_single writes sec_encode's bytes around an in-place body, 0..%zu bytes", per);
	ok(allok, "segments validate and reassemble to the body (sizes 0, 1, limit-1, limit, limit+1, 3 x limit + 17)");
	ok(bitok, "biTStream psi_check_crc accepts every segment; table_id, syntax, index, total_count right");
	ok(maxok, "no section over 4096 bytes, section_length <= 4093");
	out[50] ^= 1;
	char e[SEC_ERR_LEN];
	size_t need;
	ok(sec_validate(out, sizeof out, &need, e) == -1 && strstr(e, "CRC"), "a flipped bit fails the CRC: %s", e);
}

/* Each sec_set_* writes what its sec_get_* reads; sec_encode uses them. */
static void
test_accessors(void)
{
	static const uint8_t t0[5] = { 1, 2, 3, 4, 5 }, t1[5] = { 6, 7, 8, 9, 0x10 };
	uint8_t p[SEC_OVERHEAD] = { 0 };

	sec_set_index(p, 3);
	sec_set_total_count(p, 4);
	sec_set_target_filter(p, 0xfedcba98);
	sec_set_network_id(p, 200);
	sec_set_message_id(p, 0x01020304);
	sec_set_template_id(p, 0xa0b0c0d0);
	sec_set_genre(p, 7);
	sec_set_valid_start(p, t0);
	sec_set_valid_end(p, t1);
	sec_set_ack_count(p, 9);
	sec_set_ack_delay(p, 0xbeef);
	sec_set_offset_appearance(p, 1);
	sec_set_offset_filter(p, 0xffff);
	sec_set_offset_addressee(p, 0x1234);
	psi_set_length(p, SEC_OVERHEAD - 3);
	sec_set_crc(p, 0xcafef00d);
	ok(sec_get_index(p) == 3 && sec_get_total_count(p) == 4 && sec_get_target_filter(p) == 0xfedcba98 &&
	    sec_get_network_id(p) == 200 && sec_get_message_id(p) == 0x01020304 &&
	    sec_get_template_id(p) == 0xa0b0c0d0 && sec_get_genre(p) == 7 &&
	    memcmp(sec_get_valid_start(p), t0, 5) == 0 && memcmp(sec_get_valid_end(p), t1, 5) == 0 &&
	    sec_get_ack_count(p) == 9 && sec_get_ack_delay(p) == 0xbeef &&
	    sec_get_offset_appearance(p) == 1 && sec_get_offset_filter(p) == 0xffff &&
	    sec_get_offset_addressee(p) == 0x1234 && sec_get_crc(p) == 0xcafef00d &&
	    sec_get_body_len(p) == 0, "sec_set_* then sec_get_*: the same values, at the documented offsets");
	ok(p[5] == 0xfe && p[9] == 200 && p[19] == 1 && p[24] == 6 && p[30] == 0xbe && p[36] == 0x12 &&
	    p[38] == 0xca, "target_filter at 5, network_id 9, valid_start 19, valid_end 24, "
	    "ack_delay 30, offset_addressee 36, CRC_32 38 in an empty section");
}

int
main(void)
{
	test_segments();
	test_accessors();
	return tap_done();
}
