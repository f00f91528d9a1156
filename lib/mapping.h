/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mapping.h - the backing kinds under test: create (map and populate with the step-0 pattern),
 * make read-only, check that the mapping really is what it claims (per pagemap/kpageflags),
 * describe, destroy.
 *
 * Small-page backings get PROT_NONE guard pages on both sides, so no other mapping (e.g. one
 * the verbs library makes) can merge with them and blur the soft-dirty probe. Huge backings use
 * one 2 MiB page. Every function returns 0 or a negative errno; -EOPNOTSUPP / -ENOMEM from
 * rp_map_create() or -EOPNOTSUPP from rp_map_check() mean "this kernel/machine cannot provide
 * the kind" (the case is skipped with the reason in why), anything else is an error.
 */
#ifndef RDMAPIN_MAPPING_H
#define RDMAPIN_MAPPING_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum rp_backing {
	RP_B_ANON_ZERO,
	RP_B_ANON_POPULATED,
	RP_B_ANON_FORKED,
	RP_B_THP_ZERO,
	RP_B_THP_POPULATED,
	RP_B_HUGETLB_PRIVATE,
	RP_B_HUGETLB_FILE_PRIVATE,
	RP_B_TMPFS_PRIVATE,
	RP_B_MEMFD_PRIVATE,
	RP_B_FILE_SHARED_RO,
	RP_B_FILE_SHARED_RW,
	RP_B_ANON_UFFD_WP,
	RP_B_SHMEM_THP_PRIVATE,
	RP_B_KSM_MERGED,
	RP_B_THP_PTE_FORKED,
	RP_B_THP_PTE_MPROTECT,
	RP_B__COUNT
};

/* backing flags */
#define RP_BF_ANON (1u << 0)     /* anonymous (MADV_DONTNEED gives zeros) */
#define RP_BF_ZERO (1u << 1)     /* never written: initial content is zeros */
#define RP_BF_THP (1u << 2)      /* one 2 MiB THP */
#define RP_BF_HUGETLB (1u << 3)  /* one 2 MiB hugetlb page */
#define RP_BF_FILE (1u << 4)     /* file (or memfd) backed */
#define RP_BF_SHARED (1u << 5)   /* MAP_SHARED */
#define RP_BF_RO_FD (1u << 6)    /* mapped from an O_RDONLY fd: the process cannot write it */
#define RP_BF_UNSHARE (1u << 7)  /* pages are shared: a R/O pin may replace them (unshare) */
#define RP_BF_UFFD_WP (1u << 8)  /* registered with uffd-wp and write-protected by the runner */
#define RP_BF_KSM (1u << 9)      /* KSM-merged anonymous pages (one page content repeated) */
#define RP_BF_PTE_MAPPED (1u << 10) /* a THP mapped by PTEs, not by a PMD */
/*
 * Partly shared: only pages that were not mapped exclusively (pagemap bit 56) before the
 * registration may be unshared; the others were never shared and must be pinned in place.
 */
#define RP_BF_UNSHARE_PART (1u << 11)

struct rp_backing_info {
	const char *name;
	unsigned int flags;
	const char *desc;
};

const struct rp_backing_info *rp_backing_info(enum rp_backing b);

#define RP_HUGE_SIZE (2UL << 20)

struct rp_map {
	enum rp_backing kind;
	unsigned char *addr; /* what is registered */
	size_t len;
	size_t page_size;    /* 4 KiB or 2 MiB */
	void *raw;           /* the reservation including guards / alignment slack */
	size_t raw_len;
	int fd;              /* the fd the mapping was made from, -1 for anonymous */
	int wfd;             /* an O_RDWR fd of the same file (pwrite), -1 if none */
	pid_t sharer;        /* anon_forked: the live child sharing the pages, 0 if none */
	int sharer_ctl;      /* pipe to the sharer: closing it lets the sharer exit */
	char fsname[16];     /* file system of the backing file ("tmpfs", ...) */
	char verified[80];   /* what rp_map_check() verified */
};

/*
 * rp_map_create - map kind (pages base pages for small-page kinds, one 2 MiB page for huge
 * kinds), fill it with rp_pattern_fill(seed, step 0) (zero kinds are only read-faulted) and
 * fault every page in. The mapping stays writable where its kind allows it.
 */
int rp_map_create(struct rp_map *m, enum rp_backing kind, size_t pages, uint64_t seed,
		  int timeout_ms, char *why, size_t whylen);

/*
 * rp_map_create_len - rp_map_create() for len bytes: a multiple of 4 KiB, and of 2 MiB for huge
 * kinds (thp_zero, thp_populated, hugetlb_private, hugetlb_file_private then get len / 2 MiB huge
 * pages; the other huge kinds take exactly one). -EINVAL for another len. For the benchmark,
 * which needs MRs of many huge pages.
 */
int rp_map_create_len(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      int timeout_ms, char *why, size_t whylen);

/*
 * rp_map_initial - the content a fresh backing of kind holds (len bytes): zeros for never-written
 * kinds, one page of the step-0 pattern repeated for KSM (identical pages merge), else the
 * step-0 pattern.
 */
void rp_map_initial(enum rp_backing kind, void *buf, size_t len, uint64_t seed);

/*
 * rp_map_mark_unit - the granularity at which the runner marks pages (soft-dirty, uffd-wp) for
 * the "kept" cases: a whole 2 MiB page where it is mapped by one PMD or is a hugetlb page
 * (marking part of it would split the mapping), else 4 KiB; every even unit is marked.
 */
size_t rp_map_mark_unit(const struct rp_map *m);

/* rp_map_make_ro - mprotect(PROT_READ) the registered range. */
int rp_map_make_ro(struct rp_map *m);

/* rp_map_check - verify per pagemap/kpageflags that the pages are of the claimed kind. */
int rp_map_check(struct rp_map *m, char *why, size_t whylen);

/* rp_map_describe - one line: kind, size, file system, what was verified. */
void rp_map_describe(const struct rp_map *m, char *buf, size_t len);

/* rp_map_destroy - unmap, close fds, release the sharer child (bounded wait). */
void rp_map_destroy(struct rp_map *m);

/* rp_map_base_pages - len in 4 KiB units. */
static inline size_t rp_map_base_pages(const struct rp_map *m)
{
	return m->len / 4096;
}

#endif /* RDMAPIN_MAPPING_H */
