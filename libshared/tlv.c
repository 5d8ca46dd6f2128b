/*
 * tlv.c - storables JSON -> TLV body, and back (man/moma-section.5).
 *
 * Both parsers feed one semantic layer (tlv_set_*), which owns the
 * registry rules, so they can differ only in JSON syntax handling, and
 * the fuzzer checks that they do not.
 */
#include "tlv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const struct tlv_key tlv_registry[TLV_NKEYS] = {
	{ "titre",	0x01, TLV_TYPE_TEXT },
	{ "texte",	0x02, TLV_TYPE_TEXT },
	{ "signature",	0x03, TLV_TYPE_TEXT },
	{ "code_promo",	0x04, TLV_TYPE_TEXT },
	{ "url",	0x05, TLV_TYPE_TEXT },
	{ "prix",	0x06, TLV_TYPE_U32 },
	{ "chaine",	0x07, TLV_TYPE_U16 },
	{ "duree",	0x20, TLV_TYPE_U16 },
	{ "position",	0x21, TLV_TYPE_U8 },
	{ "couleur",	0x22, TLV_TYPE_U24 },
	{ "priorite",	0x23, TLV_TYPE_U8 },
	{ "bip",	0x24, TLV_TYPE_BOOL },
	{ "offre",	0x40, TLV_TYPE_U16 },
	{ "age_min",	0x41, TLV_TYPE_U8 },
	{ "langue",	0x42, TLV_TYPE_LANG },
	{ "civilite",	0x60, TLV_TYPE_TEXT },
	{ "nom",	0x61, TLV_TYPE_TEXT },
	{ "prenom",	0x62, TLV_TYPE_TEXT },
};

static const uint64_t type_max[] = {
	[TLV_TYPE_U8] = 0xff, [TLV_TYPE_U16] = 0xffff,
	[TLV_TYPE_U24] = 0xffffff, [TLV_TYPE_U32] = 0xffffffff,
};
static const uint8_t type_width[] = {
	[TLV_TYPE_U8] = 1, [TLV_TYPE_U16] = 2, [TLV_TYPE_U24] = 3,
	[TLV_TYPE_U32] = 4, [TLV_TYPE_BOOL] = 1, [TLV_TYPE_LANG] = 3,
};
static const char *type_name[] = {
	[TLV_TYPE_TEXT] = "a string", [TLV_TYPE_U8] = "an integer",
	[TLV_TYPE_U16] = "an integer", [TLV_TYPE_U24] = "an integer",
	[TLV_TYPE_U32] = "an integer", [TLV_TYPE_BOOL] = "a boolean",
	[TLV_TYPE_LANG] = "a 3-letter language code",
};

/* Registry indices by key length (3..10), -1 terminated: a lookup is a
 * length switch and at most four fixed-size compares. */
static const int8_t by_len[11][5] = {
	[3] = { 4, 11, 16, -1 },		/* url bip nom */
	[4] = { 5, -1 },			/* prix */
	[5] = { 0, 1, 7, 12, -1 },		/* titre texte duree offre */
	[6] = { 6, 14, 17, -1 },		/* chaine langue prenom */
	[7] = { 9, 13, -1 },			/* couleur age_min */
	[8] = { 8, 10, 15, -1 },		/* position priorite civilite */
	[9] = { 2, -1 },			/* signature */
	[10] = { 3, -1 },			/* code_promo */
};

static int
key_index(const char *name, size_t len)
{
	if (len < 3 || len > 10)
		return -1;
	for (const int8_t *i = by_len[len]; *i >= 0; i++)
		if (memcmp(tlv_registry[*i].name, name, len) == 0)
			return *i;
	return -1;
}

/* The registry names zero-padded to 16 bytes, for key_index16. */
static const char names16[TLV_NKEYS][16] = {
	"titre", "texte", "signature", "code_promo", "url", "prix", "chaine",
	"duree", "position", "couleur", "priorite", "bip", "offre", "age_min",
	"langue", "civilite", "nom", "prenom",
};

/* Mask keeping the first n (0..8) bytes of an 8-byte load. */
static inline uint64_t
first_bytes(size_t n)
{
	if (n >= 8)
		return ~0ull;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (1ull << (8 * n)) - 1;
#else
	return n ? ~0ull << (8 * (8 - n)) : 0;
#endif
}

/*
 * key_index for a key in a buffer with at least 16 readable bytes (the
 * scanner's): two 8-byte loads, masked to the key's length, compared with
 * the padded names.  No call, no byte loop.
 */
static int
key_index16(const uint8_t *key, size_t len)
{
	uint64_t a, b, na, nb;

	if (len < 3 || len > 10)
		return -1;
	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	a &= first_bytes(len);
	b &= len > 8 ? first_bytes(len - 8) : 0;
	for (const int8_t *i = by_len[len]; *i >= 0; i++) {
		memcpy(&na, names16[*i], 8);
		memcpy(&nb, names16[*i] + 8, 8);
		if (a == na && b == nb)
			return *i;
	}
	return -1;
}

