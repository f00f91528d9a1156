/* SPDX-License-Identifier: GPL-2.0 */
/*
 * opts.h - the command line of rdmapin-bench (see usage in opts.c): measure mode (in a guest
 * with RDMA devices: records on stdout) and combine mode (on the host: the records of several
 * kernels into one table with ratios, JSON and plot data).
 */
#ifndef BENCH_OPTS_H
#define BENCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mapping.h"

#define BS_MAX_DEVICES 8
#define BS_MAX_KERNELS 8
#define BS_EXIT_USAGE 2
#define BS_LARGE (64ULL << 20)       /* sizes from here on get --large-reps repetitions */

enum bs_mode { BS_MODE_MEASURE, BS_MODE_COMBINE, BS_MODE_HELP };

struct bs_opts {
	enum bs_mode mode;
	/* measure */
	const char *devices[BS_MAX_DEVICES]; /* none: every device */
	int n_devices;
	int backings[RP_B__COUNT];
	int n_backings;
	uint64_t size_min, size_max;         /* size_max 0: auto (from MemAvailable) */
	bool no_reg;                         /* --sizes none: verify only */
	uint64_t verify_min, verify_max;     /* both 0: no verify measurement */
	unsigned int reps, verify_reps;
	unsigned int large_reps;             /* repetitions for sizes >= BS_LARGE */
	int timeout_s;                       /* per measurement (one forked child) */
	/* combine */
	const char *kernel[BS_MAX_KERNELS];  /* NAME of NAME=FILE, in the order given */
	const char *file[BS_MAX_KERNELS];
	int n_kernels;
	const char *json;                    /* combine: write the JSON here */
	const char *plot_dir;                /* combine: write bench.dat + bench.gp here */
};

extern const char bs_usage[];

/* the default backings: issue 9's list */
extern const enum rp_backing bs_default_backings[];
extern const int bs_n_default_backings;

/*
 * bs_opts_parse - argv into o. 0: parsed; 1: --help; -EINVAL: err holds one line.
 * Pointers in o point into argv.
 */
int bs_opts_parse(int argc, char **argv, struct bs_opts *o, char *err, size_t errlen);

/* bs_auto_max - the largest 4 KiB * 4^k with 6 * size <= avail bytes (at least 4 KiB). */
uint64_t bs_auto_max(uint64_t avail);

/* bs_reps_for - the repetitions of a registration measurement of size bytes */
static inline unsigned int bs_reps_for(const struct bs_opts *o, uint64_t size)
{
	return size >= BS_LARGE && o->large_reps < o->reps ? o->large_reps : o->reps;
}

/* bs_next_size - the size after s in a run of powers of 4 (s * 4). */
static inline uint64_t bs_next_size(uint64_t s)
{
	return s * 4;
}

#endif /* BENCH_OPTS_H */
