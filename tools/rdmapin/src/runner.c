// SPDX-License-Identifier: GPL-2.0
/* runner.c - forked child per case with a timeout; see runner.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmsg.h"
#include "mapping.h"
#include "mutate.h"
#include "pattern.h"
#include "probe.h"
#include "runner.h"
#include "transport.h"

/*
 * Where the case child is: a page shared with the parent, so that a child the parent has to
 * kill on the timeout still tells which step hung (e.g. "ibv_reg_mr"). NULL if it could not
 * be mapped.
 */
static char *progress;

static void at(const char *step)
{
	if (progress)
		snprintf(progress, 48, "%s", step);
}

static void note(struct rp_obs *o, const char *text)
{
	size_t len = strlen(o->note);

	snprintf(o->note + len, sizeof(o->note) - len, "%s%s", len ? "; " : "", text);
}

static void set_err(struct rp_obs *o, int err, const char *step)
{
	o->err = err;
	snprintf(o->step, sizeof(o->step), "%s", step ? step : "?");
}

static int count_bit(const uint64_t *pm, size_t n, uint64_t bit)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		c += !!(pm[i] & bit);
	return c;
}

/* RDMA READ the MR and compare it with what the process sees through its mapping right now. */
static int read_compare(struct rp_tp *tp, struct ibv_mr *mr, const struct rp_map *m,
			unsigned char *remote, unsigned char *view, enum rp_data *data,
			long *diff, struct rp_obs *o)
{
	const char *step = NULL;
	int ret;

	memset(remote, 0xa5, m->len);
	ret = rp_tp_read(tp, mr, remote, m->len, &step);
	if (ret) {
		o->read_err = ret;
		snprintf(o->step, sizeof(o->step), "RDMA READ: %s", step ? step : "?");
		return ret;
	}
	memcpy(view, m->addr, m->len);
	*diff = rp_first_diff(remote, view, m->len);
	*data = *diff < 0 ? RP_D_MATCH : RP_D_MISMATCH;
	return 0;
}

/*
 * One case in the child: what it holds, in the order run_case_child() makes it. Each step
 * below returns 0 or a negative errno after recording the failure (or the skip) in *o.
 */
struct case_run {
	const struct rp_config *cfg;
	const struct rp_case *c;
	const struct rp_backing_info *bi;
	struct rp_obs *o;
	bool uffd_armed;            /* the case counts uffd-wp faults */
	uint64_t seed;              /* of the backing's and the mutation's data */
	struct rp_map m;            /* the backing */
	size_t n;                   /* its base pages */
	size_t unit;                /* the mark unit (rp_map_mark_unit()) */
	unsigned char *expect;      /* what the process should see */
	unsigned char *remote;      /* what the RDMA READ returned */
	unsigned char *view;        /* what the process sees */
	uint64_t *pm_before, *pm_after; /* pagemap around the registration */
	struct rp_tp *tp;
	struct rp_uffd_wp uffd;
	struct ibv_mr *mr;          /* the registration under test, NULL if refused */
	struct rp_mut_state mst;
	char why[192];
};

/* cr comes zeroed but for its uffd and mst (see run_case_child()) */
static void case_init(struct case_run *cr, const struct rp_config *cfg, const struct rp_case *c,
		      struct rp_obs *o)
{
	cr->cfg = cfg;
	cr->c = c;
	cr->bi = rp_backing_info(c->backing);
	cr->o = o;
	cr->unit = RP_BASE_PAGE;
	cr->uffd_armed = (cr->bi->flags & RP_BF_UFFD_WP) || c->mark == RP_MK_UFFD_WP;
	cr->seed = rp_mix64((uint64_t)(c - rp_cases) * 0x10001ULL ^ (uint64_t)getpid() << 20);

	memset(o, 0, sizeof(*o));
	o->valid = 1;
	o->baseline_diff = o->data_diff = o->view_diff = -1;
	o->soft_dirty = o->pfn_changed = o->uffd_wp_events = o->kmsg_issues = -1;
}