const struct tlv_key *
tlv_lookup(const char *name, size_t len)
{
	int i = len ? key_index(name, len) : -1;
	return i < 0 ? NULL : &tlv_registry[i];
}

const struct tlv_key *
tlv_by_tag(uint8_t tag)
{
	for (int i = 0; i < TLV_NKEYS; i++)
		if (tlv_registry[i].tag == tag)
			return &tlv_registry[i];
	return NULL;
}

size_t
tlv_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			/* Jump over the ASCII run: one load and a ctz per 8 bytes
			 * rather than a compare and branch per byte. */
			uint64_t w;
			while (n - i >= 8) {
				memcpy(&w, s + i, 8);
				w &= 0x8080808080808080ull;
				if (w) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
					i += (size_t)__builtin_ctzll(w) / 8;
#else
					i += (size_t)__builtin_clzll(w) / 8;
#endif
					goto high;
				}
				i += 8;
			}
			while (i < n && s[i] < 0x80)
				i++;
			continue;
		}
high:
		c = s[i];
		/* The common accent: a 2-byte sequence. */
		if (c >= 0xc2 && c <= 0xdf && n - i >= 2 && (s[i + 1] & 0xc0) == 0x80) {
			i += 2;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; }
		else return i;
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += k + 1;
	}
	return n;
}

/* ---- semantic layer ------------------------------------------------------ */

static void
body_reset(struct tlv_body *b)
{
	b->seen = b->present = 0;
	b->len = 0;
}

/* fast: key has 16 readable bytes (the scanner's buffer). */
static int
claim(struct tlv_body *b, const char *key, size_t klen, int fast, char *err)
{
	int i = fast ? key_index16((const uint8_t *)key, klen) : key_index(key, klen);
	char shown[24 * 6 + 3];

	if (i < 0 || (b->seen >> i & 1)) {
		size_t n = klen < 24 ? klen : 24;
		long w = tlv_json_string((const uint8_t *)key, n, shown, sizeof shown);
		if (w < 0)
			strcpy(shown, "\"?\"");
		else
			shown[w] = '\0';
		snprintf(err, TLV_ERR_LEN, i < 0 ? "unknown key %s%s" : "duplicate key %s%s",
		    shown, klen > n ? " (cut)" : "");
		return -1;
	}
	b->seen |= 1u << i;
	return i;
}

static int
wrong_type(int i, char *err)
{
	snprintf(err, TLV_ERR_LEN, "key \"%s\": expected %s",
	    tlv_registry[i].name, type_name[tlv_registry[i].type]);
	return -1;
}

static int
set_text(struct tlv_body *b, int i, const uint8_t *s, size_t n, char *err)
{
	uint8_t t = tlv_registry[i].type;

	if (t == TLV_TYPE_LANG) {
		if (n != 3 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' ||
		    s[2] < 'a' || s[2] > 'z') {
			snprintf(err, TLV_ERR_LEN,
			    "key \"%s\": expected a 3-letter lower-case ISO 639-2 code",
			    tlv_registry[i].name);
			return -1;
		}
	} else if (t != TLV_TYPE_TEXT) {
		return wrong_type(i, err);
	}
	if (n > TLV_TEXT_MAX) {
		snprintf(err, TLV_ERR_LEN, "key \"%s\": text of %zu bytes exceeds %d",
		    tlv_registry[i].name, n, TLV_TEXT_MAX);
		return -1;
	}
	if (s != b->text[i])
		memcpy(b->text[i], s, n);
	b->tlen[i] = (uint8_t)n;
	b->present |= 1u << i;
	return 0;
}

/* neg: a leading minus sign; mag: magnitude; ovf: magnitude >= 2^64. */
static int
set_int(struct tlv_body *b, int i, int neg, uint64_t mag, int ovf, char *err)
{
	uint8_t t = tlv_registry[i].type;

	if (t == TLV_TYPE_TEXT || t == TLV_TYPE_BOOL || t == TLV_TYPE_LANG)
		return wrong_type(i, err);
	if (ovf || (neg && mag != 0) || mag > type_max[t]) {
		char v[24] = "(over 2^64)";
		if (!ovf)
			snprintf(v, sizeof v, "%llu", (unsigned long long)mag);
		snprintf(err, TLV_ERR_LEN, "key \"%s\": %s%s out of range 0..%llu",
		    tlv_registry[i].name, neg ? "-" : "", v,
		    (unsigned long long)type_max[t]);
		return -1;
	}
	b->ival[i] = mag;
	b->present |= 1u << i;
	return 0;
}

