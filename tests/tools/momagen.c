/*
 * momagen - deterministic random messages for tests and the bench.
 *
 *   momagen [-n count] [-s seed] [-z network_id] [--frames | --jsonl] [--two-byte]
 *
 * --jsonl (default) writes moma-dump -r input lines (a header line, then
 * one message per line); --frames writes the frame stream directly, fast
 * enough to make 10 M records for the bench.  storables have 3 to 6 keys
 * of the tag registry (taken from tlv_registry), French texts up to ~120
 * characters in French typography (below); --two-byte writes them in 1-
 * and 2-byte characters.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "tlv.h"

static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
below(uint64_t n)
{
	return next() % n;
}

/*
 * French marketing copy in its typography: U+2019 apostrophes, U+202F
 * (narrow no-break space) before ! ? : ; and inside guillemets, the euro
 * sign, the ellipsis, the en dash, accents, and an emoji in about one
 * title in twelve.  --two-byte writes the same texts with each 3- and
 * 4-byte character replaced by a 2-byte one (narrow[] below), the bench's
 * baseline for the cost of typography.
 */
#define NNBSP "\u202F"
#define APOS "\u2019"
static const char *words[] = {
	"Découvrez", "l" APOS "offre", "spéciale", "Noël", "chaînes", "été", "à", "prix",
	"réduit", "abonnés", "Réunion", "Calédonie", "Caraïbes", "cinéma", "séries",
	"sport", "en", "direct", "dès", "maintenant" NNBSP "!", "profitez", "exclusivité",
	"économisez", "jusqu" APOS "à", "mois", "offerts", "télévision", "HD", "événement",
	"fête", "nouveautés", "documentaires", "enfants", "musique", "décodeur",
	"à", "la", "le", "les", "pour", "votre", "famille", "ce", "week-end",
	"\"Bouquet", "Évasion\"", "ôtez", "où", "naïf", "garçon", "Œuvre",
	"9,99" NNBSP "€", "…", "–", "«" NNBSP "exclusif" NNBSP "»", "prêt" NNBSP "?",
	"d" APOS "été", "c" APOS "est",
};
static const char *emoji[] = { "\U0001F384", "\U0001F381", "\u26BD", "\U0001F3AC",
	"\U0001F4FA", "\u2728", "\U0001F389" };
#define NEMOJI (sizeof emoji / sizeof emoji[0])
/* --two-byte: each wide character of the texts and its 2-byte stand-in. */
static const char *narrow[][2] = {
	{ APOS, "\u02BC" }, { NNBSP, "\u00A0" }, { "€", "\u00A4" }, { "…", "\u00B7" },
	{ "–", "\u00AF" }, { "\U0001F384", "\u00A9" }, { "\U0001F381", "\u00A9" },
	{ "\u26BD", "\u00AE" }, { "\U0001F3AC", "\u00A9" }, { "\U0001F4FA", "\u00AE" },
	{ "\u2728", "\u00B0" }, { "\U0001F389", "\u00A9" },
};
static int two_byte;
#define NWORDS (sizeof words / sizeof words[0])

/* A text of at most max bytes, made of words. */
static size_t
text(char *dst, size_t max)
{
	size_t n = 0, want = 10 + below(max - 10);

	for (;;) {
		const char *w = words[below(NWORDS)];
		size_t l = strlen(w);
		if (n + (n ? 1 : 0) + l > want)
			break;
		if (n)
			dst[n++] = ' ';
		memcpy(dst + n, w, l);
		n += l;
	}
	if (n == 0) {
		memcpy(dst, "Offre", 5);
		n = 5;
	}
	return n;
}

/* The --two-byte form of t[0..n), in place (it only shrinks). */
static size_t
narrow_text(char *t, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k = 0;
		/* every wide character here starts with E2 or F0 */
		if ((uint8_t)t[i] != 0xe2 && (uint8_t)t[i] != 0xf0) {
			t[o++] = t[i++];
			continue;
		}
		while (k < sizeof narrow / sizeof narrow[0] &&
		    (strlen(narrow[k][0]) > n - i ||
		    memcmp(t + i, narrow[k][0], strlen(narrow[k][0])) != 0))
			k++;
		if (k == sizeof narrow / sizeof narrow[0]) {
			t[o++] = t[i++];
			continue;
		}
		memcpy(t + o, narrow[k][1], 2);
		o += 2;
		i += strlen(narrow[k][0]);
	}
	return o;
}

/* JSON-escape s into d, return length. */
static size_t
jesc(char *d, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			d[o++] = '\\';
		d[o++] = s[i];
	}
	return o;
}

/*
 * One storables object: 3 to 6 keys of the tag registry (tlv_registry,
 * libshared/tlv.h, so a key added there is generated here too): a title
 * and a text first, as every marketing message has, then keys at random,
 * each with a value of its registry type (an integer anywhere in its
 * width, a text of words, a boolean, a language code).
 */
