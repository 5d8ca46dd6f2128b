/*
 * ts.c - DVB private sections in and out of an MPEG-2 transport stream.
 *
 * Packet headers and the PAT/PMT are built with VideoLAN biTStream's
 * accessors; the section splitter and reassembler are moma's own (see
 * ts.h for where biTStream's differ).
 */
#include <bitstream/mpeg/ts.h>
#include <bitstream/mpeg/psi.h>
#include <bitstream/mpeg/psi/pat.h>
#include <bitstream/mpeg/psi/pmt.h>
#include <stdio.h>
#include <string.h>

#include "ts.h"

/* ---- muxer ------------------------------------------------------------------ */

void
ts_mux_init(struct ts_mux *m, uint16_t pid)
{
	memset(m, 0, sizeof *m);
	m->pid = pid;
}

/*
 * Open a packet.  rest is what is left of the current section, 0 when a
 * section starts here.  A continuation packet gets a pointer_field when
 * the section ends early enough for the next one to start in it (at most
 * 182 bytes: pointer + rest + one byte); the stream's last section is the
 * only one for which that guess is wrong, and ts_mux_flush undoes it.
 */
static void
open_packet(struct ts_mux *m, size_t rest)
{
	uint8_t *p = m->pkt;

	ts_init(p);
	ts_set_pid(p, m->pid);
	ts_set_cc(p, m->cc);
	ts_set_payload(p);
	m->pos = TS_HEADER_SIZE;
	if (rest <= TS_PKT_LEN - TS_HEADER_SIZE - 2) {
		ts_set_unitstart(p);
		p[TS_HEADER_SIZE] = (uint8_t)rest;
		m->pos++;
	}
}

static int
emit(struct ts_mux *m, struct io_out *out)
{
	m->pos = 0;
	m->cc = (m->cc + 1) & 15;
	m->packets++;
	return io_out_write(out, m->pkt, TS_PKT_LEN);
}

int
ts_mux_section(struct ts_mux *m, struct io_out *out, const uint8_t *sec, size_t size)
{
	size_t done = 0;

	/* An open packet without a pointer_field is one whose section left
	 * 183 bytes (open_packet gives one to any that leaves less): only the
	 * pointer would fit in its last byte, so stuff it and start anew. */
	if (m->pos != 0 && !ts_get_unitstart(m->pkt)) {
		memset(m->pkt + m->pos, 0xff, TS_PKT_LEN - m->pos);
		if (emit(m, out) != 0)
			return -1;
	}
	if (m->pos == 0)
		open_packet(m, 0);
	for (;;) {
		size_t n = TS_PKT_LEN - m->pos;
		if (n > size - done)
			n = size - done;
		memcpy(m->pkt + m->pos, sec + done, n);
		m->pos += (unsigned)n;
		done += n;
		if (m->pos == TS_PKT_LEN && emit(m, out) != 0)
			return -1;
		if (done == size)
			return 0;
		open_packet(m, size - done);
	}
}

int
ts_mux_flush(struct ts_mux *m, struct io_out *out)
{
	uint8_t *p = m->pkt;

	if (m->pos == 0)
		return 0;
	/* A pointer_field guessed for a next section that never came. */
	if (ts_get_unitstart(p) && p[TS_HEADER_SIZE] == m->pos - TS_HEADER_SIZE - 1) {
		memmove(p + TS_HEADER_SIZE, p + TS_HEADER_SIZE + 1, m->pos - TS_HEADER_SIZE - 1);
		p[1] &= (uint8_t)~0x40;
		m->pos--;
	}
	memset(p + m->pos, 0xff, TS_PKT_LEN - m->pos);
	return emit(m, out);
}

/* ---- PAT and PMT ------------------------------------------------------------ */

