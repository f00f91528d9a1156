// SPDX-License-Identifier: GPL-2.0
/*
 * transport.c - the client side of rdmapin's verbs transport (transport.h): MR registration on
 * the target side and bounded RDMA READs by the reader side, in loopback or against the reader
 * agent (agent.c). The waits are in tp_wait.c, the messages of remote mode in tp_wire.h.
 *
 * Loopback: a listener cm_id bound to the device's IPv4 address anchors the device; the reader
 * (active) cm_id connects to it and the target (passive) cm_id comes out of the CONNECT_REQUEST.
 * Both QPs share one PD and one CQ; one thread drives both sides through one event channel.
 * Remote: our active cm_id, resolved to the agent's address, anchors the device and is the target.
 *
 * iWARP (siw) needs the CM for every connection, an initiator depth and responder resources in
 * rdma_conn_param for RDMA READ, and the active side to send first: in both modes the active
 * side is the one that starts (the reader's READ, the target's request).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tp_common.h"
#include "tp_wait.h"
#include "tp_wire.h"
#include "transport.h"

struct rp_tp {
	int timeout_ms;
	size_t max_len;
	bool remote;
	bool broken;    /* a READ failed: the QPs are in the error state */
	uint64_t seq;
	char device[IBV_SYSFS_NAME_MAX];
	struct sockaddr_in addr;          /* loopback: the device's address, listener port */
	struct rdma_event_channel *ech;
	struct rdma_cm_id *listen_id;     /* loopback: anchors the device */
	struct rdma_cm_id *reader_id;     /* loopback: active side, posts the READs */
	struct rdma_cm_id *target_id;     /* loopback: passive side; remote: our active side */
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	void *buf;                        /* loopback: READ sink; remote: mirror the agent writes */
	struct ibv_mr *buf_mr;
	struct rp_tp_wire *msg;           /* remote: [0] request, [1] reply */
	struct ibv_mr *msg_mr;
	struct ibv_mr **mrs;              /* MRs of rp_tp_reg(), deregistered by rp_tp_close() */
	int n_mrs, cap_mrs;
};

/*
 * Resolve the address and the route of id from src (NULL: any) to dst. host names dst in the
 * step of a failed rdma_resolve_addr() (NULL: loopback, no name).
 */
static int tp_resolve(struct rp_tp *tp, struct rdma_cm_id *id, struct sockaddr *src,
		      struct sockaddr *dst, const char *host, const char **step)
{
	int r;

	if (rdma_resolve_addr(id, src, dst, tp->timeout_ms)) {
		*step = host ? tp_stepf("rdma_resolve_addr(%s)", host) : "rdma_resolve_addr";
		return tp_errno();
	}
	r = tp_expect(tp->ech, tp->timeout_ms, id, RDMA_CM_EVENT_ADDR_RESOLVED,
		      "rdma_resolve_addr", step);
	if (r)
		return r;
	if (rdma_resolve_route(id, tp->timeout_ms)) {
		*step = "rdma_resolve_route";
		return tp_errno();
	}
	return tp_expect(tp->ech, tp->timeout_ms, id, RDMA_CM_EVENT_ROUTE_RESOLVED,
			 "rdma_resolve_route", step);
}

/* ---- loopback: the listener anchors the device, reader and target connect through it ---- */

/* Loopback anchor: a listener on the device's address, on a port of the kernel's choice. */
static int tp_lb_listen(struct rp_tp *tp, const struct rp_tp_opts *opts, const char **step)
{
	int r;

	r = tp_find_addr(tp->ech, opts->device, &tp->addr, tp->device, step);
	if (r)
		return r;
	if (rdma_create_id(tp->ech, &tp->listen_id, tp, RDMA_PS_TCP)) {
		tp->listen_id = NULL;
		*step = "rdma_create_id(listener)";
		return tp_errno();
	}
	if (rdma_bind_addr(tp->listen_id, (struct sockaddr *)&tp->addr)) {
		*step = "rdma_bind_addr(listener)";
		return tp_errno();
	}
	if (rdma_listen(tp->listen_id, 1)) {
		*step = "rdma_listen";
		return tp_errno();
	}
	tp->addr.sin_port = rdma_get_src_port(tp->listen_id);
	return 0;
}

