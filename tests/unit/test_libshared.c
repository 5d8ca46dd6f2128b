/*
 * Unit tests for libshared: CRCs, DVB time, TLV parsing (fast scanner vs
 * the Jansson oracle), segmentation edge cases, and the frame reader on
 * every truncation of a valid stream.  Output is TAP.
 */
#include <bitstream/dvb/si/datetime.h>
#include <bitstream/mpeg/psi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc.h"
#include "dvbtime.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "section.h"
#include "tlv.h"

#include "tap.h"

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }

/* fast(c0, p, n) == table(c0, p, n) for every n in 0..4096 and `tries`
 * random n up to max, at random alignments (buf holds max + 64 bytes)
 * and start values (every third one the CRC's own initial value). */
static int
crc_paths_agree(uint32_t (*fast)(uint32_t, const void *, size_t),
    uint32_t (*table)(uint32_t, const void *, size_t), uint32_t init,
    const uint8_t *buf, size_t max, int tries)
{
	int same = 1;

	for (size_t n = 0; n <= 4096 && n <= max; n++) {
		size_t al = rnd() % 64;
		uint32_t c0 = n % 3 ? (uint32_t)rnd() : init;
		same &= fast(c0, buf + al, n) == table(c0, buf + al, n);
	}
	for (int t = 0; t < tries; t++) {
		size_t n = rnd() % (max + 1), al = rnd() % 64;
		uint32_t c0 = (uint32_t)rnd();
		same &= fast(c0, buf + al, n) == table(c0, buf + al, n);
	}
	return same;
}

static void
test_crc(void)
{
	uint8_t buf[1000];

	ok(crc_mpeg2(CRC_MPEG2_INIT, "123456789", 9) == 0x0376E6E7,
	    "CRC-32/MPEG-2 of \"123456789\" is 0x0376E6E7");
	ok(crc_32c(0, "123456789", 9) == 0xE3069283, "CRC-32C of \"123456789\" is 0xE3069283");
	ok(crc_32c(crc_32c(0, "1234", 4), "56789", 5) == 0xE3069283, "CRC-32C piecewise");
	int same = 1;
	for (int t = 0; t < 200; t++) {
		size_t n = rnd() % sizeof buf;
		uint32_t c = 0xffffffff;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rnd();
		for (size_t i = 0; i < n; i++)
			c = (c << 8) ^ p_psi_crc_table[(c >> 24) ^ buf[i]];
		same &= crc_mpeg2(CRC_MPEG2_INIT, buf, n) == c;
	}
	ok(same, "slicing-by-8 CRC-32/MPEG-2 equals biTStream's table loop on 200 random buffers");

	/* The accelerated paths (PCLMULQDQ when the CPU has it) against the
	 * tables: every length 0..4096 at a random alignment and start
	 * value, then random lengths up to 8192 (several 64-block runs). */
	static uint8_t big[8192 + 64];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)rnd();
	ok(crc_paths_agree(crc_mpeg2, crc_mpeg2_table, CRC_MPEG2_INIT, big, sizeof big - 64, 2000),
	    "CRC-32/MPEG-2 fast path equals the tables on lengths 0..4096 and 2000 random "
	    "lengths to 8192, random alignments and start values");
	static uint8_t huge[40000 + 64];
	for (size_t i = 0; i < sizeof huge; i++)
		huge[i] = (uint8_t)rnd();
	same = crc_paths_agree(crc_32c, crc_32c_table, 0, huge, sizeof huge - 64, 300);
	ok(same, "CRC-32C fast path (three crc32 chains past 6 KiB) equals the tables on lengths "
	    "0..4096 and 300 random lengths to 40000");
}

