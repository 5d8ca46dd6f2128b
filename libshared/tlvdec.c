/*
 * tlvdec.c - a TLV body back out: check it item by item (tlv_validate)
 * and render it as a JSON object (tlv_to_json), for moma-dump.
 */
#include "tlv.h"
#include "jsonmask.h"
#include "tlvint.h"

#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
		} else if (l != tlv_type_width[k->type] ||
		    (k->type == TLV_TYPE_BOOL && v[0] > 1)) {
			snprintf(err, TLV_ERR_LEN, "body byte %zu: tag 0x%02x bad value length %u", o, tag, l);
			return -1;
		}
		o += 2u + l;
	}
	return 0;
}

/* The first byte at or after i of s[0..n) that a JSON string cannot hold
 * as it is whatever follows: a quote, a backslash or a control character
 * (n if none), 16 bytes at a time; *high set if a byte before it is
 * 0x80 or above (else the run needs no UTF-8 check). */
static size_t
json_stop(const uint8_t *s, size_t i, size_t n, int *high)
{
	unsigned h = 0;
#if defined(__SSE2__)
	while (n - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned m = jsonmask_stop16(v);
		unsigned hb = (unsigned)_mm_movemask_epi8(v);
		if (m) {
			*high = (h | (hb & ((m & -m) - 1))) != 0;
			return i + (size_t)__builtin_ctz(m);
		}
		h |= hb;
		i += 16;
	}
#endif
	while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20)
		h |= s[i++] & 0x80;
	*high = h != 0;
	return i;
}

/*
 * A run of bytes without quote, backslash or control character at a
 * time: its valid UTF-8 prefix goes out as it is, in one copy (a byte at
 * a time, with a UTF-8 check for each character, was three quarters of
 * a section dump's time), and a byte that starts no valid sequence as
 * \u00XX, one by one as before.
 */
long
tlv_json_string(const uint8_t *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

	if (cap < 1)
		return -1;
	out[o++] = '"';
	while (i < n) {
		int high;
		size_t e = json_stop(s, i, n, &high);
		if (!high) {
			if (e - i > cap - o)
				return -1;
			memcpy(out + o, s + i, e - i);
			o += e - i;
			i = e;
		}
		while (i < e) {
			size_t v = tlv_utf8_valid(s + i, e - i);
			if (v > cap - o)
				return -1;
			memcpy(out + o, s + i, v);
			o += v;
			i += v;
			if (i < e) {
				if (cap - o < 6)
					return -1;
				memcpy(out + o, "\\u00", 4);
				out[o + 4] = hex[s[i] >> 4];
				out[o + 5] = hex[s[i] & 15];
				o += 6;
				i++;
			}
		}
		if (i == n)
			break;
		uint8_t c = s[i++];
		char e2 = c == '"' || c == '\\' ? (char)c : c == '\n' ? 'n' : c == '\t' ? 't' :
		    c == '\r' ? 'r' : 0;
		if (e2) {
			if (cap - o < 2)
				return -1;
			out[o++] = '\\';
			out[o++] = e2;
		} else {
			if (cap - o < 6)
				return -1;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
		}
	}
	if (o >= cap)
		return -1;
	out[o++] = '"';
	return (long)o;
}

/* x in decimal at out (room for cap bytes, one of them kept for the NUL
 * that snprintf once wrote); returns the length, or -1. */
static long
json_u64(uint64_t x, char *out, size_t cap)
{
	char t[24], *q = t + sizeof t;
	size_t w;

	do
		*--q = (char)('0' + x % 10);
	while (x /= 10);
	w = (size_t)(t + sizeof t - q);
	if (w >= cap)
		return -1;
	memcpy(out, q, w);
	return (long)w;
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
		if (k->type == TLV_TYPE_TEXT) {
			w = tlv_json_string(v + 1, l ? l - 1u : 0, out + o, cap - o);
		} else if (k->type == TLV_TYPE_LANG) {
			w = tlv_json_string(v, l, out + o, cap - o);
		} else if (k->type == TLV_TYPE_BOOL) {
			w = v[0] ? 4 : 5;
			if ((size_t)w >= cap - o)
				return -1;
			memcpy(out + o, v[0] ? "true" : "false", (size_t)w);
		} else {
			uint64_t x = 0;
			for (unsigned j = 0; j < l; j++)
				x = x << 8 | v[j];
			w = json_u64(x, out + o, cap - o);
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