/* A probe the case needs is not there on this kernel: skip (true) with the reason. */
static bool case_unjudgeable(struct case_run *cr)
{
	struct rp_obs *o = cr->o;

	if (cr->uffd_armed && !cr->cfg->uffd_wp_ok) {
		o->skip = 1;
		note(o, cr->cfg->uffd_wp_why);
		return true;
	}
	if (cr->c->mark == RP_MK_SOFT_DIRTY && !cr->cfg->soft_dirty_ok) {
		o->skip = 1;
		note(o, "soft-dirty marks cannot be judged: ");
		strncat(o->note, cr->cfg->soft_dirty_why, sizeof(o->note) - strlen(o->note) - 1);
		return true;
	}
	return false;
}

/* The backing with its initial data; a backing this kernel cannot make is a skip. */
static int create_backing(struct case_run *cr)
{
	int ret;

	at("create backing");
	cr->why[0] = 0;
	ret = rp_map_create(&cr->m, cr->c->backing, cr->cfg->pages, cr->seed,
			    cr->cfg->timeout_s * 1000, cr->why, sizeof(cr->why));
	if (!ret)
		return 0;
	if (ret == -EOPNOTSUPP || ((cr->bi->flags & RP_BF_HUGETLB) && ret == -ENOMEM))
		cr->o->skip = 1, note(cr->o, cr->why);
	else
		set_err(cr->o, ret, cr->why[0] ? cr->why : "create backing");
	return ret;
}

/* The expected view and the compare and pagemap buffers, sized by the backing. */
static int alloc_buffers(struct case_run *cr)
{
	cr->n = rp_map_base_pages(&cr->m);
	cr->o->pages = (int)cr->n;
	cr->expect = malloc(cr->m.len);
	cr->remote = malloc(cr->m.len);
	cr->view = malloc(cr->m.len);
	cr->pm_before = calloc(cr->n, sizeof(*cr->pm_before));
	cr->pm_after = calloc(cr->n, sizeof(*cr->pm_after));
	if (!cr->expect || !cr->remote || !cr->view || !cr->pm_before || !cr->pm_after) {
		set_err(cr->o, -ENOMEM, "malloc");
		return -ENOMEM;
	}
	rp_map_initial(cr->c->backing, cr->expect, cr->m.len, cr->seed);
	cr->unit = rp_map_mark_unit(&cr->m);
	return 0;
}

static void free_buffers(struct case_run *cr)
{
	free(cr->pm_after);
	free(cr->pm_before);
	free(cr->view);
	free(cr->remote);
	free(cr->expect);
}

/* mprotect(PROT_READ), then verify from pagemap that the backing is what the row says. */
static int make_ro_and_check(struct case_run *cr)
{
	int ret;

	ret = rp_map_make_ro(&cr->m);
	if (ret) {
		set_err(cr->o, ret, "mprotect(PROT_READ)");
		return ret;
	}
	ret = rp_map_check(&cr->m, cr->why, sizeof(cr->why));
	if (ret) {
		if (ret == -EOPNOTSUPP)
			cr->o->skip = 1, note(cr->o, cr->why);
		else
			set_err(cr->o, ret, cr->why);
		return ret;
	}
	rp_map_describe(&cr->m, cr->o->backing_desc, sizeof(cr->o->backing_desc));
	return 0;
}

/* The transport, opened here in the child (see "Fork" in transport.h). */
static int open_transport(struct case_run *cr, const char *device)
{
	struct rp_tp_opts topts = {
		.device = device,
		.connect_host = cr->cfg->connect_host,
		.port = cr->cfg->port,
		.timeout_ms = cr->cfg->tp_timeout_ms,
		.max_len = cr->m.len,
	};
	const char *step = NULL;
	int ret;

	ret = rp_tp_open(&topts, &cr->tp, &step);
	if (ret)
		set_err(cr->o, ret, step ? step : "rp_tp_open");
	return ret;
}

