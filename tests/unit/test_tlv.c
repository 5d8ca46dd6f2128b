/*
 * Unit tests for libshared/tlv.c: the scanner against the Jansson oracle,
 * the fast path against the scanner, limits, the decoding side.
 * Output is TAP (tap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

#include "tap.h"

/* Both parsers must agree: the encoder's call (the scanner, Jansson for
 * what it declines) over a padded copy, and Jansson alone: same verdict,
 * same bytes. */
static int
agree(const char *json, int want_ok)
{
	static struct tlv_body a, b;
	static uint8_t buf[8192 + TLV_JSON_SLACK];
	char ea[TLV_ERR_LEN], eb[TLV_ERR_LEN];
	size_t n = strlen(json);

	if (n > 8192)
		return 0;
	memcpy(buf, json, n);
	memset(buf + n, ' ', TLV_JSON_SLACK);
	int ra = tlv_from_json_into(buf, n, &a, a.buf, ea);
	int rb = tlv_from_json((const uint8_t *)json, n, &b, eb);

	if (ra != rb)
		printf("# disagree on %s: scanner %d (%s) jansson %d (%s)\n", json, ra,
		    ra ? ea : "", rb, rb ? eb : "");
	if (ra == 0 && rb == 0 && (a.len != b.len || memcmp(a.buf, b.buf, a.len)))
		printf("# different bytes for %s\n", json);
	return ra == rb && (ra != 0 || (a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0)) &&
	    (ra == 0) == want_ok;
}

