/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - the one emitter of results: KTAP version 1 (default; one nested subtest per
 * device, diagnostics "# ..." with the observed values), a table for people, and JSON as
 * specified in Documentation/architecture.md. JSON never goes inside KTAP.
 */
#ifndef RDMAPIN_REPORT_H
#define RDMAPIN_REPORT_H

#include <stdio.h>

#include "runner.h"

enum rp_format { RP_FMT_KTAP, RP_FMT_TABLE, RP_FMT_JSON };

struct rp_run {
	const char *kernel;  /* uname -r */
	size_t pages;
	char notes[4][192];  /* run-wide notes (RLIMIT_MEMLOCK, soft-dirty n/a, ...) */
	int nnotes;
	struct rp_device_result *devices;
	size_t ndevices;
};

/* rp_run_totals - count case results (device-level skips count as one skip). */
void rp_run_totals(const struct rp_run *run, int *pass, int *fail, int *skip);

/* rp_report - write run in fmt to f. */
void rp_report(FILE *f, enum rp_format fmt, const struct rp_run *run);

/* rp_exit_code - kselftest: 1 if anything failed, else 0 if anything passed, else 4. */
int rp_exit_code(const struct rp_run *run);

/* rp_json_str - write s as a JSON string literal (quoted and escaped) to f. */
void rp_json_str(FILE *f, const char *s);

#endif /* RDMAPIN_REPORT_H */