static int
set_bool(struct tlv_body *b, int i, int v, char *err)
{
	if (tlv_registry[i].type != TLV_TYPE_BOOL)
		return wrong_type(i, err);
	b->ival[i] = (uint64_t)v;
	b->present |= 1u << i;
	return 0;
}

/* Registry index ranges of the four groups (tags ascending with the
 * index): content 0..6, appearance 7..11, filter 12..14, addressee 15..17. */
#define GRP_CONTENT	0x0007fu
#define GRP_APPEARANCE	0x00f80u
#define GRP_FILTER	0x07000u
#define GRP_ADDRESSEE	0x38000u

/* Write the items of bits (a group) at p; returns the end. */
static inline uint8_t *
emit_items(const struct tlv_body *b, uint32_t bits, uint8_t *p)
{
	for (; bits; bits &= bits - 1) {
		int i = __builtin_ctz(bits);
		const struct tlv_key *k = &tlv_registry[i];
		p[0] = k->tag;
		if (k->type == TLV_TYPE_TEXT) {
			unsigned n = b->tlen[i];
			p[1] = (uint8_t)(1 + n);
			p[2] = TLV_TEXT_UTF8;
			/* Whole 16-byte blocks into slack space: GCC otherwise
			 * inlines this copy as rep movsq, whose start-up cost made
			 * it a fifth of the encoder's time. */
			for (unsigned j = 0; j < n; j += 16)
				memcpy(p + 3 + j, b->text[i] + j, 16);
			p += 3 + n;
		} else if (k->type == TLV_TYPE_LANG) {
			p[1] = 3;
			memcpy(p + 2, b->text[i], 3);
			p += 5;
		} else {
			/* A w-byte big-endian value as one 4-byte big-endian
			 * store of it shifted to the top; the bytes after the
			 * first w land in the next item's place or the slack. */
			unsigned w = type_width[k->type];
			uint32_t v = (uint32_t)b->ival[i] << (32 - 8 * w);
			p[1] = (uint8_t)w;
			p[2] = (uint8_t)(v >> 24);
			p[3] = (uint8_t)(v >> 16);
			p[4] = (uint8_t)(v >> 8);
			p[5] = (uint8_t)v;
			p += 2 + w;
		}
	}
	return p;
}

/* The items of b->present in tag order at dst (TLV_BODY_MAX + 16 bytes);
 * sets b->len and the group offsets. */
static void
body_emit_to(struct tlv_body *b, uint8_t *dst)
{
	uint32_t bits = b->present;
	uint8_t *p = emit_items(b, bits & GRP_CONTENT, dst);

	b->off_appearance = bits & GRP_APPEARANCE ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & GRP_APPEARANCE, p);
	b->off_filter = bits & GRP_FILTER ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & GRP_FILTER, p);
	b->off_addressee = bits & GRP_ADDRESSEE ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & GRP_ADDRESSEE, p);
	b->len = (size_t)(p - dst);
}

static void
body_emit(struct tlv_body *b)
{
	body_emit_to(b, b->buf);
}

/* ---- the fast scanner ------------------------------------------------------ */

/* Character classes inside a JSON string. */
enum { C_QUOTE = 1, C_BSLASH, C_CTRL, C_HIGH, C_PLAIN };
static const uint8_t str_class[256] = {
	[0x00 ... 0x1f] = C_CTRL, [0x20 ... 0x21] = C_PLAIN, ['"'] = C_QUOTE,
	[0x23 ... 0x5b] = C_PLAIN, ['\\'] = C_BSLASH, [0x5d ... 0x7f] = C_PLAIN,
	[0x80 ... 0xff] = C_HIGH,
};

struct scan {
	const uint8_t *p, *start, *end;
	char *err;
};

static int
syntax(struct scan *s, const char *what)
{
	snprintf(s->err, TLV_ERR_LEN, "invalid JSON at byte %zu: %s",
	    (size_t)(s->p - s->start), what);
	return -1;
}

