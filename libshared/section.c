/*
 * section.c - encode and check the operator's private sections.
 */
#include "section.h"

#include <bitstream/mpeg/psi.h>
#include <stdio.h>
#include <string.h>

#include "crc.h"
#include "dvbtime.h"

int
sec_count(size_t body_len, size_t max_section)
{
	size_t per = max_section - SEC_OVERHEAD;
	if (body_len <= per)	/* the common case, without a division */
		return 1;
	size_t n = (body_len + per - 1) / per;

	return n > SEC_MAX_SEGMENTS ? -1 : (int)n;
}

/* Header of section i of n, chunk bytes of body, at p. */
static inline void
put_header(const struct sec_msg *m, int i, int n, size_t chunk, uint8_t *p)
{
	size_t size = SEC_OVERHEAD + chunk;

	psi_set_tableid(p, SEC_TABLE_ID);
	psi_init(p, false);	/* ssi 0, reserved_future_use 1, reserved 11 */
	psi_set_length(p, (uint16_t)(size - PSI_HEADER_SIZE));
	sec_set_index(p, (uint8_t)i);
	sec_set_total_count(p, (uint8_t)n);
	sec_set_target_filter(p, m->target_filter);
	sec_set_network_id(p, m->network_id);
	sec_set_message_id(p, m->message_id);
	sec_set_template_id(p, m->template_id);
	sec_set_genre(p, m->genre);
	sec_set_valid_start(p, m->valid_start);
	sec_set_valid_end(p, m->valid_end);
	sec_set_ack_count(p, m->ack_count);
	sec_set_ack_delay(p, m->ack_delay);
	sec_set_offset_appearance(p, m->off_appearance);
	sec_set_offset_filter(p, m->off_filter);
	sec_set_offset_addressee(p, m->off_addressee);
}

size_t
sec_encode_single(const struct sec_msg *m, uint8_t *out)
{
	size_t size = SEC_OVERHEAD + m->body_len;

	put_header(m, 0, 1, m->body_len, out);
	sec_set_crc(out, crc_mpeg2(CRC_MPEG2_INIT, out, size - SEC_CRC_LEN));
	return size;
}

size_t
sec_encode(const struct sec_msg *m, size_t max_section, int n, uint8_t *out)
{
	size_t per = max_section - SEC_OVERHEAD, done = 0;
	uint8_t *p = out;

	for (int i = 0; i < n; i++) {
		size_t chunk = m->body_len - done < per ? m->body_len - done : per;
		size_t size = SEC_OVERHEAD + chunk;

		put_header(m, i, n, chunk, p);
		if (chunk)
			memcpy(p + SEC_HEADER_LEN, m->body + done, chunk);
		sec_set_crc(p, crc_mpeg2(CRC_MPEG2_INIT, p, size - SEC_CRC_LEN));
		done += chunk;
		p += size;
	}
	return (size_t)(p - out);
}

int
sec_validate(const uint8_t *p, size_t avail, size_t *need, char *err)
{
	int64_t t;

	*need = 0;
	if (avail < 3) {
		snprintf(err, SEC_ERR_LEN, "truncated section header (%zu bytes)", avail);
		return -1;
	}
	if (p[0] != SEC_TABLE_ID) {
		snprintf(err, SEC_ERR_LEN, "table_id 0x%02x, want 0x%02x", p[0], SEC_TABLE_ID);
		return -1;
	}
	if ((p[1] & 0xf0) != 0x70) {
		snprintf(err, SEC_ERR_LEN,
		    "syntax/reserved bits 0x%x, want 0x7 (section_syntax_indicator 0)", p[1] >> 4);
		return -1;
	}
	size_t len = sec_get_length(p);
	if (len < SEC_OVERHEAD - 3 || len > SEC_MAX_LEN - 3) {
		snprintf(err, SEC_ERR_LEN, "section_length %zu out of range %d..%d",
		    len, SEC_OVERHEAD - 3, SEC_MAX_LEN - 3);
		return -1;
	}
	*need = len + 3;
	if (avail < len + 3) {
		snprintf(err, SEC_ERR_LEN, "truncated section: %zu bytes, %zu left", len + 3, avail);
		return -1;
	}
	uint32_t want = crc_mpeg2(CRC_MPEG2_INIT, p, len + 3 - SEC_CRC_LEN);
	if (sec_get_crc(p) != want) {
		snprintf(err, SEC_ERR_LEN, "CRC_32 0x%08x, computed 0x%08x", sec_get_crc(p), want);
		return -1;
	}
	if (sec_get_total_count(p) == 0 || sec_get_index(p) >= sec_get_total_count(p)) {
		snprintf(err, SEC_ERR_LEN, "index %u not below total_count %u",
		    sec_get_index(p), sec_get_total_count(p));
		return -1;
	}
	if (dvbtime_decode(sec_get_valid_start(p), &t) || dvbtime_decode(sec_get_valid_end(p), &t)) {
		snprintf(err, SEC_ERR_LEN, "valid_start or valid_end is not a UTC_time (bad BCD)");
		return -1;
	}
	return 0;
}
