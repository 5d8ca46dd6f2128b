/*
 * dvbtime.c - DVB UTC_time and civil-date arithmetic (H. Hinnant's
 * days_from_civil / civil_from_days, exact for any int64 day count we use).
 */
#include "dvbtime.h"

#include <stdio.h>
#include <string.h>

int64_t
dvbtime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
dvbtime_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static uint8_t
bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

int
dvbtime_encode(int64_t t, uint8_t out[5])
{
	if (t < DVBTIME_MIN || t > DVBTIME_MAX)
		return -1;
	int64_t days = floordiv(t, 86400);
	unsigned sod = (unsigned)(t - days * 86400);
	unsigned mjd = (unsigned)(days + 40587);
	out[0] = (uint8_t)(mjd >> 8);
	out[1] = (uint8_t)mjd;
	out[2] = bcd(sod / 3600);
	out[3] = bcd(sod / 60 % 60);
	out[4] = bcd(sod % 60);
	return 0;
}

static int
unbcd(uint8_t b, unsigned max, unsigned *v)
{
	if ((b >> 4) > 9 || (b & 0xf) > 9)
		return -1;
	*v = (b >> 4) * 10u + (b & 0xfu);
	return *v > max ? -1 : 0;
}

int
dvbtime_decode(const uint8_t in[5], int64_t *t)
{
	unsigned h, m, s;
	int64_t mjd = (int64_t)in[0] << 8 | in[1];

	if (unbcd(in[2], 23, &h) || unbcd(in[3], 59, &m) || unbcd(in[4], 59, &s))
		return -1;
	*t = (mjd - 40587) * 86400 + h * 3600 + m * 60 + s;
	return 0;
}

int
dvbtime_format(int64_t t, char *buf, size_t len)
{
	int64_t days = floordiv(t, 86400), y;
	unsigned sod = (unsigned)(t - days * 86400), m, d;

	dvbtime_civil_from_days(days, &y, &m, &d);
	return snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y,
	    m, d, sod / 3600, sod / 60 % 60, sod % 60);
}

static int
digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int
dvbtime_parse(const char *s, size_t n, int64_t *t)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0;
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	if (n > 10) {
		if (n < 19 || (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
		    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
		    digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59)
			return -1;
		if (!((n == 20 && s[19] == 'Z') ||
		      (n == 25 && memcmp(s + 19, "+00:00", 6) == 0) || n == 19))
			return -1;
	}
	*t = dvbtime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}
