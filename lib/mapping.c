// SPDX-License-Identifier: GPL-2.0
/* mapping.c - the backing kinds under test; see mapping.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mapping.h"
#include "pattern.h"
#include "probe.h"
#include "sysfile.h"

static const struct rp_backing_info backings[RP_B__COUNT] = {
	[RP_B_ANON_ZERO] = { "anon_zero", RP_BF_ANON | RP_BF_ZERO | RP_BF_UNSHARE,
		"anonymous private, never written: read faults map the shared zeropage" },
	[RP_B_ANON_POPULATED] = { "anon_populated", RP_BF_ANON,
		"anonymous private, written: exclusive anonymous pages" },
	[RP_B_ANON_FORKED] = { "anon_forked", RP_BF_ANON | RP_BF_UNSHARE,
		"anonymous private, written, then shared with a live child after fork()" },
	[RP_B_THP_ZERO] = { "thp_zero", RP_BF_ANON | RP_BF_ZERO | RP_BF_THP | RP_BF_UNSHARE,
		"2 MiB aligned MADV_HUGEPAGE anonymous, read-faulted: the huge zeropage" },
	[RP_B_THP_POPULATED] = { "thp_populated", RP_BF_ANON | RP_BF_THP,
		"2 MiB aligned MADV_HUGEPAGE anonymous, written: an exclusive THP" },
	[RP_B_HUGETLB_PRIVATE] = { "hugetlb_private", RP_BF_ANON | RP_BF_HUGETLB,
		"MAP_HUGETLB|MAP_PRIVATE anonymous 2 MiB page, written" },
	[RP_B_HUGETLB_FILE_PRIVATE] = { "hugetlb_file_private",
		RP_BF_FILE | RP_BF_HUGETLB | RP_BF_UNSHARE,
		"hugetlbfs memfd (MFD_HUGETLB), MAP_PRIVATE, read-faulted: a page-cache huge page" },
	[RP_B_TMPFS_PRIVATE] = { "tmpfs_private", RP_BF_FILE | RP_BF_UNSHARE,
		"tmpfs file, MAP_PRIVATE, read-faulted: shmem page-cache pages" },
	[RP_B_MEMFD_PRIVATE] = { "memfd_private", RP_BF_FILE | RP_BF_UNSHARE,
		"memfd, MAP_PRIVATE, read-faulted: shmem page-cache pages" },
	[RP_B_FILE_SHARED_RO] = { "file_shared_ro", RP_BF_FILE | RP_BF_SHARED | RP_BF_RO_FD,
		"file in $TMPDIR opened O_RDONLY, MAP_SHARED PROT_READ" },
	[RP_B_FILE_SHARED_RW] = { "file_shared_rw", RP_BF_FILE | RP_BF_SHARED,
		"file in $TMPDIR opened O_RDWR, MAP_SHARED PROT_READ" },
	[RP_B_ANON_UFFD_WP] = { "anon_uffd_wp", RP_BF_ANON | RP_BF_UFFD_WP,
		"anonymous private, written, registered with userfaultfd-wp and write-protected" },
	[RP_B_SHMEM_THP_PRIVATE] = { "shmem_thp_private", RP_BF_FILE | RP_BF_THP | RP_BF_UNSHARE,
		"2 MiB file on a huge=always tmpfs, MAP_PRIVATE, read-faulted: a page-cache THP "
		"mapped by a PMD" },
	[RP_B_KSM_MERGED] = { "ksm_merged", RP_BF_ANON | RP_BF_KSM | RP_BF_UNSHARE,
		"anonymous private, identical pages, MADV_MERGEABLE, merged by ksmd: one KSM page" },
	[RP_B_THP_PTE_FORKED] = { "thp_pte_forked",
		RP_BF_ANON | RP_BF_THP | RP_BF_PTE_MAPPED | RP_BF_UNSHARE | RP_BF_UNSHARE_PART,
		"written THP, upper 1 MiB MADV_DONTFORK (PTE-maps it), fork(): lower half shared "
		"with a live child, upper half exclusive" },
	[RP_B_THP_PTE_MPROTECT] = { "thp_pte_mprotect",
		RP_BF_ANON | RP_BF_THP | RP_BF_PTE_MAPPED | RP_BF_UNSHARE,
		"written THP shared with a live child after fork(), then PTE-mapped in the parent "
		"by mprotect(PROT_READ) of its lower 1 MiB" },
};

const struct rp_backing_info *rp_backing_info(enum rp_backing b)
{
	return b < RP_B__COUNT ? &backings[b] : NULL;
}

void rp_map_initial(enum rp_backing kind, void *buf, size_t len, uint64_t seed)
{
	unsigned int f = rp_backing_info(kind)->flags;
	size_t off;

	if (f & RP_BF_ZERO) {
		memset(buf, 0, len);
	} else if (f & RP_BF_KSM) {
		rp_pattern_fill(buf, len < RP_BASE_PAGE ? len : RP_BASE_PAGE, seed, 0);
		for (off = RP_BASE_PAGE; off < len; off += RP_BASE_PAGE)
			memcpy((unsigned char *)buf + off, buf, RP_BASE_PAGE);
	} else {
		rp_pattern_fill(buf, len, seed, 0);
	}
}

size_t rp_map_mark_unit(const struct rp_map *m)
{
	unsigned int f = rp_backing_info(m->kind)->flags;

	if ((f & RP_BF_HUGETLB) || ((f & RP_BF_THP) && !(f & RP_BF_PTE_MAPPED)))
		return RP_HUGE_SIZE;
	return RP_BASE_PAGE;
}

static int thp_available(bool zero, char *why, size_t whylen)
{
	char buf[128];

	if (rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf))) {
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

static void fs_name(int fd, char *buf, size_t len)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs)) {
		snprintf(buf, len, "?");
		return;
	}
	switch (sfs.f_type) {
	case TMPFS_MAGIC:
		snprintf(buf, len, "tmpfs");
		break;
	case EXT4_SUPER_MAGIC:
		snprintf(buf, len, "ext4");
		break;
	case V9FS_MAGIC:
		snprintf(buf, len, "9p");
		break;
	case HUGETLBFS_MAGIC:
		snprintf(buf, len, "hugetlbfs");
		break;
	default:
		snprintf(buf, len, "fs:0x%lx", (unsigned long)sfs.f_type);
	}
}

static bool dir_is_tmpfs(const char *dir)
{
	struct statfs sfs;

	return !statfs(dir, &sfs) && sfs.f_type == TMPFS_MAGIC;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, p + done, len - done, (off_t)done);

		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Make the backing file: a temporary file in dir (unlinked at once) or a memfd, holding the
 * step-0 pattern. m->wfd gets an O_RDWR fd, m->fd the fd to map (O_RDONLY unless rw_map).
 */
