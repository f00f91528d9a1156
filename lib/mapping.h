/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mapping.h - the backing kinds under test, every kind rdmapin, the sweep, tests/mm and the
 * benchmark register: create (map, populate with the step-0 pattern, set the protection), make
 * read-only, check that the mapping really is what it claims (per pagemap/kpageflags),
 * describe, unmap, destroy.
 *
 * Small-page backings get PROT_NONE guard pages on both sides, so no other mapping (e.g. one
 * the verbs library makes) can merge with them and blur the soft-dirty probe. Huge backings use
 * huge pages of the size this kernel has (pagesize.h: the THP PMD size, the default hugetlb
 * size), aligned to it. Every function returns 0 or a negative errno; -EOPNOTSUPP / -ENOMEM
 * from rp_map_create*() or -EOPNOTSUPP from rp_map_check() mean "this kernel/machine cannot
 * provide the kind" (the case is skipped with the reason in why), anything else is an error.
 * The code: mapping.c (table, create, destroy), mapfile.c (backing files), mapshare.c (fork
 * sharer, KSM), mapcheck.c (rp_map_check).
 */
#ifndef RDMAPIN_MAPPING_H
#define RDMAPIN_MAPPING_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagesize.h"

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
	RP_B_ANON_SHARED,    /* MAP_SHARED|MAP_ANONYMOUS (shmem) */
	RP_B_FILE_PRIVATE,   /* MAP_PRIVATE of an O_RDONLY file in the directory given */
	RP_B_MEMFD_SHARED,   /* MAP_SHARED of a memfd */
	RP_B__COUNT
};

/* backing flags */
#define RP_BF_ANON (1u << 0)     /* anonymous private (MADV_DONTNEED gives zeros) */
#define RP_BF_ZERO (1u << 1)     /* never written: initial content is zeros */
#define RP_BF_THP (1u << 2)      /* transparent huge pages (PMD size) */
#define RP_BF_HUGETLB (1u << 3)  /* hugetlb pages (default hugetlb size) */
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

/* rp_backing_by_name - the kind called name, or -1. */
int rp_backing_by_name(const char *name);

/*
 * rp_map_page_size - the page size kind is made of here: rp_thp_size() for THP kinds,
 * rp_hugetlb_size() for hugetlb kinds (0: this kernel has none), else rp_page_size().
 */
size_t rp_map_page_size(enum rp_backing kind);

/* the largest huge page a backing may use here (detected, pagesize.h); not a constant */
#define RP_HUGE_SIZE rp_huge_size()

struct rp_map {
	enum rp_backing kind;
	unsigned char *addr; /* what is registered */
	size_t len;
	size_t page_size;    /* rp_map_page_size(kind) */
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
 * How rp_map_create_opt() builds a backing beyond its kind; a zeroed struct (or NULL) is what
 * rp_map_create() does.
 */
struct rp_map_opt {
	const char *dir;  /* file kinds but tmpfs/memfd ones: where the file lives (NULL: $TMPDIR,
			   * else /tmp) */
	bool set_prot;    /* end with protection prot (PROT_NONE included) instead of the kind's */
	int prot;
	bool unpopulated; /* fault nothing in and write nothing (file contents are still written):
			   * the registration is the first touch. -EINVAL for kinds that are made by
			   * their population (forked, KSM, PTE-mapped THP) */
};

/*
 * rp_map_create - map kind (pages base pages for small-page kinds, one huge page for huge
 * kinds), fill it with rp_pattern_fill(seed, step 0) (zero kinds are only read-faulted) and
 * fault every page in. The mapping stays writable where its kind allows it.
 */
int rp_map_create(struct rp_map *m, enum rp_backing kind, size_t pages, uint64_t seed,
		  int timeout_ms, char *why, size_t whylen);

/*
 * rp_map_create_len - rp_map_create() for len bytes: a multiple of the base page, and of the
 * kind's huge page for huge kinds (thp_zero, thp_populated, hugetlb_private,
 * hugetlb_file_private then get several huge pages; the other huge kinds take exactly one).
 * -EINVAL for another len. For the benchmark, which needs MRs of many huge pages.
 */
int rp_map_create_len(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      int timeout_ms, char *why, size_t whylen);

/* rp_map_create_opt - rp_map_create_len() with the options of opt (NULL: none). */
int rp_map_create_opt(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      const struct rp_map_opt *opt, int timeout_ms, char *why, size_t whylen);

/*
 * rp_map_initial - the content a fresh backing of kind holds (len bytes): zeros for never-written
 * kinds, one page of the step-0 pattern repeated for KSM (identical pages merge), else the
 * step-0 pattern.
 */
void rp_map_initial(enum rp_backing kind, void *buf, size_t len, uint64_t seed);

/*
 * rp_map_mark_unit - the granularity at which the runner marks pages (soft-dirty, uffd-wp) for
 * the "kept" cases: a whole huge page where it is mapped by one PMD or is a hugetlb page
 * (marking part of it would split the mapping), else a base page; every even unit is marked.
 */
size_t rp_map_mark_unit(const struct rp_map *m);

/* rp_map_make_ro - mprotect(PROT_READ) the registered range. */
int rp_map_make_ro(struct rp_map *m);

/* rp_map_check - verify per pagemap/kpageflags that the pages are of the claimed kind. */
int rp_map_check(struct rp_map *m, char *why, size_t whylen);

/* rp_map_describe - one line: kind, size, file system, what was verified. */
void rp_map_describe(const struct rp_map *m, char *buf, size_t len);

/*
 * rp_map_unmap - munmap the whole mapping now (e.g. to deregister an MR over unmapped memory);
 * fds and the sharer stay until rp_map_destroy(). Idempotent.
 */
void rp_map_unmap(struct rp_map *m);

/*
 * rp_map_destroy - unmap, close fds, release the sharer child (bounded wait); safe after any
 * rp_map_create*(), a failed one included, and twice.
 */
void rp_map_destroy(struct rp_map *m);

/* rp_map_base_pages - len in base pages (pagemap entries). */
static inline size_t rp_map_base_pages(const struct rp_map *m)
{
	return m->len / rp_page_size();
}

#endif /* RDMAPIN_MAPPING_H */
