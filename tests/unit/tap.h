/*
 * tap.h - what every C unit test shares (each .c file of tests/unit is its own
 * binary, built by the Makefile against libshared.a and run by
 * scripts/dev/run-tests): a minimal TAP producer and a seeded PRNG.
 */
#ifndef MOMA_TAP_H
#define MOMA_TAP_H
#include <stdint.h>
#include <stdio.h>
static int tap_n, tap_fail;
#define ok(cond, ...) do { int c_ = !!(cond); tap_n++; if (!c_) tap_fail++; \
	printf("%sok %d - ", c_ ? "" : "not ", tap_n); printf(__VA_ARGS__); printf("\n"); \
	if (!c_) printf("#   failed at %s:%d\n", __FILE__, __LINE__); } while (0)
#define tap_done() (printf("1..%d\n", tap_n), tap_fail ? 1 : 0)

/* xorshift64, the same sequence in every run. */
static uint64_t tap_rs = 88172645463325252ull;
static inline uint64_t rnd(void)
{
	tap_rs ^= tap_rs << 13;
	tap_rs ^= tap_rs >> 7;
	tap_rs ^= tap_rs << 17;
	return tap_rs;
}
#endif
