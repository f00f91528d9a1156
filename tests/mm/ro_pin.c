// SPDX-License-Identifier: GPL-2.0
/*
 * ro_pin - check what a R/O long-term pin (ibv_reg_mr without write access)
 * pins in COW and shared mappings, using pagemap instead of RDMA READ.
 *
 * For every case: map, read-fault (or otherwise populate), clear soft-dirty,
 * register an MR with IBV_ACCESS_REMOTE_READ only, look at the PFN, then make
 * the process write the memory (mprotect + store, /proc/self/mem for the
 * FOLL_FORCE case, pwrite for the shared file) and look again. If the PFN the process maps
 * changed after registration, the MR pins a page the process no longer maps:
 * STALE. Also report soft-dirty / uffd-wp bits and uffd-wp events.
 *
 * A R/O long-term pin must end up on an exclusive anonymous page in every COW
 * mapping (never-written anon = shared zeropage, THP huge zeropage, anon shared
 * with a child, tmpfs / memfd / hugetlb MAP_PRIVATE) and leave the page cache
 * page of a MAP_SHARED mapping alone, without setting soft-dirty, dropping
 * uffd-wp bits or raising uffd-wp events. On a kernel with the driver patches
 * but without the mm patches (drivers-only), the COW cases report STALE.
 *
 * Needs root (pagemap PFNs), RLIMIT_MEMLOCK, an RDMA device (rxe/siw), two
 * free 2 MiB huge pages for the hugetlb case. shmem_thp_private only gets a
 * page cache THP on kernels with CONFIG_BASE_FULL (MAX_PAGECACHE_ORDER).
 *
 * The backings, pagemap, soft-dirty and uffd-wp probes are lib/'s (rdmapin_common), the same
 * rdmapin uses; the case names below are ro_pin's own (tests/expectations names them).
 * Output: KTAP, exit 0 pass, 1 fail, 4 skip, 2 bad usage.
 * Usage: ro_pin [DEVICE [CASE_TIMEOUT_S]]: each case runs in a forked child with its own device
 * context; one still running after CASE_TIMEOUT_S (default 20) is killed and fails as TIMEOUT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mapping.h"
#include "memlock.h"
#include "probe.h"
#include "reap.h"

/* how the process writes the memory after the registration */
enum write_how { W_STORE, W_PROC_MEM, W_PWRITE };