static void
test_dvbtime(void)
{
	uint8_t b[5];
	int64_t t;

	dvbtime_parse("2024-06-01T10:00:00Z", 20, &t);
	ok(dvbtime_encode(t, b) == 0 && memcmp(b, "\xEC\x2E\x10\x00\x00", 5) == 0,
	    "2024-06-01 10:00:00 encodes to EC 2E 10 00 00");
	dvbtime_parse("1993-10-13 12:45:00", 19, &t);
	ok(dvbtime_encode(t, b) == 0 && memcmp(b, "\xC0\x79\x12\x45\x00", 5) == 0,
	    "1993-10-13 12:45:00 encodes to C0 79 12 45 00 (EN 300 468 Annex C example)");
	ok(dvbtime_encode(DVBTIME_MIN, b) == 0 && b[0] == 0 && b[1] == 0, "1858-11-17 is MJD 0");
	ok(dvbtime_encode(DVBTIME_MAX, b) == 0 && b[0] == 0xff && b[1] == 0xff &&
	    memcmp(b + 2, "\x23\x59\x59", 3) == 0, "2038-04-22 23:59:59 is MJD 65535 23:59:59");
	ok(dvbtime_encode(DVBTIME_MIN - 1, b) == -1, "one second before MJD 0 is refused");
	ok(dvbtime_encode(DVBTIME_MAX + 1, b) == -1, "one second after MJD 65535 is refused");
	int same = 1, back = 1;
	for (int i = 0; i < 20000; i++) {
		/* biTStream's Annex C formula is valid 1900-03-01 .. 2038 here */
		int64_t x = -2203891200LL + (int64_t)(rnd() % (uint64_t)(DVBTIME_MAX + 2203891200LL));
		uint64_t ref = dvb_time_encode_UTC((time_t)x);
		uint8_t r[5] = { (uint8_t)(ref >> 32), (uint8_t)(ref >> 24), (uint8_t)(ref >> 16),
		    (uint8_t)(ref >> 8), (uint8_t)ref };
		same &= dvbtime_encode(x, b) == 0 && memcmp(b, r, 5) == 0;
		back &= dvbtime_decode(b, &t) == 0 && t == x;
	}
	ok(same, "dvbtime_encode equals biTStream's dvb_time_encode_UTC on 20000 times 1900..2038");
	ok(back, "dvbtime_decode inverts dvbtime_encode");
	ok(dvbtime_decode((const uint8_t *)"\xEC\x2E\x1A\x00\x00", &t) == -1, "bad BCD digit refused");
	ok(dvbtime_parse("2023-02-29", 10, &t) == -1, "2023-02-29 is not a date");
	ok(dvbtime_parse("2024-02-29", 10, &t) == 0 && t == 1709164800, "2024-02-29 is");
}

