// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the rdmapin command line: parse options (getopt_long), run the requirement checks
 * once, walk the case table on every device (runner), emit the report, exit as kselftest
 * (0 pass, 1 fail, 4 skip; 2 for bad usage). See rdmapin(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent.h"
#include "cases.h"
#include "cli.h"
#include "devices.h"
#include "mapping.h"
#include "memlock.h"
#include "probe.h"
#include "report.h"
#include "runner.h"
#include "transport.h"

#define RP_EXIT_USAGE 2
#define RP_MAX_DEVICES 16
#define RP_MAX_PAGES 4096

static const char usage_text[] =
	"usage: rdmapin [options]            run the case matrix (KTAP on stdout)\n"
	"       rdmapin --list               list the cases\n"
	"       rdmapin --server [options]   serve remote RDMA READs for --connect\n"
	"options:\n"
	"  -l, --list             list the cases (name, access, expectation) and exit\n"
	"  -c, --case GLOB        run only cases matching GLOB (repeat or comma-separate)\n"
	"  -d, --device DEV       run on DEV only (default: every RDMA device)\n"
	"  -p, --pages N          pages per small-page backing (1..4096, default 4)\n"
	"  -f, --format FMT       ktap (default), table or json\n"
	"  -t, --timeout S        per-case timeout in seconds (default 60)\n"
	"  -s, --server           run the reader agent for remote mode\n"
	"  -C, --connect HOST     read through the agent on HOST instead of loopback\n"
	"  -P, --port PORT        agent port (default 18515)\n"
	"  -m, --max-conns N      --server: exit after N connections (default: unlimited)\n"
	"  -h, --help             this text\n"
	"exit: 0 pass, 1 fail, 4 skip, 2 bad usage\n";

struct rp_cli {
	bool list, server;
	char globs[1024];
	const char *device;
	enum em_format format;
	size_t pages;
	int timeout_s;
	const char *connect;
	uint16_t port;
	int max_conns;
};

#define usage_error(...) cli_usage_error("rdmapin", __VA_ARGS__)

static int parse_num(const char *opt, const char *s, long lo, long hi, long *out)
{
	return cli_parse_num("rdmapin", opt, s, lo, hi, out);
}

/* every comma-separated pattern must match a case: a typo is a usage error, not a no-op */
static int check_globs(const char *globs)
{
	char buf[sizeof(((struct rp_cli *)0)->globs)], *save = NULL, *g;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", globs);
	for (g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < rp_ncases && !rp_case_match(&rp_cases[i], g); i++)
			;
		if (i == rp_ncases)
			return usage_error("--case '%s' matches no case of --list", g);
	}
	return 0;
}

/* parse argv into cli; 0, 1 (--help printed), or -EINVAL (one line printed) */
static int parse(int argc, char **argv, struct rp_cli *cli)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "case", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "pages", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "server", no_argument, NULL, 's' },
		{ "connect", required_argument, NULL, 'C' },
		{ "port", required_argument, NULL, 'P' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	memset(cli, 0, sizeof(*cli));
	cli->pages = 4;
	cli->timeout_s = 60;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lc:d:p:f:t:sC:P:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			cli->list = true;
			break;
		case 'c':
			if (!*optarg)
				return usage_error("--case needs a glob");
			if (strlen(cli->globs) + strlen(optarg) + 2 > sizeof(cli->globs))
				return usage_error("too many --case globs");
			if (cli->globs[0])
				strcat(cli->globs, ",");
			strcat(cli->globs, optarg);
			break;
		case 'd':
			if (!*optarg || strlen(optarg) >= IBV_SYSFS_NAME_MAX)
				return usage_error("--device: bad device name '%s'", optarg);
			cli->device = optarg;
			break;
		case 'p':
			if (parse_num("--pages", optarg, 1, RP_MAX_PAGES, &v))
				return -EINVAL;
			cli->pages = (size_t)v;
			break;
		case 'f':
			if (em_parse_format(optarg, &cli->format))
				return usage_error("--format: '%s' is not ktap, table or json", optarg);
			break;
		case 't':
			if (parse_num("--timeout", optarg, 1, 3600, &v))
				return -EINVAL;
			cli->timeout_s = (int)v;
			break;
		case 's':
			cli->server = true;
			break;
		case 'C':
			if (!*optarg)
				return usage_error("--connect needs a host");
			cli->connect = optarg;
			break;
		case 'P':
			if (parse_num("--port", optarg, 1, 65535, &v))
				return -EINVAL;
			cli->port = (uint16_t)v;
			break;
		case 'm':
			if (parse_num("--max-conns", optarg, 0, INT_MAX, &v))
				return -EINVAL;
			cli->max_conns = (int)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (cli->server && cli->connect)
		return usage_error("--server and --connect exclude each other");
	if (cli->server && cli->list)
		return usage_error("--server and --list exclude each other");
	if (cli->globs[0] && check_globs(cli->globs))
		return -EINVAL;
	return 0;
}

