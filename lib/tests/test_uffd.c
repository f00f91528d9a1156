// SPDX-License-Identifier: GPL-2.0
/*
 * test_uffd.c - the uffd-wp counter: reads raise no event, each first write to a
 * write-protected page raises exactly one, the handler resolves it (the write lands, nothing
 * hangs), and disarm returns promptly. Bounded by alarm(). Skips when uffd-wp is unavailable.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"
#include "unit.h"

int main(void)
{
	struct rp_uffd_wp u = RP_UFFD_WP_INIT;
	const char *step = NULL;
	unsigned char *p, v = 0;
	char why[128];
	int ret, fds[2];

	unit_begin();
	alarm(30); /* a deadlock must fail the test, not hang ctest */
	if (rp_uffd_wp_supported(why, sizeof(why))) {
		unit_skip("uffd_wp", why);
		return unit_done();
	}
	p = mmap(NULL, 4 * RP_BASE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	memset(p, 1, 4 * RP_BASE_PAGE);
	ret = rp_uffd_wp_arm(&u, p, 4 * RP_BASE_PAGE, &step);
	if (ret) {
		unit_skip("uffd_wp", step);
		return unit_done();
	}
	CHECK(1, "arm");
	for (int i = 0; i < 4; i++)
		v += p[i * RP_BASE_PAGE];
	CHECK(rp_uffd_wp_events(&u) == 0 && v == 4, "reads_raise_no_event");
	p[0] = 2;
	p[2 * RP_BASE_PAGE] = 3;
	p[2 * RP_BASE_PAGE + 1] = 4; /* already resolved: no second event */
	CHECK(rp_uffd_wp_events(&u) == 2, "two_pages_written_two_events # %ld",
	      rp_uffd_wp_events(&u));
	CHECK(p[0] == 2 && p[2 * RP_BASE_PAGE] == 3, "writes_landed");
	/* a write by the kernel (copy_to_user of read()) is delivered and counted too */
	ret = pipe(fds) == 0;
	v = 9;
	ret = ret && write(fds[1], &v, 1) == 1 && read(fds[0], p + 3 * RP_BASE_PAGE, 1) == 1;
	close(fds[0]);
	close(fds[1]);
	CHECK(ret && p[3 * RP_BASE_PAGE] == 9 && rp_uffd_wp_events(&u) == 3,
	      "kernel_write_counted # read() %s, byte %d, events %ld", ret ? "ok" : "failed",
	      p[3 * RP_BASE_PAGE], rp_uffd_wp_events(&u));
	CHECK(u.handler_err == 0, "handler_resolved_all");
	rp_uffd_wp_disarm(&u);
	CHECK(u.uffd == -1 && !u.running, "disarm");
	rp_uffd_wp_disarm(&u); /* idempotent */
	munmap(p, 4 * RP_BASE_PAGE);
	return unit_done();
}
