/*
 * frame.c - frame stream reader and writer (man/moma-frame.5).
 */
#include "frame.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crc.h"
#include "dvbtime.h"

/*
 * Encode m as a complete 'M' record (length, type, payload) into out,
 * which must hold frame_msg_size(m) bytes.  Returns that size.
 */
static size_t
frame_msg_encode(const struct frame_msg *m, uint8_t *out)
{
	size_t rec = 1 + FRAME_MSG_FIXED + m->storables_len;
	uint8_t *p = out + 5;

	be32_set(out, (uint32_t)rec);
	out[4] = 'M';
	frame_msg_set_id(p, m->id);
	frame_msg_set_campagne_id(p, m->campagne_id);
	frame_msg_set_numero_abonne(p, m->numero_abonne);
	frame_msg_set_valid_start(p, m->valid_start);
	frame_msg_set_valid_end(p, m->valid_end);
	frame_msg_set_template_id(p, m->template_id);
	frame_msg_set_ack_delay(p, m->ack_delay);
	frame_msg_set_genre(p, m->genre);
	frame_msg_set_ack_count(p, m->ack_count);
	if (m->storables_len)
		memcpy(frame_msg_storables(p), m->storables, m->storables_len);
	return 4 + rec;
}

/* ---- reader ------------------------------------------------------------- */

/* Consumed bytes are summed in bulk, before the buffer can move (a refill
 * slides the unread tail down) and at the trailer: a long crc_32c runs
 * three crc32 chains at once, a record-sized one only one. */
static void
consume(struct frame_reader *r, size_t n)
{
	io_in_skip(r->in, n);
	r->crc_pending += n;
}

static void
crc_flush(struct frame_reader *r)
{
	r->crc = crc_32c(r->crc, io_in_ptr(r->in) - r->crc_pending, r->crc_pending);
	r->crc_pending = 0;
}

/* io_in_fill, summing the pending bytes first when it has to read. */
static inline ssize_t
fill(struct frame_reader *r, size_t n)
{
	struct io_in *in = r->in;

	if (in->end - in->pos >= n)
		return (ssize_t)(in->end - in->pos);
	crc_flush(r);
	return io_in_fill(in, n);
}

static int
fill_err(struct frame_reader *r, size_t n, char *err, const char *what)
{
	struct io_in *in = r->in;
	ssize_t got = fill(r, n);

	if (got < 0)
		return errno == ENOMEM ? FRAME_ENOMEM : FRAME_EIO;
	if ((size_t)got < n) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: truncated stream: %s needs %zu bytes, %zd left",
		    (unsigned long long)in->offset, what, n, got);
		return FRAME_EDATA;
	}
	return FRAME_OK;
}

static int
take_str(const uint8_t **p, const uint8_t *end, char *dst)
{
	if (*p >= end)
		return -1;
	size_t n = **p;
	if ((size_t)(end - *p - 1) < n)
		return -1;
	memcpy(dst, *p + 1, n);
	dst[n] = '\0';
	*p += 1 + n;
	return 0;
}

int
frame_reader_open(struct frame_reader *r, struct io_in *in,
    struct frame_hdr *h, char *err)
{
	int rc;
	ssize_t got;

	*r = (struct frame_reader){ .in = in, .cur_id = -1 };
	got = io_in_fill(in, FRAME_MAGIC_LEN);
	if (got < 0)
		return errno == ENOMEM ? FRAME_ENOMEM : FRAME_EIO;
	if (got == 0) {
		snprintf(err, FRAME_ERR_LEN, "byte 0: empty input, not a frame stream");
		return FRAME_EDATA;
	}
	if ((size_t)got < FRAME_MAGIC_LEN ||
	    memcmp(io_in_ptr(in), FRAME_MAGIC, FRAME_MAGIC_LEN) != 0) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte 0: not a moma frame stream (bad magic, want \"MOMAFRM\\n\")");
		return FRAME_EDATA;
	}
	consume(r, FRAME_MAGIC_LEN);

	if ((rc = fill_err(r, 5, err, "header record")) != FRAME_OK)
		return rc;
	const uint8_t *p = io_in_ptr(in);
	uint32_t len = be32_get(p);
	if (p[4] != 'H' || len < 1 + 2 + 2 + 10 + 8 + 2 || len > 1 + 4 + 10 + 8 + 2 * 256) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: expected a header record ('H'), found type 0x%02x length %u",
		    (unsigned long long)in->offset, p[4], len);
		return FRAME_EDATA;
	}
	if ((rc = fill_err(r, 4 + (size_t)len, err, "header record")) != FRAME_OK)
		return rc;
	p = io_in_ptr(in);
	const uint8_t *q = p + 5, *end = p + 4 + len;
	*h = (struct frame_hdr){ 0 };
	h->version = be16_get(q);
	if (h->version != FRAME_VERSION) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: frame format version %u, this reader knows %u",
		    (unsigned long long)in->offset + 5, h->version, FRAME_VERSION);
		return FRAME_EDATA;
	}
	h->network_id = q[2];
	memcpy(h->date, q + 4, 10);
	int64_t day;
	if (dvbtime_parse(h->date, 10, &day) != 0) {
		snprintf(err, FRAME_ERR_LEN, "byte %llu: header date is not \"YYYY-MM-DD\"",
		    (unsigned long long)in->offset + 9);
		return FRAME_EDATA;
	}
	h->created = (int64_t)be64_get(q + 14);
	q += 22;
	if (take_str(&q, end, h->zone) || take_str(&q, end, h->producer) || q != end) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: header record: zone/producer strings do not fill its length %u",
		    (unsigned long long)in->offset, len);
		return FRAME_EDATA;
	}
	consume(r, 4 + (size_t)len);
	r->state = 1;
	return FRAME_OK;
}