/* Both parsers must agree: same verdict, same bytes. */
static int
agree(const char *json, int want_ok)
{
	static struct tlv_body a, b;
	char ea[TLV_ERR_LEN], eb[TLV_ERR_LEN];
	size_t n = strlen(json);
	int ra = tlv_from_json((const uint8_t *)json, n, &a, ea);
	int rb = tlv_from_jansson((const uint8_t *)json, n, &b, eb);

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
	all &= tlv_from_json((const uint8_t *)"{\"age_min\":1\0}", 15, &nb, e) == -1 &&
	    tlv_from_jansson((const uint8_t *)"{\"age_min\":1\0}", 15, &nb, e) == -1;
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
 * tlv_scan_fast / tlv_from_json_padded / tlv_from_json_into (body in a
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
	int ra = tlv_from_json_padded(buf, n, &a, ea);
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

static void
test_tlv_fast(void)
{
	static const uint8_t quotes[TLV_JSON_SLACK] = "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"";
	static const uint8_t zeros[TLV_JSON_SLACK];
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
	ok(all && took, "fast path takes each of the %d registry keys", TLV_NKEYS);

	const char *taken[] = {
		"{}", "{ }", "{\"titre\":\"\"}", "{\"titre\":null}",
		"{\"prix\": 0, \"bip\": false, \"langue\": \"eng\", \"nom\": \"Noël\"}",
		"{\"texte\":\"\\\"Bouquet \\\\ \\/ \\b\\f\\n\\r\\t Évasion\\\"\"}",
		"{\"prix\":4294967295,\"couleur\":16777215,\"position\":255,\"duree\":65535}",
		"{\"texte\":\"aaaaaaaaaaaaaaa\xc3\xa9" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé\"}",
		"{\"texte\":\"ééééééééééééééééééééééééééééééééééééééééééééé\"}",
		"{\"texte\":\"é\\\"é\\né\"}",
	};
	all = took = 1;
	for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
		all &= fast_agrees(taken[i], strlen(taken[i]), quotes, &fast);
		took &= fast;
		if (!fast)
			printf("# fast path declined %s\n", taken[i]);
	}
	ok(all && took, "fast path takes %zu common objects (escapes, jsonb spaces, accents) with tlv_from_json's bytes",
	    sizeof taken / sizeof *taken);

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
		"{\"titre\":\"a\"\t}", "{\"age_min\":1\0}",
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
	ok(all && declined_all, "fast path declines %zu unusual or invalid objects; the result is tlv_from_json's",
	    sizeof declined / sizeof *declined);

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
	ok(all && took, "texts of 240..260 bytes: taken up to 254, declined above or when cut in a sequence, same results");

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
	ok(all, "every prefix and 20000 random corruptions of an object: fast path agrees with tlv_from_json");
}

static void
test_segments(void)
{
	static uint8_t body[70000], out[200000];
	size_t per = SEC_MAX_LEN - SEC_OVERHEAD;

	ok(sec_count(0, SEC_MAX_LEN) == 1, "empty body: one section");
	ok(sec_count(SEC_MIN_LEN - SEC_OVERHEAD, SEC_MIN_LEN) == 1 && sec_count(2, SEC_MIN_LEN) == 2,
	    "smallest sections: one body byte each");
	ok(sec_count(per, SEC_MAX_LEN) == 1, "body exactly at the limit (%zu bytes): one section", per);
	ok(sec_count(per + 1, SEC_MAX_LEN) == 2, "one byte over: two sections");
	ok(sec_count(255, SEC_MIN_LEN) == 255, "255 one-byte segments allowed");
	ok(sec_count(256, SEC_MIN_LEN) == -1, "256 segments refused");
	ok(sec_count(255 * per, SEC_MAX_LEN) == 255 && sec_count(255 * per + 1, SEC_MAX_LEN) == -1,
	    "at 4096 bytes: %zu body bytes fit, one more does not", 255 * per);

	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)rnd();
	struct sec_msg m = { .target_filter = 0xdeadbeef, .message_id = 42, .template_id = 7,
		.network_id = 3, .genre = 1, .ack_count = 2, .ack_delay = 300,
		.valid_start = { 0xEC, 0x2E, 0x10, 0, 0 }, .valid_end = { 0xEC, 0x2F, 0x23, 0x59, 0x59 },
		.off_appearance = 1, .off_filter = 2, .off_addressee = 3, .body = body };
	size_t sizes[] = { 0, 1, per - 1, per, per + 1, 3 * per + 17 };
	int allok = 1, bitok = 1, maxok = 1;
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		m.body_len = sizes[k];
		int n = sec_count(m.body_len, SEC_MAX_LEN);
		size_t w = sec_encode(&m, SEC_MAX_LEN, n, out), o = 0, got = 0;
		allok &= w == sec_total_size(m.body_len, n);
		for (int i = 0; i < n; i++) {
			char e[SEC_ERR_LEN];
			size_t need;
			uint8_t *p = out + o;
			allok &= sec_validate(p, w - o, &need, e) == 0;
			bitok &= psi_check_crc(p) && !psi_get_syntax(p) && psi_get_tableid(p) == 0x92 &&
			    sec_get_index(p) == i && sec_get_total_count(p) == n;
			maxok &= sec_get_size(p) <= SEC_MAX_LEN && sec_get_length(p) <= 4093;
			allok &= memcmp(sec_get_body(p), body + got, sec_get_body_len(p)) == 0;
			got += sec_get_body_len(p);
			o += sec_get_size(p);
		}
		allok &= got == m.body_len && o == w;
	}

	/* sec_encode_single around a body already in place equals sec_encode. */
	static uint8_t in_place[SEC_MAX_LEN];
	int single = 1;
	for (size_t len = 0; len <= per; len += 1 + len / 3) {
		m.body_len = len;
		m.off_filter = (uint16_t)len;
		memset(in_place, 0xa5, sizeof in_place);
		memcpy(in_place + SEC_HEADER_LEN, body + len % 7, len);
		m.body = body + len % 7;
		size_t w = sec_encode(&m, SEC_MAX_LEN, 1, out);
		m.body = NULL;
		single &= sec_encode_single(&m, in_place) == w && memcmp(in_place, out, w) == 0;
	}
	m.body = body;
	ok(single, "sec_encode_single writes sec_encode's bytes around an in-place body, 0..%zu bytes", per);
	ok(allok, "segments validate and reassemble to the body (sizes 0, 1, limit-1, limit, limit+1, 3 x limit + 17)");
	ok(bitok, "biTStream psi_check_crc accepts every segment; table_id, syntax, index, total_count right");
	ok(maxok, "no section over 4096 bytes, section_length <= 4093");
	out[50] ^= 1;
	char e[SEC_ERR_LEN];
	size_t need;
	ok(sec_validate(out, sizeof out, &need, e) == -1 && strstr(e, "CRC"), "a flipped bit fails the CRC: %s", e);
}

