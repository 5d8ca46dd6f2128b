/*
 * frame.h - the moma frame stream, format version 1 (man/moma-frame.5).
 *
 * The stream moma-fetch writes and moma-encode reads.  Big-endian, laid
 * out to be read with hexdump -C:
 *
 *   magic    8 bytes  "MOMAFRM\n"
 *   records  u32 length | u8 type | payload[length - 1]
 *            length counts the type byte and the payload,
 *            1 <= length <= FRAME_MAX_RECORD
 *
 * Record types (an upper-case type is critical: a reader that does not
 * know it fails; a lower-case type is ancillary and is skipped):
 *   'H' header, first record, exactly once:
 *        u16 version (1) | u8 network_id | u8 reserved (0)
 *        | char date[10] "YYYY-MM-DD" | i64 created (Unix seconds, UTC)
 *        | u8 zone_len | zone[zone_len] | u8 producer_len | producer[...]
 *   'M' message, one per messages row, FRAME_MSG_FIXED bytes then JSON:
 *         0 i64 id              messages.id
 *         8 i64 campagne_id     campagnes.id        -> section message_id
 *        16 i64 numero_abonne   messages.numero_abonne -> target_filter
 *        24 i64 valid_start     Unix seconds, UTC   campagnes.valid_start
 *        32 i64 valid_end       Unix seconds, UTC   campagnes.valid_end
 *        40 i32 template_id     messages.template_id
 *        44 i32 ack_delay       campagnes.ack_delay
 *        48 i16 genre           campagnes.genre
 *        50 i16 ack_count       campagnes.ack_count
 *        52 storables           messages.storables as JSON text (UTF-8),
 *                               to the end of the record
 *   'E' end trailer, last record, exactly once, nothing may follow:
 *        u64 count (number of 'M' records) | u32 checksum
 *        checksum = CRC-32C of every stream byte before the trailer's
 *        length field (magic, header, every record).
 *
 * Integers are carried at the width of their database column; ranges that
 * the section format imposes (32-bit subscriber, 16-bit MJD, ...) are
 * checked by the encoder, which names the message.  Frame numbers in
 * messages count 'M' records from 1; the header is frame 0.
 *
 * The accessors below read and write the raw big-endian bytes of an 'M'
 * payload at fixed offsets; frame_read checks the record length (at least
 * 1 + FRAME_MSG_FIXED) before it reads any of them.
 */
#ifndef MOMA_FRAME_H
#define MOMA_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "be.h"	/* be*_get / be*_set, also for the tools that read frames */
#include "io.h"

#define FRAME_MAGIC		"MOMAFRM\n"
#define FRAME_MAGIC_LEN		8
#define FRAME_VERSION		1
#define FRAME_MAX_RECORD	(1u << 20)	/* 1 MiB: type + payload */
#define FRAME_MSG_FIXED		52
#define FRAME_END_LEN		(1 + 8 + 4)	/* type + count + checksum */
#define FRAME_ERR_LEN		256

enum {
	FRAME_OK = 0,
	FRAME_EDATA = -1,	/* malformed, truncated, wrong stream */
	FRAME_EIO = -2,		/* read or write error (errno) */
	FRAME_ENOMEM = -3,
};

struct frame_hdr {
	uint16_t version;
	uint8_t network_id;
	char date[11];		/* "YYYY-MM-DD", NUL-terminated */
	int64_t created;
	char zone[256];		/* NUL-terminated UTF-8 */
	char producer[256];
};

struct frame_msg {
	int64_t id, campagne_id, numero_abonne, valid_start, valid_end;
	int32_t template_id, ack_delay;
	int16_t genre, ack_count;
	const uint8_t *storables;	/* not NUL-terminated; points into */
	size_t storables_len;		/* the reader's or caller's buffer */
};