/* The next record's length and type, checked against its kind's limits:
 * 1 with *len and *type set, or an error code (err filled). */
static int
record_head(struct frame_reader *r, uint32_t *len, uint8_t *type, char *err)
{
	struct io_in *in = r->in;
	unsigned long long off = in->offset;
	ssize_t got = fill(r, 5);
	const uint8_t *p;

	if (got < 0)
		return errno == ENOMEM ? FRAME_ENOMEM : FRAME_EIO;
	if (got < 5) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: truncated stream: no end trailer after %llu messages%s",
		    off, (unsigned long long)r->nmsg, got ? " (partial record header)" : "");
		return FRAME_EDATA;
	}
	p = io_in_ptr(in);
	*len = be32_get(p);
	*type = p[4];
	if (*len < 1 || *len > FRAME_MAX_RECORD) {
		snprintf(err, FRAME_ERR_LEN, "byte %llu: frame %llu: record length %u out of range 1..%u",
		    off, (unsigned long long)r->nmsg + 1, *len, FRAME_MAX_RECORD);
		return FRAME_EDATA;
	}
	if (*type == 'M' && *len < 1 + FRAME_MSG_FIXED) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: frame %llu: message record length %u below the %u-byte minimum",
		    off, (unsigned long long)r->nmsg + 1, *len, 1 + FRAME_MSG_FIXED);
		return FRAME_EDATA;
	}
	if (*type == 'E' && *len != FRAME_END_LEN) {
		snprintf(err, FRAME_ERR_LEN, "byte %llu: end trailer length %u, want %u",
		    off, *len, FRAME_END_LEN);
		return FRAME_EDATA;
	}
	return 1;
}

/* The 'M' record at p (its whole len bytes are in the buffer) into *m. */
static void
take_msg(struct frame_reader *r, const uint8_t *p, uint32_t len, struct frame_msg *m)
{
	const uint8_t *q = p + 5;

	m->id = frame_msg_get_id(q);
	m->campagne_id = frame_msg_get_campagne_id(q);
	m->numero_abonne = frame_msg_get_numero_abonne(q);
	m->valid_start = frame_msg_get_valid_start(q);
	m->valid_end = frame_msg_get_valid_end(q);
	m->template_id = frame_msg_get_template_id(q);
	m->ack_delay = frame_msg_get_ack_delay(q);
	m->genre = frame_msg_get_genre(q);
	m->ack_count = frame_msg_get_ack_count(q);
	m->storables = frame_msg_get_storables(q);
	m->storables_len = len - 1 - FRAME_MSG_FIXED;
	consume(r, 4 + (size_t)len);
	r->nmsg++;
}

/* The 'E' trailer at p: its count and checksum, then nothing after it. */
static int
take_end(struct frame_reader *r, const uint8_t *p, char *err)
{
	struct io_in *in = r->in;
	unsigned long long off = in->offset;
	uint64_t count = be64_get(p + 5);
	uint32_t sum = be32_get(p + 13);
	ssize_t got;

	crc_flush(r);
	if (count != r->nmsg) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: end trailer counts %llu messages, the stream has %llu",
		    off, (unsigned long long)count, (unsigned long long)r->nmsg);
		return FRAME_EDATA;
	}
	if (sum != r->crc) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: end trailer checksum 0x%08x, the stream sums to 0x%08x",
		    off, sum, r->crc);
		return FRAME_EDATA;
	}
	io_in_skip(in, 4 + FRAME_END_LEN);
	got = io_in_fill(in, 1);
	if (got < 0)
		return errno == ENOMEM ? FRAME_ENOMEM : FRAME_EIO;
	if (got > 0) {
		snprintf(err, FRAME_ERR_LEN,
		    "byte %llu: data after the end trailer", (unsigned long long)in->offset);
		return FRAME_EDATA;
	}
	r->state = 2;
	return 0;
}

