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
 * type or out of range, or invalid JSON is an error.  One JSON reader is
 * moma's own: tlv_scan_fast, a one-pass scanner for the shapes producers
 * write (the encoder's hot path), which takes or declines; what it
 * declines goes to Jansson (tlv_from_json), which decides, with the NUL
 * and duplicate-key rules of moma-section(5).  The fuzzer holds the fast
 * path to Jansson's verdict and bytes.
 *
 * The registry is the one list below (TLV_REGISTRY); the lookup tables
 * (perfect hash of the names, padded names, group masks) are computed
 * from it once, at first use.  Adding a key: one TLV_REGISTRY line and
 * its row in moma-section(5).
 */
#ifndef MOMA_TLV_H
#define MOMA_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_TEXT_MAX	254	/* UTF-8 bytes after the 0x15 prefix */
#define TLV_NAME_MAX	15	/* bytes of a key name (16-byte padded compares) */

/* The tag registry (man/moma-section.5, TAG REGISTRY), in ascending tag
 * order: X(name, tag, type).  Tags 0x01-0x1f content, 0x20-0x3f
 * appearance, 0x40-0x5f filter, 0x60-0x7f addressee. */
#define TLV_REGISTRY(X) \
	X(titre,	0x01, TEXT) \
	X(texte,	0x02, TEXT) \
	X(signature,	0x03, TEXT) \
	X(code_promo,	0x04, TEXT) \
	X(url,		0x05, TEXT) \
	X(prix,		0x06, U32) \
	X(chaine,	0x07, U16) \
	X(duree,	0x20, U16) \
	X(position,	0x21, U8) \
	X(couleur,	0x22, U24) \
	X(priorite,	0x23, U8) \
	X(bip,		0x24, BOOL) \
	X(offre,	0x40, U16) \
	X(age_min,	0x41, U8) \
	X(langue,	0x42, LANG) \
	X(civilite,	0x60, TEXT) \
	X(nom,		0x61, TEXT) \
	X(prenom,	0x62, TEXT)

#define TLV_KEY_INDEX_(name, tag, type) TLV_KEY_##name,
enum { TLV_REGISTRY(TLV_KEY_INDEX_) TLV_NKEYS };
#undef TLV_KEY_INDEX_
/* The builder's seen/present masks hold one bit per key. */
_Static_assert(TLV_NKEYS <= 32, "the registry has more keys than a uint32_t mask has bits");

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

/* The registry in ascending tag order, TLV_NKEYS entries (TLV_REGISTRY). */
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
	/* Item i as the writer copies it: hlen[i] bytes of hdr[i] (tag,
	 * length, then the 0x15 prefix of a text or a number's big-endian
	 * bytes), then tlen[i] bytes from tptr[i]: text[i], or the input
	 * when the fast scanner found nothing to unescape (the writer reads
	 * 64 bytes or whole 16-byte blocks there, inside the input's slack). */
	uint8_t hdr[TLV_NKEYS][8];
	uint8_t hlen[TLV_NKEYS];
	uint8_t tlen[TLV_NKEYS];
	const uint8_t *tptr[TLV_NKEYS];
	uint8_t text[TLV_NKEYS][TLV_TEXT_MAX + 16];	/* + the scanner's slack */
};

/*
 * Build the body for storables json[0..len) with Jansson (any valid JSON
 * layout).  Returns 0, or -1 with a message in err (TLV_ERR_LEN bytes)
 * such as "invalid JSON at byte 17: ..." or "key \"prix\": 5000000000 out
 * of range 0..4294967295".  b is overwritten.  A raw NUL byte anywhere
 * and invalid UTF-8 are reported by moma ("invalid JSON at byte N: NUL
 * byte", "... invalid UTF-8", N the first bad byte), a duplicate key as
 * "duplicate key \"name\"", other syntax errors with Jansson's text.
 */
int tlv_from_json(const uint8_t *json, size_t len, struct tlv_body *b, char *err);

/*
 * The same, faster, when json has TLV_JSON_SLACK readable bytes after
 * json[len - 1] (their values do not matter): the encoder's call.  Tries
 * tlv_scan_fast and falls back to tlv_from_json when it declines, so the
 * results, errors included, are tlv_from_json's.  The body goes to dst,
 * which has TLV_BODY_MAX + 16 writable bytes (16-byte block copies end in
 * the slack): the encoder builds it in place in its output.  b->len and
 * the offsets are set as usual; b->buf is the body only when dst is
 * b->buf.
 */
#define TLV_JSON_SLACK 64
int tlv_from_json_into(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst,
    char *err);

/*
 * The one-pass fast path alone, over the same padded input: the shapes
 * producers write (an object of known keys with no escape in them;
 * strings of any valid UTF-8, the whole object validated 16 or 32 bytes
 * at a time (SSE2, AVX2), with every JSON escape, \uXXXX and surrogate
 * pairs included; integers without sign, fraction or exponent; spaces
 * only as jsonb writes them, at most one after '{', ':' and ',' and
 * before ',' and '}').  Returns 1 with b built exactly as tlv_from_json
 * would, or 0 when it declines: anything else, errors included, which
 * tlv_from_json then decides.  Without SSE2 (or on big-endian) it
 * declines everything.
 */
int tlv_scan_fast(const uint8_t *json, size_t len, struct tlv_body *b);

/*
 * The fast scanner has two copies, one for any x86-64 (SSE2) and one
 * for AVX2, chosen at first use from what the CPU has.  For the tests
 * and the fuzzer: tlv_scan_wide(0) makes it use the SSE2 copy,
 * tlv_scan_wide(1) the AVX2 one if the CPU has AVX2.  Returns 1 when the
 * AVX2 copy is the one in use.
 */
int tlv_scan_wide(int on);

/*
 * Build the tables derived from TLV_REGISTRY if not yet done, and check
 * the registry: tags ascending within 0x01..0x7f, names of 1 to
 * TLV_NAME_MAX bytes of [a-z0-9_], all different, and a perfect hash
 * found for them.  Returns 0, or -1 with the reason in err.  The other
 * functions build the tables themselves; this is for the tests.  *slots
 * (if not NULL) is the hash's table size.
 */
int tlv_registry_check(char *err, unsigned *slots);

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

/* 1 when s[0..n) is valid UTF-8, else 0: tlv_utf8_valid(s, n) == n, by
 * the fast scanner's branch-free check when the CPU has AVX2 (Keiser and
 * Lemire's table lookups, 32 bytes at a time; tlv_utf8_valid without
 * it).  Reads nothing past s[n - 1]. */
int tlv_utf8_ok(const uint8_t *s, size_t n);

#endif
