/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - the clock and the summary of repeated measurements: median, minimum, maximum and
 * the spread ((max - min) / median) of n samples.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdint.h>

struct bs_stat {
	unsigned int n; /* 0: not measured */
	double med, min, max;
};

/* bs_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t bs_now_ns(void);

/* bs_stat_of - summarise v[0..n-1] (v is sorted in place); n 0 gives a zero bs_stat. */
void bs_stat_of(double *v, unsigned int n, struct bs_stat *out);

/* bs_spread - (max - min) / med, 0 when not measured. */
double bs_spread(const struct bs_stat *s);

#endif /* BENCH_STATS_H */
