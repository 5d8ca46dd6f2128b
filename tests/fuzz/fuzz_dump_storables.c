/*
 * fuzz_dump_storables - moma-dump's storables writer against Jansson.
 * Whatever storables_json writes, Jansson must read (duplicate keys
 * refused, as moma-dump asks it) and json_dumps(JSON_COMPACT) must write
 * byte for byte; what storables_kept takes as written, storables_compact
 * must write back unchanged, and the same with the UTF-8 check made per
 * string as once for all; tlv_utf8_ok must agree with tlv_utf8_valid.
 * The output buffer is exactly the n + 2 bytes the contract promises, so
 * ASan sees a write past it.  Anything else aborts.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/moma-dump/storables.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *o = malloc(size + 2), *c = malloc(size + 2);
	int valid = tlv_utf8_ok(data, size);

	if (o == NULL || c == NULL)
		abort();
	if (valid != (tlv_utf8_valid(data, size) == size)) {
		fprintf(stderr, "tlv_utf8_ok disagrees with tlv_utf8_valid\n");
		abort();
	}
	if (valid) {
		long c1 = storables_compact(data, size, 1, o), c0 = storables_compact(data, size, 0, c);
		if (c1 != c0 || (c1 > 0 && memcmp(o, c, (size_t)c1) != 0)) {
			fprintf(stderr, "compact with the text known valid differs: %ld, %ld\n", c1, c0);
			abort();
		}
		if (storables_kept(data, size) && (c1 != (long)size || memcmp(o, data, size) != 0)) {
			fprintf(stderr, "kept as written, but compacted to %ld bytes\n", c1);
			abort();
		}
	}
	long w = storables_json(data, size, o);
	if (w >= 0) {
		json_error_t je;
		json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
		char *d = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		if (d == NULL || strlen(d) != (size_t)w || memcmp(d, o, (size_t)w) != 0) {
			fprintf(stderr, "storables_json wrote %ld bytes, jansson %s\n", w,
			    j ? "wrote others" : je.text);
			abort();
		}
		free(d);
		json_decref(j);
	}
	free(c);
	free(o);
	return 0;
}