static const struct ro_case {
	const char *name;
	enum rp_backing kind;
	bool uffd_wp;        /* write-protected with uffd-wp before the registration */
	enum write_how how;
} cases[] = {
	{ "anon_zero", RP_B_ANON_ZERO, false, W_STORE },
	{ "anon_thp_zero", RP_B_THP_ZERO, false, W_STORE },
	{ "anon_fork", RP_B_ANON_FORKED, false, W_STORE },
	{ "tmpfs_private", RP_B_TMPFS_PRIVATE, false, W_STORE },
	{ "memfd_private", RP_B_MEMFD_PRIVATE, false, W_STORE },
	{ "shmem_thp_private", RP_B_SHMEM_THP_PRIVATE, false, W_STORE },
	{ "hugetlb_private", RP_B_HUGETLB_FILE_PRIVATE, false, W_STORE },
	/* an O_RDWR file mapped MAP_SHARED|PROT_READ, written with pwrite() */
	{ "file_shared_ro", RP_B_FILE_SHARED_RW, false, W_PWRITE },
	{ "anon_zero_uffd_wp", RP_B_ANON_ZERO, true, W_STORE },
	{ "anon_zero_procmem", RP_B_ANON_ZERO, false, W_PROC_MEM },
	{ "tmpfs_private_uffd_wp", RP_B_TMPFS_PRIVATE, true, W_STORE },
	{ "hugetlb_private_uffd_wp", RP_B_HUGETLB_FILE_PRIVATE, true, W_STORE },
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static struct ibv_pd *pd;
static int test_nr;
static int failed;

static uint64_t pagemap(const void *addr)
{
	uint64_t ent;

	return rp_pagemap_read(addr, 1, &ent) ? 0 : ent;
}

/* The backing of c, populated and read-only (uffd-wp armed for the uffd cases). */
static int setup(const struct ro_case *c, struct rp_map *m, struct rp_uffd_wp *u,
		 int timeout_ms, char *why, size_t whylen)
{
	const char *step = "";
	char desc[200];
	int ret;

	ret = rp_map_create(m, c->kind, 4, 0x5a, timeout_ms, why, whylen);
	if (ret)
		return ret;
	ret = rp_map_make_ro(m);
	if (ret) {
		snprintf(why, whylen, "mprotect(PROT_READ): %s", strerror(-ret));
		return ret;
	}
	/* what the pages are; informational, the case runs whatever they are */
	if (rp_map_check(m, desc, sizeof(desc)))
		printf("# %-18s backing not verified: %s\n", c->name, desc);
	rp_map_describe(m, desc, sizeof(desc));
	printf("# %-18s %s\n", c->name, desc);
	if (!c->uffd_wp)
		return 0;
	ret = (rp_backing_info(c->kind)->flags & RP_BF_HUGETLB) ?
	      rp_uffd_wp_arm_marked(u, m->addr, m->len, m->len, m->len, &step) :
	      rp_uffd_wp_arm(u, m->addr, m->len, &step);
	if (ret) {
		snprintf(why, whylen, "userfaultfd wp unavailable (%s: %s)", step, strerror(-ret));
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The process writes one byte of its memory, the way the case says. */
static void process_write(const struct ro_case *c, struct rp_map *m, struct rp_uffd_wp *u)
{
	unsigned char *p = m->addr, b = 0x33;

	if (c->how == W_PWRITE) {
		if (pwrite(m->wfd, &b, 1, 0) != 1)
			perror("pwrite");
		return;
	}
	if (c->how == W_PROC_MEM) {
		int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

		/* FOLL_FORCE|FOLL_WRITE must still work on R/O mappings. */
		if (mfd < 0 || pwrite(mfd, &b, 1, (off_t)(uintptr_t)p) != 1)
			perror("pwrite /proc/self/mem");
		if (mfd >= 0)
			close(mfd);
		if (p[0] != 0x33)
			printf("# %s: /proc/self/mem write not visible\n", c->name);
		return;
	}
	if (c->uffd_wp)
		rp_uffd_wp_disarm(u); /* closing the uffd drops the write protection */
	if (mprotect(p, m->len, PROT_READ | PROT_WRITE))
		perror("mprotect");
	p[0] = b;
}

static void run(int k, int timeout_ms)
{
	const struct ro_case *c = &cases[k];
	struct rp_uffd_wp u = RP_UFFD_WP_INIT;
	const char *verdict, *bad = NULL;
	uint64_t before, reg, after;
	int sd = 0, wp = 0, ret;
	long events = -1;
	struct rp_map m;
	struct ibv_mr *mr;
	char why[200];
	size_t i, n;

	test_nr++;
	ret = setup(c, &m, &u, timeout_ms, why, sizeof(why));
	if (ret) {
		printf("ok %d %s # SKIP %s\n", test_nr, c->name, why);
		goto out;
	}
	n = rp_map_base_pages(&m);
	rp_clear_soft_dirty();
	before = pagemap(m.addr);
	if (!(before & RP_PM_PRESENT) || !(before & RP_PM_PFN_MASK)) {
		printf("ok %d %s # SKIP no PFN in pagemap (needs CAP_SYS_ADMIN)\n",
		       test_nr, c->name);
		goto out;
	}

	mr = ibv_reg_mr(pd, m.addr, m.len, IBV_ACCESS_REMOTE_READ);
	if (!mr) {
		printf("not ok %d %s # REFUSED reg_mr: %s\n", test_nr, c->name,
		       strerror(errno));
		failed++;
		goto out;
	}
	reg = pagemap(m.addr);
	for (i = 0; i < n; i++) {
		uint64_t e = pagemap(m.addr + i * RP_BASE_PAGE);

		sd += !!(e & RP_PM_SOFT_DIRTY);
		wp += !!(e & RP_PM_UFFD_WP);
	}
	if (c->uffd_wp)
		events = rp_uffd_wp_events(&u);

	process_write(c, &m, &u);
	after = pagemap(m.addr);

	if ((reg & RP_PM_PFN_MASK) != (after & RP_PM_PFN_MASK))
		verdict = "STALE";
	else
		verdict = "COHERENT";
	printf("# %-18s pfn before=%#llx reg=%#llx after=%#llx soft_dirty=%d uffd_wp_bits=%d uffd_events=%ld %s\n",
	       c->name, (unsigned long long)(before & RP_PM_PFN_MASK),
	       (unsigned long long)(reg & RP_PM_PFN_MASK),
	       (unsigned long long)(after & RP_PM_PFN_MASK), sd, wp, events, verdict);
	/* the first broken promise names the failure: the suite's expectations match it */
	if (strcmp(verdict, "COHERENT"))
		bad = verdict;
	else if (sd)
		bad = "SOFT_DIRTY registration set soft-dirty";
	else if (events > 0)
		bad = "UFFD_EVENT registration raised uffd-wp faults";
	else if (c->uffd_wp && wp != (int)n)
		bad = "UFFD_WP_LOST the unshared pages lost their uffd-wp bit";
	if (bad) {
		printf("not ok %d %s # %s\n", test_nr, c->name, bad);
		failed++;
	} else {
		printf("ok %d %s\n", test_nr, c->name);
	}
	ibv_dereg_mr(mr);
out:
	rp_uffd_wp_disarm(&u);
	rp_map_destroy(&m);
}

/* /proc/vmstat's thp_split_pmd: how often a PMD-mapped THP was split (a livelock shows). */
static long long thp_split_pmd(void)
{
	return rp_vmstat("thp_split_pmd");
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!name || !strcmp(name, ibv_get_device_name(list[i]))) {
			ctx = ibv_open_device(list[i]);
			break;
		}
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

/*
 * One case in a forked child with its own device context, so that a registration that never
 * returns (an unshare fault that loops) costs that case only: the parent kills it after
 * case_timeout seconds and reports it. Returns 1 if the case failed.
 */
static int run_forked(int k, const char *dev, int case_timeout)
{
	long long split0 = thp_split_pmd(), split1;
	int status = 0, ret, nr = k + 1;
	bool killed = false;
	pid_t pid;

	test_nr = k;	/* run() counts the case itself */
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("not ok %d %s # fork: %s\n", nr, cases[k].name, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		struct ibv_context *ctx = open_device(dev);

		if (!ctx || !(pd = ibv_alloc_pd(ctx))) {
			printf("not ok %d %s # cannot open %s in the case's process\n",
			       nr, cases[k].name, dev ? dev : "the RDMA device");
			_exit(1);
		}
		run(k, case_timeout * 1000);
		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	/* the bound is on the clock: under TCG a 10 ms sleep can take far longer */
	ret = rp_reap_status(pid, case_timeout * 1000, &status, &killed);
	if (killed) {
		/* SIGKILL ends even a task looping in the fault handler (it is killable) */
		split1 = thp_split_pmd();
		printf("# %-18s registration still running after %ds: killed%s; thp_split_pmd grew by %lld\n",
		       cases[k].name, case_timeout,
		       ret == -ETIMEDOUT ? " (and still there 5s later)" : "",
		       split0 >= 0 && split1 >= 0 ? split1 - split0 : -1LL);
		printf("not ok %d %s # TIMEOUT\n", nr, cases[k].name);
		return 1;
	}
	if (ret) {
		printf("not ok %d %s # waitpid: %s\n", nr, cases[k].name, strerror(-ret));
		return 1;
	}
	if (WIFSIGNALED(status)) {
		printf("not ok %d %s # the case's process died of signal %d\n", nr, cases[k].name,
		       WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;
	const char *dev = argc > 1 ? argv[1] : NULL;
	int i, nfailed = 0, case_timeout = 20;
	char *end;
	long t;

	if (argc > 2) {
		errno = 0;
		t = strtol(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || t < 1 || t > 3600) {
			fprintf(stderr, "ro_pin: timeout '%s': want 1..3600 seconds\n", argv[2]);
			return 2;
		}
		case_timeout = (int)t;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rp_memlock_raise(0, NULL); /* siw enforces RLIMIT_MEMLOCK even for root */
	printf("KTAP version 1\n");
	ctx = open_device(dev);
	if (!ctx) {
		printf("1..0 # SKIP no RDMA device%s%s\n", dev ? " " : "", dev ? dev : "");
		return 4;
	}
	printf("# device %s, %ds per case\n", ibv_get_device_name(ctx->device), case_timeout);
	ibv_close_device(ctx);
	printf("1..%d\n", NCASES);
	for (i = 0; i < NCASES; i++)
		nfailed += run_forked(i, dev, case_timeout);
	printf("# %d passed, %d failed\n", NCASES - nfailed, nfailed);
	return nfailed ? 1 : 0;
}
