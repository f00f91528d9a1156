// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - --combine --json: every record of every kernel and the ratios the table shows, for
 * dashboards. Numbers that do not exist (a skipped row, a ratio without both sides) are null.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h" /* lib/: em_json_str() */
#include "runs.h"

static void num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.6g", v);
}

static void stat(FILE *f, const char *key, const struct bs_stat *s)
{
	if (!s->n)
		return;
	fprintf(f, ", \"%s\": {\"n\": %u, \"median\": ", key, s->n);
	num(f, s->med);
	fprintf(f, ", \"min\": ");
	num(f, s->min);
	fprintf(f, ", \"max\": ");
	num(f, s->max);
	fprintf(f, "}");
}

static void rec(FILE *f, const struct bs_rec *r)
{
	fprintf(f, "{\"status\": \"%s\"", bs_status_name(r->status));
	if (r->err) {
		fprintf(f, ", \"errno\": ");
		em_json_str(f, strerrorname_np(-r->err) ?: "?");
	}
	stat(f, "reg_ns", &r->reg);
	stat(f, "dereg_ns", &r->dereg);
	stat(f, "memcpy_ns", &r->copy);
	stat(f, "fault_ns", &r->fault);
	stat(f, "bytes_per_s", &r->bw);
	if (r->type == BS_REG) {
		fprintf(f, ", \"reg_per_memcpy\": ");
		num(f, bs_ratio(bs_reg_med(r), bs_copy_med(r)));
	}
	if (r->why[0]) {
		fprintf(f, ", \"why\": ");
		em_json_str(f, r->why);
	}
	fputc('}', f);
}

static void rows_json(FILE *f, const struct bs_run *runs, int n, enum bs_type type)
{
	struct bs_row *rows;
	int nr, i, k, first = 1;

	nr = bs_rows(runs, n, type, &rows);
	for (i = 0; i < nr; i++) {
		fprintf(f, "%s\n    {\"device\": ", first ? "" : ",");
		first = 0;
		em_json_str(f, rows[i].device);
		if (type == BS_REG) {
			fprintf(f, ", \"backing\": ");
			em_json_str(f, rows[i].backing);
		}
		fprintf(f, ", \"size\": %llu, \"kernels\": {", (unsigned long long)rows[i].size);
		for (k = 0; k < n; k++) {
			const struct bs_rec *r = bs_run_find(&runs[k], &rows[i]);

			fprintf(f, "%s", k ? ", " : "");
			em_json_str(f, runs[k].kernel);
			fprintf(f, ": ");
			if (r)
				rec(f, r);
			else
				fprintf(f, "null");
		}
		fprintf(f, "}");
		if (type == BS_REG && n > 1) {
			const struct bs_rec *ref = bs_run_find(&runs[0], &rows[i]);

			fprintf(f, ", \"ratios\": {");
			for (k = 1; k < n; k++) {
				const struct bs_rec *r = bs_run_find(&runs[k], &rows[i]);
				char key[2 * BS_NAME_MAX + 2];

				snprintf(key, sizeof(key), "%s/%s", runs[k].kernel, runs[0].kernel);
				fprintf(f, "%s", k > 1 ? ", " : "");
				em_json_str(f, key);
				fprintf(f, ": {\"reg\": ");
				num(f, bs_ratio(bs_reg_med(r), bs_reg_med(ref)));
				fprintf(f, ", \"reg_norm_memcpy\": ");
				num(f, bs_norm_ratio(r, ref));
				fprintf(f, ", \"dereg\": ");
				num(f, bs_ratio(bs_dereg_med(r), bs_dereg_med(ref)));
				fprintf(f, "}");
			}
			fprintf(f, "}");
		}
		if (type == BS_VERIFY) {
			struct bs_row ib = rows[i];

			ib.type = BS_IBBW;
			fprintf(f, ", \"ib_read_bw\": {");
			for (k = 0; k < n; k++) {
				const struct bs_rec *p = bs_run_find(&runs[k], &ib);

				fprintf(f, "%s", k ? ", " : "");
				em_json_str(f, runs[k].kernel);
				fprintf(f, ": ");
				if (p)
					rec(f, p);
				else
					fprintf(f, "null");
			}
			fprintf(f, "}, \"rdmapin_per_ib_read_bw\": {");
			for (k = 0; k < n; k++) {
				const struct bs_rec *p = bs_run_find(&runs[k], &ib);
				const struct bs_rec *v = bs_run_find(&runs[k], &rows[i]);

				fprintf(f, "%s", k ? ", " : "");
				em_json_str(f, runs[k].kernel);
				fprintf(f, ": ");
				num(f, bs_ratio(bs_bw_med(v), bs_bw_med(p)));
			}
			fprintf(f, "}");
		}
		fprintf(f, "}");
	}
	free(rows);
}

int bs_print_json(FILE *f, const struct bs_run *runs, int n)
{
	size_t j;
	int k;

	if (n < 1)
		return -EINVAL;
	fprintf(f, "{\n  \"reference\": ");
	em_json_str(f, runs[0].kernel);
	fprintf(f, ",\n  \"kernels\": [");
	for (k = 0; k < n; k++) {
		fprintf(f, "%s", k ? ", " : "");
		em_json_str(f, runs[k].kernel);
	}
	fprintf(f, "],\n  \"info\": {");
	for (k = 0; k < n; k++) {
		int first = 1;

		fprintf(f, "%s", k ? ", " : "");
		em_json_str(f, runs[k].kernel);
		fprintf(f, ": [");
		for (j = 0; j < runs[k].n; j++)
			if (runs[k].recs[j].type == BS_INFO) {
				fprintf(f, "%s", first ? "" : ", ");
				first = 0;
				em_json_str(f, runs[k].recs[j].why);
			}
		fprintf(f, "]");
	}
	fprintf(f, "},\n  \"registration\": [");
	rows_json(f, runs, n, BS_REG);
	fprintf(f, "\n  ],\n  \"verify\": [");
	rows_json(f, runs, n, BS_VERIFY);
	fprintf(f, "\n  ]\n}\n");
	return ferror(f) ? -EIO : 0;
}
