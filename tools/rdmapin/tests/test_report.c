// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - emit a synthetic run that reaches every output path (pass, fail, skip,
 * device skip, a device that failed before its cases, every verdict, a failed dereg) in the
 * format named by argv[1]; with argv[2] "none", a run without any device. check_output.py
 * parses it (and validates JSON against Documentation/results.schema.json).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "report.h"

int main(int argc, char **argv)
{
	static struct rp_result res[10];
	struct rp_device_result devs[3];
	struct rp_run run = { .kernel = "6.1.0-test", .pages = 4 };
	enum em_format fmt = EM_KTAP;
	int i;

	if (argc > 1 && em_parse_format(argv[1], &fmt))
		return 2;
	if (argc > 2 && !strcmp(argv[2], "none")) /* no device at all: a skip */
		return rp_report(stdout, fmt, &run) == 4 ? 0 : 1;
	for (i = 0; i < 10; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].c = &rp_cases[i];
		res[i].obs.valid = 1;
		res[i].obs.pages = 4;
		res[i].obs.uffd_wp_events = -1;
		res[i].obs.data_diff = res[i].obs.baseline_diff = res[i].obs.view_diff = -1;
		res[i].obs.baseline = res[i].obs.data = RP_D_MATCH;
	}
	res[1].obs.soft_dirty = 4;
	res[2].obs.reg_errno = EFAULT;
	res[3].obs.skip = 1;
	snprintf(res[3].obs.note, sizeof(res[3].obs.note), "no huge page \"quoted\" # hash");
	res[4].obs.data = RP_D_MISMATCH;
	res[4].obs.data_diff = 12;
	res[5].obs.timed_out = 1; /* TIMEOUT */
	res[5].obs.thp_split_pmd = 99;
	res[8].obs.signal = 11; /* ERROR */
	res[6].obs.data = RP_D_MISMATCH; /* anon_populated.madv_dontneed: DIVERGED */
	res[6].obs.data_diff = 0;
	res[7].obs.reg_errno = EFAULT; /* anon_populated.writable_mr_on_ro: REFUSED, pass */
	snprintf(res[0].obs.backing_desc, sizeof(res[0].obs.backing_desc), "anon_zero: 4 x 4 KiB");
	res[9].obs.dereg_errno = EBUSY; /* ERROR: the MR could not be deregistered */
	for (i = 0; i < 10; i++)
		rp_judge(&res[i], 60);

	memset(devs, 0, sizeof(devs));
	snprintf(devs[0].name, sizeof(devs[0].name), "rxe0");
	devs[0].results = res;
	devs[0].n = 10;
	devs[0].status = RP_FAIL;
	snprintf(devs[1].name, sizeof(devs[1].name), "siw0");
	devs[1].status = RP_SKIP;
	snprintf(devs[1].skip_reason, sizeof(devs[1].skip_reason), "no RDMA device siw0");
	snprintf(devs[2].name, sizeof(devs[2].name), "fake0");
	devs[2].status = RP_FAIL;
	snprintf(devs[2].skip_reason, sizeof(devs[2].skip_reason),
		 "no case ran: rp_run_device: ENOMEM");
	run.devices = devs;
	run.ndevices = 3;
	snprintf(run.notes[0], sizeof(run.notes[0]), "a run note");
	run.nnotes = 1;
	return rp_report(stdout, fmt, &run) == 1 ? 0 : 1; /* the synthetic run failed */
}