static inline void
skip_ws(struct scan *s)
{
	/* JSON whitespace is all <= ' ': one compare in the common case. */
	while (s->p < s->end && *s->p <= ' ' &&
	    (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static int
hex4(struct scan *s, uint32_t *v)
{
	*v = 0;
	if (s->end - s->p < 4)
		return syntax(s, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		uint8_t c = s->p[i];
		uint32_t d;
		if (c >= '0' && c <= '9') d = c - '0';
		else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
		else return syntax(s, "bad hex digit in \\u escape");
		*v = *v << 4 | d;
	}
	s->p += 4;
	return 0;
}

#if defined(__SSE2__)
/*
 * UTF-8 check for the common case, 16 bytes at a time: ASCII and 2-byte
 * sequences (C2..DF then 80..BF) only.  s must be readable up to n rounded
 * up to 16 (the scanner's slack).  Returns 1 valid, 0 invalid, -1 when a
 * byte of another kind (a 3- or 4-byte sequence, or garbage) is present:
 * then the scalar validator decides.
 */
static int
utf8_valid16(const uint8_t *s, size_t n)
{
	const __m128i c2 = _mm_set1_epi8((char)0xc2), df = _mm_set1_epi8((char)0xdf),
	    x80 = _mm_set1_epi8((char)0x80), xbf = _mm_set1_epi8((char)0xbf);
	unsigned carry = 0;	/* the previous block ended with a lead byte */

	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;
		unsigned live = k == 16 ? 0xffffu : (1u << k) - 1;
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned h = (unsigned)_mm_movemask_epi8(v) & live;
		if (h == 0) {
			if (carry)
				return 0;
			continue;
		}
		unsigned lead = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(_mm_max_epu8(v, c2), v), _mm_cmpeq_epi8(_mm_min_epu8(v, df), v))) & live;
		unsigned cont = (unsigned)_mm_movemask_epi8(_mm_and_si128(
		    _mm_cmpeq_epi8(_mm_max_epu8(v, x80), v), _mm_cmpeq_epi8(_mm_min_epu8(v, xbf), v))) & live;
		if (h & ~(lead | cont))
			return -1;
		/* every continuation right after a lead, every lead followed by one */
		if ((((lead << 1) | carry) & live) != cont)
			return 0;
		carry = lead >> (k - 1) & 1;
	}
	return carry ? 0 : 1;
}
#endif

/* UTF-8 check of the scanner's output (dst has SCAN_SLACK bytes after n). */
static int
scanned_utf8_ok(const uint8_t *dst, size_t n)
{
#if defined(__SSE2__)
	int r = utf8_valid16(dst, n);
	if (r >= 0)
		return r;
#endif
	return tlv_utf8_valid(dst, n) == n;
}

/*
 * Scan a string whose opening quote is at s->p; unescape into dst, which
 * has room for cap + SCAN_SLACK bytes.  *n = unescaped length, or cap + 1
 * when it does not fit (the rest is still scanned).  Plain runs are found
 * 16 bytes at a time; bytes >= 0x80 are copied as they are and the UTF-8
 * of the result is validated at the end, which is equivalent to
 * validating the raw bytes because escapes only ever produce complete,
 * valid sequences (a broken raw sequence next to one stays broken).
 */
#define SCAN_SLACK 16
static int
scan_string(struct scan *s, uint8_t *dst, size_t cap, size_t *n)
{
	size_t o = 0;
	unsigned high = 0;	/* bit 7 set once any byte >= 0x80 was copied */

	s->p++;
	for (;;) {
#if defined(__SSE2__)
		const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
		    c1f = _mm_set1_epi8(0x1f);
		while (s->end - s->p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s->p);
			__m128i special = _mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bsl)),
			    _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f));
			unsigned m = (unsigned)_mm_movemask_epi8(special);
			unsigned h = (unsigned)_mm_movemask_epi8(v);
			if (o <= cap)
				_mm_storeu_si128((__m128i *)(void *)(dst + o), v);
			if (m == 0) {
				high |= h ? 0x80 : 0;
				o += 16;
				s->p += 16;
				continue;
			}
			unsigned k = (unsigned)__builtin_ctz(m);
			high |= (h & ((1u << k) - 1)) ? 0x80 : 0;
			o += k;
			s->p += k;
			goto special;
		}
#endif
		while (s->p < s->end && str_class[*s->p] >= C_HIGH) {
			if (o < cap + SCAN_SLACK)
				dst[o] = *s->p;
			high |= *s->p;
			o++;
			s->p++;
		}
		if (s->p >= s->end)
			return syntax(s, "unterminated string");
#if defined(__SSE2__)
special:
#endif
		switch (str_class[*s->p]) {
		case C_QUOTE: {
			s->p++;
			if (o > cap) {
				*n = cap + 1;
				return 0;
			}
			if ((high & 0x80) && !scanned_utf8_ok(dst, o)) {
				/* Point at the string's first invalid byte in the input. */
				s->p -= o - tlv_utf8_valid(dst, o) + 1;
				return syntax(s, "invalid UTF-8");
			}
			*n = o;
			return 0;
		}
		case C_CTRL:
			return syntax(s, "control character in string");
		case C_BSLASH: {
			uint8_t e, buf[4];
			size_t k = 1;
			if (++s->p >= s->end)
				return syntax(s, "unterminated string");
			e = *s->p++;
			switch (e) {
			case '"': case '\\': case '/': buf[0] = e; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u': {
				uint32_t cp, lo;
				if (hex4(s, &cp))
					return -1;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return syntax(s, "lone low surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
						return syntax(s, "lone high surrogate");
					s->p += 2;
					if (hex4(s, &lo))
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return syntax(s, "bad low surrogate");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (cp == 0)
					return syntax(s, "\\u0000 is not allowed");
				if (cp < 0x80) { buf[0] = (uint8_t)cp; }
				else if (cp < 0x800) {
					buf[0] = (uint8_t)(0xc0 | cp >> 6); buf[1] = (uint8_t)(0x80 | (cp & 0x3f)); k = 2;
				} else if (cp < 0x10000) {
					buf[0] = (uint8_t)(0xe0 | cp >> 12); buf[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
					buf[2] = (uint8_t)(0x80 | (cp & 0x3f)); k = 3;
				} else {
					buf[0] = (uint8_t)(0xf0 | cp >> 18); buf[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
					buf[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)); buf[3] = (uint8_t)(0x80 | (cp & 0x3f)); k = 4;
				}
				high |= buf[0];
				break;
			}
			default:
				s->p--;
				return syntax(s, "bad escape");
			}
			if (o + k <= cap + SCAN_SLACK)
				memcpy(dst + o, buf, k);
			o += k;
			break;
		}
		default:	/* C_PLAIN / C_HIGH: only reached from the SSE2 path */
			break;
		}
	}
}

