// SPDX-License-Identifier: GPL-2.0
/* runner.c - forked child per case with a timeout; see runner.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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
 * kill on the timeout still tells which step hung (e.g. "ibv_reg_mr"). NULL in tests.
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

void rp_run_case_child(const struct rp_config *cfg, const char *device, const struct rp_case *c,
		       struct rp_obs *o)
{
	const struct rp_backing_info *bi = rp_backing_info(c->backing);
	struct rp_uffd_wp uffd = RP_UFFD_WP_INIT;
	struct rp_mut_state mst = RP_MUT_STATE_INIT;
	unsigned char *expect = NULL, *remote = NULL, *view = NULL;
	uint64_t *pm_before = NULL, *pm_after = NULL;
	struct rp_tp_opts topts = { 0 };
	struct ibv_mr *mr = NULL;
	struct rp_tp *tp = NULL;
	const char *step = NULL;
	bool uffd_armed = (bi->flags & RP_BF_UFFD_WP) || c->mark == RP_MK_UFFD_WP;
	uint64_t seed;
	struct rp_map m;
	size_t n, unit = RP_BASE_PAGE;
	char why[192];
	int ret;

	memset(o, 0, sizeof(*o));
	o->valid = 1;
	o->baseline_diff = o->data_diff = o->view_diff = -1;
	o->soft_dirty = o->pfn_changed = o->uffd_wp_events = o->kmsg_issues = -1;
	seed = rp_mix64((uint64_t)(c - rp_cases) * 0x10001ULL ^ (uint64_t)getpid() << 20);

	if (uffd_armed && !cfg->uffd_wp_ok) {
		o->skip = 1;
		note(o, cfg->uffd_wp_why);
		return;
	}
	if (c->mark == RP_MK_SOFT_DIRTY && !cfg->soft_dirty_ok) {
		o->skip = 1;
		note(o, "soft-dirty marks cannot be judged: ");
		strncat(o->note, cfg->soft_dirty_why, sizeof(o->note) - strlen(o->note) - 1);
		return;
	}
	at("create backing");

	why[0] = 0;
	ret = rp_map_create(&m, c->backing, cfg->pages, seed, cfg->timeout_s * 1000, why,
			    sizeof(why));
	if (ret) {
		if (ret == -EOPNOTSUPP || ((bi->flags & RP_BF_HUGETLB) && ret == -ENOMEM))
			o->skip = 1, note(o, why);
		else
			set_err(o, ret, why[0] ? why : "create backing");
		goto destroy_map;
	}
	n = rp_map_base_pages(&m);
	o->pages = (int)n;
	expect = malloc(m.len);
	remote = malloc(m.len);
	view = malloc(m.len);
	pm_before = calloc(n, sizeof(*pm_before));
	pm_after = calloc(n, sizeof(*pm_after));
	if (!expect || !remote || !view || !pm_before || !pm_after) {
		set_err(o, -ENOMEM, "malloc");
		goto free_bufs;
	}
	rp_map_initial(c->backing, expect, m.len, seed);
	unit = rp_map_mark_unit(&m);

	ret = rp_map_make_ro(&m);
	if (ret) {
		set_err(o, ret, "mprotect(PROT_READ)");
		goto free_bufs;
	}
	ret = rp_map_check(&m, why, sizeof(why));
	if (ret) {
		if (ret == -EOPNOTSUPP)
			o->skip = 1, note(o, why);
		else
			set_err(o, ret, why);
		goto free_bufs;
	}
	rp_map_describe(&m, o->backing_desc, sizeof(o->backing_desc));

	topts.device = device;
	topts.connect_host = cfg->connect_host;
	topts.port = cfg->port;
	topts.timeout_ms = cfg->tp_timeout_ms;
	topts.max_len = m.len;
	ret = rp_tp_open(&topts, &tp, &step);
	if (ret) {
		set_err(o, ret, step ? step : "rp_tp_open");
		goto free_bufs;
	}

	if (uffd_armed) {
		at("arm uffd-wp");
		ret = rp_uffd_wp_arm_marked(&uffd, m.addr, m.len,
					    c->mark == RP_MK_UFFD_WP ? unit : m.len,
					    (bi->flags & RP_BF_HUGETLB) ? m.len : RP_BASE_PAGE, &step);
		if (ret == -EINVAL && !(bi->flags & RP_BF_UFFD_WP)) {
			o->skip = 1;
			snprintf(why, sizeof(why), "uffd-wp is not available on %s mappings (%s: EINVAL)",
				 bi->name, step);
			note(o, why);
			goto close_tp;
		}
		if (ret) {
			set_err(o, ret, step);
			goto close_tp;
		}
	}
	if (cfg->soft_dirty_ok) {
		ret = rp_clear_soft_dirty();
		if (ret) {
			set_err(o, ret, "clear_refs 4");
			goto disarm;
		}
	}
	if (c->mark == RP_MK_SOFT_DIRTY) {
		at("mark soft-dirty (mremap)");
		for (size_t off = 0; off < m.len; off += unit) {
			if (!rp_marked(off, unit))
				continue;
			ret = rp_soft_dirty_mark(m.addr + off, unit);
			if (ret) {
				set_err(o, ret, "mremap() out and back (soft-dirty mark)");
				goto disarm;
			}
		}
	}
	ret = rp_pagemap_read(m.addr, n, pm_before);
	if (ret) {
		set_err(o, ret, "pagemap before registration");
		goto disarm;
	}
	if (c->mark) {
		uint64_t bit = c->mark == RP_MK_SOFT_DIRTY ? RP_PM_SOFT_DIRTY : RP_PM_UFFD_WP;
		int wrong = 0;

		for (size_t i = 0; i < n; i++) {
			o->marked += rp_marked(i * RP_BASE_PAGE, unit);
			wrong += rp_marked(i * RP_BASE_PAGE, unit) != !!(pm_before[i] & bit);
		}
		if (wrong) {
			snprintf(why, sizeof(why), "marking pages %s did not take: %d/%zu pages wrong "
				 "before registration", rp_mark_name(c->mark), wrong, n);
			set_err(o, -EPROTO, why);
			goto disarm;
		}
	}

	/* the registration under test */
	at("ibv_reg_mr");
	ret = rp_tp_reg(tp, m.addr, m.len, rp_access_flags(c->access), &mr);
	at("after ibv_reg_mr");
	o->reg_errno = ret < 0 ? -ret : 0;
	if (uffd_armed)
		o->uffd_wp_events = (int)rp_uffd_wp_events(&uffd);

	ret = rp_pagemap_read(m.addr, n, pm_after);
	if (ret) {
		set_err(o, ret, "pagemap after registration");
		goto dereg;
	}
	if (cfg->soft_dirty_ok) {
		o->soft_dirty = 0;
		for (size_t i = 0; i < n; i++) {
			bool before = pm_before[i] & RP_PM_SOFT_DIRTY;
			bool after = pm_after[i] & RP_PM_SOFT_DIRTY;

			o->soft_dirty += after && !before;
			if (c->mark == RP_MK_SOFT_DIRTY)
				o->sd_lost += before && !after;
		}
	} else
		note(o, "soft-dirty n/a: "), strncat(o->note, cfg->soft_dirty_why,
						    sizeof(o->note) - strlen(o->note) - 1);
	if (bi->flags & RP_BF_UFFD_WP) {
		snprintf(why, sizeof(why), "pagemap uffd-wp bit on %d/%zu pages before, %d/%zu after "
			 "registration", count_bit(pm_before, n, RP_PM_UFFD_WP), n,
			 count_bit(pm_after, n, RP_PM_UFFD_WP), n);
		note(o, why);
	}
	if (c->mark == RP_MK_UFFD_WP) {
		for (size_t i = 0; i < n; i++) {
			bool before = pm_before[i] & RP_PM_UFFD_WP;
			bool after = pm_after[i] & RP_PM_UFFD_WP;

			o->wp_lost += before && !after;
			o->wp_added += after && !before;
		}
	}
	if (rp_pfns_visible(pm_before, n) && rp_pfns_visible(pm_after, n)) {
		o->pfn_changed = rp_count_pfn_changed(pm_before, pm_after, n);
		for (size_t i = 0; i < n; i++)
			o->pfn_changed_excl += (pm_before[i] & RP_PM_EXCLUSIVE) &&
					       !(pm_before[i] & RP_PM_FILE) &&
					       (pm_before[i] & RP_PM_PFN_MASK) !=
					       (pm_after[i] & RP_PM_PFN_MASK);
	} else
		note(o, "PFN probe n/a: pagemap shows no PFNs (needs CAP_SYS_ADMIN)");
	if (o->reg_errno || !(rp_access_flags(c->access) & IBV_ACCESS_REMOTE_READ))
		goto dereg;
	if (c->expect == RP_X_REFUSED)
		goto dereg; /* registered though it must not: nothing more to observe */

	if (read_compare(tp, mr, &m, remote, view, &o->baseline, &o->baseline_diff, o))
		goto dereg;

	if (c->mark == RP_MK_UFFD_WP) /* count only the mutation's faults from here */
		for (size_t u = 0; u < uffd.nunits; u++)
			__atomic_store_n(&uffd.faults[u], 0, __ATOMIC_SEQ_CST);
	at(rp_mutation_info(c->mutation)->name);
	ret = rp_mutate(c->mutation, &m, expect, seed, cfg->timeout_s * 1000, &mst, &step);
	if (ret) {
		set_err(o, ret, step);
		goto finish_mutation;
	}
	if (c->mark == RP_MK_UFFD_WP) {
		o->wp_write_faults = 0;
		for (size_t u = 0; u < uffd.nunits; u++) {
			unsigned int f = __atomic_load_n(&uffd.faults[u], __ATOMIC_SEQ_CST);
			bool marked = rp_marked(u * uffd.resolve, unit);

			o->wp_units += marked;
			o->wp_write_faults += (int)f;
			o->wp_write_bad += f != (marked ? 1u : 0u);
		}
	}
	at("RDMA READ after the mutation");
	memcpy(view, m.addr, m.len);
	o->view_diff = rp_first_diff(view, expect, m.len);
	read_compare(tp, mr, &m, remote, view, &o->data, &o->data_diff, o);