static int make_file(struct rp_map *m, const char *dir, bool memfd, bool rw_map, uint64_t seed,
		     char *why, size_t whylen)
{
	char path[PATH_MAX];
	void *buf;
	int ret;

	if (memfd) {
		m->wfd = memfd_create("rdmapin", MFD_CLOEXEC);
		if (m->wfd < 0) {
			ret = -errno;
			snprintf(why, whylen, "memfd_create: %s", strerrorname_np(-ret) ?: "?");
			return ret;
		}
	} else {
		snprintf(path, sizeof(path), "%s/rdmapin.XXXXXX", dir);
		m->wfd = mkostemp(path, O_CLOEXEC);
		if (m->wfd < 0) {
			ret = -errno;
			snprintf(why, whylen, "mkstemp(%s): %s", path, strerrorname_np(-ret) ?: "?");
			return ret;
		}
		m->fd = open(path, (rw_map ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		ret = m->fd < 0 ? -errno : 0;
		unlink(path);
		if (ret) {
			snprintf(why, whylen, "open(%s): %s", path, strerrorname_np(-ret) ?: "?");
			return ret;
		}
	}
	fs_name(m->wfd, m->fsname, sizeof(m->fsname));
	buf = malloc(m->len);
	if (!buf) {
		snprintf(why, whylen, "malloc: ENOMEM");
		return -ENOMEM;
	}
	rp_pattern_fill(buf, m->len, seed, 0);
	ret = write_all(m->wfd, buf, m->len);
	free(buf);
	if (ret) {
		snprintf(why, whylen, "write backing file: %s", strerrorname_np(-ret) ?: "?");
		return ret;
	}
	if (memfd) {
		m->fd = dup(m->wfd);
		if (m->fd < 0)
			return -errno;
	}
	return 0;
}

/*
 * Make a hugetlbfs memfd of one huge page holding the step-0 pattern. hugetlbfs has no write(),
 * so it is filled through a temporary MAP_SHARED mapping. m->wfd and m->fd both refer to it.
 */
static int make_hugetlb_file(struct rp_map *m, uint64_t seed, char *why, size_t whylen)
{
	void *p;
	int ret;

	m->wfd = memfd_create("rdmapin", MFD_CLOEXEC | MFD_HUGETLB);
	if (m->wfd < 0) {
		ret = -errno;
		snprintf(why, whylen, "memfd_create(MFD_HUGETLB): %s", strerrorname_np(-ret) ?: "?");
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	fs_name(m->wfd, m->fsname, sizeof(m->fsname));
	if (ftruncate(m->wfd, (off_t)m->len)) {
		ret = -errno;
		snprintf(why, whylen, "ftruncate(hugetlbfs memfd): %s", strerrorname_np(-ret) ?: "?");
		return ret;
	}
	p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, m->wfd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "no 2 MiB huge page could be reserved (mmap hugetlbfs memfd: %s)",
			 strerrorname_np(-ret) ?: "?");
		return ret;
	}
	rp_pattern_fill(p, m->len, seed, 0);
	munmap(p, m->len);
	m->fd = dup(m->wfd);
	return m->fd < 0 ? -errno : 0;
}

/* Reserve len plus guard pages (and 2 MiB alignment when huge); returns the usable address. */
static unsigned char *reserve(struct rp_map *m, bool huge)
{
	uintptr_t a;

	m->raw_len = m->len + 2 * RP_BASE_PAGE + (huge ? RP_HUGE_SIZE : 0);
	m->raw = mmap(NULL, m->raw_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	if (m->raw == MAP_FAILED) {
		m->raw = NULL;
		return NULL;
	}
	a = (uintptr_t)m->raw + RP_BASE_PAGE;
	if (huge)
		a = (a + RP_HUGE_SIZE - 1) & ~(RP_HUGE_SIZE - 1);
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

static int fork_sharer(struct rp_map *m, int timeout_ms)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (!pid) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		/* hold the COW-shared pages until the case is done (EOF) or the bound ends */
		poll(&pfd, 1, timeout_ms);
		_exit(0);
	}
	close(p[0]);
	m->sharer = pid;
	m->sharer_ctl = p[1];
	return 0;
}

/* Is /dev/shm a tmpfs whose files get THPs (huge=always|within_size, or shmem_enabled force)? */
static bool shm_is_huge(void)
{
	char line[512], buf[128];
	bool huge = false;
	FILE *f;

	if (!rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/shmem_enabled", buf, sizeof(buf)) &&
	    strstr(buf, "[force]"))
		return dir_is_tmpfs("/dev/shm");
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "tmpfs /dev/shm tmpfs ", 21) || strstr(line, " /dev/shm tmpfs "))
			huge = strstr(line, "huge=always") || strstr(line, "huge=within_size");
	fclose(f);
	return huge;
}

