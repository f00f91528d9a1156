// SPDX-License-Identifier: GPL-2.0
/*
 * ibv-reg-sweep - the exhaustive ibv_reg_mr sweep of the rdmapin regression suite.
 *
 * Every row (rows.c) is one registration attempt; its expectation on a fixed kernel is computed
 * by sw_expect(). Registration needs no connection: open the device, allocate a PD, ibv_reg_mr.
 *
 * Rows run in a forked worker per device that reports a "begin" and an "end" record per row
 * through a pipe. A worker that crashes or hangs (bounded by --timeout) costs the row it was in:
 * the parent records it as ERROR and starts a new worker at the next row. After every row the
 * parent reads the new lines of the kernel log; a new kernel problem line (the list in
 * lib/kmsg-patterns.txt: WARNING, BUG, KASAN, UBSAN, Oops, lockdep, ...) fails the row.
 * Output through lib/emit.c: KTAP (default, nested per device), a table, or JSON
 * (Documentation/results.schema.json, the schema rdmapin's output follows too). Exit 0 pass,
 * 1 fail, 4 skip (kselftest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/ib_user_verbs.h>

#include "backing.h"
#include "cli.h"
#include "emit.h"
#include "errname.h"
#include "kmsg.h" /* lib: the kernel log watch */
#include "memlock.h"
#include "probe.h"
#include "rows.h"
#include "worker.h"

#define SW_MAX_DEVICES 8
#define SW_MAX_TIMEOUT_S 3600
#define usage_error(...) cli_usage_error("ibv-reg-sweep", __VA_ARGS__)

enum sw_status { SW_PASS, SW_FAIL, SW_SKIP };

/* One pipe record; small enough to be written atomically (PIPE_BUF). */
struct sw_rec {
	int idx;          /* row index; -1: worker-level error (device could not be opened) */
	int end;          /* 0: begin, 1: end */
	int status;       /* enum sw_status */
	int reg_errno;    /* errno of the registration (of rereg for rereg rows); -1 not tried */
	int dereg_errno;  /* errno of ibv_dereg_mr; -1 not tried */
	char verdict[20];
	char reason[300];
};

struct sw_result {
	bool ran;
	int status;
	int reg_errno;
	int dereg_errno;
	int kmsg_issues;  /* -1: kernel log not watched */
	char verdict[20];
	char reason[400];
};

struct sw_dev {
	char name[IBV_SYSFS_NAME_MAX];
	int status;
	char skip_reason[320];
	struct sw_result *res; /* [nrows] */
};

static struct {
	enum em_format format;
	const char *dir;
	const char *globs[16];
	int nglobs;
	int timeout_s;
	bool list;
} opt = { .format = EM_KTAP, .timeout_s = 20 };

static struct sw_row rows[SW_MAX_ROWS];
static int nrows, not_rows;
static bool selected[SW_MAX_ROWS];

/* ---- the worker: runs rows in the child ---- */

static void rec_send(int fd, const struct sw_rec *r)
{
	ssize_t n = write(fd, r, sizeof(*r));

	(void)n; /* the parent notices a short or missing record as a dead worker */
}

static void judge_reg(const struct sw_row *row, struct sw_rec *r, bool registered, int err)
{
	char got[64];

	snprintf(r->verdict, sizeof(r->verdict), "%s", registered ? "REGISTERED" : "REFUSED");
	r->reg_errno = registered ? 0 : err;
	if (registered)
		snprintf(got, sizeof(got), "REGISTERED");
	else
		snprintf(got, sizeof(got), "REFUSED (%s)", rp_errname(err));

	if (row->expect == SW_REGISTERED && registered) {
		r->status = SW_PASS;
		snprintf(r->reason, sizeof(r->reason), "%s", row->rule);
	} else if (row->expect == SW_REFUSED && !registered && err == row->expect_errno) {
		r->status = SW_PASS;
		snprintf(r->reason, sizeof(r->reason), "%s", row->rule);
	} else {
		r->status = SW_FAIL;
		snprintf(r->reason, sizeof(r->reason), "expected %s%s%s%s, got %s: %s",
			 sw_outcome_name(row->expect), row->expect == SW_REFUSED ? " (" : "",
			 row->expect == SW_REFUSED ? rp_errname(row->expect_errno) : "",
			 row->expect == SW_REFUSED ? ")" : "", got, row->rule);
	}
}

#ifndef IB_MR_REREG_ACCESS
#define IB_MR_REREG_ACCESS 4 /* enum ib_mr_rereg_flags */
#endif

