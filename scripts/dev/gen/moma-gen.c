/*
 * moma-gen - deterministic sample campaigns and messages, for the demo's
 * database (scripts/dev/moma-sample), the tests and the bench; not
 * installed.
 *
 * usage: moma-gen [-c campaigns] [-d days] [-n messages] [-s seed]
 *            [-S start-date] [-t campagnes|messages|frames|jsonl]
 *            [--two-byte] [-z zone,...]
 *
 * One set of rows, written in the form -t names:
 *   campagnes, messages  one table in PostgreSQL's COPY text format; what
 *                        moma-sample loads, one stream per table;
 *   frames               every message with its campaign's fields as a
 *                        frame stream (moma-frame(5)), as moma-fetch
 *                        writes it, fast enough for the bench's 10 M;
 *   jsonl                the same as moma-dump -r input lines: a header
 *                        line, then one message a line (the default).
 * The frames and the lines hold every message, under one header: network
 * and zone "zone-N" of the first zone of -z, date and creation time the
 * start date, producer "moma-gen seed S".
 *
 * Campaign k (1..c) belongs to zone z[k % len(z)]; it starts on a random
 * day of the range [start, start + days) at a random second (a quarter of
 * them exactly at midnight) and lasts from one hour to fourteen days (a
 * quarter end at 23:59:59), so a given date selects a subset.  Messages
 * (ids 1..n) are spread over campaigns with random weights, in campaign
 * order, as an operator's database grows.  The same arguments always give
 * the same bytes: one splitmix64 stream per table seeded from -s (the
 * campaigns', the weights', the messages').
 *
 * storables have a title, 1 to 4 other keys and a text, about 150 to 250
 * bytes of JSON in the spacing of PostgreSQL's jsonb text, texts in French
 * typography (UTF-8 of 1 to 4 bytes: accents, U+2019, U+202F, the euro
 * sign, some emoji).  The keys are those of the encoder's tag registry
 * (TLV_REGISTRY, libshared/tlv.h): the ones below with values as an
 * operator writes them, and any other registry key with a value of its
 * type, so a key added to the registry is generated too.  --two-byte
 * writes each 3- and 4-byte character as a 2-byte one (narrow[]), the
 * same messages otherwise: the bench's baseline for the cost of
 * typography.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvbtime.h"
#include "frame.h"
#include "io.h"
#include "tlv.h"

/* ---- random numbers: splitmix64, one stream per table ------------------ */
static uint64_t
next(uint64_t *rng)
{
	uint64_t z = (*rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0; the modulo bias is irrelevant for samples. */
static uint64_t
rnd(uint64_t *rng, uint64_t n)
{
	return next(rng) % n;
}

#define NELEM(a) (sizeof a / sizeof a[0])
#define PICK(rng, a) (a[rnd(rng, NELEM(a))])

/* ---- output: one buffer on stdout; a write error ends the program ------ */
static struct io_out out;

static void
put(const void *s, size_t n)
{
	if (io_out_write(&out, s, n) != 0)
		err(74, "write");
}

static void
puts_(const char *s)
{
	put(s, strlen(s));
}

static void
putnum(int64_t v)
{
	char b[24], *p = b + sizeof b;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	put(p, (size_t)(b + sizeof b - p));
}

static void
put2(unsigned v)
{
	char b[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };

	put(b, 2);
}

/* timestamptz literal "YYYY-MM-DD HH:MM:SS+00" */
static void
putts(int64_t t)
{
	int64_t days = t / 86400, s = t % 86400, y;
	unsigned m, d;

	if (s < 0) {
		s += 86400;
		days--;
	}
	dvbtime_civil_from_days(days, &y, &m, &d);
	putnum(y);
	put("-", 1); put2(m); put("-", 1); put2(d); put(" ", 1);
	put2((unsigned)(s / 3600)); put(":", 1); put2((unsigned)(s / 60 % 60));
	put(":", 1); put2((unsigned)(s % 60)); put("+00", 3);
}

/* ---- texts ------------------------------------------------------------ */
/*
 * French marketing copy as operators write it: the typographic apostrophe
 * U+2019, the narrow no-break space U+202F before ! ? ; : and inside
 * guillemets, prices with U+202F before the euro sign, the ellipsis and
 * the en dash, accents, and an emoji on about one message in twelve
 * (EMOJI_RATE).  Nearly every message holds a 3-byte character, as in
 * production.  NNBSP and APOS keep the source readable.  No text holds a
 * character that JSON or COPY would escape.
 */
#define NNBSP "\u202F"
#define APOS "\u2019"
#define EMOJI_RATE 12
static const char *titres[] = {
	"Offre spéciale fêtes" NNBSP "!", "Votre bouquet évolue", "Nouveauté" NNBSP ": chaîne découverte",
	"Rappel d" APOS "échéance", "Soirée cinéma gratuite" NNBSP "!", "L" APOS "été en musique",
	"Le sport en clair ce week-end", "Mise à jour de votre décodeur",
	"Cadeau de fidélité" NNBSP "!", "Programme jeunesse à la une", "Élections" NNBSP ": édition spéciale",
	"Météo marine renforcée", "Dernière chance" NNBSP "!", "Prêt pour Noël" NNBSP "?",
	"-50" NNBSP "% sur l" APOS "option cinéma", "Vos séries préférées… en 4K",
};
static const char *mots[] = {
	"profitez", "de", "notre", "offre", "exclusive", "réservée", "aux", "abonnés",
	"fidèles", "pendant", "les", "fêtes", "découvrez", "chaînes", "séries", "inédites",
	"en", "haute", "définition", "sans", "engagement", "à", "partir", "du",
	"décembre", "été", "événement", "théâtre", "cinéma", "documentaires", "océan",
	"île", "lagon", "marché", "génération", "très", "bientôt", "chez", "vous",
	"l" APOS "offre", "jusqu" APOS "au", "d" APOS "été", "c" APOS "est", "qu" APOS "à",
	"l" APOS "application", "9,99" NNBSP "€", "29" NNBSP "€/mois", "…", "–",
	"«" NNBSP "exclusif" NNBSP "»", "maintenant" NNBSP "!", "prêt" NNBSP "?", "offert" NNBSP ";",
};
static const char *emoji[] = { "\U0001F384", "\U0001F381", "\u26BD", "\U0001F3AC",
	"\U0001F4FA", "\u2728", "\U0001F31E", "\U0001F389" };
static const char *noms[] = { "Dupont", "Nguyen", "Hoarau", "Payet", "Wamytan",
	"Tjibaou", "Diallo", "Traoré", "Lebœuf", "Gaëlle", "Béranger", "Citron" };
static const char *prenoms[] = { "Émilie", "José", "Anaïs", "Noé", "Loïc",
	"Hélène", "Jérôme", "Aïssatou", "François", "Maëva", "Kévin", "Cécile" };
static const char *civ[] = { "M.", "Mme", "Mlle" };
static const char *langues[] = { "fra", "eng", "rcf", "spa" };

/* --two-byte: each 3- and 4-byte character of the texts above and its
 * 2-byte stand-in (every one of them starts with E2 or F0). */
static const char *narrow[][2] = {
	{ APOS, "\u02BC" }, { NNBSP, "\u00A0" }, { "€", "\u00A4" }, { "…", "\u00B7" },
	{ "–", "\u00AF" }, { "\U0001F384", "\u00A9" }, { "\U0001F381", "\u00A9" },
	{ "\u26BD", "\u00AE" }, { "\U0001F3AC", "\u00A9" }, { "\U0001F4FA", "\u00AE" },
	{ "\u2728", "\u00B0" }, { "\U0001F31E", "\u00B0" }, { "\U0001F389", "\u00A9" },
};

/* The --two-byte form of t[0..n), in place (it only shrinks). */
static size_t
narrow_text(char *t, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k = 0;

		if ((uint8_t)t[i] != 0xe2 && (uint8_t)t[i] != 0xf0) {
			t[o++] = t[i++];
			continue;
		}
		while (k < NELEM(narrow) && (strlen(narrow[k][0]) > n - i ||
		    memcmp(t + i, narrow[k][0], strlen(narrow[k][0])) != 0))
			k++;
		if (k == NELEM(narrow))
			errx(70, "--two-byte: a wide character with no stand-in at text byte %zu", i);
		memcpy(t + o, narrow[k][1], 2);
		o += 2;
		i += strlen(narrow[k][0]);
	}
	return o;
}

/* ---- storables -------------------------------------------------------- */
struct jbuf {
	char b[512];
	size_t n;
};

static void
jcat(struct jbuf *j, const char *s)
{
	size_t n = strlen(s);

	if (j->n + n < sizeof j->b) {
		memcpy(j->b + j->n, s, n);
		j->n += n;
	}
}

static void
jkey(struct jbuf *j, const char *k)
{
	jcat(j, j->n > 1 ? ", \"" : "\"");
	jcat(j, k);
	jcat(j, "\": ");
}

static void
jstr(struct jbuf *j, const char *k, const char *v)
{
	jkey(j, k);
	jcat(j, "\"");
	jcat(j, v);
	jcat(j, "\"");
}

static void
jint(struct jbuf *j, const char *k, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof b, "%" PRIu64, v);
	jkey(j, k);
	jcat(j, b);
}

