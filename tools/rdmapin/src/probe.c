// SPDX-License-Identifier: GPL-2.0
/* probe.c - page-state probes; see probe.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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
	size_t align = len >= (2UL << 20) ? (2UL << 20) : RP_BASE_PAGE;
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

static int uffd_open(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

static int uffd_api(int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };

	if (ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	if (!(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP))
		return -EOPNOTSUPP;
	return 0;
}

int rp_uffd_wp_supported(char *why, size_t whylen)
{
	int uffd, ret;

	uffd = uffd_open();
	if (uffd < 0) {
		snprintf(why, whylen, "userfaultfd: %s", strerrorname_np(-uffd) ?: "?");
		return uffd;
	}
	ret = uffd_api(uffd);
	if (ret)
		snprintf(why, whylen, "userfaultfd has no write-protect support (%s)",
			 strerrorname_np(-ret) ?: "?");
	close(uffd);
	return ret;
}

static int uffd_unprotect(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_writeprotect wp = { .range = { .start = start, .len = len }, .mode = 0 };

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

static void *uffd_handler(void *arg)
{
	struct rp_uffd_wp *u = arg;
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffd_msg msg;

	while (!u->stop) {
		int r = poll(&pfd, 1, 50);
		uint64_t page;

		if (r <= 0)
			continue;
		if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		page = msg.arg.pagefault.address & ~(uint64_t)(RP_BASE_PAGE - 1);
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			uint64_t unit = (page - (uintptr_t)u->addr) / u->resolve;
			int ret;

			/* count before resolving: resolving wakes the faulting thread */
			if (u->faults && unit < u->nunits)
				__atomic_add_fetch(&u->faults[unit], 1, __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&u->wp_events, 1, __ATOMIC_SEQ_CST);
			page = (uintptr_t)u->addr + unit * u->resolve;
			ret = uffd_unprotect(u->uffd, page, u->resolve);
			if (ret)
				u->handler_err = ret;
		} else {
			struct uffdio_zeropage z = { .range = { .start = page, .len = RP_BASE_PAGE } };

			__atomic_add_fetch(&u->missing_events, 1, __ATOMIC_SEQ_CST);
			if (ioctl(u->uffd, UFFDIO_ZEROPAGE, &z) && errno != EEXIST)
				u->handler_err = -errno;
		}
	}
	return NULL;
}

int rp_uffd_wp_arm(struct rp_uffd_wp *u, void *addr, size_t len, const char **step)
{
	return rp_uffd_wp_arm_marked(u, addr, len, len, RP_BASE_PAGE, step);
}

int rp_uffd_wp_arm_marked(struct rp_uffd_wp *u, void *addr, size_t len, size_t mark_unit,
			  size_t resolve, const char **step)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int ret;

	memset(u, 0, sizeof(*u));
	u->uffd = -1;
	u->addr = addr;
	u->len = len;
	u->resolve = resolve;
	u->nunits = len / resolve;
	u->faults = calloc(u->nunits, sizeof(*u->faults));
	if (!u->faults) {
		*step = "calloc(uffd fault counters)";
		return -ENOMEM;
	}
	u->uffd = uffd_open();
	if (u->uffd < 0) {
		*step = "userfaultfd";
		ret = u->uffd;
		u->uffd = -1;
		goto close_uffd;
	}
	ret = uffd_api(u->uffd);
	if (ret) {
		*step = "UFFDIO_API(PAGEFAULT_FLAG_WP)";
		goto close_uffd;
	}
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg)) {
		ret = -errno;
		*step = "UFFDIO_REGISTER(MODE_WP)";
		goto close_uffd;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_WRITEPROTECT))) {
		ret = -EOPNOTSUPP;
		*step = "UFFDIO_REGISTER: no UFFDIO_WRITEPROTECT on this range";
		goto close_uffd;
	}
	for (size_t off = 0; off < len; off += mark_unit) {
		if (!rp_marked(off, mark_unit))
			continue;
		wp.range.start = (uintptr_t)addr + off;
		wp.range.len = mark_unit < len - off ? mark_unit : len - off;
		if (ioctl(u->uffd, UFFDIO_WRITEPROTECT, &wp)) {
			ret = -errno;
			*step = "UFFDIO_WRITEPROTECT";
			goto close_uffd;
		}
	}
	ret = -pthread_create(&u->thread, NULL, uffd_handler, u);
	if (ret) {
		*step = "pthread_create(uffd handler)";
		goto close_uffd;
	}
	u->running = true;
	return 0;

close_uffd:
	if (u->uffd >= 0)
		close(u->uffd); /* also unregisters and drops the write protection */
	u->uffd = -1;
	free(u->faults);
	u->faults = NULL;
	return ret;
}

long rp_uffd_wp_events(const struct rp_uffd_wp *u)
{
	return __atomic_load_n(&u->wp_events, __ATOMIC_SEQ_CST);
}

void rp_uffd_wp_disarm(struct rp_uffd_wp *u)
{
	if (u->running) {
		u->stop = 1;
		pthread_join(u->thread, NULL);
		u->running = false;
	}
	if (u->uffd >= 0) {
		close(u->uffd);
		u->uffd = -1;
	}
	free(u->faults);
	u->faults = NULL;
}