/* The uffd-wp counter (whole range, or the marked units of an "uffd_wp_kept" row). */
static int arm_uffd(struct case_run *cr)
{
	const char *step = NULL;
	bool huge = cr->bi->flags & RP_BF_HUGETLB;
	int ret;

	at("arm uffd-wp");
	ret = rp_uffd_wp_arm_marked(&cr->uffd, cr->m.addr, cr->m.len,
				    cr->c->mark == RP_MK_UFFD_WP ? cr->unit : cr->m.len,
				    huge ? cr->m.len : RP_BASE_PAGE, &step);
	if (ret == -EINVAL && !(cr->bi->flags & RP_BF_UFFD_WP)) {
		cr->o->skip = 1;
		snprintf(cr->why, sizeof(cr->why), "uffd-wp is not available on %s mappings (%s: EINVAL)",
			 cr->bi->name, step);
		note(cr->o, cr->why);
	} else if (ret) {
		set_err(cr->o, ret, step);
	}
	return ret;
}

/*
 * Clear soft-dirty, mark every even unit soft-dirty for a "softdirty_kept" row, read pagemap
 * before the registration and check that the marks (of either kind) took.
 */
static int mark_pages(struct case_run *cr)
{
	const struct rp_case *c = cr->c;
	struct rp_obs *o = cr->o;
	int ret, wrong = 0;
	uint64_t bit;

	if (cr->cfg->soft_dirty_ok) {
		ret = rp_clear_soft_dirty();
		if (ret) {
			set_err(o, ret, "clear_refs 4");
			return ret;
		}
	}
	if (c->mark == RP_MK_SOFT_DIRTY) {
		at("mark soft-dirty (mremap)");
		for (size_t off = 0; off < cr->m.len; off += cr->unit) {
			if (!rp_marked(off, cr->unit))
				continue;
			ret = rp_soft_dirty_mark(cr->m.addr + off, cr->unit);
			if (ret) {
				set_err(o, ret, "mremap() out and back (soft-dirty mark)");
				return ret;
			}
		}
	}
	ret = rp_pagemap_read(cr->m.addr, cr->n, cr->pm_before);
	if (ret) {
		set_err(o, ret, "pagemap before registration");
		return ret;
	}
	if (!c->mark)
		return 0;
	bit = c->mark == RP_MK_SOFT_DIRTY ? RP_PM_SOFT_DIRTY : RP_PM_UFFD_WP;
	for (size_t i = 0; i < cr->n; i++) {
		o->marked += rp_marked(i * RP_BASE_PAGE, cr->unit);
		wrong += rp_marked(i * RP_BASE_PAGE, cr->unit) != !!(cr->pm_before[i] & bit);
	}
	if (wrong) {
		snprintf(cr->why, sizeof(cr->why), "marking pages %s did not take: %d/%zu pages "
			 "wrong before registration", rp_mark_name(c->mark), wrong, cr->n);
		set_err(o, -EPROTO, cr->why);
		return -EPROTO;
	}
	return 0;
}

/* The registration under test: its errno is an observation, not a failure of the run. */
static void register_mr(struct case_run *cr)
{
	int ret;

	at("ibv_reg_mr");
	ret = rp_tp_reg(cr->tp, cr->m.addr, cr->m.len, rp_access_flags(cr->c->access), &cr->mr);
	at("after ibv_reg_mr");
	cr->o->reg_errno = ret < 0 ? -ret : 0;
	if (cr->uffd_armed)
		cr->o->uffd_wp_events = (int)rp_uffd_wp_events(&cr->uffd);
}

/* Soft-dirty bits the registration added (and, for a "softdirty_kept" row, dropped). */
static void count_soft_dirty(struct case_run *cr)
{
	struct rp_obs *o = cr->o;

	if (!cr->cfg->soft_dirty_ok) {
		note(o, "soft-dirty n/a: ");
		strncat(o->note, cr->cfg->soft_dirty_why, sizeof(o->note) - strlen(o->note) - 1);
		return;
	}
	o->soft_dirty = 0;
	for (size_t i = 0; i < cr->n; i++) {
		bool before = cr->pm_before[i] & RP_PM_SOFT_DIRTY;
		bool after = cr->pm_after[i] & RP_PM_SOFT_DIRTY;

		o->soft_dirty += after && !before;
		if (cr->c->mark == RP_MK_SOFT_DIRTY)
			o->sd_lost += before && !after;
	}
}

