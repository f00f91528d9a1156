// SPDX-License-Identifier: GPL-2.0
/* stats.c - clock and summaries of repeated measurements; see stats.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

uint64_t bs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bs_stat_of(double *v, unsigned int n, struct bs_stat *out)
{
	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	out->n = n;
	out->min = v[0];
	out->max = v[n - 1];
	out->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bs_spread(const struct bs_stat *s)
{
	return s->n && s->med > 0 ? (s->max - s->min) / s->med : 0;
}
