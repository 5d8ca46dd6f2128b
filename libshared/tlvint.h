/*
 * tlvint.h - what tlv.c, tlvjson.c and tlvdec.c share, and nothing else
 * includes: the value tables of the registry's types and the two ends of
 * the body writer.
 */
#ifndef MOMA_TLVINT_H
#define MOMA_TLVINT_H

#include <stdint.h>
#include <string.h>

#include "tlv.h"

/* The largest value and the byte width of each integer type (bool and
 * lang have a width, text neither).  Static, so that the scanner's loads
 * of them in tlv.c stay what they were before the split. */
__attribute__((unused)) static const uint64_t tlv_type_max[] = {
	[TLV_TYPE_U8] = 0xff, [TLV_TYPE_U16] = 0xffff,
	[TLV_TYPE_U24] = 0xffffff, [TLV_TYPE_U32] = 0xffffffff,
};
__attribute__((unused)) static const uint8_t tlv_type_width[] = {
	[TLV_TYPE_U8] = 1, [TLV_TYPE_U16] = 2, [TLV_TYPE_U24] = 3,
	[TLV_TYPE_U32] = 4, [TLV_TYPE_BOOL] = 1, [TLV_TYPE_LANG] = 3,
};

/* Zero bytes: what the writer copies after a number's header. */
extern const uint8_t tlv_zeros[64];

/* Item i is the text (or lang) s[0..n): its header, its bytes.  The
 * header is built in a local and stored once: stores through uint8_t
 * pointers may alias anything, and would make the compiler reload
 * every field after each one. */
static inline void
tlv_item_text(struct tlv_body *b, int i, const uint8_t *s, size_t n)
{
	uint8_t tag = tlv_registry[i].tag, lang = tlv_registry[i].type == TLV_TYPE_LANG;
	uint8_t h[8] = { tag, lang ? 3 : (uint8_t)(1 + n), TLV_TEXT_UTF8, 0, 0, 0, 0, 0 };

	memcpy(b->hdr[i], h, 8);
	b->hlen[i] = (uint8_t)(3 - lang);
	b->tptr[i] = s;
	b->tlen[i] = (uint8_t)n;
	b->present |= 1u << i;
}

/* Item i is the number (or bool) v, in range: its header holds it. */
static inline void
tlv_item_number(struct tlv_body *b, int i, uint64_t v)
{
	uint8_t tag = tlv_registry[i].tag;
	unsigned w = tlv_type_width[tlv_registry[i].type];
	/* The w bytes as the top of 4 big-endian ones; the rest is
	 * overwritten by what follows the item. */
	uint32_t x = (uint32_t)v << (32 - 8 * w);
	uint8_t h[8] = { tag, (uint8_t)w, (uint8_t)(x >> 24), (uint8_t)(x >> 16),
		(uint8_t)(x >> 8), (uint8_t)x, 0, 0 };

	memcpy(b->hdr[i], h, 8);
	b->hlen[i] = (uint8_t)(2 + w);
	b->tptr[i] = tlv_zeros;
	b->tlen[i] = 0;
	b->ival[i] = v;
	b->present |= 1u << i;
}

/* Start building b: the registry's tables built, no key seen, nothing
 * present. */
void tlv_body_start(struct tlv_body *b);

/* Write the items b->present says, in tag order, to b->buf; set b->len
 * and the three group offsets. */
void tlv_body_emit(struct tlv_body *b);

/* tlv_scan_fast, the body written to dst (TLV_BODY_MAX + 16 writable
 * bytes) instead of b->buf: tlv_from_json_into's first try. */
int tlv_scan_fast_to(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst);

#endif
