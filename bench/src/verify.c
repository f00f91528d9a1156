// SPDX-License-Identifier: GPL-2.0
/* verify.c - throughput of rdmapin's RDMA READ + compare path; see verify.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "mapping.h"
#include "stats.h"
#include "transport.h"
#include "verify.h"

static int fail(struct bs_rec *out, int err, const char *what, const char *detail)
{
	out->status = BS_ERROR;
	out->err = err;
	snprintf(out->why, sizeof(out->why), "%s: %s", what, detail ?: "?");
	return err;
}

int bs_measure_verify(const struct bs_verify_job *job, struct bs_rec *out)
{
	struct rp_tp_opts opts = {
		.device = job->device,
		.timeout_ms = job->timeout_ms,
		.max_len = job->size,
	};
	unsigned char *expect = NULL, *got = NULL; /* expect: checks the backing, not timed */
	struct rp_tp *tp = NULL;
	const char *step = "";
	struct ibv_mr *mr;
	struct rp_map m;
	double *bw = NULL;
	char why[160];
	unsigned int i;
	int ret;

	memset(out, 0, sizeof(*out));
	out->type = BS_VERIFY;
	snprintf(out->device, sizeof(out->device), "%s", job->device);
	out->size = job->size;
	memset(&m, 0, sizeof(m));
	m.fd = m.wfd = m.sharer_ctl = -1;
	if (!job->reps || !job->size || job->size % 4096)
		return fail(out, -EINVAL, "verify", "bad job");

	bw = calloc(job->reps, sizeof(*bw));
	expect = malloc(job->size);
	got = malloc(job->size);
	if (!bw || !expect || !got) {
		ret = fail(out, -ENOMEM, "malloc", "ENOMEM");
		goto out;
	}
	ret = rp_map_create_len(&m, RP_B_ANON_POPULATED, job->size, 0xbe7c, job->timeout_ms, why,
				sizeof(why));
	if (!ret)
		ret = rp_map_make_ro(&m);
	if (ret) {
		fail(out, ret, "anon_populated backing", why);
		goto out;
	}
	rp_map_initial(RP_B_ANON_POPULATED, expect, job->size, 0xbe7c);
	if (memcmp(expect, m.addr, job->size)) {
		ret = fail(out, -EPROTO, "anon_populated backing", "not the pattern it was filled with");
		goto out;
	}
	ret = rp_tp_open(&opts, &tp, &step);
	if (ret) {
		fail(out, ret, step, strerrorname_np(-ret));
		goto out;
	}
	ret = rp_tp_reg(tp, m.addr, m.len, IBV_ACCESS_REMOTE_READ, &mr);
	if (ret) {
		fail(out, ret, "ibv_reg_mr(REMOTE_READ)", strerrorname_np(-ret));
		goto out;
	}
	/* one untimed read first: the first READ of a new QP and MR pays for cold paths */
	ret = rp_tp_read(tp, mr, got, job->size, &step);
	if (ret) {
		fail(out, ret, step, strerrorname_np(-ret));
		goto out;
	}
	for (i = 0; i < job->reps; i++) {
		uint64_t t0 = bs_now_ns(), t;

		memset(got, 0, 64); /* a read that delivers nothing must not pass */
		ret = rp_tp_read(tp, mr, got, job->size, &step);
		if (ret) {
			fail(out, ret, step, strerrorname_np(-ret));
			goto out;
		}
		if (memcmp(got, m.addr, job->size)) {
			ret = fail(out, -EBADMSG, "compare", "the RDMA READ returned other bytes");
			goto out;
		}
		t = bs_now_ns() - t0;
		bw[i] = (double)job->size * 1e9 / (double)(t ? t : 1);
	}
	out->status = BS_OK;
	bs_stat_of(bw, job->reps, &out->bw);
	ret = 0;
out:
	rp_tp_close(tp); /* deregisters mr */
	rp_map_destroy(&m);
	free(got);
	free(expect);
	free(bw);
	return ret;
}
