/*
 * crc.c - CRC-32/MPEG-2 and CRC-32C, slicing-by-8 tables built once.
 *
 * Slicing-by-8 processes eight bytes per step with eight table lookups
 * that do not depend on each other, which is what makes it several times
 * faster than the byte-at-a-time loop (biTStream's psi_set_crc) on the
 * encoder's hot path.  On x86-64 with PCLMULQDQ (checked at run time),
 * CRC-32/MPEG-2 reduces each 16-byte block with two independent
 * carry-less multiplications and ends with a Barrett reduction; CRC-32C
 * uses the SSE4.2 crc32 instruction when the CPU has it, on three blocks
 * at once for long buffers.  The tables stay
 * the fallback, and the unit tests check the fast paths against them.
 */
#include "crc.h"

#include <pthread.h>
#include <string.h>

static uint32_t mpeg2_tab[8][256];
static uint32_t c_tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;
static int tab_ready;	/* set (release) once tab_init is done */

/* pthread_once costs a call per CRC: look at the flag first. */
#define TAB_INIT() do { if (!__atomic_load_n(&tab_ready, __ATOMIC_ACQUIRE)) \
	pthread_once(&tab_once, tab_init); } while (0)
static int have_sse42, have_pclmul;
static uint32_t k128;		/* x^128 mod P (CRC-32/MPEG-2) */
#if defined(__x86_64__)
static void clmul_init(void);
static void c32_shift_init(void);
#endif

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
#if defined(__x86_64__)
	clmul_init();
	c32_shift_init();
#endif
	__atomic_store_n(&tab_ready, 1, __ATOMIC_RELEASE);
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
 * Carry-less multiplication (Intel, "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ", 2009), in its plain MSB-first form.  A
 * 16-byte block read big-endian is a polynomial of degree < 128, first
 * byte in the top bits.  A message of blocks B[0..n) is
 *   sum B[i] * x^(128 (n-1-i)),
 * and each term is reduced on its own: B.hi * (x^(128d+64) mod P) +
 * B.lo * (x^(128d) mod P), d = n-1-i, two products below 2^96 that do not
 * depend on each other, so the multiplier runs them back to back instead
 * of waiting for each fold as a running register would.  A run of
 * MPEG2_RUN blocks at a time; the running value enters the next run as a
 * block one place before it.  The last, partial block is appended by
 * shifting the value left by its length (two overlapping loads), and the
 * 128-bit value X gives the CRC (X * x^32) mod P by one more round of
 * independent products and a Barrett reduction.
 */
#define MPEG2_RUN 64
static uint64_t kd[MPEG2_RUN + 1][2] __attribute__((aligned(16)));	/* x^(128d), x^(128d+64) mod P */
static uint32_t k96, k64;		/* x^96 mod P, x^64 mod P */
static const uint64_t mpeg2_mu = 0x104D101DFull;	/* x^64 div P */
static const uint64_t mpeg2_poly = 0x104C11DB7ull;

static void
clmul_init(void)
{
	uint32_t r = 1;	/* x^0 */

	for (int d = 0; d <= MPEG2_RUN; d++) {
		kd[d][0] = r;
		for (int i = 0; i < 64; i++)
			r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
		kd[d][1] = r;
		for (int i = 0; i < 64; i++)
			r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
	}
	k96 = xpow_mod(96);
	k64 = xpow_mod(64);
}

__attribute__((target("pclmul,ssse3"))) static inline __m128i
be_load(const uint8_t *p)
{
	const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
}

/* x * x^(128d) mod P, below 2^96 (d >= 1) or x itself (d = 0). */
__attribute__((target("pclmul,ssse3"))) static inline __m128i
shift_blocks(__m128i x, unsigned d)
{
	if (d == 0)
		return x;
	__m128i k = _mm_load_si128((const __m128i *)(const void *)kd[d]);
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11), _mm_clmulepi64_si128(x, k, 0x00));
}

