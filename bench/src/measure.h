/* SPDX-License-Identifier: GPL-2.0 */
/*
 * measure.h - the registration cost of one (device, backing, size), with its yardsticks.
 *
 * Each repetition makes a fresh backing with rdmapin's mapping code (rp_map_create_len(): the
 * pages are in the state the kind claims, checked once with rp_map_check()), makes it read-only
 * (mprotect) and times ibv_reg_mr(IBV_ACCESS_REMOTE_READ) and ibv_dereg_mr over it; then, in the
 * same process, memcpy of size bytes between two populated anonymous buffers (MADV_DONTFORK, so
 * that anon_forked's sharer child does not COW-share them) and the write
 * fault-in of size bytes of fresh anonymous 4 KiB pages (allocate, zero, map: what a forced write
 * or an unshare of the zeropage costs at least). One untimed 4 KiB registration of the memcpy
 * buffer comes first (a fresh process's first ibv_reg_mr also faults in library and provider
 * pages). A fresh backing per repetition matters: a
 * registration changes the pages (COW, unshare), so the next one would measure another state.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <stddef.h>

#include "mapping.h"
#include "record.h"

struct bs_reg_job {
	const char *device;
	enum rp_backing kind;
	size_t size;
	unsigned int reps;
	int timeout_ms; /* bounds the sharer child of anon_forked */
};

/*
 * bs_measure_reg - run the job in this process and fill out (a BS_REG record: ok, skip when the
 * backing is not available, regfail when ibv_reg_mr fails, error otherwise). Returns 0 or the
 * negative errno of an error (also in out->err with out->why).
 */
int bs_measure_reg(const struct bs_reg_job *job, struct bs_rec *out);

/* bs_backing_fits - can kind be made size bytes long (huge kinds: 2 MiB multiples)? */
int bs_backing_fits(enum rp_backing kind, size_t size);

/* bs_backing_by_name - the kind named name, or -EINVAL. */
int bs_backing_by_name(const char *name);

#endif /* BENCH_MEASURE_H */