/* Scan a number per RFC 8259.  *is_int: no fraction or exponent. */
static int
scan_number(struct scan *s, int *neg, uint64_t *mag, int *ovf, int *is_int)
{
	*neg = *ovf = 0;
	*mag = 0;
	*is_int = 1;
	if (*s->p == '-') {
		*neg = 1;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return syntax(s, "bad number");
	if (*s->p == '0') {
		s->p++;
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return syntax(s, "leading zero in number");
	} else {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
			unsigned d = (unsigned)(*s->p++ - '0');
			if (*mag > (UINT64_MAX - d) / 10)
				*ovf = 1;
			else
				*mag = *mag * 10 + d;
		}
	}
	if (s->p < s->end && *s->p == '.') {
		*is_int = 0;
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return syntax(s, "bad fraction");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		*is_int = 0;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return syntax(s, "bad exponent");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return 0;
}

static int
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return syntax(s, "unexpected character");
	s->p += n;
	return 0;
}

int
tlv_from_json(const uint8_t *json, size_t len, struct tlv_body *b, char *err)
{
	struct scan s = { .p = json, .start = json, .end = json + len, .err = err };
	uint8_t key[32 + SCAN_SLACK];
	size_t klen;

	body_reset(b);
	skip_ws(&s);
	if (s.p >= s.end)
		return syntax(&s, "empty, expected an object");
	if (*s.p != '{')
		return syntax(&s, "storables must be a JSON object");
	s.p++;
	skip_ws(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
		goto done;
	}
	for (;;) {
		if (s.p >= s.end || *s.p != '"')
			return syntax(&s, "expected a key string");
		if (scan_string(&s, key, 32, &klen))
			return -1;
		int i = claim(b, (const char *)key, klen > 32 ? 32 : klen, 1, err);
		if (i < 0)
			return -1;
		skip_ws(&s);
		if (s.p >= s.end || *s.p != ':')
			return syntax(&s, "expected ':'");
		s.p++;
		skip_ws(&s);
		if (s.p >= s.end)
			return syntax(&s, "expected a value");
		switch (*s.p) {
		case '"': {
			size_t n;
			if (scan_string(&s, b->text[i], TLV_TEXT_MAX, &n))
				return -1;
			if (set_text(b, i, b->text[i], n, err))
				return -1;
			break;
		}
		case 't':
			if (literal(&s, "true") || set_bool(b, i, 1, err))
				return -1;
			break;
		case 'f':
			if (literal(&s, "false") || set_bool(b, i, 0, err))
				return -1;
			break;
		case 'n':
			if (literal(&s, "null"))
				return -1;
			break;
		case '{': case '[':
			return wrong_type(i, err);
		default: {
			int neg, ovf, is_int;
			uint64_t mag;
			if (scan_number(&s, &neg, &mag, &ovf, &is_int))
				return -1;
			if (!is_int) {
				if (tlv_registry[i].type == TLV_TYPE_TEXT ||
				    tlv_registry[i].type == TLV_TYPE_LANG ||
				    tlv_registry[i].type == TLV_TYPE_BOOL)
					return wrong_type(i, err);
				snprintf(err, TLV_ERR_LEN, "key \"%s\": expected an integer, not a fraction or exponent",
				    tlv_registry[i].name);
				return -1;
			}
			if (set_int(b, i, neg, mag, ovf, err))
				return -1;
		}
		}
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			skip_ws(&s);
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		return syntax(&s, "expected ',' or '}'");
	}
done:
	skip_ws(&s);
	if (s.p != s.end)
		return syntax(&s, "data after the object");
	body_emit(b);
	return 0;
}

/* ---- the one-pass fast path --------------------------------------------------- */

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Perfect hash of a key's first eight bytes (masked to its length) over
 * the registry: (a * FAST_MUL) >> 59 gives 18 distinct slots of 32.  Found
 * by a search over random odd multipliers; the table below is checked
 * against the registry by the unit tests (tlv_scan_fast on every key).
 * The slots are those of little-endian loads; elsewhere the fast path
 * declines everything.
 */
