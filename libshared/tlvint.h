/*
 * tlvint.h - what tlv.c, tlvjson.c and tlvdec.c share, and nothing else
 * includes: the value tables of the registry's types and the two ends of
 * the body writer.
 */
#ifndef MOMA_TLVINT_H
#define MOMA_TLVINT_H

#include <stdint.h>

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

/* Start building b: the registry's tables built, no key seen, nothing
 * present. */
void tlv_body_start(struct tlv_body *b);

/* Write the items b->present says, in tag order, to b->buf; set b->len
 * and the three group offsets. */
void tlv_body_emit(struct tlv_body *b);

#endif