/* Loopback: tear down the reader/target connection, keep the listener, PD, CQ and MRs. */
static void tp_lb_down(struct rp_tp *tp)
{
	if (tp->reader_id && tp->reader_id->qp)
		rdma_disconnect(tp->reader_id);
	if (tp->target_id) {
		if (tp->target_id->qp)
			rdma_destroy_qp(tp->target_id);
		rdma_destroy_id(tp->target_id);
		tp->target_id = NULL;
	}
	if (tp->reader_id) {
		if (tp->reader_id->qp)
			rdma_destroy_qp(tp->reader_id);
		rdma_destroy_id(tp->reader_id);
		tp->reader_id = NULL;
	}
}

/*
 * Loopback, reader resolved: connect it, accept its CONNECT_REQUEST as the target, and wait
 * until both sides are ESTABLISHED.
 */
static int tp_lb_connect(struct rp_tp *tp, const char **step)
{
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;
	struct rdma_cm_event *ev;
	bool reader_up = false, target_up = false;
	int64_t deadline;
	int r;

	tp_qp_attr(&qpa, tp->cq, tp);
	if (rdma_create_qp(tp->reader_id, tp->pd, &qpa)) {
		*step = "rdma_create_qp(reader)";
		return tp_errno();
	}
	tp_conn_params(&param);
	if (rdma_connect(tp->reader_id, &param)) {
		*step = "rdma_connect";
		return tp_errno();
	}
	deadline = tp_now_ms() + tp->timeout_ms;
	while (!reader_up || !target_up) {
		struct rdma_cm_id *id;
		enum rdma_cm_event_type type;
		int status;

		r = tp_get_event(tp->ech, deadline, &ev);
		if (r) {
			if (r == -ETIMEDOUT)
				*step = tp_stepf("rdma_connect: not established within %d ms",
						 tp->timeout_ms);
			else
				*step = "rdma_connect: rdma_get_cm_event";
			return r;
		}
		id = ev->id;
		type = ev->event;
		status = ev->status;
		if (type == RDMA_CM_EVENT_CONNECT_REQUEST && !tp->target_id) {
			rdma_ack_cm_event(ev);
			tp->target_id = id;
			if (rdma_create_qp(id, tp->pd, &qpa)) {
				*step = "rdma_create_qp(target)";
				return tp_errno();
			}
			if (rdma_accept(id, &param)) {
				*step = "rdma_accept";
				return tp_errno();
			}
			continue;
		}
		if (type == RDMA_CM_EVENT_ESTABLISHED &&
		    (id == tp->reader_id || id == tp->target_id)) {
			rdma_ack_cm_event(ev);
			if (id == tp->reader_id)
				reader_up = true;
			else
				target_up = true;
			continue;
		}
		r = tp_event_errno(ev);
		rdma_ack_cm_event(ev);
		*step = tp_stepf("rdma_connect: %s (status %d)", rdma_event_str(type), status);
		return r;
	}
	return 0;
}

/* Loopback: connect a reader cm_id to the listener and accept it; both QPs in tp->pd. */
static int tp_lb_up(struct rp_tp *tp, const char **step)
{
	struct sockaddr_in src = tp->addr, dst = tp->addr;
	int r;

	src.sin_port = 0;
	if (rdma_create_id(tp->ech, &tp->reader_id, tp, RDMA_PS_TCP)) {
		tp->reader_id = NULL;
		*step = "rdma_create_id(reader)";
		return tp_errno();
	}
	r = tp_resolve(tp, tp->reader_id, (struct sockaddr *)&src, (struct sockaddr *)&dst, NULL,
		       step);
	if (r)
		goto down;
	if (tp->reader_id->verbs != tp->pd->context) {
		*step = tp_stepf("rdma_resolve_route: %s's address routes to another device",
				 tp->device);
		r = -ENODEV;
		goto down;
	}
	r = tp_lb_connect(tp, step);
	if (r)
		goto down;
	tp->broken = false;
	return 0;

down:
	tp_lb_down(tp);
	return r;
}

