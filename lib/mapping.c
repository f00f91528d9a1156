// SPDX-License-Identifier: GPL-2.0
/* mapping.c - the backing kinds: table, create, describe, destroy; see mapping.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "errname.h"
#include "map_int.h"
#include "pattern.h"
#include "probe.h"
#include "reap.h"
#include "sysfile.h"

static const struct rp_backing_info backings[RP_B__COUNT] = {
	[RP_B_ANON_ZERO] = { "anon_zero", RP_BF_ANON | RP_BF_ZERO | RP_BF_UNSHARE,
		"anonymous private, never written: read faults map the shared zeropage" },
	[RP_B_ANON_POPULATED] = { "anon_populated", RP_BF_ANON,
		"anonymous private, written: exclusive anonymous pages" },
	[RP_B_ANON_FORKED] = { "anon_forked", RP_BF_ANON | RP_BF_UNSHARE,
		"anonymous private, written, then shared with a live child after fork()" },
	[RP_B_THP_ZERO] = { "thp_zero", RP_BF_ANON | RP_BF_ZERO | RP_BF_THP | RP_BF_UNSHARE,
		"PMD-aligned MADV_HUGEPAGE anonymous, read-faulted: the huge zeropage" },
	[RP_B_THP_POPULATED] = { "thp_populated", RP_BF_ANON | RP_BF_THP,
		"PMD-aligned MADV_HUGEPAGE anonymous, written: an exclusive THP" },
	[RP_B_HUGETLB_PRIVATE] = { "hugetlb_private", RP_BF_ANON | RP_BF_HUGETLB,
		"MAP_HUGETLB|MAP_PRIVATE anonymous hugetlb page (default size), written" },
	[RP_B_HUGETLB_FILE_PRIVATE] = { "hugetlb_file_private",
		RP_BF_FILE | RP_BF_HUGETLB | RP_BF_UNSHARE,
		"hugetlbfs memfd (MFD_HUGETLB), MAP_PRIVATE, read-faulted: a page-cache huge page" },
	[RP_B_TMPFS_PRIVATE] = { "tmpfs_private", RP_BF_FILE | RP_BF_RO_FD | RP_BF_UNSHARE,
		"tmpfs file opened O_RDONLY, MAP_PRIVATE, read-faulted: shmem page-cache pages" },
	[RP_B_MEMFD_PRIVATE] = { "memfd_private", RP_BF_FILE | RP_BF_UNSHARE,
		"memfd, MAP_PRIVATE, read-faulted: shmem page-cache pages" },
	[RP_B_FILE_SHARED_RO] = { "file_shared_ro", RP_BF_FILE | RP_BF_SHARED | RP_BF_RO_FD,
		"file in $TMPDIR opened O_RDONLY, MAP_SHARED PROT_READ" },
	[RP_B_FILE_SHARED_RW] = { "file_shared_rw", RP_BF_FILE | RP_BF_SHARED,
		"file in $TMPDIR opened O_RDWR, MAP_SHARED PROT_READ" },
	[RP_B_ANON_UFFD_WP] = { "anon_uffd_wp", RP_BF_ANON | RP_BF_UFFD_WP,
		"anonymous private, written, registered with userfaultfd-wp and write-protected" },
	[RP_B_SHMEM_THP_PRIVATE] = { "shmem_thp_private", RP_BF_FILE | RP_BF_THP | RP_BF_UNSHARE,
		"one-THP file on a huge=always tmpfs, MAP_PRIVATE, read-faulted: a page-cache THP "
		"mapped by a PMD" },
	[RP_B_KSM_MERGED] = { "ksm_merged", RP_BF_ANON | RP_BF_KSM | RP_BF_UNSHARE,
		"anonymous private, identical pages, MADV_MERGEABLE, merged by ksmd: one KSM page" },
	[RP_B_THP_PTE_FORKED] = { "thp_pte_forked",
		RP_BF_ANON | RP_BF_THP | RP_BF_PTE_MAPPED | RP_BF_UNSHARE | RP_BF_UNSHARE_PART,
		"written THP, upper half MADV_DONTFORK (PTE-maps it), fork(): lower half shared "
		"with a live child, upper half exclusive" },
	[RP_B_THP_PTE_MPROTECT] = { "thp_pte_mprotect",
		RP_BF_ANON | RP_BF_THP | RP_BF_PTE_MAPPED | RP_BF_UNSHARE,
		"written THP shared with a live child after fork(), then PTE-mapped in the parent "
		"by mprotect(PROT_READ) of its lower half" },
	[RP_B_ANON_SHARED] = { "anon_shared", RP_BF_SHARED,
		"MAP_SHARED|MAP_ANONYMOUS, written: shmem pages of this process only" },
	[RP_B_FILE_PRIVATE] = { "file_private", RP_BF_FILE | RP_BF_RO_FD | RP_BF_UNSHARE,
		"file in $TMPDIR (or the directory given) opened O_RDONLY, MAP_PRIVATE, "
		"read-faulted: page-cache pages" },
	[RP_B_MEMFD_SHARED] = { "memfd_shared", RP_BF_FILE | RP_BF_SHARED,
		"memfd, MAP_SHARED: shmem page-cache pages" },
};

/* where the pages of a kind come from */
enum map_src {
	SRC_ANON,           /* MAP_PRIVATE|MAP_ANONYMOUS in the reservation */
	SRC_ANON_SHARED,    /* MAP_SHARED|MAP_ANONYMOUS in the reservation */
	SRC_HUGETLB_ANON,   /* MAP_HUGETLB|MAP_PRIVATE|MAP_ANONYMOUS, placed by the kernel */
	SRC_HUGETLB_MEMFD,  /* a hugetlbfs memfd */
	SRC_FILE,           /* a file in the directory given */
	SRC_TMPFS_FILE,     /* a file on tmpfs ($TMPDIR if it is one, else /dev/shm) */
	SRC_HUGE_TMPFS_FILE, /* a file on a huge=always tmpfs */
	SRC_MEMFD,
};