/*
 * The keys besides titre and texte, and how each gets its value: lo +
 * rnd(span) (G_INT), one of a list (G_PICK), a text followed by rnd(span)
 * in at least lo digits (G_NUMBERED), true or false (G_BOOL), always the
 * same text (G_FIXED).  Their order is the one the sample data was first
 * made with: an index drawn into this list picks the key, so reordering
 * it changes every sample.
 */
enum gkind { G_INT, G_PICK, G_NUMBERED, G_BOOL, G_FIXED };
struct gkey {
	const char *name;
	enum gkind kind;
	uint64_t lo, span;
	const char *const *list;	/* G_PICK: span entries; else the text, list[0] */
};
#define G_LIST(a) 0, NELEM(a), a
static const char *code[] = { "NOËL" }, *url[] = { "https://moma.example/o/" },
	*signature[] = { "Votre service clientèle" };
static const struct gkey gkeys[] = {
	{ "prix", G_INT, 99, 50000, NULL }, { "chaine", G_INT, 1, 400, NULL },
	{ "duree", G_INT, 5, 600, NULL }, { "position", G_INT, 0, 256, NULL },
	{ "couleur", G_INT, 0, 16777216, NULL }, { "priorite", G_INT, 0, 10, NULL },
	{ "offre", G_INT, 0, 65536, NULL }, { "age_min", G_INT, 0, 19, NULL },
	{ "bip", G_BOOL, 0, 0, NULL }, { "code_promo", G_NUMBERED, 4, 10000, code },
	{ "url", G_NUMBERED, 0, 100000, url }, { "nom", G_PICK, G_LIST(noms) },
	{ "prenom", G_PICK, G_LIST(prenoms) }, { "civilite", G_PICK, G_LIST(civ) },
	{ "langue", G_PICK, G_LIST(langues) }, { "signature", G_FIXED, 0, 0, signature },
};

