/*
 * section.h - the operator's DVB private section (man/moma-section.5).
 *
 * A short-form private section (ISO/IEC 13818-1 2.4.4.10,
 * section_syntax_indicator 0; EN 300 468 table_id 0x92, user defined),
 * big-endian, written back to back to make the carousel:
 *
 *  off  bits  field
 *    0   8    table_id                 0x92
 *    1   1    section_syntax_indicator 0
 *        1    reserved_future_use      1
 *        2    reserved                 11
 *       12    section_length           bytes after this field, CRC included
 *    3   8    index                    segment number, 0..total_count-1
 *    4   8    total_count              segments of this message, 1..255
 *    5  32    target_filter            messages.numero_abonne
 *    9   8    network_id               zone (campagnes.zone_diffusion)
 *   10  32    message_id               campagnes.id
 *   14  32    template_id              messages.template_id
 *   18   8    genre                    campagnes.genre
 *   19  40    valid_start              UTC_time (EN 300 468 Annex C)
 *   24  40    valid_end                UTC_time
 *   29   8    message_ack_count        campagnes.ack_count
 *   30  16    message_ack_delay        campagnes.ack_delay
 *   32  16    offset_appearance        body offsets of the item groups
 *   34  16    offset_filter            (tlv.h), 0xffff when empty
 *   36  16    offset_addressee
 *   38   ...  body segment             TLV bytes (tlv.h)
 *  end  32    CRC_32                   CRC-32/MPEG-2 of every byte before it
 *
 * A body longer than max_section - 42 bytes is cut into total_count
 * segments; every segment repeats the header (offsets refer to the whole
 * body) with its index.
 */
#ifndef MOMA_SECTION_H
#define MOMA_SECTION_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "be.h"

#define SEC_TABLE_ID	0x92
#define SEC_HEADER_LEN	38
#define SEC_CRC_LEN	4
#define SEC_OVERHEAD	(SEC_HEADER_LEN + SEC_CRC_LEN)
#define SEC_MAX_LEN	4096			/* section_length <= 4093 */
#define SEC_MIN_LEN	(SEC_OVERHEAD + 1)	/* smallest useful --max-section */
#define SEC_MAX_SEGMENTS 255
#define SEC_ERR_LEN	160

struct sec_msg {
	uint32_t target_filter, message_id, template_id;
	uint8_t network_id, genre, ack_count;
	uint16_t ack_delay;
	uint8_t valid_start[5], valid_end[5];
	uint16_t off_appearance, off_filter, off_addressee;
	const uint8_t *body;
	size_t body_len;
};

/* ---- accessors over raw section bytes (p = table_id byte) ----------------- */
/* table_id, section_syntax_indicator, the reserved bits and section_length
 * are set with biTStream's psi_set_tableid / psi_init / psi_set_length. */
