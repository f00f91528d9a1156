/* SPDX-License-Identifier: GPL-2.0 */
/*
 * emit.h - the one emitter of results, for rdmapin and ibv-reg-sweep (the iproute2 `rdma`
 * way: the tool makes the same calls whatever the output format, the emitter writes it).
 *
 *   em_begin(run)  em_device_begin(dev, n)  em_case(c) x n  em_device_end(...)  ...  em_end()
 *
 * Formats: KTAP version 1 (one nested subtest per device, the observations as "# case: ..."
 * diagnostics, the reason of a failure after "# " on its "not ok" line), a table for people
 * (one line per case) and JSON as Documentation/results.schema.json specifies it. JSON never
 * goes inside KTAP. Both tools' documents have the same top level, device objects and common
 * case members (errno values as numbers *and* names, "expected", the kernel log count); what
 * only one tool observes is that tool's extra members (struct em_field).
 */
#ifndef RDMAPIN_EMIT_H
#define RDMAPIN_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define EM_SCHEMA_VERSION 2

enum em_format { EM_KTAP, EM_TABLE, EM_JSON };
enum em_status { EM_PASS, EM_FAIL, EM_SKIP };

/* One tool-specific JSON member: a string or an integer. */
struct em_field {
	const char *key;
	const char *str; /* non-NULL: a string member */
	long long num;   /* else this number */
};

#define EM_STR(k, v) { .key = (k), .str = (v) }
#define EM_NUM(k, v) { .key = (k), .str = NULL, .num = (v) }

struct em_run {
	const char *tool;   /* "rdmapin", "ibv-reg-sweep" */
	const char *kernel; /* uname -r */
	const char *title;  /* the KTAP header / table title after "kernel K, " */
	const char *const *notes; /* run-wide notes (limits, probes n/a, ...) */
	size_t nnotes;
	const struct em_field *fields; /* tool-specific top-level members */
	size_t nfields;
	size_t ndevices;    /* devices that follow (KTAP plans them first) */
	const char *skip_reason; /* ndevices == 0: why nothing ran */
};

struct em_case {
	const char *name;
	enum em_status status;
	const char *verdict;  /* one upper-case word: COHERENT, STALE, REFUSED, ... */
	const char *reason;   /* why it failed or skipped, or notes of a pass; "" if none */
	const char *backing;  /* the memory the MR is registered over */
	const char *access;   /* IBV_ACCESS_* names joined by '|' ("none" for 0) */
	const char *expected; /* what the case expects of a fixed kernel */
	int reg_errno;        /* errno of the registration; 0 registered; -1 not attempted */
	int dereg_errno;      /* errno of ibv_dereg_mr; 0 fine; -1 not attempted */
	int kmsg_issues;      /* new kernel log problems during the case; -1 not watched */
	const char *diag;     /* observations for KTAP and the table, lines split by '\n' */
	const struct em_field *fields; /* tool-specific members */
	size_t nfields;
};

struct em {
	FILE *f;
	enum em_format fmt;
	const char *tool;
	size_t ndevices, device, ncases, ncase; /* planned and emitted so far */
	const char *devname;
	int totals[3];      /* by enum em_status */
	int dev_counts[3];
};

/* em_begin - start a run: the header (KTAP version, title, notes, plan; JSON's top level). */
void em_begin(struct em *e, FILE *f, enum em_format fmt, const struct em_run *run);

/* em_device_begin - a device whose ncases cases follow (0: it has none, see em_device_end). */
void em_device_begin(struct em *e, const char *device, size_t ncases);

/* em_case - one case of the current device. */
void em_case(struct em *e, const struct em_case *c);

/*
 * em_device_end - close the device. Its status: fail if failed or any case failed, else pass
 * if any case passed, else skip. reason: why it failed or has no (complete) result, or why it
 * skipped ("" or NULL: none; a device skipped without a reason says "every case skipped").
 * A device without cases counts as one failure or one skip in the totals, a device that failed
 * though none of its cases did as one failure.
 */
void em_device_end(struct em *e, bool failed, const char *reason);

/* em_end - totals; returns the kselftest exit status: 1 failed, 0 passed, 4 all skipped. */
int em_end(struct em *e);

/* em_errname - rp_errname() (errname.h), but "" for -1: the step was not attempted. */
const char *em_errname(int err);

/* em_json_str - s as a JSON string literal (quoted, escaped) on f; NULL as "". */
void em_json_str(FILE *f, const char *s);

/* em_parse_format - "ktap", "table", "json" -> *fmt; -EINVAL for anything else. */
int em_parse_format(const char *s, enum em_format *fmt);

#endif /* RDMAPIN_EMIT_H */
