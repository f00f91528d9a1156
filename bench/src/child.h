/* SPDX-License-Identifier: GPL-2.0 */
/*
 * child.h - run one measurement in a forked child with a time bound, so that a crash or a hang
 * costs that measurement only. The child fills a result buffer that comes back through a pipe.
 */
#ifndef BENCH_CHILD_H
#define BENCH_CHILD_H

#include <stddef.h>

/*
 * bs_child_run - fork, call fn(arg, out) in the child and send its return value and out[0..len)
 * back. Returns fn's return value, or -ETIMEDOUT (no result within timeout_ms: the child was
 * killed), -ECHILD (the child died without a result: why names the signal or status), or the
 * negative errno of pipe/fork. why gets a reason for the last two.
 */
int bs_child_run(int (*fn)(void *arg, void *out), void *arg, void *out, size_t len,
		 int timeout_ms, char *why, size_t whylen);

#endif /* BENCH_CHILD_H */
