/*
 * storables.c - a message's storables as Jansson's json_dumps(JSON_COMPACT)
 * would write them, without Jansson, when they are of the plain shape
 * moma-encode and PostgreSQL's jsonb output produce (storables_json).
 * Anything else is declined and moma-dump asks Jansson; the fuzz target
 * tests/fuzz/fuzz_dump_storables.c holds every answer to Jansson's bytes.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "moma-dump.h"

#include "jsonmask.h"
#include "tlv.h"

#define MAX_KEYS 32

/* Past JSON whitespace.  Most calls find none: one comparison then. */
static inline const uint8_t *
json_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}


/*
 * The first quote, backslash or control character at or after q (end if
 * none), in the text that starts at lo.  16 bytes at a time; the last
 * under 16 with one load that ends at end and starts before q, when the
 * text is that long, rather than byte by byte: most strings of a
 * message are shorter than 16 bytes.
 */
static inline const uint8_t *
string_stop(const uint8_t *lo, const uint8_t *q, const uint8_t *end)
{
#if defined(__SSE2__)
	while (end - q >= 16) {
		unsigned m = jsonmask_stop16(_mm_loadu_si128((const __m128i *)(const void *)q));
		if (m)
			return q + __builtin_ctz(m);
		q += 16;
	}
	if (q < end && end - lo >= 16) {
		unsigned m = jsonmask_stop16(_mm_loadu_si128((const __m128i *)(const void *)(end - 16)));
		m >>= 16 - (end - q);
		return m ? q + __builtin_ctz(m) : end;
	}
#endif
	while (q < end && *q != '"' && *q != '\\' && *q >= 0x20)
		q++;
	return q;
}

/*
 * The string at p (its opening quote) copied to o as Jansson writes it
 * again, when it is valid UTF-8 with no control character and no escape
 * but the one-letter ones (kept as they are, except \/ which Jansson
 * writes as /).  Returns the byte after its closing quote with *w the
 * bytes written (at most the input's), or NULL for anything else (\u
 * escapes included: Jansson decides those).  utf8: the whole text lo..end
 * is known valid UTF-8, so is every run between ASCII bytes, unchecked.
 */
static const uint8_t *
copy_string(const uint8_t *lo, const uint8_t *p, const uint8_t *end, int utf8, char *o, size_t *w)
{
	const uint8_t *q = ++p;
	char *o0 = o;

	*o++ = '"';
	for (;;) {
		q = string_stop(lo, q, end);
		if (q >= end || *q < 0x20 ||
		    (!utf8 && tlv_utf8_valid(p, (size_t)(q - p)) != (size_t)(q - p)))
			return NULL;
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		if (*q == '"')
			break;
		if (end - q < 2 || strchr("\"\\/bfnrt", q[1]) == NULL || q[1] == '\0')
			return NULL;
		if (q[1] != '/')
			*o++ = '\\';
		*o++ = (char)q[1];
		p = q += 2;
	}
	*o++ = '"';
	*w = (size_t)(o - o0);
	return q + 1;
}

/* An integer Jansson keeps as written (no "-0", at most 18 digits, no
 * fraction or exponent) or a literal, at p < end; returns the byte after
 * it, or NULL. */
static const uint8_t *
plain_value(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *d;

	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		d = p + (*p == '-');
		if (d >= end || *d < '0' || *d > '9' ||
		    (*d == '0' && (p != d || (d + 1 < end && d[1] >= '0' && d[1] <= '9'))))
			return NULL;
		const uint8_t *q = d;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q - d > 18 || (q < end && (*q == '.' || *q == 'e' || *q == 'E')))
			return NULL;
		return q;
	}
	/* each literal by its first letter, compared at a known length */
	if (*p == 't' && end - p >= 4 && memcmp(p, "true", 4) == 0)
		return p + 4;
	if (*p == 'f' && end - p >= 5 && memcmp(p, "false", 5) == 0)
		return p + 5;
	if (*p == 'n' && end - p >= 4 && memcmp(p, "null", 4) == 0)
		return p + 4;
	return NULL;
}

/* Whether the n bytes at a and b are equal: keys are short, and most
 * differ in their first bytes, where a call of memcmp costs more than
 * the comparison. */
static inline int
same_key(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i == n;
}

/*
 * s[0..n) written compactly to dst (room for n + 2 bytes) as Jansson's
 * json_dumps (JSON_COMPACT) writes it, when it is of the plain shape: an
 * object of at most 32 different keys whose keys and strings have no
 * escape but the one-letter ones and whose values are strings, integers,
 * true, false or null.  Its compact form is then the input without its
 * whitespace (and \/ written /).  utf8: s is known valid UTF-8 (as
 * copy_string).  Returns the bytes written, or -1.
 */