static void list_cases(const char *globs)
{
	size_t i;

	for (i = 0; i < rp_ncases; i++) {
		const struct rp_case *c = &rp_cases[i];

		if (!rp_case_match(c, globs[0] ? globs : NULL))
			continue;
		printf("%-48s %-11s %-18s %s%s\n", rp_case_name(c),
		       c->access == RP_A_RO ? "read-only" : "writable", rp_expect_name(c->expect),
		       c->mark == RP_MK_SOFT_DIRTY ? "every other page made soft-dirty (mremap out "
		       "and back), then: " : c->mark == RP_MK_UFFD_WP ? "every other page uffd-wp "
		       "protected, then: " : "", rp_mutation_info(c->mutation)->desc);
	}
}

static volatile sig_atomic_t stop_serving;

static void on_signal(int sig)
{
	(void)sig;
	stop_serving = 1;
}

static int serve(const struct rp_cli *cli)
{
	struct rp_tp_opts o = {
		.device = cli->device, .port = cli->port, .timeout_ms = RP_TP_DEFAULT_TIMEOUT_MS,
		/* the largest MR any client case reads: --pages at most, or one huge page */
		.max_len = RP_MAX_PAGES * RP_BASE_PAGE > RP_HUGE_SIZE ?
			   RP_MAX_PAGES * RP_BASE_PAGE : RP_HUGE_SIZE,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	const char *step = NULL;
	int ret;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "rdmapin: serving RDMA READs on port %u%s%s\n",
		(unsigned int)(cli->port ? cli->port : RP_TP_DEFAULT_PORT), cli->device ? " of " : "",
		cli->device ? cli->device : "");
	ret = rp_tp_serve(&o, &stop_serving, cli->max_conns, &step);
	if (ret) {
		fprintf(stderr, "rdmapin: --server: %s: %s (%s)\n", step ? step : "rp_tp_serve",
			strerrorname_np(-ret) ?: "E?", strerror(-ret));
		return 1;
	}
	return 0;
}

/* Add a skip entry for a device or device kind that is not there. */
static void add_missing(struct rp_run *run, const char *name, const char *reason)
{
	struct rp_device_result *d = &run->devices[run->ndevices++];

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->status = RP_SKIP;
	snprintf(d->skip_reason, sizeof(d->skip_reason), "%s", reason);
}

/* Run the cases on one device; a run that fails before its cases is a failed device. */
static void run_device(const struct rp_config *cfg, struct rp_run *run, const char *name)
{
	struct rp_device_result *d = &run->devices[run->ndevices++];
	int ret;

	memset(d, 0, sizeof(*d));
	ret = rp_run_device(cfg, name, d);
	if (!ret)
		return;
	rp_device_result_free(d);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->status = RP_FAIL;
	snprintf(d->skip_reason, sizeof(d->skip_reason), "no case ran: rp_run_device: %s",
		 strerrorname_np(-ret) ?: "E?");
	fprintf(stderr, "rdmapin: %s: %s\n", d->name, d->skip_reason);
}

