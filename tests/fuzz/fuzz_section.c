/*
 * fuzz_section - section and TLV body checks on arbitrary bytes, the
 * reader half of moma-dump.  Valid-looking inputs are also re-signed with
 * a correct CRC so the fuzzer gets past the checksum and into the body.
 */
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "section.h"
#include "tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const uint8_t *p, size_t avail)
{
	char err[SEC_ERR_LEN], js[SEC_MAX_LEN * 7];
	size_t need;

	if (sec_validate(p, avail, &need, err) != 0)
		return;
	if (need != sec_get_size(p) || need > avail)
		abort();
	const uint8_t *b = sec_get_body(p);
	size_t n = sec_get_body_len(p);
	if (tlv_validate(b, n, err) == 0 && tlv_to_json(b, n, js, sizeof js) < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[SEC_MAX_LEN];

	check(data, size);
	if (size >= SEC_OVERHEAD && size <= SEC_MAX_LEN) {
		memcpy(buf, data, size);
		buf[0] = SEC_TABLE_ID;
		buf[1] = (uint8_t)(0x70 | ((size - 3) >> 8));
		buf[2] = (uint8_t)(size - 3);
		uint32_t c = crc_mpeg2(CRC_MPEG2_INIT, buf, size - 4);
		be32_set(buf + size - 4, c);
		check(buf, size);
	}
	return 0;
}