/* ---- 'M' record payload accessors (p = first payload byte) -------------- */
static inline int64_t frame_msg_get_id(const uint8_t *p) { return (int64_t)be64_get(p); }
static inline void frame_msg_set_id(uint8_t *p, int64_t v) { be64_set(p, (uint64_t)v); }
static inline int64_t frame_msg_get_campagne_id(const uint8_t *p) { return (int64_t)be64_get(p + 8); }
static inline void frame_msg_set_campagne_id(uint8_t *p, int64_t v) { be64_set(p + 8, (uint64_t)v); }
static inline int64_t frame_msg_get_numero_abonne(const uint8_t *p) { return (int64_t)be64_get(p + 16); }
static inline void frame_msg_set_numero_abonne(uint8_t *p, int64_t v) { be64_set(p + 16, (uint64_t)v); }
static inline int64_t frame_msg_get_valid_start(const uint8_t *p) { return (int64_t)be64_get(p + 24); }
static inline void frame_msg_set_valid_start(uint8_t *p, int64_t v) { be64_set(p + 24, (uint64_t)v); }
static inline int64_t frame_msg_get_valid_end(const uint8_t *p) { return (int64_t)be64_get(p + 32); }
static inline void frame_msg_set_valid_end(uint8_t *p, int64_t v) { be64_set(p + 32, (uint64_t)v); }
static inline int32_t frame_msg_get_template_id(const uint8_t *p) { return (int32_t)be32_get(p + 40); }
static inline void frame_msg_set_template_id(uint8_t *p, int32_t v) { be32_set(p + 40, (uint32_t)v); }
static inline int32_t frame_msg_get_ack_delay(const uint8_t *p) { return (int32_t)be32_get(p + 44); }
static inline void frame_msg_set_ack_delay(uint8_t *p, int32_t v) { be32_set(p + 44, (uint32_t)v); }
static inline int16_t frame_msg_get_genre(const uint8_t *p) { return (int16_t)be16_get(p + 48); }
static inline void frame_msg_set_genre(uint8_t *p, int16_t v) { be16_set(p + 48, (uint16_t)v); }
static inline int16_t frame_msg_get_ack_count(const uint8_t *p) { return (int16_t)be16_get(p + 50); }
static inline void frame_msg_set_ack_count(uint8_t *p, int16_t v) { be16_set(p + 50, (uint16_t)v); }
static inline const uint8_t *frame_msg_get_storables(const uint8_t *p) { return p + FRAME_MSG_FIXED; }
static inline uint8_t *frame_msg_storables(uint8_t *p) { return p + FRAME_MSG_FIXED; }

/* The size of m as a complete 'M' record (length, type, payload). */
static inline size_t frame_msg_size(const struct frame_msg *m)
{
	return 4 + 1 + FRAME_MSG_FIXED + m->storables_len;
}

/* ---- reader --------------------------------------------------------------- */
struct frame_reader {
	struct io_in *in;
	uint64_t nmsg;		/* 'M' records returned so far */
	uint32_t crc;		/* CRC-32C of the bytes consumed so far but */
	size_t crc_pending;	/* the last crc_pending, still in the buffer;
				 * all of them once frame_read returned 0 */
	int state;		/* 0 before header, 1 in body, 2 after trailer */
	int64_t cur_id;		/* id of the message being read, or -1 */
};

/*
 * Start reading a frame stream from in: check the magic and read the 'H'
 * record into *h (its date must be a valid "YYYY-MM-DD").  On error returns FRAME_EDATA (err says what and at
 * which byte offset), FRAME_EIO (errno set) or FRAME_ENOMEM.
 * err must hold FRAME_ERR_LEN bytes.  The reader keeps a pointer to in,
 * and until frame_read returns 0 or an error nothing else may read from
 * in or move its buffer: the checksum of consumed bytes is taken from it
 * in bulk, before each refill.
 */
int frame_reader_open(struct frame_reader *r, struct io_in *in,
    struct frame_hdr *h, char *err);

/*
 * Read the next record.  Returns 1 with *m filled (m->storables points
 * into the input buffer and stays valid until the next call), 0 at a
 * trailer whose count and checksum match and that ends the stream, or
 * FRAME_EDATA / FRAME_EIO / FRAME_ENOMEM.  A stream that ends before the
 * trailer is FRAME_EDATA ("truncated"), never 0.  On FRAME_EDATA from a
 * message record whose id could be read, r->cur_id holds it.
 */
int frame_read(struct frame_reader *r, struct frame_msg *m, char *err);

/* ---- writer ------------------------------------------------------------- */
struct frame_writer {
	struct io_out *out;
	uint64_t nmsg;
	uint32_t crc;
};

/*
 * Write the magic and the 'H' record built from *h (version is forced to
 * FRAME_VERSION).  zone and producer are at most 255 bytes of UTF-8; a
 * character the 255th byte (or the caller's own cut) left incomplete at
 * the end is dropped, so the header holds whole characters only (a caller
 * that may cut a longer name says so itself).  0 or FRAME_EIO.
 */
int frame_writer_open(struct frame_writer *w, struct io_out *out,
    const struct frame_hdr *h);

/* Append an 'M' record.  0, FRAME_EIO, or FRAME_EDATA if the record would
 * exceed FRAME_MAX_RECORD. */
int frame_write_msg(struct frame_writer *w, const struct frame_msg *m);

/* Append the 'E' trailer (count and checksum) and flush.  0 or FRAME_EIO.
 * Call it only when every record was written: its absence is how readers
 * learn that the producer failed. */
int frame_write_end(struct frame_writer *w);

#endif
