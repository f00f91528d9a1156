// SPDX-License-Identifier: GPL-2.0
/* measure.c - registration cost of one (device, backing, size) with yardsticks; see measure.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <infiniband/verbs.h>

#include "measure.h"
#include "stats.h"

#define BS_PAGE 4096UL

int bs_backing_fits(enum rp_backing kind, size_t size)
{
	const struct rp_backing_info *bi = rp_backing_info(kind);

	if (!bi || !size || size % BS_PAGE)
		return 0;
	if (bi->flags & (RP_BF_THP | RP_BF_HUGETLB))
		return size % RP_HUGE_SIZE == 0;
	return 1;
}

int bs_backing_by_name(const char *name)
{
	int k;

	for (k = 0; k < RP_B__COUNT; k++)
		if (!strcmp(rp_backing_info(k)->name, name))
			return k;
	return -EINVAL;
}

static volatile unsigned char sink;

/* memcpy of len bytes from src to dst (both populated), in ns */
static double time_copy(unsigned char *dst, const unsigned char *src, size_t len)
{
	uint64_t t0 = bs_now_ns();

	memcpy(dst, src, len);
	sink = dst[len - 1];
	return (double)(bs_now_ns() - t0);
}

/* write fault-in of len bytes of fresh anonymous 4 KiB pages, in ns (< 0: -errno of mmap) */
static double time_fault(size_t len)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t t0;
	double t;
	size_t i;

	if (p == MAP_FAILED)
		return -errno;
	madvise(p, len, MADV_NOHUGEPAGE);
	t0 = bs_now_ns();
	for (i = 0; i < len; i += BS_PAGE)
		p[i] = 1;
	t = (double)(bs_now_ns() - t0);
	munmap(p, len);
	return t;
}

/*
 * One untimed 4 KiB registration first: a fresh child's first ibv_reg_mr pays for faulting in
 * the verbs library's and provider's pages and allocations, which is not what is measured.
 */
static void warm_up(struct ibv_pd *pd, void *buf)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, buf, BS_PAGE, IBV_ACCESS_REMOTE_READ);

	if (mr)
		ibv_dereg_mr(mr);
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	errno = ENODEV;
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name)) {
			ctx = ibv_open_device(list[i]);
			break;
		}
	ibv_free_device_list(list);
	return ctx;
}

static int fail(struct bs_rec *out, enum bs_status st, int err, const char *fmt, const char *a,
		const char *b)
{
	out->status = st;
	out->err = st == BS_SKIP ? 0 : err;
	snprintf(out->why, sizeof(out->why), fmt, a, b);
	return st == BS_ERROR ? err : 0;
}

