// SPDX-License-Identifier: GPL-2.0
/* worker.c - the parent's side of a sweep worker; see worker.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "worker.h"

int sw_worker_start(struct sw_worker *w, void (*fn)(int wfd, void *arg), void *arg)
{
	int p[2];

	w->pid = -1;
	w->fd = -1;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	w->pid = fork();
	if (w->pid < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return err;
	}
	if (!w->pid) {
		close(p[0]);
		fn(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	w->fd = p[0];
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int sw_worker_read(struct sw_worker *w, void *rec, size_t len, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;
		int pr;

		if (left <= 0)
			return -ETIMEDOUT;
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue; /* a signal: wait for what is left of the time */
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		n = read(w->fd, rec, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue; /* not a dead worker */
		if (n < 0)
			return -errno;
		return n == (ssize_t)len ? 1 : 0;
	}
}

int sw_worker_stop(struct sw_worker *w, int grace_ms, int *status)
{
	int r;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	/* lib's bounded reap: grace_ms, then SIGKILL and SW_REAP_MS more */
	r = rp_reap_status(w->pid, grace_ms, status, NULL);
	return r == -ETIMEDOUT ? -EDEADLK : r; /* -EDEADLK: stuck in the kernel */
}