/*
 * Feed buf[0..n) through a pipe to the frame reader (input buffer of bufsz
 * bytes), calling each(m, index, arg) per message when each is not NULL.
 * Returns the reader's last code: 0 for a clean end, or FRAME_E*; the
 * header goes to *hh, the last error to e.
 */
static int
read_stream(const uint8_t *buf, size_t n, size_t bufsz, struct frame_hdr *hh, char *e,
    void (*each)(const struct frame_msg *, int, void *), void *arg)
{
	struct io_in in;
	struct frame_reader r;
	struct frame_msg m;
	int p[2], rc, i = 0;

	if (pipe(p) != 0)
		return FRAME_EIO;
	if (write(p[1], buf, n) != (ssize_t)n) {
		close(p[0]);
		close(p[1]);
		return FRAME_EIO;
	}
	close(p[1]);
	io_in_init(&in, p[0], bufsz, FRAME_MAX_RECORD + 8, NULL);
	rc = frame_reader_open(&r, &in, hh, e);
	if (rc == FRAME_OK)
		while ((rc = frame_read(&r, &m, e)) == 1)
			if (each)
				each(&m, i++, arg);
	io_in_free(&in);
	close(p[0]);
	return rc;
}

static const char *frame_js[] = { "{\"titre\":\"a\"}", "{}", "{\"prix\":1}" };

/* each() for the whole stream: every field as written, *(int *)arg
 * cleared on a mismatch, and counts the messages in arg[1]. */
static void
check_fields(const struct frame_msg *m, int n, void *arg)
{
	int *ok_n = arg;
	ok_n[0] &= n < 3 && m->id == 10 + n && m->valid_start == -5 &&
	    m->valid_end == 1LL << 40 && m->template_id == -1 && m->ack_count == -2 &&
	    m->storables_len == strlen(frame_js[n]) &&
	    memcmp(m->storables, frame_js[n], m->storables_len) == 0;
	ok_n[1]++;
}

