/*
 * Unit tests for the storables registry and its derived tables (perfect
 * hash, padded names, group masks, built at first use by tlv.c), and for
 * the fast path on real text: every valid UTF-8 sequence and JSON escape
 * taken with Jansson's bytes, every invalid one declined and refused.
 */
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

#include "tap.h"

/* rnd(): tap.h's xorshift, the same sequence in every run. */

/*
 * json[0..n) followed by 16 pad bytes: the fast path's verdict (*fast),
 * and whether tlv_from_json_into and tlv_from_json (Jansson) agree on
 * the verdict, the error text and the bytes, and the fast path's bytes
 * are Jansson's when it takes.
 */
static int
check(const char *json, size_t n, int *fast, char *err)
{
	static struct tlv_body a, b, c;
	static uint8_t buf[1 << 21];
	char ea[TLV_ERR_LEN] = "", eb[TLV_ERR_LEN] = "";

	memcpy(buf, json, n);
	for (size_t k = 0; k < TLV_JSON_SLACK; k++)
		buf[n + k] = (uint8_t)(k & 1 ? '"' : 0xe2);
	*fast = tlv_scan_fast(buf, n, &c);
	int ra = tlv_from_json_into(buf, n, &a, a.buf, ea);
	int rb = tlv_from_json(buf, n, &b, eb);
	if (err)
		strcpy(err, eb);
	int same = ra == rb && strcmp(ea, eb) == 0 && (*fast == 0 || rb == 0);
	if (same && rb == 0)
		same = a.len == b.len && memcmp(a.buf, b.buf, b.len) == 0 &&
		    a.off_appearance == b.off_appearance && a.off_filter == b.off_filter &&
		    a.off_addressee == b.off_addressee &&
		    (*fast == 0 || (c.len == b.len && memcmp(c.buf, b.buf, b.len) == 0));
	if (!same)
		printf("# disagree on %.*s: padded %d (%s), jansson %d (%s), fast %d\n",
		    (int)(n > 200 ? 200 : n), json, ra, ea, rb, eb, *fast);
	return same;
}

static void
test_tables(void)
{
	char e[TLV_ERR_LEN] = "";
	unsigned slots = 0;

	ok(tlv_registry_check(e, &slots) == 0 && slots >= 32 && slots <= 256,
	    "registry checks out, perfect hash of %d names in %u slots %s", TLV_NKEYS, slots, e);

	int all = 1;
	for (int i = 0; i < TLV_NKEYS; i++) {
		const struct tlv_key *k = &tlv_registry[i];
		all &= tlv_lookup(k->name, strlen(k->name)) == k && tlv_by_tag(k->tag) == k;
	}
	ok(all, "every name and every tag finds its own entry");

	/* Near misses: prefixes, one byte changed, one byte added, a NUL. */
	all = 1;
	for (int i = 0; i < TLV_NKEYS; i++) {
		char s[32];
		size_t n = strlen(tlv_registry[i].name);
		memcpy(s, tlv_registry[i].name, n + 1);
		for (size_t l = 0; l < n; l++)
			all &= tlv_lookup(s, l) == NULL;
		for (size_t j = 0; j < n; j++) {
			char save = s[j];
			for (int c = 1; c < 256; c++) {
				if (c == (unsigned char)save)
					continue;
				s[j] = (char)c;
				all &= tlv_lookup(s, n) == NULL;
			}
			s[j] = save;
		}
		s[n] = 'x';
		all &= tlv_lookup(s, n + 1) == NULL;
		s[n] = '\0';
		all &= tlv_lookup(s, n + 1) == NULL;
	}
	ok(all, "prefixes, one-byte changes and extensions of the names are unknown");
	all = 1;
	for (int t = 0; t < 200000; t++) {
		char s[20];
		size_t n = 1 + rnd() % 16;
		for (size_t j = 0; j < n; j++)
			s[j] = "abcdefghijklmnopqrstuvwxyz_"[rnd() % 27];
		const struct tlv_key *k = tlv_lookup(s, n);
		all &= k == NULL || (strlen(k->name) == n && memcmp(k->name, s, n) == 0);
	}
	ok(all, "200000 random names: a hit is always the exact name");

	/* Group masks from the tag ranges: a key alone gives its group's
	 * offset 0 (content has none) and 0xffff for the others. */
	all = 1;
	for (int i = 0; i < TLV_NKEYS; i++) {
		static struct tlv_body b;
		char js[64];
		int fast, g = tlv_registry[i].tag >> 5;
		const char *v = tlv_registry[i].type == TLV_TYPE_TEXT ? "\"x\"" :
		    tlv_registry[i].type == TLV_TYPE_BOOL ? "true" :
		    tlv_registry[i].type == TLV_TYPE_LANG ? "\"fra\"" : "1";
		int n = snprintf(js, sizeof js, "{\"%s\": %s}", tlv_registry[i].name, v);
		all &= check(js, (size_t)n, &fast, NULL) && fast;
		tlv_from_json((const uint8_t *)js, (size_t)n, &b, e);
		all &= b.off_appearance == (g == 1 ? 0 : TLV_NO_OFFSET) &&
		    b.off_filter == (g == 2 ? 0 : TLV_NO_OFFSET) &&
		    b.off_addressee == (g == 3 ? 0 : TLV_NO_OFFSET) && b.buf[0] == tlv_registry[i].tag;
	}
	ok(all, "each key alone: fast path takes it, its group's offset set from its tag range");
}

