// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - the readable report of --combine: registration cost per device, backing and size
 * for every kernel side by side with the ratios to the first kernel, the yardsticks per size,
 * and the verify throughput against ib_read_bw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

/* a time in ns as ms with about 3 significant digits */
static const char *ms(double ns, char *buf, size_t len)
{
	double v = ns / 1e6;

	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (v < 0.01)
		snprintf(buf, len, "%.4f", v);
	else if (v < 1)
		snprintf(buf, len, "%.3f", v);
	else if (v < 100)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static const char *ratio(double r, char *buf, size_t len)
{
	if (isnan(r))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, r < 10 ? "%.2f" : "%.1f", r);
	return buf;
}

static const char *pct(const struct bs_stat *s, char *buf, size_t len)
{
	if (!s->n)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f%%", 100 * bs_spread(s));
	return buf;
}

static const char *mbs(double bps, char *buf, size_t len)
{
	if (isnan(bps))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", bps / 1e6);
	return buf;
}

static void print_reg(FILE *f, const struct bs_run *runs, int n, const struct bs_row *rows,
		      int nrows)
{
	char a[32], b[32], c[32], d[32], sz[16];
	int i, k;

	fprintf(f, "# registration: read-only ibv_reg_mr and ibv_dereg_mr, median of n in ms; "
		"+- = (max-min)/median;\n# xcopy = reg / memcpy of the same bytes in the same "
		"process (robust to host load);\n# K/%s = K's median / %s's; norm = the same with "
		"each boot's memcpy as the unit\n", runs[0].kernel, runs[0].kernel);
	fprintf(f, "%-8s %-16s %6s", "device", "backing", "size");
	for (k = 0; k < n; k++)
		fprintf(f, " | %-10.10s %7s %4s %6s %8s", runs[k].kernel, "reg", "+-", "xcopy",
			"dereg");
	for (k = 1; k < n; k++)
		fprintf(f, " | %8.8s/%-8.8s %5s %5s", runs[k].kernel, runs[0].kernel, "norm",
			"dereg");
	fputc('\n', f);
	for (i = 0; i < nrows; i++) {
		const struct bs_rec *ref = bs_run_find(&runs[0], &rows[i]);

		fprintf(f, "%-8s %-16s %6s", rows[i].device, rows[i].backing,
			bs_size_str(rows[i].size, sz, sizeof(sz)));
		for (k = 0; k < n; k++) {
			const struct bs_rec *r = bs_run_find(&runs[k], &rows[i]);

			if (r && r->status == BS_OK)
				fprintf(f, " | %-10s %7s %4s %6s %8s", "", ms(r->reg.med, a, sizeof(a)),
					pct(&r->reg, b, sizeof(b)),
					ratio(bs_ratio(r->reg.med, r->copy.med), c, sizeof(c)),
					ms(r->dereg.med, d, sizeof(d)));
			else
				fprintf(f, " | %-10s %7s %4s %6s %8s", "", bs_cell_status(r), "", "",
					"");
		}
		for (k = 1; k < n; k++) {
			const struct bs_rec *r = bs_run_find(&runs[k], &rows[i]);

			fprintf(f, " | %17s %5s %5s",
				ratio(bs_ratio(bs_reg_med(r), bs_reg_med(ref)), a, sizeof(a)),
				ratio(bs_norm_ratio(r, ref), b, sizeof(b)),
				ratio(bs_ratio(bs_dereg_med(r), bs_dereg_med(ref)), c, sizeof(c)));
		}
		fputc('\n', f);
	}
	for (i = 0; i < nrows; i++)
		for (k = 0; k < n; k++) {
			const struct bs_rec *r = bs_run_find(&runs[k], &rows[i]);

			if (r && r->status != BS_OK && r->why[0])
				fprintf(f, "# %s %s %s %s: %s: %s\n", runs[k].kernel, rows[i].device,
					rows[i].backing, bs_size_str(rows[i].size, sz, sizeof(sz)),
					bs_status_name(r->status), r->why);
		}
}

/* the median over backings of one (device, size) of a yardstick in run k */
static double yard_med(const struct bs_run *run, const struct bs_row *rows, int nrows, int first,
		       double (*get)(const struct bs_rec *))
{
	double v[64];
	struct bs_stat s;
	unsigned int m = 0;
	int i;

	for (i = first; i < nrows && m < 64; i++) {
		double x;

		if (strcmp(rows[i].device, rows[first].device) || rows[i].size != rows[first].size)
			continue;
		x = get(bs_run_find(run, &rows[i]));
		if (!isnan(x))
			v[m++] = x;
	}
	bs_stat_of(v, m, &s);
	return m ? s.med : NAN;
}

