// SPDX-License-Identifier: GPL-2.0
/* mapfile.c - the files behind the file backing kinds; see map_int.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "errname.h"
#include "map_int.h"
#include "pattern.h"
#include "sysfile.h"

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

bool rp_mapfile_on_tmpfs(const char *dir)
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

int rp_mapfile_make(struct rp_map *m, const char *dir, bool memfd, bool rw_map, uint64_t seed,
		    char *why, size_t whylen)
{
	char path[PATH_MAX];
	void *buf;
	int ret;

	if (memfd) {
		m->wfd = memfd_create("rdmapin", MFD_CLOEXEC);
		if (m->wfd < 0) {
			ret = -errno;
			snprintf(why, whylen, "memfd_create: %s", rp_errname(ret));
			return ret;
		}
	} else {
		snprintf(path, sizeof(path), "%s/rdmapin.XXXXXX", dir);
		m->wfd = mkostemp(path, O_CLOEXEC);
		if (m->wfd < 0) {
			ret = -errno;
			snprintf(why, whylen, "mkstemp(%s): %s", path, rp_errname(ret));
			return ret;
		}
		m->fd = open(path, (rw_map ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		ret = m->fd < 0 ? -errno : 0;
		unlink(path);
		if (ret) {
			snprintf(why, whylen, "open(%s): %s", path, rp_errname(ret));
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
		snprintf(why, whylen, "write backing file: %s", rp_errname(ret));
		return ret;
	}
	if (memfd) {
		m->fd = dup(m->wfd);
		if (m->fd < 0)
			return -errno;
	}
	return 0;
}

/* hugetlbfs has no write(): the file is filled through a temporary MAP_SHARED mapping */
int rp_mapfile_hugetlb(struct rp_map *m, uint64_t seed, char *why, size_t whylen)
{
	char sz[16];
	void *p;
	int ret;

	m->wfd = memfd_create("rdmapin", MFD_CLOEXEC | MFD_HUGETLB);
	if (m->wfd < 0) {
		ret = -errno;
		snprintf(why, whylen, "memfd_create(MFD_HUGETLB): %s", rp_errname(ret));
		return ret == -EINVAL ? -EOPNOTSUPP : ret;
	}
	fs_name(m->wfd, m->fsname, sizeof(m->fsname));
	if (ftruncate(m->wfd, (off_t)m->len)) {
		ret = -errno;
		snprintf(why, whylen, "ftruncate(hugetlbfs memfd): %s", rp_errname(ret));
		return ret;
	}
	p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, m->wfd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "no %s huge page could be reserved (mmap hugetlbfs memfd: %s)",
			 rp_size_str(m->page_size, sz, sizeof(sz)), rp_errname(ret));
		return ret;
	}
	rp_pattern_fill(p, m->len, seed, 0);
	munmap(p, m->len);
	m->fd = dup(m->wfd);
	return m->fd < 0 ? -errno : 0;
}

/* Is /dev/shm a tmpfs whose files get THPs (huge=always|within_size, or shmem_enabled force)? */
static bool shm_is_huge(void)
{
	char line[512], buf[128];
	bool huge = false;
	FILE *f;

	if (!rp_sysfile_read("/sys/kernel/mm/transparent_hugepage/shmem_enabled", buf,
			     sizeof(buf)) && strstr(buf, "[force]"))
		return rp_mapfile_on_tmpfs("/dev/shm");
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
 * As root our own huge=always mount on a private temporary directory, in a private mount
 * namespace where possible, else /dev/shm when it already is huge.
 */
int rp_mapfile_huge_dir(char *dir, size_t len, bool *mounted, char *why, size_t whylen)
{
	char opts[64];
	int err = EPERM;

	*mounted = false;
	snprintf(dir, len, "/tmp/rdmapin-huge.XXXXXX");
	snprintf(opts, sizeof(opts), "huge=always,size=%zuk,mode=0700",
		 4 * (rp_thp_size() ? rp_thp_size() : rp_page_size()) / 1024);
	if (geteuid() == 0 && mkdtemp(dir)) {
		if (!unshare(CLONE_NEWNS))
			mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		if (!mount("rdmapin", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts)) {
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
		 rp_errname(err));
	return -EOPNOTSUPP;
}