finish_mutation:
	rp_mutate_finish(&mst);
dereg:
	if (mr)
		rp_tp_dereg(tp, mr);
disarm:
	rp_uffd_wp_disarm(&uffd);
close_tp:
	rp_tp_close(tp);
free_bufs:
	free(pm_after);
	free(pm_before);
	free(view);
	free(remote);
	free(expect);
destroy_map:
	rp_map_destroy(&m);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run one case in a child; fills r->obs (including crash/timeout). */
static void run_one(const struct rp_config *cfg, const char *device, struct rp_kmsg *kmsg,
		    struct rp_result *r)
{
	struct rp_obs *o = &r->obs;
	bool reaped, killed = false;
	long deadline;
	size_t got = 0;
	int p[2], status = 0;
	pid_t pid;

	long long split0 = rp_vmstat("thp_split_pmd"), split1;
	char *prog;

	memset(o, 0, sizeof(*o));
	rp_kmsg_mark(kmsg);
	prog = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (prog == MAP_FAILED)
		prog = NULL;
	if (pipe2(p, O_CLOEXEC)) {
		o->valid = 1;
		set_err(o, -errno, "pipe");
		if (prog)
			munmap(prog, 4096);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		o->valid = 1;
		set_err(o, -errno, "fork (case child)");
		close(p[0]);
		close(p[1]);
		if (prog)
			munmap(prog, 4096);
		return;
	}
	if (!pid) {
		struct rp_obs mine;
		size_t done = 0;

		setpgid(0, 0);
		close(p[0]);
		progress = prog;
		rp_run_case_child(cfg, device, r->c, &mine);
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
	deadline = now_ms() + cfg->timeout_s * 1000L;
	while (got < sizeof(*o)) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			o->timed_out = 1;
			break;
		}
		n = read(p[0], (char *)o + got, sizeof(*o) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	if (o->timed_out)
		kill(-pid, SIGKILL), kill(pid, SIGKILL);
	if (got != sizeof(*o)) { /* no (complete) observation: keep only what the parent saw */
		int to = o->timed_out;

		memset(o, 0, sizeof(*o));
		o->timed_out = to;
		o->baseline_diff = o->data_diff = o->view_diff = -1;
		o->soft_dirty = o->pfn_changed = o->uffd_wp_events = -1;
	}
	/*
	 * The result is in (or the time is up): give the child a bounded moment to exit, then
	 * kill its group; never wait unbounded, a child stuck in the kernel is reported instead.
	 */
	deadline = now_ms() + 5000;
	reaped = false;
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
	} else if (WIFSIGNALED(status) && !o->timed_out && got != sizeof(*o)) {
		o->signal = WTERMSIG(status);
	}
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