static void print_yard(FILE *f, const struct bs_run *runs, int n, const struct bs_row *rows,
		       int nrows)
{
	char a[32], b[32], c[32], sz[16];
	int i, j, k;

	fprintf(f, "\n# yardsticks in the same processes: memcpy of the bytes, write fault-in of "
		"fresh anonymous 4 KiB pages;\n# median over the backings' medians, ms; K/%s "
		"memcpy shows how much the host load differed between the boots\n",
		runs[0].kernel);
	fprintf(f, "%-8s %6s", "device", "size");
	for (k = 0; k < n; k++)
		fprintf(f, " | %-10.10s %8s %8s %6s", runs[k].kernel, "memcpy", "fault", "f/copy");
	for (k = 1; k < n; k++)
		fprintf(f, " | %8.8s/%-8.8s", runs[k].kernel, runs[0].kernel);
	fputc('\n', f);
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(rows[j].device, rows[i].device) && rows[j].size == rows[i].size)
				break;
		if (j < i)
			continue;
		fprintf(f, "%-8s %6s", rows[i].device, bs_size_str(rows[i].size, sz, sizeof(sz)));
		for (k = 0; k < n; k++) {
			double cp = yard_med(&runs[k], rows, nrows, i, bs_copy_med);
			double fl = yard_med(&runs[k], rows, nrows, i, bs_fault_med);

			fprintf(f, " | %-10s %8s %8s %6s", "", ms(cp, a, sizeof(a)),
				ms(fl, b, sizeof(b)), ratio(bs_ratio(fl, cp), c, sizeof(c)));
		}
		for (k = 1; k < n; k++)
			fprintf(f, " | %17s",
				ratio(bs_ratio(yard_med(&runs[k], rows, nrows, i, bs_copy_med),
					       yard_med(&runs[0], rows, nrows, i, bs_copy_med)),
				      a, sizeof(a)));
		fputc('\n', f);
	}
}

static void print_verify(FILE *f, const struct bs_run *runs, int n, const struct bs_row *rows,
			 int nrows)
{
	char a[32], b[32], c[32], sz[16];
	struct bs_row ib;
	int i, k;

	fprintf(f, "\n# verify throughput: rdmapin's RDMA READ + compare of a read-only MR against "
		"perftest's ib_read_bw,\n# same boot and device; MB/s (10^6 bytes/s), medians\n");
	fprintf(f, "%-8s %6s", "device", "size");
	for (k = 0; k < n; k++)
		fprintf(f, " | %-10.10s %8s %10s %5s", runs[k].kernel, "rdmapin", "ib_read_bw",
			"ratio");
	fputc('\n', f);
	for (i = 0; i < nrows; i++) {
		ib = rows[i];
		ib.type = BS_IBBW;
		fprintf(f, "%-8s %6s", rows[i].device, bs_size_str(rows[i].size, sz, sizeof(sz)));
		for (k = 0; k < n; k++) {
			const struct bs_rec *v = bs_run_find(&runs[k], &rows[i]);
			const struct bs_rec *p = bs_run_find(&runs[k], &ib);

			fprintf(f, " | %-10s %8s %10s %5s", "",
				v && v->status != BS_OK ? bs_cell_status(v) :
				mbs(bs_bw_med(v), a, sizeof(a)),
				p && p->status != BS_OK ? bs_cell_status(p) :
				mbs(bs_bw_med(p), b, sizeof(b)),
				ratio(bs_ratio(bs_bw_med(v), bs_bw_med(p)), c, sizeof(c)));
		}
		fputc('\n', f);
	}
	for (i = 0; i < nrows; i++) {
		ib = rows[i];
		ib.type = BS_IBBW;
		for (k = 0; k < n; k++) {
			const struct bs_rec *v[2] = { bs_run_find(&runs[k], &rows[i]),
						      bs_run_find(&runs[k], &ib) };
			int t;

			for (t = 0; t < 2; t++)
				if (v[t] && v[t]->status != BS_OK && v[t]->why[0])
					fprintf(f, "# %s %s %s %s: %s\n", runs[k].kernel,
						rows[i].device, t ? "ib_read_bw" : "rdmapin",
						bs_size_str(rows[i].size, sz, sizeof(sz)), v[t]->why);
		}
	}
}

int bs_print_table(FILE *f, const struct bs_run *runs, int n)
{
	struct bs_row *rows = NULL, *vrows = NULL, *irows = NULL;
	int nr, nv, ni, i, k;
	size_t j;

	if (n < 1)
		return -EINVAL;
	nr = bs_rows(runs, n, BS_REG, &rows);
	nv = bs_rows(runs, n, BS_VERIFY, &vrows);
	ni = bs_rows(runs, n, BS_IBBW, &irows);
	if (nr < 0 || nv < 0 || ni < 0) {
		free(rows);
		free(vrows);
		free(irows);
		return -ENOMEM;
	}
	for (k = 0; k < n; k++)
		for (j = 0; j < runs[k].n; j++)
			if (runs[k].recs[j].type == BS_INFO)
				fprintf(f, "# %s: %s\n", runs[k].kernel, runs[k].recs[j].why);
	if (nr) {
		print_reg(f, runs, n, rows, nr);
		print_yard(f, runs, n, rows, nr);
	}
	/* verify rows: every size that has an rdmapin or an ib_read_bw figure */
	if (nv || ni) {
		struct bs_row *all = calloc((size_t)(nv + ni) + 1, sizeof(*all));
		int na = 0, m;

		if (!all) {
			free(rows);
			free(vrows);
			free(irows);
			return -ENOMEM;
		}
		for (i = 0; i < nv; i++)
			all[na++] = vrows[i];
		for (i = 0; i < ni; i++) {
			for (m = 0; m < nv; m++)
				if (!strcmp(vrows[m].device, irows[i].device) &&
				    vrows[m].size == irows[i].size)
					break;
			if (m == nv) {
				all[na] = irows[i];
				all[na++].type = BS_VERIFY;
			}
		}
		print_verify(f, runs, n, all, na);
		free(all);
	}
	free(rows);
	free(vrows);
	free(irows);
	return 0;
}