#define FAST_MUL 0x2e47dc0e959f3a51ull
static const int8_t fast_slot[32] = {
	17, 3, -1, 1, 10, -1, -1, -1, -1, -1, 5, -1, 14, 8, 11, -1,
	-1, 9, 6, 15, 2, 0, 7, 16, 13, -1, -1, -1, 12, -1, -1, 4,
};
static const uint8_t name_len[TLV_NKEYS] = {
	5, 5, 9, 10, 3, 4, 6, 5, 8, 7, 8, 3, 5, 7, 6, 8, 3, 6,
};

/*
 * A string value whose first byte is at p: no escape but the one-letter
 * ones, at most cap bytes once unescaped, valid UTF-8 of ASCII and 2-byte
 * sequences.  Copies it to dst (cap + 16 writable bytes) and returns the
 * byte after the closing quote, or NULL to decline.  One pass: the UTF-8
 * check runs on the block just loaded, which one-letter escapes (ASCII,
 * never inside a sequence) do not change.
 */
static const uint8_t *
fast_string(const uint8_t *p, const uint8_t *end, uint8_t *dst, size_t cap, size_t *n)
{
	const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
	    c1f = _mm_set1_epi8(0x1f), m63 = _mm_set1_epi8(-63), m64 = _mm_set1_epi8(-64),
	    m32 = _mm_set1_epi8(-32);
	size_t o = 0;
	unsigned carry = 0;	/* the last byte taken was a 2-byte lead */

	for (;;) {
		if (p >= end || o > cap)
			return NULL;
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bsl)),
		    _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f)));
		unsigned h = (unsigned)_mm_movemask_epi8(v);
		_mm_storeu_si128((__m128i *)(void *)(dst + o), v);
		/* The bytes taken: all 16, or those before the special one. */
		unsigned k = m ? (unsigned)__builtin_ctz(m) : 16, live = (1u << k) - 1;
		if ((h & live) | carry) {
			/* UTF-8 of the raw bytes, 16 at a time, as signed bytes:
			 * continuation 80..BF is below -64, a 2-byte lead C2..DF
			 * is -62..-33; anything else high (C0, C1, E0..FF) is left
			 * to the general path, which validates 3- and 4-byte
			 * sequences and names the bad byte.  Every continuation
			 * must follow a lead and every lead be followed by one. */
			unsigned cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, m64)) & live;
			unsigned lead = (unsigned)_mm_movemask_epi8(_mm_and_si128(
			    _mm_cmpgt_epi8(v, m63), _mm_cmplt_epi8(v, m32))) & live;
			if ((h & live) != (cont | lead) || (((lead << 1) | carry) & live) != cont)
				return NULL;
			carry = k ? lead >> (k - 1) & 1 : carry;
		}
		o += k;
		p += k;
		if (m == 0)
			continue;
		if (p >= end || carry)
			return NULL;
		if (*p == '"')
			break;
		if (*p != '\\' || p + 1 >= end || o >= cap)
			return NULL;
		switch (p[1]) {
		case '"': case '\\': case '/': dst[o] = p[1]; break;
		case 'b': dst[o] = '\b'; break;
		case 'f': dst[o] = '\f'; break;
		case 'n': dst[o] = '\n'; break;
		case 'r': dst[o] = '\r'; break;
		case 't': dst[o] = '\t'; break;
		default: return NULL;	/* \u and bad escapes: the general path */
		}
		o++;
		p += 2;
	}
	if (o > cap)
		return NULL;
	*n = o;
	return p + 1;
}

static inline const uint8_t *
fast_spaces(const uint8_t *p, const uint8_t *end)
{
	/* jsonb's text form puts one space after ':' and ','. */
	while (p < end && *p == ' ')
		p++;
	return p;
}

