// SPDX-License-Identifier: GPL-2.0
/*
 * agent.c - the reader agent of rdmapin --server; see agent.h and, for the messages, tp_wire.h.
 *
 * A connection (struct tp_agent_conn) lives in a slot from its CONNECT_REQUEST until it is
 * dropped: on a disconnect or other CM event, an error completion, a failed post, or its
 * deadline. tp_agent_drop() frees whatever of it was made, so a half-accepted connection is
 * dropped the same way as a served one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "tp_common.h"
#include "tp_wait.h"
#include "tp_wire.h"

#define RP_TP_AGENT_SLOTS 8
#define RP_TP_STOP_POLL_MS 200
#define RP_TP_AGENT_IDLE_TIMEOUTS 60 /* an agent connection idle this many timeouts is dropped */

struct tp_agent_conn {
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	void *buf;
	struct ibv_mr *buf_mr;
	struct rp_tp_wire *msg;          /* [0] request received, [1] reply sent */
	struct ibv_mr *msg_mr;
	struct rp_tp_wire req;           /* the request being served (host order) */
	int64_t deadline;                /* accept, READ or idle: drop the conn after it */
	bool established, closing;
	bool pending;                    /* a request came before ESTABLISHED (QP maybe not RTS) */
};

struct tp_agent {
	int timeout_ms;
	size_t max_len;
	struct rdma_event_channel *ech;
	struct rdma_cm_id *listen_id;
	struct ibv_comp_channel *cc;     /* all connections' CQs; made on the first connection */
	struct tp_agent_conn conn[RP_TP_AGENT_SLOTS];
	int served;
};

static void tp_agent_drop(struct tp_agent *ag, struct tp_agent_conn *c)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (c->id->qp) {
		rdma_disconnect(c->id);
		rdma_destroy_qp(c->id);
	}
	if (c->msg_mr)
		ibv_dereg_mr(c->msg_mr);
	if (c->msg)
		munmap(c->msg, pg);
	if (c->buf_mr)
		ibv_dereg_mr(c->buf_mr);
	if (c->buf)
		munmap(c->buf, ag->max_len);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	rdma_destroy_id(c->id);
	if (c->established)
		ag->served++;
	memset(c, 0, sizeof(*c));
}

static int tp_agent_post_recv(struct tp_agent_conn *c)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&c->msg[0], .length = sizeof(c->msg[0]), .lkey = c->msg_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = TP_WR_RECV, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(c->id->qp, &wr, &bad);
}

/*
 * Accept a connection: per-connection PD, CQ, READ buffer, message buffers, RECV posted.
 * Non-zero (errno set) on failure; the caller drops c, which frees what was made.
 */
static int tp_agent_accept(struct tp_agent *ag, struct tp_agent_conn *c, struct rdma_cm_id *id)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;

	c->id = id;
	c->deadline = tp_now_ms() + ag->timeout_ms;
	if (!ag->cc) {
		ag->cc = ibv_create_comp_channel(id->verbs);
		if (!ag->cc || tp_set_nonblock(ag->cc->fd))
			return -1;
	} else if (ag->cc->context != id->verbs) {
		errno = EXDEV; /* one completion channel serves one device */
		return -1;
	}
	c->pd = ibv_alloc_pd(id->verbs);
	if (!c->pd)
		return -1;
	c->cq = ibv_create_cq(id->verbs, 16, c, ag->cc, 0);
	if (!c->cq || ibv_req_notify_cq(c->cq, 0))
		return -1;
	if (tp_map(ag->max_len, &c->buf) || tp_map(pg, (void **)&c->msg))
		return -1;
	c->buf_mr = ibv_reg_mr(c->pd, c->buf, ag->max_len, IBV_ACCESS_LOCAL_WRITE |
			       IBV_ACCESS_REMOTE_WRITE);
	c->msg_mr = ibv_reg_mr(c->pd, c->msg, pg, IBV_ACCESS_LOCAL_WRITE);
	if (!c->buf_mr || !c->msg_mr)
		return -1;
	tp_qp_attr(&qpa, c->cq, c);
	if (rdma_create_qp(id, c->pd, &qpa))
		return -1;
	errno = tp_agent_post_recv(c);
	if (errno)
		return -1;
	tp_conn_params(&param);
	return rdma_accept(id, &param);
}

