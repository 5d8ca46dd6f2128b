/*
 * fuzz_storables - the fast storables scanner against Jansson.  Whatever
 * tlv_scan_fast takes, Jansson (tlv_from_json) must accept with the same
 * bytes and group offsets; the encoder's call (tlv_from_json_into) must
 * give Jansson's verdict, error text included, and bytes, whatever the
 * slack bytes after the input hold (two different pads are tried).  The
 * scanner's SSE2 and AVX2 copies must take the same inputs.  Anything
 * else aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_body(const struct tlv_body *a, const struct tlv_body *b)
{
	return a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0 &&
	    a->off_appearance == b->off_appearance && a->off_filter == b->off_filter &&
	    a->off_addressee == b->off_addressee;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tlv_body j, f, s;
	static uint8_t pad[65536 + TLV_JSON_SLACK];
	char ej[TLV_ERR_LEN], ef[TLV_ERR_LEN] = "", js[TLV_BODY_MAX * 7];
	int rj = tlv_from_json(data, size, &j, ej);

	if (size <= 65536) {
		static const uint8_t fill[2] = { '"', 0xe2 };
		memcpy(pad, data, size);
		for (int k = 0; k < 2; k++) {
			memset(pad + size, fill[k], TLV_JSON_SLACK);
			int rf = tlv_from_json_into(pad, size, &f, f.buf, ef);
			if (rf != rj || (rj != 0 && strcmp(ej, ef) != 0) || (rj == 0 && !same_body(&f, &j))) {
				fprintf(stderr, "padded path differs: %d (%s), jansson %d (%s)\n",
				    rf, rf ? ef : "ok", rj, rj ? ej : "ok");
				abort();
			}
			/* Both copies of the scanner (SSE2, and AVX2 where the
			 * CPU has it) take the same inputs. */
			int took[2];
			for (int w = 0; w < 2; w++) {
				tlv_scan_wide(w);
				took[w] = tlv_scan_fast(pad, size, &s);
				if (took[w] && (rj != 0 || !same_body(&s, &j))) {
					fprintf(stderr, "fast path (%s) took what jansson %s\n",
					    w ? "avx2" : "sse2", rj ? "refused" : "built differently");
					abort();
				}
			}
			if (tlv_scan_wide(1) && took[0] != took[1]) {
				fprintf(stderr, "the sse2 scanner %s what the avx2 one %s\n",
				    took[0] ? "took" : "declined", took[1] ? "took" : "declined");
				abort();
			}
		}
	}
	if (rj == 0) {
		/* What the encoder builds, the decoder accepts and can render. */
		if (tlv_validate(j.buf, j.len, ej) != 0 || tlv_to_json(j.buf, j.len, js, sizeof js) < 0) {
			fprintf(stderr, "built body does not validate: %s\n", ej);
			abort();
		}
	}
	return 0;
}
