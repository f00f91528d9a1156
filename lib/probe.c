// SPDX-License-Identifier: GPL-2.0
/* probe.c - page-state probes; see probe.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"

int rp_pagemap_read(const void *addr, size_t npages, uint64_t *out)
{
	off_t off = (off_t)((uintptr_t)addr / RP_BASE_PAGE) * 8;
	size_t want = npages * 8;
	ssize_t got;
	int fd, ret = 0;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, out, want, off);
	if (got < 0)
		ret = -errno;
	else if ((size_t)got != want)
		ret = -EIO;
	close(fd);
	return ret;
}

long long rp_pfn(const void *addr)
{
	uint64_t ent;
	int ret = rp_pagemap_read(addr, 1, &ent);

	if (ret)
		return ret;
	return (ent & RP_PM_PRESENT) ? (long long)(ent & RP_PM_PFN_MASK) : 0;
}

bool rp_pfns_visible(const uint64_t *pm, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((pm[i] & RP_PM_PRESENT) && (pm[i] & RP_PM_PFN_MASK))
			return true;
	return false;
}

int rp_count_soft_dirty(const uint64_t *pm, size_t n)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		c += !!(pm[i] & RP_PM_SOFT_DIRTY);
	return c;
}

int rp_count_pfn_changed(const uint64_t *before, const uint64_t *after, size_t n)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		c += (before[i] & RP_PM_PFN_MASK) != (after[i] & RP_PM_PFN_MASK);
	return c;
}

int rp_kpageflags(uint64_t pfn, uint64_t *flags)
{
	ssize_t got;
	int fd, ret = 0;

	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, flags, 8, (off_t)(pfn * 8));
	if (got < 0)
		ret = -errno;
	else if (got != 8)
		ret = -ENOENT;
	close(fd);
	return ret;
}

long long rp_vmstat(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long long v = -ENOENT;
	FILE *f;

	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long rp_smaps_kb(const void *addr, size_t len, const char *field)
{
	uintptr_t a = (uintptr_t)addr, e = a + len;
	unsigned long lo, hi;
	size_t n = strlen(field);
	bool in = false, found = false;
	char line[512];
	long sum = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = lo < e && hi > a;
			continue;
		}
		if (in && !strncmp(line, field, n)) {
			sum += strtol(line + n, NULL, 10);
			found = true;
		}
	}
	fclose(f);
	return found ? sum : -ENOENT;
}

int rp_soft_dirty_mark(void *addr, size_t len)
{
	size_t pmd = rp_thp_size();
	size_t align = pmd && len >= pmd ? pmd : RP_BASE_PAGE;
	size_t rlen = len + align;
	uintptr_t t;
	void *r, *p;
	int ret = 0;

	r = mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return -errno;
	t = ((uintptr_t)r + align - 1) & ~(uintptr_t)(align - 1);
	p = mremap(addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)t);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	p = mremap((void *)t, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
	if (p == MAP_FAILED)
		ret = -errno; /* the range is at t now: the caller's mapping is gone */
out:
	if (!ret)
		munmap(r, rlen);
	return ret;
}

int rp_clear_soft_dirty(void)
{
	int fd, ret = 0;

	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int rp_soft_dirty_selftest(char *why, size_t whylen)
{
	volatile unsigned char *p;
	uint64_t pm;
	int ret;

	p = mmap(NULL, RP_BASE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "soft-dirty self-check: mmap: %s", strerror(-ret));
		return ret;
	}
	p[0] = 1;
	ret = rp_clear_soft_dirty();
	if (ret) {
		snprintf(why, whylen, "clear_refs rejects 4 (%s): no soft-dirty tracking",
			 strerrorname_np(-ret) ?: "?");
		ret = -EOPNOTSUPP;
		goto unmap;
	}
	ret = rp_pagemap_read((const void *)p, 1, &pm);
	if (ret) {
		snprintf(why, whylen, "pagemap: %s", strerrorname_np(-ret) ?: "?");
		goto unmap;
	}
	if (pm & RP_PM_SOFT_DIRTY) {
		snprintf(why, whylen, "clear_refs 4 does not clear soft-dirty bit 55");
		ret = -EOPNOTSUPP;
		goto unmap;
	}
	p[0] = 2;
	ret = rp_pagemap_read((const void *)p, 1, &pm);
	if (ret) {
		snprintf(why, whylen, "pagemap: %s", strerrorname_np(-ret) ?: "?");
		goto unmap;
	}
	if (!(pm & RP_PM_SOFT_DIRTY)) {
		snprintf(why, whylen, "soft-dirty bit 55 never sets on a write");
		ret = -EOPNOTSUPP;
	}
unmap:
	munmap((void *)p, RP_BASE_PAGE);
	return ret;
}
