/*
 * fuzz_frame - the frame reader on arbitrary bytes (through a memfd, as
 * the tools read a file descriptor).  It must never crash, allocate past
 * its cap or loop; a clean end requires a matching trailer.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct io_in in;
	struct frame_reader r;
	struct frame_hdr h;
	struct frame_msg m;
	char err[FRAME_ERR_LEN];

	if (fd < 0 && (fd = memfd_create("fuzz", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET))
		abort();
	if (io_in_init(&in, fd, 64, FRAME_MAX_RECORD + 8, NULL))
		abort();
	if (frame_reader_open(&r, &in, &h, err) == FRAME_OK) {
		int rc;
		uint64_t n = 0;
		while ((rc = frame_read(&r, &m, err)) == 1) {
			if (m.storables_len > FRAME_MAX_RECORD)
				abort();
			n++;
		}
		if (rc == 0 && n != r.nmsg)
			abort();
	}
	io_in_free(&in);
	return 0;
}
