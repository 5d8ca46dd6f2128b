/*
 * tlvdec.c - a TLV body back out: check it item by item (tlv_validate)
 * and render it as a JSON object (tlv_to_json), for moma-dump.
 */
#include "tlv.h"
#include "tlvint.h"

#include <stdio.h>
#include <string.h>

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
