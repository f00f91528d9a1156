// SPDX-License-Identifier: GPL-2.0
/* opts.c - rdmapin-bench's command line; see opts.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "opts.h"
#include "record.h"

const char bs_usage[] =
	"usage: rdmapin-bench [options]               measure here (records on stdout)\n"
	"       rdmapin-bench --combine NAME=FILE...  one table with ratios from records\n"
	"measure options:\n"
	"  -d, --device DEV        measure on DEV (repeat or comma-separate; default: all)\n"
	"  -b, --backing LIST      comma-separated backings (default: anon_zero,\n"
	"                          anon_populated,anon_forked,thp_zero,thp_populated,\n"
	"                          hugetlb_private,tmpfs_private,memfd_private,\n"
	"                          file_shared_ro,file_shared_rw)\n"
	"  -s, --sizes MIN:MAX     MR sizes MIN, 4*MIN, ... <= MAX (default 4K:auto; auto:\n"
	"                          the largest with 6x the size in MemAvailable; none:\n"
	"                          no registration cost, only --verify)\n"
	"  -n, --reps N            repetitions per measurement (1..1000, default 5)\n"
	"  -L, --large-reps N      at most N repetitions for sizes >= 64 MiB, which take\n"
	"                          most of the time (default 3)\n"
	"  -V, --verify MIN:MAX    RDMA READ + compare sizes (default 64K:16M; none: skip)\n"
	"  -r, --verify-reps N     reads per verify size (default 7)\n"
	"  -t, --timeout S         bound of one measurement in seconds (default 300)\n"
	"combine options:\n"
	"  -c, --combine NAME=FILE the records of kernel NAME (repeat; the first is the\n"
	"                          reference of the ratios)\n"
	"  -j, --json FILE         also write everything as JSON\n"
	"  -p, --plot DIR          also write DIR/bench.dat and DIR/bench.gp (gnuplot: SVG)\n"
	"  -h, --help              this text\n"
	"exit: 0 done, 1 a measurement or a file failed, 4 no RDMA device, 2 bad usage\n";

const enum rp_backing bs_default_backings[] = {
	RP_B_ANON_ZERO, RP_B_ANON_POPULATED, RP_B_ANON_FORKED, RP_B_THP_ZERO, RP_B_THP_POPULATED,
	RP_B_HUGETLB_PRIVATE, RP_B_TMPFS_PRIVATE, RP_B_MEMFD_PRIVATE, RP_B_FILE_SHARED_RO,
	RP_B_FILE_SHARED_RW,
};
const int bs_n_default_backings = sizeof(bs_default_backings) / sizeof(bs_default_backings[0]);

uint64_t bs_auto_max(uint64_t avail)
{
	uint64_t s = 4096;

	while (bs_next_size(s) * 6 <= avail)
		s = bs_next_size(s);
	return s;
}

static int bad(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

/* "MIN:MAX" (MAX may be auto when auto_ok); 0 or -EINVAL */
static int parse_range(const char *opt, const char *s, bool auto_ok, uint64_t *lo, uint64_t *hi,
		       char *err, size_t errlen)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		return bad(err, errlen, "%s: '%s' is not MIN:MAX", opt, s);
	*colon = 0;
	if (bs_size_parse(buf, lo) || *lo % 4096)
		return bad(err, errlen, "%s: '%s' is not a size in 4 KiB multiples (4K, 64K, 1M)",
			   opt, buf);
	if (auto_ok && !strcmp(colon + 1, "auto")) {
		*hi = 0;
		return 0;
	}
	if (bs_size_parse(colon + 1, hi) || *hi < *lo)
		return bad(err, errlen, "%s: '%s' is not a size >= MIN", opt, colon + 1);
	return 0;
}

static int parse_uint(const char *opt, const char *s, long lo, long hi, long *out, char *err,
		      size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		snprintf(err, errlen, "%s: '%s' is not a number in %ld..%ld", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int add_devices(struct bs_opts *o, char *list, char *err, size_t errlen)
{
	char *save, *tok;

	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_devices == BS_MAX_DEVICES)
			return bad(err, errlen, "--device: more than %s devices%s", "8", "");
		o->devices[o->n_devices++] = tok;
	}
	return 0;
}