/* Reply with status; on success RDMA WRITE what was read into the mirror first. */
static void tp_agent_reply(struct tp_agent_conn *c, int status, enum ibv_wc_status ws)
{
	struct rp_tp_wire *rep = &c->msg[1];
	struct ibv_sge sge = {
		.addr = (uintptr_t)rep, .length = sizeof(*rep), .lkey = c->msg_mr->lkey,
	};
	struct ibv_sge wsge = {
		.addr = (uintptr_t)c->buf, .length = c->req.len, .lkey = c->buf_mr->lkey,
	};
	struct ibv_send_wr send = {
		.wr_id = TP_WR_SEND, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr write = {
		.wr_id = TP_WR_WRITE, .sg_list = &wsge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
		.wr.rdma = { .remote_addr = c->req.mirror_addr, .rkey = c->req.mirror_rkey },
		.next = &send,
	}, *bad;

	rp_tp_wire_reply(rep, status, ws);
	if (ibv_post_send(c->id->qp, status ? &send : &write, &bad))
		c->closing = true;
}

/* A request arrived in msg[0]: repost the RECV, check it, start its RDMA READ. */
static void tp_agent_request(struct tp_agent *ag, struct tp_agent_conn *c)
{
	struct ibv_sge sge = { .addr = (uintptr_t)c->buf, .lkey = c->buf_mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = TP_WR_READ, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_READ, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	rp_tp_wire_get(&c->req, &c->msg[0]);
	if (tp_agent_post_recv(c)) {
		c->closing = true;
		return;
	}
	if (c->req.magic != RP_TP_WIRE_MAGIC || c->req.op != RP_TP_OP_READ) {
		c->req.len = 0;
		tp_agent_reply(c, -EPROTO, IBV_WC_SUCCESS);
		return;
	}
	if (c->req.len > ag->max_len) {
		c->req.len = 0;
		tp_agent_reply(c, -EMSGSIZE, IBV_WC_SUCCESS);
		return;
	}
	sge.length = c->req.len;
	wr.wr.rdma.remote_addr = c->req.addr;
	wr.wr.rdma.rkey = c->req.rkey;
	if (ibv_post_send(c->id->qp, &wr, &bad)) {
		tp_agent_reply(c, -EIO, IBV_WC_SUCCESS);
		return;
	}
	c->deadline = tp_now_ms() + ag->timeout_ms;
}

static void tp_agent_completion(struct tp_agent *ag, struct tp_agent_conn *c,
				const struct ibv_wc *wc)
{
	switch (wc->wr_id) {
	case TP_WR_RECV:
		if (wc->status == IBV_WC_SUCCESS && !c->established)
			c->pending = true;
		else if (wc->status == IBV_WC_SUCCESS)
			tp_agent_request(ag, c);
		else
			c->closing = true;
		break;
	case TP_WR_READ:
		/* a peer that vanished without a disconnect must not hold a slot for ever */
		c->deadline = tp_now_ms() + (int64_t)RP_TP_AGENT_IDLE_TIMEOUTS * ag->timeout_ms;
		if (wc->status == IBV_WC_SUCCESS) {
			tp_agent_reply(c, 0, IBV_WC_SUCCESS);
		} else {
			/* the QP is in the error state: the reply flushes; close for the peer */
			tp_agent_reply(c, -EIO, wc->status);
			c->closing = true;
		}
		break;
	default: /* WRITE, SEND */
		if (wc->status != IBV_WC_SUCCESS)
			c->closing = true;
		break;
	}
}

static struct tp_agent_conn *tp_agent_find(struct tp_agent *ag, struct rdma_cm_id *id)
{
	int i;

	for (i = 0; i < RP_TP_AGENT_SLOTS; i++)
		if (ag->conn[i].id == id)
			return &ag->conn[i];
	return NULL;
}

/* A CONNECT_REQUEST: accept it into a free slot, or reject it. */
static void tp_agent_connect_request(struct tp_agent *ag, struct rdma_cm_id *id)
{
	struct tp_agent_conn *c = tp_agent_find(ag, NULL);

	if (!c) {
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	if (tp_agent_accept(ag, c, id)) {
		if (!c->id->qp)
			rdma_reject(id, NULL, 0);
		tp_agent_drop(ag, c);
	}
}

/* One CM event, if there is one: 0, or a negative errno that ends the agent. */
static int tp_agent_cm_event(struct tp_agent *ag, const char **step)
{
	struct rdma_cm_event *ev;
	struct tp_agent_conn *c;
	struct rdma_cm_id *id;
	enum rdma_cm_event_type type;

	if (rdma_get_cm_event(ag->ech, &ev)) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		*step = "rdma_get_cm_event";
		return -errno;
	}
	id = ev->id;
	type = ev->event;
	rdma_ack_cm_event(ev);
	if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
		tp_agent_connect_request(ag, id);
		return 0;
	}
	if (id == ag->listen_id) {
		if (type == RDMA_CM_EVENT_DEVICE_REMOVAL) {
			*step = "listener: RDMA_CM_EVENT_DEVICE_REMOVAL";
			return -ENODEV;
		}
		return 0;
	}
	c = tp_agent_find(ag, id);
	if (!c)
		return 0;
	if (type == RDMA_CM_EVENT_ESTABLISHED) {
		c->established = true;
		c->deadline = tp_now_ms() + (int64_t)RP_TP_AGENT_IDLE_TIMEOUTS * ag->timeout_ms;
		if (c->pending) {
			c->pending = false;
			tp_agent_request(ag, c);
		}
	} else if (type != RDMA_CM_EVENT_TIMEWAIT_EXIT) {
		/* DISCONNECTED, CONNECT_ERROR, UNREACHABLE, REJECTED, DEVICE_REMOVAL */
		tp_agent_drop(ag, c);
	}
	return 0;
}

/* One completion channel event, if there is one: serve the completions of its CQ. */
static void tp_agent_cq_event(struct tp_agent *ag)
{
	struct tp_agent_conn *c;
	struct ibv_cq *cq;
	struct ibv_wc wc;
	void *ctx;

	if (ibv_get_cq_event(ag->cc, &cq, &ctx))
		return;
	ibv_ack_cq_events(cq, 1);
	c = ctx;
	ibv_req_notify_cq(cq, 0);
	while (!c->closing && ibv_poll_cq(cq, 1, &wc) > 0)
		tp_agent_completion(ag, c, &wc);
}

/* Drop the connections that are closing or past their deadline; returns how many are left. */
static int tp_agent_reap(struct tp_agent *ag)
{
	int64_t now = tp_now_ms();
	int i, active = 0;

	for (i = 0; i < RP_TP_AGENT_SLOTS; i++) {
		struct tp_agent_conn *c = &ag->conn[i];

		if (c->id && (c->closing || (c->deadline && now > c->deadline)))
			tp_agent_drop(ag, c);
		active += !!c->id;
	}
	return active;
}

/* The listener on opts->port of opts->device's address (or any address). */
static int tp_agent_listen(struct tp_agent *ag, const struct rp_tp_opts *opts, const char **step)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	char name[IBV_SYSFS_NAME_MAX];
	int r;

	if (opts->device) {
		r = tp_find_addr(ag->ech, opts->device, &addr, name, step);
		if (r)
			return r;
	}
	addr.sin_port = htons(opts->port ? opts->port : RP_TP_DEFAULT_PORT);
	if (rdma_create_id(ag->ech, &ag->listen_id, NULL, RDMA_PS_TCP)) {
		ag->listen_id = NULL;
		*step = "rdma_create_id(listener)";
		return tp_errno();
	}
	if (rdma_bind_addr(ag->listen_id, (struct sockaddr *)&addr)) {
		*step = tp_stepf("rdma_bind_addr(port %u)", ntohs(addr.sin_port));
		r = tp_errno();
		goto destroy_listener;
	}
	if (rdma_listen(ag->listen_id, RP_TP_AGENT_SLOTS)) {
		*step = "rdma_listen";
		r = tp_errno();
		goto destroy_listener;
	}
	return 0;

destroy_listener:
	rdma_destroy_id(ag->listen_id);
	ag->listen_id = NULL;
	return r;
}

