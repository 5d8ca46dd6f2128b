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
 * other (the build has no link-time optimisation).  The one call from
 * outside, tlv_scan_fast_to, comes from tlvjson.c's tlv_from_json_into,
 * which falls back to Jansson: this file calls nothing of tlvjson.c.
 */
#include "tlv.h"
#include "jsonmask.h"
#include "tlvint.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#include <immintrin.h>	/* AVX2, under target attributes only */
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
	uint64_t kmask[17][2];		/* a key of n bytes: its two words' masks */
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

/* The hash input of a key of len (<= 16) bytes with 16 readable at key;
 * *a and *b are its two masked words.  The masks come from a table (the
 * scanner calls this for every key: no branch on the length). */
static inline uint64_t
key_word(const uint8_t *key, size_t len, uint64_t *a, uint64_t *b)
{
	memcpy(a, key, 8);
	memcpy(b, key + 8, 8);
	*a &= T.kmask[len][0];
	*b &= T.kmask[len][1];
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

	for (size_t n = 0; n <= 16; n++) {
		T.kmask[n][0] = first_bytes(n);
		T.kmask[n][1] = n > 8 ? first_bytes(n - 8) : 0;
	}
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

/* What the CPU has, for the fast scanner; want_avx2: tlv_scan_wide. */
__attribute__((unused)) static int have_avx2, want_avx2 = 1;

static void
tab_init(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi");
#endif
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

const uint8_t tlv_zeros[64];

/*
 * The items of b->present in tag order at dst (TLV_BODY_MAX + 16 bytes);
 * sets b->len and the group offsets.  Every item is its header, then its
 * bytes, whatever its type: no branch on the type, and the first 64
 * bytes copied whatever the length (most texts are shorter).  What is
 * written past an item's end is overwritten by the next one or lands in
 * the slack.  Whole 16-byte blocks: GCC otherwise inlines the copy as
 * rep movsq, whose start-up cost made it a fifth of the encoder's time.
 */
static void
body_emit_to(struct tlv_body *b, uint8_t *dst)
{
	uint16_t at[TLV_NKEYS + 1];	/* + "no item": the index 32 of an empty group */
	uint8_t *p = dst;

	at[TLV_NKEYS] = TLV_NO_OFFSET;
	for (uint32_t bits = b->present; bits; bits &= bits - 1) {
		int i = __builtin_ctz(bits);
		const uint8_t *s = b->tptr[i];
		unsigned n = b->tlen[i], h = b->hlen[i];
		at[i] = (uint16_t)(p - dst);
		memcpy(p, b->hdr[i], 8);
		memcpy(p + h, s, 16);
		memcpy(p + h + 16, s + 16, 16);
		memcpy(p + h + 32, s + 32, 16);
		memcpy(p + h + 48, s + 48, 16);
		for (unsigned j = 64; j < n; j += 16)
			memcpy(p + h + j, s + j, 16);
		p += h + n;
	}
	/* A group's first item, TLV_NKEYS (no item) when it is empty. */
#define FIRST_(g) at[__builtin_ctzll((uint64_t)(b->present & T.grp[g]) | 1ull << TLV_NKEYS)]
	b->off_appearance = FIRST_(1);
	b->off_filter = FIRST_(2);
	b->off_addressee = FIRST_(3);
#undef FIRST_
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
/*
 * Whole-object UTF-8 check by table lookups, with AVX2 (the method of
 * Keiser and Lemire, "Validating UTF-8 in less than one instruction per
 * byte", 2021; without AVX2 the SSE2 scanner uses tlv_utf8_valid): each byte and the one before it are classified by three
 * 16-entry tables (high nibble of the first, low nibble of the first,
 * high nibble of the second) whose AND is nonzero exactly where the pair
 * is an error: too short, too long, overlong, surrogate, above U+10FFFF,
 * or two continuations.  The second and third bytes after a 3- or 4-byte
 * lead must be continuations, which cancels the "two continuations" bit
 * there.  The tail block is masked to zeros and one zero block follows,
 * so a sequence cut by the end is an error too.  No branch on the data.
 * Checking the object whole is the same as checking each of its strings:
 * the bytes between strings are ASCII in any object the scanner takes,
 * and a quote is never inside a sequence.
 */
#define U8_TOO_SHORT	0x01
#define U8_TOO_LONG	0x02
#define U8_OVERLONG_3	0x04
#define U8_TOO_LARGE	0x08
#define U8_SURROGATE	0x10
#define U8_OVERLONG_2	0x20
#define U8_TOO_LARGE_1000 0x40
#define U8_OVERLONG_4	0x40
#define U8_TWO_CONTS	0x80
#define U8_CARRY	(U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS)
#define U8_LARGE	(U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000)
#define U8_CONT		(U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS)
static const uint8_t u8_t1h[16] = {
	U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
	U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
	U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
	U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT,
	U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
	U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
}, u8_t1l[16] = {
	U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, U8_CARRY | U8_OVERLONG_2,
	U8_CARRY, U8_CARRY, U8_CARRY | U8_TOO_LARGE, U8_LARGE, U8_LARGE, U8_LARGE,
	U8_LARGE, U8_LARGE, U8_LARGE, U8_LARGE, U8_LARGE, U8_LARGE | U8_SURROGATE,
	U8_LARGE, U8_LARGE,
}, u8_t2h[16] = {
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
	U8_CONT | U8_OVERLONG_3 | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
	U8_CONT | U8_OVERLONG_3 | U8_TOO_LARGE,
	U8_CONT | U8_SURROGATE | U8_TOO_LARGE, U8_CONT | U8_SURROGATE | U8_TOO_LARGE,
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
};
/* n bytes kept of a block: a load at keep + 32 - n (n <= 32). */
static const uint8_t keep[64] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* The error bits of the 32-byte block in after prev. */
__attribute__((target("avx2"))) static inline __m256i
u8_block32(__m256i in, __m256i prev)
{
	const __m256i lo4 = _mm256_set1_epi8(0x0f);
	__m256i pp = _mm256_permute2x128_si256(prev, in, 0x21);	/* prev high, in low */
	__m256i prev1 = _mm256_alignr_epi8(in, pp, 15);
	__m256i sc = _mm256_and_si256(_mm256_and_si256(
	    _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(LOAD128(u8_t1h)),
		_mm256_and_si256(_mm256_srli_epi16(prev1, 4), lo4)),
	    _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(LOAD128(u8_t1l)),
		_mm256_and_si256(prev1, lo4))),
	    _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(LOAD128(u8_t2h)),
		_mm256_and_si256(_mm256_srli_epi16(in, 4), lo4)));
	__m256i third = _mm256_subs_epu8(_mm256_alignr_epi8(in, pp, 14),
	    _mm256_set1_epi8(0xe0 - 0x80));
	__m256i fourth = _mm256_subs_epu8(_mm256_alignr_epi8(in, pp, 13),
	    _mm256_set1_epi8(0xf0 - 0x80));
	__m256i must = _mm256_and_si256(_mm256_or_si256(third, fourth),
	    _mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(must, sc);
}

__attribute__((target("avx2"))) static inline int
utf8_valid32(const uint8_t *s, size_t n, int slack)
{
	__m256i prev = _mm256_setzero_si256(), err = _mm256_setzero_si256();
	uint8_t tail[32];
	size_t i = 0;

	for (; n - i >= 32; i += 32) {
		__m256i in = LOAD256(s + i);
		err = _mm256_or_si256(err, u8_block32(in, prev));
		prev = in;
	}
	const uint8_t *t = s + i;
	if (!slack) {
		memcpy(tail, t, n - i);
		t = tail;
	}
	__m256i in = _mm256_and_si256(LOAD256(t), LOAD256(keep + 32 - (n - i)));
	err = _mm256_or_si256(err, u8_block32(in, prev));
	err = _mm256_or_si256(err, u8_block32(_mm256_setzero_si256(), in));
	return _mm256_testz_si256(err, err);
}

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
static const uint8_t *
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
 * Ten or fewer decimal digits at p (16 readable bytes), the first one a
 * digit: *x their value; returns their count (more than 10: 11).  The
 * digits are found by one compare of 16 bytes and converted eight at a
 * time by multiplications (SWAR), without a branch per digit.  *cm and
 * *sm: the ',' and ' ' among the 16 bytes (bit i for p[i]).
 */
static inline size_t
fast_digits(const uint8_t *p, uint64_t *x, unsigned *cm, unsigned *sm)
{
	__m128i v = LOAD128(p), d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	unsigned dm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_max_epu8(d, _mm_set1_epi8(9)), _mm_set1_epi8(9)));
	size_t k = (size_t)__builtin_ctz(~dm);
	uint64_t w, hi = 0;

	*cm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
	*sm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
	if (k > 10)
		return 11;
	if (k > 8) {
		hi = k == 10 ? (uint64_t)(p[0] - '0') * 10 + (uint64_t)(p[1] - '0') :
		    (uint64_t)(p[0] - '0');
		p += k - 8;
	}
	memcpy(&w, p, 8);
	/* The digits in the low k bytes, first digit lowest; shifted up so
	 * that the missing leading ones are zeros. */
	if (k < 8)
		w <<= 8 * (8 - k);
	w &= 0x0f0f0f0f0f0f0f0full;
	w = (w * 10 + (w >> 8)) & 0x00ff00ff00ff00ffull;
	w = (w * 100 + (w >> 16)) & 0x0000ffff0000ffffull;
	w = (w * 10000 + (w >> 32)) & 0xffffffffull;
	*x = hi * 100000000u + w;
	return k;
}