int bs_measure_reg(const struct bs_reg_job *job, struct bs_rec *out)
{
	const struct rp_backing_info *bi = rp_backing_info(job->kind);
	double *reg, *dereg, *copy, *fault;
	unsigned char *src = MAP_FAILED, *dst = MAP_FAILED;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	unsigned int i, n = 0;
	char why[160];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->type = BS_REG;
	snprintf(out->device, sizeof(out->device), "%s", job->device);
	snprintf(out->backing, sizeof(out->backing), "%s", bi ? bi->name : "?");
	out->size = job->size;
	if (!bi || !job->reps || !bs_backing_fits(job->kind, job->size))
		return fail(out, BS_ERROR, -EINVAL, "%s%s: bad job", out->backing, "");

	reg = calloc(4 * (size_t)job->reps, sizeof(double));
	if (!reg)
		return fail(out, BS_ERROR, -ENOMEM, "calloc%s%s", "", "");
	dereg = reg + job->reps;
	copy = dereg + job->reps;
	fault = copy + job->reps;

	ctx = open_device(job->device);
	if (!ctx) {
		ret = fail(out, BS_ERROR, -errno, "ibv_open_device(%s): %s", job->device,
			   strerrorname_np(errno) ?: "?");
		goto out;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		ret = fail(out, BS_ERROR, -(errno ?: ENOMEM), "ibv_alloc_pd(%s): %s", job->device,
			   strerrorname_np(errno ?: ENOMEM) ?: "?");
		goto out;
	}
	src = mmap(NULL, job->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	dst = mmap(NULL, job->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		ret = fail(out, BS_ERROR, -ENOMEM, "mmap of the memcpy buffers: %s%s",
			   strerrorname_np(errno) ?: "?", "");
		goto out;
	}
	/*
	 * anon_forked forks a sharer per repetition: without MADV_DONTFORK the buffers would be
	 * COW-shared too and every memcpy would pay a write fault per page (the 2026-11-30
	 * measurement did: its anon_forked memcpy figures are high)
	 */
	if (madvise(src, job->size, MADV_DONTFORK) || madvise(dst, job->size, MADV_DONTFORK)) {
		ret = fail(out, BS_ERROR, -errno, "madvise(MADV_DONTFORK): %s%s",
			   strerrorname_np(errno) ?: "?", "");
		goto out;
	}
	memset(src, 0x5a, job->size);
	memset(dst, 0xa5, job->size);
	warm_up(pd, src);

	for (i = 0; i < job->reps; i++) {
		struct ibv_mr *mr;
		struct rp_map m;
		uint64_t t0, t1, t2;
		double f;

		ret = rp_map_create_len(&m, job->kind, job->size, 0x5eed + i, job->timeout_ms, why,
					sizeof(why));
		if (!ret && i == 0)
			ret = rp_map_check(&m, why, sizeof(why));
		if (!ret)
			ret = rp_map_make_ro(&m);
		if (ret) {
			rp_map_destroy(&m);
			if (ret == -EOPNOTSUPP || ret == -ENOMEM)
				ret = fail(out, BS_SKIP, ret, "%s%s", why, "");
			else
				ret = fail(out, BS_ERROR, ret, "%s: %s", bi->name, why);
			goto out;
		}
		errno = 0;
		t0 = bs_now_ns();
		mr = ibv_reg_mr(pd, m.addr, m.len, IBV_ACCESS_REMOTE_READ);
		t1 = bs_now_ns();
		if (!mr) {
			int e = errno ?: EINVAL;

			rp_map_destroy(&m);
			fail(out, BS_REGFAIL, -e, "ibv_reg_mr(REMOTE_READ): %s%s",
			     strerrorname_np(e) ?: "?", "");
			ret = 0;
			n = i;
			/* the yardsticks are still worth having: the row says what failed */
			for (; i < job->reps; i++) {
				copy[i - n] = time_copy(dst, src, job->size);
				f = time_fault(job->size);
				fault[i - n] = f < 0 ? 0 : f;
			}
			bs_stat_of(copy, job->reps - n, &out->copy);
			bs_stat_of(fault, job->reps - n, &out->fault);
			goto out;
		}
		ret = ibv_dereg_mr(mr);
		t2 = bs_now_ns();
		rp_map_destroy(&m);
		if (ret) {
			ret = fail(out, BS_ERROR, -ret, "ibv_dereg_mr: %s%s",
				   strerrorname_np(ret) ?: "?", "");
			goto out;
		}
		reg[i] = (double)(t1 - t0);
		dereg[i] = (double)(t2 - t1);
		copy[i] = time_copy(dst, src, job->size);
		f = time_fault(job->size);
		if (f < 0) {
			ret = fail(out, BS_ERROR, (int)f, "mmap for the fault-in: %s%s",
				   strerrorname_np((int)-f) ?: "?", "");
			goto out;
		}
		fault[i] = f;
	}
	out->status = BS_OK;
	bs_stat_of(reg, job->reps, &out->reg);
	bs_stat_of(dereg, job->reps, &out->dereg);
	bs_stat_of(copy, job->reps, &out->copy);
	bs_stat_of(fault, job->reps, &out->fault);
	ret = 0;
out:
	if (src != MAP_FAILED)
		munmap(src, job->size);
	if (dst != MAP_FAILED)
		munmap(dst, job->size);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ctx)
		ibv_close_device(ctx);
	free(reg);
	return ret;
}
