/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.h - page-state probes: /proc/self/pagemap (PFN, soft-dirty bit 55, exclusive, file),
 * /proc/kpageflags, soft-dirty reset through /proc/self/clear_refs, /proc/vmstat counters and
 * /proc/self/smaps fields. The userfaultfd write-protect fault counter has its own header,
 * uffd.h, included here for the callers that know both as "the probes".
 *
 * Everything works in base pages (RP_BASE_PAGE: one pagemap entry per base page, also inside
 * THPs and hugetlb pages). Functions return 0 / a count, or a negative errno. Nothing prints.
 */
#ifndef RDMAPIN_PROBE_H
#define RDMAPIN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pagesize.h"
#include "uffd.h"

/* the base page size, detected (pagesize.h): not a constant expression */
#define RP_BASE_PAGE rp_page_size()

#define RP_PM_PFN_MASK ((1ULL << 55) - 1)
#define RP_PM_SOFT_DIRTY (1ULL << 55)
#define RP_PM_EXCLUSIVE (1ULL << 56)
#define RP_PM_UFFD_WP (1ULL << 57)
#define RP_PM_FILE (1ULL << 61)
#define RP_PM_SWAP (1ULL << 62)
#define RP_PM_PRESENT (1ULL << 63)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define RP_KPF_ANON 12
#define RP_KPF_HUGE 17
#define RP_KPF_KSM 21
#define RP_KPF_THP 22
#define RP_KPF_ZERO_PAGE 24

/* rp_pagemap_read - the pagemap entries of npages base pages starting at addr. */
int rp_pagemap_read(const void *addr, size_t npages, uint64_t *out);

/*
 * rp_pfn - the PFN mapped at addr: > 0, 0 when the page is not present (or PFNs are hidden
 * from this process), or a negative errno.
 */
long long rp_pfn(const void *addr);

/* rp_pfns_visible - whether the entries carry PFNs (root, or CAP_SYS_ADMIN). */
bool rp_pfns_visible(const uint64_t *pm, size_t n);

/* rp_count_soft_dirty - entries with bit 55 set. */
int rp_count_soft_dirty(const uint64_t *pm, size_t n);

/* rp_count_pfn_changed - entries whose PFN differs between before and after. */
int rp_count_pfn_changed(const uint64_t *before, const uint64_t *after, size_t n);

/* rp_kpageflags - the kpageflags word of pfn (-EACCES/-ENOENT without access). */
int rp_kpageflags(uint64_t pfn, uint64_t *flags);

/*
 * rp_vmstat - the counter name of /proc/vmstat (e.g. "thp_split_pmd"), or -errno (-ENOENT when
 * the kernel has no such counter).
 */
long long rp_vmstat(const char *name);

/*
 * rp_smaps_kb - the sum of the "field" values (e.g. "ShmemPmdMapped:", kB) of the VMAs in
 * /proc/self/smaps that overlap [addr, addr + len), or -errno.
 */
long rp_smaps_kb(const void *addr, size_t len, const char *field);

/*
 * rp_soft_dirty_mark - make the page-table entries of [addr, addr + len) soft-dirty without
 * writing to the pages: mremap() the range out to a scratch address and back, move_ptes() /
 * move_huge_pmd() mark every moved entry soft-dirty (the pages stay the same, shared or not).
 * addr and len must be PMD aligned (rp_thp_size()) for a PMD-mapped range (else the move splits
 * the PMD).
 * Not for KSM (mremap unmerges) or hugetlb (pagemap shows only the VMA flag).
 */
int rp_soft_dirty_mark(void *addr, size_t len);

/* rp_clear_soft_dirty - write "4" to /proc/self/clear_refs. */
int rp_clear_soft_dirty(void);

/*
 * rp_soft_dirty_selftest - is soft-dirty tracking usable here? Checks that clear_refs accepts
 * "4", clears bit 55 on a written page, and that the next write sets it again. 0 when usable;
 * else -EOPNOTSUPP (or -errno) with a short reason in why.
 */
int rp_soft_dirty_selftest(char *why, size_t whylen);

#endif /* RDMAPIN_PROBE_H */