/*
 * A directory on a tmpfs that gives files THPs: as root our own huge=always mount on a private
 * temporary directory, in a private mount namespace where possible (the caller detaches it
 * once the file is made: *mounted), else /dev/shm when it already is huge.
 */
static int huge_tmpfs_dir(char *dir, size_t len, bool *mounted, char *why, size_t whylen)
{
	int err = EPERM;

	*mounted = false;
	snprintf(dir, len, "/tmp/rdmapin-huge.XXXXXX");
	if (geteuid() == 0 && mkdtemp(dir)) {
		if (!unshare(CLONE_NEWNS))
			mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		if (!mount("rdmapin", dir, "tmpfs", MS_NOSUID | MS_NODEV,
			   "huge=always,size=8m,mode=0700")) {
			*mounted = true;
			return 0;
		}
		err = errno;
		rmdir(dir);
	}
	if (shm_is_huge()) {
		snprintf(dir, len, "/dev/shm");
		return 0;
	}
	snprintf(why, whylen, "no tmpfs with THPs: mount -t tmpfs -o huge=always %s (%s) and "
		 "/dev/shm is not huge=always|within_size", geteuid() ? "needs root" : "failed",
		 strerrorname_np(err) ?: "?");
	return -EOPNOTSUPP;
}

/*
 * Merge the identical pages of m with KSM: MADV_MERGEABLE, start ksmd if it is stopped (and
 * stop it again afterwards: run=0 keeps merged pages merged), wait until every page maps one
 * KSM page (kpageflags KPF_KSM), bounded.
 */
