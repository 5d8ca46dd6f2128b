/* tap.h - minimal TAP producer for the C unit tests. */
#ifndef MOMA_TAP_H
#define MOMA_TAP_H
#include <stdio.h>
static int tap_n, tap_fail;
#define ok(cond, ...) do { int c_ = !!(cond); tap_n++; if (!c_) tap_fail++; \
	printf("%sok %d - ", c_ ? "" : "not ", tap_n); printf(__VA_ARGS__); printf("\n"); \
	if (!c_) printf("#   failed at %s:%d\n", __FILE__, __LINE__); } while (0)
#define tap_done() (printf("1..%d\n", tap_n), tap_fail ? 1 : 0)
#endif