/*
 * uverbs_rereg_access - the kernel's REREG_MR command with IB_MR_REREG_ACCESS only, written to
 * the uverbs fd directly. rdma-core's rxe and siw providers have no rereg_mr (ibv_rereg_mr fails
 * with EOPNOTSUPP before the kernel sees it), but any process can send the command: the kernel
 * must refuse it or re-pin on its own. 0 or a negative errno.
 */
static int uverbs_rereg_access(struct ibv_mr *mr, int access)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req;
	struct ib_uverbs_rereg_mr_resp resp;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.hdr.command = IB_USER_VERBS_CMD_REREG_MR;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	req.cmd.mr_handle = mr->handle;
	req.cmd.flags = IB_MR_REREG_ACCESS;
	req.cmd.access_flags = (uint32_t)access;
	if (write(mr->context->cmd_fd, &req, sizeof(req)) != (ssize_t)sizeof(req))
		return -errno;
	return 0;
}

/* rereg read-only -> writable: refused, or re-pinned over the process's own writable pages */
static void run_rereg(const struct sw_row *row, struct ibv_pd *pd, struct sw_map *m,
		      struct sw_rec *r)
{
	const char *how = "ibv_rereg_mr";
	struct ibv_mr *mr;
	long long before, after;
	size_t off;
	int ret, err;

	mr = ibv_reg_mr(pd, m->reg_addr, m->reg_len, row->access);
	if (!mr) {
		err = errno;
		r->status = SW_FAIL;
		r->reg_errno = err;
		snprintf(r->verdict, sizeof(r->verdict), "ERROR");
		snprintf(r->reason, sizeof(r->reason),
			 "the read-only registration before rereg was refused (%s)", rp_errname(err));
		return;
	}
	errno = 0;
	ret = ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL, 0, row->rereg_access);
	err = ret ? (errno ? errno : EINVAL) : 0;
	if (err == EOPNOTSUPP || err == ENOSYS) {
		how = "uverbs REREG_MR (the provider has no rereg_mr)";
		err = -uverbs_rereg_access(mr, row->rereg_access);
	}
	if (err) {
		r->status = SW_PASS;
		r->reg_errno = err;
		snprintf(r->verdict, sizeof(r->verdict), "REFUSED");
		snprintf(r->reason, sizeof(r->reason), "%s to writable refused (%s)", how,
			 rp_errname(err));
		ibv_dereg_mr(mr); /* the MR may be gone already: ignore */
		return;
	}
	if (row->prot != SW_PROT_RW) {
		r->status = SW_FAIL;
		snprintf(r->verdict, sizeof(r->verdict), "REREG_WRITABLE");
		snprintf(r->reason, sizeof(r->reason),
			 "%s made a writable MR over PROT_READ pages", how);
		r->dereg_errno = ibv_dereg_mr(mr);
		return;
	}
	/* writable memory: the MR must now be over the pages the process writes to */
	snprintf(r->verdict, sizeof(r->verdict), "REPINNED");
	r->status = SW_PASS;
	snprintf(r->reason, sizeof(r->reason),
		 "%s to writable succeeded; PFNs stable across a process write", how);
	for (off = 0; off < m->reg_len; off += 4096) {
		volatile unsigned char *p = (unsigned char *)m->reg_addr + off;

		before = rp_pfn((void *)p);
		*p = (unsigned char)(*p + 1);
		after = rp_pfn((void *)p);
		if (before < 0 || after < 0) {
			r->status = SW_SKIP;
			snprintf(r->reason, sizeof(r->reason),
				 "rereg succeeded but /proc/self/pagemap gives no PFN (%s)",
				 rp_errname((int)-(before < 0 ? before : after)));
			break;
		}
		if (before != after) {
			r->status = SW_FAIL;
			snprintf(r->verdict, sizeof(r->verdict), "DIVERGED");
			snprintf(r->reason, sizeof(r->reason),
				 "rereg to writable succeeded but page %zu moved on a process "
				 "write (PFN %#llx -> %#llx): the MR is not over the process's pages",
				 off / 4096, before, after);
			break;
		}
	}
	r->dereg_errno = ibv_dereg_mr(mr);
	if (r->dereg_errno) {
		r->status = SW_FAIL;
		snprintf(r->verdict, sizeof(r->verdict), "ERROR");
		snprintf(r->reason, sizeof(r->reason), "ibv_dereg_mr after rereg: %s",
			 rp_errname(r->dereg_errno));
	}
}

