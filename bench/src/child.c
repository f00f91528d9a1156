// SPDX-License-Identifier: GPL-2.0
/* child.c - one measurement in a forked, time-bounded child; see child.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "stats.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read len bytes before deadline (ns); 0, -ETIMEDOUT or -EPIPE (EOF) */
static int read_all(int fd, void *buf, size_t len, uint64_t deadline)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = bs_now_ns();
		int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
		ssize_t n;

		if (!left)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* waitpid within ms; true when reaped */
static bool reap(pid_t pid, int *status, int ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int waited;

	for (waited = 0; waited <= ms; waited += 5) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

int bs_child_run(int (*fn)(void *arg, void *out), void *arg, void *out, size_t len,
		 int timeout_ms, char *why, size_t whylen)
{
	uint64_t deadline = bs_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int p[2], ret, status = 0, rc;
	pid_t pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		rc = fn(arg, out);
		if (write_all(p[1], &rc, sizeof(rc)) || write_all(p[1], out, len))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	ret = read_all(p[0], &rc, sizeof(rc), deadline);
	if (!ret)
		ret = read_all(p[0], out, len, deadline);
	close(p[0]);
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		snprintf(why, whylen, "no result within %d ms: killed", timeout_ms);
	}
	/* the result is in (or the child was killed): it exits at once; wait for it, bounded */
	if (!reap(pid, &status, 10000) && ret != -ETIMEDOUT) {
		kill(pid, SIGKILL);
		reap(pid, &status, 10000);
	}
	if (ret == -ETIMEDOUT)
		return ret;
	if (ret) {
		if (WIFSIGNALED(status))
			snprintf(why, whylen, "the child died of signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else
			snprintf(why, whylen, "the child exited %d without a result",
				 WEXITSTATUS(status));
		return -ECHILD;
	}
	return rc;
}
