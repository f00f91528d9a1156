/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probe.h - page-state probes: /proc/self/pagemap (PFN, soft-dirty bit 55, exclusive, file),
 * /proc/kpageflags, soft-dirty reset through /proc/self/clear_refs, and the userfaultfd
 * write-protect fault counter (a handler thread that counts and resolves WP faults).
 *
 * Everything works in 4 KiB units (one pagemap entry per base page, also inside THPs and
 * hugetlb pages). Functions return 0 / a count, or a negative errno. Nothing prints.
 */
#ifndef RDMAPIN_PROBE_H
#define RDMAPIN_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_BASE_PAGE 4096UL

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
 * addr and len must be 2 MiB aligned for a PMD-mapped range (else the move splits the PMD).
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

/*
 * The uffd-wp counter. rp_uffd_wp_arm() opens a userfaultfd (kernel faults included, so GUP
 * from ib_umem_get is seen), registers [addr, addr+len) in write-protect mode, write-protects
 * it and starts a handler thread that counts every WP fault and resolves it by
 * un-write-protecting the faulting base page (and zero-fills any missing fault). The thread
 * polls with a short timeout, so rp_uffd_wp_disarm() always returns promptly.
 */
struct rp_uffd_wp {
	int uffd;
	void *addr;
	size_t len;
	size_t resolve;           /* the handler un-protects this much around a fault */
	size_t nunits;            /* len / resolve */
	unsigned int *faults;     /* WP faults per resolve unit (NULL: not counted per unit) */
	pthread_t thread;
	bool running;
	volatile int stop;
	volatile long wp_events;
	volatile long missing_events;
	volatile int handler_err; /* negative errno of a failed resolve ioctl, 0 if none */
};

#define RP_UFFD_WP_INIT { .uffd = -1 }

/* rp_uffd_wp_supported - 0 when uffd-wp on anonymous memory is available, else -errno + why. */
int rp_uffd_wp_supported(char *why, size_t whylen);

int rp_uffd_wp_arm(struct rp_uffd_wp *u, void *addr, size_t len, const char **step);

/*
 * rp_uffd_wp_arm_marked - as rp_uffd_wp_arm(), but write-protect only the even-numbered
 * mark_unit-sized pieces of the range (mark_unit >= len: all of it), resolve faults in
 * resolve-sized units (2 MiB for hugetlb, where UFFDIO_WRITEPROTECT needs huge-page ranges)
 * and count the WP faults per resolve unit in u->faults.
 */
int rp_uffd_wp_arm_marked(struct rp_uffd_wp *u, void *addr, size_t len, size_t mark_unit,
			  size_t resolve, const char **step);

/* rp_marked - is the 4 KiB page at byte offset off marked when every even mark_unit is? */
static inline bool rp_marked(size_t off, size_t mark_unit)
{
	return !((off / mark_unit) & 1);
}
long rp_uffd_wp_events(const struct rp_uffd_wp *u);
void rp_uffd_wp_disarm(struct rp_uffd_wp *u);

#endif /* RDMAPIN_PROBE_H */
