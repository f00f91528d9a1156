// SPDX-License-Identifier: GPL-2.0
/* tp_wait.c - the bounded waits of the transport; see tp_wait.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "tp_common.h"
#include "tp_wait.h"

int64_t tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tp_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int tp_poll_fd(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left;
	int r;

	for (;;) {
		left = deadline - tp_now_ms();
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int tp_get_event(struct rdma_event_channel *ech, int64_t deadline, struct rdma_cm_event **ev)
{
	int r;

	for (;;) {
		if (!rdma_get_cm_event(ech, ev))
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		r = tp_poll_fd(ech->fd, deadline);
		if (r <= 0)
			return r ? r : -ETIMEDOUT;
	}
}

int tp_event_errno(const struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		return ev->status < 0 ? ev->status : -EHOSTUNREACH;
	case RDMA_CM_EVENT_REJECTED:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return -ECONNRESET;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		return ev->status < 0 ? ev->status : -ECONNABORTED;
	default:
		return -EPROTO;
	}
}

int tp_expect(struct rdma_event_channel *ech, int timeout_ms, struct rdma_cm_id *id,
	      enum rdma_cm_event_type want, const char *what, const char **step)
{
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int r, status;

	r = tp_get_event(ech, tp_now_ms() + timeout_ms, &ev);
	if (r) {
		if (r == -ETIMEDOUT)
			*step = tp_stepf("%s: no CM event within %d ms", what, timeout_ms);
		else
			*step = tp_stepf("%s: rdma_get_cm_event", what);
		return r;
	}
	got = ev->event;
	status = ev->status;
	r = ev->id == id && got == want ? 0 : tp_event_errno(ev);
	rdma_ack_cm_event(ev);
	if (r)
		*step = tp_stepf("%s: %s (status %d)", what, rdma_event_str(got), status);
	return r;
}

int tp_next_wc(struct ibv_cq *cq, struct ibv_comp_channel *cc, int64_t deadline,
	       struct ibv_wc *wc)
{
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int n, r;

	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n > 0)
			return 0;
		if (ibv_req_notify_cq(cq, 0))
			return tp_errno();
		/* a completion that came in before the notify was armed */
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return -EIO;
		if (n > 0)
			return 0;
		r = tp_poll_fd(cc->fd, deadline);
		if (r < 0)
			return r;
		if (!r)
			return -ETIMEDOUT;
		if (!ibv_get_cq_event(cc, &ev_cq, &ev_ctx))
			ibv_ack_cq_events(ev_cq, 1);
		else if (errno != EAGAIN)
			return -errno;
	}
}

int tp_wait_wrs(struct ibv_cq *cq, struct ibv_comp_channel *cc, int timeout_ms, uint64_t seq,
		unsigned int want, const char *what, const char **step)
{
	int64_t deadline = tp_now_ms() + timeout_ms;
	struct ibv_wc wc;
	int r;

	while (want) {
		r = tp_next_wc(cq, cc, deadline, &wc);
		if (r) {
			if (r == -ETIMEDOUT)
				*step = tp_stepf("poll_cq: %s timed out after %d ms", what,
						 timeout_ms);
			else
				*step = tp_stepf("poll_cq: %s", what);
			return r;
		}
		if (wc.wr_id >> 2 != seq)
			continue; /* flushed work of an earlier connection */
		if (wc.status != IBV_WC_SUCCESS) {
			*step = tp_stepf("%s: %s", what, ibv_wc_status_str(wc.status));
			return -EIO;
		}
		want &= ~(1u << (wc.wr_id & 3));
	}
	return 0;
}
