/*
 * tlvjson.c - storables JSON -> TLV body through Jansson, for any valid
 * JSON layout: the registry's rules (known keys, no duplicate, the type
 * and range of each value) and their messages, then tlv.c's writer.  The
 * way for what the fast scanner declines, and the fuzzer's oracle.
 */
#include "tlv.h"
#include "tlvint.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *type_name[] = {
	[TLV_TYPE_TEXT] = "a string", [TLV_TYPE_U8] = "an integer",
	[TLV_TYPE_U16] = "an integer", [TLV_TYPE_U24] = "an integer",
	[TLV_TYPE_U32] = "an integer", [TLV_TYPE_BOOL] = "a boolean",
	[TLV_TYPE_LANG] = "a 3-letter language code",
};

/* ---- the registry's rules -------------------------------------------------- */

/* "unknown key \"k\"" or "duplicate key \"k\"", the key shown as JSON and
 * cut at 24 bytes. */
static void
key_error(char *err, int duplicate, const char *key, size_t klen)
{
	char shown[24 * 6 + 3];
	size_t n = klen < 24 ? klen : 24;
	long w = tlv_json_string((const uint8_t *)key, n, shown, sizeof shown);

	if (w < 0)
		strcpy(shown, "\"?\"");
	else
		shown[w] = '\0';
	snprintf(err, TLV_ERR_LEN, duplicate ? "duplicate key %s%s" : "unknown key %s%s",
	    shown, klen > n ? " (cut)" : "");
}

static int
claim(struct tlv_body *b, const char *key, size_t klen, char *err)
{
	const struct tlv_key *k = tlv_lookup(key, klen);
	int i = k ? (int)(k - tlv_registry) : -1;

	if (i < 0 || (b->seen >> i & 1)) {
		key_error(err, i >= 0, key, klen);
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
	tlv_item_text(b, i, b->text[i], n);
	return 0;
}

/* neg: a leading minus sign; mag: magnitude; ovf: magnitude >= 2^64. */
static int
set_int(struct tlv_body *b, int i, int neg, uint64_t mag, int ovf, char *err)
{
	uint8_t t = tlv_registry[i].type;

	if (t == TLV_TYPE_TEXT || t == TLV_TYPE_BOOL || t == TLV_TYPE_LANG)
		return wrong_type(i, err);
	if (ovf || (neg && mag != 0) || mag > tlv_type_max[t]) {
		char v[24] = "(over 2^64)";
		if (!ovf)
			snprintf(v, sizeof v, "%llu", (unsigned long long)mag);
		snprintf(err, TLV_ERR_LEN, "key \"%s\": %s%s out of range 0..%llu",
		    tlv_registry[i].name, neg ? "-" : "", v,
		    (unsigned long long)tlv_type_max[t]);
		return -1;
	}
	tlv_item_number(b, i, mag);
	return 0;
}

static int
set_bool(struct tlv_body *b, int i, int v, char *err)
{
	if (tlv_registry[i].type != TLV_TYPE_BOOL)
		return wrong_type(i, err);
	tlv_item_number(b, i, (uint64_t)v);
	return 0;
}

/* ---- the Jansson path ------------------------------------------------------- */

/*
 * Jansson's error in moma's words: invalid UTF-8 at the first bad byte
 * (Jansson stops at the first one it meets, which is the input's first),
 * a duplicate key by its decoded name, the rest as Jansson says it.
 */
static void
jansson_error(const uint8_t *json, size_t len, const json_error_t *je, char *err)
{
	enum json_error_code code = json_error_code(je);

	if (code == json_error_invalid_utf8) {
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte %zu: invalid UTF-8",
		    tlv_utf8_valid(json, len));
		return;
	}
	if (code == json_error_duplicate_key) {
		/* je->text: duplicate object key near '"raw key"' */
		const char *q = strstr(je->text, "near '");
		json_t *k = NULL;
		if (q != NULL) {
			q += 6;
			size_t n = strlen(q);
			if (n > 0 && q[n - 1] == '\'')
				n--;
			k = json_loadb(q, n, JSON_DECODE_ANY, NULL);
		}
		if (json_is_string(k)) {
			key_error(err, 1, json_string_value(k), json_string_length(k));
			json_decref(k);
			return;
		}
		json_decref(k);
	}
	snprintf(err, TLV_ERR_LEN, "invalid JSON at byte %d: %.100s", je->position, je->text);
}

/* The value v of key index i into b. */
static int
jansson_value(struct tlv_body *b, int i, json_t *v, char *err)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		return 0;
	case JSON_STRING:
		return set_text(b, i, (const uint8_t *)json_string_value(v), json_string_length(v), err);
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		uint64_t mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
		return set_int(b, i, x < 0, mag, 0, err);
	}
	case JSON_TRUE:
	case JSON_FALSE:
		return set_bool(b, i, json_is_true(v), err);
	case JSON_REAL:
		if (tlv_registry[i].type == TLV_TYPE_TEXT || tlv_registry[i].type == TLV_TYPE_LANG ||
		    tlv_registry[i].type == TLV_TYPE_BOOL)
			return wrong_type(i, err);
		snprintf(err, TLV_ERR_LEN, "key \"%s\": expected an integer, not a fraction or exponent",
		    tlv_registry[i].name);
		return -1;
	default:
		return wrong_type(i, err);
	}
}

int
tlv_from_json(const uint8_t *json, size_t len, struct tlv_body *b, char *err)
{
	json_error_t je;
	const char *k;
	json_t *root, *v;
	int rc = -1;

	tlv_body_start(b);
	/* Jansson stops at a raw NUL after a number and accepts
	 * {"prix":1<NUL>}; RFC 8259 allows no NUL outside strings (and none
	 * raw inside), so refuse it before asking Jansson. */
	const uint8_t *nul = memchr(json, 0, len);
	if (nul != NULL) {
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte %zu: NUL byte", (size_t)(nul - json));
		return -1;
	}
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		jansson_error(json, len, &je, err);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, TLV_ERR_LEN, "invalid JSON at byte 0: storables must be a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		int i = claim(b, k, strlen(k), err);
		if (i < 0 || jansson_value(b, i, v, err) != 0)
			goto out;
	}
	tlv_body_emit(b);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* The encoder's call: the fast path, else the Jansson path above, so the
 * results, errors included, are tlv_from_json's (tlv.h).  Here and not in
 * tlv.c, so that the writer and the scanner use nothing of this file. */
int
tlv_from_json_into(const uint8_t *json, size_t len, struct tlv_body *b, uint8_t *dst,
    char *err)
{
	if (tlv_scan_fast_to(json, len, b, dst))
		return 0;
	if (tlv_from_json(json, len, b, err) != 0)
		return -1;
	if (dst != b->buf)
		memcpy(dst, b->buf, b->len);
	return 0;
}
