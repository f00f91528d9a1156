// SPDX-License-Identifier: GPL-2.0
/* pagesize.c - detected page sizes; see pagesize.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pagesize.h"
#include "sysfile.h"

static struct {
	size_t base, thp, hugetlb;
} sizes;
static pthread_once_t sizes_once = PTHREAD_ONCE_INIT;

static size_t meminfo_hugepagesize(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static void detect(void)
{
	char buf[32];
	long base = sysconf(_SC_PAGESIZE);

	sizes.base = base > 0 ? (size_t)base : 4096;
	if (!rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf,
			     sizeof(buf)))
		sizes.thp = strtoul(buf, NULL, 10);
	sizes.hugetlb = meminfo_hugepagesize();
}

size_t rp_page_size(void)
{
	pthread_once(&sizes_once, detect);
	return sizes.base;
}

size_t rp_thp_size(void)
{
	pthread_once(&sizes_once, detect);
	return sizes.thp;
}

size_t rp_hugetlb_size(void)
{
	pthread_once(&sizes_once, detect);
	return sizes.hugetlb;
}

size_t rp_huge_size(void)
{
	size_t t = rp_thp_size(), h = rp_hugetlb_size();

	return t > h ? t : h;
}

const char *rp_size_str(size_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB" };
	size_t v = bytes;
	int u = 0;

	while (u < 3 && v >= 1024 && !(v % 1024)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%zu %s", v, unit[u]);
	return buf;
}