/* The registry's names and types, from TLV_REGISTRY itself: tlv.c's
 * table would pull the JSON reader, and Jansson, into the link. */
#define REG_ENTRY_(name, tag, type) { #name, TLV_TYPE_##type },
static const struct {
	const char *name;
	enum tlv_type type;
} reg[] = { TLV_REGISTRY(REG_ENTRY_) };
#undef REG_ENTRY_

/* gkeys[], then every other registry key but titre and texte, with a value
 * of its type: an integer anywhere in its width, a word, a language. */
static struct gkey keys[TLV_NKEYS];
static int nkeys;

static int
fits(const struct gkey *g, enum tlv_type t)
{
	static const uint64_t umax[] = { [TLV_TYPE_U8] = 0xff, [TLV_TYPE_U16] = 0xffff,
		[TLV_TYPE_U24] = 0xffffff, [TLV_TYPE_U32] = 0xffffffff };

	switch (g->kind) {
	case G_INT: return t >= TLV_TYPE_U8 && t <= TLV_TYPE_U32 && g->lo + g->span - 1 <= umax[t];
	case G_BOOL: return t == TLV_TYPE_BOOL;
	case G_PICK: return t == TLV_TYPE_TEXT || (t == TLV_TYPE_LANG && g->list == langues);
	default: return t == TLV_TYPE_TEXT;
	}
}