static void run_note(struct rp_run *run, const char *text)
{
	if (run->nnotes < (int)(sizeof(run->notes) / sizeof(run->notes[0])))
		snprintf(run->notes[run->nnotes++], sizeof(run->notes[0]), "%s", text);
}

int main(int argc, char **argv)
{
	static char names[RP_MAX_DEVICES][IBV_SYSFS_NAME_MAX];
	static struct rp_device_result devs[RP_MAX_DEVICES];
	struct rp_config cfg = { 0 };
	struct rp_run run = { 0 };
	unsigned long long limit = 0;
	struct utsname uts;
	struct rp_cli cli;
	char buf[256];
	int ndev, i, ret;
	size_t k;

	ret = parse(argc, argv, &cli);
	if (ret)
		return ret > 0 ? 0 : RP_EXIT_USAGE;
	if (cli.list) {
		list_cases(cli.globs);
		return 0;
	}

	/* RLIMIT_MEMLOCK: raise it, or report how low it is (siw enforces it even for root) */
	ret = rp_memlock_raise((cli.pages * RP_BASE_PAGE + RP_HUGE_SIZE) * 4, &limit);
	if (ret == -ENOMEM)
		snprintf(buf, sizeof(buf), "RLIMIT_MEMLOCK is %llu bytes and could not be raised: "
			 "registrations may fail with ENOMEM", limit);
	else if (ret)
		snprintf(buf, sizeof(buf), "RLIMIT_MEMLOCK: getrlimit: %s",
			 strerrorname_np(-ret) ?: "E?");
	if (ret)
		fprintf(stderr, "rdmapin: %s\n", buf);

	if (cli.server)
		return serve(&cli);

	uname(&uts);
	run.kernel = uts.release;
	run.pages = cli.pages;
	run.devices = devs;
	if (ret)
		run_note(&run, buf);

	cfg.case_globs = cli.globs[0] ? cli.globs : NULL;
	cfg.connect_host = cli.connect;
	cfg.port = cli.port;
	cfg.pages = cli.pages;
	cfg.timeout_s = cli.timeout_s;
	cfg.tp_timeout_ms = RP_TP_DEFAULT_TIMEOUT_MS;
	cfg.soft_dirty_ok = !rp_soft_dirty_selftest(cfg.soft_dirty_why,
						     sizeof(cfg.soft_dirty_why));
	cfg.uffd_wp_ok = !rp_uffd_wp_supported(cfg.uffd_wp_why, sizeof(cfg.uffd_wp_why));
	if (!cfg.soft_dirty_ok) {
		snprintf(buf, sizeof(buf), "soft-dirty probe n/a: %s", cfg.soft_dirty_why);
		run_note(&run, buf);
	}

	ndev = rp_list_devices(names, RP_MAX_DEVICES);
	if (ndev < 0) {
		snprintf(buf, sizeof(buf), "listing RDMA devices failed: %s",
			 strerrorname_np(-ndev) ?: "E?");
		run_note(&run, buf);
		ndev = 0;
	}
	if (cli.device) {
		for (i = 0; i < ndev && strcmp(names[i], cli.device); i++)
			;
		if (i == ndev) {
			snprintf(buf, sizeof(buf), "no RDMA device %s (found %d device(s))",
				 cli.device, ndev);
			add_missing(&run, cli.device, buf);
		} else {
			run_device(&cfg, &run, cli.device);
		}
	} else {
		/* which devices a kernel should have is the harness's business (tests/judge.py) */
		for (i = 0; i < ndev; i++)
			run_device(&cfg, &run, names[i]);
	}

	ret = rp_report(stdout, cli.format, &run);
	for (k = 0; k < run.ndevices; k++)
		rp_device_result_free(&devs[k]);
	return ret;
}