static int
scan_fast(const uint8_t *json, size_t len, struct tlv_body *b)
{
	const uint8_t *p = json, *end = json + len;
	const __m128i quote = _mm_set1_epi8('"');

	body_reset(b);
	if (len < 2 || *p++ != '{')
		return 0;
	p = fast_spaces(p, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		if (p >= end || *p != '"')
			return 0;
		p++;
		/* The key: its closing quote within 16 bytes, its bytes equal to
		 * a registry name (which has no byte a JSON string escapes). */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned qm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
		if (qm == 0)
			return 0;
		size_t klen = (size_t)__builtin_ctz(qm);
		uint64_t ka, kb, na, nb;
		memcpy(&ka, p, 8);
		memcpy(&kb, p + 8, 8);
		ka &= first_bytes(klen);
		kb &= klen > 8 ? first_bytes(klen - 8) : 0;
		int i = fast_slot[(ka * FAST_MUL) >> 59];
		if (i < 0)
			return 0;
		memcpy(&na, names16[i], 8);
		memcpy(&nb, names16[i] + 8, 8);
		if (ka != na || kb != nb || klen != name_len[i] || (b->seen >> i & 1))
			return 0;
		b->seen |= 1u << i;
		p += klen + 1;
		p = fast_spaces(p, end);
		if (p >= end || *p != ':')
			return 0;
		p = fast_spaces(p + 1, end);
		if (p >= end)
			return 0;
		uint8_t t = tlv_registry[i].type, c = *p;
		if (c == '"') {
			size_t n;
			if (t != TLV_TYPE_TEXT && t != TLV_TYPE_LANG)
				return 0;
			if ((p = fast_string(p + 1, end, b->text[i], TLV_TEXT_MAX, &n)) == NULL)
				return 0;
			if (t == TLV_TYPE_LANG && (n != 3 ||
			    (uint8_t)(b->text[i][0] - 'a') > 25 || (uint8_t)(b->text[i][1] - 'a') > 25 ||
			    (uint8_t)(b->text[i][2] - 'a') > 25))
				return 0;
			b->tlen[i] = (uint8_t)n;
			b->present |= 1u << i;
		} else if ((uint8_t)(c - '0') <= 9) {
			uint64_t x = 0;
			const uint8_t *d = p;
			if (t == TLV_TYPE_TEXT || t == TLV_TYPE_BOOL || t == TLV_TYPE_LANG)
				return 0;
			/* At most ten digits: no overflow of x, and 2^32 - 1 has ten. */
			while (p < end && (uint8_t)(*p - '0') <= 9 && p - d < 11)
				x = x * 10 + (uint64_t)(*p++ - '0');
			if (p - d > 10 || (c == '0' && p - d > 1) || x > type_max[t] ||
			    (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
				return 0;
			b->ival[i] = x;
			b->present |= 1u << i;
		} else if (c == 't' || c == 'f') {
			int v1 = c == 't';
			size_t w = v1 ? 4 : 5;
			if (t != TLV_TYPE_BOOL || (size_t)(end - p) < w ||
			    memcmp(p, v1 ? "true" : "false", w) != 0)
				return 0;
			p += w;
			b->ival[i] = (uint64_t)v1;
			b->present |= 1u << i;
		} else if (c == 'n') {
			if ((size_t)(end - p) < 4 || memcmp(p, "null", 4) != 0)
				return 0;
			p += 4;
		} else {
			return 0;
		}
		p = fast_spaces(p, end);
		if (p < end && *p == ',') {
			p = fast_spaces(p + 1, end);
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		return 0;
	}
done:
	return p == end;
}
#else
static int
scan_fast(const uint8_t *json, size_t len, struct tlv_body *b)
{
	return 0;
}
#endif

int
tlv_scan_fast(const uint8_t *json, size_t len, struct tlv_body *b)
{
	if (!scan_fast(json, len, b))
		return 0;
	body_emit(b);
	return 1;
}

int
tlv_from_json_padded(const uint8_t *json, size_t len, struct tlv_body *b, char *err)
{
	return tlv_from_json_into(json, len, b, b->buf, err);
}

int
tlv_from_json_into(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst,
    char *err)
{
	if (scan_fast(json, len, b)) {
		body_emit_to(b, dst);
		return 0;
	}
	if (tlv_from_json(json, len, b, err) != 0)
		return -1;
	if (dst != b->buf)
		memcpy(dst, b->buf, b->len);
	return 0;
}

/* ---- the Jansson path (oracle) --------------------------------------------- */

int
tlv_from_jansson(const uint8_t *json, size_t len, struct tlv_body *b, char *err)
{
	json_error_t je;
	json_t *root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
	const char *k;
	json_t *v;
	int rc = -1;

	body_reset(b);
	/* Jansson stops at a raw NUL after a number and accepts
	 * {"prix":1<NUL>}; RFC 8259 allows no NUL outside strings (and none
	 * raw inside), so refuse it before asking Jansson. */
	const uint8_t *nul = memchr(json, 0, len);
	if (nul != NULL) {
		json_decref(root);
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte %zu: NUL byte", (size_t)(nul - json));
		return -1;
	}
	if (root == NULL) {
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte %d: %.100s", je.position, je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte 0: storables must be a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		int i = claim(b, k, strlen(k), 0, err);
		if (i < 0)
			goto out;
		switch (json_typeof(v)) {
		case JSON_NULL:
			break;
		case JSON_STRING:
			if (set_text(b, i, (const uint8_t *)json_string_value(v),
			    json_string_length(v), err))
				goto out;
			break;
		case JSON_INTEGER: {
			json_int_t x = json_integer_value(v);
			uint64_t mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
			if (set_int(b, i, x < 0, mag, 0, err))
				goto out;
			break;
		}
		case JSON_TRUE:
		case JSON_FALSE:
			if (set_bool(b, i, json_is_true(v), err))
				goto out;
			break;
		case JSON_REAL:
			if (tlv_registry[i].type == TLV_TYPE_TEXT ||
			    tlv_registry[i].type == TLV_TYPE_LANG ||
			    tlv_registry[i].type == TLV_TYPE_BOOL) {
				wrong_type(i, err);
				goto out;
			}
			snprintf(err, TLV_ERR_LEN, "key \"%s\": expected an integer, not a fraction or exponent",
			    tlv_registry[i].name);
			goto out;
		default:
			wrong_type(i, err);
			goto out;
		}
	}
	body_emit(b);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- decoding ---------------------------------------------------------------- */

int
tlv_validate(const uint8_t *body, size_t len, char *err)
{
	size_t o = 0;
	int last = -1;

	while (o < len) {
		if (len - o < 2) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: truncated item header", o);
			return -1;
		}
		uint8_t tag = body[o], l = body[o + 1];
		const struct tlv_key *k = tlv_by_tag(tag);
		if (k == NULL) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: unknown tag 0x%02x", o, tag);
			return -1;
		}
		if ((int)tag <= last) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x out of order or repeated", o, tag);
			return -1;
		}
		last = tag;
		if (len - o - 2 < l) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x length %u overruns the body", o, tag, l);
			return -1;
		}
		const uint8_t *v = body + o + 2;
		if (k->type == TLV_TYPE_TEXT) {
			if (l < 1 || v[0] != TLV_TEXT_UTF8) {
				snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x text lacks the 0x15 UTF-8 prefix", o, tag);
				return -1;
			}
			if (tlv_utf8_valid(v + 1, l - 1u) != l - 1u) {
				snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x text is not valid UTF-8", o, tag);
				return -1;
			}
		} else if (l != type_width[k->type] ||
		    (k->type == TLV_TYPE_BOOL && v[0] > 1)) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x bad value length %u", o, tag, l);
			return -1;
		}
		o += 2u + l;
	}
	return 0;
}