/* Skip the one space jsonb's text form writes after ':' and ','. */
#define FAST_SPACE(p) ((p) += *(p) == ' ')

/* The scanner twice (tlvscan.h): for any x86-64 (SSE2; the UTF-8 check
 * is tlv_utf8_valid's) and for AVX2, 32 bytes at a time. */

__attribute__((target("avx2"))) static int
utf8_ok32(const uint8_t *s, size_t n)
{
	return utf8_valid32(s, n, 0);
}

#define SCAN_SUFFIX	sse2
#define SCAN_WIDE	0
#define SCAN_TARGET
#include "tlvscan.h"
#undef SCAN_SUFFIX
#undef SCAN_WIDE
#undef SCAN_TARGET
#define SCAN_SUFFIX	avx2
#define SCAN_WIDE	1
#define SCAN_TARGET	__attribute__((target("avx2,bmi")))
#include "tlvscan.h"

static inline int
scan_fast(const uint8_t *json, size_t len, struct tlv_body *b)
{
	if (have_avx2 && want_avx2)
		return scan_avx2(json, len, b);
	return scan_sse2(json, len, b);
}
#else
static int
scan_fast(const uint8_t *json, size_t len, struct tlv_body *b)
{
	return 0;
}
#endif

int
tlv_utf8_ok(const uint8_t *s, size_t n)
{
	TAB_INIT();
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (have_avx2 && want_avx2)
		return utf8_ok32(s, n);
#endif
	return tlv_utf8_valid(s, n) == n;
}

int
tlv_scan_wide(int on)
{
	TAB_INIT();
	want_avx2 = on;
	return have_avx2 && want_avx2;
}

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
tlv_scan_fast_to(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst)
{
	TAB_INIT();
	if (!scan_fast(json, len, b))
		return 0;
	body_emit_to(b, dst);
	return 1;
}
