/*
 * tlv.c - the registry and its tables, UTF-8, the body writer and the
 * one-pass fast scanner: storables JSON -> TLV body (man/moma-section.5).
 *
 * Two ways in build one body: the fast scanner here (scan_fast) for the
 * shapes producers write, and Jansson (tlvjson.c, with the registry's
 * rules and their messages) for everything it declines.  The fuzzer
 * checks that whatever the scanner takes, Jansson takes with the same
 * bytes.  Decoding a body (validate, to JSON) is tlvdec.c.
 *
 * Everything the encoder runs per record is in this one file on purpose:
 * the scanner's helpers, the key lookup and the writer inline into each
 * other (the build has no link-time optimisation).
 */
#include "tlv.h"
#include "tlvint.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define TLV_KEY_ENTRY_(name, tag, type) { #name, tag, TLV_TYPE_##type },
const struct tlv_key tlv_registry[] = { TLV_REGISTRY(TLV_KEY_ENTRY_) };
#undef TLV_KEY_ENTRY_
_Static_assert(sizeof tlv_registry / sizeof tlv_registry[0] == TLV_NKEYS, "TLV_NKEYS");


/* ---- tables derived from the registry, built once ------------------------ */

/*
 * A key is looked up by a perfect hash of its bytes: two 8-byte loads of
 * its first 16 bytes masked to its length, x = a ^ b, slot = (x * mul) >>
 * (64 - bits).  tab_build looks for an odd multiplier that gives every
 * registry name its own slot, trying 32, 64, ... 256 slots, and fills
 * the padded names the lookup compares with.  The group masks say which
 * registry indices fall in each of the four tag ranges.
 */
#define SLOTS_MAX 256
static struct {
	uint64_t mul;
	unsigned shift;			/* 64 - log2(slots) */
	int8_t slot[SLOTS_MAX];
	char names16[TLV_NKEYS][16];	/* zero-padded */
	uint8_t name_len[TLV_NKEYS];
	uint32_t grp[4];		/* content, appearance, filter, addressee */
	int ok;				/* the registry passed the checks */
	char why[TLV_ERR_LEN];		/* why not */
} T;
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;
static int tab_ready;	/* set (release) once tab_init is done */
/* pthread_once costs a call per record: look at the flag first. */
#define TAB_INIT() do { if (!__atomic_load_n(&tab_ready, __ATOMIC_ACQUIRE)) \
	pthread_once(&tab_once, tab_init); } while (0)

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

/* The hash input of a key of len (<= 15) bytes with 16 readable at key;
 * *a and *b are its two masked words. */
static inline uint64_t
key_word(const uint8_t *key, size_t len, uint64_t *a, uint64_t *b)
{
	memcpy(a, key, 8);
	memcpy(b, key + 8, 8);
	*a &= first_bytes(len);
	*b &= len > 8 ? first_bytes(len - 8) : 0;
	return *a ^ *b;
}

static int
tab_fail(const char *what, const char *name)
{
	snprintf(T.why, sizeof T.why, "registry: %s%s%s", what, name ? ": " : "", name ? name : "");
	return -1;
}

/* Find the perfect hash of the hash inputs x[]; 0 or -1. */
static int
tab_hash(const uint64_t *x)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	for (unsigned bits = 5; (1u << bits) <= SLOTS_MAX; bits++) {
		for (int t = 0; t < 100000; t++) {
			/* splitmix64: a fixed sequence, so the same tables each run */
			uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			uint64_t mul = (z ^ (z >> 31)) | 1;
			uint32_t used[SLOTS_MAX / 32] = { 0 };
			int i;
			for (i = 0; i < TLV_NKEYS; i++) {
				unsigned s = (unsigned)((x[i] * mul) >> (64 - bits));
				if (used[s / 32] >> (s % 32) & 1)
					break;
				used[s / 32] |= 1u << (s % 32);
			}
			if (i < TLV_NKEYS)
				continue;
			T.mul = mul;
			T.shift = 64 - bits;
			memset(T.slot, -1, sizeof T.slot);
			for (i = 0; i < TLV_NKEYS; i++)
				T.slot[(x[i] * mul) >> T.shift] = (int8_t)i;
			return 0;
		}
	}
	return tab_fail("no perfect hash found", NULL);
}