/* ---- remote: our active cm_id, resolved to the agent, anchors the device ---- */

/* Remote anchor: resolve the agent's address from opts->device's address (if any). */
static int tp_rm_resolve(struct rp_tp *tp, const struct rp_tp_opts *opts, const char **step)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	struct sockaddr_in src;
	char port[8];
	int r;

	snprintf(port, sizeof(port), "%u", opts->port ? opts->port : RP_TP_DEFAULT_PORT);
	r = getaddrinfo(opts->connect_host, port, &hints, &res);
	if (r) {
		*step = tp_stepf("getaddrinfo(%s): %s", opts->connect_host, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	if (opts->device) {
		r = tp_find_addr(tp->ech, opts->device, &src, tp->device, step);
		if (r)
			goto free_res;
	}
	if (rdma_create_id(tp->ech, &tp->target_id, tp, RDMA_PS_TCP)) {
		tp->target_id = NULL;
		*step = "rdma_create_id";
		r = tp_errno();
		goto free_res;
	}
	r = tp_resolve(tp, tp->target_id, opts->device ? (struct sockaddr *)&src : NULL,
		       res->ai_addr, opts->connect_host, step);
	if (r)
		goto free_res;
	snprintf(tp->device, sizeof(tp->device), "%s",
		 ibv_get_device_name(tp->target_id->verbs->device));
free_res:
	freeaddrinfo(res);
	return r;
}

/* Remote: QP on tp->target_id, connect to the agent. */
static int tp_rm_up(struct rp_tp *tp, const char **step)
{
	struct rdma_conn_param param;
	struct ibv_qp_init_attr qpa;
	int r;

	tp_qp_attr(&qpa, tp->cq, tp);
	if (rdma_create_qp(tp->target_id, tp->pd, &qpa)) {
		*step = "rdma_create_qp";
		return tp_errno();
	}
	tp_conn_params(&param);
	if (rdma_connect(tp->target_id, &param)) {
		*step = "rdma_connect";
		r = tp_errno();
		goto destroy_qp;
	}
	r = tp_expect(tp->ech, tp->timeout_ms, tp->target_id, RDMA_CM_EVENT_ESTABLISHED,
		      "rdma_connect", step);
	if (r)
		goto destroy_qp;
	return 0;

destroy_qp:
	rdma_destroy_qp(tp->target_id);
	return r;
}

/* Remote: disconnect from the agent; the cm_id stays (it is the anchor). */
static void tp_rm_down(struct rp_tp *tp)
{
	if (tp->target_id->qp) {
		rdma_disconnect(tp->target_id);
		rdma_destroy_qp(tp->target_id);
	}
}

/* ---- rp_tp_open() in steps, each undone by the step of rp_tp_close() named after it ---- */

/* The limits of opts, before anything is made. */
static int tp_new(const struct rp_tp_opts *opts, struct rp_tp **out, const char **step)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct rp_tp *tp;

	tp = calloc(1, sizeof(*tp));
	if (!tp) {
		*step = "calloc";
		return -ENOMEM;
	}
	tp->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : RP_TP_DEFAULT_TIMEOUT_MS;
	tp->max_len = opts->max_len ? opts->max_len : RP_TP_DEFAULT_MAX_LEN;
	tp->max_len = (tp->max_len + pg - 1) / pg * pg;
	tp->remote = !!opts->connect_host;
	if (tp->remote && tp->max_len > UINT32_MAX) {
		*step = "max_len: the wire format carries 32-bit lengths";
		free(tp);
		return -EMSGSIZE;
	}
	*out = tp;
	return 0;
}