static enum map_src map_src(enum rp_backing kind)
{
	unsigned int f = backings[kind].flags;

	switch (kind) {
	case RP_B_ANON_SHARED:
		return SRC_ANON_SHARED;
	case RP_B_TMPFS_PRIVATE:
		return SRC_TMPFS_FILE;
	case RP_B_SHMEM_THP_PRIVATE:
		return SRC_HUGE_TMPFS_FILE;
	case RP_B_MEMFD_PRIVATE:
	case RP_B_MEMFD_SHARED:
		return SRC_MEMFD;
	default:
		if (f & RP_BF_HUGETLB)
			return (f & RP_BF_FILE) ? SRC_HUGETLB_MEMFD : SRC_HUGETLB_ANON;
		return (f & RP_BF_FILE) ? SRC_FILE : SRC_ANON;
	}
}

const struct rp_backing_info *rp_backing_info(enum rp_backing b)
{
	return (unsigned int)b < RP_B__COUNT ? &backings[b] : NULL;
}

int rp_backing_by_name(const char *name)
{
	int k;

	for (k = 0; k < RP_B__COUNT; k++)
		if (!strcmp(backings[k].name, name))
			return k;
	return -1;
}

size_t rp_map_page_size(enum rp_backing kind)
{
	unsigned int f = rp_backing_info(kind) ? backings[kind].flags : 0;

	if (f & RP_BF_THP)
		return rp_thp_size();
	if (f & RP_BF_HUGETLB)
		return rp_hugetlb_size();
	return rp_page_size();
}

void rp_map_initial(enum rp_backing kind, void *buf, size_t len, uint64_t seed)
{
	unsigned int f = rp_backing_info(kind)->flags;
	size_t off, page = RP_BASE_PAGE;

	if (f & RP_BF_ZERO) {
		memset(buf, 0, len);
	} else if (f & RP_BF_KSM) {
		rp_pattern_fill(buf, len < page ? len : page, seed, 0);
		for (off = page; off < len; off += page)
			memcpy((unsigned char *)buf + off, buf, len - off < page ? len - off : page);
	} else {
		rp_pattern_fill(buf, len, seed, 0);
	}
}

size_t rp_map_mark_unit(const struct rp_map *m)
{
	unsigned int f = rp_backing_info(m->kind)->flags;

	if ((f & RP_BF_HUGETLB) || ((f & RP_BF_THP) && !(f & RP_BF_PTE_MAPPED)))
		return m->page_size;
	return RP_BASE_PAGE;
}

