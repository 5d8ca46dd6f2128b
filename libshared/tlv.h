/*
 * tlv.h - the section body: type-length-value items built from a
 * message's `storables` JSON object through a fixed tag registry
 * (man/moma-section.5, "TAG REGISTRY").
 *
 * Item:   tag 8 | length 8 | value[length]      (like a DVB descriptor)
 * Values: text  0x15 then UTF-8 (EN 300 468 Annex A), at most 254 bytes
 *               of UTF-8 so that the item length fits in 8 bits;
 *         u8/u16/u24/u32  big-endian unsigned integer of that width;
 *         bool  one byte, 0x00 or 0x01;
 *         lang  three bytes, ISO 639-2 code in lower case ASCII.
 * Groups: items are written in ascending tag order, which puts them in
 * four groups: content (0x01-0x1f), appearance (0x20-0x3f), filter
 * (0x40-0x5f), addressee (0x60-0x7f).  The section header's three
 * offsets give the byte offset in the body of the first appearance,
 * filter and addressee item, or 0xffff when the group is empty.
 *
 * storables rules: a JSON object (RFC 8259) of known keys; a null value
 * means "absent"; a duplicate key, an unknown key, a value of the wrong
 * type or out of range, or invalid JSON is an error.  Two parsers accept
 * exactly the same inputs and build the same bytes: tlv_from_json, a
 * purpose-built scanner for the encoder's hot path, and tlv_from_jansson,
 * built on the Jansson library, which is the fuzzers' oracle.
 */
#ifndef MOMA_TLV_H
#define MOMA_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_TEXT_MAX	254	/* UTF-8 bytes after the 0x15 prefix */
#define TLV_NKEYS	18
#define TLV_BODY_MAX	(TLV_NKEYS * (2 + 1 + TLV_TEXT_MAX))
#define TLV_ERR_LEN	160
#define TLV_NO_OFFSET	0xffff
#define TLV_TEXT_UTF8	0x15

enum tlv_type { TLV_TYPE_TEXT, TLV_TYPE_U8, TLV_TYPE_U16, TLV_TYPE_U24,
	TLV_TYPE_U32, TLV_TYPE_BOOL, TLV_TYPE_LANG };

struct tlv_key {
	const char *name;
	uint8_t tag;
	uint8_t type;		/* enum tlv_type */
};

/* The registry in ascending tag order, TLV_NKEYS entries. */
extern const struct tlv_key tlv_registry[TLV_NKEYS];

/* Registry entry for a key (len bytes, not NUL-terminated) or a tag,
 * or NULL when unknown. */
const struct tlv_key *tlv_lookup(const char *name, size_t len);
const struct tlv_key *tlv_by_tag(uint8_t tag);

/* A built body.  Lives on the caller's stack or in a struct; no malloc. */
struct tlv_body {
	uint8_t buf[TLV_BODY_MAX + 16];	/* + slack for 16-byte block copies */
	size_t len;
	uint16_t off_appearance, off_filter, off_addressee;
	/* working state of the builder */
	uint32_t seen;			/* bit i: registry[i] seen (even null) */
	uint32_t present;		/* bit i: registry[i] has a value */
	uint64_t ival[TLV_NKEYS];
	uint8_t tlen[TLV_NKEYS];
	uint8_t text[TLV_NKEYS][TLV_TEXT_MAX + 16];	/* + the scanner's slack */
};

/*
 * Build the body for storables json[0..len) with the fast scanner.
 * Returns 0, or -1 with a message in err (TLV_ERR_LEN bytes) such as
 * "invalid JSON at byte 17: ..." or "key \"prix\": 5000000000 out of
 * range 0..4294967295".  b is overwritten.
 */
int tlv_from_json(const uint8_t *json, size_t len, struct tlv_body *b, char *err);

/*
 * The same, faster, when json has TLV_JSON_SLACK readable bytes after
 * json[len - 1] (their values do not matter): the encoder's call.  Tries
 * tlv_scan_fast and falls back to tlv_from_json when it declines, so the
 * results, errors included, are tlv_from_json's.
 */
#define TLV_JSON_SLACK 16
int tlv_from_json_padded(const uint8_t *json, size_t len, struct tlv_body *b, char *err);

/*
 * tlv_from_json_padded writing the body to dst, which has TLV_BODY_MAX +
 * 16 writable bytes (16-byte block copies end in the slack), instead of
 * b->buf: the encoder builds it in place in its output.  b->len and the
 * offsets are set as usual; b->buf is not the body.
 */
int tlv_from_json_into(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst,
    char *err);

/*
 * The one-pass fast path alone, over the same padded input: the common
 * case (an object of known keys, strings with no escape but the
 * one-letter ones and only 1- and 2-byte UTF-8, integers without sign,
 * fraction or exponent, spaces only as jsonb writes them).  Returns 1
 * with b built exactly as tlv_from_json would, or 0 when it declines:
 * anything else, errors included, which tlv_from_json then decides.
 */
int tlv_scan_fast(const uint8_t *json, size_t len, struct tlv_body *b);

/* The same with Jansson; identical results (the fuzz oracle). */
int tlv_from_jansson(const uint8_t *json, size_t len, struct tlv_body *b, char *err);

/*
 * Check that body[0..len) is a sequence of well-formed items with known
 * tags in ascending order and valid values.  Returns 0, or -1 with err
 * naming the byte offset in the body.
 */
int tlv_validate(const uint8_t *body, size_t len, char *err);

/*
 * Render body[0..len) (validated) as a compact JSON object into out
 * (cap bytes).  Returns the length, or -1 if cap is too small.  Text is
 * escaped per RFC 8259.
 */
long tlv_to_json(const uint8_t *body, size_t len, char *out, size_t cap);

/* Append s[0..n) to out as a JSON string literal with quotes; returns the
 * length written, or -1 if cap is too small.  Bytes that are not valid
 * UTF-8 are written as \u00XX so the output is always valid JSON. */
long tlv_json_string(const uint8_t *s, size_t n, char *out, size_t cap);

/* Length of the valid UTF-8 prefix of s[0..n) (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF). */
size_t tlv_utf8_valid(const uint8_t *s, size_t n);

#endif