static void run_row(const struct sw_row *row, struct ibv_pd *pd, struct sw_rec *r)
{
	struct sw_map m;
	struct ibv_mr *mr;
	const char *why;
	int ret, err;

	ret = sw_map_create(row, opt.dir, &m, &why);
	if (ret) {
		/* lib/mapping.h: the machine cannot provide the kind (no huge page free, no THP) */
		bool nohuge = ret == -EOPNOTSUPP || (row->kind == SW_HUGETLB && ret == -ENOMEM);

		r->status = nohuge ? SW_SKIP : SW_FAIL;
		snprintf(r->verdict, sizeof(r->verdict), nohuge ? "SKIPPED" : "ERROR");
		snprintf(r->reason, sizeof(r->reason), "%s%s", nohuge ? "cannot be made here: " : "",
			 why);
		sw_map_destroy(&m);
		return;
	}
	if (row->edge == SW_REREG_RO_RW) {
		run_rereg(row, pd, &m, r);
		sw_map_destroy(&m);
		return;
	}
	errno = 0;
	mr = ibv_reg_mr(pd, m.reg_addr, m.reg_len, row->access);
	err = mr ? 0 : (errno ? errno : EINVAL);
	judge_reg(row, r, mr != NULL, err);
	if (mr && row->edge == SW_DEREG_AFTER_MUNMAP) {
		sw_map_unmap(&m);
		ret = ibv_dereg_mr(mr);
		r->dereg_errno = ret;
		if (ret) {
			r->dereg_errno = ret;
			r->status = SW_FAIL;
			snprintf(r->reason, sizeof(r->reason), "dereg after munmap failed: %s",
				 rp_errname(ret));
		}
	} else if (mr) {
		ret = ibv_dereg_mr(mr);
		r->dereg_errno = ret;
		if (ret) {
			r->dereg_errno = ret;
			r->status = SW_FAIL;
			snprintf(r->reason, sizeof(r->reason), "ibv_dereg_mr: %s", rp_errname(ret));
		}
	}
	sw_map_destroy(&m);
}

struct worker_arg {
	const char *devname;
	int start;
};

static void worker(int wfd, void *argp)
{
	const struct worker_arg *arg = argp;
	const char *devname = arg->devname;
	int start = arg->start;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct sw_rec r;
	int i, n;

	memset(&r, 0, sizeof(r));
	r.idx = -1;
	r.end = 1;
	r.status = SW_FAIL;
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), devname))
			ctx = ibv_open_device(list[i]);
	if (!ctx) {
		snprintf(r.reason, sizeof(r.reason), "ibv_open_device(%.64s): %.200s", devname,
			 strerror(errno ? errno : ENODEV));
		goto out_send;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		snprintf(r.reason, sizeof(r.reason), "ibv_alloc_pd(%.64s): %.200s", devname,
			 strerror(errno));
		goto out_close;
	}
	for (i = start; i < nrows; i++) {
		if (!selected[i])
			continue;
		memset(&r, 0, sizeof(r));
		r.idx = i;
		r.reg_errno = r.dereg_errno = -1;
		rec_send(wfd, &r);
		run_row(&rows[i], pd, &r);
		r.end = 1;
		rec_send(wfd, &r);
	}
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	_exit(0);
out_close:
	ibv_close_device(ctx);
out_send:
	rec_send(wfd, &r);
	if (list)
		ibv_free_device_list(list);
	_exit(1);
}

/* ---- the parent: one worker at a time per device, restarted after a crash ---- */

static void attach_kmsg(struct rp_kmsg *k, struct sw_result *res)
{
	char first[200] = "";
	int issues = rp_kmsg_count(k, first, sizeof(first));

	rp_kmsg_mark(k);
	res->kmsg_issues = issues;
	if (issues > 0) {
		size_t l = strlen(res->reason);

		res->status = SW_FAIL;
		snprintf(res->reason + l, sizeof(res->reason) - l,
			 "%snew kernel log issue (%d line%s): %s", l ? "; " : "", issues,
			 issues > 1 ? "s" : "", first);
	}
}

/* The worker hung or died in this row: fail it with the reason and its kernel log lines. */
static void __attribute__((format(printf, 3, 4)))
fail_row(struct rp_kmsg *k, struct sw_result *res, const char *fmt, ...)
{
	va_list ap;

	res->ran = true;
	res->status = SW_FAIL;
	res->reg_errno = res->dereg_errno = -1;
	snprintf(res->verdict, sizeof(res->verdict), "ERROR");
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	attach_kmsg(k, res);
}