static int thp_available(bool zero, char *why, size_t whylen)
{
	char buf[128];

	if (!rp_thp_size() ||
	    rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf))) {
		snprintf(why, whylen, "no THP support (no transparent_hugepage/enabled)");
		return -EOPNOTSUPP;
	}
	if (strstr(buf, "[never]")) {
		snprintf(why, whylen, "THP disabled (transparent_hugepage/enabled is never)");
		return -EOPNOTSUPP;
	}
	if (zero && (rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/use_zero_page", buf,
				     sizeof(buf)) || buf[0] != '1')) {
		snprintf(why, whylen, "huge zeropage disabled (transparent_hugepage/use_zero_page)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Reserve len plus guard pages (and huge-page alignment when huge); returns the usable address. */
static unsigned char *reserve(struct rp_map *m, bool huge)
{
	uintptr_t a;

	m->raw_len = m->len + 2 * RP_BASE_PAGE + (huge ? m->page_size : 0);
	m->raw = mmap(NULL, m->raw_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (m->raw == MAP_FAILED) {
		m->raw = NULL;
		return NULL;
	}
	a = (uintptr_t)m->raw + RP_BASE_PAGE;
	if (huge)
		a = (a + m->page_size - 1) & ~(uintptr_t)(m->page_size - 1);
	return (unsigned char *)a;
}

static volatile unsigned char touch_sink;

/* read-fault every page (the sum goes to a volatile sink, so no tool drops the loads) */
static void touch_read(const struct rp_map *m)
{
	unsigned char sum = 0;
	size_t i;

	for (i = 0; i < m->len; i += RP_BASE_PAGE)
		sum += *(volatile unsigned char *)(m->addr + i);
	touch_sink = sum;
}

/* the backing file of a file kind in m->fd / m->wfd */
static int make_backing_file(struct rp_map *m, enum map_src src, const char *dir, uint64_t seed,
			     char *why, size_t whylen)
{
	bool mounted = false;
	char hdir[64];
	int ret;

	if (src == SRC_HUGETLB_MEMFD)
		return rp_mapfile_hugetlb(m, seed, why, whylen);
	if (src == SRC_HUGE_TMPFS_FILE) {
		ret = rp_mapfile_huge_dir(hdir, sizeof(hdir), &mounted, why, whylen);
		if (ret)
			return ret;
		dir = hdir;
	}
	if (src == SRC_TMPFS_FILE && !rp_mapfile_on_tmpfs(dir)) {
		if (!rp_mapfile_on_tmpfs("/dev/shm")) {
			snprintf(why, whylen, "neither %s nor /dev/shm is tmpfs", dir);
			return -EOPNOTSUPP;
		}
		dir = "/dev/shm";
	}
	ret = rp_mapfile_make(m, dir, src == SRC_MEMFD,
			      !(backings[m->kind].flags & RP_BF_RO_FD), seed, why, whylen);
	if (mounted) { /* the open file keeps the detached mount alive */
		umount2(dir, MNT_DETACH);
		rmdir(dir);
	}
	return ret;
}

/* Map the pages of m's kind at want (a reservation) or where the kernel likes (hugetlb anon). */
static int map_pages(struct rp_map *m, unsigned char *want, const char *dir, uint64_t seed,
		     char *why, size_t whylen)
{
	const struct rp_backing_info *bi = &backings[m->kind];
	enum map_src src = map_src(m->kind);
	int rw = PROT_READ | PROT_WRITE, ret;
	void *p;

	switch (src) {
	case SRC_HUGETLB_ANON:
		p = mmap(NULL, m->len, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED) {
			m->raw = p;
			m->raw_len = m->len;
		}
		break;
	case SRC_ANON:
		p = mmap(want, m->len, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case SRC_ANON_SHARED:
		p = mmap(want, m->len, rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	default:
		ret = make_backing_file(m, src, dir, seed, why, whylen);
		if (ret)
			return ret;
		p = mmap(want, m->len, PROT_READ,
			 ((bi->flags & RP_BF_SHARED) ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, m->fd, 0);
	}
	if (p == MAP_FAILED) {
		char sz[16];

		ret = -errno;
		if (src == SRC_HUGETLB_ANON) {
			snprintf(why, whylen, "no %s huge page could be reserved (mmap MAP_HUGETLB: %s)",
				 rp_size_str(m->page_size, sz, sizeof(sz)), rp_errname(ret));
			return ret == -EINVAL ? -EOPNOTSUPP : ret;
		}
		snprintf(why, whylen, "mmap %s: %s", bi->name, rp_errname(ret));
		return ret;
	}
	m->addr = p;
	if (src != SRC_ANON)
		return 0;
	if (madvise(p, m->len, (bi->flags & RP_BF_THP) ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		ret = -errno;
		snprintf(why, whylen, "madvise(%s): %s",
			 (bi->flags & RP_BF_THP) ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE", rp_errname(ret));
		return ret;
	}
	return 0;
}

/* Fault the pages in (write the pattern or read), then share them the way the kind says. */
static int populate(struct rp_map *m, uint64_t seed, int timeout_ms, char *why, size_t whylen)
{
	enum rp_backing kind = m->kind;
	unsigned int f = backings[kind].flags;
	int ret;

	if (!(f & (RP_BF_ZERO | RP_BF_FILE)))
		rp_map_initial(kind, m->addr, m->len, seed);
	else
		touch_read(m);
	if (kind == RP_B_THP_PTE_FORKED &&
	    madvise(m->addr + m->len / 2, m->len / 2, MADV_DONTFORK)) {
		ret = -errno;
		snprintf(why, whylen, "madvise(MADV_DONTFORK): %s", rp_errname(ret));
		return ret;
	}
	if (kind == RP_B_ANON_FORKED || kind == RP_B_THP_PTE_FORKED ||
	    kind == RP_B_THP_PTE_MPROTECT) {
		ret = rp_mapshare_fork(m, timeout_ms);
		if (ret) {
			snprintf(why, whylen, "fork (sharer child): %s", rp_errname(ret));
			return ret;
		}
	}
	if (kind == RP_B_THP_PTE_MPROTECT && mprotect(m->addr, m->len / 2, PROT_READ)) {
		ret = -errno;
		snprintf(why, whylen, "mprotect(lower half): %s", rp_errname(ret));
		return ret;
	}
	if (f & RP_BF_KSM)
		return rp_mapshare_ksm(m, timeout_ms, why, whylen);
	return 0;
}

/* several huge pages: only where every huge page of the range is alike */
static bool multi_huge_ok(enum rp_backing kind)
{
	return kind == RP_B_THP_ZERO || kind == RP_B_THP_POPULATED ||
	       kind == RP_B_HUGETLB_PRIVATE || kind == RP_B_HUGETLB_FILE_PRIVATE;
}

/* kinds that only their population makes what they are */
static bool needs_populate(enum rp_backing kind)
{
	return kind == RP_B_ANON_FORKED || kind == RP_B_KSM_MERGED ||
	       kind == RP_B_THP_PTE_FORKED || kind == RP_B_THP_PTE_MPROTECT;
}

/* check kind and len, set up m; -EINVAL / -EOPNOTSUPP with why */
static int map_init(struct rp_map *m, enum rp_backing kind, size_t len,
		    const struct rp_map_opt *opt, char *why, size_t whylen)
{
	const struct rp_backing_info *bi = rp_backing_info(kind);
	bool huge = bi && (bi->flags & (RP_BF_THP | RP_BF_HUGETLB));
	char sz[16];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->fd = m->wfd = m->sharer_ctl = -1;
	snprintf(m->fsname, sizeof(m->fsname), "-");
	if (!bi) {
		snprintf(why, whylen, "bad backing kind %d", (int)kind);
		return -EINVAL;
	}
	m->page_size = rp_map_page_size(kind);
	if (!m->page_size) {
		snprintf(why, whylen, "%s: this kernel has no %s", bi->name,
			 (bi->flags & RP_BF_THP) ? "THP (no hpage_pmd_size)" :
			 "hugetlb pages (no Hugepagesize in /proc/meminfo)");
		return -EOPNOTSUPP;
	}
	if (!len || len % m->page_size || (huge && len != m->page_size && !multi_huge_ok(kind))) {
		snprintf(why, whylen, "%s: bad length %zu (a multiple of %s%s)", bi->name, len,
			 rp_size_str(m->page_size, sz, sizeof(sz)),
			 huge && !multi_huge_ok(kind) ? ", exactly one huge page" : "");
		return -EINVAL;
	}
	if (opt && opt->unpopulated && needs_populate(kind)) {
		snprintf(why, whylen, "%s: its pages must be populated to be what it is", bi->name);
		return -EINVAL;
	}
	m->len = len;
	if (bi->flags & RP_BF_THP)
		return thp_available((bi->flags & RP_BF_ZERO) && !(opt && opt->unpopulated), why,
				     whylen);
	return 0;
}

int rp_map_create_opt(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      const struct rp_map_opt *opt, int timeout_ms, char *why, size_t whylen)
{
	const char *dir = opt && opt->dir && *opt->dir ? opt->dir : getenv("TMPDIR");
	unsigned char *want = NULL;
	int ret;

	ret = map_init(m, kind, len, opt, why, whylen);
	if (ret)
		return ret;
	if (!dir || !*dir)
		dir = "/tmp";
	if (map_src(kind) != SRC_HUGETLB_ANON) {
		want = reserve(m, backings[kind].flags & (RP_BF_THP | RP_BF_HUGETLB));
		if (!want) {
			ret = -errno;
			snprintf(why, whylen, "mmap reservation: %s", rp_errname(ret));
			return ret;
		}
	}
	ret = map_pages(m, want, dir, seed, why, whylen);
	if (!ret && !(opt && opt->unpopulated))
		ret = populate(m, seed, timeout_ms, why, whylen);
	if (!ret && opt && opt->set_prot && mprotect(m->addr, m->len, opt->prot)) {
		ret = -errno;
		snprintf(why, whylen, "mprotect(%s, 0x%x): %s", backings[kind].name, opt->prot,
			 rp_errname(ret));
	}
	return ret;
}

int rp_map_create_len(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      int timeout_ms, char *why, size_t whylen)
{
	return rp_map_create_opt(m, kind, len, seed, NULL, timeout_ms, why, whylen);
}

int rp_map_create(struct rp_map *m, enum rp_backing kind, size_t pages, uint64_t seed,
		  int timeout_ms, char *why, size_t whylen)
{
	const struct rp_backing_info *bi = rp_backing_info(kind);
	bool huge = bi && (bi->flags & (RP_BF_THP | RP_BF_HUGETLB));

	if (!huge && (!pages || pages > SIZE_MAX / RP_BASE_PAGE))
		pages = 0; /* rp_map_create_len() refuses it */
	return rp_map_create_len(m, kind, huge ? rp_map_page_size(kind) : pages * RP_BASE_PAGE,
				 seed, timeout_ms, why, whylen);
}

int rp_map_make_ro(struct rp_map *m)
{
	return mprotect(m->addr, m->len, PROT_READ) ? -errno : 0;
}

void rp_map_describe(const struct rp_map *m, char *buf, size_t len)
{
	const struct rp_backing_info *bi = rp_backing_info(m->kind);
	bool fs = strcmp(m->fsname, "-");
	char sz[16];

	snprintf(buf, len, "%s: %zu x %s%s%s, %s", bi->name, m->len / m->page_size,
		 rp_size_str(m->page_size, sz, sizeof(sz)), fs ? " on " : "", fs ? m->fsname : "",
		 m->verified[0] ? m->verified : "unchecked");
}

void rp_map_unmap(struct rp_map *m)
{
	if (m->raw)
		munmap(m->raw, m->raw_len);
	m->raw = NULL;
}

void rp_map_destroy(struct rp_map *m)
{
	if (m->sharer_ctl >= 0)
		close(m->sharer_ctl);
	if (m->sharer > 0)
		rp_reap(m->sharer, 2000);
	rp_map_unmap(m);
	if (m->fd >= 0)
		close(m->fd);
	if (m->wfd >= 0)
		close(m->wfd);
	memset(m, 0, sizeof(*m));
	m->fd = m->wfd = m->sharer_ctl = -1;
}
