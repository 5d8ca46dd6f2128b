/*
 * moma-sample-gen - deterministic sample rows for campagnes and messages,
 * in COPY text format on stdout.  Driven by scripts/dev/moma-sample, which wraps
 * the two streams into one transaction; not installed.
 *
 * usage: moma-sample-gen -t campagnes|messages [-c campaigns] [-d days]
 *            [-n messages] [-s seed] [-S start-date] [-z zone,...]
 *
 * Campaign k (1..c) belongs to zone z[k % len(z)]; it starts on a random
 * day of the range [start, start + days) at a random second (a quarter of
 * them exactly at midnight) and lasts from one hour to fourteen days (a
 * quarter end at 23:59:59), so a given date selects a subset.  Messages
 * (ids 1..n) are spread over campaigns with random weights, in campaign
 * order, as an operator's database grows.  The same arguments always give
 * the same bytes: one splitmix64 stream per table seeded from -s.
 *
 * storables use only keys of the encoder's tag registry, 3 to 6 keys and
 * about 150 to 250 bytes of JSON, texts in French typography (UTF-8 of 1
 * to 4 bytes: accents, U+2019, U+202F, the euro sign, some emoji).
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvbtime.h"

static uint64_t rng;

static uint64_t
next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0; the modulo bias is irrelevant for samples. */
static uint64_t
rnd(uint64_t n)
{
	return next() % n;
}

/* ---- output buffer: one fwrite per 1 MiB ------------------------------- */
static char obuf[1 << 20];
static size_t olen;

static void
flush_out(void)
{
	if (olen && fwrite(obuf, 1, olen, stdout) != olen)
		err(74, "write");
	olen = 0;
}