/* Stop the worker within a bound; a worker that does not die is a device failure. */
static int stop_worker(struct sw_dev *d, struct sw_worker *w, int grace_ms, int *wst)
{
	int ret = sw_worker_stop(w, grace_ms, wst);

	if (ret) {
		d->status = SW_FAIL;
		snprintf(d->skip_reason, sizeof(d->skip_reason),
			 "worker %d did not die within %d s of SIGKILL (%s): stuck in the kernel?",
			 (int)w->pid, SW_REAP_MS / 1000, rp_errname(-ret));
	}
	return ret;
}

static void run_device(struct sw_dev *d, struct rp_kmsg *k)
{
	int next = 0;

	while (next < nrows) {
		struct worker_arg arg = { .devname = d->name };
		struct sw_worker w;
		int cur = -1, wst = 0, ret;
		bool done = false;

		while (next < nrows && !selected[next])
			next++;
		if (next >= nrows)
			break;
		arg.start = next;
		ret = sw_worker_start(&w, worker, &arg);
		if (ret) {
			d->status = SW_FAIL;
			snprintf(d->skip_reason, sizeof(d->skip_reason), "starting a worker: %s",
				 strerror(-ret));
			return;
		}
		while (!done) {
			struct sw_rec r;

			ret = sw_worker_read(&w, &r, sizeof(r), opt.timeout_s * 1000);
			if (ret == -ETIMEDOUT) { /* the row hangs */
				if (stop_worker(d, &w, 0, &wst))
					return;
				if (cur >= 0) {
					fail_row(k, &d->res[cur], "timed out after %d s (worker killed)",
						 opt.timeout_s);
					next = cur + 1;
				} else {
					d->status = SW_FAIL;
					snprintf(d->skip_reason, sizeof(d->skip_reason),
						 "worker timed out before its first row");
					next = nrows;
				}
				done = true;
				break;
			}
			if (ret == 1 && r.idx == -1) {
				d->status = SW_FAIL;
				snprintf(d->skip_reason, sizeof(d->skip_reason), "%s", r.reason);
				next = nrows;
				continue; /* EOF follows */
			}
			if (ret == 1 && r.idx >= 0 && r.idx < nrows) {
				struct sw_result *res = &d->res[r.idx];

				if (!r.end) {
					cur = r.idx;
					continue;
				}
				res->ran = true;
				res->status = r.status;
				res->reg_errno = r.reg_errno;
				res->dereg_errno = r.dereg_errno;
				snprintf(res->verdict, sizeof(res->verdict), "%s", r.verdict);
				snprintf(res->reason, sizeof(res->reason), "%s", r.reason);
				attach_kmsg(k, res);
				next = r.idx + 1;
				cur = -1;
				continue;
			}
			/* EOF, a torn record or a failed read: the worker is gone (or going) */
			if (stop_worker(d, &w, SW_REAP_MS, &wst))
				return;
			if (cur >= 0) {
				if (WIFSIGNALED(wst))
					fail_row(k, &d->res[cur],
						 "worker killed by signal %d (%s) in this row",
						 WTERMSIG(wst), strsignal(WTERMSIG(wst)));
				else
					fail_row(k, &d->res[cur], "worker exited %d in this row",
						 WEXITSTATUS(wst));
				next = cur + 1;
			} else if (next < nrows && d->status != SW_FAIL && !WIFEXITED(wst)) {
				d->status = SW_FAIL;
				snprintf(d->skip_reason, sizeof(d->skip_reason),
					 "worker died between rows");
				next = nrows;
			}
			done = true;
		}
	}
}

/* ---- output ---- */