/* Serve CM and completion events until *stop or max_conns were served; 0 or -errno. */
static int tp_agent_run(struct tp_agent *ag, volatile sig_atomic_t *stop, int max_conns,
			const char **step)
{
	int r, active;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = ag->ech->fd, .events = POLLIN },
			{ .fd = ag->cc ? ag->cc->fd : -1, .events = POLLIN },
		};

		active = tp_agent_reap(ag);
		if ((stop && *stop) || (max_conns > 0 && ag->served >= max_conns && !active))
			return 0;
		if (poll(p, 2, RP_TP_STOP_POLL_MS) < 0 && errno != EINTR) {
			*step = "poll";
			return -errno;
		}
		if (p[1].revents & POLLIN)
			tp_agent_cq_event(ag);
		if (p[0].revents & POLLIN) {
			r = tp_agent_cm_event(ag, step);
			if (r)
				return r;
		}
	}
}

int rp_tp_serve(const struct rp_tp_opts *opts, volatile sig_atomic_t *stop, int max_conns,
		const char **step)
{
	struct tp_agent ag = { 0 };
	int i, r;

	r = tp_check_owner(step);
	if (r)
		return r;
	ag.timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RP_TP_DEFAULT_TIMEOUT_MS;
	ag.max_len = opts->max_len ? opts->max_len : RP_TP_DEFAULT_MAX_LEN;
	ag.ech = rdma_create_event_channel();
	if (!ag.ech) {
		*step = "rdma_create_event_channel";
		return tp_errno();
	}
	r = tp_set_nonblock(ag.ech->fd);
	if (r) {
		*step = "fcntl(rdma_cm fd, O_NONBLOCK)";
		goto destroy_ech;
	}
	r = tp_agent_listen(&ag, opts, step);
	if (r)
		goto destroy_ech;

	r = tp_agent_run(&ag, stop, max_conns, step);

	for (i = 0; i < RP_TP_AGENT_SLOTS; i++)
		if (ag.conn[i].id)
			tp_agent_drop(&ag, &ag.conn[i]);
	if (ag.cc)
		ibv_destroy_comp_channel(ag.cc);
	rdma_destroy_id(ag.listen_id);
destroy_ech:
	rdma_destroy_event_channel(ag.ech);
	return r;
}