static void
keys_init(void)
{
	int used[TLV_NKEYS] = { 0 };

	used[TLV_KEY_titre] = used[TLV_KEY_texte] = 1;
	for (size_t i = 0; i < NELEM(gkeys); i++) {
		int r = 0;
		while (r < TLV_NKEYS && strcmp(reg[r].name, gkeys[i].name) != 0)
			r++;
		if (r == TLV_NKEYS || used[r] || !fits(&gkeys[i], reg[r].type))
			errx(70, "key %s: not in the tag registry, twice, or not of its type",
			    gkeys[i].name);
		used[r] = 1;
		keys[nkeys++] = gkeys[i];
	}
	for (int r = 0; r < TLV_NKEYS; r++) {
		if (used[r])
			continue;
		struct gkey g = { reg[r].name, G_INT, 0, 0, NULL };
		switch (reg[r].type) {
		case TLV_TYPE_TEXT: g.kind = G_PICK; g.span = NELEM(mots); g.list = mots; break;
		case TLV_TYPE_LANG: g.kind = G_PICK; g.span = NELEM(langues); g.list = langues; break;
		case TLV_TYPE_BOOL: g.kind = G_BOOL; break;
		case TLV_TYPE_U8: g.span = 1u << 8; break;
		case TLV_TYPE_U16: g.span = 1u << 16; break;
		case TLV_TYPE_U24: g.span = 1u << 24; break;
		case TLV_TYPE_U32: g.span = UINT64_C(1) << 32; break;
		}
		keys[nkeys++] = g;
	}
}

static void
value(struct jbuf *j, const struct gkey *g, uint64_t *rng)
{
	char b[160];

	switch (g->kind) {
	case G_INT: jint(j, g->name, g->lo + rnd(rng, g->span)); break;
	case G_PICK: jstr(j, g->name, g->list[rnd(rng, g->span)]); break;
	case G_BOOL: jkey(j, g->name); jcat(j, rnd(rng, 2) ? "true" : "false"); break;
	case G_FIXED: jstr(j, g->name, g->list[0]); break;
	case G_NUMBERED:
		snprintf(b, sizeof b, "%s%0*u", g->list[0], (int)g->lo, (unsigned)rnd(rng, g->span));
		jstr(j, g->name, b);
		break;
	}
}

/* One storables object: titre, 1 to 4 other keys, texte; about 150-250
 * bytes. */
static void
storables(struct jbuf *j, uint64_t *rng, int two_byte)
{
	int used[TLV_NKEYS] = { 0 }, extra = 1 + (int)rnd(rng, 4), target = 150 + (int)rnd(rng, 101);
	char b[160];

	j->n = 0;
	jcat(j, "{");
	if (rnd(rng, EMOJI_RATE) == 0) {
		/* The emoji is drawn first (as GCC evaluated the arguments of
		 * the call these two draws were first written in). */
		const char *e = PICK(rng, emoji), *t = PICK(rng, titres);
		snprintf(b, sizeof b, "%s %s", t, e);
		jstr(j, "titre", b);
	} else {
		jstr(j, "titre", PICK(rng, titres));
	}
	for (int i = 0; i < extra; i++) {
		int k = (int)rnd(rng, (uint64_t)nkeys);
		if (used[k]) {
			i--;
			continue;
		}
		used[k] = 1;
		value(j, &keys[k], rng);
	}
	/* texte fills up to the target size: 20 to ~120 bytes of words. */
	int room = target - (int)j->n - 9;
	if (room < 20)
		room = 20;
	if (room > 120)
		room = 120;
	size_t n = 0;
	b[0] = '\0';
	for (;;) {
		const char *w = PICK(rng, mots);
		size_t wl = strlen(w);
		if (n + wl + 1 > (size_t)room)
			break;
		if (n)
			b[n++] = ' ';
		memcpy(b + n, w, wl + 1);
		n += wl;
	}
	if (n == 0)
		snprintf(b, sizeof b, "À bientôt");
	jstr(j, "texte", b);
	jcat(j, "}");
	if (two_byte)
		j->n = narrow_text(j->b, j->n);
}

/* ---- rows ------------------------------------------------------------- */
struct opts {
	int64_t ncamp, days, nmsg, seed, start;
	int zones[256], nz, two_byte;
};

struct camp {
	int64_t vs, ve;
	int genre, ack_count, ack_delay;
};

