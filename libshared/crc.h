/*
 * crc.h - the two CRCs moma uses.
 *
 * crc_mpeg2: CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): poly 0x04C11DB7,
 *   init 0xFFFFFFFF, no reflection, no final xor.  Closes every DVB section.
 *   Check value: "123456789" -> 0x0376E6E7.
 * crc_32c: CRC-32C (Castagnoli, RFC 3720 B.4): poly 0x1EDC6F41 reflected,
 *   init 0xFFFFFFFF, final xor 0xFFFFFFFF.  The frame stream checksum.
 *   Check value: "123456789" -> 0xE3069283.
 *
 * Both take the running value so a stream can be summed piecewise:
 *   c = crc_mpeg2(CRC_MPEG2_INIT, a, n); c = crc_mpeg2(c, b, m);
 * crc_32c is passed and returns the finished (xored) value, so
 *   crc_32c(crc_32c(0, a, n), b, m) == crc_32c(0, ab, n + m).
 */
#ifndef MOMA_CRC_H
#define MOMA_CRC_H

#include <stddef.h>
#include <stdint.h>

#define CRC_MPEG2_INIT 0xFFFFFFFFu

uint32_t crc_mpeg2(uint32_t crc, const void *buf, size_t len);
uint32_t crc_32c(uint32_t crc, const void *buf, size_t len);

/* The portable slicing-by-8 paths, whatever the CPU offers: the tests
 * check the accelerated ones against them. */
uint32_t crc_mpeg2_table(uint32_t crc, const void *buf, size_t len);
uint32_t crc_32c_table(uint32_t crc, const void *buf, size_t len);

#endif
