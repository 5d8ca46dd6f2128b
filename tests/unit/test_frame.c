/*
 * Unit tests for libshared/frame.c: a written stream read back field by
 * field, every truncation an error, the checksum, the header strings.
 * Output is TAP (tap.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"

#include "tap.h"

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

/* Write a header with zone z, read it back into *hh.  The reader's code. */
static int
header_round_trip(const char *z, struct frame_hdr *hh)
{
	struct frame_hdr h = { .network_id = 1, .date = "2026-11-22", .producer = "unit" };
	static uint8_t buf[4096];
	char path[] = "/tmp/moma-unit-XXXXXX", e[FRAME_ERR_LEN];
	int fd = mkstemp(path), rc;
	struct io_out out;
	struct frame_writer w;
	off_t size;

	unlink(path);
	snprintf(h.zone, sizeof h.zone, "%s", z);	/* cut at 255 bytes, maybe mid-character */
	io_out_init(&out, fd, 4096, NULL);
	frame_writer_open(&w, &out, &h);
	frame_write_end(&w);
	size = lseek(fd, 0, SEEK_CUR);
	rc = pread(fd, buf, (size_t)size, 0) == size ?
	    read_stream(buf, (size_t)size, 4096, hh, e, NULL, NULL) : FRAME_EIO;
	io_out_free(&out);
	close(fd);
	return rc;
}

static void
test_header_strings(void)
{
	char z[300], want[300];
	struct frame_hdr hh;
	int all = 1;

	/* 253 + 'é' (2 bytes) fits; 254 + 'é' is cut after its lead byte;
	 * 253 + '€' (3 bytes) after two of its bytes; 252 + U+1F384 (4). */
	static const struct { int pad; const char *ch; int keep; } cases[] = {
		{ 253, "\xc3\xa9", 255 }, { 254, "\xc3\xa9", 254 }, { 253, "\xe2\x82\xac", 253 },
		{ 252, "\xe2\x82\xac", 255 }, { 252, "\xf0\x9f\x8e\x84", 252 },
		{ 251, "\xf0\x9f\x8e\x84", 255 }, { 0, "", 2 }, { 255, "", 255 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		memset(z, 'a', (size_t)cases[i].pad);
		snprintf(z + cases[i].pad, sizeof z - (size_t)cases[i].pad, "%s%s", cases[i].ch, "zz");
		memcpy(want, z, (size_t)cases[i].keep);
		want[cases[i].keep] = '\0';
		all &= header_round_trip(z, &hh) == 0 && strcmp(hh.zone, want) == 0;
	}
	ok(all, "a zone cut at 255 bytes keeps whole UTF-8 characters only (2, 3, 4-byte ones at the cut)");
	ok(header_round_trip("Nouvelle-Cal\xc3\xa9" "donie", &hh) == 0 &&
	    strcmp(hh.zone, "Nouvelle-Cal\xc3\xa9" "donie") == 0, "a short UTF-8 zone comes back whole");
}

/* Each frame_msg_set_* writes what its frame_msg_get_* reads, and only
 * its own bytes. */
static void
test_accessors(void)
{
	uint8_t p[FRAME_MSG_FIXED], q[FRAME_MSG_FIXED];
	int own = 1;

	memset(p, 0, sizeof p);
	frame_msg_set_id(p, -2);
	frame_msg_set_campagne_id(p, INT64_MAX);
	frame_msg_set_numero_abonne(p, 4294967295);
	frame_msg_set_valid_start(p, INT64_MIN);
	frame_msg_set_valid_end(p, 1LL << 40);
	frame_msg_set_template_id(p, INT32_MIN);
	frame_msg_set_ack_delay(p, 65535);
	frame_msg_set_genre(p, -1);
	frame_msg_set_ack_count(p, INT16_MAX);
	ok(frame_msg_get_id(p) == -2 && frame_msg_get_campagne_id(p) == INT64_MAX &&
	    frame_msg_get_numero_abonne(p) == 4294967295 && frame_msg_get_valid_start(p) == INT64_MIN &&
	    frame_msg_get_valid_end(p) == 1LL << 40 && frame_msg_get_template_id(p) == INT32_MIN &&
	    frame_msg_get_ack_delay(p) == 65535 && frame_msg_get_genre(p) == -1 &&
	    frame_msg_get_ack_count(p) == INT16_MAX, "frame_msg_set_* then frame_msg_get_*: the same values");
	memcpy(q, p, sizeof q);
	frame_msg_set_ack_delay(q, 0);
	for (size_t i = 0; i < sizeof q; i++)
		own &= (i >= 44 && i < 48) || p[i] == q[i];
	ok(own && frame_msg_get_ack_delay(q) == 0 && frame_msg_get_genre(q) == -1,
	    "a setter writes only its field's bytes (ack_delay at 44..47)");
}

int
main(void)
{
	test_frames();
	test_header_strings();
	test_accessors();
	return tap_done();
}