/* The CM event channel, non-blocking: every CM wait goes through tp_wait.c. */
static int tp_open_channel(struct rp_tp *tp, const char **step)
{
	int r;

	tp->ech = rdma_create_event_channel();
	if (!tp->ech) {
		*step = "rdma_create_event_channel";
		return tp_errno();
	}
	r = tp_set_nonblock(tp->ech->fd);
	if (r) {
		*step = "fcntl(rdma_cm fd, O_NONBLOCK)";
		rdma_destroy_event_channel(tp->ech);
	}
	return r;
}

/* Undoes the anchor of tp_lb_listen() or tp_rm_resolve(), whichever was (partly) made. */
static void tp_destroy_anchor(struct rp_tp *tp)
{
	if (tp->listen_id)
		rdma_destroy_id(tp->listen_id);
	if (tp->target_id)
		rdma_destroy_id(tp->target_id);
}

/* PD, completion channel (non-blocking) and CQ on the anchor's device. */
static int tp_alloc_verbs(struct rp_tp *tp, const char **step)
{
	struct ibv_context *ctx = tp->remote ? tp->target_id->verbs : tp->listen_id->verbs;
	int r;

	tp->pd = ibv_alloc_pd(ctx);
	if (!tp->pd) {
		*step = "ibv_alloc_pd";
		return tp_errno();
	}
	tp->cc = ibv_create_comp_channel(ctx);
	if (!tp->cc) {
		*step = "ibv_create_comp_channel";
		r = tp_errno();
		goto dealloc_pd;
	}
	r = tp_set_nonblock(tp->cc->fd);
	if (r) {
		*step = "fcntl(completion channel fd, O_NONBLOCK)";
		goto destroy_cc;
	}
	tp->cq = ibv_create_cq(ctx, 16, tp, tp->cc, 0);
	if (!tp->cq) {
		*step = "ibv_create_cq";
		r = tp_errno();
		goto destroy_cc;
	}
	return 0;

destroy_cc:
	ibv_destroy_comp_channel(tp->cc);
dealloc_pd:
	ibv_dealloc_pd(tp->pd);
	return r;
}

/* keep the first teardown error: e is a positive errno of a verbs call (or 0) */
static int tp_first_err(int r, int e)
{
	return r ? r : -e;
}

static int tp_free_verbs(struct rp_tp *tp)
{
	int r = tp_first_err(0, ibv_destroy_cq(tp->cq));

	r = tp_first_err(r, ibv_destroy_comp_channel(tp->cc));
	return tp_first_err(r, ibv_dealloc_pd(tp->pd));
}

/* The READ sink (loopback) or mirror (remote), and in remote mode the message buffers. */
static int tp_alloc_buffers(struct rp_tp *tp, const char **step)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int r;

	r = tp_map(tp->max_len, &tp->buf);
	if (r) {
		*step = "mmap(reader buffer)";
		return r;
	}
	/* REMOTE_WRITE: the agent's WRITE lands in the mirror, and iWARP READ sinks may need it */
	tp->buf_mr = ibv_reg_mr(tp->pd, tp->buf, tp->max_len, IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_REMOTE_WRITE);
	if (!tp->buf_mr) {
		*step = "ibv_reg_mr(reader buffer)";
		r = tp_errno();
		goto unmap_buf;
	}
	if (!tp->remote)
		return 0;
	r = tp_map(pg, (void **)&tp->msg);
	if (r) {
		*step = "mmap(messages)";
		goto dereg_buf;
	}
	tp->msg_mr = ibv_reg_mr(tp->pd, tp->msg, pg, IBV_ACCESS_LOCAL_WRITE);
	if (!tp->msg_mr) {
		*step = "ibv_reg_mr(messages)";
		r = tp_errno();
		goto unmap_msg;
	}
	return 0;

unmap_msg:
	munmap(tp->msg, pg);
dereg_buf:
	ibv_dereg_mr(tp->buf_mr);
unmap_buf:
	munmap(tp->buf, tp->max_len);
	return r;
}

