// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - rdmapin-bench: measure read-only registration cost and verify throughput on every
 * RDMA device here (records on stdout, one per measurement, each made in a forked child with a
 * time bound), or --combine the records of several kernels into one table with ratios, JSON and
 * plot data. Exit as kselftest: 0 done, 1 a measurement or a file failed, 4 no RDMA device;
 * 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "child.h"
#include "devices.h"
#include "measure.h"
#include "memlock.h"
#include "opts.h"
#include "record.h"
#include "runs.h"
#include "transport.h"
#include "verify.h"

#define BS_EXIT_FAIL 1
#define BS_EXIT_SKIP 4

/* a /proc/meminfo field in bytes, 0 if absent */
static uint64_t meminfo(const char *key)
{
	unsigned long long v = 0;
	char line[256];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			sscanf(line + kl + 1, "%llu", &v);
			if (strstr(line, "kB"))
				v *= 1024;
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static void info(const char *fmt, const char *a, unsigned long long b, unsigned long long c)
{
	struct bs_rec r = { .type = BS_INFO };

	snprintf(r.why, sizeof(r.why), fmt, a, b, c);
	bs_rec_print(stdout, &r);
	fflush(stdout);
}

static int reg_child(void *arg, void *out)
{
	return bs_measure_reg(arg, out);
}

static int verify_child(void *arg, void *out)
{
	return bs_measure_verify(arg, out);
}

/* print r, and an error once on stderr with context; true if it is an error */
static bool emit(const struct bs_rec *r)
{
	char sz[16];

	bs_rec_print(stdout, r);
	fflush(stdout);
	bs_size_str(r->size, sz, sizeof(sz));
	if (r->status == BS_ERROR) {
		fprintf(stderr, "rdmapin-bench: %s %s%s%s: %s (%s)\n", r->device, r->backing,
			r->type == BS_REG ? " " : "verify ", sz, r->why,
			strerrorname_np(-r->err) ?: "?");
		return true;
	}
	if (r->status == BS_OK && r->type == BS_REG)
		fprintf(stderr, "[bench] %s %s %s: reg %.3f ms, memcpy %.3f ms\n", r->device,
			r->backing, sz, r->reg.med / 1e6, r->copy.med / 1e6);
	else if (r->status == BS_OK)
		fprintf(stderr, "[bench] %s verify %s: %.1f MB/s\n", r->device, sz, r->bw.med / 1e6);
	else
		fprintf(stderr, "[bench] %s %s %s: %s: %s\n", r->device, r->backing, sz,
			bs_status_name(r->status), r->why);
	return false;
}

/* run fn in a child; a timeout or crash becomes an error record */
static bool run_one(int (*fn)(void *, void *), void *job, struct bs_rec *r, int timeout_s)
{
	char why[160];
	int ret;

	ret = bs_child_run(fn, job, r, sizeof(*r), timeout_s * 1000, why, sizeof(why));
	if (ret == -ETIMEDOUT || ret == -ECHILD || (ret && r->status != BS_ERROR)) {
		r->status = BS_ERROR;
		r->err = ret;
		snprintf(r->why, sizeof(r->why), "%s", why);
	}
	return emit(r);
}

static int measure(const struct bs_opts *o)
{
	char names[BS_MAX_DEVICES * 2][IBV_SYSFS_NAME_MAX];
	const char *devs[BS_MAX_DEVICES * 2];
	uint64_t avail = meminfo("MemAvailable"), max, s;
	struct utsname u;
	bool failed = false;
	int nn, nd = 0, i, j, b;

	nn = rp_list_devices(names, BS_MAX_DEVICES * 2);
	if (nn < 0) {
		fprintf(stderr, "rdmapin-bench: ibv_get_device_list: %s\n",
			strerrorname_np(-nn) ?: "?");
		return BS_EXIT_FAIL;
	}
	for (i = 0; i < nn; i++) {
		for (j = 0; j < o->n_devices && strcmp(o->devices[j], names[i]); j++)
			;
		if (!o->n_devices || j < o->n_devices)
			devs[nd++] = names[i];
	}
	if (!nd) {
		printf("# SKIP %s\n", o->n_devices ? "none of the --device devices is here" :
		       "no RDMA device (run it in a guest: ci/bench)");
		return BS_EXIT_SKIP;
	}
	rp_memlock_raise(0, NULL);
	max = o->size_max ? o->size_max : bs_auto_max(avail);
	uname(&u);
	if (!o->no_reg)
		info("uname=%s memavail_mib=%llu hugepages_free=%llu", u.release, avail >> 20,
		     meminfo("HugePages_Free"));
	if (!o->no_reg)
		info("reps=%s%llu large_reps=%llu", "", o->reps, o->large_reps);
	if (!o->no_reg)
		info("max_size_kib=%s%llu verify_reps=%llu", "", max >> 10, o->verify_reps);

	for (i = 0; i < nd; i++) {
		for (b = 0; !o->no_reg && b < o->n_backings; b++) {
			for (s = o->size_min; s <= max; s = bs_next_size(s)) {
				struct bs_reg_job job = {
					.device = devs[i], .kind = o->backings[b], .size = s,
					.reps = bs_reps_for(o, s), .timeout_ms = o->timeout_s * 1000,
				};
				struct bs_rec r;

				if (!bs_backing_fits(job.kind, s))
					continue; /* huge kinds: 2 MiB multiples only */
				failed |= run_one(reg_child, &job, &r, o->timeout_s);
			}
		}
		for (s = o->verify_min; s && s <= o->verify_max; s = bs_next_size(s)) {
			struct bs_verify_job job = {
				.device = devs[i], .size = s, .reps = o->verify_reps,
				.timeout_ms = o->timeout_s * 1000 / 2,
			};
			struct bs_rec r;

			failed |= run_one(verify_child, &job, &r, o->timeout_s);
		}
	}
	return failed ? BS_EXIT_FAIL : 0;
}

static int combine(const struct bs_opts *o)
{
	struct bs_run runs[BS_MAX_KERNELS];
	char why[256];
	int k, ret = 0, loaded = 0;

	for (k = 0; k < o->n_kernels; k++) {
		FILE *f = fopen(o->file[k], "re");

		if (!f) {
			fprintf(stderr, "rdmapin-bench: %s: %s: %s\n", o->kernel[k], o->file[k],
				strerrorname_np(errno) ?: "?");
			ret = -errno;
			break;
		}
		ret = bs_run_load(&runs[k], o->kernel[k], f, why, sizeof(why));
		fclose(f);
		loaded++;
		if (ret) {
			fprintf(stderr, "rdmapin-bench: %s: %s: %s\n", o->kernel[k], o->file[k], why);
			break;
		}
	}
	if (!ret)
		ret = bs_print_table(stdout, runs, o->n_kernels);
	if (!ret && o->json) {
		FILE *f = fopen(o->json, "we");

		ret = f ? bs_print_json(f, runs, o->n_kernels) : -errno;
		if (f && fclose(f) && !ret)
			ret = -EIO;
		if (ret)
			fprintf(stderr, "rdmapin-bench: --json %s: %s\n", o->json,
				strerrorname_np(-ret) ?: "?");
	}
	if (!ret && o->plot_dir) {
		ret = bs_write_plot(o->plot_dir, runs, o->n_kernels);
		if (ret)
			fprintf(stderr, "rdmapin-bench: --plot %s: %s\n", o->plot_dir,
				strerrorname_np(-ret) ?: "?");
	}
	for (k = 0; k < loaded; k++)
		bs_run_free(&runs[k]);
	return ret ? BS_EXIT_FAIL : 0;
}

int main(int argc, char **argv)
{
	struct bs_opts o;
	char err[256];
	int ret;

	ret = bs_opts_parse(argc, argv, &o, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "rdmapin-bench: %s (see --help)\n", err);
		return BS_EXIT_USAGE;
	}
	if (ret == 1) {
		fputs(bs_usage, stdout);
		return 0;
	}
	if (o.mode == BS_MODE_COMBINE)
		return combine(&o);
	return measure(&o);
}
