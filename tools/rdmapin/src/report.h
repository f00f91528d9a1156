/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report.h - rdmapin's results through the project's one emitter (lib/emit.h): KTAP version 1
 * (default; one nested subtest per device, diagnostics "# ..." with the observed values), a
 * table for people, and JSON as Documentation/results.schema.json specifies it. This file only
 * says what rdmapin observed; how it is written is emit.c's business.
 */
#ifndef RDMAPIN_REPORT_H
#define RDMAPIN_REPORT_H

#include <stdio.h>

#include "emit.h"
#include "runner.h"

struct rp_run {
	const char *kernel;  /* uname -r */
	size_t pages;
	char notes[4][192];  /* run-wide notes (RLIMIT_MEMLOCK, soft-dirty n/a, ...) */
	int nnotes;
	struct rp_device_result *devices;
	size_t ndevices;
};

/*
 * rp_report - write run in fmt to f; returns the kselftest exit status: 1 if anything failed
 * (a device that failed before its cases counts), else 0 if anything passed, else 4.
 */
int rp_report(FILE *f, enum em_format fmt, const struct rp_run *run);

#endif /* RDMAPIN_REPORT_H */
