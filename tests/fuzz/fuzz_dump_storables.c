/*
 * fuzz_dump_storables - moma-dump's storables writer against Jansson.
 * Whatever storables_json writes, Jansson must read (duplicate keys
 * refused, as moma-dump asks it) and json_dumps(JSON_COMPACT) must write
 * byte for byte; what storables_kept takes as written, storables_compact
 * must write back unchanged; utf8_ok must agree with tlv_utf8_valid.
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
	char *o = malloc(size + 2);

	if (o == NULL)
		abort();
	long w = storables_json(data, size, o);
	if (utf8_ok(data, size) != (tlv_utf8_valid(data, size) == size)) {
		fprintf(stderr, "utf8_ok disagrees with tlv_utf8_valid\n");
		abort();
	}
	if (storables_kept(data, size)) {
		long c = storables_compact(data, size, o);
		if (c != (long)size || memcmp(o, data, size) != 0) {
			fprintf(stderr, "kept as written, but compacted to %ld bytes\n", c);
			abort();
		}
	}
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
	free(o);
	return 0;
}