/* uffd-wp bits: noted on uffd-wp backings, lost and added counted on "uffd_wp_kept" rows. */
static void count_uffd_wp_bits(struct case_run *cr)
{
	struct rp_obs *o = cr->o;
	size_t n = cr->n;

	if (cr->bi->flags & RP_BF_UFFD_WP) {
		snprintf(cr->why, sizeof(cr->why), "pagemap uffd-wp bit on %d/%zu pages before, "
			 "%d/%zu after registration", count_bit(cr->pm_before, n, RP_PM_UFFD_WP),
			 n, count_bit(cr->pm_after, n, RP_PM_UFFD_WP), n);
		note(o, cr->why);
	}
	if (cr->c->mark != RP_MK_UFFD_WP)
		return;
	for (size_t i = 0; i < n; i++) {
		bool before = cr->pm_before[i] & RP_PM_UFFD_WP;
		bool after = cr->pm_after[i] & RP_PM_UFFD_WP;

		o->wp_lost += before && !after;
		o->wp_added += after && !before;
	}
}

/* Page frames the registration replaced (all, and those that were exclusive anon pages). */
static void count_pfn_changes(struct case_run *cr)
{
	const uint64_t *before = cr->pm_before, *after = cr->pm_after;
	struct rp_obs *o = cr->o;

	if (!rp_pfns_visible(before, cr->n) || !rp_pfns_visible(after, cr->n)) {
		note(o, "PFN probe n/a: pagemap shows no PFNs (needs CAP_SYS_ADMIN)");
		return;
	}
	o->pfn_changed = rp_count_pfn_changed(before, after, cr->n);
	for (size_t i = 0; i < cr->n; i++)
		o->pfn_changed_excl += (before[i] & RP_PM_EXCLUSIVE) && !(before[i] & RP_PM_FILE) &&
				       (before[i] & RP_PM_PFN_MASK) != (after[i] & RP_PM_PFN_MASK);
}

/* What the registration did to the pages: pagemap after it, compared with before. */
static int observe_registration(struct case_run *cr)
{
	int ret;

	ret = rp_pagemap_read(cr->m.addr, cr->n, cr->pm_after);
	if (ret) {
		set_err(cr->o, ret, "pagemap after registration");
		return ret;
	}
	count_soft_dirty(cr);
	count_uffd_wp_bits(cr);
	count_pfn_changes(cr);
	return 0;
}

/* The WP faults of the mutation per unit, for a "uffd_wp_kept" row: one per marked unit. */
static void count_wp_faults(struct case_run *cr)
{
	struct rp_obs *o = cr->o;

	o->wp_write_faults = 0;
	for (size_t u = 0; u < cr->uffd.nunits; u++) {
		unsigned int f = atomic_load(&cr->uffd.faults[u]);
		bool marked = rp_marked(u * cr->uffd.resolve, cr->unit);

		o->wp_units += marked;
		o->wp_write_faults += (int)f;
		o->wp_write_bad += f != (marked ? 1u : 0u);
	}
}