/* {"texte":"<s>"} into js; returns its length. */
static size_t
texte(char *js, const char *s, size_t n)
{
	memcpy(js, "{\"texte\":\"", 10);
	memcpy(js + 10, s, n);
	memcpy(js + 10 + n, "\"}", 2);
	return 12 + n;
}

static void
test_text(void)
{
	char js[1200], e[TLV_ERR_LEN];
	int fast, all = 1, took = 1;

	const char *taken[] = {
		"{\"titre\":\"No\\u00ebl\"}", "{\"titre\":\"€ 3-byte\"}", "{\"titre\":\"🎄\"}",
		"{\"titre\": \"L’offre de Noël\u202f! 9,99\u202f€… – 🎁\", \"prix\": 999}",
		"{\"texte\":\"\\ud83c\\udf84 \\u2019\\u202F\\u20ac\\u0041\\u00E9\\u001f\\uFFFF\"}",
		"{\"texte\":\"\\\"«\u202fÉvasion\u202f»\\\"\\n\\t\\/\\\\\"}",
		"{\"texte\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\xf0\x90\x80\x80\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\"}",
		"{\"titre\":\"\xf0\x9f\x8e\x84\\n\xf0\x9f\x8e\x84\\\"\xe2\x82\xac\"}",
	};
	for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
		all &= check(taken[i], strlen(taken[i]), &fast, e);
		took &= fast;
		if (!fast)
			printf("# fast path declined %s (%s)\n", taken[i], e);
	}
	ok(all && took, "fast path takes %zu typographic texts and escapes with Jansson's bytes",
	    sizeof taken / sizeof *taken);

	/* Every kind of sequence at every offset of a 48-byte string, so that
	 * it starts, ends and straddles 16-byte blocks. */
	static const char *seqs[] = { "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x80\x99",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf0\x9f\x8e\x84", "\xf3\xbf\xbf\xbf", "\xf4\x8f\xbf\xbf" };
	all = took = 1;
	for (size_t s = 0; s < sizeof seqs / sizeof *seqs; s++)
		for (size_t off = 0; off < 48; off++) {
			char t[64];
			size_t l = strlen(seqs[s]);
			memset(t, 'a', 48);
			memcpy(t + off, seqs[s], l);
			all &= check(js, texte(js, t, off + l > 48 ? off + l : 48), &fast, NULL);
			took &= fast;
		}
	ok(all && took, "every sequence kind (2 to 4 bytes, range ends) at offsets 0..47: taken");

	/* Invalid: overlongs, surrogates, above U+10FFFF, never-valid bytes,
	 * cut or stray sequences, bad escapes, lone surrogates, \u0000. */
	static const char *bad[] = { "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", "\x80", "\xbf",
		"\xe2\x82", "\xf0\x9f\x8e", "\xc3", "\xe2\x82\xac\xac", "\xe2\x41\xac",
		"\xf0\x9f\x41\x84", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\ud83c\\ud83c",
		"\\u0000", "\\u12x", "\\u12g4", "\\x", "\xe2\\n\x82\xac", "\x01" };
	all = 1;
	int declined = 1;
	for (size_t s = 0; s < sizeof bad / sizeof *bad; s++)
		for (size_t off = 0; off < 40; off += 3) {
			char t[64];
			size_t l = strlen(bad[s]);
			memset(t, 'a', 40);
			memcpy(t + off, bad[s], l);
			size_t n = texte(js, t, off + l > 40 ? off + l : 40);
			all &= check(js, n, &fast, e) && strncmp(e, "invalid JSON at byte", 20) == 0;
			declined &= !fast;
		}
	ok(all && declined, "%zu invalid sequences and escapes at 14 offsets: declined, and refused as invalid JSON",
	    sizeof bad / sizeof *bad);

	/* Random strings over the bytes that matter: the fast path takes
	 * exactly the valid ones (tlv_utf8_valid is the reference). */
	static const uint8_t alpha[] = { 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
		0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	all = 1;
	int exact = 1, valid = 0;
	for (int t = 0; t < 300000; t++) {
		uint8_t s[48];
		size_t l = 1 + rnd() % 40;
		for (size_t j = 0; j < l; j++)
			s[j] = rnd() % 3 ? alpha[rnd() % sizeof alpha] : 'a';
		int v = tlv_utf8_valid(s, l) == l;
		valid += v;
		all &= check(js, texte(js, (const char *)s, l), &fast, NULL);
		exact &= fast == v;
	}
	ok(all && exact && valid > 1000, "300000 random strings (%d valid): taken if and only if valid UTF-8", valid);
}

/* RFC 3629 by the book, one code point at a time: the reference for
 * tlv_utf8_valid's 16-byte blocks.  Returns the valid prefix length. */
static size_t
utf8_ref(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t c = s[i], cp;
		size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 :
		    c >= 0xf0 && c <= 0xf4 ? 3 : 99;
		if (k == 99 || n - i <= k)
			return i;
		cp = k == 0 ? c : c & (0x3f >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += k + 1;
	}
	return n;
}

static void
test_utf8(void)
{
	static const uint8_t alpha[] = { 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
		0xc1, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	static const char *ok3[] = { "\xe2\x80\x99", "\xf0\x9f\x8e\x84", "\xc3\xa9", "a" };
	int all = 1, seen_bad_late = 0;

	for (int t = 0; t < 400000; t++) {
		uint8_t s[128];
		size_t n = rnd() % 120, o = 0;
		/* mostly valid text with a bad byte now and then, at any offset */
		while (o < n) {
			if (rnd() % 40 == 0) {
				s[o++] = alpha[rnd() % sizeof alpha];
			} else {
				const char *c = ok3[rnd() % 4];
				size_t l = strlen(c);
				if (o + l > n)
					break;
				memcpy(s + o, c, l);
				o += l;
			}
		}
		size_t want = utf8_ref(s, o), got = tlv_utf8_valid(s, o);
		seen_bad_late |= want > 32 && want < o;
		if (got != want)
			printf("# tlv_utf8_valid %zu, reference %zu, on %zu bytes\n", got, want, o);
		all &= got == want;
	}
	ok(all && seen_bad_late, "tlv_utf8_valid gives the exact valid prefix of 400000 texts of 0..120 bytes");
}

static void
test_errors(void)
{
	static char big[(1 << 20) + 32], src[1 << 20];
	char e[TLV_ERR_LEN];
	int fast;

	memset(src, 'a', sizeof src);
	size_t n = texte(big, src, sizeof src);
	ok(check(big, n, &fast, e) && strcmp(e, "key \"texte\": text of 1048576 bytes exceeds 254") == 0,
	    "a 1 MiB text is reported with its length: %s", e);
	char js[600];
	memset(js, 'a', sizeof js);
	n = texte(js, js + 300, 255);
	ok(check(js, n, &fast, e) && strcmp(e, "key \"texte\": text of 255 bytes exceeds 254") == 0,
	    "255 bytes: %s", e);
	char t[300];
	for (int i = 0; i < 12; i++)
		memcpy(t + 3 * i, "\xe2\x82\xac", 3);
	memset(t + 36, 'a', 242);
	n = texte(js, t, 278);
	ok(check(js, n, &fast, e) && strcmp(e, "key \"texte\": text of 278 bytes exceeds 254") == 0,
	    "278 bytes of which 36 are euro signs: %s", e);

	const struct { const char *json; size_t n; const char *want; } cases[] = {
		{ "{\"titre\":\"a\",\"t\\u0069tre\":null}", 0, "duplicate key \"titre\"" },
		{ "{\"prix\":1,\"prix\":2}", 0, "duplicate key \"prix\"" },
		{ "{\"couleur_fond\":3}", 0, "unknown key \"couleur_fond\"" },
		{ "{\"titre\":\"caf\xe9\"}", 0, "invalid JSON at byte 13: invalid UTF-8" },
		{ "{\"titre\":\"ok\",\"texte\":\"\xe2\x82\"}", 0, "invalid JSON at byte 23: invalid UTF-8" },
		{ "{\"age_min\":1\0}", 14, "invalid JSON at byte 12: NUL byte" },
		{ "{\"prix\":-1}", 0, "key \"prix\": -1 out of range 0..4294967295" },
		{ "{\"prix\":1.5}", 0, "key \"prix\": expected an integer, not a fraction or exponent" },
		{ "{\"bip\":1}", 0, "key \"bip\": expected a boolean" },
		{ "[1]", 0, "invalid JSON at byte 0: storables must be a JSON object" },
	};
	int all = 1;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t l = cases[i].n ? cases[i].n : strlen(cases[i].json);
		int r = check(cases[i].json, l, &fast, e);
		if (strcmp(e, cases[i].want) != 0)
			printf("# %s: got %s, want %s\n", cases[i].json, e, cases[i].want);
		all &= r && strcmp(e, cases[i].want) == 0;
	}
	ok(all, "%zu errors in moma-section(5)'s words", sizeof cases / sizeof *cases);
}

int
main(void)
{
	test_tables();
	test_text();
	test_utf8();
	test_errors();
	return tap_done();
}
