// SPDX-License-Identifier: GPL-2.0
/* mapshare.c - backings whose pages are shared with someone else: a forked child, KSM. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"
#include "map_int.h"
#include "probe.h"
#include "sysfile.h"

int rp_mapshare_fork(struct rp_map *m, int timeout_ms)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		/* hold the COW-shared pages until the case is done (EOF) or the bound ends */
		poll(&pfd, 1, timeout_ms);
		_exit(0);
	}
	close(p[0]);
	m->sharer = pid;
	m->sharer_ctl = p[1];
	return 0;
}

/*
 * MADV_MERGEABLE, start ksmd if it is stopped (and stop it again afterwards: run=0 keeps merged
 * pages merged), wait until every page maps one KSM page (kpageflags KPF_KSM), bounded.
 */
int rp_mapshare_ksm(struct rp_map *m, int timeout_ms, char *why, size_t whylen)
{
	static const char run_path[] = "/sys/kernel/mm/ksm/run";
	size_t n = rp_map_base_pages(m), i, merged = 0;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int waited_ms, bound = timeout_ms / 2 < 30000 ? timeout_ms / 2 : 30000;
	bool started = false;
	char run[16], sharing[32] = "?";
	uint64_t *pm, kpf;
	int ret;

	if (n < 2) {
		snprintf(why, whylen, "KSM needs at least two identical pages (--pages >= 2)");
		return -EOPNOTSUPP;
	}
	if (madvise(m->addr, m->len, MADV_MERGEABLE)) {
		ret = -errno;
		snprintf(why, whylen, "no KSM: madvise(MADV_MERGEABLE): %s", rp_errname(ret));
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	if (rp_sysfile_read(run_path, run, sizeof(run))) {
		snprintf(why, whylen, "no KSM (no %s)", run_path);
		return -EOPNOTSUPP;
	}
	pm = calloc(n, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	if (run[0] != '1') {
		const char *no = getenv("RDMAPIN_NO_KSMD");

		ret = no && *no ? -EPERM : rp_sysfile_write(run_path, "1");
		if (ret) {
			snprintf(why, whylen, "ksmd is stopped and rdmapin may not start it (%s: %s)",
				 no && *no ? "RDMAPIN_NO_KSMD is set" : run_path, rp_errname(ret));
			ret = -EOPNOTSUPP;
			goto out;
		}
		started = true;
	}
	for (waited_ms = 0; waited_ms <= bound; waited_ms += 20) {
		ret = rp_pagemap_read(m->addr, n, pm);
		if (ret)
			goto out;
		if (!rp_pfns_visible(pm, n)) {
			snprintf(why, whylen, "KSM merging cannot be verified: pagemap shows no PFNs "
				 "(needs CAP_SYS_ADMIN)");
			ret = -EOPNOTSUPP;
			goto out;
		}
		for (merged = 0, i = 0; i < n; i++)
			merged += (pm[i] & RP_PM_PRESENT) &&
				  (pm[i] & RP_PM_PFN_MASK) == (pm[0] & RP_PM_PFN_MASK) &&
				  !rp_kpageflags(pm[i] & RP_PM_PFN_MASK, &kpf) &&
				  (kpf & (1ULL << RP_KPF_KSM));
		if (merged == n)
			break;
		nanosleep(&ts, NULL);
	}
	rp_sysfile_read("/sys/kernel/mm/ksm/pages_sharing", sharing, sizeof(sharing));
	sharing[strcspn(sharing, "\n")] = 0;
	if (merged != n) {
		snprintf(why, whylen, "ksmd merged %zu/%zu pages within %d ms (pages_sharing %s)",
			 merged, n, bound, sharing);
		ret = -EOPNOTSUPP;
		goto out;
	}
	snprintf(m->verified, sizeof(m->verified), "KPF_KSM, one PFN, %d ms (pages_sharing %.12s)",
		 waited_ms, sharing);
	ret = 0;
out:
	if (started)
		rp_sysfile_write(run_path, "0");
	free(pm);
	return ret;
}
