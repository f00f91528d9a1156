/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pagesize.h - the page sizes of this machine and kernel, detected once and cached: the base
 * page (sysconf), the THP PMD size (/sys/kernel/mm/transparent_hugepage/hpage_pmd_size) and
 * the default hugetlb page size (Hugepagesize in /proc/meminfo). Nothing here is hard-coded:
 * a kernel without THP or hugetlb reports 0 for that size. Thread-safe, nothing prints.
 */
#ifndef RDMAPIN_PAGESIZE_H
#define RDMAPIN_PAGESIZE_H

#include <stddef.h>

/* rp_page_size - the base page size in bytes (4096 on x86). */
size_t rp_page_size(void);

/* rp_thp_size - the size of a PMD-mapped transparent huge page, 0 without THP support. */
size_t rp_thp_size(void);

/* rp_hugetlb_size - the default hugetlb page size (MAP_HUGETLB, MFD_HUGETLB), 0 without hugetlb. */
size_t rp_hugetlb_size(void);

/* rp_huge_size - the larger of rp_thp_size() and rp_hugetlb_size(): what one huge backing needs. */
size_t rp_huge_size(void);

/* rp_size_str - "4 KiB", "2 MiB", "1 GiB" (exact multiples), else the byte count; returns buf. */
const char *rp_size_str(size_t bytes, char *buf, size_t len);

#endif /* RDMAPIN_PAGESIZE_H */
