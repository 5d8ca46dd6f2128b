/*
 * pgcopy.h - PostgreSQL's binary COPY format, as COPY ... TO STDOUT
 * (FORMAT binary) sends it in CopyData messages (PostgreSQL documentation,
 * "COPY", section "Binary Format"):
 *
 *   header   11-byte signature "PGCOPY\n\377\r\n" | u32 flags (bit 16:
 *            OIDs included) | u32 header extension length | extension
 *   tuple    i16 field count | per field: i32 length (-1: NULL) | bytes
 *   trailer  i16 -1
 *
 * Big-endian throughout.  PostgreSQL sends the header with the first
 * tuple, then one tuple per message, then the trailer; any split into
 * messages at tuple boundaries is accepted.
 */
#ifndef MOMA_PGCOPY_H
#define MOMA_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

#define PGCOPY_ERR_LEN	128

struct pgcopy {
	const uint8_t *p, *end;	/* the unread bytes of the current message */
	int header_seen, trailer_seen;
};

/* Start reading the n bytes at buf (one CopyData message; the caller
 * keeps them until pgcopy_next returns 0 or -1). */
static inline void
pgcopy_feed(struct pgcopy *c, const void *buf, size_t n)
{
	c->p = buf;
	c->end = c->p + n;
}

/*
 * The next tuple of the current message, of which ncols fields are
 * expected: 1 with v[i] and len[i] (-1 for NULL; v points into the
 * message) set for each field, 0 when the message is used up (the
 * trailer included: trailer_seen is then set), -1 when the bytes are not
 * the binary COPY format, with err (PGCOPY_ERR_LEN bytes) saying why.
 */
int pgcopy_next(struct pgcopy *c, int ncols, const uint8_t **v, int *len, char *err);

#endif
