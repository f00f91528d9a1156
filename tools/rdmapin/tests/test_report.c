// SPDX-License-Identifier: GPL-2.0
/*
 * test_report.c - emit a synthetic run that reaches every output path (pass, fail, skip,
 * device skip, every verdict) in the format named by argv[1]; check_output.py parses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "report.h"

int main(int argc, char **argv)
{
	static struct rp_result res[9];
	struct rp_device_result devs[2];
	struct rp_run run = { .kernel = "6.1.0-test", .pages = 4 };
	enum rp_format fmt = RP_FMT_KTAP;
	int i;

	if (argc > 1 && !strcmp(argv[1], "json"))
		fmt = RP_FMT_JSON;
	else if (argc > 1 && !strcmp(argv[1], "table"))
		fmt = RP_FMT_TABLE;
	for (i = 0; i < 9; i++) {
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
	for (i = 0; i < 9; i++)
		rp_judge(&res[i], 60);

	memset(devs, 0, sizeof(devs));
	snprintf(devs[0].name, sizeof(devs[0].name), "rxe0");
	devs[0].results = res;
	devs[0].n = 9;
	devs[0].status = RP_FAIL;
	snprintf(devs[1].name, sizeof(devs[1].name), "siw");
	devs[1].status = RP_SKIP;
	snprintf(devs[1].skip_reason, sizeof(devs[1].skip_reason), "no siw device found");
	run.devices = devs;
	run.ndevices = 2;
	snprintf(run.notes[0], sizeof(run.notes[0]), "a run note");
	run.nnotes = 1;
	rp_report(stdout, fmt, &run);
	return rp_exit_code(&run) == 1 ? 0 : 1; /* the synthetic run must count as failed */
}
