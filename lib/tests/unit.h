/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit.h - a minimal KTAP emitter for rdmapin's host unit tests: CHECK() records one result
 * line per assertion, SKIP_ALL() ends the program with kselftest's skip code, unit_done()
 * prints the plan (at the end: "1..N" trailing is allowed by KTAP) and returns the exit code.
 */
#ifndef RDMAPIN_UNIT_H
#define RDMAPIN_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_n, unit_failed, unit_skipped;

static inline void unit_begin(void)
{
	printf("KTAP version 1\n");
	fflush(stdout);
}

static inline void unit_result(int ok, const char *fmt, ...)
{
	char text[512], *detail;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* "name # detail": the detail explains a failure; on a pass it would read as a directive */
	detail = strstr(text, " #");
	if (ok && detail)
		*detail = 0;
	printf("%s %d %s\n", ok ? "ok" : "not ok", ++unit_n, text);
	fflush(stdout);
	unit_failed += !ok;
}

static inline void unit_skip(const char *name, const char *why)
{
	printf("ok %d %s # SKIP %s\n", ++unit_n, name, why);
	unit_skipped++;
}

#define CHECK(cond, ...) unit_result(!!(cond), __VA_ARGS__)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	printf("# %d passed, %d failed, %d skipped\n", unit_n - unit_failed - unit_skipped,
	       unit_failed, unit_skipped);
	if (unit_failed)
		return 1;
	return unit_skipped == unit_n ? 4 : 0;
}

#endif /* RDMAPIN_UNIT_H */