static inline uint8_t sec_get_table_id(const uint8_t *p) { return p[0]; }
static inline uint16_t sec_get_length(const uint8_t *p) { return (uint16_t)((p[1] & 0x0f) << 8 | p[2]); }
static inline uint8_t sec_get_index(const uint8_t *p) { return p[3]; }
static inline void sec_set_index(uint8_t *p, uint8_t v) { p[3] = v; }
static inline uint8_t sec_get_total_count(const uint8_t *p) { return p[4]; }
static inline void sec_set_total_count(uint8_t *p, uint8_t v) { p[4] = v; }
static inline uint32_t sec_get_target_filter(const uint8_t *p) { return be32_get(p + 5); }
static inline void sec_set_target_filter(uint8_t *p, uint32_t v) { be32_set(p + 5, v); }
static inline uint8_t sec_get_network_id(const uint8_t *p) { return p[9]; }
static inline void sec_set_network_id(uint8_t *p, uint8_t v) { p[9] = v; }
static inline uint32_t sec_get_message_id(const uint8_t *p) { return be32_get(p + 10); }
static inline void sec_set_message_id(uint8_t *p, uint32_t v) { be32_set(p + 10, v); }
static inline uint32_t sec_get_template_id(const uint8_t *p) { return be32_get(p + 14); }
static inline void sec_set_template_id(uint8_t *p, uint32_t v) { be32_set(p + 14, v); }
static inline uint8_t sec_get_genre(const uint8_t *p) { return p[18]; }
static inline void sec_set_genre(uint8_t *p, uint8_t v) { p[18] = v; }
static inline const uint8_t *sec_get_valid_start(const uint8_t *p) { return p + 19; }
static inline void sec_set_valid_start(uint8_t *p, const uint8_t v[5]) { memcpy(p + 19, v, 5); }
static inline const uint8_t *sec_get_valid_end(const uint8_t *p) { return p + 24; }
static inline void sec_set_valid_end(uint8_t *p, const uint8_t v[5]) { memcpy(p + 24, v, 5); }
static inline uint8_t sec_get_ack_count(const uint8_t *p) { return p[29]; }
static inline void sec_set_ack_count(uint8_t *p, uint8_t v) { p[29] = v; }
static inline uint16_t sec_get_ack_delay(const uint8_t *p) { return be16_get(p + 30); }
static inline void sec_set_ack_delay(uint8_t *p, uint16_t v) { be16_set(p + 30, v); }
static inline uint16_t sec_get_offset_appearance(const uint8_t *p) { return be16_get(p + 32); }
static inline void sec_set_offset_appearance(uint8_t *p, uint16_t v) { be16_set(p + 32, v); }
static inline uint16_t sec_get_offset_filter(const uint8_t *p) { return be16_get(p + 34); }
static inline void sec_set_offset_filter(uint8_t *p, uint16_t v) { be16_set(p + 34, v); }
static inline uint16_t sec_get_offset_addressee(const uint8_t *p) { return be16_get(p + 36); }
static inline void sec_set_offset_addressee(uint8_t *p, uint16_t v) { be16_set(p + 36, v); }
static inline const uint8_t *sec_get_body(const uint8_t *p) { return p + SEC_HEADER_LEN; }
static inline size_t sec_get_body_len(const uint8_t *p) { return (size_t)sec_get_length(p) + 3 - SEC_OVERHEAD; }
static inline size_t sec_get_size(const uint8_t *p) { return (size_t)sec_get_length(p) + 3; }
static inline uint32_t sec_get_crc(const uint8_t *p) { return be32_get(p + sec_get_size(p) - SEC_CRC_LEN); }
/* The CRC_32 after a section whose section_length is already set. */
static inline void sec_set_crc(uint8_t *p, uint32_t v) { be32_set(p + sec_get_size(p) - SEC_CRC_LEN, v); }

/*
 * Number of sections a body_len-byte body needs when no section exceeds
 * max_section bytes (SEC_MIN_LEN..SEC_MAX_LEN), or -1 if more than 255.
 */
int sec_count(size_t body_len, size_t max_section);

/* Bytes that n sections carrying a body_len-byte body occupy. */
static inline size_t sec_total_size(size_t body_len, int n)
{
	return (size_t)n * SEC_OVERHEAD + body_len;
}

/*
 * Write m as n = sec_count(m->body_len, max_section) sections back to
 * back into out, which must hold sec_total_size(m->body_len, n) bytes.
 * Returns the bytes written.  n must be the value sec_count returned.
 */
size_t sec_encode(const struct sec_msg *m, size_t max_section, int n, uint8_t *out);

/*
 * The same for a body that fits one section (sec_count 1) and is already
 * in place at out + SEC_HEADER_LEN (m->body is not read): writes the
 * header before it and the CRC after it.  Returns the section's size.
 */
size_t sec_encode_single(const struct sec_msg *m, uint8_t *out);

/*
 * Check the section at p, of which avail bytes are readable: table_id,
 * the fixed bits, section_length within 39..4093 and within avail, index
 * below total_count, the CRC, the two UTC_time fields.  Returns 0, or -1
 * with err (SEC_ERR_LEN bytes) saying what is wrong; *need is set to the
 * section size when the header could be read (so a caller can tell a
 * truncated section from a corrupt one), else 0.
 */
int sec_validate(const uint8_t *p, size_t avail, size_t *need, char *err);

#endif
