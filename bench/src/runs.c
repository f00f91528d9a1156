// SPDX-License-Identifier: GPL-2.0
/* runs.c - records of several kernels side by side; see runs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

int bs_run_load(struct bs_run *run, const char *kernel, FILE *f, char *why, size_t whylen)
{
	char line[1024], err[160];
	size_t cap = 0, lineno = 0, measured = 0;
	struct bs_rec r;
	int ret;

	memset(run, 0, sizeof(*run));
	snprintf(run->kernel, sizeof(run->kernel), "%s", kernel);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		ret = bs_rec_parse(line, &r, err, sizeof(err));
		if (ret == 1)
			continue;
		if (ret) {
			snprintf(why, whylen, "line %zu: %s", lineno, err);
			return -EINVAL;
		}
		if (run->n == cap) {
			size_t c = cap ? 2 * cap : 64;
			struct bs_rec *p = realloc(run->recs, c * sizeof(*p));

			if (!p) {
				snprintf(why, whylen, "out of memory");
				return -ENOMEM;
			}
			run->recs = p;
			cap = c;
		}
		run->recs[run->n++] = r;
		measured += r.type != BS_INFO;
	}
	if (!measured) {
		snprintf(why, whylen, "no measurement records (did the guest run fail?)");
		return -ENODATA;
	}
	return 0;
}

void bs_run_free(struct bs_run *run)
{
	free(run->recs);
	memset(run, 0, sizeof(*run));
}

static bool same_key(const struct bs_rec *r, const struct bs_row *row)
{
	return r->type == row->type && r->size == row->size && !strcmp(r->device, row->device) &&
	       (row->type != BS_REG || !strcmp(r->backing, row->backing));
}

const struct bs_rec *bs_run_find(const struct bs_run *run, const struct bs_row *row)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (same_key(&run->recs[i], row))
			return &run->recs[i];
	return NULL;
}

/* order: device and backing by first appearance (index), then size */
struct keyed {
	struct bs_row row;
	int dev_idx, back_idx;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->dev_idx != y->dev_idx)
		return x->dev_idx - y->dev_idx;
	if (x->back_idx != y->back_idx)
		return x->back_idx - y->back_idx;
	return x->row.size < y->row.size ? -1 : x->row.size > y->row.size;
}

int bs_rows(const struct bs_run *runs, int n, enum bs_type type, struct bs_row **out)
{
	struct keyed *k = NULL;
	const char **devs = NULL, **backs = NULL;
	size_t total = 0, nk = 0, nd = 0, nb = 0, i, j;
	int ri, ret = -ENOMEM;

	*out = NULL;
	for (ri = 0; ri < n; ri++)
		total += runs[ri].n;
	k = calloc(total + 1, sizeof(*k));
	devs = calloc(total + 1, sizeof(*devs));
	backs = calloc(total + 1, sizeof(*backs));
	if (!k || !devs || !backs)
		goto out;
	for (ri = 0; ri < n; ri++) {
		for (i = 0; i < runs[ri].n; i++) {
			const struct bs_rec *r = &runs[ri].recs[i];
			struct bs_row row = { type, r->device, r->backing, r->size };

			if (r->type != type)
				continue;
			for (j = 0; j < nk && !same_key(r, &k[j].row); j++)
				;
			if (j < nk)
				continue;
			for (j = 0; j < nd && strcmp(devs[j], r->device); j++)
				;
			if (j == nd)
				devs[nd++] = r->device;
			k[nk].dev_idx = (int)j;
			for (j = 0; type == BS_REG && j < nb && strcmp(backs[j], r->backing); j++)
				;
			if (type == BS_REG && j == nb)
				backs[nb++] = r->backing;
			k[nk].back_idx = type == BS_REG ? (int)j : 0;
			k[nk++].row = row;
		}
	}
	qsort(k, nk, sizeof(*k), cmp_keyed);
	*out = calloc(nk + 1, sizeof(**out));
	if (!*out)
		goto out;
	for (i = 0; i < nk; i++)
		(*out)[i] = k[i].row;
	ret = (int)nk;
out:
	free(k);
	free(devs);
	free(backs);
	return ret;
}

double bs_ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : NAN;
}

double bs_reg_med(const struct bs_rec *r)
{
	return r && r->status == BS_OK && r->reg.n ? r->reg.med : NAN;
}

double bs_dereg_med(const struct bs_rec *r)
{
	return r && r->status == BS_OK && r->dereg.n ? r->dereg.med : NAN;
}

double bs_copy_med(const struct bs_rec *r)
{
	return r && r->copy.n ? r->copy.med : NAN;
}

double bs_fault_med(const struct bs_rec *r)
{
	return r && r->fault.n ? r->fault.med : NAN;
}

double bs_bw_med(const struct bs_rec *r)
{
	return r && r->status == BS_OK && r->bw.n ? r->bw.med : NAN;
}

double bs_norm_ratio(const struct bs_rec *a, const struct bs_rec *b)
{
	return bs_ratio(bs_ratio(bs_reg_med(a), bs_copy_med(a)),
			bs_ratio(bs_reg_med(b), bs_copy_med(b)));
}

const char *bs_cell_status(const struct bs_rec *r)
{
	if (!r)
		return "-";
	switch (r->status) {
	case BS_SKIP:
		return "skip";
	case BS_REGFAIL:
		return strerrorname_np(-r->err) ?: "fail";
	case BS_ERROR:
		return "error";
	default:
		return "-";
	}
}