static size_t
storables(char *out)
{
	static const uint64_t umax[] = { [TLV_TYPE_U8] = 0xff, [TLV_TYPE_U16] = 0xffff,
		[TLV_TYPE_U24] = 0xffffff, [TLV_TYPE_U32] = 0xffffffff };
	uint32_t used = 0;
	int nkeys = 3 + (int)below(4);
	size_t o = 0;
	char t[200];

	out[o++] = '{';
	for (int k = 0; k < nkeys; k++) {
		int pick;
		do
			pick = k == 0 ? TLV_KEY_titre : k == 1 ? TLV_KEY_texte : (int)below(TLV_NKEYS);
		while (used >> pick & 1);
		used |= 1u << pick;
		if (k)
			out[o++] = ',';
		const struct tlv_key *key = &tlv_registry[pick];
		o += (size_t)sprintf(out + o, "\"%s\":", key->name);
		switch (key->type) {
		case TLV_TYPE_TEXT: {
			size_t l = text(t, pick == TLV_KEY_texte ? 120 : pick == TLV_KEY_titre ? 50 : 30);
			if (pick == TLV_KEY_titre && below(12) == 0) {	/* an emoji in the title */
				const char *e = emoji[below(NEMOJI)];
				t[l++] = ' ';
				memcpy(t + l, e, strlen(e));
				l += strlen(e);
			}
			if (two_byte)
				l = narrow_text(t, l);
			out[o++] = '"';
			o += jesc(out + o, t, l);
			out[o++] = '"';
			break;
		}
		case TLV_TYPE_BOOL:
			o += (size_t)sprintf(out + o, "%s", below(2) ? "true" : "false");
			break;
		case TLV_TYPE_LANG:
			o += (size_t)sprintf(out + o, "\"%s\"", below(2) ? "fra" : "eng");
			break;
		default:
			o += (size_t)sprintf(out + o, "%" PRIu64, below(umax[key->type] + 1));
		}
	}
	out[o++] = '}';
	return o;
}

int
main(int argc, char *argv[])
{
	uint64_t count = 10, seed = 1;
	int frames = 0, zone = 1, c;
	static const struct option lo[] = {
		{ "frames", no_argument, NULL, 'f' }, { "jsonl", no_argument, NULL, 'j' },
		{ "two-byte", no_argument, NULL, '2' }, { NULL, 0, NULL, 0 } };

	while ((c = getopt_long(argc, argv, "n:s:z:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': frames = 1; break;
		case 'j': frames = 0; break;
		case '2': two_byte = 1; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'z': zone = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: momagen [-n count] [-s seed] [-z network_id] [--frames | --jsonl] [--two-byte]\n");
			return EX_USAGE;
		}
	}
	rng = seed * 0x9E3779B97F4A7C15ull + 1;
	struct io_out out;
	struct frame_writer fw;
	struct frame_hdr h = { .network_id = (uint8_t)zone, .date = "2026-11-22", .created = 1795305600 };
	snprintf(h.zone, sizeof h.zone, "zone-%d", zone);
	snprintf(h.producer, sizeof h.producer, "momagen seed %" PRIu64, seed);
	if (io_out_init(&out, STDOUT_FILENO, 256 * 1024, NULL))
		err(EX_OSERR, "malloc");
	if (frames)
		frame_writer_open(&fw, &out, &h);
	else {
		char l[512];
		int n = snprintf(l, sizeof l, "{\"type\":\"header\",\"network_id\":%d,\"date\":\"%s\","
		    "\"created\":%" PRId64 ",\"zone\":\"%s\",\"producer\":\"%s\"}\n",
		    zone, h.date, h.created, h.zone, h.producer);
		io_out_write(&out, l, (size_t)n);
	}
	int64_t camp = 1000, vs = 1795219200, ve = vs + 7 * 86400;
	char js[2048], l[4096];
	for (uint64_t i = 1; i <= count; i++) {
		if (below(200) == 0) {	/* a new campaign every ~200 messages */
			camp += 1 + (int64_t)below(5);
			vs = 1795219200 - (int64_t)below(30) * 86400 + (int64_t)below(86400);
			ve = vs + 86400 + (int64_t)below(60 * 86400);
		}
		struct frame_msg m = {
			.id = (int64_t)i, .campagne_id = camp,
			.numero_abonne = (int64_t)below(UINT32_MAX) + 1,
			.template_id = (int32_t)below(50), .genre = (int16_t)below(8),
			.ack_count = (int16_t)below(4), .ack_delay = (int32_t)below(3600),
			.valid_start = vs, .valid_end = ve,
		};
		m.storables_len = storables(js);
		m.storables = (const uint8_t *)js;
		if (frames) {
			if (frame_write_msg(&fw, &m) != FRAME_OK)
				err(EX_IOERR, "write");
			continue;
		}
		int n = snprintf(l, sizeof l, "{\"id\":%" PRId64 ",\"campagne_id\":%" PRId64
		    ",\"numero_abonne\":%" PRId64 ",\"template_id\":%d,\"genre\":%d,\"ack_count\":%d"
		    ",\"ack_delay\":%d,\"valid_start\":%" PRId64 ",\"valid_end\":%" PRId64
		    ",\"storables\":%.*s}\n", m.id, m.campagne_id, m.numero_abonne, m.template_id,
		    m.genre, m.ack_count, m.ack_delay, m.valid_start, m.valid_end,
		    (int)m.storables_len, js);
		if (io_out_write(&out, l, (size_t)n))
			err(EX_IOERR, "write");
	}
	if (frames ? frame_write_end(&fw) != FRAME_OK : io_out_flush(&out) != 0)
		err(EX_IOERR, "write");
	io_out_free(&out);
	return 0;
}