__attribute__((target("pclmul,ssse3"))) static uint32_t
mpeg2_clmul(uint32_t crc, const uint8_t *p, size_t len)
{
	size_t nb = len / 16 - 1, r = len % 16;
	/* The register goes into the first four bytes. */
	__m128i x = _mm_xor_si128(be_load(p), _mm_set_epi32((int)crc, 0, 0, 0));

	p += 16;
	while (nb) {
		unsigned n = nb < MPEG2_RUN ? (unsigned)nb : MPEG2_RUN;
		/* Two sums so that neither waits on the other's xor. */
		__m128i a = shift_blocks(x, n), b = be_load(p + 16 * (n - 1));
		for (unsigned i = 0; i < n - 1; i++) {
			__m128i v = be_load(p + 16 * i);
			__m128i k = _mm_load_si128((const __m128i *)(const void *)kd[n - 1 - i]);
			a = _mm_xor_si128(a, _mm_clmulepi64_si128(v, k, 0x11));
			b = _mm_xor_si128(b, _mm_clmulepi64_si128(v, k, 0x00));
		}
		x = _mm_xor_si128(a, b);
		p += 16 * n;
		nb -= n;
	}
	if (r) {
		/* X * x^(8r) + T, T the r tail bytes: X shifted left by r
		 * bytes plus T, and A, the r bytes shifted out past x^128,
		 * folded once more.  Variable byte shifts are pshufb with a
		 * window into a table (index 0x80: a zero byte). */
		static const uint8_t up[32] = {
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
		static const uint8_t down[32] = {
			0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };
		static const uint8_t keep[32] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(up + 16 - r));
		__m128i a = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)(const void *)(down + 16 - r)));
		__m128i t = _mm_and_si128(be_load(p + r - 16),	/* the last 16 bytes */
		    _mm_loadu_si128((const __m128i *)(const void *)(keep + 16 - r)));
		x = _mm_xor_si128(shift_blocks(a, 1), _mm_xor_si128(_mm_shuffle_epi8(x, w), t));
	}
	/*
	 * (X * x^32) mod P.  X = a x^96 + b x^64 + c x^32 + d (32-bit parts),
	 * X x^32 = a x^128 + b x^96 + c x^64 + d x^32 ==
	 * a k128 + b k96 + c k64 + d x^32, below 2^64, then Barrett:
	 * q = floor(floor(Z / x^32) * mu / x^32), CRC = (Z + q P) mod x^32.
	 */
	__m128i ka = _mm_set_epi64x((long long)k96, (long long)k128);
	__m128i kc = _mm_set_epi64x((long long)mpeg2_mu, (long long)k64);
	__m128i hi = _mm_srli_epi64(x, 32);			/* a, c in lanes 1, 0 */
	__m128i lo = _mm_and_si128(x, _mm_set_epi32(0, -1, 0, -1));	/* b, d */
	__m128i z = _mm_xor_si128(_mm_clmulepi64_si128(hi, ka, 0x01),	/* a * k128 */
	    _mm_xor_si128(_mm_clmulepi64_si128(lo, ka, 0x11),		/* b * k96 */
	    _mm_xor_si128(_mm_clmulepi64_si128(hi, kc, 0x00),		/* c * k64 */
	    _mm_slli_epi64(lo, 32))));					/* d x^32, lane 0 */
	__m128i t = _mm_clmulepi64_si128(_mm_srli_epi64(z, 32), kc, 0x10);	/* * mu */
	t = _mm_clmulepi64_si128(_mm_srli_epi64(t, 32), _mm_cvtsi64_si128((long long)mpeg2_poly), 0x00);
	return (uint32_t)_mm_cvtsi128_si32(_mm_xor_si128(z, t));
}
#endif

uint32_t
crc_mpeg2_table(uint32_t crc, const void *buf, size_t len)
{
	TAB_INIT();
	return mpeg2_tables(crc, buf, len);
}

uint32_t
crc_mpeg2(uint32_t crc, const void *buf, size_t len)
{
	TAB_INIT();
#if defined(__x86_64__)
	if (have_pclmul && len >= 16)
		return mpeg2_clmul(crc, buf, len);
#endif
	return mpeg2_tables(crc, buf, len);
}

#if defined(__x86_64__)
/*
 * The crc32 instruction has a latency of three cycles and a throughput of
 * one, so one chain of it runs at a third of the speed it could: buffers
 * of 3 * C32_BLK bytes and more are summed as three chains over adjacent
 * blocks, joined by shifting the earlier chains' registers over the bytes
 * after them: a register r followed by C32_BLK zero bytes becomes the GF(2)
 * linear map c32_shift(r), applied as four byte-indexed tables.
 */
#define C32_BLK 2048
static uint32_t c32_shift_tab[4][256];

static uint32_t
c32_shift(uint32_t r)
{
	return c32_shift_tab[0][r & 0xff] ^ c32_shift_tab[1][(r >> 8) & 0xff] ^
	    c32_shift_tab[2][(r >> 16) & 0xff] ^ c32_shift_tab[3][r >> 24];
}

static void
c32_shift_init(void)
{
	uint32_t basis[32];

	/* The register (no inversion) after C32_BLK zero bytes, per bit. */
	for (int b = 0; b < 32; b++) {
		uint32_t r = 1u << b;
		for (int i = 0; i < C32_BLK; i++)
			r = (r >> 8) ^ c_tab[0][r & 0xff];
		basis[b] = r;
	}
	for (int k = 0; k < 4; k++)
		for (uint32_t v = 0; v < 256; v++) {
			uint32_t r = 0;
			for (int b = 0; b < 8; b++)
				if (v >> b & 1)
					r ^= basis[8 * k + b];
			c32_shift_tab[k][v] = r;
		}
}

__attribute__((target("sse4.2"))) static uint32_t
crc_32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 3 * C32_BLK) {
		uint64_t c1 = 0, c2 = 0;
		for (size_t i = 0; i < C32_BLK; i += 8) {
			uint64_t v0, v1, v2;
			memcpy(&v0, p + i, 8);
			memcpy(&v1, p + C32_BLK + i, 8);
			memcpy(&v2, p + 2 * C32_BLK + i, 8);
			c = __builtin_ia32_crc32di(c, v0);
			c1 = __builtin_ia32_crc32di(c1, v1);
			c2 = __builtin_ia32_crc32di(c2, v2);
		}
		c = c32_shift(c32_shift((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
		p += 3 * C32_BLK;
		len -= 3 * C32_BLK;
	}
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

static uint32_t
c32_tables(uint32_t crc, const uint8_t *p, size_t len)
{
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
	return crc;
}

uint32_t
crc_32c_table(uint32_t crc, const void *buf, size_t len)
{
	TAB_INIT();
	return ~c32_tables(~crc, buf, len);
}

uint32_t
crc_32c(uint32_t crc, const void *buf, size_t len)
{
	TAB_INIT();
#if defined(__x86_64__)
	if (have_sse42)
		return ~crc_32c_hw(~crc, buf, len);
#endif
	return ~c32_tables(~crc, buf, len);
}
