/*
 * ts.h - DVB private sections in and out of an MPEG-2 transport stream.
 *
 * ISO/IEC 13818-1 2.4.3.2 (transport packet), 2.4.4.1..2 (pointer_field),
 * 2.4.4.3 (PAT), 2.4.4.8 (PMT); EN 300 468 annex C is not involved.
 *
 * A transport packet is 188 bytes: sync_byte 0x47, a 4-byte header
 * (payload_unit_start_indicator, 13-bit PID, continuity_counter 0..15),
 * then 184 bytes of payload.  Sections ride on one PID back to back:
 *
 *  - a packet in which a section starts has payload_unit_start_indicator
 *    set and a pointer_field as its first payload byte: the number of
 *    bytes, after it, that end the section begun in an earlier packet;
 *  - several sections may start in one packet; only the first is pointed
 *    at, the others follow the end of the one before;
 *  - after the end of a section, 0xFF (never a table_id) means stuffing up
 *    to the end of the packet.
 *
 * The muxer stuffs only where it must: at the end of the stream, and in a
 * packet with no pointer_field yet whose last byte would be taken by the
 * pointer_field itself (the "183-byte case": no section starts where only
 * its pointer would fit).  A section may start in the last byte of a
 * packet that already has a pointer_field; its header then continues in
 * the next packet, as 2.4.4.2 allows.  (biTStream's psi_split_section
 * stuffs that byte too, which is why the splitter below is moma's own.)
 */
#ifndef MOMA_TS_H
#define MOMA_TS_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

#define TS_PKT_LEN	188
#define TS_SYNC		0x47
#define TS_PID_NULL	0x1fff
#define TS_PID_MIN	0x0020		/* below: PSI/SI PIDs of 13818-1 and EN 300 468 */
#define TS_PID_MAX	0x1ffe
#define TS_SEC_MAX	4096		/* private_section: section_length <= 4093 */
#define TS_PAT_LEN	16		/* PAT with one program */
#define TS_PMT_LEN	21		/* PMT with one stream, no descriptors */
#define TS_STREAM_TYPE_PRIVATE	0x05	/* 13818-1 table 2-34: private_sections */
#define TS_ERR_LEN	160

struct ts_mux {
	uint8_t pkt[TS_PKT_LEN];	/* the packet being filled */
	unsigned pos;			/* bytes of pkt used, 0: none open */
	uint16_t pid;
	uint8_t cc;			/* continuity_counter of the next packet */
	uint64_t packets;		/* packets written */
};

/* Start a muxer for PID pid (0..0x1ffe); the first packet has cc 0. */
void ts_mux_init(struct ts_mux *m, uint16_t pid);

/*
 * Append the complete section sec (size bytes: its section_length + 3,
 * 3..TS_SEC_MAX) to the PID.  Every packet completed is appended to out;
 * the last one stays open for the next section.  0, or -1 with errno set
 * by a write error.
 */
int ts_mux_section(struct ts_mux *m, struct io_out *out, const uint8_t *sec, size_t size);

/* Stuff the open packet with 0xFF and append it to out.  0, or -1. */
int ts_mux_flush(struct ts_mux *m, struct io_out *out);

/*
 * Build into sec (TS_PAT_LEN bytes) a PAT, version 0, transport_stream_id
 * tsid, listing program on pmt_pid.  Returns TS_PAT_LEN.
 */
size_t ts_pat_build(uint8_t *sec, uint16_t tsid, uint16_t program, uint16_t pmt_pid);

/*
 * Build into sec (TS_PMT_LEN bytes) a PMT, version 0, for program with one
 * elementary stream of stream_type on pid, and no PCR (PCR_PID 0x1fff).
 * Returns TS_PMT_LEN.
 */
size_t ts_pmt_build(uint8_t *sec, uint16_t program, uint16_t pid, uint8_t stream_type);

struct ts_demux {
	int pid;			/* the sections' PID, -1 until chosen */
	int want_tid;			/* with pid -1: pick the first PID whose
					   first section has this table_id */
	int8_t cc[8192];		/* last continuity_counter per PID, -1 */
	uint64_t packets;		/* packets read */
	/* the current packet's part on pid */
	const uint8_t *pl, *end;
	uint64_t pkt_off;
	int start_ok;			/* a section may start at pl */
	int synced;			/* a section start was seen on pid */
	int ready;			/* sec holds a section ended by a pointer */
	/* the section being reassembled */
	int in_sec;
	size_t have, need;
	uint64_t sec_off;
	uint8_t sec[TS_SEC_MAX];
};

/*
 * Prepare to read the sections of pid, or with pid -1 of the first PID
 * whose first section has table_id want_tid.
 */
void ts_demux_init(struct ts_demux *d, int pid, int want_tid);

/*
 * Take the packet pkt (TS_PKT_LEN bytes) found at stream offset off: check
 * its sync byte, transport_error_indicator, scrambling, adaptation field
 * and continuity_counter (per PID: moma writes no duplicate packets, so a
 * repeated counter is an error too).  Then call ts_demux_next until it
 * returns 0.  0, or -1 with err (TS_ERR_LEN) saying what is wrong.
 */
int ts_demux_packet(struct ts_demux *d, const uint8_t *pkt, uint64_t off, char *err);

/*
 * The next section completed by the current packet: 1 with *sec (valid
 * until the next ts_demux call), *size and *off (the offset of the packet
 * in which it starts); 0 when the packet holds no more; -1 with err on a
 * pointer_field, stuffing or section_length that breaks 2.4.4.
 */
int ts_demux_next(struct ts_demux *d, const uint8_t **sec, size_t *size, uint64_t *off, char *err);

/* At end of stream: 0, or -1 with err if a section is cut short. */
int ts_demux_end(struct ts_demux *d, char *err);

#endif