static int
tab_build(void)
{
	uint64_t x[TLV_NKEYS], a, b;

	for (int i = 0; i < TLV_NKEYS; i++) {
		const struct tlv_key *k = &tlv_registry[i];
		size_t n = strlen(k->name);
		if (n == 0 || n > TLV_NAME_MAX)
			return tab_fail("name empty or longer than TLV_NAME_MAX bytes", k->name);
		if (strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
			return tab_fail("name not of [a-z0-9_]", k->name);
		if (k->tag == 0 || k->tag > 0x7f || (i > 0 && k->tag <= tlv_registry[i - 1].tag))
			return tab_fail("tags not ascending within 0x01..0x7f", k->name);
		memcpy(T.names16[i], k->name, n);
		T.name_len[i] = (uint8_t)n;
		T.grp[k->tag >> 5] |= 1u << i;
		x[i] = key_word((const uint8_t *)T.names16[i], n, &a, &b);
		for (int j = 0; j < i; j++)
			if (x[j] == x[i])
				return tab_fail("two names with the same hash input", k->name);
	}
	return tab_hash(x);
}

static void
tab_init(void)
{
	T.ok = tab_build() == 0;
	__atomic_store_n(&tab_ready, 1, __ATOMIC_RELEASE);
}

int
tlv_registry_check(char *err, unsigned *slots)
{
	TAB_INIT();
	if (slots)
		*slots = T.ok ? 1u << (64 - T.shift) : 0;
	if (!T.ok) {
		snprintf(err, TLV_ERR_LEN, "%s", T.why);
		return -1;
	}
	return 0;
}

/* Registry index of a key with 16 readable bytes at key, or -1. */
static inline int
key_index16(const uint8_t *key, size_t len)
{
	uint64_t a, b, na, nb;

	if (len == 0 || len > TLV_NAME_MAX || !T.ok)
		return -1;
	int i = T.slot[(key_word(key, len, &a, &b) * T.mul) >> T.shift];
	if (i < 0)
		return -1;
	memcpy(&na, T.names16[i], 8);
	memcpy(&nb, T.names16[i] + 8, 8);
	return a == na && b == nb && len == T.name_len[i] ? i : -1;
}

static int
key_index(const char *name, size_t len)
{
	uint8_t k[16] = { 0 };

	if (len == 0 || len > TLV_NAME_MAX)
		return -1;
	memcpy(k, name, len);
	return key_index16(k, len);
}

const struct tlv_key *
tlv_lookup(const char *name, size_t len)
{
	TAB_INIT();
	int i = key_index(name, len);
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

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * UTF-8 (RFC 3629) of the live bytes of the 16-byte block v loaded at p
 * (live: bit i = byte i is part of the string).  *owed: bit i = byte i of
 * this block must be a continuation byte (a sequence begun before it);
 * on return, the same for the bytes after the live ones.  Returns 0 on
 * invalid UTF-8.  The classes as signed bytes: continuation 80..BF is
 * below -64, leads C2..DF, E0..EF, F0..F4; C0, C1 and F5..FF are never
 * valid.  Every continuation must be owed and every owed byte be one.
 * The first continuation after E0, ED, F0 and F4 has a narrower range
 * (no overlong, no surrogate, nothing above U+10FFFF): checked on the
 * bytes at p + 1, which the input's slack makes readable.
 */
static inline int
utf8_block(__m128i v, const uint8_t *p, unsigned live, unsigned nlive, unsigned *owed)
{
	const __m128i m64 = _mm_set1_epi8(-64), m63 = _mm_set1_epi8(-63),
	    m33 = _mm_set1_epi8(-33), m32 = _mm_set1_epi8(-32), m17 = _mm_set1_epi8(-17),
	    m16 = _mm_set1_epi8(-16), m11 = _mm_set1_epi8(-11);
	unsigned h = (unsigned)_mm_movemask_epi8(v) & live;
	unsigned cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, m64)) & live;
	unsigned l2 = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, m63),
	    _mm_cmplt_epi8(v, m32))) & live;
	unsigned l3 = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, m33),
	    _mm_cmplt_epi8(v, m16))) & live;
	unsigned l4 = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, m17),
	    _mm_cmplt_epi8(v, m11))) & live;
	uint32_t exp = *owed | (l2 | l3 | l4) << 1 | (l3 | l4) << 2 | l4 << 3;

	if (h != (cont | l2 | l3 | l4) || (exp & live) != cont)
		return 0;
	*owed = exp >> nlive;
	/* Not behind an "any 3- or 4-byte lead" branch: in French text some
	 * blocks have one and some not, and the mispredictions cost more
	 * than the dozen instructions (measured: 15% of moma-encode's time). */
	{
		__m128i n = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
		__m128i ge_a0 = _mm_cmpgt_epi8(n, _mm_set1_epi8(-97));		/* >= A0 */
		__m128i ge_90 = _mm_cmpgt_epi8(n, _mm_set1_epi8(-113));	/* >= 90 */
		__m128i bad = _mm_or_si128(
		    _mm_or_si128(_mm_andnot_si128(ge_a0, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xe0))),
			_mm_and_si128(ge_a0, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xed)))),
		    _mm_or_si128(_mm_andnot_si128(ge_90, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xf0))),
			_mm_and_si128(ge_90, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xf4)))));
		if ((unsigned)_mm_movemask_epi8(bad) & live)
			return 0;
	}
	return 1;
}

