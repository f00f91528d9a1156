// SPDX-License-Identifier: GPL-2.0
/*
 * test_probe.c - the page-state probes on the host: soft-dirty is cleared by clear_refs and set
 * by exactly the pages written, PFN changes are counted (zeropage -> written page), and the
 * kernel-log matcher knows the problem words. Soft-dirty parts skip when the kernel lacks it.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>

#include "kmsg.h"
#include "probe.h"
#include "unit.h"

int main(void)
{
	uint64_t before[4], after[4];
	unsigned char *p;
	char why[128];
	int ret, sd;

	unit_begin();
	p = mmap(NULL, 4 * RP_BASE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	madvise(p, 4 * RP_BASE_PAGE, MADV_NOHUGEPAGE);

	/* PFN probe: read faults map the zeropage, a write replaces exactly that page */
	for (int i = 0; i < 4; i++)
		(void)*(volatile unsigned char *)(p + i * RP_BASE_PAGE);
	CHECK(!rp_pagemap_read(p, 4, before), "pagemap_read");
	if (!rp_pfns_visible(before, 4)) {
		unit_skip("pfn_changed", "pagemap shows no PFNs (not root)");
	} else {
		p[2 * RP_BASE_PAGE] = 1;
		rp_pagemap_read(p, 4, after);
		CHECK(rp_count_pfn_changed(before, after, 4) == 1, "pfn_changed_counts_one_write");
		CHECK(rp_count_pfn_changed(before, before, 4) == 0, "pfn_changed_zero_when_same");
	}

	/* soft-dirty: self-check, then exactly the written pages */
	ret = rp_soft_dirty_selftest(why, sizeof(why));
	if (ret) {
		unit_skip("soft_dirty", why);
	} else {
		CHECK(1, "soft_dirty_selftest");
		memset(p, 7, 4 * RP_BASE_PAGE);
		CHECK(!rp_clear_soft_dirty(), "clear_refs_4");
		rp_pagemap_read(p, 4, after);
		sd = rp_count_soft_dirty(after, 4);
		CHECK(sd == 0, "soft_dirty_cleared # %d", sd);
		p[0] = 1;
		p[3 * RP_BASE_PAGE] = 1;
		rp_pagemap_read(p, 4, after);
		sd = rp_count_soft_dirty(after, 4);
		CHECK(sd == 2, "soft_dirty_counts_written_pages # %d", sd);
		/* a read-only mapping read after clear_refs stays clean */
		mprotect(p, 4 * RP_BASE_PAGE, PROT_READ);
		rp_clear_soft_dirty();
		for (int i = 0; i < 4; i++)
			(void)*(volatile unsigned char *)(p + i * RP_BASE_PAGE);
		rp_pagemap_read(p, 4, after);
		CHECK(rp_count_soft_dirty(after, 4) == 0, "soft_dirty_not_set_by_reads");
	}
	munmap(p, 4 * RP_BASE_PAGE);

	/* kernel log matcher */
	CHECK(rp_kmsg_is_issue("WARNING: CPU: 0 PID: 1 at mm/gup.c:1234"), "kmsg_warning");
	CHECK(rp_kmsg_is_issue("BUG: KASAN: use-after-free in ib_umem_get"), "kmsg_kasan");
	CHECK(rp_kmsg_is_issue("WARNING: possible circular locking dependency detected"),
	      "kmsg_lockdep");
	CHECK(!rp_kmsg_is_issue("rdma_rxe: loaded"), "kmsg_benign");
	return unit_done();
}