/* The next campaign of the campaigns' stream. */
static void
campaign(const struct opts *o, uint64_t *rng, struct camp *c)
{
	int64_t day = o->start + (int64_t)rnd(rng, (uint64_t)o->days) * 86400;

	c->vs = rnd(rng, 4) == 0 ? day : day + (int64_t)rnd(rng, 86400);
	c->ve = c->vs + 3600 + (int64_t)rnd(rng, 14 * 86400);
	if (rnd(rng, 4) == 0)	/* end at the last second of a day */
		c->ve = c->ve - ((c->ve % 86400) + 86400) % 86400 + 86399;
	c->genre = (int)rnd(rng, 16);
	c->ack_count = (int)rnd(rng, 6);
	c->ack_delay = (int)rnd(rng, 3601);
}

static void
copy_campagnes(const struct opts *o)
{
	uint64_t rng = (uint64_t)o->seed * 2 + 1;
	struct camp c;

	for (int64_t k = 1; k <= o->ncamp; k++) {
		campaign(o, &rng, &c);
		putnum(k); put("\t", 1);
		putnum(o->zones[k % o->nz]); put("\t", 1);
		putts(c.vs); put("\t", 1);
		putts(c.ve); put("\t", 1);
		putnum(c.genre); put("\t", 1);
		putnum(c.ack_count); put("\t", 1);
		putnum(c.ack_delay); put("\t", 1);
		puts_("Campagne "); putnum(k); put("\n", 1);
	}
}

enum form { F_COPY, F_FRAMES, F_JSONL };

static void
jsonl_msg(const struct frame_msg *m)
{
	put("{\"id\":", 6); putnum(m->id);
	puts_(",\"campagne_id\":"); putnum(m->campagne_id);
	puts_(",\"numero_abonne\":"); putnum(m->numero_abonne);
	puts_(",\"template_id\":"); putnum(m->template_id);
	puts_(",\"genre\":"); putnum(m->genre);
	puts_(",\"ack_count\":"); putnum(m->ack_count);
	puts_(",\"ack_delay\":"); putnum(m->ack_delay);
	puts_(",\"valid_start\":"); putnum(m->valid_start);
	puts_(",\"valid_end\":"); putnum(m->valid_end);
	puts_(",\"storables\":"); put(m->storables, m->storables_len);
	put("}\n", 2);
}

/*
 * The messages, in campaign order: weights 1..64 per campaign from their
 * own stream, then an exact split of nmsg by cumulative weight; each
 * campaign's fields come from the campaigns' stream as copy_campagnes
 * draws them.
 */
static void
messages(const struct opts *o, enum form f, struct frame_writer *fw)
{
	double *cum = malloc(sizeof *cum * (size_t)(o->ncamp + 1));
	uint64_t rng = (uint64_t)o->seed * 2 + 2, crng = (uint64_t)o->seed * 2 + 1;
	struct jbuf j;
	struct camp c;
	int64_t id = 1;

	if (cum == NULL)
		err(71, "malloc");
	cum[0] = 0;
	for (int64_t k = 1; k <= o->ncamp; k++)
		cum[k] = cum[k - 1] + (double)(1 + rnd(&rng, 64));
	rng = (uint64_t)o->seed * 2 + 3;
	for (int64_t k = 1; k <= o->ncamp; k++) {
		int64_t hi = (int64_t)((double)o->nmsg * (cum[k] / cum[o->ncamp]));
		if (k == o->ncamp)
			hi = o->nmsg;
		if (f != F_COPY)
			campaign(o, &crng, &c);
		for (; id <= hi; id++) {
			int64_t abonne = 1 + (int64_t)rnd(&rng, 4294967295u);
			int32_t template = 1 + (int32_t)rnd(&rng, 50);
			storables(&j, &rng, o->two_byte);
			if (f == F_COPY) {
				putnum(id); put("\t", 1);
				putnum(k); put("\t", 1);
				putnum(abonne); put("\t", 1);
				putnum(template); put("\t", 1);
				put(j.b, j.n); put("\n", 1);
				continue;
			}
			struct frame_msg m = {
				.id = id, .campagne_id = k, .numero_abonne = abonne,
				.valid_start = c.vs, .valid_end = c.ve, .template_id = template,
				.ack_delay = c.ack_delay, .genre = (int16_t)c.genre,
				.ack_count = (int16_t)c.ack_count,
				.storables = (const uint8_t *)j.b, .storables_len = j.n,
			};
			if (f == F_JSONL)
				jsonl_msg(&m);
			else if (frame_write_msg(fw, &m) != FRAME_OK)
				err(74, "write");
		}
	}
	free(cum);
}