static int ksm_merge(struct rp_map *m, int timeout_ms, char *why, size_t whylen)
{
	static const char run_path[] = "/sys/kernel/mm/ksm/run";
	size_t n = rp_map_base_pages(m), i, merged = 0;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int waited, bound = timeout_ms / 2 < 30000 ? timeout_ms / 2 : 30000;
	bool started = false;
	char run[16], sharing[32] = "?";
	uint64_t *pm, kpf;
	int ret;

	if (n < 2) {
		snprintf(why, whylen, "KSM needs at least two identical pages (--pages >= 2)");
		return -EOPNOTSUPP;
	}
	if (madvise(m->addr, m->len, MADV_MERGEABLE)) {
		ret = -errno;
		snprintf(why, whylen, "no KSM: madvise(MADV_MERGEABLE): %s",
			 strerrorname_np(-ret) ?: "?");
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	if (rp_sysfile_read(run_path, run, sizeof(run))) {
		snprintf(why, whylen, "no KSM (no %s)", run_path);
		return -EOPNOTSUPP;
	}
	pm = calloc(n, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	if (run[0] != '1') {
		const char *no = getenv("RDMAPIN_NO_KSMD");

		ret = no && *no ? -EPERM : rp_sysfile_write(run_path, "1");
		if (ret) {
			snprintf(why, whylen, "ksmd is stopped and rdmapin may not start it (%s: %s)",
				 no && *no ? "RDMAPIN_NO_KSMD is set" : run_path,
				 strerrorname_np(-ret) ?: "?");
			ret = -EOPNOTSUPP;
			goto out;
		}
		started = true;
	}
	for (waited = 0; waited <= bound; waited += 20) {
		ret = rp_pagemap_read(m->addr, n, pm);
		if (ret)
			goto out;
		if (!rp_pfns_visible(pm, n)) {
			snprintf(why, whylen, "KSM merging cannot be verified: pagemap shows no PFNs "
				 "(needs CAP_SYS_ADMIN)");
			ret = -EOPNOTSUPP;
			goto out;
		}
		for (merged = 0, i = 0; i < n; i++)
			merged += (pm[i] & RP_PM_PRESENT) &&
				  (pm[i] & RP_PM_PFN_MASK) == (pm[0] & RP_PM_PFN_MASK) &&
				  !rp_kpageflags(pm[i] & RP_PM_PFN_MASK, &kpf) &&
				  (kpf & (1ULL << RP_KPF_KSM));
		if (merged == n)
			break;
		nanosleep(&ts, NULL);
	}
	rp_sysfile_read("/sys/kernel/mm/ksm/pages_sharing", sharing, sizeof(sharing));
	sharing[strcspn(sharing, "\n")] = 0;
	if (merged != n) {
		snprintf(why, whylen, "ksmd merged %zu/%zu pages within %d ms (pages_sharing %s)",
			 merged, n, bound, sharing);
		ret = -EOPNOTSUPP;
		goto out;
	}
	snprintf(m->verified, sizeof(m->verified), "KPF_KSM, one PFN, %d ms (pages_sharing %.12s)",
		 waited, sharing);
	ret = 0;
out:
	if (started)
		rp_sysfile_write(run_path, "0");
	free(pm);
	return ret;
}

int rp_map_create(struct rp_map *m, enum rp_backing kind, size_t pages, uint64_t seed,
		  int timeout_ms, char *why, size_t whylen)
{
	const struct rp_backing_info *bi = rp_backing_info(kind);
	bool huge = bi && (bi->flags & (RP_BF_THP | RP_BF_HUGETLB));

	if (!huge && (!pages || pages > SIZE_MAX / RP_BASE_PAGE))
		pages = 0; /* rp_map_create_len() refuses it */
	return rp_map_create_len(m, kind, huge ? RP_HUGE_SIZE : pages * RP_BASE_PAGE, seed,
				 timeout_ms, why, whylen);
}

/* several huge pages: only where every 2 MiB of the range is alike */
static bool multi_huge_ok(enum rp_backing kind)
{
	return kind == RP_B_THP_ZERO || kind == RP_B_THP_POPULATED ||
	       kind == RP_B_HUGETLB_PRIVATE || kind == RP_B_HUGETLB_FILE_PRIVATE;
}

int rp_map_create_len(struct rp_map *m, enum rp_backing kind, size_t len, uint64_t seed,
		      int timeout_ms, char *why, size_t whylen)
{
	const struct rp_backing_info *bi = rp_backing_info(kind);
	unsigned char *want;
	const char *dir;
	bool huge;
	void *p;
	int ret;

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->fd = m->wfd = m->sharer_ctl = -1;
	huge = bi && (bi->flags & (RP_BF_THP | RP_BF_HUGETLB));
	if (!bi || !len || len % (huge ? RP_HUGE_SIZE : RP_BASE_PAGE) ||
	    (huge && len != RP_HUGE_SIZE && !multi_huge_ok(kind))) {
		snprintf(why, whylen, "bad backing or length");
		return -EINVAL;
	}
	m->page_size = huge ? RP_HUGE_SIZE : RP_BASE_PAGE;
	m->len = len;
	snprintf(m->fsname, sizeof(m->fsname), "-");

	if (bi->flags & RP_BF_THP) {
		ret = thp_available(bi->flags & RP_BF_ZERO, why, whylen);
		if (ret)
			return ret;
	}
	if (kind == RP_B_HUGETLB_PRIVATE) {
		p = mmap(NULL, m->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED) {
			ret = -errno;
			snprintf(why, whylen, "no 2 MiB huge page could be reserved (mmap MAP_HUGETLB: %s)",
				 strerrorname_np(-ret) ?: "?");
			return ret == -EINVAL ? -EOPNOTSUPP : ret;
		}
		m->raw = p;
		m->raw_len = m->len;
		m->addr = p;
		goto populate;
	}

	want = reserve(m, huge);
	if (!want) {
		ret = -errno;
		snprintf(why, whylen, "mmap reservation: %s", strerrorname_np(-ret) ?: "?");
		return ret;
	}
	if (bi->flags & RP_BF_ANON) {
		p = mmap(want, m->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
	} else if (bi->flags & RP_BF_HUGETLB) {
		ret = make_hugetlb_file(m, seed, why, whylen);
		if (ret)
			return ret;
		p = mmap(want, m->len, PROT_READ, MAP_PRIVATE | MAP_FIXED, m->fd, 0);
	} else {
		bool shared = bi->flags & RP_BF_SHARED, mounted = false;
		char hdir[64];

		dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
		if (kind == RP_B_SHMEM_THP_PRIVATE) {
			ret = huge_tmpfs_dir(hdir, sizeof(hdir), &mounted, why, whylen);
			if (ret)
				return ret;
			dir = hdir;
		}
		if (kind == RP_B_TMPFS_PRIVATE && !dir_is_tmpfs(dir)) {
			if (!dir_is_tmpfs("/dev/shm")) {
				snprintf(why, whylen, "neither $TMPDIR (%s) nor /dev/shm is tmpfs", dir);
				return -EOPNOTSUPP;
			}
			dir = "/dev/shm";
		}
		ret = make_file(m, dir, kind == RP_B_MEMFD_PRIVATE, kind == RP_B_FILE_SHARED_RW,
				seed, why, whylen);
		if (mounted) { /* the open file keeps the detached mount alive */
			umount2(dir, MNT_DETACH);
			rmdir(dir);
		}
		if (ret)
			return ret;
		p = mmap(want, m->len, PROT_READ, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED,
			 m->fd, 0);
	}
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "mmap %s: %s", bi->name, strerrorname_np(-ret) ?: "?");
		return ret;
	}
	m->addr = p;
	if (bi->flags & RP_BF_THP)
		ret = madvise(p, m->len, MADV_HUGEPAGE);
	else if (bi->flags & RP_BF_ANON)
		ret = madvise(p, m->len, MADV_NOHUGEPAGE);
	else
		ret = 0;
	if (ret) {
		ret = -errno;
		snprintf(why, whylen, "madvise(%s): %s",
			 bi->flags & RP_BF_THP ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE",
			 strerrorname_np(-ret) ?: "?");
		return ret;
	}

populate:
	if ((bi->flags & RP_BF_ANON) && !(bi->flags & RP_BF_ZERO))
		rp_map_initial(kind, m->addr, m->len, seed);
	else
		touch_read(m);
	if (kind == RP_B_THP_PTE_FORKED &&
	    madvise(m->addr + m->len / 2, m->len / 2, MADV_DONTFORK)) {
		ret = -errno;
		snprintf(why, whylen, "madvise(MADV_DONTFORK): %s", strerrorname_np(-ret) ?: "?");
		return ret;
	}
	if (kind == RP_B_ANON_FORKED || kind == RP_B_THP_PTE_FORKED ||
	    kind == RP_B_THP_PTE_MPROTECT) {
		ret = fork_sharer(m, timeout_ms);
		if (ret) {
			snprintf(why, whylen, "fork (sharer child): %s", strerrorname_np(-ret) ?: "?");
			return ret;
		}
	}
	if (kind == RP_B_THP_PTE_MPROTECT && mprotect(m->addr, m->len / 2, PROT_READ)) {
		ret = -errno;
		snprintf(why, whylen, "mprotect(lower half): %s", strerrorname_np(-ret) ?: "?");
		return ret;
	}
	if (bi->flags & RP_BF_KSM)
		return ksm_merge(m, timeout_ms, why, whylen);
	return 0;
}

int rp_map_make_ro(struct rp_map *m)
{
	return mprotect(m->addr, m->len, PROT_READ) ? -errno : 0;
}

/* Are the PFNs of every 2 MiB contiguous and 2 MiB aligned, as for PMD-mapped huge pages? */
static bool pfns_huge(const uint64_t *pm, size_t n)
{
	const size_t per = RP_HUGE_SIZE / RP_BASE_PAGE;
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
		snprintf(why, whylen, "pagemap: %s", strerrorname_np(-ret) ?: "?");
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

		if ((pfns && !pfns_huge(pm, n)) || (!kret && (kpf & need) != need)) {
			if (hugetlb)
				goto bad;
			snprintf(why, whylen, "%s", m->kind == RP_B_THP_ZERO ?
				 "a read fault did not map the huge zeropage" :
				 "a write fault did not allocate a THP (no free 2 MiB block?)");
			ret = -EOPNOTSUPP;
			goto out;
		}
		snprintf(m->verified, sizeof(m->verified), "%s", !pfns ? "unverified (no PFNs)" :
			 kret ? "2 MiB-aligned contiguous PFNs" :
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
		    !pfns_huge(pm, n)) {
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

		if ((pfns && !pfns_huge(pm, n)) || (!kret && !(kpf & (1ULL << RP_KPF_THP)))) {
			snprintf(why, whylen, "a write fault did not allocate a THP (no free 2 MiB "
				 "block?)");
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

void rp_map_describe(const struct rp_map *m, char *buf, size_t len)
{
	const struct rp_backing_info *bi = rp_backing_info(m->kind);

	snprintf(buf, len, "%s: %zu x %s%s%s, %s", bi->name, m->len / m->page_size,
		 m->page_size == RP_HUGE_SIZE ? "2 MiB" : "4 KiB",
		 strcmp(m->fsname, "-") ? " on " : "", strcmp(m->fsname, "-") ? m->fsname : "",
		 m->verified[0] ? m->verified : "unchecked");
}

static void reap(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void rp_map_destroy(struct rp_map *m)
{
	if (m->sharer_ctl >= 0)
		close(m->sharer_ctl);
	if (m->sharer > 0)
		reap(m->sharer);
	if (m->raw)
		munmap(m->raw, m->raw_len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->wfd >= 0)
		close(m->wfd);
	memset(m, 0, sizeof(*m));
	m->fd = m->wfd = m->sharer_ctl = -1;
}