/* The mutation, then the RDMA READ that must (or, for a control, must not) see it. */
static void mutate_and_read(struct case_run *cr)
{
	struct rp_obs *o = cr->o;
	const char *step = NULL;
	int ret;

	if (cr->c->mark == RP_MK_UFFD_WP) /* count only the mutation's faults from here */
		for (size_t u = 0; u < cr->uffd.nunits; u++)
			atomic_store(&cr->uffd.faults[u], 0);
	at(rp_mutation_info(cr->c->mutation)->name);
	ret = rp_mutate(cr->c->mutation, &cr->m, cr->expect, cr->seed,
			cr->cfg->timeout_s * 1000, &cr->mst, &step);
	if (ret) {
		set_err(o, ret, step);
		return;
	}
	if (cr->c->mark == RP_MK_UFFD_WP)
		count_wp_faults(cr);
	at("RDMA READ after the mutation");
	memcpy(cr->view, cr->m.addr, cr->m.len);
	o->view_diff = rp_first_diff(cr->view, cr->expect, cr->m.len);
	read_compare(cr->tp, cr->mr, &cr->m, cr->remote, cr->view, &o->data, &o->data_diff, o);
}

/* The case body, run in the forked child; fills o. */
static void run_case_child(const struct rp_config *cfg, const char *device,
			   const struct rp_case *c, struct rp_obs *o)
{
	struct case_run cr = { .uffd = RP_UFFD_WP_INIT, .mst = RP_MUT_STATE_INIT };

	case_init(&cr, cfg, c, o);
	if (case_unjudgeable(&cr))
		return;
	if (create_backing(&cr))
		goto destroy_map;
	if (alloc_buffers(&cr) || make_ro_and_check(&cr) || open_transport(&cr, device))
		goto free_bufs;
	if (cr.uffd_armed && arm_uffd(&cr))
		goto close_tp;
	if (mark_pages(&cr))
		goto disarm;

	register_mr(&cr);
	if (observe_registration(&cr))
		goto dereg;
	if (o->reg_errno || !(rp_access_flags(c->access) & IBV_ACCESS_REMOTE_READ))
		goto dereg; /* refused, or nothing to read */
	if (c->expect == RP_X_REFUSED)
		goto dereg; /* registered though it must not: nothing more to observe */
	if (read_compare(cr.tp, cr.mr, &cr.m, cr.remote, cr.view, &o->baseline, &o->baseline_diff,
			 o))
		goto dereg;
	mutate_and_read(&cr);
	rp_mutate_finish(&cr.mst);

dereg:
	if (cr.mr) /* a failed dereg is an observation: rp_judge() fails the case */
		o->dereg_errno = -rp_tp_dereg(cr.tp, cr.mr);
disarm:
	rp_uffd_wp_disarm(&cr.uffd);
close_tp:
	o->teardown_err = rp_tp_close(cr.tp);
free_bufs:
	free_buffers(&cr);
destroy_map:
	rp_map_destroy(&cr.m);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Fork the case child: it runs the case and writes its struct rp_obs to *fd. -errno, o set. */
static pid_t start_child(const struct rp_config *cfg, const char *device,
			 const struct rp_case *c, char *prog, int *fd, struct rp_obs *o)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		o->valid = 1;
		set_err(o, -errno, "pipe");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		o->valid = 1;
		set_err(o, -errno, "fork (case child)");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		struct rp_obs mine;
		size_t done = 0;

		setpgid(0, 0);
		close(p[0]);
		progress = prog;
		run_case_child(cfg, device, c, &mine);
		while (done < sizeof(mine)) {
			ssize_t w = write(p[1], (char *)&mine + done, sizeof(mine) - done);

			if (w <= 0)
				_exit(3);
			done += (size_t)w;
		}
		_exit(0);
	}
	setpgid(pid, pid);
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* Read the child's observation until timeout_s: the bytes read (o->timed_out if time ran out). */
static size_t read_obs(int fd, int timeout_s, struct rp_obs *o)
{
	long deadline = now_ms() + timeout_s * 1000L;
	size_t got = 0;

	while (got < sizeof(*o)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			o->timed_out = 1;
			break;
		}
		n = read(fd, (char *)o + got, sizeof(*o) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * The result is in (or the time is up): give the child a bounded moment to exit, then kill its
 * group; never wait unbounded, a child stuck in the kernel is reported instead. A child killed
 * by a signal before it sent a complete observation is reported with the signal.
 */
static void reap_child(pid_t pid, bool complete, struct rp_obs *o)
{
	long deadline = now_ms() + 5000;
	bool reaped = false, killed = false;
	int status = 0;

	while (!reaped && now_ms() < deadline + 5000) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR)) {
			reaped = true;
			break;
		}
		if (now_ms() > deadline && !killed) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
		usleep(5000);
	}
	kill(-pid, SIGKILL); /* leftovers of the group (e.g. a sharer child) */
	if (!reaped) {
		o->valid = 1;
		o->err = -EDEADLK;
		snprintf(o->step, sizeof(o->step), "case child %d did not die within 5 s of SIGKILL "
			 "(stuck in the kernel?)", (int)pid);
	} else if (WIFSIGNALED(status) && !o->timed_out && !complete) {
		o->signal = WTERMSIG(status);
	}
}

