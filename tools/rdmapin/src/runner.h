/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runner.h - walk the case table on one device: every case runs in a forked child (its own
 * process group) with a timeout; the child sends a fixed-size struct rp_obs through a pipe. A
 * crash or a timeout costs that one case and is reported as a failure naming the signal or the
 * timeout. The parent watches the kernel log around each case and judges the observation.
 */
#ifndef RDMAPIN_RUNNER_H
#define RDMAPIN_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cases.h"

struct rp_config {
	const char *case_globs;   /* NULL: all cases */
	const char *connect_host; /* NULL: loopback */
	uint16_t port;
	size_t pages;
	int timeout_s;            /* per case */
	int tp_timeout_ms;        /* per transport wait */
	bool soft_dirty_ok;       /* rp_soft_dirty_selftest() passed */
	char soft_dirty_why[128]; /* else why not */
	bool uffd_wp_ok;
	char uffd_wp_why[128];
};

struct rp_device_result {
	char name[64];
	enum rp_status status;
	char skip_reason[256];
	struct rp_result *results;
	size_t n;
};

/* rp_run_device - run the selected cases on device; fills d (results are malloc'ed). */
int rp_run_device(const struct rp_config *cfg, const char *device, struct rp_device_result *d);

void rp_device_result_free(struct rp_device_result *d);

#endif /* RDMAPIN_RUNNER_H */
