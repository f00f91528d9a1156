// SPDX-License-Identifier: GPL-2.0
/*
 * backing.c - the memory of a sweep row.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backing.h"

#define SW_PAGE 4096UL
#define SW_HUGE (2UL << 20)
#define SW_PAGES 4

static void fill(unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + 1);
}

static int write_all(int fd, size_t len)
{
	unsigned char buf[4096];
	size_t done = 0;

	fill(buf, sizeof(buf));
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	return 0;
}

/* A file of len pattern bytes in dir, reopened with flags; the path is kept for unlink. */
static int make_file(struct sw_map *m, const char *dir, size_t len, int flags, const char **why)
{
	int fd, ret;

	snprintf(m->path, sizeof(m->path), "%s/ibv-reg-sweep.XXXXXX", dir);
	fd = mkstemp(m->path);
	if (fd < 0) {
		m->path[0] = '\0';
		*why = "mkstemp";
		return -errno;
	}
	ret = write_all(fd, len);
	close(fd);
	if (ret) {
		*why = "write";
		return ret;
	}
	m->fd = open(m->path, flags);
	if (m->fd < 0) {
		*why = "open";
		return -errno;
	}
	return 0;
}

static int map_kind(const struct sw_row *row, const char *dir, struct sw_map *m, size_t len,
		    int prot, const char **why)
{
	void *p;
	int ret;

	switch (row->kind) {
	case SW_ANON_PRIVATE:
		p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case SW_ANON_SHARED:
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			fill(p, len);
			if (mprotect(p, len, prot)) {
				ret = -errno;
				munmap(p, len);
				*why = "mprotect";
				return ret;
			}
		}
		break;
	case SW_FILE_PRIVATE:
	case SW_FILE_SHARED_RO:
	case SW_FILE_SHARED_RW:
		ret = make_file(m, dir, len, row->kind == SW_FILE_SHARED_RW ? O_RDWR : O_RDONLY,
				why);
		if (ret)
			return ret;
		p = mmap(NULL, len, prot, row->kind == SW_FILE_PRIVATE ? MAP_PRIVATE : MAP_SHARED,
			 m->fd, 0);
		break;
	case SW_MEMFD:
		m->fd = memfd_create("ibv-reg-sweep", MFD_CLOEXEC);
		if (m->fd < 0) {
			*why = "memfd_create";
			return -errno;
		}
		ret = write_all(m->fd, len);
		if (ret) {
			*why = "write(memfd)";
			return ret;
		}
		p = mmap(NULL, len, prot, MAP_SHARED, m->fd, 0);
		break;
	case SW_THP: {
		/* over-allocate, keep a 2 MiB aligned 2 MiB window */
		char *raw = mmap(NULL, 2 * SW_HUGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *al;

		if (raw == MAP_FAILED) {
			*why = "mmap(thp)";
			return -errno;
		}
		al = (char *)(((uintptr_t)raw + SW_HUGE - 1) & ~(SW_HUGE - 1));
		if (al > raw)
			munmap(raw, (size_t)(al - raw));
		munmap(al + SW_HUGE, (size_t)(raw + 2 * SW_HUGE - (al + SW_HUGE)));
		if (madvise(al, SW_HUGE, MADV_HUGEPAGE)) {
			ret = -errno;
			munmap(al, SW_HUGE);
			*why = "madvise(MADV_HUGEPAGE)";
			return ret;
		}
		p = al;
		break;
	}
	case SW_HUGETLB:
		p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED) {
			*why = "mmap(MAP_HUGETLB)";
			return -errno;
		}
		break;
	default:
		*why = "unknown kind";
		return -EINVAL;
	}
	if (p == MAP_FAILED) {
		*why = "mmap";
		return -errno;
	}
	m->base = p;
	m->len = len;
	return 0;
}

int sw_map_create(const struct sw_row *row, const char *dir, struct sw_map *m, const char **why)
{
	size_t len = SW_PAGES * SW_PAGE;
	int prot = sw_prot_bits(row->prot);
	char *b;
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	*why = "";
	if (row->kind == SW_THP || row->kind == SW_HUGETLB)
		len = SW_HUGE;
	if (row->edge == SW_TWO_VMAS_RW_R || row->edge == SW_TWO_VMAS_R_RW)
		len = 2 * SW_PAGE;
	else if (row->edge == SW_HOLE)
		len = 3 * SW_PAGE;

	ret = map_kind(row, dir, m, len, prot, why);
	if (ret)
		return ret;
	b = m->base;
	m->reg_addr = b;
	m->reg_len = len;

	switch (row->edge) {
	case SW_ZERO_LEN:
		m->reg_len = 0;
		break;
	case SW_UNALIGNED:
		m->reg_addr = b + 100;
		m->reg_len = 2 * SW_PAGE + 50;
		break;
	case SW_TWO_VMAS_RW_R:
	case SW_TWO_VMAS_R_RW:
		if (mprotect(row->edge == SW_TWO_VMAS_RW_R ? b + SW_PAGE : b, SW_PAGE, PROT_READ)) {
			*why = "mprotect(second VMA)";
			return -errno;
		}
		break;
	case SW_HOLE:
		if (munmap(b + SW_PAGE, SW_PAGE)) {
			*why = "munmap(hole)";
			return -errno;
		}
		m->hole_off = SW_PAGE;
		break;
	default:
		break;
	}
	return 0;
}

void sw_map_unmap(struct sw_map *m)
{
	if (!m->base)
		return;
	munmap(m->base, m->len); /* munmap of the hole page is harmless */
	m->base = NULL;
}

void sw_map_destroy(struct sw_map *m)
{
	sw_map_unmap(m);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->path[0])
		unlink(m->path);
	m->path[0] = '\0';
}

long long sw_pfn(const void *addr)
{
	uint64_t ent;
	off_t off = (off_t)((uintptr_t)addr / SW_PAGE) * 8;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent), off);
	close(fd);
	if (n != sizeof(ent))
		return -EIO;
	if (!(ent >> 63))
		return 0;
	return (long long)(ent & ((1ULL << 55) - 1));
}
