/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verify.h - the throughput of rdmapin's verify path: RDMA READ of a read-only MR through
 * rdmapin's transport (rp_tp_read(): one READ into the reader's buffer, copied out) followed by
 * the comparison with what the process sees (memcmp), in bytes per second.
 *
 * The MR is anon_populated memory made by rdmapin's mapping code and filled with its pattern,
 * registered IBV_ACCESS_REMOTE_READ on a loopback connection (rp_tp_open()); the connection and
 * the registration are not timed, nor is one warm-up read; each repetition is one read + compare
 * of the whole MR.
 */
#ifndef BENCH_VERIFY_H
#define BENCH_VERIFY_H

#include <stddef.h>

#include "record.h"

struct bs_verify_job {
	const char *device;
	size_t size;
	unsigned int reps;
	int timeout_ms; /* bound of every CM event and completion */
};

/*
 * bs_measure_verify - fill out (a BS_VERIFY record: ok with bw, or error with err and why;
 * a read that returns other bytes than the process sees is an error, -EBADMSG). Returns 0 or
 * the negative errno of an error.
 */
int bs_measure_verify(const struct bs_verify_job *job, struct bs_rec *out);

#endif /* BENCH_VERIFY_H */