int
frame_read(struct frame_reader *r, struct frame_msg *m, char *err)
{
	struct io_in *in = r->in;

	r->cur_id = -1;
	for (;;) {
		unsigned long long off = in->offset;
		const uint8_t *p;
		uint32_t len;
		uint8_t type;
		ssize_t got;
		int rc;

		if (r->state != 1) {
			snprintf(err, FRAME_ERR_LEN, "frame_read called after the end of the stream");
			return FRAME_EDATA;
		}
		if ((rc = record_head(r, &len, &type, err)) != 1)
			return rc;
		got = fill(r, 4 + (size_t)len);
		if (got < 0)
			return errno == ENOMEM ? FRAME_ENOMEM : FRAME_EIO;
		p = io_in_ptr(in);
		if (type == 'M' && got >= 5 + 8)
			r->cur_id = frame_msg_get_id(p + 5);
		if ((size_t)got < 4 + (size_t)len) {
			snprintf(err, FRAME_ERR_LEN,
			    "byte %llu: frame %llu: truncated stream: record of %u bytes, %zd left",
			    off, (unsigned long long)r->nmsg + 1, len, got - 4);
			return FRAME_EDATA;
		}
		switch (type) {
		case 'M':
			take_msg(r, p, len, m);
			return 1;
		case 'E':
			return take_end(r, p, err);
		case 'H':
			snprintf(err, FRAME_ERR_LEN, "byte %llu: a second header record", off);
			return FRAME_EDATA;
		default:
			if (type >= 'a' && type <= 'z') {	/* ancillary: skip */
				consume(r, 4 + (size_t)len);
				continue;
			}
			snprintf(err, FRAME_ERR_LEN,
			    "byte %llu: frame %llu: unknown critical record type 0x%02x",
			    off, (unsigned long long)r->nmsg + 1, type);
			return FRAME_EDATA;
		}
	}
}

/* ---- writer ------------------------------------------------------------- */

/*
 * Length of s, at most 255 bytes, without a UTF-8 sequence left
 * incomplete at its end (a caller's snprintf into the 256-byte field may
 * have cut one): the header then holds whole characters only.
 */
static size_t
hdr_strlen(const char *s)
{
	size_t n = strnlen(s, 255), i = n, need;
	unsigned char c;

	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	c = (unsigned char)s[i - 1];
	if (c < 0x80)
		return n;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return i - 1 + need > n ? i - 1 : n;
}

static int
put(struct frame_writer *w, const void *p, size_t n)
{
	w->crc = crc_32c(w->crc, p, n);
	return io_out_write(w->out, p, n) == 0 ? FRAME_OK : FRAME_EIO;
}

int
frame_writer_open(struct frame_writer *w, struct io_out *out,
    const struct frame_hdr *h)
{
	uint8_t b[4 + 1 + 22 + 2 * 256], *q = b + 5;
	size_t zl = hdr_strlen(h->zone), pl = hdr_strlen(h->producer);

	*w = (struct frame_writer){ .out = out };
	be16_set(q, FRAME_VERSION);
	q[2] = h->network_id;
	q[3] = 0;
	memset(q + 4, '0', 10);
	memcpy(q + 4, h->date, strnlen(h->date, 10));
	be64_set(q + 14, (uint64_t)h->created);
	q += 22;
	*q++ = (uint8_t)zl;
	memcpy(q, h->zone, zl);
	q += zl;
	*q++ = (uint8_t)pl;
	memcpy(q, h->producer, pl);
	q += pl;
	be32_set(b, (uint32_t)(q - b - 4));
	b[4] = 'H';
	if (put(w, FRAME_MAGIC, FRAME_MAGIC_LEN) != FRAME_OK)
		return FRAME_EIO;
	return put(w, b, (size_t)(q - b));
}

int
frame_write_msg(struct frame_writer *w, const struct frame_msg *m)
{
	size_t n = frame_msg_size(m);
	uint8_t *d;

	if (n - 4 > FRAME_MAX_RECORD)
		return FRAME_EDATA;
	if ((d = io_out_reserve(w->out, n)) == NULL)
		return FRAME_EIO;
	frame_msg_encode(m, d);
	w->crc = crc_32c(w->crc, d, n);
	io_out_commit(w->out, n);
	w->nmsg++;
	return FRAME_OK;
}

int
frame_write_end(struct frame_writer *w)
{
	uint8_t b[4 + FRAME_END_LEN];

	be32_set(b, FRAME_END_LEN);
	b[4] = 'E';
	be64_set(b + 5, w->nmsg);
	be32_set(b + 13, w->crc);
	if (io_out_write(w->out, b, sizeof b) != 0 || io_out_flush(w->out) != 0)
		return FRAME_EIO;
	return FRAME_OK;
}
