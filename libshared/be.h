/*
 * be.h - big-endian (network order) unsigned integers in raw bytes, the
 * byte order of every moma format (moma-frame(5), moma-section(5)) and of
 * PostgreSQL's binary values.
 *
 * p must point at 2, 4 or 8 readable (get) or writable (set) bytes; no
 * alignment is needed.
 */
#ifndef MOMA_BE_H
#define MOMA_BE_H

#include <stdint.h>

static inline uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

static inline void be16_set(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void be32_set(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void be64_set(uint8_t *p, uint64_t v) { be32_set(p, (uint32_t)(v >> 32)); be32_set(p + 4, (uint32_t)v); }

#endif