static void emit_row(struct em *e, const struct sw_row *row, const struct sw_result *res)
{
	char abuf[64], rbuf[64], diag[160];
	const struct em_field fields[] = {
		EM_STR("prot", sw_prot_name(row->prot)),
		EM_STR("edge", sw_edge_name(row->edge)),
		EM_NUM("expected_errno", row->expect_errno),
		EM_STR("expected_error", rp_errname(row->expect_errno)),
		EM_STR("rule", row->rule),
		EM_STR("rereg_access", sw_access_str(row->rereg_access, rbuf)),
	};
	struct em_case c = {
		.name = row->name,
		.status = res->status == SW_PASS ? EM_PASS : res->status == SW_FAIL ? EM_FAIL :
			  EM_SKIP,
		.verdict = res->verdict,
		.reason = res->reason,
		.backing = sw_kind_name(row->kind),
		.access = sw_access_str(row->access, abuf),
		.expected = sw_outcome_name(row->expect),
		.reg_errno = res->reg_errno,
		.dereg_errno = res->dereg_errno,
		.kmsg_issues = res->kmsg_issues,
		.diag = diag,
		.fields = fields,
		/* rereg_access only on the rereg rows */
		.nfields = sizeof(fields) / sizeof(fields[0]) - (row->edge != SW_REREG_RO_RW),
	};

	snprintf(diag, sizeof(diag), "prot=%s edge=%s expected=%s%s%s%s", sw_prot_name(row->prot),
		 sw_edge_name(row->edge), sw_outcome_name(row->expect),
		 row->expect_errno ? "(" : "", rp_errname(row->expect_errno),
		 row->expect_errno ? ")" : "");
	em_case(e, &c);
}

/* Every device and its rows through the one emitter; returns the exit status. */
static int emit(FILE *f, enum em_format fmt, struct sw_dev *devs, int ndev, const char *kernel)
{
	char title[128];
	const struct em_field fields[] = {
		EM_NUM("rows_per_device", nrows),
		EM_NUM("not_rows", not_rows),
	};
	struct em_run run = {
		.tool = "ibv-reg-sweep", .kernel = kernel, .title = title,
		.fields = fields, .nfields = 2,
		.ndevices = (size_t)ndev, .skip_reason = "no RDMA device",
	};
	struct em e;
	int d, i;

	snprintf(title, sizeof(title), "%d rows per device (%d kind x prot x access combinations "
		 "cannot be created and are not rows)", nrows, not_rows);
	em_begin(&e, f, fmt, &run);
	for (d = 0; d < ndev; d++) {
		struct sw_dev *dv = &devs[d];
		size_t n = 0;

		for (i = 0; dv->res && i < nrows; i++)
			n += dv->res[i].ran;
		em_device_begin(&e, dv->name, n);
		for (i = 0; dv->res && i < nrows; i++)
			if (dv->res[i].ran)
				emit_row(&e, &rows[i], &dv->res[i]);
		em_device_end(&e, dv->status == SW_FAIL, dv->skip_reason);
	}
	return em_end(&e);
}