/* The messages as a frame stream or JSON lines, under one header. */
static void
stream(const struct opts *o, enum form f)
{
	struct frame_hdr h = { .network_id = (uint8_t)o->zones[0], .created = o->start };
	struct frame_writer fw;
	int64_t y;
	unsigned mo, d;

	dvbtime_civil_from_days(o->start / 86400, &y, &mo, &d);
	snprintf(h.date, sizeof h.date, "%04" PRId64 "-%02u-%02u", y, mo, d);
	snprintf(h.zone, sizeof h.zone, "zone-%d", o->zones[0]);
	snprintf(h.producer, sizeof h.producer, "moma-gen seed %" PRId64, o->seed);
	if (f == F_FRAMES) {
		if (frame_writer_open(&fw, &out, &h) != FRAME_OK)
			err(74, "write");
	} else {
		puts_("{\"type\":\"header\",\"network_id\":"); putnum(h.network_id);
		puts_(",\"date\":\""); puts_(h.date);
		puts_("\",\"created\":"); putnum(h.created);
		puts_(",\"zone\":\""); puts_(h.zone);
		puts_("\",\"producer\":\""); puts_(h.producer); puts_("\"}\n");
	}
	messages(o, f, &fw);
	if (f == F_FRAMES && frame_write_end(&fw) != FRAME_OK)
		err(74, "write");
}

/* ---- main ------------------------------------------------------------- */
static void
usage(void)
{
	fprintf(stderr, "usage: moma-gen [-c campaigns] [-d days] [-n messages] [-s seed] "
	    "[-S start-date] [-t campagnes|messages|frames|jsonl] [--two-byte] [-z zone,...]\n");
	exit(64);
}

static int64_t
num(const char *s, int64_t lo, int64_t hi, const char *what)
{
	char *e;
	long long v = strtoll(s, &e, 10);

	if (*s == '\0' || *e != '\0' || v < lo || v > hi)
		errx(64, "%s: %s: not a number in %lld..%lld", what, s,
		    (long long)lo, (long long)hi);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "two-byte", no_argument, NULL, '2' }, { NULL, 0, NULL, 0 } };
	const char *table = "jsonl", *zlist = "1,2,3,4";
	struct opts o = { .ncamp = 3000, .days = 30, .nmsg = 100000, .seed = 1 };
	int c;

	if (dvbtime_parse("2026-11-01", 10, &o.start) != 0)
		errx(70, "dvbtime_parse");
	while ((c = getopt_long(argc, argv, "c:d:n:s:S:t:z:", lopts, NULL)) != -1) {
		switch (c) {
		case '2': o.two_byte = 1; break;
		case 'c': o.ncamp = num(optarg, 1, 100000000, "-c"); break;
		case 'd': o.days = num(optarg, 1, 3650, "-d"); break;
		case 'n': o.nmsg = num(optarg, 0, INT64_C(1) << 40, "-n"); break;
		case 's': o.seed = num(optarg, 0, INT64_MAX, "-s"); break;
		case 'S':
			if (strlen(optarg) != 10 || dvbtime_parse(optarg, 10, &o.start) != 0)
				errx(64, "-S: %s: not a date YYYY-MM-DD", optarg);
			break;
		case 't': table = optarg; break;
		case 'z': zlist = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	char *zl = strdup(zlist), *s = zl, *tok;
	if (zl == NULL)
		err(71, "strdup");
	while ((tok = strsep(&s, ",")) != NULL && o.nz < 256)
		o.zones[o.nz++] = (int)num(tok, 0, 255, "-z");
	free(zl);
	if (o.nz == 0)
		usage();
	keys_init();
	if (io_out_init(&out, STDOUT_FILENO, 1 << 20, NULL) != 0)
		err(71, "malloc");

	if (strcmp(table, "campagnes") == 0)
		copy_campagnes(&o);
	else if (strcmp(table, "messages") == 0)
		messages(&o, F_COPY, NULL);
	else if (strcmp(table, "frames") == 0)
		stream(&o, F_FRAMES);
	else if (strcmp(table, "jsonl") == 0)
		stream(&o, F_JSONL);
	else
		usage();
	if (io_out_flush(&out) != 0)
		err(74, "write");
	io_out_free(&out);
	return 0;
}
