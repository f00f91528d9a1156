/* SPDX-License-Identifier: GPL-2.0 */
/*
 * worker.h - a sweep worker seen from the parent: a forked child that writes fixed-size
 * records into a pipe. Every wait on it is bounded: a record is awaited until a deadline
 * (a signal does not restart the wait, nor end it), and stopping a worker kills it and gives
 * up after a bounded time if it does not die (stuck in the kernel).
 */
#ifndef SWEEP_WORKER_H
#define SWEEP_WORKER_H

#include <stddef.h>
#include <sys/types.h>

#include "reap.h" /* lib/ */

struct sw_worker {
	pid_t pid;
	int fd; /* read end of the pipe, -1 once closed */
};

/* How long a worker that closed its pipe (or was killed) may take to exit: lib's reap bound. */
#define SW_REAP_MS RP_REAP_KILL_MS

/* sw_worker_start - fork a child that runs fn(wfd, arg) and then _exit(0)s; 0 or -errno. */
int sw_worker_start(struct sw_worker *w, void (*fn)(int wfd, void *arg), void *arg);

/*
 * sw_worker_read - read one record of len bytes (len <= PIPE_BUF, written with one write())
 * within timeout_ms. 1: a record; 0: end of file or a torn record (the worker is gone);
 * -ETIMEDOUT: nothing within timeout_ms; another negative errno if poll/read fail.
 */
int sw_worker_read(struct sw_worker *w, void *rec, size_t len, int timeout_ms);

/*
 * sw_worker_stop - close the pipe, wait up to grace_ms for the worker to exit (0: kill it at
 * once), then SIGKILL it and wait up to SW_REAP_MS more. 0 with its wait status in *status,
 * or -EDEADLK when it did not die (it is left behind).
 */
int sw_worker_stop(struct sw_worker *w, int grace_ms, int *status);

#endif /* SWEEP_WORKER_H */
