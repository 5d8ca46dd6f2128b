/*
 * frame-tsv - test-only frame stream decoder: frames on stdin, one
 * tab-separated line per record on stdout:
 *
 *   H  version  network_id  date  zone  producer
 *   <id> <campagne_id> <numero_abonne> <valid_start> <valid_end>
 *        <template_id> <ack_delay> <genre> <ack_count> <storables>
 *   E  count
 *
 * (message lines carry no type column so they sort and compare with psql
 * output directly; times are Unix seconds.)  A stream that is not complete
 * and valid, trailer and checksum included, exits 65 with the reader's
 * message.  tests/moma-fetch.bats uses it until moma-dump replaces it.
 */
#include <err.h>
#include <stdio.h>
#include <sysexits.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"

int
main(void)
{
	struct io_in in;
	struct frame_reader r;
	struct frame_hdr h;
	struct frame_msg m;
	char e[FRAME_ERR_LEN];
	int rc;

	if (io_in_init(&in, STDIN_FILENO, 1 << 16, FRAME_MAX_RECORD + 8, NULL) != 0)
		err(EX_OSERR, "malloc");
	if ((rc = frame_reader_open(&r, &in, &h, e)) != FRAME_OK)
		errx(EX_DATAERR, "%s", rc == FRAME_EDATA ? e : "read error");
	printf("H\t%u\t%u\t%s\t%s\t%s\n", h.version, h.network_id, h.date, h.zone, h.producer);
	while ((rc = frame_read(&r, &m, e)) == 1)
		printf("%lld\t%lld\t%lld\t%lld\t%lld\t%d\t%d\t%d\t%d\t%.*s\n",
		    (long long)m.id, (long long)m.campagne_id, (long long)m.numero_abonne,
		    (long long)m.valid_start, (long long)m.valid_end, m.template_id,
		    m.ack_delay, m.genre, m.ack_count, (int)m.storables_len,
		    (const char *)m.storables);
	if (rc != 0) {
		fflush(stdout);
		errx(EX_DATAERR, "%s", rc == FRAME_EDATA ? e : "read error");
	}
	printf("E\t%llu\n", (unsigned long long)r.nmsg);
	io_in_free(&in);
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EX_IOERR, "stdout");
	return 0;
}
