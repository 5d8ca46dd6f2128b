/*
 * dvbtime.h - DVB UTC_time (ETSI EN 300 468 clause 5.2.5 and Annex C):
 * 40 bits, a 16-bit Modified Julian Date then hh mm ss as six BCD digits.
 *
 * moma carries times as seconds since 1970-01-01T00:00:00Z (int64).  The
 * 16-bit MJD covers 1858-11-17 (MJD 0) to 2038-04-22 (MJD 65535); a time
 * outside that range cannot be encoded and is an error, never wrapped.
 * MJD is computed exactly from the day count (MJD = days since 1970 +
 * 40587) rather than with Annex C's formula, which is valid only from
 * 1900-03-01 to 2100-02-28.
 */
#ifndef MOMA_DVBTIME_H
#define MOMA_DVBTIME_H

#include <stddef.h>
#include <stdint.h>

#define DVBTIME_MIN (-40587LL * 86400)			/* 1858-11-17T00:00:00Z */
#define DVBTIME_MAX ((65536LL - 40587) * 86400 - 1)	/* 2038-04-22T23:59:59Z */

/* Encode t into out[5].  0, or -1 when t is outside DVBTIME_MIN..MAX. */
int dvbtime_encode(int64_t t, uint8_t out[5]);

/* Decode in[5] into *t.  0, or -1 when a BCD digit or the hour, minute or
 * second is out of range. */
int dvbtime_decode(const uint8_t in[5], int64_t *t);

/* Proleptic Gregorian calendar <-> days since 1970-01-01. */
int64_t dvbtime_days_from_civil(int64_t y, unsigned m, unsigned d);
void dvbtime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (buf >= 32 bytes; years outside
 * 0..9999 get a sign and more digits).  Returns the length. */
int dvbtime_format(int64_t t, char *buf, size_t len);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (also with a space instead of T, or
 * "+00:00" instead of Z) or a date alone "YYYY-MM-DD" (midnight UTC).
 * 0, or -1 if s[0..n) is not such a time. */
int dvbtime_parse(const char *s, size_t n, int64_t *t);

#endif
