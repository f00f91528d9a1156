/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runs.h - the records of several kernels (one run = one guest boot), loaded from record files,
 * and what the emitters need to put them side by side: the rows (every distinct device,
 * backing, size in the order first seen, sizes ascending), a lookup per kernel and the ratios.
 */
#ifndef BENCH_RUNS_H
#define BENCH_RUNS_H

#include <stdio.h>

#include "record.h"

struct bs_run {
	char kernel[BS_NAME_MAX];
	struct bs_rec *recs;
	size_t n;
};

/* a row of a table: the record key; its values come from each run by bs_run_find() */
struct bs_row {
	enum bs_type type;
	const char *device, *backing;
	uint64_t size;
};

/*
 * bs_run_load - read every record of f into run (named kernel). 0, or -EINVAL/-ENOMEM with why
 * ("line N: ..."); a file with no measurement record at all is -ENODATA.
 */
int bs_run_load(struct bs_run *run, const char *kernel, FILE *f, char *why, size_t whylen);
void bs_run_free(struct bs_run *run);

/* bs_run_find - the record of run for row (type, device, backing for BS_REG, size), or NULL. */
const struct bs_rec *bs_run_find(const struct bs_run *run, const struct bs_row *row);

/*
 * bs_rows - the rows of type over runs[0..n): distinct keys, grouped by device then backing in
 * the order first seen, sizes ascending. *out is malloc'd (free it); returns the count or
 * -ENOMEM.
 */
int bs_rows(const struct bs_run *runs, int n, enum bs_type type, struct bs_row **out);

/* bs_ratio - a / b, or NAN unless both are > 0 */
double bs_ratio(double a, double b);

/* medians that exist only where the record is ok (else NAN) */
double bs_reg_med(const struct bs_rec *r);   /* ibv_reg_mr, ns */
double bs_dereg_med(const struct bs_rec *r); /* ibv_dereg_mr, ns */
double bs_copy_med(const struct bs_rec *r);  /* memcpy, ns (also on regfail rows) */
double bs_fault_med(const struct bs_rec *r); /* fault-in, ns (also on regfail rows) */
double bs_bw_med(const struct bs_rec *r);    /* bytes/s */

/*
 * bs_norm_ratio - (reg_a / memcpy_a) / (reg_b / memcpy_b): the cross-boot ratio of two kernels
 * with each boot's own memcpy as the unit, which cancels a different host load per boot.
 */
double bs_norm_ratio(const struct bs_rec *a, const struct bs_rec *b);

/* bs_cell_status - the text of a cell that holds no number: "skip", "EFAULT", "error", "-" */
const char *bs_cell_status(const struct bs_rec *r);

/* the emitters; each returns 0 or a negative errno */
int bs_print_table(FILE *f, const struct bs_run *runs, int n);
int bs_print_json(FILE *f, const struct bs_run *runs, int n);
int bs_write_plot(const char *dir, const struct bs_run *runs, int n);

#endif /* BENCH_RUNS_H */
