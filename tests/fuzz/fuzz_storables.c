/*
 * fuzz_storables - the storables scanner against the Jansson oracle.
 * Both must accept and reject the same inputs and, when they accept,
 * build byte-identical TLV bodies; anything else aborts.  The encoder's
 * fast path (tlv_from_json_padded) must give the scanner's results,
 * error text included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tlv_body a, b;
	char ea[TLV_ERR_LEN], eb[TLV_ERR_LEN], js[TLV_BODY_MAX * 7];
	static struct tlv_body f;
	static uint8_t pad[65536 + TLV_JSON_SLACK];
	char ef[TLV_ERR_LEN] = "";
	int ra = tlv_from_json(data, size, &a, ea);
	int rb = tlv_from_jansson(data, size, &b, eb);

	if (size <= 65536) {
		memcpy(pad, data, size);
		memset(pad + size, '"', TLV_JSON_SLACK);
		int rf = tlv_from_json_padded(pad, size, &f, ef);
		if (rf != ra || (ra != 0 && strcmp(ea, ef) != 0) ||
		    (ra == 0 && (f.len != a.len || memcmp(f.buf, a.buf, a.len) != 0))) {
			fprintf(stderr, "fast path differs: %d (%s), scanner %d (%s)\n",
			    rf, rf ? ef : "ok", ra, ra ? ea : "ok");
			abort();
		}
	}

	if (ra != rb) {
		fprintf(stderr, "verdicts differ: scanner %d (%s), jansson %d (%s)\n",
		    ra, ra ? ea : "ok", rb, rb ? eb : "ok");
		abort();
	}
	if (ra == 0) {
		if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0 ||
		    a.off_appearance != b.off_appearance || a.off_filter != b.off_filter ||
		    a.off_addressee != b.off_addressee) {
			fprintf(stderr, "bodies differ\n");
			abort();
		}
		/* What the encoder builds, the decoder accepts and can render. */
		if (tlv_validate(a.buf, a.len, ea) != 0 || tlv_to_json(a.buf, a.len, js, sizeof js) < 0) {
			fprintf(stderr, "built body does not validate: %s\n", ea);
			abort();
		}
	}
	return 0;
}
