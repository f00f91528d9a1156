/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tp_wait.h - every wait of rdmapin's transport, each bounded by a deadline: a readable fd, an
 * rdma_cm event, a work completion. The event channel and completion channel fds are made
 * non-blocking, so nothing here can block past its deadline. Internal to the transport.
 *
 * Deadlines are CLOCK_MONOTONIC milliseconds (tp_now_ms() + timeout). Functions return 0 or a
 * negative errno, -ETIMEDOUT when the deadline passed; those that take a step set it on error
 * (see transport.h).
 */
#ifndef RDMAPIN_TP_WAIT_H
#define RDMAPIN_TP_WAIT_H

#include <stdint.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/*
 * Work request ids: sequence number << 2 | kind, so that the client tells the completions of
 * one RDMA READ from flushed ones of an earlier connection. The agent uses sequence 0.
 */
enum { TP_WR_READ = 0, TP_WR_SEND = 1, TP_WR_RECV = 2, TP_WR_WRITE = 3 };
#define TP_WR_ID(seq, kind) ((uint64_t)(seq) << 2 | (kind))

/* tp_now_ms - CLOCK_MONOTONIC in milliseconds */
int64_t tp_now_ms(void);

/* tp_set_nonblock - O_NONBLOCK on fd; 0 or -errno */
int tp_set_nonblock(int fd);

/* tp_poll_fd - wait until fd is readable or deadline passes: 1 readable, 0 timed out, -errno */
int tp_poll_fd(int fd, int64_t deadline);

/* tp_get_event - the next CM event of the (non-blocking) channel before deadline */
int tp_get_event(struct rdma_event_channel *ech, int64_t deadline, struct rdma_cm_event **ev);

/* tp_event_errno - the negative errno an unexpected CM event stands for */
int tp_event_errno(const struct rdma_cm_event *ev);

/*
 * tp_expect - wait at most timeout_ms for one event of type want on id (the only id with
 * something in flight); any other event is an error named in *step with what.
 */
int tp_expect(struct rdma_event_channel *ech, int timeout_ms, struct rdma_cm_id *id,
	      enum rdma_cm_event_type want, const char *what, const char **step);

/* tp_next_wc - the next work completion before deadline (any wr_id: the caller filters) */
int tp_next_wc(struct ibv_cq *cq, struct ibv_comp_channel *cc, int64_t deadline,
	       struct ibv_wc *wc);

/*
 * tp_wait_wrs - wait at most timeout_ms for the completions of the kinds in want (bitmask of
 * 1 << TP_WR_*) of sequence seq, ignoring other sequences. A completion with an error status is
 * -EIO (step names the status); none in time is -ETIMEDOUT.
 */
int tp_wait_wrs(struct ibv_cq *cq, struct ibv_comp_channel *cc, int timeout_ms, uint64_t seq,
		unsigned int want, const char *what, const char **step);

#endif /* RDMAPIN_TP_WAIT_H */