static void
test_tlv(void)
{
	static struct tlv_body b;
	char e[TLV_ERR_LEN], big[600];

	const char *j1 = "{\"titre\":\"A\",\"bip\":true,\"nom\":\"B\",\"offre\":7}";
	ok(tlv_from_json((const uint8_t *)j1, strlen(j1), &b, e) == 0 && b.len == 4 + 3 + 4 + 4 && b.off_appearance == 4 &&
	    b.off_filter == 7 && b.off_addressee == 11 &&
	    memcmp(b.buf, "\x01\x02\x15" "A" "\x24\x01\x01" "\x40\x02\x00\x07" "\x61\x02\x15" "B", 15) == 0,
	    "items sorted by tag, group offsets set");
	ok(tlv_from_json((const uint8_t *)"{}", 2, &b, e) == 0 && b.len == 0 &&
	    b.off_appearance == TLV_NO_OFFSET, "empty object: empty body, offsets 0xffff");
	const char *good[] = {
		"{\"titre\":\"No\\u00ebl \\ud83c\\udf84\"}", " {\"prix\" : -0 }\n",
		"{\"titre\":null,\"texte\":\"\"}", "{\"couleur\":16777215,\"prix\":4294967295}",
		"{\"langue\":\"fra\",\"bip\":false}", "{\"t\\u0069tre\":\"x\"}",
		"{\"texte\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"texte\":\"Découvrez l'offre spéciale de Noël \\\"Évasion\\\" à prix réduit 🎄 ok\"}",
		/* a 2-byte sequence across a 16-byte block boundary, and at the end */
		"{\"texte\":\"aaaaaaaaaaaaaaa\xc3\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé\"}",
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé\"}",
		"{\"texte\":\"ééééééééééééééééééééééééééééééééééééééééééééé\"}",
	};
	const char *bad[] = {
		"", "[]", "{", "{\"titre\":\"a\"", "{\"titre\":\"a\"}x", "{\"inconnu\":1}",
		"{\"titre\":\"a\",\"titre\":\"b\"}", "{\"titre\":\"a\",\"t\\u0069tre\":null}",
		"{\"prix\":4294967296}", "{\"prix\":-1}", "{\"prix\":1.5}", "{\"prix\":1e3}",
		"{\"prix\":01}", "{\"prix\":\"12\"}", "{\"bip\":1}", "{\"titre\":true}",
		"{\"titre\":\"\xc3\"}", "{\"titre\":\"\xed\xa0\x80\"}", "{\"titre\":\"\xc0\xaf\"}",
		"{\"titre\":\"\\ud800\"}", "{\"titre\":\"\\udc00x\"}", "{\"titre\":\"\\u0000\"}",
		"{\"titre\":\"a\nb\"}", "{\"titre\":\"\\x\"}", "{\"langue\":\"FRA\"}",
		"{\"langue\":\"fr\"}", "{\"titre\":[1]}", "{\"titre\":{}}", "{\"prix\":99999999999999999999999}",
		"{\"titre\":\"a\",}", "{,}", "{\"titre\"\"a\"}", "{\"bip\":tru}", "{\"bip\":nul}",
		/* long strings take the 16-byte scan: a bad byte at several places */
		"{\"titre\":\"\xcb" "\\\"aaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"aaaaaaaaaaaaaaaaaaa\xcb" "\\\"aaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe0\"}",
		"{\"titre\":\"aa\xc3" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xed\xa0\x80" "aaaaaaaaaaaaaaa\"}",
		/* the 2-byte fast path: a lead cut at a block end or the string end,
		 * a stray continuation, an overlong lead, two leads in a row */
		"{\"titre\":\"aaaaaaaaaaaaaa\xc3\"}",
		"{\"titre\":\"aaaaaaaaaaaaaaa\xc3" "aaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"aaaaaaaaaaaaaaaa\xa9" "aaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"\xc3\xa9\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"\xc1\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"titre\":\"\xc3\xc3\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	int all = 1;
	/* found by fuzz_storables: Jansson alone accepted a raw NUL */
	static struct tlv_body nb;
	all &= tlv_from_json((const uint8_t *)"{\"age_min\":1\0}", 15, &nb, e) == -1;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		all &= agree(good[i], 1);
	ok(all, "scanner and Jansson accept %zu valid objects with identical bytes", sizeof good / sizeof *good);
	all = 1;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		all &= agree(bad[i], 0);
	ok(all, "scanner and Jansson reject the same %zu invalid objects", sizeof bad / sizeof *bad);

	memset(big, 'a', sizeof big);
	memcpy(big, "{\"texte\":\"", 10);
	memcpy(big + 10 + 254, "\"}", 3);
	ok(tlv_from_json((const uint8_t *)big, 10 + 254 + 2, &b, e) == 0 && b.len == 2 + 1 + 254,
	    "text of exactly 254 bytes fits one item");
	memset(big + 10, 'a', 255);
	memcpy(big + 10 + 255, "\"}", 3);
	ok(tlv_from_json((const uint8_t *)big, 10 + 255 + 2, &b, e) == -1 && strstr(e, "exceeds 254"),
	    "text of 255 bytes refused: %s", e);
	ok(tlv_from_json((const uint8_t *)"{\"zzz\":1}", 9, &b, e) == -1 && strstr(e, "unknown key \"zzz\""),
	    "unknown key named: %s", e);
	ok(tlv_from_json((const uint8_t *)"{\"titre\":\"\xff\"}", 13, &b, e) == -1 && strstr(e, "UTF-8"),
	    "invalid UTF-8 named: %s", e);

	/* Decoding side. */
	const char *j2 = "{\"titre\":\"Noël\",\"prix\":12,\"langue\":\"fra\"}";
	tlv_from_json((const uint8_t *)j2, strlen(j2), &b, e);
	char out[512];
	ok(tlv_validate(b.buf, b.len, e) == 0, "a built body validates");
	ok(tlv_to_json(b.buf, b.len, out, sizeof out) > 0 &&
	    strcmp(out, "{\"titre\":\"Noël\",\"prix\":12,\"langue\":\"fra\"}") == 0, "body renders back: %s", out);
	uint8_t bad1[] = { 0x99, 0x01, 0x00 }, bad2[] = { 0x06, 0x04, 0, 0 },
	    bad3[] = { 0x20, 0x02, 0, 1, 0x06, 0x04, 0, 0, 0, 1 };
	ok(tlv_validate(bad1, 3, e) == -1 && strstr(e, "unknown tag"), "unknown tag in a body: %s", e);
	ok(tlv_validate(bad2, 4, e) == -1 && strstr(e, "overruns"), "overrunning item: %s", e);
	ok(tlv_validate(bad3, 10, e) == -1 && strstr(e, "order"), "tags out of order: %s", e);
}

/*
 * tlv_scan_fast / tlv_from_json_into (body in b->buf, and in a
 * separate buffer) against tlv_from_json on json[0..n)
 * followed by 16 bytes of pad (the slack they may read): same verdict,
 * same error text, same body.  *fast: whether the fast path took it.
 */
static int
fast_agrees(const char *json, size_t n, const uint8_t *pad, int *fast)
{
	static struct tlv_body a, b, c;
	static uint8_t buf[4096 + TLV_JSON_SLACK];
	char ea[TLV_ERR_LEN] = "", eb[TLV_ERR_LEN] = "";

	memcpy(buf, json, n);
	memcpy(buf + n, pad, TLV_JSON_SLACK);
	*fast = tlv_scan_fast(buf, n, &c);
	int ra = tlv_from_json_into(buf, n, &a, a.buf, ea);
	int rb = tlv_from_json(buf, n, &b, eb);
	static struct tlv_body d;
	static uint8_t into[TLV_BODY_MAX + 16];
	char ed[TLV_ERR_LEN] = "";
	int rd = tlv_from_json_into(buf, n, &d, into, ed);
	int same = ra == rb && rd == ra && strcmp(ea, eb) == 0 && strcmp(ed, eb) == 0 &&
	    (*fast == 0 || ra == 0);
	if (same && rd == 0)
		same = d.len == b.len && memcmp(into, b.buf, b.len) == 0 &&
		    d.off_appearance == b.off_appearance && d.off_filter == b.off_filter &&
		    d.off_addressee == b.off_addressee;
	if (same && ra == 0)
		same = a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0 &&
		    a.off_appearance == b.off_appearance && a.off_filter == b.off_filter &&
		    a.off_addressee == b.off_addressee &&
		    (*fast == 0 || (c.len == b.len && memcmp(c.buf, b.buf, c.len) == 0));
	if (!same)
		printf("# fast path disagrees on %.*s: %d (%s) vs %d (%s)\n", (int)n, json, ra, ea, rb, eb);
	return same;
}

static const char *scanner;	/* the fast scanner's copy under test */

/* tlv_utf8_ok against tlv_utf8_valid on random strings of the bytes
 * around UTF-8's boundaries, each in a buffer of exactly its length (ASan
 * sees any read past it). */
static void
test_utf8_ok(void)
{
	static const uint8_t pick[] = { 'a', 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
		0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff };
	int all = 1, valid = 0;

	for (int t = 0; t < 200000; t++) {
		size_t n = (size_t)(rnd() % 80);
		uint8_t *s = malloc(n ? n : 1);
		for (size_t k = 0; k < n; k++)
			s[k] = rnd() % 3 ? 'a' : pick[rnd() % sizeof pick];
		int want = tlv_utf8_valid(s, n) == n;
		valid += want;
		all &= tlv_utf8_ok(s, n) == want;
		free(s);
	}
	ok(all && valid > 1000, "%s: tlv_utf8_ok is tlv_utf8_valid's verdict on 200000 strings (%d valid)",
	    scanner, valid);
}

static void
test_tlv_fast(void)
{
	static uint8_t quotes[TLV_JSON_SLACK];
	static const uint8_t zeros[TLV_JSON_SLACK];

	memset(quotes, '"', sizeof quotes);
	char js[600];
	int fast, all = 1, took = 1;

	/* Every registry key reaches its own slot of the perfect hash. */
	for (int i = 0; i < TLV_NKEYS; i++) {
		const char *v = tlv_registry[i].type == TLV_TYPE_TEXT ? "\"x\"" :
		    tlv_registry[i].type == TLV_TYPE_BOOL ? "true" :
		    tlv_registry[i].type == TLV_TYPE_LANG ? "\"fra\"" : "1";
		int n = snprintf(js, sizeof js, "{\"%s\":%s}", tlv_registry[i].name, v);
		all &= fast_agrees(js, (size_t)n, zeros, &fast);
		took &= fast;
	}
	ok(all && took, "%s: fast path takes each of the %d registry keys", scanner, TLV_NKEYS);

	const char *taken[] = {
		"{}", "{ }", "{\"titre\":\"\"}", "{\"titre\":null}",
		"{\"prix\": 0, \"bip\": false, \"langue\": \"eng\", \"nom\": \"Noël\"}",
		"{\"texte\":\"\\\"Bouquet \\\\ \\/ \\b\\f\\n\\r\\t Évasion\\\"\"}",
		"{\"prix\":4294967295,\"couleur\":16777215,\"position\":255,\"duree\":65535}",
		"{\"texte\":\"aaaaaaaaaaaaaaa\xc3\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé\"}",
		"{\"texte\":\"ééééééééééééééééééééééééééééééééééééééééééééé\"}",
		"{\"texte\":\"é\\\"é\\né\"}",
		/* past one 64-byte window, plain and after an escape */
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"texte\":\"\\\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\"}",
		/* closing quote at each end of the window */
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"prix\":1}",
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"prix\":1}",
		"{\"texte\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"prix\":1}",
		/* jsonb's layout; spaces before ',' and '}'; numbers of 1 to 10 digits */
		"{ \"nom\": \"x\", \"prix\": 7 , \"bip\": true }",
		"{\"prix\":123456789,\"couleur\":12345678,\"offre\":9}",
		"{\"prix\":1234567890, \"age_min\":7}",
		"{\"prix\":0,\"age_min\":0 }",
		"{\"titre\":\"🎄 Noël – 9,99\u202f€ …\",\"texte\":\"\\ud83c\\udf84\"}",
	};
	all = took = 1;
	for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
		all &= fast_agrees(taken[i], strlen(taken[i]), quotes, &fast);
		took &= fast;
		if (!fast)
			printf("# fast path declined %s\n", taken[i]);
	}
	ok(all && took, "%s: fast path takes %zu common objects (escapes, jsonb spaces, accents) with tlv_from_json's bytes",
	    scanner, sizeof taken / sizeof *taken);

	/* Declined: left to tlv_from_json, which accepts or names the error. */
	const char *declined[] = {
		"", "{", "[]", " {}", "{} ", "{\"inconnu\":1}", "{\"nomx\":1}", "{\"no\":1}",
		"{\"titre\":\"a\",\"titre\":\"b\"}", "{\"t\\u0069tre\":\"x\"}",
		"{\"titre\":\"\\x\"}", "{\"titre\":\"a\nb\"}", "{\"titre\":\"\xc3\"}",
		"{\"titre\":\"\xc3\\\"\"}", "{\"titre\":\"\xa9\"}", "{\"titre\":\"\xc1\xa9\"}",
		"{\"titre\":\"\xc3\xc3\xa9\"}", "{\"titre\":\"\xff\"}",
		"{\"prix\":01}", "{\"prix\":-0}", "{\"prix\":1.5}", "{\"prix\":1e3}",
		"{\"prix\":4294967296}", "{\"prix\":12345678901}", "{\"position\":256}",
		"{\"prix\":\"12\"}", "{\"bip\":1}", "{\"titre\":true}", "{\"bip\":tru}",
		"{\"bip\":nul}", "{\"titre\":nul}", "{\"langue\":\"FRA\"}", "{\"langue\":\"fr\"}",
		"{\"titre\":[1]}", "{\"titre\":{}}", "{\"titre\":\"a\",}", "{,}",
		"{\"titre\"\"a\"}", "{\"titre\":\"a\"", "{\"titre\":\"a", "{\"titre\":",
		"{\"titre\"", "{\"tit", "{\"titre\":\"a\"}x", "{\n\"titre\":\"a\"}",
		"{\"titre\":\"a\"\t}", "{\"prix\" : 1}", "{\"prix\":  1}", "{\"prix\":1,  \"bip\":true}",
		"{\"age_min\":1\0}",
	};
	all = 1;
	int declined_all = 1;
	for (size_t i = 0; i < sizeof declined / sizeof *declined; i++) {
		size_t n = strlen(declined[i]) + (strstr(declined[i], "age_min") ? 2 : 0);
		all &= fast_agrees(declined[i], n, quotes, &fast);
		all &= fast_agrees(declined[i], n, zeros, &fast);
		declined_all &= !fast;
		if (fast)
			printf("# fast path took %s\n", declined[i]);
	}
	ok(all && declined_all, "%s: fast path declines %zu unusual or invalid objects; the result is tlv_from_json's",
	    scanner, sizeof declined / sizeof *declined);

	/* Long strings: 254 bytes fit, 255 do not, with or without escapes. */
	all = took = 1;
	for (int len = 240; len <= 260; len++)
		for (int esc = 0; esc <= 1; esc++) {
			size_t o = (size_t)snprintf(js, sizeof js, "{\"texte\":\"");
			for (int k = 0; k < len; k++) {
				if (esc && k % 18 == 6) {
					js[o++] = '\\';
					js[o++] = '"';
					continue;
				}
				js[o++] = k % 9 == 3 ? '\xc3' : k % 9 == 4 ? '\xa9' : 'a';
			}
			o += (size_t)snprintf(js + o, sizeof js - o, "\"}");
			all &= fast_agrees(js, o, quotes, &fast);
			took &= fast == (len <= TLV_TEXT_MAX && (len - 1) % 9 != 3);	/* not ending in a lead */
		}
	ok(all && took, "%s: texts of 240..260 bytes: taken up to 254, declined above or when cut in a sequence, same results", scanner);

	/* Every prefix of a valid object (the pad holds what follows it) and
	 * random byte flips in it. */
	const char *base = "{\"titre\": \"Découvrez l'offre \\\"Évasion\\\"\", \"prix\": 1234, "
	    "\"bip\": true, \"langue\": \"fra\", \"civilite\": null, \"nom\": \"Garçon naïf\"}";
	size_t bn = strlen(base);
	all = 1;
	for (size_t n = 0; n <= bn; n++) {
		uint8_t pad[TLV_JSON_SLACK];
		for (size_t k = 0; k < TLV_JSON_SLACK; k++)
			pad[k] = n + k < bn ? (uint8_t)base[n + k] : '"';
		all &= fast_agrees(base, n, pad, &fast);
	}
	for (int t = 0; t < 20000; t++) {
		uint8_t pad[TLV_JSON_SLACK];
		memcpy(js, base, bn);
		for (int k = 0; k < 1 + (int)(rnd() % 3); k++) {
			static const char pick[] = "\"\\:,{} 0a\xc3\xa9\xe2\x80\x00\n-.e";
			js[rnd() % bn] = pick[rnd() % (sizeof pick - 1)];
		}
		for (size_t k = 0; k < TLV_JSON_SLACK; k++)
			pad[k] = (uint8_t)rnd();
		all &= fast_agrees(js, bn, pad, &fast);
	}
	ok(all, "%s: every prefix and 20000 random corruptions of an object: fast path agrees with tlv_from_json", scanner);
}

int
main(void)
{
	test_tlv();
	/* Both copies of the fast scanner; AVX2 only where the CPU has it. */
	scanner = "sse2";
	tlv_scan_wide(0);
	test_tlv_fast();
	if (tlv_scan_wide(1)) {
		scanner = "avx2";
		test_tlv_fast();
		test_utf8_ok();
	} else {
		printf("# no AVX2 on this CPU: the AVX2 scanner is not tested here\n");
	}
	return tap_done();
}
