/*
 * tlvscan.h - the fast storables scanner's body, included twice by
 * tlv.c: SCAN_SUFFIX names the copy (its functions end in _SUFFIX),
 * SCAN_WIDE 1 makes it load 32 bytes at a time with AVX2 (SCAN_TARGET
 * the attribute that allows it), 0 16 bytes with SSE2.  Both take and
 * decline the same inputs with the same bodies (the unit tests and the
 * fuzzer run both).  Nothing else includes this file.
 *
 * What the scanner's time goes to is the chain from one key to the next:
 * each position is known only once the bytes before it are.  So one
 * load gives several masks at once: a key's window, its closing quote,
 * the ':' and the space after it; a string's window, its end, and the
 * ',' and space that lead to the next key.  A step reads the next
 * position off the masks instead of loading the byte there.
 */
#define SCAN_CAT2_(a, b) a##_##b
#define SCAN_CAT_(a, b) SCAN_CAT2_(a, b)
#define SCAN_NAME(n) SCAN_CAT_(n, SCAN_SUFFIX)

/* The masks of a 64-byte window at p: bit i for byte p[i]. */
struct SCAN_NAME(win) {
	uint64_t special;	/* '"', '\\' or a control character: ends a run of string bytes */
	uint64_t comma, space;
};

SCAN_TARGET static inline void
SCAN_NAME(window)(const uint8_t *p, struct SCAN_NAME(win) *w)
{
#if SCAN_WIDE
	const __m256i quote = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\'),
	    c1f = _mm256_set1_epi8(0x1f), comma = _mm256_set1_epi8(','),
	    space = _mm256_set1_epi8(' ');
	__m256i v0 = LOAD256(p), v1 = LOAD256(p + 32);
#define SPECIAL32_(v) (uint32_t)_mm256_movemask_epi8(_mm256_or_si256( \
	    _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, bsl)), \
	    _mm256_cmpeq_epi8(_mm256_max_epu8(v, c1f), c1f)))
#define EQ32_(v, c) (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, c))
	w->special = (uint64_t)SPECIAL32_(v1) << 32 | SPECIAL32_(v0);
	w->comma = (uint64_t)EQ32_(v1, comma) << 32 | EQ32_(v0, comma);
	w->space = (uint64_t)EQ32_(v1, space) << 32 | EQ32_(v0, space);
#undef SPECIAL32_
#undef EQ32_
#else
	const __m128i comma = _mm_set1_epi8(','), space = _mm_set1_epi8(' ');
	w->special = w->comma = w->space = 0;
#define WIN16_(k) do { \
	__m128i v = LOAD128(p + 16 * (k)); \
	w->special |= (uint64_t)jsonmask_stop16(v) << (16 * (k)); \
	w->comma |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << (16 * (k)); \
	w->space |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space)) << (16 * (k)); \
	} while (0)
	WIN16_(0);
	WIN16_(1);
	WIN16_(2);
	WIN16_(3);
#undef WIN16_
#endif
}

/*
 * The rest of a string from q, the first special byte after the run of
 * plain bytes [s, q) (q < end): unescaped into dst (cap + 16 writable
 * bytes), at most cap bytes.  Returns the byte after the closing quote
 * with *n set, or NULL to decline.  The raw bytes are already known to be
 * valid UTF-8.
 */
SCAN_TARGET static const uint8_t *
SCAN_NAME(string_esc)(const uint8_t *s, const uint8_t *q, const uint8_t *end, uint8_t *dst,
    size_t cap, size_t *n)
{
	struct SCAN_NAME(win) w;
	size_t o = (size_t)(q - s), k;

	for (size_t j = 0; j < o; j += 16)
		memcpy(dst + j, s + j, 16);
	for (const uint8_t *p = q;;) {
		/* p: a special byte */
		if (*p == '"') {
			*n = o;
			return p + 1;
		}
		size_t e;
		if (*p != '\\' || o >= cap || (p = fast_escape(p, end, dst + o, &e)) == NULL)
			return NULL;
		o += e;
		do {	/* the plain bytes after it, 64 at a time */
			SCAN_NAME(window)(p, &w);
			k = w.special ? (size_t)__builtin_ctzll(w.special) : 64;
			if (o + k > cap || p + k >= end)
				return NULL;
			for (size_t j = 0; j < k; j += 16)
				memcpy(dst + o + j, p + j, 16);
			o += k;
			p += k;
		} while (k == 64);
	}
}

/*
 * A string value whose first byte is at s (s <= end), for key i.  One
 * without escape is not copied: the body writer takes its bytes from the
 * input.  Returns the byte after the closing quote, or NULL to decline;
 * *next is the next key's opening quote when ", " or "," follows in the
 * window, else NULL.
 */
SCAN_TARGET static inline const uint8_t *
SCAN_NAME(string)(const uint8_t *s, const uint8_t *end, struct tlv_body *b, int i,
    const uint8_t **next)
{
	struct SCAN_NAME(win) w;
	const uint8_t *p = s;

	*next = NULL;
	SCAN_NAME(window)(p, &w);
	while (w.special == 0) {	/* a run of 64 plain bytes */
		p += 64;
		if (p - s > TLV_TEXT_MAX || p >= end)
			return NULL;
		SCAN_NAME(window)(p, &w);
	}
	size_t k = (size_t)__builtin_ctzll(w.special);
	const uint8_t *q = p + k;
	if (q >= end)
		return NULL;
	if (*q != '"') {
		size_t n = 0;
		q = SCAN_NAME(string_esc)(s, q, end, b->text[i], TLV_TEXT_MAX, &n);
		tlv_item_text(b, i, b->text[i], n);
		return q;
	}
	if (q - s > TLV_TEXT_MAX)
		return NULL;
	tlv_item_text(b, i, s, (size_t)(q - s));
	if (k < 61 && (w.comma >> (k + 1) & 1))
		*next = q + 2 + (w.space >> (k + 2) & 1);
	return q + 1;
}