size_t
ts_pat_build(uint8_t *sec, uint16_t tsid, uint16_t program, uint16_t pmt_pid)
{
	pat_init(sec);
	psi_set_tableidext(sec, tsid);
	psi_set_version(sec, 0);
	psi_set_current(sec);
	psi_set_section(sec, 0);
	psi_set_lastsection(sec, 0);
	pat_set_length(sec, PAT_PROGRAM_SIZE);
	uint8_t *n = pat_get_program(sec, 0);
	patn_init(n);
	patn_set_program(n, program);
	patn_set_pid(n, pmt_pid);
	psi_set_crc(sec);
	return TS_PAT_LEN;
}

size_t
ts_pmt_build(uint8_t *sec, uint16_t program, uint16_t pid, uint8_t stream_type)
{
	pmt_init(sec);
	psi_set_tableidext(sec, program);
	psi_set_version(sec, 0);
	psi_set_current(sec);
	psi_set_section(sec, 0);
	psi_set_lastsection(sec, 0);
	pmt_set_pcrpid(sec, TS_PID_NULL);
	pmt_set_desclength(sec, 0);
	pmt_set_length(sec, PMT_ES_SIZE);
	uint8_t *n = pmt_get_es(sec, 0);
	pmtn_init(n);
	pmtn_set_streamtype(n, stream_type);
	pmtn_set_pid(n, pid);
	pmtn_set_desclength(n, 0);
	psi_set_crc(sec);
	return TS_PMT_LEN;
}

/* ---- demuxer ---------------------------------------------------------------- */

void
ts_demux_init(struct ts_demux *d, int pid, int want_tid)
{
	memset(d, 0, sizeof *d);
	memset(d->cc, -1, sizeof d->cc);
	d->pid = pid;
	d->want_tid = want_tid;
}

/*
 * Append bytes from *p (up to lim) to the section being reassembled.
 * 1 when it is complete, 0 when it needs more, -1 on a section_length
 * that cannot be.
 */
static int
feed(struct ts_demux *d, const uint8_t **p, const uint8_t *lim, char *err)
{
	while (*p < lim) {
		size_t n = d->need - d->have;
		if (n > (size_t)(lim - *p))
			n = (size_t)(lim - *p);
		memcpy(d->sec + d->have, *p, n);
		d->have += n;
		*p += n;
		if (d->have < d->need)
			return 0;
		if (d->need == PSI_HEADER_SIZE) {
			d->need += psi_get_length(d->sec);
			if (d->need > TS_SEC_MAX) {
				snprintf(err, TS_ERR_LEN, "section_length %u over %u",
				    psi_get_length(d->sec), TS_SEC_MAX - PSI_HEADER_SIZE);
				return -1;
			}
			if (d->have < d->need)
				continue;
		}
		d->in_sec = 0;
		return 1;
	}
	return 0;
}