static void
test_frames(void)
{
	char path[] = "/tmp/moma-unit-XXXXXX";
	int fd = mkstemp(path);
	struct io_out out;
	struct frame_writer w;
	struct frame_hdr h = { .network_id = 4, .date = "2026-11-22", .created = 1, .zone = "reunion",
		.producer = "unit" };
	const char **js = frame_js;

	unlink(path);
	io_out_init(&out, fd, 64, NULL);
	frame_writer_open(&w, &out, &h);
	for (int i = 0; i < 3; i++) {
		struct frame_msg m = { .id = 10 + i, .campagne_id = 5, .numero_abonne = 1 << 20,
			.valid_start = -5, .valid_end = 1LL << 40, .template_id = -1, .ack_delay = 9,
			.genre = 3, .ack_count = -2, .storables = (const uint8_t *)js[i],
			.storables_len = strlen(js[i]) };
		frame_write_msg(&w, &m);
	}
	ok(frame_write_end(&w) == FRAME_OK, "frame stream written");
	off_t size = lseek(fd, 0, SEEK_CUR);
	static uint8_t full[4096];
	ok(pread(fd, full, (size_t)size, 0) == size, "read back %lld bytes", (long long)size);

	struct frame_hdr hh;
	char e[FRAME_ERR_LEN];
	int fields[2] = { 1, 0 }, trunc_all_err = 1;
	int rc = read_stream(full, (size_t)size, 16, &hh, e, check_fields, fields);
	int clean = rc == 0 && fields[1] == 3 && strcmp(hh.zone, "reunion") == 0 && hh.network_id == 4;
	for (off_t cut = 0; cut < size; cut++)
		trunc_all_err &= read_stream(full, (size_t)cut, 16, &hh, e, NULL, NULL) == FRAME_EDATA;
	ok(clean, "the whole stream reads to a clean end with 3 messages");
	ok(fields[0], "every field comes back, negatives and 64-bit values included");
	ok(trunc_all_err, "every one of the %lld truncations is an error, never a clean end", (long long)size);

	/* Corrupt the count, then one storables byte. */
	uint8_t c[4096];
	memcpy(c, full, (size_t)size);
	c[size - 5] ^= 1;
	int bad_count = read_stream(c, (size_t)size, 4096, &hh, e, NULL, NULL) == FRAME_EDATA &&
	    strstr(e, "counts") != NULL;
	memcpy(c, full, (size_t)size);
	c[size - 20] ^= 1;
	int bad_sum = read_stream(c, (size_t)size, 4096, &hh, e, NULL, NULL) == FRAME_EDATA &&
	    strstr(e, "checksum") != NULL;
	ok(bad_count, "a wrong trailer count is reported");
	ok(bad_sum, "a flipped byte is caught by the checksum");
	io_out_free(&out);
	close(fd);

	/* A longer stream (the reader sums the checksum in bulk, between
	 * refills): clean with a big and a tiny buffer, and a flipped byte
	 * anywhere is an error. */
	char path2[] = "/tmp/moma-unit-XXXXXX";
	fd = mkstemp(path2);
	unlink(path2);
	io_out_init(&out, fd, 4096, NULL);
	frame_writer_open(&w, &out, &h);
	for (int i = 0; i < 400; i++) {
		struct frame_msg m = { .id = i, .campagne_id = 5, .storables = (const uint8_t *)js[i % 3],
			.storables_len = strlen(js[i % 3]) };
		frame_write_msg(&w, &m);
	}
	frame_write_end(&w);
	size = lseek(fd, 0, SEEK_CUR);
	static uint8_t lng[60000], flip[60000];
	int long_ok = size <= (off_t)sizeof lng && pread(fd, lng, (size_t)size, 0) == size;
	fields[0] = 1;
	fields[1] = 0;
	long_ok = long_ok && read_stream(lng, (size_t)size, 65536, &hh, e, NULL, NULL) == 0 &&
	    read_stream(lng, (size_t)size, 100, &hh, e, NULL, NULL) == 0;
	int flips_caught = 1;
	for (int t = 0; t < 40 && long_ok; t++) {
		size_t at = 8 + rnd() % ((size_t)size - 8);
		memcpy(flip, lng, (size_t)size);
		flip[at] ^= (uint8_t)(1 + rnd() % 255);
		flips_caught &= read_stream(flip, (size_t)size, t % 2 ? 65536 : 333, &hh, e, NULL, NULL) ==
		    FRAME_EDATA;
	}
	ok(long_ok, "a %lld-byte stream of 400 messages reads clean with 64 KiB and 100-byte buffers",
	    (long long)size);
	ok(flips_caught, "a byte changed at 40 random places of it is an error every time");
	io_out_free(&out);
	close(fd);
}

static void
test_num(void)
{
	uint64_t v = 7;

	ok(num_parse("4096", 0, 43, 4096, &v) == 0 && v == 4096, "decimal at the top of the range");
	ok(num_parse("0x1ffe", NUM_HEX, 0x20, 0x1ffe, &v) == 0 && v == 0x1ffe, "hexadecimal with NUM_HEX");
	int bad = 0;
	const char *refused[] = { "", " 1", "+1", "-1", "1 ", "1x", "0x10", "18446744073709551616", "42" };
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		bad += num_parse(refused[i], 0, 43, UINT64_MAX, &v) == -1;
	ok(bad == 9 && v == 0x1ffe,	/* *out left alone on failure */
	    "refused: empty, spaces, signs, junk, hex without NUM_HEX, overflow, below range");
	ok(num_parse("0x", NUM_HEX, 0, 10, &v) == -1 && num_parse("-0x1", NUM_HEX, 0, 10, &v) == -1,
	    "refused: bare 0x, signed hex");
}

int
main(void)
{
	test_crc();
	test_num();
	test_dvbtime();
	test_tlv();
	test_tlv_fast();
	test_segments();
	test_frames();
	return tap_done();
}