#endif

static size_t
utf8_valid_scalar(const uint8_t *s, size_t n)
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

/*
 * 16 bytes at a time while 17 are left (utf8_block reads one byte
 * further); the scalar loop does the tail, and on an invalid block
 * restarts at the last block boundary that was a sequence boundary, so
 * the result is the exact valid prefix.
 */
size_t
tlv_utf8_valid(const uint8_t *s, size_t n)
{
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	size_t i = 0, safe = 0;
	unsigned owed = 0;

	while (n - i >= 17) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		if ((_mm_movemask_epi8(v) | owed) && !utf8_block(v, s + i, 0xffffu, 16, &owed))
			break;
		i += 16;
		if (owed == 0)
			safe = i;
	}
	return safe + utf8_valid_scalar(s + safe, n - safe);
#else
	return utf8_valid_scalar(s, n);
#endif
}

/* ---- the writer ------------------------------------------------------------ */

static void
body_reset(struct tlv_body *b)
{
	b->seen = b->present = 0;
	b->len = 0;
}

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
			unsigned w = tlv_type_width[k->type];
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
	uint8_t *p = emit_items(b, bits & T.grp[0], dst);

	b->off_appearance = bits & T.grp[1] ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & T.grp[1], p);
	b->off_filter = bits & T.grp[2] ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & T.grp[2], p);
	b->off_addressee = bits & T.grp[3] ? (uint16_t)(p - dst) : TLV_NO_OFFSET;
	p = emit_items(b, bits & T.grp[3], p);
	b->len = (size_t)(p - dst);
}

void
tlv_body_start(struct tlv_body *b)
{
	TAB_INIT();
	body_reset(b);
}

void
tlv_body_emit(struct tlv_body *b)
{
	body_emit_to(b, b->buf);
}

