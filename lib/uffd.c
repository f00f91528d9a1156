// SPDX-License-Identifier: GPL-2.0
/* uffd.c - the userfaultfd write-protect fault counter; see uffd.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pagesize.h"
#include "uffd.h"

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

	while (!atomic_load(&u->stop)) {
		int r = poll(&pfd, 1, 50);
		uint64_t page;

		if (r <= 0)
			continue;
		if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		page = msg.arg.pagefault.address & ~(uint64_t)(rp_page_size() - 1);
		if (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			uint64_t unit = (page - (uintptr_t)u->addr) / u->resolve;
			int ret;

			/* count before resolving: resolving wakes the faulting thread */
			if (u->faults && unit < u->nunits)
				atomic_fetch_add(&u->faults[unit], 1);
			atomic_fetch_add(&u->wp_events, 1);
			page = (uintptr_t)u->addr + unit * u->resolve;
			ret = uffd_unprotect(u->uffd, page, u->resolve);
			if (ret)
				atomic_store(&u->handler_err, ret);
		} else {
			struct uffdio_zeropage z = { .range = { .start = page, .len = rp_page_size() } };

			atomic_fetch_add(&u->missing_events, 1);
			if (ioctl(u->uffd, UFFDIO_ZEROPAGE, &z) && errno != EEXIST)
				atomic_store(&u->handler_err, -errno);
		}
	}
	return NULL;
}

int rp_uffd_wp_arm(struct rp_uffd_wp *u, void *addr, size_t len, const char **step)
{
	return rp_uffd_wp_arm_marked(u, addr, len, len, rp_page_size(), step);
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
	return atomic_load(&u->wp_events);
}

void rp_uffd_wp_disarm(struct rp_uffd_wp *u)
{
	if (u->running) {
		atomic_store(&u->stop, true);
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
