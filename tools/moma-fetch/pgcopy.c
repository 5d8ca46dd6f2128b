/*
 * pgcopy.c - read PostgreSQL's binary COPY stream (pgcopy.h).
 */
#include "pgcopy.h"

#include <stdio.h>
#include <string.h>

#include "be.h"

static const char copy_sig[11] = "PGCOPY\n\377\r\n";

static int
header(struct pgcopy *c, char *err)
{
	uint32_t flags, ext;

	if (c->end - c->p < 19 || memcmp(c->p, copy_sig, 11) != 0) {
		snprintf(err, PGCOPY_ERR_LEN, "no binary COPY signature");
		return -1;
	}
	flags = be32_get(c->p + 11);
	ext = be32_get(c->p + 15);
	if (flags & 0x10000u) {
		snprintf(err, PGCOPY_ERR_LEN, "rows with OIDs");
		return -1;
	}
	if (ext > (uint32_t)(c->end - c->p - 19)) {
		snprintf(err, PGCOPY_ERR_LEN, "header extension past the message");
		return -1;
	}
	c->p += 19 + ext;
	c->header_seen = 1;
	return 0;
}

int
pgcopy_next(struct pgcopy *c, int ncols, const uint8_t **v, int *len, char *err)
{
	const uint8_t *p, *end = c->end;
	int16_t nf;

	if (!c->header_seen && header(c, err) != 0)
		return -1;
	p = c->p;
	if (p == end)
		return 0;
	if (c->trailer_seen || end - p < 2)
		goto bad;
	nf = (int16_t)be16_get(p);
	p += 2;
	if (nf == -1) {
		c->trailer_seen = 1;
		c->p = p;
		if (p != end)
			goto bad;
		return 0;
	}
	if (nf != ncols) {
		snprintf(err, PGCOPY_ERR_LEN, "tuple of %d columns, want %d", nf, ncols);
		return -1;
	}
	for (int i = 0; i < ncols; i++) {
		int32_t l;

		if (end - p < 4)
			goto bad;
		l = (int32_t)be32_get(p);
		p += 4;
		if (l < -1 || l > end - p)
			goto bad;
		v[i] = p;
		len[i] = l;
		if (l > 0)
			p += l;
	}
	c->p = p;
	return 1;
bad:
	snprintf(err, PGCOPY_ERR_LEN, "malformed tuple");
	return -1;
}