/* ---- the one-pass fast path ------------------------------------------------ */

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Four hex digits at p, or -1. */
static inline int32_t
hex4(const uint8_t *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		uint8_t c = p[i], d;
		if ((uint8_t)(c - '0') <= 9)
			d = (uint8_t)(c - '0');
		else if ((uint8_t)((c | 0x20) - 'a') <= 5)
			d = (uint8_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The escape at p (p[0] is the backslash, p < end): its bytes written
 * at dst (4 writable bytes), *w their count.  Returns the byte after the
 * escape, or NULL to decline (a bad escape, \u0000, a lone surrogate,
 * or an escape cut by the end: errors that Jansson names).
 */
static inline const uint8_t *
fast_escape(const uint8_t *p, const uint8_t *end, uint8_t *dst, size_t *w)
{
	int32_t cp, lo;

	if (end - p < 2)
		return NULL;
	*w = 1;
	switch (p[1]) {
	case '"': case '\\': case '/': dst[0] = p[1]; return p + 2;
	case 'b': dst[0] = '\b'; return p + 2;
	case 'f': dst[0] = '\f'; return p + 2;
	case 'n': dst[0] = '\n'; return p + 2;
	case 'r': dst[0] = '\r'; return p + 2;
	case 't': dst[0] = '\t'; return p + 2;
	case 'u': break;
	default: return NULL;
	}
	if (end - p < 6 || (cp = hex4(p + 2)) <= 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return NULL;
	p += 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2)) < 0xdc00 ||
		    lo > 0xdfff)
			return NULL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	if (cp < 0x80) {
		dst[0] = (uint8_t)cp;
	} else if (cp < 0x800) {
		dst[0] = (uint8_t)(0xc0 | cp >> 6);
		dst[1] = (uint8_t)(0x80 | (cp & 0x3f));
		*w = 2;
	} else if (cp < 0x10000) {
		dst[0] = (uint8_t)(0xe0 | cp >> 12);
		dst[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		dst[2] = (uint8_t)(0x80 | (cp & 0x3f));
		*w = 3;
	} else {
		dst[0] = (uint8_t)(0xf0 | cp >> 18);
		dst[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		dst[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		dst[3] = (uint8_t)(0x80 | (cp & 0x3f));
		*w = 4;
	}
	return p;
}

/*
 * A string value whose first byte is at p: valid UTF-8, any JSON escape,
 * at most cap bytes once unescaped.  Copies it to dst (cap + 16 writable
 * bytes) and returns the byte after the closing quote, or NULL to
 * decline.  One pass, 16 bytes at a time: the block is stored as it is,
 * and the bytes before the first quote, backslash or control character
 * are taken; the UTF-8 check runs on them when any is >= 0x80 or a
 * sequence is still open.  An escape (ASCII) never sits inside a raw
 * sequence, and its own bytes are valid UTF-8 by construction.
 */
static const uint8_t *
fast_string(const uint8_t *p, const uint8_t *end, uint8_t *dst, size_t cap, size_t *n)
{
	const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
	    c1f = _mm_set1_epi8(0x1f);
	size_t o = 0;
	unsigned owed = 0;	/* continuation bytes owed by the last sequence */

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
		if (((h & live) | owed) && !utf8_block(v, p, live, k, &owed))
			return NULL;
		o += k;
		p += k;
		if (m == 0)
			continue;
		if (p >= end || owed)
			return NULL;
		if (*p == '"')
			break;
		size_t w;
		if (*p != '\\' || o >= cap || (p = fast_escape(p, end, dst + o, &w)) == NULL)
			return NULL;
		o += w;
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

/* The value of key i at p (p < end); returns the byte after it, or NULL
 * to decline. */
static inline const uint8_t *
fast_value(const uint8_t *p, const uint8_t *end, struct tlv_body *b, int i)
{
	uint8_t t = tlv_registry[i].type, c = *p;

	if (c == '"') {
		size_t n;
		if (t != TLV_TYPE_TEXT && t != TLV_TYPE_LANG)
			return NULL;
		if ((p = fast_string(p + 1, end, b->text[i], TLV_TEXT_MAX, &n)) == NULL)
			return NULL;
		if (t == TLV_TYPE_LANG && (n != 3 ||
		    (uint8_t)(b->text[i][0] - 'a') > 25 || (uint8_t)(b->text[i][1] - 'a') > 25 ||
		    (uint8_t)(b->text[i][2] - 'a') > 25))
			return NULL;
		b->tlen[i] = (uint8_t)n;
		b->present |= 1u << i;
	} else if ((uint8_t)(c - '0') <= 9) {
		uint64_t x = 0;
		const uint8_t *d = p;
		if (t == TLV_TYPE_TEXT || t == TLV_TYPE_BOOL || t == TLV_TYPE_LANG)
			return NULL;
		/* At most ten digits: no overflow of x, and 2^32 - 1 has ten. */
		while (p < end && (uint8_t)(*p - '0') <= 9 && p - d < 11)
			x = x * 10 + (uint64_t)(*p++ - '0');
		if (p - d > 10 || (c == '0' && p - d > 1) || x > tlv_type_max[t] ||
		    (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
			return NULL;
		b->ival[i] = x;
		b->present |= 1u << i;
	} else if (c == 't' || c == 'f') {
		int v1 = c == 't';
		size_t w = v1 ? 4 : 5;
		if (t != TLV_TYPE_BOOL || (size_t)(end - p) < w ||
		    memcmp(p, v1 ? "true" : "false", w) != 0)
			return NULL;
		p += w;
		b->ival[i] = (uint64_t)v1;
		b->present |= 1u << i;
	} else if (c == 'n') {
		if ((size_t)(end - p) < 4 || memcmp(p, "null", 4) != 0)
			return NULL;
		p += 4;
	} else {
		return NULL;
	}
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
		int i = key_index16(p, klen);
		if (i < 0 || (b->seen >> i & 1) || p + klen >= end)
			return 0;
		b->seen |= 1u << i;
		p = fast_spaces(p + klen + 1, end);
		if (p >= end || *p != ':')
			return 0;
		p = fast_spaces(p + 1, end);
		if (p >= end || (p = fast_value(p, end, b, i)) == NULL)
			return 0;
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
	TAB_INIT();
	if (!scan_fast(json, len, b))
		return 0;
	tlv_body_emit(b);
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
	TAB_INIT();
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