static long
storables_compact(const uint8_t *s, size_t n, int utf8, char *dst)
{
	const uint8_t *p = json_ws(s, s + n), *end = s + n;
	size_t key[MAX_KEYS], klen[MAX_KEYS], nk = 0, len = 0;	/* keys: offsets in dst */

	if (p >= end || *p != '{')
		return -1;
	dst[len++] = '{';
	p = json_ws(p + 1, end);
	if (p < end && *p == '}')
		goto close;
	for (;;) {
		const uint8_t *q;
		size_t w;
		char *k = dst + len;
		if (p >= end || *p != '"' || nk == MAX_KEYS || (q = copy_string(s, p, end, utf8, k, &w)) == NULL)
			return -1;
		/* duplicates compared as written back: one-letter escapes are
		 * canonical already, so equal keys are equal bytes */
		key[nk] = len;
		klen[nk] = w;
		for (size_t i = 0; i < nk; i++)
			if (klen[i] == w && same_key((const uint8_t *)dst + key[i], (const uint8_t *)k, w))
				return -1;
		nk++;
		len += w;
		p = json_ws(q, end);
		if (p >= end || *p != ':')
			return -1;
		dst[len++] = ':';
		p = json_ws(p + 1, end);
		if (p < end && *p == '"') {
			if ((q = copy_string(s, p, end, utf8, dst + len, &w)) == NULL)
				return -1;
			len += w;
		} else {
			if (p >= end || (q = plain_value(p, end)) == NULL)
				return -1;
			memcpy(dst + len, p, (size_t)(q - p));
			len += (size_t)(q - p);
		}
		p = json_ws(q, end);
		if (p < end && *p == ',') {
			dst[len++] = ',';
			p = json_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
close:
	if (json_ws(p + 1, end) != end)
		return -1;
	dst[len++] = '}';
	return (long)len;
}

/*
 * The string at p (its opening quote), when it is one storables_compact
 * keeps byte for byte: no control character, no escape but the
 * one-letter ones other than \/ (UTF-8 is the caller's check).  Returns
 * the byte after its closing quote, or NULL.
 */
static inline const uint8_t *
kept_string(const uint8_t *lo, const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p + 1;

	for (;;) {
		q = string_stop(lo, q, end);
		if (q >= end)
			return NULL;
		if (*q == '"')
			return q + 1;
		if (*q != '\\' || end - q < 2)
			return NULL;
		switch (q[1]) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
			q += 2;
			break;
		default:
			return NULL;
		}
	}
}

/*
 * Whether storables_compact would write s[0..n) (valid UTF-8: the
 * caller's check) back unchanged: the plain shape with no whitespace
 * between tokens and no \/, as moma-dump -r and the encoder's tests write it.
 * Then checking is all there is to do.  (PostgreSQL's jsonb text has a
 * space after each colon and comma: storables_compact's.)
 */
static int
storables_kept(const uint8_t *s, size_t n)
{
	const uint8_t *p = s + 1, *end = s + n;
	const uint8_t *key[MAX_KEYS];
	size_t klen[MAX_KEYS], nk = 0;

	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return 0;
	if (*p == '}')
		return p + 1 == end;
	for (;;) {
		const uint8_t *k = p + 1;
		if (*p != '"' || nk == MAX_KEYS || (p = kept_string(s, p, end)) == NULL)
			return 0;
		size_t w = (size_t)(p - 1 - k);
		for (size_t i = 0; i < nk; i++)
			if (klen[i] == w && same_key(key[i], k, w))
				return 0;
		key[nk] = k;
		klen[nk++] = w;
		if (p >= end || *p != ':' || ++p >= end)
			return 0;
		if (*p == '"')
			p = kept_string(s, p, end);
		else
			p = plain_value(p, end);
		if (p == NULL || p >= end)
			return 0;
		if (*p == '}')
			return p + 1 == end;
		if (*p != ',' || ++p >= end)
			return 0;
	}
}

/* The UTF-8 check is made once over the whole text, by tlv_utf8_ok (the
 * strings of valid text are valid: they are delimited by ASCII bytes);
 * only text that fails it is checked string by string, for Jansson's
 * verdict on where it fails. */
long
storables_json(const uint8_t *s, size_t n, char *dst)
{
	int utf8 = tlv_utf8_ok(s, n);

	if (utf8 && storables_kept(s, n)) {
		memcpy(dst, s, n);
		return (long)n;
	}
	return storables_compact(s, n, utf8, dst);
}
