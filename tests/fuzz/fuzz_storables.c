/*
 * fuzz_storables - the fast storables scanner against Jansson.  Whatever
 * tlv_scan_fast takes, Jansson (tlv_from_json) must accept with the same
 * bytes and group offsets; the encoder's call (tlv_from_json_padded) must
 * give Jansson's verdict, error text included, and bytes, whatever the
 * slack bytes after the input hold (two different pads are tried).
 * Anything else aborts.
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
			int rf = tlv_from_json_padded(pad, size, &f, ef);
			if (rf != rj || (rj != 0 && strcmp(ej, ef) != 0) || (rj == 0 && !same_body(&f, &j))) {
				fprintf(stderr, "padded path differs: %d (%s), jansson %d (%s)\n",
				    rf, rf ? ef : "ok", rj, rj ? ej : "ok");
				abort();
			}
			if (tlv_scan_fast(pad, size, &s) && (rj != 0 || !same_body(&s, &j))) {
				fprintf(stderr, "fast path took what jansson %s\n",
				    rj ? "refused" : "built differently");
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
