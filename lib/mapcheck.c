// SPDX-License-Identifier: GPL-2.0
/* mapcheck.c - rp_map_check(): is a backing what its kind claims, per pagemap and kpageflags. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errname.h"
#include "mapping.h"
#include "probe.h"

/* Are the PFNs of every huge page contiguous and aligned to it, as for PMD-mapped huge pages? */
static bool pfns_huge(const uint64_t *pm, size_t n, size_t huge)
{
	const size_t per = huge / RP_BASE_PAGE;
	uint64_t base = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % per == 0) {
			base = pm[i] & RP_PM_PFN_MASK;
			if (base % per)
				return false;
		} else if ((pm[i] & RP_PM_PFN_MASK) != base + i % per) {
			return false;
		}
	}
	return true;
}

int rp_map_check(struct rp_map *m, char *why, size_t whylen)
{
	const struct rp_backing_info *bi = rp_backing_info(m->kind);
	size_t n = rp_map_base_pages(m), i;
	uint64_t *pm, kpf = 0;
	bool pfns;
	int ret, kret = -ENOENT;

	pm = calloc(n, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	ret = rp_pagemap_read(m->addr, n, pm);
	if (ret) {
		snprintf(why, whylen, "pagemap: %s", rp_errname(ret));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!(pm[i] & RP_PM_PRESENT)) {
			snprintf(why, whylen, "%s: page %zu not present after populating",
				 bi->name, i);
			ret = -EPROTO;
			goto out;
		}
	}
	pfns = rp_pfns_visible(pm, n);
	if (pfns)
		kret = rp_kpageflags(pm[0] & RP_PM_PFN_MASK, &kpf);
	ret = -EPROTO;
	switch (m->kind) {
	case RP_B_ANON_ZERO:
		for (i = 1; pfns && i < n; i++)
			if ((pm[i] & RP_PM_PFN_MASK) != (pm[0] & RP_PM_PFN_MASK))
				goto bad;
		if (!kret && !(kpf & (1ULL << RP_KPF_ZERO_PAGE)))
			goto bad;
		snprintf(m->verified, sizeof(m->verified), "%s", !pfns ? "unverified (no PFNs)" :
			 kret ? "one PFN for all pages" : "KPF_ZERO_PAGE");
		break;
	case RP_B_THP_ZERO:
	case RP_B_THP_POPULATED:
	case RP_B_HUGETLB_PRIVATE:
	case RP_B_HUGETLB_FILE_PRIVATE: {
		bool hugetlb = bi->flags & RP_BF_HUGETLB;
		uint64_t need = hugetlb ? 1ULL << RP_KPF_HUGE :
				m->kind == RP_B_THP_ZERO ?
				(1ULL << RP_KPF_THP) | (1ULL << RP_KPF_ZERO_PAGE) : 1ULL << RP_KPF_THP;

		if ((pfns && !pfns_huge(pm, n, m->page_size)) || (!kret && (kpf & need) != need)) {
			if (hugetlb)
				goto bad;
			snprintf(why, whylen, "%s", m->kind == RP_B_THP_ZERO ?
				 "a read fault did not map the huge zeropage" :
				 "a write fault did not allocate a THP (no free huge page block?)");
			ret = -EOPNOTSUPP;
			goto out;
		}
		snprintf(m->verified, sizeof(m->verified), "%s", !pfns ? "unverified (no PFNs)" :
			 kret ? "huge-page-aligned contiguous PFNs" :
			 hugetlb ? "KPF_HUGE" :
			 m->kind == RP_B_THP_ZERO ? "KPF_THP|KPF_ZERO_PAGE" : "KPF_THP");
		break;
	}
	case RP_B_SHMEM_THP_PRIVATE: {
		long pmd_kb = rp_smaps_kb(m->addr, m->len, "ShmemPmdMapped:");

		ret = -EOPNOTSUPP;
		for (i = 0; i < n; i++)
			if (!(pm[i] & RP_PM_FILE))
				goto bad;
		if (!pfns || kret) {
			snprintf(why, whylen, "a page-cache THP cannot be verified without PFNs and "
				 "/proc/kpageflags (needs CAP_SYS_ADMIN)");
			goto out;
		}
		if (!(kpf & (1ULL << RP_KPF_THP)) || (kpf & (1ULL << RP_KPF_ANON)) ||
		    !pfns_huge(pm, n, m->page_size)) {
			snprintf(why, whylen, "the tmpfs file got no THP in the page cache (kpageflags "
				 "0x%llx: THP and not anon wanted)", (unsigned long long)kpf);
			goto out;
		}
		if (pmd_kb < (long)(m->len >> 10)) {
			snprintf(why, whylen, "the page-cache THP is not mapped by a PMD (smaps "
				 "ShmemPmdMapped %ld kB)", pmd_kb);
			goto out;
		}
		snprintf(m->verified, sizeof(m->verified), "KPF_THP, not anon, ShmemPmdMapped %ld kB",
			 pmd_kb);
		break;
	}
	case RP_B_KSM_MERGED:
		for (i = 0; pfns && i < n; i++) {
			uint64_t f = 0;

			if ((pm[i] & RP_PM_FILE) ||
			    (pm[i] & RP_PM_PFN_MASK) != (pm[0] & RP_PM_PFN_MASK) ||
			    rp_kpageflags(pm[i] & RP_PM_PFN_MASK, &f) || !(f & (1ULL << RP_KPF_KSM)))
				goto bad;
		}
		if (!m->verified[0])
			snprintf(m->verified, sizeof(m->verified), "unverified (no PFNs)");
		break;
	case RP_B_THP_PTE_FORKED:
	case RP_B_THP_PTE_MPROTECT: {
		long pmd_kb = rp_smaps_kb(m->addr, m->len, "AnonHugePages:");

		if ((pfns && !pfns_huge(pm, n, m->page_size)) ||
		    (!kret && !(kpf & (1ULL << RP_KPF_THP)))) {
			snprintf(why, whylen, "a write fault did not allocate a THP (no free huge "
				 "page block?)");
			ret = -EOPNOTSUPP;
			goto out;
		}
		if (pmd_kb != 0) {
			i = 0;
			goto bad; /* still mapped by a PMD */
		}
		for (i = 0; i < n; i++) {
			bool excl = m->kind == RP_B_THP_PTE_FORKED && i >= n / 2;

			if ((pm[i] & RP_PM_FILE) || !!(pm[i] & RP_PM_EXCLUSIVE) != excl)
				goto bad;
		}
		snprintf(m->verified, sizeof(m->verified), "%s, PTE-mapped, %s",
			 !pfns ? "THP?" : kret ? "contiguous PFNs" : "KPF_THP",
			 m->kind == RP_B_THP_PTE_FORKED ? "lower half shared, upper exclusive" :
			 "shared with the child");
		break;
	}
	case RP_B_ANON_POPULATED:
	case RP_B_ANON_UFFD_WP:
	case RP_B_ANON_FORKED: {
		bool excl = m->kind != RP_B_ANON_FORKED;

		for (i = 0; i < n; i++)
			if ((pm[i] & RP_PM_FILE) || !!(pm[i] & RP_PM_EXCLUSIVE) != excl)
				goto bad;
		snprintf(m->verified, sizeof(m->verified), "pagemap: anon, %s",
			 excl ? "exclusively mapped" : "mapped by parent and child");
		break;
	}
	default: /* file backed, private or shared: page-cache pages */
		for (i = 0; i < n; i++)
			if (!(pm[i] & RP_PM_FILE))
				goto bad;
		snprintf(m->verified, sizeof(m->verified), "pagemap: page-cache pages");
		break;
	}
	ret = 0;
	goto out;
bad:
	snprintf(why, whylen, "%s: page %zu is not what the kind claims (pagemap 0x%016llx%s)",
		 bi->name, i < n ? i : 0, (unsigned long long)pm[i < n ? i : 0],
		 kret ? "" : ", kpageflags checked");
out:
	free(pm);
	return ret;
}