/*
 * The value of key i at p (p < end); returns the byte after it, or NULL
 * to decline; *next as for a string (numbers too).
 */
SCAN_TARGET static inline const uint8_t *
SCAN_NAME(value)(const uint8_t *p, const uint8_t *end, struct tlv_body *b, int i,
    const uint8_t **next)
{
	uint8_t t = tlv_registry[i].type, c = *p;

	*next = NULL;
	if (c == '"') {
		if (t != TLV_TYPE_TEXT && t != TLV_TYPE_LANG)
			return NULL;
		if ((p = SCAN_NAME(string)(p + 1, end, b, i, next)) == NULL)
			return NULL;
		const uint8_t *s = b->tptr[i];
		if (t == TLV_TYPE_LANG && (b->tlen[i] != 3 || (uint8_t)(s[0] - 'a') > 25 ||
		    (uint8_t)(s[1] - 'a') > 25 || (uint8_t)(s[2] - 'a') > 25))
			return NULL;
	} else if ((uint8_t)(c - '0') <= 9) {
		uint64_t x;
		unsigned cm, sm;
		if (t == TLV_TYPE_TEXT || t == TLV_TYPE_BOOL || t == TLV_TYPE_LANG)
			return NULL;
		size_t k = fast_digits(p, &x, &cm, &sm);
		if (k > 10 || (c == '0' && k > 1) || x > tlv_type_max[t] || p + k >= end ||
		    p[k] == '.' || p[k] == 'e' || p[k] == 'E')
			return NULL;
		if (cm >> k & 1)
			*next = p + k + 1 + (sm >> (k + 1) & 1);
		p += k;
		tlv_item_number(b, i, x);
	} else if (c == 't' || c == 'f') {
		int v1 = c == 't';
		size_t w = v1 ? 4 : 5;
		if (t != TLV_TYPE_BOOL || (size_t)(end - p) < w ||
		    memcmp(p, v1 ? "true" : "false", w) != 0)
			return NULL;
		p += w;
		tlv_item_number(b, i, (uint64_t)v1);
	} else if (c == 'n') {
		if ((size_t)(end - p) < 4 || memcmp(p, "null", 4) != 0)
			return NULL;
		p += 4;
	} else {
		return NULL;
	}
	return p;
}

/*
 * The object: UTF-8 checked whole first, then one key and value at a
 * time.  Reads past p are safe while p < end (the input's slack); every
 * step that can move p past end is followed by a test of it.
 */
SCAN_TARGET static int
SCAN_NAME(scan)(const uint8_t *json, size_t len, struct tlv_body *b)
{
	const uint8_t *p = json, *end = json + len, *next;

	body_reset(b);
#if SCAN_WIDE
	if (len < 2 || *p++ != '{' || !utf8_valid32(json, len, 1))
#else
	if (len < 2 || *p++ != '{' || tlv_utf8_valid(json, len) != len)
#endif
		return 0;
	FAST_SPACE(p);
	if (*p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		/* The key from its opening quote at p: the closing quote, ':'
		 * and an optional space from one 32-byte window.  Its bytes
		 * must equal a registry name (which has no byte a JSON string
		 * escapes). */
		unsigned qm, km, sm;
		if (p >= end)
			return 0;
#if SCAN_WIDE
		__m256i v = LOAD256(p);
		qm = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')));
		km = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(':')));
		sm = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(' ')));
#else
		__m128i v0 = LOAD128(p), v1 = LOAD128(p + 16), qv = _mm_set1_epi8('"'),
		    kv = _mm_set1_epi8(':'), sv = _mm_set1_epi8(' ');
		qm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, qv)) |
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, qv)) << 16;
		km = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, kv)) |
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, kv)) << 16;
		sm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, sv)) |
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, sv)) << 16;
#endif
		/* "name" at 0..klen+1, ':' at klen+2: klen <= 15 keeps them,
		 * and the space at klen+3, in the window. */
		size_t klen = (size_t)__builtin_ctz((qm & ~1u) | 1u << 17) - 1;
		int i = key_index16(p + 1, klen);
		if (!(qm & 1) || i < 0 || (b->seen >> i & 1) || !(km >> (klen + 2) & 1) ||
		    p + klen + 2 >= end)
			return 0;
		b->seen |= 1u << i;
		p += klen + 3 + (sm >> (klen + 3) & 1);
		if (p >= end || (p = SCAN_NAME(value)(p, end, b, i, &next)) == NULL)
			return 0;
		if (next) {
			p = next;
			continue;
		}
		/* The last value, or a layout the masks did not cover. */
		FAST_SPACE(p);
		if (*p == ',') {
			p++;
			FAST_SPACE(p);
			continue;
		}
		if (*p == '}') {
			p++;
			break;
		}
		return 0;
	}
done:
	return p == end;
}

#undef SCAN_NAME
#undef SCAN_CAT_
#undef SCAN_CAT2_
