// SPDX-License-Identifier: GPL-2.0
/* reap.c - bounded end of a child process; see reap.h. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "reap.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * 1 reaped (its wait status in *status, if status), 0 still running after ms, -errno. The
 * bound is on the clock, so signals that cut the sleeps short do not shorten it.
 */
static int wait_ms(pid_t pid, int ms, int *status)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	long deadline = now_ms() + ms;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
}

int rp_reap_status(pid_t pid, int grace_ms, int *status, bool *killed)
{
	int r = wait_ms(pid, grace_ms, status);

	if (killed)
		*killed = !r;
	if (r)
		return r < 0 ? r : 0;
	kill(pid, SIGKILL);
	r = wait_ms(pid, RP_REAP_KILL_MS, status);
	return r < 0 ? r : r ? 0 : -ETIMEDOUT;
}

int rp_reap(pid_t pid, int grace_ms)
{
	return rp_reap_status(pid, grace_ms, NULL, NULL);
}