int
ts_demux_packet(struct ts_demux *d, const uint8_t *pkt, uint64_t off, char *err)
{
	uint16_t pid;
	const uint8_t *pl, *end = pkt + TS_PKT_LEN;

	d->packets++;
	d->pkt_off = off;
	d->pl = d->end = NULL;
	d->ready = 0;
	if (pkt[0] != TS_SYNC) {
		snprintf(err, TS_ERR_LEN, "packet %llu: sync byte 0x%02x where 0x47 was due",
		    (unsigned long long)d->packets, pkt[0]);
		return -1;
	}
	pid = ts_get_pid(pkt);
	if (ts_get_transporterror(pkt)) {
		snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: transport_error_indicator set",
		    (unsigned long long)d->packets, pid);
		return -1;
	}
	if (pid == TS_PID_NULL)
		return 0;
	if (ts_get_scrambling(pkt)) {
		snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: scrambled (transport_scrambling_control %u)",
		    (unsigned long long)d->packets, pid, ts_get_scrambling(pkt));
		return -1;
	}
	if (!ts_has_payload(pkt) && !ts_has_adaptation(pkt)) {
		snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: adaptation_field_control 00 (reserved)",
		    (unsigned long long)d->packets, pid);
		return -1;
	}
	if (ts_has_adaptation(pkt) &&
	    ts_get_adaptation(pkt) > (ts_has_payload(pkt) ? 182 : 183)) {
		snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: adaptation_field_length %u too long",
		    (unsigned long long)d->packets, pid, ts_get_adaptation(pkt));
		return -1;
	}
	/* 2.4.3.3: the counter steps on packets with payload, stays otherwise. */
	int cc = ts_get_cc(pkt), last = d->cc[pid];
	int due = last < 0 ? cc : ts_has_payload(pkt) ? (last + 1) & 15 : last;
	d->cc[pid] = (int8_t)cc;
	if (cc != due) {
		snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: continuity_counter %d where %d was due",
		    (unsigned long long)d->packets, pid, cc, due);
		return -1;
	}
	if (!ts_has_payload(pkt))
		return 0;
	pl = ts_payload((uint8_t *)(uintptr_t)pkt);
	if (d->pid < 0) {
		if (!ts_get_unitstart(pkt) || pl + 1 + pl[0] >= end || pl[1 + pl[0]] != d->want_tid)
			return 0;
		d->pid = pid;
	}
	if (pid != d->pid)
		return 0;
	d->start_ok = 0;
	if (ts_get_unitstart(pkt)) {
		unsigned ptr = *pl++;
		if (pl + ptr >= end) {
			snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: pointer_field %u beyond the "
			    "%td bytes after it", (unsigned long long)d->packets, pid, ptr, end - pl);
			return -1;
		}
		const uint8_t *lim = pl + ptr;
		if (d->in_sec) {
			int r = feed(d, &pl, lim, err);
			if (r < 0)
				return -1;
			if (r == 0 || pl != lim) {
				snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: pointer_field %u where "
				    "the section begun at byte %llu %s", (unsigned long long)d->packets,
				    pid, ptr, (unsigned long long)d->sec_off,
				    r ? "ends before it" : "does not end there");
				return -1;
			}
			d->ready = 1;
		} else if (d->synced && ptr != 0) {
			snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: pointer_field %u but no "
			    "section is in progress", (unsigned long long)d->packets, pid, ptr);
			return -1;
		}
		pl = lim;		/* before the first start: a section joined midway */
		d->start_ok = 1;
		d->synced = 1;
	} else if (!d->synced) {
		return 0;
	}
	d->pl = pl;
	d->end = end;
	return 0;
}

int
ts_demux_next(struct ts_demux *d, const uint8_t **sec, size_t *size, uint64_t *off, char *err)
{
	if (d->ready) {
		d->ready = 0;
		goto done;
	}
	while (d->pl != NULL && d->pl < d->end) {
		if (!d->in_sec) {
			if (*d->pl == 0xff) {
				/* stuffing to the end of the packet */
				for (const uint8_t *q = d->pl; q < d->end; q++) {
					if (*q != 0xff) {
						snprintf(err, TS_ERR_LEN, "packet %llu: byte 0x%02x after "
						    "stuffing at packet byte %td", (unsigned long long)d->packets,
						    *q, q - d->end + TS_PKT_LEN);
						return -1;
					}
				}
				d->pl = d->end;
				break;
			}
			if (!d->start_ok) {
				snprintf(err, TS_ERR_LEN, "packet %llu: PID 0x%04x: a section starts at packet "
				    "byte %td without payload_unit_start_indicator", (unsigned long long)d->packets,
				    d->pid, d->pl - d->end + TS_PKT_LEN);
				return -1;
			}
			d->in_sec = 1;
			d->have = 0;
			d->need = PSI_HEADER_SIZE;
			d->sec_off = d->pkt_off;
		}
		int r = feed(d, &d->pl, d->end, err);
		if (r < 0)
			return -1;
		if (r == 1)
			goto done;
	}
	return 0;
done:
	*sec = d->sec;
	*size = d->have;
	*off = d->sec_off;
	return 1;
}

int
ts_demux_end(struct ts_demux *d, char *err)
{
	if (!d->in_sec)
		return 0;
	snprintf(err, TS_ERR_LEN, "the section begun at byte %llu is cut short: %zu of %s%zu bytes",
	    (unsigned long long)d->sec_off, d->have, d->need == PSI_HEADER_SIZE ? "at least " : "",
	    d->need);
	return -1;
}
