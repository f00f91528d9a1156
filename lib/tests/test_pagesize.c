// SPDX-License-Identifier: GPL-2.0
/*
 * test_pagesize.c - the small parts of lib/: page sizes are detected (sysconf, the THP PMD size
 * of sysfs, Hugepagesize of /proc/meminfo, read here independently), huge backings use them,
 * sizes print as "2 MiB", errno names, backing names, RLIMIT_MEMLOCK, a /sys read and the
 * bounded reap of a child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errname.h"
#include "mapping.h"
#include "memlock.h"
#include "pagesize.h"
#include "reap.h"
#include "sysfile.h"
#include "unit.h"

/* what a shell would read: `grep Hugepagesize /proc/meminfo`, in bytes; 0 if none */
static size_t meminfo_huge(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Hugepagesize:", 13))
			kb = strtoul(line + 13, NULL, 10);
	if (f)
		fclose(f);
	return kb * 1024;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* a child that exits is reaped, one that never does is killed, a stranger is an error */
static void check_reap(void)
{
	pid_t pid = fork();
	long t0;
	int ret;

	if (!pid)
		_exit(0);
	CHECK(pid > 0 && rp_reap(pid, 2000) == 0, "reap_exiting_child");
	pid = fork();
	if (!pid) {
		for (;;)
			pause();
	}
	t0 = now_ms();
	ret = pid > 0 ? rp_reap(pid, 100) : -1;
	CHECK(ret == 0 && now_ms() - t0 < 3000, "reap_kills_after_grace # %d after %ld ms", ret,
	      now_ms() - t0);
	CHECK(rp_reap(1, 10) == -ECHILD, "reap_not_our_child");
}

/* rp_reap_status hands back the wait status and whether SIGKILL was needed */
static void check_reap_status(void)
{
	bool killed = true;
	int status = 0;
	pid_t pid = fork();

	if (!pid)
		_exit(7);
	CHECK(pid > 0 && rp_reap_status(pid, 2000, &status, &killed) == 0 && !killed &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 7, "reap_status_exit_code");
	pid = fork();
	if (!pid) {
		for (;;)
			pause();
	}
	CHECK(pid > 0 && rp_reap_status(pid, 100, &status, &killed) == 0 && killed &&
	      WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "reap_status_killed");
}

int main(void)
{
	char buf[64], sz[16];
	unsigned long long lim;
	size_t thp = 0;

	unit_begin();
	CHECK(rp_page_size() == (size_t)sysconf(_SC_PAGESIZE), "base_page # %zu",
	      rp_page_size());
	if (!rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf,
			     sizeof(buf)))
		thp = strtoul(buf, NULL, 10);
	CHECK(rp_thp_size() == thp, "thp_size_is_hpage_pmd_size # %zu, sysfs %zu", rp_thp_size(),
	      thp);
	CHECK(rp_hugetlb_size() == meminfo_huge(), "hugetlb_size_is_meminfo # %zu",
	      rp_hugetlb_size());
	CHECK(rp_huge_size() >= rp_thp_size() && rp_huge_size() >= rp_hugetlb_size(),
	      "huge_size_is_the_larger");
	CHECK(rp_map_page_size(RP_B_THP_ZERO) == rp_thp_size() &&
	      rp_map_page_size(RP_B_HUGETLB_PRIVATE) == rp_hugetlb_size() &&
	      rp_map_page_size(RP_B_ANON_ZERO) == rp_page_size(), "kinds_use_detected_sizes");

	CHECK(!strcmp(rp_size_str(4096, sz, sizeof(sz)), "4 KiB"), "size_str_4k # %s", sz);
	CHECK(!strcmp(rp_size_str(2UL << 20, sz, sizeof(sz)), "2 MiB"), "size_str_2m # %s", sz);
	CHECK(!strcmp(rp_size_str(1UL << 30, sz, sizeof(sz)), "1 GiB"), "size_str_1g # %s", sz);
	CHECK(!strcmp(rp_size_str(5000, sz, sizeof(sz)), "5000 B"), "size_str_odd # %s", sz);

	CHECK(!strcmp(rp_errname(EFAULT), "EFAULT") && !strcmp(rp_errname(-EACCES), "EACCES"),
	      "errname");
	CHECK(!strcmp(rp_errname(0), ""), "errname_zero");
	CHECK(!strcmp(rp_errname(4000), "errno 4000"), "errname_unknown # %s", rp_errname(4000));

	CHECK(rp_backing_by_name("file_private") == RP_B_FILE_PRIVATE &&
	      rp_backing_by_name("anon_zero") == RP_B_ANON_ZERO &&
	      rp_backing_by_name("nope") == -1 && !rp_backing_info(RP_B__COUNT),
	      "backing_names");
	for (int k = 0; k < RP_B__COUNT; k++)
		if (!rp_backing_info(k)->name || !rp_backing_info(k)->desc ||
		    rp_backing_by_name(rp_backing_info(k)->name) != k)
			CHECK(0, "backing_table # kind %d", k);

	CHECK(rp_memlock_raise(0, &lim) == 0 && lim > 0, "memlock_raise # %llu", lim);
	CHECK(rp_sysfile_read("/nonexistent/knob", buf, sizeof(buf)) == -ENOENT,
	      "sysfile_missing");
	check_reap();
	check_reap_status();
	return unit_done();
}