long
tlv_json_string(const uint8_t *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

#define PUT(c) do { if (o >= cap) return -1; out[o++] = (char)(c); } while (0)
	PUT('"');
	while (i < n) {
		uint8_t c = s[i];
		if (c >= 0x80) {
			size_t ok = tlv_utf8_valid(s + i, n - i < 4 ? n - i : 4);
			size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (ok >= k) {
				for (size_t j = 0; j < k; j++)
					PUT(s[i + j]);
				i += k;
				continue;
			}
		}
		if (c == '"' || c == '\\') {
			PUT('\\'); PUT(c);
		} else if (c == '\n') {
			PUT('\\'); PUT('n');
		} else if (c == '\t') {
			PUT('\\'); PUT('t');
		} else if (c == '\r') {
			PUT('\\'); PUT('r');
		} else if (c < 0x20 || c >= 0x80) {
			PUT('\\'); PUT('u'); PUT('0'); PUT('0'); PUT(hex[c >> 4]); PUT(hex[c & 15]);
		} else {
			PUT(c);
		}
		i++;
	}
	PUT('"');
#undef PUT
	return (long)o;
}

long
tlv_to_json(const uint8_t *body, size_t len, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	int first = 1;

	if (cap < 3)
		return -1;
	out[o++] = '{';
	while (i + 2 <= len) {
		const struct tlv_key *k = tlv_by_tag(body[i]);
		uint8_t l = body[i + 1];
		const uint8_t *v = body + i + 2;
		long w;
		if (k == NULL || i + 2 + l > len)
			return -1;
		if (!first) {
			if (o >= cap) return -1;
			out[o++] = ',';
		}
		first = 0;
		if ((w = tlv_json_string((const uint8_t *)k->name, strlen(k->name), out + o, cap - o)) < 0)
			return -1;
		o += (size_t)w;
		if (o >= cap) return -1;
		out[o++] = ':';
		if (k->type == TLV_TYPE_TEXT)
			w = tlv_json_string(v + 1, l ? l - 1u : 0, out + o, cap - o);
		else if (k->type == TLV_TYPE_LANG)
			w = tlv_json_string(v, l, out + o, cap - o);
		else if (k->type == TLV_TYPE_BOOL)
			w = snprintf(out + o, cap - o, "%s", v[0] ? "true" : "false");
		else {
			uint64_t x = 0;
			for (unsigned j = 0; j < l; j++)
				x = x << 8 | v[j];
			w = snprintf(out + o, cap - o, "%llu", (unsigned long long)x);
		}
		if (w < 0 || (size_t)w >= cap - o)
			return -1;
		o += (size_t)w;
		i += 2u + l;
	}
	if (o + 1 >= cap)
		return -1;
	out[o++] = '}';
	out[o] = '\0';
	return (long)o;
}