static int set_backings(struct bs_opts *o, char *list, char *err, size_t errlen)
{
	char *save, *tok;
	int k, i;

	o->n_backings = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		k = bs_backing_by_name(tok);
		if (k < 0)
			return bad(err, errlen, "--backing: unknown backing '%s'%s", tok, "");
		for (i = 0; i < o->n_backings; i++)
			if (o->backings[i] == k)
				break;
		if (i == o->n_backings)
			o->backings[o->n_backings++] = k;
	}
	if (!o->n_backings)
		return bad(err, errlen, "--backing: empty list%s%s", "", "");
	return 0;
}

int bs_opts_parse(int argc, char **argv, struct bs_opts *o, char *err, size_t errlen)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "backing", required_argument, NULL, 'b' },
		{ "sizes", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'n' },
		{ "verify", required_argument, NULL, 'V' },
		{ "verify-reps", required_argument, NULL, 'r' },
		{ "large-reps", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "combine", required_argument, NULL, 'c' },
		{ "json", required_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool measure_opt = false;
	char *eq;
	long v;
	int c, i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < bs_n_default_backings; i++)
		o->backings[i] = bs_default_backings[i];
	o->n_backings = bs_n_default_backings;
	o->size_min = 4096;
	o->verify_min = 64 << 10;
	o->verify_max = 16 << 20;
	o->reps = 5;
	o->large_reps = 3;
	o->verify_reps = 7;
	o->timeout_s = 300;
	optind = 0; /* 0: glibc re-initialises getopt fully (the tests parse many times) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:b:s:n:L:V:r:t:c:j:p:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			measure_opt = true;
			if (add_devices(o, optarg, err, errlen))
				return -EINVAL;
			break;
		case 'b':
			measure_opt = true;
			if (set_backings(o, optarg, err, errlen))
				return -EINVAL;
			break;
		case 's':
			measure_opt = true;
			o->no_reg = !strcmp(optarg, "none");
			if (!o->no_reg && parse_range("--sizes", optarg, true, &o->size_min,
						      &o->size_max, err, errlen))
				return -EINVAL;
			break;
		case 'n':
			measure_opt = true;
			if (parse_uint("--reps", optarg, 1, 1000, &v, err, errlen))
				return -EINVAL;
			o->reps = (unsigned int)v;
			break;
		case 'L':
			measure_opt = true;
			if (parse_uint("--large-reps", optarg, 1, 1000, &v, err, errlen))
				return -EINVAL;
			o->large_reps = (unsigned int)v;
			break;
		case 'V':
			measure_opt = true;
			if (!strcmp(optarg, "none"))
				o->verify_min = o->verify_max = 0;
			else if (parse_range("--verify", optarg, false, &o->verify_min,
					     &o->verify_max, err, errlen))
				return -EINVAL;
			break;
		case 'r':
			measure_opt = true;
			if (parse_uint("--verify-reps", optarg, 1, 1000, &v, err, errlen))
				return -EINVAL;
			o->verify_reps = (unsigned int)v;
			break;
		case 't':
			measure_opt = true;
			if (parse_uint("--timeout", optarg, 1, 86400, &v, err, errlen))
				return -EINVAL;
			o->timeout_s = (int)v;
			break;
		case 'c':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1] || eq - optarg >= 32)
				return bad(err, errlen, "--combine: '%s' is not NAME=FILE%s", optarg,
					   "");
			if (o->n_kernels == BS_MAX_KERNELS)
				return bad(err, errlen, "--combine: more than %s kernels%s", "8", "");
			*eq = 0;
			o->kernel[o->n_kernels] = optarg;
			o->file[o->n_kernels++] = eq + 1;
			o->mode = BS_MODE_COMBINE;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'p':
			o->plot_dir = optarg;
			break;
		case 'h':
			o->mode = BS_MODE_HELP;
			return 1;
		case ':':
			snprintf(err, errlen, "%s needs an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument '%s'%s", argv[optind], "");
	if (o->mode == BS_MODE_COMBINE && measure_opt)
		return bad(err, errlen, "--combine takes no measure options (--device, --sizes, ...)%s%s",
			   "", "");
	if (o->mode != BS_MODE_COMBINE && (o->json || o->plot_dir))
		return bad(err, errlen, "--json and --plot need --combine%s%s", "", "");
	if (o->mode == BS_MODE_COMBINE)
		for (i = 1; i < o->n_kernels; i++)
			for (c = 0; c < i; c++)
				if (!strcmp(o->kernel[i], o->kernel[c]))
					return bad(err, errlen, "--combine: kernel '%s' given twice%s",
						   o->kernel[i], "");
	return 0;
}
