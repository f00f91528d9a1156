// SPDX-License-Identifier: GPL-2.0
/*
 * test_opts.c - rdmapin-bench's command line (no RDMA): defaults, every option, each refusal
 * with its one-line reason, the automatic largest size, and the forked, time-bounded child that
 * runs each measurement (result, timeout, crash).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "child.h"
#include "opts.h"
#include "unit.h"

#define MAXARGS 32

/* parse a space-separated command line (argv[0] added) */
static int parse(const char *line, struct bs_opts *o, char *err, size_t len)
{
	static char buf[512];
	char *argv[MAXARGS + 1];
	int argc = 0;
	char *tok, *save;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "rdmapin-bench";
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAXARGS;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	err[0] = 0;
	return bs_opts_parse(argc, argv, o, err, len);
}

static void check_parse(void)
{
	struct bs_opts o;
	char err[256];
	int ret;

	ret = parse("", &o, err, sizeof(err));
	CHECK(!ret && o.mode == BS_MODE_MEASURE && o.reps == 5 && o.verify_reps == 7 &&
	      o.large_reps == 3 && bs_reps_for(&o, 16 << 20) == 5 && bs_reps_for(&o, 64 << 20) == 3 &&
	      o.size_min == 4096 && o.size_max == 0 && o.verify_min == 64 << 10 &&
	      o.verify_max == 16 << 20 && o.n_backings == 10 && o.n_devices == 0 &&
	      o.timeout_s == 300 && !o.no_reg, "opts.defaults # %s", err);
	ret = parse("--device rxe0,siw0 -d foo --reps 7 --sizes 16K:64M --verify 1M:4M -r 3 "
		    "--backing thp_zero,anon_zero,thp_zero -t 60", &o, err, sizeof(err));
	CHECK(!ret && o.n_devices == 3 && !strcmp(o.devices[1], "siw0") && o.reps == 7 &&
	      o.verify_reps == 3 && o.size_min == 16 << 10 && o.size_max == 64 << 20 &&
	      o.verify_min == 1 << 20 && o.verify_max == 4 << 20 && o.n_backings == 2 &&
	      o.backings[0] == RP_B_THP_ZERO && o.timeout_s == 60, "opts.every_measure_option # %s",
	      err);
	ret = parse("--sizes none --verify none", &o, err, sizeof(err));
	CHECK(!ret && o.no_reg && !o.verify_min && !o.verify_max, "opts.none # %s", err);
	ret = parse("--reps 2 -L 9", &o, err, sizeof(err));
	CHECK(!ret && bs_reps_for(&o, 256 << 20) == 2 && bs_reps_for(&o, 4096) == 2,
	      "opts.large_reps_never_more_than_reps");
	ret = parse("--combine base=a.rec -c patched=b.rec --json x.json --plot d", &o, err,
		    sizeof(err));
	CHECK(!ret && o.mode == BS_MODE_COMBINE && o.n_kernels == 2 &&
	      !strcmp(o.kernel[1], "patched") && !strcmp(o.file[1], "b.rec") &&
	      !strcmp(o.json, "x.json") && !strcmp(o.plot_dir, "d"), "opts.combine # %s", err);
	CHECK(parse("--help", &o, err, sizeof(err)) == 1, "opts.help");

	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "--reps 0", "--reps: '0' is not a number in 1..1000" },
		{ "--reps x", "is not a number" },
		{ "--sizes 4K", "is not MIN:MAX" },
		{ "--sizes 5000:1M", "not a size in 4 KiB multiples" },
		{ "--sizes 1M:4K", "is not a size >= MIN" },
		{ "--verify 64K:auto", "is not a size >= MIN" },
		{ "--backing anon_zero,nosuch", "unknown backing 'nosuch'" },
		{ "--combine base", "is not NAME=FILE" },
		{ "--combine =x", "is not NAME=FILE" },
		{ "--combine a=x --combine a=y", "kernel 'a' given twice" },
		{ "--combine a=x --reps 3", "takes no measure options" },
		{ "--json x", "need --combine" },
		{ "--frob", "unknown option --frob" },
		{ "-Z", "unknown option -Z" },
		{ "--reps", "needs an argument" },
		{ "stray", "unexpected argument 'stray'" },
		{ "-d a,b,c,d,e,f,g,h,i", "more than 8 devices" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ret = parse(bad[i].line, &o, err, sizeof(err));
		CHECK(ret == -EINVAL && strstr(err, bad[i].why) && !strchr(err, '\n'),
		      "opts.refuses '%s' # %d '%s'", bad[i].line, ret, err);
	}
}

static void check_auto(void)
{
	CHECK(bs_auto_max(0) == 4096, "auto.floor");
	/* 3G guest after 256 MiB of huge pages: ~2.6 GiB available -> 256 MiB (6x = 1.5 GiB) */
	CHECK(bs_auto_max(2600ULL << 20) == 256 << 20, "auto.guest_3g");
	CHECK(bs_auto_max(6ULL << 30) == 1 << 30, "auto.exact");
	CHECK(bs_auto_max((6ULL << 30) - 1) == 256 << 20, "auto.just_below");
}

static int child_value(void *arg, void *out)
{
	memcpy(out, "result", 7);
	return *(int *)arg;
}

static int child_sleep(void *arg, void *out)
{
	(void)arg;
	(void)out;
	sleep(30);
	return 0;
}

static int child_crash(void *arg, void *out)
{
	struct rlimit no_core = { 0, 0 };

	(void)arg;
	(void)out;
	setrlimit(RLIMIT_CORE, &no_core); /* no core file where ulimit -c allows one */
	raise(SIGSEGV);
	return 0;
}

static void check_child(void)
{
	char out[8] = "", why[160] = "";
	int v = -42, ret;

	ret = bs_child_run(child_value, &v, out, sizeof(out), 10000, why, sizeof(why));
	CHECK(ret == -42 && !strcmp(out, "result"), "child.result_and_return_value # %d", ret);
	ret = bs_child_run(child_sleep, NULL, out, sizeof(out), 300, why, sizeof(why));
	CHECK(ret == -ETIMEDOUT && strstr(why, "300 ms"), "child.timeout # %d %s", ret, why);
	ret = bs_child_run(child_crash, NULL, out, sizeof(out), 10000, why, sizeof(why));
	CHECK(ret == -ECHILD && strstr(why, "signal 11"), "child.crash # %d %s", ret, why);
}

int main(void)
{
	unit_begin();
	check_parse();
	check_auto();
	check_child();
	return unit_done();
}
