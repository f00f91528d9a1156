// SPDX-License-Identifier: GPL-2.0
/* mutate.c - mutations after registration; see mutate.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mutate.h"
#include "pattern.h"
#include "reap.h"

static const struct rp_mutation_info mutations[RP_M__COUNT] = {
	[RP_M_REGISTER] = { "register", "nothing after registration: probe the registration itself" },
	[RP_M_MPROTECT_STORE] = { "mprotect_store",
		"mprotect(PROT_READ|PROT_WRITE), then store new data through the mapping" },
	[RP_M_PROC_MEM] = { "proc_mem",
		"write new data through /proc/self/mem without mprotect (FOLL_FORCE, as ptrace)" },
	[RP_M_FORK_STORE] = { "fork_store",
		"fork(); the child stores into its own copy, then the parent stores new data" },
	[RP_M_PWRITE] = { "pwrite", "pwrite() new data through another O_RDWR fd of the file" },
	[RP_M_MADV_DONTNEED] = { "madv_dontneed",
		"control: MADV_DONTNEED after registration; the pin keeps the old page" },
	[RP_M_WRITABLE_MR] = { "writable_mr_on_ro",
		"control: a writable MR over memory the process cannot write must be refused" },
};

const struct rp_mutation_info *rp_mutation_info(enum rp_mutation mu)
{
	return mu < RP_M__COUNT ? &mutations[mu] : NULL;
}

static int store(struct rp_map *m, const unsigned char *data, const char **step)
{
	if (mprotect(m->addr, m->len, PROT_READ | PROT_WRITE)) {
		*step = "mprotect(PROT_READ|PROT_WRITE)";
		return -errno;
	}
	memcpy(m->addr, data, m->len);
	return 0;
}

static int proc_mem_write(struct rp_map *m, const unsigned char *data, const char **step)
{
	size_t done = 0;
	int fd, ret = 0;

	fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*step = "open(/proc/self/mem)";
		return -errno;
	}
	while (done < m->len) {
		ssize_t n = pwrite(fd, data + done, m->len - done,
				   (off_t)(uintptr_t)(m->addr + done));
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			*step = "pwrite(/proc/self/mem)";
			break;
		}
		done += (size_t)n;
	}
	close(fd);
	return ret;
}

static int fork_store(struct rp_map *m, const unsigned char *data, uint64_t seed,
		      int timeout_ms, struct rp_mut_state *st, const char **step)
{
	unsigned char *mine;
	struct pollfd pfd;
	int up[2], down[2];
	char c;
	int ret;

	/* the child's own pattern, made before fork(): no malloc in the child */
	mine = malloc(m->len);
	if (!mine) {
		*step = "malloc";
		return -ENOMEM;
	}
	rp_pattern_fill(mine, m->len, seed, 2);
	if (pipe2(up, O_CLOEXEC)) {
		ret = -errno;
		*step = "pipe";
		free(mine);
		return ret;
	}
	if (pipe2(down, O_CLOEXEC)) {
		*step = "pipe";
		ret = -errno;
		goto close_up;
	}
	st->child = fork();
	if (st->child < 0) {
		*step = "fork";
		ret = -errno;
		st->child = 0;
		goto close_down;
	}
	if (!st->child) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(up[0]);
		close(down[1]);
		if (mprotect(m->addr, m->len, PROT_READ | PROT_WRITE))
			_exit(1);
		memcpy(m->addr, mine, m->len);
		c = memcmp(m->addr, mine, m->len) ? 'x' : 'k';
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		pfd = (struct pollfd){ .fd = down[0], .events = POLLIN };
		poll(&pfd, 1, timeout_ms); /* keep the copy alive until the parent read */
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	up[1] = down[0] = -1;
	st->ctl = down[1];
	pfd = (struct pollfd){ .fd = up[0], .events = POLLIN };
	ret = poll(&pfd, 1, timeout_ms);
	if (ret <= 0 || read(up[0], &c, 1) != 1) {
		*step = ret == 0 ? "fork child: no store within the timeout" :
			"fork child: died before storing";
		ret = ret == 0 ? -ETIMEDOUT : -ECHILD;
		goto close_up;
	}
	if (c != 'k') {
		*step = "fork child: its store did not show in its own mapping";
		ret = -EPROTO;
		goto close_up;
	}
	ret = store(m, data, step);
	goto close_up;

close_down:
	close(down[0]);
	close(down[1]);
close_up:
	if (up[0] >= 0)
		close(up[0]);
	if (up[1] >= 0)
		close(up[1]);
	free(mine);
	return ret;
}

int rp_mutate(enum rp_mutation mu, struct rp_map *m, unsigned char *expect, uint64_t seed,
	      int timeout_ms, struct rp_mut_state *st, const char **step)
{
	const struct rp_backing_info *bi = rp_backing_info(m->kind);
	unsigned char *data;
	int ret = 0;

	data = malloc(m->len);
	if (!data) {
		*step = "malloc";
		return -ENOMEM;
	}
	rp_pattern_fill(data, m->len, seed, 1);
	switch (mu) {
	case RP_M_REGISTER:
	case RP_M_WRITABLE_MR:
		break;
	case RP_M_MPROTECT_STORE:
		ret = store(m, data, step);
		break;
	case RP_M_PROC_MEM:
		ret = proc_mem_write(m, data, step);
		break;
	case RP_M_FORK_STORE:
		ret = fork_store(m, data, seed, timeout_ms, st, step);
		break;
	case RP_M_PWRITE:
		if (m->wfd < 0) {
			*step = "pwrite: backing has no file";
			ret = -EINVAL;
			break;
		}
		if (pwrite(m->wfd, data, m->len, 0) != (ssize_t)m->len) {
			*step = "pwrite(backing file)";
			ret = -errno ?: -EIO;
		}
		break;
	case RP_M_MADV_DONTNEED:
		if (madvise(m->addr, m->len, MADV_DONTNEED)) {
			*step = "madvise(MADV_DONTNEED)";
			ret = -errno;
			break;
		}
		/* anonymous memory reads back as zeros; a private file mapping as the file */
		if (bi->flags & RP_BF_ANON)
			memset(data, 0, m->len);
		else if (pread(m->fd, data, m->len, 0) != (ssize_t)m->len)
			ret = -EIO, *step = "pread(backing file)";
		break;
	default:
		*step = "unknown mutation";
		ret = -EINVAL;
	}
	if (!ret && mu != RP_M_REGISTER && mu != RP_M_WRITABLE_MR)
		memcpy(expect, data, m->len);
	free(data);
	return ret;
}

void rp_mutate_finish(struct rp_mut_state *st)
{
	if (st->ctl >= 0) {
		close(st->ctl);
		st->ctl = -1;
	}
	if (st->child > 0)
		rp_reap(st->child, 2000); /* bounded: SIGKILL after 2 s, gives up 5 s later */
	st->child = 0;
}