static void emit_list(FILE *f)
{
	int i;
	char abuf[64];

	fprintf(f, "%-44s %-14s %-4s %-16s %-28s %s\n", "row", "backing", "prot", "edge",
		"access", "expected on a fixed kernel");
	for (i = 0; i < nrows; i++) {
		if (!selected[i])
			continue;
		fprintf(f, "%-44s %-14s %-4s %-16s %-28s %s%s%s%s  # %s\n", rows[i].name,
			sw_kind_name(rows[i].kind), sw_prot_name(rows[i].prot),
			sw_edge_name(rows[i].edge), sw_access_str(rows[i].access, abuf),
			sw_outcome_name(rows[i].expect), rows[i].expect == SW_REFUSED ? " (" : "",
			rows[i].expect == SW_REFUSED ? rp_errname(rows[i].expect_errno) : "",
			rows[i].expect == SW_REFUSED ? ")" : "", rows[i].rule);
	}
	fprintf(f, "%d rows per device; %d combinations cannot be created and are not rows\n",
		nrows, not_rows);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ibv-reg-sweep [--format ktap|table|json] [--device DEV]... [--case GLOB]...\n"
		"                     [--dir DIR] [--timeout S] [--list]\n"
		"  --format    ktap (default), table or json (Documentation/results.schema.json)\n"
		"  --device    run on DEV only (repeatable; default: every RDMA device)\n"
		"  --case      run only rows whose name matches GLOB (repeatable)\n"
		"  --dir       where file-backed rows create their files (default $TMPDIR or /tmp)\n"
		"  --timeout   seconds one row may take before its worker is killed (1..3600, "
		"default 20)\n"
		"  --list      print the rows and their expectation on a fixed kernel; run nothing\n"
		"exit: 0 pass, 1 fail, 4 skip (no device), 2 usage\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "device", required_argument, NULL, 'd' },
		{ "case", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw_dev devs[SW_MAX_DEVICES];
	const char *want[SW_MAX_DEVICES];
	int nwant = 0, ndev = 0;
	struct ibv_device **list;
	struct utsname uts;
	struct rp_kmsg kmsg;
	int c, i, d, n, ret;
	long num;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:d:c:D:t:lh", lopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (em_parse_format(optarg, &opt.format)) {
				usage_error("--format: '%s' is not ktap, table or json", optarg);
				return 2;
			}
			break;
		case 'd':
			if (nwant == SW_MAX_DEVICES) {
				usage_error("at most %d --device", SW_MAX_DEVICES);
				return 2;
			}
			if (!*optarg || strlen(optarg) >= IBV_SYSFS_NAME_MAX) {
				usage_error("--device: bad device name '%.80s'", optarg);
				return 2;
			}
			want[nwant++] = optarg;
			break;
		case 'c':
			if (opt.nglobs == 16) {
				usage_error("at most 16 --case");
				return 2;
			}
			if (!*optarg) {
				usage_error("--case needs a glob");
				return 2;
			}
			opt.globs[opt.nglobs++] = optarg;
			break;
		case 'D':
			if (!*optarg) {
				usage_error("--dir needs a directory");
				return 2;
			}
			opt.dir = optarg;
			break;
		case 't':
			if (cli_parse_num("ibv-reg-sweep", "--timeout", optarg, 1, SW_MAX_TIMEOUT_S,
					  &num))
				return 2;
			opt.timeout_s = (int)num;
			break;
		case 'l':
			opt.list = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
			return 2;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!opt.dir)
		opt.dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	nrows = sw_rows_build(rows, SW_MAX_ROWS, &not_rows);
	for (i = 0; i < nrows; i++)
		selected[i] = !opt.nglobs;
	/* every glob must match a row: a typo is a usage error, not a no-op */
	for (c = 0; c < opt.nglobs; c++) {
		for (i = 0, n = 0; i < nrows; i++)
			if (!fnmatch(opt.globs[c], rows[i].name, 0))
				selected[i] = true, n++;
		if (!n) {
			usage_error("--case '%s' matches no row of --list", opt.globs[c]);
			return 2;
		}
	}
	if (opt.list) {
		emit_list(stdout);
		return 0;
	}

	rp_memlock_raise(0, NULL); /* siw enforces RLIMIT_MEMLOCK even for root */
	signal(SIGPIPE, SIG_IGN);
	uname(&uts);

	list = ibv_get_device_list(&n);
	if (nwant) {
		for (i = 0; i < nwant; i++) {
			memset(&devs[ndev], 0, sizeof(devs[0]));
			snprintf(devs[ndev].name, sizeof(devs[0].name), "%s", want[i]);
			devs[ndev].status = SW_SKIP;
			snprintf(devs[ndev].skip_reason, sizeof(devs[0].skip_reason),
				 "device %s not present", want[i]);
			for (d = 0; list && d < n; d++)
				if (!strcmp(ibv_get_device_name(list[d]), want[i])) {
					devs[ndev].status = SW_PASS;
					devs[ndev].skip_reason[0] = '\0';
				}
			ndev++;
		}
	} else {
		for (d = 0; list && d < n && ndev < SW_MAX_DEVICES; d++) {
			memset(&devs[ndev], 0, sizeof(devs[0]));
			snprintf(devs[ndev].name, sizeof(devs[0].name), "%s",
				 ibv_get_device_name(list[d]));
			devs[ndev].status = SW_PASS;
			ndev++;
		}
	}
	if (list)
		ibv_free_device_list(list);
	if (!ndev)
		return emit(stdout, opt.format, devs, 0, uts.release);

	ret = rp_kmsg_open(&kmsg);
	if (ret)
		fprintf(stderr, "ibv-reg-sweep: /dev/kmsg: %s: the kernel log is not watched\n",
			strerror(-ret));
	rp_kmsg_mark(&kmsg);
	for (d = 0; d < ndev; d++) {
		devs[d].res = calloc((size_t)nrows, sizeof(struct sw_result));
		if (!devs[d].res && devs[d].status != SW_SKIP) { /* a failed device, as rdmapin's */
			devs[d].status = SW_FAIL;
			snprintf(devs[d].skip_reason, sizeof(devs[d].skip_reason),
				 "no row ran: calloc: ENOMEM");
		}
		if (devs[d].status == SW_PASS)
			run_device(&devs[d], &kmsg);
		if (devs[d].status == SW_FAIL && devs[d].skip_reason[0])
			fprintf(stderr, "ibv-reg-sweep: %s: %s\n", devs[d].name,
				devs[d].skip_reason);
	}
	rp_kmsg_close(&kmsg);
	ret = emit(stdout, opt.format, devs, ndev, uts.release);
	for (d = 0; d < ndev; d++)
		free(devs[d].res);
	return ret;
}
