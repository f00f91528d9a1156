// SPDX-License-Identifier: GPL-2.0
/*
 * test_mapping.c - every backing kind is what it claims, checked against pagemap/kpageflags
 * directly (not only through rp_map_check()), it is read-only after rp_map_make_ro(), and
 * rp_map_check() catches a mapping that is not what it claims. Kinds the host cannot provide
 * (no free huge pages, THP off) are skipped with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mapping.h"
#include "pattern.h"
#include "probe.h"
#include "unit.h"

/* the permissions /proc/self/maps shows for addr, e.g. "r--p" */
static void perms(const void *addr, char out[5])
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512], p[5];
	FILE *f = fopen("/proc/self/maps", "r");

	strcpy(out, "????");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && a >= lo && a < hi) {
			memcpy(out, p, 5);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void check_kind(enum rp_backing k, bool pfns)
{
	const struct rp_backing_info *bi = rp_backing_info(k);
	uint64_t *pm = NULL, kpf;
	unsigned char *buf = NULL;
	struct rp_map m;
	char why[192], p[5];
	size_t n, i;
	bool ok;
	int ret;

	ret = rp_map_create(&m, k, 4, 42, 10000, why, sizeof(why));
	if (ret == -EOPNOTSUPP || (ret == -ENOMEM && (bi->flags & RP_BF_HUGETLB))) {
		unit_skip(bi->name, why);
		rp_map_destroy(&m);
		return;
	}
	CHECK(!ret, "%s.create # %s", bi->name, ret ? why : "");
	if (ret)
		return;
	n = rp_map_base_pages(&m);
	CHECK(n == ((bi->flags & (RP_BF_THP | RP_BF_HUGETLB)) ?
		    rp_map_page_size(k) / RP_BASE_PAGE : 4), "%s.size", bi->name);
	pm = calloc(n, sizeof(*pm));
	buf = malloc(m.len);
	if (!pm || !buf) {
		CHECK(0, "%s.calloc", bi->name);
		goto out;
	}
	CHECK(!rp_map_make_ro(&m), "%s.make_ro", bi->name);
	perms(m.addr, p);
	CHECK(p[0] == 'r' && p[1] == '-', "%s.maps_read_only # %s", bi->name, p);
	ret = rp_map_check(&m, why, sizeof(why));
	if (ret == -EOPNOTSUPP) {
		unit_skip(bi->name, why);
		goto out;
	}
	CHECK(!ret, "%s.check # %s", bi->name, ret ? why : m.verified);

	/* content: step-0 pattern, or zeros for never-written kinds */
	if (n == 4) {
		rp_map_initial(k, buf, m.len, 42);
		CHECK(!memcmp(buf, m.addr, m.len), "%s.content", bi->name);
	}

	/* independent pagemap assertions */
	CHECK(!rp_pagemap_read(m.addr, n, pm), "%s.pagemap", bi->name);
	for (ok = true, i = 0; i < n; i++)
		ok &= !!(pm[i] & RP_PM_PRESENT);
	CHECK(ok, "%s.present", bi->name);
	if (!pfns) {
		unit_skip(bi->name, "pagemap shows no PFNs (not root)");
	} else if (k == RP_B_ANON_ZERO) {
		for (ok = true, i = 1; i < n; i++)
			ok &= (pm[i] & RP_PM_PFN_MASK) == (pm[0] & RP_PM_PFN_MASK);
		CHECK(ok, "%s.one_pfn_for_all", bi->name);
		if (!rp_kpageflags(pm[0] & RP_PM_PFN_MASK, &kpf))
			CHECK(kpf & (1ULL << RP_KPF_ZERO_PAGE), "%s.kpf_zero_page", bi->name);
	} else if (bi->flags & (RP_BF_THP | RP_BF_HUGETLB)) {
		for (ok = true, i = 1; i < n; i++)
			ok &= (pm[i] & RP_PM_PFN_MASK) == (pm[0] & RP_PM_PFN_MASK) + i;
		CHECK(ok, "%s.contiguous_pfns", bi->name);
		if (!rp_kpageflags(pm[0] & RP_PM_PFN_MASK, &kpf))
			CHECK(kpf & (1ULL << (bi->flags & RP_BF_HUGETLB ? RP_KPF_HUGE : RP_KPF_THP)),
			      "%s.kpf_huge", bi->name);
	} else if (bi->flags & RP_BF_ANON) {
		bool excl = k != RP_B_ANON_FORKED && !(bi->flags & RP_BF_KSM);

		for (ok = true, i = 0; i < n; i++)
			ok &= !(pm[i] & RP_PM_FILE) && !!(pm[i] & RP_PM_EXCLUSIVE) == excl;
		CHECK(ok, "%s.anon_%s", bi->name, excl ? "exclusive" : "shared_with_child");
	} else {
		for (ok = true, i = 0; i < n; i++)
			ok &= !!(pm[i] & RP_PM_FILE);
		CHECK(ok, "%s.page_cache", bi->name);
	}
	if (k == RP_B_TMPFS_PRIVATE)
		CHECK(!strcmp(m.fsname, "tmpfs"), "%s.on_tmpfs # %s", bi->name, m.fsname);
out:
	free(pm);
	free(buf);
	rp_map_destroy(&m);
}

/* rp_map_check() must be able to fail: break each claim and expect -EPROTO */
static void check_negative(void)
{
	struct rp_map m;
	char why[192];
	int ret;

	ret = rp_map_create(&m, RP_B_ANON_ZERO, 4, 1, 10000, why, sizeof(why));
	CHECK(!ret, "negative.create");
	m.addr[RP_BASE_PAGE] = 1; /* a written page is no zeropage */
	ret = rp_map_check(&m, why, sizeof(why));
	CHECK(ret == -EPROTO, "negative.written_page_is_not_zeropage # %s", why);
	rp_map_destroy(&m);

	ret = rp_map_create(&m, RP_B_ANON_POPULATED, 4, 1, 10000, why, sizeof(why));
	CHECK(!ret, "negative.create_populated");
	m.kind = RP_B_ANON_FORKED; /* claims sharing with a child that does not exist */
	ret = rp_map_check(&m, why, sizeof(why));
	CHECK(ret == -EPROTO, "negative.exclusive_page_is_not_forked # %s", why);
	m.kind = RP_B_FILE_SHARED_RW;
	ret = rp_map_check(&m, why, sizeof(why));
	CHECK(ret == -EPROTO, "negative.anon_page_is_not_page_cache # %s", why);
	m.kind = RP_B_ANON_POPULATED;
	rp_map_destroy(&m);
}

/* rp_map_create_len(): lengths it refuses, and several pages or huge pages where it may */
static void check_len(void)
{
	struct rp_map m;
	char why[192];
	int ret;

	ret = rp_map_create_len(&m, RP_B_ANON_POPULATED, 3 * RP_BASE_PAGE, 1, 10000, why,
				sizeof(why));
	ret = ret ? ret : m.len == 3 * RP_BASE_PAGE ? rp_map_check(&m, why, sizeof(why)) : -ERANGE;
	CHECK(!ret, "len.anon_3_pages # %d %s", ret, why);
	rp_map_destroy(&m);
	ret = rp_map_create_len(&m, RP_B_ANON_POPULATED, 5000, 1, 10000, why, sizeof(why));
	CHECK(ret == -EINVAL, "len.not_a_page_multiple # %d", ret);
	rp_map_destroy(&m);
	ret = rp_map_create_len(&m, RP_B_THP_POPULATED, 3 * RP_BASE_PAGE, 1, 10000, why,
				sizeof(why));
	CHECK(ret == -EINVAL, "len.thp_not_a_huge_multiple # %d", ret);
	rp_map_destroy(&m);
	ret = rp_map_create_len(&m, RP_B_THP_PTE_FORKED, 2 * RP_HUGE_SIZE, 1, 10000, why,
				sizeof(why));
	CHECK(ret == -EINVAL, "len.pte_kind_takes_one_huge_page # %d", ret);
	rp_map_destroy(&m);
	ret = rp_map_create_len(&m, RP_B_THP_POPULATED, 2 * RP_HUGE_SIZE, 1, 10000, why,
				sizeof(why));
	if (ret == -EOPNOTSUPP) {
		unit_skip("len.thp_two_huge_pages", why);
	} else {
		CHECK(!ret && m.len == 2 * RP_HUGE_SIZE && !((uintptr_t)m.addr % RP_HUGE_SIZE) &&
		      rp_map_mark_unit(&m) == RP_HUGE_SIZE,
		      "len.thp_two_huge_pages # %d %s", ret, ret ? why : "");
		ret = ret ? ret : rp_map_check(&m, why, sizeof(why));
		if (ret == -EOPNOTSUPP)
			unit_skip("len.thp_two_huge_pages_check", why);
		else
			CHECK(!ret, "len.thp_two_huge_pages_check # %s", why);
	}
	rp_map_destroy(&m);
}

int main(void)
{
	uint64_t pm;
	bool pfns;
	int k;
	volatile unsigned char probe_page[1] = { 1 };

	unit_begin();
	setenv("RDMAPIN_NO_KSMD", "1", 1); /* never start the host's ksmd from a unit test */
	pfns = !rp_pagemap_read((const void *)probe_page, 1, &pm) && rp_pfns_visible(&pm, 1);
	for (k = 0; k < RP_B__COUNT; k++)
		check_kind(k, pfns);
	check_len();
	if (pfns)
		check_negative();
	else
		unit_skip("negative", "pagemap shows no PFNs (not root)");
	return unit_done();
}
