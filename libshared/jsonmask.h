/*
 * jsonmask.h - the bytes a JSON string cannot hold as they are: a quote,
 * a backslash or a control character (RFC 8259, 7), found 16 at a time.
 * The one copy of the test that the scanner (tlvscan.h, its SSE2 build),
 * the decoder (tlvdec.c) and moma-dump's storables writer use; the
 * scanner's AVX2 build has its 32-byte twin beside its other masks.
 */
#ifndef MOMA_JSONMASK_H
#define MOMA_JSONMASK_H

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bit i set when byte i of v is '"', '\\' or below 0x20. */
static inline unsigned
jsonmask_stop16(__m128i v)
{
	const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
	    c1f = _mm_set1_epi8(0x1f);

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bsl)),
	    _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f)));
}
#endif

#endif