static void
put(const char *s, size_t n)
{
	if (olen + n > sizeof obuf)
		flush_out();
	memcpy(obuf + olen, s, n);
	olen += n;
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

/* ---- storables -------------------------------------------------------- */
/*
 * French marketing copy as operators write it: the typographic apostrophe
 * U+2019, the narrow no-break space U+202F before ! ? ; : and inside
 * guillemets, prices with U+202F before the euro sign, the ellipsis and
 * the en dash, accents, and an emoji on about one message in twelve
 * (EMOJI_RATE).  Nearly every message holds a 3-byte character, as in
 * production.  NNBSP and APOS keep the source readable.
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

#define PICK(a) (a[rnd(sizeof a / sizeof a[0])])

/* One storables object: 3 to 6 keys, about 150-250 bytes. */
static void
storables(struct jbuf *j)
{
	/* Optional keys; titre and texte are always present. */
	enum { K_PRIX, K_CHAINE, K_DUREE, K_POSITION, K_COULEUR, K_PRIORITE,
		K_OFFRE, K_AGE, K_BIP, K_CODE, K_URL, K_NOM, K_PRENOM, K_CIV,
		K_LANGUE, K_SIGNATURE, K_N };
	int used[K_N] = { 0 }, extra = 1 + (int)rnd(4), target = 150 + (int)rnd(101);
	char b[160];

	j->n = 0;
	jcat(j, "{");
	if (rnd(EMOJI_RATE) == 0) {
		snprintf(b, sizeof b, "%s %s", PICK(titres), PICK(emoji));
		jstr(j, "titre", b);
	} else {
		jstr(j, "titre", PICK(titres));
	}
	for (int i = 0; i < extra; i++) {
		int k = (int)rnd(K_N);
		if (used[k]) {
			i--;
			continue;
		}
		used[k] = 1;
		switch (k) {
		case K_PRIX: jint(j, "prix", 99 + rnd(50000)); break;
		case K_CHAINE: jint(j, "chaine", 1 + rnd(400)); break;
		case K_DUREE: jint(j, "duree", 5 + rnd(600)); break;
		case K_POSITION: jint(j, "position", rnd(256)); break;
		case K_COULEUR: jint(j, "couleur", rnd(16777216)); break;
		case K_PRIORITE: jint(j, "priorite", rnd(10)); break;
		case K_OFFRE: jint(j, "offre", rnd(65536)); break;
		case K_AGE: jint(j, "age_min", rnd(19)); break;
		case K_BIP: jkey(j, "bip"); jcat(j, rnd(2) ? "true" : "false"); break;
		case K_CODE:
			snprintf(b, sizeof b, "NOËL%04u", (unsigned)rnd(10000));
			jstr(j, "code_promo", b);
			break;
		case K_URL:
			snprintf(b, sizeof b, "https://moma.example/o/%u", (unsigned)rnd(100000));
			jstr(j, "url", b);
			break;
		case K_NOM: jstr(j, "nom", PICK(noms)); break;
		case K_PRENOM: jstr(j, "prenom", PICK(prenoms)); break;
		case K_CIV: jstr(j, "civilite", PICK(civ)); break;
		case K_LANGUE: jstr(j, "langue", PICK(langues)); break;
		case K_SIGNATURE: jstr(j, "signature", "Votre service clientèle"); break;
		}
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
		const char *w = PICK(mots);
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
}

/* ---- tables ----------------------------------------------------------- */
static void
usage(void)
{
	fprintf(stderr, "usage: moma-sample-gen -t campagnes|messages [-c campaigns] "
	    "[-d days] [-n messages] [-s seed] [-S start-date] [-z zone,...]\n");
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
	const char *table = NULL, *zlist = "1,2,3,4";
	int64_t ncamp = 3000, days = 30, nmsg = 100000, seed = 1, start;
	int zones[256], nz = 0, c;

	if (dvbtime_parse("2026-11-01", 10, &start) != 0)
		errx(70, "dvbtime_parse");
	while ((c = getopt(argc, argv, "c:d:n:s:S:t:z:")) != -1) {
		switch (c) {
		case 'c': ncamp = num(optarg, 1, 100000000, "-c"); break;
		case 'd': days = num(optarg, 1, 3650, "-d"); break;
		case 'n': nmsg = num(optarg, 0, INT64_C(1) << 40, "-n"); break;
		case 's': seed = num(optarg, 0, INT64_MAX, "-s"); break;
		case 'S':
			if (strlen(optarg) != 10 || dvbtime_parse(optarg, 10, &start) != 0)
				errx(64, "-S: %s: not a date YYYY-MM-DD", optarg);
			break;
		case 't': table = optarg; break;
		case 'z': zlist = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || table == NULL)
		usage();
	char *zl = strdup(zlist), *s = zl, *tok;
	if (zl == NULL)
		err(71, "strdup");
	while ((tok = strsep(&s, ",")) != NULL && nz < 256)
		zones[nz++] = (int)num(tok, 0, 255, "-z");
	free(zl);
	if (nz == 0)
		usage();

	if (strcmp(table, "campagnes") == 0) {
		rng = (uint64_t)seed * 2 + 1;
		for (int64_t k = 1; k <= ncamp; k++) {
			int64_t day = start + (int64_t)rnd((uint64_t)days) * 86400;
			int64_t vs = rnd(4) == 0 ? day : day + (int64_t)rnd(86400);
			int64_t ve = vs + 3600 + (int64_t)rnd(14 * 86400);
			if (rnd(4) == 0)	/* end at the last second of a day */
				ve = ve - ((ve % 86400) + 86400) % 86400 + 86399;
			putnum(k); put("\t", 1);
			putnum(zones[k % nz]); put("\t", 1);
			putts(vs); put("\t", 1);
			putts(ve); put("\t", 1);
			putnum((int64_t)rnd(16)); put("\t", 1);
			putnum((int64_t)rnd(6)); put("\t", 1);
			putnum((int64_t)rnd(3601)); put("\t", 1);
			puts_("Campagne "); putnum(k); put("\n", 1);
		}
	} else if (strcmp(table, "messages") == 0) {
		/* Weights 1..64 per campaign from their own stream, then an
		 * exact split of nmsg by cumulative weight. */
		double *cum = malloc(sizeof *cum * (size_t)(ncamp + 1));
		struct jbuf j;
		int64_t id = 1;

		if (cum == NULL)
			err(71, "malloc");
		rng = (uint64_t)seed * 2 + 2;
		cum[0] = 0;
		for (int64_t k = 1; k <= ncamp; k++)
			cum[k] = cum[k - 1] + (double)(1 + rnd(64));
		rng = (uint64_t)seed * 2 + 3;
		for (int64_t k = 1; k <= ncamp; k++) {
			int64_t hi = (int64_t)((double)nmsg * (cum[k] / cum[ncamp]));
			if (k == ncamp)
				hi = nmsg;
			for (; id <= hi; id++) {
				putnum(id); put("\t", 1);
				putnum(k); put("\t", 1);
				putnum(1 + (int64_t)rnd(4294967295u)); put("\t", 1);
				putnum(1 + (int64_t)rnd(50)); put("\t", 1);
				storables(&j);
				put(j.b, j.n); put("\n", 1);
			}
		}
		free(cum);
	} else {
		usage();
	}
	flush_out();
	if (fflush(stdout) != 0 || ferror(stdout))
		err(74, "stdout");
	return 0;
}