/* Run one case in a child; fills r->obs (including crash/timeout). */
static void run_one(const struct rp_config *cfg, const char *device, struct rp_kmsg *kmsg,
		    struct rp_result *r)
{
	struct rp_obs *o = &r->obs;
	long long split0 = rp_vmstat("thp_split_pmd"), split1;
	bool complete;
	char *prog;
	pid_t pid;
	size_t got;
	int fd;

	memset(o, 0, sizeof(*o));
	rp_kmsg_mark(kmsg);
	/* where the child is, kept in a page shared with it (see at()) */
	prog = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (prog == MAP_FAILED)
		prog = NULL;
	pid = start_child(cfg, device, r->c, prog, &fd, o);
	if (pid < 0) {
		if (prog)
			munmap(prog, 4096);
		return;
	}
	got = read_obs(fd, cfg->timeout_s, o);
	close(fd);
	if (o->timed_out)
		kill(-pid, SIGKILL), kill(pid, SIGKILL);
	complete = got == sizeof(*o);
	if (!complete) { /* no (complete) observation: keep only what the parent saw */
		int to = o->timed_out;

		memset(o, 0, sizeof(*o));
		o->timed_out = to;
		o->baseline_diff = o->data_diff = o->view_diff = -1;
		o->soft_dirty = o->pfn_changed = o->uffd_wp_events = -1;
	}
	reap_child(pid, complete, o);
	o->kmsg_issues = rp_kmsg_count(kmsg, o->kmsg_first, sizeof(o->kmsg_first));
	split1 = rp_vmstat("thp_split_pmd");
	o->thp_split_pmd = split0 >= 0 && split1 >= 0 ? split1 - split0 : -1;
	if (prog) {
		if (o->timed_out)
			snprintf(o->progress, sizeof(o->progress), "%.47s", prog);
		munmap(prog, 4096);
	}
}

int rp_run_device(const struct rp_config *cfg, const char *device, struct rp_device_result *d)
{
	struct rp_kmsg kmsg = { .fd = -1 };
	size_t i, k = 0;
	bool any_pass = false, any_fail = false;

	snprintf(d->name, sizeof(d->name), "%s", device);
	d->results = calloc(rp_ncases, sizeof(*d->results));
	if (!d->results)
		return -ENOMEM;
	rp_kmsg_open(&kmsg);
	for (i = 0; i < rp_ncases; i++) {
		struct rp_result *r;

		if (!rp_case_match(&rp_cases[i], cfg->case_globs))
			continue;
		r = &d->results[k++];
		r->c = &rp_cases[i];
		run_one(cfg, device, &kmsg, r);
		rp_judge(r, cfg->timeout_s);
		any_pass |= r->status == RP_PASS;
		any_fail |= r->status == RP_FAIL;
	}
	rp_kmsg_close(&kmsg);
	d->n = k;
	d->status = any_fail ? RP_FAIL : any_pass ? RP_PASS : RP_SKIP;
	if (d->status == RP_SKIP)
		snprintf(d->skip_reason, sizeof(d->skip_reason), "every case skipped");
	return 0;
}

void rp_device_result_free(struct rp_device_result *d)
{
	free(d->results);
	d->results = NULL;
	d->n = 0;
}