static int tp_free_buffers(struct rp_tp *tp)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int r = 0;

	if (tp->msg_mr)
		r = tp_first_err(r, ibv_dereg_mr(tp->msg_mr));
	if (tp->msg)
		munmap(tp->msg, pg);
	r = tp_first_err(r, ibv_dereg_mr(tp->buf_mr));
	munmap(tp->buf, tp->max_len);
	return r;
}

static int tp_free_mrs(struct rp_tp *tp)
{
	int r = 0;

	while (tp->n_mrs)
		r = tp_first_err(r, ibv_dereg_mr(tp->mrs[--tp->n_mrs]));
	free(tp->mrs);
	tp->mrs = NULL;
	tp->cap_mrs = 0;
	return r;
}

int rp_tp_open(const struct rp_tp_opts *opts, struct rp_tp **out, const char **step)
{
	struct rp_tp *tp;
	int r;

	*out = NULL;
	r = tp_check_owner(step);
	if (r)
		return r;
	r = tp_new(opts, &tp, step);
	if (r)
		return r;
	r = tp_open_channel(tp, step);
	if (r)
		goto free_tp;
	/* the anchor: a cm_id that holds the device (and its ibv_context) for our lifetime */
	r = tp->remote ? tp_rm_resolve(tp, opts, step) : tp_lb_listen(tp, opts, step);
	if (r)
		goto destroy_anchor;
	r = tp_alloc_verbs(tp, step);
	if (r)
		goto destroy_anchor;
	r = tp_alloc_buffers(tp, step);
	if (r)
		goto free_verbs;
	r = tp->remote ? tp_rm_up(tp, step) : tp_lb_up(tp, step);
	if (r)
		goto free_buffers;
	*out = tp;
	return 0;

free_buffers:
	tp_free_buffers(tp);
free_verbs:
	tp_free_verbs(tp);
destroy_anchor:
	tp_destroy_anchor(tp);
	rdma_destroy_event_channel(tp->ech);
free_tp:
	free(tp);
	return r;
}

int rp_tp_close(struct rp_tp *tp)
{
	int r;

	if (!tp)
		return 0;
	/* rp_tp_open() backwards: connection, MRs, buffers, verbs, anchor, channel */
	if (tp->remote)
		tp_rm_down(tp);
	else
		tp_lb_down(tp);
	r = tp_free_mrs(tp);
	r = tp_first_err(r, -tp_free_buffers(tp));
	r = tp_first_err(r, -tp_free_verbs(tp));
	tp_destroy_anchor(tp);
	rdma_destroy_event_channel(tp->ech);
	free(tp);
	return r;
}

const char *rp_tp_device(struct rp_tp *tp)
{
	return tp->device;
}

/* ---- MRs under test ---- */

int rp_tp_reg(struct rp_tp *tp, void *addr, size_t len, int access, struct ibv_mr **mr)
{
	if (tp->n_mrs == tp->cap_mrs) {
		int cap = tp->cap_mrs ? 2 * tp->cap_mrs : 8;
		struct ibv_mr **m = realloc(tp->mrs, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		tp->mrs = m;
		tp->cap_mrs = cap;
	}
	errno = 0;
	*mr = ibv_reg_mr(tp->pd, addr, len, access);
	if (!*mr)
		return tp_errno();
	tp->mrs[tp->n_mrs++] = *mr;
	return 0;
}

int rp_tp_dereg(struct rp_tp *tp, struct ibv_mr *mr)
{
	int i, r;

	for (i = 0; i < tp->n_mrs && tp->mrs[i] != mr; i++)
		;
	if (i == tp->n_mrs)
		return -EINVAL;
	r = ibv_dereg_mr(mr);
	if (r)
		return -r;
	tp->mrs[i] = tp->mrs[--tp->n_mrs];
	return 0;
}

/* ---- RDMA READ ---- */

/* Loopback: the reader QP READs the MR into tp->buf. */
static int tp_lb_read(struct rp_tp *tp, struct ibv_mr *mr, size_t len, const char **step)
{
	uint64_t seq = ++tp->seq;
	struct ibv_sge sge = {
		.addr = (uintptr_t)tp->buf, .length = (uint32_t)len, .lkey = tp->buf_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = TP_WR_ID(seq, TP_WR_READ), .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_READ, .send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)mr->addr, .rkey = mr->rkey },
	}, *bad;
	int r;

	r = ibv_post_send(tp->reader_id->qp, &wr, &bad);
	if (r) {
		*step = "ibv_post_send(RDMA READ)";
		return -r;
	}
	return tp_wait_wrs(tp->cq, tp->cc, tp->timeout_ms, seq, 1u << TP_WR_READ, "RDMA READ",
			   step);
}

