/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reap.h - end a helper child process (a page sharer, a fork-mutation child) with a bounded
 * wait: never a waitpid() that can block forever.
 */
#ifndef RDMAPIN_REAP_H
#define RDMAPIN_REAP_H

#include <stdbool.h>
#include <sys/types.h>

/* how long a child may take to die of SIGKILL before rp_reap gives up on it */
#define RP_REAP_KILL_MS 5000

/*
 * rp_reap - wait up to grace_ms for pid to exit by itself, then SIGKILL it and wait at most
 * 5 s more. Returns 0 when it was reaped, -ETIMEDOUT when it is still there (a task stuck in
 * the kernel), or -errno of waitpid() (e.g. -ECHILD: not our child).
 */
int rp_reap(pid_t pid, int grace_ms);

/*
 * rp_reap_status - the same, and on 0 the child's wait status in *status; *killed says
 * whether it had to be sent SIGKILL (either pointer may be NULL).
 */
int rp_reap_status(pid_t pid, int grace_ms, int *status, bool *killed);

#endif /* RDMAPIN_REAP_H */
