// SPDX-License-Identifier: GPL-2.0
/*
 * plot.c - --combine --plot DIR: DIR/bench.dat (one gnuplot data block per device, kernel and
 * backing: size in bytes, median ibv_reg_mr in ms; and one per device and kernel for memcpy) and
 * DIR/bench.gp, which draws DIR/bench.svg: one log-log panel per device, a colour per backing,
 * a dash pattern per kernel, memcpy in black. Linear growth is a line of slope 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runs.h"

/* distinct colours for up to 12 backings (gnuplot's default cycle has 8, and black is memcpy) */
static const char *const colours[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000080", "#808000",
};

static int index_of(const char **names, int *n, const char *s)
{
	int i;

	for (i = 0; i < *n; i++)
		if (!strcmp(names[i], s))
			return i;
	names[(*n)++] = s;
	return i;
}

int bs_write_plot(const char *dir, const struct bs_run *runs, int n)
{
	const char **devs = NULL, **backs = NULL;
	struct bs_row *rows = NULL;
	char path[4096];
	FILE *dat = NULL, *gp = NULL;
	int nr, nd = 0, nb = 0, i, k, d, b, block = 0, ret = -ENOMEM;

	nr = bs_rows(runs, n, BS_REG, &rows);
	if (nr < 0)
		return nr;
	devs = calloc((size_t)nr + 1, sizeof(*devs));
	backs = calloc((size_t)nr + 1, sizeof(*backs));
	if (!devs || !backs)
		goto out;
	for (i = 0; i < nr; i++) {
		index_of(devs, &nd, rows[i].device);
		index_of(backs, &nb, rows[i].backing);
	}
	snprintf(path, sizeof(path), "%s/bench.dat", dir);
	dat = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/bench.gp", dir);
	gp = fopen(path, "w");
	if (!dat || !gp) {
		ret = -errno;
		goto out;
	}
	fprintf(gp, "# gnuplot %s/bench.gp: writes %s/bench.svg (made by rdmapin-bench --plot)\n",
		dir, dir);
	fprintf(gp, "set terminal svg size 1100,%d dynamic noenhanced font 'sans,11'\n",
		80 + 520 * (nd ? nd : 1));
	fprintf(gp, "set output '%s/bench.svg'\n", dir);
	fprintf(gp, "set logscale xy\nset grid\nset key outside right top spacing 0.9\n");
	fprintf(gp, "set xlabel 'MR size (bytes)'\nset ylabel 'median time (ms)'\n");
	fprintf(gp, "set xtics (");
	for (i = 0; i < nr; i++) {
		char sz[16];
		int j;

		for (j = 0; j < i && rows[j].size != rows[i].size; j++)
			;
		if (j == i)
			fprintf(gp, "%s'%s' %llu", i ? ", " : "", bs_size_str(rows[i].size, sz,
									   sizeof(sz)),
				(unsigned long long)rows[i].size);
	}
	fprintf(gp, ")\n");
	fprintf(gp, "set multiplot layout %d,1 title 'read-only ibv_reg_mr cost vs. size "
		"(memcpy of the same bytes in black)'\n", nd ? nd : 1);
	for (d = 0; d < nd; d++) {
		int first = 1;

		fprintf(gp, "set title '%s'\nplot \\\n", devs[d]);
		for (k = 0; k < n; k++) {
			/* memcpy of this device and kernel: the median over backings per size */
			fprintf(dat, "# %s %s memcpy\n", devs[d], runs[k].kernel);
			for (i = 0; i < nr; i++) {
				double v[64];
				struct bs_stat s;
				unsigned int m = 0;
				int j;

				for (j = 0; j < i; j++)
					if (!strcmp(rows[j].device, rows[i].device) &&
					    rows[j].size == rows[i].size)
						break;
				if (strcmp(rows[i].device, devs[d]) || j < i)
					continue; /* each size of the device once */
				for (j = 0; j < nr && m < 64; j++) {
					const struct bs_rec *r;

					if (strcmp(rows[j].device, devs[d]) || rows[j].size != rows[i].size)
						continue;
					r = bs_run_find(&runs[k], &rows[j]);
					if (r && r->copy.n)
						v[m++] = r->copy.med;
				}
				bs_stat_of(v, m, &s);
				if (m)
					fprintf(dat, "%llu %.6g\n", (unsigned long long)rows[i].size,
						s.med / 1e6);
			}
			fprintf(dat, "\n\n");
			fprintf(gp, "%s  '%s/bench.dat' index %d using 1:2 with lines lc rgb 'black' "
				"dt %d lw 2 title '%s memcpy'", first ? "" : ", \\\n", dir, block++,
				k + 1, runs[k].kernel);
			first = 0;
			for (b = 0; b < nb; b++) {
				int points = 0;

				fprintf(dat, "# %s %s %s reg\n", devs[d], runs[k].kernel, backs[b]);
				for (i = 0; i < nr; i++) {
					const struct bs_rec *r;

					if (strcmp(rows[i].device, devs[d]) ||
					    strcmp(rows[i].backing, backs[b]))
						continue;
					r = bs_run_find(&runs[k], &rows[i]);
					if (!isnan(bs_reg_med(r))) {
						fprintf(dat, "%llu %.6g\n",
							(unsigned long long)rows[i].size,
							r->reg.med / 1e6);
						points++;
					}
				}
				if (!points)
					fprintf(dat, "nan nan\n"); /* keep the block numbering */
				fprintf(dat, "\n\n");
				fprintf(gp, ", \\\n  '%s/bench.dat' index %d using 1:2 with linespoints "
					"lc rgb '%s' dt %d pt %d title '%s %s'", dir, block++,
					colours[b % 12], k + 1, b % 12 + 1, runs[k].kernel, backs[b]);
			}
		}
		fprintf(gp, "\n");
	}
	fprintf(gp, "unset multiplot\n");
	ret = ferror(dat) || ferror(gp) ? -EIO : 0;
out:
	if (dat && fclose(dat) && !ret)
		ret = -EIO;
	if (gp && fclose(gp) && !ret)
		ret = -EIO;
	free(devs);
	free(backs);
	free(rows);
	return ret;
}
