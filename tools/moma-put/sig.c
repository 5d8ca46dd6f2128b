/*
 * sig.c - the signals moma-put catches (INT, TERM, HUP): the handler
 * records the first one's time and the last one's number, and writes a
 * byte to a pipe so that a waiting curl_multi_poll() wakes at once.  The
 * run looks at sig_caught between steps; SIGPIPE is ignored, a write to
 * a closed socket is an error like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "put.h"

volatile sig_atomic_t sig_caught;
volatile sig_atomic_t sig_at_s;

static int sigpipe_w = -1;

static void
on_signal(int sig)
{
	int saved = errno;
	struct timespec ts;

	if (!sig_caught) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sig_at_s = (sig_atomic_t)ts.tv_sec;
	}
	sig_caught = sig;
	if (sigpipe_w >= 0)
		(void)!write(sigpipe_w, "", 1);
	errno = saved;
}

/* Install the handlers; the pipe's read end, or -1 (errno set). */
int
sig_install(void)
{
	static int fds[2];
	struct sigaction sa = { 0 };

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	sigpipe_w = fds[1];
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return fds[0];
}
