/*
 * crc.c - CRC-32/MPEG-2 and CRC-32C, slicing-by-8 tables built once.
 *
 * Slicing-by-8 processes eight bytes per step with eight table lookups
 * that do not depend on each other, which is what makes it several times
 * faster than the byte-at-a-time loop (biTStream's psi_set_crc) on the
 * encoder's hot path; on x86-64 with PCLMULQDQ, CRC-32/MPEG-2 folds 16
 * bytes per carry-less multiplication instead.  CRC-32C uses the SSE4.2
 * crc32 instruction when the CPU has it.
 */
#include "crc.h"

#include <pthread.h>
#include <string.h>

static uint32_t mpeg2_tab[8][256];
static uint32_t c_tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;
static int have_sse42, have_pclmul;
static uint32_t k128, k192;	/* x^128 mod P, x^192 mod P (CRC-32/MPEG-2) */

/* x^n mod P for the MSB-first polynomial 0x04C11DB7. */
static uint32_t
xpow_mod(unsigned n)
{
	uint32_t r = 1;
	while (n--)
		r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
	return r;
}

static void
tab_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++)
			c = (c & 0x80000000u) ? (c << 1) ^ 0x04C11DB7u : c << 1;
		mpeg2_tab[0][i] = c;

		uint32_t r = i;
		for (int k = 0; k < 8; k++)
			r = (r & 1) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
		c_tab[0][i] = r;
	}
	for (int t = 1; t < 8; t++)
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t p = mpeg2_tab[t - 1][i];
			mpeg2_tab[t][i] = (p << 8) ^ mpeg2_tab[0][p >> 24];
			uint32_t q = c_tab[t - 1][i];
			c_tab[t][i] = (q >> 8) ^ c_tab[0][q & 0xff];
		}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
	have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3");
#endif
	k128 = xpow_mod(128);
	k192 = xpow_mod(192);
}

static uint32_t
mpeg2_tables(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint32_t hi = crc ^ ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		                     (uint32_t)p[2] << 8 | p[3]);
		crc = mpeg2_tab[7][hi >> 24] ^ mpeg2_tab[6][(hi >> 16) & 0xff] ^
		      mpeg2_tab[5][(hi >> 8) & 0xff] ^ mpeg2_tab[4][hi & 0xff] ^
		      mpeg2_tab[3][p[4]] ^ mpeg2_tab[2][p[5]] ^
		      mpeg2_tab[1][p[6]] ^ mpeg2_tab[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc << 8) ^ mpeg2_tab[0][(crc >> 24) ^ *p++];
	return crc;
}

#if defined(__x86_64__)
#include <immintrin.h>
/*
 * Carry-less multiplication folding (Intel, "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ", 2009), in its plain MSB-first form.
 * X holds the message so far as a polynomial of degree < 128, congruent
 * to it mod P, first byte in the top bits.  Appending a block B:
 *   X' = X.hi * (x^192 mod P) + X.lo * (x^128 mod P) + B  (each product < 2^96)
 * At the end X is congruent to the message, so the CRC register is the
 * CRC (init 0) of X's 16 big-endian bytes: two table steps finish it.
 */
__attribute__((target("pclmul,ssse3"))) static uint32_t
mpeg2_clmul(uint32_t crc, const uint8_t *p, size_t len)
{
	const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const __m128i k = _mm_set_epi64x((long long)k192, (long long)k128);
	__m128i x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
	uint8_t r[16];

	/* The register goes into the first four bytes, i.e. the top 32 bits. */
	x = _mm_xor_si128(x, _mm_set_epi32((int)crc, 0, 0, 0));
	p += 16;
	len -= 16;
	while (len >= 16) {
		__m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
		x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11),
		    _mm_clmulepi64_si128(x, k, 0x00)), b);
		p += 16;
		len -= 16;
	}
	_mm_storeu_si128((__m128i *)(void *)r, _mm_shuffle_epi8(x, bswap));
	return mpeg2_tables(mpeg2_tables(0, r, 16), p, len);
}
#endif

uint32_t
crc_mpeg2(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&tab_once, tab_init);
#if defined(__x86_64__)
	if (have_pclmul && len >= 32)
		return mpeg2_clmul(crc, buf, len);
#endif
	return mpeg2_tables(crc, buf, len);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

uint32_t
crc_32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&tab_once, tab_init);
	crc = ~crc;
#if defined(__x86_64__)
	if (have_sse42)
		return ~crc_32c_hw(crc, p, len);
#endif
	while (len >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		                     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = c_tab[7][lo & 0xff] ^ c_tab[6][(lo >> 8) & 0xff] ^
		      c_tab[5][(lo >> 16) & 0xff] ^ c_tab[4][lo >> 24] ^
		      c_tab[3][p[4]] ^ c_tab[2][p[5]] ^ c_tab[1][p[6]] ^ c_tab[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ c_tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