/* Remote: ask the agent to READ the MR; it writes what it read into tp->buf, then replies. */
static int tp_rm_read(struct rp_tp *tp, struct ibv_mr *mr, size_t len, const char **step)
{
	uint64_t seq = ++tp->seq;
	struct rp_tp_wire *req = &tp->msg[0], *rep = &tp->msg[1], got;
	struct ibv_sge rsge = {
		.addr = (uintptr_t)rep, .length = sizeof(*rep), .lkey = tp->msg_mr->lkey,
	};
	struct ibv_sge ssge = {
		.addr = (uintptr_t)req, .length = sizeof(*req), .lkey = tp->msg_mr->lkey,
	};
	struct ibv_recv_wr rwr = {
		.wr_id = TP_WR_ID(seq, TP_WR_RECV), .sg_list = &rsge, .num_sge = 1,
	}, *rbad;
	struct ibv_send_wr swr = {
		.wr_id = TP_WR_ID(seq, TP_WR_SEND), .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *sbad;
	int r;

	memset(rep, 0, sizeof(*rep));
	rp_tp_wire_request(req, (uintptr_t)mr->addr, mr->rkey, (uint32_t)len, (uintptr_t)tp->buf,
			   tp->buf_mr->rkey);
	r = ibv_post_recv(tp->target_id->qp, &rwr, &rbad);
	if (r) {
		*step = "ibv_post_recv(reply)";
		return -r;
	}
	r = ibv_post_send(tp->target_id->qp, &swr, &sbad);
	if (r) {
		*step = "ibv_post_send(request)";
		return -r;
	}
	r = tp_wait_wrs(tp->cq, tp->cc, tp->timeout_ms, seq, 1u << TP_WR_SEND | 1u << TP_WR_RECV,
			"waiting for the agent's reply", step);
	if (r)
		return r;
	rp_tp_wire_get(&got, rep);
	if (got.magic != RP_TP_WIRE_MAGIC || got.op != RP_TP_OP_REPLY) {
		*step = "remote read: malformed reply from the agent";
		return -EPROTO;
	}
	if (got.status) {
		*step = got.wc_status ? tp_stepf("agent's RDMA READ: %s",
						 ibv_wc_status_str(got.wc_status)) :
					"agent refused the request";
		return got.status < 0 ? got.status : -EPROTO;
	}
	return 0;
}

int rp_tp_read(struct rp_tp *tp, struct ibv_mr *mr, void *dst, size_t len, const char **step)
{
	int r;

	if (!len)
		return 0;
	if (len > tp->max_len) {
		*step = tp_stepf("RDMA READ of %zu bytes: max_len is %zu", len, tp->max_len);
		return -EMSGSIZE;
	}
	if (tp->broken) {
		if (tp->remote) {
			*step = "connection to the agent lost after an earlier error";
			return -ENOTCONN;
		}
		tp_lb_down(tp);
		r = tp_lb_up(tp, step);
		if (r)
			return r;
	}
	/* poison the sink so that a READ that placed nothing cannot pass as a good one */
	memset(tp->buf, 0xa5, len);
	r = tp->remote ? tp_rm_read(tp, mr, len, step) : tp_lb_read(tp, mr, len, step);
	if (r) {
		tp->broken = true;
		return r;
	}
	memcpy(dst, tp->buf, len);
	return 0;
}
